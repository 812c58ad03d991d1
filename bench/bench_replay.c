/*
 * bench_replay.c - cqd.replay: a .cqd file replayed through the DataEngine
 * (book sync and apply, cache, publish) to one C subscriber.
 *
 * The file is synthetic but shaped like the Binance BTCUSDT recording: a
 * 1000-level snapshot, then 100 ms depth diffs of ~20 levels near the top
 * (updates, deletes, re-inserts, continuous update ids), bookTicker quotes
 * and trades, in the recording's proportions (by record: ~80% deltas, ~13%
 * quotes, ~7% trades). Reported per_sec is records per second, timed from
 * opening the file to the last publish. Target: >= 20M records/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cquant/importer.h"
#include "cquant/replay.h"

#ifndef CQ_TEST_DATA_DEFAULT
#define CQ_TEST_DATA_DEFAULT "../shared/data"
#endif

#define N_BATCHES 150000
#define LEVELS 1000

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next_rand(void)
{
    rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static uint64_t generate(const char *path)
{
    cq_cqd_writer_t *w;
    char err[256];
    if (cq_cqd_writer_open(&w, path, err, sizeof err) != 0) {
        fprintf(stderr, "bench_replay: %s\n", err);
        return 0;
    }
    cq_cqd_instrument_t in;
    memset(&in, 0, sizeof in);
    snprintf(in.id, sizeof in.id, "BTCUSDT.BINANCE");
    snprintf(in.symbol, sizeof in.symbol, "BTCUSDT");
    snprintf(in.venue, sizeof in.venue, "BINANCE");
    in.price_precision = 2;
    in.size_precision = 8;
    in.tick_units = in.step_units = 1;
    cq_cqd_writer_add_instrument(w, &in, NULL);
    const int64_t mid = 6000000; /* 60000.00 */
    int64_t ts = INT64_C(1723161254000000000);
    uint64_t id = 1000;
    cq_cqd_record_t rec;
    /* the snapshot: bids below mid, asks above */
    for (int side = CQ_SIDE_BUY; side <= CQ_SIDE_SELL; side++)
        for (int i = 0; i < LEVELS; i++) {
            memset(&rec, 0, sizeof rec);
            rec.type = CQ_EV_BOOK_DELTA;
            rec.side = (uint8_t)side;
            rec.flags = CQ_EVF_SNAPSHOT | (side == CQ_SIDE_SELL && i == LEVELS - 1 ? CQ_EVF_LAST : 0);
            rec.ts_init = rec.ts_event = ts;
            rec.delta.price = side == CQ_SIDE_BUY ? mid - 1 - i : mid + 1 + i;
            rec.delta.qty = (int64_t)(next_rand() % 1000000) + 1;
            rec.delta.update_id = id;
            cq_cqd_writer_append(w, &rec);
        }
    for (int b = 0; b < N_BATCHES; b++) {
        ts += 100000000 / 12;
        int nq = (int)(next_rand() % 5) + 1, nt = (int)(next_rand() % 3);
        for (int k = 0; k < nq + nt; k++) {
            memset(&rec, 0, sizeof rec);
            rec.ts_init = rec.ts_event = ts + k;
            if (k < nq) {
                rec.type = CQ_EV_QUOTE;
                rec.quote.bid_price = mid - 1;
                rec.quote.ask_price = mid + 1;
                rec.quote.bid_qty = (int64_t)(next_rand() % 100000) + 1;
                rec.quote.ask_qty = (int64_t)(next_rand() % 100000) + 1;
                rec.quote.update_id = id;
            } else {
                rec.type = CQ_EV_TRADE;
                rec.side = (uint8_t)(1 + next_rand() % 2);
                rec.trade.price = mid + (rec.side == CQ_SIDE_BUY ? 1 : -1);
                rec.trade.qty = (int64_t)(next_rand() % 100000) + 1;
                rec.trade.trade_id = (uint64_t)b * 4 + (uint64_t)k;
            }
            cq_cqd_writer_append(w, &rec);
        }
        ts += 100000000 / 12;
        int n = 16 + (int)(next_rand() % 9); /* 16..24 levels */
        uint64_t first = id + 1;
        id += 1 + next_rand() % 8;
        for (int k = 0; k < n; k++) {
            memset(&rec, 0, sizeof rec);
            rec.type = CQ_EV_BOOK_DELTA;
            rec.side = (uint8_t)(1 + next_rand() % 2);
            rec.flags = k == n - 1 ? CQ_EVF_LAST : 0;
            rec.ts_init = ts;
            rec.ts_event = ts - 1000000;
            uint64_t r = next_rand();
            int depth = (int)(r % 100 < 70 ? r % 20 : r % LEVELS); /* most near the top */
            rec.delta.price = rec.side == CQ_SIDE_BUY ? mid - 1 - depth : mid + 1 + depth;
            /* never delete the best level, so the book stays two-sided */
            rec.delta.qty = (depth > 0 && (r >> 32) % 4 == 0) ? 0 : (int64_t)((r >> 20) % 1000000) + 1;
            rec.delta.update_id = id;
            rec.delta.first_update_id = first;
            cq_cqd_writer_append(w, &rec);
        }
    }
    uint64_t count = cq_cqd_writer_count(w);
    if (cq_cqd_writer_finish(w) != 0) {
        fprintf(stderr, "bench_replay: %s\n", cq_cqd_writer_error(w));
        count = 0;
    }
    cq_cqd_writer_destroy(w);
    return count;
}

