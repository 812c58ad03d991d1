/*
 * test_runtime.c - the assembled runtime: time order between venue work,
 * timers and market data; running in steps; the end of the data; bad files
 * and bad journals; equity from balances at the mid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cquant/cqd.h"
#include "cquant/error.h"
#include "cquant/runtime.h"
#include "support/cq_test.h"

#define S_NS 1000000000LL
#define T0 (1767225600LL * S_NS) /* 2026-01-01 */

static char g_dir[256];

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/cq_test_runtime_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
}

static const char *tmp(const char *name)
{
    static char buf[2][512];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

/* A file with a snapshot at T0 (bid 100.00 / ask 100.02) then trades at
 * T0+1s, +2s, +3s. */
static void write_file(const char *path)
{
    cq_cqd_writer_t *w;
    char err[256];
    ck_assert_int_eq(cq_cqd_writer_open(&w, path, err, sizeof err), 0);
    cq_cqd_instrument_t in;
    memset(&in, 0, sizeof in);
    snprintf(in.id, sizeof in.id, "BTCUSDT.TEST");
    snprintf(in.symbol, sizeof in.symbol, "BTCUSDT");
    snprintf(in.venue, sizeof in.venue, "TEST");
    snprintf(in.base, sizeof in.base, "BTC");
    snprintf(in.quote, sizeof in.quote, "USDT");
    in.price_precision = 2;
    in.size_precision = 3;
    in.tick_units = 1;
    in.step_units = 1;
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, NULL), 0);
    cq_cqd_record_t r;
    memset(&r, 0, sizeof r);
    r.type = CQ_EV_BOOK_DELTA;
    r.flags = CQ_EVF_SNAPSHOT;
    r.side = CQ_SIDE_BUY;
    r.ts_event = r.ts_init = T0;
    r.delta.price = 10000;
    r.delta.qty = 5000;
    r.delta.update_id = 10;
    ck_assert_int_eq(cq_cqd_writer_append(w, &r), 0);
    r.side = CQ_SIDE_SELL;
    r.flags = CQ_EVF_SNAPSHOT | CQ_EVF_LAST;
    r.delta.price = 10002;
    ck_assert_int_eq(cq_cqd_writer_append(w, &r), 0);
    for (int i = 1; i <= 3; i++) {
        memset(&r, 0, sizeof r);
        r.type = CQ_EV_TRADE;
        r.side = CQ_SIDE_BUY;
        r.ts_event = r.ts_init = T0 + i * S_NS;
        r.trade.price = 10002;
        r.trade.qty = 1;
        r.trade.trade_id = (uint64_t)i;
        ck_assert_int_eq(cq_cqd_writer_append(w, &r), 0);
    }
    ck_assert_int_eq(cq_cqd_writer_finish(w), 0);
    cq_cqd_writer_destroy(w);
}

typedef struct seen {
    cq_rt_t *rt;
    char log[32][32];
    int n;
} seen_t;

static void note(seen_t *s, const char *what, int64_t ts)
{
    if (s->n < 32)
        snprintf(s->log[s->n++], sizeof s->log[0], "%s@%lld", what, (long long)((ts - T0) / 1000000));
}

static void on_trade(void *user, cq_topic_t t, const void *msg)
{
    (void)t;
    seen_t *s = user;
    const cq_trade_t *tr = msg;
    ck_assert_int_eq(cq_rt_now(s->rt), tr->hdr.ts_init); /* the clock is the event's time */
    note(s, "trade", tr->hdr.ts_init);
}

static void on_timer(void *user, cq_timer_id_t id, int64_t now)
{
    (void)id;
    seen_t *s = user;
    ck_assert_int_eq(cq_rt_now(s->rt), now);
    note(s, "timer", now);
}

static cq_rt_t *new_rt(void)
{
    static cq_log_t quiet = {CQ_LOG_OFF, NULL, NULL};
    cq_rt_config_t c = {.log = &quiet};
    cq_rt_t *rt;
    char err[256];
    ck_assert_msg(cq_rt_create(&rt, &c, err, sizeof err) == 0, "%s", err);
    return rt;
}

