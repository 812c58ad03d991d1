/*
 * test_order.c - the order state machine: every (status, event) pair against
 * an expected table written here by hand from docs/orders.md (not read from
 * the implementation), the venue-truth exceptions, fill accounting
 * (partial fills to full, exact filled quantities, overfill), modify, bad
 * input, and structural validation.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cquant/error.h"
#include "cquant/order.h"
#include "support/cq_test.h"

/* ---- helpers ------------------------------------------------------------ */

#define INST 7

typedef struct {
    int calls;
    int level;
    char msg[1024];
} log_capture_t;

static void capture_sink(void *user, int level, const char *module, const char *msg)
{
    log_capture_t *c = user;
    c->calls++;
    c->level = level;
    snprintf(c->msg, sizeof c->msg, "%s: %s", module, msg);
}

static cq_log_t capture_log(log_capture_t *c)
{
    memset(c, 0, sizeof *c);
    cq_log_t log = {CQ_LOG_DEBUG, capture_sink, c};
    return log;
}

/* Step 0.001 (size precision 3), tick 0.01. */
static cq_instrument_t spec(void)
{
    cq_instrument_t s;
    memset(&s, 0, sizeof s);
    s.hdr.instrument = INST;
    snprintf(s.id, sizeof s.id, "BTCUSDT.SIM");
    s.tick_units = 1;
    s.price_precision = 2;
    s.tick_size = 0.01;
    s.step_units = 1;
    s.size_precision = 3;
    s.step_size = 0.001;
    return s;
}

/* An order of 0.010 (10 steps) in a given status, filled_steps filled at
 * 100.00, resuming `resume` if pending. */
static cq_order_t order_in(int32_t status, int filled_steps, int32_t resume)
{
    cq_order_t o;
    memset(&o, 0, sizeof o);
    o.hdr.type = CQ_EV_ORDER;
    o.hdr.instrument = INST;
    snprintf(o.client_order_id, sizeof o.client_order_id, "cq-test-1");
    o.side = CQ_SIDE_BUY;
    o.type = CQ_ORDER_LIMIT;
    o.tif = CQ_TIF_GTC;
    o.status = status;
    o.resume_status = resume;
    o.price = 100.0;
    o.qty = 0.010;
    o.filled_qty = filled_steps / 1000.0;
    o.avg_fill_price = filled_steps ? 100.0 : 0.0;
    return o;
}

static cq_order_change_t fill_of(const cq_instrument_t *s, double qty, double price)
{
    cq_order_change_t c = {.instrument = s, .last_qty = qty, .last_price = price};
    return c;
}

/* ---- the whole table -------------------------------------------------------
 * Expected outcome of each event on the canonical order of each status:
 * 10 steps; PARTIALLY_FILLED has 4 filled, FILLED 10; the pending states
 * were entered from ACCEPTED. FILL is a partial fill of 3 steps; MODIFY
 * changes the price only. NO = illegal. */

#define NO 0
enum { I_ = CQ_OS_INITIALIZED, D_ = CQ_OS_DENIED, S_ = CQ_OS_SUBMITTED, A_ = CQ_OS_ACCEPTED,
       R_ = CQ_OS_REJECTED, PF = CQ_OS_PARTIALLY_FILLED, F_ = CQ_OS_FILLED,
       PC = CQ_OS_PENDING_CANCEL, PU = CQ_OS_PENDING_UPDATE, C_ = CQ_OS_CANCELED,
       E_ = CQ_OS_EXPIRED };

static const int expected[CQ_OS_COUNT_][CQ_OE_COUNT_] = {
    /*          SUBMIT DENY ACCEPT REJECT FILL CXL_RQ CANCEL CXL_RJ MOD_RQ MODIFY MOD_RJ EXPIRE */
    [I_] = {0,  S_,    D_,  NO,    NO,    NO,  NO,    NO,    NO,    NO,    NO,    NO,    NO},
    [D_] = {0,  NO,    NO,  NO,    NO,    NO,  NO,    NO,    NO,    NO,    NO,    NO,    NO},
    [S_] = {0,  NO,    NO,  A_,    R_,    PF,  PC,    C_,    S_,    PU,    A_,    S_,    E_},
    [A_] = {0,  NO,    NO,  A_,    R_,    PF,  PC,    C_,    A_,    PU,    A_,    A_,    E_},
    [R_] = {0,  NO,    NO,  A_,    R_,    PF,  NO,    C_,    R_,    NO,    A_,    R_,    E_},
    [PF] = {0,  NO,    NO,  PF,    NO,    PF,  PC,    C_,    PF,    PU,    PF,    PF,    E_},
    [F_] = {0,  NO,    NO,  F_,    NO,    F_,  NO,    F_,    F_,    NO,    F_,    F_,    NO},
    [PC] = {0,  NO,    NO,  PC,    R_,    PC,  PC,    C_,    A_,    NO,    PC,    PC,    E_},
    [PU] = {0,  NO,    NO,  PU,    R_,    PU,  PC,    C_,    PU,    PU,    A_,    A_,    E_},
    [C_] = {0,  NO,    NO,  C_,    NO,    C_,  NO,    C_,    C_,    NO,    C_,    C_,    NO},
    [E_] = {0,  NO,    NO,  E_,    NO,    E_,  NO,    NO,    E_,    NO,    E_,    E_,    E_},
};

