/*
 * test_lua_host.c - the Lua strategy host (strategy.h): the issue's example
 * strategy, the life cycle, callbacks and routing, error isolation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cquant/error.h"
#include "support/cq_test.h"
#include "support/lua_fx.h"

#define REQUIRE(c)                                                                  \
    do {                                                                            \
        if (!(c))                                                                   \
            ck_abort_msg("%s:%d: requirement failed: %s", __FILE__, __LINE__, #c);  \
    } while (0)

static const char *EXAMPLE =
    "local S = {}\n"
    "local n = 0\n"
    "function S.on_start()\n"
    "  bus.subscribe(\"data.trades.BINANCE.BTCUSDT\", function(t)\n"
    "    n = n + 1\n"
    "    if t.price < params.buy_below then\n"
    "      exec.submit{ instrument = \"BTCUSDT.BINANCE\", side = \"BUY\",\n"
    "                   type = \"LIMIT\", price = t.price, qty = 0.001 }\n"
    "    end\n"
    "  end)\n"
    "  timer.every(1000, function() log.info(\"trades seen: %d\", n) end)\n"
    "end\n"
    "function S.on_order(o) end        -- every state change of this strategy's orders\n"
    "function S.on_fill(f) end\n"
    "function S.on_save() return { n = n } end\n"
    "function S.on_reload(state) n = state.n end\n"
    "return S\n";

START_TEST(test_lua_issue_example_trades_lead_to_orders_at_the_sim)
{
    lfx_t *f = lfx_new(NULL);
    const char *params[] = {"buy_below=99.5", NULL};
    lfx_start(f, "EX", "example.lua", EXAMPLE, params);
    lfx_trade(f, 99.9, 0.01, CQ_SIDE_SELL);
    lfx_trade(f, 99.2, 0.01, CQ_SIDE_SELL);
    lfx_trade(f, 99.3, 0.01, CQ_SIDE_SELL);
    lfx_advance(f, LFX_MS);
    size_t n = 0;
    const cq_order_t *orders = cq_sim_orders(f->sim, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert(orders[0].price == 99.2);
    ck_assert(orders[1].price == 99.3);
    ck_assert(orders[0].qty == 0.001);
    ck_assert_int_eq(orders[0].side, CQ_SIDE_BUY);
    lfx_advance(f, 1000 * LFX_MS);
    ck_assert(lfx_log_has(f, "INFO EX: trades seen: 3"));
    lfx_free(f);
}
END_TEST



START_TEST(test_lua_shipped_example_strategy_runs)
{
    lfx_t *f = lfx_new(NULL);
    const char *params[] = {"buy_below=99.5", NULL};
    uint32_t id = 0;
    char err[512];
    ck_assert_int_eq(cq_lua_load(f->lua, CQ_SOURCE_DIR "/strategies/example.lua", "EX", params, &id, err,
                                 sizeof err),
                     0);
    ck_assert_int_eq(cq_lua_start(f->lua, id, err, sizeof err), 0);
    lfx_trade(f, 99.2, 0.01, CQ_SIDE_SELL);
    lfx_advance(f, 1000 * LFX_MS);
    size_t n = 0;
    cq_sim_orders(f->sim, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert(lfx_log_has(f, "INFO EX: trades seen: 1"));
    ck_assert_int_eq(cq_lua_reload(f->lua, id, err, sizeof err), 0);
    lfx_free(f);
}
END_TEST

#define HAS(s, sub) ck_assert_msg(strstr((s), (sub)) != NULL, "'%s' not in '%s'", (sub), (s))

static const char *EMPTY = "local S = {}\nfunction S.on_start() end\nreturn S\n";

/* ---- loading ------------------------------------------------------------------------- */

