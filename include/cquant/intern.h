/*
 * intern.h - string interning: a name is turned into a small dense integer
 * handle once, and hot paths carry the handle.
 *
 * Instrument ids ("BTCUSDT.BINANCE") and strategy ids are interned this way.
 * Handles start at 1 (0 means "none") and are never reused for the life of
 * the table, so an event carrying a handle never changes meaning.
 */
#ifndef CQUANT_INTERN_H
#define CQUANT_INTERN_H

#include <stddef.h>
#include <stdint.h>

#define CQ_INTERN_MAX_LEN 63  /* longest name, without the NUL */

typedef struct cq_intern cq_intern_t;

int cq_intern_create(cq_intern_t **out);
void cq_intern_destroy(cq_intern_t *t);

/* Handle of name, adding it if new. CQ_EINVAL for NULL/empty, CQ_ETOOLONG
 * past CQ_INTERN_MAX_LEN. */
int cq_intern_get(cq_intern_t *t, const char *name, uint32_t *handle);

/* Handle of name if already interned, else CQ_ENOENT. Never adds. */
int cq_intern_find(const cq_intern_t *t, const char *name, uint32_t *handle);

/* Name of a handle, or NULL if it was never issued. */
const char *cq_intern_name(const cq_intern_t *t, uint32_t handle);

/* Number of names interned (the largest handle issued). */
uint32_t cq_intern_count(const cq_intern_t *t);

#endif
