/*
 * test_binance_feed.c - Binance recordings through the codec, the sync
 * procedure, the book and the DataEngine, checked against the venue's own
 * bookTicker; gaps and resyncs; bad frames; recording lines; exchangeInfo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/binance_feed.h"
#include "cquant/error.h"
#include "cquant/instrument.h"
#include "support/cq_lines.h"
#include "support/cq_test.h"

#define MS "binance_spot/market_stream/"

/* Fail without a system call per passing check (Check's asserts make one). */
#define REQUIRE(c, ...) do { if (!(c)) ck_abort_msg(__VA_ARGS__); } while (0)

typedef struct top {
    uint64_t id;
    int64_t bid_tick, bid_qty, ask_tick, ask_qty;
} top_t;

typedef struct rig {
    cq_bus_t *bus;
    cq_cache_t *cache;
    cq_data_engine_t *de;
    cq_bn_feed_t *feed;
    int requests;
    int resync_events, resynced_events;
    /* book top after each applied diff, by its final update id */
    top_t *after;
    size_t nafter, capafter;
    uint64_t books_by_inst[32];
} rig_t;

static void on_request(void *user, uint32_t instrument)
{
    rig_t *r = user;
    (void)instrument;
    r->requests++;
}

static void on_book(void *user, cq_topic_t topic, const void *msg)
{
    rig_t *r = user;
    const cq_book_event_t *ev = msg;
    (void)topic;
    REQUIRE(ev->hdr.type == CQ_EV_BOOK, "not a book event");
    if (ev->hdr.instrument < 32)
        r->books_by_inst[ev->hdr.instrument]++;
    const cq_book_t *b = cq_data_book(r->de, ev->hdr.instrument);
    REQUIRE(cq_data_book_valid(r->de, ev->hdr.instrument), "an invalid book was published");
    cq_book_entry_t bid, ask;
    REQUIRE(cq_book_best(b, CQ_BOOK_BID, &bid) == 0 && cq_book_best(b, CQ_BOOK_ASK, &ask) == 0,
            "published book has an empty side");
    REQUIRE(bid.tick < ask.tick, "published book is crossed or locked");
    if (r->nafter == r->capafter) {
        r->capafter = r->capafter ? r->capafter * 2 : 4096;
        r->after = realloc(r->after, r->capafter * sizeof *r->after);
    }
    r->after[r->nafter++] = (top_t){ev->sequence, bid.tick, bid.qty, ask.tick, ask.qty};
}

static void on_venue(void *user, cq_topic_t topic, const void *msg)
{
    rig_t *r = user;
    const cq_venue_event_t *v = msg;
    (void)topic;
    if (v->kind == CQ_VENUE_RESYNC)
        r->resync_events++;
    if (v->kind == CQ_VENUE_RESYNCED)
        r->resynced_events++;
}

static void rig_init(rig_t *r)
{
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(cq_bus_create(&r->bus), 0);
    ck_assert_int_eq(cq_cache_create(&r->cache, NULL), 0);
    cq_data_engine_config_t cfg = {.request_snapshot = on_request, .request_user = r};
    ck_assert_int_eq(cq_data_engine_create(&r->de, r->bus, r->cache, &cfg), 0);
    ck_assert_int_eq(cq_bn_feed_create(&r->feed, r->de, r->cache, NULL, NULL), 0);
    ck_assert_int_eq(cq_bus_subscribe(r->bus, "data.book.*", 0, on_book, r, NULL), 0);
    ck_assert_int_eq(cq_bus_subscribe(r->bus, "events.venue.*", 0, on_venue, r, NULL), 0);
}

static void rig_free(rig_t *r)
{
    cq_bn_feed_destroy(r->feed);
    cq_data_engine_destroy(r->de);
    cq_cache_destroy(r->cache);
    cq_bus_destroy(r->bus);
    free(r->after);
}

