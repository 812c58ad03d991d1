/*
 * test_journal.c - the SQLite order journal: opening (schema, versions,
 * damaged and foreign files, bad locations), client ids across restarts,
 * recording and reading back orders, events and fills, groups, batched mode,
 * loading open orders after a restart, a full disk, and a crash test with
 * real processes killed by SIGKILL in the middle of a burst of orders.
 *
 * Every test works on real files in a fresh directory under $TMPDIR (else
 * /tmp), removed when the test ends. The crash test re-executes this binary
 * with "--journal-child" as the process that gets killed.
 */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cquant/cache.h"
#include "cquant/error.h"
#include "cquant/journal.h"
#include "support/cq_test.h"

/* Check's ck_assert_* costs a system call per passing assertion: long loops
 * use this, which calls into Check only on failure. */
#define REQUIRE(cond, ...)                 \
    do {                                   \
        if (!(cond))                       \
            ck_abort_msg(__VA_ARGS__);     \
    } while (0)

/* ---- fixture: a temporary directory, a cache, a captured log ------------- */

static char g_base[3072]; /* per run, made and removed by main() */
static char g_dir[4096];  /* per test, inside g_base */
static char g_path[4200];
static cq_cache_t *g_cache;
static uint32_t g_inst;   /* BTCUSDT.BINANCE: price precision 2, size precision 5 */
static uint32_t g_strat;  /* "grid" */
static char g_last_log[512];
static cq_log_t g_log;

static void capture_sink(void *user, int level, const char *module, const char *msg)
{
    (void)user;
    (void)module;
    if (level >= CQ_LOG_WARN)
        snprintf(g_last_log, sizeof g_last_log, "%s", msg);
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[8192];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            chmod(p, 0700);
            remove_tree(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

static void add_instrument(cq_cache_t *c, const char *id, int pp, int sp, uint32_t *h)
{
    cq_instrument_t spec;
    memset(&spec, 0, sizeof spec);
    snprintf(spec.id, sizeof spec.id, "%s", id);
    spec.price_precision = pp;
    spec.size_precision = sp;
    spec.tradable = 1;
    ck_assert_int_eq(cq_cache_instrument_add(c, &spec, h), 0);
}

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "%s/t-XXXXXX", g_base);
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    snprintf(g_path, sizeof g_path, "%s/cquant.db", g_dir);
    ck_assert_int_eq(cq_cache_create(&g_cache, NULL), 0);
    add_instrument(g_cache, "BTCUSDT.BINANCE", 2, 5, &g_inst);
    ck_assert_int_eq(cq_cache_strategy_intern(g_cache, "grid", &g_strat), 0);
    g_last_log[0] = '\0';
    cq_log_init(&g_log, CQ_LOG_WARN);
    g_log.sink = capture_sink;
}

static void teardown(void)
{
    cq_cache_destroy(g_cache);
    g_cache = NULL;
    remove_tree(g_dir);
}

static cq_journal_config_t config(cq_cache_t *cache)
{
    cq_journal_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.cache = cache;
    cfg.log = &g_log;
    return cfg;
}

static cq_journal_t *open_at(const char *path, cq_cache_t *cache)
{
    cq_journal_t *j = NULL;
    cq_journal_config_t cfg = config(cache);
    int rc = cq_journal_open(&j, path, &cfg);
    ck_assert_msg(rc == 0, "open %s: %s (%s)", path, cq_errname(rc), g_last_log);
    ck_assert_ptr_nonnull(j);
    return j;
}

static cq_journal_t *open_journal(void)
{
    return open_at(g_path, g_cache);
}

static int try_open(const char *path, cq_journal_config_t *cfg, cq_journal_t **out)
{
    *out = NULL;
    return cq_journal_open(out, path, cfg);
}

static cq_order_t mk_order(const char *cid)
{
    cq_order_t o;
    memset(&o, 0, sizeof o);
    o.hdr.type = CQ_EV_ORDER;
    o.hdr.instrument = g_inst;
    o.hdr.strategy = g_strat;
    o.hdr.ts_init = 1700000000000000001LL;
    o.hdr.ts_event = 1700000000000000002LL;
    snprintf(o.client_order_id, sizeof o.client_order_id, "%s", cid);
    snprintf(o.tag, sizeof o.tag, "level-3");
    o.side = CQ_SIDE_BUY;
    o.type = CQ_ORDER_LIMIT;
    o.tif = CQ_TIF_GTC;
    o.status = CQ_OS_SUBMITTED;
    o.price = 65000.1;
    o.qty = 0.001;
    return o;
}

static void submit(cq_journal_t *j, const char *cid, int32_t status)
{
    cq_order_t o = mk_order(cid);
    o.status = status;
    int rc = cq_journal_record_submit(j, &o);
    ck_assert_msg(rc == 0, "submit %s: %s (%s)", cid, cq_errname(rc), cq_journal_errmsg(j));
}

static cq_order_event_t mk_event(const char *cid, int32_t status, double filled)
{
    cq_order_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.hdr.type = CQ_EV_ORDER_EVENT;
    ev.hdr.instrument = g_inst;
    ev.hdr.ts_event = 1700000000000001000LL;
    ev.hdr.ts_init = 1700000000000001500LL;
    snprintf(ev.client_order_id, sizeof ev.client_order_id, "%s", cid);
    ev.status = status;
    ev.filled_qty = filled;
    return ev;
}

static void event(cq_journal_t *j, const char *cid, int32_t status, double filled)
{
    cq_order_event_t ev = mk_event(cid, status, filled);
    int rc = cq_journal_record_event(j, &ev);
    ck_assert_msg(rc == 0, "event %s: %s (%s)", cid, cq_errname(rc), cq_journal_errmsg(j));
}

static cq_fill_t mk_fill(const char *cid, const char *trade_id)
{
    cq_fill_t f;
    memset(&f, 0, sizeof f);
    f.hdr.type = CQ_EV_FILL;
    f.hdr.instrument = g_inst;
    f.hdr.strategy = g_strat;
    f.hdr.ts_event = 1700000000000002000LL;
    f.hdr.ts_init = 1700000000000002100LL;
    snprintf(f.client_order_id, sizeof f.client_order_id, "%s", cid);
    snprintf(f.venue_order_id, sizeof f.venue_order_id, "8812345");
    snprintf(f.trade_id, sizeof f.trade_id, "%s", trade_id);
    snprintf(f.fee_asset, sizeof f.fee_asset, "USDT");
    f.side = CQ_SIDE_BUY;
    f.liquidity = CQ_LIQ_TAKER;
    f.price = 65000.1;
    f.qty = 0.0004;
    f.fee = 0.02600004;
    return f;
}

/* ---- raw SQLite access: the tests read the file independently ------------ */

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    ck_assert_msg(rc == SQLITE_OK, "raw open %s: %s", path, sqlite3_errstr(rc));
    return db;
}

static long long raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    rc = sqlite3_step(s);
    ck_assert_msg(rc == SQLITE_ROW, "%s: no row (%s)", sql, sqlite3_errmsg(db));
    long long v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void raw_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *s = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(s, 0);
    snprintf(out, cap, "%s", t ? (const char *)t : "(null)");
    sqlite3_finalize(s);
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : "?");
    sqlite3_close(db);
}

static long long count_rows(const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3 *db = raw_open(g_path);
    long long n = raw_int(db, sql);
    sqlite3_close(db);
    return n;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

/* ---- opening ------------------------------------------------------------------ */

START_TEST(test_journal_open_bad_arguments_are_einval)
{
    cq_journal_t *j = (cq_journal_t *)&j;
    cq_journal_config_t cfg = config(g_cache);
    ck_assert_int_eq(cq_journal_open(NULL, g_path, &cfg), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_open(&j, NULL, &cfg), CQ_EINVAL);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(try_open("", &cfg, &j), CQ_EINVAL);
    ck_assert_int_eq(try_open(g_path, NULL, &j), CQ_EINVAL);
    cfg.cache = NULL;
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_EINVAL);
    cfg = config(g_cache);
    cfg.sync = 7;
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_EINVAL);
    cfg = config(g_cache);
    cfg.busy_timeout_ms = -5;
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_EINVAL);
    cfg = config(g_cache);
    cfg.checkpoint_pages = -2;
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_EINVAL);
    cfg = config(g_cache);
    cfg.shared = 2;
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_EINVAL);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(access(g_path, F_OK), -1); /* nothing was created */
}
END_TEST

START_TEST(test_journal_open_path_too_long_is_etoolong)
{
    char *path = malloc(5000);
    ck_assert_ptr_nonnull(path);
    memset(path, 'a', 4999);
    path[4999] = '\0';
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    ck_assert_int_eq(try_open(path, &cfg, &j), CQ_ETOOLONG);
    ck_assert_ptr_null(j);
    free(path);
}
END_TEST

START_TEST(test_journal_open_missing_directory_is_enoent_naming_it)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/no-such-dir/cquant.db", g_dir);
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    ck_assert_int_eq(try_open(path, &cfg, &j), CQ_ENOENT);
    ck_assert_ptr_null(j);
    ck_assert_msg(strstr(g_last_log, "no-such-dir") && strstr(g_last_log, "does not exist"),
                  "message: %s", g_last_log);
}
END_TEST

START_TEST(test_journal_open_parent_that_is_a_file_is_enoent)
{
    char file[4400], path[4500];
    snprintf(file, sizeof file, "%s/plain", g_dir);
    write_file(file, "x", 1);
    snprintf(path, sizeof path, "%s/cquant.db", file);
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    ck_assert_int_eq(try_open(path, &cfg, &j), CQ_ENOENT);
}
END_TEST

START_TEST(test_journal_open_directory_as_path_is_einval)
{
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    ck_assert_int_eq(try_open(g_dir, &cfg, &j), CQ_EINVAL);
    ck_assert_msg(strstr(g_last_log, "not a regular file"), "message: %s", g_last_log);
}
END_TEST

START_TEST(test_journal_open_unwritable_location_is_edenied)
{
    char path[4400];
    if (geteuid() != 0) {
        char ro[4300];
        snprintf(ro, sizeof ro, "%s/ro", g_dir);
        ck_assert_int_eq(mkdir(ro, 0555), 0);
        snprintf(path, sizeof path, "%s/cquant.db", ro);
    } else {
        /* root ignores permission bits; sysfs refuses new files even to root */
        struct stat st;
        if (stat("/sys", &st) != 0) {
            cq_test_skip("test_journal_open_unwritable_location_is_edenied",
                         "running as root and no /sys to stand in for a read-only place");
            return;
        }
        snprintf(path, sizeof path, "/sys/cquant-journal-test.db");
    }
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    int rc = try_open(path, &cfg, &j);
    ck_assert_msg(rc == CQ_EDENIED, "got %s: %s", cq_errname(rc), g_last_log);
    ck_assert_ptr_null(j);
}
END_TEST

START_TEST(test_journal_open_read_only_file_is_edenied)
{
    if (geteuid() == 0) {
        cq_test_skip("test_journal_open_read_only_file_is_edenied", "root ignores file modes");
        return;
    }
    cq_journal_close(open_journal());
    ck_assert_int_eq(chmod(g_path, 0444), 0);
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_EDENIED);
}
END_TEST

