/*
 * test_exec.c - the ExecutionEngine (include/cquant/exec.h) against the real
 * simulated venue.
 *
 * Every test builds the whole chain: cache, bus, RiskEngine, Portfolio, the
 * sim (on a small book of TEST.SIM: tick 0.01, step 1), an in-memory journal
 * and the engine. A thin venue wrapper counts calls on the same sequence as
 * the journal, so the pre-tracking order can be checked.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/book.h"
#include "cquant/bus.h"
#include "cquant/cache.h"
#include "cquant/error.h"
#include "cquant/exec.h"
#include "cquant/portfolio.h"
#include "cquant/risk.h"
#include "cquant/sim_venue.h"
#include "support/cq_test.h"

/* Check's ck_assert_* makes a system call per assertion: loops use this. */
#define REQUIRE(c)                                                                  \
    do {                                                                            \
        if (!(c))                                                                   \
            ck_abort_msg("%s:%d: requirement failed: %s", __FILE__, __LINE__, #c);  \
    } while (0)

#define T0 ((int64_t)1000000000000)
#define MS ((int64_t)1000000)
#define SEC ((int64_t)1000000000)

/* ---- the in-memory journal ------------------------------------------------ */

typedef struct jrn {
    uint64_t *seq;            /* shared with the venue wrapper */
    uint64_t submit_seq[64];  /* seq of the first submits */
    char submit_id[64][40];
    size_t nsubmits;
    size_t nevents;
    char (*tids)[40];
    size_t ntids, cap;
    int fail_submit;
    uint64_t ids;
} jrn_t;

static int j_submit(void *u, const cq_order_t *o)
{
    jrn_t *j = u;
    if (j->fail_submit)
        return CQ_EIO;
    if (j->nsubmits < 64) {
        j->submit_seq[j->nsubmits] = ++*j->seq;
        memcpy(j->submit_id[j->nsubmits], o->client_order_id, 40);
    }
    j->nsubmits++;
    return 0;
}

static int j_event(void *u, const cq_order_t *o, int32_t prev)
{
    (void)o;
    (void)prev;
    ((jrn_t *)u)->nevents++;
    return 0;
}

static int j_fill(void *u, const cq_fill_t *f)
{
    jrn_t *j = u;
    for (size_t i = 0; i < j->ntids; i++)
        if (strcmp(j->tids[i], f->trade_id) == 0)
            return CQ_EEXIST;
    if (j->ntids == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 64;
        j->tids = realloc(j->tids, j->cap * sizeof *j->tids);
        REQUIRE(j->tids);
    }
    snprintf(j->tids[j->ntids++], 40, "%s", f->trade_id);
    return 0;
}

static int j_next_id(void *u, char out[40])
{
    jrn_t *j = u;
    snprintf(out, 40, "J%llu", (unsigned long long)++j->ids);
    return 0;
}

/* ---- the fixture ---------------------------------------------------------- */

typedef struct fx {
    cq_cache_t *cache;
    cq_bus_t *bus;
    cq_risk_t *risk;
    cq_portfolio_t *pf;
    cq_book_t *book;
    cq_sim_t *sim;
    cq_venue_t simv;          /* the sim's own ops */
    cq_venue_ops_t wops;      /* the wrapper */
    cq_venue_t v;
    cq_exec_t *ex;
    jrn_t j;
    uint64_t seq;
    uint64_t venue_submit_seq[64];
    size_t nvenue_submits;
    int cache_had_order;      /* wrapper: the cache held the order as SUBMITTED */
    uint32_t inst, strat;
    /* published events */
    cq_order_event_t oev[256];
    size_t noev;
    size_t nfills_pub;
    char (*pub_tids)[40];
    size_t npub, cappub;
} fx_t;

static int w_submit(void *self, const cq_order_t *o)
{
    fx_t *f = self;
    if (f->nvenue_submits < 64)
        f->venue_submit_seq[f->nvenue_submits] = ++f->seq;
    f->nvenue_submits++;
    const cq_order_t *c = cq_cache_order(f->cache, o->client_order_id);
    f->cache_had_order = c && c->status == CQ_OS_SUBMITTED;
    return f->simv.ops->submit(f->simv.self, o);
}
static int w_cancel(void *self, const cq_order_t *o)
{
    fx_t *f = self;
    return f->simv.ops->cancel(f->simv.self, o);
}
static int w_modify(void *self, const cq_order_t *o, double p, double q)
{
    fx_t *f = self;
    return f->simv.ops->modify(f->simv.self, o, p, q);
}
static int w_query(void *self, uint32_t inst, const char *id)
{
    fx_t *f = self;
    return f->simv.ops->query_order(f->simv.self, inst, id);
}
static int w_query_open(void *self, uint32_t inst)
{
    fx_t *f = self;
    return f->simv.ops->query_open_orders(f->simv.self, inst);
}

static void on_order_ev(void *user, cq_topic_t t, const void *msg)
{
    (void)t;
    fx_t *f = user;
    if (f->noev < 256)
        f->oev[f->noev] = *(const cq_order_event_t *)msg;
    f->noev++;
}

static void on_fill_ev(void *user, cq_topic_t t, const void *msg)
{
    (void)t;
    fx_t *f = user;
    const cq_fill_t *fl = msg;
    f->nfills_pub++;
    if (f->npub == f->cappub) {
        f->cappub = f->cappub ? f->cappub * 2 : 256;
        f->pub_tids = realloc(f->pub_tids, f->cappub * sizeof *f->pub_tids);
        REQUIRE(f->pub_tids);
    }
    snprintf(f->pub_tids[f->npub++], 40, "%s", fl->trade_id);
}

static cq_instrument_t test_spec(void)
{
    cq_instrument_t s;
    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "TEST.SIM");
    snprintf(s.symbol, sizeof s.symbol, "TEST");
    snprintf(s.venue, sizeof s.venue, "SIM");
    snprintf(s.base, sizeof s.base, "TST");
    snprintf(s.quote, sizeof s.quote, "USDT");
    s.tick_size = 0.01;
    s.step_size = 1;
    s.tick_units = 1;
    s.step_units = 1;
    s.price_precision = 2;
    s.size_precision = 0;
    s.tradable = 1;
    return s;
}

