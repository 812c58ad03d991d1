/*
 * test_binance_md_portable.c - the fast Binance decoder's portable level
 * path, which x86-64 builds never run: this file compiles
 * runtime/venue/binance_md.c a second time with BN_SSE2 0 (8-byte words
 * instead of SSE2) under another name, and checks that it answers exactly
 * like the library's build (code, reason, every field and level) on every
 * recorded frame and on changed frames.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cquant/binance_md.h"

int cq_bn_decode_portable(const char *buf, size_t len, cq_bn_md_t *out, const cq_bn_levels_t *lv,
                          const char **why);
const char *cq_bn_kind_name_portable(int32_t kind);

/* Before check.h, which defines a macro "fail". */
#define BN_SSE2 0
#define cq_bn_decode cq_bn_decode_portable
#define cq_bn_kind_name cq_bn_kind_name_portable
#include "venue/binance_md.c"
#undef cq_bn_decode
#undef cq_bn_kind_name

#include "bn_md_diff.h"
#include "support/cq_test.h"

enum { CAP = 5000 };
static cq_bn_level_t g_b1[CAP], g_a1[CAP], g_b2[CAP], g_a2[CAP];

/* 1 if both builds give the same answer on buf; else 0 with msg. */
static int same_answer(const char *buf, size_t len, uint32_t cap, int *rc, char *msg, size_t mcap)
{
    cq_bn_levels_t l1 = {g_b1, cap, g_a1, cap}, l2 = {g_b2, cap, g_a2, cap};
    cq_bn_md_t o1, o2;
    const char *w1, *w2;
    char *b = malloc(len ? len : 1); /* exactly sized: ASan sees over-reads */
    ck_assert_ptr_nonnull(b);
    memcpy(b, buf, len);
    int r1 = cq_bn_decode(b, len, &o1, &l1, &w1);
    int r2 = cq_bn_decode_portable(b, len, &o2, &l2, &w2);
    free(b);
    *rc = r1;
    const char *f;
    if (r1 != r2 || (w1 == NULL) != (w2 == NULL) || (w1 && strcmp(w1, w2) != 0)) {
        snprintf(msg, mcap, "library %d (%s) vs portable %d (%s)", r1, w1 ? w1 : "-", r2,
                 w2 ? w2 : "-");
        return 0;
    }
    if ((f = bn_md_differs(&o1, &o2)) != NULL) {
        snprintf(msg, mcap, "field %s differs", f);
        return 0;
    }
    if (r1 == 0 && (!bn_levels_equal(g_b1, g_b2, o1.n_bids) || !bn_levels_equal(g_a1, g_a2, o1.n_asks))) {
        snprintf(msg, mcap, "levels differ");
        return 0;
    }
    return 1;
}

static void expect_same(const char *buf, size_t len, uint32_t cap, int *rc)
{
    char msg[256];
    if (!same_answer(buf, len, cap, rc, msg, sizeof msg))
        ck_abort_msg("%s for %.*s", msg, (int)(len < 400 ? len : 400), buf);
}

/* Frames of a recording: hftbacktest "<ns> <json>" and cryptofeed
 * "<s>: <json>" lines; returns the number compared, -1 if the data folder
 * is absent. */
static long compare_recording(const char *rel)
{
    char path_rel[256];
    snprintf(path_rel, sizeof path_rel, "binance_spot/market_stream/%s", rel);
    const char *path = cq_test_data_path(path_rel);
    if (!path)
        return -1;
    gzFile f = gzopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char line[1 << 20];
    long n = 0, lineno = 0;
    while (gzgets(f, line, sizeof line)) {
        size_t len = strlen(line);
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (!len || !isdigit((unsigned char)line[0]))
            continue;
        const char *sp = memchr(line, ' ', len);
        if (!sp)
            continue;
        const char *fr = sp + 1;
        size_t flen = len - (size_t)(fr - line);
        int rc;
        char msg[256];
        if (!same_answer(fr, flen, CAP, &rc, msg, sizeof msg))
            ck_abort_msg("%s:%ld: %s", rel, lineno, msg);
        ck_assert_msg(rc == 0, "%s:%ld: %d", rel, lineno, rc);
        n++;
    }
    gzclose(f);
    return n;
}