static uint32_t add_spec(rig_t *r, const char *symbol, const char *tick, const char *step)
{
    cq_instrument_t spec;
    uint32_t h;
    ck_assert_int_eq(cq_instrument_init(&spec, symbol, "BINANCE", "B", "Q", tick, step), 0);
    ck_assert_int_eq(cq_cache_instrument_add(r->cache, &spec, &h), 0);
    return h;
}

/* bookTickers seen, by update id */
typedef struct ticker {
    uint64_t u;
    char symbol[24];
    cq_decimal_t b, bq, a, aq;
} ticker_t;

typedef struct tickers {
    ticker_t *v;
    size_t n, cap;
} tickers_t;

static void remember_ticker(tickers_t *t, const cq_bn_line_t *ln)
{
    cq_bn_md_t m;
    if (ln->kind != CQ_BN_LINE_FRAME || cq_bn_decode(ln->json, ln->json_len, &m, NULL, NULL) != 0 ||
        m.kind != CQ_BN_BOOK_TICKER)
        return;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4096;
        t->v = realloc(t->v, t->cap * sizeof *t->v);
    }
    ticker_t *k = &t->v[t->n++];
    k->u = m.last_update_id;
    memcpy(k->symbol, m.symbol, sizeof k->symbol);
    k->b = m.bid_price;
    k->bq = m.bid_qty;
    k->a = m.ask_price;
    k->aq = m.ask_qty;
}

static int cmp_top(const void *a, const void *b)
{
    uint64_t x = ((const top_t *)a)->id, y = ((const top_t *)b)->id;
    return (x > y) - (x < y);
}

/* Every bookTicker whose u equals the final u of an applied diff must show
 * exactly the book's best bid and ask after that diff. Returns the number of
 * such checks. */
static long cross_check(rig_t *r, const tickers_t *t, uint32_t inst)
{
    const cq_instrument_t *spec = cq_cache_instrument(r->cache, inst);
    qsort(r->after, r->nafter, sizeof *r->after, cmp_top);
    long checks = 0;
    for (size_t i = 0; i < t->n; i++) {
        top_t key = {.id = t->v[i].u};
        const top_t *hit = bsearch(&key, r->after, r->nafter, sizeof *r->after, cmp_top);
        if (!hit)
            continue;
        int64_t bt, bq, at, aq;
        REQUIRE(cq_instrument_ticks(spec, t->v[i].b, &bt) == 0 && cq_instrument_steps(spec, t->v[i].bq, &bq) == 0 &&
                cq_instrument_ticks(spec, t->v[i].a, &at) == 0 && cq_instrument_steps(spec, t->v[i].aq, &aq) == 0,
                "bookTicker off grid");
        REQUIRE(hit->bid_tick == bt && hit->bid_qty == bq && hit->ask_tick == at && hit->ask_qty == aq,
                "book after diff u=%llu disagrees with bookTicker: bid %lld x %lld vs %lld x %lld, "
                "ask %lld x %lld vs %lld x %lld",
                (unsigned long long)key.id, (long long)hit->bid_tick, (long long)hit->bid_qty, (long long)bt,
                (long long)bq, (long long)hit->ask_tick, (long long)hit->ask_qty, (long long)at, (long long)aq);
        checks++;
    }
    return checks;
}

/* Replay a whole hftbacktest recording; skip the depth diff number skip_diff
 * (1-based, 0 = none) after the book first synced. */
