/*
 * import.c - import sessions and the CSV importers behind `cquant convert`.
 *
 * A session owns the instrument table being built, the specs offered for
 * it (cq_import_offer), every staged record (held in memory, prices and
 * sizes as integer units at the instrument's current precision) and the
 * counters of malformed lines. The CSV readers here (Tardis trades / quotes
 * / incremental_book_L2, OHLCV) parse each line exactly - decimals never
 * pass through a double - and feed the session through the same hook other
 * format readers use (importer.h); cq_import_file hands Binance recordings
 * to import_binance.c.
 *
 * It must never let one malformed line stop a lenient import, never accept
 * a value it cannot represent exactly, and never write a partial output
 * file (the .cqd writer renames into place only at the end).
 *
 * The decimal parser here is not cq_decimal_parse (decimal.h) on purpose:
 * CSV files from other tools carry numbers printed by JavaScript and Python
 * ("1e-7", "+5"), which the strict wire grammar of decimal.h refuses.
 */
#include "cquant/importer.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cquant/error.h"
#include "venue/import_internal.h"

#define LINE_MAX_BYTES 65536   /* longer lines are reported and skipped */
#define MAX_FIELDS 64

typedef struct inst {
    cq_cqd_instrument_t spec;  /* precisions are the current ones while staging */
    int price_fixed;           /* tick given: precision fixed, multiples checked */
    int size_fixed;
    int defined;               /* from cq_import_define */
    int64_t lim_m[2];          /* defined min_qty, max_qty as decimals: converted */
    int32_t lim_d[2];          /* at write time, once the size precision is final */
} inst_t;

struct cq_import {
    cq_import_opts_t opts;     /* venue and snapshot_symbol point at the copies below */
    char venue[16];
    char snapshot_symbol[24];
    inst_t *inst;
    uint32_t ninst, cap_inst;
    inst_t *offer;             /* cq_import_offer: specs waiting for their data */
    uint32_t noffer, cap_offer;
    cq_cqd_record_t *recs;
    size_t nrecs, cap_recs;
    cq_import_stats_t stats;
    char err[768];
};

static const int64_t P10[19] = {1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL,
                                100000000LL, 1000000000LL, 10000000000LL, 100000000000LL,
                                1000000000000LL, 10000000000000LL, 100000000000000LL,
                                1000000000000000LL, 10000000000000000LL, 100000000000000000LL,
                                1000000000000000000LL};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void set_err(cq_import_t *imp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(imp->err, sizeof imp->err, fmt, ap);
    va_end(ap);
}

/* ---- exact decimals --------------------------------------------------------------- */

/*
 * Parse "[+-]digits[.digits][e[+-]digits]" into mantissa * 10^-decimals
 * with trailing zeros dropped (so decimals is the number of significant
 * decimals, 0..18). Exponents appear in JavaScript-printed numbers (Tardis
 * writes 1e-7). CQ_EPARSE for anything else, CQ_ERANGE for a value that
 * does not fit int64 or needs more than 18 decimals.
 */
static int parse_decimal(const char *s, size_t n, int64_t *mant, int32_t *dec)
{
    size_t i = 0;
    int neg = 0, digits = 0;
    uint64_t mag = 0;
    int64_t d = 0, pending = 0; /* decimals so far; zeros after the point not yet applied */
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (mag > (uint64_t)(INT64_MAX - (s[i] - '0')) / 10)
            return CQ_ERANGE;
        mag = mag * 10 + (uint64_t)(s[i] - '0');
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
            if (s[i] == '0') {
                pending++;
                continue;
            }
            for (int64_t k = 0; k <= pending; k++) {
                if (mag > (uint64_t)INT64_MAX / 10)
                    return CQ_ERANGE;
                mag *= 10;
            }
            if (mag > (uint64_t)(INT64_MAX - (s[i] - '0')))
                return CQ_ERANGE;
            mag += (uint64_t)(s[i] - '0');
            d += pending + 1;
            pending = 0;
            if (d > 64)
                return CQ_ERANGE;
        }
    }
    if (!digits)
        return CQ_EPARSE;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0, ed = 0;
        int64_t e = 0;
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, ed++) {
            e = e * 10 + (s[i] - '0');
            if (e > 400)
                return CQ_ERANGE;
        }
        if (!ed)
            return CQ_EPARSE;
        d += eneg ? e : -e;
    }
    if (i != n)
        return CQ_EPARSE;
    if (mag == 0)
        d = 0;
    while (d > 0 && mag % 10 == 0) {
        mag /= 10;
        d--;
    }
    for (; d < 0; d++) {
        if (mag > (uint64_t)INT64_MAX / 10)
            return CQ_ERANGE;
        mag *= 10;
    }
    if (d > CQ_CQD_MAX_PRECISION)
        return CQ_ERANGE;
    *mant = neg ? -(int64_t)mag : (int64_t)mag;
    *dec = (int32_t)d;
    return 0;
}

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (!n || n > 20)
        return CQ_EPARSE;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return CQ_EPARSE;
        unsigned dgt = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - dgt) / 10)
            return CQ_ERANGE;
        v = v * 10 + dgt;
    }
    *out = v;
    return 0;
}

/* ---- session ------------------------------------------------------------------------ */

static void default_message(void *user, const char *msg)
{
    (void)user;
    fprintf(stderr, "%s\n", msg);
}

/* 1..cap-1 characters of [A-Za-z0-9_-]: safe inside "SYMBOL.VENUE" ids. */
static int plain_name(const char *s, size_t cap)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n + 1 >= cap || !(isalnum((unsigned char)s[n]) || s[n] == '_' || s[n] == '-'))
            return 0;
    return n > 0;
}

int cq_import_create(cq_import_t **out, const cq_import_opts_t *opts)
{
    if (!out)
        return CQ_EINVAL;
    *out = NULL;
    if (opts && (opts->bar_interval_ns < 0 || (opts->venue && !plain_name(opts->venue, 16)) ||
                 (opts->snapshot_symbol && !plain_name(opts->snapshot_symbol, 24))))
        return CQ_EINVAL;
    cq_import_t *imp = calloc(1, sizeof *imp);
    if (!imp)
        return CQ_ENOMEM;
    if (opts)
        imp->opts = *opts;
    if (!imp->opts.on_message)
        imp->opts.on_message = default_message;
    snprintf(imp->venue, sizeof imp->venue, "%s", imp->opts.venue ? imp->opts.venue : "BINANCE");
    imp->opts.venue = imp->venue;
    if (imp->opts.snapshot_symbol) {
        snprintf(imp->snapshot_symbol, sizeof imp->snapshot_symbol, "%s", imp->opts.snapshot_symbol);
        imp->opts.snapshot_symbol = imp->snapshot_symbol;
    }
    *out = imp;
    return 0;
}

void cq_import_destroy(cq_import_t *imp)
{
    if (!imp)
        return;
    free(imp->inst);
    free(imp->offer);
    free(imp->recs);
    free(imp);
}

