/*
 * cmd_dump.c - `cquant dump FILE.cqd`: the records of a .cqd file as JSON
 * lines, for people to read and for other tools to consume.
 *
 * Prices and quantities are printed from the integer ticks at the
 * instrument's precision (never through a double), so what is printed is
 * exactly what is stored. It only reads the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "cquant/cqd.h"
#include "cquant/error.h"

static void dump_usage(FILE *f)
{
    fprintf(f,
            "usage: cquant dump FILE.cqd [--limit N] [--type trade|quote|delta|bar[,...]]\n"
            "                            [--instrument SYMBOL.VENUE] [--info]\n"
            "  prints one JSON object per record; --info prints the header and instruments\n");
}

static const struct {
    const char *name;
    int type;
} DUMP_TYPES[] = {{"trade", CQ_EV_TRADE}, {"quote", CQ_EV_QUOTE}, {"delta", CQ_EV_BOOK_DELTA},
                  {"bar", CQ_EV_BAR}};

static const char *dump_type_name(int type)
{
    for (size_t i = 0; i < sizeof DUMP_TYPES / sizeof DUMP_TYPES[0]; i++)
        if (DUMP_TYPES[i].type == type)
            return DUMP_TYPES[i].name;
    return "?";
}

/* "trade,quote" -> a bit per CQ_EV_* type; -1 for an unknown name. */
static int parse_types(const char *s)
{
    int mask = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        int found = 0;
        for (size_t i = 0; i < sizeof DUMP_TYPES / sizeof DUMP_TYPES[0]; i++) {
            if (strlen(DUMP_TYPES[i].name) == n && !strncmp(s, DUMP_TYPES[i].name, n)) {
                mask |= 1 << DUMP_TYPES[i].type;
                found = 1;
            }
        }
        if (!found)
            return -1;
        s += n;
        if (*s == ',')
            s++;
    }
    return mask ? mask : -1;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* An exact decimal, or null if ticks * increment overflows (a hostile file). */
static void json_price(FILE *f, const char *key, const cq_cqd_instrument_t *in, int64_t ticks)
{
    char buf[48];
    if (cq_cqd_format_price(in, ticks, buf, sizeof buf) < 0)
        snprintf(buf, sizeof buf, "null");
    fprintf(f, ",\"%s\":%s", key, buf);
}

static void json_qty(FILE *f, const char *key, const cq_cqd_instrument_t *in, int64_t steps)
{
    char buf[48];
    if (cq_cqd_format_qty(in, steps, buf, sizeof buf) < 0)
        snprintf(buf, sizeof buf, "null");
    fprintf(f, ",\"%s\":%s", key, buf);
}

static const char *side_text(int type, int side)
{
    if (type == CQ_EV_BOOK_DELTA)
        return side == CQ_SIDE_BUY ? "bid" : side == CQ_SIDE_SELL ? "ask" : "none";
    return side == CQ_SIDE_BUY ? "buy" : side == CQ_SIDE_SELL ? "sell" : "unknown";
}

static int dump_record(FILE *f, const cq_cqd_reader_t *r, const cq_cqd_record_t *rec)
{
    const cq_cqd_instrument_t *in = cq_cqd_instrument(r, rec->instrument);
    if (!in)
        return CQ_ECORRUPT;
    fprintf(f, "{\"type\":\"%s\",\"instrument\":", dump_type_name(rec->type));
    json_string(f, in->id);
    fprintf(f, ",\"ts_event\":%lld,\"ts_init\":%lld", (long long)rec->ts_event, (long long)rec->ts_init);
    switch (rec->type) {
    case CQ_EV_TRADE:
        fprintf(f, ",\"side\":\"%s\"", side_text(rec->type, rec->side));
        json_price(f, "price", in, rec->trade.price);
        json_qty(f, "qty", in, rec->trade.qty);
        fprintf(f, ",\"trade_id\":%llu", (unsigned long long)rec->trade.trade_id);
        break;
    case CQ_EV_QUOTE:
        json_price(f, "bid_price", in, rec->quote.bid_price);
        json_qty(f, "bid_qty", in, rec->quote.bid_qty);
        json_price(f, "ask_price", in, rec->quote.ask_price);
        json_qty(f, "ask_qty", in, rec->quote.ask_qty);
        fprintf(f, ",\"update_id\":%llu", (unsigned long long)rec->quote.update_id);
        break;
    case CQ_EV_BOOK_DELTA:
        fprintf(f, ",\"side\":\"%s\"", side_text(rec->type, rec->side));
        json_price(f, "price", in, rec->delta.price);
        json_qty(f, "qty", in, rec->delta.qty);
        fprintf(f, ",\"update_id\":%llu,\"first_update_id\":%llu,\"snapshot\":%s,\"last\":%s",
                (unsigned long long)rec->delta.update_id, (unsigned long long)rec->delta.first_update_id,
                rec->flags & CQ_EVF_SNAPSHOT ? "true" : "false",
                rec->flags & CQ_EVF_LAST ? "true" : "false");
        break;
    case CQ_EV_BAR:
        json_price(f, "open", in, rec->bar.open);
        json_price(f, "high", in, rec->bar.high);
        json_price(f, "low", in, rec->bar.low);
        json_price(f, "close", in, rec->bar.close);
        json_qty(f, "volume", in, rec->bar.volume);
        break;
    default:
        break;
    }
    fputs("}\n", f);
    return 0;
}