static int replay_hft(rig_t *r, const char *rel, const char *symbol, tickers_t *t, long skip_diff,
                      rig_t *reference)
{
    cq_lines_t *in = cq_lines_open(rel);
    if (!in)
        return -1;
    const char *line;
    size_t len;
    long lineno, diffs_after_sync = 0;
    uint32_t inst = 0;
    cq_bn_feed_instrument(r->feed, symbol, &inst);
    while ((line = cq_lines_next(in, &len, &lineno))) {
        cq_bn_line_t ln;
        REQUIRE(cq_bn_line_parse(line, len, &ln) == 0, "%s:%ld: line not parsed", rel, lineno);
        if (t)
            remember_ticker(t, &ln);
        int is_depth = ln.kind == CQ_BN_LINE_FRAME && strstr(ln.json, "@depth") != NULL;
        if (reference)
            REQUIRE(cq_bn_feed_line(reference->feed, &ln, symbol) == 0, "%s:%ld: reference refused", rel, lineno);
        if (is_depth && (diffs_after_sync || cq_data_book_valid(r->de, inst)) &&
            ++diffs_after_sync == skip_diff)
            continue; /* the diff that goes missing */
        int rc = cq_bn_feed_line(r->feed, &ln, symbol);
        if (!skip_diff)
            REQUIRE(rc == 0, "%s:%ld: %s", rel, lineno, cq_errname(rc));
        if (reference && r->requests && !cq_data_book_valid(r->de, inst) &&
            cq_data_book_last_id(reference->de, inst) > 0 && diffs_after_sync > skip_diff + 5) {
            /* Answer the snapshot request with the reference book as it is
             * now: what a REST /depth call would return at this moment. */
            static cq_book_entry_t bids[20000], asks[20000];
            size_t nb, na;
            const cq_book_t *rb = cq_data_book(reference->de, inst);
            cq_book_depth(rb, CQ_BOOK_BID, bids, 20000, &nb);
            cq_book_depth(rb, CQ_BOOK_ASK, asks, 20000, &na);
            cq_book_batch_t snap = {inst, 0, cq_data_book_last_id(reference->de, inst), 0, 0, bids, nb, asks, na};
            REQUIRE(cq_data_book_snapshot(r->de, &snap) == 0, "resync snapshot refused");
            r->requests = 0;
        }
    }
    cq_lines_close(in);
    return 0;
}

static void check_no_errors(rig_t *r, const char *what)
{
    cq_bn_feed_stats_t fs;
    cq_data_stats_t ds;
    cq_bn_feed_stats(r->feed, &fs);
    cq_data_stats(r->de, &ds);
    REQUIRE(fs.decode_errors == 0 && fs.unknown_symbol == 0 && fs.off_grid == 0 && fs.engine_errors == 0,
            "%s: feed errors: decode %llu unknown %llu off-grid %llu engine %llu (last: %s)", what,
            (unsigned long long)fs.decode_errors, (unsigned long long)fs.unknown_symbol,
            (unsigned long long)fs.off_grid, (unsigned long long)fs.engine_errors, fs.last_why);
    REQUIRE(ds.gaps == 0 && ds.crossed == 0 && ds.bad_data == 0, "%s: %llu gaps, %llu crossed, %llu bad",
            what, (unsigned long long)ds.gaps, (unsigned long long)ds.crossed, (unsigned long long)ds.bad_data);
}

static void hft_cross_check(const char *file, const char *symbol, long expect_checks, uint64_t depth,
                            uint64_t tickers, uint64_t trades)
{
    rig_t r;
    tickers_t t = {0};
    rig_init(&r);
    uint32_t inst = add_spec(&r, symbol, "0.01", "0.00000001");
    if (replay_hft(&r, file, symbol, &t, 0, NULL) < 0) {
        cq_test_skip(file, "recorded data not found (set CQ_TEST_DATA)");
        rig_free(&r);
        return;
    }
    check_no_errors(&r, file);
    cq_bn_feed_stats_t fs;
    cq_bn_feed_stats(r.feed, &fs);
    ck_assert_uint_eq(fs.depth, depth);
    ck_assert_uint_eq(fs.book_tickers, tickers);
    ck_assert_uint_eq(fs.trades, trades);
    ck_assert_uint_eq(fs.snapshots, 1);
    ck_assert_int_eq(cq_data_book_valid(r.de, inst), 1);
    ck_assert_int_eq(r.resync_events, 0);
    long checks = cross_check(&r, &t, inst);
    ck_assert_int_eq(checks, expect_checks);
    free(t.v);
    rig_free(&r);
}

