/*
 * book.c - the L2 order book: per side, the levels sorted by key in small
 * blocks of BLOCK levels, and a short index of the blocks. The best level
 * is the last one of the last block, so it is read in O(1).
 *
 * Why this shape (measured, docs/book.md). A single sorted array with the
 * best level at the end is the simplest good structure when updates land
 * near the top: 23-27 ns per level on the synthetic top-20 mix. But in the
 * recorded Binance depth@100ms diffs only ~30% of the levels are in the top
 * 20 and ~45% are 100+ levels deep, and most are inserts and deletes: every
 * one moves kilobytes, 75 ns per level on BTCUSDT. Blocks bound the move to
 * one block (256 bytes of keys); the same data costs ~35 ns per level and
 * the top-20 mix ~22 ns. A dense tick-indexed window (hftbacktest's ROI
 * vector) was faster still (~9 ns on the synthetic mix) but needs memory in
 * proportion to the price range (a 1000-level BTCUSDT book spans ~25,000
 * ticks a side, and 1% of its levels lie 600,000+ ticks away), a second
 * structure for levels outside the window, and re-centring as the price
 * moves; we judged the exact, compact, range-free structure worth 2x.
 *
 * Within a block the position of a key is counted, not searched (see
 * lower()). Asks are stored with negated ticks, so both sides are ascending
 * and share every line of code. A batch whose side is in price order (what
 * venues send) is merged block by block where a run of its levels covers a
 * good part of one block (apply_side): a top-20 book's whole diff becomes
 * one pass over one block instead of a search and two memmoves per level.
 *
 * Owns: each side's blocks, its index, a pool of free blocks (emptied
 * blocks go back to it: after warm-up nothing is allocated or freed), and a
 * staging array a snapshot is sorted in before it replaces the live levels.
 *
 * Never: allocates except to grow; changes a level when it returns
 * CQ_EINVAL or CQ_ENOMEM (a batch reserves what it can need before it
 * starts); repairs a crossed book by guessing (it reports).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/book.h"
#include "cquant/error.h"

#define BLOCK 32             /* levels per block */
#define FILL (BLOCK * 3 / 4) /* levels per block when a snapshot builds them */
#define EXACT_LIMIT ((int64_t)1 << 53)
#define SENTINEL ((int64_t)1 << 62) /* key of an unused slot */

/* Keys and quantities apart: a search reads only keys. */
typedef struct block {
    int64_t key[BLOCK]; /* ascending */
    int64_t qty[BLOCK];
    size_t n;
} block_t;

/* A side: non-empty blocks in ascending key order, so the best level is the
 * last entry of the last block. lo[j] == blk[j]->key[0], so the index is
 * searched without touching the blocks. */
typedef struct side {
    int64_t *lo;
    block_t **blk;
    size_t nb, ix_cap;
    size_t n;                    /* levels */
    size_t hint;
    block_t **pool;              /* free blocks, reused before allocating */
    size_t npool, pool_cap;
    cq_book_entry_t *stage;      /* snapshot staging, ascending keys */
    size_t stage_cap;
} side_t;

/* Price or size scale: value = units * x / scale, exactly rounded when
 * units != 0 and |x| <= limit; otherwise x * size. */
typedef struct scale {
    double size;
    int64_t units;
    double scale;
    int64_t limit;
} scale_t;

struct cq_book {
    side_t side[2]; /* [0] bids, key = tick; [1] asks, key = -tick */
    scale_t price, qty;
    cq_book_stats_t st;
};

static void scale_init(scale_t *s, double size)
{
    /* Find size = units / 10^p with a small integer units: then
     * units * x / 10^p is a single correctly rounded division. */
    double p10 = 1;
    s->size = size;
    s->units = 0;
    s->scale = 1;
    s->limit = 0;
    for (int p = 0; p <= 18; p++, p10 *= 10) {
        double r = size * p10;
        double u = nearbyint(r);
        if (u >= 1 && u < 2147483648.0 && fabs(r - u) <= 1e-12 * u) {
            s->units = (int64_t)u;
            s->scale = p10;
            s->limit = EXACT_LIMIT / s->units;
            return;
        }
    }
}

static double scale_apply(const scale_t *s, int64_t x)
{
    if (s->units && x <= s->limit && x >= -s->limit)
        return (double)(x * s->units) / s->scale;
    return (double)x * s->size;
}

