/*
 * bench.h - helpers shared by the benchmarks in bench/.
 *
 * Each benchmark measures a function several times (CQ_BENCH_REPS) and prints
 * one JSON object per line with the median: {"name":..,"ns_per_op":..,"n":..}
 * plus "baseline_ns_per_op" where a baseline ran in the same process, or
 * "per_sec" for throughputs. The machines are shared and noisy: medians of
 * repeated runs, never a single sample.
 */
#ifndef CQ_BENCH_H
#define CQ_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CQ_BENCH_REPS 7

static inline int64_t cq_bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Keep the optimizer from deleting a computation. */
#define CQ_BENCH_USE(x) __asm__ volatile("" : : "g"(x) : "memory")
#define CQ_BENCH_BARRIER() __asm__ volatile("" : : : "memory")

static int cq_bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double cq_bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cq_bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Run fn(ctx, n) CQ_BENCH_REPS times; return the median ns per op. */
static inline double cq_bench_run(void (*fn)(void *ctx, uint64_t n), void *ctx, uint64_t n)
{
    double v[CQ_BENCH_REPS];
    fn(ctx, n / 10 + 1); /* warm-up */
    for (int r = 0; r < CQ_BENCH_REPS; r++) {
        int64_t t0 = cq_bench_now_ns();
        fn(ctx, n);
        int64_t t1 = cq_bench_now_ns();
        v[r] = (double)(t1 - t0) / (double)n;
    }
    return cq_bench_median(v, CQ_BENCH_REPS);
}

static inline void cq_bench_print(const char *name, double ns_per_op, uint64_t n, double baseline)
{
    if (baseline > 0)
        printf("{\"name\":\"%s\",\"ns_per_op\":%.3f,\"n\":%llu,\"baseline_ns_per_op\":%.3f,\"ratio\":%.3f}\n",
               name, ns_per_op, (unsigned long long)n, baseline, ns_per_op / baseline);
    else
        printf("{\"name\":\"%s\",\"ns_per_op\":%.3f,\"n\":%llu}\n", name, ns_per_op, (unsigned long long)n);
    fflush(stdout);
}

static inline void cq_bench_print_rate(const char *name, double ns_per_op, uint64_t n)
{
    printf("{\"name\":\"%s\",\"ns_per_op\":%.3f,\"per_sec\":%.0f,\"n\":%llu}\n", name, ns_per_op,
           ns_per_op > 0 ? 1e9 / ns_per_op : 0.0, (unsigned long long)n);
    fflush(stdout);
}

#endif
