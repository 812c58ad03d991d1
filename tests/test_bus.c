/*
 * test_bus.c - the message bus: pattern matching, publish/subscribe order,
 * re-entrancy, the per-topic handler cache (against a naive reference),
 * request/response, send, and bad input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cquant/bus.h"
#include "cquant/error.h"
#include "support/cq_test.h"

/* --- helpers ---------------------------------------------------------------- */

static cq_bus_t *new_bus(void)
{
    cq_bus_t *bus = NULL;
    ck_assert_int_eq(cq_bus_create(&bus), 0);
    ck_assert_ptr_nonnull(bus);
    return bus;
}

static cq_topic_t topic(cq_bus_t *bus, const char *name)
{
    cq_topic_t t = 0;
    ck_assert_int_eq(cq_bus_topic(bus, name, &t), 0);
    return t;
}

/* A log of handler calls: each recording handler appends its tag. */
typedef struct calllog {
    char s[256];
    int n;
} calllog_t;

typedef struct rec {
    calllog_t *log;
    char tag;
    cq_topic_t last_topic;
    const void *last_msg;
} rec_t;

static void rec_handler(void *user, cq_topic_t t, const void *msg)
{
    rec_t *r = user;
    r->last_topic = t;
    r->last_msg = msg;
    if (r->log->n < (int)sizeof r->log->s - 1)
        r->log->s[r->log->n++] = r->tag;
    r->log->s[r->log->n] = '\0';
}

static cq_sub_t sub(cq_bus_t *bus, const char *pattern, int prio, rec_t *r)
{
    cq_sub_t id = 0;
    ck_assert_int_eq(cq_bus_subscribe(bus, pattern, prio, rec_handler, r, &id), 0);
    ck_assert(id >= 1);
    return id;
}

static void noop_handler(void *user, cq_topic_t t, const void *msg) { (void)user; (void)t; (void)msg; }

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Reference matcher: the definition, written recursively. Only for the
 * short strings of the tests. */
static int ref_match(const char *p, const char *t)
{
    if (*p == '\0')
        return *t == '\0';
    if (*p == '*')
        return ref_match(p + 1, t) || (*t && ref_match(p, t + 1));
    if (*t && (*p == '?' || *p == *t))
        return ref_match(p + 1, t + 1);
    return 0;
}

/* --- pattern matching ------------------------------------------------------ */

