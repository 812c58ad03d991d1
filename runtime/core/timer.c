/*
 * timer.c - timers on the runtime's clock: a binary min-heap of
 * (due, sequence) with lazy cancellation.
 *
 * It owns the heap and a small open-addressing set of live timer ids. A
 * cancelled timer stays in the heap as a dead entry and is dropped when it
 * reaches the top: cancel is O(1) and the heap never needs an index per
 * timer. The price is memory for dead entries until they come due; the
 * heap is compacted when more than half of it is dead.
 *
 * Ordering: (due, seq) where seq increases with every start or reschedule,
 * so ties fire in the order they were scheduled. A run fires only entries
 * with seq below the value at its start: timers started or rescheduled by a
 * callback wait for the next run, so a run always ends.
 *
 * Never calls a callback with the heap in an inconsistent state: the entry
 * is popped (and a periodic one pushed back) before its callback runs.
 */
#include <stdlib.h>
#include <string.h>

#include "cquant/error.h"
#include "cquant/timer.h"

typedef struct tentry {
    int64_t due;
    uint64_t seq;
    cq_timer_id_t id;
    int64_t period;
    cq_timer_fn fn;
    void *user;
} tentry_t;

struct cq_timers {
    tentry_t *heap;
    size_t n, cap;
    size_t live;
    int top_live;               /* heap[0] is known live: skip_dead has nothing to do */
    uint64_t next_seq;
    cq_timer_id_t next_id;
    /* live ids: open addressing, 0 = empty, UINT64_MAX = deleted */
    cq_timer_id_t *ids;
    size_t ids_cap, ids_used;
};

#define ID_TOMB UINT64_MAX

static size_t id_hash(cq_timer_id_t id, size_t cap)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 17) & (cap - 1);
}

static long id_find(const cq_timers_t *t, cq_timer_id_t id)
{
    if (!t->ids_cap)
        return -1;
    for (size_t i = id_hash(id, t->ids_cap), k = 0; k < t->ids_cap; i = (i + 1) & (t->ids_cap - 1), k++) {
        if (t->ids[i] == 0)
            return -1;
        if (t->ids[i] == id)
            return (long)i;
    }
    return -1;
}

static int id_rehash(cq_timers_t *t, size_t cap)
{
    cq_timer_id_t *n = calloc(cap, sizeof *n);
    if (!n)
        return CQ_ENOMEM;
    for (size_t i = 0; i < t->ids_cap; i++) {
        cq_timer_id_t id = t->ids[i];
        if (id && id != ID_TOMB) {
            size_t j = id_hash(id, cap);
            while (n[j])
                j = (j + 1) & (cap - 1);
            n[j] = id;
        }
    }
    free(t->ids);
    t->ids = n;
    t->ids_cap = cap;
    t->ids_used = t->live;
    return 0;
}

static int id_add(cq_timers_t *t, cq_timer_id_t id)
{
    if ((t->ids_used + 1) * 2 > t->ids_cap) {
        size_t cap = 16;
        while ((t->live + 1) * 4 > cap) /* at most a quarter full after a rehash */
            cap *= 2;
        int rc = id_rehash(t, cap);
        if (rc)
            return rc;
    }
    size_t i = id_hash(id, t->ids_cap);
    while (t->ids[i] && t->ids[i] != ID_TOMB)
        i = (i + 1) & (t->ids_cap - 1);
    if (!t->ids[i])
        t->ids_used++;
    t->ids[i] = id;
    return 0;
}

static void id_del(cq_timers_t *t, long slot) { t->ids[slot] = ID_TOMB; }

static int before(const tentry_t *a, const tentry_t *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void sift_up(tentry_t *h, size_t i)
{
    tentry_t e = h[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&e, &h[p]))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = e;
}

static void sift_down(tentry_t *h, size_t n, size_t i)
{
    tentry_t e = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(&h[c + 1], &h[c]))
            c++;
        if (!before(&h[c], &e))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = e;
}

