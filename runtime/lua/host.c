/*
 * host.c - the Lua strategy host (strategy.h): the LuaJIT state, loading a
 * strategy into its own environment, its life cycle (start, stop, fail
 * after max_errors), hot reload, protected calls with tracebacks, and eval
 * for the REPL.
 *
 * Owns the lua_State, every strategy and every version of its code (see
 * lua_host.h). The Lua half (lua/cquant/host.lua, embedded at build time)
 * builds the environments; the api_<area>.c files hold the functions a
 * strategy calls.
 *
 * Must never let a strategy crash the runtime: every entry into strategy
 * code is a lua_pcall with the traceback handler; an error is logged,
 * counted, and the strategy goes on (or is stopped after max_errors in a
 * row). Must never touch the Lua state from another thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#include "cquant/error.h"
#include "lua/lua_embed.h"
#include "lua/lua_host.h"

#define MOD "lua"

static void seterr(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a, b);
}

/* The message part of a traceback handler's output (before the traceback). */
static size_t msg_len(const char *msg)
{
    const char *tb = strstr(msg, "\nstack traceback:");
    return tb ? (size_t)(tb - msg) : strlen(msg);
}

static void copy_msg(char *dst, size_t cap, const char *msg)
{
    if (!dst || !cap)
        return;
    size_t n = msg_len(msg);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, msg, n);
    dst[n] = '\0';
}

/* ---- lookups ----------------------------------------------------------------- */

static lh_strat_t *find_strat(const cq_lua_t *h, uint32_t handle)
{
    for (size_t i = 0; i < h->nstrats; i++)
        if (h->strats[i]->handle == handle)
            return h->strats[i];
    return NULL;
}

static lh_strat_t *find_strat_name(const cq_lua_t *h, const char *name)
{
    for (size_t i = 0; i < h->nstrats; i++)
        if (strcmp(h->strats[i]->name, name) == 0)
            return h->strats[i];
    return NULL;
}

cq_lua_t *cq_luah_host(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

void cq_luah_setfn(cq_lua_t *h, lua_State *L, const char *name, lua_CFunction fn)
{
    lua_pushlightuserdata(L, h);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, name);
}

lh_ver_t *cq_luah_ver(cq_lua_t *h, lua_State *L, int idx, const char *fn)
{
    lua_Number n = lua_tonumber(L, idx);
    if (n >= 1 && n < (lua_Number)h->nvers && n == (lua_Number)(size_t)n) {
        lh_ver_t *v = h->vers[(size_t)n];
        if (!v->dead)
            return v;
        luaL_error(L, "%s: this version of strategy %s was unloaded (reloaded or failed to load)", fn,
                   v->strat ? v->strat->name : "?");
    }
    luaL_error(L, "%s: not available here (no strategy)", fn);
    return NULL;
}

/* ---- versions ------------------------------------------------------------------ */

static int ver_add_file(lh_ver_t *v, const char *path)
{
    for (size_t i = 0; i < v->nfiles; i++)
        if (strcmp(v->files[i], path) == 0)
            return 0;
    if (v->nfiles + 1 >= v->capfiles) { /* +1: keep a NULL after the last */
        size_t cap = v->capfiles ? v->capfiles * 2 : 4;
        char **n = realloc(v->files, cap * sizeof *n);
        if (!n)
            return CQ_ENOMEM;
        v->files = n;
        v->capfiles = cap;
    }
    if (!(v->files[v->nfiles] = strdup(path)))
        return CQ_ENOMEM;
    v->files[++v->nfiles] = NULL;
    return 0;
}