static void book_at(fx_t *f, int64_t bid_tick, int64_t ask_tick, int64_t qty)
{
    cq_book_entry_t b[5], a[5];
    for (int i = 0; i < 5; i++) {
        b[i] = (cq_book_entry_t){bid_tick - i, qty};
        a[i] = (cq_book_entry_t){ask_tick + i, qty};
    }
    REQUIRE(cq_book_snapshot(f->book, b, 5, a, 5) == 0);
    REQUIRE(cq_sim_on_book(f->sim, f->inst, f->book, cq_sim_now(f->sim)) == 0);
}

/* sim: latencies and faults; journal: 1 = with the test journal. */
static fx_t *fx_new(int64_t order_lat, int64_t report_lat, const cq_sim_faults_t *faults, int journal,
                    uint64_t seed)
{
    fx_t *f = calloc(1, sizeof *f);
    ck_assert_ptr_nonnull(f);
    static cq_log_t quiet = {CQ_LOG_OFF, NULL, NULL};
    REQUIRE(cq_cache_create(&f->cache, NULL) == 0);
    REQUIRE(cq_bus_create(&f->bus) == 0);
    cq_instrument_t spec = test_spec();
    REQUIRE(cq_cache_instrument_add(f->cache, &spec, &f->inst) == 0);
    REQUIRE(cq_cache_strategy_intern(f->cache, "S1", &f->strat) == 0);
    REQUIRE(cq_risk_create(&f->risk, f->cache, NULL, &quiet) == 0);
    REQUIRE(cq_portfolio_create(&f->pf, f->bus, f->cache, &quiet) == 0);
    REQUIRE(cq_book_create(&f->book, 0.01, 1) == 0);
    f->wops = (cq_venue_ops_t){"WRAP", w_submit, w_cancel, w_modify, w_query, w_query_open, NULL};
    f->v = (cq_venue_t){&f->wops, f};
    f->j.seq = &f->seq;
    cq_exec_journal_t jr = {&f->j, j_submit, j_event, j_fill, j_next_id, NULL, NULL};
    cq_exec_config_t ec = {100 * MS, 50 * MS, 3, T0};
    REQUIRE(cq_exec_create(&f->ex, f->bus, f->cache, f->risk, f->pf, &f->v, journal ? &jr : NULL, &ec,
                           &quiet) == 0);
    /* The wrapper forwards to the sim, which reports to the engine. */
    cq_sim_config_t c;
    memset(&c, 0, sizeof c);
    c.order_latency_ns = order_lat;
    c.report_latency_ns = report_lat;
    c.taker_fee_bps = 10;
    c.maker_fee_bps = 2;
    c.seed = seed;
    if (faults)
        c.faults = *faults;
    c.report = cq_exec_on_report;
    c.report_user = f->ex;
    REQUIRE(cq_sim_create(&f->sim, &c, f->cache) == 0);
    REQUIRE(cq_sim_venue(f->sim, &f->simv) == 0);
    REQUIRE(cq_sim_advance(f->sim, T0) == 0);
    REQUIRE(cq_bus_subscribe(f->bus, "events.order.*", 0, on_order_ev, f, NULL) == 0);
    REQUIRE(cq_bus_subscribe(f->bus, "events.fill.*", 0, on_fill_ev, f, NULL) == 0);
    book_at(f, 9900, 10000, 50);
    return f;
}

static void fx_free(fx_t *f)
{
    cq_exec_destroy(f->ex);
    cq_sim_destroy(f->sim);
    cq_book_destroy(f->book);
    cq_portfolio_destroy(f->pf);
    cq_risk_destroy(f->risk);
    cq_bus_destroy(f->bus);
    cq_cache_destroy(f->cache);
    free(f->j.tids);
    free(f->pub_tids);
    free(f);
}

static cq_order_t draft(const fx_t *f, int32_t side, int32_t type, int32_t tif, double price, double qty)
{
    cq_order_t o;
    memset(&o, 0, sizeof o);
    o.hdr.instrument = f->inst;
    o.hdr.strategy = f->strat;
    o.side = side;
    o.type = type;
    o.tif = tif;
    o.price = price;
    o.qty = qty;
    return o;
}

static void run_to(fx_t *f, int64_t t)
{
    REQUIRE(cq_sim_advance(f->sim, t) == 0);
    REQUIRE(cq_exec_tick(f->ex, t) == 0);
}

static const cq_order_t *order(fx_t *f, const char *id)
{
    const cq_order_t *o = cq_cache_order(f->cache, id);
    ck_assert_ptr_nonnull(o);
    return o;
}

static int64_t pos_steps(fx_t *f, uint32_t strat)
{
    const cq_position_t *p = cq_cache_position(f->cache, f->inst, strat);
    return p ? p->qty_steps : 0;
}

/* ---- end to end ----------------------------------------------------------- */

START_TEST(test_exec_market_order_acked_filled_and_positioned)
{
    fx_t *f = fx_new(0, 0, NULL, 1, 1);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_MARKET, CQ_TIF_IOC, 0, 3);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
    ck_assert_int_eq(order(f, id)->status, CQ_OS_SUBMITTED);
    run_to(f, T0);
    const cq_order_t *o = order(f, id);
    ck_assert_int_eq(o->status, CQ_OS_FILLED);
    ck_assert(o->filled_qty == 3);
    ck_assert(o->avg_fill_price == 100.00);
    ck_assert(o->venue_order_id[0] != '\0');
    ck_assert_ptr_eq(cq_cache_order_by_venue_id(f->cache, o->venue_order_id), o);
    ck_assert_int_eq(pos_steps(f, f->strat), 3);
    ck_assert_uint_eq(f->nfills_pub, 1);
    /* SUBMITTED, ACCEPTED, FILLED on events.order.S1 */
    ck_assert_uint_eq(f->noev, 3);
    ck_assert_int_eq(f->oev[0].status, CQ_OS_SUBMITTED);
    ck_assert_int_eq(f->oev[1].status, CQ_OS_ACCEPTED);
    ck_assert_int_eq(f->oev[2].status, CQ_OS_FILLED);
    ck_assert_int_eq(f->oev[2].prev_status, CQ_OS_ACCEPTED);
    fx_free(f);
}
END_TEST

START_TEST(test_exec_limit_order_rests_then_cancel_closes_it)
{
    fx_t *f = fx_new(MS, MS, NULL, 1, 1);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 98.5, 2);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
    run_to(f, T0 + 2 * MS);
    ck_assert_int_eq(order(f, id)->status, CQ_OS_ACCEPTED);
    ck_assert_int_eq(cq_exec_cancel(f->ex, id, T0 + 2 * MS), 0);
    ck_assert_int_eq(order(f, id)->status, CQ_OS_PENDING_CANCEL);
    run_to(f, T0 + 4 * MS);
    ck_assert_int_eq(order(f, id)->status, CQ_OS_CANCELED);
    ck_assert_int_eq(cq_sim_order(f->sim, id)->status, CQ_OS_CANCELED);
    ck_assert_uint_eq(cq_cache_order_count(f->cache, CQ_ORDERS_OPEN), 0);
    fx_free(f);
}
END_TEST

