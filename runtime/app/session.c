/*
 * session.c - one strategy on one assembled runtime (session.h).
 *
 * Owns the runtime, the Lua host and the report collector of a run. The
 * equity sampler is an ordinary runtime timer, so samples fall on the same
 * simulated instants in every run of the same inputs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/session.h"
#include "cquant/error.h"

static void basename_noext(const char *path, char *out, size_t len)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, len, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = 0;
    for (char *p = out; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            *p = '_';
    if (!*out)
        snprintf(out, len, "strategy");
}

/* 0 while the instrument has no mark yet */
static double mid_now(cq_session_t *s)
{
    double mid;
    return cq_rt_mark(s->rt, s->instrument, &mid) == 0 ? mid : 0;
}

static void on_sample(void *user, cq_timer_id_t id, int64_t now)
{
    (void)id;
    cq_session_t *s = user;
    double mid = mid_now(s);
    if (mid <= 0)
        return; /* no market yet */
    const cq_position_t *p = cq_cache_position(cq_rt_cache(s->rt), s->instrument, s->strategy);
    cq_report_equity(s->report, now, cq_rt_equity(s->rt, s->venue, s->quote), mid, p ? p->qty : 0);
}

static void on_fill(void *user, cq_topic_t topic, const void *msg)
{
    (void)topic;
    cq_session_t *s = user;
    cq_report_fill(s->report, msg);
}

static int balances(cq_session_t *s, char *err, size_t errlen)
{
    const cq_opts_t *o = &s->opts;
    if (o->nbalances == 0) {
        s->start_equity = 10000;
        return cq_rt_set_balance(s->rt, s->venue, s->quote, 10000);
    }
    for (size_t i = 0; i < o->nbalances; i++) {
        char asset[16];
        const char *eq = strchr(o->balances[i], '=');
        snprintf(asset, sizeof asset, "%.*s", (int)(eq - o->balances[i]), o->balances[i]);
        double v;
        cq_opts_number(eq + 1, &v);
        int rc = cq_rt_set_balance(s->rt, s->venue, asset, v);
        if (rc < 0) {
            snprintf(err, errlen, "--balance %s: %s", o->balances[i], cq_strerror(rc));
            return rc;
        }
        if (!strcmp(asset, s->quote))
            s->start_equity += v;
    }
    return 0;
}

int cq_session_open(cq_session_t *s, const cq_opts_t *opts, const cq_synth_config_t *synth,
                    char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->opts = *opts;
    cq_log_init(&s->log, opts->quiet ? CQ_LOG_WARN : CQ_LOG_INFO);
    if (!opts->strategy) {
        snprintf(err, errlen, "no strategy file given");
        return 2;
    }
    cq_rt_config_t rc = {0};
    rc.journal = opts->no_journal ? NULL : opts->journal;
    int64_t lat = (int64_t)((opts->latency_ms < 0 ? 1.0 : opts->latency_ms) * 1e6);
    rc.order_latency_ns = lat;
    rc.report_latency_ns = lat;
    rc.maker_fee_bps = opts->maker_bps;
    rc.taker_fee_bps = opts->taker_bps;
    rc.seed = opts->seed;
    /* a backtest's client ids must not depend on the wall clock */
    rc.id_epoch_ns = synth ? 0 : 1767225600000000000LL;
    rc.log = &s->log;
    int r = cq_rt_create(&s->rt, &rc, err, errlen);
    if (r < 0)
        return 1;
    cq_cache_t *cache = cq_rt_cache(s->rt);
    if (synth) {
        if ((r = cq_rt_add_synth(s->rt, synth, &s->instrument)) < 0) {
            snprintf(err, errlen, "synthetic market: %s", cq_strerror(r));
            return 2;
        }
    }
    for (size_t i = 0; i < opts->ndata; i++)
        if (cq_rt_add_cqd(s->rt, opts->data[i], err, errlen) < 0)
            return 2;
    if (opts->instrument) {
        if (cq_cache_instrument_find(cache, opts->instrument, &s->instrument) < 0 ||
            !cq_cache_instrument(cache, s->instrument)) {
            snprintf(err, errlen, "--instrument %s: not in the data", opts->instrument);
            return 2;
        }
    } else if (!s->instrument) {
        if (cq_cache_instrument_count(cache) == 0) {
            snprintf(err, errlen, "no market data: give --data FILE.cqd");
            return 2;
        }
        s->instrument = 1; /* the first instrument of the first file */
    }
    const cq_instrument_t *spec = cq_cache_instrument(cache, s->instrument);
    if (!spec) {
        snprintf(err, errlen, "instrument %u has no specification", s->instrument);
        return 2;
    }
    snprintf(s->inst_id, sizeof s->inst_id, "%s", spec->id);
    snprintf(s->venue, sizeof s->venue, "%s", spec->venue);
    snprintf(s->base, sizeof s->base, "%s", spec->base);
    snprintf(s->quote, sizeof s->quote, "%s", spec->quote[0] ? spec->quote : "USDT");
    if (balances(s, err, errlen) < 0)
        return 2;
    if (opts->journal && !opts->no_journal) {
        size_t n = 0;
        if ((r = cq_rt_restore(s->rt, &n)) < 0) {
            snprintf(err, errlen, "journal %s: restoring open orders: %s", opts->journal, cq_strerror(r));
            return 1;
        }
        if (n)
            cq_logf(&s->log, CQ_LOG_INFO, "app", "journal: %zu open orders restored and queried", n);
    }
    cq_rt_set_now(s->rt, cq_rt_next_data_ts(s->rt));
    cq_lua_env_t env;
    cq_rt_lua_env(s->rt, &env);
    cq_lua_config_t lc = {.max_errors = opts->max_errors, .cancel_on_stop = opts->cancel_on_stop};
    if ((r = cq_lua_create(&s->lua, &env, &lc)) < 0) {
        snprintf(err, errlen, "lua: %s", cq_strerror(r));
        return 1;
    }
    basename_noext(opts->strategy, s->strategy_name, sizeof s->strategy_name);
    /* params.instrument defaults to the run's instrument, so one file runs
     * on recorded Binance data and on the synthetic market alike */
    const char *params[CQ_OPTS_MAX + 2];
    size_t np = 0;
    int has_inst = 0;
    for (size_t i = 0; i < opts->nparams; i++) {
        has_inst |= !strncmp(opts->params[i], "instrument=", 11);
        params[np++] = opts->params[i];
    }
    char inst_param[64];
    snprintf(inst_param, sizeof inst_param, "instrument=%s", s->inst_id);
    if (!has_inst)
        params[np++] = inst_param;
    params[np] = NULL;
    /* a failed load is reported once, by the caller, from err (the host
     * would also log it, traceback included) */
    int level = s->log.level;
    s->log.level = CQ_LOG_OFF;
    r = cq_lua_load(s->lua, opts->strategy, s->strategy_name, params, &s->strategy, err, errlen);
    s->log.level = level;
    if (r < 0)
        return 2;
    char shown[512] = "";
    for (size_t i = 0; i < opts->nparams; i++) {
        size_t l = strlen(shown);
        snprintf(shown + l, sizeof shown - l, "%s%s", i ? " " : "", opts->params[i]);
    }
    cq_report_config_t rcfg = {.strategy = s->strategy_name,
                               .instrument = s->inst_id,
                               .quote_asset = s->quote,
                               .starting_equity = s->start_equity,
                               .sample_period_ns = (int64_t)(opts->sample_s * 1e9),
                               .params = shown};
    s->sample_ns = rcfg.sample_period_ns;
    if ((r = cq_report_create(&s->report, &rcfg)) < 0) {
        snprintf(err, errlen, "report: %s", cq_strerror(r));
        return 1;
    }
    char topic[128];
    snprintf(topic, sizeof topic, "events.fill.%s", s->strategy_name);
    if ((r = cq_bus_subscribe(cq_rt_bus(s->rt), topic, 0, on_fill, s, NULL)) < 0) {
        snprintf(err, errlen, "subscribe %s: %s", topic, cq_strerror(r));
        return 1;
    }
    return 0;
}

