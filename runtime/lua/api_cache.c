/*
 * api_cache.c - what cache.* (and the event methods of cquant.types) read:
 * the cq_lua_ffi_t table of function pointers the Lua half calls through
 * FFI. cache.order, cache.orders, cache.position, cache.book, cache.top,
 * cache.quote, cache.trade and cache.instrument are written in Lua
 * (lua/cquant/api.lua) on top of these.
 *
 * Every function here is a read (or, for cache_position_get, the creation
 * of a flat position) that never publishes and never calls back into Lua:
 * that is what makes calling it through FFI, from compiled code, safe.
 */
#include "cquant/book.h"
#include "cquant/cache.h"
#include "cquant/data_engine.h"
#include "cquant/error.h"
#include "lua/lua_host.h"

void cq_luah_fill_ffi(cq_lua_t *h)
{
    cq_lua_ffi_t *f = &h->ffi;
    f->cache = h->env.cache;
    f->data = h->env.data;
    f->clock = h->env.clock;
    f->log = h->env.log;
    f->cache_order = cq_cache_order;
    f->cache_orders = cq_cache_orders;
    f->cache_instrument_find = cq_cache_instrument_find;
    f->cache_instrument = cq_cache_instrument;
    f->cache_instrument_name = cq_cache_instrument_name;
    f->cache_strategy_find = cq_cache_strategy_find;
    f->cache_strategy_name = cq_cache_strategy_name;
    f->cache_position_get = cq_cache_position_get;
    f->cache_quote = cq_cache_quote;
    f->cache_trade = cq_cache_trade;
    f->data_book = cq_data_book;
    f->data_book_valid = cq_data_book_valid;
    f->book_depth_levels = cq_book_depth_levels;
    f->book_top = cq_book_top;
    f->log_write = cq_luah_log_write;
    f->strerror = cq_strerror;
}
