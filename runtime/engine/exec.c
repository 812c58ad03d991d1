/*
 * exec.c - the ExecutionEngine (see exec.h and docs/execution.md).
 *
 * Owns the per-order tracking records (timers, NOT_FOUND counts, the lost
 * flag), the set of venue trade ids already applied, the per-strategy topic
 * handles and the client id generator. Writes orders only through the
 * cache's setters and the order state machine, positions only through the
 * Portfolio. It must never call the venue for an order the journal has not
 * recorded, never apply a trade id twice, and never depend on an I/O layer.
 * Allocates when a table grows (new strategies, orders, trade ids); the
 * steady submit / report path does not.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/error.h"
#include "cquant/exec.h"
#include "cquant/instrument.h"
#include "cquant/time.h"

#define MOD "exec"

/* What the engine remembers about one order beyond the cache's record. */
typedef struct track {
    const cq_order_t *o;     /* key: the cache's pool slot */
    int64_t since;           /* entered its current in-flight state */
    int64_t last_query;      /* last query_order sent (0 = none) */
    int64_t last_nf;         /* venue time of the last NOT_FOUND counted */
    uint32_t nf;             /* NOT_FOUND answers counted */
    uint32_t gen;            /* reconciliation generation that saw it */
    uint8_t lost;            /* REJECTED by us: lost */
    uint8_t queried_pending; /* a query went out after the pending request */
    double req_price, req_qty; /* PENDING_UPDATE: what we asked for */
} track_t;

typedef struct topics {
    cq_topic_t order, fill;
} topics_t;

typedef struct tid {
    uint32_t h;              /* the id's hash (low half); 0 = empty slot */
    uint32_t at;             /* the id's place in tid_ids / tid_slot */
} tid_t;

struct cq_exec {
    cq_bus_t *bus;
    cq_cache_t *cache;
    cq_risk_t *risk;
    cq_portfolio_t *pf;
    cq_venue_t venue;
    cq_exec_journal_t jr;
    int has_journal;
    cq_exec_config_t cfg;
    const cq_log_t *log;
    int64_t now;
    uint32_t external;       /* strategy handle "external" */
    uint32_t gen;

    track_t *tracks;         /* open addressing by pointer; never deleted */
    size_t ntracks, captracks;
    tid_t *tids;             /* index of the recent trade ids (TID_WINDOW of them) */
    size_t ntids, captids;
    char (*tid_ids)[40];     /* the ids, by arrival: a ring, oldest at tid_head once full */
    uint32_t *tid_slot;      /* where each ring place's entry is in tids */
    size_t tid_head;
    topics_t *topics;        /* by strategy handle; 0 = not interned */
    size_t ntopics;
    cq_order_t **scratch;
    size_t nscratch;

    char prefix[16];         /* generated ids: prefix + "-" + counter */
    size_t prefix_len;
    char counter[16];        /* the counter in base 36, most significant first */
    size_t counter_len;
    char reason[64];
    cq_order_sm_stats_t sm;
    cq_exec_stats_t st;
};

static const char *const endpoints[] = {"exec.submit", "exec.cancel", "exec.modify", "exec.cancel_all"};

/* ---- small helpers ------------------------------------------------------- */

static void set_reason(cq_exec_t *ex, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex->reason, sizeof ex->reason, fmt, ap);
    va_end(ap);
}

/* The hash of the first n (< 40) characters of a 40-byte id field, read
 * eight bytes at a time straight from the field (a byte-wise loop was a
 * tenth of a fill's cost; copying the id out first stalled the loads on
 * store forwarding), the bytes past n masked off. The final mix matters:
 * sequential ids ("T1", "T2"...) differ in few bits, and the table masks
 * the low ones. */
static uint32_t hash_id(const char s[40], size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;
    for (size_t i = 0; i < (n + 7) / 8; i++) {
        memcpy(&w, s + 8 * i, 8); /* within the field: 8 * i + 8 <= 40 */
        if (n - 8 * i < 8)
            w &= ((uint64_t)1 << (8 * (n - 8 * i))) - 1;
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
    }
    h *= 0x94D049BB133111EBULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (uint32_t)h ? (uint32_t)h : 1; /* 0 marks an empty slot */
}

static uint64_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static int id_len_ok(const char *s, size_t cap)
{
    return s && memchr(s, '\0', cap) != NULL;
}

/* ---- tracking records ---------------------------------------------------- */

static int tracks_grow(cq_exec_t *ex)
{
    size_t cap = ex->captracks ? ex->captracks * 2 : 1024;
    track_t *t = calloc(cap, sizeof *t);
    if (!t)
        return CQ_ENOMEM;
    for (size_t i = 0; i < ex->captracks; i++) {
        if (!ex->tracks[i].o)
            continue;
        size_t j = hash_ptr(ex->tracks[i].o) & (cap - 1);
        while (t[j].o)
            j = (j + 1) & (cap - 1);
        t[j] = ex->tracks[i];
    }
    free(ex->tracks);
    ex->tracks = t;
    ex->captracks = cap;
    return 0;
}

static track_t *track_find(const cq_exec_t *ex, const cq_order_t *o)
{
    if (!ex->captracks)
        return NULL;
    size_t j = hash_ptr(o) & (ex->captracks - 1);
    while (ex->tracks[j].o) {
        if (ex->tracks[j].o == o)
            return &ex->tracks[j];
        j = (j + 1) & (ex->captracks - 1);
    }
    return NULL;
}

/* A fresh record for o (a reused pool slot gets its old record reset). */
static track_t *track_new(cq_exec_t *ex, const cq_order_t *o, int64_t now)
{
    track_t *t = track_find(ex, o);
    if (!t) {
        if ((ex->ntracks + 1) * 2 > ex->captracks && tracks_grow(ex) < 0)
            return NULL;
        size_t j = hash_ptr(o) & (ex->captracks - 1);
        while (ex->tracks[j].o)
            j = (j + 1) & (ex->captracks - 1);
        t = &ex->tracks[j];
        ex->ntracks++;
    }
    memset(t, 0, sizeof *t);
    t->o = o;
    t->since = now;
    return t;
}

/* Closed orders are forgotten, so the table holds only live ones (and the
 * lost). Backward-shift deletion keeps linear probing free of tombstones. */
static void track_del(cq_exec_t *ex, track_t *t)
{
    size_t mask = ex->captracks - 1, i = (size_t)(t - ex->tracks), j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!ex->tracks[j].o)
            break;
        size_t k = hash_ptr(ex->tracks[j].o) & mask;
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            ex->tracks[i] = ex->tracks[j];
            i = j;
        }
    }
    memset(&ex->tracks[i], 0, sizeof ex->tracks[i]);
    ex->ntracks--;
}

/* ---- trade id set -------------------------------------------------------- */