static cq_order_t canonical(int32_t status)
{
    int filled = status == PF ? 4 : status == F_ ? 10 : 0;
    return order_in(status, filled, status == PC || status == PU ? A_ : 0);
}

static cq_order_change_t canonical_change(const cq_instrument_t *s, int32_t event)
{
    cq_order_change_t c = {.instrument = s, .ts_event = 123456789};
    if (event == CQ_OE_FILL) {
        c.last_qty = 0.003;
        c.last_price = 101.5;
        c.fee = 0.25;
    } else if (event == CQ_OE_MODIFY) {
        c.price = 99.5;
    }
    return c;
}

START_TEST(test_order_every_legal_transition_gives_the_documented_status)
{
    cq_instrument_t s = spec();
    int legal = 0;
    for (int32_t st = 1; st < CQ_OS_COUNT_; st++) {
        for (int32_t ev = 1; ev < CQ_OE_COUNT_; ev++) {
            if (expected[st][ev] == NO)
                continue;
            legal++;
            cq_order_t o = canonical(st);
            cq_order_change_t c = canonical_change(&s, ev);
            cq_order_sm_stats_t stats;
            memset(&stats, 0, sizeof stats);
            int want_rc = st == F_ && ev == CQ_OE_FILL ? CQ_ERANGE : 0; /* overfill */
            int rc = cq_order_apply(&o, ev, &c, &stats, NULL);
            ck_assert_msg(rc == want_rc, "%s + %s: rc %s", cq_order_status_name(st),
                          cq_order_event_name(ev), cq_errname(rc));
            ck_assert_msg(o.status == expected[st][ev], "%s + %s -> %s, expected %s",
                          cq_order_status_name(st), cq_order_event_name(ev),
                          cq_order_status_name(o.status), cq_order_status_name(expected[st][ev]));
            ck_assert_msg(cq_order_is_legal(st, ev), "%s + %s should be legal",
                          cq_order_status_name(st), cq_order_event_name(ev));
            ck_assert_uint_eq(stats.applied, 1);
            ck_assert_uint_eq(stats.illegal, 0);
            ck_assert(o.hdr.ts_event == 123456789);
        }
    }
    ck_assert_int_eq(legal, 76); /* the table has 76 legal cells */
}
END_TEST

START_TEST(test_order_every_illegal_transition_is_logged_counted_and_changes_nothing)
{
    cq_instrument_t s = spec();
    int illegal = 0;
    for (int32_t st = 1; st < CQ_OS_COUNT_; st++) {
        for (int32_t ev = 1; ev < CQ_OE_COUNT_; ev++) {
            if (expected[st][ev] != NO)
                continue;
            illegal++;
            cq_order_t o = canonical(st), before = o;
            cq_order_change_t c = canonical_change(&s, ev);
            cq_order_sm_stats_t stats;
            memset(&stats, 0, sizeof stats);
            log_capture_t cap;
            cq_log_t log = capture_log(&cap);
            int rc = cq_order_apply(&o, ev, &c, &stats, &log);
            ck_assert_msg(rc == CQ_ESTATE, "%s + %s: rc %s", cq_order_status_name(st),
                          cq_order_event_name(ev), cq_errname(rc));
            ck_assert_msg(memcmp(&o, &before, sizeof o) == 0, "%s + %s changed the order",
                          cq_order_status_name(st), cq_order_event_name(ev));
            ck_assert(!cq_order_is_legal(st, ev));
            ck_assert_uint_eq(stats.illegal, 1);
            ck_assert_uint_eq(stats.illegal_by[st][ev], 1);
            ck_assert_uint_eq(stats.applied, 0);
            ck_assert_int_eq(cap.calls, 1);
            ck_assert_int_eq(cap.level, CQ_LOG_WARN);
            ck_assert_ptr_nonnull(strstr(cap.msg, cq_order_event_name(ev)));
            ck_assert_ptr_nonnull(strstr(cap.msg, cq_order_status_name(st)));
            ck_assert_ptr_nonnull(strstr(cap.msg, "cq-test-1"));
        }
    }
    ck_assert_int_eq(illegal, 11 * 12 - 76);
}
END_TEST

