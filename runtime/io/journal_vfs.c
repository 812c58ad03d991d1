/*
 * journal_vfs.c - a SQLite VFS that wraps the system's default one and
 * holds back the writes to the -wal file, so that a commit reaches the
 * kernel as one write(2) per contiguous run instead of two per page.
 *
 * Why: SQLite writes each WAL frame as two calls, the 24-byte frame header
 * and then the page. On the virtual machines this runs on a system call
 * costs 1.5-2 us, more than the rest of a small commit; a one-page commit
 * measured 4.1 us of pwrite as two calls and 2.5 us as one, three pages
 * 12 us and 3.3 us.
 *
 * Owns, per open -wal file, a buffer of writes not yet issued (one
 * contiguous run of the file). Other files (the database, temporary
 * files) are opened straight through the wrapped VFS, in place, and never
 * see this code.
 *
 * The rules that keep it crash-safe. A held-back write is issued (a
 * "flush"): before any other operation on the file (read, sync, truncate,
 * size, locks, shared-memory barrier, close), before a write that does not
 * extend the run, when the buffer is full, and when the journal calls
 * cq_jvfs_flush after a statement that may have committed - which it does
 * before it returns to its caller. So nothing SQLite reads back is still in
 * the buffer, a sync covers everything written before it, the frames of a
 * commit are in the kernel before the index header that publishes them
 * (xShmBarrier), and a commit the journal reports as done is in the file:
 * a crash of the process after that cannot lose it. A flush that fails
 * leaves its error on the file for good: every later operation returns it,
 * so SQLite and the journal stop rather than take a lost commit for a
 * written one. Never: reorder writes (a flush goes out before the write
 * that follows it), split a write, or hold anything across a return to the
 * journal's caller.
 *
 * The registration is process-wide (SQLite's list of VFSes): the struct is
 * filled once, on first use, and never changed after; the journal is used
 * from one thread.
 */
#include "journal_vfs.h"

#include <stddef.h>
#include <string.h>

#define JVFS_NAME "cquant-wal"
/* A commit of up to 29 pages of 4 KiB in one call. Never above 128 KiB:
 * the unix VFS masks a write's length with 0x1ffff (SQLite itself never
 * writes more at once), so a larger one would be cut to nothing. */
#define JBUF_CAP (120 * 1024)

typedef struct jfile {
    sqlite3_file base;         /* pMethods = &jfile_methods */
    sqlite3_file *real;        /* the wrapped -wal file, right after this */
    int err;                   /* a flush failed: every later call fails */
    unsigned char *buf;        /* held-back bytes of [off, off + len) */
    size_t len;
    sqlite3_int64 off;
} jfile_t;

/* Where the wrapped file lives inside the memory SQLite gives us. */
#define REAL_OFFSET ((sizeof(jfile_t) + 15) & ~(size_t)15)

static sqlite3_vfs jvfs;
static int jvfs_ready;

static int jflush(jfile_t *f)
{
    if (f->err)
        return f->err;
    if (!f->len)
        return SQLITE_OK;
    int rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->off);
    f->len = 0;
    if (rc != SQLITE_OK)
        f->err = rc;
    return rc;
}

#define FLUSH_OR_RETURN(f)              \
    do {                                \
        int frc_ = jflush(f);           \
        if (frc_ != SQLITE_OK)          \
            return frc_;                \
    } while (0)

static int j_close(sqlite3_file *pf)
{
    jfile_t *f = (jfile_t *)pf;
    int rc = jflush(f);
    int rc2 = f->real->pMethods->xClose(f->real);
    sqlite3_free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int j_read(sqlite3_file *pf, void *p, int n, sqlite3_int64 off)
{
    jfile_t *f = (jfile_t *)pf;
    FLUSH_OR_RETURN(f);
    return f->real->pMethods->xRead(f->real, p, n, off);
}

static int j_write(sqlite3_file *pf, const void *p, int n, sqlite3_int64 off)
{
    jfile_t *f = (jfile_t *)pf;
    if (f->err)
        return f->err;
    if (n <= 0)
        return f->real->pMethods->xWrite(f->real, p, n, off);
    if (f->len && off == f->off + (sqlite3_int64)f->len && f->len + (size_t)n <= JBUF_CAP) {
        memcpy(f->buf + f->len, p, (size_t)n);
        f->len += (size_t)n;
        return SQLITE_OK;
    }
    FLUSH_OR_RETURN(f);
    if ((size_t)n > JBUF_CAP) {
        int rc = f->real->pMethods->xWrite(f->real, p, n, off);
        if (rc != SQLITE_OK)
            f->err = rc;
        return rc;
    }
    memcpy(f->buf, p, (size_t)n);
    f->len = (size_t)n;
    f->off = off;
    return SQLITE_OK;
}

static int j_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
    jfile_t *f = (jfile_t *)pf;
    FLUSH_OR_RETURN(f);
    return f->real->pMethods->xTruncate(f->real, size);
}

