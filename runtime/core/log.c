/*
 * log.c - leveled logging. Formats into a stack buffer (messages longer than
 * 1 KiB are cut, never allocated) and hands the line to the sink.
 */
#include <stdio.h>

#include "cquant/log.h"

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};

const char *cq_log_level_name(int level)
{
    return level >= CQ_LOG_DEBUG && level <= CQ_LOG_OFF ? level_names[level] : "?";
}

void cq_log_init(cq_log_t *log, int level)
{
    log->level = level;
    log->sink = NULL;
    log->user = NULL;
}

void cq_logf(const cq_log_t *log, int level, const char *module, const char *fmt, ...)
{
    int min = log ? log->level : CQ_LOG_WARN;
    if (level < min || level >= CQ_LOG_OFF)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (log && log->sink)
        log->sink(log->user, level, module ? module : "", buf);
    else
        fprintf(stderr, "%-5s %s: %s\n", cq_log_level_name(level), module ? module : "", buf);
}
