/*
 * lua_fx.c - the Lua host tests' fixture (lua_fx.h).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cquant/error.h"
#include "cquant/instrument.h"
#include "support/lua_fx.h"

#define FX_REQUIRE(c)                                                                 \
    do {                                                                              \
        if (!(c))                                                                     \
            ck_abort_msg("%s:%d: fixture: %s", __FILE__, __LINE__, #c);               \
    } while (0)

static void sink(void *user, int level, const char *module, const char *msg)
{
    lfx_t *f = user;
    if (level >= CQ_LOG_ERROR)
        f->log_errors++;
    size_t need = strlen(module) + strlen(msg) + 16;
    if (f->loglen + need + 1 > f->logcap) {
        size_t cap = (f->logcap + need + 1) * 2;
        char *n = realloc(f->logbuf, cap);
        if (!n)
            return;
        f->logbuf = n;
        f->logcap = cap;
    }
    f->loglen += (size_t)snprintf(f->logbuf + f->loglen, f->logcap - f->loglen, "%s %s: %s\n",
                                  cq_log_level_name(level), module, msg);
    if (getenv("LFX_VERBOSE"))
        fprintf(stderr, "%s %s: %s\n", cq_log_level_name(level), module, msg);
}

/* The sim exists before the engine: its reports go through here. */
static void report(void *user, const cq_exec_report_t *r)
{
    cq_exec_on_report(((lfx_t *)user)->ex, r);
}

static void snapshot_book(lfx_t *f)
{
    cq_book_entry_t b[5], a[5];
    for (int i = 0; i < 5; i++) {
        b[i] = (cq_book_entry_t){10000 - i, 100000};
        a[i] = (cq_book_entry_t){10010 + i, 100000};
    }
    cq_book_batch_t batch = {f->inst, 0, 1, f->clock, f->clock, b, 5, a, 5};
    FX_REQUIRE(cq_data_book_snapshot(f->de, &batch) == 0);
    FX_REQUIRE(cq_sim_on_book(f->sim, f->inst, cq_data_book(f->de, f->inst), f->clock) == 0);
}

lfx_t *lfx_new(const lfx_opts_t *opts)
{
    lfx_opts_t o = {0, 0, 0, CQ_LOG_DEBUG};
    if (opts)
        o = *opts;
    lfx_t *f = calloc(1, sizeof *f);
    FX_REQUIRE(f);
    f->clock = LFX_T0;
    f->log.level = o.log_level;
    f->log.sink = sink;
    f->log.user = f;
    snprintf(f->dir, sizeof f->dir, "/tmp/cq_lua_test_XXXXXX");
    FX_REQUIRE(mkdtemp(f->dir));
    FX_REQUIRE(cq_cache_create(&f->cache, NULL) == 0);
    FX_REQUIRE(cq_bus_create(&f->bus) == 0);
    FX_REQUIRE(cq_data_engine_create(&f->de, f->bus, f->cache, NULL) == 0);
    cq_instrument_t spec;
    FX_REQUIRE(cq_instrument_init(&spec, "BTCUSDT", "BINANCE", "BTC", "USDT", "0.01", "0.00001") == 0);
    FX_REQUIRE(cq_cache_instrument_add(f->cache, &spec, &f->inst) == 0);
    static cq_log_t quiet = {CQ_LOG_OFF, NULL, NULL};
    FX_REQUIRE(cq_risk_create(&f->risk, f->cache, NULL, &quiet) == 0);
    FX_REQUIRE(cq_portfolio_create(&f->pf, f->bus, f->cache, &quiet) == 0);
    FX_REQUIRE(cq_timers_create(&f->timers) == 0);
    cq_sim_config_t c;
    memset(&c, 0, sizeof c);
    c.order_latency_ns = o.latency_ns;
    c.report_latency_ns = o.latency_ns;
    c.taker_fee_bps = 10;
    c.maker_fee_bps = 2;
    c.seed = 1;
    c.report = report;
    c.report_user = f;
    FX_REQUIRE(cq_sim_create(&f->sim, &c, f->cache) == 0);
    cq_venue_t v;
    FX_REQUIRE(cq_sim_venue(f->sim, &v) == 0);
    cq_exec_config_t ec = {100 * LFX_MS, 50 * LFX_MS, 3, LFX_T0};
    FX_REQUIRE(cq_exec_create(&f->ex, f->bus, f->cache, f->risk, f->pf, &v, NULL, &ec, &quiet) == 0);
    FX_REQUIRE(cq_sim_advance(f->sim, f->clock) == 0);
    snapshot_book(f);
    cq_lua_env_t env = {f->bus, f->cache, f->ex, f->timers, f->de, &f->clock, &f->log};
    cq_lua_config_t cfg = {o.max_errors, o.cancel_on_stop};
    FX_REQUIRE(cq_lua_create(&f->lua, &env, &cfg) == 0);
    return f;
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

void lfx_free(lfx_t *f)
{
    cq_lua_destroy(f->lua);
    cq_exec_destroy(f->ex);
    cq_sim_destroy(f->sim);
    cq_timers_destroy(f->timers);
    cq_portfolio_destroy(f->pf);
    cq_risk_destroy(f->risk);
    cq_data_engine_destroy(f->de);
    cq_bus_destroy(f->bus);
    cq_cache_destroy(f->cache);
    rm_rf(f->dir);
    free(f->logbuf);
    free(f);
}

const char *lfx_write(lfx_t *f, const char *name, const char *src)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    for (char *p = path + strlen(f->dir) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0700) != 0 && errno != EEXIST)
                ck_abort_msg("mkdir %s", path);
            *p = '/';
        }
    }
    FILE *fp = fopen(path, "w");
    FX_REQUIRE(fp);
    FX_REQUIRE(fputs(src, fp) >= 0);
    FX_REQUIRE(fclose(fp) == 0);
    return path;
}

