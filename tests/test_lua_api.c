/*
 * test_lua_api.c - every function of the strategy API (docs/lua-api.md):
 * bus, exec, cache, clock, timer, log, params, cq, and what misuse of each
 * raises (an error naming the argument or field and what was expected).
 *
 * Each test starts a strategy against the real chain (tests/support/
 * lua_fx.h) and drives it with cq_lua_eval in the strategy's environment.
 */
#include <stdio.h>
#include <string.h>

#include "cquant/error.h"
#include "support/cq_test.h"
#include "support/lua_fx.h"

#define HAS(s, sub) ck_assert_msg(strstr((s), (sub)) != NULL, "'%s' not in '%s'", (sub), (s))

static const char *EMPTY = "local S = {}\nfunction S.on_start() end\nreturn S\n";

static uint32_t start_empty(lfx_t *f)
{
    return lfx_start(f, "A", "a.lua", EMPTY, NULL);
}

/* ---- bus -------------------------------------------------------------------------- */

START_TEST(test_lua_bus_subscribe_gets_trades_as_typed_pointers)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    lfx_eval(f, a, "got = {} ; sub = bus.subscribe('data.trades.BINANCE.*', function(t)"
                   " got[#got+1] = {t.price, t.qty, t.aggressor, t.hdr.type, t:instrument_id(),"
                   " t:aggressor_name(), t.trade_id ~= 0} end)");
    ck_assert(lfx_num(f, a, "sub") >= 1);
    lfx_trade(f, 101.25, 0.5, CQ_SIDE_BUY);
    ck_assert_str_eq(lfx_eval(f, a, "#got, unpack(got[1])"), "1\t101.25\t0.5\t1\t1\tBTCUSDT.BINANCE\tBUY\ttrue");
    ck_assert_uint_eq(lfx_info(f, a).subscriptions, 1);
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_bus_higher_priority_runs_first)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    lfx_eval(f, a, "order = ''"
                   " bus.subscribe('data.trades.*', function() order = order .. 'low ' end, -5)"
                   " bus.subscribe('data.trades.*', function() order = order .. 'mid ' end)"
                   " bus.subscribe('data.trades.*', function() order = order .. 'high ' end, 7)");
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    ck_assert_str_eq(lfx_eval(f, a, "order"), "high mid low ");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_bus_unsubscribe_stops_delivery)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    lfx_eval(f, a, "n = 0 ; sub = bus.subscribe('data.trades.*', function() n = n + 1 end)");
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    ck_assert_str_eq(lfx_eval(f, a, "bus.unsubscribe(sub)"), "true");
    ck_assert_str_eq(lfx_eval(f, a, "bus.unsubscribe(sub)"), "false");
    ck_assert_str_eq(lfx_eval(f, a, "bus.unsubscribe(123456)"), "false");
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    ck_assert_str_eq(lfx_eval(f, a, "n"), "1");
    ck_assert_uint_eq(lfx_info(f, a).subscriptions, 0);
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_bus_handler_may_unsubscribe_itself)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    lfx_eval(f, a, "n = 0 ; sub = bus.subscribe('data.trades.*', function() n = n + 1;"
                   " bus.unsubscribe(sub) end)");
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    lfx_trade(f, 100, 1, CQ_SIDE_BUY);
    ck_assert_str_eq(lfx_eval(f, a, "n"), "1");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_bus_publish_lua_value_to_lua_subscribers)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    uint32_t b = lfx_start(f, "B", "b.lua", EMPTY, NULL);
    lfx_eval(f, b, "got = nil ; bus.subscribe('signals.*', function(m) got = m end)");
    ck_assert_str_eq(lfx_eval(f, a, "bus.publish('signals.x', {side = 'BUY', n = 3})"), "1");
    ck_assert_str_eq(lfx_eval(f, b, "got.side, got.n"), "BUY\t3");
    ck_assert_str_eq(lfx_eval(f, a, "bus.publish('signals.x', 'text')"), "1");
    ck_assert_str_eq(lfx_eval(f, b, "got"), "text");
    ck_assert_str_eq(lfx_eval(f, a, "bus.publish('nobody.listens', 1)"), "0");
    lfx_free(f);
}
END_TEST

