/*
 * api_bus.c - bus.subscribe, bus.unsubscribe, bus.publish, and the
 * delivery of bus messages into Lua: the hot path of the host.
 *
 * A Lua subscription is a C bus handler (cq_luah_deliver) whose user
 * pointer is an lh_sub_t holding the registry reference of the Lua
 * function. Delivery passes the message as a typed FFI pointer without
 * allocating: per event type the host keeps one `const T *` cdata (a
 * "box"); C overwrites the pointer inside it (lua_topointer of a cdata is
 * its payload in LuaJIT 2.1) and calls the handler with the box. The
 * pointer is therefore valid only during the call - a handler that keeps
 * the box sees later events through it (docs/lua-api.md, "Lifetime"). The
 * previous value is restored after the call, so a handler that publishes
 * (and so re-enters the same box) still reads its own event afterwards.
 * Measured alternatives (bench_lua): the address as a number cast in Lua
 * costs the same when the JIT sinks the cast, but allocates as soon as the
 * pointer escapes; a light userdata cast in Lua costs ~10x (it allocates
 * and the JIT cannot compile the cast).
 *
 * Must never: allocate per delivered event, touch an lh_sub_t after the
 * Lua call (the handler may have unsubscribed itself, freeing it), or
 * raise a Lua error outside a protected call.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cquant/error.h"
#include "lua/lua_host.h"

static inline void **push_msg(cq_lua_t *h, lua_State *L, const void *msg, void **prev)
{
    if (!msg) {
        lua_pushnil(L);
        return NULL;
    }
    const cq_event_hdr_t *hdr = msg;
    uint32_t t = (uint32_t)hdr->type;
    if (t < LH_NBOX && h->box_slot[t]) {
        void **slot = h->box_slot[t];
        *prev = *slot;
        *slot = (void *)(uintptr_t)msg;
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->box_ref[t]);
        return slot;
    }
    if (t == CQ_EV_NONE && hdr->flags == LH_LUA_MSG_MAGIC) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, ((const lh_luamsg_t *)msg)->ref);
        return NULL;
    }
    /* Not an event this host knows: the raw address. */
    lua_pushlightuserdata(L, (void *)(uintptr_t)msg);
    return NULL;
}

void **cq_luah_push_msg(cq_lua_t *h, lua_State *L, const void *msg, void **prev)
{
    return push_msg(h, L, msg, prev);
}

void cq_luah_deliver(void *user, cq_topic_t topic, const void *msg)
{
    (void)topic;
    const lh_sub_t *sub = user;
    lh_ver_t *v = sub->ver;
    if (!v->live)
        return;
    cq_lua_t *h = v->host;
    lh_strat_t *s = v->strat;
    lua_State *L = h->cur;
    int top = lua_gettop(L);
    if (!lua_checkstack(L, 4))
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_tb);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sub->ref_fn);
    void *prev = NULL;
    void **slot = push_msg(h, L, msg, &prev);
    s->calls++;
    h->depth++;
    int rc = lua_pcall(L, 1, 0, top + 1);
    h->depth--;
    if (slot)
        *slot = prev;
    if (rc == 0)
        s->errors_in_row = 0;
    else
        cq_luah_error(h, s, L, LH_CALL_CALLBACK, "bus handler");
    lua_settop(L, top);
}

static void sub_unlink(lh_ver_t *v, lh_sub_t *sub)
{
    if (sub->prev)
        sub->prev->next = sub->next;
    else
        v->subs = sub->next;
    if (sub->next)
        sub->next->prev = sub->prev;
    v->nsubs--;
}

static void sub_free(lh_ver_t *v, lh_sub_t *sub)
{
    cq_bus_unsubscribe(v->host->env.bus, sub->id);
    luaL_unref(v->host->L, LUA_REGISTRYINDEX, sub->ref_fn);
    free(sub);
}

void cq_luah_drop_subs(lh_ver_t *v)
{
    lh_sub_t *sub = v->subs;
    while (sub) {
        lh_sub_t *next = sub->next;
        sub_free(v, sub);
        sub = next;
    }
    v->subs = NULL;
    v->nsubs = 0;
}

/* Subscribing to the bars of one instrument and spec
 * ("data.bars.BINANCE.BTCUSDT.1m", no wildcard) asks the DataEngine to build
 * them from trades: a strategy never has to configure bars separately, and
 * a spec it never asks for costs nothing. Bars already built (by another
 * subscriber, or before a reload) are kept. An unknown instrument or a bad
 * spec is not an error here: the subscription simply receives nothing. */
