/*
 * importer.h - turning recorded data in other formats into a .cqd file.
 *
 * An import session (cq_import_t) collects normalized records from any
 * number of input files, keeps the instrument table, merges everything by
 * ts_init and writes one .cqd file. Format readers feed it; this build has
 * the CSV ones (Tardis trades / quotes / incremental_book_L2, OHLCV) and the
 * Binance Spot recordings (hftbacktest "<recv_ns> <json>" lines, cryptofeed
 * "<recv_s>: <json>" and REST lines; runtime/venue/import_binance.c).
 *
 * Adding a format (e.g. Binance recordings): parse the input, and for each
 * event
 *   1. cq_import_instrument()  -> the instrument's table index;
 *   2. cq_import_fit()         -> declare the decimals of the event's prices
 *                                 and sizes (raises an inferred precision);
 *   3. cq_import_units()       -> each decimal as int64 units at the
 *                                 instrument's precision;
 *   4. cq_import_add()         -> the record, prices and sizes in units;
 * and cq_import_report() for each malformed line. Then give cq_import_file
 * (runtime/venue/import.c) a way to recognize the format from its first
 * line, next to the CSV header detection.
 *
 * Instrument specs come from cq_import_define ("--instrument" text) or are
 * inferred: the precision is the largest number of significant decimals
 * seen in the data, with a tick (step) of one unit at that precision.
 * While inferring, records are staged at the current precision and rescaled
 * when a value with more decimals appears; at the end units become ticks.
 *
 * Everything is held in memory until cq_import_write (64 bytes a record),
 * then stable-sorted by ts_init: equal times keep input order (file order,
 * then line order).
 */
#ifndef CQUANT_IMPORTER_H
#define CQUANT_IMPORTER_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/cqd.h"

typedef struct cq_import cq_import_t;

/* Receives each "file:line: reason" message (no newline). */
typedef void (*cq_import_msg_fn)(void *user, const char *msg);

typedef struct cq_import_opts {
    int strict;                  /* 1: the first malformed line fails the import */
    int64_t bar_interval_ns;     /* OHLCV bar length; 0 = infer per file */
    cq_import_msg_fn on_message; /* NULL = print to stderr */
    void *user;
    /* Binance recordings (their lines name no venue). Both are copied. */
    const char *venue;           /* venue of their instrument ids; NULL = "BINANCE" */
    const char *snapshot_symbol; /* symbol of a bare REST depth snapshot (hftbacktest
                                    records it without one) in a file whose frames do
                                    not name exactly one symbol; NULL = none */
} cq_import_opts_t;

typedef struct cq_import_stats {
    uint64_t lines;       /* data lines read (headers excluded) */
    uint64_t records;     /* records staged */
    uint64_t skipped;     /* malformed lines reported and skipped */
    uint32_t files;
    uint32_t instruments;
} cq_import_stats_t;

/* CQ_EINVAL for a negative bar interval, a venue that is not 1..15 of
 * [A-Za-z0-9_-], or a snapshot symbol that is not 1..23 of them. */
int cq_import_create(cq_import_t **out, const cq_import_opts_t *opts);
void cq_import_destroy(cq_import_t *imp);

/*
 * Declare an instrument: "SYMBOL.VENUE[:key=value]...". Keys: tick, step
 * (decimal increments, e.g. tick=0.01, tick=0.5), min_qty, max_qty,
 * min_notional, base, quote. Data rows whose symbol is SYMBOL use this
 * instrument (and its venue). tick/step fix the precision: a value with
 * more decimals, or not a multiple of the increment, is a malformed line.
 * CQ_EINVAL (with a message in cq_import_error) for bad text; CQ_EEXIST if
 * defined twice.
 */
int cq_import_define(cq_import_t *imp, const char *spec);

/*
 * Offer a spec in cq_import_define's text: unlike a defined one, it enters
 * the instrument table only when a data row of the same symbol AND venue
 * appears (so a catalogue of 1,600 symbols adds only those traded in the
 * data). An --instrument with that symbol still wins; a later offer of the
 * same id replaces an earlier one. Errors as cq_import_define.
 */
int cq_import_offer(cq_import_t *imp, const char *spec);

/*
 * Offer the spec of every symbol of a Binance /api/v3/exchangeInfo response
 * (PRICE_FILTER tickSize, LOT_SIZE stepSize / minQty / maxQty,
 * MIN_NOTIONAL or NOTIONAL minNotional, base and quote assets) with the
 * session's Binance venue. The file (plain or gzip) is either the JSON body
 * or a recording with a cryptofeed line "https://.../exchangeInfo -> <t>:
 * {...}". A zero tickSize or stepSize leaves that precision to inference; a
 * symbol whose filters make no valid spec is left out. *count (optional)
 * gets the number of symbols offered. CQ_EIO (cannot read), CQ_EPARSE (no
 * exchangeInfo body with a "symbols" array), CQ_ETOOLONG (over 64 MiB),
 * CQ_ENOMEM; the message is in cq_import_error.
 */
int cq_import_exchange_info(cq_import_t *imp, const char *path, size_t *count);

/* Import one file, detecting its format from the first line; gzip or
 * plain. CQ_EIO (cannot read), CQ_EPARSE (unknown format, or a malformed
 * line in strict mode), CQ_ENOMEM... Messages go to on_message. */
int cq_import_file(cq_import_t *imp, const char *path);

/* Merge by ts_init and write the .cqd file (atomically, see cq_cqd_writer).
 * CQ_ESTATE if nothing was imported. */
int cq_import_write(cq_import_t *imp, const char *out_path);

void cq_import_get_stats(const cq_import_t *imp, cq_import_stats_t *out);

/* The message of the last failure ("" if none). */
const char *cq_import_error(const cq_import_t *imp);

/* ---- the hook for format readers ------------------------------------------------ */

/* The instrument for (symbol, venue) of a data row: a defined one with that
 * symbol (same venue first), else a new one with id SYMBOL.VENUE whose
 * spec is inferred. CQ_ETOOLONG if a name does not fit its field. */
int cq_import_instrument(cq_import_t *imp, const char *symbol, const char *venue, uint32_t *index);

/* Make sure instrument `index` can hold prices with price_decimals and
 * sizes with size_decimals significant decimals. An inferred precision
 * rises (staged records are rescaled). CQ_ERANGE, changing nothing, if the
 * precision is fixed or the rise would overflow an earlier value.
 * Call before cq_import_units for the values of one event. */
int cq_import_fit(cq_import_t *imp, uint32_t index, int32_t price_decimals, int32_t size_decimals);

enum { CQ_IMPORT_PRICE = 0, CQ_IMPORT_SIZE = 1 };

/* mantissa * 10^-decimals as units of the instrument's current price or
 * size precision. CQ_ERANGE if it needs more decimals than the precision,
 * is not a multiple of a declared tick/step, or overflows int64. */
int cq_import_units(const cq_import_t *imp, uint32_t index, int kind, int64_t mantissa, int32_t decimals,
                    int64_t *units);

/* Stage one record; prices and sizes in units from cq_import_units. Any
 * ts_init order. CQ_EINVAL for an unknown type or instrument index. */
int cq_import_add(cq_import_t *imp, const cq_cqd_record_t *rec);

/* Report a malformed input line as "file:line: reason" and count it.
 * Returns CQ_EPARSE in strict mode (stop), else 0 (skip the line). */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
int cq_import_report(cq_import_t *imp, const char *file, uint64_t line, const char *fmt, ...);

/* Count a data line read (for the statistics). */
void cq_import_count_line(cq_import_t *imp);

#endif