typedef struct seen {
    int n;
    cq_quote_t q;
} seen_t;

static void on_quote(void *user, cq_topic_t t, const void *msg)
{
    (void)t;
    seen_t *s = user;
    s->n++;
    s->q = *(const cq_quote_t *)msg;
}

START_TEST(test_lua_bus_publish_struct_reaches_c_subscribers)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    seen_t s = {0};
    ck_assert_int_eq(cq_bus_subscribe(f->bus, "my.quotes", 0, on_quote, &s, NULL), 0);
    /* a struct value: hdr.type is filled in when 0 */
    ck_assert_str_eq(lfx_eval(f, a, "q = ffi_q or require('ffi').new('cq_quote_t');"
                                    " q.bid_price = 99; q.ask_price = 101; return bus.publish('my.quotes', q)"),
                     "1");
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.q.hdr.type, CQ_EV_QUOTE);
    ck_assert(s.q.bid_price == 99 && s.q.ask_price == 101);
    /* a pointer */
    ck_assert_str_eq(lfx_eval(f, a, "p = require('ffi').cast('const cq_quote_t *', q); q.ask_price = 102;"
                                    " return bus.publish('my.quotes', p)"),
                     "1");
    ck_assert_int_eq(s.n, 2);
    ck_assert(s.q.ask_price == 102);
    /* Lua subscribers get the typed pointer */
    lfx_eval(f, a, "ask = 0 ; bus.subscribe('my.quotes', function(x) ask = x.ask_price end)");
    lfx_eval(f, a, "bus.publish('my.quotes', q)");
    ck_assert_str_eq(lfx_eval(f, a, "ask"), "102");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_bus_misuse_names_the_argument)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    HAS(lfx_eval_err(f, a, "bus.subscribe(5, print)"),
        "bus.subscribe: argument #1 (pattern) must be a topic pattern (1..255 characters), got 5");
    HAS(lfx_eval_err(f, a, "bus.subscribe('x', 'notfn')"),
        "bus.subscribe: argument #2 (handler) must be a function, got string");
    HAS(lfx_eval_err(f, a, "bus.subscribe('x', print, 1.5)"), "argument #3 (priority) must be an integer");
    HAS(lfx_eval_err(f, a, "bus.subscribe(string.rep('x', 300), print)"), "argument #1 (pattern)");
    HAS(lfx_eval_err(f, a, "bus.unsubscribe('x')"), "bus.unsubscribe: argument #1 (id) must be a subscription id");
    HAS(lfx_eval_err(f, a, "bus.publish('a.*', 1)"), "bus.publish: argument #1 (topic) must be a topic without");
    HAS(lfx_eval_err(f, a, "bus.publish(nil, 1)"), "bus.publish: argument #1 (topic)");
    HAS(lfx_eval_err(f, a, "bus.publish('data.trades.X', {})"), "a Lua value cannot go on 'data.trades.X'");
    HAS(lfx_eval_err(f, a, "bus.publish('events.order.A', 1)"), "cannot go on 'events.order.A'");
    HAS(lfx_eval_err(f, a, "bus.publish('x', require('ffi').new('int[2]'))"),
        "argument #2 (msg) must be an event struct");
    HAS(lfx_eval_err(f, a, "local t = require('ffi').new('cq_trade_t'); t.hdr.type = 2;"
                           " bus.publish('x', t)"),
        "msg.hdr.type is 2, a cq_trade_t has 1");
    lfx_free(f);
}
END_TEST

/* ---- exec ------------------------------------------------------------------------- */

