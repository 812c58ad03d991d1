/*
 * risk.c - pre-trade checks (see risk.h for the list and their order).
 *
 * Owns the limits table, the token buckets and the trading state; reads
 * the cache (specs, positions, working orders, latest quote and trade) and
 * never writes it. Allocates only when limits are set or a strategy is
 * first seen by the rate limiter.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/error.h"
#include "cquant/risk.h"

typedef struct limit_entry {
    uint32_t instrument, strategy;
    cq_risk_limits_t lim;
} limit_entry_t;

typedef struct bucket {
    double tokens;
    int64_t last;   /* ns of the last refill */
} bucket_t;

struct cq_risk {
    const cq_cache_t *cache;
    const cq_log_t *log;
    int32_t state;
    cq_risk_limits_t defaults;
    limit_entry_t *limits;
    size_t nlimits;
    bucket_t *buckets;          /* by strategy handle */
    size_t nbuckets;
    cq_order_t **scratch;       /* working orders, for the position check */
    size_t nscratch;
    cq_risk_stats_t stats;
};

int cq_risk_create(cq_risk_t **out, const cq_cache_t *cache, const cq_risk_limits_t *defaults,
                   const cq_log_t *log)
{
    if (!out || !cache)
        return CQ_EINVAL;
    cq_risk_t *r = calloc(1, sizeof *r);
    if (!r)
        return CQ_ENOMEM;
    r->cache = cache;
    r->log = log;
    r->state = CQ_TRADING_ACTIVE;
    if (defaults) {
        int rc = cq_risk_set_limits(r, 0, 0, defaults);
        if (rc < 0) {
            free(r);
            return rc;
        }
    }
    *out = r;
    return 0;
}

void cq_risk_destroy(cq_risk_t *r)
{
    if (!r)
        return;
    free(r->limits);
    free(r->buckets);
    free(r->scratch);
    free(r);
}

static int valid_limit(double v) { return isfinite(v) && v >= 0; }

int cq_risk_set_limits(cq_risk_t *r, uint32_t instrument, uint32_t strategy, const cq_risk_limits_t *lim)
{
    if (!r || !lim || !valid_limit(lim->max_notional) || !valid_limit(lim->max_position) ||
        !valid_limit(lim->rate) || !valid_limit(lim->burst) || (lim->rate > 0 && lim->burst < 1))
        return CQ_EINVAL;
    if (instrument == 0 && strategy == 0) {
        r->defaults = *lim;
        return 0;
    }
    for (size_t i = 0; i < r->nlimits; i++)
        if (r->limits[i].instrument == instrument && r->limits[i].strategy == strategy) {
            r->limits[i].lim = *lim;
            return 0;
        }
    limit_entry_t *p = realloc(r->limits, (r->nlimits + 1) * sizeof *p);
    if (!p)
        return CQ_ENOMEM;
    r->limits = p;
    r->limits[r->nlimits++] = (limit_entry_t){instrument, strategy, *lim};
    return 0;
}

int cq_risk_set_state(cq_risk_t *r, int32_t state)
{
    if (!r || state < CQ_TRADING_ACTIVE || state > CQ_TRADING_HALTED)
        return CQ_EINVAL;
    if (state != r->state)
        cq_logf(r->log, CQ_LOG_WARN, "risk", "trading state %s -> %s",
                r->state == CQ_TRADING_ACTIVE ? "ACTIVE" : r->state == CQ_TRADING_REDUCING ? "REDUCING" : "HALTED",
                state == CQ_TRADING_ACTIVE ? "ACTIVE" : state == CQ_TRADING_REDUCING ? "REDUCING" : "HALTED");
    r->state = state;
    return 0;
}

int32_t cq_risk_state(const cq_risk_t *r) { return r ? r->state : 0; }

void cq_risk_stats(const cq_risk_t *r, cq_risk_stats_t *out)
{
    if (r && out)
        *out = r->stats;
}

