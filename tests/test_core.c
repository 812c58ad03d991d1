/*
 * test_core.c - error codes, interning, event names and status classes.
 */
#include <stdio.h>
#include <string.h>

#include "cquant/error.h"
#include "cquant/event.h"
#include "cquant/intern.h"
#include "cquant/log.h"
#include "cquant/time.h"
#include "support/cq_test.h"

START_TEST(test_strerror_names_every_code)
{
    for (int e = 0; e >= CQ_EBUSY; e--) {
        ck_assert_str_ne(cq_strerror(e), "unknown error");
        ck_assert_str_ne(cq_errname(e), "CQ_E?");
    }
    ck_assert_str_eq(cq_errname(CQ_ENOENT), "CQ_ENOENT");
    ck_assert_str_eq(cq_strerror(12345), "unknown error");
    ck_assert_str_eq(cq_errname(-999), "CQ_E?");
}
END_TEST

START_TEST(test_intern_same_name_same_handle)
{
    cq_intern_t *t;
    uint32_t a, b, c;
    ck_assert_int_eq(cq_intern_create(&t), 0);
    ck_assert_int_eq(cq_intern_get(t, "BTCUSDT.BINANCE", &a), 0);
    ck_assert_int_eq(cq_intern_get(t, "ETHUSDT.BINANCE", &b), 0);
    ck_assert_int_eq(cq_intern_get(t, "BTCUSDT.BINANCE", &c), 0);
    ck_assert_uint_eq(a, 1);
    ck_assert_uint_eq(b, 2);
    ck_assert_uint_eq(c, a);
    ck_assert_str_eq(cq_intern_name(t, a), "BTCUSDT.BINANCE");
    ck_assert_uint_eq(cq_intern_count(t), 2);
    cq_intern_destroy(t);
}
END_TEST

START_TEST(test_intern_find_does_not_add)
{
    cq_intern_t *t;
    uint32_t h = 77;
    ck_assert_int_eq(cq_intern_create(&t), 0);
    ck_assert_int_eq(cq_intern_find(t, "X.Y", &h), CQ_ENOENT);
    ck_assert_uint_eq(h, 77);
    ck_assert_uint_eq(cq_intern_count(t), 0);
    ck_assert_int_eq(cq_intern_get(t, "X.Y", NULL), 0);
    ck_assert_int_eq(cq_intern_find(t, "X.Y", &h), 0);
    ck_assert_uint_eq(h, 1);
    cq_intern_destroy(t);
}
END_TEST