START_TEST(test_lua_exec_submit_returns_the_client_order_id)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    const char *id = lfx_eval(f, a, "id = exec.submit{instrument='BTCUSDT.BINANCE', side='BUY', type='LIMIT',"
                                    " price=99.5, qty=0.002, tag='t1'} return id");
    char cid[64];
    snprintf(cid, sizeof cid, "%s", id);
    const cq_order_t *o = cq_cache_order(f->cache, cid);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(o->status, CQ_OS_SUBMITTED);
    ck_assert_str_eq(o->tag, "t1");
    ck_assert(o->price == 99.5 && o->qty == 0.002);
    ck_assert_str_eq(cq_cache_strategy_name(f->cache, o->hdr.strategy), "A");
    lfx_advance(f, LFX_MS);
    ck_assert_int_eq(o->status, CQ_OS_ACCEPTED);
    ck_assert_str_eq(lfx_eval(f, a, "cache.order(id):status_name(), cache.order(id):id() == id"),
                     "ACCEPTED\ttrue");
    /* lower case names, numbers for enums, post_only maps to LIMIT_MAKER */
    lfx_eval(f, a, "id2 = exec.submit{instrument='BTCUSDT.BINANCE', side='sell', price=100.5, qty=0.001,"
                   " post_only=true, tif='GTC'}");
    ck_assert_str_eq(lfx_eval(f, a, "cache.order(id2):type_name()"), "LIMIT_MAKER");
    lfx_eval(f, a, "id3 = exec.submit{instrument='BTCUSDT.BINANCE', side=cq.side.BUY, type=cq.type.MARKET,"
                   " qty=0.001, tif='IOC'}");
    lfx_advance(f, LFX_MS);
    ck_assert_str_eq(lfx_eval(f, a, "cache.order(id3):status_name(), cache.order(id3).avg_fill_price"),
                     "FILLED\t100.1");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_exec_submit_denied_returns_nil_and_the_reason)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    cq_risk_limits_t lim = {50, 0, 0, 0}; /* max notional 50 USDT */
    ck_assert_int_eq(cq_risk_set_limits(f->risk, 0, 0, &lim), 0);
    lfx_eval(f, a, "ev = {} ; r = {exec.submit{instrument='BTCUSDT.BINANCE', side='BUY', price=99, qty=1}}");
    const char *r = lfx_eval(f, a, "r[1], r[2], cache.order(r[3]):status_name()");
    ck_assert_msg(strncmp(r, "nil\t", 4) == 0, "%s", r);
    HAS(r, "notional");
    HAS(r, "DENIED");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_exec_submit_misuse_names_the_field)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    lfx_eval(f, a, "function ok(t) local o = {instrument='BTCUSDT.BINANCE', side='BUY', type='LIMIT',"
                   " price=99, qty=0.001} for k, v in pairs(t) do o[k] = v end"
                   " if t.qty == false then o.qty = 'x' end return o end");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{qty=false})"),
        "exec.submit: field 'qty' must be a positive number, got string");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{qty=-1})"), "field 'qty' must be a positive number, got -1");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{qty=0/0})"), "field 'qty' must be a positive number");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{side='BYU'})"),
        "exec.submit: field 'side' must be \"BUY\" or \"SELL\", got string 'BYU'");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{type='LIMT'})"), "field 'type' must be one of");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{quantity=1})"), "exec.submit: unknown field 'quantity'");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{instrument=false})"), "field 'instrument' must be an instrument id");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{instrument='NOPE.X'})"), "unknown instrument string 'NOPE.X'");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{price='1'})"), "field 'price' must be a positive number for a LIMIT");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{type='MARKET'})"), "field 'price' must be nil for a MARKET order");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{type='STOP_LIMIT'})"), "field 'trigger_price' must be a positive");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{trigger_price=5})"), "field 'trigger_price' must be nil for a LIMIT");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{tif='DAY'})"), "field 'tif' must be one of");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{tag=string.rep('x', 32)})"),
        "field 'tag' must be a string of at most 31 characters");
    HAS(lfx_eval_err(f, a, "exec.submit(ok{reduce_only=1})"), "field 'reduce_only' must be a boolean, got 1");
    HAS(lfx_eval_err(f, a, "local o = ok{post_only=true, type='MARKET'} o.price = nil exec.submit(o)"),
        "field 'post_only' must be false for a MARKET order");
    HAS(lfx_eval_err(f, a, "exec.submit('BUY')"), "exec.submit: argument #1 must be a table");
    /* the error points at the caller's line */
    HAS(lfx_eval_err(f, a, "local x = exec.submit()"), "eval:1: exec.submit");
    /* nothing reached the engine */
    ck_assert_uint_eq(cq_cache_order_count(f->cache, CQ_ORDERS_ALL), 0);
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_exec_cancel_modify_cancel_all)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    lfx_eval(f, a, "ids = {} for i = 1, 3 do ids[i] = exec.submit{instrument='BTCUSDT.BINANCE', side='BUY',"
                   " price=99 + i / 10, qty=0.001} end");
    lfx_advance(f, LFX_MS);
    ck_assert_str_eq(lfx_eval(f, a, "exec.modify(ids[1], {price=98.5, qty=0.002})"), "true");
    ck_assert_str_eq(lfx_eval(f, a, "exec.cancel(ids[2])"), "true");
    lfx_advance(f, LFX_MS);
    ck_assert_str_eq(lfx_eval(f, a, "local o = cache.order(ids[1]) return o.price, o.qty"), "98.5\t0.002");
    ck_assert_str_eq(lfx_eval(f, a, "cache.order(ids[2]):status_name()"), "CANCELED");
    /* cancelling a closed order: nil and the engine's reason */
    HAS(lfx_eval(f, a, "exec.cancel(ids[2])"), "nil\torder");
    HAS(lfx_eval(f, a, "exec.cancel('nope')"), "nil\tunknown order nope");
    /* an order object works as the id */
    ck_assert_str_eq(lfx_eval(f, a, "exec.cancel_all('BTCUSDT.BINANCE')"), "2");
    lfx_advance(f, LFX_MS);
    ck_assert_str_eq(lfx_eval(f, a, "#cache.orders{status='open'}"), "0");
    ck_assert_str_eq(lfx_eval(f, a, "exec.cancel_all()"), "0");
    HAS(lfx_eval_err(f, a, "exec.modify(ids[1], {price=-1})"), "exec.modify: field 'price' must be a positive number");
    HAS(lfx_eval_err(f, a, "exec.modify(ids[1], {prize=1})"), "exec.modify: unknown field 'prize'");
    HAS(lfx_eval_err(f, a, "exec.modify(ids[1], {})"), "give a new price or qty");
    HAS(lfx_eval_err(f, a, "exec.modify(ids[1])"), "argument #2 (changes) must be a table");
    HAS(lfx_eval_err(f, a, "exec.cancel(42)"), "exec.cancel: argument #1 (id) must be a client order id");
    HAS(lfx_eval_err(f, a, "exec.cancel_all({})"), "exec.cancel_all: argument #1 (instrument)");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_exec_cannot_touch_another_strategys_order)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    uint32_t b = lfx_start(f, "B", "b.lua", EMPTY, NULL);
    char id[64];
    snprintf(id, sizeof id, "%s",
             lfx_eval(f, a, "exec.submit{instrument='BTCUSDT.BINANCE', side='BUY', price=99, qty=0.001}"));
    lfx_advance(f, LFX_MS);
    char code[200];
    snprintf(code, sizeof code, "exec.cancel('%s')", id);
    HAS(lfx_eval(f, b, code), "belongs to another strategy");
    snprintf(code, sizeof code, "exec.modify('%s', {qty=1})", id);
    HAS(lfx_eval(f, b, code), "belongs to another strategy");
    ck_assert_str_eq(lfx_eval(f, b, "exec.cancel_all()"), "0");
    ck_assert_str_eq(lfx_eval(f, b, "#cache.orders{}, #cache.orders{strategy='*'}, #cache.orders{strategy='A'}"),
                     "0\t1\t1");
    ck_assert_int_eq(cq_cache_order(f->cache, id)->status, CQ_OS_ACCEPTED);
    lfx_free(f);
}
END_TEST

