/*
 * test_bar.c - bar aggregation: specs, time/tick/volume bars, closing edges.
 */
#include <math.h>
#include <string.h>

#include "cquant/bar.h"
#include "cquant/error.h"
#include "cquant/time.h"
#include "support/cq_test.h"

#define SEC CQ_NS_PER_SEC
#define T0 (INT64_C(1723161600) * SEC) /* 2024-08-09T00:00:00Z, a day boundary */

typedef struct {
    cq_bar_t bars[64];
    int n;
} sink_t;

static void collect(void *user, const cq_bar_t *bar)
{
    sink_t *s = user;
    if (s->n < 64)
        s->bars[s->n] = *bar;
    s->n++;
}

static cq_trade_t trade(int64_t ts, double px, double qty)
{
    cq_trade_t t;
    memset(&t, 0, sizeof t);
    t.hdr.type = CQ_EV_TRADE;
    t.hdr.instrument = 1;
    t.hdr.ts_event = ts;
    t.price = px;
    t.qty = qty;
    return t;
}

static void agg_for(cq_bar_agg_t *agg, sink_t *s, const char *spec)
{
    cq_bar_spec_t sp;
    ck_assert_int_eq(cq_bar_spec_parse(spec, &sp), 0);
    memset(s, 0, sizeof *s);
    ck_assert_int_eq(cq_bar_agg_init(agg, 1, &sp, collect, s), 0);
}

START_TEST(test_bar_spec_parse_and_format_round_trip)
{
    const char *ok[] = {"1s", "15s", "1m", "5m", "1h", "4h", "1d", "100t", "2.5v", "86400s"};
    const char *canon[] = {"1s", "15s", "1m", "5m", "1h", "4h", "1d", "100t", "2.5v", "1d"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        cq_bar_spec_t sp;
        char buf[16];
        ck_assert_int_eq(cq_bar_spec_parse(ok[i], &sp), 0);
        ck_assert_int_gt(cq_bar_spec_format(&sp, buf, sizeof buf), 0);
        ck_assert_str_eq(buf, canon[i]);
    }
    cq_bar_spec_t sp;
    ck_assert_int_eq(cq_bar_spec_parse("1m", &sp), 0);
    ck_assert_int_eq(sp.step_ns, 60 * SEC);
}
END_TEST

START_TEST(test_bar_spec_rejects_bad_text)
{
    cq_bar_spec_t sp;
    const char *parse_err[] = {"", "m", "1x", "-1m", "1.5m", "1 m", "abc", "m1", "1mm", "99999999999999999999s"};
    for (size_t i = 0; i < sizeof parse_err / sizeof *parse_err; i++)
        ck_assert_msg(cq_bar_spec_parse(parse_err[i], &sp) < 0, "accepted '%s'", parse_err[i]);
    ck_assert_int_eq(cq_bar_spec_parse("2d", &sp), CQ_ERANGE);     /* over 1d */
    ck_assert_int_eq(cq_bar_spec_parse("0s", &sp), CQ_ERANGE);
    ck_assert_int_eq(cq_bar_spec_parse("0t", &sp), CQ_ERANGE);
    ck_assert_int_eq(cq_bar_spec_parse("0v", &sp), CQ_ERANGE);
    ck_assert_int_eq(cq_bar_spec_parse("0123456789abcdef", &sp), CQ_EPARSE); /* too long */
    ck_assert_int_eq(cq_bar_spec_parse(NULL, &sp), CQ_EINVAL);
    ck_assert_int_eq(cq_bar_spec_parse("1m", NULL), CQ_EINVAL);
}
END_TEST

START_TEST(test_time_bar_ohlcv_vwap_and_count)
{
    cq_bar_agg_t agg;
    sink_t s;
    agg_for(&agg, &s, "1m");
    cq_trade_t ts[] = {trade(T0 + 1 * SEC, 100, 1), trade(T0 + 2 * SEC, 105, 2),
                       trade(T0 + 3 * SEC, 95, 1), trade(T0 + 59 * SEC, 101, 4)};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(cq_bar_agg_trade(&agg, &ts[i]), 0);
    ck_assert_int_eq(s.n, 0);
    cq_trade_t next = trade(T0 + 61 * SEC, 102, 1);
    ck_assert_int_eq(cq_bar_agg_trade(&agg, &next), 1);
    ck_assert_int_eq(s.n, 1);
    cq_bar_t *b = &s.bars[0];
    ck_assert_int_eq(b->hdr.type, CQ_EV_BAR);
    ck_assert_int_eq(b->kind, CQ_BAR_TIME);
    ck_assert(b->open == 100 && b->high == 105 && b->low == 95 && b->close == 101);
    ck_assert(b->volume == 8);
    ck_assert_int_eq(b->trades, 4);
    ck_assert_int_eq(b->ts_open, T0);
    ck_assert_int_eq(b->hdr.ts_event, T0 + 60 * SEC);
    ck_assert(fabs(b->vwap - (100 + 210 + 95 + 404) / 8.0) < 1e-12);
    ck_assert(b->spec_value == 60);
}
END_TEST