const cq_import_opts_t *cq_import_options(const cq_import_t *imp)
{
    return &imp->opts;
}

void cq_import_set_error(cq_import_t *imp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(imp->err, sizeof imp->err, fmt, ap);
    va_end(ap);
}

const char *cq_import_error(const cq_import_t *imp)
{
    return imp ? imp->err : "no import session";
}

void cq_import_get_stats(const cq_import_t *imp, cq_import_stats_t *out)
{
    if (!out)
        return;
    if (!imp) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = imp->stats;
    out->instruments = imp->ninst;
}

void cq_import_count_line(cq_import_t *imp)
{
    if (imp)
        imp->stats.lines++;
}

int cq_import_report(cq_import_t *imp, const char *file, uint64_t line, const char *fmt, ...)
{
    if (!imp)
        return CQ_EINVAL;
    char msg[sizeof imp->err];
    int k = snprintf(msg, sizeof msg, "%s:%llu: ", file ? file : "?", (unsigned long long)line);
    va_list ap;
    va_start(ap, fmt);
    if (k >= 0 && (size_t)k < sizeof msg)
        vsnprintf(msg + k, sizeof msg - (size_t)k, fmt ? fmt : "malformed line", ap);
    va_end(ap);
    imp->stats.skipped++;
    imp->opts.on_message(imp->opts.user, msg);
    if (imp->opts.strict) {
        memcpy(imp->err, msg, sizeof msg);
        return CQ_EPARSE;
    }
    return 0;
}

static int add_inst(cq_import_t *imp, uint32_t *index)
{
    if (imp->ninst >= CQ_CQD_MAX_INSTRUMENTS) {
        set_err(imp, "more than %d instruments", CQ_CQD_MAX_INSTRUMENTS);
        return CQ_EFULL;
    }
    if (imp->ninst == imp->cap_inst) {
        uint32_t cap = imp->cap_inst ? imp->cap_inst * 2 : 8;
        inst_t *n = realloc(imp->inst, sizeof *n * cap);
        if (!n)
            return CQ_ENOMEM;
        imp->inst = n;
        imp->cap_inst = cap;
    }
    inst_t *in = &imp->inst[imp->ninst];
    memset(in, 0, sizeof *in);
    in->spec.tick_units = in->spec.step_units = 1;
    *index = imp->ninst++;
    return 0;
}

static int copy_name(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        return CQ_ETOOLONG;
    memcpy(dst, src, n);
    dst[n] = 0;
    return 0;
}

int cq_import_instrument(cq_import_t *imp, const char *symbol, const char *venue, uint32_t *index)
{
    if (!imp || !symbol || !venue || !*symbol || !*venue || !index)
        return CQ_EINVAL;
    /* Defined instruments match by symbol, the same venue first; rows of a
     * symbol nobody defined get their own instrument. A linear scan: files
     * carry few instruments, and the CSV reader caches its last answer. */
    int by_symbol = -1;
    for (uint32_t i = 0; i < imp->ninst; i++) {
        const inst_t *in = &imp->inst[i];
        if (strcmp(in->spec.symbol, symbol) != 0)
            continue;
        if (!strcmp(in->spec.venue, venue)) {
            *index = i;
            return 0;
        }
        if (in->defined && by_symbol < 0)
            by_symbol = (int)i;
    }
    if (by_symbol >= 0) {
        *index = (uint32_t)by_symbol;
        return 0;
    }
    for (uint32_t i = 0; i < imp->noffer; i++) {
        const inst_t *o = &imp->offer[i];
        if (strcmp(o->spec.symbol, symbol) != 0 || strcmp(o->spec.venue, venue) != 0)
            continue;
        uint32_t idx;
        int rc = add_inst(imp, &idx);
        if (rc)
            return rc;
        imp->inst[idx] = *o;
        *index = idx;
        return 0;
    }
    size_t ls = strlen(symbol), lv = strlen(venue);
    cq_cqd_instrument_t tmp;
    if (ls >= sizeof tmp.symbol || lv >= sizeof tmp.venue || ls + 1 + lv >= sizeof tmp.id) {
        set_err(imp, "instrument name too long: %s.%s", symbol, venue);
        return CQ_ETOOLONG;
    }
    uint32_t idx;
    int rc = add_inst(imp, &idx);
    if (rc)
        return rc;
    cq_cqd_instrument_t *s = &imp->inst[idx].spec;
    snprintf(s->symbol, sizeof s->symbol, "%s", symbol);
    snprintf(s->venue, sizeof s->venue, "%s", venue);
    snprintf(s->id, sizeof s->id, "%s.%s", symbol, venue);
    *index = idx;
    return 0;
}

/* The staged fields of a record that hold prices and sizes. */
static int record_fields(cq_cqd_record_t *r, int64_t *price[4], int64_t *size[2], int *nsize)
{
    switch (r->type) {
    case CQ_EV_TRADE:
        price[0] = &r->trade.price;
        size[0] = &r->trade.qty;
        *nsize = 1;
        return 1;
    case CQ_EV_QUOTE:
        price[0] = &r->quote.bid_price;
        price[1] = &r->quote.ask_price;
        size[0] = &r->quote.bid_qty;
        size[1] = &r->quote.ask_qty;
        *nsize = 2;
        return 2;
    case CQ_EV_BOOK_DELTA:
        price[0] = &r->delta.price;
        size[0] = &r->delta.qty;
        *nsize = 1;
        return 1;
    case CQ_EV_BAR:
        price[0] = &r->bar.open;
        price[1] = &r->bar.high;
        price[2] = &r->bar.low;
        price[3] = &r->bar.close;
        size[0] = &r->bar.volume;
        *nsize = 1;
        return 4;
    default:
        *nsize = 0;
        return 0;
    }
}

/* Raise the precision of staged values of one instrument by `by` decimals.
 * O(staged records); it happens at most 18 times per instrument, nearly
 * always within the first rows. */
static int rescale(cq_import_t *imp, uint32_t index, int kind, int32_t by)
{
    int64_t f = P10[by], tmp;
    for (int apply = 0; apply < 2; apply++) { /* check everything, then change */
        for (size_t i = 0; i < imp->nrecs; i++) {
            cq_cqd_record_t *r = &imp->recs[i];
            if (r->instrument != index)
                continue;
            int64_t *pf[4], *sf[2];
            int ns, np = record_fields(r, pf, sf, &ns);
            int64_t **v = kind == CQ_IMPORT_PRICE ? pf : sf;
            int nv = kind == CQ_IMPORT_PRICE ? np : ns;
            for (int k = 0; k < nv; k++) {
                if (__builtin_mul_overflow(*v[k], f, &tmp)) {
                    set_err(imp, "%s: %d more %s decimals would overflow an earlier value",
                            imp->inst[index].spec.id, by, kind == CQ_IMPORT_PRICE ? "price" : "size");
                    return CQ_ERANGE;
                }
                if (apply)
                    *v[k] = tmp;
            }
        }
    }
    return 0;
}

