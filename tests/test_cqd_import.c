/*
 * test_cqd_import.c - the CSV importers (Tardis trades / quotes /
 * incremental_book_L2, OHLCV), the import session's hook, and the
 * `cquant convert` / `cquant dump` commands, on the real Tardis samples in
 * ../shared/data/historical and on small hostile files.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "cquant/cqd.h"
#include "cquant/error.h"
#include "cquant/importer.h"
#include "support/cq_test.h"

#define TARDIS_TRADES "historical/tardis_binance-futures_BTCUSDT_trades_20200222.csv"
#define TARDIS_QUOTES "historical/tardis_binance-futures_BTCUSDT_quotes_20200222.csv"
#define TRADES_HEADER "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
#define QUOTES_HEADER "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount\n"
#define BOOK_HEADER "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"

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

/* Write `text` to a file in the temp dir; its path goes to out. */
static void write_text(char *out, size_t cap, const char *name, const char *text)
{
    path_of(out, cap, name);
    FILE *f = fopen(out, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
}

static cq_import_t *session(int strict, int64_t bar)
{
    cq_import_t *imp;
    cq_import_opts_t o = {.strict = strict, .bar_interval_ns = bar, .on_message = collect, .user = &g_msgs};
    memset(&g_msgs, 0, sizeof g_msgs);
    ck_assert_int_eq(cq_import_create(&imp, &o), 0);
    return imp;
}

typedef struct {
    cq_cqd_reader_t *r;
    cq_cqd_record_t *rec;
    size_t n;
} loaded_t;

/* Write the session to a .cqd and read every record back. */
static loaded_t write_and_load(cq_import_t *imp, const char *name)
{
    char out[4200], err[512];
    loaded_t l;
    path_of(out, sizeof out, name);
    ck_assert_msg(cq_import_write(imp, out) == 0, "%s", cq_import_error(imp));
    ck_assert_int_eq(cq_cqd_open(&l.r, out, CQ_CQD_VERIFY_ALL, err, sizeof err), 0);
    cq_cqd_info_t info;
    cq_cqd_get_info(l.r, &info);
    l.rec = calloc(info.record_count + 1, sizeof *l.rec);
    l.n = 0;
    cq_cqd_cursor_t c;
    const cq_cqd_record_t *rec;
    cq_cqd_cursor_init(&c, l.r);
    while (cq_cqd_next(&c, &rec) > 0)
        l.rec[l.n++] = *rec;
    ck_assert_uint_eq(l.n, info.record_count);
    return l;
}

static void unload(loaded_t *l)
{
    cq_cqd_close(l->r);
    free(l->rec);
}

/* "9682" == "9682.00", "0.10" == "0.1", "-0.0" == "0": exact decimal equality. */
static void normalize(const char *s, size_t n, char *out, size_t cap)
{
    size_t i = 0, o = 0;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    while (i + 1 < n && s[i] == '0' && s[i + 1] != '.')
        i++;
    size_t end = n;
    if (memchr(s + i, '.', n - i)) {
        while (end > i && s[end - 1] == '0')
            end--;
        if (end > i && s[end - 1] == '.')
            end--;
    }
    int zero = 1;
    for (size_t k = i; k < end; k++)
        if (s[k] >= '1' && s[k] <= '9')
            zero = 0;
    if (neg && !zero && o < cap - 1)
        out[o++] = '-';
    for (; i < end && o < cap - 1; i++)
        out[o++] = s[i];
    out[o] = 0;
}

static int decimal_eq(const char *a, size_t na, const char *b, size_t nb)
{
    char x[64], y[64];
    normalize(a, na, x, sizeof x);
    normalize(b, nb, y, sizeof y);
    return !strcmp(x, y);
}

/* Split a CSV line in place into at most max fields. */
static int csv_split(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ',') {
            *p = 0;
            f[n++] = p + 1;
        }
    return n;
}

static void check_price(const cq_cqd_instrument_t *in, int64_t ticks, const char *want)
{
    char buf[48];
    ck_assert_int_gt(cq_cqd_format_price(in, ticks, buf, sizeof buf), 0);
    ck_assert_msg(decimal_eq(buf, strlen(buf), want, strlen(want)), "price %s != %s", buf, want);
}

static void check_qty(const cq_cqd_instrument_t *in, int64_t steps, const char *want)
{
    char buf[48];
    ck_assert_int_gt(cq_cqd_format_qty(in, steps, buf, sizeof buf), 0);
    ck_assert_msg(decimal_eq(buf, strlen(buf), want, strlen(want)), "qty %s != %s", buf, want);
}

/* ---- the real Tardis samples ------------------------------------------------------------ */

/* Every record equals its CSV row exactly: times, side, id, decimals. */
static void compare_with_csv(const loaded_t *l, const char *csv, int type, size_t *row_count)
{
    FILE *f = fopen(csv, "r");
    char line[1024], *fld[16];
    size_t n = 0, i = 0;
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        ck_assert_int_eq(csv_split(line, fld, 16), 8);
        while (i < l->n && l->rec[i].type != type)
            i++;
        ck_assert_uint_lt(i, l->n);
        const cq_cqd_record_t *r = &l->rec[i++];
        const cq_cqd_instrument_t *in = cq_cqd_instrument(l->r, r->instrument);
        ck_assert_str_eq(in->id, "BTCUSDT.BINANCE-FUTURES");
        ck_assert_int_eq(r->ts_event, strtoll(fld[2], NULL, 10) * 1000);
        ck_assert_int_eq(r->ts_init, strtoll(fld[3], NULL, 10) * 1000);
        if (type == CQ_EV_TRADE) {
            ck_assert_uint_eq(r->trade.trade_id, strtoull(fld[4], NULL, 10));
            ck_assert_int_eq(r->side, !strcmp(fld[5], "buy") ? CQ_SIDE_BUY : CQ_SIDE_SELL);
            check_price(in, r->trade.price, fld[6]);
            check_qty(in, r->trade.qty, fld[7]);
        } else {
            check_qty(in, r->quote.ask_qty, fld[4]);
            check_price(in, r->quote.ask_price, fld[5]);
            check_price(in, r->quote.bid_price, fld[6]);
            check_qty(in, r->quote.bid_qty, fld[7]);
        }
        n++;
    }
    fclose(f);
    *row_count = n;
}

