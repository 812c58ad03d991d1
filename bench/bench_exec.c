/*
 * bench_exec.c - the ExecutionEngine's hot paths.
 *
 * exec.submit.nojournal: cq_exec_submit of a limit IOC buy below the book
 * (risk check with limits set, id generation, snapping, cache add,
 * tracking record, SUBMITTED event published), then cq_sim_advance at zero
 * latency so the order reaches the sim and its ACCEPTED and EXPIRED reports
 * come back through cq_exec_on_report (two state changes, each re-filed,
 * published). Per order. One chain (cache, bus, risk, portfolio, sim,
 * engine) per benchmark, built outside the timed runs with room for every
 * order of all of them (the cache and the sim keep every order).
 *
 * exec.submit.journal: the same path with the real SQLite journal
 * (cq_journal_exec_iface; a file in $TMPDIR, else /tmp; WAL,
 * synchronous=NORMAL, automatic checkpoints): record_submit before the
 * venue call, then record_event for ACCEPTED and for EXPIRED - three
 * commits per order. exec.submit.journal.silent_venue: the venue takes the
 * order and answers nothing, so only the submit's own commit is paid.
 * exec.submit.journal.batched: the journal in batched mode (cfg.batch =
 * 256): the ACCEPTED and EXPIRED events wait in the open transaction and
 * ride along with the next order's submit commit - one commit per order.
 *
 * exec.submit.nojournal.noop_venue: the same with a venue whose submit
 * acknowledges synchronously (one ACCEPTED report straight back into the
 * engine) and does nothing else: the engine's share without the sim.
 *
 * exec.report: cq_exec_on_report of one FILL (new trade id each time) for
 * a large accepted order: lookup, trade-id set insert, state machine, cache
 * re-file, Portfolio (exact integers, position published), order event and
 * fill event published. The trade id is written in place by a small
 * counter (a few ns, included).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cquant/book.h"
#include "cquant/bus.h"
#include "cquant/cache.h"
#include "cquant/error.h"
#include "cquant/exec.h"
#include "cquant/journal.h"
#include "cquant/portfolio.h"
#include "cquant/risk.h"
#include "cquant/sim_venue.h"

#define T0 ((int64_t)1000000000000)

typedef struct chain {
    cq_cache_t *cache;
    cq_bus_t *bus;
    cq_risk_t *risk;
    cq_portfolio_t *pf;
    cq_book_t *book;
    cq_sim_t *sim;
    cq_exec_t *ex;
    cq_journal_t *j;
    uint32_t inst, strat;
    int noop;
    int64_t t;
    char path[512];
    cq_venue_ops_t noop_ops;
    cq_venue_t simv;
} chain_t;

static cq_log_t quiet = {CQ_LOG_OFF, NULL, NULL};

/* The no-op venue: ack at once. */
static int noop_submit(void *self, const cq_order_t *o)
{
    chain_t *c = self;
    cq_exec_report_t r;
    memset(&r, 0, sizeof r);
    r.kind = CQ_REPORT_ACCEPTED;
    r.status = CQ_OS_ACCEPTED;
    memcpy(r.client_order_id, o->client_order_id, sizeof r.client_order_id);
    cq_exec_on_report(c->ex, &r);
    return 0;
}
static int noop_cancel(void *self, const cq_order_t *o) { (void)self; (void)o; return 0; }
static int noop_modify(void *self, const cq_order_t *o, double p, double q)
{
    (void)self; (void)o; (void)p; (void)q;
    return 0;
}
static int noop_query(void *self, uint32_t i, const char *id) { (void)self; (void)i; (void)id; return 0; }
static int silent_submit(void *self, const cq_order_t *o) { (void)self; (void)o; return 0; }

static int fwd_submit(void *self, const cq_order_t *o)
{
    chain_t *c = self;
    return c->simv.ops->submit(c->simv.self, o);
}
static int fwd_cancel(void *self, const cq_order_t *o)
{
    chain_t *c = self;
    return c->simv.ops->cancel(c->simv.self, o);
}
static int fwd_modify(void *self, const cq_order_t *o, double p, double q)
{
    chain_t *c = self;
    return c->simv.ops->modify(c->simv.self, o, p, q);
}
static int fwd_query(void *self, uint32_t i, const char *id)
{
    chain_t *c = self;
    return c->simv.ops->query_order(c->simv.self, i, id);
}

static void dummy(void *user, cq_topic_t t, const void *msg)
{
    (void)t;
    CQ_BENCH_USE(msg);
    (*(uint64_t *)user)++;
}

static uint64_t sink;

