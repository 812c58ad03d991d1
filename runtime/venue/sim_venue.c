/*
 * sim_venue.c - the simulated venue: a matching engine that fills our orders
 * against the venue's L2 book (which it reads, never writes), estimates the
 * queue position of resting orders from the book and the trade prints, and
 * delivers execution reports after a latency, with faults injected on demand.
 * The rules are in docs/fill-model.md; this file follows them in order.
 *
 * Owns: the order records (a public cq_order_t array and a parallel array of
 * integer matching state), the fill records, a client-order-id index, per
 * instrument the resting orders (in time priority), the waiting stops and
 * the liquidity we took that the book does not show yet, and the schedule: a
 * binary heap of (due, seq) entries pointing into a slab of payloads in
 * fixed chunks (requests on their way in, reports on their way out).
 *
 * Never: writes a book; calls the report callback except from the delivery
 * loop (so matching never re-enters itself); holds a pointer into a growable
 * array across a call that may grow it (indices only); uses a clock of its
 * own or a random draw that is not from its seeded generator.
 *
 * Costs: a request is a heap push and pop plus a hash lookup. A market event
 * scans the resting orders and taken-liquidity entries of its instrument:
 * O(n) in our own open orders there, which is small for the strategies this
 * is for; a venue with thousands of our orders on one book would want a
 * per-price index.
 */
#include "cquant/sim_venue.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/error.h"

#define NONE UINT32_MAX
#define FIRST_LEVELS 16   /* levels copied before a walk needs the whole side */
#define EXACT ((int64_t)9007199254740991)
#define TIME_MAX INT64_MAX
#define SLOT_SHIFT 6      /* 64 slots (~22 KB) per chunk */

enum { IT_SUBMIT = 1, IT_CANCEL, IT_MODIFY, IT_QUERY, IT_QUERY_OPEN, IT_REPORT };

/* Where an order is in the matching state. */
enum { W_NONE = 0, W_RESTING, W_STOP, W_DONE };

typedef struct req {
    cq_order_t order;        /* the caller's order as it was at the call */
    double new_price, new_qty;
    uint32_t instrument;     /* queries */
    uint32_t hash;           /* submits: hash_id of the client order id */
    char client_order_id[40];
} req_t;

typedef struct slot {
    int32_t kind;            /* IT_* */
    uint32_t next_free;
    union {
        req_t req;
        cq_exec_report_t rep;
    } u;
} slot_t;

typedef struct hent {
    int64_t due;
    uint64_t seq;
    uint32_t slot;
} hent_t;

/* Liquidity we took from a level, and what the level showed when we took
 * it: while the book still shows that, the level's usable size is
 * shown - qty. */
typedef struct taken {
    int32_t side;            /* book side */
    int64_t tick;
    int64_t qty;
    int64_t shown;
} taken_t;

/* Index entry: the order's position + 1 (0 = empty) and its id's hash, so
 * that a probe reads an order record only when the hashes match. */
typedef struct islot {
    uint32_t pos;
    uint32_t hash;
} islot_t;

typedef struct dec_ctr {
    char d[23];              /* digits, most significant first */
    uint8_t n;
} dec_ctr_t;

typedef struct vec32 {
    uint32_t *v;
    size_t n, cap;
} vec32_t;

typedef struct inst {
    const cq_book_t *book;
    int64_t last_trade;      /* tick of the last trade print */
    int has_trade;
    vec32_t resting;         /* order indices, in time priority */
    vec32_t stops;           /* waiting stop orders, arrival order */
    taken_t *taken;
    size_t ntaken, cap_taken;
} inst_t;

/* Matching state of one order, in integer units. */
typedef struct ord {
    int64_t tick;            /* limit price (limit and stop-limit orders) */
    int64_t trigger;         /* stop trigger */
    int64_t qty, filled;
    int64_t ahead;           /* estimated size ahead in the queue */
    uint64_t prio;           /* time priority: smaller is ahead */
    double notional;         /* sum of tick * units over the fills */
    int32_t where;           /* W_* */
    int32_t post_only;
} ord_t;

struct cq_sim {
    cq_sim_config_t cfg;
    const cq_cache_t *cache;
    int64_t now;
    uint64_t rng;
    uint64_t seq;            /* schedule order */
    uint64_t prio_seq;
    dec_ctr_t trade_seq;     /* "S1", "S2"... */
    dec_ctr_t venue_seq;     /* venue order ids "1", "2"... */
    int closed, busy, err;

    hent_t *heap;
    size_t nheap, cap_heap;
    slot_t **chunk;          /* slots in fixed chunks: a slot never moves */
    size_t nchunks, cap_chunks, nslots;
    uint32_t free_slot;
    uint64_t last_rep_seq;   /* heap entry holding the newest report */
    int has_last_rep;

    cq_order_t *orders;
    ord_t *ords;
    size_t norders, cap_orders;
    islot_t *index;          /* client order id -> order index */
    size_t index_cap;
    cq_fill_t *fills;
    size_t nfills, cap_fills;
    inst_t *inst;
    size_t ninst;

    cq_book_entry_t *lv;     /* scratch: book levels being walked */
    size_t cap_lv;
    uint32_t *cand;          /* scratch: orders being matched */
    size_t cap_cand;

    cq_sim_stats_t st;
};

/* ---- small helpers ------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return CQ_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static int vec_push(vec32_t *v, uint32_t x)
{
    if (grow((void **)&v->v, &v->cap, v->n + 1, sizeof *v->v))
        return CQ_ENOMEM;
    v->v[v->n++] = x;
    return 0;
}

static void vec_remove(vec32_t *v, uint32_t x)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->v[i] == x) {
            memmove(v->v + i, v->v + i + 1, (v->n - i - 1) * sizeof *v->v);
            v->n--;
            return;
        }
}

static int status_open(int32_t st)
{
    return st == CQ_OS_ACCEPTED || st == CQ_OS_PARTIALLY_FILLED;
}

static int64_t add_sat(int64_t a, int64_t b)
{
    return a > TIME_MAX - b ? TIME_MAX : a + b;
}

static int prob_ok(double p)
{
    return p >= 0 && p <= 1; /* false for NaN */
}

static int faults_ok(const cq_sim_faults_t *f)
{
    return prob_ok(f->drop) && prob_ok(f->delay) && prob_ok(f->reorder) && prob_ok(f->duplicate) &&
           prob_ok(f->not_found) && prob_ok(f->reject) && f->delay_ns >= 0;
}

/* xorshift64*, seeded through splitmix64 so that seed 0 works. */
static uint64_t rng_next(cq_sim_t *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 2685821657736338717ULL;
}

static int chance(cq_sim_t *s, double p)
{
    if (p <= 0)
        return 0;
    return (double)(rng_next(s) >> 11) * 0x1.0p-53 < p;
}

static void fail(cq_sim_t *s, int rc)
{
    s->st.alloc_failures++;
    if (!s->err)
        s->err = rc;
}

/* The next number of a counter kept as decimal text, written after prefix
 * (0: none) into a field of at least 24 bytes, NUL-terminated. Incrementing
 * the digits in place costs a few instructions; printing a uint64 costs a
 * division per digit, and snprintf more than the rest of an order's
 * acceptance. 20 digits hold every uint64. */
static void put_next(char *out, char prefix, dec_ctr_t *c)
{
    int i = (int)c->n - 1;
    while (i >= 0 && c->d[i] == '9')
        c->d[i--] = '0';
    if (i >= 0) {
        c->d[i]++;
    } else if (c->n < sizeof c->d) {
        memmove(c->d + 1, c->d, c->n++);
        c->d[0] = '1';
    }
    size_t j = 0;
    if (prefix)
        out[j++] = prefix;
    memcpy(out + j, c->d, c->n);
    out[j + c->n] = '\0';
}

/* A C string into a fixed field, cut to fit, NUL-terminated (the field
 * past the NUL is left as it is). */
static void put_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- units --------------------------------------------------------------- */

static const double POW10[19] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

static int spec_ok(const cq_instrument_t *spec)
{
    return spec && isfinite(spec->tick_size) && spec->tick_size > 0 && isfinite(spec->step_size) &&
           spec->step_size > 0;
}

