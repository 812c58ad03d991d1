/*
 * test_portfolio.c - positions and balances from fills: the hand-worked
 * examples of docs/portfolio.md (open, add, reduce, flip, close, rounding,
 * fees, balances, marks), what is published, bad input, and 1,000,000
 * random fills compared with a reference written here from the documented
 * rules in exact rational arithmetic (fixed-denominator rationals built from
 * the fills' decimal text, sharing no code with the implementation).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/error.h"
#include "cquant/portfolio.h"
#include "support/cq_test.h"

typedef __int128 i128;

/* ---- fixture ---------------------------------------------------------------- */

typedef struct {
    int positions, balances;
    const cq_position_t *last_pos;
    const cq_balance_t *last_bal[4];
} seen_t;

typedef struct {
    cq_bus_t *bus;
    cq_cache_t *cache;
    cq_portfolio_t *pf;
    uint32_t inst, strat;
    seen_t seen;
} fx_t;

static void on_position(void *user, cq_topic_t t, const void *msg)
{
    seen_t *s = user;
    s->positions++;
    s->last_pos = msg;
}

static void on_balance(void *user, cq_topic_t t, const void *msg)
{
    seen_t *s = user;
    s->last_bal[s->balances++ % 4] = msg;
}

static cq_instrument_t make_spec(const char *symbol, const char *base, const char *quote,
                                 int64_t tick_units, int32_t pp, int64_t step_units, int32_t sp)
{
    cq_instrument_t s;
    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "%s.SIM", symbol);
    snprintf(s.symbol, sizeof s.symbol, "%s", symbol);
    snprintf(s.venue, sizeof s.venue, "SIM");
    snprintf(s.base, sizeof s.base, "%s", base);
    snprintf(s.quote, sizeof s.quote, "%s", quote);
    s.tick_units = tick_units;
    s.price_precision = pp;
    s.tick_size = (double)tick_units / pow(10, pp);
    s.step_units = step_units;
    s.size_precision = sp;
    s.step_size = (double)step_units / pow(10, sp);
    s.tradable = 1;
    return s;
}

/* BTCUSDT.SIM: tick 0.01, step 0.001 (S = 5), strategy "alpha". */
static void fx_init_spec(fx_t *fx, const cq_instrument_t *spec)
{
    memset(fx, 0, sizeof *fx);
    ck_assert_int_eq(cq_bus_create(&fx->bus), 0);
    ck_assert_int_eq(cq_cache_create(&fx->cache, NULL), 0);
    ck_assert_int_eq(cq_portfolio_create(&fx->pf, fx->bus, fx->cache, NULL), 0);
    ck_assert_int_eq(cq_cache_instrument_add(fx->cache, spec, &fx->inst), 0);
    ck_assert_int_eq(cq_cache_strategy_intern(fx->cache, "alpha", &fx->strat), 0);
    ck_assert_int_eq(cq_bus_subscribe(fx->bus, "events.position.*", 0, on_position, &fx->seen, NULL), 0);
    ck_assert_int_eq(cq_bus_subscribe(fx->bus, "events.account.*", 0, on_balance, &fx->seen, NULL), 0);
}

static void fx_init(fx_t *fx)
{
    cq_instrument_t spec = make_spec("BTCUSDT", "BTC", "USDT", 1, 2, 1, 3);
    fx_init_spec(fx, &spec);
}

static void fx_free(fx_t *fx)
{
    cq_portfolio_destroy(fx->pf);
    cq_cache_destroy(fx->cache);
    cq_bus_destroy(fx->bus);
}

static cq_fill_t mk_fill(const fx_t *fx, int32_t side, double price, double qty, double fee, const char *asset)
{
    cq_fill_t f;
    memset(&f, 0, sizeof f);
    f.hdr.type = CQ_EV_FILL;
    f.hdr.instrument = fx->inst;
    f.hdr.strategy = fx->strat;
    f.hdr.ts_event = 1700000000000000000;
    f.side = side;
    f.price = price;
    f.qty = qty;
    f.fee = fee;
    snprintf(f.fee_asset, sizeof f.fee_asset, "%s", asset ? asset : "");
    snprintf(f.trade_id, sizeof f.trade_id, "t1");
    return f;
}

static int fill(fx_t *fx, int32_t side, double price, double qty)
{
    cq_fill_t f = mk_fill(fx, side, price, qty, 0, NULL);
    return cq_portfolio_apply_fill(fx->pf, &f);
}

static cq_position_exact_t exact(const fx_t *fx)
{
    cq_position_exact_t e;
    ck_assert_int_eq(cq_portfolio_position_exact(fx->pf, fx->inst, fx->strat, &e), 0);
    return e;
}

static const cq_position_t *pos(const fx_t *fx)
{
    const cq_position_t *p = cq_cache_position(fx->cache, fx->inst, fx->strat);
    ck_assert_ptr_nonnull(p);
    return p;
}

static i128 bal_total(const fx_t *fx, const char *asset)
{
    cq_balance_exact_t b;
    ck_assert_int_eq(cq_portfolio_balance_exact(fx->pf, "SIM", asset, &b), 0);
    return b.total;
}

static i128 bal_fees(const fx_t *fx, const char *asset)
{
    cq_balance_exact_t b;
    ck_assert_int_eq(cq_portfolio_balance_exact(fx->pf, "SIM", asset, &b), 0);
    return b.fees;
}

#define E18 ((i128)1000000000000000000LL)

/* ---- the worked example of docs/portfolio.md -------------------------------------
 * Units: price 10^-2, qty 10^-3, money 10^-5 (S = 5). */