START_TEST(test_lua_load_errors_name_the_file_and_line)
{
    lfx_t *f = lfx_new(NULL);
    char err[512];
    uint32_t id = 0;
    char missing[300];
    snprintf(missing, sizeof missing, "%s/missing.lua", f->dir);
    ck_assert_int_eq(cq_lua_load(f->lua, missing, "M", NULL, &id, err, sizeof err), CQ_EIO);
    HAS(err, "missing.lua");
    const char *p = lfx_write(f, "syntax.lua", "local S = {}\nfunction S.on_start(\nreturn S\n");
    ck_assert_int_eq(cq_lua_load(f->lua, p, "SY", NULL, &id, err, sizeof err), CQ_EPARSE);
    HAS(err, "syntax.lua:3:");
    p = lfx_write(f, "raise.lua", "local S = {}\n\nerror('boom at load')\nreturn S\n");
    ck_assert_int_eq(cq_lua_load(f->lua, p, "R", NULL, &id, err, sizeof err), CQ_ESTATE);
    HAS(err, "raise.lua:3: boom at load");
    ck_assert(strstr(err, "stack traceback") == NULL);
    ck_assert(lfx_log_has(f, "stack traceback"));
    p = lfx_write(f, "notable.lua", "return 42\n");
    ck_assert_int_eq(cq_lua_load(f->lua, p, "NT", NULL, &id, err, sizeof err), CQ_ESTATE);
    HAS(err, "must return the strategy table (got number)");
    p = lfx_write(f, "ok.lua", EMPTY);
    ck_assert_int_eq(cq_lua_load(f->lua, p, "bad name", NULL, &id, err, sizeof err), CQ_EINVAL);
    ck_assert_int_eq(cq_lua_load(f->lua, p, "", NULL, &id, err, sizeof err), CQ_EINVAL);
    ck_assert_int_eq(cq_lua_load(f->lua, p, "a.b", NULL, &id, err, sizeof err), CQ_EINVAL);
    const char *bad[] = {"novalue", NULL};
    ck_assert_int_eq(cq_lua_load(f->lua, p, "OK", bad, &id, err, sizeof err), CQ_EINVAL);
    HAS(err, "novalue");
    const char *bad2[] = {"=v", NULL};
    ck_assert_int_eq(cq_lua_load(f->lua, p, "OK", bad2, &id, err, sizeof err), CQ_EINVAL);
    ck_assert_int_eq(cq_lua_load(f->lua, p, "OK", NULL, &id, err, sizeof err), 0);
    ck_assert_int_eq(cq_lua_load(f->lua, p, "OK", NULL, &id, err, sizeof err), CQ_EEXIST);
    ck_assert_int_eq(cq_lua_load(NULL, p, "X", NULL, &id, err, sizeof err), CQ_EINVAL);
    ck_assert_int_eq(cq_lua_load(f->lua, NULL, "X", NULL, &id, err, sizeof err), CQ_EINVAL);
    /* the failed names are free again; the good one is LOADED */
    cq_lua_info_t in = lfx_info(f, id);
    ck_assert_int_eq(in.state, CQ_STRAT_LOADED);
    ck_assert_uint_eq(in.version, 1);
    ck_assert_int_eq(cq_lua_load(f->lua, p, "R", NULL, &id, err, sizeof err), 0);
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_create_refuses_a_missing_env_member)
{
    lfx_t *f = lfx_new(NULL);
    cq_lua_t *L = NULL;
    cq_lua_env_t env = {f->bus, f->cache, f->ex, f->timers, NULL, &f->clock, NULL};
    cq_lua_env_t bad = env;
    bad.clock = NULL;
    ck_assert_int_eq(cq_lua_create(&L, &bad, NULL), CQ_EINVAL);
    bad = env;
    bad.exec = NULL;
    ck_assert_int_eq(cq_lua_create(&L, &bad, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_lua_create(NULL, &env, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_lua_create(&L, NULL, NULL), CQ_EINVAL);
    cq_lua_info_t in;
    ck_assert_int_eq(cq_lua_info(f->lua, 999, &in), CQ_ENOENT);
    ck_assert_int_eq(cq_lua_start(f->lua, 999, NULL, 0), CQ_ENOENT);
    ck_assert_int_eq(cq_lua_stop(f->lua, 999), CQ_ENOENT);
    ck_assert_int_eq(cq_lua_reload(f->lua, 999, NULL, 0), CQ_ENOENT);
    size_t n = 7;
    ck_assert_ptr_null(cq_lua_files(f->lua, 999, &n));
    ck_assert_uint_eq(n, 0);
    cq_lua_destroy(NULL);
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_on_start_error_stops_the_strategy)
{
    lfx_t *f = lfx_new(NULL);
    const char *p = lfx_write(f, "s.lua",
                              "local S = {}\nfunction S.on_start()\n"
                              "  bus.subscribe('data.*', print) timer.every(5, print)\n"
                              "  error('cannot start')\nend\n"
                              "function S.on_stop() stopped = true end\nreturn S\n");
    uint32_t id;
    char err[512];
    ck_assert_int_eq(cq_lua_load(f->lua, p, "S", NULL, &id, err, sizeof err), 0);
    ck_assert_int_eq(cq_lua_start(f->lua, id, err, sizeof err), CQ_ESTATE);
    HAS(err, "s.lua:4: cannot start");
    cq_lua_info_t in = lfx_info(f, id);
    ck_assert_int_eq(in.state, CQ_STRAT_STOPPED);
    ck_assert_uint_eq(in.subscriptions, 0);
    ck_assert_uint_eq(in.timers, 0);
    ck_assert_uint_eq(cq_timers_count(f->timers), 0);
    ck_assert_str_eq(lfx_eval(f, id, "stopped"), "nil"); /* never started: no on_stop */
    HAS(in.last_error, "cannot start");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_stop_calls_on_stop_and_drops_subscriptions_and_timers)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t id = lfx_start(f, "S", "s.lua",
                            "local S = {}\nfunction S.on_start() n = 0\n"
                            "  bus.subscribe('data.trades.*', function() n = n + 1 end)\n"
                            "  timer.every(5, function() n = n + 100 end) end\n"
                            "function S.on_stop() stopped = clock.now() end\nreturn S\n",
                            NULL);
    ck_assert_uint_eq(lfx_info(f, id).subscriptions, 1);
    ck_assert_uint_eq(lfx_info(f, id).timers, 1);
    ck_assert_int_eq(cq_lua_start(f->lua, id, NULL, 0), CQ_ESTATE); /* already running */
    ck_assert_int_eq(cq_lua_stop(f->lua, id), 0);
    cq_lua_info_t in = lfx_info(f, id);
    ck_assert_int_eq(in.state, CQ_STRAT_STOPPED);
    ck_assert_uint_eq(in.subscriptions, 0);
    ck_assert_uint_eq(in.timers, 0);
    ck_assert_uint_eq(cq_timers_count(f->timers), 0);
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    lfx_advance(f, 20 * LFX_MS);
    ck_assert_str_eq(lfx_eval(f, id, "n, stopped ~= nil"), "0\ttrue");
    ck_assert_int_eq(cq_lua_stop(f->lua, id), 0); /* again: nothing */
    /* started again: on_start runs again */
    ck_assert_int_eq(cq_lua_start(f->lua, id, NULL, 0), 0);
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    ck_assert_str_eq(lfx_eval(f, id, "n"), "1");
    lfx_free(f);
}
END_TEST

/* ---- routing ------------------------------------------------------------------------- */

static const char *ROUTED =
    "local S = {}\n"
    "seen = {} fills = {} positions = 0\n"
    "function S.on_order(ev, o)\n"
    "  seen[#seen+1] = ev:id() .. ':' .. ev:status_name() .. ':' .. (o and o:status_name() or 'nil')\n"
    "end\n"
    "function S.on_fill(f, o) fills[#fills+1] = f:id() .. ':' .. f.qty .. ':' .. o:id() end\n"
    "function S.on_position(p) positions = positions + 1 ; pos_qty = p.qty end\n"
    "return S\n";

START_TEST(test_lua_on_order_and_on_fill_get_only_their_strategys_events)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = lfx_start(f, "A", "a.lua", ROUTED, NULL);
    uint32_t b = lfx_start(f, "B", "b.lua", ROUTED, NULL);
    char ida[64], idb[64];
    snprintf(ida, sizeof ida, "%s",
             lfx_eval(f, a, "exec.submit{instrument='BTCUSDT.BINANCE', side='BUY', type='MARKET', qty=0.001}"));
    snprintf(idb, sizeof idb, "%s",
             lfx_eval(f, b, "exec.submit{instrument='BTCUSDT.BINANCE', side='BUY', price=99, qty=0.002}"));
    lfx_advance(f, LFX_MS);
    char want[256];
    snprintf(want, sizeof want, "%s:SUBMITTED:SUBMITTED %s:ACCEPTED:ACCEPTED %s:FILLED:FILLED", ida, ida, ida);
    /* the order pointer is the cache's record, as of the event */
    ck_assert_str_eq(lfx_eval(f, a, "table.concat(seen, ' ')"), want);
    snprintf(want, sizeof want, "%s:0.001:%s", ida, ida);
    ck_assert_str_eq(lfx_eval(f, a, "table.concat(fills, ' ')"), want);
    ck_assert_str_eq(lfx_eval(f, a, "positions, pos_qty"), "1\t0.001");
    snprintf(want, sizeof want, "%s:SUBMITTED:SUBMITTED %s:ACCEPTED:ACCEPTED", idb, idb);
    ck_assert_str_eq(lfx_eval(f, b, "table.concat(seen, ' ')"), want);
    ck_assert_str_eq(lfx_eval(f, b, "#fills, positions"), "0\t0");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_denied_order_reaches_on_order_with_its_reason)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = lfx_start(f, "A", "a.lua",
                           "local S = {}\nfunction S.on_order(ev) why = ev:reason_str() st = ev:status_name() end\n"
                           "return S\n",
                           NULL);
    ck_assert_int_eq(cq_risk_set_state(f->risk, CQ_TRADING_HALTED), 0);
    const char *r = lfx_eval(f, a, "exec.submit{instrument='BTCUSDT.BINANCE', side='BUY', price=99, qty=0.001}");
    ck_assert_msg(strncmp(r, "nil\t", 4) == 0, "%s", r);
    char reason[128];
    snprintf(reason, sizeof reason, "%s", r + 4);
    *strchr(reason, '\t') = '\0';
    ck_assert(reason[0] != '\0');
    const char *seen = lfx_eval(f, a, "st, why");
    ck_assert_str_eq(seen + strlen("DENIED\t"), reason);
    ck_assert(strncmp(seen, "DENIED\t", 7) == 0);
    lfx_free(f);
}
END_TEST

