/*
 * bus.c - the message bus: topic interning, pattern subscriptions with a
 * resolved handler list cached per topic, request/response and send.
 *
 * It owns the topic table, the subscriptions, each topic's handler list, the
 * endpoint table and the pending requests. All string work (matching,
 * sorting) is done when a topic is interned or a subscription changes, so a
 * publish only walks one contiguous array of {fn, user, sub}. A publish must
 * never allocate, match strings, or let memory be freed or moved while some
 * dispatch may still read it.
 *
 * How the last rule is kept: bus->depth counts the user callbacks running.
 * A handler list is never changed in size or freed while depth > 0.
 * Subscribing builds a new list and retires the old one (freed at once if no
 * callback runs, else parked until depth drops back to 0). Unsubscribing
 * clears the entry's fn in every list that holds it, current or retired (a
 * tombstone the dispatch loop skips), so a handler removed mid-dispatch is not
 * called again by any dispatch in progress; the tombstones are compacted away
 * once depth is 0. A subscription is therefore never referenced after it is
 * freed, and a running loop only ever sees entries turn into tombstones.
 */
#include <stdlib.h>
#include <string.h>

#include "cquant/bus.h"
#include "cquant/error.h"

#define TOPICS_LIMIT (UINT32_MAX / 4)

typedef struct bus_sub {
    cq_sub_t id;
    int priority;
    cq_handler_fn fn;
    void *user;
    char pattern[];
} bus_sub_t;

typedef struct hentry {
    cq_handler_fn fn; /* NULL once the subscription is gone (tombstone) */
    void *user;
    bus_sub_t *sub;   /* NULL together with fn */
} hentry_t;

typedef struct hlist {
    uint32_t n;                 /* entries, tombstones included */
    uint32_t dead;              /* tombstones */
    struct hlist *next_retired; /* link in bus->retired */
    hentry_t e[];
} hlist_t;

enum { EP_COMMAND = 1, EP_REQUEST = 2 };

typedef struct endpoint {
    struct endpoint *next;
    uint32_t hash;
    int kind;
    cq_command_fn cmd;
    cq_request_fn req;
    void *user;
    char name[];
} endpoint_t;

typedef struct pending {
    uint64_t corr;
    cq_response_fn cb;
    void *user;
} pending_t;

struct cq_bus {
    /* Read on every publish: keep together at the front. */
    hlist_t **lists;    /* lists[t], t in 1..ntopics */
    uint32_t ntopics;
    uint32_t depth;     /* user callbacks running (nested) */
    uint32_t deferred;  /* something waits for depth 0 (see settle) */
    uint64_t published;
    hlist_t *retired;   /* replaced lists a dispatch may still walk */
    uint64_t delivered; /* apart from published: GCC merges adjacent
                           counters into one 16-byte vector add, measured
                           ~0.1 ns per publish slower than two scalar adds */

    int dirty;          /* some current list holds tombstones */
    int destroy_requested;

    char **tnames;      /* tnames[t] */
    uint32_t *thash;
    uint32_t *tnext;    /* bucket chain, 0 ends */
    uint32_t tcap;      /* capacity of the four topic arrays */
    uint32_t *tbuckets;
    uint32_t tbmask;

    bus_sub_t **subs;   /* live subscriptions, ascending id */
    size_t nsubs, subs_cap;
    cq_sub_t last_sub;

    endpoint_t **ebuckets;
    uint32_t ebmask;
    uint32_t nendpoints;

    pending_t *pending; /* ascending corr (issued in order) */
    size_t npending, pending_cap;
    uint64_t last_corr;

    uint64_t requests, responses, sends;
};

/* --- pattern matching ------------------------------------------------------ */

/* Two pointers plus the position of the last '*': on a mismatch, let that
 * star swallow one more character and retry. Earlier stars never need
 * revisiting (a later star can absorb anything they would have), so this is
 * O(|p| * |t|) in the worst case, without recursion. */