START_TEST(test_bn_portable_build_answers_like_the_library_on_every_recorded_frame)
{
    static const char *const files[] = {
        "hftbacktest_spot_btcusdt_20240808.gz",
        "hftbacktest_spot_ethusdt_20240808.gz",
        "cryptofeed_binance_20210814_ws.txt",
        "cryptofeed_binance_20210405_interleaved_head.txt",
    };
    long total = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        long n = compare_recording(files[i]);
        if (n < 0) {
            cq_test_skip("test_bn_portable_build_answers_like_the_library_on_every_recorded_frame",
                         "recorded data folder absent");
            return;
        }
        total += n;
    }
    ck_assert_int_gt(total, 80000);
}
END_TEST

static const char DEPTH[] =
    "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1723161255308,"
    "\"s\":\"BTCUSDT\",\"U\":50093239203,\"u\":50093239207,\"b\":[[\"55653.87000000\","
    "\"0.00000000\"]],\"a\":[[\"61838.04000000\",\"0.32332000\"],[\"61844.30000000\","
    "\"0.40163000\"],[\"61862.50000000\",\"0.05019000\"],[\"61862.51000000\",\"0.00000000\"]]}}";
static const char SNAP[] = "{\"lastUpdateId\":1027024,\"bids\":[[\"4.00000000\",\"431.00000000\"],"
                           "[\"4.00000000\",\"431.00000000\"],[\"4.00000000\",\"431.00000000\"]],"
                           "\"asks\":[[\"4.00000200\",\"12.00000000\"],[\"4.00000300\",\"1.5\"]]}";

START_TEST(test_bn_portable_build_answers_like_the_library_on_one_byte_changes)
{
    static const char bytes[] = "[]\",:\\-019.e \x00\x80";
    const char *const frames[] = {DEPTH, SNAP};
    char f[1024];
    int rc;
    long accepted = 0;
    for (size_t e = 0; e < sizeof frames / sizeof frames[0]; e++) {
        const char *t = frames[e];
        size_t n = strlen(t);
        for (size_t at = 0; at < n; at++) {
            for (size_t c = 0; c < sizeof bytes - 1; c++) {
                memcpy(f, t, n);
                f[at] = bytes[c];
                for (uint32_t cap = 2; cap <= 8; cap += 6)
                    expect_same(f, n, cap, &rc);
                accepted += rc == 0;
            }
            memcpy(f, t, at);
            memcpy(f + at, t + at + 1, n - at - 1);
            expect_same(f, n - 1, CAP, &rc);
        }
    }
    ck_assert_int_gt(accepted, 500);
}
END_TEST

/* Integer widths changing from level to level (each column's width is
 * expected to be the level before's) and decimals of other shapes. */
START_TEST(test_bn_portable_build_answers_like_the_library_on_every_level_width)
{
    cq_rng_t rng = {0xAB1E5EEDULL};
    static char f[8192];
    int rc;
    for (int round = 0; round < 300; round++) {
        int levels = 1 + (int)cq_rng_below(&rng, 40);
        int pos = snprintf(f, sizeof f, "{\"lastUpdateId\":1,\"asks\":[],\"bids\":[");
        for (int i = 0; i < levels; i++) {
            f[pos++] = i ? ',' : '[';
            if (i)
                f[pos++] = '[';
            for (int k = 0; k < 2; k++) {
                int wi = (int)cq_rng_below(&rng, 3) ? 1 + round % 7 : 1 + (int)cq_rng_below(&rng, 9);
                int wf = (int)cq_rng_below(&rng, 8) ? 8 : 7 + (int)cq_rng_below(&rng, 3);
                f[pos++] = '"';
                for (int j = 0; j < wi; j++)
                    f[pos++] = (char)('0' + cq_rng_below(&rng, 10));
                f[pos++] = '.';
                for (int j = 0; j < wf; j++)
                    f[pos++] = (char)('0' + cq_rng_below(&rng, 10));
                f[pos++] = '"';
                f[pos++] = k ? ']' : ',';
            }
        }
        pos += snprintf(f + pos, sizeof f - (size_t)pos, "]}");
        expect_same(f, (size_t)pos, CAP, &rc);
        ck_assert_int_eq(rc, 0);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("binance_md_portable");
    TCase *tc = tcase_create("portable");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_bn_portable_build_answers_like_the_library_on_every_recorded_frame);
    tcase_add_test(tc, test_bn_portable_build_answers_like_the_library_on_one_byte_changes);
    tcase_add_test(tc, test_bn_portable_build_answers_like_the_library_on_every_level_width);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cq_test_run(suite());
}
