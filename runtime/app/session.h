/*
 * session.h - one strategy on one assembled runtime, with its report
 * collector: what `cquant backtest` runs per parameter set and what
 * `cquant run` and the demo run in real time. Shared so the three cannot
 * drift apart (code parity is the point of the product).
 */
#ifndef CQ_APP_SESSION_H
#define CQ_APP_SESSION_H

#include <stdint.h>
#include <stdio.h>

#include "app/opts.h"
#include "cquant/report.h"
#include "cquant/runtime.h"
#include "cquant/strategy.h"

typedef struct cq_session {
    cq_opts_t opts;
    cq_log_t log;
    cq_rt_t *rt;
    cq_lua_t *lua;
    cq_report_t *report;
    uint32_t strategy;     /* handle */
    uint32_t instrument;   /* the instrument reported on */
    char strategy_name[64];
    char venue[16], base[16], quote[16], inst_id[48];
    double start_equity;
    int64_t sample_ns;
    uint64_t events;
} cq_session_t;

/* Build the runtime from opts (journal, latencies, fees, seed), add the
 * sources (--data files, or the synthetic market when synth is non-NULL),
 * set balances, load the strategy (not started). err gets a one-line
 * message; returns 0, 1 (runtime failure) or 2 (bad input: the command
 * line or the strategy file). */
int cq_session_open(cq_session_t *s, const cq_opts_t *opts, const cq_synth_config_t *synth,
                    char *err, size_t errlen);
/* Start the strategy and the equity sampler. */
int cq_session_start(cq_session_t *s, char *err, size_t errlen);
/* Stop the strategy, hand the orders to the report. */
void cq_session_finish(cq_session_t *s);
void cq_session_close(cq_session_t *s);

/* A one-line status: position, PnL, open orders, equity. */
void cq_session_status(cq_session_t *s, char *buf, size_t len);

#endif
