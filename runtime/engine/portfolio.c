/*
 * portfolio.c - positions and balances from fills, as exact integers (see
 * portfolio.h for the units and docs/portfolio.md for the method).
 *
 * Owns, beside the cache's public records, the integer truth behind them:
 * per instrument its increments and balance pointers, per (instrument,
 * strategy) the signed steps, cost basis, realized PnL and quote fees, per
 * (venue, asset) the total and fee total. The doubles in the cache are
 * recomputed from these after every change, so they never accumulate error.
 *
 * Allocates when an instrument, position or balance is first seen; never on
 * the steady-state fill path. Never moves an amount when it refuses a fill:
 * every conversion and overflow check happens before the first store (the
 * records looked up on the way, a flat position or an empty balance, may
 * remain).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/error.h"
#include "cquant/portfolio.h"

typedef cq_i128_t i128;

#define NAME_FIELD 16            /* cq_balance_t venue / asset */
#define MAX_EXACT 9007199254740992.0 /* 2^53 */

static const double pow10_d[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
                                 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

static const int64_t pow10_l[] = {1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL,
                                  100000000LL, 1000000000LL, 10000000000LL, 100000000000LL,
                                  1000000000000LL, 10000000000000LL, 100000000000000LL,
                                  1000000000000000LL, 10000000000000000LL, 100000000000000000LL,
                                  1000000000000000000LL};

static inline i128 pow10_i(int k) { return pow10_l[k]; }

/* An exact amount of an asset: v * 10^-scale. The scale is the finest any
 * amount added so far needed (0..18), so v stays small and its double is
 * one correctly rounded division; it only grows, by an exact rescale. */
typedef struct amount {
    i128 v;
    int32_t scale;
} amount_t;

typedef struct bal_state {
    cq_balance_t *pub;
    amount_t total, fees;
    cq_topic_t topic;            /* events.account.<VENUE> */
} bal_state_t;

typedef struct pos_state {
    cq_position_t *pub;
    int64_t qty;                 /* signed steps */
    i128 cost;                   /* >= 0, 10^-S */
    i128 realized;               /* 10^-S */
    amount_t fees;               /* quote asset */
    cq_topic_t topic;            /* events.position.<STRATEGY> */
} pos_state_t;

typedef struct inst_state {
    const cq_instrument_t *spec; /* the cache's record (stable address); NULL = unused slot */
    int64_t tick_units, step_units;
    int32_t pp, sp;              /* increments as first seen */
    double ticks_per_price;      /* 10^pp / tick_units */
    double steps_per_qty;        /* 10^sp / step_units */
    double pow_pp, pow_sp, pow_s;
    bal_state_t *base, *quote;
    bal_state_t *other_fee;      /* last fee asset that was neither: BNB, say */
    pos_state_t **pos;           /* by strategy handle */
    uint32_t npos;
    double mid;                  /* last mark; 0 = never marked */
    double last_price;           /* last fill price: the mark until the first mid */
} inst_state_t;

struct cq_portfolio {
    cq_bus_t *bus;
    cq_cache_t *cache;
    const cq_log_t *log;
    inst_state_t *inst;          /* by instrument handle */
    uint32_t ninst;
    bal_state_t **bal;           /* creation order; looked up by name off the hot path */
    size_t nbal, capbal;
    cq_portfolio_stats_t stats;
};

/* ---- conversions ------------------------------------------------------------ */

/* v * per as a whole count of increments, within 1e-9 relative and a
 * quarter increment; the count must be >= 1 and a double must still hold
 * it exactly. */
static int to_grid(double v, double per, int64_t *out)
{
    double x = v * per;
    if (!(x >= 0.5) || !(x <= MAX_EXACT))
        return CQ_EINVAL;
    double r = (double)(int64_t)(x + 0.5); /* x > 0: truncation after +0.5 rounds */
    double d = x - r, tol = x < 2.5e8 ? 1e-9 * x : 0.25;
    if (d > tol || -d > tol)
        return CQ_EINVAL;
    *out = (int64_t)r;
    return 0;
}

/* Within 1e-14 relative of a whole number: the whole number, else -1. */
static inline int64_t near_whole(double x)
{
    if (!(x < 9e18))
        return -1;
    int64_t r = (int64_t)(x + 0.5);
    double d = x - (double)r;
    return r >= 1 && (d < 0 ? -d : d) <= 1e-14 * x ? r : -1;
}

/* A double amount of an asset (fee, balance) as the shortest decimal with
 * at most 18 places within 1e-14 relative: *units * 10^-*scale. Doubles
 * carry ~16 significant digits, so any decimal of up to 14 digits comes
 * back exactly, and double noise from a venue's or simulator's arithmetic
 * (a few ulps) is absorbed.
 *
 * Venues send at most 8 places, so 10^-8 is tried first and its trailing
 * zeros stripped (while x < 10^13 the 1e-14 tolerance is under half a unit,
 * so the whole number found there is the decimal's own); only amounts that
 * need more places, or are too large for that shortcut, search k = 0..18. */
static int to_asset_units(double v, i128 *units, int32_t *scale)
{
    if (!isfinite(v))
        return CQ_EINVAL;
    *units = 0;
    *scale = 0;
    if (v == 0)
        return 0;
    double a = v < 0 ? -v : v;
    if (a >= 1e20) /* keeps every later rescale to 10^-18 inside 128 bits */
        return CQ_ERANGE;
    int64_t r;
    int k = 0;
    if (a < 1e5 && (r = near_whole(a * 1e8)) > 0) {
        /* Strip trailing zeros by halves (4, 2, 1 digits): a fee like 0.01
         * took six divisions one digit at a time. */
        k = 8;
        if (r % 10000 == 0) {
            r /= 10000;
            k -= 4;
        }
        if (k >= 2 && r % 100 == 0) {
            r /= 100;
            k -= 2;
        }
        if (k >= 1 && r % 10 == 0) {
            r /= 10;
            k -= 1;
        }
        if (k >= 1 && r % 10 == 0) { /* 10^-8 * 10^8 = 1 needs one more */
            r /= 10;
            k -= 1;
        }
    } else {
        for (k = 0; k <= CQ_ASSET_SCALE; k++) {
            double x = a * pow10_d[k];
            if (x >= 9e18) {
                r = -1;
                break;
            }
            if ((r = near_whole(x)) > 0)
                break;
        }
        if (r <= 0)
            return CQ_ERANGE; /* below 10^-18, or no decimal of 18 places is that close */
    }
    *units = v < 0 ? -(i128)r : (i128)r;
    *scale = k;
    return 0;
}

#define EXACT_INT ((i128)1 << 53)

/* |v| <= 2^53: a double holds it exactly. One add and compare. */
static inline int exact53(i128 v)
{
    return (unsigned __int128)(v + EXACT_INT) <= (unsigned __int128)(2 * EXACT_INT);
}

/* n / d as a double: one correctly rounded division while both are exact
 * doubles (the usual case); else through long double (within an ulp). */
static inline double ratio(i128 n, i128 d)
{
    if (exact53(n) && exact53(d))
        return (double)(int64_t)n / (double)(int64_t)d;
    return (double)((long double)n / (long double)d);
}

/* n * 10^-k as a double, likewise. */
static inline double scaled(i128 n, int k)
{
    if (exact53(n))
        return (double)(int64_t)n / pow10_d[k];
    return (double)((long double)n / (long double)pow10_d[k]);
}

static inline double amt_double(amount_t a)
{
    return scaled(a.v, a.scale);
}

static inline int fits64(i128 v) { return v == (i128)(int64_t)v; }

/* a * b into *r; 0 on overflow. Amounts nearly always fit 64 bits, where
 * the product cannot overflow and one multiply does. */
static inline int mul_ok(i128 a, i128 b, i128 *r)
{
    if (fits64(a) && fits64(b)) {
        *r = (i128)(int64_t)a * (int64_t)b;
        return 1;
    }
    return !__builtin_mul_overflow(a, b, r);
}

/* a + x * 10^-k, exact, into *out; CQ_ERANGE (and *out untouched) if it
 * does not fit. */
static inline int amt_add(const amount_t *a, i128 x, int32_t k, amount_t *out)
{
    i128 v = a->v, m;
    if (k > a->scale && !mul_ok(v, pow10_i(k - a->scale), &v))
        return CQ_ERANGE;
    int32_t scale = k > a->scale ? k : a->scale;
    if (!mul_ok(x, pow10_i(scale - k), &m) || __builtin_add_overflow(v, m, &v))
        return CQ_ERANGE;
    out->v = v;
    out->scale = scale;
    return 0;
}

static i128 amt_at18(amount_t a)
{
    return a.v * pow10_i(CQ_ASSET_SCALE - a.scale);
}

/* num / den to the nearest integer, ties to even; num >= 0, den > 0. */
static i128 div_nearest_even(i128 num, i128 den)
{
    i128 q, r;
    if (num <= (i128)UINT64_MAX && den <= (i128)UINT64_MAX) {
        uint64_t n = (uint64_t)num, d = (uint64_t)den; /* the common case: one divq */
        q = (i128)(n / d);
        r = (i128)(n % d);
    } else {
        q = num / den;
        r = num - q * den;
    }
    if (2 * r > den || (2 * r == den && (q & 1)))
        q++;
    return q;
}

/* ---- balances ------------------------------------------------------------- */

/* Two NUL-terminated names of a 16-byte field are equal (a name without
 * its NUL equals nothing). Inline: asset names are a few bytes. */
static inline int same_name(const char *a, const char *b)
{
    for (int i = 0; i < NAME_FIELD; i++) {
        if (a[i] != b[i])
            return 0;
        if (!a[i])
            return 1;
    }
    return 0;
}

static int name_ok(const char *s)
{
    return s && *s && strnlen(s, NAME_FIELD) < NAME_FIELD;
}

static bal_state_t *bal_find(const cq_portfolio_t *p, const char *venue, const char *asset)
{
    for (size_t i = 0; i < p->nbal; i++) {
        const cq_balance_t *b = p->bal[i]->pub;
        if (strncmp(b->venue, venue, NAME_FIELD) == 0 && strncmp(b->asset, asset, NAME_FIELD) == 0)
            return p->bal[i];
    }
    return NULL;
}

static int make_topic(cq_bus_t *bus, const char *kind, const char *name, cq_topic_t *out)
{
    char topic[CQ_BUS_TOPIC_MAX + 1];
    int n = snprintf(topic, sizeof topic, "events.%s.%s", kind, name);
    if (n < 0 || (size_t)n >= sizeof topic)
        return CQ_ETOOLONG;
    return cq_bus_topic(bus, topic, out);
}

static inline void bal_publish_values(bal_state_t *b)
{
    b->pub->total = amt_double(b->total);
    b->pub->free = b->pub->total - b->pub->locked;
}

/* The portfolio's state of a balance, created (and the cache's record with
 * it) on first use. */
static int bal_of(cq_portfolio_t *p, const char *venue, const char *asset, bal_state_t **out)
{
    if (!name_ok(venue) || !name_ok(asset))
        return CQ_EINVAL;
    bal_state_t *b = bal_find(p, venue, asset);
    if (b) {
        *out = b;
        return 0;
    }
    if (p->nbal == p->capbal) {
        size_t ncap = p->capbal ? p->capbal * 2 : 16;
        bal_state_t **nb = realloc(p->bal, ncap * sizeof *nb);
        if (!nb)
            return CQ_ENOMEM;
        p->bal = nb;
        p->capbal = ncap;
    }
    b = calloc(1, sizeof *b);
    if (!b)
        return CQ_ENOMEM;
    int rc = cq_cache_balance_get(p->cache, venue, asset, &b->pub);
    if (rc == 0)
        rc = make_topic(p->bus, "account", venue, &b->topic);
    if (rc < 0) {
        free(b);
        return rc;
    }
    if (to_asset_units(b->pub->total, &b->total.v, &b->total.scale) < 0) {
        cq_logf(p->log, CQ_LOG_WARN, "portfolio", "balance %s %s: cache total %.17g is not an amount; "
                "starting from 0", venue, asset, b->pub->total);
        b->total.v = 0;
        b->total.scale = 0;
    }
    bal_publish_values(b);
    p->bal[p->nbal++] = b;
    *out = b;
    return 0;
}

/* ---- instruments and positions ------------------------------------------------ */

static int inst_init(cq_portfolio_t *p, inst_state_t *s, const cq_instrument_t *spec)
{
    if (spec->tick_units < 1 || spec->step_units < 1 || spec->price_precision < 0 ||
        spec->size_precision < 0)
        return CQ_EINVAL;
    if (spec->price_precision + spec->size_precision > CQ_ASSET_SCALE)
        return CQ_ERANGE;
    if (strncmp(spec->base, spec->quote, NAME_FIELD) == 0)
        return CQ_EINVAL;
    bal_state_t *base, *quote;
    int rc;
    if ((rc = bal_of(p, spec->venue, spec->base, &base)) < 0 ||
        (rc = bal_of(p, spec->venue, spec->quote, &quote)) < 0)
        return rc;
    s->tick_units = spec->tick_units;
    s->step_units = spec->step_units;
    s->pp = spec->price_precision;
    s->sp = spec->size_precision;
    s->pow_pp = pow10_d[s->pp];
    s->pow_sp = pow10_d[s->sp];
    s->pow_s = pow10_d[s->pp + s->sp];
    s->ticks_per_price = s->pow_pp / (double)s->tick_units;
    s->steps_per_qty = s->pow_sp / (double)s->step_units;
    s->base = base;
    s->quote = quote;
    s->spec = spec; /* last: marks the slot as built */
    return 0;
}

static int inst_of(cq_portfolio_t *p, uint32_t instrument, inst_state_t **out)
{
    inst_state_t *s = instrument < p->ninst ? &p->inst[instrument] : NULL;
    if (s && s->spec) {
        const cq_instrument_t *spec = s->spec;
        if (spec->tick_units != s->tick_units || spec->step_units != s->step_units ||
            spec->price_precision != s->pp || spec->size_precision != s->sp)
            return CQ_ESTATE;
        *out = s;
        return 0;
    }
    const cq_instrument_t *spec = cq_cache_instrument(p->cache, instrument);
    if (!spec)
        return CQ_ENOENT;
    if (instrument >= p->ninst) {
        uint32_t n = p->ninst ? p->ninst : 16;
        while (n <= instrument)
            n *= 2;
        inst_state_t *ni = realloc(p->inst, n * sizeof *ni);
        if (!ni)
            return CQ_ENOMEM;
        memset(ni + p->ninst, 0, (n - p->ninst) * sizeof *ni);
        p->inst = ni;
        p->ninst = n;
    }
    s = &p->inst[instrument];
    int rc = inst_init(p, s, spec);
    if (rc < 0)
        return rc;
    *out = s;
    return 0;
}

static int pos_of(cq_portfolio_t *p, inst_state_t *s, uint32_t instrument, uint32_t strategy,
                  pos_state_t **out)
{
    if (strategy < s->npos && s->pos[strategy]) {
        *out = s->pos[strategy];
        return 0;
    }
    if (!strategy)
        return CQ_EINVAL;
    const char *name = cq_cache_strategy_name(p->cache, strategy);
    if (!name)
        return CQ_ENOENT;
    if (strategy >= s->npos) {
        uint32_t n = s->npos ? s->npos : 8;
        while (n <= strategy)
            n *= 2;
        pos_state_t **np = realloc(s->pos, n * sizeof *np);
        if (!np)
            return CQ_ENOMEM;
        memset(np + s->npos, 0, (n - s->npos) * sizeof *np);
        s->pos = np;
        s->npos = n;
    }
    pos_state_t *ps = calloc(1, sizeof *ps);
    if (!ps)
        return CQ_ENOMEM;
    int rc = cq_cache_position_get(p->cache, instrument, strategy, &ps->pub);
    if (rc == 0)
        rc = make_topic(p->bus, "position", name, &ps->topic);
    if (rc < 0) {
        free(ps);
        return rc;
    }
    s->pos[strategy] = ps;
    *out = ps;
    return 0;
}

static void pos_unrealized(const inst_state_t *s, pos_state_t *ps)
{
    double mark = s->mid > 0 ? s->mid : s->last_price;
    if (ps->qty == 0 || mark <= 0) {
        ps->pub->unrealized_pnl = 0;
        return;
    }
    double open = (double)(ps->qty < 0 ? -ps->qty : ps->qty) * (double)s->step_units;
    double value = mark * s->pow_pp * open;         /* 10^-S units at the mark */
    double cost = scaled(ps->cost, 0);
    double diff = ps->qty > 0 ? value - cost : cost - value;
    ps->pub->unrealized_pnl = diff / s->pow_s;
}

/* The public record, recomputed from the integers: each double is one
 * conversion (and one division by an exact power of ten). */
static void pos_publish_values(const inst_state_t *s, pos_state_t *ps)
{
    cq_position_t *pub = ps->pub;
    i128 units = (i128)ps->qty * s->step_units;
    pub->qty_steps = ps->qty;
    pub->qty = scaled(units, s->sp);
    /* avg = cost / (|qty units| * 10^pp) */
    pub->avg_price = ps->qty ? ratio(ps->cost, (units < 0 ? -units : units) * pow10_i(s->pp)) : 0;
    pub->realized_pnl = scaled(ps->realized, s->pp + s->sp);
    pub->fees = amt_double(ps->fees);
    pos_unrealized(s, ps);
}

/* ---- fills ---------------------------------------------------------------------- */

static int refuse(cq_portfolio_t *p, int rc, const cq_fill_t *f, const char *why)
{
    switch (rc) {
    case CQ_EINVAL: p->stats.bad_fills++; break;
    case CQ_ENOENT: p->stats.unknown++; break;
    case CQ_ERANGE: p->stats.overflows++; break;
    default: p->stats.other_errors++; break;
    }
    cq_logf(p->log, CQ_LOG_WARN, "portfolio", "fill %.40s refused (%s): %s", f ? f->trade_id : "(null)",
            cq_errname(rc), why);
    return rc;
}

#define ADD(a, b, r) __builtin_add_overflow((a), (b), (r))
#define SUB(a, b, r) __builtin_sub_overflow((a), (b), (r))
#define MUL(a, b, r) (!mul_ok((a), (b), (r)))

int cq_portfolio_apply_fill(cq_portfolio_t *p, const cq_fill_t *f)
{
    if (!p)
        return CQ_EINVAL;
    if (!f)
        return refuse(p, CQ_EINVAL, f, "no fill");
    inst_state_t *s;
    int rc = inst_of(p, f->hdr.instrument, &s);
    if (rc < 0)
        return refuse(p, rc, f, "instrument unknown, unusable or changed");
    if (f->side != CQ_SIDE_BUY && f->side != CQ_SIDE_SELL)
        return refuse(p, CQ_EINVAL, f, "side is not BUY or SELL");
    int64_t ticks, steps;
    if (to_grid(f->price, s->ticks_per_price, &ticks) < 0)
        return refuse(p, CQ_EINVAL, f, "price is not a positive number on the tick");
    if (to_grid(f->qty, s->steps_per_qty, &steps) < 0)
        return refuse(p, CQ_EINVAL, f, "quantity is not a positive number on the step");

    /* The fee: its amount and which balance pays it. */
    i128 fee = 0;
    int32_t fee_scale = 0;
    bal_state_t *fee_bal = NULL;
    if (f->fee != 0) { /* NaN too: to_asset_units refuses it */
        if ((rc = to_asset_units(f->fee, &fee, &fee_scale)) < 0)
            return refuse(p, rc, f, "fee is not an amount");
        if (same_name(f->fee_asset, s->quote->pub->asset))
            fee_bal = s->quote;
        else if (same_name(f->fee_asset, s->base->pub->asset))
            fee_bal = s->base;
        else if (s->other_fee && same_name(f->fee_asset, s->other_fee->pub->asset))
            fee_bal = s->other_fee;
        else if (!memchr(f->fee_asset, 0, sizeof f->fee_asset) || !f->fee_asset[0])
            return refuse(p, CQ_EINVAL, f, "fee without a valid fee_asset");
        else if ((rc = bal_of(p, s->spec->venue, f->fee_asset, &fee_bal)) < 0)
            return refuse(p, rc, f, "fee asset balance unavailable");
        else
            s->other_fee = fee_bal;
    }
    pos_state_t *ps;
    if ((rc = pos_of(p, s, f->hdr.instrument, f->hdr.strategy, &ps)) < 0)
        return refuse(p, rc, f, "strategy missing or unknown");

    /* The new position, all in integers, nothing stored yet. */
    int sign = f->side == CQ_SIDE_BUY ? 1 : -1;
    i128 price_units = (i128)ticks * s->tick_units;
    i128 qty_units = (i128)steps * s->step_units, notional;
    if (MUL(price_units, qty_units, &notional))
        return refuse(p, CQ_ERANGE, f, "notional overflows 128 bits");
    int ovf = 0; /* once set, later values are garbage and never negated or stored */
    int64_t q = ps->qty, nq = 0;
    i128 cost = ps->cost, realized = ps->realized;
    if (q == 0 || (q > 0) == (sign > 0)) { /* open or add */
        ovf |= ADD(q, sign * steps, &nq) | ADD(cost, notional, &cost);
    } else {
        int64_t open = q < 0 ? -q : q;
        i128 pnl; /* (proceeds - cost) for a long, (cost - buy-back) for a short */
        if (steps < open) {
            i128 num, released = 0;
            ovf |= MUL(cost, (i128)steps, &num);
            if (!ovf)
                released = div_nearest_even(num, open); /* <= cost: steps < open */
            pnl = notional - released;
            cost -= released;
            nq = q + sign * steps;
        } else {
            i128 closing, rest_units = (i128)(steps - open) * s->step_units;
            ovf |= MUL(price_units, (i128)open * s->step_units, &closing);
            ovf |= SUB(closing, cost, &pnl);
            ovf |= MUL(price_units, rest_units, &cost); /* the rest opens at the fill price */
            nq = sign * (steps - open);
        }
        if (!ovf)
            ovf |= q < 0 ? SUB(realized, pnl, &realized) : ADD(realized, pnl, &realized);
    }
    if (ovf)
        return refuse(p, CQ_ERANGE, f, "position amounts overflow 128 bits");

    /* The balances, likewise: base +-qty at 10^-sp, quote -+notional at
     * 10^-S, and the fee out of its asset. */
    amount_t base = s->base->total, quote = s->quote->total, fee_total = {0, 0}, fee_paid = {0, 0};
    amount_t pos_fees = ps->fees;
    int32_t scale_s = s->pp + s->sp;
    ovf |= amt_add(&base, sign * qty_units, s->sp, &base) < 0;
    ovf |= amt_add(&quote, -sign * notional, scale_s, &quote) < 0;
    if (fee_bal) {
        ovf |= amt_add(&fee_bal->fees, fee, fee_scale, &fee_paid) < 0;
        if (fee_bal == s->base)
            ovf |= amt_add(&base, -fee, fee_scale, &base) < 0;
        else if (fee_bal == s->quote)
            ovf |= amt_add(&quote, -fee, fee_scale, &quote) < 0 ||
                   amt_add(&pos_fees, fee, fee_scale, &pos_fees) < 0;
        else
            ovf |= amt_add(&fee_bal->total, -fee, fee_scale, &fee_total) < 0;
    }
    if (ovf)
        return refuse(p, CQ_ERANGE, f, "balance amounts overflow 128 bits");

    /* Commit. */
    ps->qty = nq;
    ps->cost = cost;
    ps->realized = realized;
    ps->fees = pos_fees;
    s->base->total = base;
    s->quote->total = quote;
    if (fee_bal) {
        fee_bal->fees = fee_paid;
        if (fee_bal != s->base && fee_bal != s->quote)
            fee_bal->total = fee_total;
    }
    s->last_price = f->price;

    pos_publish_values(s, ps);
    ps->pub->hdr.ts_event = f->hdr.ts_event;
    ps->pub->hdr.ts_init = f->hdr.ts_init;
    bal_state_t *changed[3] = {s->base, s->quote, fee_bal};
    int nchanged = fee_bal && fee_bal != s->base && fee_bal != s->quote ? 3 : 2;
    for (int i = 0; i < nchanged; i++) {
        bal_publish_values(changed[i]);
        changed[i]->pub->hdr.ts_event = f->hdr.ts_event;
        changed[i]->pub->hdr.ts_init = f->hdr.ts_init;
    }
    p->stats.fills++;
    cq_bus_publish(p->bus, ps->topic, ps->pub);
    for (int i = 0; i < nchanged; i++)
        cq_bus_publish(p->bus, changed[i]->topic, changed[i]->pub);
    return 0;
}

/* ---- marks, balances, getters ------------------------------------------------------ */

int cq_portfolio_mark(cq_portfolio_t *p, uint32_t instrument, double mid)
{
    if (!p || !isfinite(mid) || mid <= 0)
        return CQ_EINVAL;
    inst_state_t *s;
    int rc = inst_of(p, instrument, &s);
    if (rc < 0)
        return rc;
    s->mid = mid;
    for (uint32_t i = 0; i < s->npos; i++)
        if (s->pos[i])
            pos_unrealized(s, s->pos[i]);
    p->stats.marks++;
    return 0;
}

static int set_total(cq_portfolio_t *p, const char *venue, const char *asset, i128 units, int32_t scale)
{
    bal_state_t *b;
    int rc = bal_of(p, venue, asset, &b);
    if (rc < 0)
        return rc;
    b->total.v = units;
    b->total.scale = scale;
    bal_publish_values(b);
    cq_bus_publish(p->bus, b->topic, b->pub);
    return 0;
}

int cq_portfolio_set_balance(cq_portfolio_t *p, const char *venue, const char *asset, double total)
{
    i128 units;
    int32_t scale;
    if (!p)
        return CQ_EINVAL;
    int rc = to_asset_units(total, &units, &scale);
    return rc < 0 ? rc : set_total(p, venue, asset, units, scale);
}

int cq_portfolio_set_balance_units(cq_portfolio_t *p, const char *venue, const char *asset,
                                   int64_t units, int32_t scale)
{
    if (!p || scale < 0 || scale > CQ_ASSET_SCALE)
        return CQ_EINVAL;
    return set_total(p, venue, asset, units, scale);
}

int cq_portfolio_position_exact(const cq_portfolio_t *p, uint32_t instrument, uint32_t strategy,
                                cq_position_exact_t *out)
{
    if (!p || !out)
        return CQ_EINVAL;
    const inst_state_t *s = instrument < p->ninst ? &p->inst[instrument] : NULL;
    if (!s || !s->spec || strategy >= s->npos || !s->pos[strategy])
        return CQ_ENOENT;
    const pos_state_t *ps = s->pos[strategy];
    memset(out, 0, sizeof *out);
    out->qty_steps = ps->qty;
    out->scale = s->pp + s->sp;
    out->cost = ps->cost;
    out->realized = ps->realized;
    out->fees = amt_at18(ps->fees);
    return 0;
}

int cq_portfolio_balance_exact(const cq_portfolio_t *p, const char *venue, const char *asset,
                               cq_balance_exact_t *out)
{
    if (!p || !out || !name_ok(venue) || !name_ok(asset))
        return CQ_EINVAL;
    const bal_state_t *b = bal_find(p, venue, asset);
    if (!b)
        return CQ_ENOENT;
    out->total = amt_at18(b->total);
    out->fees = amt_at18(b->fees);
    return 0;
}

void cq_portfolio_stats(const cq_portfolio_t *p, cq_portfolio_stats_t *out)
{
    if (!out)
        return;
    if (p)
        *out = p->stats;
    else
        memset(out, 0, sizeof *out);
}

/* ---- life cycle ---------------------------------------------------------------------- */

int cq_portfolio_create(cq_portfolio_t **out, cq_bus_t *bus, cq_cache_t *cache, const cq_log_t *log)
{
    if (out)
        *out = NULL;
    if (!out || !bus || !cache)
        return CQ_EINVAL;
    cq_portfolio_t *p = calloc(1, sizeof *p);
    if (!p)
        return CQ_ENOMEM;
    p->bus = bus;
    p->cache = cache;
    p->log = log;
    *out = p;
    return 0;
}

void cq_portfolio_destroy(cq_portfolio_t *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; i < p->ninst; i++) {
        for (uint32_t j = 0; j < p->inst[i].npos; j++)
            free(p->inst[i].pos[j]);
        free(p->inst[i].pos);
    }
    free(p->inst);
    for (size_t i = 0; i < p->nbal; i++)
        free(p->bal[i]);
    free(p->bal);
    free(p);
}