/* x / 2, for the mid of two ticks without leaving integers first. */
static double scale_apply_half(const scale_t *s, int64_t x)
{
    if (s->units && x <= s->limit && x >= -s->limit)
        return (double)(x * s->units) / (2 * s->scale);
    return (double)x * s->size / 2;
}

static double scale_apply_frac(const scale_t *s, double x)
{
    if (s->units)
        return x * (double)s->units / s->scale;
    return x * s->size;
}

static int side_index(int32_t side)
{
    return side == CQ_BOOK_BID ? 0 : side == CQ_BOOK_ASK ? 1 : -1;
}

static int64_t key_of(int idx, int64_t tick)
{
    return idx == 0 ? tick : -tick;
}

static int tick_ok(int64_t tick)
{
    return tick >= -CQ_BOOK_TICK_MAX && tick <= CQ_BOOK_TICK_MAX;
}

static int qty_ok(int64_t qty)
{
    return qty >= 0 && qty <= CQ_BOOK_QTY_MAX;
}

/* Index of the first key >= key in a block: counted over the whole block
 * (unused slots hold SENTINEL, which never counts) rather than searched, so
 * the compiler turns it into a few vector instructions with no branch to
 * mispredict. k - key cannot overflow: |keys| <= 2^53 < SENTINEL = 2^62. */
static size_t lower(const int64_t *k, int64_t key)
{
    uint64_t c = 0;
    for (size_t i = 0; i < BLOCK; i++)
        c += (uint64_t)(k[i] - key) >> 63;
    return (size_t)c;
}

/* The block that holds key or would hold it: the last block whose lowest
 * key is <= key, or block 0. The side must have a block. Tried in order:
 * the two top blocks (venue updates cluster there), the block of the
 * previous update and the one below it (a diff lists a side's levels in
 * price order, best first), then bisection. */
static size_t find_block(const side_t *s, int64_t key)
{
    const int64_t *lo = s->lo;
    size_t n = s->nb, j;
    if (lo[n - 1] <= key)
        j = n - 1;
    else if (n == 1 || lo[n - 2] <= key)
        j = n == 1 ? 0 : n - 2;
    else if (n == 2)
        j = 0;
    else {
        size_t h = s->hint < n - 2 ? s->hint : n - 3;
        if (lo[h] <= key && lo[h + 1] > key)
            j = h;
        else if (h > 0 && lo[h - 1] <= key && lo[h] > key)
            j = h - 1;
        else {
            size_t lo_i = 0, hi_i = n - 2; /* first slot with lo > key */
            while (lo_i < hi_i) {
                size_t mid = lo_i + (hi_i - lo_i) / 2;
                if (lo[mid] > key)
                    hi_i = mid;
                else
                    lo_i = mid + 1;
            }
            j = lo_i ? lo_i - 1 : 0;
        }
    }
    return j;
}

static int64_t top_key(const side_t *s)
{
    const block_t *k = s->blk[s->nb - 1];
    return k->key[k->n - 1];
}

static int64_t top_qty(const side_t *s)
{
    const block_t *k = s->blk[s->nb - 1];
    return k->qty[k->n - 1];
}

/* Make sure `want` free blocks are in the pool. Every block, used or free,
 * always has a place both in the index and in the pool array, so moving
 * blocks between them never allocates. */
static int pool_fill(cq_book_t *b, side_t *s, size_t want)
{
    if (s->npool >= want)
        return 0;
    size_t total = s->nb + want;
    if (total > s->ix_cap) {
        size_t c = s->ix_cap ? s->ix_cap : 16;
        while (c < total)
            c *= 2;
        int64_t *lo = realloc(s->lo, c * sizeof *lo);
        if (!lo)
            return CQ_ENOMEM;
        s->lo = lo;
        block_t **blk = realloc(s->blk, c * sizeof *blk);
        if (!blk)
            return CQ_ENOMEM;
        s->blk = blk;
        s->ix_cap = c;
        b->st.grows++;
    }
    if (total > s->pool_cap) {
        block_t **pool = realloc(s->pool, s->ix_cap * sizeof *pool);
        if (!pool)
            return CQ_ENOMEM;
        s->pool = pool;
        s->pool_cap = s->ix_cap;
        b->st.grows++;
    }
    while (s->npool < want) {
        block_t *k = malloc(sizeof *k);
        if (!k)
            return CQ_ENOMEM;
        s->pool[s->npool++] = k;
        b->st.grows++;
    }
    return 0;
}

