/*
 * bench_cqd.c - raw .cqd iteration speed (issue 3 target: >= 100M events/s).
 *
 * Writes a 10M-record file (trades, quotes, deltas in a realistic mix) to
 * $TMPDIR (or /tmp), then measures, as medians of repeated runs:
 *   cqd.iterate           open + lazy block verification + walk every
 *                         record summing a field + close: what one backtest
 *                         pass over a file in the page cache costs;
 *   cqd.iterate.verify_all  the same, but every block verified at open
 *                         (CQ_CQD_VERIFY_ALL: a second pass over memory);
 *   cqd.iterate.verified  the walk alone on a reader whose blocks are
 *                         already verified (a second pass over an open file);
 *   cqd.iterate.events    the walk plus cq_cqd_to_* into bus events.
 * The file is removed at the end.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cquant/cqd.h"

#define N_RECORDS 10000000ULL

typedef struct {
    const char *path;
    unsigned open_flags;
    cq_cqd_reader_t *reader; /* for the verified run */
    uint64_t sink;
} ctx_t;

static int generate(const char *path)
{
    cq_cqd_writer_t *w;
    char err[256];
    if (cq_cqd_writer_open(&w, path, err, sizeof err) != 0) {
        fprintf(stderr, "bench_cqd: %s\n", err);
        return -1;
    }
    cq_cqd_instrument_t in;
    memset(&in, 0, sizeof in);
    snprintf(in.id, sizeof in.id, "BTCUSDT.BINANCE");
    snprintf(in.symbol, sizeof in.symbol, "BTCUSDT");
    snprintf(in.venue, sizeof in.venue, "BINANCE");
    in.price_precision = 2;
    in.size_precision = 5;
    in.tick_units = in.step_units = 1;
    cq_cqd_writer_add_instrument(w, &in, NULL);
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    int64_t ts = 1700000000000000000LL, px = 3000000;
    for (uint64_t i = 0; i < N_RECORDS; i++) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        uint64_t r = s * 2685821657736338717ULL;
        cq_cqd_record_t rec;
        memset(&rec, 0, sizeof rec);
        ts += (int64_t)(r % 1000);
        px += (int64_t)(r >> 40) % 3 - 1;
        rec.ts_init = ts;
        rec.ts_event = ts - 1000000;
        switch (r % 10) {
        case 0: case 1:
            rec.type = CQ_EV_TRADE;
            rec.side = 1 + (r >> 20) % 2;
            rec.trade.price = px;
            rec.trade.qty = (int64_t)(r >> 32) % 100000 + 1;
            rec.trade.trade_id = i;
            break;
        case 2: case 3: case 4:
            rec.type = CQ_EV_QUOTE;
            rec.quote.bid_price = px - 1;
            rec.quote.ask_price = px;
            rec.quote.bid_qty = (int64_t)(r >> 30) % 100000;
            rec.quote.ask_qty = (int64_t)(r >> 33) % 100000;
            rec.quote.update_id = i;
            break;
        default:
            rec.type = CQ_EV_BOOK_DELTA;
            rec.side = 1 + (r >> 21) % 2;
            rec.delta.price = px + (int64_t)(r >> 50) % 100 - 50;
            rec.delta.qty = (int64_t)(r >> 31) % 100000;
            rec.delta.update_id = i;
            break;
        }
        if (cq_cqd_writer_append(w, &rec) != 0) {
            fprintf(stderr, "bench_cqd: %s\n", cq_cqd_writer_error(w));
            cq_cqd_writer_destroy(w);
            return -1;
        }
    }
    int rc = cq_cqd_writer_finish(w);
    if (rc)
        fprintf(stderr, "bench_cqd: %s\n", cq_cqd_writer_error(w));
    cq_cqd_writer_destroy(w);
    return rc ? -1 : 0;
}

static uint64_t walk(cq_cqd_reader_t *r, uint64_t n)
{
    cq_cqd_cursor_t c;
    const cq_cqd_record_t *rec;
    uint64_t sum = 0;
    cq_cqd_cursor_init(&c, r);
    while (n-- && cq_cqd_next(&c, &rec) > 0)
        sum += (uint64_t)rec->ts_init;
    return sum;
}

static void bench_open_iterate(void *arg, uint64_t n)
{
    ctx_t *ctx = arg;
    cq_cqd_reader_t *r;
    char err[256];
    if (cq_cqd_open(&r, ctx->path, ctx->open_flags, err, sizeof err) != 0) {
        fprintf(stderr, "bench_cqd: %s\n", err);
        exit(1);
    }
    ctx->sink += walk(r, n);
    cq_cqd_close(r);
    CQ_BENCH_USE(ctx->sink);
}

static void bench_iterate_verified(void *arg, uint64_t n)
{
    ctx_t *ctx = arg;
    ctx->sink += walk(ctx->reader, n);
    CQ_BENCH_USE(ctx->sink);
}

static void bench_iterate_events(void *arg, uint64_t n)
{
    ctx_t *ctx = arg;
    cq_cqd_cursor_t c;
    const cq_cqd_record_t *rec;
    double sum = 0;
    cq_cqd_cursor_init(&c, ctx->reader);
    while (n-- && cq_cqd_next(&c, &rec) > 0) {
        switch (rec->type) {
        case CQ_EV_TRADE: {
            cq_trade_t t;
            cq_cqd_to_trade(ctx->reader, rec, &t);
            sum += t.price;
            break;
        }
        case CQ_EV_QUOTE: {
            cq_quote_t q;
            cq_cqd_to_quote(ctx->reader, rec, &q);
            sum += q.bid_price;
            break;
        }
        default: {
            cq_book_delta_t d;
            cq_cqd_to_delta(ctx->reader, rec, &d);
            sum += d.price;
            break;
        }
        }
    }
    ctx->sink += (uint64_t)sum;
    CQ_BENCH_USE(ctx->sink);
}

int main(void)
{
    /* Output piped into `head` must not kill us before the file is removed. */
    signal(SIGPIPE, SIG_IGN);
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/cq-bench-cqd-%ld.cqd", dir && *dir ? dir : "/tmp", (long)getpid());
    if (generate(path) != 0) {
        unlink(path);
        return 1;
    }
    ctx_t ctx = {.path = path};
    double ns = cq_bench_run(bench_open_iterate, &ctx, N_RECORDS);
    cq_bench_print_rate("cqd.iterate", ns, N_RECORDS);
    ctx.open_flags = CQ_CQD_VERIFY_ALL;
    ns = cq_bench_run(bench_open_iterate, &ctx, N_RECORDS);
    cq_bench_print_rate("cqd.iterate.verify_all", ns, N_RECORDS);

    char err[256];
    if (cq_cqd_open(&ctx.reader, path, CQ_CQD_VERIFY_ALL, err, sizeof err) != 0) {
        fprintf(stderr, "bench_cqd: %s\n", err);
        unlink(path);
        return 1;
    }
    ns = cq_bench_run(bench_iterate_verified, &ctx, N_RECORDS);
    cq_bench_print_rate("cqd.iterate.verified", ns, N_RECORDS);
    ns = cq_bench_run(bench_iterate_events, &ctx, N_RECORDS);
    cq_bench_print_rate("cqd.iterate.events", ns, N_RECORDS);
    cq_cqd_close(ctx.reader);
    unlink(path);
    return 0;
}
