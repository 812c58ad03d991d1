/*
 * test_decimal.c - exact wire decimals: parse, convert to units, format.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/decimal.h"
#include "cquant/error.h"
#include "support/cq_test.h"

static int parse(const char *s, cq_decimal_t *d)
{
    return cq_decimal_parse(s, strlen(s), d);
}

START_TEST(test_decimal_parse_keeps_wire_digits_exactly)
{
    cq_decimal_t d;
    ck_assert_int_eq(parse("61837.63000000", &d), 0);
    ck_assert_int_eq(d.mant, 6183763000000LL);
    ck_assert_int_eq(d.exp, 8);
    ck_assert_int_eq(parse("0.00000001", &d), 0);
    ck_assert_int_eq(d.mant, 1);
    ck_assert_int_eq(d.exp, 8);
    ck_assert_int_eq(parse("123456.78", &d), 0);
    ck_assert_int_eq(d.mant, 12345678);
    ck_assert_int_eq(d.exp, 2);
    ck_assert_int_eq(parse("42", &d), 0);
    ck_assert_int_eq(d.mant, 42);
    ck_assert_int_eq(d.exp, 0);
}
END_TEST

START_TEST(test_decimal_parse_negative_and_negative_zero)
{
    cq_decimal_t d;
    ck_assert_int_eq(parse("-1.50", &d), 0);
    ck_assert_int_eq(d.mant, -150);
    ck_assert_int_eq(d.exp, 2);
    ck_assert_int_eq(parse("-0.00", &d), 0);
    ck_assert_int_eq(d.mant, 0);
    ck_assert_int_eq(d.exp, 2);
}
END_TEST

START_TEST(test_decimal_parse_leading_zeros_are_not_significant)
{
    cq_decimal_t d;
    /* 22 characters, one significant digit */
    ck_assert_int_eq(parse("0000000000000000000001", &d), 0);
    ck_assert_int_eq(d.mant, 1);
    ck_assert_int_eq(parse("007.50", &d), 0);
    ck_assert_int_eq(d.mant, 750);
    ck_assert_int_eq(d.exp, 2);
}
END_TEST

