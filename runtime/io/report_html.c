/*
 * report_html.c - report.html: one self-contained page with the metric
 * table, three inline SVG charts (equity, drawdown, price with buy/sell
 * markers) and the first trades.
 *
 * Owns nothing past a call: one temporary array of the plotted series.
 * The page needs no script, font, image or network fetch (a
 * Content-Security-Policy of default-src 'none' says so to the browser),
 * so it opens offline and a hostile string in it cannot run.
 *
 * Long series are downsampled to at most MAX_POINTS points per line,
 * keeping each bucket's minimum and maximum, so a spike or a drawdown's
 * bottom is never smoothed away and the file stays a few hundred KB for
 * any run length. Fill markers are bucketed the same way per side.
 *
 * It must never: write a string from the run (strategy, instrument,
 * params, asset) without HTML-escaping it, refer to anything outside the
 * file, or print a number through anything but the fixed formats of
 * report.c (the caller holds the C locale).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/error.h"
#include "io/report_internal.h"

#define MAX_POINTS 2000      /* per line: 2 per bucket */
#define MARKER_BUCKETS 1000  /* per side: at most 2 markers per bucket */
#define HTML_TRADES 500      /* rows of the trades table */
#define GAP SIZE_MAX         /* in a list of indices: break the line */

/* Chart geometry, in viewBox units. */
#define VW 1000.0
#define VH 260.0
#define PL 90.0              /* plot area */
#define PR 990.0
#define PT 12.0
#define PB 226.0

/* ---- escaping ----------------------------------------------------------------- */

/* Text or attribute value: the five HTML specials become references, and
 * control characters (invalid in HTML) U+FFFD. */
static void put_html(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                fputs("&#xFFFD;", f);
            else
                fputc(c, f);
        }
    }
}

/* ---- scales --------------------------------------------------------------------- */

typedef struct {
    double lo, hi;           /* value range, widened to whole ticks */
    double step;             /* between ticks */
    int decimals;            /* of tick labels */
} yscale_t;

typedef struct {
    int64_t t0, t1;          /* time range, t1 > t0 */
} xscale_t;

/* A tick step of 1, 2 or 5 times a power of ten giving about five ticks. */
static void yscale_make(yscale_t *s, double lo, double hi)
{
    if (!(lo <= hi)) { /* no finite value */
        lo = 0;
        hi = 1;
    }
    if (hi == lo) {
        double pad = fabs(lo) > 0 ? fabs(lo) * 0.01 : 1;
        lo -= pad;
        hi += pad;
    }
    double raw = (hi - lo) / 5;
    double mag = pow(10, floor(log10(raw)));
    double fr = raw / mag;
    s->step = (fr < 1.5 ? 1 : fr < 3 ? 2 : fr < 7 ? 5 : 10) * mag;
    s->lo = floor(lo / s->step) * s->step;
    s->hi = ceil(hi / s->step) * s->step;
    if (s->hi <= s->lo)
        s->hi = s->lo + s->step;
    if (!(isfinite(s->step) && s->step > 0 && isfinite(s->lo) && isfinite(s->hi) && s->hi > s->lo)) {
        s->lo = -1; /* a range beyond doubles (1e308 to -1e308): no scale */
        s->hi = 1;
        s->step = 0.5;
    }
    int d = s->step >= 1 ? 0 : (int)ceil(-log10(s->step) - 1e-9);
    s->decimals = d < 0 ? 0 : d > 10 ? 10 : d;
}

/* Clamped a little outside the plot: a value off the scale (only when the
 * scale gave up) must not print as a 300-digit coordinate or "nan". */
static double ymap(const yscale_t *s, double v)
{
    double y = PB - (v - s->lo) / (s->hi - s->lo) * (PB - PT);
    return y > PB + 100 ? PB + 100 : y < PT - 100 ? PT - 100 : y == y ? y : PB;
}

static double xmap(const xscale_t *s, int64_t t)
{
    return PL + (double)(t - s->t0) / (double)(s->t1 - s->t0) * (PR - PL);
}

