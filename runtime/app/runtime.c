/*
 * runtime.c - the assembled runtime (runtime.h): components, wiring, the
 * clock and the time-ordered driver shared by backtest and real time.
 *
 * It owns every component and the sources. It is the only place that knows
 * how they fit together: the engines themselves talk only through the bus
 * and the cache. It must never reorder time: everything it hands on is in
 * time order, and the clock only moves forward.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/error.h"
#include "cquant/replay.h"
#include "cquant/runtime.h"

#define MAX_SOURCES 16

typedef struct source {
    cq_replay_t *replay;   /* one of the two */
    cq_synth_t *synth;
} source_t;

struct cq_rt {
    cq_rt_config_t cfg;
    cq_bus_t *bus;
    cq_cache_t *cache;
    cq_data_engine_t *de;
    cq_risk_t *risk;
    cq_portfolio_t *pf;
    cq_sim_t *sim;
    cq_exec_t *ex;
    cq_journal_t *journal;
    cq_timers_t *timers;
    cq_timer_id_t tick_timer;
    int64_t now;
    source_t src[MAX_SOURCES];
    size_t nsrc;
    int64_t last_data_ts;
    int started;
};

/* ---- wiring: data -> sim, portfolio ------------------------------------------ */

static void on_book(void *user, cq_topic_t topic, const void *msg)
{
    (void)topic;
    cq_rt_t *rt = user;
    const cq_book_event_t *ev = msg;
    uint32_t inst = ev->hdr.instrument;
    const cq_book_t *book = cq_data_book(rt->de, inst);
    if (book)
        cq_sim_on_book(rt->sim, inst, book, ev->hdr.ts_init ? ev->hdr.ts_init : rt->now);
    if (ev->bid_price > 0 && ev->ask_price > 0)
        cq_portfolio_mark(rt->pf, inst, (ev->bid_price + ev->ask_price) / 2);
}

static void on_trade(void *user, cq_topic_t topic, const void *msg)
{
    (void)topic;
    cq_rt_t *rt = user;
    cq_sim_on_trade(rt->sim, msg);
}

static void on_quote(void *user, cq_topic_t topic, const void *msg)
{
    (void)topic;
    cq_rt_t *rt = user;
    const cq_quote_t *q = msg;
    if (q->bid_price > 0 && q->ask_price > 0)
        cq_portfolio_mark(rt->pf, q->hdr.instrument, (q->bid_price + q->ask_price) / 2);
}

static void rt_on_report(void *user, const cq_exec_report_t *report)
{
    cq_rt_t *rt = user;
    if (rt->ex)
        cq_exec_on_report(rt->ex, report);
}

static void on_exec_tick(void *user, cq_timer_id_t id, int64_t now)
{
    (void)id;
    cq_rt_t *rt = user;
    cq_exec_tick(rt->ex, now);
}

/* ---- life cycle ------------------------------------------------------------------ */

static void seterr(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a, b);
}