START_TEST(test_intern_rejects_bad_names)
{
    cq_intern_t *t;
    uint32_t h;
    char longname[CQ_INTERN_MAX_LEN + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    ck_assert_int_eq(cq_intern_create(&t), 0);
    ck_assert_int_eq(cq_intern_get(t, NULL, &h), CQ_EINVAL);
    ck_assert_int_eq(cq_intern_get(t, "", &h), CQ_EINVAL);
    ck_assert_int_eq(cq_intern_get(t, longname, &h), CQ_ETOOLONG);
    ck_assert_int_eq(cq_intern_find(t, longname, &h), CQ_ETOOLONG);
    longname[CQ_INTERN_MAX_LEN] = 0; /* exactly the limit is fine */
    ck_assert_int_eq(cq_intern_get(t, longname, &h), 0);
    ck_assert_int_eq(cq_intern_get(NULL, "a", &h), CQ_EINVAL);
    ck_assert_ptr_null(cq_intern_name(t, 0));
    ck_assert_ptr_null(cq_intern_name(t, 99));
    ck_assert_ptr_null(cq_intern_name(NULL, 1));
    cq_intern_destroy(t);
    cq_intern_destroy(NULL);
}
END_TEST

START_TEST(test_intern_handles_stable_across_growth)
{
    cq_intern_t *t;
    char name[32];
    ck_assert_int_eq(cq_intern_create(&t), 0);
    for (uint32_t i = 0; i < 20000; i++) {
        uint32_t h;
        snprintf(name, sizeof name, "SYM%u.VENUE", i);
        ck_assert_int_eq(cq_intern_get(t, name, &h), 0);
        ck_assert_uint_eq(h, i + 1);
    }
    for (uint32_t i = 0; i < 20000; i++) {
        uint32_t h;
        snprintf(name, sizeof name, "SYM%u.VENUE", i);
        ck_assert_int_eq(cq_intern_find(t, name, &h), 0);
        ck_assert_uint_eq(h, i + 1);
        ck_assert_str_eq(cq_intern_name(t, h), name);
    }
    cq_intern_destroy(t);
}
END_TEST

START_TEST(test_event_names)
{
    ck_assert_str_eq(cq_side_name(CQ_SIDE_BUY), "BUY");
    ck_assert_str_eq(cq_side_name(CQ_SIDE_SELL), "SELL");
    ck_assert_str_eq(cq_side_name(7), "?");
    ck_assert_str_eq(cq_side_name(-1), "?");
    ck_assert_str_eq(cq_order_type_name(CQ_ORDER_LIMIT_MAKER), "LIMIT_MAKER");
    ck_assert_str_eq(cq_order_type_name(0), "?");
    ck_assert_str_eq(cq_tif_name(CQ_TIF_FOK), "FOK");
    ck_assert_str_eq(cq_order_status_name(CQ_OS_PARTIALLY_FILLED), "PARTIALLY_FILLED");
    ck_assert_str_eq(cq_order_status_name(CQ_OS_COUNT_), "?");
    ck_assert_str_eq(cq_event_type_name(CQ_EV_TRADE), "trade");
    ck_assert_str_eq(cq_event_type_name(CQ_EV_COUNT_), "?");
}
END_TEST

START_TEST(test_status_classes_partition_states)
{
    /* Every state is closed, or open, or neither (INITIALIZED, SUBMITTED);
     * never both. In-flight = SUBMITTED or a pending change. */
    for (int s = CQ_OS_INITIALIZED; s < CQ_OS_COUNT_; s++)
        ck_assert(!(cq_order_status_is_open(s) && cq_order_status_is_closed(s)));
    ck_assert(cq_order_status_is_inflight(CQ_OS_SUBMITTED));
    ck_assert(!cq_order_status_is_open(CQ_OS_SUBMITTED));
    ck_assert(cq_order_status_is_open(CQ_OS_PENDING_CANCEL));
    ck_assert(cq_order_status_is_inflight(CQ_OS_PENDING_CANCEL));
    ck_assert(cq_order_status_is_inflight(CQ_OS_PENDING_UPDATE));
    ck_assert(!cq_order_status_is_inflight(CQ_OS_ACCEPTED));
    ck_assert(cq_order_status_is_closed(CQ_OS_FILLED));
    ck_assert(cq_order_status_is_closed(CQ_OS_DENIED));
    ck_assert(!cq_order_status_is_closed(CQ_OS_INITIALIZED));
    ck_assert(!cq_order_status_is_open(CQ_OS_INITIALIZED));
    ck_assert(!cq_order_status_is_open(0) && !cq_order_status_is_closed(99));
}
END_TEST

START_TEST(test_event_header_first_and_packed)
{
    /* Lua reads the header through any event pointer: it must come first,
     * and every event size must be a multiple of 8 so arrays stay aligned. */
    ck_assert_uint_eq(offsetof(cq_quote_t, hdr), 0);
    ck_assert_uint_eq(offsetof(cq_trade_t, price), sizeof(cq_event_hdr_t));
    ck_assert_uint_eq(offsetof(cq_event_hdr_t, ts_event), 16);
    ck_assert_uint_eq(offsetof(cq_event_hdr_t, ts_init), 24);
    ck_assert_uint_eq(sizeof(cq_fill_t) % 8, 0);
    ck_assert_uint_eq(sizeof(cq_order_t) % 8, 0);
}
END_TEST

static int captured_level = -1;
static char captured[128];
static void capture(void *user, int level, const char *module, const char *msg)
{
    (void)user;
    captured_level = level;
    snprintf(captured, sizeof captured, "%s|%s", module, msg);
}

START_TEST(test_log_filters_by_level_and_routes_to_sink)
{
    cq_log_t log;
    cq_log_init(&log, CQ_LOG_INFO);
    log.sink = capture;
    cq_logf(&log, CQ_LOG_DEBUG, "core", "dropped %d", 1);
    ck_assert_int_eq(captured_level, -1);
    cq_logf(&log, CQ_LOG_WARN, "bus", "kept %d", 2);
    ck_assert_int_eq(captured_level, CQ_LOG_WARN);
    ck_assert_str_eq(captured, "bus|kept 2");
    ck_assert_str_eq(cq_log_level_name(CQ_LOG_ERROR), "ERROR");
    ck_assert_str_eq(cq_log_level_name(42), "?");
}
END_TEST

START_TEST(test_clocks_advance)
{
    cq_time_t w = cq_time_wall_ns(), m0 = cq_time_mono_ns(), m1 = cq_time_mono_ns();
    ck_assert(w > INT64_C(1700000000) * CQ_NS_PER_SEC); /* after 2023 */
    ck_assert(m1 >= m0);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_strerror_names_every_code);
    tcase_add_test(tc, test_intern_same_name_same_handle);
    tcase_add_test(tc, test_intern_find_does_not_add);
    tcase_add_test(tc, test_intern_rejects_bad_names);
    tcase_add_test(tc, test_intern_handles_stable_across_growth);
    tcase_add_test(tc, test_event_names);
    tcase_add_test(tc, test_status_classes_partition_states);
    tcase_add_test(tc, test_event_header_first_and_packed);
    tcase_add_test(tc, test_log_filters_by_level_and_routes_to_sink);
    tcase_add_test(tc, test_clocks_advance);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return cq_test_run(core_suite()); }
