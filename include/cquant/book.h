/*
 * book.h - the L2 order book of one instrument: aggregated quantity per price
 * level, bids and asks.
 *
 * Units. Levels are keyed by integer ticks and hold integer quantities:
 *   tick = price / tick_size   (the caller converts, rounding; |tick| <= CQ_BOOK_TICK_MAX)
 *   qty  = size / step_size    (exact integer in the instrument's size units;
 *                               0 <= qty <= CQ_BOOK_QTY_MAX; 0 deletes)
 * so the book itself never does decimal arithmetic and two books built from
 * the same wire data are equal bit for bit. tick_size and step_size, given at
 * creation, are used only to answer in doubles (prices and sizes of events,
 * mid, spread, vwap). When they are decimal (0.01, 0.5, 1e-8...) a price is
 * computed as tick * units / 10^precision, which gives the double nearest to
 * the decimal price ("123456.78", never 123456.78000000001).
 *
 * Sides are the CQ_SIDE_* constants of event.h, as in cq_book_delta_t:
 * CQ_BOOK_BID (== CQ_SIDE_BUY) and CQ_BOOK_ASK (== CQ_SIDE_SELL). Every
 * `side` argument below names a side of the book, never an order's side: to
 * price a market buy, walk CQ_BOOK_ASK.
 *
 * Crossed and locked books. A book whose best bid is above its best ask is
 * crossed; equal, locked. Either means the book no longer matches the venue's
 * (a missed update, a bad diff). Policy:
 *   - cq_book_set() does not check: in the middle of a batch a book is often
 *     crossed for a moment (a new higher bid is set before the asks it
 *     crosses are deleted), and that is not an error.
 *   - At the end of every batch the book is checked: cq_book_apply() and
 *     cq_book_snapshot() do it themselves; a caller applying deltas one by
 *     one with cq_book_set() calls cq_book_check() after the last one (the
 *     delta flagged CQ_EVF_LAST).
 *   - A check that finds the book crossed or locked counts it (stats.crossed
 *     or stats.locked) and returns CQ_ESTATE. The levels are kept as given:
 *     the book does not guess which side is wrong. The owner (the
 *     DataEngine) marks the book invalid, does not publish it, and resyncs
 *     from a snapshot.
 *   - cq_book_state() answers the same question at any time without
 *     counting; mid and spread still compute on a crossed book (spread <= 0).
 *
 * Errors: functions return 0 or a negative CQ_E* code. On CQ_EINVAL (NULL,
 * unknown side, negative or too large quantity, tick out of range) nothing
 * changes, counters included; on CQ_ENOMEM no level changes. A batch is
 * validated, and the memory it can need is reserved, before its first level
 * changes. CQ_ESTATE from cq_book_apply() and cq_book_snapshot() is
 * different: the batch was applied, and the book is now crossed or locked.
 *
 * Memory: levels live in blocks of 32 taken from a per-book pool; emptied
 * blocks go back to the pool. Storage grows when a side grows, never on a
 * steady stream of updates. Single-threaded, like the rest of the core.
 * Structure and measured costs: docs/book.md.
 */
#ifndef CQUANT_BOOK_H
#define CQUANT_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/event.h"

/* |tick| and qty limits: 2^53 - 1, so that ticks and quantities convert to
 * doubles exactly and sums of quantities never overflow. */
#define CQ_BOOK_TICK_MAX ((int64_t)9007199254740991)
#define CQ_BOOK_QTY_MAX ((int64_t)9007199254740991)

enum { CQ_BOOK_BID = CQ_SIDE_BUY, CQ_BOOK_ASK = CQ_SIDE_SELL };

/* cq_book_state() results. */
enum { CQ_BOOK_OK = 0, CQ_BOOK_LOCKED = 1, CQ_BOOK_CROSSED = 2 };

/* One level in integer units. */
typedef struct cq_book_entry {
    int64_t tick;
    int64_t qty;
} cq_book_entry_t;

typedef struct cq_book_stats {
    uint64_t inserts;        /* levels created */
    uint64_t updates;        /* quantity of an existing level changed */
    uint64_t deletes;        /* levels removed by a qty 0 update */
    uint64_t missing_deletes;/* qty 0 for a level not in the book: a no-op, counted */
    uint64_t snapshots;      /* snapshots applied */
    uint64_t clears;
    uint64_t checks;         /* batch-end checks (cq_book_check and the batch calls) */
    uint64_t crossed;        /* checks that found best bid > best ask */
    uint64_t locked;         /* checks that found best bid == best ask */
    uint64_t grows;          /* allocations made to grow storage; still in steady state */
} cq_book_stats_t;

typedef struct cq_book cq_book_t;

/* A new empty book. tick_size and step_size must be finite and > 0.
 * CQ_EINVAL otherwise, CQ_ENOMEM. */
