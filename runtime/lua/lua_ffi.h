/*
 * lua_ffi.h - the table of C functions and pointers the Lua half calls
 * through FFI (read-only accessors that never call back into Lua).
 *
 * Lua reaches them through function pointers in this struct rather than
 * ffi.C: that needs no exported symbols (-rdynamic) and works the same in
 * the executable, the tests and any embedding. Anything that can call back
 * into Lua (a publish, an order event) must not be here: it is a
 * lua_CFunction instead (api_bus.c, api_exec.c), because LuaJIT cannot be
 * re-entered from a C function called through FFI.
 *
 * The struct is between CQ_FFI markers: the build adds it to the cdef.
 */
#ifndef CQ_LUA_FFI_H
#define CQ_LUA_FFI_H

#include <stddef.h>
#include <stdint.h>

#include "cquant/book.h"
#include "cquant/cache.h"
#include "cquant/data_engine.h"
#include "cquant/event.h"
#include "cquant/log.h"

/* CQ_FFI_BEGIN */
typedef struct cq_lua_ffi {
    struct cq_cache *cache;
    const struct cq_data_engine *data;  /* NULL: no books */
    const int64_t *clock;
    const cq_log_t *log;                /* NULL: WARN and above to stderr */
    cq_order_t *(*cache_order)(const struct cq_cache *cache, const char *client_order_id);
    long (*cache_orders)(const struct cq_cache *cache, const cq_order_query_t *q, cq_order_t **out,
                         size_t cap);
    int (*cache_instrument_find)(const struct cq_cache *cache, const char *id, uint32_t *handle);
    const cq_instrument_t *(*cache_instrument)(const struct cq_cache *cache, uint32_t handle);
    const char *(*cache_instrument_name)(const struct cq_cache *cache, uint32_t handle);
    int (*cache_strategy_find)(const struct cq_cache *cache, const char *name, uint32_t *handle);
    const char *(*cache_strategy_name)(const struct cq_cache *cache, uint32_t handle);
    int (*cache_position_get)(struct cq_cache *cache, uint32_t instrument, uint32_t strategy,
                              cq_position_t **out);
    const cq_quote_t *(*cache_quote)(const struct cq_cache *cache, uint32_t instrument);
    const cq_trade_t *(*cache_trade)(const struct cq_cache *cache, uint32_t instrument);
    const struct cq_book *(*data_book)(const struct cq_data_engine *de, uint32_t instrument);
    int (*data_book_valid)(const struct cq_data_engine *de, uint32_t instrument);
    int (*book_depth_levels)(const struct cq_book *b, int32_t side, cq_book_level_t *out, size_t max,
                             size_t *count);
    int (*book_top)(const struct cq_book *b, cq_book_event_t *ev);
    void (*log_write)(const cq_log_t *log, int level, const char *module, const char *msg);
    const char *(*strerror)(int err);
} cq_lua_ffi_t;
/* CQ_FFI_END */

#endif
