/*
 * bench_feed.c - the whole market-data path on real frames: decode, convert
 * to ticks and steps, sequence check, book apply, cache, publish to one C
 * subscriber (cq_bn_feed_frame -> DataEngine -> bus).
 *
 *   md.feed.depth20     depthUpdate frames of 18..22 levels, in recorded
 *                       order, on a synced book (the "decode and
 *                       apply a 20-level depthUpdate": target <= 1 us)
 *   md.feed.depth.all   every depthUpdate frame of the recording (36 levels
 *                       on average)
 *   md.feed.trade       trade frames
 *   md.feed.bookticker  bookTicker frames
 *
 * The depth runs need a synced book and continuous ids, so each repetition
 * builds a fresh engine, applies the recorded snapshot and the diffs before
 * the first measured one (untimed), then times the rest. For depth20 the
 * other diffs are applied untimed in between, each timed frame on its own
 * with the clock's own cost subtracted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cquant/binance_feed.h"
#include "cquant/instrument.h"

#ifndef CQ_TEST_DATA_DEFAULT
#define CQ_TEST_DATA_DEFAULT "../shared/data"
#endif

#include <zlib.h>

typedef struct {
    char *json;
    size_t len;
    int64_t recv;
    int kind;     /* 0 other, 1 depth, 2 trade, 3 bookTicker, 4 snapshot */
    int levels;
} frame_t;

static frame_t *frames;
static size_t nframes;

static int load(void)
{
    const char *dir = getenv("CQ_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/binance_spot/market_stream/hftbacktest_spot_btcusdt_20240808.gz",
             dir && *dir ? dir : CQ_TEST_DATA_DEFAULT);
    gzFile f = gzopen(path, "rb");
    if (!f)
        return -1;
    static char line[1 << 20];
    size_t cap = 0;
    cq_bn_md_t m;
    static cq_bn_level_t b[5000], a[5000];
    cq_bn_levels_t lv = {b, 5000, a, 5000};
    while (gzgets(f, line, sizeof line)) {
        cq_bn_line_t ln;
        if (cq_bn_line_parse(line, strlen(line), &ln) != 0 || ln.kind != CQ_BN_LINE_FRAME)
            continue;
        if (cq_bn_decode(ln.json, ln.json_len, &m, &lv, NULL) != 0)
            continue;
        if (nframes == cap) {
            cap = cap ? cap * 2 : 4096;
            frames = realloc(frames, cap * sizeof *frames);
        }
        frame_t *fr = &frames[nframes++];
        fr->len = ln.json_len;
        fr->json = malloc(fr->len);
        memcpy(fr->json, ln.json, fr->len);
        fr->recv = ln.recv_ns;
        fr->levels = (int)(m.n_bids + m.n_asks);
        fr->kind = m.kind == CQ_BN_DEPTH ? 1 : m.kind == CQ_BN_TRADE ? 2 : m.kind == CQ_BN_BOOK_TICKER ? 3
                 : m.kind == CQ_BN_SNAPSHOT ? 4 : 0;
    }
    gzclose(f);
    return nframes ? 0 : -1;
}

typedef struct {
    cq_bus_t *bus;
    cq_cache_t *cache;
    cq_data_engine_t *de;
    cq_bn_feed_t *feed;
} rig_t;

static uint64_t sink;
static void subscriber(void *user, cq_topic_t topic, const void *msg)
{
    (void)user;
    (void)topic;
    sink += (uint64_t)((const cq_event_hdr_t *)msg)->ts_init;
}

static void rig_up(rig_t *r)
{
    cq_instrument_t spec;
    cq_bus_create(&r->bus);
    cq_cache_create(&r->cache, NULL);
    cq_data_engine_create(&r->de, r->bus, r->cache, NULL);
    cq_bn_feed_create(&r->feed, r->de, r->cache, NULL, NULL);
    cq_instrument_init(&spec, "BTCUSDT", "BINANCE", "BTC", "USDT", "0.01", "0.00000001");
    cq_cache_instrument_add(r->cache, &spec, NULL);
    cq_bus_subscribe(r->bus, "data.*", 0, subscriber, NULL, NULL);
}

static void rig_down(rig_t *r)
{
    cq_bn_feed_destroy(r->feed);
    cq_data_engine_destroy(r->de);
    cq_cache_destroy(r->cache);
    cq_bus_destroy(r->bus);
}

