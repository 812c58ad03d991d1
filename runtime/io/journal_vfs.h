/*
 * journal_vfs.h - the SQLite VFS the journal opens its file through: the
 * system's own ("unix"), with the writes to the -wal file held back and
 * issued as one write(2) per contiguous run. Only runtime/io/journal*.c
 * include it; see journal_vfs.c for why and for the rules that keep it
 * crash-safe.
 */
#ifndef CQ_IO_JOURNAL_VFS_H
#define CQ_IO_JOURNAL_VFS_H

#include <sqlite3.h>

/* The VFS's name, for sqlite3_open_v2. Registers it on the first call (not
 * as the default VFS); later calls return the same name. NULL if SQLite
 * has no default VFS to wrap or refuses the registration. */
const char *cq_jvfs_name(void);

/* Issue the -wal writes that db's WAL file holds back. Call it after every
 * statement that may have committed, before telling anyone the commit is
 * done: SQLite considers a commit written once its last frame was handed
 * to the VFS. SQLITE_OK, or the error of the write (it stays: every later
 * operation on that file fails with it, so a commit that did not reach the
 * file is never taken for one that did). A database not opened through
 * this VFS, or with no WAL open, is SQLITE_OK. */
int cq_jvfs_flush(sqlite3 *db);

#endif