static int j_sync(sqlite3_file *pf, int flags)
{
    jfile_t *f = (jfile_t *)pf;
    FLUSH_OR_RETURN(f);
    return f->real->pMethods->xSync(f->real, flags);
}

static int j_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
    jfile_t *f = (jfile_t *)pf;
    FLUSH_OR_RETURN(f);
    return f->real->pMethods->xFileSize(f->real, size);
}

static int j_lock(sqlite3_file *pf, int lock)
{
    jfile_t *f = (jfile_t *)pf;
    FLUSH_OR_RETURN(f);
    return f->real->pMethods->xLock(f->real, lock);
}

static int j_unlock(sqlite3_file *pf, int lock)
{
    jfile_t *f = (jfile_t *)pf;
    FLUSH_OR_RETURN(f);
    return f->real->pMethods->xUnlock(f->real, lock);
}

static int j_check_reserved(sqlite3_file *pf, int *out)
{
    jfile_t *f = (jfile_t *)pf;
    FLUSH_OR_RETURN(f);
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int j_file_control(sqlite3_file *pf, int op, void *arg)
{
    jfile_t *f = (jfile_t *)pf;
    FLUSH_OR_RETURN(f);
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int j_sector_size(sqlite3_file *pf)
{
    jfile_t *f = (jfile_t *)pf;
    return f->real->pMethods->xSectorSize(f->real);
}

static int j_device_characteristics(sqlite3_file *pf)
{
    jfile_t *f = (jfile_t *)pf;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int j_shm_map(sqlite3_file *pf, int region, int size, int extend, void volatile **out)
{
    jfile_t *f = (jfile_t *)pf;
    return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

static int j_shm_lock(sqlite3_file *pf, int offset, int n, int flags)
{
    jfile_t *f = (jfile_t *)pf;
    FLUSH_OR_RETURN(f);
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

/* SQLite calls this between writing frames and publishing them in the
 * index: the frames must be in the file first. A barrier has no way to
 * fail; a failed flush stays on the file and stops the next call. */
static void j_shm_barrier(sqlite3_file *pf)
{
    jfile_t *f = (jfile_t *)pf;
    (void)jflush(f);
    f->real->pMethods->xShmBarrier(f->real);
}

static int j_shm_unmap(sqlite3_file *pf, int del)
{
    jfile_t *f = (jfile_t *)pf;
    return f->real->pMethods->xShmUnmap(f->real, del);
}

static int j_fetch(sqlite3_file *pf, sqlite3_int64 off, int n, void **out)
{
    jfile_t *f = (jfile_t *)pf;
    FLUSH_OR_RETURN(f);
    return f->real->pMethods->xFetch(f->real, off, n, out);
}

static int j_unfetch(sqlite3_file *pf, sqlite3_int64 off, void *p)
{
    jfile_t *f = (jfile_t *)pf;
    return f->real->pMethods->xUnfetch(f->real, off, p);
}

/* Version 1 only reaches xDeviceCharacteristics, 2 the shared memory, 3
 * xFetch: each file gets the table of its wrapped file's version. */
#define JMETHODS(v)                                                                                  \
    {                                                                                                \
        v, j_close, j_read, j_write, j_truncate, j_sync, j_file_size, j_lock, j_unlock,              \
            j_check_reserved, j_file_control, j_sector_size, j_device_characteristics, j_shm_map,    \
            j_shm_lock, j_shm_barrier, j_shm_unmap, j_fetch, j_unfetch                               \
    }

static const sqlite3_io_methods jfile_methods[3] = {JMETHODS(1), JMETHODS(2), JMETHODS(3)};

static int is_jfile(const sqlite3_file *pf)
{
    return pf && pf->pMethods >= &jfile_methods[0] && pf->pMethods <= &jfile_methods[2];
}

static int j_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *pf, int flags, int *out_flags)
{
    sqlite3_vfs *root = vfs->pAppData;
    if (!(flags & SQLITE_OPEN_WAL)) /* in place: SQLite calls the real methods */
        return root->xOpen(root, name, pf, flags, out_flags);
    jfile_t *f = (jfile_t *)pf;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)((char *)pf + REAL_OFFSET);
    memset(f->real, 0, (size_t)root->szOsFile);
    int rc = root->xOpen(root, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        if (f->real->pMethods)
            f->real->pMethods->xClose(f->real);
        f->base.pMethods = NULL;
        return rc;
    }
    f->buf = sqlite3_malloc(JBUF_CAP);
    if (!f->buf) {
        f->real->pMethods->xClose(f->real);
        f->base.pMethods = NULL;
        return SQLITE_NOMEM;
    }
    int v = f->real->pMethods->iVersion;
    f->base.pMethods = &jfile_methods[(v < 1 ? 1 : v > 3 ? 3 : v) - 1];
    return SQLITE_OK;
}

/* ---- the rest of the VFS: the wrapped one's ---------------------------- */

#define ROOT(v) ((sqlite3_vfs *)(v)->pAppData)

static int v_delete(sqlite3_vfs *v, const char *z, int sync)
{
    return ROOT(v)->xDelete(ROOT(v), z, sync);
}
static int v_access(sqlite3_vfs *v, const char *z, int flags, int *out)
{
    return ROOT(v)->xAccess(ROOT(v), z, flags, out);
}
static int v_full_pathname(sqlite3_vfs *v, const char *z, int n, char *out)
{
    return ROOT(v)->xFullPathname(ROOT(v), z, n, out);
}
static void *v_dl_open(sqlite3_vfs *v, const char *z)
{
    return ROOT(v)->xDlOpen(ROOT(v), z);
}
static void v_dl_error(sqlite3_vfs *v, int n, char *out)
{
    ROOT(v)->xDlError(ROOT(v), n, out);
}
static void (*v_dl_sym(sqlite3_vfs *v, void *h, const char *z))(void)
{
    return ROOT(v)->xDlSym(ROOT(v), h, z);
}
static void v_dl_close(sqlite3_vfs *v, void *h)
{
    ROOT(v)->xDlClose(ROOT(v), h);
}
static int v_randomness(sqlite3_vfs *v, int n, char *out)
{
    return ROOT(v)->xRandomness(ROOT(v), n, out);
}
static int v_sleep(sqlite3_vfs *v, int us)
{
    return ROOT(v)->xSleep(ROOT(v), us);
}
static int v_current_time(sqlite3_vfs *v, double *out)
{
    return ROOT(v)->xCurrentTime(ROOT(v), out);
}
static int v_last_error(sqlite3_vfs *v, int n, char *out)
{
    return ROOT(v)->xGetLastError ? ROOT(v)->xGetLastError(ROOT(v), n, out) : 0;
}
static int v_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    return ROOT(v)->xCurrentTimeInt64(ROOT(v), out);
}

const char *cq_jvfs_name(void)
{
    if (jvfs_ready)
        return JVFS_NAME;
    sqlite3_vfs *root = sqlite3_vfs_find(NULL);
    if (!root || root->iVersion < 2 || !root->xCurrentTimeInt64)
        return NULL;
    jvfs.iVersion = 2; /* the system-call hooks of version 3 stay the root's */
    jvfs.szOsFile = (int)REAL_OFFSET + root->szOsFile;
    jvfs.mxPathname = root->mxPathname;
    jvfs.zName = JVFS_NAME;
    jvfs.pAppData = root;
    jvfs.xOpen = j_open;
    jvfs.xDelete = v_delete;
    jvfs.xAccess = v_access;
    jvfs.xFullPathname = v_full_pathname;
    jvfs.xDlOpen = root->xDlOpen ? v_dl_open : NULL;
    jvfs.xDlError = root->xDlError ? v_dl_error : NULL;
    jvfs.xDlSym = root->xDlSym ? v_dl_sym : NULL;
    jvfs.xDlClose = root->xDlClose ? v_dl_close : NULL;
    jvfs.xRandomness = v_randomness;
    jvfs.xSleep = v_sleep;
    jvfs.xCurrentTime = v_current_time;
    jvfs.xGetLastError = v_last_error;
    jvfs.xCurrentTimeInt64 = v_current_time64;
    if (sqlite3_vfs_register(&jvfs, 0) != SQLITE_OK)
        return NULL;
    jvfs_ready = 1;
    return JVFS_NAME;
}

int cq_jvfs_flush(sqlite3 *db)
{
    sqlite3_file *pf = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &pf) != SQLITE_OK || !is_jfile(pf))
        return SQLITE_OK;
    return jflush((jfile_t *)pf);
}