START_TEST(test_portfolio_open_long_sets_cost_and_average)
{
    fx_t fx;
    fx_init(&fx);
    ck_assert_int_eq(fill(&fx, CQ_SIDE_BUY, 100.00, 2.000), 0);
    cq_position_exact_t e = exact(&fx);
    ck_assert_int_eq(e.qty_steps, 2000);
    ck_assert_int_eq(e.scale, 5);
    ck_assert(e.cost == 20000000);   /* 200.00000 */
    ck_assert(e.realized == 0);
    ck_assert(pos(&fx)->qty == 2.0);
    ck_assert(pos(&fx)->avg_price == 100.0);
    ck_assert_int_eq(pos(&fx)->qty_steps, 2000);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_add_weights_the_average_cost)
{
    fx_t fx;
    fx_init(&fx);
    fill(&fx, CQ_SIDE_BUY, 100.00, 2.000);
    ck_assert_int_eq(fill(&fx, CQ_SIDE_BUY, 103.00, 1.000), 0);
    cq_position_exact_t e = exact(&fx);
    ck_assert_int_eq(e.qty_steps, 3000);
    ck_assert(e.cost == 30300000);   /* 303.00 */
    ck_assert(pos(&fx)->avg_price == 101.0);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_reduce_realizes_against_the_average_and_keeps_it)
{
    fx_t fx;
    fx_init(&fx);
    fill(&fx, CQ_SIDE_BUY, 100.00, 2.000);
    fill(&fx, CQ_SIDE_BUY, 103.00, 1.000);
    ck_assert_int_eq(fill(&fx, CQ_SIDE_SELL, 105.00, 1.500), 0);
    cq_position_exact_t e = exact(&fx);
    ck_assert_int_eq(e.qty_steps, 1500);
    ck_assert(e.cost == 15150000);   /* 151.50 released 151.50 */
    ck_assert(e.realized == 600000); /* 157.50 - 151.50 = 6.00 */
    ck_assert(pos(&fx)->avg_price == 101.0);
    ck_assert(pos(&fx)->realized_pnl == 6.0);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_flip_realizes_the_closed_part_and_opens_the_rest_at_the_fill)
{
    fx_t fx;
    fx_init(&fx);
    fill(&fx, CQ_SIDE_BUY, 100.00, 2.000);
    fill(&fx, CQ_SIDE_BUY, 103.00, 1.000);
    fill(&fx, CQ_SIDE_SELL, 105.00, 1.500);
    ck_assert_int_eq(fill(&fx, CQ_SIDE_SELL, 99.00, 2.500), 0);
    cq_position_exact_t e = exact(&fx);
    ck_assert_int_eq(e.qty_steps, -1000);
    ck_assert(e.cost == 9900000);    /* short 1.000 at 99.00 */
    ck_assert(e.realized == 300000); /* 6.00 + (148.50 - 151.50) */
    ck_assert(pos(&fx)->qty == -1.0);
    ck_assert(pos(&fx)->avg_price == 99.0);
    ck_assert(pos(&fx)->realized_pnl == 3.0);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_close_short_realizes_and_resets_the_average)
{
    fx_t fx;
    fx_init(&fx);
    fill(&fx, CQ_SIDE_BUY, 100.00, 2.000);
    fill(&fx, CQ_SIDE_BUY, 103.00, 1.000);
    fill(&fx, CQ_SIDE_SELL, 105.00, 1.500);
    fill(&fx, CQ_SIDE_SELL, 99.00, 2.500);
    ck_assert_int_eq(fill(&fx, CQ_SIDE_BUY, 97.00, 1.000), 0);
    cq_position_exact_t e = exact(&fx);
    ck_assert_int_eq(e.qty_steps, 0);
    ck_assert(e.cost == 0);
    ck_assert(e.realized == 500000); /* 3.00 + (99.00 - 97.00) */
    ck_assert(pos(&fx)->qty == 0.0);
    ck_assert(pos(&fx)->avg_price == 0.0);
    ck_assert(pos(&fx)->realized_pnl == 5.0);
    ck_assert(pos(&fx)->unrealized_pnl == 0.0);
    /* flat: realized is the cash flow: -200 - 103 + 157.5 + 247.5 - 97 */
    ck_assert(e.realized == -20000000 - 10300000 + 15750000 + 24750000 - 9700000);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_worked_example_balances_and_mark_match_the_doc)
{
    fx_t fx;
    fx_init(&fx);
    ck_assert_int_eq(cq_portfolio_set_balance(fx.pf, "SIM", "USDT", 1000.0), 0);
    static const struct { int32_t side; double px, qty, usdt, btc; } steps[] = {
        {CQ_SIDE_BUY, 100.00, 2.000, 800.00, 2.0},   {CQ_SIDE_BUY, 103.00, 1.000, 697.00, 3.0},
        {CQ_SIDE_SELL, 105.00, 1.500, 854.50, 1.5},  {CQ_SIDE_SELL, 99.00, 2.500, 1102.00, -1.0},
        {CQ_SIDE_BUY, 97.00, 1.000, 1005.00, 0.0},
    };
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(fill(&fx, steps[i].side, steps[i].px, steps[i].qty), 0);
        ck_assert(cq_cache_balance(fx.cache, "SIM", "USDT")->total == steps[i].usdt);
        ck_assert(cq_cache_balance(fx.cache, "SIM", "BTC")->total == steps[i].btc);
        if (i == 2) {
            ck_assert_int_eq(cq_portfolio_mark(fx.pf, fx.inst, 104.00), 0);
            ck_assert(pos(&fx)->unrealized_pnl == 4.5);
        }
    }
    ck_assert(bal_total(&fx, "USDT") == 1005 * E18);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_reopen_after_flat_starts_a_new_average)
{
    fx_t fx;
    fx_init(&fx);
    fill(&fx, CQ_SIDE_BUY, 100.00, 1.000);
    fill(&fx, CQ_SIDE_SELL, 110.00, 1.000);
    fill(&fx, CQ_SIDE_SELL, 50.00, 0.500);
    cq_position_exact_t e = exact(&fx);
    ck_assert_int_eq(e.qty_steps, -500);
    ck_assert(e.cost == 2500000);
    ck_assert(e.realized == 1000000);
    ck_assert(pos(&fx)->avg_price == 50.0);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_release_rounds_to_nearest_unit_ties_to_even)
{
    fx_t fx;
    fx_init(&fx);
    fill(&fx, CQ_SIDE_BUY, 100.00, 0.001);
    fill(&fx, CQ_SIDE_BUY, 100.01, 0.002);        /* cost 10000 + 20002 = 30002 */
    ck_assert(exact(&fx).cost == 30002);
    fill(&fx, CQ_SIDE_SELL, 100.02, 0.001);       /* 30002/3 = 10000.67 -> 10001 */
    cq_position_exact_t e = exact(&fx);
    ck_assert(e.cost == 20001);
    ck_assert(e.realized == 1);                   /* 10002 - 10001 */
    fill(&fx, CQ_SIDE_SELL, 100.02, 0.001);       /* 20001/2 = 10000.5 -> 10000 (even) */
    e = exact(&fx);
    ck_assert(e.cost == 10001);
    ck_assert(e.realized == 3);
    fill(&fx, CQ_SIDE_SELL, 100.02, 0.001);       /* the rest: 10001 */
    e = exact(&fx);
    ck_assert(e.cost == 0);
    ck_assert(e.realized == 4);                   /* = 30006 - 30002 exactly */
    ck_assert(pos(&fx)->realized_pnl == 0.00004);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_odd_tie_rounds_up_to_even)
{
    fx_t fx;
    fx_init(&fx);
    fill(&fx, CQ_SIDE_BUY, 100.00, 0.001);
    fill(&fx, CQ_SIDE_BUY, 100.03, 0.001);        /* cost 20003 */
    fill(&fx, CQ_SIDE_SELL, 100.00, 0.001);       /* 20003/2 = 10001.5 -> 10002 (even) */
    cq_position_exact_t e = exact(&fx);
    ck_assert(e.cost == 10001);
    ck_assert(e.realized == 10000 - 10002);
    fx_free(&fx);
}
END_TEST

