/*
 * report.c - backtest results: the collector fed by the driver, the
 * metrics of docs/backtest.md, the terminal summary, and the files of
 * --out (report.html is written by report_html.c; the CSV files here).
 *
 * It owns copies of the configuration strings and four growing arrays:
 * equity samples, fill markers, closed round trips and orders. Arrays grow
 * geometrically (doubling), so a run of millions of samples costs a few
 * dozen reallocations, never one allocation per sample. Round trips are
 * built as fills arrive, so nothing is recomputed from the fills later.
 *
 * Every number is computed from what was fed, in feeding order, and
 * printed with a fixed printf format under the C locale (whatever locale
 * the process set), so the same inputs give byte-identical files.
 *
 * It must never: read a clock (wall time is the driver's, and stays out of
 * the files), print a number through the process locale, write a string
 * into a file without escaping it for that file's syntax, or leave a
 * half-written file under a final name (files are written as NAME.tmp and
 * renamed).
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cquant/error.h"
#include "cquant/report.h"
#include "cquant/time.h"
#include "io/report_internal.h"

#define NS_PER_DAY INT64_C(86400000000000)
#define DAYS_PER_YEAR 365 /* crypto trades every day: 365 periods of a day */
/* A position within this fraction of the fill's size is flat: fills are
 * on the instrument's step, so a real remainder is never this small, while
 * sums of doubles such as 0.1 + 0.2 - 0.3 are. */
#define FLAT_EPS 1e-9
#define IO_BUF (1 << 20)

/* ---- growing arrays ------------------------------------------------------- */

/* Make room for one more element of size `size` in *arr (count *n,
 * capacity *cap): doubling, from 64. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    if (ncap < *cap || ncap > SIZE_MAX / size)
        return CQ_ENOMEM;
    void *p = realloc(*arr, ncap * size);
    if (!p)
        return CQ_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* ---- life cycle ------------------------------------------------------------ */

int cq_report_create(cq_report_t **out, const cq_report_config_t *cfg)
{
    if (!out)
        return CQ_EINVAL;
    *out = NULL;
    if (!cfg || !isfinite(cfg->starting_equity) || cfg->sample_period_ns <= 0)
        return CQ_EINVAL;
    cq_report_t *r = calloc(1, sizeof *r);
    if (!r)
        return CQ_ENOMEM;
    r->strategy = dup_or_empty(cfg->strategy);
    r->instrument = dup_or_empty(cfg->instrument);
    r->quote_asset = dup_or_empty(cfg->quote_asset);
    r->params = dup_or_empty(cfg->params);
    if (!r->strategy || !r->instrument || !r->quote_asset || !r->params) {
        cq_report_destroy(r);
        return CQ_ENOMEM;
    }
    r->starting_equity = cfg->starting_equity;
    r->sample_period_ns = cfg->sample_period_ns;
    *out = r;
    return 0;
}

void cq_report_destroy(cq_report_t *r)
{
    if (!r)
        return;
    free(r->strategy);
    free(r->instrument);
    free(r->quote_asset);
    free(r->params);
    free(r->samples);
    free(r->fills);
    free(r->trades);
    free(r->orders);
    free(r);
}

/* ---- feeding ------------------------------------------------------------------ */

int cq_report_equity(cq_report_t *r, int64_t ts, double equity, double price, double position)
{
    if (!r || ts < 0 || !isfinite(equity) || !isfinite(position))
        return CQ_EINVAL; /* ts >= 0: differences of two times never overflow */
    if (r->nsamples && ts < r->samples[r->nsamples - 1].ts)
        return CQ_EINVAL; /* samples come in time order */
    int rc = grow((void **)&r->samples, &r->capsamples, r->nsamples, sizeof *r->samples);
    if (rc)
        return rc;
    cq_rp_sample_t *s = &r->samples[r->nsamples++];
    s->ts = ts;
    s->equity = equity;
    s->price = price; /* NaN = no mark: "n/a" in equity.csv, a gap in the chart */
    s->position = position;
    return 0;
}

/* Close the open trip at fill time ts into r->trades (room reserved by the
 * caller). For a trip that goes from flat back to flat every opened unit
 * was closed, so its realized PnL is the difference of the closing and
 * opening notionals whatever the accounting method: average cost gives
 * exactly this sum, split differently between the reducing fills. */
