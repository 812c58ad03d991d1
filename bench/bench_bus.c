/*
 * bench_bus.c - cost of a publish by topic handle.
 *
 * Every benchmark delivers the same cq_trade_t to a handler that reads its
 * price and adds it to a per-subscriber sum. The baseline calls that same
 * handler through a volatile function pointer in a plain loop, in the same
 * run, so the ratio shows what the bus adds over the bare indirect call.
 *
 *   bus.publish.1sub      one subscriber on the exact topic
 *   bus.publish.10sub     ten subscribers; ns per delivery (time / (n * 10))
 *   bus.publish.wildcard  one subscriber on "data.trades.*"
 *
 * The running sum is a dependency chain through memory (each add waits for
 * the previous store), which costs more than the call itself and hides the
 * bus's own cost. bus.publish.1sub.nochain repeats 1sub with a handler that
 * reads the same fields but only stores (price * qty), with its own
 * baseline, to show the overhead of the bus against the bare call.
 *
 *   bus.subscribe.1000topics  a subscribe + unsubscribe pair with 1000
 *                             topics interned, 100 of them matching
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "cquant/bus.h"
#include "cquant/error.h"
#include "cquant/event.h"

#define N_PUBLISH 10000000ULL
#define N_SUBS 10

typedef struct sink {
    double sum;
    double last;
    char pad_[48]; /* one cache line each: subscribers do not share one */
} sink_t;

typedef struct bench {
    cq_bus_t *bus;
    cq_topic_t topic;
    cq_trade_t trade;
    sink_t sinks[N_SUBS];
} bench_t;

static void on_trade(void *user, cq_topic_t topic, const void *msg)
{
    sink_t *s = user;
    const cq_trade_t *t = msg;
    (void)topic;
    s->sum += t->price;
}

static void on_trade_store(void *user, cq_topic_t topic, const void *msg)
{
    sink_t *s = user;
    const cq_trade_t *t = msg;
    (void)topic;
    s->last = t->price * t->qty;
}

static cq_handler_fn volatile baseline_fn = on_trade;

static void run_baseline(void *ctx, uint64_t n)
{
    bench_t *b = ctx;
    for (uint64_t i = 0; i < n; i++)
        baseline_fn(&b->sinks[0], b->topic, &b->trade);
    CQ_BENCH_USE(b->sinks[0].sum);
    CQ_BENCH_USE(b->sinks[0].last);
}

static void run_publish(void *ctx, uint64_t n)
{
    bench_t *b = ctx;
    cq_bus_t *bus = b->bus;
    cq_topic_t t = b->topic;
    for (uint64_t i = 0; i < n; i++)
        cq_bus_publish(bus, t, &b->trade);
    CQ_BENCH_USE(b->sinks[0].sum);
    CQ_BENCH_USE(b->sinks[0].last);
}

static void run_subscribe(void *ctx, uint64_t n)
{
    bench_t *b = ctx;
    for (uint64_t i = 0; i < n; i++) {
        cq_sub_t id;
        if (cq_bus_subscribe(b->bus, "data.trades.*", 0, on_trade, &b->sinks[0], &id) < 0 ||
            cq_bus_unsubscribe(b->bus, id) < 0)
            abort();
    }
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_bus: %s: %s\n", what, cq_strerror(rc));
    exit(1);
}

/* A bus with nsubs subscribers on pattern and topic interned. */
static bench_t *setup(const char *pattern, int nsubs, const char *topic, cq_handler_fn fn)
{
    bench_t *b = calloc(1, sizeof *b);
    int rc;
    if (!b)
        die("calloc", CQ_ENOMEM);
    if ((rc = cq_bus_create(&b->bus)) < 0)
        die("cq_bus_create", rc);
    for (int i = 0; i < nsubs; i++)
        if ((rc = cq_bus_subscribe(b->bus, pattern, 0, fn, &b->sinks[i], NULL)) < 0)
            die("cq_bus_subscribe", rc);
    if ((rc = cq_bus_topic(b->bus, topic, &b->topic)) < 0)
        die("cq_bus_topic", rc);
    if (cq_bus_handler_count(b->bus, b->topic) != nsubs)
        die("handler count", CQ_ESTATE);
    b->trade.hdr.type = CQ_EV_TRADE;
    b->trade.price = 65000.5;
    b->trade.qty = 0.01;
    return b;
}

static void teardown(bench_t *b)
{
    cq_bus_destroy(b->bus);
    free(b);
}

int main(void)
{
    const char *topic = "data.trades.BINANCE.BTCUSDT";

    bench_t *b = setup(topic, 1, topic, on_trade);
    baseline_fn = on_trade;
    double base = cq_bench_run(run_baseline, b, N_PUBLISH);
    double one = cq_bench_run(run_publish, b, N_PUBLISH);
    cq_bench_print("bus.publish.1sub", one, N_PUBLISH, base);
    teardown(b);

    b = setup(topic, N_SUBS, topic, on_trade);
    double ten = cq_bench_run(run_publish, b, N_PUBLISH / N_SUBS) / N_SUBS;
    /* No baseline: ten independent sums run in parallel, unlike the
     * baseline's one, so a ratio would flatter the bus. */
    cq_bench_print("bus.publish.10sub", ten, N_PUBLISH / N_SUBS * N_SUBS, 0);
    teardown(b);

    b = setup("data.trades.*", 1, topic, on_trade);
    double wild = cq_bench_run(run_publish, b, N_PUBLISH);
    cq_bench_print("bus.publish.wildcard", wild, N_PUBLISH, base);
    teardown(b);

    b = setup(topic, 1, topic, on_trade_store);
    baseline_fn = on_trade_store;
    double base_store = cq_bench_run(run_baseline, b, N_PUBLISH);
    double store = cq_bench_run(run_publish, b, N_PUBLISH);
    cq_bench_print("bus.publish.1sub.nochain", store, N_PUBLISH, base_store);
    teardown(b);

    b = setup(topic, 1, topic, on_trade);
    for (int i = 0; i < 1000; i++) {
        char name[64];
        cq_topic_t t;
        snprintf(name, sizeof name, "data.%s.BINANCE.SYM%d", i % 10 ? "quotes" : "trades", i);
        if (cq_bus_topic(b->bus, name, &t) < 0)
            die("cq_bus_topic", CQ_ENOMEM);
    }
    double subs = cq_bench_run(run_subscribe, b, 2000);
    cq_bench_print("bus.subscribe.1000topics", subs, 2000, 0);
    teardown(b);
    return 0;
}