/* A free block, emptied: every slot holds SENTINEL. */
static block_t *take_block(side_t *s)
{
    block_t *k = s->pool[--s->npool];
    for (size_t i = 0; i < BLOCK; i++)
        k->key[i] = SENTINEL;
    k->n = 0;
    return k;
}

static void ix_insert(side_t *s, size_t j, block_t *k)
{
    memmove(s->lo + j + 1, s->lo + j, (s->nb - j) * sizeof *s->lo);
    memmove(s->blk + j + 1, s->blk + j, (s->nb - j) * sizeof *s->blk);
    s->lo[j] = k->key[0];
    s->blk[j] = k;
    s->nb++;
}

static void ix_remove(side_t *s, size_t j)
{
    s->pool[s->npool++] = s->blk[j];
    memmove(s->lo + j, s->lo + j + 1, (s->nb - j - 1) * sizeof *s->lo);
    memmove(s->blk + j, s->blk + j + 1, (s->nb - j - 1) * sizeof *s->blk);
    s->nb--;
}

/* Move c levels from src[from..] to dst[to..]. */
static void move_levels(block_t *dst, size_t to, const block_t *src, size_t from, size_t c)
{
    memmove(dst->key + to, src->key + from, c * sizeof *dst->key);
    memmove(dst->qty + to, src->qty + from, c * sizeof *dst->qty);
}

/* Append block j + 1 to block j. */
static void merge(side_t *s, size_t j)
{
    block_t *a = s->blk[j], *c = s->blk[j + 1];
    move_levels(a, a->n, c, 0, c->n);
    a->n += c->n;
    ix_remove(s, j + 1);
}

/* After a delete from block j: merge it with a neighbour when the two fit
 * in half a block. Every adjacent pair then holds more than BLOCK / 2
 * levels, so blocks are at least a quarter full on average and the index
 * stays short, and a split (two halves) is never undone by the next delete. */
static void merge_around(side_t *s, size_t j)
{
    size_t n = s->blk[j]->n;
    if (j + 1 < s->nb && n + s->blk[j + 1]->n <= BLOCK / 2)
        merge(s, j);
    else if (j > 0 && s->blk[j - 1]->n + n <= BLOCK / 2)
        merge(s, j - 1);
}

/* Move the upper half of the full block j into a new block after it. */
static void split(side_t *s, size_t j)
{
    block_t *k = s->blk[j], *u = take_block(s);
    move_levels(u, 0, k, BLOCK / 2, BLOCK - BLOCK / 2);
    u->n = BLOCK - BLOCK / 2;
    k->n = BLOCK / 2;
    for (size_t i = BLOCK / 2; i < BLOCK; i++)
        k->key[i] = SENTINEL;
    ix_insert(s, j + 1, u);
}

static void set_level_in(cq_book_t *b, side_t *s, size_t j, int64_t key, int64_t qty);

/* The one place a level changes one at a time (merge_into_block below
 * changes several at once). A free block must be in the pool when qty is
 * not 0 (an insert may split a block or start the first one). */
static void set_level(cq_book_t *b, side_t *s, int64_t key, int64_t qty)
{
    set_level_in(b, s, s->nb ? find_block(s, key) : 0, key, qty);
}

/* set_level with j = find_block(s, key) already known (any j if the side
 * is empty). */
static void set_level_in(cq_book_t *b, side_t *s, size_t j, int64_t key, int64_t qty)
{
    if (!s->nb) {
        if (!qty) {
            b->st.missing_deletes++;
            return;
        }
        block_t *k = take_block(s);
        k->key[0] = key;
        k->qty[0] = qty;
        k->n = 1;
        ix_insert(s, 0, k);
        s->n = 1;
        b->st.inserts++;
        return;
    }
    s->hint = j;
    block_t *k = s->blk[j];
    size_t i = lower(k->key, key);
    if (i < k->n && k->key[i] == key) {
        if (qty) {
            k->qty[i] = qty;
            b->st.updates++;
            return;
        }
        move_levels(k, i, k, i + 1, k->n - i - 1);
        k->key[--k->n] = SENTINEL;
        s->n--;
        b->st.deletes++;
        if (!k->n) {
            ix_remove(s, j);
        } else {
            s->lo[j] = k->key[0];
            merge_around(s, j);
        }
        return;
    }
    if (!qty) {
        b->st.missing_deletes++;
        return;
    }
    if (k->n == BLOCK) {
        split(s, j);
        if (i > BLOCK / 2) {
            i -= BLOCK / 2;
            k = s->blk[++j];
        }
    }
    move_levels(k, i + 1, k, i, k->n - i);
    k->key[i] = key;
    k->qty[i] = qty;
    k->n++;
    s->n++;
    s->lo[j] = k->key[0];
    b->st.inserts++;
}