static void dump_info(FILE *f, const cq_cqd_reader_t *r)
{
    cq_cqd_info_t info;
    cq_cqd_get_info(r, &info);
    fprintf(f,
            "{\"version\":%u,\"records\":%llu,\"blocks\":%llu,\"trades\":%llu,\"quotes\":%llu,"
            "\"deltas\":%llu,\"bars\":%llu,\"ts_init_first\":%lld,\"ts_init_last\":%lld,"
            "\"ts_event_min\":%lld,\"ts_event_max\":%lld,\"instruments\":[",
            info.version, (unsigned long long)info.record_count, (unsigned long long)info.block_count,
            (unsigned long long)info.count[CQ_EV_TRADE], (unsigned long long)info.count[CQ_EV_QUOTE],
            (unsigned long long)info.count[CQ_EV_BOOK_DELTA], (unsigned long long)info.count[CQ_EV_BAR],
            (long long)info.ts_init_first, (long long)info.ts_init_last, (long long)info.ts_event_min,
            (long long)info.ts_event_max);
    for (uint32_t i = 0; i < info.instrument_count; i++) {
        const cq_cqd_instrument_t *in = cq_cqd_instrument(r, i);
        char tick[48], step[48], minq[48], maxq[48], notional[48];
        cq_cqd_format_units(in->tick_units, in->price_precision, tick, sizeof tick);
        cq_cqd_format_units(in->step_units, in->size_precision, step, sizeof step);
        cq_cqd_format_units(in->min_qty, in->size_precision, minq, sizeof minq);
        cq_cqd_format_units(in->max_qty, in->size_precision, maxq, sizeof maxq);
        cq_cqd_format_units(in->min_notional, in->min_notional_decimals, notional, sizeof notional);
        fputs(i ? ",{\"id\":" : "{\"id\":", f);
        json_string(f, in->id);
        fputs(",\"symbol\":", f);
        json_string(f, in->symbol);
        fputs(",\"venue\":", f);
        json_string(f, in->venue);
        fputs(",\"base\":", f);
        json_string(f, in->base);
        fputs(",\"quote\":", f);
        json_string(f, in->quote);
        fprintf(f,
                ",\"price_precision\":%d,\"size_precision\":%d,\"tick_size\":%s,\"step_size\":%s,"
                "\"min_qty\":%s,\"max_qty\":%s,\"min_notional\":%s}",
                in->price_precision, in->size_precision, tick, step, minq, maxq, notional);
    }
    fputs("]}\n", f);
}

int cq_app_dump(int argc, char **argv)
{
    const char *path = NULL, *inst_id = NULL;
    long long limit = -1;
    int mask = -1, info = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            dump_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--limit")) {
            char *end;
            if (!has_value || (limit = strtoll(argv[i + 1], &end, 10)) < 0 || *end || end == argv[i + 1]) {
                fprintf(stderr, "cquant dump: --limit needs a count >= 0\n");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--type")) {
            if (!has_value || (mask = parse_types(argv[i + 1])) < 0) {
                fprintf(stderr, "cquant dump: --type needs trade, quote, delta or bar (comma-separated)\n");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--instrument")) {
            if (!has_value) {
                fprintf(stderr, "cquant dump: --instrument needs SYMBOL.VENUE\n");
                return 2;
            }
            inst_id = argv[++i];
        } else if (!strcmp(a, "--info")) {
            info = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "cquant dump: unknown option '%s' (try 'cquant dump --help')\n", a);
            return 2;
        } else if (path) {
            fprintf(stderr, "cquant dump: one file at a time ('%s' and '%s')\n", path, a);
            return 2;
        } else {
            path = a;
        }
    }
    if (!path) {
        fprintf(stderr, "cquant dump: no file given (usage: cquant dump FILE.cqd [--limit N] [--type T])\n");
        return 2;
    }
    cq_cqd_reader_t *r;
    char err[512];
    if (cq_cqd_open(&r, path, 0, err, sizeof err) != 0) {
        fprintf(stderr, "cquant dump: %s\n", err);
        return 1;
    }
    uint32_t want = 0;
    if (inst_id && cq_cqd_find_instrument(r, inst_id, &want) != 0) {
        fprintf(stderr, "cquant dump: %s: no instrument '%s' in the file\n", path, inst_id);
        cq_cqd_close(r);
        return 2;
    }
    int status = 0;
    if (info) {
        dump_info(stdout, r);
    } else {
        cq_cqd_cursor_t c;
        const cq_cqd_record_t *rec;
        const char *why = NULL;
        int rc = 0;
        long long shown = 0;
        cq_cqd_cursor_init(&c, r);
        while ((limit < 0 || shown < limit) && (rc = cq_cqd_next(&c, &rec)) > 0) {
            if (!(mask & (1 << rec->type)) || (inst_id && rec->instrument != want))
                continue;
            if (dump_record(stdout, r, rec) != 0) {
                rc = CQ_ECORRUPT;
                why = "a record's instrument index is outside the instrument table";
                break;
            }
            shown++;
        }
        if (rc < 0) {
            fflush(stdout);
            fprintf(stderr, "cquant dump: %s: %s\n", path, why ? why : cq_cqd_reader_error(r));
            status = 1;
        }
    }
    if (fflush(stdout) != 0)
        status = 1;
    cq_cqd_close(r);
    return status;
}
