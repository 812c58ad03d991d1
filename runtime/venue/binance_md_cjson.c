/*
 * binance_md_cjson.c - the reference decoder of Binance Spot market-data
 * frames, on cJSON.
 *
 * It exists to be obviously right, not fast: the fast scanner in
 * binance_md.c is tested against it on every recorded frame and by the
 * fuzzer. It allocates (cJSON builds a tree) and owns that tree only for the
 * duration of a call.
 *
 * cJSON 1.7.15 is lenient where the contract is strict; measured here, it
 * accepts 01, 1., "\u12G4", raw control characters in strings, any byte
 * <= 0x20 as whitespace, invalid UTF-8, trailing garbage, and it cuts a
 * string at "\u0000". So a strict token pass (RFC 8259 tokens in UTF-8, the
 * nesting limit, no \u0000) runs first, and cJSON supplies the structure.
 * Keys are looked up with cJSON_GetObjectItemCaseSensitive only (the
 * insensitive lookup returns "e" when asked for "E"); duplicates are counted
 * by walking the children. Numbers are read from valuedouble, never
 * valueint (an int); integers >= 2^53 cannot be exact there and are
 * refused with "integer above 2^53".
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "cquant/binance_md.h"
#include "cquant/decimal.h"
#include "cquant/error.h"
#include "venue/binance_md_fields.h"

typedef const unsigned char uc_t;

/* --- the strict token pass -------------------------------------------------- */

static bool lex_delim(uc_t *p, uc_t *end)
{
    return p == end || *p == ',' || *p == '}' || *p == ']' || *p == ' ' || *p == '\t' ||
           *p == '\n' || *p == '\r';
}

static int lex_hex(uc_t *p, uc_t *end, unsigned *cp)
{
    if (end - p < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
        if (d < 0)
            return -1;
        v = v * 16 + (unsigned)d;
    }
    *cp = v;
    return 0;
}

/* p at the opening quote; returns the byte after the closing one or NULL. */
static uc_t *lex_string(uc_t *p, uc_t *end, const char **why)
{
    for (p++; p < end;) {
        unsigned c = *p;
        if (c == '"')
            return p + 1;
        if (c == '\\') {
            if (end - p < 2)
                break;
            unsigned e = p[1], cp;
            if (strchr("\"\\/bfnrt", (int)e) && e != 0) {
                p += 2;
                continue;
            }
            if (e != 'u' || lex_hex(p + 2, end, &cp) != 0) {
                *why = "json: bad escape";
                return NULL;
            }
            p += 6;
            if (cp == 0) {
                *why = "json: \\u0000 escape";
                return NULL;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || lex_hex(p + 2, end, &lo) != 0 ||
                    lo < 0xDC00 || lo > 0xDFFF) {
                    *why = "json: unpaired surrogate";
                    return NULL;
                }
                p += 6;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                *why = "json: unpaired surrogate";
                return NULL;
            }
            continue;
        }
        if (c < 0x20) {
            *why = "json: control character in string";
            return NULL;
        }
        if (c < 0x80) {
            p++;
            continue;
        }
        /* Decode the sequence, then refuse what is overlong, a surrogate
         * or beyond Unicode. */
        int n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        static const unsigned min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        unsigned cp = n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
        if (n == 0 || end - p < n) {
            *why = "json: invalid UTF-8";
            return NULL;
        }
        for (int i = 1; i < n; i++) {
            if ((p[i] & 0xC0) != 0x80) {
                *why = "json: invalid UTF-8";
                return NULL;
            }
            cp = cp << 6 | (p[i] & 0x3F);
        }
        if (cp < min_cp[n] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            *why = "json: invalid UTF-8";
            return NULL;
        }
        p += n;
    }
    *why = "json: unterminated string";
    return NULL;
}

