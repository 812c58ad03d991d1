/*
 * synth.h - a seeded synthetic market: one instrument's order flow with a
 * realistic shape, for `cquant run --venue sim`, `cquant generate` and
 * `make demo`.
 *
 * The model (docs/synth.md): a mid-price process with volatility clustering
 * (GARCH(1,1)-like variance on log returns), trades arriving as a Poisson
 * process whose intensity rises with volatility, aggressor sides that move
 * the price, and an L2 book of `levels` levels per side around the mid
 * whose sizes grow away from the touch, replenished and perturbed over
 * time. Book updates come as batches with contiguous update ids (first =
 * previous last + 1) after an initial snapshot, exactly as a venue's diff
 * stream, so the DataEngine's sync checks apply unchanged. Trades print at
 * prices the book showed.
 *
 * Deterministic: the same config gives the same records, bit for bit, on
 * every machine (no libm call whose result may differ between libcs is on
 * the path that decides an output - or if one is, the output is rounded to
 * ticks/steps first, which makes it exact).
 *
 * Output is a stream of .cqd records (cqd.h), in ts_init order, each book
 * batch as consecutive delta records whose last carries CQ_EVF_LAST. The
 * same stream feeds a .cqd writer (cq_synth_write) or, through
 * cq_synth_attach / cq_synth_next, the DataEngine in real time.
 */
#ifndef CQUANT_SYNTH_H
#define CQUANT_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/cache.h"
#include "cquant/cqd.h"
#include "cquant/data_engine.h"

typedef struct cq_synth_config {
    uint64_t seed;
    int64_t start_ns;          /* time of the first event (0 = 2026-01-05T00:00:00Z) */
    const char *symbol;        /* NULL = "BTCUSDT" */
    const char *venue;         /* NULL = "SIM"; the instrument is SYMBOL.VENUE */
    double start_price;        /* 0 = 60000 */
    double annual_vol;         /* long-run volatility, 0 = 0.6 (60 %/yr) */
    double trades_per_sec;     /* mean trade arrival rate, 0 = 20 */
    int64_t book_interval_ns;  /* between book batches, 0 = 100 ms */
    uint32_t levels;           /* per side, 0 = 20 */
} cq_synth_config_t;

typedef struct cq_synth cq_synth_t;

/* CQ_EINVAL for NULL or a value out of range: start_ns < 0, a symbol or
 * venue not of 1..23 / 1..15 [A-Za-z0-9_-], start_price outside [1, 1e9],
 * annual_vol outside (0, 5], trades_per_sec outside (0, 1e5],
 * book_interval_ns outside [1 ms, 60 s], levels > 1000 (NaN is out of
 * every range; 0 means the default everywhere). */
int cq_synth_create(cq_synth_t **out, const cq_synth_config_t *cfg);
void cq_synth_destroy(cq_synth_t *s);

/* The instrument the stream is for (BTCUSDT-like increments: tick 0.01,
 * step 0.00001, min notional 5). */
const cq_cqd_instrument_t *cq_synth_instrument(const cq_synth_t *s);

/* Next record of the stream (it never ends). Its instrument field is 0. */
int cq_synth_record(cq_synth_t *s, cq_cqd_record_t *out);

/* Write `minutes` minutes of the stream to a .cqd file at path: every
 * event whose ts_event is before start + minutes, whole batches only (the
 * opening snapshot always). CQ_EINVAL for a bad config, path or minutes
 * (must be in (0, 1e7]); the writer's errors otherwise. err gets a one-line
 * message. *records (may be NULL) gets the number written. */
int cq_synth_write(const cq_synth_config_t *cfg, double minutes, const char *path,
                   uint64_t *records, char *err, size_t errlen);

/* Counters since creation, of what was handed out (whole events). */
typedef struct cq_synth_stats {
    uint64_t records;        /* returned by cq_synth_record */
    uint64_t events;         /* trades and book batches (incl. the snapshot) */
    uint64_t trades;
    uint64_t batches;        /* book batches, the snapshot included */
    uint64_t deltas;         /* level changes in those batches (an empty batch counts 0) */
    uint64_t dropped_trades; /* arrivals that found the touch already taken: not printed */
    uint64_t rejected;       /* events the DataEngine refused (cq_synth_next) */
} cq_synth_stats_t;

void cq_synth_stats(const cq_synth_t *s, cq_synth_stats_t *out);

/* Real-time use: register the instrument in the cache (its handle goes to
 * *instrument) and hand events to the DataEngine. */
int cq_synth_attach(cq_synth_t *s, cq_data_engine_t *de, cq_cache_t *cache, uint32_t *instrument);
/* ts_init of the next event (a trade, or a whole book batch). */
int64_t cq_synth_peek_ts(const cq_synth_t *s);
/* Hand the next event to the DataEngine (a book batch as one batch, the
 * first one as a snapshot). 1 done; CQ_ESTATE if not attached, or if
 * cq_synth_record has handed out part of the current event (use one or the
 * other on a stream, not both). A DataEngine refusal is counted
 * (stats.rejected), not returned, as a replay does. */
int cq_synth_next(cq_synth_t *s);

#endif
