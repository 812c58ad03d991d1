/*
 * test_cqd_binance.c - `cquant convert` for the Binance Spot recordings of
 * ../shared/data/binance_spot/market_stream: counts per type against the
 * data README, a record-by-record comparison with the recording decoded
 * again here (every level, id, side and time), batch structure for a
 * replay, `cquant dump` against the wire strings, exchangeInfo specs, and
 * bad input.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "cquant/binance_feed.h"
#include "cquant/binance_md.h"
#include "cquant/cqd.h"
#include "cquant/error.h"
#include "cquant/importer.h"
#include "support/cq_lines.h"
#include "support/cq_test.h"

#define MS "binance_spot/market_stream/"
#define BTC_GZ MS "hftbacktest_spot_btcusdt_20240808.gz"
#define BTC_HEAD MS "hftbacktest_spot_btcusdt_20240808_head.txt"
#define ETH_GZ MS "hftbacktest_spot_ethusdt_20240808.gz"
#define CF_WS MS "cryptofeed_binance_20210814_ws.txt"
#define CF_REST MS "cryptofeed_binance_20210814_rest_depth.txt"
#define CF_INFO MS "cryptofeed_binance_20210814_exchangeinfo.txt"
#define CF_MIX MS "cryptofeed_binance_20210405_interleaved_head.txt"

/* Fail without a system call per passing check (Check's asserts make one). */
#define REQUIRE(c, ...) do { if (!(c)) ck_abort_msg(__VA_ARGS__); } while (0)

#define TRADE_FRAME(recv, sym, id, p, q, t, m)                                                             \
    recv " {\"stream\":\"x@trade\",\"data\":{\"e\":\"trade\",\"E\":" t ",\"s\":\"" sym "\",\"t\":" id       \
         ",\"p\":\"" p "\",\"q\":\"" q "\",\"T\":" t ",\"m\":" m "}}\n"
#define DEPTH_FRAME(recv, sym, U, u, bids, asks)                                                           \
    recv " {\"stream\":\"x@depth\",\"data\":{\"e\":\"depthUpdate\",\"E\":1700000000000,\"s\":\"" sym       \
         "\",\"U\":" U ",\"u\":" u ",\"b\":[" bids "],\"a\":[" asks "]}}\n"

static char g_dir[4096];

/* ---- helpers ------------------------------------------------------------------------ */

typedef struct {
    char text[1 << 16];
    size_t len;
    int n;
} msgs_t;

static msgs_t g_msgs;

static void collect(void *user, const char *msg)
{
    msgs_t *m = user;
    int k = snprintf(m->text + m->len, sizeof m->text - m->len, "%s\n", msg);
    if (k > 0 && m->len + (size_t)k < sizeof m->text)
        m->len += (size_t)k;
    m->n++;
}

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", g_dir, name);
}

static void write_text(char *out, size_t cap, const char *name, const char *text)
{
    path_of(out, cap, name);
    FILE *f = fopen(out, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
}

static cq_import_t *session_with(cq_import_opts_t o)
{
    cq_import_t *imp;
    memset(&g_msgs, 0, sizeof g_msgs);
    o.on_message = collect;
    o.user = &g_msgs;
    ck_assert_int_eq(cq_import_create(&imp, &o), 0);
    return imp;
}

static cq_import_t *session(int strict)
{
    return session_with((cq_import_opts_t){.strict = strict});
}

/* A recording's full path, or NULL (then the test skips). */
static const char *data(const char *rel, char *buf, size_t cap)
{
    const char *p = cq_test_data_path(rel);
    if (!p)
        return NULL;
    snprintf(buf, cap, "%s", p);
    return buf;
}

typedef struct {
    cq_cqd_reader_t *r;
    cq_cqd_record_t *rec;
    size_t n;
    uint64_t count[CQ_EV_COUNT_];
} loaded_t;

static loaded_t write_and_load(cq_import_t *imp, const char *name)
{
    char out[4200], err[512];
    loaded_t l;
    memset(&l, 0, sizeof l);
    path_of(out, sizeof out, name);
    ck_assert_msg(cq_import_write(imp, out) == 0, "%s", cq_import_error(imp));
    ck_assert_int_eq(cq_cqd_open(&l.r, out, CQ_CQD_VERIFY_ALL, err, sizeof err), 0);
    cq_cqd_info_t info;
    cq_cqd_get_info(l.r, &info);
    l.rec = calloc(info.record_count + 1, sizeof *l.rec);
    cq_cqd_cursor_t c;
    const cq_cqd_record_t *rec;
    cq_cqd_cursor_init(&c, l.r);
    while (cq_cqd_next(&c, &rec) > 0) {
        l.rec[l.n++] = *rec;
        l.count[rec->type]++;
    }
    ck_assert_uint_eq(l.n, info.record_count);
    return l;
}

static void unload(loaded_t *l)
{
    cq_cqd_close(l->r);
    free(l->rec);
}

/* Import the recordings (relative paths) into one file and load it back;
 * 0 if the data folder is absent. */
static int convert_recordings(const char *const *rel, int n, const char *info, loaded_t *out)
{
    char p[4096];
    cq_import_t *imp = session(1);
    if (info) {
        if (!data(info, p, sizeof p)) {
            cq_import_destroy(imp);
            return 0;
        }
        ck_assert_msg(cq_import_exchange_info(imp, p, NULL) == 0, "%s", cq_import_error(imp));
    }
    for (int i = 0; i < n; i++) {
        if (!data(rel[i], p, sizeof p)) {
            cq_import_destroy(imp);
            return 0;
        }
        ck_assert_msg(cq_import_file(imp, p) == 0, "%s: %s", rel[i], cq_import_error(imp));
    }
    cq_import_stats_t st;
    cq_import_get_stats(imp, &st);
    ck_assert_uint_eq(st.skipped, 0);
    ck_assert_int_eq(g_msgs.n, 0);
    *out = write_and_load(imp, "recording.cqd");
    cq_import_destroy(imp);
    return 1;
}

static const cq_cqd_instrument_t *inst_of(const loaded_t *l, const cq_cqd_record_t *r)
{
    return cq_cqd_instrument(l->r, r->instrument);
}

/* ---- the recording decoded again, as the records it must give --------------------------- */

typedef struct expect {
    uint8_t type, side;
    uint16_t flags;
    char symbol[CQ_BN_SYMBOL_MAX];
    int64_t ts_event, ts_init;
    cq_decimal_t v[5];  /* prices and sizes in record order */
    uint64_t id, id2;   /* trade id / update id, first update id */
    size_t seq;         /* input order, for a stable sort */
    long line;
    int file;
} expect_t;

typedef struct {
    expect_t *e;
    size_t n, cap;
    uint64_t diffs, diff_levels, snapshots, snapshot_levels, trades, quotes, klines, closed_klines;
} expects_t;

static expect_t *push(expects_t *x)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 65536;
        x->e = realloc(x->e, x->cap * sizeof *x->e);
        ck_assert_ptr_nonnull(x->e);
    }
    expect_t *e = &x->e[x->n];
    memset(e, 0, sizeof *e);
    e->seq = x->n++;
    return e;
}

/* The records a frame must become, written from the codec's output with
 * the mapping of docs/cqd.md ("Binance recordings"), independently of the
 * importer's code. */