/* ---- fees and balances ---------------------------------------------------------------- */

START_TEST(test_portfolio_balances_move_with_fills_and_quote_fees)
{
    fx_t fx;
    fx_init(&fx);
    ck_assert_int_eq(cq_portfolio_set_balance(fx.pf, "SIM", "USDT", 1000.0), 0);
    cq_fill_t f = mk_fill(&fx, CQ_SIDE_BUY, 100.00, 2.000, 0.2, "USDT");
    ck_assert_int_eq(cq_portfolio_apply_fill(fx.pf, &f), 0);
    ck_assert(bal_total(&fx, "USDT") == 7998 * E18 / 10); /* 1000 - 200 - 0.2 */
    ck_assert(bal_total(&fx, "BTC") == 2 * E18);
    f = mk_fill(&fx, CQ_SIDE_SELL, 110.00, 1.000, 0.11, "USDT");
    ck_assert_int_eq(cq_portfolio_apply_fill(fx.pf, &f), 0);
    ck_assert(bal_total(&fx, "USDT") == 90969 * E18 / 100); /* 799.8 + 110 - 0.11 */
    ck_assert(bal_total(&fx, "BTC") == 1 * E18);
    ck_assert(bal_fees(&fx, "USDT") == 31 * E18 / 100);
    ck_assert(exact(&fx).fees == 31 * E18 / 100);
    ck_assert(pos(&fx)->fees == 0.31);
    ck_assert(pos(&fx)->realized_pnl == 10.0); /* gross of fees */
    const cq_balance_t *b = cq_cache_balance(fx.cache, "SIM", "USDT");
    ck_assert(b->total == 909.69);
    ck_assert(b->free == 909.69);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_fee_in_base_asset_reduces_base_balance_not_position)
{
    fx_t fx;
    fx_init(&fx);
    cq_fill_t f = mk_fill(&fx, CQ_SIDE_BUY, 100.00, 1.000, 0.001, "BTC");
    ck_assert_int_eq(cq_portfolio_apply_fill(fx.pf, &f), 0);
    ck_assert(bal_total(&fx, "BTC") == 999 * E18 / 1000);
    ck_assert(bal_fees(&fx, "BTC") == E18 / 1000);
    ck_assert_int_eq(exact(&fx).qty_steps, 1000);
    ck_assert(exact(&fx).fees == 0);
    ck_assert(pos(&fx)->fees == 0.0);
    ck_assert(cq_cache_balance(fx.cache, "SIM", "BTC")->total == 0.999);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_fee_in_third_asset_keeps_its_own_balance_and_total)
{
    fx_t fx;
    fx_init(&fx);
    ck_assert_int_eq(cq_portfolio_set_balance_units(fx.pf, "SIM", "BNB", 5, 0), 0);
    cq_fill_t f = mk_fill(&fx, CQ_SIDE_BUY, 100.00, 1.000, 0.00012345, "BNB");
    ck_assert_int_eq(cq_portfolio_apply_fill(fx.pf, &f), 0);
    f = mk_fill(&fx, CQ_SIDE_SELL, 100.00, 1.000, 0.00012345, "BNB");
    ck_assert_int_eq(cq_portfolio_apply_fill(fx.pf, &f), 0);
    ck_assert(bal_total(&fx, "BNB") == 5 * E18 - 24690 * (E18 / 100000000));
    ck_assert(bal_fees(&fx, "BNB") == 24690 * (E18 / 100000000));
    ck_assert(bal_total(&fx, "USDT") == 0);
    ck_assert(exact(&fx).fees == 0);
    ck_assert(cq_cache_balance(fx.cache, "SIM", "BNB")->total == 4.9997531);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_maker_rebate_is_a_negative_fee)
{
    fx_t fx;
    fx_init(&fx);
    cq_fill_t f = mk_fill(&fx, CQ_SIDE_SELL, 100.00, 1.000, -0.01, "USDT");
    ck_assert_int_eq(cq_portfolio_apply_fill(fx.pf, &f), 0);
    ck_assert(bal_total(&fx, "USDT") == 10001 * E18 / 100);
    ck_assert(exact(&fx).fees == -E18 / 100);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_fee_with_double_noise_is_taken_as_its_decimal)
{
    fx_t fx;
    fx_init(&fx);
    double fee = 61837.63 * 0.00123 * 0.001; /* 0.07606028490 up to double noise */
    cq_fill_t f = mk_fill(&fx, CQ_SIDE_BUY, 100.00, 1.000, fee, "USDT");
    ck_assert_int_eq(cq_portfolio_apply_fill(fx.pf, &f), 0);
    ck_assert(exact(&fx).fees == (i128)7606028490LL * 10000000);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_existing_cache_balance_is_adopted)
{
    fx_t fx;
    fx_init(&fx);
    cq_balance_t *b;
    ck_assert_int_eq(cq_cache_balance_get(fx.cache, "SIM", "USDT", &b), 0);
    b->total = 250.5;
    b->locked = 50.5;
    ck_assert_int_eq(fill(&fx, CQ_SIDE_BUY, 100.00, 1.000), 0);
    ck_assert(bal_total(&fx, "USDT") == 1505 * E18 / 10);
    ck_assert(b->total == 150.5);
    ck_assert(b->free == 100.0);    /* total - locked; locked untouched */
    ck_assert(b->locked == 50.5);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_set_balance_keeps_fee_total_and_publishes)
{
    fx_t fx;
    fx_init(&fx);
    cq_fill_t f = mk_fill(&fx, CQ_SIDE_BUY, 100.00, 1.000, 0.1, "USDT");
    ck_assert_int_eq(cq_portfolio_apply_fill(fx.pf, &f), 0);
    int before = fx.seen.balances;
    ck_assert_int_eq(cq_portfolio_set_balance_units(fx.pf, "SIM", "USDT", 123456, 2), 0);
    ck_assert_int_eq(fx.seen.balances, before + 1);
    ck_assert(bal_total(&fx, "USDT") == 123456 * E18 / 100);
    ck_assert(bal_fees(&fx, "USDT") == E18 / 10);
    ck_assert(fx.seen.last_bal[(fx.seen.balances - 1) % 4]->total == 1234.56);
    fx_free(&fx);
}
END_TEST

