/*
 * api_timer.c - timer.after, timer.every, timer.cancel on the runtime's
 * timers (timer.h), due at *clock + ms * 1e6 ns.
 *
 * Each Lua timer is an lh_timer_t (the cq_timer's user pointer) holding the
 * registry reference of the function, linked into its version so that a
 * reload or a stop drops it. A one-shot timer is unlinked and freed before
 * its function runs (so the function cancelling it finds nothing); a
 * periodic one may cancel itself from inside its function, so nothing
 * touches the record after the call.
 *
 * Must never: raise a Lua error outside a protected call; let a strategy
 * cancel another's timer.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cquant/error.h"
#include "lua/lua_host.h"

static void timer_unlink(lh_ver_t *v, lh_timer_t *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        v->timers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    v->ntimers--;
}

static void timer_fire(void *user, cq_timer_id_t id, int64_t now)
{
    lh_timer_t *t = user;
    lh_ver_t *v = t->ver;
    cq_lua_t *h = v->host;
    lh_strat_t *s = v->strat;
    lua_State *L = h->cur;
    int top = lua_gettop(L);
    if (!lua_checkstack(L, 5))
        return;
    int live = v->live;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_tb);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref_fn);
    if (!t->periodic) { /* done: the stack keeps the function alive */
        timer_unlink(v, t);
        luaL_unref(L, LUA_REGISTRYINDEX, t->ref_fn);
        free(t);
    }
    if (!live) {
        lua_settop(L, top);
        return;
    }
    lua_pushnumber(L, (lua_Number)now);
    lua_pushnumber(L, (lua_Number)id);
    s->calls++;
    h->depth++;
    int rc = lua_pcall(L, 2, 0, top + 1);
    h->depth--;
    if (rc == 0)
        s->errors_in_row = 0;
    else
        cq_luah_error(h, s, L, LH_CALL_CALLBACK, "timer");
    lua_settop(L, top);
}

void cq_luah_drop_timers(lh_ver_t *v)
{
    cq_lua_t *h = v->host;
    lh_timer_t *t = v->timers;
    while (t) {
        lh_timer_t *next = t->next;
        cq_timer_cancel(h->env.timers, t->id);
        luaL_unref(h->L, LUA_REGISTRYINDEX, t->ref_fn);
        free(t);
        t = next;
    }
    v->timers = NULL;
    v->ntimers = 0;
}

/* raw.timer(vid, ms, periodic, fn) -> id */
static int l_timer(lua_State *L)
{
    cq_lua_t *h = cq_luah_host(L);
    int periodic = lua_toboolean(L, 3);
    const char *fname = periodic ? "timer.every" : "timer.after";
    lh_ver_t *v = cq_luah_ver(h, L, 1, fname);
    double ms = luaL_checknumber(L, 2);
    luaL_checktype(L, 4, LUA_TFUNCTION);
    double ns = ms * 1e6;
    if (!(ns >= 0 && ns < 4e18))
        return luaL_error(L, "%s: ms out of range", fname);
    int64_t d = (int64_t)(ns + 0.5);
    if (periodic && d < 1)
        return luaL_error(L, "%s: the period rounds to 0 ns", fname);
    int64_t now = *h->env.clock;
    if (now > INT64_MAX - d)
        return luaL_error(L, "%s: due time out of range", fname);
    lua_pushvalue(L, 4);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lh_timer_t *t = calloc(1, sizeof *t);
    if (!t) {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        return luaL_error(L, "%s: out of memory", fname);
    }
    t->ver = v;
    t->ref_fn = ref;
    t->periodic = periodic;
    int rc = cq_timer_start(h->env.timers, now + d, periodic ? d : 0, timer_fire, t, &t->id);
    if (rc < 0) {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        free(t);
        return luaL_error(L, "%s: %s", fname, cq_strerror(rc));
    }
    t->next = v->timers;
    if (v->timers)
        v->timers->prev = t;
    v->timers = t;
    v->ntimers++;
    lua_pushnumber(L, (lua_Number)t->id);
    return 1;
}

/* raw.timer_cancel(vid, id) -> true | false (not a live timer of this
 * strategy). Linear in the strategy's live timers. */
static int l_timer_cancel(lua_State *L)
{
    cq_lua_t *h = cq_luah_host(L);
    lh_ver_t *v = cq_luah_ver(h, L, 1, "timer.cancel");
    lua_Number id = luaL_checknumber(L, 2);
    for (lh_timer_t *t = v->timers; t; t = t->next) {
        if ((lua_Number)t->id == id) {
            cq_timer_cancel(h->env.timers, t->id);
            timer_unlink(v, t);
            luaL_unref(L, LUA_REGISTRYINDEX, t->ref_fn);
            free(t);
            lua_pushboolean(L, 1);
            return 1;
        }
    }
    lua_pushboolean(L, 0);
    return 1;
}

void cq_luah_open_timer(cq_lua_t *h, lua_State *L)
{
    cq_luah_setfn(h, L, "timer", l_timer);
    cq_luah_setfn(h, L, "timer_cancel", l_timer_cancel);
}
