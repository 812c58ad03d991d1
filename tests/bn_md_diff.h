/*
 * bn_md_diff.h - the differential oracle between cq_bn_decode() and
 * cq_bn_decode_cjson(), shared by tests/test_binance_md.c and the libFuzzer
 * target fuzz/fuzz_binance_md.c.
 *
 * The rules (docs/binance-codec.md, "Fuzzing"):
 *   - same return code;
 *   - both accepted: every field of cq_bn_md_t and every level equal;
 *   - both refused: same reason, except that syntax reasons ("json: ...")
 *     may be worded differently (the first syntax error is found by
 *     different code);
 *   - except where cJSON cannot be the reference: when the reference says
 *     "integer above 2^53" (doubles are not exact there) nothing is
 *     compared, but if the fast decoder accepted, one of its integers must
 *     indeed be >= 2^53; and when the fast decoder says "not a plain
 *     integer" (1.0, 1e3: cJSON only sees the double) the reference's
 *     answer is not compared.
 */
#ifndef BN_MD_DIFF_H
#define BN_MD_DIFF_H

#include <stdio.h>
#include <string.h>

#include "cquant/binance_md.h"
#include "cquant/error.h"

static inline int bn_dec_eq(cq_decimal_t a, cq_decimal_t b)
{
    return a.mant == b.mant && a.exp == b.exp;
}

static inline int bn_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Name of the first field that differs, or NULL. */
static inline const char *bn_md_differs(const cq_bn_md_t *a, const cq_bn_md_t *b)
{
#define BN_CMP(f) if (a->f != b->f) return #f
#define BN_CMPD(f) if (!bn_dec_eq(a->f, b->f)) return #f
    BN_CMP(kind);
    BN_CMP(flags);
    if (memcmp(a->symbol, b->symbol, sizeof a->symbol) != 0)
        return "symbol";
    BN_CMP(event_ms);
    BN_CMP(event_ns);
    BN_CMP(trade_ms);
    BN_CMP(first_update_id);
    BN_CMP(last_update_id);
    BN_CMP(trade_id);
    BN_CMP(first_trade_id);
    BN_CMP(last_trade_id);
    BN_CMP(buyer_is_maker);
    BN_CMP(kline_closed);
    BN_CMPD(price);
    BN_CMPD(qty);
    BN_CMPD(bid_price);
    BN_CMPD(bid_qty);
    BN_CMPD(ask_price);
    BN_CMPD(ask_qty);
    BN_CMP(n_bids);
    BN_CMP(n_asks);
    if (memcmp(a->interval, b->interval, sizeof a->interval) != 0)
        return "interval";
    BN_CMP(open_ms);
    BN_CMP(close_ms);
    BN_CMP(n_trades);
    BN_CMPD(open);
    BN_CMPD(high);
    BN_CMPD(low);
    BN_CMPD(close);
    BN_CMPD(volume);
#undef BN_CMP
#undef BN_CMPD
    return NULL;
}

static inline int bn_levels_equal(const cq_bn_level_t *x, const cq_bn_level_t *y, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!bn_dec_eq(x[i].price, y[i].price) || !bn_dec_eq(x[i].qty, y[i].qty))
            return 0;
    return 1;
}

static inline int bn_has_big_int(const cq_bn_md_t *o)
{
    const uint64_t big = 1ULL << 53;
    return o->first_update_id >= big || o->last_update_id >= big || o->trade_id >= big ||
           o->first_trade_id >= big || o->last_trade_id >= big || o->n_trades >= big;
}

/* Scratch for one comparison: level buffers for both decoders. */
typedef struct {
    cq_bn_level_t *bids1, *asks1, *bids2, *asks2;
    uint32_t cap;
    cq_bn_md_t out1, out2; /* results, for callers that want to look */
    int rc1, rc2;
    const char *why1, *why2;
} bn_diff_t;

/* 0 if the decoders agree on buf under the rules above; else 1 with a
 * description in msg. */
static inline int bn_diff(bn_diff_t *d, const char *buf, size_t len, char *msg, size_t cap)
{
    cq_bn_levels_t l1 = {d->bids1, d->cap, d->asks1, d->cap};
    cq_bn_levels_t l2 = {d->bids2, d->cap, d->asks2, d->cap};
    d->rc1 = cq_bn_decode(buf, len, &d->out1, &l1, &d->why1);
    d->rc2 = cq_bn_decode_cjson(buf, len, &d->out2, &l2, &d->why2);
    const char *w1 = d->why1 ? d->why1 : "", *w2 = d->why2 ? d->why2 : "";
    if (d->rc2 == CQ_ERANGE && bn_ends_with(w2, "integer above 2^53")) {
        if (d->rc1 == 0 && !bn_has_big_int(&d->out1)) {
            snprintf(msg, cap, "reference saw an integer >= 2^53, fast accepted none");
            return 1;
        }
        return 0;
    }
    if (d->rc1 == CQ_EPARSE && bn_ends_with(w1, "not a plain integer"))
        return 0;
    if (d->rc1 != d->rc2) {
        snprintf(msg, cap, "fast %d (%s) vs cjson %d (%s)", d->rc1, w1, d->rc2, w2);
        return 1;
    }
    if (d->rc1 != 0) {
        if (strncmp(w1, "json:", 5) == 0 && strncmp(w2, "json:", 5) == 0)
            return 0;
        if (strcmp(w1, w2) != 0) {
            snprintf(msg, cap, "same code %d, reasons differ: fast \"%s\" vs cjson \"%s\"", d->rc1,
                     w1, w2);
            return 1;
        }
        if (d->out1.kind != CQ_BN_NONE || d->out2.kind != CQ_BN_NONE) {
            snprintf(msg, cap, "output not cleared after an error");
            return 1;
        }
        return 0;
    }
    const char *f = bn_md_differs(&d->out1, &d->out2);
    if (f) {
        snprintf(msg, cap, "field %s differs", f);
        return 1;
    }
    if (!bn_levels_equal(d->bids1, d->bids2, d->out1.n_bids) ||
        !bn_levels_equal(d->asks1, d->asks2, d->out1.n_asks)) {
        snprintf(msg, cap, "levels differ");
        return 1;
    }
    return 0;
}

#endif
