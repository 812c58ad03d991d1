/*
 * test_strategies.c - the example strategies of strategies/, backtested on
 * the real Binance recordings of ../shared/data, checked against invariants
 * that hold whatever the strategy does:
 *
 *   - fills never take more than the book showed: with zero latency an
 *     order is matched against the book its strategy saw, so at each taker
 *     fill the level's displayed size (less what our earlier fills took
 *     since the book last changed) covers it; a maker fill is at a price
 *     the market reached (a trade or the opposite touch);
 *   - the position equals the sum of the fills, exactly, in steps;
 *   - equity from the account equals cash plus position at the mark, with
 *     cash rebuilt independently from the fills and their fees;
 *   - two runs give byte-identical report files.
 *
 * Each strategy must actually trade on the recording (else the invariants
 * would hold vacuously).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/session.h"
#include "cquant/error.h"
#include "cquant/importer.h"
#include "support/cq_test.h"

static char g_dir[256];
static char g_cqd[512];

static int convert_recording(void)
{
    const char *src = cq_test_data_path("binance_spot/market_stream/hftbacktest_spot_btcusdt_20240808.gz");
    if (!src)
        return 0;
    char in[1024];
    snprintf(in, sizeof in, "%s", src);
    snprintf(g_dir, sizeof g_dir, "/tmp/cq_test_strategies_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    snprintf(g_cqd, sizeof g_cqd, "%s/btc.cqd", g_dir);
    cq_import_opts_t opts = {0};
    cq_import_t *imp;
    ck_assert_int_eq(cq_import_create(&imp, &opts), 0);
    ck_assert_int_eq(cq_import_define(imp, "BTCUSDT.BINANCE:tick=0.01:step=0.00000001:base=BTC:quote=USDT"), 0);
    ck_assert_msg(cq_import_file(imp, in) == 0, "%s", cq_import_error(imp));
    ck_assert_msg(cq_import_write(imp, g_cqd) == 0, "%s", cq_import_error(imp));
    cq_import_destroy(imp);
    return 1;
}

static void cleanup(void)
{
    if (!g_dir[0])
        return;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
}

typedef struct checker {
    cq_session_t *s;
    long fills, taker, maker;
    int64_t pos_steps;
    double cash;           /* quote asset, rebuilt from fills */
    double step;
    /* own taker consumption per (side, price) since the last book change */
    struct { int32_t side; double price, qty; } took[64];
    int ntook;
    double last_trade_hi, last_trade_lo; /* trade prices since the last book change */
    char problem[256];
} checker_t;

static void on_book(void *user, cq_topic_t topic, const void *msg)
{
    (void)topic;
    (void)msg;
    checker_t *c = user;
    c->ntook = 0;
    c->last_trade_hi = -INFINITY;
    c->last_trade_lo = INFINITY;
}

static void on_trade(void *user, cq_topic_t topic, const void *msg)
{
    (void)topic;
    checker_t *c = user;
    const cq_trade_t *t = msg;
    if (t->price > c->last_trade_hi)
        c->last_trade_hi = t->price;
    if (t->price < c->last_trade_lo)
        c->last_trade_lo = t->price;
}

