/*
 * test_cqd.c - the .cqd file: writer, reader, checksums, record helpers and
 * every way a file can be broken (truncated, corrupted, newer, hostile).
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cquant/cqd.h"
#include "cquant/error.h"
#include "support/cq_test.h"

static char g_dir[4096];

static const char *tmp_path(const char *name)
{
    static char buf[4200];
    snprintf(buf, sizeof buf, "%s/%s", g_dir, name);
    return buf;
}

static cq_cqd_instrument_t make_instrument(const char *symbol, const char *venue, int pp, int sp,
                                           int64_t tick, int64_t step)
{
    cq_cqd_instrument_t in;
    memset(&in, 0, sizeof in);
    snprintf(in.id, sizeof in.id, "%s.%s", symbol, venue);
    snprintf(in.symbol, sizeof in.symbol, "%s", symbol);
    snprintf(in.venue, sizeof in.venue, "%s", venue);
    in.price_precision = pp;
    in.size_precision = sp;
    in.tick_units = tick;
    in.step_units = step;
    return in;
}

/* A valid record of `type` with random contents (unused fields zero). */
static cq_cqd_record_t random_record(cq_rng_t *rng, int type, uint32_t inst, int64_t ts_init)
{
    cq_cqd_record_t r;
    memset(&r, 0, sizeof r);
    r.type = (uint8_t)type;
    r.instrument = inst;
    r.ts_init = ts_init;
    r.ts_event = ts_init - (int64_t)cq_rng_below(rng, 1000000);
    int64_t px = 1000000 + (int64_t)cq_rng_below(rng, 10000);
    switch (type) {
    case CQ_EV_TRADE:
        r.side = (uint8_t)cq_rng_below(rng, 3);
        r.trade.price = px;
        r.trade.qty = (int64_t)cq_rng_below(rng, 100000);
        r.trade.trade_id = cq_rng_next(rng);
        break;
    case CQ_EV_QUOTE:
        r.quote.bid_price = px - 1;
        r.quote.ask_price = px;
        r.quote.bid_qty = (int64_t)cq_rng_below(rng, 100000);
        r.quote.ask_qty = (int64_t)cq_rng_below(rng, 100000);
        r.quote.update_id = cq_rng_next(rng);
        break;
    case CQ_EV_BOOK_DELTA:
        r.side = (uint8_t)(1 + cq_rng_below(rng, 2));
        r.flags = (uint16_t)cq_rng_below(rng, 4);
        r.delta.price = -px; /* negative prices exist (e.g. oil futures) */
        r.delta.qty = (int64_t)cq_rng_below(rng, 100000);
        r.delta.update_id = cq_rng_next(rng);
        break;
    default:
        r.bar.open = px;
        r.bar.high = px + 10;
        r.bar.low = px - 10;
        r.bar.close = px + 1;
        r.bar.volume = INT64_MAX;
        r.ts_event = ts_init - 60000000000LL;
        break;
    }
    return r;
}

static const int TYPES[4] = {CQ_EV_TRADE, CQ_EV_QUOTE, CQ_EV_BOOK_DELTA, CQ_EV_BAR};

/* Write n records (types cycling) to path; the records go to out if given. */
static void write_file(const char *path, size_t n, cq_cqd_record_t *out)
{
    cq_cqd_writer_t *w;
    char err[256];
    cq_rng_t rng = {0x1234567};
    ck_assert_int_eq(cq_cqd_writer_open(&w, path, err, sizeof err), 0);
    cq_cqd_instrument_t a = make_instrument("BTCUSDT", "BINANCE", 2, 5, 1, 1);
    cq_cqd_instrument_t b = make_instrument("ETHUSDT", "BINANCE", 1, 4, 5, 10);
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &a, NULL), 0);
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &b, NULL), 0);
    int64_t ts = 1700000000000000000LL;
    for (size_t i = 0; i < n; i++) {
        ts += cq_rng_below(&rng, 3); /* equal times happen */
        cq_cqd_record_t r = random_record(&rng, TYPES[i % 4], (uint32_t)(i / 4 % 2), ts);
        ck_assert_int_eq(cq_cqd_writer_append(w, &r), 0);
        if (out)
            out[i] = r;
    }
    ck_assert_int_eq(cq_cqd_writer_finish(w), 0);
    cq_cqd_writer_destroy(w);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void write_all(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, len, f), len);
    fclose(f);
}

