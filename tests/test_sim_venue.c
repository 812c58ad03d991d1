/*
 * test_sim_venue.c - the simulated venue (include/cquant/sim_venue.h).
 *
 * Hand-worked scenarios of docs/fill-model.md, each with its expected fills
 * worked out in a comment; latency ordering; every fault kind; determinism;
 * bad and hostile input; and a randomized run checked against invariants.
 *
 * The instrument of every scenario is TEST.SIM: tick 0.01 (price precision
 * 2), step 1 (whole units), quote USDT. Prices in comments are prices; the
 * book is built with ticks = price * 100.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/book.h"
#include "cquant/cache.h"
#include "cquant/error.h"
#include "cquant/sim_venue.h"
#include "support/cq_test.h"

/* Check's ck_assert_* makes a system call per assertion: loops use this. */
#define REQUIRE(c)                                                                  \
    do {                                                                            \
        if (!(c))                                                                   \
            ck_abort_msg("%s:%d: requirement failed: %s", __FILE__, __LINE__, #c);  \
    } while (0)

#define BUY CQ_SIDE_BUY
#define SELL CQ_SIDE_SELL
#define T0 ((int64_t)1000000000)
#define MS ((int64_t)1000000)

typedef struct fx {
    cq_cache_t *cache;
    cq_book_t *book;
    cq_sim_t *sim;
    cq_venue_t v;
    uint32_t inst;
    cq_exec_report_t *rep;   /* every report delivered, in order */
    size_t nrep, cap;
    /* re-entrancy probes */
    int advance_in_cb;
    int advance_rc;
    int submit_in_cb;
} fx_t;

static void on_report(void *user, const cq_exec_report_t *r)
{
    fx_t *f = user;
    if (f->advance_in_cb)
        f->advance_rc = cq_sim_advance(f->sim, cq_sim_now(f->sim));
    if (f->submit_in_cb && r->kind == CQ_REPORT_ACCEPTED) {
        f->submit_in_cb = 0;
        cq_order_t o;
        memset(&o, 0, sizeof o);
        snprintf(o.client_order_id, sizeof o.client_order_id, "from-cb");
        o.hdr.instrument = f->inst;
        o.side = BUY;
        o.type = CQ_ORDER_LIMIT;
        o.price = 99.00;
        o.qty = 1;
        REQUIRE(f->v.ops->submit(f->v.self, &o) == 0);
    }
    if (f->nrep == f->cap) {
        f->cap *= 2;
        f->rep = realloc(f->rep, f->cap * sizeof *f->rep);
        REQUIRE(f->rep != NULL);
    }
    f->rep[f->nrep++] = *r;
}

static cq_instrument_t test_spec(void)
{
    cq_instrument_t spec;
    memset(&spec, 0, sizeof spec);
    snprintf(spec.id, sizeof spec.id, "TEST.SIM");
    snprintf(spec.symbol, sizeof spec.symbol, "TEST");
    snprintf(spec.venue, sizeof spec.venue, "SIM");
    snprintf(spec.base, sizeof spec.base, "TST");
    snprintf(spec.quote, sizeof spec.quote, "USDT");
    spec.tick_size = 0.01;
    spec.step_size = 1;
    spec.tick_units = 1;
    spec.step_units = 1;
    spec.price_precision = 2;
    spec.size_precision = 0;
    spec.tradable = 1;
    return spec;
}

static cq_sim_config_t base_cfg(void)
{
    cq_sim_config_t c;
    memset(&c, 0, sizeof c);
    c.seed = 42;
    c.report = on_report;
    return c;
}

/* A fixture; cfg NULL = no latency, no fees, no faults. The sim's time
 * starts at T0. */
static fx_t *fx_new(const cq_sim_config_t *cfg)
{
    fx_t *f = calloc(1, sizeof *f);
    ck_assert_ptr_nonnull(f);
    f->cap = 256;
    f->rep = calloc(f->cap, sizeof *f->rep);
    ck_assert_ptr_nonnull(f->rep);
    ck_assert_int_eq(cq_cache_create(&f->cache, NULL), 0);
    cq_instrument_t spec = test_spec();
    ck_assert_int_eq(cq_cache_instrument_add(f->cache, &spec, &f->inst), 0);
    ck_assert_int_eq(cq_book_create(&f->book, 0.01, 1), 0);
    cq_sim_config_t c = cfg ? *cfg : base_cfg();
    c.report = on_report;
    c.report_user = f;
    ck_assert_int_eq(cq_sim_create(&f->sim, &c, f->cache), 0);
    ck_assert_int_eq(cq_sim_venue(f->sim, &f->v), 0);
    ck_assert_int_eq(cq_sim_advance(f->sim, T0), 0);
    return f;
}

static void fx_free(fx_t *f)
{
    cq_sim_destroy(f->sim);
    cq_book_destroy(f->book);
    cq_cache_destroy(f->cache);
    free(f->rep);
    free(f);
}

static int64_t tk(double price)
{
    return llround(price * 100);
}

typedef struct lv {
    double price;
    int64_t qty;
} lv_t;

/* Replace the whole book (levels end at qty 0) and show it to the sim. */
static void book(fx_t *f, const lv_t *bids, const lv_t *asks)
{
    cq_book_entry_t b[64], a[64];
    size_t nb = 0, na = 0;
    for (; bids && bids[nb].qty; nb++) {
        REQUIRE(nb < 64);
        b[nb] = (cq_book_entry_t){tk(bids[nb].price), bids[nb].qty};
    }
    for (; asks && asks[na].qty; na++) {
        REQUIRE(na < 64);
        a[na] = (cq_book_entry_t){tk(asks[na].price), asks[na].qty};
    }
    ck_assert_int_eq(cq_book_snapshot(f->book, b, nb, a, na), 0);
    ck_assert_int_eq(cq_sim_on_book(f->sim, f->inst, f->book, cq_sim_now(f->sim)), 0);
}

/* Change one level (qty 0 deletes) and show the book to the sim. */
static void level(fx_t *f, int32_t side, double price, int64_t qty)
{
    ck_assert_int_eq(cq_book_set(f->book, side, tk(price), qty), 0);
    ck_assert_int_eq(cq_sim_on_book(f->sim, f->inst, f->book, cq_sim_now(f->sim)), 0);
}

static void trade(fx_t *f, double price, double qty, int32_t aggressor)
{
    cq_trade_t t;
    memset(&t, 0, sizeof t);
    t.hdr.type = CQ_EV_TRADE;
    t.hdr.instrument = f->inst;
    t.hdr.ts_init = cq_sim_now(f->sim);
    t.price = price;
    t.qty = qty;
    t.aggressor = aggressor;
    ck_assert_int_eq(cq_sim_on_trade(f->sim, &t), 0);
}

static cq_order_t mk(fx_t *f, const char *id, int32_t side, int32_t type, int32_t tif, double price,
                     double qty)
{
    cq_order_t o;
    memset(&o, 0, sizeof o);
    snprintf(o.client_order_id, sizeof o.client_order_id, "%s", id);
    o.hdr.instrument = f->inst;
    o.side = side;
    o.type = type;
    o.tif = tif;
    o.price = price;
    o.qty = qty;
    return o;
}

/* Process what is due now (zero latency: the request and its reports). */
static void go(fx_t *f)
{
    ck_assert_int_eq(cq_sim_advance(f->sim, cq_sim_now(f->sim)), 0);
}

static void submit(fx_t *f, const char *id, int32_t side, int32_t type, int32_t tif, double price,
                   double qty)
{
    cq_order_t o = mk(f, id, side, type, tif, price, qty);
    ck_assert_int_eq(f->v.ops->submit(f->v.self, &o), 0);
    go(f);
}

static void submit_stop(fx_t *f, const char *id, int32_t side, int32_t type, double trigger, double price,
                        double qty)
{
    cq_order_t o = mk(f, id, side, type, CQ_TIF_GTC, price, qty);
    o.trigger_price = trigger;
    ck_assert_int_eq(f->v.ops->submit(f->v.self, &o), 0);
    go(f);
}

static void cancel(fx_t *f, const char *id)
{
    cq_order_t o = mk(f, id, BUY, CQ_ORDER_LIMIT, 0, 0, 0);
    ck_assert_int_eq(f->v.ops->cancel(f->v.self, &o), 0);
    go(f);
}

static void modify(fx_t *f, const char *id, double price, double qty)
{
    cq_order_t o = mk(f, id, BUY, CQ_ORDER_LIMIT, 0, 0, 0);
    ck_assert_int_eq(f->v.ops->modify(f->v.self, &o, price, qty), 0);
    go(f);
}

static const cq_exec_report_t *rep(const fx_t *f, size_t k)
{
    ck_assert_msg(k < f->nrep, "report %zu of %zu", k, f->nrep);
    return &f->rep[k];
}

static void expect_kind(const fx_t *f, size_t k, int32_t kind, const char *id)
{
    const cq_exec_report_t *r = rep(f, k);
    ck_assert_msg(r->kind == kind, "report %zu: kind %d, expected %d (%s)", k, r->kind, kind, r->reason);
    ck_assert_str_eq(r->client_order_id, id);
}

static void expect_fill(const fx_t *f, size_t k, const char *id, double price, double qty, int32_t liq)
{
    const cq_exec_report_t *r = rep(f, k);
    expect_kind(f, k, CQ_REPORT_FILL, id);
    ck_assert_msg(r->last_price == price, "report %zu: price %.17g, expected %.17g", k, r->last_price,
                  price);
    ck_assert_msg(r->last_qty == qty, "report %zu: qty %.17g, expected %.17g", k, r->last_qty, qty);
    ck_assert_int_eq(r->liquidity, liq);
}

static double ahead(fx_t *f, const char *id)
{
    double q = -1;
    ck_assert_int_eq(cq_sim_queue_ahead(f->sim, id, &q), 0);
    return q;
}

static const cq_order_t *rec(fx_t *f, const char *id)
{
    const cq_order_t *o = cq_sim_order(f->sim, id);
    ck_assert_ptr_nonnull(o);
    return o;
}

/* bids 99.99 x 5; asks 100.00 x 2, 100.01 x 3, 100.02 x 4, 100.03 x 10 */
static void ladder(fx_t *f)
{
    const lv_t bids[] = {{99.99, 5}, {0, 0}};
    const lv_t asks[] = {{100.00, 2}, {100.01, 3}, {100.02, 4}, {100.03, 10}, {0, 0}};
    book(f, bids, asks);
}

/* bids 100.00 x 5, 99.99 x 3; asks 100.01 x 4 */
static void queue_book(fx_t *f)
{
    const lv_t bids[] = {{100.00, 5}, {99.99, 3}, {0, 0}};
    const lv_t asks[] = {{100.01, 4}, {0, 0}};
    book(f, bids, asks);
}

/* ---- market orders --------------------------------------------------------- */

START_TEST(test_sim_market_buy_walks_three_levels)
{
    /* Market buy 7 on the ladder: 2 @ 100.00, 3 @ 100.01, then 2 of the 4
     * @ 100.02. Average (200.00 + 300.03 + 200.04) / 7 = 100.01. */
    fx_t *f = fx_new(NULL);
    ladder(f);
    submit(f, "m1", BUY, CQ_ORDER_MARKET, 0, 0, 7);
    ck_assert_uint_eq(f->nrep, 4);
    expect_kind(f, 0, CQ_REPORT_ACCEPTED, "m1");
    ck_assert_str_eq(rep(f, 0)->venue_order_id, "1");
    expect_fill(f, 1, "m1", 100.00, 2, CQ_LIQ_TAKER);
    expect_fill(f, 2, "m1", 100.01, 3, CQ_LIQ_TAKER);
    expect_fill(f, 3, "m1", 100.02, 2, CQ_LIQ_TAKER);
    ck_assert_int_eq(rep(f, 3)->status, CQ_OS_FILLED);
    ck_assert(rep(f, 3)->cum_qty == 7 && rep(f, 3)->leaves_qty == 0);
    ck_assert_str_eq(rep(f, 1)->trade_id, "S1");
    ck_assert_str_eq(rep(f, 3)->trade_id, "S3");
    const cq_order_t *o = rec(f, "m1");
    ck_assert_int_eq(o->status, CQ_OS_FILLED);
    ck_assert(fabs(o->avg_fill_price - 100.01) < 1e-9);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_market_sell_walks_bids)
{
    /* bids 100.00 x 5, 99.99 x 3: market sell 6 -> 5 @ 100.00, 1 @ 99.99. */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "m1", SELL, CQ_ORDER_MARKET, 0, 0, 6);
    ck_assert_uint_eq(f->nrep, 3);
    expect_fill(f, 1, "m1", 100.00, 5, CQ_LIQ_TAKER);
    expect_fill(f, 2, "m1", 99.99, 1, CQ_LIQ_TAKER);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_market_remainder_expires_when_book_exhausted)
{
    /* asks 100.00 x 2, 100.01 x 3: market buy 8 -> 2, 3, then EXPIRED with
     * 5 filled. */
    fx_t *f = fx_new(NULL);
    const lv_t asks[] = {{100.00, 2}, {100.01, 3}, {0, 0}};
    book(f, NULL, asks);
    submit(f, "m1", BUY, CQ_ORDER_MARKET, 0, 0, 8);
    ck_assert_uint_eq(f->nrep, 4);
    expect_fill(f, 1, "m1", 100.00, 2, CQ_LIQ_TAKER);
    expect_fill(f, 2, "m1", 100.01, 3, CQ_LIQ_TAKER);
    expect_kind(f, 3, CQ_REPORT_EXPIRED, "m1");
    ck_assert_int_eq(rep(f, 3)->status, CQ_OS_EXPIRED);
    ck_assert(rep(f, 3)->cum_qty == 5 && rep(f, 3)->leaves_qty == 0);
    ck_assert_int_eq(rec(f, "m1")->status, CQ_OS_EXPIRED);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_market_order_without_book_expires)
{
    fx_t *f = fx_new(NULL);
    submit(f, "m1", BUY, CQ_ORDER_MARKET, 0, 0, 1);
    ck_assert_uint_eq(f->nrep, 2);
    expect_kind(f, 1, CQ_REPORT_EXPIRED, "m1");
    ck_assert(rep(f, 1)->cum_qty == 0);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_market_walk_beyond_first_copied_levels)
{
    /* 40 ask levels of 1 from 100.00 up: market buy 30 takes the first 30
     * levels (the walk goes past the first block of levels it copies). */
    fx_t *f = fx_new(NULL);
    lv_t asks[41];
    for (int k = 0; k < 40; k++)
        asks[k] = (lv_t){100.00 + k * 0.01, 1};
    asks[40] = (lv_t){0, 0};
    book(f, NULL, asks);
    submit(f, "m1", BUY, CQ_ORDER_MARKET, 0, 0, 30);
    ck_assert_uint_eq(f->nrep, 31);
    expect_fill(f, 30, "m1", 100.29, 1, CQ_LIQ_TAKER);
    ck_assert_int_eq(rep(f, 30)->status, CQ_OS_FILLED);
    fx_free(f);
}
END_TEST