/* A bounded window of the most recent trade ids, not every id of the
 * engine's life: the set stays small enough to live in cache (the unbounded
 * set was one cache miss per fill once it held hundreds of thousands). A
 * duplicate older than TID_WINDOW fills is caught by the journal's
 * CQ_EEXIST instead; without a journal such a late duplicate would be
 * applied (docs/execution.md). The ids themselves sit in a ring in arrival
 * order (written in sequence, read only on a hash match); the table probed
 * by every fill holds only hashes and ring places, 8 bytes a slot, where
 * 48-byte slots holding the ids missed the L2 cache on most probes. It is
 * kept one-eighth full (256 KB): at half full the probe and shift loops,
 * of unpredictable length, cost a fill ~40 ns in branch mispredictions
 * (exec.report 160 ns against 120 ns here; a quarter full: 130 ns; a
 * sixteenth: no better). Eviction is oldest first, at the ring's head;
 * backward-shift deletion keeps the probing free of tombstones. */
#define TID_WINDOW 4096
#define TID_SLOTS (8 * TID_WINDOW)

static int tids_init(cq_exec_t *ex)
{
    ex->tids = calloc(TID_SLOTS, sizeof *ex->tids);
    ex->tid_ids = calloc(TID_WINDOW, sizeof *ex->tid_ids);
    ex->tid_slot = calloc(TID_WINDOW, sizeof *ex->tid_slot);
    if (!ex->tids || !ex->tid_ids || !ex->tid_slot) {
        free(ex->tids);
        free(ex->tid_ids);
        free(ex->tid_slot);
        ex->tids = NULL;
        ex->tid_ids = NULL;
        ex->tid_slot = NULL;
        return CQ_ENOMEM;
    }
    ex->captids = TID_SLOTS;
    return 0;
}

/* Remove the entry of ring place `at`: found through tid_slot, without a
 * probe (that probe was a cache miss of its own on every fill). */
static void tids_evict(cq_exec_t *ex, uint32_t at)
{
    size_t mask = ex->captids - 1, i = ex->tid_slot[at];
    if (!ex->tids[i].h || ex->tids[i].at != at)
        return;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!ex->tids[j].h)
            break;
        size_t k = ex->tids[j].h & mask;
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            ex->tids[i] = ex->tids[j];
            ex->tid_slot[ex->tids[i].at] = (uint32_t)i;
            i = j;
        }
    }
    ex->tids[i].h = 0;
    ex->ntids--;
}

/* Is the stored id at ring place `at` the n characters of id? */
static inline int tid_is(const cq_exec_t *ex, uint32_t at, const char *id, size_t n)
{
    return memcmp(ex->tid_ids[at], id, n) == 0 && ex->tid_ids[at][n] == '\0';
}

/* The first n (1..39) characters of id, hash h from hash_id: 1 if already
 * present, 0 if added, CQ_ENOMEM. */
static int tids_add(cq_exec_t *ex, const char *id, size_t n, uint32_t h)
{
    if (!ex->captids && tids_init(ex) < 0)
        return CQ_ENOMEM;
    size_t mask = ex->captids - 1, j = h & mask;
    while (ex->tids[j].h) {
        if (ex->tids[j].h == h && tid_is(ex, ex->tids[j].at, id, n))
            return 1;
        j = (j + 1) & mask;
    }
    uint32_t at = (uint32_t)ex->tid_head;
    if (ex->ntids == TID_WINDOW) {
        tids_evict(ex, at);
        /* the eviction may have shifted the free slot: probe again */
        j = h & mask;
        while (ex->tids[j].h)
            j = (j + 1) & mask;
    }
    ex->tids[j].h = h;
    ex->tids[j].at = at;
    ex->tid_slot[at] = (uint32_t)j;
    memcpy(ex->tid_ids[at], id, n);
    ex->tid_ids[at][n] = '\0';
    ex->tid_head = (ex->tid_head + 1) % TID_WINDOW;
    ex->ntids++;
    return 0;
}

static int tids_has(const cq_exec_t *ex, const char *id, size_t n, uint32_t h)
{
    if (!ex->captids)
        return 0;
    size_t j = h & (ex->captids - 1);
    while (ex->tids[j].h) {
        if (ex->tids[j].h == h && tid_is(ex, ex->tids[j].at, id, n))
            return 1;
        j = (j + 1) & (ex->captids - 1);
    }
    return 0;
}

/* ---- publishing ---------------------------------------------------------- */

static const topics_t *topics_intern(cq_exec_t *ex, uint32_t strategy);

/* Topic handles of a strategy, interned on first use. */
static inline const topics_t *topics_of(cq_exec_t *ex, uint32_t strategy)
{
    if (strategy < ex->ntopics && ex->topics[strategy].order)
        return &ex->topics[strategy];
    return topics_intern(ex, strategy);
}

static const topics_t *topics_intern(cq_exec_t *ex, uint32_t strategy)
{
    if (strategy >= ex->ntopics) {
        size_t n = ex->ntopics ? ex->ntopics : 16;
        while (n <= strategy)
            n *= 2;
        topics_t *t = realloc(ex->topics, n * sizeof *t);
        if (!t)
            return NULL;
        memset(t + ex->ntopics, 0, (n - ex->ntopics) * sizeof *t);
        ex->topics = t;
        ex->ntopics = n;
    }
    topics_t *t = &ex->topics[strategy];
    if (!t->order) {
        const char *name = cq_cache_strategy_name(ex->cache, strategy);
        char buf[CQ_BUS_TOPIC_MAX + 1];
        if (!name)
            name = "_";
        snprintf(buf, sizeof buf, "events.fill.%s", name);
        if (cq_bus_topic(ex->bus, buf, &t->fill) < 0)
            return NULL;
        snprintf(buf, sizeof buf, "events.order.%s", name);
        if (cq_bus_topic(ex->bus, buf, &t->order) < 0)
            return NULL;
    }
    return t;
}

static void journal_event(cq_exec_t *ex, const cq_order_t *o, int32_t prev)
{
    if (ex->jr.record_event && ex->jr.record_event(ex->jr.user, o, prev) < 0) {
        ex->st.journal_errors++;
        cq_logf(ex->log, CQ_LOG_ERROR, MOD, "journal: order event of %s not recorded", o->client_order_id);
    }
}

static void publish_order(cq_exec_t *ex, const cq_order_t *o, int32_t prev, const char *reason)
{
    const topics_t *t = topics_of(ex, o->hdr.strategy);
    if (!t)
        return;
    cq_order_event_t ev;
    ev.hdr = o->hdr;
    ev.hdr.type = CQ_EV_ORDER_EVENT;
    memcpy(ev.client_order_id, o->client_order_id, sizeof ev.client_order_id);
    memcpy(ev.venue_order_id, o->venue_order_id, sizeof ev.venue_order_id);
    ev.status = o->status;
    ev.prev_status = prev;
    ev.filled_qty = o->filled_qty;
    ev.avg_fill_price = o->avg_fill_price;
    if (reason) {
        size_t n = strnlen(reason, sizeof ev.reason - 1);
        memcpy(ev.reason, reason, n);
        ev.reason[n] = '\0';
    } else {
        ev.reason[0] = '\0';
    }
    cq_bus_publish(ex->bus, t->order, &ev);
}

