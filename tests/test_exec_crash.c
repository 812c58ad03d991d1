/*
 * test_exec_crash.c - the ExecutionEngine on the real SQLite journal
 * (cq_journal_exec_iface): the wiring, the restart path (restore + adopt),
 * and the crash test with real processes killed by SIGKILL in the middle of
 * a burst of submits and reports.
 *
 * The venue is a minimal one that queues nothing and answers nothing: the
 * test delivers the venue's reports itself, so every state is known. Files
 * live in a fresh directory under $TMPDIR (else /tmp), removed by main().
 * The crash test re-executes this binary with "--exec-child".
 */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cquant/bus.h"
#include "cquant/cache.h"
#include "cquant/error.h"
#include "cquant/exec.h"
#include "cquant/journal.h"
#include "cquant/portfolio.h"
#include "cquant/risk.h"
#include "support/cq_test.h"

/* Check's ck_assert_* makes a system call per passing assertion: loops use
 * this, which calls into Check only on failure. */
#define REQUIRE(cond, ...)             \
    do {                               \
        if (!(cond))                   \
            ck_abort_msg(__VA_ARGS__); \
    } while (0)

#define T0 ((int64_t)1000000000000)
#define SEC ((int64_t)1000000000)

static int g_batch; /* cfg.batch of the journals chain_open opens */
static char g_base[3072];
static char g_self[4096];
static char g_path[4200];
static cq_log_t quiet = {CQ_LOG_OFF, NULL, NULL};

/* ---- the chain: cache, bus, risk, portfolio, journal, a silent venue, engine */

typedef struct venue_rec {
    int submits, cancels, queries;
    char last_query[40];
} venue_rec_t;

static int v_submit(void *self, const cq_order_t *o)
{
    (void)o;
    ((venue_rec_t *)self)->submits++;
    return 0;
}
static int v_cancel(void *self, const cq_order_t *o)
{
    (void)o;
    ((venue_rec_t *)self)->cancels++;
    return 0;
}
static int v_modify(void *self, const cq_order_t *o, double p, double q)
{
    (void)self, (void)o, (void)p, (void)q;
    return 0;
}
static int v_query(void *self, uint32_t inst, const char *id)
{
    venue_rec_t *v = self;
    (void)inst;
    v->queries++;
    snprintf(v->last_query, sizeof v->last_query, "%s", id);
    return 0;
}
static const cq_venue_ops_t v_ops = {"SILENT", v_submit, v_cancel, v_modify, v_query, NULL, NULL};

typedef struct chain {
    cq_cache_t *cache;
    cq_bus_t *bus;
    cq_risk_t *risk;
    cq_portfolio_t *pf;
    cq_journal_t *j;
    cq_exec_t *ex;
    venue_rec_t vr;
    uint32_t inst, strat;
    cq_exec_journal_t jr;
} chain_t;

/* Everything but the engine (the journal restore comes in between). */
static int chain_open(chain_t *c, const char *path)
{
    memset(c, 0, sizeof *c);
    if (cq_cache_create(&c->cache, NULL) || cq_bus_create(&c->bus))
        return -1;
    cq_instrument_t spec;
    memset(&spec, 0, sizeof spec);
    snprintf(spec.id, sizeof spec.id, "TEST.SIM");
    snprintf(spec.symbol, sizeof spec.symbol, "TEST");
    snprintf(spec.venue, sizeof spec.venue, "SIM");
    snprintf(spec.base, sizeof spec.base, "TST");
    snprintf(spec.quote, sizeof spec.quote, "USDT");
    spec.tick_size = 0.01;
    spec.step_size = 1;
    spec.tick_units = spec.step_units = 1;
    spec.price_precision = 2;
    spec.tradable = 1;
    if (cq_cache_instrument_add(c->cache, &spec, &c->inst) || cq_cache_strategy_intern(c->cache, "S1", &c->strat))
        return -1;
    cq_risk_limits_t lim = {1e12, 0, 0, 0};
    if (cq_risk_create(&c->risk, c->cache, &lim, &quiet) || cq_portfolio_create(&c->pf, c->bus, c->cache, &quiet))
        return -1;
    cq_journal_config_t jc;
    memset(&jc, 0, sizeof jc);
    jc.cache = c->cache;
    jc.log = &quiet;
    jc.busy_timeout_ms = 5000;
    jc.skip_verify = 1;
    jc.batch = g_batch;
    if (cq_journal_open(&c->j, path, &jc))
        return -2;
    return cq_journal_exec_iface(c->j, &c->jr);
}

static int chain_engine(chain_t *c, const cq_exec_journal_t *jr)
{
    cq_venue_t v = {&v_ops, &c->vr};
    cq_exec_config_t ec = {SEC, SEC, 3, T0};
    return cq_exec_create(&c->ex, c->bus, c->cache, c->risk, c->pf, &v, jr, &ec, &quiet);
}