/* ---- limit orders ---------------------------------------------------------- */

START_TEST(test_sim_crossing_limit_fills_then_rests)
{
    /* Buy 8 limit 100.01 on the ladder: takes 2 @ 100.00 and 3 @ 100.01 as
     * taker, stops at 100.02 (above its limit), rests 3 @ 100.01 with
     * nothing ahead (no bid shown at 100.01). A sell trade of 1 @ 100.01
     * then fills 1 as maker. */
    fx_t *f = fx_new(NULL);
    ladder(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.01, 8);
    ck_assert_uint_eq(f->nrep, 3);
    expect_fill(f, 1, "b1", 100.00, 2, CQ_LIQ_TAKER);
    expect_fill(f, 2, "b1", 100.01, 3, CQ_LIQ_TAKER);
    ck_assert_int_eq(rep(f, 2)->status, CQ_OS_PARTIALLY_FILLED);
    ck_assert(rep(f, 2)->leaves_qty == 3);
    ck_assert(ahead(f, "b1") == 0);
    trade(f, 100.01, 1, SELL);
    ck_assert_uint_eq(f->nrep, 4);
    expect_fill(f, 3, "b1", 100.01, 1, CQ_LIQ_MAKER);
    ck_assert(rep(f, 3)->leaves_qty == 2);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_limit_not_crossing_rests_without_fill)
{
    fx_t *f = fx_new(NULL);
    ladder(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.99, 3);
    ck_assert_uint_eq(f->nrep, 1);
    expect_kind(f, 0, CQ_REPORT_ACCEPTED, "b1");
    ck_assert_int_eq(rep(f, 0)->status, CQ_OS_ACCEPTED);
    ck_assert(rep(f, 0)->leaves_qty == 3 && rep(f, 0)->price == 99.99);
    ck_assert(ahead(f, "b1") == 5);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_ioc_remainder_expires)
{
    /* asks 100.00 x 2, 100.01 x 3: IOC buy 5 limit 100.00 -> 2 @ 100.00,
     * then EXPIRED (3 not filled; 100.01 is above the limit). */
    fx_t *f = fx_new(NULL);
    const lv_t asks[] = {{100.00, 2}, {100.01, 3}, {0, 0}};
    book(f, NULL, asks);
    submit(f, "i1", BUY, CQ_ORDER_LIMIT, CQ_TIF_IOC, 100.00, 5);
    ck_assert_uint_eq(f->nrep, 3);
    expect_fill(f, 1, "i1", 100.00, 2, CQ_LIQ_TAKER);
    expect_kind(f, 2, CQ_REPORT_EXPIRED, "i1");
    ck_assert(rep(f, 2)->cum_qty == 2);
    ck_assert_int_ne(cq_sim_queue_ahead(f->sim, "i1", &(double){0}), 0);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_fok_without_enough_liquidity_expires_unfilled)
{
    /* asks 100.00 x 2, 100.01 x 3: FOK buy 6 limit 100.01 sees 5 -> EXPIRED,
     * no fill, and the book keeps its 5 (a market buy 5 still gets them). */
    fx_t *f = fx_new(NULL);
    const lv_t asks[] = {{100.00, 2}, {100.01, 3}, {100.02, 9}, {0, 0}};
    book(f, NULL, asks);
    submit(f, "k1", BUY, CQ_ORDER_LIMIT, CQ_TIF_FOK, 100.01, 6);
    ck_assert_uint_eq(f->nrep, 2);
    expect_kind(f, 1, CQ_REPORT_EXPIRED, "k1");
    ck_assert(rep(f, 1)->cum_qty == 0);
    submit(f, "m1", BUY, CQ_ORDER_MARKET, 0, 0, 5);
    expect_fill(f, 3, "m1", 100.00, 2, CQ_LIQ_TAKER);
    expect_fill(f, 4, "m1", 100.01, 3, CQ_LIQ_TAKER);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_fok_with_enough_liquidity_fills_entirely)
{
    /* Same book: FOK buy 5 limit 100.01 -> 2 @ 100.00, 3 @ 100.01, FILLED. */
    fx_t *f = fx_new(NULL);
    const lv_t asks[] = {{100.00, 2}, {100.01, 3}, {0, 0}};
    book(f, NULL, asks);
    submit(f, "k1", BUY, CQ_ORDER_LIMIT, CQ_TIF_FOK, 100.01, 5);
    ck_assert_uint_eq(f->nrep, 3);
    expect_fill(f, 1, "k1", 100.00, 2, CQ_LIQ_TAKER);
    expect_fill(f, 2, "k1", 100.01, 3, CQ_LIQ_TAKER);
    ck_assert_int_eq(rep(f, 2)->status, CQ_OS_FILLED);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_market_fok_expires_when_book_too_thin)
{
    fx_t *f = fx_new(NULL);
    const lv_t asks[] = {{100.00, 2}, {0, 0}};
    book(f, NULL, asks);
    submit(f, "k1", BUY, CQ_ORDER_MARKET, CQ_TIF_FOK, 0, 3);
    ck_assert_uint_eq(f->nrep, 2);
    expect_kind(f, 1, CQ_REPORT_EXPIRED, "k1");
    ck_assert(rep(f, 1)->cum_qty == 0);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_post_only_that_would_cross_is_rejected)
{
    /* ask 100.00: a LIMIT_MAKER buy at 100.00 would take -> REJECTED; the
     * same as LIMIT with the post-only option -> REJECTED; at 99.99 it
     * rests. */
    fx_t *f = fx_new(NULL);
    ladder(f);
    submit(f, "p1", BUY, CQ_ORDER_LIMIT_MAKER, 0, 100.00, 1);
    expect_kind(f, 0, CQ_REPORT_REJECTED, "p1");
    ck_assert_str_eq(rep(f, 0)->reason, "post-only order would cross");
    ck_assert_int_eq(rec(f, "p1")->status, CQ_OS_REJECTED);
    cq_order_t o = mk(f, "p2", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.02, 1);
    o.opts = CQ_ORDER_OPT_POST_ONLY;
    ck_assert_int_eq(f->v.ops->submit(f->v.self, &o), 0);
    go(f);
    expect_kind(f, 1, CQ_REPORT_REJECTED, "p2");
    submit(f, "p3", BUY, CQ_ORDER_LIMIT_MAKER, 0, 99.99, 1);
    expect_kind(f, 2, CQ_REPORT_ACCEPTED, "p3");
    ck_assert(ahead(f, "p3") == 5);
    ck_assert_uint_eq(f->nrep, 3);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_post_only_may_join_a_level_we_emptied)
{
    /* ask 100.00 x 2 taken by our market buy: the level is used up for us,
     * so a LIMIT_MAKER buy at 100.00 does not cross and rests. */
    fx_t *f = fx_new(NULL);
    ladder(f);
    submit(f, "m1", BUY, CQ_ORDER_MARKET, 0, 0, 2);
    submit(f, "p1", BUY, CQ_ORDER_LIMIT_MAKER, 0, 100.00, 1);
    expect_kind(f, 2, CQ_REPORT_ACCEPTED, "p1");
    ck_assert_int_eq(rec(f, "p1")->status, CQ_OS_ACCEPTED);
    fx_free(f);
}
END_TEST

/* ---- queue position -------------------------------------------------------- */

