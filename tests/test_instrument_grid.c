/*
 * test_instrument_grid.c - wire decimals to an instrument's ticks and
 * steps: exact or refused, by the inline common case (a tick or step of one
 * unit of its precision, more fraction digits on the wire) and by the
 * general one alike.
 */
#include <stdint.h>
#include <string.h>

#include "cquant/error.h"
#include "cquant/instrument.h"
#include "support/cq_test.h"

/* Check's ck_assert_* costs a system call even when it passes. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

static cq_decimal_t dec(const char *s)
{
    cq_decimal_t d;
    ck_assert_int_eq(cq_decimal_parse(s, strlen(s), &d), 0);
    return d;
}

static cq_instrument_t spec_of(const char *tick, const char *step)
{
    cq_instrument_t s;
    ck_assert_int_eq(cq_instrument_init(&s, "BTCUSDT", "BINANCE", "BTC", "USDT", tick, step), 0);
    return s;
}

START_TEST(test_instrument_wire_price_and_quantity_convert_exactly)
{
    cq_instrument_t s = spec_of("0.01000000", "0.00001000");
    int64_t v;
    ck_assert_int_eq(cq_instrument_ticks(&s, dec("61837.63000000"), &v), 0);
    ck_assert_int_eq(v, 6183763);
    ck_assert_int_eq(cq_instrument_steps(&s, dec("0.00100000"), &v), 0);
    ck_assert_int_eq(v, 100);
    ck_assert_int_eq(cq_instrument_steps(&s, dec("0.00000000"), &v), 0);
    ck_assert_int_eq(v, 0);
}
END_TEST

START_TEST(test_instrument_off_grid_value_is_erange_and_output_untouched)
{
    cq_instrument_t s = spec_of("0.01", "0.00001");
    int64_t v = 42;
    ck_assert_int_eq(cq_instrument_ticks(&s, dec("61837.63100000"), &v), CQ_ERANGE);
    ck_assert_int_eq(cq_instrument_ticks(&s, dec("61837.635"), &v), CQ_ERANGE);
    ck_assert_int_eq(cq_instrument_steps(&s, dec("0.00000100"), &v), CQ_ERANGE);
    ck_assert_int_eq(v, 42);
}
END_TEST

START_TEST(test_instrument_tick_of_several_units_counts_in_those_units)
{
    cq_instrument_t s = spec_of("0.05", "0.5");
    int64_t v = 42;
    ck_assert_int_eq(cq_instrument_ticks(&s, dec("1.10000000"), &v), 0);
    ck_assert_int_eq(v, 22);
    ck_assert_int_eq(cq_instrument_steps(&s, dec("2.50000000"), &v), 0);
    ck_assert_int_eq(v, 5);
    v = 42;
    ck_assert_int_eq(cq_instrument_ticks(&s, dec("1.12000000"), &v), CQ_ERANGE);
    ck_assert_int_eq(cq_instrument_steps(&s, dec("2.6"), &v), CQ_ERANGE);
    ck_assert_int_eq(v, 42);
}
END_TEST

START_TEST(test_instrument_fewer_wire_digits_than_the_precision_scale_up)
{
    cq_instrument_t s = spec_of("0.01", "0.00000001");
    int64_t v;
    ck_assert_int_eq(cq_instrument_ticks(&s, dec("61837"), &v), 0);
    ck_assert_int_eq(v, 6183700);
    ck_assert_int_eq(cq_instrument_ticks(&s, dec("61837.63"), &v), 0);
    ck_assert_int_eq(v, 6183763);
    ck_assert_int_eq(cq_instrument_steps(&s, dec("1.5"), &v), 0);
    ck_assert_int_eq(v, 150000000);
}
END_TEST

START_TEST(test_instrument_as_many_wire_digits_as_the_precision_convert_as_they_are)
{
    cq_instrument_t s = spec_of("0.01", "0.00000001");
    int64_t v;
    ck_assert_int_eq(cq_instrument_ticks(&s, dec("61837.63"), &v), 0);
    ck_assert_int_eq(v, 6183763);
    ck_assert_int_eq(cq_instrument_steps(&s, dec("0.00100000"), &v), 0);
    ck_assert_int_eq(v, 100000);
    cq_decimal_t big = {INT64_MAX, 8}; /* hand-made: the largest mantissa */
    ck_assert_int_eq(cq_instrument_steps(&s, big, &v), 0);
    ck_assert_int_eq(v, INT64_MAX);
}
END_TEST

START_TEST(test_instrument_negative_value_is_einval)
{
    cq_instrument_t s = spec_of("0.01", "0.00000001");
    int64_t v = 42;
    ck_assert_int_eq(cq_instrument_ticks(&s, dec("-1.00000000"), &v), CQ_EINVAL);
    ck_assert_int_eq(cq_instrument_steps(&s, dec("-0.00000001"), &v), CQ_EINVAL);
    ck_assert_int_eq(v, 42);
}
END_TEST