static uc_t *lex_number(uc_t *p, uc_t *end)
{
    if (p < end && *p == '-')
        p++;
    if (p == end || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    if (p < end && *p == '.') {
        if (++p == end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return lex_delim(p, end) ? p : NULL;
}

static int lex(const char *buf, size_t len, const char **why)
{
    uc_t *p = (uc_t *)buf, *end = p + len;
    int depth = 0;
    while (p < end) {
        switch (*p) {
        case ' ': case '\t': case '\n': case '\r': case ',': case ':':
            p++;
            break;
        case '{': case '[':
            if (++depth > CQ_BN_MAX_DEPTH) {
                *why = "json: nested too deep";
                return CQ_EPARSE;
            }
            p++;
            break;
        case '}': case ']':
            depth -= depth > 0;
            p++;
            break;
        case '"':
            if ((p = lex_string(p, end, why)) == NULL)
                return CQ_EPARSE;
            break;
        case 't': case 'f': case 'n': {
            const char *lit = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
            size_t n = strlen(lit);
            if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0 || !lex_delim(p + n, end)) {
                *why = "json: bad literal";
                return CQ_EPARSE;
            }
            p += n;
            break;
        }
        default:
            if ((p = lex_number(p, end)) == NULL) {
                *why = "json: bad token";
                return CQ_EPARSE;
            }
            break;
        }
    }
    return 0;
}

/* --- field access ------------------------------------------------------------ */

static int count_key(const cJSON *obj, const char *key)
{
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, obj)
        n += c->string && strcmp(c->string, key) == 0;
    return n;
}

static int fail(int f, int prob, const char **why)
{
    *why = bn_why[f][prob];
    return bn_problem_code[prob];
}

static bool type_ok(const cJSON *it, uint8_t sem)
{
    switch (sem) {
    case BN_SEM_MS:
    case BN_SEM_UINT: return cJSON_IsNumber(it);
    case BN_SEM_BOOL: return cJSON_IsBool(it);
    case BN_SEM_LEVELS: return cJSON_IsArray(it);
    case BN_SEM_OBJECT: return cJSON_IsObject(it);
    default: return cJSON_IsString(it);
    }
}

static int int_problem(const cJSON *it, uint64_t max, uint64_t *v)
{
    double d = it->valuedouble;
    if (signbit(d))
        return BN_P_INT_NEG;
    if (isinf(d))
        return BN_P_INT_RANGE;
    if (isnan(d) || d != floor(d))
        return BN_P_INT_FORM;
    if (d > (double)max)
        return BN_P_INT_RANGE;
    if (d >= 9007199254740992.0) /* 2^53: valuedouble may have rounded */
        return BN_P_INT_INEXACT;
    *v = (uint64_t)d;
    return 0;
}

static int dec_problem(const char *s, cq_decimal_t *d)
{
    size_t n = strlen(s);
    if (n > CQ_DECIMAL_MAX_LEN)
        return BN_P_DEC_RANGE;
    int r = cq_decimal_parse(s, n, d);
    if (r == CQ_ERANGE)
        return BN_P_DEC_RANGE;
    if (r != 0)
        return BN_P_DEC_PARSE;
    return d->mant < 0 ? BN_P_DEC_NEG : 0;
}

static int text_problem(const char *s, size_t max, char *dst)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return BN_P_STR_LEN;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
            return BN_P_STR_CHARS;
    memcpy(dst, s, n + 1);
    return 0;
}