START_TEST(test_btcusdt_recording_book_matches_every_bookticker)
{
    hft_cross_check(MS "hftbacktest_spot_btcusdt_20240808.gz", "BTCUSDT", 564, 3451, 28040, 9757);
}
END_TEST

START_TEST(test_ethusdt_recording_book_matches_every_bookticker)
{
    hft_cross_check(MS "hftbacktest_spot_ethusdt_20240808.gz", "ETHUSDT", 577, 3434, 24077, 6106);
}
END_TEST

START_TEST(test_missing_diff_detected_and_book_resyncs)
{
    const char *file = MS "hftbacktest_spot_btcusdt_20240808_head.txt";
    rig_t r, ref;
    rig_init(&r);
    rig_init(&ref);
    uint32_t inst = add_spec(&r, "BTCUSDT", "0.01", "0.00000001");
    ck_assert_uint_eq(add_spec(&ref, "BTCUSDT", "0.01", "0.00000001"), inst);
    if (replay_hft(&r, file, "BTCUSDT", NULL, 100, &ref) < 0) {
        cq_test_skip(__func__, "recorded data not found (set CQ_TEST_DATA)");
        rig_free(&r);
        rig_free(&ref);
        return;
    }
    cq_data_stats_t ds;
    cq_data_stats(r.de, &ds);
    ck_assert_uint_eq(ds.gaps, 1);          /* the missing diff was noticed */
    ck_assert_int_eq(r.resync_events, 1);   /* announced on events.venue.BINANCE */
    ck_assert_uint_eq(ds.resyncs, 1);       /* and the book came back */
    ck_assert_int_eq(r.resynced_events, 1);
    ck_assert_int_eq(cq_data_book_valid(r.de, inst), 1);
    /* After the resync the book is the venue's again, to the last level. */
    ck_assert_uint_eq(cq_data_book_last_id(r.de, inst), cq_data_book_last_id(ref.de, inst));
    static cq_book_entry_t a[20000], b[20000];
    size_t na, nb;
    for (int side = CQ_BOOK_BID; side <= CQ_BOOK_ASK; side++) {
        cq_book_depth(cq_data_book(r.de, inst), side, a, 20000, &na);
        cq_book_depth(cq_data_book(ref.de, inst), side, b, 20000, &nb);
        ck_assert_uint_eq(na, nb);
        ck_assert_int_eq(memcmp(a, b, na * sizeof *a), 0);
    }
    check_no_errors(&ref, "reference");
    rig_free(&r);
    rig_free(&ref);
}
END_TEST

/* The cryptofeed recording of 2021-08-14: four symbols on one connection,
 * with the REST snapshots taken during it (in another file) merged in by
 * receive time, and specs from the exchangeInfo recorded with them. */
