/*
 * venue.h - the venue interface, and the execution reports venues send back.
 *
 * A venue adapter (sim, binance, ...) implements cq_venue_ops_t. Calls are
 * requests: their outcome arrives later, as cq_exec_report_t, through the
 * report callback the runtime installed (the ExecutionEngine's). A call
 * returns 0 when the request was handed over (sent, or queued by a simulated
 * latency), or a negative CQ_E* code when it could not even be attempted
 * (not connected: CQ_ECLOSED; bad argument: CQ_EINVAL). A 0 return says
 * nothing about the venue's answer: reports do.
 *
 * Reports may arrive late, twice, out of order or never (that is what the
 * ExecutionEngine is for); a venue does not hide that, and the simulated
 * venue can inject it on purpose.
 */
#ifndef CQUANT_VENUE_H
#define CQUANT_VENUE_H

#include <stdint.h>

#include "cquant/event.h"

/* CQ_FFI_BEGIN */
enum {
    CQ_REPORT_ACCEPTED = 1,       /* order is working at the venue */
    CQ_REPORT_REJECTED = 2,       /* venue refused the order (reason) */
    CQ_REPORT_FILL = 3,           /* one execution: trade_id, last_price, last_qty */
    CQ_REPORT_CANCELED = 4,
    CQ_REPORT_EXPIRED = 5,        /* IOC/FOK remainder, or venue expiry */
    CQ_REPORT_MODIFIED = 6,       /* price/qty changed as asked */
    CQ_REPORT_CANCEL_REJECTED = 7,
    CQ_REPORT_MODIFY_REJECTED = 8,
    CQ_REPORT_STATUS = 9,         /* answer to a query: the venue's view (status, cum_qty...) */
    CQ_REPORT_NOT_FOUND = 10      /* answer to a query: the venue has no such order */
};

typedef struct cq_exec_report {
    cq_event_hdr_t hdr;        /* instrument; ts_event = venue time; ts_init = receipt */
    int32_t kind;              /* CQ_REPORT_* */
    int32_t status;            /* venue's view of the order after this report, CQ_OS_* (0 if unknown) */
    char client_order_id[40];
    char venue_order_id[40];
    char trade_id[40];         /* fills: venue trade id (de-duplication key) */
    int32_t side;              /* CQ_SIDE_* */
    int32_t liquidity;         /* fills: CQ_LIQ_MAKER / CQ_LIQ_TAKER */
    double last_price;         /* fills */
    double last_qty;           /* fills */
    double cum_qty;            /* total filled so far, as the venue counts it */
    double leaves_qty;         /* still working */
    double price;              /* order's current limit price (MODIFIED / STATUS) */
    double qty;                /* order's current quantity (MODIFIED / STATUS) */
    double fee;                /* fills: fee charged for this execution */
    char fee_asset[16];
    char reason[64];           /* rejections */
} cq_exec_report_t;
/* CQ_FFI_END */

CQ_ASSERT_LAYOUT(cq_exec_report_t, 304);

typedef void (*cq_report_fn)(void *user, const cq_exec_report_t *report);

typedef struct cq_venue_ops {
    const char *name;          /* "SIM", "BINANCE" */
    int (*submit)(void *self, const cq_order_t *order);
    int (*cancel)(void *self, const cq_order_t *order);
    /* New limit price and quantity (0 = unchanged). */
    int (*modify)(void *self, const cq_order_t *order, double price, double qty);
    /* Answered by one CQ_REPORT_STATUS or CQ_REPORT_NOT_FOUND. */
    int (*query_order)(void *self, uint32_t instrument, const char *client_order_id);
    /* Answered by one CQ_REPORT_STATUS per open order (instrument 0 = all). */
    int (*query_open_orders)(void *self, uint32_t instrument);
    void (*close)(void *self);
} cq_venue_ops_t;

typedef struct cq_venue {
    const cq_venue_ops_t *ops;
    void *self;
} cq_venue_t;

#endif