/* ---- marks -------------------------------------------------------------------------------- */

START_TEST(test_portfolio_mark_to_mid_sets_unrealized_long_and_short)
{
    fx_t fx;
    fx_init(&fx);
    fill(&fx, CQ_SIDE_BUY, 100.00, 2.000);
    ck_assert(pos(&fx)->unrealized_pnl == 0.0); /* marked at the fill price */
    ck_assert_int_eq(cq_portfolio_mark(fx.pf, fx.inst, 105.005), 0);
    ck_assert_double_eq_tol(pos(&fx)->unrealized_pnl, 10.01, 1e-9);
    fill(&fx, CQ_SIDE_SELL, 101.00, 3.000); /* short 1.000 at 101 */
    ck_assert_double_eq_tol(pos(&fx)->unrealized_pnl, 101.0 - 105.005, 1e-9);
    ck_assert_int_eq(cq_portfolio_mark(fx.pf, fx.inst, 99.0), 0);
    ck_assert_double_eq_tol(pos(&fx)->unrealized_pnl, 2.0, 1e-9);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_mark_updates_every_strategy_of_the_instrument)
{
    fx_t fx;
    fx_init(&fx);
    uint32_t beta;
    ck_assert_int_eq(cq_cache_strategy_intern(fx.cache, "beta", &beta), 0);
    fill(&fx, CQ_SIDE_BUY, 100.00, 1.000);
    cq_fill_t f = mk_fill(&fx, CQ_SIDE_SELL, 100.00, 2.000, 0, NULL);
    f.hdr.strategy = beta;
    ck_assert_int_eq(cq_portfolio_apply_fill(fx.pf, &f), 0);
    ck_assert_int_eq(cq_portfolio_mark(fx.pf, fx.inst, 90.0), 0);
    ck_assert(pos(&fx)->unrealized_pnl == -10.0);
    ck_assert(cq_cache_position(fx.cache, fx.inst, beta)->unrealized_pnl == 20.0);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_mark_bad_input_is_error)
{
    fx_t fx;
    fx_init(&fx);
    ck_assert_int_eq(cq_portfolio_mark(NULL, fx.inst, 1.0), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_mark(fx.pf, fx.inst, NAN), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_mark(fx.pf, fx.inst, 0.0), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_mark(fx.pf, fx.inst, -3.0), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_mark(fx.pf, fx.inst, INFINITY), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_mark(fx.pf, 999, 1.0), CQ_ENOENT);
    ck_assert_int_eq(cq_portfolio_mark(fx.pf, 0, 1.0), CQ_ENOENT);
    fx_free(&fx);
}
END_TEST

/* ---- publishing ------------------------------------------------------------------------------ */

START_TEST(test_portfolio_fill_publishes_position_then_base_and_quote_balances)
{
    fx_t fx;
    fx_init(&fx);
    cq_fill_t f = mk_fill(&fx, CQ_SIDE_BUY, 100.00, 1.000, 0.1, "USDT");
    ck_assert_int_eq(cq_portfolio_apply_fill(fx.pf, &f), 0);
    ck_assert_int_eq(fx.seen.positions, 1);
    ck_assert_ptr_eq(fx.seen.last_pos, pos(&fx));
    ck_assert(fx.seen.last_pos->hdr.ts_event == f.hdr.ts_event);
    ck_assert_int_eq(fx.seen.last_pos->hdr.type, CQ_EV_POSITION);
    ck_assert_int_eq(fx.seen.balances, 2);
    ck_assert_str_eq(fx.seen.last_bal[0]->asset, "BTC");
    ck_assert_str_eq(fx.seen.last_bal[1]->asset, "USDT");
    f = mk_fill(&fx, CQ_SIDE_BUY, 100.00, 1.000, 0.0001, "BNB");
    ck_assert_int_eq(cq_portfolio_apply_fill(fx.pf, &f), 0);
    ck_assert_int_eq(fx.seen.balances, 5);
    ck_assert_str_eq(fx.seen.last_bal[4 % 4]->asset, "BNB");
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_topics_are_interned_once_not_per_fill)
{
    fx_t fx;
    fx_init(&fx);
    fill(&fx, CQ_SIDE_BUY, 100.00, 1.000);
    cq_bus_stats_t a, b;
    cq_bus_stats(fx.bus, &a);
    for (int i = 0; i < 100; i++)
        fill(&fx, i & 1 ? CQ_SIDE_BUY : CQ_SIDE_SELL, 100.00 + i, 0.5);
    cq_bus_stats(fx.bus, &b);
    ck_assert_uint_eq(a.topics, b.topics);
    ck_assert_int_eq(fx.seen.positions, 101);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_position_published_on_the_strategy_topic)
{
    fx_t fx;
    fx_init(&fx);
    cq_topic_t t;
    fill(&fx, CQ_SIDE_BUY, 100.00, 1.000);
    ck_assert_int_eq(cq_bus_topic(fx.bus, "events.position.alpha", &t), 0);
    ck_assert_int_eq(cq_bus_handler_count(fx.bus, t), 1);
    ck_assert_int_eq(cq_bus_topic(fx.bus, "events.account.SIM", &t), 0);
    ck_assert_int_eq(cq_bus_handler_count(fx.bus, t), 1);
    fx_free(&fx);
}
END_TEST

/* ---- bad input ----------------------------------------------------------------------------------- */