/* ---- errors ---------------------------------------------------------------------------- */

START_TEST(test_lua_callback_error_is_logged_with_traceback_and_the_strategy_goes_on)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = lfx_start(f, "A", "a.lua",
                           "local S = {}\nn = 0\n"
                           "local function inner(t) if t.price > 100 then error('too high: ' .. t.price) end end\n"
                           "function S.on_start() bus.subscribe('data.trades.*', function(t) n = n + 1\n"
                           "  inner(t) end) end\nreturn S\n",
                           NULL);
    lfx_trade(f, 101, 1, CQ_SIDE_BUY);
    ck_assert(lfx_log_has(f, "ERROR A: bus handler: "));
    ck_assert(lfx_log_has(f, "a.lua:3: too high: 101"));
    ck_assert(lfx_log_has(f, "stack traceback:"));
    ck_assert(lfx_log_has(f, "in function 'inner'") || lfx_log_has(f, "a.lua:3: in "));
    cq_lua_info_t in = lfx_info(f, a);
    ck_assert_uint_eq(in.errors, 1);
    ck_assert_uint_eq(in.errors_in_row, 1);
    ck_assert_int_eq(in.state, CQ_STRAT_RUNNING);
    HAS(in.last_error, "a.lua:3: too high: 101");
    lfx_trade(f, 99, 1, CQ_SIDE_BUY); /* a good call resets the run */
    in = lfx_info(f, a);
    ck_assert_uint_eq(in.errors_in_row, 0);
    ck_assert_uint_eq(in.errors, 1);
    ck_assert_str_eq(lfx_eval(f, a, "n"), "2");
    ck_assert(in.calls >= 2);
    lfx_free(f);
}
END_TEST