START_TEST(test_cryptofeed_four_symbols_sync_and_stay_apart)
{
    rig_t r;
    rig_init(&r);
    cq_lines_t *info = cq_lines_open(MS "cryptofeed_binance_20210814_exchangeinfo.txt");
    if (!info) {
        cq_test_skip(__func__, "recorded data not found (set CQ_TEST_DATA)");
        rig_free(&r);
        return;
    }
    size_t len, count = 0;
    const char *line = cq_lines_next(info, &len, NULL);
    cq_bn_line_t ln;
    ck_assert_int_eq(cq_bn_line_parse(line, len, &ln), 0);
    ck_assert_int_eq(ln.kind, CQ_BN_LINE_REST);
    const char *const syms[] = {"XMRBTC", "FTMUSDT", "SXPBTC", "BADGERBTC", NULL};
    ck_assert_int_eq(cq_bn_exchange_info_load(r.cache, NULL, ln.json, ln.json_len, syms, &count), 0);
    ck_assert_uint_eq(count, 4);
    cq_lines_close(info);
    uint32_t xmr;
    ck_assert_int_eq(cq_bn_feed_instrument(r.feed, "XMRBTC", &xmr), 0);
    const cq_instrument_t *spec = cq_cache_instrument(r.cache, xmr);
    ck_assert_int_eq(spec->price_precision, 6); /* tickSize 0.00000100 */
    ck_assert_int_eq(spec->size_precision, 3);  /* stepSize 0.00100000 */
    ck_assert(spec->min_notional == 0.0001);

    /* load the four snapshots, then feed everything in receive order */
    cq_bn_line_t snaps[4];
    char *snap_text[4];
    int nsnap = 0;
    cq_lines_t *rest = cq_lines_open(MS "cryptofeed_binance_20210814_rest_depth.txt");
    while ((line = cq_lines_next(rest, &len, NULL)) && nsnap < 4) {
        if (!len)
            continue;
        snap_text[nsnap] = strdup(line);
        ck_assert_int_eq(cq_bn_line_parse(snap_text[nsnap], len, &snaps[nsnap]), 0);
        ck_assert(snaps[nsnap].is_depth);
        nsnap++;
    }
    cq_lines_close(rest);
    ck_assert_int_eq(nsnap, 4);
    cq_lines_t *ws = cq_lines_open(MS "cryptofeed_binance_20210814_ws.txt");
    int next = 0, bars = 0;
    long lineno;
    while ((line = cq_lines_next(ws, &len, &lineno))) {
        ck_assert_int_eq(cq_bn_line_parse(line, len, &ln), 0);
        while (next < nsnap && ln.kind == CQ_BN_LINE_FRAME && snaps[next].recv_ns <= ln.recv_ns)
            ck_assert_int_eq(cq_bn_feed_line(r.feed, &snaps[next++], NULL), 0);
        int rc = cq_bn_feed_line(r.feed, &ln, NULL);
        REQUIRE(rc == 0, "ws line %ld: %s", lineno, cq_errname(rc));
        if (ln.kind == CQ_BN_LINE_FRAME && strstr(ln.json, "\"x\":true"))
            bars++;
    }
    cq_lines_close(ws);
    check_no_errors(&r, "cryptofeed 20210814");
    cq_bn_feed_stats_t fs;
    cq_bn_feed_stats(r.feed, &fs);
    ck_assert_uint_eq(fs.depth, 546);
    ck_assert_uint_eq(fs.book_tickers, 412);
    ck_assert_uint_eq(fs.agg_trades, 28);
    ck_assert_uint_eq(fs.klines, 17);
    ck_assert_int_eq(bars, 2);
    cq_data_stats_t ds;
    cq_data_stats(r.de, &ds);
    ck_assert_uint_eq(ds.bars, 2); /* the two closed klines, published */
    /* the three pairs the data README lists as matched are synced, apart */
    const char *matched[] = {"XMRBTC", "FTMUSDT", "BADGERBTC"};
    uint32_t seen[3];
    for (int i = 0; i < 3; i++) {
        uint32_t h;
        ck_assert_int_eq(cq_bn_feed_instrument(r.feed, matched[i], &h), 0);
        ck_assert_msg(cq_data_book_valid(r.de, h), "%s not synced", matched[i]);
        ck_assert_uint_gt(r.books_by_inst[h], 0);
        seen[i] = h;
    }
    ck_assert(seen[0] != seen[1] && seen[1] != seen[2] && seen[0] != seen[2]);
    /* each book only holds its own symbol's prices: XMRBTC trades near 0.0058 BTC, FTMUSDT near 0.34 USDT */
    double mid;
    ck_assert_int_eq(cq_book_mid(cq_data_book(r.de, seen[0]), &mid), 0);
    ck_assert(mid > 0.004 && mid < 0.008);
    ck_assert_int_eq(cq_book_mid(cq_data_book(r.de, seen[1]), &mid), 0);
    ck_assert(mid > 0.2 && mid < 0.5);
    for (int i = 0; i < nsnap; i++)
        free(snap_text[i]);
    rig_free(&r);
}
END_TEST

