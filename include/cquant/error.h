/*
 * error.h - error codes shared by every cquant module.
 *
 * Public functions return 0 on success or a negative CQ_E* code; results go
 * through out-parameters. Nothing in the core aborts on bad input.
 */
#ifndef CQUANT_ERROR_H
#define CQUANT_ERROR_H

enum {
    CQ_OK = 0,
    CQ_EINVAL = -1,    /* invalid argument (NULL, empty, out of range) */
    CQ_ENOMEM = -2,    /* allocation failed */
    CQ_ENOENT = -3,    /* no such topic, endpoint, order, instrument... */
    CQ_EEXIST = -4,    /* already registered / duplicate key */
    CQ_ETOOLONG = -5,  /* string longer than its limit */
    CQ_EFULL = -6,     /* fixed capacity exhausted */
    CQ_ESTATE = -7,    /* operation not legal in the current state */
    CQ_EPARSE = -8,    /* malformed input */
    CQ_ERANGE = -9,    /* number does not fit its field */
    CQ_EIO = -10,      /* I/O error (errno has details) */
    CQ_EGAP = -11,     /* sequence gap */
    CQ_EVERSION = -12, /* file or protocol version not supported */
    CQ_ECORRUPT = -13, /* checksum or structure mismatch */
    CQ_EDENIED = -14,  /* refused by a check (risk, permission) */
    CQ_ETIMEDOUT = -15,
    CQ_ECLOSED = -16,  /* connection or object closed */
    CQ_EBUSY = -17,    /* resource in use (e.g. during a dispatch) */
};

/* A static, human-readable description of a CQ_E* code (never NULL). */
const char *cq_strerror(int err);

/* The constant's name, e.g. "CQ_ENOENT" (never NULL). */
const char *cq_errname(int err);

#endif