START_TEST(test_order_illegal_counts_accumulate_per_cell)
{
    cq_order_sm_stats_t stats;
    memset(&stats, 0, sizeof stats);
    log_capture_t cap;
    cq_log_t log = capture_log(&cap);
    cq_order_t o = canonical(F_);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(cq_order_apply(&o, CQ_OE_CANCEL_REQUEST, NULL, &stats, &log), CQ_ESTATE);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_SUBMIT, NULL, &stats, &log), CQ_ESTATE);
    ck_assert_uint_eq(stats.illegal_by[F_][CQ_OE_CANCEL_REQUEST], 3);
    ck_assert_uint_eq(stats.illegal_by[F_][CQ_OE_SUBMIT], 1);
    ck_assert_uint_eq(stats.illegal, 4);
    ck_assert_int_eq(cap.calls, 4);
}
END_TEST

START_TEST(test_order_is_legal_out_of_range_is_false)
{
    ck_assert(!cq_order_is_legal(0, CQ_OE_SUBMIT));
    ck_assert(!cq_order_is_legal(CQ_OS_COUNT_, CQ_OE_SUBMIT));
    ck_assert(!cq_order_is_legal(-1, CQ_OE_SUBMIT));
    ck_assert(!cq_order_is_legal(CQ_OS_INITIALIZED, 0));
    ck_assert(!cq_order_is_legal(CQ_OS_INITIALIZED, CQ_OE_COUNT_));
    ck_assert(!cq_order_is_legal(CQ_OS_INITIALIZED, -5));
    ck_assert(cq_order_is_legal(CQ_OS_INITIALIZED, CQ_OE_SUBMIT));
}
END_TEST

START_TEST(test_order_event_names_are_distinct_and_unknown_is_question_mark)
{
    ck_assert_str_eq(cq_order_event_name(CQ_OE_SUBMIT), "SUBMIT");
    ck_assert_str_eq(cq_order_event_name(CQ_OE_CANCEL_REQUEST), "CANCEL_REQUEST");
    ck_assert_str_eq(cq_order_event_name(CQ_OE_EXPIRE), "EXPIRE");
    ck_assert_str_eq(cq_order_event_name(0), "?");
    ck_assert_str_eq(cq_order_event_name(CQ_OE_COUNT_), "?");
    ck_assert_str_eq(cq_order_event_name(-1), "?");
    for (int a = 1; a < CQ_OE_COUNT_; a++)
        for (int b = a + 1; b < CQ_OE_COUNT_; b++)
            ck_assert_str_ne(cq_order_event_name(a), cq_order_event_name(b));
}
END_TEST

/* ---- a normal life ---------------------------------------------------------- */

START_TEST(test_order_life_submit_accept_partial_fills_to_filled)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_INITIALIZED, 0, 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_SUBMIT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_SUBMITTED);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_ACCEPT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_ACCEPTED);
    cq_order_change_t c = fill_of(&s, 0.004, 100.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_PARTIALLY_FILLED);
    ck_assert(o.filled_qty == 0.004);
    c = fill_of(&s, 0.006, 101.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_FILLED);
    ck_assert(o.filled_qty == 0.010);
    ck_assert(o.filled_qty == o.qty);
    /* (0.004 * 100 + 0.006 * 101) / 0.010 = 100.6 */
    ck_assert_double_eq_tol(o.avg_fill_price, 100.6, 1e-12);
}
END_TEST

START_TEST(test_order_tenths_fill_to_exactly_the_quantity_not_a_rounded_sum)
{
    cq_instrument_t s = spec();
    s.size_precision = 1; /* step 0.1: 0.1 + 0.2 is not 0.3 in double */
    s.step_size = 0.1;
    cq_order_t o = order_in(CQ_OS_ACCEPTED, 0, 0);
    o.qty = 0.3;
    cq_order_change_t c = fill_of(&s, 0.1, 10.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), 0);
    c = fill_of(&s, 0.2, 10.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), 0);
    ck_assert(0.1 + 0.2 != 0.3);
    ck_assert(o.filled_qty == 0.3);
    ck_assert_int_eq(o.status, CQ_OS_FILLED);
}
END_TEST

START_TEST(test_order_thousand_one_step_fills_keep_filled_qty_exact)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_ACCEPTED, 0, 0);
    o.qty = 1.0;
    cq_order_change_t c = fill_of(&s, 0.001, 50.0);
    int bad = 0;
    for (int k = 1; k <= 1000; k++) {
        int rc = cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL);
        int want = k < 1000 ? CQ_OS_PARTIALLY_FILLED : CQ_OS_FILLED;
        if (rc != 0 || o.filled_qty != k / 1000.0 || o.status != want)
            bad++;
    }
    ck_assert_int_eq(bad, 0);
    ck_assert(o.filled_qty == 1.0);
    ck_assert(o.avg_fill_price == 50.0);
}
END_TEST

START_TEST(test_order_fill_fees_accumulate_and_ts_event_follows_the_venue)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_ACCEPTED, 0, 0);
    cq_order_change_t c = fill_of(&s, 0.002, 100.0);
    c.fee = 0.5;
    c.ts_event = 1000;
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), 0);
    c.fee = -0.125; /* a maker rebate */
    c.ts_event = 2000;
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), 0);
    ck_assert(o.fees == 0.375);
    ck_assert(o.hdr.ts_event == 2000);
    c.ts_event = 0; /* no venue time: keep the last */
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), 0);
    ck_assert(o.hdr.ts_event == 2000);
}
END_TEST

