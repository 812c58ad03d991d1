/*
 * instrument.c - instrument specifications from decimal increments, and
 * exact conversion of wire decimals to ticks and steps.
 *
 * Never rounds: a value off the grid is refused, because a price that is
 * not on the tick is a sign of a wrong specification or bad data, and
 * rounding it would hide that.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/decimal_div.h"
#include "cquant/error.h"
#include "cquant/instrument.h"

static const double pow10_tab[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
                                   1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

/* Units and precision of an increment: "0.01000000" -> 1, 2. */
static int increment(const char *text, int64_t *units, int32_t *precision)
{
    cq_decimal_t d;
    int rc = cq_decimal_parse(text, strlen(text), &d);
    if (rc < 0)
        return rc;
    if (d.mant <= 0)
        return CQ_ERANGE;
    while (d.exp > 0 && d.mant % 10 == 0) {
        d.mant /= 10;
        d.exp--;
    }
    *units = d.mant;
    *precision = d.exp;
    return 0;
}

static int copy_name(char *dst, size_t cap, const char *src, int no_dot)
{
    if (!src || !*src)
        return CQ_EINVAL;
    size_t n = strnlen(src, cap);
    if (n >= cap || (no_dot && memchr(src, '.', n)))
        return CQ_EINVAL;
    memcpy(dst, src, n + 1);
    return 0;
}

int cq_instrument_init(cq_instrument_t *out, const char *symbol, const char *venue,
                       const char *base, const char *quote, const char *tick, const char *step)
{
    if (!out || !tick || !step)
        return CQ_EINVAL;
    cq_instrument_t s;
    memset(&s, 0, sizeof s);
    int rc;
    if ((rc = copy_name(s.symbol, sizeof s.symbol, symbol, 1)) < 0 ||
        (rc = copy_name(s.venue, sizeof s.venue, venue, 1)) < 0 ||
        (rc = copy_name(s.base, sizeof s.base, base, 0)) < 0 ||
        (rc = copy_name(s.quote, sizeof s.quote, quote, 0)) < 0)
        return rc;
    snprintf(s.id, sizeof s.id, "%s.%s", s.symbol, s.venue);
    if ((rc = increment(tick, &s.tick_units, &s.price_precision)) < 0 ||
        (rc = increment(step, &s.step_units, &s.size_precision)) < 0)
        return rc;
    s.hdr.type = CQ_EV_INSTRUMENT;
    s.tick_size = (double)s.tick_units / pow10_tab[s.price_precision];
    s.step_size = (double)s.step_units / pow10_tab[s.size_precision];
    s.tradable = 1;
    *out = s;
    return 0;
}

/* Kept out of line so that the quick cases below need no stack frame. */
static __attribute__((noinline)) int to_grid(cq_decimal_t d, int32_t precision, int64_t unit,
                                             int64_t *out)
{
    if (d.mant < 0)
        return CQ_EINVAL;
    int64_t v;
    int rc = cq_decimal_to_units(d, precision, &v);
    if (rc < 0)
        return rc;
    if (unit <= 0 || v % unit != 0)
        return CQ_ERANGE;
    *out = v / unit;
    return 0;
}

/* Every book level goes through these two. The usual case is answered
 * inline: a tick or step of one unit of its precision ("0.01", not "0.05")
 * and a wire decimal with at least as many fraction digits as that
 * precision, which is then one exact division by a power of ten, or none
 * (core/decimal_div.h). */
int cq_instrument_ticks(const cq_instrument_t *spec, cq_decimal_t price, int64_t *ticks)
{
    if (!spec || !ticks)
        return CQ_EINVAL;
    if (spec->tick_units == 1 && dec_units_quick_case(price, spec->price_precision))
        return dec_units_quick(price, spec->price_precision, ticks);
    return to_grid(price, spec->price_precision, spec->tick_units, ticks);
}

int cq_instrument_steps(const cq_instrument_t *spec, cq_decimal_t qty, int64_t *steps)
{
    if (!spec || !steps)
        return CQ_EINVAL;
    if (spec->step_units == 1 && dec_units_quick_case(qty, spec->size_precision))
        return dec_units_quick(qty, spec->size_precision, steps);
    return to_grid(qty, spec->size_precision, spec->step_units, steps);
}

/* units / 10^p: one correctly rounded division while units < 2^53. */
static double scaled(int64_t n, int64_t unit, int32_t precision)
{
    if (precision < 0 || precision > 18)
        return NAN;
    return (double)(n * unit) / pow10_tab[precision];
}

double cq_instrument_price(const cq_instrument_t *spec, int64_t ticks)
{
    return spec ? scaled(ticks, spec->tick_units, spec->price_precision) : NAN;
}

double cq_instrument_qty(const cq_instrument_t *spec, int64_t steps)
{
    return spec ? scaled(steps, spec->step_units, spec->size_precision) : NAN;
}