/* The common tail of every state change: re-file, journal, publish. */
static void changed(cq_exec_t *ex, cq_order_t *o, int32_t prev, const char *reason)
{
    if (o->status != prev)
        cq_cache_order_set_status(ex->cache, o, o->status);
    journal_event(ex, o, prev);
    publish_order(ex, o, prev, reason);
}

/* Apply an event; publish when legal. Returns the state machine's code. */
static int apply(cq_exec_t *ex, cq_order_t *o, int32_t event, const cq_order_change_t *chg,
                 const char *reason)
{
    int32_t prev = o->status;
    int rc = cq_order_apply(o, event, chg, &ex->sm, ex->log);
    if (rc == CQ_ESTATE) {
        ex->st.illegal++;
        return rc;
    }
    if (rc < 0 && rc != CQ_ERANGE)
        return rc;
    track_t *t = track_find(ex, o);
    if (t && cq_order_status_is_inflight(o->status) && o->status != prev) {
        t->since = ex->now;
        t->last_query = 0;
        t->nf = 0;
        t->queried_pending = 0;
    }
    if (t && t->lost && o->status != CQ_OS_REJECTED) {
        t->lost = 0;
        ex->st.revived++;
        cq_logf(ex->log, CQ_LOG_WARN, MOD, "lost order %s revived by the venue (%s)", o->client_order_id,
                cq_order_status_name(o->status));
    }
    if (t && !t->lost && cq_order_status_is_closed(o->status))
        track_del(ex, t);
    changed(ex, o, prev, reason);
    return rc;
}

/* ---- client order ids ---------------------------------------------------- */

static void base36(char *out, size_t cap, uint64_t v)
{
    char tmp[16];
    size_t n = 0;
    do {
        unsigned d = (unsigned)(v % 36);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= 36;
    } while (v && n < sizeof tmp);
    size_t k = 0;
    while (n && k + 1 < cap)
        out[k++] = tmp[--n];
    out[k] = '\0';
}

static int valid_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return 0;
    }
    return n > 0 && n <= CQ_ORDER_ID_MAX;
}

static int next_id(cq_exec_t *ex, char out[40])
{
    if (ex->jr.next_client_id) {
        memset(out, 0, 40);
        int rc = ex->jr.next_client_id(ex->jr.user, out);
        if (rc < 0)
            return rc;
        if (!memchr(out, '\0', 40) || !valid_id(out))
            return CQ_EINVAL;
        return 0;
    }
    /* The counter is kept as base-36 text and incremented in place:
     * printing a number costs a division per digit. 13 digits hold every
     * uint64; the prefix (epoch ms) has 9: at most 23 characters. */
    int i = (int)ex->counter_len - 1;
    while (i >= 0 && ex->counter[i] == 'z')
        ex->counter[i--] = '0';
    if (i >= 0)
        ex->counter[i] = ex->counter[i] == '9' ? 'a' : (char)(ex->counter[i] + 1);
    else if (ex->counter_len < 13) {
        memmove(ex->counter + 1, ex->counter, ex->counter_len++);
        ex->counter[0] = '1';
    } else {
        return CQ_ERANGE;
    }
    memset(out, 0, 40);
    memcpy(out, ex->prefix, ex->prefix_len);
    out[ex->prefix_len] = '-';
    memcpy(out + ex->prefix_len + 1, ex->counter, ex->counter_len);
    return 0;
}

/* ---- create / destroy ---------------------------------------------------- */

static void ep_submit(void *user, cq_bus_t *bus, uint64_t corr, const void *req);
static void ep_cancel(void *user, cq_bus_t *bus, uint64_t corr, const void *req);
static void ep_modify(void *user, cq_bus_t *bus, uint64_t corr, const void *req);
static void ep_cancel_all(void *user, cq_bus_t *bus, uint64_t corr, const void *req);

int cq_exec_create(cq_exec_t **out, cq_bus_t *bus, cq_cache_t *cache, cq_risk_t *risk,
                   cq_portfolio_t *portfolio, const cq_venue_t *venue,
                   const cq_exec_journal_t *journal, const cq_exec_config_t *cfg,
                   const cq_log_t *log)
{
    if (!out)
        return CQ_EINVAL;
    *out = NULL;
    if (!bus || !cache || !risk || !portfolio || !venue || !venue->ops || !venue->ops->submit ||
        !venue->ops->cancel || !venue->ops->modify || !venue->ops->query_order)
        return CQ_EINVAL;
    if (cfg && (cfg->ack_timeout_ns < 0 || cfg->query_interval_ns < 0 || cfg->id_epoch_ns < 0))
        return CQ_EINVAL;
    cq_exec_t *ex = calloc(1, sizeof *ex);
    if (!ex)
        return CQ_ENOMEM;
    ex->bus = bus;
    ex->cache = cache;
    ex->risk = risk;
    ex->pf = portfolio;
    ex->venue = *venue;
    if (journal) {
        ex->jr = *journal;
        ex->has_journal = 1;
    }
    if (cfg)
        ex->cfg = *cfg;
    if (!ex->cfg.ack_timeout_ns)
        ex->cfg.ack_timeout_ns = 5 * (int64_t)1000000000;
    if (!ex->cfg.query_interval_ns)
        ex->cfg.query_interval_ns = 1000000000;
    if (!ex->cfg.lost_after)
        ex->cfg.lost_after = 3;
    if (!ex->cfg.id_epoch_ns)
        ex->cfg.id_epoch_ns = cq_time_wall_ns();
    ex->log = log;
    base36(ex->prefix, sizeof ex->prefix, (uint64_t)(ex->cfg.id_epoch_ns / 1000000));
    ex->prefix_len = strlen(ex->prefix);
    int rc = cq_cache_strategy_intern(cache, "external", &ex->external);
    if (rc == 0)
        rc = tracks_grow(ex);
    if (rc == 0)
        rc = tids_init(ex);
    static const cq_request_fn fns[] = {ep_submit, ep_cancel, ep_modify, ep_cancel_all};
    size_t reg = 0;
    for (; rc == 0 && reg < 4; reg++) {
        rc = cq_bus_register_request(bus, endpoints[reg], fns[reg], ex);
        if (rc < 0)
            break;
    }
    if (rc < 0) {
        for (size_t i = 0; i < reg; i++)
            cq_bus_deregister(bus, endpoints[i]);
        free(ex->tracks);
        free(ex->tids);
        free(ex->tid_ids);
        free(ex->tid_slot);
        free(ex);
        return rc;
    }
    *out = ex;
    return 0;
}

void cq_exec_destroy(cq_exec_t *ex)
{
    if (!ex)
        return;
    for (size_t i = 0; i < 4; i++)
        cq_bus_deregister(ex->bus, endpoints[i]);
    free(ex->tracks);
    free(ex->tids);
    free(ex->tid_ids);
    free(ex->tid_slot);
    free(ex->topics);
    free(ex->scratch);
    free(ex);
}

static void clock_to(cq_exec_t *ex, int64_t now)
{
    if (now > ex->now)
        ex->now = now;
}

/* ---- submit -------------------------------------------------------------- */

