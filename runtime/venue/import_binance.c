/*
 * import_binance.c - Binance Spot recordings into an import session, and
 * exchangeInfo responses as instrument specs.
 *
 * Reads the line formats of the recorders in ../shared/data: hftbacktest's
 * "<recv_ns> <json>" (its REST snapshot is a bare {"lastUpdateId":..} body
 * that names no symbol) and cryptofeed's "<recv_s>: <json>" and
 * "https://...depth?symbol=X... -> <recv_s>: <json>"; configuration,
 * connection and sent-frame lines are not data. Each frame goes through the
 * zero-allocation codec (binance_md.h) and becomes records the way the live
 * feed (binance_feed.c) turns it into engine inputs: one delta per level of a
 * depthUpdate or snapshot (LAST on the last), trades, quotes, closed klines.
 *
 * Owns, for the file being read, a line buffer and level arrays sized for
 * the largest frame the codec accepts. A frame is converted completely
 * before any of its records is staged, so a refused frame leaves nothing
 * behind. It never reorders frames: the session's stable sort by receive
 * time is the only reordering, and a diff that arrived before its snapshot
 * stays before it (the DataEngine buffers it, as the sync procedure says).
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "cquant/binance_feed.h"
#include "cquant/binance_md.h"
#include "cquant/decimal.h"
#include "cquant/error.h"
#include "venue/import_internal.h"

#define LINE_CAP (CQ_BN_MAX_FRAME + 65536) /* the largest frame plus a REST URL and a time */
#define MAX_LEVELS 5000                    /* a side: Binance's deepest REST snapshot */
#define MAX_VALUES (4 * MAX_LEVELS)        /* price and quantity of every level */
#define EXCHANGE_INFO_MAX (64u << 20)

typedef struct val {
    cq_decimal_t d;
    int kind;       /* CQ_IMPORT_PRICE / CQ_IMPORT_SIZE */
    const char *what;
    int64_t *dst;
} val_t;

typedef struct bn_file {
    cq_import_t *imp;
    const char *path;
    const char *venue;
    gzFile gz;
    uint64_t lineno;
    char *line;                  /* LINE_CAP */
    cq_bn_level_t *bids, *asks;  /* MAX_LEVELS each */
    cq_bn_levels_t lv;
    val_t *vals;                 /* MAX_VALUES */
    int64_t *units;              /* MAX_VALUES */
    /* last instrument lookup: frames of one stream repeat their symbol */
    char last_symbol[CQ_BN_SYMBOL_MAX];
    uint32_t last_index;
    int have_last;
    /* the symbols of the file's frames, for bare snapshots: all of them
     * (scanned once) for a regular file, those read so far for a pipe */
    int scanned;                 /* looked for on a bare snapshot */
    int whole;                   /* ... by reading the whole file */
    int nsymbols;                /* 0, 1, or 2 meaning several */
    char file_symbol[CQ_BN_SYMBOL_MAX];
} bn_file_t;

static void note_symbol(bn_file_t *f, const char *symbol)
{
    if (f->nsymbols == 0) {
        snprintf(f->file_symbol, sizeof f->file_symbol, "%s", symbol);
        f->nsymbols = 1;
    } else if (f->nsymbols == 1 && strcmp(f->file_symbol, symbol) != 0) {
        f->nsymbols = 2;
    }
}

#define REPORT(f, ...) cq_import_report((f)->imp, (f)->path, (f)->lineno, __VA_ARGS__)

/* ---- lines ------------------------------------------------------------------------------ */

/* One line into buf (cap LINE_CAP) without its end of line; buf already
 * holds its first `have` bytes (NUL-terminated). 1 = a line, 0 = end of
 * file, 2 = longer than the buffer (buf holds its start, the rest is
 * consumed), <0 = read error. */