START_TEST(test_journal_open_creates_versioned_schema_in_wal_mode)
{
    cq_journal_t *j = open_journal();
    char wal[4300];
    snprintf(wal, sizeof wal, "%s-wal", g_path);
    ck_assert_int_eq(access(wal, F_OK), 0); /* a WAL file exists while open */
    cq_journal_close(j);
    sqlite3 *db = raw_open(g_path);
    char mode[32];
    raw_text(db, "PRAGMA journal_mode", mode, sizeof mode);
    ck_assert_str_eq(mode, "wal");
    ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), CQ_JOURNAL_SCHEMA_VERSION);
    ck_assert_int_eq(raw_int(db, "PRAGMA application_id"), 0x43514a4c);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                 "name IN ('meta', 'orders', 'order_events', 'fills')"), 4);
    ck_assert_int_eq(raw_int(db, "SELECT value FROM meta WHERE key = 'session'"), 1);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_journal_open_newer_schema_is_eversion_and_file_unchanged)
{
    cq_journal_close(open_journal());
    raw_exec(g_path, "PRAGMA user_version = 99");
    size_t n1, n2;
    char *before = read_file(g_path, &n1);
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_EVERSION);
    ck_assert_ptr_null(j);
    ck_assert_msg(strstr(g_last_log, "99") && strstr(g_last_log, "newer"), "message: %s", g_last_log);
    char *after = read_file(g_path, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(before, after, n1), 0);
    free(before);
    free(after);
}
END_TEST

START_TEST(test_journal_open_text_file_is_ecorrupt)
{
    char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)('a' + i % 26);
    write_file(g_path, junk, sizeof junk);
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_ECORRUPT);
    ck_assert_ptr_null(j);
    ck_assert_msg(strstr(g_last_log, "not a SQLite database"), "message: %s", g_last_log);
}
END_TEST

START_TEST(test_journal_open_other_applications_database_is_ecorrupt)
{
    raw_exec(g_path, "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)");
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_ECORRUPT);
    ck_assert_msg(strstr(g_last_log, "not a cquant journal"), "message: %s", g_last_log);
    sqlite3 *db = raw_open(g_path);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM sqlite_schema"), 1); /* untouched */
    sqlite3_close(db);
}
END_TEST

/* Fill a journal, then overwrite every page after the first with garbage. */
static void damage_pages(void)
{
    cq_journal_t *j = open_journal();
    char id[40];
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "o%d", i);
        submit(j, id, CQ_OS_ACCEPTED);
    }
    cq_journal_close(j);
    size_t n;
    char *data = read_file(g_path, &n);
    ck_assert_uint_gt(n, 8192);
    for (size_t i = 4096; i < n; i++)
        data[i] = (char)(0x5a ^ (i * 31));
    write_file(g_path, data, n);
    free(data);
}

START_TEST(test_journal_open_damaged_file_is_ecorrupt)
{
    damage_pages();
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_ECORRUPT);
    ck_assert_ptr_null(j);
    ck_assert_msg(strstr(g_last_log, g_path), "message names the file: %s", g_last_log);
}
END_TEST

static int count_cb(void *user, const cq_journal_order_t *rec)
{
    (void)rec;
    ++*(long *)user;
    return 0;
}

START_TEST(test_journal_damaged_file_without_verify_fails_cleanly)
{
    damage_pages();
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    cfg.skip_verify = 1;
    int rc = try_open(g_path, &cfg, &j);
    if (rc == 0) { /* the damage is found when the pages are read */
        long n = 0;
        rc = cq_journal_load_open(j, count_cb, &n);
        cq_journal_close(j);
    }
    ck_assert_int_eq(rc, CQ_ECORRUPT);
}
END_TEST

START_TEST(test_journal_open_truncated_file_is_ecorrupt)
{
    cq_journal_t *j = open_journal();
    char id[40];
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof id, "o%d", i);
        submit(j, id, CQ_OS_ACCEPTED);
    }
    cq_journal_close(j);
    size_t n;
    char *data = read_file(g_path, &n);
    write_file(g_path, data, n / 2 / 4096 * 4096 + 100);
    free(data);
    cq_journal_config_t cfg = config(g_cache);
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_ECORRUPT);
}
END_TEST

START_TEST(test_journal_second_open_of_an_open_journal_is_ebusy)
{
    cq_journal_t *j = open_journal(), *j2;
    cq_journal_config_t cfg = config(g_cache);
    cfg.busy_timeout_ms = 1;
    ck_assert_int_eq(try_open(g_path, &cfg, &j2), CQ_EBUSY);
    ck_assert_ptr_null(j2);
    submit(j, "still-works", CQ_OS_SUBMITTED);
    cq_journal_close(j);
}
END_TEST

START_TEST(test_journal_shared_mode_lets_another_connection_read)
{
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    cfg.shared = 1;
    ck_assert_int_eq(try_open(g_path, &cfg, &j), 0);
    submit(j, "seen-live", CQ_OS_SUBMITTED);
    sqlite3 *db = raw_open(g_path);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM orders WHERE client_order_id = 'seen-live'"), 1);
    sqlite3_close(db);
    cq_journal_close(j);
}
END_TEST

START_TEST(test_journal_full_sync_records_like_normal)
{
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    cfg.sync = CQ_JOURNAL_SYNC_FULL;
    ck_assert_int_eq(try_open(g_path, &cfg, &j), 0);
    submit(j, "full-1", CQ_OS_SUBMITTED);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("orders"), 1);
}
END_TEST

START_TEST(test_journal_close_null_is_noop_and_errmsg_never_null)
{
    cq_journal_close(NULL);
    ck_assert_ptr_nonnull(cq_journal_errmsg(NULL));
    ck_assert_uint_eq(cq_journal_session(NULL), 0);
}
END_TEST

/* ---- client ids ------------------------------------------------------------------ */

static int id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n < 4 || n > CQ_JOURNAL_ID_MAX || strncmp(id, "cq", 2) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') || id[i] == '-'))
            return 0;
    return 1;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

START_TEST(test_journal_client_ids_unique_across_restarts)
{
    enum { OPENS = 40, PER_OPEN = 300 };
    char(*ids)[40] = calloc(OPENS * PER_OPEN, 40);
    ck_assert_ptr_nonnull(ids);
    size_t n = 0;
    for (int r = 0; r < OPENS; r++) {
        cq_journal_t *j = open_journal();
        ck_assert_uint_eq(cq_journal_session(j), (uint64_t)r + 1);
        for (int i = 0; i < PER_OPEN; i++, n++) {
            REQUIRE(cq_journal_next_client_id(j, ids[n]) == 0, "next id");
            REQUIRE(id_valid(ids[n]), "bad id '%s'", ids[n]);
        }
        cq_journal_close(j);
    }
    qsort(ids, n, 40, cmp_id);
    for (size_t i = 1; i < n; i++)
        REQUIRE(strcmp(ids[i - 1], ids[i]) != 0, "id %s handed out twice", ids[i]);
    free(ids);
}
END_TEST

START_TEST(test_journal_client_id_bad_arguments_are_einval)
{
    cq_journal_t *j = open_journal();
    char out[40];
    ck_assert_int_eq(cq_journal_next_client_id(NULL, out), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_next_client_id(j, NULL), CQ_EINVAL);
    cq_journal_close(j);
}
END_TEST

START_TEST(test_journal_client_id_of_largest_session_fits_24_chars)
{
    cq_journal_close(open_journal());
    /* 36^8 - 2: the next open gets 36^8 - 1, the last session that fits */
    raw_exec(g_path, "UPDATE meta SET value = 2821109907454 WHERE key = 'session'");
    cq_journal_t *j = open_journal();
    char out[40];
    ck_assert_int_eq(cq_journal_next_client_id(j, out), 0);
    ck_assert_str_eq(out, "cqzzzzzzzz-1");
    ck_assert(id_valid(out));
    cq_journal_close(j);
    cq_journal_config_t cfg = config(g_cache);
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_ERANGE); /* 36^8 would not fit */
}
END_TEST

START_TEST(test_journal_session_survives_in_file_before_any_order)
{
    cq_journal_t *j = open_journal();
    ck_assert_uint_eq(cq_journal_session(j), 1);
    cq_journal_close(j);
    j = open_journal();
    ck_assert_uint_eq(cq_journal_session(j), 2);
    char id[40];
    ck_assert_int_eq(cq_journal_next_client_id(j, id), 0);
    ck_assert_str_eq(id, "cq2-1");
    ck_assert_int_eq(cq_journal_next_client_id(j, id), 0);
    ck_assert_str_eq(id, "cq2-2");
    cq_journal_close(j);
}
END_TEST

/* ---- recording and reading back ------------------------------------------------------ */

START_TEST(test_journal_submitted_order_reads_back_field_for_field)
{
    cq_journal_t *j = open_journal();
    cq_order_t o = mk_order("cq1-abc");
    o.hdr.flags = CQ_EVF_EXTERNAL;
    snprintf(o.venue_order_id, sizeof o.venue_order_id, "4412");
    o.side = CQ_SIDE_SELL;
    o.type = CQ_ORDER_STOP_LIMIT;
    o.tif = CQ_TIF_IOC;
    o.opts = CQ_ORDER_OPT_REDUCE_ONLY;
    o.trigger_price = 64000.5;
    o.filled_qty = 0.0002;
    o.avg_fill_price = 65000.123;
    o.fees = 0.013;
    ck_assert_int_eq(cq_journal_record_submit(j, &o), 0);
    cq_journal_close(j);

    cq_cache_t *fresh;
    ck_assert_int_eq(cq_cache_create(&fresh, NULL), 0);
    j = open_at(g_path, fresh);
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(j, "cq1-abc", &rec), 0);
    ck_assert_str_eq(rec.instrument, "BTCUSDT.BINANCE");
    ck_assert_str_eq(rec.strategy, "grid");
    ck_assert_str_eq(cq_cache_instrument_name(fresh, rec.order.hdr.instrument), "BTCUSDT.BINANCE");
    ck_assert_str_eq(cq_cache_strategy_name(fresh, rec.order.hdr.strategy), "grid");
    ck_assert_uint_eq(rec.events, 0);
    const cq_order_t *r = &rec.order;
    ck_assert_int_eq(r->hdr.type, CQ_EV_ORDER);
    ck_assert_uint_eq(r->hdr.flags, CQ_EVF_EXTERNAL);
    ck_assert_int_eq(r->hdr.ts_init, o.hdr.ts_init);
    ck_assert_int_eq(r->hdr.ts_event, o.hdr.ts_event);
    ck_assert_str_eq(r->client_order_id, "cq1-abc");
    ck_assert_str_eq(r->venue_order_id, "4412");
    ck_assert_str_eq(r->tag, "level-3");
    ck_assert_int_eq(r->side, CQ_SIDE_SELL);
    ck_assert_int_eq(r->type, CQ_ORDER_STOP_LIMIT);
    ck_assert_int_eq(r->tif, CQ_TIF_IOC);
    ck_assert_int_eq(r->status, CQ_OS_SUBMITTED);
    ck_assert_uint_eq(r->opts, CQ_ORDER_OPT_REDUCE_ONLY);
    /* exact: the same doubles, bit for bit */
    ck_assert(r->price == o.price && r->trigger_price == o.trigger_price && r->qty == o.qty);
    ck_assert(r->filled_qty == o.filled_qty && r->avg_fill_price == o.avg_fill_price && r->fees == o.fees);
    ck_assert_int_eq(cq_journal_find_order(j, "cq1-none", &rec), CQ_ENOENT);
    cq_journal_close(j);
    cq_cache_destroy(fresh);
}
END_TEST