START_TEST(test_instrument_bad_arguments_are_einval)
{
    cq_instrument_t s = spec_of("0.01", "0.00000001");
    int64_t v = 42;
    ck_assert_int_eq(cq_instrument_ticks(NULL, dec("1.00000000"), &v), CQ_EINVAL);
    ck_assert_int_eq(cq_instrument_ticks(&s, dec("1.00000000"), NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_instrument_steps(NULL, dec("1.00000000"), &v), CQ_EINVAL);
    ck_assert_int_eq(cq_instrument_steps(&s, dec("1.00000000"), NULL), CQ_EINVAL);
    cq_decimal_t bad = {100, 19}; /* exponent out of range, hand-made */
    ck_assert_int_eq(cq_instrument_ticks(&s, bad, &v), CQ_EINVAL);
    bad.exp = -1;
    ck_assert_int_eq(cq_instrument_steps(&s, bad, &v), CQ_EINVAL);
    ck_assert_int_eq(v, 42);
}
END_TEST

static const int64_t p10[19] = {1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL,
                                 10000000LL, 100000000LL, 1000000000LL, 10000000000LL,
                                 100000000000LL, 1000000000000LL, 10000000000000LL,
                                 100000000000000LL, 1000000000000000LL, 10000000000000000LL,
                                 100000000000000000LL, 1000000000000000000LL};

/* The answer by plain '/' and '%': d in units of unit * 10^-precision. */
static int reference(cq_decimal_t d, int32_t precision, int64_t unit, int64_t *out)
{
    if (d.mant < 0)
        return CQ_EINVAL;
    int64_t v;
    if (d.exp >= precision) {
        if (d.mant % p10[d.exp - precision] != 0)
            return CQ_ERANGE;
        v = d.mant / p10[d.exp - precision];
    } else if (__builtin_mul_overflow(d.mant, p10[precision - d.exp], &v)) {
        return CQ_ERANGE;
    }
    if (v % unit != 0)
        return CQ_ERANGE;
    *out = v / unit;
    return 0;
}

START_TEST(test_instrument_random_values_match_plain_division)
{
    static const char *const incs[] = {"1", "0.01", "0.05", "0.00000001", "0.00001000", "0.5",
                                       "25", "0.000000000000000001", "0.00000025"};
    cq_rng_t rng = {0x6121DULL};
    for (size_t i = 0; i < sizeof incs / sizeof incs[0]; i++) {
        cq_instrument_t s = spec_of(incs[i], incs[i]);
        for (int n = 0; n < 20000; n++) {
            /* mantissas on and off the grid, of every magnitude */
            int exp = (int)cq_rng_below(&rng, 19);
            int64_t mant = (int64_t)(cq_rng_next(&rng) >> (1 + cq_rng_below(&rng, 63)));
            if (cq_rng_below(&rng, 2)) {
                int64_t g = p10[exp > s.price_precision ? exp - s.price_precision : 0];
                if (g <= INT64_MAX / s.tick_units)
                    g *= s.tick_units;
                mant -= mant % g;
            }
            if (cq_rng_below(&rng, 16) == 0)
                mant = -mant;
            cq_decimal_t d = {mant, exp};
            int64_t got = -7, want = -7;
            int rc = cq_instrument_ticks(&s, d, &got);
            int rw = reference(d, s.price_precision, s.tick_units, &want);
            CHECK(rc == rw && got == want, "%s: %lld at exp %d: %d/%lld, wanted %d/%lld", incs[i],
                  (long long)mant, exp, rc, (long long)got, rw, (long long)want);
            got = want = -7;
            rc = cq_instrument_steps(&s, d, &got);
            rw = reference(d, s.size_precision, s.step_units, &want);
            CHECK(rc == rw && got == want, "%s steps: %lld at exp %d", incs[i], (long long)mant, exp);
        }
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("instrument_grid");
    TCase *tc = tcase_create("grid");
    tcase_add_test(tc, test_instrument_wire_price_and_quantity_convert_exactly);
    tcase_add_test(tc, test_instrument_off_grid_value_is_erange_and_output_untouched);
    tcase_add_test(tc, test_instrument_tick_of_several_units_counts_in_those_units);
    tcase_add_test(tc, test_instrument_fewer_wire_digits_than_the_precision_scale_up);
    tcase_add_test(tc, test_instrument_as_many_wire_digits_as_the_precision_convert_as_they_are);
    tcase_add_test(tc, test_instrument_negative_value_is_einval);
    tcase_add_test(tc, test_instrument_bad_arguments_are_einval);
    tcase_add_test(tc, test_instrument_random_values_match_plain_division);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cq_test_run(suite());
}