/* ---- venue-truth exceptions -------------------------------------------------- */

START_TEST(test_order_fill_before_ack_implies_acceptance)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_SUBMITTED, 0, 0);
    cq_order_change_t c = fill_of(&s, 0.003, 100.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_PARTIALLY_FILLED);
    /* the late ack does not move it back */
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_ACCEPT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_PARTIALLY_FILLED);
}
END_TEST

START_TEST(test_order_full_fill_before_ack_is_filled_and_late_ack_keeps_it)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_SUBMITTED, 0, 0);
    cq_order_change_t c = fill_of(&s, 0.010, 100.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_FILLED);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_ACCEPT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_FILLED);
}
END_TEST

START_TEST(test_order_late_fill_after_cancel_counts_and_stays_canceled)
{
    cq_instrument_t s = spec();
    cq_order_sm_stats_t stats;
    memset(&stats, 0, sizeof stats);
    cq_order_t o = order_in(CQ_OS_CANCELED, 0, 0);
    cq_order_change_t c = fill_of(&s, 0.003, 100.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, &stats, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_CANCELED);
    ck_assert(o.filled_qty == 0.003);
    ck_assert(o.avg_fill_price == 100.0);
    ck_assert_uint_eq(stats.late_fills, 1);
}
END_TEST

START_TEST(test_order_late_fill_completing_a_canceled_order_makes_it_filled)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_CANCELED, 6, 0);
    cq_order_change_t c = fill_of(&s, 0.004, 100.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_FILLED);
    ck_assert(o.filled_qty == 0.010);
}
END_TEST

START_TEST(test_order_late_fill_after_expiry_is_applied)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_EXPIRED, 0, 0);
    cq_order_change_t c = fill_of(&s, 0.005, 100.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_EXPIRED);
    ck_assert(o.filled_qty == 0.005);
}
END_TEST

START_TEST(test_order_fill_while_pending_cancel_keeps_pending_then_reject_resumes_partial)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_ACCEPTED, 0, 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_CANCEL_REQUEST, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_PENDING_CANCEL);
    ck_assert_int_eq(o.resume_status, CQ_OS_ACCEPTED);
    cq_order_change_t c = fill_of(&s, 0.003, 100.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_PENDING_CANCEL);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_CANCEL_REJECT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_PARTIALLY_FILLED);
    ck_assert_int_eq(o.resume_status, 0);
}
END_TEST

START_TEST(test_order_fill_completing_while_pending_cancel_is_filled_and_cancel_ack_keeps_it)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_PENDING_CANCEL, 4, CQ_OS_PARTIALLY_FILLED);
    cq_order_change_t c = fill_of(&s, 0.006, 100.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_FILLED);
    ck_assert_int_eq(o.resume_status, 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_CANCEL, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_FILLED);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_CANCEL_REJECT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_FILLED);
}
END_TEST

START_TEST(test_order_cancel_before_ack_rejected_resumes_submitted)
{
    cq_order_t o = order_in(CQ_OS_SUBMITTED, 0, 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_CANCEL_REQUEST, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.resume_status, CQ_OS_SUBMITTED);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_CANCEL_REJECT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_SUBMITTED);
}
END_TEST

START_TEST(test_order_ack_while_pending_cancel_makes_a_reject_resume_accepted)
{
    cq_order_t o = order_in(CQ_OS_SUBMITTED, 0, 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_CANCEL_REQUEST, NULL, NULL, NULL), 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_ACCEPT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_PENDING_CANCEL);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_CANCEL_REJECT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_ACCEPTED);
}
END_TEST

START_TEST(test_order_cancel_before_ack_then_order_rejected_is_rejected)
{
    cq_order_t o = order_in(CQ_OS_SUBMITTED, 0, 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_CANCEL_REQUEST, NULL, NULL, NULL), 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_REJECT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_REJECTED);
    ck_assert_int_eq(o.resume_status, 0);
}
END_TEST

START_TEST(test_order_pending_state_without_resume_falls_back_on_quantities)
{
    /* e.g. loaded from a journal that did not keep resume_status */
    cq_order_t o = order_in(CQ_OS_PENDING_CANCEL, 0, 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_CANCEL_REJECT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_ACCEPTED);
    o = order_in(CQ_OS_PENDING_UPDATE, 2, 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_MODIFY_REJECT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_PARTIALLY_FILLED);
}
END_TEST

START_TEST(test_order_lost_order_revived_by_a_later_fill)
{
    cq_instrument_t s = spec();
    cq_order_sm_stats_t stats;
    memset(&stats, 0, sizeof stats);
    cq_order_t o = order_in(CQ_OS_REJECTED, 0, 0);
    cq_order_change_t c = fill_of(&s, 0.002, 100.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, &stats, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_PARTIALLY_FILLED);
    ck_assert_uint_eq(stats.late_fills, 1);
}
END_TEST

