/*
 * lua_host.h - the strategy host's internals, shared by the files of
 * runtime/lua/ (host.c and the api_<area>.c files; the Lua name of a
 * function tells which file: bus.subscribe is in api_bus.c).
 *
 * Objects:
 *   cq_lua_t    the host: one lua_State, the env pointers, the event boxes,
 *               every strategy and every version ever loaded.
 *   lh_strat_t  one strategy: name, file, params, state, counters, and the
 *               routing subscriptions (events.order/fill/position.<NAME>)
 *               that live as long as the strategy, across reloads.
 *   lh_ver_t    one version of a strategy's code: its environment, its
 *               returned table S, its bus subscriptions and timers, the
 *               files it was built from. A version is "live" while its
 *               callbacks may run; a reload suspends the old one while the
 *               new one is built. Version structs are never freed before
 *               the host (a reload is rare, a struct is small): a closure
 *               of an old version that survives (in state passed to
 *               on_reload, say) finds its version marked dead instead of
 *               freed memory.
 *   lh_sub_t, lh_timer_t  one Lua function registered with the bus or the
 *               timers; the C side's `user` pointer.
 */
#ifndef CQ_LUA_HOST_H
#define CQ_LUA_HOST_H

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "cquant/strategy.h"
#include "lua/lua_ffi.h"

/* hdr.flags of a Lua value published on the bus (hdr.type is CQ_EV_NONE). */
#define LH_LUA_MSG_MAGIC 0x4C55414Du

/* LuaJIT's lua_type() of a cdata (not in lua.h). */
#define LH_TCDATA 10

typedef struct lh_ver lh_ver_t;
typedef struct lh_strat lh_strat_t;

typedef struct lh_luamsg {
    cq_event_hdr_t hdr;
    int ref;                  /* registry reference of the value */
} lh_luamsg_t;

typedef struct lh_sub {
    lh_ver_t *ver;
    int ref_fn;
    cq_sub_t id;
    struct lh_sub *prev, *next;
} lh_sub_t;

typedef struct lh_timer {
    lh_ver_t *ver;
    int ref_fn;
    cq_timer_id_t id;
    int periodic;
    struct lh_timer *prev, *next;
} lh_timer_t;

struct lh_ver {
    cq_lua_t *host;
    lh_strat_t *strat;
    uint32_t id;              /* index in host->vers: what Lua passes back */
    int live;                 /* callbacks may run */
    int dead;                 /* dropped: its API raises */
    int ref_env;
    int ref_S;
    lh_sub_t *subs;
    uint32_t nsubs;
    lh_timer_t *timers;
    uint32_t ntimers;
    char **files;             /* [0] = the strategy file, then required modules */
    size_t nfiles, capfiles;
};

struct lh_strat {
    cq_lua_t *host;
    uint32_t handle;          /* the cache's strategy handle = the API's id */
    char name[64];
    char *path;
    char **params;            /* "k=v" copies */
    size_t nparams;
    int32_t state;            /* CQ_STRAT_* */
    uint32_t version;
    lh_ver_t *cur;
    cq_sub_t route[3];        /* events.order / fill / position.<NAME> */
    uint64_t calls;
    uint64_t errors;
    uint32_t errors_in_row;
    uint32_t reload_failures;
    char last_error[256];
    /* The reason of this strategy's latest DENIED/REJECTED order event:
     * exec.submit prefers it to cq_exec_last_reason, which a nested call
     * made from on_order may have overwritten. */
    char deny_id[40];
    char deny_reason[64];
};

/* How many boxes: one per CQ_EV_* type. */
#define LH_NBOX CQ_EV_COUNT_

