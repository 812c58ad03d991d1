/*
 * cmd_backtest.c - `cquant backtest STRATEGY.lua --data FILE.cqd ...`:
 * replay recorded data through the whole runtime (DataEngine, simulated
 * clock and timers, simulated venue, portfolio) as fast as the CPU allows,
 * then print the summary and write the report files.
 *
 * A --param with a comma list (fast=5,10,20) makes a parameter sweep: the
 * grid runs in -j N child processes, each a complete backtest, and the
 * parent prints one table sorted by --sort. Children share nothing but the
 * read-only data files (mmap).
 *
 * Deterministic: the runtime orders everything by simulated time, the sim
 * draws from --seed, and the files hold no wall-clock value.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "app/session.h"
#include "cquant/cqd.h"
#include "cquant/error.h"
#include "cquant/time.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cquant backtest STRATEGY.lua --data FILE.cqd [--data FILE.cqd ...] [options]\n"
            "  --param K=V          strategy parameter (repeatable); K=V1,V2,... sweeps the values\n"
            "  -j N                 sweep: run N backtests at a time (default 1)\n"
            "  --sort METRIC        sweep: sort by sharpe (default), sortino, return, drawdown,\n"
            "                       trades, win_rate, profit_factor, fees\n"
            "  --latency-ms MS      order and report latency of the simulated venue (default 1)\n"
            "  --fees maker=BPS,taker=BPS   fees in basis points (default maker=1,taker=5)\n"
            "  --balance ASSET=AMT  starting balance (repeatable; default USDT=10000)\n"
            "  --instrument ID      instrument to report on (default: the first in the data)\n"
            "  --sample SECONDS     equity sampling period (default 1)\n"
            "  --out DIR            write report.html, trades.csv, orders.csv, equity.csv\n"
            "  --seed N             seed of the simulated venue (default 1)\n"
            "  --journal FILE       journal orders to SQLite (default: none in a backtest)\n"
            "  --max-errors N       callback errors in a row before the strategy is stopped\n"
            "  --quiet              no strategy log below WARN\n"
            "  --progress / --no-progress   progress bar on stderr (default: on a terminal)\n");
}

static double now_s(void) { return (double)cq_time_mono_ns() / 1e9; }

/* The time span of the data, for the progress bar. */
static void data_span(const cq_opts_t *o, int64_t *first, int64_t *last)
{
    *first = INT64_MAX;
    *last = INT64_MIN;
    for (size_t i = 0; i < o->ndata; i++) {
        cq_cqd_reader_t *r;
        if (cq_cqd_open(&r, o->data[i], 0, NULL, 0) < 0)
            continue;
        cq_cqd_info_t info;
        cq_cqd_get_info(r, &info);
        if (info.record_count) {
            if (info.ts_init_first < *first)
                *first = info.ts_init_first;
            if (info.ts_init_last > *last)
                *last = info.ts_init_last;
        }
        cq_cqd_close(r);
    }
}

static void progress(double frac, double evps, double eta)
{
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    fprintf(stderr, "\r[%s] %5.1f%%  %8.2fM ev/s  ETA %5.0fs ", bar, frac * 100, evps / 1e6, eta);
    fflush(stderr);
}

/* One backtest. Fills *m; prints and writes unless quiet_all. Exit status. */
static int run_one(const cq_opts_t *o, cq_report_metrics_t *m, int quiet_all)
{
    cq_session_t s;
    char err[512] = "";
    int rc = cq_session_open(&s, o, NULL, err, sizeof err);
    if (rc == 0)
        rc = cq_session_start(&s, err, sizeof err);
    if (rc) {
        fprintf(stderr, "cquant backtest: %s\n", err);
        cq_session_close(&s);
        return rc;
    }
    int64_t first, last;
    data_span(o, &first, &last);
    int show = !quiet_all && (o->progress == 1 || (o->progress == -1 && isatty(2)));
    double t0 = now_s(), tlast = t0;
    uint64_t events = 0;
    int done = 0;
    while (!done) {
        /* chunks of 10 simulated seconds keep the progress bar live */
        int64_t until = cq_rt_now(s.rt) + 10000000000LL;
        long n = cq_rt_run_until(s.rt, until, &done, err, sizeof err);
        if (n < 0) {
            if (show)
                fputc('\n', stderr);
            fprintf(stderr, "cquant backtest: data: %s\n", err);
            cq_session_close(&s);
            return 1;
        }
        events += (uint64_t)n;
        if (cq_rt_next_data_ts(s.rt) == INT64_MAX)
            done = 1;
        if (show && now_s() - tlast > 0.2) {
            tlast = now_s();
            double frac = last > first ? (double)(cq_rt_now(s.rt) - first) / (double)(last - first) : 1;
            if (frac > 1)
                frac = 1;
            double evps = events / (tlast - t0);
            progress(frac, evps, frac > 0 ? (tlast - t0) * (1 - frac) / frac : 0);
        }
    }
    double wall = now_s() - t0;
    if (show) {
        progress(1, events / (wall > 0 ? wall : 1e-9), 0);
        fputc('\n', stderr);
    }
    cq_session_finish(&s);
    cq_report_metrics(s.report, events, wall, m);
    if (!quiet_all)
        cq_report_print(s.report, m, stdout);
    if (o->out) {
        if (cq_report_write(s.report, m, o->out, err, sizeof err) < 0) {
            fprintf(stderr, "cquant backtest: --out %s: %s\n", o->out, err);
            cq_session_close(&s);
            return 1;
        }
        if (!quiet_all)
            printf("report: %s/report.html\n", o->out);
    }
    cq_lua_info_t li;
    int failed = cq_lua_info(s.lua, s.strategy, &li) == 0 && li.state == CQ_STRAT_FAILED;
    if (failed)
        fprintf(stderr, "cquant backtest: the strategy was stopped after %u errors in a row: %s\n",
                li.errors_in_row, li.last_error);
    cq_session_close(&s);
    return failed ? 1 : 0;
}

