-- cquant.host: the Lua half of the strategy host (runtime/lua/host.c is
-- the C half, which drives the life cycle and calls these functions).
--
-- Owns: the environments strategies run in, their per-version `require`,
-- the event boxes, the traceback handler, the cache of modules that call
-- ffi.cdef (loaded once per state, never reloaded).
-- Must never: let one strategy reach another's globals through anything it
-- builds here (every environment and every library copy is fresh).
local ffi = require("ffi")

local H = {}

local raw, F, types, api
local G = _G
local traceback = debug.traceback

-- The globals a strategy sees, snapshot at init (before anything runs).
local BASE_FUNCS = {}
local BASE_LIBS = {}
local LIB_NAMES = { "string", "table", "math", "os", "io", "coroutine", "bit", "debug", "jit", "package" }

local ffi_modules = {} -- path -> value: modules whose source calls ffi.cdef

-- The event boxes: per CQ_EV_* type one `const T *` cdata whose payload
-- C overwrites before each call (runtime/lua/api_bus.c).
local boxes = {}

function H.init(raw_, ffi_addr, cdef)
  raw = raw_
  ffi.cdef(cdef)
  F = ffi.cast("const cq_lua_ffi_t *", ffi_addr)
  types = require("cquant.types")
  types.init(F)
  api = require("cquant.api")
  api.init(raw, F, types)
  for ev, name in pairs(types.event_types) do
    boxes[ev] = ffi.new("const " .. name .. " *")
  end
  -- Finalizers never raise. LuaJIT rethrows a finalizer's error at the
  -- allocation that ran the GC step, which may be in C outside any
  -- protected call, where it would abort the process. So every finalizer a
  -- strategy installs is wrapped in pcall and its error logged; and
  -- newproxy (userdata with a __gc) is not offered.
  local function gc_error(e)
    local ok, msg = pcall(tostring, e)
    F.log_write(F.log, 3, "lua", "error in a finalizer (ignored): " .. (ok and msg or "?"))
  end
  local function safe(fin)
    return function(x)
      local ok, e = pcall(fin, x)
      if not ok then gc_error(e) end
    end
  end
  local raw_gc, raw_metatype = ffi.gc, ffi.metatype
  ffi.gc = function(cd, fin)
    if type(fin) == "function" then fin = safe(fin) end
    return raw_gc(cd, fin)
  end
  ffi.metatype = function(ct, mt)
    if type(mt) == "table" and mt.__gc ~= nil then
      local m = {}
      for k, v in pairs(mt) do m[k] = v end
      m.__gc = safe(mt.__gc)
      mt = m
    end
    return raw_metatype(ct, mt)
  end
  for k, v in pairs(G) do
    if type(v) == "function" then BASE_FUNCS[k] = v end
  end
  BASE_FUNCS.newproxy = nil
  for _, k in ipairs(LIB_NAMES) do BASE_LIBS[k] = G[k] end
  BASE_FUNCS.module = nil -- would write into the real globals
  return boxes
end

-- The message handler of every protected call: the error as a string, with
-- a traceback. Error objects that are not strings (tables, nil, a table
-- whose __tostring fails) still give a message.
function H.traceback(e)
  local msg
  local t = type(e)
  if t == "string" then
    msg = e
  elseif t == "number" then
    msg = tostring(e)
  else
    local ok, s = pcall(function()
      local mt = getmetatable(e)
      if type(mt) == "table" and mt.__tostring ~= nil then return tostring(e) end
    end)
    if ok and type(s) == "string" then
      msg = s
    else
      msg = "(error object is a " .. t .. " value)"
    end
  end
  return traceback(msg, 2)
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- "k=v" strings -> params table; numbers become numbers.
local function parse_params(list)
  local p = {}
  for _, s in ipairs(list or {}) do
    local k, v = s:match("^([^=]+)=(.*)$")
    if k then
      local n = tonumber(v)
      if n and n == n and n ~= math.huge and n ~= -math.huge and v:match("%d") then
        p[k] = n
      else
        p[k] = v
      end
    end
  end
  return p
end

