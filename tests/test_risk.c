/*
 * test_risk.c - every pre-trade check denies a violating order with a
 * reason, and lets a good one through.
 */
#include <string.h>

#include "cquant/error.h"
#include "cquant/instrument.h"
#include "cquant/risk.h"
#include "support/cq_test.h"

#define SEC INT64_C(1000000000)

typedef struct {
    cq_cache_t *cache;
    cq_risk_t *risk;
    uint32_t btc, strat;
    char why[128];
} rig_t;

static void setup(rig_t *r, const cq_risk_limits_t *lim)
{
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(cq_cache_create(&r->cache, NULL), 0);
    cq_instrument_t spec;
    ck_assert_int_eq(cq_instrument_init(&spec, "BTCUSDT", "BINANCE", "BTC", "USDT", "0.01", "0.00001"), 0);
    spec.min_qty = 0.0001;
    spec.max_qty = 100;
    spec.min_notional = 5;
    ck_assert_int_eq(cq_cache_instrument_add(r->cache, &spec, &r->btc), 0);
    ck_assert_int_eq(cq_cache_strategy_intern(r->cache, "s1", &r->strat), 0);
    ck_assert_int_eq(cq_risk_create(&r->risk, r->cache, lim, NULL), 0);
}

static void teardown(rig_t *r)
{
    cq_risk_destroy(r->risk);
    cq_cache_destroy(r->cache);
}

static cq_order_t limit(rig_t *r, int side, double px, double qty)
{
    cq_order_t o;
    memset(&o, 0, sizeof o);
    o.hdr.instrument = r->btc;
    o.hdr.strategy = r->strat;
    o.side = side;
    o.type = CQ_ORDER_LIMIT;
    o.tif = CQ_TIF_GTC;
    o.status = CQ_OS_INITIALIZED;
    o.price = px;
    o.qty = qty;
    return o;
}

static int check(rig_t *r, const cq_order_t *o, int64_t now)
{
    return cq_risk_check(r->risk, o, now, r->why, sizeof r->why);
}

#define DENIED_WITH(r, o, text)                                                    \
    do {                                                                            \
        ck_assert_int_eq(check(r, o, 0), CQ_EDENIED);                               \
        ck_assert_msg(strstr((r)->why, text), "reason '%s' lacks '%s'", (r)->why, text); \
    } while (0)

START_TEST(test_risk_good_order_passes)
{
    rig_t r;
    setup(&r, NULL);
    cq_order_t o = limit(&r, CQ_SIDE_BUY, 60000.01, 0.001);
    ck_assert_int_eq(check(&r, &o, 0), 0);
    ck_assert_str_eq(r.why, "");
    /* binary rounding of a computed price is not "off tick" */
    o.price = 0.1 + 0.2 + 60000; /* 60000.3 + rounding */
    ck_assert_int_eq(check(&r, &o, 0), 0);
    teardown(&r);
}
END_TEST

START_TEST(test_risk_unknown_or_untradable_instrument_denied)
{
    rig_t r;
    setup(&r, NULL);
    cq_order_t o = limit(&r, CQ_SIDE_BUY, 60000, 0.001);
    o.hdr.instrument = 42;
    DENIED_WITH(&r, &o, "unknown instrument");
    cq_instrument_t spec = *cq_cache_instrument(r.cache, r.btc);
    spec.tradable = 0;
    cq_cache_instrument_add(r.cache, &spec, NULL);
    o.hdr.instrument = r.btc;
    DENIED_WITH(&r, &o, "not tradable");
    teardown(&r);
}
END_TEST

START_TEST(test_risk_off_tick_and_off_step_denied)
{
    rig_t r;
    setup(&r, NULL);
    cq_order_t o = limit(&r, CQ_SIDE_BUY, 60000.005, 0.001);
    DENIED_WITH(&r, &o, "not on tick");
    o = limit(&r, CQ_SIDE_BUY, 60000, 0.000015);
    DENIED_WITH(&r, &o, "not a multiple of step");
    o = limit(&r, CQ_SIDE_BUY, -1, 0.001);
    DENIED_WITH(&r, &o, "positive price");
    o = limit(&r, CQ_SIDE_BUY, 60000, 0);
    DENIED_WITH(&r, &o, "positive number");
    o = limit(&r, CQ_SIDE_BUY, 60000, 0.0 / 0.0);
    DENIED_WITH(&r, &o, "positive number");
    o = limit(&r, CQ_SIDE_BUY, 60000, 0.001);
    o.type = CQ_ORDER_STOP_MARKET;
    o.trigger_price = 0;
    DENIED_WITH(&r, &o, "trigger price");
    o = limit(&r, 7, 60000, 0.001);
    DENIED_WITH(&r, &o, "side");
    teardown(&r);
}
END_TEST