START_TEST(test_import_tardis_trades_and_quotes_match_every_csv_row_exactly)
{
    char trades[4096], quotes[4096];
    const char *p = cq_test_data_path(TARDIS_TRADES);
    if (!p) {
        cq_test_skip("test_import_tardis_trades_and_quotes_match_every_csv_row_exactly", "no data folder");
        return;
    }
    snprintf(trades, sizeof trades, "%s", p);
    snprintf(quotes, sizeof quotes, "%s", cq_test_data_path(TARDIS_QUOTES));
    cq_import_t *imp = session(1, 0);
    ck_assert_int_eq(cq_import_file(imp, trades), 0);
    ck_assert_int_eq(cq_import_file(imp, quotes), 0);
    cq_import_stats_t st;
    cq_import_get_stats(imp, &st);
    ck_assert_uint_eq(st.lines, 19998);
    ck_assert_uint_eq(st.records, 19998);
    ck_assert_uint_eq(st.skipped, 0);
    ck_assert_uint_eq(st.files, 2);
    ck_assert_uint_eq(st.instruments, 1);
    loaded_t l = write_and_load(imp, "tardis.cqd");
    const cq_cqd_instrument_t *in = cq_cqd_instrument(l.r, 0);
    ck_assert_int_eq(in->price_precision, 2); /* most decimals seen: 9682.19 */
    ck_assert_int_eq(in->size_precision, 3);  /* 0.132 */
    for (size_t i = 1; i < l.n; i++)
        ck_assert_int_le(l.rec[i - 1].ts_init, l.rec[i].ts_init);
    size_t nt, nq;
    compare_with_csv(&l, trades, CQ_EV_TRADE, &nt);
    compare_with_csv(&l, quotes, CQ_EV_QUOTE, &nq);
    ck_assert_uint_eq(nt, 9999);
    ck_assert_uint_eq(nq, 9999);
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

/* ---- command line ---------------------------------------------------------------------------- */

static size_t count_lines(const char *path, char *first, size_t cap)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    size_t n = 0;
    if (first && cap)
        first[0] = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (!n && first)
            snprintf(first, cap, "%s", line);
        n++;
    }
    fclose(f);
    return n;
}

/* The text of a JSON member "key":value in a dump line. */
static int json_member(const char *line, const char *key, const char **v, size_t *n)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p)
        return 0;
    p += strlen(pat);
    *v = p;
    *n = strcspn(p, ",}");
    return 1;
}

static void expect_member(const char *line, const char *key, const char *want)
{
    const char *v;
    size_t n;
    ck_assert_msg(json_member(line, key, &v, &n), "no %s in %s", key, line);
    ck_assert_msg(decimal_eq(v, n, want, strlen(want)) || (n == strlen(want) && !memcmp(v, want, n)),
                  "%s: %.*s != %s", key, (int)n, v, want);
}

START_TEST(test_cli_convert_then_dump_reproduces_every_tardis_row)
{
    const char *bin = cq_test_cquant(), *p = cq_test_data_path(TARDIS_TRADES);
    if (!bin || !p) {
        cq_test_skip("test_cli_convert_then_dump_reproduces_every_tardis_row", "no cquant binary or data");
        return;
    }
    char trades[4096], quotes[4096], out[4200], dump[4200], errf[4200];
    snprintf(trades, sizeof trades, "%s", p);
    snprintf(quotes, sizeof quotes, "%s", cq_test_data_path(TARDIS_QUOTES));
    path_of(out, sizeof out, "cli.cqd");
    path_of(dump, sizeof dump, "cli.jsonl");
    path_of(errf, sizeof errf, "cli.err");
    ck_assert_int_eq(cq_test_shell("'%s' convert '%s' '%s' -o '%s' --strict 2>'%s'", bin, trades, quotes, out, errf), 0);
    ck_assert_int_eq(cq_test_shell("'%s' dump '%s' > '%s'", bin, out, dump), 0);
    ck_assert_uint_eq(count_lines(dump, NULL, 0), 19998);
    const char *csvs[2] = {trades, quotes};
    for (int k = 0; k < 2; k++) {
        FILE *c = fopen(csvs[k], "r"), *d = fopen(dump, "r");
        char row[1024], line[1024], *f[16];
        size_t rows = 0;
        ck_assert_ptr_nonnull(fgets(row, sizeof row, c));
        while (fgets(row, sizeof row, c)) {
            ck_assert_int_eq(csv_split(row, f, 16), 8);
            do
                ck_assert_ptr_nonnull(fgets(line, sizeof line, d));
            while (!strstr(line, k == 0 ? "\"type\":\"trade\"" : "\"type\":\"quote\""));
            char ts[32], lts[32];
            snprintf(ts, sizeof ts, "%s000", f[2]);
            snprintf(lts, sizeof lts, "%s000", f[3]);
            expect_member(line, "instrument", "\"BTCUSDT.BINANCE-FUTURES\"");
            expect_member(line, "ts_event", ts);
            expect_member(line, "ts_init", lts);
            if (k == 0) {
                expect_member(line, "trade_id", f[4]);
                char side[16];
                snprintf(side, sizeof side, "\"%s\"", f[5]);
                expect_member(line, "side", side);
                expect_member(line, "price", f[6]);
                expect_member(line, "qty", f[7]);
            } else {
                expect_member(line, "ask_qty", f[4]);
                expect_member(line, "ask_price", f[5]);
                expect_member(line, "bid_price", f[6]);
                expect_member(line, "bid_qty", f[7]);
            }
            rows++;
        }
        ck_assert_uint_eq(rows, 9999);
        fclose(c);
        fclose(d);
    }
}
END_TEST