START_TEST(test_sim_queue_trades_at_price_fill_after_queue_ahead)
{
    /* Buy 4 @ 100.00 joins behind the 5 shown. Sell trade 3 @ 100.00: ahead
     * 5 -> 2, no fill. Sell trade 4: the first 2 clear the queue, the other
     * 2 fill us as maker. */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 4);
    ck_assert(ahead(f, "b1") == 5);
    trade(f, 100.00, 3, SELL);
    ck_assert_uint_eq(f->nrep, 1);
    ck_assert(ahead(f, "b1") == 2);
    trade(f, 100.00, 4, SELL);
    ck_assert_uint_eq(f->nrep, 2);
    expect_fill(f, 1, "b1", 100.00, 2, CQ_LIQ_MAKER);
    ck_assert(rep(f, 1)->leaves_qty == 2);
    ck_assert(ahead(f, "b1") == 0);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_queue_ignores_trades_at_other_prices_and_same_side_aggressor)
{
    /* Behind 5 @ 100.00: a sell trade at 99.99 and a buy-aggressor trade at
     * 100.00 (it lifted asks) leave the queue unchanged. */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 4);
    trade(f, 99.99, 10, SELL);
    trade(f, 100.00, 10, BUY);
    ck_assert(ahead(f, "b1") == 5);
    ck_assert_uint_eq(f->nrep, 1);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_queue_trade_without_aggressor_counts)
{
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 4);
    trade(f, 100.00, 6, CQ_SIDE_NONE);
    expect_fill(f, 1, "b1", 100.00, 1, CQ_LIQ_MAKER);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_queue_level_shrink_reduces_queue_ahead)
{
    /* Behind 5 @ 100.00. The level shrinks to 2: ahead 2 (the cancels were
     * ahead of us). It grows to 8: ahead stays 2 (newcomers join behind).
     * Sell trade 3: 2 clear the queue, 1 fills us. */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 4);
    level(f, CQ_BOOK_BID, 100.00, 2);
    ck_assert(ahead(f, "b1") == 2);
    level(f, CQ_BOOK_BID, 100.00, 8);
    ck_assert(ahead(f, "b1") == 2);
    trade(f, 100.00, 3, SELL);
    ck_assert_uint_eq(f->nrep, 2);
    expect_fill(f, 1, "b1", 100.00, 1, CQ_LIQ_MAKER);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_queue_level_cancels_above_queue_ahead_keep_position)
{
    /* Behind 5 @ 100.00; a sell trade 2 makes it 3; the level then shows 4
     * (it went 5 -> 3 by the trade and grew by 1 behind): ahead stays 3. */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 4);
    trade(f, 100.00, 2, SELL);
    level(f, CQ_BOOK_BID, 100.00, 4);
    ck_assert(ahead(f, "b1") == 3);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_queue_two_own_orders_keep_time_priority)
{
    /* a1 buy 2 then a2 buy 2, both @ 100.00 behind 5. Sell trade 8: 5 clear
     * the queue, 2 fill a1, the last 1 fills a2 (behind a1). */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "a1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 2);
    submit(f, "a2", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 2);
    trade(f, 100.00, 8, SELL);
    ck_assert_uint_eq(f->nrep, 4);
    expect_fill(f, 2, "a1", 100.00, 2, CQ_LIQ_MAKER);
    expect_fill(f, 3, "a2", 100.00, 1, CQ_LIQ_MAKER);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_book_moving_through_price_fills_as_maker)
{
    /* Buy 6 @ 100.00 behind 5. The book moves down through it: bids now
     * 99.98 x 1, asks 99.99 x 2, 100.00 x 3, 100.01 x 4. The levels at or
     * below our limit show 2 + 3 = 5: one maker fill of 5 at our price
     * 100.00. The same book shown again fills nothing more (we used those
     * 5). When the 100.00 level changes to 4, its 4 are usable again:
     * the last 1 fills. */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 6);
    const lv_t bids[] = {{99.98, 1}, {0, 0}};
    const lv_t asks[] = {{99.99, 2}, {100.00, 3}, {100.01, 4}, {0, 0}};
    book(f, bids, asks);
    ck_assert_uint_eq(f->nrep, 2);
    expect_fill(f, 1, "b1", 100.00, 5, CQ_LIQ_MAKER);
    ck_assert(ahead(f, "b1") == 0);
    book(f, bids, asks);
    ck_assert_uint_eq(f->nrep, 2);
    level(f, CQ_BOOK_ASK, 100.00, 4);
    ck_assert_uint_eq(f->nrep, 3);
    expect_fill(f, 2, "b1", 100.00, 1, CQ_LIQ_MAKER);
    ck_assert_int_eq(rep(f, 2)->status, CQ_OS_FILLED);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_book_through_fills_best_priced_order_first)
{
    /* Sells s1 @ 100.03 (first) and s2 @ 100.02 (second). Bids jump to
     * 100.03 x 3: s2 has the better price and takes all 3; s1 gets none. */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "s1", SELL, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.03, 3);
    submit(f, "s2", SELL, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.02, 3);
    const lv_t bids[] = {{100.03, 3}, {0, 0}};
    const lv_t asks[] = {{100.04, 1}, {0, 0}};
    book(f, bids, asks);
    ck_assert_uint_eq(f->nrep, 3);
    expect_fill(f, 2, "s2", 100.02, 3, CQ_LIQ_MAKER);
    fx_free(f);
}
END_TEST

/* ---- own liquidity ----------------------------------------------------------- */

START_TEST(test_sim_own_fills_consume_liquidity_until_level_updates)
{
    /* asks 100.00 x 5, 100.01 x 5.
     *  market buy 3 -> 3 @ 100.00            (100.00 now usable 2)
     *  market buy 3 -> 2 @ 100.00, 1 @ 100.01 (100.00 usable 0, 100.01 usable 4)
     *  the same book shown again changes nothing:
     *  market buy 1 -> 1 @ 100.01
     *  100.00 updated to 6: usable 6 again:
     *  market buy 6 -> 6 @ 100.00 */
    fx_t *f = fx_new(NULL);
    const lv_t asks[] = {{100.00, 5}, {100.01, 5}, {0, 0}};
    book(f, NULL, asks);
    submit(f, "m1", BUY, CQ_ORDER_MARKET, 0, 0, 3);
    expect_fill(f, 1, "m1", 100.00, 3, CQ_LIQ_TAKER);
    submit(f, "m2", BUY, CQ_ORDER_MARKET, 0, 0, 3);
    expect_fill(f, 3, "m2", 100.00, 2, CQ_LIQ_TAKER);
    expect_fill(f, 4, "m2", 100.01, 1, CQ_LIQ_TAKER);
    book(f, NULL, asks);
    submit(f, "m3", BUY, CQ_ORDER_MARKET, 0, 0, 1);
    expect_fill(f, 6, "m3", 100.01, 1, CQ_LIQ_TAKER);
    level(f, CQ_BOOK_ASK, 100.00, 6);
    submit(f, "m4", BUY, CQ_ORDER_MARKET, 0, 0, 6);
    expect_fill(f, 8, "m4", 100.00, 6, CQ_LIQ_TAKER);
    ck_assert_uint_eq(f->nrep, 9);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_own_liquidity_resets_when_level_changes_and_changes_back)
{
    /* ask 100.00 x 5; we take 3 (usable 2). The level goes to 4, then back
     * to 5: it was updated, so all 5 are usable again (market buy 5 -> 5 @
     * 100.00), although it shows the size it showed when we took. */
    fx_t *f = fx_new(NULL);
    const lv_t asks[] = {{100.00, 5}, {100.01, 5}, {0, 0}};
    book(f, NULL, asks);
    submit(f, "m1", BUY, CQ_ORDER_MARKET, 0, 0, 3);
    level(f, CQ_BOOK_ASK, 100.00, 4);
    level(f, CQ_BOOK_ASK, 100.00, 5);
    submit(f, "m2", BUY, CQ_ORDER_MARKET, 0, 0, 5);
    ck_assert_uint_eq(f->nrep, 4);
    expect_fill(f, 3, "m2", 100.00, 5, CQ_LIQ_TAKER);
    fx_free(f);
}
END_TEST

/* ---- cancel, modify -------------------------------------------------------- */

START_TEST(test_sim_cancel_resting_order)
{
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 4);
    cancel(f, "b1");
    ck_assert_uint_eq(f->nrep, 2);
    expect_kind(f, 1, CQ_REPORT_CANCELED, "b1");
    ck_assert_int_eq(rep(f, 1)->status, CQ_OS_CANCELED);
    ck_assert_str_eq(rep(f, 1)->venue_order_id, "1");
    ck_assert_int_eq(rec(f, "b1")->status, CQ_OS_CANCELED);
    /* a canceled order no longer fills */
    trade(f, 100.00, 100, SELL);
    ck_assert_uint_eq(f->nrep, 2);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_cancel_closed_order_is_cancel_rejected)
{
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 4);
    cancel(f, "b1");
    cancel(f, "b1");
    expect_kind(f, 2, CQ_REPORT_CANCEL_REJECTED, "b1");
    ck_assert_str_eq(rep(f, 2)->reason, "order already closed");
    ck_assert_int_eq(rep(f, 2)->status, CQ_OS_CANCELED);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_cancel_unknown_order_is_cancel_rejected)
{
    fx_t *f = fx_new(NULL);
    cancel(f, "nope");
    ck_assert_uint_eq(f->nrep, 1);
    expect_kind(f, 0, CQ_REPORT_CANCEL_REJECTED, "nope");
    ck_assert_str_eq(rep(f, 0)->reason, "unknown order");
    ck_assert_int_eq(rep(f, 0)->status, 0);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_modify_smaller_qty_keeps_queue_place)
{
    /* Buy 4 @ 100.00 behind 5; sell trade 3 -> ahead 2; modify qty 3 at the
     * same price -> MODIFIED, still 2 ahead. */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 4);
    trade(f, 100.00, 3, SELL);
    modify(f, "b1", 0, 3);
    expect_kind(f, 1, CQ_REPORT_MODIFIED, "b1");
    ck_assert(rep(f, 1)->qty == 3 && rep(f, 1)->price == 100.00 && rep(f, 1)->leaves_qty == 3);
    ck_assert(ahead(f, "b1") == 2);
    ck_assert(rec(f, "b1")->qty == 3);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_modify_larger_qty_goes_to_back_of_queue)
{
    /* Behind 5; a sell trade of 3 leaves 2 ahead; the level then shows 7
     * (newcomers behind us): still 2 ahead. Qty 4 -> 6 loses the place: the
     * order requeues behind the 7 shown. */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 4);
    trade(f, 100.00, 3, SELL);
    level(f, CQ_BOOK_BID, 100.00, 7);
    ck_assert(ahead(f, "b1") == 2);
    modify(f, "b1", 0, 6);
    ck_assert(ahead(f, "b1") == 7);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_modify_price_requeues_at_new_level)
{
    /* Buy 4 @ 100.00 behind 5 -> price 99.99: behind the 3 shown there. */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 4);
    modify(f, "b1", 99.99, 0);
    expect_kind(f, 1, CQ_REPORT_MODIFIED, "b1");
    ck_assert(rep(f, 1)->price == 99.99 && rep(f, 1)->qty == 4);
    ck_assert(ahead(f, "b1") == 3);
    trade(f, 100.00, 50, SELL); /* no longer at 100.00 */
    ck_assert_uint_eq(f->nrep, 2);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_modify_to_crossing_price_takes)
{
    /* Buy 6 @ 100.00 -> price 100.01: MODIFIED, then takes the 4 asks at
     * 100.01 as taker; the remaining 2 rest at 100.01, nothing ahead. */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 6);
    modify(f, "b1", 100.01, 0);
    ck_assert_uint_eq(f->nrep, 3);
    expect_kind(f, 1, CQ_REPORT_MODIFIED, "b1");
    expect_fill(f, 2, "b1", 100.01, 4, CQ_LIQ_TAKER);
    ck_assert(ahead(f, "b1") == 0);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_modify_rejections)
{
    fx_t *f = fx_new(NULL);
    queue_book(f);
    modify(f, "nope", 100.00, 0);
    expect_kind(f, 0, CQ_REPORT_MODIFY_REJECTED, "nope");
    ck_assert_str_eq(rep(f, 0)->reason, "unknown order");
    submit(f, "p1", BUY, CQ_ORDER_LIMIT_MAKER, 0, 100.00, 4);
    modify(f, "p1", 100.01, 0); /* would take the ask at 100.01 */
    expect_kind(f, 2, CQ_REPORT_MODIFY_REJECTED, "p1");
    ck_assert_str_eq(rep(f, 2)->reason, "post-only order would cross");
    modify(f, "p1", 100.005, 0);
    ck_assert_str_eq(rep(f, 3)->reason, "price not on tick");
    trade(f, 100.00, 7, SELL); /* 5 ahead, 2 fill */
    modify(f, "p1", 0, 2);
    expect_kind(f, 5, CQ_REPORT_MODIFY_REJECTED, "p1");
    ck_assert_str_eq(rep(f, 5)->reason, "qty not above filled qty");
    cancel(f, "p1");
    modify(f, "p1", 0, 9);
    expect_kind(f, 7, CQ_REPORT_MODIFY_REJECTED, "p1");
    ck_assert_str_eq(rep(f, 7)->reason, "order already closed");
    ck_assert(rec(f, "p1")->qty == 4 && rec(f, "p1")->price == 100.00);
    fx_free(f);
}
END_TEST

