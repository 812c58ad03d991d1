/*
 * synth.c - a seeded synthetic market: one instrument's trades and L2 book
 * diffs, generated as .cqd records or handed to the DataEngine live.
 *
 * The model is in docs/synth.md, equation by equation; this file follows it
 * in order: a log mid price with GARCH(1,1) variance stepped once per book
 * interval, Poisson trade arrivals whose rate follows the variance and whose
 * aggressor side leans with the coming move, and a book of `levels` levels a
 * side re-centred on the mid at every batch, published as the diff against
 * what the previous batch showed.
 *
 * Owns: its generator state, the published book (two best-first arrays a
 * side, swapped each batch) and the current event, generated one ahead so
 * that its time can be peeked. Allocates only at creation.
 *
 * Never: calls a libm function whose result decides an output (exp and log
 * are computed here from + - * / and exact bit operations, which IEEE 754
 * makes the same everywhere; sqrt and floor are exact operations too), uses
 * a random draw that is not from its own seeded generator, or publishes a
 * crossed or locked book.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/error.h"
#include "cquant/instrument.h"
#include "cquant/synth.h"

/* Determinism needs every double operation rounded on its own: no fused
 * multiply-add. GCC in ISO C mode (-std=c11, as built) does not contract;
 * clang does unless told. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* ---- model constants (docs/synth.md, "Parameters") ----------------------------- */

#define DEFAULT_START_NS 1767571200000000000LL /* 2026-01-05T00:00:00Z */
#define DEFAULT_PRICE 60000.0
#define DEFAULT_VOL 0.6
#define DEFAULT_RATE 20.0
#define DEFAULT_INTERVAL_NS 100000000LL
#define DEFAULT_LEVELS 20
#define MAX_LEVELS 1000

#define YEAR_S 31536000.0      /* 365 days: crypto trades every day */
#define TAU_S 600.0            /* variance mean-reversion time */
#define VOV 0.5                /* 2 alpha^2 = VOV (1 - phi^2): the variance's own variance */
#define VAR_CAP 25.0           /* h <= VAR_CAP * long-run h */
#define RANGE 100.0            /* the mid stays within start/RANGE .. start*RANGE */
#define TOUCH_NOTIONAL 15000.0 /* mean size at the touch, quote currency */
#define LEVEL_GROWTH 0.3       /* mean size of level i: (1 + LEVEL_GROWTH i) x touch */
#define LEVEL_SIGMA 0.6        /* lognormal noise of a fresh level size */
#define TRADE_NOTIONAL 150.0   /* median trade, quote currency */
#define TRADE_SIGMA 1.3        /* lognormal sigma of trade sizes */
#define BOOK_SPAN 2.5          /* L levels span about BOOK_SPAN one-interval moves */
#define P_CANCEL 0.01          /* per level and batch: the level goes (not the touch) */
#define P_REDRAW 0.03          /* per level and batch: a fresh size */
#define P_JITTER 0.08          /* per level and batch: size x exp(JITTER_SIGMA z) */
#define JITTER_SIGMA 0.3
#define LAT_MIN_NS 300000      /* receive latency: LAT_MIN + Exp(mean LAT_MEAN) */
#define LAT_MEAN_NS 700000.0
#define FIRST_UPDATE_ID 100000000ULL
#define FIRST_TRADE_ID 10000000ULL

#define MAX_PRICE 1e9
#define MIN_PRICE 1.0
#define MAX_VOL 5.0
#define MAX_RATE 100000.0
#define MIN_INTERVAL_NS 1000000LL
#define MAX_INTERVAL_NS 60000000000LL
#define MAX_MINUTES 1e7

enum { EV_TRADE = 1, EV_BATCH = 2 };

typedef struct {
    int kind;
    int snapshot;
    int64_t ts_event, ts_init;
    int32_t side;            /* trade: the aggressor */
    int64_t price, qty;      /* trade, in ticks and steps */
    uint64_t trade_id;
    uint64_t first_id, last_id;
    size_t nb, na;           /* batch: changes in s->chg_b, s->chg_a */
} event_t;

