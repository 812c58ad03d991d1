/*
 * test_data_engine.c - the DataEngine on synthetic data: publishing, the
 * book-sync procedure (buffering, stale diffs, first-diff rule, gaps,
 * resync), crossed books, bars, bad input.
 */
#include <string.h>

#include "cquant/data_engine.h"
#include "cquant/error.h"
#include "support/cq_test.h"

typedef struct {
    cq_bus_t *bus;
    cq_cache_t *cache;
    cq_data_engine_t *de;
    uint32_t btc;
    int snapshot_requests;
    int trades, quotes, books, bars, resync, resynced;
    cq_book_event_t last_book;
    cq_bar_t last_bar;
} fixture_t;

static void on_request(void *user, uint32_t instrument)
{
    fixture_t *f = user;
    ck_assert_uint_eq(instrument, f->btc);
    f->snapshot_requests++;
}

static void on_msg(void *user, cq_topic_t topic, const void *msg)
{
    fixture_t *f = user;
    const cq_event_hdr_t *h = msg;
    (void)topic;
    switch (h->type) {
    case CQ_EV_TRADE: f->trades++; break;
    case CQ_EV_QUOTE: f->quotes++; break;
    case CQ_EV_BOOK: f->books++; f->last_book = *(const cq_book_event_t *)msg; break;
    case CQ_EV_BAR: f->bars++; f->last_bar = *(const cq_bar_t *)msg; break;
    case CQ_EV_VENUE: {
        const cq_venue_event_t *v = msg;
        if (v->kind == CQ_VENUE_RESYNC)
            f->resync++;
        if (v->kind == CQ_VENUE_RESYNCED)
            f->resynced++;
        ck_assert_str_eq(v->venue, "BINANCE");
        break;
    }
    default: ck_abort_msg("unexpected event type %d", h->type);
    }
}

static void setup(fixture_t *f)
{
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(cq_bus_create(&f->bus), 0);
    ck_assert_int_eq(cq_cache_create(&f->cache, NULL), 0);
    cq_instrument_t spec;
    memset(&spec, 0, sizeof spec);
    strcpy(spec.id, "BTCUSDT.BINANCE");
    strcpy(spec.symbol, "BTCUSDT");
    strcpy(spec.venue, "BINANCE");
    strcpy(spec.base, "BTC");
    strcpy(spec.quote, "USDT");
    spec.tick_size = 0.01;
    spec.step_size = 0.00001;
    spec.tick_units = 1;
    spec.step_units = 1;
    spec.price_precision = 2;
    spec.size_precision = 5;
    spec.tradable = 1;
    ck_assert_int_eq(cq_cache_instrument_add(f->cache, &spec, &f->btc), 0);
    cq_data_engine_config_t cfg = {.request_snapshot = on_request, .request_user = f, .max_buffered = 8};
    ck_assert_int_eq(cq_data_engine_create(&f->de, f->bus, f->cache, &cfg), 0);
    ck_assert_int_eq(cq_bus_subscribe(f->bus, "data.*", 0, on_msg, f, NULL), 0);
    ck_assert_int_eq(cq_bus_subscribe(f->bus, "events.venue.BINANCE", 0, on_msg, f, NULL), 0);
}

static void teardown(fixture_t *f)
{
    cq_data_engine_destroy(f->de);
    cq_cache_destroy(f->cache);
    cq_bus_destroy(f->bus);
}

static cq_book_entry_t bid = {6000000, 100}, ask = {6000001, 200};

static int diff(fixture_t *f, uint64_t first, uint64_t last, int64_t bid_tick, int64_t qty)
{
    cq_book_entry_t e = {bid_tick, qty};
    cq_book_batch_t b = {f->btc, first, last, 1, 1, &e, 1, NULL, 0};
    return cq_data_book_batch(f->de, &b);
}

static int snapshot(fixture_t *f, uint64_t id)
{
    cq_book_batch_t b = {f->btc, 0, id, 1, 1, &bid, 1, &ask, 1};
    return cq_data_book_snapshot(f->de, &b);
}

