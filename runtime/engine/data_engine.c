/*
 * data_engine.c - market data from adapters to the books, the cache and the
 * bus (see data_engine.h for the contract and the book-sync procedure).
 *
 * Owns one state per instrument: the topic handles (interned once, so a
 * publish does no string work), the L2 book, the sync state and a buffer of
 * diffs held while the book is unsynced, and the bar aggregators. Allocates
 * when an instrument is first seen, when bars are added and while buffering
 * during a resync; never on the steady-state path of a synced book.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/data_engine.h"
#include "cquant/error.h"

typedef struct buffered_diff {
    uint64_t first_id, last_id;
    int64_t ts_event, ts_init;
    size_t off, nbids, nasks;   /* entries[off .. off+nbids+nasks) */
} buffered_diff_t;

typedef struct bar_slot {
    cq_bar_agg_t agg;
    cq_topic_t topic;
    struct cq_data_engine *de;
} bar_slot_t;

typedef struct ext_bar {
    char spec[CQ_BAR_SPEC_MAX + 1];
    cq_topic_t topic;
} ext_bar_t;

typedef struct inst_state {
    int ready;                  /* topics interned, book created */
    cq_topic_t t_trades, t_quotes, t_book, t_venue;
    char venue[16];
    cq_book_t *book;
    int synced;                 /* snapshot applied and diffs continuous */
    int need_first;             /* next diff is the first after a snapshot */
    int snapshot_pending;       /* a snapshot was requested */
    int resyncing;              /* invalidated by a gap, not yet resynced */
    uint64_t last_id;
    buffered_diff_t *buf;
    size_t nbuf, capbuf;
    cq_book_entry_t *ents;
    size_t nents, capents;
    bar_slot_t **bars;
    size_t nbars;
    ext_bar_t *ext_bars;        /* topics of venue-built bars */
    size_t next_bars;
} inst_state_t;

struct cq_data_engine {
    cq_bus_t *bus;
    cq_cache_t *cache;
    cq_data_engine_config_t cfg;
    inst_state_t *inst;         /* indexed by instrument handle */
    size_t ninst;
    size_t nbars;               /* bar aggregators over all instruments */
    cq_data_stats_t stats;
};

int cq_data_engine_create(cq_data_engine_t **out, cq_bus_t *bus, cq_cache_t *cache,
                          const cq_data_engine_config_t *cfg)
{
    if (!out || !bus || !cache)
        return CQ_EINVAL;
    cq_data_engine_t *de = calloc(1, sizeof *de);
    if (!de)
        return CQ_ENOMEM;
    de->bus = bus;
    de->cache = cache;
    if (cfg)
        de->cfg = *cfg;
    if (de->cfg.max_buffered == 0)
        de->cfg.max_buffered = 10000;
    *out = de;
    return 0;
}

static void free_state(inst_state_t *s)
{
    cq_book_destroy(s->book);
    free(s->buf);
    free(s->ents);
    for (size_t i = 0; i < s->nbars; i++)
        free(s->bars[i]);
    free(s->bars);
    free(s->ext_bars);
}

void cq_data_engine_destroy(cq_data_engine_t *de)
{
    if (!de)
        return;
    for (size_t i = 0; i < de->ninst; i++)
        free_state(&de->inst[i]);
    free(de->inst);
    free(de);
}

static int make_topic(cq_bus_t *bus, const char *kind, const cq_instrument_t *spec, cq_topic_t *out)
{
    char name[CQ_BUS_TOPIC_MAX + 1];
    int n = snprintf(name, sizeof name, "%s.%s.%s", kind, spec->venue, spec->symbol);
    if (n < 0 || (size_t)n >= sizeof name)
        return CQ_ETOOLONG;
    return cq_bus_topic(bus, name, out);
}

/* The state of a known instrument, created on first use; NULL (and
 * counted) when the cache has no spec for the handle. */
