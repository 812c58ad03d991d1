/*
 * test_cache.c - the cache: instruments, strategies, orders and their
 * indexes, positions, balances, latest market data, pointer stability, and
 * a randomized run against a reference model.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cquant/cache.h"
#include "cquant/error.h"
#include "support/cq_test.h"

/* ---- helpers ------------------------------------------------------------ */

static cq_cache_t *new_cache(uint32_t initial_orders)
{
    cq_cache_t *c = NULL;
    cq_cache_config_t cfg = {.initial_orders = initial_orders};
    ck_assert_int_eq(cq_cache_create(&c, &cfg), 0);
    ck_assert_ptr_nonnull(c);
    return c;
}

static cq_order_t mk_order(const char *cid, int32_t status)
{
    cq_order_t o;
    memset(&o, 0, sizeof o);
    snprintf(o.client_order_id, sizeof o.client_order_id, "%s", cid);
    o.status = status;
    o.side = CQ_SIDE_BUY;
    o.type = CQ_ORDER_LIMIT;
    o.price = 100.5;
    o.qty = 2;
    return o;
}

static cq_order_t *add(cq_cache_t *c, const char *cid, int32_t status)
{
    cq_order_t init = mk_order(cid, status), *o = NULL;
    ck_assert_int_eq(cq_cache_order_add(c, &init, &o), 0);
    ck_assert_ptr_nonnull(o);
    return o;
}

static uint32_t inst(cq_cache_t *c, const char *id)
{
    uint32_t h = 0;
    ck_assert_int_eq(cq_cache_instrument_intern(c, id, &h), 0);
    return h;
}

static uint32_t strat(cq_cache_t *c, const char *name)
{
    uint32_t h = 0;
    ck_assert_int_eq(cq_cache_strategy_intern(c, name, &h), 0);
    return h;
}

static long query(const cq_cache_t *c, int32_t set, uint32_t instrument, uint32_t strategy,
                  cq_order_t **out, size_t cap)
{
    cq_order_query_t q = {set, instrument, strategy};
    return cq_cache_orders(c, &q, out, cap);
}

/* ---- life cycle ------------------------------------------------------------ */

START_TEST(test_cache_create_null_out_is_einval)
{
    ck_assert_int_eq(cq_cache_create(NULL, NULL), CQ_EINVAL);
}
END_TEST

START_TEST(test_cache_create_with_null_config_works)
{
    cq_cache_t *c = NULL;
    ck_assert_int_eq(cq_cache_create(&c, NULL), 0);
    add(c, "a", CQ_OS_SUBMITTED);
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_ALL), 1);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_cache_create_rejects_absurd_initial_orders)
{
    cq_cache_t *c = (cq_cache_t *)&c;
    cq_cache_config_t cfg = {.initial_orders = UINT32_MAX};
    ck_assert_int_eq(cq_cache_create(&c, &cfg), CQ_EINVAL);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_cache_destroy_null_is_noop)
{
    cq_cache_destroy(NULL);
}
END_TEST

START_TEST(test_cache_null_cache_everywhere_is_error_or_null)
{
    cq_instrument_t spec = {0};
    cq_order_t o = mk_order("a", CQ_OS_SUBMITTED), *op = NULL;
    cq_order_query_t q = {0, 0, 0};
    cq_position_t *p = NULL;
    cq_balance_t *b = NULL;
    cq_quote_t qu = {0};
    cq_trade_t tr = {0};
    uint32_t h;
    snprintf(spec.id, sizeof spec.id, "A.B");
    ck_assert_int_eq(cq_cache_instrument_add(NULL, &spec, &h), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_instrument_intern(NULL, "A.B", &h), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_instrument_find(NULL, "A.B", &h), CQ_EINVAL);
    ck_assert_ptr_null(cq_cache_instrument(NULL, 1));
    ck_assert_ptr_null(cq_cache_instrument_name(NULL, 1));
    ck_assert_uint_eq(cq_cache_instrument_count(NULL), 0);
    ck_assert_int_eq(cq_cache_strategy_intern(NULL, "s", &h), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_strategy_find(NULL, "s", &h), CQ_EINVAL);
    ck_assert_ptr_null(cq_cache_strategy_name(NULL, 1));
    ck_assert_int_eq(cq_cache_order_add(NULL, &o, &op), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_order_set_status(NULL, &o, CQ_OS_ACCEPTED), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_order_set_venue_id(NULL, &o, "v"), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_order_remove(NULL, &o), CQ_EINVAL);
    ck_assert_ptr_null(cq_cache_order(NULL, "a"));
    ck_assert_ptr_null(cq_cache_order_by_venue_id(NULL, "v"));
    ck_assert_int_eq(cq_cache_orders(NULL, &q, NULL, 0), CQ_EINVAL);
    ck_assert_uint_eq(cq_cache_order_count(NULL, CQ_ORDERS_ALL), 0);
    ck_assert_ptr_null(cq_cache_position(NULL, 1, 0));
    ck_assert_int_eq(cq_cache_position_get(NULL, 1, 0, &p), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_positions(NULL, 0, NULL, 0), CQ_EINVAL);
    ck_assert_ptr_null(cq_cache_balance(NULL, "V", "A"));
    ck_assert_int_eq(cq_cache_balance_get(NULL, "V", "A", &b), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_balances(NULL, NULL, NULL, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_quote_set(NULL, &qu), CQ_EINVAL);
    ck_assert_ptr_null(cq_cache_quote(NULL, 1));
    ck_assert_int_eq(cq_cache_trade_set(NULL, &tr), CQ_EINVAL);
    ck_assert_ptr_null(cq_cache_trade(NULL, 1));
}
END_TEST

/* ---- instruments ------------------------------------------------------------ */

static cq_instrument_t mk_spec(const char *id)
{
    cq_instrument_t s;
    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "%s", id);
    snprintf(s.symbol, sizeof s.symbol, "BTCUSDT");
    snprintf(s.venue, sizeof s.venue, "BINANCE");
    s.tick_size = 0.01;
    s.step_size = 0.00001;
    s.price_precision = 2;
    s.size_precision = 5;
    s.tradable = 1;
    return s;
}