START_TEST(test_exec_modify_changes_price_and_qty_at_the_venue)
{
    fx_t *f = fx_new(MS, MS, NULL, 1, 1);
    cq_order_t d = draft(f, CQ_SIDE_SELL, CQ_ORDER_LIMIT, CQ_TIF_GTC, 101.0, 2);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
    run_to(f, T0 + 2 * MS);
    ck_assert_int_eq(cq_exec_modify(f->ex, id, 100.5, 4, T0 + 2 * MS), 0);
    ck_assert_int_eq(order(f, id)->status, CQ_OS_PENDING_UPDATE);
    run_to(f, T0 + 4 * MS);
    const cq_order_t *o = order(f, id);
    ck_assert_int_eq(o->status, CQ_OS_ACCEPTED);
    ck_assert(o->price == 100.5);
    ck_assert(o->qty == 4);
    ck_assert(cq_sim_order(f->sim, id)->price == 100.5);
    fx_free(f);
}
END_TEST

START_TEST(test_exec_snaps_price_to_exact_grid_double)
{
    fx_t *f = fx_new(0, 0, NULL, 1, 1);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 0.1 + 0.2 + 98, 1.0000000001);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
    ck_assert(order(f, id)->price == 98.30);
    ck_assert(order(f, id)->qty == 1);
    fx_free(f);
}
END_TEST

START_TEST(test_exec_cancel_all_cancels_open_and_inflight_orders)
{
    fx_t *f = fx_new(MS, MS, NULL, 1, 1);
    char id[3][40];
    for (int i = 0; i < 3; i++) {
        cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 98.0 - i, 1);
        ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id[i]), 0);
    }
    run_to(f, T0 + 2 * MS);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 97.5, 1);
    char late[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0 + 2 * MS, late), 0); /* still SUBMITTED */
    size_t n = 0;
    ck_assert_int_eq(cq_exec_cancel_all(f->ex, f->inst, f->strat, T0 + 2 * MS, &n), 0);
    ck_assert_uint_eq(n, 4);
    run_to(f, T0 + 6 * MS);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(order(f, id[i])->status, CQ_OS_CANCELED);
    ck_assert_int_eq(order(f, late)->status, CQ_OS_CANCELED);
    fx_free(f);
}
END_TEST

/* ---- risk and pre-tracking ------------------------------------------------ */

START_TEST(test_exec_denied_order_never_reaches_the_venue)
{
    fx_t *f = fx_new(0, 0, NULL, 1, 1);
    ck_assert_int_eq(cq_risk_set_state(f->risk, CQ_TRADING_HALTED), 0);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99, 1);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), CQ_EDENIED);
    ck_assert(cq_exec_last_reason(f->ex)[0] != '\0');
    run_to(f, T0 + SEC);
    size_t n = 99;
    cq_sim_orders(f->sim, &n);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(f->nvenue_submits, 0);
    ck_assert_uint_eq(f->j.nsubmits, 0);
    ck_assert_int_eq(order(f, id)->status, CQ_OS_DENIED);
    ck_assert_uint_eq(f->noev, 1);
    ck_assert_int_eq(f->oev[0].status, CQ_OS_DENIED);
    ck_assert_str_eq(f->oev[0].reason, cq_exec_last_reason(f->ex));
    fx_free(f);
}
END_TEST

START_TEST(test_exec_journal_and_cache_see_order_before_the_venue)
{
    fx_t *f = fx_new(0, 0, NULL, 1, 1);
    char id[40];
    for (int i = 0; i < 5; i++) {
        cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 98.0, 1);
        ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
        ck_assert(f->cache_had_order);
    }
    ck_assert_uint_eq(f->j.nsubmits, 5);
    ck_assert_uint_eq(f->nvenue_submits, 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_lt(f->j.submit_seq[i], f->venue_submit_seq[i]);
        if (i)
            ck_assert_uint_gt(f->j.submit_seq[i], f->venue_submit_seq[i - 1]);
    }
    ck_assert_str_eq(f->j.submit_id[4], id);
    ck_assert_str_eq(id, "J5"); /* the journal assigned it */
    fx_free(f);
}
END_TEST

START_TEST(test_exec_journal_failure_means_not_sent)
{
    fx_t *f = fx_new(0, 0, NULL, 1, 1);
    f->j.fail_submit = 1;
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 98.0, 1);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), CQ_EIO);
    ck_assert_uint_eq(f->nvenue_submits, 0);
    ck_assert_ptr_null(cq_cache_order(f->cache, id));
    fx_free(f);
}
END_TEST

START_TEST(test_exec_generated_ids_are_short_valid_and_distinct)
{
    fx_t *f = fx_new(0, 0, NULL, 0, 1);
    char a[40], b[40];
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 98.0, 1);
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, a), 0);
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, b), 0);
    ck_assert_str_ne(a, b);
    ck_assert_uint_le(strlen(a), 24);
    ck_assert_uint_eq(strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"), strlen(a));
    fx_free(f);
}
END_TEST

START_TEST(test_exec_generated_ids_carry_in_base36_and_never_repeat)
{
    fx_t *f = fx_new(0, 0, NULL, 0, 1);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 98.0, 1);
    char ids[1300][40];
    for (int i = 0; i < 1300; i++) {
        REQUIRE(cq_exec_submit(f->ex, &d, T0, ids[i]) == 0);
        for (int k = 0; k < i; k++)
            REQUIRE(strcmp(ids[i], ids[k]) != 0);
    }
    /* the counter after the prefix: 1..z, then 10, ..., zz, then 100 */
    const char *c = strchr(ids[34], '-');
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c + 1, "z");
    ck_assert_str_eq(strchr(ids[35], '-') + 1, "10");
    ck_assert_str_eq(strchr(ids[1294], '-') + 1, "zz");
    ck_assert_str_eq(strchr(ids[1295], '-') + 1, "100");
    fx_free(f);
}
END_TEST

