/*
 * bench_book.c - cost of the order book's hot operations.
 *
 * book.apply_level: ns per cq_book_set() on a book of ~1000 levels per side,
 *   replaying a pre-generated sequence shaped like Binance depth@100ms diffs:
 *   70% quantity changes of existing levels within the top 20, 15% inserts
 *   of new levels near the top, 15% deletes within the top 20. The sequence
 *   is generated once; every timed run starts from the same snapshot (the
 *   snapshot is inside the timing and is < 0.1% of it).
 * book.apply_batch20: the same sequence in batches of 20 through
 *   cq_book_apply() (including its crossed-book check), ns per level.
 * book.best: ns per cq_book_best() of the bid side.
 * book.apply_recorded.<symbol>: ns per level of the real Binance depth@100ms
 *   diffs recorded in ../shared/data (hftbacktest BTCUSDT and ETHUSDT, 1000-
 *   level snapshot then ~3,450 diffs of ~30-36 levels), applied with
 *   cq_book_apply() one diff at a time. Unlike the synthetic mix, most of
 *   these levels are far from the top (see docs/book.md). Skipped, with a
 *   note on stderr, when the data folder is absent.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bench.h"
#include "cquant/book.h"

#define LEVELS 1000
#define MID 1000000
#define NOPS 1000000
#define TOP 20
#define BATCH 20

typedef struct op {
    int64_t tick;
    int64_t qty;
    int32_t side;
} op_t;

typedef struct ctx {
    cq_book_t *book;
    cq_book_entry_t *init_bids, *init_asks;
    size_t ninit_bids, ninit_asks;
    op_t *ops;
    /* the same ops as batches: per batch, bids then asks */
    cq_book_entry_t *batch_bids, *batch_asks;
    size_t (*batch_n)[2];
    size_t nbatches;
} ctx_t;

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static unsigned below(unsigned n) { return (unsigned)(rnd() % n); }
static int64_t random_qty(void) { return 1 + (int64_t)below(1000000); }

/* ~70% of the ticks next to the mid are occupied, like a liquid book. */
static size_t make_side(cq_book_entry_t *out, int32_t side)
{
    size_t n = 0;
    for (int64_t d = 1; n < LEVELS; d++) {
        if (below(10) < 7) {
            out[n].tick = side == CQ_BOOK_BID ? MID - d : MID + d;
            out[n].qty = random_qty();
            n++;
        }
    }
    return n;
}

static int die(const char *what, int rc)
{
    fprintf(stderr, "bench_book: %s failed: %d\n", what, rc);
    exit(1);
}

static void reset(ctx_t *c)
{
    int rc = cq_book_snapshot(c->book, c->init_bids, c->ninit_bids, c->init_asks, c->ninit_asks);
    if (rc)
        die("snapshot", rc);
}

/* Generate the sequence by driving a scratch book, so every "update" and
 * "delete" names a level that exists at that point and every insert a tick
 * that does not. */
static void generate(ctx_t *c)
{
    cq_book_t *g;
    cq_book_entry_t top[TOP], other;
    int rc = cq_book_create(&g, 0.01, 0.00001);
    if (rc)
        die("create", rc);
    if ((rc = cq_book_snapshot(g, c->init_bids, c->ninit_bids, c->init_asks, c->ninit_asks)))
        die("snapshot", rc);
    for (size_t i = 0; i < NOPS; i++) {
        int32_t side = below(2) ? CQ_BOOK_BID : CQ_BOOK_ASK;
        int32_t opp = side == CQ_BOOK_BID ? CQ_BOOK_ASK : CQ_BOOK_BID;
        size_t k, nlev = cq_book_levels(g, side);
        cq_book_depth(g, side, top, TOP, &k);
        cq_book_best(g, opp, &other);
        unsigned r = below(100);
        op_t *o = &c->ops[i];
        o->side = side;
        if (r < 70) {
            o->tick = top[below((unsigned)k)].tick;
            o->qty = random_qty();
        } else if ((r < 85 && nlev <= LEVELS) || nlev < LEVELS) {
            /* a missing tick between the 20th level and the other side */
            int64_t lo = side == CQ_BOOK_BID ? top[k - 1].tick : other.tick + 1;
            int64_t hi = side == CQ_BOOK_BID ? other.tick - 1 : top[k - 1].tick;
            int64_t t, q;
            int tries = 0;
            do
                t = lo + (int64_t)below((unsigned)(hi - lo + 1));
            while (cq_book_qty_at(g, side, t, &q) == 0 && ++tries < 1000);
            o->tick = t; /* an update, in the unlikely case of no gap */
            o->qty = random_qty();
        } else {
            o->tick = top[below((unsigned)k)].tick;
            o->qty = 0;
        }
        if ((rc = cq_book_set(g, side, o->tick, o->qty)))
            die("set", rc);
    }
    cq_book_destroy(g);

    c->nbatches = NOPS / BATCH;
    c->batch_bids = malloc(NOPS * sizeof *c->batch_bids);
    c->batch_asks = malloc(NOPS * sizeof *c->batch_asks);
    c->batch_n = calloc(c->nbatches, sizeof *c->batch_n);
    if (!c->batch_bids || !c->batch_asks || !c->batch_n)
        die("malloc", -2);
    size_t nb = 0, na = 0;
    for (size_t i = 0; i < c->nbatches * BATCH; i++) {
        const op_t *o = &c->ops[i];
        cq_book_entry_t e = {o->tick, o->qty};
        if (o->side == CQ_BOOK_BID) {
            c->batch_bids[nb++] = e;
            c->batch_n[i / BATCH][0]++;
        } else {
            c->batch_asks[na++] = e;
            c->batch_n[i / BATCH][1]++;
        }
    }
}

