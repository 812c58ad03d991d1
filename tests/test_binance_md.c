/*
 * test_binance_md.c - the Binance Spot market-data codec: both decoders on
 * every recorded frame, exact values on a few, and hostile input.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bn_md_diff.h"
#include "cquant/binance_md.h"
#include "cquant/error.h"
#include "support/cq_test.h"

enum { CAP = 5000 };
static cq_bn_level_t g_b1[CAP], g_a1[CAP], g_b2[CAP], g_a2[CAP];

static bn_diff_t mkdiff(uint32_t cap)
{
    bn_diff_t d;
    memset(&d, 0, sizeof d);
    d.bids1 = g_b1;
    d.asks1 = g_a1;
    d.bids2 = g_b2;
    d.asks2 = g_a2;
    d.cap = cap;
    return d;
}

/* Real frames, copied from the recordings. */
static const char TRADE[] =
    "{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1723161255343,\"s\":\"BTCUSDT\","
    "\"t\":3735683259,\"p\":\"61837.63000000\",\"q\":\"0.02000000\",\"T\":1723161255342,"
    "\"m\":true,\"M\":true}}";
static const char DEPTH[] =
    "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1723161255308,"
    "\"s\":\"BTCUSDT\",\"U\":50093239203,\"u\":50093239207,\"b\":[[\"55653.87000000\","
    "\"0.00000000\"]],\"a\":[[\"61838.04000000\",\"0.32332000\"],[\"61844.30000000\","
    "\"0.40163000\"],[\"61862.50000000\",\"0.05019000\"],[\"61862.51000000\",\"0.00000000\"]]}}";
static const char BOOKT[] =
    "{\"stream\":\"btcusdt@bookTicker\",\"data\":{\"u\":50093239212,\"s\":\"BTCUSDT\","
    "\"b\":\"61837.63000000\",\"B\":\"3.78826000\",\"a\":\"61837.64000000\",\"A\":\"1.54698000\"}}";
static const char AGG[] =
    "{\"stream\":\"ftmusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"E\":1628952396573,"
    "\"s\":\"FTMUSDT\",\"a\":31718372,\"p\":\"0.33993000\",\"q\":\"99.90000000\",\"f\":38248910,"
    "\"l\":38248910,\"T\":1628952396572,\"m\":true,\"M\":true}}";
static const char KLINE[] =
    "{\"stream\":\"ftmusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1628952421387,"
    "\"s\":\"FTMUSDT\",\"k\":{\"t\":1628952360000,\"T\":1628952419999,\"s\":\"FTMUSDT\","
    "\"i\":\"1m\",\"f\":38248833,\"L\":38248914,\"o\":\"0.34064000\",\"c\":\"0.33964000\","
    "\"h\":\"0.34070000\",\"l\":\"0.33934000\",\"v\":\"209224.30000000\",\"n\":82,\"x\":true,"
    "\"q\":\"71058.51891400\",\"V\":\"156133.30000000\",\"Q\":\"53013.75454200\",\"B\":\"0\"}}}";
/* Handmade, in the shape of GET /api/v3/depth. */
static const char SNAP[] = "{\"lastUpdateId\":1027024,\"bids\":[[\"4.00000000\",\"431.00000000\"]],"
                           "\"asks\":[[\"4.00000200\",\"12.00000000\"],[\"4.00000300\",\"1.5\"]]}";

static const char *const TEMPLATES[] = {TRADE, DEPTH, BOOKT, AGG, KLINE, SNAP};

/* A heap copy of exactly len bytes: ASan sees any read past the end. */
static char *exact_copy(const char *s, size_t len)
{
    char *b = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(b);
    memcpy(b, s, len);
    return b;
}

/* s with the first occurrence of from replaced by to (malloc'd). */
static char *subst(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    ck_assert_msg(at != NULL, "template has no \"%s\"", from);
    size_t a = (size_t)(at - s), nf = strlen(from), nt = strlen(to), ns = strlen(s);
    char *r = malloc(ns - nf + nt + 1);
    memcpy(r, s, a);
    memcpy(r + a, to, nt);
    memcpy(r + a + nt, at + nf, ns - a - nf + 1);
    return r;
}

/* Both decoders return rc with the same reason ("json:" = any syntax
 * reason), and agree by the differential rules. */
static void expect_both_n(const char *frame, size_t len, int rc, const char *why)
{
    bn_diff_t d = mkdiff(CAP);
    char msg[512];
    char *b = exact_copy(frame, len);
    int differs = bn_diff(&d, b, len, msg, sizeof msg);
    free(b);
    ck_assert_msg(d.rc1 == rc, "fast returned %d (%s), wanted %d, for %.300s", d.rc1,
                  d.why1 ? d.why1 : "-", rc, frame);
    ck_assert_msg(d.rc2 == rc, "cjson returned %d (%s), wanted %d, for %.300s", d.rc2,
                  d.why2 ? d.why2 : "-", rc, frame);
    if (why && strcmp(why, "json:") == 0) {
        ck_assert_msg(strncmp(d.why1, "json:", 5) == 0, "fast why %s", d.why1);
        ck_assert_msg(strncmp(d.why2, "json:", 5) == 0, "cjson why %s", d.why2);
    } else if (why) {
        ck_assert_msg(d.why1 && strcmp(d.why1, why) == 0, "fast why \"%s\", wanted \"%s\"",
                      d.why1 ? d.why1 : "(null)", why);
        ck_assert_msg(d.why2 && strcmp(d.why2, why) == 0, "cjson why \"%s\", wanted \"%s\"",
                      d.why2 ? d.why2 : "(null)", why);
    }
    ck_assert_msg(!differs, "%s for %.300s", msg, frame);
}

static void expect_both(const char *frame, int rc, const char *why)
{
    expect_both_n(frame, strlen(frame), rc, why);
}

/* Replace from by to in tmpl and expect rc/why from both decoders. */
static void expect_subst(const char *tmpl, const char *from, const char *to, int rc, const char *why)
{
    char *f = subst(tmpl, from, to);
    expect_both(f, rc, why);
    free(f);
}

static cq_bn_md_t decode_ok(const char *frame, size_t len)
{
    bn_diff_t d = mkdiff(CAP);
    char msg[512];
    char *b = exact_copy(frame, len);
    int differs = bn_diff(&d, b, len, msg, sizeof msg);
    free(b);
    ck_assert_msg(d.rc1 == 0, "fast: %d %s", d.rc1, d.why1);
    ck_assert_msg(!differs, "%s", msg);
    return d.out1;
}

/* --- recordings ---------------------------------------------------------------- */

typedef struct {
    gzFile f;
    char *buf;
    size_t cap;
    long lineno;
} lines_t;

static int lines_open(lines_t *r, const char *rel, const char *test)
{
    memset(r, 0, sizeof *r);
    char rel_path[512];
    snprintf(rel_path, sizeof rel_path, "binance_spot/market_stream/%s", rel);
    const char *path = cq_test_data_path(rel_path);
    if (!path) {
        cq_test_skip(test, "recorded data folder absent");
        return 0;
    }
    r->f = gzopen(path, "rb");
    ck_assert_msg(r->f != NULL, "cannot open %s", path);
    r->cap = 1 << 16;
    r->buf = malloc(r->cap);
    return 1;
}

/* The next line without its end-of-line, or NULL at the end. */
static char *lines_next(lines_t *r, size_t *len)
{
    size_t n = 0;
    for (;;) {
        if (r->cap - n < 2) {
            r->cap *= 2;
            r->buf = realloc(r->buf, r->cap);
            ck_assert_ptr_nonnull(r->buf);
        }
        if (!gzgets(r->f, r->buf + n, (int)(r->cap - n))) {
            if (n == 0)
                return NULL;
            break;
        }
        n += strlen(r->buf + n);
        if (n > 0 && r->buf[n - 1] == '\n')
            break;
    }
    r->lineno++;
    while (n > 0 && (r->buf[n - 1] == '\n' || r->buf[n - 1] == '\r'))
        r->buf[--n] = '\0';
    *len = n;
    return r->buf;
}

static void lines_close(lines_t *r)
{
    if (r->f)
        gzclose(r->f);
    free(r->buf);
}

/* The frame a recorded line carries, or NULL for lines that carry none:
 * hftbacktest "<ns> <json>", cryptofeed "<s>: <json>" and
 * "https://... -> <s>: <json>"; cryptofeed's configuration line, the
 * "wss://" connection lines and empty lines carry none. */
static const char *frame_of_line(const char *line, size_t len, size_t *flen)
{
    const char *j = NULL;
    if (len > 0 && isdigit((unsigned char)line[0])) {
        const char *sp = memchr(line, ' ', len);
        j = sp ? sp + 1 : NULL;
    } else if (strncmp(line, "https://", 8) == 0) {
        const char *c = strstr(line, ": {");
        j = c ? c + 2 : NULL;
    }
    if (j)
        *flen = len - (size_t)(j - line);
    return j;
}

typedef struct {
    long kinds[CQ_BN_KIND_COUNT_];
    long closed;
    long frames;
    uint64_t snap_ids[16];
    int n_snaps;
    char symbols[16][CQ_BN_SYMBOL_MAX];
    int n_symbols;
} tally_t;

/* The stream name's symbol part must be the decoded symbol, lowercased:
 * frames of several symbols are kept apart. */
static void check_stream_symbol(const char *frame, size_t len, const cq_bn_md_t *o, long lineno)
{
    const char *key = "\"stream\":\"";
    const char *st = strstr(frame, key);
    ck_assert_msg(st && (size_t)(st - frame) < len, "line %ld: no stream name", lineno);
    st += strlen(key);
    size_t n = strlen(o->symbol);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(st[i] == tolower((unsigned char)o->symbol[i]), "line %ld: stream %.20s vs %s",
                      lineno, st, o->symbol);
    ck_assert_msg(st[n] == '@', "line %ld: stream %.20s vs %s", lineno, st, o->symbol);
}