static void fill_report(fx_t *f, const char *id, const char *tid, size_t tid_len)
{
    cq_exec_report_t r;
    memset(&r, 0, sizeof r);
    r.kind = CQ_REPORT_FILL;
    r.hdr.instrument = f->inst;
    snprintf(r.client_order_id, sizeof r.client_order_id, "%s", id);
    memset(r.trade_id, 'x', sizeof r.trade_id); /* bytes past the id are not part of it */
    memcpy(r.trade_id, tid, tid_len);
    if (tid_len < sizeof r.trade_id)
        r.trade_id[tid_len] = '\0';
    r.side = CQ_SIDE_BUY;
    r.liquidity = CQ_LIQ_MAKER;
    r.last_price = 98.0;
    r.last_qty = 1;
    cq_exec_on_report(f->ex, &r);
}

/* Without a journal the engine remembers the 4096 most recent trade ids:
 * any of them is refused again, of any length; an older one is not (the
 * journal's CQ_EEXIST covers that case, see test_exec_crash.c). */
START_TEST(test_exec_trade_id_window_refuses_recent_duplicates_and_forgets_the_oldest)
{
    fx_t *f = fx_new(0, 0, NULL, 0, 1);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 90.0, 1e6); /* rests below the book */
    char id[40], tid[48];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
    enum { N = 6000 };
    for (int i = 0; i < N; i++) { /* lengths 1..39 in turn */
        int len = 1 + i % 39;
        snprintf(tid, sizeof tid, "%d-", i);
        size_t n = strlen(tid);
        for (; n < (size_t)len; n++)
            tid[n] = (char)('a' + (i + (int)n) % 26);
        fill_report(f, id, tid, n);
    }
    cq_exec_stats_t st;
    cq_exec_stats(f->ex, &st);
    ck_assert_uint_eq(st.fills, N);
    ck_assert_uint_eq(st.duplicate_fills, 0);
    cq_rng_t rng = {77};
    for (int k = 0; k < 2000; k++) { /* the recent ones, again */
        int i = N - 1 - (int)cq_rng_below(&rng, 4096);
        int len = 1 + i % 39;
        snprintf(tid, sizeof tid, "%d-", i);
        size_t n = strlen(tid);
        for (; n < (size_t)len; n++)
            tid[n] = (char)('a' + (i + (int)n) % 26);
        fill_report(f, id, tid, n);
    }
    cq_exec_stats(f->ex, &st);
    ck_assert_uint_eq(st.fills, N);
    ck_assert_uint_eq(st.duplicate_fills, 2000);
    fill_report(f, id, "0-", 2); /* evicted long ago: applied again */
    cq_exec_stats(f->ex, &st);
    ck_assert_uint_eq(st.fills, N + 1);
    /* a 40-character id without its NUL is cut to 39, as the fill carries it */
    memset(tid, 'q', 40);
    fill_report(f, id, tid, 40);
    fill_report(f, id, tid, 39);
    cq_exec_stats(f->ex, &st);
    ck_assert_uint_eq(st.fills, N + 2);
    ck_assert_uint_eq(st.duplicate_fills, 2001);
    ck_assert(order(f, id)->filled_qty == N + 2);
    fx_free(f);
}
END_TEST

/* ---- unclean outcomes ----------------------------------------------------- */

START_TEST(test_exec_duplicate_fill_reports_applied_once)
{
    cq_sim_faults_t fl = {0};
    fl.duplicate = 1;
    fx_t *f = fx_new(0, MS, &fl, 1, 1);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_MARKET, CQ_TIF_IOC, 0, 60); /* walks 2 levels */
    char id[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
    run_to(f, T0 + 2 * MS);
    size_t nf;
    cq_sim_fills(f->sim, &nf);
    ck_assert_uint_eq(nf, 2);
    cq_exec_stats_t st;
    cq_exec_stats(f->ex, &st);
    ck_assert_uint_eq(st.fills, 2);
    ck_assert_uint_eq(st.duplicate_fills, 2);
    ck_assert_int_eq(pos_steps(f, f->strat), 60);
    ck_assert(order(f, id)->filled_qty == 60);
    fx_free(f);
}
END_TEST

START_TEST(test_exec_fill_the_journal_already_holds_is_ignored)
{
    fx_t *f = fx_new(0, 0, NULL, 1, 1);
    cq_fill_t pre;
    memset(&pre, 0, sizeof pre);
    snprintf(pre.trade_id, sizeof pre.trade_id, "S1"); /* the sim's first trade id */
    ck_assert_int_eq(j_fill(&f->j, &pre), 0);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_MARKET, CQ_TIF_IOC, 0, 3);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
    run_to(f, T0);
    size_t nf;
    const cq_fill_t *sf = cq_sim_fills(f->sim, &nf);
    ck_assert_uint_eq(nf, 1);
    ck_assert_str_eq(sf[0].trade_id, "S1");
    ck_assert_int_eq(pos_steps(f, f->strat), 0);
    cq_exec_stats_t st;
    cq_exec_stats(f->ex, &st);
    ck_assert_uint_eq(st.duplicate_fills, 1);
    fx_free(f);
}
END_TEST

START_TEST(test_exec_fill_before_ack_ends_filled)
{
    cq_sim_faults_t fl = {0};
    fl.reorder = 1;
    fx_t *f = fx_new(0, MS, &fl, 1, 1);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 100.0, 5);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
    run_to(f, T0 + 2 * MS);
    cq_sim_stats_t ss;
    cq_sim_stats(f->sim, &ss);
    ck_assert_uint_ge(ss.reordered, 1);
    const cq_order_t *o = order(f, id);
    ck_assert_int_eq(o->status, CQ_OS_FILLED);
    /* The fill came first: SUBMITTED -> FILLED, then the late ack keeps it. */
    ck_assert_int_eq(f->oev[1].status, CQ_OS_FILLED);
    ck_assert_int_eq(f->oev[1].prev_status, CQ_OS_SUBMITTED);
    ck_assert_int_eq(f->oev[2].status, CQ_OS_FILLED);
    ck_assert_int_eq(pos_steps(f, f->strat), 5);
    fx_free(f);
}
END_TEST

START_TEST(test_exec_cancel_racing_fill_leaves_order_filled_and_position_full)
{
    fx_t *f = fx_new(MS, MS, NULL, 1, 1);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99.50, 4);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
    run_to(f, T0 + 2 * MS);
    ck_assert_int_eq(order(f, id)->status, CQ_OS_ACCEPTED);
    ck_assert_int_eq(cq_exec_cancel(f->ex, id, T0 + 2 * MS), 0);
    /* Before the cancel arrives, the book moves through our bid. */
    REQUIRE(cq_sim_advance(f->sim, T0 + 2 * MS + MS / 2) == 0);
    book_at(f, 9900, 9950, 50);
    run_to(f, T0 + 6 * MS);
    const cq_order_t *o = order(f, id);
    ck_assert_int_eq(o->status, CQ_OS_FILLED);
    ck_assert(o->filled_qty == 4);
    ck_assert_int_eq(cq_sim_order(f->sim, id)->status, CQ_OS_FILLED);
    ck_assert_int_eq(pos_steps(f, f->strat), 4);
    fx_free(f);
}
END_TEST