START_TEST(test_journal_prices_stored_as_decimal_text_at_instrument_precision)
{
    cq_journal_t *j = open_journal();
    cq_order_t o = mk_order("p1");
    o.price = 65000.1; /* precision 2 -> "65000.10" */
    o.qty = 0.001;     /* precision 5 -> "0.00100" */
    o.fees = 0.0325006;
    ck_assert_int_eq(cq_journal_record_submit(j, &o), 0);
    cq_fill_t f = mk_fill("p1", "t1");
    f.price = 0.5;
    f.qty = 3;
    ck_assert_int_eq(cq_journal_record_fill(j, &f), 0);
    cq_journal_close(j);
    sqlite3 *db = raw_open(g_path);
    char t[64];
    raw_text(db, "SELECT price || '|' || qty || '|' || trigger_price || '|' || fees FROM orders", t, sizeof t);
    ck_assert_str_eq(t, "65000.10|0.00100|0.00|0.0325006");
    ck_assert_str_eq((raw_text(db, "SELECT typeof(price) FROM orders", t, sizeof t), t), "text");
    raw_text(db, "SELECT price || '|' || qty || '|' || fee FROM fills", t, sizeof t);
    ck_assert_str_eq(t, "0.50|3.00000|0.02600004");
    sqlite3_close(db);
}
END_TEST

START_TEST(test_journal_value_off_the_precision_round_trips_exactly)
{
    cq_journal_t *j = open_journal();
    cq_order_t o = mk_order("p2");
    o.price = 0.1 + 0.2;         /* 0.30000000000000004: not on a 2-decimal tick */
    o.avg_fill_price = 1.0 / 3.0;
    o.qty = 1e-9;                /* finer than the 5-decimal step */
    ck_assert_int_eq(cq_journal_record_submit(j, &o), 0);
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(j, "p2", &rec), 0);
    ck_assert(rec.order.price == o.price);
    ck_assert(rec.order.avg_fill_price == o.avg_fill_price);
    ck_assert(rec.order.qty == o.qty);
    cq_journal_close(j);
    sqlite3 *db = raw_open(g_path);
    char t[64];
    raw_text(db, "SELECT price FROM orders", t, sizeof t);
    ck_assert_str_eq(t, "0.30000000000000004");
    sqlite3_close(db);
}
END_TEST

START_TEST(test_journal_instrument_without_spec_stores_fewest_decimals)
{
    uint32_t bare;
    ck_assert_int_eq(cq_cache_instrument_intern(g_cache, "ETHUSDT.BINANCE", &bare), 0);
    cq_journal_t *j = open_journal();
    cq_order_t o = mk_order("p3");
    o.hdr.instrument = bare;
    o.price = 3000.5;
    o.qty = 2;
    ck_assert_int_eq(cq_journal_record_submit(j, &o), 0);
    cq_journal_close(j);
    sqlite3 *db = raw_open(g_path);
    char t[64];
    raw_text(db, "SELECT instrument || '|' || price || '|' || qty FROM orders", t, sizeof t);
    ck_assert_str_eq(t, "ETHUSDT.BINANCE|3000.5|2");
    sqlite3_close(db);
}
END_TEST

START_TEST(test_journal_random_values_round_trip_bit_exact)
{
    cq_journal_t *j = open_journal();
    cq_rng_t rng = {0x9e3779b97f4a7c15ULL};
    enum { N = 300 };
    double prices[N];
    ck_assert_int_eq(cq_journal_begin(j), 0);
    for (int i = 0; i < N; i++) {
        char id[40];
        snprintf(id, sizeof id, "r%d", i);
        cq_order_t o = mk_order(id);
        uint64_t bits = cq_rng_next(&rng);
        switch (i % 3) {
        case 0: o.price = (double)(bits % 10000000) / 100.0; break; /* on tick */
        case 1: o.price = (double)(bits >> 11) * 0x1.0p-53 * 1e5; break; /* arbitrary */
        default: o.price = ldexp((double)(bits >> 11), (int)(bits % 60) - 80); break;
        }
        prices[i] = o.price;
        REQUIRE(cq_journal_record_submit(j, &o) == 0, "submit %d", i);
    }
    ck_assert_int_eq(cq_journal_commit(j), 0);
    for (int i = 0; i < N; i++) {
        char id[40];
        snprintf(id, sizeof id, "r%d", i);
        cq_journal_order_t rec;
        REQUIRE(cq_journal_find_order(j, id, &rec) == 0, "find %d", i);
        REQUIRE(rec.order.price == prices[i], "price %d: %.17g != %.17g", i, rec.order.price, prices[i]);
    }
    cq_journal_close(j);
}
END_TEST

START_TEST(test_journal_duplicate_client_id_is_eexist_and_keeps_the_first)
{
    cq_journal_t *j = open_journal();
    submit(j, "dup", CQ_OS_SUBMITTED);
    cq_order_t o = mk_order("dup");
    o.price = 1.5;
    o.status = CQ_OS_ACCEPTED;
    ck_assert_int_eq(cq_journal_record_submit(j, &o), CQ_EEXIST);
    ck_assert_ptr_nonnull(strstr(cq_journal_errmsg(j), "dup"));
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(j, "dup", &rec), 0);
    ck_assert(rec.order.price == 65000.1);
    ck_assert_int_eq(rec.order.status, CQ_OS_SUBMITTED);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("orders"), 1);
}
END_TEST

START_TEST(test_journal_submit_bad_input_is_rejected_and_writes_nothing)
{
    cq_journal_t *j = open_journal();
    cq_order_t o;
    ck_assert_int_eq(cq_journal_record_submit(NULL, &o), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_record_submit(j, NULL), CQ_EINVAL);
#define EXPECT(code, mutate)                                   \
    do {                                                       \
        o = mk_order("good-id");                               \
        mutate;                                                \
        ck_assert_int_eq(cq_journal_record_submit(j, &o), code); \
    } while (0)
    EXPECT(CQ_EINVAL, o.client_order_id[0] = '\0');
    EXPECT(CQ_ETOOLONG, memset(o.client_order_id, 'a', 37)); /* 37 > 36 */
    EXPECT(CQ_ETOOLONG, memset(o.client_order_id, 'a', sizeof o.client_order_id)); /* no NUL */
    EXPECT(CQ_EINVAL, strcpy(o.client_order_id, "has space"));
    EXPECT(CQ_EINVAL, strcpy(o.client_order_id, "quote'; DROP TABLE orders;--"));
    EXPECT(CQ_EINVAL, strcpy(o.client_order_id, "\xc3\xa9t\xc3\xa9"));
    EXPECT(CQ_ETOOLONG, memset(o.venue_order_id, '7', sizeof o.venue_order_id));
    EXPECT(CQ_EINVAL, strcpy(o.venue_order_id, "a\tb"));
    EXPECT(CQ_ETOOLONG, memset(o.tag, 't', sizeof o.tag));
    EXPECT(CQ_EINVAL, o.side = CQ_SIDE_NONE);
    EXPECT(CQ_EINVAL, o.side = 3);
    EXPECT(CQ_EINVAL, o.type = 0);
    EXPECT(CQ_EINVAL, o.type = 6);
    EXPECT(CQ_EINVAL, o.tif = 0);
    EXPECT(CQ_EINVAL, o.tif = 4);
    EXPECT(CQ_EINVAL, o.status = 0);
    EXPECT(CQ_EINVAL, o.status = CQ_OS_COUNT_);
    EXPECT(CQ_EINVAL, o.status = -1);
    EXPECT(CQ_EINVAL, o.opts = 0x80);
    EXPECT(CQ_EINVAL, o.price = NAN);
    EXPECT(CQ_EINVAL, o.trigger_price = INFINITY);
    EXPECT(CQ_EINVAL, o.qty = -1);
    EXPECT(CQ_EINVAL, o.filled_qty = -0.5);
    EXPECT(CQ_EINVAL, o.fees = -INFINITY);
    EXPECT(CQ_EINVAL, o.hdr.instrument = 0);
    EXPECT(CQ_ENOENT, o.hdr.instrument = 999);
    EXPECT(CQ_ENOENT, o.hdr.strategy = 999);
#undef EXPECT
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("orders"), 0);
}
END_TEST

START_TEST(test_journal_hostile_tag_is_stored_verbatim)
{
    cq_journal_t *j = open_journal();
    cq_order_t o = mk_order("tagged");
    snprintf(o.tag, sizeof o.tag, "'); DELETE FROM orders; --\x01");
    ck_assert_int_eq(cq_journal_record_submit(j, &o), 0);
    submit(j, "other", CQ_OS_SUBMITTED);
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(j, "tagged", &rec), 0);
    ck_assert_str_eq(rec.order.tag, o.tag);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("orders"), 2);
}
END_TEST

START_TEST(test_journal_events_append_history_and_update_the_order)
{
    cq_journal_t *j = open_journal();
    submit(j, "e1", CQ_OS_SUBMITTED);
    cq_order_event_t ev = mk_event("e1", CQ_OS_ACCEPTED, 0);
    snprintf(ev.venue_order_id, sizeof ev.venue_order_id, "V-77");
    ev.prev_status = CQ_OS_FILLED; /* wrong on purpose: the journal keeps its own chain */
    ck_assert_int_eq(cq_journal_record_event(j, &ev), 0);
    ev = mk_event("e1", CQ_OS_PARTIALLY_FILLED, 0.0004);
    ev.avg_fill_price = 65000.1;
    ck_assert_int_eq(cq_journal_record_event(j, &ev), 0); /* no venue id: keeps V-77 */
    ev = mk_event("e1", CQ_OS_CANCELED, 0.0004); /* an event carries the whole fill state */
    ev.avg_fill_price = 65000.1;
    snprintf(ev.reason, sizeof ev.reason, "user asked");
    ck_assert_int_eq(cq_journal_record_event(j, &ev), 0);
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(j, "e1", &rec), 0);
    ck_assert_int_eq(rec.order.status, CQ_OS_CANCELED);
    ck_assert_str_eq(rec.order.venue_order_id, "V-77");
    ck_assert(rec.order.filled_qty == 0.0004 && rec.order.avg_fill_price == 65000.1);
    ck_assert_uint_eq(rec.events, 3);
    ck_assert_int_eq(rec.order.hdr.ts_event, ev.hdr.ts_event);
    cq_journal_close(j);

    sqlite3 *db = raw_open(g_path);
    char t[256];
    raw_text(db, "SELECT group_concat(seq || ':' || prev_status || '>' || status || ':' || filled_qty "
                 "|| ':' || reason, ' ') FROM (SELECT * FROM order_events ORDER BY seq)", t, sizeof t);
    ck_assert_str_eq(t, "1:SUBMITTED>ACCEPTED:0.00000: 2:ACCEPTED>PARTIALLY_FILLED:0.00040: "
                        "3:PARTIALLY_FILLED>CANCELED:0.00040:user asked");
    sqlite3_close(db);
}
END_TEST