static int levels_problem(const cJSON *arr, cq_bn_level_t *buf, uint32_t cap, uint32_t *n)
{
    uint32_t i = 0;
    const cJSON *lvl;
    cJSON_ArrayForEach(lvl, arr) {
        if (i >= cap)
            return BN_P_FULL;
        const cJSON *p = cJSON_IsArray(lvl) ? lvl->child : NULL;
        const cJSON *q = p ? p->next : NULL;
        if (!p || !q || q->next || !cJSON_IsString(p) || !cJSON_IsString(q))
            return BN_P_LVL_SHAPE;
        cq_bn_level_t l;
        int pp = dec_problem(p->valuestring, &l.price);
        if (pp)
            return pp == BN_P_DEC_PARSE   ? BN_P_LVL_PRICE_PARSE
                 : pp == BN_P_DEC_RANGE ? BN_P_LVL_PRICE_RANGE
                                        : BN_P_LVL_PRICE_NEG;
        int qp = dec_problem(q->valuestring, &l.qty);
        if (qp)
            return qp == BN_P_DEC_PARSE   ? BN_P_LVL_QTY_PARSE
                 : qp == BN_P_DEC_RANGE ? BN_P_LVL_QTY_RANGE
                                        : BN_P_LVL_QTY_NEG;
        buf[i++] = l;
    }
    *n = i;
    return 0;
}

/* The value of field f (already type-checked) into out. */
static int take(const cJSON *it, int kind, int f, uint8_t sem, cq_bn_md_t *out,
                const cq_bn_levels_t *lv)
{
    uint64_t u = 0;
    cq_decimal_t d = {0, 0};
    int prob = 0;
    switch (sem) {
    case BN_SEM_MS: prob = int_problem(it, (uint64_t)CQ_BN_MAX_MS, &u); break;
    case BN_SEM_UINT: prob = int_problem(it, UINT64_MAX, &u); break;
    case BN_SEM_DEC: prob = dec_problem(it->valuestring, &d); break;
    case BN_SEM_SYMBOL: return text_problem(it->valuestring, CQ_BN_SYMBOL_MAX - 1, out->symbol);
    case BN_SEM_INTERVAL:
        return text_problem(it->valuestring, CQ_BN_INTERVAL_MAX - 1, out->interval);
    case BN_SEM_LEVELS: {
        bool bids = f == BN_F_b || f == BN_F_BIDS;
        cq_bn_level_t *buf = lv ? (bids ? lv->bids : lv->asks) : NULL;
        uint32_t cap = lv && buf ? (bids ? lv->bids_cap : lv->asks_cap) : 0;
        return levels_problem(it, buf, cap, bids ? &out->n_bids : &out->n_asks);
    }
    default: break;
    }
    if (prob)
        return prob;
    switch (f) {
    case BN_F_E:
        out->event_ms = (int64_t)u;
        out->event_ns = (int64_t)u * 1000000;
        break;
    case BN_F_U: out->first_update_id = u; break;
    case BN_F_u:
    case BN_F_LUID: out->last_update_id = u; break;
    case BN_F_b: out->bid_price = d; break;
    case BN_F_B: out->bid_qty = d; break;
    case BN_F_a:
        if (kind == CQ_BN_AGG_TRADE)
            out->trade_id = u;
        else
            out->ask_price = d;
        break;
    case BN_F_A: out->ask_qty = d; break;
    case BN_F_t: out->trade_id = u; break;
    case BN_F_p: out->price = d; break;
    case BN_F_q: out->qty = d; break;
    case BN_F_T: out->trade_ms = (int64_t)u; break;
    case BN_F_m: out->buyer_is_maker = cJSON_IsTrue(it); break;
    case BN_F_f: out->first_trade_id = u; break;
    case BN_F_l: out->last_trade_id = u; break;
    case BN_F_Kt: out->open_ms = (int64_t)u; break;
    case BN_F_KT: out->close_ms = (int64_t)u; break;
    case BN_F_Ko: out->open = d; break;
    case BN_F_Kc: out->close = d; break;
    case BN_F_Kh: out->high = d; break;
    case BN_F_Kl: out->low = d; break;
    case BN_F_Kv: out->volume = d; break;
    case BN_F_Kn: out->n_trades = u; break;
    case BN_F_Kx: out->kline_closed = cJSON_IsTrue(it); break;
    default: break;
    }
    return 0;
}