START_TEST(test_exec_lost_after_not_found_answers_then_revived_by_late_report)
{
    cq_sim_faults_t fl = {0};
    fl.drop = 1; /* the ack never comes */
    fl.not_found_next = 3;
    fx_t *f = fx_new(MS, MS, &fl, 1, 1);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 98.0, 1);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
    cq_sim_faults_t some = {0};
    some.not_found_next = 3;
    run_to(f, T0 + 10 * MS);
    ck_assert_int_eq(cq_sim_set_faults(f->sim, &some), 0); /* answers are delivered now */
    int64_t t = T0 + 10 * MS;
    for (int i = 0; i < 40 && order(f, id)->status == CQ_OS_SUBMITTED; i++) {
        t += 10 * MS;
        run_to(f, t);
    }
    const cq_order_t *o = order(f, id);
    ck_assert_int_eq(o->status, CQ_OS_REJECTED);
    ck_assert_str_eq(f->oev[f->noev - 1].reason, "lost: not found at venue after 3 queries");
    cq_exec_stats_t st;
    cq_exec_stats(f->ex, &st);
    ck_assert_uint_eq(st.not_found, 3);
    ck_assert_uint_eq(st.lost, 1);
    /* Spread: the queries went out query_interval apart, after the timeout. */
    ck_assert_int_ge(t - T0, 100 * MS + 2 * 50 * MS);
    /* The venue still has it: reconciliation's listing brings it back. */
    cq_exec_report_t r;
    memset(&r, 0, sizeof r);
    const cq_order_t *vo = cq_sim_order(f->sim, id);
    ck_assert_ptr_nonnull(vo);
    r.hdr.instrument = vo->hdr.instrument;
    r.status = vo->status;
    snprintf(r.client_order_id, sizeof r.client_order_id, "%s", vo->client_order_id);
    snprintf(r.venue_order_id, sizeof r.venue_order_id, "%s", vo->venue_order_id);
    r.side = vo->side;
    r.price = vo->price;
    r.qty = vo->qty;
    ck_assert_int_eq(cq_exec_reconcile(f->ex, &r, 1, NULL, 0, t), 0);
    ck_assert_int_eq(order(f, id)->status, CQ_OS_ACCEPTED);
    cq_exec_stats(f->ex, &st);
    ck_assert_uint_eq(st.revived, 1);
    fx_free(f);
}
END_TEST

START_TEST(test_exec_duplicate_not_found_answers_count_once)
{
    cq_sim_faults_t fl = {0};
    fl.drop = 1;
    fx_t *f = fx_new(MS, MS, &fl, 1, 1);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 98.0, 1);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
    run_to(f, T0 + 10 * MS);
    cq_sim_faults_t dup = {0};
    dup.duplicate = 1;
    dup.not_found = 1;
    ck_assert_int_eq(cq_sim_set_faults(f->sim, &dup), 0);
    run_to(f, T0 + 100 * MS);  /* first query */
    run_to(f, T0 + 110 * MS);  /* its two NOT_FOUND copies */
    cq_exec_stats_t st;
    cq_exec_stats(f->ex, &st);
    ck_assert_uint_eq(st.queries, 1);
    ck_assert_uint_eq(st.not_found, 1);
    ck_assert_int_eq(order(f, id)->status, CQ_OS_SUBMITTED);
    fx_free(f);
}
END_TEST

START_TEST(test_exec_dropped_ack_resolved_by_query)
{
    cq_sim_faults_t fl = {0};
    fl.drop = 1;
    fx_t *f = fx_new(MS, MS, &fl, 1, 1);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 98.0, 1);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
    run_to(f, T0 + 10 * MS);
    cq_sim_faults_t none = {0};
    ck_assert_int_eq(cq_sim_set_faults(f->sim, &none), 0);
    run_to(f, T0 + 99 * MS);
    ck_assert_int_eq(order(f, id)->status, CQ_OS_SUBMITTED); /* before the timeout: no query */
    run_to(f, T0 + 100 * MS);
    run_to(f, T0 + 105 * MS);
    ck_assert_int_eq(order(f, id)->status, CQ_OS_ACCEPTED);
    fx_free(f);
}
END_TEST

START_TEST(test_exec_report_for_unknown_order_adopted_as_external)
{
    fx_t *f = fx_new(0, 0, NULL, 1, 1);
    cq_exec_report_t r;
    memset(&r, 0, sizeof r);
    r.hdr.instrument = f->inst;
    r.kind = CQ_REPORT_FILL;
    r.status = CQ_OS_PARTIALLY_FILLED;
    snprintf(r.client_order_id, sizeof r.client_order_id, "web-123");
    snprintf(r.venue_order_id, sizeof r.venue_order_id, "V999");
    snprintf(r.trade_id, sizeof r.trade_id, "X1");
    snprintf(r.fee_asset, sizeof r.fee_asset, "USDT");
    r.side = CQ_SIDE_SELL;
    r.price = 100;
    r.qty = 5;
    r.last_price = 100;
    r.last_qty = 2;
    cq_exec_on_report(f->ex, &r);
    const cq_order_t *o = order(f, "web-123");
    ck_assert_uint_eq(o->hdr.flags & CQ_EVF_EXTERNAL, CQ_EVF_EXTERNAL);
    ck_assert_uint_eq(o->hdr.strategy, cq_exec_external_strategy(f->ex));
    ck_assert_int_eq(o->status, CQ_OS_PARTIALLY_FILLED);
    ck_assert_int_eq(pos_steps(f, cq_exec_external_strategy(f->ex)), -2);
    /* An answer about an id nobody knows is only counted. */
    r.kind = CQ_REPORT_NOT_FOUND;
    snprintf(r.client_order_id, sizeof r.client_order_id, "ghost");
    r.venue_order_id[0] = '\0';
    cq_exec_on_report(f->ex, &r);
    ck_assert_ptr_null(cq_cache_order(f->cache, "ghost"));
    cq_exec_stats_t st;
    cq_exec_stats(f->ex, &st);
    ck_assert_uint_eq(st.unknown_reports, 2);
    ck_assert_uint_eq(st.external_orders, 1);
    fx_free(f);
}
END_TEST