uint32_t lfx_start(lfx_t *f, const char *name, const char *file, const char *src, const char *const *params)
{
    char path[512];
    snprintf(path, sizeof path, "%s", lfx_write(f, file, src));
    uint32_t id = 0;
    char err[512];
    int rc = cq_lua_load(f->lua, path, name, params, &id, err, sizeof err);
    if (rc != 0)
        ck_abort_msg("load %s: %s (%s)", name, cq_errname(rc), err);
    rc = cq_lua_start(f->lua, id, err, sizeof err);
    if (rc != 0)
        ck_abort_msg("start %s: %s (%s)", name, cq_errname(rc), err);
    return id;
}

void lfx_trade(lfx_t *f, double price, double qty, int32_t aggressor)
{
    cq_trade_t t;
    memset(&t, 0, sizeof t);
    t.hdr.type = CQ_EV_TRADE;
    t.hdr.instrument = f->inst;
    t.hdr.ts_event = t.hdr.ts_init = f->clock;
    t.price = price;
    t.qty = qty;
    t.aggressor = aggressor;
    static uint64_t tid;
    t.trade_id = ++tid;
    /* the venue saw the print before we hear of it */
    FX_REQUIRE(cq_sim_on_trade(f->sim, &t) == 0);
    FX_REQUIRE(cq_data_trade(f->de, &t) == 0);
}

void lfx_advance(lfx_t *f, int64_t dt)
{
    f->clock += dt;
    FX_REQUIRE(cq_sim_advance(f->sim, f->clock) == 0);
    FX_REQUIRE(cq_timers_run(f->timers, f->clock) >= 0);
    FX_REQUIRE(cq_exec_tick(f->ex, f->clock) == 0);
}

const char *lfx_eval(lfx_t *f, uint32_t strategy, const char *code)
{
    static char out[4096];
    int rc = cq_lua_eval(f->lua, strategy, code, out, sizeof out);
    if (rc != 0)
        ck_abort_msg("eval '%s': %s: %s", code, cq_errname(rc), out);
    return out;
}

double lfx_num(lfx_t *f, uint32_t strategy, const char *code)
{
    const char *s = lfx_eval(f, strategy, code);
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        ck_abort_msg("eval '%s' gave '%s', not a number", code, s);
    return v;
}

const char *lfx_eval_err(lfx_t *f, uint32_t strategy, const char *code)
{
    static char out[4096];
    int rc = cq_lua_eval(f->lua, strategy, code, out, sizeof out);
    if (rc != CQ_ESTATE)
        ck_abort_msg("eval '%s': expected an error, got %s: %s", code, cq_errname(rc), out);
    return out;
}

int lfx_log_has(const lfx_t *f, const char *needle)
{
    return f->logbuf && strstr(f->logbuf, needle) != NULL;
}

void lfx_log_reserve(lfx_t *f, size_t bytes)
{
    if (f->logcap - f->loglen >= bytes)
        return;
    char *n = realloc(f->logbuf, f->loglen + bytes + 1);
    FX_REQUIRE(n);
    if (!f->logbuf)
        n[0] = '\0';
    f->logbuf = n;
    f->logcap = f->loglen + bytes + 1;
}

void lfx_log_clear(lfx_t *f)
{
    f->loglen = 0;
    if (f->logbuf)
        f->logbuf[0] = '\0';
    f->log_errors = 0;
}

cq_lua_info_t lfx_info(lfx_t *f, uint32_t strategy)
{
    cq_lua_info_t i;
    FX_REQUIRE(cq_lua_info(f->lua, strategy, &i) == 0);
    return i;
}