/* ---- cache, clock ------------------------------------------------------------------ */

START_TEST(test_lua_cache_accessors)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    lfx_trade(f, 100.05, 0.25, CQ_SIDE_SELL);
    ck_assert_str_eq(lfx_eval(f, a, "local i = cache.instrument('BTCUSDT.BINANCE')"
                                    " return i.tick_size, i.step_size, i:id_str(), cq.str(i.base)"),
                     "0.01\t1e-05\tBTCUSDT.BINANCE\tBTC");
    ck_assert_str_eq(lfx_eval(f, a, "cache.trade('BTCUSDT.BINANCE').price"), "100.05");
    ck_assert_str_eq(lfx_eval(f, a, "cache.quote('BTCUSDT.BINANCE')"), "nil");
    ck_assert_str_eq(lfx_eval(f, a, "cache.instrument('NOPE.X'), cache.trade('NOPE.X')"), "nil\tnil");
    ck_assert_str_eq(lfx_eval(f, a, "cache.top('BTCUSDT.BINANCE')"), "100\t1\t100.1\t1");
    ck_assert_str_eq(lfx_eval(f, a, "local b = cache.book('BTCUSDT.BINANCE', 2)"
                                    " return #b.bids, b.bids[1][1], b.bids[2][1], b.asks[1][1], b.asks[2][2]"),
                     "2\t100\t99.99\t100.1\t1");
    ck_assert_str_eq(lfx_eval(f, a, "#cache.book('BTCUSDT.BINANCE').asks"), "5");
    /* position: flat until a fill */
    ck_assert_str_eq(lfx_eval(f, a, "cache.position('BTCUSDT.BINANCE').qty"), "0");
    lfx_eval(f, a, "id = exec.submit{instrument='BTCUSDT.BINANCE', side='BUY', type='MARKET', qty=0.003}");
    lfx_advance(f, LFX_MS);
    ck_assert_str_eq(lfx_eval(f, a, "cache.position('BTCUSDT.BINANCE').qty"), "0.003");
    ck_assert_str_eq(lfx_eval(f, a, "#cache.orders{}, #cache.orders{status='closed'},"
                                    " #cache.orders{status='FILLED'}, #cache.orders{status='open'},"
                                    " #cache.orders{instrument='BTCUSDT.BINANCE'}, #cache.orders{instrument='NOPE.X'}"),
                     "1\t1\t1\t0\t1\t0");
    ck_assert_str_eq(lfx_eval(f, a, "cache.orders{}[1]:id() == id, cache.order('nope')"), "true\tnil");
    /* pointers from the cache are read-only */
    HAS(lfx_eval_err(f, a, "cache.order(id).qty = 5"), "constant");
    HAS(lfx_eval_err(f, a, "cache.order(id).prize"), "cq_order_t has no field or method 'prize'");
    HAS(lfx_eval_err(f, a, "cache.order(5)"), "cache.order: argument #1 (id) must be a client order id");
    HAS(lfx_eval_err(f, a, "cache.orders{status='opn'}"), "cache.orders: field 'status' must be");
    HAS(lfx_eval_err(f, a, "cache.orders{state='open'}"), "cache.orders: unknown field 'state'");
    HAS(lfx_eval_err(f, a, "cache.book('BTCUSDT.BINANCE', 0)"), "cache.book: argument #2 (depth)");
    HAS(lfx_eval_err(f, a, "cache.position({})"), "cache.position: argument #1 (instrument)");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_clock_now_is_the_runtime_clock)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    f->clock = 1700000000123456768LL; /* a double holds it exactly */
    ck_assert_str_eq(lfx_eval(f, a, "string.format('%d', clock.now())"), "1700000000123456768");
    ck_assert_str_eq(lfx_eval(f, a, "tostring(clock.now64())"), "1700000000123456768LL");
    lfx_free(f);
}
END_TEST