START_TEST(test_time_bar_trade_exactly_on_boundary_opens_next_bar)
{
    cq_bar_agg_t agg;
    sink_t s;
    agg_for(&agg, &s, "1m");
    cq_trade_t a = trade(T0 + 30 * SEC, 10, 1), b = trade(T0 + 60 * SEC, 20, 1);
    cq_bar_agg_trade(&agg, &a);
    ck_assert_int_eq(cq_bar_agg_trade(&agg, &b), 1);
    ck_assert(s.bars[0].close == 10); /* the boundary trade is not in bar 1 */
    ck_assert_int_eq(s.bars[0].trades, 1);
    ck_assert_int_eq(agg.cur.ts_open, T0 + 60 * SEC);
    ck_assert(agg.cur.open == 20);
}
END_TEST

START_TEST(test_time_bar_closed_by_timer_at_its_end)
{
    cq_bar_agg_t agg;
    sink_t s;
    agg_for(&agg, &s, "1s");
    cq_trade_t a = trade(T0 + 100, 10, 1);
    cq_bar_agg_trade(&agg, &a);
    ck_assert_int_eq(cq_bar_agg_advance(&agg, T0 + SEC - 1), 0);
    ck_assert_int_eq(cq_bar_agg_advance(&agg, T0 + SEC), 1);
    ck_assert_int_eq(s.bars[0].hdr.ts_event, T0 + SEC);
    /* closing again, or a trade stamped before the closed end, does nothing */
    ck_assert_int_eq(cq_bar_agg_advance(&agg, T0 + SEC), 0);
    cq_trade_t late = trade(T0 + SEC - 5, 11, 1);
    ck_assert_int_eq(cq_bar_agg_trade(&agg, &late), CQ_ESTATE);
    ck_assert_int_eq(agg.out_of_order, 1);
    ck_assert_int_eq(s.n, 1);
}
END_TEST

START_TEST(test_time_bar_timer_and_trade_give_identical_bars)
{
    cq_bar_agg_t a1, a2;
    sink_t s1, s2;
    agg_for(&a1, &s1, "5s");
    agg_for(&a2, &s2, "5s");
    cq_trade_t t1 = trade(T0 + 1 * SEC, 10, 1), t2 = trade(T0 + 4 * SEC, 12, 3);
    cq_trade_t t3 = trade(T0 + 7 * SEC, 9, 1);
    cq_bar_agg_trade(&a1, &t1);
    cq_bar_agg_trade(&a1, &t2);
    cq_bar_agg_trade(&a1, &t3);            /* closed by the next trade */
    cq_bar_agg_trade(&a2, &t1);
    cq_bar_agg_trade(&a2, &t2);
    cq_bar_agg_advance(&a2, T0 + 5 * SEC); /* closed by the timer */
    ck_assert_int_eq(s1.n, 1);
    ck_assert_int_eq(s2.n, 1);
    ck_assert_int_eq(memcmp(&s1.bars[0], &s2.bars[0], sizeof(cq_bar_t)), 0);
}
END_TEST

START_TEST(test_time_bar_interval_without_trades_gives_no_bar)
{
    cq_bar_agg_t agg;
    sink_t s;
    agg_for(&agg, &s, "1s");
    cq_trade_t a = trade(T0, 10, 1), b = trade(T0 + 3 * SEC + 5, 11, 1);
    cq_bar_agg_trade(&agg, &a);
    ck_assert_int_eq(cq_bar_agg_trade(&agg, &b), 1);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(agg.cur.ts_open, T0 + 3 * SEC);
}
END_TEST

START_TEST(test_time_bar_fill_empty_emits_flat_bars)
{
    cq_bar_agg_t agg;
    sink_t s;
    agg_for(&agg, &s, "1s");
    agg.fill_empty = 1;
    cq_trade_t a = trade(T0, 10, 2), b = trade(T0 + 3 * SEC + 5, 11, 1);
    cq_bar_agg_trade(&agg, &a);
    ck_assert_int_eq(cq_bar_agg_trade(&agg, &b), 3); /* [0,1) real, [1,2) and [2,3) flat */
    ck_assert_int_eq(s.bars[1].ts_open, T0 + SEC);
    ck_assert_int_eq(s.bars[2].hdr.ts_event, T0 + 3 * SEC);
    ck_assert(s.bars[1].open == 10 && s.bars[1].high == 10 && s.bars[1].close == 10);
    ck_assert(s.bars[2].volume == 0 && s.bars[2].trades == 0 && s.bars[2].vwap == 10);
    /* a timer far past the running bar fills the gap the same way */
    ck_assert_int_eq(cq_bar_agg_advance(&agg, T0 + 6 * SEC), 3);
    ck_assert_int_eq(s.bars[5].hdr.ts_event, T0 + 6 * SEC);
    ck_assert(s.bars[5].close == 11);
}
END_TEST