int cq_session_start(cq_session_t *s, char *err, size_t errlen)
{
    int64_t now = cq_rt_now(s->rt);
    /* the first sample is the start, before any fill: drawdowns count from it */
    cq_report_equity(s->report, now, s->start_equity, NAN, 0);
    int64_t first = now - now % s->sample_ns + s->sample_ns;
    int r = cq_timer_start(cq_rt_timers(s->rt), first, s->sample_ns, on_sample, s, NULL);
    if (r < 0) {
        snprintf(err, errlen, "sampler: %s", cq_strerror(r));
        return 1;
    }
    if (cq_lua_start(s->lua, s->strategy, err, errlen) < 0)
        return 2;
    return 0;
}

void cq_session_finish(cq_session_t *s)
{
    if (s->lua)
        cq_lua_stop(s->lua, s->strategy);
    /* a last sample at the end, so the report covers the whole run */
    on_sample(s, 0, cq_rt_now(s->rt));
    cq_order_query_t q = {.set = CQ_ORDERS_ALL, .strategy = s->strategy};
    long n = cq_cache_orders(cq_rt_cache(s->rt), &q, NULL, 0);
    if (n > 0) {
        cq_order_t **v = malloc((size_t)n * sizeof *v);
        if (v) {
            n = cq_cache_orders(cq_rt_cache(s->rt), &q, v, (size_t)n);
            for (long i = 0; i < n; i++)
                cq_report_order(s->report, v[i], s->inst_id);
            free(v);
        }
    }
}

void cq_session_close(cq_session_t *s)
{
    cq_lua_destroy(s->lua);
    cq_report_destroy(s->report);
    cq_rt_destroy(s->rt);
    memset(s, 0, sizeof *s);
}

void cq_session_status(cq_session_t *s, char *buf, size_t len)
{
    cq_cache_t *c = cq_rt_cache(s->rt);
    const cq_position_t *p = cq_cache_position(c, s->instrument, s->strategy);
    cq_order_query_t q = {.set = CQ_ORDERS_OPEN, .strategy = s->strategy};
    long open = cq_cache_orders(c, &q, NULL, 0);
    double eq = cq_rt_equity(s->rt, s->venue, s->quote);
    double pnl = p ? p->realized_pnl + p->unrealized_pnl - p->fees : 0;
    snprintf(buf, len, "%s mid %.2f | pos %+.5f %s | pnl %+.2f %s | open orders %ld | equity %.2f",
             s->inst_id, mid_now(s), p ? p->qty : 0.0, s->base, pnl, s->quote, open < 0 ? 0 : open, eq);
}
