/*
 * decimal_div.h - the common case of cq_decimal_to_units(), inline: a wire
 * decimal with at least as many fraction digits as the scale
 * ("61837.63000000" in ticks of 0.01), divided by a power of ten without a
 * division instruction and checked exact by multiplying back. Private to runtime/ (core/decimal.c
 * and model/instrument.c, which converts every book level with it).
 */
#ifndef CQ_DECIMAL_DIV_H
#define CQ_DECIMAL_DIV_H

#include <stdint.h>

#include "cquant/decimal.h"
#include "cquant/error.h"

static const uint64_t dec_pow10[19] = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
    1000000000000000000ULL,
};

/* n / 10^k for 1 <= k <= 18 and any n < 2^63, as (n * mul) >> (64 + shift)
 * with shift = floor(log2 10^k) and mul = floor(2^(64+shift) / 10^k) + 1,
 * which fits 64 bits because 10^k is not a power of two. Exact: the excess
 * mul * 10^k - 2^(64+shift) is at most 10^k <= 2^(shift+1), so for
 * n < 2^63 it adds less than 1/10^k to n / 10^k and never reaches the next
 * integer. tests/test_decimal.c checks every k on multiples of 10^k up to
 * 2^63 - 1, where an error would show. (A 64-bit idiv costs several times
 * the multiply, and a depth frame converts ~40 decimals.) */
static const struct {
    uint64_t mul;
    unsigned shift;
} dec_div_pow10_tab[19] = {
    {0, 0}, /* 10^0: never divided by */
    {0xCCCCCCCCCCCCCCCDULL, 3},  {0xA3D70A3D70A3D70BULL, 6},  {0x83126E978D4FDF3CULL, 9},
    {0xD1B71758E219652CULL, 13}, {0xA7C5AC471B478424ULL, 16}, {0x8637BD05AF6C69B6ULL, 19},
    {0xD6BF94D5E57A42BDULL, 23}, {0xABCC77118461CEFDULL, 26}, {0x89705F4136B4A598ULL, 29},
    {0xDBE6FECEBDEDD5BFULL, 33}, {0xAFEBFF0BCB24AAFFULL, 36}, {0x8CBCCC096F5088CCULL, 39},
    {0xE12E13424BB40E14ULL, 43}, {0xB424DC35095CD810ULL, 46}, {0x901D7CF73AB0ACDAULL, 49},
    {0xE69594BEC44DE15CULL, 53}, {0xB877AA3236A4B44AULL, 56}, {0x9392EE8E921D5D08ULL, 59},
};

static inline uint64_t dec_div_pow10(uint64_t n, int k)
{
#if defined(__SIZEOF_INT128__)
    return (uint64_t)(((unsigned __int128)n * dec_div_pow10_tab[k].mul) >> 64) >>
           dec_div_pow10_tab[k].shift;
#else
    return n / dec_pow10[k];
#endif
}

/* Whether dec_units_quick() applies: a non-negative mantissa with at least
 * scale fraction digits, all in range. */
static inline int dec_units_quick_case(cq_decimal_t d, int32_t scale)
{
    return d.mant >= 0 && scale >= 0 && d.exp >= scale && d.exp <= CQ_DECIMAL_MAX_EXP;
}

/* cq_decimal_to_units() in that case: 0 with *out, or CQ_ERANGE when a
 * non-zero digit would be dropped. */
static inline int dec_units_quick(cq_decimal_t d, int32_t scale, int64_t *out)
{
    int k = d.exp - scale;
    if (k == 0) { /* "0.00100000" in steps of 0.00000001 */
        *out = d.mant;
        return 0;
    }
    uint64_t q = dec_div_pow10((uint64_t)d.mant, k);
    if (q * dec_pow10[k] != (uint64_t)d.mant)
        return CQ_ERANGE;
    *out = (int64_t)q;
    return 0;
}

#endif