/* ---- timers ------------------------------------------------------------------------- */

START_TEST(test_lua_timers_after_every_cancel)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    int64_t t0 = f->clock;
    lfx_eval(f, a, "log_ = {} t0 = clock.now()"
                   " function mark(s) return function(now, id)"
                   "   log_[#log_+1] = s .. '@' .. math.floor((now - t0) / 1e6 + 0.5) end end"
                   " timer.after(30, mark('a30'))"
                   " timer.after(10, mark('a10'))"
                   " every = timer.every(20, mark('e20'))"
                   " gone = timer.after(15, mark('never'))");
    ck_assert_uint_eq(lfx_info(f, a).timers, 4);
    ck_assert_str_eq(lfx_eval(f, a, "timer.cancel(gone), timer.cancel(gone), timer.cancel(999)"),
                     "true\tfalse\tfalse");
    for (int i = 0; i < 9; i++)
        lfx_advance(f, 5 * LFX_MS);
    ck_assert_str_eq(lfx_eval(f, a, "table.concat(log_, ' ')"), "a10@10 e20@20 a30@30 e20@40");
    ck_assert_uint_eq(lfx_info(f, a).timers, 1);
    ck_assert_str_eq(lfx_eval(f, a, "timer.cancel(every)"), "true");
    lfx_advance(f, 100 * LFX_MS);
    ck_assert_str_eq(lfx_eval(f, a, "#log_"), "4");
    ck_assert_uint_eq(lfx_info(f, a).timers, 0);
    ck_assert(f->clock == t0 + 145 * LFX_MS);
    /* a periodic timer cancelling itself from its callback */
    lfx_eval(f, a, "k = 0 ; timer.every(1, function(now, id) k = k + 1 if k == 3 then timer.cancel(id) end end)");
    lfx_advance(f, LFX_MS);
    lfx_advance(f, LFX_MS);
    lfx_advance(f, LFX_MS);
    lfx_advance(f, LFX_MS);
    ck_assert_str_eq(lfx_eval(f, a, "k"), "3");
    HAS(lfx_eval_err(f, a, "timer.after(-1, print)"), "timer.after: argument #1 (ms) must be a number >= 0, got -1");
    HAS(lfx_eval_err(f, a, "timer.after(1, 2)"), "timer.after: argument #2 (fn) must be a function");
    HAS(lfx_eval_err(f, a, "timer.every(0, print)"), "timer.every: argument #1 (ms)");
    HAS(lfx_eval_err(f, a, "timer.cancel('x')"), "timer.cancel: argument #1 (id) must be a timer id");
    lfx_free(f);
}
END_TEST

