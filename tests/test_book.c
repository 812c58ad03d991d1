/*
 * test_book.c - the L2 order book (include/cquant/book.h).
 *
 * Unit tests for every function, bad input included; a randomized
 * comparison against a naive reference book (a plain sorted array per side)
 * over 1,000,000 operations; and a replay of real Binance diffs checked
 * against the venue's own best bid/ask (bookTicker).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cquant/book.h"
#include "cquant/error.h"
#include "support/cq_test.h"

#define BID CQ_BOOK_BID
#define ASK CQ_BOOK_ASK

static cq_book_t *new_book(void)
{
    cq_book_t *b = NULL;
    ck_assert_int_eq(cq_book_create(&b, 0.01, 0.00001), 0);
    ck_assert_ptr_nonnull(b);
    return b;
}

/* bids 100, 99, 97 (qty 10, 20, 30); asks 101, 102, 105 (qty 1, 2, 3) */
static cq_book_t *small_book(void)
{
    cq_book_t *b = new_book();
    const cq_book_entry_t bids[] = {{100, 10}, {99, 20}, {97, 30}};
    const cq_book_entry_t asks[] = {{101, 1}, {102, 2}, {105, 3}};
    ck_assert_int_eq(cq_book_snapshot(b, bids, 3, asks, 3), 0);
    return b;
}

static cq_book_entry_t best(const cq_book_t *b, int32_t side)
{
    cq_book_entry_t e = {0, 0};
    ck_assert_int_eq(cq_book_best(b, side, &e), 0);
    return e;
}

static cq_book_stats_t stats(const cq_book_t *b)
{
    cq_book_stats_t st;
    ck_assert_int_eq(cq_book_stats(b, &st), 0);
    return st;
}

/* The whole side, best first. */
static size_t depth_all(const cq_book_t *b, int32_t side, cq_book_entry_t *out, size_t max)
{
    size_t n = 0;
    ck_assert_int_eq(cq_book_depth(b, side, out, max, &n), 0);
    return n;
}

static void assert_same_book(const cq_book_t *a, const cq_book_t *b)
{
    cq_book_entry_t x[64], y[64];
    for (int32_t side = BID; side <= ASK; side++) {
        size_t n = depth_all(a, side, x, 64), m = depth_all(b, side, y, 64);
        ck_assert_uint_eq(n, m);
        ck_assert(memcmp(x, y, n * sizeof *x) == 0);
    }
}

/* ---- creation and bad input ------------------------------------------- */