static int decimal(int64_t units, int32_t prec)
{
    return units > 0 && prec >= 0 && prec <= 18;
}

/* n increments as a double: with decimal increments, the double nearest to
 * the decimal value (one correctly rounded division of two exact numbers),
 * as the book does. */
static double to_value(int64_t n, int64_t units, int32_t prec, double inc)
{
    if (decimal(units, prec) && n <= EXACT / units && n >= -EXACT / units)
        return (double)(n * units) / POW10[prec];
    return (double)n * inc;
}

static double fto_value(double n, int64_t units, int32_t prec, double inc)
{
    if (decimal(units, prec))
        return n * (double)units / POW10[prec];
    return n * inc;
}

/* v as a whole number of increments. exact: fail (CQ_EINVAL) unless v is on
 * an increment, allowing only the error a double carries; else round to the
 * nearest. CQ_ERANGE past 2^53 units. */
static int to_incs(double v, int64_t units, int32_t prec, double inc, int exact, int64_t *out)
{
    double x, r;
    if (decimal(units, prec)) {
        x = v * POW10[prec];
        if (!(fabs(x) < 9e15))
            return CQ_ERANGE;
        r = nearbyint(x);
        if (exact && fabs(x - r) > 1e-9 + fabs(x) * 1e-14)
            return CQ_EINVAL;
        int64_t n = (int64_t)r;
        if (units == 1) { /* the usual increment: no division */
            *out = n;
            return 0;
        }
        if (n % units != 0) {
            if (exact)
                return CQ_EINVAL;
            double q = nearbyint((double)n / (double)units);
            *out = (int64_t)q;
            return 0;
        }
        *out = n / units;
        return 0;
    }
    x = v / inc;
    if (!(fabs(x) < 9e15))
        return CQ_ERANGE;
    r = nearbyint(x);
    if (exact && fabs(x - r) > 1e-9 * (fabs(x) > 1 ? fabs(x) : 1))
        return CQ_EINVAL;
    *out = (int64_t)r;
    return 0;
}

static double price_of(const cq_instrument_t *sp, int64_t tick)
{
    return to_value(tick, sp->tick_units, sp->price_precision, sp->tick_size);
}

static double size_of(const cq_instrument_t *sp, int64_t q)
{
    return to_value(q, sp->step_units, sp->size_precision, sp->step_size);
}

static int tick_of(const cq_instrument_t *sp, double price, int exact, int64_t *tick)
{
    return to_incs(price, sp->tick_units, sp->price_precision, sp->tick_size, exact, tick);
}

static int units_of(const cq_instrument_t *sp, double qty, int exact, int64_t *q)
{
    return to_incs(qty, sp->step_units, sp->size_precision, sp->step_size, exact, q);
}

/* ---- client order id index ----------------------------------------------- */

/* Eight bytes at a time: ids are 20-36 characters, and a byte-wise hash
 * was a tenth of an order's cost. */
static uint32_t hash_id(const char *id)
{
    size_t n = strlen(id);
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;
    for (; n >= 8; n -= 8, id += 8) {
        memcpy(&w, id, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
    }
    w = 0;
    memcpy(&w, id, n);
    h = (h ^ w) * 0x94D049BB133111EBULL;
    h ^= h >> 29;
    return (uint32_t)h;
}

/* The order with this id (hash h), or NONE; *free_at gets the empty slot
 * where it would go. */
static uint32_t lookup(const cq_sim_t *s, const char *id, uint32_t h, size_t *free_at)
{
    if (!s->index_cap)
        return NONE;
    size_t mask = s->index_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const islot_t *e = &s->index[i];
        if (!e->pos) {
            if (free_at)
                *free_at = i;
            return NONE;
        }
        if (e->hash == h && strcmp(s->orders[e->pos - 1].client_order_id, id) == 0)
            return e->pos - 1;
    }
}

static uint32_t find_order(const cq_sim_t *s, const char *id)
{
    return lookup(s, id, hash_id(id), NULL);
}

static void index_put(islot_t *tab, size_t cap, uint32_t h, uint32_t i)
{
    size_t mask = cap - 1;
    size_t k = h & mask;
    while (tab[k].pos)
        k = (k + 1) & mask;
    tab[k].pos = i + 1;
    tab[k].hash = h;
}

/* Room for `count` orders: records, matching state and the index (kept at
 * most half full). */
static int reserve_orders(cq_sim_t *s, size_t count)
{
    size_t cap = s->cap_orders;
    if (count > cap) {
        size_t n = cap ? cap * 2 : 64;
        while (n < count)
            n *= 2;
        cq_order_t *o = realloc(s->orders, n * sizeof *o);
        if (!o)
            return CQ_ENOMEM;
        s->orders = o;
        ord_t *d = realloc(s->ords, n * sizeof *d);
        if (!d)
            return CQ_ENOMEM;
        s->ords = d;
        s->cap_orders = n;
    }
    if (count * 2 > s->index_cap) {
        size_t n = s->index_cap ? s->index_cap * 2 : 128;
        while (n < count * 2)
            n *= 2;
        islot_t *t = calloc(n, sizeof *t);
        if (!t)
            return CQ_ENOMEM;
        for (size_t i = 0; i < s->index_cap; i++)
            if (s->index[i].pos)
                index_put(t, n, s->index[i].hash, s->index[i].pos - 1);
        free(s->index);
        s->index = t;
        s->index_cap = n;
    }
    return 0;
}

static inline int reserve_order(cq_sim_t *s)
{
    if (s->norders + 1 <= s->cap_orders && (s->norders + 1) * 2 <= s->index_cap)
        return 0;
    return reserve_orders(s, s->norders + 1);
}

/* ---- instruments --------------------------------------------------------- */

static inst_t *inst_get(cq_sim_t *s, uint32_t h)
{
    if (h >= s->ninst) {
        if (h >= (uint32_t)1 << 24) /* handles are small interned integers */
            return NULL;
        size_t n = s->ninst ? s->ninst : 8;
        while (n <= h)
            n *= 2;
        inst_t *p = realloc(s->inst, n * sizeof *p);
        if (!p)
            return NULL;
        memset(p + s->ninst, 0, (n - s->ninst) * sizeof *p);
        s->inst = p;
        s->ninst = n;
    }
    return &s->inst[h];
}

static const cq_instrument_t *spec_of(const cq_sim_t *s, uint32_t i)
{
    return cq_cache_instrument(s->cache, s->orders[i].hdr.instrument);
}

/* Usable size of a level: what the book shows, less what we took from it
 * while it has shown the same size since. */
static int64_t usable(const inst_t *in, int32_t side, int64_t tick, int64_t shown)
{
    for (size_t k = 0; k < in->ntaken; k++) {
        const taken_t *t = &in->taken[k];
        if (t->tick == tick && t->side == side)
            return t->shown == shown ? (shown > t->qty ? shown - t->qty : 0) : shown;
    }
    return shown;
}

static int64_t shown_at(const inst_t *in, int32_t side, int64_t tick)
{
    int64_t q = 0;
    if (!in->book || cq_book_qty_at(in->book, side, tick, &q) < 0)
        return 0;
    return q;
}

static int take(inst_t *in, int32_t side, int64_t tick, int64_t qty, int64_t shown)
{
    for (size_t k = 0; k < in->ntaken; k++) {
        taken_t *t = &in->taken[k];
        if (t->tick == tick && t->side == side) {
            if (t->shown != shown) { /* the level changed since: start again */
                t->shown = shown;
                t->qty = 0;
            }
            t->qty += qty;
            return 0;
        }
    }
    if (grow((void **)&in->taken, &in->cap_taken, in->ntaken + 1, sizeof *in->taken))
        return CQ_ENOMEM;
    in->taken[in->ntaken++] = (taken_t){side, tick, qty, shown};
    return 0;
}

/* Walks one book side best first. The first FIRST_LEVELS levels are copied;
 * a walk that goes past them copies the whole side once. */
typedef struct walk {
    const cq_book_t *book;
    int32_t side;
    size_t i, n, total;
} walk_t;