/* ---- stops ----------------------------------------------------------------- */

START_TEST(test_sim_stop_market_triggers_on_trade_at_trigger)
{
    /* asks 100.04 x 2, 100.06 x 10. Buy stop 3, trigger 100.05. A trade at
     * 100.03 does nothing; a trade at 100.05 (>= trigger) triggers it: a
     * market buy 3 on the current book -> 2 @ 100.04, 1 @ 100.06. */
    fx_t *f = fx_new(NULL);
    const lv_t bids[] = {{100.00, 5}, {0, 0}};
    const lv_t asks[] = {{100.04, 2}, {100.06, 10}, {0, 0}};
    book(f, bids, asks);
    submit_stop(f, "st", BUY, CQ_ORDER_STOP_MARKET, 100.05, 0, 3);
    expect_kind(f, 0, CQ_REPORT_ACCEPTED, "st");
    trade(f, 100.03, 1, BUY);
    ck_assert_uint_eq(f->nrep, 1);
    trade(f, 100.05, 1, BUY);
    ck_assert_uint_eq(f->nrep, 3);
    expect_fill(f, 1, "st", 100.04, 2, CQ_LIQ_TAKER);
    expect_fill(f, 2, "st", 100.06, 1, CQ_LIQ_TAKER);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_stop_limit_triggers_on_book_and_rests_remainder)
{
    /* bids 100.00 x 5, 99.98 x 5; ask 100.02. Sell stop-limit 7, trigger
     * 99.99, limit 99.98. The 100.00 bids go: best bid 99.98 <= 99.99
     * triggers it; as a sell limit 99.98 it takes the 5 @ 99.98 and rests 2
     * @ 99.98 with nothing ahead. */
    fx_t *f = fx_new(NULL);
    const lv_t bids[] = {{100.00, 5}, {99.98, 5}, {0, 0}};
    const lv_t asks[] = {{100.02, 1}, {0, 0}};
    book(f, bids, asks);
    submit_stop(f, "st", SELL, CQ_ORDER_STOP_LIMIT, 99.99, 99.98, 7);
    ck_assert_int_eq(cq_sim_queue_ahead(f->sim, "st", &(double){0}), CQ_ESTATE);
    level(f, CQ_BOOK_BID, 100.00, 0);
    ck_assert_uint_eq(f->nrep, 2);
    expect_fill(f, 1, "st", 99.98, 5, CQ_LIQ_TAKER);
    ck_assert(ahead(f, "st") == 0);
    ck_assert_int_eq(rec(f, "st")->status, CQ_OS_PARTIALLY_FILLED);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_stop_that_would_trigger_at_once_is_rejected)
{
    /* best ask 100.01: a buy stop with trigger 100.01 has already been
     * reached -> REJECTED; so has a sell stop at 100.05 after a trade at
     * 100.02. */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit_stop(f, "s1", BUY, CQ_ORDER_STOP_MARKET, 100.01, 0, 1);
    expect_kind(f, 0, CQ_REPORT_REJECTED, "s1");
    ck_assert_str_eq(rep(f, 0)->reason, "stop would trigger immediately");
    trade(f, 100.02, 1, BUY);
    submit_stop(f, "s2", SELL, CQ_ORDER_STOP_MARKET, 100.05, 0, 1);
    expect_kind(f, 1, CQ_REPORT_REJECTED, "s2");
    fx_free(f);
}
END_TEST

START_TEST(test_sim_waiting_stop_can_be_canceled)
{
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit_stop(f, "s1", BUY, CQ_ORDER_STOP_MARKET, 101.00, 0, 1);
    cancel(f, "s1");
    expect_kind(f, 1, CQ_REPORT_CANCELED, "s1");
    trade(f, 102.00, 1, BUY);
    ck_assert_uint_eq(f->nrep, 2);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_modify_waiting_stop_changes_it_without_matching)
{
    /* Bids 100.00 x 5, 99.99 x 3. Sell stop-limit 2, trigger 99.00, limit
     * 98.00 -> qty 3, limit 98.50: MODIFIED, nothing fills (it waits). A
     * trade at 99.00 triggers it with the new values: a sell limit 98.50
     * for 3 takes 3 of the 5 bids @ 100.00 (the book has not moved yet). */
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit_stop(f, "st", SELL, CQ_ORDER_STOP_LIMIT, 99.00, 98.00, 2);
    modify(f, "st", 98.50, 3);
    ck_assert_uint_eq(f->nrep, 2);
    expect_kind(f, 1, CQ_REPORT_MODIFIED, "st");
    ck_assert(rep(f, 1)->price == 98.50 && rep(f, 1)->qty == 3);
    ck_assert_int_eq(cq_sim_queue_ahead(f->sim, "st", &(double){0}), CQ_ESTATE);
    trade(f, 99.00, 1, SELL);
    ck_assert_uint_eq(f->nrep, 3);
    expect_fill(f, 2, "st", 100.00, 3, CQ_LIQ_TAKER);
    ck_assert(rec(f, "st")->price == 98.50 && rec(f, "st")->qty == 3);
    ck_assert_int_eq(rec(f, "st")->status, CQ_OS_FILLED);
    fx_free(f);
}
END_TEST

/* ---- fees ------------------------------------------------------------------ */

START_TEST(test_sim_fees_taker_and_maker_in_quote_asset)
{
    /* maker 2 bps, taker 10 bps. Market buy 2 @ 100.00: 200.00 x 10 / 10000
     * = 0.2 USDT. Resting sell 3 @ 100.01 (nothing ahead) filled by a buy
     * trade of 3: 300.03 x 2 / 10000 = 0.060006 USDT. */
    cq_sim_config_t c = base_cfg();
    c.maker_fee_bps = 2;
    c.taker_fee_bps = 10;
    fx_t *f = fx_new(&c);
    const lv_t asks[] = {{100.00, 2}, {100.02, 5}, {0, 0}};
    book(f, NULL, asks);
    submit(f, "m1", BUY, CQ_ORDER_MARKET, 0, 0, 2);
    expect_fill(f, 1, "m1", 100.00, 2, CQ_LIQ_TAKER);
    ck_assert(fabs(rep(f, 1)->fee - 0.2) < 1e-12);
    ck_assert_str_eq(rep(f, 1)->fee_asset, "USDT");
    submit(f, "s1", SELL, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.01, 3);
    trade(f, 100.01, 3, BUY);
    expect_fill(f, 3, "s1", 100.01, 3, CQ_LIQ_MAKER);
    ck_assert(fabs(rep(f, 3)->fee - 0.060006) < 1e-12);
    ck_assert(fabs(rec(f, "s1")->fees - 0.060006) < 1e-12);
    size_t n = 0;
    const cq_fill_t *fl = cq_sim_fills(f->sim, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert(fl[0].fee == rep(f, 1)->fee && fl[1].fee == rep(f, 3)->fee);
    ck_assert_str_eq(fl[1].fee_asset, "USDT");
    fx_free(f);
}
END_TEST

/* ---- latency and ordering ---------------------------------------------------- */

static cq_sim_config_t latency_cfg(void)
{
    cq_sim_config_t c = base_cfg();
    c.order_latency_ns = 1 * MS;
    c.report_latency_ns = 2 * MS;
    return c;
}

START_TEST(test_sim_latency_ack_arrives_after_both_latencies)
{
    /* submit at T0: reaches the venue at T0+1ms (ts_event), the ACCEPTED
     * reaches us at T0+3ms (ts_init), not a nanosecond before. */
    cq_sim_config_t c = latency_cfg();
    fx_t *f = fx_new(&c);
    queue_book(f);
    cq_order_t o = mk(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.00, 1);
    ck_assert_int_eq(f->v.ops->submit(f->v.self, &o), 0);
    int64_t due = 0;
    ck_assert_int_eq(cq_sim_next_due(f->sim, &due), 0);
    ck_assert_int_eq(due, T0 + 1 * MS);
    ck_assert_int_eq(cq_sim_advance(f->sim, T0 + 3 * MS - 1), 0);
    ck_assert_uint_eq(f->nrep, 0);
    ck_assert_int_eq(cq_sim_next_due(f->sim, &due), 0);
    ck_assert_int_eq(due, T0 + 3 * MS);
    ck_assert_int_eq(cq_sim_advance(f->sim, T0 + 3 * MS), 0);
    ck_assert_uint_eq(f->nrep, 1);
    ck_assert_int_eq(rep(f, 0)->hdr.ts_event, T0 + 1 * MS);
    ck_assert_int_eq(rep(f, 0)->hdr.ts_init, T0 + 3 * MS);
    ck_assert_int_eq(cq_sim_next_due(f->sim, &due), CQ_ENOENT);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_latency_cancel_arriving_after_fill_is_rejected)
{
    /* Buy 2 @ 100.00 rests (nothing ahead: no bid at 100.00). At T1 we send
     * a cancel (reaches the venue at T1+1ms). A sell trade of 5 @ 100.00 at
     * T1+0.5ms fills it first. Reports: FILL at T1+2.5ms, CANCEL_REJECTED at
     * T1+3ms. */
    cq_sim_config_t c = latency_cfg();
    fx_t *f = fx_new(&c);
    const lv_t bids[] = {{99.99, 3}, {0, 0}};
    const lv_t asks[] = {{100.01, 4}, {0, 0}};
    book(f, bids, asks);
    cq_order_t o = mk(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 2);
    ck_assert_int_eq(f->v.ops->submit(f->v.self, &o), 0);
    const int64_t t1 = T0 + 10 * MS;
    ck_assert_int_eq(cq_sim_advance(f->sim, t1), 0);
    ck_assert_int_eq(f->v.ops->cancel(f->v.self, &o), 0);
    ck_assert_int_eq(cq_sim_advance(f->sim, t1 + MS / 2), 0);
    trade(f, 100.00, 5, SELL);
    ck_assert_int_eq(cq_sim_advance(f->sim, t1 + 10 * MS), 0);
    ck_assert_uint_eq(f->nrep, 3);
    expect_kind(f, 0, CQ_REPORT_ACCEPTED, "b1");
    expect_fill(f, 1, "b1", 100.00, 2, CQ_LIQ_MAKER);
    ck_assert_int_eq(rep(f, 1)->hdr.ts_init, t1 + MS / 2 + 2 * MS);
    expect_kind(f, 2, CQ_REPORT_CANCEL_REJECTED, "b1");
    ck_assert_int_eq(rep(f, 2)->hdr.ts_event, t1 + MS);
    ck_assert_int_eq(rep(f, 2)->status, CQ_OS_FILLED);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_latency_cancel_arriving_before_trade_wins)
{
    /* Same, but the trade comes at T1+1.5ms, after the cancel reached the
     * venue: CANCELED, and the trade fills nothing. */
    cq_sim_config_t c = latency_cfg();
    fx_t *f = fx_new(&c);
    const lv_t bids[] = {{99.99, 3}, {0, 0}};
    const lv_t asks[] = {{100.01, 4}, {0, 0}};
    book(f, bids, asks);
    cq_order_t o = mk(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 2);
    ck_assert_int_eq(f->v.ops->submit(f->v.self, &o), 0);
    const int64_t t1 = T0 + 10 * MS;
    ck_assert_int_eq(cq_sim_advance(f->sim, t1), 0);
    ck_assert_int_eq(f->v.ops->cancel(f->v.self, &o), 0);
    ck_assert_int_eq(cq_sim_advance(f->sim, t1 + 3 * MS / 2), 0);
    trade(f, 100.00, 5, SELL);
    ck_assert_int_eq(cq_sim_advance(f->sim, t1 + 10 * MS), 0);
    ck_assert_uint_eq(f->nrep, 2);
    expect_kind(f, 1, CQ_REPORT_CANCELED, "b1");
    fx_free(f);
}
END_TEST

START_TEST(test_sim_market_event_processes_due_requests_first)
{
    /* The submit is due at T0+1ms; a book event stamped T0+5ms first lets
     * it reach the venue (against the book as it is), then applies. */
    cq_sim_config_t c = latency_cfg();
    fx_t *f = fx_new(&c);
    queue_book(f);
    cq_order_t o = mk(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 1);
    ck_assert_int_eq(f->v.ops->submit(f->v.self, &o), 0);
    ck_assert_int_eq(cq_sim_on_book(f->sim, f->inst, f->book, T0 + 5 * MS), 0);
    ck_assert_int_eq(cq_sim_now(f->sim), T0 + 5 * MS);
    ck_assert(ahead(f, "b1") == 5);
    ck_assert_int_eq(rec(f, "b1")->hdr.ts_init, T0 + 1 * MS);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_time_never_goes_back)
{
    fx_t *f = fx_new(NULL);
    ck_assert_int_eq(cq_sim_advance(f->sim, T0 + 100), 0);
    ck_assert_int_eq(cq_sim_advance(f->sim, T0), 0);
    ck_assert_int_eq(cq_sim_now(f->sim), T0 + 100);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_callback_may_submit_but_not_advance)
{
    fx_t *f = fx_new(NULL);
    f->submit_in_cb = 1;
    f->advance_in_cb = 1;
    f->advance_rc = 0;
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.00, 1);
    ck_assert_int_eq(f->advance_rc, CQ_EBUSY);
    /* the order submitted from the callback went through in the same run */
    ck_assert_uint_eq(f->nrep, 2);
    expect_kind(f, 1, CQ_REPORT_ACCEPTED, "from-cb");
    fx_free(f);
}
END_TEST