static void expect_recording(expects_t *x, const char *rel, int file)
{
    static cq_bn_level_t bids[5000], asks[5000];
    cq_bn_levels_t lv = {bids, 5000, asks, 5000};
    cq_lines_t *in = cq_lines_open(rel);
    ck_assert_ptr_nonnull(in);
    char file_symbol[CQ_BN_SYMBOL_MAX] = "";
    const char *line;
    size_t len;
    long lineno;
    while ((line = cq_lines_next(in, &len, &lineno))) {
        cq_bn_line_t ln;
        cq_bn_md_t m;
        REQUIRE(cq_bn_line_parse(line, len, &ln) == 0, "%s:%ld: line", rel, lineno);
        if (ln.kind == CQ_BN_LINE_OTHER || (ln.kind == CQ_BN_LINE_REST && !ln.is_depth))
            continue;
        const char *why = NULL;
        REQUIRE(cq_bn_decode(ln.json, ln.json_len, &m, &lv, &why) == 0, "%s:%ld: %s", rel, lineno, why);
        const char *sym = m.symbol;
        if (ln.kind == CQ_BN_LINE_REST)
            sym = ln.symbol;
        else if (m.kind == CQ_BN_SNAPSHOT)
            sym = file_symbol; /* these files hold one symbol, named before the snapshot */
        else if (!file_symbol[0])
            snprintf(file_symbol, sizeof file_symbol, "%s", m.symbol);
        REQUIRE(sym[0], "%s:%ld: no symbol", rel, lineno);
        if (m.kind == CQ_BN_DEPTH || m.kind == CQ_BN_SNAPSHOT) {
            int snap = m.kind == CQ_BN_SNAPSHOT;
            uint32_t n = m.n_bids + m.n_asks;
            if (snap) {
                x->snapshots++;
                x->snapshot_levels += n;
            } else {
                x->diffs++;
                x->diff_levels += n;
            }
            for (uint32_t i = 0; i < (n ? n : 1); i++) {
                expect_t *e = push(x);
                e->type = CQ_EV_BOOK_DELTA;
                e->side = !n ? CQ_SIDE_NONE : i < m.n_bids ? CQ_SIDE_BUY : CQ_SIDE_SELL;
                e->flags = (uint16_t)((snap ? CQ_EVF_SNAPSHOT : 0) | (i + 1 >= n ? CQ_EVF_LAST : 0));
                e->ts_event = snap ? ln.recv_ns : m.event_ms * 1000000;
                e->ts_init = ln.recv_ns;
                if (n) {
                    const cq_bn_level_t *l = i < m.n_bids ? &bids[i] : &asks[i - m.n_bids];
                    e->v[0] = l->price;
                    e->v[1] = l->qty;
                }
                e->id = m.last_update_id;
                e->id2 = snap ? 0 : m.first_update_id;
                snprintf(e->symbol, sizeof e->symbol, "%s", sym);
                e->line = lineno;
                e->file = file;
            }
            continue;
        }
        if (m.kind == CQ_BN_KLINE) {
            x->klines++;
            if (!m.kline_closed)
                continue;
            x->closed_klines++;
        }
        expect_t *e = push(x);
        snprintf(e->symbol, sizeof e->symbol, "%s", sym);
        e->ts_init = ln.recv_ns;
        e->line = lineno;
        e->file = file;
        switch (m.kind) {
        case CQ_BN_TRADE:
        case CQ_BN_AGG_TRADE:
            x->trades++;
            e->type = CQ_EV_TRADE;
            e->side = m.buyer_is_maker ? CQ_SIDE_SELL : CQ_SIDE_BUY;
            e->ts_event = m.trade_ms * 1000000;
            e->v[0] = m.price;
            e->v[1] = m.qty;
            e->id = m.trade_id;
            break;
        case CQ_BN_BOOK_TICKER:
            x->quotes++;
            e->type = CQ_EV_QUOTE;
            e->ts_event = ln.recv_ns;
            e->v[0] = m.bid_price;
            e->v[1] = m.bid_qty;
            e->v[2] = m.ask_price;
            e->v[3] = m.ask_qty;
            e->id = m.last_update_id;
            break;
        case CQ_BN_KLINE:
            e->type = CQ_EV_BAR;
            e->ts_event = m.open_ms * 1000000;
            e->v[0] = m.open;
            e->v[1] = m.high;
            e->v[2] = m.low;
            e->v[3] = m.close;
            e->v[4] = m.volume;
            break;
        default:
            ck_abort_msg("%s:%ld: unexpected kind %d", rel, lineno, m.kind);
        }
    }
    cq_lines_close(in);
}

static int by_time_then_input(const void *a, const void *b)
{
    const expect_t *x = a, *y = b;
    if (x->ts_init != y->ts_init)
        return x->ts_init < y->ts_init ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* stored ticks (steps) == the wire decimal, exactly */
static int same_value(const cq_cqd_instrument_t *in, int price, int64_t stored, cq_decimal_t d)
{
    int64_t want, got;
    if (cq_decimal_to_units(d, price ? in->price_precision : in->size_precision, &want) != 0)
        return 0;
    if (__builtin_mul_overflow(stored, price ? in->tick_units : in->step_units, &got))
        return 0;
    return got == want;
}

/* Every record of the file equals the record its frame must give, in
 * receive-time order (ties in input order). */
static void compare_all(const loaded_t *l, expects_t *x, const char *const *rel)
{
    qsort(x->e, x->n, sizeof *x->e, by_time_then_input);
    ck_assert_uint_eq(l->n, x->n);
    for (size_t i = 0; i < l->n; i++) {
        const cq_cqd_record_t *r = &l->rec[i];
        const expect_t *e = &x->e[i];
        const cq_cqd_instrument_t *in = inst_of(l, r);
        const char *where = rel[e->file];
        REQUIRE(r->type == e->type && r->side == e->side && r->flags == e->flags,
                "%s:%ld: record %zu: type %d/%d side %d/%d flags %d/%d", where, e->line, i, r->type, e->type,
                r->side, e->side, r->flags, e->flags);
        REQUIRE(!strcmp(in->symbol, e->symbol) && !strcmp(in->venue, "BINANCE"), "%s:%ld: instrument %s",
                where, e->line, in->id);
        REQUIRE(r->ts_event == e->ts_event && r->ts_init == e->ts_init, "%s:%ld: times %lld %lld", where,
                e->line, (long long)r->ts_event, (long long)r->ts_init);
        int ok = 1;
        switch (r->type) {
        case CQ_EV_TRADE:
            ok = same_value(in, 1, r->trade.price, e->v[0]) && same_value(in, 0, r->trade.qty, e->v[1]) &&
                 r->trade.trade_id == e->id;
            break;
        case CQ_EV_QUOTE:
            ok = same_value(in, 1, r->quote.bid_price, e->v[0]) && same_value(in, 0, r->quote.bid_qty, e->v[1]) &&
                 same_value(in, 1, r->quote.ask_price, e->v[2]) && same_value(in, 0, r->quote.ask_qty, e->v[3]) &&
                 r->quote.update_id == e->id;
            break;
        case CQ_EV_BOOK_DELTA:
            ok = same_value(in, 1, r->delta.price, e->v[0]) && same_value(in, 0, r->delta.qty, e->v[1]) &&
                 r->delta.update_id == e->id && r->delta.first_update_id == e->id2;
            break;
        default:
            ok = same_value(in, 1, r->bar.open, e->v[0]) && same_value(in, 1, r->bar.high, e->v[1]) &&
                 same_value(in, 1, r->bar.low, e->v[2]) && same_value(in, 1, r->bar.close, e->v[3]) &&
                 same_value(in, 0, r->bar.volume, e->v[4]);
            break;
        }
        REQUIRE(ok, "%s:%ld: record %zu: values or ids differ from the wire", where, e->line, i);
    }
}

/* Convert, decode again, compare every record. */
static int round_trip(const char *const *rel, int n, const char *info, loaded_t *l, expects_t *x)
{
    memset(x, 0, sizeof *x);
    if (!convert_recordings(rel, n, info, l))
        return 0;
    for (int i = 0; i < n; i++)
        expect_recording(x, rel[i], i);
    compare_all(l, x, rel);
    return 1;
}

static uint64_t count_flag(const loaded_t *l, uint16_t flag, int snapshot)
{
    uint64_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->rec[i].type == CQ_EV_BOOK_DELTA && (l->rec[i].flags & flag) &&
            !!(l->rec[i].flags & CQ_EVF_SNAPSHOT) == snapshot)
            n++;
    return n;
}

/* ---- the recordings: counts of the README, every record against the wire ---------------- */