/* ---- pending requests ------------------------------------------------------------ */

START_TEST(test_order_modify_request_then_modified_applies_and_resumes)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_PARTIALLY_FILLED, 4, 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_MODIFY_REQUEST, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_PENDING_UPDATE);
    ck_assert_int_eq(o.resume_status, CQ_OS_PARTIALLY_FILLED);
    cq_order_change_t c = {.instrument = &s, .price = 99.25, .qty = 0.008, .trigger_price = 0};
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_MODIFY, &c, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_PARTIALLY_FILLED);
    ck_assert(o.price == 99.25);
    ck_assert(o.qty == 0.008);
    ck_assert_int_eq(o.resume_status, 0);
}
END_TEST

START_TEST(test_order_modify_rejected_resumes_and_changes_nothing)
{
    cq_order_t o = order_in(CQ_OS_ACCEPTED, 0, 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_MODIFY_REQUEST, NULL, NULL, NULL), 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_MODIFY_REJECT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_ACCEPTED);
    ck_assert(o.price == 100.0);
}
END_TEST

START_TEST(test_order_modify_to_the_filled_quantity_completes_the_order)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_PENDING_UPDATE, 6, CQ_OS_PARTIALLY_FILLED);
    cq_order_change_t c = {.instrument = &s, .qty = 0.006};
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_MODIFY, &c, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_FILLED);
}
END_TEST

START_TEST(test_order_modify_below_the_filled_quantity_is_einval)
{
    cq_instrument_t s = spec();
    cq_order_sm_stats_t stats;
    memset(&stats, 0, sizeof stats);
    cq_order_t o = order_in(CQ_OS_PENDING_UPDATE, 6, CQ_OS_PARTIALLY_FILLED), before = o;
    cq_order_change_t c = {.instrument = &s, .qty = 0.005};
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_MODIFY, &c, &stats, NULL), CQ_EINVAL);
    ck_assert(memcmp(&o, &before, sizeof o) == 0);
    ck_assert_uint_eq(stats.bad_input, 1);
}
END_TEST

START_TEST(test_order_modify_on_a_closed_order_changes_nothing)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_CANCELED, 0, 0);
    cq_order_change_t c = {.instrument = &s, .price = 1.0, .qty = 0.002};
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_MODIFY, &c, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_CANCELED);
    ck_assert(o.price == 100.0);
    ck_assert(o.qty == 0.010);
}
END_TEST

START_TEST(test_order_modify_answer_after_cancel_request_applies_while_pending_cancel)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_ACCEPTED, 0, 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_MODIFY_REQUEST, NULL, NULL, NULL), 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_CANCEL_REQUEST, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_PENDING_CANCEL);
    ck_assert_int_eq(o.resume_status, CQ_OS_ACCEPTED);
    cq_order_change_t c = {.instrument = &s, .price = 98.0};
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_MODIFY, &c, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_PENDING_CANCEL);
    ck_assert(o.price == 98.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_CANCEL_REJECT, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_ACCEPTED);
}
END_TEST

START_TEST(test_order_modify_with_null_change_keeps_fields)
{
    cq_order_t o = order_in(CQ_OS_PENDING_UPDATE, 0, CQ_OS_ACCEPTED);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_MODIFY, NULL, NULL, NULL), 0);
    ck_assert_int_eq(o.status, CQ_OS_ACCEPTED);
    ck_assert(o.price == 100.0 && o.qty == 0.010);
}
END_TEST

/* ---- overfill ------------------------------------------------------------------------ */

START_TEST(test_order_overfill_is_erange_counted_and_clamped_to_qty)
{
    cq_instrument_t s = spec();
    cq_order_sm_stats_t stats;
    memset(&stats, 0, sizeof stats);
    log_capture_t cap;
    cq_log_t log = capture_log(&cap);
    cq_order_t o = order_in(CQ_OS_PARTIALLY_FILLED, 8, 0);
    cq_order_change_t c = fill_of(&s, 0.005, 110.0);
    c.fee = 1.0;
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, &stats, &log), CQ_ERANGE);
    ck_assert_int_eq(o.status, CQ_OS_FILLED);
    ck_assert(o.filled_qty == 0.010);
    /* only the 2 steps that fit count in the average: (8*100 + 2*110)/10 */
    ck_assert_double_eq_tol(o.avg_fill_price, 102.0, 1e-12);
    ck_assert(o.fees == 1.0); /* the venue charged it all */
    ck_assert_uint_eq(stats.overfills, 1);
    ck_assert_uint_eq(stats.applied, 1);
    ck_assert_int_eq(cap.calls, 1);
}
END_TEST

