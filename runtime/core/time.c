/*
 * time.c - the two OS clocks, in nanoseconds. Only the runtime clock and
 * measurements call these; engines and strategies read the runtime's clock.
 */
#include <time.h>

#include "cquant/time.h"

static cq_time_t ts_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (cq_time_t)ts.tv_sec * CQ_NS_PER_SEC + ts.tv_nsec;
}

cq_time_t cq_time_wall_ns(void) { return ts_ns(CLOCK_REALTIME); }
cq_time_t cq_time_mono_ns(void) { return ts_ns(CLOCK_MONOTONIC); }