/* ---- the bus ---------------------------------------------------------------- */

typedef struct resp_box {
    int n;
    int status;
    cq_exec_response_t r;
} resp_box_t;

static void on_resp(void *user, uint64_t corr, int status, const void *resp)
{
    (void)corr;
    resp_box_t *b = user;
    b->n++;
    b->status = status;
    b->r = *(const cq_exec_response_t *)resp;
}

START_TEST(test_exec_bus_endpoints_answer_status_and_id)
{
    fx_t *f = fx_new(0, 0, NULL, 1, 1);
    ck_assert_int_eq(cq_exec_tick(f->ex, T0), 0);
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 98.0, 1);
    resp_box_t b = {0};
    ck_assert_int_eq(cq_bus_request(f->bus, "exec.submit", &d, on_resp, &b, NULL), 0);
    ck_assert_int_eq(b.n, 1);
    ck_assert_int_eq(b.status, 0);
    ck_assert_str_eq(b.r.client_order_id, "J1");
    run_to(f, T0);
    cq_exec_modify_req_t m;
    memset(&m, 0, sizeof m);
    snprintf(m.client_order_id, sizeof m.client_order_id, "J1");
    m.price = 98.5;
    ck_assert_int_eq(cq_bus_request(f->bus, "exec.modify", &m, on_resp, &b, NULL), 0);
    ck_assert_int_eq(b.status, 0);
    run_to(f, T0);
    ck_assert(order(f, "J1")->price == 98.5);
    cq_exec_cancel_req_t c;
    memset(&c, 0, sizeof c);
    snprintf(c.client_order_id, sizeof c.client_order_id, "nope");
    ck_assert_int_eq(cq_bus_request(f->bus, "exec.cancel", &c, on_resp, &b, NULL), 0);
    ck_assert_int_eq(b.status, CQ_ENOENT);
    ck_assert(b.r.reason[0] != '\0');
    cq_exec_cancel_all_req_t ca = {0, f->strat};
    ck_assert_int_eq(cq_bus_request(f->bus, "exec.cancel_all", &ca, on_resp, &b, NULL), 0);
    ck_assert_int_eq(b.status, 0);
    ck_assert_int_eq(b.r.count, 1);
    d.qty = -1;
    ck_assert_int_eq(cq_bus_request(f->bus, "exec.submit", &d, on_resp, &b, NULL), 0);
    ck_assert_int_eq(b.status, CQ_EINVAL);
    ck_assert_int_eq(cq_bus_request(f->bus, "exec.submit", NULL, on_resp, &b, NULL), 0);
    ck_assert_int_eq(b.status, CQ_EINVAL);
    fx_free(f);
}
END_TEST

/* ---- bad input -------------------------------------------------------------- */

START_TEST(test_exec_bad_input_gives_error_codes)
{
    fx_t *f = fx_new(0, 0, NULL, 1, 1);
    cq_exec_t *ex = NULL;
    ck_assert_int_eq(cq_exec_create(NULL, f->bus, f->cache, f->risk, f->pf, &f->v, NULL, NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_create(&ex, NULL, f->cache, f->risk, f->pf, &f->v, NULL, NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_create(&ex, f->bus, f->cache, f->risk, f->pf, NULL, NULL, NULL, NULL), CQ_EINVAL);
    /* The endpoints are taken by the fixture's engine. */
    ck_assert_int_eq(cq_exec_create(&ex, f->bus, f->cache, f->risk, f->pf, &f->v, NULL, NULL, NULL), CQ_EEXIST);
    ck_assert_ptr_null(ex);
    cq_exec_config_t bad = {-1, 0, 0, 0};
    ck_assert_int_eq(cq_exec_create(&ex, f->bus, f->cache, f->risk, f->pf, &f->v, NULL, &bad, NULL), CQ_EINVAL);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(NULL, NULL, T0, id), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_submit(f->ex, NULL, T0, id), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_cancel(NULL, "x", T0), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_cancel(f->ex, NULL, T0), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_cancel(f->ex, "unknown", T0), CQ_ENOENT);
    char longid[64];
    memset(longid, 'a', sizeof longid);
    longid[63] = '\0';
    ck_assert_int_eq(cq_exec_cancel(f->ex, longid, T0), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_modify(f->ex, "unknown", 1, 1, T0), CQ_ENOENT);
    ck_assert_int_eq(cq_exec_modify(NULL, "x", 1, 1, T0), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_tick(NULL, T0), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_cancel_all(NULL, 0, 0, T0, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_reconcile(NULL, NULL, 0, NULL, 0, T0), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_reconcile(f->ex, NULL, 1, NULL, 0, T0), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_reconcile(f->ex, NULL, 0, NULL, 2, T0), CQ_EINVAL);
    cq_exec_on_report(NULL, NULL);
    cq_exec_on_report(f->ex, NULL);
    cq_exec_destroy(NULL);

    /* Each validation error of a draft. */
    struct {
        int32_t side, type, tif;
        uint32_t opts;
        double price, trigger, qty;
    } bads[] = {
        {0, CQ_ORDER_LIMIT, CQ_TIF_GTC, 0, 99, 0, 1},                  /* side */
        {CQ_SIDE_BUY, 99, CQ_TIF_GTC, 0, 99, 0, 1},                    /* type */
        {CQ_SIDE_BUY, CQ_ORDER_LIMIT, 9, 0, 99, 0, 1},                 /* tif */
        {CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 64, 99, 0, 1},       /* opts */
        {CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 0, 99, 0, 0},        /* qty 0 */
        {CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 0, 99, 0, NAN},      /* qty NaN */
        {CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 0, 0, 0, 1},         /* limit without price */
        {CQ_SIDE_BUY, CQ_ORDER_MARKET, CQ_TIF_IOC, 0, 99, 0, 1},       /* market with price */
        {CQ_SIDE_BUY, CQ_ORDER_STOP_MARKET, CQ_TIF_GTC, 0, 0, 0, 1},   /* stop without trigger */
        {CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 0, 99, 98, 1},       /* trigger on a limit */
        {CQ_SIDE_BUY, CQ_ORDER_LIMIT_MAKER, CQ_TIF_IOC, 0, 99, 0, 1},  /* post-only IOC */
        {CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 0, INFINITY, 0, 1},  /* price inf */
    };
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        cq_order_t d = draft(f, bads[i].side, bads[i].type, bads[i].tif, bads[i].price, bads[i].qty);
        d.opts = bads[i].opts;
        d.trigger_price = bads[i].trigger;
        ck_assert_msg(cq_exec_submit(f->ex, &d, T0, id) == CQ_EINVAL, "bad draft %zu", i);
        ck_assert_msg(cq_exec_last_reason(f->ex)[0] != '\0', "reason for %zu", i);
    }
    cq_order_t d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 99, 1);
    d.hdr.strategy = 0;
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), CQ_EINVAL);
    d.hdr.strategy = 777;
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), CQ_EINVAL);
    /* A hostile tag without its NUL is cut, not read past. */
    d = draft(f, CQ_SIDE_BUY, CQ_ORDER_LIMIT, CQ_TIF_GTC, 98, 1);
    memset(d.tag, 'x', sizeof d.tag);
    ck_assert_int_eq(cq_exec_submit(f->ex, &d, T0, id), 0);
    ck_assert_uint_eq(strlen(order(f, id)->tag), sizeof d.tag - 1);
    /* Modify: bad numbers, closed order. */
    ck_assert_int_eq(cq_exec_modify(f->ex, id, NAN, 0, T0), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_modify(f->ex, id, 0, 0, T0), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_modify(f->ex, id, -1, 0, T0), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_modify(f->ex, id, 98.005, 0, T0), CQ_EINVAL);
    ck_assert_int_eq(cq_exec_cancel(f->ex, id, T0), 0);
    run_to(f, T0);
    ck_assert_int_eq(cq_exec_cancel(f->ex, id, T0), CQ_ESTATE);
    ck_assert_int_eq(cq_exec_modify(f->ex, id, 97, 0, T0), CQ_ESTATE);
    fx_free(f);
}
END_TEST