START_TEST(test_decimal_parse_rejects_everything_outside_the_grammar)
{
    static const char *bad[] = {
        "-", ".", ".5", "5.", "+1", "1e5", "1E5", " 1", "1 ", "1.2.3", "--1", "1,5", "0x10",
        "NaN", "inf", "-inf", "1_000", "\xd9\xa1", "1-", "1.-5", "-.5", "1..2", "\"1\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cq_decimal_t d = {77, 7};
        ck_assert_msg(parse(bad[i], &d) == CQ_EPARSE, "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(d.mant, 77); /* untouched */
        ck_assert_int_eq(d.exp, 7);
    }
}
END_TEST

START_TEST(test_decimal_parse_rejects_embedded_nul)
{
    cq_decimal_t d;
    ck_assert_int_eq(cq_decimal_parse("1\0002", 3, &d), CQ_EPARSE);
    ck_assert_int_eq(cq_decimal_parse("12\0", 3, &d), CQ_EPARSE);
}
END_TEST

START_TEST(test_decimal_parse_empty_is_a_parse_error)
{
    cq_decimal_t d;
    ck_assert_int_eq(cq_decimal_parse("", 0, &d), CQ_EPARSE);
}
END_TEST

START_TEST(test_decimal_parse_null_arguments_are_einval)
{
    cq_decimal_t d;
    ck_assert_int_eq(cq_decimal_parse(NULL, 1, &d), CQ_EINVAL);
    ck_assert_int_eq(cq_decimal_parse("1", 1, NULL), CQ_EINVAL);
}
END_TEST

START_TEST(test_decimal_parse_eighteen_significant_digits_fit_nineteen_do_not)
{
    cq_decimal_t d;
    ck_assert_int_eq(parse("999999999999999999", &d), 0);
    ck_assert_int_eq(d.mant, 999999999999999999LL);
    ck_assert_int_eq(parse("-99999999.9999999999", &d), 0);
    ck_assert_int_eq(d.mant, -999999999999999999LL);
    ck_assert_int_eq(parse("1000000000000000000", &d), CQ_ERANGE);
    ck_assert_int_eq(parse("9223372036854775807", &d), CQ_ERANGE);
    ck_assert_int_eq(parse("99999999999999999999999999", &d), CQ_ERANGE);
}
END_TEST

START_TEST(test_decimal_parse_at_most_eighteen_fraction_digits)
{
    cq_decimal_t d;
    ck_assert_int_eq(parse("0.000000000000000001", &d), 0);
    ck_assert_int_eq(d.exp, 18);
    ck_assert_int_eq(parse("0.0000000000000000001", &d), CQ_ERANGE);
    ck_assert_int_eq(parse("1.0000000000000000000", &d), CQ_ERANGE);
}
END_TEST

START_TEST(test_decimal_parse_longer_than_max_len_is_erange_whatever_the_bytes)
{
    char s[CQ_DECIMAL_MAX_LEN + 2];
    cq_decimal_t d;
    memset(s, '0', sizeof s);
    s[CQ_DECIMAL_MAX_LEN - 1] = '1';
    ck_assert_int_eq(cq_decimal_parse(s, CQ_DECIMAL_MAX_LEN, &d), 0);
    ck_assert_int_eq(d.mant, 1);
    ck_assert_int_eq(cq_decimal_parse(s, CQ_DECIMAL_MAX_LEN + 1, &d), CQ_ERANGE);
    memset(s, 'x', sizeof s);
    ck_assert_int_eq(cq_decimal_parse(s, CQ_DECIMAL_MAX_LEN + 1, &d), CQ_ERANGE);
    ck_assert_int_eq(cq_decimal_parse(s, CQ_DECIMAL_MAX_LEN, &d), CQ_EPARSE);
}
END_TEST

START_TEST(test_decimal_parse_reads_only_len_bytes)
{
    cq_decimal_t d;
    ck_assert_int_eq(cq_decimal_parse("12.345xyz", 4, &d), 0);
    ck_assert_int_eq(d.mant, 123);
    ck_assert_int_eq(d.exp, 1);
    /* an exactly-sized heap copy: ASan catches any read past the end */
    char *s = malloc(5);
    memcpy(s, "98.76", 5);
    ck_assert_int_eq(cq_decimal_parse(s, 5, &d), 0);
    ck_assert_int_eq(d.mant, 9876);
    free(s);
}
END_TEST

START_TEST(test_decimal_parse_a_megabyte_of_digits_is_erange)
{
    size_t n = 1 << 20;
    char *s = malloc(n);
    memset(s, '7', n);
    cq_decimal_t d;
    ck_assert_int_eq(cq_decimal_parse(s, n, &d), CQ_ERANGE);
    free(s);
}
END_TEST

START_TEST(test_decimal_to_units_is_exact)
{
    cq_decimal_t d;
    int64_t u;
    ck_assert_int_eq(parse("61837.63000000", &d), 0);
    ck_assert_int_eq(cq_decimal_to_units(d, 2, &u), 0);
    ck_assert_int_eq(u, 6183763);
    ck_assert_int_eq(cq_decimal_to_units(d, 8, &u), 0);
    ck_assert_int_eq(u, 6183763000000LL);
    ck_assert_int_eq(parse("1.5", &d), 0);
    ck_assert_int_eq(cq_decimal_to_units(d, 8, &u), 0);
    ck_assert_int_eq(u, 150000000);
    ck_assert_int_eq(parse("-0.05", &d), 0);
    ck_assert_int_eq(cq_decimal_to_units(d, 4, &u), 0);
    ck_assert_int_eq(u, -500);
}
END_TEST

START_TEST(test_decimal_to_units_refuses_to_drop_a_nonzero_digit)
{
    cq_decimal_t d;
    int64_t u = 99;
    ck_assert_int_eq(parse("61837.635", &d), 0);
    ck_assert_int_eq(cq_decimal_to_units(d, 2, &u), CQ_ERANGE);
    ck_assert_int_eq(u, 99);
    ck_assert_int_eq(parse("0.00000001", &d), 0);
    ck_assert_int_eq(cq_decimal_to_units(d, 7, &u), CQ_ERANGE);
    ck_assert_int_eq(cq_decimal_to_units(d, 0, &u), CQ_ERANGE);
}
END_TEST

START_TEST(test_decimal_to_units_overflow_is_erange)
{
    cq_decimal_t d;
    int64_t u;
    ck_assert_int_eq(parse("999999999999999999", &d), 0);
    ck_assert_int_eq(cq_decimal_to_units(d, 1, &u), CQ_ERANGE);
    ck_assert_int_eq(parse("-92233720368.54775808", &d), CQ_ERANGE); /* 19 digits */
    ck_assert_int_eq(parse("-9223372036.854775807", &d), CQ_ERANGE);
    ck_assert_int_eq(parse("-922337203.685477580", &d), 0);
    ck_assert_int_eq(cq_decimal_to_units(d, 10, &u), 0);
    ck_assert_int_eq(u, -9223372036854775800LL);
    ck_assert_int_eq(cq_decimal_to_units(d, 11, &u), CQ_ERANGE);
}
END_TEST

START_TEST(test_decimal_to_units_bad_arguments_are_einval)
{
    cq_decimal_t d = {1, 0};
    int64_t u;
    ck_assert_int_eq(cq_decimal_to_units(d, -1, &u), CQ_EINVAL);
    ck_assert_int_eq(cq_decimal_to_units(d, 19, &u), CQ_EINVAL);
    ck_assert_int_eq(cq_decimal_to_units(d, 2, NULL), CQ_EINVAL);
    d.exp = 19;
    ck_assert_int_eq(cq_decimal_to_units(d, 2, &u), CQ_EINVAL);
    d.exp = -1;
    ck_assert_int_eq(cq_decimal_to_units(d, 2, &u), CQ_EINVAL);
}
END_TEST

/* Check's ck_assert_* costs a system call even when it passes: the loops
 * below only call ck_abort_msg on a failure. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

static const int64_t p10[19] = {1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL,
                                 10000000LL, 100000000LL, 1000000000LL, 10000000000LL,
                                 100000000000LL, 1000000000000LL, 10000000000000LL,
                                 100000000000000LL, 1000000000000000LL, 10000000000000000LL,
                                 100000000000000000LL, 1000000000000000000LL};

/* mant at exp, converted to scale = exp - k: the answer of '/' and '%'. */
static void check_drop(int64_t mant, int32_t exp, int k)
{
    cq_decimal_t d = {mant, exp};
    int64_t u = -7;
    int rc = cq_decimal_to_units(d, exp - k, &u);
    if (mant % p10[k] == 0)
        CHECK(rc == 0 && u == mant / p10[k], "%lld at exp %d, scale %d: rc %d, %lld", (long long)mant,
              exp, exp - k, rc, (long long)u);
    else
        CHECK(rc == CQ_ERANGE && u == -7, "%lld at exp %d, scale %d: rc %d, %lld", (long long)mant,
              exp, exp - k, rc, (long long)u);
}

/* The common case (more fraction digits than the scale) divides by 10^k
 * without a division instruction: every k, on multiples of 10^k up to
 * 2^63 - 1 (where an inexact reciprocal would be off by one) and on their
 * neighbours. */
START_TEST(test_decimal_to_units_drops_zeros_exactly_for_every_power_of_ten)
{
    cq_rng_t rng = {0x70E5ULL};
    for (int k = 1; k <= 18; k++) {
        int64_t top = INT64_MAX / p10[k]; /* largest multiplier */
        int64_t ms[] = {0, 1, 2, 9, 10, 11, top / 2, top - 1, top};
        for (int exp = k; exp <= 18; exp++) {
            for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
                if (ms[i] > top) /* 10 * 10^18 does not fit */
                    continue;
                int64_t n = ms[i] * p10[k];
                check_drop(n, exp, k);
                if (n < INT64_MAX)
                    check_drop(n + 1, exp, k);
                if (n > 0)
                    check_drop(n - 1, exp, k);
                if (INT64_MAX - n >= p10[k] - 1)
                    check_drop(n + p10[k] - 1, exp, k);
            }
            check_drop(INT64_MAX, exp, k);
        }
        for (int i = 0; i < 20000; i++) {
            uint64_t r = cq_rng_next(&rng);
            /* multipliers of every magnitude, not only near top */
            int64_t m = (int64_t)((r >> 1) % (uint64_t)(top + 1) >> cq_rng_below(&rng, 60));
            int exp = k + (int)cq_rng_below(&rng, (unsigned)(19 - k));
            check_drop(m * p10[k], exp, k);
            int64_t off = (int64_t)(cq_rng_next(&rng) % (uint64_t)p10[k]);
            if (INT64_MAX - m * p10[k] >= off)
                check_drop(m * p10[k] + off, exp, k);
        }
    }
}
END_TEST