/* Within the RiskEngine's tolerance of a grid point: replace by the exact
 * grid double, so that the venue, the cache and the journal all see the
 * same number. Off the grid: leave it for the RiskEngine to deny. */
static double snap(double x, double inc, const cq_instrument_t *sp, int is_price)
{
    if (!(x > 0) || !(inc > 0) || !isfinite(x))
        return x;
    double k = x / inc, r = nearbyint(k);
    if (fabs(k - r) > 1e-6 || r < 1 || r > 9e15)
        return x;
    return is_price ? cq_instrument_price(sp, (int64_t)r) : cq_instrument_qty(sp, (int64_t)r);
}

int cq_exec_submit(cq_exec_t *ex, const cq_order_t *draft, int64_t now, char out_id[40])
{
    if (out_id)
        out_id[0] = '\0';
    if (!ex)
        return CQ_EINVAL;
    ex->reason[0] = '\0';
    if (!draft) {
        set_reason(ex, "no draft");
        ex->st.invalid++;
        return CQ_EINVAL;
    }
    clock_to(ex, now);
    cq_order_t o = *draft;
    memset(o.client_order_id, 0, sizeof o.client_order_id);
    memset(o.venue_order_id, 0, sizeof o.venue_order_id);
    size_t tl = strnlen(o.tag, sizeof o.tag - 1);
    memset(o.tag + tl, 0, sizeof o.tag - tl);
    o.hdr.type = CQ_EV_ORDER;
    o.hdr.flags = 0;
    o.hdr.ts_init = o.hdr.ts_event = now;
    o.status = CQ_OS_INITIALIZED;
    o.resume_status = 0;
    o.filled_qty = o.avg_fill_price = o.fees = 0;
    if (o.tif == 0)
        o.tif = CQ_TIF_GTC;
    const char *why = NULL;
    cq_order_normalize(&o);
    if (cq_order_validate(&o, &why) < 0) {
        set_reason(ex, "%s", why ? why : "invalid order");
        ex->st.invalid++;
        return CQ_EINVAL;
    }
    if (!o.hdr.strategy || !cq_cache_strategy_name(ex->cache, o.hdr.strategy)) {
        set_reason(ex, "unknown strategy %u", o.hdr.strategy);
        ex->st.invalid++;
        return CQ_EINVAL;
    }
    const cq_instrument_t *sp = cq_cache_instrument(ex->cache, o.hdr.instrument);
    if (sp) {
        o.price = snap(o.price, sp->tick_size, sp, 1);
        o.trigger_price = snap(o.trigger_price, sp->tick_size, sp, 1);
        o.qty = snap(o.qty, sp->step_size, sp, 0);
    }
    int rc = next_id(ex, o.client_order_id);
    if (rc < 0) {
        set_reason(ex, "no client order id: %s", cq_strerror(rc));
        ex->st.journal_errors++;
        return rc == CQ_ENOMEM ? rc : CQ_EIO;
    }
    if (out_id)
        memcpy(out_id, o.client_order_id, 40);
    /* The id's index slot is a cache miss among many orders: start it now,
     * the risk check runs meanwhile. */
    cq_cache_order_prefetch(ex->cache, o.client_order_id);

    char why_risk[64];
    why_risk[0] = '\0';
    rc = cq_risk_check(ex->risk, &o, now, why_risk, sizeof why_risk);
    if (rc == CQ_EDENIED) {
        cq_order_apply(&o, CQ_OE_DENY, NULL, &ex->sm, ex->log);
        cq_order_t *co;
        int arc = cq_cache_order_add(ex->cache, &o, &co);
        if (arc == 0)
            publish_order(ex, co, CQ_OS_INITIALIZED, why_risk);
        else
            publish_order(ex, &o, CQ_OS_INITIALIZED, why_risk);
        ex->st.denied++;
        set_reason(ex, "%s", why_risk);
        return CQ_EDENIED;
    }
    if (rc < 0) {
        set_reason(ex, "risk check failed: %s", cq_strerror(rc));
        return rc;
    }

    /* Pre-tracking: journal, then cache, then the event, then the venue. */
    cq_order_apply(&o, CQ_OE_SUBMIT, NULL, &ex->sm, ex->log);
    if (ex->jr.record_submit && (rc = ex->jr.record_submit(ex->jr.user, &o)) < 0) {
        ex->st.journal_errors++;
        set_reason(ex, "journal: %s", cq_strerror(rc));
        cq_logf(ex->log, CQ_LOG_ERROR, MOD, "journal refused order %s: not sent", o.client_order_id);
        return CQ_EIO;
    }
    cq_order_t *co;
    if ((rc = cq_cache_order_add(ex->cache, &o, &co)) < 0) {
        set_reason(ex, "cache: %s", cq_strerror(rc));
        return rc;
    }
    if (!track_new(ex, co, now)) {
        /* Journalled and cached but untracked: it still goes out; only its
         * timers are missing, and reconciliation covers that. */
        cq_logf(ex->log, CQ_LOG_WARN, MOD, "no memory to track %s", co->client_order_id);
    }
    publish_order(ex, co, CQ_OS_INITIALIZED, NULL);
    rc = ex->venue.ops->submit(ex->venue.self, co);
    if (rc < 0) {
        ex->st.venue_errors++;
        set_reason(ex, "venue: %s", cq_strerror(rc));
        apply(ex, co, CQ_OE_REJECT, NULL, ex->reason);
        return rc;
    }
    ex->st.submitted++;
    return 0;
}

/* ---- cancel / modify ----------------------------------------------------- */

static cq_order_t *lookup_req(cq_exec_t *ex, const char *id)
{
    ex->reason[0] = '\0';
    if (!id) {
        set_reason(ex, "no client order id");
        return NULL;
    }
    if (!id_len_ok(id, 40)) {
        set_reason(ex, "client order id too long");
        return NULL;
    }
    cq_order_t *o = cq_cache_order(ex->cache, id);
    if (!o)
        set_reason(ex, "unknown order %s", id);
    return o;
}

int cq_exec_cancel(cq_exec_t *ex, const char *client_order_id, int64_t now)
{
    if (!ex)
        return CQ_EINVAL;
    cq_order_t *o = lookup_req(ex, client_order_id);
    if (!o)
        return client_order_id && id_len_ok(client_order_id, 40) ? CQ_ENOENT : CQ_EINVAL;
    clock_to(ex, now);
    if (!cq_order_is_legal(o->status, CQ_OE_CANCEL_REQUEST)) {
        set_reason(ex, "order %s is %s", o->client_order_id, cq_order_status_name(o->status));
        return CQ_ESTATE;
    }
    int rc = apply(ex, o, CQ_OE_CANCEL_REQUEST, NULL, NULL);
    if (rc < 0)
        return rc;
    track_t *t = track_find(ex, o);
    if (t) {
        t->since = now;
        t->last_query = 0;
        t->nf = 0;
        t->queried_pending = 0;
    }
    rc = ex->venue.ops->cancel(ex->venue.self, o);
    if (rc < 0) {
        ex->st.venue_errors++;
        set_reason(ex, "venue: %s", cq_strerror(rc));
        apply(ex, o, CQ_OE_CANCEL_REJECT, NULL, ex->reason);
        return rc;
    }
    return 0;
}

