/*
 * lua_fx.h - the fixture of the Lua host tests (tests/test_lua_*.c): the
 * real chain a strategy runs against - cache, bus, DataEngine (books),
 * RiskEngine, Portfolio, the simulated venue, the ExecutionEngine, timers -
 * set up as tests/test_exec.c does, with an int64_t clock the test
 * advances, a log that is captured, and strategy files in a temp dir.
 *
 * The instrument is BTCUSDT.BINANCE (tick 0.01, step 0.00001), its book
 * 100.00 / 100.10 with 5 levels of 1.0 a side, strategy files are written
 * with lfx_write.
 */
#ifndef CQ_LUA_FX_H
#define CQ_LUA_FX_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/book.h"
#include "cquant/bus.h"
#include "cquant/cache.h"
#include "cquant/data_engine.h"
#include "cquant/exec.h"
#include "cquant/portfolio.h"
#include "cquant/risk.h"
#include "cquant/sim_venue.h"
#include "cquant/strategy.h"
#include "cquant/timer.h"

#define LFX_T0 ((int64_t)1700000000000000000)
#define LFX_MS ((int64_t)1000000)

typedef struct lfx {
    cq_cache_t *cache;
    cq_bus_t *bus;
    cq_data_engine_t *de;
    cq_risk_t *risk;
    cq_portfolio_t *pf;
    cq_sim_t *sim;
    cq_exec_t *ex;
    cq_timers_t *timers;
    cq_lua_t *lua;
    cq_log_t log;
    int64_t clock;
    uint32_t inst;
    char dir[256];
    char *logbuf;             /* captured log lines, "LEVEL module: msg\n" */
    size_t loglen, logcap;
    uint64_t log_errors;      /* ERROR lines */
} lfx_t;

typedef struct lfx_opts {
    uint32_t max_errors;
    int cancel_on_stop;
    int64_t latency_ns;       /* sim order and report latency */
    int log_level;            /* default CQ_LOG_DEBUG */
} lfx_opts_t;

/* opts may be NULL. Aborts the test on failure. */
lfx_t *lfx_new(const lfx_opts_t *opts);
void lfx_free(lfx_t *f);

/* Write a file under the fixture's temp dir (subdirectories created);
 * returns its path (static buffer, copy it if needed). */
const char *lfx_write(lfx_t *f, const char *name, const char *src);

/* Load + start; aborts with the error on failure. */
uint32_t lfx_start(lfx_t *f, const char *name, const char *file, const char *src, const char *const *params);

/* A trade stamped now, shown to the sim, then through the DataEngine
 * (cache + data.trades.BINANCE.BTCUSDT). */
void lfx_trade(lfx_t *f, double price, double qty, int32_t aggressor);

/* Move the clock by dt: sim reports, timers, exec timeouts. */
void lfx_advance(lfx_t *f, int64_t dt);

/* cq_lua_eval of an expression; the result (static buffer); aborts on error. */
const char *lfx_eval(lfx_t *f, uint32_t strategy, const char *code);
double lfx_num(lfx_t *f, uint32_t strategy, const char *code);

/* cq_lua_eval that must fail with a runtime error (CQ_ESTATE); returns
 * the message (static buffer). */
const char *lfx_eval_err(lfx_t *f, uint32_t strategy, const char *code);

int lfx_log_has(const lfx_t *f, const char *needle);
void lfx_log_clear(lfx_t *f);
/* Grow the log buffer now (a test that runs out of memory on purpose). */
void lfx_log_reserve(lfx_t *f, size_t bytes);

cq_lua_info_t lfx_info(lfx_t *f, uint32_t strategy);

#endif