static void trip_close(cq_report_t *r, int64_t ts)
{
    cq_rp_trip_t *t = &r->trip;
    cq_report_trade_t *tr = &r->trades[r->ntrades++];
    memset(tr, 0, sizeof *tr);
    tr->entry_ns = t->entry_ns;
    tr->exit_ns = ts;
    tr->side = t->dir > 0 ? CQ_SIDE_BUY : CQ_SIDE_SELL;
    tr->qty = t->entry_qty;
    tr->avg_entry = t->entry_notional / t->entry_qty;
    tr->avg_exit = t->exit_notional / t->exit_qty;
    tr->fees = t->fees;
    tr->pnl = t->dir * (t->exit_notional - t->entry_notional) - t->fees;
    tr->ret = t->entry_notional > 0 ? tr->pnl / t->entry_notional : NAN;
    memset(t, 0, sizeof *t);
}

static void trip_open(cq_rp_trip_t *t, int32_t dir, int64_t ts, double qty, double price, double fee)
{
    t->dir = dir;
    t->entry_ns = ts;
    t->pos = qty;
    t->entry_qty = qty;
    t->entry_notional = qty * price;
    t->exit_qty = t->exit_notional = 0;
    t->fees = fee;
}

int cq_report_fill(cq_report_t *r, const cq_fill_t *fill)
{
    if (!r || !fill)
        return CQ_EINVAL;
    int32_t dir = fill->side == CQ_SIDE_BUY ? 1 : fill->side == CQ_SIDE_SELL ? -1 : 0;
    double p = fill->price, q = fill->qty, fee = fill->fee;
    int64_t ts = fill->hdr.ts_event ? fill->hdr.ts_event : fill->hdr.ts_init;
    if (!dir || !isfinite(p) || p <= 0 || !isfinite(q) || q <= 0 || !isfinite(fee) || ts < 0)
        return CQ_EINVAL;
    /* Reserve everything first: a refused fill changes nothing. */
    int rc = grow((void **)&r->fills, &r->capfills, r->nfills, sizeof *r->fills);
    if (!rc)
        rc = grow((void **)&r->trades, &r->captrades, r->ntrades, sizeof *r->trades);
    if (rc)
        return rc;

    cq_rp_fill_t *f = &r->fills[r->nfills++];
    f->ts = ts;
    f->price = p;
    f->side = fill->side;
    f->reserved_ = 0;
    r->fees += fee;
    r->traded_notional += fabs(p * q);

    cq_rp_trip_t *t = &r->trip;
    if (t->dir == 0) {
        trip_open(t, dir, ts, q, p, fee);
        return 0;
    }
    if (dir == t->dir) { /* adding */
        t->pos += q;
        t->entry_qty += q;
        t->entry_notional += q * p;
        t->fees += fee;
        return 0;
    }
    /* Reducing: closes min(q, pos); a fill beyond flat reverses, and is
     * split pro rata (fee included) between the closing and the new trip. */
    double eps = FLAT_EPS * (t->pos > q ? t->pos : q);
    double close_q = q, rest = 0;
    if (q > t->pos + eps) {
        close_q = t->pos;
        rest = q - t->pos;
    } else if (q >= t->pos - eps) {
        close_q = t->pos;
    }
    double close_fee = rest > 0 ? fee * (close_q / q) : fee;
    t->exit_qty += close_q;
    t->exit_notional += close_q * p;
    t->fees += close_fee;
    t->pos -= close_q;
    if (t->pos > eps)
        return 0; /* partial reduction: the trip stays open */
    trip_close(r, ts);
    if (rest > 0)
        trip_open(t, dir, ts, rest, p, fee - close_fee);
    return 0;
}

int cq_report_order(cq_report_t *r, const cq_order_t *order, const char *instrument_id)
{
    if (!r || !order)
        return CQ_EINVAL;
    const char *inst = instrument_id ? instrument_id : r->instrument;
    size_t len = strlen(inst);
    if (len >= sizeof r->orders[0].instrument)
        return CQ_ETOOLONG; /* instrument ids are char[48] everywhere */
    int rc = grow((void **)&r->orders, &r->caporders, r->norders, sizeof *r->orders);
    if (rc)
        return rc;
    cq_rp_order_t *o = &r->orders[r->norders++];
    memset(o, 0, sizeof *o);
    o->o = *order;
    memcpy(o->instrument, inst, len + 1);
    return 0;
}