/* noop: 0 sim, 1 acking no-op venue, 2 silent venue. journal: 1 a real
 * SQLite journal file, 2 the same in batched mode (cfg.batch = 256). */
static int chain_new(chain_t *c, int noop, uint32_t orders, int journal)
{
    memset(c, 0, sizeof *c);
    c->noop = noop;
    c->t = T0;
    cq_cache_config_t cc = {orders + 16};
    if (cq_cache_create(&c->cache, &cc) < 0 || cq_bus_create(&c->bus) < 0)
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
    if (cq_cache_instrument_add(c->cache, &spec, &c->inst) < 0 ||
        cq_cache_strategy_intern(c->cache, "S1", &c->strat) < 0)
        return -1;
    /* Limits that are checked but never bind. */
    cq_risk_limits_t lim = {1e12, 0, 1e12, 1e12};
    if (cq_risk_create(&c->risk, c->cache, &lim, &quiet) < 0 ||
        cq_portfolio_create(&c->pf, c->bus, c->cache, &quiet) < 0)
        return -1;
    if (cq_bus_subscribe(c->bus, "events.*", 0, dummy, &sink, NULL) < 0)
        return -1;
    cq_exec_config_t ec = {0, 0, 0, T0};
    cq_exec_journal_t jr, *jp = NULL;
    if (journal) {
        const char *tmp = getenv("TMPDIR");
        snprintf(c->path, sizeof c->path, "%s/cq-bench-exec-%ld.db", tmp && *tmp ? tmp : "/tmp", (long)getpid());
        unlink(c->path);
        cq_journal_config_t jc;
        memset(&jc, 0, sizeof jc);
        jc.cache = c->cache;
        jc.log = &quiet;
        jc.skip_verify = 1;
        jc.batch = journal == 2 ? 256 : 0;
        if (cq_journal_open(&c->j, c->path, &jc) < 0 || cq_journal_exec_iface(c->j, &jr) < 0)
            return -1;
        jp = &jr;
    }
    cq_venue_t v;
    if (noop) {
        c->noop_ops = (cq_venue_ops_t){"NOOP", noop == 2 ? silent_submit : noop_submit, noop_cancel, noop_modify,
                                       noop_query, NULL, NULL};
        v = (cq_venue_t){&c->noop_ops, c};
        return cq_exec_create(&c->ex, c->bus, c->cache, c->risk, c->pf, &v, jp, &ec, &quiet);
    }
    /* The sim needs the engine as its report target and the engine the sim
     * as its venue: the engine gets a forwarding venue (one more indirect
     * call per request, ~1.5 ns) that reaches the sim through the chain. */
    c->noop_ops = (cq_venue_ops_t){"FWD", fwd_submit, fwd_cancel, fwd_modify, fwd_query, NULL, NULL};
    v = (cq_venue_t){&c->noop_ops, c};
    if (cq_exec_create(&c->ex, c->bus, c->cache, c->risk, c->pf, &v, jp, &ec, &quiet) < 0)
        return -1;
    if (cq_book_create(&c->book, 0.01, 1) < 0)
        return -1;
    cq_book_entry_t b[5], a[5];
    for (int i = 0; i < 5; i++) {
        b[i] = (cq_book_entry_t){9900 - i, 100};
        a[i] = (cq_book_entry_t){10000 + i, 100};
    }
    if (cq_book_snapshot(c->book, b, 5, a, 5) < 0)
        return -1;
    cq_sim_config_t sc;
    memset(&sc, 0, sizeof sc);
    sc.report = cq_exec_on_report;
    sc.report_user = c->ex;
    sc.initial_orders = orders;
    if (cq_sim_create(&c->sim, &sc, c->cache) < 0 || cq_sim_venue(c->sim, &c->simv) < 0)
        return -1;
    return cq_sim_on_book(c->sim, c->inst, c->book, T0);
}

static void chain_free(chain_t *c)
{
    cq_exec_destroy(c->ex);
    cq_sim_destroy(c->sim);
    cq_book_destroy(c->book);
    cq_portfolio_destroy(c->pf);
    cq_risk_destroy(c->risk);
    cq_bus_destroy(c->bus);
    cq_journal_close(c->j);
    cq_cache_destroy(c->cache);
    if (c->path[0]) {
        char p[600];
        unlink(c->path);
        snprintf(p, sizeof p, "%s-wal", c->path);
        unlink(p);
        snprintf(p, sizeof p, "%s-shm", c->path);
        unlink(p);
    }
}

static int g_bad;

