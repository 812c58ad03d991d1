/*
 * cmd_run.c - `cquant run STRATEGY.lua --venue sim`: a strategy in real
 * time on a libuv loop, against the synthetic market matched by the
 * simulated venue, with hot reload of the strategy file.
 *
 * One libuv loop, one thread. A "pump" timer hands the runtime the wall
 * clock (cq_rt_run_until) and re-arms itself for the next thing due (market
 * event, venue report, strategy timer). File polls watch the strategy and
 * its modules and reload it when they change; SIGINT/SIGTERM stop the
 * strategy cleanly (on_stop), and closing the runtime checkpoints and
 * closes the journal. A status line shows position, PnL and open orders.
 *
 * The same session code as `cquant backtest` runs the strategy: only the
 * clock and the data source differ.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "app/app.h"
#include "app/session.h"
#include "cquant/error.h"
#include "cquant/time.h"

#define MAX_WATCH 32

typedef struct runner {
    cq_session_t s;
    uv_loop_t loop;
    uv_timer_t pump, status, stopper, debounce;
    uv_signal_t sigint, sigterm;
    uv_fs_poll_t polls[MAX_WATCH];
    size_t npolls;
    int tty;
    int stopping;
    int signo;
    double status_every;   /* seconds between status lines when not a terminal */
    double last_status;
    uint64_t events;
} runner_t;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cquant run STRATEGY.lua [--venue sim] [options]\n"
            "  --venue sim          the simulated market (a seeded synthetic order flow matched by\n"
            "                       the simulated venue); the only venue in this version\n"
            "  --param K=V          strategy parameter (repeatable)\n"
            "  --seed N             seed of the synthetic market and the venue (default 1)\n"
            "  --journal FILE       SQLite order journal (default ./cquant.db); --no-journal: none\n"
            "  --watch / --no-watch reload the strategy when its file changes (default on)\n"
            "  --duration SECONDS   stop after this long (default: until SIGINT/SIGTERM)\n"
            "  --latency-ms MS      order and report latency of the simulated venue (default 1)\n"
            "  --fees maker=BPS,taker=BPS   (default maker=1,taker=5)\n"
            "  --balance ASSET=AMT  starting balance (repeatable; default USDT=10000)\n"
            "  --max-errors N       callback errors in a row before the strategy is stopped (10)\n"
            "  --cancel-on-stop     cancel the open orders of a strategy stopped for errors\n"
            "  --quiet              strategy log at WARN and above only\n");
}

static double wall_s(void) { return (double)cq_time_mono_ns() / 1e9; }

static void stop_all(runner_t *r);

static void pump_cb(uv_timer_t *t)
{
    runner_t *r = t->data;
    if (r->stopping)
        return;
    int64_t now = cq_time_wall_ns();
    char err[256];
    long n = cq_rt_run_until(r->s.rt, now, NULL, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "cquant run: %s\n", err);
        stop_all(r);
        return;
    }
    r->events += (uint64_t)n;
    cq_rt_set_now(r->s.rt, now);
    int64_t next = cq_rt_next_data_ts(r->s.rt), due;
    int64_t tt = cq_timers_next_due(cq_rt_timers(r->s.rt));
    if (tt < next)
        next = tt;
    if (cq_sim_next_due(cq_rt_sim(r->s.rt), &due) == 0 && due < next)
        next = due;
    int64_t wait_ms = next == INT64_MAX ? 50 : (next - cq_time_wall_ns() + 999999) / 1000000;
    if (wait_ms < 0)
        wait_ms = 0;
    if (wait_ms > 50)
        wait_ms = 50;
    uv_timer_start(&r->pump, pump_cb, (uint64_t)wait_ms, 0);
}

static void print_status(runner_t *r, int final)
{
    char line[320];
    cq_session_status(&r->s, line, sizeof line);
    cq_lua_info_t li;
    const char *st = "";
    if (cq_lua_info(r->s.lua, r->s.strategy, &li) == 0)
        st = li.state == CQ_STRAT_RUNNING ? "" : li.state == CQ_STRAT_FAILED ? " | STOPPED (errors)" : " | stopped";
    if (r->tty && !final)
        fprintf(stderr, "\r\033[K%s%s", line, st);
    else
        fprintf(stderr, "status: %s%s\n", line, st);
    fflush(stderr);
}

static void status_cb(uv_timer_t *t)
{
    runner_t *r = t->data;
    if (r->tty || wall_s() - r->last_status >= r->status_every) {
        r->last_status = wall_s();
        print_status(r, 0);
    }
}

static void watch_files(runner_t *r);

static void reload_cb(uv_timer_t *t)
{
    runner_t *r = t->data;
    char err[512];
    if (r->tty)
        fputs("\r\033[K", stderr);
    if (cq_lua_reload(r->s.lua, r->s.strategy, err, sizeof err) == 0) {
        cq_lua_info_t li;
        cq_lua_info(r->s.lua, r->s.strategy, &li);
        fprintf(stderr, "reload: %s now runs version %u\n", r->s.strategy_name, li.version);
    } else {
        fprintf(stderr, "reload: %s kept the running version: %s\n", r->s.strategy_name, err);
    }
    fflush(stderr);
    watch_files(r); /* the new version may require other modules */
}

