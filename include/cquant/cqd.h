/*
 * cqd.h - the .cqd recorded-data file: writer, mmap reader, record helpers.
 *
 * A .cqd file holds market data (trades, quotes, book deltas, bars) as
 * fixed-size 64-byte little-endian records ordered by ts_init (local receive
 * time), behind a 256-byte header, followed by an instrument table and a
 * table of per-block checksums. docs/cqd.md describes it byte by byte.
 *
 * Prices are int64 ticks and quantities int64 size steps of the record's
 * instrument, so nothing is lost in the file; the doubles of the bus events
 * are computed at read time (cq_cqd_to_trade...), correctly rounded from the
 * exact decimal value.
 *
 * The reader maps the file read-only for its header, tables and seeks; a
 * cursor reads the records two 64 KiB blocks at a time into its own buffer
 * (cheaper than first-touching fresh mapped pages) and verifies each block's
 * checksum before handing out its first record (or all blocks are verified
 * at open with CQ_CQD_VERIFY_ALL). Records are used as they are stored, so
 * the reader needs a little-endian host.
 */
#ifndef CQUANT_CQD_H
#define CQUANT_CQD_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/event.h"

#define CQ_CQD_VERSION 1          /* the newest version this build reads and writes */
#define CQ_CQD_HEADER_SIZE 256
#define CQ_CQD_RECORD_SIZE 64
#define CQ_CQD_INSTRUMENT_SIZE 256
#define CQ_CQD_BLOCK_RECORDS 1024 /* records per checksummed block (64 KiB) */
#define CQ_CQD_MAX_INSTRUMENTS 65536
#define CQ_CQD_MAX_PRECISION 18   /* decimals; 10^18 is the largest power of ten in int64 */

/* CQ_FFI_BEGIN */
/*
 * One record. type is CQ_EV_TRADE, CQ_EV_QUOTE, CQ_EV_BOOK_DELTA or
 * CQ_EV_BAR; flags are CQ_EVF_LAST / CQ_EVF_SNAPSHOT; instrument indexes the
 * file's instrument table. Prices are in ticks (price = ticks * tick_units *
 * 10^-price_precision), quantities in steps (qty = steps * step_units *
 * 10^-size_precision).
 *
 * Bars: ts_event is the bar's open time and ts_init its close time, the
 * moment the bar became known; replay delivers it then and never earlier.
 * Book deltas: qty 0 deletes the level; side is CQ_SIDE_BUY (bid) or
 * CQ_SIDE_SELL (ask). A SNAPSHOT delta that starts a batch (the first of its
 * instrument, or one after a LAST or a non-snapshot delta) clears the book.
 * update_id is the venue's last update id of the batch (Binance u, or the
 * snapshot's lastUpdateId) and first_update_id its first (Binance U; 0 for
 * snapshots and venues without ids). A batch with no level at all (an empty
 * diff, which still advances the sequence) is one delta with side 0
 * (CQ_SIDE_NONE), qty 0 and CQ_EVF_LAST.
 */
typedef struct cq_cqd_record {
    uint8_t type;          /* CQ_EV_* */
    uint8_t side;          /* CQ_SIDE_*: trade aggressor, delta book side */
    uint16_t flags;        /* CQ_EVF_LAST | CQ_EVF_SNAPSHOT */
    uint32_t instrument;   /* index into the instrument table */
    int64_t ts_event;      /* venue time, ns (bar: open time) */
    int64_t ts_init;       /* receive time, ns; the file's order (bar: close time) */
    union {
        struct { int64_t price, qty; uint64_t trade_id; int64_t reserved_[2]; } trade;
        struct { int64_t bid_price, bid_qty, ask_price, ask_qty; uint64_t update_id; } quote;
        struct { int64_t price, qty; uint64_t update_id; uint64_t first_update_id; int64_t reserved_; } delta;
        struct { int64_t open, high, low, close, volume; } bar;
    };
} cq_cqd_record_t;

/*
 * One instrument table entry: everything needed to turn ticks back into the
 * exact decimals. Strings are NUL-terminated within their arrays.
 */
typedef struct cq_cqd_instrument {
    char id[48];             /* "BTCUSDT.BINANCE" */
    char symbol[24];
    char venue[16];
    char base[16];           /* "" when unknown */
    char quote[16];
    int32_t price_precision; /* decimals of a price */
    int32_t size_precision;  /* decimals of a quantity */
    int64_t tick_units;      /* tick size = tick_units * 10^-price_precision */
    int64_t step_units;      /* step size = step_units * 10^-size_precision */
    int64_t min_qty;         /* in 10^-size_precision units; 0 = none */
    int64_t max_qty;         /* likewise; 0 = none */
    int64_t min_notional;    /* mantissa: min_notional * 10^-min_notional_decimals */
    int32_t min_notional_decimals;
    uint32_t reserved_;
    uint8_t reserved2_[80];
} cq_cqd_instrument_t;
/* CQ_FFI_END */