static uint64_t delivered;
static void subscriber(void *user, cq_topic_t topic, const void *msg)
{
    (void)user;
    (void)topic;
    delivered += (uint64_t)((const cq_event_hdr_t *)msg)->type;
}

/* One full replay; returns ns per record (or -1). */
static double replay_once(const char *path, uint64_t records)
{
    cq_bus_t *bus;
    cq_cache_t *cache;
    cq_data_engine_t *de;
    cq_replay_t *r;
    char err[256];
    cq_bus_create(&bus);
    cq_cache_create(&cache, NULL);
    cq_data_engine_create(&de, bus, cache, NULL);
    cq_bus_subscribe(bus, "data.*", 0, subscriber, NULL, NULL);
    int64_t t0 = cq_bench_now_ns();
    if (cq_replay_open(&r, path, de, cache, err, sizeof err) != 0) {
        fprintf(stderr, "bench_replay: %s\n", err);
        return -1;
    }
    uint64_t events;
    int rc = cq_replay_run(r, &events);
    int64_t t1 = cq_bench_now_ns();
    cq_replay_stats_t st;
    cq_replay_stats(r, &st);
    if (rc != 0 || st.rejected || st.records != records)
        fprintf(stderr, "bench_replay: rc %d, %llu rejected, %llu of %llu records\n", rc,
                (unsigned long long)st.rejected, (unsigned long long)st.records, (unsigned long long)records);
    cq_replay_close(r);
    cq_data_engine_destroy(de);
    cq_cache_destroy(cache);
    cq_bus_destroy(bus);
    return (double)(t1 - t0) / (double)records;
}

int main(void)
{
    char path[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/cq-bench-replay-%d.cqd", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    uint64_t records = generate(path);
    if (!records)
        return 1;
    double v[CQ_BENCH_REPS];
    replay_once(path, records); /* warm the page cache */
    for (int i = 0; i < CQ_BENCH_REPS; i++)
        v[i] = replay_once(path, records);
    unlink(path);
    cq_bench_print_rate("cqd.replay", cq_bench_median(v, CQ_BENCH_REPS), records);

    /* The same on the real BTCUSDT recording, converted first (untimed). */
    const char *dir = getenv("CQ_TEST_DATA");
    char src[1024];
    snprintf(src, sizeof src, "%s/binance_spot/market_stream/hftbacktest_spot_btcusdt_20240808.gz",
             dir && *dir ? dir : CQ_TEST_DATA_DEFAULT);
    if (access(src, R_OK) != 0) {
        fprintf(stderr, "bench_replay: recorded data not found; cqd.replay.btcusdt skipped\n");
        return 0;
    }
    cq_import_opts_t opts = {0};
    cq_import_t *imp;
    cq_cqd_info_t info;
    cq_cqd_reader_t *rd;
    if (cq_import_create(&imp, &opts) != 0 ||
        cq_import_define(imp, "BTCUSDT.BINANCE:tick=0.01:step=0.00000001") != 0 ||
        cq_import_file(imp, src) != 0 || cq_import_write(imp, path) != 0) {
        fprintf(stderr, "bench_replay: convert failed: %s\n", cq_import_error(imp));
        cq_import_destroy(imp);
        return 1;
    }
    cq_import_destroy(imp);
    if (cq_cqd_open(&rd, path, 0, NULL, 0) != 0)
        return 1;
    cq_cqd_get_info(rd, &info);
    cq_cqd_close(rd);
    replay_once(path, info.record_count);
    for (int i = 0; i < CQ_BENCH_REPS; i++)
        v[i] = replay_once(path, info.record_count);
    unlink(path);
    cq_bench_print_rate("cqd.replay.btcusdt", cq_bench_median(v, CQ_BENCH_REPS), info.record_count);
    return 0;
}