START_TEST(test_journal_event_for_unknown_order_is_enoent_and_writes_nothing)
{
    cq_journal_t *j = open_journal();
    cq_order_event_t ev = mk_event("ghost", CQ_OS_ACCEPTED, 0);
    ck_assert_int_eq(cq_journal_record_event(j, &ev), CQ_ENOENT);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("order_events"), 0);
}
END_TEST

START_TEST(test_journal_event_bad_input_is_rejected)
{
    cq_journal_t *j = open_journal();
    submit(j, "e2", CQ_OS_SUBMITTED);
    cq_order_event_t ev = mk_event("e2", CQ_OS_ACCEPTED, 0);
    ck_assert_int_eq(cq_journal_record_event(NULL, &ev), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_record_event(j, NULL), CQ_EINVAL);
    ev.status = 0;
    ck_assert_int_eq(cq_journal_record_event(j, &ev), CQ_EINVAL);
    ev.status = 42;
    ck_assert_int_eq(cq_journal_record_event(j, &ev), CQ_EINVAL);
    ev = mk_event("e2", CQ_OS_ACCEPTED, NAN);
    ck_assert_int_eq(cq_journal_record_event(j, &ev), CQ_EINVAL);
    ev = mk_event("e2", CQ_OS_ACCEPTED, -1);
    ck_assert_int_eq(cq_journal_record_event(j, &ev), CQ_EINVAL);
    ev = mk_event("", CQ_OS_ACCEPTED, 0);
    ck_assert_int_eq(cq_journal_record_event(j, &ev), CQ_EINVAL);
    ev = mk_event("e2", CQ_OS_ACCEPTED, 0);
    memset(ev.reason, 'r', sizeof ev.reason);
    ck_assert_int_eq(cq_journal_record_event(j, &ev), CQ_ETOOLONG);
    ev = mk_event("e2", CQ_OS_ACCEPTED, 0);
    memset(ev.client_order_id, 'c', sizeof ev.client_order_id);
    ck_assert_int_eq(cq_journal_record_event(j, &ev), CQ_ETOOLONG);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("order_events"), 0);
}
END_TEST

START_TEST(test_journal_duplicate_fill_is_eexist_and_recorded_once)
{
    cq_journal_t *j = open_journal();
    submit(j, "f1", CQ_OS_ACCEPTED);
    cq_fill_t f = mk_fill("f1", "T-1001");
    ck_assert_int_eq(cq_journal_record_fill(j, &f), 0);
    f.qty = 9; /* a replay with different numbers is still the same trade */
    ck_assert_int_eq(cq_journal_record_fill(j, &f), CQ_EEXIST);
    cq_fill_t got;
    ck_assert_int_eq(cq_journal_find_fill(j, g_inst, "T-1001", &got), 0);
    ck_assert(got.qty == 0.0004);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("fills"), 1);
}
END_TEST

START_TEST(test_journal_same_trade_id_on_another_instrument_is_another_fill)
{
    uint32_t eth;
    add_instrument(g_cache, "ETHUSDT.BINANCE", 2, 4, &eth);
    cq_journal_t *j = open_journal();
    cq_fill_t f = mk_fill("f1", "555");
    ck_assert_int_eq(cq_journal_record_fill(j, &f), 0);
    f.hdr.instrument = eth;
    ck_assert_int_eq(cq_journal_record_fill(j, &f), 0);
    ck_assert_int_eq(cq_journal_find_fill(j, eth, "555", NULL), 0);
    ck_assert_int_eq(cq_journal_find_fill(j, g_inst, "555", NULL), 0);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("fills"), 2);
}
END_TEST

START_TEST(test_journal_fill_reads_back_field_for_field_after_restart)
{
    cq_journal_t *j = open_journal();
    cq_fill_t f = mk_fill("f9", "T-9");
    f.hdr.flags = CQ_EVF_EXTERNAL;
    f.side = CQ_SIDE_SELL;
    f.liquidity = CQ_LIQ_MAKER;
    f.fee = -0.0001; /* a rebate */
    ck_assert_int_eq(cq_journal_record_fill(j, &f), 0);
    cq_journal_close(j);
    j = open_journal();
    cq_fill_t got;
    ck_assert_int_eq(cq_journal_find_fill(j, g_inst, "T-9", &got), 0);
    ck_assert_int_eq(got.hdr.type, CQ_EV_FILL);
    ck_assert_uint_eq(got.hdr.instrument, g_inst);
    ck_assert_uint_eq(got.hdr.strategy, g_strat);
    ck_assert_uint_eq(got.hdr.flags, CQ_EVF_EXTERNAL);
    ck_assert_int_eq(got.hdr.ts_event, f.hdr.ts_event);
    ck_assert_int_eq(got.hdr.ts_init, f.hdr.ts_init);
    ck_assert_str_eq(got.client_order_id, "f9");
    ck_assert_str_eq(got.venue_order_id, "8812345");
    ck_assert_str_eq(got.trade_id, "T-9");
    ck_assert_str_eq(got.fee_asset, "USDT");
    ck_assert_int_eq(got.side, CQ_SIDE_SELL);
    ck_assert_int_eq(got.liquidity, CQ_LIQ_MAKER);
    ck_assert(got.price == f.price && got.qty == f.qty && got.fee == f.fee);
    ck_assert_int_eq(cq_journal_find_fill(j, g_inst, "T-10", &got), CQ_ENOENT);
    cq_journal_close(j);
}
END_TEST

START_TEST(test_journal_fill_of_external_order_needs_no_client_id)
{
    cq_journal_t *j = open_journal();
    cq_fill_t f = mk_fill("", "X-1");
    f.hdr.strategy = 0;
    ck_assert_int_eq(cq_journal_record_fill(j, &f), 0);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("fills"), 1);
}
END_TEST

START_TEST(test_journal_fill_bad_input_is_rejected)
{
    cq_journal_t *j = open_journal();
    cq_fill_t f;
    ck_assert_int_eq(cq_journal_record_fill(NULL, &f), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_record_fill(j, NULL), CQ_EINVAL);
#define EXPECT(code, mutate)                                 \
    do {                                                     \
        f = mk_fill("f1", "T-1");                            \
        mutate;                                              \
        ck_assert_int_eq(cq_journal_record_fill(j, &f), code); \
    } while (0)
    EXPECT(CQ_EINVAL, f.trade_id[0] = '\0');
    EXPECT(CQ_ETOOLONG, memset(f.trade_id, '1', sizeof f.trade_id));
    EXPECT(CQ_EINVAL, strcpy(f.trade_id, "T 1"));
    EXPECT(CQ_ETOOLONG, memset(f.fee_asset, 'U', sizeof f.fee_asset));
    EXPECT(CQ_ETOOLONG, memset(f.client_order_id, 'c', sizeof f.client_order_id));
    EXPECT(CQ_EINVAL, f.side = 0);
    EXPECT(CQ_EINVAL, f.liquidity = 3);
    EXPECT(CQ_EINVAL, f.liquidity = -1);
    EXPECT(CQ_EINVAL, f.price = NAN);
    EXPECT(CQ_EINVAL, f.qty = -1);
    EXPECT(CQ_EINVAL, f.fee = INFINITY);
    EXPECT(CQ_EINVAL, f.hdr.instrument = 0);
    EXPECT(CQ_ENOENT, f.hdr.instrument = 12345);
#undef EXPECT
    ck_assert_int_eq(cq_journal_find_fill(NULL, g_inst, "T-1", NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_find_fill(j, g_inst, NULL, NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_find_fill(j, g_inst, "", NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_find_fill(j, 0, "T-1", NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_find_fill(j, 777, "T-1", NULL), CQ_ENOENT);
    char long_id[64];
    memset(long_id, '9', sizeof long_id - 1);
    long_id[63] = '\0';
    ck_assert_int_eq(cq_journal_find_fill(j, g_inst, long_id, NULL), CQ_ETOOLONG);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("fills"), 0);
}
END_TEST

START_TEST(test_journal_update_changes_mutable_fields_but_not_status)
{
    cq_journal_t *j = open_journal();
    submit(j, "u1", CQ_OS_ACCEPTED);
    cq_order_t o = mk_order("u1");
    o.status = CQ_OS_FILLED; /* ignored: statuses change through events */
    o.price = 64999.99;
    o.qty = 0.002;
    o.fees = 0.5;
    o.hdr.ts_event = 42;
    snprintf(o.venue_order_id, sizeof o.venue_order_id, "V9");
    snprintf(o.tag, sizeof o.tag, "moved");
    o.side = CQ_SIDE_SELL; /* identity: ignored */
    ck_assert_int_eq(cq_journal_update_order(j, &o), 0);
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(j, "u1", &rec), 0);
    ck_assert(rec.order.price == 64999.99 && rec.order.qty == 0.002 && rec.order.fees == 0.5);
    ck_assert_str_eq(rec.order.venue_order_id, "V9");
    ck_assert_str_eq(rec.order.tag, "moved");
    ck_assert_int_eq(rec.order.hdr.ts_event, 42);
    ck_assert_int_eq(rec.order.status, CQ_OS_ACCEPTED);
    ck_assert_int_eq(rec.order.side, CQ_SIDE_BUY);
    o = mk_order("u-none");
    ck_assert_int_eq(cq_journal_update_order(j, &o), CQ_ENOENT);
    ck_assert_int_eq(cq_journal_update_order(j, NULL), CQ_EINVAL);
    o = mk_order("u1");
    o.price = NAN;
    ck_assert_int_eq(cq_journal_update_order(j, &o), CQ_EINVAL);
    cq_journal_close(j);
}
END_TEST

/* ---- groups ---------------------------------------------------------------------------- */

START_TEST(test_journal_group_commit_records_everything)
{
    cq_journal_t *j = open_journal();
    ck_assert_int_eq(cq_journal_begin(j), 0);
    submit(j, "g1", CQ_OS_SUBMITTED);
    submit(j, "g2", CQ_OS_SUBMITTED);
    cq_fill_t f = mk_fill("g1", "T-g1");
    ck_assert_int_eq(cq_journal_record_fill(j, &f), 0);
    event(j, "g1", CQ_OS_FILLED, 0.001);
    ck_assert_int_eq(cq_journal_commit(j), 0);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("orders"), 2);
    ck_assert_int_eq(count_rows("fills"), 1);
    ck_assert_int_eq(count_rows("order_events"), 1);
}
END_TEST

START_TEST(test_journal_group_rollback_records_nothing)
{
    cq_journal_t *j = open_journal();
    ck_assert_int_eq(cq_journal_begin(j), 0);
    submit(j, "g1", CQ_OS_SUBMITTED);
    event(j, "g1", CQ_OS_ACCEPTED, 0);
    ck_assert_int_eq(cq_journal_rollback(j), 0);
    ck_assert_int_eq(cq_journal_find_order(j, "g1", &(cq_journal_order_t){0}), CQ_ENOENT);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("orders"), 0);
    ck_assert_int_eq(count_rows("order_events"), 0);
}
END_TEST

