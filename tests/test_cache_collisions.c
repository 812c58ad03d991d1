/*
 * test_cache_collisions.c - white-box test of the cache's key compare.
 *
 * Compiles runtime/core/cache.c itself with CQ_CACHE_TEST_COLLIDE, which
 * gives every key of a given length the same tag (hash bits and length) and
 * so the same home slot: every lookup walks one long probe run and only the
 * compare after the tag - the 24-byte prefix held in the table, the tail in
 * the full key, the length - tells keys apart. Lookup cost is not measured
 * here; exactness under collisions is.
 */
#define CQ_CACHE_TEST_COLLIDE 1
#include "core/cache.c"

#include <stdio.h>

#include "support/cq_test.h"

static cq_cache_t *new_cache(void)
{
    cq_cache_t *c = NULL;
    ck_assert_int_eq(cq_cache_create(&c, NULL), 0);
    return c;
}

static cq_order_t *add(cq_cache_t *c, const char *cid, const char *vid)
{
    cq_order_t init, *o = NULL;
    memset(&init, 0, sizeof init);
    snprintf(init.client_order_id, sizeof init.client_order_id, "%s", cid);
    snprintf(init.venue_order_id, sizeof init.venue_order_id, "%s", vid);
    init.status = CQ_OS_ACCEPTED;
    ck_assert_int_eq(cq_cache_order_add(c, &init, &o), 0);
    return o;
}

START_TEST(test_collide_all_keys_of_a_length_share_a_tag)
{
    qkey_t a, b;
    ck_assert_int_eq(qkey_make(&a, "aaaaaaaaaaaa", 36), 0);
    ck_assert_int_eq(qkey_make(&b, "bbbbbbbbbbbb", 36), 0);
    ck_assert_uint_eq(a.tag, b.tag); /* the premise of this file */
}
END_TEST

/* A 24-char id fills the table's prefix exactly: only the length in the tag
 * keeps it apart from a longer id that starts with it. */
START_TEST(test_collide_id_of_24_chars_differs_from_longer_with_same_start)
{
    cq_cache_t *c = new_cache();
    const char *p24 = "PPPPPPPPPPPPPPPPPPPPPPPP", *p25 = "PPPPPPPPPPPPPPPPPPPPPPPPX";
    cq_order_t *o25 = add(c, p25, p25);
    ck_assert_ptr_null(cq_cache_order(c, p24));
    ck_assert_ptr_null(cq_cache_order_by_venue_id(c, p24));
    cq_order_t *o24 = add(c, p24, p24);
    ck_assert_ptr_eq(cq_cache_order(c, p24), o24);
    ck_assert_ptr_eq(cq_cache_order(c, p25), o25);
    ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, p24), o24);
    cq_cache_destroy(c);
}
END_TEST

/* Same length, same first 24 bytes, same tag: only the tail differs. */
START_TEST(test_collide_ids_differing_only_past_24_chars_are_distinct)
{
    cq_cache_t *c = new_cache();
    char id[40];
    cq_order_t *o[10];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP%c", '0' + i); /* 36 chars */
        o[i] = add(c, id, id);
    }
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP%c", '0' + i);
        ck_assert_ptr_eq(cq_cache_order(c, id), o[i]);
        ck_assert_ptr_eq(cq_cache_order_by_venue_id(c, id), o[i]);
    }
    ck_assert_ptr_null(cq_cache_order(c, "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPX"));
    ck_assert_ptr_null(cq_cache_order(c, "PPPPPPPPPPPPPPPPPPPPPPPPPPPPQPPPPPP0"));
    cq_cache_destroy(c);
}
END_TEST

START_TEST(test_collide_balances_with_same_tag_are_distinct)
{
    cq_cache_t *c = new_cache();
    cq_balance_t *a, *b, *d;
    ck_assert_int_eq(cq_cache_balance_get(c, "VENUE", "ASSET_A12345678", &a), 0);
    ck_assert_int_eq(cq_cache_balance_get(c, "VENUE", "ASSET_A12345679", &b), 0);
    ck_assert_int_eq(cq_cache_balance_get(c, "VENUF", "ASSET_A12345678", &d), 0);
    ck_assert_ptr_ne(a, b);
    ck_assert_ptr_ne(a, d);
    ck_assert_ptr_eq(cq_cache_balance(c, "VENUE", "ASSET_A12345679"), b);
    ck_assert_ptr_eq(cq_cache_balance(c, "VENUF", "ASSET_A12345678"), d);
    ck_assert_ptr_null(cq_cache_balance(c, "VENUE", "ASSET_A1234567"));
    cq_cache_destroy(c);
}
END_TEST

/* Everything lands in one probe run: removals from its middle must shift
 * the rest back so that every remaining key is still reached. */
START_TEST(test_collide_random_adds_and_removes_keep_every_key_reachable)
{
    enum { N = 96, STEPS = 20000 };
    cq_cache_t *c = new_cache();
    cq_rng_t rng = {0xc0111de5ull};
    static cq_order_t *live[N];
    static char ids[N][40];
    int n = 0;
    for (int step = 0; step < STEPS; step++) {
        if (n == 0 || (n < N && cq_rng_below(&rng, 3) != 0)) {
            /* three lengths around the 24-byte prefix, all colliding */
            static const char *const fmt[] = {"%023u", "%024u", "%030u"};
            snprintf(ids[n], sizeof ids[n], fmt[cq_rng_below(&rng, 3)], cq_rng_below(&rng, 1000));
            int dup = 0;
            for (int i = 0; i < n && !dup; i++)
                dup = strcmp(ids[i], ids[n]) == 0;
            cq_order_t init;
            memset(&init, 0, sizeof init);
            memcpy(init.client_order_id, ids[n], sizeof ids[n]);
            init.status = CQ_OS_ACCEPTED;
            int rc = cq_cache_order_add(c, &init, &live[n]);
            if (rc != (dup ? CQ_EEXIST : 0))
                ck_abort_msg("step %d: add %s gave %d", step, ids[n], rc);
            if (!dup && cq_cache_order_set_venue_id(c, live[n], ids[n]) != 0)
                ck_abort_msg("step %d: set venue id %s", step, ids[n]);
            n += !dup;
        } else {
            int i = (int)cq_rng_below(&rng, (unsigned)n);
            if (cq_cache_order_remove(c, live[i]) != 0)
                ck_abort_msg("remove %s", ids[i]);
            n--;
            live[i] = live[n];
            memcpy(ids[i], ids[n], sizeof ids[i]);
        }
        for (int i = 0; i < n; i++)
            if (cq_cache_order(c, ids[i]) != live[i] || cq_cache_order_by_venue_id(c, ids[i]) != live[i])
                ck_abort_msg("step %d: %s not found", step, ids[i]);
    }
    cq_cache_destroy(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cache_collisions");
    TCase *tc = tcase_create("collide");
    tcase_add_test(tc, test_collide_all_keys_of_a_length_share_a_tag);
    tcase_add_test(tc, test_collide_id_of_24_chars_differs_from_longer_with_same_start);
    tcase_add_test(tc, test_collide_ids_differing_only_past_24_chars_are_distinct);
    tcase_add_test(tc, test_collide_balances_with_same_tag_are_distinct);
    tcase_add_test(tc, test_collide_random_adds_and_removes_keep_every_key_reachable);
    suite_add_tcase(s, tc);
    return cq_test_run(s);
}