static void chain_close(chain_t *c)
{
    cq_exec_destroy(c->ex);
    cq_journal_close(c->j);
    cq_portfolio_destroy(c->pf);
    cq_risk_destroy(c->risk);
    cq_bus_destroy(c->bus);
    cq_cache_destroy(c->cache);
}

static cq_order_t draft(const chain_t *c, double qty)
{
    cq_order_t d;
    memset(&d, 0, sizeof d);
    d.hdr.instrument = c->inst;
    d.hdr.strategy = c->strat;
    d.side = CQ_SIDE_BUY;
    d.type = CQ_ORDER_LIMIT;
    d.tif = CQ_TIF_GTC;
    d.price = 98.50;
    d.qty = qty;
    return d;
}

static cq_exec_report_t report(const chain_t *c, int32_t kind, const char *id)
{
    cq_exec_report_t r;
    memset(&r, 0, sizeof r);
    r.hdr.instrument = c->inst;
    r.kind = kind;
    r.side = CQ_SIDE_BUY;
    snprintf(r.client_order_id, sizeof r.client_order_id, "%s", id);
    return r;
}

static void deliver_fill(chain_t *c, const char *id, const char *tid, double qty, int64_t ts)
{
    cq_exec_report_t r = report(c, CQ_REPORT_FILL, id);
    snprintf(r.trade_id, sizeof r.trade_id, "%s", tid);
    r.liquidity = CQ_LIQ_MAKER;
    r.last_price = 98.50;
    r.last_qty = qty;
    r.fee = 0.01;
    snprintf(r.fee_asset, sizeof r.fee_asset, "USDT");
    r.hdr.ts_event = r.hdr.ts_init = ts;
    cq_exec_on_report(c->ex, &r);
}

/* Check forks each test: the pid names its file. */
static void setup(void)
{
    snprintf(g_path, sizeof g_path, "%s/j%ld.db", g_base, (long)getpid());
}

/* ---- the interface -------------------------------------------------------- */

START_TEST(test_exec_journal_iface_null_is_einval)
{
    cq_exec_journal_t jr;
    memset(&jr, 0xAB, sizeof jr);
    ck_assert_int_eq(cq_journal_exec_iface(NULL, &jr), CQ_EINVAL);
    ck_assert_ptr_null(jr.record_submit); /* cleared, never half-filled */
    chain_t c;
    ck_assert_int_eq(chain_open(&c, g_path), 0);
    ck_assert_int_eq(cq_journal_exec_iface(c.j, NULL), CQ_EINVAL);
    chain_close(&c);
}
END_TEST

START_TEST(test_exec_journal_submit_is_recorded_before_the_venue_call_with_journal_ids)
{
    chain_t c;
    ck_assert_int_eq(chain_open(&c, g_path), 0);
    ck_assert_int_eq(chain_engine(&c, &c.jr), 0);
    cq_order_t d = draft(&c, 3);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(c.ex, &d, T0, id), 0);
    ck_assert_int_eq(strncmp(id, "cq", 2), 0); /* the journal's id generator */
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(c.j, id, &rec), 0);
    ck_assert_int_eq(rec.order.status, CQ_OS_SUBMITTED);
    ck_assert_int_eq(c.vr.submits, 1);
    chain_close(&c);
}
END_TEST

START_TEST(test_exec_journal_fill_and_its_order_change_are_recorded_together)
{
    chain_t c;
    ck_assert_int_eq(chain_open(&c, g_path), 0);
    ck_assert_int_eq(chain_engine(&c, &c.jr), 0);
    cq_order_t d = draft(&c, 3);
    char id[40];
    ck_assert_int_eq(cq_exec_submit(c.ex, &d, T0, id), 0);
    deliver_fill(&c, id, "T1", 1, T0 + 1);
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(c.j, id, &rec), 0);
    ck_assert_int_eq(rec.order.status, CQ_OS_PARTIALLY_FILLED);
    ck_assert(rec.order.filled_qty == 1);
    ck_assert(fabs(rec.order.fees - 0.01) < 1e-12); /* update_order rode along */
    ck_assert_int_eq(cq_journal_find_fill(c.j, c.inst, "T1", NULL), 0);
    chain_close(&c);
}
END_TEST

/* ---- restart --------------------------------------------------------------- */