/* ---- queries --------------------------------------------------------------- */

START_TEST(test_sim_query_order_answers_status)
{
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.00, 4);
    trade(f, 100.00, 6, SELL); /* 5 ahead, 1 fills */
    ck_assert_int_eq(f->v.ops->query_order(f->v.self, f->inst, "b1"), 0);
    go(f);
    expect_kind(f, 2, CQ_REPORT_STATUS, "b1");
    const cq_exec_report_t *r = rep(f, 2);
    ck_assert_int_eq(r->status, CQ_OS_PARTIALLY_FILLED);
    ck_assert(r->cum_qty == 1 && r->leaves_qty == 3 && r->price == 100.00 && r->qty == 4);
    ck_assert_str_eq(r->venue_order_id, "1");
    ck_assert_int_eq(f->v.ops->query_order(f->v.self, 0, "zz"), 0);
    ck_assert_int_eq(f->v.ops->query_order(f->v.self, f->inst + 1, "b1"), 0);
    go(f);
    expect_kind(f, 3, CQ_REPORT_NOT_FOUND, "zz");
    expect_kind(f, 4, CQ_REPORT_NOT_FOUND, "b1");
    fx_free(f);
}
END_TEST

START_TEST(test_sim_query_finds_rejected_order)
{
    fx_t *f = fx_new(NULL);
    submit(f, "r1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.001, 1);
    ck_assert_int_eq(f->v.ops->query_order(f->v.self, 0, "r1"), 0);
    go(f);
    expect_kind(f, 1, CQ_REPORT_STATUS, "r1");
    ck_assert_int_eq(rep(f, 1)->status, CQ_OS_REJECTED);
    ck_assert(rep(f, 1)->leaves_qty == 0);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_query_open_orders_lists_only_open)
{
    fx_t *f = fx_new(NULL);
    queue_book(f);
    submit(f, "a", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.00, 1);
    submit(f, "b", BUY, CQ_ORDER_MARKET, 0, 0, 1);
    submit(f, "c", SELL, CQ_ORDER_LIMIT, CQ_TIF_GTC, 101.00, 1);
    submit(f, "d", SELL, CQ_ORDER_LIMIT, CQ_TIF_GTC, 102.00, 1);
    cancel(f, "d");
    size_t before = f->nrep;
    ck_assert_int_eq(f->v.ops->query_open_orders(f->v.self, 0), 0);
    go(f);
    ck_assert_uint_eq(f->nrep, before + 2);
    expect_kind(f, before, CQ_REPORT_STATUS, "a");
    expect_kind(f, before + 1, CQ_REPORT_STATUS, "c");
    ck_assert_int_eq(f->v.ops->query_open_orders(f->v.self, f->inst + 7), 0);
    go(f);
    ck_assert_uint_eq(f->nrep, before + 2);
    fx_free(f);
}
END_TEST

/* ---- faults ------------------------------------------------------------------ */

START_TEST(test_sim_fault_drop_loses_reports_not_records)
{
    cq_sim_config_t c = base_cfg();
    c.faults.drop = 1;
    fx_t *f = fx_new(&c);
    ladder(f);
    submit(f, "m1", BUY, CQ_ORDER_MARKET, 0, 0, 1);
    ck_assert_uint_eq(f->nrep, 0);
    cq_sim_stats_t st;
    ck_assert_int_eq(cq_sim_stats(f->sim, &st), 0);
    ck_assert_uint_eq(st.reports, 2);
    ck_assert_uint_eq(st.dropped, 2);
    ck_assert_int_eq(rec(f, "m1")->status, CQ_OS_FILLED);
    size_t n = 0;
    cq_sim_fills(f->sim, &n);
    ck_assert_uint_eq(n, 1);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_fault_delay_adds_latency)
{
    cq_sim_config_t c = latency_cfg();
    c.faults.delay = 1;
    c.faults.delay_ns = 50 * MS;
    fx_t *f = fx_new(&c);
    cq_order_t o = mk(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.00, 1);
    ck_assert_int_eq(f->v.ops->submit(f->v.self, &o), 0);
    ck_assert_int_eq(cq_sim_advance(f->sim, T0 + 53 * MS - 1), 0);
    ck_assert_uint_eq(f->nrep, 0);
    ck_assert_int_eq(cq_sim_advance(f->sim, T0 + 53 * MS), 0);
    ck_assert_uint_eq(f->nrep, 1);
    ck_assert_int_eq(rep(f, 0)->hdr.ts_init, T0 + 53 * MS);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_fault_duplicate_delivers_twice)
{
    cq_sim_config_t c = base_cfg();
    c.faults.duplicate = 1;
    fx_t *f = fx_new(&c);
    ladder(f);
    submit(f, "m1", BUY, CQ_ORDER_MARKET, 0, 0, 1);
    ck_assert_uint_eq(f->nrep, 4);
    expect_kind(f, 0, CQ_REPORT_ACCEPTED, "m1");
    expect_kind(f, 1, CQ_REPORT_ACCEPTED, "m1");
    expect_fill(f, 2, "m1", 100.00, 1, CQ_LIQ_TAKER);
    ck_assert(memcmp(rep(f, 2), rep(f, 3), sizeof(cq_exec_report_t)) == 0);
    size_t n = 0;
    cq_sim_fills(f->sim, &n);
    ck_assert_uint_eq(n, 1);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_fault_reorder_swaps_with_previous_report)
{
    /* ACCEPTED then FILL are generated; the FILL swaps delivery slots with
     * the ACCEPTED still waiting: FILL arrives first. */
    cq_sim_config_t c = base_cfg();
    c.faults.reorder = 1;
    fx_t *f = fx_new(&c);
    ladder(f);
    submit(f, "m1", BUY, CQ_ORDER_MARKET, 0, 0, 1);
    ck_assert_uint_eq(f->nrep, 2);
    expect_kind(f, 0, CQ_REPORT_FILL, "m1");
    expect_kind(f, 1, CQ_REPORT_ACCEPTED, "m1");
    cq_sim_stats_t st;
    cq_sim_stats(f->sim, &st);
    ck_assert_uint_eq(st.reordered, 1);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_fault_not_found_next_n_queries)
{
    cq_sim_config_t c = base_cfg();
    c.faults.not_found_next = 2;
    fx_t *f = fx_new(&c);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.00, 1);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(f->v.ops->query_order(f->v.self, f->inst, "b1"), 0);
    go(f);
    expect_kind(f, 1, CQ_REPORT_NOT_FOUND, "b1");
    expect_kind(f, 2, CQ_REPORT_NOT_FOUND, "b1");
    expect_kind(f, 3, CQ_REPORT_STATUS, "b1");
    fx_free(f);
}
END_TEST

START_TEST(test_sim_fault_not_found_probability_one)
{
    cq_sim_config_t c = base_cfg();
    fx_t *f = fx_new(&c);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.00, 1);
    cq_sim_faults_t fl = {.not_found = 1};
    ck_assert_int_eq(cq_sim_set_faults(f->sim, &fl), 0);
    ck_assert_int_eq(f->v.ops->query_order(f->v.self, 0, "b1"), 0);
    go(f);
    expect_kind(f, 1, CQ_REPORT_NOT_FOUND, "b1");
    fx_free(f);
}
END_TEST

START_TEST(test_sim_fault_reject_next_n_orders)
{
    cq_sim_config_t c = base_cfg();
    c.faults.reject_next = 1;
    fx_t *f = fx_new(&c);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.00, 1);
    submit(f, "b2", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.00, 1);
    expect_kind(f, 0, CQ_REPORT_REJECTED, "b1");
    ck_assert_str_eq(rep(f, 0)->reason, "injected fault: rejected");
    expect_kind(f, 1, CQ_REPORT_ACCEPTED, "b2");
    ck_assert_int_eq(rec(f, "b1")->status, CQ_OS_REJECTED);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_fault_reject_probability_one)
{
    cq_sim_config_t c = base_cfg();
    c.faults.reject = 1;
    fx_t *f = fx_new(&c);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.00, 1);
    expect_kind(f, 0, CQ_REPORT_REJECTED, "b1");
    cq_sim_faults_t none = {0};
    ck_assert_int_eq(cq_sim_set_faults(f->sim, &none), 0);
    submit(f, "b2", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.00, 1);
    expect_kind(f, 1, CQ_REPORT_ACCEPTED, "b2");
    fx_free(f);
}
END_TEST

START_TEST(test_sim_fault_drop_probability_is_honoured)
{
    /* 1000 orders, 1000 ACCEPTED reports, drop 0.3: about 300 lost. */
    cq_sim_config_t c = base_cfg();
    c.faults.drop = 0.3;
    fx_t *f = fx_new(&c);
    char id[16];
    for (int k = 0; k < 1000; k++) {
        snprintf(id, sizeof id, "o%d", k);
        cq_order_t o = mk(f, id, BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.00, 1);
        REQUIRE(f->v.ops->submit(f->v.self, &o) == 0);
    }
    go(f);
    cq_sim_stats_t st;
    cq_sim_stats(f->sim, &st);
    ck_assert_uint_eq(st.reports, 1000);
    ck_assert_uint_eq(st.dropped + f->nrep, 1000);
    ck_assert_msg(st.dropped > 240 && st.dropped < 360, "dropped %llu", (unsigned long long)st.dropped);
    fx_free(f);
}
END_TEST

/* ---- determinism ------------------------------------------------------------- */

/* A random session: book changes, trades, orders of every kind, cancels,
 * modifies and queries, over time, driven by rng; seeds faults with `seed`. */