START_TEST(test_bn_btcusdt_gz_counts_match_the_readme_and_every_record_the_wire)
{
    const char *rel[] = {BTC_GZ};
    loaded_t l;
    expects_t x;
    if (!round_trip(rel, 1, NULL, &l, &x)) {
        cq_test_skip("test_bn_btcusdt_gz_counts_match_the_readme_and_every_record_the_wire", "no data folder");
        return;
    }
    ck_assert_uint_eq(l.count[CQ_EV_TRADE], 9757);
    ck_assert_uint_eq(l.count[CQ_EV_QUOTE], 28040);
    ck_assert_uint_eq(x.diffs, 3451);
    ck_assert_uint_eq(x.snapshots, 1);
    ck_assert_uint_eq(x.snapshot_levels, 2000); /* 1000 x 1000 */
    ck_assert_uint_eq(l.count[CQ_EV_BOOK_DELTA], x.diff_levels + 2000);
    ck_assert_uint_eq(count_flag(&l, CQ_EVF_LAST, 0), 3451);
    ck_assert_uint_eq(count_flag(&l, CQ_EVF_LAST, 1), 1);
    ck_assert_uint_eq(count_flag(&l, CQ_EVF_SNAPSHOT, 1), 2000);
    ck_assert_uint_eq(cq_cqd_instrument(l.r, 0)->price_precision, 2);
    ck_assert_str_eq(cq_cqd_instrument(l.r, 0)->id, "BTCUSDT.BINANCE");
    free(x.e);
    unload(&l);
}
END_TEST

START_TEST(test_bn_ethusdt_gz_counts_match_the_readme_and_every_record_the_wire)
{
    const char *rel[] = {ETH_GZ};
    loaded_t l;
    expects_t x;
    if (!round_trip(rel, 1, NULL, &l, &x)) {
        cq_test_skip("test_bn_ethusdt_gz_counts_match_the_readme_and_every_record_the_wire", "no data folder");
        return;
    }
    ck_assert_uint_eq(l.count[CQ_EV_TRADE], 6106);
    ck_assert_uint_eq(l.count[CQ_EV_QUOTE], 24077);
    ck_assert_uint_eq(x.diffs, 3434);
    ck_assert_uint_eq(x.snapshots, 1);
    ck_assert_uint_eq(l.count[CQ_EV_BOOK_DELTA], x.diff_levels + x.snapshot_levels);
    ck_assert_uint_eq(count_flag(&l, CQ_EVF_LAST, 0), 3434);
    ck_assert_uint_eq(count_flag(&l, CQ_EVF_LAST, 1), 1);
    free(x.e);
    unload(&l);
}
END_TEST

START_TEST(test_bn_btcusdt_head_txt_counts_match_the_readme_and_every_record_the_wire)
{
    const char *rel[] = {BTC_HEAD};
    loaded_t l;
    expects_t x;
    if (!round_trip(rel, 1, NULL, &l, &x)) {
        cq_test_skip("test_bn_btcusdt_head_txt_counts_match_the_readme_and_every_record_the_wire", "no data");
        return;
    }
    ck_assert_uint_eq(l.count[CQ_EV_TRADE], 1394);
    ck_assert_uint_eq(l.count[CQ_EV_QUOTE], 5419);
    ck_assert_uint_eq(x.diffs, 612);
    ck_assert_uint_eq(count_flag(&l, CQ_EVF_LAST, 0), 612);
    ck_assert_uint_eq(count_flag(&l, CQ_EVF_LAST, 1), 1);
    ck_assert_uint_eq(l.count[CQ_EV_BOOK_DELTA], x.diff_levels + 2000);
    free(x.e);
    unload(&l);
}
END_TEST

START_TEST(test_bn_cryptofeed_ws_and_rest_depth_merge_by_receive_time_with_exchange_info_specs)
{
    const char *rel[] = {CF_WS, CF_REST};
    loaded_t l;
    expects_t x;
    if (!round_trip(rel, 2, CF_INFO, &l, &x)) {
        cq_test_skip("test_bn_cryptofeed_ws_and_rest_depth_merge_by_receive_time_with_exchange_info_specs",
                     "no data folder");
        return;
    }
    ck_assert_uint_eq(l.count[CQ_EV_TRADE], 28); /* aggTrade */
    ck_assert_uint_eq(l.count[CQ_EV_QUOTE], 412);
    ck_assert_uint_eq(l.count[CQ_EV_BAR], 2);    /* the 2 closed of 17 klines */
    ck_assert_uint_eq(x.klines, 17);
    ck_assert_uint_eq(x.diffs, 546);
    ck_assert_uint_eq(x.snapshots, 4);
    ck_assert_uint_eq(count_flag(&l, CQ_EVF_LAST, 0), 546);
    ck_assert_uint_eq(count_flag(&l, CQ_EVF_LAST, 1), 4);
    /* only the 4 recorded symbols of the 1,589 offered, with their filters */
    cq_cqd_info_t info;
    cq_cqd_get_info(l.r, &info);
    ck_assert_uint_eq(info.instrument_count, 4);
    uint32_t k;
    ck_assert_int_eq(cq_cqd_find_instrument(l.r, "XMRBTC.BINANCE", &k), 0);
    const cq_cqd_instrument_t *in = cq_cqd_instrument(l.r, k);
    ck_assert_int_eq(in->price_precision, 6); /* tickSize 0.00000100 */
    ck_assert_int_eq(in->size_precision, 3);  /* stepSize 0.00100000 */
    ck_assert_int_eq(in->min_qty, 1);
    ck_assert_int_eq(in->max_qty, 10000000000LL);
    ck_assert_str_eq(in->base, "XMR");
    ck_assert_str_eq(in->quote, "BTC");
    ck_assert_int_eq(cq_cqd_find_instrument(l.r, "SXPBTC.BINANCE", &k), 0);
    ck_assert_int_eq(cq_cqd_instrument(l.r, k)->size_precision, 0); /* stepSize 1.00000000 */
    free(x.e);
    unload(&l);
}
END_TEST

START_TEST(test_bn_cryptofeed_interleaved_keeps_ten_symbols_apart)
{
    const char *rel[] = {CF_MIX};
    loaded_t l;
    expects_t x;
    if (!round_trip(rel, 1, NULL, &l, &x)) {
        cq_test_skip("test_bn_cryptofeed_interleaved_keeps_ten_symbols_apart", "no data folder");
        return;
    }
    ck_assert_uint_eq(l.count[CQ_EV_TRADE], 781);
    ck_assert_uint_eq(l.count[CQ_EV_QUOTE], 3795);
    ck_assert_uint_eq(x.diffs, 3079);
    ck_assert_uint_eq(x.snapshots, 10);
    ck_assert_uint_eq(count_flag(&l, CQ_EVF_LAST, 1), 10);
    cq_cqd_info_t info;
    cq_cqd_get_info(l.r, &info);
    ck_assert_uint_eq(info.instrument_count, 10);
    /* one snapshot batch per symbol */
    uint64_t snaps[10] = {0};
    for (size_t i = 0; i < l.n; i++)
        if (l.rec[i].type == CQ_EV_BOOK_DELTA && (l.rec[i].flags & CQ_EVF_SNAPSHOT) && (l.rec[i].flags & CQ_EVF_LAST))
            snaps[l.rec[i].instrument]++;
    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(snaps[i], 1);
    free(x.e);
    unload(&l);
}
END_TEST

/* What a replay needs to rebuild the book: each batch is a contiguous run
 * of deltas of one instrument, one receive time and one pair of update
 * ids, ending with LAST; a snapshot batch is SNAPSHOT throughout; diffs of
 * an instrument continue each other's ids (U = previous u + 1). */
