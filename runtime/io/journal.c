/*
 * journal.c - the order journal: orders, order events and fills in a SQLite
 * file in WAL mode, written before an order leaves the process.
 *
 * It owns one SQLite connection and the statements prepared on it at open
 * (none is prepared on the hot path), the session number of this open, the
 * counter of client ids handed out in it, and in batched mode the count of
 * records waiting in the open transaction. Each record call is one
 * transaction (one statement in autocommit mode where it can, BEGIN/COMMIT
 * around two otherwise) unless the caller opened a group, or, in batched
 * mode, joins the open batch (rec_begin / rec_end hold the rules). A
 * commit in WAL mode appends the changed pages to the -wal file with
 * write(2) - through journal_vfs.c, one call per commit - and the journal
 * returns only after that: a crash of this process cannot lose it; the
 * fsync that protects against an OS crash happens at checkpoints
 * (synchronous=NORMAL) or at every commit (FULL).
 *
 * Cost: every page a commit changes is written to the WAL and, at the
 * checkpoint, to the file and synced, so the submit path touches exactly
 * one page: the orders row. Its creation is not repeated in order_events,
 * and the tables are WITHOUT ROWID, clustered on their keys, so no
 * secondary index page is written either. Exclusive locking (the default)
 * avoids the six fcntl locks per transaction that sharing the file with
 * other processes costs.
 *
 * It must never: call the venue or judge state transitions (the engine and
 * the model do), crash or abort on bad input or a damaged file, store a
 * price or quantity as a binary float only, or hand out a client id twice.
 * docs/journal.md describes the schema; keep the two in step.
 */
#include "cquant/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cquant/error.h"
#include "journal_vfs.h"

#define APPLICATION_ID 0x43514a4c /* "CQJL" in PRAGMA application_id */
/* Pages of new journals. Every page a commit changes is written whole to
 * the WAL, checksummed, and later written to disk again: the bytes per
 * order are the cost (with 4096-byte pages the checkpoint's fsync of ~20 KB
 * per order was half of the submit path's mean). 2048 halves them and
 * still holds the largest row of any table in its page (an index B-tree
 * page of 2048 bytes keeps up to 488 bytes of a row locally; an orders row
 * is at most ~450), where 1024 would push long rows to overflow pages. A
 * file created with another page size keeps it. */
#define PAGE_SIZE 2048
#define BUSY_DEFAULT_MS 1000
#define BUSY_MAX_MS 600000
#define CHECKPOINT_DEFAULT 1000
#define BATCH_MAX 100000
#define PATH_LIMIT 4096
/* SQLite's page cache, an upper bound. The default (2 MiB) is smaller than
 * a day's fills, and lookups then read pages back with pread(2): with 200k
 * fills a de-duplication lookup measured 3.3 us with 2 MiB, 2.6 with this. */
#define CACHE_KIB "32768"
#define NUM_BUF 48         /* longest decimal text: "%.17g" of any double */
#define SESSION_LIMIT 2821109907456ULL /* 36^8: session fits 8 base-36 digits */

/* ---- schema -----------------------------------------------------------------
 * MIGRATIONS[v] takes a journal from user_version v to v + 1. A new schema
 * version appends one entry (never edits an old one) and bumps
 * CQ_JOURNAL_SCHEMA_VERSION; open runs the missing steps in one transaction.
 * Keep docs/journal.md in step. */
static const char *const MIGRATIONS[CQ_JOURNAL_SCHEMA_VERSION] = {
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  value INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT INTO meta (key, value) VALUES ('session', 0);"
    "CREATE TABLE orders ("
    "  client_order_id TEXT PRIMARY KEY NOT NULL,"
    "  venue_order_id TEXT NOT NULL,"
    "  instrument TEXT NOT NULL,"
    "  strategy TEXT NOT NULL,"
    "  side TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  tif TEXT NOT NULL,"
    "  opts INTEGER NOT NULL,"
    "  flags INTEGER NOT NULL,"
    "  tag TEXT NOT NULL,"
    "  price TEXT NOT NULL,"
    "  trigger_price TEXT NOT NULL,"
    "  qty TEXT NOT NULL,"
    "  filled_qty TEXT NOT NULL,"
    "  avg_fill_price TEXT NOT NULL,"
    "  fees TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  last_seq INTEGER NOT NULL,"
    "  created_ns INTEGER NOT NULL,"
    "  updated_ns INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE order_events ("
    "  client_order_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  prev_status TEXT NOT NULL,"
    "  filled_qty TEXT NOT NULL,"
    "  avg_fill_price TEXT NOT NULL,"
    "  venue_order_id TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  ts_event_ns INTEGER NOT NULL,"
    "  ts_init_ns INTEGER NOT NULL,"
    "  PRIMARY KEY (client_order_id, seq)"
    ") WITHOUT ROWID;"
    "CREATE TABLE fills ("
    "  instrument TEXT NOT NULL,"
    "  trade_id TEXT NOT NULL,"
    "  client_order_id TEXT NOT NULL,"
    "  venue_order_id TEXT NOT NULL,"
    "  strategy TEXT NOT NULL,"
    "  side TEXT NOT NULL,"
    "  liquidity TEXT NOT NULL,"
    "  price TEXT NOT NULL,"
    "  qty TEXT NOT NULL,"
    "  fee TEXT NOT NULL,"
    "  fee_asset TEXT NOT NULL,"
    "  flags INTEGER NOT NULL,"
    "  ts_event_ns INTEGER NOT NULL,"
    "  ts_init_ns INTEGER NOT NULL,"
    "  PRIMARY KEY (instrument, trade_id)"
    ") WITHOUT ROWID;",
};

#define ORDER_COLS                                                                         \
    "client_order_id, venue_order_id, instrument, strategy, side, type, tif, opts, flags, " \
    "tag, price, trigger_price, qty, filled_qty, avg_fill_price, fees, status, last_seq, "  \
    "created_ns, updated_ns"

#define FILL_COLS                                                                        \
    "instrument, trade_id, client_order_id, venue_order_id, strategy, side, liquidity, " \
    "price, qty, fee, fee_asset, flags, ts_event_ns, ts_init_ns"

/* Terminal statuses, as cq_order_status_is_closed defines them. */
#define NOT_TERMINAL "status NOT IN ('DENIED', 'REJECTED', 'FILLED', 'CANCELED', 'EXPIRED')"

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_INSERT_ORDER,
    ST_INSERT_EVENT,
    ST_APPLY_EVENT,
    ST_INSERT_FILL,
    ST_UPDATE_ORDER,
    ST_FIND_ORDER,
    ST_FIND_FILL,
    ST_LOAD_OPEN,
    ST_COUNT_
};

static const char *const STMT_SQL[ST_COUNT_] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    /* Groups inside a batch (batched mode): a savepoint, so that a group
     * rolls back alone. */
    [ST_SAVEPOINT] = "SAVEPOINT cq_group",
    [ST_RELEASE] = "RELEASE cq_group",
    [ST_ROLLBACK_TO] = "ROLLBACK TO cq_group",
    [ST_INSERT_ORDER] = "INSERT OR FAIL INTO orders (" ORDER_COLS ") VALUES "
                        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                        "?17, 0, ?18, ?19)",
    /* The event takes its seq and prev_status from the order row itself, so
     * the history stays a chain whatever the caller believes; no row, no
     * event (changes() == 0 means an unknown order). */
    [ST_INSERT_EVENT] = "INSERT OR FAIL INTO order_events (client_order_id, seq, status, prev_status, "
                        "filled_qty, avg_fill_price, venue_order_id, reason, ts_event_ns, "
                        "ts_init_ns) "
                        "SELECT client_order_id, last_seq + 1, ?2, status, ?3, ?4, ?5, ?6, ?7, ?8 "
                        "FROM orders WHERE client_order_id = ?1",
    [ST_APPLY_EVENT] = "UPDATE OR FAIL orders SET status = ?2, filled_qty = ?3, avg_fill_price = ?4, "
                       "venue_order_id = CASE WHEN ?5 <> '' THEN ?5 ELSE venue_order_id END, "
                       "last_seq = last_seq + 1, updated_ns = ?6 WHERE client_order_id = ?1",
    [ST_INSERT_FILL] = "INSERT OR FAIL INTO fills (" FILL_COLS ") VALUES "
                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [ST_UPDATE_ORDER] = "UPDATE OR FAIL orders SET venue_order_id = ?2, price = ?3, trigger_price = ?4, "
                        "qty = ?5, filled_qty = ?6, avg_fill_price = ?7, fees = ?8, tag = ?9, "
                        "updated_ns = ?10 WHERE client_order_id = ?1",
    [ST_FIND_ORDER] = "SELECT " ORDER_COLS " FROM orders WHERE client_order_id = ?1",
    [ST_FIND_FILL] = "SELECT " FILL_COLS " FROM fills WHERE instrument = ?1 AND trade_id = ?2",
    [ST_LOAD_OPEN] = "SELECT " ORDER_COLS " FROM orders WHERE " NOT_TERMINAL
                     " ORDER BY created_ns, client_order_id",
};