static fx_t *random_session(uint64_t data_seed, uint64_t sim_seed, double fault_p, int steps)
{
    cq_sim_config_t c = base_cfg();
    c.order_latency_ns = 300000;
    c.report_latency_ns = 700000;
    c.maker_fee_bps = -1;
    c.taker_fee_bps = 7.5;
    c.seed = sim_seed;
    c.faults.drop = c.faults.delay = c.faults.reorder = c.faults.duplicate = fault_p;
    c.faults.not_found = c.faults.reject = fault_p / 2;
    c.faults.delay_ns = 3 * MS;
    fx_t *f = fx_new(&c);
    cq_rng_t r = {data_seed * 2654435761ULL + 1};
    int64_t now = T0;
    int64_t mid = 10000; /* ticks */
    char id[16];
    int norders = 0;
    for (int step = 0; step < steps; step++) {
        now += 1 + (int64_t)cq_rng_below(&r, 400000);
        REQUIRE(cq_sim_advance(f->sim, now) == 0);
        unsigned what = cq_rng_below(&r, 100);
        if (what < 30) { /* book: a few levels around mid */
            if (cq_rng_below(&r, 10) == 0)
                mid += (int64_t)cq_rng_below(&r, 5) - 2;
            for (int k = 0; k < 3; k++) {
                int64_t off = 1 + cq_rng_below(&r, 8);
                int32_t side = cq_rng_below(&r, 2) ? CQ_BOOK_BID : CQ_BOOK_ASK;
                int64_t t = side == CQ_BOOK_BID ? mid - off : mid + off;
                int64_t q = cq_rng_below(&r, 4) ? 1 + cq_rng_below(&r, 9) : 0;
                REQUIRE(cq_book_set(f->book, side, t, q) == 0);
            }
            /* keep it uncrossed around mid */
            for (int64_t t = mid; t < mid + 20; t++)
                REQUIRE(cq_book_set(f->book, CQ_BOOK_BID, t, 0) == 0);
            for (int64_t t = mid - 20; t <= mid; t++)
                REQUIRE(cq_book_set(f->book, CQ_BOOK_ASK, t, 0) == 0);
            REQUIRE(cq_sim_on_book(f->sim, f->inst, f->book, now) == 0);
        } else if (what < 50) {
            cq_trade_t t;
            memset(&t, 0, sizeof t);
            t.hdr.instrument = f->inst;
            t.hdr.ts_init = now;
            t.price = (double)(mid - 5 + (int64_t)cq_rng_below(&r, 11)) / 100.0;
            t.qty = 1 + cq_rng_below(&r, 6);
            t.aggressor = (int32_t)cq_rng_below(&r, 3);
            REQUIRE(cq_sim_on_trade(f->sim, &t) == 0);
        } else if (what < 80 || norders == 0) {
            snprintf(id, sizeof id, "o%d", norders++);
            int32_t type = 1 + (int32_t)cq_rng_below(&r, 5);
            cq_order_t o = mk(f, id, 1 + (int32_t)cq_rng_below(&r, 2), type, (int32_t)cq_rng_below(&r, 4),
                              (double)(mid - 6 + (int64_t)cq_rng_below(&r, 13)) / 100.0,
                              1 + cq_rng_below(&r, 8));
            o.trigger_price = (double)(mid - 10 + (int64_t)cq_rng_below(&r, 21)) / 100.0;
            REQUIRE(f->v.ops->submit(f->v.self, &o) == 0);
        } else {
            snprintf(id, sizeof id, "o%d", (int)cq_rng_below(&r, (unsigned)norders));
            cq_order_t o = mk(f, id, BUY, CQ_ORDER_LIMIT, 0, 0, 0);
            unsigned k = cq_rng_below(&r, 4);
            if (k == 0) {
                REQUIRE(f->v.ops->cancel(f->v.self, &o) == 0);
            } else if (k == 1) {
                double px = (double)(mid - 4 + (int64_t)cq_rng_below(&r, 9)) / 100.0;
                double q = 1 + cq_rng_below(&r, 8);
                REQUIRE(f->v.ops->modify(f->v.self, &o, cq_rng_below(&r, 2) ? px : 0,
                                         cq_rng_below(&r, 2) ? q : 0) == 0);
            } else if (k == 2) {
                REQUIRE(f->v.ops->query_order(f->v.self, f->inst, id) == 0);
            } else {
                REQUIRE(f->v.ops->query_open_orders(f->v.self, f->inst) == 0);
            }
        }
    }
    REQUIRE(cq_sim_advance(f->sim, now + 100 * MS) == 0);
    return f;
}

START_TEST(test_sim_same_inputs_and_seed_give_identical_reports)
{
    fx_t *a = random_session(7, 99, 0.2, 3000);
    fx_t *b = random_session(7, 99, 0.2, 3000);
    ck_assert_uint_gt(a->nrep, 1000);
    ck_assert_uint_eq(a->nrep, b->nrep);
    ck_assert(memcmp(a->rep, b->rep, a->nrep * sizeof *a->rep) == 0);
    size_t na, nb;
    const cq_fill_t *fa = cq_sim_fills(a->sim, &na), *fb = cq_sim_fills(b->sim, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_uint_gt(na, 50);
    ck_assert(memcmp(fa, fb, na * sizeof *fa) == 0);
    fx_free(a);
    fx_free(b);
}
END_TEST

START_TEST(test_sim_different_seed_changes_fault_outcomes)
{
    fx_t *a = random_session(7, 99, 0.2, 3000);
    fx_t *b = random_session(7, 100, 0.2, 3000);
    ck_assert(a->nrep != b->nrep || memcmp(a->rep, b->rep, a->nrep * sizeof *a->rep) != 0);
    fx_free(a);
    fx_free(b);
}
END_TEST

/* ---- invariants over a random run (no faults) ---------------------------- */

START_TEST(test_sim_random_run_records_agree_with_reports)
{
    fx_t *f = random_session(3, 5, 0, 6000);
    size_t no = 0, nf = 0;
    const cq_order_t *o = cq_sim_orders(f->sim, &no);
    const cq_fill_t *fl = cq_sim_fills(f->sim, &nf);
    ck_assert_uint_gt(nf, 100);
    /* each fill appears once as a FILL report, in order, same numbers */
    size_t k = 0;
    for (size_t j = 0; j < f->nrep; j++) {
        const cq_exec_report_t *r = &f->rep[j];
        if (r->kind != CQ_REPORT_FILL)
            continue;
        REQUIRE(k < nf);
        REQUIRE(strcmp(r->trade_id, fl[k].trade_id) == 0);
        REQUIRE(r->last_qty == fl[k].qty && r->last_price == fl[k].price);
        REQUIRE(r->cum_qty <= r->qty);
        k++;
    }
    REQUIRE(k == nf);
    /* per order: the fills add up to filled_qty; FILLED exactly when full */
    for (size_t i = 0; i < no; i++) {
        double sum = 0;
        for (size_t j = 0; j < nf; j++)
            if (strcmp(fl[j].client_order_id, o[i].client_order_id) == 0)
                sum += fl[j].qty;
        REQUIRE(sum == o[i].filled_qty);
        REQUIRE(o[i].filled_qty <= o[i].qty);
        REQUIRE((o[i].status == CQ_OS_FILLED) == (o[i].filled_qty == o[i].qty && o[i].qty > 0));
        char want[32];
        snprintf(want, sizeof want, "o%zu", i);
        REQUIRE(strcmp(o[i].client_order_id, want) == 0);
    }
    fx_free(f);
}
END_TEST

START_TEST(test_sim_random_taker_fills_never_exceed_shown_size)
{
    /* Between two changes of a level, our taker fills there add up to at
     * most what it showed. Tracked in the test from the fills and the
     * book's level at each fill time. */
    cq_sim_config_t c = base_cfg();
    fx_t *f = fx_new(&c);
    cq_rng_t r = {12345};
    enum { LO = 9980, HI = 10020 };
    int64_t shown[2][HI - LO], used[2][HI - LO];
    memset(shown, 0, sizeof shown);
    memset(used, 0, sizeof used);
    char id[16];
    int n = 0;
    for (int step = 0; step < 20000; step++) {
        unsigned what = cq_rng_below(&r, 10);
        if (what < 4) {
            int32_t side = cq_rng_below(&r, 2) ? CQ_BOOK_BID : CQ_BOOK_ASK;
            int64_t t = side == CQ_BOOK_BID ? 9990 + cq_rng_below(&r, 10) : 10000 + cq_rng_below(&r, 10);
            int64_t q = cq_rng_below(&r, 3) ? 1 + cq_rng_below(&r, 6) : 0;
            REQUIRE(cq_book_set(f->book, side, t, q) == 0);
            REQUIRE(cq_sim_on_book(f->sim, f->inst, f->book, T0 + step) == 0);
            int s = side == CQ_BOOK_BID ? 0 : 1;
            if (shown[s][t - LO] != q)
                used[s][t - LO] = 0;
            shown[s][t - LO] = q;
        } else {
            snprintf(id, sizeof id, "o%d", n++);
            int32_t side = cq_rng_below(&r, 2) ? BUY : SELL;
            int32_t type = cq_rng_below(&r, 2) ? CQ_ORDER_MARKET : CQ_ORDER_LIMIT;
            double px = (double)(9995 + cq_rng_below(&r, 10)) / 100.0;
            cq_order_t o = mk(f, id, side, type, CQ_TIF_IOC, px, 1 + cq_rng_below(&r, 10));
            size_t before = f->nrep;
            REQUIRE(f->v.ops->submit(f->v.self, &o) == 0);
            REQUIRE(cq_sim_advance(f->sim, T0 + step) == 0);
            for (size_t j = before; j < f->nrep; j++) {
                const cq_exec_report_t *x = &f->rep[j];
                if (x->kind != CQ_REPORT_FILL)
                    continue;
                REQUIRE(x->liquidity == CQ_LIQ_TAKER);
                int s = x->side == BUY ? 1 : 0;
                int64_t t = llround(x->last_price * 100);
                REQUIRE(t >= LO && t < HI);
                used[s][t - LO] += (int64_t)x->last_qty;
                REQUIRE(used[s][t - LO] <= shown[s][t - LO]);
            }
            f->nrep = 0;
        }
    }
    fx_free(f);
}
END_TEST

/* ---- bad input ----------------------------------------------------------- */

START_TEST(test_sim_create_rejects_bad_config)
{
    cq_cache_t *cache = NULL;
    ck_assert_int_eq(cq_cache_create(&cache, NULL), 0);
    cq_sim_t *s = (cq_sim_t *)1;
    cq_sim_config_t c = base_cfg();
    ck_assert_int_eq(cq_sim_create(NULL, &c, cache), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_create(&s, NULL, cache), CQ_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(cq_sim_create(&s, &c, NULL), CQ_EINVAL);
    c.report = NULL;
    ck_assert_int_eq(cq_sim_create(&s, &c, cache), CQ_EINVAL);
    c = base_cfg();
    c.order_latency_ns = -1;
    ck_assert_int_eq(cq_sim_create(&s, &c, cache), CQ_EINVAL);
    c = base_cfg();
    c.report_latency_ns = -1;
    ck_assert_int_eq(cq_sim_create(&s, &c, cache), CQ_EINVAL);
    c = base_cfg();
    c.faults.drop = 1.5;
    ck_assert_int_eq(cq_sim_create(&s, &c, cache), CQ_EINVAL);
    c = base_cfg();
    c.faults.reorder = NAN;
    ck_assert_int_eq(cq_sim_create(&s, &c, cache), CQ_EINVAL);
    c = base_cfg();
    c.faults.reject = -0.1;
    ck_assert_int_eq(cq_sim_create(&s, &c, cache), CQ_EINVAL);
    c = base_cfg();
    c.faults.delay_ns = -5;
    ck_assert_int_eq(cq_sim_create(&s, &c, cache), CQ_EINVAL);
    c = base_cfg();
    c.taker_fee_bps = INFINITY;
    ck_assert_int_eq(cq_sim_create(&s, &c, cache), CQ_EINVAL);
    c = base_cfg();
    c.initial_orders = (1u << 24) + 1;
    ck_assert_int_eq(cq_sim_create(&s, &c, cache), CQ_EINVAL);
    ck_assert_ptr_null(s);
    cq_sim_destroy(NULL);
    cq_cache_destroy(cache);
}
END_TEST

/* initial_orders only reserves: orders past it grow the records as before,
 * and every one keeps its id and place. */
START_TEST(test_sim_orders_past_initial_orders_grow_and_stay_found)
{
    cq_sim_config_t c = base_cfg();
    c.initial_orders = 3;
    fx_t *f = fx_new(&c);
    lv_t bids[] = {{99.0, 10}, {0, 0}}, asks[] = {{101.0, 10}, {0, 0}};
    book(f, bids, asks);
    char id[40];
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "g%d", i);
        submit(f, id, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 98.0, 1);
    }
    ck_assert_int_eq(cq_sim_advance(f->sim, T0 + 1), 0);
    size_t n = 0;
    const cq_order_t *o = cq_sim_orders(f->sim, &n);
    ck_assert_uint_eq(n, 200);
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "g%d", i);
        const cq_order_t *r = cq_sim_order(f->sim, id);
        REQUIRE(r == &o[i]);
        REQUIRE(r->status == CQ_OS_ACCEPTED);
    }
    fx_free(f);
}
END_TEST