static int open_rc(const char *path, unsigned flags, char *err, size_t errlen)
{
    cq_cqd_reader_t *r = NULL;
    int rc = cq_cqd_open(&r, path, flags, err, errlen);
    if (rc == 0)
        cq_cqd_close(r);
    else
        ck_assert_ptr_null(r);
    return rc;
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void wr64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* Recompute every checksum of a file image from docs/cqd.md alone: what a
 * hostile writer (or a reader in another language) would do. */
static void refresh_checksums(unsigned char *b)
{
    uint64_t count = rd64(b + 32), br;
    uint32_t ninst, br32;
    memcpy(&br32, b + 40, 4);
    memcpy(&ninst, b + 44, 4);
    br = br32;
    uint64_t nblocks = (count + br - 1) / br, inst_off = rd64(b + 64), sums_off = rd64(b + 72);
    for (uint64_t i = 0; i < nblocks; i++) {
        uint64_t first = i * br, n = count - first < br ? count - first : br;
        wr64(b + sums_off + 8 * i, cq_cqd_checksum(16 + i, b + 256 + first * 64, n * 64));
    }
    wr64(b + 88, cq_cqd_checksum(1, b + inst_off, (size_t)ninst * 256));
    wr64(b + 96, cq_cqd_checksum(2, b + sums_off, nblocks * 8));
    wr64(b + 16, 0);
    wr64(b + 16, cq_cqd_checksum(0, b, 256));
}

/* ---- round trip -------------------------------------------------------------------- */

START_TEST(test_cqd_roundtrip_every_record_type_reads_back_identical)
{
    enum { N = 2500 }; /* three blocks, the last one partial */
    static cq_cqd_record_t in[N];
    const char *path = tmp_path("roundtrip.cqd");
    write_file(path, N, in);
    cq_cqd_reader_t *r;
    char err[256];
    ck_assert_int_eq(cq_cqd_open(&r, path, CQ_CQD_VERIFY_ALL, err, sizeof err), 0);
    cq_cqd_info_t info;
    cq_cqd_get_info(r, &info);
    ck_assert_uint_eq(info.version, CQ_CQD_VERSION);
    ck_assert_uint_eq(info.record_count, N);
    ck_assert_uint_eq(info.block_count, 3);
    ck_assert_uint_eq(info.instrument_count, 2);
    ck_assert_uint_eq(info.count[CQ_EV_TRADE], N / 4);
    ck_assert_uint_eq(info.count[CQ_EV_BAR], N / 4);
    ck_assert_int_eq(info.ts_init_first, in[0].ts_init);
    ck_assert_int_eq(info.ts_init_last, in[N - 1].ts_init);
    ck_assert_str_eq(cq_cqd_instrument(r, 1)->id, "ETHUSDT.BINANCE");
    ck_assert_int_eq(cq_cqd_instrument(r, 1)->tick_units, 5);
    cq_cqd_cursor_t c;
    const cq_cqd_record_t *rec;
    size_t n = 0;
    int rc;
    ck_assert_int_eq(cq_cqd_cursor_init(&c, r), 0);
    while ((rc = cq_cqd_next(&c, &rec)) > 0) {
        ck_assert_uint_lt(n, N);
        ck_assert_msg(memcmp(rec, &in[n], sizeof *rec) == 0, "record %zu differs", n);
        n++;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(n, N);
    ck_assert_int_eq(cq_cqd_next(&c, &rec), 0); /* stays at the end */
    cq_cqd_close(r);
}
END_TEST

START_TEST(test_cqd_file_without_records_opens_and_iterates_nothing)
{
    const char *path = tmp_path("empty-records.cqd");
    write_file(path, 0, NULL);
    cq_cqd_reader_t *r;
    ck_assert_int_eq(cq_cqd_open(&r, path, CQ_CQD_VERIFY_ALL, NULL, 0), 0);
    cq_cqd_info_t info;
    cq_cqd_get_info(r, &info);
    ck_assert_uint_eq(info.record_count, 0);
    ck_assert_uint_eq(info.block_count, 0);
    cq_cqd_cursor_t c;
    const cq_cqd_record_t *rec;
    cq_cqd_cursor_init(&c, r);
    ck_assert_int_eq(cq_cqd_next(&c, &rec), 0);
    ck_assert_int_eq(cq_cqd_cursor_seek(&c, r, 0), 0);
    ck_assert_int_eq(cq_cqd_next(&c, &rec), 0);
    cq_cqd_close(r);
}
END_TEST

START_TEST(test_cqd_same_input_gives_byte_identical_files)
{
    size_t la, lb;
    write_file(tmp_path("same-a.cqd"), 1500, NULL);
    write_file(tmp_path("same-b.cqd"), 1500, NULL);
    unsigned char *a = read_all(tmp_path("same-a.cqd"), &la);
    unsigned char *b = read_all(tmp_path("same-b.cqd"), &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_int_eq(memcmp(a, b, la), 0);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_cqd_writer_zeroes_fields_a_type_does_not_use)
{
    const char *path = tmp_path("zeroed.cqd");
    cq_cqd_writer_t *w;
    ck_assert_int_eq(cq_cqd_writer_open(&w, path, NULL, 0), 0);
    cq_cqd_instrument_t in = make_instrument("A", "B", 0, 0, 1, 1);
    memset(in.reserved2_, 0xAB, sizeof in.reserved2_);
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, NULL), 0);
    cq_cqd_record_t r;
    memset(&r, 0x5A, sizeof r);
    r.type = CQ_EV_TRADE;
    r.side = CQ_SIDE_BUY;
    r.flags = 0;
    r.instrument = 0;
    ck_assert_int_eq(cq_cqd_writer_append(w, &r), 0);
    ck_assert_int_eq(cq_cqd_writer_finish(w), 0);
    cq_cqd_writer_destroy(w);
    cq_cqd_reader_t *rd;
    ck_assert_int_eq(cq_cqd_open(&rd, path, 0, NULL, 0), 0);
    cq_cqd_cursor_t c;
    const cq_cqd_record_t *rec;
    cq_cqd_cursor_init(&c, rd);
    ck_assert_int_eq(cq_cqd_next(&c, &rec), 1);
    ck_assert_int_eq(rec->trade.reserved_[0], 0);
    ck_assert_int_eq(rec->trade.reserved_[1], 0);
    ck_assert_int_eq(rec->trade.price, r.trade.price);
    ck_assert_uint_eq(cq_cqd_instrument(rd, 0)->reserved2_[7], 0);
    cq_cqd_close(rd);
}
END_TEST

/* ---- writer: bad input ------------------------------------------------------------- */

START_TEST(test_cqd_writer_rejects_decreasing_ts_init_naming_the_record)
{
    cq_cqd_writer_t *w;
    ck_assert_int_eq(cq_cqd_writer_open(&w, tmp_path("order.cqd"), NULL, 0), 0);
    cq_cqd_instrument_t in = make_instrument("A", "B", 2, 2, 1, 1);
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, NULL), 0);
    cq_rng_t rng = {7};
    cq_cqd_record_t r = random_record(&rng, CQ_EV_TRADE, 0, 100);
    ck_assert_int_eq(cq_cqd_writer_append(w, &r), 0);
    r.ts_init = 100; /* equal is fine */
    ck_assert_int_eq(cq_cqd_writer_append(w, &r), 0);
    r.ts_init = 99;
    ck_assert_int_eq(cq_cqd_writer_append(w, &r), CQ_EINVAL);
    ck_assert_ptr_nonnull(strstr(cq_cqd_writer_error(w), "record 2"));
    ck_assert_ptr_nonnull(strstr(cq_cqd_writer_error(w), "ts_init"));
    ck_assert_uint_eq(cq_cqd_writer_count(w), 2);
    cq_cqd_writer_destroy(w);
}
END_TEST