START_TEST(test_cli_dump_filters_by_type_and_limit)
{
    const char *bin = cq_test_cquant();
    if (!bin) {
        cq_test_skip("test_cli_dump_filters_by_type_and_limit", "no cquant binary");
        return;
    }
    char csv[4200], out[4200], dump[4200], first[4096];
    write_text(csv, sizeof csv, "filter-quotes.csv",
               QUOTES_HEADER "binance,BTCUSDT,1000,1000,1.5,101.5,101,2\n"
                             "binance,BTCUSDT,2000,2000,1.5,101.5,100.75,2\n"
                             "binance,BTCUSDT,3000,3000,,,100.75,2\n");
    path_of(out, sizeof out, "filter.cqd");
    path_of(dump, sizeof dump, "filter.jsonl");
    ck_assert_int_eq(cq_test_shell("'%s' convert '%s' -o '%s' --quiet", bin, csv, out), 0);
    ck_assert_int_eq(cq_test_shell("'%s' dump '%s' --type quote --limit 2 > '%s'", bin, out, dump), 0);
    ck_assert_uint_eq(count_lines(dump, first, sizeof first), 2);
    ck_assert_str_eq(first,
                     "{\"type\":\"quote\",\"instrument\":\"BTCUSDT.BINANCE\",\"ts_event\":1000000,"
                     "\"ts_init\":1000000,\"bid_price\":101.00,\"bid_qty\":2.0,\"ask_price\":101.50,"
                     "\"ask_qty\":1.5,\"update_id\":0}\n");
    ck_assert_int_eq(cq_test_shell("'%s' dump '%s' --type trade,bar > '%s'", bin, out, dump), 0);
    ck_assert_uint_eq(count_lines(dump, NULL, 0), 0);
    ck_assert_int_eq(cq_test_shell("'%s' dump '%s' --instrument BTCUSDT.BINANCE --limit 0 > '%s'", bin, out, dump), 0);
    ck_assert_uint_eq(count_lines(dump, NULL, 0), 0);
    ck_assert_int_eq(cq_test_shell("'%s' dump '%s' --info > '%s'", bin, out, dump), 0);
    ck_assert_uint_eq(count_lines(dump, first, sizeof first), 1);
    ck_assert_ptr_nonnull(strstr(first, "\"records\":3"));
    ck_assert_ptr_nonnull(strstr(first, "\"tick_size\":0.01"));
}
END_TEST

/* Bad command lines: exit status 2 and exactly one line on stderr. */
START_TEST(test_cli_bad_command_lines_exit_2_with_one_line)
{
    const char *bin = cq_test_cquant();
    if (!bin) {
        cq_test_skip("test_cli_bad_command_lines_exit_2_with_one_line", "no cquant binary");
        return;
    }
    char csv[4200], errf[4200], out[4200], line[4096];
    write_text(csv, sizeof csv, "cli-ok.csv", TRADES_HEADER "binance,BTCUSDT,1,2,7,buy,1.5,2\n");
    path_of(errf, sizeof errf, "cli-bad.err");
    path_of(out, sizeof out, "cli-bad.cqd");
    const char *cases[] = {
        "convert",
        "convert '%1$s'",
        "convert '%1$s' -o",
        "convert -o '%2$s'",
        "convert '%1$s' -o '%2$s' --frobnicate",
        "convert '%1$s' -o '%2$s' --bar 1parsec",
        "convert '%1$s' -o '%2$s' --bar",
        "convert '%1$s' -o '%2$s' --instrument BTCUSDT",
        "convert '%1$s' -o '%2$s' --instrument BTCUSDT.BINANCE:tick=zero",
        "convert '%1$s' -o '%1$s'",
        "dump",
        "dump '%2$s' --limit",
        "dump '%2$s' --limit -3",
        "dump '%2$s' --limit 5x",
        "dump '%2$s' --type trades",
        "dump '%2$s' --bogus",
        "dump '%2$s' '%2$s'",
    };
    ck_assert_int_eq(cq_test_shell("'%s' convert '%s' -o '%s' --quiet", bin, csv, out), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[8192], cmd[8192 + 4096 + 4200 + 64];
        snprintf(args, sizeof args, cases[i], csv, out);
        snprintf(cmd, sizeof cmd, "'%s' %s >/dev/null 2>'%s'", bin, args, errf);
        ck_assert_msg(cq_test_shell("%s", cmd) == 2, "'%s' did not exit 2", args);
        ck_assert_msg(count_lines(errf, line, sizeof line) == 1, "'%s': not one line on stderr", args);
        ck_assert_ptr_nonnull(strstr(line, "cquant "));
    }
    ck_assert_int_eq(cq_test_shell("'%s' dump '%s' --instrument NOPE.X >/dev/null 2>'%s'", bin, out, errf), 2);
}
END_TEST

START_TEST(test_cli_bad_files_exit_1_with_the_reason)
{
    const char *bin = cq_test_cquant();
    if (!bin) {
        cq_test_skip("test_cli_bad_files_exit_1_with_the_reason", "no cquant binary");
        return;
    }
    char csv[4200], errf[4200], out[4200], line[4096], missing[4200];
    write_text(csv, sizeof csv, "cli-notcqd.csv", TRADES_HEADER "binance,BTCUSDT,1,2,7,buy,1.5,2\n");
    path_of(errf, sizeof errf, "cli-file.err");
    path_of(out, sizeof out, "cli-file.cqd");
    path_of(missing, sizeof missing, "no-such-file.csv");
    ck_assert_int_eq(cq_test_shell("'%s' dump '%s' >/dev/null 2>'%s'", bin, csv, errf), 1);
    count_lines(errf, line, sizeof line);
    ck_assert_ptr_nonnull(strstr(line, "not a .cqd file"));
    ck_assert_int_eq(cq_test_shell("'%s' convert '%s' -o '%s' 2>'%s'", bin, missing, out, errf), 1);
    count_lines(errf, line, sizeof line);
    ck_assert_ptr_nonnull(strstr(line, "no-such-file.csv: cannot open"));
    ck_assert_int_ne(access(out, F_OK), 0);
    /* strict: the first malformed line fails the run, nothing is written */
    write_text(csv, sizeof csv, "cli-bad-line.csv", TRADES_HEADER "binance,BTCUSDT,1,2,7,buy,abc,2\n");
    ck_assert_int_eq(cq_test_shell("'%s' convert '%s' -o '%s' --strict 2>'%s'", bin, csv, out, errf), 1);
    ck_assert_uint_eq(count_lines(errf, line, sizeof line), 2);
    ck_assert_ptr_nonnull(strstr(line, "cli-bad-line.csv:2: column 'price'"));
    ck_assert_int_ne(access(out, F_OK), 0);
}
END_TEST

/* ---- malformed input ------------------------------------------------------------------------- */