static lh_ver_t *ver_new(cq_lua_t *h, lh_strat_t *s)
{
    if (h->nvers == h->capvers) {
        size_t cap = h->capvers * 2;
        lh_ver_t **n = realloc(h->vers, cap * sizeof *n);
        if (!n)
            return NULL;
        h->vers = n;
        h->capvers = cap;
    }
    lh_ver_t *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->host = h;
    v->strat = s;
    v->id = (uint32_t)h->nvers;
    v->ref_env = v->ref_S = LUA_NOREF;
    if (ver_add_file(v, s->path) < 0) {
        free(v);
        return NULL;
    }
    h->vers[h->nvers++] = v;
    return v;
}

/* A version is done: no more callbacks, subscriptions and timers dropped,
 * its API raises from now on. The struct stays (lua_host.h says why). */
static void ver_kill(lh_ver_t *v)
{
    cq_lua_t *h = v->host;
    v->live = 0;
    cq_luah_drop_subs(v);
    cq_luah_drop_timers(v);
    v->dead = 1;
    luaL_unref(h->L, LUA_REGISTRYINDEX, v->ref_env);
    luaL_unref(h->L, LUA_REGISTRYINDEX, v->ref_S);
    v->ref_env = v->ref_S = LUA_NOREF;
    for (size_t i = 0; i < v->nfiles; i++)
        free(v->files[i]);
    free(v->files);
    v->files = NULL;
    v->nfiles = v->capfiles = 0;
}

/* ---- protected calls ------------------------------------------------------------- */

static void stop_strategy(cq_lua_t *h, lh_strat_t *s, int32_t state);

static uint32_t max_errors(const cq_lua_t *h)
{
    return h->cfg.max_errors ? h->cfg.max_errors : 10;
}

/* max_errors in a row: the strategy is stopped (FAILED); its orders stay,
 * unless cancel_on_stop. */
static void fail_strategy(cq_lua_t *h, lh_strat_t *s)
{
    cq_logf(h->env.log, CQ_LOG_ERROR, s->name, "stopped: %u callback errors in a row (last: %s)",
            (unsigned)s->errors_in_row, s->last_error);
    stop_strategy(h, s, CQ_STRAT_FAILED);
    if (h->cfg.cancel_on_stop) {
        size_t n = 0;
        int rc = cq_exec_cancel_all(h->env.exec, 0, s->handle, *h->env.clock, &n);
        cq_logf(h->env.log, rc < 0 ? CQ_LOG_ERROR : CQ_LOG_WARN, s->name,
                "cancel_on_stop: %zu cancel(s) sent%s%s", n, rc < 0 ? ", error: " : "",
                rc < 0 ? cq_exec_last_reason(h->env.exec) : "");
    }
}

void cq_luah_error(cq_lua_t *h, lh_strat_t *s, lua_State *L, int mode, const char *what)
{
    if (mode == LH_CALL_QUIET)
        return;
    const char *msg = lua_tostring(L, -1);
    if (!msg)
        msg = "(no error message)";
    if (s) {
        s->errors++;
        copy_msg(s->last_error, sizeof s->last_error, msg);
    }
    cq_logf(h->env.log, CQ_LOG_ERROR, s ? s->name : MOD, "%s: %s", what, msg);
    if (s && mode == LH_CALL_CALLBACK) {
        s->errors_in_row++;
        if (s->state == CQ_STRAT_RUNNING && s->errors_in_row >= max_errors(h))
            fail_strategy(h, s);
    }
}

int cq_luah_pcall(cq_lua_t *h, lh_strat_t *s, lua_State *L, int nargs, int nres, int mode,
                  const char *what, char *err, size_t errlen)
{
    int base = lua_gettop(L) - nargs; /* the function */
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_tb);
    lua_insert(L, base);
    if (s && mode != LH_CALL_QUIET)
        s->calls++;
    h->depth++;
    int rc = lua_pcall(L, nargs, nres, base);
    h->depth--;
    if (rc == 0) {
        lua_remove(L, base);
        if (s && mode == LH_CALL_CALLBACK)
            s->errors_in_row = 0;
        return 0;
    }
    const char *msg = lua_tostring(L, -1);
    copy_msg(err, errlen, msg ? msg : "(no error message)");
    cq_luah_error(h, s, L, mode, what);
    lua_settop(L, base - 1);
    return rc;
}