int cq_import_fit(cq_import_t *imp, uint32_t index, int32_t price_decimals, int32_t size_decimals)
{
    if (!imp || index >= imp->ninst || price_decimals < 0 || size_decimals < 0 ||
        price_decimals > CQ_CQD_MAX_PRECISION || size_decimals > CQ_CQD_MAX_PRECISION)
        return CQ_EINVAL;
    inst_t *in = &imp->inst[index];
    if ((in->price_fixed && price_decimals > in->spec.price_precision) ||
        (in->size_fixed && size_decimals > in->spec.size_precision)) {
        set_err(imp, "more decimals than %s allows (price %d, size %d)", in->spec.id,
                in->spec.price_precision, in->spec.size_precision);
        return CQ_ERANGE;
    }
    int rc;
    if (price_decimals > in->spec.price_precision) {
        if ((rc = rescale(imp, index, CQ_IMPORT_PRICE, price_decimals - in->spec.price_precision)))
            return rc;
        in->spec.price_precision = price_decimals;
    }
    if (size_decimals > in->spec.size_precision) {
        if ((rc = rescale(imp, index, CQ_IMPORT_SIZE, size_decimals - in->spec.size_precision)))
            return rc;
        in->spec.size_precision = size_decimals;
    }
    return 0;
}

int cq_import_units(const cq_import_t *imp, uint32_t index, int kind, int64_t mantissa, int32_t decimals,
                    int64_t *units)
{
    if (!imp || index >= imp->ninst || !units || decimals < 0 ||
        (kind != CQ_IMPORT_PRICE && kind != CQ_IMPORT_SIZE))
        return CQ_EINVAL;
    const inst_t *in = &imp->inst[index];
    int32_t prec = kind == CQ_IMPORT_PRICE ? in->spec.price_precision : in->spec.size_precision;
    int64_t inc = kind == CQ_IMPORT_PRICE ? in->spec.tick_units : in->spec.step_units;
    if (decimals > prec)
        return CQ_ERANGE;
    int64_t u;
    if (__builtin_mul_overflow(mantissa, P10[prec - decimals], &u))
        return CQ_ERANGE;
    if (u % inc != 0)
        return CQ_ERANGE;
    *units = u;
    return 0;
}

int cq_import_add(cq_import_t *imp, const cq_cqd_record_t *rec)
{
    if (!imp || !rec)
        return CQ_EINVAL;
    if (rec->instrument >= imp->ninst || (rec->type != CQ_EV_TRADE && rec->type != CQ_EV_QUOTE &&
                                          rec->type != CQ_EV_BOOK_DELTA && rec->type != CQ_EV_BAR))
        return CQ_EINVAL;
    if (imp->nrecs == imp->cap_recs) {
        size_t cap = imp->cap_recs ? imp->cap_recs * 2 : 4096;
        cq_cqd_record_t *n = realloc(imp->recs, sizeof *n * cap);
        if (!n) {
            set_err(imp, "out of memory after %zu records", imp->nrecs);
            return CQ_ENOMEM;
        }
        imp->recs = n;
        imp->cap_recs = cap;
    }
    imp->recs[imp->nrecs++] = *rec;
    imp->stats.records++;
    return 0;
}

/* ---- --instrument text ---------------------------------------------------------------- */

/* An increment ("0.01", "0.5", "5") as units at its own precision. */
static int parse_increment(const char *v, size_t n, int32_t *prec, int64_t *units)
{
    int64_t m;
    int32_t d;
    if (parse_decimal(v, n, &m, &d) != 0 || m <= 0)
        return CQ_EINVAL;
    *prec = d;
    *units = m;
    return 0;
}

/* "SYMBOL.VENUE[:key=value]..." into *out (not yet in any table). */
static int parse_spec(cq_import_t *imp, const char *spec, inst_t *out)
{
    if (!spec || !*spec) {
        set_err(imp, "--instrument: empty");
        return CQ_EINVAL;
    }
    const char *colon = strchr(spec, ':');
    size_t idlen = colon ? (size_t)(colon - spec) : strlen(spec);
    const char *dot = NULL;
    for (size_t i = 0; i < idlen; i++)
        if (spec[i] == '.')
            dot = spec + i;
    if (!dot || dot == spec || (size_t)(dot - spec) + 1 >= idlen) {
        set_err(imp, "--instrument %s: the id must be SYMBOL.VENUE", spec);
        return CQ_EINVAL;
    }
    inst_t in;
    memset(&in, 0, sizeof in);
    in.defined = 1;
    in.spec.tick_units = in.spec.step_units = 1;
    if (copy_name(in.spec.id, sizeof in.spec.id, spec, idlen) ||
        copy_name(in.spec.symbol, sizeof in.spec.symbol, spec, (size_t)(dot - spec)) ||
        copy_name(in.spec.venue, sizeof in.spec.venue, dot + 1, idlen - (size_t)(dot - spec) - 1)) {
        set_err(imp, "--instrument %.*s: name too long (symbol < 24, venue < 16 characters)", (int)idlen,
                spec);
        return CQ_ETOOLONG;
    }
    for (const char *p = colon; p && *p;) {
        const char *key = p + 1;
        const char *next = strchr(key, ':');
        size_t kvlen = next ? (size_t)(next - key) : strlen(key);
        const char *eq = memchr(key, '=', kvlen);
        if (!eq) {
            set_err(imp, "--instrument %s: expected key=value, got '%.*s'", in.spec.id, (int)kvlen, key);
            return CQ_EINVAL;
        }
        size_t kl = (size_t)(eq - key), vl = kvlen - kl - 1;
        const char *v = eq + 1;
        int bad = 0;
#define KEY(name) (kl == sizeof(name) - 1 && !memcmp(key, name, kl))
        if (KEY("tick")) {
            bad = parse_increment(v, vl, &in.spec.price_precision, &in.spec.tick_units);
            in.price_fixed = 1;
        } else if (KEY("step")) {
            bad = parse_increment(v, vl, &in.spec.size_precision, &in.spec.step_units);
            in.size_fixed = 1;
        } else if (KEY("min_qty") || KEY("max_qty")) {
            int k = KEY("max_qty");
            bad = parse_decimal(v, vl, &in.lim_m[k], &in.lim_d[k]) != 0 || in.lim_m[k] < 0;
        } else if (KEY("min_notional")) {
            bad = parse_decimal(v, vl, &in.spec.min_notional, &in.spec.min_notional_decimals) != 0 ||
                  in.spec.min_notional < 0;
        } else if (KEY("base")) {
            bad = copy_name(in.spec.base, sizeof in.spec.base, v, vl) != 0;
        } else if (KEY("quote")) {
            bad = copy_name(in.spec.quote, sizeof in.spec.quote, v, vl) != 0;
        } else {
            set_err(imp,
                    "--instrument %s: unknown key '%.*s' (known: tick, step, min_qty, max_qty, "
                    "min_notional, base, quote)",
                    in.spec.id, (int)kl, key);
            return CQ_EINVAL;
        }
#undef KEY
        if (bad) {
            set_err(imp, "--instrument %s: bad value '%.*s' for %.*s", in.spec.id, (int)vl, v, (int)kl, key);
            return CQ_EINVAL;
        }
        p = next;
    }
    for (int k = 0; k < 2; k++) {
        if (in.lim_d[k] > in.spec.size_precision) {
            if (in.size_fixed) {
                set_err(imp, "--instrument %s: %s has more decimals than step", in.spec.id,
                        k ? "max_qty" : "min_qty");
                return CQ_EINVAL;
            }
            in.spec.size_precision = in.lim_d[k];
        }
    }
    *out = in;
    return 0;
}

