/*
 * test_lua_ffi_layout.c - the structs Lua sees have the same layout in
 * LuaJIT as in C: sizeof, alignment, and the offset and size of every
 * field, nested and anonymous-union members included.
 *
 * Nothing is listed by hand. The build generates cq_ffi_layout.h
 * (scripts/ffi_layout_gen.c + lua/cquant/layout.lua): one entry per struct
 * and per field of everything the generated ffi.cdef declares, with C's
 * offsetof/sizeof compiled here. This test recomputes LuaJIT's side at run
 * time and compares, and checks the table covers every field LuaJIT knows
 * (so it cannot go stale).
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "cquant/binance_md.h"
#include "cquant/cache.h"
#include "cquant/cqd.h"
#include "cquant/decimal.h"
#include "cquant/event.h"
#include "cquant/exec.h"
#include "cquant/log.h"
#include "cquant/venue.h"
#include "lua/lua_embed.h"
#include "lua/lua_ffi.h"
#include "support/cq_test.h"

#include "cq_ffi_layout.h"

/* A state with the cdef and cquant.layout as global `layout`. */
static lua_State *state(void)
{
    lua_State *L = luaL_newstate();
    ck_assert_ptr_nonnull(L);
    luaL_openlibs(L);
    lua_getglobal(L, "require");
    lua_pushstring(L, "ffi");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "cdef");
    lua_pushlstring(L, cq_lua_cdef, cq_lua_cdef_len);
    if (lua_pcall(L, 1, 0, 0) != 0)
        ck_abort_msg("cdef: %s", lua_tostring(L, -1));
    lua_setglobal(L, "ffi");
    for (const cq_lua_embedded_t *m = cq_lua_modules; m->name; m++) {
        if (strcmp(m->name, "cquant.layout") == 0) {
            ck_assert_int_eq(luaL_loadbuffer(L, m->src, m->len, m->chunk), 0);
            lua_call(L, 0, 1);
            lua_setglobal(L, "layout");
        }
    }
    const char *prep =
        "lua_layout = {}\n"
        "for _, t in ipairs(layout.structs()) do\n"
        "  local ct = ffi.typeof(t)\n"
        "  lua_layout[t .. '|'] = { ffi.alignof(ct), ffi.sizeof(ct) }\n"
        "  for _, f in ipairs(layout.fields(t)) do\n"
        "    lua_layout[t .. '|' .. f.path] = { f.offset, f.size }\n"
        "    if not f.path:find('.', 1, true) then\n" /* cross-check with the public API */
        "      assert(ffi.offsetof(ct, f.path) == f.offset, t .. '.' .. f.path)\n"
        "    end\n"
        "  end\n"
        "end\n"
        "lua_count = 0 for _ in pairs(lua_layout) do lua_count = lua_count + 1 end\n";
    if (luaL_dostring(L, prep) != 0)
        ck_abort_msg("layout: %s", lua_tostring(L, -1));
    return L;
}

START_TEST(test_lua_ffi_every_field_has_the_same_offset_and_size_in_c_and_luajit)
{
    lua_State *L = state();
    size_t checked = 0;
    for (size_t i = 0; i < CQ_FFI_LAYOUT_COUNT; i++) {
        const cq_ffi_layout_entry_t *e = &cq_ffi_layout[i];
        char key[200];
        snprintf(key, sizeof key, "%s|%s", e->type, e->field);
        lua_getglobal(L, "lua_layout");
        lua_getfield(L, -1, key);
        ck_assert_msg(lua_istable(L, -1), "%s: not in LuaJIT's layout", key);
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        size_t lo = (size_t)lua_tonumber(L, -2), ls = (size_t)lua_tonumber(L, -1);
        lua_pop(L, 4);
        if (e->field[0])
            ck_assert_msg(e->c_offset == lo && e->c_size == ls, "%s.%s: C offset %zu size %zu, LuaJIT %zu %zu",
                          e->type, e->field, e->c_offset, e->c_size, lo, ls);
        else
            ck_assert_msg(e->c_offset == lo && e->c_size == ls, "%s: C align %zu size %zu, LuaJIT %zu %zu",
                          e->type, e->c_offset, e->c_size, lo, ls);
        /* the values recorded at build time agree too */
        ck_assert_msg(e->lua_offset == lo && e->lua_size == ls, "%s: stale table", key);
        checked++;
    }
    ck_assert_uint_eq(checked, CQ_FFI_LAYOUT_COUNT);
    lua_close(L);
}
END_TEST

