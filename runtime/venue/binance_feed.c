/*
 * binance_feed.c - Binance Spot market data into the DataEngine: decode,
 * find the instrument, convert to ticks and steps, hand over.
 *
 * Owns two scratch arrays of levels (decoded decimals and converted
 * entries), sized for the largest REST snapshot (5000 a side), so the hot
 * path never allocates. Never changes a book on bad input: a frame is
 * converted completely before anything is handed to the DataEngine.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/binance_feed.h"
#include "cquant/error.h"
#include "cquant/instrument.h"

#define MAX_LEVELS 5000

struct cq_bn_feed {
    cq_data_engine_t *de;
    cq_cache_t *cache;
    const cq_log_t *log;
    char venue[16];
    /* last symbol looked up: most frames of a stream name the same one */
    char last_symbol[CQ_BN_SYMBOL_MAX];
    uint32_t last_instrument;
    cq_bn_levels_t lv;
    cq_bn_level_t *dbids, *dasks;
    cq_book_entry_t *bids, *asks;
    cq_bn_feed_stats_t stats;
};

int cq_bn_feed_create(cq_bn_feed_t **out, cq_data_engine_t *de, cq_cache_t *cache,
                      const char *venue, const cq_log_t *log)
{
    if (!out || !de || !cache)
        return CQ_EINVAL;
    if (!venue)
        venue = "BINANCE";
    if (!*venue || strlen(venue) >= 16 || strchr(venue, '.'))
        return CQ_EINVAL;
    cq_bn_feed_t *f = calloc(1, sizeof *f);
    if (!f)
        return CQ_ENOMEM;
    f->dbids = malloc(MAX_LEVELS * sizeof *f->dbids);
    f->dasks = malloc(MAX_LEVELS * sizeof *f->dasks);
    f->bids = malloc(MAX_LEVELS * sizeof *f->bids);
    f->asks = malloc(MAX_LEVELS * sizeof *f->asks);
    if (!f->dbids || !f->dasks || !f->bids || !f->asks) {
        cq_bn_feed_destroy(f);
        return CQ_ENOMEM;
    }
    f->lv = (cq_bn_levels_t){f->dbids, MAX_LEVELS, f->dasks, MAX_LEVELS};
    f->de = de;
    f->cache = cache;
    f->log = log;
    snprintf(f->venue, sizeof f->venue, "%s", venue);
    *out = f;
    return 0;
}

void cq_bn_feed_destroy(cq_bn_feed_t *f)
{
    if (!f)
        return;
    free(f->dbids);
    free(f->dasks);
    free(f->bids);
    free(f->asks);
    free(f);
}

void cq_bn_feed_stats(const cq_bn_feed_t *f, cq_bn_feed_stats_t *out)
{
    if (f && out)
        *out = f->stats;
}

/* Count a failure, remember why, and log the first few and then one in
 * 10,000, so a hostile stream cannot flood the log. */
static int fail(cq_bn_feed_t *f, uint64_t *counter, int rc, const char *why)
{
    (*counter)++;
    f->stats.last_error = rc;
    snprintf(f->stats.last_why, sizeof f->stats.last_why, "%s", why ? why : cq_strerror(rc));
    uint64_t n = f->stats.decode_errors + f->stats.unknown_symbol + f->stats.off_grid +
                 f->stats.engine_errors;
    if (n <= 10 || n % 10000 == 0)
        cq_logf(f->log, CQ_LOG_WARN, "binance", "frame refused (%s): %s [%llu so far]",
                cq_errname(rc), f->stats.last_why, (unsigned long long)n);
    return rc;
}