int cq_exec_modify(cq_exec_t *ex, const char *client_order_id, double price, double qty, int64_t now)
{
    if (!ex)
        return CQ_EINVAL;
    cq_order_t *o = lookup_req(ex, client_order_id);
    if (!o)
        return client_order_id && id_len_ok(client_order_id, 40) ? CQ_ENOENT : CQ_EINVAL;
    clock_to(ex, now);
    const cq_instrument_t *sp = cq_cache_instrument(ex->cache, o->hdr.instrument);
    if (!isfinite(price) || !isfinite(qty) || price < 0 || qty < 0 || (price == 0 && qty == 0)) {
        set_reason(ex, "modify needs a finite price or qty > 0");
        ex->st.invalid++;
        return CQ_EINVAL;
    }
    if (price > 0 && o->type != CQ_ORDER_LIMIT && o->type != CQ_ORDER_LIMIT_MAKER &&
        o->type != CQ_ORDER_STOP_LIMIT) {
        set_reason(ex, "a %s order has no limit price", cq_order_type_name(o->type));
        ex->st.invalid++;
        return CQ_EINVAL;
    }
    if (sp) {
        double p = snap(price, sp->tick_size, sp, 1), q = snap(qty, sp->step_size, sp, 0);
        if ((price > 0 && p == price && fabs(price / sp->tick_size - nearbyint(price / sp->tick_size)) > 1e-6) ||
            (qty > 0 && q == qty && fabs(qty / sp->step_size - nearbyint(qty / sp->step_size)) > 1e-6)) {
            set_reason(ex, "price or qty off the grid");
            ex->st.invalid++;
            return CQ_EINVAL;
        }
        price = p;
        qty = q;
    }
    if (qty > 0 && qty <= o->filled_qty) {
        set_reason(ex, "qty %.17g not above filled %.17g", qty, o->filled_qty);
        ex->st.invalid++;
        return CQ_EINVAL;
    }
    if (!cq_order_is_legal(o->status, CQ_OE_MODIFY_REQUEST) || o->status == CQ_OS_PENDING_UPDATE) {
        set_reason(ex, "order %s is %s", o->client_order_id, cq_order_status_name(o->status));
        return CQ_ESTATE;
    }
    int rc = apply(ex, o, CQ_OE_MODIFY_REQUEST, NULL, NULL);
    if (rc < 0)
        return rc;
    track_t *t = track_find(ex, o);
    if (t) {
        t->since = now;
        t->last_query = 0;
        t->nf = 0;
        t->queried_pending = 0;
        t->req_price = price ? price : o->price;
        t->req_qty = qty ? qty : o->qty;
    }
    rc = ex->venue.ops->modify(ex->venue.self, o, price, qty);
    if (rc < 0) {
        ex->st.venue_errors++;
        set_reason(ex, "venue: %s", cq_strerror(rc));
        apply(ex, o, CQ_OE_MODIFY_REJECT, NULL, ex->reason);
        return rc;
    }
    return 0;
}

/* Orders matching q, into ex->scratch; count or a negative code. */
static long collect(cq_exec_t *ex, const cq_order_query_t *q)
{
    for (;;) {
        long n = cq_cache_orders(ex->cache, q, ex->scratch, ex->nscratch);
        if (n < 0 || (size_t)n <= ex->nscratch)
            return n;
        size_t cap = (size_t)n + 64;
        cq_order_t **s = realloc(ex->scratch, cap * sizeof *s);
        if (!s)
            return CQ_ENOMEM;
        ex->scratch = s;
        ex->nscratch = cap;
    }
}

int cq_exec_cancel_all(cq_exec_t *ex, uint32_t instrument, uint32_t strategy, int64_t now, size_t *count)
{
    if (count)
        *count = 0;
    if (!ex)
        return CQ_EINVAL;
    clock_to(ex, now);
    int first = 0;
    size_t sent = 0;
    for (int pass = 0; pass < 2; pass++) {
        cq_order_query_t q = {pass ? CQ_ORDERS_INFLIGHT : CQ_ORDERS_OPEN, instrument, strategy};
        long n = collect(ex, &q);
        if (n < 0)
            return (int)n;
        /* cancel() may refile orders between sets: work on a copy. */
        size_t m = (size_t)n;
        cq_order_t **v = malloc((m ? m : 1) * sizeof *v);
        if (!v)
            return CQ_ENOMEM;
        if (m) /* scratch is NULL until the first order is collected */
            memcpy(v, ex->scratch, m * sizeof *v);
        for (size_t i = 0; i < m; i++) {
            cq_order_t *o = v[i];
            if (o->status == CQ_OS_PENDING_CANCEL || !cq_order_is_legal(o->status, CQ_OE_CANCEL_REQUEST))
                continue;
            int rc = cq_exec_cancel(ex, o->client_order_id, now);
            if (rc == 0)
                sent++;
            else if (!first)
                first = rc;
        }
        free(v);
    }
    if (count)
        *count = sent;
    return first;
}

/* ---- reports ------------------------------------------------------------- */

static int same_num(double a, double b, double inc)
{
    return fabs(a - b) <= (inc > 0 ? inc * 1e-6 : 1e-12 * fabs(a));
}

/* Adopt an order the venue knows and we do not. NULL if it cannot be
 * (no client id or venue id, no spec, no quantity). */
static cq_order_t *adopt(cq_exec_t *ex, const cq_exec_report_t *r)
{
    const cq_instrument_t *sp = cq_cache_instrument(ex->cache, r->hdr.instrument);
    if (!sp || (r->side != CQ_SIDE_BUY && r->side != CQ_SIDE_SELL))
        return NULL;
    cq_order_t o;
    memset(&o, 0, sizeof o);
    if (r->client_order_id[0] && valid_id(r->client_order_id))
        snprintf(o.client_order_id, sizeof o.client_order_id, "%s", r->client_order_id);
    else if (r->venue_order_id[0])
        snprintf(o.client_order_id, sizeof o.client_order_id, "ext-%.32s", r->venue_order_id);
    else
        return NULL;
    double qty = r->qty > 0 ? r->qty : r->cum_qty + r->leaves_qty;
    if (!(qty > 0) && r->kind == CQ_REPORT_FILL)
        qty = r->last_qty;
    if (!(qty > 0) || !isfinite(qty))
        return NULL;
    o.hdr.type = CQ_EV_ORDER;
    o.hdr.flags = CQ_EVF_EXTERNAL;
    o.hdr.instrument = r->hdr.instrument;
    o.hdr.strategy = ex->external;
    o.hdr.ts_init = o.hdr.ts_event = r->hdr.ts_event ? r->hdr.ts_event : ex->now;
    o.side = r->side;
    o.type = r->price > 0 ? CQ_ORDER_LIMIT : CQ_ORDER_MARKET;
    o.tif = CQ_TIF_GTC;
    o.price = r->price > 0 ? snap(r->price, sp->tick_size, sp, 1) : 0;
    o.qty = snap(qty, sp->step_size, sp, 0);
    o.status = CQ_OS_ACCEPTED;
    cq_order_t *co;
    if (cq_cache_order_add(ex->cache, &o, &co) < 0)
        return NULL;
    if (r->venue_order_id[0] && id_len_ok(r->venue_order_id, 40))
        cq_cache_order_set_venue_id(ex->cache, co, r->venue_order_id);
    track_new(ex, co, ex->now);
    ex->st.external_orders++;
    if (ex->jr.record_submit && ex->jr.record_submit(ex->jr.user, co) < 0)
        ex->st.journal_errors++;
    publish_order(ex, co, CQ_OS_INITIALIZED, "external");
    cq_logf(ex->log, CQ_LOG_WARN, MOD, "adopted external order %s (venue id %s)", co->client_order_id,
            co->venue_order_id);
    return co;
}