static const struct {
    const char *pattern, *text;
    int want;
} pattern_cases[] = {
    { "", "", 1 },
    { "", "a", 0 },
    { "a", "", 0 },
    { "*", "", 1 },
    { "*", "abc", 1 },
    { "*", "a.b.c", 1 },
    { "**", "", 1 },
    { "**", "ab", 1 },
    { "***", "x.y", 1 },
    { "?", "", 0 },
    { "?", "a", 1 },
    { "?", ".", 1 },
    { "?", "ab", 0 },
    { "???", "abc", 1 },
    { "???", "ab", 0 },
    { "???", "abcd", 0 },
    { "?*", "", 0 },
    { "?*", "a", 1 },
    { "*?", "", 0 },
    { "*?", "abc", 1 },
    { "?bc", "abc", 1 },
    { "?bc", "bc", 0 },
    { "ab?", "abc", 1 },
    { "ab?", "ab", 0 },
    { "?b?", "xbx", 1 },
    { "?b?", "bb", 0 },
    { "abc", "abc", 1 },
    { "abc", "ABC", 0 },
    { "a.b", "a.b", 1 },
    { "a.b", "a.c", 0 },
    { "a.b", "a.b.c", 0 },
    { "a.b", "a.", 0 },
    { "a.*", "a.b.c", 1 },
    { "a.*", "a.", 1 },
    { "a.*", "a", 0 },
    { "a.?", "a.b", 1 },
    { "a.?", "a.bc", 0 },
    { "*.b", "a.b", 1 },
    { "*.b", "ab", 0 },
    { "data.trades.*", "data.trades.BINANCE.BTCUSDT", 1 },
    { "data.trades.*", "data.quotes.BINANCE.BTCUSDT", 0 },
    { "data.trades.*", "data.trades", 0 },
    { "data.*.BINANCE.*", "data.trades.BINANCE.BTCUSDT", 1 },
    { "data.*.BINANCE.*", "data.trades.KRAKEN.BTCUSDT", 0 },
    { "*.BTCUSDT", "data.trades.BINANCE.BTCUSDT", 1 },
    { "*.BTCUSDT", "data.trades.BINANCE.BTCUSDTX", 0 },
    { "events.*.S?", "events.fill.S1", 1 },
    { "events.*.S?", "events.fill.S12", 0 },
    { "a*b*c", "aXbYbZc", 1 },
    { "a*b*c", "aXbYbZ", 0 },
    { "a*b*c", "abc", 1 },
    { "a*b*c", "acb", 0 },
    { "a*bc", "abcbc", 1 },
    { "a*bc", "abcbd", 0 },
    { "*ab", "aab", 1 },
    { "*aab", "aaab", 1 },
    { "a*", "a", 1 },
    { "*a", "ba", 1 },
    { "*a", "ab", 0 },
    { "a?c*", "abcdef", 1 },
    { "*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
    { "*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 1 },
    { "*?*?*", "a", 0 },
    { "*?*?*", "ab", 1 },
    { "*", "*", 1 },
    { "?", "?", 1 },
    { "a*", "a*", 1 },
    { "x*", "*", 0 },
};

START_TEST(test_pattern_table)
{
    size_t n = sizeof pattern_cases / sizeof pattern_cases[0];
    ck_assert(n >= 40);
    for (size_t i = 0; i < n; i++) {
        int got = cq_pattern_match(pattern_cases[i].pattern, pattern_cases[i].text);
        ck_assert_msg(got == pattern_cases[i].want, "case %zu: '%s' vs '%s': got %d want %d", i,
                      pattern_cases[i].pattern, pattern_cases[i].text, got, pattern_cases[i].want);
        /* The table itself is checked against the definition. */
        ck_assert_int_eq(ref_match(pattern_cases[i].pattern, pattern_cases[i].text),
                         pattern_cases[i].want);
    }
}
END_TEST

START_TEST(test_pattern_null_never_matches)
{
    ck_assert_int_eq(cq_pattern_match(NULL, "a"), 0);
    ck_assert_int_eq(cq_pattern_match("*", NULL), 0);
    ck_assert_int_eq(cq_pattern_match(NULL, NULL), 0);
}
END_TEST

START_TEST(test_pattern_long_strings_up_to_limit)
{
    char *q255 = repeat('?', CQ_BUS_TOPIC_MAX);
    char *a255 = repeat('a', CQ_BUS_TOPIC_MAX);
    char *a254 = repeat('a', CQ_BUS_TOPIC_MAX - 1);
    char *star = repeat('a', CQ_BUS_TOPIC_MAX);
    star[0] = '*';
    ck_assert_int_eq(cq_pattern_match(q255, a255), 1);
    ck_assert_int_eq(cq_pattern_match(q255, a254), 0);
    ck_assert_int_eq(cq_pattern_match(star, a255), 1);   /* '*' takes one 'a' */
    ck_assert_int_eq(cq_pattern_match(star, a254), 1);   /* '*' takes nothing */
    /* Worst case for backtracking: "*a*a*...*a*b" against a run of 'a'. */
    char *hostile = malloc(CQ_BUS_TOPIC_MAX + 1);
    ck_assert_ptr_nonnull(hostile);
    size_t k = 0;
    while (k + 2 < CQ_BUS_TOPIC_MAX) {
        hostile[k++] = '*';
        hostile[k++] = 'a';
    }
    hostile[k++] = 'b';
    hostile[k] = '\0';
    ck_assert_int_eq(cq_pattern_match(hostile, a255), 0);
    free(q255);
    free(a255);
    free(a254);
    free(star);
    free(hostile);
}
END_TEST

START_TEST(test_pattern_over_limit_never_matches)
{
    char *a256 = repeat('a', CQ_BUS_TOPIC_MAX + 1);
    ck_assert_int_eq(cq_pattern_match("*", a256), 0);
    ck_assert_int_eq(cq_pattern_match(a256, a256), 0);
    free(a256);
}
END_TEST

START_TEST(test_pattern_agrees_with_recursive_definition)
{
    static const char alpha[] = "ab.*?";
    cq_rng_t rng = { 0x9e3779b97f4a7c15ULL };
    char p[9], t[9];
    for (int i = 0; i < 50000; i++) {
        int pl = (int)cq_rng_below(&rng, 8), tl = (int)cq_rng_below(&rng, 8);
        for (int k = 0; k < pl; k++)
            p[k] = alpha[cq_rng_below(&rng, 5)];
        for (int k = 0; k < tl; k++)
            t[k] = alpha[cq_rng_below(&rng, 3)];
        p[pl] = t[tl] = '\0';
        if (cq_pattern_match(p, t) != ref_match(p, t))
            ck_abort_msg("'%s' vs '%s'", p, t);
    }
}
END_TEST

/* --- topics ---------------------------------------------------------------- */

START_TEST(test_bus_topic_handles_are_dense_from_one_and_stable)
{
    cq_bus_t *bus = new_bus();
    ck_assert_uint_eq(topic(bus, "data.trades.BINANCE.BTCUSDT"), 1);
    ck_assert_uint_eq(topic(bus, "data.quotes.BINANCE.BTCUSDT"), 2);
    ck_assert_uint_eq(topic(bus, "data.trades.BINANCE.BTCUSDT"), 1);
    ck_assert_str_eq(cq_bus_topic_name(bus, 2), "data.quotes.BINANCE.BTCUSDT");
    ck_assert_ptr_null(cq_bus_topic_name(bus, 0));
    ck_assert_ptr_null(cq_bus_topic_name(bus, 3));
    ck_assert_ptr_null(cq_bus_topic_name(NULL, 1));
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_topic_many_names_keep_their_handles)
{
    cq_bus_t *bus = new_bus();
    char name[32];
    for (unsigned i = 1; i <= 2000; i++) {
        snprintf(name, sizeof name, "t.%u", i);
        ck_assert_uint_eq(topic(bus, name), i);
    }
    for (unsigned i = 1; i <= 2000; i++) {
        snprintf(name, sizeof name, "t.%u", i);
        ck_assert_uint_eq(topic(bus, name), i);
        ck_assert_str_eq(cq_bus_topic_name(bus, i), name);
    }
    cq_bus_stats_t st;
    cq_bus_stats(bus, &st);
    ck_assert_uint_eq(st.topics, 2000);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_topic_bad_names_give_error_codes)
{
    cq_bus_t *bus = new_bus();
    cq_topic_t t = 77;
    char *a255 = repeat('a', CQ_BUS_TOPIC_MAX);
    char *a256 = repeat('a', CQ_BUS_TOPIC_MAX + 1);
    ck_assert_int_eq(cq_bus_topic(NULL, "a", &t), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_topic(bus, NULL, &t), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_topic(bus, "", &t), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_topic(bus, a256, &t), CQ_ETOOLONG);
    ck_assert_int_eq(cq_bus_topic(bus, "data.trades.*", &t), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_topic(bus, "data.?", &t), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_topic(bus, "*", &t), CQ_EINVAL);
    ck_assert_uint_eq(t, 77);
    ck_assert_int_eq(cq_bus_topic(bus, a255, &t), 0);
    ck_assert_uint_eq(t, 1);
    ck_assert_int_eq(cq_bus_topic(bus, "x", NULL), 0);
    cq_bus_stats_t st;
    cq_bus_stats(bus, &st);
    ck_assert_uint_eq(st.topics, 2);
    free(a255);
    free(a256);
    cq_bus_destroy(bus);
}
END_TEST

/* --- publish / subscribe --------------------------------------------------- */

START_TEST(test_bus_publish_reaches_matching_subscribers_only)
{
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    rec_t a = { &log, 'a', 0, NULL }, b = { &log, 'b', 0, NULL }, c = { &log, 'c', 0, NULL };
    sub(bus, "data.trades.*", 0, &a);
    sub(bus, "data.quotes.*", 0, &b);
    sub(bus, "*.BTCUSDT", 0, &c);
    cq_topic_t tr = topic(bus, "data.trades.BINANCE.BTCUSDT");
    int x = 42;
    ck_assert_int_eq(cq_bus_publish(bus, tr, &x), 2);
    ck_assert_str_eq(log.s, "ac");
    ck_assert_uint_eq(a.last_topic, tr);
    ck_assert_ptr_eq(a.last_msg, &x);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_publish_without_subscribers_returns_zero)
{
    cq_bus_t *bus = new_bus();
    cq_topic_t t = topic(bus, "a.b");
    ck_assert_int_eq(cq_bus_publish(bus, t, NULL), 0);
    ck_assert_int_eq(cq_bus_handler_count(bus, t), 0);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_publish_unknown_handle_enoent)
{
    cq_bus_t *bus = new_bus();
    cq_topic_t t = topic(bus, "a.b");
    ck_assert_int_eq(cq_bus_publish(bus, 0, NULL), CQ_ENOENT);
    ck_assert_int_eq(cq_bus_publish(bus, t + 1, NULL), CQ_ENOENT);
    ck_assert_int_eq(cq_bus_publish(bus, UINT32_MAX, NULL), CQ_ENOENT);
    ck_assert_int_eq(cq_bus_handler_count(bus, 0), CQ_ENOENT);
    ck_assert_int_eq(cq_bus_handler_count(bus, t + 1), CQ_ENOENT);
    ck_assert_int_eq(cq_bus_publish(NULL, t, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_handler_count(NULL, t), CQ_EINVAL);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_higher_priority_runs_first)
{
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    rec_t lo = { &log, 'l', 0, NULL }, mid = { &log, 'm', 0, NULL }, hi = { &log, 'h', 0, NULL },
          neg = { &log, 'n', 0, NULL };
    cq_topic_t t = topic(bus, "x.y");
    sub(bus, "x.*", -5, &neg);
    sub(bus, "x.y", 1, &lo);
    sub(bus, "*", 100, &hi);
    sub(bus, "?.y", 50, &mid);
    ck_assert_int_eq(cq_bus_publish(bus, t, NULL), 4);
    ck_assert_str_eq(log.s, "hmln");
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_equal_priorities_run_in_subscription_order)
{
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    rec_t r[6];
    for (int i = 0; i < 6; i++)
        r[i] = (rec_t){ &log, (char)('0' + i), 0, NULL };
    cq_topic_t t = topic(bus, "x.y");
    sub(bus, "x.y", 0, &r[0]);
    sub(bus, "*", 7, &r[1]);
    sub(bus, "x.?", 0, &r[2]);
    sub(bus, "x.*", 7, &r[3]);
    sub(bus, "*y", 0, &r[4]);
    sub(bus, "x*", 7, &r[5]);
    cq_bus_publish(bus, t, NULL);
    ck_assert_str_eq(log.s, "135024");
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_topic_interned_after_subscribe_gets_same_order)
{
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    rec_t r[4];
    for (int i = 0; i < 4; i++)
        r[i] = (rec_t){ &log, (char)('0' + i), 0, NULL };
    sub(bus, "x.*", 0, &r[0]);
    sub(bus, "*", 3, &r[1]);
    sub(bus, "z.*", 9, &r[2]); /* does not match */
    sub(bus, "x.??", 0, &r[3]);
    cq_topic_t t = topic(bus, "x.yz");
    ck_assert_int_eq(cq_bus_handler_count(bus, t), 3);
    ck_assert_int_eq(cq_bus_publish(bus, t, NULL), 3);
    ck_assert_str_eq(log.s, "103");
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_unsubscribe_stops_delivery)
{
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    rec_t a = { &log, 'a', 0, NULL }, b = { &log, 'b', 0, NULL };
    cq_topic_t t = topic(bus, "x.y");
    cq_sub_t sa = sub(bus, "x.*", 0, &a);
    sub(bus, "x.y", 0, &b);
    ck_assert_int_eq(cq_bus_unsubscribe(bus, sa), 0);
    ck_assert_int_eq(cq_bus_publish(bus, t, NULL), 1);
    ck_assert_str_eq(log.s, "b");
    ck_assert_int_eq(cq_bus_handler_count(bus, t), 1);
    /* A topic interned later does not get the removed handler either. */
    cq_topic_t t2 = topic(bus, "x.z");
    ck_assert_int_eq(cq_bus_handler_count(bus, t2), 0);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_unsubscribe_unknown_or_twice_enoent)
{
    cq_bus_t *bus = new_bus();
    rec_t a = { NULL, 'a', 0, NULL };
    cq_sub_t s = sub(bus, "x", 0, &a);
    ck_assert_int_eq(cq_bus_unsubscribe(bus, 0), CQ_ENOENT);
    ck_assert_int_eq(cq_bus_unsubscribe(bus, s + 1), CQ_ENOENT);
    ck_assert_int_eq(cq_bus_unsubscribe(bus, s), 0);
    ck_assert_int_eq(cq_bus_unsubscribe(bus, s), CQ_ENOENT);
    ck_assert_int_eq(cq_bus_unsubscribe(NULL, s), CQ_EINVAL);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_subscription_ids_are_never_reused)
{
    cq_bus_t *bus = new_bus();
    cq_sub_t a, b;
    ck_assert_int_eq(cq_bus_subscribe(bus, "x", 0, noop_handler, NULL, &a), 0);
    ck_assert_int_eq(cq_bus_unsubscribe(bus, a), 0);
    ck_assert_int_eq(cq_bus_subscribe(bus, "x", 0, noop_handler, NULL, &b), 0);
    ck_assert(b > a);
    ck_assert_int_eq(cq_bus_subscribe(bus, "x", 0, noop_handler, NULL, NULL), 0);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_subscribe_bad_args_give_error_codes)
{
    cq_bus_t *bus = new_bus();
    cq_sub_t s = 99;
    char *p255 = repeat('*', CQ_BUS_TOPIC_MAX);
    char *p256 = repeat('?', CQ_BUS_TOPIC_MAX + 1);
    ck_assert_int_eq(cq_bus_subscribe(NULL, "x", 0, noop_handler, NULL, &s), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_subscribe(bus, NULL, 0, noop_handler, NULL, &s), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_subscribe(bus, "", 0, noop_handler, NULL, &s), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_subscribe(bus, p256, 0, noop_handler, NULL, &s), CQ_ETOOLONG);
    ck_assert_int_eq(cq_bus_subscribe(bus, "x", 0, NULL, NULL, &s), CQ_EINVAL);
    ck_assert_uint_eq(s, 99);
    cq_bus_stats_t st;
    cq_bus_stats(bus, &st);
    ck_assert_uint_eq(st.subscriptions, 0);
    ck_assert_int_eq(cq_bus_subscribe(bus, p255, 0, noop_handler, NULL, &s), 0);
    free(p255);
    free(p256);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_publish_name_interns_and_publishes)
{
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    rec_t a = { &log, 'a', 0, NULL };
    sub(bus, "ev.*", 0, &a);
    ck_assert_int_eq(cq_bus_publish_name(bus, "ev.x", NULL), 1);
    ck_assert_int_eq(cq_bus_publish_name(bus, "other", NULL), 0);
    ck_assert_int_eq(cq_bus_publish_name(bus, "ev.*", NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_publish_name(bus, NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_publish_name(bus, "", NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_publish_name(NULL, "ev.x", NULL), CQ_EINVAL);
    ck_assert_str_eq(log.s, "a");
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_stats_count_publishes_and_deliveries)
{
    cq_bus_t *bus = new_bus();
    cq_topic_t t = topic(bus, "a");
    topic(bus, "b");
    cq_bus_subscribe(bus, "a", 0, noop_handler, NULL, NULL);
    cq_bus_subscribe(bus, "*", 0, noop_handler, NULL, NULL);
    cq_bus_publish(bus, t, NULL);
    cq_bus_publish(bus, t, NULL);
    cq_bus_publish(bus, t + 5, NULL); /* not counted */
    cq_bus_stats_t st;
    cq_bus_stats(bus, &st);
    ck_assert_uint_eq(st.published, 2);
    ck_assert_uint_eq(st.delivered, 4);
    ck_assert_uint_eq(st.topics, 2);
    ck_assert_uint_eq(st.subscriptions, 2);
    cq_bus_stats(NULL, &st);
    ck_assert_uint_eq(st.published, 0);
    cq_bus_stats(bus, NULL);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_create_destroy_null)
{
    ck_assert_int_eq(cq_bus_create(NULL), CQ_EINVAL);
    cq_bus_destroy(NULL);
}
END_TEST

/* --- re-entrancy ----------------------------------------------------------- */

/* A handler that performs one scripted action on the bus, then records. */
typedef struct actor {
    rec_t rec;
    cq_bus_t *bus;
    int action;
    cq_sub_t target;    /* ACT_UNSUB */
    cq_topic_t topic;   /* ACT_PUBLISH */
    rec_t *new_rec;     /* ACT_SUB */
    const char *pattern;
    int times;          /* act at most this many times */
    cq_sub_t made;
} actor_t;

enum { ACT_NONE, ACT_UNSUB, ACT_SUB, ACT_PUBLISH, ACT_SUB_THEN_UNSUB, ACT_DESTROY };

static void actor_handler(void *user, cq_topic_t t, const void *msg)
{
    actor_t *a = user;
    rec_handler(&a->rec, t, msg);
    if (a->times <= 0)
        return;
    a->times--;
    switch (a->action) {
    case ACT_UNSUB:
        ck_assert_int_eq(cq_bus_unsubscribe(a->bus, a->target), 0);
        break;
    case ACT_SUB:
        ck_assert_int_eq(cq_bus_subscribe(a->bus, a->pattern, 0, rec_handler, a->new_rec, &a->made), 0);
        break;
    case ACT_SUB_THEN_UNSUB:
        ck_assert_int_eq(cq_bus_subscribe(a->bus, a->pattern, 0, rec_handler, a->new_rec, &a->made), 0);
        ck_assert_int_eq(cq_bus_unsubscribe(a->bus, a->target), 0);
        break;
    case ACT_PUBLISH:
        ck_assert_int_ge(cq_bus_publish(a->bus, a->topic, msg), 0);
        break;
    case ACT_DESTROY:
        cq_bus_destroy(a->bus);
        break;
    }
}

static cq_sub_t sub_actor(cq_bus_t *bus, const char *pattern, int prio, actor_t *a)
{
    cq_sub_t id = 0;
    a->bus = bus;
    ck_assert_int_eq(cq_bus_subscribe(bus, pattern, prio, actor_handler, a, &id), 0);
    return id;
}

START_TEST(test_bus_unsubscribe_during_dispatch_not_called_again)
{
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    actor_t a = { .rec = { &log, 'a', 0, NULL }, .action = ACT_UNSUB, .times = 1 };
    rec_t b = { &log, 'b', 0, NULL }, c = { &log, 'c', 0, NULL };
    cq_topic_t t = topic(bus, "x");
    sub_actor(bus, "x", 10, &a);
    a.target = sub(bus, "x", 0, &b); /* later in the list than a */
    sub(bus, "x", 0, &c);
    ck_assert_int_eq(cq_bus_publish(bus, t, NULL), 2);
    ck_assert_str_eq(log.s, "ac");
    ck_assert_int_eq(cq_bus_publish(bus, t, NULL), 2);
    ck_assert_str_eq(log.s, "acac");
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_handler_unsubscribing_itself_is_not_called_again)
{
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    actor_t a = { .rec = { &log, 'a', 0, NULL }, .action = ACT_UNSUB, .times = 1 };
    rec_t b = { &log, 'b', 0, NULL };
    cq_topic_t t = topic(bus, "x");
    a.target = sub_actor(bus, "x", 1, &a);
    sub(bus, "x", 0, &b);
    ck_assert_int_eq(cq_bus_publish(bus, t, NULL), 2);
    ck_assert_int_eq(cq_bus_publish(bus, t, NULL), 1);
    ck_assert_str_eq(log.s, "abb");
    ck_assert_int_eq(cq_bus_handler_count(bus, t), 1);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_subscribe_during_dispatch_sees_next_message_only)
{
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    rec_t n = { &log, 'n', 0, NULL };
    actor_t a = { .rec = { &log, 'a', 0, NULL }, .action = ACT_SUB, .times = 1, .pattern = "x",
                  .new_rec = &n };
    cq_topic_t t = topic(bus, "x");
    sub_actor(bus, "x", 0, &a); /* the new subscription would sort after a */
    ck_assert_int_eq(cq_bus_publish(bus, t, NULL), 1);
    ck_assert_str_eq(log.s, "a");
    ck_assert_int_eq(cq_bus_publish(bus, t, NULL), 2);
    ck_assert_str_eq(log.s, "aan");
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_subscribe_then_unsubscribe_in_handler_skips_removed_in_current_dispatch)
{
    /* The subscribe replaces the topic's list while it is walked; the later
     * unsubscribe must still reach the list being walked. */
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    rec_t n = { &log, 'n', 0, NULL }, c = { &log, 'c', 0, NULL };
    actor_t a = { .rec = { &log, 'a', 0, NULL }, .action = ACT_SUB_THEN_UNSUB, .times = 1,
                  .pattern = "*", .new_rec = &n };
    cq_topic_t t = topic(bus, "x");
    sub_actor(bus, "x", 5, &a);
    a.target = sub(bus, "x", 0, &c);
    ck_assert_int_eq(cq_bus_publish(bus, t, NULL), 1);
    ck_assert_str_eq(log.s, "a");
    ck_assert_int_eq(cq_bus_publish(bus, t, NULL), 2);
    ck_assert_str_eq(log.s, "aan");
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_nested_publish_other_topic)
{
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    cq_topic_t x = topic(bus, "x"), y = topic(bus, "y");
    actor_t a = { .rec = { &log, 'a', 0, NULL }, .action = ACT_PUBLISH, .times = 1, .topic = y };
    rec_t b = { &log, 'b', 0, NULL }, c = { &log, 'c', 0, NULL };
    sub_actor(bus, "x", 1, &a);
    sub(bus, "x", 0, &b);
    sub(bus, "y", 0, &c);
    int msg = 5;
    ck_assert_int_eq(cq_bus_publish(bus, x, &msg), 2);
    ck_assert_str_eq(log.s, "acb");
    ck_assert_uint_eq(c.last_topic, y);
    ck_assert_ptr_eq(c.last_msg, &msg);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_nested_publish_same_topic)
{
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    cq_topic_t x = topic(bus, "x");
    actor_t a = { .rec = { &log, 'a', 0, NULL }, .action = ACT_PUBLISH, .times = 2, .topic = x };
    rec_t b = { &log, 'b', 0, NULL };
    sub_actor(bus, "x", 1, &a);
    sub(bus, "x", 0, &b);
    ck_assert_int_eq(cq_bus_publish(bus, x, NULL), 2);
    /* a, a (nested), a (nested twice, stops), b, b, b */
    ck_assert_str_eq(log.s, "aaabbb");
    cq_bus_stats_t st;
    cq_bus_stats(bus, &st);
    ck_assert_uint_eq(st.published, 3);
    ck_assert_uint_eq(st.delivered, 6);
    cq_bus_destroy(bus);
}
END_TEST

/* Unsubscribes its target from inside a nested dispatch of another topic. */
static void nested_unsub_outer(void *user, cq_topic_t t, const void *msg)
{
    actor_t *a = user;
    rec_handler(&a->rec, t, msg);
    if (a->times-- > 0)
        cq_bus_publish(a->bus, a->topic, msg);
}

START_TEST(test_bus_unsubscribe_in_nested_dispatch_skips_handler_in_outer)
{
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    cq_topic_t x = topic(bus, "x"), y = topic(bus, "y");
    actor_t outer = { .rec = { &log, 'o', 0, NULL }, .times = 1, .topic = y, .bus = bus };
    actor_t inner = { .rec = { &log, 'i', 0, NULL }, .action = ACT_UNSUB, .times = 1 };
    rec_t b = { &log, 'b', 0, NULL };
    ck_assert_int_eq(cq_bus_subscribe(bus, "x", 9, nested_unsub_outer, &outer, NULL), 0);
    sub_actor(bus, "y", 0, &inner);
    inner.target = sub(bus, "*", 0, &b); /* on x after outer, and on y after inner */
    ck_assert_int_eq(cq_bus_publish(bus, x, NULL), 1);
    ck_assert_str_eq(log.s, "oi");
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_destroy_inside_handler_is_deferred)
{
    cq_bus_t *bus = new_bus();
    calllog_t log = { "", 0 };
    cq_topic_t x = topic(bus, "x");
    actor_t a = { .rec = { &log, 'a', 0, NULL }, .action = ACT_DESTROY, .times = 1 };
    rec_t b = { &log, 'b', 0, NULL };
    sub_actor(bus, "x", 1, &a);
    sub(bus, "x", 0, &b);
    /* The bus is freed when publish returns; ASan/LSan check both halves. */
    ck_assert_int_eq(cq_bus_publish(bus, x, NULL), 2);
    ck_assert_str_eq(log.s, "ab");
}
END_TEST

static void republish_forever(void *user, cq_topic_t t, const void *msg)
{
    actor_t *a = user;
    a->times++;
    int rc = cq_bus_publish(a->bus, t, msg);
    if (rc < 0)
        a->made = (cq_sub_t)-rc;
}

START_TEST(test_bus_runaway_nested_publish_stops_with_ebusy)
{
    cq_bus_t *bus = new_bus();
    cq_topic_t x = topic(bus, "x");
    actor_t a = { .bus = bus };
    ck_assert_int_eq(cq_bus_subscribe(bus, "x", 0, republish_forever, &a, NULL), 0);
    ck_assert_int_eq(cq_bus_publish(bus, x, NULL), 1);
    ck_assert_int_eq(a.times, CQ_BUS_DEPTH_MAX);
    ck_assert_int_eq(-(int)a.made, CQ_EBUSY);
    /* The bus is usable afterwards. */
    ck_assert_int_eq(cq_bus_publish(bus, x, NULL), 1);
    cq_bus_destroy(bus);
}
END_TEST

/* --- randomized: the handler cache against a naive reference --------------- */

/* The reference keeps every subscription with its pattern and priority and,
 * on every publish, matches all live ones by string (ref_match) and sorts
 * them: that is the order the bus must call. Checked online, one frame per
 * (possibly nested) publish: each handler call must be the next entry of the
 * innermost frame that is still alive; entries unsubscribed since the frame
 * began are skipped. This also covers handlers that act on the bus. */

/* Check records a mark point (a write) for every passing ck_assert; these
 * run millions of times, so they only call into Check when they fail. */
#define REQ_MSG(c, ...) do { if (!(c)) ck_abort_msg(__VA_ARGS__); } while (0)
#define REQ(c) REQ_MSG(c, "%s:%d: %s", __FILE__, __LINE__, #c)
#define REQ_CMP(a, op, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (!(a_ op b_)) ck_abort_msg("%s:%d: %s %s %s (%lld vs %lld)", __FILE__, __LINE__, #a, #op, #b, a_, b_); } while (0)
#define REQ_EQ(a, b) REQ_CMP(a, ==, b)
#define REQ_LT(a, b) REQ_CMP(a, <, b)
#define REQ_LE(a, b) REQ_CMP(a, <=, b)
#define REQ_GT(a, b) REQ_CMP(a, >, b)
#define REQ_GE(a, b) REQ_CMP(a, >=, b)
#define REQ_STR_EQ(a, b) REQ_MSG(strcmp((a), (b)) == 0, "%s:%d: '%s' != '%s'", __FILE__, __LINE__, (a), (b))
#define REQ_PTR_EQ(a, b) REQ((const void *)(a) == (const void *)(b))

#define W_MAX_SUBS 40000
#define W_MAX_TOPICS 512
#define W_MAX_LIVE 48
#define W_MAX_FRAMES 8

typedef struct world world_t;

typedef struct wsub {
    world_t *w;
    cq_sub_t id;
    int prio;
    int alive;
    char pat[8];
} wsub_t;

typedef struct frame {
    cq_topic_t topic;
    int order[W_MAX_LIVE + W_MAX_FRAMES * 4];
    int n, cursor, called;
} frame_t;

struct world {
    cq_bus_t *bus;
    cq_rng_t rng;
    wsub_t *subs;        /* every subscription ever made, by tag */
    int nsubs;
    int live[W_MAX_SUBS]; /* tags of live subscriptions, subscription order */
    int nlive;
    char names[W_MAX_TOPICS][8];
    int ntopics;         /* names[h - 1] is the name of handle h */
    frame_t frames[W_MAX_FRAMES];
    int depth;
    int act_in_handlers; /* handlers perform random operations */
    uint64_t calls;
};

static void w_random_str(world_t *w, char *s, const char *alpha, int nalpha)
{
    int len = 1 + (int)cq_rng_below(&w->rng, 5);
    for (int i = 0; i < len; i++)
        s[i] = alpha[cq_rng_below(&w->rng, (unsigned)nalpha)];
    s[len] = '\0';
}

static void w_handler(void *user, cq_topic_t t, const void *msg);

static void w_subscribe(world_t *w)
{
    if (w->nlive >= W_MAX_LIVE || w->nsubs >= W_MAX_SUBS)
        return;
    wsub_t *s = &w->subs[w->nsubs];
    s->w = w;
    s->prio = (int)cq_rng_below(&w->rng, 4) - 1;
    w_random_str(w, s->pat, "ab.*?", 5);
    REQ_EQ(cq_bus_subscribe(w->bus, s->pat, s->prio, w_handler, s, &s->id), 0);
    s->alive = 1;
    w->live[w->nlive++] = w->nsubs++;
}

static void w_unsubscribe(world_t *w)
{
    if (w->nlive == 0 || cq_rng_below(&w->rng, 10) == 0) {
        /* A dead or never-issued id. */
        cq_sub_t bogus = w->nsubs && cq_rng_below(&w->rng, 2) ? w->subs[cq_rng_below(&w->rng, (unsigned)w->nsubs)].id
                                                           : (cq_sub_t)w->nsubs + 1000;
        int alive = 0;
        for (int i = 0; i < w->nlive; i++)
            alive |= w->subs[w->live[i]].id == bogus;
        if (!alive)
            REQ_EQ(cq_bus_unsubscribe(w->bus, bogus), CQ_ENOENT);
        return;
    }
    int i = (int)cq_rng_below(&w->rng, (unsigned)w->nlive);
    wsub_t *s = &w->subs[w->live[i]];
    REQ_EQ(cq_bus_unsubscribe(w->bus, s->id), 0);
    s->alive = 0;
    memmove(&w->live[i], &w->live[i + 1], (size_t)(w->nlive - i - 1) * sizeof w->live[0]);
    w->nlive--;
}

static void w_intern(world_t *w)
{
    char name[8];
    w_random_str(w, name, "ab.", 3);
    cq_topic_t t = 0;
    REQ_EQ(cq_bus_topic(w->bus, name, &t), 0);
    if ((int)t == w->ntopics + 1) {
        REQ_LT(w->ntopics, W_MAX_TOPICS);
        strcpy(w->names[w->ntopics++], name);
    }
    REQ_LE((int)t, w->ntopics);
    REQ_STR_EQ(w->names[t - 1], name);
}

/* Expected call order for a publish on t, as of now. */
static int w_expected(const world_t *w, cq_topic_t t, int *order)
{
    int n = 0;
    for (int i = 0; i < w->nlive; i++) {
        int tag = w->live[i];
        if (!ref_match(w->subs[tag].pat, w->names[t - 1]))
            continue;
        /* insertion: after every entry of priority >= this one */
        int k = n;
        while (k > 0 && w->subs[order[k - 1]].prio < w->subs[tag].prio) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = tag;
        n++;
    }
    return n;
}

static void w_publish(world_t *w)
{
    if (w->ntopics == 0 || cq_rng_below(&w->rng, 50) == 0) {
        REQ_EQ(cq_bus_publish(w->bus, (cq_topic_t)w->ntopics + 1, NULL), CQ_ENOENT);
        return;
    }
    if (w->depth >= W_MAX_FRAMES)
        return;
    cq_topic_t t = 1 + cq_rng_below(&w->rng, (unsigned)w->ntopics);
    frame_t *f = &w->frames[w->depth++];
    f->topic = t;
    f->n = w_expected(w, t, f->order);
    f->cursor = 0;
    f->called = 0;
    REQ_EQ(cq_bus_handler_count(w->bus, t), f->n);
    int rc = cq_bus_publish(w->bus, t, w);
    while (f->cursor < f->n && !w->subs[f->order[f->cursor]].alive)
        f->cursor++;
    REQ_MSG(f->cursor == f->n, "publish on '%s' skipped a live handler", w->names[t - 1]);
    REQ_EQ(rc, f->called);
    w->depth--;
}

static void w_step(world_t *w, int in_handler)
{
    unsigned r = cq_rng_below(&w->rng, 100);
    if (r < 20)
        w_subscribe(w);
    else if (r < 35)
        w_unsubscribe(w);
    else if (r < 45)
        w_intern(w);
    else if (!in_handler || w->depth < 3)
        w_publish(w);
}

static void w_handler(void *user, cq_topic_t t, const void *msg)
{
    wsub_t *s = user;
    world_t *w = s->w;
    REQ_PTR_EQ(msg, w);
    REQ_GT(w->depth, 0);
    frame_t *f = &w->frames[w->depth - 1];
    REQ_EQ(t, f->topic);
    while (f->cursor < f->n && !w->subs[f->order[f->cursor]].alive)
        f->cursor++;
    REQ_MSG(f->cursor < f->n, "unexpected call of '%s' on '%s'", s->pat, w->names[t - 1]);
    REQ_MSG(&w->subs[f->order[f->cursor]] == s, "on '%s': called '%s' (prio %d), expected '%s' (prio %d)",
                  w->names[t - 1], s->pat, s->prio, w->subs[f->order[f->cursor]].pat,
                  w->subs[f->order[f->cursor]].prio);
    REQ(s->alive);
    f->cursor++;
    f->called++;
    w->calls++;
    if (w->act_in_handlers && cq_rng_below(&w->rng, 4) == 0)
        w_step(w, 1);
}

static void w_run(int ops, int act_in_handlers, unsigned long long seed)
{
    world_t *w = calloc(1, sizeof *w);
    ck_assert_ptr_nonnull(w);
    w->subs = calloc(W_MAX_SUBS, sizeof *w->subs);
    ck_assert_ptr_nonnull(w->subs);
    w->bus = new_bus();
    w->rng.s = seed;
    w->act_in_handlers = act_in_handlers;
    for (int i = 0; i < ops; i++) {
        w_step(w, 0);
        if (i % 1000 == 0) {
            cq_bus_stats_t st;
            cq_bus_stats(w->bus, &st);
            REQ_EQ(st.subscriptions, (unsigned)w->nlive);
            REQ_EQ(st.topics, (unsigned)w->ntopics);
        }
    }
    /* The run must have exercised the cache, not just empty topics. */
    REQ(w->calls > (uint64_t)ops / 4);
    REQ_GT(w->ntopics, 50);
    cq_bus_destroy(w->bus);
    free(w->subs);
    free(w);
}

START_TEST(test_bus_cache_matches_naive_reference_100k_ops)
{
    w_run(100000, 0, 0x2545F4914F6CDD1DULL);
}
END_TEST

START_TEST(test_bus_reentrant_random_ops_match_naive_reference)
{
    w_run(30000, 1, 0x853c49e6748fea9bULL);
}
END_TEST

/* --- request / response / send --------------------------------------------- */

typedef struct reqctx {
    cq_bus_t *bus;
    int responses;
    int last_status;
    const void *last_resp;
    uint64_t last_corr;
    uint64_t corr_seen_by_endpoint;
    uint64_t *corr_out;       /* requester's *corr, read by the endpoint */
    uint64_t corr_out_value;  /* its value when the endpoint ran */
    int defer;                /* endpoint keeps corr instead of answering */
    int answer_twice;
    int second_rc;
    int commands;
    const void *last_cmd;
} reqctx_t;

static const int answer = 1234;

static void on_response(void *user, uint64_t corr, int status, const void *resp)
{
    reqctx_t *c = user;
    c->responses++;
    c->last_corr = corr;
    c->last_status = status;
    c->last_resp = resp;
}

static void endpoint(void *user, cq_bus_t *bus, uint64_t corr, const void *req)
{
    reqctx_t *c = user;
    c->corr_seen_by_endpoint = corr;
    if (c->corr_out)
        c->corr_out_value = *c->corr_out;
    if (c->defer)
        return;
    ck_assert_int_eq(cq_bus_respond(bus, corr, *(const int *)req, &answer), 0);
    if (c->answer_twice)
        c->second_rc = cq_bus_respond(bus, corr, 0, &answer);
}

static void on_command(void *user, const void *msg)
{
    reqctx_t *c = user;
    c->commands++;
    c->last_cmd = msg;
}

START_TEST(test_bus_request_synchronous_response_reaches_callback)
{
    cq_bus_t *bus = new_bus();
    reqctx_t ep = { .bus = bus }, rq = { 0 };
    ck_assert_int_eq(cq_bus_register_request(bus, "exec.submit", endpoint, &ep), 0);
    uint64_t corr = 0;
    int req = -7;
    ep.corr_out = &corr;
    ck_assert_int_eq(cq_bus_request(bus, "exec.submit", &req, on_response, &rq, &corr), 0);
    ck_assert(corr >= 1);
    ck_assert_uint_eq(ep.corr_out_value, corr); /* set before the endpoint ran */
    ck_assert_uint_eq(ep.corr_seen_by_endpoint, corr);
    ck_assert_int_eq(rq.responses, 1);
    ck_assert_uint_eq(rq.last_corr, corr);
    ck_assert_int_eq(rq.last_status, -7);
    ck_assert_ptr_eq(rq.last_resp, &answer);
    ck_assert_uint_eq(cq_bus_pending_requests(bus), 0);
    cq_bus_stats_t st;
    cq_bus_stats(bus, &st);
    ck_assert_uint_eq(st.requests, 1);
    ck_assert_uint_eq(st.responses, 1);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_request_missing_endpoint_enoent_without_callback)
{
    cq_bus_t *bus = new_bus();
    reqctx_t rq = { 0 };
    uint64_t corr = 55;
    ck_assert_int_eq(cq_bus_request(bus, "exec.submit", NULL, on_response, &rq, &corr), CQ_ENOENT);
    ck_assert_int_eq(rq.responses, 0);
    ck_assert_uint_eq(corr, 55);
    ck_assert_uint_eq(cq_bus_pending_requests(bus), 0);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_request_to_command_endpoint_enoent)
{
    cq_bus_t *bus = new_bus();
    reqctx_t c = { 0 };
    ck_assert_int_eq(cq_bus_register_command(bus, "exec.cancel", on_command, &c), 0);
    ck_assert_int_eq(cq_bus_request(bus, "exec.cancel", NULL, on_response, &c, NULL), CQ_ENOENT);
    ck_assert_int_eq(c.responses + c.commands, 0);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_duplicate_endpoint_registration_eexist)
{
    cq_bus_t *bus = new_bus();
    reqctx_t c = { 0 };
    ck_assert_int_eq(cq_bus_register_request(bus, "exec.submit", endpoint, &c), 0);
    ck_assert_int_eq(cq_bus_register_request(bus, "exec.submit", endpoint, &c), CQ_EEXIST);
    ck_assert_int_eq(cq_bus_register_command(bus, "exec.submit", on_command, &c), CQ_EEXIST);
    ck_assert_int_eq(cq_bus_register_command(bus, "exec.cancel", on_command, &c), 0);
    ck_assert_int_eq(cq_bus_register_request(bus, "exec.cancel", endpoint, &c), CQ_EEXIST);
    /* After deregistering, the name is free again. */
    ck_assert_int_eq(cq_bus_deregister(bus, "exec.submit"), 0);
    ck_assert_int_eq(cq_bus_register_command(bus, "exec.submit", on_command, &c), 0);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_respond_twice_enoent)
{
    cq_bus_t *bus = new_bus();
    reqctx_t ep = { .answer_twice = 1 }, rq = { 0 };
    ck_assert_int_eq(cq_bus_register_request(bus, "q", endpoint, &ep), 0);
    int req = 0;
    uint64_t corr;
    ck_assert_int_eq(cq_bus_request(bus, "q", &req, on_response, &rq, &corr), 0);
    ck_assert_int_eq(ep.second_rc, CQ_ENOENT);
    ck_assert_int_eq(rq.responses, 1);
    ck_assert_int_eq(cq_bus_respond(bus, corr, 0, NULL), CQ_ENOENT);
    ck_assert_int_eq(rq.responses, 1);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_deferred_response_after_request_returns)
{
    cq_bus_t *bus = new_bus();
    reqctx_t ep = { .defer = 1 }, rq1 = { 0 }, rq2 = { 0 };
    ck_assert_int_eq(cq_bus_register_request(bus, "q", endpoint, &ep), 0);
    uint64_t c1, c2;
    ck_assert_int_eq(cq_bus_request(bus, "q", NULL, on_response, &rq1, &c1), 0);
    ck_assert_int_eq(cq_bus_request(bus, "q", NULL, on_response, &rq2, &c2), 0);
    ck_assert(c1 != c2);
    ck_assert_int_eq(rq1.responses + rq2.responses, 0);
    ck_assert_uint_eq(cq_bus_pending_requests(bus), 2);
    /* The endpoint may go away; its pending requests stay answerable. */
    ck_assert_int_eq(cq_bus_deregister(bus, "q"), 0);
    ck_assert_int_eq(cq_bus_respond(bus, c2, CQ_ETIMEDOUT, NULL), 0);
    ck_assert_int_eq(rq2.responses, 1);
    ck_assert_int_eq(rq2.last_status, CQ_ETIMEDOUT);
    ck_assert_int_eq(rq1.responses, 0);
    ck_assert_int_eq(cq_bus_respond(bus, c1, 0, &answer), 0);
    ck_assert_int_eq(rq1.responses, 1);
    ck_assert_uint_eq(rq1.last_corr, c1);
    ck_assert_uint_eq(cq_bus_pending_requests(bus), 0);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_unanswered_requests_are_freed_with_the_bus)
{
    cq_bus_t *bus = new_bus();
    reqctx_t ep = { .defer = 1 }, rq = { 0 };
    ck_assert_int_eq(cq_bus_register_request(bus, "q", endpoint, &ep), 0);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(cq_bus_request(bus, "q", NULL, on_response, &rq, NULL), 0);
    ck_assert_uint_eq(cq_bus_pending_requests(bus), 100);
    cq_bus_destroy(bus); /* LSan: nothing leaks */
    ck_assert_int_eq(rq.responses, 0);
}
END_TEST

START_TEST(test_bus_respond_unknown_corr_enoent)
{
    cq_bus_t *bus = new_bus();
    ck_assert_int_eq(cq_bus_respond(bus, 0, 0, NULL), CQ_ENOENT);
    ck_assert_int_eq(cq_bus_respond(bus, 12345, 0, NULL), CQ_ENOENT);
    ck_assert_int_eq(cq_bus_respond(NULL, 1, 0, NULL), CQ_EINVAL);
    ck_assert_uint_eq(cq_bus_pending_requests(NULL), 0);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_send_reaches_command_endpoint)
{
    cq_bus_t *bus = new_bus();
    reqctx_t c = { 0 };
    int msg = 3;
    ck_assert_int_eq(cq_bus_register_command(bus, "exec.cancel_all", on_command, &c), 0);
    ck_assert_int_eq(cq_bus_send(bus, "exec.cancel_all", &msg), 0);
    ck_assert_int_eq(c.commands, 1);
    ck_assert_ptr_eq(c.last_cmd, &msg);
    cq_bus_stats_t st;
    cq_bus_stats(bus, &st);
    ck_assert_uint_eq(st.sends, 1);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_send_to_missing_or_request_endpoint_enoent)
{
    cq_bus_t *bus = new_bus();
    reqctx_t c = { 0 };
    ck_assert_int_eq(cq_bus_send(bus, "exec.cancel", NULL), CQ_ENOENT);
    ck_assert_int_eq(cq_bus_register_request(bus, "exec.submit", endpoint, &c), 0);
    ck_assert_int_eq(cq_bus_send(bus, "exec.submit", NULL), CQ_ENOENT);
    ck_assert_int_eq(cq_bus_register_command(bus, "exec.cancel", on_command, &c), 0);
    ck_assert_int_eq(cq_bus_deregister(bus, "exec.cancel"), 0);
    ck_assert_int_eq(cq_bus_send(bus, "exec.cancel", NULL), CQ_ENOENT);
    ck_assert_int_eq(cq_bus_deregister(bus, "exec.cancel"), CQ_ENOENT);
    ck_assert_int_eq(c.commands, 0);
    cq_bus_destroy(bus);
}
END_TEST

static void deregister_self(void *user, const void *msg)
{
    reqctx_t *c = user;
    (void)msg;
    c->commands++;
    ck_assert_int_eq(cq_bus_deregister(c->bus, "once"), 0);
}

START_TEST(test_bus_command_endpoint_may_deregister_itself)
{
    cq_bus_t *bus = new_bus();
    reqctx_t c = { .bus = bus };
    ck_assert_int_eq(cq_bus_register_command(bus, "once", deregister_self, &c), 0);
    ck_assert_int_eq(cq_bus_send(bus, "once", NULL), 0);
    ck_assert_int_eq(cq_bus_send(bus, "once", NULL), CQ_ENOENT);
    ck_assert_int_eq(c.commands, 1);
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_many_endpoints_are_all_found)
{
    cq_bus_t *bus = new_bus();
    reqctx_t c = { 0 };
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "ep.%d", i);
        ck_assert_int_eq(cq_bus_register_command(bus, name, on_command, &c), 0);
    }
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "ep.%d", i);
        ck_assert_int_eq(cq_bus_send(bus, name, NULL), 0);
    }
    ck_assert_int_eq(c.commands, 300);
    for (int i = 0; i < 300; i += 2) {
        snprintf(name, sizeof name, "ep.%d", i);
        ck_assert_int_eq(cq_bus_deregister(bus, name), 0);
    }
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "ep.%d", i);
        ck_assert_int_eq(cq_bus_send(bus, name, NULL), i % 2 ? 0 : CQ_ENOENT);
    }
    cq_bus_destroy(bus);
}
END_TEST

