/*
 * event.h - the events that cross the message bus.
 *
 * Every event is a fixed-size plain struct that LuaJIT's ffi.cdef accepts
 * unchanged: fixed-width integers, doubles and char[N] arrays only; no
 * bitfields, no pointers, no flexible arrays, no enum-typed fields (int32_t
 * with the named constants below). Each starts with cq_event_hdr_t.
 *
 * Prices and sizes are doubles because that is what a Lua strategy does
 * arithmetic on. Exactness lives elsewhere: wire decimals are parsed exactly,
 * books key levels by integer ticks, and positions are accumulated in integer
 * increments (see DESIGN.md, "Events").
 *
 * The text between CQ_FFI_BEGIN and CQ_FFI_END is what the build hands to
 * ffi.cdef, so it holds only declarations LuaJIT can parse. The layout of
 * every struct is part of the API: the _Static_asserts at the end pin it,
 * and changing one is a deliberate act.
 */
#ifndef CQUANT_EVENT_H
#define CQUANT_EVENT_H

#include <stddef.h>
#include <stdint.h>

/* CQ_FFI_BEGIN */
enum {
    CQ_EV_NONE = 0,
    CQ_EV_TRADE = 1,
    CQ_EV_QUOTE = 2,
    CQ_EV_BOOK_DELTA = 3,
    CQ_EV_BOOK = 4,          /* book changed: top of book after a batch */
    CQ_EV_BAR = 5,
    CQ_EV_INSTRUMENT = 6,
    CQ_EV_ORDER = 7,         /* an order's current state (cache record) */
    CQ_EV_ORDER_EVENT = 8,   /* one state change of an order */
    CQ_EV_FILL = 9,
    CQ_EV_POSITION = 10,
    CQ_EV_BALANCE = 11,
    CQ_EV_VENUE = 12,        /* connected, disconnected, resync... */
    CQ_EV_COUNT_ = 13
};

/* cq_event_hdr_t.flags */
enum {
    CQ_EVF_LAST = 1,         /* last event of a batch (e.g. one depthUpdate) */
    CQ_EVF_SNAPSHOT = 2,     /* part of a snapshot, not an incremental update */
    CQ_EVF_REPLAY = 4,       /* from recorded data */
    CQ_EVF_EXTERNAL = 8      /* order/fill not placed by this runtime */
};

enum { CQ_SIDE_NONE = 0, CQ_SIDE_BUY = 1, CQ_SIDE_SELL = 2 };

enum {
    CQ_ORDER_MARKET = 1,
    CQ_ORDER_LIMIT = 2,
    CQ_ORDER_LIMIT_MAKER = 3, /* post-only */
    CQ_ORDER_STOP_MARKET = 4,
    CQ_ORDER_STOP_LIMIT = 5
};

enum { CQ_TIF_GTC = 1, CQ_TIF_IOC = 2, CQ_TIF_FOK = 3 };

/* cq_order_t.opts */
enum { CQ_ORDER_OPT_REDUCE_ONLY = 1, CQ_ORDER_OPT_POST_ONLY = 2 };

/* Order states (DESIGN.md, "State machine"). */
enum {
    CQ_OS_INITIALIZED = 1,
    CQ_OS_DENIED = 2,
    CQ_OS_SUBMITTED = 3,
    CQ_OS_ACCEPTED = 4,
    CQ_OS_REJECTED = 5,
    CQ_OS_PARTIALLY_FILLED = 6,
    CQ_OS_FILLED = 7,
    CQ_OS_PENDING_CANCEL = 8,
    CQ_OS_PENDING_UPDATE = 9,
    CQ_OS_CANCELED = 10,
    CQ_OS_EXPIRED = 11,
    CQ_OS_COUNT_ = 12
};

enum { CQ_LIQ_NONE = 0, CQ_LIQ_MAKER = 1, CQ_LIQ_TAKER = 2 };

/* cq_book_delta_t.action */
enum { CQ_BOOK_SET = 1, CQ_BOOK_CLEAR = 2 };

/* cq_bar_t.kind */
enum { CQ_BAR_TIME = 1, CQ_BAR_TICK = 2, CQ_BAR_VOLUME = 3 };

/* cq_venue_event_t.kind */
enum {
    CQ_VENUE_CONNECTED = 1,
    CQ_VENUE_DISCONNECTED = 2,
    CQ_VENUE_RESYNC = 3,       /* a book is invalid and being rebuilt */
    CQ_VENUE_RESYNCED = 4,
    CQ_VENUE_RATE_LIMITED = 5
};

