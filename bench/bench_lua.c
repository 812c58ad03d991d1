/*
 * bench_lua.c - delivery of bus events into a Lua strategy.
 *
 *   lua.deliver             cq_bus_publish of a cq_trade_t to one Lua
 *                           handler (a strategy's bus.subscribe) that reads
 *                           price, qty and aggressor; ns per event, with
 *   lua.deliver.c_handler   the same publish to a C handler reading the
 *                           same fields, as its baseline
 *   lua.pcall.empty         the floor: lua_pcall of an empty Lua function
 *                           with a traceback handler, from C (a plain state)
 *
 * And the delivery designs that were measured against each other (plain
 * LuaJIT state, no bus; the handler reads the same three fields):
 *
 *   lua.alt.box             C overwrites the pointer inside a persistent
 *                           `const cq_trade_t *` cdata (what the host does)
 *   lua.alt.number          the address as a number, ffi.cast in Lua (the
 *                           JIT sinks the cast while the pointer does not
 *                           escape; it allocates once it does)
 *   lua.alt.lightuserdata   a light userdata, ffi.cast in Lua (allocates;
 *                           the JIT cannot compile the cast)
 *
 * The events cycle through 64 different trades, so the handler's reads are
 * real.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bench.h"
#include "cquant/bus.h"
#include "cquant/cache.h"
#include "cquant/error.h"
#include "cquant/exec.h"
#include "cquant/instrument.h"
#include "cquant/portfolio.h"
#include "cquant/risk.h"
#include "cquant/sim_venue.h"
#include "cquant/strategy.h"
#include "cquant/timer.h"

#define N_EVENTS 5000000ULL
#define NTRADES 64

#define CHECK(c)                                                                   \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "bench_lua: %s:%d: %s\n", __FILE__, __LINE__, #c);     \
            exit(1);                                                               \
        }                                                                          \
    } while (0)

typedef struct chain {
    cq_cache_t *cache;
    cq_bus_t *bus;
    cq_risk_t *risk;
    cq_portfolio_t *pf;
    cq_sim_t *sim;
    cq_exec_t *ex;
    cq_timers_t *timers;
    cq_lua_t *lua;
    int64_t clock;
    cq_topic_t topic;
    uint32_t inst;
    cq_trade_t trades[NTRADES];
    double sum;
    double n;
} chain_t;

static void report(void *user, const cq_exec_report_t *r)
{
    cq_exec_on_report(((chain_t *)user)->ex, r);
}

static void chain_init(chain_t *c, const char *dir)
{
    static cq_log_t quiet = {CQ_LOG_WARN, NULL, NULL};
    memset(c, 0, sizeof *c);
    c->clock = (int64_t)1700000000000000000;
    CHECK(cq_cache_create(&c->cache, NULL) == 0);
    CHECK(cq_bus_create(&c->bus) == 0);
    cq_instrument_t spec;
    CHECK(cq_instrument_init(&spec, "BTCUSDT", "BINANCE", "BTC", "USDT", "0.01", "0.00001") == 0);
    CHECK(cq_cache_instrument_add(c->cache, &spec, &c->inst) == 0);
    CHECK(cq_risk_create(&c->risk, c->cache, NULL, &quiet) == 0);
    CHECK(cq_portfolio_create(&c->pf, c->bus, c->cache, &quiet) == 0);
    CHECK(cq_timers_create(&c->timers) == 0);
    cq_sim_config_t sc;
    memset(&sc, 0, sizeof sc);
    sc.report = report;
    sc.report_user = c;
    CHECK(cq_sim_create(&c->sim, &sc, c->cache) == 0);
    cq_venue_t v;
    CHECK(cq_sim_venue(c->sim, &v) == 0);
    CHECK(cq_exec_create(&c->ex, c->bus, c->cache, c->risk, c->pf, &v, NULL, NULL, &quiet) == 0);
    cq_lua_env_t env = {c->bus, c->cache, c->ex, c->timers, NULL, &c->clock, &quiet};
    CHECK(cq_lua_create(&c->lua, &env, NULL) == 0);
    CHECK(cq_bus_topic(c->bus, "data.trades.BINANCE.BTCUSDT", &c->topic) == 0);
    for (int i = 0; i < NTRADES; i++) {
        cq_trade_t *t = &c->trades[i];
        t->hdr.type = CQ_EV_TRADE;
        t->hdr.instrument = c->inst;
        t->price = 100 + i * 0.01;
        t->qty = 0.5 + (i & 3);
        t->aggressor = 1 + (i & 1);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/bench_strategy.lua", dir);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs("local S = {}\n"
          "local sum, n = 0, 0\n"
          "function S.on_start()\n"
          "  bus.subscribe('data.trades.BINANCE.BTCUSDT', function(t)\n"
          "    sum = sum + t.price * t.qty\n"
          "    if t.aggressor == 1 then n = n + 1 end\n"
          "  end)\n"
          "end\n"
          "function result() return sum, n end\n"
          "return S\n",
          f);
    CHECK(fclose(f) == 0);
    uint32_t id;
    char err[256];
    CHECK(cq_lua_load(c->lua, path, "BENCH", NULL, &id, err, sizeof err) == 0);
    CHECK(cq_lua_start(c->lua, id, err, sizeof err) == 0);
    unlink(path);
}

static void chain_free(chain_t *c)
{
    cq_lua_destroy(c->lua);
    cq_exec_destroy(c->ex);
    cq_sim_destroy(c->sim);
    cq_timers_destroy(c->timers);
    cq_portfolio_destroy(c->pf);
    cq_risk_destroy(c->risk);
    cq_bus_destroy(c->bus);
    cq_cache_destroy(c->cache);
}

static void run_publish(void *ctx, uint64_t n)
{
    chain_t *c = ctx;
    for (uint64_t i = 0; i < n; i++)
        cq_bus_publish(c->bus, c->topic, &c->trades[i & (NTRADES - 1)]);
}

static void on_trade_c(void *user, cq_topic_t topic, const void *msg)
{
    (void)topic;
    chain_t *c = user;
    const cq_trade_t *t = msg;
    c->sum += t->price * t->qty;
    if (t->aggressor == 1)
        c->n += 1;
}

/* ---- plain LuaJIT state: the floor and the alternatives ------------------------ */

