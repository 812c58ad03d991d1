/*
 * binance_md.h - Binance Spot market-data frames -> one fixed-size struct.
 *
 * A pure codec: bytes in, a decoded struct out. It knows nothing of
 * instruments, books or the bus; turning prices into ticks and levels into
 * book deltas is the caller's next step. Two decoders produce the same
 * output from the same bytes:
 *
 *   cq_bn_decode()        the hot path: a hand-written scanner for exactly
 *                         these shapes, zero allocation, no NUL terminator
 *                         needed.
 *   cq_bn_decode_cjson()  the reference, on cJSON. Slower (it allocates a
 *                         tree); kept for differential tests and fuzzing.
 *
 * Shapes, with or without the combined-stream envelope
 * {"stream":"<name>","data":{...}}:
 *   depthUpdate  {"e":"depthUpdate","E","s","U","u","b":[[p,q]..],"a":[..]}
 *   trade        {"e":"trade","E","s","t","p","q","T","m"}
 *   aggTrade     {"e":"aggTrade","E","s","a","p","q","f","l","T","m"}
 *   bookTicker   {"u","s","b","B","a","A"}           (no "e"/"E" in spot)
 *   kline        {"e":"kline","E","s","k":{"t","T","i","o","c","h","l","v","n","x"}}
 *   REST depth   {"lastUpdateId","bids":[[p,q]..],"asks":[..]}
 * Other keys are skipped whatever their value. Keys are case-sensitive
 * (Binance uses "e"/"E", "b"/"B", "u"/"U"... for different fields).
 *
 * How a frame is recognized: a top-level object with a "stream" or "data"
 * key is an envelope (both must be there, "data" an object). In the payload,
 * "e" names the event (unknown name: CQ_ENOENT); without "e", a
 * "lastUpdateId" key makes a REST snapshot and a "u" key a bookTicker;
 * anything else is CQ_ENOENT.
 *
 * Errors, in this order (both decoders report the same code and reason):
 *   1. CQ_EINVAL   NULL buf or out.
 *   2. CQ_ETOOLONG frame longer than CQ_BN_MAX_FRAME.
 *   3. CQ_EPARSE   not RFC 8259 JSON in UTF-8, or nested deeper than
 *                  CQ_BN_MAX_DEPTH, or a "\u0000" escape; why starts
 *                  with "json:". The whole frame is checked first.
 *   4. the envelope: "stream" then "data": missing, duplicated or of the
 *      wrong type -> CQ_EPARSE.
 *   5. the event: CQ_EPARSE for a duplicated or non-string "e", CQ_ENOENT
 *      for an unknown event or payload.
 *   6. each field of that kind in the order listed above (kline: E, s, k,
 *      then k's fields): missing, duplicated or of the wrong JSON type ->
 *      CQ_EPARSE; a value that is not a plain integer (1.0, 1e3) or not a
 *      decimal string, a bad level shape, a bad symbol -> CQ_EPARSE; a
 *      negative or too large number -> CQ_ERANGE; more levels than the
 *      caller's capacity -> CQ_EFULL. Keys that do not belong to the kind
 *      are ignored, like unknown keys.
 * Integer fields are plain non-negative JSON integers: ids up to 2^64-1,
 * times (E, T, k.t, k.T) up to CQ_BN_MAX_MS so that ms * 1e6 fits int64.
 * Decimals are strings with cq_decimal_parse()'s grammar, never negative.
 * Symbols are 1..23 bytes, intervals 1..7, with no control characters.
 *
 * One documented difference: cJSON keeps numbers as doubles, so the
 * reference returns CQ_ERANGE ("integer above 2^53") for an integer field
 * that is >= 2^53, and it accepts 1.0 or 1e3 where the fast decoder says
 * "not a plain integer". Real frames use neither.
 */
#ifndef CQUANT_BINANCE_MD_H
#define CQUANT_BINANCE_MD_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/decimal.h"

#define CQ_BN_MAX_MS INT64_C(9223372036854) /* INT64_MAX / 1e6 */

/* CQ_FFI_BEGIN */
enum {
    CQ_BN_NONE = 0,        /* nothing decoded (the output after an error) */
    CQ_BN_DEPTH = 1,       /* depthUpdate */
    CQ_BN_TRADE = 2,
    CQ_BN_AGG_TRADE = 3,
    CQ_BN_BOOK_TICKER = 4,
    CQ_BN_KLINE = 5,
    CQ_BN_SNAPSHOT = 6,    /* REST /api/v3/depth body */
    CQ_BN_KIND_COUNT_ = 7
};