static void walk_init(walk_t *w, const cq_book_t *book, int32_t side)
{
    w->book = book;
    w->side = side;
    w->i = w->n = 0;
    w->total = book ? cq_book_levels(book, side) : 0;
}

/* 1 with *e the next level, 0 at the end, CQ_ENOMEM. */
static int walk_next(cq_sim_t *s, walk_t *w, cq_book_entry_t *e)
{
    if (w->i == w->n) {
        if (w->n >= w->total)
            return 0;
        size_t want = w->n == 0 && w->total > FIRST_LEVELS ? FIRST_LEVELS : w->total;
        if (grow((void **)&s->lv, &s->cap_lv, want, sizeof *s->lv))
            return CQ_ENOMEM;
        size_t got = 0;
        if (cq_book_depth(w->book, w->side, s->lv, want, &got) < 0 || got <= w->n)
            return 0;
        w->n = got;
        if (got < want)
            w->total = got;
    }
    *e = s->lv[w->i++];
    return 1;
}

static int within(int32_t side, int64_t tick, int64_t limit)
{
    return side == CQ_SIDE_BUY ? tick <= limit : tick >= limit;
}

static int32_t opposite(int32_t side)
{
    return side == CQ_SIDE_BUY ? CQ_BOOK_ASK : CQ_BOOK_BID;
}

/* Does the opposite side's best level reach `tick`? The cheap test before
 * any walk: most limit orders do not cross. */
static int best_within(const inst_t *in, int32_t side, int64_t tick)
{
    cq_book_entry_t e;
    return in->book && cq_book_best(in->book, opposite(side), &e) == 0 && within(side, e.tick, tick);
}

/* ---- schedule ------------------------------------------------------------ */

static int hent_before(const hent_t *a, const hent_t *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static slot_t *slot_at(const cq_sim_t *s, uint32_t k)
{
    return &s->chunk[k >> SLOT_SHIFT][k & ((1u << SLOT_SHIFT) - 1)];
}

static uint32_t slot_alloc(cq_sim_t *s)
{
    if (s->free_slot != NONE) {
        uint32_t k = s->free_slot;
        s->free_slot = slot_at(s, k)->next_free;
        return k;
    }
    if (s->nslots >= (size_t)1 << 31)
        return NONE;
    if (s->nslots == s->nchunks << SLOT_SHIFT) {
        if (grow((void **)&s->chunk, &s->cap_chunks, s->nchunks + 1, sizeof *s->chunk))
            return NONE;
        slot_t *c = malloc(sizeof *c << SLOT_SHIFT);
        if (!c)
            return NONE;
        s->chunk[s->nchunks++] = c;
    }
    return (uint32_t)s->nslots++;
}

static void slot_free(cq_sim_t *s, uint32_t k)
{
    slot_t *sl = slot_at(s, k);
    sl->kind = 0;
    sl->next_free = s->free_slot;
    s->free_slot = k;
}

/* Push with a fresh sequence number; the slot is the caller's. */
static int heap_push(cq_sim_t *s, int64_t due, uint32_t slot, uint64_t *seq)
{
    if (grow((void **)&s->heap, &s->cap_heap, s->nheap + 1, sizeof *s->heap))
        return CQ_ENOMEM;
    hent_t e = {due, ++s->seq, slot};
    size_t i = s->nheap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!hent_before(&e, &s->heap[p]))
            break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = e;
    if (seq)
        *seq = e.seq;
    return 0;
}

static hent_t heap_pop(cq_sim_t *s)
{
    hent_t top = s->heap[0];
    hent_t last = s->heap[--s->nheap];
    size_t i = 0, n = s->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && hent_before(&s->heap[c + 1], &s->heap[c]))
            c++;
        if (!hent_before(&s->heap[c], &last))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n)
        s->heap[i] = last;
    return top;
}

/* A zeroed report in a fresh schedule slot (*k), to be filled in place and
 * handed to emit(): a report is written once, not built on the stack and
 * copied. NULL (counted as lost work) if there is no memory. */
static cq_exec_report_t *rep_slot(cq_sim_t *s, uint32_t *k)
{
    *k = slot_alloc(s);
    if (*k == NONE) {
        s->st.reports++;
        fail(s, CQ_ENOMEM);
        return NULL;
    }
    slot_t *sl = slot_at(s, *k);
    sl->kind = IT_REPORT;
    memset(&sl->u.rep, 0, sizeof sl->u.rep);
    return &sl->u.rep;
}

/* Report slot k (from rep_slot) leaves the venue now: the faults decide how
 * it travels. The slot is the schedule's from here on. */
static void emit(cq_sim_t *s, uint32_t k)
{
    const cq_sim_faults_t *f = &s->cfg.faults;
    uint64_t seq;
    s->st.reports++;
    if (chance(s, f->drop)) {
        s->st.dropped++;
        slot_free(s, k);
        return;
    }
    int64_t due = add_sat(s->now, s->cfg.report_latency_ns);
    if (chance(s, f->delay)) {
        due = add_sat(due, f->delay_ns);
        s->st.delayed++;
    }
    int reorder = chance(s, f->reorder);
    int dup = chance(s, f->duplicate);
    if (heap_push(s, due, k, &seq) < 0) {
        slot_free(s, k);
        fail(s, CQ_ENOMEM);
        return;
    }
    uint64_t newest = seq;
    if (reorder && s->has_last_rep) {
        /* Swap payloads with the entry of the previous report still waiting:
         * each is then delivered in the other's place. */
        hent_t *mine = NULL, *prev = NULL;
        for (size_t i = 0; i < s->nheap; i++) {
            if (s->heap[i].seq == seq)
                mine = &s->heap[i];
            else if (s->heap[i].seq == s->last_rep_seq)
                prev = &s->heap[i];
        }
        if (mine && prev) {
            uint32_t t = mine->slot;
            mine->slot = prev->slot;
            prev->slot = t;
            newest = prev->seq;
            s->st.reordered++;
        }
    }
    s->last_rep_seq = newest;
    s->has_last_rep = 1;
    if (dup) {
        /* Slot k still holds this report (a reorder swaps slots between
         * schedule entries, not their contents). */
        uint32_t k2 = slot_alloc(s);
        if (k2 == NONE) {
            fail(s, CQ_ENOMEM);
            return;
        }
        slot_t *sl = slot_at(s, k2);
        sl->kind = IT_REPORT;
        sl->u.rep = slot_at(s, k)->u.rep;
        if (heap_push(s, due, k2, &seq) < 0) {
            slot_free(s, k2);
            fail(s, CQ_ENOMEM);
            return;
        }
        s->st.duplicated++;
        s->last_rep_seq = seq;
    }
}

/* ---- reports ------------------------------------------------------------- */

/* Order i's state into r, which the caller has zeroed (rep_slot). */
static void rep_from_order(const cq_sim_t *s, uint32_t i, int32_t kind, cq_exec_report_t *r)
{
    const cq_order_t *o = &s->orders[i];
    const ord_t *d = &s->ords[i];
    r->hdr.instrument = o->hdr.instrument;
    r->hdr.strategy = o->hdr.strategy;
    r->hdr.ts_event = s->now;
    r->kind = kind;
    r->status = o->status;
    memcpy(r->client_order_id, o->client_order_id, sizeof r->client_order_id);
    memcpy(r->venue_order_id, o->venue_order_id, sizeof r->venue_order_id);
    r->side = o->side;
    r->cum_qty = o->filled_qty;
    if (status_open(o->status)) {
        const cq_instrument_t *sp = spec_of(s, i);
        r->leaves_qty = sp ? size_of(sp, d->qty - d->filled) : 0;
    }
    r->price = o->price;
    r->qty = o->qty;
}

static void emit_order(cq_sim_t *s, uint32_t i, int32_t kind, const char *reason)
{
    uint32_t k;
    cq_exec_report_t *r = rep_slot(s, &k);
    if (!r)
        return;
    rep_from_order(s, i, kind, r);
    if (reason)
        put_str(r->reason, sizeof r->reason, reason);
    emit(s, k);
}

/* A report about a request the venue cannot tie to a record (unknown order,
 * duplicate id): no venue order id, and a status only for a rejection. */