START_TEST(test_book_create_rejects_bad_sizes)
{
    cq_book_t *b = NULL;
    ck_assert_int_eq(cq_book_create(NULL, 0.01, 0.01), CQ_EINVAL);
    ck_assert_int_eq(cq_book_create(&b, 0, 0.01), CQ_EINVAL);
    ck_assert_int_eq(cq_book_create(&b, -0.01, 0.01), CQ_EINVAL);
    ck_assert_int_eq(cq_book_create(&b, 0.01, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_book_create(&b, NAN, 0.01), CQ_EINVAL);
    ck_assert_int_eq(cq_book_create(&b, 0.01, INFINITY), CQ_EINVAL);
    ck_assert_ptr_null(b);
}
END_TEST

START_TEST(test_book_destroy_null_is_harmless)
{
    cq_book_destroy(NULL);
}
END_TEST

START_TEST(test_book_functions_reject_null_book)
{
    cq_book_entry_t e = {1, 1}, out[2];
    cq_book_level_t lv[2];
    cq_book_event_t ev;
    cq_book_stats_t st;
    double d;
    int64_t i;
    size_t n;
    ck_assert_int_eq(cq_book_reserve(NULL, 10), CQ_EINVAL);
    ck_assert_int_eq(cq_book_set(NULL, BID, 1, 1), CQ_EINVAL);
    ck_assert_int_eq(cq_book_apply(NULL, &e, 1, NULL, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_book_snapshot(NULL, &e, 1, NULL, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_book_clear(NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_book_check(NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_book_state(NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_book_best(NULL, BID, &e), CQ_EINVAL);
    ck_assert_int_eq(cq_book_qty_at(NULL, BID, 1, &i), CQ_EINVAL);
    ck_assert_uint_eq(cq_book_levels(NULL, BID), 0);
    ck_assert_int_eq(cq_book_depth(NULL, BID, out, 2, &n), CQ_EINVAL);
    ck_assert_int_eq(cq_book_depth_levels(NULL, BID, lv, 2, &n), CQ_EINVAL);
    ck_assert_int_eq(cq_book_mid(NULL, &d), CQ_EINVAL);
    ck_assert_int_eq(cq_book_spread(NULL, &d), CQ_EINVAL);
    ck_assert_int_eq(cq_book_spread_ticks(NULL, &i), CQ_EINVAL);
    ck_assert_int_eq(cq_book_vwap(NULL, BID, 1, &d, &i), CQ_EINVAL);
    ck_assert_int_eq(cq_book_top(NULL, &ev), CQ_EINVAL);
    ck_assert(cq_book_price(NULL, 5) == 0);
    ck_assert(cq_book_size(NULL, 5) == 0);
    ck_assert_int_eq(cq_book_stats(NULL, &st), CQ_EINVAL);
}
END_TEST

START_TEST(test_book_functions_reject_null_out_params)
{
    cq_book_t *b = small_book();
    int64_t i;
    double d;
    ck_assert_int_eq(cq_book_best(b, BID, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_book_qty_at(b, BID, 100, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_book_depth(b, BID, NULL, 2, &(size_t){0}), CQ_EINVAL);
    ck_assert_int_eq(cq_book_depth(b, BID, (cq_book_entry_t[2]){{0, 0}}, 2, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_book_depth_levels(b, BID, NULL, 2, &(size_t){0}), CQ_EINVAL);
    ck_assert_int_eq(cq_book_mid(b, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_book_spread(b, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_book_spread_ticks(b, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_book_vwap(b, BID, 1, NULL, &i), CQ_EINVAL);
    ck_assert_int_eq(cq_book_vwap(b, BID, 1, &d, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_book_top(b, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_book_stats(b, NULL), CQ_EINVAL);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_rejects_unknown_side)
{
    cq_book_t *b = small_book();
    cq_book_entry_t e, out[2];
    cq_book_level_t lv[2];
    int64_t i;
    double d;
    size_t n;
    const int32_t bad[] = {CQ_SIDE_NONE, 3, -1, INT32_MAX};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ck_assert_int_eq(cq_book_set(b, bad[k], 100, 1), CQ_EINVAL);
        ck_assert_int_eq(cq_book_best(b, bad[k], &e), CQ_EINVAL);
        ck_assert_int_eq(cq_book_qty_at(b, bad[k], 100, &i), CQ_EINVAL);
        ck_assert_uint_eq(cq_book_levels(b, bad[k]), 0);
        ck_assert_int_eq(cq_book_depth(b, bad[k], out, 2, &n), CQ_EINVAL);
        ck_assert_int_eq(cq_book_depth_levels(b, bad[k], lv, 2, &n), CQ_EINVAL);
        ck_assert_int_eq(cq_book_vwap(b, bad[k], 1, &d, &i), CQ_EINVAL);
    }
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_set_rejects_negative_quantity)
{
    cq_book_t *b = small_book();
    ck_assert_int_eq(cq_book_set(b, BID, 100, -1), CQ_EINVAL);
    ck_assert_int_eq(cq_book_set(b, ASK, 500, INT64_MIN), CQ_EINVAL);
    ck_assert_int_eq(best(b, BID).qty, 10);
    ck_assert_uint_eq(cq_book_levels(b, ASK), 3);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_set_rejects_quantity_above_max)
{
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_set(b, BID, 1, CQ_BOOK_QTY_MAX + 1), CQ_EINVAL);
    ck_assert_int_eq(cq_book_set(b, BID, 1, INT64_MAX), CQ_EINVAL);
    ck_assert_int_eq(cq_book_set(b, BID, 1, CQ_BOOK_QTY_MAX), 0);
    ck_assert_int_eq(best(b, BID).qty, CQ_BOOK_QTY_MAX);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_set_rejects_tick_out_of_range)
{
    cq_book_t *b = new_book();
    int64_t i;
    ck_assert_int_eq(cq_book_set(b, BID, CQ_BOOK_TICK_MAX + 1, 1), CQ_EINVAL);
    ck_assert_int_eq(cq_book_set(b, ASK, -CQ_BOOK_TICK_MAX - 1, 1), CQ_EINVAL);
    ck_assert_int_eq(cq_book_set(b, BID, INT64_MIN, 1), CQ_EINVAL);
    ck_assert_int_eq(cq_book_set(b, ASK, INT64_MAX, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_book_qty_at(b, BID, INT64_MIN, &i), CQ_EINVAL);
    ck_assert_uint_eq(cq_book_levels(b, BID) + cq_book_levels(b, ASK), 0);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_accepts_extreme_ticks_on_both_sides)
{
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_set(b, BID, -CQ_BOOK_TICK_MAX, 1), 0);
    ck_assert_int_eq(cq_book_set(b, BID, CQ_BOOK_TICK_MAX, 2), 0);
    ck_assert_int_eq(cq_book_set(b, ASK, -CQ_BOOK_TICK_MAX, 3), 0);
    ck_assert_int_eq(cq_book_set(b, ASK, CQ_BOOK_TICK_MAX, 4), 0);
    ck_assert_int_eq(best(b, BID).tick, CQ_BOOK_TICK_MAX);
    ck_assert_int_eq(best(b, ASK).tick, -CQ_BOOK_TICK_MAX);
    cq_book_entry_t d[2];
    ck_assert_uint_eq(depth_all(b, BID, d, 2), 2);
    ck_assert_int_eq(d[1].tick, -CQ_BOOK_TICK_MAX);
    ck_assert_uint_eq(depth_all(b, ASK, d, 2), 2);
    ck_assert_int_eq(d[1].tick, CQ_BOOK_TICK_MAX);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_bad_input_leaves_book_and_counters_unchanged)
{
    cq_book_t *b = small_book(), *ref = small_book();
    cq_book_stats_t before = stats(b);
    const cq_book_entry_t bad[] = {{98, 5}, {96, -5}};
    const cq_book_entry_t dup[] = {{98, 5}, {98, 6}};
    ck_assert_int_eq(cq_book_set(b, BID, 98, -1), CQ_EINVAL);
    ck_assert_int_eq(cq_book_set(b, 9, 98, 1), CQ_EINVAL);
    ck_assert_int_eq(cq_book_apply(b, bad, 2, NULL, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_book_snapshot(b, dup, 2, NULL, 0), CQ_EINVAL);
    assert_same_book(b, ref);
    cq_book_stats_t after = stats(b);
    ck_assert(memcmp(&before, &after, sizeof before) == 0);
    cq_book_destroy(b);
    cq_book_destroy(ref);
}
END_TEST

START_TEST(test_book_apply_with_one_bad_entry_applies_none)
{
    cq_book_t *b = small_book(), *ref = small_book();
    const cq_book_entry_t bids[] = {{100, 0}, {98, 7}};
    const cq_book_entry_t asks[] = {{101, 9}, {103, 1}, {CQ_BOOK_TICK_MAX + 1, 1}};
    ck_assert_int_eq(cq_book_apply(b, bids, 2, asks, 3), CQ_EINVAL);
    assert_same_book(b, ref);
    cq_book_destroy(b);
    cq_book_destroy(ref);
}
END_TEST

START_TEST(test_book_apply_rejects_null_array_with_count)
{
    cq_book_t *b = small_book();
    ck_assert_int_eq(cq_book_apply(b, NULL, 1, NULL, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_book_apply(b, NULL, 0, NULL, 2), CQ_EINVAL);
    ck_assert_int_eq(cq_book_snapshot(b, NULL, 3, NULL, 0), CQ_EINVAL);
    ck_assert_uint_eq(cq_book_levels(b, BID), 3);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_reserve_rejects_absurd_size)
{
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_reserve(b, SIZE_MAX), CQ_EINVAL);
    ck_assert_int_eq(cq_book_reserve(b, 5000), 0);
    cq_book_destroy(b);
}
END_TEST

/* ---- levels ---------------------------------------------------------------- */

START_TEST(test_book_empty_book_has_no_best)
{
    cq_book_t *b = new_book();
    cq_book_entry_t e;
    ck_assert_int_eq(cq_book_best(b, BID, &e), CQ_ENOENT);
    ck_assert_int_eq(cq_book_best(b, ASK, &e), CQ_ENOENT);
    ck_assert_uint_eq(cq_book_levels(b, BID), 0);
    ck_assert_int_eq(cq_book_state(b), CQ_BOOK_OK);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_best_bid_is_highest_and_best_ask_lowest)
{
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_set(b, BID, 50, 1), 0);
    ck_assert_int_eq(cq_book_set(b, BID, 70, 2), 0);
    ck_assert_int_eq(cq_book_set(b, BID, 60, 3), 0);
    ck_assert_int_eq(cq_book_set(b, ASK, 90, 4), 0);
    ck_assert_int_eq(cq_book_set(b, ASK, 80, 5), 0);
    ck_assert_int_eq(cq_book_set(b, ASK, 85, 6), 0);
    ck_assert_int_eq(best(b, BID).tick, 70);
    ck_assert_int_eq(best(b, BID).qty, 2);
    ck_assert_int_eq(best(b, ASK).tick, 80);
    ck_assert_int_eq(best(b, ASK).qty, 5);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_set_replaces_quantity_of_existing_level)
{
    cq_book_t *b = small_book();
    ck_assert_int_eq(cq_book_set(b, BID, 99, 77), 0);
    int64_t q = 0;
    ck_assert_int_eq(cq_book_qty_at(b, BID, 99, &q), 0);
    ck_assert_int_eq(q, 77);
    ck_assert_uint_eq(cq_book_levels(b, BID), 3);
    ck_assert_uint_eq(stats(b).updates, 1);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_set_zero_deletes_level)
{
    cq_book_t *b = small_book();
    ck_assert_int_eq(cq_book_set(b, BID, 100, 0), 0);
    ck_assert_int_eq(best(b, BID).tick, 99);
    ck_assert_uint_eq(cq_book_levels(b, BID), 2);
    ck_assert_uint_eq(stats(b).deletes, 1);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_delete_missing_level_is_counted_noop)
{
    cq_book_t *b = small_book(), *ref = small_book();
    ck_assert_int_eq(cq_book_set(b, BID, 98, 0), 0);
    ck_assert_int_eq(cq_book_set(b, ASK, 100, 0), 0);
    assert_same_book(b, ref);
    ck_assert_uint_eq(stats(b).missing_deletes, 2);
    ck_assert_uint_eq(stats(b).deletes, 0);
    cq_book_destroy(b);
    cq_book_destroy(ref);
}
END_TEST

START_TEST(test_book_delete_on_empty_book_is_counted_noop)
{
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_set(b, ASK, 5, 0), 0);
    ck_assert_uint_eq(stats(b).missing_deletes, 1);
    ck_assert_uint_eq(cq_book_levels(b, ASK), 0);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_sides_are_independent)
{
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_set(b, BID, 100, 1), 0);
    ck_assert_int_eq(cq_book_set(b, ASK, 100, 2), 0);
    ck_assert_int_eq(cq_book_set(b, BID, 100, 0), 0);
    ck_assert_uint_eq(cq_book_levels(b, BID), 0);
    ck_assert_int_eq(best(b, ASK).qty, 2);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_levels_counts_each_side)
{
    cq_book_t *b = small_book();
    ck_assert_int_eq(cq_book_set(b, ASK, 110, 1), 0);
    ck_assert_uint_eq(cq_book_levels(b, BID), 3);
    ck_assert_uint_eq(cq_book_levels(b, ASK), 4);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_qty_at_reports_missing_level)
{
    cq_book_t *b = small_book();
    int64_t q = -1;
    ck_assert_int_eq(cq_book_qty_at(b, BID, 98, &q), CQ_ENOENT);
    ck_assert_int_eq(cq_book_qty_at(b, ASK, 100, &q), CQ_ENOENT);
    ck_assert_int_eq(cq_book_qty_at(b, ASK, 105, &q), 0);
    ck_assert_int_eq(q, 3);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_negative_ticks_order_correctly)
{
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_set(b, BID, -5, 1), 0);
    ck_assert_int_eq(cq_book_set(b, BID, -3, 2), 0);
    ck_assert_int_eq(cq_book_set(b, ASK, -1, 3), 0);
    ck_assert_int_eq(cq_book_set(b, ASK, 2, 4), 0);
    ck_assert_int_eq(best(b, BID).tick, -3);
    ck_assert_int_eq(best(b, ASK).tick, -1);
    int64_t t;
    ck_assert_int_eq(cq_book_spread_ticks(b, &t), 0);
    ck_assert_int_eq(t, 2);
    cq_book_destroy(b);
}
END_TEST

/* ---- depth -------------------------------------------------------------- */

START_TEST(test_book_depth_copies_best_first)
{
    cq_book_t *b = small_book();
    cq_book_entry_t d[8];
    ck_assert_uint_eq(depth_all(b, BID, d, 8), 3);
    ck_assert_int_eq(d[0].tick, 100);
    ck_assert_int_eq(d[1].tick, 99);
    ck_assert_int_eq(d[2].tick, 97);
    ck_assert_int_eq(d[2].qty, 30);
    ck_assert_uint_eq(depth_all(b, ASK, d, 8), 3);
    ck_assert_int_eq(d[0].tick, 101);
    ck_assert_int_eq(d[1].tick, 102);
    ck_assert_int_eq(d[2].tick, 105);
    ck_assert_int_eq(d[2].qty, 3);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_depth_stops_at_max)
{
    cq_book_t *b = small_book();
    cq_book_entry_t d[3] = {{0, 0}, {0, 0}, {-7, -7}};
    ck_assert_uint_eq(depth_all(b, ASK, d, 2), 2);
    ck_assert_int_eq(d[1].tick, 102);
    ck_assert_int_eq(d[2].tick, -7); /* not written */
    size_t n = 99;
    ck_assert_int_eq(cq_book_depth(b, ASK, NULL, 0, &n), 0);
    ck_assert_uint_eq(n, 0);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_depth_of_empty_side_is_zero_levels)
{
    cq_book_t *b = new_book();
    cq_book_entry_t d[2];
    ck_assert_uint_eq(depth_all(b, BID, d, 2), 0);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_depth_levels_gives_prices_and_sizes)
{
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_set(b, BID, 12345678, 150000), 0); /* 123456.78, 1.5 */
    ck_assert_int_eq(cq_book_set(b, BID, 12345601, 1), 0);
    cq_book_level_t lv[2];
    size_t n = 0;
    ck_assert_int_eq(cq_book_depth_levels(b, BID, lv, 2, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert(lv[0].price == 123456.78);
    ck_assert(lv[0].qty == 1.5);
    ck_assert(lv[1].price == 123456.01);
    ck_assert(lv[1].qty == 0.00001);
    cq_book_destroy(b);
}
END_TEST

/* ---- snapshot and clear ------------------------------------------------ */

START_TEST(test_book_snapshot_replaces_every_level)
{
    cq_book_t *b = small_book();
    const cq_book_entry_t bids[] = {{50, 5}};
    const cq_book_entry_t asks[] = {{60, 6}, {61, 7}};
    ck_assert_int_eq(cq_book_snapshot(b, bids, 1, asks, 2), 0);
    cq_book_entry_t d[8];
    ck_assert_uint_eq(depth_all(b, BID, d, 8), 1);
    ck_assert_int_eq(d[0].tick, 50);
    ck_assert_uint_eq(depth_all(b, ASK, d, 8), 2);
    ck_assert_int_eq(d[0].tick, 60);
    ck_assert_int_eq(d[1].tick, 61);
    ck_assert_uint_eq(stats(b).snapshots, 2);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_snapshot_accepts_any_order)
{
    const cq_book_entry_t best_first[] = {{100, 1}, {99, 2}, {97, 3}, {90, 4}};
    const cq_book_entry_t ascending[] = {{90, 4}, {97, 3}, {99, 2}, {100, 1}};
    const cq_book_entry_t shuffled[] = {{99, 2}, {90, 4}, {100, 1}, {97, 3}};
    const cq_book_entry_t asks_shuffled[] = {{103, 1}, {101, 2}, {102, 3}};
    cq_book_t *a = new_book(), *b = new_book(), *c = new_book();
    ck_assert_int_eq(cq_book_snapshot(a, best_first, 4, asks_shuffled, 3), 0);
    ck_assert_int_eq(cq_book_snapshot(b, ascending, 4, asks_shuffled, 3), 0);
    ck_assert_int_eq(cq_book_snapshot(c, shuffled, 4, asks_shuffled, 3), 0);
    assert_same_book(a, b);
    assert_same_book(a, c);
    ck_assert_int_eq(best(a, BID).tick, 100);
    ck_assert_int_eq(best(a, ASK).tick, 101);
    cq_book_destroy(a);
    cq_book_destroy(b);
    cq_book_destroy(c);
}
END_TEST

START_TEST(test_book_snapshot_skips_zero_quantities)
{
    cq_book_t *b = new_book();
    const cq_book_entry_t bids[] = {{100, 0}, {99, 2}, {98, 0}};
    ck_assert_int_eq(cq_book_snapshot(b, bids, 3, NULL, 0), 0);
    ck_assert_uint_eq(cq_book_levels(b, BID), 1);
    ck_assert_int_eq(best(b, BID).tick, 99);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_snapshot_rejects_duplicate_tick_and_keeps_book)
{
    cq_book_t *b = small_book(), *ref = small_book();
    const cq_book_entry_t bids[] = {{90, 1}, {95, 2}, {90, 3}};
    ck_assert_int_eq(cq_book_snapshot(b, bids, 3, NULL, 0), CQ_EINVAL);
    assert_same_book(b, ref);
    cq_book_destroy(b);
    cq_book_destroy(ref);
}
END_TEST

START_TEST(test_book_snapshot_rejects_bad_entry_and_keeps_book)
{
    cq_book_t *b = small_book(), *ref = small_book();
    const cq_book_entry_t asks[] = {{110, 1}, {111, -2}};
    ck_assert_int_eq(cq_book_snapshot(b, NULL, 0, asks, 2), CQ_EINVAL);
    assert_same_book(b, ref);
    cq_book_destroy(b);
    cq_book_destroy(ref);
}
END_TEST

START_TEST(test_book_empty_snapshot_empties_book)
{
    cq_book_t *b = small_book();
    ck_assert_int_eq(cq_book_snapshot(b, NULL, 0, NULL, 0), 0);
    ck_assert_uint_eq(cq_book_levels(b, BID) + cq_book_levels(b, ASK), 0);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_snapshot_of_5000_levels_then_updates)
{
    enum { N = 5000 };
    cq_book_entry_t *bids = malloc(N * sizeof *bids), *asks = malloc(N * sizeof *asks);
    cq_book_entry_t *d = malloc(N * sizeof *d);
    ck_assert(bids && asks && d);
    for (int i = 0; i < N; i++) {
        bids[i] = (cq_book_entry_t){1000000 - 1 - 2 * i, 1 + i};
        asks[i] = (cq_book_entry_t){1000000 + 1 + 2 * i, 1 + i};
    }
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_snapshot(b, bids, N, asks, N), 0);
    ck_assert_uint_eq(depth_all(b, BID, d, N), N);
    ck_assert(memcmp(d, bids, N * sizeof *d) == 0);
    /* fill every gap of the bid side from the bottom: splits all the way */
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(cq_book_set(b, BID, 1000000 - 2 * N + 2 * i, 7), 0);
    ck_assert_uint_eq(cq_book_levels(b, BID), 2 * N);
    ck_assert_uint_eq(depth_all(b, ASK, d, N), N);
    ck_assert(memcmp(d, asks, N * sizeof *d) == 0);
    cq_book_destroy(b);
    free(bids);
    free(asks);
    free(d);
}
END_TEST

START_TEST(test_book_apply_large_batch_matches_level_by_level)
{
    /* a batch must reserve every block it can need up front: 3000 inserts
     * into an empty book, bottom-up, top-down and interleaved */
    enum { N = 3000 };
    cq_book_entry_t *e = malloc(N * sizeof *e);
    ck_assert_ptr_nonnull(e);
    for (int order = 0; order < 3; order++) {
        for (int i = 0; i < N; i++) {
            int k = order == 0 ? i : order == 1 ? N - 1 - i : (i * 7919) % N;
            e[i] = (cq_book_entry_t){1000 + k, 1 + k};
        }
        cq_book_t *b = new_book(), *ref = new_book();
        ck_assert_int_eq(cq_book_apply(b, e, N, e, N), CQ_ESTATE); /* same ticks: crossed */
        for (int i = 0; i < N; i++) {
            ck_assert_int_eq(cq_book_set(ref, BID, e[i].tick, e[i].qty), 0);
            ck_assert_int_eq(cq_book_set(ref, ASK, e[i].tick, e[i].qty), 0);
        }
        ck_assert_uint_eq(cq_book_levels(b, BID), N);
        ck_assert_uint_eq(cq_book_levels(b, ASK), N);
        cq_book_entry_t x, y;
        ck_assert_int_eq(cq_book_depth(b, BID, &x, 1, &(size_t){0}), 0);
        ck_assert_int_eq(cq_book_depth(ref, BID, &y, 1, &(size_t){0}), 0);
        ck_assert_int_eq(x.tick, y.tick);
        /* then a second batch deleting every other level and adding as many */
        for (int i = 0; i < N; i++)
            e[i] = (cq_book_entry_t){i % 2 ? 1000 + i : 1000 + N + i, i % 2 ? 0 : 5};
        ck_assert_int_eq(cq_book_apply(b, e, N, NULL, 0), CQ_ESTATE);
        for (int i = 0; i < N; i++)
            ck_assert_int_eq(cq_book_set(ref, BID, e[i].tick, e[i].qty), 0);
        ck_assert_uint_eq(cq_book_levels(b, BID), cq_book_levels(ref, BID));
        cq_book_destroy(b);
        cq_book_destroy(ref);
    }
    free(e);
}
END_TEST

START_TEST(test_book_clear_removes_every_level_and_book_is_reusable)
{
    cq_book_t *b = small_book();
    ck_assert_int_eq(cq_book_clear(b), 0);
    cq_book_entry_t e;
    ck_assert_int_eq(cq_book_best(b, BID, &e), CQ_ENOENT);
    ck_assert_int_eq(cq_book_best(b, ASK, &e), CQ_ENOENT);
    ck_assert_uint_eq(stats(b).clears, 1);
    ck_assert_int_eq(cq_book_set(b, ASK, 7, 7), 0);
    ck_assert_int_eq(best(b, ASK).tick, 7);
    ck_assert_uint_eq(cq_book_levels(b, ASK), 1);
    cq_book_destroy(b);
}
END_TEST

/* ---- crossed and locked ------------------------------------------------ */

START_TEST(test_book_check_detects_crossed_book)
{
    cq_book_t *b = small_book();
    ck_assert_int_eq(cq_book_set(b, BID, 102, 1), 0);
    ck_assert_int_eq(cq_book_state(b), CQ_BOOK_CROSSED);
    ck_assert_int_eq(cq_book_check(b), CQ_ESTATE);
    ck_assert_uint_eq(stats(b).crossed, 1);
    ck_assert_uint_eq(stats(b).locked, 0);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_check_detects_locked_book)
{
    cq_book_t *b = small_book();
    ck_assert_int_eq(cq_book_set(b, ASK, 100, 1), 0);
    ck_assert_int_eq(cq_book_state(b), CQ_BOOK_LOCKED);
    ck_assert_int_eq(cq_book_check(b), CQ_ESTATE);
    ck_assert_uint_eq(stats(b).locked, 1);
    ck_assert_uint_eq(stats(b).crossed, 0);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_check_passes_normal_book_and_counts_the_check)
{
    cq_book_t *b = small_book();
    uint64_t checks = stats(b).checks;
    ck_assert_int_eq(cq_book_check(b), 0);
    ck_assert_uint_eq(stats(b).checks, checks + 1);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_check_passes_when_a_side_is_empty)
{
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_set(b, BID, 100, 1), 0);
    ck_assert_int_eq(cq_book_check(b), 0);
    ck_assert_int_eq(cq_book_state(b), CQ_BOOK_OK);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_set_alone_does_not_count_crossing)
{
    cq_book_t *b = small_book();
    ck_assert_int_eq(cq_book_set(b, BID, 110, 1), 0);
    ck_assert_uint_eq(stats(b).crossed, 0);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_state_does_not_count)
{
    cq_book_t *b = small_book();
    ck_assert_int_eq(cq_book_set(b, BID, 110, 1), 0);
    ck_assert_int_eq(cq_book_state(b), CQ_BOOK_CROSSED);
    ck_assert_int_eq(cq_book_state(b), CQ_BOOK_CROSSED);
    ck_assert_uint_eq(stats(b).crossed, 0);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_apply_reports_crossed_batch_but_keeps_it)
{
    cq_book_t *b = small_book();
    const cq_book_entry_t bids[] = {{103, 4}};
    ck_assert_int_eq(cq_book_apply(b, bids, 1, NULL, 0), CQ_ESTATE);
    ck_assert_int_eq(best(b, BID).tick, 103);
    ck_assert_uint_eq(stats(b).crossed, 1);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_apply_cross_inside_batch_is_not_reported)
{
    /* the market moves up: the new bid at 102 crosses the old asks until
     * the same batch deletes them */
    cq_book_t *b = small_book();
    const cq_book_entry_t bids[] = {{102, 4}};
    const cq_book_entry_t asks[] = {{101, 0}, {102, 0}, {103, 8}};
    ck_assert_int_eq(cq_book_apply(b, bids, 1, asks, 3), 0);
    ck_assert_int_eq(best(b, BID).tick, 102);
    ck_assert_int_eq(best(b, ASK).tick, 103);
    ck_assert_uint_eq(stats(b).crossed + stats(b).locked, 0);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_snapshot_reports_locked_book)
{
    cq_book_t *b = new_book();
    const cq_book_entry_t bids[] = {{100, 1}};
    const cq_book_entry_t asks[] = {{100, 1}};
    ck_assert_int_eq(cq_book_snapshot(b, bids, 1, asks, 1), CQ_ESTATE);
    ck_assert_uint_eq(cq_book_levels(b, ASK), 1);
    ck_assert_uint_eq(stats(b).locked, 1);
    cq_book_destroy(b);
}
END_TEST

/* ---- mid, spread, vwap ---------------------------------------------------- */

START_TEST(test_book_mid_and_spread_need_both_sides)
{
    cq_book_t *b = new_book();
    double d = -1;
    int64_t t = -1;
    ck_assert_int_eq(cq_book_mid(b, &d), CQ_ENOENT);
    ck_assert_int_eq(cq_book_spread(b, &d), CQ_ENOENT);
    ck_assert_int_eq(cq_book_set(b, BID, 100, 1), 0);
    ck_assert_int_eq(cq_book_mid(b, &d), CQ_ENOENT);
    ck_assert_int_eq(cq_book_spread_ticks(b, &t), CQ_ENOENT);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_mid_is_nearest_double_to_decimal)
{
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_set(b, BID, 12345678, 1), 0); /* 123456.78 */
    ck_assert_int_eq(cq_book_set(b, ASK, 12345680, 1), 0); /* 123456.80 */
    double mid = 0;
    ck_assert_int_eq(cq_book_mid(b, &mid), 0);
    ck_assert(mid == 123456.79);
    ck_assert_int_eq(cq_book_set(b, ASK, 12345679, 1), 0);
    ck_assert_int_eq(cq_book_mid(b, &mid), 0);
    ck_assert(mid == 123456.785);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_spread_in_ticks_and_price)
{
    cq_book_t *b = small_book();
    int64_t t = 0;
    double p = 0;
    ck_assert_int_eq(cq_book_spread_ticks(b, &t), 0);
    ck_assert_int_eq(t, 1);
    ck_assert_int_eq(cq_book_spread(b, &p), 0);
    ck_assert(p == 0.01);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_spread_is_negative_when_crossed)
{
    cq_book_t *b = small_book();
    ck_assert_int_eq(cq_book_set(b, BID, 104, 1), 0);
    int64_t t = 0;
    ck_assert_int_eq(cq_book_spread_ticks(b, &t), 0);
    ck_assert_int_eq(t, -3);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_vwap_inside_best_level_is_best_price)
{
    cq_book_t *b = small_book();
    double p = 0;
    int64_t f = 0;
    ck_assert_int_eq(cq_book_vwap(b, BID, 10, &p, &f), 0);
    ck_assert_int_eq(f, 10);
    ck_assert(p == 1.00);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_vwap_walks_the_bids)
{
    cq_book_t *b = small_book();
    double p = 0;
    int64_t f = 0;
    /* 10 @ 100, 20 @ 99, 5 @ 97 */
    ck_assert_int_eq(cq_book_vwap(b, BID, 35, &p, &f), 0);
    ck_assert_int_eq(f, 35);
    ck_assert_double_eq_tol(p, (10 * 1.00 + 20 * 0.99 + 5 * 0.97) / 35, 1e-12);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_vwap_walks_the_asks)
{
    cq_book_t *b = small_book();
    double p = 0;
    int64_t f = 0;
    /* 1 @ 101, 2 @ 102, 1 @ 105 */
    ck_assert_int_eq(cq_book_vwap(b, ASK, 4, &p, &f), 0);
    ck_assert_int_eq(f, 4);
    ck_assert_double_eq_tol(p, (1.01 + 2 * 1.02 + 1.05) / 4, 1e-12);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_vwap_insufficient_depth_reports_available)
{
    cq_book_t *b = small_book();
    double p = 0;
    int64_t f = 0;
    ck_assert_int_eq(cq_book_vwap(b, ASK, 100, &p, &f), CQ_ERANGE);
    ck_assert_int_eq(f, 6);
    ck_assert_double_eq_tol(p, (1.01 + 2 * 1.02 + 3 * 1.05) / 6, 1e-12);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_vwap_of_empty_side_is_enoent)
{
    cq_book_t *b = new_book();
    double p = -1;
    int64_t f = -1;
    ck_assert_int_eq(cq_book_vwap(b, ASK, 1, &p, &f), CQ_ENOENT);
    ck_assert_int_eq(f, 0);
    ck_assert(p == 0);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_vwap_rejects_bad_quantity)
{
    cq_book_t *b = small_book();
    double p;
    int64_t f;
    ck_assert_int_eq(cq_book_vwap(b, BID, 0, &p, &f), CQ_EINVAL);
    ck_assert_int_eq(cq_book_vwap(b, BID, -5, &p, &f), CQ_EINVAL);
    ck_assert_int_eq(cq_book_vwap(b, BID, CQ_BOOK_QTY_MAX + 1, &p, &f), CQ_EINVAL);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_vwap_of_huge_quantities_does_not_overflow)
{
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_set(b, ASK, 1000, CQ_BOOK_QTY_MAX), 0);
    ck_assert_int_eq(cq_book_set(b, ASK, 1001, CQ_BOOK_QTY_MAX), 0);
    ck_assert_int_eq(cq_book_set(b, ASK, 1002, CQ_BOOK_QTY_MAX), 0);
    double p = 0;
    int64_t f = 0;
    ck_assert_int_eq(cq_book_vwap(b, ASK, CQ_BOOK_QTY_MAX, &p, &f), 0);
    ck_assert_int_eq(f, CQ_BOOK_QTY_MAX);
    ck_assert(p == 10.00);
    cq_book_destroy(b);
}
END_TEST

/* ---- conversions and events ------------------------------------------------ */

START_TEST(test_book_price_is_nearest_double_to_decimal)
{
    cq_book_t *b = NULL;
    ck_assert_int_eq(cq_book_create(&b, 0.01, 0.00000001), 0);
    ck_assert(cq_book_price(b, 12345678) == 123456.78);
    ck_assert(cq_book_price(b, 30) == 0.30); /* not 0.30000000000000004 */
    ck_assert(cq_book_price(b, -7) == -0.07);
    ck_assert(cq_book_size(b, 1) == 0.00000001);
    ck_assert(cq_book_size(b, 123456789) == 1.23456789);
    cq_book_destroy(b);
    ck_assert_int_eq(cq_book_create(&b, 0.5, 1), 0);
    ck_assert(cq_book_price(b, 3) == 1.5);
    ck_assert(cq_book_size(b, 42) == 42);
    cq_book_destroy(b);
    ck_assert_int_eq(cq_book_create(&b, 2.5, 100), 0);
    ck_assert(cq_book_price(b, 3) == 7.5);
    ck_assert(cq_book_size(b, 3) == 300);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_price_with_non_decimal_tick_size)
{
    cq_book_t *b = NULL;
    ck_assert_int_eq(cq_book_create(&b, 1.0 / 3, 1), 0);
    ck_assert_double_eq_tol(cq_book_price(b, 3), 1.0, 1e-15);
    ck_assert_double_eq_tol(cq_book_price(b, 300000), 100000.0, 1e-9);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_price_of_extreme_tick_is_finite)
{
    cq_book_t *b = new_book();
    double p = cq_book_price(b, CQ_BOOK_TICK_MAX);
    ck_assert(isfinite(p));
    ck_assert_double_eq_tol(p, 90071992547409.91, 1);
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_top_fills_book_event)
{
    cq_book_t *b = small_book();
    cq_book_event_t ev;
    memset(&ev, 0xAB, sizeof ev);
    ev.sequence = 42;
    ck_assert_int_eq(cq_book_top(b, &ev), 0);
    ck_assert(ev.bid_price == 1.00);
    ck_assert(ev.bid_qty == 0.0001);
    ck_assert(ev.ask_price == 1.01);
    ck_assert(ev.ask_qty == 0.00001);
    ck_assert_int_eq(ev.bid_levels, 3);
    ck_assert_int_eq(ev.ask_levels, 3);
    ck_assert_uint_eq(ev.sequence, 42); /* the caller's */
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_top_of_empty_side_is_zero)
{
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_set(b, ASK, 101, 5), 0);
    cq_book_event_t ev;
    memset(&ev, 0xAB, sizeof ev);
    ck_assert_int_eq(cq_book_top(b, &ev), 0);
    ck_assert(ev.bid_price == 0 && ev.bid_qty == 0);
    ck_assert_int_eq(ev.bid_levels, 0);
    ck_assert(ev.ask_price == 1.01);
    cq_book_destroy(b);
}
END_TEST

/* ---- memory --------------------------------------------------------------- */

START_TEST(test_book_steady_churn_does_not_allocate)
{
    cq_book_t *b = new_book();
    cq_rng_t r = {12345};
    /* warm up: churn near the top of a 2000-level book */
    for (int64_t i = 0; i < 2000; i++) {
        ck_assert_int_eq(cq_book_set(b, BID, 100000 - 1 - i, 1 + i), 0);
        ck_assert_int_eq(cq_book_set(b, ASK, 100000 + 1 + i, 1 + i), 0);
    }
    for (int pass = 0; pass < 2; pass++) {
        uint64_t grows = stats(b).grows;
        for (int i = 0; i < 200000; i++) {
            int32_t side = cq_rng_below(&r, 2) ? BID : ASK;
            int64_t d = 1 + cq_rng_below(&r, 60);
            int64_t tick = side == BID ? 100000 - d : 100000 + d;
            int64_t qty = cq_rng_below(&r, 3) ? 0 : 1 + cq_rng_below(&r, 100);
            ck_assert_int_eq(cq_book_set(b, side, tick, qty), 0);
        }
        if (pass == 1)
            ck_assert_uint_eq(stats(b).grows, grows);
    }
    cq_book_destroy(b);
}
END_TEST

START_TEST(test_book_reserve_prevents_growth)
{
    cq_book_t *b = new_book();
    ck_assert_int_eq(cq_book_reserve(b, 4000), 0);
    uint64_t grows = stats(b).grows;
    for (int64_t i = 0; i < 4000; i++) {
        ck_assert_int_eq(cq_book_set(b, BID, 2 * i, 1), 0);         /* always the new best */
        ck_assert_int_eq(cq_book_set(b, ASK, 1000000 - i * 3, 1), 0); /* same on asks */
    }
    ck_assert_uint_eq(stats(b).grows, grows);
    cq_book_destroy(b);
}
END_TEST

/* ---- randomized comparison with a naive reference -------------------------- */

/* Check's ck_assert_* record every passing assertion through a pipe (a
 * syscall each): in a loop of millions they cost more than the test. These
 * only call into Check on failure. */
#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);              \
    } while (0)
#define REQUIRE_EQ(x, y)                                                       \
    do {                                                                       \
        long long x_ = (long long)(x), y_ = (long long)(y);                    \
        if (x_ != y_)                                                          \
            ck_abort_msg("%s:%d: %s == %s: %lld != %lld", __FILE__, __LINE__, #x, #y, x_, \
                         y_);                                                  \
    } while (0)
#define REQUIRE_MSG(cond, ...)                                                 \
    do {                                                                       \
        if (!(cond))                                                           \
            ck_abort_msg(__VA_ARGS__);                                         \
    } while (0)

/* The reference: per side, levels in ascending tick order in a plain array,
 * found by a linear search. Nothing clever, so nothing shared with book.c. */
typedef struct ref_side {
    cq_book_entry_t *v;
    size_t n, cap;
} ref_side_t;

typedef struct ref_book {
    ref_side_t side[2]; /* [0] bids, [1] asks */
    uint64_t inserts, updates, deletes, missing;
} ref_book_t;

static ref_side_t *ref_of(ref_book_t *r, int32_t side)
{
    return &r->side[side == BID ? 0 : 1];
}

static void ref_set(ref_book_t *r, int32_t side, int64_t tick, int64_t qty)
{
    ref_side_t *s = ref_of(r, side);
    size_t i = 0;
    while (i < s->n && s->v[i].tick < tick)
        i++;
    if (i < s->n && s->v[i].tick == tick) {
        if (qty) {
            s->v[i].qty = qty;
            r->updates++;
        } else {
            memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof *s->v);
            s->n--;
            r->deletes++;
        }
        return;
    }
    if (!qty) {
        r->missing++;
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        REQUIRE(s->v);
    }
    memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof *s->v);
    s->v[i].tick = tick;
    s->v[i].qty = qty;
    s->n++;
    r->inserts++;
}

static int ref_best(ref_book_t *r, int32_t side, cq_book_entry_t *e)
{
    ref_side_t *s = ref_of(r, side);
    if (!s->n)
        return CQ_ENOENT;
    *e = side == BID ? s->v[s->n - 1] : s->v[0];
    return 0;
}

static int ref_state(ref_book_t *r)
{
    cq_book_entry_t b, a;
    if (ref_best(r, BID, &b) || ref_best(r, ASK, &a))
        return CQ_BOOK_OK;
    return b.tick > a.tick ? CQ_BOOK_CROSSED : b.tick == a.tick ? CQ_BOOK_LOCKED : CQ_BOOK_OK;
}

/* The i-th level from the best. */
static cq_book_entry_t ref_level(ref_book_t *r, int32_t side, size_t i)
{
    ref_side_t *s = ref_of(r, side);
    return side == BID ? s->v[s->n - 1 - i] : s->v[i];
}

static void compare_best(cq_book_t *b, ref_book_t *r, long op)
{
    for (int32_t side = BID; side <= ASK; side++) {
        cq_book_entry_t x = {0, 0}, y = {0, 0};
        int rx = cq_book_best(b, side, &x), ry = ref_best(r, side, &y);
        REQUIRE_MSG(rx == ry && x.tick == y.tick && x.qty == y.qty,
                      "op %ld side %d: best %d %lld/%lld, reference %d %lld/%lld", op, side, rx,
                      (long long)x.tick, (long long)x.qty, ry, (long long)y.tick, (long long)y.qty);
        REQUIRE_EQ(cq_book_levels(b, side), ref_of(r, side)->n);
    }
    REQUIRE_EQ(cq_book_state(b), ref_state(r));
}

static void compare_full(cq_book_t *b, ref_book_t *r, cq_book_entry_t *buf, size_t cap,
                         cq_rng_t *rng, long op)
{
    for (int32_t side = BID; side <= ASK; side++) {
        ref_side_t *s = ref_of(r, side);
        REQUIRE(s->n <= cap);
        size_t n = 0;
        REQUIRE_EQ(cq_book_depth(b, side, buf, cap, &n), 0);
        REQUIRE_EQ(n, s->n);
        for (size_t i = 0; i < n; i++) {
            cq_book_entry_t y = ref_level(r, side, i);
            REQUIRE_MSG(buf[i].tick == y.tick && buf[i].qty == y.qty,
                          "op %ld side %d level %zu: %lld/%lld, reference %lld/%lld", op, side,
                          i, (long long)buf[i].tick, (long long)buf[i].qty, (long long)y.tick,
                          (long long)y.qty);
        }
        /* a level picked at random is found by qty_at */
        if (n) {
            cq_book_entry_t y = ref_level(r, side, cq_rng_below(rng, (unsigned)n));
            int64_t q = 0;
            REQUIRE_EQ(cq_book_qty_at(b, side, y.tick, &q), 0);
            REQUIRE_EQ(q, y.qty);
        }
        /* vwap over a random quantity, walked plainly */
        int64_t want = 1 + (int64_t)cq_rng_below(rng, 5000), got = 0;
        double sum = 0, maxabs = 0, p = 0;
        int64_t f = 0;
        for (size_t i = 0; i < s->n && got < want; i++) {
            cq_book_entry_t y = ref_level(r, side, i);
            int64_t take = y.qty < want - got ? y.qty : want - got;
            double price = cq_book_price(b, y.tick);
            sum += (double)take * price;
            maxabs = fabs(price) > maxabs ? fabs(price) : maxabs;
            got += take;
        }
        int rc = cq_book_vwap(b, side, want, &p, &f);
        REQUIRE_EQ(rc, !s->n ? CQ_ENOENT : got == want ? 0 : CQ_ERANGE);
        REQUIRE_EQ(f, got);
        if (got)
            REQUIRE(fabs(p - sum / (double)got) <= 1e-12 * (maxabs + 1));
    }
    cq_book_stats_t st;
    REQUIRE_EQ(cq_book_stats(b, &st), 0);
    REQUIRE_EQ(st.inserts, r->inserts);
    REQUIRE_EQ(st.updates, r->updates);
    REQUIRE_EQ(st.deletes, r->deletes);
    REQUIRE_EQ(st.missing_deletes, r->missing);
}

static int64_t rnd_qty(cq_rng_t *r)
{
    unsigned k = cq_rng_below(r, 1000);
    if (k == 0)
        return CQ_BOOK_QTY_MAX;
    return 1 + (int64_t)cq_rng_below(r, k < 900 ? 1000 : 100000000);
}

/* A tick near the mid on the side's own half, clustered at the top. */
static int64_t near_tick(cq_rng_t *r, int32_t side, int64_t mid)
{
    int64_t d = 1 + (int64_t)cq_rng_below(r, 1 + cq_rng_below(r, 300));
    return side == BID ? mid - d : mid + d;
}

/* Far from the mid, sometimes at the very end of the range, rarely on the
 * wrong side of it (which crosses the book until a delete removes it). */
static int64_t far_tick(cq_rng_t *r, int32_t side, int64_t mid)
{
    unsigned k = cq_rng_below(r, 20);
    int64_t sign = side == BID ? -1 : 1;
    if (k == 0)
        return sign * CQ_BOOK_TICK_MAX;
    if (k == 1)
        return -sign * CQ_BOOK_TICK_MAX;
    return mid + sign * (1000 + (int64_t)(cq_rng_next(r) % ((uint64_t)1 << 40)));
}

static int32_t rnd_side(cq_rng_t *r)
{
    return cq_rng_below(r, 2) ? BID : ASK;
}

/* A snapshot of up to 700 levels a side around the mid, in best-first,
 * ascending or shuffled order, with a zero-quantity entry now and then. */
static void random_snapshot(cq_book_t *b, ref_book_t *ref, cq_rng_t *r, int64_t mid,
                            cq_book_entry_t *bids, cq_book_entry_t *asks)
{
    size_t n[2] = {cq_rng_below(r, 700), cq_rng_below(r, 700)};
    cq_book_entry_t *arr[2] = {bids, asks};
    for (int s = 0; s < 2; s++) {
        int32_t side = s ? ASK : BID;
        int64_t t = mid;
        for (size_t i = 0; i < n[s]; i++) {
            t += (side == BID ? -1 : 1) * (1 + (int64_t)cq_rng_below(r, 3));
            arr[s][i].tick = t;
            arr[s][i].qty = cq_rng_below(r, 50) ? rnd_qty(r) : 0;
        }
        unsigned order = cq_rng_below(r, 3);
        if (order == 1) { /* ascending ticks */
            for (size_t i = 0, j = n[s] ? n[s] - 1 : 0; i < j; i++, j--) {
                cq_book_entry_t x = arr[s][i];
                arr[s][i] = arr[s][j];
                arr[s][j] = x;
            }
        } else if (order == 2 && n[s] > 1) {
            for (size_t i = n[s] - 1; i > 0; i--) {
                size_t j = cq_rng_below(r, (unsigned)(i + 1));
                cq_book_entry_t x = arr[s][i];
                arr[s][i] = arr[s][j];
                arr[s][j] = x;
            }
        }
    }
    ref->side[0].n = ref->side[1].n = 0;
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < n[s]; i++)
            if (arr[s][i].qty) {
                uint64_t ins = ref->inserts;
                ref_set(ref, s ? ASK : BID, arr[s][i].tick, arr[s][i].qty);
                ref->inserts = ins; /* a snapshot's levels are not inserts */
            }
    int rc = cq_book_snapshot(b, bids, n[0], asks, n[1]);
    REQUIRE_EQ(rc, ref_state(ref) == CQ_BOOK_OK ? 0 : CQ_ESTATE);
}

#ifdef CQ_SANITIZE
#define RANDOM_OPS 300000L
#else
#define RANDOM_OPS 1000000L
#endif

START_TEST(test_book_matches_reference_over_1m_random_operations)
{
    enum { CAP = 100000 };
    cq_book_t *b = NULL;
    REQUIRE_EQ(cq_book_create(&b, 0.01, 0.00000001), 0);
    ref_book_t ref;
    memset(&ref, 0, sizeof ref);
    cq_rng_t r = {0x9E3779B97F4A7C15ULL};
    cq_book_entry_t *buf = malloc(CAP * sizeof *buf);
    cq_book_entry_t *sb = malloc(700 * sizeof *sb), *sa = malloc(700 * sizeof *sa);
    cq_book_entry_t batch[2][32];
    REQUIRE(buf && sb && sa);
    int64_t mid = 10000000;
    long far_levels = 0;

    for (long op = 0; op < RANDOM_OPS; op++) {
        if (cq_rng_below(&r, 40) == 0)
            mid += (int64_t)cq_rng_below(&r, 7) - 3;
        unsigned k = cq_rng_below(&r, 100000);
        int32_t side = rnd_side(&r);
        if (k < 55000) { /* set a level near the top */
            int64_t t = near_tick(&r, side, mid), q = rnd_qty(&r);
            REQUIRE_EQ(cq_book_set(b, side, t, q), 0);
            ref_set(&ref, side, t, q);
        } else if (k < 80000) { /* delete an existing level, near the top or anywhere */
            ref_side_t *s = ref_of(&ref, side);
            if (s->n) {
                unsigned n = (unsigned)s->n, top = n < 30 ? n : 30;
                size_t i = cq_rng_below(&r, 2) ? cq_rng_below(&r, top) : cq_rng_below(&r, n);
                int64_t t = ref_level(&ref, side, i).tick;
                REQUIRE_EQ(cq_book_set(b, side, t, 0), 0);
                ref_set(&ref, side, t, 0);
            }
        } else if (k < 90000) { /* delete near the top, often missing */
            int64_t t = near_tick(&r, side, mid);
            REQUIRE_EQ(cq_book_set(b, side, t, 0), 0);
            ref_set(&ref, side, t, 0);
        } else if (k < 93000) { /* a far level */
            int64_t t = far_tick(&r, side, mid), q = rnd_qty(&r);
            REQUIRE_EQ(cq_book_set(b, side, t, q), 0);
            ref_set(&ref, side, t, q);
            far_levels++;
        } else if (k < 98000) { /* a batch, like one venue diff */
            size_t n[2] = {cq_rng_below(&r, 20), cq_rng_below(&r, 20)};
            for (int s = 0; s < 2; s++)
                for (size_t i = 0; i < n[s]; i++) {
                    batch[s][i].tick = near_tick(&r, s ? ASK : BID, mid);
                    batch[s][i].qty = cq_rng_below(&r, 3) ? rnd_qty(&r) : 0;
                }
            int rc = cq_book_apply(b, batch[0], n[0], batch[1], n[1]);
            for (int s = 0; s < 2; s++)
                for (size_t i = 0; i < n[s]; i++)
                    ref_set(&ref, s ? ASK : BID, batch[s][i].tick, batch[s][i].qty);
            REQUIRE_EQ(rc, ref_state(&ref) == CQ_BOOK_OK ? 0 : CQ_ESTATE);
        } else if (k < 99900) { /* bad input: refused, nothing changes */
            switch (cq_rng_below(&r, 4)) {
            case 0:
                REQUIRE_EQ(cq_book_set(b, side, mid, -1 - (int64_t)cq_rng_below(&r, 9)), CQ_EINVAL);
                break;
            case 1:
                REQUIRE_EQ(cq_book_set(b, side, CQ_BOOK_TICK_MAX + 1, 1), CQ_EINVAL);
                break;
            case 2:
                REQUIRE_EQ(cq_book_set(b, 7, mid, 1), CQ_EINVAL);
                break;
            default: {
                cq_book_entry_t e[2] = {{mid - 1, 5}, {-CQ_BOOK_TICK_MAX - 1, 5}};
                REQUIRE_EQ(cq_book_apply(b, e, 2, NULL, 0), CQ_EINVAL);
            }
            }
        } else if (k < 99995) {
            random_snapshot(b, &ref, &r, mid, sb, sa);
        } else {
            REQUIRE_EQ(cq_book_clear(b), 0);
            ref.side[0].n = ref.side[1].n = 0;
        }
        compare_best(b, &ref, op);
        if (op % 1000 == 999)
            compare_full(b, &ref, buf, CAP, &r, op);
    }
    ck_assert_int_gt(far_levels, 0);
    cq_book_stats_t st = stats(b);
    ck_assert_uint_gt(st.snapshots, 0);
    ck_assert_uint_gt(st.crossed, 0); /* the wrong-side far levels did cross it */
    free(ref.side[0].v);
    free(ref.side[1].v);
    free(buf);
    free(sb);
    free(sa);
    cq_book_destroy(b);
}
END_TEST


/* Venue diffs list each side in price order. cq_book_apply merges such runs
 * into their block in one pass (book.c, apply_side); the result and the
 * counters must be exactly those of setting the levels one by one. Books
 * from a single block (a top-20 feed) to many blocks; batches of 0-80
 * levels a side (more than a block), best first or the other way round,
 * mixing updates, inserts, deletes and missing deletes; now and then an
 * unordered batch or a repeated tick (the level-by-level path). */
START_TEST(test_book_price_ordered_batches_match_level_by_level)
{
    enum { CAP = 100000, MAXB = 80 };
    cq_book_t *b = NULL;
    REQUIRE_EQ(cq_book_create(&b, 0.01, 0.00000001), 0);
    ref_book_t ref;
    memset(&ref, 0, sizeof ref);
    cq_rng_t r = {0xD1B54A32D192ED03ULL};
    cq_book_entry_t *buf = malloc(CAP * sizeof *buf);
    cq_book_entry_t *sb = malloc(700 * sizeof *sb), *sa = malloc(700 * sizeof *sa);
    cq_book_entry_t batch[2][MAXB];
    REQUIRE(buf && sb && sa);
    int64_t mid = 10000000;
    long ops = RANDOM_OPS / 20;
    for (long op = 0; op < ops; op++) {
        if (op % 2000 == 0) { /* a new regime: a few levels or hundreds */
            random_snapshot(b, &ref, &r, mid, sb, sa);
            if (cq_rng_below(&r, 2)) { /* trim to a top-20 book */
                for (int s = 0; s < 2; s++) {
                    int32_t side = s ? ASK : BID;
                    while (ref_of(&ref, side)->n > 20) {
                        int64_t t = ref_level(&ref, side, ref_of(&ref, side)->n - 1).tick;
                        REQUIRE_EQ(cq_book_set(b, side, t, 0), 0);
                        ref_set(&ref, side, t, 0);
                    }
                }
            }
        }
        if (cq_rng_below(&r, 10) == 0)
            mid += (int64_t)cq_rng_below(&r, 7) - 3;
        unsigned span = 5 + cq_rng_below(&r, cq_rng_below(&r, 2) ? 40 : 400);
        size_t n[2];
        for (int s = 0; s < 2; s++) {
            int32_t side = s ? ASK : BID;
            n[s] = cq_rng_below(&r, cq_rng_below(&r, 4) ? 36 : MAXB);
            /* distinct ticks from the top down: existing levels (update or
             * delete) and gaps (insert or missing delete) */
            int64_t t = side == BID ? mid : mid + 1;
            for (size_t i = 0; i < n[s]; i++) {
                t += (side == BID ? -1 : 1) * (1 + (int64_t)cq_rng_below(&r, 1 + span / 10));
                batch[s][i].tick = t;
                batch[s][i].qty = cq_rng_below(&r, 3) ? rnd_qty(&r) : 0;
            }
            unsigned shape = cq_rng_below(&r, 20);
            if (shape < 4) { /* worst first */
                for (size_t i = 0, j = n[s] ? n[s] - 1 : 0; i < j; i++, j--) {
                    cq_book_entry_t x = batch[s][i];
                    batch[s][i] = batch[s][j];
                    batch[s][j] = x;
                }
            } else if (shape == 4 && n[s] > 2) { /* one swap: unordered */
                size_t i = cq_rng_below(&r, (unsigned)n[s] - 1);
                cq_book_entry_t x = batch[s][i];
                batch[s][i] = batch[s][i + 1];
                batch[s][i + 1] = x;
            } else if (shape == 5 && n[s] > 2) { /* a tick twice */
                batch[s][n[s] - 1].tick = batch[s][n[s] - 2].tick;
            }
        }
        int rc = cq_book_apply(b, batch[0], n[0], batch[1], n[1]);
        for (int s = 0; s < 2; s++)
            for (size_t i = 0; i < n[s]; i++)
                ref_set(&ref, s ? ASK : BID, batch[s][i].tick, batch[s][i].qty);
        REQUIRE_EQ(rc, ref_state(&ref) == CQ_BOOK_OK ? 0 : CQ_ESTATE);
        compare_best(b, &ref, op);
        if (op % 50 == 49)
            compare_full(b, &ref, buf, CAP, &r, op);
    }
    compare_full(b, &ref, buf, CAP, &r, ops);
    free(ref.side[0].v);
    free(ref.side[1].v);
    free(buf);
    free(sb);
    free(sa);
    cq_book_destroy(b);
}
END_TEST

/* ---- recorded Binance data -------------------------------------------------- */

/* "61685.99000000" at 2 decimals -> 6168599, exactly. Digits past the
 * precision must be zeros (they are, in this data). */
static int64_t fixed(const char *str, int decimals)
{
    int64_t v = 0;
    int frac = -1;
    for (const char *c = str; *c; c++) {
        if (*c == '.') {
            frac = 0;
            continue;
        }
        if (frac >= decimals) {
            REQUIRE_MSG(*c == '0', "%s has more than %d decimals", str, decimals);
            continue;
        }
        v = v * 10 + (*c - '0');
        if (frac >= 0)
            frac++;
    }
    for (frac = frac < 0 ? 0 : frac; frac < decimals; frac++)
        v *= 10;
    return v;
}

static size_t to_entries(const cJSON *arr, cq_book_entry_t *out, size_t cap, int pd, int qd)
{
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        REQUIRE(n < cap);
        out[n].tick = fixed(cJSON_GetArrayItem(it, 0)->valuestring, pd);
        out[n].qty = fixed(cJSON_GetArrayItem(it, 1)->valuestring, qd);
        n++;
    }
    return n;
}