int cq_rt_create(cq_rt_t **out, const cq_rt_config_t *cfg, char *err, size_t errlen)
{
    if (!out || !cfg)
        return CQ_EINVAL;
    if (cfg->order_latency_ns < 0 || cfg->report_latency_ns < 0 || cfg->exec_tick_ns < 0) {
        seterr(err, errlen, "%s%s", "latencies must be >= 0", "");
        return CQ_EINVAL;
    }
    cq_rt_t *rt = calloc(1, sizeof *rt);
    if (!rt)
        return CQ_ENOMEM;
    rt->cfg = *cfg;
    const cq_log_t *log = cfg->log;
    int rc;
    if ((rc = cq_bus_create(&rt->bus)) < 0 || (rc = cq_cache_create(&rt->cache, NULL)) < 0 ||
        (rc = cq_timers_create(&rt->timers)) < 0)
        goto fail;
    cq_data_engine_config_t dc = {.log = log};
    if ((rc = cq_data_engine_create(&rt->de, rt->bus, rt->cache, &dc)) < 0 ||
        (rc = cq_risk_create(&rt->risk, rt->cache, &cfg->risk, log)) < 0 ||
        (rc = cq_portfolio_create(&rt->pf, rt->bus, rt->cache, log)) < 0)
        goto fail;
    if (cfg->journal) {
        cq_journal_config_t jc = {.cache = rt->cache, .log = log};
        if ((rc = cq_journal_open(&rt->journal, cfg->journal, &jc)) < 0) {
            seterr(err, errlen, "journal %s: %s", cfg->journal,
                   rt->journal ? cq_journal_errmsg(rt->journal) : cq_strerror(rc));
            goto fail_quiet;
        }
    }
    /* The sim reports through the runtime (rt_on_report), because the
     * engine that takes the reports needs the sim's venue to be created. */
    cq_sim_config_t sc;
    memset(&sc, 0, sizeof sc);
    sc.order_latency_ns = cfg->order_latency_ns;
    sc.report_latency_ns = cfg->report_latency_ns;
    sc.maker_fee_bps = cfg->maker_fee_bps;
    sc.taker_fee_bps = cfg->taker_fee_bps;
    sc.seed = cfg->seed;
    sc.report = rt_on_report;
    sc.report_user = rt;
    cq_venue_t v;
    if ((rc = cq_sim_create(&rt->sim, &sc, rt->cache)) < 0 || (rc = cq_sim_venue(rt->sim, &v)) < 0)
        goto fail;
    cq_exec_journal_t ji, *jp = NULL;
    if (rt->journal) {
        if ((rc = cq_journal_exec_iface(rt->journal, &ji)) < 0)
            goto fail;
        jp = &ji;
    }
    cq_exec_config_t ec = {.id_epoch_ns = cfg->id_epoch_ns};
    if ((rc = cq_exec_create(&rt->ex, rt->bus, rt->cache, rt->risk, rt->pf, &v, jp, &ec, log)) < 0)
        goto fail;
    /* The sim and the portfolio see market data before any strategy. */
    if ((rc = cq_bus_subscribe(rt->bus, "data.book.*", 1000000, on_book, rt, NULL)) < 0 ||
        (rc = cq_bus_subscribe(rt->bus, "data.trades.*", 1000000, on_trade, rt, NULL)) < 0 ||
        (rc = cq_bus_subscribe(rt->bus, "data.quotes.*", 1000000, on_quote, rt, NULL)) < 0)
        goto fail;
    *out = rt;
    return 0;
fail:
    seterr(err, errlen, "runtime: %s%s", cq_strerror(rc), "");
fail_quiet:
    cq_rt_destroy(rt);
    return rc;
}

void cq_rt_destroy(cq_rt_t *rt)
{
    if (!rt)
        return;
    for (size_t i = 0; i < rt->nsrc; i++) {
        cq_replay_close(rt->src[i].replay);
        cq_synth_destroy(rt->src[i].synth);
    }
    cq_exec_destroy(rt->ex);
    cq_sim_destroy(rt->sim);
    cq_journal_close(rt->journal);
    cq_portfolio_destroy(rt->pf);
    cq_risk_destroy(rt->risk);
    cq_data_engine_destroy(rt->de);
    cq_timers_destroy(rt->timers);
    cq_bus_destroy(rt->bus);
    cq_cache_destroy(rt->cache);
    free(rt);
}

/* ---- sources --------------------------------------------------------------------- */

int cq_rt_add_cqd(cq_rt_t *rt, const char *path, char *err, size_t errlen)
{
    if (!rt || !path)
        return CQ_EINVAL;
    if (rt->nsrc == MAX_SOURCES) {
        seterr(err, errlen, "%s: too many data sources (at most 16)%s", path, "");
        return CQ_EFULL;
    }
    int rc = cq_replay_open(&rt->src[rt->nsrc].replay, path, rt->de, rt->cache, err, errlen);
    if (rc < 0)
        return rc;
    rt->nsrc++;
    return 0;
}

int cq_rt_add_synth(cq_rt_t *rt, const cq_synth_config_t *cfg, uint32_t *instrument)
{
    if (!rt || !cfg)
        return CQ_EINVAL;
    if (rt->nsrc == MAX_SOURCES)
        return CQ_EFULL;
    cq_synth_t *s;
    int rc = cq_synth_create(&s, cfg);
    if (rc < 0)
        return rc;
    if ((rc = cq_synth_attach(s, rt->de, rt->cache, instrument)) < 0) {
        cq_synth_destroy(s);
        return rc;
    }
    rt->src[rt->nsrc++].synth = s;
    return 0;
}