int cq_book_create(cq_book_t **out, double tick_size, double step_size)
{
    if (!out || !isfinite(tick_size) || !isfinite(step_size) || tick_size <= 0 || step_size <= 0)
        return CQ_EINVAL;
    cq_book_t *b = calloc(1, sizeof *b);
    if (!b)
        return CQ_ENOMEM;
    scale_init(&b->price, tick_size);
    scale_init(&b->qty, step_size);
    *out = b;
    return 0;
}

void cq_book_destroy(cq_book_t *b)
{
    if (!b)
        return;
    for (int i = 0; i < 2; i++) {
        side_t *s = &b->side[i];
        for (size_t j = 0; j < s->nb; j++)
            free(s->blk[j]);
        for (size_t j = 0; j < s->npool; j++)
            free(s->pool[j]);
        free(s->lo);
        free(s->blk);
        free(s->pool);
        free(s->stage);
    }
    free(b);
}

/* Blocks are at least a quarter full (see merge_around), so this many
 * blocks hold `levels` levels in the worst case. */
static size_t blocks_for(size_t levels)
{
    return levels / (BLOCK / 4) + 2;
}

int cq_book_reserve(cq_book_t *b, size_t levels)
{
    if (!b || levels > SIZE_MAX / 2)
        return CQ_EINVAL;
    for (int i = 0; i < 2; i++) {
        side_t *s = &b->side[i];
        size_t want = blocks_for(levels);
        int rc = want > s->nb ? pool_fill(b, s, want - s->nb) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

int cq_book_set(cq_book_t *b, int32_t side, int64_t tick, int64_t qty)
{
    int idx = side_index(side);
    if (!b || idx < 0 || !tick_ok(tick) || !qty_ok(qty))
        return CQ_EINVAL;
    side_t *s = &b->side[idx];
    if (qty && !s->npool) {
        int rc = pool_fill(b, s, 1);
        if (rc)
            return rc;
    }
    set_level(b, s, key_of(idx, tick), qty);
    return 0;
}

static int entries_ok(const cq_book_entry_t *e, size_t n)
{
    if (n && !e)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!tick_ok(e[i].tick) || !qty_ok(e[i].qty))
            return 0;
    return 1;
}

static size_t count_nonzero(const cq_book_entry_t *e, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += e[i].qty != 0;
    return c;
}

/* Free blocks a batch with k inserts may consume, reserved before the first
 * level changes. Each insert takes at most one (a split, or the first block
 * of an empty side; a side emptied again has just given one back). And with
 * P = sum over blocks of max(0, n - BLOCK / 2): an insert raises P by at
 * most 1, a split lowers it by BLOCK / 2, deletes and merges never raise it,
 * and P starts <= nb * BLOCK / 2; so splits <= nb + k / (BLOCK / 2). */
static int reserve_batch(cq_book_t *b, side_t *s, size_t n, size_t k)
{
    if (s->npool >= n)
        return 0;
    size_t bound = s->nb + 2 + k / (BLOCK / 2);
    return pool_fill(b, s, k < bound ? k : bound);
}

static int book_state(const cq_book_t *b)
{
    const side_t *bid = &b->side[0], *ask = &b->side[1];
    if (!bid->nb || !ask->nb)
        return CQ_BOOK_OK;
    int64_t bt = top_key(bid), at = -top_key(ask);
    return bt > at ? CQ_BOOK_CROSSED : bt == at ? CQ_BOOK_LOCKED : CQ_BOOK_OK;
}

int cq_book_check(cq_book_t *b)
{
    if (!b)
        return CQ_EINVAL;
    b->st.checks++;
    switch (book_state(b)) {
    case CQ_BOOK_CROSSED:
        b->st.crossed++;
        return CQ_ESTATE;
    case CQ_BOOK_LOCKED:
        b->st.locked++;
        return CQ_ESTATE;
    default:
        return 0;
    }
}

int cq_book_state(const cq_book_t *b)
{
    return b ? book_state(b) : CQ_EINVAL;
}

/* Apply g entries whose keys are distinct, strictly monotonic (dir: +1
 * ascending, -1 descending) and all in block j's range, as one merge of the
 * block with the entries, when the result fits in the block. Returns 1
 * (nothing changed) when it does not: the caller then sets the levels one
 * by one. Keys being distinct, each entry meets the level as it was before
 * the batch, so the result and the counters are exactly those of
 * set_level() applied in order; only the block layout may differ (a
 * sequential insert into a full block splits it even when later deletes
 * make room), and nothing outside this file sees the layout. */
static int merge_into_block(cq_book_t *b, side_t *s, size_t j, int idx, const cq_book_entry_t *e, size_t g,
                            int dir)
{
    block_t *k = s->blk[j];
    int64_t tk[2 * BLOCK], tq[2 * BLOCK];
    size_t out = 0, a = 0, n = k->n;
    uint64_t nq = 0, found = 0, found_set = 0;
    const cq_book_entry_t *en = dir < 0 ? e + g - 1 : e;
    ptrdiff_t step = dir < 0 ? -1 : 1;
    for (size_t q = 0; q < g; q++, en += step) {
        int64_t key = key_of(idx, en->tick), qty = en->qty;
        while (a < n && k->key[a] < key) {
            tk[out] = k->key[a];
            tq[out++] = k->qty[a++];
        }
        int same = a < n && k->key[a] == key;
        a += (size_t)same;
        tk[out] = key;
        tq[out] = qty;
        out += qty != 0;
        nq += qty != 0;
        found += (uint64_t)same;
        found_set += (uint64_t)(same & (qty != 0));
    }
    size_t total = out + (n - a);
    if (total > BLOCK)
        return 1;
    uint64_t del = found - found_set, ins = nq - found_set;
    memcpy(tk + out, k->key + a, (n - a) * sizeof *tk);
    memcpy(tq + out, k->qty + a, (n - a) * sizeof *tq);
    memcpy(k->key, tk, total * sizeof *tk);
    memcpy(k->qty, tq, total * sizeof *tq);
    for (size_t i = total; i < n; i++)
        k->key[i] = SENTINEL;
    k->n = total;
    s->n = s->n + ins - del;
    b->st.inserts += ins;
    b->st.updates += found_set;
    b->st.deletes += del;
    b->st.missing_deletes += g - nq - del;
    s->hint = j;
    if (!total) {
        ix_remove(s, j);
    } else {
        s->lo[j] = k->key[0];
        if (del)
            merge_around(s, j);
    }
    return 0;
}

#define MERGE_MIN 3 /* fewer entries for one block: set_level() is cheaper */

/* One pass over a side's entries of a batch: 0 if they are all valid,
 * with *nonzero = entries with qty != 0 and *dir = +1 if their keys
 * strictly ascend, -1 if they strictly descend, 0 otherwise (or fewer than
 * two entries); CQ_EINVAL if one is bad. */
static int scan_side(int idx, const cq_book_entry_t *e, size_t n, size_t *nonzero, int *dir)
{
    size_t nz = 0;
    int up = 1, down = 1;
    *nonzero = 0;
    *dir = 0;
    if (n && !e)
        return CQ_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!tick_ok(e[i].tick) || !qty_ok(e[i].qty))
            return CQ_EINVAL;
        nz += e[i].qty != 0;
        if (i) {
            up &= e[i].tick > e[i - 1].tick;
            down &= e[i].tick < e[i - 1].tick;
        }
    }
    *nonzero = nz;
    if (n >= 2 && (up || down))
        *dir = (up ? 1 : -1) * (idx == 0 ? 1 : -1); /* asks are keyed by -tick */
    return 0;
}

