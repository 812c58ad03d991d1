/*
 * test_replay.c - .cqd files through the replay reader into the DataEngine:
 * batches rebuilt from delta runs, snapshots, trades, quotes, bars, gaps,
 * and bad files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>

#include "cquant/error.h"
#include "cquant/importer.h"
#include "cquant/replay.h"
#include "support/cq_test.h"

typedef struct {
    cq_bus_t *bus;
    cq_cache_t *cache;
    cq_data_engine_t *de;
    int books, trades, quotes, bars, resyncs;
    uint64_t last_seq;
} rig_t;

static void on_event(void *user, cq_topic_t topic, const void *msg)
{
    rig_t *r = user;
    const cq_event_hdr_t *h = msg;
    (void)topic;
    if (h->type == CQ_EV_BOOK) {
        r->books++;
        r->last_seq = ((const cq_book_event_t *)msg)->sequence;
    }
    r->trades += h->type == CQ_EV_TRADE;
    r->quotes += h->type == CQ_EV_QUOTE;
    r->bars += h->type == CQ_EV_BAR;
    r->resyncs += h->type == CQ_EV_VENUE && ((const cq_venue_event_t *)msg)->kind == CQ_VENUE_RESYNC;
}

static void rig_init(rig_t *r)
{
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(cq_bus_create(&r->bus), 0);
    ck_assert_int_eq(cq_cache_create(&r->cache, NULL), 0);
    ck_assert_int_eq(cq_data_engine_create(&r->de, r->bus, r->cache, NULL), 0);
    ck_assert_int_eq(cq_bus_subscribe(r->bus, "*", 0, on_event, r, NULL), 0);
}

static void rig_free(rig_t *r)
{
    cq_data_engine_destroy(r->de);
    cq_cache_destroy(r->cache);
    cq_bus_destroy(r->bus);
}

static char path[256];

static void tmp_path(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/cq-test-replay-%d.cqd", tmp && *tmp ? tmp : "/tmp", (int)getpid());
}

static cq_cqd_record_t delta(int64_t ts, int side, int64_t price, int64_t qty, uint64_t first, uint64_t last,
                             int flags)
{
    cq_cqd_record_t r;
    memset(&r, 0, sizeof r);
    r.type = CQ_EV_BOOK_DELTA;
    r.side = (uint8_t)side;
    r.flags = (uint16_t)flags;
    r.ts_init = r.ts_event = ts;
    r.delta.price = price;
    r.delta.qty = qty;
    r.delta.first_update_id = first;
    r.delta.update_id = last;
    return r;
}

/* A snapshot (id 10), diffs 11-12 and 13-13 (empty: sequence only), a trade,
 * a quote, a bar, then (optionally) a diff that skips 14. */