START_TEST(test_decimal_to_units_same_fewer_and_negative_digits_keep_their_answers)
{
    cq_decimal_t d = {6183763, 2};
    int64_t u;
    ck_assert_int_eq(cq_decimal_to_units(d, 2, &u), 0); /* as many digits as the scale */
    ck_assert_int_eq(u, 6183763);
    ck_assert_int_eq(cq_decimal_to_units(d, 5, &u), 0); /* fewer: multiplied */
    ck_assert_int_eq(u, 6183763000);
    d = (cq_decimal_t){-6183763000000LL, 8}; /* negative: by '/' and '%' */
    ck_assert_int_eq(cq_decimal_to_units(d, 2, &u), 0);
    ck_assert_int_eq(u, -6183763);
    d = (cq_decimal_t){-6183763000001LL, 8};
    ck_assert_int_eq(cq_decimal_to_units(d, 2, &u), CQ_ERANGE);
    d = (cq_decimal_t){INT64_MIN, 18};
    ck_assert_int_eq(cq_decimal_to_units(d, 0, &u), CQ_ERANGE);
    d = (cq_decimal_t){0, 18};
    ck_assert_int_eq(cq_decimal_to_units(d, 0, &u), 0);
    ck_assert_int_eq(u, 0);
    d = (cq_decimal_t){1, 19}; /* out of range: EINVAL before any quick answer */
    ck_assert_int_eq(cq_decimal_to_units(d, 2, &u), CQ_EINVAL);
    d = (cq_decimal_t){100, 8};
    ck_assert_int_eq(cq_decimal_to_units(d, -1, &u), CQ_EINVAL);
}
END_TEST