/* ---- randomized run with every fault ---------------------------------------- */

static int cmp_tid(const void *a, const void *b)
{
    return strcmp(a, b);
}

static cq_exec_report_t rep_of_order(const cq_order_t *o)
{
    cq_exec_report_t r;
    memset(&r, 0, sizeof r);
    r.hdr = o->hdr;
    r.kind = CQ_REPORT_STATUS;
    r.status = o->status;
    memcpy(r.client_order_id, o->client_order_id, 40);
    memcpy(r.venue_order_id, o->venue_order_id, 40);
    r.side = o->side;
    r.cum_qty = o->filled_qty;
    r.price = o->price;
    r.qty = o->qty;
    return r;
}

static cq_exec_report_t rep_of_fill(const cq_fill_t *fl)
{
    cq_exec_report_t r;
    memset(&r, 0, sizeof r);
    r.hdr = fl->hdr;
    r.kind = CQ_REPORT_FILL;
    memcpy(r.client_order_id, fl->client_order_id, 40);
    memcpy(r.venue_order_id, fl->venue_order_id, 40);
    memcpy(r.trade_id, fl->trade_id, 40);
    r.side = fl->side;
    r.liquidity = fl->liquidity;
    r.last_price = fl->price;
    r.last_qty = fl->qty;
    r.fee = fl->fee;
    memcpy(r.fee_asset, fl->fee_asset, 16);
    return r;
}

static void reconcile_with_sim(fx_t *f, int64_t t)
{
    size_t no, nf;
    const cq_order_t *vo = cq_sim_orders(f->sim, &no);
    const cq_fill_t *vf = cq_sim_fills(f->sim, &nf);
    cq_exec_report_t *open = calloc(no + 1, sizeof *open), *fills = calloc(nf + 1, sizeof *fills);
    REQUIRE(open && fills);
    size_t k = 0;
    for (size_t i = 0; i < no; i++)
        if (cq_order_status_is_open(vo[i].status))
            open[k++] = rep_of_order(&vo[i]);
    for (size_t i = 0; i < nf; i++)
        fills[i] = rep_of_fill(&vf[i]);
    REQUIRE(cq_exec_reconcile(f->ex, open, k, fills, nf, t) == 0);
    free(open);
    free(fills);
}

