/*
 * test_lua_reload.c - hot reload (cq_lua_reload): the new code handles the
 * next events, state goes through on_save / on_reload, nothing is doubled,
 * orders placed before a reload report to the new code, every failure
 * keeps the old version running, required modules reload with the
 * strategy (those calling ffi.cdef do not), timers are dropped.
 */
#include <stdio.h>
#include <string.h>

#include "cquant/error.h"
#include "support/cq_test.h"
#include "support/lua_fx.h"

#define HAS(s, sub) ck_assert_msg(strstr((s), (sub)) != NULL, "'%s' not in '%s'", (sub), (s))

/* The issue's example, with a version tag so the test can tell which code
 * handled an event. */
static const char *V1 =
    "local S = {}\n"
    "local n = 0\n"
    "function S.on_start()\n"
    "  bus.subscribe('data.trades.BINANCE.BTCUSDT', function(t)\n"
    "    n = n + 1\n"
    "    handled = (handled or '') .. 'v1 '\n"
    "    if t.price < params.buy_below then\n"
    "      exec.submit{ instrument = 'BTCUSDT.BINANCE', side = 'BUY',\n"
    "                   type = 'LIMIT', price = t.price, qty = 0.001 }\n"
    "    end\n"
    "  end)\n"
    "  timer.every(1000, function() log.info('v1 trades seen: %d', n) end)\n"
    "end\n"
    "function S.on_order(ev, o) orders = (orders or '') .. 'v1:' .. ev:status_name() .. ' ' end\n"
    "function S.on_fill(f) fills = (fills or '') .. 'v1 ' end\n"
    "function S.on_save() return { n = n } end\n"
    "function S.on_reload(state) n = state.n end\n"
    "function count() return n end\n"
    "return S\n";

static const char *V2 =
    "local S = {}\n"
    "local n = 0\n"
    "function S.on_start()\n"
    "  bus.subscribe('data.trades.BINANCE.BTCUSDT', function(t)\n"
    "    n = n + 1\n"
    "    handled = (handled or '') .. 'v2 '\n"
    "  end)\n"
    "  timer.every(1000, function() log.info('v2 trades seen: %d', n) end)\n"
    "end\n"
    "function S.on_order(ev, o) orders = (orders or '') .. 'v2:' .. ev:status_name() .. ' ' end\n"
    "function S.on_fill(f, o) fills = (fills or '') .. 'v2:' .. f:id() .. ' ' end\n"
    "function S.on_save() return { n = n } end\n"
    "function S.on_reload(state) n = state.n ; reloaded_with = state.n end\n"
    "function count() return n end\n"
    "return S\n";

static const char *params[] = {"buy_below=99.5", NULL};

static uint32_t start_v1(lfx_t *f)
{
    return lfx_start(f, "R", "r.lua", V1, params);
}

static void rewrite(lfx_t *f, const char *src)
{
    lfx_write(f, "r.lua", src);
}

static int reload(lfx_t *f, uint32_t id, char *err, size_t len)
{
    return cq_lua_reload(f->lua, id, err, len);
}