START_TEST(test_instrument_add_stores_copy_with_type_and_handle)
{
    cq_cache_t *c = new_cache(0);
    cq_instrument_t spec = mk_spec("BTCUSDT.BINANCE");
    spec.hdr.type = 99;
    uint32_t h = 0;
    ck_assert_int_eq(cq_cache_instrument_add(c, &spec, &h), 0);
    ck_assert_uint_eq(h, 1);
    const cq_instrument_t *got = cq_cache_instrument(c, h);
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_ne(got, &spec);
    ck_assert_int_eq(got->hdr.type, CQ_EV_INSTRUMENT);
    ck_assert_uint_eq(got->hdr.instrument, h);
    ck_assert_str_eq(got->id, "BTCUSDT.BINANCE");
    ck_assert_double_eq(got->tick_size, 0.01);
    ck_assert_int_eq(got->size_precision, 5);
    ck_assert_str_eq(cq_cache_instrument_name(c, h), "BTCUSDT.BINANCE");
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_instrument_add_same_id_replaces_spec_and_keeps_handle)
{
    cq_cache_t *c = new_cache(0);
    cq_instrument_t a = mk_spec("BTCUSDT.BINANCE"), b = mk_spec("BTCUSDT.BINANCE");
    b.tick_size = 0.1;
    uint32_t ha = 0, hb = 0;
    ck_assert_int_eq(cq_cache_instrument_add(c, &a, &ha), 0);
    const cq_instrument_t *p = cq_cache_instrument(c, ha);
    ck_assert_int_eq(cq_cache_instrument_add(c, &b, &hb), 0);
    ck_assert_uint_eq(ha, hb);
    ck_assert_ptr_eq(cq_cache_instrument(c, ha), p);
    ck_assert_double_eq(p->tick_size, 0.1);
    ck_assert_uint_eq(cq_cache_instrument_count(c), 1);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_instrument_interned_first_gets_spec_under_same_handle)
{
    cq_cache_t *c = new_cache(0);
    uint32_t h = inst(c, "ETHUSDT.BINANCE"), h2 = 0;
    ck_assert_ptr_null(cq_cache_instrument(c, h));
    ck_assert_str_eq(cq_cache_instrument_name(c, h), "ETHUSDT.BINANCE");
    cq_instrument_t spec = mk_spec("ETHUSDT.BINANCE");
    ck_assert_int_eq(cq_cache_instrument_add(c, &spec, &h2), 0);
    ck_assert_uint_eq(h, h2);
    ck_assert_ptr_nonnull(cq_cache_instrument(c, h));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_instrument_id_must_be_symbol_dot_venue)
{
    static const char *const bad[] = {"BTCUSDT", ".BINANCE", "BTCUSDT.", "A.B.C", ".", "..", "A..B"};
    cq_cache_t *c = new_cache(0);
    uint32_t h;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(cq_cache_instrument_intern(c, bad[i], &h) == CQ_EINVAL, "%s", bad[i]);
        cq_instrument_t spec = mk_spec(bad[i]);
        ck_assert_msg(cq_cache_instrument_add(c, &spec, &h) == CQ_EINVAL, "%s", bad[i]);
    }
    ck_assert_int_eq(cq_cache_instrument_intern(c, "", &h), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_instrument_intern(c, NULL, &h), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_instrument_add(c, NULL, &h), CQ_EINVAL);
    ck_assert_uint_eq(cq_cache_instrument_count(c), 0);
    ck_assert_int_eq(cq_cache_instrument_intern(c, "A.B", &h), 0);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_instrument_id_longer_than_field_is_etoolong)
{
    cq_cache_t *c = new_cache(0);
    char id[64];
    memset(id, 'X', sizeof id);
    id[10] = '.';
    id[48] = '\0'; /* 48 chars: one too many for cq_instrument_t.id */
    uint32_t h;
    ck_assert_int_eq(cq_cache_instrument_intern(c, id, &h), CQ_ETOOLONG);
    ck_assert_int_eq(cq_cache_instrument_find(c, id, &h), CQ_ETOOLONG);
    cq_instrument_t spec;
    memset(&spec, 'X', sizeof spec); /* id field without a NUL */
    ck_assert_int_eq(cq_cache_instrument_add(c, &spec, &h), CQ_ETOOLONG);
    id[47] = '\0';
    ck_assert_int_eq(cq_cache_instrument_intern(c, id, &h), 0);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_instrument_find_unknown_is_enoent)
{
    cq_cache_t *c = new_cache(0);
    uint32_t h = 0, f = 0;
    ck_assert_int_eq(cq_cache_instrument_find(c, "BTCUSDT.BINANCE", &f), CQ_ENOENT);
    h = inst(c, "BTCUSDT.BINANCE");
    ck_assert_int_eq(cq_cache_instrument_find(c, "BTCUSDT.BINANCE", &f), 0);
    ck_assert_uint_eq(f, h);
    ck_assert_int_eq(cq_cache_instrument_find(c, NULL, &f), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_instrument_find(c, "", &f), CQ_EINVAL);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_instrument_unknown_handle_gives_null)
{
    cq_cache_t *c = new_cache(0);
    uint32_t h = inst(c, "A.B");
    ck_assert_ptr_null(cq_cache_instrument(c, 0));
    ck_assert_ptr_null(cq_cache_instrument(c, h + 1));
    ck_assert_ptr_null(cq_cache_instrument(c, UINT32_MAX));
    ck_assert_ptr_null(cq_cache_instrument_name(c, 0));
    ck_assert_ptr_null(cq_cache_instrument_name(c, h + 1));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_instrument_spec_address_stable_while_more_are_added)
{
    cq_cache_t *c = new_cache(0);
    cq_instrument_t spec = mk_spec("FIRST.X");
    uint32_t h0;
    ck_assert_int_eq(cq_cache_instrument_add(c, &spec, &h0), 0);
    const cq_instrument_t *p = cq_cache_instrument(c, h0);
    for (int i = 0; i < 1000; i++) {
        char id[32];
        snprintf(id, sizeof id, "S%d.X", i);
        spec = mk_spec(id);
        ck_assert_int_eq(cq_cache_instrument_add(c, &spec, NULL), 0);
    }
    ck_assert_uint_eq(cq_cache_instrument_count(c), 1001);
    ck_assert_ptr_eq(cq_cache_instrument(c, h0), p);
    ck_assert_str_eq(p->id, "FIRST.X");
    cq_cache_destroy(c);
}
END_TEST

/* ---- strategies --------------------------------------------------------------- */

START_TEST(test_strategy_intern_is_idempotent_and_findable)
{
    cq_cache_t *c = new_cache(0);
    uint32_t a = strat(c, "maker"), b = strat(c, "taker"), f = 0;
    ck_assert_uint_ne(a, b);
    ck_assert_uint_eq(strat(c, "maker"), a);
    ck_assert_int_eq(cq_cache_strategy_find(c, "taker", &f), 0);
    ck_assert_uint_eq(f, b);
    ck_assert_str_eq(cq_cache_strategy_name(c, a), "maker");
    ck_assert_int_eq(cq_cache_strategy_find(c, "nobody", &f), CQ_ENOENT);
    ck_assert_ptr_null(cq_cache_strategy_name(c, 0));
    ck_assert_ptr_null(cq_cache_strategy_name(c, 99));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_strategy_bad_names_are_errors)
{
    cq_cache_t *c = new_cache(0);
    char longname[80];
    memset(longname, 's', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    uint32_t h;
    ck_assert_int_eq(cq_cache_strategy_intern(c, NULL, &h), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_strategy_intern(c, "", &h), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_strategy_intern(c, longname, &h), CQ_ETOOLONG);
    ck_assert_int_eq(cq_cache_strategy_find(c, NULL, &h), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_strategy_find(c, longname, &h), CQ_ETOOLONG);
    cq_cache_destroy(c);
}
END_TEST

/* ---- orders: add and lookup ------------------------------------------------------ */

START_TEST(test_order_add_indexes_by_client_id)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t init = mk_order("cq-1732425600-000001", CQ_OS_SUBMITTED), *o = NULL;
    init.hdr.type = 42;
    ck_assert_int_eq(cq_cache_order_add(c, &init, &o), 0);
    ck_assert_ptr_ne(o, &init);
    ck_assert_ptr_eq(cq_cache_order(c, "cq-1732425600-000001"), o);
    ck_assert_int_eq(o->hdr.type, CQ_EV_ORDER);
    ck_assert_str_eq(o->client_order_id, "cq-1732425600-000001");
    ck_assert_double_eq(o->price, 100.5);
    ck_assert_int_eq(o->status, CQ_OS_SUBMITTED);
    ck_assert_ptr_null(cq_cache_order(c, "cq-1732425600-000002"));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_add_copies_init)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t init = mk_order("a", CQ_OS_SUBMITTED), *o = NULL;
    ck_assert_int_eq(cq_cache_order_add(c, &init, &o), 0);
    init.qty = 99;
    snprintf(init.client_order_id, sizeof init.client_order_id, "b");
    ck_assert_double_eq(o->qty, 2);
    ck_assert_ptr_eq(cq_cache_order(c, "a"), o);
    ck_assert_ptr_null(cq_cache_order(c, "b"));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_add_with_null_out_still_adds)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t init = mk_order("a", CQ_OS_SUBMITTED);
    ck_assert_int_eq(cq_cache_order_add(c, &init, NULL), 0);
    ck_assert_ptr_nonnull(cq_cache_order(c, "a"));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_add_duplicate_client_id_is_eexist_and_changes_nothing)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t *first = add(c, "dup", CQ_OS_SUBMITTED), *o = (cq_order_t *)&o;
    cq_order_t init = mk_order("dup", CQ_OS_ACCEPTED);
    ck_assert_int_eq(cq_cache_order_add(c, &init, &o), CQ_EEXIST);
    ck_assert_ptr_null(o);
    ck_assert_ptr_eq(cq_cache_order(c, "dup"), first);
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_ALL), 1);
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_OPEN), 0);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_add_duplicate_venue_id_is_eexist)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t a = mk_order("a", CQ_OS_ACCEPTED), b = mk_order("b", CQ_OS_ACCEPTED), *oa;
    snprintf(a.venue_order_id, sizeof a.venue_order_id, "12345");
    snprintf(b.venue_order_id, sizeof b.venue_order_id, "12345");
    ck_assert_int_eq(cq_cache_order_add(c, &a, &oa), 0);
    ck_assert_int_eq(cq_cache_order_add(c, &b, NULL), CQ_EEXIST);
    ck_assert_ptr_null(cq_cache_order(c, "b"));
    ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, "12345"), oa);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_add_requires_client_id)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t init = mk_order("", CQ_OS_SUBMITTED);
    ck_assert_int_eq(cq_cache_order_add(c, &init, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_order_add(c, NULL, NULL), CQ_EINVAL);
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_ALL), 0);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_add_client_id_over_36_chars_is_etoolong)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t init = mk_order("", CQ_OS_SUBMITTED);
    memset(init.client_order_id, 'a', CQ_ORDER_ID_MAX + 1);
    ck_assert_int_eq(cq_cache_order_add(c, &init, NULL), CQ_ETOOLONG);
    init.client_order_id[CQ_ORDER_ID_MAX] = '\0';
    ck_assert_int_eq(cq_cache_order_add(c, &init, NULL), 0);
    ck_assert_ptr_nonnull(cq_cache_order(c, init.client_order_id));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_add_unterminated_ids_are_etoolong)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t init = mk_order("a", CQ_OS_SUBMITTED);
    memset(init.client_order_id, 'a', sizeof init.client_order_id);
    ck_assert_int_eq(cq_cache_order_add(c, &init, NULL), CQ_ETOOLONG);
    init = mk_order("a", CQ_OS_SUBMITTED);
    memset(init.venue_order_id, '7', sizeof init.venue_order_id);
    ck_assert_int_eq(cq_cache_order_add(c, &init, NULL), CQ_ETOOLONG);
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_ALL), 0);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_add_invalid_status_is_einval)
{
    static const int32_t bad[] = {0, -1, CQ_OS_COUNT_, 1000};
    cq_cache_t *c = new_cache(0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cq_order_t init = mk_order("a", bad[i]);
        ck_assert_int_eq(cq_cache_order_add(c, &init, NULL), CQ_EINVAL);
    }
    ck_assert_ptr_null(cq_cache_order(c, "a"));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_add_unknown_instrument_or_strategy_is_enoent)
{
    cq_cache_t *c = new_cache(0);
    uint32_t i = inst(c, "A.B"), s = strat(c, "s");
    cq_order_t init = mk_order("a", CQ_OS_SUBMITTED);
    init.hdr.instrument = i + 1;
    ck_assert_int_eq(cq_cache_order_add(c, &init, NULL), CQ_ENOENT);
    init.hdr.instrument = i;
    init.hdr.strategy = s + 1;
    ck_assert_int_eq(cq_cache_order_add(c, &init, NULL), CQ_ENOENT);
    init.hdr.strategy = s;
    ck_assert_int_eq(cq_cache_order_add(c, &init, NULL), 0);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_add_stores_ids_zero_padded)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t init = mk_order("", CQ_OS_SUBMITTED), *o;
    memset(init.client_order_id, 'Z', sizeof init.client_order_id);
    memcpy(init.client_order_id, "abc", 4);
    memset(init.venue_order_id, 'Y', sizeof init.venue_order_id);
    memcpy(init.venue_order_id, "v1", 3);
    ck_assert_int_eq(cq_cache_order_add(c, &init, &o), 0);
    for (size_t i = 3; i < sizeof o->client_order_id; i++)
        ck_assert_int_eq(o->client_order_id[i], 0);
    for (size_t i = 2; i < sizeof o->venue_order_id; i++)
        ck_assert_int_eq(o->venue_order_id[i], 0);
    ck_assert_ptr_eq(cq_cache_order(c, "abc"), o);
    ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, "v1"), o);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_lookup_bad_keys_return_null)
{
    cq_cache_t *c = new_cache(0);
    add(c, "a", CQ_OS_SUBMITTED);
    char big[100];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_ptr_null(cq_cache_order(c, NULL));
    ck_assert_ptr_null(cq_cache_order(c, ""));
    ck_assert_ptr_null(cq_cache_order(c, big));
    ck_assert_ptr_null(cq_cache_order_by_venue_id(c, NULL));
    ck_assert_ptr_null(cq_cache_order_by_venue_id(c, ""));
    ck_assert_ptr_null(cq_cache_order_by_venue_id(c, big));
    cq_cache_destroy(c);
}
END_TEST