static int match(const char *p, const char *t)
{
    const char *star = NULL, *resume = NULL;
    while (*t) {
        if (*p == '*') {
            star = p++;
            resume = t;
        } else if (*p == '?' || *p == *t) {
            p++;
            t++;
        } else if (star) {
            p = star + 1;
            t = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

int cq_pattern_match(const char *pattern, const char *text)
{
    if (!pattern || !text)
        return 0;
    if (strnlen(pattern, CQ_BUS_TOPIC_MAX + 1) > CQ_BUS_TOPIC_MAX ||
        strnlen(text, CQ_BUS_TOPIC_MAX + 1) > CQ_BUS_TOPIC_MAX)
        return 0;
    return match(pattern, text);
}

/* --- helpers --------------------------------------------------------------- */

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Topic, pattern and endpoint names: non-empty, at most CQ_BUS_TOPIC_MAX
 * bytes, and (except patterns) free of wildcards. */
static int check_name(const char *s, int wildcards_ok, size_t *len)
{
    if (!s || !*s)
        return CQ_EINVAL;
    size_t n = strnlen(s, CQ_BUS_TOPIC_MAX + 1);
    if (n > CQ_BUS_TOPIC_MAX)
        return CQ_ETOOLONG;
    if (!wildcards_ok && strpbrk(s, "*?"))
        return CQ_EINVAL;
    *len = n;
    return 0;
}

static void bus_free(cq_bus_t *bus);

/* Runs when the outermost callback has returned: nothing walks a list now. */
static void settle(cq_bus_t *bus);

static inline void leave(cq_bus_t *bus)
{
    if (--bus->depth == 0 && bus->deferred)
        settle(bus);
}

/* --- handler lists --------------------------------------------------------- */

static hlist_t *list_alloc(uint32_t n)
{
    hlist_t *l = malloc(sizeof *l + (size_t)n * sizeof(hentry_t));
    if (l) {
        l->n = n;
        l->dead = 0;
        l->next_retired = NULL;
    }
    return l;
}

/* Order of a list: priority descending, then subscription order. */
static int sub_before(const bus_sub_t *a, const bus_sub_t *b)
{
    return a->priority != b->priority ? a->priority > b->priority : a->id < b->id;
}

static int entry_cmp(const void *a, const void *b)
{
    const bus_sub_t *x = ((const hentry_t *)a)->sub, *y = ((const hentry_t *)b)->sub;
    if (x == y)
        return 0;
    return sub_before(x, y) ? -1 : 1;
}

static hentry_t entry_of(bus_sub_t *s)
{
    hentry_t e = { s->fn, s->user, s };
    return e;
}

/* A copy of old without its tombstones, with s inserted in order. The new
 * subscription has the largest id, so it goes after every entry of equal or
 * higher priority. */
static hlist_t *list_with(const hlist_t *old, bus_sub_t *s)
{
    hlist_t *l = list_alloc(old->n - old->dead + 1);
    if (!l)
        return NULL;
    uint32_t k = 0;
    int placed = 0;
    for (uint32_t i = 0; i < old->n; i++) {
        const hentry_t *e = &old->e[i];
        if (!e->fn)
            continue;
        if (!placed && sub_before(s, e->sub)) {
            l->e[k++] = entry_of(s);
            placed = 1;
        }
        l->e[k++] = *e;
    }
    if (!placed)
        l->e[k++] = entry_of(s);
    return l;
}

/* The list of a topic being interned: every live subscription that matches. */
static hlist_t *list_for(const cq_bus_t *bus, const char *name)
{
    uint32_t n = 0;
    for (size_t i = 0; i < bus->nsubs; i++)
        n += (uint32_t)match(bus->subs[i]->pattern, name);
    hlist_t *l = list_alloc(n);
    if (!l)
        return NULL;
    uint32_t k = 0;
    for (size_t i = 0; i < bus->nsubs && k < n; i++)
        if (match(bus->subs[i]->pattern, name))
            l->e[k++] = entry_of(bus->subs[i]);
    qsort(l->e, n, sizeof l->e[0], entry_cmp);
    return l;
}

static void retire(cq_bus_t *bus, hlist_t *l)
{
    if (bus->depth == 0) {
        free(l);
        return;
    }
    l->next_retired = bus->retired;
    bus->retired = l;
    bus->deferred = 1;
}

/* Turn s's entry (a subscription appears at most once per list) into a
 * tombstone. In place, so a dispatch walking l skips it from now on. */
static int tombstone(hlist_t *l, const bus_sub_t *s)
{
    for (uint32_t i = 0; i < l->n; i++) {
        if (l->e[i].sub == s) {
            l->e[i].fn = NULL;
            l->e[i].user = NULL;
            l->e[i].sub = NULL;
            l->dead++;
            return 1;
        }
    }
    return 0;
}

/* Only when depth == 0: entries move. */
static void compact(hlist_t *l)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < l->n; i++)
        if (l->e[i].fn)
            l->e[k++] = l->e[i];
    l->n = k;
    l->dead = 0;
}

static void settle(cq_bus_t *bus)
{
    while (bus->retired) {
        hlist_t *l = bus->retired;
        bus->retired = l->next_retired;
        free(l);
    }
    if (bus->dirty) {
        for (uint32_t t = 1; t <= bus->ntopics; t++)
            if (bus->lists[t]->dead)
                compact(bus->lists[t]);
        bus->dirty = 0;
    }
    bus->deferred = 0;
    if (bus->destroy_requested)
        bus_free(bus);
}

/* --- life cycle ------------------------------------------------------------ */

int cq_bus_create(cq_bus_t **out)
{
    if (!out)
        return CQ_EINVAL;
    cq_bus_t *bus = calloc(1, sizeof *bus);
    if (!bus)
        return CQ_ENOMEM;
    bus->tcap = 16;
    bus->lists = calloc(bus->tcap, sizeof *bus->lists);
    bus->tnames = calloc(bus->tcap, sizeof *bus->tnames);
    bus->thash = calloc(bus->tcap, sizeof *bus->thash);
    bus->tnext = calloc(bus->tcap, sizeof *bus->tnext);
    bus->tbmask = 15;
    bus->tbuckets = calloc(bus->tbmask + 1, sizeof *bus->tbuckets);
    bus->ebmask = 15;
    bus->ebuckets = calloc(bus->ebmask + 1, sizeof *bus->ebuckets);
    if (!bus->lists || !bus->tnames || !bus->thash || !bus->tnext || !bus->tbuckets ||
        !bus->ebuckets) {
        bus_free(bus);
        return CQ_ENOMEM;
    }
    *out = bus;
    return 0;
}

static void bus_free(cq_bus_t *bus)
{
    while (bus->retired) {
        hlist_t *l = bus->retired;
        bus->retired = l->next_retired;
        free(l);
    }
    for (uint32_t t = 1; t <= bus->ntopics; t++) {
        free(bus->lists[t]);
        free(bus->tnames[t]);
    }
    free(bus->lists);
    free(bus->tnames);
    free(bus->thash);
    free(bus->tnext);
    free(bus->tbuckets);
    for (size_t i = 0; i < bus->nsubs; i++)
        free(bus->subs[i]);
    free(bus->subs);
    if (bus->ebuckets) {
        for (uint32_t b = 0; b <= bus->ebmask; b++) {
            endpoint_t *ep = bus->ebuckets[b];
            while (ep) {
                endpoint_t *next = ep->next;
                free(ep);
                ep = next;
            }
        }
    }
    free(bus->ebuckets);
    free(bus->pending);
    free(bus);
}

/* Called from inside a callback, the bus stays usable until the outermost
 * callback returns and is freed then: freeing it under a running dispatch
 * would pull the list out from under the loop. */
void cq_bus_destroy(cq_bus_t *bus)
{
    if (!bus)
        return;
    if (bus->depth > 0) {
        bus->destroy_requested = 1;
        bus->deferred = 1;
        return;
    }
    bus_free(bus);
}

/* --- topics ---------------------------------------------------------------- */

static uint32_t topic_find(const cq_bus_t *bus, const char *name, uint32_t hash)
{
    for (uint32_t t = bus->tbuckets[hash & bus->tbmask]; t; t = bus->tnext[t])
        if (bus->thash[t] == hash && strcmp(bus->tnames[t], name) == 0)
            return t;
    return 0;
}

static int topic_arrays_grow(cq_bus_t *bus)
{
    uint32_t ncap = bus->tcap * 2;
    /* Each array that grows stays valid; tcap moves only when all have. */
    hlist_t **nl = realloc(bus->lists, ncap * sizeof *nl);
    if (!nl)
        return CQ_ENOMEM;
    bus->lists = nl;
    char **nn = realloc(bus->tnames, ncap * sizeof *nn);
    if (!nn)
        return CQ_ENOMEM;
    bus->tnames = nn;
    uint32_t *nh = realloc(bus->thash, ncap * sizeof *nh);
    if (!nh)
        return CQ_ENOMEM;
    bus->thash = nh;
    uint32_t *nx = realloc(bus->tnext, ncap * sizeof *nx);
    if (!nx)
        return CQ_ENOMEM;
    bus->tnext = nx;
    bus->tcap = ncap;
    return 0;
}

/* Failing to grow only makes chains longer, so it is not an error. */
static void topic_buckets_grow(cq_bus_t *bus)
{
    uint32_t nmask = bus->tbmask * 2 + 1;
    uint32_t *nb = calloc((size_t)nmask + 1, sizeof *nb);
    if (!nb)
        return;
    for (uint32_t t = 1; t <= bus->ntopics; t++) {
        uint32_t b = bus->thash[t] & nmask;
        bus->tnext[t] = nb[b];
        nb[b] = t;
    }
    free(bus->tbuckets);
    bus->tbuckets = nb;
    bus->tbmask = nmask;
}

int cq_bus_topic(cq_bus_t *bus, const char *topic, cq_topic_t *out)
{
    size_t len;
    int rc;
    if (!bus)
        return CQ_EINVAL;
    if ((rc = check_name(topic, 0, &len)) < 0)
        return rc;
    uint32_t hash = fnv1a(topic, len);
    uint32_t t = topic_find(bus, topic, hash);
    if (t) {
        if (out)
            *out = t;
        return 0;
    }
    if (bus->ntopics >= TOPICS_LIMIT)
        return CQ_EFULL;
    t = bus->ntopics + 1;
    if (t >= bus->tcap && topic_arrays_grow(bus) < 0)
        return CQ_ENOMEM;
    char *name = malloc(len + 1);
    hlist_t *l = name ? list_for(bus, topic) : NULL;
    if (!l) {
        free(name);
        return CQ_ENOMEM;
    }
    memcpy(name, topic, len + 1);
    if (t > bus->tbmask)
        topic_buckets_grow(bus); /* rehashes 1..ntopics, not yet t */
    bus->lists[t] = l;
    bus->tnames[t] = name;
    bus->thash[t] = hash;
    bus->ntopics = t;
    uint32_t b = hash & bus->tbmask;
    bus->tnext[t] = bus->tbuckets[b];
    bus->tbuckets[b] = t;
    if (out)
        *out = t;
    return 0;
}

const char *cq_bus_topic_name(const cq_bus_t *bus, cq_topic_t topic)
{
    if (!bus || topic - 1u >= bus->ntopics)
        return NULL;
    return bus->tnames[topic];
}

/* --- subscriptions --------------------------------------------------------- */

static bus_sub_t *sub_find(const cq_bus_t *bus, cq_sub_t id, size_t *at)
{
    size_t lo = 0, hi = bus->nsubs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bus->subs[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < bus->nsubs && bus->subs[lo]->id == id) {
        *at = lo;
        return bus->subs[lo];
    }
    return NULL;
}

/* O(topics) matches. Every new list is built before any is installed, so an
 * allocation failure leaves the bus exactly as it was. */
int cq_bus_subscribe(cq_bus_t *bus, const char *pattern, int priority,
                     cq_handler_fn fn, void *user, cq_sub_t *out)
{
    size_t len;
    int rc;
    if (!bus)
        return CQ_EINVAL;
    if ((rc = check_name(pattern, 1, &len)) < 0)
        return rc;
    if (!fn)
        return CQ_EINVAL;
    if (bus->nsubs == bus->subs_cap) {
        size_t ncap = bus->subs_cap ? bus->subs_cap * 2 : 16;
        bus_sub_t **ns = realloc(bus->subs, ncap * sizeof *ns);
        if (!ns)
            return CQ_ENOMEM;
        bus->subs = ns;
        bus->subs_cap = ncap;
    }
    bus_sub_t *s = malloc(sizeof *s + len + 1);
    if (!s)
        return CQ_ENOMEM;
    s->id = bus->last_sub + 1;
    s->priority = priority;
    s->fn = fn;
    s->user = user;
    memcpy(s->pattern, pattern, len + 1);

    hlist_t **fresh = NULL;
    if (bus->ntopics) {
        fresh = calloc((size_t)bus->ntopics + 1, sizeof *fresh);
        if (!fresh)
            goto nomem;
        for (uint32_t t = 1; t <= bus->ntopics; t++)
            if (match(s->pattern, bus->tnames[t]) &&
                !(fresh[t] = list_with(bus->lists[t], s)))
                goto nomem;
        for (uint32_t t = 1; t <= bus->ntopics; t++) {
            if (fresh[t]) {
                retire(bus, bus->lists[t]);
                bus->lists[t] = fresh[t];
            }
        }
        free(fresh);
    }
    bus->last_sub = s->id;
    bus->subs[bus->nsubs++] = s;
    if (out)
        *out = s->id;
    return 0;

nomem:
    if (fresh)
        for (uint32_t t = 1; t <= bus->ntopics; t++)
            free(fresh[t]);
    free(fresh);
    free(s);
    return CQ_ENOMEM;
}

/* Never allocates, so it cannot fail on a valid id. Scans every list rather
 * than re-matching the pattern: a pointer compare per entry is cheaper than
 * a string match per topic, and retired lists must be reached anyway. */
int cq_bus_unsubscribe(cq_bus_t *bus, cq_sub_t sub)
{
    size_t at;
    if (!bus)
        return CQ_EINVAL;
    bus_sub_t *s = sub_find(bus, sub, &at);
    if (!s)
        return CQ_ENOENT;
    for (uint32_t t = 1; t <= bus->ntopics; t++) {
        hlist_t *l = bus->lists[t];
        if (!tombstone(l, s))
            continue;
        if (bus->depth == 0) {
            compact(l);
        } else {
            bus->dirty = 1;
            bus->deferred = 1;
        }
    }
    for (hlist_t *l = bus->retired; l; l = l->next_retired)
        tombstone(l, s);
    memmove(&bus->subs[at], &bus->subs[at + 1], (bus->nsubs - at - 1) * sizeof *bus->subs);
    bus->nsubs--;
    free(s);
    return 0;
}

/* --- publish --------------------------------------------------------------- */

static inline int dispatch(const hlist_t *l, cq_topic_t topic, const void *msg)
{
    const hentry_t *e = l->e, *end = e + l->n;
    int called = 0;
    for (; e != end; e++) {
        cq_handler_fn fn = e->fn;
        if (fn) {
            fn(e->user, topic, msg);
            called++;
        }
    }
    return called;
}

/* The hot path. l and its entries stay in place until depth returns to 0;
 * entries may only turn into tombstones under us, which fn == NULL skips.
 *
 * The outermost publish stores the constants 1 and 0 into depth rather than
 * incrementing and decrementing it, so back-to-back publishes do not form a
 * chain of read-modify-writes through depth (measured ~0.3 ns per publish).
 * What remains is mostly the two calls (here, and into the handler): see
 * docs/bus.md for the costs. */
int cq_bus_publish(cq_bus_t *bus, cq_topic_t topic, const void *msg)
{
    if (!bus)
        return CQ_EINVAL;
    if (topic - 1u >= bus->ntopics)
        return CQ_ENOENT;
    const hlist_t *l = bus->lists[topic];
    uint32_t d = bus->depth;
    int called;
    if (__builtin_expect(d == 0, 1)) {
        bus->depth = 1;
        called = dispatch(l, topic, msg);
        bus->depth = 0;
        bus->published++;
        bus->delivered += (uint64_t)called;
        if (bus->deferred)
            settle(bus);
        return called;
    }
    if (d >= CQ_BUS_DEPTH_MAX)
        return CQ_EBUSY;
    bus->depth = d + 1;
    called = dispatch(l, topic, msg);
    bus->depth = d;
    bus->published++;
    bus->delivered += (uint64_t)called;
    return called;
}

int cq_bus_publish_name(cq_bus_t *bus, const char *topic, const void *msg)
{
    cq_topic_t t;
    int rc = cq_bus_topic(bus, topic, &t);
    return rc < 0 ? rc : cq_bus_publish(bus, t, msg);
}

int cq_bus_handler_count(const cq_bus_t *bus, cq_topic_t topic)
{
    if (!bus)
        return CQ_EINVAL;
    if (topic - 1u >= bus->ntopics)
        return CQ_ENOENT;
    const hlist_t *l = bus->lists[topic];
    return (int)(l->n - l->dead);
}

/* --- endpoints ------------------------------------------------------------- */

static endpoint_t *ep_find(const cq_bus_t *bus, const char *name, uint32_t hash)
{
    for (endpoint_t *ep = bus->ebuckets[hash & bus->ebmask]; ep; ep = ep->next)
        if (ep->hash == hash && strcmp(ep->name, name) == 0)
            return ep;
    return NULL;
}

/* As for topics, a failed growth only lengthens chains. */
static void ep_buckets_grow(cq_bus_t *bus)
{
    uint32_t nmask = bus->ebmask * 2 + 1;
    endpoint_t **nb = calloc((size_t)nmask + 1, sizeof *nb);
    if (!nb)
        return;
    for (uint32_t b = 0; b <= bus->ebmask; b++) {
        endpoint_t *ep = bus->ebuckets[b];
        while (ep) {
            endpoint_t *next = ep->next;
            ep->next = nb[ep->hash & nmask];
            nb[ep->hash & nmask] = ep;
            ep = next;
        }
    }
    free(bus->ebuckets);
    bus->ebuckets = nb;
    bus->ebmask = nmask;
}

static int ep_register(cq_bus_t *bus, const char *name, int kind, cq_command_fn cmd,
                       cq_request_fn req, void *user)
{
    size_t len;
    int rc;
    if (!bus)
        return CQ_EINVAL;
    if ((rc = check_name(name, 0, &len)) < 0)
        return rc;
    if (!cmd && !req)
        return CQ_EINVAL;
    uint32_t hash = fnv1a(name, len);
    if (ep_find(bus, name, hash))
        return CQ_EEXIST;
    endpoint_t *ep = malloc(sizeof *ep + len + 1);
    if (!ep)
        return CQ_ENOMEM;
    ep->hash = hash;
    ep->kind = kind;
    ep->cmd = cmd;
    ep->req = req;
    ep->user = user;
    memcpy(ep->name, name, len + 1);
    if (bus->nendpoints + 1 > bus->ebmask)
        ep_buckets_grow(bus);
    endpoint_t **head = &bus->ebuckets[hash & bus->ebmask];
    ep->next = *head;
    *head = ep;
    bus->nendpoints++;
    return 0;
}

int cq_bus_register_command(cq_bus_t *bus, const char *endpoint, cq_command_fn fn, void *user)
{
    return ep_register(bus, endpoint, EP_COMMAND, fn, NULL, user);
}

int cq_bus_register_request(cq_bus_t *bus, const char *endpoint, cq_request_fn fn, void *user)
{
    return ep_register(bus, endpoint, EP_REQUEST, NULL, fn, user);
}

/* Safe from inside the endpoint's own call: callers copy fn and user out of
 * the node before calling. Pending requests of the endpoint stay answerable. */
int cq_bus_deregister(cq_bus_t *bus, const char *endpoint)
{
    size_t len;
    int rc;
    if (!bus)
        return CQ_EINVAL;
    if ((rc = check_name(endpoint, 0, &len)) < 0)
        return rc;
    uint32_t hash = fnv1a(endpoint, len);
    for (endpoint_t **pp = &bus->ebuckets[hash & bus->ebmask]; *pp; pp = &(*pp)->next) {
        endpoint_t *ep = *pp;
        if (ep->hash == hash && strcmp(ep->name, endpoint) == 0) {
            *pp = ep->next;
            free(ep);
            bus->nendpoints--;
            return 0;
        }
    }
    return CQ_ENOENT;
}

static int ep_lookup(cq_bus_t *bus, const char *name, int kind, endpoint_t **out)
{
    size_t len;
    int rc;
    if ((rc = check_name(name, 0, &len)) < 0)
        return rc;
    endpoint_t *ep = ep_find(bus, name, fnv1a(name, len));
    if (!ep || ep->kind != kind)
        return CQ_ENOENT;
    *out = ep;
    return 0;
}

int cq_bus_send(cq_bus_t *bus, const char *endpoint, const void *msg)
{
    endpoint_t *ep;
    int rc;
    if (!bus)
        return CQ_EINVAL;
    if ((rc = ep_lookup(bus, endpoint, EP_COMMAND, &ep)) < 0)
        return rc;
    if (bus->depth >= CQ_BUS_DEPTH_MAX)
        return CQ_EBUSY;
    cq_command_fn fn = ep->cmd;
    void *user = ep->user;
    bus->sends++;
    bus->depth++;
    fn(user, msg);
    leave(bus);
    return 0;
}

/* --- request/response ------------------------------------------------------ */

/* Pending requests sit in an array sorted by correlation id (ids are issued
 * in increasing order and appended): binary search to find, memmove to
 * remove. Most answers are to the newest request, at the end, so the move is
 * short; many long-outstanding requests would make removal O(n). */
static pending_t *pending_find(const cq_bus_t *bus, uint64_t corr, size_t *at)
{
    size_t lo = 0, hi = bus->npending;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bus->pending[mid].corr < corr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < bus->npending && bus->pending[lo].corr == corr) {
        *at = lo;
        return &bus->pending[lo];
    }
    return NULL;
}