/* ---- log, params, cq ----------------------------------------------------------------- */

START_TEST(test_lua_log_levels_and_format)
{
    lfx_opts_t o = {0, 0, 0, CQ_LOG_INFO};
    lfx_t *f = lfx_new(&o);
    uint32_t a = start_empty(f);
    lfx_eval(f, a, "log.debug('hidden %d', 1) log.info('px %.2f n %d', 1.5, 3) log.warn('plain %d')"
                   " log.error({}) print('p', 1, nil)");
    ck_assert(!lfx_log_has(f, "hidden"));
    ck_assert(lfx_log_has(f, "INFO A: px 1.50 n 3\n"));
    ck_assert(lfx_log_has(f, "WARN A: plain %d\n"));
    ck_assert(lfx_log_has(f, "ERROR A: table: "));
    ck_assert(lfx_log_has(f, "INFO A: p\t1\tnil\n"));
    HAS(lfx_eval_err(f, a, "log.info('%d', 'x')"), "log.info: ");
    HAS(lfx_eval_err(f, a, "log.info(5, 1)"), "log.info: argument #1 (format) must be a format string");
    f->log.level = CQ_LOG_DEBUG; /* read live */
    lfx_eval(f, a, "log.debug('now shown')");
    ck_assert(lfx_log_has(f, "DEBUG A: now shown"));
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_params_numbers_become_numbers)
{
    lfx_t *f = lfx_new(NULL);
    const char *params[] = {"a=1.5", "b=text", "c=-3", "d=", "e=1e3", "f=x=y", "g=0x10", "h=inf", NULL};
    uint32_t s = lfx_start(f, "P", "p.lua", EMPTY, params);
    ck_assert_str_eq(lfx_eval(f, s, "type(params.a), params.a, params.b, params.c, params.d, params.e, params.f,"
                                    " params.g, type(params.h)"),
                     "number\t1.5\ttext\t-3\t\t1000\tx=y\t16\tstring");
    lfx_free(f);
}
END_TEST