static cq_order_t *find_order(cq_exec_t *ex, const cq_exec_report_t *r)
{
    /* The cache reads at most 37 (client) and 40 (venue) bytes of an id and
     * answers NULL for one that does not end in time: the 40-byte fields
     * need no check of their own here. */
    cq_order_t *o = NULL;
    if (r->client_order_id[0])
        o = cq_cache_order(ex->cache, r->client_order_id);
    if (!o && r->venue_order_id[0])
        o = cq_cache_order_by_venue_id(ex->cache, r->venue_order_id);
    return o;
}

static void group_end(cq_exec_t *ex, const cq_fill_t *f)
{
    if (ex->jr.commit(ex->jr.user) < 0) {
        ex->st.journal_errors++;
        cq_logf(ex->log, CQ_LOG_ERROR, MOD, "journal: fill %s and its order change not recorded", f->trade_id);
    }
}

static void on_fill(cq_exec_t *ex, cq_order_t *o, const cq_exec_report_t *r)
{
    /* The trade id as the fill will carry it (cut to its field), hashed
     * once for the check here and the insert below. */
    size_t tid_len = strnlen(r->trade_id, sizeof r->trade_id - 1);
    uint32_t tid_h = tid_len ? hash_id(r->trade_id, tid_len) : 0;
    if (tid_len && tids_has(ex, r->trade_id, tid_len, tid_h)) {
        ex->st.duplicate_fills++;
        return;
    }
    cq_fill_t f;
    memset(&f, 0, sizeof f);
    f.hdr.type = CQ_EV_FILL;
    f.hdr.flags = o->hdr.flags & CQ_EVF_EXTERNAL;
    f.hdr.instrument = o->hdr.instrument;
    f.hdr.strategy = o->hdr.strategy;
    f.hdr.ts_event = r->hdr.ts_event;
    f.hdr.ts_init = r->hdr.ts_init ? r->hdr.ts_init : ex->now;
    memcpy(f.client_order_id, o->client_order_id, sizeof f.client_order_id);
    memcpy(f.venue_order_id, o->venue_order_id, sizeof f.venue_order_id);
    memcpy(f.trade_id, r->trade_id, sizeof f.trade_id);
    f.trade_id[tid_len] = '\0';
    f.side = o->side;
    f.liquidity = r->liquidity;
    f.price = r->last_price;
    f.qty = r->last_qty;
    f.fee = r->fee;
    memcpy(f.fee_asset, r->fee_asset, sizeof f.fee_asset);
    f.fee_asset[sizeof f.fee_asset - 1] = '\0';
    if (!f.fee_asset[0] && f.fee == 0) {
        const cq_instrument_t *sp = cq_cache_instrument(ex->cache, o->hdr.instrument);
        if (sp)
            snprintf(f.fee_asset, sizeof f.fee_asset, "%s", sp->quote);
    }
    int grouped = 0;
    if (ex->jr.record_fill) {
        grouped = ex->jr.begin && ex->jr.commit && ex->jr.begin(ex->jr.user) == 0;
        int jrc = ex->jr.record_fill(ex->jr.user, &f);
        if (jrc == CQ_EEXIST) {
            ex->st.duplicate_fills++;
            if (f.trade_id[0])
                tids_add(ex, f.trade_id, tid_len, tid_h);
            if (grouped)
                group_end(ex, &f);
            return;
        }
        if (jrc < 0) {
            /* The venue is the truth: apply it anyway; a restart would
             * re-learn it from the venue's fills. */
            ex->st.journal_errors++;
            cq_logf(ex->log, CQ_LOG_ERROR, MOD, "journal: fill %s not recorded", f.trade_id);
        }
    }
    if (f.trade_id[0])
        tids_add(ex, f.trade_id, tid_len, tid_h);
    else
        ex->st.fills_without_id++;
    const cq_instrument_t *sp = cq_cache_instrument(ex->cache, o->hdr.instrument);
    cq_order_change_t chg;
    memset(&chg, 0, sizeof chg);
    chg.instrument = sp;
    chg.ts_event = r->hdr.ts_event;
    chg.last_qty = r->last_qty;
    chg.last_price = r->last_price;
    chg.fee = isfinite(r->fee) ? r->fee : 0;
    int rc = apply(ex, o, CQ_OE_FILL, &chg, NULL);
    if (grouped)
        group_end(ex, &f);
    if (rc < 0 && rc != CQ_ERANGE)
        cq_logf(ex->log, CQ_LOG_WARN, MOD, "fill %s of %s not applied to the order: %s", f.trade_id,
                o->client_order_id, cq_strerror(rc));
    if (cq_portfolio_apply_fill(ex->pf, &f) < 0)
        ex->st.portfolio_errors++;
    ex->st.fills++;
    const topics_t *t = topics_of(ex, o->hdr.strategy);
    if (t)
        cq_bus_publish(ex->bus, t->fill, &f);
}

static void on_not_found(cq_exec_t *ex, cq_order_t *o, const cq_exec_report_t *r)
{
    track_t *t = track_find(ex, o);
    if (!t || !cq_order_status_is_inflight(o->status))
        return;
    int64_t at = r->hdr.ts_event ? r->hdr.ts_event : ex->now;
    /* Duplicates and bunched answers count once: answers must be spread. */
    if (t->nf && at - t->last_nf < ex->cfg.query_interval_ns)
        return;
    t->nf++;
    t->last_nf = at;
    ex->st.not_found++;
    if (t->nf < ex->cfg.lost_after)
        return;
    char why[64];
    snprintf(why, sizeof why, "lost: not found at venue after %u queries", t->nf);
    t->lost = 1; /* before apply: a lost order keeps its record */
    if (apply(ex, o, CQ_OE_REJECT, NULL, why) == 0) {
        ex->st.lost++;
        cq_logf(ex->log, CQ_LOG_WARN, MOD, "order %s %s", o->client_order_id, why);
    } else if ((t = track_find(ex, o)) != NULL) {
        t->lost = 0;
    }
}

/* The venue's view of an order (an answer to a query, or a reconciliation
 * listing): move ours toward it. Missing fills cannot be made up from a
 * status (no trade ids): they are counted and wait for the fills. */
