/*
 * bench_sim.c - cost of the simulated venue's hot paths.
 *
 * sim.submit_ack: submit a limit buy that rests (below the best bid, on one
 * of 50 price levels of a 20-level book), then advance the sim past both
 * latencies (1 ms each) so that the order reaches the venue, joins its
 * queue and its ACCEPTED report is delivered to the callback. Per order:
 * the request's schedule push/pop, the id index, the checks and snapping,
 * the queue estimate (a level lookup in the book), the report's schedule
 * push/pop and the callback. Each timed run starts a fresh sim (its
 * creation and destruction are inside the timing, amortized over the run),
 * because the sim keeps every order for its life.
 *
 * Also measured, for docs/fill-model.md: sim.market_fill, a market buy
 * that walks 3 levels (ACCEPTED + 3 FILL reports delivered), the book
 * refreshed so that the own-liquidity entries reset; and sim.on_book, one
 * book event against 10 resting orders (queue updates, crossing check).
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cquant/book.h"
#include "cquant/cache.h"
#include "cquant/error.h"
#include "cquant/sim_venue.h"

#define N_IDS (1u << 18)
#define MS ((int64_t)1000000)

typedef struct {
    cq_cache_t *cache;
    cq_book_t *book;
    uint32_t inst;
    char (*ids)[40];
    uint64_t reports;
    int bad;
} ctx_t;

static void on_report(void *user, const cq_exec_report_t *r)
{
    ctx_t *x = user;
    x->reports++;
    if (r->kind == CQ_REPORT_REJECTED)
        x->bad = 1;
}

static cq_sim_t *new_sim(ctx_t *x, int64_t latency)
{
    cq_sim_config_t c;
    memset(&c, 0, sizeof c);
    c.order_latency_ns = latency;
    c.report_latency_ns = latency;
    c.maker_fee_bps = 1;
    c.taker_fee_bps = 5;
    c.report = on_report;
    c.report_user = x;
    cq_sim_t *s = NULL;
    if (cq_sim_create(&s, &c, x->cache) < 0 || cq_sim_on_book(s, x->inst, x->book, 1) < 0)
        return NULL;
    return s;
}

static void limit_init(const ctx_t *x, cq_order_t *o)
{
    memset(o, 0, sizeof *o);
    o->hdr.instrument = x->inst;
    o->side = CQ_SIDE_BUY;
    o->type = CQ_ORDER_LIMIT;
    o->tif = CQ_TIF_GTC;
    o->qty = 1;
}

/* Order i: only its id and price change, as an engine fills a pooled order. */
static void limit_set(const ctx_t *x, cq_order_t *o, uint64_t i)
{
    memcpy(o->client_order_id, x->ids[i & (N_IDS - 1)], sizeof o->client_order_id);
    o->price = (double)(9990 - (int64_t)(i % 50)) / 100.0; /* 99.90 .. 99.41 */
}

/* n orders through sims of `per_sim` orders each. */
static void submit_ack(ctx_t *x, uint64_t n, uint64_t per_sim)
{
    if (n > N_IDS)
        n = N_IDS; /* ids must stay unique within one sim */
    for (uint64_t done = 0; done < n;) {
        cq_sim_t *s = new_sim(x, 1 * MS);
        cq_venue_t v;
        if (!s || cq_sim_venue(s, &v) < 0) {
            x->bad = 1;
            return;
        }
        int64_t now = 1;
        uint64_t end = done + per_sim < n ? done + per_sim : n;
        cq_order_t o;
        limit_init(x, &o);
        for (uint64_t i = done; i < end; i++) {
            limit_set(x, &o, i);
            v.ops->submit(v.self, &o);
            now += 2 * MS;
            cq_sim_advance(s, now);
        }
        done = end;
        cq_sim_destroy(s);
    }
}

static void bench_submit_ack(void *p, uint64_t n)
{
    submit_ack(p, n, n);
}

static void bench_submit_ack_10k(void *p, uint64_t n)
{
    submit_ack(p, n, 10000);
}