int cq_import_define(cq_import_t *imp, const char *spec)
{
    if (!imp)
        return CQ_EINVAL;
    inst_t in;
    int rc = parse_spec(imp, spec, &in);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < imp->ninst; i++) {
        if (!strcmp(imp->inst[i].spec.id, in.spec.id)) {
            set_err(imp, "--instrument %s given twice", in.spec.id);
            return CQ_EEXIST;
        }
    }
    uint32_t idx;
    if ((rc = add_inst(imp, &idx)))
        return rc;
    imp->inst[idx] = in;
    return 0;
}

int cq_import_offer(cq_import_t *imp, const char *spec)
{
    if (!imp)
        return CQ_EINVAL;
    inst_t in;
    int rc = parse_spec(imp, spec, &in);
    if (rc)
        return rc;
    in.defined = 0; /* it names one venue's symbol: rows of other venues are not its */
    /* A linear scan per offer: an exchangeInfo of 1,600 symbols costs about
     * a million string compares once, far below parsing its JSON. */
    for (uint32_t i = 0; i < imp->noffer; i++) {
        if (!strcmp(imp->offer[i].spec.id, in.spec.id)) {
            imp->offer[i] = in;
            return 0;
        }
    }
    if (imp->noffer == imp->cap_offer) {
        uint32_t cap = imp->cap_offer ? imp->cap_offer * 2 : 64;
        inst_t *n = realloc(imp->offer, sizeof *n * cap);
        if (!n)
            return CQ_ENOMEM;
        imp->offer = n;
        imp->cap_offer = cap;
    }
    imp->offer[imp->noffer++] = in;
    return 0;
}

/* ---- CSV reading ------------------------------------------------------------------------ */

enum { CSV_UNKNOWN, CSV_TARDIS_TRADES, CSV_TARDIS_QUOTES, CSV_TARDIS_BOOK, CSV_OHLCV };

/* Column roles; a format needs a set of them. */
enum {
    C_EXCHANGE, C_SYMBOL, C_TS, C_LOCAL_TS, C_ID, C_SIDE, C_PRICE, C_AMOUNT, C_ASK_AMOUNT, C_ASK_PRICE,
    C_BID_PRICE, C_BID_AMOUNT, C_IS_SNAPSHOT, C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_VOLUME, C_COUNT_
};

static const char *const COLUMN_NAMES[C_COUNT_] = {
    "exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price", "amount", "ask_amount",
    "ask_price", "bid_price", "bid_amount", "is_snapshot", "open", "high", "low", "close", "volume"};

typedef struct field {
    const char *p;
    size_t n;
} field_t;

typedef struct csv {
    cq_import_t *imp;
    const char *path;
    gzFile gz;
    uint64_t lineno;
    int format;
    int ncols;
    int col[C_COUNT_];        /* column index per role, -1 if absent */
    char *line;               /* LINE_MAX_BYTES + 2 */
    field_t f[MAX_FIELDS];
    /* last instrument lookup (rows of a file nearly always repeat it) */
    char last_symbol[64], last_venue[64];
    uint32_t last_index;
    int have_last;
    /* incremental_book_L2: last delta per instrument, to set CQ_EVF_LAST on
     * the final row of each (instrument, local_timestamp) group */
    size_t *pending;          /* record index + 1; 0 = none */
    uint32_t npending;
} csv_t;

/* Read one line into c->line without its end-of-line. 1 = a line, 0 = end
 * of file, 2 = a line too long (reported by the caller, already skipped),
 * <0 = read error. */
static int fetch_line(csv_t *c)
{
    if (!gzgets(c->gz, c->line, LINE_MAX_BYTES + 2)) {
        int zerr;
        gzerror(c->gz, &zerr);
        return zerr != Z_OK ? CQ_EIO : 0;
    }
    return 1;
}

/* The rest of read_line, once c->line holds what gzgets gave. */
static int finish_line(csv_t *c, size_t *len)
{
    c->lineno++;
    size_t n = strlen(c->line);
    if (n == LINE_MAX_BYTES + 1 && c->line[n - 1] != '\n') {
        int ch;
        while ((ch = gzgetc(c->gz)) >= 0 && ch != '\n')
            ;
        return 2;
    }
    while (n && (c->line[n - 1] == '\n' || c->line[n - 1] == '\r'))
        c->line[--n] = 0;
    *len = n;
    return 1;
}

static int read_line(csv_t *c, size_t *len)
{
    int r = fetch_line(c);
    return r == 1 ? finish_line(c, len) : r;
}

