/*
 * bar.c - bar aggregation from trades (time, tick and volume bars).
 *
 * Owns nothing but the running bar; never allocates. The closing rules are
 * stated in bar.h and are the contract live and backtest share: a time bar
 * is stamped with its end whether a trade or a timer closed it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/bar.h"
#include "cquant/error.h"
#include "cquant/time.h"

#define DAY_NS (INT64_C(86400) * CQ_NS_PER_SEC)

int cq_bar_spec_parse(const char *text, cq_bar_spec_t *out)
{
    if (!text || !out)
        return CQ_EINVAL;
    size_t n = strnlen(text, CQ_BAR_SPEC_MAX + 1);
    if (n == 0 || n > CQ_BAR_SPEC_MAX)
        return CQ_EPARSE;
    char unit = text[n - 1];
    char num[CQ_BAR_SPEC_MAX + 1];
    memcpy(num, text, n - 1);
    num[n - 1] = 0;
    if (n < 2 || num[0] < '0' || num[0] > '9')
        return CQ_EPARSE;
    cq_bar_spec_t s = {0};
    if (unit == 'v') {
        char *end;
        double v = strtod(num, &end);
        if (*end)
            return CQ_EPARSE;
        if (!(v > 0) || !isfinite(v))
            return CQ_ERANGE;
        s.kind = CQ_BAR_VOLUME;
        s.volume = v;
        *out = s;
        return 0;
    }
    int64_t v = 0;
    for (const char *p = num; *p; p++) {
        if (*p < '0' || *p > '9')
            return CQ_EPARSE;
        if (v > INT64_C(100000000000))
            return CQ_ERANGE;
        v = v * 10 + (*p - '0');
    }
    if (v <= 0)
        return CQ_ERANGE;
    int64_t mult;
    switch (unit) {
    case 't':
        s.kind = CQ_BAR_TICK;
        s.ticks = v;
        *out = s;
        return 0;
    case 's': mult = CQ_NS_PER_SEC; break;
    case 'm': mult = 60 * CQ_NS_PER_SEC; break;
    case 'h': mult = 3600 * CQ_NS_PER_SEC; break;
    case 'd': mult = DAY_NS; break;
    default: return CQ_EPARSE;
    }
    if (v > DAY_NS / mult)
        return CQ_ERANGE;
    s.kind = CQ_BAR_TIME;
    s.step_ns = v * mult;
    *out = s;
    return 0;
}

int cq_bar_spec_format(const cq_bar_spec_t *spec, char *buf, int cap)
{
    if (!spec || !buf || cap <= 0)
        return CQ_EINVAL;
    int n;
    switch (spec->kind) {
    case CQ_BAR_TIME: {
        int64_t s = spec->step_ns;
        if (s % DAY_NS == 0)
            n = snprintf(buf, (size_t)cap, "%lldd", (long long)(s / DAY_NS));
        else if (s % (3600 * CQ_NS_PER_SEC) == 0)
            n = snprintf(buf, (size_t)cap, "%lldh", (long long)(s / (3600 * CQ_NS_PER_SEC)));
        else if (s % (60 * CQ_NS_PER_SEC) == 0)
            n = snprintf(buf, (size_t)cap, "%lldm", (long long)(s / (60 * CQ_NS_PER_SEC)));
        else
            n = snprintf(buf, (size_t)cap, "%llds", (long long)(s / CQ_NS_PER_SEC));
        break;
    }
    case CQ_BAR_TICK: n = snprintf(buf, (size_t)cap, "%lldt", (long long)spec->ticks); break;
    case CQ_BAR_VOLUME: n = snprintf(buf, (size_t)cap, "%.15gv", spec->volume); break;
    default: return CQ_EINVAL;
    }
    return n < cap ? n : CQ_ETOOLONG;
}

int cq_bar_agg_init(cq_bar_agg_t *agg, uint32_t instrument, const cq_bar_spec_t *spec,
                    cq_bar_emit_fn emit, void *user)
{
    if (!agg || !spec || !emit)
        return CQ_EINVAL;
    if (!(spec->kind == CQ_BAR_TIME && spec->step_ns >= CQ_NS_PER_SEC && spec->step_ns <= DAY_NS) &&
        !(spec->kind == CQ_BAR_TICK && spec->ticks > 0) &&
        !(spec->kind == CQ_BAR_VOLUME && spec->volume > 0 && isfinite(spec->volume)))
        return CQ_EINVAL;
    memset(agg, 0, sizeof *agg);
    agg->spec = *spec;
    agg->instrument = instrument;
    agg->emit = emit;
    agg->user = user;
    agg->last_ts = INT64_MIN;
    return 0;
}

static int64_t floor_to(int64_t t, int64_t step)
{
    int64_t q = t / step;
    if (t % step < 0)
        q--;
    return q * step;
}

static void start_bar(cq_bar_agg_t *agg, int64_t ts_open, double price)
{
    cq_bar_t *b = &agg->cur;
    memset(b, 0, sizeof *b);
    b->hdr.type = CQ_EV_BAR;
    b->hdr.instrument = agg->instrument;
    b->kind = agg->spec.kind;
    b->spec_value = agg->spec.kind == CQ_BAR_TIME   ? (double)agg->spec.step_ns / CQ_NS_PER_SEC
                    : agg->spec.kind == CQ_BAR_TICK ? (double)agg->spec.ticks
                                                    : agg->spec.volume;
    b->ts_open = ts_open;
    b->open = b->high = b->low = b->close = price;
    agg->notional = 0;
    agg->open = 1;
}

static void emit_bar(cq_bar_agg_t *agg, int64_t ts_close)
{
    cq_bar_t *b = &agg->cur;
    b->hdr.ts_event = ts_close;
    b->hdr.ts_init = ts_close;
    b->vwap = b->volume > 0 ? agg->notional / b->volume : b->close;
    agg->last_close = b->close;
    agg->has_close = 1;
    agg->open = 0;
    /* Nothing stamped before a closed bar's end may join a later bar. */
    if (ts_close > agg->last_ts)
        agg->last_ts = ts_close;
    agg->emit(agg->user, b);
}

