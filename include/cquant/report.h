/*
 * report.h - backtest results: metrics, the terminal summary, and the files
 * of --out (report.html, trades.csv, orders.csv, equity.csv).
 *
 * The backtest driver feeds the collector while it runs (equity samples on a
 * fixed simulated-time period, every fill, every order at its end, price
 * samples) and asks for the report at the end. Metrics are defined in
 * docs/backtest.md; everything is computed from what was fed, in a fixed
 * order, and printed with fixed formats, so the same inputs give
 * byte-identical outputs.
 *
 * report.html is one self-contained file: inline SVG charts (equity,
 * drawdown, price with buy/sell markers), the metric tables, no script or
 * network fetch needed to view it.
 */
#ifndef CQUANT_REPORT_H
#define CQUANT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cquant/event.h"

typedef struct cq_report cq_report_t;

typedef struct cq_report_config {
    const char *strategy;      /* name shown in the report */
    const char *instrument;    /* the instrument traded / charted, "BTCUSDT.BINANCE" */
    const char *quote_asset;   /* "USDT": the currency of equity */
    double starting_equity;    /* in the quote asset */
    int64_t sample_period_ns;  /* the period of cq_report_equity samples (for Sharpe/Sortino) */
    const char *params;        /* "k=v k=v" as given, shown in the report; may be NULL */
} cq_report_config_t;

/* One round trip: from flat (or a reversal) back to flat (or the next
 * reversal). docs/backtest.md, "Round trips". */
typedef struct cq_report_trade {
    int64_t entry_ns, exit_ns; /* first opening fill, the fill that closed it */
    int32_t side;              /* CQ_SIDE_BUY = long, CQ_SIDE_SELL = short */
    int32_t reserved_;
    double qty;                /* total quantity opened (= closed) */
    double avg_entry, avg_exit;/* quantity-weighted mean prices of the opening / closing fills */
    double pnl;                /* net of fees, quote asset */
    double fees;               /* its share of the fills' fees */
    double ret;                /* pnl / entry notional */
} cq_report_trade_t;

/* Everything a report shows. A value that is undefined for the run (win
 * rate without trades, total return from a starting equity <= 0...) is NaN
 * and printed "n/a"; Sharpe and Sortino are 0 when undefined. */
typedef struct cq_report_metrics {
    int64_t start_ns, end_ns;  /* period covered (first/last sample) */
    uint64_t events;           /* market events replayed (set by the driver) */
    double wall_seconds;       /* set by the driver */
    double events_per_sec;
    double start_equity, end_equity;
    double total_return;       /* fraction: 0.05 = +5 % */
    double sharpe, sortino;    /* annualized from the sample period; 0 when undefined */
    double max_drawdown;       /* amount, quote asset (>= 0) */
    double max_drawdown_pct;   /* fraction of the peak */
    int64_t max_drawdown_ns;   /* longest time below a previous peak */
    uint64_t fills;
    uint64_t trades;           /* round trips closed (a position back to flat or reversed) */
    double win_rate;           /* winning round trips / round trips */
    double profit_factor;      /* gross profit / gross loss (0 if no loss and no profit; inf shown as "inf") */
    double avg_win, avg_loss;  /* per round trip, quote asset; avg_loss <= 0 */
    double fees;
    double exposure;           /* fraction of time with a non-zero position */
    double turnover;           /* traded notional / starting equity */
    uint64_t orders;           /* orders submitted (closed or not) */
} cq_report_metrics_t;

int cq_report_create(cq_report_t **out, const cq_report_config_t *cfg);
void cq_report_destroy(cq_report_t *r);

/* One equity sample at ts: equity = cash + position at the mark; price =
 * the mark (mid) used, NAN if none; position = net quantity. Samples come
 * in time order, ts >= 0; equity and position finite; else CQ_EINVAL. */
int cq_report_equity(cq_report_t *r, int64_t ts, double equity, double price, double position);
/* One fill of the strategy (side BUY/SELL, price > 0, qty > 0, a finite
 * fee in the quote asset, time hdr.ts_event or else hdr.ts_init, >= 0);
 * else CQ_EINVAL and nothing is recorded. */
int cq_report_fill(cq_report_t *r, const cq_fill_t *fill);
/* One order, once, in its final (or last known) state. */
int cq_report_order(cq_report_t *r, const cq_order_t *order, const char *instrument_id);

/* Round trips closed so far, in closing order; *n gets their number. The
 * pointer is valid until the next cq_report_fill or cq_report_destroy. */
const cq_report_trade_t *cq_report_trades(const cq_report_t *r, size_t *n);

/* Compute the metrics (events and wall_seconds are the driver's, copied;
 * the rest computed from what was fed). */
int cq_report_metrics(cq_report_t *r, uint64_t events, double wall_seconds, cq_report_metrics_t *out);
/* The terminal summary, a fixed-width table. */
int cq_report_print(const cq_report_t *r, const cq_report_metrics_t *m, FILE *f);
/* Write report.html, trades.csv, orders.csv, equity.csv into dir (created
 * if missing). err gets a one-line message. Wall time and events/s are the
 * only run-dependent numbers; they are left out of the files so two runs
 * give byte-identical files. */
int cq_report_write(const cq_report_t *r, const cq_report_metrics_t *m, const char *dir,
                    char *err, size_t errlen);

#endif