/* Ten symbols, REST snapshots interleaved in the stream, no exchangeInfo:
 * every frame is applied to its own symbol's book, and none gaps. */
START_TEST(test_cryptofeed_interleaved_ten_symbols_no_gap)
{
    rig_t r;
    rig_init(&r);
    const char *syms[] = {"ZILUSDT", "MANAUSDT", "DENTUSDT", "AXSBNB", "ETHBRL", "BTCSTUSDT",
                          "QTUMETH", "BTCAUD", "RENBTCETH", "NEOUSDC"};
    for (int i = 0; i < 10; i++)
        add_spec(&r, syms[i], "0.00000001", "0.00000001");
    cq_lines_t *in = cq_lines_open(MS "cryptofeed_binance_20210405_interleaved_head.txt");
    if (!in) {
        cq_test_skip(__func__, "recorded data not found (set CQ_TEST_DATA)");
        rig_free(&r);
        return;
    }
    const char *line;
    size_t len;
    long lineno;
    int snapshots = 0;
    while ((line = cq_lines_next(in, &len, &lineno))) {
        cq_bn_line_t ln;
        REQUIRE(cq_bn_line_parse(line, len, &ln) == 0, "line %ld not parsed", lineno);
        snapshots += ln.kind == CQ_BN_LINE_REST && ln.is_depth;
        int rc = cq_bn_feed_line(r.feed, &ln, NULL);
        REQUIRE(rc == 0, "line %ld: %s", lineno, cq_errname(rc));
    }
    cq_lines_close(in);
    ck_assert_int_eq(snapshots, 10);
    check_no_errors(&r, "interleaved");
    for (int i = 0; i < 10; i++) {
        uint32_t h;
        ck_assert_int_eq(cq_bn_feed_instrument(r.feed, syms[i], &h), 0);
        ck_assert_msg(cq_data_book_valid(r.de, h), "%s not synced", syms[i]);
    }
    rig_free(&r);
}
END_TEST

START_TEST(test_bad_frames_counted_and_book_untouched)
{
    rig_t r;
    rig_init(&r);
    uint32_t inst = add_spec(&r, "BTCUSDT", "0.01", "0.00001");
    const char *snap = "{\"lastUpdateId\":100,\"bids\":[[\"100.00\",\"1.00000\"]],\"asks\":[[\"100.01\",\"2.00000\"]]}";
    ck_assert_int_eq(cq_bn_feed_snapshot(r.feed, "BTCUSDT", snap, strlen(snap), 1), 0);
    const char *good = "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":101,\"u\":101,"
                       "\"b\":[[\"99.99\",\"3.00000\"]],\"a\":[]}";
    const char *bad[] = {
        "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":101,\"u\":101,\"b\":[[\"99.99\",\"3.0",
        "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":101,\"u\":101,\"b\":[[\"99.999\",\"3\"]],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":101,\"u\":101,\"b\":[[\"99.99\",\"0.000001\"]],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":101,\"u\":101,\"b\":[[\"99.99\",\"-3\"]],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"DOGEUSDT\",\"U\":101,\"u\":101,\"b\":[[\"1\",\"3\"]],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"E\":\"1\",\"s\":\"BTCUSDT\",\"U\":101,\"u\":101,\"b\":[],\"a\":[]}",
        "{\"e\":\"mystery\",\"E\":1,\"s\":\"BTCUSDT\"}",
        "{\"e\":\"trade\",\"E\":1,\"s\":\"BTCUSDT\",\"t\":99999999999999999999999,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true}",
        "{\"u\":5,\"s\":\"BTC\xff\",\"b\":\"1\",\"B\":\"1\",\"a\":\"1\",\"A\":\"1\"}",
        "",
        "[]",
        "null",
    };
    cq_book_entry_t before[4], after[4];
    size_t nb, na;
    cq_book_depth(cq_data_book(r.de, inst), CQ_BOOK_BID, before, 4, &nb);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(cq_bn_feed_frame(r.feed, bad[i], strlen(bad[i]), 2) < 0, "bad frame %zu accepted", i);
    /* a 1 MB frame */
    size_t big = (1 << 20) + 16;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    memcpy(huge, "{\"e\":\"trade\"", 12);
    huge[big - 1] = '}';
    ck_assert_int_lt(cq_bn_feed_frame(r.feed, huge, big, 2), 0);
    free(huge);
    cq_book_depth(cq_data_book(r.de, inst), CQ_BOOK_BID, after, 4, &na);
    ck_assert_uint_eq(na, nb);
    ck_assert_int_eq(memcmp(before, after, nb * sizeof *before), 0);
    ck_assert_int_eq(cq_data_book_valid(r.de, inst), 1);
    cq_bn_feed_stats_t fs;
    cq_bn_feed_stats(r.feed, &fs);
    ck_assert_uint_eq(fs.decode_errors + fs.unknown_symbol + fs.off_grid, sizeof bad / sizeof *bad + 1);
    ck_assert_uint_eq(fs.off_grid, 2);
    ck_assert_uint_eq(fs.unknown_symbol, 1);
    /* the stream goes on: the next good diff applies (101 follows 100) */
    ck_assert_int_eq(cq_bn_feed_frame(r.feed, good, strlen(good), 3), 0);
    ck_assert_uint_eq(cq_data_book_last_id(r.de, inst), 101);
    rig_free(&r);
}
END_TEST