START_TEST(test_import_malformed_lines_are_reported_as_file_line_and_skipped)
{
    char csv[4200];
    write_text(csv, sizeof csv, "bad-trades.csv",
               TRADES_HEADER "binance,BTCUSDT,1000,1000,1,buy,100.5,1\n"  /* 2 ok */
                             "binance,BTCUSDT,1000,1000,2,buy,abc,1\n"    /* 3 price */
                             "binance,BTCUSDT,1000,1000,3,buy,100.5\n"    /* 4 fields */
                             "binance,BTCUSDT,1000,1000,4,up,100.5,1\n"   /* 5 side */
                             "binance,BTCUSDT,1000,1000,5,sell,100.5,-1\n" /* 6 negative */
                             "binance,BTCUSDT,12:00,1000,6,sell,100.5,1\n" /* 7 time */
                             "binance,BTCUSDT,1000,1000,7,sell,1.2.3,1\n"  /* 8 price */
                             "binance,BTCUSDT,1000,1000,8,sell,99999999999999999999,1\n" /* 9 range */
                             "\n"                                         /* blank: ignored */
                             "binance,BTCUSDT,2000,2000,9,sell,101,2\n"); /* 11 ok */
    cq_import_t *imp = session(0, 0);
    ck_assert_int_eq(cq_import_file(imp, csv), 0);
    cq_import_stats_t st;
    cq_import_get_stats(imp, &st);
    ck_assert_uint_eq(st.records, 2);
    ck_assert_uint_eq(st.skipped, 7);
    ck_assert_uint_eq(st.lines, 9);
    ck_assert_int_eq(g_msgs.n, 7);
    const char *want[] = {":3: column 'price': not a decimal number 'abc'",
                          ":4: expected 8 fields, found 7",
                          ":5: column 'side': expected buy, sell or unknown, got 'up'",
                          ":6: column 'amount': negative quantity '-1'",
                          ":7: column 'timestamp': not a microsecond time '12:00'",
                          ":8: column 'price': not a decimal number '1.2.3'",
                          ":9: column 'price': number out of range"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char full[4400];
        snprintf(full, sizeof full, "%s%s", csv, want[i]);
        ck_assert_msg(strstr(g_msgs.text, full), "missing '%s' in:\n%s", full, g_msgs.text);
    }
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_import_strict_stops_at_the_first_malformed_line)
{
    char csv[4200];
    write_text(csv, sizeof csv, "strict.csv",
               TRADES_HEADER "binance,BTCUSDT,1000,1000,1,buy,100.5,1\n"
                             "binance,BTCUSDT,1000,1000,2,buy,100.5,x\n"
                             "binance,BTCUSDT,1000,1000,3,buy,100.5,\n");
    cq_import_t *imp = session(1, 0);
    ck_assert_int_eq(cq_import_file(imp, csv), CQ_EPARSE);
    ck_assert_int_eq(g_msgs.n, 1);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "strict.csv:3: column 'amount'"));
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_import_huge_line_is_reported_and_the_next_lines_still_read)
{
    char csv[4200];
    size_t big = 200000;
    char *text = malloc(big + 512);
    strcpy(text, TRADES_HEADER "binance,BTCUSDT,1000,1000,1,buy,100.5,1\n");
    size_t n = strlen(text);
    memset(text + n, '7', big);
    strcpy(text + n + big, "\nbinance,BTCUSDT,2000,2000,2,sell,101,1\n");
    write_text(csv, sizeof csv, "huge.csv", text);
    free(text);
    cq_import_t *imp = session(0, 0);
    ck_assert_int_eq(cq_import_file(imp, csv), 0);
    cq_import_stats_t st;
    cq_import_get_stats(imp, &st);
    ck_assert_uint_eq(st.records, 2);
    ck_assert_uint_eq(st.skipped, 1);
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "huge.csv:3: line longer than 65536 bytes"));
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_import_rejects_unknown_headers_and_empty_files)
{
    char csv[4200];
    cq_import_t *imp = session(0, 0);
    write_text(csv, sizeof csv, "unknown.csv", "a,b,c\n1,2,3\n");
    ck_assert_int_eq(cq_import_file(imp, csv), CQ_EPARSE);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "unknown.csv:1: unrecognized header 'a,b,c'"));
    write_text(csv, sizeof csv, "empty.csv", "");
    ck_assert_int_eq(cq_import_file(imp, csv), CQ_EPARSE);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "empty file"));
    write_text(csv, sizeof csv, "header-only.csv", TRADES_HEADER);
    ck_assert_int_eq(cq_import_file(imp, csv), 0);
    char out[4200];
    path_of(out, sizeof out, "nothing.cqd");
    ck_assert_int_eq(cq_import_write(imp, out), CQ_ESTATE);
    ck_assert_int_ne(access(out, F_OK), 0);
    path_of(csv, sizeof csv, "does-not-exist.csv");
    ck_assert_int_eq(cq_import_file(imp, csv), CQ_EIO);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "cannot open"));
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_import_reads_gzip_and_plain_input_alike)
{
    const char *text = TRADES_HEADER "binance,ETHUSDT,1000,1500,11,sell,2500.25,0.5\n"
                                     "binance,ETHUSDT,2000,2500,12,buy,2500.5,1e-7\n";
    char plain[4200], gz[4200];
    write_text(plain, sizeof plain, "plain.csv", text);
    path_of(gz, sizeof gz, "packed.csv.gz");
    gzFile g = gzopen(gz, "wb");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(gzputs(g, text), (int)strlen(text));
    gzclose(g);
    cq_import_t *a = session(1, 0), *b = session(1, 0);
    ck_assert_int_eq(cq_import_file(a, plain), 0);
    ck_assert_int_eq(cq_import_file(b, gz), 0);
    loaded_t la = write_and_load(a, "plain.cqd"), lb = write_and_load(b, "packed.cqd");
    ck_assert_uint_eq(la.n, 2);
    ck_assert_uint_eq(lb.n, 2);
    ck_assert_int_eq(memcmp(la.rec, lb.rec, 2 * sizeof *la.rec), 0);
    const cq_cqd_instrument_t *in = cq_cqd_instrument(lb.r, 0);
    ck_assert_int_eq(in->size_precision, 7); /* 1e-7 written the JavaScript way */
    check_qty(in, lb.rec[1].trade.qty, "0.0000001");
    unload(&la);
    unload(&lb);
    cq_import_destroy(a);
    cq_import_destroy(b);
}
END_TEST

START_TEST(test_import_truncated_gzip_is_an_error)
{
    char gz[4200], cut[4200];
    path_of(gz, sizeof gz, "whole.csv.gz");
    gzFile g = gzopen(gz, "wb");
    gzputs(g, TRADES_HEADER);
    for (int i = 0; i < 2000; i++)
        gzprintf(g, "binance,BTCUSDT,%d,%d,%d,buy,%d.5,1\n", 1000 + i, 1000 + i, i, 100 + i % 7);
    gzclose(g);
    FILE *f = fopen(gz, "rb");
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    path_of(cut, sizeof cut, "cut.csv.gz");
    f = fopen(cut, "wb");
    fwrite(buf, 1, n / 2, f);
    fclose(f);
    cq_import_t *imp = session(0, 0);
    ck_assert_int_eq(cq_import_file(imp, cut), CQ_EIO);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "cut.csv.gz"));
    cq_import_destroy(imp);
}
END_TEST