/* Present exactly once and of the right type: the item, else a problem. */
static int get_field(const cJSON *obj, int f, uint8_t sem, const cJSON **it)
{
    const char *key = bn_field_key[f];
    int n = count_key(obj, key);
    if (n == 0)
        return BN_P_MISSING;
    if (n > 1)
        return BN_P_DUP;
    *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return type_ok(*it, sem) ? 0 : BN_P_TYPE;
}

static int payload(const cJSON *obj, cq_bn_md_t *out, const cq_bn_levels_t *lv, const char **why)
{
    int kind, prob;
    const cJSON *it = NULL, *k = NULL;
    if (count_key(obj, "e")) {
        if ((prob = get_field(obj, BN_F_e, BN_SEM_EVENT, &it)) != 0)
            return fail(BN_F_e, prob, why);
        for (kind = CQ_BN_KIND_COUNT_ - 1; kind > 0; kind--)
            if (bn_event_name[kind] && strcmp(bn_event_name[kind], it->valuestring) == 0)
                break;
        if (kind == 0)
            return fail(BN_F_e, BN_P_UNKNOWN, why);
    } else if (count_key(obj, "lastUpdateId")) {
        kind = CQ_BN_SNAPSHOT;
    } else if (count_key(obj, "u")) {
        kind = CQ_BN_BOOK_TICKER;
    } else {
        *why = "unknown payload: no \"e\", \"lastUpdateId\" or \"u\"";
        return CQ_ENOENT;
    }
    for (const bn_check_t *c = bn_checks[kind]; c->sem; c++) {
        const cJSON *in = c->field >= BN_F_Kt ? k : obj;
        if ((prob = get_field(in, c->field, c->sem, &it)) != 0)
            return fail(c->field, prob, why);
        if (c->field == BN_F_k)
            k = it;
        else if ((prob = take(it, kind, c->field, c->sem, out, lv)) != 0)
            return fail(c->field, prob, why);
    }
    out->kind = kind;
    return 0;
}

static int decode(const char *buf, size_t len, cq_bn_md_t *out, const cq_bn_levels_t *lv,
                  const char **why)
{
    if (len > CQ_BN_MAX_FRAME) {
        *why = "frame too long";
        return CQ_ETOOLONG;
    }
    int r = lex(buf, len, why);
    if (r != 0)
        return r;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!root) {
        size_t i = 0;
        while (i < len && strchr(" \t\n\r", buf[i]) && buf[i])
            i++;
        *why = i == len ? "json: empty frame" : "json: malformed (cJSON)";
        return CQ_EPARSE;
    }
    for (const char *p = end; p < buf + len; p++)
        if (!strchr(" \t\n\r", *p) || *p == '\0') {
            cJSON_Delete(root);
            *why = "json: trailing data after the object";
            return CQ_EPARSE;
        }
    const cJSON *obj = root;
    if (!cJSON_IsObject(root)) {
        *why = "json: top level is not an object";
        r = CQ_EPARSE;
    } else if (count_key(root, "stream") || count_key(root, "data")) {
        const cJSON *it = NULL;
        int prob = get_field(root, BN_F_STREAM, BN_SEM_STRING, &it);
        if (prob)
            r = fail(BN_F_STREAM, prob, why);
        else if ((prob = get_field(root, BN_F_DATA, BN_SEM_OBJECT, &obj)) != 0)
            r = fail(BN_F_DATA, prob, why);
        out->flags |= CQ_BN_F_ENVELOPE;
    }
    if (r == 0)
        r = payload(obj, out, lv, why);
    cJSON_Delete(root);
    return r;
}

int cq_bn_decode_cjson(const char *buf, size_t len, cq_bn_md_t *out, const cq_bn_levels_t *lv,
                       const char **why)
{
    const char *w = NULL;
    int r;
    if (!buf || !out) {
        w = "NULL argument";
        r = CQ_EINVAL;
    } else {
        memset(out, 0, sizeof *out);
        r = decode(buf, len, out, lv, &w);
        if (r != 0)
            memset(out, 0, sizeof *out);
    }
    if (why)
        *why = r ? w : NULL;
    return r;
}
