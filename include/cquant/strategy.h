/*
 * strategy.h - the Lua strategy host: one LuaJIT state running any number
 * of strategies, each in its own environment, against the runtime's bus,
 * cache, ExecutionEngine, timers and clock.
 *
 * A strategy is a Lua file that returns a table (docs/lua-api.md). The host
 * loads it, gives it the API (bus, exec, cache, clock, timer, log, params),
 * calls its callbacks with every error caught (logged with a traceback,
 * counted; after max_errors in a row the strategy is stopped), routes its
 * orders' events to on_order / on_fill whatever version of its code is
 * loaded, and reloads it from its file on request (hot reload: compile,
 * on_save, drop subscriptions and timers, run the new chunk, on_reload;
 * any failure keeps the old version running).
 *
 * Events reach Lua as typed FFI pointers into C memory, valid for the
 * duration of the call; delivery allocates nothing in steady state.
 *
 * The host never lets a strategy crash the runtime: every entry into Lua is
 * a protected call, and the Lua state is only ever entered from the
 * runtime's thread.
 */
#ifndef CQUANT_STRATEGY_H
#define CQUANT_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/bus.h"
#include "cquant/cache.h"
#include "cquant/data_engine.h"
#include "cquant/exec.h"
#include "cquant/log.h"
#include "cquant/timer.h"

/* What strategies reach. bus, cache, exec, timers and clock are required. */
typedef struct cq_lua_env {
    cq_bus_t *bus;
    cq_cache_t *cache;
    cq_exec_t *exec;
    cq_timers_t *timers;
    cq_data_engine_t *data;   /* books for cache.book(); may be NULL (no books) */
    const int64_t *clock;     /* the runtime's current time, ns since the epoch */
    const cq_log_t *log;      /* may be NULL */
} cq_lua_env_t;

typedef struct cq_lua_config {
    uint32_t max_errors;      /* callback errors in a row before a strategy is stopped (0 = 10) */
    int cancel_on_stop;       /* 1: a strategy stopped for errors has its open orders cancelled */
} cq_lua_config_t;

enum {
    CQ_STRAT_LOADED = 1,      /* loaded, on_start not called yet */
    CQ_STRAT_RUNNING = 2,
    CQ_STRAT_STOPPED = 3,     /* cq_lua_stop, or on_start failed */
    CQ_STRAT_FAILED = 4       /* stopped after max_errors errors in a row */
};

typedef struct cq_lua_info {
    int32_t state;            /* CQ_STRAT_* */
    uint32_t version;         /* 1 after load, +1 per successful reload */
    uint64_t calls;           /* callbacks made */
    uint64_t errors;          /* callback errors, total */
    uint32_t errors_in_row;
    uint32_t subscriptions;   /* live bus subscriptions made by the strategy */
    uint32_t timers;          /* live timers */
    uint32_t reload_failures;
    char last_error[256];     /* "" if none */
} cq_lua_info_t;

typedef struct cq_lua cq_lua_t;

int cq_lua_create(cq_lua_t **out, const cq_lua_env_t *env, const cq_lua_config_t *cfg);
/* Stops every strategy (on_stop), frees the state. Call it before the
 * bus, timers and ExecutionEngine are destroyed: it unsubscribes and
 * cancels its timers. */
void cq_lua_destroy(cq_lua_t *L);

/* Load a strategy file under a name (interned as the strategy in the cache;
 * it names its topics events.order.<NAME>...). params: "key=value" strings,
 * NULL-terminated (or NULL); a value that reads as a number becomes a Lua
 * number. The chunk runs now (its top level), on_start is not called.
 * CQ_EEXIST (name taken), CQ_EIO (cannot read), CQ_EPARSE (syntax error),
 * CQ_ESTATE (the chunk raised an error or did not return a table),
 * CQ_EINVAL. err gets "file:line: message" (may be NULL). */
int cq_lua_load(cq_lua_t *L, const char *path, const char *name, const char *const *params,
                uint32_t *strategy, char *err, size_t errlen);
/* Call on_start (if any). A failing on_start stops the strategy: CQ_ESTATE. */
int cq_lua_start(cq_lua_t *L, uint32_t strategy, char *err, size_t errlen);
/* Hot reload from the strategy's file (and the strategies/ modules it
 * required). Any failure (cannot read, syntax error, error in the new
 * chunk or in its on_reload) keeps the old version running and returns the
 * error with "file:line: message" in err. 0 when the new code runs.
 * Order: compile, old on_save(), new chunk, new on_reload(state), then new
 * on_start() if the strategy is running (so the new code makes its own
 * subscriptions); the old version's subscriptions and timers are dropped
 * only after all of that succeeded. CQ_EIO, CQ_EPARSE, CQ_ESTATE, CQ_ENOENT,
 * CQ_EBUSY (called from inside a callback). err may be NULL. */
int cq_lua_reload(cq_lua_t *L, uint32_t strategy, char *err, size_t errlen);
/* on_stop, then drop subscriptions and timers. Orders are left as they are. */
int cq_lua_stop(cq_lua_t *L, uint32_t strategy);
int cq_lua_info(const cq_lua_t *L, uint32_t strategy, cq_lua_info_t *out);
/* The files a strategy's code came from (its file first, then the modules
 * it required), for a file watcher; *count gets how many; NULL-terminated.
 * NULL if unknown. Valid until the next reload, stop of a failed load, or
 * destroy. */
const char *const *cq_lua_files(const cq_lua_t *L, uint32_t strategy, size_t *count);
/* Evaluate a chunk in a strategy's environment (strategy 0: a shared REPL
 * environment) and write its results, tostring'd and tab-separated, to out.
 * Errors as for cq_lua_load. For the REPL and tests. */
int cq_lua_eval(cq_lua_t *L, uint32_t strategy, const char *code, char *out, size_t outlen);

#endif