_Static_assert(sizeof(cq_cqd_record_t) == CQ_CQD_RECORD_SIZE, "cq_cqd_record_t size changed");
_Static_assert(_Alignof(cq_cqd_record_t) == 8, "cq_cqd_record_t alignment changed");
_Static_assert(offsetof(cq_cqd_record_t, ts_event) == 8, "record layout");
_Static_assert(offsetof(cq_cqd_record_t, ts_init) == 16, "record layout");
_Static_assert(offsetof(cq_cqd_record_t, trade.trade_id) == 40, "record layout");
_Static_assert(offsetof(cq_cqd_record_t, quote.update_id) == 56, "record layout");
_Static_assert(offsetof(cq_cqd_record_t, delta.update_id) == 40, "record layout");
_Static_assert(offsetof(cq_cqd_record_t, bar.volume) == 56, "record layout");
_Static_assert(sizeof(cq_cqd_instrument_t) == CQ_CQD_INSTRUMENT_SIZE, "cq_cqd_instrument_t size changed");
_Static_assert(offsetof(cq_cqd_instrument_t, price_precision) == 120, "instrument layout");
_Static_assert(offsetof(cq_cqd_instrument_t, min_notional_decimals) == 168, "instrument layout");

/* Summary of an open file (from its header). */
typedef struct cq_cqd_info {
    uint32_t version;
    uint32_t instrument_count;
    uint64_t record_count;
    uint64_t block_count;
    int64_t ts_init_first;   /* 0 when the file has no records */
    int64_t ts_init_last;
    int64_t ts_event_min;
    int64_t ts_event_max;
    uint64_t count[CQ_EV_COUNT_]; /* records per CQ_EV_* type */
} cq_cqd_info_t;

/* The file's checksum (docs/cqd.md, "Checksum"): 8 lanes of 64-bit
 * Fletcher sums over little-endian words, then a multiply-xor fold. Fast
 * (about 0.6 ns per record with SSE2) and it always detects a change
 * confined to one 8-byte word; it is not a cryptographic hash. */
uint64_t cq_cqd_checksum(uint64_t seed, const void *data, size_t len);

/* ---- reader --------------------------------------------------------------- */

typedef struct cq_cqd_reader cq_cqd_reader_t;

enum {
    CQ_CQD_VERIFY_ALL = 1   /* verify every block's checksum at open */
};

/*
 * Map and validate a file: magic, header checksum, version (a newer file is
 * CQ_EVERSION), structure, instrument table and checksum table. Errors:
 * CQ_EINVAL (NULL), CQ_EIO (cannot open/map), CQ_EPARSE (not a .cqd file),
 * CQ_EVERSION, CQ_ECORRUPT (truncated, checksum, inconsistent header),
 * CQ_ENOMEM. On error, err (if not NULL) receives a one-line message naming
 * the problem and the offset or block.
 */
int cq_cqd_open(cq_cqd_reader_t **out, const char *path, unsigned flags, char *err, size_t errlen);
void cq_cqd_close(cq_cqd_reader_t *r);

void cq_cqd_get_info(const cq_cqd_reader_t *r, cq_cqd_info_t *out);

/* The last error of this reader (a corrupt block met while iterating). */
const char *cq_cqd_reader_error(const cq_cqd_reader_t *r);

/* Instrument table entry `index`, or NULL if out of range. */
const cq_cqd_instrument_t *cq_cqd_instrument(const cq_cqd_reader_t *r, uint32_t index);

/* Index of the instrument with this id: CQ_ENOENT if absent. */
int cq_cqd_find_instrument(const cq_cqd_reader_t *r, const char *id, uint32_t *index);

/* The hdr.instrument value events of this instrument carry. Defaults to
 * index + 1; a replay sets the runtime's interned handle. */
int cq_cqd_set_handle(cq_cqd_reader_t *r, uint32_t index, uint32_t handle);

/* Fill an instrument event (doubles computed exactly from the table). */
int cq_cqd_instrument_event(const cq_cqd_reader_t *r, uint32_t index, cq_instrument_t *out);

/*
 * A cursor walks the records in file order. It is a plain struct so that
 * cq_cqd_next inlines to a compare and an increment; the block change goes
 * through cq_cqd_next_block, which verifies the next block, reading it
 * (with the one after it) into buf first when it is not there. It holds that
 * 128 KiB buffer itself (no allocation, nothing to free), so do not copy a
 * cursor: its pointers point into its own buf.
 */
typedef struct cq_cqd_cursor {
    const cq_cqd_record_t *pos;  /* next record */
    const cq_cqd_record_t *end;  /* end of the current block */
    cq_cqd_reader_t *reader;
    uint64_t block;              /* next block to enter */
    int err;                     /* sticky error (CQ_ECORRUPT) */
    uint64_t buf_block;          /* first block held in buf */
    uint64_t buf_blocks;         /* blocks held in buf (0: none) */
    cq_cqd_record_t buf[2 * CQ_CQD_BLOCK_RECORDS]; /* read two blocks at a time */
} cq_cqd_cursor_t;