START_TEST(test_cqd_writer_rejects_bad_records)
{
    cq_cqd_writer_t *w;
    ck_assert_int_eq(cq_cqd_writer_open(&w, tmp_path("badrec.cqd"), NULL, 0), 0);
    cq_cqd_instrument_t in = make_instrument("A", "B", 2, 2, 1, 1);
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, NULL), 0);
    cq_rng_t rng = {7};
    cq_cqd_record_t good = random_record(&rng, CQ_EV_TRADE, 0, 100), r;
    ck_assert_int_eq(cq_cqd_writer_append(NULL, &good), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_writer_append(w, NULL), CQ_EINVAL);
    r = good, r.type = CQ_EV_BOOK; /* not a recordable type */
    ck_assert_int_eq(cq_cqd_writer_append(w, &r), CQ_EINVAL);
    r = good, r.type = 0;
    ck_assert_int_eq(cq_cqd_writer_append(w, &r), CQ_EINVAL);
    r = good, r.side = 3;
    ck_assert_int_eq(cq_cqd_writer_append(w, &r), CQ_EINVAL);
    r = good, r.flags = CQ_EVF_REPLAY;
    ck_assert_int_eq(cq_cqd_writer_append(w, &r), CQ_EINVAL);
    r = good, r.instrument = 1;
    ck_assert_int_eq(cq_cqd_writer_append(w, &r), CQ_EINVAL);
    ck_assert_ptr_nonnull(strstr(cq_cqd_writer_error(w), "instrument index 1"));
    ck_assert_uint_eq(cq_cqd_writer_count(w), 0);
    ck_assert_int_eq(cq_cqd_writer_append(w, &good), 0);
    cq_cqd_writer_destroy(w);
}
END_TEST

START_TEST(test_cqd_writer_rejects_bad_instruments)
{
    cq_cqd_writer_t *w;
    uint32_t idx = 77;
    ck_assert_int_eq(cq_cqd_writer_open(&w, tmp_path("badinst.cqd"), NULL, 0), 0);
    cq_cqd_instrument_t good = make_instrument("A", "B", 2, 2, 1, 1), in;
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, NULL, &idx), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_writer_add_instrument(NULL, &good, &idx), CQ_EINVAL);
    in = good, in.id[0] = 0;
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, &idx), CQ_EINVAL);
    in = good, memset(in.id, 'X', sizeof in.id); /* no NUL */
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, &idx), CQ_EINVAL);
    in = good, memset(in.venue, 'X', sizeof in.venue);
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, &idx), CQ_EINVAL);
    in = good, in.price_precision = 19;
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, &idx), CQ_EINVAL);
    in = good, in.size_precision = -1;
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, &idx), CQ_EINVAL);
    in = good, in.tick_units = 0;
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, &idx), CQ_EINVAL);
    in = good, in.min_qty = -1;
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, &idx), CQ_EINVAL);
    ck_assert_uint_eq(idx, 77);
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &good, &idx), 0);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &good, &idx), CQ_EEXIST);
    cq_cqd_writer_destroy(w);
}
END_TEST

START_TEST(test_cqd_writer_open_rejects_bad_paths)
{
    cq_cqd_writer_t *w = (cq_cqd_writer_t *)1;
    char err[256] = "";
    ck_assert_int_eq(cq_cqd_writer_open(NULL, "x.cqd", err, sizeof err), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_writer_open(&w, NULL, err, sizeof err), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_writer_open(&w, "", err, sizeof err), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_writer_open(&w, tmp_path("no/such/dir/x.cqd"), err, sizeof err), CQ_EIO);
    ck_assert_ptr_null(w);
    ck_assert_ptr_nonnull(strstr(err, "cannot create"));
    cq_cqd_writer_destroy(NULL);
}
END_TEST

static int dir_has_entry_starting(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix)))
            found = 1;
    closedir(d);
    return found;
}

START_TEST(test_cqd_unfinished_writer_never_leaves_a_file_under_the_final_name)
{
    const char *path = tmp_path("partial.cqd");
    char keep[4200];
    snprintf(keep, sizeof keep, "%s", path);
    cq_cqd_writer_t *w;
    ck_assert_int_eq(cq_cqd_writer_open(&w, keep, NULL, 0), 0);
    cq_cqd_instrument_t in = make_instrument("A", "B", 2, 2, 1, 1);
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, NULL), 0);
    cq_rng_t rng = {9};
    for (int i = 0; i < 3000; i++) {
        cq_cqd_record_t r = random_record(&rng, CQ_EV_QUOTE, 0, 1000 + i);
        ck_assert_int_eq(cq_cqd_writer_append(w, &r), 0);
    }
    ck_assert_int_ne(access(keep, F_OK), 0); /* blocks were written, but elsewhere */
    ck_assert(dir_has_entry_starting(g_dir, "partial.cqd.tmp-"));
    cq_cqd_writer_destroy(w); /* a crash or an abandoned import */
    ck_assert_int_ne(access(keep, F_OK), 0);
    ck_assert(!dir_has_entry_starting(g_dir, "partial.cqd.tmp-"));
}
END_TEST

START_TEST(test_cqd_writer_refuses_use_after_finish)
{
    cq_cqd_writer_t *w;
    ck_assert_int_eq(cq_cqd_writer_open(&w, tmp_path("twice.cqd"), NULL, 0), 0);
    ck_assert_int_eq(cq_cqd_writer_finish(w), 0);
    ck_assert_int_eq(cq_cqd_writer_finish(w), CQ_ESTATE);
    cq_cqd_instrument_t in = make_instrument("A", "B", 2, 2, 1, 1);
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, NULL), CQ_ESTATE);
    cq_cqd_writer_destroy(w);
    ck_assert_int_eq(access(tmp_path("twice.cqd"), F_OK), 0); /* finished file kept */
}
END_TEST

/* ---- reader: bad files --------------------------------------------------------------- */

START_TEST(test_cqd_open_rejects_null_missing_and_directory)
{
    cq_cqd_reader_t *r = NULL;
    char err[256];
    ck_assert_int_eq(cq_cqd_open(NULL, "x", 0, err, sizeof err), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_open(&r, NULL, 0, err, sizeof err), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_open(&r, "", 0, err, sizeof err), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_open(&r, tmp_path("missing.cqd"), 0, err, sizeof err), CQ_EIO);
    ck_assert_ptr_nonnull(strstr(err, "missing.cqd"));
    ck_assert_int_eq(cq_cqd_open(&r, g_dir, 0, err, sizeof err), CQ_EIO);
    ck_assert_int_eq(cq_cqd_open(&r, tmp_path("missing.cqd"), 0, NULL, 0), CQ_EIO);
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_cqd_open_empty_file_reports_truncation)
{
    char err[256];
    write_all(tmp_path("zero.cqd"), "", 0);
    ck_assert_int_eq(open_rc(tmp_path("zero.cqd"), 0, err, sizeof err), CQ_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "empty"));
}
END_TEST