/* Push v's S[key] if it is a function. Looked up with rawget and an
 * interned key: outside a protected call nothing may run a metamethod or
 * allocate (an allocation can run a GC step, and a finalizer's error
 * would have no pcall to land in). */
static int push_cb(cq_lua_t *h, lua_State *L, const lh_ver_t *v, int key)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, v->ref_S);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_key[key]);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    if (lua_isfunction(L, -1))
        return 1;
    lua_pop(L, 1);
    return 0;
}

/* ---- life cycle -------------------------------------------------------------------- */

/* on_stop (if it was running), then no more callbacks, subscriptions and
 * timers dropped. The state is set first, so that the order events on_stop
 * causes (cancels) are not routed back into it. */
static void stop_strategy(cq_lua_t *h, lh_strat_t *s, int32_t state)
{
    int was_running = s->state == CQ_STRAT_RUNNING;
    s->state = state;
    lh_ver_t *v = s->cur;
    if (!v || v->dead)
        return;
    if (was_running && push_cb(h, h->cur, v, LH_KEY_ON_STOP))
        cq_luah_pcall(h, s, h->cur, 0, 0, LH_CALL_LIFECYCLE, "on_stop", NULL, 0);
    v->live = 0;
    cq_luah_drop_subs(v);
    cq_luah_drop_timers(v);
}

/* Build v's environment (cquant.host new_env) and keep a reference. */
static int make_env(cq_lua_t *h, lh_strat_t *s, lh_ver_t *v, uint32_t version, char *err, size_t errlen)
{
    lua_State *L = h->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_host);
    lua_getfield(L, -1, "new_env");
    lua_remove(L, -2);
    lua_createtable(L, 0, 8);
    lua_pushnumber(L, v->id);
    lua_setfield(L, -2, "vid");
    lua_pushnumber(L, s->handle);
    lua_setfield(L, -2, "handle");
    lua_pushstring(L, s->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, s->path);
    lua_setfield(L, -2, "path");
    const char *slash = strrchr(s->path, '/');
    if (slash)
        lua_pushlstring(L, s->path, (size_t)(slash - s->path > 0 ? slash - s->path : 1));
    else
        lua_pushstring(L, ".");
    lua_setfield(L, -2, "dir");
    lua_pushnumber(L, version);
    lua_setfield(L, -2, "version");
    lua_createtable(L, (int)s->nparams, 0);
    for (size_t i = 0; i < s->nparams; i++) {
        lua_pushstring(L, s->params[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "params");
    if (cq_luah_pcall(h, s, L, 1, 1, LH_CALL_LIFECYCLE, "environment", err, errlen) != 0)
        return CQ_ESTATE;
    v->ref_env = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* Run the compiled chunk on top of the stack in v's environment; it must
 * return the strategy table S. Pops the chunk. */
static int run_chunk(cq_lua_t *h, lh_strat_t *s, lh_ver_t *v, char *err, size_t errlen)
{
    lua_State *L = h->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, v->ref_env);
    lua_setfenv(L, -2);
    if (cq_luah_pcall(h, s, L, 0, 1, LH_CALL_LIFECYCLE, "load", err, errlen) != 0)
        return CQ_ESTATE;
    if (!lua_istable(L, -1)) {
        char got[64];
        snprintf(got, sizeof got, "%s", lua_typename(L, lua_type(L, -1)));
        seterr(err, errlen, "%s: the chunk must return the strategy table (got %s)", s->path, got);
        cq_logf(h->env.log, CQ_LOG_ERROR, s->name, "%s: the chunk must return the strategy table (got %s)",
                s->path, got);
        s->errors++;
        snprintf(s->last_error, sizeof s->last_error, "%s: the chunk must return the strategy table (got %s)",
                 s->path, got);
        lua_pop(L, 1);
        return CQ_ESTATE;
    }
    v->ref_S = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* Compile the strategy's file onto the stack. */
static int compile(cq_lua_t *h, const char *path, char *err, size_t errlen)
{
    int rc = luaL_loadfile(h->L, path);
    if (rc == 0)
        return 0;
    const char *msg = lua_tostring(h->L, -1);
    seterr(err, errlen, "%s%s", msg ? msg : "cannot load ", msg ? "" : path);
    lua_pop(h->L, 1);
    if (rc == LUA_ERRSYNTAX)
        return CQ_EPARSE;
    if (rc == LUA_ERRMEM)
        return CQ_ENOMEM;
    return CQ_EIO;
}

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 63)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-'))
            return 0;
    return 1;
}

