/*
 * runtime.h - one trading runtime, assembled: bus, cache, DataEngine,
 * RiskEngine, Portfolio, simulated venue, ExecutionEngine, optional SQLite
 * journal, timers and the clock, plus the market-data sources that drive
 * them (recorded .cqd files, the synthetic market).
 *
 * The runtime owns the clock. cq_rt_run_until processes, in time order,
 * everything due up to a time: venue requests and reports (the sim's
 * latencies), timers, and the next market event of every source. Ties at
 * one instant: venue work first, then timers, then market data; between
 * sources, the order they were added. A timer due at t therefore fires
 * before any event stamped after t (DESIGN.md, "Clock and timers"). In a
 * backtest the caller runs to the end as fast as the CPU allows; in real
 * time the loop (cq_rt_loop_*) calls it with the wall clock.
 *
 * Wiring the runtime does itself: every book batch and trade the DataEngine
 * publishes reaches the sim venue (so resting orders fill) before any
 * strategy sees it, and marks the portfolio to the mid; the ExecutionEngine
 * is ticked (timeouts, the lost rule) on a periodic timer.
 *
 * The app layer builds on it (cquant run / backtest / demo); strategies
 * reach it through the Lua host (strategy.h) with cq_rt_lua_env.
 */
#ifndef CQUANT_RUNTIME_H
#define CQUANT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/bus.h"
#include "cquant/cache.h"
#include "cquant/data_engine.h"
#include "cquant/exec.h"
#include "cquant/journal.h"
#include "cquant/log.h"
#include "cquant/portfolio.h"
#include "cquant/replay.h"
#include "cquant/risk.h"
#include "cquant/sim_venue.h"
#include "cquant/strategy.h"
#include "cquant/synth.h"
#include "cquant/timer.h"

typedef struct cq_rt_config {
    const char *journal;        /* SQLite journal path; NULL = none */
    int64_t order_latency_ns;   /* sim: submit to venue */
    int64_t report_latency_ns;  /* sim: venue to us */
    double maker_fee_bps, taker_fee_bps;
    uint64_t seed;              /* sim fault draws */
    cq_risk_limits_t risk;      /* defaults for every strategy */
    int64_t exec_tick_ns;       /* cq_exec_tick period, 0 = 100 ms */
    int64_t id_epoch_ns;        /* base of generated client ids without a journal
                                   (cq_exec_config_t); 0 = wall clock. A backtest
                                   passes a fixed value so its ids, and so its
                                   output files, are the same in every run */
    const cq_log_t *log;        /* NULL: warnings to stderr */
} cq_rt_config_t;

typedef struct cq_rt cq_rt_t;

/* err gets a one-line message (journal cannot be opened...). */
int cq_rt_create(cq_rt_t **out, const cq_rt_config_t *cfg, char *err, size_t errlen);
/* Closes the journal (after a checkpoint) and frees everything. */
void cq_rt_destroy(cq_rt_t *rt);

/* Sources. A .cqd file (its instruments are registered in the cache), or
 * the synthetic market (its instrument handle goes to *instrument). */
int cq_rt_add_cqd(cq_rt_t *rt, const char *path, char *err, size_t errlen);
int cq_rt_add_synth(cq_rt_t *rt, const cq_synth_config_t *cfg, uint32_t *instrument);

/* The replay counters (records read, events handed over...) summed over
 * every .cqd source; zeros without one. */
void cq_rt_replay_stats(const cq_rt_t *rt, cq_replay_stats_t *out);

/* Time of the first pending market event of any source (INT64_MAX: none). */
int64_t cq_rt_next_data_ts(const cq_rt_t *rt);
/* Set the clock (it never goes back). Call it once before running, with the
 * first data time, so timers started at load time count from there. */
void cq_rt_set_now(cq_rt_t *rt, int64_t now);
int64_t cq_rt_now(const cq_rt_t *rt);

/* Process everything due at or before `until`, in time order. Returns the
 * number of market events handed to the DataEngine (>= 0) or a negative
 * CQ_E* code (a corrupt file: message via err). Stops early when every
 * source is exhausted (then *done = 1; done may be NULL) - with data
 * exhausted, venue work and timers due up to the last data time are still
 * processed, nothing later. */
long cq_rt_run_until(cq_rt_t *rt, int64_t until, int *done, char *err, size_t errlen);

/* Journal restart: load the journal's open orders into the cache and make
 * the ExecutionEngine track them (they are queried at once). *count gets
 * how many. No-op without a journal. */
int cq_rt_restore(cq_rt_t *rt, size_t *count);

/* Starting funds (cq_portfolio_set_balance). */
int cq_rt_set_balance(cq_rt_t *rt, const char *venue, const char *asset, double total);
/* The mark of an instrument: its book's mid while the book is valid, else
 * the mid of its last quote, else its last trade price. CQ_ENOENT when
 * there is none yet. Equity, the status line and the report use it. */
int cq_rt_mark(const cq_rt_t *rt, uint32_t instrument, double *mid);
/* Equity of a venue's account in one asset: that asset's balance plus every
 * other asset's balance converted at the mark (cq_rt_mark) of the instrument BASE+asset
 * on that venue (assets without such an instrument with a mid are left
 * out). */
double cq_rt_equity(const cq_rt_t *rt, const char *venue, const char *asset);

/* The environment for the Lua host. */
void cq_rt_lua_env(cq_rt_t *rt, cq_lua_env_t *out);

/* Components, for the app layer and tests. */
cq_bus_t *cq_rt_bus(cq_rt_t *rt);
cq_cache_t *cq_rt_cache(cq_rt_t *rt);
cq_data_engine_t *cq_rt_data(cq_rt_t *rt);
cq_exec_t *cq_rt_exec(cq_rt_t *rt);
cq_sim_t *cq_rt_sim(cq_rt_t *rt);
cq_portfolio_t *cq_rt_portfolio(cq_rt_t *rt);
cq_risk_t *cq_rt_risk(cq_rt_t *rt);
cq_timers_t *cq_rt_timers(cq_rt_t *rt);
cq_journal_t *cq_rt_journal(cq_rt_t *rt);   /* NULL without one */
const cq_log_t *cq_rt_log(const cq_rt_t *rt);

#endif
