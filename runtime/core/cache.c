#define _DEFAULT_SOURCE 1 /* MADV_HUGEPAGE */
/*
 * cache.c - the runtime's state: instruments, strategies, orders, positions,
 * balances, latest quote and trade per instrument.
 *
 * It owns every record it hands out. Records live in chunked storage (a
 * "stash": fixed-size chunks that are never moved or freed before
 * cq_cache_destroy), so a pointer handed out stays valid: for orders until
 * cq_cache_order_remove, for everything else for the life of the cache.
 * Orders are wrapped in an order_slot_t whose first member is the public
 * cq_order_t; the wrapper holds the intrusive list links, the insertion
 * sequence number and the cache's own copy of what the indexes were built
 * from (set membership, instrument, strategy; the keys live in the tables
 * and in private key arrays), so a stray write into a handed-out order can
 * corrupt neither an index nor a list.
 *
 * Indexes: client and venue order ids in open-addressing tables (linear
 * probing, backward-shift deletion; an entry holds the key's tag - hash and
 * length - compared first, then its first 24 bytes, so most lookups touch
 * one cache line). Open, closed and in-flight sets and the per-strategy and
 * per-instrument order lists are intrusive doubly linked lists: O(1) insert
 * and remove. Positions: open addressing on the 64-bit (instrument,
 * strategy) key. Balances: the same table as order ids, on venue + asset.
 *
 * It must never: judge order state transitions (the model's state machine
 * does), allocate when adding an order while the pool and tables have room,
 * or crash on bad input (NULL, unknown handles, foreign or removed pointers).
 */
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/cache.h"
#include "cquant/error.h"
#include "cquant/intern.h"

#define ORDER_CHUNK_SHIFT 10  /* 1024 orders (~330 KB) per chunk */
#define POS_CHUNK_SHIFT 8
#define BAL_CHUNK_SHIFT 6
#define REC_CHUNK_SHIFT 6
#define ORDERS_DEFAULT 4096u
#define ORDERS_MAX (1u << 24)
#define KEY_FIELD 40          /* size of client_order_id / venue_order_id */
#define INSTRUMENT_ID_MAX ((int)sizeof(((cq_instrument_t *)0)->id) - 1)
#define BAL_FIELD 16          /* size of cq_balance_t venue / asset */

/* ---- stash: chunked storage with stable addresses ------------------------ */

typedef struct chunk_span {
    uintptr_t base;
    uint32_t chunk;
} chunk_span_t;

typedef struct stash {
    char **chunks;
    chunk_span_t *spans;   /* chunks sorted by address, to recognise pointers */
    uint32_t n;            /* elements handed out */
    uint32_t nchunks;
    uint32_t chunks_cap;
    uint32_t shift;
    size_t size;
    /* The first chunks may be carved from one block reserved up front
     * (stash_reserve_block): a pointer inside it is recognised by one
     * subtraction instead of a search. */
    char *block;
    size_t block_bytes;
} stash_t;

/* Zeroed memory that is resident when this returns: it is written here,
 * so the page faults are paid now, at creation, and never by a later
 * insert (a fault costs microseconds on a virtual machine; one per 12
 * orders was a third of the submit path). Blocks of 2 MiB and more are
 * aligned to 2 MiB and offered to the kernel as transparent huge pages:
 * a lookup among 100k orders touches a random line of an 8 MiB table, and
 * with 4 KiB pages the TLB miss costs as much as the cache miss (measured
 * here: ~50-150 ns per lookup without, ~20-30 ns with). Where THP is off,
 * madvise is a no-op. Free with free(). */
static void *mem_alloc_touched(size_t bytes)
{
    void *p = NULL;
    if (bytes < ((size_t)2 << 20)) {
        p = malloc(bytes ? bytes : 1);
    } else if (posix_memalign(&p, (size_t)2 << 20, bytes) == 0) {
#ifdef MADV_HUGEPAGE
        madvise(p, bytes, MADV_HUGEPAGE);
#endif
    }
    if (p)
        memset(p, 0, bytes);
    return p;
}

static void stash_init(stash_t *s, size_t size, uint32_t shift)
{
    memset(s, 0, sizeof *s);
    s->size = size;
    s->shift = shift;
}

static inline int in_block(const stash_t *s, const void *p)
{
    return (uintptr_t)p - (uintptr_t)s->block < s->block_bytes;
}

static void stash_free(stash_t *s)
{
    for (uint32_t i = 0; i < s->nchunks; i++)
        if (!in_block(s, s->chunks[i]))
            free(s->chunks[i]);
    free(s->block);
    free(s->chunks);
    free(s->spans);
    memset(s, 0, sizeof *s);
}

static inline void *stash_at(const stash_t *s, uint32_t i)
{
    return s->chunks[i >> s->shift] + (size_t)(i & ((1u << s->shift) - 1)) * s->size;
}

/* Register chunk c (already allocated, zeroed) as the next one. */
static int stash_push_chunk(stash_t *s, char *c)
{
    if (s->nchunks == s->chunks_cap) {
        uint32_t ncap = s->chunks_cap ? s->chunks_cap * 2 : 8;
        char **nc = realloc(s->chunks, ncap * sizeof *nc);
        if (!nc)
            return CQ_ENOMEM;
        s->chunks = nc;
        chunk_span_t *ns = realloc(s->spans, ncap * sizeof *ns);
        if (!ns)
            return CQ_ENOMEM;
        s->spans = ns;
        s->chunks_cap = ncap;
    }
    uintptr_t base = (uintptr_t)c;
    uint32_t at = s->nchunks;
    while (at > 0 && s->spans[at - 1].base > base)
        at--;
    memmove(&s->spans[at + 1], &s->spans[at], (s->nchunks - at) * sizeof *s->spans);
    s->spans[at] = (chunk_span_t){base, s->nchunks};
    s->chunks[s->nchunks++] = c;
    return 0;
}

static int stash_add_chunk(stash_t *s)
{
    char *c = calloc((size_t)1 << s->shift, s->size);
    if (!c)
        return CQ_ENOMEM;
    int rc = stash_push_chunk(s, c);
    if (rc < 0)
        free(c);
    return rc;
}