static void write_file(int with_gap)
{
    cq_cqd_writer_t *w;
    char err[256];
    tmp_path();
    ck_assert_int_eq(cq_cqd_writer_open(&w, path, err, sizeof err), 0);
    cq_cqd_instrument_t in;
    memset(&in, 0, sizeof in);
    strcpy(in.id, "BTCUSDT.BINANCE");
    strcpy(in.symbol, "BTCUSDT");
    strcpy(in.venue, "BINANCE");
    in.price_precision = 2;
    in.size_precision = 5;
    in.tick_units = in.step_units = 1;
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, NULL), 0);
    cq_cqd_record_t recs[16];
    int n = 0;
    recs[n++] = delta(1, CQ_SIDE_BUY, 10000, 5, 0, 10, CQ_EVF_SNAPSHOT);
    recs[n++] = delta(1, CQ_SIDE_BUY, 9999, 7, 0, 10, CQ_EVF_SNAPSHOT);
    recs[n++] = delta(1, CQ_SIDE_SELL, 10001, 3, 0, 10, CQ_EVF_SNAPSHOT | CQ_EVF_LAST);
    recs[n++] = delta(2, CQ_SIDE_BUY, 9999, 0, 11, 12, 0);
    recs[n++] = delta(2, CQ_SIDE_SELL, 10002, 4, 11, 12, CQ_EVF_LAST);
    recs[n++] = delta(3, CQ_SIDE_NONE, 0, 0, 13, 13, CQ_EVF_LAST);
    cq_cqd_record_t t;
    memset(&t, 0, sizeof t);
    t.type = CQ_EV_TRADE;
    t.side = CQ_SIDE_SELL;
    t.ts_init = t.ts_event = 4;
    t.trade.price = 10000;
    t.trade.qty = 2;
    t.trade.trade_id = 77;
    recs[n++] = t;
    cq_cqd_record_t q;
    memset(&q, 0, sizeof q);
    q.type = CQ_EV_QUOTE;
    q.ts_init = q.ts_event = 5;
    q.quote.bid_price = 10000;
    q.quote.bid_qty = 5;
    q.quote.ask_price = 10001;
    q.quote.ask_qty = 3;
    recs[n++] = q;
    cq_cqd_record_t b;
    memset(&b, 0, sizeof b);
    b.type = CQ_EV_BAR;
    b.ts_event = 0;                  /* bar records: open time */
    b.ts_init = INT64_C(60000000000); /* close time */
    b.bar.open = b.bar.high = b.bar.low = b.bar.close = 10000;
    b.bar.volume = 9;
    if (with_gap)
        recs[n++] = delta(6, CQ_SIDE_BUY, 9998, 1, 15, 15, CQ_EVF_LAST);
    else
        recs[n++] = delta(6, CQ_SIDE_BUY, 9998, 1, 14, 14, CQ_EVF_LAST);
    recs[n++] = b;
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(cq_cqd_writer_append(w, &recs[i]), 0);
    ck_assert_int_eq(cq_cqd_writer_finish(w), 0);
    cq_cqd_writer_destroy(w);
}

START_TEST(test_replay_rebuilds_batches_and_publishes)
{
    rig_t r;
    rig_init(&r);
    write_file(0);
    cq_replay_t *rp;
    char err[256];
    ck_assert_int_eq(cq_replay_open(&rp, path, r.de, r.cache, err, sizeof err), 0);
    uint32_t h;
    ck_assert_int_eq(cq_cache_instrument_find(r.cache, "BTCUSDT.BINANCE", &h), 0);
    ck_assert_int_eq(cq_replay_peek_ts(rp), 1);
    uint64_t events;
    ck_assert_int_eq(cq_replay_run(rp, &events), 0);
    ck_assert_int_eq(events, 7); /* snapshot, 3 diffs, trade, quote, bar */
    ck_assert_int_eq(cq_replay_peek_ts(rp), INT64_MAX);
    cq_replay_stats_t st;
    cq_replay_stats(rp, &st);
    ck_assert_uint_eq(st.records, 10);
    ck_assert_uint_eq(st.snapshots, 1);
    ck_assert_uint_eq(st.batches, 3);
    ck_assert_uint_eq(st.rejected, 0);
    ck_assert_uint_eq(st.broken_batches, 0);
    ck_assert_int_eq(r.books, 4);
    ck_assert_uint_eq(r.last_seq, 14);
    ck_assert_int_eq(r.trades, 1);
    ck_assert_int_eq(r.quotes, 1);
    ck_assert_int_eq(r.bars, 1);
    const cq_book_t *book = cq_data_book(r.de, h);
    int64_t qty;
    ck_assert_int_eq(cq_book_qty_at(book, CQ_BOOK_BID, 9999, &qty), CQ_ENOENT); /* deleted by 11-12 */
    ck_assert_int_eq(cq_book_qty_at(book, CQ_BOOK_ASK, 10002, &qty), 0);
    ck_assert_int_eq(qty, 4);
    ck_assert_int_eq(cq_book_qty_at(book, CQ_BOOK_BID, 9998, &qty), 0);
    const cq_trade_t *last = cq_cache_trade(r.cache, h);
    ck_assert(last && last->price == 100.00 && last->qty == 0.00002 && last->aggressor == CQ_SIDE_SELL);
    cq_replay_close(rp);
    unlink(path);
    rig_free(&r);
}
END_TEST