/* parse -> units at the string's own precision -> format gives it back. */
static void round_trip(const char *s, int32_t scale)
{
    cq_decimal_t d;
    int64_t u;
    char buf[64];
    size_t n = 0;
    ck_assert_int_eq(parse(s, &d), 0);
    ck_assert_int_eq(cq_decimal_to_units(d, scale, &u), 0);
    ck_assert_int_eq(cq_decimal_format(u, scale, buf, sizeof buf, &n), 0);
    ck_assert_str_eq(buf, s);
    ck_assert_uint_eq(n, strlen(s));
}

START_TEST(test_decimal_round_trips_tiny_and_large_values)
{
    round_trip("0.00000001", 8);
    round_trip("123456.78", 2);
    round_trip("0.00000000", 8);
    round_trip("-0.05", 2);
    round_trip("7", 0);
    round_trip("999999999999999999", 0);
    round_trip("0.999999999999999999", 18);
}
END_TEST

START_TEST(test_decimal_format_pads_to_the_scale)
{
    char buf[64];
    ck_assert_int_eq(cq_decimal_format(0, 8, buf, sizeof buf, NULL), 0);
    ck_assert_str_eq(buf, "0.00000000");
    ck_assert_int_eq(cq_decimal_format(15, 1, buf, sizeof buf, NULL), 0);
    ck_assert_str_eq(buf, "1.5");
    ck_assert_int_eq(cq_decimal_format(-1, 3, buf, sizeof buf, NULL), 0);
    ck_assert_str_eq(buf, "-0.001");
}
END_TEST

START_TEST(test_decimal_format_int64_extremes)
{
    char buf[64];
    ck_assert_int_eq(cq_decimal_format(INT64_MIN, 0, buf, sizeof buf, NULL), 0);
    ck_assert_str_eq(buf, "-9223372036854775808");
    ck_assert_int_eq(cq_decimal_format(INT64_MIN, 18, buf, sizeof buf, NULL), 0);
    ck_assert_str_eq(buf, "-9.223372036854775808");
    ck_assert_int_eq(cq_decimal_format(INT64_MAX, 18, buf, sizeof buf, NULL), 0);
    ck_assert_str_eq(buf, "9.223372036854775807");
    ck_assert_int_eq(cq_decimal_format(-1, 18, buf, sizeof buf, NULL), 0);
    ck_assert_str_eq(buf, "-0.000000000000000001");
}
END_TEST

START_TEST(test_decimal_format_too_small_buffer_is_etoolong_and_empty)
{
    char buf[11];
    memset(buf, 'z', sizeof buf);
    /* "0.00000001" needs 10 bytes + NUL */
    ck_assert_int_eq(cq_decimal_format(1, 8, buf, 10, NULL), CQ_ETOOLONG);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(cq_decimal_format(1, 8, buf, 11, NULL), 0);
    ck_assert_str_eq(buf, "0.00000001");
    ck_assert_int_eq(cq_decimal_format(5, 0, buf, 1, NULL), CQ_ETOOLONG);
}
END_TEST