START_TEST(test_cqd_open_text_file_is_not_a_cqd_file)
{
    char err[256];
    const char *text = "exchange,symbol,timestamp\n";
    write_all(tmp_path("text.cqd"), text, strlen(text));
    ck_assert_int_eq(open_rc(tmp_path("text.cqd"), 0, err, sizeof err), CQ_EPARSE);
    ck_assert_ptr_nonnull(strstr(err, "not a .cqd file"));
}
END_TEST

START_TEST(test_cqd_open_newer_version_names_both_versions)
{
    size_t len;
    char err[256];
    write_file(tmp_path("v1.cqd"), 10, NULL);
    unsigned char *b = read_all(tmp_path("v1.cqd"), &len);
    uint32_t v = CQ_CQD_VERSION + 1;
    memcpy(b + 8, &v, 4);
    refresh_checksums(b); /* a genuine file from a newer writer */
    write_all(tmp_path("v2.cqd"), b, len);
    ck_assert_int_eq(open_rc(tmp_path("v2.cqd"), 0, err, sizeof err), CQ_EVERSION);
    ck_assert_ptr_nonnull(strstr(err, "version 2"));
    ck_assert_ptr_nonnull(strstr(err, "supported version 1"));
    free(b);
}
END_TEST

START_TEST(test_cqd_open_unknown_header_flags_are_a_newer_feature)
{
    size_t len;
    char err[256];
    write_file(tmp_path("flags.cqd"), 10, NULL);
    unsigned char *b = read_all(tmp_path("flags.cqd"), &len);
    b[24] = 1;
    refresh_checksums(b);
    write_all(tmp_path("flags.cqd"), b, len);
    ck_assert_int_eq(open_rc(tmp_path("flags.cqd"), 0, err, sizeof err), CQ_EVERSION);
    free(b);
}
END_TEST

START_TEST(test_cqd_every_header_byte_flip_is_detected)
{
    size_t len;
    char err[256];
    write_file(tmp_path("flip.cqd"), 40, NULL);
    unsigned char *orig = read_all(tmp_path("flip.cqd"), &len);
    unsigned char *b = malloc(len);
    for (size_t i = 0; i < CQ_CQD_HEADER_SIZE; i++) {
        for (int k = 0; k < 2; k++) {
            memcpy(b, orig, len);
            b[i] ^= k ? 0xFF : 0x01;
            write_all(tmp_path("flipped.cqd"), b, len);
            int rc = open_rc(tmp_path("flipped.cqd"), 0, err, sizeof err);
            ck_assert_msg(rc == CQ_ECORRUPT || (i < 8 && rc == CQ_EPARSE),
                          "flip of header byte %zu gave %d (%s)", i, rc, err);
        }
    }
    free(b);
    free(orig);
}
END_TEST

START_TEST(test_cqd_every_table_byte_flip_is_detected_at_open)
{
    size_t len;
    char err[256];
    write_file(tmp_path("tflip.cqd"), 10, NULL);
    unsigned char *orig = read_all(tmp_path("tflip.cqd"), &len);
    unsigned char *b = malloc(len);
    size_t tables = CQ_CQD_HEADER_SIZE + 10 * CQ_CQD_RECORD_SIZE;
    for (size_t i = tables; i < len; i++) {
        memcpy(b, orig, len);
        b[i] ^= 0x10;
        write_all(tmp_path("tflipped.cqd"), b, len);
        ck_assert_int_eq(open_rc(tmp_path("tflipped.cqd"), 0, err, sizeof err), CQ_ECORRUPT);
        ck_assert_ptr_nonnull(strstr(err, "offset"));
    }
    free(b);
    free(orig);
}
END_TEST

START_TEST(test_cqd_truncation_at_every_length_is_detected)
{
    size_t len;
    char err[256];
    write_file(tmp_path("trunc.cqd"), 12, NULL);
    unsigned char *b = read_all(tmp_path("trunc.cqd"), &len);
    for (size_t n = 0; n < len; n++) {
        write_all(tmp_path("cut.cqd"), b, n);
        int rc = open_rc(tmp_path("cut.cqd"), 0, err, sizeof err);
        ck_assert_msg(rc == CQ_ECORRUPT, "cut at %zu: rc %d", n, rc);
        ck_assert_msg(strstr(err, "cut.cqd: truncated"), "cut at %zu: %s", n, err);
    }
    write_all(tmp_path("cut.cqd"), b, len);
    ck_assert_int_eq(open_rc(tmp_path("cut.cqd"), 0, err, sizeof err), 0);
    free(b);
}
END_TEST

START_TEST(test_cqd_trailing_bytes_are_detected)
{
    size_t len;
    char err[256];
    write_file(tmp_path("long.cqd"), 12, NULL);
    unsigned char *b = read_all(tmp_path("long.cqd"), &len);
    unsigned char *c = calloc(1, len + 3);
    memcpy(c, b, len);
    write_all(tmp_path("long.cqd"), c, len + 3);
    ck_assert_int_eq(open_rc(tmp_path("long.cqd"), 0, err, sizeof err), CQ_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "3 unexpected bytes"));
    free(b);
    free(c);
}
END_TEST

START_TEST(test_cqd_corrupt_block_is_reported_when_iteration_reaches_it)
{
    size_t len;
    char err[256];
    write_file(tmp_path("blk.cqd"), 2500, NULL);
    unsigned char *b = read_all(tmp_path("blk.cqd"), &len);
    b[CQ_CQD_HEADER_SIZE + (CQ_CQD_BLOCK_RECORDS + 5) * CQ_CQD_RECORD_SIZE + 30] ^= 0x04; /* block 1 */
    write_all(tmp_path("blk.cqd"), b, len);
    cq_cqd_reader_t *r;
    ck_assert_int_eq(cq_cqd_open(&r, tmp_path("blk.cqd"), 0, err, sizeof err), 0); /* lazy */
    cq_cqd_cursor_t c;
    const cq_cqd_record_t *rec;
    int rc, n = 0;
    cq_cqd_cursor_init(&c, r);
    while ((rc = cq_cqd_next(&c, &rec)) > 0)
        n++;
    ck_assert_int_eq(rc, CQ_ECORRUPT);
    ck_assert_int_eq(n, CQ_CQD_BLOCK_RECORDS); /* block 0 was fine */
    ck_assert_ptr_nonnull(strstr(cq_cqd_reader_error(r), "block 1 "));
    ck_assert_ptr_nonnull(strstr(cq_cqd_reader_error(r), "offset 65792"));
    ck_assert_int_eq(cq_cqd_next(&c, &rec), CQ_ECORRUPT); /* sticky */
    ck_assert_int_eq(cq_cqd_cursor_seek(&c, r, INT64_MIN), 0); /* block 0 still readable */
    ck_assert_int_eq(cq_cqd_next(&c, &rec), 1);
    cq_cqd_close(r);
    ck_assert_int_eq(open_rc(tmp_path("blk.cqd"), CQ_CQD_VERIFY_ALL, err, sizeof err), CQ_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "block 1 "));
    free(b);
}
END_TEST