START_TEST(test_order_fill_on_a_filled_order_is_an_overfill_that_changes_no_quantity)
{
    cq_instrument_t s = spec();
    cq_order_sm_stats_t stats;
    memset(&stats, 0, sizeof stats);
    cq_order_t o = order_in(CQ_OS_FILLED, 10, 0);
    cq_order_change_t c = fill_of(&s, 0.001, 500.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, &stats, NULL), CQ_ERANGE);
    ck_assert_int_eq(o.status, CQ_OS_FILLED);
    ck_assert(o.filled_qty == 0.010);
    ck_assert(o.avg_fill_price == 100.0);
    ck_assert_uint_eq(stats.overfills, 1);
}
END_TEST

/* ---- bad input ------------------------------------------------------------------------- */

START_TEST(test_order_apply_null_order_is_einval)
{
    cq_order_sm_stats_t stats;
    memset(&stats, 0, sizeof stats);
    ck_assert_int_eq(cq_order_apply(NULL, CQ_OE_SUBMIT, NULL, &stats, NULL), CQ_EINVAL);
    ck_assert_uint_eq(stats.bad_input, 1);
}
END_TEST

START_TEST(test_order_apply_unknown_event_or_status_is_einval_and_changes_nothing)
{
    const int32_t events[] = {0, -1, CQ_OE_COUNT_, 1000, INT32_MIN};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        cq_order_t o = order_in(CQ_OS_ACCEPTED, 0, 0), before = o;
        ck_assert_int_eq(cq_order_apply(&o, events[i], NULL, NULL, NULL), CQ_EINVAL);
        ck_assert(memcmp(&o, &before, sizeof o) == 0);
    }
    const int32_t states[] = {0, -3, CQ_OS_COUNT_, 99};
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        cq_order_t o = order_in(states[i], 0, 0), before = o;
        ck_assert_int_eq(cq_order_apply(&o, CQ_OE_ACCEPT, NULL, NULL, NULL), CQ_EINVAL);
        ck_assert(memcmp(&o, &before, sizeof o) == 0);
    }
}
END_TEST

START_TEST(test_order_fill_with_bad_change_is_einval_and_changes_nothing)
{
    cq_instrument_t s = spec(), other = spec(), bad_spec = spec();
    other.hdr.instrument = INST + 1;
    bad_spec.step_units = 0;
    cq_order_change_t cases[16];
    int n = 0;
    cases[n++] = fill_of(NULL, 0.001, 100.0);          /* no instrument */
    cases[n++] = fill_of(&other, 0.001, 100.0);        /* another instrument */
    cases[n++] = fill_of(&bad_spec, 0.001, 100.0);     /* broken spec */
    cases[n++] = fill_of(&s, 0.0, 100.0);              /* zero quantity */
    cases[n++] = fill_of(&s, -0.001, 100.0);           /* negative */
    cases[n++] = fill_of(&s, NAN, 100.0);
    cases[n++] = fill_of(&s, INFINITY, 100.0);
    cases[n++] = fill_of(&s, 0.0015, 100.0);           /* off the step */
    cases[n++] = fill_of(&s, 1e300, 100.0);            /* not a count */
    cases[n++] = fill_of(&s, 0.001, 0.0);              /* no price */
    cases[n++] = fill_of(&s, 0.001, -5.0);
    cases[n++] = fill_of(&s, 0.001, NAN);
    cases[n] = fill_of(&s, 0.001, 100.0);
    cases[n++].fee = NAN;
    for (int i = 0; i < n; i++) {
        cq_order_sm_stats_t stats;
        memset(&stats, 0, sizeof stats);
        cq_order_t o = order_in(CQ_OS_ACCEPTED, 0, 0), before = o;
        ck_assert_msg(cq_order_apply(&o, CQ_OE_FILL, &cases[i], &stats, NULL) == CQ_EINVAL, "case %d", i);
        ck_assert_msg(memcmp(&o, &before, sizeof o) == 0, "case %d changed the order", i);
        ck_assert_uint_eq(stats.bad_input, 1);
        ck_assert_uint_eq(stats.applied, 0);
    }
    cq_order_t o = order_in(CQ_OS_ACCEPTED, 0, 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, NULL, NULL, NULL), CQ_EINVAL);
}
END_TEST