START_TEST(test_bn_batches_are_contiguous_runs_with_one_pair_of_update_ids)
{
    const char *rel[] = {CF_MIX};
    loaded_t l;
    if (!convert_recordings(rel, 1, NULL, &l)) {
        cq_test_skip("test_bn_batches_are_contiguous_runs_with_one_pair_of_update_ids", "no data folder");
        return;
    }
    const cq_cqd_record_t *open = NULL; /* first record of the batch being read */
    uint64_t last_u[16] = {0}, batches = 0, chained = 0;
    for (size_t i = 0; i < l.n; i++) {
        const cq_cqd_record_t *r = &l.rec[i];
        if (open) {
            REQUIRE(r->type == CQ_EV_BOOK_DELTA && r->instrument == open->instrument &&
                        r->ts_init == open->ts_init && r->delta.update_id == open->delta.update_id &&
                        r->delta.first_update_id == open->delta.first_update_id &&
                        (r->flags & CQ_EVF_SNAPSHOT) == (open->flags & CQ_EVF_SNAPSHOT),
                    "record %zu breaks the batch started at %zu", i, (size_t)(open - l.rec));
        } else if (r->type == CQ_EV_BOOK_DELTA) {
            open = r;
        }
        if (r->type == CQ_EV_BOOK_DELTA && (r->flags & CQ_EVF_LAST)) {
            if (!(open->flags & CQ_EVF_SNAPSHOT)) {
                uint64_t *prev = &last_u[open->instrument];
                if (*prev) {
                    REQUIRE(open->delta.first_update_id == *prev + 1, "record %zu: U %llu after u %llu", i,
                            (unsigned long long)open->delta.first_update_id, (unsigned long long)*prev);
                    chained++;
                }
                *prev = open->delta.update_id;
            }
            open = NULL;
            batches++;
        }
    }
    ck_assert_ptr_null(open);
    ck_assert_uint_eq(batches, 3079 + 10);
    ck_assert_uint_eq(chained, 3079 - 10);
    unload(&l);
}
END_TEST

/* README: in the BTCUSDT recording the first diff to apply (line 6,
 * U 50093239208, u 50093239224) arrived before the snapshot (line 8,
 * lastUpdateId 50093239218); the file keeps that order. */
START_TEST(test_bn_diff_that_arrived_before_its_snapshot_stays_before_it)
{
    const char *rel[] = {BTC_HEAD};
    loaded_t l;
    if (!convert_recordings(rel, 1, NULL, &l)) {
        cq_test_skip("test_bn_diff_that_arrived_before_its_snapshot_stays_before_it", "no data folder");
        return;
    }
    size_t diff = SIZE_MAX, snap = SIZE_MAX;
    for (size_t i = 0; i < l.n; i++) {
        const cq_cqd_record_t *r = &l.rec[i];
        if (r->type != CQ_EV_BOOK_DELTA)
            continue;
        if (diff == SIZE_MAX && r->delta.first_update_id == 50093239208ULL)
            diff = i;
        if (snap == SIZE_MAX && (r->flags & CQ_EVF_SNAPSHOT))
            snap = i;
    }
    ck_assert_uint_ne(diff, SIZE_MAX);
    ck_assert_uint_ne(snap, SIZE_MAX);
    ck_assert_uint_lt(diff, snap);
    ck_assert_uint_eq(l.rec[diff].delta.update_id, 50093239224ULL);
    ck_assert_uint_eq(l.rec[snap].delta.update_id, 50093239218ULL);
    ck_assert_uint_eq(l.rec[snap].delta.first_update_id, 0);
    unload(&l);
}
END_TEST

/* ---- cquant convert / dump -------------------------------------------------------------- */

/* Line `want` (1-based) of a text file, or "" */
static void nth_line(const char *path, int want, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    out[0] = 0;
    if (!f)
        return;
    for (int i = 1; fgets(out, (int)cap, f); i++)
        if (i == want)
            break;
        else
            out[0] = 0;
    fclose(f);
    out[strcspn(out, "\n")] = 0;
}