struct cq_journal {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT_];
    cq_cache_t *cache;
    const cq_log_t *log;
    uint64_t session;
    uint64_t last_id;      /* client ids handed out in this session */
    char id_prefix[16];    /* "cq" + base36(session) + "-" */
    int id_prefix_len;
    int in_group;
    int batch;             /* cfg.batch: 0 = every call its own transaction */
    int pending;           /* batched mode: records in the open transaction */
    int group_pending;     /* pending when the group began */
    int group_force;       /* the group holds a record that commits the batch */
    int loading;           /* inside a load callback: writes refused */
    int created;           /* open created the file: removed if open fails */
    char path[PATH_LIMIT];
    char errmsg[256];
};

/* ---- errors -------------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(cq_journal_t *j, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->errmsg, sizeof j->errmsg, fmt, ap);
    va_end(ap);
    return err;
}

/* A SQLite result as a CQ_E* code. errno_hint is the OS error behind an
 * I/O or open failure (sqlite3_system_errno), 0 if unknown. */
static int map_sqlite(int rc, int errno_hint)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_CONSTRAINT:
        return CQ_EEXIST;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return CQ_EBUSY;
    case SQLITE_NOMEM:
        return CQ_ENOMEM;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_FORMAT:
        return CQ_ECORRUPT;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return CQ_EDENIED;
    case SQLITE_CANTOPEN:
        if (errno_hint == EACCES || errno_hint == EPERM || errno_hint == EROFS)
            return CQ_EDENIED;
        if (errno_hint == ENOENT || errno_hint == ENOTDIR)
            return CQ_ENOENT;
        return CQ_EIO;
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
        return CQ_EINVAL;
    default: /* SQLITE_IOERR, SQLITE_FULL, SQLITE_PROTOCOL... */
        return CQ_EIO;
    }
}

/* Record a SQLite failure in errmsg, log it when it is about the disk or the
 * file (not a duplicate key: that is a normal answer), and map it. */
static int db_fail(cq_journal_t *j, int rc, const char *what)
{
    int err = map_sqlite(rc, sqlite3_system_errno(j->db));
    fail(j, err, "journal %s: %s: %s", j->path, what, sqlite3_errmsg(j->db));
    if (err != CQ_EEXIST && err != CQ_EINVAL)
        cq_logf(j->log, CQ_LOG_ERROR, "journal", "%s", j->errmsg);
    return err;
}

/* ---- exact decimal text -------------------------------------------------------- */

static const double POW10[19] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

/* v as decimal text that strtod reads back as exactly v: with the fewest
 * decimals, but never fewer than prec (the instrument's precision, -1 if
 * unknown), so a price on the tick reads the way the venue writes it
 * ("0.00100000"). The test is exact: k / 10^p of two exact doubles is
 * correctly rounded, just as strtod is. Values with no short decimal form
 * (an average price, say) fall back to the shortest %.15g..%.17g that
 * round-trips. No snprintf on the common path: it costs more than the rest
 * of the formatting. Returns the length. */
