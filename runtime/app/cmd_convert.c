/*
 * cmd_convert.c - `cquant convert IN... -o OUT.cqd`: recorded data in other
 * formats to one .cqd file.
 *
 * Parses the command line, feeds every input to one import session (which
 * detects each file's format from its first line) and writes the merged
 * result. It owns nothing beyond the session; it never leaves a partial
 * output file (the writer renames into place at the end).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "cquant/cqd.h"
#include "cquant/error.h"
#include "cquant/importer.h"

static void convert_usage(FILE *f)
{
    fprintf(f,
            "usage: cquant convert IN... -o OUT.cqd [options]\n"
            "  IN            Tardis CSV (trades, quotes, incremental_book_L2), OHLCV CSV\n"
            "                (timestamp,open,high,low,close,volume), or a Binance Spot\n"
            "                recording (hftbacktest '<recv_ns> <json>' lines, cryptofeed\n"
            "                '<recv_s>: <json>' and REST depth lines); plain or gzip.\n"
            "                Everything is merged by receive time.\n"
            "  -o OUT.cqd    output file (written atomically)\n"
            "  --instrument SYMBOL.VENUE[:tick=0.01][:step=0.001][:min_qty=X][:max_qty=X]\n"
            "               [:min_notional=X][:base=B][:quote=Q]\n"
            "                spec for rows of SYMBOL (repeatable); without tick/step the\n"
            "                precision is the most decimals seen in the data\n"
            "  --exchange-info FILE\n"
            "                Binance /api/v3/exchangeInfo (JSON body or cryptofeed line):\n"
            "                specs of the Binance symbols in the data (repeatable;\n"
            "                --instrument wins)\n"
            "  --venue NAME  venue of Binance instrument ids (default BINANCE)\n"
            "  --snapshot-symbol SYMBOL\n"
            "                symbol of a bare REST depth snapshot in a file whose frames\n"
            "                do not name exactly one symbol\n"
            "  --bar LEN     OHLCV bar length (500ms, 1s, 1m, 1h, 1d, 1w); default: inferred\n"
            "  --strict      stop at the first malformed line (default: report and skip)\n"
            "  --quiet       no summary on stderr\n");
}

/* "1m", "90s", "500ms", "1h", "1d", "1w", or plain seconds, as ns. */
static int parse_interval(const char *s, int64_t *ns)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v <= 0)
        return -1;
    int64_t unit;
    if (!*end || !strcmp(end, "s"))
        unit = 1000000000LL;
    else if (!strcmp(end, "ms"))
        unit = 1000000LL;
    else if (!strcmp(end, "us"))
        unit = 1000LL;
    else if (!strcmp(end, "m"))
        unit = 60000000000LL;
    else if (!strcmp(end, "h"))
        unit = 3600000000000LL;
    else if (!strcmp(end, "d"))
        unit = 86400000000000LL;
    else if (!strcmp(end, "w"))
        unit = 604800000000000LL;
    else
        return -1;
    if (v > INT64_MAX / unit)
        return -1;
    *ns = v * unit;
    return 0;
}

static void print_summary(const char *out)
{
    cq_cqd_reader_t *r;
    char err[512];
    if (cq_cqd_open(&r, out, 0, err, sizeof err) != 0) {
        fprintf(stderr, "cquant convert: %s\n", err);
        return;
    }
    cq_cqd_info_t info;
    cq_cqd_get_info(r, &info);
    fprintf(stderr,
            "cquant convert: wrote %s: %llu records (%llu trades, %llu quotes, %llu deltas, %llu bars)\n",
            out, (unsigned long long)info.record_count, (unsigned long long)info.count[CQ_EV_TRADE],
            (unsigned long long)info.count[CQ_EV_QUOTE], (unsigned long long)info.count[CQ_EV_BOOK_DELTA],
            (unsigned long long)info.count[CQ_EV_BAR]);
    for (uint32_t i = 0; i < info.instrument_count; i++) {
        const cq_cqd_instrument_t *in = cq_cqd_instrument(r, i);
        char tick[48], step[48];
        cq_cqd_format_units(in->tick_units, in->price_precision, tick, sizeof tick);
        cq_cqd_format_units(in->step_units, in->size_precision, step, sizeof step);
        fprintf(stderr, "  %s: tick %s, step %s\n", in->id, tick, step);
    }
    cq_cqd_close(r);
}