static int split(csv_t *c, char *s, size_t n)
{
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == ',') {
            if (k == MAX_FIELDS)
                return MAX_FIELDS + 1;
            c->f[k].p = s + start;
            c->f[k].n = i - start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

static int field_is(field_t f, const char *name)
{
    /* Header names: trimmed, unquoted, case-insensitive. */
    while (f.n && isspace((unsigned char)*f.p))
        f.p++, f.n--;
    while (f.n && isspace((unsigned char)f.p[f.n - 1]))
        f.n--;
    if (f.n >= 2 && f.p[0] == '"' && f.p[f.n - 1] == '"')
        f.p++, f.n -= 2;
    size_t ln = strlen(name);
    if (f.n != ln)
        return 0;
    for (size_t i = 0; i < ln; i++)
        if (tolower((unsigned char)f.p[i]) != name[i])
            return 0;
    return 1;
}

/* Map header columns to roles and pick the format. */
static int detect_columns(csv_t *c, char *header, size_t n)
{
    static const char *const time_names[] = {"timestamp", "time", "date", "datetime", "open_time", "ts"};
    c->ncols = split(c, header, n);
    for (int r = 0; r < C_COUNT_; r++)
        c->col[r] = -1;
    if (c->ncols > MAX_FIELDS)
        return CSV_UNKNOWN;
    for (int i = 0; i < c->ncols; i++)
        for (int r = 0; r < C_COUNT_; r++)
            if (c->col[r] < 0 && field_is(c->f[i], COLUMN_NAMES[r]))
                c->col[r] = i;
#define HAS(r) (c->col[r] >= 0)
    if (HAS(C_EXCHANGE) && HAS(C_SYMBOL) && HAS(C_TS) && HAS(C_LOCAL_TS)) {
        if (HAS(C_ID) && HAS(C_SIDE) && HAS(C_PRICE) && HAS(C_AMOUNT))
            return CSV_TARDIS_TRADES;
        if (HAS(C_ASK_AMOUNT) && HAS(C_ASK_PRICE) && HAS(C_BID_PRICE) && HAS(C_BID_AMOUNT))
            return CSV_TARDIS_QUOTES;
        if (HAS(C_IS_SNAPSHOT) && HAS(C_SIDE) && HAS(C_PRICE) && HAS(C_AMOUNT))
            return CSV_TARDIS_BOOK;
        return CSV_UNKNOWN;
    }
    if (HAS(C_OPEN) && HAS(C_HIGH) && HAS(C_LOW) && HAS(C_CLOSE) && HAS(C_VOLUME)) {
        for (size_t t = 0; t < sizeof time_names / sizeof time_names[0] && !HAS(C_TS); t++)
            for (int i = 0; i < c->ncols; i++)
                if (field_is(c->f[i], time_names[t])) {
                    c->col[C_TS] = i;
                    break;
                }
        return HAS(C_TS) ? CSV_OHLCV : CSV_UNKNOWN;
    }
#undef HAS
    return CSV_UNKNOWN;
}

#define F(c, role) ((c)->f[(c)->col[role]])

/* A microsecond Tardis timestamp as ns. */
static int tardis_time(field_t f, int64_t *ns)
{
    uint64_t us;
    if (parse_u64(f.p, f.n, &us) != 0 || us > (uint64_t)INT64_MAX / 1000)
        return CQ_EPARSE;
    *ns = (int64_t)us * 1000;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits_at(const char *s, size_t n, size_t at, int count, int *out)
{
    int v = 0;
    if (at + (size_t)count > n)
        return -1;
    for (int i = 0; i < count; i++) {
        char ch = s[at + (size_t)i];
        if (ch < '0' || ch > '9')
            return -1;
        v = v * 10 + (ch - '0');
    }
    *out = v;
    return 0;
}

/* "YYYY-MM-DD[( |T)HH:MM[:SS[.fffffffff]]][Z|(+|-)HH[:]MM]" as ns, UTC
 * unless an offset says otherwise. */
static int parse_iso8601(const char *s, size_t n, int64_t *ns)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    int64_t frac = 0;
    size_t i = 10;
    if (digits_at(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || digits_at(s, n, 5, 2, &mo) || s[7] != '-' ||
        digits_at(s, n, 8, 2, &d))
        return CQ_EPARSE;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return CQ_EPARSE;
    if (i < n && (s[i] == 'T' || s[i] == ' ')) {
        if (digits_at(s, n, i + 1, 2, &h) || i + 3 >= n || s[i + 3] != ':' || digits_at(s, n, i + 4, 2, &mi))
            return CQ_EPARSE;
        i += 6;
        if (i < n && s[i] == ':') {
            if (digits_at(s, n, i + 1, 2, &sec))
                return CQ_EPARSE;
            i += 3;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                int nd = 0;
                for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
                    if (nd >= 9)
                        return CQ_ERANGE; /* finer than a nanosecond */
                    frac = frac * 10 + (s[i] - '0');
                }
                if (!nd)
                    return CQ_EPARSE;
                for (; nd < 9; nd++)
                    frac *= 10;
            }
        }
        if (h > 23 || mi > 59 || sec > 59)
            return CQ_EPARSE;
    }
    int64_t offset = 0;
    if (i < n && s[i] == 'Z') {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int oh, om, sign = s[i] == '-' ? -1 : 1;
        if (digits_at(s, n, i + 1, 2, &oh))
            return CQ_EPARSE;
        i += 3;
        if (i < n && s[i] == ':')
            i++;
        if (digits_at(s, n, i, 2, &om) || oh > 23 || om > 59)
            return CQ_EPARSE;
        i += 2;
        offset = sign * (oh * 3600 + om * 60);
    }
    if (i != n)
        return CQ_EPARSE;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    if (secs < 0 || secs > INT64_MAX / 1000000000 - 1)
        return CQ_ERANGE;
    *ns = secs * 1000000000 + frac;
    return 0;
}

/*
 * An OHLCV timestamp: ISO-8601, or a Unix time whose unit follows from its
 * magnitude: below 1e11 seconds, below 1e14 milliseconds, below 1e17
 * microseconds, else nanoseconds (each range covers 1970..5138). A
 * fraction is allowed down to the nanosecond.
 */
static int ohlcv_time(field_t f, int64_t *ns)
{
    if (f.n >= 10 && f.p[4] == '-')
        return parse_iso8601(f.p, f.n, ns);
    int64_t m;
    int32_t d;
    int rc = parse_decimal(f.p, f.n, &m, &d);
    if (rc)
        return rc;
    if (m < 0)
        return CQ_ERANGE;
    int64_t whole = m / P10[d];
    int unit_exp = whole < 100000000000LL ? 9 : whole < 100000000000000LL ? 6 : whole < 100000000000000000LL ? 3 : 0;
    if (d > unit_exp)
        return CQ_ERANGE;
    if (__builtin_mul_overflow(m, P10[unit_exp - d], ns))
        return CQ_ERANGE;
    return 0;
}

static int find_instrument(csv_t *c, field_t sym, field_t exch, uint32_t *index)
{
    char s[64], v[64];
    if (sym.n == 0 || sym.n >= sizeof s || exch.n == 0 || exch.n >= sizeof v)
        return CQ_ETOOLONG;
    for (size_t i = 0; i < sym.n; i++) {
        unsigned char ch = (unsigned char)sym.p[i];
        if (ch <= ' ' || ch >= 127)
            return CQ_EPARSE;
        s[i] = (char)ch;
    }
    s[sym.n] = 0;
    for (size_t i = 0; i < exch.n; i++) {
        unsigned char ch = (unsigned char)exch.p[i];
        if (!isalnum(ch) && ch != '-' && ch != '_')
            return CQ_EPARSE;
        v[i] = (char)toupper(ch);
    }
    v[exch.n] = 0;
    if (c->have_last && !strcmp(s, c->last_symbol) && !strcmp(v, c->last_venue)) {
        *index = c->last_index;
        return 0;
    }
    int rc = cq_import_instrument(c->imp, s, v, index);
    if (rc)
        return rc;
    memcpy(c->last_symbol, s, sizeof s);
    memcpy(c->last_venue, v, sizeof v);
    c->last_index = *index;
    c->have_last = 1;
    return 0;
}

/* One decimal column of a row. */
typedef struct dec {
    int64_t m;
    int32_t d;
    int kind;       /* CQ_IMPORT_PRICE / CQ_IMPORT_SIZE */
    int role;       /* column role, for messages */
    int64_t *dst;   /* where the units go */
} dec_t;

