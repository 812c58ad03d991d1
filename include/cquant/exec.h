/*
 * exec.h - the ExecutionEngine: the only way an order reaches a venue, and
 * the only reader of the venue's execution reports.
 *
 * Submit path (pre-tracking): validate and normalize the draft, snap its
 * price and quantity to the instrument's exact grid doubles, assign the
 * client order id, run the RiskEngine (a denied order is filed in the cache
 * as DENIED, announced with its reason, and never reaches the venue), then
 * journal -> cache (SUBMITTED, in flight) -> order event -> venue. No order
 * is ever "sent but unknown": if the journal cannot record it, it is not
 * sent.
 *
 * Reports (cq_exec_on_report, the venue's report callback) are mapped to the
 * order state machine (order.h), fills are de-duplicated by venue trade id
 * and applied to the Portfolio with the venue's full quantity, and every
 * change is journalled and published:
 *   events.order.<STRATEGY>   cq_order_event_t
 *   events.fill.<STRATEGY>    cq_fill_t
 *
 * Timeouts (cq_exec_tick), the lost-order rule, reconciliation and external
 * orders are described in docs/execution.md.
 *
 * Bus endpoints (request/response; the response is a cq_exec_response_t):
 *   exec.submit      request: cq_order_t (draft)
 *   exec.cancel      request: cq_exec_cancel_req_t
 *   exec.modify      request: cq_exec_modify_req_t
 *   exec.cancel_all  request: cq_exec_cancel_all_req_t
 * They use the engine's clock: the latest `now` given to any call.
 *
 * Errors: CQ_EINVAL (NULL, bad draft, bad numbers; a reason is kept, see
 * cq_exec_last_reason), CQ_ENOENT (unknown client order id), CQ_ESTATE (the
 * state machine forbids the request: e.g. cancel of a closed order),
 * CQ_EDENIED (risk), CQ_EIO (the journal refused the order: not sent),
 * CQ_ENOMEM, or the venue call's own error.
 *
 * Single-threaded; no global state. The engine does not depend on any I/O
 * layer: a journal plugs in through cq_exec_journal_t.
 */
#ifndef CQUANT_EXEC_H
#define CQUANT_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/bus.h"
#include "cquant/cache.h"
#include "cquant/event.h"
#include "cquant/log.h"
#include "cquant/order.h"
#include "cquant/portfolio.h"
#include "cquant/risk.h"
#include "cquant/venue.h"

/* The journal as the engine sees it (the SQLite journal lives in io and
 * provides one of these). Every function receives `user`. Any member may be
 * NULL: that record is not kept (next_client_id NULL: the engine generates
 * ids itself, unique per engine life only). */
typedef struct cq_exec_journal {
    void *user;
    /* The order about to be sent, status SUBMITTED. Must be durable when it
     * returns 0; any error means "not recorded": the order is not sent. */
    int (*record_submit)(void *user, const cq_order_t *order);
    /* The order after one state change (its new status), and the one before. */
    int (*record_event)(void *user, const cq_order_t *order, int32_t prev_status);
    /* One fill; CQ_EEXIST if the journal already holds its trade id (the
     * fill is then a duplicate and is not applied). */
    int (*record_fill)(void *user, const cq_fill_t *fill);
    /* A fresh client order id, unique across restarts: [A-Za-z0-9_-],
     * at most CQ_ORDER_ID_MAX characters, NUL-terminated. */
    int (*next_client_id)(void *user, char out[40]);
    /* Optional grouping (both or neither): the engine brackets a fill's
     * record_fill and the record_event of the change it causes, so that a
     * crash never leaves the fill recorded without its effect on the order
     * (after a restart the venue's copy of that fill would be refused as a
     * duplicate and the order would never catch up). Nothing between them
     * is durable before commit returns 0; the venue is not called between
     * them. */
    int (*begin)(void *user);
    int (*commit)(void *user);
} cq_exec_journal_t;

typedef struct cq_exec_config {
    int64_t ack_timeout_ns;    /* in flight this long without an answer -> query (0 = 5 s) */
    int64_t query_interval_ns; /* between queries of one order (0 = 1 s) */
    uint32_t lost_after;       /* NOT_FOUND answers before an order is lost (0 = 3) */
    int64_t id_epoch_ns;       /* base of the generated id prefix (0 = wall clock) */
} cq_exec_config_t;

/* CQ_FFI_BEGIN */
typedef struct cq_exec_response {
    int32_t status;            /* 0 or CQ_E* */
    int32_t count;             /* cancel_all: cancels sent */
    char client_order_id[40];
    char reason[64];           /* denial / error reason; "" when status is 0 */
} cq_exec_response_t;

typedef struct cq_exec_cancel_req {
    char client_order_id[40];
} cq_exec_cancel_req_t;

typedef struct cq_exec_modify_req {
    char client_order_id[40];
    double price;              /* new limit price, 0 = unchanged */
    double qty;                /* new quantity, 0 = unchanged */
} cq_exec_modify_req_t;

typedef struct cq_exec_cancel_all_req {
    uint32_t instrument;       /* 0 = any */
    uint32_t strategy;         /* 0 = any */
} cq_exec_cancel_all_req_t;
/* CQ_FFI_END */