static void tally_symbol(tally_t *t, const char *sym)
{
    for (int i = 0; i < t->n_symbols; i++)
        if (strcmp(t->symbols[i], sym) == 0)
            return;
    ck_assert_int_lt(t->n_symbols, 16);
    strcpy(t->symbols[t->n_symbols++], sym);
}

/* Every frame of the file decodes with both decoders, identically. */
static int diff_recording(const char *rel, const char *test, tally_t *t)
{
    lines_t r;
    memset(t, 0, sizeof *t);
    if (!lines_open(&r, rel, test))
        return 0;
    bn_diff_t d = mkdiff(CAP);
    char msg[512];
    char *line;
    size_t len, flen;
    while ((line = lines_next(&r, &len)) != NULL) {
        const char *frame = frame_of_line(line, len, &flen);
        if (!frame)
            continue;
        int differs = bn_diff(&d, frame, flen, msg, sizeof msg);
        ck_assert_msg(d.rc1 == 0, "%s:%ld: fast: %s", rel, r.lineno, d.why1);
        ck_assert_msg(d.rc2 == 0, "%s:%ld: cjson: %s", rel, r.lineno, d.why2);
        ck_assert_msg(!differs, "%s:%ld: %s", rel, r.lineno, msg);
        const cq_bn_md_t *o = &d.out1;
        t->frames++;
        t->kinds[o->kind]++;
        t->closed += o->kind == CQ_BN_KLINE && o->kline_closed;
        if (o->kind == CQ_BN_SNAPSHOT && t->n_snaps < 16)
            t->snap_ids[t->n_snaps++] = o->last_update_id;
        if (o->flags & CQ_BN_F_ENVELOPE) {
            check_stream_symbol(frame, flen, o, r.lineno);
            tally_symbol(t, o->symbol);
        }
    }
    lines_close(&r);
    return 1;
}

START_TEST(test_bn_btcusdt_gz_every_frame_decodes_alike_in_both)
{
    tally_t t;
    if (!diff_recording("hftbacktest_spot_btcusdt_20240808.gz", __func__, &t))
        return;
    ck_assert_int_eq(t.kinds[CQ_BN_DEPTH], 3451);
    ck_assert_int_eq(t.kinds[CQ_BN_BOOK_TICKER], 28040);
    ck_assert_int_eq(t.kinds[CQ_BN_TRADE], 9757);
    ck_assert_int_eq(t.kinds[CQ_BN_SNAPSHOT], 1);
    ck_assert_int_eq(t.frames, 41249);
    ck_assert_uint_eq(t.snap_ids[0], 50093239218ULL);
}
END_TEST

START_TEST(test_bn_ethusdt_gz_every_frame_decodes_alike_in_both)
{
    tally_t t;
    if (!diff_recording("hftbacktest_spot_ethusdt_20240808.gz", __func__, &t))
        return;
    ck_assert_int_eq(t.kinds[CQ_BN_DEPTH], 3434);
    ck_assert_int_eq(t.kinds[CQ_BN_BOOK_TICKER], 24077);
    ck_assert_int_eq(t.kinds[CQ_BN_TRADE], 6106);
    ck_assert_int_eq(t.kinds[CQ_BN_SNAPSHOT], 1);
    ck_assert_int_eq(t.frames, 33618);
    ck_assert_uint_eq(t.snap_ids[0], 35346513512ULL);
}
END_TEST

START_TEST(test_bn_btcusdt_head_txt_every_frame_decodes_alike_in_both)
{
    tally_t t;
    if (!diff_recording("hftbacktest_spot_btcusdt_20240808_head.txt", __func__, &t))
        return;
    ck_assert_int_eq(t.kinds[CQ_BN_DEPTH], 612);
    ck_assert_int_eq(t.kinds[CQ_BN_BOOK_TICKER], 5419);
    ck_assert_int_eq(t.kinds[CQ_BN_TRADE], 1394);
    ck_assert_int_eq(t.kinds[CQ_BN_SNAPSHOT], 1);
}
END_TEST

START_TEST(test_bn_cryptofeed_ws_every_frame_decodes_and_keeps_symbols_apart)
{
    tally_t t;
    if (!diff_recording("cryptofeed_binance_20210814_ws.txt", __func__, &t))
        return;
    ck_assert_int_eq(t.kinds[CQ_BN_DEPTH], 546);
    ck_assert_int_eq(t.kinds[CQ_BN_BOOK_TICKER], 412);
    ck_assert_int_eq(t.kinds[CQ_BN_AGG_TRADE], 28);
    ck_assert_int_eq(t.kinds[CQ_BN_KLINE], 17);
    ck_assert_int_eq(t.closed, 2);
    ck_assert_int_eq(t.frames, 546 + 412 + 28 + 17);
    ck_assert_int_eq(t.n_symbols, 4);
}
END_TEST