int cq_bn_feed_instrument(cq_bn_feed_t *f, const char *symbol, uint32_t *instrument)
{
    if (!f || !symbol || !instrument)
        return CQ_EINVAL;
    if (f->last_instrument && !strcmp(symbol, f->last_symbol)) {
        *instrument = f->last_instrument;
        return 0;
    }
    char id[64];
    int n = snprintf(id, sizeof id, "%s.%s", symbol, f->venue);
    if (n < 0 || (size_t)n >= sizeof id)
        return CQ_ETOOLONG;
    uint32_t h;
    if (cq_cache_instrument_find(f->cache, id, &h) < 0 || !cq_cache_instrument(f->cache, h))
        return CQ_ENOENT;
    snprintf(f->last_symbol, sizeof f->last_symbol, "%s", symbol);
    f->last_instrument = h;
    *instrument = h;
    return 0;
}

/* Decoded levels -> ticks and steps. Off the grid: CQ_ERANGE. */
static int convert_levels(const cq_instrument_t *spec, const cq_bn_level_t *in, uint32_t n,
                          cq_book_entry_t *out)
{
    for (uint32_t i = 0; i < n; i++) {
        int rc = cq_instrument_ticks(spec, in[i].price, &out[i].tick);
        if (rc == 0)
            rc = cq_instrument_steps(spec, in[i].qty, &out[i].qty);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int to_double(const cq_instrument_t *spec, cq_decimal_t price, cq_decimal_t qty,
                     double *p, double *q)
{
    int64_t t, s;
    int rc = cq_instrument_ticks(spec, price, &t);
    if (rc == 0)
        rc = cq_instrument_steps(spec, qty, &s);
    if (rc < 0)
        return rc;
    *p = cq_instrument_price(spec, t);
    *q = cq_instrument_qty(spec, s);
    return 0;
}

static int engine_result(cq_bn_feed_t *f, int rc)
{
    if (rc < 0)
        return fail(f, &f->stats.engine_errors, rc, cq_strerror(rc));
    f->stats.applied++;
    return 0;
}

static int book_data(cq_bn_feed_t *f, const cq_bn_md_t *m, uint32_t inst, const cq_instrument_t *spec,
                     int64_t recv_ns, int snapshot)
{
    int rc = convert_levels(spec, f->dbids, m->n_bids, f->bids);
    if (rc == 0)
        rc = convert_levels(spec, f->dasks, m->n_asks, f->asks);
    if (rc < 0)
        return fail(f, &f->stats.off_grid, rc, "book level price or quantity off the instrument's grid");
    cq_book_batch_t b = {inst, snapshot ? 0 : m->first_update_id, m->last_update_id,
                         snapshot ? recv_ns : m->event_ns, recv_ns,
                         f->bids, m->n_bids, f->asks, m->n_asks};
    return engine_result(f, snapshot ? cq_data_book_snapshot(f->de, &b) : cq_data_book_batch(f->de, &b));
}

static int dispatch(cq_bn_feed_t *f, const cq_bn_md_t *m, uint32_t inst, int64_t recv_ns)
{
    const cq_instrument_t *spec = cq_cache_instrument(f->cache, inst);
    int rc;
    switch (m->kind) {
    case CQ_BN_DEPTH:
        f->stats.depth++;
        return book_data(f, m, inst, spec, recv_ns, 0);
    case CQ_BN_SNAPSHOT:
        f->stats.snapshots++;
        return book_data(f, m, inst, spec, recv_ns, 1);
    case CQ_BN_TRADE:
    case CQ_BN_AGG_TRADE: {
        if (m->kind == CQ_BN_TRADE)
            f->stats.trades++;
        else
            f->stats.agg_trades++;
        cq_trade_t t;
        memset(&t, 0, sizeof t);
        t.hdr.type = CQ_EV_TRADE;
        t.hdr.instrument = inst;
        t.hdr.ts_event = m->trade_ms * 1000000;
        t.hdr.ts_init = recv_ns;
        if ((rc = to_double(spec, m->price, m->qty, &t.price, &t.qty)) < 0)
            return fail(f, &f->stats.off_grid, rc, "trade price or quantity off the instrument's grid");
        t.trade_id = m->trade_id;
        t.aggressor = m->buyer_is_maker ? CQ_SIDE_SELL : CQ_SIDE_BUY;
        return engine_result(f, cq_data_trade(f->de, &t));
    }
    case CQ_BN_BOOK_TICKER: {
        f->stats.book_tickers++;
        cq_quote_t q;
        memset(&q, 0, sizeof q);
        q.hdr.type = CQ_EV_QUOTE;
        q.hdr.instrument = inst;
        q.hdr.ts_event = recv_ns; /* spot bookTicker carries no venue time */
        q.hdr.ts_init = recv_ns;
        q.update_id = m->last_update_id;
        if ((rc = to_double(spec, m->bid_price, m->bid_qty, &q.bid_price, &q.bid_qty)) < 0 ||
            (rc = to_double(spec, m->ask_price, m->ask_qty, &q.ask_price, &q.ask_qty)) < 0)
            return fail(f, &f->stats.off_grid, rc, "bookTicker price or quantity off the instrument's grid");
        return engine_result(f, cq_data_quote(f->de, &q));
    }
    case CQ_BN_KLINE: {
        f->stats.klines++;
        if (!m->kline_closed) { /* still forming: the final update comes with x=true */
            f->stats.applied++;
            return 0;
        }
        cq_bar_t b;
        memset(&b, 0, sizeof b);
        b.hdr.type = CQ_EV_BAR;
        b.hdr.instrument = inst;
        b.hdr.ts_event = (m->close_ms + 1) * 1000000; /* Binance's T is the bar's last ms */
        b.hdr.ts_init = recv_ns;
        b.ts_open = m->open_ms * 1000000;
        b.open = cq_decimal_to_double(m->open);
        b.high = cq_decimal_to_double(m->high);
        b.low = cq_decimal_to_double(m->low);
        b.close = cq_decimal_to_double(m->close);
        b.volume = cq_decimal_to_double(m->volume);
        b.vwap = b.close; /* Binance klines carry no VWAP */
        b.trades = (int64_t)m->n_trades;
        b.kind = CQ_BAR_TIME;
        b.spec_value = (double)(m->close_ms + 1 - m->open_ms) / 1000.0;
        return engine_result(f, cq_data_bar(f->de, &b, m->interval));
    }
    default:
        return fail(f, &f->stats.decode_errors, CQ_ENOENT, "unhandled frame kind");
    }
}

int cq_bn_feed_frame(cq_bn_feed_t *f, const char *buf, size_t len, int64_t recv_ns)
{
    if (!f || !buf)
        return CQ_EINVAL;
    f->stats.frames++;
    cq_bn_md_t m;
    const char *why = NULL;
    int rc = cq_bn_decode(buf, len, &m, &f->lv, &why);
    if (rc < 0)
        return fail(f, &f->stats.decode_errors, rc, why);
    if (m.kind == CQ_BN_SNAPSHOT)
        return fail(f, &f->stats.decode_errors, CQ_EINVAL,
                    "REST depth snapshot on the stream path: use cq_bn_feed_snapshot (it names the symbol)");
    uint32_t inst;
    if ((rc = cq_bn_feed_instrument(f, m.symbol, &inst)) < 0)
        return fail(f, &f->stats.unknown_symbol, rc, "no instrument for the frame's symbol");
    return dispatch(f, &m, inst, recv_ns);
}

int cq_bn_feed_snapshot(cq_bn_feed_t *f, const char *symbol, const char *buf, size_t len,
                        int64_t recv_ns)
{
    if (!f || !symbol || !buf)
        return CQ_EINVAL;
    f->stats.frames++;
    cq_bn_md_t m;
    const char *why = NULL;
    int rc = cq_bn_decode(buf, len, &m, &f->lv, &why);
    if (rc < 0)
        return fail(f, &f->stats.decode_errors, rc, why);
    if (m.kind != CQ_BN_SNAPSHOT)
        return fail(f, &f->stats.decode_errors, CQ_EINVAL, "not a REST depth snapshot");
    uint32_t inst;
    if ((rc = cq_bn_feed_instrument(f, symbol, &inst)) < 0)
        return fail(f, &f->stats.unknown_symbol, rc, "no instrument for the snapshot's symbol");
    return dispatch(f, &m, inst, recv_ns);
}

/* ---- recordings ------------------------------------------------------------ */

/* "<digits>[.<digits>]" seconds -> ns, exactly to the ns. */
static int parse_seconds(const char *p, const char *end, int64_t *ns)
{
    int64_t s = 0, frac = 0;
    int nd = 0, nf = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (++nd > 11)
            return CQ_EPARSE;
        s = s * 10 + (*p++ - '0');
    }
    if (nd == 0)
        return CQ_EPARSE;
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9') {
            if (nf < 9) {
                frac = frac * 10 + (*p - '0');
                nf++;
            }
            p++;
        }
    }
    if (p != end)
        return CQ_EPARSE;
    while (nf++ < 9)
        frac *= 10;
    *ns = s * 1000000000 + frac;
    return 0;
}

