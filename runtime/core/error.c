/*
 * error.c - names and descriptions of the CQ_E* codes.
 */
#include "cquant/error.h"

#define CQ_ERRORS(X)                                                   \
    X(CQ_OK, "success")                                                \
    X(CQ_EINVAL, "invalid argument")                                   \
    X(CQ_ENOMEM, "out of memory")                                      \
    X(CQ_ENOENT, "not found")                                          \
    X(CQ_EEXIST, "already exists")                                     \
    X(CQ_ETOOLONG, "string too long")                                  \
    X(CQ_EFULL, "capacity exhausted")                                  \
    X(CQ_ESTATE, "not allowed in the current state")                   \
    X(CQ_EPARSE, "malformed input")                                    \
    X(CQ_ERANGE, "number out of range")                                \
    X(CQ_EIO, "I/O error")                                             \
    X(CQ_EGAP, "sequence gap")                                         \
    X(CQ_EVERSION, "unsupported version")                              \
    X(CQ_ECORRUPT, "corrupted data")                                   \
    X(CQ_EDENIED, "denied")                                            \
    X(CQ_ETIMEDOUT, "timed out")                                       \
    X(CQ_ECLOSED, "closed")                                            \
    X(CQ_EBUSY, "busy")

const char *cq_strerror(int err)
{
#define X(code, text) if (err == code) return text;
    CQ_ERRORS(X)
#undef X
    return "unknown error";
}

const char *cq_errname(int err)
{
#define X(code, text) if (err == code) return #code;
    CQ_ERRORS(X)
#undef X
    return "CQ_E?";
}