void cq_rt_replay_stats(const cq_rt_t *rt, cq_replay_stats_t *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; rt && i < rt->nsrc; i++) {
        cq_replay_stats_t st;
        if (!rt->src[i].replay)
            continue;
        cq_replay_stats(rt->src[i].replay, &st);
        out->records += st.records;
        out->events += st.events;
        out->trades += st.trades;
        out->quotes += st.quotes;
        out->batches += st.batches;
        out->snapshots += st.snapshots;
        out->bars += st.bars;
        out->rejected += st.rejected;
        out->broken_batches += st.broken_batches;
    }
}

static int64_t src_peek(const source_t *s)
{
    return s->replay ? cq_replay_peek_ts(s->replay) : cq_synth_peek_ts(s->synth);
}

int64_t cq_rt_next_data_ts(const cq_rt_t *rt)
{
    int64_t t = INT64_MAX;
    for (size_t i = 0; rt && i < rt->nsrc; i++) {
        int64_t ti = src_peek(&rt->src[i]);
        if (ti < t)
            t = ti;
    }
    return t;
}

void cq_rt_set_now(cq_rt_t *rt, int64_t now)
{
    if (rt && now > rt->now)
        rt->now = now;
}

int64_t cq_rt_now(const cq_rt_t *rt) { return rt ? rt->now : 0; }

/* ---- the driver ------------------------------------------------------------------- */

long cq_rt_run_until(cq_rt_t *rt, int64_t until, int *done, char *err, size_t errlen)
{
    if (!rt)
        return CQ_EINVAL;
    long events = 0;
    if (done)
        *done = 0;
    if (!rt->started) {
        /* the clock starts at the first data unless the caller set it */
        int64_t first = cq_rt_next_data_ts(rt);
        if (rt->now == 0 && first != INT64_MAX)
            rt->now = first;
        int64_t tick = rt->cfg.exec_tick_ns ? rt->cfg.exec_tick_ns : 100000000;
        int rc = cq_timer_start(rt->timers, rt->now + tick, tick, on_exec_tick, rt, &rt->tick_timer);
        if (rc < 0)
            return rc;
        rt->started = 1;
    }
    for (;;) {
        int64_t td = INT64_MAX;
        size_t si = 0;
        for (size_t i = 0; i < rt->nsrc; i++) {
            int64_t ti = src_peek(&rt->src[i]);
            if (ti < td) {
                td = ti;
                si = i;
            }
        }
        int64_t tv;
        if (cq_sim_next_due(rt->sim, &tv) != 0)
            tv = INT64_MAX;
        int64_t tt = cq_timers_next_due(rt->timers);
        int64_t limit = until;
        if (td == INT64_MAX && rt->last_data_ts < limit)
            limit = rt->last_data_ts; /* data exhausted: drain what is due, nothing later */
        int64_t t = td < tv ? td : tv;
        if (tt < t)
            t = tt;
        if (t > limit) {
            if (td == INT64_MAX) {
                /* a file that ended on a bad block is an error, not an end */
                for (size_t i = 0; i < rt->nsrc; i++) {
                    int rc = rt->src[i].replay ? cq_replay_next(rt->src[i].replay) : 0;
                    if (rc < 0) {
                        if (err && errlen)
                            snprintf(err, errlen, "%s", cq_replay_error(rt->src[i].replay));
                        return rc;
                    }
                }
                if (done)
                    *done = 1;
            }
            return events;
        }
        if (t < rt->now)
            t = rt->now; /* work scheduled in the past runs now: time never goes back */
        rt->now = t;
        if (tv <= t) {
            cq_sim_advance(rt->sim, t);
        } else if (tt <= t) {
            cq_timers_run(rt->timers, t);
        } else {
            cq_data_advance(rt->de, t); /* bars ending at or before t close first */
            source_t *s = &rt->src[si];
            int rc = s->replay ? cq_replay_next(s->replay) : cq_synth_next(s->synth);
            if (rc < 0) {
                if (err && errlen)
                    snprintf(err, errlen, "%s", s->replay ? cq_replay_error(s->replay) : cq_strerror(rc));
                return rc;
            }
            rt->last_data_ts = t;
            events++;
        }
    }
}