static inst_state_t *state_of(cq_data_engine_t *de, uint32_t instrument)
{
    const cq_instrument_t *spec = cq_cache_instrument(de->cache, instrument);
    if (!spec) {
        de->stats.unknown_instrument++;
        cq_logf(de->cfg.log, CQ_LOG_WARN, "data", "data for unknown instrument handle %u", instrument);
        return NULL;
    }
    if (instrument >= de->ninst) {
        size_t n = de->ninst ? de->ninst : 16;
        while (n <= instrument)
            n *= 2;
        inst_state_t *p = realloc(de->inst, n * sizeof *p);
        if (!p)
            return NULL;
        memset(p + de->ninst, 0, (n - de->ninst) * sizeof *p);
        de->inst = p;
        de->ninst = n;
    }
    inst_state_t *s = &de->inst[instrument];
    if (s->ready)
        return s;
    char vt[CQ_BUS_TOPIC_MAX + 1];
    snprintf(vt, sizeof vt, "events.venue.%s", spec->venue);
    if (make_topic(de->bus, "data.trades", spec, &s->t_trades) < 0 ||
        make_topic(de->bus, "data.quotes", spec, &s->t_quotes) < 0 ||
        make_topic(de->bus, "data.book", spec, &s->t_book) < 0 ||
        cq_bus_topic(de->bus, vt, &s->t_venue) < 0 ||
        cq_book_create(&s->book, spec->tick_size, spec->step_size) < 0) {
        cq_book_destroy(s->book);
        s->book = NULL;
        return NULL;
    }
    snprintf(s->venue, sizeof s->venue, "%s", spec->venue);
    s->ready = 1;
    return s;
}

static void publish_venue(cq_data_engine_t *de, inst_state_t *s, uint32_t instrument, int32_t kind,
                          int64_t ts, const char *msg)
{
    cq_venue_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.hdr.type = CQ_EV_VENUE;
    ev.hdr.instrument = instrument;
    ev.hdr.ts_event = ts;
    ev.hdr.ts_init = ts;
    ev.kind = kind;
    snprintf(ev.venue, sizeof ev.venue, "%s", s->venue);
    snprintf(ev.message, sizeof ev.message, "%s", msg);
    cq_bus_publish(de->bus, s->t_venue, &ev);
}

/* ---- trades, quotes, bars ------------------------------------------------ */

static void emit_bar(void *user, const cq_bar_t *bar)
{
    bar_slot_t *slot = user;
    slot->de->stats.bars++;
    cq_bus_publish(slot->de->bus, slot->topic, bar);
}

int cq_data_trade(cq_data_engine_t *de, const cq_trade_t *t)
{
    if (!de || !t)
        return CQ_EINVAL;
    inst_state_t *s = state_of(de, t->hdr.instrument);
    if (!s)
        return CQ_ENOENT;
    if (!(t->price >= 0) || !(t->qty >= 0)) { /* also rejects NaN */
        de->stats.bad_data++;
        return CQ_EINVAL;
    }
    de->stats.trades++;
    cq_cache_trade_set(de->cache, t);
    for (size_t i = 0; i < s->nbars; i++)
        cq_bar_agg_trade(&s->bars[i]->agg, t);
    cq_bus_publish(de->bus, s->t_trades, t);
    return 0;
}

int cq_data_quote(cq_data_engine_t *de, const cq_quote_t *q)
{
    if (!de || !q)
        return CQ_EINVAL;
    inst_state_t *s = state_of(de, q->hdr.instrument);
    if (!s)
        return CQ_ENOENT;
    if (!(q->bid_price >= 0) || !(q->ask_price >= 0) || !(q->bid_qty >= 0) || !(q->ask_qty >= 0)) {
        de->stats.bad_data++;
        return CQ_EINVAL;
    }
    de->stats.quotes++;
    cq_cache_quote_set(de->cache, q);
    cq_bus_publish(de->bus, s->t_quotes, q);
    return 0;
}

int cq_data_add_bars(cq_data_engine_t *de, uint32_t instrument, const char *spec_text, int fill_empty)
{
    if (!de || !spec_text)
        return CQ_EINVAL;
    cq_bar_spec_t spec;
    int rc = cq_bar_spec_parse(spec_text, &spec);
    if (rc < 0)
        return rc;
    inst_state_t *s = state_of(de, instrument);
    if (!s)
        return CQ_ENOENT;
    const cq_instrument_t *ins = cq_cache_instrument(de->cache, instrument);
    char canon[CQ_BAR_SPEC_MAX + 1], name[CQ_BUS_TOPIC_MAX + 1];
    if ((rc = cq_bar_spec_format(&spec, canon, sizeof canon)) < 0)
        return rc;
    for (size_t i = 0; i < s->nbars; i++) {
        char other[CQ_BAR_SPEC_MAX + 1];
        cq_bar_spec_format(&s->bars[i]->agg.spec, other, sizeof other);
        if (!strcmp(other, canon))
            return CQ_EEXIST;
    }
    int n = snprintf(name, sizeof name, "data.bars.%s.%s.%s", ins->venue, ins->symbol, canon);
    if (n < 0 || (size_t)n >= sizeof name)
        return CQ_ETOOLONG;
    bar_slot_t *slot = calloc(1, sizeof *slot);
    bar_slot_t **bars = realloc(s->bars, (s->nbars + 1) * sizeof *bars);
    if (!slot || !bars) {
        free(slot);
        if (bars)
            s->bars = bars;
        return CQ_ENOMEM;
    }
    s->bars = bars;
    slot->de = de;
    if ((rc = cq_bus_topic(de->bus, name, &slot->topic)) < 0 ||
        (rc = cq_bar_agg_init(&slot->agg, instrument, &spec, emit_bar, slot)) < 0) {
        free(slot);
        return rc;
    }
    slot->agg.fill_empty = fill_empty;
    s->bars[s->nbars++] = slot;
    de->nbars++;
    return 0;
}