/* ---- parameter sweeps ------------------------------------------------------------ */

typedef struct combo {
    char params[CQ_OPTS_MAX][256];
    size_t n;
    char label[512];
    cq_report_metrics_t m;
    int status;
} combo_t;

static double metric(const cq_report_metrics_t *m, const char *name)
{
    if (!strcmp(name, "sharpe")) return m->sharpe;
    if (!strcmp(name, "sortino")) return m->sortino;
    if (!strcmp(name, "return")) return m->total_return;
    if (!strcmp(name, "drawdown")) return -m->max_drawdown_pct; /* smaller is better */
    if (!strcmp(name, "trades")) return (double)m->trades;
    if (!strcmp(name, "win_rate")) return m->win_rate;
    if (!strcmp(name, "profit_factor")) return m->profit_factor;
    if (!strcmp(name, "fees")) return -m->fees;
    return NAN;
}

static const char *sort_key;

static int by_metric(const void *a, const void *b)
{
    const combo_t *x = a, *y = b;
    if (x->status != y->status)
        return x->status ? 1 : -1;
    double u = metric(&x->m, sort_key), v = metric(&y->m, sort_key);
    if (isnan(u) || isnan(v))
        return isnan(u) - isnan(v);
    if (u != v)
        return u < v ? 1 : -1;
    return strcmp(x->label, y->label);
}

/* Expand the grid: every --param with commas multiplies the runs. */
static combo_t *expand(const cq_opts_t *o, size_t *count, char *err, size_t errlen)
{
    size_t total = 1;
    for (size_t i = 0; i < o->nparams; i++) {
        size_t k = 1;
        for (const char *p = o->params[i]; *p; p++)
            k += *p == ',';
        if (total > 100000 / k) {
            snprintf(err, errlen, "--param: the grid has more than 100000 combinations");
            return NULL;
        }
        total *= k;
    }
    combo_t *c = calloc(total, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t idx = 0; idx < total; idx++) {
        size_t rest = idx;
        combo_t *cb = &c[idx];
        for (size_t i = 0; i < o->nparams; i++) {
            const char *kv = o->params[i], *eq = strchr(kv, '=');
            size_t k = 1;
            for (const char *p = eq; *p; p++)
                k += *p == ',';
            size_t pick = rest % k;
            rest /= k;
            const char *v = eq + 1;
            for (size_t j = 0; j < pick; j++)
                v = strchr(v, ',') + 1;
            const char *vend = strchr(v, ',');
            size_t vlen = vend ? (size_t)(vend - v) : strlen(v);
            if (vlen == 0) {
                snprintf(err, errlen, "--param %s: empty value in the list", kv);
                free(c);
                return NULL;
            }
            snprintf(cb->params[cb->n], sizeof cb->params[0], "%.*s=%.*s", (int)(eq - kv), kv, (int)vlen, v);
            size_t l = strlen(cb->label);
            snprintf(cb->label + l, sizeof cb->label - l, "%s%s", cb->n ? "," : "", cb->params[cb->n]);
            cb->n++;
        }
    }
    *count = total;
    return c;
}

/* n/a for an undefined value, inf for an infinite one (as the report prints them) */
static void fmt_metric(char *buf, size_t len, const char *fmt, double v)
{
    int w = atoi(fmt + 1);
    if (isnan(v))
        snprintf(buf, len, "%*s", w, "n/a");
    else if (isinf(v))
        snprintf(buf, len, "%*s", w, v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, len, fmt, v);
}