/* ---- formats --------------------------------------------------------------------------------- */

START_TEST(test_import_merges_files_by_ts_init_keeping_input_order_on_ties)
{
    char t[4200], q[4200];
    write_text(t, sizeof t, "merge-trades.csv",
               TRADES_HEADER "binance,BTCUSDT,1,10,1,buy,100,1\n"
                             "binance,BTCUSDT,1,30,2,buy,100,1\n"
                             "binance,BTCUSDT,1,30,3,buy,100,1\n"
                             "binance,BTCUSDT,1,50,4,buy,100,1\n");
    write_text(q, sizeof q, "merge-quotes.csv",
               QUOTES_HEADER "binance,BTCUSDT,1,5,1,101,100,1\n"
                             "binance,BTCUSDT,1,30,1,101,100,1\n"
                             "binance,BTCUSDT,1,40,1,101,100,1\n");
    cq_import_t *imp = session(1, 0);
    ck_assert_int_eq(cq_import_file(imp, t), 0);
    ck_assert_int_eq(cq_import_file(imp, q), 0);
    loaded_t l = write_and_load(imp, "merge.cqd");
    /* ts_init (us): q5 t10 t30 t30 q30 q40 t50; ties keep file then line order */
    const int want_type[] = {CQ_EV_QUOTE, CQ_EV_TRADE, CQ_EV_TRADE, CQ_EV_TRADE,
                             CQ_EV_QUOTE, CQ_EV_QUOTE, CQ_EV_TRADE};
    const int64_t want_ts[] = {5, 10, 30, 30, 30, 40, 50};
    ck_assert_uint_eq(l.n, 7);
    for (size_t i = 0; i < 7; i++) {
        ck_assert_int_eq(l.rec[i].type, want_type[i]);
        ck_assert_int_eq(l.rec[i].ts_init, want_ts[i] * 1000);
    }
    ck_assert_uint_eq(l.rec[2].trade.trade_id, 2);
    ck_assert_uint_eq(l.rec[3].trade.trade_id, 3);
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_import_book_l2_marks_snapshots_and_the_last_row_of_each_message)
{
    char csv[4200];
    write_text(csv, sizeof csv, "book.csv",
               BOOK_HEADER "binance,BTCUSDT,1,100,false,bid,99,1\n"   /* before any snapshot */
                           "binance,BTCUSDT,2,200,true,bid,100,1.5\n" /* snapshot message */
                           "binance,BTCUSDT,2,200,true,ask,101,2\n"
                           "binance,BTCUSDT,2,200,true,ask,102,2.25\n"
                           "binance,BTCUSDT,3,300,false,bid,100,0\n"  /* update: delete */
                           "binance,BTCUSDT,3,300,false,ask,101,3\n"
                           "binance,BTCUSDT,4,400,false,ask,103,1\n"
                           "binance,BTCUSDT,5,500,true,bid,98,1\n"    /* resync snapshot */
                           "binance,BTCUSDT,5,500,true,ask,99.5,1\n");
    cq_import_t *imp = session(1, 0);
    ck_assert_int_eq(cq_import_file(imp, csv), 0);
    loaded_t l = write_and_load(imp, "book.cqd");
    ck_assert_uint_eq(l.n, 9);
    const int snap[] = {0, 1, 1, 1, 0, 0, 0, 1, 1};
    const int last[] = {1, 0, 0, 1, 0, 1, 1, 0, 1};
    const int side[] = {CQ_SIDE_BUY, CQ_SIDE_BUY, CQ_SIDE_SELL, CQ_SIDE_SELL, CQ_SIDE_BUY,
                        CQ_SIDE_SELL, CQ_SIDE_SELL, CQ_SIDE_BUY, CQ_SIDE_SELL};
    const cq_cqd_instrument_t *in = cq_cqd_instrument(l.r, 0);
    for (size_t i = 0; i < l.n; i++) {
        ck_assert_int_eq(l.rec[i].type, CQ_EV_BOOK_DELTA);
        ck_assert_msg(!!(l.rec[i].flags & CQ_EVF_SNAPSHOT) == snap[i], "row %zu snapshot", i);
        ck_assert_msg(!!(l.rec[i].flags & CQ_EVF_LAST) == last[i], "row %zu last", i);
        ck_assert_int_eq(l.rec[i].side, side[i]);
    }
    check_price(in, l.rec[8].delta.price, "99.5");
    check_qty(in, l.rec[3].delta.qty, "2.25");
    ck_assert_int_eq(l.rec[4].delta.qty, 0);
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_import_ohlcv_reads_every_timestamp_form_to_the_same_bars)
{
    /* 2024-01-01T00:00:00Z = 1704067200 s */
    const char *forms[] = {
        "timestamp,open,high,low,close,volume\n1704067200,10,12,9,11,100\n1704067260,11,13,10.5,12,50.5\n",
        "timestamp,open,high,low,close,volume\n1704067200000,10,12,9,11,100\n1704067260000,11,13,10.5,12,50.5\n",
        "timestamp,open,high,low,close,volume\n1704067200000000,10,12,9,11,100\n"
        "1704067260000000,11,13,10.5,12,50.5\n",
        "timestamp,open,high,low,close,volume\n1704067200000000000,10,12,9,11,100\n"
        "1704067260000000000,11,13,10.5,12,50.5\n",
        "Date,Open,High,Low,Close,Volume\n2024-01-01 00:00:00,10,12,9,11,100\n2024-01-01T00:01:00Z,11,13,10.5,12,50.5\n",
        "time,open,high,low,close,volume,trades\n2024-01-01T01:00:00+01:00,10,12,9,11,100,5\n"
        "2024-01-01T00:01:00.000Z,11,13,10.5,12,50.5,7\n",
        "\xEF\xBB\xBF\"timestamp\",\"open\",\"high\",\"low\",\"close\",\"volume\"\r\n"
        "2024-01-01,10,12,9,11,100\r\n2024-01-01T00:01,11,13,10.5,12,50.5\r\n",
    };
    for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
        char csv[4200], name[64];
        snprintf(name, sizeof name, "BTCUSDT-1m-%zu.csv", k);
        write_text(csv, sizeof csv, name, forms[k]);
        cq_import_t *imp = session(1, 0);
        ck_assert_int_eq(cq_import_define(imp, "BTCUSDT.BINANCE"), 0);
        ck_assert_msg(cq_import_file(imp, csv) == 0, "form %zu: %s", k, cq_import_error(imp));
        loaded_t l = write_and_load(imp, "bars.cqd");
        ck_assert_uint_eq(l.n, 2);
        const cq_cqd_instrument_t *in = cq_cqd_instrument(l.r, 0);
        ck_assert_str_eq(in->id, "BTCUSDT.BINANCE");
        ck_assert_int_eq(l.rec[0].type, CQ_EV_BAR);
        ck_assert_int_eq(l.rec[0].ts_event, 1704067200000000000LL); /* open */
        ck_assert_int_eq(l.rec[0].ts_init, 1704067260000000000LL);  /* close: + inferred 1m */
        ck_assert_int_eq(l.rec[1].ts_init, 1704067320000000000LL);
        check_price(in, l.rec[1].bar.low, "10.5");
        check_qty(in, l.rec[1].bar.volume, "50.5");
        check_price(in, l.rec[0].bar.high, "12");
        unload(&l);
        cq_import_destroy(imp);
    }
}
END_TEST