/* A side's entries of a batch, in order. A venue lists a side in price
 * order, so the entries that fall in one block come as a run (a top-20 book
 * is a single block); a run that covers a good share of its block is merged
 * into it in one pass instead of one search and two memmoves per level.
 * Entries in any other order take the level-by-level path. */
static void apply_side(cq_book_t *b, side_t *s, int idx, const cq_book_entry_t *e, size_t n, int dir)
{
    size_t i = 0;
    if (!dir || n < MERGE_MIN) {
        for (; i < n; i++)
            set_level(b, s, key_of(idx, e[i].tick), e[i].qty);
        return;
    }
    while (i < n) {
        if (!s->nb) {
            set_level(b, s, key_of(idx, e[i].tick), e[i].qty);
            i++;
            continue;
        }
        int64_t k0 = key_of(idx, e[i].tick);
        size_t j = find_block(s, k0), g = 1, cap = n - i < BLOCK ? n - i : BLOCK;
        int64_t lo = j ? s->lo[j] : INT64_MIN;
        int64_t hi = j + 1 < s->nb ? s->lo[j + 1] : INT64_MAX; /* exclusive */
        /* The keys are monotonic, so the run is a prefix and leaves the
         * block's range on one side only; most runs are checked at their
         * last entry alone (a top-20 book's whole side is one run). */
        int64_t kl = key_of(idx, e[i + cap - 1].tick);
        if (kl >= lo && kl < hi) {
            g = cap;
        } else {
            while (g < cap) {
                int64_t k = key_of(idx, e[i + g].tick);
                if (k < lo || k >= hi)
                    break;
                g++;
            }
        }
        /* a merge walks the whole block: worth it for a good share of it */
        if (g >= MERGE_MIN && 4 * g >= s->blk[j]->n && merge_into_block(b, s, j, idx, e + i, g, dir) == 0) {
            i += g;
            continue;
        }
        set_level_in(b, s, j, k0, e[i].qty);
        for (size_t q = i + 1; q < i + g; q++)
            set_level(b, s, key_of(idx, e[q].tick), e[q].qty);
        i += g;
    }
}