START_TEST(test_day_bar_aligned_to_utc_midnight)
{
    cq_bar_agg_t agg;
    sink_t s;
    agg_for(&agg, &s, "1d");
    cq_trade_t a = trade(T0 + 3600 * SEC, 10, 1);
    cq_bar_agg_trade(&agg, &a);
    ck_assert_int_eq(agg.cur.ts_open, T0);
    ck_assert_int_eq(agg.end, T0 + 86400 * SEC);
}
END_TEST

START_TEST(test_tick_bar_closes_on_nth_trade)
{
    cq_bar_agg_t agg;
    sink_t s;
    agg_for(&agg, &s, "3t");
    for (int i = 0; i < 7; i++) {
        cq_trade_t t = trade(T0 + i, 100 + i, 1);
        cq_bar_agg_trade(&agg, &t);
    }
    ck_assert_int_eq(s.n, 2);
    ck_assert(s.bars[0].open == 100 && s.bars[0].close == 102 && s.bars[0].trades == 3);
    ck_assert_int_eq(s.bars[0].hdr.ts_event, T0 + 2);
    ck_assert(s.bars[1].open == 103 && s.bars[1].close == 105);
}
END_TEST

START_TEST(test_volume_bar_closes_when_volume_reached_without_split)
{
    cq_bar_agg_t agg;
    sink_t s;
    agg_for(&agg, &s, "10v");
    double qty[] = {4, 5, 3, 10, 1};
    for (int i = 0; i < 5; i++) {
        cq_trade_t t = trade(T0 + i, 50, qty[i]);
        cq_bar_agg_trade(&agg, &t);
    }
    ck_assert_int_eq(s.n, 2);
    ck_assert(s.bars[0].volume == 12 && s.bars[0].trades == 3);
    ck_assert(s.bars[1].volume == 10 && s.bars[1].trades == 1);
    ck_assert(agg.cur.volume == 1);
}
END_TEST

START_TEST(test_bar_rejects_bad_trades_and_args)
{
    cq_bar_agg_t agg;
    sink_t s;
    cq_bar_spec_t bad = {.kind = CQ_BAR_TIME, .step_ns = 5};
    ck_assert_int_eq(cq_bar_agg_init(&agg, 1, &bad, collect, &s), CQ_EINVAL);
    bad.kind = 99;
    ck_assert_int_eq(cq_bar_agg_init(&agg, 1, &bad, collect, &s), CQ_EINVAL);
    agg_for(&agg, &s, "1m");
    ck_assert_int_eq(cq_bar_agg_init(&agg, 1, &agg.spec, NULL, &s), CQ_EINVAL);
    agg_for(&agg, &s, "1m");
    cq_trade_t t = trade(T0, NAN, 1);
    ck_assert_int_eq(cq_bar_agg_trade(&agg, &t), CQ_EINVAL);
    t = trade(T0, 10, -1);
    ck_assert_int_eq(cq_bar_agg_trade(&agg, &t), CQ_EINVAL);
    t = trade(T0, INFINITY, 1);
    ck_assert_int_eq(cq_bar_agg_trade(&agg, &t), CQ_EINVAL);
    ck_assert_int_eq(cq_bar_agg_trade(&agg, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bar_agg_trade(NULL, &t), CQ_EINVAL);
    ck_assert_int_eq(cq_bar_agg_advance(NULL, 0), CQ_EINVAL);
    ck_assert_int_eq(agg.open, 0); /* nothing applied */
    t = trade(T0 + 10, 10, 1);
    cq_bar_agg_trade(&agg, &t);
    t = trade(T0 + 5, 10, 1);
    ck_assert_int_eq(cq_bar_agg_trade(&agg, &t), CQ_ESTATE);
    ck_assert_int_eq(agg.cur.trades, 1);
}
END_TEST

static Suite *bar_suite(void)
{
    Suite *s = suite_create("bar");
    TCase *tc = tcase_create("bar");
    tcase_add_test(tc, test_bar_spec_parse_and_format_round_trip);
    tcase_add_test(tc, test_bar_spec_rejects_bad_text);
    tcase_add_test(tc, test_time_bar_ohlcv_vwap_and_count);
    tcase_add_test(tc, test_time_bar_trade_exactly_on_boundary_opens_next_bar);
    tcase_add_test(tc, test_time_bar_closed_by_timer_at_its_end);
    tcase_add_test(tc, test_time_bar_timer_and_trade_give_identical_bars);
    tcase_add_test(tc, test_time_bar_interval_without_trades_gives_no_bar);
    tcase_add_test(tc, test_time_bar_fill_empty_emits_flat_bars);
    tcase_add_test(tc, test_day_bar_aligned_to_utc_midnight);
    tcase_add_test(tc, test_tick_bar_closes_on_nth_trade);
    tcase_add_test(tc, test_volume_bar_closes_when_volume_reached_without_split);
    tcase_add_test(tc, test_bar_rejects_bad_trades_and_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return cq_test_run(bar_suite()); }
