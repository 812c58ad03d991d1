/*
 * test_timer.c - timers on the runtime clock: order, periods, cancel,
 * re-entrancy.
 */
#include <stdint.h>
#include <string.h>

#include "cquant/error.h"
#include "cquant/timer.h"
#include "support/cq_test.h"

typedef struct log_s {
    int n;
    cq_timer_id_t ids[64];
    int64_t at[64];
    cq_timers_t *t;
    cq_timer_id_t cancel; /* cancel this id from the callback */
    int restart;          /* start a due-now timer from the callback */
} log_t;

static void rec(void *user, cq_timer_id_t id, int64_t now)
{
    log_t *l = user;
    if (l->n < 64) {
        l->ids[l->n] = id;
        l->at[l->n] = now;
    }
    l->n++;
    if (l->cancel)
        cq_timer_cancel(l->t, l->cancel);
    if (l->restart) {
        l->restart = 0;
        cq_timer_start(l->t, 0, 0, rec, l, NULL);
    }
}

START_TEST(test_timer_fires_in_due_order_ties_in_start_order)
{
    cq_timers_t *t;
    ck_assert_int_eq(cq_timers_create(&t), 0);
    log_t l = {.t = t};
    cq_timer_id_t a, b, c;
    ck_assert_int_eq(cq_timer_start(t, 300, 0, rec, &l, &a), 0);
    ck_assert_int_eq(cq_timer_start(t, 100, 0, rec, &l, &b), 0);
    ck_assert_int_eq(cq_timer_start(t, 300, 0, rec, &l, &c), 0);
    ck_assert_int_eq(cq_timers_next_due(t), 100);
    ck_assert_int_eq(cq_timers_run(t, 99), 0);
    ck_assert_int_eq(cq_timers_run(t, 300), 3);
    ck_assert_int_eq(l.n, 3);
    ck_assert(l.ids[0] == b && l.ids[1] == a && l.ids[2] == c);
    ck_assert_int_eq(l.at[0], 100);
    ck_assert_int_eq(cq_timers_count(t), 0);
    ck_assert_int_eq(cq_timers_next_due(t), INT64_MAX);
    cq_timers_destroy(t);
}
END_TEST

START_TEST(test_timer_periodic_does_not_drift_and_skips_missed_periods)
{
    cq_timers_t *t;
    ck_assert_int_eq(cq_timers_create(&t), 0);
    log_t l = {.t = t};
    cq_timer_id_t id;
    ck_assert_int_eq(cq_timer_start(t, 1000, 1000, rec, &l, &id), 0);
    ck_assert_int_eq(cq_timers_run(t, 1500), 1);
    ck_assert_int_eq(cq_timers_next_due(t), 2000);
    ck_assert_int_eq(cq_timers_run(t, 2000), 1);
    /* the clock jumps 5.5 periods: fires once, next due is the first multiple after now */
    ck_assert_int_eq(cq_timers_run(t, 7500), 1);
    ck_assert_int_eq(cq_timers_next_due(t), 8000);
    ck_assert_int_eq(cq_timers_count(t), 1);
    ck_assert_int_eq(cq_timer_cancel(t, id), 0);
    ck_assert_int_eq(cq_timers_run(t, 100000), 0);
    ck_assert_int_eq(cq_timer_cancel(t, id), CQ_ENOENT);
    cq_timers_destroy(t);
}
END_TEST

START_TEST(test_timer_cancel_from_callback_and_start_from_callback_waits)
{
    cq_timers_t *t;
    ck_assert_int_eq(cq_timers_create(&t), 0);
    log_t l = {.t = t};
    cq_timer_id_t a, b;
    ck_assert_int_eq(cq_timer_start(t, 10, 0, rec, &l, &a), 0);
    ck_assert_int_eq(cq_timer_start(t, 20, 0, rec, &l, &b), 0);
    l.cancel = b;   /* a's callback cancels b */
    l.restart = 1;  /* and starts a timer already due */
    ck_assert_int_eq(cq_timers_run(t, 100), 1);
    ck_assert_int_eq(l.n, 1);
    l.cancel = 0;
    ck_assert_int_eq(cq_timers_count(t), 1);
    ck_assert_int_eq(cq_timers_run(t, 100), 1); /* the restarted one, next run */
    ck_assert_int_eq(l.n, 2);
    cq_timers_destroy(t);
}
END_TEST

START_TEST(test_timer_periodic_cancelling_itself_stops)
{
    cq_timers_t *t;
    ck_assert_int_eq(cq_timers_create(&t), 0);
    log_t l = {.t = t};
    cq_timer_id_t id;
    ck_assert_int_eq(cq_timer_start(t, 1, 1, rec, &l, &id), 0);
    l.cancel = id;
    ck_assert_int_eq(cq_timers_run(t, 1), 1);
    ck_assert_int_eq(cq_timers_count(t), 0);
    ck_assert_int_eq(cq_timers_run(t, 1000), 0);
    cq_timers_destroy(t);
}
END_TEST

