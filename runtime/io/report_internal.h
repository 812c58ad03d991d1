/*
 * report_internal.h - what report.c (collector, metrics, summary, CSV
 * files) and report_html.c (report.html) share: the collector's layout and
 * the fixed-format number, time and duration printers.
 *
 * Not a public header: nothing outside runtime/io/report*.c includes it.
 */
#ifndef CQUANT_REPORT_INTERNAL_H
#define CQUANT_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cquant/report.h"

/* One equity sample, as fed. */
typedef struct cq_rp_sample {
    int64_t ts;
    double equity, price, position;
} cq_rp_sample_t;

/* What the price chart needs of a fill: where to put its marker. */
typedef struct cq_rp_fill {
    int64_t ts;
    double price;
    int32_t side;
    int32_t reserved_;
} cq_rp_fill_t;

/* One order as fed, with the instrument id it was given for. */
typedef struct cq_rp_order {
    cq_order_t o;
    char instrument[48];
} cq_rp_order_t;

/* The round trip being built from the fill sequence (report.c, "Round
 * trips"). dir == 0: flat, no trip open. */
typedef struct cq_rp_trip {
    int32_t dir;              /* +1 long, -1 short, 0 flat */
    int64_t entry_ns;
    double pos;               /* |position|, > 0 while open */
    double entry_qty, entry_notional;
    double exit_qty, exit_notional;
    double fees;
} cq_rp_trip_t;

struct cq_report {
    /* configuration, strings copied */
    char *strategy, *instrument, *quote_asset, *params;
    double starting_equity;
    int64_t sample_period_ns;

    cq_rp_sample_t *samples;
    size_t nsamples, capsamples;
    cq_rp_fill_t *fills;
    size_t nfills, capfills;
    cq_report_trade_t *trades;
    size_t ntrades, captrades;
    cq_rp_order_t *orders;
    size_t norders, caporders;

    cq_rp_trip_t trip;
    double fees;              /* sum of fill fees, in feeding order */
    double traded_notional;   /* sum of |price * qty| */
};

/* Longest outputs of the printers below, with the NUL. */
#define CQ_RP_NUM 64
#define CQ_RP_TIME 32
#define CQ_RP_DUR 48

/* x with `decimals` digits after the point ("%.*f"); NaN "n/a", infinities
 * "inf" / "-inf"; a value that rounds to zero prints without a minus sign.
 * The caller runs under the C locale (cq_rp_locale_enter). */
void cq_rp_fmt_fixed(char *buf, size_t n, double x, int decimals);
/* "%.8f" with trailing zeros (and a bare point) removed: 60123.45, 0.00001,
 * 12. The CSV files' number format. */
void cq_rp_fmt_num(char *buf, size_t n, double x);
/* ISO 8601 UTC with milliseconds: 2026-01-05T00:00:00.000Z. */
void cq_rp_fmt_time(char *buf, size_t n, int64_t ns);
/* A span: "3d 04:05:06", "04:05:06", "00:00:01.250" (milliseconds only
 * when there are any); negative spans get a leading '-'. */
void cq_rp_fmt_dur(char *buf, size_t n, int64_t ns);
/* A sampling period, short: "1m", "5s", "250ms", "1h", "1d", "1500us". */
void cq_rp_fmt_period(char *buf, size_t n, int64_t ns);

/* Write report.html to f. 0 or CQ_ENOMEM; write errors are the caller's
 * (ferror on f). */
int cq_rp_write_html(const cq_report_t *r, const cq_report_metrics_t *m, FILE *f);

#endif
