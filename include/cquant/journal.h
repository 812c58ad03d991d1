/*
 * journal.h - the order journal: orders, their state changes and fills,
 * recorded in a SQLite file (WAL mode) before anything leaves the process.
 *
 * The pre-tracking contract (DESIGN.md, "Risk and execution"): the
 * ExecutionEngine calls cq_journal_record_submit and calls the venue only
 * after it returned 0. By then the order is committed to the WAL file, so
 * it survives a crash of this process at any later instant (an OS crash or
 * power loss may lose the last transactions unless sync is
 * CQ_JOURNAL_SYNC_FULL: see docs/journal.md). On start, the orders that were
 * not finished are loaded back (cq_journal_load_open) and reconciled.
 *
 * Every call is one transaction, unless the caller groups several with
 * cq_journal_begin / cq_journal_commit (a burst of submits, or a fill and
 * the status change it causes). Inside a group nothing is durable before
 * cq_journal_commit returns 0.
 *
 * Batched mode (cfg.batch = N > 0) trades the durability of acks and fills
 * for one commit per order: record_event, record_fill and update_order
 * join an open transaction instead of committing, and that transaction
 * (the batch) is committed by the next record_submit before it returns, by
 * a record_event to PENDING_CANCEL or PENDING_UPDATE (a request the venue
 * is about to get), by the Nth batched record, and by cq_journal_flush,
 * cq_journal_checkpoint and cq_journal_close. So every order, cancel and
 * modify is durable before the venue hears of it, exactly as without
 * batching, and the file is always a prefix of what the engine did: a
 * crash loses at most the acks, fills and closes since the last commit -
 * the venue still has them, and reconciliation after the restart brings
 * them back (a fill lost that way is not in the file, so it is applied
 * once, not refused as a duplicate). A group is atomic inside the batch
 * (a savepoint); its commit makes it durable only if it holds a submit or
 * a request, or fills the batch. Call cq_journal_flush from the loop when
 * it is idle, or on a timer, to bound how long a record may wait.
 *
 * Instruments and strategies are stored by name (handles are per process):
 * the journal resolves handles through the cache it was opened with, and
 * interns names into it when it loads. Prices and quantities are stored as
 * decimal text that parses back to exactly the double that was recorded,
 * printed at the instrument's precision when the value is on it.
 *
 * One thread: a journal is used by the loop thread only.
 *
 * Errors: CQ_EINVAL (NULL, empty, bad enum value, non-finite number, bad
 * characters), CQ_ETOOLONG (a string that fills its field or passes its
 * limit), CQ_ENOENT (unknown order, handle, or missing directory), CQ_EEXIST
 * (duplicate client order id; duplicate fill), CQ_EVERSION (journal written
 * by a newer cquant), CQ_ECORRUPT (not a SQLite file, not a journal, or
 * damaged), CQ_EDENIED (no permission), CQ_EBUSY (another process has the
 * journal), CQ_EIO (disk error, disk full), CQ_ESTATE (begin inside a group,
 * commit outside one), CQ_ERANGE (id counters exhausted), CQ_ENOMEM.
 * cq_journal_errmsg says more about the last failure.
 */
#ifndef CQUANT_JOURNAL_H
#define CQUANT_JOURNAL_H

#include <stdint.h>

#include "cquant/cache.h"
#include "cquant/event.h"
#include "cquant/exec.h"
#include "cquant/log.h"

#define CQ_JOURNAL_SCHEMA_VERSION 1 /* PRAGMA user_version this build writes */
#define CQ_JOURNAL_ID_MAX 24        /* longest id from cq_journal_next_client_id */

typedef struct cq_journal cq_journal_t;

enum {
    CQ_JOURNAL_SYNC_NORMAL = 0, /* WAL synced at checkpoints only (default) */
    CQ_JOURNAL_SYNC_FULL = 1    /* WAL synced at every commit */
};

typedef struct cq_journal_config {
    cq_cache_t *cache;          /* required: names, precisions, load target */
    const cq_log_t *log;        /* NULL: warnings and errors to stderr */
    int32_t sync;               /* CQ_JOURNAL_SYNC_* */
    int32_t busy_timeout_ms;    /* wait for another process's lock; 0 = 1000,
                                   at most 600000 */
    int32_t shared;             /* 1: other processes (the sqlite3 CLI) may
                                   read while it is open; every commit then
                                   pays for file locks. 0: exclusive */
    int32_t checkpoint_pages;   /* WAL pages that trigger an automatic
                                   checkpoint; 0 = 1000; -1 = never (call
                                   cq_journal_checkpoint) */
    int32_t skip_verify;        /* 1: skip PRAGMA quick_check at open */
    int32_t batch;              /* 0: every record call is one transaction,
                                   durable when it returns. N > 0: batched
                                   (see "Batched mode" below); N records at
                                   most wait for a commit. At most 100000 */
} cq_journal_config_t;

/* Open or create the journal at path (its directory must exist). Starts a
 * new session: the session number is incremented and synced to disk before
 * this returns, so client ids never repeat, even after a power loss. A
 * journal of a newer schema is refused with CQ_EVERSION and left untouched;
 * a file that is not a cquant journal with CQ_ECORRUPT. */
int cq_journal_open(cq_journal_t **out, const char *path, const cq_journal_config_t *cfg);

/* Rolls back a group left open, commits the batch, checkpoints and closes.
 * NULL is a no-op. */
void cq_journal_close(cq_journal_t *j);

/* Why the last call failed (or "" after success). Never NULL. */
const char *cq_journal_errmsg(const cq_journal_t *j);

/* This open's session number (1 for the first open of a new file). */
uint64_t cq_journal_session(const cq_journal_t *j);