const cq_report_trade_t *cq_report_trades(const cq_report_t *r, size_t *n)
{
    if (n)
        *n = r ? r->ntrades : 0;
    return r ? r->trades : NULL;
}

/* ---- metrics ---------------------------------------------------------------- */

/* Simple return between samples i-1 and i, or NaN when the earlier equity
 * is not positive (a return from zero or a debt has no meaning). */
static double sample_return(const cq_rp_sample_t *s, size_t i)
{
    double prev = s[i - 1].equity;
    return prev > 0 ? s[i].equity / prev - 1 : NAN;
}

/* Sharpe and Sortino, docs/backtest.md: mean simple return over the
 * sample standard deviation (n - 1) / the downside deviation (root mean
 * square of min(r, 0) over all n returns), times sqrt(samples per year);
 * risk-free rate 0. Two passes over the samples (no array of returns):
 * the same expression in both, so the same numbers. */
static void ratios(const cq_report_t *r, double *sharpe, double *sortino)
{
    *sharpe = *sortino = 0;
    const cq_rp_sample_t *s = r->samples;
    size_t count = 0;
    double sum = 0;
    for (size_t i = 1; i < r->nsamples; i++) {
        double x = sample_return(s, i);
        if (isnan(x))
            continue;
        sum += x;
        count++;
    }
    if (count < 2)
        return;
    double mean = sum / (double)count, var = 0, down = 0;
    for (size_t i = 1; i < r->nsamples; i++) {
        double x = sample_return(s, i);
        if (isnan(x))
            continue;
        var += (x - mean) * (x - mean);
        if (x < 0)
            down += x * x;
    }
    double periods = (double)(DAYS_PER_YEAR * NS_PER_DAY) / (double)r->sample_period_ns;
    double sd = sqrt(var / (double)(count - 1));
    double dd = sqrt(down / (double)count);
    if (sd > 0 && isfinite(sd))
        *sharpe = mean / sd * sqrt(periods);
    if (dd > 0 && isfinite(dd))
        *sortino = mean / dd * sqrt(periods);
}

/* Max drawdown: the deepest fall below the running peak, as an amount and
 * (separately) as a fraction of that peak, and the longest span from a
 * peak to the first sample that regains it (or to the last sample). An
 * equal value regains the peak. */
static void drawdown(const cq_report_t *r, cq_report_metrics_t *m)
{
    m->max_drawdown = m->max_drawdown_pct = 0;
    m->max_drawdown_ns = 0;
    if (!r->nsamples)
        return;
    const cq_rp_sample_t *s = r->samples;
    double peak = s[0].equity;
    int64_t peak_ts = s[0].ts;
    int under = 0;
    for (size_t i = 1; i < r->nsamples; i++) {
        double e = s[i].equity;
        if (e >= peak) {
            if (under && s[i].ts - peak_ts > m->max_drawdown_ns)
                m->max_drawdown_ns = s[i].ts - peak_ts;
            under = 0;
            peak = e;
            peak_ts = s[i].ts;
            continue;
        }
        under = 1;
        double dd = peak - e;
        if (dd > m->max_drawdown)
            m->max_drawdown = dd;
        if (peak > 0 && dd / peak > m->max_drawdown_pct)
            m->max_drawdown_pct = dd / peak;
    }
    int64_t last = s[r->nsamples - 1].ts;
    if (under && last - peak_ts > m->max_drawdown_ns)
        m->max_drawdown_ns = last - peak_ts;
}