/* Most specific limits for (instrument, strategy). */
static const cq_risk_limits_t *limits_for(const cq_risk_t *r, uint32_t inst, uint32_t strat)
{
    const cq_risk_limits_t *by_inst = NULL, *by_strat = NULL;
    for (size_t i = 0; i < r->nlimits; i++) {
        const limit_entry_t *e = &r->limits[i];
        if (e->instrument == inst && e->strategy == strat)
            return &e->lim;
        if (e->instrument == inst && e->strategy == 0)
            by_inst = &e->lim;
        if (e->instrument == 0 && e->strategy == strat)
            by_strat = &e->lim;
    }
    return by_inst ? by_inst : by_strat ? by_strat : &r->defaults;
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int deny(cq_risk_t *r, uint64_t *counter, char *reason, size_t cap, const char *fmt, ...)
{
    r->stats.denied++;
    (*counter)++;
    if (reason && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, cap, fmt, ap);
        va_end(ap);
    }
    return CQ_EDENIED;
}

static int on_grid(double x, double inc)
{
    double k = x / inc;
    return fabs(k - nearbyint(k)) <= 1e-6;
}

static double position_qty(const cq_risk_t *r, uint32_t inst, uint32_t strat)
{
    const cq_position_t *p = cq_cache_position(r->cache, inst, strat);
    return p ? p->qty : 0.0;
}

/* Quantity still working at the venue (or on its way) on one side. */
static double working_qty(cq_risk_t *r, uint32_t inst, uint32_t strat, int32_t side)
{
    static const int32_t sets[2] = {CQ_ORDERS_OPEN, CQ_ORDERS_INFLIGHT};
    double sum = 0;
    for (int k = 0; k < 2; k++) {
        int32_t set = sets[k];
        cq_order_query_t q = {set, inst, strat};
        long n = cq_cache_orders(r->cache, &q, NULL, 0);
        if (n <= 0)
            continue;
        if ((size_t)n > r->nscratch) {
            cq_order_t **p = realloc(r->scratch, (size_t)n * sizeof *p);
            if (!p)
                return INFINITY; /* cannot prove it is within limits */
            r->scratch = p;
            r->nscratch = (size_t)n;
        }
        n = cq_cache_orders(r->cache, &q, r->scratch, r->nscratch);
        for (long i = 0; i < n; i++) {
            const cq_order_t *o = r->scratch[i];
            /* PENDING_* orders are in both sets: count them once */
            if (set == CQ_ORDERS_INFLIGHT && cq_order_status_is_open(o->status))
                continue;
            if (o->side == side && !(o->opts & CQ_ORDER_OPT_REDUCE_ONLY))
                sum += o->qty - o->filled_qty;
        }
    }
    return sum;
}

static int take_token(cq_risk_t *r, uint32_t strat, const cq_risk_limits_t *lim, int64_t now)
{
    if (lim->rate <= 0)
        return 1;
    if (strat >= r->nbuckets) {
        size_t n = r->nbuckets ? r->nbuckets : 16;
        while (n <= strat)
            n *= 2;
        bucket_t *p = realloc(r->buckets, n * sizeof *p);
        if (!p)
            return 0;
        for (size_t i = r->nbuckets; i < n; i++)
            p[i] = (bucket_t){-1, 0}; /* -1: never used */
        r->buckets = p;
        r->nbuckets = n;
    }
    bucket_t *b = &r->buckets[strat];
    if (b->tokens < 0) {
        b->tokens = lim->burst;
        b->last = now;
    } else if (now > b->last) {
        b->tokens += (double)(now - b->last) * 1e-9 * lim->rate;
        if (b->tokens > lim->burst)
            b->tokens = lim->burst;
        b->last = now;
    }
    if (b->tokens < 1)
        return 0;
    b->tokens -= 1;
    return 1;
}

