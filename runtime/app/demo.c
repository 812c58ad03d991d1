/*
 * demo.c - `cquant demo` (what `make demo` runs): the product in one
 * minute, with nothing to prepare.
 *
 *   1. the market maker of strategies/market_maker.lua trades in real time
 *      against the synthetic market for about 20 seconds, with a live
 *      status line (position, PnL, open orders);
 *   2. the same generator writes two hours of synthetic data to a .cqd;
 *   3. the same strategy file is backtested on it, and the report is
 *      written; the command prints where.
 *
 * Everything goes to ./demo-out (the journal of step 1 included).
 * CQ_DEMO_SECONDS shortens step 1 (tests), CQ_DEMO_MINUTES step 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "app/opts.h"
#include "cquant/error.h"
#include "cquant/synth.h"

#ifndef CQ_SOURCE_DIR
#define CQ_SOURCE_DIR "."
#endif

static const char *find_strategy(char *buf, size_t len)
{
    const char *cands[] = {"strategies/market_maker.lua", CQ_SOURCE_DIR "/strategies/market_maker.lua"};
    for (size_t i = 0; i < sizeof cands / sizeof *cands; i++)
        if (access(cands[i], R_OK) == 0) {
            snprintf(buf, len, "%s", cands[i]);
            return buf;
        }
    return NULL;
}

static double env_num(const char *name, double dflt)
{
    const char *v = getenv(name);
    double d;
    return v && cq_opts_number(v, &d) == 0 && d > 0 ? d : dflt;
}

int cq_app_demo(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: cquant demo   (no arguments; writes ./demo-out)\n");
        return 2;
    }
    char path[1024];
    if (!find_strategy(path, sizeof path)) {
        fprintf(stderr, "cquant demo: strategies/market_maker.lua not found (run it from the source tree)\n");
        return 1;
    }
    if (mkdir("demo-out", 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "cquant demo: demo-out: %s\n", strerror(errno));
        return 1;
    }
    unlink("demo-out/cquant.db");
    unlink("demo-out/cquant.db-wal");
    unlink("demo-out/cquant.db-shm");
    double secs = env_num("CQ_DEMO_SECONDS", 20);
    double minutes = env_num("CQ_DEMO_MINUTES", 120);

    printf("== 1/3  %s in real time against the simulated market, %.0f s\n", path, secs);
    fflush(stdout);
    cq_opts_t o;
    cq_opts_init(&o);
    o.strategy = path;
    o.journal = "demo-out/cquant.db";
    o.duration_s = secs;
    o.watch = 1;
    int rc = cq_app_run_session(&o, 1);
    if (rc)
        return rc;

    printf("\n== 2/3  generating %.0f minutes of synthetic market data (seed 7)\n", minutes);
    fflush(stdout);
    cq_synth_config_t sc = {.seed = 7};
    uint64_t records = 0;
    char err[256];
    if ((rc = cq_synth_write(&sc, minutes, "demo-out/synth.cqd", &records, err, sizeof err)) < 0) {
        fprintf(stderr, "cquant demo: %s\n", err);
        return 1;
    }
    printf("demo-out/synth.cqd: %llu records\n", (unsigned long long)records);

    printf("\n== 3/3  backtest of the same file on that data\n");
    fflush(stdout);
    cq_opts_init(&o);
    o.strategy = path;
    o.data[o.ndata++] = "demo-out/synth.cqd";
    o.out = "demo-out/report";
    o.watch = 0;
    o.quiet = 1;
    o.sample_s = 10;
    rc = cq_app_backtest_run(&o);
    if (rc)
        return rc;
    char cwd[1024];
    printf("\nopen this in a browser: file://%s/demo-out/report/report.html\n",
           getcwd(cwd, sizeof cwd) ? cwd : ".");
    return 0;
}
