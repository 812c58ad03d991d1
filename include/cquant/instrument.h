/*
 * instrument.h - building instrument specifications and converting exact
 * decimals to an instrument's integer increments.
 *
 * An instrument's tick and step are decimals: tick_size == tick_units *
 * 10^-price_precision, where price_precision is the number of significant
 * decimals of the tick ("0.01000000" -> precision 2, units 1; "0.5" ->
 * precision 1, units 5). Books count prices in ticks and sizes in steps;
 * these helpers do that conversion exactly or refuse (CQ_ERANGE: the value
 * is not on the grid).
 */
#ifndef CQUANT_INSTRUMENT_H
#define CQUANT_INSTRUMENT_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/decimal.h"
#include "cquant/event.h"

/* Fill *out (zeroed first) with id "SYMBOL.VENUE", the assets, and the
 * increments given as decimal strings (e.g. "0.01", "0.00001000"). The
 * instrument is tradable. CQ_EINVAL for NULL/empty/over-long names or a
 * symbol/venue containing '.', CQ_EPARSE or CQ_ERANGE for a bad or
 * non-positive increment. */
int cq_instrument_init(cq_instrument_t *out, const char *symbol, const char *venue,
                       const char *base, const char *quote, const char *tick, const char *step);

/* Price -> ticks and quantity -> steps, exactly. CQ_ERANGE if off the grid
 * or too large, CQ_EINVAL for a negative value. */
int cq_instrument_ticks(const cq_instrument_t *spec, cq_decimal_t price, int64_t *ticks);
int cq_instrument_steps(const cq_instrument_t *spec, cq_decimal_t qty, int64_t *steps);

/* The nearest double of ticks * tick_size and steps * step_size, computed
 * from the exact decimal (never 0.30000000000000004). */
double cq_instrument_price(const cq_instrument_t *spec, int64_t ticks);
double cq_instrument_qty(const cq_instrument_t *spec, int64_t steps);

#endif
