/*
 * test_lua_alloc.c - the delivery path into Lua: every event is read as
 * itself, nothing is allocated per event, and a nested publish does not
 * disturb the event of the handler that made it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/error.h"
#include "support/cq_test.h"
#include "support/lua_fx.h"

#define REQUIRE(c)                                                                  \
    do {                                                                            \
        if (!(c))                                                                   \
            ck_abort_msg("%s:%d: requirement failed: %s", __FILE__, __LINE__, #c);  \
    } while (0)

#define NT 64

static const char *READER =
    "local S = {}\n"
    "local sum, n, buys = 0, 0, 0\n"
    "function S.on_start()\n"
    "  bus.subscribe('data.trades.BINANCE.BTCUSDT', function(t)\n"
    "    sum = sum + t.price * t.qty\n"
    "    n = n + 1\n"
    "    if t.aggressor == 1 then buys = buys + 1 end\n"
    "  end)\n"
    "end\n"
    "function result() return string.format('%.17g %d %d', sum, n, buys) end\n"
    "return S\n";

static void make_trades(lfx_t *f, cq_trade_t *t)
{
    for (int i = 0; i < NT; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].hdr.type = CQ_EV_TRADE;
        t[i].hdr.instrument = f->inst;
        t[i].price = 100 + i * 0.37;
        t[i].qty = 0.001 * (1 + i % 7);
        t[i].aggressor = 1 + (i % 3 == 0);
    }
}

START_TEST(test_lua_delivery_reads_every_event_as_itself)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = lfx_start(f, "A", "a.lua", READER, NULL);
    cq_trade_t t[NT];
    make_trades(f, t);
    cq_topic_t topic;
    ck_assert_int_eq(cq_bus_topic(f->bus, "data.trades.BINANCE.BTCUSDT", &topic), 0);
    double sum = 0;
    long buys = 0;
    const long N = 100000;
    for (long i = 0; i < N; i++) {
        const cq_trade_t *e = &t[(i * 7) % NT];
        REQUIRE(cq_bus_publish(f->bus, topic, e) == 1);
        sum = sum + e->price * e->qty;
        buys += e->aggressor == 1;
    }
    char want[128];
    snprintf(want, sizeof want, "%.17g %ld %ld", sum, N, buys);
    ck_assert_str_eq(lfx_eval(f, id, "result()"), want);
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_delivery_allocates_nothing_per_event)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = lfx_start(f, "A", "a.lua", READER, NULL);
    cq_trade_t t[NT];
    make_trades(f, t);
    cq_topic_t topic;
    ck_assert_int_eq(cq_bus_topic(f->bus, "data.trades.BINANCE.BTCUSDT", &topic), 0);
    for (int i = 0; i < 50000; i++) /* warm-up: the JIT compiles the handler */
        REQUIRE(cq_bus_publish(f->bus, topic, &t[i % NT]) == 1);
    /* the eval calls themselves allocate a little: measure them alone too */
    lfx_eval(f, id, "collectgarbage('collect') collectgarbage('stop')");
    double k0 = lfx_num(f, id, "collectgarbage('count')");
    double k1 = lfx_num(f, id, "collectgarbage('count')");
    for (int i = 0; i < 1000000; i++)
        REQUIRE(cq_bus_publish(f->bus, topic, &t[i % NT]) == 1);
    double k2 = lfx_num(f, id, "collectgarbage('count')");
    lfx_eval(f, id, "collectgarbage('restart')");
    double eval_cost = k1 - k0, growth = k2 - k1;
    ck_assert_msg(growth <= eval_cost + 1.0, "1M events grew the Lua heap by %.2f KB (an eval alone: %.2f KB)",
                  growth, eval_cost);
    ck_assert_uint_eq(lfx_info(f, id).errors, 0);
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_order_events_allocate_nothing_in_steady_state)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = lfx_start(f, "A", "a.lua",
                            "local S = {}\nlocal k = 0\n"
                            "function S.on_order(ev, o) if ev.status == 7 and o.qty > 0 then k = k + 1 end end\n"
                            "function S.on_fill(fl, o) k = k + fl.qty * 0 end\n"
                            "function kk() return k end\nreturn S\n",
                            NULL);
    /* order events as the engine publishes them, straight on the topic */
    cq_order_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.hdr.type = CQ_EV_ORDER_EVENT;
    ev.status = CQ_OS_FILLED;
    snprintf(ev.client_order_id, sizeof ev.client_order_id, "none");
    cq_topic_t topic;
    ck_assert_int_eq(cq_bus_topic(f->bus, "events.order.A", &topic), 0);
    for (int i = 0; i < 50000; i++)
        REQUIRE(cq_bus_publish(f->bus, topic, &ev) == 1);
    lfx_eval(f, id, "collectgarbage('collect') collectgarbage('stop')");
    double k0 = lfx_num(f, id, "collectgarbage('count')");
    double k1 = lfx_num(f, id, "collectgarbage('count')");
    for (int i = 0; i < 200000; i++)
        REQUIRE(cq_bus_publish(f->bus, topic, &ev) == 1);
    double k2 = lfx_num(f, id, "collectgarbage('count')");
    lfx_eval(f, id, "collectgarbage('restart')");
    ck_assert_msg(k2 - k1 <= (k1 - k0) + 1.0, "grew %.2f KB", k2 - k1);
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_nested_publish_leaves_the_outer_event_intact)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = lfx_start(f, "A", "a.lua",
                            "local S = {}\n"
                            "local other = require('ffi').new('cq_trade_t')\n"
                            "other.price = 7\n"
                            "function S.on_start()\n"
                            "  bus.subscribe('inner.t', function(t) inner = t.price end)\n"
                            "  bus.subscribe('data.trades.*', function(t)\n"
                            "    before = t.price\n"
                            "    bus.publish('inner.t', other)\n"
                            "    after = t.price\n"
                            "  end)\n"
                            "end\nreturn S\n",
                            NULL);
    lfx_trade(f, 101.5, 1, CQ_SIDE_BUY);
    ck_assert_str_eq(lfx_eval(f, id, "before, inner, after"), "101.5\t7\t101.5");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_publish_from_a_coroutine_runs_handlers)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = lfx_start(f, "A", "a.lua",
                            "local S = {}\nfunction S.on_start()\n"
                            "  bus.subscribe('co.x', function(m) got = m ; err = pcall(coroutine.yield) end)\n"
                            "end\nreturn S\n",
                            NULL);
    ck_assert_str_eq(lfx_eval(f, id, "local co = coroutine.wrap(function() return bus.publish('co.x', 5) end)"
                                     " return co(), got"),
                     "1\t5");
    ck_assert_uint_eq(lfx_info(f, id).errors, 0);
    lfx_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lua_alloc");
    TCase *tc = tcase_create("delivery");
    tcase_add_test(tc, test_lua_delivery_reads_every_event_as_itself);
    tcase_add_test(tc, test_lua_delivery_allocates_nothing_per_event);
    tcase_add_test(tc, test_lua_order_events_allocate_nothing_in_steady_state);
    tcase_add_test(tc, test_lua_nested_publish_leaves_the_outer_event_intact);
    tcase_add_test(tc, test_lua_publish_from_a_coroutine_runs_handlers);
    suite_add_tcase(s, tc);
    return cq_test_run(s);
}
