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
 */
#include <stdio.h>
#include <stdlib.h>

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

    cq_book_destroy(c.book);
    free(c.init_bids);
    free(c.init_asks);
    free(c.ops);
    free(c.batch_bids);
    free(c.batch_asks);
    free(c.batch_n);
    return 0;
}