START_TEST(test_import_ohlcv_bar_length_given_or_inferred)
{
    char csv[4200];
    write_text(csv, sizeof csv, "one-bar.csv", "timestamp,open,high,low,close,volume\n1704067200,10,12,9,11,100\n");
    cq_import_t *imp = session(1, 0);
    ck_assert_int_eq(cq_import_define(imp, "ETHUSDT.BINANCE"), 0);
    ck_assert_int_eq(cq_import_file(imp, csv), CQ_EINVAL);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "--bar"));
    cq_import_destroy(imp);
    imp = session(1, 3600000000000LL);
    ck_assert_int_eq(cq_import_define(imp, "ETHUSDT.BINANCE"), 0);
    ck_assert_int_eq(cq_import_file(imp, csv), 0);
    loaded_t l = write_and_load(imp, "one-bar.cqd");
    ck_assert_int_eq(l.rec[0].ts_init - l.rec[0].ts_event, 3600000000000LL);
    unload(&l);
    cq_import_destroy(imp);
    /* a missing bar (no trades) does not stretch the interval */
    write_text(csv, sizeof csv, "gap.csv",
               "timestamp,open,high,low,close,volume\n1704067200,1,1,1,1,1\n1704067260,1,1,1,1,1\n"
               "1704067380,1,1,1,1,1\n");
    imp = session(1, 0);
    ck_assert_int_eq(cq_import_define(imp, "ETHUSDT.BINANCE"), 0);
    ck_assert_int_eq(cq_import_file(imp, csv), 0);
    l = write_and_load(imp, "gap.cqd");
    for (size_t i = 0; i < l.n; i++)
        ck_assert_int_eq(l.rec[i].ts_init - l.rec[i].ts_event, 60000000000LL);
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_import_ohlcv_needs_an_instrument_and_consistent_bars)
{
    char csv[4200];
    write_text(csv, sizeof csv, "bars.csv",
               "timestamp,open,high,low,close,volume\n"
               "1704067200,10,12,9,11,100\n"
               "1704067260,10,9,12,11,100\n"         /* high below low */
               "1704067320,10,12,9,13,100\n"         /* close above high */
               "2024-02-30T00:00:00Z,10,12,9,11,1\n" /* no such day */
               "1704067380.0000000001,10,12,9,11,1\n" /* finer than 1 ns */
               "1704067440,10,12,9,11,1\n");
    cq_import_t *imp = session(0, 0);
    ck_assert_int_eq(cq_import_file(imp, csv), CQ_EINVAL);
    ck_assert_ptr_nonnull(strstr(cq_import_error(imp), "--instrument"));
    ck_assert_int_eq(cq_import_define(imp, "AAA.X"), 0);
    ck_assert_int_eq(cq_import_define(imp, "BBB.X"), 0);
    ck_assert_int_eq(cq_import_file(imp, csv), CQ_EINVAL); /* two candidates, none in the name */
    cq_import_destroy(imp);
    imp = session(0, 0);
    ck_assert_int_eq(cq_import_define(imp, "AAA.X"), 0);
    ck_assert_int_eq(cq_import_file(imp, csv), 0);
    cq_import_stats_t st;
    cq_import_get_stats(imp, &st);
    ck_assert_uint_eq(st.records, 2);
    ck_assert_uint_eq(st.skipped, 4);
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "bars.csv:3: inconsistent bar"));
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "bars.csv:5: bad timestamp '2024-02-30T00:00:00Z'"));
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "bars.csv:6: bad timestamp"));
    cq_import_destroy(imp);
}
END_TEST

/* ---- instrument specs -------------------------------------------------------------------------- */