int cq_data_bar(cq_data_engine_t *de, const cq_bar_t *bar, const char *spec)
{
    if (!de || !bar || !spec || !*spec || strlen(spec) > CQ_BAR_SPEC_MAX)
        return CQ_EINVAL;
    inst_state_t *s = state_of(de, bar->hdr.instrument);
    if (!s)
        return CQ_ENOENT;
    if (!(bar->low <= bar->high) || !(bar->volume >= 0)) {
        de->stats.bad_data++;
        return CQ_EINVAL;
    }
    ext_bar_t *eb = NULL;
    for (size_t i = 0; i < s->next_bars; i++)
        if (!strcmp(s->ext_bars[i].spec, spec))
            eb = &s->ext_bars[i];
    if (!eb) {
        const cq_instrument_t *ins = cq_cache_instrument(de->cache, bar->hdr.instrument);
        char name[CQ_BUS_TOPIC_MAX + 1];
        cq_topic_t topic;
        int n = snprintf(name, sizeof name, "data.bars.%s.%s.%s", ins->venue, ins->symbol, spec);
        if (n < 0 || (size_t)n >= sizeof name)
            return CQ_ETOOLONG;
        int rc = cq_bus_topic(de->bus, name, &topic); /* rejects wildcards */
        if (rc < 0)
            return rc;
        ext_bar_t *p = realloc(s->ext_bars, (s->next_bars + 1) * sizeof *p);
        if (!p)
            return CQ_ENOMEM;
        s->ext_bars = p;
        eb = &s->ext_bars[s->next_bars++];
        snprintf(eb->spec, sizeof eb->spec, "%s", spec);
        eb->topic = topic;
    }
    de->stats.bars++;
    cq_bus_publish(de->bus, eb->topic, bar);
    return 0;
}

int cq_data_advance(cq_data_engine_t *de, int64_t now)
{
    if (!de)
        return CQ_EINVAL;
    int total = 0;
    if (!de->nbars) /* the runtime calls this before every event */
        return 0;
    for (size_t i = 0; i < de->ninst; i++)
        for (size_t j = 0; j < de->inst[i].nbars; j++) {
            int rc = cq_bar_agg_advance(&de->inst[i].bars[j]->agg, now);
            if (rc > 0)
                total += rc;
        }
    return total;
}

/* ---- books ----------------------------------------------------------------- */

static void publish_book(cq_data_engine_t *de, inst_state_t *s, uint32_t instrument,
                         int64_t ts_event, int64_t ts_init)
{
    cq_book_event_t ev;
    memset(&ev, 0, sizeof ev);
    cq_book_top(s->book, &ev);
    ev.hdr.type = CQ_EV_BOOK;
    ev.hdr.flags = CQ_EVF_LAST;
    ev.hdr.instrument = instrument;
    ev.hdr.ts_event = ts_event;
    ev.hdr.ts_init = ts_init;
    ev.sequence = s->last_id;
    cq_bus_publish(de->bus, s->t_book, &ev);
}

static void request_snapshot(cq_data_engine_t *de, inst_state_t *s, uint32_t instrument)
{
    s->snapshot_pending = 1;
    de->stats.snapshot_requests++;
    if (de->cfg.request_snapshot)
        de->cfg.request_snapshot(de->cfg.request_user, instrument);
}

/* Forget the k oldest buffered diffs and compact the entry arena, so a
 * book that stays unsynced for long holds a bounded amount of memory. */
static void drop_buffered(inst_state_t *s, size_t k)
{
    if (k >= s->nbuf) {
        s->nbuf = 0;
        s->nents = 0;
        return;
    }
    size_t base = s->buf[k].off;
    memmove(s->buf, s->buf + k, (s->nbuf - k) * sizeof *s->buf);
    s->nbuf -= k;
    memmove(s->ents, s->ents + base, (s->nents - base) * sizeof *s->ents);
    s->nents -= base;
    for (size_t i = 0; i < s->nbuf; i++)
        s->buf[i].off -= base;
}