static void bench_market_fill(void *p, uint64_t n)
{
    ctx_t *x = p;
    if (n > N_IDS)
        n = N_IDS;
    cq_sim_t *s = new_sim(x, 0);
    cq_venue_t v;
    if (!s || cq_sim_venue(s, &v) < 0) {
        x->bad = 1;
        return;
    }
    cq_order_t o;
    limit_init(x, &o);
    o.type = CQ_ORDER_MARKET;
    o.qty = 6;
    for (uint64_t i = 0; i < n; i++) {
        limit_set(x, &o, i);
        o.price = 0; /* asks 100.01 x 1, 100.02 x 2, 100.03 x 3 ... */
        v.ops->submit(v.self, &o);
        cq_sim_advance(s, (int64_t)i + 1);
        /* the venue's book "updates" those levels: usable again */
        cq_book_set(x->book, CQ_BOOK_ASK, 10001, (i & 1) ? 1 : 101);
        cq_book_set(x->book, CQ_BOOK_ASK, 10002, (i & 1) ? 2 : 102);
        cq_book_set(x->book, CQ_BOOK_ASK, 10003, (i & 1) ? 3 : 103);
        cq_sim_on_book(s, x->inst, x->book, (int64_t)i + 1);
    }
    cq_book_set(x->book, CQ_BOOK_ASK, 10001, 1);
    cq_book_set(x->book, CQ_BOOK_ASK, 10002, 2);
    cq_book_set(x->book, CQ_BOOK_ASK, 10003, 3);
    cq_sim_destroy(s);
}

typedef struct {
    ctx_t *x;
    cq_sim_t *s;
} book_ctx_t;

static void bench_on_book(void *p, uint64_t n)
{
    book_ctx_t *b = p;
    for (uint64_t i = 0; i < n; i++) {
        /* a level near the top changes, as a depth diff would */
        cq_book_set(b->x->book, CQ_BOOK_BID, 9998, 5 + (int64_t)(i & 7));
        cq_sim_on_book(b->s, b->x->inst, b->x->book, 1000 + (int64_t)i);
    }
}

/* An optional argument runs only the benchmarks whose name contains it. */
int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : "";
    ctx_t x;
    memset(&x, 0, sizeof x);
    if (cq_cache_create(&x.cache, NULL) < 0 || cq_book_create(&x.book, 0.01, 1) < 0)
        return 1;
    cq_instrument_t spec;
    memset(&spec, 0, sizeof spec);
    snprintf(spec.id, sizeof spec.id, "BENCH.SIM");
    snprintf(spec.quote, sizeof spec.quote, "USDT");
    spec.tick_size = 0.01;
    spec.step_size = 1;
    spec.tick_units = spec.step_units = 1;
    spec.price_precision = 2;
    spec.tradable = 1;
    if (cq_cache_instrument_add(x.cache, &spec, &x.inst) < 0)
        return 1;
    /* 20 levels a side around 100.00: bids 99.99.., asks 100.01.. */
    cq_book_entry_t bids[20], asks[20];
    for (int k = 0; k < 20; k++) {
        bids[k] = (cq_book_entry_t){9999 - k, 1 + k};
        asks[k] = (cq_book_entry_t){10001 + k, 1 + k};
    }
    if (cq_book_snapshot(x.book, bids, 20, asks, 20) < 0)
        return 1;
    x.ids = malloc(sizeof *x.ids * N_IDS);
    if (!x.ids)
        return 1;
    for (uint32_t i = 0; i < N_IDS; i++)
        snprintf(x.ids[i], sizeof x.ids[i], "cq-%u-%06u", 1732425600u + i / 1000000u, i % 1000000u);

    const uint64_t n = 200000;
    double ns;
    if (strstr("sim.submit_ack", only)) {
        ns = cq_bench_run(bench_submit_ack, &x, n);
        cq_bench_print("sim.submit_ack", ns, n, 0);
    }
    if (strstr("sim.submit_ack_10k", only)) {
        ns = cq_bench_run(bench_submit_ack_10k, &x, n);
        cq_bench_print("sim.submit_ack_10k", ns, n, 0);
    }
    if (strstr("sim.market_fill", only)) {
        ns = cq_bench_run(bench_market_fill, &x, n);
        cq_bench_print("sim.market_fill", ns, n, 0);
    }

    book_ctx_t b = {&x, new_sim(&x, 0)};
    cq_venue_t v;
    if (!b.s || cq_sim_venue(b.s, &v) < 0)
        return 1;
    cq_order_t o;
    limit_init(&x, &o);
    for (uint64_t i = 0; i < 10; i++) { /* 10 resting buys, 5 on 99.98 */
        limit_set(&x, &o, i);
        o.price = i < 5 ? 99.98 : 99.90 - (double)i / 100.0;
        v.ops->submit(v.self, &o);
    }
    cq_sim_advance(b.s, 1);
    if (strstr("sim.on_book_10_resting", only)) {
        ns = cq_bench_run(bench_on_book, &b, 1000000);
        cq_bench_print("sim.on_book_10_resting", ns, 1000000, 0);
    }
    cq_sim_destroy(b.s);

    if (x.bad)
        fprintf(stderr, "bench_sim: an order was rejected or a sim failed\n");
    free(x.ids);
    cq_book_destroy(x.book);
    cq_cache_destroy(x.cache);
    return x.bad;
}