int cq_book_apply(cq_book_t *b, const cq_book_entry_t *bids, size_t nbids,
                  const cq_book_entry_t *asks, size_t nasks)
{
    size_t zb, za;
    int db, da;
    if (!b || scan_side(0, bids, nbids, &zb, &db) || scan_side(1, asks, nasks, &za, &da))
        return CQ_EINVAL;
    side_t *sb = &b->side[0], *sa = &b->side[1];
    int rc = reserve_batch(b, sb, nbids, zb);
    if (rc == 0)
        rc = reserve_batch(b, sa, nasks, za);
    if (rc)
        return rc;
    apply_side(b, sb, 0, bids, nbids, db);
    apply_side(b, sa, 1, asks, nasks, da);
    return cq_book_check(b);
}

static int cmp_key(const void *pa, const void *pb)
{
    int64_t a = ((const cq_book_entry_t *)pa)->tick, c = ((const cq_book_entry_t *)pb)->tick;
    return (a > c) - (a < c);
}

/* Build a side's new levels in its staging array: keys, ascending, no zero
 * quantities, and make sure the blocks to hold them exist. Venues send
 * snapshots best first (keys descending): that order is reversed in one
 * pass; any other order is sorted. CQ_EINVAL on a duplicate tick. */
static int stage_side(cq_book_t *b, side_t *s, int idx, const cq_book_entry_t *in, size_t n,
                      size_t *out_n)
{
    size_t m = count_nonzero(in, n);
    if (m > s->stage_cap) {
        cq_book_entry_t *p = realloc(s->stage, m * sizeof *p);
        if (!p)
            return CQ_ENOMEM;
        s->stage = p;
        s->stage_cap = m;
        b->st.grows++;
    }
    cq_book_entry_t *sp = s->stage;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in[i].qty)
            continue;
        sp[k].tick = key_of(idx, in[i].tick);
        sp[k].qty = in[i].qty;
        k++;
    }
    int asc = 1, desc = 1;
    for (size_t i = 1; i < m && (asc || desc); i++) {
        asc &= sp[i - 1].tick < sp[i].tick;
        desc &= sp[i - 1].tick > sp[i].tick;
    }
    if (!asc && desc) {
        for (size_t i = 0, j = m - 1; i < j; i++, j--) {
            cq_book_entry_t t = sp[i];
            sp[i] = sp[j];
            sp[j] = t;
        }
    } else if (!asc) {
        qsort(sp, m, sizeof *sp, cmp_key);
        for (size_t i = 1; i < m; i++)
            if (sp[i - 1].tick == sp[i].tick)
                return CQ_EINVAL;
    }
    size_t want = (m + FILL - 1) / FILL;
    int rc = want > s->nb ? pool_fill(b, s, want - s->nb) : 0;
    if (rc)
        return rc;
    *out_n = m;
    return 0;
}