START_TEST(test_lua_reload_new_code_handles_the_next_events_with_the_saved_state)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = start_v1(f);
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    rewrite(f, V2);
    char err[512];
    ck_assert_int_eq(reload(f, id, err, sizeof err), 0);
    ck_assert_str_eq(err, "");
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    /* globals start fresh in the new version; the state came through on_reload */
    ck_assert_str_eq(lfx_eval(f, id, "handled, reloaded_with, count()"), "v2 \t2\t3");
    cq_lua_info_t in = lfx_info(f, id);
    ck_assert_uint_eq(in.version, 2);
    ck_assert_int_eq(in.state, CQ_STRAT_RUNNING);
    ck_assert_uint_eq(in.subscriptions, 1);
    ck_assert_uint_eq(in.timers, 1);
    ck_assert_uint_eq(cq_timers_count(f->timers), 1);
    lfx_advance(f, 1000 * LFX_MS);
    ck_assert(lfx_log_has(f, "INFO R: v2 trades seen: 3"));
    ck_assert(!lfx_log_has(f, "v1 trades seen"));
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_reload_does_not_double_subscriptions)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = start_v1(f);
    char err[512];
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(reload(f, id, err, sizeof err), 0);
    ck_assert_uint_eq(lfx_info(f, id).version, 6);
    ck_assert_uint_eq(lfx_info(f, id).subscriptions, 1);
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    ck_assert_str_eq(lfx_eval(f, id, "handled, count()"), "v1 \t1");
    /* one handler on the topic: this strategy's, plus the routing ones elsewhere */
    cq_topic_t t;
    ck_assert_int_eq(cq_bus_topic(f->bus, "data.trades.BINANCE.BTCUSDT", &t), 0);
    ck_assert_int_eq(cq_bus_handler_count(f->bus, t), 1);
    ck_assert_int_eq(cq_bus_topic(f->bus, "events.order.R", &t), 0);
    ck_assert_int_eq(cq_bus_handler_count(f->bus, t), 1);
    ck_assert_uint_eq(cq_timers_count(f->timers), 1);
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_reload_order_placed_before_reports_its_fill_to_the_new_code)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = start_v1(f);
    lfx_trade(f, 99.2, 0.01, CQ_SIDE_SELL); /* v1 places a buy at 99.2 */
    lfx_advance(f, LFX_MS);
    ck_assert_str_eq(lfx_eval(f, id, "orders"), "v1:SUBMITTED v1:ACCEPTED ");
    const char *oid = lfx_eval(f, id, "cache.orders{status='open'}[1]:id()");
    char want[128];
    snprintf(want, sizeof want, "v2:%s ", oid);
    rewrite(f, V2);
    char err[512];
    ck_assert_int_eq(reload(f, id, err, sizeof err), 0);
    /* a sell prints at 99.2: the resting buy (nothing ahead of it) fills */
    lfx_trade(f, 99.2, 1, CQ_SIDE_SELL);
    lfx_advance(f, LFX_MS);
    ck_assert_str_eq(lfx_eval(f, id, "fills"), want);
    ck_assert_str_eq(lfx_eval(f, id, "orders"), "v2:FILLED ");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_reload_syntax_error_keeps_the_old_version)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = start_v1(f);
    rewrite(f, "local S = {}\n\nfunction S.on_start(\nreturn S\n");
    char err[512];
    ck_assert_int_eq(reload(f, id, err, sizeof err), CQ_EPARSE);
    HAS(err, "r.lua:4:");
    cq_lua_info_t in = lfx_info(f, id);
    ck_assert_uint_eq(in.version, 1);
    ck_assert_uint_eq(in.reload_failures, 1);
    HAS(in.last_error, "r.lua:4:");
    ck_assert(lfx_log_has(f, "reload failed, the running version stays"));
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    ck_assert_str_eq(lfx_eval(f, id, "handled"), "v1 ");
    /* a file that vanished: CQ_EIO, old version stays */
    char path[512];
    snprintf(path, sizeof path, "%s/r.lua", f->dir);
    ck_assert_int_eq(remove(path), 0);
    ck_assert_int_eq(reload(f, id, err, sizeof err), CQ_EIO);
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    ck_assert_str_eq(lfx_eval(f, id, "handled"), "v1 v1 ");
    ck_assert_int_eq(reload(f, id, NULL, 0), CQ_EIO);
    lfx_free(f);
}
END_TEST

static void assert_v1_still_runs(lfx_t *f, uint32_t id, const char *handled_before)
{
    cq_lua_info_t in = lfx_info(f, id);
    ck_assert_uint_eq(in.version, 1);
    ck_assert_int_eq(in.state, CQ_STRAT_RUNNING);
    ck_assert_uint_eq(in.subscriptions, 1);
    ck_assert_uint_eq(in.timers, 1);
    ck_assert_uint_eq(cq_timers_count(f->timers), 1);
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    char want[64];
    snprintf(want, sizeof want, "%sv1 ", handled_before);
    ck_assert_str_eq(lfx_eval(f, id, "handled"), want);
    cq_topic_t t;
    ck_assert_int_eq(cq_bus_topic(f->bus, "data.trades.BINANCE.BTCUSDT", &t), 0);
    ck_assert_int_eq(cq_bus_handler_count(f->bus, t), 1);
}

