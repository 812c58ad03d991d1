/*
 * bench_backtest.c - replay speed of a whole backtest (DataEngine, books,
 * simulated venue, portfolio, timers, the strategy), on two hours of
 * synthetic data written by the generator:
 *
 *   backtest.replay.none          the runtime with no strategy loaded
 *   backtest.replay.lua_sma       a Lua strategy keeping moving averages of trades
 *   backtest.replay.market_maker  strategies/market_maker.lua (book, limit orders, cancels)
 *
 * and the same three on the real Binance recording of ../shared/data
 * (BTCUSDT, converted like tests/test_strategies.c does), named
 * backtest.replay.<case>.binance; skipped with a message when the data is
 * absent. That file is short (about 50k events), so one measurement there
 * is several complete backtests back to back.
 *
 * per_sec counts market events (a book batch is one event, a trade one);
 * records_per_sec counts the file's records (a batch is one record per
 * level), from the replay counters. Each is the median of CQ_BENCH_REPS
 * measurements, each of fresh runtimes; only cq_rt_run_until is timed.
 * CQ_BENCH_MINUTES shortens the synthetic data; CQ_BENCH_ONLY=substring
 * runs only the cases whose name contains it (for profiling).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/session.h"
#include "bench.h"
#include "cquant/importer.h"
#include "cquant/synth.h"

#ifndef CQ_SOURCE_DIR
#define CQ_SOURCE_DIR "."
#endif
#ifndef CQ_TEST_DATA_DEFAULT
#define CQ_TEST_DATA_DEFAULT CQ_SOURCE_DIR "/../shared/data"
#endif

static const char *synth_path = "/tmp/cq_bench_backtest.cqd";
static const char *binance_path = "/tmp/cq_bench_backtest_binance.cqd";
#define BINANCE_REL "binance_spot/market_stream/hftbacktest_spot_btcusdt_20240808.gz"
#define BINANCE_SPEC "BTCUSDT.BINANCE:tick=0.01:step=0.00000001:base=BTC:quote=USDT"
#define MIN_RECORDS 2000000 /* per measurement: repeat a short file up to this */

typedef struct result {
    uint64_t events, records;
    double seconds;
} result_t;

/* One full backtest of path; adds to *res. Returns 0 or -1. */
static int run(const char *path, const char *strategy, result_t *res)
{
    cq_opts_t o;
    cq_opts_init(&o);
    o.data[o.ndata++] = path;
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
        if (cq_rt_create(&rt, &rc, err, sizeof err) < 0 || cq_rt_add_cqd(rt, path, err, sizeof err) < 0) {
            fprintf(stderr, "bench_backtest: %s\n", err);
            cq_rt_destroy(rt);
            return -1;
        }
        cq_rt_set_now(rt, cq_rt_next_data_ts(rt));
    }
    int64_t t0 = cq_bench_now_ns();
    int done = 0;
    long n = cq_rt_run_until(rt, INT64_MAX, &done, err, sizeof err);
    int64_t t1 = cq_bench_now_ns();
    cq_replay_stats_t st;
    cq_rt_replay_stats(rt, &st);
    if (have_session) {
        cq_session_finish(&s);
        cq_session_close(&s);
    } else {
        cq_rt_destroy(rt);
    }
    if (n < 0) {
        fprintf(stderr, "bench_backtest: %s\n", err);
        return -1;
    }
    res->events += (uint64_t)n;
    res->records += st.records;
    res->seconds += (double)(t1 - t0) / 1e9;
    return 0;
}

static void bench(const char *name, const char *path, const char *strategy)
{
    const char *only = getenv("CQ_BENCH_ONLY");
    if (only && !strstr(name, only))
        return;
    double ev[CQ_BENCH_REPS], rec[CQ_BENCH_REPS];
    result_t warm = {0};
    if (run(path, strategy, &warm) < 0) /* warm-up: page cache, JIT */
        return;
    /* Repeat a short file so a measurement is not a few milliseconds. */
    uint64_t loops = warm.records ? (MIN_RECORDS + warm.records - 1) / warm.records : 1;
    result_t r = {0};
    for (int i = 0; i < CQ_BENCH_REPS; i++) {
        r = (result_t){0};
        for (uint64_t k = 0; k < loops; k++)
            if (run(path, strategy, &r) < 0)
                return;
        ev[i] = (double)r.events / r.seconds;
        rec[i] = (double)r.records / r.seconds;
    }
    printf("{\"name\":\"%s\",\"per_sec\":%.0f,\"records_per_sec\":%.0f,\"n\":%llu,\"records\":%llu}\n", name,
           cq_bench_median(ev, CQ_BENCH_REPS), cq_bench_median(rec, CQ_BENCH_REPS),
           (unsigned long long)r.events, (unsigned long long)r.records);
    fflush(stdout);
}

static void bench_all(const char *path, const char *suffix)
{
    static const struct {
        const char *name, *strategy;
    } cases[] = {
        {"none", NULL},
        {"lua_sma", CQ_SOURCE_DIR "/bench/lua/trade_sma.lua"},
        {"market_maker", CQ_SOURCE_DIR "/strategies/market_maker.lua"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "backtest.replay.%s%s", cases[i].name, suffix);
        bench(name, path, cases[i].strategy);
    }
}

/* The Binance recording as a .cqd file; 0 if the data is absent. */
static int convert_binance(void)
{
    const char *dir = getenv("CQ_TEST_DATA");
    char src[1024];
    struct stat st;
    snprintf(src, sizeof src, "%s/%s", dir && *dir ? dir : CQ_TEST_DATA_DEFAULT, BINANCE_REL);
    if (stat(src, &st) != 0) {
        fprintf(stderr, "bench_backtest: %s not found: skipping the .binance cases\n", src);
        return 0;
    }
    cq_import_opts_t opts = {0};
    cq_import_t *imp = NULL;
    int ok = cq_import_create(&imp, &opts) == 0;
    if (ok && (cq_import_define(imp, BINANCE_SPEC) != 0 || cq_import_file(imp, src) != 0 ||
               cq_import_write(imp, binance_path) != 0)) {
        fprintf(stderr, "bench_backtest: %s: %s\n", src, cq_import_error(imp));
        ok = 0;
    }
    cq_import_destroy(imp);
    return ok;
}

int main(void)
{
    cq_synth_config_t sc = {.seed = 42};
    char err[256];
    uint64_t records;
    double minutes = getenv("CQ_BENCH_MINUTES") ? atof(getenv("CQ_BENCH_MINUTES")) : 120;
    if (cq_synth_write(&sc, minutes, synth_path, &records, err, sizeof err) < 0) {
        fprintf(stderr, "bench_backtest: %s\n", err);
        return 1;
    }
    bench_all(synth_path, "");
    unlink(synth_path);
    if (convert_binance()) {
        bench_all(binance_path, ".binance");
        unlink(binance_path);
    }
    return 0;
}