#define REPORT(c, ...) cq_import_report((c)->imp, (c)->path, (c)->lineno, __VA_ARGS__)

/* Parse the decimal columns of a row, fit the instrument's precision to
 * them, then convert: all values of one row share one precision step. */
static int convert_values(csv_t *c, uint32_t inst, dec_t *v, int n, int allow_empty)
{
    int32_t pd = 0, sd = 0;
    for (int i = 0; i < n; i++) {
        field_t f = F(c, v[i].role);
        if (allow_empty && f.n == 0) {
            v[i].m = 0;
            v[i].d = 0;
            continue;
        }
        int rc = parse_decimal(f.p, f.n, &v[i].m, &v[i].d);
        if (rc)
            return REPORT(c, "column '%s': %s '%.*s'", COLUMN_NAMES[v[i].role],
                          rc == CQ_ERANGE ? "number out of range" : "not a decimal number", (int)f.n, f.p);
        if (v[i].kind == CQ_IMPORT_SIZE && v[i].m < 0)
            return REPORT(c, "column '%s': negative quantity '%.*s'", COLUMN_NAMES[v[i].role], (int)f.n, f.p);
        int32_t *mx = v[i].kind == CQ_IMPORT_PRICE ? &pd : &sd;
        if (v[i].d > *mx)
            *mx = v[i].d;
    }
    int rc = cq_import_fit(c->imp, inst, pd, sd);
    if (rc == CQ_ERANGE)
        return REPORT(c, "%s", c->imp->err);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++) {
        rc = cq_import_units(c->imp, inst, v[i].kind, v[i].m, v[i].d, v[i].dst);
        if (rc) {
            const cq_cqd_instrument_t *s = &c->imp->inst[inst].spec;
            field_t f = F(c, v[i].role);
            char inc[48];
            if (v[i].kind == CQ_IMPORT_PRICE)
                cq_cqd_format_units(s->tick_units, s->price_precision, inc, sizeof inc);
            else
                cq_cqd_format_units(s->step_units, s->size_precision, inc, sizeof inc);
            return REPORT(c, "column '%s': '%.*s' is not a multiple of %s %s or does not fit",
                          COLUMN_NAMES[v[i].role], (int)f.n, f.p,
                          v[i].kind == CQ_IMPORT_PRICE ? "tick" : "step", inc);
        }
    }
    return 1; /* converted */
}

static int side_of(field_t f, const char *buy, const char *sell, int allow_unknown, uint8_t *side)
{
    if (f.n == strlen(buy) && !memcmp(f.p, buy, f.n))
        *side = CQ_SIDE_BUY;
    else if (f.n == strlen(sell) && !memcmp(f.p, sell, f.n))
        *side = CQ_SIDE_SELL;
    else if (allow_unknown && ((f.n == 7 && !memcmp(f.p, "unknown", 7)) || f.n == 0))
        *side = CQ_SIDE_NONE;
    else
        return CQ_EPARSE;
    return 0;
}

static int ensure_pending(csv_t *c, uint32_t inst)
{
    if (inst < c->npending)
        return 0;
    uint32_t n = c->imp->ninst > inst + 1 ? c->imp->ninst : inst + 1;
    size_t *p = realloc(c->pending, sizeof *p * n);
    if (!p)
        return CQ_ENOMEM;
    memset(p + c->npending, 0, sizeof *p * (n - c->npending));
    c->pending = p;
    c->npending = n;
    return 0;
}

/* Returns 1 if a record was staged, 0 if the row was skipped, <0 to stop. */
static int tardis_row(csv_t *c)
{
    cq_cqd_record_t rec;
    memset(&rec, 0, sizeof rec);
    int rc = find_instrument(c, F(c, C_SYMBOL), F(c, C_EXCHANGE), &rec.instrument);
    if (rc == CQ_ETOOLONG || rc == CQ_EPARSE)
        return REPORT(c, "bad symbol '%.*s' or exchange '%.*s'", (int)F(c, C_SYMBOL).n, F(c, C_SYMBOL).p,
                      (int)F(c, C_EXCHANGE).n, F(c, C_EXCHANGE).p);
    if (rc)
        return rc;
    if (tardis_time(F(c, C_TS), &rec.ts_event) != 0)
        return REPORT(c, "column 'timestamp': not a microsecond time '%.*s'", (int)F(c, C_TS).n, F(c, C_TS).p);
    if (tardis_time(F(c, C_LOCAL_TS), &rec.ts_init) != 0)
        return REPORT(c, "column 'local_timestamp': not a microsecond time '%.*s'", (int)F(c, C_LOCAL_TS).n,
                      F(c, C_LOCAL_TS).p);
    int snapshot = 0;
    if (c->format == CSV_TARDIS_TRADES) {
        rec.type = CQ_EV_TRADE;
        field_t id = F(c, C_ID);
        /* Ids are numbers on most venues; GUIDs and empty ids become 0. */
        if (parse_u64(id.p, id.n, &rec.trade.trade_id) != 0)
            rec.trade.trade_id = 0;
        if (side_of(F(c, C_SIDE), "buy", "sell", 1, &rec.side) != 0)
            return REPORT(c, "column 'side': expected buy, sell or unknown, got '%.*s'", (int)F(c, C_SIDE).n,
                          F(c, C_SIDE).p);
        dec_t v[] = {{0, 0, CQ_IMPORT_PRICE, C_PRICE, &rec.trade.price},
                     {0, 0, CQ_IMPORT_SIZE, C_AMOUNT, &rec.trade.qty}};
        if ((rc = convert_values(c, rec.instrument, v, 2, 0)) != 1)
            return rc;
    } else if (c->format == CSV_TARDIS_QUOTES) {
        rec.type = CQ_EV_QUOTE;
        /* An empty side of the book is an empty field: price and size 0. */
        dec_t v[] = {{0, 0, CQ_IMPORT_PRICE, C_BID_PRICE, &rec.quote.bid_price},
                     {0, 0, CQ_IMPORT_SIZE, C_BID_AMOUNT, &rec.quote.bid_qty},
                     {0, 0, CQ_IMPORT_PRICE, C_ASK_PRICE, &rec.quote.ask_price},
                     {0, 0, CQ_IMPORT_SIZE, C_ASK_AMOUNT, &rec.quote.ask_qty}};
        if ((rc = convert_values(c, rec.instrument, v, 4, 1)) != 1)
            return rc;
    } else {
        rec.type = CQ_EV_BOOK_DELTA;
        field_t s = F(c, C_IS_SNAPSHOT);
        if (s.n == 4 && !memcmp(s.p, "true", 4))
            snapshot = 1;
        else if (!(s.n == 5 && !memcmp(s.p, "false", 5)))
            return REPORT(c, "column 'is_snapshot': expected true or false, got '%.*s'", (int)s.n, s.p);
        rec.flags = snapshot ? CQ_EVF_SNAPSHOT : 0;
        if (side_of(F(c, C_SIDE), "bid", "ask", 0, &rec.side) != 0)
            return REPORT(c, "column 'side': expected bid or ask, got '%.*s'", (int)F(c, C_SIDE).n, F(c, C_SIDE).p);
        dec_t v[] = {{0, 0, CQ_IMPORT_PRICE, C_PRICE, &rec.delta.price},
                     {0, 0, CQ_IMPORT_SIZE, C_AMOUNT, &rec.delta.qty}};
        if ((rc = convert_values(c, rec.instrument, v, 2, 0)) != 1)
            return rc;
    }
    if (c->format == CSV_TARDIS_BOOK) {
        /* One venue message = the rows sharing a local_timestamp: the last
         * of them gets CQ_EVF_LAST, which is known once the next row of the
         * instrument differs (or the file ends). */
        if ((rc = ensure_pending(c, rec.instrument)))
            return rc;
        size_t p = c->pending[rec.instrument];
        if (p) {
            cq_cqd_record_t *prev = &c->imp->recs[p - 1];
            if (prev->ts_init != rec.ts_init || ((prev->flags & CQ_EVF_SNAPSHOT) != 0) != snapshot)
                prev->flags |= CQ_EVF_LAST;
        }
        c->pending[rec.instrument] = c->imp->nrecs + 1;
    }
    if ((rc = cq_import_add(c->imp, &rec)))
        return rc;
    return 1;
}