static void strat_free(lh_strat_t *s)
{
    if (!s)
        return;
    free(s->path);
    for (size_t i = 0; i < s->nparams; i++)
        free(s->params[i]);
    free(s->params);
    free(s);
}

int cq_lua_load(cq_lua_t *h, const char *path, const char *name, const char *const *params,
                uint32_t *strategy, char *err, size_t errlen)
{
    seterr(err, errlen, "%s%s", "", "");
    if (!h || !path || !name || !*path)
        return CQ_EINVAL;
    if (!valid_name(name)) {
        seterr(err, errlen, "strategy name '%s' %s", name, "must be 1..63 characters of [A-Za-z0-9_-]");
        return CQ_EINVAL;
    }
    size_t np = 0;
    for (; params && params[np]; np++) {
        const char *eq = strchr(params[np], '=');
        if (!eq || eq == params[np]) {
            seterr(err, errlen, "parameter '%s' %s", params[np], "is not key=value");
            return CQ_EINVAL;
        }
    }
    if (find_strat_name(h, name)) {
        seterr(err, errlen, "a strategy named '%s' %s", name, "is already loaded");
        return CQ_EEXIST;
    }
    lua_State *L = h->L;
    int top = lua_gettop(L);
    int rc = compile(h, path, err, errlen);
    if (rc < 0)
        return rc;
    uint32_t handle;
    if ((rc = cq_cache_strategy_intern(h->env.cache, name, &handle)) < 0) {
        lua_settop(L, top);
        return rc;
    }
    if (h->nstrats == h->capstrats) {
        size_t cap = h->capstrats ? h->capstrats * 2 : 8;
        lh_strat_t **n = realloc(h->strats, cap * sizeof *n);
        if (!n) {
            lua_settop(L, top);
            return CQ_ENOMEM;
        }
        h->strats = n;
        h->capstrats = cap;
    }
    lh_strat_t *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path)) || (np && !(s->params = calloc(np, sizeof *s->params)))) {
        strat_free(s);
        lua_settop(L, top);
        return CQ_ENOMEM;
    }
    for (; s->nparams < np; s->nparams++)
        if (!(s->params[s->nparams] = strdup(params[s->nparams]))) {
            strat_free(s);
            lua_settop(L, top);
            return CQ_ENOMEM;
        }
    s->host = h;
    s->handle = handle;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->state = CQ_STRAT_LOADED;
    lh_ver_t *v = ver_new(h, s);
    if (!v) {
        strat_free(s);
        lua_settop(L, top);
        return CQ_ENOMEM;
    }
    s->cur = v;
    if ((rc = make_env(h, s, v, 1, err, errlen)) < 0 || (rc = run_chunk(h, s, v, err, errlen)) < 0 ||
        (rc = cq_luah_route(s)) < 0) {
        if (rc != CQ_ESTATE)
            seterr(err, errlen, "%s: %s", name, cq_strerror(rc));
        cq_luah_unroute(s);
        ver_kill(v);
        v->strat = NULL; /* the strategy never existed */
        strat_free(s);
        lua_settop(L, top);
        return rc;
    }
    s->version = 1;
    h->strats[h->nstrats++] = s;
    lua_settop(L, top);
    if (strategy)
        *strategy = handle;
    cq_logf(h->env.log, CQ_LOG_INFO, s->name, "loaded %s", path);
    return 0;
}