/* Feed depth frames (and the snapshot) up to and including the one that
 * syncs the book; returns the index after it. */
static size_t sync_book(rig_t *r)
{
    uint32_t h;
    cq_bn_feed_instrument(r->feed, "BTCUSDT", &h);
    for (size_t i = 0; i < nframes; i++) {
        if (frames[i].kind == 1)
            cq_bn_feed_frame(r->feed, frames[i].json, frames[i].len, frames[i].recv);
        else if (frames[i].kind == 4)
            cq_bn_feed_snapshot(r->feed, "BTCUSDT", frames[i].json, frames[i].len, frames[i].recv);
        if (cq_data_book_valid(r->de, h))
            return i + 1;
    }
    return nframes;
}

/* ns per depth frame: all of them, or (lo..hi levels) timed one by one. */
static double depth_run(int lo, int hi, uint64_t *count)
{
    rig_t r;
    rig_up(&r);
    size_t start = sync_book(&r);
    int64_t total = 0, overhead = 0;
    uint64_t n = 0;
    for (int k = 0; k < 64; k++) { /* the clock's own cost */
        int64_t a = cq_bench_now_ns(), b = cq_bench_now_ns();
        overhead += b - a;
    }
    overhead /= 64;
    int64_t t0 = cq_bench_now_ns();
    for (size_t i = start; i < nframes; i++) {
        frame_t *f = &frames[i];
        if (f->kind != 1)
            continue;
        if (lo == 0) {
            cq_bn_feed_frame(r.feed, f->json, f->len, f->recv);
            n++;
            continue;
        }
        if (f->levels < lo || f->levels > hi) {
            cq_bn_feed_frame(r.feed, f->json, f->len, f->recv);
            continue;
        }
        int64_t a = cq_bench_now_ns();
        cq_bn_feed_frame(r.feed, f->json, f->len, f->recv);
        int64_t b = cq_bench_now_ns();
        total += b - a - overhead;
        n++;
    }
    if (lo == 0)
        total = cq_bench_now_ns() - t0;
    cq_bn_feed_stats_t st;
    cq_bn_feed_stats(r.feed, &st);
    if (st.engine_errors || st.decode_errors || st.off_grid)
        fprintf(stderr, "bench_feed: errors while feeding: %s\n", st.last_why);
    rig_down(&r);
    *count = n;
    return n ? (double)total / (double)n : 0;
}

static double kind_run(int kind, uint64_t *count)
{
    rig_t r;
    rig_up(&r);
    uint64_t n = 0;
    int64_t t0 = cq_bench_now_ns();
    for (int rep = 0; rep < 4; rep++)
        for (size_t i = 0; i < nframes; i++)
            if (frames[i].kind == kind) {
                cq_bn_feed_frame(r.feed, frames[i].json, frames[i].len, frames[i].recv);
                n++;
            }
    int64_t t1 = cq_bench_now_ns();
    rig_down(&r);
    *count = n;
    return (double)(t1 - t0) / (double)n;
}

static void report(const char *name, double (*run)(int, int, uint64_t *), int lo, int hi)
{
    double v[CQ_BENCH_REPS];
    uint64_t n = 0;
    run(lo, hi, &n);
    for (int i = 0; i < CQ_BENCH_REPS; i++)
        v[i] = run(lo, hi, &n);
    cq_bench_print(name, cq_bench_median(v, CQ_BENCH_REPS), n, 0);
}

static void report_kind(const char *name, int kind)
{
    double v[CQ_BENCH_REPS];
    uint64_t n = 0;
    kind_run(kind, &n);
    for (int i = 0; i < CQ_BENCH_REPS; i++)
        v[i] = kind_run(kind, &n);
    cq_bench_print(name, cq_bench_median(v, CQ_BENCH_REPS), n, 0);
}

int main(void)
{
    if (load() < 0) {
        fprintf(stderr, "bench_feed: recorded data not found (set CQ_TEST_DATA); skipped\n");
        return 0;
    }
    report("md.feed.depth20", depth_run, 18, 22);
    report("md.feed.depth.all", depth_run, 0, 0);
    report_kind("md.feed.trade", 2);
    report_kind("md.feed.bookticker", 3);
    for (size_t i = 0; i < nframes; i++)
        free(frames[i].json);
    free(frames);
    return 0;
}