START_TEST(test_data_trade_published_and_cached)
{
    fixture_t f;
    setup(&f);
    cq_trade_t t = {.hdr = {.type = CQ_EV_TRADE, .instrument = f.btc, .ts_event = 5}, .price = 60000, .qty = 0.5};
    ck_assert_int_eq(cq_data_trade(f.de, &t), 0);
    ck_assert_int_eq(f.trades, 1);
    const cq_trade_t *c = cq_cache_trade(f.cache, f.btc);
    ck_assert_ptr_nonnull(c);
    ck_assert(c->price == 60000);
    cq_quote_t q = {.hdr = {.type = CQ_EV_QUOTE, .instrument = f.btc}, .bid_price = 1, .ask_price = 2};
    ck_assert_int_eq(cq_data_quote(f.de, &q), 0);
    ck_assert_int_eq(f.quotes, 1);
    ck_assert_ptr_nonnull(cq_cache_quote(f.cache, f.btc));
    teardown(&f);
}
END_TEST

START_TEST(test_data_unknown_instrument_rejected_and_counted)
{
    fixture_t f;
    setup(&f);
    cq_trade_t t = {.hdr = {.type = CQ_EV_TRADE, .instrument = 99}, .price = 1, .qty = 1};
    ck_assert_int_eq(cq_data_trade(f.de, &t), CQ_ENOENT);
    cq_book_batch_t b = {99, 1, 1, 0, 0, NULL, 0, NULL, 0};
    ck_assert_int_eq(cq_data_book_batch(f.de, &b), CQ_ENOENT);
    cq_data_stats_t st;
    cq_data_stats(f.de, &st);
    ck_assert_uint_eq(st.unknown_instrument, 2);
    ck_assert_int_eq(f.trades, 0);
    teardown(&f);
}
END_TEST