typedef struct ticker {
    double u;
    int64_t bid, bid_qty, ask, ask_qty;
} ticker_t;

static int cmp_ticker(const void *a, const void *b)
{
    double x = ((const ticker_t *)a)->u, y = ((const ticker_t *)b)->u;
    return (x > y) - (x < y);
}

static const char *str_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    REQUIRE(cJSON_IsString(v));
    return v->valuestring;
}

/* Replay one recording: the REST snapshot, then every diff with
 * u > lastUpdateId in file order (the first one arrived before the
 * snapshot). After each diff, a bookTicker with the same final update id u
 * must show exactly the book's best bid and ask. Returns the number of
 * such checks. */
static long replay_recording(const char *file, int pd, int qd)
{
    gzFile f = gzopen(file, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", file);
    enum { LINE = 1 << 20, CAP = 8192 };
    char *line = malloc(LINE);
    cq_book_entry_t *bids = malloc(CAP * sizeof *bids), *asks = malloc(CAP * sizeof *asks);
    cJSON **diffs = malloc(8192 * sizeof *diffs);
    ticker_t *tk = malloc(65536 * sizeof *tk);
    REQUIRE(line && bids && asks && diffs && tk);
    size_t nd = 0, nt = 0;
    cJSON *snap = NULL;
    while (gzgets(f, line, LINE)) {
        char *js = strchr(line, ' ');
        if (!js)
            continue;
        cJSON *j = cJSON_Parse(js + 1);
        REQUIRE(j);
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
        const char *stream = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "stream"));
        if (cJSON_GetObjectItemCaseSensitive(j, "lastUpdateId")) {
            REQUIRE(!snap);
            snap = j;
        } else if (stream && strstr(stream, "@depth")) {
            REQUIRE(nd < 8192);
            diffs[nd++] = j;
        } else if (stream && strstr(stream, "@bookTicker")) {
            REQUIRE(nt < 65536);
            tk[nt].u = cJSON_GetObjectItemCaseSensitive(data, "u")->valuedouble;
            tk[nt].bid = fixed(str_of(data, "b"), pd);
            tk[nt].bid_qty = fixed(str_of(data, "B"), qd);
            tk[nt].ask = fixed(str_of(data, "a"), pd);
            tk[nt].ask_qty = fixed(str_of(data, "A"), qd);
            nt++;
            cJSON_Delete(j);
        } else {
            cJSON_Delete(j);
        }
    }
    gzclose(f);
    REQUIRE(snap);
    qsort(tk, nt, sizeof *tk, cmp_ticker);

    cq_book_t *b = new_book();
    size_t nb = to_entries(cJSON_GetObjectItemCaseSensitive(snap, "bids"), bids, CAP, pd, qd);
    size_t na = to_entries(cJSON_GetObjectItemCaseSensitive(snap, "asks"), asks, CAP, pd, qd);
    REQUIRE_EQ(cq_book_snapshot(b, bids, nb, asks, na), 0);
    double last = cJSON_GetObjectItemCaseSensitive(snap, "lastUpdateId")->valuedouble;
    long checks = 0, applied = 0;
    for (size_t i = 0; i < nd; i++) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(diffs[i], "data");
        double u = cJSON_GetObjectItemCaseSensitive(d, "u")->valuedouble;
        if (u <= last)
            continue;
        nb = to_entries(cJSON_GetObjectItemCaseSensitive(d, "b"), bids, CAP, pd, qd);
        na = to_entries(cJSON_GetObjectItemCaseSensitive(d, "a"), asks, CAP, pd, qd);
        REQUIRE_MSG(cq_book_apply(b, bids, nb, asks, na) == 0, "diff u=%.0f crossed the book", u);
        applied++;
        ticker_t key = {.u = u};
        const ticker_t *t = bsearch(&key, tk, nt, sizeof *tk, cmp_ticker);
        if (!t)
            continue;
        cq_book_entry_t bb, ba;
        REQUIRE_EQ(cq_book_best(b, BID, &bb), 0);
        REQUIRE_EQ(cq_book_best(b, ASK, &ba), 0);
        REQUIRE_MSG(bb.tick == t->bid && bb.qty == t->bid_qty && ba.tick == t->ask &&
                        ba.qty == t->ask_qty,
                    "u=%.0f: book %lld/%lld x %lld/%lld, bookTicker %lld/%lld x %lld/%lld", u,
                    (long long)bb.tick, (long long)bb.qty, (long long)ba.tick, (long long)ba.qty,
                    (long long)t->bid, (long long)t->bid_qty, (long long)t->ask,
                    (long long)t->ask_qty);
        checks++;
    }
    ck_assert_int_gt(applied, 3000);
    cq_book_stats_t st = stats(b);
    ck_assert_uint_eq(st.crossed + st.locked, 0);
    for (size_t i = 0; i < nd; i++)
        cJSON_Delete(diffs[i]);
    cJSON_Delete(snap);
    cq_book_destroy(b);
    free(line);
    free(bids);
    free(asks);
    free(diffs);
    free(tk);
    return checks;
}