int cq_report_metrics(cq_report_t *r, uint64_t events, double wall_seconds, cq_report_metrics_t *out)
{
    if (!r || !out)
        return CQ_EINVAL;
    cq_report_metrics_t *m = out;
    memset(m, 0, sizeof *m);
    size_t n = r->nsamples;
    const cq_rp_sample_t *s = r->samples;

    m->start_ns = n ? s[0].ts : 0;
    m->end_ns = n ? s[n - 1].ts : 0;
    m->events = events;
    m->wall_seconds = wall_seconds;
    m->events_per_sec = wall_seconds > 0 && isfinite(wall_seconds) ? (double)events / wall_seconds : NAN;
    m->start_equity = r->starting_equity;
    m->end_equity = n ? s[n - 1].equity : r->starting_equity;
    m->total_return = m->start_equity > 0 ? m->end_equity / m->start_equity - 1 : NAN;
    ratios(r, &m->sharpe, &m->sortino);
    drawdown(r, m);

    m->fills = r->nfills;
    m->trades = r->ntrades;
    double gross_profit = 0, gross_loss = 0;
    uint64_t wins = 0, losses = 0;
    for (size_t i = 0; i < r->ntrades; i++) {
        double pnl = r->trades[i].pnl;
        if (pnl > 0) {
            gross_profit += pnl;
            wins++;
        } else if (pnl < 0) {
            gross_loss -= pnl;
            losses++;
        }
    }
    m->win_rate = r->ntrades ? (double)wins / (double)r->ntrades : NAN;
    m->profit_factor = gross_loss > 0 ? gross_profit / gross_loss : gross_profit > 0 ? INFINITY : 0;
    m->avg_win = wins ? gross_profit / (double)wins : NAN;
    m->avg_loss = losses ? -gross_loss / (double)losses : NAN;
    m->fees = r->fees;

    /* Exposure: the position at sample i is held until sample i + 1. */
    int64_t span = 0, held = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        int64_t dt = s[i + 1].ts - s[i].ts;
        span += dt;
        if (s[i].position != 0)
            held += dt;
    }
    m->exposure = span > 0 ? (double)held / (double)span : NAN;
    m->turnover = r->starting_equity > 0 ? r->traded_notional / r->starting_equity : NAN;
    m->orders = r->norders;
    return 0;
}

/* ---- fixed formats -------------------------------------------------------------- */

static const uint64_t POW10[] = {1u,         10u,         100u,         1000u,        10000u,
                                  100000u,    1000000u,    10000000u,    100000000u,   1000000000u};

/* |x| * 10^d rounded to an integer, half to even, exactly as printf's %.*f
 * rounds the exact binary value: x = m * 2^e with a 53-bit m, so
 * m * 10^d fits 128 bits and the shift by -e is exact integer work. For
 * |x| < 1e18 and d <= 9; 3-4 times faster than snprintf, which matters
 * for an equity.csv of millions of rows. */
static uint64_t scaled_abs(double x, int d, uint64_t *int_part, uint64_t *frac_part)
{
    int ex;
    double fr = frexp(fabs(x), &ex);
    uint64_t m = (uint64_t)ldexp(fr, 53);
    int e = ex - 53;
    unsigned __int128 v = (unsigned __int128)m * POW10[d];
    if (e >= 0) {
        v <<= e; /* |x| < 1e18 < 2^60: e <= 7 */
    } else if (-e > 100) {
        v = 0; /* below 2^83 / 2^101: rounds to 0 */
    } else {
        int sh = -e;
        unsigned __int128 q = v >> sh, rem = v - (q << sh), half = (unsigned __int128)1 << (sh - 1);
        if (rem > half || (rem == half && (q & 1)))
            q++;
        v = q;
    }
    *int_part = (uint64_t)(v / POW10[d]);
    *frac_part = (uint64_t)(v % POW10[d]);
    return v != 0;
}

/* Digits of v, right-aligned in width (zero-padded) or as many as needed
 * (width 0); returns the end. */
static char *put_u64(char *p, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    while (n)
        *p++ = tmp[--n];
    return p;
}

