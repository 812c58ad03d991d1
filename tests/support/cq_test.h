/*
 * cq_test.h - helpers shared by the Check tests.
 */
#ifndef CQ_TEST_H
#define CQ_TEST_H

#include <check.h>
#include <stddef.h>

/* Directory of the recorded exchange data: $CQ_TEST_DATA, else the
 * build-time default (../shared/data beside the source tree). */
const char *cq_test_data_dir(void);

/* Full path of a file under the data directory, in a static buffer, or NULL
 * if the data directory is absent. Tests that need recorded data call this
 * and skip with a message (cq_test_skip) when it returns NULL. */
const char *cq_test_data_path(const char *rel);

/* Print "SKIPPED: <name>: <why>" on stderr (tests that cannot run here say
 * so instead of passing silently). */
void cq_test_skip(const char *name, const char *why);

/* The built cquant executable, or NULL if it is not there. */
const char *cq_test_cquant(void);

/* Run a shell command line built printf-style; returns its exit status
 * (-1 if it did not exit normally). */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
int cq_test_shell(const char *fmt, ...);

/* Run the suite with Check's runner; returns the process exit status. */
int cq_test_run(Suite *s);

/* Deterministic PRNG for randomized tests (xorshift64*). */
typedef struct { unsigned long long s; } cq_rng_t;
static inline unsigned long long cq_rng_next(cq_rng_t *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}
static inline unsigned cq_rng_below(cq_rng_t *r, unsigned n) { return (unsigned)(cq_rng_next(r) % n); }

#endif
