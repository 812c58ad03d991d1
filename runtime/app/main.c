/*
 * main.c - the cquant command line: dispatches to subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "app/app.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cquant <command> [args]\n"
            "commands:\n"
            "  demo       run a demonstration of the message bus and the cache\n"
            "  convert    import Tardis / OHLCV CSV into a .cqd file\n"
            "  dump       print the records of a .cqd file as JSON lines\n"
            "  generate   write a seeded synthetic market (trades, L2 book) as a .cqd file\n"
            "  version    print the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "demo"))
        return cq_app_demo(argc - 1, argv + 1);
    if (!strcmp(cmd, "convert"))
        return cq_app_convert(argc - 1, argv + 1);
    if (!strcmp(cmd, "dump"))
        return cq_app_dump(argc - 1, argv + 1);
    if (!strcmp(cmd, "generate"))
        return cq_app_generate(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("cquant %s\n", CQ_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "cquant: unknown command '%s' (try 'cquant help')\n", cmd);
    return 2;
}