int cq_lua_start(cq_lua_t *h, uint32_t strategy, char *err, size_t errlen)
{
    seterr(err, errlen, "%s%s", "", "");
    if (!h)
        return CQ_EINVAL;
    lh_strat_t *s = find_strat(h, strategy);
    if (!s)
        return CQ_ENOENT;
    if (s->state == CQ_STRAT_RUNNING) {
        seterr(err, errlen, "%s: %s", s->name, "already running");
        return CQ_ESTATE;
    }
    lh_ver_t *v = s->cur;
    s->state = CQ_STRAT_RUNNING;
    s->errors_in_row = 0;
    v->live = 1;
    if (push_cb(h, h->cur, v, LH_KEY_ON_START) &&
        cq_luah_pcall(h, s, h->cur, 0, 0, LH_CALL_LIFECYCLE, "on_start", err, errlen) != 0) {
        /* not started: no on_stop */
        s->state = CQ_STRAT_STOPPED;
        v->live = 0;
        cq_luah_drop_subs(v);
        cq_luah_drop_timers(v);
        return CQ_ESTATE;
    }
    if (s->state != CQ_STRAT_RUNNING) /* failed from inside on_start */
        return CQ_ESTATE;
    cq_logf(h->env.log, CQ_LOG_INFO, s->name, "started");
    return 0;
}

int cq_lua_stop(cq_lua_t *h, uint32_t strategy)
{
    if (!h)
        return CQ_EINVAL;
    lh_strat_t *s = find_strat(h, strategy);
    if (!s)
        return CQ_ENOENT;
    if (s->state == CQ_STRAT_RUNNING || s->state == CQ_STRAT_LOADED) {
        stop_strategy(h, s, CQ_STRAT_STOPPED);
        cq_logf(h->env.log, CQ_LOG_INFO, s->name, "stopped");
    }
    return 0;
}

static int reload_failed(cq_lua_t *h, lh_strat_t *s, int rc, const char *err)
{
    s->reload_failures++;
    snprintf(s->last_error, sizeof s->last_error, "%s", err ? err : "");
    cq_logf(h->env.log, CQ_LOG_ERROR, s->name, "reload failed, the running version stays: %s", err ? err : "");
    return rc;
}

/*
 * Hot reload. The new version is built completely - chunk, on_reload(state),
 * on_start if the strategy is running - while the old one is suspended (no
 * callbacks; its subscriptions and timers still exist). Only when all of it
 * succeeded is the old one dropped; on any failure the new one is dropped
 * and the old one resumes, so no subscription is ever doubled or lost.
 */
