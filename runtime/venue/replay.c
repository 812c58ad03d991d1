/*
 * replay.c - a .cqd file as a venue: records in, DataEngine calls out.
 *
 * Owns the reader, a cursor, one record of look-ahead and two growable
 * arrays that collect the levels of a book batch. Allocates only when a
 * batch is larger than any before it. Never judges the data: sequence
 * checks and book validity are the DataEngine's, so a replay behaves exactly
 * like the live feed it was recorded from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/error.h"
#include "cquant/replay.h"

_Static_assert(offsetof(cq_cqd_record_t, instrument) == 4 && sizeof(((cq_cqd_record_t *)0)->flags) == 2,
               "book_batch reads type, flags and instrument as one word");

struct cq_replay {
    cq_cqd_reader_t *reader;
    cq_cqd_cursor_t cur;
    cq_data_engine_t *de;
    const cq_cqd_record_t *next;  /* look-ahead, NULL at the end */
    int err;
    uint32_t *handles;            /* file index -> instrument handle */
    uint32_t ninst;
    cq_book_entry_t *bids, *asks;
    size_t capb, capa;
    cq_replay_stats_t stats;
    char errmsg[160];
};

static inline void advance(cq_replay_t *r)
{
    const cq_cqd_record_t *rec;
    int rc = cq_cqd_next(&r->cur, &rec);
    if (rc == 1) {
        r->next = rec;
        r->stats.records++;
        return;
    }
    r->next = NULL;
    if (rc < 0) {
        r->err = rc;
        snprintf(r->errmsg, sizeof r->errmsg, "%s", cq_cqd_reader_error(r->reader));
    }
}

int cq_replay_open(cq_replay_t **out, const char *path, cq_data_engine_t *de, cq_cache_t *cache,
                   char *err, size_t errlen)
{
    if (!out || !path || !de || !cache)
        return CQ_EINVAL;
    cq_replay_t *r = calloc(1, sizeof *r);
    if (!r)
        return CQ_ENOMEM;
    int rc = cq_cqd_open(&r->reader, path, 0, err, errlen);
    if (rc < 0) {
        free(r);
        return rc;
    }
    cq_cqd_info_t info;
    cq_cqd_get_info(r->reader, &info);
    r->ninst = info.instrument_count;
    r->handles = calloc(r->ninst ? r->ninst : 1, sizeof *r->handles);
    if (!r->handles) {
        cq_replay_close(r);
        return CQ_ENOMEM;
    }
    for (uint32_t i = 0; i < r->ninst; i++) {
        cq_instrument_t spec;
        if ((rc = cq_cqd_instrument_event(r->reader, i, &spec)) < 0 ||
            (rc = cq_cache_instrument_add(cache, &spec, &r->handles[i])) < 0 ||
            (rc = cq_cqd_set_handle(r->reader, i, r->handles[i])) < 0) {
            if (err && errlen)
                snprintf(err, errlen, "%s: instrument %u: %s", path, i, cq_strerror(rc));
            cq_replay_close(r);
            return rc;
        }
    }
    r->de = de;
    cq_cqd_cursor_init(&r->cur, r->reader);
    advance(r);
    *out = r;
    return 0;
}

void cq_replay_close(cq_replay_t *r)
{
    if (!r)
        return;
    cq_cqd_close(r->reader);
    free(r->handles);
    free(r->bids);
    free(r->asks);
    free(r);
}

int64_t cq_replay_peek_ts(const cq_replay_t *r)
{
    return r && r->next ? r->next->ts_init : INT64_MAX;
}

static int push(cq_book_entry_t **a, size_t *cap, size_t n, int64_t tick, int64_t qty)
{
    if (n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        cq_book_entry_t *p = realloc(*a, nc * sizeof *p);
        if (!p)
            return CQ_ENOMEM;
        *a = p;
        *cap = nc;
    }
    (*a)[n] = (cq_book_entry_t){tick, qty};
    return 0;
}