START_TEST(test_decimal_format_bad_arguments_are_einval)
{
    char buf[8];
    ck_assert_int_eq(cq_decimal_format(1, 0, NULL, 8, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_decimal_format(1, 0, buf, 0, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_decimal_format(1, -1, buf, sizeof buf, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_decimal_format(1, 19, buf, sizeof buf, NULL), CQ_EINVAL);
}
END_TEST

START_TEST(test_decimal_random_units_round_trip_through_text)
{
    cq_rng_t rng = {0x5eed1234abcdULL};
    for (int i = 0; i < 20000; i++) {
        int32_t scale = (int32_t)cq_rng_below(&rng, 19);
        int64_t units = (int64_t)(cq_rng_next(&rng) % 1000000000000000000ULL);
        units >>= cq_rng_below(&rng, 60); /* all magnitudes */
        if (cq_rng_below(&rng, 2))
            units = -units;
        char buf[64];
        cq_decimal_t d;
        int64_t back;
        ck_assert_int_eq(cq_decimal_format(units, scale, buf, sizeof buf, NULL), 0);
        ck_assert_int_eq(parse(buf, &d), 0);
        ck_assert_int_eq(d.exp, scale);
        ck_assert_int_eq(cq_decimal_to_units(d, scale, &back), 0);
        ck_assert_int_eq(back, units);
    }
}
END_TEST

START_TEST(test_decimal_to_double_is_the_nearest_double)
{
    static const char *s[] = {"0.1", "61837.63000000", "0.00000001", "4149.74", "-2.5", "0"};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        cq_decimal_t d;
        ck_assert_int_eq(parse(s[i], &d), 0);
        ck_assert_msg(cq_decimal_to_double(d) == strtod(s[i], NULL), "%s", s[i]);
    }
    cq_decimal_t bad = {1, 40};
    ck_assert(cq_decimal_to_double(bad) == 0.0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("decimal");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_decimal_parse_keeps_wire_digits_exactly);
    tcase_add_test(tc, test_decimal_parse_negative_and_negative_zero);
    tcase_add_test(tc, test_decimal_parse_leading_zeros_are_not_significant);
    tcase_add_test(tc, test_decimal_parse_rejects_everything_outside_the_grammar);
    tcase_add_test(tc, test_decimal_parse_rejects_embedded_nul);
    tcase_add_test(tc, test_decimal_parse_empty_is_a_parse_error);
    tcase_add_test(tc, test_decimal_parse_null_arguments_are_einval);
    tcase_add_test(tc, test_decimal_parse_eighteen_significant_digits_fit_nineteen_do_not);
    tcase_add_test(tc, test_decimal_parse_at_most_eighteen_fraction_digits);
    tcase_add_test(tc, test_decimal_parse_longer_than_max_len_is_erange_whatever_the_bytes);
    tcase_add_test(tc, test_decimal_parse_reads_only_len_bytes);
    tcase_add_test(tc, test_decimal_parse_a_megabyte_of_digits_is_erange);
    tcase_add_test(tc, test_decimal_to_units_is_exact);
    tcase_add_test(tc, test_decimal_to_units_refuses_to_drop_a_nonzero_digit);
    tcase_add_test(tc, test_decimal_to_units_overflow_is_erange);
    tcase_add_test(tc, test_decimal_to_units_bad_arguments_are_einval);
    tcase_add_test(tc, test_decimal_to_units_drops_zeros_exactly_for_every_power_of_ten);
    tcase_add_test(tc, test_decimal_to_units_same_fewer_and_negative_digits_keep_their_answers);
    tcase_add_test(tc, test_decimal_round_trips_tiny_and_large_values);
    tcase_add_test(tc, test_decimal_format_pads_to_the_scale);
    tcase_add_test(tc, test_decimal_format_int64_extremes);
    tcase_add_test(tc, test_decimal_format_too_small_buffer_is_etoolong_and_empty);
    tcase_add_test(tc, test_decimal_format_bad_arguments_are_einval);
    tcase_add_test(tc, test_decimal_random_units_round_trip_through_text);
    tcase_add_test(tc, test_decimal_to_double_is_the_nearest_double);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cq_test_run(suite());
}