static int count_file_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, ch;
    if (!f)
        return -1;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* With 8-decimal increments (Binance's wire format), the dump prints the
 * very strings of the recording; at the inferred precision, the same
 * values with fewer zeros. */
START_TEST(test_cli_dump_prints_the_wire_strings_of_the_recording)
{
    char in[4096], out[4200], dump[4200], line[4096];
    const char *bin = cq_test_cquant();
    if (!bin || !data(BTC_HEAD, in, sizeof in)) {
        cq_test_skip("test_cli_dump_prints_the_wire_strings_of_the_recording", "no cquant binary or data");
        return;
    }
    path_of(out, sizeof out, "wire.cqd");
    path_of(dump, sizeof dump, "wire.jsonl");
    ck_assert_int_eq(cq_test_shell("'%s' convert '%s' -o '%s' --quiet --strict "
                         "--instrument BTCUSDT.BINANCE:tick=0.00000001:step=0.00000001",
                         bin, in, out),
                     0);
    ck_assert_int_eq(cq_test_shell("'%s' dump '%s' --type trade --limit 1 > '%s'", bin, out, dump), 0);
    nth_line(dump, 1, line, sizeof line); /* line 4 of the recording */
    ck_assert_str_eq(line, "{\"type\":\"trade\",\"instrument\":\"BTCUSDT.BINANCE\",\"ts_event\":1723161255342000000,"
                           "\"ts_init\":1723161254087896568,\"side\":\"sell\",\"price\":61837.63000000,"
                           "\"qty\":0.02000000,\"trade_id\":3735683259}");
    ck_assert_int_eq(cq_test_shell("'%s' dump '%s' --type quote --limit 1 > '%s'", bin, out, dump), 0);
    nth_line(dump, 1, line, sizeof line); /* line 3 */
    ck_assert_str_eq(line, "{\"type\":\"quote\",\"instrument\":\"BTCUSDT.BINANCE\",\"ts_event\":1723161254087891268,"
                           "\"ts_init\":1723161254087891268,\"bid_price\":61837.63000000,\"bid_qty\":3.78826000,"
                           "\"ask_price\":61837.64000000,\"ask_qty\":1.54698000,\"update_id\":50093239212}");
    ck_assert_int_eq(cq_test_shell("'%s' dump '%s' --type delta --limit 4 > '%s'", bin, out, dump), 0);
    nth_line(dump, 4, line, sizeof line); /* line 1: the first ask */
    ck_assert_str_eq(line, "{\"type\":\"delta\",\"instrument\":\"BTCUSDT.BINANCE\",\"ts_event\":1723161255208000000,"
                           "\"ts_init\":1723161253937085768,\"side\":\"ask\",\"price\":61837.64000000,"
                           "\"qty\":1.54698000,\"update_id\":50093239202,\"first_update_id\":50093239189,"
                           "\"snapshot\":false,\"last\":false}");
    /* inferred precision: tick 0.01, step 0.000001 */
    ck_assert_int_eq(cq_test_shell("'%s' convert '%s' -o '%s' --quiet", bin, in, out), 0);
    ck_assert_int_eq(cq_test_shell("'%s' dump '%s' --type trade --limit 1 > '%s'", bin, out, dump), 0);
    nth_line(dump, 1, line, sizeof line);
    ck_assert_ptr_nonnull(strstr(line, "\"price\":61837.63,\"qty\":0.020000,\"trade_id\":3735683259}"));
}
END_TEST

START_TEST(test_cli_dump_prints_closed_klines_as_bars_at_exchange_info_precision)
{
    char ws[4096], info[4096], out[4200], dump[4200], errf[4200], line[4096];
    const char *bin = cq_test_cquant();
    if (!bin || !data(CF_WS, ws, sizeof ws) || !data(CF_INFO, info, sizeof info)) {
        cq_test_skip("test_cli_dump_prints_closed_klines_as_bars_at_exchange_info_precision", "no binary/data");
        return;
    }
    path_of(out, sizeof out, "bars.cqd");
    path_of(dump, sizeof dump, "bars.jsonl");
    path_of(errf, sizeof errf, "bars.err");
    ck_assert_int_eq(cq_test_shell("'%s' convert '%s' -o '%s' --exchange-info '%s' 2>'%s'", bin, ws, out, info, errf), 0);
    nth_line(errf, 1, line, sizeof line);
    ck_assert_ptr_nonnull(strstr(line, "(28 trades, 412 quotes, "));
    ck_assert_ptr_nonnull(strstr(line, " deltas, 2 bars)"));
    ck_assert_int_eq(cq_test_shell("'%s' dump '%s' --type bar > '%s'", bin, out, dump), 0);
    ck_assert_int_eq(count_file_lines(dump), 2);
    nth_line(dump, 1, line, sizeof line); /* ws line 856 */
    ck_assert_str_eq(line, "{\"type\":\"bar\",\"instrument\":\"FTMUSDT.BINANCE\",\"ts_event\":1628952360000000000,"
                           "\"ts_init\":1628952421417115000,\"open\":0.34064,\"high\":0.34070,\"low\":0.33934,"
                           "\"close\":0.33964,\"volume\":209224.3}");
}
END_TEST

START_TEST(test_cli_binance_options_are_checked)
{
    char txt[4200], out[4200], errf[4200], line[4096], missing[4200];
    const char *bin = cq_test_cquant();
    if (!bin) {
        cq_test_skip("test_cli_binance_options_are_checked", "no cquant binary");
        return;
    }
    write_text(txt, sizeof txt, "cli.txt",
               TRADE_FRAME("1700000000000000000", "BTCUSDT", "1", "100.5", "1", "1700000000000", "false"));
    path_of(out, sizeof out, "cli.cqd");
    path_of(errf, sizeof errf, "cli.err");
    path_of(missing, sizeof missing, "no-such-info.json");
    const char *bad[] = {"--venue", "--venue ''", "--venue A.B", "--venue ABCDEFGHIJKLMNOPQ",
                         "--snapshot-symbol", "--snapshot-symbol 'BTC USDT'", "--exchange-info"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(cq_test_shell("'%s' convert '%s' -o '%s' %s >/dev/null 2>'%s'", bin, txt, out, bad[i], errf) == 2,
                      "%s did not exit 2", bad[i]);
        ck_assert_int_eq(count_file_lines(errf), 1);
    }
    ck_assert_int_eq(cq_test_shell("'%s' convert '%s' -o '%s' --exchange-info '%s' 2>'%s'", bin, txt, out, missing, errf), 1);
    nth_line(errf, 1, line, sizeof line);
    ck_assert_ptr_nonnull(strstr(line, "no-such-info.json: cannot open"));
    ck_assert_int_eq(cq_test_shell("'%s' convert '%s' -o '%s' --venue BNSPOT 2>'%s'", bin, txt, out, errf), 0);
    nth_line(errf, 2, line, sizeof line);
    ck_assert_str_eq(line, "  BTCUSDT.BNSPOT: tick 0.1, step 1");
}
END_TEST

/* ---- bad input -------------------------------------------------------------------------- */

static const char BAD_FILE[] =
    /* 1 */ TRADE_FRAME("1700000000000000000", "BTCUSDT", "1", "100.50", "0.010", "1700000000000", "true")
    /* 2 */ "1700000000100000000 {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":17\n"
    /* 3 */ "1700000000200000000 {\"stream\":\"btcusdt@ticker\",\"data\":{\"e\":\"24hrTicker\",\"E\":1,\"s\":\"BTCUSDT\"}}\n"
    /* 4 */ TRADE_FRAME("17000000x0300000000", "BTCUSDT", "2", "100.5", "1", "1700000000000", "true")
    /* 5 */ TRADE_FRAME("99999999999999999999", "BTCUSDT", "3", "100.5", "1", "1700000000000", "true")
    /* 6 */ DEPTH_FRAME("1700000000600000000", "BTCUSDT", "10", "12", "[\"100.40\",\"2.5\"]", "")
    /* 7 */ "1700000000700000000 {\"result\":null,\"id\":1}\n"
    /* 8 */ "configuration: {\"l2_book\":[\"BTC-USDT\"]}\n"
    /* 9 */ "\n"
    /* 10 */ "1700000000.9: {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1700000000901,"
             "\"s\":\"BTCUSDT\",\"t\":4,\"p\":\"100.6\",\"q\":\"1\",\"T\":1700000000900,\"m\":false}}\n"
    /* 11 */ TRADE_FRAME("1700000001000000000", "BTC.USDT", "5", "100.5", "1", "1700000000000", "true")
    /* 12 */ "1700000001100000000 {\"lastUpdateId\":12,\"bids\":[[\"100.40\",\"2.5\"]],\"asks\":[]}\n";

START_TEST(test_bn_malformed_lines_are_reported_as_file_line_and_skipped)
{
    char p[4200];
    write_text(p, sizeof p, "bad.txt", BAD_FILE);
    cq_import_t *imp = session(0);
    ck_assert_int_eq(cq_import_file(imp, p), 0);
    cq_import_stats_t st;
    cq_import_get_stats(imp, &st);
    ck_assert_uint_eq(st.skipped, 5);
    ck_assert_uint_eq(st.lines, 10); /* not the configuration or the blank line */
    ck_assert_int_eq(g_msgs.n, 5);
    const char *want[] = {":2: frame refused (CQ_EPARSE): json:", ":3: frame refused (CQ_ENOENT): e: unknown event",
                          ":4: bad receive time or line format near '17000000x0300000000'",
                          ":5: bad receive time or line format near '99999999999999999999'",
                          ":11: bad symbol 'BTC.USDT'"};
    const char *at = g_msgs.text;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char full[4400];
        snprintf(full, sizeof full, "%s%s", p, want[i]);
        const char *hit = strstr(at, full);
        ck_assert_msg(hit != NULL, "no '%s' in:\n%s", full, g_msgs.text);
        at = hit;
    }
    /* lines 1, 6, 10 and the bare snapshot of line 12 (the file's one symbol) */
    loaded_t l = write_and_load(imp, "bad.cqd");
    ck_assert_uint_eq(l.n, 4);
    ck_assert_uint_eq(l.rec[0].trade.trade_id, 1);
    ck_assert_int_eq(l.rec[0].side, CQ_SIDE_SELL); /* m: the buyer was the maker */
    ck_assert_int_eq(l.rec[0].ts_event, 1700000000000000000LL);
    ck_assert_int_eq(l.rec[1].type, CQ_EV_BOOK_DELTA);
    ck_assert_int_eq(l.rec[2].ts_init, 1700000000900000000LL);
    ck_assert_int_eq(l.rec[2].side, CQ_SIDE_BUY);
    ck_assert_int_eq(l.rec[3].flags, CQ_EVF_SNAPSHOT | CQ_EVF_LAST);
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_bn_strict_stops_at_the_first_malformed_line)
{
    char p[4200];
    write_text(p, sizeof p, "strict.txt", BAD_FILE);
    cq_import_t *imp = session(1);
    ck_assert_int_eq(cq_import_file(imp, p), CQ_EPARSE);
    ck_assert_int_eq(g_msgs.n, 1);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "strict.txt:2: frame refused"));
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_bn_truncated_gzip_is_an_error_naming_the_file)
{
    char gz[4200], cut[4200];
    path_of(gz, sizeof gz, "whole.txt.gz");
    gzFile g = gzopen(gz, "wb");
    for (int i = 0; i < 3000; i++)
        gzprintf(g,
                 "%lld {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1700000000000,"
                 "\"s\":\"BTCUSDT\",\"t\":%d,\"p\":\"%d.5\",\"q\":\"1\",\"T\":1700000000000,\"m\":true}}\n",
                 1700000000000000000LL + i, i, 100 + i % 7);
    gzclose(g);
    FILE *f = fopen(gz, "rb");
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    path_of(cut, sizeof cut, "cut.txt.gz");
    f = fopen(cut, "wb");
    fwrite(buf, 1, n / 2, f);
    fclose(f);
    cq_import_t *imp = session(0);
    ck_assert_int_eq(cq_import_file(imp, gz), 0);
    ck_assert_int_eq(cq_import_file(imp, cut), CQ_EIO);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "cut.txt.gz:"));
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "read error"));
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_bn_empty_file_and_a_file_without_data_lines)
{
    char empty[4200], nodata[4200], out[4200];
    write_text(empty, sizeof empty, "empty.txt", "");
    write_text(nodata, sizeof nodata, "nodata.txt",
               "configuration: {}\nwss://stream.binance.com:9443/stream?streams=btcusdt@trade <-> 1628952394\n"
               "1628952395.1: {\"result\":null,\"id\":1}\n");
    cq_import_t *imp = session(0);
    ck_assert_int_eq(cq_import_file(imp, empty), CQ_EPARSE);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "empty.txt: empty file"));
    ck_assert_int_eq(cq_import_file(imp, nodata), 0);
    cq_import_stats_t st;
    cq_import_get_stats(imp, &st);
    ck_assert_uint_eq(st.records, 0);
    ck_assert_uint_eq(st.skipped, 0);
    path_of(out, sizeof out, "nothing.cqd");
    ck_assert_int_eq(cq_import_write(imp, out), CQ_ESTATE);
    cq_import_destroy(imp);
}
END_TEST