/* Ids are matched in the table for up to 24 chars and past that against the
 * full key: ids that share a long prefix, or differ only in length, stay
 * distinct on both sides of that boundary. */
START_TEST(test_order_ids_sharing_long_prefixes_stay_distinct)
{
    static const char *const ids[] = {
        "a", "ab", "abc", "abcd", "abcdefg", "abcdefgh", "abcdefghi",
        "PPPPPPPPPPPPPPPPPPPPPPP",       /* 23 */
        "PPPPPPPPPPPPPPPPPPPPPPPP",      /* 24 */
        "PPPPPPPPPPPPPPPPPPPPPPPPP",     /* 25 */
        "PPPPPPPPPPPPPPPPPPPPPPPPQ",     /* 25, differs in the tail */
        "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP1", /* 32 */
        "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP2",
        "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP1", /* 36 */
        "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP2",
    };
    enum { N = sizeof ids / sizeof ids[0] };
    cq_cache_t *c = new_cache(0);
    cq_order_t *o[N];
    for (int i = 0; i < N; i++) {
        cq_order_t init = mk_order(ids[i], CQ_OS_ACCEPTED);
        snprintf(init.venue_order_id, sizeof init.venue_order_id, "%s", ids[i]);
        ck_assert_int_eq(cq_cache_order_add(c, &init, &o[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        ck_assert_ptr_eq(cq_cache_order(c, ids[i]), o[i]);
        ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, ids[i]), o[i]);
    }
    ck_assert_ptr_null(cq_cache_order(c, "PPPPPPPPPPPPPPPPPPPPPPPPR"));
    ck_assert_ptr_null(cq_cache_order(c, "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP3"));
    ck_assert_ptr_null(cq_cache_order(c, "PPPPPPPPPPPPPPPPPPPPPP"));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_index_unaffected_by_writes_into_handed_out_ids)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t *o = add(c, "real-id", CQ_OS_ACCEPTED);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, o, "555"), 0);
    snprintf(o->client_order_id, sizeof o->client_order_id, "forged");
    snprintf(o->venue_order_id, sizeof o->venue_order_id, "666");
    o->status = CQ_OS_FILLED;
    ck_assert_ptr_eq(cq_cache_order(c, "real-id"), o);
    ck_assert_ptr_null(cq_cache_order(c, "forged"));
    ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, "555"), o);
    ck_assert_ptr_null(cq_cache_order_by_venue_id(c, "666"));
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_OPEN), 1);
    ck_assert_int_eq(cq_cache_order_remove(c, o), 0);
    ck_assert_ptr_null(cq_cache_order(c, "real-id"));
    ck_assert_ptr_null(cq_cache_order_by_venue_id(c, "555"));
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_ALL), 0);
    cq_cache_destroy(c);
}
END_TEST

/* ---- orders: status and sets ------------------------------------------------------ */

static void assert_sets(const cq_cache_t *c, size_t open, size_t closed, size_t inflight)
{
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_OPEN), open);
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_CLOSED), closed);
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_INFLIGHT), inflight);
}

START_TEST(test_order_status_decides_sets)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t *o = add(c, "a", CQ_OS_INITIALIZED);
    assert_sets(c, 0, 0, 0);
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_ALL), 1);
    ck_assert_int_eq(cq_cache_order_set_status(c, o, CQ_OS_SUBMITTED), 0);
    assert_sets(c, 0, 0, 1);
    ck_assert_int_eq(cq_cache_order_set_status(c, o, CQ_OS_ACCEPTED), 0);
    assert_sets(c, 1, 0, 0);
    ck_assert_int_eq(cq_cache_order_set_status(c, o, CQ_OS_PENDING_CANCEL), 0);
    assert_sets(c, 1, 0, 1);
    ck_assert_int_eq(cq_cache_order_set_status(c, o, CQ_OS_PENDING_UPDATE), 0);
    assert_sets(c, 1, 0, 1);
    ck_assert_int_eq(cq_cache_order_set_status(c, o, CQ_OS_PARTIALLY_FILLED), 0);
    assert_sets(c, 1, 0, 0);
    ck_assert_int_eq(cq_cache_order_set_status(c, o, CQ_OS_CANCELED), 0);
    assert_sets(c, 0, 1, 0);
    ck_assert_int_eq(o->status, CQ_OS_CANCELED);
    /* The cache does not judge transitions: a late fill reopens nothing but
     * is recorded as told. */
    ck_assert_int_eq(cq_cache_order_set_status(c, o, CQ_OS_PARTIALLY_FILLED), 0);
    assert_sets(c, 1, 0, 0);
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_ALL), 1);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_add_places_order_in_sets_of_its_status)
{
    cq_cache_t *c = new_cache(0);
    add(c, "a", CQ_OS_PENDING_CANCEL);
    add(c, "b", CQ_OS_FILLED);
    add(c, "c", CQ_OS_SUBMITTED);
    assert_sets(c, 1, 1, 2);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_set_status_invalid_is_einval_and_changes_nothing)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t *o = add(c, "a", CQ_OS_ACCEPTED);
    ck_assert_int_eq(cq_cache_order_set_status(c, o, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_order_set_status(c, o, CQ_OS_COUNT_), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_order_set_status(c, NULL, CQ_OS_FILLED), CQ_EINVAL);
    ck_assert_int_eq(o->status, CQ_OS_ACCEPTED);
    assert_sets(c, 1, 0, 0);
    cq_cache_destroy(c);
}
END_TEST

