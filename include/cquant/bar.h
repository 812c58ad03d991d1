/*
 * bar.h - bar aggregation from trades: time, tick and volume bars.
 *
 * One aggregator per (instrument, spec). Feed it trades in time order; it
 * calls the emit function with each finished bar (OHLCV, trade count, VWAP).
 *
 * Time bars cover [start, start + step), aligned to multiples of step since
 * the Unix epoch (a 1d bar is a UTC day), on the trades' ts_event. A trade
 * stamped exactly on a boundary belongs to the bar that starts there. A time
 * bar closes at the earlier of:
 *   - the first trade stamped at or after its end (cq_bar_agg_trade), or
 *   - a timer at its end (cq_bar_agg_advance(now) with now >= end).
 * Either way the bar carries ts_event = its end, so live (timer) and backtest
 * (trade-driven or simulated timer) produce identical bars. An interval with
 * no trades produces no bar unless fill_empty is set, in which case it
 * produces a flat bar at the previous close with volume 0 and 0 trades.
 * Once a time bar has closed (by trade or timer), a trade stamped before its
 * end is late: it is counted in out_of_order and not applied.
 *
 * Tick bars close on their N-th trade; volume bars on the trade that brings
 * the volume to at least V (the trade is not split, so a volume bar may hold
 * more than V). Both carry ts_event = the closing trade's ts_event.
 */
#ifndef CQUANT_BAR_H
#define CQUANT_BAR_H

#include <stdint.h>

#include "cquant/event.h"

#define CQ_BAR_SPEC_MAX 15

typedef struct cq_bar_spec {
    int32_t kind;       /* CQ_BAR_TIME / CQ_BAR_TICK / CQ_BAR_VOLUME */
    int64_t step_ns;    /* time bars: 1s .. 1d */
    int64_t ticks;      /* tick bars: trades per bar */
    double volume;      /* volume bars: volume per bar */
} cq_bar_spec_t;

/* Parse "1s", "15s", "1m", "5m", "1h", "4h", "1d" (time: 1s..1d, whole
 * seconds), "100t" (tick), "2.5v" (volume). CQ_EPARSE on anything else,
 * CQ_ERANGE outside the limits. */
int cq_bar_spec_parse(const char *text, cq_bar_spec_t *out);

/* Canonical text of a spec ("1m", "100t", "2.5v"), as used in topics
 * data.bars.<VENUE>.<SYMBOL>.<SPEC>. Returns the length or CQ_ETOOLONG. */
int cq_bar_spec_format(const cq_bar_spec_t *spec, char *buf, int cap);

typedef void (*cq_bar_emit_fn)(void *user, const cq_bar_t *bar);

typedef struct cq_bar_agg {
    cq_bar_spec_t spec;
    uint32_t instrument;
    int fill_empty;
    cq_bar_emit_fn emit;
    void *user;
    /* running bar */
    cq_bar_t cur;
    double notional;    /* sum of price * qty, for VWAP */
    int open;           /* cur has at least one trade */
    int64_t end;        /* time bars: end of cur's interval */
    double last_close;  /* for fill_empty */
    int has_close;
    int64_t last_ts;    /* watermark: latest trade ts_event or closed bar end */
    uint64_t out_of_order; /* trades older than last_ts, ignored */
} cq_bar_agg_t;

int cq_bar_agg_init(cq_bar_agg_t *agg, uint32_t instrument, const cq_bar_spec_t *spec,
                    cq_bar_emit_fn emit, void *user);

/* Add a trade. Returns the number of bars emitted (>= 0), or CQ_EINVAL for a
 * non-finite or negative price/qty, or CQ_ESTATE for a trade older than one
 * already seen (counted in out_of_order, not applied). */
int cq_bar_agg_trade(cq_bar_agg_t *agg, const cq_trade_t *t);

/* Timer: close a time bar whose end is <= now. Returns bars emitted. */
int cq_bar_agg_advance(cq_bar_agg_t *agg, int64_t now);

#endif