START_TEST(test_bus_endpoint_bad_args_give_error_codes)
{
    cq_bus_t *bus = new_bus();
    reqctx_t c = { 0 };
    char *n256 = repeat('e', CQ_BUS_TOPIC_MAX + 1);
    char *n255 = repeat('e', CQ_BUS_TOPIC_MAX);
    ck_assert_int_eq(cq_bus_register_command(NULL, "x", on_command, &c), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_register_command(bus, NULL, on_command, &c), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_register_command(bus, "", on_command, &c), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_register_command(bus, n256, on_command, &c), CQ_ETOOLONG);
    ck_assert_int_eq(cq_bus_register_command(bus, "exec.*", on_command, &c), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_register_command(bus, "x", NULL, &c), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_register_request(NULL, "x", endpoint, &c), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_register_request(bus, NULL, endpoint, &c), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_register_request(bus, "", endpoint, &c), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_register_request(bus, n256, endpoint, &c), CQ_ETOOLONG);
    ck_assert_int_eq(cq_bus_register_request(bus, "exec.?", endpoint, &c), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_register_request(bus, "x", NULL, &c), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_register_request(bus, n255, endpoint, &c), 0);
    ck_assert_int_eq(cq_bus_deregister(NULL, "x"), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_deregister(bus, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_deregister(bus, ""), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_deregister(bus, n256), CQ_ETOOLONG);
    ck_assert_int_eq(cq_bus_send(NULL, "x", NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_send(bus, NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_send(bus, "", NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_send(bus, n256, NULL), CQ_ETOOLONG);
    ck_assert_int_eq(cq_bus_send(bus, "*", NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_request(NULL, "x", NULL, on_response, &c, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_request(bus, NULL, NULL, on_response, &c, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_request(bus, "", NULL, on_response, &c, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_bus_request(bus, n256, NULL, on_response, &c, NULL), CQ_ETOOLONG);
    ck_assert_int_eq(cq_bus_request(bus, n255, NULL, NULL, &c, NULL), CQ_EINVAL);
    ck_assert_int_eq(c.commands + c.responses, 0);
    ck_assert_uint_eq(cq_bus_pending_requests(bus), 0);
    free(n255);
    free(n256);
    cq_bus_destroy(bus);
}
END_TEST

/* A handler that requests; the endpoint publishes on another topic and
 * answers; the response callback sends a command. */
typedef struct chain {
    cq_bus_t *bus;
    cq_topic_t other;
    calllog_t log;
    int destroy_in_response;
} chain_t;

static void chain_log(chain_t *c, char ch)
{
    c->log.s[c->log.n++] = ch;
    c->log.s[c->log.n] = '\0';
}

static void chain_command(void *user, const void *msg)
{
    (void)msg;
    chain_log(user, 'c');
}

static void chain_response(void *user, uint64_t corr, int status, const void *resp)
{
    chain_t *c = user;
    (void)corr;
    (void)status;
    (void)resp;
    chain_log(c, 'r');
    if (c->destroy_in_response)
        cq_bus_destroy(c->bus);
    else
        ck_assert_int_eq(cq_bus_send(c->bus, "cmd", NULL), 0);
}

static void chain_endpoint(void *user, cq_bus_t *bus, uint64_t corr, const void *req)
{
    chain_t *c = user;
    (void)req;
    chain_log(c, 'e');
    ck_assert_int_eq(cq_bus_publish(bus, c->other, NULL), 1);
    ck_assert_int_eq(cq_bus_respond(bus, corr, 0, NULL), 0);
}

static void chain_other(void *user, cq_topic_t t, const void *msg)
{
    (void)t;
    (void)msg;
    chain_log(user, 'o');
}

static void chain_handler(void *user, cq_topic_t t, const void *msg)
{
    chain_t *c = user;
    (void)t;
    (void)msg;
    chain_log(c, 'h');
    ck_assert_int_eq(cq_bus_request(c->bus, "req", NULL, chain_response, c, NULL), 0);
    chain_log(c, 'H');
}

static cq_topic_t chain_setup(chain_t *c)
{
    c->bus = new_bus();
    cq_topic_t x = topic(c->bus, "x");
    c->other = topic(c->bus, "y");
    ck_assert_int_eq(cq_bus_subscribe(c->bus, "x", 0, chain_handler, c, NULL), 0);
    ck_assert_int_eq(cq_bus_subscribe(c->bus, "y", 0, chain_other, c, NULL), 0);
    ck_assert_int_eq(cq_bus_register_request(c->bus, "req", chain_endpoint, c), 0);
    ck_assert_int_eq(cq_bus_register_command(c->bus, "cmd", chain_command, c), 0);
    return x;
}

START_TEST(test_bus_handler_may_request_and_endpoint_may_publish)
{
    chain_t c = { 0 };
    cq_topic_t x = chain_setup(&c);
    ck_assert_int_eq(cq_bus_publish(c.bus, x, NULL), 1);
    ck_assert_str_eq(c.log.s, "heorcH");
    cq_bus_stats_t st;
    cq_bus_stats(c.bus, &st);
    ck_assert_uint_eq(st.published, 2);
    ck_assert_uint_eq(st.requests, 1);
    ck_assert_uint_eq(st.responses, 1);
    ck_assert_uint_eq(st.sends, 1);
    cq_bus_destroy(c.bus);
}
END_TEST

START_TEST(test_bus_destroy_inside_response_callback_is_deferred)
{
    chain_t c = { .destroy_in_response = 1 };
    cq_topic_t x = chain_setup(&c);
    /* Freed when the outer publish returns; ASan/LSan check both halves. */
    ck_assert_int_eq(cq_bus_publish(c.bus, x, NULL), 1);
    ck_assert_str_eq(c.log.s, "heorH");
}
END_TEST

static Suite *bus_suite(void)
{
    Suite *s = suite_create("bus");
    TCase *tc = tcase_create("pattern");
    tcase_add_test(tc, test_pattern_table);
    tcase_add_test(tc, test_pattern_null_never_matches);
    tcase_add_test(tc, test_pattern_long_strings_up_to_limit);
    tcase_add_test(tc, test_pattern_over_limit_never_matches);
    tcase_add_test(tc, test_pattern_agrees_with_recursive_definition);
    suite_add_tcase(s, tc);

    tc = tcase_create("pubsub");
    tcase_add_test(tc, test_bus_create_destroy_null);
    tcase_add_test(tc, test_bus_topic_handles_are_dense_from_one_and_stable);
    tcase_add_test(tc, test_bus_topic_many_names_keep_their_handles);
    tcase_add_test(tc, test_bus_topic_bad_names_give_error_codes);
    tcase_add_test(tc, test_bus_publish_reaches_matching_subscribers_only);
    tcase_add_test(tc, test_bus_publish_without_subscribers_returns_zero);
    tcase_add_test(tc, test_bus_publish_unknown_handle_enoent);
    tcase_add_test(tc, test_bus_higher_priority_runs_first);
    tcase_add_test(tc, test_bus_equal_priorities_run_in_subscription_order);
    tcase_add_test(tc, test_bus_topic_interned_after_subscribe_gets_same_order);
    tcase_add_test(tc, test_bus_unsubscribe_stops_delivery);
    tcase_add_test(tc, test_bus_unsubscribe_unknown_or_twice_enoent);
    tcase_add_test(tc, test_bus_subscription_ids_are_never_reused);
    tcase_add_test(tc, test_bus_subscribe_bad_args_give_error_codes);
    tcase_add_test(tc, test_bus_publish_name_interns_and_publishes);
    tcase_add_test(tc, test_bus_stats_count_publishes_and_deliveries);
    suite_add_tcase(s, tc);

    tc = tcase_create("reentrancy");
    tcase_add_test(tc, test_bus_unsubscribe_during_dispatch_not_called_again);
    tcase_add_test(tc, test_bus_handler_unsubscribing_itself_is_not_called_again);
    tcase_add_test(tc, test_bus_subscribe_during_dispatch_sees_next_message_only);
    tcase_add_test(tc, test_bus_subscribe_then_unsubscribe_in_handler_skips_removed_in_current_dispatch);
    tcase_add_test(tc, test_bus_nested_publish_other_topic);
    tcase_add_test(tc, test_bus_nested_publish_same_topic);
    tcase_add_test(tc, test_bus_unsubscribe_in_nested_dispatch_skips_handler_in_outer);
    tcase_add_test(tc, test_bus_destroy_inside_handler_is_deferred);
    tcase_add_test(tc, test_bus_runaway_nested_publish_stops_with_ebusy);
    tcase_add_test(tc, test_bus_handler_may_request_and_endpoint_may_publish);
    tcase_add_test(tc, test_bus_destroy_inside_response_callback_is_deferred);
    suite_add_tcase(s, tc);

    tc = tcase_create("cache");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_bus_cache_matches_naive_reference_100k_ops);
    tcase_add_test(tc, test_bus_reentrant_random_ops_match_naive_reference);
    suite_add_tcase(s, tc);

    tc = tcase_create("endpoints");
    tcase_add_test(tc, test_bus_request_synchronous_response_reaches_callback);
    tcase_add_test(tc, test_bus_request_missing_endpoint_enoent_without_callback);
    tcase_add_test(tc, test_bus_request_to_command_endpoint_enoent);
    tcase_add_test(tc, test_bus_duplicate_endpoint_registration_eexist);
    tcase_add_test(tc, test_bus_respond_twice_enoent);
    tcase_add_test(tc, test_bus_deferred_response_after_request_returns);
    tcase_add_test(tc, test_bus_unanswered_requests_are_freed_with_the_bus);
    tcase_add_test(tc, test_bus_respond_unknown_corr_enoent);
    tcase_add_test(tc, test_bus_send_reaches_command_endpoint);
    tcase_add_test(tc, test_bus_send_to_missing_or_request_endpoint_enoent);
    tcase_add_test(tc, test_bus_command_endpoint_may_deregister_itself);
    tcase_add_test(tc, test_bus_many_endpoints_are_all_found);
    tcase_add_test(tc, test_bus_endpoint_bad_args_give_error_codes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return cq_test_run(bus_suite()); }