struct cq_lua {
    lua_State *L;             /* the main state */
    lua_State *cur;           /* the state nested callbacks run on (see api_bus.c) */
    cq_lua_env_t env;
    cq_lua_config_t cfg;
    cq_lua_ffi_t ffi;
    int ref_tb;               /* the traceback handler */
    int ref_host;             /* the table cquant.host returned */
    int ref_repl;             /* the shared REPL environment */
    /* Per event type a persistent `const T *` cdata whose payload C
     * overwrites before each call (api_bus.c). */
    int box_ref[LH_NBOX];
    void **box_slot[LH_NBOX];
    lh_strat_t **strats;
    size_t nstrats, capstrats;
    lh_ver_t **vers;          /* [0] unused: version id 0 is the REPL */
    size_t nvers, capvers;
    int depth;                /* callbacks in progress */
    int ref_key[7];           /* the callback names (LH_KEY_*), interned once:
                                 looking one up never allocates */
};

enum {
    LH_KEY_ON_ORDER = 0,
    LH_KEY_ON_FILL = 1,
    LH_KEY_ON_POSITION = 2,
    LH_KEY_ON_START = 3,
    LH_KEY_ON_STOP = 4,
    LH_KEY_ON_SAVE = 5,
    LH_KEY_ON_RELOAD = 6
};

/* Modes of cq_luah_pcall. */
enum {
    LH_CALL_QUIET = 0,        /* no log, no count (the REPL) */
    LH_CALL_LIFECYCLE = 1,    /* logged and counted; never fails the strategy */
    LH_CALL_CALLBACK = 2      /* also errors_in_row: max_errors fails it */
};

/* ---- host.c ---------------------------------------------------------------- */

/* Call the function below nargs arguments on L's stack in protected mode,
 * with the traceback handler. On error the message (without the traceback)
 * goes to err (may be NULL) and, by mode (LH_CALL_*), it is logged with
 * the traceback under s's name and counted on s (s may be NULL). Leaves
 * nres results on success, nothing on error. Returns the lua_pcall code. */
int cq_luah_pcall(cq_lua_t *h, lh_strat_t *s, lua_State *L, int nargs, int nres, int mode,
                  const char *what, char *err, size_t errlen);

/* The error message at the top of the stack after a failed pcall (with the
 * traceback handler): log it, count it on s, and by mode fail s after
 * max_errors in a row. Leaves the stack as it was. */
void cq_luah_error(cq_lua_t *h, lh_strat_t *s, lua_State *L, int mode, const char *what);

/* The version of id at Lua stack index idx; raises a Lua error when the id
 * is unknown or the version dead (fn names the API function). */
lh_ver_t *cq_luah_ver(cq_lua_t *h, lua_State *L, int idx, const char *fn);

/* The host of a C closure (upvalue 1). */
cq_lua_t *cq_luah_host(lua_State *L);

/* Add name = C closure (with the host as upvalue) to the table on top. */
void cq_luah_setfn(cq_lua_t *h, lua_State *L, const char *name, lua_CFunction fn);

/* ---- api_bus.c -------------------------------------------------------------- */
void cq_luah_open_bus(cq_lua_t *h, lua_State *L);
/* The bus handler of a Lua subscription (user = lh_sub_t). */
void cq_luah_deliver(void *user, cq_topic_t topic, const void *msg);
/* Push the Lua view of a bus message: the box of its type pointing at it,
 * a published Lua value, or a light userdata. Returns the box slot that was
 * overwritten (restore *slot = *prev after the call) or NULL. */
void **cq_luah_push_msg(cq_lua_t *h, lua_State *L, const void *msg, void **prev);
/* Unsubscribe and free every subscription of v. */
void cq_luah_drop_subs(lh_ver_t *v);

/* ---- api_exec.c ------------------------------------------------------------- */
void cq_luah_open_exec(cq_lua_t *h, lua_State *L);
/* Subscribe s to events.order/fill/position.<NAME> (kept across reloads). */
int cq_luah_route(lh_strat_t *s);
void cq_luah_unroute(lh_strat_t *s);

/* ---- api_timer.c ------------------------------------------------------------ */
void cq_luah_open_timer(cq_lua_t *h, lua_State *L);
void cq_luah_drop_timers(lh_ver_t *v);

/* ---- api_cache.c, api_log.c: FFI accessors ------------------------------------ */
void cq_luah_fill_ffi(cq_lua_t *h);
void cq_luah_log_write(const cq_log_t *log, int level, const char *module, const char *msg);

#endif
