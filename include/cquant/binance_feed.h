/*
 * binance_feed.h - Binance Spot market data into the DataEngine.
 *
 * The glue between the pure codec (binance_md.h) and the DataEngine: it
 * decodes a frame, finds the instrument ("<SYMBOL>.<VENUE>", venue
 * "BINANCE" unless configured), converts exact decimals to the instrument's
 * ticks and steps, and hands the DataEngine normalized data:
 *
 *   depthUpdate      -> cq_data_book_batch   (U, u; levels in ticks/steps)
 *   REST depth       -> cq_data_book_snapshot (lastUpdateId)
 *   trade, aggTrade  -> cq_data_trade        (aggressor = SELL when the buyer was maker)
 *   bookTicker       -> cq_data_quote        (update_id = u; spot bookTicker
 *                                             has no venue time: ts_event = receive time)
 *   kline (closed)   -> cq_data_bar          (data.bars.<VENUE>.<SYMBOL>.<interval>)
 *
 * Bad frames (malformed JSON, wrong types, unknown event, unknown symbol, a
 * price off the tick grid...) are counted by cause and logged (the first
 * few, then one in 10,000), and change nothing: the book is untouched.
 *
 * Also here: the recording line formats of ../shared/data (hftbacktest's
 * "<recv_ns> <json>", cryptofeed's "<recv_s>: <json>" and its REST lines),
 * and loading instrument specifications from /api/v3/exchangeInfo.
 */
#ifndef CQUANT_BINANCE_FEED_H
#define CQUANT_BINANCE_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/binance_md.h"
#include "cquant/cache.h"
#include "cquant/data_engine.h"
#include "cquant/log.h"

typedef struct cq_bn_feed cq_bn_feed_t;

typedef struct cq_bn_feed_stats {
    uint64_t frames;          /* frames given */
    uint64_t applied;         /* handed to the DataEngine and accepted */
    uint64_t depth, trades, agg_trades, book_tickers, klines, snapshots;
    uint64_t decode_errors;   /* the codec refused the frame */
    uint64_t unknown_symbol;  /* no instrument spec for the symbol */
    uint64_t off_grid;        /* a price or quantity not on the instrument's grid */
    uint64_t engine_errors;   /* the DataEngine refused (gap, bad data...) */
    int last_error;           /* CQ_E* of the last failure */
    char last_why[96];        /* its reason */
} cq_bn_feed_stats_t;

/* venue may be NULL ("BINANCE"). */
int cq_bn_feed_create(cq_bn_feed_t **out, cq_data_engine_t *de, cq_cache_t *cache,
                      const char *venue, const cq_log_t *log);
void cq_bn_feed_destroy(cq_bn_feed_t *f);

/* One market-stream frame, raw or in the combined envelope. recv_ns is the
 * local receive time. Returns 0 or the negative code of the failure (which
 * is also counted): a decode error, CQ_ENOENT (unknown symbol or event),
 * CQ_ERANGE (off grid), or the DataEngine's code (CQ_EGAP...). */
int cq_bn_feed_frame(cq_bn_feed_t *f, const char *buf, size_t len, int64_t recv_ns);

/* One REST /api/v3/depth body, for symbol (the body does not name it). */
int cq_bn_feed_snapshot(cq_bn_feed_t *f, const char *symbol, const char *buf, size_t len,
                        int64_t recv_ns);

/* Instrument handle of a wire symbol ("BTCUSDT"), or CQ_ENOENT. */
int cq_bn_feed_instrument(cq_bn_feed_t *f, const char *symbol, uint32_t *instrument);

void cq_bn_feed_stats(const cq_bn_feed_t *f, cq_bn_feed_stats_t *out);

/* ---- recordings ------------------------------------------------------------ */

enum {
    CQ_BN_LINE_OTHER = 0,  /* config line, connection line, sent frame: not data */
    CQ_BN_LINE_FRAME = 1,  /* a received WebSocket frame */
    CQ_BN_LINE_REST = 2    /* a REST response; symbol filled for /depth */
};

typedef struct cq_bn_line {
    int kind;              /* CQ_BN_LINE_* */
    int64_t recv_ns;       /* local receive time */
    const char *json;      /* points into the line */
    size_t json_len;
    char symbol[24];       /* REST depth: symbol= of the URL, upper case */
    int is_depth;          /* REST: the URL is a /depth request */
} cq_bn_line_t;

/* Split one recording line (without its newline). hftbacktest lines are
 * "<recv_ns> <json>" (a REST snapshot body there is a FRAME whose json has
 * lastUpdateId: the codec tells); cryptofeed's are "<recv_s.frac>: <json>"
 * and "https://...?symbol=X... -> <recv_s>: <json>". CQ_EPARSE for a line
 * that looks like data but is malformed. */
int cq_bn_line_parse(const char *line, size_t len, cq_bn_line_t *out);

/* Feed one parsed recording line: a FRAME goes to cq_bn_feed_frame, except
 * a bare REST depth body (hftbacktest records its snapshot that way), which
 * goes to cq_bn_feed_snapshot for default_symbol; a REST /depth line goes to
 * cq_bn_feed_snapshot for the URL's symbol; other lines are ignored (0).
 * CQ_EINVAL for a bare snapshot when default_symbol is NULL. */
int cq_bn_feed_line(cq_bn_feed_t *f, const cq_bn_line_t *line, const char *default_symbol);

/* ---- exchangeInfo ------------------------------------------------------------- */

/* Add (or replace) in the cache the spec of every symbol of an
 * /api/v3/exchangeInfo body: assets, PRICE_FILTER tickSize, LOT_SIZE
 * stepSize/minQty/maxQty, MIN_NOTIONAL or NOTIONAL minNotional, and
 * tradable = status "TRADING". symbols (NULL = all) limits it to a
 * NULL-terminated list of symbols. *count gets the number added. */
int cq_bn_exchange_info_load(cq_cache_t *cache, const char *venue, const char *json, size_t len,
                             const char *const *symbols, size_t *count);

#endif