/* cq_bn_md_t.flags */
enum { CQ_BN_F_ENVELOPE = 1 }; /* came inside {"stream":..,"data":..} */

enum {
    CQ_BN_MAX_FRAME = 1 << 20, /* bytes; a 5000x5000 snapshot is ~350 KB */
    CQ_BN_MAX_DEPTH = 32,      /* nesting of objects and arrays */
    CQ_BN_SYMBOL_MAX = 24,     /* with the NUL */
    CQ_BN_INTERVAL_MAX = 8     /* with the NUL */
};

typedef struct cq_bn_level {
    cq_decimal_t price;
    cq_decimal_t qty;          /* 0 deletes the level in a depthUpdate */
} cq_bn_level_t;

/* One decoded frame. Fields a kind does not have are 0. */
typedef struct cq_bn_md {
    int32_t kind;              /* CQ_BN_* */
    uint32_t flags;            /* CQ_BN_F_* */
    char symbol[24];           /* "s" as on the wire, NUL-terminated; "" for snapshots */
    int64_t event_ms;          /* "E"; 0 for bookTicker and snapshots */
    int64_t event_ns;          /* event_ms * 1000000 */
    int64_t trade_ms;          /* "T" of trade / aggTrade */
    uint64_t first_update_id;  /* depthUpdate "U" */
    uint64_t last_update_id;   /* depthUpdate / bookTicker "u", snapshot "lastUpdateId" */
    uint64_t trade_id;         /* trade "t", aggTrade "a" */
    uint64_t first_trade_id;   /* aggTrade "f" */
    uint64_t last_trade_id;    /* aggTrade "l" */
    int32_t buyer_is_maker;    /* "m": 1 when the buyer was the maker (a sell hit the bid) */
    int32_t kline_closed;      /* k."x": 1 when this is the bar's final update */
    cq_decimal_t price;        /* trade / aggTrade "p" */
    cq_decimal_t qty;          /* trade / aggTrade "q" */
    cq_decimal_t bid_price;    /* bookTicker "b" */
    cq_decimal_t bid_qty;      /* bookTicker "B" */
    cq_decimal_t ask_price;    /* bookTicker "a" */
    cq_decimal_t ask_qty;      /* bookTicker "A" */
    uint32_t n_bids;           /* levels written to cq_bn_levels_t.bids */
    uint32_t n_asks;
    char interval[8];          /* k."i", e.g. "1m" */
    int64_t open_ms;           /* k."t" */
    int64_t close_ms;          /* k."T" */
    uint64_t n_trades;         /* k."n" */
    cq_decimal_t open;         /* k."o" */
    cq_decimal_t high;         /* k."h" */
    cq_decimal_t low;          /* k."l" */
    cq_decimal_t close;        /* k."c" */
    cq_decimal_t volume;       /* k."v", base asset */
} cq_bn_md_t;
/* CQ_FFI_END */

/* Where depth and snapshot levels go, in wire order, one array per side.
 * A side with more levels than its capacity is CQ_EFULL (a snapshot has up
 * to 5000 a side). NULL means capacity 0 for both. The arrays may be
 * partly written when the decode fails. */
typedef struct cq_bn_levels {
    cq_bn_level_t *bids;
    uint32_t bids_cap;
    cq_bn_level_t *asks;
    uint32_t asks_cap;
} cq_bn_levels_t;

/* Decode len bytes of one frame into *out. Returns 0 or a negative CQ_E*
 * code (see the order above); on error *out is zeroed (kind CQ_BN_NONE).
 * *why (optional) gets a static reason, "E: missing" or "json: ...", or
 * NULL on success. Never allocates; never reads outside [buf, buf+len). */
int cq_bn_decode(const char *buf, size_t len, cq_bn_md_t *out, const cq_bn_levels_t *lv,
                 const char **why);

/* The same contract on cJSON (allocates; CQ_ENOMEM if that fails). */
int cq_bn_decode_cjson(const char *buf, size_t len, cq_bn_md_t *out, const cq_bn_levels_t *lv,
                       const char **why);

/* "depthUpdate", "trade", ... "snapshot"; "none" for anything else. */
const char *cq_bn_kind_name(int32_t kind);

#endif
