/*
 * api_exec.c - exec.submit, exec.cancel, exec.modify, exec.cancel_all, and
 * the routing of a strategy's order events to its on_order / on_fill /
 * on_position.
 *
 * The exec functions call the ExecutionEngine directly (cq_exec_submit...)
 * with hdr.strategy = the calling strategy and now = the runtime clock.
 * They are lua_CFunctions, not FFI calls, because the engine publishes
 * order events synchronously and those call back into Lua.
 *
 * Routing: the host subscribes once per strategy to
 * events.order.<NAME>, events.fill.<NAME> and events.position.<NAME>; the
 * subscription lives as long as the strategy, across reloads, and calls the
 * callback of whatever version is current. That is how an order placed by
 * one version has its fill reported to the next.
 *
 * Must never: let a strategy cancel or modify another strategy's orders.
 */
#include <stdio.h>
#include <string.h>

#include "cquant/error.h"
#include "lua/lua_host.h"

/* The reason of a refused exec call: the one captured from this strategy's
 * own DENIED/REJECTED event when it is about this order (a nested call from
 * on_order may have overwritten the engine's), else the engine's. */
static const char *reason_of(cq_lua_t *h, const lh_strat_t *s, const char *id, int rc)
{
    const char *r = NULL;
    if (id && id[0] && s && strcmp(s->deny_id, id) == 0 && s->deny_reason[0])
        r = s->deny_reason;
    if (!r || !*r)
        r = cq_exec_last_reason(h->env.exec);
    if (!r || !*r)
        r = cq_strerror(rc);
    return r;
}

/* raw.submit(vid, draft) -> id | nil, reason, id */
static int l_submit(lua_State *L)
{
    cq_lua_t *h = cq_luah_host(L);
    lh_ver_t *v = cq_luah_ver(h, L, 1, "exec.submit");
    if (lua_type(L, 2) != LH_TCDATA)
        return luaL_error(L, "exec.submit: the draft must be a cq_order_t");
    cq_order_t d;
    memcpy(&d, lua_topointer(L, 2), sizeof d);
    lh_strat_t *s = v->strat;
    d.hdr.strategy = s->handle;
    char id[40] = "";
    s->deny_id[0] = '\0';
    lua_State *prev = h->cur;
    h->cur = L;
    int rc = cq_exec_submit(h->env.exec, &d, *h->env.clock, id);
    h->cur = prev;
    if (rc == 0) {
        lua_pushstring(L, id);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, reason_of(h, s, id, rc));
    if (id[0])
        lua_pushstring(L, id);
    else
        lua_pushnil(L);
    return 3;
}

/* The order of id if it is the calling strategy's; else pushes nil, reason. */
static const cq_order_t *own_order(lua_State *L, cq_lua_t *h, const lh_strat_t *s, const char *id)
{
    const cq_order_t *o = cq_cache_order(h->env.cache, id);
    if (!o) {
        lua_pushnil(L);
        lua_pushfstring(L, "unknown order %s", id);
        return NULL;
    }
    if (o->hdr.strategy != s->handle) {
        lua_pushnil(L);
        lua_pushfstring(L, "order %s belongs to another strategy", id);
        return NULL;
    }
    return o;
}

/* raw.cancel(vid, id) -> true | nil, reason */
static int l_cancel(lua_State *L)
{
    cq_lua_t *h = cq_luah_host(L);
    lh_ver_t *v = cq_luah_ver(h, L, 1, "exec.cancel");
    const char *id = luaL_checkstring(L, 2);
    if (!own_order(L, h, v->strat, id))
        return 2;
    lua_State *prev = h->cur;
    h->cur = L;
    int rc = cq_exec_cancel(h->env.exec, id, *h->env.clock);
    h->cur = prev;
    if (rc == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, reason_of(h, NULL, NULL, rc));
    return 2;
}

/* raw.modify(vid, id, price, qty) -> true | nil, reason (0 = unchanged) */
static int l_modify(lua_State *L)
{
    cq_lua_t *h = cq_luah_host(L);
    lh_ver_t *v = cq_luah_ver(h, L, 1, "exec.modify");
    const char *id = luaL_checkstring(L, 2);
    double price = luaL_checknumber(L, 3), qty = luaL_checknumber(L, 4);
    if (!own_order(L, h, v->strat, id))
        return 2;
    lua_State *prev = h->cur;
    h->cur = L;
    int rc = cq_exec_modify(h->env.exec, id, price, qty, *h->env.clock);
    h->cur = prev;
    if (rc == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, reason_of(h, NULL, NULL, rc));
    return 2;
}