/* A 1.7 MB exchangeInfo response among the inputs is not data; a frame
 * that long is reported, and the next line is still read. */
START_TEST(test_bn_overlong_lines_rest_response_ignored_frame_reported)
{
    size_t big = (1u << 20) + 100000;
    char *text = malloc(2 * big + 4096);
    ck_assert_ptr_nonnull(text);
    size_t k = (size_t)sprintf(text, "https://api.binance.com/api/v3/exchangeInfo -> 1628952394.865677: {\"x\":\"");
    memset(text + k, 'a', big);
    k += big;
    k += (size_t)sprintf(text + k, "\"}\n1700000000000000000 {\"stream\":\"s\",\"data\":{\"e\":\"trade\",\"x\":\"");
    memset(text + k, 'b', big);
    k += big;
    strcpy(text + k, "\"}}\n" TRADE_FRAME("1700000000100000000", "BTCUSDT", "1", "1.5", "1", "1700000000000",
                                            "true"));
    char p[4200];
    write_text(p, sizeof p, "long.txt", text);
    free(text);
    cq_import_t *imp = session(0);
    ck_assert_int_eq(cq_import_file(imp, p), 0);
    ck_assert_int_eq(g_msgs.n, 1);
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "long.txt:2: line longer than"));
    cq_import_stats_t st;
    cq_import_get_stats(imp, &st);
    ck_assert_uint_eq(st.records, 1);
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_bn_fixed_increments_refuse_off_grid_values_and_bad_klines)
{
    char p[4200];
    write_text(p, sizeof p, "grid.txt",
               TRADE_FRAME("1700000000000000000", "BTCUSDT", "1", "100.5", "1", "1700000000000", "true")
               TRADE_FRAME("1700000000100000000", "BTCUSDT", "2", "100.55", "1", "1700000000000", "true")
               TRADE_FRAME("1700000000200000000", "BTCUSDT", "3", "100.3", "1", "1700000000000", "true")
               "1700000000300000000 {\"stream\":\"x\",\"data\":{\"e\":\"kline\",\"E\":1,\"s\":\"BTCUSDT\",\"k\":{"
               "\"t\":1699999940000,\"T\":1699999999999,\"i\":\"1m\",\"o\":\"100.5\",\"c\":\"101\",\"h\":\"100\","
               "\"l\":\"99.5\",\"v\":\"3\",\"n\":2,\"x\":true}}}\n"
               "1700000000400000000 {\"stream\":\"x\",\"data\":{\"e\":\"kline\",\"E\":1,\"s\":\"BTCUSDT\",\"k\":{"
               "\"t\":1699999940000,\"T\":1699999999999,\"i\":\"1m\",\"o\":\"100.5\",\"c\":\"101\",\"h\":\"101\","
               "\"l\":\"99.5\",\"v\":\"3\",\"n\":2,\"x\":false}}}\n");
    cq_import_t *imp = session(0);
    ck_assert_int_eq(cq_import_define(imp, "BTCUSDT.BINANCE:tick=0.5:step=1"), 0);
    ck_assert_int_eq(cq_import_file(imp, p), 0);
    ck_assert_int_eq(g_msgs.n, 3);
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "grid.txt:2: more decimals than BTCUSDT.BINANCE allows"));
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "grid.txt:3: price '100.3' is not a multiple of the instrument's tick"));
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "grid.txt:4: inconsistent kline"));
    cq_import_stats_t st;
    cq_import_get_stats(imp, &st);
    ck_assert_uint_eq(st.records, 1); /* line 1; the forming kline of line 5 is no bar */
    cq_import_destroy(imp);
}
END_TEST

/* ---- books: empty batches, bare snapshots ------------------------------------------------ */

START_TEST(test_bn_empty_diff_and_empty_snapshot_become_batch_markers)
{
    char p[4200];
    write_text(p, sizeof p, "empty-batches.txt",
               DEPTH_FRAME("1700000000000000000", "BTCUSDT", "5", "7", "[\"10.5\",\"1\"]", "[\"11\",\"0\"]")
               DEPTH_FRAME("1700000000100000000", "BTCUSDT", "8", "9", "", "")
               "https://api.binance.com/api/v3/depth?symbol=btcusdt&limit=1000 -> 1700000000.2: "
               "{\"lastUpdateId\":9,\"bids\":[],\"asks\":[]}\n");
    cq_import_t *imp = session(1);
    ck_assert_msg(cq_import_file(imp, p) == 0, "%s", cq_import_error(imp));
    loaded_t l = write_and_load(imp, "empty-batches.cqd");
    ck_assert_uint_eq(l.n, 4);
    ck_assert_int_eq(l.rec[0].side, CQ_SIDE_BUY);
    ck_assert_int_eq(l.rec[0].flags, 0);
    ck_assert_int_eq(l.rec[1].side, CQ_SIDE_SELL);
    ck_assert_int_eq(l.rec[1].flags, CQ_EVF_LAST);
    ck_assert_int_eq(l.rec[1].delta.qty, 0);
    ck_assert_uint_eq(l.rec[1].delta.first_update_id, 5);
    ck_assert_uint_eq(l.rec[1].delta.update_id, 7);
    const cq_cqd_record_t *e = &l.rec[2];
    ck_assert_int_eq(e->side, CQ_SIDE_NONE);
    ck_assert_int_eq(e->flags, CQ_EVF_LAST);
    ck_assert_int_eq(e->delta.qty, 0);
    ck_assert_uint_eq(e->delta.first_update_id, 8);
    ck_assert_uint_eq(e->delta.update_id, 9);
    e = &l.rec[3];
    ck_assert_int_eq(e->side, CQ_SIDE_NONE);
    ck_assert_int_eq(e->flags, CQ_EVF_SNAPSHOT | CQ_EVF_LAST);
    ck_assert_uint_eq(e->delta.update_id, 9);
    ck_assert_int_eq(e->ts_init, 1700000000200000000LL);
    ck_assert_str_eq(cq_cqd_instrument(l.r, e->instrument)->id, "BTCUSDT.BINANCE"); /* URL symbol, upper case */
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

#define BARE_SNAPSHOT(recv) recv " {\"lastUpdateId\":20,\"bids\":[[\"10\",\"1\"]],\"asks\":[[\"11\",\"2\"]]}\n"

START_TEST(test_bn_bare_snapshot_first_in_its_file_takes_the_symbol_of_later_frames)
{
    char p[4200];
    write_text(p, sizeof p, "bare-first.txt",
               BARE_SNAPSHOT("1700000000000000000")
               DEPTH_FRAME("1700000000100000000", "ETHUSDT", "21", "22", "[\"10\",\"3\"]", ""));
    cq_import_t *imp = session(1);
    ck_assert_msg(cq_import_file(imp, p) == 0, "%s", cq_import_error(imp));
    loaded_t l = write_and_load(imp, "bare-first.cqd");
    ck_assert_uint_eq(l.n, 3);
    cq_cqd_info_t info;
    cq_cqd_get_info(l.r, &info);
    ck_assert_uint_eq(info.instrument_count, 1);
    ck_assert_str_eq(cq_cqd_instrument(l.r, 0)->id, "ETHUSDT.BINANCE");
    ck_assert_int_eq(l.rec[1].flags, CQ_EVF_SNAPSHOT | CQ_EVF_LAST);
    ck_assert_int_eq(l.rec[1].side, CQ_SIDE_SELL);
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_bn_bare_snapshot_without_one_file_symbol_needs_the_option)
{
    char alone[4200], mixed[4200];
    write_text(alone, sizeof alone, "bare-alone.txt", BARE_SNAPSHOT("1700000000000000000"));
    write_text(mixed, sizeof mixed, "bare-mixed.txt",
               DEPTH_FRAME("1700000000000000000", "ETHUSDT", "1", "2", "[\"10\",\"3\"]", "")
               BARE_SNAPSHOT("1700000000100000000")
               DEPTH_FRAME("1700000000200000000", "BTCUSDT", "1", "2", "[\"10\",\"3\"]", ""));
    cq_import_t *imp = session(0);
    ck_assert_int_eq(cq_import_file(imp, alone), 0);
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "bare-alone.txt:1: bare REST depth snapshot, and the file's frames "
                                              "name no symbol: give --snapshot-symbol"));
    ck_assert_int_eq(cq_import_file(imp, mixed), 0);
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "bare-mixed.txt:2: bare REST depth snapshot, and the file's frames "
                                              "name several symbols"));
    cq_import_stats_t st;
    cq_import_get_stats(imp, &st);
    ck_assert_uint_eq(st.skipped, 2);
    cq_import_destroy(imp);

    imp = session_with((cq_import_opts_t){.strict = 1, .snapshot_symbol = "SOLUSDT"});
    ck_assert_int_eq(cq_import_file(imp, alone), 0);
    ck_assert_int_eq(cq_import_file(imp, mixed), 0);
    loaded_t l = write_and_load(imp, "bare-option.cqd");
    uint32_t k;
    ck_assert_int_eq(cq_cqd_find_instrument(l.r, "SOLUSDT.BINANCE", &k), 0);
    size_t snaps = 0;
    for (size_t i = 0; i < l.n; i++)
        snaps += (l.rec[i].flags & CQ_EVF_SNAPSHOT) && l.rec[i].instrument == k;
    ck_assert_uint_eq(snaps, 4);
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

