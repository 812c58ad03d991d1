-- market_maker.lua - quotes a bid and an ask around the mid, skewed by
-- inventory, and keeps them there with limit orders and cancels.
--
-- Each book update: fair price = mid - skew * position (a long position
-- lowers both quotes, so the ask is more likely to fill and the bid less).
-- The bid goes half_spread below it, the ask half_spread above, both
-- rounded away from the mid to the tick, and never through the touch (a
-- post-only quote would be rejected, a plain one would take). A side whose
-- fill would push |position| past max_position is not quoted. Quotes are
-- replaced only when their price is off by requote_bps or more, and not
-- more often than every min_requote_ms, so the order rate stays bounded.
--
-- Parameters (--param k=v): instrument (default: the run's instrument),
-- size (0.01), half_spread_bps (1), skew_bps (10: bps of mid per unit of
-- position), max_position (0.05), requote_bps (0.3: a quote moves when its
-- target moved this much), min_requote_ms (250).

local S = {}

local P = {
  instrument = params.instrument,
  size = params.size or 0.01,
  half_spread_bps = params.half_spread_bps or 1,
  skew_bps = params.skew_bps or 10,
  max_position = params.max_position or 0.05,
  requote_bps = params.requote_bps or 0.3,
  min_requote_ms = params.min_requote_ms or 250,
}

local tick, last_quote_ns = 0.01, 0
local bid_id, bid_px, ask_id, ask_px      -- our working quotes
local quotes, fills = 0, 0

local function venue_symbol(id)
  local sym, venue = id:match("^([^.]+)%.(.+)$")
  return venue, sym
end

local function pos()
  local p = cache.position(P.instrument)
  return p and p.qty or 0
end

-- keep one order per side: replace it when the target moved enough
local function requote(side, id, px, target, allowed)
  if id and (not allowed or math.abs(px - target) >= math.max(tick, px * P.requote_bps * 1e-4) - 1e-9) then
    exec.cancel(id)
    id, px = nil, nil
  end
  if not id and allowed then
    local new, why = exec.submit{ instrument = P.instrument, side = side, type = "LIMIT_MAKER",
                                   price = target, qty = P.size, tag = "mm" }
    if new then
      quotes = quotes + 1
      return new, target
    end
    log.debug("%s quote denied: %s", side, why)
  end
  return id, px
end

local function on_book(b)
  if b.bid_price <= 0 or b.ask_price <= 0 then return end
  local now = clock.now()
  if now - last_quote_ns < P.min_requote_ms * 1e6 then return end
  last_quote_ns = now
  local mid = (b.bid_price + b.ask_price) / 2
  local q = pos()
  local fair = mid * (1 - P.skew_bps * 1e-4 * q)
  local half = mid * P.half_spread_bps * 1e-4
  local bid = math.floor((fair - half) / tick) * tick
  local ask = math.ceil((fair + half) / tick) * tick
  if bid >= b.ask_price then bid = b.ask_price - tick end  -- stay a maker
  if ask <= b.bid_price then ask = b.bid_price + tick end
  bid_id, bid_px = requote("BUY", bid_id, bid_px, bid, q + P.size <= P.max_position + 1e-12)
  ask_id, ask_px = requote("SELL", ask_id, ask_px, ask, q - P.size >= -P.max_position - 1e-12)
end

function S.on_start()
  assert(P.instrument, "market_maker: no instrument (--param instrument=SYMBOL.VENUE)")
  local inst = cache.instrument(P.instrument)
  assert(inst, "market_maker: unknown instrument " .. P.instrument)
  tick = inst.tick_size
  local venue, sym = venue_symbol(P.instrument)
  bus.subscribe("data.book." .. venue .. "." .. sym, on_book)
  timer.every(5000, function()
    log.info("position %.5f, quotes sent %d, fills %d", pos(), quotes, fills)
  end)
end

-- a quote that is done (filled, cancelled, rejected) frees its side
function S.on_order(ev, o)
  if cq.is_closed(ev.status) then
    local id = ev:id()
    if id == bid_id then bid_id, bid_px = nil, nil end
    if id == ask_id then ask_id, ask_px = nil, nil end
  end
end

function S.on_fill(f)
  fills = fills + 1
end

function S.on_save()
  return { bid_id = bid_id, bid_px = bid_px, ask_id = ask_id, ask_px = ask_px,
           quotes = quotes, fills = fills }
end

function S.on_reload(st)
  bid_id, bid_px, ask_id, ask_px = st.bid_id, st.bid_px, st.ask_id, st.ask_px
  quotes, fills = st.quotes, st.fills
end

return S