int cq_lua_reload(cq_lua_t *h, uint32_t strategy, char *err, size_t errlen)
{
    char ebuf[512];
    if (!err || !errlen) {
        err = ebuf;
        errlen = sizeof ebuf;
    }
    err[0] = '\0';
    if (!h)
        return CQ_EINVAL;
    lh_strat_t *s = find_strat(h, strategy);
    if (!s)
        return CQ_ENOENT;
    if (h->depth > 0) {
        snprintf(err, errlen, "%s: cannot reload from inside a callback", s->name);
        return CQ_EBUSY;
    }
    lua_State *L = h->L;
    int top = lua_gettop(L);
    int rc = compile(h, s->path, err, errlen);
    if (rc < 0)
        return reload_failed(h, s, rc, err);
    lh_ver_t *old = s->cur;
    /* on_save */
    if (push_cb(h, L, old, LH_KEY_ON_SAVE)) {
        if (cq_luah_pcall(h, s, L, 0, 1, LH_CALL_LIFECYCLE, "on_save", err, errlen) != 0) {
            lua_settop(L, top);
            return reload_failed(h, s, CQ_ESTATE, err);
        }
    } else {
        lua_pushnil(L);
    }
    int state_idx = lua_gettop(L);
    int chunk_idx = state_idx - 1;

    int32_t st0 = s->state;
    int running = st0 == CQ_STRAT_RUNNING;
    lh_ver_t *nv = ver_new(h, s);
    if (!nv) {
        lua_settop(L, top);
        snprintf(err, errlen, "%s: out of memory", s->name);
        return reload_failed(h, s, CQ_ENOMEM, err);
    }
    old->live = 0;
    s->cur = nv;
    nv->live = running;
    lua_pushvalue(L, chunk_idx);
    rc = make_env(h, s, nv, s->version + 1, err, errlen);
    if (rc == 0)
        rc = run_chunk(h, s, nv, err, errlen);
    else
        lua_pop(L, 1);
    if (rc == 0 && push_cb(h, L, nv, LH_KEY_ON_RELOAD)) {
        lua_pushvalue(L, state_idx);
        if (cq_luah_pcall(h, s, L, 1, 0, LH_CALL_LIFECYCLE, "on_reload", err, errlen) != 0)
            rc = CQ_ESTATE;
    }
    if (rc == 0 && running && push_cb(h, L, nv, LH_KEY_ON_START)) {
        if (cq_luah_pcall(h, s, L, 0, 0, LH_CALL_LIFECYCLE, "on_start", err, errlen) != 0)
            rc = CQ_ESTATE;
    }
    if (rc == 0 && s->state != st0) {
        snprintf(err, errlen, "%s: the new version changed the strategy's state while loading", s->name);
        rc = CQ_ESTATE;
    }
    lua_settop(L, top);
    if (rc < 0) {
        ver_kill(nv);
        s->cur = old;
        old->live = running && s->state == CQ_STRAT_RUNNING;
        return reload_failed(h, s, rc, err);
    }
    ver_kill(old);
    s->version++;
    cq_logf(h->env.log, CQ_LOG_INFO, s->name, "reloaded %s (version %u)", s->path, (unsigned)s->version);
    return 0;
}

int cq_lua_info(const cq_lua_t *h, uint32_t strategy, cq_lua_info_t *out)
{
    if (!h || !out)
        return CQ_EINVAL;
    const lh_strat_t *s = find_strat(h, strategy);
    if (!s)
        return CQ_ENOENT;
    memset(out, 0, sizeof *out);
    out->state = s->state;
    out->version = s->version;
    out->calls = s->calls;
    out->errors = s->errors;
    out->errors_in_row = s->errors_in_row;
    out->subscriptions = s->cur ? s->cur->nsubs : 0;
    out->timers = s->cur ? s->cur->ntimers : 0;
    out->reload_failures = s->reload_failures;
    snprintf(out->last_error, sizeof out->last_error, "%s", s->last_error);
    return 0;
}

const char *const *cq_lua_files(const cq_lua_t *h, uint32_t strategy, size_t *count)
{
    if (count)
        *count = 0;
    if (!h)
        return NULL;
    const lh_strat_t *s = find_strat(h, strategy);
    if (!s || !s->cur || !s->cur->files)
        return NULL;
    if (count)
        *count = s->cur->nfiles;
    return (const char *const *)s->cur->files;
}

/* ---- eval (REPL) -------------------------------------------------------------------- */

