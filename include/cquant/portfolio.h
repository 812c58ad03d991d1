/*
 * portfolio.h - positions per (instrument, strategy) and balances per
 * (venue, asset), kept from fills as exact integers.
 *
 * Every fill is converted once to the instrument's integer increments:
 * price -> ticks, quantity -> steps (a value not within 1e-9 relative, and
 * a quarter increment, of a whole number of increments is refused: fills
 * come from the venue on the instrument's grid). From there on nothing is
 * a double:
 *
 *   qty       signed steps (int64)
 *   notional  (ticks * tick_units) * (steps * step_units), in units of
 *             10^-S of the quote asset, S = price_precision + size_precision
 *   cost      the cost basis of the open quantity, >= 0, units of 10^-S
 *   realized  realized PnL, units of 10^-S
 *   balances  and fees: units of 10^-18 of their asset (CQ_ASSET_SCALE)
 *
 * Realized PnL follows the average-cost method (docs/portfolio.md has the
 * rules and a worked example): a fill on the side of the position (or from
 * flat) adds its notional to the cost basis; a fill against it releases
 * the proportional part of the cost basis, cost * closed / open, rounded to
 * the nearest unit of 10^-S (ties to even), and realizes proceeds minus
 * released cost (long) or released cost minus cost to buy back (short); a
 * fill that crosses zero closes the whole position that way and opens the
 * rest at the fill price. The rounding only decides how a unit is split
 * between realized PnL and the remaining basis: their sum is exact, and
 * whenever the position is flat the realized PnL is exactly the average-cost
 * value.
 *
 * The cache's cq_position_t and cq_balance_t are rewritten after every fill
 * from the integers (each double converted once; correctly rounded while
 * the integers involved are below 2^53), and published:
 *   events.position.<STRATEGY>   cq_position_t (the cache's record)
 *   events.account.<VENUE>       cq_balance_t, once per balance the fill changed
 * Topics are interned once per position and balance, never per fill.
 *
 * Fees: a fill's fee is taken in its fee_asset as the shortest decimal (at
 * most 18 places) within 1e-14 relative of the double. It is subtracted
 * from that asset's balance and added to the balance's fee total; when the
 * asset is the instrument's quote it is also the position's `fees`. Base-
 * asset fees reduce the base balance, not the position's quantity.
 * Realized PnL is gross: net = realized_pnl - fees.
 *
 * Balances: buy = +qty base, -notional quote; sell the reverse; -fee.
 * `total` is the portfolio's; `free` is written as total - locked; `locked`
 * is never touched (order reservations are not the portfolio's business).
 * A balance the cache already held when the portfolio first touches it is
 * adopted (converted as cq_portfolio_set_balance does).
 *
 * Errors: CQ_EINVAL (NULL, a side that is not BUY/SELL, a non-finite or
 * non-positive price or quantity, off the grid, non-finite fee, fee without
 * an asset, strategy 0, bad names), CQ_ENOENT (instrument or strategy the
 * cache does not know), CQ_ERANGE (an integer would overflow, or an
 * instrument whose S exceeds 18), CQ_ESTATE (the instrument's increments
 * changed after the portfolio used them), CQ_ENOMEM. A refused fill moves no
 * amount and is counted and logged (WARN, module "portfolio"); records it
 * looked up on the way (a flat position, an empty balance) may remain.
 */
#ifndef CQUANT_PORTFOLIO_H
#define CQUANT_PORTFOLIO_H

#include <stdint.h>

#include "cquant/bus.h"
#include "cquant/cache.h"
#include "cquant/event.h"
#include "cquant/log.h"

#define CQ_ASSET_SCALE 18 /* balances and fees: units of 10^-18 of the asset */

/* Exact amounts need more than 64 bits (a GCC/Clang extension; this header
 * is not part of the FFI text). */
typedef __int128 cq_i128_t;

typedef struct cq_portfolio cq_portfolio_t;

typedef struct cq_position_exact {
    int64_t qty_steps;     /* signed: > 0 long, < 0 short */
    int32_t scale;         /* S: money amounts below are in units of 10^-S */
    int32_t reserved_;
    cq_i128_t cost;        /* cost basis of the open quantity (>= 0), 10^-S */
    cq_i128_t realized;    /* realized PnL (gross of fees), 10^-S */
    cq_i128_t fees;        /* fees charged in the quote asset, 10^-18 */
} cq_position_exact_t;

typedef struct cq_balance_exact {
    cq_i128_t total;       /* 10^-18 of the asset */
    cq_i128_t fees;        /* fees paid in this asset so far, 10^-18 */
} cq_balance_exact_t;

typedef struct cq_portfolio_stats {
    uint64_t fills;              /* applied */
    uint64_t bad_fills;          /* refused with CQ_EINVAL */
    uint64_t unknown;            /* refused with CQ_ENOENT */
    uint64_t overflows;          /* refused with CQ_ERANGE */
    uint64_t other_errors;       /* CQ_ESTATE, CQ_ENOMEM */
    uint64_t marks;              /* cq_portfolio_mark calls applied */
} cq_portfolio_stats_t;

/* bus, cache and out are required; log may be NULL. */
int cq_portfolio_create(cq_portfolio_t **out, cq_bus_t *bus, cq_cache_t *cache, const cq_log_t *log);
void cq_portfolio_destroy(cq_portfolio_t *p);

/* Apply one fill: fill->hdr.instrument (with a spec in the cache),
 * hdr.strategy (interned in the cache, not 0), side, price, qty, fee,
 * fee_asset. Writes the cache's position and balances and publishes them. */
int cq_portfolio_apply_fill(cq_portfolio_t *p, const cq_fill_t *fill);

/* Mark every position of an instrument to mid (finite, > 0; need not be on
 * the tick: a mid often sits half a tick off it). Rewrites unrealized_pnl =
 * (mid - avg) * qty, computed in double from the exact cost basis. Not
 * published (it would follow every quote): read it from the cache. Until
 * the first mark, positions are marked at the instrument's last fill price. */
int cq_portfolio_mark(cq_portfolio_t *p, uint32_t instrument, double mid);

/* Set a balance's total (initial funds, or the venue's word after a
 * reconciliation), keeping its fee total. The double is taken as the
 * shortest decimal within 1e-14 relative; the _units form is exact: units *
 * 10^-scale, scale 0..18. Publishes on events.account.<VENUE>. */
int cq_portfolio_set_balance(cq_portfolio_t *p, const char *venue, const char *asset, double total);
int cq_portfolio_set_balance_units(cq_portfolio_t *p, const char *venue, const char *asset,
                                   int64_t units, int32_t scale);

/* The exact integers. CQ_ENOENT if the portfolio never touched it. */
int cq_portfolio_position_exact(const cq_portfolio_t *p, uint32_t instrument, uint32_t strategy,
                                cq_position_exact_t *out);
int cq_portfolio_balance_exact(const cq_portfolio_t *p, const char *venue, const char *asset,
                               cq_balance_exact_t *out);

/* Zeros if p is NULL. */
void cq_portfolio_stats(const cq_portfolio_t *p, cq_portfolio_stats_t *out);

#endif