/* ---- orders: venue ids ---------------------------------------------------------------- */

START_TEST(test_order_set_venue_id_adds_changes_and_removes)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t *o = add(c, "a", CQ_OS_SUBMITTED);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, o, "111"), 0);
    ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, "111"), o);
    ck_assert_str_eq(o->venue_order_id, "111");
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, o, "222"), 0);
    ck_assert_ptr_null(cq_cache_order_by_venue_id(c, "111"));
    ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, "222"), o);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, o, ""), 0);
    ck_assert_ptr_null(cq_cache_order_by_venue_id(c, "222"));
    ck_assert_str_eq(o->venue_order_id, "");
    ck_assert_ptr_eq(cq_cache_order(c, "a"), o);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_set_venue_id_taken_by_another_is_eexist)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t *a = add(c, "a", CQ_OS_ACCEPTED), *b = add(c, "b", CQ_OS_ACCEPTED);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, a, "111"), 0);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, b, "222"), 0);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, b, "111"), CQ_EEXIST);
    ck_assert_str_eq(b->venue_order_id, "222");
    ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, "222"), b);
    ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, "111"), a);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_set_venue_id_same_again_is_ok)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t *a = add(c, "a", CQ_OS_ACCEPTED);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, a, "111"), 0);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, a, "111"), 0);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, a, a->venue_order_id), 0);
    ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, "111"), a);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, a, ""), 0);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, a, ""), 0);
    ck_assert_ptr_null(cq_cache_order_by_venue_id(c, "111"));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_set_venue_id_bad_input_is_error)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t *a = add(c, "a", CQ_OS_ACCEPTED);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, a, "111"), 0);
    char big[41];
    memset(big, '9', 40);
    big[40] = '\0';
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, a, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, a, big), CQ_ETOOLONG);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, NULL, "1"), CQ_EINVAL);
    ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, "111"), a);
    big[39] = '\0'; /* 39 chars: the longest that fits */
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, a, big), 0);
    ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, big), a);
    cq_cache_destroy(c);
}
END_TEST

/* ---- orders: removal and foreign pointers ------------------------------------------------- */

START_TEST(test_order_remove_unindexes_everywhere)
{
    cq_cache_t *c = new_cache(0);
    uint32_t i = inst(c, "A.B"), s = strat(c, "s");
    cq_order_t init = mk_order("a", CQ_OS_PENDING_CANCEL), *o;
    init.hdr.instrument = i;
    init.hdr.strategy = s;
    snprintf(init.venue_order_id, sizeof init.venue_order_id, "v");
    ck_assert_int_eq(cq_cache_order_add(c, &init, &o), 0);
    ck_assert_int_eq(cq_cache_order_remove(c, o), 0);
    ck_assert_ptr_null(cq_cache_order(c, "a"));
    ck_assert_ptr_null(cq_cache_order_by_venue_id(c, "v"));
    assert_sets(c, 0, 0, 0);
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_ALL), 0);
    ck_assert_int_eq(query(c, CQ_ORDERS_ALL, i, 0, NULL, 0), 0);
    ck_assert_int_eq(query(c, CQ_ORDERS_ALL, 0, s, NULL, 0), 0);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_remove_twice_is_enoent)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t *o = add(c, "a", CQ_OS_FILLED);
    add(c, "b", CQ_OS_FILLED);
    ck_assert_int_eq(cq_cache_order_remove(c, o), 0);
    ck_assert_int_eq(cq_cache_order_remove(c, o), CQ_ENOENT);
    ck_assert_int_eq(cq_cache_order_set_status(c, o, CQ_OS_ACCEPTED), CQ_ENOENT);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, o, "x"), CQ_ENOENT);
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_ALL), 1);
    assert_sets(c, 0, 1, 0);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_pointer_not_from_pool_is_einval)
{
    cq_cache_t *c = new_cache(0), *other = new_cache(0);
    cq_order_t *o = add(c, "a", CQ_OS_ACCEPTED);
    cq_order_t *foreign = add(other, "a", CQ_OS_ACCEPTED);
    cq_order_t local = mk_order("a", CQ_OS_ACCEPTED);
    cq_order_t *inside = (cq_order_t *)((char *)o + 8);
    ck_assert_int_eq(cq_cache_order_remove(c, &local), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_order_remove(c, foreign), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_order_remove(c, inside), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_order_set_status(c, &local, CQ_OS_FILLED), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, foreign, "x"), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_order_remove(c, NULL), CQ_EINVAL);
    ck_assert_ptr_eq(cq_cache_order(c, "a"), o);
    ck_assert_ptr_eq(cq_cache_order(other, "a"), foreign);
    assert_sets(c, 1, 0, 0);
    cq_cache_destroy(other);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_order_removed_id_can_be_added_again)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t *o = add(c, "a", CQ_OS_FILLED);
    ck_assert_int_eq(cq_cache_order_set_venue_id(c, o, "v"), 0);
    ck_assert_int_eq(cq_cache_order_remove(c, o), 0);
    cq_order_t init = mk_order("a", CQ_OS_SUBMITTED), *again;
    snprintf(init.venue_order_id, sizeof init.venue_order_id, "v");
    ck_assert_int_eq(cq_cache_order_add(c, &init, &again), 0);
    ck_assert_ptr_eq(cq_cache_order(c, "a"), again);
    ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, "v"), again);
    ck_assert_int_eq(again->status, CQ_OS_SUBMITTED);
    assert_sets(c, 0, 0, 1);
    cq_cache_destroy(c);
}
END_TEST

/* ---- orders: queries -------------------------------------------------------------------- */

START_TEST(test_orders_query_returns_insertion_order_not_set_entry_order)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t *a = add(c, "a", CQ_OS_SUBMITTED), *b = add(c, "b", CQ_OS_SUBMITTED);
    cq_order_t *d = add(c, "d", CQ_OS_SUBMITTED);
    ck_assert_int_eq(cq_cache_order_set_status(c, d, CQ_OS_ACCEPTED), 0);
    ck_assert_int_eq(cq_cache_order_set_status(c, b, CQ_OS_ACCEPTED), 0);
    ck_assert_int_eq(cq_cache_order_set_status(c, a, CQ_OS_ACCEPTED), 0);
    cq_order_t *out[8];
    ck_assert_int_eq(query(c, CQ_ORDERS_OPEN, 0, 0, out, 8), 3);
    ck_assert_ptr_eq(out[0], a);
    ck_assert_ptr_eq(out[1], b);
    ck_assert_ptr_eq(out[2], d);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_orders_query_total_exceeds_cap_like_snprintf)
{
    cq_cache_t *c = new_cache(0);
    cq_order_t *o[6];
    for (int i = 0; i < 6; i++) {
        char id[32];
        snprintf(id, sizeof id, "o%d", i);
        o[i] = add(c, id, CQ_OS_SUBMITTED);
    }
    for (int i = 5; i >= 0; i--) /* enter the open set newest first */
        ck_assert_int_eq(cq_cache_order_set_status(c, o[i], CQ_OS_ACCEPTED), 0);
    cq_order_t *out[3] = {NULL, NULL, NULL};
    ck_assert_int_eq(query(c, CQ_ORDERS_ALL, 0, 0, out, 2), 6);
    ck_assert_ptr_eq(out[0], o[0]);
    ck_assert_ptr_eq(out[1], o[1]);
    ck_assert_ptr_null(out[2]);
    ck_assert_int_eq(query(c, CQ_ORDERS_OPEN, 0, 0, out, 3), 6);
    ck_assert_ptr_eq(out[0], o[0]);
    ck_assert_ptr_eq(out[1], o[1]);
    ck_assert_ptr_eq(out[2], o[2]);
    ck_assert_int_eq(query(c, CQ_ORDERS_OPEN, 0, 0, NULL, 0), 6);
    ck_assert_int_eq(query(c, CQ_ORDERS_CLOSED, 0, 0, NULL, 0), 0);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_orders_query_filters_by_instrument_and_strategy)
{
    cq_cache_t *c = new_cache(0);
    uint32_t i1 = inst(c, "A.X"), i2 = inst(c, "B.X"), s1 = strat(c, "s1"), s2 = strat(c, "s2");
    cq_order_t *o[8];
    for (int k = 0; k < 8; k++) {
        char id[32];
        snprintf(id, sizeof id, "o%d", k);
        cq_order_t init = mk_order(id, k % 4 == 3 ? CQ_OS_FILLED : CQ_OS_ACCEPTED);
        init.hdr.instrument = k % 2 ? i2 : i1;
        init.hdr.strategy = k < 4 ? s1 : s2;
        ck_assert_int_eq(cq_cache_order_add(c, &init, &o[k]), 0);
    }
    cq_order_t *out[8];
    ck_assert_int_eq(query(c, CQ_ORDERS_ALL, i2, 0, out, 8), 4);
    ck_assert_ptr_eq(out[0], o[1]);
    ck_assert_ptr_eq(out[3], o[7]);
    ck_assert_int_eq(query(c, CQ_ORDERS_ALL, 0, s2, out, 8), 4);
    ck_assert_ptr_eq(out[0], o[4]);
    ck_assert_int_eq(query(c, CQ_ORDERS_OPEN, i2, s1, out, 8), 1);
    ck_assert_ptr_eq(out[0], o[1]);
    ck_assert_int_eq(query(c, CQ_ORDERS_CLOSED, i2, 0, out, 8), 2);
    ck_assert_ptr_eq(out[0], o[3]);
    ck_assert_ptr_eq(out[1], o[7]);
    ck_assert_int_eq(query(c, CQ_ORDERS_INFLIGHT, i1, s1, out, 8), 0);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_orders_query_bad_input_is_error)
{
    cq_cache_t *c = new_cache(0);
    uint32_t i = inst(c, "A.X"), s = strat(c, "s");
    cq_order_t *out[2];
    ck_assert_int_eq(cq_cache_orders(c, NULL, out, 2), CQ_EINVAL);
    ck_assert_int_eq(query(c, -1, 0, 0, out, 2), CQ_EINVAL);
    ck_assert_int_eq(query(c, 4, 0, 0, out, 2), CQ_EINVAL);
    ck_assert_int_eq(query(c, CQ_ORDERS_ALL, 0, 0, NULL, 2), CQ_EINVAL);
    ck_assert_int_eq(query(c, CQ_ORDERS_ALL, i + 1, 0, out, 2), CQ_ENOENT);
    ck_assert_int_eq(query(c, CQ_ORDERS_ALL, 0, s + 1, out, 2), CQ_ENOENT);
    ck_assert_uint_eq(cq_cache_order_count(c, -1), 0);
    ck_assert_uint_eq(cq_cache_order_count(c, 4), 0);
    cq_cache_destroy(c);
}
END_TEST