/* ---- downsampling -------------------------------------------------------------- */

/* The indices of y[0..n) to draw, in order, into idx (room for
 * MAX_POINTS + MAX_POINTS / 2 entries): all of them when they fit, else
 * per bucket of consecutive samples its minimum and maximum (in time
 * order). A non-finite value breaks the line (GAP). */
static size_t downsample(const double *y, size_t n, size_t *idx)
{
    size_t k = 0;
    if (n <= MAX_POINTS) {
        for (size_t i = 0; i < n; i++)
            idx[k++] = isfinite(y[i]) ? i : GAP;
        return k;
    }
    size_t buckets = MAX_POINTS / 2;
    for (size_t b = 0; b < buckets; b++) {
        size_t from = (size_t)((unsigned long long)n * b / buckets);
        size_t to = (size_t)((unsigned long long)n * (b + 1) / buckets);
        size_t imin = GAP, imax = GAP;
        int gap = 0;
        for (size_t i = from; i < to; i++) {
            if (!isfinite(y[i])) {
                gap = 1;
                continue;
            }
            if (imin == GAP || y[i] < y[imin])
                imin = i;
            if (imax == GAP || y[i] > y[imax])
                imax = i;
        }
        if (gap)
            idx[k++] = GAP;
        if (imin == GAP)
            continue;
        if (imin == imax) {
            idx[k++] = imin;
        } else {
            idx[k++] = imin < imax ? imin : imax;
            idx[k++] = imin < imax ? imax : imin;
        }
    }
    return k;
}

/* ---- chart pieces ----------------------------------------------------------------- */

static void chart_open(FILE *f, const char *id, const char *label)
{
    fprintf(f, "<svg id=\"%s\" class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">\n", id, VW,
            VH, label);
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\" stroke=\"#ccc\"/>\n", PL,
            PT, PR - PL, PB - PT);
}

/* Grid lines and labels: y ticks on the left (value * yfactor with a
 * suffix), five time labels below. */
static void chart_axes(FILE *f, const yscale_t *ys, const xscale_t *xs, const char *suffix)
{
    char b[CQ_RP_NUM], t[CQ_RP_TIME];
    fputs("<g font-family=\"sans-serif\" font-size=\"11\" fill=\"#555\">\n", f);
    long nt = lround((ys->hi - ys->lo) / ys->step);
    for (long i = 0; i <= nt && i <= 20; i++) {
        double v = ys->lo + (double)i * ys->step;
        double y = ymap(ys, v);
        cq_rp_fmt_fixed(b, sizeof b, v, ys->decimals);
        fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", PL, PR, y, y);
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s%s</text>\n", PL - 6, y + 4, b, suffix);
    }
    char prev[CQ_RP_TIME] = "";
    for (int i = 0; i <= 4; i++) {
        int64_t ts = xs->t0 + (int64_t)((double)(xs->t1 - xs->t0) * i / 4);
        cq_rp_fmt_time(t, sizeof t, ts);
        t[10] = ' ';
        t[19] = '\0'; /* YYYY-MM-DD HH:MM:SS */
        if (strcmp(t, prev) == 0)
            continue; /* a span of seconds or less: one label */
        memcpy(prev, t, sizeof prev);
        const char *anchor = i == 0 ? "start" : i == 4 ? "end" : "middle";
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\">%s</text>\n", xmap(xs, ts), PB + 16, anchor, t);
    }
    fputs("</g>\n", f);
}

/* The line through the chosen points; with area set, also each segment
 * closed down to value 0 (the drawdown's shading). */
