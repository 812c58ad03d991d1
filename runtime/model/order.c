/*
 * order.c - the order state machine: one table of states x events, the
 * side effects of each event (fill accounting, modifications, the state a
 * rejected request resumes), and structural validation of new orders.
 *
 * Owns nothing: it works on a cq_order_t the caller holds (usually the
 * cache's). Never allocates, never touches the cache's indexes (the caller
 * re-files the order, see order.h), and never changes an order when it
 * returns CQ_ESTATE or CQ_EINVAL: everything is checked before the first
 * write.
 */
#include <math.h>
#include <stddef.h>

#include "cquant/error.h"
#include "cquant/order.h"

/* Table entries: a CQ_OS_* target, or one of these. */
enum {
    xx = 0,  /* illegal: logged, counted, CQ_ESTATE */
    KP = -1, /* keep: legal, status unchanged (a race or a duplicate) */
    FL = -2, /* fill: FILLED if the order is now complete, else PARTIALLY_FILLED */
    KF = -3, /* keep, or FILLED if the order is now complete */
    BS = -4, /* the open state the pending request was entered from (resume_status) */
    MB = -5  /* modified at the venue: FILLED if complete, PARTIALLY_FILLED if
                anything is filled, else ACCEPTED (a modify ack implies acceptance) */
};

/* Two-letter states keep the table one screen wide. */
#define I_ CQ_OS_INITIALIZED
#define DN CQ_OS_DENIED
#define SB CQ_OS_SUBMITTED
#define AC CQ_OS_ACCEPTED
#define RJ CQ_OS_REJECTED
#define PF CQ_OS_PARTIALLY_FILLED
#define FD CQ_OS_FILLED
#define PC CQ_OS_PENDING_CANCEL
#define PU CQ_OS_PENDING_UPDATE
#define CX CQ_OS_CANCELED
#define EX CQ_OS_EXPIRED

/* The transition table (docs/orders.md reproduces it). Rows: the order's
 * status; columns: the event. Local requests (SUBMIT, DENY, CXL_RQ, MOD_RQ)
 * are strict; venue reports are lenient wherever reordering, duplicates or
 * a race with our own request can produce them. */
static const int8_t table[CQ_OS_COUNT_][CQ_OE_COUNT_] = {
    /*                 SUBMIT DENY   ACCEPT REJECT FILL   CXL_RQ CANCEL CXL_RJ MOD_RQ MODIFY MOD_RJ EXPIRE */
    [I_] = {[1] = SB,    DN,    xx,    xx,    xx,    xx,    xx,    xx,    xx,    xx,    xx,    xx},
    [DN] = {[1] = xx,    xx,    xx,    xx,    xx,    xx,    xx,    xx,    xx,    xx,    xx,    xx},
    [SB] = {[1] = xx,    xx,    AC,    RJ,    FL,    PC,    CX,    KP,    PU,    MB,    KP,    EX},
    [AC] = {[1] = xx,    xx,    KP,    RJ,    FL,    PC,    CX,    KP,    PU,    MB,    KP,    EX},
    [RJ] = {[1] = xx,    xx,    AC,    KP,    FL,    xx,    CX,    KP,    xx,    MB,    KP,    EX},
    [PF] = {[1] = xx,    xx,    KP,    xx,    FL,    PC,    CX,    KP,    PU,    MB,    KP,    EX},
    [FD] = {[1] = xx,    xx,    KP,    xx,    FL,    xx,    KP,    KP,    xx,    KP,    KP,    xx},
    [PC] = {[1] = xx,    xx,    KP,    RJ,    KF,    KP,    CX,    BS,    xx,    KF,    KP,    EX},
    [PU] = {[1] = xx,    xx,    KP,    RJ,    KF,    PC,    CX,    KP,    KP,    MB,    BS,    EX},
    [CX] = {[1] = xx,    xx,    KP,    xx,    KF,    xx,    KP,    KP,    xx,    KP,    KP,    xx},
    [EX] = {[1] = xx,    xx,    KP,    xx,    KF,    xx,    xx,    KP,    xx,    KP,    KP,    KP},
};

static const char *const event_names[CQ_OE_COUNT_] = {
    NULL,     "SUBMIT",         "DENY",   "ACCEPT",        "REJECT",
    "FILL",   "CANCEL_REQUEST", "CANCEL", "CANCEL_REJECT", "MODIFY_REQUEST",
    "MODIFY", "MODIFY_REJECT",  "EXPIRE"};

