/*
 * log.h - leveled logging to a sink (stderr by default).
 *
 * The logger is an object so tests can capture output and the runtime can
 * route it (terminal, file, REPL). A logger may be NULL: then messages at
 * WARN and above go to stderr, so nothing important is ever swallowed.
 */
#ifndef CQUANT_LOG_H
#define CQUANT_LOG_H

#include <stdarg.h>

/* CQ_FFI_BEGIN */
enum { CQ_LOG_DEBUG = 0, CQ_LOG_INFO = 1, CQ_LOG_WARN = 2, CQ_LOG_ERROR = 3, CQ_LOG_OFF = 4 };

typedef void (*cq_log_sink_fn)(void *user, int level, const char *module, const char *msg);

typedef struct cq_log {
    int level;            /* messages below this level are dropped */
    cq_log_sink_fn sink;  /* NULL = stderr */
    void *user;
} cq_log_t;
/* CQ_FFI_END */

void cq_log_init(cq_log_t *log, int level);

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void cq_logf(const cq_log_t *log, int level, const char *module, const char *fmt, ...);

const char *cq_log_level_name(int level);

#endif