/* Common header: first member of every event. */
typedef struct cq_event_hdr {
    int32_t type;          /* CQ_EV_* */
    uint32_t flags;        /* CQ_EVF_* */
    uint32_t instrument;   /* interned instrument handle; 0 = none */
    uint32_t strategy;     /* interned strategy handle; 0 = none */
    int64_t ts_event;      /* venue time, ns since the Unix epoch */
    int64_t ts_init;       /* local receive/creation time, ns */
} cq_event_hdr_t;

typedef struct cq_trade {
    cq_event_hdr_t hdr;
    double price;
    double qty;
    uint64_t trade_id;     /* venue trade id */
    int32_t aggressor;     /* CQ_SIDE_*: the taker's side */
    int32_t reserved_;
} cq_trade_t;

typedef struct cq_quote {
    cq_event_hdr_t hdr;
    double bid_price;
    double bid_qty;
    double ask_price;
    double ask_qty;
    uint64_t update_id;    /* venue book update id (0 if none) */
} cq_quote_t;

typedef struct cq_book_level {
    double price;
    double qty;
} cq_book_level_t;

/* One level change. qty == 0 with CQ_BOOK_SET deletes the level. */
typedef struct cq_book_delta {
    cq_event_hdr_t hdr;
    double price;
    double qty;
    int32_t side;          /* CQ_SIDE_BUY = bid, CQ_SIDE_SELL = ask */
    int32_t action;        /* CQ_BOOK_* */
    uint64_t sequence;     /* venue update id of the batch */
} cq_book_delta_t;

/* Published on data.book.* after a batch of deltas has been applied. */
typedef struct cq_book_event {
    cq_event_hdr_t hdr;
    double bid_price;
    double bid_qty;
    double ask_price;
    double ask_qty;
    uint64_t sequence;     /* last applied venue update id */
    int32_t bid_levels;
    int32_t ask_levels;
} cq_book_event_t;

typedef struct cq_bar {
    cq_event_hdr_t hdr;    /* ts_event = bar close time */
    double open;
    double high;
    double low;
    double close;
    double volume;
    double vwap;
    int64_t ts_open;       /* bar open time */
    int64_t trades;
    double spec_value;     /* seconds, trades or volume per bar */
    int32_t kind;          /* CQ_BAR_* */
    int32_t reserved_;
} cq_bar_t;

/* Instrument specification. Increments are decimal: tick_size equals
 * tick_units * 10^-price_precision exactly, likewise for sizes. */
typedef struct cq_instrument {
    cq_event_hdr_t hdr;    /* hdr.instrument = this instrument's handle */
    char id[48];           /* "BTCUSDT.BINANCE" */
    char symbol[24];       /* "BTCUSDT" */
    char venue[16];        /* "BINANCE" */
    char base[16];         /* "BTC" */
    char quote[16];        /* "USDT" */
    double tick_size;
    double step_size;
    double min_qty;
    double max_qty;
    double min_notional;
    int64_t tick_units;
    int64_t step_units;
    int32_t price_precision; /* decimals of price */
    int32_t size_precision;  /* decimals of quantity */
    uint32_t tradable;       /* 1 = orders allowed */
    uint32_t reserved_;
} cq_instrument_t;

/* An order as the cache holds it. Addresses are stable for its life. */
typedef struct cq_order {
    cq_event_hdr_t hdr;    /* ts_init = created, ts_event = last change */
    char client_order_id[40]; /* [A-Za-z0-9_-], at most 36 chars */
    char venue_order_id[40];
    char tag[32];          /* free text from the strategy */
    int32_t side;          /* CQ_SIDE_* */
    int32_t type;          /* CQ_ORDER_* */
    int32_t tif;           /* CQ_TIF_* */
    int32_t status;        /* CQ_OS_* */
    uint32_t opts;         /* CQ_ORDER_OPT_* */
    int32_t resume_status; /* while PENDING_CANCEL/UPDATE: the open state a
                              rejected request resumes (see order.h); else 0 */
    double price;
    double trigger_price;
    double qty;
    double filled_qty;
    double avg_fill_price;
    double fees;
} cq_order_t;