typedef struct plain {
    lua_State *L;
    int ref_tb, ref_fn, ref_box;
    void **slot;
    int mode; /* 0 empty, 1 box, 2 number, 3 light userdata */
    cq_trade_t *trades;
} plain_t;

static void run_plain(void *ctx, uint64_t n)
{
    plain_t *p = ctx;
    lua_State *L = p->L;
    for (uint64_t i = 0; i < n; i++) {
        const cq_trade_t *m = &p->trades[i & (NTRADES - 1)];
        int top = lua_gettop(L);
        lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref_tb);
        lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref_fn);
        void *prev = NULL;
        switch (p->mode) {
        case 0:
            lua_pushnil(L);
            break;
        case 1:
            prev = *p->slot;
            *p->slot = (void *)(uintptr_t)m;
            lua_rawgeti(L, LUA_REGISTRYINDEX, p->ref_box);
            break;
        case 2:
            lua_pushnumber(L, (lua_Number)(uintptr_t)m);
            break;
        default:
            lua_pushlightuserdata(L, (void *)(uintptr_t)m);
        }
        if (lua_pcall(L, 1, 0, top + 1) != 0) {
            fprintf(stderr, "bench_lua: %s\n", lua_tostring(L, -1));
            exit(1);
        }
        if (p->mode == 1)
            *p->slot = prev;
        lua_settop(L, top);
    }
}

static const char *PLAIN_SRC =
    "local ffi = require('ffi')\n"
    "ffi.cdef[[typedef struct { int32_t type; uint32_t flags, instrument, strategy;\n"
    "  int64_t ts_event, ts_init; } hdr_t;\n"
    "  typedef struct { hdr_t hdr; double price, qty; uint64_t trade_id; int32_t aggressor, r; } trade_t;]]\n"
    "local sum, n = 0, 0\n"
    "local tp, cast = ffi.typeof('const trade_t *'), ffi.cast\n"
    "box = ffi.new('const trade_t *')\n"
    "function h_empty() end\n"
    "function h_box(t) sum = sum + t.price * t.qty; if t.aggressor == 1 then n = n + 1 end end\n"
    "function h_num(a) local t = cast(tp, a); sum = sum + t.price * t.qty;\n"
    "  if t.aggressor == 1 then n = n + 1 end end\n"
    "h_lud = h_num\n"
    "function tb(e) return debug.traceback(e, 2) end\n";

static double bench_plain(cq_trade_t *trades, int mode)
{
    static const char *const fn[] = {"h_empty", "h_box", "h_num", "h_lud"};
    plain_t p;
    memset(&p, 0, sizeof p);
    p.L = luaL_newstate();
    CHECK(p.L);
    luaL_openlibs(p.L);
    CHECK(luaL_dostring(p.L, PLAIN_SRC) == 0);
    lua_getglobal(p.L, "tb");
    p.ref_tb = luaL_ref(p.L, LUA_REGISTRYINDEX);
    lua_getglobal(p.L, fn[mode]);
    p.ref_fn = luaL_ref(p.L, LUA_REGISTRYINDEX);
    lua_getglobal(p.L, "box");
    p.slot = (void **)(uintptr_t)lua_topointer(p.L, -1);
    p.ref_box = luaL_ref(p.L, LUA_REGISTRYINDEX);
    p.mode = mode;
    p.trades = trades;
    double ns = cq_bench_run(run_plain, &p, mode == 3 ? N_EVENTS / 10 : N_EVENTS);
    lua_close(p.L);
    return ns;
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    chain_t *c = calloc(1, sizeof *c);
    CHECK(c);
    chain_init(c, tmp && *tmp ? tmp : "/tmp");

    double lua_ns = cq_bench_run(run_publish, c, N_EVENTS);
    cq_sub_t sub;
    /* the C handler alone on the topic */
    cq_lua_destroy(c->lua);
    c->lua = NULL;
    CHECK(cq_bus_handler_count(c->bus, c->topic) == 0);
    CHECK(cq_bus_subscribe(c->bus, "data.trades.BINANCE.BTCUSDT", 0, on_trade_c, c, &sub) == 0);
    double c_ns = cq_bench_run(run_publish, c, N_EVENTS);
    CQ_BENCH_USE(c->sum);

    double empty = bench_plain(c->trades, 0);
    cq_bench_print("lua.deliver", lua_ns, N_EVENTS, c_ns);
    cq_bench_print("lua.deliver.c_handler", c_ns, N_EVENTS, 0);
    cq_bench_print("lua.pcall.empty", empty, N_EVENTS, 0);
    cq_bench_print("lua.alt.box", bench_plain(c->trades, 1), N_EVENTS, empty);
    cq_bench_print("lua.alt.number", bench_plain(c->trades, 2), N_EVENTS, empty);
    cq_bench_print("lua.alt.lightuserdata", bench_plain(c->trades, 3), N_EVENTS / 10, empty);

    cq_bus_unsubscribe(c->bus, sub);
    chain_free(c);
    free(c);
    return 0;
}