int cq_bn_line_parse(const char *line, size_t len, cq_bn_line_t *out)
{
    if (!line || !out)
        return CQ_EINVAL;
    memset(out, 0, sizeof *out);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    const char *end = line + len;
    if (len == 0 || !memcmp(line, "configuration:", len < 14 ? len : 14))
        return 0;
    if (len > 6 && (!memcmp(line, "wss://", 6) || !memcmp(line, "ws://", 5)))
        return 0; /* connection opened, or a frame we sent */
    if (len > 8 && !memcmp(line, "https://", 8)) {
        /* "<url> -> <recv_s>: <json>" */
        const char *arrow = NULL;
        for (const char *p = line; p + 4 <= end; p++)
            if (!memcmp(p, " -> ", 4)) {
                arrow = p;
                break;
            }
        if (!arrow)
            return CQ_EPARSE;
        const char *colon = memchr(arrow + 4, ':', (size_t)(end - arrow - 4));
        if (!colon || colon + 2 > end || colon[1] != ' ')
            return CQ_EPARSE;
        int rc = parse_seconds(arrow + 4, colon, &out->recv_ns);
        if (rc < 0)
            return rc;
        out->kind = CQ_BN_LINE_REST;
        out->json = colon + 2;
        out->json_len = (size_t)(end - out->json);
        const char *q = memchr(line, '?', (size_t)(arrow - line));
        for (const char *p = line; p + 6 <= (q ? q : arrow); p++)
            if (!memcmp(p, "/depth", 6))
                out->is_depth = 1;
        for (const char *p = q; p && p + 7 <= arrow; p++) {
            if (memcmp(p, "symbol=", 7) != 0 || (p[-1] != '?' && p[-1] != '&'))
                continue;
            size_t i = 0;
            for (p += 7; p < arrow && *p != '&' && i + 1 < sizeof out->symbol; p++)
                out->symbol[i++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
            out->symbol[i] = 0;
            break;
        }
        return 0;
    }
    /* "<recv_ns> <json>" or "<recv_s.frac>: <json>" */
    const char *sp = memchr(line, ' ', len);
    if (!sp || sp + 1 >= end || sp == line)
        return CQ_EPARSE;
    int rc;
    if (sp[-1] == ':') {
        rc = parse_seconds(line, sp - 1, &out->recv_ns);
    } else {
        int64_t v = 0;
        const char *p = line;
        for (; p < sp && *p >= '0' && *p <= '9'; p++) {
            if (v > (INT64_MAX - 9) / 10)
                return CQ_ERANGE;
            v = v * 10 + (*p - '0');
        }
        rc = p == sp ? 0 : CQ_EPARSE;
        out->recv_ns = v;
    }
    if (rc < 0)
        return rc;
    out->kind = CQ_BN_LINE_FRAME;
    out->json = sp + 1;
    out->json_len = (size_t)(end - out->json);
    return 0;
}

int cq_bn_feed_line(cq_bn_feed_t *f, const cq_bn_line_t *line, const char *default_symbol)
{
    if (!f || !line)
        return CQ_EINVAL;
    if (line->kind == CQ_BN_LINE_REST) {
        if (!line->is_depth)
            return 0;
        if (!line->symbol[0])
            return fail(f, &f->stats.decode_errors, CQ_EPARSE, "REST depth line without symbol= in its URL");
        return cq_bn_feed_snapshot(f, line->symbol, line->json, line->json_len, line->recv_ns);
    }
    if (line->kind != CQ_BN_LINE_FRAME)
        return 0;
    /* A bare snapshot body starts with its only top-level key. */
    static const char key[] = "{\"lastUpdateId\"";
    if (line->json_len >= sizeof key - 1 && !memcmp(line->json, key, sizeof key - 1)) {
        if (!default_symbol)
            return fail(f, &f->stats.decode_errors, CQ_EINVAL, "bare depth snapshot and no symbol for it");
        return cq_bn_feed_snapshot(f, default_symbol, line->json, line->json_len, line->recv_ns);
    }
    return cq_bn_feed_frame(f, line->json, line->json_len, line->recv_ns);
}

/* ---- exchangeInfo ------------------------------------------------------------- */

static const char *str_item(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int listed(const char *const *symbols, const char *s)
{
    if (!symbols)
        return 1;
    for (; *symbols; symbols++)
        if (!strcmp(*symbols, s))
            return 1;
    return 0;
}

int cq_bn_exchange_info_load(cq_cache_t *cache, const char *venue, const char *json, size_t len,
                             const char *const *symbols, size_t *count)
{
    if (!cache || !json)
        return CQ_EINVAL;
    if (!venue)
        venue = "BINANCE";
    size_t added = 0;
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return CQ_EPARSE;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "symbols");
    int rc = cJSON_IsArray(arr) ? 0 : CQ_EPARSE;
    const cJSON *sym;
    cJSON_ArrayForEach(sym, arr) {
        if (rc < 0)
            break;
        const char *name = str_item(sym, "symbol"), *base = str_item(sym, "baseAsset");
        const char *quote = str_item(sym, "quoteAsset"), *status = str_item(sym, "status");
        if (!name || !listed(symbols, name))
            continue;
        if (!base || !quote) {
            rc = CQ_EPARSE;
            break;
        }
        const char *tick = NULL, *step = NULL, *min_qty = NULL, *max_qty = NULL, *min_notional = NULL;
        const cJSON *flt;
        cJSON_ArrayForEach(flt, cJSON_GetObjectItemCaseSensitive(sym, "filters")) {
            const char *type = str_item(flt, "filterType");
            if (!type)
                continue;
            if (!strcmp(type, "PRICE_FILTER")) {
                tick = str_item(flt, "tickSize");
            } else if (!strcmp(type, "LOT_SIZE")) {
                step = str_item(flt, "stepSize");
                min_qty = str_item(flt, "minQty");
                max_qty = str_item(flt, "maxQty");
            } else if (!strcmp(type, "MIN_NOTIONAL") || !strcmp(type, "NOTIONAL")) {
                min_notional = str_item(flt, "minNotional");
            }
        }
        if (!tick || !step) {
            rc = CQ_EPARSE;
            break;
        }
        cq_instrument_t spec;
        if ((rc = cq_instrument_init(&spec, name, venue, base, quote, tick, step)) < 0)
            break;
        cq_decimal_t d;
        if (min_qty && cq_decimal_parse(min_qty, strlen(min_qty), &d) == 0)
            spec.min_qty = cq_decimal_to_double(d);
        if (max_qty && cq_decimal_parse(max_qty, strlen(max_qty), &d) == 0)
            spec.max_qty = cq_decimal_to_double(d);
        if (min_notional && cq_decimal_parse(min_notional, strlen(min_notional), &d) == 0)
            spec.min_notional = cq_decimal_to_double(d);
        spec.tradable = status && !strcmp(status, "TRADING");
        if ((rc = cq_cache_instrument_add(cache, &spec, NULL)) < 0)
            break;
        added++;
    }
    cJSON_Delete(root);
    if (count)
        *count = added;
    return rc;
}