START_TEST(test_recording_lines_parse_all_formats)
{
    cq_bn_line_t ln;
    const char *hft = "1723161254087891268 {\"stream\":\"x\"}";
    ck_assert_int_eq(cq_bn_line_parse(hft, strlen(hft), &ln), 0);
    ck_assert_int_eq(ln.kind, CQ_BN_LINE_FRAME);
    ck_assert_int_eq(ln.recv_ns, INT64_C(1723161254087891268));
    ck_assert_str_eq(ln.json, "{\"stream\":\"x\"}");
    const char *cf = "1617647603.4249449: {\"a\":1}";
    ck_assert_int_eq(cq_bn_line_parse(cf, strlen(cf), &ln), 0);
    ck_assert_int_eq(ln.kind, CQ_BN_LINE_FRAME);
    ck_assert_int_eq(ln.recv_ns, INT64_C(1617647603424944900));
    const char *rest = "https://www.binance.com/api/v1/depth?symbol=zilusdt&limit=1000 -> 1617647603.8164911: {}";
    ck_assert_int_eq(cq_bn_line_parse(rest, strlen(rest), &ln), 0);
    ck_assert_int_eq(ln.kind, CQ_BN_LINE_REST);
    ck_assert_int_eq(ln.is_depth, 1);
    ck_assert_str_eq(ln.symbol, "ZILUSDT");
    ck_assert_int_eq(ln.recv_ns, INT64_C(1617647603816491100));
    const char *other[] = {"configuration: {\"x\":1}", "wss://stream.binance.com:9443/stream?streams=a <-> 1617647603", ""};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(cq_bn_line_parse(other[i], strlen(other[i]), &ln), 0);
        ck_assert_int_eq(ln.kind, CQ_BN_LINE_OTHER);
    }
    const char *bad[] = {"17231612x4 {}", "nospace", "12.5.5: {}", "https://x/depth?symbol=A no arrow",
                         "https://x/depth?symbol=A -> 12:{}", "99999999999999999999999 {}", " {}"};
    for (int i = 0; i < 7; i++)
        ck_assert_msg(cq_bn_line_parse(bad[i], strlen(bad[i]), &ln) < 0, "accepted '%s'", bad[i]);
    ck_assert_int_eq(cq_bn_line_parse(NULL, 0, &ln), CQ_EINVAL);
}
END_TEST