void cq_rp_fmt_fixed(char *buf, size_t n, double x, int decimals)
{
    if (isnan(x)) {
        snprintf(buf, n, "n/a");
        return;
    }
    if (isinf(x)) {
        snprintf(buf, n, "%s", x > 0 ? "inf" : "-inf");
        return;
    }
    /* %f of 1e300 is 301 digits: beyond any real amount, print it short. */
    if (fabs(x) >= 1e18) {
        snprintf(buf, n, "%.6e", x);
        return;
    }
    if (decimals >= 0 && decimals <= 9 && n >= 32) {
        uint64_t ip, fp;
        char *p = buf;
        if (scaled_abs(x, decimals, &ip, &fp) && x < 0)
            *p++ = '-'; /* not for a value that rounds to 0 */
        p = put_u64(p, ip, 0);
        if (decimals) {
            *p++ = '.';
            p = put_u64(p, fp, decimals);
        }
        *p = '\0';
        return;
    }
    snprintf(buf, n, "%.*f", decimals, x);
    if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
        memmove(buf, buf + 1, strlen(buf)); /* -0.00 */
}

void cq_rp_fmt_num(char *buf, size_t n, double x)
{
    cq_rp_fmt_fixed(buf, n, x, 8);
    if (!isfinite(x) || fabs(x) >= 1e18 || !strchr(buf, '.'))
        return;
    size_t len = strlen(buf);
    while (len > 0 && buf[len - 1] == '0')
        buf[--len] = '\0';
    if (len > 0 && buf[len - 1] == '.')
        buf[--len] = '\0';
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, n, "0");
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm): no libc
 * time zone code on the way, so no TZ can change it. */
static void civil_from_days(int64_t z, int64_t *y, int *mo, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *mo = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*mo <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void cq_rp_fmt_time(char *buf, size_t n, int64_t ns)
{
    int64_t ms_total = floor_div(ns, CQ_NS_PER_MS);
    int64_t secs = floor_div(ms_total, 1000);
    int ms = (int)(ms_total - secs * 1000);
    int64_t days = floor_div(secs, 86400);
    int sod = (int)(secs - days * 86400);
    int64_t y;
    int mo, d;
    civil_from_days(days, &y, &mo, &d);
    if (n < 25) { /* CQ_RP_TIME is enough; int64 ns spans years 1677..2262 */
        if (n)
            buf[0] = '\0';
        return;
    }
    /* By hand: this runs once per row of equity.csv. */
    char *p = put_u64(buf, (uint64_t)y, 4);
    *p++ = '-';
    p = put_u64(p, (uint64_t)mo, 2);
    *p++ = '-';
    p = put_u64(p, (uint64_t)d, 2);
    *p++ = 'T';
    p = put_u64(p, (uint64_t)(sod / 3600), 2);
    *p++ = ':';
    p = put_u64(p, (uint64_t)(sod / 60 % 60), 2);
    *p++ = ':';
    p = put_u64(p, (uint64_t)(sod % 60), 2);
    *p++ = '.';
    p = put_u64(p, (uint64_t)ms, 3);
    *p++ = 'Z';
    *p = '\0';
}

void cq_rp_fmt_dur(char *buf, size_t n, int64_t ns)
{
    const char *sign = "";
    uint64_t u = (uint64_t)ns;
    if (ns < 0) {
        sign = "-";
        u = 0 - u;
    }
    uint64_t ms = u / 1000000u;
    uint64_t secs = ms / 1000, days = secs / 86400;
    unsigned sod = (unsigned)(secs % 86400), frac = (unsigned)(ms % 1000);
    char day[32] = "", milli[8] = "";
    if (days)
        snprintf(day, sizeof day, "%llud ", (unsigned long long)days);
    if (frac)
        snprintf(milli, sizeof milli, ".%03u", frac);
    snprintf(buf, n, "%s%s%02u:%02u:%02u%s", sign, day, sod / 3600, sod / 60 % 60, sod % 60, milli);
}

void cq_rp_fmt_period(char *buf, size_t n, int64_t ns)
{
    static const struct {
        int64_t unit;
        const char *name;
    } units[] = {{NS_PER_DAY, "d"}, {INT64_C(3600000000000), "h"}, {INT64_C(60000000000), "m"},
                 {INT64_C(1000000000), "s"}, {INT64_C(1000000), "ms"}, {INT64_C(1000), "us"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ns > 0 && ns % units[i].unit == 0) {
            snprintf(buf, n, "%lld%s", (long long)(ns / units[i].unit), units[i].name);
            return;
        }
    }
    snprintf(buf, n, "%lldns", (long long)ns);
}

/* The C locale for this thread while printing: printf's decimal point
 * follows LC_NUMERIC, which the embedding program may have set. */
typedef struct {
    locale_t c, prev;
} c_locale_t;

static int c_locale_enter(c_locale_t *g)
{
    g->c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!g->c)
        return CQ_ENOMEM;
    g->prev = uselocale(g->c);
    return 0;
}