START_TEST(test_order_fill_on_an_order_with_an_off_grid_quantity_is_einval)
{
    cq_instrument_t s = spec();
    cq_order_t o = order_in(CQ_OS_ACCEPTED, 0, 0);
    o.qty = 0.0105;
    cq_order_change_t c = fill_of(&s, 0.001, 100.0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_FILL, &c, NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(o.status, CQ_OS_ACCEPTED);
}
END_TEST

START_TEST(test_order_modify_with_bad_change_is_einval)
{
    cq_instrument_t s = spec();
    cq_order_change_t cases[] = {
        {.instrument = &s, .price = -1},
        {.instrument = &s, .price = NAN},
        {.instrument = &s, .trigger_price = INFINITY},
        {.instrument = &s, .qty = -0.001},
        {.instrument = &s, .qty = 0.0001},   /* off the step */
        {.instrument = NULL, .qty = 0.002},  /* a new qty needs the spec */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cq_order_t o = order_in(CQ_OS_PENDING_UPDATE, 0, CQ_OS_ACCEPTED), before = o;
        ck_assert_msg(cq_order_apply(&o, CQ_OE_MODIFY, &cases[i], NULL, NULL) == CQ_EINVAL, "case %zu", i);
        ck_assert(memcmp(&o, &before, sizeof o) == 0);
    }
}
END_TEST

START_TEST(test_order_illegal_with_null_log_goes_to_stderr_and_is_not_fatal)
{
    cq_order_t o = order_in(CQ_OS_DENIED, 0, 0);
    ck_assert_int_eq(cq_order_apply(&o, CQ_OE_ACCEPT, NULL, NULL, NULL), CQ_ESTATE);
    ck_assert_int_eq(o.status, CQ_OS_DENIED);
}
END_TEST

/* ---- validation -------------------------------------------------------------------------- */

static cq_order_t valid_limit(void)
{
    cq_order_t o = order_in(CQ_OS_INITIALIZED, 0, 0);
    return o;
}

START_TEST(test_order_validate_accepts_each_well_formed_type)
{
    const char *why = NULL;
    cq_order_t o = valid_limit();
    ck_assert_int_eq(cq_order_validate(&o, &why), 0);
    ck_assert_str_eq(why, "");
    o.type = CQ_ORDER_MARKET;
    o.price = 0;
    o.tif = CQ_TIF_IOC;
    ck_assert_int_eq(cq_order_validate(&o, NULL), 0);
    o.type = CQ_ORDER_STOP_MARKET;
    o.trigger_price = 95;
    ck_assert_int_eq(cq_order_validate(&o, NULL), 0);
    o.type = CQ_ORDER_STOP_LIMIT;
    o.price = 94;
    o.tif = CQ_TIF_FOK;
    ck_assert_int_eq(cq_order_validate(&o, NULL), 0);
    o = valid_limit();
    o.type = CQ_ORDER_LIMIT_MAKER;
    o.opts = CQ_ORDER_OPT_POST_ONLY | CQ_ORDER_OPT_REDUCE_ONLY;
    ck_assert_int_eq(cq_order_validate(&o, NULL), 0);
}
END_TEST

START_TEST(test_order_validate_refuses_each_bad_combination_with_a_reason)
{
    struct { cq_order_t o; const char *word; } c[16];
    int n = 0;
    c[n].o = valid_limit(); c[n].o.side = CQ_SIDE_NONE; c[n++].word = "side";
    c[n].o = valid_limit(); c[n].o.type = 9; c[n++].word = "type";
    c[n].o = valid_limit(); c[n].o.tif = 0; c[n++].word = "time in force";
    c[n].o = valid_limit(); c[n].o.opts = 64; c[n++].word = "option";
    c[n].o = valid_limit(); c[n].o.qty = 0; c[n++].word = "quantity";
    c[n].o = valid_limit(); c[n].o.qty = NAN; c[n++].word = "quantity";
    c[n].o = valid_limit(); c[n].o.type = CQ_ORDER_MARKET; c[n++].word = "no price";
    c[n].o = valid_limit(); c[n].o.price = 0; c[n++].word = "price";
    c[n].o = valid_limit(); c[n].o.price = INFINITY; c[n++].word = "price";
    c[n].o = valid_limit(); c[n].o.type = CQ_ORDER_STOP_LIMIT; c[n++].word = "trigger";
    c[n].o = valid_limit(); c[n].o.trigger_price = 90; c[n++].word = "trigger";
    c[n].o = valid_limit(); c[n].o.type = CQ_ORDER_LIMIT_MAKER; c[n].o.tif = CQ_TIF_IOC; c[n++].word = "GTC";
    c[n].o = valid_limit(); c[n].o.type = CQ_ORDER_LIMIT_MAKER; c[n].o.tif = CQ_TIF_FOK; c[n++].word = "GTC";
    c[n].o = valid_limit(); c[n].o.opts = CQ_ORDER_OPT_POST_ONLY; c[n++].word = "LIMIT_MAKER";
    c[n].o = valid_limit(); c[n].o.type = CQ_ORDER_STOP_MARKET; c[n].o.price = 0;
    c[n].o.trigger_price = NAN; c[n++].word = "trigger";
    for (int i = 0; i < n; i++) {
        const char *why = NULL;
        ck_assert_msg(cq_order_validate(&c[i].o, &why) == CQ_EINVAL, "case %d", i);
        ck_assert_ptr_nonnull(why);
        ck_assert_msg(strstr(why, c[i].word), "case %d: '%s' lacks '%s'", i, why, c[i].word);
    }
    const char *why = NULL;
    ck_assert_int_eq(cq_order_validate(NULL, &why), CQ_EINVAL);
    ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(test_order_normalize_marks_limit_maker_post_only)
{
    cq_order_t o = valid_limit();
    o.type = CQ_ORDER_LIMIT_MAKER;
    ck_assert_int_eq(cq_order_normalize(&o), 0);
    ck_assert(o.opts & CQ_ORDER_OPT_POST_ONLY);
    o = valid_limit();
    ck_assert_int_eq(cq_order_normalize(&o), 0);
    ck_assert(!(o.opts & CQ_ORDER_OPT_POST_ONLY));
    ck_assert_int_eq(cq_order_normalize(NULL), CQ_EINVAL);
}
END_TEST

static Suite *order_suite(void)
{
    Suite *s = suite_create("order");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, test_order_every_legal_transition_gives_the_documented_status);
    tcase_add_test(tc, test_order_every_illegal_transition_is_logged_counted_and_changes_nothing);
    tcase_add_test(tc, test_order_illegal_counts_accumulate_per_cell);
    tcase_add_test(tc, test_order_is_legal_out_of_range_is_false);
    tcase_add_test(tc, test_order_event_names_are_distinct_and_unknown_is_question_mark);
    suite_add_tcase(s, tc);

    tc = tcase_create("fills");
    tcase_add_test(tc, test_order_life_submit_accept_partial_fills_to_filled);
    tcase_add_test(tc, test_order_tenths_fill_to_exactly_the_quantity_not_a_rounded_sum);
    tcase_add_test(tc, test_order_thousand_one_step_fills_keep_filled_qty_exact);
    tcase_add_test(tc, test_order_fill_fees_accumulate_and_ts_event_follows_the_venue);
    tcase_add_test(tc, test_order_overfill_is_erange_counted_and_clamped_to_qty);
    tcase_add_test(tc, test_order_fill_on_a_filled_order_is_an_overfill_that_changes_no_quantity);
    suite_add_tcase(s, tc);

    tc = tcase_create("venue_truth");
    tcase_add_test(tc, test_order_fill_before_ack_implies_acceptance);
    tcase_add_test(tc, test_order_full_fill_before_ack_is_filled_and_late_ack_keeps_it);
    tcase_add_test(tc, test_order_late_fill_after_cancel_counts_and_stays_canceled);
    tcase_add_test(tc, test_order_late_fill_completing_a_canceled_order_makes_it_filled);
    tcase_add_test(tc, test_order_late_fill_after_expiry_is_applied);
    tcase_add_test(tc, test_order_fill_while_pending_cancel_keeps_pending_then_reject_resumes_partial);
    tcase_add_test(tc, test_order_fill_completing_while_pending_cancel_is_filled_and_cancel_ack_keeps_it);
    tcase_add_test(tc, test_order_lost_order_revived_by_a_later_fill);
    suite_add_tcase(s, tc);

    tc = tcase_create("pending");
    tcase_add_test(tc, test_order_cancel_before_ack_rejected_resumes_submitted);
    tcase_add_test(tc, test_order_ack_while_pending_cancel_makes_a_reject_resume_accepted);
    tcase_add_test(tc, test_order_cancel_before_ack_then_order_rejected_is_rejected);
    tcase_add_test(tc, test_order_pending_state_without_resume_falls_back_on_quantities);
    tcase_add_test(tc, test_order_modify_request_then_modified_applies_and_resumes);
    tcase_add_test(tc, test_order_modify_rejected_resumes_and_changes_nothing);
    tcase_add_test(tc, test_order_modify_to_the_filled_quantity_completes_the_order);
    tcase_add_test(tc, test_order_modify_below_the_filled_quantity_is_einval);
    tcase_add_test(tc, test_order_modify_on_a_closed_order_changes_nothing);
    tcase_add_test(tc, test_order_modify_answer_after_cancel_request_applies_while_pending_cancel);
    tcase_add_test(tc, test_order_modify_with_null_change_keeps_fields);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_input");
    tcase_add_test(tc, test_order_apply_null_order_is_einval);
    tcase_add_test(tc, test_order_apply_unknown_event_or_status_is_einval_and_changes_nothing);
    tcase_add_test(tc, test_order_fill_with_bad_change_is_einval_and_changes_nothing);
    tcase_add_test(tc, test_order_fill_on_an_order_with_an_off_grid_quantity_is_einval);
    tcase_add_test(tc, test_order_modify_with_bad_change_is_einval);
    tcase_add_test(tc, test_order_illegal_with_null_log_goes_to_stderr_and_is_not_fatal);
    suite_add_tcase(s, tc);

    tc = tcase_create("validate");
    tcase_add_test(tc, test_order_validate_accepts_each_well_formed_type);
    tcase_add_test(tc, test_order_validate_refuses_each_bad_combination_with_a_reason);
    tcase_add_test(tc, test_order_normalize_marks_limit_maker_post_only);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cq_test_run(order_suite());
}