static int fmt_decimal(char buf[NUM_BUF], double v, int prec)
{
    for (prec = prec >= 0 && prec <= 18 ? prec : 0; prec <= 18; prec++) {
        double s = v * POW10[prec];
        if (fabs(s) < 9007199254740992.0) { /* 2^53: k is exact */
            long long k = llround(s);
            if ((double)k / POW10[prec] == v) {
                char digits[24];
                int n = 0;
                unsigned long long u = k < 0 ? 0ULL - (unsigned long long)k : (unsigned long long)k;
                do {
                    digits[n++] = (char)('0' + u % 10);
                    u /= 10;
                } while (u);
                while (n <= prec)
                    digits[n++] = '0';
                int len = 0;
                if (k < 0)
                    buf[len++] = '-';
                while (n > prec)
                    buf[len++] = digits[--n];
                if (prec > 0) {
                    buf[len++] = '.';
                    while (n > 0)
                        buf[len++] = digits[--n];
                }
                buf[len] = '\0';
                return len;
            }
        }
    }
    int len = 0;
    for (int p = 15; p <= 17; p++) {
        len = snprintf(buf, NUM_BUF, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return len;
}

/* The double a stored text stands for; CQ_ECORRUPT if it is not a number. */
static int parse_decimal(const unsigned char *text, double *out)
{
    if (!text || !*text)
        return CQ_ECORRUPT;
    char *end;
    errno = 0;
    double v = strtod((const char *)text, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v))
        return CQ_ECORRUPT;
    *out = v;
    return 0;
}

/* ---- validation ------------------------------------------------------------------ */

/* Length of a string that must end (NUL) within cap bytes; -1 if it does
 * not. strnlen reads no further than the NUL, so a short C string is fine. */
static int field_len(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    return n < cap ? (int)n : -1;
}

static int id_char_ok(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == ':' || c == '/';
}

/* A client order id: 1..CQ_ORDER_ID_MAX characters of id_char_ok. */
static int check_client_id(cq_journal_t *j, const char *s, size_t cap, int allow_empty, int *len)
{
    int n = field_len(s, cap);
    if (n < 0 || n > CQ_ORDER_ID_MAX)
        return fail(j, CQ_ETOOLONG, "client order id longer than %d characters", CQ_ORDER_ID_MAX);
    if (n == 0 && !allow_empty)
        return fail(j, CQ_EINVAL, "empty client order id");
    for (int i = 0; i < n; i++)
        if (!id_char_ok((unsigned char)s[i]))
            return fail(j, CQ_EINVAL, "client order id has a character outside [A-Za-z0-9_.:/-]");
    *len = n;
    return 0;
}

/* A venue-assigned id (venue order id, trade id): printable ASCII, no space. */
static int check_venue_id(cq_journal_t *j, const char *s, size_t cap, const char *what, int *len)
{
    int n = field_len(s, cap);
    if (n < 0)
        return fail(j, CQ_ETOOLONG, "%s longer than %zu characters", what, cap - 1);
    for (int i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return fail(j, CQ_EINVAL, "%s has a non-printable or space character", what);
    *len = n;
    return 0;
}

/* Free text (tag, reason, fee asset): anything but must end inside its field. */
static int check_text(cq_journal_t *j, const char *s, size_t cap, const char *what, int *len)
{
    int n = field_len(s, cap);
    if (n < 0)
        return fail(j, CQ_ETOOLONG, "%s longer than %zu characters", what, cap - 1);
    *len = n;
    return 0;
}

static const char *liq_name(int32_t v)
{
    static const char *const t[] = {"NONE", "MAKER", "TAKER"};
    return v >= 0 && v <= 2 ? t[v] : "?";
}

static int status_ok(int32_t s)
{
    return s >= CQ_OS_INITIALIZED && s < CQ_OS_COUNT_;
}

static int check_numbers(cq_journal_t *j, const double *v, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return fail(j, CQ_EINVAL, "a price, quantity or fee is not a finite number");
    return 0;
}

/* Names of an order's instrument and strategy handles, and the instrument's
 * precisions (-1 when it has no spec: values are then written shortest). */
typedef struct refs {
    const char *instrument;
    const char *strategy;
    int price_prec;
    int size_prec;
} refs_t;

static int resolve(cq_journal_t *j, uint32_t instrument, uint32_t strategy, refs_t *r)
{
    if (instrument == 0)
        return fail(j, CQ_EINVAL, "no instrument handle");
    r->instrument = cq_cache_instrument_name(j->cache, instrument);
    if (!r->instrument)
        return fail(j, CQ_ENOENT, "instrument handle %u is not in the cache", instrument);
    r->strategy = "";
    if (strategy) {
        r->strategy = cq_cache_strategy_name(j->cache, strategy);
        if (!r->strategy)
            return fail(j, CQ_ENOENT, "strategy handle %u is not in the cache", strategy);
    }
    const cq_instrument_t *spec = cq_cache_instrument(j->cache, instrument);
    r->price_prec = spec && spec->price_precision >= 0 && spec->price_precision <= 18 ? spec->price_precision : -1;
    r->size_prec = spec && spec->size_precision >= 0 && spec->size_precision <= 18 ? spec->size_precision : -1;
    return 0;
}

/* Checks every field record_submit and update_order store. */
static int check_order(cq_journal_t *j, const cq_order_t *o, refs_t *r, int lens[3])
{
    int rc;
    if ((rc = check_client_id(j, o->client_order_id, sizeof o->client_order_id, 0, &lens[0])) < 0 ||
        (rc = check_venue_id(j, o->venue_order_id, sizeof o->venue_order_id, "venue order id", &lens[1])) < 0 ||
        (rc = check_text(j, o->tag, sizeof o->tag, "tag", &lens[2])) < 0)
        return rc;
    if (o->side != CQ_SIDE_BUY && o->side != CQ_SIDE_SELL)
        return fail(j, CQ_EINVAL, "side %d is not BUY or SELL", (int)o->side);
    if (o->type < CQ_ORDER_MARKET || o->type > CQ_ORDER_STOP_LIMIT)
        return fail(j, CQ_EINVAL, "order type %d unknown", (int)o->type);
    if (o->tif < CQ_TIF_GTC || o->tif > CQ_TIF_FOK)
        return fail(j, CQ_EINVAL, "time in force %d unknown", (int)o->tif);
    if (!status_ok(o->status))
        return fail(j, CQ_EINVAL, "order status %d unknown", (int)o->status);
    if (o->opts & ~(uint32_t)(CQ_ORDER_OPT_REDUCE_ONLY | CQ_ORDER_OPT_POST_ONLY))
        return fail(j, CQ_EINVAL, "unknown order option bits 0x%x", (unsigned)o->opts);
    double nums[6] = {o->price, o->trigger_price, o->qty, o->filled_qty, o->avg_fill_price, o->fees};
    if ((rc = check_numbers(j, nums, 6)) < 0)
        return rc;
    if (o->qty < 0 || o->filled_qty < 0)
        return fail(j, CQ_EINVAL, "negative quantity");
    return resolve(j, o->hdr.instrument, o->hdr.strategy, r);
}

/* ---- statements and transactions ---------------------------------------------------- */

static void bind_text(sqlite3_stmt *s, int i, const char *v, int len)
{
    sqlite3_bind_text(s, i, v, len, SQLITE_STATIC);
}

/* Run a statement that returns no row; reset it either way (the reset also
 * drops the SQLITE_STATIC bindings' hold on the caller's memory). When no
 * transaction is open afterwards the statement may have committed: the
 * -wal writes the VFS holds back go out now, before anyone is told
 * (journal_vfs.c). */
static int run(cq_journal_t *j, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    int rc2 = sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return rc2 != SQLITE_OK ? rc2 : rc;
    if (sqlite3_get_autocommit(j->db))
        return cq_jvfs_flush(j->db);
    return SQLITE_OK;
}

/* Roll back whatever is not committed: the open group, and in batched
 * mode the batch. */
static void rollback_all(cq_journal_t *j)
{
    if (!sqlite3_get_autocommit(j->db))
        run(j, j->st[ST_ROLLBACK]);
    j->in_group = 0;
    j->pending = 0;
}

/* Failure handling for writes. A duplicate or a missing row wrote nothing.
 * Anything else (disk, corruption) may have left a group or a batch
 * half-applied: roll it back, so the group is all or nothing as the header
 * promises. */
static int write_failed(cq_journal_t *j, int rc, const char *what)
{
    int err = db_fail(j, rc, what);
    if (err != CQ_EEXIST && !sqlite3_get_autocommit(j->db)) {
        int lost = j->pending;
        rollback_all(j);
        cq_logf(j->log, CQ_LOG_ERROR, "journal", "%s: %s rolled back (%d records lost)", j->path,
                j->batch ? "batch" : "group", lost);
    }
    if (err != CQ_EEXIST)
        j->in_group = 0;
    return err;
}

/* Before a record's statements (multi: more than one): open the
 * transaction they join, unless one is open (a group, a batch) or the
 * record runs as one statement in autocommit mode - one statement, and not
 * batched or a record that commits the batch anyway (force). */
static int rec_begin(cq_journal_t *j, int multi, int force)
{
    if (!sqlite3_get_autocommit(j->db) || (!multi && (!j->batch || force)))
        return SQLITE_OK;
    return run(j, j->st[ST_BEGIN]);
}

/* After a record's statements succeeded. Not batched: commit what
 * rec_begin opened (a group commits at its end). Batched: the record joins
 * the batch, which is committed when force is set (a record the venue is
 * about to act on) or it is full - at the end of the group if one is open. */
static int rec_end(cq_journal_t *j, int force)
{
    if (j->in_group) {
        j->pending++;
        j->group_force |= force;
        return SQLITE_OK;
    }
    if (sqlite3_get_autocommit(j->db)) { /* it committed itself */
        j->pending = 0;
        return SQLITE_OK;
    }
    if (j->batch && ++j->pending < j->batch && !force)
        return SQLITE_OK;
    int rc = run(j, j->st[ST_COMMIT]);
    if (rc == SQLITE_OK)
        j->pending = 0;
    return rc;
}

/* After a record failed without writing (a bad argument, a duplicate, no
 * such order): undo the transaction rec_begin opened for it alone. */
static void rec_abort(cq_journal_t *j)
{
    if (!j->in_group && !j->batch && !sqlite3_get_autocommit(j->db))
        run(j, j->st[ST_ROLLBACK]);
}

static int usable(cq_journal_t *j)
{
    if (j->loading)
        return fail(j, CQ_EBUSY, "the journal is loading: no writes from a load callback");
    j->errmsg[0] = '\0';
    return 0;
}

/* ---- open and close --------------------------------------------------------------------- */

static int exec_sql(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Single integer from a query such as "PRAGMA user_version". */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    int rc2 = sqlite3_finalize(s);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) /* no row reads as 0 */
        return rc2;
    return rc;
}

/* The directory must exist and be writable (WAL puts -wal beside the file);
 * checked first because SQLite's own "unable to open database file" does
 * not say which. */
static int check_location(cq_journal_t *j)
{
    char dir[PATH_LIMIT];
    const char *slash = strrchr(j->path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == j->path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - j->path), j->path);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return fail(j, CQ_ENOENT, "journal %s: directory %s does not exist", j->path, dir);
    if (access(dir, W_OK) != 0)
        return fail(j, CQ_EDENIED, "journal %s: directory %s is not writable (%s)", j->path, dir,
                    strerror(errno));
    if (stat(j->path, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return fail(j, CQ_EINVAL, "journal %s: not a regular file", j->path);
        if (access(j->path, R_OK | W_OK) != 0)
            return fail(j, CQ_EDENIED, "journal %s: no permission to read and write it (%s)",
                        j->path, strerror(errno));
        return 0;
    }
    /* Create it here (an empty file is an empty database): SQLite, refused,
     * retries read-only and reports that attempt's errno, not the real one. */
    int fd = open(j->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        int err = e == EACCES || e == EPERM || e == EROFS ? CQ_EDENIED : e == ENOENT ? CQ_ENOENT : CQ_EIO;
        return fail(j, err, "journal %s: cannot create it (%s)", j->path, strerror(e));
    }
    close(fd);
    j->created = 1;
    return 0;
}

/* Refuse what is not ours before writing a byte: a newer schema, another
 * application's database, a damaged file. *version gets user_version. */
static int check_file(cq_journal_t *j, int skip_verify, int64_t *version)
{
    int64_t app = 0, tables = 0;
    int rc;
    if ((rc = query_int(j->db, "PRAGMA application_id", &app)) != SQLITE_OK ||
        (rc = query_int(j->db, "PRAGMA user_version", version)) != SQLITE_OK ||
        (rc = query_int(j->db, "SELECT count(*) FROM sqlite_schema", &tables)) != SQLITE_OK) {
        int err = map_sqlite(rc, sqlite3_system_errno(j->db));
        if (err == CQ_ECORRUPT)
            return fail(j, err, "journal %s: not a SQLite database, or damaged (%s)", j->path,
                        sqlite3_errmsg(j->db));
        if (err == CQ_EBUSY)
            return fail(j, err, "journal %s: in use by another process", j->path);
        return fail(j, err, "journal %s: cannot read it: %s", j->path, sqlite3_errmsg(j->db));
    }
    if (app != APPLICATION_ID && (app != 0 || *version != 0 || tables != 0))
        return fail(j, CQ_ECORRUPT, "journal %s: a SQLite database, but not a cquant journal "
                    "(application_id %lld)", j->path, (long long)app);
    if (*version > CQ_JOURNAL_SCHEMA_VERSION)
        return fail(j, CQ_EVERSION, "journal %s: schema version %lld was written by a newer "
                    "cquant; this build reads up to %d (the file was not changed)",
                    j->path, (long long)*version, CQ_JOURNAL_SCHEMA_VERSION);
    if (*version < 0)
        return fail(j, CQ_ECORRUPT, "journal %s: bad schema version %lld", j->path, (long long)*version);
    if (!skip_verify && tables) {
        sqlite3_stmt *s;
        if ((rc = sqlite3_prepare_v2(j->db, "PRAGMA quick_check(1)", -1, &s, NULL)) != SQLITE_OK)
            return fail(j, map_sqlite(rc, 0), "journal %s: %s", j->path, sqlite3_errmsg(j->db));
        rc = sqlite3_step(s);
        const unsigned char *res = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
        int ok = res && strcmp((const char *)res, "ok") == 0;
        if (!ok) {
            int err = rc == SQLITE_ROW ? CQ_ECORRUPT : map_sqlite(rc, sqlite3_system_errno(j->db));
            fail(j, err ? err : CQ_ECORRUPT, "journal %s: integrity check failed: %s", j->path,
                 res ? (const char *)res : sqlite3_errmsg(j->db));
        }
        sqlite3_finalize(s);
        if (!ok)
            return CQ_ECORRUPT;
    }
    return 0;
}

/* Create or upgrade the schema and start a new session, in one transaction
 * synced to disk whatever the configured sync: a session number that an OS
 * crash could take back would let a later session reuse client ids that a
 * venue has already seen. */
static int start_session(cq_journal_t *j, int64_t version)
{
    int rc = exec_sql(j->db, "PRAGMA synchronous=FULL");
    if (rc == SQLITE_OK)
        rc = exec_sql(j->db, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return db_fail(j, rc, "cannot start the session");
    for (int64_t v = version; v < CQ_JOURNAL_SCHEMA_VERSION && rc == SQLITE_OK; v++) {
        char sql[96];
        rc = exec_sql(j->db, MIGRATIONS[v]);
        snprintf(sql, sizeof sql, "PRAGMA user_version=%lld", (long long)v + 1);
        if (rc == SQLITE_OK)
            rc = exec_sql(j->db, sql);
        if (rc == SQLITE_OK && v == 0) {
            snprintf(sql, sizeof sql, "PRAGMA application_id=%d", APPLICATION_ID);
            rc = exec_sql(j->db, sql);
        }
    }
    int64_t session = 0;
    if (rc == SQLITE_OK)
        rc = query_int(j->db, "UPDATE meta SET value = value + 1 WHERE key = 'session' RETURNING value",
                       &session);
    if (rc == SQLITE_OK && (session <= 0 || (uint64_t)session >= SESSION_LIMIT)) {
        exec_sql(j->db, "ROLLBACK");
        return fail(j, session <= 0 ? CQ_ECORRUPT : CQ_ERANGE,
                    "journal %s: bad session counter %lld", j->path, (long long)session);
    }
    if (rc == SQLITE_OK)
        rc = exec_sql(j->db, "COMMIT");
    if (rc != SQLITE_OK) {
        int err = db_fail(j, rc, "cannot start the session");
        if (!sqlite3_get_autocommit(j->db))
            exec_sql(j->db, "ROLLBACK");
        return err;
    }
    j->session = (uint64_t)session;
    return 0;
}

static int configure(cq_journal_t *j, const cq_journal_config_t *cfg)
{
    char sql[64];
    int pages = cfg->checkpoint_pages == 0 ? CHECKPOINT_DEFAULT
                : cfg->checkpoint_pages < 0 ? 0 : cfg->checkpoint_pages;
    int rc = exec_sql(j->db, cfg->sync == CQ_JOURNAL_SYNC_FULL ? "PRAGMA synchronous=FULL"
                                                                : "PRAGMA synchronous=NORMAL");
    snprintf(sql, sizeof sql, "PRAGMA wal_autocheckpoint=%d", pages);
    if (rc == SQLITE_OK)
        rc = exec_sql(j->db, sql);
    if (rc == SQLITE_OK) /* KiB: see CACHE_KIB */
        rc = exec_sql(j->db, "PRAGMA cache_size=-" CACHE_KIB);
    for (int i = 0; i < ST_COUNT_ && rc == SQLITE_OK; i++)
        rc = sqlite3_prepare_v3(j->db, STMT_SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &j->st[i], NULL);
    return rc == SQLITE_OK ? 0 : db_fail(j, rc, "cannot prepare");
}

static int open_db(cq_journal_t *j, const cq_journal_config_t *cfg)
{
    int rc = check_location(j);
    if (rc < 0)
        return rc;
    /* Through the VFS that writes each commit's WAL frames with one system
     * call (journal_vfs.c); the system's own if it cannot be had. */
    rc = sqlite3_open_v2(j->path, &j->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, cq_jvfs_name());
    if (rc != SQLITE_OK) {
        int sys = j->db ? sqlite3_system_errno(j->db) : 0;
        return fail(j, map_sqlite(rc, sys), "journal %s: cannot open: %s", j->path,
                    j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(rc));
    }
    sqlite3_extended_result_codes(j->db, 1);
    sqlite3_busy_timeout(j->db, cfg->busy_timeout_ms ? cfg->busy_timeout_ms : BUSY_DEFAULT_MS);
    /* Exclusive must come before the first WAL access: then SQLite keeps the
     * WAL index in heap memory and takes no file lock per transaction. */
    if (!cfg->shared && (rc = exec_sql(j->db, "PRAGMA locking_mode=EXCLUSIVE")) != SQLITE_OK)
        return db_fail(j, rc, "cannot set the locking mode");
    int64_t version = 0;
    if ((rc = check_file(j, cfg->skip_verify, &version)) < 0)
        return rc;
    if (version == 0) {
        char sql[48];
        snprintf(sql, sizeof sql, "PRAGMA page_size=%d", PAGE_SIZE);
        exec_sql(j->db, sql); /* only takes effect on a new file; harmless otherwise */
    }
    sqlite3_stmt *s;
    if ((rc = sqlite3_prepare_v2(j->db, "PRAGMA journal_mode=WAL", -1, &s, NULL)) != SQLITE_OK)
        return db_fail(j, rc, "cannot switch to WAL");
    rc = sqlite3_step(s);
    int wal = rc == SQLITE_ROW && sqlite3_column_text(s, 0) &&
              strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
    sqlite3_finalize(s);
    if (!wal) {
        if (rc != SQLITE_ROW && map_sqlite(rc, 0) == CQ_EBUSY)
            return fail(j, CQ_EBUSY, "journal %s: in use by another process", j->path);
        return fail(j, rc == SQLITE_ROW ? CQ_EIO : map_sqlite(rc, sqlite3_system_errno(j->db)),
                    "journal %s: cannot switch to WAL mode: %s", j->path, sqlite3_errmsg(j->db));
    }
    if ((rc = start_session(j, version)) < 0)
        return rc;
    return configure(j, cfg);
}

static void close_db(cq_journal_t *j)
{
    for (int i = 0; i < ST_COUNT_; i++) {
        sqlite3_finalize(j->st[i]);
        j->st[i] = NULL;
    }
    if (j->db && !sqlite3_get_autocommit(j->db))
        exec_sql(j->db, "ROLLBACK");
    sqlite3_close(j->db);
    j->db = NULL;
}

int cq_journal_open(cq_journal_t **out, const char *path, const cq_journal_config_t *cfg)
{
    if (!out)
        return CQ_EINVAL;
    *out = NULL;
    if (!path || !*path || !cfg || !cfg->cache)
        return CQ_EINVAL;
    if (strnlen(path, PATH_LIMIT) >= PATH_LIMIT)
        return CQ_ETOOLONG;
    if ((cfg->sync != CQ_JOURNAL_SYNC_NORMAL && cfg->sync != CQ_JOURNAL_SYNC_FULL) ||
        cfg->busy_timeout_ms < 0 || cfg->busy_timeout_ms > BUSY_MAX_MS ||
        cfg->checkpoint_pages < -1 || (cfg->shared != 0 && cfg->shared != 1) ||
        (cfg->skip_verify != 0 && cfg->skip_verify != 1) || cfg->batch < 0 || cfg->batch > BATCH_MAX)
        return CQ_EINVAL;
    cq_journal_t *j = calloc(1, sizeof *j);
    if (!j)
        return CQ_ENOMEM;
    j->cache = cfg->cache;
    j->log = cfg->log;
    j->batch = cfg->batch;
    snprintf(j->path, sizeof j->path, "%s", path);
    int rc = open_db(j, cfg);
    if (rc < 0) {
        cq_logf(j->log, CQ_LOG_ERROR, "journal", "%s (%s)", j->errmsg, cq_errname(rc));
        close_db(j);
        if (j->created) { /* leave no half-made journal behind */
            char side[PATH_LIMIT + 8];
            unlink(j->path);
            snprintf(side, sizeof side, "%s-wal", j->path);
            unlink(side);
            snprintf(side, sizeof side, "%s-shm", j->path);
            unlink(side);
        }
        free(j);
        return rc;
    }
    cq_logf(j->log, CQ_LOG_INFO, "journal", "%s: session %llu", j->path,
            (unsigned long long)j->session);
    *out = j;
    return 0;
}

void cq_journal_close(cq_journal_t *j)
{
    if (!j)
        return;
    if (j->in_group) {
        cq_logf(j->log, CQ_LOG_WARN, "journal", "%s: closed with a group open: rolled back", j->path);
        if (!j->batch)
            rollback_all(j);
        else if (cq_journal_rollback(j) < 0)
            rollback_all(j);
    }
    if (j->db && !j->loading && cq_journal_flush(j) < 0) /* the batch: a clean close keeps it */
        cq_logf(j->log, CQ_LOG_ERROR, "journal", "%s: the last batch was not committed", j->path);
    close_db(j);
    free(j);
}

const char *cq_journal_errmsg(const cq_journal_t *j)
{
    return j ? j->errmsg : "no journal";
}

uint64_t cq_journal_session(const cq_journal_t *j)
{
    return j ? j->session : 0;
}

/* ---- client ids ----------------------------------------------------------------------- */

static int put_base36(char *p, uint64_t v)
{
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
        v /= 36;
    } while (v);
    for (int i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* Unique because the session number was committed and synced before any id
 * of the session exists, and the counter only grows within it. Lengths:
 * session < 36^8 (8 digits), counter < 2^64 (13 digits): 2 + 8 + 1 + 13. */
int cq_journal_next_client_id(cq_journal_t *j, char out[40])
{
    if (!j || !out)
        return CQ_EINVAL;
    if (j->last_id == UINT64_MAX)
        return fail(j, CQ_ERANGE, "client id counter exhausted in this session");
    uint64_t seq = ++j->last_id;
    if (!j->id_prefix_len) { /* "cq" + session + "-", the same for the whole session */
        int n = 0;
        j->id_prefix[n++] = 'c';
        j->id_prefix[n++] = 'q';
        n += put_base36(j->id_prefix + n, j->session);
        j->id_prefix[n++] = '-';
        j->id_prefix_len = n;
    }
    memcpy(out, j->id_prefix, (size_t)j->id_prefix_len);
    int n = j->id_prefix_len + put_base36(out + j->id_prefix_len, seq);
    out[n] = '\0';
    return 0;
}

/* ---- recording ------------------------------------------------------------------------- */

int cq_journal_record_submit(cq_journal_t *j, const cq_order_t *o)
{
    if (!j || !o)
        return CQ_EINVAL;
    int rc, lens[3] = {0, 0, 0};
    refs_t r;
    if ((rc = usable(j)) < 0 || (rc = check_order(j, o, &r, lens)) < 0)
        return rc;
    char price[NUM_BUF], trigger[NUM_BUF], qty[NUM_BUF], filled[NUM_BUF], avg[NUM_BUF], fees[NUM_BUF];
    int lp = fmt_decimal(price, o->price, r.price_prec);
    int lt = fmt_decimal(trigger, o->trigger_price, r.price_prec);
    int lq = fmt_decimal(qty, o->qty, r.size_prec);
    int lf = fmt_decimal(filled, o->filled_qty, r.size_prec);
    int la = fmt_decimal(avg, o->avg_fill_price, r.price_prec);
    int le = fmt_decimal(fees, o->fees, -1);
    /* A submit is what the venue acts on next: it always commits, and in
     * batched mode takes the batch with it. */
    if ((rc = rec_begin(j, 0, 1)) != SQLITE_OK)
        return write_failed(j, rc, "cannot begin");
    sqlite3_stmt *s = j->st[ST_INSERT_ORDER];
    bind_text(s, 1, o->client_order_id, lens[0]);
    bind_text(s, 2, o->venue_order_id, lens[1]);
    bind_text(s, 3, r.instrument, -1);
    bind_text(s, 4, r.strategy, -1);
    bind_text(s, 5, cq_side_name(o->side), -1);
    bind_text(s, 6, cq_order_type_name(o->type), -1);
    bind_text(s, 7, cq_tif_name(o->tif), -1);
    sqlite3_bind_int64(s, 8, o->opts);
    sqlite3_bind_int64(s, 9, o->hdr.flags);
    bind_text(s, 10, o->tag, lens[2]);
    bind_text(s, 11, price, lp);
    bind_text(s, 12, trigger, lt);
    bind_text(s, 13, qty, lq);
    bind_text(s, 14, filled, lf);
    bind_text(s, 15, avg, la);
    bind_text(s, 16, fees, le);
    bind_text(s, 17, cq_order_status_name(o->status), -1);
    sqlite3_bind_int64(s, 18, o->hdr.ts_init);
    sqlite3_bind_int64(s, 19, o->hdr.ts_event);
    if ((rc = run(j, s)) != SQLITE_OK) {
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
            return fail(j, CQ_EEXIST, "order %s is already recorded", o->client_order_id);
        return write_failed(j, rc, "cannot record the order");
    }
    if ((rc = rec_end(j, 1)) != SQLITE_OK)
        return write_failed(j, rc, "cannot commit the order");
    return 0;
}

int cq_journal_record_event(cq_journal_t *j, const cq_order_event_t *ev)
{
    if (!j || !ev)
        return CQ_EINVAL;
    int rc, lc = 0, lv = 0, lr = 0;
    if ((rc = usable(j)) < 0 ||
        (rc = check_client_id(j, ev->client_order_id, sizeof ev->client_order_id, 0, &lc)) < 0 ||
        (rc = check_venue_id(j, ev->venue_order_id, sizeof ev->venue_order_id, "venue order id", &lv)) < 0 ||
        (rc = check_text(j, ev->reason, sizeof ev->reason, "reason", &lr)) < 0)
        return rc;
    if (!status_ok(ev->status))
        return fail(j, CQ_EINVAL, "order status %d unknown", (int)ev->status);
    double nums[2] = {ev->filled_qty, ev->avg_fill_price};
    if ((rc = check_numbers(j, nums, 2)) < 0)
        return rc;
    if (ev->filled_qty < 0)
        return fail(j, CQ_EINVAL, "negative quantity");
    /* The instrument is optional here: it only chooses the precision. */
    const cq_instrument_t *spec = ev->hdr.instrument ? cq_cache_instrument(j->cache, ev->hdr.instrument) : NULL;
    int pp = spec && spec->price_precision >= 0 && spec->price_precision <= 18 ? spec->price_precision : -1;
    int sp = spec && spec->size_precision >= 0 && spec->size_precision <= 18 ? spec->size_precision : -1;
    char filled[NUM_BUF], avg[NUM_BUF];
    int lf = fmt_decimal(filled, ev->filled_qty, sp);
    int la = fmt_decimal(avg, ev->avg_fill_price, pp);
    const char *status = cq_order_status_name(ev->status);
    /* A cancel or modify request is sent right after its event: in batched
     * mode it commits, like a submit. */
    int force = ev->status == CQ_OS_PENDING_CANCEL || ev->status == CQ_OS_PENDING_UPDATE;

    if ((rc = rec_begin(j, 1, force)) != SQLITE_OK)
        return write_failed(j, rc, "cannot begin");
    sqlite3_stmt *s = j->st[ST_INSERT_EVENT];
    bind_text(s, 1, ev->client_order_id, lc);
    bind_text(s, 2, status, -1);
    bind_text(s, 3, filled, lf);
    bind_text(s, 4, avg, la);
    bind_text(s, 5, ev->venue_order_id, lv);
    bind_text(s, 6, ev->reason, lr);
    sqlite3_bind_int64(s, 7, ev->hdr.ts_event);
    sqlite3_bind_int64(s, 8, ev->hdr.ts_init);
    if ((rc = run(j, s)) != SQLITE_OK) {
        if ((rc & 0xff) == SQLITE_CONSTRAINT) /* seq taken: last_seq lies */
            return write_failed(j, SQLITE_CORRUPT, "order_events out of step with orders.last_seq");
        return write_failed(j, rc, "cannot record the event");
    }
    if (sqlite3_changes(j->db) == 0) {
        rec_abort(j);
        return fail(j, CQ_ENOENT, "order %s is not recorded", ev->client_order_id);
    }
    s = j->st[ST_APPLY_EVENT];
    bind_text(s, 1, ev->client_order_id, lc);
    bind_text(s, 2, status, -1);
    bind_text(s, 3, filled, lf);
    bind_text(s, 4, avg, la);
    bind_text(s, 5, ev->venue_order_id, lv);
    sqlite3_bind_int64(s, 6, ev->hdr.ts_event);
    if ((rc = run(j, s)) != SQLITE_OK || (rc = rec_end(j, force)) != SQLITE_OK)
        return write_failed(j, rc, "cannot record the event");
    return 0;
}

int cq_journal_record_fill(cq_journal_t *j, const cq_fill_t *f)
{
    if (!j || !f)
        return CQ_EINVAL;
    int rc, lc = 0, lv = 0, lt = 0, la = 0;
    refs_t r;
    if ((rc = usable(j)) < 0 ||
        (rc = check_client_id(j, f->client_order_id, sizeof f->client_order_id, 1, &lc)) < 0 ||
        (rc = check_venue_id(j, f->venue_order_id, sizeof f->venue_order_id, "venue order id", &lv)) < 0 ||
        (rc = check_venue_id(j, f->trade_id, sizeof f->trade_id, "trade id", &lt)) < 0 ||
        (rc = check_text(j, f->fee_asset, sizeof f->fee_asset, "fee asset", &la)) < 0)
        return rc;
    if (lt == 0)
        return fail(j, CQ_EINVAL, "empty trade id");
    if (f->side != CQ_SIDE_BUY && f->side != CQ_SIDE_SELL)
        return fail(j, CQ_EINVAL, "side %d is not BUY or SELL", (int)f->side);
    if (f->liquidity < CQ_LIQ_NONE || f->liquidity > CQ_LIQ_TAKER)
        return fail(j, CQ_EINVAL, "liquidity %d unknown", (int)f->liquidity);
    double nums[3] = {f->price, f->qty, f->fee};
    if ((rc = check_numbers(j, nums, 3)) < 0)
        return rc;
    if (f->qty < 0)
        return fail(j, CQ_EINVAL, "negative quantity");
    if ((rc = resolve(j, f->hdr.instrument, f->hdr.strategy, &r)) < 0)
        return rc;
    char price[NUM_BUF], qty[NUM_BUF], fee[NUM_BUF];
    int lp = fmt_decimal(price, f->price, r.price_prec);
    int lq = fmt_decimal(qty, f->qty, r.size_prec);
    int le = fmt_decimal(fee, f->fee, -1);
    if ((rc = rec_begin(j, 0, 0)) != SQLITE_OK)
        return write_failed(j, rc, "cannot begin");
    sqlite3_stmt *s = j->st[ST_INSERT_FILL];
    bind_text(s, 1, r.instrument, -1);
    bind_text(s, 2, f->trade_id, lt);
    bind_text(s, 3, f->client_order_id, lc);
    bind_text(s, 4, f->venue_order_id, lv);
    bind_text(s, 5, r.strategy, -1);
    bind_text(s, 6, cq_side_name(f->side), -1);
    bind_text(s, 7, liq_name(f->liquidity), -1);
    bind_text(s, 8, price, lp);
    bind_text(s, 9, qty, lq);
    bind_text(s, 10, fee, le);
    bind_text(s, 11, f->fee_asset, la);
    sqlite3_bind_int64(s, 12, f->hdr.flags);
    sqlite3_bind_int64(s, 13, f->hdr.ts_event);
    sqlite3_bind_int64(s, 14, f->hdr.ts_init);
    if ((rc = run(j, s)) != SQLITE_OK) {
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
            return fail(j, CQ_EEXIST, "trade %s of %s is already recorded", f->trade_id, r.instrument);
        return write_failed(j, rc, "cannot record the fill");
    }
    if ((rc = rec_end(j, 0)) != SQLITE_OK)
        return write_failed(j, rc, "cannot commit the fill");
    return 0;
}

int cq_journal_update_order(cq_journal_t *j, const cq_order_t *o)
{
    if (!j || !o)
        return CQ_EINVAL;
    int rc, lens[3] = {0, 0, 0};
    refs_t r;
    if ((rc = usable(j)) < 0 || (rc = check_order(j, o, &r, lens)) < 0)
        return rc;
    char price[NUM_BUF], trigger[NUM_BUF], qty[NUM_BUF], filled[NUM_BUF], avg[NUM_BUF], fees[NUM_BUF];
    int lp = fmt_decimal(price, o->price, r.price_prec);
    int lt = fmt_decimal(trigger, o->trigger_price, r.price_prec);
    int lq = fmt_decimal(qty, o->qty, r.size_prec);
    int lf = fmt_decimal(filled, o->filled_qty, r.size_prec);
    int la = fmt_decimal(avg, o->avg_fill_price, r.price_prec);
    int le = fmt_decimal(fees, o->fees, -1);
    if ((rc = rec_begin(j, 0, 0)) != SQLITE_OK)
        return write_failed(j, rc, "cannot begin");
    sqlite3_stmt *s = j->st[ST_UPDATE_ORDER];
    bind_text(s, 1, o->client_order_id, lens[0]);
    bind_text(s, 2, o->venue_order_id, lens[1]);
    bind_text(s, 3, price, lp);
    bind_text(s, 4, trigger, lt);
    bind_text(s, 5, qty, lq);
    bind_text(s, 6, filled, lf);
    bind_text(s, 7, avg, la);
    bind_text(s, 8, fees, le);
    bind_text(s, 9, o->tag, lens[2]);
    sqlite3_bind_int64(s, 10, o->hdr.ts_event);
    if ((rc = run(j, s)) != SQLITE_OK)
        return write_failed(j, rc, "cannot update the order");
    if (sqlite3_changes(j->db) == 0)
        return fail(j, CQ_ENOENT, "order %s is not recorded", o->client_order_id);
    if ((rc = rec_end(j, 0)) != SQLITE_OK)
        return write_failed(j, rc, "cannot commit the update");
    return 0;
}

int cq_journal_begin(cq_journal_t *j)
{
    if (!j)
        return CQ_EINVAL;
    int rc = usable(j);
    if (rc < 0)
        return rc;
    if (j->in_group)
        return fail(j, CQ_ESTATE, "a group is already open");
    if (!j->batch) {
        if ((rc = run(j, j->st[ST_BEGIN])) != SQLITE_OK)
            return db_fail(j, rc, "cannot begin a group");
    } else { /* a savepoint inside the batch's transaction */
        if ((rc = rec_begin(j, 1, 0)) != SQLITE_OK || (rc = run(j, j->st[ST_SAVEPOINT])) != SQLITE_OK)
            return write_failed(j, rc, "cannot begin a group");
        j->group_pending = j->pending;
        j->group_force = 0;
    }
    j->in_group = 1;
    return 0;
}

int cq_journal_commit(cq_journal_t *j)
{
    if (!j)
        return CQ_EINVAL;
    int rc = usable(j);
    if (rc < 0)
        return rc;
    if (!j->in_group)
        return fail(j, CQ_ESTATE, "no group is open (or it was rolled back after an error)");
    /* A failed COMMIT may leave the transaction open: the group is then
     * rolled back (write_failed), never left half-alive. */
    if (!j->batch) {
        if ((rc = run(j, j->st[ST_COMMIT])) != SQLITE_OK)
            return write_failed(j, rc, "cannot commit the group");
        j->in_group = 0;
        j->pending = 0;
        return 0;
    }
    if ((rc = run(j, j->st[ST_RELEASE])) != SQLITE_OK)
        return write_failed(j, rc, "cannot end the group");
    j->in_group = 0;
    if (j->group_force || j->pending >= j->batch) {
        if ((rc = run(j, j->st[ST_COMMIT])) != SQLITE_OK)
            return write_failed(j, rc, "cannot commit the batch");
        j->pending = 0;
    }
    return 0;
}

int cq_journal_rollback(cq_journal_t *j)
{
    if (!j)
        return CQ_EINVAL;
    int rc = usable(j);
    if (rc < 0)
        return rc;
    if (!j->in_group)
        return fail(j, CQ_ESTATE, "no group is open");
    j->in_group = 0;
    if (!j->batch) {
        j->pending = 0;
        if (!sqlite3_get_autocommit(j->db) && (rc = run(j, j->st[ST_ROLLBACK])) != SQLITE_OK)
            return db_fail(j, rc, "cannot roll back");
        return 0;
    }
    /* Back to the savepoint: the batch before the group stays. */
    j->pending = j->group_pending;
    if (!sqlite3_get_autocommit(j->db) &&
        ((rc = run(j, j->st[ST_ROLLBACK_TO])) != SQLITE_OK || (rc = run(j, j->st[ST_RELEASE])) != SQLITE_OK))
        return write_failed(j, rc, "cannot roll back the group");
    return 0;
}

int cq_journal_flush(cq_journal_t *j)
{
    if (!j)
        return CQ_EINVAL;
    int rc = usable(j);
    if (rc < 0)
        return rc;
    if (j->in_group)
        return fail(j, CQ_ESTATE, "cannot flush inside a group");
    if (!sqlite3_get_autocommit(j->db) && (rc = run(j, j->st[ST_COMMIT])) != SQLITE_OK)
        return write_failed(j, rc, "cannot commit the batch");
    j->pending = 0;
    return 0;
}

int cq_journal_checkpoint(cq_journal_t *j)
{
    if (!j)
        return CQ_EINVAL;
    int rc = usable(j);
    if (rc < 0)
        return rc;
    if (j->in_group)
        return fail(j, CQ_ESTATE, "cannot checkpoint inside a group");
    if ((rc = cq_journal_flush(j)) < 0)
        return rc;
    rc = sqlite3_wal_checkpoint_v2(j->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_fail(j, rc, "checkpoint failed");
}

/* ---- the ExecutionEngine's interface ------------------------------------------------------ */

static int ei_submit(void *user, const cq_order_t *o)
{
    return cq_journal_record_submit(user, o);
}

/* A change that may have moved a field record_event does not store: fills
 * (fees), a modify answered (price, qty), an in-place resize by a venue
 * status, or a late fill on a closed order (status unchanged). Plain acks
 * and closes skip the second write. */
static int moves_fields(const cq_order_t *o, int32_t prev)
{
    return prev == o->status || prev == CQ_OS_PENDING_UPDATE || o->status == CQ_OS_PARTIALLY_FILLED ||
           o->status == CQ_OS_FILLED;
}

static int ei_event(void *user, const cq_order_t *o, int32_t prev)
{
    cq_journal_t *j = user;
    cq_order_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.hdr = o->hdr;
    ev.hdr.type = CQ_EV_ORDER_EVENT;
    memcpy(ev.client_order_id, o->client_order_id, sizeof ev.client_order_id);
    memcpy(ev.venue_order_id, o->venue_order_id, sizeof ev.venue_order_id);
    ev.status = o->status;
    ev.prev_status = prev;
    ev.filled_qty = o->filled_qty;
    ev.avg_fill_price = o->avg_fill_price;
    if (!moves_fields(o, prev))
        return cq_journal_record_event(j, &ev);
    /* One transaction for both, unless the caller has a group open. */
    int own = !j->in_group;
    int rc;
    if (own && (rc = cq_journal_begin(j)) < 0)
        return rc;
    rc = cq_journal_record_event(j, &ev);
    if (rc == 0)
        rc = cq_journal_update_order(j, o);
    if (!own)
        return rc;
    if (rc < 0) {
        if (j->in_group)
            cq_journal_rollback(j);
        return rc;
    }
    return cq_journal_commit(j);
}

static int ei_fill(void *user, const cq_fill_t *f)
{
    return cq_journal_record_fill(user, f);
}

static int ei_next_id(void *user, char out[40])
{
    return cq_journal_next_client_id(user, out);
}

static int ei_begin(void *user)
{
    return cq_journal_begin(user);
}

static int ei_commit(void *user)
{
    return cq_journal_commit(user);
}

int cq_journal_exec_iface(cq_journal_t *j, cq_exec_journal_t *out)
{
    if (!out)
        return CQ_EINVAL;
    memset(out, 0, sizeof *out);
    if (!j)
        return CQ_EINVAL;
    out->user = j;
    out->record_submit = ei_submit;
    out->record_event = ei_event;
    out->record_fill = ei_fill;
    out->next_client_id = ei_next_id;
    out->begin = ei_begin;
    out->commit = ei_commit;
    return 0;
}

/* ---- reading back ----------------------------------------------------------------------- */

static int copy_col(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    int n = sqlite3_column_bytes(s, col);
    if (!t || n < 0 || (size_t)n >= cap || memchr(t, '\0', (size_t)n))
        return CQ_ECORRUPT;
    memcpy(dst, t, (size_t)n);
    dst[n] = '\0';
    return 0;
}

/* The enum value whose name is the column's text; CQ_ECORRUPT if none. */
static int col_enum(sqlite3_stmt *s, int col, const char *(*name)(int32_t), int32_t lo, int32_t hi,
                    int32_t *out)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    if (!t)
        return CQ_ECORRUPT;
    for (int32_t v = lo; v <= hi; v++)
        if (strcmp(name(v), t) == 0) {
            *out = v;
            return 0;
        }
    return CQ_ECORRUPT;
}

/* Turn a row of ORDER_COLS into a record, interning its names in the cache. */
static int read_order(cq_journal_t *j, sqlite3_stmt *s, cq_journal_order_t *rec)
{
    cq_order_t *o = &rec->order;
    memset(rec, 0, sizeof *rec);
    o->hdr.type = CQ_EV_ORDER;
    int rc = 0;
    double *nums[6] = {&o->price, &o->trigger_price, &o->qty, &o->filled_qty, &o->avg_fill_price, &o->fees};
    if (copy_col(o->client_order_id, sizeof o->client_order_id, s, 0) < 0 ||
        copy_col(o->venue_order_id, sizeof o->venue_order_id, s, 1) < 0 ||
        copy_col(rec->instrument, sizeof rec->instrument, s, 2) < 0 || !rec->instrument[0] ||
        copy_col(rec->strategy, sizeof rec->strategy, s, 3) < 0 ||
        col_enum(s, 4, cq_side_name, CQ_SIDE_BUY, CQ_SIDE_SELL, &o->side) < 0 ||
        col_enum(s, 5, cq_order_type_name, CQ_ORDER_MARKET, CQ_ORDER_STOP_LIMIT, &o->type) < 0 ||
        col_enum(s, 6, cq_tif_name, CQ_TIF_GTC, CQ_TIF_FOK, &o->tif) < 0 ||
        copy_col(o->tag, sizeof o->tag, s, 9) < 0 ||
        col_enum(s, 16, cq_order_status_name, CQ_OS_INITIALIZED, CQ_OS_COUNT_ - 1, &o->status) < 0)
        rc = CQ_ECORRUPT;
    for (int i = 0; i < 6 && rc == 0; i++)
        rc = parse_decimal(sqlite3_column_text(s, 10 + i), nums[i]);
    if (rc < 0)
        return fail(j, CQ_ECORRUPT, "journal %s: unreadable order row", j->path);
    o->opts = (uint32_t)sqlite3_column_int64(s, 7);
    o->hdr.flags = (uint32_t)sqlite3_column_int64(s, 8);
    int64_t seq = sqlite3_column_int64(s, 17);
    rec->events = seq < 0 || seq > UINT32_MAX ? 0 : (uint32_t)seq;
    o->hdr.ts_init = sqlite3_column_int64(s, 18);
    o->hdr.ts_event = sqlite3_column_int64(s, 19);
    if ((rc = cq_cache_instrument_intern(j->cache, rec->instrument, &o->hdr.instrument)) < 0 ||
        (rec->strategy[0] && (rc = cq_cache_strategy_intern(j->cache, rec->strategy, &o->hdr.strategy)) < 0))
        return fail(j, rc, "journal %s: cannot intern the names of order %s", j->path, o->client_order_id);
    return 0;
}

int cq_journal_load_open(cq_journal_t *j, cq_journal_order_fn fn, void *user)
{
    if (!j || !fn)
        return CQ_EINVAL;
    int rc = usable(j);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = j->st[ST_LOAD_OPEN];
    cq_journal_order_t rec;
    j->loading = 1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int r = read_order(j, s, &rec);
        if (r == 0 && (r = fn(user, &rec)) != 0 && r < 0 && !j->errmsg[0])
            fail(j, r, "load callback returned %s", cq_errname(r));
        if (r != 0) {
            sqlite3_reset(s);
            j->loading = 0;
            return r;
        }
    }
    j->loading = 0;
    int rc2 = sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return db_fail(j, rc2 != SQLITE_OK ? rc2 : rc, "cannot load open orders");
    return 0;
}

typedef struct restore_ctx {
    cq_cache_t *cache;
    long added;
} restore_ctx_t;

static int restore_one(void *user, const cq_journal_order_t *rec)
{
    restore_ctx_t *c = user;
    if (cq_cache_order(c->cache, rec->order.client_order_id))
        return 0;
    int rc = cq_cache_order_add(c->cache, &rec->order, NULL);
    if (rc == 0)
        c->added++;
    return rc;
}

int cq_journal_restore_open(cq_journal_t *j, long *added)
{
    if (!j)
        return CQ_EINVAL;
    restore_ctx_t c = {j->cache, 0};
    int rc = cq_journal_load_open(j, restore_one, &c);
    if (added)
        *added = c.added;
    return rc;
}

int cq_journal_find_order(cq_journal_t *j, const char *client_order_id, cq_journal_order_t *out)
{
    if (!j || !client_order_id || !out)
        return CQ_EINVAL;
    j->errmsg[0] = '\0';
    int rc, len;
    if ((rc = check_client_id(j, client_order_id, CQ_ORDER_ID_MAX + 1, 0, &len)) < 0)
        return rc;
    sqlite3_stmt *s = j->st[ST_FIND_ORDER];
    bind_text(s, 1, client_order_id, len);
    rc = sqlite3_step(s);
    int r = rc == SQLITE_ROW ? read_order(j, s, out) : 0;
    int rc2 = sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc == SQLITE_DONE)
        return fail(j, CQ_ENOENT, "order %s is not recorded", client_order_id);
    if (rc != SQLITE_ROW)
        return db_fail(j, rc2 != SQLITE_OK ? rc2 : rc, "cannot read the order");
    return r;
}

int cq_journal_find_fill(cq_journal_t *j, uint32_t instrument, const char *trade_id, cq_fill_t *out)
{
    if (!j || !trade_id || !*trade_id)
        return CQ_EINVAL;
    j->errmsg[0] = '\0';
    int rc, lt;
    if ((rc = check_venue_id(j, trade_id, sizeof out->trade_id, "trade id", &lt)) < 0)
        return rc;
    refs_t r;
    if ((rc = resolve(j, instrument, 0, &r)) < 0)
        return rc;
    sqlite3_stmt *s = j->st[ST_FIND_FILL];
    bind_text(s, 1, r.instrument, -1);
    bind_text(s, 2, trade_id, lt);
    rc = sqlite3_step(s);
    int bad = 0;
    if (rc == SQLITE_ROW && out) {
        char strategy[64];
        memset(out, 0, sizeof *out);
        out->hdr.type = CQ_EV_FILL;
        out->hdr.instrument = instrument;
        bad = copy_col(out->trade_id, sizeof out->trade_id, s, 1) < 0 ||
              copy_col(out->client_order_id, sizeof out->client_order_id, s, 2) < 0 ||
              copy_col(out->venue_order_id, sizeof out->venue_order_id, s, 3) < 0 ||
              copy_col(strategy, sizeof strategy, s, 4) < 0 ||
              col_enum(s, 5, cq_side_name, CQ_SIDE_BUY, CQ_SIDE_SELL, &out->side) < 0 ||
              col_enum(s, 6, liq_name, CQ_LIQ_NONE, CQ_LIQ_TAKER, &out->liquidity) < 0 ||
              parse_decimal(sqlite3_column_text(s, 7), &out->price) < 0 ||
              parse_decimal(sqlite3_column_text(s, 8), &out->qty) < 0 ||
              parse_decimal(sqlite3_column_text(s, 9), &out->fee) < 0 ||
              copy_col(out->fee_asset, sizeof out->fee_asset, s, 10) < 0;
        out->hdr.flags = (uint32_t)sqlite3_column_int64(s, 11);
        out->hdr.ts_event = sqlite3_column_int64(s, 12);
        out->hdr.ts_init = sqlite3_column_int64(s, 13);
        if (!bad && strategy[0] && cq_cache_strategy_intern(j->cache, strategy, &out->hdr.strategy) < 0)
            bad = 1;
    }
    int rc2 = sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc == SQLITE_DONE)
        return fail(j, CQ_ENOENT, "trade %s of %s is not recorded", trade_id, r.instrument);
    if (rc != SQLITE_ROW)
        return db_fail(j, rc2 != SQLITE_OK ? rc2 : rc, "cannot read the fill");
    return bad ? fail(j, CQ_ECORRUPT, "journal %s: unreadable fill row", j->path) : 0;
}
