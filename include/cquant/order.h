/*
 * order.h - the order model: the state machine of DESIGN.md ("State
 * machine"), fill accounting on the order, and structural validation.
 *
 * An order's life is driven by events: local requests (SUBMIT, DENY,
 * CANCEL_REQUEST, MODIFY_REQUEST) and venue reports (ACCEPT, REJECT, FILL,
 * CANCEL, CANCEL_REJECT, MODIFY, MODIFY_REJECT, EXPIRE). One explicit table
 * of states x events, in runtime/model/order.c and reproduced in
 * docs/orders.md, says for each pair whether the event is legal and what
 * the resulting status is. Local requests are strict: a cancel request for
 * a closed order is illegal. Venue reports are lenient where a race makes
 * them possible, because the venue is the truth:
 *
 *   - a fill before the ack (SUBMITTED + FILL) implies acceptance:
 *     PARTIALLY_FILLED, or FILLED if it completes the order;
 *   - a fill for a CANCELED or EXPIRED order (it crossed our cancel, or the
 *     reports were reordered) is applied to the quantities; the status stays
 *     unless the fill completes the order, which makes it FILLED;
 *   - a fill while PENDING_CANCEL / PENDING_UPDATE keeps the pending status
 *     (the request is still outstanding) unless it completes the order;
 *   - a cancel ack, cancel reject or late ack after a full fill leaves the
 *     order FILLED;
 *   - a REJECTED order (the ExecutionEngine marks a lost order REJECTED after
 *     repeated "not found" answers) is revived by a later ACCEPT, FILL,
 *     MODIFY, CANCEL or EXPIRE from the venue.
 *
 * An illegal event is logged (WARN, module "order"), counted in
 * cq_order_sm_stats_t, leaves the order untouched and returns CQ_ESTATE. It
 * is never fatal.
 *
 * The state machine writes o->status and the order's quantities only. An
 * order held by the cache must then be re-filed with
 * cq_cache_order_set_status(cache, o, o->status): the cache keeps its own
 * record of which set the order was in, so this works after the fact.
 */
#ifndef CQUANT_ORDER_H
#define CQUANT_ORDER_H

#include <stdint.h>

#include "cquant/event.h"
#include "cquant/log.h"

/* Order events, the columns of the transition table. */
enum {
    CQ_OE_SUBMIT = 1,         /* local: handed to the venue (after the journal) */
    CQ_OE_DENY = 2,           /* local: refused by the RiskEngine */
    CQ_OE_ACCEPT = 3,         /* venue: working */
    CQ_OE_REJECT = 4,         /* venue: order refused (or ExecutionEngine: lost) */
    CQ_OE_FILL = 5,           /* venue: one execution, partial or full */
    CQ_OE_CANCEL_REQUEST = 6, /* local: cancel sent */
    CQ_OE_CANCEL = 7,         /* venue: canceled */
    CQ_OE_CANCEL_REJECT = 8,  /* venue: cancel refused (e.g. already filled) */
    CQ_OE_MODIFY_REQUEST = 9, /* local: modify sent */
    CQ_OE_MODIFY = 10,        /* venue: modified as asked */
    CQ_OE_MODIFY_REJECT = 11, /* venue: modify refused */
    CQ_OE_EXPIRE = 12,        /* venue: IOC/FOK remainder, or time in force ran out */
    CQ_OE_COUNT_ = 13
};

/* What an event carries. Only FILL and MODIFY read more than ts_event.
 * Quantities are counted exactly in the instrument's steps: a filled_qty is
 * always steps * step_size converted once, never a running sum. */
typedef struct cq_order_change {
    const cq_instrument_t *instrument; /* FILL, MODIFY: the order's spec
                                          (hdr.instrument must match) */
    int64_t ts_event;         /* venue time; 0 = leave o->hdr.ts_event */
    double last_qty;          /* FILL: executed quantity, > 0, on the step */
    double last_price;        /* FILL: execution price, > 0 */
    double fee;               /* FILL: added to o->fees (may be < 0: rebate) */
    double price;             /* MODIFY: new limit price, 0 = unchanged */
    double trigger_price;     /* MODIFY: new trigger price, 0 = unchanged */
    double qty;               /* MODIFY: new quantity, 0 = unchanged */
} cq_order_change_t;

/* Counters; the caller owns them (one per ExecutionEngine, say). */
typedef struct cq_order_sm_stats {
    uint64_t applied;         /* legal events applied (return 0 or CQ_ERANGE) */
    uint64_t illegal;         /* refused: CQ_ESTATE */
    uint64_t illegal_by[CQ_OS_COUNT_][CQ_OE_COUNT_]; /* [status][event] */
    uint64_t overfills;       /* fills beyond the order's quantity (CQ_ERANGE) */
    uint64_t late_fills;      /* fills applied to CANCELED/EXPIRED/REJECTED orders */
    uint64_t bad_input;       /* CQ_EINVAL: unknown event or status, bad change */
} cq_order_sm_stats_t;

/* Apply one event to o.
 *
 * Returns 0 when applied (the status may be unchanged: a legal event such
 * as a duplicate ack keeps it), CQ_ESTATE when the table forbids the event
 * in o's status (logged, counted, o untouched), CQ_EINVAL for NULL o, an
 * unknown event or status, or a bad change (FILL without chg->instrument,
 * last_qty <= 0 or off the step, last_price <= 0, non-finite numbers;
 * o untouched, counted).
 *
 * FILL adds last_qty to filled_qty (exactly, in steps), updates
 * avg_fill_price (the quantity-weighted mean, computed incrementally in
 * double: a display value) and fees. A fill beyond the order's quantity
 * fills it up to qty only, makes it FILLED, and returns CQ_ERANGE (counted
 * as an overfill); the venue's full quantity is still the truth for the
 * position, which is the Portfolio's business.
 *
 * MODIFY applies the non-zero fields of chg (price, trigger_price, qty)
 * unless the order is FILLED, CANCELED or EXPIRED. A new qty equal to the
 * filled quantity makes the order FILLED; a new qty below it is CQ_EINVAL.
 *
 * stats and log may be NULL. */
int cq_order_apply(cq_order_t *o, int32_t event, const cq_order_change_t *chg,
                   cq_order_sm_stats_t *stats, const cq_log_t *log);

/* 1 if the table allows event in status, else 0 (also for values out of
 * range). */
int cq_order_is_legal(int32_t status, int32_t event);

/* "SUBMIT", "CANCEL_REQUEST"...; "?" for unknown values. */
const char *cq_order_event_name(int32_t event);

/* LIMIT_MAKER implies post-only: sets CQ_ORDER_OPT_POST_ONLY on it so that
 * readers of opts see it. CQ_EINVAL for NULL. */
int cq_order_normalize(cq_order_t *o);

/* Structural checks of a new order (the RiskEngine checks it against the
 * instrument and the limits):
 *   side BUY or SELL; a known type and time in force; only known opts bits;
 *   qty finite and > 0;
 *   MARKET and STOP_MARKET have no price (0); LIMIT, LIMIT_MAKER and
 *   STOP_LIMIT have a finite price > 0;
 *   STOP_MARKET and STOP_LIMIT have a finite trigger_price > 0; the others 0;
 *   LIMIT_MAKER (post-only) is GTC: IOC and FOK never rest, and a post-only
 *   order exists only to rest; POST_ONLY on any other type is refused
 *   (post-only is spelled LIMIT_MAKER).
 * Returns 0 or CQ_EINVAL with a static description in *reason (reason may
 * be NULL). */
int cq_order_validate(const cq_order_t *o, const char **reason);

#endif