static void poll_cb(uv_fs_poll_t *h, int status, const uv_stat_t *prev, const uv_stat_t *curr)
{
    (void)prev;
    (void)curr;
    runner_t *r = h->data;
    if (r->stopping || status < 0)
        return; /* a file being replaced may be briefly missing; its return is a change */
    /* editors write in several steps: reload once things are quiet */
    uv_timer_start(&r->debounce, reload_cb, 60, 0);
}

static void poll_closed(uv_handle_t *h) { (void)h; }

static void watch_files(runner_t *r)
{
    for (size_t i = 0; i < r->npolls; i++)
        uv_fs_poll_stop(&r->polls[i]);
    size_t n = 0;
    const char *const *files = cq_lua_files(r->s.lua, r->s.strategy, &n);
    for (size_t i = 0; i < n && i < MAX_WATCH; i++) {
        if (i >= r->npolls) {
            uv_fs_poll_init(&r->loop, &r->polls[i]);
            r->polls[i].data = r;
            r->npolls = i + 1;
        }
        uv_fs_poll_start(&r->polls[i], poll_cb, files[i], 100);
    }
}

static void stop_all(runner_t *r)
{
    if (r->stopping)
        return;
    r->stopping = 1;
    uv_timer_stop(&r->pump);
    uv_timer_stop(&r->status);
    uv_timer_stop(&r->stopper);
    uv_timer_stop(&r->debounce);
    for (size_t i = 0; i < r->npolls; i++)
        uv_fs_poll_stop(&r->polls[i]);
    uv_signal_stop(&r->sigint);
    uv_signal_stop(&r->sigterm);
    uv_stop(&r->loop);
}

static void signal_cb(uv_signal_t *h, int signo)
{
    runner_t *r = h->data;
    r->signo = signo;
    stop_all(r);
}

static void stopper_cb(uv_timer_t *t) { stop_all(t->data); }

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, poll_closed);
}

int cq_app_run_session(const cq_opts_t *o, int banner)
{
    runner_t *r = calloc(1, sizeof *r);
    if (!r)
        return 1;
    char err[512] = "";
    cq_synth_config_t sc = {.seed = o->seed, .start_ns = cq_time_wall_ns()};
    int rc = cq_session_open(&r->s, o, &sc, err, sizeof err);
    if (rc == 0)
        rc = cq_session_start(&r->s, err, sizeof err);
    if (rc) {
        fprintf(stderr, "cquant run: %s\n", err);
        cq_session_close(&r->s);
        free(r);
        return rc;
    }
    r->tty = isatty(2);
    r->status_every = 5;
    r->last_status = wall_s();
    uv_loop_init(&r->loop);
    uv_timer_init(&r->loop, &r->pump);
    uv_timer_init(&r->loop, &r->status);
    uv_timer_init(&r->loop, &r->stopper);
    uv_timer_init(&r->loop, &r->debounce);
    uv_signal_init(&r->loop, &r->sigint);
    uv_signal_init(&r->loop, &r->sigterm);
    r->pump.data = r->status.data = r->stopper.data = r->debounce.data = r;
    r->sigint.data = r->sigterm.data = r;
    uv_signal_start(&r->sigint, signal_cb, SIGINT);
    uv_signal_start(&r->sigterm, signal_cb, SIGTERM);
    uv_timer_start(&r->pump, pump_cb, 0, 0);
    uv_timer_start(&r->status, status_cb, 250, 250);
    if (o->duration_s > 0)
        uv_timer_start(&r->stopper, stopper_cb, (uint64_t)(o->duration_s * 1000), 0);
    if (o->watch)
        watch_files(r);
    if (banner)
        fprintf(stderr, "running %s on %s (simulated market, seed %llu)%s%s%s; Ctrl-C stops\n",
                o->strategy, r->s.inst_id, (unsigned long long)o->seed,
                o->no_journal || !o->journal ? "" : ", journal ", o->no_journal || !o->journal ? "" : o->journal,
                o->watch ? ", watching for changes" : "");
    uv_run(&r->loop, UV_RUN_DEFAULT);
    if (r->tty)
        fputs("\r\033[K", stderr);
    if (r->signo)
        fprintf(stderr, "%s: stopping\n", r->signo == SIGINT ? "SIGINT" : "SIGTERM");
    cq_session_finish(&r->s);
    print_status(r, 1);
    fprintf(stderr, "events: %llu\n", (unsigned long long)r->events);
    uv_walk(&r->loop, close_walk, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop);
    cq_session_close(&r->s); /* checkpoints and closes the journal */
    free(r);
    return 0;
}

int cq_app_run(int argc, char **argv)
{
    cq_opts_t o;
    cq_opts_init(&o);
    char err[256];
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    if (cq_opts_parse(&o, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "cquant run: %s\n", err);
        return 2;
    }
    if (!o.strategy) {
        fprintf(stderr, "cquant run: no strategy file given (cquant run STRATEGY.lua --venue sim)\n");
        return 2;
    }
    if (o.venue && strcmp(o.venue, "sim") != 0) {
        fprintf(stderr, "cquant run: --venue %s: not available in this version (use --venue sim)\n", o.venue);
        return 2;
    }
    if (o.ndata) {
        fprintf(stderr, "cquant run: --data is for backtests (cquant backtest); run uses the live simulated market\n");
        return 2;
    }
    if (!o.journal)
        o.journal = "./cquant.db";
    return cq_app_run_session(&o, 1);
}
