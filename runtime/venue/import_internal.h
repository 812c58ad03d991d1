/*
 * import_internal.h - what the format readers of an import session share
 * beyond the public hook of importer.h. Only runtime/venue/import*.c
 * include it.
 */
#ifndef CQ_VENUE_IMPORT_INTERNAL_H
#define CQ_VENUE_IMPORT_INTERNAL_H

#include <stddef.h>
#include <zlib.h>

#include "cquant/importer.h"

/* The session's options; venue is never NULL ("BINANCE" by default). */
const cq_import_opts_t *cq_import_options(const cq_import_t *imp);

/* Set the message cq_import_error returns (a failure that stops the file). */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void cq_import_set_error(cq_import_t *imp, const char *fmt, ...);

/* 1 if the first line of a file (len bytes, possibly a prefix of a longer
 * line) is a Binance recording line: "<recv_ns> {", "<recv_s>: {",
 * "https://... -> ", "wss://", "ws://" or "configuration:". */
int cq_import_binance_detect(const char *line, size_t len);

/* Read a Binance recording from gz into the session. The first head_len
 * bytes of the file (the start of its first line, from the format
 * detection) were already read from gz and are in head. path names the file
 * in messages; a regular file is reopened once if a bare depth snapshot
 * needs the file's symbol. Returns as cq_import_file. */
int cq_import_binance_read(cq_import_t *imp, const char *path, gzFile gz, const char *head, size_t head_len);

#endif