static void release_all(side_t *s)
{
    for (size_t j = 0; j < s->nb; j++)
        s->pool[s->npool++] = s->blk[j];
    s->nb = 0;
    s->n = 0;
}

/* Spread the staged levels evenly over blocks about 3/4 full, leaving room
 * for inserts before the first split. */
static void commit_side(side_t *s, size_t m)
{
    release_all(s);
    size_t nblk = (m + FILL - 1) / FILL, at = 0;
    for (size_t j = 0; j < nblk; j++) {
        size_t c = m / nblk + (j < m % nblk);
        block_t *k = take_block(s);
        for (size_t i = 0; i < c; i++) {
            k->key[i] = s->stage[at + i].tick;
            k->qty[i] = s->stage[at + i].qty;
        }
        k->n = c;
        at += c;
        s->lo[j] = k->key[0];
        s->blk[j] = k;
    }
    s->nb = nblk;
    s->n = m;
}

int cq_book_snapshot(cq_book_t *b, const cq_book_entry_t *bids, size_t nbids,
                     const cq_book_entry_t *asks, size_t nasks)
{
    if (!b || !entries_ok(bids, nbids) || !entries_ok(asks, nasks))
        return CQ_EINVAL;
    size_t nb = 0, na = 0;
    int rc = stage_side(b, &b->side[0], 0, bids, nbids, &nb);
    if (rc == 0)
        rc = stage_side(b, &b->side[1], 1, asks, nasks, &na);
    if (rc)
        return rc;
    commit_side(&b->side[0], nb);
    commit_side(&b->side[1], na);
    b->st.snapshots++;
    return cq_book_check(b);
}

int cq_book_clear(cq_book_t *b)
{
    if (!b)
        return CQ_EINVAL;
    release_all(&b->side[0]);
    release_all(&b->side[1]);
    b->st.clears++;
    return 0;
}

int cq_book_best(const cq_book_t *b, int32_t side, cq_book_entry_t *out)
{
    int idx = side_index(side);
    if (!b || idx < 0 || !out)
        return CQ_EINVAL;
    const side_t *s = &b->side[idx];
    if (!s->nb)
        return CQ_ENOENT;
    const block_t *k = s->blk[s->nb - 1];
    out->tick = key_of(idx, k->key[k->n - 1]);
    out->qty = k->qty[k->n - 1];
    return 0;
}

int cq_book_qty_at(const cq_book_t *b, int32_t side, int64_t tick, int64_t *qty)
{
    int idx = side_index(side);
    if (!b || idx < 0 || !tick_ok(tick) || !qty)
        return CQ_EINVAL;
    const side_t *s = &b->side[idx];
    if (!s->nb)
        return CQ_ENOENT;
    int64_t key = key_of(idx, tick);
    const block_t *k = s->blk[find_block(s, key)];
    size_t i = lower(k->key, key);
    if (i == k->n || k->key[i] != key)
        return CQ_ENOENT;
    *qty = k->qty[i];
    return 0;
}

size_t cq_book_levels(const cq_book_t *b, int32_t side)
{
    int idx = side_index(side);
    return b && idx >= 0 ? b->side[idx].n : 0;
}

/* Visit the first `max` levels of a side from its best one, with KEY and
 * QTY naming the level; keeps the block layout out of every reader. */
#define FOR_TOP(s, max, KEY, QTY, body)                                       \
    do {                                                                      \
        size_t left_ = (max);                                                 \
        for (size_t j_ = (s)->nb; j_-- > 0 && left_;) {                       \
            const block_t *k_ = (s)->blk[j_];                                 \
            for (size_t i_ = k_->n; i_-- > 0 && left_; left_--) {             \
                int64_t KEY = k_->key[i_], QTY = k_->qty[i_];                 \
                body;                                                         \
            }                                                                 \
        }                                                                     \
    } while (0)

int cq_book_depth(const cq_book_t *b, int32_t side, cq_book_entry_t *out, size_t max,
                  size_t *count)
{
    int idx = side_index(side);
    if (!b || idx < 0 || !count || (max && !out))
        return CQ_EINVAL;
    size_t k = 0;
    FOR_TOP(&b->side[idx], max, key, qty, {
        out[k].tick = key_of(idx, key);
        out[k].qty = qty;
        k++;
    });
    *count = k;
    return 0;
}