int cq_lua_eval(cq_lua_t *h, uint32_t strategy, const char *code, char *out, size_t outlen)
{
    if (out && outlen)
        out[0] = '\0';
    if (!h || !code)
        return CQ_EINVAL;
    lua_State *L = h->L;
    int top = lua_gettop(L);
    lh_strat_t *s = NULL;
    if (strategy) {
        s = find_strat(h, strategy);
        if (!s || !s->cur || s->cur->ref_env == LUA_NOREF)
            return CQ_ENOENT;
    } else if (h->ref_repl == LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_host);
        lua_getfield(L, -1, "repl_env");
        lua_remove(L, -2);
        if (cq_luah_pcall(h, NULL, L, 0, 1, LH_CALL_QUIET, "repl", out, outlen) != 0)
            return CQ_ESTATE;
        h->ref_repl = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_host);
    lua_getfield(L, -1, "compile");
    lua_remove(L, -2);
    lua_pushstring(L, code);
    if (cq_luah_pcall(h, NULL, L, 1, 2, LH_CALL_QUIET, "eval", out, outlen) != 0)
        return CQ_ESTATE;
    if (!lua_isfunction(L, -2)) {
        const char *m = lua_tostring(L, -1);
        if (out && outlen)
            snprintf(out, outlen, "%s", m ? m : "syntax error");
        lua_settop(L, top);
        return CQ_EPARSE;
    }
    lua_pop(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s ? s->cur->ref_env : h->ref_repl);
    lua_setfenv(L, -2);
    int base = lua_gettop(L);
    if (cq_luah_pcall(h, s, L, 0, LUA_MULTRET, LH_CALL_QUIET, "eval", out, outlen) != 0) {
        lua_settop(L, top);
        return CQ_ESTATE;
    }
    int nres = lua_gettop(L) - base + 1;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref_host);
    lua_getfield(L, -1, "tostring_all");
    lua_remove(L, -2);
    lua_insert(L, base);
    if (cq_luah_pcall(h, NULL, L, nres, 1, LH_CALL_QUIET, "eval", out, outlen) != 0) {
        lua_settop(L, top);
        return CQ_ESTATE;
    }
    const char *r = lua_tostring(L, -1);
    if (out && outlen)
        snprintf(out, outlen, "%s", r ? r : "");
    lua_settop(L, top);
    return 0;
}

/* ---- functions of the raw table that belong to the host ------------------------------- */

/* raw.add_file(vid, path): a module the version required. */
static int l_add_file(lua_State *L)
{
    cq_lua_t *h = cq_luah_host(L);
    lh_ver_t *v = cq_luah_ver(h, L, 1, "require");
    if (ver_add_file(v, luaL_checkstring(L, 2)) < 0)
        return luaL_error(L, "require: out of memory");
    return 0;
}

/* raw.strategy_env(name): the environment of a strategy's current version. */
static int l_strategy_env(lua_State *L)
{
    cq_lua_t *h = cq_luah_host(L);
    const lh_strat_t *s = find_strat_name(h, luaL_checkstring(L, 1));
    if (!s || !s->cur || s->cur->ref_env == LUA_NOREF)
        return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->cur->ref_env);
    return 1;
}

/* ---- create / destroy -------------------------------------------------------------------- */