static void emit_unknown(cq_sim_t *s, const cq_order_t *o, const char *cid, uint32_t instrument,
                         int32_t kind, const char *reason)
{
    uint32_t k;
    cq_exec_report_t *r = rep_slot(s, &k);
    if (!r)
        return;
    r->hdr.ts_event = s->now;
    r->kind = kind;
    if (o) {
        r->hdr.instrument = o->hdr.instrument;
        r->hdr.strategy = o->hdr.strategy;
        r->side = o->side;
        r->price = o->price;
        r->qty = o->qty;
        if (kind == CQ_REPORT_REJECTED)
            r->status = CQ_OS_REJECTED;
    } else {
        r->hdr.instrument = instrument;
    }
    put_str(r->client_order_id, sizeof r->client_order_id, cid);
    if (reason)
        put_str(r->reason, sizeof r->reason, reason);
    emit(s, k);
}

/* ---- order life ---------------------------------------------------------- */

static void unlink_order(cq_sim_t *s, uint32_t i)
{
    ord_t *d = &s->ords[i];
    inst_t *in = &s->inst[s->orders[i].hdr.instrument];
    if (d->where == W_RESTING)
        vec_remove(&in->resting, i);
    else if (d->where == W_STOP)
        vec_remove(&in->stops, i);
    d->where = W_NONE;
}

static void close_order(cq_sim_t *s, uint32_t i, int32_t status, int32_t kind, const char *reason)
{
    unlink_order(s, i);
    s->ords[i].where = W_DONE;
    s->orders[i].status = status;
    s->orders[i].hdr.ts_event = s->now;
    emit_order(s, i, kind, reason);
}

/* One execution of order i: record, account, report. A fully filled order
 * is marked W_DONE; the caller takes it out of its list. */
static int fill(cq_sim_t *s, uint32_t i, int64_t tick, int64_t q, int32_t liq)
{
    const cq_instrument_t *sp = spec_of(s, i);
    if (!sp)
        return CQ_ENOENT;
    if (grow((void **)&s->fills, &s->cap_fills, s->nfills + 1, sizeof *s->fills))
        return CQ_ENOMEM;
    ord_t *d = &s->ords[i];
    cq_order_t *o = &s->orders[i];
    double price = price_of(sp, tick), qty = size_of(sp, q);
    double bps = liq == CQ_LIQ_MAKER ? s->cfg.maker_fee_bps : s->cfg.taker_fee_bps;
    double fee = price * qty * bps / 10000.0;

    d->filled += q;
    d->notional += (double)tick * (double)q;
    o->filled_qty = size_of(sp, d->filled);
    o->avg_fill_price = fto_value(d->notional / (double)d->filled, sp->tick_units, sp->price_precision,
                                  sp->tick_size);
    o->fees += fee;
    o->status = d->filled == d->qty ? CQ_OS_FILLED : CQ_OS_PARTIALLY_FILLED;
    o->hdr.ts_event = s->now;
    if (d->filled == d->qty)
        d->where = W_DONE;

    cq_fill_t *f = &s->fills[s->nfills++];
    memset(f, 0, sizeof *f);
    f->hdr.type = CQ_EV_FILL;
    f->hdr.instrument = o->hdr.instrument;
    f->hdr.strategy = o->hdr.strategy;
    f->hdr.ts_event = f->hdr.ts_init = s->now;
    memcpy(f->client_order_id, o->client_order_id, sizeof f->client_order_id);
    memcpy(f->venue_order_id, o->venue_order_id, sizeof f->venue_order_id);
    put_next(f->trade_id, 'S', &s->trade_seq);
    f->side = o->side;
    f->liquidity = liq;
    f->price = price;
    f->qty = qty;
    f->fee = fee;
    memcpy(f->fee_asset, sp->quote, sizeof f->fee_asset);
    f->fee_asset[sizeof f->fee_asset - 1] = '\0';
    s->st.fills++;

    uint32_t k;
    cq_exec_report_t *r = rep_slot(s, &k);
    if (!r)
        return 0; /* the fill is booked; its report is lost (counted) */
    rep_from_order(s, i, CQ_REPORT_FILL, r);
    memcpy(r->trade_id, f->trade_id, sizeof r->trade_id);
    r->liquidity = liq;
    r->last_price = price;
    r->last_qty = qty;
    r->fee = fee;
    memcpy(r->fee_asset, f->fee_asset, sizeof r->fee_asset);
    emit(s, k);
    return 0;
}

/* Size usable on the side opposite order i up to its limit (no limit for a
 * market order), counted until `need` is reached. */
static int usable_upto(cq_sim_t *s, uint32_t i, inst_t *in, int has_limit, int64_t need, int64_t *out)
{
    const cq_order_t *o = &s->orders[i];
    int32_t bs = opposite(o->side);
    walk_t w;
    cq_book_entry_t e;
    int64_t sum = 0;
    int rc = 0;
    walk_init(&w, in->book, bs);
    while (sum < need && (rc = walk_next(s, &w, &e)) > 0) {
        if (has_limit && !within(o->side, e.tick, s->ords[i].tick))
            break;
        sum += usable(in, bs, e.tick, e.qty);
    }
    if (rc < 0 && sum < need)
        return rc;
    *out = sum;
    return 0;
}

/* Order i takes liquidity as the aggressor, best level first, up to its
 * limit: one taker fill per level, each consumed from the level. */
static int take_book(cq_sim_t *s, uint32_t i, inst_t *in, int has_limit)
{
    int32_t side = s->orders[i].side, bs = opposite(side);
    walk_t w;
    cq_book_entry_t e;
    int rc = 0;
    if (has_limit && !best_within(in, side, s->ords[i].tick))
        return 0;
    walk_init(&w, in->book, bs);
    while (s->ords[i].filled < s->ords[i].qty && (rc = walk_next(s, &w, &e)) > 0) {
        if (has_limit && !within(side, e.tick, s->ords[i].tick))
            break;
        int64_t a = usable(in, bs, e.tick, e.qty);
        int64_t leaves = s->ords[i].qty - s->ords[i].filled;
        int64_t q = a < leaves ? a : leaves;
        if (q <= 0)
            continue;
        if ((rc = take(in, bs, e.tick, q, e.qty)) < 0 || (rc = fill(s, i, e.tick, q, CQ_LIQ_TAKER)) < 0)
            return rc;
    }
    return rc < 0 ? rc : 0;
}

/* Would order i, priced at `tick`, meet usable liquidity on arrival? */
static int crosses(cq_sim_t *s, uint32_t i, inst_t *in, int64_t tick)
{
    int32_t side = s->orders[i].side, bs = opposite(side);
    walk_t w;
    cq_book_entry_t e;
    if (!best_within(in, side, tick))
        return 0;
    walk_init(&w, in->book, bs);
    while (walk_next(s, &w, &e) > 0) {
        if (!within(side, e.tick, tick))
            return 0;
        if (usable(in, bs, e.tick, e.qty) > 0)
            return 1;
    }
    return 0;
}

static int rest(cq_sim_t *s, uint32_t i, inst_t *in)
{
    ord_t *d = &s->ords[i];
    d->prio = ++s->prio_seq; /* time priority starts when it joins the book */
    d->ahead = usable(in, s->orders[i].side, d->tick, shown_at(in, s->orders[i].side, d->tick));
    d->where = W_RESTING;
    if (vec_push(&in->resting, i) < 0) {
        d->where = W_NONE;
        return CQ_ENOMEM;
    }
    return 0;
}

/* A market order (or a triggered stop-market) at the venue: walk the book,
 * expire what it could not fill. */
static void run_market(cq_sim_t *s, uint32_t i, inst_t *in)
{
    int rc = 0;
    if (s->orders[i].tif == CQ_TIF_FOK) {
        int64_t have = 0;
        if ((rc = usable_upto(s, i, in, 0, s->ords[i].qty, &have)) == 0 && have < s->ords[i].qty) {
            close_order(s, i, CQ_OS_EXPIRED, CQ_REPORT_EXPIRED, "FOK: not enough liquidity");
            return;
        }
    }
    if (rc == 0)
        rc = take_book(s, i, in, 0);
    if (rc < 0)
        fail(s, rc);
    if (s->ords[i].filled < s->ords[i].qty)
        close_order(s, i, CQ_OS_EXPIRED, CQ_REPORT_EXPIRED, "market: book exhausted");
}

