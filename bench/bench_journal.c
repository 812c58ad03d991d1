/*
 * bench_journal.c - the order journal's cost per call, with the journal in
 * $TMPDIR (else /tmp), WAL mode, synchronous=NORMAL unless named otherwise.
 *
 * journal.record_submit       one order, one transaction (the pre-tracking
 *                             write of the submit path)
 * journal.record_submit.p50/.p99/.p999
 *                             per-call latency percentiles of the same, to
 *                             show the checkpoint stalls a mean hides
 * journal.record_submit.nockpt  checkpoints disabled (checkpoint_pages -1):
 *                             the commit alone
 * journal.record_submit.group10 ten orders per cq_journal_begin/commit
 * journal.record_submit.shared  shared locking (sqlite3 CLI may read)
 * journal.record_submit.full  synchronous=FULL (fsync per commit)
 * journal.record_event        one status change (event row + order row)
 * journal.record_fill         one fill
 * journal.find_fill           de-duplication lookup of a recorded trade
 * journal.open.100k           cq_journal_open of a journal of 100k orders,
 *                             with its quick_check, ns per order
 * journal.load_open.100k      cq_journal_load_open of the same (50k still
 *                             open), ns per order in the file
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cquant/cache.h"
#include "cquant/error.h"
#include "cquant/journal.h"

typedef struct ctx {
    cq_cache_t *cache;
    cq_journal_t *j;
    uint32_t inst;
    uint32_t strat;
    int group;
    char (*ids)[40];       /* ids of recorded orders, for events */
    uint64_t nids;
    uint64_t cap;
    uint64_t next_event;
    uint64_t next_trade;
} ctx_t;

static char dir[4096];
static int seq_db;

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_journal: %s: %s\n", what, cq_strerror(rc));
    exit(1);
}

