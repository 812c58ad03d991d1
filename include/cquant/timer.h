/*
 * timer.h - timers on the runtime's clock.
 *
 * The timer set knows no clock of its own: the runtime tells it what time it
 * is (cq_timers_run). In a backtest that is the timestamp of the next event,
 * so a timer due at t fires before any event stamped after t; live it is the
 * wall clock, driven by one libuv timer armed at cq_timers_next_due. The
 * same strategy code therefore sees the same timer semantics in both modes.
 *
 * Due timers fire in due-time order; ties in the order they were started.
 * A periodic timer is rescheduled at due + period (not now + period), so it
 * does not drift; if the clock jumped past several periods it fires once
 * and is rescheduled at the first multiple after now.
 *
 * Callbacks may start and cancel timers, themselves included. A timer
 * started from a callback fires in a later cq_timers_run even if it is
 * already due, so a callback can never make one run loop forever.
 *
 * Single-threaded; no global state. Memory: a binary heap that only grows.
 */
#ifndef CQUANT_TIMER_H
#define CQUANT_TIMER_H

#include <stddef.h>
#include <stdint.h>

typedef struct cq_timers cq_timers_t;
typedef uint64_t cq_timer_id_t;  /* >= 1, never reused */

/* now is the time the timer fired at (its due time). */
typedef void (*cq_timer_fn)(void *user, cq_timer_id_t id, int64_t now);

int cq_timers_create(cq_timers_t **out);
/* Frees everything; no callback is made. */
void cq_timers_destroy(cq_timers_t *t);

/* Start a timer due at `due` (ns), repeating every `period` ns if period >
 * 0. CQ_EINVAL (NULL, no fn, period < 0), CQ_ENOMEM. */
int cq_timer_start(cq_timers_t *t, int64_t due, int64_t period, cq_timer_fn fn, void *user,
                   cq_timer_id_t *out);
/* CQ_ENOENT if the id is not a live timer (fired one-shot, cancelled). */
int cq_timer_cancel(cq_timers_t *t, cq_timer_id_t id);

/* Due time of the earliest live timer, or INT64_MAX if none. */
int64_t cq_timers_next_due(const cq_timers_t *t);

/* Fire every timer due at or before now (see the ordering rules above).
 * Returns the number fired (>= 0). */
int cq_timers_run(cq_timers_t *t, int64_t now);

/* Live timers. */
size_t cq_timers_count(const cq_timers_t *t);

#endif