START_TEST(test_journal_duplicate_inside_group_leaves_group_going)
{
    cq_journal_t *j = open_journal();
    submit(j, "g0", CQ_OS_SUBMITTED);
    ck_assert_int_eq(cq_journal_begin(j), 0);
    submit(j, "g1", CQ_OS_SUBMITTED);
    cq_order_t dup = mk_order("g0");
    ck_assert_int_eq(cq_journal_record_submit(j, &dup), CQ_EEXIST);
    cq_order_event_t ev = mk_event("ghost", CQ_OS_ACCEPTED, 0);
    ck_assert_int_eq(cq_journal_record_event(j, &ev), CQ_ENOENT);
    submit(j, "g2", CQ_OS_SUBMITTED);
    ck_assert_int_eq(cq_journal_commit(j), 0);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("orders"), 3);
}
END_TEST

START_TEST(test_journal_group_misuse_is_estate)
{
    cq_journal_t *j = open_journal();
    ck_assert_int_eq(cq_journal_commit(j), CQ_ESTATE);
    ck_assert_int_eq(cq_journal_rollback(j), CQ_ESTATE);
    ck_assert_int_eq(cq_journal_begin(j), 0);
    ck_assert_int_eq(cq_journal_begin(j), CQ_ESTATE);
    ck_assert_int_eq(cq_journal_checkpoint(j), CQ_ESTATE);
    ck_assert_int_eq(cq_journal_commit(j), 0);
    ck_assert_int_eq(cq_journal_checkpoint(j), 0);
    ck_assert_int_eq(cq_journal_begin(NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_commit(NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_rollback(NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_checkpoint(NULL), CQ_EINVAL);
    cq_journal_close(j);
}
END_TEST

START_TEST(test_journal_close_with_group_open_discards_the_group)
{
    cq_journal_t *j = open_journal();
    submit(j, "kept", CQ_OS_SUBMITTED);
    ck_assert_int_eq(cq_journal_begin(j), 0);
    submit(j, "dropped", CQ_OS_SUBMITTED);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("orders"), 1);
    ck_assert_msg(strstr(g_last_log, "rolled back"), "warned: %s", g_last_log);
}
END_TEST

/* ---- batched mode ---------------------------------------------------------------------
 * Shared locking lets a second connection read what is committed while the
 * journal holds its batch open: exactly what a crash would leave. */

static cq_journal_t *open_batched(int batch)
{
    cq_journal_t *j = NULL;
    cq_journal_config_t cfg = config(g_cache);
    cfg.shared = 1;
    cfg.batch = batch;
    int rc = cq_journal_open(&j, g_path, &cfg);
    ck_assert_msg(rc == 0, "open batched: %s (%s)", cq_errname(rc), g_last_log);
    return j;
}

/* What a crash now would leave: the committed state, read from outside. */
static long long committed(const char *sql)
{
    sqlite3 *db = raw_open(g_path);
    long long v = raw_int(db, sql);
    sqlite3_close(db);
    return v;
}

#define ACCEPTED_A "SELECT count(*) FROM orders WHERE client_order_id = 'a' AND status = 'ACCEPTED'"

START_TEST(test_journal_batched_ack_and_fill_wait_for_the_next_submit)
{
    cq_journal_t *j = open_batched(100);
    submit(j, "a", CQ_OS_SUBMITTED);
    ck_assert_int_eq(committed("SELECT count(*) FROM orders"), 1); /* a submit commits at once */
    event(j, "a", CQ_OS_ACCEPTED, 0);
    cq_fill_t f = mk_fill("a", "T-a");
    ck_assert_int_eq(cq_journal_record_fill(j, &f), 0);
    ck_assert_int_eq(committed(ACCEPTED_A), 0);
    ck_assert_int_eq(committed("SELECT count(*) FROM fills"), 0);
    /* the journal itself sees its batch */
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(j, "a", &rec), 0);
    ck_assert_int_eq(rec.order.status, CQ_OS_ACCEPTED);
    ck_assert_int_eq(cq_journal_find_fill(j, g_inst, "T-a", NULL), 0);
    ck_assert_int_eq(cq_journal_record_fill(j, &f), CQ_EEXIST);
    submit(j, "b", CQ_OS_SUBMITTED); /* takes the batch with it */
    ck_assert_int_eq(committed(ACCEPTED_A), 1);
    ck_assert_int_eq(committed("SELECT count(*) FROM fills"), 1);
    ck_assert_int_eq(committed("SELECT count(*) FROM orders"), 2);
    cq_journal_close(j);
}
END_TEST

START_TEST(test_journal_batched_cancel_and_modify_requests_commit_at_once)
{
    cq_journal_t *j = open_batched(100);
    submit(j, "a", CQ_OS_SUBMITTED);
    event(j, "a", CQ_OS_ACCEPTED, 0);
    event(j, "a", CQ_OS_PENDING_CANCEL, 0);
    ck_assert_int_eq(committed("SELECT count(*) FROM order_events WHERE client_order_id = 'a'"), 2);
    event(j, "a", CQ_OS_ACCEPTED, 0); /* cancel rejected: waits */
    event(j, "a", CQ_OS_PENDING_UPDATE, 0);
    ck_assert_int_eq(committed("SELECT count(*) FROM order_events WHERE client_order_id = 'a'"), 4);
    cq_journal_close(j);
}
END_TEST

START_TEST(test_journal_batched_commits_when_full_on_flush_and_on_close)
{
    cq_journal_t *j = open_batched(3);
    submit(j, "a", CQ_OS_SUBMITTED);
    event(j, "a", CQ_OS_ACCEPTED, 0);
    event(j, "a", CQ_OS_PARTIALLY_FILLED, 0.0004);
    ck_assert_int_eq(committed("SELECT count(*) FROM order_events"), 0);
    event(j, "a", CQ_OS_PARTIALLY_FILLED, 0.0008); /* the third batched record */
    ck_assert_int_eq(committed("SELECT count(*) FROM order_events"), 3);
    event(j, "a", CQ_OS_FILLED, 0.001);
    ck_assert_int_eq(committed("SELECT count(*) FROM order_events"), 3);
    ck_assert_int_eq(cq_journal_flush(j), 0);
    ck_assert_int_eq(committed("SELECT count(*) FROM order_events"), 4);
    ck_assert_int_eq(cq_journal_flush(j), 0); /* nothing to commit */
    cq_order_t o = mk_order("a");
    o.fees = 0.5;
    ck_assert_int_eq(cq_journal_update_order(j, &o), 0);
    ck_assert_int_eq(committed("SELECT count(*) FROM orders WHERE fees = '0.5'"), 0);
    cq_journal_close(j);
    ck_assert_int_eq(committed("SELECT count(*) FROM orders WHERE fees = '0.5'"), 1);
}
END_TEST

START_TEST(test_journal_batched_group_rolls_back_alone_and_commits_with_a_submit)
{
    cq_journal_t *j = open_batched(100);
    submit(j, "a", CQ_OS_SUBMITTED);
    event(j, "a", CQ_OS_ACCEPTED, 0); /* batched, before the group */
    ck_assert_int_eq(cq_journal_begin(j), 0);
    cq_fill_t f = mk_fill("a", "T-1");
    ck_assert_int_eq(cq_journal_record_fill(j, &f), 0);
    event(j, "a", CQ_OS_PARTIALLY_FILLED, 0.0004);
    ck_assert_int_eq(cq_journal_rollback(j), 0);
    ck_assert_int_eq(cq_journal_find_fill(j, g_inst, "T-1", NULL), CQ_ENOENT);
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(j, "a", &rec), 0);
    ck_assert_int_eq(rec.order.status, CQ_OS_ACCEPTED); /* the batch is intact */
    /* a group without a submit stays in the batch; one with a submit commits */
    ck_assert_int_eq(cq_journal_begin(j), 0);
    ck_assert_int_eq(cq_journal_record_fill(j, &f), 0);
    event(j, "a", CQ_OS_PARTIALLY_FILLED, 0.0004);
    ck_assert_int_eq(cq_journal_commit(j), 0);
    ck_assert_int_eq(committed("SELECT count(*) FROM fills"), 0);
    ck_assert_int_eq(cq_journal_flush(NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_begin(j), 0);
    ck_assert_int_eq(cq_journal_flush(j), CQ_ESTATE);
    submit(j, "b", CQ_OS_SUBMITTED);
    ck_assert_int_eq(committed("SELECT count(*) FROM orders"), 1); /* not before the group ends */
    ck_assert_int_eq(cq_journal_commit(j), 0);
    ck_assert_int_eq(committed("SELECT count(*) FROM orders"), 2);
    ck_assert_int_eq(committed("SELECT count(*) FROM fills"), 1);
    ck_assert_int_eq(committed("SELECT last_seq FROM orders WHERE client_order_id = 'a'"), 2);
    cq_journal_close(j);
}
END_TEST

START_TEST(test_journal_batch_out_of_range_is_einval)
{
    cq_journal_t *j;
    cq_journal_config_t cfg = config(g_cache);
    cfg.batch = -1;
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_EINVAL);
    cfg.batch = 100001;
    ck_assert_int_eq(try_open(g_path, &cfg, &j), CQ_EINVAL);
    cfg.batch = 100000;
    ck_assert_int_eq(try_open(g_path, &cfg, &j), 0);
    cq_journal_close(j);
}
END_TEST

/* A process that dies without closing (as after SIGKILL: _exit runs no
 * cleanup) leaves everything up to its last commit and nothing after. */
START_TEST(test_journal_batched_process_death_loses_only_the_open_batch)
{
    cq_journal_close(open_journal());
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        cq_journal_t *j = NULL;
        cq_journal_config_t cfg = config(g_cache);
        cfg.batch = 100;
        if (cq_journal_open(&j, g_path, &cfg) != 0)
            _exit(10);
        cq_order_t a = mk_order("a"), b = mk_order("b");
        cq_order_event_t acc_a = mk_event("a", CQ_OS_ACCEPTED, 0), acc_b = mk_event("b", CQ_OS_ACCEPTED, 0);
        cq_fill_t fa = mk_fill("a", "T-a"), fb = mk_fill("b", "T-b");
        if (cq_journal_record_submit(j, &a) || cq_journal_record_event(j, &acc_a) ||
            cq_journal_record_fill(j, &fa) || cq_journal_record_submit(j, &b) ||
            cq_journal_record_event(j, &acc_b) || cq_journal_record_fill(j, &fb))
            _exit(11);
        _exit(0);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
    ck_assert_int_eq(count_rows("orders"), 2);
    ck_assert_int_eq(count_rows("fills"), 1); /* T-a came before b's submit; T-b did not */
    cq_journal_t *j = open_journal();
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(j, "a", &rec), 0);
    ck_assert_int_eq(rec.order.status, CQ_OS_ACCEPTED);
    ck_assert_int_eq(cq_journal_find_order(j, "b", &rec), 0);
    ck_assert_int_eq(rec.order.status, CQ_OS_SUBMITTED);
    ck_assert_int_eq(cq_journal_find_fill(j, g_inst, "T-b", NULL), CQ_ENOENT);
    cq_fill_t fb = mk_fill("b", "T-b"); /* the venue's copy, after the restart: booked once */
    ck_assert_int_eq(cq_journal_record_fill(j, &fb), 0);
    ck_assert_int_eq(cq_journal_record_fill(j, &fb), CQ_EEXIST);
    cq_journal_close(j);
}
END_TEST

