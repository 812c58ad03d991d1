/*
 * demo.c - `cquant demo`: the message bus and the cache at work.
 *
 * A toy "strategy" subscribes to trades by wildcard, watches a synthetic
 * price walk, and submits orders through the bus's request endpoint
 * "exec.submit"; a toy execution endpoint records them in the cache and
 * acknowledges. At the end the demo prints what the cache holds and how
 * fast the bus delivered. Replaced by the real market-maker demo once the
 * engines and the Lua host exist.
 */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "cquant/bus.h"
#include "cquant/cache.h"
#include "cquant/error.h"
#include "cquant/time.h"

typedef struct demo {
    cq_bus_t *bus;
    cq_cache_t *cache;
    uint32_t strategy;
    uint64_t next_id;
    uint64_t trades_seen;
    double ema;
    int submitted, acked, denied;
} demo_t;

/* The execution side: validates and records an order, answers with it. */
static void on_submit(void *user, cq_bus_t *bus, uint64_t corr, const void *req)
{
    demo_t *d = user;
    const cq_order_t *o = req;
    if (!(o->qty > 0) || !(o->price > 0)) {
        cq_bus_respond(bus, corr, CQ_EDENIED, NULL);
        return;
    }
    cq_order_t *stored;
    int rc = cq_cache_order_add(d->cache, o, &stored);
    if (rc == 0) {
        char venue_id[40];
        snprintf(venue_id, sizeof venue_id, "V%llu", (unsigned long long)d->next_id);
        cq_cache_order_set_venue_id(d->cache, stored, venue_id);
        cq_cache_order_set_status(d->cache, stored, CQ_OS_ACCEPTED);
    }
    cq_bus_respond(bus, corr, rc, rc == 0 ? stored : NULL);
}

static void on_ack(void *user, uint64_t corr, int status, const void *resp)
{
    demo_t *d = user;
    (void)corr;
    (void)resp;
    if (status == 0)
        d->acked++;
    else
        d->denied++;
}

/* The strategy: buys when the price dips 0.2% under its moving average. */
static void on_trade(void *user, cq_topic_t topic, const void *msg)
{
    demo_t *d = user;
    const cq_trade_t *t = msg;
    (void)topic;
    d->trades_seen++;
    d->ema = d->ema == 0 ? t->price : d->ema * 0.99 + t->price * 0.01;
    if (t->price < d->ema * 0.998 && d->submitted < 20) {
        cq_order_t o;
        memset(&o, 0, sizeof o);
        o.hdr.instrument = t->hdr.instrument;
        o.hdr.strategy = d->strategy;
        o.hdr.ts_init = t->hdr.ts_event;
        snprintf(o.client_order_id, sizeof o.client_order_id, "demo-%06llu",
                 (unsigned long long)++d->next_id);
        o.side = CQ_SIDE_BUY;
        o.type = CQ_ORDER_LIMIT;
        o.tif = CQ_TIF_GTC;
        o.status = CQ_OS_SUBMITTED;
        o.price = t->price;
        o.qty = 0.001;
        d->submitted++;
        cq_bus_request(d->bus, "exec.submit", &o, on_ack, d, NULL);
    }
}

static int add_instrument(cq_cache_t *cache, const char *symbol, const char *base, uint32_t *h)
{
    cq_instrument_t spec;
    memset(&spec, 0, sizeof spec);
    snprintf(spec.id, sizeof spec.id, "%s.SIM", symbol);
    snprintf(spec.symbol, sizeof spec.symbol, "%s", symbol);
    snprintf(spec.venue, sizeof spec.venue, "SIM");
    snprintf(spec.base, sizeof spec.base, "%s", base);
    snprintf(spec.quote, sizeof spec.quote, "USDT");
    spec.tick_size = 0.01;
    spec.step_size = 0.001;
    spec.tick_units = 1;
    spec.step_units = 1;
    spec.price_precision = 2;
    spec.size_precision = 3;
    spec.tradable = 1;
    return cq_cache_instrument_add(cache, &spec, h);
}