START_TEST(test_risk_min_max_qty_denied)
{
    rig_t r;
    setup(&r, NULL);
    cq_order_t o = limit(&r, CQ_SIDE_BUY, 60000, 0.00005);
    DENIED_WITH(&r, &o, "below min_qty");
    o = limit(&r, CQ_SIDE_BUY, 1, 100.00001);
    DENIED_WITH(&r, &o, "above max_qty");
    o = limit(&r, CQ_SIDE_BUY, 60000, 0.0001); /* exactly min: passes */
    ck_assert_int_eq(check(&r, &o, 0), 0);
    teardown(&r);
}
END_TEST

START_TEST(test_risk_min_and_max_notional_denied)
{
    cq_risk_limits_t lim = {.max_notional = 1000};
    rig_t r;
    setup(&r, &lim);
    cq_order_t o = limit(&r, CQ_SIDE_BUY, 10, 0.4); /* 4 < 5 */
    DENIED_WITH(&r, &o, "below min_notional");
    o = limit(&r, CQ_SIDE_BUY, 60000, 0.1); /* 6000 > 1000 */
    DENIED_WITH(&r, &o, "above max_notional");
    /* a market order is valued at the opposite side of the latest quote */
    cq_quote_t q = {.hdr = {.type = CQ_EV_QUOTE, .instrument = r.btc}, .bid_price = 59999, .bid_qty = 1,
                    .ask_price = 60000, .ask_qty = 1};
    cq_cache_quote_set(r.cache, &q);
    o = limit(&r, CQ_SIDE_BUY, 0, 0.1);
    o.type = CQ_ORDER_MARKET;
    DENIED_WITH(&r, &o, "notional 6000");
    o.qty = 0.01;
    ck_assert_int_eq(check(&r, &o, 0), 0);
    teardown(&r);
}
END_TEST

START_TEST(test_risk_max_position_counts_working_orders)
{
    cq_risk_limits_t lim = {0};
    rig_t r;
    setup(&r, NULL);
    lim.max_position = 1.0;
    ck_assert_int_eq(cq_risk_set_limits(r.risk, r.btc, r.strat, &lim), 0);
    cq_position_t *p;
    ck_assert_int_eq(cq_cache_position_get(r.cache, r.btc, r.strat, &p), 0);
    p->qty = 0.5;
    cq_order_t o = limit(&r, CQ_SIDE_BUY, 60000, 0.3);
    ck_assert_int_eq(check(&r, &o, 0), 0); /* 0.8 */
    strcpy(o.client_order_id, "w1");
    o.status = CQ_OS_ACCEPTED;
    ck_assert_int_eq(cq_cache_order_add(r.cache, &o, NULL), 0);
    cq_order_t o2 = limit(&r, CQ_SIDE_BUY, 60000, 0.3);
    DENIED_WITH(&r, &o2, "above max_position"); /* 0.5 + 0.3 working + 0.3 */
    o2.side = CQ_SIDE_SELL;
    ck_assert_int_eq(check(&r, &o2, 0), 0);      /* selling reduces */
    o2.side = CQ_SIDE_BUY;
    o2.opts = CQ_ORDER_OPT_REDUCE_ONLY;
    ck_assert_int_eq(check(&r, &o2, 0), 0);      /* reduce-only is exempt */
    /* another strategy has its own limit (none) */
    uint32_t s2;
    cq_cache_strategy_intern(r.cache, "s2", &s2);
    cq_order_t o3 = limit(&r, CQ_SIDE_BUY, 60000, 0.9);
    o3.hdr.strategy = s2;
    ck_assert_int_eq(check(&r, &o3, 0), 0);
    teardown(&r);
}
END_TEST

