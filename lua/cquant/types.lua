-- cquant.types: the C enums as readable names, and methods on the event
-- structs (ffi.metatype), shared by every strategy of the host.
--
-- The constants are read from the cdef itself (ffi.typeinfo walks every
-- declared constant), so a value added to a header appears here without
-- an edit. Owns: the metatypes of the event structs (set once per state).
-- Must never: allocate on the field-access path (metatype __index runs
-- only for names that are not fields).
local ffi = require("ffi")
local bit = require("bit")

local M = {}

-- prefix in the headers -> name of the table in `cq`
local GROUPS = {
  { "CQ_SIDE_", "side" },
  { "CQ_ORDER_OPT_", "opt" },
  { "CQ_ORDER_", "type" },
  { "CQ_TIF_", "tif" },
  { "CQ_OS_", "status" },
  { "CQ_LIQ_", "liquidity" },
  { "CQ_EVF_", "flag" },
  { "CQ_EV_", "event" },
  { "CQ_VENUE_", "venue_event" },
  { "CQ_BAR_", "bar" },
  { "CQ_BOOK_", "book_action" },
  { "CQ_LOG_", "level" },
  { "CQ_ORDERS_", "orders_set" },
}

-- Every CT_CONSTVAL (enum constant) of the state's C declarations.
local function constants()
  local out = {}
  local id = 1
  while true do
    local ti = ffi.typeinfo(id)
    if not ti then break end
    -- info >> 28 is the CType kind; 11 = CT_CONSTVAL
    if ti.name and bit.rshift(ti.info, 28) == 11 then
      out[#out + 1] = ti.name
    end
    id = id + 1
  end
  return out
end

M.enums = {}   -- group -> { NAME = value }
M.names = {}   -- group -> { [value] = "NAME" }
for _, g in ipairs(GROUPS) do
  M.enums[g[2]] = {}
  M.names[g[2]] = {}
end

for _, cname in ipairs(constants()) do
  if cname:sub(-1) ~= "_" then -- CQ_EV_COUNT_ and the like are not values
    for _, g in ipairs(GROUPS) do
      local p = g[1]
      if cname:sub(1, #p) == p then
        local short = cname:sub(#p + 1)
        local v = tonumber(ffi.C[cname])
        M.enums[g[2]][short] = v
        if M.names[g[2]][v] == nil then M.names[g[2]][v] = short end
        break
      end
    end
  end
end

local function namer(group)
  local names = M.names[group]
  return function(v) return names[tonumber(v) or -1] or "?" end
end

M.side_name = namer("side")
M.type_name = namer("type")
M.tif_name = namer("tif")
M.status_name = namer("status")
M.liquidity_name = namer("liquidity")
M.event_name = namer("event")

local S = M.enums.status
local OPEN = { [S.ACCEPTED] = true, [S.PARTIALLY_FILLED] = true,
               [S.PENDING_CANCEL] = true, [S.PENDING_UPDATE] = true }
local CLOSED = { [S.DENIED] = true, [S.REJECTED] = true, [S.FILLED] = true,
                 [S.CANCELED] = true, [S.EXPIRED] = true }
local INFLIGHT = { [S.SUBMITTED] = true, [S.PENDING_CANCEL] = true,
                   [S.PENDING_UPDATE] = true }
function M.is_open(st) return OPEN[tonumber(st)] == true end
function M.is_closed(st) return CLOSED[tonumber(st)] == true end
function M.is_inflight(st) return INFLIGHT[tonumber(st)] == true end

-- A char[N] field as a Lua string (up to its NUL).
function M.str(a) return ffi.string(a) end

-- The event structs Lua sees, by CQ_EV_* type.
M.event_types = {
  [M.enums.event.TRADE] = "cq_trade_t",
  [M.enums.event.QUOTE] = "cq_quote_t",
  [M.enums.event.BOOK_DELTA] = "cq_book_delta_t",
  [M.enums.event.BOOK] = "cq_book_event_t",
  [M.enums.event.BAR] = "cq_bar_t",
  [M.enums.event.INSTRUMENT] = "cq_instrument_t",
  [M.enums.event.ORDER] = "cq_order_t",
  [M.enums.event.ORDER_EVENT] = "cq_order_event_t",
  [M.enums.event.FILL] = "cq_fill_t",
  [M.enums.event.POSITION] = "cq_position_t",
  [M.enums.event.BALANCE] = "cq_balance_t",
  [M.enums.event.VENUE] = "cq_venue_event_t",
}

-- The `cq` table a strategy sees: a fresh copy per environment, so that
-- one strategy writing into it changes nothing for another.
function M.new_cq()
  local cq = {}
  for g, t in pairs(M.enums) do
    local c = {}
    for k, v in pairs(t) do c[k] = v end
    cq[g] = c
  end
  cq.side_name, cq.type_name, cq.tif_name = M.side_name, M.type_name, M.tif_name
  cq.status_name, cq.liquidity_name, cq.event_name = M.status_name, M.liquidity_name, M.event_name
  cq.is_open, cq.is_closed, cq.is_inflight = M.is_open, M.is_closed, M.is_inflight
  cq.str = M.str
  return cq
end

-- ---- methods on the structs ---------------------------------------------------

local F -- the cq_lua_ffi_t (set by init)

local function inst_id(self)
  local n = F.cache_instrument_name(F.cache, self.hdr.instrument)
  if n == nil then return nil end
  return ffi.string(n)
end

local function strat_name(self)
  local n = F.cache_strategy_name(F.cache, self.hdr.strategy)
  if n == nil then return nil end
  return ffi.string(n)
end

local common = {
  instrument_id = inst_id,
  strategy_name = strat_name,
  event_name = function(self) return M.event_name(self.hdr.type) end,
}

local function methods(ctname, extra, tostr)
  local m = {}
  for k, v in pairs(common) do m[k] = v end
  for k, v in pairs(extra or {}) do m[k] = v end
  ffi.metatype(ctname, {
    -- Only names that are not fields get here: a method, or a typo,
    -- which is an error rather than a silent nil.
    __index = function(_, k)
      local f = m[k]
      if f == nil then
        error(("%s has no field or method '%s'"):format(ctname, tostring(k)), 2)
      end
      return f
    end,
    __tostring = tostr,
  })
end

local fmt = string.format
local function g17(x) return fmt("%.17g", x) end

function M.init(ffi_api)
  F = ffi_api
  methods("cq_trade_t", {
    aggressor_name = function(self) return M.side_name(self.aggressor) end,
  }, function(t)
    return fmt("trade %s %s@%s %s", inst_id(t) or "?", g17(t.qty), g17(t.price), M.side_name(t.aggressor))
  end)
  methods("cq_quote_t", nil, function(q)
    return fmt("quote %s %s x %s / %s x %s", inst_id(q) or "?", g17(q.bid_qty), g17(q.bid_price),
               g17(q.ask_price), g17(q.ask_qty))
  end)
  methods("cq_book_delta_t", { side_name = function(self) return M.side_name(self.side) end })
  methods("cq_book_event_t", nil, function(b)
    return fmt("book %s %s x %s / %s x %s", inst_id(b) or "?", g17(b.bid_qty), g17(b.bid_price),
               g17(b.ask_price), g17(b.ask_qty))
  end)
  methods("cq_bar_t")
  methods("cq_instrument_t", {
    id_str = function(self) return ffi.string(self.id) end,
  }, function(i) return "instrument " .. ffi.string(i.id) end)
  methods("cq_order_t", {
    id = function(self) return ffi.string(self.client_order_id) end,
    venue_id = function(self) return ffi.string(self.venue_order_id) end,
    tag_str = function(self) return ffi.string(self.tag) end,
    side_name = function(self) return M.side_name(self.side) end,
    type_name = function(self) return M.type_name(self.type) end,
    tif_name = function(self) return M.tif_name(self.tif) end,
    status_name = function(self) return M.status_name(self.status) end,
    is_open = function(self) return M.is_open(self.status) end,
    is_closed = function(self) return M.is_closed(self.status) end,
  }, function(o)
    return fmt("order %s %s %s %s %s@%s filled %s %s", ffi.string(o.client_order_id), inst_id(o) or "?",
               M.side_name(o.side), M.type_name(o.type), g17(o.qty), g17(o.price), g17(o.filled_qty),
               M.status_name(o.status))
  end)
  methods("cq_order_event_t", {
    id = function(self) return ffi.string(self.client_order_id) end,
    venue_id = function(self) return ffi.string(self.venue_order_id) end,
    reason_str = function(self) return ffi.string(self.reason) end,
    status_name = function(self) return M.status_name(self.status) end,
    prev_status_name = function(self) return M.status_name(self.prev_status) end,
  }, function(e)
    local r = ffi.string(e.reason)
    return fmt("order event %s %s -> %s%s", ffi.string(e.client_order_id), M.status_name(e.prev_status),
               M.status_name(e.status), r ~= "" and (" (" .. r .. ")") or "")
  end)
  methods("cq_fill_t", {
    id = function(self) return ffi.string(self.client_order_id) end,
    venue_id = function(self) return ffi.string(self.venue_order_id) end,
    trade_id_str = function(self) return ffi.string(self.trade_id) end,
    fee_asset_str = function(self) return ffi.string(self.fee_asset) end,
    side_name = function(self) return M.side_name(self.side) end,
    liquidity_name = function(self) return M.liquidity_name(self.liquidity) end,
  }, function(f)
    return fmt("fill %s %s %s@%s fee %s %s", ffi.string(f.client_order_id), M.side_name(f.side),
               g17(f.qty), g17(f.price), g17(f.fee), ffi.string(f.fee_asset))
  end)
  methods("cq_position_t", nil, function(p)
    return fmt("position %s %s qty %s avg %s realized %s", inst_id(p) or "?", strat_name(p) or "?",
               g17(p.qty), g17(p.avg_price), g17(p.realized_pnl))
  end)
  methods("cq_balance_t", {
    venue_str = function(self) return ffi.string(self.venue) end,
    asset_str = function(self) return ffi.string(self.asset) end,
  })
  methods("cq_venue_event_t", {
    venue_str = function(self) return ffi.string(self.venue) end,
    message_str = function(self) return ffi.string(self.message) end,
  })
end

return M
