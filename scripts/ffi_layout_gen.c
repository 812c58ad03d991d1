/*
 * ffi_layout_gen.c - build-time tool: loads the generated ffi.cdef text
 * (the CQ_FFI blocks of the headers) into LuaJIT and writes the C table of
 * every struct's and field's layout (lua/cquant/layout.lua, c_table) to
 * the file named by argv[1]. tests/test_lua_ffi_layout.c compiles the
 * table and compares C with LuaJIT field by field.
 */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua/lua_embed.h"

static int gen(lua_State *L)
{
    luaL_openlibs(L);
    lua_getglobal(L, "require");
    lua_pushstring(L, "ffi");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "cdef");
    lua_pushlstring(L, cq_lua_cdef, cq_lua_cdef_len);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    for (const cq_lua_embedded_t *m = cq_lua_modules; m->name; m++) {
        if (strcmp(m->name, "cquant.layout") != 0)
            continue;
        if (luaL_loadbuffer(L, m->src, m->len, m->chunk) != 0)
            return lua_error(L);
        lua_call(L, 0, 1);
        lua_getfield(L, -1, "c_table");
        lua_call(L, 0, 1);
        return 1;
    }
    return luaL_error(L, "cquant.layout is not embedded");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: cq_ffi_layout_gen OUT.h\n");
        return 2;
    }
    lua_State *L = luaL_newstate();
    if (!L)
        return 1;
    lua_pushcfunction(L, gen);
    if (lua_pcall(L, 0, 1, 0) != 0) {
        fprintf(stderr, "cq_ffi_layout_gen: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    size_t n;
    const char *text = lua_tolstring(L, -1, &n);
    FILE *f = fopen(argv[1], "w");
    if (!f || fwrite(text, 1, n, f) != n || fclose(f) != 0) {
        perror(argv[1]);
        lua_close(L);
        return 1;
    }
    lua_close(L);
    return 0;
}