static void on_status(cq_exec_t *ex, cq_order_t *o, const cq_exec_report_t *r)
{
    track_t *t = track_find(ex, o);
    if (t)
        t->nf = 0;
    const cq_instrument_t *sp = cq_cache_instrument(ex->cache, o->hdr.instrument);
    double step = sp ? sp->step_size : 0, tick = sp ? sp->tick_size : 0;
    if (r->cum_qty > o->filled_qty && !same_num(r->cum_qty, o->filled_qty, step))
        ex->st.fill_gaps++;
    int32_t vs = r->status;
    switch (vs) {
    case CQ_OS_ACCEPTED:
    case CQ_OS_PARTIALLY_FILLED:
    case CQ_OS_FILLED:
    case CQ_OS_PENDING_CANCEL:
    case CQ_OS_PENDING_UPDATE:
        if (o->status == CQ_OS_SUBMITTED || o->status == CQ_OS_REJECTED) {
            apply(ex, o, CQ_OE_ACCEPT, NULL, NULL);
        } else if (o->status == CQ_OS_PENDING_UPDATE && t && t->queried_pending) {
            cq_order_change_t chg;
            memset(&chg, 0, sizeof chg);
            chg.instrument = sp;
            if (same_num(r->qty, t->req_qty, step) && (o->price == 0 || same_num(r->price, t->req_price, tick))) {
                chg.price = o->price > 0 ? r->price : 0;
                chg.qty = r->qty;
                apply(ex, o, CQ_OE_MODIFY, &chg, NULL);
            } else {
                apply(ex, o, CQ_OE_MODIFY_REJECT, NULL, "modify not applied at the venue");
            }
            return;
        } else if (o->status == CQ_OS_PENDING_CANCEL && t && t->queried_pending && vs != CQ_OS_FILLED) {
            apply(ex, o, CQ_OE_CANCEL_REJECT, NULL, "cancel not applied at the venue");
            return;
        }
        if (cq_order_status_is_open(o->status) && !cq_order_status_is_inflight(o->status) && r->qty > 0 &&
            (!same_num(r->qty, o->qty, step) || (o->price > 0 && r->price > 0 && !same_num(r->price, o->price, tick))) &&
            r->qty > o->filled_qty) {
            cq_order_change_t chg;
            memset(&chg, 0, sizeof chg);
            chg.instrument = sp;
            chg.price = o->price > 0 ? r->price : 0;
            chg.qty = r->qty;
            apply(ex, o, CQ_OE_MODIFY, &chg, NULL);
        }
        break;
    case CQ_OS_CANCELED:
        if (o->status != CQ_OS_CANCELED && o->status != CQ_OS_FILLED)
            apply(ex, o, CQ_OE_CANCEL, NULL, NULL);
        break;
    case CQ_OS_EXPIRED:
        if (o->status != CQ_OS_EXPIRED && o->status != CQ_OS_FILLED)
            apply(ex, o, CQ_OE_EXPIRE, NULL, r->reason[0] ? r->reason : NULL);
        break;
    case CQ_OS_REJECTED:
        if (o->status != CQ_OS_REJECTED && o->status != CQ_OS_FILLED)
            apply(ex, o, CQ_OE_REJECT, NULL, r->reason[0] ? r->reason : NULL);
        break;
    default:
        break;
    }
}

static void handle(cq_exec_t *ex, const cq_exec_report_t *r)
{
    ex->st.reports++;
    cq_order_t *o = find_order(ex, r);
    if (!o) {
        ex->st.unknown_reports++;
        /* Only reports that show a live order (or an execution) can be
         * adopted; answers about ids the venue does not know are noise. */
        int adoptable = r->kind == CQ_REPORT_ACCEPTED || r->kind == CQ_REPORT_FILL ||
                        r->kind == CQ_REPORT_MODIFIED ||
                        (r->kind == CQ_REPORT_STATUS && (cq_order_status_is_open(r->status) ||
                                                         r->status == CQ_OS_FILLED));
        if (adoptable)
            o = adopt(ex, r);
        if (!o) {
            cq_logf(ex->log, CQ_LOG_WARN, MOD, "report %d for unknown order '%.39s' / '%.39s' ignored",
                    r->kind, r->client_order_id, r->venue_order_id);
            return;
        }
    }
    if (r->venue_order_id[0] && !o->venue_order_id[0] && id_len_ok(r->venue_order_id, 40))
        cq_cache_order_set_venue_id(ex->cache, o, r->venue_order_id);
    cq_order_change_t chg;
    switch (r->kind) {
    case CQ_REPORT_ACCEPTED:
        apply(ex, o, CQ_OE_ACCEPT, NULL, NULL);
        break;
    case CQ_REPORT_REJECTED:
        apply(ex, o, CQ_OE_REJECT, NULL, r->reason);
        break;
    case CQ_REPORT_FILL:
        on_fill(ex, o, r);
        break;
    case CQ_REPORT_CANCELED:
        apply(ex, o, CQ_OE_CANCEL, NULL, NULL);
        break;
    case CQ_REPORT_EXPIRED:
        apply(ex, o, CQ_OE_EXPIRE, NULL, r->reason);
        break;
    case CQ_REPORT_MODIFIED:
        memset(&chg, 0, sizeof chg);
        chg.instrument = cq_cache_instrument(ex->cache, o->hdr.instrument);
        chg.ts_event = r->hdr.ts_event;
        chg.price = o->price > 0 && r->price > 0 ? r->price : 0;
        chg.qty = r->qty > 0 ? r->qty : 0;
        apply(ex, o, CQ_OE_MODIFY, &chg, NULL);
        break;
    case CQ_REPORT_CANCEL_REJECTED:
        apply(ex, o, CQ_OE_CANCEL_REJECT, NULL, r->reason);
        break;
    case CQ_REPORT_MODIFY_REJECTED:
        apply(ex, o, CQ_OE_MODIFY_REJECT, NULL, r->reason);
        break;
    case CQ_REPORT_STATUS:
        on_status(ex, o, r);
        break;
    case CQ_REPORT_NOT_FOUND:
        on_not_found(ex, o, r);
        break;
    default:
        cq_logf(ex->log, CQ_LOG_WARN, MOD, "report kind %d ignored", r->kind);
        break;
    }
}

void cq_exec_on_report(void *user, const cq_exec_report_t *r)
{
    if (!user || !r)
        return;
    handle(user, r);
}

/* ---- timers -------------------------------------------------------------- */

static void query(cq_exec_t *ex, cq_order_t *o, track_t *t, int64_t now)
{
    if (t) {
        t->last_query = now;
        if (o->status == CQ_OS_PENDING_CANCEL || o->status == CQ_OS_PENDING_UPDATE)
            t->queried_pending = 1;
    }
    ex->st.queries++;
    if (ex->venue.ops->query_order(ex->venue.self, o->hdr.instrument, o->client_order_id) < 0)
        ex->st.venue_errors++;
}