static int next_line(gzFile gz, char *buf, size_t have, size_t *len)
{
    if (!have || buf[have - 1] != '\n') {
        if (!gzgets(gz, buf + have, (int)(LINE_CAP - have))) {
            int zerr;
            gzerror(gz, &zerr);
            if (zerr != Z_OK)
                return CQ_EIO;
            if (!have)
                return 0;
            buf[have] = 0; /* the head was the whole last line */
        }
    }
    size_t n = strlen(buf);
    int r = 1;
    if (n == LINE_CAP - 1 && buf[n - 1] != '\n') {
        char tmp[4096];
        for (;;) {
            if (!gzgets(gz, tmp, sizeof tmp)) {
                int zerr;
                gzerror(gz, &zerr);
                if (zerr != Z_OK)
                    return CQ_EIO;
                break;
            }
            size_t k = strlen(tmp);
            if (k && tmp[k - 1] == '\n')
                break;
        }
        r = 2;
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    *len = n;
    return r;
}

int cq_import_binance_detect(const char *line, size_t len)
{
    if (!line)
        return 0;
#define STARTS(s) (len >= sizeof(s) - 1 && !memcmp(line, s, sizeof(s) - 1))
    if (STARTS("configuration:") || STARTS("wss://") || STARTS("ws://"))
        return 1;
    if (STARTS("https://")) {
        for (size_t i = 8; i + 4 <= len; i++)
            if (!memcmp(line + i, " -> ", 4))
                return 1;
        return 0;
    }
#undef STARTS
    size_t i = 0;
    while (i < len && line[i] >= '0' && line[i] <= '9')
        i++;
    if (i == 0 || i >= len)
        return 0;
    if (line[i] == ' ') /* hftbacktest: "<recv_ns> {" */
        return i + 1 < len && line[i + 1] == '{';
    if (line[i] == '.') /* cryptofeed: "<recv_s.frac>: {" */
        for (i++; i < len && line[i] >= '0' && line[i] <= '9'; i++)
            ;
    return i + 2 < len && line[i] == ':' && line[i + 1] == ' ' && line[i + 2] == '{';
}

/* ---- values ----------------------------------------------------------------------------- */

/* mant * 10^-exp with the trailing zeros dropped: "61837.63000000" is
 * 6183763 * 10^-2, two significant decimals. */
static void significant(cq_decimal_t *d)
{
    if (d->mant == 0)
        d->exp = 0;
    while (d->exp > 0 && d->mant % 10 == 0) {
        d->mant /= 10;
        d->exp--;
    }
}

/* Fit the instrument to every value of one frame, then convert them all:
 * 1 converted, 0 the line was reported (skip), <0 stop. */
static int convert(bn_file_t *f, uint32_t inst, val_t *v, size_t n)
{
    int32_t pd = 0, sd = 0;
    for (size_t i = 0; i < n; i++) {
        significant(&v[i].d);
        int32_t *mx = v[i].kind == CQ_IMPORT_PRICE ? &pd : &sd;
        if (v[i].d.exp > *mx)
            *mx = v[i].d.exp;
    }
    int rc = cq_import_fit(f->imp, inst, pd, sd);
    if (rc == CQ_ERANGE)
        return REPORT(f, "%s", cq_import_error(f->imp));
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (cq_import_units(f->imp, inst, v[i].kind, v[i].d.mant, v[i].d.exp, v[i].dst) != 0) {
            char text[48];
            if (cq_decimal_format(v[i].d.mant, v[i].d.exp, text, sizeof text, NULL) != 0)
                snprintf(text, sizeof text, "?");
            return REPORT(f, "%s '%s' is not a multiple of the instrument's %s or does not fit", v[i].what,
                          text, v[i].kind == CQ_IMPORT_PRICE ? "tick" : "step");
        }
    }
    return 1;
}

/* ---- instruments ------------------------------------------------------------------------ */

static int plain_symbol(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!(isalnum((unsigned char)s[n]) || s[n] == '_' || s[n] == '-'))
            return 0;
    return n > 0 && n < CQ_BN_SYMBOL_MAX;
}

/* 1 and *index, 0 if the line was reported, <0 to stop. */
static int instrument(bn_file_t *f, const char *symbol, uint32_t *index)
{
    if (f->have_last && !strcmp(symbol, f->last_symbol)) {
        *index = f->last_index;
        return 1;
    }
    if (!plain_symbol(symbol))
        return REPORT(f, "bad symbol '%.40s' (expected letters, digits, '_' or '-')", symbol);
    int rc = cq_import_instrument(f->imp, symbol, f->venue, index);
    if (rc == CQ_ETOOLONG)
        return REPORT(f, "%s", cq_import_error(f->imp));
    if (rc)
        return rc;
    snprintf(f->last_symbol, sizeof f->last_symbol, "%s", symbol);
    f->last_index = *index;
    f->have_last = 1;
    return 1;
}