static void c_locale_leave(c_locale_t *g)
{
    uselocale(g->prev);
    freelocale(g->c);
}

/* ---- terminal summary ------------------------------------------------------------- */

/* A string for a terminal: control bytes (an escape sequence in a
 * strategy name could rewrite the screen) become '?'. */
static void put_term(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
    }
}

/* x in a fixed format followed by unit, or "n/a" / "inf" alone. */
static const char *val(char *buf, size_t n, double x, int decimals, const char *unit)
{
    char b[CQ_RP_NUM];
    cq_rp_fmt_fixed(b, sizeof b, x, decimals);
    snprintf(buf, n, "%s%s", b, isfinite(x) ? unit : "");
    return buf;
}

int cq_report_print(const cq_report_t *r, const cq_report_metrics_t *m, FILE *f)
{
    if (!r || !m || !f)
        return CQ_EINVAL;
    c_locale_t loc;
    int rc = c_locale_enter(&loc);
    if (rc)
        return rc;
    char a[CQ_RP_NUM + 32], b[CQ_RP_NUM + 32], t0[CQ_RP_TIME], t1[CQ_RP_TIME], d[CQ_RP_DUR];

    fputs("backtest  ", f);
    put_term(f, r->strategy);
    fputs(" on ", f);
    put_term(f, r->instrument);
    fputc('\n', f);
    if (r->params[0]) {
        fputs("  params          ", f);
        put_term(f, r->params);
        fputc('\n', f);
    }
    if (r->nsamples) {
        cq_rp_fmt_time(t0, sizeof t0, m->start_ns);
        cq_rp_fmt_time(t1, sizeof t1, m->end_ns);
        cq_rp_fmt_dur(d, sizeof d, m->end_ns - m->start_ns);
        fprintf(f, "  period          %s .. %s (%s)\n", t0, t1, d);
    } else {
        fputs("  period          n/a (no equity samples)\n", f);
    }
    fprintf(f, "  events          %llu in %s wall (%s)\n", (unsigned long long)m->events,
            val(a, sizeof a, m->wall_seconds, 3, " s"), val(b, sizeof b, m->events_per_sec, 0, " events/s"));

    fprintf(f, "  start equity    %s ", val(a, sizeof a, m->start_equity, 2, ""));
    put_term(f, r->quote_asset);
    fprintf(f, "\n  end equity      %s ", val(a, sizeof a, m->end_equity, 2, ""));
    put_term(f, r->quote_asset);
    fprintf(f, "\n  total return    %s\n", val(a, sizeof a, m->total_return * 100, 2, " %"));

    char per[CQ_RP_DUR];
    cq_rp_fmt_period(per, sizeof per, r->sample_period_ns);
    double ppy = (double)(DAYS_PER_YEAR * NS_PER_DAY) / (double)r->sample_period_ns;
    fprintf(f, "  sharpe          %s (annualized from %s equity samples, x sqrt(%s), risk-free 0)\n",
            val(a, sizeof a, m->sharpe, 2, ""), per, val(b, sizeof b, ppy, 0, ""));
    fprintf(f, "  sortino         %s\n", val(a, sizeof a, m->sortino, 2, ""));

    cq_rp_fmt_dur(d, sizeof d, m->max_drawdown_ns);
    fprintf(f, "  max drawdown    %s ", val(a, sizeof a, m->max_drawdown, 2, ""));
    put_term(f, r->quote_asset);
    fprintf(f, " (%s), longest %s\n", val(a, sizeof a, m->max_drawdown_pct * 100, 2, " %"), d);

    fprintf(f, "  trades          %llu round trips (%llu fills, %llu orders)\n", (unsigned long long)m->trades,
            (unsigned long long)m->fills, (unsigned long long)m->orders);
    fprintf(f, "  win rate        %s\n", val(a, sizeof a, m->win_rate * 100, 2, " %"));
    /* 0 by definition without trades, but nothing to show */
    fprintf(f, "  profit factor   %s\n", m->trades ? val(a, sizeof a, m->profit_factor, 2, "") : "n/a");
    fprintf(f, "  avg win / loss  %s / %s ", val(a, sizeof a, m->avg_win, 2, ""), val(b, sizeof b, m->avg_loss, 2, ""));
    put_term(f, r->quote_asset);
    fprintf(f, "\n  fees            %s ", val(a, sizeof a, m->fees, 2, ""));
    put_term(f, r->quote_asset);
    fprintf(f, "\n  exposure        %s\n", val(a, sizeof a, m->exposure * 100, 2, " % of the time"));
    fprintf(f, "  turnover        %s\n", val(a, sizeof a, m->turnover, 2, " x starting equity"));

    c_locale_leave(&loc);
    return ferror(f) ? CQ_EIO : 0;
}