START_TEST(test_bn_cryptofeed_rest_depth_snapshots_decode_with_their_ids)
{
    tally_t t;
    if (!diff_recording("cryptofeed_binance_20210814_rest_depth.txt", __func__, &t))
        return;
    static const uint64_t ids[] = {717720857, 800360994, 679669301, 49759189};
    ck_assert_int_eq(t.kinds[CQ_BN_SNAPSHOT], 4);
    ck_assert_int_eq(t.frames, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(t.snap_ids[i], ids[i]);
}
END_TEST

START_TEST(test_bn_cryptofeed_interleaved_every_frame_decodes_alike_in_both)
{
    tally_t t;
    if (!diff_recording("cryptofeed_binance_20210405_interleaved_head.txt", __func__, &t))
        return;
    static const uint64_t ids[] = {499822895, 267008302, 148624026, 81572545, 30366880,
                                   87930411,  242766529, 155214631, 18687639, 135436904};
    ck_assert_int_eq(t.kinds[CQ_BN_BOOK_TICKER], 3795);
    ck_assert_int_eq(t.kinds[CQ_BN_DEPTH], 3079);
    ck_assert_int_eq(t.kinds[CQ_BN_AGG_TRADE], 781);
    ck_assert_int_eq(t.kinds[CQ_BN_SNAPSHOT], 10);
    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(t.snap_ids[i], ids[i]);
    ck_assert_int_eq(t.n_symbols, 10);
}
END_TEST

START_TEST(test_bn_exchange_info_is_refused_alike_as_too_long)
{
    lines_t r;
    if (!lines_open(&r, "cryptofeed_binance_20210814_exchangeinfo.txt", __func__))
        return;
    size_t len, flen;
    char *line = lines_next(&r, &len);
    ck_assert_ptr_nonnull(line);
    const char *frame = frame_of_line(line, len, &flen);
    ck_assert_ptr_nonnull(frame);
    ck_assert_uint_gt(flen, CQ_BN_MAX_FRAME);
    expect_both_n(frame, flen, CQ_ETOOLONG, "frame too long");
    lines_close(&r);
}
END_TEST

START_TEST(test_bn_nautilus_pretty_trade_has_exact_values)
{
    lines_t r;
    if (!lines_open(&r, "nautilus_ws_spot_trade.json", __func__))
        return;
    char whole[1024];
    size_t n = 0, len;
    char *line;
    while ((line = lines_next(&r, &len)) != NULL) {
        ck_assert_uint_lt(n + len + 1, sizeof whole);
        memcpy(whole + n, line, len);
        n += len;
        whole[n++] = '\n';
    }
    lines_close(&r);
    cq_bn_md_t o = decode_ok(whole, n);
    ck_assert_int_eq(o.kind, CQ_BN_TRADE);
    ck_assert_str_eq(o.symbol, "ETHUSDT");
    ck_assert_uint_eq(o.trade_id, 705291099);
    ck_assert_int_eq(o.price.mant, 414974000000LL);
    ck_assert_int_eq(o.price.exp, 8);
    ck_assert_int_eq(o.qty.mant, 43870000);
    ck_assert_int_eq(o.event_ms, 1639351062244LL);
    ck_assert_int_eq(o.event_ns, 1639351062244000000LL);
    ck_assert_int_eq(o.trade_ms, 1639351062243LL);
    ck_assert_int_eq(o.buyer_is_maker, 1);
    ck_assert_uint_eq(o.flags, CQ_BN_F_ENVELOPE);
}
END_TEST

/* --- exact values on real frames ----------------------------------------------- */

START_TEST(test_bn_depth_update_fields_and_levels)
{
    cq_bn_md_t o = decode_ok(DEPTH, strlen(DEPTH));
    ck_assert_int_eq(o.kind, CQ_BN_DEPTH);
    ck_assert_str_eq(o.symbol, "BTCUSDT");
    ck_assert_uint_eq(o.first_update_id, 50093239203ULL);
    ck_assert_uint_eq(o.last_update_id, 50093239207ULL);
    ck_assert_int_eq(o.event_ns, 1723161255308000000LL);
    ck_assert_uint_eq(o.n_bids, 1);
    ck_assert_uint_eq(o.n_asks, 4);
    ck_assert_int_eq(g_b1[0].price.mant, 5565387000000LL);
    ck_assert_int_eq(g_b1[0].qty.mant, 0);
    ck_assert_int_eq(g_b1[0].qty.exp, 8);
    ck_assert_int_eq(g_a1[1].price.mant, 6184430000000LL);
    ck_assert_int_eq(g_a1[1].qty.mant, 40163000);
    ck_assert_int_eq(g_a1[3].qty.mant, 0);
}
END_TEST

START_TEST(test_bn_book_ticker_fields_and_no_event_time)
{
    cq_bn_md_t o = decode_ok(BOOKT, strlen(BOOKT));
    ck_assert_int_eq(o.kind, CQ_BN_BOOK_TICKER);
    ck_assert_uint_eq(o.last_update_id, 50093239212ULL);
    ck_assert_int_eq(o.bid_price.mant, 6183763000000LL);
    ck_assert_int_eq(o.bid_qty.mant, 378826000);
    ck_assert_int_eq(o.ask_price.mant, 6183764000000LL);
    ck_assert_int_eq(o.ask_qty.mant, 154698000);
    ck_assert_int_eq(o.event_ms, 0);
    ck_assert_uint_eq(o.n_bids, 0);
}
END_TEST

START_TEST(test_bn_agg_trade_fields)
{
    cq_bn_md_t o = decode_ok(AGG, strlen(AGG));
    ck_assert_int_eq(o.kind, CQ_BN_AGG_TRADE);
    ck_assert_str_eq(o.symbol, "FTMUSDT");
    ck_assert_uint_eq(o.trade_id, 31718372);
    ck_assert_uint_eq(o.first_trade_id, 38248910);
    ck_assert_uint_eq(o.last_trade_id, 38248910);
    ck_assert_int_eq(o.price.mant, 33993000);
    ck_assert_int_eq(o.qty.mant, 9990000000LL);
    ck_assert_int_eq(o.trade_ms, 1628952396572LL);
    ck_assert_int_eq(o.buyer_is_maker, 1);
}
END_TEST

START_TEST(test_bn_trade_fields)
{
    cq_bn_md_t o = decode_ok(TRADE, strlen(TRADE));
    ck_assert_int_eq(o.kind, CQ_BN_TRADE);
    ck_assert_uint_eq(o.trade_id, 3735683259ULL);
    ck_assert_int_eq(o.price.mant, 6183763000000LL);
    ck_assert_int_eq(o.qty.mant, 2000000);
    ck_assert_int_eq(o.buyer_is_maker, 1);
    ck_assert_uint_eq(o.first_trade_id, 0); /* not an aggTrade field */
}
END_TEST

START_TEST(test_bn_closed_kline_fields)
{
    cq_bn_md_t o = decode_ok(KLINE, strlen(KLINE));
    ck_assert_int_eq(o.kind, CQ_BN_KLINE);
    ck_assert_str_eq(o.symbol, "FTMUSDT");
    ck_assert_str_eq(o.interval, "1m");
    ck_assert_int_eq(o.open_ms, 1628952360000LL);
    ck_assert_int_eq(o.close_ms, 1628952419999LL);
    ck_assert_int_eq(o.open.mant, 34064000);
    ck_assert_int_eq(o.close.mant, 33964000);
    ck_assert_int_eq(o.high.mant, 34070000);
    ck_assert_int_eq(o.low.mant, 33934000);
    ck_assert_int_eq(o.volume.mant, 20922430000000LL);
    ck_assert_uint_eq(o.n_trades, 82);
    ck_assert_int_eq(o.kline_closed, 1);
    ck_assert_int_eq(o.event_ms, 1628952421387LL);
}
END_TEST

START_TEST(test_bn_snapshot_levels_and_no_symbol)
{
    cq_bn_md_t o = decode_ok(SNAP, strlen(SNAP));
    ck_assert_int_eq(o.kind, CQ_BN_SNAPSHOT);
    ck_assert_uint_eq(o.last_update_id, 1027024);
    ck_assert_str_eq(o.symbol, "");
    ck_assert_uint_eq(o.n_bids, 1);
    ck_assert_uint_eq(o.n_asks, 2);
    ck_assert_int_eq(g_a1[1].qty.mant, 15);
    ck_assert_int_eq(g_a1[1].qty.exp, 1);
    ck_assert_uint_eq(o.flags, 0);
}
END_TEST

/* --- shapes that must decode the same ------------------------------------------- */

START_TEST(test_bn_raw_payload_decodes_like_its_envelope)
{
    for (size_t i = 0; i < sizeof TEMPLATES / sizeof TEMPLATES[0] - 1; i++) {
        const char *t = TEMPLATES[i];
        const char *data = strstr(t, "\"data\":") + 7;
        size_t n = strlen(data) - 1; /* without the envelope's '}' */
        cq_bn_md_t env = decode_ok(t, strlen(t));
        cq_bn_md_t raw = decode_ok(data, n);
        ck_assert_uint_eq(raw.flags, 0);
        raw.flags = env.flags;
        ck_assert_msg(bn_md_differs(&env, &raw) == NULL, "%s", bn_md_differs(&env, &raw));
    }
}
END_TEST

START_TEST(test_bn_key_order_does_not_matter)
{
    cq_bn_md_t a = decode_ok(TRADE, strlen(TRADE));
    static const char shuffled[] =
        "{\"data\":{\"M\":true,\"m\":true,\"T\":1723161255342,\"q\":\"0.02000000\","
        "\"p\":\"61837.63000000\",\"t\":3735683259,\"s\":\"BTCUSDT\",\"E\":1723161255343,"
        "\"e\":\"trade\"},\"stream\":\"btcusdt@trade\"}";
    cq_bn_md_t b = decode_ok(shuffled, strlen(shuffled));
    ck_assert_ptr_null(bn_md_differs(&a, &b));
    static const char depth_e_last[] =
        "{\"a\":[[\"2.0\",\"1\"]],\"b\":[[\"1.0\",\"3\"]],\"u\":9,\"U\":7,\"s\":\"X\",\"E\":5,"
        "\"e\":\"depthUpdate\"}";
    cq_bn_md_t c = decode_ok(depth_e_last, strlen(depth_e_last));
    ck_assert_int_eq(c.kind, CQ_BN_DEPTH);
    ck_assert_uint_eq(c.n_bids, 1);
    ck_assert_int_eq(g_b1[0].qty.mant, 3);
    ck_assert_int_eq(g_a1[0].price.mant, 20);
}
END_TEST

START_TEST(test_bn_whitespace_between_tokens_is_accepted)
{
    static const char spaced[] =
        " \r\n\t{ \"stream\" : \"x\" ,\n\"data\"\t:{ \"u\" : 1 , \"s\":\"B\", \"b\" : \"1.5\" ,"
        "\"B\":\"2\",\"a\":\"3\",\"A\":\"4\" } }\r\n";
    cq_bn_md_t o = decode_ok(spaced, strlen(spaced));
    ck_assert_int_eq(o.kind, CQ_BN_BOOK_TICKER);
    ck_assert_int_eq(o.bid_price.mant, 15);
    static const char lvl[] = "{\"lastUpdateId\":1,\"bids\":[ [ \"1.0\" , \"2.0\" ] , [\"3\",\"4\"] ],"
                              "\"asks\":[ ]}";
    o = decode_ok(lvl, strlen(lvl));
    ck_assert_uint_eq(o.n_bids, 2);
    ck_assert_uint_eq(o.n_asks, 0);
}
END_TEST

START_TEST(test_bn_escaped_keys_and_values_decode_like_plain_ones)
{
    static const char esc[] =
        "{\"stream\":\"btcusdt@trade\",\"\\u0064ata\":{\"\\u0065\":\"tr\\u0061de\","
        "\"E\":1723161255343,\"s\":\"BTC\\u0055SDT\",\"t\":3735683259,"
        "\"p\":\"6\\u00318\\u0033\\u0037.63000000\",\"q\":\"0.02000000\",\"T\":1723161255342,"
        "\"m\":true,\"M\":true}}";
    /* "6\u00318\u0033\u0037" is "61837" */
    cq_bn_md_t a = decode_ok(TRADE, strlen(TRADE));
    cq_bn_md_t b = decode_ok(esc, strlen(esc));
    ck_assert_ptr_null(bn_md_differs(&a, &b));
}
END_TEST

START_TEST(test_bn_unknown_fields_of_any_shape_are_skipped)
{
    char *f = subst(TRADE, "\"M\":true",
                    "\"M\":true,\"zz\":{\"a\":[1,-2.5e-3,{\"b\":\"x\\\"y\\\\z\\u00e9\\ud83d\\ude00\"}],"
                    "\"n\":null,\"t\":false,\"o\":{}},\"é\":[[],[[]]],\"\":0");
    cq_bn_md_t a = decode_ok(TRADE, strlen(TRADE));
    cq_bn_md_t b = decode_ok(f, strlen(f));
    ck_assert_ptr_null(bn_md_differs(&a, &b));
    free(f);
    f = subst(TRADE, "\"data\"", "\"id\":[{\"e\":\"kline\"}],\"data\"");
    b = decode_ok(f, strlen(f));
    ck_assert_ptr_null(bn_md_differs(&a, &b));
    free(f);
}
END_TEST

START_TEST(test_bn_keys_are_case_sensitive)
{
    /* "e" is there, "E" is not: never take one for the other */
    expect_subst(TRADE, "\"E\":1723161255343,", "", CQ_EPARSE, "E: missing");
    expect_subst(BOOKT, "\"B\":\"3.78826000\",", "\"b2\":1,", CQ_EPARSE, "B: missing");
    expect_subst(DEPTH, "\"U\":50093239203,", "", CQ_EPARSE, "U: missing");
    expect_subst(KLINE, "\"x\":true,", "\"X\":true,", CQ_EPARSE, "k.x: missing");
}
END_TEST

START_TEST(test_bn_keys_of_other_kinds_are_ignored)
{
    /* a "t" or "k" in a bookTicker, "bids" in a depthUpdate */
    char *f = subst(BOOKT, "\"u\":", "\"t\":\"junk\",\"k\":5,\"e2\":1,\"u\":");
    cq_bn_md_t o = decode_ok(f, strlen(f));
    ck_assert_int_eq(o.kind, CQ_BN_BOOK_TICKER);
    ck_assert_uint_eq(o.trade_id, 0);
    free(f);
    f = subst(DEPTH, "\"b\":", "\"bids\":[[\"9\",\"9\"]],\"b\":");
    o = decode_ok(f, strlen(f));
    ck_assert_uint_eq(o.n_bids, 1);
    ck_assert_int_eq(g_b1[0].price.mant, 5565387000000LL);
    free(f);
}
END_TEST

START_TEST(test_bn_competing_level_arrays_decode_by_kind)
{
    /* "b" and "bids" both fill the bid side; which one counts depends on
     * the kind, known only at the end */
    static const char snap[] = "{\"b\":[[\"7\",\"7\"]],\"bids\":[[\"1.0\",\"2.0\"]],\"asks\":[],"
                               "\"a\":[[\"8\",\"8\"]],\"lastUpdateId\":5}";
    cq_bn_md_t o = decode_ok(snap, strlen(snap));
    ck_assert_int_eq(o.kind, CQ_BN_SNAPSHOT);
    ck_assert_uint_eq(o.n_bids, 1);
    ck_assert_uint_eq(o.n_asks, 0);
    ck_assert_int_eq(g_b1[0].price.mant, 10);
    static const char depth[] = "{\"bids\":[[\"1.0\",\"2.0\"]],\"b\":[[\"7\",\"7\"]],\"a\":[],"
                                "\"e\":\"depthUpdate\",\"E\":1,\"s\":\"X\",\"U\":1,\"u\":2}";
    o = decode_ok(depth, strlen(depth));
    ck_assert_int_eq(o.kind, CQ_BN_DEPTH);
    ck_assert_int_eq(g_b1[0].price.mant, 7);
}
END_TEST

START_TEST(test_bn_envelope_found_after_payload_keys)
{
    char *f = subst(TRADE, "{\"stream\"", "{\"e\":\"kline\",\"b\":[[\"1\",\"1\"]],\"stream\"");
    cq_bn_md_t a = decode_ok(TRADE, strlen(TRADE));
    cq_bn_md_t b = decode_ok(f, strlen(f));
    ck_assert_ptr_null(bn_md_differs(&a, &b));
    free(f);
}
END_TEST

START_TEST(test_bn_utf8_symbol_is_copied_as_on_the_wire)
{
    char *f = subst(TRADE, "\"s\":\"BTCUSDT\"", "\"s\":\"\xe5\xb8\x81\xe5\xae\x89\xe4\xba\xba\xe7\x94\x9fUSDT\"");
    cq_bn_md_t o = decode_ok(f, strlen(f));
    ck_assert_str_eq(o.symbol, "\xe5\xb8\x81\xe5\xae\x89\xe4\xba\xba\xe7\x94\x9fUSDT");
    free(f);
}
END_TEST

START_TEST(test_bn_symbol_length_and_characters_are_checked)
{
    char *f = subst(TRADE, "\"BTCUSDT\"", "\"ABCDEFGHIJKLMNOPQRSTUVW\"");
    cq_bn_md_t o = decode_ok(f, strlen(f));
    ck_assert_str_eq(o.symbol, "ABCDEFGHIJKLMNOPQRSTUVW");
    free(f);
    expect_subst(TRADE, "\"BTCUSDT\"", "\"ABCDEFGHIJKLMNOPQRSTUVWX\"", CQ_EPARSE, "s: bad length");
    expect_subst(TRADE, "\"BTCUSDT\"", "\"\"", CQ_EPARSE, "s: bad length");
    expect_subst(TRADE, "\"BTCUSDT\"", "\"BTC\\nUSDT\"", CQ_EPARSE, "s: control character");
    expect_subst(TRADE, "\"BTCUSDT\"", "\"BTC\\u007fUSDT\"", CQ_EPARSE, "s: control character");
    expect_subst(KLINE, "\"1m\"", "\"12345678\"", CQ_EPARSE, "k.i: bad length");
}
END_TEST

/* --- hostile input ------------------------------------------------------------------ */

START_TEST(test_bn_every_prefix_of_a_real_frame_fails_cleanly)
{
    for (size_t i = 0; i < sizeof TEMPLATES / sizeof TEMPLATES[0]; i++) {
        const char *t = TEMPLATES[i];
        size_t n = strlen(t);
        for (size_t k = 0; k < n; k++)
            expect_both_n(t, k, CQ_EPARSE, "json:");
    }
}
END_TEST

START_TEST(test_bn_missing_field_is_named)
{
    static const struct {
        const char *tmpl, *cut, *why;
    } c[] = {
        {TRADE, "\"t\":3735683259,", "t: missing"},
        {TRADE, "\"p\":\"61837.63000000\",", "p: missing"},
        {TRADE, "\"q\":\"0.02000000\",", "q: missing"},
        {TRADE, "\"T\":1723161255342,", "T: missing"},
        {TRADE, ",\"m\":true", "m: missing"},
        {TRADE, "\"s\":\"BTCUSDT\",", "s: missing"},
        {DEPTH, "\"u\":50093239207,", "u: missing"},
        {DEPTH, ",\"a\":[[\"61838.04000000\",\"0.32332000\"],[\"61844.30000000\",\"0.40163000\"],"
                "[\"61862.50000000\",\"0.05019000\"],[\"61862.51000000\",\"0.00000000\"]]",
         "a: missing"},
        {BOOKT, ",\"A\":\"1.54698000\"", "A: missing"},
        {AGG, "\"f\":38248910,", "f: missing"},
        {AGG, "\"a\":31718372,", "a: missing"},
        {KLINE, "\"o\":\"0.34064000\",", "k.o: missing"},
        {KLINE, "\"n\":82,", "k.n: missing"},
        {SNAP, ",\"asks\":[[\"4.00000200\",\"12.00000000\"],[\"4.00000300\",\"1.5\"]]", "asks: missing"},
        {TRADE, "\"stream\":\"btcusdt@trade\",", "stream: missing"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        expect_subst(c[i].tmpl, c[i].cut, "", CQ_EPARSE, c[i].why);
    expect_both("{\"stream\":\"x\"}", CQ_EPARSE, "data: missing");
}
END_TEST

START_TEST(test_bn_wrong_types_are_named)
{
    static const struct {
        const char *tmpl, *from, *to, *why;
    } c[] = {
        {TRADE, "\"E\":1723161255343", "\"E\":\"1723161255343\"", "E: wrong type"},
        {TRADE, "\"m\":true", "\"m\":\"true\"", "m: wrong type"},
        {TRADE, "\"m\":true", "\"m\":1", "m: wrong type"},
        {TRADE, "\"p\":\"61837.63000000\"", "\"p\":61837.63", "p: wrong type"},
        {TRADE, "\"s\":\"BTCUSDT\"", "\"s\":null", "s: wrong type"},
        {TRADE, "\"e\":\"trade\"", "\"e\":2", "e: wrong type"},
        {DEPTH, "\"b\":[", "\"b\":{\"x\":[", "json:"},
        {DEPTH, "\"b\":[[\"55653.87000000\",\"0.00000000\"]]", "\"b\":{}", "b: wrong type"},
        {DEPTH, "\"b\":[[\"55653.87000000\",\"0.00000000\"]]", "\"b\":\"55653.87\"", "b: wrong type"},
        {BOOKT, "\"b\":\"61837.63000000\"", "\"b\":[[\"1\",\"2\"]]", "b: wrong type"},
        {BOOKT, "\"u\":50093239212", "\"u\":\"50093239212\"", "u: wrong type"},
        {AGG, "\"a\":31718372", "\"a\":\"31718372\"", "a: wrong type"},
        {KLINE, "\"k\":{", "\"k\":[{", "json:"},
        {KLINE, "\"x\":true", "\"x\":null", "k.x: wrong type"},
        {SNAP, "\"bids\":[", "\"bids\":{\"a\":[", "json:"},
        {SNAP, "\"lastUpdateId\":1027024", "\"lastUpdateId\":true", "lastUpdateId: wrong type"},
        {TRADE, "\"stream\":\"btcusdt@trade\"", "\"stream\":[]", "stream: wrong type"},
        {TRADE, "\"data\":{", "\"data\":[{", "json:"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        expect_subst(c[i].tmpl, c[i].from, c[i].to, CQ_EPARSE, c[i].why);
    expect_both("{\"stream\":\"x\",\"data\":[1]}", CQ_EPARSE, "data: wrong type");
    expect_subst(KLINE, "\"k\":{\"t\":1628952360000,", "\"k\":[],\"k2\":{\"t\":1,", CQ_EPARSE,
                 "k: wrong type");
}
END_TEST

START_TEST(test_bn_numbers_too_large_for_their_field_are_erange)
{
    expect_subst(TRADE, "\"E\":1723161255343", "\"E\":9223372036855", CQ_ERANGE,
                 "E: integer out of range");
    expect_subst(TRADE, "\"T\":1723161255342", "\"T\":99999999999999999999999", CQ_ERANGE,
                 "T: integer out of range");
    expect_subst(TRADE, "\"t\":3735683259", "\"t\":99999999999999999999999", CQ_ERANGE,
                 "t: integer out of range");
    expect_subst(DEPTH, "\"U\":50093239203", "\"U\":1844674407370955161600", CQ_ERANGE,
                 "U: integer out of range");
    expect_subst(TRADE, "\"p\":\"61837.63000000\"", "\"p\":\"61837.63000000000000\"", CQ_ERANGE,
                 "p: decimal out of range");
    expect_subst(DEPTH, "\"0.32332000\"", "\"0.0000000000000000001\"", CQ_ERANGE,
                 "a: level quantity out of range");
}
END_TEST

START_TEST(test_bn_largest_event_time_still_converts_to_ns)
{
    char *f = subst(TRADE, "\"E\":1723161255343", "\"E\":9223372036854");
    cq_bn_md_t o = decode_ok(f, strlen(f));
    ck_assert_int_eq(o.event_ns, 9223372036854000000LL);
    free(f);
}
END_TEST

START_TEST(test_bn_ids_are_exact_to_64_bits_in_the_fast_decoder)
{
    /* The documented difference: cJSON's doubles cannot hold this. */
    char *f = subst(TRADE, "\"t\":3735683259", "\"t\":18446744073709551615");
    cq_bn_md_t o;
    const char *why;
    ck_assert_int_eq(cq_bn_decode(f, strlen(f), &o, NULL, &why), 0);
    ck_assert_uint_eq(o.trade_id, UINT64_MAX);
    ck_assert_int_eq(cq_bn_decode_cjson(f, strlen(f), &o, NULL, &why), CQ_ERANGE);
    ck_assert_str_eq(why, "t: integer above 2^53");
    free(f);
    f = subst(TRADE, "\"t\":3735683259", "\"t\":9007199254740991"); /* 2^53 - 1: exact in both */
    o = decode_ok(f, strlen(f));
    ck_assert_uint_eq(o.trade_id, 9007199254740991ULL);
    free(f);
}
END_TEST

START_TEST(test_bn_integers_with_fraction_or_exponent_are_refused)
{
    expect_subst(TRADE, "\"t\":3735683259", "\"t\":3735683259.5", CQ_EPARSE, "t: not a plain integer");
    /* integral values written as 1.0 or 1e3: only the fast decoder can tell */
    char *f = subst(TRADE, "\"t\":3735683259", "\"t\":1e3");
    cq_bn_md_t o;
    const char *why;
    ck_assert_int_eq(cq_bn_decode(f, strlen(f), &o, NULL, &why), CQ_EPARSE);
    ck_assert_str_eq(why, "t: not a plain integer");
    ck_assert_int_eq(cq_bn_decode_cjson(f, strlen(f), &o, NULL, &why), 0);
    ck_assert_uint_eq(o.trade_id, 1000);
    free(f);
}
END_TEST

START_TEST(test_bn_negative_numbers_are_erange)
{
    expect_subst(TRADE, "\"q\":\"0.02000000\"", "\"q\":\"-0.02000000\"", CQ_ERANGE,
                 "q: negative decimal");
    expect_subst(TRADE, "\"p\":\"61837.63000000\"", "\"p\":\"-1\"", CQ_ERANGE, "p: negative decimal");
    expect_subst(BOOKT, "\"B\":\"3.78826000\"", "\"B\":\"-3.78826000\"", CQ_ERANGE,
                 "B: negative decimal");
    expect_subst(TRADE, "\"E\":1723161255343", "\"E\":-1723161255343", CQ_ERANGE,
                 "E: negative integer");
    expect_subst(TRADE, "\"t\":3735683259", "\"t\":-0", CQ_ERANGE, "t: negative integer");
    expect_subst(DEPTH, "\"0.32332000\"", "\"-0.32332000\"", CQ_ERANGE, "a: negative level quantity");
    expect_subst(DEPTH, "\"55653.87000000\"", "\"-55653.87000000\"", CQ_ERANGE,
                 "b: negative level price");
    expect_subst(KLINE, "\"v\":\"209224.30000000\"", "\"v\":\"-1\"", CQ_ERANGE,
                 "k.v: negative decimal");
}
END_TEST

START_TEST(test_bn_negative_zero_decimal_is_zero)
{
    char *f = subst(DEPTH, "\"0.32332000\"", "\"-0.00000000\"");
    cq_bn_md_t o = decode_ok(f, strlen(f));
    ck_assert_int_eq(g_a1[0].qty.mant, 0);
    ck_assert_uint_eq(o.n_asks, 4);
    free(f);
}
END_TEST

START_TEST(test_bn_bad_decimal_strings_are_eparse)
{
    expect_subst(TRADE, "\"61837.63000000\"", "\"61837,63\"", CQ_EPARSE, "p: bad decimal");
    expect_subst(TRADE, "\"61837.63000000\"", "\"6e4\"", CQ_EPARSE, "p: bad decimal");
    expect_subst(TRADE, "\"61837.63000000\"", "\"\"", CQ_EPARSE, "p: bad decimal");
    expect_subst(TRADE, "\"61837.63000000\"", "\" 1\"", CQ_EPARSE, "p: bad decimal");
    expect_subst(DEPTH, "\"61844.30000000\"", "\"61844.3000000x\"", CQ_EPARSE,
                 "a: bad level price");
    expect_subst(DEPTH, "\"0.40163000\"", "\"+0.4\"", CQ_EPARSE, "a: bad level quantity");
}
END_TEST

START_TEST(test_bn_level_that_is_not_a_pair_of_strings_is_eparse)
{
    static const char *bad[] = {
        "[\"1\",\"2\",\"3\"]", "[\"1\"]", "[]", "[1,2]", "[\"1\",2]", "{}", "\"1\"", "null",
        "[[\"1\",\"2\"]]", "[\"x\",\"2\",[]]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char to[64];
        snprintf(to, sizeof to, "\"b\":[%s]", bad[i]);
        expect_subst(DEPTH, "\"b\":[[\"55653.87000000\",\"0.00000000\"]]", to, CQ_EPARSE,
                     "b: level is not [price, quantity]");
    }
}
END_TEST

START_TEST(test_bn_more_levels_than_capacity_is_efull)
{
    bn_diff_t d = mkdiff(3);
    char msg[256];
    ck_assert_int_eq(bn_diff(&d, DEPTH, strlen(DEPTH), msg, sizeof msg), 0);
    ck_assert_int_eq(d.rc1, CQ_EFULL);
    ck_assert_str_eq(d.why1, "a: more levels than capacity");
    d = mkdiff(4);
    ck_assert_int_eq(bn_diff(&d, DEPTH, strlen(DEPTH), msg, sizeof msg), 0);
    ck_assert_int_eq(d.rc1, 0);
    ck_assert_uint_eq(d.out1.n_asks, 4);
}
END_TEST

START_TEST(test_bn_null_levels_mean_capacity_zero)
{
    cq_bn_md_t o;
    const char *why;
    ck_assert_int_eq(cq_bn_decode(DEPTH, strlen(DEPTH), &o, NULL, &why), CQ_EFULL);
    ck_assert_str_eq(why, "b: more levels than capacity");
    ck_assert_int_eq(cq_bn_decode_cjson(DEPTH, strlen(DEPTH), &o, NULL, &why), CQ_EFULL);
    static const char empty[] = "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"X\",\"U\":1,\"u\":1,"
                                "\"b\":[],\"a\":[]}";
    ck_assert_int_eq(cq_bn_decode(empty, strlen(empty), &o, NULL, &why), 0);
    ck_assert_int_eq(cq_bn_decode_cjson(empty, strlen(empty), &o, NULL, &why), 0);
}
END_TEST

START_TEST(test_bn_snapshot_of_5000_levels_a_side_fits_the_documented_capacity)
{
    size_t cap = 32 + 2 * 5000 * 32;
    char *f = malloc(cap);
    size_t n = (size_t)sprintf(f, "{\"lastUpdateId\":1,\"bids\":[");
    for (int i = 0; i < 5000; i++)
        n += (size_t)sprintf(f + n, "%s[\"%d.00000001\",\"0.5\"]", i ? "," : "", 90000 - i);
    n += (size_t)sprintf(f + n, "],\"asks\":[");
    for (int i = 0; i < 5000; i++)
        n += (size_t)sprintf(f + n, "%s[\"%d.00000001\",\"0.5\"]", i ? "," : "", 90001 + i);
    n += (size_t)sprintf(f + n, "]}");
    cq_bn_md_t o = decode_ok(f, n);
    ck_assert_uint_eq(o.n_bids, 5000);
    ck_assert_uint_eq(o.n_asks, 5000);
    ck_assert_int_eq(g_a1[4999].price.mant, 9500000000001LL);
    free(f);
}
END_TEST

START_TEST(test_bn_megabyte_frame_is_etoolong_and_one_byte_less_decodes)
{
    size_t n = CQ_BN_MAX_FRAME;
    char *f = malloc(n + 1);
    const char *head = "{\"u\":1,\"s\":\"X\",\"b\":\"1\",\"B\":\"1\",\"a\":\"1\",\"A\":\"1\",\"pad\":\"";
    size_t h = strlen(head);
    memcpy(f, head, h);
    memset(f + h, 'x', n - h - 2);
    memcpy(f + n - 2, "\"}", 2);
    cq_bn_md_t o = decode_ok(f, n);
    ck_assert_int_eq(o.kind, CQ_BN_BOOK_TICKER);
    memmove(f + h + 1, f + h, n - h);
    expect_both_n(f, n + 1, CQ_ETOOLONG, "frame too long");
    free(f);
}
END_TEST

START_TEST(test_bn_invalid_utf8_anywhere_in_a_string_is_eparse)
{
    static const char *bad[] = {
        "\"BTC\xff\"",          /* never valid */
        "\"BTC\xc0\xaf\"",      /* overlong '/' */
        "\"\xed\xa0\x80USDT\"", /* UTF-16 surrogate encoded */
        "\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
        "\"BTC\xe5\xb8\"",      /* truncated sequence */
        "\"\x80\"",             /* lone continuation byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char to[64];
        snprintf(to, sizeof to, "\"s\":%s", bad[i]);
        expect_subst(TRADE, "\"s\":\"BTCUSDT\"", to, CQ_EPARSE, "json:");
        snprintf(to, sizeof to, "\"M\":%s", bad[i]); /* in a skipped field too */
        expect_subst(TRADE, "\"M\":true", to, CQ_EPARSE, "json:");
    }
}
END_TEST

START_TEST(test_bn_bad_escapes_are_eparse)
{
    static const char *bad[] = {
        "\"\\q\"", "\"\\u12G4\"", "\"\\u12\"", "\"\\udc00\"", "\"\\ud800x\"", "\"\\ud800\\u0041\"",
        "\"\\u0000\"", "\"abc\\u0000\"", "\"\\",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char to[64];
        snprintf(to, sizeof to, "\"M\":%s", bad[i]);
        expect_subst(TRADE, "\"M\":true", to, CQ_EPARSE, "json:");
        snprintf(to, sizeof to, "\"s\":%s", bad[i]);
        expect_subst(TRADE, "\"s\":\"BTCUSDT\"", to, CQ_EPARSE, "json:");
    }
}
END_TEST

START_TEST(test_bn_json_that_cjson_alone_would_accept_is_eparse)
{
    static const struct {
        const char *from, *to;
    } c[] = {
        {"\"M\":true", "\"M\":01"},   {"\"M\":true", "\"M\":1."},     {"\"M\":true", "\"M\":-"},
        {"\"M\":true", "\"M\":.5"},   {"\"M\":true", "\"M\":+1"},     {"\"M\":true", "\"M\":tru"},
        {"\"M\":true", "\"M\":nul"},  {"\"M\":true", "\"M\":[1,]"},   {"\"M\":true", "\"M\":1e"},
        {"\"M\":true", "\"M\":\"\x01\""}, {"\"M\":true", "\"M\":\x01 true"}, {"\"M\":true", "\"M\":NaN"},
        {"\"M\":true", "\"M\":true,"}, {"\"M\":true", "\"M\" true"}, {"\"M\":true", "\"M\":1 2"},
        {"\"M\":true", "'M':true"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        expect_subst(TRADE, c[i].from, c[i].to, CQ_EPARSE, "json:");
}
END_TEST

START_TEST(test_bn_embedded_nul_bytes_are_eparse)
{
    size_t n = strlen(TRADE);
    char *f = exact_copy(TRADE, n);
    const char *spots[] = {"BTCUSDT", "btcusdt@trade", "\"M\"", ":true}}"};
    for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
        memcpy(f, TRADE, n);
        char *at = strstr(f, spots[i]);
        at[1] = '\0';
        expect_both_n(f, n, CQ_EPARSE, "json:");
    }
    free(f);
}
END_TEST

START_TEST(test_bn_unknown_event_or_payload_is_enoent)
{
    expect_subst(TRADE, "\"e\":\"trade\"", "\"e\":\"outboundAccountPosition\"", CQ_ENOENT,
                 "e: unknown event type");
    expect_subst(TRADE, "\"e\":\"trade\"", "\"e\":\"bookTicker\"", CQ_ENOENT, "e: unknown event type");
    expect_subst(TRADE, "\"e\":\"trade\"", "\"e\":\"TRADE\"", CQ_ENOENT, "e: unknown event type");
    expect_subst(TRADE, "\"e\":\"trade\"", "\"e\":\"\"", CQ_ENOENT, "e: unknown event type");
    expect_both("{\"result\":null,\"id\":1}", CQ_ENOENT, NULL);
    expect_both("{}", CQ_ENOENT, NULL);
    expect_both("{\"stream\":\"x\",\"data\":{}}", CQ_ENOENT, NULL);
}
END_TEST

static char *nested(const char *tmpl, int levels)
{
    size_t n = strlen(tmpl);
    char *f = malloc(n + 2 * (size_t)levels + 16);
    const char *at = strstr(tmpl, "\"M\":true");
    size_t a = (size_t)(at - tmpl) + 4; /* after "M": */
    memcpy(f, tmpl, a);
    memset(f + a, '[', (size_t)levels);
    memset(f + a + levels, ']', (size_t)levels);
    strcpy(f + a + 2 * (size_t)levels, at + 8);
    return f;
}

START_TEST(test_bn_nesting_deeper_than_the_limit_is_eparse)
{
    /* envelope 1, data 2: the arrays of "M" start at depth 3 */
    char *f = nested(TRADE, CQ_BN_MAX_DEPTH - 2);
    decode_ok(f, strlen(f));
    free(f);
    f = nested(TRADE, CQ_BN_MAX_DEPTH - 1);
    expect_both(f, CQ_EPARSE, "json: nested too deep");
    free(f);
    f = nested(TRADE, 200000); /* no stack to spare for this in either */
    expect_both(f, CQ_EPARSE, "json: nested too deep");
    free(f);
}
END_TEST

START_TEST(test_bn_duplicate_keys_are_refused_when_they_matter)
{
    expect_subst(TRADE, "\"M\":true", "\"M\":true,\"p\":\"1.0\"", CQ_EPARSE, "p: duplicate key");
    expect_subst(TRADE, "\"M\":true", "\"M\":true,\"e\":\"trade\"", CQ_EPARSE, "e: duplicate key");
    expect_subst(TRADE, "{\"stream\"", "{\"data\":{},\"stream\"", CQ_EPARSE, "data: duplicate key");
    expect_subst(KLINE, "\"x\":true", "\"x\":true,\"o\":\"1\"", CQ_EPARSE, "k.o: duplicate key");
    /* duplicates of keys the kind does not use are ignored */
    char *f = subst(BOOKT, "\"u\":", "\"t\":1,\"t\":2,\"zz\":1,\"zz\":2,\"u\":");
    decode_ok(f, strlen(f));
    free(f);
}
END_TEST

START_TEST(test_bn_envelope_problems_come_first)
{
    expect_both("{\"stream\":5,\"data\":{\"e\":\"nope\"}}", CQ_EPARSE, "stream: wrong type");
    expect_both("{\"data\":{\"e\":\"trade\"}}", CQ_EPARSE, "stream: missing");
    expect_both("{\"stream\":\"a\",\"stream\":\"b\",\"data\":{}}", CQ_EPARSE, "stream: duplicate key");
}
END_TEST

START_TEST(test_bn_first_problem_in_checking_order_is_reported)
{
    /* q is checked after p, whatever the key order on the wire */
    char *f = subst(TRADE, "\"p\":\"61837.63000000\",\"q\":\"0.02000000\"",
                    "\"q\":\"-1\",\"p\":\"x\"");
    expect_both(f, CQ_EPARSE, "p: bad decimal");
    free(f);
    /* every syntax error beats every field problem */
    f = subst(TRADE, "\"M\":true}}", "\"M\":true}");
    char *g = subst(f, "\"E\":1723161255343", "\"E\":\"x\"");
    expect_both(g, CQ_EPARSE, "json:");
    free(g);
    free(f);
}
END_TEST

START_TEST(test_bn_trailing_data_is_eparse_and_whitespace_is_not)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s x", TRADE);
    expect_both(buf, CQ_EPARSE, "json:");
    snprintf(buf, sizeof buf, "%s%s", TRADE, TRADE);
    expect_both(buf, CQ_EPARSE, "json: trailing data after the object");
    snprintf(buf, sizeof buf, "%s}", TRADE);
    expect_both(buf, CQ_EPARSE, "json:");
    snprintf(buf, sizeof buf, "%s \r\n\t", TRADE);
    expect_both(buf, 0, NULL);
}
END_TEST

START_TEST(test_bn_top_level_must_be_an_object)
{
    expect_both("[1,2]", CQ_EPARSE, "json: top level is not an object");
    expect_both("\"trade\"", CQ_EPARSE, "json: top level is not an object");
    expect_both("42", CQ_EPARSE, "json: top level is not an object");
}
END_TEST

START_TEST(test_bn_empty_frame_is_eparse)
{
    expect_both_n("", 0, CQ_EPARSE, "json: empty frame");
    expect_both(" \n ", CQ_EPARSE, "json: empty frame");
}
END_TEST

START_TEST(test_bn_null_arguments_are_einval)
{
    cq_bn_md_t o;
    const char *why = "x";
    ck_assert_int_eq(cq_bn_decode(NULL, 5, &o, NULL, &why), CQ_EINVAL);
    ck_assert_str_eq(why, "NULL argument");
    ck_assert_int_eq(cq_bn_decode(TRADE, strlen(TRADE), NULL, NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bn_decode_cjson(NULL, 5, &o, NULL, &why), CQ_EINVAL);
    ck_assert_int_eq(cq_bn_decode_cjson(TRADE, strlen(TRADE), NULL, NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bn_decode(TRADE, strlen(TRADE), &o, NULL, NULL), 0); /* why optional */
}
END_TEST

START_TEST(test_bn_error_leaves_output_zeroed_and_kind_none)
{
    static const cq_bn_md_t zero;
    cq_bn_md_t o;
    const char *why = NULL;
    char *f = subst(TRADE, "\"m\":true", "\"m\":7");
    memset(&o, 0xAB, sizeof o);
    ck_assert_int_eq(cq_bn_decode(f, strlen(f), &o, NULL, &why), CQ_EPARSE);
    ck_assert_int_eq(o.kind, CQ_BN_NONE);
    ck_assert_int_eq(memcmp(&o, &zero, sizeof o), 0);
    memset(&o, 0xAB, sizeof o);
    ck_assert_int_eq(cq_bn_decode_cjson(f, strlen(f), &o, NULL, &why), CQ_EPARSE);
    ck_assert_int_eq(memcmp(&o, &zero, sizeof o), 0);
    free(f);
}
END_TEST

START_TEST(test_bn_success_clears_the_why)
{
    const char *why = "stale";
    cq_bn_md_t o;
    ck_assert_int_eq(cq_bn_decode(TRADE, strlen(TRADE), &o, NULL, &why), 0);
    ck_assert_ptr_null(why);
    why = "stale";
    ck_assert_int_eq(cq_bn_decode_cjson(TRADE, strlen(TRADE), &o, NULL, &why), 0);
    ck_assert_ptr_null(why);
}
END_TEST

START_TEST(test_bn_bytes_after_len_are_never_read)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s,garbage\"[{", TRADE);
    cq_bn_md_t o = decode_ok(buf, strlen(TRADE));
    ck_assert_int_eq(o.kind, CQ_BN_TRADE);
}
END_TEST

START_TEST(test_bn_kind_names)
{
    ck_assert_str_eq(cq_bn_kind_name(CQ_BN_DEPTH), "depthUpdate");
    ck_assert_str_eq(cq_bn_kind_name(CQ_BN_BOOK_TICKER), "bookTicker");
    ck_assert_str_eq(cq_bn_kind_name(CQ_BN_SNAPSHOT), "snapshot");
    ck_assert_str_eq(cq_bn_kind_name(CQ_BN_NONE), "none");
    ck_assert_str_eq(cq_bn_kind_name(-3), "none");
    ck_assert_str_eq(cq_bn_kind_name(99), "none");
}
END_TEST

/* --- differential on mutated and random input -------------------------------------- */

static void mutate(cq_rng_t *rng, char *f, size_t *n, size_t cap)
{
    static const char alphabet[] = "{}[]\",:\\-0123456789.eE tfnu\x00\x80\xff";
    int edits = 1 + (int)cq_rng_below(rng, 4);
    for (int e = 0; e < edits; e++) {
        size_t at = *n ? cq_rng_below(rng, (unsigned)*n) : 0;
        char c = alphabet[cq_rng_below(rng, sizeof alphabet - 1)];
        switch (cq_rng_below(rng, 4)) {
        case 0: /* replace */
            if (*n)
                f[at] = c;
            break;
        case 1: /* insert */
            if (*n + 1 < cap) {
                memmove(f + at + 1, f + at, *n - at);
                f[at] = c;
                (*n)++;
            }
            break;
        case 2: /* delete */
            if (*n) {
                memmove(f + at, f + at + 1, *n - at - 1);
                (*n)--;
            }
            break;
        default: { /* duplicate a slice */
            size_t len = cq_rng_below(rng, 24);
            if (at + len <= *n && *n + len < cap) {
                memmove(f + at + len, f + at, *n - at);
                (*n) += len;
            }
        }
        }
    }
}

START_TEST(test_bn_mutated_frames_get_the_same_answer_from_both)
{
    cq_rng_t rng = {0xC0DEC0DE1234ULL};
    bn_diff_t d = mkdiff(3);
    char f[2048], msg[512];
    long accepted = 0;
    for (int i = 0; i < 24000; i++) {
        const char *t = TEMPLATES[cq_rng_below(&rng, sizeof TEMPLATES / sizeof TEMPLATES[0])];
        size_t n = strlen(t);
        memcpy(f, t, n);
        mutate(&rng, f, &n, sizeof f);
        char *b = exact_copy(f, n);
        int differs = bn_diff(&d, b, n, msg, sizeof msg);
        ck_assert_msg(!differs, "%s for %.*s", msg, (int)n, b);
        accepted += d.rc1 == 0;
        free(b);
    }
    ck_assert_int_gt(accepted, 1000); /* the mutations did not only break syntax */
}
END_TEST

START_TEST(test_bn_random_decimal_strings_get_the_same_answer_from_both)
{
    cq_rng_t rng = {0xDEC1ULL};
    bn_diff_t d = mkdiff(8);
    static const char digits[] = "0000123456789..-x";
    static const char *const where[3][2] = {
        {TRADE, "\"61837.63000000\""},     /* trade price */
        {DEPTH, "\"55653.87000000\""},     /* level price */
        {DEPTH, "\"0.00000000\""},         /* level quantity */
    };
    char val[64], to[80], msg[512];
    for (int i = 0; i < 20000; i++) {
        size_t n = cq_rng_below(&rng, 44);
        for (size_t k = 0; k < n; k++)
            val[k] = digits[cq_rng_below(&rng, sizeof digits - 1)];
        val[n] = '\0';
        snprintf(to, sizeof to, "\"%s\"", val);
        unsigned w = cq_rng_below(&rng, 3);
        char *f = subst(where[w][0], where[w][1], to);
        int differs = bn_diff(&d, f, strlen(f), msg, sizeof msg);
        ck_assert_msg(!differs, "%s for %s", msg, f);
        cq_decimal_t ref;
        int rr = cq_decimal_parse(val, n, &ref);
        ck_assert_int_eq(d.rc1 == 0, rr == 0 && ref.mant >= 0);
        if (d.rc1 == 0) /* the in-place fast path agrees with the grammar */
            ck_assert(bn_dec_eq(ref, w == 0 ? d.out1.price : w == 1 ? g_b1[0].price : g_b1[0].qty));
        free(f);
    }
}
END_TEST

/* The raw payload of an envelope template (malloc'd). */
static char *raw_payload(const char *t)
{
    const char *data = strstr(t, "\"data\":") + 7;
    size_t n = strlen(data) - 1;
    char *r = malloc(n + 1);
    memcpy(r, data, n);
    r[n] = '\0';
    return r;
}

static void diff_or_fail(bn_diff_t *d, const char *f, size_t n)
{
    char msg[512];
    char *b = exact_copy(f, n);
    int differs = bn_diff(d, b, n, msg, sizeof msg);
    free(b);
    if (differs)
        ck_abort_msg("%s for %.*s", msg, (int)n, f);
}

/* The fast decoder matches Binance's own layouts byte for byte and hands
 * anything else to its general pass: every one-byte change to such a
 * frame, wherever it falls, must still get the reference's answer. */
START_TEST(test_bn_every_one_byte_change_to_a_binance_layout_gets_the_same_answer_from_both)
{
    static const char bytes[] = "{}[]\",:\\-019.eE tfnuM\x00\x7f\x80";
    const char *const envs[] = {TRADE, DEPTH, BOOKT, AGG};
    bn_diff_t d = mkdiff(4);
    char f[1024];
    long accepted = 0, tried = 0;
    for (int e = 0; e < 8; e++) {
        char *t = e < 4 ? strdup(envs[e]) : raw_payload(envs[e - 4]);
        size_t n = strlen(t);
        ck_assert_uint_lt(n + 2, sizeof f);
        for (size_t at = 0; at < n; at++) {
            for (size_t c = 0; c < sizeof bytes - 1; c++) { /* replace */
                memcpy(f, t, n);
                f[at] = bytes[c];
                diff_or_fail(&d, f, n);
                accepted += d.rc1 == 0;
                tried++;
            }
            for (size_t c = 0; c < sizeof bytes - 1; c++) { /* insert */
                memcpy(f, t, at);
                f[at] = bytes[c];
                memcpy(f + at + 1, t + at, n - at);
                diff_or_fail(&d, f, n + 1);
                accepted += d.rc1 == 0;
                tried++;
            }
            memcpy(f, t, at); /* delete */
            memcpy(f + at, t + at + 1, n - at - 1);
            diff_or_fail(&d, f, n - 1);
            memcpy(f, t, at + 1); /* double */
            memcpy(f + at + 1, t + at, n - at);
            diff_or_fail(&d, f, n + 1);
            tried += 2;
        }
        free(t);
    }
    ck_assert_int_gt(accepted, tried / 50); /* digit changes keep many frames valid */
}
END_TEST

/* Level decimals of every integer width (the fast decoder expects each
 * column's width to be the previous level's), and of other shapes, in one
 * frame: exact, and the same as the reference. */
START_TEST(test_bn_level_decimals_of_every_width_decode_exactly)
{
    cq_rng_t rng = {0x5EED1EE7ULL};
    bn_diff_t d = mkdiff(64);
    static char f[8192];
    char vals[64][2][32];
    for (int round = 0; round < 400; round++) {
        int nb = 1 + (int)cq_rng_below(&rng, 30), na = (int)cq_rng_below(&rng, 30);
        int pos = snprintf(f, sizeof f,
                           "%s{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"X\",\"U\":1,\"u\":2,\"b\":[",
                           round % 2 ? "{\"stream\":\"x@depth\",\"data\":" : "");
        for (int i = 0; i < nb + na; i++) {
            if (i == nb)
                pos += snprintf(f + pos, sizeof f - pos, "],\"a\":[");
            else if (i > 0)
                f[pos++] = ',';
            for (int k = 0; k < 2; k++) {
                /* mostly the same width as the level before, sometimes
                 * 1..9 integer digits and 7..9 fraction digits */
                int wi = (int)cq_rng_below(&rng, 4) ? 1 + round % 7 : 1 + (int)cq_rng_below(&rng, 9);
                int wf = (int)cq_rng_below(&rng, 8) ? 8 : 7 + (int)cq_rng_below(&rng, 3);
                char *v = vals[i][k];
                int n = 0;
                for (int j = 0; j < wi; j++)
                    v[n++] = (char)('0' + cq_rng_below(&rng, 10));
                v[n++] = '.';
                for (int j = 0; j < wf; j++)
                    v[n++] = (char)('0' + cq_rng_below(&rng, 10));
                v[n] = '\0';
            }
            pos += snprintf(f + pos, sizeof f - pos, "[\"%s\",\"%s\"]", vals[i][0], vals[i][1]);
        }
        if (na == 0)
            pos += snprintf(f + pos, sizeof f - pos, "],\"a\":[");
        pos += snprintf(f + pos, sizeof f - pos, "]}%s", round % 2 ? "}" : "");
        diff_or_fail(&d, f, (size_t)pos);
        ck_assert_msg(d.rc1 == 0, "%s for %.*s", d.why1, pos, f);
        ck_assert_uint_eq(d.out1.n_bids, (uint32_t)nb);
        ck_assert_uint_eq(d.out1.n_asks, (uint32_t)na);
        for (int i = 0; i < nb + na; i++) {
            const cq_bn_level_t *lv = i < nb ? &g_b1[i] : &g_a1[i - nb];
            cq_decimal_t p, q;
            ck_assert_int_eq(cq_decimal_parse(vals[i][0], strlen(vals[i][0]), &p), 0);
            ck_assert_int_eq(cq_decimal_parse(vals[i][1], strlen(vals[i][1]), &q), 0);
            if (!bn_dec_eq(lv->price, p) || !bn_dec_eq(lv->qty, q))
                ck_abort_msg("level %d: %s %s decoded as %lld/%d %lld/%d", i, vals[i][0],
                             vals[i][1], (long long)lv->price.mant, lv->price.exp,
                             (long long)lv->qty.mant, lv->qty.exp);
        }
    }
}
END_TEST

/* Levels read eight at a time hand over to the general loop at the first
 * level of another shape, whitespace included (found by the fuzzer: the
 * hand-over once left the whitespace after a ',' unread). */
START_TEST(test_bn_whitespace_between_levels_decodes_like_none)
{
    static const char F[] =
        "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"X\",\"U\":1,\"u\":2,\"b\":[[\"1.00000000\","
        "\"2.00000000\"],[\"3.00000000\",\"4.00000000\"],[\"5.00000000\",\"6.00000000\"],"
        "[\"7.00000000\",\"8.00000000\"]],\"a\":[[\"9.00000000\",\"1.00000000\"],[\"2.00000000\","
        "\"3.00000000\"],[\"4.00000000\",\"5.00000000\"]],\"x\":\"padding past forty bytes\"}";
    static const char *const ws[] = {" ", "\n", "\t\r ", "   "};
    cq_bn_md_t want = decode_ok(F, strlen(F));
    cq_bn_level_t wb[4], wa[3];
    memcpy(wb, g_b1, sizeof wb);
    memcpy(wa, g_a1, sizeof wa);
    char f[1024];
    for (size_t i = 0; F[i]; i++) {
        if (F[i] != ',' || F[i + 1] != '[')
            continue;
        for (size_t w = 0; w < sizeof ws / sizeof ws[0]; w++) {
            snprintf(f, sizeof f, "%.*s%s%s", (int)i + 1, F, ws[w], F + i + 1);
            cq_bn_md_t got = decode_ok(f, strlen(f));
            ck_assert_msg(bn_md_differs(&want, &got) == NULL, "%s", f);
            ck_assert(bn_levels_equal(g_b1, wb, 4) && bn_levels_equal(g_a1, wa, 3));
        }
    }
}
END_TEST

START_TEST(test_bn_extreme_level_decimals_are_exact)
{
    static const char F[] = "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"X\",\"U\":1,\"u\":2,\"b\":"
                            "[[\"9999999.99999999\",\"0000000.00000001\"],[\"0.00000000\","
                            "\"1.00000000\"]],\"a\":[]}";
    cq_bn_md_t o = decode_ok(F, strlen(F));
    ck_assert_uint_eq(o.n_bids, 2);
    ck_assert_int_eq(g_b1[0].price.mant, 999999999999999LL);
    ck_assert_int_eq(g_b1[0].price.exp, 8);
    ck_assert_int_eq(g_b1[0].qty.mant, 1);
    ck_assert_int_eq(g_b1[1].price.mant, 0);
    ck_assert_int_eq(g_b1[1].qty.mant, 100000000LL);
    ck_assert_int_eq(g_b1[1].qty.exp, 8);
}
END_TEST

/* The fast decoder reads the end of a frame from a zero-padded copy of its
 * last bytes (all of a frame shorter than that): frames of every length
 * around that copy, and all their prefixes, from exactly-sized buffers. */
START_TEST(test_bn_short_frames_decode_alike_at_every_length)
{
    bn_diff_t d = mkdiff(4);
    char f[256], sym[48];
    for (int k = 0; k < 3; k++) {
        for (int sl = 1; sl <= 40; sl++) { /* 24.. are too long: refused */
            for (int i = 0; i < sl; i++)
                sym[i] = (char)('A' + i % 26);
            sym[sl] = '\0';
            int n;
            if (k == 0)
                n = snprintf(f, sizeof f, "{\"u\":7,\"s\":\"%s\",\"b\":\"1.00000000\",\"B\":\"2.1\","
                                          "\"a\":\"3.00000000\",\"A\":\"4\"}", sym);
            else if (k == 1)
                n = snprintf(f, sizeof f, "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"%s\",\"U\":1,"
                                          "\"u\":2,\"b\":[],\"a\":[[\"1.00000000\",\"2.00000000\"]]}",
                             sym);
            else
                n = snprintf(f, sizeof f, "{\"e\":\"trade\",\"E\":1,\"s\":\"%s\",\"t\":0,\"p\":\"1\","
                                          "\"q\":\"0.10000000\",\"T\":2,\"m\":false}", sym);
            diff_or_fail(&d, f, (size_t)n);
            ck_assert_int_eq(d.rc1, sl <= 23 ? 0 : CQ_EPARSE);
            for (int len = 0; len < n; len++) {
                diff_or_fail(&d, f, (size_t)len);
                ck_assert_int_eq(d.rc1, CQ_EPARSE);
            }
        }
    }
}
END_TEST

START_TEST(test_bn_fuzz_corpus_replays_with_the_same_answer_from_both)
{
    const char *dir = CQ_SOURCE_DIR "/fuzz/corpus/binance_md";
    DIR *dh = opendir(dir);
    ck_assert_msg(dh != NULL, "no corpus at %s", dir);
    bn_diff_t d = mkdiff(64);
    struct dirent *de;
    int files = 0;
    static char buf[1 << 17];
    char msg[512];
    while ((de = readdir(dh)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *fp = fopen(path, "rb");
        ck_assert_msg(fp != NULL, "%s", path);
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        char *b = exact_copy(buf, n);
        int differs = bn_diff(&d, b, n, msg, sizeof msg);
        free(b);
        ck_assert_msg(!differs, "%s: %s", de->d_name, msg);
        files++;
    }
    closedir(dh);
    ck_assert_int_ge(files, 30);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("binance_md");
    TCase *rec = tcase_create("recordings");
    tcase_set_timeout(rec, 120);
    tcase_add_test(rec, test_bn_btcusdt_gz_every_frame_decodes_alike_in_both);
    tcase_add_test(rec, test_bn_ethusdt_gz_every_frame_decodes_alike_in_both);
    tcase_add_test(rec, test_bn_btcusdt_head_txt_every_frame_decodes_alike_in_both);
    tcase_add_test(rec, test_bn_cryptofeed_ws_every_frame_decodes_and_keeps_symbols_apart);
    tcase_add_test(rec, test_bn_cryptofeed_rest_depth_snapshots_decode_with_their_ids);
    tcase_add_test(rec, test_bn_cryptofeed_interleaved_every_frame_decodes_alike_in_both);
    tcase_add_test(rec, test_bn_exchange_info_is_refused_alike_as_too_long);
    tcase_add_test(rec, test_bn_nautilus_pretty_trade_has_exact_values);
    suite_add_tcase(s, rec);

    TCase *val = tcase_create("values");
    tcase_add_test(val, test_bn_depth_update_fields_and_levels);
    tcase_add_test(val, test_bn_book_ticker_fields_and_no_event_time);
    tcase_add_test(val, test_bn_agg_trade_fields);
    tcase_add_test(val, test_bn_trade_fields);
    tcase_add_test(val, test_bn_closed_kline_fields);
    tcase_add_test(val, test_bn_snapshot_levels_and_no_symbol);
    tcase_add_test(val, test_bn_raw_payload_decodes_like_its_envelope);
    tcase_add_test(val, test_bn_key_order_does_not_matter);
    tcase_add_test(val, test_bn_whitespace_between_tokens_is_accepted);
    tcase_add_test(val, test_bn_escaped_keys_and_values_decode_like_plain_ones);
    tcase_add_test(val, test_bn_unknown_fields_of_any_shape_are_skipped);
    tcase_add_test(val, test_bn_keys_are_case_sensitive);
    tcase_add_test(val, test_bn_keys_of_other_kinds_are_ignored);
    tcase_add_test(val, test_bn_competing_level_arrays_decode_by_kind);
    tcase_add_test(val, test_bn_envelope_found_after_payload_keys);
    tcase_add_test(val, test_bn_utf8_symbol_is_copied_as_on_the_wire);
    tcase_add_test(val, test_bn_symbol_length_and_characters_are_checked);
    tcase_add_test(val, test_bn_largest_event_time_still_converts_to_ns);
    tcase_add_test(val, test_bn_ids_are_exact_to_64_bits_in_the_fast_decoder);
    tcase_add_test(val, test_bn_negative_zero_decimal_is_zero);
    tcase_add_test(val, test_bn_kind_names);
    tcase_add_test(val, test_bn_level_decimals_of_every_width_decode_exactly);
    tcase_add_test(val, test_bn_extreme_level_decimals_are_exact);
    tcase_add_test(val, test_bn_whitespace_between_levels_decodes_like_none);
    suite_add_tcase(s, val);

    TCase *bad = tcase_create("hostile");
    tcase_set_timeout(bad, 120);
    tcase_add_test(bad, test_bn_every_prefix_of_a_real_frame_fails_cleanly);
    tcase_add_test(bad, test_bn_missing_field_is_named);
    tcase_add_test(bad, test_bn_wrong_types_are_named);
    tcase_add_test(bad, test_bn_numbers_too_large_for_their_field_are_erange);
    tcase_add_test(bad, test_bn_integers_with_fraction_or_exponent_are_refused);
    tcase_add_test(bad, test_bn_negative_numbers_are_erange);
    tcase_add_test(bad, test_bn_bad_decimal_strings_are_eparse);
    tcase_add_test(bad, test_bn_level_that_is_not_a_pair_of_strings_is_eparse);
    tcase_add_test(bad, test_bn_more_levels_than_capacity_is_efull);
    tcase_add_test(bad, test_bn_null_levels_mean_capacity_zero);
    tcase_add_test(bad, test_bn_snapshot_of_5000_levels_a_side_fits_the_documented_capacity);
    tcase_add_test(bad, test_bn_megabyte_frame_is_etoolong_and_one_byte_less_decodes);
    tcase_add_test(bad, test_bn_invalid_utf8_anywhere_in_a_string_is_eparse);
    tcase_add_test(bad, test_bn_bad_escapes_are_eparse);
    tcase_add_test(bad, test_bn_json_that_cjson_alone_would_accept_is_eparse);
    tcase_add_test(bad, test_bn_embedded_nul_bytes_are_eparse);
    tcase_add_test(bad, test_bn_unknown_event_or_payload_is_enoent);
    tcase_add_test(bad, test_bn_nesting_deeper_than_the_limit_is_eparse);
    tcase_add_test(bad, test_bn_duplicate_keys_are_refused_when_they_matter);
    tcase_add_test(bad, test_bn_envelope_problems_come_first);
    tcase_add_test(bad, test_bn_first_problem_in_checking_order_is_reported);
    tcase_add_test(bad, test_bn_trailing_data_is_eparse_and_whitespace_is_not);
    tcase_add_test(bad, test_bn_top_level_must_be_an_object);
    tcase_add_test(bad, test_bn_empty_frame_is_eparse);
    tcase_add_test(bad, test_bn_every_one_byte_change_to_a_binance_layout_gets_the_same_answer_from_both);
    tcase_add_test(bad, test_bn_short_frames_decode_alike_at_every_length);
    tcase_add_test(bad, test_bn_null_arguments_are_einval);
    tcase_add_test(bad, test_bn_error_leaves_output_zeroed_and_kind_none);
    tcase_add_test(bad, test_bn_success_clears_the_why);
    tcase_add_test(bad, test_bn_bytes_after_len_are_never_read);
    suite_add_tcase(s, bad);

    TCase *diff = tcase_create("differential");
    tcase_set_timeout(diff, 120);
    tcase_add_test(diff, test_bn_mutated_frames_get_the_same_answer_from_both);
    tcase_add_test(diff, test_bn_random_decimal_strings_get_the_same_answer_from_both);
    tcase_add_test(diff, test_bn_fuzz_corpus_replays_with_the_same_answer_from_both);
    suite_add_tcase(s, diff);
    return s;
}

int main(void)
{
    return cq_test_run(suite());
}