START_TEST(test_sim_calls_with_null_are_errors)
{
    fx_t *f = fx_new(NULL);
    cq_venue_t v;
    int64_t due;
    double q;
    cq_sim_stats_t st;
    cq_sim_faults_t fl = {0};
    cq_order_t o = mk(f, "x", BUY, CQ_ORDER_LIMIT, 0, 99.00, 1);
    ck_assert_int_eq(cq_sim_venue(NULL, &v), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_venue(f->sim, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_set_faults(NULL, &fl), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_set_faults(f->sim, NULL), CQ_EINVAL);
    fl.duplicate = 2;
    ck_assert_int_eq(cq_sim_set_faults(f->sim, &fl), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_advance(NULL, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_on_book(NULL, f->inst, f->book, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_on_book(f->sim, f->inst, NULL, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_on_trade(NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_on_trade(f->sim, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_now(NULL), 0);
    ck_assert_int_eq(cq_sim_next_due(NULL, &due), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_next_due(f->sim, NULL), CQ_EINVAL);
    size_t n = 9;
    ck_assert_ptr_null(cq_sim_orders(NULL, &n));
    ck_assert_uint_eq(n, 0);
    n = 9;
    ck_assert_ptr_null(cq_sim_fills(NULL, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(cq_sim_order(NULL, "x"));
    ck_assert_ptr_null(cq_sim_order(f->sim, NULL));
    ck_assert_ptr_null(cq_sim_order(f->sim, "never"));
    ck_assert_int_eq(cq_sim_queue_ahead(NULL, "x", &q), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_queue_ahead(f->sim, NULL, &q), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_queue_ahead(f->sim, "x", NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_queue_ahead(f->sim, "never", &q), CQ_ENOENT);
    ck_assert_int_eq(cq_sim_stats(NULL, &st), CQ_EINVAL);
    ck_assert_int_eq(cq_sim_stats(f->sim, NULL), CQ_EINVAL);
    const cq_venue_ops_t *ops = f->v.ops;
    ck_assert_str_eq(ops->name, "SIM");
    ck_assert_int_eq(ops->submit(NULL, &o), CQ_EINVAL);
    ck_assert_int_eq(ops->submit(f->sim, NULL), CQ_EINVAL);
    ck_assert_int_eq(ops->cancel(NULL, &o), CQ_EINVAL);
    ck_assert_int_eq(ops->cancel(f->sim, NULL), CQ_EINVAL);
    ck_assert_int_eq(ops->modify(NULL, &o, 1, 1), CQ_EINVAL);
    ck_assert_int_eq(ops->modify(f->sim, NULL, 1, 1), CQ_EINVAL);
    ck_assert_int_eq(ops->query_order(NULL, 0, "x"), CQ_EINVAL);
    ck_assert_int_eq(ops->query_order(f->sim, 0, NULL), CQ_EINVAL);
    ck_assert_int_eq(ops->query_open_orders(NULL, 0), CQ_EINVAL);
    ops->close(NULL);
    go(f);
    ck_assert_uint_eq(f->nrep, 0);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_unusable_requests_are_refused_at_the_call)
{
    fx_t *f = fx_new(NULL);
    const cq_venue_ops_t *ops = f->v.ops;
    void *self = f->v.self;
    cq_order_t o = mk(f, "", BUY, CQ_ORDER_LIMIT, 0, 99.00, 1);
    ck_assert_int_eq(ops->submit(self, &o), CQ_EINVAL); /* empty id */
    ck_assert_int_eq(ops->cancel(self, &o), CQ_EINVAL);
    memset(o.client_order_id, 'a', 37);
    ck_assert_int_eq(ops->submit(self, &o), CQ_ETOOLONG);
    memset(o.client_order_id, 'a', sizeof o.client_order_id); /* no NUL */
    ck_assert_int_eq(ops->submit(self, &o), CQ_ETOOLONG);
    ck_assert_int_eq(ops->cancel(self, &o), CQ_ETOOLONG);
    ck_assert_int_eq(ops->modify(self, &o, 1, 1), CQ_ETOOLONG);
    memset(o.client_order_id, 0, sizeof o.client_order_id);
    memset(o.client_order_id, 'a', 36); /* the longest allowed */
    ck_assert_int_eq(ops->submit(self, &o), 0);
    o = mk(f, "x", 0, CQ_ORDER_LIMIT, 0, 99.00, 1);
    ck_assert_int_eq(ops->submit(self, &o), CQ_EINVAL);
    o.side = 3;
    ck_assert_int_eq(ops->submit(self, &o), CQ_EINVAL);
    o = mk(f, "x", BUY, 0, 0, 99.00, 1);
    ck_assert_int_eq(ops->submit(self, &o), CQ_EINVAL);
    o.type = 6;
    ck_assert_int_eq(ops->submit(self, &o), CQ_EINVAL);
    o = mk(f, "x", BUY, CQ_ORDER_LIMIT, 4, 99.00, 1);
    ck_assert_int_eq(ops->submit(self, &o), CQ_EINVAL);
    o.tif = -1;
    ck_assert_int_eq(ops->submit(self, &o), CQ_EINVAL);
    o = mk(f, "x", BUY, CQ_ORDER_LIMIT, 0, NAN, 1);
    ck_assert_int_eq(ops->submit(self, &o), CQ_EINVAL);
    o = mk(f, "x", BUY, CQ_ORDER_LIMIT, 0, 99.00, INFINITY);
    ck_assert_int_eq(ops->submit(self, &o), CQ_EINVAL);
    o = mk(f, "x", BUY, CQ_ORDER_STOP_MARKET, 0, 0, 1);
    o.trigger_price = NAN;
    ck_assert_int_eq(ops->submit(self, &o), CQ_EINVAL);
    o = mk(f, "x", BUY, CQ_ORDER_LIMIT, 0, 99.00, 1);
    ck_assert_int_eq(ops->modify(self, &o, NAN, 0), CQ_EINVAL);
    ck_assert_int_eq(ops->modify(self, &o, 0, -1), CQ_EINVAL);
    ck_assert_int_eq(ops->modify(self, &o, -1, 0), CQ_EINVAL);
    ck_assert_int_eq(ops->query_order(self, 0, ""), CQ_EINVAL);
    go(f);
    ck_assert_uint_eq(f->nrep, 1); /* only the 36-character order */
    fx_free(f);
}
END_TEST

static const char *reject_reason(fx_t *f, cq_order_t *o)
{
    size_t before = f->nrep;
    ck_assert_int_eq(f->v.ops->submit(f->v.self, o), 0);
    go(f);
    ck_assert_uint_eq(f->nrep, before + 1);
    ck_assert_int_eq(f->rep[before].kind, CQ_REPORT_REJECTED);
    ck_assert_int_eq(f->rep[before].status, CQ_OS_REJECTED);
    return f->rep[before].reason;
}

START_TEST(test_sim_venue_rejects_bad_orders_with_reason)
{
    fx_t *f = fx_new(NULL);
    queue_book(f);
    cq_order_t o = mk(f, "r1", BUY, CQ_ORDER_LIMIT, 0, 99.00, 1);
    o.hdr.instrument = 999;
    ck_assert_str_eq(reject_reason(f, &o), "unknown instrument");
    o = mk(f, "r2", BUY, CQ_ORDER_LIMIT, 0, 99.00, 1);
    o.hdr.instrument = 0;
    ck_assert_str_eq(reject_reason(f, &o), "unknown instrument");
    o = mk(f, "r3", BUY, CQ_ORDER_LIMIT, 0, 99.00, 0);
    ck_assert_str_eq(reject_reason(f, &o), "qty must be positive");
    o = mk(f, "r4", BUY, CQ_ORDER_LIMIT, 0, 99.00, -2);
    ck_assert_str_eq(reject_reason(f, &o), "qty must be positive");
    o = mk(f, "r5", BUY, CQ_ORDER_LIMIT, 0, 99.00, 1.5);
    ck_assert_str_eq(reject_reason(f, &o), "qty not on step");
    o = mk(f, "r6", BUY, CQ_ORDER_LIMIT, 0, 99.005, 1);
    ck_assert_str_eq(reject_reason(f, &o), "price not on tick");
    o = mk(f, "r7", BUY, CQ_ORDER_LIMIT, 0, 0, 1);
    ck_assert_str_eq(reject_reason(f, &o), "price must be positive");
    o = mk(f, "r8", BUY, CQ_ORDER_STOP_LIMIT, 0, 99.00, 1);
    ck_assert_str_eq(reject_reason(f, &o), "trigger price must be positive");
    o = mk(f, "r9", BUY, CQ_ORDER_LIMIT, 0, 1e300, 1);
    ck_assert_str_eq(reject_reason(f, &o), "price not on tick");
    /* the records keep them, as REJECTED, without a venue order id */
    ck_assert_int_eq(rec(f, "r5")->status, CQ_OS_REJECTED);
    ck_assert_str_eq(rec(f, "r5")->venue_order_id, "");
    cq_sim_stats_t st;
    cq_sim_stats(f->sim, &st);
    ck_assert_uint_eq(st.rejected, 9);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_venue_applies_instrument_limits)
{
    fx_t *f = fx_new(NULL);
    cq_instrument_t spec = test_spec();
    spec.min_qty = 2;
    spec.max_qty = 10;
    spec.min_notional = 300;
    ck_assert_int_eq(cq_cache_instrument_add(f->cache, &spec, NULL), 0);
    cq_order_t o = mk(f, "a", BUY, CQ_ORDER_LIMIT, 0, 99.00, 1);
    ck_assert_str_eq(reject_reason(f, &o), "qty below min_qty");
    o = mk(f, "b", BUY, CQ_ORDER_LIMIT, 0, 99.00, 11);
    ck_assert_str_eq(reject_reason(f, &o), "qty above max_qty");
    o = mk(f, "c", BUY, CQ_ORDER_LIMIT, 0, 99.00, 3); /* 297 < 300 */
    ck_assert_str_eq(reject_reason(f, &o), "notional below min_notional");
    spec.tradable = 0;
    ck_assert_int_eq(cq_cache_instrument_add(f->cache, &spec, NULL), 0);
    o = mk(f, "d", BUY, CQ_ORDER_LIMIT, 0, 99.00, 5);
    ck_assert_str_eq(reject_reason(f, &o), "instrument not tradable");
    fx_free(f);
}
END_TEST

START_TEST(test_sim_duplicate_client_id_is_rejected_and_not_recorded)
{
    fx_t *f = fx_new(NULL);
    submit(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.00, 1);
    cq_order_t o = mk(f, "b1", SELL, CQ_ORDER_LIMIT, CQ_TIF_GTC, 101.00, 7);
    ck_assert_str_eq(reject_reason(f, &o), "duplicate client order id");
    size_t n = 0;
    cq_sim_orders(f->sim, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(rec(f, "b1")->status, CQ_OS_ACCEPTED);
    ck_assert(rec(f, "b1")->qty == 1);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_market_data_bad_input_is_error)
{
    fx_t *f = fx_new(NULL);
    ck_assert_int_eq(cq_sim_on_book(f->sim, 0, f->book, T0), CQ_ENOENT);
    ck_assert_int_eq(cq_sim_on_book(f->sim, 12345, f->book, T0), CQ_ENOENT);
    cq_trade_t t;
    memset(&t, 0, sizeof t);
    t.hdr.instrument = f->inst;
    t.price = NAN;
    t.qty = 1;
    ck_assert_int_eq(cq_sim_on_trade(f->sim, &t), CQ_EINVAL);
    t.price = 100;
    t.qty = -1;
    ck_assert_int_eq(cq_sim_on_trade(f->sim, &t), CQ_EINVAL);
    t.qty = 1;
    t.hdr.instrument = 77;
    ck_assert_int_eq(cq_sim_on_trade(f->sim, &t), CQ_ENOENT);
    t.hdr.instrument = f->inst;
    t.price = 1e300;
    ck_assert_int_eq(cq_sim_on_trade(f->sim, &t), CQ_EINVAL);
    t.price = 100;
    t.aggressor = 3;
    ck_assert_int_eq(cq_sim_on_trade(f->sim, &t), CQ_EINVAL);
    t.aggressor = -1;
    ck_assert_int_eq(cq_sim_on_trade(f->sim, &t), CQ_EINVAL);
    t.aggressor = CQ_SIDE_SELL;
    ck_assert_int_eq(cq_sim_on_trade(f->sim, &t), 0);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_close_discards_in_flight_and_refuses_calls)
{
    cq_sim_config_t c = latency_cfg();
    fx_t *f = fx_new(&c);
    cq_order_t o = mk(f, "b1", BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.00, 1);
    ck_assert_int_eq(f->v.ops->submit(f->v.self, &o), 0);
    f->v.ops->close(f->v.self);
    f->v.ops->close(f->v.self);
    ck_assert_int_eq(f->v.ops->submit(f->v.self, &o), CQ_ECLOSED);
    ck_assert_int_eq(f->v.ops->cancel(f->v.self, &o), CQ_ECLOSED);
    ck_assert_int_eq(f->v.ops->query_open_orders(f->v.self, 0), CQ_ECLOSED);
    ck_assert_int_eq(cq_sim_advance(f->sim, T0 + 100 * MS), CQ_ECLOSED);
    ck_assert_int_eq(cq_sim_on_book(f->sim, f->inst, f->book, T0), CQ_ECLOSED);
    ck_assert_uint_eq(f->nrep, 0);
    int64_t due;
    ck_assert_int_eq(cq_sim_next_due(f->sim, &due), CQ_ENOENT);
    fx_free(f);
}
END_TEST

START_TEST(test_sim_hostile_garbage_orders_never_crash)
{
    /* Random bytes as orders, random modifies and queries: every call
     * returns a code, every accepted request gets an answer, records stay
     * sane. */
    fx_t *f = fx_new(NULL);
    ladder(f);
    cq_rng_t r = {777};
    for (int k = 0; k < 5000; k++) {
        cq_order_t o;
        unsigned char *p = (unsigned char *)&o;
        for (size_t j = 0; j < sizeof o; j++)
            p[j] = (unsigned char)cq_rng_next(&r);
        if (k % 2) { /* half of them structurally fine, with wild values */
            snprintf(o.client_order_id, sizeof o.client_order_id, "g%d", k % 300);
            o.side = 1 + (int32_t)cq_rng_below(&r, 2);
            o.type = 1 + (int32_t)cq_rng_below(&r, 5);
            o.tif = (int32_t)cq_rng_below(&r, 4);
            double wild[] = {0, -1, 1e-300, 1e300, 100.00, 100.011, 3, 1e15};
            o.price = wild[cq_rng_below(&r, 8)];
            o.qty = wild[cq_rng_below(&r, 8)];
            o.trigger_price = wild[cq_rng_below(&r, 8)];
            o.hdr.instrument = cq_rng_below(&r, 3) ? f->inst : (uint32_t)cq_rng_next(&r);
        }
        int rc = f->v.ops->submit(f->v.self, &o);
        REQUIRE(rc == 0 || rc == CQ_EINVAL || rc == CQ_ETOOLONG);
        rc = f->v.ops->modify(f->v.self, &o, o.price, o.qty);
        REQUIRE(rc == 0 || rc == CQ_EINVAL || rc == CQ_ETOOLONG);
        rc = f->v.ops->query_order(f->v.self, o.hdr.instrument, o.client_order_id);
        REQUIRE(rc == 0 || rc == CQ_EINVAL || rc == CQ_ETOOLONG);
        REQUIRE(cq_sim_advance(f->sim, T0 + k) == 0);
        f->nrep = 0;
    }
    size_t n = 0;
    const cq_order_t *o = cq_sim_orders(f->sim, &n);
    ck_assert_uint_gt(n, 0);
    for (size_t i = 0; i < n; i++)
        REQUIRE(o[i].filled_qty <= o[i].qty || o[i].status == CQ_OS_REJECTED);
    fx_free(f);
}
END_TEST

static Suite *sim_suite(void)
{
    Suite *s = suite_create("sim_venue");
    TCase *tc = tcase_create("fill_model");
    tcase_add_test(tc, test_sim_market_buy_walks_three_levels);
    tcase_add_test(tc, test_sim_market_sell_walks_bids);
    tcase_add_test(tc, test_sim_market_remainder_expires_when_book_exhausted);
    tcase_add_test(tc, test_sim_market_order_without_book_expires);
    tcase_add_test(tc, test_sim_market_walk_beyond_first_copied_levels);
    tcase_add_test(tc, test_sim_crossing_limit_fills_then_rests);
    tcase_add_test(tc, test_sim_limit_not_crossing_rests_without_fill);
    tcase_add_test(tc, test_sim_ioc_remainder_expires);
    tcase_add_test(tc, test_sim_fok_without_enough_liquidity_expires_unfilled);
    tcase_add_test(tc, test_sim_fok_with_enough_liquidity_fills_entirely);
    tcase_add_test(tc, test_sim_market_fok_expires_when_book_too_thin);
    tcase_add_test(tc, test_sim_post_only_that_would_cross_is_rejected);
    tcase_add_test(tc, test_sim_post_only_may_join_a_level_we_emptied);
    tcase_add_test(tc, test_sim_queue_trades_at_price_fill_after_queue_ahead);
    tcase_add_test(tc, test_sim_queue_ignores_trades_at_other_prices_and_same_side_aggressor);
    tcase_add_test(tc, test_sim_queue_trade_without_aggressor_counts);
    tcase_add_test(tc, test_sim_queue_level_shrink_reduces_queue_ahead);
    tcase_add_test(tc, test_sim_queue_level_cancels_above_queue_ahead_keep_position);
    tcase_add_test(tc, test_sim_queue_two_own_orders_keep_time_priority);
    tcase_add_test(tc, test_sim_book_moving_through_price_fills_as_maker);
    tcase_add_test(tc, test_sim_book_through_fills_best_priced_order_first);
    tcase_add_test(tc, test_sim_own_fills_consume_liquidity_until_level_updates);
    tcase_add_test(tc, test_sim_own_liquidity_resets_when_level_changes_and_changes_back);
    tcase_add_test(tc, test_sim_cancel_resting_order);
    tcase_add_test(tc, test_sim_cancel_closed_order_is_cancel_rejected);
    tcase_add_test(tc, test_sim_cancel_unknown_order_is_cancel_rejected);
    tcase_add_test(tc, test_sim_modify_smaller_qty_keeps_queue_place);
    tcase_add_test(tc, test_sim_modify_larger_qty_goes_to_back_of_queue);
    tcase_add_test(tc, test_sim_modify_price_requeues_at_new_level);
    tcase_add_test(tc, test_sim_modify_to_crossing_price_takes);
    tcase_add_test(tc, test_sim_modify_rejections);
    tcase_add_test(tc, test_sim_stop_market_triggers_on_trade_at_trigger);
    tcase_add_test(tc, test_sim_stop_limit_triggers_on_book_and_rests_remainder);
    tcase_add_test(tc, test_sim_stop_that_would_trigger_at_once_is_rejected);
    tcase_add_test(tc, test_sim_waiting_stop_can_be_canceled);
    tcase_add_test(tc, test_sim_modify_waiting_stop_changes_it_without_matching);
    tcase_add_test(tc, test_sim_fees_taker_and_maker_in_quote_asset);
    suite_add_tcase(s, tc);

    tc = tcase_create("time_and_queries");
    tcase_add_test(tc, test_sim_latency_ack_arrives_after_both_latencies);
    tcase_add_test(tc, test_sim_latency_cancel_arriving_after_fill_is_rejected);
    tcase_add_test(tc, test_sim_latency_cancel_arriving_before_trade_wins);
    tcase_add_test(tc, test_sim_market_event_processes_due_requests_first);
    tcase_add_test(tc, test_sim_time_never_goes_back);
    tcase_add_test(tc, test_sim_callback_may_submit_but_not_advance);
    tcase_add_test(tc, test_sim_query_order_answers_status);
    tcase_add_test(tc, test_sim_query_finds_rejected_order);
    tcase_add_test(tc, test_sim_query_open_orders_lists_only_open);
    suite_add_tcase(s, tc);

    tc = tcase_create("faults");
    tcase_add_test(tc, test_sim_fault_drop_loses_reports_not_records);
    tcase_add_test(tc, test_sim_fault_delay_adds_latency);
    tcase_add_test(tc, test_sim_fault_duplicate_delivers_twice);
    tcase_add_test(tc, test_sim_fault_reorder_swaps_with_previous_report);
    tcase_add_test(tc, test_sim_fault_not_found_next_n_queries);
    tcase_add_test(tc, test_sim_fault_not_found_probability_one);
    tcase_add_test(tc, test_sim_fault_reject_next_n_orders);
    tcase_add_test(tc, test_sim_fault_reject_probability_one);
    tcase_add_test(tc, test_sim_fault_drop_probability_is_honoured);
    tcase_add_test(tc, test_sim_same_inputs_and_seed_give_identical_reports);
    tcase_add_test(tc, test_sim_different_seed_changes_fault_outcomes);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_input_and_random");
    tcase_add_test(tc, test_sim_create_rejects_bad_config);
    tcase_add_test(tc, test_sim_orders_past_initial_orders_grow_and_stay_found);
    tcase_add_test(tc, test_sim_calls_with_null_are_errors);
    tcase_add_test(tc, test_sim_unusable_requests_are_refused_at_the_call);
    tcase_add_test(tc, test_sim_venue_rejects_bad_orders_with_reason);
    tcase_add_test(tc, test_sim_venue_applies_instrument_limits);
    tcase_add_test(tc, test_sim_duplicate_client_id_is_rejected_and_not_recorded);
    tcase_add_test(tc, test_sim_market_data_bad_input_is_error);
    tcase_add_test(tc, test_sim_close_discards_in_flight_and_refuses_calls);
    tcase_add_test(tc, test_sim_hostile_garbage_orders_never_crash);
    tcase_add_test(tc, test_sim_random_run_records_agree_with_reports);
    tcase_add_test(tc, test_sim_random_taker_fills_never_exceed_shown_size);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cq_test_run(sim_suite());
}