/* ---- pool ---------------------------------------------------------------------------- */

START_TEST(test_order_addresses_stable_while_pool_grows)
{
    enum { N = 5000 }; /* ~5 chunks of 1024 from an initial 16 */
    cq_cache_t *c = new_cache(16);
    static cq_order_t *o[N];
    for (int i = 0; i < N; i++) {
        char id[40];
        snprintf(id, sizeof id, "cq-1732425600-%06d", i);
        cq_order_t init = mk_order(id, CQ_OS_ACCEPTED);
        init.qty = i;
        ck_assert_int_eq(cq_cache_order_add(c, &init, &o[i]), 0);
        if (i % 7 == 0) /* keep a few pointers in use through the growth */
            o[i]->filled_qty = i;
    }
    for (int i = 0; i < N; i++) {
        char id[40];
        snprintf(id, sizeof id, "cq-1732425600-%06d", i);
        ck_assert_ptr_eq(cq_cache_order(c, id), o[i]);
        ck_assert_double_eq(o[i]->qty, i);
        ck_assert_double_eq(o[i]->filled_qty, i % 7 == 0 ? i : 0);
    }
    cq_cache_destroy(c);
}
END_TEST

/* mallinfo2 counts glibc's heap: unchanged totals mean no allocation. */
START_TEST(test_order_add_after_warmup_does_not_allocate)
{
#if defined(CQ_SANITIZE)
    cq_test_skip("test_order_add_after_warmup_does_not_allocate", "mallinfo2 is meaningless under ASan");
#else
    enum { N = 3000 };
    cq_cache_t *c = new_cache(16);
    static cq_order_t *o[N];
    char id[40];
    for (int round = 0; round < 2; round++) {
        struct mallinfo2 before = mallinfo2();
        for (int i = 0; i < N; i++) {
            snprintf(id, sizeof id, "r%d-%d", round, i);
            cq_order_t init = mk_order(id, CQ_OS_ACCEPTED);
            snprintf(init.venue_order_id, sizeof init.venue_order_id, "%d", i);
            ck_assert_int_eq(cq_cache_order_add(c, &init, &o[i]), 0);
        }
        for (int i = 0; i < N; i++)
            ck_assert_int_eq(cq_cache_order_remove(c, o[i]), 0);
        struct mallinfo2 after = mallinfo2();
        if (round == 1) {
            ck_assert_uint_eq(after.uordblks, before.uordblks);
            ck_assert_uint_eq(after.hblkhd, before.hblkhd);
        } else {
            /* warm-up: the pool and tables did grow */
            ck_assert(after.uordblks + after.hblkhd > before.uordblks + before.hblkhd);
        }
    }
    cq_cache_destroy(c);
#endif
}
END_TEST

/* ---- positions ---------------------------------------------------------------------------- */