START_TEST(test_import_define_fixes_the_increments_and_checks_every_value)
{
    char csv[4200];
    write_text(csv, sizeof csv, "ticks.csv",
               TRADES_HEADER "binance-futures,BTCUSDT,1,1,1,buy,9682.5,0.001\n"
                             "binance-futures,BTCUSDT,2,2,2,buy,9682.25,0.001\n" /* too many decimals */
                             "binance-futures,BTCUSDT,3,3,3,buy,9682.1,0.001\n"  /* not a multiple of 0.5 */
                             "binance-futures,BTCUSDT,4,4,4,sell,9683,0.0005\n"  /* step is 0.001 */
                             "binance-futures,ETHUSDT,5,5,5,sell,1.23456,7\n");  /* not defined: inferred */
    cq_import_t *imp = session(0, 0);
    ck_assert_int_eq(cq_import_define(imp, "BTCUSDT.BINANCE:tick=0.5:step=0.001:min_qty=0.001:max_qty=100"
                                           ":min_notional=5:base=BTC:quote=USDT"),
                     0);
    ck_assert_int_eq(cq_import_file(imp, csv), 0);
    ck_assert_int_eq(g_msgs.n, 3);
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "ticks.csv:3: more decimals than BTCUSDT.BINANCE allows"));
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "ticks.csv:4: column 'price': '9682.1' is not a multiple of tick 0.5"));
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "ticks.csv:5: more decimals"));
    loaded_t l = write_and_load(imp, "ticks.cqd");
    ck_assert_uint_eq(l.n, 2);
    const cq_cqd_instrument_t *btc = cq_cqd_instrument(l.r, 0), *eth = cq_cqd_instrument(l.r, 1);
    ck_assert_str_eq(btc->id, "BTCUSDT.BINANCE");
    ck_assert_str_eq(btc->base, "BTC");
    ck_assert_str_eq(btc->quote, "USDT");
    ck_assert_int_eq(btc->price_precision, 1);
    ck_assert_int_eq(btc->tick_units, 5);
    ck_assert_int_eq(btc->size_precision, 3);
    ck_assert_int_eq(btc->min_qty, 1);
    ck_assert_int_eq(btc->max_qty, 100000);
    ck_assert_int_eq(btc->min_notional, 5);
    ck_assert_int_eq(l.rec[0].trade.price, 19365); /* 9682.5 / 0.5 */
    check_price(btc, l.rec[0].trade.price, "9682.5");
    ck_assert_str_eq(eth->id, "ETHUSDT.BINANCE-FUTURES");
    ck_assert_int_eq(eth->price_precision, 5);
    ck_assert_int_eq(eth->size_precision, 0);
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_import_define_rejects_bad_specs)
{
    cq_import_t *imp = session(0, 0);
    const char *bad[] = {"",
                         "BTCUSDT",
                         ".BINANCE",
                         "BTCUSDT.",
                         "BTCUSDT.BINANCE:tick=0",
                         "BTCUSDT.BINANCE:tick=-0.01",
                         "BTCUSDT.BINANCE:tick=abc",
                         "BTCUSDT.BINANCE:tick",
                         "BTCUSDT.BINANCE:colour=blue",
                         "BTCUSDT.BINANCE:step=0.01:min_qty=0.001",
                         "BTCUSDT.BINANCE:base=ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ.BINANCE",
                         "BTCUSDT.ABCDEFGHIJKLMNOPQRSTUVWXYZ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = cq_import_define(imp, bad[i]);
        ck_assert_msg(rc == CQ_EINVAL || rc == CQ_ETOOLONG, "'%s' gave %d", bad[i], rc);
        ck_assert_str_ne(cq_import_error(imp), "");
    }
    ck_assert_int_eq(cq_import_define(imp, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_import_define(NULL, "A.B"), CQ_EINVAL);
    ck_assert_int_eq(cq_import_define(imp, "BTC.USDT.BINANCE"), 0); /* the last dot splits */
    ck_assert_int_eq(cq_import_define(imp, "BTC.USDT.BINANCE:tick=1"), CQ_EEXIST);
    cq_import_stats_t st;
    cq_import_get_stats(imp, &st);
    ck_assert_uint_eq(st.instruments, 1);
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_import_inferred_precision_rises_and_rescales_earlier_records)
{
    char csv[4200];
    write_text(csv, sizeof csv, "rise.csv",
               TRADES_HEADER "binance,BTCUSDT,1,1,1,buy,100,1\n"
                             "binance,BTCUSDT,2,2,2,buy,100.5,1.50\n"
                             "binance,BTCUSDT,3,3,3,buy,100.25,0.125\n"
                             "binance,BTCUSDT,4,4,4,buy,-3.000,0\n");
    cq_import_t *imp = session(1, 0);
    ck_assert_int_eq(cq_import_file(imp, csv), 0);
    loaded_t l = write_and_load(imp, "rise.cqd");
    const cq_cqd_instrument_t *in = cq_cqd_instrument(l.r, 0);
    ck_assert_int_eq(in->price_precision, 2);
    ck_assert_int_eq(in->size_precision, 3); /* trailing zeros are not precision */
    const char *px[] = {"100", "100.5", "100.25", "-3"}, *qty[] = {"1", "1.5", "0.125", "0"};
    for (int i = 0; i < 4; i++) {
        check_price(in, l.rec[i].trade.price, px[i]);
        check_qty(in, l.rec[i].trade.qty, qty[i]);
    }
    ck_assert_int_eq(l.rec[0].trade.price, 10000);
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_import_precision_rise_that_would_overflow_is_a_malformed_line)
{
    char csv[4200];
    write_text(csv, sizeof csv, "overflow.csv",
               TRADES_HEADER "binance,BTCUSDT,1,1,1,buy,1000000000000000000,1\n"
                             "binance,BTCUSDT,2,2,2,buy,0.5,1\n");
    cq_import_t *imp = session(0, 0);
    ck_assert_int_eq(cq_import_file(imp, csv), 0);
    ck_assert_int_eq(g_msgs.n, 1);
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "overflow.csv:3:"));
    loaded_t l = write_and_load(imp, "overflow.cqd");
    ck_assert_uint_eq(l.n, 1);
    check_price(cq_cqd_instrument(l.r, 0), l.rec[0].trade.price, "1000000000000000000");
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_import_tardis_trade_ids_that_are_not_numbers_become_zero)
{
    char csv[4200];
    write_text(csv, sizeof csv, "guid.csv",
               TRADES_HEADER "deribit,BTC-PERPETUAL,1,1,282a0445-0e3a,sell,7996,50\n"
                             "deribit,BTC-PERPETUAL,2,2,,unknown,7996.5,10\n");
    cq_import_t *imp = session(1, 0);
    ck_assert_int_eq(cq_import_file(imp, csv), 0);
    loaded_t l = write_and_load(imp, "guid.cqd");
    ck_assert_uint_eq(l.rec[0].trade.trade_id, 0);
    ck_assert_int_eq(l.rec[1].side, CQ_SIDE_NONE);
    ck_assert_str_eq(cq_cqd_instrument(l.r, 0)->id, "BTC-PERPETUAL.DERIBIT");
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

/* ---- the hook other importers use ---------------------------------------------------------------- */

START_TEST(test_import_hook_stages_records_from_another_format)
{
    cq_import_t *imp = session(1, 0);
    uint32_t idx, again;
    ck_assert_int_eq(cq_import_instrument(imp, "ETHUSDT", "BINANCE", &idx), 0);
    ck_assert_int_eq(cq_import_instrument(imp, "ETHUSDT", "BINANCE", &again), 0);
    ck_assert_uint_eq(idx, again);
    ck_assert_int_eq(cq_import_fit(imp, idx, 2, 4), 0);
    cq_cqd_record_t r;
    memset(&r, 0, sizeof r);
    r.type = CQ_EV_QUOTE;
    r.instrument = idx;
    r.ts_init = r.ts_event = 1000;
    ck_assert_int_eq(cq_import_units(imp, idx, CQ_IMPORT_PRICE, 250025, 2, &r.quote.bid_price), 0);
    ck_assert_int_eq(cq_import_units(imp, idx, CQ_IMPORT_PRICE, 25003, 1, &r.quote.ask_price), 0);
    ck_assert_int_eq(cq_import_units(imp, idx, CQ_IMPORT_SIZE, 12345, 4, &r.quote.bid_qty), 0);
    ck_assert_int_eq(cq_import_units(imp, idx, CQ_IMPORT_SIZE, 2, 0, &r.quote.ask_qty), 0);
    r.quote.update_id = 35346513513ULL;
    ck_assert_int_eq(cq_import_add(imp, &r), 0);
    ck_assert_int_eq(cq_import_units(imp, idx, CQ_IMPORT_PRICE, 1, 3, &r.quote.bid_price), CQ_ERANGE);
    ck_assert_int_eq(cq_import_units(imp, idx, 7, 1, 0, &r.quote.bid_price), CQ_EINVAL);
    ck_assert_int_eq(cq_import_units(imp, 9, CQ_IMPORT_PRICE, 1, 0, &r.quote.bid_price), CQ_EINVAL);
    ck_assert_int_eq(cq_import_units(imp, idx, CQ_IMPORT_PRICE, INT64_MAX, 0, &r.quote.bid_price), CQ_ERANGE);
    ck_assert_int_eq(cq_import_fit(imp, idx, 19, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_import_fit(imp, 9, 1, 1), CQ_EINVAL);
    r.type = CQ_EV_BOOK;
    ck_assert_int_eq(cq_import_add(imp, &r), CQ_EINVAL);
    r.type = CQ_EV_QUOTE;
    r.instrument = 9;
    ck_assert_int_eq(cq_import_add(imp, &r), CQ_EINVAL);
    ck_assert_int_eq(cq_import_instrument(imp, "", "BINANCE", &idx), CQ_EINVAL);
    ck_assert_int_eq(cq_import_instrument(imp, "A", NULL, &idx), CQ_EINVAL);
    ck_assert_int_eq(cq_import_instrument(imp, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "X", &idx), CQ_ETOOLONG);
    ck_assert_int_eq(cq_import_report(imp, "feed.txt", 12, "unknown event type '%s'", "foo"), CQ_EPARSE);
    ck_assert_ptr_nonnull(strstr(g_msgs.text, "feed.txt:12: unknown event type 'foo'"));
    loaded_t l = write_and_load(imp, "hook.cqd");
    ck_assert_uint_eq(l.n, 1);
    const cq_cqd_instrument_t *in = cq_cqd_instrument(l.r, 0);
    check_price(in, l.rec[0].quote.bid_price, "2500.25");
    check_price(in, l.rec[0].quote.ask_price, "2500.3");
    check_qty(in, l.rec[0].quote.bid_qty, "1.2345");
    check_qty(in, l.rec[0].quote.ask_qty, "2");
    ck_assert_uint_eq(l.rec[0].quote.update_id, 35346513513ULL);
    unload(&l);
    cq_import_destroy(imp);
}
END_TEST

START_TEST(test_import_api_rejects_bad_arguments)
{
    cq_import_t *imp;
    cq_import_opts_t bad = {.bar_interval_ns = -1};
    ck_assert_int_eq(cq_import_create(NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_import_create(&imp, &bad), CQ_EINVAL);
    ck_assert_int_eq(cq_import_create(&imp, NULL), 0); /* defaults: lenient, stderr */
    ck_assert_str_eq(cq_import_error(imp), "");
    ck_assert_int_eq(cq_import_file(imp, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_import_file(imp, ""), CQ_EINVAL);
    ck_assert_int_eq(cq_import_file(NULL, "x.csv"), CQ_EINVAL);
    ck_assert_int_eq(cq_import_write(imp, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_import_write(NULL, "x.cqd"), CQ_EINVAL);
    ck_assert_int_eq(cq_import_add(imp, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_import_report(NULL, "f", 1, "x"), CQ_EINVAL);
    cq_import_stats_t st;
    cq_import_get_stats(NULL, &st);
    ck_assert_uint_eq(st.records, 0);
    cq_import_get_stats(imp, NULL);
    cq_import_count_line(NULL);
    ck_assert_str_eq(cq_import_error(imp), "no input file given");
    cq_import_destroy(imp);
    cq_import_destroy(NULL);
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
    snprintf(g_dir, sizeof g_dir, "%s/cq-test-import-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("cqd_import");
    TCase *tc = tcase_create("import");
    tcase_add_test(tc, test_import_tardis_trades_and_quotes_match_every_csv_row_exactly);
    tcase_add_test(tc, test_cli_convert_then_dump_reproduces_every_tardis_row);
    tcase_add_test(tc, test_cli_dump_filters_by_type_and_limit);
    tcase_add_test(tc, test_cli_bad_command_lines_exit_2_with_one_line);
    tcase_add_test(tc, test_cli_bad_files_exit_1_with_the_reason);
    tcase_add_test(tc, test_import_malformed_lines_are_reported_as_file_line_and_skipped);
    tcase_add_test(tc, test_import_strict_stops_at_the_first_malformed_line);
    tcase_add_test(tc, test_import_huge_line_is_reported_and_the_next_lines_still_read);
    tcase_add_test(tc, test_import_rejects_unknown_headers_and_empty_files);
    tcase_add_test(tc, test_import_reads_gzip_and_plain_input_alike);
    tcase_add_test(tc, test_import_truncated_gzip_is_an_error);
    tcase_add_test(tc, test_import_merges_files_by_ts_init_keeping_input_order_on_ties);
    tcase_add_test(tc, test_import_book_l2_marks_snapshots_and_the_last_row_of_each_message);
    tcase_add_test(tc, test_import_ohlcv_reads_every_timestamp_form_to_the_same_bars);
    tcase_add_test(tc, test_import_ohlcv_bar_length_given_or_inferred);
    tcase_add_test(tc, test_import_ohlcv_needs_an_instrument_and_consistent_bars);
    tcase_add_test(tc, test_import_define_fixes_the_increments_and_checks_every_value);
    tcase_add_test(tc, test_import_define_rejects_bad_specs);
    tcase_add_test(tc, test_import_inferred_precision_rises_and_rescales_earlier_records);
    tcase_add_test(tc, test_import_precision_rise_that_would_overflow_is_a_malformed_line);
    tcase_add_test(tc, test_import_tardis_trade_ids_that_are_not_numbers_become_zero);
    tcase_add_test(tc, test_import_hook_stages_records_from_another_format);
    tcase_add_test(tc, test_import_api_rejects_bad_arguments);
    suite_add_tcase(s, tc);
    int rc = cq_test_run(s);
    remove_dir(g_dir);
    return rc;
}