struct cq_synth {
    cq_cqd_instrument_t inst;
    cq_instrument_t spec;
    uint32_t levels;
    int64_t interval;
    double lambda0;

    /* generator */
    uint64_t rng[4];
    int has_spare;
    double spare;

    /* price process */
    double x, h, hbar, omega, alpha, beta, x_min, x_max, ticks_per_unit;
    double lambda, p_buy;
    double q0, trade_median, gap_scale;

    /* clock */
    int64_t start, t_batch, t_trade, last_ts_init;
    uint64_t batch_index, update_id, trade_id;

    /* book: published (pb, pa) and next (nb_, na_), best first */
    cq_book_entry_t *mem;    /* the one allocation the arrays below live in */
    cq_book_entry_t *pb, *pa, *nb_, *na_, *chg_b, *chg_a;
    uint32_t npb, npa;
    int64_t cons_b, cons_a;  /* taken from the published touch since the last batch */

    event_t ev;              /* the next event */
    size_t rec_pos;          /* records of ev already returned */

    cq_data_engine_t *de;
    uint32_t handle;
    cq_synth_stats_t stats;
};

/* ---- deterministic arithmetic ---------------------------------------------------- */

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static uint64_t to_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static const double LN2_HI = 6.93147180369123816490e-01; /* fdlibm's split of ln 2 */
static const double LN2_LO = 1.90821492927058770002e-10;
static const double INV_LN2 = 1.44269504088896338700e+00;

/* ln x for a normal x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then
 * ln m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172, by its series to s^23
 * (relative error below 2e-17). Only + - * / and bit operations. */