/* ---- journal, balances, equity ----------------------------------------------------- */

int cq_rt_restore(cq_rt_t *rt, size_t *count)
{
    if (!rt)
        return CQ_EINVAL;
    if (count)
        *count = 0;
    if (!rt->journal)
        return 0;
    long added = 0;
    int rc = cq_journal_restore_open(rt->journal, &added);
    if (rc < 0)
        return rc;
    return cq_exec_adopt_open(rt->ex, rt->now, count);
}

int cq_rt_set_balance(cq_rt_t *rt, const char *venue, const char *asset, double total)
{
    if (!rt)
        return CQ_EINVAL;
    return cq_portfolio_set_balance(rt->pf, venue, asset, total);
}

int cq_rt_mark(const cq_rt_t *rt, uint32_t inst, double *mid)
{
    if (!rt || !mid)
        return CQ_EINVAL;
    const cq_book_t *b = cq_data_book(rt->de, inst);
    if (b && cq_data_book_valid(rt->de, inst) && cq_book_mid(b, mid) == 0)
        return 0;
    const cq_quote_t *q = cq_cache_quote(rt->cache, inst);
    if (q && q->bid_price > 0 && q->ask_price > 0) {
        *mid = (q->bid_price + q->ask_price) / 2;
        return 0;
    }
    const cq_trade_t *t = cq_cache_trade(rt->cache, inst);
    if (t && t->price > 0) {
        *mid = t->price;
        return 0;
    }
    return CQ_ENOENT;
}

double cq_rt_equity(const cq_rt_t *rt, const char *venue, const char *asset)
{
    if (!rt || !venue || !asset)
        return 0;
    cq_balance_t *bal[64];
    long n = cq_cache_balances(rt->cache, venue, bal, 64);
    if (n > 64)
        n = 64;
    double eq = 0;
    for (long i = 0; i < n; i++) {
        if (strcmp(bal[i]->asset, asset) == 0) {
            eq += bal[i]->total;
            continue;
        }
        char id[96];
        uint32_t inst;
        double mid;
        snprintf(id, sizeof id, "%s%s.%s", bal[i]->asset, asset, venue);
        if (cq_cache_instrument_find(rt->cache, id, &inst) == 0 && cq_rt_mark(rt, inst, &mid) == 0)
            eq += bal[i]->total * mid;
    }
    return eq;
}

void cq_rt_lua_env(cq_rt_t *rt, cq_lua_env_t *out)
{
    memset(out, 0, sizeof *out);
    if (!rt)
        return;
    out->bus = rt->bus;
    out->cache = rt->cache;
    out->exec = rt->ex;
    out->timers = rt->timers;
    out->data = rt->de;
    out->clock = &rt->now;
    out->log = rt->cfg.log;
}

cq_bus_t *cq_rt_bus(cq_rt_t *rt) { return rt ? rt->bus : NULL; }
cq_cache_t *cq_rt_cache(cq_rt_t *rt) { return rt ? rt->cache : NULL; }
cq_data_engine_t *cq_rt_data(cq_rt_t *rt) { return rt ? rt->de : NULL; }
cq_exec_t *cq_rt_exec(cq_rt_t *rt) { return rt ? rt->ex : NULL; }
cq_sim_t *cq_rt_sim(cq_rt_t *rt) { return rt ? rt->sim : NULL; }
cq_portfolio_t *cq_rt_portfolio(cq_rt_t *rt) { return rt ? rt->pf : NULL; }
cq_risk_t *cq_rt_risk(cq_rt_t *rt) { return rt ? rt->risk : NULL; }
cq_timers_t *cq_rt_timers(cq_rt_t *rt) { return rt ? rt->timers : NULL; }
cq_journal_t *cq_rt_journal(cq_rt_t *rt) { return rt ? rt->journal : NULL; }
const cq_log_t *cq_rt_log(const cq_rt_t *rt) { return rt ? rt->cfg.log : NULL; }