static void random_run(uint64_t seed, int norders)
{
    cq_sim_faults_t fl = {0};
    fl.drop = 0.15;
    fl.delay = 0.1;
    fl.delay_ns = 30 * MS;
    fl.reorder = 0.1;
    fl.duplicate = 0.1;
    fl.not_found = 0.7;
    fl.reject = 0.05;
    fx_t *f = fx_new(MS, MS, &fl, 1, seed);
    uint32_t s2;
    REQUIRE(cq_cache_strategy_intern(f->cache, "S2", &s2) == 0);
    cq_rng_t rng = {seed * 2654435761ULL + 7};
    char (*ids)[40] = calloc((size_t)norders, 40);
    REQUIRE(ids);
    int nids = 0;
    int64_t t = T0, mid = 9950;
    for (int step = 0; nids < norders; step++) {
        t += MS * (1 + cq_rng_below(&rng, 5));
        REQUIRE(cq_sim_advance(f->sim, t) == 0);
        unsigned a = cq_rng_below(&rng, 100);
        if (a < 45) {
            int32_t side = cq_rng_below(&rng, 2) ? CQ_SIDE_BUY : CQ_SIDE_SELL;
            unsigned k = cq_rng_below(&rng, 10);
            double qty = 1 + cq_rng_below(&rng, 8);
            cq_order_t d;
            if (k < 2) {
                d = draft(f, side, CQ_ORDER_MARKET, CQ_TIF_IOC, 0, qty);
            } else {
                int64_t off = (int64_t)cq_rng_below(&rng, 120) - 40;
                int64_t tick = side == CQ_SIDE_BUY ? mid - off : mid + off;
                d = draft(f, side, CQ_ORDER_LIMIT, k < 4 ? CQ_TIF_IOC : CQ_TIF_GTC, (double)tick / 100, qty);
            }
            d.hdr.strategy = cq_rng_below(&rng, 2) ? f->strat : s2;
            REQUIRE(cq_exec_submit(f->ex, &d, t, ids[nids]) == 0);
            nids++;
        } else if (a < 60 && nids) {
            cq_exec_cancel(f->ex, ids[cq_rng_below(&rng, (unsigned)nids)], t);
        } else if (a < 70 && nids) {
            const char *id = ids[cq_rng_below(&rng, (unsigned)nids)];
            const cq_order_t *o = cq_cache_order(f->cache, id);
            if (o->type == CQ_ORDER_LIMIT)
                cq_exec_modify(f->ex, id, o->price + (cq_rng_below(&rng, 2) ? 0.01 : -0.01),
                               o->filled_qty + 1 + cq_rng_below(&rng, 3), t);
        } else if (a < 90) {
            mid += (int64_t)cq_rng_below(&rng, 7) - 3;
            book_at(f, mid - 1 - cq_rng_below(&rng, 3), mid + 1 + cq_rng_below(&rng, 3), 5 + cq_rng_below(&rng, 20));
        } else {
            cq_trade_t tr;
            memset(&tr, 0, sizeof tr);
            tr.hdr.instrument = f->inst;
            tr.hdr.ts_init = t;
            tr.price = (double)(mid + (int64_t)cq_rng_below(&rng, 5) - 2) / 100;
            tr.qty = 1 + cq_rng_below(&rng, 10);
            tr.aggressor = cq_rng_below(&rng, 2) ? CQ_SIDE_BUY : CQ_SIDE_SELL;
            REQUIRE(cq_sim_on_trade(f->sim, &tr) == 0);
        }
        REQUIRE(cq_exec_tick(f->ex, t) == 0);
    }
    /* Faults off; let everything in flight land, then reconcile. */
    cq_sim_faults_t none = {0};
    REQUIRE(cq_sim_set_faults(f->sim, &none) == 0);
    for (int i = 0; i < 20; i++) {
        t += 50 * MS;
        run_to(f, t);
    }
    reconcile_with_sim(f, t);
    for (int i = 0; i < 10; i++) {
        t += 50 * MS;
        run_to(f, t);
    }
    reconcile_with_sim(f, t);
    for (int i = 0; i < 10; i++) {
        t += 50 * MS;
        run_to(f, t);
    }

    /* Orders: status and filled quantity as the venue has them. */
    size_t no, nf;
    const cq_order_t *vo = cq_sim_orders(f->sim, &no);
    REQUIRE(no == (size_t)norders);
    for (size_t i = 0; i < no; i++) {
        const cq_order_t *o = cq_cache_order(f->cache, vo[i].client_order_id);
        REQUIRE(o != NULL);
        if (o->status != vo[i].status || o->filled_qty != vo[i].filled_qty)
            ck_abort_msg("seed %llu order %s: ours %s %.17g, venue %s %.17g", (unsigned long long)seed,
                         o->client_order_id, cq_order_status_name(o->status), o->filled_qty,
                         cq_order_status_name(vo[i].status), vo[i].filled_qty);
    }
    /* Fills: the same set of trade ids, each published once. */
    const cq_fill_t *vf = cq_sim_fills(f->sim, &nf);
    REQUIRE(f->npub == nf);
    char (*vt)[40] = calloc(nf + 1, 40);
    REQUIRE(vt);
    for (size_t i = 0; i < nf; i++)
        memcpy(vt[i], vf[i].trade_id, 40);
    qsort(vt, nf, 40, cmp_tid);
    qsort(f->pub_tids, f->npub, 40, cmp_tid);
    for (size_t i = 0; i < nf; i++)
        REQUIRE(strcmp(vt[i], f->pub_tids[i]) == 0);
    /* Positions: the venue's signed fills per strategy. */
    int64_t want1 = 0, want2 = 0;
    for (size_t i = 0; i < nf; i++) {
        int64_t q = llround(vf[i].qty) * (vf[i].side == CQ_SIDE_BUY ? 1 : -1);
        if (vf[i].hdr.strategy == f->strat)
            want1 += q;
        else
            want2 += q;
    }
    REQUIRE(pos_steps(f, f->strat) == want1);
    REQUIRE(pos_steps(f, s2) == want2);
    cq_sim_stats_t ss;
    cq_sim_stats(f->sim, &ss);
    REQUIRE(ss.dropped > 0 && ss.duplicated > 0 && ss.reordered > 0 && ss.delayed > 0);
    REQUIRE(ss.injected_not_found > 0 && ss.injected_rejects > 0);
    /* The run went through the lost rule and back (fixed seeds). */
    cq_exec_stats_t st;
    cq_exec_stats(f->ex, &st);
    REQUIRE(st.lost > 0 && st.revived > 0 && st.duplicate_fills > 0);
    free(vt);
    free(ids);
    fx_free(f);
}

START_TEST(test_exec_random_faults_end_equal_to_venue)
{
    for (uint64_t seed = 1; seed <= 4; seed++)
        random_run(seed, 300);
}
END_TEST

static Suite *exec_suite(void)
{
    Suite *s = suite_create("exec");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_exec_market_order_acked_filled_and_positioned);
    tcase_add_test(tc, test_exec_limit_order_rests_then_cancel_closes_it);
    tcase_add_test(tc, test_exec_modify_changes_price_and_qty_at_the_venue);
    tcase_add_test(tc, test_exec_snaps_price_to_exact_grid_double);
    tcase_add_test(tc, test_exec_cancel_all_cancels_open_and_inflight_orders);
    tcase_add_test(tc, test_exec_denied_order_never_reaches_the_venue);
    tcase_add_test(tc, test_exec_journal_and_cache_see_order_before_the_venue);
    tcase_add_test(tc, test_exec_journal_failure_means_not_sent);
    tcase_add_test(tc, test_exec_generated_ids_are_short_valid_and_distinct);
    tcase_add_test(tc, test_exec_generated_ids_carry_in_base36_and_never_repeat);
    tcase_add_test(tc, test_exec_trade_id_window_refuses_recent_duplicates_and_forgets_the_oldest);
    tcase_add_test(tc, test_exec_duplicate_fill_reports_applied_once);
    tcase_add_test(tc, test_exec_fill_the_journal_already_holds_is_ignored);
    tcase_add_test(tc, test_exec_fill_before_ack_ends_filled);
    tcase_add_test(tc, test_exec_cancel_racing_fill_leaves_order_filled_and_position_full);
    tcase_add_test(tc, test_exec_lost_after_not_found_answers_then_revived_by_late_report);
    tcase_add_test(tc, test_exec_duplicate_not_found_answers_count_once);
    tcase_add_test(tc, test_exec_dropped_ack_resolved_by_query);
    tcase_add_test(tc, test_exec_report_for_unknown_order_adopted_as_external);
    tcase_add_test(tc, test_exec_bus_endpoints_answer_status_and_id);
    tcase_add_test(tc, test_exec_bad_input_gives_error_codes);
    tcase_add_test(tc, test_exec_random_faults_end_equal_to_venue);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cq_test_run(exec_suite());
}