/* A limit order (or a triggered stop-limit) at the venue: take what crosses,
 * then rest (GTC) or expire (IOC, FOK). */
static void run_limit(cq_sim_t *s, uint32_t i, inst_t *in)
{
    int rc = 0;
    /* Post-only orders never take, so their time in force is moot: GTC. */
    int32_t tif = s->ords[i].post_only ? CQ_TIF_GTC : s->orders[i].tif;
    if (tif == CQ_TIF_FOK) {
        int64_t have = 0;
        if ((rc = usable_upto(s, i, in, 1, s->ords[i].qty, &have)) == 0 && have < s->ords[i].qty) {
            close_order(s, i, CQ_OS_EXPIRED, CQ_REPORT_EXPIRED, "FOK: not enough liquidity");
            return;
        }
    }
    if (rc == 0 && !s->ords[i].post_only)
        rc = take_book(s, i, in, 1);
    if (rc < 0)
        fail(s, rc);
    if (s->ords[i].filled == s->ords[i].qty)
        return;
    if (tif == CQ_TIF_IOC || tif == CQ_TIF_FOK)
        close_order(s, i, CQ_OS_EXPIRED, CQ_REPORT_EXPIRED, "IOC: remainder expired");
    else if ((rc = rest(s, i, in)) < 0) {
        fail(s, rc);
        close_order(s, i, CQ_OS_EXPIRED, CQ_REPORT_EXPIRED, "venue out of memory");
    }
}

static void run_triggered(cq_sim_t *s, uint32_t i, inst_t *in)
{
    s->ords[i].where = W_NONE;
    if (s->orders[i].type == CQ_ORDER_STOP_MARKET)
        run_market(s, i, in);
    else
        run_limit(s, i, in);
}

/* Has the market reached stop order i? By a trade at `ref` (is_trade), or
 * by the book: a buy stop when the best ask is at or above the trigger, a
 * sell stop when the best bid is at or below it. */
static int stop_hit(const ord_t *d, int32_t side, int64_t ref)
{
    return side == CQ_SIDE_BUY ? ref >= d->trigger : ref <= d->trigger;
}

static int stop_hit_book(const ord_t *d, int32_t side, const inst_t *in)
{
    cq_book_entry_t e;
    if (!in->book || cq_book_best(in->book, opposite(side), &e) < 0)
        return 0;
    return stop_hit(d, side, e.tick);
}

/* Why the venue refuses order i, or NULL. Snaps its price and quantity. */
static const char *check_order(cq_sim_t *s, uint32_t i, const cq_instrument_t *sp, inst_t *in)
{
    cq_order_t *o = &s->orders[i];
    ord_t *d = &s->ords[i];
    int t = o->type;
    int priced = t == CQ_ORDER_LIMIT || t == CQ_ORDER_LIMIT_MAKER || t == CQ_ORDER_STOP_LIMIT;
    int stop = t == CQ_ORDER_STOP_MARKET || t == CQ_ORDER_STOP_LIMIT;

    if (!sp || !in)
        return "unknown instrument";
    if (!spec_ok(sp))
        return "instrument spec unusable";
    if (!sp->tradable)
        return "instrument not tradable";
    if (!(o->qty > 0))
        return "qty must be positive";
    if (units_of(sp, o->qty, 1, &d->qty) < 0 || d->qty <= 0)
        return "qty not on step";
    int64_t lim = 0;
    if (sp->min_qty > 0 && units_of(sp, sp->min_qty, 0, &lim) == 0 && d->qty < lim)
        return "qty below min_qty";
    if (sp->max_qty > 0 && units_of(sp, sp->max_qty, 0, &lim) == 0 && d->qty > lim)
        return "qty above max_qty";
    o->qty = size_of(sp, d->qty);
    if (priced) {
        if (!(o->price > 0))
            return "price must be positive";
        if (tick_of(sp, o->price, 1, &d->tick) < 0 || d->tick <= 0)
            return "price not on tick";
        o->price = price_of(sp, d->tick);
        if (sp->min_notional > 0 && o->price * o->qty < sp->min_notional * (1 - 1e-12))
            return "notional below min_notional";
    } else {
        o->price = 0;
    }
    if (stop) {
        if (!(o->trigger_price > 0))
            return "trigger price must be positive";
        if (tick_of(sp, o->trigger_price, 1, &d->trigger) < 0 || d->trigger <= 0)
            return "trigger price not on tick";
        o->trigger_price = price_of(sp, d->trigger);
        if ((in->has_trade && stop_hit(d, o->side, in->last_trade)) || stop_hit_book(d, o->side, in))
            return "stop would trigger immediately";
    } else {
        o->trigger_price = 0;
    }
    d->post_only =
        t == CQ_ORDER_LIMIT_MAKER || (t == CQ_ORDER_LIMIT && (o->opts & CQ_ORDER_OPT_POST_ONLY));
    if (d->post_only && crosses(s, i, in, d->tick))
        return "post-only order would cross";
    return NULL;
}

static void on_submit(cq_sim_t *s, const req_t *rq)
{
    int rc;
    const cq_order_t *req = &rq->order;
    uint32_t h = rq->hash;
    if (lookup(s, req->client_order_id, h, NULL) != NONE) {
        s->st.rejected++;
        emit_unknown(s, req, req->client_order_id, 0, CQ_REPORT_REJECTED, "duplicate client order id");
        return;
    }
    if ((rc = reserve_order(s)) < 0) {
        fail(s, rc);
        emit_unknown(s, req, req->client_order_id, 0, CQ_REPORT_REJECTED, "venue out of memory");
        return;
    }
    uint32_t i = (uint32_t)s->norders++;
    index_put(s->index, s->index_cap, h, i);
    cq_order_t *o = &s->orders[i];
    *o = *req;
    o->hdr.type = CQ_EV_ORDER;
    o->hdr.flags = 0;
    o->hdr.ts_init = o->hdr.ts_event = s->now;
    /* Ids and tag as the venue keeps them: no bytes after the NUL, so that
     * records and reports compare equal byte for byte. */
    size_t n = strlen(o->client_order_id);
    memset(o->client_order_id + n, 0, sizeof o->client_order_id - n);
    n = strnlen(o->tag, sizeof o->tag - 1);
    memset(o->tag + n, 0, sizeof o->tag - n);
    memset(o->venue_order_id, 0, sizeof o->venue_order_id);
    if (o->tif == 0)
        o->tif = CQ_TIF_GTC;
    o->status = CQ_OS_REJECTED;
    o->filled_qty = o->avg_fill_price = o->fees = 0;
    ord_t *d = &s->ords[i];
    memset(d, 0, sizeof *d);
    s->st.orders++;

    const cq_sim_faults_t *f = &s->cfg.faults;
    const char *why = NULL;
    if (s->cfg.faults.reject_next > 0) {
        s->cfg.faults.reject_next--;
        why = "injected fault: rejected";
    } else if (chance(s, f->reject)) {
        why = "injected fault: rejected";
    }
    if (why)
        s->st.injected_rejects++;
    const cq_instrument_t *sp = cq_cache_instrument(s->cache, o->hdr.instrument);
    inst_t *in = sp && o->hdr.instrument ? inst_get(s, o->hdr.instrument) : NULL;
    if (!why)
        why = check_order(s, i, sp, in);
    if (why) {
        s->ords[i].where = W_DONE;
        s->st.rejected++;
        emit_order(s, i, CQ_REPORT_REJECTED, why);
        return;
    }
    put_next(o->venue_order_id, 0, &s->venue_seq);
    o->status = CQ_OS_ACCEPTED;
    emit_order(s, i, CQ_REPORT_ACCEPTED, NULL);
    switch (o->type) {
    case CQ_ORDER_MARKET:
        run_market(s, i, in);
        break;
    case CQ_ORDER_LIMIT:
    case CQ_ORDER_LIMIT_MAKER:
        run_limit(s, i, in);
        break;
    default: /* stops wait for their trigger */
        s->ords[i].where = W_STOP;
        if ((rc = vec_push(&in->stops, i)) < 0) {
            fail(s, rc);
            s->ords[i].where = W_NONE;
            close_order(s, i, CQ_OS_EXPIRED, CQ_REPORT_EXPIRED, "venue out of memory");
        }
        break;
    }
}