static void bench_submit(void *ctx, uint64_t n)
{
    chain_t *c = ctx;
    cq_order_t d;
    memset(&d, 0, sizeof d);
    d.hdr.instrument = c->inst;
    d.hdr.strategy = c->strat;
    d.side = CQ_SIDE_BUY;
    d.type = CQ_ORDER_LIMIT;
    d.tif = CQ_TIF_IOC;
    d.price = 98.50;
    d.qty = 1;
    char id[40];
    int64_t t = c->t;
    for (uint64_t i = 0; i < n; i++) {
        t += 1000;
        if (cq_exec_submit(c->ex, &d, t, id) < 0)
            g_bad = 1;
        if (!c->noop)
            cq_sim_advance(c->sim, t);
    }
    c->t = t;
    const cq_order_t *o = cq_cache_order(c->cache, id);
    int32_t want = c->noop == 0 ? CQ_OS_EXPIRED : c->noop == 1 ? CQ_OS_ACCEPTED : CQ_OS_SUBMITTED;
    if (!o || o->status != want)
        g_bad = 1;
}

/* One chain per benchmark, sized for the warm-up and every timed run. */
static double measure(int noop, int journal, uint64_t n)
{
    chain_t *c = calloc(1, sizeof *c);
    if (!c || chain_new(c, noop, (uint32_t)(n * (CQ_BENCH_REPS + 1) + 64), journal) < 0) {
        g_bad = 1;
        if (c)
            chain_free(c);
        free(c);
        return 0;
    }
    double ns = cq_bench_run(bench_submit, c, n);
    chain_free(c);
    free(c);
    return ns;
}

/* ---- exec.report ---- */

typedef struct rctx {
    chain_t c;
    cq_exec_report_t r;
    uint64_t tid;
} rctx_t;

static void put_tid(char *s, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    s[0] = 'T';
    for (int i = 0; i < n; i++)
        s[1 + i] = tmp[n - 1 - i];
    s[1 + n] = '\0';
}

static void bench_report(void *ctx, uint64_t n)
{
    rctx_t *x = ctx;
    for (uint64_t i = 0; i < n; i++) {
        put_tid(x->r.trade_id, ++x->tid);
        cq_exec_on_report(x->c.ex, &x->r);
    }
}

int main(void)
{
    uint64_t n = 20000, nj = 3000;
    double ns = measure(0, 0, n);
    double base = measure(1, 0, n);
    double jns = measure(0, 1, nj);
    double jsilent = measure(2, 1, nj);
    double jbatched = measure(0, 2, nj);
    if (g_bad) {
        fprintf(stderr, "bench_exec: submit run failed\n");
        return 1;
    }
    /* side by side: the journal line carries the no-journal one as baseline */
    cq_bench_print("exec.submit.nojournal", ns, n, 0);
    cq_bench_print("exec.submit.journal", jns, nj, ns);
    cq_bench_print("exec.submit.journal.silent_venue", jsilent, nj, 0);
    cq_bench_print("exec.submit.journal.batched", jbatched, nj, ns);
    cq_bench_print("exec.submit.nojournal.noop_venue", base, n, 0);

    rctx_t *x = calloc(1, sizeof *x);
    if (!x || chain_new(&x->c, 1, 16, 0) < 0)
        return 1;
    cq_order_t d;
    memset(&d, 0, sizeof d);
    d.hdr.instrument = x->c.inst;
    d.hdr.strategy = x->c.strat;
    d.side = CQ_SIDE_BUY;
    d.type = CQ_ORDER_LIMIT;
    d.tif = CQ_TIF_GTC;
    d.price = 98.50;
    d.qty = 1e9;
    char id[40];
    if (cq_exec_submit(x->c.ex, &d, T0, id) < 0)
        return 1;
    x->r.kind = CQ_REPORT_FILL;
    x->r.status = CQ_OS_PARTIALLY_FILLED;
    memcpy(x->r.client_order_id, id, sizeof id);
    x->r.side = CQ_SIDE_BUY;
    x->r.liquidity = CQ_LIQ_MAKER;
    x->r.last_price = 98.50;
    x->r.last_qty = 1;
    x->r.fee = 0.01;
    snprintf(x->r.fee_asset, sizeof x->r.fee_asset, "USDT");
    uint64_t nr = 50000;
    double rns = cq_bench_run(bench_report, x, nr);
    cq_exec_stats_t st;
    cq_exec_stats(x->c.ex, &st);
    if (st.fills != x->tid || st.portfolio_errors) {
        fprintf(stderr, "bench_exec: report run failed (%llu fills, %llu errors)\n",
                (unsigned long long)st.fills, (unsigned long long)st.portfolio_errors);
        return 1;
    }
    cq_bench_print("exec.report", rns, nr, 0);
    chain_free(&x->c);
    free(x);
    return 0;
}
