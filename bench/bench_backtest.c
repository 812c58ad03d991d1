/*
 * bench_backtest.c - replay speed of a whole backtest (DataEngine, books,
 * simulated venue, portfolio, timers, the strategy), in market events per
 * second, on two hours of synthetic data written by the generator:
 *
 *   backtest.replay.none          the runtime with no strategy loaded
 *   backtest.replay.lua_sma       a Lua strategy keeping moving averages of trades
 *   backtest.replay.market_maker  strategies/market_maker.lua (book, limit orders, cancels)
 *
 * Each is the median of CQ_BENCH_REPS complete runs (a fresh runtime each).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/session.h"
#include "bench.h"
#include "cquant/synth.h"

#ifndef CQ_SOURCE_DIR
#define CQ_SOURCE_DIR "."
#endif

static const char *data_path = "/tmp/cq_bench_backtest.cqd";

/* One full run; returns events/s, or -1. */
static double run(const char *strategy, uint64_t *events)
{
    cq_opts_t o;
    cq_opts_init(&o);
    o.data[o.ndata++] = data_path;
    o.quiet = 1;
    o.sample_s = 60;
    char err[512];
    cq_session_t s;
    cq_rt_t *rt = NULL;
    int have_session = strategy != NULL;
    if (have_session) {
        o.strategy = strategy;
        if (cq_session_open(&s, &o, NULL, err, sizeof err) || cq_session_start(&s, err, sizeof err)) {
            fprintf(stderr, "bench_backtest: %s\n", err);
            return -1;
        }
        rt = s.rt;
    } else {
        cq_rt_config_t rc = {.order_latency_ns = 1000000, .report_latency_ns = 1000000};
        if (cq_rt_create(&rt, &rc, err, sizeof err) < 0 || cq_rt_add_cqd(rt, data_path, err, sizeof err) < 0) {
            fprintf(stderr, "bench_backtest: %s\n", err);
            return -1;
        }
        cq_rt_set_now(rt, cq_rt_next_data_ts(rt));
    }
    int64_t t0 = cq_bench_now_ns();
    int done = 0;
    long n = cq_rt_run_until(rt, INT64_MAX, &done, err, sizeof err);
    int64_t t1 = cq_bench_now_ns();
    if (have_session) {
        cq_session_finish(&s);
        cq_session_close(&s);
    } else {
        cq_rt_destroy(rt);
    }
    if (n < 0)
        return -1;
    *events = (uint64_t)n;
    return (double)n / ((double)(t1 - t0) / 1e9);
}

static void bench(const char *name, const char *strategy)
{
    double v[CQ_BENCH_REPS];
    uint64_t events = 0;
    run(strategy, &events); /* warm-up: page cache, JIT */
    for (int r = 0; r < CQ_BENCH_REPS; r++) {
        v[r] = run(strategy, &events);
        if (v[r] < 0)
            return;
    }
    printf("{\"name\":\"%s\",\"per_sec\":%.0f,\"n\":%llu}\n", name, cq_bench_median(v, CQ_BENCH_REPS),
           (unsigned long long)events);
    fflush(stdout);
}

int main(void)
{
    cq_synth_config_t sc = {.seed = 42};
    char err[256];
    uint64_t records;
    double minutes = getenv("CQ_BENCH_MINUTES") ? atof(getenv("CQ_BENCH_MINUTES")) : 120;
    if (cq_synth_write(&sc, minutes, data_path, &records, err, sizeof err) < 0) {
        fprintf(stderr, "bench_backtest: %s\n", err);
        return 1;
    }
    bench("backtest.replay.none", NULL);
    bench("backtest.replay.lua_sma", CQ_SOURCE_DIR "/bench/lua/trade_sma.lua");
    bench("backtest.replay.market_maker", CQ_SOURCE_DIR "/strategies/market_maker.lua");
    unlink(data_path);
    return 0;
}
