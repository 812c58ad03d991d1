/*
 * replay.h - replay a .cqd file through the DataEngine.
 *
 * The replay reader is a venue adapter for recorded data: it opens the file,
 * registers the file's instruments in the cache (adding or replacing their
 * specs), and feeds the records to the DataEngine in file order (receive
 * time), turning runs of book-delta records into one batch or snapshot per
 * venue update. Everything after that (sync checks, books, cache, bars,
 * publishing) is the DataEngine's, exactly as for live data.
 *
 * Events are stepped one at a time so a driver can interleave several files
 * and timers by time (cq_replay_peek_ts), or run to the end.
 */
#ifndef CQUANT_REPLAY_H
#define CQUANT_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/cache.h"
#include "cquant/cqd.h"
#include "cquant/data_engine.h"

typedef struct cq_replay cq_replay_t;

typedef struct cq_replay_stats {
    uint64_t records;      /* records read */
    uint64_t events;       /* events handed over (a book batch counts once) */
    uint64_t trades, quotes, batches, snapshots, bars;
    uint64_t rejected;     /* the DataEngine refused the event (gap, bad data...) */
    uint64_t broken_batches; /* a delta run interrupted before its LAST record */
} cq_replay_stats_t;

/* Open path and register its instruments in cache. On error, err gets a
 * one-line message. */
int cq_replay_open(cq_replay_t **out, const char *path, cq_data_engine_t *de, cq_cache_t *cache,
                   char *err, size_t errlen);
void cq_replay_close(cq_replay_t *r);

/* Receive time of the next event, or INT64_MAX at the end. */
int64_t cq_replay_peek_ts(const cq_replay_t *r);

/* Hand the next event to the DataEngine: 1 done, 0 at the end, CQ_ECORRUPT
 * if the file failed a checksum (message: cq_replay_error). The DataEngine's
 * own refusals are counted in stats.rejected, not returned. */
int cq_replay_next(cq_replay_t *r);

/* Run to the end (or until a corrupt block); *events gets the number
 * handed over. */
int cq_replay_run(cq_replay_t *r, uint64_t *events);

void cq_replay_stats(const cq_replay_t *r, cq_replay_stats_t *out);
const char *cq_replay_error(const cq_replay_t *r);
const cq_cqd_reader_t *cq_replay_reader(const cq_replay_t *r);

#endif