int cq_risk_check(cq_risk_t *r, const cq_order_t *o, int64_t now, char *reason, size_t cap)
{
    if (!r || !o)
        return CQ_EINVAL;
    if (reason && cap)
        reason[0] = 0;
    r->stats.checked++;
    uint32_t inst = o->hdr.instrument, strat = o->hdr.strategy;
    int buy = o->side == CQ_SIDE_BUY;
    if (o->side != CQ_SIDE_BUY && o->side != CQ_SIDE_SELL)
        return deny(r, &r->stats.denied_qty, reason, cap, "side must be BUY or SELL");
    double pos = position_qty(r, inst, strat);
    if (r->state == CQ_TRADING_HALTED)
        return deny(r, &r->stats.denied_state, reason, cap, "trading is HALTED");
    if (r->state == CQ_TRADING_REDUCING) {
        int reduces = (buy ? pos < 0 : pos > 0) && o->qty <= fabs(pos) * (1 + 1e-12);
        if (!reduces)
            return deny(r, &r->stats.denied_state, reason, cap,
                        "trading is REDUCING and this order does not reduce the position (%.10g)", pos);
    }
    const cq_instrument_t *spec = cq_cache_instrument(r->cache, inst);
    if (!spec)
        return deny(r, &r->stats.denied_instrument, reason, cap, "unknown instrument (handle %u)", inst);
    if (!spec->tradable)
        return deny(r, &r->stats.denied_instrument, reason, cap, "%s is not tradable", spec->id);
    if (!(o->qty > 0) || !isfinite(o->qty))
        return deny(r, &r->stats.denied_grid, reason, cap, "qty must be a positive number");
    if (!on_grid(o->qty, spec->step_size))
        return deny(r, &r->stats.denied_grid, reason, cap, "qty %.12g is not a multiple of step %.12g", o->qty,
                    spec->step_size);
    int has_price = o->type == CQ_ORDER_LIMIT || o->type == CQ_ORDER_LIMIT_MAKER || o->type == CQ_ORDER_STOP_LIMIT;
    int has_trigger = o->type == CQ_ORDER_STOP_MARKET || o->type == CQ_ORDER_STOP_LIMIT;
    if (has_price && (!(o->price > 0) || !isfinite(o->price)))
        return deny(r, &r->stats.denied_grid, reason, cap, "%s order needs a positive price",
                    cq_order_type_name(o->type));
    if (has_price && !on_grid(o->price, spec->tick_size))
        return deny(r, &r->stats.denied_grid, reason, cap, "price %.12g is not on tick %.12g", o->price,
                    spec->tick_size);
    if (has_trigger && (!(o->trigger_price > 0) || !on_grid(o->trigger_price, spec->tick_size)))
        return deny(r, &r->stats.denied_grid, reason, cap, "trigger price %.12g must be positive and on tick %.12g",
                    o->trigger_price, spec->tick_size);
    if (spec->min_qty > 0 && o->qty < spec->min_qty * (1 - 1e-9))
        return deny(r, &r->stats.denied_qty, reason, cap, "qty %.12g below min_qty %.12g", o->qty, spec->min_qty);
    if (spec->max_qty > 0 && o->qty > spec->max_qty * (1 + 1e-9))
        return deny(r, &r->stats.denied_qty, reason, cap, "qty %.12g above max_qty %.12g", o->qty, spec->max_qty);
    const cq_risk_limits_t *lim = limits_for(r, inst, strat);
    double px = has_price ? o->price : 0;
    if (!has_price) {
        const cq_quote_t *q = cq_cache_quote(r->cache, inst);
        const cq_trade_t *t = cq_cache_trade(r->cache, inst);
        if (q && (buy ? q->ask_price : q->bid_price) > 0)
            px = buy ? q->ask_price : q->bid_price;
        else if (t)
            px = t->price;
        else if (o->type == CQ_ORDER_STOP_MARKET)
            px = o->trigger_price;
    }
    if (px > 0) {
        double notional = px * o->qty;
        if (spec->min_notional > 0 && notional < spec->min_notional * (1 - 1e-9))
            return deny(r, &r->stats.denied_notional, reason, cap, "notional %.12g below min_notional %.12g",
                        notional, spec->min_notional);
        if (lim->max_notional > 0 && notional > lim->max_notional)
            return deny(r, &r->stats.denied_notional, reason, cap, "notional %.12g above max_notional %.12g",
                        notional, lim->max_notional);
    }
    if (lim->max_position > 0 && !(o->opts & CQ_ORDER_OPT_REDUCE_ONLY)) {
        double projected = pos + (buy ? 1 : -1) * (working_qty(r, inst, strat, o->side) + o->qty);
        if (fabs(projected) > lim->max_position * (1 + 1e-9))
            return deny(r, &r->stats.denied_position, reason, cap,
                        "position would reach %.12g (with working orders), above max_position %.12g", projected,
                        lim->max_position);
    }
    if (!take_token(r, strat, lim, now))
        return deny(r, &r->stats.denied_rate, reason, cap, "order rate above %.6g/s (burst %.6g)", lim->rate,
                    lim->burst);
    return 0;
}