/* The journal's VFS holds WAL writes back and issues them in runs of at
 * most 120 KiB: a transaction far larger, read back inside it and after a
 * restart, is whole. */
START_TEST(test_journal_large_group_is_whole_inside_and_after_restart)
{
    cq_journal_t *j = open_journal();
    ck_assert_int_eq(cq_journal_begin(j), 0);
    char id[40];
    for (int i = 0; i < 3000; i++) {
        snprintf(id, sizeof id, "big-%d", i);
        cq_order_t o = mk_order(id);
        REQUIRE(cq_journal_record_submit(j, &o) == 0, "submit %d: %s", i, cq_journal_errmsg(j));
        if (i % 500 == 499) {
            cq_journal_order_t rec;
            snprintf(id, sizeof id, "big-%d", i / 2);
            REQUIRE(cq_journal_find_order(j, id, &rec) == 0, "find %s", id);
        }
    }
    ck_assert_int_eq(cq_journal_commit(j), 0);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("orders"), 3000);
    j = open_journal();
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(j, "big-2999", &rec), 0);
    ck_assert(rec.order.qty == 0.001);
    cq_journal_close(j);
}
END_TEST

/* ---- loading after a restart ------------------------------------------------------------ */

typedef struct loaded {
    cq_journal_order_t recs[32];
    int n;
} loaded_t;

static int collect_cb(void *user, const cq_journal_order_t *rec)
{
    loaded_t *l = user;
    if (l->n < 32)
        l->recs[l->n++] = *rec;
    return 0;
}

START_TEST(test_journal_reopen_loads_exactly_the_unfinished_orders_with_last_state)
{
    cq_journal_t *j = open_journal();
    /* one order ending in each status, via a submit and an event */
    for (int32_t s = CQ_OS_INITIALIZED; s < CQ_OS_COUNT_; s++) {
        char id[40];
        snprintf(id, sizeof id, "s%02d", (int)s);
        cq_order_t o = mk_order(id);
        o.status = CQ_OS_SUBMITTED;
        o.hdr.ts_init = 1000 + s; /* creation order = status order */
        ck_assert_int_eq(cq_journal_record_submit(j, &o), 0);
        cq_order_event_t ev = mk_event(id, s, s == CQ_OS_PARTIALLY_FILLED ? 0.0005 : 0);
        ck_assert_int_eq(cq_journal_record_event(j, &ev), 0);
    }
    cq_journal_close(j);

    cq_cache_t *fresh;
    ck_assert_int_eq(cq_cache_create(&fresh, NULL), 0);
    j = open_at(g_path, fresh);
    loaded_t l = {.n = 0};
    ck_assert_int_eq(cq_journal_load_open(j, collect_cb, &l), 0);
    int expect = 0;
    for (int32_t s = CQ_OS_INITIALIZED; s < CQ_OS_COUNT_; s++) {
        if (cq_order_status_is_closed(s))
            continue;
        ck_assert_int_lt(expect, l.n);
        const cq_journal_order_t *r = &l.recs[expect++];
        char id[40];
        snprintf(id, sizeof id, "s%02d", (int)s);
        ck_assert_str_eq(r->order.client_order_id, id);
        ck_assert_int_eq(r->order.status, s);
        ck_assert_uint_eq(r->events, 1);
        ck_assert(r->order.filled_qty == (s == CQ_OS_PARTIALLY_FILLED ? 0.0005 : 0));
        ck_assert_str_eq(cq_cache_instrument_name(fresh, r->order.hdr.instrument), "BTCUSDT.BINANCE");
    }
    ck_assert_int_eq(l.n, expect);
    ck_assert_int_eq(expect, 6); /* INITIALIZED SUBMITTED ACCEPTED PARTIALLY_FILLED PENDING_x2 */
    cq_journal_close(j);
    cq_cache_destroy(fresh);
}
END_TEST

static int stop_cb(void *user, const cq_journal_order_t *rec)
{
    (void)rec;
    return ++*(int *)user == 2 ? 7 : 0;
}

START_TEST(test_journal_load_stops_with_the_callbacks_value)
{
    cq_journal_t *j = open_journal();
    submit(j, "a", CQ_OS_SUBMITTED);
    submit(j, "b", CQ_OS_SUBMITTED);
    submit(j, "c", CQ_OS_SUBMITTED);
    int calls = 0;
    ck_assert_int_eq(cq_journal_load_open(j, stop_cb, &calls), 7);
    ck_assert_int_eq(calls, 2);
    ck_assert_int_eq(cq_journal_load_open(NULL, stop_cb, &calls), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_load_open(j, NULL, NULL), CQ_EINVAL);
    submit(j, "d", CQ_OS_SUBMITTED); /* the statement was released */
    cq_journal_close(j);
}
END_TEST

static int write_inside_cb(void *user, const cq_journal_order_t *rec)
{
    cq_journal_t *j = user;
    cq_order_t o = rec->order;
    snprintf(o.client_order_id, sizeof o.client_order_id, "new-%.30s", rec->order.client_order_id);
    int rc = cq_journal_record_submit(j, &o);
    ck_assert_int_eq(rc, CQ_EBUSY);
    cq_journal_order_t again;
    ck_assert_int_eq(cq_journal_find_order(j, rec->order.client_order_id, &again), 0); /* reads are fine */
    return 0;
}

START_TEST(test_journal_load_callback_cannot_write)
{
    cq_journal_t *j = open_journal();
    submit(j, "a", CQ_OS_SUBMITTED);
    ck_assert_int_eq(cq_journal_load_open(j, write_inside_cb, j), 0);
    submit(j, "b", CQ_OS_SUBMITTED); /* and writes work again after */
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("orders"), 2);
}
END_TEST

START_TEST(test_journal_restore_puts_open_orders_in_the_cache_once)
{
    cq_journal_t *j = open_journal();
    submit(j, "open1", CQ_OS_ACCEPTED);
    submit(j, "open2", CQ_OS_SUBMITTED);
    submit(j, "done", CQ_OS_FILLED);
    cq_journal_close(j);
    cq_cache_t *fresh;
    ck_assert_int_eq(cq_cache_create(&fresh, NULL), 0);
    j = open_at(g_path, fresh);
    long added = -1;
    ck_assert_int_eq(cq_journal_restore_open(j, &added), 0);
    ck_assert_int_eq(added, 2);
    ck_assert_ptr_nonnull(cq_cache_order(fresh, "open1"));
    ck_assert_ptr_nonnull(cq_cache_order(fresh, "open2"));
    ck_assert_ptr_null(cq_cache_order(fresh, "done"));
    ck_assert_uint_eq(cq_cache_order_count(fresh, CQ_ORDERS_OPEN), 1);
    ck_assert_uint_eq(cq_cache_order_count(fresh, CQ_ORDERS_INFLIGHT), 1);
    ck_assert_int_eq(cq_journal_restore_open(j, &added), 0);
    ck_assert_int_eq(added, 0);
    ck_assert_int_eq(cq_journal_restore_open(NULL, &added), CQ_EINVAL);
    cq_journal_close(j);
    cq_cache_destroy(fresh);
}
END_TEST

START_TEST(test_journal_find_order_bad_input)
{
    cq_journal_t *j = open_journal();
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(NULL, "a", &rec), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_find_order(j, NULL, &rec), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_find_order(j, "a", NULL), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_find_order(j, "", &rec), CQ_EINVAL);
    ck_assert_int_eq(cq_journal_find_order(j, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &rec), CQ_ETOOLONG);
    ck_assert_int_eq(cq_journal_find_order(j, "a b", &rec), CQ_EINVAL);
    cq_journal_close(j);
}
END_TEST

START_TEST(test_journal_unreadable_row_is_ecorrupt_not_a_crash)
{
    cq_journal_t *j = open_journal();
    submit(j, "bad1", CQ_OS_ACCEPTED);
    cq_journal_close(j);
    raw_exec(g_path, "UPDATE orders SET status = 'ON_FIRE', price = 'lots'");
    j = open_journal();
    long n = 0;
    ck_assert_int_eq(cq_journal_load_open(j, count_cb, &n), CQ_ECORRUPT);
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(j, "bad1", &rec), CQ_ECORRUPT);
    cq_journal_close(j);
}
END_TEST

/* ---- a full disk ------------------------------------------------------------------------ */

/* In a child process (the limit must not outlive the test): cap the file
 * size, submit until the journal refuses, check the refusal is CQ_EIO and
 * that the orders accepted before it are all there after a reopen. */
START_TEST(test_journal_full_disk_is_eio_and_keeps_what_was_recorded)
{
    cq_journal_close(open_journal());
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        cq_journal_t *j = open_journal();
        struct rlimit rl = {256 * 1024, 256 * 1024};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(10);
        int rc = 0, i;
        char id[40];
        for (i = 0; i < 100000 && rc == 0; i++) {
            snprintf(id, sizeof id, "d%d", i);
            cq_order_t o = mk_order(id);
            rc = cq_journal_record_submit(j, &o);
        }
        if (rc != CQ_EIO)
            _exit(11);
        if (!strstr(cq_journal_errmsg(j), "cannot record"))
            _exit(12);
        cq_journal_close(j);
        _exit(i - 1 > 0 && i - 1 < 250 ? i - 1 : 255); /* i - 1 orders were accepted */
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) > 0 && WEXITSTATUS(st) < 250, "child status %d", st);
    long accepted = WEXITSTATUS(st);
    /* whatever was acknowledged is there, and the file is a sound journal */
    ck_assert_int_eq(count_rows("orders"), accepted);
    cq_journal_t *j = open_journal();
    cq_journal_order_t rec;
    ck_assert_int_eq(cq_journal_find_order(j, "d0", &rec), 0);
    submit(j, "after", CQ_OS_SUBMITTED);
    cq_journal_close(j);
    ck_assert_int_eq(count_rows("orders"), accepted + 1);
}
END_TEST

/* ---- the crash test ----------------------------------------------------------------------
 * A child process opens the journal and records a burst of orders: each
 * submit, and for some orders events and fills (some grouped with begin /
 * commit, one duplicate fill each time it fills). Before each call it writes
 * to a pipe what the order's state will be once the call returns, and after
 * the call that it returned. The parent SIGKILLs it at a random message,
 * then reads the file and checks, for every order ever announced:
 *   - a call that returned is in the file: the order's state is the last
 *     state announced as returned, or that of the one call that had begun
 *     and not returned when the kill came;
 *   - an order whose submit began but did not return is absent or present
 *     with its submit state;
 *   - no order appears twice, no fill twice, events are a gapless sequence,
 *     and no order the child never announced is in the file.
 * One file serves all trials, so each trial is also a restart that must
 * leave every earlier order as it was and hand out fresh ids. */

static char g_self[4096]; /* this executable, for the child to re-run */

enum { OP_SUBMIT = 1, OP_EVENT, OP_FILL, OP_GROUP, OP_UPDATE, OP_FINISHED, OP_ERROR };
enum { PH_BEGIN = 1, PH_END = 2 };

