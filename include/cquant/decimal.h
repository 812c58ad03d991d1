/*
 * decimal.h - exact decimal numbers as they arrive on the wire.
 *
 * Venues send prices and quantities as decimal strings ("61837.63000000").
 * A binary double cannot hold most of them exactly, so the codec parses them
 * into a fixed-point pair instead: value = mant * 10^-exp. The exponent is the
 * number of digits the wire string had after its '.', trailing zeros
 * included, so "0.10" is {10, 2} and "0.1" is {1, 1}: compare values with
 * cq_decimal_to_units() at a common scale, not field by field.
 *
 * Converting to an instrument's ticks or steps is cq_decimal_to_units() at
 * the instrument's precision; it refuses (CQ_ERANGE) to drop a non-zero
 * digit, so a price off the tick grid is an error, never a silent rounding.
 * cq_decimal_format() prints units back at a scale: "0.00000001" and
 * "123456.78" survive parse -> units -> format unchanged.
 */
#ifndef CQUANT_DECIMAL_H
#define CQUANT_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

/* CQ_FFI_BEGIN */
enum {
    CQ_DECIMAL_MAX_DIGITS = 18, /* significant digits; 10^18 < 2^63 */
    CQ_DECIMAL_MAX_EXP = 18,    /* digits after the '.' (and largest scale) */
    CQ_DECIMAL_MAX_LEN = 40     /* longest accepted string, leading zeros included */
};

typedef struct cq_decimal {
    int64_t mant; /* signed mantissa, |mant| < 10^18 */
    int32_t exp;  /* 0..CQ_DECIMAL_MAX_EXP: value = mant * 10^-exp */
} cq_decimal_t;
/* CQ_FFI_END */

/* Parse exactly len bytes (no NUL needed) with the grammar
 *     -? [0-9]+ ( '.' [0-9]+ )?
 * Nothing else: no '+', exponent, spaces, or bare "." / ".5" / "5.".
 * Returns 0, CQ_EINVAL (NULL), or in this order: CQ_EPARSE (empty),
 * CQ_ERANGE (longer than CQ_DECIMAL_MAX_LEN, whatever the bytes),
 * CQ_EPARSE (not the grammar), CQ_ERANGE (more than CQ_DECIMAL_MAX_EXP
 * fraction digits or CQ_DECIMAL_MAX_DIGITS significant digits).
 * "-0" and "-0.00" parse as zero. *out is written only on success. */
int cq_decimal_parse(const char *s, size_t len, cq_decimal_t *out);

/* d expressed as an integer count of 10^-scale units (scale 0..18), e.g.
 * {6183763000000, 8} at scale 2 is 6183763. CQ_ERANGE if that would drop a
 * non-zero digit or overflow int64; CQ_EINVAL for a bad scale, d.exp or
 * NULL out. */
int cq_decimal_to_units(cq_decimal_t d, int32_t scale, int64_t *out);

/* Print units at scale (0..18) as a NUL-terminated decimal with exactly
 * scale fraction digits: (1, 8) -> "0.00000001", (-5, 2) -> "-0.05",
 * (7, 0) -> "7". *len (optional) gets the length without the NUL.
 * CQ_ETOOLONG if cap is too small (buf then holds ""), CQ_EINVAL on NULL
 * buf, cap 0 or a bad scale. At most 41 bytes are ever needed. */
int cq_decimal_format(int64_t units, int32_t scale, char *buf, size_t cap, size_t *len);

/* The nearest double when mant fits in 53 bits (the usual case); otherwise
 * within one extra rounding. For events and display, never for books. */
double cq_decimal_to_double(cq_decimal_t d);

#endif