int cq_app_convert(int argc, char **argv)
{
    const char *out = NULL;
    int strict = 0, quiet = 0, ninputs = 0;
    int64_t bar = 0;
    const char **inputs = calloc((size_t)(argc > 0 ? argc : 1), sizeof *inputs);
    const char **specs = calloc((size_t)(argc > 0 ? argc : 1), sizeof *specs);
    const char **infos = calloc((size_t)(argc > 0 ? argc : 1), sizeof *infos);
    const char *venue = NULL, *snapshot_symbol = NULL;
    int nspecs = 0, ninfos = 0, status = 2;
    cq_import_t *imp = NULL;
    if (!inputs || !specs || !infos) {
        fprintf(stderr, "cquant convert: out of memory\n");
        status = 1;
        goto done;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            convert_usage(stdout);
            status = 0;
            goto done;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!has_value) {
                fprintf(stderr, "cquant convert: %s needs a file name\n", a);
                goto done;
            }
            out = argv[++i];
        } else if (!strcmp(a, "--instrument")) {
            if (!has_value) {
                fprintf(stderr, "cquant convert: --instrument needs SYMBOL.VENUE[:key=value...]\n");
                goto done;
            }
            specs[nspecs++] = argv[++i];
        } else if (!strcmp(a, "--exchange-info")) {
            if (!has_value) {
                fprintf(stderr, "cquant convert: --exchange-info needs a file\n");
                goto done;
            }
            infos[ninfos++] = argv[++i];
        } else if (!strcmp(a, "--venue") || !strcmp(a, "--snapshot-symbol")) {
            const char **dst = a[2] == 'v' ? &venue : &snapshot_symbol;
            size_t cap = a[2] == 'v' ? 16 : 24;
            const char *v = has_value ? argv[i + 1] : "";
            size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
            if (!*v || v[n] || n >= cap) {
                fprintf(stderr, "cquant convert: %s needs a name of 1..%zu letters, digits, '_' or '-'\n", a,
                        cap - 1);
                goto done;
            }
            *dst = argv[++i];
        } else if (!strcmp(a, "--bar")) {
            if (!has_value || parse_interval(argv[i + 1], &bar) != 0) {
                fprintf(stderr, "cquant convert: --bar needs a length like 1m, 1h, 1d or 500ms\n");
                goto done;
            }
            i++;
        } else if (!strcmp(a, "--strict")) {
            strict = 1;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "cquant convert: unknown option '%s' (try 'cquant convert --help')\n", a);
            goto done;
        } else {
            inputs[ninputs++] = a;
        }
    }
    if (!ninputs) {
        fprintf(stderr, "cquant convert: no input files (try 'cquant convert --help')\n");
        goto done;
    }
    if (!out || !*out) {
        fprintf(stderr, "cquant convert: no output file: give -o OUT.cqd\n");
        goto done;
    }
    for (int i = 0; i < ninputs; i++) {
        if (!strcmp(inputs[i], out)) {
            fprintf(stderr, "cquant convert: the output %s is also an input\n", out);
            goto done;
        }
    }
    cq_import_opts_t opts = {
        .strict = strict, .bar_interval_ns = bar, .venue = venue, .snapshot_symbol = snapshot_symbol};
    if (cq_import_create(&imp, &opts) != 0) {
        fprintf(stderr, "cquant convert: out of memory\n");
        status = 1;
        goto done;
    }
    for (int i = 0; i < nspecs; i++) {
        if (cq_import_define(imp, specs[i]) != 0) {
            fprintf(stderr, "cquant convert: %s\n", cq_import_error(imp));
            goto done;
        }
    }
    status = 1;
    size_t offered = 0;
    for (int i = 0; i < ninfos; i++) {
        size_t n;
        if (cq_import_exchange_info(imp, infos[i], &n) != 0) {
            fprintf(stderr, "cquant convert: %s\n", cq_import_error(imp));
            goto done;
        }
        offered += n;
    }
    for (int i = 0; i < ninputs; i++) {
        int rc = cq_import_file(imp, inputs[i]);
        if (rc == CQ_EPARSE && strict && cq_import_error(imp)[0] && strstr(cq_import_error(imp), ": ")) {
            cq_import_stats_t st;
            cq_import_get_stats(imp, &st);
            if (st.skipped) { /* the line was reported already */
                fprintf(stderr, "cquant convert: stopped at the first malformed line (--strict); nothing written\n");
                goto done;
            }
        }
        if (rc != 0) {
            fprintf(stderr, "cquant convert: %s\n", cq_import_error(imp));
            goto done;
        }
    }
    if (cq_import_write(imp, out) != 0) {
        fprintf(stderr, "cquant convert: %s\n", cq_import_error(imp));
        goto done;
    }
    cq_import_stats_t st;
    cq_import_get_stats(imp, &st);
    if (!quiet) {
        print_summary(out);
        if (ninfos)
            fprintf(stderr, "  exchange info: specs for %zu symbols\n", offered);
        fprintf(stderr, "  %u files, %llu lines, %llu malformed lines skipped\n", st.files,
                (unsigned long long)st.lines, (unsigned long long)st.skipped);
    }
    status = 0;
done:
    cq_import_destroy(imp);
    free(inputs);
    free(specs);
    free(infos);
    return status;
}