typedef struct mstate {
    int32_t status;
    int32_t events;
    int32_t fills;
    int32_t steps;     /* filled quantity in steps of 0.001 */
    int32_t price_cents;
    int32_t pad_;
} mstate_t;

typedef struct crash_msg {
    int32_t op;
    int32_t phase;
    char id[40];
    mstate_t st;
    int32_t code;
    int32_t pad_;
} crash_msg_t;

_Static_assert(sizeof(crash_msg_t) <= 512, "pipe writes must stay atomic");

static void child_send(int fd, int32_t op, int32_t phase, const char *id, const mstate_t *st, int code)
{
    crash_msg_t m;
    memset(&m, 0, sizeof m);
    m.op = op;
    m.phase = phase;
    if (id)
        snprintf(m.id, sizeof m.id, "%s", id);
    if (st)
        m.st = *st;
    m.code = code;
    if (write(fd, &m, sizeof m) != (ssize_t)sizeof m)
        _exit(4);
}

#define CHILD_CALL(fd, op, id, st, call)                      \
    do {                                                      \
        child_send(fd, op, PH_BEGIN, id, st, 0);              \
        int rc_ = (call);                                     \
        if (rc_ != 0) {                                       \
            child_send(fd, OP_ERROR, 0, id, st, rc_);         \
            _exit(3);                                         \
        }                                                     \
        child_send(fd, op, PH_END, id, st, 0);                \
    } while (0)

static int child_group_fill(cq_journal_t *j, const cq_fill_t *f, const cq_order_event_t *ev)
{
    int rc = cq_journal_begin(j);
    if (rc == 0)
        rc = cq_journal_record_fill(j, f);
    if (rc == 0)
        rc = cq_journal_record_event(j, ev);
    if (rc == 0)
        rc = cq_journal_commit(j);
    return rc;
}

static int crash_child(char **argv)
{
    const char *path = argv[2];
    cq_rng_t rng = {strtoull(argv[3], NULL, 10) | 1};
    int n = atoi(argv[4]);
    int fd = atoi(argv[5]);
    cq_cache_t *cache;
    uint32_t inst, strat;
    cq_instrument_t spec;
    memset(&spec, 0, sizeof spec);
    snprintf(spec.id, sizeof spec.id, "BTCUSDT.BINANCE");
    spec.price_precision = 2;
    spec.size_precision = 3;
    if (cq_cache_create(&cache, NULL) || cq_cache_instrument_add(cache, &spec, &inst) ||
        cq_cache_strategy_intern(cache, "crash", &strat))
        _exit(5);
    cq_journal_t *j = NULL;
    cq_journal_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.cache = cache;
    cfg.busy_timeout_ms = 5000;
    int rc = cq_journal_open(&j, path, &cfg);
    if (rc) {
        child_send(fd, OP_ERROR, 0, "open", NULL, rc);
        _exit(3);
    }
    for (int i = 0; i < n; i++) {
        cq_order_t o;
        memset(&o, 0, sizeof o);
        if (cq_journal_next_client_id(j, o.client_order_id))
            _exit(6);
        const char *id = o.client_order_id;
        o.hdr.instrument = inst;
        o.hdr.strategy = strat;
        o.hdr.ts_init = o.hdr.ts_event = i;
        o.side = CQ_SIDE_BUY;
        o.type = CQ_ORDER_LIMIT;
        o.tif = CQ_TIF_GTC;
        o.status = CQ_OS_SUBMITTED;
        mstate_t st = {CQ_OS_SUBMITTED, 0, 0, 0, 6500000 + (int32_t)cq_rng_below(&rng, 1000), 0};
        o.price = st.price_cents / 100.0;
        o.qty = 0.003;
        CHILD_CALL(fd, OP_SUBMIT, id, &st, cq_journal_record_submit(j, &o));

        unsigned r = cq_rng_below(&rng, 10);
        if (r < 7) {
            cq_order_event_t ev;
            memset(&ev, 0, sizeof ev);
            snprintf(ev.client_order_id, sizeof ev.client_order_id, "%s", id);
            ev.hdr.instrument = inst;
            st.status = CQ_OS_ACCEPTED;
            st.events++;
            ev.status = st.status;
            CHILD_CALL(fd, OP_EVENT, id, &st, cq_journal_record_event(j, &ev));
        }
        if (r < 4) {
            int nf = 1 + (int)cq_rng_below(&rng, 3);
            for (int k = 0; k < nf; k++) {
                cq_fill_t f;
                memset(&f, 0, sizeof f);
                f.hdr.instrument = inst;
                f.hdr.strategy = strat;
                snprintf(f.client_order_id, sizeof f.client_order_id, "%s", id);
                snprintf(f.trade_id, sizeof f.trade_id, "%.30s-t%c", id, (char)('0' + k));
                f.side = CQ_SIDE_BUY;
                f.liquidity = CQ_LIQ_MAKER;
                f.price = o.price;
                f.qty = 0.001;
                cq_order_event_t ev;
                memset(&ev, 0, sizeof ev);
                snprintf(ev.client_order_id, sizeof ev.client_order_id, "%s", id);
                ev.hdr.instrument = inst;
                st.fills++; /* the fill alone... */
                mstate_t mid = st;
                st.steps++; /* ...then the status change it causes */
                st.events++;
                st.status = st.steps == 3 ? CQ_OS_FILLED : CQ_OS_PARTIALLY_FILLED;
                ev.status = st.status;
                ev.filled_qty = st.steps * 0.001;
                ev.avg_fill_price = o.price;
                if (cq_rng_below(&rng, 2)) {
                    CHILD_CALL(fd, OP_GROUP, id, &st, child_group_fill(j, &f, &ev));
                } else {
                    CHILD_CALL(fd, OP_FILL, id, &mid, cq_journal_record_fill(j, &f));
                    CHILD_CALL(fd, OP_EVENT, id, &st, cq_journal_record_event(j, &ev));
                }
                /* a venue repeating itself: must be refused, changes nothing */
                if (cq_journal_record_fill(j, &f) != CQ_EEXIST) {
                    child_send(fd, OP_ERROR, 0, id, &st, -100);
                    _exit(3);
                }
            }
        } else if (r == 4) {
            st.price_cents -= 1;
            o.price = st.price_cents / 100.0;
            o.status = st.status;
            CHILD_CALL(fd, OP_UPDATE, id, &st, cq_journal_update_order(j, &o));
        } else if (r == 5) {
            cq_order_event_t ev;
            memset(&ev, 0, sizeof ev);
            snprintf(ev.client_order_id, sizeof ev.client_order_id, "%s", id);
            ev.hdr.instrument = inst;
            st.events++;
            st.status = CQ_OS_PENDING_CANCEL;
            ev.status = st.status;
            CHILD_CALL(fd, OP_EVENT, id, &st, cq_journal_record_event(j, &ev));
            st.events++;
            st.status = CQ_OS_CANCELED;
            ev.status = st.status;
            CHILD_CALL(fd, OP_EVENT, id, &st, cq_journal_record_event(j, &ev));
        }
    }
    child_send(fd, OP_FINISHED, 0, NULL, NULL, 0);
    for (;;)
        pause(); /* wait for the SIGKILL, like a process that was still busy */
}

/* The parent's model: every order announced, in an open-addressing table. */
typedef struct mentry {
    char id[40];
    mstate_t done;
    mstate_t pending;
    int has_done;
    int has_pending;
    int found;
} mentry_t;

typedef struct model {
    mentry_t *e;
    size_t cap;
    size_t n;
} model_t;

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static mentry_t *model_find(model_t *m, const char *id, int add)
{
    size_t i = hash_id(id) & (m->cap - 1);
    while (m->e[i].id[0]) {
        if (strcmp(m->e[i].id, id) == 0)
            return &m->e[i];
        i = (i + 1) & (m->cap - 1);
    }
    if (!add)
        return NULL;
    REQUIRE(m->n + 1 < m->cap / 2, "model full");
    snprintf(m->e[i].id, sizeof m->e[i].id, "%s", id);
    m->n++;
    return &m->e[i];
}

static int same_state(const mstate_t *a, const mstate_t *b)
{
    return a->status == b->status && a->events == b->events && a->fills == b->fills &&
           a->steps == b->steps && a->price_cents == b->price_cents;
}

static void apply_msg(model_t *m, const crash_msg_t *msg, int *pending_count)
{
    REQUIRE(msg->op != OP_ERROR, "child failed at %s: %s", msg->id, cq_errname(msg->code));
    if (msg->op == OP_FINISHED)
        return;
    mentry_t *e = model_find(m, msg->id, msg->op == OP_SUBMIT && msg->phase == PH_BEGIN);
    REQUIRE(e, "message for unannounced order %s", msg->id);
    if (msg->phase == PH_BEGIN) {
        REQUIRE(!(msg->op == OP_SUBMIT && (e->has_done || e->has_pending)),
                "client id %s handed out twice", msg->id);
        REQUIRE(*pending_count == 0, "two calls in flight");
        e->pending = msg->st;
        e->has_pending = 1;
        ++*pending_count;
    } else {
        REQUIRE(e->has_pending && same_state(&e->pending, &msg->st), "end without begin for %s", msg->id);
        e->done = e->pending;
        e->has_done = 1;
        e->has_pending = 0;
        --*pending_count;
    }
}