START_TEST(test_data_bad_input_gives_error_codes)
{
    fixture_t f;
    setup(&f);
    cq_trade_t t = {.hdr = {.type = CQ_EV_TRADE, .instrument = f.btc}, .price = -1, .qty = 1};
    ck_assert_int_eq(cq_data_trade(f.de, &t), CQ_EINVAL);
    ck_assert_int_eq(cq_data_trade(f.de, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_data_trade(NULL, &t), CQ_EINVAL);
    cq_book_batch_t b = {f.btc, 1, 1, 0, 0, NULL, 3, NULL, 0}; /* count without array */
    ck_assert_int_eq(cq_data_book_batch(f.de, &b), CQ_EINVAL);
    ck_assert_int_eq(cq_data_book_snapshot(f.de, &b), CQ_EINVAL);
    cq_book_entry_t neg = {100, -5};
    cq_book_batch_t s = {f.btc, 0, 10, 0, 0, &neg, 1, NULL, 0};
    ck_assert_int_eq(cq_data_book_snapshot(f.de, &s), CQ_EINVAL);
    ck_assert_int_eq(cq_data_book_valid(f.de, f.btc), 0);
    ck_assert_int_eq(cq_data_add_bars(f.de, f.btc, "7x", 0), CQ_EPARSE);
    ck_assert_int_eq(cq_data_engine_create(NULL, f.bus, f.cache, NULL), CQ_EINVAL);
    ck_assert_int_eq(f.books, 0);
    teardown(&f);
}
END_TEST

START_TEST(test_data_diffs_before_snapshot_are_buffered_then_applied)
{
    fixture_t f;
    setup(&f);
    ck_assert_int_eq(diff(&f, 95, 99, 5999990, 1), 0);   /* stale after snapshot 100 */
    ck_assert_int_eq(diff(&f, 98, 103, 5999991, 7), 0);  /* straddles 101: first applied */
    ck_assert_int_eq(diff(&f, 104, 104, 5999992, 9), 0);
    ck_assert_int_eq(f.books, 0);                        /* nothing published unsynced */
    ck_assert_int_eq(f.snapshot_requests, 1);            /* asked once */
    ck_assert_int_eq(snapshot(&f, 100), 0);
    ck_assert_int_eq(cq_data_book_valid(f.de, f.btc), 1);
    ck_assert_uint_eq(cq_data_book_last_id(f.de, f.btc), 104);
    const cq_book_t *book = cq_data_book(f.de, f.btc);
    int64_t q;
    ck_assert_int_eq(cq_book_qty_at(book, CQ_BOOK_BID, 5999990, &q), CQ_ENOENT);
    ck_assert_int_eq(cq_book_qty_at(book, CQ_BOOK_BID, 5999991, &q), 0);
    ck_assert_int_eq(q, 7);
    ck_assert_int_eq(cq_book_qty_at(book, CQ_BOOK_BID, 5999992, &q), 0);
    ck_assert_int_eq(f.books, 1);
    ck_assert_uint_eq(f.last_book.sequence, 104);
    cq_data_stats_t st;
    cq_data_stats(f.de, &st);
    ck_assert_uint_eq(st.stale, 1);
    ck_assert_uint_eq(st.gaps, 0);
    teardown(&f);
}
END_TEST

START_TEST(test_data_first_live_diff_after_snapshot_may_straddle)
{
    fixture_t f;
    setup(&f);
    ck_assert_int_eq(snapshot(&f, 100), 0);
    ck_assert_int_eq(diff(&f, 90, 100, 1, 1), 0);  /* stale: dropped */
    ck_assert_int_eq(f.books, 1);
    ck_assert_int_eq(diff(&f, 99, 105, 5999999, 3), 0);
    ck_assert_int_eq(diff(&f, 106, 110, 5999998, 3), 0);
    ck_assert_int_eq(f.books, 3);
    ck_assert_uint_eq(f.last_book.sequence, 110);
    ck_assert(f.last_book.bid_price == 60000.00);
    ck_assert(f.last_book.ask_price == 60000.01);
    teardown(&f);
}
END_TEST

START_TEST(test_data_gap_invalidates_announces_and_resyncs)
{
    fixture_t f;
    setup(&f);
    ck_assert_int_eq(snapshot(&f, 100), 0);
    ck_assert_int_eq(diff(&f, 101, 102, 5999999, 1), 0);
    int books = f.books;
    ck_assert_int_eq(diff(&f, 104, 105, 5999998, 1), CQ_EGAP); /* 103 missing */
    ck_assert_int_eq(cq_data_book_valid(f.de, f.btc), 0);
    ck_assert_int_eq(f.resync, 1);
    ck_assert_int_eq(f.snapshot_requests, 1);
    ck_assert_int_eq(diff(&f, 106, 107, 5999997, 1), 0);      /* buffered */
    ck_assert_int_eq(f.books, books);                          /* invalid book never published */
    ck_assert_int_eq(snapshot(&f, 105), 0);                    /* 104-105 stale, 106-107 applies */
    ck_assert_int_eq(cq_data_book_valid(f.de, f.btc), 1);
    ck_assert_int_eq(f.resynced, 1);
    ck_assert_int_eq(f.books, books + 1);
    ck_assert_uint_eq(cq_data_book_last_id(f.de, f.btc), 107);
    ck_assert_int_eq(diff(&f, 108, 108, 5999996, 1), 0);
    ck_assert_int_eq(f.books, books + 2);
    cq_data_stats_t st;
    cq_data_stats(f.de, &st);
    ck_assert_uint_eq(st.gaps, 1);
    ck_assert_uint_eq(st.resyncs, 1);
    teardown(&f);
}
END_TEST

START_TEST(test_data_snapshot_older_than_buffer_requests_another)
{
    fixture_t f;
    setup(&f);
    ck_assert_int_eq(diff(&f, 110, 112, 5999999, 1), 0);
    ck_assert_int_eq(snapshot(&f, 100), CQ_EGAP); /* 101..109 never seen */
    ck_assert_int_eq(cq_data_book_valid(f.de, f.btc), 0);
    ck_assert_int_eq(f.snapshot_requests, 2);
    ck_assert_int_eq(snapshot(&f, 111), 0);       /* 110-112 straddles 112 */
    ck_assert_int_eq(cq_data_book_valid(f.de, f.btc), 1);
    ck_assert_uint_eq(cq_data_book_last_id(f.de, f.btc), 112);
    teardown(&f);
}
END_TEST

START_TEST(test_data_crossed_batch_triggers_resync)
{
    fixture_t f;
    setup(&f);
    ck_assert_int_eq(snapshot(&f, 100), 0);
    ck_assert_int_eq(diff(&f, 101, 101, ask.tick + 5, 1), CQ_EGAP); /* bid above ask */
    ck_assert_int_eq(cq_data_book_valid(f.de, f.btc), 0);
    ck_assert_int_eq(f.resync, 1);
    cq_data_stats_t st;
    cq_data_stats(f.de, &st);
    ck_assert_uint_eq(st.crossed, 1);
    teardown(&f);
}
END_TEST

START_TEST(test_data_buffer_is_bounded_while_unsynced)
{
    fixture_t f;
    setup(&f);
    for (uint64_t i = 0; i < 100; i++)
        ck_assert_int_eq(diff(&f, 1000 + i, 1000 + i, 5999000 + (int64_t)i, 1), 0);
    cq_data_stats_t st;
    cq_data_stats(f.de, &st);
    ck_assert_uint_eq(st.buffer_overflows, 92); /* max_buffered = 8 */
    ck_assert_int_eq(snapshot(&f, 1091), 0);    /* the 8 newest remain: 1092..1099 */
    ck_assert_uint_eq(cq_data_book_last_id(f.de, f.btc), 1099);
    int64_t q;
    ck_assert_int_eq(cq_book_qty_at(cq_data_book(f.de, f.btc), CQ_BOOK_BID, 5999099, &q), 0);
    teardown(&f);
}
END_TEST

START_TEST(test_data_bars_published_from_trades)
{
    fixture_t f;
    setup(&f);
    ck_assert_int_eq(cq_data_add_bars(f.de, f.btc, "2t", 0), 0);
    ck_assert_int_eq(cq_data_add_bars(f.de, f.btc, "2t", 0), CQ_EEXIST);
    ck_assert_int_eq(cq_data_add_bars(f.de, f.btc, "1s", 0), 0);
    ck_assert_int_eq(cq_bus_subscribe(f.bus, "data.bars.BINANCE.BTCUSDT.2t", 5, on_msg, &f, NULL), 0);
    for (int i = 0; i < 4; i++) {
        cq_trade_t t = {.hdr = {.type = CQ_EV_TRADE, .instrument = f.btc, .ts_event = i * 100},
                        .price = 10 + i, .qty = 1};
        cq_data_trade(f.de, &t);
    }
    ck_assert_int_eq(f.bars, 4); /* 2 tick bars, each seen by both subscriptions */
    ck_assert(f.last_bar.open == 12 && f.last_bar.close == 13);
    ck_assert_int_eq(cq_data_advance(f.de, 1000000000), 1); /* the 1s bar */
    teardown(&f);
}
END_TEST

static Suite *de_suite(void)
{
    Suite *s = suite_create("data_engine");
    TCase *tc = tcase_create("data_engine");
    tcase_add_test(tc, test_data_trade_published_and_cached);
    tcase_add_test(tc, test_data_unknown_instrument_rejected_and_counted);
    tcase_add_test(tc, test_data_bad_input_gives_error_codes);
    tcase_add_test(tc, test_data_diffs_before_snapshot_are_buffered_then_applied);
    tcase_add_test(tc, test_data_first_live_diff_after_snapshot_may_straddle);
    tcase_add_test(tc, test_data_gap_invalidates_announces_and_resyncs);
    tcase_add_test(tc, test_data_snapshot_older_than_buffer_requests_another);
    tcase_add_test(tc, test_data_crossed_batch_triggers_resync);
    tcase_add_test(tc, test_data_buffer_is_bounded_while_unsynced);
    tcase_add_test(tc, test_data_bars_published_from_trades);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return cq_test_run(de_suite()); }