START_TEST(test_risk_rate_limit_token_bucket)
{
    cq_risk_limits_t lim = {.rate = 2, .burst = 3};
    rig_t r;
    setup(&r, &lim);
    cq_order_t o = limit(&r, CQ_SIDE_BUY, 60000, 0.001);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(check(&r, &o, 0), 0);
    ck_assert_int_eq(check(&r, &o, 0), CQ_EDENIED); /* burst used up */
    ck_assert_ptr_nonnull(strstr(r.why, "order rate"));
    ck_assert_int_eq(check(&r, &o, SEC / 4), CQ_EDENIED); /* 0.5 token */
    ck_assert_int_eq(check(&r, &o, SEC / 2), 0);          /* 1 token */
    ck_assert_int_eq(check(&r, &o, 10 * SEC), 0);         /* refilled to burst, not beyond */
    ck_assert_int_eq(check(&r, &o, 10 * SEC), 0);
    ck_assert_int_eq(check(&r, &o, 10 * SEC), 0);
    ck_assert_int_eq(check(&r, &o, 10 * SEC), CQ_EDENIED);
    cq_risk_stats_t st;
    cq_risk_stats(r.risk, &st);
    ck_assert_uint_eq(st.denied_rate, 3);
    teardown(&r);
}
END_TEST

START_TEST(test_risk_kill_switch_states)
{
    rig_t r;
    setup(&r, NULL);
    cq_order_t buy = limit(&r, CQ_SIDE_BUY, 60000, 0.001), sell = limit(&r, CQ_SIDE_SELL, 60000, 0.001);
    ck_assert_int_eq(cq_risk_set_state(r.risk, CQ_TRADING_HALTED), 0);
    DENIED_WITH(&r, &buy, "HALTED");
    DENIED_WITH(&r, &sell, "HALTED");
    ck_assert_int_eq(cq_risk_set_state(r.risk, CQ_TRADING_REDUCING), 0);
    DENIED_WITH(&r, &buy, "REDUCING"); /* flat: nothing reduces */
    cq_position_t *p;
    cq_cache_position_get(r.cache, r.btc, r.strat, &p);
    p->qty = 0.002;
    ck_assert_int_eq(check(&r, &sell, 0), 0);
    DENIED_WITH(&r, &buy, "REDUCING");
    sell.qty = 0.003; /* would flip the position */
    DENIED_WITH(&r, &sell, "REDUCING");
    ck_assert_int_eq(cq_risk_set_state(r.risk, CQ_TRADING_ACTIVE), 0);
    ck_assert_int_eq(check(&r, &buy, 0), 0);
    ck_assert_int_eq(cq_risk_set_state(r.risk, 9), CQ_EINVAL);
    ck_assert_int_eq(cq_risk_state(r.risk), CQ_TRADING_ACTIVE);
    teardown(&r);
}
END_TEST

START_TEST(test_risk_bad_arguments)
{
    rig_t r;
    setup(&r, NULL);
    cq_risk_limits_t bad = {.rate = 5, .burst = 0.5};
    ck_assert_int_eq(cq_risk_set_limits(r.risk, 0, 0, &bad), CQ_EINVAL);
    bad = (cq_risk_limits_t){.max_position = -1};
    ck_assert_int_eq(cq_risk_set_limits(r.risk, 1, 0, &bad), CQ_EINVAL);
    bad = (cq_risk_limits_t){.max_notional = 1.0 / 0.0};
    ck_assert_int_eq(cq_risk_set_limits(r.risk, 1, 0, &bad), CQ_EINVAL);
    ck_assert_int_eq(cq_risk_check(r.risk, NULL, 0, NULL, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_risk_check(NULL, NULL, 0, NULL, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_risk_create(NULL, r.cache, NULL, NULL), CQ_EINVAL);
    cq_order_t o = limit(&r, CQ_SIDE_BUY, 1, 0.00001);
    ck_assert_int_eq(cq_risk_check(r.risk, &o, 0, NULL, 0), CQ_EDENIED); /* NULL reason is fine */
    teardown(&r);
}
END_TEST

static Suite *risk_suite(void)
{
    Suite *s = suite_create("risk");
    TCase *tc = tcase_create("risk");
    tcase_add_test(tc, test_risk_good_order_passes);
    tcase_add_test(tc, test_risk_unknown_or_untradable_instrument_denied);
    tcase_add_test(tc, test_risk_off_tick_and_off_step_denied);
    tcase_add_test(tc, test_risk_min_max_qty_denied);
    tcase_add_test(tc, test_risk_min_and_max_notional_denied);
    tcase_add_test(tc, test_risk_max_position_counts_working_orders);
    tcase_add_test(tc, test_risk_rate_limit_token_bucket);
    tcase_add_test(tc, test_risk_kill_switch_states);
    tcase_add_test(tc, test_risk_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return cq_test_run(risk_suite()); }