START_TEST(test_exec_restart_restores_orders_with_last_state_and_applies_reports)
{
    chain_t c;
    char id[3][40];
    ck_assert_int_eq(chain_open(&c, g_path), 0);
    ck_assert_int_eq(chain_engine(&c, &c.jr), 0);
    for (int i = 0; i < 3; i++) {
        cq_order_t d = draft(&c, 3);
        ck_assert_int_eq(cq_exec_submit(c.ex, &d, T0 + i, id[i]), 0);
    }
    cq_exec_report_t r = report(&c, CQ_REPORT_ACCEPTED, id[0]);
    cq_exec_on_report(c.ex, &r);
    r = report(&c, CQ_REPORT_ACCEPTED, id[1]);
    cq_exec_on_report(c.ex, &r);
    deliver_fill(&c, id[1], "T1", 1, T0 + 10);
    chain_close(&c); /* id[2] stays SUBMITTED: in flight at the "crash" */

    ck_assert_int_eq(chain_open(&c, g_path), 0);
    long added = 0;
    ck_assert_int_eq(cq_journal_restore_open(c.j, &added), 0);
    ck_assert_int_eq(added, 3);
    ck_assert_int_eq(chain_engine(&c, &c.jr), 0);
    size_t n = 0;
    ck_assert_int_eq(cq_exec_adopt_open(c.ex, T0 + SEC, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(c.vr.queries, 1); /* only the one in flight */
    ck_assert_str_eq(c.vr.last_query, id[2]);
    const cq_order_t *o0 = cq_cache_order(c.cache, id[0]), *o1 = cq_cache_order(c.cache, id[1]),
                     *o2 = cq_cache_order(c.cache, id[2]);
    ck_assert_ptr_nonnull(o0);
    ck_assert_ptr_nonnull(o1);
    ck_assert_ptr_nonnull(o2);
    ck_assert_int_eq(o0->status, CQ_OS_ACCEPTED);
    ck_assert_int_eq(o1->status, CQ_OS_PARTIALLY_FILLED);
    ck_assert(o1->filled_qty == 1 && fabs(o1->fees - 0.01) < 1e-12);
    ck_assert_int_eq(o2->status, CQ_OS_SUBMITTED);

    /* The venue repeats the fill it sent before the restart: refused by the
     * journal, the order does not move. */
    deliver_fill(&c, id[1], "T1", 1, T0 + SEC + 1);
    ck_assert(o1->filled_qty == 1);
    cq_exec_stats_t st;
    cq_exec_stats(c.ex, &st);
    ck_assert_uint_eq(st.duplicate_fills, 1);
    /* A new report is applied, journalled, and closes the order. */
    deliver_fill(&c, id[1], "T2", 2, T0 + SEC + 2);
    ck_assert_int_eq(o1->status, CQ_OS_FILLED);
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(c.j, id[1], &rec), 0);
    ck_assert_int_eq(rec.order.status, CQ_OS_FILLED);
    ck_assert(rec.order.filled_qty == 3);
    /* The queried order's answer takes it out of flight. */
    cq_exec_report_t s = report(&c, CQ_REPORT_STATUS, id[2]);
    s.status = CQ_OS_ACCEPTED;
    s.qty = 3;
    s.price = 98.50;
    cq_exec_on_report(c.ex, &s);
    ck_assert_int_eq(o2->status, CQ_OS_ACCEPTED);
    /* New orders never reuse an id of the previous session. */
    char fresh[40];
    cq_order_t d = draft(&c, 1);
    ck_assert_int_eq(cq_exec_submit(c.ex, &d, T0 + SEC + 3, fresh), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_str_ne(fresh, id[i]);
    chain_close(&c);
}
END_TEST

START_TEST(test_exec_adopt_open_tracks_restored_orders_for_timeouts)
{
    chain_t c;
    char id[40];
    ck_assert_int_eq(chain_open(&c, g_path), 0);
    ck_assert_int_eq(chain_engine(&c, &c.jr), 0);
    cq_order_t d = draft(&c, 3);
    ck_assert_int_eq(cq_exec_submit(c.ex, &d, T0, id), 0);
    cq_exec_report_t r = report(&c, CQ_REPORT_ACCEPTED, id);
    cq_exec_on_report(c.ex, &r);
    ck_assert_int_eq(cq_exec_cancel(c.ex, id, T0 + 1), 0); /* PENDING_CANCEL at the crash */
    chain_close(&c);

    ck_assert_int_eq(chain_open(&c, g_path), 0);
    ck_assert_int_eq(cq_journal_restore_open(c.j, NULL), 0);
    ck_assert_int_eq(chain_engine(&c, &c.jr), 0);
    ck_assert_int_eq(cq_exec_adopt_open(c.ex, T0 + 10 * SEC, NULL), 0);
    ck_assert_int_eq(c.vr.queries, 1);
    /* a second call adopts nothing new and sends nothing */
    size_t n = 99;
    ck_assert_int_eq(cq_exec_adopt_open(c.ex, T0 + 10 * SEC, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(c.vr.queries, 1);
    /* unanswered: the timers query again after the interval */
    ck_assert_int_eq(cq_exec_tick(c.ex, T0 + 12 * SEC), 0);
    ck_assert_int_eq(c.vr.queries, 2);
    r = report(&c, CQ_REPORT_CANCELED, id);
    cq_exec_on_report(c.ex, &r);
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(c.j, id, &rec), 0);
    ck_assert_int_eq(rec.order.status, CQ_OS_CANCELED);
    chain_close(&c);
}
END_TEST

START_TEST(test_exec_adopt_open_null_is_einval)
{
    size_t n = 7;
    ck_assert_int_eq(cq_exec_adopt_open(NULL, T0, &n), CQ_EINVAL);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(cq_exec_adopt_open(NULL, T0, NULL), CQ_EINVAL);
}
END_TEST

START_TEST(test_exec_duplicate_older_than_the_trade_id_window_is_caught_by_the_journal)
{
    chain_t c;
    ck_assert_int_eq(chain_open(&c, g_path), 0);
    ck_assert_int_eq(chain_engine(&c, &c.jr), 0);
    cq_order_t d = draft(&c, 1e6);
    char id[40], tid[32];
    ck_assert_int_eq(cq_exec_submit(c.ex, &d, T0, id), 0);
    ck_assert_int_eq(cq_journal_begin(c.j), 0); /* one commit: speed only */
    for (int i = 0; i < 4200; i++) {
        snprintf(tid, sizeof tid, "W%d", i);
        deliver_fill(&c, id, tid, 1, T0 + 1 + i);
    }
    ck_assert_int_eq(cq_journal_commit(c.j), 0);
    const cq_order_t *o = cq_cache_order(c.cache, id);
    ck_assert(o->filled_qty == 4200);
    deliver_fill(&c, id, "W0", 1, T0 + 10000);    /* evicted from memory: the journal says EEXIST */
    deliver_fill(&c, id, "W4199", 1, T0 + 10001); /* recent: memory */
    ck_assert(o->filled_qty == 4200);
    cq_exec_stats_t st;
    cq_exec_stats(c.ex, &st);
    ck_assert_uint_eq(st.duplicate_fills, 2);
    ck_assert_uint_eq(st.fills, 4200);
    chain_close(&c);
}
END_TEST

/* ---- the crash test ---------------------------------------------------------
 * The child runs the whole chain on the shared journal file and writes a
 * message before and after every engine call that changes an order: BEGIN
 * with the state the order will have (a submit's BEGIN is sent from inside
 * the call, once the journal has handed out the id), END with the state the
 * cache shows once it returned (then committed). */

enum { OP_SUBMIT = 1, OP_CHANGE = 2, OP_FINISHED = 3, OP_ERROR = 4 };
enum { PH_BEGIN = 1, PH_END = 2 };

typedef struct mstate {
    int32_t status;
    int32_t filled; /* units */
    int32_t fills;
} mstate_t;

typedef struct crash_msg {
    int32_t op, phase, code, pad_;
    char id[40];
    mstate_t st;
} crash_msg_t;

static int g_fd = -1;

static void child_send(int op, int phase, const char *id, const mstate_t *st, int code)
{
    crash_msg_t m;
    memset(&m, 0, sizeof m);
    m.op = op;
    m.phase = phase;
    m.code = code;
    if (id)
        snprintf(m.id, sizeof m.id, "%s", id);
    if (st)
        m.st = *st;
    if (write(g_fd, &m, sizeof m) != (ssize_t)sizeof m)
        _exit(4);
}

/* The journal's id generator, announcing each id before it is recorded. */
static cq_exec_journal_t g_real;
static int child_next_id(void *user, char out[40])
{
    int rc = g_real.next_client_id(user, out);
    if (rc == 0) {
        mstate_t st = {CQ_OS_SUBMITTED, 0, 0};
        child_send(OP_SUBMIT, PH_BEGIN, out, &st, 0);
    }
    return rc;
}

static void child_check(const chain_t *c, const char *id, const mstate_t *want)
{
    const cq_order_t *o = cq_cache_order(c->cache, id);
    mstate_t got = {o ? o->status : -1, o ? (int32_t)lround(o->filled_qty) : -1, want->fills};
    if (!o || got.status != want->status || got.filled != want->filled) {
        child_send(OP_ERROR, 0, id, &got, -100);
        _exit(3);
    }
    child_send(OP_CHANGE, PH_END, id, &got, 0);
}

static int crash_child(char **argv)
{
    const char *path = argv[2];
    cq_rng_t rng = {strtoull(argv[3], NULL, 10) | 1};
    int n = atoi(argv[4]);
    g_fd = atoi(argv[5]);
    chain_t c;
    int rc = chain_open(&c, path);
    if (rc) {
        child_send(OP_ERROR, 0, "open", NULL, rc);
        _exit(3);
    }
    g_real = c.jr;
    cq_exec_journal_t jr = c.jr;
    jr.next_client_id = child_next_id;
    if ((rc = chain_engine(&c, &jr)) != 0) {
        child_send(OP_ERROR, 0, "engine", NULL, rc);
        _exit(3);
    }
    int64_t t = T0;
    for (int i = 0; i < n; i++) {
        cq_order_t d = draft(&c, 3);
        char id[40];
        mstate_t st = {CQ_OS_SUBMITTED, 0, 0};
        rc = cq_exec_submit(c.ex, &d, ++t, id);
        if (rc) {
            child_send(OP_ERROR, 0, id, NULL, rc);
            _exit(3);
        }
        child_send(OP_SUBMIT, PH_END, id, &st, 0);
        unsigned r = cq_rng_below(&rng, 10);
        if (r < 8) {
            st.status = CQ_OS_ACCEPTED;
            child_send(OP_CHANGE, PH_BEGIN, id, &st, 0);
            cq_exec_report_t rep = report(&c, CQ_REPORT_ACCEPTED, id);
            cq_exec_on_report(c.ex, &rep);
            child_check(&c, id, &st);
        }
        if (r < 4) {
            int nf = 1 + (int)cq_rng_below(&rng, 3);
            for (int k = 0; k < nf; k++) {
                char tid[48];
                snprintf(tid, sizeof tid, "%.30s-t%d", id, k);
                st.filled++;
                st.fills++;
                st.status = st.filled == 3 ? CQ_OS_FILLED : CQ_OS_PARTIALLY_FILLED;
                child_send(OP_CHANGE, PH_BEGIN, id, &st, 0);
                deliver_fill(&c, id, tid, 1, ++t);
                child_check(&c, id, &st);
                /* the venue repeats itself: nothing may move */
                deliver_fill(&c, id, tid, 1, ++t);
                child_check(&c, id, &st);
            }
        } else if (r < 8 && r >= 6) {
            st.status = CQ_OS_PENDING_CANCEL;
            child_send(OP_CHANGE, PH_BEGIN, id, &st, 0);
            if (cq_exec_cancel(c.ex, id, ++t)) {
                child_send(OP_ERROR, 0, id, NULL, -101);
                _exit(3);
            }
            child_check(&c, id, &st);
            if (r == 7) {
                st.status = CQ_OS_CANCELED;
                child_send(OP_CHANGE, PH_BEGIN, id, &st, 0);
                cq_exec_report_t rep = report(&c, CQ_REPORT_CANCELED, id);
                cq_exec_on_report(c.ex, &rep);
                child_check(&c, id, &st);
            }
        }
    }
    child_send(OP_FINISHED, 0, NULL, NULL, 0);
    for (;;)
        pause(); /* killed while still "busy" */
}

#define HIST_MAX 16

typedef struct mentry {
    char id[40];
    mstate_t done, pending;
    int has_done, has_pending, found, submit_returned;
    /* Batched journals: every state the order returned in, with the message
     * count when it did, and when its submit began. */
    mstate_t hist[HIST_MAX];
    long hist_at[HIST_MAX];
    int nhist, file_idx;
    long submit_at;
} mentry_t;

typedef struct model {
    mentry_t *e;
    size_t cap, n;
    long msgs;          /* messages applied so far */
    long last_request;  /* message count of the last PENDING_CANCEL that returned */
} model_t;

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static mentry_t *model_find(model_t *m, const char *id, int add)
{
    size_t i = hash_id(id) & (m->cap - 1);
    while (m->e[i].id[0]) {
        if (strcmp(m->e[i].id, id) == 0)
            return &m->e[i];
        i = (i + 1) & (m->cap - 1);
    }
    if (!add)
        return NULL;
    REQUIRE(m->n + 1 < m->cap / 2, "model full");
    snprintf(m->e[i].id, sizeof m->e[i].id, "%s", id);
    m->n++;
    return &m->e[i];
}

static int same(const mstate_t *a, const mstate_t *b)
{
    return a->status == b->status && a->filled == b->filled && a->fills == b->fills;
}

static void apply_msg(model_t *m, const crash_msg_t *msg, int *pending)
{
    REQUIRE(msg->op != OP_ERROR, "child failed at %s: %d", msg->id, msg->code);
    if (msg->op == OP_FINISHED)
        return;
    long at = ++m->msgs;
    int fresh = msg->op == OP_SUBMIT && msg->phase == PH_BEGIN;
    if (fresh)
        REQUIRE(!model_find(m, msg->id, 0), "client id %s handed out twice", msg->id);
    mentry_t *e = model_find(m, msg->id, fresh);
    REQUIRE(e, "message for unannounced order %s", msg->id);
    if (msg->phase == PH_BEGIN) {
        REQUIRE(*pending == 0, "two calls in flight");
        e->pending = msg->st;
        e->has_pending = 1;
        ++*pending;
        if (fresh)
            e->submit_at = at;
        return;
    }
    if (!e->nhist || !same(&e->hist[e->nhist - 1], &msg->st)) {
        REQUIRE(e->nhist < HIST_MAX, "order %s: history too long", msg->id);
        e->hist[e->nhist] = msg->st;
        e->hist_at[e->nhist++] = at;
    }
    if (msg->st.status == CQ_OS_PENDING_CANCEL)
        m->last_request = at;
    if (msg->op == OP_SUBMIT) {
        REQUIRE(e->has_pending, "submit of %s returned without beginning", msg->id);
        e->submit_returned = 1;
    }
    if (e->has_pending) {
        REQUIRE(same(&e->pending, &msg->st), "order %s ended in another state", msg->id);
        e->has_pending = 0;
        --*pending;
    } else {
        REQUIRE(e->has_done && same(&e->done, &msg->st), "order %s moved without a call", msg->id);
    }
    e->done = msg->st;
    e->has_done = 1;
}

static void run_child(uint64_t seed, int n, int kill_at, model_t *m)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    fcntl(p[0], F_SETPIPE_SZ, 4096); /* keep the child close behind the reader */
    char seed_s[32], n_s[16], fd_s[16], batch_s[16];
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)seed);
    snprintf(batch_s, sizeof batch_s, "%d", g_batch);
    snprintf(n_s, sizeof n_s, "%d", n);
    snprintf(fd_s, sizeof fd_s, "%d", p[1]);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        execl(g_self, "test_exec_crash", "--exec-child", g_path, seed_s, n_s, fd_s, batch_s, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    crash_msg_t buf[32];
    size_t have = 0;
    int count = 0, killed = 0, pending = 0;
    for (;;) {
        struct pollfd pf = {p[0], POLLIN, 0};
        if (poll(&pf, 1, 30000) <= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            ck_abort_msg("child silent for 30 s");
        }
        ssize_t got = read(p[0], (char *)buf + have, sizeof buf - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        have += (size_t)got;
        size_t whole = have / sizeof(crash_msg_t);
        for (size_t k = 0; k < whole; k++) {
            apply_msg(m, &buf[k], &pending);
            if (!killed && (++count >= kill_at || buf[k].op == OP_FINISHED)) {
                kill(pid, SIGKILL);
                killed = 1;
            }
        }
        have -= whole * sizeof(crash_msg_t);
        memmove(buf, (char *)buf + whole * sizeof(crash_msg_t), have);
    }
    close(p[0]);
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child ended by itself: status %d", st);
}

static long long raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    REQUIRE(sqlite3_step(s) == SQLITE_ROW, "%s: no row", sql);
    long long v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* The file against the model, read by SQLite directly (duplicates cannot
 * hide behind the API); then every entry's expectation becomes the file's. */
static void verify_file(model_t *m)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(g_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) - count(DISTINCT client_order_id) FROM orders"), 0);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) - count(DISTINCT trade_id) FROM fills"), 0);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM fills WHERE client_order_id NOT IN "
                                 "(SELECT client_order_id FROM orders)"), 0);
    sqlite3_stmt *s;
    const char *sql = "SELECT o.client_order_id, o.status, o.filled_qty, "
                      " (SELECT count(*) FROM fills f WHERE f.client_order_id = o.client_order_id), "
                      " (SELECT coalesce(sum(CAST(qty AS INTEGER)), 0) FROM fills f "
                      "   WHERE f.client_order_id = o.client_order_id) "
                      "FROM orders o";
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    for (size_t i = 0; i < m->cap; i++)
        m->e[i].found = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        mentry_t *e = model_find(m, id, 0);
        REQUIRE(e, "order %s in the file was never announced", id);
        REQUIRE(!e->found, "order %s twice", id);
        e->found = 1;
        mstate_t got = {-1, (int32_t)lround(sqlite3_column_double(s, 2)), sqlite3_column_int(s, 3)};
        const char *status = (const char *)sqlite3_column_text(s, 1);
        for (int32_t v = CQ_OS_INITIALIZED; v < CQ_OS_COUNT_; v++)
            if (strcmp(cq_order_status_name(v), status) == 0)
                got.status = v;
        REQUIRE(sqlite3_column_int(s, 4) == got.filled, "order %s: fills do not add up to its filled qty", id);
        if (g_batch) {
            /* Some state the order went through; which ones must be
             * there is checked below, across orders. */
            e->file_idx = -1;
            for (int k = e->nhist - 1; k >= 0 && e->file_idx < 0; k--)
                if (same(&got, &e->hist[k]))
                    e->file_idx = k;
            if (e->file_idx < 0 && e->has_pending && same(&got, &e->pending))
                e->file_idx = e->nhist;
            REQUIRE(e->file_idx >= 0, "order %s: file has %d/%d/%d, a state it never had", id, got.status,
                    got.filled, got.fills);
        } else {
            int ok = (e->has_done && same(&got, &e->done)) || (e->has_pending && same(&got, &e->pending));
            REQUIRE(ok, "order %s: file has %d/%d/%d; last returned %d/%d/%d (%s), in flight %d/%d/%d (%s)", id,
                    got.status, got.filled, got.fills, e->done.status, e->done.filled, e->done.fills,
                    e->has_done ? "yes" : "no", e->pending.status, e->pending.filled, e->pending.fills,
                    e->has_pending ? "yes" : "no");
        }
        e->done = got;
        e->has_done = 1;
        e->has_pending = 0;
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    if (g_batch) {
        /* The file is a prefix of what the child did: a submit found in it,
         * or a cancel request that returned, committed everything that had
         * returned before it began. */
        long sync = m->last_request;
        for (size_t i = 0; i < m->cap; i++)
            if (m->e[i].found && m->e[i].submit_at > sync)
                sync = m->e[i].submit_at;
        for (size_t i = 0; i < m->cap; i++) {
            mentry_t *e = &m->e[i];
            if (!e->found)
                continue;
            int need = -1;
            for (int k = 0; k < e->nhist; k++)
                if (e->hist_at[k] < sync)
                    need = k;
            REQUIRE(e->file_idx >= need, "order %s: the file lost state %d of it, committed before message %ld",
                    e->id, need, sync);
        }
    }
    for (size_t i = 0; i < m->cap; i++) { /* the file's state is the base of the next trial */
        mentry_t *e = &m->e[i];
        if (e->found) {
            e->hist[0] = e->done;
            e->hist_at[0] = 0;
            e->nhist = 1;
        }
    }
    m->last_request = 0;
    int missing = 0;
    for (size_t i = 0; i < m->cap; i++) {
        mentry_t *e = &m->e[i];
        if (e->id[0] <= '\x01' || e->found)
            continue;
        REQUIRE(!e->submit_returned, "order %s: its submit returned, yet it is missing", e->id);
        missing++;
        memset(e, 0, sizeof *e); /* never recorded: forget it (its id stays used) */
        e->id[0] = '\x01';
    }
    REQUIRE(missing <= 1, "%d orders missing", missing);
}

