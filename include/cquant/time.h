/*
 * time.h - time in cquant: int64_t nanoseconds since the Unix epoch,
 * everywhere (events, orders, timers, files).
 */
#ifndef CQUANT_TIME_H
#define CQUANT_TIME_H

#include <stdint.h>

typedef int64_t cq_time_t; /* ns since 1970-01-01T00:00:00Z */

#define CQ_NS_PER_US  INT64_C(1000)
#define CQ_NS_PER_MS  INT64_C(1000000)
#define CQ_NS_PER_SEC INT64_C(1000000000)

/* Wall clock (CLOCK_REALTIME) in ns. Only the runtime clock calls this;
 * strategies and engines read time from the runtime. */
cq_time_t cq_time_wall_ns(void);

/* Monotonic clock (CLOCK_MONOTONIC) in ns, for measuring intervals. */
cq_time_t cq_time_mono_ns(void);

#endif