static void on_fill(void *user, cq_topic_t topic, const void *msg)
{
    (void)topic;
    checker_t *c = user;
    const cq_fill_t *f = msg;
    c->fills++;
    int64_t steps = llround(f->qty / c->step);
    c->pos_steps += f->side == CQ_SIDE_BUY ? steps : -steps;
    c->cash += (f->side == CQ_SIDE_BUY ? -1 : 1) * f->price * f->qty - f->fee;
    const cq_book_t *b = cq_data_book(cq_rt_data(c->s->rt), f->hdr.instrument);
    if (!b || c->problem[0])
        return;
    cq_book_entry_t best;
    /* the opposite side of the book is where a taker takes */
    int32_t opp = f->side == CQ_SIDE_BUY ? CQ_SIDE_SELL : CQ_SIDE_BUY;
    if (f->liquidity == CQ_LIQ_TAKER) {
        c->taker++;
        int64_t tick = llround(f->price / 0.01), shown = 0;
        cq_book_qty_at(b, opp, tick, &shown);
        double taken = f->qty;
        int k;
        for (k = 0; k < c->ntook; k++)
            if (c->took[k].side == f->side && c->took[k].price == f->price)
                break;
        if (k < c->ntook)
            taken += c->took[k].qty;
        else if (c->ntook < 64) {
            c->took[k].side = f->side;
            c->took[k].price = f->price;
            c->took[k].qty = 0;
            c->ntook++;
        }
        if (k < 64)
            c->took[k].qty = taken;
        if (taken > cq_book_size(b, shown) + 1e-9)
            snprintf(c->problem, sizeof c->problem, "taker %s %.5f @ %.2f: the book showed %.5f there (own fills %.5f)",
                     cq_side_name(f->side), f->qty, f->price, cq_book_size(b, shown), taken - f->qty);
    } else {
        c->maker++;
        int reached = 0;
        if (f->side == CQ_SIDE_BUY)
            reached = c->last_trade_lo <= f->price + 1e-9 ||
                      (cq_book_best(b, CQ_SIDE_SELL, &best) == 0 && cq_book_price(b, best.tick) <= f->price + 1e-9);
        else
            reached = c->last_trade_hi >= f->price - 1e-9 ||
                      (cq_book_best(b, CQ_SIDE_BUY, &best) == 0 && cq_book_price(b, best.tick) >= f->price - 1e-9);
        /* a resting order may also fill from a trade seen before the last book change */
        const cq_trade_t *lt = cq_cache_trade(cq_rt_cache(c->s->rt), f->hdr.instrument);
        if (lt && (f->side == CQ_SIDE_BUY ? lt->price <= f->price + 1e-9 : lt->price >= f->price - 1e-9))
            reached = 1;
        if (!reached)
            snprintf(c->problem, sizeof c->problem, "maker %s %.5f @ %.2f: the market never reached that price",
                     cq_side_name(f->side), f->qty, f->price);
    }
}

/* One backtest with zero latency; returns fills; checks the invariants. */
static long backtest(const char *strategy, const char *const *params, const char *out)
{
    cq_opts_t o;
    cq_opts_init(&o);
    char path[1024];
    snprintf(path, sizeof path, "%s/strategies/%s", CQ_SOURCE_DIR, strategy);
    o.strategy = path;
    o.data[o.ndata++] = g_cqd;
    o.latency_ms = 0;
    o.quiet = 1;
    o.out = out;
    for (size_t i = 0; params && params[i]; i++)
        o.params[o.nparams++] = params[i];
    o.params[o.nparams] = NULL;
    cq_session_t s;
    char err[512];
    ck_assert_msg(cq_session_open(&s, &o, NULL, err, sizeof err) == 0, "%s", err);
    checker_t c = {.s = &s, .step = 0.00000001, .cash = 10000, .last_trade_hi = -INFINITY, .last_trade_lo = INFINITY};
    cq_bus_t *bus = cq_rt_bus(s.rt);
    /* book and trade bookkeeping before the sim (priority 1000000) sees them */
    ck_assert_int_eq(cq_bus_subscribe(bus, "data.book.*", 2000000, on_book, &c, NULL), 0);
    ck_assert_int_eq(cq_bus_subscribe(bus, "data.trades.*", 2000000, on_trade, &c, NULL), 0);
    ck_assert_int_eq(cq_bus_subscribe(bus, "events.fill.*", 0, on_fill, &c, NULL), 0);
    ck_assert_msg(cq_session_start(&s, err, sizeof err) == 0, "%s", err);
    int done = 0;
    long n = cq_rt_run_until(s.rt, INT64_MAX, &done, err, sizeof err);
    ck_assert_msg(n > 0, "%s", err);
    ck_assert_int_eq(done, 1);
    ck_assert_msg(!c.problem[0], "%s: %s", strategy, c.problem);
    /* position = sum of fills, exactly */
    const cq_position_t *p = cq_cache_position(cq_rt_cache(s.rt), s.instrument, s.strategy);
    ck_assert_int_eq(p ? p->qty_steps : 0, c.pos_steps);
    /* equity = cash + position at the mark, cash rebuilt from the fills */
    const cq_book_t *b = cq_data_book(cq_rt_data(s.rt), s.instrument);
    double mid = 0;
    /* the runtime's mark: the book's mid, else the last quote's (the
     * recording ends on a gap, with the book invalid) */
    if (!(cq_data_book_valid(cq_rt_data(s.rt), s.instrument) && cq_book_mid(b, &mid) == 0)) {
        const cq_quote_t *q = cq_cache_quote(cq_rt_cache(s.rt), s.instrument);
        ck_assert_ptr_nonnull(q);
        mid = (q->bid_price + q->ask_price) / 2;
    }
    double expect = c.cash + (double)c.pos_steps * c.step * mid;
    double eq = cq_rt_equity(s.rt, s.venue, s.quote);
    ck_assert_msg(fabs(eq - expect) < 1e-6 * (1 + fabs(expect)), "%s: equity %.8f, cash+position %.8f", strategy,
                  eq, expect);
    cq_lua_info_t li;
    ck_assert_int_eq(cq_lua_info(s.lua, s.strategy, &li), 0);
    ck_assert_msg(li.errors == 0, "%s: %s", strategy, li.last_error);
    cq_session_finish(&s);
    if (out) {
        cq_report_metrics_t m;
        cq_report_metrics(s.report, (uint64_t)n, 1.0, &m);
        ck_assert_msg(cq_report_write(s.report, &m, out, err, sizeof err) == 0, "%s", err);
    }
    cq_session_close(&s);
    return c.fills;
}