typedef struct cq_exec_stats {
    uint64_t submitted;        /* sent to the venue */
    uint64_t denied;
    uint64_t invalid;          /* refused drafts / requests (CQ_EINVAL) */
    uint64_t journal_errors;   /* record_* failures other than a duplicate fill */
    uint64_t venue_errors;     /* venue calls that returned an error */
    uint64_t reports;          /* reports received */
    uint64_t fills;            /* fills applied */
    uint64_t duplicate_fills;  /* fills ignored: trade id already seen */
    uint64_t fills_without_id; /* applied, but could not be de-duplicated */
    uint64_t portfolio_errors; /* fills the Portfolio refused */
    uint64_t illegal;          /* reports the state machine refused (CQ_ESTATE) */
    uint64_t unknown_reports;  /* reports for orders we did not know */
    uint64_t external_orders;  /* of those, orders adopted as external */
    uint64_t queries;          /* query_order calls */
    uint64_t not_found;        /* NOT_FOUND answers counted toward the lost rule */
    uint64_t lost;             /* orders declared lost (REJECTED) */
    uint64_t revived;          /* lost orders a later report brought back */
    uint64_t fill_gaps;        /* STATUS answers showing fills we have not seen */
    uint64_t reconciles;
} cq_exec_stats_t;

typedef struct cq_exec cq_exec_t;

/* bus, cache, risk, portfolio and venue are required (venue with ops);
 * journal, cfg and log may be NULL. The engine keeps the pointers, copies
 * *venue and *journal, and registers the exec.* bus endpoints (CQ_EEXIST if
 * another engine holds them). The venue's report callback must be
 * cq_exec_on_report with the engine as user. */
int cq_exec_create(cq_exec_t **out, cq_bus_t *bus, cq_cache_t *cache, cq_risk_t *risk,
                   cq_portfolio_t *portfolio, const cq_venue_t *venue,
                   const cq_exec_journal_t *journal, const cq_exec_config_t *cfg,
                   const cq_log_t *log);
/* Deregisters the endpoints and frees the engine (not the cache's orders). */
void cq_exec_destroy(cq_exec_t *ex);

/* Submit a draft: hdr.instrument, hdr.strategy (interned in the cache),
 * side, type, tif, opts, price, trigger_price, qty, tag. Its client order
 * id, status and fill fields are ignored. The assigned id goes to out_id
 * (may be NULL), also for a denied order. 0 when the order was handed to
 * the venue. */
int cq_exec_submit(cq_exec_t *ex, const cq_order_t *draft, int64_t now, char out_id[40]);

/* Ask the venue to cancel an order (-> PENDING_CANCEL). */
int cq_exec_cancel(cq_exec_t *ex, const char *client_order_id, int64_t now);

/* Ask the venue for a new limit price and/or quantity (0 = unchanged;
 * -> PENDING_UPDATE). Both are snapped to the grid; off the grid, non-finite,
 * negative, both 0, or a quantity not above the filled quantity: CQ_EINVAL. */
int cq_exec_modify(cq_exec_t *ex, const char *client_order_id, double price, double qty, int64_t now);

/* Cancel every open or in-flight order of a strategy and/or instrument
 * (0 = any) not already being canceled. The number of cancels sent goes to
 * *count (may be NULL). Returns 0 or the first error met (it goes on). */
int cq_exec_cancel_all(cq_exec_t *ex, uint32_t instrument, uint32_t strategy, int64_t now,
                       size_t *count);

/* The venue's report callback (a cq_report_fn): ex is the engine. */
void cq_exec_on_report(void *ex, const cq_exec_report_t *report);

/* Timers: query orders in flight past the ack timeout. Call it from the
 * runtime's clock, every query_interval or more often. */
int cq_exec_tick(cq_exec_t *ex, int64_t now);

/* Restart: make the engine track the orders already in the cache that it
 * did not place itself - normally the journal's open orders, just loaded
 * with cq_journal_restore_open. Each one not closed and not yet tracked gets
 * a tracking record (timeouts, the lost rule, reconciliation); those in
 * flight (SUBMITTED, PENDING_CANCEL, PENDING_UPDATE) are queried at once.
 * The number adopted goes to *count (may be NULL). Call it once after the
 * restore and before cq_exec_reconcile. CQ_EINVAL, CQ_ENOMEM. */
int cq_exec_adopt_open(cq_exec_t *ex, int64_t now, size_t *count);

/* Bring the engine (cache, portfolio, journal) into agreement with the
 * venue's open orders (STATUS-like reports) and recent fills (FILL-like
 * reports: client/venue order id, trade id, side, last_price, last_qty,
 * fee, fee_asset). Arrays may be NULL when their count is 0. Orders we hold
 * as open, in flight or lost that the venue does not list are queried. */
int cq_exec_reconcile(cq_exec_t *ex, const cq_exec_report_t *venue_open, size_t n_open,
                      const cq_exec_report_t *venue_fills, size_t n_fills, int64_t now);

/* The reason of the last refused call ("" if none); valid until the next
 * call. */
const char *cq_exec_last_reason(const cq_exec_t *ex);

/* The state machine's counters for this engine. */
void cq_exec_sm_stats(const cq_exec_t *ex, cq_order_sm_stats_t *out);
/* Zeros for NULL. */
void cq_exec_stats(const cq_exec_t *ex, cq_exec_stats_t *out);

/* The strategy handle external orders are filed under ("external"). */
uint32_t cq_exec_external_strategy(const cq_exec_t *ex);

#endif