static void chart_line(FILE *f, const int64_t *ts, const double *y, const size_t *idx, size_t k,
                       const yscale_t *ys, const xscale_t *xs, const char *id, const char *attrs, int area)
{
    fprintf(f, "<path id=\"%s\" %s d=\"", id, attrs);
    double base = ymap(ys, 0), last_x = 0;
    int open = 0;
    for (size_t i = 0; i < k; i++) {
        if (idx[i] == GAP) {
            if (open && area)
                fprintf(f, "L%.1f %.1fZ", last_x, base);
            open = 0;
            continue;
        }
        double x = xmap(xs, ts[idx[i]]), yy = ymap(ys, y[idx[i]]);
        if (!open) {
            if (area)
                fprintf(f, "M%.1f %.1fL%.1f %.1f", x, base, x, yy);
            else
                fprintf(f, "M%.1f %.1f", x, yy);
            open = 1;
        } else {
            fprintf(f, "L%.1f %.1f", x, yy);
        }
        last_x = x;
    }
    if (open && area)
        fprintf(f, "L%.1f %.1fZ", last_x, base);
    fputs("\"/>\n", f);
}

static void no_data(FILE *f, const char *what)
{
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"14\" "
               "fill=\"#888\">%s</text>\n",
            (PL + PR) / 2, (PT + PB) / 2, what);
}

static void range_of(const double *y, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]))
            continue;
        if (y[i] < *lo)
            *lo = y[i];
        if (y[i] > *hi)
            *hi = y[i];
    }
}

/* One marker bucket of one side: its lowest and highest fill. */
typedef struct {
    int64_t ts_lo, ts_hi;
    double lo, hi;
    int used;
} mark_t;

static void markers(FILE *f, const cq_report_t *r, const xscale_t *xs, const yscale_t *ys, mark_t *mb,
                    int32_t side)
{
    memset(mb, 0, MARKER_BUCKETS * sizeof *mb);
    for (size_t i = 0; i < r->nfills; i++) {
        const cq_rp_fill_t *fl = &r->fills[i];
        if (fl->side != side)
            continue;
        size_t b = (size_t)((double)(fl->ts - xs->t0) / (double)(xs->t1 - xs->t0) * MARKER_BUCKETS);
        if (b >= MARKER_BUCKETS)
            b = MARKER_BUCKETS - 1;
        mark_t *m = &mb[b];
        if (!m->used || fl->price < m->lo) {
            m->lo = fl->price;
            m->ts_lo = fl->ts;
        }
        if (!m->used || fl->price > m->hi) {
            m->hi = fl->price;
            m->ts_hi = fl->ts;
        }
        m->used = 1;
    }
    /* Buy: a triangle pointing up at the fill; sell: pointing down. */
    const char *shape = side == CQ_SIDE_BUY ? "l-5 9h10z" : "l-5 -9h10z";
    fprintf(f, "<path id=\"markers-%s\" fill=\"%s\" d=\"", side == CQ_SIDE_BUY ? "buy" : "sell",
            side == CQ_SIDE_BUY ? "#2ca02c" : "#d62728");
    for (size_t b = 0; b < MARKER_BUCKETS; b++) {
        const mark_t *m = &mb[b];
        if (!m->used)
            continue;
        fprintf(f, "M%.1f %.1f%s", xmap(xs, m->ts_lo), ymap(ys, m->lo), shape);
        if (m->hi != m->lo || m->ts_hi != m->ts_lo)
            fprintf(f, "M%.1f %.1f%s", xmap(xs, m->ts_hi), ymap(ys, m->hi), shape);
    }
    fputs("\"/>\n", f);
}

/* ---- tables ------------------------------------------------------------------------- */

typedef struct {
    const char *label;
    char value[CQ_RP_NUM + CQ_RP_DUR];
} item_t;