/* A pipe is read once, from its first line on: nothing is rewound or
 * reopened, and the bare snapshot takes the symbol of the frames before it. */
START_TEST(test_cli_reads_a_recording_from_a_pipe_without_losing_lines)
{
    char src[4200], fifo[4200], out[4200], err[512];
    const char *bin = cq_test_cquant();
    if (!bin) {
        cq_test_skip("test_cli_reads_a_recording_from_a_pipe_without_losing_lines", "no cquant binary");
        return;
    }
    write_text(src, sizeof src, "pipe-src.txt",
               DEPTH_FRAME("1700000000000000000", "BTCUSDT", "1", "2", "[\"10\",\"3\"]", "")
               BARE_SNAPSHOT("1700000000100000000")
               TRADE_FRAME("1700000000200000000", "BTCUSDT", "7", "10", "1", "1700000000000", "false"));
    path_of(fifo, sizeof fifo, "pipe.fifo");
    path_of(out, sizeof out, "pipe.cqd");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(cq_test_shell("timeout 30 cat '%s' > '%s' & '%s' convert '%s' -o '%s' --quiet --strict; st=$?; wait; "
                         "exit $st",
                         src, fifo, bin, fifo, out),
                     0);
    cq_cqd_reader_t *r;
    ck_assert_int_eq(cq_cqd_open(&r, out, CQ_CQD_VERIFY_ALL, err, sizeof err), 0);
    cq_cqd_info_t info;
    cq_cqd_get_info(r, &info);
    ck_assert_uint_eq(info.record_count, 4);
    ck_assert_uint_eq(info.count[CQ_EV_BOOK_DELTA], 3);
    ck_assert_uint_eq(info.instrument_count, 1);
    ck_assert_str_eq(cq_cqd_instrument(r, 0)->id, "BTCUSDT.BINANCE");
    cq_cqd_close(r);
}
END_TEST