/* Run one child, kill it at message kill_at (or when it has finished). */
static void run_child(const char *path, uint64_t seed, int n, int kill_at, model_t *m)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    fcntl(p[0], F_SETPIPE_SZ, 4096); /* keep the child close behind the reader */
    char seed_s[32], n_s[16], fd_s[16];
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)seed);
    snprintf(n_s, sizeof n_s, "%d", n);
    snprintf(fd_s, sizeof fd_s, "%d", p[1]);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        execl(g_self, "test_journal", "--journal-child", path, seed_s, n_s, fd_s, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    crash_msg_t buf[64];
    size_t have = 0;
    int count = 0, killed = 0, pending = 0;
    for (;;) {
        struct pollfd pf = {p[0], POLLIN, 0};
        int pr = poll(&pf, 1, 30000);
        if (pr <= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            ck_abort_msg("child silent for 30 s");
        }
        ssize_t got = read(p[0], (char *)buf + have, sizeof buf - have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        have += (size_t)got;
        size_t whole = have / sizeof(crash_msg_t);
        for (size_t k = 0; k < whole; k++) {
            apply_msg(m, &buf[k], &pending);
            if (!killed && (++count >= kill_at || buf[k].op == OP_FINISHED)) {
                kill(pid, SIGKILL);
                killed = 1;
            }
        }
        have -= whole * sizeof(crash_msg_t);
        memmove(buf, (char *)buf + whole * sizeof(crash_msg_t), have);
    }
    close(p[0]);
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child ended by itself: status %d", st);
    ck_assert_uint_eq(have, 0);
}

/* The file against the model; then each entry's expectation becomes what
 * the file holds, so later trials check that nothing old moves. */
static void verify_file(const char *path, model_t *m)
{
    sqlite3 *db = raw_open(path);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) - count(DISTINCT client_order_id) FROM orders"), 0);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM (SELECT DISTINCT instrument, trade_id FROM fills)"),
                     raw_int(db, "SELECT count(*) FROM fills"));
    sqlite3_stmt *s;
    const char *sql =
        "SELECT o.client_order_id, o.status, o.last_seq, o.filled_qty, o.price, "
        " (SELECT count(*) FROM fills f WHERE f.client_order_id = o.client_order_id), "
        " (SELECT count(*) FROM order_events e WHERE e.client_order_id = o.client_order_id), "
        " (SELECT coalesce(max(seq), 0) FROM order_events e WHERE e.client_order_id = o.client_order_id) "
        "FROM orders o";
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    for (size_t i = 0; i < m->cap; i++)
        m->e[i].found = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        mentry_t *e = model_find(m, id, 0);
        REQUIRE(e, "order %s in the file was never announced", id);
        REQUIRE(!e->found, "order %s twice", id);
        e->found = 1;
        mstate_t got;
        memset(&got, 0, sizeof got);
        const char *status = (const char *)sqlite3_column_text(s, 1);
        got.status = -1;
        for (int32_t v = CQ_OS_INITIALIZED; v < CQ_OS_COUNT_; v++)
            if (strcmp(cq_order_status_name(v), status) == 0)
                got.status = v;
        got.events = sqlite3_column_int(s, 2);
        got.steps = (int32_t)lround(sqlite3_column_double(s, 3) * 1000);
        got.price_cents = (int32_t)lround(sqlite3_column_double(s, 4) * 100);
        got.fills = sqlite3_column_int(s, 5);
        REQUIRE(sqlite3_column_int(s, 6) == got.events && sqlite3_column_int(s, 7) == got.events,
                "order %s: events not a gapless 1..%d", id, got.events);
        int ok = (e->has_done && same_state(&got, &e->done)) || (e->has_pending && same_state(&got, &e->pending));
        REQUIRE(ok, "order %s: file has status %d events %d fills %d steps %d price %d; last returned "
                "%d/%d/%d/%d/%d (%s), in flight %d/%d/%d/%d/%d (%s)",
                id, got.status, got.events, got.fills, got.steps, got.price_cents, e->done.status,
                e->done.events, e->done.fills, e->done.steps, e->done.price_cents,
                e->has_done ? "yes" : "no", e->pending.status, e->pending.events, e->pending.fills,
                e->pending.steps, e->pending.price_cents, e->has_pending ? "yes" : "no");
        e->done = got;
        e->has_done = 1;
        e->has_pending = 0;
    }
    sqlite3_finalize(s);
    ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM fills WHERE client_order_id NOT IN "
                                 "(SELECT client_order_id FROM orders)"), 0);
    sqlite3_close(db);
    int lost_in_flight = 0;
    for (size_t i = 0; i < m->cap; i++) {
        mentry_t *e = &m->e[i];
        if (e->id[0] <= '\x01' || e->found) /* empty slot or forgotten order */
            continue;
        REQUIRE(!e->has_done, "order %s: its submit returned, yet it is missing", e->id);
        lost_in_flight++;
        memset(e, 0, sizeof *e); /* never recorded: forget it (its id is not reused) */
        e->id[0] = '\x01';       /* keep the probe chain intact */
    }
    REQUIRE(lost_in_flight <= 1, "%d orders missing", lost_in_flight);
}

typedef struct open_count {
    model_t *m;
    long n;
} open_count_t;

static int check_loaded_cb(void *user, const cq_journal_order_t *rec)
{
    open_count_t *c = user;
    mentry_t *e = model_find(c->m, rec->order.client_order_id, 0);
    REQUIRE(e && e->has_done, "loaded %s, unknown", rec->order.client_order_id);
    REQUIRE(rec->order.status == e->done.status && (int32_t)rec->events == e->done.events,
            "loaded %s in another state", rec->order.client_order_id);
    REQUIRE(!cq_order_status_is_closed(rec->order.status), "loaded a finished order");
    c->n++;
    return 0;
}

START_TEST(test_journal_sigkill_during_burst_loses_and_duplicates_nothing)
{
    model_t m = {calloc(1 << 15, sizeof(mentry_t)), 1 << 15, 0};
    ck_assert_ptr_nonnull(m.e);
    cq_rng_t rng = {20261124};
    for (int trial = 0; trial < 20; trial++) {
        int n = 15 * (trial + 1);
        int kill_at = 1 + (int)cq_rng_below(&rng, (unsigned)(n * 6));
        run_child(g_path, cq_rng_next(&rng), n, kill_at, &m);
        verify_file(g_path, &m);
        /* a restart: open through the API, load the unfinished orders */
        cq_cache_t *fresh;
        ck_assert_int_eq(cq_cache_create(&fresh, NULL), 0);
        cq_journal_t *j = open_at(g_path, fresh);
        open_count_t c = {&m, 0};
        ck_assert_int_eq(cq_journal_load_open(j, check_loaded_cb, &c), 0);
        long expect = 0;
        for (size_t i = 0; i < m.cap; i++)
            if (m.e[i].id[0] > '\x01' && !cq_order_status_is_closed(m.e[i].done.status))
                expect++;
        ck_assert_int_eq(c.n, expect);
        cq_journal_close(j);
        cq_cache_destroy(fresh);
    }
    free(m.e);
}
END_TEST

/* ---- suite ----------------------------------------------------------------------------------- */

static Suite *journal_suite(void)
{
    Suite *s = suite_create("journal");
    TCase *tc = tcase_create("open");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_journal_open_bad_arguments_are_einval);
    tcase_add_test(tc, test_journal_open_path_too_long_is_etoolong);
    tcase_add_test(tc, test_journal_open_missing_directory_is_enoent_naming_it);
    tcase_add_test(tc, test_journal_open_parent_that_is_a_file_is_enoent);
    tcase_add_test(tc, test_journal_open_directory_as_path_is_einval);
    tcase_add_test(tc, test_journal_open_unwritable_location_is_edenied);
    tcase_add_test(tc, test_journal_open_read_only_file_is_edenied);
    tcase_add_test(tc, test_journal_open_creates_versioned_schema_in_wal_mode);
    tcase_add_test(tc, test_journal_open_newer_schema_is_eversion_and_file_unchanged);
    tcase_add_test(tc, test_journal_open_text_file_is_ecorrupt);
    tcase_add_test(tc, test_journal_open_other_applications_database_is_ecorrupt);
    tcase_add_test(tc, test_journal_open_damaged_file_is_ecorrupt);
    tcase_add_test(tc, test_journal_damaged_file_without_verify_fails_cleanly);
    tcase_add_test(tc, test_journal_open_truncated_file_is_ecorrupt);
    tcase_add_test(tc, test_journal_second_open_of_an_open_journal_is_ebusy);
    tcase_add_test(tc, test_journal_shared_mode_lets_another_connection_read);
    tcase_add_test(tc, test_journal_full_sync_records_like_normal);
    tcase_add_test(tc, test_journal_close_null_is_noop_and_errmsg_never_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("client_ids");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_journal_client_ids_unique_across_restarts);
    tcase_add_test(tc, test_journal_client_id_bad_arguments_are_einval);
    tcase_add_test(tc, test_journal_client_id_of_largest_session_fits_24_chars);
    tcase_add_test(tc, test_journal_session_survives_in_file_before_any_order);
    suite_add_tcase(s, tc);

    tc = tcase_create("record");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_journal_submitted_order_reads_back_field_for_field);
    tcase_add_test(tc, test_journal_prices_stored_as_decimal_text_at_instrument_precision);
    tcase_add_test(tc, test_journal_value_off_the_precision_round_trips_exactly);
    tcase_add_test(tc, test_journal_instrument_without_spec_stores_fewest_decimals);
    tcase_add_test(tc, test_journal_random_values_round_trip_bit_exact);
    tcase_add_test(tc, test_journal_duplicate_client_id_is_eexist_and_keeps_the_first);
    tcase_add_test(tc, test_journal_submit_bad_input_is_rejected_and_writes_nothing);
    tcase_add_test(tc, test_journal_hostile_tag_is_stored_verbatim);
    tcase_add_test(tc, test_journal_events_append_history_and_update_the_order);
    tcase_add_test(tc, test_journal_event_for_unknown_order_is_enoent_and_writes_nothing);
    tcase_add_test(tc, test_journal_event_bad_input_is_rejected);
    tcase_add_test(tc, test_journal_duplicate_fill_is_eexist_and_recorded_once);
    tcase_add_test(tc, test_journal_same_trade_id_on_another_instrument_is_another_fill);
    tcase_add_test(tc, test_journal_fill_reads_back_field_for_field_after_restart);
    tcase_add_test(tc, test_journal_fill_of_external_order_needs_no_client_id);
    tcase_add_test(tc, test_journal_fill_bad_input_is_rejected);
    tcase_add_test(tc, test_journal_update_changes_mutable_fields_but_not_status);
    suite_add_tcase(s, tc);

    tc = tcase_create("groups");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_journal_group_commit_records_everything);
    tcase_add_test(tc, test_journal_group_rollback_records_nothing);
    tcase_add_test(tc, test_journal_duplicate_inside_group_leaves_group_going);
    tcase_add_test(tc, test_journal_group_misuse_is_estate);
    tcase_add_test(tc, test_journal_close_with_group_open_discards_the_group);
    suite_add_tcase(s, tc);

    tc = tcase_create("batched");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_journal_batched_ack_and_fill_wait_for_the_next_submit);
    tcase_add_test(tc, test_journal_batched_cancel_and_modify_requests_commit_at_once);
    tcase_add_test(tc, test_journal_batched_commits_when_full_on_flush_and_on_close);
    tcase_add_test(tc, test_journal_batched_group_rolls_back_alone_and_commits_with_a_submit);
    tcase_add_test(tc, test_journal_batch_out_of_range_is_einval);
    tcase_add_test(tc, test_journal_batched_process_death_loses_only_the_open_batch);
    tcase_add_test(tc, test_journal_large_group_is_whole_inside_and_after_restart);
    suite_add_tcase(s, tc);

    tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_journal_reopen_loads_exactly_the_unfinished_orders_with_last_state);
    tcase_add_test(tc, test_journal_load_stops_with_the_callbacks_value);
    tcase_add_test(tc, test_journal_load_callback_cannot_write);
    tcase_add_test(tc, test_journal_restore_puts_open_orders_in_the_cache_once);
    tcase_add_test(tc, test_journal_find_order_bad_input);
    tcase_add_test(tc, test_journal_unreadable_row_is_ecorrupt_not_a_crash);
    suite_add_tcase(s, tc);

    tc = tcase_create("crash");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_journal_full_disk_is_eio_and_keeps_what_was_recorded);
    tcase_add_test(tc, test_journal_sigkill_during_burst_loses_and_duplicates_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "--journal-child") == 0)
        return crash_child(argv);
    /* argv[0], not /proc/self/exe: under valgrind the latter is valgrind */
    if (!realpath(argv[0], g_self))
        snprintf(g_self, sizeof g_self, "/proc/self/exe");
    /* Tests work in subdirectories of one directory per run, removed here
     * by the runner: a failing test (Check _exits it) leaves nothing either. */
    const char *tmp = getenv("TMPDIR");
    snprintf(g_base, sizeof g_base, "%s/cq-test-journal-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_base)) {
        perror("mkdtemp");
        return 1;
    }
    int rc = cq_test_run(journal_suite());
    remove_tree(g_base);
    return rc;
}