static void want_bars(cq_lua_t *h, const char *pattern)
{
    if (!h->env.data || strncmp(pattern, "data.bars.", 10) != 0 || strpbrk(pattern, "*?"))
        return;
    char venue[32], symbol[48], spec[32], id[96];
    if (sscanf(pattern + 10, "%31[^.].%47[^.].%31s", venue, symbol, spec) != 3)
        return;
    snprintf(id, sizeof id, "%s.%s", symbol, venue);
    uint32_t inst;
    if (cq_cache_instrument_find(h->env.cache, id, &inst) == 0)
        cq_data_add_bars(h->env.data, inst, spec, 0);
}

/* raw.subscribe(vid, pattern, fn, priority) -> id */
static int l_subscribe(lua_State *L)
{
    cq_lua_t *h = cq_luah_host(L);
    lh_ver_t *v = cq_luah_ver(h, L, 1, "bus.subscribe");
    const char *pattern = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    int prio = (int)luaL_optinteger(L, 4, 0);
    lua_pushvalue(L, 3);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lh_sub_t *sub = calloc(1, sizeof *sub);
    if (!sub) {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        return luaL_error(L, "bus.subscribe: out of memory");
    }
    sub->ver = v;
    sub->ref_fn = ref;
    int rc = cq_bus_subscribe(h->env.bus, pattern, prio, cq_luah_deliver, sub, &sub->id);
    if (rc < 0) {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        free(sub);
        return luaL_error(L, "bus.subscribe: pattern '%s': %s", pattern, cq_strerror(rc));
    }
    want_bars(h, pattern);
    sub->next = v->subs;
    if (v->subs)
        v->subs->prev = sub;
    v->subs = sub;
    v->nsubs++;
    lua_pushnumber(L, (lua_Number)sub->id);
    return 1;
}

/* raw.unsubscribe(vid, id) -> true | false (not a live subscription of
 * this strategy) */
static int l_unsubscribe(lua_State *L)
{
    cq_lua_t *h = cq_luah_host(L);
    lh_ver_t *v = cq_luah_ver(h, L, 1, "bus.unsubscribe");
    lua_Number id = luaL_checknumber(L, 2);
    for (lh_sub_t *sub = v->subs; sub; sub = sub->next) {
        if ((lua_Number)sub->id == id) {
            sub_unlink(v, sub);
            sub_free(v, sub);
            lua_pushboolean(L, 1);
            return 1;
        }
    }
    lua_pushboolean(L, 0);
    return 1;
}

/* raw.publish(vid, topic, msg, kind) -> handlers called | nil, reason.
 * kind: 0 a Lua value, 1 an event struct cdata, 2 a pointer to one (the
 * Lua side checked the type). */
static int l_publish(lua_State *L)
{
    cq_lua_t *h = cq_luah_host(L);
    cq_luah_ver(h, L, 1, "bus.publish");
    const char *topic = luaL_checkstring(L, 2);
    int kind = (int)luaL_checkinteger(L, 4);
    const void *msg;
    lh_luamsg_t lm;
    int ref = LUA_NOREF;
    if (kind == 0) {
        memset(&lm, 0, sizeof lm);
        lm.hdr.type = CQ_EV_NONE;
        lm.hdr.flags = LH_LUA_MSG_MAGIC;
        lua_pushvalue(L, 3);
        ref = luaL_ref(L, LUA_REGISTRYINDEX);
        lm.ref = ref;
        msg = &lm;
    } else {
        if (lua_type(L, 3) != LH_TCDATA)
            return luaL_error(L, "bus.publish: argument #2 (msg) must be an event struct");
        const void *p = lua_topointer(L, 3);
        msg = kind == 1 ? p : *(const void *const *)p;
    }
    lua_State *prev = h->cur;
    h->cur = L; /* handlers run on the state that published (a coroutine, maybe) */
    int rc = cq_bus_publish_name(h->env.bus, topic, msg);
    h->cur = prev;
    if (ref != LUA_NOREF)
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
    if (rc < 0) {
        lua_pushnil(L);
        lua_pushstring(L, rc == CQ_EBUSY ? "bus: too many nested publishes" : cq_strerror(rc));
        return 2;
    }
    lua_pushnumber(L, rc);
    return 1;
}

void cq_luah_open_bus(cq_lua_t *h, lua_State *L)
{
    cq_luah_setfn(h, L, "subscribe", l_subscribe);
    cq_luah_setfn(h, L, "unsubscribe", l_unsubscribe);
    cq_luah_setfn(h, L, "publish", l_publish);
}