static void on_cancel(cq_sim_t *s, const cq_order_t *req)
{
    uint32_t i = find_order(s, req->client_order_id);
    if (i == NONE) {
        emit_unknown(s, req, req->client_order_id, 0, CQ_REPORT_CANCEL_REJECTED, "unknown order");
        return;
    }
    if (!status_open(s->orders[i].status)) {
        emit_order(s, i, CQ_REPORT_CANCEL_REJECTED, "order already closed");
        return;
    }
    close_order(s, i, CQ_OS_CANCELED, CQ_REPORT_CANCELED, NULL);
}

static void on_modify(cq_sim_t *s, const req_t *rq)
{
    const cq_order_t *req = &rq->order;
    uint32_t i = find_order(s, req->client_order_id);
    if (i == NONE) {
        emit_unknown(s, req, req->client_order_id, 0, CQ_REPORT_MODIFY_REJECTED, "unknown order");
        return;
    }
    cq_order_t *o = &s->orders[i];
    ord_t *d = &s->ords[i];
    if (!status_open(o->status)) {
        emit_order(s, i, CQ_REPORT_MODIFY_REJECTED, "order already closed");
        return;
    }
    const cq_instrument_t *sp = spec_of(s, i);
    if (!spec_ok(sp)) {
        emit_order(s, i, CQ_REPORT_MODIFY_REJECTED, "unknown instrument");
        return;
    }
    inst_t *in = &s->inst[o->hdr.instrument];
    int64_t tick = d->tick, qty = d->qty, minq = 0, maxq = 0;
    const char *why = NULL;
    if (rq->new_price > 0 && o->type != CQ_ORDER_LIMIT && o->type != CQ_ORDER_LIMIT_MAKER &&
        o->type != CQ_ORDER_STOP_LIMIT)
        why = "order has no limit price";
    else if (rq->new_price > 0 && (tick_of(sp, rq->new_price, 1, &tick) < 0 || tick <= 0))
        why = "price not on tick";
    else if (rq->new_qty > 0 && (units_of(sp, rq->new_qty, 1, &qty) < 0 || qty <= 0))
        why = "qty not on step";
    else if (qty <= d->filled)
        why = "qty not above filled qty";
    else if (sp->min_qty > 0 && units_of(sp, sp->min_qty, 0, &minq) == 0 && qty < minq)
        why = "qty below min_qty";
    else if (sp->max_qty > 0 && units_of(sp, sp->max_qty, 0, &maxq) == 0 && qty > maxq)
        why = "qty above max_qty";
    else if (d->where == W_RESTING && d->post_only && tick != d->tick && crosses(s, i, in, tick))
        why = "post-only order would cross";
    if (why) {
        emit_order(s, i, CQ_REPORT_MODIFY_REJECTED, why);
        return;
    }
    /* Same price and less quantity keeps the queue place; anything else
     * goes to the back, as a new order would. */
    int requeue = tick != d->tick || qty > d->qty;
    d->tick = tick;
    d->qty = qty;
    if (o->type != CQ_ORDER_MARKET && o->type != CQ_ORDER_STOP_MARKET)
        o->price = price_of(sp, tick);
    o->qty = size_of(sp, qty);
    o->hdr.ts_event = s->now;
    emit_order(s, i, CQ_REPORT_MODIFIED, NULL);
    if (d->where != W_RESTING || !requeue)
        return;
    unlink_order(s, i);
    int rc = 0;
    if (!d->post_only && (rc = take_book(s, i, in, 1)) < 0)
        fail(s, rc);
    if (d->filled < d->qty && (rc = rest(s, i, in)) < 0) {
        fail(s, rc);
        close_order(s, i, CQ_OS_EXPIRED, CQ_REPORT_EXPIRED, "venue out of memory");
    }
}

static void on_query(cq_sim_t *s, const req_t *rq)
{
    uint32_t i = find_order(s, rq->client_order_id);
    int lost = 0;
    if (s->cfg.faults.not_found_next > 0) {
        s->cfg.faults.not_found_next--;
        lost = 1;
    } else if (chance(s, s->cfg.faults.not_found)) {
        lost = 1;
    }
    if (lost)
        s->st.injected_not_found++;
    if (lost || i == NONE || (rq->instrument && rq->instrument != s->orders[i].hdr.instrument)) {
        emit_unknown(s, NULL, rq->client_order_id, rq->instrument, CQ_REPORT_NOT_FOUND,
                     "order not found");
        return;
    }
    emit_order(s, i, CQ_REPORT_STATUS, NULL);
}

static void on_query_open(cq_sim_t *s, uint32_t instrument)
{
    for (size_t i = 0; i < s->norders; i++) {
        const cq_order_t *o = &s->orders[i];
        if (status_open(o->status) && (!instrument || o->hdr.instrument == instrument))
            emit_order(s, (uint32_t)i, CQ_REPORT_STATUS, NULL);
    }
}

/* ---- the delivery loop --------------------------------------------------- */

static void run_due(cq_sim_t *s, int64_t until)
{
    while (s->nheap && s->heap[0].due <= until) {
        hent_t e = heap_pop(s);
        /* Used in place: slots never move, and this one is freed only
         * after its work (which may schedule more) is done. */
        slot_t *sl = slot_at(s, e.slot);
        if (e.due > s->now)
            s->now = e.due;
        if (sl->kind == IT_REPORT) {
            sl->u.rep.hdr.ts_init = e.due;
            s->st.delivered++;
            s->cfg.report(s->cfg.report_user, &sl->u.rep);
            slot_free(s, e.slot);
            continue;
        }
        const req_t *rq = &sl->u.req;
        s->st.requests++;
        switch (sl->kind) {
        case IT_SUBMIT: on_submit(s, rq); break;
        case IT_CANCEL: on_cancel(s, &rq->order); break;
        case IT_MODIFY: on_modify(s, rq); break;
        case IT_QUERY: on_query(s, rq); break;
        case IT_QUERY_OPEN: on_query_open(s, rq->instrument); break;
        default: break;
        }
        slot_free(s, e.slot);
    }
    if (until > s->now)
        s->now = until;
}

static int enter(cq_sim_t *s, int64_t ts)
{
    if (s->busy)
        return CQ_EBUSY;
    if (s->closed)
        return CQ_ECLOSED;
    s->busy = 1;
    s->err = 0;
    run_due(s, ts > s->now ? ts : s->now);
    return 0;
}

static int leave(cq_sim_t *s)
{
    run_due(s, s->now); /* reports made just now, when the latency is 0 */
    s->busy = 0;
    int rc = s->err;
    s->err = 0;
    return rc;
}

int cq_sim_advance(cq_sim_t *s, int64_t now)
{
    int rc;
    if (!s)
        return CQ_EINVAL;
    if ((rc = enter(s, now)) < 0)
        return rc;
    return leave(s);
}

/* ---- market data --------------------------------------------------------- */

/* Drop out of list v the orders no longer in state `where`. */
static void compact(cq_sim_t *s, vec32_t *v, int32_t where)
{
    size_t k = 0;
    for (size_t j = 0; j < v->n; j++)
        if (s->ords[v->v[j]].where == where)
            v->v[k++] = v->v[j];
    v->n = k;
}

/* cand[0..n) sorted by price priority (best limit first for its side), ties
 * by time; all on one side. Insertion sort: the lists are short. */
static void sort_by_price(cq_sim_t *s, uint32_t *c, size_t n)
{
    for (size_t a = 1; a < n; a++) {
        uint32_t x = c[a];
        size_t b = a;
        while (b > 0) {
            const ord_t *p = &s->ords[c[b - 1]], *q = &s->ords[x];
            int better = s->orders[x].side == CQ_SIDE_BUY ? q->tick > p->tick : q->tick < p->tick;
            if (!better && !(q->tick == p->tick && q->prio < p->prio))
                break;
            c[b] = c[b - 1];
            b--;
        }
        c[b] = x;
    }
}

