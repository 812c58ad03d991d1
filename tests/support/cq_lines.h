/*
 * cq_lines.h - read a recorded data file line by line, plain or gzip.
 */
#ifndef CQ_LINES_H
#define CQ_LINES_H

#include <stddef.h>

typedef struct cq_lines cq_lines_t;

/* Open a file under the test data directory (rel path). NULL if absent or
 * unreadable. */
cq_lines_t *cq_lines_open(const char *rel);
/* The next line without its newline (NUL-terminated; valid until the next
 * call), or NULL at the end. *len gets its length; *lineno its number. */
const char *cq_lines_next(cq_lines_t *r, size_t *len, long *lineno);
void cq_lines_close(cq_lines_t *r);

#endif