START_TEST(test_cqd_file_truncated_while_open_is_an_error_not_a_crash)
{
    char err[256];
    const char *path = tmp_path("shrunk.cqd");
    write_file(path, 2500, NULL);
    cq_cqd_reader_t *r;
    ck_assert_int_eq(cq_cqd_open(&r, path, 0, err, sizeof err), 0);
    /* Someone cuts the file in the middle of block 1 after we opened it. */
    ck_assert_int_eq(truncate(path, CQ_CQD_HEADER_SIZE + (CQ_CQD_BLOCK_RECORDS + 100) * CQ_CQD_RECORD_SIZE), 0);
    cq_cqd_cursor_t c;
    const cq_cqd_record_t *rec;
    int rc, n = 0;
    cq_cqd_cursor_init(&c, r);
    while ((rc = cq_cqd_next(&c, &rec)) > 0)
        n++;
    ck_assert_int_eq(rc, CQ_ECORRUPT);
    ck_assert_int_eq(n, CQ_CQD_BLOCK_RECORDS);
    ck_assert_ptr_nonnull(strstr(cq_cqd_reader_error(r), "block 1 "));
    ck_assert_ptr_nonnull(strstr(cq_cqd_reader_error(r), "truncated"));
    cq_cqd_close(r);
}
END_TEST

START_TEST(test_cqd_a_record_stays_valid_until_the_cursor_leaves_its_block)
{
    enum { N = 2500 };
    static cq_cqd_record_t in[N];
    const char *path = tmp_path("valid.cqd");
    write_file(path, N, in);
    cq_cqd_reader_t *r;
    ck_assert_int_eq(cq_cqd_open(&r, path, 0, NULL, 0), 0);
    cq_cqd_cursor_t c;
    const cq_cqd_record_t *first, *rec;
    cq_cqd_cursor_init(&c, r);
    ck_assert_int_eq(cq_cqd_next(&c, &first), 1);
    for (int i = 1; i < CQ_CQD_BLOCK_RECORDS; i++)
        ck_assert_int_eq(cq_cqd_next(&c, &rec), 1);
    ck_assert_msg(memcmp(first, &in[0], sizeof *first) == 0, "record 0 changed within its block");
    ck_assert_msg(memcmp(rec, &in[CQ_CQD_BLOCK_RECORDS - 1], sizeof *rec) == 0, "last record of block 0");
    cq_cqd_close(r);
}
END_TEST

START_TEST(test_cqd_hostile_instrument_entry_with_valid_checksums_is_rejected)
{
    size_t len;
    char err[256];
    write_file(tmp_path("hostile.cqd"), 10, NULL);
    unsigned char *b = read_all(tmp_path("hostile.cqd"), &len);
    uint64_t inst_off = rd64(b + 64);
    int32_t prec = 40;
    memcpy(b + inst_off + 256 + 120, &prec, 4); /* instrument 1: price precision 40 */
    refresh_checksums(b);
    write_all(tmp_path("hostile.cqd"), b, len);
    ck_assert_int_eq(open_rc(tmp_path("hostile.cqd"), 0, err, sizeof err), CQ_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "instrument 1"));
    free(b);
}
END_TEST

START_TEST(test_cqd_hostile_record_counts_cannot_make_the_reader_read_outside_the_file)
{
    size_t len;
    char err[256];
    write_file(tmp_path("count.cqd"), 10, NULL);
    unsigned char *b = read_all(tmp_path("count.cqd"), &len);
    uint64_t counts[] = {11, 1ULL << 40, UINT64_MAX, UINT64_MAX / 64 + 1};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        wr64(b + 32, counts[i]);
        wr64(b + 16, 0);
        wr64(b + 16, cq_cqd_checksum(0, b, 256));
        write_all(tmp_path("count2.cqd"), b, len);
        ck_assert_int_eq(open_rc(tmp_path("count2.cqd"), 0, err, sizeof err), CQ_ECORRUPT);
    }
    free(b);
}
END_TEST

/* ---- cursor ---------------------------------------------------------------------------- */