int cq_book_create(cq_book_t **out, double tick_size, double step_size);
void cq_book_destroy(cq_book_t *b);

/* Allocate now the storage for `levels` levels a side, counted at the worst
 * block occupancy, so that growing to that size does not allocate. (A batch
 * also keeps a free block per insert it carries, up to a bound, so a huge
 * batch may still allocate.) CQ_EINVAL for an absurd size. */
int cq_book_reserve(cq_book_t *b, size_t levels);

/* Set one level: qty > 0 creates or replaces the level, qty == 0 deletes it
 * (deleting a level that is not there is a no-op, counted in
 * stats.missing_deletes). No crossed-book check: see the header comment. */
int cq_book_set(cq_book_t *b, int32_t side, int64_t tick, int64_t qty);

/* Apply a batch (one venue update): every bid entry, in order, then every
 * ask entry, as cq_book_set() would; then check the book. An array may be
 * NULL when its count is 0. The whole batch is validated first: any bad
 * entry gives CQ_EINVAL and no change. Returns CQ_ESTATE if the book is now
 * crossed or locked (the batch is applied). */
int cq_book_apply(cq_book_t *b, const cq_book_entry_t *bids, size_t nbids,
                  const cq_book_entry_t *asks, size_t nasks);

/* Replace the whole book with these levels, in any order (a venue's
 * best-first order is the fast path). Entries with qty 0 describe no level
 * and are skipped; the same tick twice on a side is CQ_EINVAL (a malformed
 * snapshot: resync rather than guess). Checked like a batch: CQ_ESTATE if
 * the new book is crossed or locked. */
int cq_book_snapshot(cq_book_t *b, const cq_book_entry_t *bids, size_t nbids,
                     const cq_book_entry_t *asks, size_t nasks);

/* Remove every level (capacity is kept). */
int cq_book_clear(cq_book_t *b);

/* The batch-end check: CQ_ESTATE (and counted) if the book is crossed or
 * locked, else 0. A book with an empty side is not crossed. */
int cq_book_check(cq_book_t *b);

/* CQ_BOOK_OK, CQ_BOOK_LOCKED or CQ_BOOK_CROSSED, without counting;
 * CQ_EINVAL for NULL. */
int cq_book_state(const cq_book_t *b);

/* Best level of a side, O(1). CQ_ENOENT if the side is empty. */
int cq_book_best(const cq_book_t *b, int32_t side, cq_book_entry_t *out);

/* Quantity at one tick. CQ_ENOENT if there is no level there. */
int cq_book_qty_at(const cq_book_t *b, int32_t side, int64_t tick, int64_t *qty);

/* Number of levels on a side; 0 for NULL or an unknown side. */
size_t cq_book_levels(const cq_book_t *b, int32_t side);

/* Copy the best min(max, levels) levels of a side, best first, into out;
 * *count gets how many. out may be NULL when max is 0. */
int cq_book_depth(const cq_book_t *b, int32_t side, cq_book_entry_t *out, size_t max,
                  size_t *count);

/* Same, as prices and sizes (event.h's cq_book_level_t). */
int cq_book_depth_levels(const cq_book_t *b, int32_t side, cq_book_level_t *out, size_t max,
                         size_t *count);

/* (best bid + best ask) / 2 as a price. CQ_ENOENT if a side is empty. */
int cq_book_mid(const cq_book_t *b, double *price);

/* best ask - best bid, as a price and in ticks (<= 0 when crossed or
 * locked). CQ_ENOENT if a side is empty. */
int cq_book_spread(const cq_book_t *b, double *price);
int cq_book_spread_ticks(const cq_book_t *b, int64_t *ticks);

/* Volume-weighted average price of taking qty (size units, 1..CQ_BOOK_QTY_MAX)
 * from a side, walking from its best level. Returns 0 with *filled == qty
 * when the side holds enough. When it does not: CQ_ERANGE, with *price the
 * average over the whole side and *filled the quantity it holds. CQ_ENOENT
 * if the side is empty (*filled = 0, *price = 0). */
int cq_book_vwap(const cq_book_t *b, int32_t side, int64_t qty, double *price, int64_t *filled);

/* Fill the top-of-book fields of a book event: bid/ask price and size and
 * the level counts. An empty side gives price 0 and size 0. hdr and sequence
 * are the caller's. */
int cq_book_top(const cq_book_t *b, cq_book_event_t *ev);

/* Conversions with the book's tick_size and step_size (0 for NULL). */
double cq_book_price(const cq_book_t *b, int64_t tick);
double cq_book_size(const cq_book_t *b, int64_t qty);

int cq_book_stats(const cq_book_t *b, cq_book_stats_t *out);

#endif