static int buffer_diff(cq_data_engine_t *de, inst_state_t *s, const cq_book_batch_t *b)
{
    size_t need = b->nbids + b->nasks;
    if (s->nbuf >= de->cfg.max_buffered) {
        drop_buffered(s, 1);
        de->stats.buffer_overflows++;
    }
    if (s->nbuf == s->capbuf) {
        size_t n = s->capbuf ? s->capbuf * 2 : 64;
        buffered_diff_t *p = realloc(s->buf, n * sizeof *p);
        if (!p)
            return CQ_ENOMEM;
        s->buf = p;
        s->capbuf = n;
    }
    if (s->nents + need > s->capents) {
        size_t n = s->capents ? s->capents : 1024;
        while (n < s->nents + need)
            n *= 2;
        cq_book_entry_t *p = realloc(s->ents, n * sizeof *p);
        if (!p)
            return CQ_ENOMEM;
        s->ents = p;
        s->capents = n;
    }
    buffered_diff_t *d = &s->buf[s->nbuf++];
    d->first_id = b->first_id;
    d->last_id = b->last_id;
    d->ts_event = b->ts_event;
    d->ts_init = b->ts_init;
    d->off = s->nents;
    d->nbids = b->nbids;
    d->nasks = b->nasks;
    if (b->nbids)
        memcpy(s->ents + s->nents, b->bids, b->nbids * sizeof *b->bids);
    if (b->nasks)
        memcpy(s->ents + s->nents + b->nbids, b->asks, b->nasks * sizeof *b->asks);
    s->nents += need;
    de->stats.buffered++;
    return 0;
}

/* The book no longer matches the venue's: stop publishing, announce, ask
 * for a snapshot; diffs are buffered until it comes. The caller decides
 * which buffered diffs are still worth keeping. */
static void start_resync(cq_data_engine_t *de, inst_state_t *s, uint32_t instrument, int64_t ts,
                         const char *why)
{
    s->synced = 0;
    s->need_first = 0;
    s->resyncing = 1;
    cq_book_clear(s->book);
    cq_logf(de->cfg.log, CQ_LOG_WARN, "data", "%s book %u: %s; resyncing", s->venue, instrument, why);
    publish_venue(de, s, instrument, CQ_VENUE_RESYNC, ts, why);
    request_snapshot(de, s, instrument);
}

/* Apply one diff to a synced book, with the sequence rules. Returns 0
 * (applied), 1 (stale: already covered, dropped),
 * CQ_EGAP (sequence gap: not applied, resync started), CQ_ESTATE (applied,
 * left the book crossed: resync started) or CQ_EINVAL (bad level: not
 * applied, resync started). */
static int apply_diff(cq_data_engine_t *de, inst_state_t *s, uint32_t instrument, const cq_book_batch_t *b)
{
    int ids = b->first_id || b->last_id;
    if (ids) {
        if (b->last_id <= s->last_id) {
            de->stats.stale++;
            return 1;
        }
        int ok = s->need_first ? (b->first_id <= s->last_id + 1) : (b->first_id == s->last_id + 1);
        if (!ok) {
            de->stats.gaps++;
            char why[64];
            snprintf(why, sizeof why, "gap: expected %llu, got %llu", (unsigned long long)s->last_id + 1,
                     (unsigned long long)b->first_id);
            start_resync(de, s, instrument, b->ts_init, why);
            return CQ_EGAP;
        }
    }
    int rc = cq_book_apply(s->book, b->bids, b->nbids, b->asks, b->nasks);
    if (rc == CQ_EINVAL) {
        de->stats.bad_data++;
        start_resync(de, s, instrument, b->ts_init, "bad level in diff");
        return rc;
    }
    de->stats.batches++;
    if (ids)
        s->last_id = b->last_id;
    s->need_first = 0;
    if (rc == CQ_ESTATE) {
        de->stats.crossed++;
        start_resync(de, s, instrument, b->ts_init, "book crossed or locked");
        return CQ_ESTATE;
    }
    return 0;
}

int cq_data_book_batch(cq_data_engine_t *de, const cq_book_batch_t *b)
{
    if (!de || !b || (b->nbids && !b->bids) || (b->nasks && !b->asks))
        return CQ_EINVAL;
    inst_state_t *s = state_of(de, b->instrument);
    if (!s)
        return CQ_ENOENT;
    if (!s->synced) {
        int rc = buffer_diff(de, s, b);
        if (!s->snapshot_pending)
            request_snapshot(de, s, b->instrument);
        return rc;
    }
    int rc = apply_diff(de, s, b->instrument, b);
    if (rc == 0) {
        publish_book(de, s, b->instrument, b->ts_event, b->ts_init);
    } else if (rc == 1) {
        rc = 0;
    } else if (rc == CQ_EGAP) {
        /* This diff may be the first to apply after the next snapshot. */
        drop_buffered(s, s->nbuf);
        buffer_diff(de, s, b);
    } else if (rc == CQ_ESTATE) {
        drop_buffered(s, s->nbuf);
        rc = CQ_EGAP; /* to the caller: a resync started */
    }
    return rc;
}