/* raw.cancel_all(vid, instrument) -> cancels sent | nil, reason, sent */
static int l_cancel_all(lua_State *L)
{
    cq_lua_t *h = cq_luah_host(L);
    lh_ver_t *v = cq_luah_ver(h, L, 1, "exec.cancel_all");
    uint32_t inst = (uint32_t)luaL_checknumber(L, 2);
    size_t n = 0;
    lua_State *prev = h->cur;
    h->cur = L;
    int rc = cq_exec_cancel_all(h->env.exec, inst, v->strat->handle, *h->env.clock, &n);
    h->cur = prev;
    if (rc == 0) {
        lua_pushnumber(L, (lua_Number)n);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, reason_of(h, NULL, NULL, rc));
    lua_pushnumber(L, (lua_Number)n);
    return 3;
}

void cq_luah_open_exec(cq_lua_t *h, lua_State *L)
{
    cq_luah_setfn(h, L, "submit", l_submit);
    cq_luah_setfn(h, L, "cancel", l_cancel);
    cq_luah_setfn(h, L, "modify", l_modify);
    cq_luah_setfn(h, L, "cancel_all", l_cancel_all);
}

/* ---- routing ------------------------------------------------------------------ */

/* Call the current version's S[key](msg[, order]). */
static void route_call(lh_strat_t *s, int key, const void *msg, const cq_order_t *order, int with_order,
                       const char *what)
{
    lh_ver_t *v = s->cur;
    if (s->state != CQ_STRAT_RUNNING || !v || !v->live)
        return;
    cq_lua_t *h = s->host;
    lua_State *L = h->cur;
    int top = lua_gettop(L);
    if (!lua_checkstack(L, 6))
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_tb);
    lua_rawgeti(L, LUA_REGISTRYINDEX, v->ref_S);
    if (!lua_istable(L, -1)) {
        lua_settop(L, top);
        return;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_key[key]);
    lua_rawget(L, -2);
    if (!lua_isfunction(L, -1)) {
        lua_settop(L, top);
        return;
    }
    lua_replace(L, -2);
    void *p1 = NULL, *p2 = NULL;
    void **s1 = cq_luah_push_msg(h, L, msg, &p1);
    void **s2 = NULL;
    if (with_order)
        s2 = cq_luah_push_msg(h, L, order, &p2);
    s->calls++;
    h->depth++;
    int rc = lua_pcall(L, with_order ? 2 : 1, 0, top + 1);
    h->depth--;
    if (s2)
        *s2 = p2;
    if (s1)
        *s1 = p1;
    if (rc == 0)
        s->errors_in_row = 0;
    else
        cq_luah_error(h, s, L, LH_CALL_CALLBACK, what);
    lua_settop(L, top);
}

static void route_order(void *user, cq_topic_t topic, const void *msg)
{
    (void)topic;
    lh_strat_t *s = user;
    const cq_order_event_t *ev = msg;
    if (!ev)
        return;
    if (ev->status == CQ_OS_DENIED || ev->status == CQ_OS_REJECTED) {
        memcpy(s->deny_id, ev->client_order_id, sizeof s->deny_id);
        s->deny_id[sizeof s->deny_id - 1] = '\0';
        memcpy(s->deny_reason, ev->reason, sizeof s->deny_reason);
        s->deny_reason[sizeof s->deny_reason - 1] = '\0';
    }
    const cq_order_t *o = cq_cache_order(s->host->env.cache, ev->client_order_id);
    route_call(s, LH_KEY_ON_ORDER, ev, o, 1, "on_order");
}

static void route_fill(void *user, cq_topic_t topic, const void *msg)
{
    (void)topic;
    lh_strat_t *s = user;
    const cq_fill_t *f = msg;
    if (!f)
        return;
    const cq_order_t *o = cq_cache_order(s->host->env.cache, f->client_order_id);
    route_call(s, LH_KEY_ON_FILL, f, o, 1, "on_fill");
}

static void route_position(void *user, cq_topic_t topic, const void *msg)
{
    (void)topic;
    route_call(user, LH_KEY_ON_POSITION, msg, NULL, 0, "on_position");
}

int cq_luah_route(lh_strat_t *s)
{
    static const char *const fmt[3] = {"events.order.%s", "events.fill.%s", "events.position.%s"};
    static const cq_handler_fn fn[3] = {route_order, route_fill, route_position};
    for (int i = 0; i < 3; i++) {
        char topic[CQ_BUS_TOPIC_MAX + 1];
        snprintf(topic, sizeof topic, fmt[i], s->name);
        int rc = cq_bus_subscribe(s->host->env.bus, topic, 0, fn[i], s, &s->route[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void cq_luah_unroute(lh_strat_t *s)
{
    for (int i = 0; i < 3; i++) {
        if (s->route[i])
            cq_bus_unsubscribe(s->host->env.bus, s->route[i]);
        s->route[i] = 0;
    }
}