START_TEST(test_lua_reload_error_in_new_on_reload_keeps_the_old_version)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = start_v1(f);
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    rewrite(f, "local S = {}\n"
               "bus.subscribe('data.trades.*', function() handled = (handled or '') .. 'v2top ' end)\n"
               "timer.every(5, function() end)\n"
               "function S.on_reload(state)\n  error('cannot restore ' .. state.n)\nend\nreturn S\n");
    char err[512];
    ck_assert_int_eq(reload(f, id, err, sizeof err), CQ_ESTATE);
    HAS(err, "r.lua:5: cannot restore 1");
    assert_v1_still_runs(f, id, "v1 ");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_reload_other_failures_keep_the_old_version)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = start_v1(f);
    char err[512];
    /* error in the new chunk */
    rewrite(f, "bus.subscribe('data.trades.*', print)\nerror('chunk fails')\n");
    ck_assert_int_eq(reload(f, id, err, sizeof err), CQ_ESTATE);
    HAS(err, "r.lua:2: chunk fails");
    /* not a table */
    rewrite(f, "return 'nope'\n");
    ck_assert_int_eq(reload(f, id, err, sizeof err), CQ_ESTATE);
    HAS(err, "must return the strategy table");
    /* error in the new on_start */
    rewrite(f, "local S = {}\nfunction S.on_start() bus.subscribe('data.*', print) error('no start') end\n"
               "return S\n");
    ck_assert_int_eq(reload(f, id, err, sizeof err), CQ_ESTATE);
    HAS(err, "no start");
    assert_v1_still_runs(f, id, "");
    ck_assert_uint_eq(lfx_info(f, id).reload_failures, 3);
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_reload_error_in_old_on_save_keeps_the_old_version)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = lfx_start(f, "R", "r.lua",
                            "local S = {}\nfunction S.on_start() bus.subscribe('data.trades.*', function()\n"
                            "  handled = (handled or '') .. 'v1 ' end) timer.every(1000, print) end\n"
                            "function S.on_save() error('save failed') end\nreturn S\n",
                            NULL);
    rewrite(f, V2);
    char err[512];
    ck_assert_int_eq(reload(f, id, err, sizeof err), CQ_ESTATE);
    HAS(err, "save failed");
    assert_v1_still_runs(f, id, "");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_reload_old_closures_raise_instead_of_acting)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = lfx_start(f, "R", "r.lua",
                            "local S = {}\nfunction S.on_save() return { sub = bus.subscribe } end\n"
                            "function S.on_reload(st) old_subscribe = st.sub end\nreturn S\n",
                            NULL);
    char err[512];
    ck_assert_int_eq(reload(f, id, err, sizeof err), 0);
    HAS(lfx_eval_err(f, id, "old_subscribe('x', print)"), "this version of strategy R was unloaded");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_reload_of_a_stopped_strategy_does_not_start_it)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = start_v1(f);
    ck_assert_int_eq(cq_lua_stop(f->lua, id), 0);
    rewrite(f, V2);
    ck_assert_int_eq(reload(f, id, NULL, 0), 0);
    cq_lua_info_t in = lfx_info(f, id);
    ck_assert_int_eq(in.state, CQ_STRAT_STOPPED);
    ck_assert_uint_eq(in.subscriptions, 0);
    ck_assert_int_eq(cq_lua_start(f->lua, id, NULL, 0), 0);
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    ck_assert_str_eq(lfx_eval(f, id, "handled"), "v2 ");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_reload_required_module_reloads_with_the_strategy)
{
    lfx_t *f = lfx_new(NULL);
    lfx_write(f, "lib/pricing.lua", "local M = {}\nfunction M.edge() return 1 end\nM.sees_params = params ~= nil\n"
                                    "return M\n");
    lfx_write(f, "ffimod.lua", "local ffi = require('ffi')\nffi.cdef[[typedef struct my_pt { double x, y; } my_pt_t;]]\n"
                               "loads = (loads or 0) + 1\nreturn { new = function() return ffi.new('my_pt_t') end,"
                               " loads = function() return loads end, has_bus = bus ~= nil }\n");
    const char *src = "local S = {}\nlocal p = require('lib.pricing')\nlocal m = require('ffimod')\n"
                      "function edge() return p.edge(), p.sees_params end\n"
                      "function ffi_loads() return m.loads(), m.has_bus, m.new().x end\n"
                      "return S\n";
    uint32_t id = lfx_start(f, "R", "r.lua", src, NULL);
    ck_assert_str_eq(lfx_eval(f, id, "edge()"), "1\ttrue");
    ck_assert_str_eq(lfx_eval(f, id, "ffi_loads()"), "1\tfalse\t0");
    size_t n;
    const char *const *files = cq_lua_files(f->lua, id, &n);
    ck_assert_uint_eq(n, 2); /* the strategy and lib/pricing.lua, not the ffi module */
    HAS(files[0], "/r.lua");
    HAS(files[1], "/lib/pricing.lua");
    ck_assert_ptr_null(files[2]);
    lfx_write(f, "lib/pricing.lua", "return { edge = function() return 2 end, sees_params = true }\n");
    lfx_write(f, "ffimod.lua", "error('an ffi.cdef module is never loaded twice')\n");
    char err[512];
    ck_assert_int_eq(reload(f, id, err, sizeof err), 0);
    ck_assert_str_eq(lfx_eval(f, id, "edge()"), "2\ttrue");
    ck_assert_str_eq(lfx_eval(f, id, "ffi_loads()"), "1\tfalse\t0");
    /* a module that fails to load fails the reload; the old version stays */
    lfx_write(f, "lib/pricing.lua", "return {\n");
    ck_assert_int_eq(reload(f, id, err, sizeof err), CQ_ESTATE);
    HAS(err, "pricing.lua:2:");
    ck_assert_str_eq(lfx_eval(f, id, "edge()"), "2\ttrue");
    /* two strategies requiring the same module each get their own copy */
    lfx_write(f, "lib/pricing.lua", "count = (count or 0) + 1\nreturn { edge = function() return count end }\n");
    uint32_t b = lfx_start(f, "B", "b.lua", src, NULL);
    ck_assert_str_eq(lfx_eval(f, b, "edge()"), "1\tnil");
    ck_assert_str_eq(lfx_eval(f, b, "count"), "1");
    ck_assert_str_eq(lfx_eval(f, id, "count"), "nil");
    /* cycles are reported, not followed */
    lfx_write(f, "cyc.lua", "require('cyc')\nreturn {}\n");
    HAS(lfx_eval_err(f, b, "require('cyc')"), "requires itself");
    /* other names go to the global require */
    ck_assert_str_eq(lfx_eval(f, b, "type(require('bit').band)"), "function");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_timers_fire_in_clock_order_and_are_dropped_on_reload)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = lfx_start(f, "R", "r.lua",
                            "local S = {}\nfired = {}\nfunction S.on_start()\n"
                            "  timer.after(30, function() fired[#fired+1] = 'c' end)\n"
                            "  timer.after(10, function() fired[#fired+1] = 'a' end)\n"
                            "  timer.after(20, function() fired[#fired+1] = 'b' end)\n"
                            "  timer.after(500, function() fired[#fired+1] = 'late' end)\n"
                            "end\nfunction S.on_save() return fired end\n"
                            "function S.on_reload(st) fired = st end\nreturn S\n",
                            NULL);
    lfx_advance(f, 40 * LFX_MS);
    ck_assert_str_eq(lfx_eval(f, id, "table.concat(fired, ' ')"), "a b c");
    ck_assert_uint_eq(lfx_info(f, id).timers, 1);
    rewrite(f, "local S = {}\nfunction S.on_reload(st) fired = st end\nreturn S\n");
    ck_assert_int_eq(reload(f, id, NULL, 0), 0);
    ck_assert_uint_eq(lfx_info(f, id).timers, 0);
    ck_assert_uint_eq(cq_timers_count(f->timers), 0);
    lfx_advance(f, 1000 * LFX_MS);
    ck_assert_str_eq(lfx_eval(f, id, "table.concat(fired, ' ')"), "a b c");
    lfx_free(f);
}
END_TEST

