/*
 * test_report.c - backtest results (report.h): the metrics of
 * docs/backtest.md worked by hand on small runs, round trips (adds, partial
 * exits, reversals), the terminal summary, the four files (formats,
 * byte-identical rewrites, escaping of hostile strings, an empty run, a bad
 * directory, a run of 1,000,000 samples), and report.html rendered by
 * headless Chromium (skipped when chromium is not installed).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cquant/error.h"
#include "cquant/report.h"
#include "io/report_internal.h"
#include "support/cq_test.h"

#define REQUIRE(c)                                                                                                \
    do {                                                                                                          \
        if (!(c))                                                                                                 \
            ck_abort_msg("%s", #c);                                                                               \
    } while (0)

#define MIN_NS INT64_C(60000000000)
#define DAY_NS INT64_C(86400000000000)
#define T0 INT64_C(1767571200000000000) /* 2026-01-05T00:00:00Z */

static char g_tmp[] = "/tmp/cq_report_XXXXXX";

/* ---- helpers ----------------------------------------------------------------- */

/* strcasestr without _GNU_SOURCE. */
static const char *ci_find(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

static cq_report_t *make(double start_equity, int64_t period)
{
    cq_report_config_t cfg = {.strategy = "sma_cross",
                              .instrument = "BTCUSDT.SIM",
                              .quote_asset = "USDT",
                              .starting_equity = start_equity,
                              .sample_period_ns = period,
                              .params = "fast=10 slow=30"};
    cq_report_t *r = NULL;
    ck_assert_int_eq(cq_report_create(&r, &cfg), 0);
    return r;
}

static void fill(cq_report_t *r, int64_t ts, int32_t side, double price, double qty, double fee)
{
    cq_fill_t f;
    memset(&f, 0, sizeof f);
    f.hdr.type = CQ_EV_FILL;
    f.hdr.ts_event = ts;
    f.side = side;
    f.price = price;
    f.qty = qty;
    f.fee = fee;
    snprintf(f.fee_asset, sizeof f.fee_asset, "USDT");
    REQUIRE(cq_report_fill(r, &f) == 0);
}

static cq_report_metrics_t metrics(cq_report_t *r)
{
    cq_report_metrics_t m;
    ck_assert_int_eq(cq_report_metrics(r, 1000, 0.5, &m), 0);
    return m;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    REQUIRE(b && fread(b, 1, (size_t)n, f) == (size_t)n);
    b[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return b;
}

static char *slurp_in(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *b = slurp(path, len);
    ck_assert_msg(b != NULL, "cannot read %s", path);
    return b;
}

static const char *out_dir(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", g_tmp, name);
    return buf;
}

static char *print_to_string(const cq_report_t *r, const cq_report_metrics_t *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(cq_report_print(r, m, f), 0);
    fclose(f);
    return buf;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* A generated run: a random-walk mid sampled every minute, a strategy that
 * every `every` samples buys or sells 0.5 at the mid (fee 0.1 %), equity
 * marked at the mid, one order per fill. */
static void scenario(cq_report_t *r, size_t nsamples, size_t every, uint64_t seed)
{
    cq_rng_t rng = {seed};
    double price = 60000, cash = 100000, pos = 0;
    for (size_t i = 0; i < nsamples; i++) {
        int64_t ts = T0 + (int64_t)i * MIN_NS;
        price *= 1 + ((double)cq_rng_below(&rng, 2001) - 1000) / 1e6;
        price = round(price * 100) / 100;
        if (every && i % every == every / 2) {
            int32_t side = pos > 0 ? CQ_SIDE_SELL : pos < 0 ? CQ_SIDE_BUY
                                                            : cq_rng_below(&rng, 2) ? CQ_SIDE_BUY : CQ_SIDE_SELL;
            double fee = price * 0.5 * 0.001;
            fill(r, ts, side, price, 0.5, fee);
            pos += side == CQ_SIDE_BUY ? 0.5 : -0.5;
            cash -= (side == CQ_SIDE_BUY ? 1 : -1) * price * 0.5 + fee;
            cq_order_t o;
            memset(&o, 0, sizeof o);
            snprintf(o.client_order_id, sizeof o.client_order_id, "O-%zu", i);
            snprintf(o.tag, sizeof o.tag, "sig");
            o.side = side;
            o.type = CQ_ORDER_MARKET;
            o.tif = CQ_TIF_IOC;
            o.status = CQ_OS_FILLED;
            o.qty = o.filled_qty = 0.5;
            o.avg_fill_price = price;
            o.fees = fee;
            o.hdr.ts_init = o.hdr.ts_event = ts;
            REQUIRE(cq_report_order(r, &o, NULL) == 0);
        }
        REQUIRE(cq_report_equity(r, ts, cash + pos * price, price, pos) == 0);
    }
}

/* ---- metrics by hand ------------------------------------------------------------- */

START_TEST(test_report_drawdown_of_100_110_99_120)
{
    cq_report_t *r = make(100, MIN_NS);
    const double eq[] = {100, 110, 99, 120};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(cq_report_equity(r, T0 + i * MIN_NS, eq[i], 1, 0), 0);
    cq_report_metrics_t m = metrics(r);
    ck_assert_double_eq_tol(m.max_drawdown, 11, 1e-12);
    ck_assert_double_eq_tol(m.max_drawdown_pct, 0.1, 1e-15);
    ck_assert_int_eq(m.max_drawdown_ns, 2 * MIN_NS); /* from the peak at 110 to 120 */
    ck_assert_double_eq_tol(m.total_return, 0.2, 1e-15);
    ck_assert_int_eq(m.start_ns, T0);
    ck_assert_int_eq(m.end_ns, T0 + 3 * MIN_NS);
    ck_assert_double_eq(m.start_equity, 100);
    ck_assert_double_eq(m.end_equity, 120);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_drawdown_not_regained_runs_to_the_end)
{
    cq_report_t *r = make(100, MIN_NS);
    const double eq[] = {100, 120, 90, 100, 119};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(cq_report_equity(r, T0 + i * MIN_NS, eq[i], 1, 0), 0);
    cq_report_metrics_t m = metrics(r);
    ck_assert_double_eq_tol(m.max_drawdown, 30, 1e-12);
    ck_assert_double_eq_tol(m.max_drawdown_pct, 0.25, 1e-15);
    ck_assert_int_eq(m.max_drawdown_ns, 3 * MIN_NS);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_longest_drawdown_is_measured_apart_from_the_deepest)
{
    /* A deep short dip (t1..t2) then a shallow long one (t3..t9); the
     * biggest amount (at 1000) is a smaller fraction than the early dip. */
    cq_report_t *r = make(100, MIN_NS);
    const double eq[] = {100, 50, 100, 1000, 900, 950, 960, 970, 980, 1000};
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(cq_report_equity(r, T0 + i * MIN_NS, eq[i], 1, 0), 0);
    cq_report_metrics_t m = metrics(r);
    ck_assert_double_eq_tol(m.max_drawdown, 100, 1e-12);
    ck_assert_double_eq_tol(m.max_drawdown_pct, 0.5, 1e-15);
    ck_assert_int_eq(m.max_drawdown_ns, 6 * MIN_NS);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_long_round_trip_with_adds_closes_at_flat)
{
    cq_report_t *r = make(1000, MIN_NS);
    fill(r, T0, CQ_SIDE_BUY, 100, 1, 0.5);
    fill(r, T0 + MIN_NS, CQ_SIDE_BUY, 110, 1, 0.5);
    fill(r, T0 + 2 * MIN_NS, CQ_SIDE_SELL, 120, 1.5, 1);
    size_t n;
    cq_report_trades(r, &n);
    ck_assert_uint_eq(n, 0); /* 0.5 still open */
    fill(r, T0 + 3 * MIN_NS, CQ_SIDE_SELL, 130, 0.5, 1);
    const cq_report_trade_t *t = cq_report_trades(r, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(t[0].side, CQ_SIDE_BUY);
    ck_assert_int_eq(t[0].entry_ns, T0);
    ck_assert_int_eq(t[0].exit_ns, T0 + 3 * MIN_NS);
    ck_assert_double_eq_tol(t[0].qty, 2, 1e-12);
    ck_assert_double_eq_tol(t[0].avg_entry, 105, 1e-12);
    ck_assert_double_eq_tol(t[0].avg_exit, 122.5, 1e-12);
    ck_assert_double_eq_tol(t[0].fees, 3, 1e-12);
    ck_assert_double_eq_tol(t[0].pnl, 245 - 210 - 3, 1e-9);
    ck_assert_double_eq_tol(t[0].ret, 32.0 / 210, 1e-12);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_reversing_fill_splits_into_two_round_trips)
{
    cq_report_t *r = make(1000, MIN_NS);
    fill(r, T0, CQ_SIDE_BUY, 100, 1, 1);
    fill(r, T0 + MIN_NS, CQ_SIDE_SELL, 110, 3, 3); /* closes 1, opens a short of 2 */
    size_t n;
    const cq_report_trade_t *t = cq_report_trades(r, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(t[0].side, CQ_SIDE_BUY);
    ck_assert_double_eq_tol(t[0].qty, 1, 1e-12);
    ck_assert_double_eq_tol(t[0].fees, 2, 1e-12); /* 1 + a third of 3 */
    ck_assert_double_eq_tol(t[0].pnl, 10 - 2, 1e-12);
    fill(r, T0 + 2 * MIN_NS, CQ_SIDE_BUY, 100, 2, 0);
    t = cq_report_trades(r, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(t[1].side, CQ_SIDE_SELL);
    ck_assert_int_eq(t[1].entry_ns, T0 + MIN_NS);
    ck_assert_int_eq(t[1].exit_ns, T0 + 2 * MIN_NS);
    ck_assert_double_eq_tol(t[1].qty, 2, 1e-12);
    ck_assert_double_eq_tol(t[1].avg_entry, 110, 1e-12);
    ck_assert_double_eq_tol(t[1].avg_exit, 100, 1e-12);
    ck_assert_double_eq_tol(t[1].fees, 2, 1e-12);
    ck_assert_double_eq_tol(t[1].pnl, 20 - 2, 1e-12);
    cq_report_metrics_t m = metrics(r);
    ck_assert_uint_eq(m.trades, 2);
    ck_assert_uint_eq(m.fills, 3);
    ck_assert_double_eq_tol(m.fees, 4, 1e-12);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_decimal_noise_does_not_leave_a_trip_open)
{
    /* 0.1 + 0.2 bought, 0.3 sold: flat, though 0.1 + 0.2 != 0.3 in double. */
    cq_report_t *r = make(1000, MIN_NS);
    fill(r, T0, CQ_SIDE_BUY, 100, 0.1, 0);
    fill(r, T0 + 1, CQ_SIDE_BUY, 100, 0.2, 0);
    fill(r, T0 + 2, CQ_SIDE_SELL, 101, 0.3, 0);
    fill(r, T0 + 3, CQ_SIDE_SELL, 101, 0.3, 0); /* a new short, not a reversal remainder */
    size_t n;
    const cq_report_trade_t *t = cq_report_trades(r, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_double_eq_tol(t[0].pnl, 0.3, 1e-9);
    fill(r, T0 + 4, CQ_SIDE_BUY, 100, 0.3, 0);
    t = cq_report_trades(r, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(t[1].side, CQ_SIDE_SELL);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_win_rate_profit_factor_and_averages)
{
    cq_report_t *r = make(1000, MIN_NS);
    int64_t t = T0;
    fill(r, t++, CQ_SIDE_BUY, 100, 1, 0); /* +10 */
    fill(r, t++, CQ_SIDE_SELL, 110, 1, 0);
    fill(r, t++, CQ_SIDE_BUY, 100, 1, 0); /* -5 */
    fill(r, t++, CQ_SIDE_SELL, 95, 1, 0);
    fill(r, t++, CQ_SIDE_SELL, 100, 1, 0); /* short, +20 */
    fill(r, t++, CQ_SIDE_BUY, 80, 1, 0);
    fill(r, t++, CQ_SIDE_BUY, 100, 1, 0); /* 0: neither a win nor a loss */
    fill(r, t++, CQ_SIDE_SELL, 100, 1, 0);
    cq_report_metrics_t m = metrics(r);
    ck_assert_uint_eq(m.trades, 4);
    ck_assert_double_eq_tol(m.win_rate, 0.5, 1e-15);
    ck_assert_double_eq_tol(m.profit_factor, 6, 1e-12);
    ck_assert_double_eq_tol(m.avg_win, 15, 1e-12);
    ck_assert_double_eq_tol(m.avg_loss, -5, 1e-12);
    ck_assert_double_eq_tol(m.turnover, (100 + 110 + 100 + 95 + 100 + 80 + 100 + 100) / 1000.0, 1e-12);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_profit_factor_without_losses_is_inf)
{
    cq_report_t *r = make(1000, MIN_NS);
    ck_assert_int_eq(cq_report_equity(r, T0, 1000, 100, 0), 0);
    fill(r, T0, CQ_SIDE_BUY, 100, 1, 0);
    fill(r, T0 + 1, CQ_SIDE_SELL, 110, 1, 0);
    cq_report_metrics_t m = metrics(r);
    ck_assert(isinf(m.profit_factor) && m.profit_factor > 0);
    ck_assert(isnan(m.avg_loss));
    char *s = print_to_string(r, &m);
    ck_assert_ptr_nonnull(strstr(s, "profit factor   inf\n"));
    ck_assert_ptr_nonnull(strstr(s, "avg win / loss  10.00 / n/a USDT"));
    free(s);
    cq_report_destroy(r);
}
END_TEST

/* The documented formulas, written out again here. */
static void sharpe_by_formula(const double *eq, size_t n, double period_s, double *sharpe, double *sortino)
{
    double rs[64], mean = 0, var = 0, down = 0;
    size_t k = n - 1;
    for (size_t i = 1; i < n; i++)
        rs[i - 1] = eq[i] / eq[i - 1] - 1;
    for (size_t i = 0; i < k; i++)
        mean += rs[i] / (double)k;
    for (size_t i = 0; i < k; i++) {
        var += (rs[i] - mean) * (rs[i] - mean) / (double)(k - 1);
        if (rs[i] < 0)
            down += rs[i] * rs[i] / (double)k;
    }
    double ann = sqrt(365.0 * 86400.0 / period_s);
    *sharpe = mean / sqrt(var) * ann;
    *sortino = mean / sqrt(down) * ann;
}

START_TEST(test_report_sharpe_and_sortino_follow_the_documented_formula)
{
    cq_rng_t rng = {42};
    double eq[40];
    eq[0] = 10000;
    for (int i = 1; i < 40; i++)
        eq[i] = eq[i - 1] * (1 + ((double)cq_rng_below(&rng, 2001) - 990) / 1e5);
    const int64_t periods[] = {MIN_NS, 3600 * INT64_C(1000000000), DAY_NS};
    for (int p = 0; p < 3; p++) {
        cq_report_t *r = make(10000, periods[p]);
        for (int i = 0; i < 40; i++)
            ck_assert_int_eq(cq_report_equity(r, T0 + i * periods[p], eq[i], 1, 0), 0);
        cq_report_metrics_t m = metrics(r);
        double sh, so;
        sharpe_by_formula(eq, 40, (double)periods[p] / 1e9, &sh, &so);
        ck_assert_double_eq_tol(m.sharpe, sh, fabs(sh) * 1e-9);
        ck_assert_double_eq_tol(m.sortino, so, fabs(so) * 1e-9);
        cq_report_destroy(r);
    }
    /* 100, 110, 99, 120 daily, by hand: r = 0.1, -0.1, 0.2121... */
    cq_report_t *r = make(100, DAY_NS);
    const double e4[] = {100, 110, 99, 120};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(cq_report_equity(r, T0 + i * DAY_NS, e4[i], 1, 0), 0);
    cq_report_metrics_t m = metrics(r);
    double r3 = 120.0 / 99 - 1, mean = (0.1 - 0.1 + r3) / 3;
    double sd = sqrt(((0.1 - mean) * (0.1 - mean) + (-0.1 - mean) * (-0.1 - mean) + (r3 - mean) * (r3 - mean)) / 2);
    ck_assert_double_eq_tol(m.sharpe, mean / sd * sqrt(365), 1e-9);
    ck_assert_double_eq_tol(m.sortino, mean / sqrt(0.01 / 3) * sqrt(365), 1e-9);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_sharpe_is_zero_when_undefined)
{
    cq_report_t *r = make(100, MIN_NS);
    ck_assert_int_eq(cq_report_equity(r, T0, 100, 1, 0), 0);
    ck_assert_int_eq(cq_report_equity(r, T0 + MIN_NS, 101, 1, 0), 0);
    cq_report_metrics_t m = metrics(r); /* one return */
    ck_assert_double_eq(m.sharpe, 0);
    ck_assert_double_eq(m.sortino, 0);
    cq_report_destroy(r);

    r = make(100, MIN_NS); /* constant: zero deviation */
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(cq_report_equity(r, T0 + i * MIN_NS, 100, 1, 0), 0);
    m = metrics(r);
    ck_assert_double_eq(m.sharpe, 0);
    ck_assert_double_eq(m.sortino, 0);
    cq_report_destroy(r);

    r = make(100, MIN_NS); /* rising steadily: no negative return */
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(cq_report_equity(r, T0 + i * MIN_NS, 100 + i * i, 1, 0), 0);
    m = metrics(r);
    ck_assert(m.sharpe > 0);
    ck_assert_double_eq(m.sortino, 0);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_exposure_is_time_weighted)
{
    cq_report_t *r = make(1000, MIN_NS);
    ck_assert_int_eq(cq_report_equity(r, T0, 1000, 1, 0), 0);
    ck_assert_int_eq(cq_report_equity(r, T0 + 10, 1000, 1, 1), 0);
    ck_assert_int_eq(cq_report_equity(r, T0 + 40, 1000, 1, -2), 0);
    ck_assert_int_eq(cq_report_equity(r, T0 + 50, 1000, 1, 0), 0);
    ck_assert_int_eq(cq_report_equity(r, T0 + 100, 1000, 1, 0), 0);
    cq_report_metrics_t m = metrics(r);
    ck_assert_double_eq_tol(m.exposure, 0.4, 1e-15);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_counts_orders_and_events_per_second)
{
    cq_report_t *r = make(100000, MIN_NS);
    scenario(r, 1000, 100, 7);
    cq_report_metrics_t m;
    ck_assert_int_eq(cq_report_metrics(r, 5000, 2.0, &m), 0);
    ck_assert_uint_eq(m.events, 5000);
    ck_assert_double_eq(m.wall_seconds, 2.0);
    ck_assert_double_eq(m.events_per_sec, 2500);
    ck_assert_uint_eq(m.orders, 10);
    ck_assert_uint_eq(m.fills, 10);
    ck_assert_uint_eq(m.trades, 5);
    cq_report_destroy(r);
}
END_TEST

/* ---- formats ----------------------------------------------------------------------- */

START_TEST(test_report_time_and_number_formats)
{
    char b[64];
    cq_rp_fmt_time(b, sizeof b, 0);
    ck_assert_str_eq(b, "1970-01-01T00:00:00.000Z");
    cq_rp_fmt_time(b, sizeof b, T0 + 3723 * INT64_C(1000000000) + 456789123);
    ck_assert_str_eq(b, "2026-01-05T01:02:03.456Z");
    cq_rp_fmt_time(b, sizeof b, -1);
    ck_assert_str_eq(b, "1969-12-31T23:59:59.999Z");
    cq_rp_fmt_time(b, sizeof b, INT64_C(951782400) * 1000000000); /* leap day */
    ck_assert_str_eq(b, "2000-02-29T00:00:00.000Z");
    cq_rp_fmt_dur(b, sizeof b, 2 * MIN_NS);
    ck_assert_str_eq(b, "00:02:00");
    cq_rp_fmt_dur(b, sizeof b, 3 * DAY_NS + 4 * 3600 * INT64_C(1000000000) + 250000000);
    ck_assert_str_eq(b, "3d 04:00:00.250");
    cq_rp_fmt_period(b, sizeof b, MIN_NS);
    ck_assert_str_eq(b, "1m");
    cq_rp_fmt_period(b, sizeof b, 250000000);
    ck_assert_str_eq(b, "250ms");
    cq_rp_fmt_period(b, sizeof b, 90 * INT64_C(1000000000));
    ck_assert_str_eq(b, "90s");
    cq_rp_fmt_fixed(b, sizeof b, NAN, 2);
    ck_assert_str_eq(b, "n/a");
    cq_rp_fmt_fixed(b, sizeof b, -INFINITY, 2);
    ck_assert_str_eq(b, "-inf");
    cq_rp_fmt_fixed(b, sizeof b, -0.001, 2);
    ck_assert_str_eq(b, "0.00");
    cq_rp_fmt_fixed(b, sizeof b, 1e300, 2);
    ck_assert_str_eq(b, "1.000000e+300");
    cq_rp_fmt_num(b, sizeof b, 60123.45);
    ck_assert_str_eq(b, "60123.45");
    cq_rp_fmt_num(b, sizeof b, 0.00001);
    ck_assert_str_eq(b, "0.00001");
    cq_rp_fmt_num(b, sizeof b, 12);
    ck_assert_str_eq(b, "12");
    cq_rp_fmt_num(b, sizeof b, -1e-12);
    ck_assert_str_eq(b, "0");
    cq_rp_fmt_num(b, sizeof b, 0.1 + 0.2);
    ck_assert_str_eq(b, "0.3");
}
END_TEST

/* The fixed format is built by hand for speed: it must be printf's %.*f
 * digit for digit (exact half-to-even rounding of the binary value). */
START_TEST(test_report_fixed_format_matches_printf)
{
    cq_rng_t rng = {12345};
    char mine[64], ref[64];
    const double ties[] = {0.5, 1.5, 2.5, 0.125, 0.375, 0.001953125, 1e-9, 5e-10, 123456789.125, 0.1 + 0.2,
                           9.99999999999e17, 4503599627370495.5, 1e-300, 5e-324};
    for (int i = 0; i < 200000 + (int)(sizeof ties / sizeof ties[0]); i++) {
        double x;
        if (i < (int)(sizeof ties / sizeof ties[0])) {
            x = ties[i];
        } else {
            /* random mantissa, exponent over 1e-12 .. 1e17 */
            double mant = (double)(cq_rng_next(&rng) >> 11) / 9007199254740992.0;
            x = ldexp(mant, (int)cq_rng_below(&rng, 97) - 40);
            if (cq_rng_next(&rng) & 1)
                x = -x;
        }
        int d = (int)cq_rng_below(&rng, 10);
        cq_rp_fmt_fixed(mine, sizeof mine, x, d);
        snprintf(ref, sizeof ref, "%.*f", d, x);
        const char *r = ref;
        if (ref[0] == '-' && strspn(ref + 1, "0.") == strlen(ref + 1))
            r = ref + 1; /* ours never prints -0 */
        if (strcmp(mine, r) != 0)
            ck_abort_msg("%.17g with %d decimals: %s, printf %s", x, d, mine, r);
    }
}
END_TEST

START_TEST(test_report_print_shows_period_and_sampling_period)
{
    cq_report_t *r = make(100, MIN_NS);
    const double eq[] = {100, 110, 99, 120};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(cq_report_equity(r, T0 + i * MIN_NS, eq[i], 1, 0), 0);
    cq_report_metrics_t m;
    ck_assert_int_eq(cq_report_metrics(r, 123456, 0.5, &m), 0);
    char *s = print_to_string(r, &m);
    ck_assert_ptr_nonnull(strstr(s, "backtest  sma_cross on BTCUSDT.SIM\n"));
    ck_assert_ptr_nonnull(strstr(s, "params          fast=10 slow=30\n"));
    ck_assert_ptr_nonnull(strstr(s, "period          2026-01-05T00:00:00.000Z .. 2026-01-05T00:03:00.000Z (00:03:00)\n"));
    ck_assert_ptr_nonnull(strstr(s, "events          123456 in 0.500 s wall (246912 events/s)\n"));
    ck_assert_ptr_nonnull(strstr(s, "start equity    100.00 USDT\n"));
    ck_assert_ptr_nonnull(strstr(s, "end equity      120.00 USDT\n"));
    ck_assert_ptr_nonnull(strstr(s, "total return    20.00 %\n"));
    ck_assert_ptr_nonnull(strstr(s, "(annualized from 1m equity samples, x sqrt(525600), risk-free 0)\n"));
    ck_assert_ptr_nonnull(strstr(s, "max drawdown    11.00 USDT (10.00 %), longest 00:02:00\n"));
    ck_assert_ptr_nonnull(strstr(s, "win rate        n/a\n"));
    ck_assert_ptr_nonnull(strstr(s, "profit factor   n/a\n"));
    free(s);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_print_neutralizes_terminal_escapes)
{
    cq_report_config_t cfg = {.strategy = "evil\x1b[2J\x07", .instrument = "X", .quote_asset = "Q",
                              .starting_equity = 1, .sample_period_ns = MIN_NS};
    cq_report_t *r = NULL;
    ck_assert_int_eq(cq_report_create(&r, &cfg), 0);
    cq_report_metrics_t m = metrics(r);
    char *s = print_to_string(r, &m);
    ck_assert_ptr_null(strchr(s, '\x1b'));
    ck_assert_ptr_null(strchr(s, '\x07'));
    ck_assert_ptr_nonnull(strstr(s, "evil?[2J?"));
    free(s);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_csv_files_have_the_documented_rows)
{
    cq_report_t *r = make(1000, MIN_NS);
    ck_assert_int_eq(cq_report_equity(r, T0, 1000, 100, 0), 0);
    fill(r, T0 + MIN_NS, CQ_SIDE_BUY, 100, 1, 0.1);
    ck_assert_int_eq(cq_report_equity(r, T0 + MIN_NS, 999.9, 100, 1), 0);
    fill(r, T0 + 2 * MIN_NS, CQ_SIDE_SELL, 90.5, 1, 0.1);
    ck_assert_int_eq(cq_report_equity(r, T0 + 2 * MIN_NS, 990.3, NAN, 0), 0);
    cq_order_t o;
    memset(&o, 0, sizeof o);
    snprintf(o.client_order_id, sizeof o.client_order_id, "C-1");
    snprintf(o.tag, sizeof o.tag, "say \"hi\", ok");
    o.side = CQ_SIDE_BUY;
    o.type = CQ_ORDER_LIMIT;
    o.tif = CQ_TIF_GTC;
    o.status = CQ_OS_FILLED;
    o.price = 100;
    o.qty = o.filled_qty = 1;
    o.avg_fill_price = 100;
    o.fees = 0.1;
    o.hdr.ts_init = T0 + 5;
    o.hdr.ts_event = T0 + MIN_NS;
    ck_assert_int_eq(cq_report_order(r, &o, "BTCUSDT.OTHER"), 0);
    cq_report_metrics_t m = metrics(r);
    char err[256];
    ck_assert_int_eq(cq_report_write(r, &m, out_dir("csv"), err, sizeof err), 0);

    char *s = slurp_in(out_dir("csv"), "trades.csv", NULL);
    ck_assert_str_eq(s, "entry_ns,entry_time,exit_ns,exit_time,side,qty,avg_entry,avg_exit,pnl,fees,return\n"
                        "1767571260000000000,2026-01-05T00:01:00.000Z,1767571320000000000,2026-01-05T00:02:00.000Z,"
                        "LONG,1,100,90.5,-9.7,0.2,-0.097\n");
    free(s);
    s = slurp_in(out_dir("csv"), "equity.csv", NULL);
    ck_assert_str_eq(s, "ts_ns,time,equity,price,position,drawdown\n"
                        "1767571200000000000,2026-01-05T00:00:00.000Z,1000,100,0,0\n"
                        "1767571260000000000,2026-01-05T00:01:00.000Z,999.9,100,1,0.0001\n"
                        "1767571320000000000,2026-01-05T00:02:00.000Z,990.3,n/a,0,0.0097\n");
    free(s);
    s = slurp_in(out_dir("csv"), "orders.csv", NULL);
    ck_assert_str_eq(s, "client_order_id,instrument,side,type,tif,price,qty,filled_qty,avg_fill_price,status,fees,"
                        "tag,created_ns,last_change_ns\n"
                        "C-1,BTCUSDT.OTHER,BUY,LIMIT,GTC,100,1,1,100,FILLED,0.1,\"say \"\"hi\"\", ok\","
                        "1767571200000000005,1767571260000000000\n");
    free(s);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_orders_csv_keeps_unterminated_fields_bounded)
{
    cq_report_t *r = make(1000, MIN_NS);
    cq_order_t o;
    memset(&o, 'A', sizeof o); /* every char array full, no NUL */
    o.side = 99;
    o.type = -1;
    o.tif = 0;
    o.status = 1234;
    o.price = o.qty = o.filled_qty = o.avg_fill_price = o.fees = NAN;
    ck_assert_int_eq(cq_report_order(r, &o, NULL), 0);
    cq_report_metrics_t m = metrics(r);
    char err[256];
    ck_assert_int_eq(cq_report_write(r, &m, out_dir("unterminated"), err, sizeof err), 0);
    char *s = slurp_in(out_dir("unterminated"), "orders.csv", NULL);
    char *row = strchr(s, '\n') + 1;
    ck_assert_int_eq(strspn(row, "A"), 40); /* the id, then the instrument */
    ck_assert_ptr_nonnull(strstr(row, ",BTCUSDT.SIM,?,?,?,n/a,n/a,n/a,n/a,?,n/a,"));
    ck_assert_uint_eq(count_lines(s), 2);
    free(s);
    cq_report_destroy(r);
}
END_TEST

/* ---- files ---------------------------------------------------------------------------- */

static const char *const FILES[] = {"report.html", "trades.csv", "orders.csv", "equity.csv"};

START_TEST(test_report_same_inputs_give_byte_identical_files)
{
    char err[256];
    for (int k = 0; k < 2; k++) {
        cq_report_t *r = make(100000, MIN_NS);
        scenario(r, 5000, 37, 99);
        cq_report_metrics_t m;
        /* wall time differs between runs: it must not reach the files */
        ck_assert_int_eq(cq_report_metrics(r, 777, k ? 1.5 : 0.25, &m), 0);
        ck_assert_int_eq(cq_report_write(r, &m, out_dir(k ? "same-b" : "same-a"), err, sizeof err), 0);
        if (k) /* and writing again over the same directory */
            ck_assert_int_eq(cq_report_write(r, &m, out_dir("same-a"), err, sizeof err), 0);
        cq_report_destroy(r);
    }
    for (size_t i = 0; i < 4; i++) {
        size_t la, lb;
        char *a = slurp_in(out_dir("same-a"), FILES[i], &la);
        char *b = slurp_in(out_dir("same-b"), FILES[i], &lb);
        ck_assert_msg(la == lb && memcmp(a, b, la) == 0, "%s differs", FILES[i]);
        ck_assert_uint_gt(la, 100);
        free(a);
        free(b);
    }
    char path[600];
    snprintf(path, sizeof path, "%s/report.html.tmp", out_dir("same-a"));
    ck_assert_int_ne(access(path, F_OK), 0); /* no temporary left behind */
}
END_TEST

START_TEST(test_report_html_escapes_hostile_strings)
{
    cq_report_config_t cfg = {.strategy = "<script>alert('x')</script>\"&",
                              .instrument = "BTC<b>USDT",
                              .quote_asset = "US\"DT' onload='x",
                              .starting_equity = 1000,
                              .sample_period_ns = MIN_NS,
                              .params = "a=<img src=x onerror=alert(1)> b='\"&amp;' c=\x01"};
    cq_report_t *r = NULL;
    ck_assert_int_eq(cq_report_create(&r, &cfg), 0);
    scenario(r, 100, 10, 3);
    cq_report_metrics_t m = metrics(r);
    char err[256];
    ck_assert_int_eq(cq_report_write(r, &m, out_dir("hostile"), err, sizeof err), 0);
    char *s = slurp_in(out_dir("hostile"), "report.html", NULL);
    ck_assert_ptr_null(ci_find(s, "<script"));
    ck_assert_ptr_null(ci_find(s, "<img"));
    ck_assert_ptr_null(ci_find(s, "<b>"));
    ck_assert_ptr_null(strstr(s, "' onload"));
    ck_assert_ptr_null(strchr(s, '\x01'));
    ck_assert_ptr_nonnull(strstr(s, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp; on BTC&lt;b&gt;USDT"));
    ck_assert_ptr_nonnull(strstr(s, "a=&lt;img src=x onerror=alert(1)&gt; b=&#39;&quot;&amp;amp;&#39; c=&#xFFFD;"));
    ck_assert_ptr_nonnull(strstr(s, "US&quot;DT&#39; onload=&#39;x"));
    free(s);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_html_has_charts_tables_and_no_external_resources)
{
    cq_report_t *r = make(100000, MIN_NS);
    scenario(r, 3000, 50, 5);
    cq_report_metrics_t m = metrics(r);
    char err[256];
    ck_assert_int_eq(cq_report_write(r, &m, out_dir("plain"), err, sizeof err), 0);
    char *s = slurp_in(out_dir("plain"), "report.html", NULL);
    const char *ids[] = {"id=\"metrics\"", "id=\"chart-equity\"", "id=\"chart-drawdown\"", "id=\"chart-price\"",
                         "id=\"line-equity\" ", "id=\"line-drawdown\" ", "id=\"line-price\" ",
                         "id=\"markers-buy\" ", "id=\"markers-sell\" ", "id=\"trades\""};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        ck_assert_msg(strstr(s, ids[i]) != NULL, "missing %s", ids[i]);
    /* 3000 samples > 2000: the line is downsampled to 2000 points or fewer */
    const char *d = strstr(strstr(s, "id=\"line-equity\""), " d=\"M");
    size_t pts = 1;
    for (d += 5; *d != '"'; d++)
        pts += *d == 'L' || *d == 'M';
    ck_assert_uint_le(pts, 2000);
    ck_assert_uint_ge(pts, 1000);
    const char *bad[] = {"http:", "https:", "src=", "href=", "url(", "<script", "@import", "<link", "<img"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(ci_find(s, bad[i]) == NULL, "found %s", bad[i]);
    ck_assert_ptr_nonnull(strstr(s, "default-src 'none'"));
    free(s);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_html_trades_table_stops_at_500)
{
    cq_report_t *r = make(100000, MIN_NS);
    scenario(r, 1300, 1, 11); /* a fill every minute: 650 round trips */
    cq_report_metrics_t m = metrics(r);
    ck_assert_uint_eq(m.trades, 650);
    char err[256];
    ck_assert_int_eq(cq_report_write(r, &m, out_dir("many"), err, sizeof err), 0);
    char *s = slurp_in(out_dir("many"), "report.html", NULL);
    ck_assert_ptr_nonnull(strstr(s, "<tr><td>500</td>"));
    ck_assert_ptr_null(strstr(s, "<tr><td>501</td>"));
    ck_assert_ptr_nonnull(strstr(s, "650 round trips; the first 500 are shown, trades.csv has all."));
    free(s);
    s = slurp_in(out_dir("many"), "trades.csv", NULL);
    ck_assert_uint_eq(count_lines(s), 651);
    free(s);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_empty_run_gives_na_values_not_a_crash)
{
    char err[256];
    for (int samples = 0; samples <= 1; samples++) {
        cq_report_t *r = make(1000, MIN_NS);
        if (samples)
            ck_assert_int_eq(cq_report_equity(r, T0, 1000, NAN, 0), 0);
        cq_report_metrics_t m;
        ck_assert_int_eq(cq_report_metrics(r, 0, 0, &m), 0);
        ck_assert_uint_eq(m.trades, 0);
        ck_assert_double_eq(m.sharpe, 0);
        ck_assert_double_eq(m.total_return, 0);
        ck_assert(isnan(m.win_rate) && isnan(m.exposure) && isnan(m.events_per_sec));
        char *s = print_to_string(r, &m);
        ck_assert_ptr_nonnull(strstr(s, "win rate        n/a\n"));
        ck_assert_ptr_nonnull(strstr(s, "exposure        n/a\n"));
        ck_assert_ptr_nonnull(strstr(s, samples ? "period          2026-01-05" : "period          n/a"));
        free(s);
        const char *dir = out_dir(samples ? "empty1" : "empty0");
        ck_assert_int_eq(cq_report_write(r, &m, dir, err, sizeof err), 0);
        s = slurp_in(dir, "report.html", NULL);
        ck_assert_ptr_nonnull(strstr(s, "id=\"chart-equity\""));
        ck_assert_ptr_nonnull(strstr(s, "id=\"chart-price\""));
        ck_assert_ptr_nonnull(strstr(s, "<th>Win rate</th><td>n/a</td>"));
        ck_assert_ptr_null(strstr(s, "nan"));
        ck_assert_ptr_nonnull(strstr(s, "</html>\n"));
        free(s);
        s = slurp_in(dir, "trades.csv", NULL);
        ck_assert_uint_eq(count_lines(s), 1);
        free(s);
        s = slurp_in(dir, "equity.csv", NULL);
        ck_assert_uint_eq(count_lines(s), 1u + (unsigned)samples);
        free(s);
        cq_report_destroy(r);
    }
}
END_TEST

START_TEST(test_report_write_to_a_bad_directory_fails_clearly)
{
    cq_report_t *r = make(1000, MIN_NS);
    cq_report_metrics_t m = metrics(r);
    char err[256];
    char file[512];
    snprintf(file, sizeof file, "%s/plainfile", g_tmp);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(cq_report_write(r, &m, file, err, sizeof err), CQ_EIO);
    ck_assert_ptr_nonnull(strstr(err, "not a directory"));
    ck_assert_ptr_nonnull(strstr(err, file));
    char below[600];
    snprintf(below, sizeof below, "%s/sub/dir", file);
    err[0] = '\0';
    ck_assert_int_eq(cq_report_write(r, &m, below, err, sizeof err), CQ_EIO);
    ck_assert_ptr_nonnull(strstr(err, "cannot create directory"));
    ck_assert_int_eq(cq_report_write(r, &m, "", err, sizeof err), CQ_EINVAL);
    ck_assert_int_eq(cq_report_write(r, &m, NULL, err, sizeof err), CQ_EINVAL);
    ck_assert_int_eq(cq_report_write(NULL, &m, g_tmp, NULL, 0), CQ_EINVAL);
    /* nested directories that do not exist yet are created */
    ck_assert_int_eq(cq_report_write(r, &m, out_dir("a/b/c"), err, sizeof err), 0);
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_refuses_bad_input_and_keeps_what_it_has)
{
    cq_report_t *r = NULL;
    cq_report_config_t cfg = {.starting_equity = 1000, .sample_period_ns = 0};
    ck_assert_int_eq(cq_report_create(&r, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_report_create(&r, &cfg), CQ_EINVAL);
    ck_assert_ptr_null(r);
    cfg.sample_period_ns = MIN_NS;
    cfg.starting_equity = NAN;
    ck_assert_int_eq(cq_report_create(&r, &cfg), CQ_EINVAL);
    cfg.starting_equity = 1000;
    ck_assert_int_eq(cq_report_create(&r, &cfg), 0); /* NULL strings are "" */

    ck_assert_int_eq(cq_report_equity(r, T0, 1000, 1, 0), 0);
    ck_assert_int_eq(cq_report_equity(r, T0 - 1, 1000, 1, 0), CQ_EINVAL); /* back in time */
    ck_assert_int_eq(cq_report_equity(r, T0 + 1, NAN, 1, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_report_equity(r, T0 + 1, 1000, 1, INFINITY), CQ_EINVAL);
    ck_assert_int_eq(cq_report_equity(NULL, T0 + 1, 1000, 1, 0), CQ_EINVAL);
    cq_report_t *r2 = make(1, MIN_NS);
    ck_assert_int_eq(cq_report_equity(r2, -1, 1000, 1, 0), CQ_EINVAL); /* before 1970 */
    cq_report_destroy(r2);

    fill(r, T0, CQ_SIDE_BUY, 100, 1, 0);
    cq_fill_t f;
    memset(&f, 0, sizeof f);
    f.side = CQ_SIDE_SELL;
    f.price = 100;
    f.qty = 1;
    cq_fill_t bad[7];
    for (int i = 0; i < 7; i++)
        bad[i] = f;
    bad[6].hdr.ts_event = -5;
    bad[0].side = 0;
    bad[1].side = 7;
    bad[2].qty = 0;
    bad[3].qty = -1;
    bad[4].price = NAN;
    bad[5].fee = INFINITY;
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(cq_report_fill(r, &bad[i]), CQ_EINVAL);
    ck_assert_int_eq(cq_report_fill(r, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_report_order(r, NULL, NULL), CQ_EINVAL);
    char longid[80];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    cq_order_t o;
    memset(&o, 0, sizeof o);
    ck_assert_int_eq(cq_report_order(r, &o, longid), CQ_ETOOLONG);

    cq_report_metrics_t m = metrics(r);
    ck_assert_uint_eq(m.fills, 1);
    ck_assert_uint_eq(m.orders, 0);
    ck_assert_int_eq(m.start_ns, T0);
    ck_assert_int_eq(m.end_ns, T0);
    ck_assert_int_eq(cq_report_metrics(NULL, 0, 0, &m), CQ_EINVAL);
    ck_assert_int_eq(cq_report_print(r, &m, NULL), CQ_EINVAL);
    cq_report_destroy(r);
    cq_report_destroy(NULL);
}
END_TEST

START_TEST(test_report_extreme_values_do_not_break_the_files)
{
    cq_report_t *r = make(1e300, 1);
    const double eq[] = {1e300, -1e300, 1e-300, 0, 5e307, -5e307};
    const int64_t ts[] = {0, 0, 1, INT64_MAX / 2, INT64_MAX - 1, INT64_MAX};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(cq_report_equity(r, ts[i], eq[i], i % 2 ? INFINITY : 1e300, 1e300), 0);
    fill(r, 0, CQ_SIDE_BUY, 1e300, 1e10, 1e308);
    fill(r, INT64_MAX, CQ_SIDE_SELL, 1e-300, 1e10, 1e308);
    fill(r, INT64_MAX, CQ_SIDE_SELL, 1e300, 1e-300, -1e308);
    cq_report_metrics_t m = metrics(r);
    ck_assert_uint_eq(m.trades, 1);
    char *p = print_to_string(r, &m);
    ck_assert_ptr_null(strstr(p, "nan"));
    free(p);
    char err[256];
    ck_assert_int_eq(cq_report_write(r, &m, out_dir("extreme"), err, sizeof err), 0);
    for (size_t i = 0; i < 4; i++) {
        size_t len;
        char *s = slurp_in(out_dir("extreme"), FILES[i], &len);
        ck_assert_msg(strstr(s, "nan") == NULL, "nan in %s", FILES[i]);
        ck_assert_uint_lt(len, 100000);
        free(s);
    }
    cq_report_destroy(r);
}
END_TEST

START_TEST(test_report_million_samples_give_a_small_report_html)
{
    enum { N = 1000000 };
    cq_report_t *r = make(100000, MIN_NS);
    scenario(r, N, 97, 2024);
    cq_report_metrics_t m = metrics(r);
    ck_assert_uint_gt(m.trades, 5000);
    char err[256];
    ck_assert_int_eq(cq_report_write(r, &m, out_dir("huge"), err, sizeof err), 0);
    size_t len;
    char *s = slurp_in(out_dir("huge"), "report.html", &len);
    fprintf(stderr, "test_report: report.html for %d samples, %llu fills: %zu bytes\n", N,
            (unsigned long long)m.fills, len);
    ck_assert_uint_lt(len, 1u << 20);
    ck_assert_ptr_nonnull(strstr(s, "id=\"markers-sell\" "));
    free(s);
    s = slurp_in(out_dir("huge"), "equity.csv", &len);
    ck_assert_uint_eq(count_lines(s), N + 1);
    free(s);
    cq_report_destroy(r);
}
END_TEST

/* ---- headless Chromium ----------------------------------------------------------------- */

static const char *find_chromium(void)
{
    const char *env = getenv("CQ_CHROMIUM");
    if (env && *env)
        return access(env, X_OK) == 0 ? env : NULL;
    static const char *const cands[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/local/bin/chromium"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
        if (access(cands[i], X_OK) == 0)
            return cands[i];
    return NULL;
}

/* Run chromium in its own process group; kill the group after timeout_s.
 * Returns its exit status, or -1 on timeout. */
static int run_chromium(const char *exe, char *const argv[], const char *stdout_path, int timeout_s)
{
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_WRONLY);
        if (fd < 0 || nul < 0)
            _exit(126);
        dup2(fd, 1);
        dup2(nul, 2);
        execv(exe, argv);
        _exit(127);
    }
    setpgid(pid, pid);
    int status = 0;
    struct timespec step = {0, 50 * 1000 * 1000};
    for (int waited = 0;; waited += 50) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (waited >= timeout_s * 1000) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        nanosleep(&step, NULL);
    }
    if (kill(-pid, 0) == 0) /* helpers of ours still in the group */
        kill(-pid, SIGKILL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The "d" attribute of the element with this id in the DOM dump: how many
 * path commands (M/L) it holds. */
static size_t path_commands(const char *dom, const char *id)
{
    char key[64];
    snprintf(key, sizeof key, "id=\"%s\"", id);
    const char *p = strstr(dom, key);
    if (!p)
        return 0;
    const char *end = strchr(p, '>');
    const char *d = strstr(p, " d=\"");
    if (!d || !end || d > end)
        return 0;
    size_t n = 0;
    for (d += 4; *d && *d != '"'; d++)
        n += *d == 'M' || *d == 'L';
    return n;
}

/* A PNG's pixels as RGB (8-bit RGB or RGBA, not interlaced: what Chromium
 * writes). NULL if it is anything else. */
static unsigned char *png_rgb(const char *path, unsigned *w, unsigned *h)
{
    size_t len;
    unsigned char *b = (unsigned char *)slurp(path, &len);
    if (!b || len < 8 || memcmp(b, "\x89PNG\r\n\x1a\n", 8) != 0) {
        free(b);
        return NULL;
    }
    unsigned char *idat = NULL;
    size_t nidat = 0, pos = 8;
    int ctype = -1, depth = 0, interlace = 0;
    while (pos + 12 <= len) {
        uint32_t n = (uint32_t)b[pos] << 24 | (uint32_t)b[pos + 1] << 16 | (uint32_t)b[pos + 2] << 8 | b[pos + 3];
        const unsigned char *type = b + pos + 4, *data = b + pos + 8;
        if (pos + 12 + n > len)
            break;
        if (memcmp(type, "IHDR", 4) == 0) {
            *w = (unsigned)data[0] << 24 | (unsigned)data[1] << 16 | (unsigned)data[2] << 8 | data[3];
            *h = (unsigned)data[4] << 24 | (unsigned)data[5] << 16 | (unsigned)data[6] << 8 | data[7];
            depth = data[8];
            ctype = data[9];
            interlace = data[12];
        } else if (memcmp(type, "IDAT", 4) == 0) {
            idat = realloc(idat, nidat + n);
            memcpy(idat + nidat, data, n);
            nidat += n;
        }
        pos += 12 + n;
    }
    free(b);
    unsigned bpp = ctype == 2 ? 3 : ctype == 6 ? 4 : 0;
    if (!bpp || depth != 8 || interlace || !idat) {
        free(idat);
        return NULL;
    }
    size_t stride = (size_t)*w * bpp;
    uLongf rawlen = (uLongf)((stride + 1) * *h);
    unsigned char *raw = malloc(rawlen);
    int zrc = uncompress(raw, &rawlen, idat, (uLong)nidat);
    free(idat);
    if (zrc != Z_OK || rawlen != (stride + 1) * *h) {
        free(raw);
        return NULL;
    }
    unsigned char *img = malloc(stride * *h), *out = malloc((size_t)*w * *h * 3);
    for (unsigned y = 0; y < *h; y++) {
        const unsigned char *src = raw + y * (stride + 1) + 1;
        unsigned char *row = img + y * stride, *up = y ? img + (y - 1) * stride : NULL;
        int ft = raw[y * (stride + 1)];
        for (size_t x = 0; x < stride; x++) {
            int a = x >= bpp ? row[x - bpp] : 0, u = up ? up[x] : 0, c = (x >= bpp && up) ? up[x - bpp] : 0;
            int pred = 0;
            switch (ft) {
            case 1: pred = a; break;
            case 2: pred = u; break;
            case 3: pred = (a + u) / 2; break;
            case 4: {
                int p = a + u - c, pa = abs(p - a), pb = abs(p - u), pc = abs(p - c);
                pred = pa <= pb && pa <= pc ? a : pb <= pc ? u : c;
                break;
            }
            default: break;
            }
            row[x] = (unsigned char)(src[x] + pred);
        }
        for (unsigned x = 0; x < *w; x++)
            memcpy(out + ((size_t)y * *w + x) * 3, row + (size_t)x * bpp, 3);
    }
    free(raw);
    free(img);
    return out;
}

static size_t count_color(const unsigned char *px, unsigned w, unsigned h, unsigned rgb, int tol)
{
    int r = (int)(rgb >> 16), g = (int)(rgb >> 8 & 255), b = (int)(rgb & 255);
    size_t n = 0;
    for (size_t i = 0; i < (size_t)w * h; i++)
        n += abs(px[i * 3] - r) <= tol && abs(px[i * 3 + 1] - g) <= tol && abs(px[i * 3 + 2] - b) <= tol;
    return n;
}

START_TEST(test_report_html_renders_in_headless_chromium)
{
    const char *exe = find_chromium();
    if (!exe) {
        cq_test_skip("test_report_html_renders_in_headless_chromium",
                     "chromium not installed (scripts/setup-deps.sh installs it)");
        return;
    }
    cq_report_config_t cfg = {.strategy = "<script>document.title='pwned'</script>",
                              .instrument = "BTCUSDT.SIM",
                              .quote_asset = "USDT",
                              .starting_equity = 100000,
                              .sample_period_ns = MIN_NS,
                              .params = "fast=10"};
    cq_report_t *r = NULL;
    ck_assert_int_eq(cq_report_create(&r, &cfg), 0);
    scenario(r, 20000, 400, 77);
    cq_report_metrics_t m = metrics(r);
    char err[256];
    const char *dir = out_dir("chromium");
    ck_assert_int_eq(cq_report_write(r, &m, dir, err, sizeof err), 0);
    cq_report_destroy(r);

    char url[600], profile[600], shot[600], shot_arg[620], prof_arg[620], dom[600];
    snprintf(url, sizeof url, "file://%s/report.html", dir);
    snprintf(profile, sizeof profile, "%s/profile", dir);
    snprintf(shot, sizeof shot, "%s/shot.png", dir);
    snprintf(dom, sizeof dom, "%s/dom.html", dir);
    snprintf(shot_arg, sizeof shot_arg, "--screenshot=%s", shot);
    snprintf(prof_arg, sizeof prof_arg, "--user-data-dir=%s", profile);
    char *argv[] = {"chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--hide-scrollbars", prof_arg, "--window-size=1280,2400", shot_arg, "--dump-dom", url, NULL};
    int rc = run_chromium(exe, argv, dom, 30);
    ck_assert_msg(rc == 0, "chromium exited with %d (-1: killed after 30 s)", rc);

    char *d = slurp(dom, NULL);
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(strstr(d, "id=\"metrics\""));
    ck_assert_ptr_nonnull(strstr(d, "<svg id=\"chart-equity\""));
    ck_assert_ptr_nonnull(strstr(d, "<svg id=\"chart-drawdown\""));
    ck_assert_ptr_nonnull(strstr(d, "<svg id=\"chart-price\""));
    ck_assert_uint_ge(path_commands(d, "line-equity"), 1000);
    ck_assert_uint_ge(path_commands(d, "line-drawdown"), 1000);
    ck_assert_uint_ge(path_commands(d, "line-price"), 1000);
    ck_assert_uint_ge(path_commands(d, "markers-buy"), 20);
    ck_assert_uint_ge(path_commands(d, "markers-sell"), 20);
    ck_assert_ptr_null(ci_find(d, "<script")); /* the hostile name stayed text */
    ck_assert_ptr_nonnull(strstr(d, "&lt;script&gt;document.title="));
    free(d);

    unsigned w = 0, h = 0;
    unsigned char *px = png_rgb(shot, &w, &h);
    ck_assert_msg(px != NULL, "screenshot is not an 8-bit PNG");
    ck_assert_uint_eq(w, 1280);
    size_t blue = count_color(px, w, h, 0x1f6feb, 40);   /* equity line */
    size_t purple = count_color(px, w, h, 0x9467bd, 40); /* drawdown line */
    size_t green = count_color(px, w, h, 0x2ca02c, 30);  /* buy markers */
    size_t red = count_color(px, w, h, 0xd62728, 30);    /* sell markers */
    fprintf(stderr, "test_report: screenshot %ux%u: equity %zu, drawdown %zu, buy %zu, sell %zu pixels\n", w, h,
            blue, purple, green, red);
    ck_assert_uint_gt(blue, 500);
    ck_assert_uint_gt(purple, 500);
    ck_assert_uint_gt(green, 200);
    ck_assert_uint_gt(red, 200);
    free(px);
}
END_TEST

/* ---- suite -------------------------------------------------------------------------------- */

static void rm_tree(const char *path)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", path, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

int main(void)
{
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_report_drawdown_of_100_110_99_120);
    tcase_add_test(tc, test_report_drawdown_not_regained_runs_to_the_end);
    tcase_add_test(tc, test_report_longest_drawdown_is_measured_apart_from_the_deepest);
    tcase_add_test(tc, test_report_long_round_trip_with_adds_closes_at_flat);
    tcase_add_test(tc, test_report_reversing_fill_splits_into_two_round_trips);
    tcase_add_test(tc, test_report_decimal_noise_does_not_leave_a_trip_open);
    tcase_add_test(tc, test_report_win_rate_profit_factor_and_averages);
    tcase_add_test(tc, test_report_profit_factor_without_losses_is_inf);
    tcase_add_test(tc, test_report_sharpe_and_sortino_follow_the_documented_formula);
    tcase_add_test(tc, test_report_sharpe_is_zero_when_undefined);
    tcase_add_test(tc, test_report_exposure_is_time_weighted);
    tcase_add_test(tc, test_report_counts_orders_and_events_per_second);
    tcase_add_test(tc, test_report_refuses_bad_input_and_keeps_what_it_has);
    suite_add_tcase(s, tc);

    tc = tcase_create("output");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_report_time_and_number_formats);
    tcase_add_test(tc, test_report_fixed_format_matches_printf);
    tcase_add_test(tc, test_report_print_shows_period_and_sampling_period);
    tcase_add_test(tc, test_report_print_neutralizes_terminal_escapes);
    tcase_add_test(tc, test_report_csv_files_have_the_documented_rows);
    tcase_add_test(tc, test_report_orders_csv_keeps_unterminated_fields_bounded);
    tcase_add_test(tc, test_report_same_inputs_give_byte_identical_files);
    tcase_add_test(tc, test_report_html_escapes_hostile_strings);
    tcase_add_test(tc, test_report_html_has_charts_tables_and_no_external_resources);
    tcase_add_test(tc, test_report_html_trades_table_stops_at_500);
    tcase_add_test(tc, test_report_empty_run_gives_na_values_not_a_crash);
    tcase_add_test(tc, test_report_write_to_a_bad_directory_fails_clearly);
    tcase_add_test(tc, test_report_extreme_values_do_not_break_the_files);
    tcase_add_test(tc, test_report_million_samples_give_a_small_report_html);
    suite_add_tcase(s, tc);

    tc = tcase_create("chromium");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_report_html_renders_in_headless_chromium);
    suite_add_tcase(s, tc);

    int rc = cq_test_run(s);
    rm_tree(g_tmp);
    return rc;
}