int cq_app_demo(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "cquant demo: takes no arguments\n");
        return 2;
    }
    demo_t d;
    memset(&d, 0, sizeof d);
    int rc;
    uint32_t btc, eth;
    cq_topic_t t_btc, t_eth;
    if ((rc = cq_bus_create(&d.bus)) < 0 || (rc = cq_cache_create(&d.cache, NULL)) < 0 ||
        (rc = add_instrument(d.cache, "BTCUSDT", "BTC", &btc)) < 0 ||
        (rc = add_instrument(d.cache, "ETHUSDT", "ETH", &eth)) < 0 ||
        (rc = cq_cache_strategy_intern(d.cache, "demo", &d.strategy)) < 0 ||
        (rc = cq_bus_register_request(d.bus, "exec.submit", on_submit, &d)) < 0 ||
        (rc = cq_bus_subscribe(d.bus, "data.trades.SIM.*", 0, on_trade, &d, NULL)) < 0 ||
        (rc = cq_bus_topic(d.bus, "data.trades.SIM.BTCUSDT", &t_btc)) < 0 ||
        (rc = cq_bus_topic(d.bus, "data.trades.SIM.ETHUSDT", &t_eth)) < 0) {
        fprintf(stderr, "cquant demo: setup failed: %s\n", cq_strerror(rc));
        cq_cache_destroy(d.cache);
        cq_bus_destroy(d.bus);
        return 1;
    }

    printf("cquant demo: a strategy subscribed to 'data.trades.SIM.*' watches two\n"
           "synthetic markets and submits orders through the bus; the cache records them.\n\n");

    /* A deterministic random walk for each instrument. */
    uint64_t seed = 42;
    double px[2] = {60000.0, 3000.0};
    const int n = 2000000;
    cq_trade_t t;
    memset(&t, 0, sizeof t);
    t.hdr.type = CQ_EV_TRADE;
    int64_t ts0 = INT64_C(1767225600) * CQ_NS_PER_SEC; /* 2026-01-01 */
    int64_t w0 = cq_time_mono_ns();
    for (int i = 0; i < n; i++) {
        int k = i & 1;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        double step = ((double)(seed % 2001) - 1000.0) / 1000.0; /* -1..1 */
        px[k] *= 1.0 + step * 0.0004;
        t.hdr.instrument = k ? eth : btc;
        t.hdr.ts_event = t.hdr.ts_init = ts0 + (int64_t)i * 1000000;
        t.price = px[k];
        t.qty = 0.01;
        t.trade_id = (uint64_t)i + 1;
        t.aggressor = step < 0 ? CQ_SIDE_SELL : CQ_SIDE_BUY;
        cq_bus_publish(d.bus, k ? t_eth : t_btc, &t);
        cq_cache_trade_set(d.cache, &t);
    }
    int64_t w1 = cq_time_mono_ns();

    cq_bus_stats_t bs;
    cq_bus_stats(d.bus, &bs);
    printf("bus:   %llu trades published, %llu deliveries, %d orders requested, %d acked, %d denied\n",
           (unsigned long long)bs.published, (unsigned long long)bs.delivered, d.submitted, d.acked,
           d.denied);
    printf("       %.1f ns per publish+cache update (%.1f M/s)\n", (double)(w1 - w0) / n,
           n * 1e3 / (double)(w1 - w0));

    cq_order_t *orders[32];
    cq_order_query_t q = {.set = CQ_ORDERS_OPEN, .strategy = d.strategy};
    long nopen = cq_cache_orders(d.cache, &q, orders, 32);
    printf("cache: %ld open orders of strategy 'demo' (first 5 shown):\n", nopen);
    for (long i = 0; i < nopen && i < 5; i++) {
        const cq_order_t *o = orders[i];
        printf("       %-12s %-4s %-8s %s @ %.2f x %.3f  venue id %s  [%s]\n", o->client_order_id,
               cq_side_name(o->side), cq_cache_instrument_name(d.cache, o->hdr.instrument),
               cq_order_type_name(o->type), o->price, o->qty, o->venue_order_id,
               cq_order_status_name(o->status));
    }
    for (uint32_t h = 1; h <= cq_cache_instrument_count(d.cache); h++) {
        const cq_trade_t *last = cq_cache_trade(d.cache, h);
        if (last)
            printf("       last trade %-16s %.2f\n", cq_cache_instrument_name(d.cache, h), last->price);
    }
    const cq_order_t *by_venue = cq_cache_order_by_venue_id(d.cache, "V1");
    if (by_venue)
        printf("       lookup by venue id V1 -> %s\n", by_venue->client_order_id);

    cq_cache_destroy(d.cache);
    cq_bus_destroy(d.bus);
    return 0;
}