START_TEST(test_replay_gap_in_file_is_detected)
{
    rig_t r;
    rig_init(&r);
    write_file(1);
    cq_replay_t *rp;
    ck_assert_int_eq(cq_replay_open(&rp, path, r.de, r.cache, NULL, 0), 0);
    ck_assert_int_eq(cq_replay_run(rp, NULL), 0);
    cq_replay_stats_t st;
    cq_replay_stats(rp, &st);
    ck_assert_uint_eq(st.rejected, 1);
    ck_assert_int_eq(r.resyncs, 1);
    cq_data_stats_t ds;
    cq_data_stats(r.de, &ds);
    ck_assert_uint_eq(ds.gaps, 1);
    cq_replay_close(rp);
    unlink(path);
    rig_free(&r);
}
END_TEST

/* Write recs (one or two instruments) to path. */
static void write_records(const cq_cqd_record_t *recs, int n, int two_instruments)
{
    cq_cqd_writer_t *w;
    char err[256];
    tmp_path();
    ck_assert_int_eq(cq_cqd_writer_open(&w, path, err, sizeof err), 0);
    for (int k = 0; k < (two_instruments ? 2 : 1); k++) {
        cq_cqd_instrument_t in;
        memset(&in, 0, sizeof in);
        strcpy(in.id, k ? "ETHUSDT.BINANCE" : "BTCUSDT.BINANCE");
        strcpy(in.symbol, k ? "ETHUSDT" : "BTCUSDT");
        strcpy(in.venue, "BINANCE");
        in.price_precision = 2;
        in.size_precision = 5;
        in.tick_units = in.step_units = 1;
        ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, NULL), 0);
    }
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(cq_cqd_writer_append(w, &recs[i]), 0);
    ck_assert_int_eq(cq_cqd_writer_finish(w), 0);
    cq_cqd_writer_destroy(w);
}

/* A run of deltas ends at its LAST record; a record that cannot belong to
 * the run (another type, another instrument, snapshot and diff mixed,
 * another update id) or the end of the file ends it early: what was
 * collected is handed over as one batch and counted as broken. */
START_TEST(test_replay_delta_run_cut_short_is_handed_over_and_counted)
{
    for (int cut = 0; cut < 5; cut++) {
        cq_cqd_record_t recs[8];
        int n = 0;
        recs[n++] = delta(1, CQ_SIDE_BUY, 10000, 5, 0, 10, CQ_EVF_SNAPSHOT);
        recs[n++] = delta(1, CQ_SIDE_SELL, 10001, 3, 0, 10, CQ_EVF_SNAPSHOT | CQ_EVF_LAST);
        recs[n++] = delta(2, CQ_SIDE_BUY, 9999, 2, 11, 12, 0); /* LAST never comes */
        switch (cut) {
        case 0: { /* a trade */
            cq_cqd_record_t t;
            memset(&t, 0, sizeof t);
            t.type = CQ_EV_TRADE;
            t.side = CQ_SIDE_SELL;
            t.ts_init = t.ts_event = 2;
            t.trade.price = 10000;
            t.trade.qty = 1;
            recs[n++] = t;
            break;
        }
        case 1: /* another instrument */
            recs[n] = delta(2, CQ_SIDE_BUY, 9999, 2, 11, 12, CQ_EVF_LAST);
            recs[n++].instrument = 1;
            break;
        case 2: /* a snapshot record */
            recs[n++] = delta(2, CQ_SIDE_BUY, 9999, 2, 0, 12, CQ_EVF_SNAPSHOT | CQ_EVF_LAST);
            break;
        case 3: /* another update id */
            recs[n++] = delta(2, CQ_SIDE_SELL, 10003, 2, 13, 13, CQ_EVF_LAST);
            break;
        default: /* the end of the file */
            break;
        }
        write_records(recs, n, cut == 1);
        rig_t r;
        rig_init(&r);
        cq_replay_t *rp;
        ck_assert_int_eq(cq_replay_open(&rp, path, r.de, r.cache, NULL, 0), 0);
        ck_assert_int_eq(cq_replay_run(rp, NULL), 0);
        cq_replay_stats_t st;
        cq_replay_stats(rp, &st);
        ck_assert_msg(st.broken_batches == 1, "cut %d: broken %llu", cut, (unsigned long long)st.broken_batches);
        ck_assert_uint_eq(st.records, (uint64_t)n);
        ck_assert_uint_eq(st.snapshots, cut == 2 ? 2 : 1);
        ck_assert_uint_ge(st.batches, 1);
        /* the cut batch (bid 99.99 x 2) reached the book */
        const cq_book_t *b = cq_data_book(r.de, 1);
        int64_t q = 0;
        ck_assert_ptr_nonnull(b);
        if (cut != 2) { /* a snapshot replaces the book */
            ck_assert_int_eq(cq_book_qty_at(b, CQ_BOOK_BID, 9999, &q), 0);
            ck_assert_int_eq(q, 2);
        }
        cq_replay_close(rp);
        rig_free(&r);
        unlink(path);
    }
}
END_TEST

