/*
 * risk.h - the RiskEngine: pre-trade checks every order passes before the
 * ExecutionEngine may send it.
 *
 * cq_risk_check() answers 0 (pass) or CQ_EDENIED with a one-line reason
 * naming the check and the numbers ("qty 0.0001 below min_qty 0.001"). A
 * denied order never reaches a venue: the ExecutionEngine turns the denial
 * into a DENIED order event carrying the reason.
 *
 * Checks, in this order (the first failure is reported):
 *   1. trading state: HALTED denies everything; REDUCING allows only an
 *      order that reduces the strategy's position in that instrument (side
 *      opposite to the position, qty <= |position|) -- the kill switch;
 *   2. the instrument is known (has a spec in the cache) and tradable;
 *   3. qty > 0 and on the step; price (LIMIT, LIMIT_MAKER, STOP_LIMIT) > 0
 *      and on the tick; trigger price (STOP_*) > 0 and on the tick. "On" the
 *      grid allows for binary rounding: |x/inc - round(x/inc)| <= 1e-6;
 *   4. min_qty <= qty <= max_qty (the instrument's; 0 = no limit);
 *   5. notional = qty x price (MARKET: x the opposite side of the latest
 *      quote, else the latest trade; with neither, the notional checks are
 *      skipped) >= the instrument's min_notional and <= max_notional;
 *   6. max position: |position + open and in-flight orders on the same side
 *      + this order| <= max_position (base units), per instrument and
 *      strategy; reduce-only orders are exempt;
 *   7. order rate per strategy: a token bucket of `burst` orders refilled
 *      at `rate` per second, on the runtime clock (the `now` argument).
 *
 * Limits are set per (instrument, strategy) with fallbacks: an entry for
 * both, else for the instrument (strategy 0), else for the strategy
 * (instrument 0), else the defaults. 0 in a limit means "no limit".
 */
#ifndef CQUANT_RISK_H
#define CQUANT_RISK_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/cache.h"
#include "cquant/event.h"
#include "cquant/log.h"

enum { CQ_TRADING_ACTIVE = 1, CQ_TRADING_REDUCING = 2, CQ_TRADING_HALTED = 3 };

typedef struct cq_risk_limits {
    double max_notional;   /* per order, quote asset; 0 = none */
    double max_position;   /* |net position| incl. working orders, base units; 0 = none */
    double rate;           /* orders per second per strategy; 0 = none */
    double burst;          /* token bucket size (>= 1 when rate > 0) */
} cq_risk_limits_t;

typedef struct cq_risk_stats {
    uint64_t checked;
    uint64_t denied;
    uint64_t denied_state, denied_instrument, denied_grid, denied_qty, denied_notional,
        denied_position, denied_rate;
} cq_risk_stats_t;

typedef struct cq_risk cq_risk_t;

/* defaults may be NULL (no limits). */
int cq_risk_create(cq_risk_t **out, const cq_cache_t *cache, const cq_risk_limits_t *defaults,
                   const cq_log_t *log);
void cq_risk_destroy(cq_risk_t *r);

/* Set the limits for (instrument, strategy); 0 = any. CQ_EINVAL for
 * negative or non-finite values, or rate > 0 with burst < 1. */
int cq_risk_set_limits(cq_risk_t *r, uint32_t instrument, uint32_t strategy, const cq_risk_limits_t *lim);

/* The kill switch. CQ_EINVAL for an unknown state. */
int cq_risk_set_state(cq_risk_t *r, int32_t state);
int32_t cq_risk_state(const cq_risk_t *r);

/* Check an order (hdr.instrument and hdr.strategy set) at time now (ns).
 * 0 or CQ_EDENIED with reason (may be NULL) filled; CQ_EINVAL for NULL.
 * A passing order consumes one token of its strategy's rate bucket. */
int cq_risk_check(cq_risk_t *r, const cq_order_t *o, int64_t now, char *reason, size_t cap);

void cq_risk_stats(const cq_risk_t *r, cq_risk_stats_t *out);

#endif