int cq_book_depth_levels(const cq_book_t *b, int32_t side, cq_book_level_t *out, size_t max,
                         size_t *count)
{
    int idx = side_index(side);
    if (!b || idx < 0 || !count || (max && !out))
        return CQ_EINVAL;
    size_t k = 0;
    FOR_TOP(&b->side[idx], max, key, qty, {
        out[k].price = scale_apply(&b->price, key_of(idx, key));
        out[k].qty = scale_apply(&b->qty, qty);
        k++;
    });
    *count = k;
    return 0;
}

/* Best bid and best ask ticks; CQ_ENOENT if a side is empty. */
static int best_ticks(const cq_book_t *b, int64_t *bid, int64_t *ask)
{
    const side_t *sb = &b->side[0], *sa = &b->side[1];
    if (!sb->nb || !sa->nb)
        return CQ_ENOENT;
    *bid = top_key(sb);
    *ask = -top_key(sa);
    return 0;
}

int cq_book_mid(const cq_book_t *b, double *price)
{
    int64_t bid, ask;
    if (!b || !price)
        return CQ_EINVAL;
    int rc = best_ticks(b, &bid, &ask);
    if (rc)
        return rc;
    *price = scale_apply_half(&b->price, bid + ask);
    return 0;
}

int cq_book_spread_ticks(const cq_book_t *b, int64_t *ticks)
{
    int64_t bid, ask;
    if (!b || !ticks)
        return CQ_EINVAL;
    int rc = best_ticks(b, &bid, &ask);
    if (rc)
        return rc;
    *ticks = ask - bid;
    return 0;
}

int cq_book_spread(const cq_book_t *b, double *price)
{
    int64_t t;
    if (!price)
        return CQ_EINVAL;
    int rc = cq_book_spread_ticks(b, &t);
    if (rc)
        return rc;
    *price = scale_apply(&b->price, t);
    return 0;
}

/* The average is accumulated as distances from the best tick, which are
 * small, so the double sum stays accurate even at prices of 2^40 ticks. */
int cq_book_vwap(const cq_book_t *b, int32_t side, int64_t qty, double *price, int64_t *filled)
{
    int idx = side_index(side);
    if (!b || idx < 0 || !price || !filled || qty <= 0 || qty > CQ_BOOK_QTY_MAX)
        return CQ_EINVAL;
    const side_t *s = &b->side[idx];
    *price = 0;
    *filled = 0;
    if (!s->nb)
        return CQ_ENOENT;
    int64_t top = top_key(s), got = 0;
    double sum = 0;
    for (size_t j = s->nb; j-- > 0 && got < qty;) {
        const block_t *k = s->blk[j];
        for (size_t i = k->n; i-- > 0 && got < qty;) {
            int64_t take = k->qty[i] < qty - got ? k->qty[i] : qty - got;
            sum += (double)(top - k->key[i]) * (double)take;
            got += take;
        }
    }
    double avg = (double)top - sum / (double)got; /* in keys */
    *price = scale_apply_frac(&b->price, idx == 0 ? avg : -avg);
    *filled = got;
    return got == qty ? 0 : CQ_ERANGE;
}

int cq_book_top(const cq_book_t *b, cq_book_event_t *ev)
{
    if (!b || !ev)
        return CQ_EINVAL;
    const side_t *sb = &b->side[0], *sa = &b->side[1];
    ev->bid_price = sb->nb ? scale_apply(&b->price, top_key(sb)) : 0;
    ev->bid_qty = sb->nb ? scale_apply(&b->qty, top_qty(sb)) : 0;
    ev->ask_price = sa->nb ? scale_apply(&b->price, -top_key(sa)) : 0;
    ev->ask_qty = sa->nb ? scale_apply(&b->qty, top_qty(sa)) : 0;
    ev->bid_levels = sb->n > INT32_MAX ? INT32_MAX : (int32_t)sb->n;
    ev->ask_levels = sa->n > INT32_MAX ? INT32_MAX : (int32_t)sa->n;
    return 0;
}

double cq_book_price(const cq_book_t *b, int64_t tick)
{
    return b ? scale_apply(&b->price, tick) : 0;
}

double cq_book_size(const cq_book_t *b, int64_t qty)
{
    return b ? scale_apply(&b->qty, qty) : 0;
}

int cq_book_stats(const cq_book_t *b, cq_book_stats_t *out)
{
    if (!b || !out)
        return CQ_EINVAL;
    *out = b->st;
    return 0;
}