START_TEST(test_replay_bad_files_give_errors)
{
    rig_t r;
    rig_init(&r);
    cq_replay_t *rp = NULL;
    char err[256] = "";
    ck_assert_int_lt(cq_replay_open(&rp, "/nonexistent/x.cqd", r.de, r.cache, err, sizeof err), 0);
    ck_assert_ptr_null(rp);
    ck_assert_int_gt(strlen(err), 0);
    tmp_path();
    FILE *f = fopen(path, "wb");
    fputs("not a cqd file at all", f);
    fclose(f);
    ck_assert_int_eq(cq_replay_open(&rp, path, r.de, r.cache, err, sizeof err), CQ_EPARSE);
    /* a good file with one record byte flipped: a checksum error on the way */
    write_file(0);
    f = fopen(path, "r+b");
    fseek(f, 256 + 8, SEEK_SET); /* first record's ts_event */
    fputc(0x55, f);
    fclose(f);
    ck_assert_int_eq(cq_replay_open(&rp, path, r.de, r.cache, err, sizeof err), 0);
    ck_assert_int_eq(cq_replay_run(rp, NULL), CQ_ECORRUPT);
    ck_assert_int_gt(strlen(cq_replay_error(rp)), 0);
    ck_assert_int_eq(r.books, 0); /* nothing from the bad block was used */
    cq_replay_close(rp);
    ck_assert_int_eq(cq_replay_open(NULL, path, r.de, r.cache, NULL, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_replay_next(NULL), CQ_EINVAL);
    unlink(path);
    rig_free(&r);
}
END_TEST

/* The whole offline path on real data: the hftbacktest BTCUSDT recording
 * converted to .cqd, replayed through the DataEngine; the book after each
 * diff matches every bookTicker with the same update id (564 of them), as it
 * does when the frames are fed live (test_binance_feed.c). */
typedef struct {
    uint64_t id;
    int64_t bid, bidq, ask, askq;
} top_t;

typedef struct {
    rig_t *r;
    top_t *books, *quotes;
    size_t nbooks, nquotes, cap_b, cap_q;
} xcheck_t;

static void push_top(top_t **v, size_t *n, size_t *cap, top_t t)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        *v = realloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = t;
}

static void on_xcheck(void *user, cq_topic_t topic, const void *msg)
{
    xcheck_t *x = user;
    const cq_event_hdr_t *h = msg;
    (void)topic;
    if (h->type == CQ_EV_BOOK) {
        const cq_book_t *b = cq_data_book(x->r->de, h->instrument);
        cq_book_entry_t bid, ask;
        if (cq_book_best(b, CQ_BOOK_BID, &bid) || cq_book_best(b, CQ_BOOK_ASK, &ask))
            ck_abort_msg("published book with an empty side");
        push_top(&x->books, &x->nbooks, &x->cap_b,
                 (top_t){((const cq_book_event_t *)msg)->sequence, bid.tick, bid.qty, ask.tick, ask.qty});
    } else if (h->type == CQ_EV_QUOTE) {
        const cq_quote_t *q = msg;
        /* tick 0.01, step 1e-8: doubles round back to the exact integers */
        push_top(&x->quotes, &x->nquotes, &x->cap_q,
                 (top_t){q->update_id, llround(q->bid_price * 100), llround(q->bid_qty * 1e8),
                         llround(q->ask_price * 100), llround(q->ask_qty * 1e8)});
    }
}