/* Close the running time bar and, with fill_empty, the empty intervals up to
 * (not including) the one containing t. Returns bars emitted. */
static int close_time_bars_before(cq_bar_agg_t *agg, int64_t t)
{
    int emitted = 0;
    if (agg->open && t >= agg->end) {
        emit_bar(agg, agg->end);
        emitted++;
    }
    if (agg->fill_empty && agg->has_close) {
        while (agg->end + agg->spec.step_ns <= t) {
            start_bar(agg, agg->end, agg->last_close);
            agg->end += agg->spec.step_ns;
            emit_bar(agg, agg->end);
            emitted++;
        }
    }
    return emitted;
}

int cq_bar_agg_trade(cq_bar_agg_t *agg, const cq_trade_t *t)
{
    if (!agg || !t)
        return CQ_EINVAL;
    if (!isfinite(t->price) || !isfinite(t->qty) || t->price < 0 || t->qty < 0)
        return CQ_EINVAL;
    int64_t ts = t->hdr.ts_event;
    if (ts < agg->last_ts) {
        agg->out_of_order++;
        return CQ_ESTATE;
    }
    agg->last_ts = ts;
    int emitted = 0;
    if (agg->spec.kind == CQ_BAR_TIME) {
        emitted = close_time_bars_before(agg, ts);
        if (!agg->open) {
            int64_t start = floor_to(ts, agg->spec.step_ns);
            start_bar(agg, start, t->price);
            agg->end = start + agg->spec.step_ns;
        }
    } else if (!agg->open) {
        start_bar(agg, ts, t->price);
    }
    cq_bar_t *b = &agg->cur;
    if (t->price > b->high)
        b->high = t->price;
    if (t->price < b->low)
        b->low = t->price;
    b->close = t->price;
    b->volume += t->qty;
    b->trades++;
    agg->notional += t->price * t->qty;
    if ((agg->spec.kind == CQ_BAR_TICK && b->trades >= agg->spec.ticks) ||
        (agg->spec.kind == CQ_BAR_VOLUME && b->volume >= agg->spec.volume)) {
        emit_bar(agg, ts);
        emitted++;
    }
    return emitted;
}

int cq_bar_agg_advance(cq_bar_agg_t *agg, int64_t now)
{
    if (!agg)
        return CQ_EINVAL;
    if (agg->spec.kind != CQ_BAR_TIME)
        return 0;
    /* A timer may not close a bar that a later-stamped trade could still
     * join: only intervals that ended at or before now. */
    return close_time_bars_before(agg, now);
}