/*
 * The symbols named by the file's frames, looked for once, on the first
 * bare snapshot. Reading the whole file again (about 50 ms for the 11 MB
 * hftbacktest recording) is the price of an exact answer: "the symbol of
 * the frames before it" would be wrong for a file that starts with its
 * snapshot, "the first frame's" for a file of several symbols. Only a
 * regular file is read twice: reopening a pipe would steal its lines from
 * the main reader, so there the frames read so far must do.
 */
static void scan_symbols(bn_file_t *f)
{
    f->scanned = 1;
    struct stat st;
    if (stat(f->path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    gzFile g = gzopen(f->path, "rb");
    char *buf = malloc(LINE_CAP);
    if (!g || !buf) {
        free(buf);
        if (g)
            gzclose(g);
        return;
    }
    gzbuffer(g, 1 << 17);
    f->whole = 1;
    f->nsymbols = 0;
    size_t n;
    while (f->nsymbols < 2 && next_line(g, buf, 0, &n) == 1) {
        cq_bn_line_t ln;
        cq_bn_md_t m;
        if (cq_bn_line_parse(buf, n, &ln) != 0 || ln.kind != CQ_BN_LINE_FRAME)
            continue;
        /* a frame with a bad symbol is reported where it stands; it names nothing here */
        if (cq_bn_decode(ln.json, ln.json_len, &m, &f->lv, NULL) != 0 || !plain_symbol(m.symbol))
            continue;
        note_symbol(f, m.symbol);
    }
    free(buf);
    gzclose(g);
}

/* ---- frames to records ------------------------------------------------------------------ */

static int stage(bn_file_t *f, const cq_cqd_record_t *r)
{
    int rc = cq_import_add(f->imp, r);
    if (rc)
        cq_import_set_error(f->imp, "%s:%llu: %s", f->path, (unsigned long long)f->lineno, cq_strerror(rc));
    return rc;
}

/* A depthUpdate or a REST snapshot: one delta per level, bids then asks in
 * wire order, all with the frame's update ids; LAST on the last. A diff
 * without levels still advances the sequence: it becomes the empty-batch
 * marker (side none, qty 0, LAST), an empty snapshot one that clears. */
static int stage_book(bn_file_t *f, uint32_t inst, const cq_bn_md_t *m, int64_t recv_ns, int snapshot)
{
    uint32_t nb = m->n_bids, n = m->n_bids + m->n_asks;
    for (uint32_t i = 0; i < n; i++) {
        const cq_bn_level_t *l = i < nb ? &f->bids[i] : &f->asks[i - nb];
        f->vals[2 * i] = (val_t){l->price, CQ_IMPORT_PRICE, i < nb ? "bid price" : "ask price", &f->units[2 * i]};
        f->vals[2 * i + 1] = (val_t){l->qty, CQ_IMPORT_SIZE, i < nb ? "bid quantity" : "ask quantity",
                                     &f->units[2 * i + 1]};
    }
    int rc = convert(f, inst, f->vals, 2 * (size_t)n);
    if (rc != 1)
        return rc;
    cq_cqd_record_t r;
    memset(&r, 0, sizeof r);
    r.type = CQ_EV_BOOK_DELTA;
    r.instrument = inst;
    r.ts_event = snapshot ? recv_ns : m->event_ns; /* a REST body carries no time */
    r.ts_init = recv_ns;
    r.delta.update_id = m->last_update_id;
    r.delta.first_update_id = snapshot ? 0 : m->first_update_id;
    uint16_t base = snapshot ? CQ_EVF_SNAPSHOT : 0;
    if (n == 0) {
        r.side = CQ_SIDE_NONE;
        r.flags = base | CQ_EVF_LAST;
        return stage(f, &r);
    }
    for (uint32_t i = 0; i < n; i++) {
        r.side = i < nb ? CQ_SIDE_BUY : CQ_SIDE_SELL;
        r.flags = base | (i + 1 == n ? CQ_EVF_LAST : 0);
        r.delta.price = f->units[2 * i];
        r.delta.qty = f->units[2 * i + 1];
        if ((rc = stage(f, &r)))
            return rc;
    }
    return 0;
}

static int stage_event(bn_file_t *f, uint32_t inst, const cq_bn_md_t *m, int64_t recv_ns)
{
    cq_cqd_record_t r;
    memset(&r, 0, sizeof r);
    r.instrument = inst;
    r.ts_init = recv_ns;
    int rc;
    switch (m->kind) {
    case CQ_BN_TRADE:
    case CQ_BN_AGG_TRADE: {
        r.type = CQ_EV_TRADE;
        r.side = m->buyer_is_maker ? CQ_SIDE_SELL : CQ_SIDE_BUY; /* the taker sold into the bid */
        r.ts_event = m->trade_ms * 1000000;
        r.trade.trade_id = m->trade_id;
        val_t v[] = {{m->price, CQ_IMPORT_PRICE, "price", &r.trade.price},
                     {m->qty, CQ_IMPORT_SIZE, "quantity", &r.trade.qty}};
        if ((rc = convert(f, inst, v, 2)) != 1)
            return rc;
        break;
    }
    case CQ_BN_BOOK_TICKER: {
        r.type = CQ_EV_QUOTE;
        r.ts_event = recv_ns; /* spot bookTicker carries no venue time */
        r.quote.update_id = m->last_update_id;
        val_t v[] = {{m->bid_price, CQ_IMPORT_PRICE, "bid price", &r.quote.bid_price},
                     {m->bid_qty, CQ_IMPORT_SIZE, "bid quantity", &r.quote.bid_qty},
                     {m->ask_price, CQ_IMPORT_PRICE, "ask price", &r.quote.ask_price},
                     {m->ask_qty, CQ_IMPORT_SIZE, "ask quantity", &r.quote.ask_qty}};
        if ((rc = convert(f, inst, v, 4)) != 1)
            return rc;
        break;
    }
    case CQ_BN_KLINE: {
        if (!m->kline_closed) /* still forming: the final update comes with x=true */
            return 0;
        /* ts_init is the receive time: the moment the bar became known on
         * the recording's clock, never before its trades were received. */
        r.type = CQ_EV_BAR;
        r.ts_event = m->open_ms * 1000000;
        val_t v[] = {{m->open, CQ_IMPORT_PRICE, "open", &r.bar.open},
                     {m->high, CQ_IMPORT_PRICE, "high", &r.bar.high},
                     {m->low, CQ_IMPORT_PRICE, "low", &r.bar.low},
                     {m->close, CQ_IMPORT_PRICE, "close", &r.bar.close},
                     {m->volume, CQ_IMPORT_SIZE, "volume", &r.bar.volume}};
        if ((rc = convert(f, inst, v, 5)) != 1)
            return rc;
        if (r.bar.low > r.bar.high || r.bar.open < r.bar.low || r.bar.open > r.bar.high ||
            r.bar.close < r.bar.low || r.bar.close > r.bar.high)
            return REPORT(f, "inconsistent kline: open and close must lie between low and high");
        break;
    }
    default:
        return REPORT(f, "unhandled frame kind %s", cq_bn_kind_name(m->kind));
    }
    return stage(f, &r);
}

/* A cryptofeed recording also holds the venue's replies to its own
 * requests ({"result":null,"id":1}): not market data, not malformed. */
static int is_reply(const char *json, size_t n)
{
    return n >= 10 && !memcmp(json, "{\"result\":", 10);
}

static int frame(bn_file_t *f, const cq_bn_line_t *ln)
{
    cq_bn_md_t m;
    const char *why = NULL;
    int rc = cq_bn_decode(ln->json, ln->json_len, &m, &f->lv, &why);
    if (rc < 0) {
        if (ln->kind == CQ_BN_LINE_FRAME && rc == CQ_ENOENT && is_reply(ln->json, ln->json_len))
            return 0;
        return REPORT(f, "frame refused (%s): %s", cq_errname(rc), why ? why : cq_strerror(rc));
    }
    const char *symbol = m.symbol;
    if (m.kind != CQ_BN_SNAPSHOT && !f->whole && plain_symbol(symbol))
        note_symbol(f, symbol);
    if (ln->kind == CQ_BN_LINE_REST) {
        if (m.kind != CQ_BN_SNAPSHOT)
            return REPORT(f, "REST depth response is not a depth snapshot (decoded a %s)", cq_bn_kind_name(m.kind));
        if (!ln->symbol[0])
            return REPORT(f, "REST depth line without symbol= in its URL");
        symbol = ln->symbol;
    } else if (m.kind == CQ_BN_SNAPSHOT) {
        if (m.flags & CQ_BN_F_ENVELOPE)
            return REPORT(f, "depth snapshot inside a stream envelope (a partial book depth stream): not imported");
        if (!f->scanned) {
            scan_symbols(f);
            /* the scan reused the level arrays: decode this frame again */
            if ((rc = cq_bn_decode(ln->json, ln->json_len, &m, &f->lv, &why)) < 0)
                return REPORT(f, "frame refused (%s): %s", cq_errname(rc), why ? why : cq_strerror(rc));
        }
        const char *given = cq_import_options(f->imp)->snapshot_symbol;
        if (f->nsymbols == 1)
            symbol = f->file_symbol;
        else if (given)
            symbol = given;
        else
            return REPORT(f, "bare REST depth snapshot, and the file's frames name %s: give --snapshot-symbol",
                          f->nsymbols ? "several symbols" : "no symbol");
    }
    uint32_t inst;
    if ((rc = instrument(f, symbol, &inst)) != 1)
        return rc;
    switch (m.kind) {
    case CQ_BN_DEPTH:
        return stage_book(f, inst, &m, ln->recv_ns, 0);
    case CQ_BN_SNAPSHOT:
        return stage_book(f, inst, &m, ln->recv_ns, 1);
    default:
        return stage_event(f, inst, &m, ln->recv_ns);
    }
}

/* 0 done or skipped, <0 stop. */
static int handle_line(bn_file_t *f, size_t n, int too_long)
{
    cq_bn_line_t ln;
    int prc = cq_bn_line_parse(f->line, n, &ln);
    if (too_long) {
        /* e.g. a 1.7 MB exchangeInfo response among the inputs: not data */
        if (prc == 0 && (ln.kind == CQ_BN_LINE_OTHER || (ln.kind == CQ_BN_LINE_REST && !ln.is_depth)))
            return 0;
        cq_import_count_line(f->imp);
        return REPORT(f, "line longer than %d bytes", LINE_CAP - 2);
    }
    if (n == 0)
        return 0;
    if (prc < 0) {
        cq_import_count_line(f->imp);
        size_t k = strcspn(f->line, " ");
        return REPORT(f,
                      "bad receive time or line format near '%.*s' (expected '<recv_ns> <json>', "
                      "'<recv_s>: <json>' or '<url> -> <recv_s>: <json>')",
                      (int)(k < 40 ? k : 40), f->line);
    }
    if (ln.kind == CQ_BN_LINE_OTHER || (ln.kind == CQ_BN_LINE_REST && !ln.is_depth))
        return 0;
    cq_import_count_line(f->imp);
    return frame(f, &ln);
}

int cq_import_binance_read(cq_import_t *imp, const char *path, gzFile gz, const char *head, size_t head_len)
{
    if (!imp || !path || !gz || (head_len && !head) || head_len >= LINE_CAP)
        return CQ_EINVAL;
    bn_file_t f;
    memset(&f, 0, sizeof f);
    f.imp = imp;
    f.path = path;
    f.venue = cq_import_options(imp)->venue;
    f.gz = gz;
    f.line = malloc(LINE_CAP);
    f.bids = malloc(MAX_LEVELS * sizeof *f.bids);
    f.asks = malloc(MAX_LEVELS * sizeof *f.asks);
    f.vals = malloc(MAX_VALUES * sizeof *f.vals);
    f.units = malloc(MAX_VALUES * sizeof *f.units);
    int rc = 0;
    if (!f.line || !f.bids || !f.asks || !f.vals || !f.units) {
        cq_import_set_error(imp, "%s: out of memory", path);
        rc = CQ_ENOMEM;
    }
    f.lv = (cq_bn_levels_t){f.bids, MAX_LEVELS, f.asks, MAX_LEVELS};
    if (rc == 0 && head_len) {
        memcpy(f.line, head, head_len);
        f.line[head_len] = 0;
    }
    while (rc == 0) {
        size_t n = 0;
        int r = next_line(gz, f.line, head_len, &n);
        head_len = 0;
        if (r == 0)
            break;
        if (r < 0) {
            int zerr;
            cq_import_set_error(imp, "%s:%llu: read error: %s", path, (unsigned long long)f.lineno + 1,
                                gzerror(gz, &zerr));
            rc = CQ_EIO;
            break;
        }
        f.lineno++;
        rc = handle_line(&f, n, r == 2);
    }
    free(f.line);
    free(f.bids);
    free(f.asks);
    free(f.vals);
    free(f.units);
    return rc;
}

/* ---- exchangeInfo ----------------------------------------------------------------------- */

/* A decimal string of the filters ("0.01000000"), and whether it is zero
 * (Binance writes "0.00000000" for a filter that does not apply). */
static int filter_number(const char *s, int *zero)
{
    cq_decimal_t d;
    if (!s || cq_decimal_parse(s, strlen(s), &d) != 0 || d.mant < 0)
        return 0;
    *zero = d.mant == 0;
    return 1;
}

static const char *str_item(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Offer one exchangeInfo symbol: 1 offered, 0 left out, <0 stop. */
static int offer_symbol(cq_import_t *imp, const char *venue, const cJSON *sym)
{
    const char *name = str_item(sym, "symbol"), *base = str_item(sym, "baseAsset");
    const char *quote = str_item(sym, "quoteAsset");
    if (!name || !plain_symbol(name))
        return 0;
    const char *tick = NULL, *step = NULL, *min_qty = NULL, *max_qty = NULL, *notional = NULL;
    const cJSON *flt;
    cJSON_ArrayForEach(flt, cJSON_GetObjectItemCaseSensitive(sym, "filters")) {
        const char *type = str_item(flt, "filterType");
        if (!type)
            continue;
        if (!strcmp(type, "PRICE_FILTER")) {
            tick = str_item(flt, "tickSize");
        } else if (!strcmp(type, "LOT_SIZE")) {
            step = str_item(flt, "stepSize");
            min_qty = str_item(flt, "minQty");
            max_qty = str_item(flt, "maxQty");
        } else if (!strcmp(type, "MIN_NOTIONAL") || !strcmp(type, "NOTIONAL")) {
            notional = str_item(flt, "minNotional");
        }
    }
    /* Built in two layers: if the limits do not fit the increments (a
     * minQty with more decimals than stepSize), offer the increments alone. */
    char core[256], full[512];
    size_t k = (size_t)snprintf(core, sizeof core, "%s.%s", name, venue);
    int zero;
    if (filter_number(tick, &zero) && !zero)
        k += (size_t)snprintf(core + k, sizeof core - k, ":tick=%s", tick);
    if (k < sizeof core && filter_number(step, &zero) && !zero)
        k += (size_t)snprintf(core + k, sizeof core - k, ":step=%s", step);
    if (k < sizeof core && base && quote && plain_symbol(base) && plain_symbol(quote) && strlen(base) < 16 &&
        strlen(quote) < 16)
        k += (size_t)snprintf(core + k, sizeof core - k, ":base=%s:quote=%s", base, quote);
    if (k >= sizeof core)
        return 0;
    k = (size_t)snprintf(full, sizeof full, "%s", core);
    if (filter_number(min_qty, &zero) && !zero)
        k += (size_t)snprintf(full + k, sizeof full - k, ":min_qty=%s", min_qty);
    if (k < sizeof full && filter_number(max_qty, &zero) && !zero)
        k += (size_t)snprintf(full + k, sizeof full - k, ":max_qty=%s", max_qty);
    if (k < sizeof full && filter_number(notional, &zero) && !zero)
        k += (size_t)snprintf(full + k, sizeof full - k, ":min_notional=%s", notional);
    int rc = k < sizeof full ? cq_import_offer(imp, full) : CQ_EINVAL;
    if (rc == CQ_EINVAL || rc == CQ_ETOOLONG)
        rc = cq_import_offer(imp, core);
    if (rc == CQ_EINVAL || rc == CQ_ETOOLONG)
        return 0;
    return rc < 0 ? rc : 1;
}

/* The whole (decompressed) file; NUL-terminated. */
static int slurp(cq_import_t *imp, const char *path, char **out, size_t *len)
{
    errno = 0;
    gzFile g = gzopen(path, "rb");
    if (!g) {
        cq_import_set_error(imp, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
        return CQ_EIO;
    }
    size_t n = 0, cap = 1 << 20;
    char *buf = malloc(cap + 1);
    int rc = buf ? 0 : CQ_ENOMEM;
    while (rc == 0) {
        if (n == cap) {
            if (cap >= EXCHANGE_INFO_MAX) {
                cq_import_set_error(imp, "%s: larger than %u MiB: not an exchangeInfo response", path,
                                    EXCHANGE_INFO_MAX >> 20);
                rc = CQ_ETOOLONG;
                break;
            }
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                rc = CQ_ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        int got = gzread(g, buf + n, (unsigned)(cap - n));
        if (got < 0) {
            int zerr;
            cq_import_set_error(imp, "%s: read error: %s", path, gzerror(g, &zerr));
            rc = CQ_EIO;
        } else if (got == 0) {
            int zerr;
            gzerror(g, &zerr);
            if (zerr != Z_OK) {
                cq_import_set_error(imp, "%s: read error: %s", path, gzerror(g, &zerr));
                rc = CQ_EIO;
            }
            break;
        } else {
            n += (size_t)got;
        }
    }
    gzclose(g);
    if (rc) {
        if (rc == CQ_ENOMEM)
            cq_import_set_error(imp, "%s: out of memory", path);
        free(buf);
        return rc;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}

/* The exchangeInfo JSON in a file: all of it when it starts with '{',
 * else the body of a line "https://.../exchangeInfo... -> <t>: {...}". */
static int find_body(const char *buf, size_t n, const char **body, size_t *blen)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)buf[i]))
        i++;
    if (i < n && buf[i] == '{') {
        *body = buf + i;
        *blen = n - i;
        return 0;
    }
    for (const char *p = buf, *end = buf + n; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        cq_bn_line_t ln;
        const char *arrow = NULL;
        for (size_t k = 0; k + 4 <= len && k < 4096; k++)
            if (!memcmp(p + k, " -> ", 4)) {
                arrow = p + k;
                break;
            }
        if (arrow && cq_bn_line_parse(p, len, &ln) == 0 && ln.kind == CQ_BN_LINE_REST) {
            for (const char *q = p; q + 13 <= arrow; q++)
                if (!memcmp(q, "/exchangeInfo", 13)) {
                    *body = ln.json;
                    *blen = ln.json_len;
                    return 0;
                }
        }
        p = nl ? nl + 1 : end;
    }
    return CQ_EPARSE;
}

int cq_import_exchange_info(cq_import_t *imp, const char *path, size_t *count)
{
    if (count)
        *count = 0;
    if (!imp)
        return CQ_EINVAL;
    if (!path || !*path) {
        cq_import_set_error(imp, "--exchange-info: no file given");
        return CQ_EINVAL;
    }
    char *buf;
    size_t n;
    int rc = slurp(imp, path, &buf, &n);
    if (rc)
        return rc;
    const char *body;
    size_t blen;
    if (find_body(buf, n, &body, &blen) != 0) {
        cq_import_set_error(imp,
                            "%s: no exchangeInfo response (expected its JSON body, or a line "
                            "'https://.../exchangeInfo -> <time>: {...}')",
                            path);
        free(buf);
        return CQ_EPARSE;
    }
    cJSON *root = cJSON_ParseWithLength(body, blen);
    const cJSON *symbols = root ? cJSON_GetObjectItemCaseSensitive(root, "symbols") : NULL;
    if (!cJSON_IsArray(symbols)) {
        cq_import_set_error(imp, "%s: %s", path,
                            root ? "exchangeInfo has no \"symbols\" array" : "exchangeInfo is not valid JSON");
        rc = CQ_EPARSE;
    }
    size_t offered = 0;
    const char *venue = cq_import_options(imp)->venue;
    const cJSON *sym;
    cJSON_ArrayForEach(sym, symbols) {
        if (rc)
            break;
        int r = offer_symbol(imp, venue, sym);
        if (r < 0) {
            cq_import_set_error(imp, "%s: %s", path, cq_strerror(r));
            rc = r;
        } else {
            offered += (size_t)r;
        }
    }
    cJSON_Delete(root);
    free(buf);
    if (count)
        *count = offered;
    return rc;
}
