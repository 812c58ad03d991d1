/*
 * cache.h - the single source of truth for runtime state.
 *
 * Holds instruments, strategies' names, orders, positions, account balances
 * and the latest quote and trade per instrument. Engines write it;
 * strategies read it. Every lookup is a hash-table read or an array index,
 * never a scan.
 *
 * Orders live in a pool: an order keeps its address from cq_cache_order_add
 * until cq_cache_order_remove, so the rest of the runtime (and Lua, through
 * FFI) may hold cq_order_t pointers. The pool grows in fixed chunks that are
 * never moved; after warm-up, adding orders does not allocate.
 *
 * The cache does not judge order state transitions (the model's state
 * machine does); it keeps its indexes consistent with whatever status it is
 * told: open / closed / in-flight sets as defined in event.h.
 *
 * Errors: CQ_EINVAL for NULL or malformed arguments (and for a pointer that
 * is not one of this cache's orders), CQ_ETOOLONG for ids past their field,
 * CQ_ENOENT for handles never issued and orders already removed, CQ_EEXIST
 * for duplicate ids, CQ_ENOMEM. Writing an order's ids, status, instrument or
 * strategy directly changes nothing the cache indexes: use the setters.
 */
#ifndef CQUANT_CACHE_H
#define CQUANT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/event.h"

typedef struct cq_cache cq_cache_t;

typedef struct cq_cache_config {
    uint32_t initial_orders;   /* pool slots allocated up front, in one
                                  block written at creation so that it is
                                  resident: adding that many orders never
                                  page-faults (0 = default 4096; at most
                                  1 << 24, else CQ_EINVAL) */
} cq_cache_config_t;

/* cfg may be NULL for defaults. */
int cq_cache_create(cq_cache_t **out, const cq_cache_config_t *cfg);
void cq_cache_destroy(cq_cache_t *cache);

/* ---- instruments ----------------------------------------------------------
 * Adds spec, or replaces the spec of an instrument with the same id (the
 * handle is kept). spec->id must be "SYMBOL.VENUE". The stored copy's
 * hdr.type is CQ_EV_INSTRUMENT and hdr.instrument its handle. */
int cq_cache_instrument_add(cq_cache_t *cache, const cq_instrument_t *spec, uint32_t *handle);
/* Intern an instrument id without a spec (e.g. a recording names it first). */
int cq_cache_instrument_intern(cq_cache_t *cache, const char *id, uint32_t *handle);
/* CQ_ENOENT if the id was never interned. */
int cq_cache_instrument_find(const cq_cache_t *cache, const char *id, uint32_t *handle);
/* The spec, or NULL if the handle is unknown or has no spec yet. */
const cq_instrument_t *cq_cache_instrument(const cq_cache_t *cache, uint32_t handle);
/* The id string of a handle, or NULL. */
const char *cq_cache_instrument_name(const cq_cache_t *cache, uint32_t handle);
uint32_t cq_cache_instrument_count(const cq_cache_t *cache);

/* ---- strategies ---------------------------------------------------------- */
int cq_cache_strategy_intern(cq_cache_t *cache, const char *name, uint32_t *handle);
int cq_cache_strategy_find(const cq_cache_t *cache, const char *name, uint32_t *handle);
const char *cq_cache_strategy_name(const cq_cache_t *cache, uint32_t handle);

/* ---- orders ----------------------------------------------------------------
 * Copies *init into a pool slot and indexes it: by client_order_id (required,
 * unique: CQ_EEXIST otherwise), by venue_order_id if non-empty (unique), by
 * hdr.instrument and hdr.strategy (0 allowed), and into the set of its
 * status. The stored order's hdr.type is CQ_EV_ORDER. */
int cq_cache_order_add(cq_cache_t *cache, const cq_order_t *init, cq_order_t **out);
/* Move an order between the open / closed / in-flight sets. Validates only
 * that status is a CQ_OS_* value (CQ_EINVAL). */
int cq_cache_order_set_status(cq_cache_t *cache, cq_order_t *order, int32_t status);
/* Set or change the venue order id and its index entry ("" removes it).
 * CQ_EEXIST if another order has that venue id. */
int cq_cache_order_set_venue_id(cq_cache_t *cache, cq_order_t *order, const char *venue_id);
/* Unindex and return the slot to the pool. The pointer is invalid after. */
int cq_cache_order_remove(cq_cache_t *cache, cq_order_t *order);

/* NULL if absent (or if the argument is NULL). */
cq_order_t *cq_cache_order(const cq_cache_t *cache, const char *client_order_id);
/* A hint, no effect on the cache: the order with this client id is about
 * to be added or looked up, so start loading its index slot now. Among
 * 100k orders that slot is a cache miss; asked for a few hundred
 * instructions ahead, the add or lookup finds it loaded. */
void cq_cache_order_prefetch(const cq_cache_t *cache, const char *client_order_id);
cq_order_t *cq_cache_order_by_venue_id(const cq_cache_t *cache, const char *venue_order_id);

/* CQ_FFI_BEGIN */
enum {
    CQ_ORDERS_ALL = 0,
    CQ_ORDERS_OPEN = 1,
    CQ_ORDERS_CLOSED = 2,
    CQ_ORDERS_INFLIGHT = 3
};

typedef struct cq_order_query {
    int32_t set;           /* CQ_ORDERS_* */
    uint32_t instrument;   /* 0 = any */
    uint32_t strategy;     /* 0 = any */
} cq_order_query_t;
/* CQ_FFI_END */

/* Orders matching q, in insertion order, written to out[0..cap). Returns the
 * total number matching (which may exceed cap, like snprintf), or a negative
 * CQ_E* code. out may be NULL when cap is 0 (count only). */
long cq_cache_orders(const cq_cache_t *cache, const cq_order_query_t *q, cq_order_t **out, size_t cap);

/* Set sizes in O(1). */
size_t cq_cache_order_count(const cq_cache_t *cache, int32_t set);

/* ---- positions -------------------------------------------------------------
 * One position per (instrument, strategy); addresses are stable. */
cq_position_t *cq_cache_position(const cq_cache_t *cache, uint32_t instrument, uint32_t strategy);
/* Get, creating a flat (all-zero) position if absent. */
int cq_cache_position_get(cq_cache_t *cache, uint32_t instrument, uint32_t strategy, cq_position_t **out);
/* Positions of a strategy (0 = all), in creation order; count semantics as
 * cq_cache_orders. */
long cq_cache_positions(const cq_cache_t *cache, uint32_t strategy, cq_position_t **out, size_t cap);

/* ---- account balances: one per (venue, asset) ------------------------------ */
cq_balance_t *cq_cache_balance(const cq_cache_t *cache, const char *venue, const char *asset);
int cq_cache_balance_get(cq_cache_t *cache, const char *venue, const char *asset, cq_balance_t **out);
/* Balances of a venue (NULL = all), in creation order. */
long cq_cache_balances(const cq_cache_t *cache, const char *venue, cq_balance_t **out, size_t cap);

/* ---- latest market data per instrument -------------------------------------
 * The instrument comes from the event's hdr.instrument (must be interned). */
int cq_cache_quote_set(cq_cache_t *cache, const cq_quote_t *q);
const cq_quote_t *cq_cache_quote(const cq_cache_t *cache, uint32_t instrument);
int cq_cache_trade_set(cq_cache_t *cache, const cq_trade_t *t);
const cq_trade_t *cq_cache_trade(const cq_cache_t *cache, uint32_t instrument);

#endif