START_TEST(test_bn_venue_option_names_the_instrument_ids)
{
    char p[4200];
    write_text(p, sizeof p, "venue.txt", TRADE_FRAME("1700000000000000000", "BTCUSDT", "1", "1.5", "1",
                                                     "1700000000000", "false"));
    cq_import_t *imp = session_with((cq_import_opts_t){.venue = "BNSPOT"});
    ck_assert_int_eq(cq_import_file(imp, p), 0);
    loaded_t l = write_and_load(imp, "venue.cqd");
    ck_assert_str_eq(cq_cqd_instrument(l.r, 0)->id, "BTCUSDT.BNSPOT");
    ck_assert_str_eq(cq_cqd_instrument(l.r, 0)->venue, "BNSPOT");
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

/* ---- exchangeInfo ------------------------------------------------------------------------ */

#define INFO_SYMBOL(sym, base, quote, tick, step, minq)                                                    \
    "{\"symbol\":\"" sym "\",\"status\":\"TRADING\",\"baseAsset\":\"" base "\",\"quoteAsset\":\"" quote     \
    "\",\"filters\":[{\"filterType\":\"PRICE_FILTER\",\"minPrice\":\"0.01\",\"tickSize\":\"" tick "\"},"     \
    "{\"filterType\":\"LOT_SIZE\",\"minQty\":\"" minq "\",\"maxQty\":\"9000.00000000\",\"stepSize\":\"" step \
    "\"},{\"filterType\":\"NOTIONAL\",\"minNotional\":\"5.00000000\"}]}"

START_TEST(test_bn_exchange_info_body_specs_only_the_symbols_in_the_data)
{
    char info[4200], p[4200];
    write_text(info, sizeof info, "info.json",
               "{\"timezone\":\"UTC\",\"symbols\":["
               INFO_SYMBOL("BTCUSDT", "BTC", "USDT", "0.01000000", "0.00001000", "0.00001000") ","
               INFO_SYMBOL("ETHUSDT", "ETH", "USDT", "0.01000000", "0.00010000", "0.00010000") ","
               INFO_SYMBOL("ZEROTICK", "ZE", "RO", "0.00000000", "0.00000000", "0.00000000") "]}");
    write_text(p, sizeof p, "info-data.txt",
               TRADE_FRAME("1700000000000000000", "BTCUSDT", "1", "100.5", "0.5", "1700000000000", "true")
               TRADE_FRAME("1700000000100000000", "ZEROTICK", "2", "1.2345", "0.5", "1700000000000", "true")
               TRADE_FRAME("1700000000200000000", "ETHUSDT", "3", "2000.123", "1", "1700000000000", "true"));
    cq_import_t *imp = session(0);
    size_t n = 0;
    ck_assert_int_eq(cq_import_exchange_info(imp, info, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(cq_import_file(imp, p), 0);
    ck_assert_int_eq(g_msgs.n, 1); /* ETHUSDT 2000.123 is off its 0.01 tick */
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "info-data.txt:3: more decimals than ETHUSDT.BINANCE allows"));
    loaded_t l = write_and_load(imp, "info.cqd");
    cq_cqd_info_t ci;
    cq_cqd_get_info(l.r, &ci);
    ck_assert_uint_eq(ci.instrument_count, 3); /* ETHUSDT was defined when its row came */
    const cq_cqd_instrument_t *b = cq_cqd_instrument(l.r, 0);
    ck_assert_str_eq(b->id, "BTCUSDT.BINANCE");
    ck_assert_str_eq(b->base, "BTC");
    ck_assert_int_eq(b->price_precision, 2);
    ck_assert_int_eq(b->size_precision, 5);
    ck_assert_int_eq(b->min_qty, 1);
    ck_assert_int_eq(b->max_qty, 900000000LL);
    ck_assert_int_eq(b->min_notional, 5);
    const cq_cqd_instrument_t *z = cq_cqd_instrument(l.r, 1);
    ck_assert_str_eq(z->id, "ZEROTICK.BINANCE");
    ck_assert_int_eq(z->price_precision, 4); /* tickSize 0: inferred from 1.2345 */
    ck_assert_int_eq(z->size_precision, 1);
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_bn_instrument_option_wins_over_exchange_info)
{
    char info[4200], p[4200];
    write_text(info, sizeof info, "info-line.txt",
               "https://api.binance.com/api/v3/exchangeInfo -> 1628952394.865677: {\"symbols\":["
               INFO_SYMBOL("BTCUSDT", "BTC", "USDT", "0.01000000", "0.00001000", "0.00001000") "]}\n"
               "configuration: {}\n");
    write_text(p, sizeof p, "wins.txt",
               TRADE_FRAME("1700000000000000000", "BTCUSDT", "1", "100.5", "0.5", "1700000000000", "true"));
    cq_import_t *imp = session(1);
    ck_assert_int_eq(cq_import_define(imp, "BTCUSDT.BINANCE:tick=0.001:step=0.1"), 0);
    ck_assert_int_eq(cq_import_exchange_info(imp, info, NULL), 0);
    ck_assert_int_eq(cq_import_file(imp, p), 0);
    loaded_t l = write_and_load(imp, "wins.cqd");
    ck_assert_int_eq(cq_cqd_instrument(l.r, 0)->price_precision, 3);
    ck_assert_int_eq(cq_cqd_instrument(l.r, 0)->size_precision, 1);
    ck_assert_str_eq(cq_cqd_instrument(l.r, 0)->base, "");
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

/* An exchangeInfo spec is BINANCE's: a Tardis row of binance-futures with
 * the same symbol keeps its own, inferred instrument. */
START_TEST(test_bn_exchange_info_spec_does_not_capture_other_venues_rows)
{
    char info[4200], p[4200], csv[4200];
    write_text(info, sizeof info, "info-venue.json",
               "{\"symbols\":[" INFO_SYMBOL("BTCUSDT", "BTC", "USDT", "0.01000000", "0.00001000", "0.00001000") "]}");
    write_text(p, sizeof p, "spot.txt",
               TRADE_FRAME("1700000000000000000", "BTCUSDT", "1", "100.5", "0.5", "1700000000000", "true"));
    write_text(csv, sizeof csv, "futures.csv",
               "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
               "binance-futures,BTCUSDT,1700000000000001,1700000000000002,9,buy,100.125,3\n");
    cq_import_t *imp = session(1);
    ck_assert_int_eq(cq_import_exchange_info(imp, info, NULL), 0);
    ck_assert_int_eq(cq_import_file(imp, p), 0);
    ck_assert_msg(cq_import_file(imp, csv) == 0, "%s", cq_import_error(imp));
    loaded_t l = write_and_load(imp, "venues.cqd");
    ck_assert_str_eq(cq_cqd_instrument(l.r, l.rec[0].instrument)->id, "BTCUSDT.BINANCE");
    const cq_cqd_instrument_t *fut = cq_cqd_instrument(l.r, l.rec[1].instrument);
    ck_assert_str_eq(fut->id, "BTCUSDT.BINANCE-FUTURES");
    ck_assert_int_eq(fut->price_precision, 3);
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_bn_exchange_info_errors_name_the_file)
{
    char missing[4200], text[4200], broken[4200], nosym[4200];
    path_of(missing, sizeof missing, "no-info.json");
    write_text(text, sizeof text, "info-text.txt", "hello\nworld\n");
    write_text(broken, sizeof broken, "info-broken.json", "{\"symbols\":[");
    write_text(nosym, sizeof nosym, "info-nosym.json", "{\"symbols\":7}");
    cq_import_t *imp = session(0);
    size_t n = 99;
    ck_assert_int_eq(cq_import_exchange_info(imp, missing, &n), CQ_EIO);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "no-info.json: cannot open"));
    ck_assert_int_eq(cq_import_exchange_info(imp, text, NULL), CQ_EPARSE);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "info-text.txt: no exchangeInfo response"));
    ck_assert_int_eq(cq_import_exchange_info(imp, broken, NULL), CQ_EPARSE);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "not valid JSON"));
    ck_assert_int_eq(cq_import_exchange_info(imp, nosym, NULL), CQ_EPARSE);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "no \"symbols\" array"));
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_bn_api_rejects_bad_arguments)
{
    cq_import_t *imp;
    const char *bad_venues[] = {"", "A.B", "ABCDEFGHIJKLMNOP", "A B", "A\"B"};
    for (size_t i = 0; i < sizeof bad_venues / sizeof bad_venues[0]; i++) {
        cq_import_opts_t o = {.venue = bad_venues[i]};
        ck_assert_int_eq(cq_import_create(&imp, &o), CQ_EINVAL);
        cq_import_opts_t s = {.snapshot_symbol = bad_venues[i]};
        ck_assert_int_eq(cq_import_create(&imp, &s), i == 2 ? 0 : CQ_EINVAL); /* 16 chars fit a symbol */
        if (i == 2)
            cq_import_destroy(imp);
    }
    cq_import_opts_t s = {.snapshot_symbol = "ABCDEFGHIJKLMNOPQRSTUVWX"}; /* 24: too long */
    ck_assert_int_eq(cq_import_create(&imp, &s), CQ_EINVAL);
    imp = session(0);
    ck_assert_int_eq(cq_import_offer(NULL, "X.Y"), CQ_EINVAL);
    ck_assert_int_eq(cq_import_offer(imp, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_import_offer(imp, ""), CQ_EINVAL);
    ck_assert_int_eq(cq_import_offer(imp, "NOVENUE"), CQ_EINVAL);
    ck_assert_int_eq(cq_import_offer(imp, "X.Y:tick=-1"), CQ_EINVAL);
    ck_assert_int_eq(cq_import_offer(imp, "X.Y:tick=0.1"), 0);
    ck_assert_int_eq(cq_import_offer(imp, "X.Y:tick=0.01"), 0); /* replaces */
    ck_assert_int_eq(cq_import_exchange_info(NULL, "x", NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_import_exchange_info(imp, NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_import_exchange_info(imp, "", NULL), CQ_EINVAL);
    uint32_t idx;
    ck_assert_int_eq(cq_import_instrument(imp, "X", "Y", &idx), 0);
    ck_assert_int_eq(cq_import_fit(imp, idx, 3, 0), CQ_ERANGE); /* the offer fixed 2 decimals */
    cq_import_destroy(imp);
}
END_TEST

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[8192];
    if (!d)
        return;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/cq-test-bn-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("cqd_binance");
    TCase *tc = tcase_create("binance");
    tcase_add_test(tc, test_bn_btcusdt_gz_counts_match_the_readme_and_every_record_the_wire);
    tcase_add_test(tc, test_bn_ethusdt_gz_counts_match_the_readme_and_every_record_the_wire);
    tcase_add_test(tc, test_bn_btcusdt_head_txt_counts_match_the_readme_and_every_record_the_wire);
    tcase_add_test(tc, test_bn_cryptofeed_ws_and_rest_depth_merge_by_receive_time_with_exchange_info_specs);
    tcase_add_test(tc, test_bn_cryptofeed_interleaved_keeps_ten_symbols_apart);
    tcase_add_test(tc, test_bn_batches_are_contiguous_runs_with_one_pair_of_update_ids);
    tcase_add_test(tc, test_bn_diff_that_arrived_before_its_snapshot_stays_before_it);
    tcase_add_test(tc, test_cli_dump_prints_the_wire_strings_of_the_recording);
    tcase_add_test(tc, test_cli_dump_prints_closed_klines_as_bars_at_exchange_info_precision);
    tcase_add_test(tc, test_cli_binance_options_are_checked);
    tcase_add_test(tc, test_bn_malformed_lines_are_reported_as_file_line_and_skipped);
    tcase_add_test(tc, test_bn_strict_stops_at_the_first_malformed_line);
    tcase_add_test(tc, test_bn_truncated_gzip_is_an_error_naming_the_file);
    tcase_add_test(tc, test_bn_empty_file_and_a_file_without_data_lines);
    tcase_add_test(tc, test_bn_overlong_lines_rest_response_ignored_frame_reported);
    tcase_add_test(tc, test_bn_fixed_increments_refuse_off_grid_values_and_bad_klines);
    tcase_add_test(tc, test_bn_empty_diff_and_empty_snapshot_become_batch_markers);
    tcase_add_test(tc, test_bn_bare_snapshot_first_in_its_file_takes_the_symbol_of_later_frames);
    tcase_add_test(tc, test_bn_bare_snapshot_without_one_file_symbol_needs_the_option);
    tcase_add_test(tc, test_cli_reads_a_recording_from_a_pipe_without_losing_lines);
    tcase_add_test(tc, test_bn_venue_option_names_the_instrument_ids);
    tcase_add_test(tc, test_bn_exchange_info_body_specs_only_the_symbols_in_the_data);
    tcase_add_test(tc, test_bn_instrument_option_wins_over_exchange_info);
    tcase_add_test(tc, test_bn_exchange_info_spec_does_not_capture_other_venues_rows);
    tcase_add_test(tc, test_bn_exchange_info_errors_name_the_file);
    tcase_add_test(tc, test_bn_api_rejects_bad_arguments);
    suite_add_tcase(s, tc);
    int rc = cq_test_run(s);
    remove_dir(g_dir);
    return rc;
}