/* Stops of the instrument that the trade at `ref` (is_trade) or the book
 * now triggers, run in arrival order. */
static void run_stops(cq_sim_t *s, inst_t *in, int is_trade, int64_t ref)
{
    size_t n = 0;
    if (!in->stops.n)
        return;
    if (grow((void **)&s->cand, &s->cap_cand, in->stops.n, sizeof *s->cand)) {
        fail(s, CQ_ENOMEM);
        return;
    }
    for (size_t j = 0; j < in->stops.n; j++) {
        uint32_t i = in->stops.v[j];
        int32_t side = s->orders[i].side;
        if (is_trade ? stop_hit(&s->ords[i], side, ref) : stop_hit_book(&s->ords[i], side, in)) {
            s->cand[n++] = i;
            s->ords[i].where = W_NONE;
        }
    }
    compact(s, &in->stops, W_STOP);
    for (size_t j = 0; j < n; j++) /* run_triggered never touches cand */
        run_triggered(s, s->cand[j], in);
}

static void book_rules(cq_sim_t *s, inst_t *in)
{
    /* 1. Liquidity we took is usable again once its level changed. */
    size_t k = 0;
    for (size_t j = 0; j < in->ntaken; j++) {
        taken_t *t = &in->taken[j];
        if (shown_at(in, t->side, t->tick) == t->shown)
            in->taken[k++] = *t;
    }
    in->ntaken = k;

    /* 2. Queue ahead never exceeds what the level shows (cancels happen
     *    behind us unless the level shrinks below our place). */
    for (size_t j = 0; j < in->resting.n; j++) {
        uint32_t i = in->resting.v[j];
        ord_t *d = &s->ords[i];
        if (d->ahead == 0)
            continue;
        int32_t side = s->orders[i].side;
        int64_t lvl = usable(in, side, d->tick, shown_at(in, side, d->tick));
        if (d->ahead > lvl)
            d->ahead = lvl;
    }

    /* 3. Resting orders the book moved through fill as makers at their own
     *    price, for the usable size of the crossing levels: buys first, then
     *    sells, each in price-time priority. */
    if (in->resting.n) {
        if (grow((void **)&s->cand, &s->cap_cand, in->resting.n, sizeof *s->cand)) {
            fail(s, CQ_ENOMEM);
        } else {
            for (int32_t side = CQ_SIDE_BUY; side <= CQ_SIDE_SELL; side++) {
                size_t n = 0;
                cq_book_entry_t best;
                int32_t bs = opposite(side);
                if (!in->book || cq_book_best(in->book, bs, &best) < 0)
                    continue;
                for (size_t j = 0; j < in->resting.n; j++) {
                    uint32_t i = in->resting.v[j];
                    if (s->orders[i].side == side && within(side, best.tick, s->ords[i].tick))
                        s->cand[n++] = i;
                }
                sort_by_price(s, s->cand, n);
                for (size_t j = 0; j < n; j++) {
                    uint32_t i = s->cand[j];
                    ord_t *d = &s->ords[i];
                    walk_t w;
                    cq_book_entry_t e;
                    int64_t got = 0;
                    int rc = 0;
                    walk_init(&w, in->book, bs);
                    while (d->filled + got < d->qty && (rc = walk_next(s, &w, &e)) > 0) {
                        if (!within(side, e.tick, d->tick))
                            break;
                        int64_t a = usable(in, bs, e.tick, e.qty), want = d->qty - d->filled - got;
                        int64_t q = a < want ? a : want;
                        if (q > 0 && (rc = take(in, bs, e.tick, q, e.qty)) < 0)
                            break;
                        if (q > 0)
                            got += q;
                    }
                    if (rc < 0)
                        fail(s, rc);
                    if (got > 0 && (rc = fill(s, i, d->tick, got, CQ_LIQ_MAKER)) < 0)
                        fail(s, rc);
                }
            }
            compact(s, &in->resting, W_RESTING);
        }
    }

    /* 4. Stops the book reached. */
    run_stops(s, in, 0, 0);
}

int cq_sim_on_book(cq_sim_t *s, uint32_t instrument, const cq_book_t *book, int64_t ts)
{
    int rc;
    if (!s || !book)
        return CQ_EINVAL;
    if (!cq_cache_instrument(s->cache, instrument) || !instrument)
        return CQ_ENOENT;
    if ((rc = enter(s, ts)) < 0)
        return rc;
    inst_t *in = inst_get(s, instrument);
    if (!in) {
        fail(s, CQ_ENOMEM);
        return leave(s);
    }
    in->book = book;
    book_rules(s, in);
    return leave(s);
}

/* A trade at tick, qty units, taken by `aggressor`: fills our resting
 * orders on the passive side at that exact price, in time priority, once
 * the size ahead of each is used up. */
static void trade_rules(cq_sim_t *s, inst_t *in, int64_t tick, int64_t qty, int32_t aggressor)
{
    int64_t given[3] = {0, 0, 0}; /* per side of ours: size of this trade we got */
    for (size_t j = 0; j < in->resting.n; j++) {
        uint32_t i = in->resting.v[j];
        ord_t *d = &s->ords[i];
        int32_t side = s->orders[i].side;
        if (d->tick != tick || d->where != W_RESTING)
            continue;
        if (aggressor != CQ_SIDE_NONE && aggressor == side)
            continue; /* a buyer lifting asks at our bid's price: the book shows that */
        int64_t avail = qty - given[side];
        int64_t leaves = d->qty - d->filled;
        int64_t q = avail - d->ahead;
        if (q > leaves)
            q = leaves;
        d->ahead = d->ahead > avail ? d->ahead - avail : 0;
        if (q > 0) {
            given[side] += q;
            int rc = fill(s, i, tick, q, CQ_LIQ_MAKER);
            if (rc < 0)
                fail(s, rc);
        }
    }
    compact(s, &in->resting, W_RESTING);
}

int cq_sim_on_trade(cq_sim_t *s, const cq_trade_t *t)
{
    int rc;
    if (!s || !t || !isfinite(t->price) || !isfinite(t->qty) || t->price < 0 || t->qty < 0 ||
        t->aggressor < CQ_SIDE_NONE || t->aggressor > CQ_SIDE_SELL)
        return CQ_EINVAL;
    uint32_t h = t->hdr.instrument;
    const cq_instrument_t *sp = cq_cache_instrument(s->cache, h);
    if (!sp || !h)
        return CQ_ENOENT;
    int64_t tick, qty;
    if (!spec_ok(sp) || tick_of(sp, t->price, 0, &tick) < 0 || units_of(sp, t->qty, 0, &qty) < 0)
        return CQ_EINVAL;
    if ((rc = enter(s, t->hdr.ts_init ? t->hdr.ts_init : t->hdr.ts_event)) < 0)
        return rc;
    inst_t *in = inst_get(s, h);
    if (!in) {
        fail(s, CQ_ENOMEM);
        return leave(s);
    }
    in->last_trade = tick;
    in->has_trade = 1;
    trade_rules(s, in, tick, qty, t->aggressor);
    run_stops(s, in, 1, tick);
    return leave(s);
}

/* ---- venue ops ----------------------------------------------------------- */

static int id_check(const char *id, size_t field)
{
    size_t n = strnlen(id, field);
    if (n == 0)
        return CQ_EINVAL;
    if (n == field || n > CQ_ORDER_ID_MAX)
        return CQ_ETOOLONG;
    return 0;
}

static int order_check(const cq_order_t *o)
{
    if (!o)
        return CQ_EINVAL;
    int rc = id_check(o->client_order_id, sizeof o->client_order_id);
    if (rc < 0)
        return rc;
    if (o->side != CQ_SIDE_BUY && o->side != CQ_SIDE_SELL)
        return CQ_EINVAL;
    if (o->type < CQ_ORDER_MARKET || o->type > CQ_ORDER_STOP_LIMIT)
        return CQ_EINVAL;
    if (o->tif < 0 || o->tif > CQ_TIF_FOK)
        return CQ_EINVAL;
    if (!isfinite(o->price) || !isfinite(o->qty) || !isfinite(o->trigger_price))
        return CQ_EINVAL;
    return 0;
}

