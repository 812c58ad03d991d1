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
            "  demo       a market maker live against the simulated market, then a backtest\n"
            "  run        run a strategy in real time: cquant run STRATEGY.lua --venue sim\n"
            "  backtest   backtest a strategy: cquant backtest STRATEGY.lua --data FILE.cqd\n"
            "  generate   write synthetic market data: cquant generate --seed N --minutes M -o F.cqd\n"
            "  convert    import Tardis / OHLCV CSV into a .cqd file\n"
            "  dump       print the records of a .cqd file as JSON lines\n"
            "  version    print the version\n"
            "'cquant <command> --help' describes a command's options.\n");
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
    if (!strcmp(cmd, "run"))
        return cq_app_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "backtest"))
        return cq_app_backtest(argc - 1, argv + 1);
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