START_TEST(test_lua_ffi_layout_table_covers_every_struct_and_field)
{
    lua_State *L = state();
    lua_getglobal(L, "lua_count");
    ck_assert_uint_eq((size_t)lua_tonumber(L, -1), CQ_FFI_LAYOUT_COUNT);
    lua_close(L);
    /* the structs Lua works with are all there (the table is not empty by accident) */
    static const char *const must[] = {"cq_event_hdr_t", "cq_trade_t", "cq_quote_t", "cq_book_event_t",
                                       "cq_bar_t", "cq_instrument_t", "cq_order_t", "cq_order_event_t",
                                       "cq_fill_t", "cq_position_t", "cq_balance_t", "cq_venue_event_t",
                                       "cq_exec_response_t", "cq_cqd_record_t", "cq_order_query_t",
                                       "cq_log_t", "cq_lua_ffi_t", "cq_exec_report_t"};
    for (size_t k = 0; k < sizeof must / sizeof must[0]; k++) {
        int found = 0;
        for (size_t i = 0; i < CQ_FFI_LAYOUT_COUNT; i++)
            found |= strcmp(cq_ffi_layout[i].type, must[k]) == 0 && cq_ffi_layout[i].field[0] == '\0';
        ck_assert_msg(found, "%s missing from the layout table", must[k]);
    }
    /* nested and anonymous-union members are covered */
    int nested = 0, anon = 0;
    for (size_t i = 0; i < CQ_FFI_LAYOUT_COUNT; i++) {
        nested |= strcmp(cq_ffi_layout[i].type, "cq_trade_t") == 0 &&
                  strcmp(cq_ffi_layout[i].field, "hdr.ts_event") == 0;
        anon |= strcmp(cq_ffi_layout[i].type, "cq_cqd_record_t") == 0 &&
                strcmp(cq_ffi_layout[i].field, "quote.update_id") == 0;
    }
    ck_assert(nested && anon);
}
END_TEST

/* The delivery design rests on this: lua_topointer of a pointer cdata is
 * its payload, where the pointer value lives (LuaJIT 2.1). */
START_TEST(test_lua_ffi_topointer_of_a_pointer_cdata_is_its_payload)
{
    lua_State *L = state();
    ck_assert_int_eq(luaL_dostring(L, "box = ffi.new('const cq_trade_t *')"), 0);
    lua_getglobal(L, "box");
    void **slot = (void **)(uintptr_t)lua_topointer(L, -1);
    lua_pop(L, 1);
    ck_assert_ptr_null(*slot);
    cq_trade_t t;
    memset(&t, 0, sizeof t);
    t.price = 123.5;
    t.hdr.instrument = 9;
    *slot = &t;
    ck_assert_int_eq(luaL_dostring(L, "return box.price, box.hdr.instrument"), 0);
    ck_assert(lua_tonumber(L, -2) == 123.5);
    ck_assert(lua_tonumber(L, -1) == 9);
    lua_close(L);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lua_ffi_layout");
    TCase *tc = tcase_create("layout");
    tcase_add_test(tc, test_lua_ffi_every_field_has_the_same_offset_and_size_in_c_and_luajit);
    tcase_add_test(tc, test_lua_ffi_layout_table_covers_every_struct_and_field);
    tcase_add_test(tc, test_lua_ffi_topointer_of_a_pointer_cdata_is_its_payload);
    suite_add_tcase(s, tc);
    return cq_test_run(s);
}