/* Collect one run of delta records (a venue update) and hand it over. */
static int book_batch(cq_replay_t *r)
{
    const cq_cqd_record_t *first = r->next;
    uint32_t index = first->instrument;
    int snapshot = (first->flags & CQ_EVF_SNAPSHOT) != 0;
    size_t nb = 0, na = 0;
    cq_book_batch_t b = {r->handles[index], first->delta.first_update_id, first->delta.update_id,
                         first->ts_event, first->ts_init, NULL, 0, NULL, 0};
    /* A record continues the run if its type, instrument and snapshot flag
     * are the first one's: the first 8 bytes (type, side, flags,
     * instrument; little-endian, as the reader requires) under a mask. */
    uint64_t mask = 0xFFFFFFFF000000FFULL | ((uint64_t)CQ_EVF_SNAPSHOT << 16);
    uint64_t want = ((uint64_t)index << 32) | CQ_EV_BOOK_DELTA | (snapshot ? (uint64_t)CQ_EVF_SNAPSHOT << 16 : 0);
    for (;;) {
        const cq_cqd_record_t *rec = r->next;
        int rc = 0;
        if (rec->side == CQ_SIDE_BUY)
            rc = push(&r->bids, &r->capb, nb++, rec->delta.price, rec->delta.qty);
        else if (rec->side == CQ_SIDE_SELL)
            rc = push(&r->asks, &r->capa, na++, rec->delta.price, rec->delta.qty);
        if (rc < 0)
            return rc;
        int last = (rec->flags & CQ_EVF_LAST) != 0;
        advance(r);
        if (last)
            break;
        const cq_cqd_record_t *n = r->next;
        uint64_t head;
        if (n)
            memcpy(&head, n, sizeof head);
        if (!n || (head & mask) != want || n->delta.update_id != b.last_id) {
            r->stats.broken_batches++; /* hand over what we have */
            break;
        }
    }
    b.bids = r->bids;
    b.nbids = nb;
    b.asks = r->asks;
    b.nasks = na;
    int rc;
    if (snapshot) {
        r->stats.snapshots++;
        rc = cq_data_book_snapshot(r->de, &b);
    } else {
        r->stats.batches++;
        rc = cq_data_book_batch(r->de, &b);
    }
    if (rc < 0)
        r->stats.rejected++;
    return 1;
}

int cq_replay_next(cq_replay_t *r)
{
    if (!r)
        return CQ_EINVAL;
    const cq_cqd_record_t *rec = r->next;
    if (!rec)
        return r->err ? r->err : 0;
    if (rec->instrument >= r->ninst) { /* the reader validates this; be safe */
        advance(r);
        r->stats.rejected++;
        return 1;
    }
    int rc;
    r->stats.events++;
    switch (rec->type) {
    case CQ_EV_BOOK_DELTA:
        return book_batch(r);
    case CQ_EV_TRADE: {
        cq_trade_t t;
        r->stats.trades++;
        rc = cq_cqd_to_trade(r->reader, rec, &t);
        if (rc == 0)
            rc = cq_data_trade(r->de, &t);
        break;
    }
    case CQ_EV_QUOTE: {
        cq_quote_t q;
        r->stats.quotes++;
        rc = cq_cqd_to_quote(r->reader, rec, &q);
        if (rc == 0)
            rc = cq_data_quote(r->de, &q);
        break;
    }
    case CQ_EV_BAR: {
        cq_bar_t b;
        char spec[CQ_BAR_SPEC_MAX + 1];
        r->stats.bars++;
        rc = cq_cqd_to_bar(r->reader, rec, &b);
        if (rc == 0) {
            cq_bar_spec_t s = {.kind = CQ_BAR_TIME, .step_ns = b.hdr.ts_event - b.ts_open};
            rc = cq_bar_spec_format(&s, spec, sizeof spec);
            if (rc >= 0)
                rc = cq_data_bar(r->de, &b, spec);
        }
        break;
    }
    default:
        rc = CQ_EINVAL;
        break;
    }
    if (rc < 0)
        r->stats.rejected++;
    advance(r);
    return 1;
}

int cq_replay_run(cq_replay_t *r, uint64_t *events)
{
    if (!r)
        return CQ_EINVAL;
    int rc;
    uint64_t n = 0;
    while ((rc = cq_replay_next(r)) == 1)
        n++;
    if (events)
        *events = n;
    return rc;
}

void cq_replay_stats(const cq_replay_t *r, cq_replay_stats_t *out)
{
    if (r && out)
        *out = r->stats;
}

const char *cq_replay_error(const cq_replay_t *r)
{
    return r && r->errmsg[0] ? r->errmsg : "";
}

const cq_cqd_reader_t *cq_replay_reader(const cq_replay_t *r)
{
    return r ? r->reader : NULL;
}