static int init_state(lua_State *L)
{
    cq_lua_t *h = lua_touserdata(L, 1);
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    for (const cq_lua_embedded_t *m = cq_lua_modules; m->name; m++) {
        if (luaL_loadbuffer(L, m->src, m->len, m->chunk) != 0)
            return lua_error(L);
        lua_setfield(L, -2, m->name);
    }
    lua_pop(L, 2);
    lua_getglobal(L, "require");
    lua_pushstring(L, "cquant.host");
    lua_call(L, 1, 1);
    lua_pushvalue(L, -1);
    h->ref_host = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "traceback");
    h->ref_tb = luaL_ref(L, LUA_REGISTRYINDEX);
    static const char *const keys[7] = {"on_order", "on_fill", "on_position", "on_start",
                                        "on_stop", "on_save", "on_reload"};
    for (int i = 0; i < 7; i++) {
        lua_pushstring(L, keys[i]);
        h->ref_key[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_getfield(L, -1, "init");
    lua_newtable(L); /* raw */
    cq_luah_open_bus(h, L);
    cq_luah_open_exec(h, L);
    cq_luah_open_timer(h, L);
    cq_luah_setfn(h, L, "add_file", l_add_file);
    cq_luah_setfn(h, L, "strategy_env", l_strategy_env);
    lua_pushlightuserdata(L, &h->ffi);
    lua_pushlstring(L, cq_lua_cdef, cq_lua_cdef_len);
    lua_call(L, 3, 1); /* the boxes */
    for (int t = 0; t < LH_NBOX; t++) {
        lua_rawgeti(L, -1, t);
        if (lua_type(L, -1) == LH_TCDATA) {
            /* LuaJIT 2.1: lua_topointer of a cdata is its payload, which for
             * a pointer cdata holds the pointer value (checked by
             * test_lua_host's box test). */
            h->box_slot[t] = (void **)(uintptr_t)lua_topointer(L, -1);
            h->box_ref[t] = luaL_ref(L, LUA_REGISTRYINDEX);
        } else {
            lua_pop(L, 1);
        }
    }
    return 0;
}

/* An error with no protected call to catch it: only an allocation failure
 * in the host's own C code outside a callback can get here (finalizers are
 * wrapped, callbacks are pcalls). LuaJIT aborts after this returns; say why
 * first. */
static int panic(lua_State *L)
{
    const char *m = lua_tostring(L, -1);
    fprintf(stderr, "cquant: unrecoverable Lua error outside a callback: %s\n", m ? m : "?");
    return 0;
}

int cq_lua_create(cq_lua_t **out, const cq_lua_env_t *env, const cq_lua_config_t *cfg)
{
    if (!out)
        return CQ_EINVAL;
    *out = NULL;
    if (!env || !env->bus || !env->cache || !env->exec || !env->timers || !env->clock)
        return CQ_EINVAL;
    cq_lua_t *h = calloc(1, sizeof *h);
    if (!h)
        return CQ_ENOMEM;
    h->env = *env;
    if (cfg)
        h->cfg = *cfg;
    h->ref_tb = h->ref_host = h->ref_repl = LUA_NOREF;
    for (int t = 0; t < LH_NBOX; t++)
        h->box_ref[t] = LUA_NOREF;
    h->capvers = 16;
    h->nvers = 1; /* id 0: no strategy (the REPL) */
    if (!(h->vers = calloc(h->capvers, sizeof *h->vers))) {
        free(h);
        return CQ_ENOMEM;
    }
    cq_luah_fill_ffi(h);
    h->L = luaL_newstate();
    if (!h->L) {
        free(h->vers);
        free(h);
        return CQ_ENOMEM;
    }
    h->cur = h->L;
    lua_atpanic(h->L, panic);
    if (lua_cpcall(h->L, init_state, h) != 0) {
        cq_logf(env->log, CQ_LOG_ERROR, MOD, "cannot start the Lua host: %s", lua_tostring(h->L, -1));
        lua_close(h->L);
        free(h->vers);
        free(h);
        return CQ_ESTATE;
    }
    *out = h;
    return 0;
}

void cq_lua_destroy(cq_lua_t *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nstrats; i++) {
        lh_strat_t *s = h->strats[i];
        if (s->state == CQ_STRAT_RUNNING)
            stop_strategy(h, s, CQ_STRAT_STOPPED);
        cq_luah_unroute(s);
        if (s->cur && !s->cur->dead)
            ver_kill(s->cur);
    }
    lua_close(h->L);
    for (size_t i = 1; i < h->nvers; i++) {
        lh_ver_t *v = h->vers[i];
        for (size_t k = 0; k < v->nfiles; k++)
            free(v->files[k]);
        free(v->files);
        free(v);
    }
    for (size_t i = 0; i < h->nstrats; i++)
        strat_free(h->strats[i]);
    free(h->strats);
    free(h->vers);
    free(h);
}