static int ohlcv_row(csv_t *c, uint32_t inst)
{
    cq_cqd_record_t rec;
    memset(&rec, 0, sizeof rec);
    rec.type = CQ_EV_BAR;
    rec.instrument = inst;
    field_t t = F(c, C_TS);
    int rc = ohlcv_time(t, &rec.ts_event);
    if (rc)
        return REPORT(c, "bad timestamp '%.*s' (expected Unix s/ms/us/ns or ISO-8601)", (int)t.n, t.p);
    dec_t v[] = {{0, 0, CQ_IMPORT_PRICE, C_OPEN, &rec.bar.open},
                 {0, 0, CQ_IMPORT_PRICE, C_HIGH, &rec.bar.high},
                 {0, 0, CQ_IMPORT_PRICE, C_LOW, &rec.bar.low},
                 {0, 0, CQ_IMPORT_PRICE, C_CLOSE, &rec.bar.close},
                 {0, 0, CQ_IMPORT_SIZE, C_VOLUME, &rec.bar.volume}};
    if ((rc = convert_values(c, inst, v, 5, 0)) != 1)
        return rc;
    const cq_cqd_record_t *b = &rec;
    if (b->bar.low > b->bar.high || b->bar.open < b->bar.low || b->bar.open > b->bar.high ||
        b->bar.close < b->bar.low || b->bar.close > b->bar.high)
        return REPORT(c, "inconsistent bar: open and close must lie between low and high");
    rec.ts_init = rec.ts_event; /* the close time is set once the interval is known */
    if ((rc = cq_import_add(c->imp, &rec)))
        return rc;
    return 1;
}

/* The instrument of an OHLCV file (which has no symbol column): the
 * defined instrument whose symbol is in the file name, else the only one. */
static int ohlcv_instrument(cq_import_t *imp, const char *path, uint32_t *index)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int found = -1, defined = 0, last = -1;
    for (uint32_t i = 0; i < imp->ninst; i++) {
        if (!imp->inst[i].defined)
            continue;
        defined++;
        last = (int)i;
        if (strstr(base, imp->inst[i].spec.symbol)) {
            if (found >= 0) {
                set_err(imp, "%s: OHLCV file matches several --instrument symbols", path);
                return CQ_EINVAL;
            }
            found = (int)i;
        }
    }
    if (found < 0 && defined == 1)
        found = last;
    if (found < 0) {
        set_err(imp, "%s: OHLCV data has no symbol column: give --instrument SYMBOL.VENUE%s", path,
                defined ? " whose symbol appears in the file name" : "");
        return CQ_EINVAL;
    }
    *index = (uint32_t)found;
    return 0;
}

/* Bars are delivered at their close: ts_init = open + interval, the
 * interval given or the smallest positive step between consecutive rows. */
static int ohlcv_close_times(cq_import_t *imp, const char *path, size_t first)
{
    int64_t iv = imp->opts.bar_interval_ns;
    if (!iv) {
        for (size_t i = first + 1; i < imp->nrecs; i++) {
            int64_t dt = imp->recs[i].ts_event - imp->recs[i - 1].ts_event;
            if (dt > 0 && (!iv || dt < iv))
                iv = dt;
        }
        if (!iv && imp->nrecs > first) {
            set_err(imp, "%s: cannot infer the bar interval (fewer than two distinct times): give --bar",
                    path);
            return CQ_EINVAL;
        }
    }
    for (size_t i = first; i < imp->nrecs; i++) {
        if (__builtin_add_overflow(imp->recs[i].ts_event, iv, &imp->recs[i].ts_init)) {
            set_err(imp, "%s: bar close time out of range", path);
            return CQ_ERANGE;
        }
    }
    return 0;
}

static int import_csv(cq_import_t *imp, csv_t *c)
{
    uint32_t bar_inst = 0;
    size_t first = imp->nrecs;
    int rc = 0;
    if (c->format == CSV_OHLCV && (rc = ohlcv_instrument(imp, c->path, &bar_inst)))
        return rc;
    for (;;) {
        size_t n = 0;
        int r = read_line(c, &n);
        if (r == 0)
            break;
        if (r < 0) {
            int zerr;
            set_err(imp, "%s:%llu: read error: %s", c->path, (unsigned long long)c->lineno + 1,
                    gzerror(c->gz, &zerr));
            rc = CQ_EIO;
            break;
        }
        imp->stats.lines++;
        if (r == 2) {
            if ((rc = REPORT(c, "line longer than %d bytes", LINE_MAX_BYTES)))
                break;
            continue;
        }
        if (n == 0) {
            imp->stats.lines--; /* blank lines (e.g. at the end) are not data */
            continue;
        }
        int k = split(c, c->line, n);
        if (k != c->ncols) {
            if ((rc = REPORT(c, "expected %d fields, found %d", c->ncols, k)))
                break;
            continue;
        }
        r = c->format == CSV_OHLCV ? ohlcv_row(c, bar_inst) : tardis_row(c);
        if (r < 0) {
            if (!(r == CQ_EPARSE && imp->opts.strict))
                set_err(imp, "%s:%llu: %s", c->path, (unsigned long long)c->lineno, cq_strerror(r));
            rc = r;
            break;
        }
    }
    if (c->format == CSV_TARDIS_BOOK) {
        for (uint32_t i = 0; i < c->npending; i++)
            if (c->pending[i])
                imp->recs[c->pending[i] - 1].flags |= CQ_EVF_LAST;
    }
    if (!rc && c->format == CSV_OHLCV)
        rc = ohlcv_close_times(imp, c->path, first);
    return rc;
}