static const char *FAILING =
    "local S = {}\nfunction S.on_start()\n"
    "  bus.subscribe('data.trades.*', function(t) if t.price > 100 then error('bad') end end)\n"
    "  timer.every(1000, function() end)\n"
    "  id = exec.submit{instrument='BTCUSDT.BINANCE', side='BUY', price=99, qty=0.001}\nend\n"
    "function S.on_stop() on_stop_ran = true end\nreturn S\n";

static lfx_t *run_to_failure(int cancel_on_stop, uint32_t *out)
{
    lfx_opts_t o = {3, cancel_on_stop, 0, CQ_LOG_DEBUG};
    lfx_t *f = lfx_new(&o);
    uint32_t a = lfx_start(f, "A", "a.lua", FAILING, NULL);
    lfx_advance(f, LFX_MS);
    lfx_trade(f, 101, 1, CQ_SIDE_BUY);
    lfx_trade(f, 101, 1, CQ_SIDE_BUY);
    ck_assert_int_eq(lfx_info(f, a).state, CQ_STRAT_RUNNING);
    lfx_trade(f, 101, 1, CQ_SIDE_BUY);
    lfx_advance(f, LFX_MS);
    *out = a;
    return f;
}

START_TEST(test_lua_max_errors_in_a_row_fail_the_strategy)
{
    uint32_t a;
    lfx_t *f = run_to_failure(0, &a);
    cq_lua_info_t in = lfx_info(f, a);
    ck_assert_int_eq(in.state, CQ_STRAT_FAILED);
    ck_assert_uint_eq(in.errors, 3);
    ck_assert_uint_eq(in.subscriptions, 0);
    ck_assert_uint_eq(in.timers, 0);
    ck_assert_uint_eq(cq_timers_count(f->timers), 0);
    ck_assert(lfx_log_has(f, "stopped: 3 callback errors in a row"));
    ck_assert_str_eq(lfx_eval(f, a, "on_stop_ran"), "true");
    /* its order is left alone */
    ck_assert_str_eq(lfx_eval(f, a, "cache.order(id):status_name()"), "ACCEPTED");
    uint64_t calls = in.calls;
    lfx_trade(f, 101, 1, CQ_SIDE_BUY);
    ck_assert_uint_eq(lfx_info(f, a).calls, calls);
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_cancel_on_stop_cancels_a_failed_strategys_orders)
{
    uint32_t a;
    lfx_t *f = run_to_failure(1, &a);
    ck_assert_int_eq(lfx_info(f, a).state, CQ_STRAT_FAILED);
    ck_assert_str_eq(lfx_eval(f, a, "cache.order(id):status_name()"), "CANCELED");
    ck_assert(lfx_log_has(f, "cancel_on_stop: 1 cancel(s) sent"));
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_strategies_do_not_see_each_others_globals)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = lfx_start(f, "A", "a.lua",
                           "local S = {}\nshared = 'from A'\nstring.from_a = true\nmath.pi = 3\n"
                           "function helper() return 'A' end\nreturn S\n",
                           NULL);
    uint32_t b = lfx_start(f, "B", "b.lua", "local S = {}\nshared = 'from B'\nreturn S\n", NULL);
    ck_assert_str_eq(lfx_eval(f, a, "shared, helper(), _G.shared"), "from A\tA\tfrom A");
    ck_assert_str_eq(lfx_eval(f, b, "shared, helper, string.from_a, math.pi == 3"), "from B\tnil\tnil\tfalse");
    ck_assert_str_eq(lfx_eval(f, 0, "shared, helper, math.pi == 3"), "nil\tnil\tfalse");
    /* the real globals are untouched, even through loadstring */
    lfx_eval(f, a, "loadstring('leaked = 1')()");
    ck_assert_str_eq(lfx_eval(f, a, "leaked"), "1");
    ck_assert_str_eq(lfx_eval(f, b, "leaked"), "nil");
    ck_assert_str_eq(lfx_eval(f, 0, "leaked"), "nil");
    /* the environment's metatable is hidden */
    ck_assert_str_eq(lfx_eval(f, a, "getmetatable(_G)"), "false");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_hostile_strategy_cannot_crash_the_host)
{
    lfx_opts_t o = {1000, 0, 0, CQ_LOG_DEBUG};
    lfx_t *f = lfx_new(&o);
    uint32_t a = lfx_start(f, "A", "a.lua",
                           "local S = {}\n"
                           "local function deep(n) return deep(n + 1) + 1 end\n"
                           "local bad_mt = setmetatable({}, {__tostring = function() error('in tostring') end})\n"
                           "local cases = {\n"
                           "  function() error({code = 1}) end,\n"
                           "  function() error(nil) end,\n"
                           "  function() error(bad_mt) end,\n"
                           "  function() error(setmetatable({}, {__tostring = function() return 'custom' end})) end,\n"
                           "  function() deep(1) end,\n"
                           "  function() local t = nil; return t.x end,\n"
                           "  function() coroutine.yield() end,\n"
                           "  function() error(string.rep('x', 100000)) end,\n"
                           "  function() bus.publish('loop.x', 1) end,\n"
                           "}\n"
                           "local i = 0\n"
                           "function S.on_start()\n"
                           "  bus.subscribe('loop.*', function(m) depth = m ; assert(bus.publish('loop.x', m + 1)) end)\n"
                           "  bus.subscribe('data.trades.*', function()\n"
                           "  i = i + 1 ; cases[i]() end) end\n"
                           "function S.on_stop() error('error in on_stop') end\n"
                           "return S\n",
                           NULL);
    for (int i = 0; i < 9; i++)
        lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    cq_lua_info_t in = lfx_info(f, a);
    ck_assert_uint_eq(in.errors, 9);
    ck_assert_int_eq(in.state, CQ_STRAT_RUNNING);
    ck_assert(lfx_log_has(f, "(error object is a table value)"));
    ck_assert(lfx_log_has(f, "(error object is a nil value)"));
    ck_assert(lfx_log_has(f, "custom"));
    ck_assert(lfx_log_has(f, "stack overflow"));
    ck_assert(lfx_log_has(f, "attempt to index local 't'"));
    ck_assert(lfx_log_has(f, "attempt to yield"));
    ck_assert(lfx_log_has(f, "too many nested publishes"));
    ck_assert_str_eq(lfx_eval(f, a, "depth"), "63");
    /* the host still works */
    ck_assert_str_eq(lfx_eval(f, a, "1 + 1"), "2");
    ck_assert_int_eq(cq_lua_stop(f->lua, a), 0);
    ck_assert(lfx_log_has(f, "error in on_stop"));
    ck_assert_int_eq(lfx_info(f, a).state, CQ_STRAT_STOPPED);
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_eval_in_the_repl_and_in_a_strategy)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = lfx_start(f, "A", "a.lua", "local S = {}\nx = 41\nreturn S\n", NULL);
    char out[256];
    ck_assert_int_eq(cq_lua_eval(f->lua, a, "x + 1", out, sizeof out), 0);
    ck_assert_str_eq(out, "42");
    ck_assert_int_eq(cq_lua_eval(f->lua, a, "x = 7", out, sizeof out), 0);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(cq_lua_eval(f->lua, 0, "y = 5", out, sizeof out), 0);
    ck_assert_int_eq(cq_lua_eval(f->lua, 0, "y, strategy('A').x, 'a', nil", out, sizeof out), 0);
    ck_assert_str_eq(out, "5\t7\ta\tnil");
    ck_assert_int_eq(cq_lua_eval(f->lua, 0, "cache.instrument('BTCUSDT.BINANCE').tick_size, clock.now() > 0",
                                 out, sizeof out),
                     0);
    ck_assert_str_eq(out, "0.01\ttrue");
    ck_assert_int_eq(cq_lua_eval(f->lua, 0, "x = = 1", out, sizeof out), CQ_EPARSE);
    HAS(out, "eval:1:");
    ck_assert_int_eq(cq_lua_eval(f->lua, 0, "error('oops')", out, sizeof out), CQ_ESTATE);
    HAS(out, "oops");
    ck_assert_int_eq(cq_lua_eval(f->lua, 999, "1", out, sizeof out), CQ_ENOENT);
    ck_assert_int_eq(cq_lua_eval(f->lua, 0, NULL, out, sizeof out), CQ_EINVAL);
    /* the REPL has no strategy: no exec */
    ck_assert_int_eq(cq_lua_eval(f->lua, 0, "exec", out, sizeof out), 0);
    ck_assert_str_eq(out, "nil");
    /* eval errors are not the strategy's errors */
    ck_assert_int_eq(cq_lua_eval(f->lua, a, "error('x')", out, sizeof out), CQ_ESTATE);
    ck_assert_uint_eq(lfx_info(f, a).errors, 0);
    /* a small output buffer truncates */
    char small[4];
    ck_assert_int_eq(cq_lua_eval(f->lua, a, "'abcdef'", small, sizeof small), 0);
    ck_assert_str_eq(small, "abc");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_destroy_stops_running_strategies)
{
    lfx_t *f = lfx_new(NULL);
    lfx_start(f, "A", "a.lua",
              "local S = {}\nfunction S.on_start() timer.every(1, print) bus.subscribe('x', print) end\n"
              "function S.on_stop() log.warn('A stopping') end\nreturn S\n",
              NULL);
    ck_assert_uint_eq(cq_timers_count(f->timers), 1);
    cq_lua_destroy(f->lua);
    f->lua = NULL;
    ck_assert(lfx_log_has(f, "WARN A: A stopping"));
    ck_assert_uint_eq(cq_timers_count(f->timers), 0);
    cq_bus_stats_t st;
    cq_bus_stats(f->bus, &st);
    ck_assert_uint_eq(st.subscriptions, 0);
    lfx_free(f);
}
END_TEST