START_TEST(test_cqd_seek_starts_at_the_first_record_at_or_after_a_time)
{
    enum { N = 3000 };
    static cq_cqd_record_t in[N];
    write_file(tmp_path("seek.cqd"), N, in);
    cq_cqd_reader_t *r;
    ck_assert_int_eq(cq_cqd_open(&r, tmp_path("seek.cqd"), 0, NULL, 0), 0);
    cq_cqd_cursor_t c;
    const cq_cqd_record_t *rec;
    size_t probes[] = {0, 1, 1023, 1024, 1500, 2999};
    for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++) {
        int64_t ts = in[probes[k]].ts_init;
        size_t want = probes[k];
        while (want > 0 && in[want - 1].ts_init == ts)
            want--;
        ck_assert_int_eq(cq_cqd_cursor_seek(&c, r, ts), 0);
        ck_assert_int_eq(cq_cqd_next(&c, &rec), 1);
        ck_assert_int_eq(memcmp(rec, &in[want], sizeof *rec), 0);
        size_t n = 1;
        while (cq_cqd_next(&c, &rec) > 0)
            n++;
        ck_assert_uint_eq(n, N - want);
    }
    ck_assert_int_eq(cq_cqd_cursor_seek(&c, r, in[N - 1].ts_init + 1), 0);
    ck_assert_int_eq(cq_cqd_next(&c, &rec), 0);
    ck_assert_int_eq(cq_cqd_cursor_seek(NULL, r, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_cursor_init(&c, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_next_block(NULL, &rec), CQ_EINVAL);
    cq_cqd_close(r);
}
END_TEST

START_TEST(test_cqd_reader_lookups_reject_bad_arguments)
{
    write_file(tmp_path("lookup.cqd"), 4, NULL);
    cq_cqd_reader_t *r;
    uint32_t idx = 9;
    ck_assert_int_eq(cq_cqd_open(&r, tmp_path("lookup.cqd"), 0, NULL, 0), 0);
    ck_assert_int_eq(cq_cqd_find_instrument(r, "ETHUSDT.BINANCE", &idx), 0);
    ck_assert_uint_eq(idx, 1);
    ck_assert_int_eq(cq_cqd_find_instrument(r, "XRPUSDT.BINANCE", &idx), CQ_ENOENT);
    ck_assert_int_eq(cq_cqd_find_instrument(r, NULL, &idx), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_find_instrument(NULL, "A", &idx), CQ_EINVAL);
    ck_assert_ptr_null(cq_cqd_instrument(r, 2));
    ck_assert_ptr_null(cq_cqd_instrument(NULL, 0));
    ck_assert_str_eq(cq_cqd_reader_error(r), "");
    ck_assert_str_eq(cq_cqd_reader_error(NULL), "no reader");
    ck_assert_str_eq(cq_cqd_writer_error(NULL), "no writer");
    ck_assert_uint_eq(cq_cqd_writer_count(NULL), 0);
    ck_assert_int_eq(cq_cqd_format_qty(NULL, 1, (char[8]){0}, 8), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_set_handle(r, 2, 5), CQ_ENOENT);
    ck_assert_int_eq(cq_cqd_set_handle(NULL, 0, 5), CQ_EINVAL);
    cq_instrument_t ev;
    ck_assert_int_eq(cq_cqd_instrument_event(r, 2, &ev), CQ_ENOENT);
    ck_assert_int_eq(cq_cqd_instrument_event(r, 0, NULL), CQ_EINVAL);
    cq_cqd_info_t info;
    cq_cqd_get_info(NULL, &info);
    ck_assert_uint_eq(info.record_count, 0);
    cq_cqd_get_info(r, NULL);
    cq_cqd_close(r);
    cq_cqd_close(NULL);
}
END_TEST

/* ---- records to events ------------------------------------------------------------------ */

static cq_cqd_reader_t *open_spec_file(int pp, int sp, int64_t tick, int64_t step)
{
    cq_cqd_writer_t *w;
    const char *path = tmp_path("spec.cqd");
    ck_assert_int_eq(cq_cqd_writer_open(&w, path, NULL, 0), 0);
    cq_cqd_instrument_t in = make_instrument("BTCUSDT", "BINANCE", pp, sp, tick, step);
    in.min_qty = 1;
    in.max_qty = 9000;
    in.min_notional = 5;
    in.min_notional_decimals = 0;
    ck_assert_int_eq(cq_cqd_writer_add_instrument(w, &in, NULL), 0);
    ck_assert_int_eq(cq_cqd_writer_finish(w), 0);
    cq_cqd_writer_destroy(w);
    cq_cqd_reader_t *r;
    ck_assert_int_eq(cq_cqd_open(&r, path, 0, NULL, 0), 0);
    return r;
}

START_TEST(test_cqd_to_trade_gives_the_double_strtod_gives_for_the_decimal)
{
    cq_rng_t rng = {42};
    for (int pp = 0; pp <= 12; pp++) {
        cq_cqd_reader_t *r = open_spec_file(pp, 8, pp ? 5 : 1, 1);
        const cq_cqd_instrument_t *in = cq_cqd_instrument(r, 0);
        for (int i = 0; i < 2000; i++) {
            cq_cqd_record_t rec;
            memset(&rec, 0, sizeof rec);
            rec.type = CQ_EV_TRADE;
            rec.trade.price = (int64_t)(cq_rng_next(&rng) % 1000000000000ULL);
            rec.trade.qty = (int64_t)(cq_rng_next(&rng) % 100000000000ULL);
            cq_trade_t t;
            char ps[48], qs[48];
            ck_assert_int_eq(cq_cqd_to_trade(r, &rec, &t), 0);
            ck_assert_int_gt(cq_cqd_format_price(in, rec.trade.price, ps, sizeof ps), 0);
            ck_assert_int_gt(cq_cqd_format_qty(in, rec.trade.qty, qs, sizeof qs), 0);
            ck_assert_msg(t.price == strtod(ps, NULL), "%s gave %.17g", ps, t.price);
            ck_assert_msg(t.qty == strtod(qs, NULL), "%s gave %.17g", qs, t.qty);
        }
        cq_cqd_close(r);
    }
}
END_TEST

START_TEST(test_cqd_to_events_fill_every_field)
{
    cq_cqd_reader_t *r = open_spec_file(2, 3, 1, 1);
    ck_assert_int_eq(cq_cqd_set_handle(r, 0, 42), 0);
    cq_cqd_record_t rec;
    memset(&rec, 0, sizeof rec);
    rec.type = CQ_EV_TRADE;
    rec.side = CQ_SIDE_SELL;
    rec.ts_event = 11;
    rec.ts_init = 12;
    rec.trade.price = 968219;
    rec.trade.qty = 132;
    rec.trade.trade_id = 42377944;
    cq_trade_t t;
    ck_assert_int_eq(cq_cqd_to_trade(r, &rec, &t), 0);
    ck_assert_int_eq(t.hdr.type, CQ_EV_TRADE);
    ck_assert_uint_eq(t.hdr.flags, CQ_EVF_REPLAY);
    ck_assert_uint_eq(t.hdr.instrument, 42);
    ck_assert_int_eq(t.hdr.ts_event, 11);
    ck_assert_int_eq(t.hdr.ts_init, 12);
    ck_assert(t.price == 9682.19 && t.qty == 0.132);
    ck_assert_uint_eq(t.trade_id, 42377944);
    ck_assert_int_eq(t.aggressor, CQ_SIDE_SELL);

    memset(&rec, 0, sizeof rec);
    rec.type = CQ_EV_QUOTE;
    rec.quote.bid_price = 968192;
    rec.quote.bid_qty = 670;
    rec.quote.ask_price = 968200;
    rec.quote.ask_qty = 840;
    rec.quote.update_id = 7;
    cq_quote_t q;
    ck_assert_int_eq(cq_cqd_to_quote(r, &rec, &q), 0);
    ck_assert(q.bid_price == 9681.92 && q.bid_qty == 0.67 && q.ask_price == 9682.0 && q.ask_qty == 0.84);
    ck_assert_uint_eq(q.update_id, 7);

    memset(&rec, 0, sizeof rec);
    rec.type = CQ_EV_BOOK_DELTA;
    rec.side = CQ_SIDE_BUY;
    rec.flags = CQ_EVF_SNAPSHOT | CQ_EVF_LAST;
    rec.delta.price = 100;
    rec.delta.qty = 0;
    rec.delta.update_id = 99;
    cq_book_delta_t d;
    ck_assert_int_eq(cq_cqd_to_delta(r, &rec, &d), 0);
    ck_assert_uint_eq(d.hdr.flags, CQ_EVF_SNAPSHOT | CQ_EVF_LAST | CQ_EVF_REPLAY);
    ck_assert(d.price == 1.0 && d.qty == 0.0);
    ck_assert_int_eq(d.side, CQ_SIDE_BUY);
    ck_assert_int_eq(d.action, CQ_BOOK_SET);
    ck_assert_uint_eq(d.sequence, 99);

    memset(&rec, 0, sizeof rec);
    rec.type = CQ_EV_BAR;
    rec.ts_event = 60000000000LL;  /* open */
    rec.ts_init = 120000000000LL;  /* close */
    rec.bar.open = 100, rec.bar.high = 200, rec.bar.low = 50, rec.bar.close = 150, rec.bar.volume = 1500;
    cq_bar_t b;
    ck_assert_int_eq(cq_cqd_to_bar(r, &rec, &b), 0);
    ck_assert_int_eq(b.ts_open, 60000000000LL);
    ck_assert_int_eq(b.hdr.ts_event, 120000000000LL);
    ck_assert_int_eq(b.hdr.ts_init, 120000000000LL);
    ck_assert(b.open == 1.0 && b.high == 2.0 && b.low == 0.5 && b.close == 1.5 && b.volume == 1.5);
    ck_assert(b.spec_value == 60.0);
    ck_assert_int_eq(b.kind, CQ_BAR_TIME);

    cq_instrument_t ie;
    ck_assert_int_eq(cq_cqd_instrument_event(r, 0, &ie), 0);
    ck_assert_str_eq(ie.id, "BTCUSDT.BINANCE");
    ck_assert(ie.tick_size == 0.01 && ie.step_size == 0.001 && ie.min_qty == 0.001 && ie.max_qty == 9.0);
    ck_assert(ie.min_notional == 5.0);
    ck_assert_uint_eq(ie.hdr.instrument, 42);
    cq_cqd_close(r);
}
END_TEST

START_TEST(test_cqd_to_events_reject_wrong_type_and_hostile_index)
{
    cq_cqd_reader_t *r = open_spec_file(2, 3, 1, 1);
    cq_cqd_record_t rec;
    memset(&rec, 0, sizeof rec);
    rec.type = CQ_EV_QUOTE;
    cq_trade_t t;
    cq_quote_t q;
    cq_book_delta_t d;
    cq_bar_t b;
    ck_assert_int_eq(cq_cqd_to_trade(r, &rec, &t), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_to_delta(r, &rec, &d), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_to_bar(r, &rec, &b), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_to_quote(r, &rec, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_to_quote(NULL, &rec, &q), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_to_quote(r, NULL, &q), CQ_EINVAL);
    rec.instrument = 99;
    ck_assert_int_eq(cq_cqd_to_quote(r, &rec, &q), CQ_ECORRUPT);
    rec.instrument = 0;
    rec.type = CQ_EV_TRADE;
    rec.trade.price = INT64_MAX; /* ticks that overflow stay finite, no UB */
    cq_cqd_close(r);
    r = open_spec_file(2, 3, 7, 1);
    ck_assert_int_eq(cq_cqd_to_trade(r, &rec, &t), 0);
    ck_assert(isfinite(t.price));
    char buf[48];
    ck_assert_int_eq(cq_cqd_format_price(cq_cqd_instrument(r, 0), INT64_MAX, buf, sizeof buf), CQ_ERANGE);
    cq_cqd_close(r);
}
END_TEST

/* ---- exact decimals ------------------------------------------------------------------------ */

START_TEST(test_cqd_format_units_prints_exact_decimals)
{
    char b[64];
    ck_assert_int_eq(cq_cqd_format_units(0, 0, b, sizeof b), 1);
    ck_assert_str_eq(b, "0");
    cq_cqd_format_units(0, 3, b, sizeof b);
    ck_assert_str_eq(b, "0.000");
    cq_cqd_format_units(5, 2, b, sizeof b);
    ck_assert_str_eq(b, "0.05");
    cq_cqd_format_units(-5, 2, b, sizeof b);
    ck_assert_str_eq(b, "-0.05");
    cq_cqd_format_units(968219, 2, b, sizeof b);
    ck_assert_str_eq(b, "9682.19");
    cq_cqd_format_units(-42, 0, b, sizeof b);
    ck_assert_str_eq(b, "-42");
    cq_cqd_format_units(1, 18, b, sizeof b);
    ck_assert_str_eq(b, "0.000000000000000001");
    cq_cqd_format_units(INT64_MIN, 18, b, sizeof b);
    ck_assert_str_eq(b, "-9.223372036854775808");
    cq_cqd_format_units(INT64_MAX, 0, b, sizeof b);
    ck_assert_str_eq(b, "9223372036854775807");
    ck_assert_int_eq(cq_cqd_format_units(968219, 2, b, 7), CQ_ETOOLONG); /* needs 8 with the NUL */
    ck_assert_int_eq(cq_cqd_format_units(968219, 2, b, 8), 7);
    ck_assert_int_eq(cq_cqd_format_units(-5, 2, b, 5), CQ_ETOOLONG);
    ck_assert_int_eq(cq_cqd_format_units(-5, 2, b, 6), 5);
    ck_assert_int_eq(cq_cqd_format_units(1, 19, b, sizeof b), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_format_units(1, -1, b, sizeof b), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_format_units(1, 2, NULL, 10), CQ_EINVAL);
    ck_assert_int_eq(cq_cqd_format_price(NULL, 1, b, sizeof b), CQ_EINVAL);
}
END_TEST

/* ---- checksum ---------------------------------------------------------------------------------- */

/* The algorithm exactly as docs/cqd.md states it, byte by byte. */
static uint64_t reference_checksum(uint64_t seed, const unsigned char *p, size_t len)
{
    const uint64_t P = 0x9E3779B97F4A7C15ULL;
    uint64_t a[8], b[8];
    for (int j = 0; j < 8; j++)
        a[j] = (uint64_t)j + 1, b[j] = 0;
    for (size_t off = 0; off < len; off += 64) {
        for (int j = 0; j < 8; j++) {
            uint64_t w = 0;
            for (int k = 7; k >= 0; k--) {
                size_t at = off + 8 * (size_t)j + (size_t)k;
                w = w << 8 | (at < len ? p[at] : 0);
            }
            a[j] += w;
            b[j] += a[j];
        }
    }
    uint64_t h = seed ^ (len * P);
    for (int j = 0; j < 8; j++) {
        h = (h ^ a[j]) * P;
        h ^= h >> 32;
        h = (h ^ b[j]) * P;
        h ^= h >> 29;
    }
    return h;
}

START_TEST(test_cqd_checksum_matches_the_documented_algorithm)
{
    cq_rng_t rng = {3};
    static unsigned char buf[4096 + 64];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)cq_rng_next(&rng);
    for (size_t len = 0; len <= 300; len++)
        for (size_t misalign = 0; misalign < 3; misalign++)
            ck_assert_uint_eq(cq_cqd_checksum(len, buf + misalign, len),
                              reference_checksum(len, buf + misalign, len));
    ck_assert_uint_eq(cq_cqd_checksum(5, buf, 4096), reference_checksum(5, buf, 4096));
    ck_assert_uint_eq(cq_cqd_checksum(0, NULL, 0), reference_checksum(0, buf, 0));
}
END_TEST

START_TEST(test_cqd_checksum_detects_any_change_to_one_word)
{
    cq_rng_t rng = {5};
    static unsigned char buf[65536];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)cq_rng_next(&rng);
    uint64_t base = cq_cqd_checksum(16, buf, sizeof buf);
    ck_assert_uint_ne(base, cq_cqd_checksum(17, buf, sizeof buf)); /* seed = block number */
    for (int i = 0; i < 2000; i++) {
        size_t at = cq_rng_below(&rng, sizeof buf);
        unsigned char old = buf[at], delta = (unsigned char)(1 + cq_rng_below(&rng, 255));
        buf[at] ^= delta;
        ck_assert_uint_ne(cq_cqd_checksum(16, buf, sizeof buf), base);
        buf[at] = old;
    }
    /* two records swapped */
    unsigned char tmp[64];
    memcpy(tmp, buf, 64);
    memcpy(buf, buf + 64, 64);
    memcpy(buf + 64, tmp, 64);
    ck_assert_uint_ne(cq_cqd_checksum(16, buf, sizeof buf), base);
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
    snprintf(g_dir, sizeof g_dir, "%s/cq-test-cqd-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("cqd");
    TCase *tc = tcase_create("cqd");
    tcase_add_test(tc, test_cqd_roundtrip_every_record_type_reads_back_identical);
    tcase_add_test(tc, test_cqd_file_without_records_opens_and_iterates_nothing);
    tcase_add_test(tc, test_cqd_same_input_gives_byte_identical_files);
    tcase_add_test(tc, test_cqd_writer_zeroes_fields_a_type_does_not_use);
    tcase_add_test(tc, test_cqd_writer_rejects_decreasing_ts_init_naming_the_record);
    tcase_add_test(tc, test_cqd_writer_rejects_bad_records);
    tcase_add_test(tc, test_cqd_writer_rejects_bad_instruments);
    tcase_add_test(tc, test_cqd_writer_open_rejects_bad_paths);
    tcase_add_test(tc, test_cqd_unfinished_writer_never_leaves_a_file_under_the_final_name);
    tcase_add_test(tc, test_cqd_writer_refuses_use_after_finish);
    tcase_add_test(tc, test_cqd_open_rejects_null_missing_and_directory);
    tcase_add_test(tc, test_cqd_open_empty_file_reports_truncation);
    tcase_add_test(tc, test_cqd_open_text_file_is_not_a_cqd_file);
    tcase_add_test(tc, test_cqd_open_newer_version_names_both_versions);
    tcase_add_test(tc, test_cqd_open_unknown_header_flags_are_a_newer_feature);
    tcase_add_test(tc, test_cqd_every_header_byte_flip_is_detected);
    tcase_add_test(tc, test_cqd_every_table_byte_flip_is_detected_at_open);
    tcase_add_test(tc, test_cqd_truncation_at_every_length_is_detected);
    tcase_add_test(tc, test_cqd_trailing_bytes_are_detected);
    tcase_add_test(tc, test_cqd_corrupt_block_is_reported_when_iteration_reaches_it);
    tcase_add_test(tc, test_cqd_file_truncated_while_open_is_an_error_not_a_crash);
    tcase_add_test(tc, test_cqd_a_record_stays_valid_until_the_cursor_leaves_its_block);
    tcase_add_test(tc, test_cqd_hostile_instrument_entry_with_valid_checksums_is_rejected);
    tcase_add_test(tc, test_cqd_hostile_record_counts_cannot_make_the_reader_read_outside_the_file);
    tcase_add_test(tc, test_cqd_seek_starts_at_the_first_record_at_or_after_a_time);
    tcase_add_test(tc, test_cqd_reader_lookups_reject_bad_arguments);
    tcase_add_test(tc, test_cqd_to_trade_gives_the_double_strtod_gives_for_the_decimal);
    tcase_add_test(tc, test_cqd_to_events_fill_every_field);
    tcase_add_test(tc, test_cqd_to_events_reject_wrong_type_and_hostile_index);
    tcase_add_test(tc, test_cqd_format_units_prints_exact_decimals);
    tcase_add_test(tc, test_cqd_checksum_matches_the_documented_algorithm);
    tcase_add_test(tc, test_cqd_checksum_detects_any_change_to_one_word);
    suite_add_tcase(s, tc);
    int rc = cq_test_run(s);
    remove_dir(g_dir);
    return rc;
}
