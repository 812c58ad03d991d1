/*
 * data_engine.h - the DataEngine: market data from adapters to the cache,
 * the books and the bus.
 *
 * Adapters hand it normalized data: trades, quotes, book batches (one venue
 * update: a set of level changes with the venue's first and last update id)
 * and book snapshots. For each it checks that the instrument is known,
 * applies the data (book, cache, bar aggregators) and publishes on the
 * topics of DESIGN.md:
 *
 *   data.trades.<VENUE>.<SYMBOL>        cq_trade_t
 *   data.quotes.<VENUE>.<SYMBOL>        cq_quote_t
 *   data.book.<VENUE>.<SYMBOL>          cq_book_event_t (after each batch)
 *   data.bars.<VENUE>.<SYMBOL>.<SPEC>   cq_bar_t
 *   events.venue.<VENUE>                cq_venue_event_t (resync, resynced)
 *
 * Book synchronisation (the procedure Binance documents, which fits any venue
 * whose diffs carry a first and last update id):
 *   1. Until a snapshot is applied, diffs are buffered, not applied.
 *   2. A snapshot with id L replaces the book. Buffered diffs with last <= L
 *      are dropped; the first one applied must have first <= L+1 <= last.
 *      If the oldest remaining one starts after L+1, the snapshot is too old:
 *      the book stays unsynced and a new snapshot is requested.
 *   3. After that each diff's first must equal the previous diff's last + 1.
 *      Diffs with last <= the applied id are stale and dropped (counted).
 *   4. Anything else is a gap: the book is marked invalid, cleared, a
 *      CQ_VENUE_RESYNC event is published on events.venue.<VENUE>, the
 *      adapter is asked for a snapshot (request_snapshot callback), and
 *      diffs are buffered again (back to 1). An invalid book is never
 *      published. Publishing resumes after a good resync (CQ_VENUE_RESYNCED).
 * A batch that leaves the book crossed or locked is treated as a gap too.
 * A venue without update ids passes 0 for both: no sequence checks.
 */
#ifndef CQUANT_DATA_ENGINE_H
#define CQUANT_DATA_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/bar.h"
#include "cquant/book.h"
#include "cquant/bus.h"
#include "cquant/cache.h"
#include "cquant/event.h"
#include "cquant/log.h"

typedef struct cq_data_engine cq_data_engine_t;

/* One venue book update, in the instrument's integer units. */
typedef struct cq_book_batch {
    uint32_t instrument;
    uint64_t first_id;     /* venue's first update id in this batch (U) */
    uint64_t last_id;      /* venue's last update id (u); snapshot: lastUpdateId */
    int64_t ts_event;
    int64_t ts_init;
    const cq_book_entry_t *bids;
    size_t nbids;
    const cq_book_entry_t *asks;
    size_t nasks;
} cq_book_batch_t;

/* Asks the adapter for a fresh snapshot of an instrument's book. */
typedef void (*cq_snapshot_request_fn)(void *user, uint32_t instrument);

typedef struct cq_data_engine_config {
    cq_snapshot_request_fn request_snapshot; /* may be NULL */
    void *request_user;
    size_t max_buffered;   /* diffs buffered per book while unsynced (default 10000) */
    const cq_log_t *log;   /* may be NULL */
} cq_data_engine_config_t;

typedef struct cq_data_stats {
    uint64_t trades, quotes, batches, snapshots, bars; /* bars: built and venue bars published */
    uint64_t unknown_instrument; /* data for an instrument without a spec */
    uint64_t bad_data;           /* rejected by the book (bad level) */
    uint64_t gaps;               /* sequence gaps detected */
    uint64_t crossed;            /* batches that left the book crossed/locked */
    uint64_t stale;              /* diffs already covered, dropped */
    uint64_t buffered;           /* diffs buffered while unsynced */
    uint64_t buffer_overflows;   /* buffer full: oldest diffs dropped */
    uint64_t resyncs;            /* good snapshots applied after a gap */
    uint64_t snapshot_requests;
} cq_data_stats_t;

int cq_data_engine_create(cq_data_engine_t **out, cq_bus_t *bus, cq_cache_t *cache,
                          const cq_data_engine_config_t *cfg);
void cq_data_engine_destroy(cq_data_engine_t *de);

/* Normalized inputs. Each returns 0 when the data was applied (and
 * published), or a negative code: CQ_ENOENT unknown instrument, CQ_EINVAL bad
 * data, CQ_EGAP a gap was detected (resync started). Book batches while
 * unsynced are buffered and return 0. */
int cq_data_trade(cq_data_engine_t *de, const cq_trade_t *t);
int cq_data_quote(cq_data_engine_t *de, const cq_quote_t *q);
int cq_data_book_batch(cq_data_engine_t *de, const cq_book_batch_t *b);
int cq_data_book_snapshot(cq_data_engine_t *de, const cq_book_batch_t *b);

/* Aggregate bars of an instrument ("1m", "100t", "10v"...) from its trades,
 * published on data.bars.<VENUE>.<SYMBOL>.<SPEC>. */
int cq_data_add_bars(cq_data_engine_t *de, uint32_t instrument, const char *spec, int fill_empty);

/* A bar built by the venue (e.g. a closed Binance kline), published as it is
 * on data.bars.<VENUE>.<SYMBOL>.<spec>. */
int cq_data_bar(cq_data_engine_t *de, const cq_bar_t *bar, const char *spec);

/* Timer: close time bars whose end is <= now. */
int cq_data_advance(cq_data_engine_t *de, int64_t now);

/* Start book synchronisation for an instrument now (buffer diffs, ask for a
 * snapshot). Adapters call this on (re)connect. */
int cq_data_book_resync(cq_data_engine_t *de, uint32_t instrument);

/* The book of an instrument (NULL if it has none yet) and whether it is
 * synced and valid (1) or not (0). */
const cq_book_t *cq_data_book(const cq_data_engine_t *de, uint32_t instrument);
int cq_data_book_valid(const cq_data_engine_t *de, uint32_t instrument);
uint64_t cq_data_book_last_id(const cq_data_engine_t *de, uint32_t instrument);

void cq_data_stats(const cq_data_engine_t *de, cq_data_stats_t *out);

#endif