START_TEST(test_runtime_timer_due_at_t_fires_before_data_at_t)
{
    write_file(tmp("a.cqd"));
    cq_rt_t *rt = new_rt();
    char err[256];
    ck_assert_msg(cq_rt_add_cqd(rt, tmp("a.cqd"), err, sizeof err) == 0, "%s", err);
    cq_rt_set_now(rt, cq_rt_next_data_ts(rt));
    seen_t s = {.rt = rt};
    ck_assert_int_eq(cq_bus_subscribe(cq_rt_bus(rt), "data.trades.*", 0, on_trade, &s, NULL), 0);
    ck_assert_int_eq(cq_timer_start(cq_rt_timers(rt), T0 + 2 * S_NS, 0, on_timer, &s, NULL), 0);
    ck_assert_int_eq(cq_timer_start(cq_rt_timers(rt), T0 + 2500 * 1000000LL, 0, on_timer, &s, NULL), 0);
    int done = 0;
    long n = cq_rt_run_until(rt, INT64_MAX, &done, err, sizeof err);
    ck_assert_int_eq(n, 4); /* the snapshot batch and three trades */
    ck_assert_int_eq(done, 1);
    ck_assert_int_eq(s.n, 5);
    const char *want[] = {"trade@1000", "timer@2000", "trade@2000", "timer@2500", "trade@3000"};
    for (int i = 0; i < 5; i++)
        ck_assert_str_eq(s.log[i], want[i]);
    cq_rt_destroy(rt);
}
END_TEST