int cq_import_file(cq_import_t *imp, const char *path)
{
    if (!imp)
        return CQ_EINVAL;
    if (!path || !*path) {
        set_err(imp, "no input file given");
        return CQ_EINVAL;
    }
    imp->err[0] = 0;
    csv_t c;
    memset(&c, 0, sizeof c);
    c.imp = imp;
    c.path = path;
    errno = 0;
    c.gz = gzopen(path, "rb");
    if (!c.gz) {
        set_err(imp, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
        return CQ_EIO;
    }
    gzbuffer(c.gz, 1 << 17);
    c.line = malloc(LINE_MAX_BYTES + 2);
    if (!c.line) {
        gzclose(c.gz);
        return CQ_ENOMEM;
    }
    size_t n = 0;
    int rc = fetch_line(&c);
    if (rc == 1 && cq_import_binance_detect(c.line, strlen(c.line))) {
        /* A recording, whose lines may be longer than a CSV line: its reader
         * takes over with what was read (no rewind, so pipes work too). */
        imp->stats.files++;
        rc = cq_import_binance_read(imp, path, c.gz, c.line, strlen(c.line));
        free(c.line);
        gzclose(c.gz);
        return rc;
    }
    if (rc == 1)
        rc = finish_line(&c, &n);
    if (rc == 0) {
        set_err(imp, "%s: empty file", path);
        rc = CQ_EPARSE;
    } else if (rc < 0) {
        int zerr;
        set_err(imp, "%s: read error: %s", path, gzerror(c.gz, &zerr));
        rc = CQ_EIO;
    } else if (rc == 2) {
        set_err(imp, "%s:1: unrecognized header: line longer than %d bytes", path, LINE_MAX_BYTES);
        rc = CQ_EPARSE;
    } else {
        char shown[96], *header = c.line;
        if (n >= 3 && !memcmp(header, "\xEF\xBB\xBF", 3)) { /* UTF-8 BOM from spreadsheet exports */
            header += 3;
            n -= 3;
        }
        snprintf(shown, sizeof shown, "%.80s%s", header, n > 80 ? "..." : "");
        c.format = detect_columns(&c, header, n);
        if (c.format == CSV_UNKNOWN) {
            set_err(imp,
                    "%s:1: unrecognized header '%s' (expected Tardis trades, quotes or "
                    "incremental_book_L2 CSV, OHLCV CSV with timestamp,open,high,low,close,volume, "
                    "or a Binance recording: '<recv_ns> <json>' or cryptofeed lines)",
                    path, shown);
            rc = CQ_EPARSE;
        } else {
            imp->stats.files++;
            rc = import_csv(imp, &c);
        }
    }
    free(c.line);
    free(c.pending);
    gzclose(c.gz);
    return rc;
}

/* ---- merge and write ---------------------------------------------------------------- */

/* Stable natural merge sort by ts_init: the inputs are runs already sorted
 * (one per file, usually), so this costs O(n log runs) and nothing when the
 * data is in order. */
static int sort_by_ts_init(cq_import_t *imp)
{
    size_t n = imp->nrecs, runs = 1;
    for (size_t i = 1; i < n; i++)
        if (imp->recs[i].ts_init < imp->recs[i - 1].ts_init)
            runs++;
    if (runs <= 1)
        return 0;
    cq_cqd_record_t *tmp = malloc(sizeof *tmp * n);
    if (!tmp) {
        set_err(imp, "out of memory sorting %zu records", n);
        return CQ_ENOMEM;
    }
    cq_cqd_record_t *src = imp->recs, *dst = tmp;
    while (runs > 1) {
        size_t i = 0, out = 0;
        runs = 0;
        while (i < n) {
            size_t a = i, am = i + 1;
            while (am < n && src[am].ts_init >= src[am - 1].ts_init)
                am++;
            size_t b = am, bm = am < n ? am + 1 : am;
            while (bm < n && src[bm].ts_init >= src[bm - 1].ts_init)
                bm++;
            while (a < am && b < bm)
                dst[out++] = src[b].ts_init < src[a].ts_init ? src[b++] : src[a++];
            while (a < am)
                dst[out++] = src[a++];
            while (b < bm)
                dst[out++] = src[b++];
            i = bm;
            runs++;
        }
        cq_cqd_record_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != imp->recs) {
        free(imp->recs);
        imp->recs = src;
        imp->cap_recs = n;
    } else {
        free(tmp);
    }
    return 0;
}

/* A defined min/max quantity, kept as a decimal, at the final precision. */
static int limit_units(int64_t m, int32_t d, int32_t prec, int64_t *out)
{
    if (d > prec || __builtin_mul_overflow(m, P10[prec - d], out))
        return CQ_ERANGE;
    return 0;
}

int cq_import_write(cq_import_t *imp, const char *out_path)
{
    if (!imp || !out_path || !*out_path)
        return CQ_EINVAL;
    if (!imp->nrecs) {
        set_err(imp, "nothing to write: no records were imported");
        return CQ_ESTATE;
    }
    int rc = sort_by_ts_init(imp);
    if (rc)
        return rc;
    cq_cqd_writer_t *w;
    char err[512];
    if ((rc = cq_cqd_writer_open(&w, out_path, err, sizeof err))) {
        set_err(imp, "%s", err);
        return rc;
    }
    for (uint32_t i = 0; i < imp->ninst && !rc; i++) {
        const inst_t *in = &imp->inst[i];
        cq_cqd_instrument_t s = in->spec;
        if (limit_units(in->lim_m[0], in->lim_d[0], s.size_precision, &s.min_qty) ||
            limit_units(in->lim_m[1], in->lim_d[1], s.size_precision, &s.max_qty)) {
            set_err(imp, "%s: min_qty/max_qty do not fit the size precision", s.id);
            rc = CQ_ERANGE;
            break;
        }
        if ((rc = cq_cqd_writer_add_instrument(w, &s, NULL)))
            set_err(imp, "%s", cq_cqd_writer_error(w));
    }
    for (size_t i = 0; i < imp->nrecs && !rc; i++) {
        cq_cqd_record_t r = imp->recs[i];
        const cq_cqd_instrument_t *s = &imp->inst[r.instrument].spec;
        int64_t *pf[4], *sf[2];
        int ns, np = record_fields(&r, pf, sf, &ns);
        for (int k = 0; k < np; k++)
            *pf[k] /= s->tick_units; /* exact: checked by cq_import_units */
        for (int k = 0; k < ns; k++)
            *sf[k] /= s->step_units;
        if ((rc = cq_cqd_writer_append(w, &r)))
            set_err(imp, "%s", cq_cqd_writer_error(w));
    }
    if (!rc && (rc = cq_cqd_writer_finish(w)))
        set_err(imp, "%s", cq_cqd_writer_error(w));
    cq_cqd_writer_destroy(w);
    return rc;
}