static int heap_push(cq_timers_t *t, const tentry_t *e)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        tentry_t *h = realloc(t->heap, cap * sizeof *h);
        if (!h)
            return CQ_ENOMEM;
        t->heap = h;
        t->cap = cap;
    }
    t->heap[t->n] = *e;
    sift_up(t->heap, t->n++);
    if (t->heap[0].seq == e->seq) /* the new entry, live, is on top */
        t->top_live = 1;
    return 0;
}

static void heap_pop(cq_timers_t *t)
{
    t->heap[0] = t->heap[--t->n];
    t->top_live = 0;
    if (t->n)
        sift_down(t->heap, t->n, 0);
}

/* Drop dead entries from the top so heap[0], if any, is live. The driver
 * asks for the next due time before every event, so a top already found
 * live is remembered (top_live) instead of looked up again. */
static void skip_dead(cq_timers_t *t)
{
    if (t->top_live)
        return;
    while (t->n && id_find(t, t->heap[0].id) < 0)
        heap_pop(t);
    t->top_live = t->n > 0;
}

/* Rebuild the heap without dead entries (when most of it is dead). */
static void compact(cq_timers_t *t)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++)
        if (id_find(t, t->heap[i].id) >= 0)
            t->heap[k++] = t->heap[i];
    t->n = k;
    t->top_live = 0;
    for (size_t i = k / 2; i-- > 0;)
        sift_down(t->heap, t->n, i);
}

int cq_timers_create(cq_timers_t **out)
{
    if (!out)
        return CQ_EINVAL;
    cq_timers_t *t = calloc(1, sizeof *t);
    if (!t)
        return CQ_ENOMEM;
    t->next_id = 1;
    *out = t;
    return 0;
}

void cq_timers_destroy(cq_timers_t *t)
{
    if (!t)
        return;
    free(t->heap);
    free(t->ids);
    free(t);
}

int cq_timer_start(cq_timers_t *t, int64_t due, int64_t period, cq_timer_fn fn, void *user,
                   cq_timer_id_t *out)
{
    if (!t || !fn || period < 0)
        return CQ_EINVAL;
    tentry_t e = {.due = due, .seq = t->next_seq++, .id = t->next_id, .period = period, .fn = fn,
                  .user = user};
    int rc = id_add(t, e.id);
    if (rc)
        return rc;
    rc = heap_push(t, &e);
    if (rc) {
        id_del(t, id_find(t, e.id));
        return rc;
    }
    t->next_id++;
    t->live++;
    if (out)
        *out = e.id;
    return 0;
}

int cq_timer_cancel(cq_timers_t *t, cq_timer_id_t id)
{
    if (!t)
        return CQ_EINVAL;
    long slot = id_find(t, id);
    if (slot < 0)
        return CQ_ENOENT;
    id_del(t, slot);
    t->top_live = 0; /* it may have been the top */
    t->live--;
    if (t->n > 64 && t->live < t->n / 2)
        compact(t);
    return 0;
}

int64_t cq_timers_next_due(const cq_timers_t *t)
{
    if (!t)
        return INT64_MAX;
    skip_dead((cq_timers_t *)t); /* logically const: only drops dead entries */
    return t->n ? t->heap[0].due : INT64_MAX;
}

int cq_timers_run(cq_timers_t *t, int64_t now)
{
    if (!t)
        return CQ_EINVAL;
    uint64_t limit = t->next_seq;
    int fired = 0;
    for (;;) {
        skip_dead(t);
        if (!t->n || t->heap[0].due > now || t->heap[0].seq >= limit)
            break;
        tentry_t e = t->heap[0];
        heap_pop(t);
        if (e.period > 0) {
            tentry_t again = e;
            again.due = e.due + e.period;
            if (again.due <= now) /* the clock jumped: first multiple after now */
                again.due = e.due + ((now - e.due) / e.period + 1) * e.period;
            again.seq = t->next_seq++;
            if (heap_push(t, &again) != 0) {
                /* cannot reschedule: the timer ends here rather than vanish silently later */
                id_del(t, id_find(t, e.id));
                t->live--;
            }
        } else {
            id_del(t, id_find(t, e.id));
            t->live--;
        }
        fired++;
        e.fn(e.user, e.id, e.due);
    }
    return fired;
}

size_t cq_timers_count(const cq_timers_t *t) { return t ? t->live : 0; }