static int reload_result;
static cq_lua_t *reload_host;

static void reload_from_handler(void *user, cq_topic_t t, const void *msg)
{
    (void)t;
    (void)msg;
    reload_result = cq_lua_reload(reload_host, *(uint32_t *)user, NULL, 0);
}

START_TEST(test_lua_reload_from_inside_a_callback_is_refused)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = lfx_start(f, "R", "r.lua",
                            "local S = {}\nfunction S.on_start() bus.subscribe('data.trades.*', function()\n"
                            "  bus.publish('reload.now', 1) end) end\nreturn S\n",
                            NULL);
    reload_host = f->lua;
    ck_assert_int_eq(cq_bus_subscribe(f->bus, "reload.now", 0, reload_from_handler, &id, NULL), 0);
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    ck_assert_int_eq(reload_result, CQ_EBUSY);
    ck_assert_int_eq(reload(f, id, NULL, 0), 0);
    lfx_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lua_reload");
    TCase *tc = tcase_create("reload");
    tcase_add_test(tc, test_lua_reload_new_code_handles_the_next_events_with_the_saved_state);
    tcase_add_test(tc, test_lua_reload_does_not_double_subscriptions);
    tcase_add_test(tc, test_lua_reload_order_placed_before_reports_its_fill_to_the_new_code);
    tcase_add_test(tc, test_lua_reload_syntax_error_keeps_the_old_version);
    tcase_add_test(tc, test_lua_reload_error_in_new_on_reload_keeps_the_old_version);
    tcase_add_test(tc, test_lua_reload_other_failures_keep_the_old_version);
    tcase_add_test(tc, test_lua_reload_error_in_old_on_save_keeps_the_old_version);
    tcase_add_test(tc, test_lua_reload_old_closures_raise_instead_of_acting);
    tcase_add_test(tc, test_lua_reload_of_a_stopped_strategy_does_not_start_it);
    tcase_add_test(tc, test_lua_reload_required_module_reloads_with_the_strategy);
    tcase_add_test(tc, test_lua_timers_fire_in_clock_order_and_are_dropped_on_reload);
    tcase_add_test(tc, test_lua_reload_from_inside_a_callback_is_refused);
    suite_add_tcase(s, tc);
    return cq_test_run(s);
}
