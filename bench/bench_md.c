/*
 * bench_md.c - decoding recorded Binance Spot frames: the fast scanner and
 * the cJSON reference side by side, in one run.
 *
 *   md.decode.depth20        fast decoder, depthUpdate frames of 18..22
 *                            levels (both sides), as recorded
 *   md.decode.depth20.cjson  the cJSON reference on the same frames
 *   md.decode.depth.all      fast decoder, every depthUpdate frame
 *   md.decode.trade          fast decoder, trade frames (baseline: cJSON)
 *   md.decode.bookticker     fast decoder, bookTicker frames (baseline: cJSON)
 *
 * Frames come from hftbacktest_spot_btcusdt_20240808.gz under $CQ_TEST_DATA
 * (default: the build's CQ_TEST_DATA_DEFAULT); each frame sits in its own
 * buffer and they are decoded round-robin, so the numbers include the cache
 * misses of walking ~MBs of input, as a live feed would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bench.h"
#include "cquant/binance_md.h"

#ifndef CQ_TEST_DATA_DEFAULT
#define CQ_TEST_DATA_DEFAULT "../shared/data"
#endif

enum { MAX_LEVELS = 5000 };

typedef struct {
    char **frame;
    size_t *len;
    size_t n, cap;
    size_t bytes, levels;
} set_t;

typedef struct {
    const set_t *set;
    int (*decode)(const char *, size_t, cq_bn_md_t *, const cq_bn_levels_t *, const char **);
    cq_bn_level_t *bids, *asks;
    long failures;
} ctx_t;

static void set_add(set_t *s, const char *f, size_t len, size_t levels)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->frame = realloc(s->frame, s->cap * sizeof *s->frame);
        s->len = realloc(s->len, s->cap * sizeof *s->len);
        if (!s->frame || !s->len) {
            fprintf(stderr, "bench_md: out of memory\n");
            exit(1);
        }
    }
    s->frame[s->n] = malloc(len);
    memcpy(s->frame[s->n], f, len);
    s->len[s->n++] = len;
    s->bytes += len;
    s->levels += levels;
}

static void set_free(set_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->frame[i]);
    free(s->frame);
    free(s->len);
}

static void run(void *arg, uint64_t n)
{
    ctx_t *c = arg;
    cq_bn_levels_t lv = {c->bids, MAX_LEVELS, c->asks, MAX_LEVELS};
    cq_bn_md_t out;
    size_t k = 0, nf = c->set->n;
    for (uint64_t i = 0; i < n; i++) {
        if (c->decode(c->set->frame[k], c->set->len[k], &out, &lv, NULL) != 0)
            c->failures++;
        CQ_BENCH_USE(out.last_update_id);
        if (++k == nf)
            k = 0;
    }
}

static double measure(const set_t *s, int cjson, uint64_t n, cq_bn_level_t *b, cq_bn_level_t *a)
{
    ctx_t c = {s, cjson ? cq_bn_decode_cjson : cq_bn_decode, b, a, 0};
    double ns = cq_bench_run(run, &c, n);
    if (c.failures) {
        fprintf(stderr, "bench_md: %ld decode failures\n", c.failures);
        exit(1);
    }
    return ns;
}

int main(void)
{
    const char *dir = getenv("CQ_TEST_DATA");
    if (!dir || !*dir)
        dir = CQ_TEST_DATA_DEFAULT;
    char path[4096];
    snprintf(path, sizeof path, "%s/binance_spot/market_stream/hftbacktest_spot_btcusdt_20240808.gz",
             dir);
    gzFile f = gzopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_md: %s not found; set CQ_TEST_DATA. Skipping.\n", path);
        return 0;
    }
    set_t depth20 = {0}, depth_all = {0}, trade = {0}, bookt = {0};
    size_t cap = 1 << 17;
    char *line = malloc(cap);
    cq_bn_level_t *bids = malloc(MAX_LEVELS * sizeof *bids);
    cq_bn_level_t *asks = malloc(MAX_LEVELS * sizeof *asks);
    cq_bn_levels_t lv = {bids, MAX_LEVELS, asks, MAX_LEVELS};
    while (gzgets(f, line, (int)cap)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        char *sp = memchr(line, ' ', n);
        if (!sp)
            continue;
        const char *fr = sp + 1;
        size_t flen = n - (size_t)(fr - line);
        cq_bn_md_t o;
        if (cq_bn_decode(fr, flen, &o, &lv, NULL) != 0)
            continue;
        size_t levels = o.n_bids + o.n_asks;
        if (o.kind == CQ_BN_DEPTH) {
            set_add(&depth_all, fr, flen, levels);
            if (levels >= 18 && levels <= 22)
                set_add(&depth20, fr, flen, levels);
        } else if (o.kind == CQ_BN_TRADE) {
            set_add(&trade, fr, flen, 0);
        } else if (o.kind == CQ_BN_BOOK_TICKER) {
            set_add(&bookt, fr, flen, 0);
        }
    }
    gzclose(f);
    free(line);
    if (!depth20.n || !trade.n || !bookt.n) {
        fprintf(stderr, "bench_md: no frames decoded from %s\n", path);
        return 1;
    }
    fprintf(stderr, "# depth20: %zu frames, %.0f bytes and %.1f levels on average\n", depth20.n,
            (double)depth20.bytes / depth20.n, (double)depth20.levels / depth20.n);
    fprintf(stderr, "# depth.all: %zu frames, %.0f bytes and %.1f levels on average\n",
            depth_all.n, (double)depth_all.bytes / depth_all.n,
            (double)depth_all.levels / depth_all.n);
    fprintf(stderr, "# trade: %zu frames, %.0f bytes; bookTicker: %zu frames, %.0f bytes\n",
            trade.n, (double)trade.bytes / trade.n, bookt.n, (double)bookt.bytes / bookt.n);

    double d_fast = measure(&depth20, 0, 200000, bids, asks);
    double d_cj = measure(&depth20, 1, 20000, bids, asks);
    cq_bench_print("md.decode.depth20", d_fast, 200000, d_cj);
    cq_bench_print("md.decode.depth20.cjson", d_cj, 20000, 0);
    cq_bench_print("md.decode.depth.all", measure(&depth_all, 0, 100000, bids, asks), 100000,
                   measure(&depth_all, 1, 10000, bids, asks));
    cq_bench_print("md.decode.trade", measure(&trade, 0, 1000000, bids, asks), 1000000,
                   measure(&trade, 1, 100000, bids, asks));
    cq_bench_print("md.decode.bookticker", measure(&bookt, 0, 1000000, bids, asks), 1000000,
                   measure(&bookt, 1, 100000, bids, asks));

    set_free(&depth20);
    set_free(&depth_all);
    set_free(&trade);
    set_free(&bookt);
    free(bids);
    free(asks);
    return 0;
}