START_TEST(test_book_recorded_btcusdt_diffs_agree_with_every_bookticker)
{
    const char *p =
        cq_test_data_path("binance_spot/market_stream/hftbacktest_spot_btcusdt_20240808.gz");
    if (!p) {
        cq_test_skip(__func__, "no recorded data folder");
        return;
    }
    ck_assert_int_eq(replay_recording(p, 2, 8), 564);
}
END_TEST

START_TEST(test_book_recorded_ethusdt_diffs_agree_with_every_bookticker)
{
    const char *p =
        cq_test_data_path("binance_spot/market_stream/hftbacktest_spot_ethusdt_20240808.gz");
    if (!p) {
        cq_test_skip(__func__, "no recorded data folder");
        return;
    }
    ck_assert_int_eq(replay_recording(p, 2, 8), 577);
}
END_TEST

static Suite *book_suite(void)
{
    Suite *s = suite_create("book");
    TCase *tc = tcase_create("unit");
    tcase_add_test(tc, test_book_create_rejects_bad_sizes);
    tcase_add_test(tc, test_book_destroy_null_is_harmless);
    tcase_add_test(tc, test_book_functions_reject_null_book);
    tcase_add_test(tc, test_book_functions_reject_null_out_params);
    tcase_add_test(tc, test_book_rejects_unknown_side);
    tcase_add_test(tc, test_book_set_rejects_negative_quantity);
    tcase_add_test(tc, test_book_set_rejects_quantity_above_max);
    tcase_add_test(tc, test_book_set_rejects_tick_out_of_range);
    tcase_add_test(tc, test_book_accepts_extreme_ticks_on_both_sides);
    tcase_add_test(tc, test_book_bad_input_leaves_book_and_counters_unchanged);
    tcase_add_test(tc, test_book_apply_with_one_bad_entry_applies_none);
    tcase_add_test(tc, test_book_apply_rejects_null_array_with_count);
    tcase_add_test(tc, test_book_reserve_rejects_absurd_size);
    tcase_add_test(tc, test_book_empty_book_has_no_best);
    tcase_add_test(tc, test_book_best_bid_is_highest_and_best_ask_lowest);
    tcase_add_test(tc, test_book_set_replaces_quantity_of_existing_level);
    tcase_add_test(tc, test_book_set_zero_deletes_level);
    tcase_add_test(tc, test_book_delete_missing_level_is_counted_noop);
    tcase_add_test(tc, test_book_delete_on_empty_book_is_counted_noop);
    tcase_add_test(tc, test_book_sides_are_independent);
    tcase_add_test(tc, test_book_levels_counts_each_side);
    tcase_add_test(tc, test_book_qty_at_reports_missing_level);
    tcase_add_test(tc, test_book_negative_ticks_order_correctly);
    tcase_add_test(tc, test_book_depth_copies_best_first);
    tcase_add_test(tc, test_book_depth_stops_at_max);
    tcase_add_test(tc, test_book_depth_of_empty_side_is_zero_levels);
    tcase_add_test(tc, test_book_depth_levels_gives_prices_and_sizes);
    tcase_add_test(tc, test_book_snapshot_replaces_every_level);
    tcase_add_test(tc, test_book_snapshot_accepts_any_order);
    tcase_add_test(tc, test_book_snapshot_skips_zero_quantities);
    tcase_add_test(tc, test_book_snapshot_rejects_duplicate_tick_and_keeps_book);
    tcase_add_test(tc, test_book_snapshot_rejects_bad_entry_and_keeps_book);
    tcase_add_test(tc, test_book_empty_snapshot_empties_book);
    tcase_add_test(tc, test_book_snapshot_of_5000_levels_then_updates);
    tcase_add_test(tc, test_book_apply_large_batch_matches_level_by_level);
    tcase_add_test(tc, test_book_clear_removes_every_level_and_book_is_reusable);
    tcase_add_test(tc, test_book_check_detects_crossed_book);
    tcase_add_test(tc, test_book_check_detects_locked_book);
    tcase_add_test(tc, test_book_check_passes_normal_book_and_counts_the_check);
    tcase_add_test(tc, test_book_check_passes_when_a_side_is_empty);
    tcase_add_test(tc, test_book_set_alone_does_not_count_crossing);
    tcase_add_test(tc, test_book_state_does_not_count);
    tcase_add_test(tc, test_book_apply_reports_crossed_batch_but_keeps_it);
    tcase_add_test(tc, test_book_apply_cross_inside_batch_is_not_reported);
    tcase_add_test(tc, test_book_snapshot_reports_locked_book);
    tcase_add_test(tc, test_book_mid_and_spread_need_both_sides);
    tcase_add_test(tc, test_book_mid_is_nearest_double_to_decimal);
    tcase_add_test(tc, test_book_spread_in_ticks_and_price);
    tcase_add_test(tc, test_book_spread_is_negative_when_crossed);
    tcase_add_test(tc, test_book_vwap_inside_best_level_is_best_price);
    tcase_add_test(tc, test_book_vwap_walks_the_bids);
    tcase_add_test(tc, test_book_vwap_walks_the_asks);
    tcase_add_test(tc, test_book_vwap_insufficient_depth_reports_available);
    tcase_add_test(tc, test_book_vwap_of_empty_side_is_enoent);
    tcase_add_test(tc, test_book_vwap_rejects_bad_quantity);
    tcase_add_test(tc, test_book_vwap_of_huge_quantities_does_not_overflow);
    tcase_add_test(tc, test_book_price_is_nearest_double_to_decimal);
    tcase_add_test(tc, test_book_price_with_non_decimal_tick_size);
    tcase_add_test(tc, test_book_price_of_extreme_tick_is_finite);
    tcase_add_test(tc, test_book_top_fills_book_event);
    tcase_add_test(tc, test_book_top_of_empty_side_is_zero);
    tcase_add_test(tc, test_book_steady_churn_does_not_allocate);
    tcase_add_test(tc, test_book_reserve_prevents_growth);
    suite_add_tcase(s, tc);
    TCase *rnd = tcase_create("randomized");
    tcase_set_timeout(rnd, 120);
    tcase_add_test(rnd, test_book_matches_reference_over_1m_random_operations);
    tcase_add_test(rnd, test_book_price_ordered_batches_match_level_by_level);
    suite_add_tcase(s, rnd);
    TCase *recd = tcase_create("recorded");
    tcase_set_timeout(recd, 120);
    tcase_add_test(recd, test_book_recorded_btcusdt_diffs_agree_with_every_bookticker);
    tcase_add_test(recd, test_book_recorded_ethusdt_diffs_agree_with_every_bookticker);
    suite_add_tcase(s, recd);
    return s;
}

int main(void)
{
    return cq_test_run(book_suite());
}
