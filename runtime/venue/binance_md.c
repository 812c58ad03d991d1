/*
 * binance_md.c - the hot-path decoder of Binance Spot market-data frames.
 *
 * A small scanner for exactly the shapes in binance_md.h. It owns nothing:
 * it reads [buf, buf+len), writes the caller's struct and level arrays, and
 * never allocates, never reads outside [buf, buf+len), never needs a NUL.
 *
 * How it stays both fast and strict:
 * - A shortcut first (fast_decode): the frame exactly as Binance writes it,
 *   same keys in the same order, no whitespace or escapes, matched byte for
 *   byte and written out as it goes. It succeeds only where the general pass
 *   would succeed with the same output, and gives up on anything else,
 *   errors included; the general pass then starts over and decides. Level
 *   arrays are read a level at a time (SSE2 on x86-64).
 * - The general pass is one pass. Every key is parsed by the JSON type of its value, whatever
 *   the event turns out to be ("b" is a decimal string in a bookTicker, a
 *   level array in a depthUpdate), into a bag of slots. Problems with a
 *   value are recorded in its slot, not returned; only syntax errors stop
 *   the pass. After the frame is fully validated, the kind is known and its
 *   fields are checked in the order of binance_md_fields.h. So the first
 *   problem reported does not depend on key order, and matches the cJSON
 *   reference exactly.
 * - Two rare shapes restart the pass: a "stream"/"data" key found after
 *   payload keys at top level (the frame is an envelope after all), and two
 *   level arrays aimed at the same side ("b" and "bids") before the kind is
 *   known (a pre-scan finds the kind, then the pass reruns knowing it).
 * - Decimals of the usual shape ("61837.63000000") and integers are parsed
 *   eight digits at a time (SWAR) straight from the frame; anything else
 *   goes through the string unescaper and cq_decimal_parse(), which defines
 *   the grammar.
 * What it must never do: guess. A frame that is not strict JSON, or a
 * field of the wrong type, is rejected with a reason.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "cquant/binance_md.h"
#include "cquant/decimal.h"
#include "cquant/error.h"
#include "venue/binance_md_fields.h"

/* Both can be set to 0 from outside: tests/test_binance_md_portable.c
 * builds this file again without SSE2 to check the portable level path. */
#ifndef BN_SWAR
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BN_SWAR 1
#else
#define BN_SWAR 0
#endif
#endif
#ifndef BN_SSE2
#if defined(__SSE2__) && BN_SWAR
#define BN_SSE2 1
#else
#define BN_SSE2 0
#endif
#endif
#if BN_SSE2
#include <emmintrin.h>
#endif

typedef const unsigned char uc_t;

enum { J_NONE = 0, J_STR, J_NUM, J_BOOL, J_NULL, J_ARR, J_OBJ };

/* Internal returns above 0: the pass must start again. */
enum { RESTART_ENVELOPE = 1, RESTART_KIND = 2 };

enum { KIND_AUTO = -1 };

typedef struct {
    uint8_t type; /* J_* of the (last) value */
    uint8_t prob; /* BN_P_* found in that value, 0 if none */
    union {
        uint64_t u;
        cq_decimal_t d;
        int32_t b;
        uint32_t n;  /* levels written */
        int32_t ev;  /* CQ_BN_* named by "e", 0 if unknown */
        struct {
            uint8_t len;
            char s[CQ_BN_SYMBOL_MAX];
        } str;
    } v;
} slot_t;

typedef struct {
    uint64_t seen, dup;   /* bit per BN_F_* */
    uint64_t tmask[J_OBJ + 1]; /* fields whose value had JSON type J_* */
    uint64_t pmask;       /* fields whose value had a problem */
    slot_t slot[BN_F_COUNT_];
} bag_t;

typedef struct {
    uc_t *p, *end;
    uc_t *start;               /* of the frame */
    const char *why;           /* syntax error reason */
    const cq_bn_levels_t *lv;
    int forced;                /* KIND_AUTO or the kind found by the pre-scan */
    int bids_by, asks_by;      /* field that filled each side, -1 if none */
} scan_t;

typedef struct {
    const char *ptr;
    size_t len;
} span_t;

/* Bytes a string can hold without a second look: printable ASCII except
 * '"' and '\\'. Control characters, escapes and UTF-8 take the slow path. */
#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const uint8_t str_plain[256] = {
    R16(0), R16(0),
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20: '"' */
    R16(1), R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50: '\\' */
    R16(1), R16(1),
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
};
#undef R16

static const uint64_t pow10_u64[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
    100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
    10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
    100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL,
};

static inline bool is_digit(unsigned c)
{
    return c - '0' < 10u;
}

