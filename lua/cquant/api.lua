-- cquant.api: the API tables one version of one strategy sees: bus, exec,
-- cache, clock, timer, log (docs/lua-api.md documents each function).
--
-- Every function checks its arguments here and raises a Lua error naming
-- the argument and what was expected; the C side (runtime/lua/api_*.c)
-- trusts what it gets from here. Calls that may publish on the bus (and so
-- call back into Lua) go to lua_CFunctions (`raw`); read-only accessors go
-- through FFI function pointers (`F`, a cq_lua_ffi_t), which the JIT
-- compiles.
--
-- Owns nothing global: build() returns fresh tables bound to one version
-- id (vid), which the C side checks on every call.
local ffi = require("ffi")

local M = {}

local raw, F, types
local cast, istype = ffi.cast, ffi.istype
local fmt = string.format
local huge = math.huge

local const_order_p = ffi.typeof("const cq_order_t *")
local const_pos_p = ffi.typeof("const cq_position_t *")
local order_query = ffi.typeof("cq_order_query_t")
local order_buf = ffi.typeof("cq_order_t *[?]")
local level_buf = ffi.typeof("cq_book_level_t[?]")
local u32_box = ffi.typeof("uint32_t[1]")
local size_box = ffi.typeof("size_t[1]")
local pos_box = ffi.typeof("cq_position_t *[1]")
local ORDER_SIZE = ffi.sizeof("cq_order_t")

-- ctype id -> { CQ_EV_* type, 1 = struct value / 2 = pointer } for publish
local PUBLISHABLE = {}

function M.init(raw_, F_, types_)
  raw, F, types = raw_, F_, types_
  for ev, name in pairs(types.event_types) do
    PUBLISHABLE[tonumber(ffi.typeof(name))] = { ev, 1, name }
    PUBLISHABLE[tonumber(ffi.typeof(name .. " *"))] = { ev, 2, name }
    PUBLISHABLE[tonumber(ffi.typeof("const " .. name .. " *"))] = { ev, 2, name }
  end
end

-- ---- argument checks ---------------------------------------------------------