static int sweep(const cq_opts_t *o)
{
    char err[256];
    sort_key = o->sort ? o->sort : "sharpe";
    cq_report_metrics_t probe = {0};
    if (isnan(metric(&probe, sort_key))) {
        fprintf(stderr, "cquant backtest: --sort: unknown metric '%s'\n", sort_key);
        return 2;
    }
    size_t n;
    combo_t *c = expand(o, &n, err, sizeof err);
    if (!c) {
        fprintf(stderr, "cquant backtest: %s\n", err);
        return 2;
    }
    if (o->out && mkdir(o->out, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "cquant backtest: --out %s: %s\n", o->out, strerror(errno));
        free(c);
        return 1;
    }
    fprintf(stderr, "sweep: %zu runs, %d at a time\n", n, o->jobs);
    size_t next = 0, running = 0, finished = 0;
    pid_t *pids = calloc(n, sizeof *pids);
    int *fds = calloc(n, sizeof *fds);
    if (!pids || !fds) {
        free(pids);
        free(fds);
        free(c);
        return 1;
    }
    fflush(stdout);
    fflush(stderr);
    while (finished < n) {
        while (running < (size_t)o->jobs && next < n) {
            int p[2];
            if (pipe(p) < 0) {
                perror("cquant backtest: pipe");
                break;
            }
            pid_t pid = fork();
            if (pid < 0) {
                perror("cquant backtest: fork");
                close(p[0]);
                close(p[1]);
                break;
            }
            if (pid == 0) {
                close(p[0]);
                cq_opts_t co = *o;
                for (size_t i = 0; i < c[next].n; i++)
                    co.params[i] = c[next].params[i];
                co.params[c[next].n] = NULL;
                co.quiet = 1;
                co.progress = 0;
                char dir[1024];
                if (o->out) {
                    snprintf(dir, sizeof dir, "%s/%s", o->out, c[next].label);
                    co.out = dir;
                }
                cq_report_metrics_t m;
                memset(&m, 0, sizeof m);
                int st = run_one(&co, &m, 1);
                ssize_t w = write(p[1], &m, sizeof m);
                (void)w;
                close(p[1]);
                _exit(st);
            }
            close(p[1]);
            pids[next] = pid;
            fds[next] = p[0];
            next++;
            running++;
        }
        if (running == 0)
            break;
        int status;
        pid_t pid = wait(&status);
        if (pid < 0)
            break;
        for (size_t i = 0; i < next; i++) {
            if (pids[i] != pid)
                continue;
            ssize_t r = read(fds[i], &c[i].m, sizeof c[i].m);
            close(fds[i]);
            c[i].status = (r == (ssize_t)sizeof c[i].m && WIFEXITED(status)) ? WEXITSTATUS(status) : 1;
            running--;
            finished++;
            if (isatty(2))
                fprintf(stderr, "\rsweep: %zu/%zu done", finished, n);
        }
    }
    if (isatty(2))
        fputc('\n', stderr);
    qsort(c, n, sizeof *c, by_metric);
    printf("%-40s %10s %10s %10s %10s %8s %8s %10s %12s\n", "params", "return%", "sharpe", "sortino",
           "maxdd%", "trades", "win%", "pf", "end_equity");
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        const cq_report_metrics_t *m = &c[i].m;
        if (c[i].status) {
            printf("%-40s failed (exit %d)\n", c[i].label, c[i].status);
            failures++;
            continue;
        }
        char win[16], pf[16];
        fmt_metric(win, sizeof win, "%8.1f", m->win_rate * 100);
        fmt_metric(pf, sizeof pf, "%10.3f", m->profit_factor);
        printf("%-40s %10.3f %10.3f %10.3f %10.3f %8llu %8s %10s %12.2f\n", c[i].label,
               m->total_return * 100, m->sharpe, m->sortino, m->max_drawdown_pct * 100,
               (unsigned long long)m->trades, win, pf, m->end_equity);
    }
    printf("sorted by %s\n", sort_key);
    free(pids);
    free(fds);
    free(c);
    return failures ? 1 : 0;
}

int cq_app_backtest(int argc, char **argv)
{
    cq_opts_t o;
    cq_opts_init(&o);
    o.watch = 0;
    char err[256];
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    if (cq_opts_parse(&o, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "cquant backtest: %s\n", err);
        return 2;
    }
    if (!o.strategy) {
        fprintf(stderr, "cquant backtest: no strategy file given (cquant backtest STRATEGY.lua --data FILE.cqd)\n");
        return 2;
    }
    if (o.ndata == 0) {
        fprintf(stderr, "cquant backtest: no data: give --data FILE.cqd (cquant generate or cquant convert make one)\n");
        return 2;
    }
    int grid = 0;
    for (size_t i = 0; i < o.nparams; i++)
        grid |= strchr(o.params[i], ',') != NULL;
    if (grid)
        return sweep(&o);
    cq_report_metrics_t m;
    return run_one(&o, &m, 0);
}

int cq_app_backtest_run(const cq_opts_t *o)
{
    cq_report_metrics_t m;
    return run_one(o, &m, 0);
}