static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int x = fgetc(fa), y = fgetc(fb);
        if (x != y)
            same = 0;
        if (x == EOF || y == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static void check_twice(const char *strategy, const char *const *params, long min_fills)
{
    if (!convert_recording()) {
        cq_test_skip(strategy, "recorded data not found (set CQ_TEST_DATA)");
        return;
    }
    char d1[600], d2[600];
    snprintf(d1, sizeof d1, "%s/run1", g_dir);
    snprintf(d2, sizeof d2, "%s/run2", g_dir);
    long f1 = backtest(strategy, params, d1);
    long f2 = backtest(strategy, params, d2);
    ck_assert_msg(f1 >= min_fills, "%s: only %ld fills on the recording", strategy, f1);
    ck_assert_int_eq(f1, f2);
    const char *files[] = {"report.html", "trades.csv", "orders.csv", "equity.csv"};
    for (int i = 0; i < 4; i++) {
        char a[700], b[700];
        snprintf(a, sizeof a, "%s/%s", d1, files[i]);
        snprintf(b, sizeof b, "%s/%s", d2, files[i]);
        ck_assert_msg(access(a, R_OK) == 0, "%s missing", a);
        ck_assert_msg(same_file(a, b), "%s: %s differs between two runs", strategy, files[i]);
    }
    cleanup();
}

START_TEST(test_strategy_market_maker_on_recording_keeps_invariants)
{
    check_twice("market_maker.lua", NULL, 10);
}
END_TEST

START_TEST(test_strategy_sma_cross_on_recording_keeps_invariants)
{
    const char *p[] = {"bar=5s", "fast=3", "slow=8", NULL};
    check_twice("sma_cross.lua", p, 2);
}
END_TEST

START_TEST(test_strategy_book_imbalance_on_recording_keeps_invariants)
{
    check_twice("book_imbalance.lua", NULL, 4);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strategies");
    TCase *tc = tcase_create("strategies");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_strategy_market_maker_on_recording_keeps_invariants);
    tcase_add_test(tc, test_strategy_sma_cross_on_recording_keeps_invariants);
    tcase_add_test(tc, test_strategy_book_imbalance_on_recording_keeps_invariants);
    suite_add_tcase(s, tc);
    return cq_test_run(s);
}