static inline bool is_ws(unsigned c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline int cur(const scan_t *s)
{
    return s->p < s->end ? *s->p : -1;
}

/* Binance sends no whitespace: one compare in the usual case. */
static inline void skip_ws(scan_t *s)
{
    while (s->p < s->end && *s->p <= ' ' && is_ws(*s->p))
        s->p++;
}

static int syn(scan_t *s, const char *why)
{
    s->why = why;
    return CQ_EPARSE;
}

/* --- SWAR digit helpers (little-endian: the first byte is the lowest) ---- */

#if BN_SWAR
static inline __attribute__((always_inline)) uint64_t load8(uc_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Non-zero in every byte that is not '0'..'9'. A carry out of a byte >= 0xFA
 * can only spoil bytes after a non-digit, which no caller looks at. */
static inline __attribute__((always_inline)) uint64_t nondigit_mask(uint64_t w)
{
    uint64_t hi = w & 0xF0F0F0F0F0F0F0F0ULL;
    uint64_t hi6 = (w + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL;
    return (hi ^ 0x3030303030303030ULL) | (hi6 ^ 0x3030303030303030ULL);
}

/* Non-zero (0x80) in every byte that needs a second look inside a string:
 * '"', '\\', a control character or a non-ASCII byte. The borrow of the
 * zero-byte test can only mark bytes after a true hit. */
static inline __attribute__((always_inline)) uint64_t str_special_mask(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t ctrl = (w - ones * 0x20) & ~w;
    return (ctrl | ((q - ones) & ~q) | ((b - ones) & ~b) | w) & highs;
}

/* Value of the first n (1..8) digit bytes of w. */
static inline __attribute__((always_inline)) uint64_t digits_value(uint64_t w, unsigned n)
{
    w -= 0x3030303030303030ULL;
    w <<= (8 - n) * 8; /* drop the bytes after the digits; zeros lead */
    w = w * 10 + (w >> 8);
    w = (((w & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
         (((w >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
        32;
    return w;
}
#endif

/* --- strings ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (2..4), 0 if invalid: no
 * overlongs, no surrogates, nothing above U+10FFFF. */
static int utf8_seq(uc_t *p, uc_t *end)
{
    unsigned c = p[0];
    int n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (end - p < n)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (int i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

static int hex4(uc_t *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* At the opening '"'. Validates the whole string (escapes, surrogate pairs,
 * UTF-8, no raw control character, no \u0000) and leaves p after the
 * closing quote. *out is the decoded string: the raw bytes when there is no
 * escape, else scratch, of which only the first cap bytes are written while
 * out->len counts them all. scratch may be NULL (cap 0) to only validate. */
static int scan_string(scan_t *s, span_t *out, char *scratch, size_t cap)
{
    uc_t *start = s->p + 1, *q = start, *end = s->end;
#if BN_SWAR
    for (; end - q >= 8; q += 8) {
        uint64_t m = str_special_mask(load8(q));
        if (m) {
            q += __builtin_ctzll(m) >> 3;
            goto found;
        }
    }
#endif
    while (q < end && str_plain[*q])
        q++;
#if BN_SWAR
found:
#endif
    if (q < end && *q == '"') {
        out->ptr = (const char *)start;
        out->len = (size_t)(q - start);
        s->p = q + 1;
        return 0;
    }
    size_t n = (size_t)(q - start);
    bool esc = false;
    for (;;) {
        if (q >= end)
            return syn(s, "json: unterminated string");
        unsigned c = *q;
        unsigned char enc[4];
        int k;
        if (c == '"')
            break;
        if (c == '\\') {
            if (!esc) {
                esc = true;
                if (scratch)
                    memcpy(scratch, start, n < cap ? n : cap);
            }
            if (end - q < 2)
                return syn(s, "json: unterminated string");
            unsigned cp;
            switch (q[1]) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                if (end - q < 6 || hex4(q + 2, &cp) != 0)
                    return syn(s, "json: bad \\u escape");
                if (cp == 0)
                    return syn(s, "json: \\u0000 escape");
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return syn(s, "json: unpaired surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (end - q < 12 || q[6] != '\\' || q[7] != 'u' || hex4(q + 8, &lo) != 0 ||
                        lo < 0xDC00 || lo > 0xDFFF)
                        return syn(s, "json: unpaired surrogate");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    q += 6;
                }
                q += 4;
                break;
            default:
                return syn(s, "json: bad escape");
            }
            q += 2;
            if (cp < 0x80) {
                enc[0] = (unsigned char)cp;
                k = 1;
            } else if (cp < 0x800) {
                enc[0] = (unsigned char)(0xC0 | cp >> 6);
                enc[1] = (unsigned char)(0x80 | (cp & 0x3F));
                k = 2;
            } else if (cp < 0x10000) {
                enc[0] = (unsigned char)(0xE0 | cp >> 12);
                enc[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
                enc[2] = (unsigned char)(0x80 | (cp & 0x3F));
                k = 3;
            } else {
                enc[0] = (unsigned char)(0xF0 | cp >> 18);
                enc[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
                enc[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
                enc[3] = (unsigned char)(0x80 | (cp & 0x3F));
                k = 4;
            }
        } else if (c < 0x20) {
            return syn(s, "json: control character in string");
        } else if (c < 0x80) {
            enc[0] = (unsigned char)c;
            k = 1;
            q++;
        } else {
            k = utf8_seq(q, end);
            if (k == 0)
                return syn(s, "json: invalid UTF-8");
            memcpy(enc, q, (size_t)k);
            q += k;
        }
        if (esc && scratch)
            for (int i = 0; i < k; i++)
                if (n + (size_t)i < cap)
                    scratch[n + (size_t)i] = (char)enc[i];
        n += (size_t)k;
    }
    s->p = q + 1;
    out->ptr = esc ? scratch : (const char *)start;
    out->len = esc ? n : (size_t)(q - start);
    return 0;
}

/* --- skipping any value, strictly ------------------------------------------ */

static int scan_number(scan_t *s)
{
    uc_t *q = s->p, *e = s->end;
    if (q < e && *q == '-')
        q++;
    if (q >= e || !is_digit(*q))
        return syn(s, "json: bad number");
    if (*q == '0')
        q++;
    else
        while (q < e && is_digit(*q))
            q++;
    if (q < e && *q == '.') {
        q++;
        if (q >= e || !is_digit(*q))
            return syn(s, "json: bad number");
        while (q < e && is_digit(*q))
            q++;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < e && (*q == '+' || *q == '-'))
            q++;
        if (q >= e || !is_digit(*q))
            return syn(s, "json: bad number");
        while (q < e && is_digit(*q))
            q++;
    }
    s->p = q;
    return 0;
}

static int scan_literal(scan_t *s, const char *lit, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return syn(s, "json: bad literal");
    s->p += n;
    return 0;
}

static int skip_value(scan_t *s, int depth);

/* depth is the nesting level of the container being skipped (top = 1). */
static int skip_container(scan_t *s, int depth)
{
    if (depth > CQ_BN_MAX_DEPTH)
        return syn(s, "json: nested too deep");
    bool obj = *s->p == '{';
    int close = obj ? '}' : ']';
    s->p++;
    skip_ws(s);
    if (cur(s) == close) {
        s->p++;
        return 0;
    }
    for (;;) {
        int r;
        if (obj) {
            span_t k;
            if (cur(s) != '"')
                return syn(s, "json: expected a key");
            if ((r = scan_string(s, &k, NULL, 0)) != 0)
                return r;
            skip_ws(s);
            if (cur(s) != ':')
                return syn(s, "json: expected ':'");
            s->p++;
            skip_ws(s);
        }
        if ((r = skip_value(s, depth + 1)) != 0)
            return r;
        skip_ws(s);
        int c = cur(s);
        if (c == ',') {
            s->p++;
            skip_ws(s);
            continue;
        }
        if (c == close) {
            s->p++;
            return 0;
        }
        return syn(s, obj ? "json: expected ',' or '}'" : "json: expected ',' or ']'");
    }
}

static int skip_value(scan_t *s, int depth)
{
    span_t sp;
    switch (cur(s)) {
    case '"': return scan_string(s, &sp, NULL, 0);
    case '{':
    case '[': return skip_container(s, depth);
    case 't': return scan_literal(s, "true", 4);
    case 'f': return scan_literal(s, "false", 5);
    case 'n': return scan_literal(s, "null", 4);
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': return scan_number(s);
    default: return syn(s, "json: expected a value");
    }
}

/* --- typed values ------------------------------------------------------------ */

static uint8_t dec_problem(span_t sp, cq_decimal_t *d)
{
    if (sp.len > CQ_DECIMAL_MAX_LEN) /* also when scratch overflowed */
        return BN_P_DEC_RANGE;
    int r = cq_decimal_parse(sp.ptr, sp.len, d);
    if (r == CQ_ERANGE)
        return BN_P_DEC_RANGE;
    if (r != 0)
        return BN_P_DEC_PARSE;
    return d->mant < 0 ? BN_P_DEC_NEG : 0;
}

/* The general case of read_dec(): unescape, then the grammar's own parser. */
static int read_dec_slow(scan_t *s, cq_decimal_t *d, uint8_t *prob)
{
    span_t sp;
    char buf[64];
    int r = scan_string(s, &sp, buf, sizeof buf);
    if (r != 0)
        return r;
    *prob = dec_problem(sp, d);
    return 0;
}

/* At '"': a decimal string. The usual "ddddd.dddddddd" is parsed in place;
 * everything else (escapes, signs, odd lengths, junk) goes through
 * scan_string and cq_decimal_parse, which define the answer.
 *
 * Frames are a chain of such values, each starting where the previous one
 * ended, so the length is the critical path: with 8 fraction digits (all of
 * Binance's spot prices and sizes) the end is known from the '.' alone and
 * the digit checks only feed a well-predicted branch. */
static inline __attribute__((always_inline)) int read_dec(scan_t *s, cq_decimal_t *d,
                                                          uint8_t *prob)
{
#if BN_SWAR
    uc_t *q = s->p + 1, *src = q;
    /* Near the end of the frame, work on a zero-padded copy: zeros are not
     * digits nor '"', so a value cut by the end falls through as usual. */
    unsigned char tail[24];
    if (__builtin_expect(s->end - q < 17, 0)) {
        size_t left = (size_t)(s->end - q);
        memset(tail, 0, sizeof tail);
        memcpy(tail, q, left);
        src = tail;
    }
    uint64_t w1 = load8(src), m1 = nondigit_mask(w1);
    unsigned ni = m1 ? (unsigned)__builtin_ctzll(m1) >> 3 : 0;
    if (ni != 0 && src[ni] == '.') {
        uint64_t w2 = load8(src + ni + 1), m2 = nondigit_mask(w2);
        if (m2 == 0 && src[ni + 9] == '"') {
            d->mant = (int64_t)(digits_value(w1, ni) * 100000000ULL + digits_value(w2, 8));
            d->exp = 8;
            *prob = 0;
            s->p = q + ni + 10;
            return 0;
        }
        unsigned nf = m2 ? (unsigned)__builtin_ctzll(m2) >> 3 : 8;
        if (nf != 0 && src[ni + 1 + nf] == '"') {
            d->mant = (int64_t)(digits_value(w1, ni) * pow10_u64[nf] + digits_value(w2, nf));
            d->exp = (int32_t)nf;
            *prob = 0;
            s->p = q + ni + nf + 2;
            return 0;
        }
    }
#endif
    return read_dec_slow(s, d, prob);
}

/* At '-' or a digit: an integer field. Not negative, no fraction or
 * exponent, at most max. Syntax is still checked in full. */
static int read_uint(scan_t *s, uint64_t max, uint64_t *v, uint8_t *prob)
{
    uc_t *start = s->p, *q = start, *e = s->end;
    if (*q == '-') {
        int r = scan_number(s);
        *prob = BN_P_INT_NEG;
        return r;
    }
    uint64_t x = 0;
    bool ovf = false;
#if BN_SWAR
    /* Ids and times have 8..16 digits: two loads, no overflow possible. */
    if (e - q >= 16) {
        uint64_t w1 = load8(q), m1 = nondigit_mask(w1);
        if (m1) {
            unsigned n = (unsigned)__builtin_ctzll(m1) >> 3;
            x = digits_value(w1, n);
            q += n;
            goto digits_done;
        }
        uint64_t w2 = load8(q + 8), m2 = nondigit_mask(w2);
        if (m2) {
            unsigned n = (unsigned)__builtin_ctzll(m2) >> 3;
            x = digits_value(w1, 8);
            if (n)
                x = x * pow10_u64[n] + digits_value(w2, n);
            q += 8 + n;
            goto digits_done;
        }
    }
    while (e - q >= 8) {
        uint64_t w = load8(q), m = nondigit_mask(w);
        unsigned n = m ? (unsigned)__builtin_ctzll(m) >> 3 : 8;
        if (n) {
            ovf |= __builtin_mul_overflow(x, pow10_u64[n], &x);
            ovf |= __builtin_add_overflow(x, digits_value(w, n), &x);
        }
        q += n;
        if (n < 8)
            goto digits_done;
    }
#endif
    while (q < e && is_digit(*q)) {
        ovf |= __builtin_mul_overflow(x, 10, &x);
        ovf |= __builtin_add_overflow(x, (uint64_t)(*q - '0'), &x);
        q++;
    }
#if BN_SWAR
digits_done:
#endif
    if (q < e && (*q == '.' || *q == 'e' || *q == 'E')) {
        int r = scan_number(s);
        *prob = BN_P_INT_FORM;
        return r;
    }
    if (*start == '0' && q - start > 1)
        return syn(s, "json: bad number");
    s->p = q;
    if (ovf || x > max) {
        *prob = BN_P_INT_RANGE;
        return 0;
    }
    *v = x;
    *prob = 0;
    return 0;
}

/* At '"': a short text field (symbol, interval). */
static int read_text(scan_t *s, size_t max, slot_t *sl)
{
    span_t sp;
    char buf[64];
    int r = scan_string(s, &sp, buf, sizeof buf);
    if (r != 0)
        return r;
    if (sp.len < 1 || sp.len > max) {
        sl->prob = BN_P_STR_LEN;
        return 0;
    }
    for (size_t i = 0; i < sp.len; i++) {
        unsigned char c = (unsigned char)sp.ptr[i];
        if (c < 0x20 || c == 0x7F) {
            sl->prob = BN_P_STR_CHARS;
            return 0;
        }
    }
    memcpy(sl->v.str.s, sp.ptr, sp.len);
    sl->v.str.s[sp.len] = '\0';
    sl->v.str.len = (uint8_t)sp.len;
    return 0;
}

/* The event names of bn_event_name[], matched by length first. */
static int event_kind(const char *p, size_t n)
{
    switch (n) {
    case 5:
        return memcmp(p, "trade", 5) == 0 ? CQ_BN_TRADE : memcmp(p, "kline", 5) == 0 ? CQ_BN_KLINE : 0;
    case 8: return memcmp(p, "aggTrade", 8) == 0 ? CQ_BN_AGG_TRADE : 0;
    case 11: return memcmp(p, "depthUpdate", 11) == 0 ? CQ_BN_DEPTH : 0;
    default: return 0;
    }
}

static int read_event(scan_t *s, slot_t *sl)
{
    span_t sp;
    char buf[16];
    int r = scan_string(s, &sp, buf, sizeof buf);
    if (r != 0)
        return r;
    sl->v.ev = sp.len <= sizeof buf ? event_kind(sp.ptr, sp.len) : 0;
    return 0;
}

static int read_bool(scan_t *s, int32_t *b)
{
    if (*s->p == 't') {
        *b = 1;
        return scan_literal(s, "true", 4);
    }
    *b = 0;
    return scan_literal(s, "false", 5);
}

/* --- levels --------------------------------------------------------------------- */

static uint8_t level_problem(uint8_t dec_prob, bool price)
{
    switch (dec_prob) {
    case 0: return 0;
    case BN_P_DEC_PARSE: return price ? BN_P_LVL_PRICE_PARSE : BN_P_LVL_QTY_PARSE;
    case BN_P_DEC_RANGE: return price ? BN_P_LVL_PRICE_RANGE : BN_P_LVL_QTY_RANGE;
    default: return price ? BN_P_LVL_PRICE_NEG : BN_P_LVL_QTY_NEG;
    }
}

/* One level ["price","qty"] at depth. Anything else that is valid JSON is
 * BN_P_LVL_SHAPE, whatever its strings held. */
static int read_level(scan_t *s, cq_bn_level_t *lv, uint8_t *prob, int depth)
{
    uc_t *start = s->p;
    uint8_t pp, qp;
    int r;
    if (cur(s) != '[')
        goto shape;
    s->p++;
    skip_ws(s);
    if (cur(s) != '"')
        goto shape;
    if ((r = read_dec(s, &lv->price, &pp)) != 0)
        return r;
    skip_ws(s);
    if (cur(s) != ',')
        goto shape;
    s->p++;
    skip_ws(s);
    if (cur(s) != '"')
        goto shape;
    if ((r = read_dec(s, &lv->qty, &qp)) != 0)
        return r;
    skip_ws(s);
    if (cur(s) != ']')
        goto shape;
    s->p++;
    *prob = pp ? level_problem(pp, true) : level_problem(qp, false);
    return 0;
shape:
    s->p = start;
    if ((r = skip_value(s, depth)) != 0)
        return r;
    *prob = BN_P_LVL_SHAPE;
    return 0;
}

#if BN_SWAR
/* The decimal "d+.dddddddd" (1..7 integer digits, 8 fraction digits) at a,
 * just after its opening quote, with at least 17 readable bytes: its length
 * up to the closing quote, or 0 for any other shape. read_dec() gives the
 * same value, with no problem, for these bytes. */
static inline __attribute__((always_inline)) unsigned dec8_at(uc_t *a, cq_decimal_t *d)
{
    uint64_t w1 = load8(a), m1 = nondigit_mask(w1);
    /* m1 == 0 gives 7, and then a[7] is a digit, not '.' */
    unsigned ni = (unsigned)__builtin_ctzll(m1 | (1ULL << 63)) >> 3;
    if (ni == 0 || a[ni] != '.')
        return 0;
    uint64_t w2 = load8(a + ni + 1);
    if (nondigit_mask(w2) != 0 || a[ni + 9] != '"')
        return 0;
    d->mant = (int64_t)(digits_value(w1, ni) * 100000000ULL + digits_value(w2, 8));
    d->exp = 8;
    return ni + 9;
}

/* Levels ["d+.dddddddd","d+.dddddddd"], a column (prices, quantities) at a
 * time. In a column the number of integer digits rarely changes from one
 * level to the next, so the previous level's count is expected (col_t) and
 * checked rather than computed: where the next value starts then does not
 * wait for this one's bytes, and consecutive levels overlap instead of
 * forming one long chain of loads. When the expectation is wrong (a
 * mispredicted branch) the true count is computed and replaces it; nothing
 * is accepted that was not checked. */
#if BN_SSE2
/* x86-64: each decimal is one 16-byte load that ends with its 8 fraction
 * digits, checked with one compare of a digit mask; a level's four 8-digit
 * groups are then converted together. */
typedef struct {
    unsigned ni;    /* integer digits expected */
    unsigned dmask; /* where the digits are among the 16 bytes loaded */
    __m128i keep;   /* the same, as a byte mask */
} col_t;

static void col_set(col_t *c, unsigned ni)
{
    /* Loaded from a + ni - 7: the integer digits are bytes 7-ni..6, the
     * '.' byte 7, the fraction digits bytes 8..15. */
    uint64_t lo = ((1ULL << (8 * ni)) - 1) << (8 * (7 - ni));
    c->ni = ni;
    c->dmask = (((1u << ni) - 1) << (7 - ni)) | 0xFF00u;
    c->keep = _mm_set_epi64x(-1, (long long)lo);
}

static inline void col_init(col_t *c)
{
    col_set(c, 5);
}

/* At a, after the opening quote, with 6 readable bytes before a and 17
 * from it: the length up to the closing quote, or 0 for another shape. *v
 * gets the digits (0..9 a byte): the integer part times ten in the low 8
 * bytes, the fraction in the high 8. */
static inline __attribute__((always_inline)) unsigned dec8_col(uc_t *a, col_t *c, __m128i *v)
{
    const __m128i zero_ch = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
    for (;;) {
        unsigned ni = c->ni;
        __m128i x = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(a + ni - 7)), zero_ch);
        unsigned dig = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, nine), x));
        if (__builtin_expect((dig & c->dmask) == c->dmask && a[ni] == '.', 1)) {
            if (a[ni + 9] != '"')
                return 0;
            *v = _mm_and_si128(x, c->keep);
            return ni + 9;
        }
        uint64_t m1 = nondigit_mask(load8(a));
        unsigned n = (unsigned)__builtin_ctzll(m1 | (1ULL << 63)) >> 3;
        if (n == 0 || n == ni || a[n] != '.')
            return 0;
        col_set(c, n);
    }
}

/* The two decimals of a level from dec8_col()'s digits, exp 8. */
static inline __attribute__((always_inline)) void level_store(cq_bn_level_t *lv, __m128i pv,
                                                              __m128i qv)
{
    const __m128i z = _mm_setzero_si128();
    const __m128i m10 = _mm_set1_epi32(0x0001000A);   /* pairs of digits (10, 1) */
    const __m128i m100 = _mm_set1_epi32(0x00010064);  /* (100, 1) */
    const __m128i m10k = _mm_set1_epi32(0x00012710);  /* (10000, 1) */
    __m128i p = _mm_packs_epi32(_mm_madd_epi16(_mm_unpacklo_epi8(pv, z), m10),
                                _mm_madd_epi16(_mm_unpackhi_epi8(pv, z), m10));
    __m128i q = _mm_packs_epi32(_mm_madd_epi16(_mm_unpacklo_epi8(qv, z), m10),
                                _mm_madd_epi16(_mm_unpackhi_epi8(qv, z), m10));
    /* 4-digit groups, then the four 8-digit ones: p int, p frac, q int, q frac */
    __m128i r = _mm_packs_epi32(_mm_madd_epi16(p, m100), _mm_madd_epi16(q, m100));
    r = _mm_madd_epi16(r, m10k);
    /* (10 * int) * 10^7 + frac, as two 64-bit mantissas */
    __m128i mant = _mm_add_epi64(_mm_mul_epu32(r, _mm_set1_epi64x(10000000)),
                                 _mm_srli_epi64(r, 32));
    const __m128i exp8 = _mm_set1_epi64x(8);
    _mm_storeu_si128((__m128i *)&lv->price, _mm_unpacklo_epi64(mant, exp8));
    _mm_storeu_si128((__m128i *)&lv->qty, _mm_unpackhi_epi64(mant, exp8));
}

_Static_assert(sizeof(cq_decimal_t) == 16 && offsetof(cq_decimal_t, exp) == 8 &&
                   offsetof(cq_bn_level_t, qty) == 16,
               "level_store writes {mant, exp, padding} 16 bytes at a time");

/* The level at p (its '['), with 4 readable bytes before p and 40 from it:
 * its length up to and with the closing ']', or 0 for another shape. The
 * same bytes through read_level() give the same level with no problem. */
static inline __attribute__((always_inline)) unsigned level_at(uc_t *p, col_t *cp, col_t *cq,
                                                               cq_bn_level_t *lv)
{
    __m128i pv, qv;
    if (p[0] != '[' || p[1] != '"')
        return 0;
    unsigned lp = dec8_col(p + 2, cp, &pv);
    if (lp == 0 || p[lp + 3] != ',' || p[lp + 4] != '"')
        return 0;
    uc_t *b = p + lp + 5;
    unsigned lq = dec8_col(b, cq, &qv);
    if (lq == 0 || b[lq + 1] != ']')
        return 0;
    level_store(lv, pv, qv);
    return lp + lq + 7;
}
#else
/* Elsewhere: the same with 8-byte words. */
typedef struct {
    unsigned ni; /* integer digits expected */
} col_t;

static inline void col_init(col_t *c)
{
    c->ni = 5;
}

static inline __attribute__((always_inline)) unsigned dec8_col(uc_t *a, col_t *c, cq_decimal_t *d)
{
    uint64_t w1 = load8(a), m1 = nondigit_mask(w1);
    unsigned ni = c->ni;
    if (__builtin_expect((m1 & ((1ULL << (8 * ni)) - 1)) != 0 || a[ni] != '.', 0)) {
        ni = (unsigned)__builtin_ctzll(m1 | (1ULL << 63)) >> 3;
        if (ni == 0 || a[ni] != '.')
            return 0;
        c->ni = ni;
    }
    uint64_t w2 = load8(a + ni + 1);
    if (nondigit_mask(w2) != 0 || a[ni + 9] != '"')
        return 0;
    d->mant = (int64_t)(digits_value(w1, ni) * 100000000ULL + digits_value(w2, 8));
    d->exp = 8;
    return ni + 9;
}

static inline __attribute__((always_inline)) unsigned level_at(uc_t *p, col_t *cp, col_t *cq,
                                                               cq_bn_level_t *lv)
{
    if (p[0] != '[' || p[1] != '"')
        return 0;
    unsigned lp = dec8_col(p + 2, cp, &lv->price);
    if (lp == 0 || p[lp + 3] != ',' || p[lp + 4] != '"')
        return 0;
    uc_t *b = p + lp + 5;
    unsigned lq = dec8_col(b, cq, &lv->qty);
    if (lq == 0 || b[lq + 1] != ']')
        return 0;
    return lp + lq + 7;
}
#endif

/* Levels of level_at()'s shape, each followed by ',' or ']' with no
 * whitespace, parsed with the position in a register. Stops at the start
 * of the first level of another shape, where the general loop takes over.
 * Returns true when it consumed the array's closing ']'. */
static inline __attribute__((always_inline)) bool levels_fast(scan_t *s, cq_bn_level_t *buf,
                                                               uint32_t cap, uint32_t *np)
{
    uc_t *p = s->p, *end = s->end;
    uint32_t n = *np;
    col_t cp, cq;
    bool closed = false;
    if (p - s->start < 4)
        return false;
    col_init(&cp);
    col_init(&cq);
    while (n < cap && end - p >= 40) {
        unsigned len = level_at(p, &cp, &cq, &buf[n]);
        if (len == 0)
            break;
        unsigned c = p[len];
        if (c != ',' && c != ']')
            break;
        p += len + 1;
        n++;
        if (c == ']') {
            closed = true;
            break;
        }
    }
    s->p = p;
    *np = n;
    return closed;
}
#endif

/* At '[' (depth of the array). After the first problem the rest is only
 * validated; levels past cap are BN_P_FULL. */
static int read_levels(scan_t *s, slot_t *sl, cq_bn_level_t *buf, uint32_t cap, int depth)
{
    uint32_t n = 0;
    sl->prob = 0;
    s->p++;
    skip_ws(s);
    if (cur(s) == ']') {
        s->p++;
        sl->v.n = 0;
        return 0;
    }
    for (;;) {
        int r;
#if BN_SWAR
        if (!sl->prob) {
            if (levels_fast(s, buf, cap, &n)) {
                sl->v.n = n;
                return 0;
            }
            skip_ws(s); /* it may have stopped after a ',' */
        }
#endif
        if (sl->prob) {
            r = skip_value(s, depth + 1);
        } else if (n >= cap) {
            sl->prob = BN_P_FULL;
            r = skip_value(s, depth + 1);
        } else {
            uint8_t prob = 0;
            r = read_level(s, &buf[n], &prob, depth + 1);
            if (prob)
                sl->prob = prob;
            else
                n++;
        }
        if (r != 0)
            return r;
        skip_ws(s);
        int c = cur(s);
        if (c == ',') {
            s->p++;
            skip_ws(s);
            continue;
        }
        if (c == ']') {
            s->p++;
            break;
        }
        return syn(s, "json: expected ',' or ']'");
    }
    sl->v.n = n;
    return 0;
}

/* --- objects ----------------------------------------------------------------------- */

/* Single-character keys of the payload and of the kline's "k". */
static int8_t key1_payload(unsigned c)
{
    switch (c) {
    case 'e': return BN_F_e;
    case 'E': return BN_F_E;
    case 's': return BN_F_s;
    case 'U': return BN_F_U;
    case 'u': return BN_F_u;
    case 'b': return BN_F_b;
    case 'a': return BN_F_a;
    case 'B': return BN_F_B;
    case 'A': return BN_F_A;
    case 't': return BN_F_t;
    case 'p': return BN_F_p;
    case 'q': return BN_F_q;
    case 'T': return BN_F_T;
    case 'm': return BN_F_m;
    case 'f': return BN_F_f;
    case 'l': return BN_F_l;
    case 'k': return BN_F_k;
    default: return -1;
    }
}

static int8_t key1_kline(unsigned c)
{
    switch (c) {
    case 't': return BN_F_Kt;
    case 'T': return BN_F_KT;
    case 'i': return BN_F_Ki;
    case 'o': return BN_F_Ko;
    case 'c': return BN_F_Kc;
    case 'h': return BN_F_Kh;
    case 'l': return BN_F_Kl;
    case 'v': return BN_F_Kv;
    case 'n': return BN_F_Kn;
    case 'x': return BN_F_Kx;
    default: return -1;
    }
}

/* A decoded key as a BN_F_* or -1. Long keys are payload-level only. */
static int key_field(const char *k, size_t n, bool kline)
{
    switch (n) {
    case 1: return kline ? key1_kline((unsigned char)k[0]) : key1_payload((unsigned char)k[0]);
    case 4:
        if (kline)
            return -1;
        return memcmp(k, "data", 4) == 0   ? BN_F_DATA
             : memcmp(k, "bids", 4) == 0 ? BN_F_BIDS
             : memcmp(k, "asks", 4) == 0 ? BN_F_ASKS
                                         : -1;
    case 6: return !kline && memcmp(k, "stream", 6) == 0 ? BN_F_STREAM : -1;
    case 12: return !kline && memcmp(k, "lastUpdateId", 12) == 0 ? BN_F_LUID : -1;
    default: return -1;
    }
}

/* At '"': the key, as a BN_F_* or -1. */
static int read_key(scan_t *s, bool kline, int *field)
{
    uc_t *q = s->p + 1;
    if (s->end - q >= 2 && q[1] == '"' && str_plain[q[0]]) {
        *field = kline ? key1_kline(q[0]) : key1_payload(q[0]);
        s->p = q + 2;
        return 0;
    }
    span_t k;
    char buf[16];
    int r = scan_string(s, &k, buf, sizeof buf);
    if (r != 0)
        return r;
    *field = k.len <= sizeof buf ? key_field(k.ptr, k.len, kline) : -1;
    return 0;
}

/* Writes a level array for field f, or says the pass must restart because
 * the side was already written before the kind was known. */
static int field_levels(scan_t *s, bag_t *g, int f, int depth)
{
    bool bids = f == BN_F_b || f == BN_F_BIDS;
    bool depth_key = f == BN_F_b || f == BN_F_a;
    if (s->forced != KIND_AUTO && s->forced != (depth_key ? CQ_BN_DEPTH : CQ_BN_SNAPSHOT))
        return skip_container(s, depth);
    int *by = bids ? &s->bids_by : &s->asks_by;
    if (s->forced == KIND_AUTO && *by >= 0)
        return RESTART_KIND;
    *by = f;
    const cq_bn_levels_t *lv = s->lv;
    cq_bn_level_t *buf = lv ? (bids ? lv->bids : lv->asks) : NULL;
    uint32_t cap = lv && buf ? (bids ? lv->bids_cap : lv->asks_cap) : 0;
    return read_levels(s, &g->slot[f], buf, cap, depth);
}

static int read_object(scan_t *s, bag_t *g, int depth, bool top, bool kline);

/* The value of known field f, read by its JSON type. */
static int read_value(scan_t *s, bag_t *g, int f, slot_t *sl, int depth)
{
    span_t sp;
    switch (cur(s)) {
    case '"':
        sl->type = J_STR;
        switch (f) {
        case BN_F_e: return read_event(s, sl);
        case BN_F_s: return read_text(s, CQ_BN_SYMBOL_MAX - 1, sl);
        case BN_F_Ki: return read_text(s, CQ_BN_INTERVAL_MAX - 1, sl);
        case BN_F_b: case BN_F_a: case BN_F_B: case BN_F_A: case BN_F_p: case BN_F_q:
        case BN_F_Ko: case BN_F_Kc: case BN_F_Kh: case BN_F_Kl: case BN_F_Kv:
            return read_dec(s, &sl->v.d, &sl->prob);
        default: return scan_string(s, &sp, NULL, 0);
        }
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        sl->type = J_NUM;
        switch (f) {
        case BN_F_E: case BN_F_T: case BN_F_Kt: case BN_F_KT:
            return read_uint(s, (uint64_t)CQ_BN_MAX_MS, &sl->v.u, &sl->prob);
        case BN_F_U: case BN_F_u: case BN_F_a: case BN_F_t: case BN_F_f: case BN_F_l:
        case BN_F_LUID: case BN_F_Kn:
            return read_uint(s, UINT64_MAX, &sl->v.u, &sl->prob);
        default: return scan_number(s);
        }
    case 't':
    case 'f':
        sl->type = J_BOOL;
        return read_bool(s, &sl->v.b);
    case 'n':
        sl->type = J_NULL;
        return scan_literal(s, "null", 4);
    case '[':
        sl->type = J_ARR;
        if (f == BN_F_b || f == BN_F_a || f == BN_F_BIDS || f == BN_F_ASKS)
            return field_levels(s, g, f, depth);
        return skip_container(s, depth);
    case '{':
        sl->type = J_OBJ;
        if (f == BN_F_k)
            return read_object(s, g, depth, false, true);
        return skip_container(s, depth);
    default: return syn(s, "json: expected a value");
    }
}

static int read_field(scan_t *s, bag_t *g, int f, int depth)
{
    uint64_t bit = 1ULL << f;
    g->dup |= g->seen & bit;
    g->seen |= bit;
    slot_t *sl = &g->slot[f];
    sl->prob = 0;
    sl->type = J_NONE;
    int r = read_value(s, g, f, sl, depth);
    g->tmask[sl->type] |= bit;
    if (sl->prob)
        g->pmask |= bit;
    return r;
}

#define KLINE_BITS (((1ULL << (BN_F_Kx + 1)) - 1) & ~((1ULL << BN_F_Kt) - 1))

/* At '{' of the payload (or of "k" when kline). Top level: a "stream" or
 * "data" key means the frame is an envelope; the caller starts again. */
static int read_object(scan_t *s, bag_t *g, int depth, bool top, bool kline)
{
    if (kline) {
        g->seen &= ~KLINE_BITS;
        g->dup &= ~KLINE_BITS;
        g->pmask &= ~KLINE_BITS;
        for (int t = 0; t <= J_OBJ; t++)
            g->tmask[t] &= ~KLINE_BITS;
    } else {
        g->seen = g->dup = g->pmask = 0;
        for (int t = 0; t <= J_OBJ; t++)
            g->tmask[t] = 0;
    }
    s->p++;
    skip_ws(s);
    if (cur(s) == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        int f, r;
        uc_t *q = s->p;
        if (s->end - q >= 4 && q[0] == '"' && q[2] == '"' && q[3] == ':' && str_plain[q[1]]) {
            /* the usual "k": of Binance, no escape, no whitespace */
            f = kline ? key1_kline(q[1]) : key1_payload(q[1]);
            s->p = q + 4;
        } else {
            if (cur(s) != '"')
                return syn(s, "json: expected a key");
            if ((r = read_key(s, kline, &f)) != 0)
                return r;
            skip_ws(s);
            if (cur(s) != ':')
                return syn(s, "json: expected ':'");
            s->p++;
        }
        skip_ws(s);
        if (f == BN_F_STREAM || f == BN_F_DATA) {
            if (top)
                return RESTART_ENVELOPE;
            f = -1;
        }
        r = f < 0 ? skip_value(s, depth + 1) : read_field(s, g, f, depth + 1);
        if (r != 0)
            return r;
        skip_ws(s);
        int c = cur(s);
        if (c == ',') {
            s->p++;
            skip_ws(s);
            continue;
        }
        if (c == '}') {
            s->p++;
            return 0;
        }
        return syn(s, "json: expected ',' or '}'");
    }
}

/* At '{': the kind this payload will turn out to be, by the same rules as
 * the final check, so that a rerun writes only that kind's level arrays. */
static int prescan_kind(scan_t *s, int depth, int *kind)
{
    bool have_e = false, have_luid = false, have_u = false;
    int ev = 0;
    s->p++;
    skip_ws(s);
    if (cur(s) == '}')
        s->p++;
    else
        for (;;) {
            int f, r;
            if (cur(s) != '"')
                return syn(s, "json: expected a key");
            if ((r = read_key(s, false, &f)) != 0)
                return r;
            skip_ws(s);
            if (cur(s) != ':')
                return syn(s, "json: expected ':'");
            s->p++;
            skip_ws(s);
            if (f == BN_F_e && !have_e && cur(s) == '"') {
                slot_t sl;
                if ((r = read_event(s, &sl)) != 0)
                    return r;
                ev = sl.v.ev;
            } else if ((r = skip_value(s, depth + 1)) != 0) {
                return r;
            }
            have_e |= f == BN_F_e;
            have_luid |= f == BN_F_LUID;
            have_u |= f == BN_F_u;
            skip_ws(s);
            int c = cur(s);
            if (c == ',') {
                s->p++;
                skip_ws(s);
                continue;
            }
            if (c == '}') {
                s->p++;
                break;
            }
            return syn(s, "json: expected ',' or '}'");
        }
    *kind = have_e ? ev : have_luid ? CQ_BN_SNAPSHOT : have_u ? CQ_BN_BOOK_TICKER : CQ_BN_NONE;
    return 0;
}

/* At '{': a payload object, rerun with its kind known if two arrays
 * competed for one side. */
static int read_payload(scan_t *s, bag_t *g, int depth, bool top)
{
    uc_t *start = s->p;
    s->forced = KIND_AUTO;
    s->bids_by = s->asks_by = -1;
    int r = read_object(s, g, depth, top, false);
    if (r != RESTART_KIND)
        return r;
    s->p = start;
    int kind;
    if ((r = prescan_kind(s, depth, &kind)) != 0)
        return r;
    s->p = start;
    s->forced = kind;
    s->bids_by = s->asks_by = -1;
    return read_object(s, g, depth, top, false);
}

typedef struct {
    uint8_t stream_n, stream_type, data_n, data_type;
} env_t;

/* At the top-level '{' of an envelope: only "stream" and "data" count. */
static int read_envelope(scan_t *s, bag_t *g, env_t *env)
{
    memset(env, 0, sizeof *env);
    s->p++;
    skip_ws(s);
    if (cur(s) == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        int f, r;
        size_t left = (size_t)(s->end - s->p);
        if (left >= 9 && memcmp(s->p, "\"stream\":", 9) == 0) {
            f = BN_F_STREAM; /* the bytes as Binance sends them */
            s->p += 9;
        } else if (left >= 7 && memcmp(s->p, "\"data\":", 7) == 0) {
            f = BN_F_DATA;
            s->p += 7;
        } else {
            if (cur(s) != '"')
                return syn(s, "json: expected a key");
            if ((r = read_key(s, false, &f)) != 0)
                return r;
            skip_ws(s);
            if (cur(s) != ':')
                return syn(s, "json: expected ':'");
            s->p++;
        }
        skip_ws(s);
        int c = cur(s);
        uint8_t type = c == '"' ? J_STR : c == '{' ? J_OBJ : J_NONE;
        if (f == BN_F_DATA) {
            env->data_n += env->data_n < 2;
            env->data_type = type;
            r = type == J_OBJ ? read_payload(s, g, 2, false) : skip_value(s, 2);
        } else {
            if (f == BN_F_STREAM) {
                env->stream_n += env->stream_n < 2;
                env->stream_type = type;
            }
            r = skip_value(s, 2);
        }
        if (r != 0)
            return r;
        skip_ws(s);
        c = cur(s);
        if (c == ',') {
            s->p++;
            skip_ws(s);
            continue;
        }
        if (c == '}') {
            s->p++;
            return 0;
        }
        return syn(s, "json: expected ',' or '}'");
    }
}

/* --- the checks, in binance_md_fields.h order ------------------------------------ */

static uint8_t json_type_of(uint8_t sem)
{
    switch (sem) {
    case BN_SEM_MS:
    case BN_SEM_UINT: return J_NUM;
    case BN_SEM_BOOL: return J_BOOL;
    case BN_SEM_LEVELS: return J_ARR;
    case BN_SEM_OBJECT: return J_OBJ;
    default: return J_STR;
    }
}

static int fail(int f, int prob, const char **why)
{
    *why = bn_why[f][prob];
    return bn_problem_code[prob];
}

static inline void store(cq_bn_md_t *out, int kind, int f, const slot_t *sl)
{
    switch (f) {
    case BN_F_E:
        out->event_ms = (int64_t)sl->v.u;
        out->event_ns = (int64_t)sl->v.u * 1000000;
        break;
    case BN_F_s: memcpy(out->symbol, sl->v.str.s, (size_t)sl->v.str.len + 1); break;
    case BN_F_U: out->first_update_id = sl->v.u; break;
    case BN_F_u:
    case BN_F_LUID: out->last_update_id = sl->v.u; break;
    case BN_F_b:
        if (kind == CQ_BN_DEPTH)
            out->n_bids = sl->v.n;
        else
            out->bid_price = sl->v.d;
        break;
    case BN_F_a:
        if (kind == CQ_BN_DEPTH)
            out->n_asks = sl->v.n;
        else if (kind == CQ_BN_AGG_TRADE)
            out->trade_id = sl->v.u;
        else
            out->ask_price = sl->v.d;
        break;
    case BN_F_BIDS: out->n_bids = sl->v.n; break;
    case BN_F_ASKS: out->n_asks = sl->v.n; break;
    case BN_F_B: out->bid_qty = sl->v.d; break;
    case BN_F_A: out->ask_qty = sl->v.d; break;
    case BN_F_t: out->trade_id = sl->v.u; break;
    case BN_F_p: out->price = sl->v.d; break;
    case BN_F_q: out->qty = sl->v.d; break;
    case BN_F_T: out->trade_ms = (int64_t)sl->v.u; break;
    case BN_F_m: out->buyer_is_maker = sl->v.b; break;
    case BN_F_f: out->first_trade_id = sl->v.u; break;
    case BN_F_l: out->last_trade_id = sl->v.u; break;
    case BN_F_Kt: out->open_ms = (int64_t)sl->v.u; break;
    case BN_F_KT: out->close_ms = (int64_t)sl->v.u; break;
    case BN_F_Ki: memcpy(out->interval, sl->v.str.s, (size_t)sl->v.str.len + 1); break;
    case BN_F_Ko: out->open = sl->v.d; break;
    case BN_F_Kc: out->close = sl->v.d; break;
    case BN_F_Kh: out->high = sl->v.d; break;
    case BN_F_Kl: out->low = sl->v.d; break;
    case BN_F_Kv: out->volume = sl->v.d; break;
    case BN_F_Kn: out->n_trades = sl->v.u; break;
    case BN_F_Kx: out->kline_closed = sl->v.b; break;
    default: break;
    }
}

static int check_field(const bag_t *g, int f, uint8_t type, const char **why)
{
    uint64_t bit = 1ULL << f;
    if (!(g->seen & bit))
        return fail(f, BN_P_MISSING, why);
    if (g->dup & bit)
        return fail(f, BN_P_DUP, why);
    if (g->slot[f].type != type)
        return fail(f, BN_P_TYPE, why);
    return 0;
}

/* What each kind needs, by JSON type: the same facts as bn_checks, as bit
 * masks, so that a well-formed frame is recognized with a few ANDs. Only a
 * frame that fails this goes through the ordered checks, which then name
 * its first problem. (If the two ever disagreed, a frame would take the
 * slow path, or the differential tests would catch it.) */
#define FB(f) (1ULL << BN_F_##f)
typedef struct {
    uint64_t str, num, boolean, arr, obj;
} kind_mask_t;
static const kind_mask_t kind_mask[CQ_BN_KIND_COUNT_] = {
    [CQ_BN_DEPTH] = {FB(s), FB(E) | FB(U) | FB(u), 0, FB(b) | FB(a), 0},
    [CQ_BN_TRADE] = {FB(s) | FB(p) | FB(q), FB(E) | FB(t) | FB(T), FB(m), 0, 0},
    [CQ_BN_AGG_TRADE] = {FB(s) | FB(p) | FB(q), FB(E) | FB(a) | FB(f) | FB(l) | FB(T), FB(m), 0, 0},
    [CQ_BN_BOOK_TICKER] = {FB(s) | FB(b) | FB(B) | FB(a) | FB(A), FB(u), 0, 0, 0},
    [CQ_BN_KLINE] = {FB(s) | FB(Ki) | FB(Ko) | FB(Kc) | FB(Kh) | FB(Kl) | FB(Kv),
                     FB(E) | FB(Kt) | FB(KT) | FB(Kn), FB(Kx), 0, FB(k)},
    [CQ_BN_SNAPSHOT] = {0, FB(LUID), 0, FB(BIDS) | FB(ASKS), 0},
};
#undef FB

static bool all_good(const bag_t *g, int kind)
{
    const kind_mask_t *m = &kind_mask[kind];
    uint64_t req = m->str | m->num | m->boolean | m->arr | m->obj;
    return (g->seen & req) == req && ((g->dup | g->pmask) & req) == 0 &&
           (g->tmask[J_STR] & m->str) == m->str && (g->tmask[J_NUM] & m->num) == m->num &&
           (g->tmask[J_BOOL] & m->boolean) == m->boolean && (g->tmask[J_ARR] & m->arr) == m->arr &&
           (g->tmask[J_OBJ] & m->obj) == m->obj;
}

/* Straight-line stores: kind and field are constants in each call. */
static void store_all(cq_bn_md_t *out, int kind, const bag_t *g)
{
#define ST(k, f) store(out, k, BN_F_##f, &g->slot[BN_F_##f])
    switch (kind) {
    case CQ_BN_DEPTH:
        ST(CQ_BN_DEPTH, E), ST(CQ_BN_DEPTH, s), ST(CQ_BN_DEPTH, U), ST(CQ_BN_DEPTH, u);
        ST(CQ_BN_DEPTH, b), ST(CQ_BN_DEPTH, a);
        break;
    case CQ_BN_TRADE:
        ST(CQ_BN_TRADE, E), ST(CQ_BN_TRADE, s), ST(CQ_BN_TRADE, t), ST(CQ_BN_TRADE, p);
        ST(CQ_BN_TRADE, q), ST(CQ_BN_TRADE, T), ST(CQ_BN_TRADE, m);
        break;
    case CQ_BN_AGG_TRADE:
        ST(CQ_BN_AGG_TRADE, E), ST(CQ_BN_AGG_TRADE, s), ST(CQ_BN_AGG_TRADE, a);
        ST(CQ_BN_AGG_TRADE, p), ST(CQ_BN_AGG_TRADE, q), ST(CQ_BN_AGG_TRADE, f);
        ST(CQ_BN_AGG_TRADE, l), ST(CQ_BN_AGG_TRADE, T), ST(CQ_BN_AGG_TRADE, m);
        break;
    case CQ_BN_BOOK_TICKER:
        ST(CQ_BN_BOOK_TICKER, u), ST(CQ_BN_BOOK_TICKER, s), ST(CQ_BN_BOOK_TICKER, b);
        ST(CQ_BN_BOOK_TICKER, B), ST(CQ_BN_BOOK_TICKER, a), ST(CQ_BN_BOOK_TICKER, A);
        break;
    case CQ_BN_KLINE:
        ST(CQ_BN_KLINE, E), ST(CQ_BN_KLINE, s), ST(CQ_BN_KLINE, Kt), ST(CQ_BN_KLINE, KT);
        ST(CQ_BN_KLINE, Ki), ST(CQ_BN_KLINE, Ko), ST(CQ_BN_KLINE, Kc), ST(CQ_BN_KLINE, Kh);
        ST(CQ_BN_KLINE, Kl), ST(CQ_BN_KLINE, Kv), ST(CQ_BN_KLINE, Kn), ST(CQ_BN_KLINE, Kx);
        break;
    default:
        ST(CQ_BN_SNAPSHOT, LUID), ST(CQ_BN_SNAPSHOT, BIDS), ST(CQ_BN_SNAPSHOT, ASKS);
        break;
    }
#undef ST
}

static int finish(const bag_t *g, const env_t *env, cq_bn_md_t *out, const char **why)
{
    int r;
    if (env) {
        if (!env->stream_n)
            return fail(BN_F_STREAM, BN_P_MISSING, why);
        if (env->stream_n > 1)
            return fail(BN_F_STREAM, BN_P_DUP, why);
        if (env->stream_type != J_STR)
            return fail(BN_F_STREAM, BN_P_TYPE, why);
        if (!env->data_n)
            return fail(BN_F_DATA, BN_P_MISSING, why);
        if (env->data_n > 1)
            return fail(BN_F_DATA, BN_P_DUP, why);
        if (env->data_type != J_OBJ)
            return fail(BN_F_DATA, BN_P_TYPE, why);
        out->flags |= CQ_BN_F_ENVELOPE;
    }
    int kind;
    if (g->seen & 1ULL << BN_F_e) {
        if ((r = check_field(g, BN_F_e, J_STR, why)) != 0)
            return r;
        kind = g->slot[BN_F_e].v.ev;
        if (kind == 0)
            return fail(BN_F_e, BN_P_UNKNOWN, why);
    } else if (g->seen & 1ULL << BN_F_LUID) {
        kind = CQ_BN_SNAPSHOT;
    } else if (g->seen & 1ULL << BN_F_u) {
        kind = CQ_BN_BOOK_TICKER;
    } else {
        *why = "unknown payload: no \"e\", \"lastUpdateId\" or \"u\"";
        return CQ_ENOENT;
    }
    if (all_good(g, kind)) {
        store_all(out, kind, g);
        out->kind = kind;
        return 0;
    }
    for (const bn_check_t *c = bn_checks[kind]; c->sem; c++) {
        if ((r = check_field(g, c->field, json_type_of(c->sem), why)) != 0)
            return r;
        const slot_t *sl = &g->slot[c->field];
        if (sl->prob)
            return fail(c->field, sl->prob, why);
        store(out, kind, c->field, sl);
    }
    out->kind = kind;
    return 0;
}

/* Zero the output with plain 32-byte stores: for this size gcc turns a
 * memset (or a struct copy) into "rep stos", whose start-up alone cost ~10%
 * of a bookTicker decode. The empty asm keeps the loop from being turned
 * back into that. */
_Static_assert(sizeof(cq_bn_md_t) % 32 == 0, "zero_md stores 32 bytes at a time");
static inline void zero_md(cq_bn_md_t *out)
{
    static const unsigned char z[32];
    unsigned char *p = (unsigned char *)out;
    for (size_t i = 0; i < sizeof *out; i += 32) {
        memcpy(p + i, z, 32);
        __asm__ volatile("" : : "r"(p) : "memory");
    }
}

/* --- the fast path: frames laid out exactly as Binance writes them ------------ */

/* Binance writes each kind with the same keys in the same order, without
 * whitespace or escapes. fast_decode() matches that layout byte for byte
 * and writes the output as it goes: no bag, no key dispatch, nothing left
 * to check at the end. It succeeds only on frames that the general pass
 * accepts with the same output, and gives up (false) on anything else:
 * another key order, another key, whitespace, an escape, a number or a
 * decimal of another form, any value the general pass would find a
 * problem with. The general pass then decodes the frame from its start and
 * decides everything, errors and their order included: the contract is
 * the general pass's alone, this is a shortcut to its answer.
 *
 * Why a match gives the general pass's answer: what it matches is strict
 * JSON by construction (literal punctuation, strings of printable ASCII
 * without escapes, integers without a leading zero, true and false, levels
 * of two such strings), nested at most 4 deep; the envelope has one
 * "stream" string and one "data" object; each field of the kind appears
 * once with its JSON type, and every value is checked for what the general
 * pass would report (range, symbol length and characters, capacity). The
 * only other key allowed is a trade's "M", which the general pass skips. */

#if BN_SWAR
enum {
    FT_ROOM = 64,          /* no key and value read more than this from the key */
    FT_TAIL_END = FT_ROOM + 8
};

/* The first n (<= 8) bytes of a literal as a little-endian word: a
 * constant once inlined (memcpy into a word went through the stack). */
static inline __attribute__((always_inline)) uint64_t lit_word(const char *lit, size_t n)
{
#define LB(i) ((i) < n ? (uint64_t)(unsigned char)lit[i] << (8 * (i)) : 0)
    return LB(0) | LB(1) | LB(2) | LB(3) | LB(4) | LB(5) | LB(6) | LB(7);
#undef LB
}

/* p[0..n) == lit, n <= 16, with 16 readable bytes at p: two compares. */
static inline __attribute__((always_inline)) bool lit_eq(uc_t *p, const char *lit, size_t n)
{
    uint64_t x = (load8(p) ^ lit_word(lit, n)) & (n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1);
    if (n > 8)
        x |= (load8(p + 8) ^ lit_word(lit + 8, n - 8)) &
             (n >= 16 ? ~0ULL : (1ULL << (8 * (n - 8))) - 1);
    return x == 0;
}

/* The position's bounds, kept in registers: nothing takes the address of
 * this struct beyond always-inline helpers. */
typedef struct {
    uc_t *start, *end;  /* the frame's, then the tail copy's once in it */
    bool in_tail;
    unsigned char *tail; /* FT_TAIL_END + FT_ROOM bytes */
} ft_t;

/* The frame's last FT_TAIL_END bytes (all of a shorter frame, after zeros)
 * to tail, then FT_ROOM zeros: steps near the end read there instead of
 * past the frame. Zeros match no byte any step looks for, so a value cut
 * by the end of the frame makes its step give up. Steps start at least 8
 * bytes in (level_at() looks back 4). Returns where p is in tail. */
static __attribute__((noinline)) uc_t *ft_pad(unsigned char *tail, uc_t *start, uc_t *end,
                                              uc_t *p)
{
    /* The usual frame is long enough for fixed-size copies; memset would
     * be "rep stos" here, whose start-up costs more than the stores. */
    size_t len = (size_t)(end - start);
    uc_t *from = end - (len < FT_TAIL_END ? len : FT_TAIL_END);
    unsigned char *to = tail + FT_TAIL_END - (end - from);
    if (len >= FT_TAIL_END) {
        memcpy(tail, from, FT_TAIL_END);
        memset(tail + FT_TAIL_END, 0, FT_ROOM);
    } else {
        memset(tail, 0, FT_TAIL_END + FT_ROOM);
        memcpy(to, from, len);
    }
    return to + (p - from);
}

/* Where the step starting at p may read FT_ROOM bytes. */
static inline __attribute__((always_inline)) uc_t *ft_room(ft_t *t, uc_t *p)
{
    if (__builtin_expect(t->end - p >= FT_ROOM, 1) || t->in_tail)
        return p;
    p = ft_pad(t->tail, t->start, t->end, p);
    t->in_tail = true;
    t->end = t->tail + FT_TAIL_END;
    return p;
}

/* A key (or other literal) of at most 8 bytes, where the step starting at
 * p may read FT_ROOM bytes: the value steps below come right after it and
 * read at most FT_ROOM - 8 bytes from where they start (ft_levels() makes
 * room again for each level), so one check serves the key and its value. */
static inline __attribute__((always_inline)) uc_t *ft_lit(ft_t *t, uc_t *p, const char *lit,
                                                          size_t n)
{
    p = ft_room(t, p);
    return lit_eq(p, lit, n) ? p + n : NULL;
}

/* A plain integer of 1..19 digits without a leading zero, at most max:
 * what read_uint() takes without a problem (20 digits may not fit). */
static inline __attribute__((always_inline)) uc_t *ft_uint(ft_t *t, uc_t *p, uint64_t max,
                                                           uint64_t *v)
{
    uint64_t w1 = load8(p), m1 = nondigit_mask(w1), x;
    unsigned n;
    if (m1) {
        n = (unsigned)__builtin_ctzll(m1) >> 3;
        if (n == 0)
            return NULL;
        x = digits_value(w1, n);
    } else {
        uint64_t w2 = load8(p + 8), m2 = nondigit_mask(w2);
        x = digits_value(w1, 8);
        if (m2) {
            unsigned n2 = (unsigned)__builtin_ctzll(m2) >> 3;
            n = 8 + n2;
            if (n2)
                x = x * pow10_u64[n2] + digits_value(w2, n2);
        } else {
            uint64_t w3 = load8(p + 16), m3 = nondigit_mask(w3);
            if (m3 == 0)
                return NULL;
            unsigned n3 = (unsigned)__builtin_ctzll(m3) >> 3;
            if (n3 > 3)
                return NULL;
            x = x * 100000000ULL + digits_value(w2, 8);
            n = 16 + n3;
            if (n3)
                x = x * pow10_u64[n3] + digits_value(w3, n3);
        }
    }
    if ((*p == '0' && n > 1) || x > max)
        return NULL;
    *v = x;
    return p + n;
}

/* Non-zero (0x80) in every byte that is DEL (0x7F); see str_special_mask. */
static inline __attribute__((always_inline)) uint64_t del_mask(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL;
    uint64_t d = w ^ (ones * 0x7F);
    return (d - ones) & ~d & (ones * 0x80);
}

/* At '"': a symbol of 1..23 printable ASCII bytes, copied to sym[24] with
 * NULs after it (read_text() would accept it as is). */
static inline __attribute__((always_inline)) uc_t *ft_symbol(ft_t *t, uc_t *p, char *sym)
{
    if (*p != '"')
        return NULL;
    p++;
    uint64_t w[3];
    unsigned n = 24;
    for (unsigned i = 0; i < 3; i++) {
        w[i] = load8(p + 8 * i);
        uint64_t m = str_special_mask(w[i]) | del_mask(w[i]);
        if (m) {
            n = 8 * i + ((unsigned)__builtin_ctzll(m) >> 3);
            break;
        }
    }
    if (n == 0 || n > CQ_BN_SYMBOL_MAX - 1 || p[n] != '"')
        return NULL;
    for (unsigned i = 0; i < 3; i++) {
        unsigned keep = n > 8 * i ? n - 8 * i : 0;
        uint64_t v = keep >= 8 ? w[i] : w[i] & ((1ULL << (8 * keep)) - 1);
        memcpy(sym + 8 * i, &v, 8);
    }
    return p + n + 1;
}

/* At '"': any string without escapes, control or non-ASCII bytes. */
static inline __attribute__((always_inline)) uc_t *ft_string(ft_t *t, uc_t *p)
{
    if (*p != '"')
        return NULL;
    uc_t *q = p + 1, *end = t->end;
    for (; end - q >= 8; q += 8) {
        uint64_t m = str_special_mask(load8(q));
        if (m) {
            q += __builtin_ctzll(m) >> 3;
            return *q == '"' ? q + 1 : NULL;
        }
    }
    while (q < end && str_plain[*q])
        q++;
    return q < end && *q == '"' ? q + 1 : NULL;
}

/* A decimal of another shape than dec8_at()'s, by read_dec(). */
static __attribute__((noinline)) uc_t *ft_dec_other(uc_t *p, uc_t *end, cq_decimal_t *d)
{
    scan_t s = {.p = p, .end = end};
    uint8_t prob;
    if (read_dec(&s, d, &prob) != 0 || prob != 0)
        return NULL;
    return s.p;
}

/* At '"': a decimal string without a problem. */
static inline __attribute__((always_inline)) uc_t *ft_dec(ft_t *t, uc_t *p, cq_decimal_t *d)
{
    if (*p != '"')
        return NULL;
    unsigned n = dec8_at(p + 1, d);
    return n ? p + n + 2 : ft_dec_other(p, t->end, d);
}

static inline __attribute__((always_inline)) uc_t *ft_bool(ft_t *t, uc_t *p, int32_t *b)
{
    if (lit_eq(p, "true", 4)) {
        *b = 1;
        return p + 4;
    }
    if (lit_eq(p, "false", 5)) {
        *b = 0;
        return p + 5;
    }
    return NULL;
}

/* At '[': levels of level_at()'s shape, at most cap. */
static inline __attribute__((always_inline)) uc_t *ft_levels(ft_t *t, uc_t *p,
                                                             cq_bn_level_t *buf, uint32_t cap,
                                                             uint32_t *np, col_t *cp, col_t *cq)
{
    if (*p != '[')
        return NULL;
    if (p[1] == ']') {
        *np = 0;
        return p + 2;
    }
    p++;
    uint32_t n = 0;
    for (;;) {
        p = ft_room(t, p);
        if (n >= cap)
            return NULL;
        unsigned len = level_at(p, cp, cq, &buf[n]);
        if (len == 0)
            return NULL;
        n++;
        unsigned c = p[len];
        p += len + 1;
        if (c == ']')
            break;
        if (c != ',')
            return NULL;
    }
    *np = n;
    return p;
}

#define FT(step)                                                                                   \
    do {                                                                                           \
        if ((p = (step)) == NULL)                                                                  \
            return false;                                                                          \
    } while (0)

static bool fast_decode(const char *buf, size_t len, cq_bn_md_t *out, const cq_bn_levels_t *lv)
{
    unsigned char tail[FT_TAIL_END + FT_ROOM];
    ft_t t = {(uc_t *)buf, (uc_t *)buf + len, false, tail};
    for (size_t off = 64; off < len && off < 2048; off += 64)
        __builtin_prefetch(buf + off);
    uc_t *p = ft_room(&t, t.start);
    uint64_t u;
    bool env = lit_eq(p, "{\"stream\":", 10);
    if (env) {
        FT(ft_string(&t, p + 10));
        FT(ft_lit(&t, p, ",\"data\":", 8));
    }
    p = ft_room(&t, p);
    int kind;
    if (lit_eq(p, "{\"e\":\"", 6)) {
        p += 6;
        if (lit_eq(p, "depthUpdate\",", 13)) {
            kind = CQ_BN_DEPTH;
            p += 13;
        } else if (lit_eq(p, "trade\",", 7)) {
            kind = CQ_BN_TRADE;
            p += 7;
        } else if (lit_eq(p, "aggTrade\",", 10)) {
            kind = CQ_BN_AGG_TRADE;
            p += 10;
        } else {
            return false;
        }
        FT(ft_lit(&t, p, "\"E\":", 4));
        FT(ft_uint(&t, p, (uint64_t)CQ_BN_MAX_MS, &u));
        out->event_ms = (int64_t)u;
        out->event_ns = (int64_t)u * 1000000;
    } else if (lit_eq(p, "{\"u\":", 5)) {
        kind = CQ_BN_BOOK_TICKER;
        FT(ft_uint(&t, p + 5, UINT64_MAX, &out->last_update_id));
    } else {
        return false;
    }
    FT(ft_lit(&t, p, ",\"s\":", 5));
    FT(ft_symbol(&t, p, out->symbol));
    switch (kind) {
    case CQ_BN_DEPTH: {
        cq_bn_level_t *b = lv ? lv->bids : NULL, *a = lv ? lv->asks : NULL;
        col_t cp, cq;
        col_init(&cp);
        col_init(&cq);
        FT(ft_lit(&t, p, ",\"U\":", 5));
        FT(ft_uint(&t, p, UINT64_MAX, &out->first_update_id));
        FT(ft_lit(&t, p, ",\"u\":", 5));
        FT(ft_uint(&t, p, UINT64_MAX, &out->last_update_id));
        FT(ft_lit(&t, p, ",\"b\":", 5));
        FT(ft_levels(&t, p, b, b ? lv->bids_cap : 0, &out->n_bids, &cp, &cq));
        FT(ft_lit(&t, p, ",\"a\":", 5));
        FT(ft_levels(&t, p, a, a ? lv->asks_cap : 0, &out->n_asks, &cp, &cq));
        break;
    }
    case CQ_BN_BOOK_TICKER:
        FT(ft_lit(&t, p, ",\"b\":", 5));
        FT(ft_dec(&t, p, &out->bid_price));
        FT(ft_lit(&t, p, ",\"B\":", 5));
        FT(ft_dec(&t, p, &out->bid_qty));
        FT(ft_lit(&t, p, ",\"a\":", 5));
        FT(ft_dec(&t, p, &out->ask_price));
        FT(ft_lit(&t, p, ",\"A\":", 5));
        FT(ft_dec(&t, p, &out->ask_qty));
        break;
    default: /* trade, aggTrade */
        if (kind == CQ_BN_TRADE) {
            FT(ft_lit(&t, p, ",\"t\":", 5));
            FT(ft_uint(&t, p, UINT64_MAX, &out->trade_id));
        } else {
            FT(ft_lit(&t, p, ",\"a\":", 5));
            FT(ft_uint(&t, p, UINT64_MAX, &out->trade_id));
        }
        FT(ft_lit(&t, p, ",\"p\":", 5));
        FT(ft_dec(&t, p, &out->price));
        FT(ft_lit(&t, p, ",\"q\":", 5));
        FT(ft_dec(&t, p, &out->qty));
        if (kind == CQ_BN_AGG_TRADE) {
            FT(ft_lit(&t, p, ",\"f\":", 5));
            FT(ft_uint(&t, p, UINT64_MAX, &out->first_trade_id));
            FT(ft_lit(&t, p, ",\"l\":", 5));
            FT(ft_uint(&t, p, UINT64_MAX, &out->last_trade_id));
        }
        FT(ft_lit(&t, p, ",\"T\":", 5));
        FT(ft_uint(&t, p, (uint64_t)CQ_BN_MAX_MS, &u));
        out->trade_ms = (int64_t)u;
        FT(ft_lit(&t, p, ",\"m\":", 5));
        FT(ft_bool(&t, p, &out->buyer_is_maker));
        p = ft_room(&t, p);
        if (lit_eq(p, ",\"M\":", 5)) {
            int32_t ignored;
            FT(ft_bool(&t, p + 5, &ignored));
        }
        break;
    }
    FT(ft_lit(&t, p, "}", 1));
    if (env)
        FT(ft_lit(&t, p, "}", 1));
    if (p != t.end)
        return false;
    out->kind = kind;
    out->flags = env ? CQ_BN_F_ENVELOPE : 0;
    return true;
}
#undef FT
#endif

static int decode(const char *buf, size_t len, cq_bn_md_t *out, const cq_bn_levels_t *lv,
                  const char **why)
{
    if (len > CQ_BN_MAX_FRAME) {
        *why = "frame too long";
        return CQ_ETOOLONG;
    }
#if BN_SWAR
    if (fast_decode(buf, len, out, lv))
        return 0;
    zero_md(out);
#endif
    scan_t s = {.p = (uc_t *)buf, .end = (uc_t *)buf + len, .start = (uc_t *)buf, .lv = lv};
    bag_t g;
    env_t env;
    bool envelope = false;
    int r;
    skip_ws(&s);
    if (cur(&s) != '{') {
        *why = s.p == s.end ? "json: empty frame" : "json: top level is not an object";
        return CQ_EPARSE;
    }
    uc_t *obj = s.p;
    /* The usual envelope says so in its first key: no need for a restart. */
    if (s.end - obj >= 10 && memcmp(obj, "{\"stream\":", 10) == 0)
        r = RESTART_ENVELOPE;
    else
        r = read_payload(&s, &g, 1, true);
    if (r == RESTART_ENVELOPE) {
        s.p = obj;
        envelope = true;
        r = read_envelope(&s, &g, &env);
    }
    if (r == 0) {
        skip_ws(&s);
        if (s.p != s.end)
            r = syn(&s, "json: trailing data after the object");
    }
    if (r != 0) {
        *why = s.why;
        return r;
    }
    return finish(&g, envelope ? &env : NULL, out, why);
}

int cq_bn_decode(const char *buf, size_t len, cq_bn_md_t *out, const cq_bn_levels_t *lv,
                 const char **why)
{
    const char *w = NULL;
    int r;
    if (!buf || !out) {
        w = "NULL argument";
        r = CQ_EINVAL;
    } else {
        zero_md(out);
        r = decode(buf, len, out, lv, &w);
        if (r != 0)
            memset(out, 0, sizeof *out);
    }
    if (why)
        *why = r ? w : NULL;
    return r;
}

const char *cq_bn_kind_name(int32_t kind)
{
    switch (kind) {
    case CQ_BN_DEPTH: return "depthUpdate";
    case CQ_BN_TRADE: return "trade";
    case CQ_BN_AGG_TRADE: return "aggTrade";
    case CQ_BN_BOOK_TICKER: return "bookTicker";
    case CQ_BN_KLINE: return "kline";
    case CQ_BN_SNAPSHOT: return "snapshot";
    default: return "none";
    }
}