int cq_exec_tick(cq_exec_t *ex, int64_t now)
{
    if (!ex)
        return CQ_EINVAL;
    clock_to(ex, now);
    cq_order_query_t q = {CQ_ORDERS_INFLIGHT, 0, 0};
    long n = collect(ex, &q);
    if (n < 0)
        return (int)n;
    for (long i = 0; i < n; i++) {
        cq_order_t *o = ex->scratch[i];
        track_t *t = track_find(ex, o);
        if (!t)
            t = track_new(ex, o, now);
        if (!t)
            return CQ_ENOMEM;
        if (now - t->since < ex->cfg.ack_timeout_ns)
            continue;
        if (t->last_query && now - t->last_query < ex->cfg.query_interval_ns)
            continue;
        query(ex, o, t, now);
    }
    return 0;
}

/* ---- restart -------------------------------------------------------------- */

/* The journal's open orders were put back in the cache by the io layer
 * (cq_journal_restore_open); here they get tracking records. An order in
 * flight when the previous process died may or may not have reached the
 * venue, and its answer went to a dead process: it is queried now rather
 * than after ack_timeout, so that its fate (STATUS, or NOT_FOUND toward the
 * lost rule) arrives with the first reports. Open orders are left to
 * cq_exec_reconcile, which compares them with the venue's listing. */
int cq_exec_adopt_open(cq_exec_t *ex, int64_t now, size_t *count)
{
    if (count)
        *count = 0;
    if (!ex)
        return CQ_EINVAL;
    clock_to(ex, now);
    cq_order_query_t q = {CQ_ORDERS_ALL, 0, 0};
    long n = collect(ex, &q);
    if (n < 0)
        return (int)n;
    size_t adopted = 0;
    for (long i = 0; i < n; i++) {
        cq_order_t *o = ex->scratch[i];
        if (cq_order_status_is_closed(o->status) || track_find(ex, o))
            continue;
        track_t *t = track_new(ex, o, now);
        if (!t)
            return CQ_ENOMEM;
        adopted++;
        if (cq_order_status_is_inflight(o->status) || o->status == CQ_OS_INITIALIZED)
            query(ex, o, t, now);
    }
    if (count)
        *count = adopted;
    return 0;
}

/* ---- reconciliation ------------------------------------------------------ */

int cq_exec_reconcile(cq_exec_t *ex, const cq_exec_report_t *venue_open, size_t n_open,
                      const cq_exec_report_t *venue_fills, size_t n_fills, int64_t now)
{
    if (!ex || (n_open && !venue_open) || (n_fills && !venue_fills))
        return CQ_EINVAL;
    clock_to(ex, now);
    ex->st.reconciles++;
    uint32_t gen = ++ex->gen;
    /* Fills first: a status then finds the quantities already right. */
    for (size_t i = 0; i < n_fills; i++) {
        cq_exec_report_t r = venue_fills[i];
        r.kind = CQ_REPORT_FILL;
        handle(ex, &r);
    }
    for (size_t i = 0; i < n_open; i++) {
        cq_exec_report_t r = venue_open[i];
        r.kind = CQ_REPORT_STATUS;
        if (!r.status)
            r.status = CQ_OS_ACCEPTED;
        handle(ex, &r);
        cq_order_t *o = find_order(ex, &r);
        track_t *t = o ? track_find(ex, o) : NULL;
        if (t)
            t->gen = gen;
    }
    /* Ours but not listed as open: ask about each one. */
    cq_order_query_t q = {CQ_ORDERS_ALL, 0, 0};
    long n = collect(ex, &q);
    if (n < 0)
        return (int)n;
    for (long i = 0; i < n; i++) {
        cq_order_t *o = ex->scratch[i];
        track_t *t = track_find(ex, o);
        int lost = t && t->lost && o->status == CQ_OS_REJECTED;
        if (!lost && !cq_order_status_is_open(o->status) && !cq_order_status_is_inflight(o->status))
            continue;
        if (t && t->gen == gen)
            continue;
        query(ex, o, t, now);
    }
    return 0;
}

/* ---- bus endpoints ------------------------------------------------------- */

static void respond(cq_exec_t *ex, cq_bus_t *bus, uint64_t corr, int rc, const char *id, int count)
{
    cq_exec_response_t resp;
    memset(&resp, 0, sizeof resp);
    resp.status = rc;
    resp.count = count;
    if (id)
        snprintf(resp.client_order_id, sizeof resp.client_order_id, "%.39s", id);
    if (rc < 0)
        snprintf(resp.reason, sizeof resp.reason, "%s", ex->reason[0] ? ex->reason : cq_strerror(rc));
    cq_bus_respond(bus, corr, rc, &resp);
}

static void ep_submit(void *user, cq_bus_t *bus, uint64_t corr, const void *req)
{
    cq_exec_t *ex = user;
    char id[40];
    int rc = cq_exec_submit(ex, req, ex->now, id);
    respond(ex, bus, corr, rc, id, 0);
}

static void ep_cancel(void *user, cq_bus_t *bus, uint64_t corr, const void *req)
{
    cq_exec_t *ex = user;
    const cq_exec_cancel_req_t *c = req;
    int rc = cq_exec_cancel(ex, c ? c->client_order_id : NULL, ex->now);
    respond(ex, bus, corr, rc, c && id_len_ok(c->client_order_id, 40) ? c->client_order_id : NULL, 0);
}

static void ep_modify(void *user, cq_bus_t *bus, uint64_t corr, const void *req)
{
    cq_exec_t *ex = user;
    const cq_exec_modify_req_t *m = req;
    int rc = m ? cq_exec_modify(ex, m->client_order_id, m->price, m->qty, ex->now) : CQ_EINVAL;
    if (!m)
        set_reason(ex, "no request");
    respond(ex, bus, corr, rc, m && id_len_ok(m->client_order_id, 40) ? m->client_order_id : NULL, 0);
}

static void ep_cancel_all(void *user, cq_bus_t *bus, uint64_t corr, const void *req)
{
    cq_exec_t *ex = user;
    const cq_exec_cancel_all_req_t *c = req;
    size_t n = 0;
    ex->reason[0] = '\0';
    int rc = CQ_EINVAL;
    if (c)
        rc = cq_exec_cancel_all(ex, c->instrument, c->strategy, ex->now, &n);
    else
        set_reason(ex, "no request");
    respond(ex, bus, corr, rc, NULL, (int)n);
}

/* ---- introspection ------------------------------------------------------- */

const char *cq_exec_last_reason(const cq_exec_t *ex)
{
    return ex ? ex->reason : "";
}

void cq_exec_sm_stats(const cq_exec_t *ex, cq_order_sm_stats_t *out)
{
    if (!out)
        return;
    if (ex)
        *out = ex->sm;
    else
        memset(out, 0, sizeof *out);
}

void cq_exec_stats(const cq_exec_t *ex, cq_exec_stats_t *out)
{
    if (!out)
        return;
    if (ex)
        *out = ex->st;
    else
        memset(out, 0, sizeof *out);
}

uint32_t cq_exec_external_strategy(const cq_exec_t *ex)
{
    return ex ? ex->external : 0;
}
