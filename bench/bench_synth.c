/*
 * bench_synth.c - the synthetic market's generation speed.
 *
 *   synth.record  records per second from cq_synth_record, default config
 *                 (BTCUSDT at 60000, 20 levels, 100 ms batches, 20 trades/s:
 *                 about 33 records per batch). Target: several million/s.
 *   synth.next    records' worth per second delivered live through
 *                 cq_synth_next to the DataEngine (book apply, cache,
 *                 publish to one C subscriber): what `cquant run --venue sim`
 *                 pays for its data.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cquant/synth.h"

typedef struct {
    cq_synth_t *s;
    uint64_t sink;
} rec_ctx_t;

static void run_record(void *ctx, uint64_t n)
{
    rec_ctx_t *c = ctx;
    cq_cqd_record_t r;
    for (uint64_t i = 0; i < n; i++) {
        cq_synth_record(c->s, &r);
        c->sink += (uint64_t)r.ts_init;
    }
    CQ_BENCH_USE(c->sink);
}

typedef struct {
    cq_synth_t *s;
    uint64_t published;
} next_ctx_t;

static void on_any(void *user, cq_topic_t topic, const void *msg)
{
    (void)topic;
    (void)msg;
    ((next_ctx_t *)user)->published++;
}

/* n counts records: a batch of k changes counts k, as in the file. */
static void run_next(void *ctx, uint64_t n)
{
    next_ctx_t *c = ctx;
    cq_synth_stats_t st;
    cq_synth_stats(c->s, &st);
    uint64_t end = st.trades + st.deltas + n;
    do {
        cq_synth_next(c->s);
        cq_synth_stats(c->s, &st);
    } while (st.trades + st.deltas < end);
}

int main(void)
{
    cq_synth_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = 1;

    rec_ctx_t rc = {0};
    if (cq_synth_create(&rc.s, &cfg) != 0)
        return 1;
    uint64_t n = 5000000;
    double ns = cq_bench_run(run_record, &rc, n);
    cq_bench_print_rate("synth.record", ns, n);
    cq_synth_destroy(rc.s);

    cq_bus_t *bus;
    cq_cache_t *cache;
    cq_data_engine_t *de;
    next_ctx_t nc = {0};
    if (cq_bus_create(&bus) != 0 || cq_cache_create(&cache, NULL) != 0 ||
        cq_data_engine_create(&de, bus, cache, NULL) != 0 || cq_synth_create(&nc.s, &cfg) != 0 ||
        cq_synth_attach(nc.s, de, cache, NULL) != 0 ||
        cq_bus_subscribe(bus, "data.*", 0, on_any, &nc, NULL) != 0)
        return 1;
    n = 2000000;
    ns = cq_bench_run(run_next, &nc, n);
    cq_bench_print_rate("synth.next", ns, n);
    cq_synth_destroy(nc.s);
    cq_data_engine_destroy(de);
    cq_cache_destroy(cache);
    cq_bus_destroy(bus);
    return 0;
}