START_TEST(test_runtime_runs_in_steps_and_stops_at_the_end_of_the_data)
{
    write_file(tmp("a.cqd"));
    cq_rt_t *rt = new_rt();
    char err[256];
    ck_assert_int_eq(cq_rt_add_cqd(rt, tmp("a.cqd"), err, sizeof err), 0);
    cq_rt_set_now(rt, cq_rt_next_data_ts(rt));
    seen_t s = {.rt = rt};
    ck_assert_int_eq(cq_bus_subscribe(cq_rt_bus(rt), "data.trades.*", 0, on_trade, &s, NULL), 0);
    /* a timer after the last event never fires: the data decides the end */
    ck_assert_int_eq(cq_timer_start(cq_rt_timers(rt), T0 + 10 * S_NS, 0, on_timer, &s, NULL), 0);
    int done = 0;
    ck_assert_int_eq(cq_rt_run_until(rt, T0 + 1500 * 1000000LL, &done, err, sizeof err), 2);
    ck_assert_int_eq(done, 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(cq_rt_run_until(rt, T0 + 2 * S_NS, &done, err, sizeof err), 1);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(cq_rt_run_until(rt, INT64_MAX, &done, err, sizeof err), 1);
    ck_assert_int_eq(done, 1);
    ck_assert_int_eq(s.n, 3);
    ck_assert_int_eq(cq_rt_next_data_ts(rt), INT64_MAX);
    ck_assert_int_eq(cq_rt_run_until(rt, INT64_MAX, &done, err, sizeof err), 0);
    ck_assert_int_eq(s.n, 3);
    cq_rt_destroy(rt);
}
END_TEST

START_TEST(test_runtime_equity_is_cash_plus_base_at_the_mid)
{
    write_file(tmp("a.cqd"));
    cq_rt_t *rt = new_rt();
    char err[256];
    ck_assert_int_eq(cq_rt_add_cqd(rt, tmp("a.cqd"), err, sizeof err), 0);
    ck_assert_int_eq(cq_rt_set_balance(rt, "TEST", "USDT", 1000), 0);
    ck_assert_int_eq(cq_rt_set_balance(rt, "TEST", "BTC", 2), 0);
    ck_assert_double_eq_tol(cq_rt_equity(rt, "TEST", "USDT"), 1000, 1e-9); /* no mid yet */
    double mark = -1;
    ck_assert_int_eq(cq_rt_mark(rt, 1, &mark), CQ_ENOENT);
    ck_assert_int_eq(cq_rt_mark(rt, 1, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_rt_mark(NULL, 1, &mark), CQ_EINVAL);
    int done;
    ck_assert_int_ge(cq_rt_run_until(rt, INT64_MAX, &done, err, sizeof err), 1);
    ck_assert_int_eq(cq_rt_mark(rt, 1, &mark), 0);
    ck_assert_double_eq_tol(mark, 100.01, 1e-9);
    ck_assert_int_eq(cq_rt_mark(rt, 999, &mark), CQ_ENOENT);
    ck_assert_double_eq_tol(cq_rt_equity(rt, "TEST", "USDT"), 1000 + 2 * 100.01, 1e-9);
    cq_rt_destroy(rt);
}
END_TEST

START_TEST(test_runtime_bad_files_and_journal_give_clear_errors)
{
    cq_rt_t *rt = new_rt();
    char err[256] = "";
    ck_assert_int_lt(cq_rt_add_cqd(rt, tmp("missing.cqd"), err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "missing.cqd"));
    FILE *f = fopen(tmp("junk.cqd"), "w");
    ck_assert_ptr_nonnull(f);
    fputs("this is not a cqd file\n", f);
    fclose(f);
    err[0] = 0;
    ck_assert_int_lt(cq_rt_add_cqd(rt, tmp("junk.cqd"), err, sizeof err), 0);
    ck_assert(err[0] != 0);
    ck_assert_int_eq(cq_rt_add_cqd(rt, NULL, err, sizeof err), CQ_EINVAL);
    cq_rt_destroy(rt);

    cq_rt_config_t c = {.journal = "/nonexistent-dir/x/cquant.db"};
    err[0] = 0;
    ck_assert_int_lt(cq_rt_create(&rt, &c, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "journal"));
    cq_rt_config_t bad = {.order_latency_ns = -1};
    ck_assert_int_eq(cq_rt_create(&rt, &bad, err, sizeof err), CQ_EINVAL);
    ck_assert_int_eq(cq_rt_create(NULL, &bad, err, sizeof err), CQ_EINVAL);
}
END_TEST

START_TEST(test_runtime_corrupt_block_stops_the_run_with_a_message)
{
    write_file(tmp("a.cqd"));
    /* flip one byte inside the first record block (after the 256-byte header) */
    FILE *f = fopen(tmp("a.cqd"), "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 256 + 64 + 24, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 256 + 64 + 24, SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
    cq_rt_t *rt = new_rt();
    char err[256] = "";
    int rc = cq_rt_add_cqd(rt, tmp("a.cqd"), err, sizeof err);
    if (rc == 0) {
        int done;
        long n = cq_rt_run_until(rt, INT64_MAX, &done, err, sizeof err);
        ck_assert_int_eq(n, CQ_ECORRUPT);
    }
    ck_assert(err[0] != 0);
    cq_rt_destroy(rt);
}
END_TEST

START_TEST(test_runtime_journal_keeps_orders_across_runtimes)
{
    char err[256], jpath[512];
    snprintf(jpath, sizeof jpath, "%s", tmp("j.db"));
    cq_rt_config_t c = {.journal = jpath};
    cq_rt_t *rt;
    ck_assert_msg(cq_rt_create(&rt, &c, err, sizeof err) == 0, "%s", err);
    write_file(tmp("a.cqd"));
    ck_assert_int_eq(cq_rt_add_cqd(rt, tmp("a.cqd"), err, sizeof err), 0);
    int done;
    cq_rt_run_until(rt, T0, &done, err, sizeof err); /* the book exists */
    uint32_t strat;
    ck_assert_int_eq(cq_cache_strategy_intern(cq_rt_cache(rt), "s", &strat), 0);
    cq_order_t d;
    memset(&d, 0, sizeof d);
    d.hdr.instrument = 1;
    d.hdr.strategy = strat;
    d.side = CQ_SIDE_BUY;
    d.type = CQ_ORDER_LIMIT;
    d.tif = CQ_TIF_GTC;
    d.price = 99.00;
    d.qty = 0.001;
    char id[40];
    ck_assert_int_eq(cq_exec_submit(cq_rt_exec(rt), &d, cq_rt_now(rt), id), 0);
    cq_rt_destroy(rt);

    ck_assert_msg(cq_rt_create(&rt, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(cq_rt_add_cqd(rt, tmp("a.cqd"), err, sizeof err), 0); /* the instrument */
    size_t n = 0;
    ck_assert_int_eq(cq_rt_restore(rt, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_ptr_nonnull(cq_cache_order(cq_rt_cache(rt), id));
    cq_rt_destroy(rt);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("runtime");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_runtime_timer_due_at_t_fires_before_data_at_t);
    tcase_add_test(tc, test_runtime_runs_in_steps_and_stops_at_the_end_of_the_data);
    tcase_add_test(tc, test_runtime_equity_is_cash_plus_base_at_the_mid);
    tcase_add_test(tc, test_runtime_bad_files_and_journal_give_clear_errors);
    tcase_add_test(tc, test_runtime_corrupt_block_stops_the_run_with_a_message);
    tcase_add_test(tc, test_runtime_journal_keeps_orders_across_runtimes);
    suite_add_tcase(s, tc);
    return cq_test_run(s);
}