static void remove_db(const char *path)
{
    char p[4200];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

static void open_ctx(ctx_t *c, const cq_journal_config_t *base, char *path, size_t cap)
{
    memset(c, 0, sizeof *c);
    int rc = cq_cache_create(&c->cache, NULL);
    if (rc < 0)
        die("cache", rc);
    cq_instrument_t spec;
    memset(&spec, 0, sizeof spec);
    snprintf(spec.id, sizeof spec.id, "BTCUSDT.BINANCE");
    spec.price_precision = 2;
    spec.size_precision = 5;
    spec.tick_size = 0.01;
    spec.step_size = 0.00001;
    spec.tradable = 1;
    if ((rc = cq_cache_instrument_add(c->cache, &spec, &c->inst)) < 0 ||
        (rc = cq_cache_strategy_intern(c->cache, "bench", &c->strat)) < 0)
        die("cache setup", rc);
    snprintf(path, cap, "%s/bench%d.db", dir, seq_db++);
    remove_db(path);
    cq_journal_config_t cfg = *base;
    cfg.cache = c->cache;
    if ((rc = cq_journal_open(&c->j, path, &cfg)) < 0)
        die("open", rc);
    c->cap = 1 << 20;
    c->ids = malloc(c->cap * sizeof *c->ids);
    if (!c->ids)
        die("malloc", CQ_ENOMEM);
}

static void close_ctx(ctx_t *c, const char *path)
{
    cq_journal_close(c->j);
    cq_cache_destroy(c->cache);
    free(c->ids);
    remove_db(path);
}

static void make_order(ctx_t *c, cq_order_t *o, uint64_t i)
{
    memset(o, 0, sizeof *o);
    o->hdr.type = CQ_EV_ORDER;
    o->hdr.instrument = c->inst;
    o->hdr.strategy = c->strat;
    o->hdr.ts_init = o->hdr.ts_event = 1700000000000000000LL + (int64_t)i;
    o->side = i & 1 ? CQ_SIDE_SELL : CQ_SIDE_BUY;
    o->type = CQ_ORDER_LIMIT;
    o->tif = CQ_TIF_GTC;
    o->status = CQ_OS_SUBMITTED;
    o->price = 65000.0 + (double)(i % 1000) / 100.0;
    o->qty = 0.001;
    snprintf(o->tag, sizeof o->tag, "grid");
}

static void submit_one(ctx_t *c)
{
    cq_order_t o;
    make_order(c, &o, c->nids);
    int rc = cq_journal_next_client_id(c->j, o.client_order_id);
    if (rc == 0)
        rc = cq_journal_record_submit(c->j, &o);
    if (rc < 0)
        die("record_submit", rc);
    if (c->nids < c->cap)
        memcpy(c->ids[c->nids], o.client_order_id, 40);
    c->nids++;
}

static void bench_submit(void *vc, uint64_t n)
{
    ctx_t *c = vc;
    for (uint64_t i = 0; i < n; i++) {
        if (c->group && i % (uint64_t)c->group == 0 && cq_journal_begin(c->j) < 0)
            die("begin", -1);
        submit_one(c);
        if (c->group && (i % (uint64_t)c->group == (uint64_t)c->group - 1 || i == n - 1) &&
            cq_journal_commit(c->j) < 0)
            die("commit", -1);
    }
}

static void bench_event(void *vc, uint64_t n)
{
    ctx_t *c = vc;
    cq_order_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.hdr.type = CQ_EV_ORDER_EVENT;
    ev.hdr.instrument = c->inst;
    for (uint64_t i = 0; i < n; i++) {
        memcpy(ev.client_order_id, c->ids[c->next_event++ % c->nids], 40);
        ev.status = CQ_OS_ACCEPTED;
        ev.hdr.ts_event = (int64_t)i;
        int rc = cq_journal_record_event(c->j, &ev);
        if (rc < 0)
            die("record_event", rc);
    }
}

static void bench_fill(void *vc, uint64_t n)
{
    ctx_t *c = vc;
    cq_fill_t f;
    memset(&f, 0, sizeof f);
    f.hdr.type = CQ_EV_FILL;
    f.hdr.instrument = c->inst;
    f.hdr.strategy = c->strat;
    f.side = CQ_SIDE_BUY;
    f.liquidity = CQ_LIQ_TAKER;
    f.price = 65000.12;
    f.qty = 0.0005;
    f.fee = 0.0325006;
    snprintf(f.fee_asset, sizeof f.fee_asset, "USDT");
    for (uint64_t i = 0; i < n; i++) {
        uint64_t t = c->next_trade++;
        memcpy(f.client_order_id, c->ids[t % c->nids], 40);
        snprintf(f.trade_id, sizeof f.trade_id, "%llu", 3000000000ULL + (unsigned long long)t);
        int rc = cq_journal_record_fill(c->j, &f);
        if (rc < 0)
            die("record_fill", rc);
    }
}

static void bench_find_fill(void *vc, uint64_t n)
{
    ctx_t *c = vc;
    char tid[40];
    for (uint64_t i = 0; i < n; i++) {
        snprintf(tid, sizeof tid, "%llu", 3000000000ULL + (unsigned long long)(i * 7919 % c->next_trade));
        int rc = cq_journal_find_fill(c->j, c->inst, tid, NULL);
        if (rc < 0)
            die("find_fill", rc);
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Per-call latencies of record_submit: the mean hides checkpoint stalls. */
static void submit_percentiles(ctx_t *c, uint64_t n)
{
    int64_t *lat = malloc(n * sizeof *lat);
    if (!lat)
        die("malloc", CQ_ENOMEM);
    for (uint64_t i = 0; i < n; i++) {
        int64_t t0 = cq_bench_now_ns();
        submit_one(c);
        lat[i] = cq_bench_now_ns() - t0;
    }
    qsort(lat, n, sizeof *lat, cmp_i64);
    cq_bench_print("journal.record_submit.p50", (double)lat[n / 2], n, 0);
    cq_bench_print("journal.record_submit.p99", (double)lat[n * 99 / 100], n, 0);
    cq_bench_print("journal.record_submit.p999", (double)lat[n * 999 / 1000], n, 0);
    free(lat);
}

static void run_submit(const char *name, const cq_journal_config_t *cfg, int group, uint64_t n)
{
    ctx_t c;
    char path[4200];
    open_ctx(&c, cfg, path, sizeof path);
    c.group = group;
    cq_bench_print(name, cq_bench_run(bench_submit, &c, n), n, 0);
    close_ctx(&c, path);
}

static int count_cb(void *user, const cq_journal_order_t *rec)
{
    (void)rec;
    ++*(long *)user;
    return 0;
}

/* Start-up costs grow with the journal: measure them on 100k orders. */
static void bench_startup(void)
{
    enum { N = 100000 };
    ctx_t c;
    char path[4200];
    cq_journal_config_t cfg = {0};
    open_ctx(&c, &cfg, path, sizeof path);
    c.group = 1000;
    bench_submit(&c, N);
    cq_order_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.status = CQ_OS_FILLED;
    if (cq_journal_begin(c.j) < 0)
        die("begin", -1);
    for (uint64_t i = 0; i < N; i += 2) {
        memcpy(ev.client_order_id, c.ids[i], 40);
        if (cq_journal_record_event(c.j, &ev) < 0)
            die("event", -1);
    }
    if (cq_journal_commit(c.j) < 0)
        die("commit", -1);
    cq_journal_close(c.j);
    double open_ns[3], load_ns[3];
    for (int r = 0; r < 3; r++) {
        cfg.cache = c.cache;
        int64_t t0 = cq_bench_now_ns();
        int rc = cq_journal_open(&c.j, path, &cfg);
        int64_t t1 = cq_bench_now_ns();
        if (rc < 0)
            die("reopen", rc);
        long n = 0;
        if ((rc = cq_journal_load_open(c.j, count_cb, &n)) < 0 || n != N / 2)
            die("load", rc);
        int64_t t2 = cq_bench_now_ns();
        cq_journal_close(c.j);
        open_ns[r] = (double)(t1 - t0) / N;
        load_ns[r] = (double)(t2 - t1) / N;
    }
    c.j = NULL;
    cq_bench_print("journal.open.100k", cq_bench_median(open_ns, 3), N, 0);
    cq_bench_print("journal.load_open.100k", cq_bench_median(load_ns, 3), N, 0);
    close_ctx(&c, path);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/cq-bench-journal-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    fprintf(stderr, "# journal files in %s\n", dir);
    cq_journal_config_t normal = {0};
    uint64_t n = 5000;

    ctx_t c;
    char path[4200];
    open_ctx(&c, &normal, path, sizeof path);
    cq_bench_print("journal.record_submit", cq_bench_run(bench_submit, &c, n), n, 0);
    submit_percentiles(&c, 4 * n);
    cq_bench_print("journal.record_event", cq_bench_run(bench_event, &c, n), n, 0);
    cq_bench_print("journal.record_fill", cq_bench_run(bench_fill, &c, n), n, 0);
    cq_bench_print("journal.find_fill", cq_bench_run(bench_find_fill, &c, n), n, 0);
    close_ctx(&c, path);

    cq_journal_config_t nockpt = {.checkpoint_pages = -1};
    run_submit("journal.record_submit.nockpt", &nockpt, 0, n);
    run_submit("journal.record_submit.group10", &normal, 10, n);
    run_submit("journal.record_submit.group1000", &normal, 1000, n);
    cq_journal_config_t shared = {.shared = 1};
    run_submit("journal.record_submit.shared", &shared, 0, n);
    cq_journal_config_t full = {.sync = CQ_JOURNAL_SYNC_FULL};
    run_submit("journal.record_submit.full", &full, 0, 300);
    bench_startup();

    rmdir(dir);
    return 0;
}