START_TEST(test_lua_enum_helpers_and_methods)
{
    lfx_t *f = lfx_new(NULL);
    uint32_t a = start_empty(f);
    ck_assert_str_eq(lfx_eval(f, a, "cq.side.BUY, cq.side.SELL, cq.status.FILLED, cq.type.LIMIT, cq.tif.IOC,"
                                    " cq.event.TRADE, cq.liquidity.MAKER"),
                     "1\t2\t7\t2\t2\t1\t1");
    ck_assert_str_eq(lfx_eval(f, a, "cq.side_name(2), cq.status_name(cq.status.PARTIALLY_FILLED),"
                                    " cq.type_name(5), cq.tif_name(1), cq.event_name(9), cq.liquidity_name(2),"
                                    " cq.status_name(99)"),
                     "SELL\tPARTIALLY_FILLED\tSTOP_LIMIT\tGTC\tFILL\tTAKER\t?");
    ck_assert_str_eq(lfx_eval(f, a, "cq.is_open(cq.status.ACCEPTED), cq.is_closed(cq.status.ACCEPTED),"
                                    " cq.is_closed(cq.status.CANCELED), cq.is_inflight(cq.status.SUBMITTED)"),
                     "true\tfalse\ttrue\ttrue");
    /* a strategy's cq is its own */
    lfx_eval(f, a, "cq.side.BUY = 42");
    uint32_t b = lfx_start(f, "B", "b.lua", EMPTY, NULL);
    ck_assert_str_eq(lfx_eval(f, b, "cq.side.BUY"), "1");
    lfx_eval(f, a, "id = exec.submit{instrument='BTCUSDT.BINANCE', side='BUY', price=99, qty=0.001}");
    ck_assert_str_eq(lfx_eval(f, a, "local o = cache.order(id) return o:side_name(), o:type_name(), o:tif_name(),"
                                    " o:is_open(), o:instrument_id(), o:strategy_name(), o:event_name()"),
                     "BUY\tLIMIT\tGTC\tfalse\tBTCUSDT.BINANCE\tA\tORDER");
    HAS(lfx_eval(f, a, "tostring(cache.order(id))"), "BUY LIMIT 0.001@99");
    lfx_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lua_api");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, test_lua_bus_subscribe_gets_trades_as_typed_pointers);
    tcase_add_test(tc, test_lua_bus_higher_priority_runs_first);
    tcase_add_test(tc, test_lua_bus_unsubscribe_stops_delivery);
    tcase_add_test(tc, test_lua_bus_handler_may_unsubscribe_itself);
    tcase_add_test(tc, test_lua_bus_publish_lua_value_to_lua_subscribers);
    tcase_add_test(tc, test_lua_bus_publish_struct_reaches_c_subscribers);
    tcase_add_test(tc, test_lua_bus_misuse_names_the_argument);
    tcase_add_test(tc, test_lua_exec_submit_returns_the_client_order_id);
    tcase_add_test(tc, test_lua_exec_submit_denied_returns_nil_and_the_reason);
    tcase_add_test(tc, test_lua_exec_submit_misuse_names_the_field);
    tcase_add_test(tc, test_lua_exec_cancel_modify_cancel_all);
    tcase_add_test(tc, test_lua_exec_cannot_touch_another_strategys_order);
    tcase_add_test(tc, test_lua_cache_accessors);
    tcase_add_test(tc, test_lua_clock_now_is_the_runtime_clock);
    tcase_add_test(tc, test_lua_timers_after_every_cancel);
    tcase_add_test(tc, test_lua_log_levels_and_format);
    tcase_add_test(tc, test_lua_params_numbers_become_numbers);
    tcase_add_test(tc, test_lua_enum_helpers_and_methods);
    suite_add_tcase(s, tc);
    return cq_test_run(s);
}
