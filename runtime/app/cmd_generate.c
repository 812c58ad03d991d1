/*
 * cmd_generate.c - `cquant generate --seed N --minutes M -o OUT.cqd`: a
 * seeded synthetic market (synth.h, docs/synth.md) written as a .cqd file.
 *
 * Parses the command line into a cq_synth_config_t, lets cq_synth_write do
 * the work, then reads the file back (every block checksum verified) to
 * print what it holds. It owns nothing beyond that; the writer never leaves
 * a partial file under the output name.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "cquant/cqd.h"
#include "cquant/error.h"
#include "cquant/synth.h"

static void generate_usage(FILE *f)
{
    fprintf(f,
            "usage: cquant generate --minutes M -o OUT.cqd [options]\n"
            "  a synthetic market: trades and L2 book diffs of one instrument (docs/synth.md)\n"
            "  --minutes M          length of the stream in minutes (> 0; fractions allowed)\n"
            "  -o OUT.cqd           output file (written atomically)\n"
            "  --seed N             generator seed, 0..2^64-1 (default 1); same seed, same file\n"
            "  --symbol S           symbol (default BTCUSDT)\n"
            "  --venue V            venue (default SIM); the instrument is S.V\n"
            "  --price P            start price (default 60000)\n"
            "  --vol V              long-run annual volatility, 0.6 = 60%% (default 0.6)\n"
            "  --trades-per-sec R   mean trade arrival rate (default 20)\n"
            "  --levels N           book levels per side (default 20, at most 1000)\n"
            "  --book-interval-ms N milliseconds between book batches (default 100)\n"
            "  --start-ns T         time of the first event, ns since the epoch\n"
            "                       (default 2026-01-05T00:00:00Z)\n");
}

/* A whole decimal number without sign: 0 on success. */
static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* A finite decimal number > 0: 0 on success. */
static int parse_positive(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || !(v > 0))
        return -1;
    *out = v;
    return 0;
}

/* Trades and book batches of the file, counted from its records; the read
 * also verifies every block checksum. */
static int count_file(const char *path, uint64_t *records, uint64_t *trades, uint64_t *batches, char *err,
                      size_t errlen)
{
    cq_cqd_reader_t *r;
    int rc = cq_cqd_open(&r, path, CQ_CQD_VERIFY_ALL, err, errlen);
    if (rc < 0)
        return rc;
    cq_cqd_info_t info;
    cq_cqd_get_info(r, &info);
    *records = info.record_count;
    *trades = info.count[CQ_EV_TRADE];
    *batches = 0;
    cq_cqd_cursor_t c;
    const cq_cqd_record_t *rec;
    cq_cqd_cursor_init(&c, r);
    while ((rc = cq_cqd_next(&c, &rec)) == 1)
        *batches += rec->type == CQ_EV_BOOK_DELTA && (rec->flags & CQ_EVF_LAST);
    if (rc < 0)
        snprintf(err, errlen, "%s", cq_cqd_reader_error(r));
    cq_cqd_close(r);
    return rc;
}

int cq_app_generate(int argc, char **argv)
{
    cq_synth_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = 1;
    const char *out = NULL;
    double minutes = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            generate_usage(stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            bad = !v || !*v;
            out = v;
        } else if (!strcmp(a, "--seed")) {
            bad = parse_u64(v, &cfg.seed) != 0;
        } else if (!strcmp(a, "--minutes")) {
            bad = parse_positive(v, &minutes) != 0;
        } else if (!strcmp(a, "--symbol")) {
            bad = !v;
            cfg.symbol = v;
        } else if (!strcmp(a, "--venue")) {
            bad = !v;
            cfg.venue = v;
        } else if (!strcmp(a, "--price")) {
            bad = parse_positive(v, &cfg.start_price) != 0;
        } else if (!strcmp(a, "--vol")) {
            bad = parse_positive(v, &cfg.annual_vol) != 0;
        } else if (!strcmp(a, "--trades-per-sec")) {
            bad = parse_positive(v, &cfg.trades_per_sec) != 0;
        } else if (!strcmp(a, "--levels")) {
            uint64_t n;
            bad = parse_u64(v, &n) != 0 || n < 1 || n > 1000;
            cfg.levels = (uint32_t)n;
        } else if (!strcmp(a, "--book-interval-ms")) {
            uint64_t n;
            bad = parse_u64(v, &n) != 0 || n < 1 || n > 60000;
            cfg.book_interval_ns = (int64_t)n * 1000000;
        } else if (!strcmp(a, "--start-ns")) {
            uint64_t n;
            bad = parse_u64(v, &n) != 0 || n > (uint64_t)INT64_MAX / 2;
            cfg.start_ns = (int64_t)n;
        } else {
            fprintf(stderr, "cquant generate: unknown argument '%s' (try 'cquant generate --help')\n", a);
            return 2;
        }
        if (bad) {
            if (!v)
                fprintf(stderr, "cquant generate: %s needs a value\n", a);
            else
                fprintf(stderr, "cquant generate: bad value '%s' for %s (try 'cquant generate --help')\n", v, a);
            return 2;
        }
        i++;
    }
    if (!out) {
        fprintf(stderr, "cquant generate: no output file: give -o OUT.cqd\n");
        return 2;
    }
    if (!(minutes > 0)) {
        fprintf(stderr, "cquant generate: give the length with --minutes M\n");
        return 2;
    }
    char err[512];
    uint64_t written;
    int rc = cq_synth_write(&cfg, minutes, out, &written, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "cquant generate: %s\n", err[0] ? err : cq_strerror(rc));
        return rc == CQ_EINVAL ? 2 : 1;
    }
    uint64_t records, trades, batches;
    if (count_file(out, &records, &trades, &batches, err, sizeof err) < 0) {
        fprintf(stderr, "cquant generate: reading back %s: %s\n", out, err);
        return 1;
    }
    if (records != written) {
        fprintf(stderr, "cquant generate: %s holds %llu records, %llu were written\n", out,
                (unsigned long long)records, (unsigned long long)written);
        return 1;
    }
    printf("cquant generate: wrote %s: %llu records (%llu trades, %llu book batches), %g minutes, seed %llu\n",
           out, (unsigned long long)records, (unsigned long long)trades, (unsigned long long)batches, minutes,
           (unsigned long long)cfg.seed);
    return 0;
}