/* Out of memory inside a callback: LUA_ERRMEM is caught like any error.
 * The address space is capped (in the test's own process; not under the
 * sanitizers, which reserve terabytes of shadow memory). */
START_TEST(test_lua_out_of_memory_in_a_callback_is_caught)
{
#ifdef CQ_SANITIZE
    cq_test_skip("test_lua_out_of_memory_in_a_callback_is_caught", "address-space cap breaks ASan");
    return;
#else
    lfx_t *f = lfx_new(NULL);
    uint32_t a = lfx_start(f, "A", "a.lua",
                           "local S = {}\nfunction S.on_start() bus.subscribe('data.trades.*', function()\n"
                           "  local t = {} for i = 1, 2^40 do t[i] = i end end) end\nreturn S\n",
                           NULL);
    lfx_log_reserve(f, 1 << 20);
    struct rlimit old, cap;
    ck_assert_int_eq(getrlimit(RLIMIT_AS, &old), 0);
    long vm_kb = 0;
    FILE *st = fopen("/proc/self/status", "r");
    char line[256];
    while (st && fgets(line, sizeof line, st))
        if (sscanf(line, "VmSize: %ld kB", &vm_kb) == 1)
            break;
    if (st)
        fclose(st);
    ck_assert(vm_kb > 0);
    cap = old;
    cap.rlim_cur = (rlim_t)vm_kb * 1024 + ((rlim_t)512 << 20);
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &cap), 0);
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &old), 0);
    ck_assert(lfx_log_has(f, "bus handler: not enough memory"));
    cq_lua_info_t in = lfx_info(f, a);
    ck_assert_uint_eq(in.errors, 1);
    ck_assert_int_eq(in.state, CQ_STRAT_RUNNING);
    ck_assert_str_eq(lfx_eval(f, a, "collectgarbage() return 6 * 7"), "42");
    lfx_free(f);