local function readfile(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- Where a strategy's own modules are looked for: its directory, then
-- strategies/ under the working directory.
local function module_path(dirs, name)
  local rel = name:gsub("%.", "/")
  for _, d in ipairs(dirs) do
    local p = d .. "/" .. rel .. ".lua"
    if exists(p) then return p end
    p = d .. "/" .. rel .. "/init.lua"
    if exists(p) then return p end
  end
  return nil
end

-- The base a new environment falls back on: fresh copies of the standard
-- library tables and functions, the API of this version, and its params.
local function make_base(env, ctx)
  local base = {}
  for k, v in pairs(BASE_FUNCS) do base[k] = v end
  for k, v in pairs(BASE_LIBS) do base[k] = copy(v) end
  base._VERSION = G._VERSION
  -- Chunks loaded by the strategy run in its environment, not the real globals.
  base.loadstring = function(s, chunk)
    local f, e = loadstring(s, chunk)
    if f then setfenv(f, env) end
    return f, e
  end
  base.load = function(ld, chunk)
    local f, e = load(ld, chunk)
    if f then setfenv(f, env) end
    return f, e
  end
  base.loadfile = function(path)
    local f, e = loadfile(path)
    if f then setfenv(f, env) end
    return f, e
  end
  base.dofile = function(path)
    local f, e = loadfile(path)
    if not f then error(e, 2) end
    setfenv(f, env)
    return f()
  end
  base.cq = types.new_cq()
  return base
end

-- A fresh environment for one version of a strategy.
-- ctx: vid, handle, name, path, dir, version, params (list of "k=v")
function H.new_env(ctx)
  local env = {}
  local base = make_base(env, ctx)
  local a = api.build(ctx)
  for k, v in pairs(a) do base[k] = v end
  base.params = parse_params(ctx.params)
  base.strategy = { name = ctx.name, id = ctx.handle, file = ctx.path, version = ctx.version }
  base.print = function(...)
    local n = select("#", ...)
    local t = {}
    for i = 1, n do t[i] = tostring((select(i, ...))) end
    a.log.info(table.concat(t, "\t"))
  end

  -- require: the strategy's own modules are loaded once per version, in its
  -- environment, and listed for the file watcher; a module that calls
  -- ffi.cdef is loaded once per state (ffi.cdef cannot run twice) in a
  -- plain environment and never reloaded; anything else is the global
  -- require (ffi, bit, jit, cquant.*, package.path).
  local dirs = { ctx.dir or ".", "strategies" }
  local loaded = {}
  local LOADING = {}
  base.require = function(name)
    if type(name) ~= "string" then
      error("require: argument #1 (name) must be a module name, got " .. type(name), 2)
    end
    local m = loaded[name]
    if m == LOADING then error("require: module '" .. name .. "' requires itself (a cycle)", 2) end
    if m ~= nil then return m end
    local path = module_path(dirs, name)
    if not path then return G.require(name) end
    local src = readfile(path)
    if not src then error("require: cannot read " .. path, 2) end
    if src:find("ffi%.cdef") then
      m = ffi_modules[path]
      if m == nil then
        local f, e = loadstring(src, "@" .. path)
        if not f then error(e, 0) end
        local menv = setmetatable({}, { __index = make_base({}, ctx) })
        menv._G = menv
        setfenv(f, menv)
        m = f(name)
        if m == nil then m = true end
        ffi_modules[path] = m
      end
      loaded[name] = m
      return m
    end
    local f, e = loadstring(src, "@" .. path)
    if not f then error(e, 0) end
    setfenv(f, env)
    loaded[name] = LOADING
    local ok, r = pcall(f, name)
    if not ok then
      loaded[name] = nil
      error(r, 0)
    end
    if r == nil then r = true end
    loaded[name] = r
    raw.add_file(ctx.vid, path)
    return r
  end

  env._G = env
  return setmetatable(env, { __index = base, __metatable = false })
end

-- The REPL's shared environment (cq_lua_eval with strategy 0): the
-- standard library, cq, read-only cache/clock/log, and strategy(name) for
-- the environment of a running strategy.
function H.repl_env()
  local env = {}
  local base = make_base(env, {})
  local a = api.build({ vid = 0, handle = 0, name = "repl" })
  base.cache, base.clock, base.log = a.cache, a.clock, a.log
  base.strategy = function(name) return raw.strategy_env(name) end
  env._G = env
  return setmetatable(env, { __index = base, __metatable = false })
end

-- Compile REPL input: as an expression first (so "1+1" prints 2), else as
-- statements.
function H.compile(code)
  local f = loadstring("return " .. code, "=eval")
  if f then return f end
  return loadstring(code, "=eval")
end

-- tostring of every value, tab-separated (cq_lua_eval's output).
function H.tostring_all(...)
  local n = select("#", ...)
  local t = {}
  for i = 1, n do t[i] = tostring((select(i, ...))) end
  return table.concat(t, "\t")
end

return H