int cq_bus_request(cq_bus_t *bus, const char *endpoint, const void *req,
                   cq_response_fn cb, void *user, uint64_t *corr)
{
    endpoint_t *ep;
    int rc;
    if (!bus)
        return CQ_EINVAL;
    if ((rc = ep_lookup(bus, endpoint, EP_REQUEST, &ep)) < 0)
        return rc;
    if (!cb)
        return CQ_EINVAL;
    if (bus->depth >= CQ_BUS_DEPTH_MAX)
        return CQ_EBUSY;
    if (bus->npending == bus->pending_cap) {
        size_t ncap = bus->pending_cap ? bus->pending_cap * 2 : 16;
        pending_t *np = realloc(bus->pending, ncap * sizeof *np);
        if (!np)
            return CQ_ENOMEM;
        bus->pending = np;
        bus->pending_cap = ncap;
    }
    uint64_t c = ++bus->last_corr;
    bus->pending[bus->npending++] = (pending_t){ c, cb, user };
    if (corr)
        *corr = c;
    cq_request_fn fn = ep->req;
    void *ep_user = ep->user;
    bus->requests++;
    bus->depth++;
    fn(ep_user, bus, c, req);
    leave(bus);
    return 0;
}

/* The request is forgotten before the callback runs, so a second answer,
 * even from inside the callback, gets CQ_ENOENT. */
int cq_bus_respond(cq_bus_t *bus, uint64_t corr, int status, const void *resp)
{
    size_t at;
    if (!bus)
        return CQ_EINVAL;
    pending_t *p = pending_find(bus, corr, &at);
    if (!p)
        return CQ_ENOENT;
    cq_response_fn cb = p->cb;
    void *user = p->user;
    memmove(&bus->pending[at], &bus->pending[at + 1],
            (bus->npending - at - 1) * sizeof *bus->pending);
    bus->npending--;
    bus->responses++;
    bus->depth++;
    cb(user, corr, status, resp);
    leave(bus);
    return 0;
}

size_t cq_bus_pending_requests(const cq_bus_t *bus)
{
    return bus ? bus->npending : 0;
}

void cq_bus_stats(const cq_bus_t *bus, cq_bus_stats_t *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!bus)
        return;
    out->published = bus->published;
    out->delivered = bus->delivered;
    out->requests = bus->requests;
    out->responses = bus->responses;
    out->sends = bus->sends;
    out->topics = bus->ntopics;
    out->subscriptions = (uint32_t)bus->nsubs;
}