#endif
}
END_TEST


/* A finalizer that raises runs at some allocation, maybe in C outside any
 * protected call: the host wraps finalizers so that the error is logged
 * and nothing else happens. */
START_TEST(test_lua_failing_finalizers_are_logged_not_fatal)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = lfx_start(f, "A", "a.lua",
                           "local ffi = require('ffi')\n"
                           "ffi.cdef[[typedef struct fin_t { int x; } fin_t;]]\n"
                           "local T = ffi.metatype('fin_t', { __gc = function() error('metatype gc boom') end })\n"
                           "local S = {}\n"
                           "function S.on_start()\n"
                           "  for i = 1, 2000 do\n"
                           "    ffi.gc(ffi.new('int[4]'), function() error('gc boom') end)\n"
                           "    T()\n"
                           "  end\n"
                           "end\n"
                           "function S.on_stop() end\n"
                           "return S\n",
                           NULL);
    for (int i = 0; i < 20; i++) {
        lfx_trade(f, 100, 1, CQ_SIDE_BUY);
        ck_assert_int_eq(cq_lua_stop(f->lua, a), 0);
        ck_assert_int_eq(cq_lua_start(f->lua, a, NULL, 0), 0);
        lfx_eval(f, 0, "collectgarbage()");
    }
    ck_assert(lfx_log_has(f, "error in a finalizer (ignored): "));
    ck_assert(lfx_log_has(f, "gc boom"));
    ck_assert(lfx_log_has(f, "metatype gc boom"));
    ck_assert_str_eq(lfx_eval(f, a, "newproxy"), "nil");
    ck_assert_int_eq(lfx_info(f, a).state, CQ_STRAT_RUNNING);
    lfx_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lua_host");
    TCase *tc = tcase_create("host");
    tcase_add_test(tc, test_lua_issue_example_trades_lead_to_orders_at_the_sim);
    tcase_add_test(tc, test_lua_shipped_example_strategy_runs);
    tcase_add_test(tc, test_lua_load_errors_name_the_file_and_line);
    tcase_add_test(tc, test_lua_create_refuses_a_missing_env_member);
    tcase_add_test(tc, test_lua_on_start_error_stops_the_strategy);
    tcase_add_test(tc, test_lua_stop_calls_on_stop_and_drops_subscriptions_and_timers);
    tcase_add_test(tc, test_lua_on_order_and_on_fill_get_only_their_strategys_events);
    tcase_add_test(tc, test_lua_denied_order_reaches_on_order_with_its_reason);
    tcase_add_test(tc, test_lua_callback_error_is_logged_with_traceback_and_the_strategy_goes_on);
    tcase_add_test(tc, test_lua_max_errors_in_a_row_fail_the_strategy);
    tcase_add_test(tc, test_lua_cancel_on_stop_cancels_a_failed_strategys_orders);
    tcase_add_test(tc, test_lua_strategies_do_not_see_each_others_globals);
    tcase_add_test(tc, test_lua_hostile_strategy_cannot_crash_the_host);
    tcase_add_test(tc, test_lua_out_of_memory_in_a_callback_is_caught);
    tcase_add_test(tc, test_lua_failing_finalizers_are_logged_not_fatal);
    tcase_add_test(tc, test_lua_eval_in_the_repl_and_in_a_strategy);
    tcase_add_test(tc, test_lua_destroy_stops_running_strategies);
    suite_add_tcase(s, tc);
    return cq_test_run(s);
}