/* A restart through the engine: restore, adopt; the unfinished orders are
 * back in their last state and those in flight are queried. */
static void verify_restart(model_t *m)
{
    chain_t c;
    ck_assert_int_eq(chain_open(&c, g_path), 0);
    long added = 0;
    ck_assert_int_eq(cq_journal_restore_open(c.j, &added), 0);
    ck_assert_int_eq(chain_engine(&c, &c.jr), 0);
    size_t adopted = 0;
    ck_assert_int_eq(cq_exec_adopt_open(c.ex, T0, &adopted), 0);
    long open = 0, inflight = 0;
    for (size_t i = 0; i < m->cap; i++) {
        mentry_t *e = &m->e[i];
        if (e->id[0] <= '\x01' || cq_order_status_is_closed(e->done.status))
            continue;
        open++;
        inflight += cq_order_status_is_inflight(e->done.status);
        const cq_order_t *o = cq_cache_order(c.cache, e->id);
        REQUIRE(o && o->status == e->done.status && lround(o->filled_qty) == e->done.filled,
                "restored %s not in its last state", e->id);
    }
    ck_assert_int_eq(added, open);
    ck_assert_uint_eq(adopted, (size_t)open);
    ck_assert_int_eq(c.vr.queries, inflight);
    chain_close(&c);
}