static double det_log(double x)
{
    uint64_t u = to_bits(x);
    int e = (int)((u >> 52) & 0x7ff) - 1023;
    double m = from_bits((u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e++;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double p = 1.0 / 23;
    p = p * s2 + 1.0 / 21;
    p = p * s2 + 1.0 / 19;
    p = p * s2 + 1.0 / 17;
    p = p * s2 + 1.0 / 15;
    p = p * s2 + 1.0 / 13;
    p = p * s2 + 1.0 / 11;
    p = p * s2 + 1.0 / 9;
    p = p * s2 + 1.0 / 7;
    p = p * s2 + 1.0 / 5;
    p = p * s2 + 1.0 / 3;
    return (double)e * LN2_HI + (2.0 * s + 2.0 * s * s2 * p + (double)e * LN2_LO);
}

/* e^x for |x| <= 700: x = k ln2 + r, |r| <= ln2/2, e^r by its Taylor series
 * to r^13 (error below 1e-17), times 2^k built from bits. */
static double det_exp(double x)
{
    if (x > 700.0)
        x = 700.0;
    if (x < -700.0)
        x = -700.0;
    double k = floor(x * INV_LN2 + 0.5);
    double r = (x - k * LN2_HI) - k * LN2_LO;
    double p = 1.0 / 6227020800.0; /* 1/13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return p * from_bits((uint64_t)((int64_t)k + 1023) << 52);
}

/* ---- random numbers: xoshiro256** seeded by splitmix64 ------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t v, int k)
{
    return (v << k) | (v >> (64 - k));
}

static inline uint64_t next_u64(cq_synth_t *s)
{
    uint64_t *q = s->rng;
    uint64_t result = rotl(q[1] * 5, 7) * 9;
    uint64_t t = q[1] << 17;
    q[2] ^= q[0];
    q[3] ^= q[1];
    q[1] ^= q[2];
    q[0] ^= q[3];
    q[2] ^= t;
    q[3] = rotl(q[3], 45);
    return result;
}

/* Uniform on (0, 1): never 0, so that its log is finite. */
static inline double uniform(cq_synth_t *s)
{
    return ((double)(next_u64(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Exp(1). */
static inline double expo(cq_synth_t *s)
{
    return -det_log(uniform(s));
}

/* N(0, 1), Marsaglia's polar method (the second value is kept). */
static double gauss(cq_synth_t *s)
{
    if (s->has_spare) {
        s->has_spare = 0;
        return s->spare;
    }
    double u, v, q;
    do {
        u = 2.0 * uniform(s) - 1.0;
        v = 2.0 * uniform(s) - 1.0;
        q = u * u + v * v;
    } while (q >= 1.0);
    double f = sqrt(-2.0 * det_log(q) / q);
    s->spare = v * f;
    s->has_spare = 1;
    return u * f;
}

/* A positive size in steps: round(mean_median * exp(sigma z)), at least 1
 * and far below CQ_BOOK_QTY_MAX (the inputs are bounded at creation). */
static int64_t lognormal_steps(cq_synth_t *s, double median, double sigma)
{
    double q = median * det_exp(sigma * gauss(s));
    if (q > 1e15)
        q = 1e15;
    int64_t n = (int64_t)floor(q + 0.5);
    return n < 1 ? 1 : n;
}

/* ---- the book ------------------------------------------------------------------------ */

/* A fresh size for the level `index` places from the touch. */
static int64_t fresh_size(cq_synth_t *s, uint32_t index)
{
    double mean = s->q0 * (1.0 + LEVEL_GROWTH * (double)index);
    return lognormal_steps(s, mean * det_exp(-0.5 * LEVEL_SIGMA * LEVEL_SIGMA), LEVEL_SIGMA);
}

/* Ticks between two neighbouring levels: 1 + floor((G - 1) E). */
static int64_t level_gap(cq_synth_t *s)
{
    if (s->gap_scale <= 0)
        return 1;
    return 1 + (int64_t)floor(s->gap_scale * expo(s));
}

/* Ordering key along a side: smaller is better (bids: higher ticks). */
static inline int64_t key(int dir, int64_t tick)
{
    return dir < 0 ? -tick : tick;
}

/*
 * One side of the next book: the touch at `touch`, new levels between it
 * and the first old level that is still on this side of it, then the old
 * levels (less what trades took from the old touch, perturbed), then new
 * levels at the deep end up to `levels`. dir: -1 bids (deeper = lower),
 * +1 asks. Returns the number of levels written to out.
 */
static uint32_t rebuild_side(cq_synth_t *s, int dir, const cq_book_entry_t *old, uint32_t nold,
                             int64_t consumed, int64_t touch, cq_book_entry_t *out)
{
    uint32_t L = s->levels, n = 0, i = 0;
    while (i < nold && key(dir, old[i].tick) < key(dir, touch))
        i++; /* the mid moved through them: gone */
    int64_t stop = i < nold ? old[i].tick : (dir < 0 ? 0 : INT64_MAX);
    for (int64_t t = touch; n < L && key(dir, t) < key(dir, stop); t += dir * level_gap(s)) {
        out[n].tick = t;
        out[n].qty = fresh_size(s, n);
        n++;
    }
    for (; i < nold && n < L; i++) {
        int64_t q = old[i].qty;
        if (i == 0 && consumed > 0) {
            q -= consumed; /* trades took it: shown as it is, unperturbed */
            if (q <= 0)
                continue;
        } else {
            double u = uniform(s);
            if (u < P_CANCEL && n > 0)
                continue;
            if (u < P_CANCEL + P_REDRAW) {
                q = fresh_size(s, n);
            } else if (u < P_CANCEL + P_REDRAW + P_JITTER) {
                double v = (double)q * det_exp(JITTER_SIGMA * gauss(s));
                q = v > 1e15 ? (int64_t)1e15 : (int64_t)floor(v + 0.5);
                if (q < 1)
                    q = 1;
            }
        }
        out[n].tick = old[i].tick;
        out[n].qty = q;
        n++;
    }
    while (n > 0 && n < L) {
        int64_t t = out[n - 1].tick + dir * level_gap(s);
        if (dir < 0 && t < 1)
            break;
        out[n].tick = t;
        out[n].qty = fresh_size(s, n);
        n++;
    }
    return n;
}

/* The changes that turn the published side into the next one: qty 0 for a
 * level that went, the new quantity for a level that is new or changed. */
static size_t diff_side(int dir, const cq_book_entry_t *p, uint32_t np, const cq_book_entry_t *n,
                        uint32_t nn, cq_book_entry_t *out)
{
    size_t k = 0;
    uint32_t i = 0, j = 0;
    while (i < np || j < nn) {
        if (j == nn || (i < np && key(dir, p[i].tick) < key(dir, n[j].tick))) {
            out[k++] = (cq_book_entry_t){p[i].tick, 0};
            i++;
        } else if (i == np || key(dir, n[j].tick) < key(dir, p[i].tick)) {
            out[k++] = n[j];
            j++;
        } else {
            if (p[i].qty != n[j].qty)
                out[k++] = n[j];
            i++;
            j++;
        }
    }
    return k;
}

/* ---- the event stream ------------------------------------------------------------------- */

/* Venue time (ms, as Binance stamps) and receive time (after a latency,
 * never before the previous event's) of an event at true time t. */
static void stamp(cq_synth_t *s, int64_t t)
{
    s->ev.ts_event = t - t % 1000000;
    int64_t lat = LAT_MIN_NS + (int64_t)floor(LAT_MEAN_NS * expo(s));
    int64_t ti = t + lat;
    if (ti < s->last_ts_init)
        ti = s->last_ts_init;
    s->ev.ts_init = s->last_ts_init = ti;
}

/* The first arrival after t at the current rate, or none before the next
 * batch (where the rate changes and the draw starts again: memoryless). */
static int64_t next_arrival(cq_synth_t *s, int64_t t)
{
    double dt = expo(s) * 1e9 / s->lambda;
    if (dt >= (double)(s->t_batch - t))
        return INT64_MAX;
    return t + 1 + (int64_t)dt;
}

/* 1 if a trade was made, 0 if the arrival found its side's touch taken. */
static int gen_trade(cq_synth_t *s)
{
    int64_t t = s->t_trade;
    s->t_trade = next_arrival(s, t);
    int32_t side = uniform(s) < s->p_buy ? CQ_SIDE_BUY : CQ_SIDE_SELL;
    int64_t size = lognormal_steps(s, s->trade_median, TRADE_SIGMA);
    const cq_book_entry_t *touch = side == CQ_SIDE_BUY ? &s->pa[0] : &s->pb[0];
    int64_t *cons = side == CQ_SIDE_BUY ? &s->cons_a : &s->cons_b;
    int64_t left = touch->qty - *cons;
    if (left <= 0) {
        s->stats.dropped_trades++;
        return 0;
    }
    if (size > left)
        size = left;
    *cons += size;
    s->ev.kind = EV_TRADE;
    s->ev.snapshot = 0;
    s->ev.side = side;
    s->ev.price = touch->tick;
    s->ev.qty = size;
    s->ev.trade_id = s->trade_id++;
    stamp(s, t);
    return 1;
}

/* One step of the price process over the interval that starts now: the
 * return, the variance after it, and what the interval's trades see. */
static void step_process(cq_synth_t *s)
{
    double z = gauss(s);
    double r = sqrt(s->h) * z;
    s->lambda = s->lambda0 * (0.5 + 0.5 * s->h / s->hbar);
    s->p_buy = 0.1 + 0.8 / (1.0 + det_exp(-2.0 * z));
    s->x += r;
    if (s->x < s->x_min)
        s->x = 2.0 * s->x_min - s->x;
    if (s->x > s->x_max)
        s->x = 2.0 * s->x_max - s->x;
    s->h = s->omega + s->alpha * r * r + s->beta * s->h;
    if (s->h > VAR_CAP * s->hbar)
        s->h = VAR_CAP * s->hbar;
}

static void gen_batch(cq_synth_t *s)
{
    int64_t T = s->t_batch;
    int snapshot = s->batch_index == 0;

    /* where the touch goes: the mid and a spread; a touch that trades
     * emptied is not refilled at once (the side backs off one tick) */
    double m = det_exp(s->x) * s->ticks_per_unit;
    int64_t spread = 1;
    double wide = 0.04 * s->h / s->hbar;
    if (uniform(s) < (wide < 0.3 ? wide : 0.3))
        spread = uniform(s) < 0.7 ? 2 : 3;
    int64_t bid = (int64_t)floor(m - 0.5 * (double)spread);
    if (bid < 1)
        bid = 1;
    int64_t ask = bid + spread;
    if (!snapshot) {
        if (s->cons_b > 0 && s->cons_b >= s->pb[0].qty && bid == s->pb[0].tick && bid > 1)
            bid--;
        if (s->cons_a > 0 && s->cons_a >= s->pa[0].qty && ask == s->pa[0].tick)
            ask++;
    }

    uint32_t nb = rebuild_side(s, -1, s->pb, s->npb, s->cons_b, bid, s->nb_);
    uint32_t na = rebuild_side(s, +1, s->pa, s->npa, s->cons_a, ask, s->na_);
    s->ev.kind = EV_BATCH;
    s->ev.snapshot = snapshot;
    s->ev.nb = diff_side(-1, s->pb, s->npb, s->nb_, nb, s->chg_b);
    s->ev.na = diff_side(+1, s->pa, s->npa, s->na_, na, s->chg_a);
    if (snapshot) {
        s->ev.first_id = 0;
        s->ev.last_id = s->update_id;
    } else {
        size_t n = s->ev.nb + s->ev.na;
        s->ev.first_id = s->update_id + 1;
        s->ev.last_id = s->update_id + (n ? n : 1);
        s->update_id = s->ev.last_id;
    }
    cq_book_entry_t *t = s->pb;
    s->pb = s->nb_;
    s->nb_ = t;
    t = s->pa;
    s->pa = s->na_;
    s->na_ = t;
    s->npb = nb;
    s->npa = na;
    s->cons_b = s->cons_a = 0;
    stamp(s, T);

    step_process(s);
    s->batch_index++;
    s->t_batch = T + s->interval;
    s->t_trade = T;
    s->t_trade = next_arrival(s, T);
}

/* Make the next event current. */
static void gen_next(cq_synth_t *s)
{
    for (;;) {
        if (s->t_trade < s->t_batch) {
            if (gen_trade(s))
                break;
        } else {
            gen_batch(s);
            break;
        }
    }
    s->rec_pos = 0;
}

/* The current event has been handed out: count it, make the next one. */
static void consumed(cq_synth_t *s)
{
    s->stats.events++;
    if (s->ev.kind == EV_TRADE) {
        s->stats.trades++;
    } else {
        s->stats.batches++;
        s->stats.deltas += s->ev.nb + s->ev.na;
    }
    gen_next(s);
}

/* ---- configuration ------------------------------------------------------------------------ */

static int valid_name(const char *v, size_t cap)
{
    size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
    return *v && !v[n] && n < cap;
}

/* 0 or CQ_EINVAL with a one-line reason in msg. */
static int validate(const cq_synth_config_t *c, char *msg, size_t len)
{
    const char *why = NULL;
    if (!c)
        why = "no config";
    else if (c->start_ns < 0)
        why = "start time is negative";
    else if (c->symbol && !valid_name(c->symbol, 24))
        why = "symbol must be 1..23 letters, digits, '_' or '-'";
    else if (c->venue && !valid_name(c->venue, 16))
        why = "venue must be 1..15 letters, digits, '_' or '-'";
    else if (c->start_price != 0 && !(c->start_price >= MIN_PRICE && c->start_price <= MAX_PRICE))
        why = "start price must be between 1 and 1e9";
    else if (c->annual_vol != 0 && !(c->annual_vol > 0 && c->annual_vol <= MAX_VOL))
        why = "annual volatility must be in (0, 5]";
    else if (c->trades_per_sec != 0 && !(c->trades_per_sec > 0 && c->trades_per_sec <= MAX_RATE))
        why = "trades per second must be in (0, 100000]";
    else if (c->book_interval_ns != 0 &&
             (c->book_interval_ns < MIN_INTERVAL_NS || c->book_interval_ns > MAX_INTERVAL_NS))
        why = "book interval must be between 1 ms and 60 s";
    else if (c->levels > MAX_LEVELS)
        why = "levels must be at most 1000";
    if (!why)
        return 0;
    if (msg && len)
        snprintf(msg, len, "%s", why);
    return CQ_EINVAL;
}

/* Base and quote asset from a symbol that ends in a well-known quote asset. */
static void split_symbol(const char *sym, char *base, size_t bcap, char *quote, size_t qcap)
{
    static const char *const QUOTES[] = {"USDT", "USDC", "FDUSD", "BUSD", "USD", "EUR", "BTC", "ETH"};
    size_t n = strlen(sym);
    base[0] = quote[0] = 0;
    for (size_t i = 0; i < sizeof QUOTES / sizeof QUOTES[0]; i++) {
        size_t k = strlen(QUOTES[i]);
        if (n > k && !strcmp(sym + n - k, QUOTES[i]) && n - k < bcap && k < qcap) {
            memcpy(base, sym, n - k);
            base[n - k] = 0;
            memcpy(quote, QUOTES[i], k + 1);
            return;
        }
    }
}

int cq_synth_create(cq_synth_t **out, const cq_synth_config_t *cfg)
{
    if (!out)
        return CQ_EINVAL;
    *out = NULL;
    int rc = validate(cfg, NULL, 0);
    if (rc < 0)
        return rc;
    cq_synth_t *s = calloc(1, sizeof *s);
    if (!s)
        return CQ_ENOMEM;
    s->levels = cfg->levels ? cfg->levels : DEFAULT_LEVELS;
    s->interval = cfg->book_interval_ns ? cfg->book_interval_ns : DEFAULT_INTERVAL_NS;
    s->lambda0 = cfg->trades_per_sec ? cfg->trades_per_sec : DEFAULT_RATE;
    double price = cfg->start_price ? cfg->start_price : DEFAULT_PRICE;
    double vol = cfg->annual_vol ? cfg->annual_vol : DEFAULT_VOL;
    int64_t start = cfg->start_ns ? cfg->start_ns : DEFAULT_START_NS;

    /* every side gets room for `levels` levels: published, next, changes
     * (at most every old level deleted and every new one set) */
    size_t L = s->levels;
    cq_book_entry_t *mem = calloc(8 * L, sizeof *mem);
    if (!mem) {
        free(s);
        return CQ_ENOMEM;
    }
    s->mem = s->pb = mem;
    s->pa = mem + L;
    s->nb_ = mem + 2 * L;
    s->na_ = mem + 3 * L;
    s->chg_b = mem + 4 * L;
    s->chg_a = mem + 6 * L;

    /* the instrument: BTCUSDT-like increments */
    cq_cqd_instrument_t *in = &s->inst;
    const char *sym = cfg->symbol ? cfg->symbol : "BTCUSDT";
    const char *ven = cfg->venue ? cfg->venue : "SIM";
    snprintf(in->symbol, sizeof in->symbol, "%s", sym);
    snprintf(in->venue, sizeof in->venue, "%s", ven);
    snprintf(in->id, sizeof in->id, "%s.%s", in->symbol, in->venue);
    split_symbol(in->symbol, in->base, sizeof in->base, in->quote, sizeof in->quote);
    in->price_precision = 2;
    in->size_precision = 5;
    in->tick_units = 1;
    in->step_units = 1;
    in->min_qty = 1;
    in->max_qty = 900000000; /* 9000 */
    in->min_notional = 5;
    in->min_notional_decimals = 0;

    cq_instrument_t *sp = &s->spec;
    sp->hdr.type = CQ_EV_INSTRUMENT;
    memcpy(sp->id, in->id, sizeof sp->id);
    memcpy(sp->symbol, in->symbol, sizeof sp->symbol);
    memcpy(sp->venue, in->venue, sizeof sp->venue);
    memcpy(sp->base, in->base, sizeof sp->base);
    memcpy(sp->quote, in->quote, sizeof sp->quote);
    sp->tick_units = in->tick_units;
    sp->step_units = in->step_units;
    sp->price_precision = in->price_precision;
    sp->size_precision = in->size_precision;
    sp->tick_size = cq_instrument_price(sp, 1);
    sp->step_size = cq_instrument_qty(sp, 1);
    sp->min_qty = cq_instrument_qty(sp, in->min_qty);
    sp->max_qty = cq_instrument_qty(sp, in->max_qty);
    sp->min_notional = 5.0;
    sp->tradable = 1;

    /* the generator */
    uint64_t seed = cfg->seed;
    for (int i = 0; i < 4; i++)
        s->rng[i] = splitmix64(&seed);

    /* the price process, per book interval */
    double dt = (double)s->interval / 1e9;
    double phi = det_exp(-dt / TAU_S);
    s->hbar = vol * vol * dt / YEAR_S;
    s->alpha = sqrt(VOV * (1.0 - phi * phi) / 2.0);
    s->beta = phi - s->alpha;
    s->omega = (1.0 - phi) * s->hbar;
    s->h = s->hbar;
    s->x = det_log(price);
    s->x_min = det_log(price / RANGE > MIN_PRICE ? price / RANGE : MIN_PRICE);
    s->x_max = det_log(price * RANGE);
    s->ticks_per_unit = 100.0; /* 10^price_precision / tick_units */

    /* sizes and level spacing, from the start price */
    double step = 1e-5;
    s->q0 = TOUCH_NOTIONAL / price / step;
    s->trade_median = TRADE_NOTIONAL / price / step;
    double move_ticks = price * sqrt(s->hbar) * s->ticks_per_unit; /* sd of one interval's move */
    double g = BOOK_SPAN * move_ticks / (double)s->levels;
    s->gap_scale = g > 1.0 ? g - 1.0 : 0.0;

    s->start = s->t_batch = start;
    s->t_trade = INT64_MAX;
    s->update_id = FIRST_UPDATE_ID;
    s->trade_id = FIRST_TRADE_ID;
    gen_next(s);
    *out = s;
    return 0;
}

void cq_synth_destroy(cq_synth_t *s)
{
    if (!s)
        return;
    free(s->mem);
    free(s);
}

const cq_cqd_instrument_t *cq_synth_instrument(const cq_synth_t *s)
{
    return s ? &s->inst : NULL;
}

void cq_synth_stats(const cq_synth_t *s, cq_synth_stats_t *out)
{
    if (s && out)
        *out = s->stats;
}

/* ---- records ------------------------------------------------------------------------------ */

static size_t event_records(const event_t *ev)
{
    if (ev->kind == EV_TRADE)
        return 1;
    return ev->nb + ev->na ? ev->nb + ev->na : 1;
}

int cq_synth_record(cq_synth_t *s, cq_cqd_record_t *out)
{
    if (!s || !out)
        return CQ_EINVAL;
    const event_t *ev = &s->ev;
    memset(out, 0, sizeof *out);
    out->type = ev->kind == EV_TRADE ? CQ_EV_TRADE : CQ_EV_BOOK_DELTA;
    out->ts_event = ev->ts_event;
    out->ts_init = ev->ts_init;
    if (ev->kind == EV_TRADE) {
        out->side = (uint8_t)ev->side;
        out->trade.price = ev->price;
        out->trade.qty = ev->qty;
        out->trade.trade_id = ev->trade_id;
    } else {
        size_t i = s->rec_pos, n = ev->nb + ev->na;
        if (i < ev->nb) {
            out->side = CQ_SIDE_BUY;
            out->delta.price = s->chg_b[i].tick;
            out->delta.qty = s->chg_b[i].qty;
        } else if (i < n) {
            out->side = CQ_SIDE_SELL;
            out->delta.price = s->chg_a[i - ev->nb].tick;
            out->delta.qty = s->chg_a[i - ev->nb].qty;
        } else {
            out->side = CQ_SIDE_NONE; /* an empty diff: the sequence still advances */
        }
        out->delta.update_id = ev->last_id;
        out->delta.first_update_id = ev->first_id;
        out->flags = ev->snapshot ? CQ_EVF_SNAPSHOT : 0;
    }
    s->stats.records++;
    if (++s->rec_pos == event_records(ev)) {
        if (ev->kind == EV_BATCH)
            out->flags |= CQ_EVF_LAST;
        consumed(s);
    }
    return 0;
}

int cq_synth_write(const cq_synth_config_t *cfg, double minutes, const char *path, uint64_t *records,
                   char *err, size_t errlen)
{
    char msg[256];
    if (records)
        *records = 0;
    if (err && errlen)
        err[0] = 0;
    if (!path || !*path) {
        if (err && errlen)
            snprintf(err, errlen, "no output path");
        return CQ_EINVAL;
    }
    if (!(minutes > 0) || minutes > MAX_MINUTES) {
        if (err && errlen)
            snprintf(err, errlen, "minutes must be > 0 and <= 1e7");
        return CQ_EINVAL;
    }
    int rc = validate(cfg, msg, sizeof msg);
    if (rc < 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s", msg);
        return rc;
    }
    cq_synth_t *s;
    if ((rc = cq_synth_create(&s, cfg)) < 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s", cq_strerror(rc));
        return rc;
    }
    cq_cqd_writer_t *w;
    if ((rc = cq_cqd_writer_open(&w, path, err, errlen)) < 0) {
        cq_synth_destroy(s);
        return rc;
    }
    uint32_t index;
    int64_t end = s->start + (int64_t)(minutes * 60e9);
    if ((rc = cq_cqd_writer_add_instrument(w, &s->inst, &index)) == 0) {
        cq_cqd_record_t rec;
        /* whole events only: stop at the first one that starts at or after the end */
        while (s->rec_pos > 0 || s->ev.ts_event < end) {
            cq_synth_record(s, &rec);
            rec.instrument = index;
            if ((rc = cq_cqd_writer_append(w, &rec)) < 0)
                break;
        }
    }
    if (rc == 0)
        rc = cq_cqd_writer_finish(w);
    if (rc < 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, cq_cqd_writer_error(w)[0] ? cq_cqd_writer_error(w) : cq_strerror(rc));
    } else if (records) {
        *records = cq_cqd_writer_count(w);
    }
    cq_cqd_writer_destroy(w);
    cq_synth_destroy(s);
    return rc;
}

/* ---- live ------------------------------------------------------------------------------------ */

int cq_synth_attach(cq_synth_t *s, cq_data_engine_t *de, cq_cache_t *cache, uint32_t *instrument)
{
    if (!s || !de || !cache)
        return CQ_EINVAL;
    uint32_t h;
    int rc = cq_cache_instrument_add(cache, &s->spec, &h);
    if (rc < 0)
        return rc;
    s->spec.hdr.instrument = h;
    s->handle = h;
    s->de = de;
    if (instrument)
        *instrument = h;
    return 0;
}

int64_t cq_synth_peek_ts(const cq_synth_t *s)
{
    return s ? s->ev.ts_init : INT64_MAX;
}

int cq_synth_next(cq_synth_t *s)
{
    if (!s)
        return CQ_EINVAL;
    if (!s->de || s->rec_pos > 0)
        return CQ_ESTATE;
    const event_t *ev = &s->ev;
    int rc;
    if (ev->kind == EV_TRADE) {
        cq_trade_t t;
        memset(&t, 0, sizeof t);
        t.hdr.type = CQ_EV_TRADE;
        t.hdr.instrument = s->handle;
        t.hdr.ts_event = ev->ts_event;
        t.hdr.ts_init = ev->ts_init;
        t.price = cq_instrument_price(&s->spec, ev->price);
        t.qty = cq_instrument_qty(&s->spec, ev->qty);
        t.trade_id = ev->trade_id;
        t.aggressor = ev->side;
        rc = cq_data_trade(s->de, &t);
    } else {
        cq_book_batch_t b = {s->handle, ev->first_id, ev->last_id, ev->ts_event, ev->ts_init,
                             s->chg_b,  ev->nb,       s->chg_a,    ev->na};
        rc = ev->snapshot ? cq_data_book_snapshot(s->de, &b) : cq_data_book_batch(s->de, &b);
    }
    if (rc < 0)
        s->stats.rejected++;
    consumed(s);
    return 1;
}