START_TEST(test_exchange_info_bad_input)
{
    cq_cache_t *cache;
    size_t n = 99;
    ck_assert_int_eq(cq_cache_create(&cache, NULL), 0);
    const char *cases[] = {"", "{", "{\"symbols\":5}", "[]",
                           "{\"symbols\":[{\"symbol\":\"AB\",\"baseAsset\":\"A\",\"quoteAsset\":\"B\",\"filters\":[]}]}",
                           "{\"symbols\":[{\"symbol\":\"AB\",\"baseAsset\":\"A\",\"quoteAsset\":\"B\",\"filters\":"
                           "[{\"filterType\":\"PRICE_FILTER\",\"tickSize\":\"0\"},{\"filterType\":\"LOT_SIZE\",\"stepSize\":\"1\"}]}]}",
                           "{\"symbols\":[{\"symbol\":\"A.B\",\"baseAsset\":\"A\",\"quoteAsset\":\"B\",\"filters\":"
                           "[{\"filterType\":\"PRICE_FILTER\",\"tickSize\":\"1\"},{\"filterType\":\"LOT_SIZE\",\"stepSize\":\"1\"}]}]}"};
    for (int i = 0; i < 7; i++)
        ck_assert_msg(cq_bn_exchange_info_load(cache, NULL, cases[i], strlen(cases[i]), NULL, &n) < 0, "case %d", i);
    const char *ok = "{\"symbols\":[{\"symbol\":\"AB\",\"status\":\"BREAK\",\"baseAsset\":\"A\",\"quoteAsset\":\"B\",\"filters\":"
                     "[{\"filterType\":\"PRICE_FILTER\",\"tickSize\":\"0.50\"},{\"filterType\":\"LOT_SIZE\",\"stepSize\":\"1.000\","
                     "\"minQty\":\"2\",\"maxQty\":\"90\"},{\"filterType\":\"NOTIONAL\",\"minNotional\":\"5.5\"}]}]}";
    ck_assert_int_eq(cq_bn_exchange_info_load(cache, "TEST", ok, strlen(ok), NULL, &n), 0);
    ck_assert_uint_eq(n, 1);
    uint32_t h;
    ck_assert_int_eq(cq_cache_instrument_find(cache, "AB.TEST", &h), 0);
    const cq_instrument_t *s = cq_cache_instrument(cache, h);
    ck_assert_int_eq(s->tick_units, 5);
    ck_assert_int_eq(s->price_precision, 1);
    ck_assert_int_eq(s->step_units, 1);
    ck_assert_int_eq(s->size_precision, 0);
    ck_assert(s->min_qty == 2 && s->max_qty == 90 && s->min_notional == 5.5);
    ck_assert_int_eq(s->tradable, 0); /* status BREAK */
    ck_assert_int_eq(cq_bn_exchange_info_load(NULL, NULL, ok, strlen(ok), NULL, &n), CQ_EINVAL);
    cq_cache_destroy(cache);
}
END_TEST

static Suite *feed_suite(void)
{
    Suite *s = suite_create("binance_feed");
    TCase *tc = tcase_create("binance_feed");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_btcusdt_recording_book_matches_every_bookticker);
    tcase_add_test(tc, test_ethusdt_recording_book_matches_every_bookticker);
    tcase_add_test(tc, test_missing_diff_detected_and_book_resyncs);
    tcase_add_test(tc, test_cryptofeed_four_symbols_sync_and_stay_apart);
    tcase_add_test(tc, test_cryptofeed_interleaved_ten_symbols_no_gap);
    tcase_add_test(tc, test_bad_frames_counted_and_book_untouched);
    tcase_add_test(tc, test_recording_lines_parse_all_formats);
    tcase_add_test(tc, test_exchange_info_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return cq_test_run(feed_suite()); }