/* One state change of an order (events.order.<STRATEGY>). */
typedef struct cq_order_event {
    cq_event_hdr_t hdr;
    char client_order_id[40];
    char venue_order_id[40];
    int32_t status;        /* new CQ_OS_* */
    int32_t prev_status;
    double filled_qty;
    double avg_fill_price;
    char reason[64];       /* denial or rejection reason; "" otherwise */
} cq_order_event_t;

typedef struct cq_fill {
    cq_event_hdr_t hdr;
    char client_order_id[40];
    char venue_order_id[40];
    char trade_id[40];     /* venue trade id: the de-duplication key */
    int32_t side;          /* CQ_SIDE_* */
    int32_t liquidity;     /* CQ_LIQ_* */
    double price;
    double qty;
    double fee;
    char fee_asset[16];
} cq_fill_t;

/* Net position of one strategy in one instrument. */
typedef struct cq_position {
    cq_event_hdr_t hdr;
    double qty;            /* signed: > 0 long, < 0 short */
    double avg_price;      /* average entry price (average-cost method) */
    double realized_pnl;   /* quote asset */
    double unrealized_pnl; /* marked to mid */
    double fees;           /* quote asset */
    int64_t qty_steps;     /* exact signed quantity in step units */
} cq_position_t;

typedef struct cq_balance {
    cq_event_hdr_t hdr;
    char venue[16];
    char asset[16];
    double total;
    double free;
    double locked;
} cq_balance_t;

typedef struct cq_venue_event {
    cq_event_hdr_t hdr;
    char venue[16];
    int32_t kind;          /* CQ_VENUE_* */
    int32_t code;          /* CQ_E* or venue code; 0 if none */
    char message[64];
} cq_venue_event_t;
/* CQ_FFI_END */

#define CQ_ORDER_ID_MAX 36  /* longest client order id, without the NUL */

/* Layout is API: these fail the build when a struct changes size. */
#define CQ_ASSERT_LAYOUT(T, SIZE)                                          \
    _Static_assert(sizeof(T) == (SIZE), #T " size changed");               \
    _Static_assert(_Alignof(T) == 8, #T " alignment changed")

CQ_ASSERT_LAYOUT(cq_event_hdr_t, 32);
CQ_ASSERT_LAYOUT(cq_trade_t, 64);
CQ_ASSERT_LAYOUT(cq_quote_t, 72);
_Static_assert(sizeof(cq_book_level_t) == 16, "cq_book_level_t size changed");
_Static_assert(_Alignof(cq_book_level_t) == 8, "cq_book_level_t alignment changed");
CQ_ASSERT_LAYOUT(cq_book_delta_t, 64);
CQ_ASSERT_LAYOUT(cq_book_event_t, 80);
CQ_ASSERT_LAYOUT(cq_bar_t, 112);
CQ_ASSERT_LAYOUT(cq_instrument_t, 224);
CQ_ASSERT_LAYOUT(cq_order_t, 216);
CQ_ASSERT_LAYOUT(cq_order_event_t, 200);
CQ_ASSERT_LAYOUT(cq_fill_t, 200);
CQ_ASSERT_LAYOUT(cq_position_t, 80);
CQ_ASSERT_LAYOUT(cq_balance_t, 88);
CQ_ASSERT_LAYOUT(cq_venue_event_t, 120);
_Static_assert(offsetof(cq_trade_t, hdr) == 0, "header must come first");
_Static_assert(offsetof(cq_order_t, client_order_id) == 32, "order id offset");

/* Names for logs and JSON ("BUY", "LIMIT", "PARTIALLY_FILLED"...). Unknown
 * values give "?". */
const char *cq_side_name(int32_t side);
const char *cq_order_type_name(int32_t type);
const char *cq_tif_name(int32_t tif);
const char *cq_order_status_name(int32_t status);
const char *cq_event_type_name(int32_t type);

/* Status classes used by the cache's open / closed / in-flight sets.
 * In flight: sent, no venue answer yet (SUBMITTED, PENDING_CANCEL,
 * PENDING_UPDATE). Open: working at the venue (ACCEPTED, PARTIALLY_FILLED,
 * PENDING_CANCEL, PENDING_UPDATE). Closed: terminal (DENIED, REJECTED,
 * FILLED, CANCELED, EXPIRED). INITIALIZED and SUBMITTED are not open. */
int cq_order_status_is_open(int32_t status);
int cq_order_status_is_closed(int32_t status);
int cq_order_status_is_inflight(int32_t status);

#endif