START_TEST(test_exec_sigkill_during_burst_loses_and_duplicates_nothing)
{
    model_t m = {calloc(1 << 14, sizeof(mentry_t)), 1 << 14, 0, 0, 0};
    ck_assert_ptr_nonnull(m.e);
    cq_rng_t rng = {20261201};
    for (int trial = 0; trial < 20; trial++) {
        int n = 10 + 10 * trial;
        int kill_at = 1 + (int)cq_rng_below(&rng, (unsigned)(n * 6));
        run_child(cq_rng_next(&rng), n, kill_at, &m);
        verify_file(&m);
        verify_restart(&m);
    }
    free(m.e);
}
END_TEST

/* The same with the journal in batched mode: acks and fills wait for the
 * next submit or cancel to commit them, so after a kill an order may be
 * behind - but never in a state it did not have, never without a submit that
 * returned, never missing what a later submit or cancel committed, and its
 * fills always add up to its filled quantity. */
START_TEST(test_exec_batched_sigkill_leaves_a_prefix_and_duplicates_nothing)
{
    model_t m = {calloc(1 << 14, sizeof(mentry_t)), 1 << 14, 0, 0, 0};
    ck_assert_ptr_nonnull(m.e);
    g_batch = 64;
    cq_rng_t rng = {20261202};
    for (int trial = 0; trial < 12; trial++) {
        int n = 10 + 15 * trial;
        int kill_at = 1 + (int)cq_rng_below(&rng, (unsigned)(n * 6));
        run_child(cq_rng_next(&rng), n, kill_at, &m);
        verify_file(&m);
        verify_restart(&m);
    }
    g_batch = 0;
    free(m.e);
}
END_TEST

