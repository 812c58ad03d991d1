/*
 * binance_md_fields.h - what the two Binance market-data decoders share:
 * the fields of each kind, the order in which they are checked, and the
 * static reasons given for each problem. Private to runtime/venue.
 *
 * Only data lives here. The decoders read JSON independently (one by hand,
 * one through cJSON) so that a differential test between them means
 * something; sharing this table is what makes them report the same first
 * problem with the same words.
 */
#ifndef CQ_BINANCE_MD_FIELDS_H
#define CQ_BINANCE_MD_FIELDS_H

#include <stdint.h>

#include "cquant/error.h"

/* Every key either decoder looks at. BN_F_K* live inside the kline's "k". */
#define BN_FIELDS(X)                                                                               \
    X(STREAM, "stream")                                                                            \
    X(DATA, "data")                                                                                \
    X(e, "e")                                                                                      \
    X(E, "E")                                                                                      \
    X(s, "s")                                                                                      \
    X(U, "U")                                                                                      \
    X(u, "u")                                                                                      \
    X(b, "b")                                                                                      \
    X(a, "a")                                                                                      \
    X(B, "B")                                                                                      \
    X(A, "A")                                                                                      \
    X(t, "t")                                                                                      \
    X(p, "p")                                                                                      \
    X(q, "q")                                                                                      \
    X(T, "T")                                                                                      \
    X(m, "m")                                                                                      \
    X(f, "f")                                                                                      \
    X(l, "l")                                                                                      \
    X(k, "k")                                                                                      \
    X(LUID, "lastUpdateId")                                                                        \
    X(BIDS, "bids")                                                                                \
    X(ASKS, "asks")                                                                                \
    X(Kt, "k.t")                                                                                   \
    X(KT, "k.T")                                                                                   \
    X(Ki, "k.i")                                                                                   \
    X(Ko, "k.o")                                                                                   \
    X(Kc, "k.c")                                                                                   \
    X(Kh, "k.h")                                                                                   \
    X(Kl, "k.l")                                                                                   \
    X(Kv, "k.v")                                                                                   \
    X(Kn, "k.n")                                                                                   \
    X(Kx, "k.x")

enum {
#define BN_FIELD_ENUM(id, name) BN_F_##id,
    BN_FIELDS(BN_FIELD_ENUM)
#undef BN_FIELD_ENUM
    BN_F_COUNT_
};

/* The key as it appears in its object ("k.t" is "t" inside "k"). */
static const char *const bn_field_key[BN_F_COUNT_] = {
    "stream", "data", "e", "E", "s", "U", "u", "b", "a", "B", "A", "t", "p", "q", "T", "m",
    "f", "l", "k", "lastUpdateId", "bids", "asks",
    "t", "T", "i", "o", "c", "h", "l", "v", "n", "x",
};

/* Problems a field can have, with the code each one returns. */
#define BN_PROBLEMS(X, name)                                                                       \
    X(MISSING, CQ_EPARSE, name ": missing")                                                        \
    X(DUP, CQ_EPARSE, name ": duplicate key")                                                      \
    X(TYPE, CQ_EPARSE, name ": wrong type")                                                        \
    X(INT_FORM, CQ_EPARSE, name ": not a plain integer")                                           \
    X(INT_NEG, CQ_ERANGE, name ": negative integer")                                               \
    X(INT_RANGE, CQ_ERANGE, name ": integer out of range")                                         \
    X(INT_INEXACT, CQ_ERANGE, name ": integer above 2^53")                                         \
    X(DEC_PARSE, CQ_EPARSE, name ": bad decimal")                                                  \
    X(DEC_RANGE, CQ_ERANGE, name ": decimal out of range")                                         \
    X(DEC_NEG, CQ_ERANGE, name ": negative decimal")                                               \
    X(STR_LEN, CQ_EPARSE, name ": bad length")                                                     \
    X(STR_CHARS, CQ_EPARSE, name ": control character")                                           \
    X(LVL_SHAPE, CQ_EPARSE, name ": level is not [price, quantity]")                               \
    X(LVL_PRICE_PARSE, CQ_EPARSE, name ": bad level price")                                        \
    X(LVL_PRICE_RANGE, CQ_ERANGE, name ": level price out of range")                               \
    X(LVL_PRICE_NEG, CQ_ERANGE, name ": negative level price")                                     \
    X(LVL_QTY_PARSE, CQ_EPARSE, name ": bad level quantity")                                       \
    X(LVL_QTY_RANGE, CQ_ERANGE, name ": level quantity out of range")                              \
    X(LVL_QTY_NEG, CQ_ERANGE, name ": negative level quantity")                                    \
    X(FULL, CQ_EFULL, name ": more levels than capacity")                                          \
    X(UNKNOWN, CQ_ENOENT, name ": unknown event type")