/* Start at the first record. The reader must outlive the cursor. */
int cq_cqd_cursor_init(cq_cqd_cursor_t *c, cq_cqd_reader_t *r);

/* Start at the first record with ts_init >= ts (binary search). */
int cq_cqd_cursor_seek(cq_cqd_cursor_t *c, cq_cqd_reader_t *r, int64_t ts);

/* Slow path of cq_cqd_next. */
int cq_cqd_next_block(cq_cqd_cursor_t *c, const cq_cqd_record_t **rec);

/* 1 and *rec = the next record; 0 at the end; CQ_ECORRUPT if the next
 * block fails its checksum or cannot be read (the message, with the block
 * number and offset, is cq_cqd_reader_error). *rec stays valid until the
 * cursor enters another block: at least until the next cq_cqd_next call,
 * and while the records returned stay within one block of
 * CQ_CQD_BLOCK_RECORDS. Copy a record to keep it longer. */
static inline int cq_cqd_next(cq_cqd_cursor_t *c, const cq_cqd_record_t **rec)
{
    if (c->pos != c->end) {
        *rec = c->pos++;
        return 1;
    }
    return cq_cqd_next_block(c, rec);
}

/*
 * Records to bus events. The doubles are the exact decimal value correctly
 * rounded (the same double strtod gives for the decimal text) as long as
 * ticks * tick_units stays below 2^53. hdr.flags gets CQ_EVF_REPLAY.
 * CQ_EINVAL for a record of another type; CQ_ECORRUPT for an instrument
 * index outside the table.
 */
int cq_cqd_to_trade(const cq_cqd_reader_t *r, const cq_cqd_record_t *rec, cq_trade_t *out);
int cq_cqd_to_quote(const cq_cqd_reader_t *r, const cq_cqd_record_t *rec, cq_quote_t *out);
int cq_cqd_to_delta(const cq_cqd_reader_t *r, const cq_cqd_record_t *rec, cq_book_delta_t *out);
int cq_cqd_to_bar(const cq_cqd_reader_t *r, const cq_cqd_record_t *rec, cq_bar_t *out);

/* ---- exact decimals --------------------------------------------------------- */

/* Write units * 10^-precision as a decimal with exactly `precision`
 * decimals ("-0.050"). Returns the length, CQ_EINVAL for a bad precision or
 * NULL buffer, CQ_ETOOLONG if it does not fit in len bytes with its NUL. */
int cq_cqd_format_units(int64_t units, int32_t precision, char *buf, size_t len);

/* A price in ticks / a quantity in steps of inst, formatted exactly at the
 * instrument's precision. CQ_ERANGE if ticks * tick_units overflows. */
int cq_cqd_format_price(const cq_cqd_instrument_t *inst, int64_t ticks, char *buf, size_t len);
int cq_cqd_format_qty(const cq_cqd_instrument_t *inst, int64_t steps, char *buf, size_t len);

/* ---- writer ----------------------------------------------------------------- */

typedef struct cq_cqd_writer cq_cqd_writer_t;

/*
 * Start a file. The data goes to "<path>.tmp-<pid>" beside it; only
 * cq_cqd_writer_finish renames it to path (after fsync), so a crash never
 * leaves a partial file under the final name.
 */
int cq_cqd_writer_open(cq_cqd_writer_t **out, const char *path, char *err, size_t errlen);

/* Add an instrument (before the records that use it); *index receives its
 * table index. CQ_EEXIST for a duplicate id; CQ_EINVAL for an empty or
 * unterminated string, a precision outside 0..18 or units < 1. */
int cq_cqd_writer_add_instrument(cq_cqd_writer_t *w, const cq_cqd_instrument_t *inst, uint32_t *index);

/*
 * Append one record. Records must come in non-decreasing ts_init order:
 * the writer does not sort (importers sort before writing). CQ_EINVAL for
 * an out-of-order record (the message names its index), an unknown type,
 * side or flag, or an instrument index not yet added. Fields a type does
 * not use are written as zeros.
 */
int cq_cqd_writer_append(cq_cqd_writer_t *w, const cq_cqd_record_t *rec);

/* Write the tables and the header, fsync, rename into place. After an
 * error the temporary file is removed. Call once. */
int cq_cqd_writer_finish(cq_cqd_writer_t *w);

/* Free the writer; an unfinished file is removed. NULL is fine. */
void cq_cqd_writer_destroy(cq_cqd_writer_t *w);

/* The last error's message ("" if none). */
const char *cq_cqd_writer_error(const cq_cqd_writer_t *w);

/* Records appended so far. */
uint64_t cq_cqd_writer_count(const cq_cqd_writer_t *w);

#endif
