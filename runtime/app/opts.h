/*
 * opts.h - command-line options shared by `run`, `backtest` and `demo`:
 * the simulated venue's latencies and fees, balances, strategy parameters,
 * the journal. Parsing never exits: errors come back as a one-line message
 * and the command exits 2.
 */
#ifndef CQ_APP_OPTS_H
#define CQ_APP_OPTS_H

#include <stddef.h>
#include <stdint.h>

#define CQ_OPTS_MAX 64

typedef struct cq_opts {
    const char *strategy;          /* the STRATEGY.lua positional argument */
    const char *data[CQ_OPTS_MAX]; /* --data */
    size_t ndata;
    const char *params[CQ_OPTS_MAX + 1]; /* --param k=v, NULL-terminated */
    size_t nparams;
    const char *balances[CQ_OPTS_MAX];   /* --balance ASSET=AMOUNT */
    size_t nbalances;
    double latency_ms;             /* --latency-ms: order and report latency (-1 = unset) */
    double maker_bps, taker_bps;   /* --fees maker=..,taker=.. (bps) */
    uint64_t seed;                 /* --seed */
    const char *journal;           /* --journal FILE */
    int no_journal;                /* --no-journal */
    const char *out;               /* --out DIR */
    const char *instrument;        /* --instrument ID (report / equity) */
    const char *venue;             /* --venue (run: only "sim") */
    const char *sort;              /* --sort METRIC (sweeps) */
    int jobs;                      /* -j N */
    double sample_s;               /* --sample SECONDS (equity sampling) */
    double duration_s;             /* --duration SECONDS (run) */
    double minutes;                /* --minutes (generated data) */
    int watch;                     /* --watch / --no-watch */
    int quiet;                     /* --quiet */
    int progress;                  /* -1 auto (a terminal), 0 off, 1 on */
    uint32_t max_errors;           /* --max-errors */
    int cancel_on_stop;            /* --cancel-on-stop */
} cq_opts_t;

void cq_opts_init(cq_opts_t *o);
/* Parse argv[1..argc) (argv[0] is the command). Returns 0, or -1 with a
 * message in err. */
int cq_opts_parse(cq_opts_t *o, int argc, char **argv, char *err, size_t errlen);
/* A number with nothing after it; -1 if not. */
int cq_opts_number(const char *s, double *out);

#endif