/* A fill that was only in the open batch when the process died is not in
 * the journal: after the restart the venue's copy is applied, once. */
START_TEST(test_exec_batched_fill_lost_in_a_crash_is_applied_once_after_restart)
{
    char id[40];
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        chain_t c;
        g_batch = 64;
        if (chain_open(&c, g_path) || chain_engine(&c, &c.jr))
            _exit(10);
        cq_order_t d = draft(&c, 3);
        if (cq_exec_submit(c.ex, &d, T0, id))
            _exit(11);
        cq_exec_report_t r = report(&c, CQ_REPORT_ACCEPTED, id);
        cq_exec_on_report(c.ex, &r);
        deliver_fill(&c, id, "T1", 1, T0 + 1);
        const cq_order_t *o = cq_cache_order(c.cache, id);
        if (!o || o->filled_qty != 1 || write(p[1], id, sizeof id) != (ssize_t)sizeof id)
            _exit(12);
        _exit(0); /* dies: no close, the batch is never committed */
    }
    close(p[1]);
    ck_assert_int_eq(read(p[0], id, sizeof id), (ssize_t)sizeof id);
    close(p[0]);
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);

    chain_t c;
    ck_assert_int_eq(chain_open(&c, g_path), 0);
    ck_assert_int_eq(cq_journal_restore_open(c.j, NULL), 0);
    ck_assert_int_eq(chain_engine(&c, &c.jr), 0);
    ck_assert_int_eq(cq_exec_adopt_open(c.ex, T0 + SEC, NULL), 0);
    const cq_order_t *o = cq_cache_order(c.cache, id);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(o->status, CQ_OS_SUBMITTED); /* the ack and the fill were lost */
    ck_assert_int_eq(cq_journal_find_fill(c.j, c.inst, "T1", NULL), CQ_ENOENT);
    cq_exec_report_t fill = report(&c, CQ_REPORT_FILL, id);
    snprintf(fill.trade_id, sizeof fill.trade_id, "T1");
    fill.liquidity = CQ_LIQ_MAKER;
    fill.last_price = 98.50;
    fill.last_qty = 1;
    fill.fee = 0.01;
    snprintf(fill.fee_asset, sizeof fill.fee_asset, "USDT");
    ck_assert_int_eq(cq_exec_reconcile(c.ex, NULL, 0, &fill, 1, T0 + SEC), 0);
    ck_assert(o->filled_qty == 1);
    ck_assert_int_eq(cq_exec_reconcile(c.ex, NULL, 0, &fill, 1, T0 + SEC + 1), 0);
    ck_assert(o->filled_qty == 1);
    const cq_position_t *pos = cq_cache_position(c.cache, c.inst, c.strat);
    ck_assert_ptr_nonnull(pos);
    ck_assert(pos->qty == 1);
    cq_exec_stats_t es;
    cq_exec_stats(c.ex, &es);
    ck_assert_uint_eq(es.fills, 1);
    ck_assert_uint_eq(es.duplicate_fills, 1);
    chain_close(&c);
    ck_assert_int_eq(chain_open(&c, g_path), 0); /* and the journal has it once, for good */
    ck_assert_int_eq(cq_journal_find_fill(c.j, c.inst, "T1", NULL), 0);
    chain_close(&c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("exec_crash");
    TCase *tc = tcase_create("journal");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_exec_journal_iface_null_is_einval);
    tcase_add_test(tc, test_exec_journal_submit_is_recorded_before_the_venue_call_with_journal_ids);
    tcase_add_test(tc, test_exec_journal_fill_and_its_order_change_are_recorded_together);
    tcase_add_test(tc, test_exec_duplicate_older_than_the_trade_id_window_is_caught_by_the_journal);
    suite_add_tcase(s, tc);
    tc = tcase_create("restart");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_exec_restart_restores_orders_with_last_state_and_applies_reports);
    tcase_add_test(tc, test_exec_adopt_open_tracks_restored_orders_for_timeouts);
    tcase_add_test(tc, test_exec_adopt_open_null_is_einval);
    suite_add_tcase(s, tc);
    tc = tcase_create("crash");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_exec_sigkill_during_burst_loses_and_duplicates_nothing);
    tcase_add_test(tc, test_exec_batched_sigkill_leaves_a_prefix_and_duplicates_nothing);
    tcase_add_test(tc, test_exec_batched_fill_lost_in_a_crash_is_applied_once_after_restart);
    suite_add_tcase(s, tc);
    return s;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[8192];
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "--exec-child") == 0) {
        g_batch = atoi(argv[6]);
        return crash_child(argv);
    }
    if (!realpath(argv[0], g_self))
        snprintf(g_self, sizeof g_self, "/proc/self/exe");
    const char *tmp = getenv("TMPDIR");
    snprintf(g_base, sizeof g_base, "%s/cq-test-exec-crash-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_base)) {
        perror("mkdtemp");
        return 1;
    }
    int rc = cq_test_run(suite());
    remove_tree(g_base);
    return rc;
}
