/*
 * opts.c - the shared option parser of run / backtest / demo (opts.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/opts.h"

void cq_opts_init(cq_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->latency_ms = -1;
    o->maker_bps = 1.0;
    o->taker_bps = 5.0;
    o->seed = 1;
    o->jobs = 1;
    o->sample_s = 1.0;
    o->watch = 1;
    o->progress = -1;
    o->minutes = 60;
}

int cq_opts_number(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int fees(cq_opts_t *o, const char *s, char *err, size_t errlen)
{
    char buf[128];
    if (strlen(s) >= sizeof buf) {
        snprintf(err, errlen, "--fees: too long");
        return -1;
    }
    strcpy(buf, s);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        double v;
        if (!eq || cq_opts_number(eq + 1, &v) < 0 || v < -100 || v > 1000) {
            snprintf(err, errlen, "--fees: expected maker=BPS,taker=BPS (bps in [-100, 1000]), got '%s'", s);
            return -1;
        }
        *eq = 0;
        if (!strcmp(tok, "maker"))
            o->maker_bps = v;
        else if (!strcmp(tok, "taker"))
            o->taker_bps = v;
        else {
            snprintf(err, errlen, "--fees: unknown fee '%s' (maker or taker)", tok);
            return -1;
        }
    }
    return 0;
}

static int kv_ok(const char *s)
{
    const char *eq = strchr(s, '=');
    return eq && eq != s && strlen(s) < 256;
}

int cq_opts_parse(cq_opts_t *o, int argc, char **argv, char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
#define NEED()                                                                  \
    do {                                                                        \
        if (!v) {                                                               \
            snprintf(err, errlen, "%s needs a value", a);                       \
            return -1;                                                          \
        }                                                                       \
        i++;                                                                    \
    } while (0)
        if (!strcmp(a, "--data")) {
            NEED();
            if (o->ndata == CQ_OPTS_MAX) {
                snprintf(err, errlen, "--data: at most %d files", CQ_OPTS_MAX);
                return -1;
            }
            o->data[o->ndata++] = v;
        } else if (!strcmp(a, "--param")) {
            NEED();
            if (!kv_ok(v)) {
                snprintf(err, errlen, "--param: expected KEY=VALUE, got '%s'", v);
                return -1;
            }
            if (o->nparams == CQ_OPTS_MAX) {
                snprintf(err, errlen, "--param: at most %d", CQ_OPTS_MAX);
                return -1;
            }
            o->params[o->nparams++] = v;
        } else if (!strcmp(a, "--balance")) {
            NEED();
            const char *eq = strchr(v, '=');
            if (!kv_ok(v) || cq_opts_number(eq + 1, &d) < 0 || d < 0 || eq - v > 15) {
                snprintf(err, errlen, "--balance: expected ASSET=AMOUNT (amount >= 0), got '%s'", v);
                return -1;
            }
            if (o->nbalances == CQ_OPTS_MAX) {
                snprintf(err, errlen, "--balance: at most %d", CQ_OPTS_MAX);
                return -1;
            }
            o->balances[o->nbalances++] = v;
        } else if (!strcmp(a, "--latency-ms")) {
            NEED();
            if (cq_opts_number(v, &o->latency_ms) < 0 || o->latency_ms < 0 || o->latency_ms > 3600e3) {
                snprintf(err, errlen, "--latency-ms: expected a number of milliseconds >= 0, got '%s'", v);
                return -1;
            }
        } else if (!strcmp(a, "--fees")) {
            NEED();
            if (fees(o, v, err, errlen) < 0)
                return -1;
        } else if (!strcmp(a, "--seed")) {
            NEED();
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (end == v || *end || errno || v[0] == '-') {
                snprintf(err, errlen, "--seed: expected a non-negative integer, got '%s'", v);
                return -1;
            }
            o->seed = s;
        } else if (!strcmp(a, "--journal")) {
            NEED();
            o->journal = v;
        } else if (!strcmp(a, "--no-journal")) {
            o->no_journal = 1;
        } else if (!strcmp(a, "--out")) {
            NEED();
            o->out = v;
        } else if (!strcmp(a, "--instrument")) {
            NEED();
            o->instrument = v;
        } else if (!strcmp(a, "--venue")) {
            NEED();
            o->venue = v;
        } else if (!strcmp(a, "--sort")) {
            NEED();
            o->sort = v;
        } else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
            NEED();
            if (cq_opts_number(v, &d) < 0 || d < 1 || d > 256 || d != floor(d)) {
                snprintf(err, errlen, "%s: expected a number of processes in 1..256, got '%s'", a, v);
                return -1;
            }
            o->jobs = (int)d;
        } else if (!strcmp(a, "--sample")) {
            NEED();
            if (cq_opts_number(v, &o->sample_s) < 0 || o->sample_s < 0.001 || o->sample_s > 86400 * 7) {
                snprintf(err, errlen, "--sample: expected seconds in [0.001, 604800], got '%s'", v);
                return -1;
            }
        } else if (!strcmp(a, "--duration")) {
            NEED();
            if (cq_opts_number(v, &o->duration_s) < 0 || o->duration_s <= 0) {
                snprintf(err, errlen, "--duration: expected seconds > 0, got '%s'", v);
                return -1;
            }
        } else if (!strcmp(a, "--minutes")) {
            NEED();
            if (cq_opts_number(v, &o->minutes) < 0 || o->minutes <= 0 || o->minutes > 60 * 24 * 31) {
                snprintf(err, errlen, "--minutes: expected minutes in (0, 44640], got '%s'", v);
                return -1;
            }
        } else if (!strcmp(a, "--max-errors")) {
            NEED();
            if (cq_opts_number(v, &d) < 0 || d < 1 || d > 1e6 || d != floor(d)) {
                snprintf(err, errlen, "--max-errors: expected an integer in 1..1000000, got '%s'", v);
                return -1;
            }
            o->max_errors = (uint32_t)d;
        } else if (!strcmp(a, "--cancel-on-stop")) {
            o->cancel_on_stop = 1;
        } else if (!strcmp(a, "--watch")) {
            o->watch = 1;
        } else if (!strcmp(a, "--no-watch")) {
            o->watch = 0;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o->quiet = 1;
        } else if (!strcmp(a, "--progress")) {
            o->progress = 1;
        } else if (!strcmp(a, "--no-progress")) {
            o->progress = 0;
        } else if (a[0] == '-' && a[1]) {
            snprintf(err, errlen, "unknown option '%s'", a);
            return -1;
        } else if (!o->strategy) {
            o->strategy = a;
        } else {
            snprintf(err, errlen, "unexpected argument '%s' (one strategy file per run)", a);
            return -1;
        }
#undef NEED
    }
    o->params[o->nparams] = NULL;
    return 0;
}
