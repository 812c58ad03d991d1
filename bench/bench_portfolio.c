/*
 * bench_portfolio.c - cost of accounting one fill, and of the order state
 * machine's events.
 *
 * portfolio.apply_fill: a pre-generated cycle of 1024 fills on the grid
 * (4 instruments x 4 strategies, random sides, prices around a drifting
 * mid, quantities of 1-4000 steps; 70% of fees in the quote asset, 10% in
 * BNB, 20% none), applied to warm positions and balances, with one no-op
 * subscriber on events.position.* and one on events.account.* (a fill
 * publishes the position and two or three balances). Includes conversion
 * to ticks and steps, the average-cost update, balances, recomputing the
 * cache's doubles and the publishes. The .nosub variant has no subscribers.
 *
 * order.apply.fill: cq_order_apply of a one-step FILL on a large working
 * order (exact step accounting, average fill price).
 * order.apply.cancel_pair: CANCEL_REQUEST then CANCEL_REJECT, per event.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cquant/bus.h"
#include "cquant/cache.h"
#include "cquant/order.h"
#include "cquant/portfolio.h"

#define N_INST 4
#define N_STRAT 4
#define N_SEQ (1u << 10)  /* 200 KB of fills: in cache, as a fill just built from a report is */

typedef struct {
    cq_bus_t *bus;
    cq_cache_t *cache;
    cq_portfolio_t *pf;
    cq_fill_t *fills;
    cq_order_t order;
    cq_instrument_t spec;
} ctx_t;

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static void noop(void *user, cq_topic_t t, const void *msg)
{
    CQ_BENCH_USE(msg);
}

static void bench_apply_fill(void *p, uint64_t n)
{
    ctx_t *x = p;
    for (uint64_t i = 0; i < n; i++)
        if (cq_portfolio_apply_fill(x->pf, &x->fills[i & (N_SEQ - 1)]) != 0)
            abort();
}

static void bench_order_fill(void *p, uint64_t n)
{
    ctx_t *x = p;
    x->order.status = CQ_OS_ACCEPTED;
    x->order.filled_qty = 0;
    cq_order_change_t c = {.instrument = &x->spec, .last_qty = 0.001, .last_price = 100.25, .fee = 0.01};
    for (uint64_t i = 0; i < n; i++)
        if (cq_order_apply(&x->order, CQ_OE_FILL, &c, NULL, NULL) != 0)
            abort();
    CQ_BENCH_USE(x->order.filled_qty);
}

static void bench_order_cancel_pair(void *p, uint64_t n)
{
    ctx_t *x = p;
    x->order.status = CQ_OS_ACCEPTED;
    for (uint64_t i = 0; i < n / 2; i++) {
        if (cq_order_apply(&x->order, CQ_OE_CANCEL_REQUEST, NULL, NULL, NULL) != 0 ||
            cq_order_apply(&x->order, CQ_OE_CANCEL_REJECT, NULL, NULL, NULL) != 0)
            abort();
    }
}

static int setup(ctx_t *x, int subscribe)
{
    if (cq_bus_create(&x->bus) < 0 || cq_cache_create(&x->cache, NULL) < 0 ||
        cq_portfolio_create(&x->pf, x->bus, x->cache, NULL) < 0)
        return -1;
    if (subscribe && (cq_bus_subscribe(x->bus, "events.position.*", 0, noop, NULL, NULL) < 0 ||
                      cq_bus_subscribe(x->bus, "events.account.*", 0, noop, NULL, NULL) < 0))
        return -1;
    static const char *const syms[N_INST] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"};
    static const char *const bases[N_INST] = {"BTC", "ETH", "SOL", "XRP"};
    uint32_t inst[N_INST], strat[N_STRAT];
    for (int i = 0; i < N_INST; i++) {
        cq_instrument_t s;
        memset(&s, 0, sizeof s);
        snprintf(s.id, sizeof s.id, "%s.SIM", syms[i]);
        snprintf(s.symbol, sizeof s.symbol, "%s", syms[i]);
        snprintf(s.venue, sizeof s.venue, "SIM");
        snprintf(s.base, sizeof s.base, "%s", bases[i]);
        snprintf(s.quote, sizeof s.quote, "USDT");
        s.tick_units = 1;
        s.price_precision = 2;
        s.step_units = 1;
        s.size_precision = 5;
        if (cq_cache_instrument_add(x->cache, &s, &inst[i]) < 0)
            return -1;
        if (i == 0)
            x->spec = s, x->spec.hdr.instrument = inst[0];
    }
    for (int i = 0; i < N_STRAT; i++) {
        char name[32];
        snprintf(name, sizeof name, "strat%d", i);
        if (cq_cache_strategy_intern(x->cache, name, &strat[i]) < 0)
            return -1;
    }
    if (cq_portfolio_set_balance(x->pf, "SIM", "USDT", 1e7) < 0)
        return -1;
    x->fills = calloc(N_SEQ, sizeof *x->fills);
    if (!x->fills)
        return -1;
    int64_t mid = 6000000; /* 60000.00 */
    for (uint32_t i = 0; i < N_SEQ; i++) {
        cq_fill_t *f = &x->fills[i];
        f->hdr.type = CQ_EV_FILL;
        f->hdr.instrument = inst[rng() % N_INST];
        f->hdr.strategy = strat[rng() % N_STRAT];
        f->side = rng() & 1 ? CQ_SIDE_BUY : CQ_SIDE_SELL;
        mid += (int64_t)(rng() % 21) - 10;
        int64_t ticks = mid + (int64_t)(rng() % 101) - 50;
        int64_t steps = 1 + (int64_t)(rng() % 4000);
        f->price = (double)ticks / 100.0;
        f->qty = (double)steps / 100000.0;
        unsigned r = (unsigned)(rng() % 10);
        if (r < 7) {
            f->fee = round(f->price * f->qty * 0.001 * 1e8) / 1e8;
            strcpy(f->fee_asset, "USDT");
        } else if (r == 7) {
            f->fee = 0.00012345;
            strcpy(f->fee_asset, "BNB");
        }
    }
    memset(&x->order, 0, sizeof x->order);
    x->order.hdr.instrument = inst[0];
    x->order.side = CQ_SIDE_BUY;
    x->order.type = CQ_ORDER_LIMIT;
    x->order.tif = CQ_TIF_GTC;
    x->order.price = 100.25;
    x->order.qty = 1e6; /* 1e11 steps: never completes here */
    return 0;
}

static void teardown(ctx_t *x)
{
    free(x->fills);
    cq_portfolio_destroy(x->pf);
    cq_cache_destroy(x->cache);
    cq_bus_destroy(x->bus);
}

int main(void)
{
    ctx_t x;
    memset(&x, 0, sizeof x);
    if (setup(&x, 1) < 0) {
        fprintf(stderr, "bench_portfolio: setup failed\n");
        return 1;
    }
    const uint64_t n = 2000000;
    cq_bench_print("portfolio.apply_fill", cq_bench_run(bench_apply_fill, &x, n), n, 0);
    cq_bench_print("order.apply.fill", cq_bench_run(bench_order_fill, &x, n), n, 0);
    cq_bench_print("order.apply.cancel_pair", cq_bench_run(bench_order_cancel_pair, &x, n), n, 0);
    teardown(&x);

    memset(&x, 0, sizeof x);
    if (setup(&x, 0) < 0) {
        fprintf(stderr, "bench_portfolio: setup failed\n");
        return 1;
    }
    cq_bench_print("portfolio.apply_fill.nosub", cq_bench_run(bench_apply_fill, &x, n), n, 0);
    teardown(&x);
    return 0;
}