/* A new client order id, unique across every session of this journal:
 * "cq" + session + "-" + counter, both base 36 (e.g. "cq1z-4k"), at most
 * CQ_JOURNAL_ID_MAX characters from [0-9a-z-]. out must hold 40 bytes. */
int cq_journal_next_client_id(cq_journal_t *j, char out[40]);

/* ---- recording -------------------------------------------------------------
 * record_submit inserts a new order with the status it has (normally
 * INITIALIZED or SUBMITTED; reconciliation may adopt an external order with
 * its venue status). CQ_EEXIST if its client id is already recorded.
 * Client ids: 1..36 characters from [A-Za-z0-9_-] (plus '.', ':', '/', which
 * venues allow, for adopted orders). hdr.instrument must be a handle of the
 * journal's cache; hdr.strategy a handle or 0. */
int cq_journal_record_submit(cq_journal_t *j, const cq_order_t *order);

/* Appends a state change of ev->client_order_id to order_events and applies
 * it to the order: status, filled_qty, avg_fill_price, and venue_order_id if
 * ev has one. The stored prev_status is the journal's own previous status
 * (ev->prev_status is not trusted). The journal does not judge transitions
 * (the model's state machine does). CQ_ENOENT for an unknown order. */
int cq_journal_record_event(cq_journal_t *j, const cq_order_event_t *ev);

/* Records a fill, keyed by (instrument, trade_id): CQ_EEXIST, and nothing
 * written, if that trade is already recorded. client_order_id may be empty
 * (a fill of an external order). Does not change the order: record the
 * status change it causes with record_event, in the same group if wanted. */
int cq_journal_record_fill(cq_journal_t *j, const cq_fill_t *fill);

/* Rewrites the mutable fields of a recorded order: venue_order_id, price,
 * trigger_price, qty, filled_qty, avg_fill_price, fees, tag, updated time.
 * Not its status (status changes go through record_event, so that each one
 * is in order_events) nor its identity (instrument, strategy, side, type,
 * tif, opts, created time). CQ_ENOENT for an unknown order. */
int cq_journal_update_order(cq_journal_t *j, const cq_order_t *order);

/* Group the following calls into one transaction. Nothing in the group is
 * durable, and the venue must not be called for it, before commit returns 0.
 * A call inside the group that fails with CQ_EINVAL, CQ_ETOOLONG, CQ_ENOENT
 * or CQ_EEXIST wrote nothing and the group goes on; any other failure (disk)
 * rolls the whole group back, and then commit returns CQ_ESTATE. Batched
 * mode: the group is all or nothing inside the batch, and durable when the
 * batch commits (at its own commit if it holds a submit or a request);
 * rollback undoes the group only; a disk error loses the whole batch. */
int cq_journal_begin(cq_journal_t *j);
int cq_journal_commit(cq_journal_t *j);
int cq_journal_rollback(cq_journal_t *j);

/* Batched mode: commit the batch now (0 when there is nothing to commit,
 * and always without batching). CQ_ESTATE inside a group; CQ_EIO. */
int cq_journal_flush(cq_journal_t *j);

/* Copy the WAL into the database file and sync both (PASSIVE: never waits
 * for readers); commits the batch first. With checkpoint_pages = -1 the
 * application calls this at quiet moments; it blocks for the syncs.
 * CQ_ESTATE inside a group. */
int cq_journal_checkpoint(cq_journal_t *j);

/* ---- the ExecutionEngine's journal ----------------------------------------
 * Fills *out with this journal behind the engine's interface (exec.h), for
 * cq_exec_create: record_submit -> cq_journal_record_submit, record_fill ->
 * cq_journal_record_fill (CQ_EEXIST for a trade already booked, also one
 * booked before a restart), next_client_id -> cq_journal_next_client_id,
 * record_event -> cq_journal_record_event of the order's new state (no
 * reason: the interface carries none), plus cq_journal_update_order in the
 * same transaction when the change can have moved a mutable field (a fill:
 * fees; a modify or a venue status that resized it: price, qty), so a
 * restart loads the order as the engine last saw it. The journal must
 * outlive the engine. CQ_EINVAL for NULL. */
int cq_journal_exec_iface(cq_journal_t *j, cq_exec_journal_t *out);

/* ---- reading back ----------------------------------------------------------- */

/* An order as recorded. order.hdr.instrument and order.hdr.strategy are
 * handles in the journal's cache (names interned on load). */
typedef struct cq_journal_order {
    cq_order_t order;
    char instrument[48];
    char strategy[64];         /* "" = none */
    uint32_t events;           /* rows in order_events = last seq */
    uint32_t reserved_;
} cq_journal_order_t;

/* Called once per order; a non-zero return stops the load and is returned. */
typedef int (*cq_journal_order_fn)(void *user, const cq_journal_order_t *rec);

/* Every order not in a terminal state (terminal: DENIED, REJECTED, FILLED,
 * CANCELED, EXPIRED), with its last recorded state, oldest first. Returns 0,
 * the callback's non-zero value, or a negative CQ_E* code (CQ_ECORRUPT for a
 * row this build cannot read). */
int cq_journal_load_open(cq_journal_t *j, cq_journal_order_fn fn, void *user);

/* cq_journal_load_open into the journal's cache (cq_cache_order_add); orders
 * the cache already has are skipped. *added (may be NULL) counts the rest. */
int cq_journal_restore_open(cq_journal_t *j, long *added);

/* One order by client id; CQ_ENOENT if never recorded. */
int cq_journal_find_order(cq_journal_t *j, const char *client_order_id, cq_journal_order_t *out);

/* The recorded fill of (instrument, trade_id), for de-duplication after a
 * restart; CQ_ENOENT if none. out may be NULL (existence check). */
int cq_journal_find_fill(cq_journal_t *j, uint32_t instrument, const char *trade_id, cq_fill_t *out);

#endif