START_TEST(test_position_get_creates_flat_position_once)
{
    cq_cache_t *c = new_cache(0);
    uint32_t i = inst(c, "A.X"), s = strat(c, "s");
    ck_assert_ptr_null(cq_cache_position(c, i, s));
    cq_position_t *p = NULL, *p2 = NULL;
    ck_assert_int_eq(cq_cache_position_get(c, i, s, &p), 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->hdr.type, CQ_EV_POSITION);
    ck_assert_uint_eq(p->hdr.instrument, i);
    ck_assert_uint_eq(p->hdr.strategy, s);
    ck_assert_double_eq(p->qty, 0);
    ck_assert_int_eq(p->qty_steps, 0);
    p->qty = 3;
    ck_assert_int_eq(cq_cache_position_get(c, i, s, &p2), 0);
    ck_assert_ptr_eq(p2, p);
    ck_assert_double_eq(p2->qty, 3);
    ck_assert_ptr_eq(cq_cache_position(c, i, s), p);
    ck_assert_ptr_null(cq_cache_position(c, i, 0));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_position_bad_input_is_error)
{
    cq_cache_t *c = new_cache(0);
    uint32_t i = inst(c, "A.X"), s = strat(c, "s");
    cq_position_t *p = (cq_position_t *)&p;
    ck_assert_int_eq(cq_cache_position_get(c, 0, s, &p), CQ_EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(cq_cache_position_get(c, i + 1, s, &p), CQ_ENOENT);
    ck_assert_int_eq(cq_cache_position_get(c, i, s + 1, &p), CQ_ENOENT);
    ck_assert_int_eq(cq_cache_position_get(c, i, s, NULL), CQ_EINVAL);
    ck_assert_ptr_null(cq_cache_position(c, 0, 0));
    ck_assert_ptr_null(cq_cache_position(c, i + 1, s));
    ck_assert_int_eq(cq_cache_positions(c, s + 1, NULL, 0), CQ_ENOENT);
    ck_assert_int_eq(cq_cache_positions(c, 0, NULL, 1), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_positions(c, 0, NULL, 0), 0);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_position_addresses_stable_across_growth)
{
    enum { NI = 100, NS = 20 };
    cq_cache_t *c = new_cache(0);
    uint32_t ih[NI], sh[NS];
    static cq_position_t *p[NI][NS];
    for (int i = 0; i < NI; i++) {
        char id[32];
        snprintf(id, sizeof id, "I%d.X", i);
        ih[i] = inst(c, id);
    }
    for (int s = 0; s < NS; s++) {
        char name[32];
        snprintf(name, sizeof name, "s%d", s);
        sh[s] = strat(c, name);
    }
    for (int i = 0; i < NI; i++)
        for (int s = 0; s < NS; s++) {
            ck_assert_int_eq(cq_cache_position_get(c, ih[i], sh[s], &p[i][s]), 0);
            p[i][s]->qty_steps = i * 1000 + s;
        }
    for (int i = 0; i < NI; i++)
        for (int s = 0; s < NS; s++) {
            ck_assert_ptr_eq(cq_cache_position(c, ih[i], sh[s]), p[i][s]);
            ck_assert_int_eq(p[i][s]->qty_steps, i * 1000 + s);
        }
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_positions_listed_by_strategy_in_creation_order)
{
    cq_cache_t *c = new_cache(0);
    uint32_t a = inst(c, "A.X"), b = inst(c, "B.X"), s1 = strat(c, "s1"), s2 = strat(c, "s2");
    cq_position_t *p[5];
    ck_assert_int_eq(cq_cache_position_get(c, b, s1, &p[0]), 0);
    ck_assert_int_eq(cq_cache_position_get(c, a, s2, &p[1]), 0);
    ck_assert_int_eq(cq_cache_position_get(c, a, s1, &p[2]), 0);
    ck_assert_int_eq(cq_cache_position_get(c, a, 0, &p[3]), 0);
    ck_assert_int_eq(cq_cache_position_get(c, b, s2, &p[4]), 0);
    cq_position_t *out[8];
    ck_assert_int_eq(cq_cache_positions(c, s1, out, 8), 2);
    ck_assert_ptr_eq(out[0], p[0]);
    ck_assert_ptr_eq(out[1], p[2]);
    ck_assert_int_eq(cq_cache_positions(c, s2, out, 1), 2);
    ck_assert_ptr_eq(out[0], p[1]);
    ck_assert_int_eq(cq_cache_positions(c, 0, out, 8), 5);
    for (int i = 0; i < 5; i++)
        ck_assert_ptr_eq(out[i], p[i]);
    ck_assert_int_eq(cq_cache_positions(c, 0, NULL, 0), 5);
    cq_cache_destroy(c);
}
END_TEST

/* ---- balances ---------------------------------------------------------------------------- */

START_TEST(test_balance_get_creates_once_with_names)
{
    cq_cache_t *c = new_cache(0);
    ck_assert_ptr_null(cq_cache_balance(c, "BINANCE", "USDT"));
    cq_balance_t *b = NULL, *b2 = NULL;
    ck_assert_int_eq(cq_cache_balance_get(c, "BINANCE", "USDT", &b), 0);
    ck_assert_int_eq(b->hdr.type, CQ_EV_BALANCE);
    ck_assert_str_eq(b->venue, "BINANCE");
    ck_assert_str_eq(b->asset, "USDT");
    ck_assert_double_eq(b->total, 0);
    b->total = 1000;
    ck_assert_int_eq(cq_cache_balance_get(c, "BINANCE", "USDT", &b2), 0);
    ck_assert_ptr_eq(b2, b);
    ck_assert_ptr_eq(cq_cache_balance(c, "BINANCE", "USDT"), b);
    ck_assert_ptr_null(cq_cache_balance(c, "BINANCE", "BTC"));
    ck_assert_ptr_null(cq_cache_balance(c, "BINANC", "USDT"));
    ck_assert_ptr_null(cq_cache_balance(c, "BINANCEUSDT", ""));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_balance_bad_names_are_errors)
{
    cq_cache_t *c = new_cache(0);
    cq_balance_t *b = (cq_balance_t *)&b;
    ck_assert_int_eq(cq_cache_balance_get(c, NULL, "USDT", &b), CQ_EINVAL);
    ck_assert_ptr_null(b);
    ck_assert_int_eq(cq_cache_balance_get(c, "BINANCE", NULL, &b), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_balance_get(c, "", "USDT", &b), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_balance_get(c, "BINANCE", "", &b), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_balance_get(c, "0123456789ABCDEF", "USDT", &b), CQ_ETOOLONG);
    ck_assert_int_eq(cq_cache_balance_get(c, "BINANCE", "0123456789ABCDEF", &b), CQ_ETOOLONG);
    ck_assert_int_eq(cq_cache_balance_get(c, "BINANCE", "USDT", NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_balance_get(c, "0123456789ABCDE", "0123456789ABCDE", &b), 0);
    ck_assert_ptr_null(cq_cache_balance(c, NULL, "USDT"));
    ck_assert_ptr_null(cq_cache_balance(c, "0123456789ABCDEF", "USDT"));
    ck_assert_int_eq(cq_cache_balances(c, "", NULL, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_balances(c, "0123456789ABCDEF", NULL, 0), CQ_ETOOLONG);
    ck_assert_int_eq(cq_cache_balances(c, NULL, NULL, 1), CQ_EINVAL);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_balances_listed_by_venue_in_creation_order)
{
    cq_cache_t *c = new_cache(0);
    cq_balance_t *b[4], *out[8];
    ck_assert_int_eq(cq_cache_balance_get(c, "BINANCE", "USDT", &b[0]), 0);
    ck_assert_int_eq(cq_cache_balance_get(c, "SIM", "USDT", &b[1]), 0);
    ck_assert_int_eq(cq_cache_balance_get(c, "BINANCE", "BTC", &b[2]), 0);
    ck_assert_int_eq(cq_cache_balance_get(c, "BINANCEX", "BTC", &b[3]), 0);
    ck_assert_int_eq(cq_cache_balances(c, "BINANCE", out, 8), 2);
    ck_assert_ptr_eq(out[0], b[0]);
    ck_assert_ptr_eq(out[1], b[2]);
    ck_assert_int_eq(cq_cache_balances(c, "SIM", out, 8), 1);
    ck_assert_ptr_eq(out[0], b[1]);
    ck_assert_int_eq(cq_cache_balances(c, "NONE", out, 8), 0);
    ck_assert_int_eq(cq_cache_balances(c, NULL, out, 3), 4);
    ck_assert_ptr_eq(out[2], b[2]);
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_balance_addresses_stable_across_growth)
{
    enum { N = 500 };
    cq_cache_t *c = new_cache(0);
    static cq_balance_t *b[N];
    for (int i = 0; i < N; i++) {
        char asset[32];
        snprintf(asset, sizeof asset, "A%d", i);
        ck_assert_int_eq(cq_cache_balance_get(c, i % 2 ? "V1" : "V2", asset, &b[i]), 0);
        b[i]->free = i;
    }
    for (int i = 0; i < N; i++) {
        char asset[32];
        snprintf(asset, sizeof asset, "A%d", i);
        ck_assert_ptr_eq(cq_cache_balance(c, i % 2 ? "V1" : "V2", asset), b[i]);
        ck_assert_ptr_null(cq_cache_balance(c, i % 2 ? "V2" : "V1", asset));
        ck_assert_double_eq(b[i]->free, i);
    }
    ck_assert_int_eq(cq_cache_balances(c, "V1", NULL, 0), N / 2);
    cq_cache_destroy(c);
}
END_TEST

/* ---- latest market data ---------------------------------------------------------------------- */

START_TEST(test_quote_and_trade_keep_the_latest)
{
    cq_cache_t *c = new_cache(0);
    uint32_t i = inst(c, "A.X"), j = inst(c, "B.X");
    ck_assert_ptr_null(cq_cache_quote(c, i));
    ck_assert_ptr_null(cq_cache_trade(c, i));
    cq_quote_t q = {0};
    q.hdr.instrument = i;
    q.bid_price = 1;
    ck_assert_int_eq(cq_cache_quote_set(c, &q), 0);
    const cq_quote_t *got = cq_cache_quote(c, i);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(got->hdr.type, CQ_EV_QUOTE);
    q.bid_price = 2;
    ck_assert_int_eq(cq_cache_quote_set(c, &q), 0);
    ck_assert_ptr_eq(cq_cache_quote(c, i), got);
    ck_assert_double_eq(got->bid_price, 2);
    ck_assert_ptr_null(cq_cache_quote(c, j));
    cq_trade_t t = {0};
    t.hdr.instrument = j;
    t.price = 7;
    ck_assert_int_eq(cq_cache_trade_set(c, &t), 0);
    ck_assert_double_eq(cq_cache_trade(c, j)->price, 7);
    ck_assert_int_eq(cq_cache_trade(c, j)->hdr.type, CQ_EV_TRADE);
    ck_assert_ptr_null(cq_cache_trade(c, i));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_market_data_bad_input_is_error)
{
    cq_cache_t *c = new_cache(0);
    uint32_t i = inst(c, "A.X");
    cq_quote_t q = {0};
    cq_trade_t t = {0};
    ck_assert_int_eq(cq_cache_quote_set(c, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_quote_set(c, &q), CQ_EINVAL); /* instrument 0 */
    q.hdr.instrument = i + 1;
    ck_assert_int_eq(cq_cache_quote_set(c, &q), CQ_ENOENT);
    ck_assert_int_eq(cq_cache_trade_set(c, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_cache_trade_set(c, &t), CQ_EINVAL);
    t.hdr.instrument = UINT32_MAX;
    ck_assert_int_eq(cq_cache_trade_set(c, &t), CQ_ENOENT);
    ck_assert_ptr_null(cq_cache_quote(c, 0));
    ck_assert_ptr_null(cq_cache_quote(c, i + 1));
    ck_assert_ptr_null(cq_cache_trade(c, UINT32_MAX));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_quote_address_stable_while_instruments_are_added)
{
    cq_cache_t *c = new_cache(0);
    uint32_t i = inst(c, "A.X");
    cq_quote_t q = {0};
    q.hdr.instrument = i;
    q.ask_price = 5;
    ck_assert_int_eq(cq_cache_quote_set(c, &q), 0);
    const cq_quote_t *got = cq_cache_quote(c, i);
    for (int k = 0; k < 500; k++) {
        char id[32];
        snprintf(id, sizeof id, "I%d.X", k);
        inst(c, id);
    }
    ck_assert_ptr_eq(cq_cache_quote(c, i), got);
    ck_assert_double_eq(got->ask_price, 5);
    cq_cache_destroy(c);
}
END_TEST

/* ---- randomized test against a reference model ------------------------------------------------ */

/* Check's ck_assert records a mark point (a write to the parent process) on
 * every success: too slow for millions of checks, so the model checks test
 * plainly and only fail through Check. */
#define REQUIRE(cond, ...)              \
    do {                                \
        if (!(cond))                    \
            ck_abort_msg(__VA_ARGS__);  \
    } while (0)

enum { M_MAX = 800, M_REMOVED = 16, M_INST = 4, M_STRAT = 3, M_VIDS = 600 };

typedef struct {
    char cid[40];
    char vid[40];
    int32_t status;
    uint32_t inst, strat;
    cq_order_t *p;
} mo_t;

typedef struct {
    cq_cache_t *c;
    cq_rng_t rng;
    mo_t live[M_MAX];      /* in insertion order */
    int n;
    char removed[M_REMOVED][40]; /* ids recently removed (ring) */
    int nremoved;
    uint32_t next_id;
    uint32_t ih[M_INST + 1], sh[M_STRAT + 1]; /* [0] = none */
} model_t;

static int m_find_cid(const model_t *m, const char *cid)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->live[i].cid, cid) == 0)
            return i;
    return -1;
}

static int m_find_vid(const model_t *m, const char *vid)
{
    for (int i = 0; i < m->n; i++)
        if (m->live[i].vid[0] && strcmp(m->live[i].vid, vid) == 0)
            return i;
    return -1;
}

/* Ids of three shapes: short, the engine's 20 chars, and long ones that
 * share a 24-char prefix so that only their tails differ. */
static void m_new_cid(model_t *m, char *out)
{
    uint32_t k = m->next_id++;
    switch (cq_rng_below(&m->rng, 3)) {
    case 0: snprintf(out, 40, "x%u", k); break;
    case 1: snprintf(out, 40, "cq-1732425600-%06u", k); break;
    default: snprintf(out, 40, "strategy-alpha-0000000000%u", k); break;
    }
}

static void m_rand_vid(model_t *m, char *out)
{
    uint32_t v = cq_rng_below(&m->rng, M_VIDS);
    if (v % 2)
        snprintf(out, 40, "%u", v);
    else
        snprintf(out, 40, "venue-order-id-0000000000000%u", v);
}

static int32_t m_rand_status(model_t *m)
{
    return (int32_t)(1 + cq_rng_below(&m->rng, CQ_OS_COUNT_ - 1));
}

static void m_remember_removed(model_t *m, const char *cid)
{
    memmove(m->removed[m->nremoved % M_REMOVED], cid, 40);
    m->nremoved++;
}

static void m_insert(model_t *m)
{
    cq_order_t init;
    memset(&init, 0, sizeof init);
    unsigned r = cq_rng_below(&m->rng, 20);
    if (r == 0 && m->n > 0) /* a live id again */
        snprintf(init.client_order_id, 40, "%s", m->live[cq_rng_below(&m->rng, (unsigned)m->n)].cid);
    else if (r == 1 && m->nremoved > 0) /* a removed id comes back */
        snprintf(init.client_order_id, 40, "%s",
                 m->removed[cq_rng_below(&m->rng, m->nremoved < M_REMOVED ? (unsigned)m->nremoved : M_REMOVED)]);
    else
        m_new_cid(m, init.client_order_id);
    if (cq_rng_below(&m->rng, 3) == 0)
        m_rand_vid(m, init.venue_order_id);
    init.status = m_rand_status(m);
    uint32_t ii = cq_rng_below(&m->rng, M_INST + 1), si = cq_rng_below(&m->rng, M_STRAT + 1);
    init.hdr.instrument = m->ih[ii];
    init.hdr.strategy = m->sh[si];
    init.qty = m->next_id;

    int expect = 0;
    if (m_find_cid(m, init.client_order_id) >= 0 ||
        (init.venue_order_id[0] && m_find_vid(m, init.venue_order_id) >= 0))
        expect = CQ_EEXIST;
    cq_order_t *o = NULL;
    int rc = cq_cache_order_add(m->c, &init, &o);
    REQUIRE(rc == expect, "add %s: %d, expected %d", init.client_order_id, rc, expect);
    if (rc < 0)
        return;
    mo_t *e = &m->live[m->n++];
    snprintf(e->cid, 40, "%s", init.client_order_id);
    snprintf(e->vid, 40, "%s", init.venue_order_id);
    e->status = init.status;
    e->inst = init.hdr.instrument;
    e->strat = init.hdr.strategy;
    e->p = o;
}

static void m_set_status(model_t *m)
{
    mo_t *e = &m->live[cq_rng_below(&m->rng, (unsigned)m->n)];
    int32_t s = m_rand_status(m);
    REQUIRE(cq_cache_order_set_status(m->c, e->p, s) == 0, "set status of %s", e->cid);
    e->status = s;
}

static void m_set_vid(model_t *m)
{
    mo_t *e = &m->live[cq_rng_below(&m->rng, (unsigned)m->n)];
    char vid[40] = "";
    if (cq_rng_below(&m->rng, 4) != 0)
        m_rand_vid(m, vid);
    int other = vid[0] ? m_find_vid(m, vid) : -1;
    int expect = other >= 0 && &m->live[other] != e ? CQ_EEXIST : 0;
    int rc = cq_cache_order_set_venue_id(m->c, e->p, vid);
    REQUIRE(rc == expect, "set venue id %s on %s: %d, expected %d", vid, e->cid, rc, expect);
    if (rc == 0)
        snprintf(e->vid, 40, "%s", vid);
}

static void m_remove(model_t *m)
{
    int i = (int)cq_rng_below(&m->rng, (unsigned)m->n);
    REQUIRE(cq_cache_order_remove(m->c, m->live[i].p) == 0, "remove %s", m->live[i].cid);
    m_remember_removed(m, m->live[i].cid);
    memmove(&m->live[i], &m->live[i + 1], (size_t)(m->n - i - 1) * sizeof m->live[0]);
    m->n--;
}

static int m_in_set(const mo_t *e, int32_t set)
{
    switch (set) {
    case CQ_ORDERS_OPEN: return cq_order_status_is_open(e->status);
    case CQ_ORDERS_CLOSED: return cq_order_status_is_closed(e->status);
    case CQ_ORDERS_INFLIGHT: return cq_order_status_is_inflight(e->status);
    default: return 1;
    }
}

static void m_check_query(const model_t *m, int32_t set, uint32_t instrument, uint32_t strategy, size_t cap)
{
    static cq_order_t *out[M_MAX];
    long total = query(m->c, set, instrument, strategy, out, cap);
    size_t k = 0;
    for (int i = 0; i < m->n; i++) {
        const mo_t *e = &m->live[i];
        if (!m_in_set(e, set) || (instrument && e->inst != instrument) || (strategy && e->strat != strategy))
            continue;
        if (k < cap)
            REQUIRE(out[k] == e->p, "set %d inst %u strat %u: item %zu is not %s", set, instrument,
                    strategy, k, e->cid);
        k++;
    }
    REQUIRE(total == (long)k, "set %d inst %u strat %u: %ld orders, expected %zu", set, instrument,
            strategy, total, k);
}

static void m_check(model_t *m)
{
    size_t counts[4] = {0, 0, 0, 0};
    for (int i = 0; i < m->n; i++) {
        const mo_t *e = &m->live[i];
        REQUIRE(cq_cache_order(m->c, e->cid) == e->p, "lookup %s", e->cid);
        REQUIRE(e->p->status == e->status, "status of %s", e->cid);
        REQUIRE(strcmp(e->p->venue_order_id, e->vid) == 0, "venue id of %s", e->cid);
        if (e->vid[0])
            REQUIRE(cq_cache_order_by_venue_id(m->c, e->vid) == e->p, "lookup venue id %s", e->vid);
        for (int32_t s = 0; s < 4; s++)
            counts[s] += (size_t)m_in_set(e, s);
    }
    for (int32_t s = 0; s < 4; s++)
        REQUIRE(cq_cache_order_count(m->c, s) == counts[s], "count of set %d", s);
    int nr = m->nremoved < M_REMOVED ? m->nremoved : M_REMOVED;
    for (int i = 0; i < nr; i++) {
        /* Found only if it was added again since. */
        cq_order_t *o = cq_cache_order(m->c, m->removed[i]);
        int li = o ? m_find_cid(m, m->removed[i]) : -1;
        REQUIRE(!o || (li >= 0 && m->live[li].p == o), "removed %s still found", m->removed[i]);
    }
    char vid[40];
    m_rand_vid(m, vid);
    int vi = m_find_vid(m, vid);
    REQUIRE(cq_cache_order_by_venue_id(m->c, vid) == (vi >= 0 ? m->live[vi].p : NULL), "venue id %s", vid);

    for (int32_t s = 0; s < 4; s++)
        m_check_query(m, s, 0, 0, M_MAX);
    uint32_t ii = m->ih[1 + cq_rng_below(&m->rng, M_INST)], si = m->sh[1 + cq_rng_below(&m->rng, M_STRAT)];
    int32_t set = (int32_t)cq_rng_below(&m->rng, 4);
    m_check_query(m, set, ii, 0, M_MAX);
    m_check_query(m, set, 0, si, M_MAX);
    m_check_query(m, set, ii, si, M_MAX);
    m_check_query(m, set, 0, 0, cq_rng_below(&m->rng, 8)); /* the first few of a longer answer */
}

START_TEST(test_orders_random_ops_match_reference_model)
{
    enum { STEPS = 100000 };
    static model_t m;
    memset(&m, 0, sizeof m);
    m.c = new_cache(16); /* small: the tables grow during the run */
    m.rng.s = 0x5eed1234abcdull;
    for (int i = 1; i <= M_INST; i++) {
        char id[32];
        snprintf(id, sizeof id, "I%d.X", i);
        m.ih[i] = inst(m.c, id);
    }
    for (int i = 1; i <= M_STRAT; i++) {
        char name[32];
        snprintf(name, sizeof name, "s%d", i);
        m.sh[i] = strat(m.c, name);
    }
    for (int step = 0; step < STEPS; step++) {
        unsigned r = cq_rng_below(&m.rng, 100);
        /* Inserts outweigh removals until the live set nears M_MAX. */
        unsigned insert_pct = m.n < M_MAX / 2 ? 40 : m.n < M_MAX - 1 ? 25 : 0;
        if (m.n == 0 || r < insert_pct)
            m_insert(&m);
        else if (r < 60)
            m_set_status(&m);
        else if (r < 75)
            m_set_vid(&m);
        else
            m_remove(&m);
        m_check(&m);
    }
    cq_cache_destroy(m.c);
}
END_TEST

START_TEST(test_order_prefetch_is_a_hint_that_changes_nothing)
{
    cq_cache_t *c = new_cache(16);
    add(c, "known", CQ_OS_SUBMITTED);
    char longid[64];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    cq_cache_order_prefetch(NULL, "known");
    cq_cache_order_prefetch(c, NULL);
    cq_cache_order_prefetch(c, "");
    cq_cache_order_prefetch(c, longid);
    cq_cache_order_prefetch(c, "known");
    cq_cache_order_prefetch(c, "unknown");
    ck_assert_uint_eq(cq_cache_order_count(c, CQ_ORDERS_ALL), 1);
    ck_assert_ptr_null(cq_cache_order(c, "unknown"));
    ck_assert_ptr_nonnull(cq_cache_order(c, "known"));
    cq_cache_destroy(c);
}
END_TEST

static Suite *cache_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("life");
    tcase_add_test(tc, test_cache_create_null_out_is_einval);
    tcase_add_test(tc, test_cache_create_with_null_config_works);
    tcase_add_test(tc, test_cache_create_rejects_absurd_initial_orders);
    tcase_add_test(tc, test_cache_destroy_null_is_noop);
    tcase_add_test(tc, test_cache_null_cache_everywhere_is_error_or_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("instruments");
    tcase_add_test(tc, test_instrument_add_stores_copy_with_type_and_handle);
    tcase_add_test(tc, test_instrument_add_same_id_replaces_spec_and_keeps_handle);
    tcase_add_test(tc, test_instrument_interned_first_gets_spec_under_same_handle);
    tcase_add_test(tc, test_instrument_id_must_be_symbol_dot_venue);
    tcase_add_test(tc, test_instrument_id_longer_than_field_is_etoolong);
    tcase_add_test(tc, test_instrument_find_unknown_is_enoent);
    tcase_add_test(tc, test_instrument_unknown_handle_gives_null);
    tcase_add_test(tc, test_instrument_spec_address_stable_while_more_are_added);
    tcase_add_test(tc, test_strategy_intern_is_idempotent_and_findable);
    tcase_add_test(tc, test_strategy_bad_names_are_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("orders");
    tcase_add_test(tc, test_order_add_indexes_by_client_id);
    tcase_add_test(tc, test_order_prefetch_is_a_hint_that_changes_nothing);
    tcase_add_test(tc, test_order_add_copies_init);
    tcase_add_test(tc, test_order_add_with_null_out_still_adds);
    tcase_add_test(tc, test_order_add_duplicate_client_id_is_eexist_and_changes_nothing);
    tcase_add_test(tc, test_order_add_duplicate_venue_id_is_eexist);
    tcase_add_test(tc, test_order_add_requires_client_id);
    tcase_add_test(tc, test_order_add_client_id_over_36_chars_is_etoolong);
    tcase_add_test(tc, test_order_add_unterminated_ids_are_etoolong);
    tcase_add_test(tc, test_order_add_invalid_status_is_einval);
    tcase_add_test(tc, test_order_add_unknown_instrument_or_strategy_is_enoent);
    tcase_add_test(tc, test_order_add_stores_ids_zero_padded);
    tcase_add_test(tc, test_order_lookup_bad_keys_return_null);
    tcase_add_test(tc, test_order_ids_sharing_long_prefixes_stay_distinct);
    tcase_add_test(tc, test_order_index_unaffected_by_writes_into_handed_out_ids);
    tcase_add_test(tc, test_order_status_decides_sets);
    tcase_add_test(tc, test_order_add_places_order_in_sets_of_its_status);
    tcase_add_test(tc, test_order_set_status_invalid_is_einval_and_changes_nothing);
    tcase_add_test(tc, test_order_set_venue_id_adds_changes_and_removes);
    tcase_add_test(tc, test_order_set_venue_id_taken_by_another_is_eexist);
    tcase_add_test(tc, test_order_set_venue_id_same_again_is_ok);
    tcase_add_test(tc, test_order_set_venue_id_bad_input_is_error);
    tcase_add_test(tc, test_order_remove_unindexes_everywhere);
    tcase_add_test(tc, test_order_remove_twice_is_enoent);
    tcase_add_test(tc, test_order_pointer_not_from_pool_is_einval);
    tcase_add_test(tc, test_order_removed_id_can_be_added_again);
    tcase_add_test(tc, test_orders_query_returns_insertion_order_not_set_entry_order);
    tcase_add_test(tc, test_orders_query_total_exceeds_cap_like_snprintf);
    tcase_add_test(tc, test_orders_query_filters_by_instrument_and_strategy);
    tcase_add_test(tc, test_orders_query_bad_input_is_error);
    tcase_add_test(tc, test_order_addresses_stable_while_pool_grows);
    tcase_add_test(tc, test_order_add_after_warmup_does_not_allocate);
    suite_add_tcase(s, tc);

    tc = tcase_create("positions_balances_market");
    tcase_add_test(tc, test_position_get_creates_flat_position_once);
    tcase_add_test(tc, test_position_bad_input_is_error);
    tcase_add_test(tc, test_position_addresses_stable_across_growth);
    tcase_add_test(tc, test_positions_listed_by_strategy_in_creation_order);
    tcase_add_test(tc, test_balance_get_creates_once_with_names);
    tcase_add_test(tc, test_balance_bad_names_are_errors);
    tcase_add_test(tc, test_balances_listed_by_venue_in_creation_order);
    tcase_add_test(tc, test_balance_addresses_stable_across_growth);
    tcase_add_test(tc, test_quote_and_trade_keep_the_latest);
    tcase_add_test(tc, test_market_data_bad_input_is_error);
    tcase_add_test(tc, test_quote_address_stable_while_instruments_are_added);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_add_test(tc, test_orders_random_ops_match_reference_model);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cq_test_run(cache_suite());
}