START_TEST(test_timer_bad_arguments)
{
    cq_timers_t *t;
    ck_assert_int_eq(cq_timers_create(NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_timers_create(&t), 0);
    ck_assert_int_eq(cq_timer_start(t, 1, 0, NULL, NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_timer_start(t, 1, -1, rec, NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_timer_start(NULL, 1, 0, rec, NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_timer_cancel(t, 0), CQ_ENOENT);
    ck_assert_int_eq(cq_timer_cancel(t, 12345), CQ_ENOENT);
    ck_assert_int_eq(cq_timers_run(NULL, 0), CQ_EINVAL);
    ck_assert_int_eq(cq_timers_next_due(NULL), INT64_MAX);
    cq_timers_destroy(t);
    cq_timers_destroy(NULL);
}
END_TEST

static void nop(void *u, cq_timer_id_t id, int64_t now)
{
    (void)id;
    int64_t *last = u;
    if (now < *last)
        *last = INT64_MIN; /* out of order */
    else if (*last != INT64_MIN)
        *last = now;
}

/* Randomized: many starts and cancels; every live timer fires exactly once,
 * in due order; cancelled ones never. */
START_TEST(test_timer_random_against_model)
{
    cq_timers_t *t;
    ck_assert_int_eq(cq_timers_create(&t), 0);
    cq_rng_t r = {0x1234567};
    enum { N = 20000 };
    static cq_timer_id_t ids[N];
    static int cancelled[N];
    int64_t last = INT64_MIN + 1;
    size_t live = 0;
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(cq_timer_start(t, (int64_t)cq_rng_below(&r, 1000000), 0, nop, &last, &ids[i]), 0);
        live++;
        if (i > 0 && cq_rng_below(&r, 3) == 0) {
            int k = (int)cq_rng_below(&r, (unsigned)i);
            int rc = cq_timer_cancel(t, ids[k]);
            if (!cancelled[k]) {
                if (rc != 0)
                    ck_abort_msg("cancel of a live timer failed");
                cancelled[k] = 1;
                live--;
            } else if (rc != CQ_ENOENT) {
                ck_abort_msg("second cancel did not say ENOENT");
            }
        }
    }
    ck_assert_uint_eq(cq_timers_count(t), live);
    int fired = cq_timers_run(t, 2000000);
    ck_assert_int_eq(fired, (int)live);
    ck_assert(last != INT64_MIN);
    ck_assert_uint_eq(cq_timers_count(t), 0);
    cq_timers_destroy(t);
}
END_TEST

/* The model of the next test: live one-shot timers in a plain array. */
typedef struct model_timer {
    cq_timer_id_t id;
    int64_t due;
    int fired;
} model_timer_t;

static void count_fire(void *u, cq_timer_id_t id, int64_t now)
{
    (void)now;
    model_timer_t *m = u;
    m->fired++;
    (void)id;
}

/* next_due is asked before every event by the runtime and remembers a top
 * it found live; cancelling that top, starting an earlier timer and firing
 * must all show in the next answer. Interleaved start / cancel (often the
 * top) / next_due / run, checked against the plain array every step. */
START_TEST(test_timer_next_due_follows_cancels_of_the_top)
{
    enum { N = 4000 };
    static model_timer_t m[N];
    cq_timers_t *t;
    ck_assert_int_eq(cq_timers_create(&t), 0);
    cq_rng_t r = {0xC0FFEE};
    size_t n = 0;
    int64_t now = 0;
    for (int step = 0; step < 40000; step++) {
        unsigned op = cq_rng_below(&r, 10);
        if (op < 4 && n < N) {
            m[n].due = now + (int64_t)cq_rng_below(&r, 1000);
            m[n].fired = 0;
            if (cq_timer_start(t, m[n].due, 0, count_fire, &m[n], &m[n].id) != 0)
                ck_abort_msg("start failed");
            n++;
        } else if (op < 7 && n) {
            /* cancel the earliest live timer (the top) or a random one */
            size_t k = n;
            for (size_t i = 0; i < n; i++)
                if (m[i].id && (k == n || m[i].due < m[k].due))
                    k = i;
            if (cq_rng_below(&r, 2))
                k = cq_rng_below(&r, (unsigned)n);
            if (m[k].id) {
                if (cq_timer_cancel(t, m[k].id) != 0)
                    ck_abort_msg("cancel of a live timer failed");
                m[k].id = 0;
            }
        } else if (op < 9) {
            now += (int64_t)cq_rng_below(&r, 300);
            cq_timers_run(t, now);
            for (size_t i = 0; i < n; i++) {
                if (m[i].id && m[i].due <= now) {
                    if (m[i].fired != 1)
                        ck_abort_msg("step %d: timer due %lld not fired", step, (long long)m[i].due);
                    m[i].id = 0;
                } else if (m[i].id && m[i].fired) {
                    ck_abort_msg("step %d: timer fired early", step);
                }
            }
        }
        int64_t want = INT64_MAX;
        for (size_t i = 0; i < n; i++)
            if (m[i].id && m[i].due < want)
                want = m[i].due;
        if (cq_timers_next_due(t) != want)
            ck_abort_msg("step %d: next_due %lld, model %lld", step, (long long)cq_timers_next_due(t),
                         (long long)want);
        if (n == N) { /* start over with the same timers object */
            for (size_t i = 0; i < n; i++)
                if (m[i].id)
                    cq_timer_cancel(t, m[i].id);
            n = 0;
        }
    }
    cq_timers_destroy(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timer");
    TCase *tc = tcase_create("timer");
    tcase_add_test(tc, test_timer_fires_in_due_order_ties_in_start_order);
    tcase_add_test(tc, test_timer_periodic_does_not_drift_and_skips_missed_periods);
    tcase_add_test(tc, test_timer_cancel_from_callback_and_start_from_callback_waits);
    tcase_add_test(tc, test_timer_periodic_cancelling_itself_stops);
    tcase_add_test(tc, test_timer_bad_arguments);
    tcase_add_test(tc, test_timer_random_against_model);
    tcase_add_test(tc, test_timer_next_due_follows_cancels_of_the_top);
    suite_add_tcase(s, tc);
    return cq_test_run(s);
}