static void run_apply_level(void *p, uint64_t n)
{
    ctx_t *c = p;
    reset(c);
    for (uint64_t i = 0; i < n && i < NOPS; i++) {
        const op_t *o = &c->ops[i];
        cq_book_set(c->book, o->side, o->tick, o->qty);
    }
    CQ_BENCH_BARRIER();
}

static void run_apply_batch(void *p, uint64_t n)
{
    ctx_t *c = p;
    reset(c);
    size_t nb = 0, na = 0;
    for (uint64_t i = 0; i < n / BATCH && i < c->nbatches; i++) {
        size_t kb = c->batch_n[i][0], ka = c->batch_n[i][1];
        cq_book_apply(c->book, c->batch_bids + nb, kb, c->batch_asks + na, ka);
        nb += kb;
        na += ka;
    }
    CQ_BENCH_BARRIER();
}

static void run_best(void *p, uint64_t n)
{
    ctx_t *c = p;
    cq_book_entry_t e;
    int64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        cq_book_best(c->book, CQ_BOOK_BID, &e);
        sum += e.qty;
        CQ_BENCH_BARRIER();
    }
    CQ_BENCH_USE(sum);
}


/* ---- recorded diffs ---------------------------------------------------- */

typedef struct rec {
    cq_book_entry_t *lv; /* every level: snapshot bids, snapshot asks, then per diff bids, asks */
    size_t n, cap;
    size_t snap_bids, snap_asks;
    size_t (*diff)[2]; /* per diff: bid and ask counts */
    size_t ndiff, diff_cap, levels;
    cq_book_t *book;
} rec_t;

/* "61685.99000000" at 2 decimals -> 6168599. Exact; the data has no more
 * significant decimals than the instrument's precision. */
static int64_t fixed(const char *s, int decimals)
{
    int64_t v = 0;
    int frac = -1;
    for (; *s; s++) {
        if (*s == '.') {
            frac = 0;
            continue;
        }
        if (frac >= decimals)
            break;
        v = v * 10 + (*s - '0');
        if (frac >= 0)
            frac++;
    }
    for (frac = frac < 0 ? 0 : frac; frac < decimals; frac++)
        v *= 10;
    return v;
}

static void rec_push(rec_t *r, const cJSON *arr, int pd, int qd)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (r->n == r->cap) {
            r->cap = r->cap ? 2 * r->cap : 4096;
            r->lv = realloc(r->lv, r->cap * sizeof *r->lv);
            if (!r->lv)
                die("realloc", -2);
        }
        r->lv[r->n].tick = fixed(cJSON_GetArrayItem(it, 0)->valuestring, pd);
        r->lv[r->n].qty = fixed(cJSON_GetArrayItem(it, 1)->valuestring, qd);
        r->n++;
    }
}

/* Load the snapshot and the diffs that follow it (u > lastUpdateId, in
 * file order: the first one arrived before the snapshot). */