local function describe(v)
  local t = type(v)
  if t == "string" then return fmt("string '%s'", #v > 40 and (v:sub(1, 40) .. "...") or v) end
  if t == "number" then return fmt("%.17g", v) end
  return t
end

local function field_error(fn, field, expected, v, level)
  error(fmt("%s: field '%s' must be %s, got %s", fn, field, expected, describe(v)), level + 1)
end

local function arg_error(fn, n, name, expected, v, level)
  error(fmt("%s: argument #%d (%s) must be %s, got %s", fn, n, name, expected, describe(v)), level + 1)
end

local function finite(v) return type(v) == "number" and v == v and v ~= huge and v ~= -huge end

-- An enum given by name ("BUY", case-insensitive) or by its number.
local function enum_value(group, v)
  local t = type(v)
  if t == "string" then return types.enums[group][v:upper()] end
  if t == "number" and types.names[group][v] then return v end
  return nil
end

local function enum_names(group, except)
  local out = {}
  for k in pairs(types.enums[group]) do
    if not (except and except[k]) then out[#out + 1] = '"' .. k .. '"' end
  end
  table.sort(out)
  return table.concat(out, ", ")
end

-- ---- building one version's API ----------------------------------------------

-- ctx: vid (version id), handle (the strategy's id), name
function M.build(ctx)
  local vid, my_handle, name = ctx.vid, ctx.handle, ctx.name
  local inst_handles = {}   -- instrument id string -> handle (never changes)
  local u32 = u32_box()

  -- Instrument id ("BTCUSDT.BINANCE") or handle -> handle, or nil.
  local function instrument(v)
    if type(v) == "number" then
      if v >= 1 and v < 2 ^ 32 and v == math.floor(v) and F.cache_instrument_name(F.cache, v) ~= nil then
        return v
      end
      return nil
    end
    local h = inst_handles[v]
    if h then return h end
    if F.cache_instrument_find(F.cache, v, u32) ~= 0 then return nil end
    h = tonumber(u32[0])
    inst_handles[v] = h
    return h
  end

  local function check_instrument(fn, v, level)
    local t = type(v)
    if t ~= "string" and t ~= "number" then
      arg_error(fn, 1, "instrument", 'an instrument id like "BTCUSDT.BINANCE"', v, level + 1)
    end
    return instrument(v)
  end

  -- ---- bus ----------------------------------------------------------------------
  local bus = {}

  function bus.subscribe(pattern, fn, priority)
    if type(pattern) ~= "string" or #pattern == 0 or #pattern > 255 then
      arg_error("bus.subscribe", 1, "pattern", "a topic pattern (1..255 characters)", pattern, 2)
    end
    if type(fn) ~= "function" then arg_error("bus.subscribe", 2, "handler", "a function", fn, 2) end
    if priority ~= nil and not (finite(priority) and priority == math.floor(priority)
                                and priority >= -2 ^ 31 and priority < 2 ^ 31) then
      arg_error("bus.subscribe", 3, "priority", "an integer", priority, 2)
    end
    return raw.subscribe(vid, pattern, fn, priority or 0)
  end

  function bus.unsubscribe(id)
    if type(id) ~= "number" then arg_error("bus.unsubscribe", 1, "id", "a subscription id", id, 2) end
    return raw.unsubscribe(vid, id)
  end

  function bus.publish(topic, msg)
    if type(topic) ~= "string" or #topic == 0 or #topic > 255 then
      arg_error("bus.publish", 1, "topic", "a topic (1..255 characters)", topic, 2)
    end
    if topic:find("[%*%?]") then
      arg_error("bus.publish", 1, "topic", "a topic without '*' or '?'", topic, 2)
    end
    if type(msg) == "cdata" then
      local p = PUBLISHABLE[tonumber(ffi.typeof(msg))]
      if not p then
        error(fmt("bus.publish: argument #2 (msg) must be an event struct or a pointer to one (%s), got %s",
                  "cq_trade_t, cq_quote_t, ...", tostring(ffi.typeof(msg))), 2)
      end
      if p[2] == 2 and msg == nil then
        error("bus.publish: argument #2 (msg) is a NULL pointer", 2)
      end
      local t = msg.hdr.type
      if t ~= p[1] then
        if p[2] == 1 and t == 0 then
          msg.hdr.type = p[1]
        else
          error(fmt("bus.publish: msg.hdr.type is %d, a %s has %d (cq.event.%s)", t, p[3], p[1],
                    types.event_name(p[1])), 2)
        end
      end
      return raw.publish(vid, topic, msg, p[2])
    end
    if topic:sub(1, 5) == "data." or topic:sub(1, 7) == "events." then
      error(fmt("bus.publish: a Lua value cannot go on '%s': C components read data.* and events.* " ..
                "as event structs (publish a cq_* struct, or use another topic)", topic), 2)
    end
    return raw.publish(vid, topic, msg, 0)
  end

  -- ---- exec ---------------------------------------------------------------------
  local exec = {}
  local draft = ffi.new("cq_order_t")
  local SUBMIT_FIELDS = { instrument = true, side = true, type = true, price = true, qty = true,
                          tif = true, trigger_price = true, tag = true, reduce_only = true,
                          post_only = true }
  local ET, EO = types.enums.type, types.enums.opt
  local NEEDS_PRICE = { [ET.LIMIT] = true, [ET.LIMIT_MAKER] = true, [ET.STOP_LIMIT] = true }
  local NEEDS_TRIGGER = { [ET.STOP_MARKET] = true, [ET.STOP_LIMIT] = true }

  function exec.submit(o)
    local fn = "exec.submit"
    if type(o) ~= "table" then
      error(fmt("%s: argument #1 must be a table {instrument=, side=, type=, price=, qty=, ...}, got %s",
                fn, describe(o)), 2)
    end
    for k in pairs(o) do
      if not SUBMIT_FIELDS[k] then error(fmt("%s: unknown field '%s'", fn, tostring(k)), 2) end
    end
    local iv = o.instrument
    if type(iv) ~= "string" and type(iv) ~= "number" then
      field_error(fn, "instrument", 'an instrument id like "BTCUSDT.BINANCE"', iv, 2)
    end
    local inst = instrument(iv)
    if not inst then error(fmt("%s: field 'instrument': unknown instrument %s", fn, describe(iv)), 2) end
    local side = enum_value("side", o.side)
    if side ~= 1 and side ~= 2 then field_error(fn, "side", '"BUY" or "SELL"', o.side, 2) end
    local otype
    if o.type == nil then
      otype = o.price ~= nil and ET.LIMIT or ET.MARKET
    else
      otype = enum_value("type", o.type)
      if not otype then field_error(fn, "type", "one of " .. enum_names("type"), o.type, 2) end
    end
    local qty = o.qty
    if not (finite(qty) and qty > 0) then field_error(fn, "qty", "a positive number", qty, 2) end
    local price = o.price
    if NEEDS_PRICE[otype] then
      if not (finite(price) and price > 0) then
        field_error(fn, "price", "a positive number for a " .. types.type_name(otype) .. " order", price, 2)
      end
    elseif price ~= nil and price ~= 0 then
      field_error(fn, "price", "nil for a " .. types.type_name(otype) .. " order", price, 2)
    end
    local trigger = o.trigger_price
    if NEEDS_TRIGGER[otype] then
      if not (finite(trigger) and trigger > 0) then
        field_error(fn, "trigger_price", "a positive number for a " .. types.type_name(otype) .. " order",
                    trigger, 2)
      end
    elseif trigger ~= nil and trigger ~= 0 then
      field_error(fn, "trigger_price", "nil for a " .. types.type_name(otype) .. " order", trigger, 2)
    end
    local tif = 0
    if o.tif ~= nil then
      tif = enum_value("tif", o.tif)
      if not tif then field_error(fn, "tif", "one of " .. enum_names("tif"), o.tif, 2) end
    end
    local tag = o.tag
    if tag ~= nil and (type(tag) ~= "string" or #tag > 31) then
      field_error(fn, "tag", "a string of at most 31 characters", tag, 2)
    end
    local opts = 0
    if o.reduce_only ~= nil then
      if type(o.reduce_only) ~= "boolean" then field_error(fn, "reduce_only", "a boolean", o.reduce_only, 2) end
      if o.reduce_only then opts = opts + EO.REDUCE_ONLY end
    end
    if o.post_only ~= nil then
      if type(o.post_only) ~= "boolean" then field_error(fn, "post_only", "a boolean", o.post_only, 2) end
      if o.post_only then
        -- post-only is spelled LIMIT_MAKER at the engine
        if otype == ET.LIMIT then otype = ET.LIMIT_MAKER
        elseif otype ~= ET.LIMIT_MAKER then
          field_error(fn, "post_only", "false for a " .. types.type_name(otype) .. " order", true, 2)
        end
      end
    end
    ffi.fill(draft, ORDER_SIZE)
    draft.hdr.instrument = inst
    draft.hdr.strategy = my_handle
    draft.side, draft.type, draft.tif, draft.opts = side, otype, tif, opts
    draft.price, draft.trigger_price, draft.qty = price or 0, trigger or 0, qty
    if tag then ffi.copy(draft.tag, tag) end
    return raw.submit(vid, draft)
  end

  local function order_id(fn, v)
    if type(v) == "string" then
      if #v == 0 or #v > 36 then arg_error(fn, 1, "id", "a client order id", v, 3) end
      return v
    end
    if type(v) == "cdata" and (istype("cq_order_t *", v) or istype("const cq_order_t *", v)
                               or istype("cq_order_t", v)) then
      return ffi.string(v.client_order_id)
    end
    arg_error(fn, 1, "id", "a client order id (string) or an order", v, 3)
  end

  function exec.cancel(id)
    return raw.cancel(vid, order_id("exec.cancel", id))
  end

  function exec.modify(id, changes)
    local fn = "exec.modify"
    id = order_id(fn, id)
    if type(changes) ~= "table" then arg_error(fn, 2, "changes", "a table {price=, qty=}", changes, 2) end
    for k in pairs(changes) do
      if k ~= "price" and k ~= "qty" then error(fmt("%s: unknown field '%s'", fn, tostring(k)), 2) end
    end
    local p, q = changes.price, changes.qty
    if p ~= nil and not (finite(p) and p > 0) then field_error(fn, "price", "a positive number", p, 2) end
    if q ~= nil and not (finite(q) and q > 0) then field_error(fn, "qty", "a positive number", q, 2) end
    if p == nil and q == nil then error(fn .. ": give a new price or qty (or both)", 2) end
    return raw.modify(vid, id, p or 0, q or 0)
  end

  function exec.cancel_all(inst)
    local h = 0
    if inst ~= nil then
      h = check_instrument("exec.cancel_all", inst, 2)
      if not h then return 0 end
    end
    return raw.cancel_all(vid, h)
  end

  -- ---- cache --------------------------------------------------------------------
  local cache = {}

  function cache.order(id)
    if type(id) ~= "string" then arg_error("cache.order", 1, "id", "a client order id", id, 2) end
    local p = F.cache_order(F.cache, id)
    if p == nil then return nil end
    return cast(const_order_p, p)
  end

  local SETS = { all = 0, open = 1, closed = 2, inflight = 3 }
  local ORDERS_FIELDS = { status = true, instrument = true, strategy = true }

  function cache.orders(q)
    local fn = "cache.orders"
    if q == nil then q = {} end
    if type(q) ~= "table" then arg_error(fn, 1, "query", "a table {status=, instrument=, strategy=}", q, 2) end
    for k in pairs(q) do
      if not ORDERS_FIELDS[k] then error(fmt("%s: unknown field '%s'", fn, tostring(k)), 2) end
    end
    local set, exact = 0, nil
    if q.status ~= nil then
      if type(q.status) ~= "string" then
        field_error(fn, "status", '"open", "closed", "inflight", "all" or a status name', q.status, 2)
      end
      set = SETS[q.status:lower()]
      if not set then
        exact = types.enums.status[q.status:upper()]
        if not exact then
          field_error(fn, "status", '"open", "closed", "inflight", "all" or a status name', q.status, 2)
        end
        set = 0
      end
    end
    local qi = 0
    if q.instrument ~= nil then
      if type(q.instrument) ~= "string" and type(q.instrument) ~= "number" then
        field_error(fn, "instrument", "an instrument id", q.instrument, 2)
      end
      qi = instrument(q.instrument)
      if not qi then return {} end
    end
    local qs = my_handle
    if q.strategy ~= nil then
      if q.strategy == "*" then
        qs = 0
      elseif type(q.strategy) == "string" then
        if F.cache_strategy_find(F.cache, q.strategy, u32) ~= 0 then return {} end
        qs = tonumber(u32[0])
      else
        field_error(fn, "strategy", 'a strategy name or "*"', q.strategy, 2)
      end
    end
    local query = order_query(set, qi, qs)
    local n = tonumber(F.cache_orders(F.cache, query, nil, 0))
    local out = {}
    if n <= 0 then return out end
    local buf = order_buf(n)
    n = math.min(n, tonumber(F.cache_orders(F.cache, query, buf, n)))
    for i = 0, n - 1 do
      local o = buf[i]
      if exact == nil or o.status == exact then out[#out + 1] = cast(const_order_p, o) end
    end
    return out
  end

  local posbox = pos_box()
  function cache.position(inst, strategy)
    local h = check_instrument("cache.position", inst, 2)
    local sh = my_handle
    if strategy ~= nil then
      if type(strategy) ~= "string" then
        arg_error("cache.position", 2, "strategy", "a strategy name", strategy, 2)
      end
      if F.cache_strategy_find(F.cache, strategy, u32) ~= 0 then return nil end
      sh = tonumber(u32[0])
    end
    if not h or sh == 0 then return nil end
    if F.cache_position_get(F.cache, h, sh, posbox) ~= 0 then return nil end
    return cast(const_pos_p, posbox[0])
  end

  local function book_of(fn, inst)
    local h = check_instrument(fn, inst, 3)
    if not h or F.data == nil then return nil end
    if F.data_book_valid(F.data, h) == 0 then return nil end
    local b = F.data_book(F.data, h)
    if b == nil then return nil end
    return b
  end

  local nbox = size_box()
  function cache.book(inst, depth)
    if depth ~= nil and not (finite(depth) and depth >= 1 and depth == math.floor(depth)) then
      arg_error("cache.book", 2, "depth", "a positive integer", depth, 2)
    end
    local b = book_of("cache.book", inst)
    if not b then return nil end
    depth = math.min(depth or 10, 5000)
    local buf = level_buf(depth)
    local out = {}
    for _, side in ipairs({ { "bids", 1 }, { "asks", 2 } }) do
      local levels = {}
      F.book_depth_levels(b, side[2], buf, depth, nbox)
      for i = 0, tonumber(nbox[0]) - 1 do levels[i + 1] = { buf[i].price, buf[i].qty } end
      out[side[1]] = levels
    end
    return out
  end

  local topev = ffi.new("cq_book_event_t")
  function cache.top(inst)
    local b = book_of("cache.top", inst)
    if not b then return nil end
    F.book_top(b, topev)
    return topev.bid_price, topev.bid_qty, topev.ask_price, topev.ask_qty
  end

  function cache.quote(inst)
    local h = check_instrument("cache.quote", inst, 2)
    if not h then return nil end
    local p = F.cache_quote(F.cache, h)
    if p == nil then return nil end
    return p
  end

  function cache.trade(inst)
    local h = check_instrument("cache.trade", inst, 2)
    if not h then return nil end
    local p = F.cache_trade(F.cache, h)
    if p == nil then return nil end
    return p
  end

  function cache.instrument(inst)
    local h = check_instrument("cache.instrument", inst, 2)
    if not h then return nil end
    local p = F.cache_instrument(F.cache, h)
    if p == nil then return nil end
    return p
  end

  -- ---- clock and timers -------------------------------------------------------------
  local clock = {}
  function clock.now() return tonumber(F.clock[0]) end
  function clock.now64() return F.clock[0] end

  local timer = {}
  function timer.after(ms, fn)
    if not (finite(ms) and ms >= 0) then arg_error("timer.after", 1, "ms", "a number >= 0", ms, 2) end
    if type(fn) ~= "function" then arg_error("timer.after", 2, "fn", "a function", fn, 2) end
    return raw.timer(vid, ms, false, fn)
  end
  function timer.every(ms, fn)
    if not (finite(ms) and ms >= 1e-6) then
      arg_error("timer.every", 1, "ms", "a number >= 0.000001 (1 ns)", ms, 2)
    end
    if type(fn) ~= "function" then arg_error("timer.every", 2, "fn", "a function", fn, 2) end
    return raw.timer(vid, ms, true, fn)
  end
  function timer.cancel(id)
    if type(id) ~= "number" then arg_error("timer.cancel", 1, "id", "a timer id", id, 2) end
    return raw.timer_cancel(vid, id)
  end

  -- ---- log ------------------------------------------------------------------------------
  local log = {}
  local L = types.enums.level
  local function logger(lvl, lname)
    local fname = "log." .. lname
    return function(f, ...)
      local min = F.log ~= nil and F.log.level or L.WARN
      if lvl < min then return end
      local msg
      if select("#", ...) > 0 then
        if type(f) ~= "string" then arg_error(fname, 1, "format", "a format string", f, 2) end
        local ok, s = pcall(fmt, f, ...)
        if not ok then error(fname .. ": " .. tostring(s):gsub("^.-: ", "", 1), 2) end
        msg = s
      else
        msg = tostring(f)
      end
      F.log_write(F.log, lvl, name, msg)
    end
  end
  log.debug = logger(L.DEBUG, "debug")
  log.info = logger(L.INFO, "info")
  log.warn = logger(L.WARN, "warn")
  log.error = logger(L.ERROR, "error")

  return { bus = bus, exec = exec, cache = cache, clock = clock, timer = timer, log = log }
end

return M
