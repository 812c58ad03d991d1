/*
 * sim_venue.h - the simulated venue: the matching engine of backtest and
 * paper mode.
 *
 * It implements the venue interface of venue.h (cq_sim_venue gives the
 * cq_venue_t) and fills orders against the L2 books the runtime shows it,
 * with a queue-position estimate for resting orders, order and report
 * latencies, maker/taker fees, and faults injected on demand. The model is
 * documented rule by rule, with worked examples, in docs/fill-model.md;
 * what follows is the contract of the calls.
 *
 * Time. The sim has no clock: the runtime drives it. Every call below that
 * takes a time first processes everything due at or before it - requests
 * reaching the venue after the order latency, reports reaching us after the
 * report latency - in time order (ties: the order they were scheduled in).
 * Time never goes back: a time before the sim's is taken as the sim's.
 * Requests made through the venue ops are stamped with the sim's current
 * time (the last advance or market event, or the delivery time of the
 * report whose callback makes them). For exact timing in backtest, call
 * cq_sim_advance(ts) before applying a market event stamped ts to the book,
 * and cq_sim_on_book / cq_sim_on_trade after.
 *
 * Reports are delivered by calling cfg.report from inside cq_sim_advance,
 * cq_sim_on_book and cq_sim_on_trade (never from a venue op). The callback
 * may call the venue ops; it may not call those three (CQ_EBUSY).
 *
 * Units. Prices and quantities are converted to integer ticks and size
 * units with the instrument's spec from the cache (tick_units /
 * price_precision, step_units / size_precision; tick_size / step_size if
 * those are unset), matched as integers, and reported as the doubles
 * nearest to their decimal values.
 *
 * Venue ops (venue.h). Return 0 when the request was queued; CQ_EINVAL for
 * a request that cannot be sent at all: NULL, an empty client order id, a
 * side, type or tif that is not a CQ_* value (tif 0 means GTC), a NaN or
 * infinite price, trigger or quantity, negative modify values; CQ_ETOOLONG
 * for a client order id over CQ_ORDER_ID_MAX characters or not terminated
 * in its field; CQ_ECLOSED after close; CQ_ENOMEM. Everything a real venue
 * would judge (unknown instrument, quantity 0, off-tick price...) is
 * answered by a REJECTED / CANCEL_REJECTED / MODIFY_REJECTED report.
 *
 * Records. The sim keeps every order that reached it (rejections included,
 * except a duplicate client order id, which is answered but not recorded)
 * and every fill, for its whole life: about 330 bytes per order and 200 per
 * fill. cq_sim_orders and cq_sim_fills expose them so a test can check that
 * the ExecutionEngine ends equal to the venue.
 *
 * Single-threaded; no global state. Allocation happens only to grow.
 */
#ifndef CQUANT_SIM_VENUE_H
#define CQUANT_SIM_VENUE_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/book.h"
#include "cquant/cache.h"
#include "cquant/event.h"
#include "cquant/venue.h"

typedef struct cq_sim cq_sim_t;

/* Faults, all seeded and deterministic (the same inputs and seed give the
 * same reports). Probabilities are in [0, 1]; 0 disables a fault. Report
 * faults apply to every report, each drawn independently, in this order:
 * drop (never delivered), delay (delivered delay_ns later), reorder (it
 * swaps delivery slots with the previous report still waiting for delivery,
 * so the two arrive in reverse order; nothing happens if none is waiting),
 * duplicate (delivered a second time right after). */
typedef struct cq_sim_faults {
    double drop;
    double delay;
    int64_t delay_ns;          /* >= 0 */
    double reorder;
    double duplicate;
    double not_found;          /* a query_order is answered NOT_FOUND */
    uint32_t not_found_next;   /* the next N query_order answers are NOT_FOUND */
    double reject;             /* an arriving order is REJECTED */
    uint32_t reject_next;      /* the next N arriving orders are REJECTED */
} cq_sim_faults_t;

typedef struct cq_sim_config {
    int64_t order_latency_ns;  /* request (submit/cancel/modify/query) to the venue, >= 0 */
    int64_t report_latency_ns; /* report from the venue to us, >= 0 */
    double maker_fee_bps;      /* fee = price * qty * bps / 10000, in the quote asset; */
                               /* may be < 0 (a rebate) */
    double taker_fee_bps;
    uint64_t seed;             /* of the fault draws */
    cq_sim_faults_t faults;
    cq_report_fn report;       /* required */
    void *report_user;
    uint32_t initial_orders;   /* order records allocated (and made resident)
                                  up front, so that the first that many
                                  orders never grow an array or page-fault;
                                  0 = 1024, at most 1 << 24 (else CQ_EINVAL) */
    uint32_t reserved_;
} cq_sim_config_t;