static int rec_load(rec_t *r, const char *path, int pd, int qd)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return -1;
    enum { LINE = 1 << 20 };
    char *line = malloc(LINE);
    cJSON **diffs = NULL;
    size_t nd = 0, capd = 0;
    cJSON *snap = NULL;
    if (!line)
        die("malloc", -2);
    while (gzgets(f, line, LINE)) {
        char *js = strchr(line, ' ');
        if (!js || (!strstr(js, "lastUpdateId") && !strstr(js, "depthUpdate")))
            continue;
        cJSON *j = cJSON_Parse(js + 1);
        if (!j)
            continue;
        if (cJSON_GetObjectItemCaseSensitive(j, "lastUpdateId") && !snap) {
            snap = j;
            continue;
        }
        if (nd == capd) {
            capd = capd ? 2 * capd : 1024;
            diffs = realloc(diffs, capd * sizeof *diffs);
            if (!diffs)
                die("realloc", -2);
        }
        diffs[nd++] = j;
    }
    gzclose(f);
    free(line);
    if (!snap) {
        for (size_t i = 0; i < nd; i++)
            cJSON_Delete(diffs[i]);
        free(diffs);
        return -1;
    }
    double last = cJSON_GetObjectItemCaseSensitive(snap, "lastUpdateId")->valuedouble;
    rec_push(r, cJSON_GetObjectItemCaseSensitive(snap, "bids"), pd, qd);
    r->snap_bids = r->n;
    rec_push(r, cJSON_GetObjectItemCaseSensitive(snap, "asks"), pd, qd);
    r->snap_asks = r->n - r->snap_bids;
    cJSON_Delete(snap);
    for (size_t i = 0; i < nd; i++) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(diffs[i], "data");
        if (d && cJSON_GetObjectItemCaseSensitive(d, "u")->valuedouble > last) {
            if (r->ndiff == r->diff_cap) {
                r->diff_cap = r->diff_cap ? 2 * r->diff_cap : 1024;
                r->diff = realloc(r->diff, r->diff_cap * sizeof *r->diff);
                if (!r->diff)
                    die("realloc", -2);
            }
            size_t n0 = r->n;
            rec_push(r, cJSON_GetObjectItemCaseSensitive(d, "b"), pd, qd);
            size_t n1 = r->n;
            rec_push(r, cJSON_GetObjectItemCaseSensitive(d, "a"), pd, qd);
            r->diff[r->ndiff][0] = n1 - n0;
            r->diff[r->ndiff][1] = r->n - n1;
            r->ndiff++;
            r->levels += r->n - n0;
        }
        cJSON_Delete(diffs[i]);
    }
    free(diffs);
    return 0;
}

static void run_recorded(void *p, uint64_t n)
{
    rec_t *r = p;
    (void)n; /* one pass over the recording per call */
    const cq_book_entry_t *lv = r->lv;
    int rc = cq_book_snapshot(r->book, lv, r->snap_bids, lv + r->snap_bids, r->snap_asks);
    if (rc)
        die("recorded snapshot", rc);
    lv += r->snap_bids + r->snap_asks;
    for (size_t i = 0; i < r->ndiff; i++) {
        cq_book_apply(r->book, lv, r->diff[i][0], lv + r->diff[i][0], r->diff[i][1]);
        lv += r->diff[i][0] + r->diff[i][1];
    }
    CQ_BENCH_BARRIER();
}

static void bench_recorded(const char *name, const char *file, int pd, int qd)
{
    const char *dir = getenv("CQ_TEST_DATA");
    char path[4096];
    snprintf(path, sizeof path, "%s/binance_spot/market_stream/%s",
             dir && *dir ? dir : CQ_TEST_DATA_DEFAULT, file);
    rec_t r = {0};
    if (rec_load(&r, path, pd, qd) != 0 || !r.levels) {
        fprintf(stderr, "# %s skipped: cannot read %s\n", name, path);
        free(r.lv);
        free(r.diff);
        return;
    }
    double step = 1;
    for (int i = 0; i < qd; i++)
        step /= 10;
    int rc = cq_book_create(&r.book, 0.01, step);
    if (rc)
        die("create", rc);
    /* cq_bench_run divides by its n: pass one so that it reports ns per
     * pass, then scale to ns per level */
    double ns = cq_bench_run(run_recorded, &r, 1) / (double)r.levels;
    cq_bench_print(name, ns, r.levels, 0);
    cq_book_destroy(r.book);
    free(r.lv);
    free(r.diff);
}

int main(void)
{
    ctx_t c = {0};
    c.init_bids = malloc(LEVELS * sizeof *c.init_bids);
    c.init_asks = malloc(LEVELS * sizeof *c.init_asks);
    c.ops = malloc(NOPS * sizeof *c.ops);
    if (!c.init_bids || !c.init_asks || !c.ops)
        die("malloc", -2);
    c.ninit_bids = make_side(c.init_bids, CQ_BOOK_BID);
    c.ninit_asks = make_side(c.init_asks, CQ_BOOK_ASK);
    generate(&c);
    int rc = cq_book_create(&c.book, 0.01, 0.00001);
    if (rc)
        die("create", rc);
    if ((rc = cq_book_reserve(c.book, 2 * LEVELS)))
        die("reserve", rc);

    double ns = cq_bench_run(run_apply_level, &c, NOPS);
    cq_bench_print("book.apply_level", ns, NOPS, 0);
    ns = cq_bench_run(run_apply_batch, &c, NOPS);
    cq_bench_print("book.apply_batch20", ns, NOPS, 0);
    ns = cq_bench_run(run_best, &c, 10 * NOPS);
    cq_bench_print("book.best", ns, 10 * NOPS, 0);

    bench_recorded("book.apply_recorded.btcusdt", "hftbacktest_spot_btcusdt_20240808.gz", 2, 8);
    bench_recorded("book.apply_recorded.ethusdt", "hftbacktest_spot_ethusdt_20240808.gz", 2, 8);

    cq_book_destroy(c.book);
    free(c.init_bids);
    free(c.init_asks);
    free(c.ops);
    free(c.batch_bids);
    free(c.batch_asks);
    free(c.batch_n);
    return 0;
}