/* ---- files ------------------------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a, b);
}

/* mkdir -p: every missing component of dir, then check it is a directory. */
static int make_dir(const char *dir, char *err, size_t errlen)
{
    char *p = strdup(dir);
    if (!p)
        return CQ_ENOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            set_err(err, errlen, "report: cannot create directory '%s': %s", p, strerror(errno));
            free(p);
            return CQ_EIO;
        }
        *s = '/';
    }
    free(p);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        set_err(err, errlen, "report: cannot create directory '%s': %s", dir, strerror(errno));
        return CQ_EIO;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        set_err(err, errlen, "report: '%s' %s", dir, "exists and is not a directory");
        return CQ_EIO;
    }
    return 0;
}

/* A CSV text field (RFC 4180): quoted, quotes doubled, when it holds a
 * comma, a quote or a line break; as is otherwise. At most max bytes (the
 * fixed char arrays of cq_order_t need not be terminated). */
static void put_csv(FILE *f, const char *s, size_t max)
{
    size_t len = strnlen(s, max);
    int quote = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            quote = 1;
    if (!quote) {
        fwrite(s, 1, len, f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

static void put_num(FILE *f, double x)
{
    char b[CQ_RP_NUM];
    cq_rp_fmt_num(b, sizeof b, x);
    fputs(b, f);
}

static int write_equity_csv(const cq_report_t *r, const cq_report_metrics_t *m, FILE *f)
{
    char t[CQ_RP_TIME];
    fputs("ts_ns,time,equity,price,position,drawdown\n", f);
    double peak = r->nsamples ? r->samples[0].equity : 0;
    for (size_t i = 0; i < r->nsamples; i++) {
        const cq_rp_sample_t *s = &r->samples[i];
        if (s->equity > peak)
            peak = s->equity;
        cq_rp_fmt_time(t, sizeof t, s->ts);
        fprintf(f, "%lld,%s,", (long long)s->ts, t);
        put_num(f, s->equity);
        fputc(',', f);
        put_num(f, isfinite(s->price) ? s->price : NAN);
        fputc(',', f);
        put_num(f, s->position);
        fputc(',', f);
        put_num(f, peak > 0 ? (peak - s->equity) / peak : NAN);
        fputc('\n', f);
    }
    return 0;
}

static int write_trades_csv(const cq_report_t *r, const cq_report_metrics_t *m, FILE *f)
{
    char t0[CQ_RP_TIME], t1[CQ_RP_TIME];
    fputs("entry_ns,entry_time,exit_ns,exit_time,side,qty,avg_entry,avg_exit,pnl,fees,return\n", f);
    for (size_t i = 0; i < r->ntrades; i++) {
        const cq_report_trade_t *tr = &r->trades[i];
        cq_rp_fmt_time(t0, sizeof t0, tr->entry_ns);
        cq_rp_fmt_time(t1, sizeof t1, tr->exit_ns);
        fprintf(f, "%lld,%s,%lld,%s,%s,", (long long)tr->entry_ns, t0, (long long)tr->exit_ns, t1,
                tr->side == CQ_SIDE_BUY ? "LONG" : "SHORT");
        const double v[] = {tr->qty, tr->avg_entry, tr->avg_exit, tr->pnl, tr->fees, tr->ret};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            put_num(f, v[k]);
            fputc(k + 1 < sizeof v / sizeof v[0] ? ',' : '\n', f);
        }
    }
    return 0;
}

static int write_orders_csv(const cq_report_t *r, const cq_report_metrics_t *m, FILE *f)
{
    fputs("client_order_id,instrument,side,type,tif,price,qty,filled_qty,avg_fill_price,status,fees,tag,"
          "created_ns,last_change_ns\n",
          f);
    for (size_t i = 0; i < r->norders; i++) {
        const cq_order_t *o = &r->orders[i].o;
        put_csv(f, o->client_order_id, sizeof o->client_order_id);
        fputc(',', f);
        put_csv(f, r->orders[i].instrument, sizeof r->orders[i].instrument);
        fprintf(f, ",%s,%s,%s,", cq_side_name(o->side), cq_order_type_name(o->type), cq_tif_name(o->tif));
        const double v[] = {o->price, o->qty, o->filled_qty, o->avg_fill_price};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            put_num(f, v[k]);
            fputc(',', f);
        }
        fprintf(f, "%s,", cq_order_status_name(o->status));
        put_num(f, o->fees);
        fputc(',', f);
        put_csv(f, o->tag, sizeof o->tag);
        fprintf(f, ",%lld,%lld\n", (long long)o->hdr.ts_init, (long long)o->hdr.ts_event);
    }
    return 0;
}

static int write_html(const cq_report_t *r, const cq_report_metrics_t *m, FILE *f)
{
    return cq_rp_write_html(r, m, f);
}

/* Write one file as dir/name.tmp, then rename it to dir/name: a reader
 * never sees half a file under the final name. */
static int write_file(const cq_report_t *r, const cq_report_metrics_t *m, const char *dir, const char *name,
                      int (*body)(const cq_report_t *, const cq_report_metrics_t *, FILE *), char *err,
                      size_t errlen)
{
    size_t len = strlen(dir) + strlen(name) + 8;
    char *path = malloc(len), *tmp = malloc(len);
    char *buf = malloc(IO_BUF);
    int rc = 0;
    if (!path || !tmp || !buf) {
        rc = CQ_ENOMEM;
        goto out;
    }
    snprintf(path, len, "%s/%s", dir, name);
    snprintf(tmp, len, "%s/%s.tmp", dir, name);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        set_err(err, errlen, "report: cannot create '%s': %s", tmp, strerror(errno));
        rc = CQ_EIO;
        goto out;
    }
    setvbuf(f, buf, _IOFBF, IO_BUF);
    rc = body(r, m, f);
    int bad = fflush(f) != 0 || ferror(f);
    int saved = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (rc || bad) {
        if (!rc) {
            set_err(err, errlen, "report: cannot write '%s': %s", tmp, strerror(saved));
            rc = CQ_EIO;
        } else {
            set_err(err, errlen, "report: cannot write '%s': %s", tmp, cq_strerror(rc));
        }
        remove(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        set_err(err, errlen, "report: cannot rename to '%s': %s", path, strerror(errno));
        remove(tmp);
        rc = CQ_EIO;
    }
out:
    free(path);
    free(tmp);
    free(buf);
    return rc;
}

int cq_report_write(const cq_report_t *r, const cq_report_metrics_t *m, const char *dir, char *err,
                    size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!r || !m || !dir || !dir[0]) {
        set_err(err, errlen, "report: %s%s", "no report, metrics or output directory", "");
        return CQ_EINVAL;
    }
    int rc = make_dir(dir, err, errlen);
    if (rc)
        return rc;
    c_locale_t loc;
    rc = c_locale_enter(&loc);
    if (rc) {
        set_err(err, errlen, "report: %s%s", "out of memory", "");
        return rc;
    }
    static const struct {
        const char *name;
        int (*body)(const cq_report_t *, const cq_report_metrics_t *, FILE *);
    } files[] = {{"equity.csv", write_equity_csv},
                 {"trades.csv", write_trades_csv},
                 {"orders.csv", write_orders_csv},
                 {"report.html", write_html}};
    for (size_t i = 0; i < sizeof files / sizeof files[0] && !rc; i++)
        rc = write_file(r, m, dir, files[i].name, files[i].body, err, errlen);
    c_locale_leave(&loc);
    return rc;
}