typedef struct cq_sim_stats {
    uint64_t requests;         /* requests that reached the venue */
    uint64_t orders;           /* orders recorded */
    uint64_t rejected;         /* orders rejected (injected ones included) */
    uint64_t fills;
    uint64_t reports;          /* reports generated */
    uint64_t delivered;        /* report callbacks made (duplicates included) */
    uint64_t dropped, delayed, reordered, duplicated;
    uint64_t injected_not_found, injected_rejects;
    uint64_t alloc_failures;   /* work lost to CQ_ENOMEM */
} cq_sim_stats_t;

/* cfg and cache are required; the cache must outlive the sim (specs are
 * read from it when orders arrive and fill). CQ_EINVAL for a NULL argument,
 * a missing report callback, a negative latency or delay, a probability
 * outside [0, 1] (NaN included), or initial_orders above 1 << 24;
 * CQ_ENOMEM. */
int cq_sim_create(cq_sim_t **out, const cq_sim_config_t *cfg, const cq_cache_t *cache);
/* Frees everything; pending reports are discarded, no callback is made. */
void cq_sim_destroy(cq_sim_t *sim);

/* The venue interface (ops name "SIM"). CQ_EINVAL for NULL. */
int cq_sim_venue(cq_sim_t *sim, cq_venue_t *out);

/* Replace the fault settings (the next-N counters included) from now on.
 * CQ_EINVAL as for cq_sim_create. */
int cq_sim_set_faults(cq_sim_t *sim, const cq_sim_faults_t *faults);

/* Process everything due at or before now. CQ_EBUSY from a report
 * callback, CQ_ECLOSED after close, CQ_ENOMEM if some work could not be
 * done (counted in stats.alloc_failures; the sim stays consistent). */
int cq_sim_advance(cq_sim_t *sim, int64_t now);

/* The venue's book of an instrument changed (after a batch). The sim keeps
 * the pointer and reads the book whenever it matches that instrument, so
 * the book must stay valid until the sim is destroyed or is given another
 * one. Processes what is due at ts, then applies the book rules of
 * docs/fill-model.md (own-liquidity reset, queue shrink, resting orders
 * the book moved through, stop triggers). CQ_EINVAL (NULL), CQ_ENOENT (no
 * spec in the cache), CQ_EBUSY, CQ_ECLOSED, CQ_ENOMEM. */
int cq_sim_on_book(cq_sim_t *sim, uint32_t instrument, const cq_book_t *book, int64_t ts);

/* A trade printed at the venue. Its time is t->hdr.ts_init (ts_event if
 * 0); price and qty are rounded to the nearest tick and size unit. Applies
 * the trade rules (queue ahead, maker fills, stop triggers); an aggressor
 * of CQ_SIDE_NONE (unknown) counts for both sides. Errors as
 * cq_sim_on_book; CQ_EINVAL also for a non-finite or negative price/qty or
 * an aggressor that is not a CQ_SIDE_* value. */
int cq_sim_on_trade(cq_sim_t *sim, const cq_trade_t *t);

/* The sim's time (last advance / market event). 0 for NULL. */
int64_t cq_sim_now(const cq_sim_t *sim);

/* Time of the next scheduled request arrival or report delivery: what a
 * backtest driver passes to cq_sim_advance between market events.
 * CQ_ENOENT if nothing is pending, CQ_EINVAL for NULL. */
int cq_sim_next_due(const cq_sim_t *sim, int64_t *due);

/* Records, in arrival order (orders) and execution order (fills). The
 * arrays belong to the sim and stay valid until its next call that
 * processes something (advance, market data). NULL with *count = 0 for a
 * NULL sim. Order records: status is the venue's, price/qty/trigger are the
 * snapped values, filled_qty / avg_fill_price / fees accumulate the fills,
 * hdr.ts_init is the arrival time and hdr.ts_event the last change. */
const cq_order_t *cq_sim_orders(const cq_sim_t *sim, size_t *count);
const cq_fill_t *cq_sim_fills(const cq_sim_t *sim, size_t *count);
/* One order record by client order id; NULL if the venue has none. */
const cq_order_t *cq_sim_order(const cq_sim_t *sim, const char *client_order_id);

/* The estimated quantity ahead of a resting order in its level's queue, as a
 * size. CQ_ENOENT for an unknown order, CQ_ESTATE if it is not resting (not
 * yet arrived, closed, or a stop waiting for its trigger), CQ_EINVAL. */
int cq_sim_queue_ahead(const cq_sim_t *sim, const char *client_order_id, double *qty);

int cq_sim_stats(const cq_sim_t *sim, cq_sim_stats_t *out);

#endif