enum {
    BN_P_NONE = 0,
#define BN_PROBLEM_ENUM(id, code, text) BN_P_##id,
    BN_PROBLEMS(BN_PROBLEM_ENUM, "")
#undef BN_PROBLEM_ENUM
    BN_P_COUNT_
};

static const int bn_problem_code[BN_P_COUNT_] = {
    0,
#define BN_PROBLEM_CODE(id, code, text) code,
    BN_PROBLEMS(BN_PROBLEM_CODE, "")
#undef BN_PROBLEM_CODE
};

/* bn_why[field][problem]: "E: missing", "b: negative level quantity"... */
static const char *const bn_why[BN_F_COUNT_][BN_P_COUNT_] = {
#define BN_PROBLEM_TEXT(id, code, text) text,
#define BN_WHY_ROW(id, name) {NULL, BN_PROBLEMS(BN_PROBLEM_TEXT, name)},
    BN_FIELDS(BN_WHY_ROW)
#undef BN_WHY_ROW
#undef BN_PROBLEM_TEXT
};

/* What a field must hold. The JSON type follows from it. */
enum {
    BN_SEM_MS = 1,  /* number: plain integer <= CQ_BN_MAX_MS */
    BN_SEM_UINT,    /* number: plain integer < 2^64 */
    BN_SEM_SYMBOL,  /* string: 1..23 bytes, no control characters */
    BN_SEM_INTERVAL,/* string: 1..7 bytes, no control characters */
    BN_SEM_EVENT,   /* string: the event name */
    BN_SEM_DEC,     /* string: non-negative cq_decimal_t */
    BN_SEM_BOOL,
    BN_SEM_LEVELS,  /* array of [price, qty] string pairs */
    BN_SEM_OBJECT,  /* the kline's "k" */
    BN_SEM_STRING   /* any string (the envelope's "stream") */
};

typedef struct bn_check {
    uint8_t field;
    uint8_t sem;
} bn_check_t;

/* Fields of each kind in checking order; the list ends at sem 0. "e" and
 * the envelope are checked before these. */
static const bn_check_t bn_checks[7][14] = {
    [1] = {{BN_F_E, BN_SEM_MS}, {BN_F_s, BN_SEM_SYMBOL}, {BN_F_U, BN_SEM_UINT},
           {BN_F_u, BN_SEM_UINT}, {BN_F_b, BN_SEM_LEVELS}, {BN_F_a, BN_SEM_LEVELS}},
    [2] = {{BN_F_E, BN_SEM_MS}, {BN_F_s, BN_SEM_SYMBOL}, {BN_F_t, BN_SEM_UINT},
           {BN_F_p, BN_SEM_DEC}, {BN_F_q, BN_SEM_DEC}, {BN_F_T, BN_SEM_MS}, {BN_F_m, BN_SEM_BOOL}},
    [3] = {{BN_F_E, BN_SEM_MS}, {BN_F_s, BN_SEM_SYMBOL}, {BN_F_a, BN_SEM_UINT},
           {BN_F_p, BN_SEM_DEC}, {BN_F_q, BN_SEM_DEC}, {BN_F_f, BN_SEM_UINT},
           {BN_F_l, BN_SEM_UINT}, {BN_F_T, BN_SEM_MS}, {BN_F_m, BN_SEM_BOOL}},
    [4] = {{BN_F_u, BN_SEM_UINT}, {BN_F_s, BN_SEM_SYMBOL}, {BN_F_b, BN_SEM_DEC},
           {BN_F_B, BN_SEM_DEC}, {BN_F_a, BN_SEM_DEC}, {BN_F_A, BN_SEM_DEC}},
    [5] = {{BN_F_E, BN_SEM_MS}, {BN_F_s, BN_SEM_SYMBOL}, {BN_F_k, BN_SEM_OBJECT},
           {BN_F_Kt, BN_SEM_MS}, {BN_F_KT, BN_SEM_MS}, {BN_F_Ki, BN_SEM_INTERVAL},
           {BN_F_Ko, BN_SEM_DEC}, {BN_F_Kc, BN_SEM_DEC}, {BN_F_Kh, BN_SEM_DEC},
           {BN_F_Kl, BN_SEM_DEC}, {BN_F_Kv, BN_SEM_DEC}, {BN_F_Kn, BN_SEM_UINT},
           {BN_F_Kx, BN_SEM_BOOL}},
    [6] = {{BN_F_LUID, BN_SEM_UINT}, {BN_F_BIDS, BN_SEM_LEVELS}, {BN_F_ASKS, BN_SEM_LEVELS}},
};

/* Event names of "e", indexed by CQ_BN_* kind. */
static const char *const bn_event_name[7] = {
    NULL, "depthUpdate", "trade", "aggTrade", NULL, "kline", NULL,
};

#endif