START_TEST(test_portfolio_create_bad_input_is_einval)
{
    cq_bus_t *bus;
    cq_cache_t *cache;
    cq_portfolio_t *p = (cq_portfolio_t *)1;
    ck_assert_int_eq(cq_bus_create(&bus), 0);
    ck_assert_int_eq(cq_cache_create(&cache, NULL), 0);
    ck_assert_int_eq(cq_portfolio_create(NULL, bus, cache, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_create(&p, NULL, cache, NULL), CQ_EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(cq_portfolio_create(&p, bus, NULL, NULL), CQ_EINVAL);
    cq_portfolio_destroy(NULL);
    cq_cache_destroy(cache);
    cq_bus_destroy(bus);
}
END_TEST

/* A refused fill leaves everything as it was and is counted. */
static void assert_refused(fx_t *fx, cq_fill_t *f, int want, const char *what)
{
    cq_position_exact_t before, after;
    int had = cq_portfolio_position_exact(fx->pf, fx->inst, fx->strat, &before) == 0;
    i128 usdt = bal_total(fx, "USDT"), btc = bal_total(fx, "BTC");
    int pubs = fx->seen.positions + fx->seen.balances;
    cq_portfolio_stats_t s0, s1;
    cq_portfolio_stats(fx->pf, &s0);
    int rc = cq_portfolio_apply_fill(fx->pf, f);
    ck_assert_msg(rc == want, "%s: got %s, want %s", what, cq_errname(rc), cq_errname(want));
    cq_portfolio_stats(fx->pf, &s1);
    ck_assert_msg(s1.fills == s0.fills, "%s: counted as applied", what);
    uint64_t refused0 = s0.bad_fills + s0.unknown + s0.overflows + s0.other_errors;
    uint64_t refused1 = s1.bad_fills + s1.unknown + s1.overflows + s1.other_errors;
    ck_assert_msg(refused1 == refused0 + 1, "%s: not counted", what);
    if (had) {
        ck_assert_int_eq(cq_portfolio_position_exact(fx->pf, fx->inst, fx->strat, &after), 0);
        ck_assert_msg(memcmp(&before, &after, sizeof before) == 0, "%s: position changed", what);
    }
    ck_assert_msg(bal_total(fx, "USDT") == usdt && bal_total(fx, "BTC") == btc, "%s: balances changed", what);
    ck_assert_msg(fx->seen.positions + fx->seen.balances == pubs, "%s: published", what);
}

START_TEST(test_portfolio_bad_fills_are_refused_counted_and_change_nothing)
{
    fx_t fx;
    fx_init(&fx);
    cq_log_t quiet = {CQ_LOG_OFF, NULL, NULL};
    cq_portfolio_destroy(fx.pf);
    ck_assert_int_eq(cq_portfolio_create(&fx.pf, fx.bus, fx.cache, &quiet), 0);
    ck_assert_int_eq(fill(&fx, CQ_SIDE_BUY, 100.00, 1.000), 0);
    cq_fill_t f;
#define CASE(expr, want)                                   \
    f = mk_fill(&fx, CQ_SIDE_BUY, 100.00, 1.000, 0, NULL); \
    expr;                                                  \
    assert_refused(&fx, &f, want, #expr)
    CASE(f.side = CQ_SIDE_NONE, CQ_EINVAL);
    CASE(f.side = 7, CQ_EINVAL);
    CASE(f.price = NAN, CQ_EINVAL);
    CASE(f.price = INFINITY, CQ_EINVAL);
    CASE(f.price = 0, CQ_EINVAL);
    CASE(f.price = -100.0, CQ_EINVAL);
    CASE(f.price = 100.005, CQ_EINVAL);          /* half a tick off */
    CASE(f.price = 100.000001, CQ_EINVAL);       /* 1e-8 relative off is too far */
    CASE(f.price = 1e300, CQ_EINVAL);
    CASE(f.qty = NAN, CQ_EINVAL);
    CASE(f.qty = -1.0, CQ_EINVAL);
    CASE(f.qty = 0.0, CQ_EINVAL);
    CASE(f.qty = 0.0004, CQ_EINVAL);             /* below one step */
    CASE(f.qty = 1.0005, CQ_EINVAL);             /* off the step */
    CASE(f.fee = NAN; strcpy(f.fee_asset, "USDT"), CQ_EINVAL);
    CASE(f.fee = 0.1, CQ_EINVAL);                /* fee without an asset */
    CASE(f.fee = 0.1; memset(f.fee_asset, 'X', sizeof f.fee_asset), CQ_EINVAL); /* no NUL */
    CASE(f.fee = 1e-30; strcpy(f.fee_asset, "USDT"), CQ_ERANGE); /* below 10^-18 */
    CASE(f.fee = 1e25; strcpy(f.fee_asset, "USDT"), CQ_ERANGE);
    CASE(f.hdr.instrument = 999, CQ_ENOENT);
    CASE(f.hdr.instrument = 0, CQ_ENOENT);
    CASE(f.hdr.strategy = 0, CQ_EINVAL);
    CASE(f.hdr.strategy = 4242, CQ_ENOENT);
#undef CASE
    ck_assert_int_eq(cq_portfolio_apply_fill(fx.pf, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_apply_fill(NULL, &f), CQ_EINVAL);
    cq_portfolio_stats_t st;
    cq_portfolio_stats(fx.pf, &st);
    ck_assert_uint_eq(st.fills, 1);
    ck_assert_uint_eq(st.unknown, 3);
    ck_assert_uint_eq(st.overflows, 2);
    ck_assert_uint_eq(st.bad_fills, 19);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_values_within_1e9_relative_of_the_grid_are_rounded_onto_it)
{
    fx_t fx;
    fx_init(&fx);
    ck_assert_int_eq(fill(&fx, CQ_SIDE_BUY, 100.00 * (1 + 1e-12), 1.000 * (1 - 1e-12)), 0);
    cq_position_exact_t e = exact(&fx);
    ck_assert_int_eq(e.qty_steps, 1000);
    ck_assert(e.cost == 10000000);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_instrument_without_spec_is_enoent)
{
    fx_t fx;
    fx_init(&fx);
    uint32_t h;
    ck_assert_int_eq(cq_cache_instrument_intern(fx.cache, "ETHUSDT.SIM", &h), 0);
    cq_fill_t f = mk_fill(&fx, CQ_SIDE_BUY, 100.00, 1.000, 0, NULL);
    f.hdr.instrument = h;
    ck_assert_int_eq(cq_portfolio_apply_fill(fx.pf, &f), CQ_ENOENT);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_instrument_with_too_fine_increments_is_erange)
{
    cq_instrument_t spec = make_spec("TINYUSDT", "TINY", "USDT", 1, 10, 1, 9); /* S = 19 */
    fx_t fx;
    fx_init_spec(&fx, &spec);
    ck_assert_int_eq(fill(&fx, CQ_SIDE_BUY, 1e-9, 1.0), CQ_ERANGE);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_overflowing_amounts_are_erange)
{
    /* tick 10^18: 4e15 ticks times 4e15 steps is 1.6e49 money units */
    cq_instrument_t spec = make_spec("BIGUSD", "BIG", "USD", 1000000000000000000LL, 0, 1, 0);
    fx_t fx;
    fx_init_spec(&fx, &spec);
    ck_assert_int_eq(fill(&fx, CQ_SIDE_BUY, 4e33, 4e15), CQ_ERANGE);
    /* the flat position record may exist; no amount moved */
    ck_assert_int_eq(exact(&fx).qty_steps, 0);
    ck_assert(exact(&fx).cost == 0);
    ck_assert(bal_total(&fx, "USD") == 0 && bal_total(&fx, "BIG") == 0);
    ck_assert_int_eq(fill(&fx, CQ_SIDE_BUY, 1e18, 2.0), 0);
    ck_assert(exact(&fx).cost == 2 * (i128)1000000000000000000LL);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_changed_increments_after_use_are_estate)
{
    fx_t fx;
    fx_init(&fx);
    ck_assert_int_eq(fill(&fx, CQ_SIDE_BUY, 100.00, 1.000), 0);
    cq_instrument_t spec = make_spec("BTCUSDT", "BTC", "USDT", 1, 2, 1, 4);
    uint32_t h;
    ck_assert_int_eq(cq_cache_instrument_add(fx.cache, &spec, &h), 0);
    ck_assert_uint_eq(h, fx.inst);
    ck_assert_int_eq(fill(&fx, CQ_SIDE_BUY, 100.00, 1.000), CQ_ESTATE);
    ck_assert_int_eq(exact(&fx).qty_steps, 1000);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_same_base_and_quote_is_einval)
{
    cq_instrument_t spec = make_spec("BTCBTC", "BTC", "BTC", 1, 2, 1, 3);
    fx_t fx;
    fx_init_spec(&fx, &spec);
    ck_assert_int_eq(fill(&fx, CQ_SIDE_BUY, 1.00, 1.000), CQ_EINVAL);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_balance_calls_bad_input_is_error)
{
    fx_t fx;
    fx_init(&fx);
    cq_balance_exact_t b;
    ck_assert_int_eq(cq_portfolio_set_balance(NULL, "SIM", "USDT", 1.0), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_set_balance(fx.pf, NULL, "USDT", 1.0), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_set_balance(fx.pf, "SIM", "", 1.0), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_set_balance(fx.pf, "SIM", "USDT", NAN), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_set_balance(fx.pf, "A_VENUE_NAME_TOO_LONG", "USDT", 1.0), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_set_balance(fx.pf, "SIM", "AN_ASSET_TOO_LONG", 1.0), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_set_balance_units(fx.pf, "SIM", "USDT", 1, -1), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_set_balance_units(fx.pf, "SIM", "USDT", 1, 19), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_set_balance_units(NULL, "SIM", "USDT", 1, 2), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_balance_exact(fx.pf, "SIM", "NOPE", &b), CQ_ENOENT);
    ck_assert_int_eq(cq_portfolio_balance_exact(fx.pf, "SIM", "USDT", NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_balance_exact(NULL, "SIM", "USDT", &b), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_balance_exact(fx.pf, NULL, "USDT", &b), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_set_balance(fx.pf, "SIM", "USDT", -12.5), 0); /* overdrawn is allowed */
    ck_assert(bal_total(&fx, "USDT") == -125 * E18 / 10);
    fx_free(&fx);
}
END_TEST

START_TEST(test_portfolio_position_getter_bad_input_is_error)
{
    fx_t fx;
    fx_init(&fx);
    cq_position_exact_t e;
    ck_assert_int_eq(cq_portfolio_position_exact(fx.pf, fx.inst, fx.strat, &e), CQ_ENOENT);
    fill(&fx, CQ_SIDE_BUY, 100.00, 1.000);
    ck_assert_int_eq(cq_portfolio_position_exact(fx.pf, fx.inst, fx.strat, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_position_exact(NULL, fx.inst, fx.strat, &e), CQ_EINVAL);
    ck_assert_int_eq(cq_portfolio_position_exact(fx.pf, 999, fx.strat, &e), CQ_ENOENT);
    ck_assert_int_eq(cq_portfolio_position_exact(fx.pf, fx.inst, 9999, &e), CQ_ENOENT);
    cq_portfolio_stats_t st;
    cq_portfolio_stats(NULL, &st);
    ck_assert_uint_eq(st.fills, 0);
    cq_portfolio_stats(fx.pf, NULL);
    fx_free(&fx);
}
END_TEST

/* ---- 1,000,000 random fills against exact rationals ----------------------------------------------
 *
 * The reference reads each fill from its decimal text and keeps every
 * amount as a rational with a fixed denominator, finer than any the fills
 * use: quantities in 10^-6, prices in 10^-4, money in 10^-10. All inputs are
 * decimals with fewer places, so sums and products are exact. The one
 * division of the method (the cost released by a reduction, cost * closed /
 * open) is done as an exact rational and rounded as docs/portfolio.md says:
 * to the nearest multiple of 10^-S, ties to the even multiple.
 *
 * Instrument: tick 0.05 (units 5, precision 2), step 0.0025 (units 25,
 * precision 4): S = 6. */

#define RQ 1000000LL        /* quantity denominator */
#define RP 10000LL          /* price denominator */
#define RM 10000000000LL    /* money denominator = RQ * RP */

typedef struct {
    i128 qty;                /* / RQ, signed */
    i128 cost;               /* / RM, >= 0 */
    i128 realized;           /* / RM */
    i128 cash;               /* / RM: sells - buys */
    i128 fees;               /* / RM, quote fees */
    i128 base, quote, bnb;   /* balances: / RQ, / RM, / RM */
    i128 base_fees, bnb_fees;/* / RM */
} ref_t;

/* "123.4500" -> 1234500 at the given denominator (a power of ten). */
static i128 ref_parse(const char *s, long long den)
{
    i128 ip = 0, fp = 0, fden = 1;
    int neg = *s == '-';
    s += neg;
    for (; *s && *s != '.'; s++)
        ip = ip * 10 + (*s - '0');
    if (*s == '.')
        for (s++; *s; s++) {
            fp = fp * 10 + (*s - '0');
            fden *= 10;
        }
    i128 v = ip * den + fp * den / fden; /* den is a multiple of fden here */
    return neg ? -v : v;
}

/* Units printed with `places` decimals, the way a venue sends them. */
static void fmt_units(char *buf, long long units, int places)
{
    char tmp[32];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + units % 10);
        units /= 10;
    } while (units || n <= places);
    int j = 0;
    while (n > 0) {
        if (n == places)
            buf[j++] = '.';
        buf[j++] = tmp[--n];
    }
    buf[j] = 0;
}

static i128 i128_abs(i128 v) { return v < 0 ? -v : v; }

/* n / d to the nearest integer, ties to even; n >= 0, d > 0. */
static i128 ref_round_even(i128 n, i128 d)
{
    i128 q = n / d, r = n % d;
    if (r * 2 > d || (r * 2 == d && q % 2 != 0))
        q += 1;
    return q;
}

static void ref_fill(ref_t *r, int buy, i128 price, i128 qty, i128 fee, int fee_where, int scale_s)
{
    i128 notional = price * qty; /* / RP*RQ = / RM */
    i128 signed_qty = buy ? qty : -qty;
    if (r->qty == 0 || (r->qty > 0) == buy) {
        r->cost += notional;
    } else {
        i128 open = i128_abs(r->qty);
        i128 gain;
        if (qty < open) {
            /* exact released = cost * qty / open; rounded to a multiple of 10^-S */
            i128 unit = RM;
            for (int k = 0; k < scale_s; k++)
                unit /= 10; /* 10^-S in RM units */
            i128 released = ref_round_even(r->cost * qty, open * unit) * unit;
            gain = notional - released;
            r->cost -= released;
        } else {
            gain = price * open - r->cost;
            r->cost = price * (qty - open);
        }
        r->realized += r->qty > 0 ? gain : -gain;
    }
    r->qty += signed_qty;
    r->cash += buy ? -notional : notional;
    r->base += signed_qty;
    r->quote += buy ? -notional : notional;
    if (fee_where == 0) {
        r->quote -= fee;
        r->fees += fee;
    } else if (fee_where == 1) {
        r->base -= fee / RP;    /* base fees in 10^-6 steps of the test: exact (see generator) */
        r->base_fees += fee;
    } else if (fee_where == 2) {
        r->bnb -= fee;
        r->bnb_fees += fee;
    }
}

#define CHECK(cond, ...)                                             \
    do {                                                             \
        if (!(cond)) {                                               \
            if (!bad++)                                              \
                snprintf(first, sizeof first, __VA_ARGS__);          \
        }                                                            \
    } while (0)

START_TEST(test_portfolio_million_random_fills_have_zero_drift_against_exact_rationals)
{
    cq_instrument_t spec = make_spec("XYZUSDT", "XYZ", "USDT", 5, 2, 25, 4);
    fx_t fx;
    fx_init_spec(&fx, &spec);
    cq_rng_t rng = {0x5eed1234abcdULL};
    ref_t r;
    memset(&r, 0, sizeof r);
    long bad = 0, flats = 0, flips = 0, avg_checked = 0;
    char first[256] = "";
    long long mid = 40000; /* ticks: 2000.00 */
    const long n = 1000000;
    const i128 QM = (i128)1000000000000LL; /* 10^-6 -> 10^-18 */
    const i128 MM = (i128)100000000LL;     /* 10^-10 -> 10^-18 */
    for (long i = 0; i < n; i++) {
        mid += (long long)cq_rng_below(&rng, 21) - 10;
        if (mid < 2000)
            mid = 2000;
        long long ticks = mid + (long long)cq_rng_below(&rng, 101) - 50;
        long long steps = 1 + (long long)cq_rng_below(&rng, 4000);
        double open_qty = (double)(r.qty < 0 ? -r.qty : r.qty) / RQ;
        int buy = (int)cq_rng_below(&rng, 2);
        if (open_qty > 50 && cq_rng_below(&rng, 10) < 8)
            buy = r.qty < 0; /* lean back toward flat */
        if (r.qty != 0 && cq_rng_below(&rng, 100) < 3) {
            buy = r.qty < 0; /* close exactly */
            steps = (long long)(i128_abs(r.qty) / 2500); /* 0.0025 = 2500 / RQ */
        }
        char pbuf[32], qbuf[32], fbuf[32];
        fmt_units(pbuf, ticks * 5, 2);
        fmt_units(qbuf, steps * 25, 4);
        int fee_where = (int)cq_rng_below(&rng, 10); /* 0..6 quote, 7 base, 8 BNB, 9 none */
        fee_where = fee_where < 7 ? 0 : fee_where == 7 ? 1 : fee_where == 8 ? 2 : 3;
        long long fee_units = (long long)cq_rng_below(&rng, 5000000); /* 8 places */
        if (fee_where == 1)
            fee_units -= fee_units % 100; /* base fees on 10^-6 */
        fmt_units(fbuf, fee_units, 8);

        cq_fill_t f = mk_fill(&fx, buy ? CQ_SIDE_BUY : CQ_SIDE_SELL, strtod(pbuf, NULL), strtod(qbuf, NULL),
                              fee_where == 3 ? 0.0 : strtod(fbuf, NULL),
                              fee_where == 0 ? "USDT" : fee_where == 1 ? "XYZ" : "BNB");
        int64_t before = r.qty == 0 ? 0 : r.qty > 0 ? 1 : -1;
        ref_fill(&r, buy, ref_parse(pbuf, RP), ref_parse(qbuf, RQ),
                 fee_where == 3 ? 0 : ref_parse(fbuf, RM), fee_where, 6);
        int rc = cq_portfolio_apply_fill(fx.pf, &f);
        CHECK(rc == 0, "fill %ld refused: %s", i, cq_errname(rc));

        cq_position_exact_t e;
        cq_portfolio_position_exact(fx.pf, fx.inst, fx.strat, &e);
        /* exact integers: steps of 0.0025 = RQ/400; money 10^-6 = RM/10^4 */
        CHECK((i128)e.qty_steps * 2500 == r.qty, "fill %ld: qty drift", i);
        CHECK(e.cost * 10000 == r.cost, "fill %ld: cost drift", i);
        CHECK(e.realized * 10000 == r.realized, "fill %ld: realized drift", i);
        CHECK(e.fees == r.fees * MM, "fill %ld: fee drift", i);
        /* the split may round, the sum never: realized = cash + basis (long) or - basis (short) */
        CHECK(r.realized == r.cash + (r.qty > 0 ? r.cost : r.qty < 0 ? -r.cost : 0),
              "fill %ld: reference identity", i);
        if (r.qty == 0) {
            flats++;
            CHECK(e.realized * 10000 == r.cash, "fill %ld: realized at flat is not the cash flow", i);
        }
        if (before && r.qty && (r.qty > 0) != (before > 0))
            flips++;
        /* the doubles: each the exact value converted once */
        const cq_position_t *p = pos(&fx);
        CHECK(p->qty_steps == e.qty_steps, "fill %ld: qty_steps", i);
        CHECK(p->qty == (double)(int64_t)(r.qty / 100) / 1e4, "fill %ld: qty double", i);
        i128 rz = r.realized / 10000; /* 10^-6 units */
        if (i128_abs(rz) < ((i128)1 << 53))
            CHECK(p->realized_pnl == (double)(int64_t)rz / 1e6, "fill %ld: realized double", i);
        if (r.qty != 0) {
            /* avg = cost / |qty|: in 10^-10 / 10^-6 units -> price = (cost/RM) / (|qty|/RQ) */
            i128 num = r.cost, den = i128_abs(r.qty) * RP; /* price = num / den */
            if (num < ((i128)1 << 53) && den < ((i128)1 << 53)) {
                avg_checked++;
                CHECK(p->avg_price == (double)(int64_t)num / (double)(int64_t)den, "fill %ld: avg double", i);
            }
        } else {
            CHECK(p->avg_price == 0, "fill %ld: avg at flat", i);
        }
    }
    /* balances at the end (they are sums: any drift would persist) */
    CHECK(bal_total(&fx, "XYZ") == r.base * QM, "base balance");
    CHECK(bal_total(&fx, "USDT") == r.quote * MM, "quote balance");
    CHECK(bal_total(&fx, "BNB") == r.bnb * MM, "BNB balance");
    CHECK(bal_fees(&fx, "XYZ") == r.base_fees * MM, "base fees");
    CHECK(bal_fees(&fx, "BNB") == r.bnb_fees * MM, "BNB fees");
    CHECK(bal_fees(&fx, "USDT") == r.fees * MM, "quote fees");
    ck_assert_msg(bad == 0, "%ld mismatches; first: %s", bad, first);
    /* the walk must have exercised every branch */
    ck_assert_int_gt(flats, 1000);
    ck_assert_int_gt(flips, 1000);
    ck_assert_int_gt(avg_checked, n / 2);
    cq_portfolio_stats_t st;
    cq_portfolio_stats(fx.pf, &st);
    ck_assert_uint_eq(st.fills, (uint64_t)n);
    fx_free(&fx);
}
END_TEST

static Suite *portfolio_suite(void)
{
    Suite *s = suite_create("portfolio");
    TCase *tc = tcase_create("average_cost");
    tcase_add_test(tc, test_portfolio_open_long_sets_cost_and_average);
    tcase_add_test(tc, test_portfolio_add_weights_the_average_cost);
    tcase_add_test(tc, test_portfolio_reduce_realizes_against_the_average_and_keeps_it);
    tcase_add_test(tc, test_portfolio_flip_realizes_the_closed_part_and_opens_the_rest_at_the_fill);
    tcase_add_test(tc, test_portfolio_close_short_realizes_and_resets_the_average);
    tcase_add_test(tc, test_portfolio_worked_example_balances_and_mark_match_the_doc);
    tcase_add_test(tc, test_portfolio_reopen_after_flat_starts_a_new_average);
    tcase_add_test(tc, test_portfolio_release_rounds_to_nearest_unit_ties_to_even);
    tcase_add_test(tc, test_portfolio_odd_tie_rounds_up_to_even);
    suite_add_tcase(s, tc);

    tc = tcase_create("fees_balances");
    tcase_add_test(tc, test_portfolio_balances_move_with_fills_and_quote_fees);
    tcase_add_test(tc, test_portfolio_fee_in_base_asset_reduces_base_balance_not_position);
    tcase_add_test(tc, test_portfolio_fee_in_third_asset_keeps_its_own_balance_and_total);
    tcase_add_test(tc, test_portfolio_maker_rebate_is_a_negative_fee);
    tcase_add_test(tc, test_portfolio_fee_with_double_noise_is_taken_as_its_decimal);
    tcase_add_test(tc, test_portfolio_existing_cache_balance_is_adopted);
    tcase_add_test(tc, test_portfolio_set_balance_keeps_fee_total_and_publishes);
    suite_add_tcase(s, tc);

    tc = tcase_create("marks_publish");
    tcase_add_test(tc, test_portfolio_mark_to_mid_sets_unrealized_long_and_short);
    tcase_add_test(tc, test_portfolio_mark_updates_every_strategy_of_the_instrument);
    tcase_add_test(tc, test_portfolio_mark_bad_input_is_error);
    tcase_add_test(tc, test_portfolio_fill_publishes_position_then_base_and_quote_balances);
    tcase_add_test(tc, test_portfolio_topics_are_interned_once_not_per_fill);
    tcase_add_test(tc, test_portfolio_position_published_on_the_strategy_topic);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_input");
    tcase_add_test(tc, test_portfolio_create_bad_input_is_einval);
    tcase_add_test(tc, test_portfolio_bad_fills_are_refused_counted_and_change_nothing);
    tcase_add_test(tc, test_portfolio_values_within_1e9_relative_of_the_grid_are_rounded_onto_it);
    tcase_add_test(tc, test_portfolio_instrument_without_spec_is_enoent);
    tcase_add_test(tc, test_portfolio_instrument_with_too_fine_increments_is_erange);
    tcase_add_test(tc, test_portfolio_overflowing_amounts_are_erange);
    tcase_add_test(tc, test_portfolio_changed_increments_after_use_are_estate);
    tcase_add_test(tc, test_portfolio_same_base_and_quote_is_einval);
    tcase_add_test(tc, test_portfolio_balance_calls_bad_input_is_error);
    tcase_add_test(tc, test_portfolio_position_getter_bad_input_is_error);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_portfolio_million_random_fills_have_zero_drift_against_exact_rationals);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cq_test_run(portfolio_suite());
}