/* Queue a request to reach the venue after the order latency. */
static int send_req(cq_sim_t *s, int32_t kind, const cq_order_t *o, const char *cid, uint32_t instrument,
                    double price, double qty, uint32_t hash)
{
    if (s->closed)
        return CQ_ECLOSED;
    uint32_t k = slot_alloc(s);
    if (k == NONE)
        return CQ_ENOMEM;
    slot_t *sl = slot_at(s, k);
    sl->kind = kind;
    req_t *rq = &sl->u.req;
    if (o) {
        rq->order = *o;
        rq->order.venue_order_id[sizeof rq->order.venue_order_id - 1] = '\0';
    } else {
        memset(&rq->order, 0, sizeof rq->order);
    }
    memset(rq->client_order_id, 0, sizeof rq->client_order_id);
    if (cid) /* id_check: at most CQ_ORDER_ID_MAX characters */
        memcpy(rq->client_order_id, cid, strlen(cid));
    rq->instrument = instrument;
    rq->hash = hash;
    rq->new_price = price;
    rq->new_qty = qty;
    if (heap_push(s, add_sat(s->now, s->cfg.order_latency_ns), k, NULL) < 0) {
        slot_free(s, k);
        return CQ_ENOMEM;
    }
    return 0;
}

static int op_submit(void *self, const cq_order_t *o)
{
    int rc;
    cq_sim_t *s = self;
    if (!s)
        return CQ_EINVAL;
    if ((rc = order_check(o)) < 0)
        return rc;
    /* The id's index slot is a cache miss among many orders: hash it now
     * and start loading the slot, while the request waits its turn. */
    uint32_t h = hash_id(o->client_order_id);
    if (s->index_cap)
        __builtin_prefetch(&s->index[h & (s->index_cap - 1)]);
    return send_req(s, IT_SUBMIT, o, NULL, 0, 0, 0, h);
}

static int op_cancel(void *self, const cq_order_t *o)
{
    int rc;
    if (!self || !o)
        return CQ_EINVAL;
    if ((rc = id_check(o->client_order_id, sizeof o->client_order_id)) < 0)
        return rc;
    return send_req(self, IT_CANCEL, o, NULL, 0, 0, 0, 0);
}

static int op_modify(void *self, const cq_order_t *o, double price, double qty)
{
    int rc;
    if (!self || !o || !isfinite(price) || !isfinite(qty) || price < 0 || qty < 0)
        return CQ_EINVAL;
    if ((rc = id_check(o->client_order_id, sizeof o->client_order_id)) < 0)
        return rc;
    return send_req(self, IT_MODIFY, o, NULL, 0, price, qty, 0);
}

static int op_query_order(void *self, uint32_t instrument, const char *cid)
{
    int rc;
    if (!self || !cid)
        return CQ_EINVAL;
    if ((rc = id_check(cid, sizeof ((cq_order_t *)0)->client_order_id)) < 0)
        return rc;
    return send_req(self, IT_QUERY, NULL, cid, instrument, 0, 0, 0);
}

static int op_query_open(void *self, uint32_t instrument)
{
    if (!self)
        return CQ_EINVAL;
    return send_req(self, IT_QUERY_OPEN, NULL, NULL, instrument, 0, 0, 0);
}

/* Closing drops whatever is in flight both ways; the records stay. */
static void op_close(void *self)
{
    cq_sim_t *s = self;
    if (!s || s->closed)
        return;
    s->closed = 1;
    while (s->nheap) {
        hent_t e = heap_pop(s);
        slot_free(s, e.slot);
    }
}

static const cq_venue_ops_t SIM_OPS = {
    .name = "SIM",
    .submit = op_submit,
    .cancel = op_cancel,
    .modify = op_modify,
    .query_order = op_query_order,
    .query_open_orders = op_query_open,
    .close = op_close,
};

/* ---- life cycle and inspection ------------------------------------------- */

int cq_sim_create(cq_sim_t **out, const cq_sim_config_t *cfg, const cq_cache_t *cache)
{
    if (out)
        *out = NULL;
    if (!out || !cfg || !cache || !cfg->report || cfg->order_latency_ns < 0 ||
        cfg->report_latency_ns < 0 || !isfinite(cfg->maker_fee_bps) || !isfinite(cfg->taker_fee_bps) ||
        !faults_ok(&cfg->faults) || cfg->initial_orders > (1u << 24))
        return CQ_EINVAL;
    cq_sim_t *s = calloc(1, sizeof *s);
    if (!s)
        return CQ_ENOMEM;
    s->cfg = *cfg;
    s->cache = cache;
    s->free_slot = NONE;
    uint64_t z = cfg->seed + 0x9E3779B97F4A7C15ULL; /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    s->rng = (z ^ (z >> 31)) | 1;
    /* The records of the first orders, written once now so that their
     * pages are resident: a page fault costs microseconds on a virtual
     * machine, and orders arriving one by one would pay one every 14. */
    size_t initial = cfg->initial_orders ? cfg->initial_orders : 1024;
    if (reserve_orders(s, initial) < 0) {
        cq_sim_destroy(s);
        return CQ_ENOMEM;
    }
    memset(s->orders, 0, s->cap_orders * sizeof *s->orders);
    memset(s->ords, 0, s->cap_orders * sizeof *s->ords);
    memset(s->index, 0, s->index_cap * sizeof *s->index);
    *out = s;
    return 0;
}

void cq_sim_destroy(cq_sim_t *s)
{
    if (!s)
        return;
    for (size_t h = 0; h < s->ninst; h++) {
        free(s->inst[h].resting.v);
        free(s->inst[h].stops.v);
        free(s->inst[h].taken);
    }
    free(s->inst);
    free(s->heap);
    for (size_t c = 0; c < s->nchunks; c++)
        free(s->chunk[c]);
    free(s->chunk);
    free(s->orders);
    free(s->ords);
    free(s->index);
    free(s->fills);
    free(s->lv);
    free(s->cand);
    free(s);
}

int cq_sim_venue(cq_sim_t *s, cq_venue_t *out)
{
    if (!s || !out)
        return CQ_EINVAL;
    out->ops = &SIM_OPS;
    out->self = s;
    return 0;
}

int cq_sim_set_faults(cq_sim_t *s, const cq_sim_faults_t *f)
{
    if (!s || !f || !faults_ok(f))
        return CQ_EINVAL;
    s->cfg.faults = *f;
    return 0;
}

int64_t cq_sim_now(const cq_sim_t *s)
{
    return s ? s->now : 0;
}

int cq_sim_next_due(const cq_sim_t *s, int64_t *due)
{
    if (!s || !due)
        return CQ_EINVAL;
    if (!s->nheap)
        return CQ_ENOENT;
    *due = s->heap[0].due;
    return 0;
}

const cq_order_t *cq_sim_orders(const cq_sim_t *s, size_t *count)
{
    if (count)
        *count = s ? s->norders : 0;
    return s ? s->orders : NULL;
}

const cq_fill_t *cq_sim_fills(const cq_sim_t *s, size_t *count)
{
    if (count)
        *count = s ? s->nfills : 0;
    return s ? s->fills : NULL;
}

const cq_order_t *cq_sim_order(const cq_sim_t *s, const char *id)
{
    if (!s || !id)
        return NULL;
    uint32_t i = find_order(s, id);
    return i == NONE ? NULL : &s->orders[i];
}

int cq_sim_queue_ahead(const cq_sim_t *s, const char *id, double *qty)
{
    if (!s || !id || !qty)
        return CQ_EINVAL;
    uint32_t i = find_order(s, id);
    if (i == NONE)
        return CQ_ENOENT;
    if (s->ords[i].where != W_RESTING)
        return CQ_ESTATE;
    const cq_instrument_t *sp = spec_of(s, i);
    *qty = sp ? size_of(sp, s->ords[i].ahead) : 0;
    return 0;
}

int cq_sim_stats(const cq_sim_t *s, cq_sim_stats_t *out)
{
    if (!s || !out)
        return CQ_EINVAL;
    *out = s->st;
    return 0;
}