int cq_data_book_snapshot(cq_data_engine_t *de, const cq_book_batch_t *b)
{
    if (!de || !b || (b->nbids && !b->bids) || (b->nasks && !b->asks))
        return CQ_EINVAL;
    inst_state_t *s = state_of(de, b->instrument);
    if (!s)
        return CQ_ENOENT;
    int rc = cq_book_snapshot(s->book, b->bids, b->nbids, b->asks, b->nasks);
    if (rc == CQ_EINVAL || rc == CQ_ENOMEM) {
        de->stats.bad_data++;
        cq_book_clear(s->book);
        s->synced = 0;
        return rc;
    }
    de->stats.snapshots++;
    if (rc == CQ_ESTATE) {
        de->stats.crossed++;
        start_resync(de, s, b->instrument, b->ts_init, "snapshot crossed or locked");
        return CQ_EGAP;
    }
    s->snapshot_pending = 0;
    s->synced = 1;
    s->last_id = b->last_id;
    s->need_first = b->last_id != 0;
    /* Replay what was buffered while waiting, with the same rules. */
    size_t n = s->nbuf;
    int64_t ts_event = b->ts_event, ts_init = b->ts_init;
    for (size_t i = 0; i < n && s->synced; i++) {
        const buffered_diff_t *d = &s->buf[i];
        if (s->need_first && d->first_id > s->last_id + 1 && d->last_id > s->last_id) {
            /* The oldest diff we hold starts after the snapshot: the
             * snapshot is too old. Keep what we have and ask again. */
            drop_buffered(s, i);
            s->synced = 0;
            s->need_first = 0;
            cq_book_clear(s->book);
            de->stats.gaps++;
            request_snapshot(de, s, b->instrument);
            return CQ_EGAP;
        }
        cq_book_batch_t db = {b->instrument, d->first_id, d->last_id, d->ts_event, d->ts_init,
                              s->ents + d->off, d->nbids, s->ents + d->off + d->nbids, d->nasks};
        int arc = apply_diff(de, s, b->instrument, &db);
        if (arc < 0) {
            /* A gap inside the buffer: keep the diffs from this one on (a
             * crossed or bad one is dropped) for the next snapshot. */
            drop_buffered(s, arc == CQ_EGAP ? i : i + 1);
            return CQ_EGAP;
        }
        if (d->ts_init > ts_init) {
            ts_event = d->ts_event;
            ts_init = d->ts_init;
        }
    }
    s->nbuf = 0;
    s->nents = 0;
    if (s->resyncing) {
        s->resyncing = 0;
        de->stats.resyncs++;
        publish_venue(de, s, b->instrument, CQ_VENUE_RESYNCED, b->ts_init, "book resynced");
    }
    publish_book(de, s, b->instrument, ts_event, ts_init);
    return 0;
}

int cq_data_book_resync(cq_data_engine_t *de, uint32_t instrument)
{
    if (!de)
        return CQ_EINVAL;
    inst_state_t *s = state_of(de, instrument);
    if (!s)
        return CQ_ENOENT;
    s->synced = 0;
    s->need_first = 0;
    drop_buffered(s, s->nbuf);
    cq_book_clear(s->book);
    request_snapshot(de, s, instrument);
    return 0;
}

static const inst_state_t *find_state(const cq_data_engine_t *de, uint32_t instrument)
{
    if (!de || instrument >= de->ninst || !de->inst[instrument].ready)
        return NULL;
    return &de->inst[instrument];
}

const cq_book_t *cq_data_book(const cq_data_engine_t *de, uint32_t instrument)
{
    const inst_state_t *s = find_state(de, instrument);
    return s ? s->book : NULL;
}

int cq_data_book_valid(const cq_data_engine_t *de, uint32_t instrument)
{
    const inst_state_t *s = find_state(de, instrument);
    return s ? s->synced : 0;
}

uint64_t cq_data_book_last_id(const cq_data_engine_t *de, uint32_t instrument)
{
    const inst_state_t *s = find_state(de, instrument);
    return s ? s->last_id : 0;
}

void cq_data_stats(const cq_data_engine_t *de, cq_data_stats_t *out)
{
    if (de && out)
        *out = de->stats;
}