static const double pow10_tab[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
                                   1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

#define MAX_EXACT 9007199254740992.0 /* 2^53: beyond it a double is not a count */

const char *cq_order_event_name(int32_t event)
{
    return event > 0 && event < CQ_OE_COUNT_ ? event_names[event] : "?";
}

static int status_ok(int32_t s) { return s > 0 && s < CQ_OS_COUNT_; }
static int event_ok(int32_t e) { return e > 0 && e < CQ_OE_COUNT_; }
static int pending(int32_t s) { return s == PC || s == PU; }

int cq_order_is_legal(int32_t status, int32_t event)
{
    return status_ok(status) && event_ok(event) && table[status][event] != xx;
}

static int spec_ok(const cq_instrument_t *in)
{
    return in->step_units > 0 && in->size_precision >= 0 && in->size_precision <= 18;
}

/* A quantity as a count of steps. The double must be within 1e-9 relative
 * (and a quarter step) of a whole number of steps: the venue and the
 * RiskEngine put quantities on the grid, so anything else is bad data. */
static int to_steps(const cq_instrument_t *in, double qty, int64_t *out)
{
    double x = qty * pow10_tab[in->size_precision];
    if (in->step_units != 1) /* the usual step is one unit of the last decimal */
        x /= (double)in->step_units;
    if (!(x >= 0.5) || !(x <= MAX_EXACT)) /* also refuses NaN */
        return CQ_EINVAL;
    double r = (double)(int64_t)(x + 0.5); /* x > 0: truncation after +0.5 rounds */
    double d = x - r, tol = x < 2.5e8 ? 1e-9 * x : 0.25;
    if (d > tol || -d > tol)
        return CQ_EINVAL;
    *out = (int64_t)r;
    return 0;
}

/* Converted once from the exact count: equal quantities give equal doubles. */
static double from_steps(const cq_instrument_t *in, int64_t steps)
{
    return (double)(steps * in->step_units) / pow10_tab[in->size_precision];
}

static void count_bad(cq_order_sm_stats_t *stats)
{
    if (stats)
        stats->bad_input++;
}

/* The open state a rejected cancel/modify resumes. resume_status is set
 * when the pending state is entered and kept current by acks and fills;
 * an order loaded without it (e.g. from an older journal) falls back on
 * what its quantities say. */
static int32_t resume_state(const cq_order_t *o)
{
    if (o->filled_qty > 0)
        return PF;
    if (o->resume_status == SB || o->resume_status == AC)
        return o->resume_status;
    return AC;
}

/* A fill, checked in full before anything is written. */
typedef struct fill_plan {
    int64_t qty, filled, applied; /* steps */
    int overfill;
} fill_plan_t;

static int plan_fill(const cq_order_t *o, const cq_order_change_t *c, fill_plan_t *p)
{
    if (!c || !c->instrument || c->instrument->hdr.instrument != o->hdr.instrument ||
        !spec_ok(c->instrument))
        return CQ_EINVAL;
    if (!isfinite(c->last_price) || c->last_price <= 0 || !isfinite(c->fee))
        return CQ_EINVAL;
    int64_t last;
    if (to_steps(c->instrument, c->last_qty, &last) < 0 || to_steps(c->instrument, o->qty, &p->qty) < 0)
        return CQ_EINVAL;
    p->filled = 0;
    if (o->filled_qty != 0 && to_steps(c->instrument, o->filled_qty, &p->filled) < 0)
        return CQ_EINVAL;
    int64_t room = p->qty > p->filled ? p->qty - p->filled : 0;
    p->overfill = last > room;
    p->applied = p->overfill ? room : last;
    return 0;
}

/* A modification: new quantity in steps (or the old one), checked first. */
static int plan_modify(const cq_order_t *o, const cq_order_change_t *c, int64_t *qty, int64_t *filled)
{
    *qty = *filled = -1; /* unknown: only compared when a quantity changes */
    if (!c)
        return 0;
    if (!isfinite(c->price) || c->price < 0 || !isfinite(c->trigger_price) || c->trigger_price < 0 ||
        !isfinite(c->qty) || c->qty < 0)
        return CQ_EINVAL;
    if (c->qty == 0)
        return 0;
    if (!c->instrument || c->instrument->hdr.instrument != o->hdr.instrument || !spec_ok(c->instrument) ||
        to_steps(c->instrument, c->qty, qty) < 0)
        return CQ_EINVAL;
    *filled = 0;
    if (o->filled_qty != 0 && to_steps(c->instrument, o->filled_qty, filled) < 0)
        return CQ_EINVAL;
    return *qty < *filled ? CQ_EINVAL : 0;
}

int cq_order_apply(cq_order_t *o, int32_t event, const cq_order_change_t *chg,
                   cq_order_sm_stats_t *stats, const cq_log_t *log)
{
    if (!o || !event_ok(event) || !status_ok(o->status)) {
        count_bad(stats);
        return CQ_EINVAL;
    }
    int32_t old = o->status;
    int target = table[old][event];
    if (target == xx) {
        if (stats) {
            stats->illegal++;
            stats->illegal_by[old][event]++;
        }
        cq_logf(log, CQ_LOG_WARN, "order", "order '%.40s': %s is illegal in status %s; ignored",
                o->client_order_id, cq_order_event_name(event), cq_order_status_name(old));
        return CQ_ESTATE;
    }

    int rc = 0;
    int32_t next = old;
    if (event == CQ_OE_FILL) {
        fill_plan_t p;
        if (plan_fill(o, chg, &p) < 0) {
            count_bad(stats);
            return CQ_EINVAL;
        }
        int64_t filled = p.filled + p.applied;
        int complete = filled == p.qty;
        if (p.applied > 0) {
            double w = (double)p.applied / (double)filled;
            o->avg_fill_price = p.filled == 0 ? chg->last_price
                                              : o->avg_fill_price + (chg->last_price - o->avg_fill_price) * w;
            o->filled_qty = from_steps(chg->instrument, filled);
        }
        o->fees += chg->fee;
        next = complete ? FD : target == FL ? PF : old;
        if (pending(next) && filled > 0)
            o->resume_status = PF; /* a rejected request now resumes a partly filled order */
        if (stats && (old == CX || old == EX || old == RJ))
            stats->late_fills++;
        if (p.overfill) {
            rc = CQ_ERANGE;
            if (stats)
                stats->overfills++;
            cq_logf(log, CQ_LOG_WARN, "order", "order '%.40s': fill of %.17g exceeds the open quantity; "
                    "counted up to qty %.17g", o->client_order_id, chg->last_qty, o->qty);
        }
    } else if (event == CQ_OE_MODIFY) {
        int64_t qty, filled;
        if (target != KP && plan_modify(o, chg, &qty, &filled) < 0) {
            count_bad(stats);
            return CQ_EINVAL;
        }
        if (target != KP && chg) {
            if (chg->price > 0)
                o->price = chg->price;
            if (chg->trigger_price > 0)
                o->trigger_price = chg->trigger_price;
            if (chg->qty > 0)
                o->qty = chg->qty;
        }
        /* Both are converted once from steps, so equal counts compare equal. */
        int complete = qty >= 0 ? qty == filled : o->filled_qty > 0 && o->filled_qty >= o->qty;
        if (target == MB)
            next = complete ? FD : o->filled_qty > 0 ? PF : AC;
        else if (target == KF)
            next = complete ? FD : old;
    } else if (target == BS) {
        next = resume_state(o);
    } else if (target > 0) {
        next = target;
    }
    if (event == CQ_OE_ACCEPT && pending(old) && o->resume_status == SB)
        o->resume_status = AC;

    if (pending(next) && !pending(old))
        o->resume_status = old;
    else if (!pending(next))
        o->resume_status = 0;
    o->status = next;
    if (chg && chg->ts_event)
        o->hdr.ts_event = chg->ts_event;
    if (stats)
        stats->applied++;
    return rc;
}

int cq_order_normalize(cq_order_t *o)
{
    if (!o)
        return CQ_EINVAL;
    if (o->type == CQ_ORDER_LIMIT_MAKER)
        o->opts |= CQ_ORDER_OPT_POST_ONLY;
    return 0;
}

static int invalid(const char **reason, const char *why)
{
    if (reason)
        *reason = why;
    return CQ_EINVAL;
}

int cq_order_validate(const cq_order_t *o, const char **reason)
{
    if (reason)
        *reason = "";
    if (!o)
        return invalid(reason, "no order");
    if (o->side != CQ_SIDE_BUY && o->side != CQ_SIDE_SELL)
        return invalid(reason, "side must be BUY or SELL");
    if (o->type < CQ_ORDER_MARKET || o->type > CQ_ORDER_STOP_LIMIT)
        return invalid(reason, "unknown order type");
    if (o->tif < CQ_TIF_GTC || o->tif > CQ_TIF_FOK)
        return invalid(reason, "unknown time in force");
    if (o->opts & ~(uint32_t)(CQ_ORDER_OPT_REDUCE_ONLY | CQ_ORDER_OPT_POST_ONLY))
        return invalid(reason, "unknown option bits");
    if (!isfinite(o->qty) || o->qty <= 0)
        return invalid(reason, "quantity must be finite and > 0");
    int market = o->type == CQ_ORDER_MARKET || o->type == CQ_ORDER_STOP_MARKET;
    int stop = o->type == CQ_ORDER_STOP_MARKET || o->type == CQ_ORDER_STOP_LIMIT;
    if (market && o->price != 0)
        return invalid(reason, "a market order has no price");
    if (!market && (!isfinite(o->price) || o->price <= 0))
        return invalid(reason, "a limit order needs a finite price > 0");
    if (stop && (!isfinite(o->trigger_price) || o->trigger_price <= 0))
        return invalid(reason, "a stop order needs a finite trigger_price > 0");
    if (!stop && o->trigger_price != 0)
        return invalid(reason, "only stop orders have a trigger_price");
    if (o->type == CQ_ORDER_LIMIT_MAKER && o->tif != CQ_TIF_GTC)
        return invalid(reason, "LIMIT_MAKER (post-only) must be GTC: IOC and FOK never rest");
    if (o->type != CQ_ORDER_LIMIT_MAKER && (o->opts & CQ_ORDER_OPT_POST_ONLY))
        return invalid(reason, "post-only is order type LIMIT_MAKER");
    return 0;
}