static void put_items(FILE *f, const item_t *it, size_t n)
{
    fputs("<table id=\"metrics\">\n", f);
    for (size_t i = 0; i < n; i += 2) {
        fputs("<tr>", f);
        for (size_t j = i; j < i + 2; j++) {
            if (j < n) {
                fprintf(f, "<th>%s</th><td>", it[j].label);
                put_html(f, it[j].value);
                fputs("</td>", f);
            } else {
                fputs("<th></th><td></td>", f);
            }
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void with_unit(item_t *it, const char *label, double v, int decimals, const char *unit)
{
    char b[CQ_RP_NUM];
    cq_rp_fmt_fixed(b, sizeof b, v, decimals);
    it->label = label;
    snprintf(it->value, sizeof it->value, "%s%s%s", b, isfinite(v) && unit[0] ? " " : "",
             isfinite(v) ? unit : "");
}

static size_t metric_items(const cq_report_t *r, const cq_report_metrics_t *m, item_t *it)
{
    size_t n = 0;
    char b[CQ_RP_NUM];
    it[n].label = "Start";
    if (r->nsamples)
        cq_rp_fmt_time(it[n].value, sizeof it[n].value, m->start_ns);
    else
        snprintf(it[n].value, sizeof it[n].value, "n/a");
    n++;
    it[n].label = "End";
    if (r->nsamples)
        cq_rp_fmt_time(it[n].value, sizeof it[n].value, m->end_ns);
    else
        snprintf(it[n].value, sizeof it[n].value, "n/a");
    n++;
    it[n].label = "Duration";
    if (r->nsamples)
        cq_rp_fmt_dur(it[n].value, sizeof it[n].value, m->end_ns - m->start_ns);
    else
        snprintf(it[n].value, sizeof it[n].value, "n/a");
    n++;
    it[n].label = "Market events";
    snprintf(it[n++].value, sizeof it[0].value, "%llu", (unsigned long long)m->events);
    with_unit(&it[n++], "Start equity", m->start_equity, 2, "");
    with_unit(&it[n++], "End equity", m->end_equity, 2, "");
    with_unit(&it[n++], "Total return", m->total_return * 100, 2, "%");
    it[n].label = "Sample period";
    cq_rp_fmt_period(it[n++].value, sizeof it[0].value, r->sample_period_ns);
    with_unit(&it[n++], "Sharpe (annualized)", m->sharpe, 2, "");
    with_unit(&it[n++], "Sortino (annualized)", m->sortino, 2, "");
    with_unit(&it[n++], "Max drawdown", m->max_drawdown, 2, "");
    with_unit(&it[n++], "Max drawdown %", m->max_drawdown_pct * 100, 2, "%");
    it[n].label = "Longest drawdown";
    cq_rp_fmt_dur(it[n++].value, sizeof it[0].value, m->max_drawdown_ns);
    it[n].label = "Round trips";
    snprintf(it[n++].value, sizeof it[0].value, "%llu", (unsigned long long)m->trades);
    it[n].label = "Fills";
    snprintf(it[n++].value, sizeof it[0].value, "%llu", (unsigned long long)m->fills);
    it[n].label = "Orders";
    snprintf(it[n++].value, sizeof it[0].value, "%llu", (unsigned long long)m->orders);
    with_unit(&it[n++], "Win rate", m->win_rate * 100, 2, "%");
    it[n].label = "Profit factor";
    if (m->trades)
        cq_rp_fmt_fixed(b, sizeof b, m->profit_factor, 2);
    else
        snprintf(b, sizeof b, "n/a");
    snprintf(it[n++].value, sizeof it[0].value, "%s", b);
    with_unit(&it[n++], "Average win", m->avg_win, 2, "");
    with_unit(&it[n++], "Average loss", m->avg_loss, 2, "");
    with_unit(&it[n++], "Fees", m->fees, 2, "");
    with_unit(&it[n++], "Exposure", m->exposure * 100, 2, "%");
    with_unit(&it[n++], "Turnover", m->turnover, 2, "x");
    return n;
}

static void put_trades(FILE *f, const cq_report_t *r)
{
    char t0[CQ_RP_TIME], t1[CQ_RP_TIME], b[CQ_RP_NUM];
    size_t n = r->ntrades < HTML_TRADES ? r->ntrades : HTML_TRADES;
    fprintf(f, "<h2>Round trips</h2>\n<p>%zu round trips", r->ntrades);
    if (n < r->ntrades)
        fprintf(f, "; the first %zu are shown, trades.csv has all", n);
    fputs(".</p>\n<table id=\"trades\">\n<tr><th>#</th><th>side</th><th>entry</th><th>exit</th><th>qty</th>"
          "<th>avg entry</th><th>avg exit</th><th>pnl</th><th>fees</th><th>return</th></tr>\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const cq_report_trade_t *tr = &r->trades[i];
        cq_rp_fmt_time(t0, sizeof t0, tr->entry_ns);
        cq_rp_fmt_time(t1, sizeof t1, tr->exit_ns);
        fprintf(f, "<tr><td>%zu</td><td>%s</td><td>%s</td><td>%s</td>", i + 1,
                tr->side == CQ_SIDE_BUY ? "LONG" : "SHORT", t0, t1);
        const double v[] = {tr->qty, tr->avg_entry, tr->avg_exit, tr->pnl, tr->fees};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            if (k < 3) /* quantities and prices as traded, amounts in cents */
                cq_rp_fmt_num(b, sizeof b, v[k]);
            else
                cq_rp_fmt_fixed(b, sizeof b, v[k], 2);
            fprintf(f, "<td>%s</td>", b);
        }
        cq_rp_fmt_fixed(b, sizeof b, tr->ret * 100, 2);
        fprintf(f, "<td>%s%s</td></tr>\n", b, isfinite(tr->ret) ? " %" : "");
    }
    fputs("</table>\n", f);
}

/* ---- the page -------------------------------------------------------------------------- */

static const char STYLE[] =
    "body{font:14px/1.4 sans-serif;color:#222;margin:16px auto;max-width:1200px;padding:0 12px}\n"
    "h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:20px 0 6px}\n"
    "p.sub{margin:0 0 12px;color:#555}\n"
    "table{border-collapse:collapse}th,td{padding:2px 10px;border-bottom:1px solid #e3e3e3}\n"
    "#metrics th{text-align:left;font-weight:normal;color:#555}#metrics td{text-align:right;"
    "font-variant-numeric:tabular-nums}\n"
    "#trades td{text-align:right;font-variant-numeric:tabular-nums}#trades th{text-align:right}\n"
    "svg.chart{display:block;width:100%;height:auto}\n";

int cq_rp_write_html(const cq_report_t *r, const cq_report_metrics_t *m, FILE *f)
{
    size_t n = r->nsamples;
    double *y = calloc(n ? n : 1, sizeof *y);
    int64_t *ts = calloc(n ? n : 1, sizeof *ts);
    size_t *idx = malloc((MAX_POINTS + MAX_POINTS / 2 + 2) * sizeof *idx);
    mark_t *mb = malloc(MARKER_BUCKETS * sizeof *mb);
    item_t *items = malloc(32 * sizeof *items);
    if (!y || !ts || !idx || !mb || !items) {
        free(y);
        free(ts);
        free(idx);
        free(mb);
        free(items);
        return CQ_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        ts[i] = r->samples[i].ts;

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>cquant backtest: ",
          f);
    put_html(f, r->strategy);
    fputs(" on ", f);
    put_html(f, r->instrument);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", STYLE);
    put_html(f, r->strategy);
    fputs(" on ", f);
    put_html(f, r->instrument);
    fputs("</h1>\n<p class=\"sub\">equity in ", f);
    put_html(f, r->quote_asset[0] ? r->quote_asset : "the quote asset");
    if (r->params[0]) {
        fputs(" &middot; params <code id=\"params\">", f);
        put_html(f, r->params);
        fputs("</code>", f);
    }
    char per[CQ_RP_DUR];
    cq_rp_fmt_period(per, sizeof per, r->sample_period_ns);
    fprintf(f, " &middot; Sharpe and Sortino from %s samples, annualized over 365 days, risk-free rate 0</p>\n",
            per);

    size_t ni = metric_items(r, m, items);
    put_items(f, items, ni);

    /* Time range shared by the three charts, fills included. */
    xscale_t xs = {0, 1};
    int have_t = 0;
    if (n) {
        xs.t0 = ts[0];
        xs.t1 = ts[n - 1];
        have_t = 1;
    }
    for (size_t i = 0; i < r->nfills; i++) {
        int64_t t = r->fills[i].ts;
        if (!have_t || t < xs.t0)
            xs.t0 = t;
        if (!have_t || t > xs.t1)
            xs.t1 = t;
        have_t = 1;
    }
    if (xs.t1 <= xs.t0) { /* one instant: any span will do */
        if (xs.t0 < INT64_MAX)
            xs.t1 = xs.t0 + 1;
        else
            xs.t0 = xs.t1 - 1;
    }

    yscale_t ys;
    double lo, hi;
    size_t k;

    /* Equity */
    for (size_t i = 0; i < n; i++)
        y[i] = r->samples[i].equity;
    fputs("<h2>Equity</h2>\n", f);
    chart_open(f, "chart-equity", "equity over time");
    range_of(y, n, &lo, &hi);
    yscale_make(&ys, lo, hi);
    chart_axes(f, &ys, &xs, "");
    k = downsample(y, n, idx);
    chart_line(f, ts, y, idx, k, &ys, &xs, "line-equity", "fill=\"none\" stroke=\"#1f6feb\" stroke-width=\"1.5\"", 0);
    if (n < 2)
        no_data(f, n ? "one sample: no line" : "no equity samples");
    fputs("</svg>\n", f);

    /* Drawdown, in percent below the running peak (drawn as negative) */
    double peak = n ? r->samples[0].equity : 0;
    for (size_t i = 0; i < n; i++) {
        double e = r->samples[i].equity;
        if (e > peak)
            peak = e;
        y[i] = peak > 0 ? -(peak - e) / peak * 100 : NAN;
    }
    fputs("<h2>Drawdown</h2>\n", f);
    chart_open(f, "chart-drawdown", "drawdown below the running peak, percent");
    range_of(y, n, &lo, &hi);
    yscale_make(&ys, lo < 0 ? lo : -1, 0);
    chart_axes(f, &ys, &xs, "%");
    k = downsample(y, n, idx);
    chart_line(f, ts, y, idx, k, &ys, &xs, "area-drawdown", "fill=\"#9467bd\" fill-opacity=\"0.25\" stroke=\"none\"",
               1);
    chart_line(f, ts, y, idx, k, &ys, &xs, "line-drawdown", "fill=\"none\" stroke=\"#9467bd\" stroke-width=\"1.2\"",
               0);
    if (n < 2)
        no_data(f, n ? "one sample: no line" : "no equity samples");
    fputs("</svg>\n", f);

    /* Price with the fills */
    for (size_t i = 0; i < n; i++)
        y[i] = r->samples[i].price;
    range_of(y, n, &lo, &hi);
    for (size_t i = 0; i < r->nfills; i++) {
        double p = r->fills[i].price;
        if (p < lo)
            lo = p;
        if (p > hi)
            hi = p;
    }
    fputs("<h2>Price and fills (&#9650; buy, &#9660; sell)</h2>\n", f);
    chart_open(f, "chart-price", "price with buy and sell fills");
    yscale_make(&ys, lo, hi);
    chart_axes(f, &ys, &xs, "");
    k = downsample(y, n, idx);
    chart_line(f, ts, y, idx, k, &ys, &xs, "line-price", "fill=\"none\" stroke=\"#555\" stroke-width=\"1\"", 0);
    markers(f, r, &xs, &ys, mb, CQ_SIDE_BUY);
    markers(f, r, &xs, &ys, mb, CQ_SIDE_SELL);
    if (n < 2 && !r->nfills)
        no_data(f, n ? "one sample: no line" : "no equity samples");
    fputs("</svg>\n", f);

    put_trades(f, r);
    fputs("<p class=\"sub\">Written by cquant. Metrics are defined in docs/backtest.md.</p>\n</body>\n</html>\n", f);

    free(y);
    free(ts);
    free(idx);
    free(mb);
    free(items);
    return 0;
}