/* Make room for `count` elements in total without handing any out. */
static int stash_reserve(stash_t *s, uint32_t count)
{
    while ((uint64_t)s->nchunks << s->shift < count) {
        int rc = stash_add_chunk(s);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* On an empty stash: room for `count` elements (whole chunks) in one
 * resident block (mem_alloc_touched). Later growth adds ordinary chunks. */
static int stash_reserve_block(stash_t *s, uint32_t count)
{
    uint32_t per = 1u << s->shift, nch = (count + per - 1) / per;
    size_t chunk_bytes = (size_t)per * s->size;
    if (s->nchunks || !nch)
        return stash_reserve(s, count);
    char *b = mem_alloc_touched(nch * chunk_bytes);
    if (!b)
        return CQ_ENOMEM;
    for (uint32_t i = 0; i < nch; i++) {
        int rc = stash_push_chunk(s, b + i * chunk_bytes);
        if (rc < 0) {
            s->nchunks = 0; /* the block's chunks are not separately freed */
            free(b);
            return rc;
        }
    }
    s->block = b;
    s->block_bytes = nch * chunk_bytes;
    return 0;
}

/* A zeroed element (fresh chunks come from calloc), or NULL. */
static void *stash_push(stash_t *s, uint32_t *index)
{
    if (s->n == UINT32_MAX || stash_reserve(s, s->n + 1) < 0)
        return NULL;
    if (index)
        *index = s->n;
    return stash_at(s, s->n++);
}

/* Index of the element p points at, or -1 if p is not the start of an
 * element of this stash. Binary search over chunk addresses: O(log chunks),
 * and it never reads through p, so any pointer is safe to ask about. */
static long stash_index_of(const stash_t *s, const void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (in_block(s, p)) { /* the block's chunks are its first, in order */
        uintptr_t off = a - (uintptr_t)s->block;
        return off % s->size ? -1 : (long)(off / s->size);
    }
    uint32_t lo = 0, hi = s->nchunks;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->spans[mid].base <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    const chunk_span_t *sp = &s->spans[lo - 1];
    uintptr_t off = a - sp->base;
    if (off >= ((uintptr_t)1 << s->shift) * s->size || off % s->size)
        return -1;
    return (long)(((uint64_t)sp->chunk << s->shift) + off / s->size);
}

/* ---- string keys ------------------------------------------------------------
 * A key (order id; venue + asset) is at most KEY_FIELD - 1 chars. It is
 * read once into five words, zero-padded past its end; the hash and every
 * compare then work a word at a time. The words are built with loads only
 * (overlapping ones for a partial last word, never past the caller's NUL):
 * copying into a buffer and reading it back as words stalls store
 * forwarding and cost more than the rest of a lookup. */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cache.c builds key words with little-endian loads"
#endif

#define KEY_WORDS (KEY_FIELD / 8)
#define PREFIX_WORDS 3          /* 24 bytes of the key kept in a table entry */
#define PREFIX_BYTES (PREFIX_WORDS * 8)

typedef uint64_t kwords_t[KEY_WORDS];

typedef struct qkey {
    kwords_t w;                 /* the key, zero-padded */
    size_t n;                   /* its length */
    uint32_t tag;               /* hash bits 31..6, length in bits 5..0 */
} qkey_t;

#define TAG_LEN_BITS 6
_Static_assert(KEY_FIELD <= 1 << TAG_LEN_BITS, "a key length must fit the tag");

static inline uint64_t load64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t load32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Bytes [off, off + 8) of s (length n) as a word, zero past n. */
static inline uint64_t key_word(const char *s, size_t n, size_t off)
{
    if (off + 8 <= n)
        return load64(s + off);
    if (off >= n)
        return 0;
    size_t k = n - off; /* 1..7 bytes left */
    if (n >= 8)
        return load64(s + n - 8) >> (8 * (8 - k));
    if (k >= 4)
        return load32(s) | (uint64_t)load32(s + k - 4) << (8 * (k - 4));
    const unsigned char *u = (const unsigned char *)s;
    return u[0] | (uint64_t)u[k / 2] << (8 * (k / 2)) | (uint64_t)u[k - 1] << (8 * (k - 1));
}

#define MM 0xc6a4a7935bd1e995ull

static inline uint64_t mix_word(uint64_t h, uint64_t k)
{
    k *= MM;
    k ^= k >> 47;
    k *= MM;
    return (h ^ k) * MM;
}

/* tests/test_cache_collisions.c compiles this file with CQ_CACHE_TEST_COLLIDE
 * so that all keys of one length share a tag: the only way to test that the
 * compare after the tag (prefix, tail, length) tells keys apart. */
#ifdef CQ_CACHE_TEST_COLLIDE
#define TAG_HASH_BITS 0u
#else
#define TAG_HASH_BITS (~((1u << TAG_LEN_BITS) - 1))
#endif

/* MurmurHash64A-style over the words, seeded with the length. No final
 * avalanche: the table takes its position from the top bits, which the last
 * multiply has already mixed, and the lookup's critical path is this chain. */
static inline uint32_t words_tag(const uint64_t *w, size_t n)
{
    uint64_t h = 0x51af9c2d3e8b7f61ull ^ ((uint64_t)n * MM);
    for (size_t i = 0; i < (n + 7) / 8; i++)
        h = mix_word(h, w[i]);
    return ((uint32_t)(h >> 32) & TAG_HASH_BITS) | (uint32_t)n;
}

/* Load s as a key of at most `max` chars (max < KEY_FIELD): CQ_EINVAL if
 * empty, CQ_ETOOLONG if longer. Reads at most max + 1 bytes of s. */
static inline int qkey_make(qkey_t *q, const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n == 0)
        return CQ_EINVAL;
    if (n > max)
        return CQ_ETOOLONG;
    _Static_assert(KEY_WORDS == 5, "qkey_make zeroes five words");
    q->w[0] = q->w[1] = q->w[2] = q->w[3] = q->w[4] = 0;
    if (n >= 8) { /* whole words, then the tail as one overlapping load */
        size_t i = 0;
        for (; i < n / 8; i++)
            q->w[i] = load64(s + 8 * i);
        if (n % 8)
            q->w[i] = load64(s + n - 8) >> (8 * (8 - n % 8));
    } else {
        q->w[0] = key_word(s, n, 0);
    }
    q->n = n;
    q->tag = words_tag(q->w, n);
    return 0;
}

/* ---- hash table of (tag, ref, key prefix) ------------------------------------
 * ref is an element index + 1 (0 = empty slot). An entry is 32 bytes, two
 * per cache line, and carries the key's tag (hash and length) and its first
 * 24 bytes: an id of up to 24 chars is matched in the table line alone,
 * without touching any other memory, so a lookup among 100k orders costs
 * one cache miss, not two. Longer keys finish the compare in a dense
 * array of full keys. The position is the tag's top bits. Linear probing
 * with the load factor at most 1/2; deletion shifts the following run back,
 * so there are no tombstones and churn never degrades lookups. */

typedef struct hent {
    uint32_t tag;
    uint32_t ref;
    uint64_t pre[PREFIX_WORDS];
} hent_t;

typedef struct htab {
    hent_t *e;
    uint32_t mask;
    uint32_t shift;        /* 32 - log2(size) */
    uint32_t count;
} htab_t;

/* Tables never exceed 2^(32 - TAG_LEN_BITS) entries: the position must come
 * from hash bits only. ORDERS_MAX keeps them far below. */
#define HTAB_MAX_BITS (32 - TAG_LEN_BITS)

static inline uint32_t htab_home(const htab_t *t, uint32_t tag)
{
    return tag >> t->shift;
}

static int htab_init(htab_t *t, uint32_t expected)
{
    uint32_t bits = 4;
    while (((uint64_t)1 << bits) < (uint64_t)expected * 2)
        bits++;
    t->e = mem_alloc_touched(((size_t)1 << bits) * sizeof *t->e);
    if (!t->e)
        return CQ_ENOMEM;
    t->mask = (1u << bits) - 1;
    t->shift = 32 - bits;
    t->count = 0;
    return 0;
}

static void htab_put(htab_t *t, const hent_t *x)
{
    uint32_t i = htab_home(t, x->tag);
    while (t->e[i].ref)
        i = (i + 1) & t->mask;
    t->e[i] = *x;
}

/* Room for one more entry; the only place a table allocates. */
static int htab_reserve1(htab_t *t)
{
    if ((uint64_t)(t->count + 1) * 2 <= (uint64_t)t->mask + 1)
        return 0;
    if (t->shift <= 32 - HTAB_MAX_BITS)
        return CQ_EFULL;
    htab_t n = {mem_alloc_touched(((size_t)t->mask * 2 + 2) * sizeof *t->e), t->mask * 2 + 1, t->shift - 1, t->count};
    if (!n.e)
        return CQ_ENOMEM;
    for (uint32_t i = 0; i <= t->mask; i++)
        if (t->e[i].ref)
            htab_put(&n, &t->e[i]);
    free(t->e);
    *t = n;
    return 0;
}

static void htab_insert(htab_t *t, const qkey_t *q, uint32_t ref)
{
    hent_t x = {q->tag, ref, {q->w[0], q->w[1], q->w[2]}};
    htab_put(t, &x);
    t->count++;
}

/* Remove the entry for ref: found by its tag and ref, never by reading the
 * key, so it works even if the key's memory was overwritten. */
static void htab_erase(htab_t *t, uint32_t tag, uint32_t ref)
{
    uint32_t mask = t->mask, i = htab_home(t, tag);
    while (t->e[i].ref != ref) {
        if (!t->e[i].ref)
            return; /* not indexed: nothing to do */
        i = (i + 1) & mask;
    }
    for (uint32_t j = i;;) {
        j = (j + 1) & mask;
        if (!t->e[j].ref)
            break;
        uint32_t home = htab_home(t, t->e[j].tag);
        /* e[j] may fill the hole at i unless its home lies in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            t->e[i] = t->e[j];
            i = j;
        }
    }
    memset(&t->e[i], 0, sizeof t->e[i]);
    t->count--;
}

/* Ref of the entry whose key is q, or 0 with *hole the empty slot where q
 * would go (valid until the table changes). `full` holds every key by
 * ref - 1 and is read only for keys longer than the prefix. */
static inline uint32_t htab_find_hole(const htab_t *t, const kwords_t *full, const qkey_t *q, uint32_t *hole)
{
    for (uint32_t i = htab_home(t, q->tag);; i = (i + 1) & t->mask) {
        const hent_t *e = &t->e[i];
        if (!e->ref) {
            *hole = i;
            return 0;
        }
        if (e->tag == q->tag && ((e->pre[0] ^ q->w[0]) | (e->pre[1] ^ q->w[1]) | (e->pre[2] ^ q->w[2])) == 0 &&
            (q->n <= PREFIX_BYTES ||
             ((full[e->ref - 1][3] ^ q->w[3]) | (full[e->ref - 1][4] ^ q->w[4])) == 0))
            return e->ref;
    }
}

static inline uint32_t htab_find(const htab_t *t, const kwords_t *full, const qkey_t *q)
{
    uint32_t hole;
    return htab_find_hole(t, full, q, &hole);
}

/* Insert at the hole htab_find_hole gave (one probe for the duplicate
 * check and the insert). */
static inline void htab_insert_at(htab_t *t, uint32_t hole, const qkey_t *q, uint32_t ref)
{
    t->e[hole] = (hent_t){q->tag, ref, {q->w[0], q->w[1], q->w[2]}};
    t->count++;
}

/* ---- orders ------------------------------------------------------------------ */

enum { L_ALL, L_STATE, L_FLIGHT, L_STRAT, L_INST, L_COUNT_ };

enum {
    F_LIVE = 1,
    F_OPEN = 2,
    F_CLOSED = 4,
    F_INFLIGHT = 8,
    F_VENUE_ID = 16  /* indexed by venue order id */
};

typedef struct order_slot order_slot_t;

typedef struct olink {
    order_slot_t *prev, *next;
} olink_t;

typedef struct olist {
    order_slot_t *head, *tail;
    uint32_t count;
} olist_t;

struct order_slot {
    cq_order_t o;          /* first: the pointer handed out is the slot */
    olink_t lk[L_COUNT_];  /* L_STATE links the open or the closed list */
    uint64_t seq;          /* insertion order */
    uint32_t cid_tag;
    uint32_t vid_tag;
    uint32_t ref;          /* stash index + 1 */
    uint32_t instrument;   /* copies: what the lists were built from */
    uint32_t strategy;
    uint32_t flags;        /* F_* */
};

_Static_assert(offsetof(order_slot_t, o) == 0, "the order must be the slot's first member");

static void olist_push(olist_t *l, order_slot_t *s, int k)
{
    s->lk[k].prev = l->tail;
    s->lk[k].next = NULL;
    if (l->tail)
        l->tail->lk[k].next = s;
    else
        l->head = s;
    l->tail = s;
    l->count++;
}

static void olist_unlink(olist_t *l, order_slot_t *s, int k)
{
    if (s->lk[k].prev)
        s->lk[k].prev->lk[k].next = s->lk[k].next;
    else
        l->head = s->lk[k].next;
    if (s->lk[k].next)
        s->lk[k].next->lk[k].prev = s->lk[k].prev;
    else
        l->tail = s->lk[k].prev;
    s->lk[k].prev = s->lk[k].next = NULL;
    l->count--;
}

/* ---- per-handle records -------------------------------------------------------- */

typedef struct inst_rec {
    cq_instrument_t spec;
    cq_quote_t quote;
    cq_trade_t trade;
    olist_t orders;
    uint8_t has_spec, has_quote, has_trade;
} inst_rec_t;

typedef struct strat_rec {
    olist_t orders;
    uint32_t pos_head, pos_tail;  /* position refs (index + 1), creation order */
} strat_rec_t;

typedef struct pos_slot {
    cq_position_t p;       /* first: the pointer handed out is the slot */
    uint32_t next_in_strategy; /* ref, 0 = end */
} pos_slot_t;

typedef struct pent {
    uint64_t key;          /* instrument << 32 | strategy; 0 = empty */
    pos_slot_t *slot;
} pent_t;

struct cq_cache {
    stash_t orders;        /* order_slot_t */
    order_slot_t *free;    /* removed slots, linked through lk[L_ALL].next */
    uint64_t next_seq;
    htab_t by_client_id;
    htab_t by_venue_id;
    /* The full keys, by stash index, read only to finish comparing keys
     * longer than a table entry's 24-byte prefix; dense (4 MB for 100k
     * orders) rather than in the 330-byte slot, and private, so writes into
     * a handed-out order cannot corrupt an index. Reallocated (moved) only
     * when the pool grows. */
    kwords_t *cid_keys;
    kwords_t *vid_keys;
    uint32_t keys_cap;
    olist_t all, open, closed, inflight;

    cq_intern_t *inst_names;
    cq_intern_t *strat_names;
    stash_t insts;         /* inst_rec_t, indexed by handle (0 unused) */
    stash_t strats;        /* strat_rec_t, indexed by handle (0 unused) */

    stash_t positions;     /* pos_slot_t, creation order */
    pent_t *pos_tab;
    uint32_t pos_mask;
    uint32_t pos_shift;    /* 64 - log2(table size) */

    stash_t balances;      /* cq_balance_t, creation order */
    htab_t by_balance;
    kwords_t *bal_keys;
    uint32_t bal_keys_cap;

    /* Handles issued so far (cq_intern_count, kept here: it is asked on
     * every lookup by handle), and the set flags of each status. */
    uint32_t ninst, nstrat;
    uint32_t status_flags[CQ_OS_COUNT_];
};

/* stash_at with the geometry known at compile time (the hot lookups). */
#define STASH_AT(st, i, shift, type) \
    ((type *)((st)->chunks[(i) >> (shift)] + (size_t)((i) & ((1u << (shift)) - 1)) * sizeof(type)))

static inline order_slot_t *order_at(const cq_cache_t *c, uint32_t ref)
{
    return STASH_AT(&c->orders, ref - 1, ORDER_CHUNK_SHIFT, order_slot_t);
}

/* Key arrays for every slot the pool has room for. */
static int keys_reserve(cq_cache_t *c)
{
    uint32_t need = c->orders.nchunks << ORDER_CHUNK_SHIFT;
    if (need <= c->keys_cap)
        return 0;
    kwords_t *nc = realloc(c->cid_keys, (size_t)need * sizeof *nc);
    if (!nc)
        return CQ_ENOMEM;
    c->cid_keys = nc;
    kwords_t *nv = realloc(c->vid_keys, (size_t)need * sizeof *nv);
    if (!nv)
        return CQ_ENOMEM;
    c->vid_keys = nv;
    /* Written now so that inserts never fault (see mem_alloc_touched). */
    memset(nc + c->keys_cap, 0, (size_t)(need - c->keys_cap) * sizeof *nc);
    memset(nv + c->keys_cap, 0, (size_t)(need - c->keys_cap) * sizeof *nv);
    c->keys_cap = need;
    return 0;
}

static inline inst_rec_t *inst_at(const cq_cache_t *c, uint32_t h)
{
    return STASH_AT(&c->insts, h, REC_CHUNK_SHIFT, inst_rec_t);
}

static inline strat_rec_t *strat_at(const cq_cache_t *c, uint32_t h)
{
    return STASH_AT(&c->strats, h, REC_CHUNK_SHIFT, strat_rec_t);
}

static inline int inst_known(const cq_cache_t *c, uint32_t h)
{
    return h != 0 && h <= c->ninst;
}

static inline int strat_known(const cq_cache_t *c, uint32_t h)
{
    return h != 0 && h <= c->nstrat;
}

/* 0 for "none", else CQ_ENOENT for a handle never issued. */
static int check_handle_or_none(uint32_t h, int known)
{
    return h == 0 || known ? 0 : CQ_ENOENT;
}

static uint32_t compute_set_flags(int32_t status);

int cq_cache_create(cq_cache_t **out, const cq_cache_config_t *cfg)
{
    if (!out)
        return CQ_EINVAL;
    *out = NULL;
    uint32_t initial = cfg && cfg->initial_orders ? cfg->initial_orders : ORDERS_DEFAULT;
    if (initial > ORDERS_MAX)
        return CQ_EINVAL;
    cq_cache_t *c = calloc(1, sizeof *c);
    if (!c)
        return CQ_ENOMEM;
    stash_init(&c->orders, sizeof(order_slot_t), ORDER_CHUNK_SHIFT);
    stash_init(&c->insts, sizeof(inst_rec_t), REC_CHUNK_SHIFT);
    stash_init(&c->strats, sizeof(strat_rec_t), REC_CHUNK_SHIFT);
    stash_init(&c->positions, sizeof(pos_slot_t), POS_CHUNK_SHIFT);
    stash_init(&c->balances, sizeof(cq_balance_t), BAL_CHUNK_SHIFT);
    c->next_seq = 1;
    for (int32_t st = 0; st < CQ_OS_COUNT_; st++)
        c->status_flags[st] = compute_set_flags(st);
    c->pos_mask = 63;
    c->pos_shift = 64 - 6;
    int rc = CQ_ENOMEM;
    if (stash_reserve_block(&c->orders, initial) < 0 || keys_reserve(c) < 0 || htab_init(&c->by_client_id, initial) < 0 ||
        htab_init(&c->by_venue_id, initial) < 0 || htab_init(&c->by_balance, 16) < 0 ||
        !(c->pos_tab = calloc(c->pos_mask + 1, sizeof *c->pos_tab)) ||
        cq_intern_create(&c->inst_names) < 0 || cq_intern_create(&c->strat_names) < 0 ||
        !stash_push(&c->insts, NULL) || !stash_push(&c->strats, NULL)) /* handle 0 */
        goto fail;
    *out = c;
    return 0;
fail:
    cq_cache_destroy(c);
    return rc;
}

void cq_cache_destroy(cq_cache_t *c)
{
    if (!c)
        return;
    stash_free(&c->orders);
    stash_free(&c->insts);
    stash_free(&c->strats);
    stash_free(&c->positions);
    stash_free(&c->balances);
    free(c->cid_keys);
    free(c->bal_keys);
    free(c->vid_keys);
    free(c->by_client_id.e);
    free(c->by_venue_id.e);
    free(c->by_balance.e);
    free(c->pos_tab);
    cq_intern_destroy(c->inst_names);
    cq_intern_destroy(c->strat_names);
    free(c);
}

/* ---- instruments and strategies -------------------------------------------- */

/* "SYMBOL.VENUE": exactly one dot with something on each side. */
static int check_instrument_id(const char *id)
{
    if (!id || !*id)
        return CQ_EINVAL;
    size_t n = strnlen(id, (size_t)INSTRUMENT_ID_MAX + 1);
    if (n > (size_t)INSTRUMENT_ID_MAX)
        return CQ_ETOOLONG;
    const char *dot = memchr(id, '.', n);
    if (!dot || dot == id || dot == id + n - 1 || memchr(dot + 1, '.', n - (size_t)(dot - id) - 1))
        return CQ_EINVAL;
    return 0;
}

/* Intern into names, making sure a record (zeroed) exists for the handle
 * first, so every issued handle has one even if an allocation fails. */
static int intern_with_record(cq_intern_t *names, stash_t *recs, const char *name, uint32_t *handle,
                              uint32_t *count)
{
    uint32_t next = cq_intern_count(names) + 1;
    if (next == 0 || stash_reserve(recs, next + 1) < 0)
        return CQ_ENOMEM;
    while (recs->n <= next)
        stash_push(recs, NULL); /* cannot fail: reserved */
    int rc = cq_intern_get(names, name, handle);
    *count = cq_intern_count(names);
    return rc;
}

int cq_cache_instrument_intern(cq_cache_t *c, const char *id, uint32_t *handle)
{
    int rc;
    if (!c)
        return CQ_EINVAL;
    if ((rc = check_instrument_id(id)) < 0)
        return rc;
    return intern_with_record(c->inst_names, &c->insts, id, handle, &c->ninst);
}

int cq_cache_instrument_add(cq_cache_t *c, const cq_instrument_t *spec, uint32_t *handle)
{
    int rc;
    uint32_t h;
    if (!c || !spec)
        return CQ_EINVAL;
    if (!memchr(spec->id, '\0', sizeof spec->id))
        return CQ_ETOOLONG;
    if ((rc = cq_cache_instrument_intern(c, spec->id, &h)) < 0)
        return rc;
    inst_rec_t *r = inst_at(c, h);
    r->spec = *spec;
    size_t n = strlen(spec->id);
    memset(r->spec.id + n, 0, sizeof r->spec.id - n);
    r->spec.hdr.type = CQ_EV_INSTRUMENT;
    r->spec.hdr.instrument = h;
    r->has_spec = 1;
    if (handle)
        *handle = h;
    return 0;
}

int cq_cache_instrument_find(const cq_cache_t *c, const char *id, uint32_t *handle)
{
    if (!c || !id || !*id)
        return CQ_EINVAL;
    if (strnlen(id, (size_t)INSTRUMENT_ID_MAX + 1) > (size_t)INSTRUMENT_ID_MAX)
        return CQ_ETOOLONG;
    return cq_intern_find(c->inst_names, id, handle);
}

const cq_instrument_t *cq_cache_instrument(const cq_cache_t *c, uint32_t handle)
{
    if (!c || !inst_known(c, handle))
        return NULL;
    const inst_rec_t *r = inst_at(c, handle);
    return r->has_spec ? &r->spec : NULL;
}

const char *cq_cache_instrument_name(const cq_cache_t *c, uint32_t handle)
{
    return c ? cq_intern_name(c->inst_names, handle) : NULL;
}

uint32_t cq_cache_instrument_count(const cq_cache_t *c)
{
    return c ? cq_intern_count(c->inst_names) : 0;
}

int cq_cache_strategy_intern(cq_cache_t *c, const char *name, uint32_t *handle)
{
    if (!c || !name || !*name)
        return CQ_EINVAL;
    if (strnlen(name, CQ_INTERN_MAX_LEN + 1) > CQ_INTERN_MAX_LEN)
        return CQ_ETOOLONG;
    return intern_with_record(c->strat_names, &c->strats, name, handle, &c->nstrat);
}

int cq_cache_strategy_find(const cq_cache_t *c, const char *name, uint32_t *handle)
{
    return c ? cq_intern_find(c->strat_names, name, handle) : CQ_EINVAL;
}

const char *cq_cache_strategy_name(const cq_cache_t *c, uint32_t handle)
{
    return c ? cq_intern_name(c->strat_names, handle) : NULL;
}

/* ---- orders ---------------------------------------------------------------------- */

/* The slot of a live order of this cache, or NULL (with *err set) for a
 * pointer from elsewhere (CQ_EINVAL) or a removed order (CQ_ENOENT). */
static order_slot_t *slot_of(const cq_cache_t *c, const cq_order_t *o, int *err)
{
    long i;
    uintptr_t off = (uintptr_t)o - (uintptr_t)c->orders.block;
    if (off < c->orders.block_bytes) /* the common case, with a constant divisor */
        i = off % sizeof(order_slot_t) ? -1 : (long)(off / sizeof(order_slot_t));
    else
        i = o ? stash_index_of(&c->orders, o) : -1;
    if (i < 0 || (uint32_t)i >= c->orders.n) {
        *err = CQ_EINVAL;
        return NULL;
    }
    order_slot_t *s = (order_slot_t *)stash_at(&c->orders, (uint32_t)i);
    if (!(s->flags & F_LIVE)) {
        *err = CQ_ENOENT;
        return NULL;
    }
    return s;
}

static inline order_slot_t *find_order(const cq_cache_t *c, const htab_t *t, const kwords_t *keys,
                                const qkey_t *q)
{
    uint32_t ref = htab_find(t, keys, q);
    return ref ? order_at(c, ref) : NULL;
}

#define VENUE_ID_MAX (KEY_FIELD - 1)

static uint32_t compute_set_flags(int32_t status)
{
    return (cq_order_status_is_open(status) ? F_OPEN : 0) |
           (cq_order_status_is_closed(status) ? F_CLOSED : 0) |
           (cq_order_status_is_inflight(status) ? F_INFLIGHT : 0);
}

/* status must be valid (status_valid). */
static inline uint32_t set_flags(const cq_cache_t *c, int32_t status)
{
    return c->status_flags[status];
}

static int status_valid(int32_t status)
{
    return status >= CQ_OS_INITIALIZED && status < CQ_OS_COUNT_;
}

/* Join the sets of `flags` that s is not in yet and leave the others: a
 * set is entered at its tail (cq_cache_orders restores insertion order). */
static void move_sets(cq_cache_t *c, order_slot_t *s, uint32_t flags)
{
    uint32_t old = s->flags;
    if ((old ^ flags) & (F_OPEN | F_CLOSED)) {
        if (old & F_OPEN)
            olist_unlink(&c->open, s, L_STATE);
        else if (old & F_CLOSED)
            olist_unlink(&c->closed, s, L_STATE);
        if (flags & F_OPEN)
            olist_push(&c->open, s, L_STATE);
        else if (flags & F_CLOSED)
            olist_push(&c->closed, s, L_STATE);
    }
    if ((old ^ flags) & F_INFLIGHT) {
        if (old & F_INFLIGHT)
            olist_unlink(&c->inflight, s, L_FLIGHT);
        else
            olist_push(&c->inflight, s, L_FLIGHT);
    }
    s->flags = (old & ~(uint32_t)(F_OPEN | F_CLOSED | F_INFLIGHT)) | flags;
}

int cq_cache_order_add(cq_cache_t *c, const cq_order_t *init, cq_order_t **out)
{
    qkey_t cid, vid = {{0}, 0, 0};
    int rc;
    if (out)
        *out = NULL;
    if (!c || !init)
        return CQ_EINVAL;
    if ((rc = qkey_make(&cid, init->client_order_id, CQ_ORDER_ID_MAX)) < 0 ||
        (init->venue_order_id[0] && (rc = qkey_make(&vid, init->venue_order_id, VENUE_ID_MAX)) < 0))
        return rc;
    if (!status_valid(init->status))
        return CQ_EINVAL;
    uint32_t inst = init->hdr.instrument, strat = init->hdr.strategy;
    if ((rc = check_handle_or_none(inst, inst_known(c, inst))) < 0 ||
        (rc = check_handle_or_none(strat, strat_known(c, strat))) < 0)
        return rc;
    /* Room first (a table may grow), then one probe each finds a duplicate
     * or the hole the key goes into. */
    if ((rc = htab_reserve1(&c->by_client_id)) < 0 || (vid.n && (rc = htab_reserve1(&c->by_venue_id)) < 0))
        return rc;
    uint32_t cid_hole, vid_hole = 0;
    if (htab_find_hole(&c->by_client_id, c->cid_keys, &cid, &cid_hole) ||
        (vid.n && htab_find_hole(&c->by_venue_id, c->vid_keys, &vid, &vid_hole)))
        return CQ_EEXIST;

    order_slot_t *s = c->free;
    uint32_t index;
    if (s) {
        c->free = s->lk[L_ALL].next;
    } else {
        if (stash_reserve(&c->orders, c->orders.n + 1) < 0 || keys_reserve(c) < 0 ||
            !(s = stash_push(&c->orders, &index)))
            return CQ_ENOMEM;
        s->ref = index + 1;
    }
    uint32_t ref = s->ref;
    memset(s, 0, sizeof *s);
    s->ref = ref;
    s->o = *init;
    /* On a little-endian machine the words are the zero-padded bytes. */
    memcpy(s->o.client_order_id, cid.w, KEY_FIELD);
    memcpy(s->o.venue_order_id, vid.w, KEY_FIELD);
    memcpy(c->cid_keys[ref - 1], cid.w, sizeof cid.w);
    memcpy(c->vid_keys[ref - 1], vid.w, sizeof vid.w);
    s->o.hdr.type = CQ_EV_ORDER;
    s->seq = c->next_seq++;
    s->cid_tag = cid.tag;
    s->vid_tag = vid.tag;
    s->instrument = inst;
    s->strategy = strat;
    s->flags = F_LIVE;

    htab_insert_at(&c->by_client_id, cid_hole, &cid, ref);
    if (vid.n) {
        htab_insert_at(&c->by_venue_id, vid_hole, &vid, ref);
        s->flags |= F_VENUE_ID;
    }
    olist_push(&c->all, s, L_ALL);
    if (strat)
        olist_push(&strat_at(c, strat)->orders, s, L_STRAT);
    if (inst)
        olist_push(&inst_at(c, inst)->orders, s, L_INST);
    move_sets(c, s, set_flags(c, init->status));
    if (out)
        *out = &s->o;
    return 0;
}

int cq_cache_order_set_status(cq_cache_t *c, cq_order_t *order, int32_t status)
{
    int err;
    if (!c || !order)
        return CQ_EINVAL;
    order_slot_t *s = slot_of(c, order, &err);
    if (!s)
        return err;
    if (!status_valid(status))
        return CQ_EINVAL;
    move_sets(c, s, set_flags(c, status));
    s->o.status = status;
    return 0;
}

int cq_cache_order_set_venue_id(cq_cache_t *c, cq_order_t *order, const char *venue_id)
{
    qkey_t vid = {{0}, 0, 0};
    int rc;
    if (!c || !order || !venue_id)
        return CQ_EINVAL;
    order_slot_t *s = slot_of(c, order, &rc);
    if (!s)
        return rc;
    uint32_t hole = 0;
    if (venue_id[0]) {
        if ((rc = qkey_make(&vid, venue_id, VENUE_ID_MAX)) < 0)
            return rc;
        if (!(s->flags & F_VENUE_ID) && (rc = htab_reserve1(&c->by_venue_id)) < 0)
            return rc;
        uint32_t other = htab_find_hole(&c->by_venue_id, c->vid_keys, &vid, &hole);
        if (other == s->ref)
            return 0;
        if (other)
            return CQ_EEXIST;
    }
    int moved = 0;
    if (s->flags & F_VENUE_ID) { /* a change: the erase may move the hole */
        htab_erase(&c->by_venue_id, s->vid_tag, s->ref);
        s->flags &= ~(uint32_t)F_VENUE_ID;
        moved = 1;
    }
    memcpy(s->o.venue_order_id, vid.w, KEY_FIELD);
    memcpy(c->vid_keys[s->ref - 1], vid.w, sizeof vid.w);
    s->vid_tag = vid.tag;
    if (vid.n) {
        if (moved)
            htab_insert(&c->by_venue_id, &vid, s->ref);
        else
            htab_insert_at(&c->by_venue_id, hole, &vid, s->ref);
        s->flags |= F_VENUE_ID;
    }
    return 0;
}

int cq_cache_order_remove(cq_cache_t *c, cq_order_t *order)
{
    int err;
    if (!c || !order)
        return CQ_EINVAL;
    order_slot_t *s = slot_of(c, order, &err);
    if (!s)
        return err;
    htab_erase(&c->by_client_id, s->cid_tag, s->ref);
    if (s->flags & F_VENUE_ID)
        htab_erase(&c->by_venue_id, s->vid_tag, s->ref);
    move_sets(c, s, 0);
    if (s->strategy)
        olist_unlink(&strat_at(c, s->strategy)->orders, s, L_STRAT);
    if (s->instrument)
        olist_unlink(&inst_at(c, s->instrument)->orders, s, L_INST);
    olist_unlink(&c->all, s, L_ALL);
    uint32_t ref = s->ref;
    memset(s, 0, sizeof *s); /* a stale pointer reads status 0, ids "" */
    s->ref = ref;
    s->lk[L_ALL].next = c->free;
    c->free = s;
    return 0;
}

void cq_cache_order_prefetch(const cq_cache_t *c, const char *client_order_id)
{
    qkey_t q;
    if (!c || !client_order_id || qkey_make(&q, client_order_id, CQ_ORDER_ID_MAX) < 0)
        return;
    __builtin_prefetch(&c->by_client_id.e[htab_home(&c->by_client_id, q.tag)], 1);
}

cq_order_t *cq_cache_order(const cq_cache_t *c, const char *client_order_id)
{
    qkey_t q;
    if (!c || !client_order_id || qkey_make(&q, client_order_id, CQ_ORDER_ID_MAX) < 0)
        return NULL;
    order_slot_t *s = find_order(c, &c->by_client_id, c->cid_keys, &q);
    return s ? &s->o : NULL;
}

cq_order_t *cq_cache_order_by_venue_id(const cq_cache_t *c, const char *venue_order_id)
{
    qkey_t q;
    if (!c || !venue_order_id || qkey_make(&q, venue_order_id, VENUE_ID_MAX) < 0)
        return NULL;
    order_slot_t *s = find_order(c, &c->by_venue_id, c->vid_keys, &q);
    return s ? &s->o : NULL;
}

size_t cq_cache_order_count(const cq_cache_t *c, int32_t set)
{
    if (!c)
        return 0;
    switch (set) {
    case CQ_ORDERS_ALL: return c->all.count;
    case CQ_ORDERS_OPEN: return c->open.count;
    case CQ_ORDERS_CLOSED: return c->closed.count;
    case CQ_ORDERS_INFLIGHT: return c->inflight.count;
    default: return 0;
    }
}

static inline uint64_t seq_of(const cq_order_t *o)
{
    return ((const order_slot_t *)o)->seq;
}

/* Max-heap on seq in out[0..n): keeps the cap oldest matches seen so far. */
static void heap_sift_down(cq_order_t **h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && seq_of(h[l]) > seq_of(h[m]))
            m = l;
        if (l + 1 < n && seq_of(h[l + 1]) > seq_of(h[m]))
            m = l + 1;
        if (m == i)
            return;
        cq_order_t *t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_push(cq_order_t **h, size_t n, cq_order_t *o)
{
    size_t i = n;
    h[i] = o;
    while (i > 0 && seq_of(h[(i - 1) / 2]) < seq_of(h[i])) {
        cq_order_t *t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

/* Walks the shortest list that covers the query and filters it. The
 * all / strategy / instrument lists are in insertion order already; a set
 * list is in the order orders entered the set, so when one is walked the
 * first `cap` matches by insertion order are selected with a heap in out[]
 * (O(k log cap), no allocation) and sorted at the end. */
long cq_cache_orders(const cq_cache_t *c, const cq_order_query_t *q, cq_order_t **out, size_t cap)
{
    if (!c || !q || (!out && cap))
        return CQ_EINVAL;
    static const uint32_t set_flag[] = {F_LIVE, F_OPEN, F_CLOSED, F_INFLIGHT};
    if (q->set < CQ_ORDERS_ALL || q->set > CQ_ORDERS_INFLIGHT)
        return CQ_EINVAL;
    int rc;
    if ((rc = check_handle_or_none(q->instrument, inst_known(c, q->instrument))) < 0 ||
        (rc = check_handle_or_none(q->strategy, strat_known(c, q->strategy))) < 0)
        return rc;
    const olist_t *sets[] = {&c->all, &c->open, &c->closed, &c->inflight};
    const olist_t *l = sets[q->set];
    int k = q->set == CQ_ORDERS_ALL ? L_ALL : q->set == CQ_ORDERS_INFLIGHT ? L_FLIGHT : L_STATE;
    int filters = (q->set != CQ_ORDERS_ALL) + (q->instrument != 0) + (q->strategy != 0);
    if (q->instrument && inst_at(c, q->instrument)->orders.count < l->count) {
        l = &inst_at(c, q->instrument)->orders;
        k = L_INST;
    }
    if (q->strategy && strat_at(c, q->strategy)->orders.count < l->count) {
        l = &strat_at(c, q->strategy)->orders;
        k = L_STRAT;
    }
    int ordered = k == L_ALL || k == L_INST || k == L_STRAT;
    if ((k == L_ALL && filters == 0) || ((k == L_INST || k == L_STRAT) && filters == 1)) {
        /* The list is exactly the answer. */
        size_t i = 0;
        for (order_slot_t *s = l->head; s && i < cap; s = s->lk[k].next)
            out[i++] = &s->o;
        return (long)l->count;
    }
    uint32_t want = set_flag[q->set];
    size_t total = 0, kept = 0;
    for (order_slot_t *s = l->head; s; s = s->lk[k].next) {
        if (!(s->flags & want) || (q->instrument && s->instrument != q->instrument) ||
            (q->strategy && s->strategy != q->strategy))
            continue;
        total++;
        if (ordered) {
            if (kept < cap)
                out[kept++] = &s->o;
        } else if (kept < cap) {
            heap_push(out, kept++, &s->o);
        } else if (cap && s->seq < seq_of(out[0])) {
            out[0] = &s->o;
            heap_sift_down(out, kept, 0);
        }
    }
    if (!ordered) {
        for (size_t n = kept; n > 1; n--) {
            cq_order_t *t = out[0];
            out[0] = out[n - 1];
            out[n - 1] = t;
            heap_sift_down(out, n - 1, 0);
        }
    }
    return (long)total;
}

/* ---- positions ------------------------------------------------------------------ */

static inline uint64_t pos_key(uint32_t instrument, uint32_t strategy)
{
    return (uint64_t)instrument << 32 | strategy;
}

/* Fibonacci hashing: the multiply spreads the two handles over the top bits. */
static inline uint32_t pos_home(const cq_cache_t *c, uint64_t key)
{
    return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> c->pos_shift);
}

cq_position_t *cq_cache_position(const cq_cache_t *c, uint32_t instrument, uint32_t strategy)
{
    if (!c || !instrument)
        return NULL;
    uint64_t key = pos_key(instrument, strategy);
    for (uint32_t i = pos_home(c, key);; i = (i + 1) & c->pos_mask) {
        const pent_t *e = &c->pos_tab[i];
        if (e->key == key)
            return &e->slot->p;
        if (!e->key)
            return NULL;
    }
}

static int pos_reserve1(cq_cache_t *c)
{
    uint32_t count = c->positions.n;
    if ((uint64_t)(count + 1) * 2 <= (uint64_t)c->pos_mask + 1)
        return 0;
    if (c->pos_mask >= 0x7fffffffu)
        return CQ_EFULL;
    uint32_t nmask = c->pos_mask * 2 + 1;
    pent_t *nt = calloc((size_t)nmask + 1, sizeof *nt);
    if (!nt)
        return CQ_ENOMEM;
    pent_t *old = c->pos_tab;
    uint32_t omask = c->pos_mask;
    c->pos_tab = nt;
    c->pos_mask = nmask;
    c->pos_shift--;
    for (uint32_t i = 0; i <= omask; i++) {
        if (!old[i].key)
            continue;
        uint32_t j = pos_home(c, old[i].key);
        while (nt[j].key)
            j = (j + 1) & nmask;
        nt[j] = old[i];
    }
    free(old);
    return 0;
}

int cq_cache_position_get(cq_cache_t *c, uint32_t instrument, uint32_t strategy, cq_position_t **out)
{
    if (out)
        *out = NULL;
    if (!c || !out || !instrument)
        return CQ_EINVAL;
    if (!inst_known(c, instrument) || (strategy && !strat_known(c, strategy)))
        return CQ_ENOENT;
    cq_position_t *p = cq_cache_position(c, instrument, strategy);
    if (p) {
        *out = p;
        return 0;
    }
    int rc;
    if ((rc = pos_reserve1(c)) < 0)
        return rc;
    uint32_t index;
    pos_slot_t *s = stash_push(&c->positions, &index);
    if (!s)
        return CQ_ENOMEM;
    s->p.hdr.type = CQ_EV_POSITION;
    s->p.hdr.instrument = instrument;
    s->p.hdr.strategy = strategy;
    uint64_t key = pos_key(instrument, strategy);
    uint32_t i = pos_home(c, key);
    while (c->pos_tab[i].key)
        i = (i + 1) & c->pos_mask;
    c->pos_tab[i] = (pent_t){key, s};
    if (strategy) {
        strat_rec_t *r = strat_at(c, strategy);
        if (r->pos_tail)
            ((pos_slot_t *)stash_at(&c->positions, r->pos_tail - 1))->next_in_strategy = index + 1;
        else
            r->pos_head = index + 1;
        r->pos_tail = index + 1;
    }
    *out = &s->p;
    return 0;
}

long cq_cache_positions(const cq_cache_t *c, uint32_t strategy, cq_position_t **out, size_t cap)
{
    if (!c || (!out && cap))
        return CQ_EINVAL;
    size_t total = 0;
    if (!strategy) {
        for (uint32_t i = 0; i < c->positions.n; i++, total++)
            if (total < cap)
                out[total] = &((pos_slot_t *)stash_at(&c->positions, i))->p;
        return (long)total;
    }
    if (!strat_known(c, strategy))
        return CQ_ENOENT;
    for (uint32_t ref = strat_at(c, strategy)->pos_head; ref; total++) {
        pos_slot_t *s = stash_at(&c->positions, ref - 1);
        if (total < cap)
            out[total] = &s->p;
        ref = s->next_in_strategy;
    }
    return (long)total;
}

/* ---- balances --------------------------------------------------------------------- */

/* The key of a balance: venue in bytes 0..15, asset in 16..31, each
 * zero-padded, hashed as one 32-byte key. */
static int bal_key(qkey_t *q, const char *venue, const char *asset)
{
    if (!venue || !*venue || !asset || !*asset)
        return CQ_EINVAL;
    size_t vn = strnlen(venue, BAL_FIELD), an = strnlen(asset, BAL_FIELD);
    if (vn >= BAL_FIELD || an >= BAL_FIELD)
        return CQ_ETOOLONG;
    q->w[0] = key_word(venue, vn, 0);
    q->w[1] = key_word(venue, vn, 8);
    q->w[2] = key_word(asset, an, 0);
    q->w[3] = key_word(asset, an, 8);
    q->w[4] = 0;
    q->n = 2 * BAL_FIELD;
    q->tag = words_tag(q->w, q->n);
    return 0;
}

cq_balance_t *cq_cache_balance(const cq_cache_t *c, const char *venue, const char *asset)
{
    qkey_t q;
    if (!c || bal_key(&q, venue, asset) < 0)
        return NULL;
    uint32_t ref = htab_find(&c->by_balance, c->bal_keys, &q);
    return ref ? stash_at(&c->balances, ref - 1) : NULL;
}

int cq_cache_balance_get(cq_cache_t *c, const char *venue, const char *asset, cq_balance_t **out)
{
    qkey_t q;
    int rc;
    if (out)
        *out = NULL;
    if (!c || !out)
        return CQ_EINVAL;
    if ((rc = bal_key(&q, venue, asset)) < 0)
        return rc;
    uint32_t ref = htab_find(&c->by_balance, c->bal_keys, &q);
    if (ref) {
        *out = stash_at(&c->balances, ref - 1);
        return 0;
    }
    if ((rc = htab_reserve1(&c->by_balance)) < 0)
        return rc;
    if (c->balances.n == c->bal_keys_cap) {
        uint32_t ncap = c->bal_keys_cap ? c->bal_keys_cap * 2 : 16;
        kwords_t *nk = realloc(c->bal_keys, (size_t)ncap * sizeof *nk);
        if (!nk)
            return CQ_ENOMEM;
        c->bal_keys = nk;
        c->bal_keys_cap = ncap;
    }
    uint32_t index;
    cq_balance_t *b = stash_push(&c->balances, &index);
    if (!b)
        return CQ_ENOMEM;
    b->hdr.type = CQ_EV_BALANCE;
    memcpy(b->venue, q.w, BAL_FIELD);
    memcpy(b->asset, (char *)q.w + BAL_FIELD, BAL_FIELD);
    memcpy(c->bal_keys[index], q.w, sizeof q.w);
    htab_insert(&c->by_balance, &q, index + 1);
    *out = b;
    return 0;
}

/* A scan in creation order: an account holds tens of balances, and a
 * listing is not a hot path. */
long cq_cache_balances(const cq_cache_t *c, const char *venue, cq_balance_t **out, size_t cap)
{
    size_t vn = 0;
    if (!c || (!out && cap) || (venue && !*venue))
        return CQ_EINVAL;
    if (venue && (vn = strnlen(venue, BAL_FIELD)) >= BAL_FIELD)
        return CQ_ETOOLONG;
    uint64_t v0 = venue ? key_word(venue, vn, 0) : 0, v1 = venue ? key_word(venue, vn, 8) : 0;
    size_t total = 0;
    for (uint32_t i = 0; i < c->balances.n; i++) {
        if (venue && (c->bal_keys[i][0] != v0 || c->bal_keys[i][1] != v1))
            continue;
        if (total < cap)
            out[total] = stash_at(&c->balances, i);
        total++;
    }
    return (long)total;
}

/* ---- latest market data ------------------------------------------------------------ */

static int market_rec(cq_cache_t *c, const cq_event_hdr_t *hdr, inst_rec_t **r)
{
    if (!hdr->instrument)
        return CQ_EINVAL;
    if (!inst_known(c, hdr->instrument))
        return CQ_ENOENT;
    *r = inst_at(c, hdr->instrument);
    return 0;
}

int cq_cache_quote_set(cq_cache_t *c, const cq_quote_t *q)
{
    inst_rec_t *r;
    int rc;
    if (!c || !q)
        return CQ_EINVAL;
    if ((rc = market_rec(c, &q->hdr, &r)) < 0)
        return rc;
    r->quote = *q;
    r->quote.hdr.type = CQ_EV_QUOTE;
    r->has_quote = 1;
    return 0;
}

const cq_quote_t *cq_cache_quote(const cq_cache_t *c, uint32_t instrument)
{
    if (!c || !inst_known(c, instrument))
        return NULL;
    const inst_rec_t *r = inst_at(c, instrument);
    return r->has_quote ? &r->quote : NULL;
}

int cq_cache_trade_set(cq_cache_t *c, const cq_trade_t *t)
{
    inst_rec_t *r;
    int rc;
    if (!c || !t)
        return CQ_EINVAL;
    if ((rc = market_rec(c, &t->hdr, &r)) < 0)
        return rc;
    r->trade = *t;
    r->trade.hdr.type = CQ_EV_TRADE;
    r->has_trade = 1;
    return 0;
}

const cq_trade_t *cq_cache_trade(const cq_cache_t *c, uint32_t instrument)
{
    if (!c || !inst_known(c, instrument))
        return NULL;
    const inst_rec_t *r = inst_at(c, instrument);
    return r->has_trade ? &r->trade : NULL;
}
