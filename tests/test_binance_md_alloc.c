/*
 * test_binance_md_alloc.c - the fast Binance decoder never allocates.
 *
 * This executable replaces malloc & co. with counting wrappers around
 * glibc's own, so that any allocation on the decode path shows. It is its
 * own test program because the replacement is process-wide. Sanitizer
 * builds own malloc themselves, so there the test says it is skipped.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cquant/binance_md.h"
#include "support/cq_test.h"

#if !defined(CQ_SANITIZE) && defined(__GLIBC__)
#define COUNTING 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static long g_allocs;

void *malloc(size_t n)
{
    g_allocs++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    g_allocs++;
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    g_allocs++;
    return __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}

static const char TRADE[] =
    "{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1723161255343,\"s\":\"BTCUSDT\","
    "\"t\":3735683259,\"p\":\"61837.63000000\",\"q\":\"0.02000000\",\"T\":1723161255342,"
    "\"m\":true,\"M\":true}}";

static cq_bn_level_t g_bids[5000], g_asks[5000];
#endif

START_TEST(test_bn_counting_allocator_sees_the_reference_allocate)
{
#ifdef COUNTING
    cq_bn_md_t o;
    long before = g_allocs;
    ck_assert_int_eq(cq_bn_decode_cjson(TRADE, strlen(TRADE), &o, NULL, NULL), 0);
    ck_assert_int_gt(g_allocs, before); /* the counter works */
#else
    cq_test_skip(__func__, "sanitizer build owns malloc");
#endif
}
END_TEST

START_TEST(test_bn_fast_decoder_allocates_nothing_on_any_recorded_frame)
{
#ifdef COUNTING
    const char *path = cq_test_data_path("binance_spot/market_stream/hftbacktest_spot_btcusdt_20240808_head.txt");
    if (!path) {
        cq_test_skip(__func__, "recorded data folder absent");
        return;
    }
    gzFile f = gzopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t cap = 1 << 17;
    char *line = malloc(cap);
    cq_bn_levels_t lv = {g_bids, 5000, g_asks, 5000};
    long frames = 0, during = 0, bad = 0;
    while (gzgets(f, line, (int)cap)) {
        size_t n = strlen(line);
        while (n && line[n - 1] == '\n')
            n--;
        char *sp = memchr(line, ' ', n);
        ck_assert_ptr_nonnull(sp);
        cq_bn_md_t o;
        long before = g_allocs;
        int rc = cq_bn_decode(sp + 1, n - (size_t)(sp + 1 - line), &o, &lv, NULL);
        during += g_allocs - before;
        bad += rc != 0;
        frames++;
    }
    gzclose(f);
    free(line);
    ck_assert_int_eq(frames, 7426);
    ck_assert_int_eq(bad, 0);
    ck_assert_int_eq(during, 0);
#else
    cq_test_skip(__func__, "sanitizer build owns malloc");
#endif
}
END_TEST

START_TEST(test_bn_fast_decoder_allocates_nothing_on_bad_input)
{
#ifdef COUNTING
    static const char *bad[] = {"", "{", "{\"e\":\"nope\"}", "{\"stream\":1}", "[[[[[[[[[[",
                                "{\"u\":1,\"s\":\"\\u0000\"}"};
    cq_bn_md_t o;
    int rc[sizeof bad / sizeof bad[0]];
    long before = g_allocs; /* Check's own assertions allocate: none in here */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        rc[i] = cq_bn_decode(bad[i], strlen(bad[i]), &o, NULL, NULL);
    long during = g_allocs - before;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_ne(rc[i], 0);
    ck_assert_int_eq(during, 0);
#else
    cq_test_skip(__func__, "sanitizer build owns malloc");
#endif
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("binance_md_alloc");
    TCase *tc = tcase_create("alloc");
    tcase_add_test(tc, test_bn_counting_allocator_sees_the_reference_allocate);
    tcase_add_test(tc, test_bn_fast_decoder_allocates_nothing_on_any_recorded_frame);
    tcase_add_test(tc, test_bn_fast_decoder_allocates_nothing_on_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cq_test_run(suite());
}