static int cmp_id(const void *a, const void *b)
{
    uint64_t x = ((const top_t *)a)->id, y = ((const top_t *)b)->id;
    return (x > y) - (x < y);
}

START_TEST(test_replay_converted_recording_matches_bookticker)
{
    const char *src = cq_test_data_path("binance_spot/market_stream/hftbacktest_spot_btcusdt_20240808.gz");
    if (!src) {
        cq_test_skip(__func__, "recorded data not found (set CQ_TEST_DATA)");
        return;
    }
    char in[1024];
    snprintf(in, sizeof in, "%s", src);
    tmp_path();
    cq_import_opts_t opts = {0};
    cq_import_t *imp;
    ck_assert_int_eq(cq_import_create(&imp, &opts), 0);
    ck_assert_int_eq(cq_import_define(imp, "BTCUSDT.BINANCE:tick=0.01:step=0.00000001"), 0);
    ck_assert_msg(cq_import_file(imp, in) == 0, "%s", cq_import_error(imp));
    ck_assert_msg(cq_import_write(imp, path) == 0, "%s", cq_import_error(imp));
    cq_import_destroy(imp);

    rig_t r;
    rig_init(&r);
    xcheck_t x = {.r = &r};
    ck_assert_int_eq(cq_bus_subscribe(r.bus, "data.*", 1, on_xcheck, &x, NULL), 0);
    cq_replay_t *rp;
    char err[256];
    ck_assert_msg(cq_replay_open(&rp, path, r.de, r.cache, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(cq_replay_run(rp, NULL), 0);
    cq_replay_stats_t st;
    cq_replay_stats(rp, &st);
    ck_assert_uint_eq(st.rejected, 0);
    ck_assert_uint_eq(st.broken_batches, 0);
    ck_assert_uint_eq(st.batches, 3451);
    ck_assert_uint_eq(st.quotes, 28040);
    ck_assert_uint_eq(st.trades, 9757);
    cq_data_stats_t ds;
    cq_data_stats(r.de, &ds);
    ck_assert_uint_eq(ds.gaps, 0);
    ck_assert_int_eq(r.resyncs, 0);
    qsort(x.books, x.nbooks, sizeof *x.books, cmp_id);
    long checks = 0;
    for (size_t i = 0; i < x.nquotes; i++) {
        const top_t *b = bsearch(&x.quotes[i], x.books, x.nbooks, sizeof *x.books, cmp_id);
        if (!b)
            continue;
        const top_t *q = &x.quotes[i];
        if (b->bid != q->bid || b->bidq != q->bidq || b->ask != q->ask || b->askq != q->askq)
            ck_abort_msg("book after u=%llu differs from its bookTicker", (unsigned long long)q->id);
        checks++;
    }
    ck_assert_int_eq(checks, 564);
    free(x.books);
    free(x.quotes);
    cq_replay_close(rp);
    unlink(path);
    rig_free(&r);
}
END_TEST

static Suite *replay_suite(void)
{
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("replay");
    tcase_add_test(tc, test_replay_rebuilds_batches_and_publishes);
    tcase_add_test(tc, test_replay_gap_in_file_is_detected);
    tcase_add_test(tc, test_replay_delta_run_cut_short_is_handed_over_and_counted);
    tcase_add_test(tc, test_replay_bad_files_give_errors);
    tcase_add_test(tc, test_replay_converted_recording_matches_bookticker);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return cq_test_run(replay_suite()); }
