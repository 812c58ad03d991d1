-- book_imbalance.lua - a tick-level signal: the imbalance of the size at
-- the best bid and ask predicts the next move of the mid.
--
--   imbalance = (bid_qty - ask_qty) / (bid_qty + ask_qty)   in [-1, 1]
--
-- Above `enter` and flat: buy `size` at market. Below `exit` while long:
-- sell the position. At most one order every `cooldown_ms`, and none while
-- one is working. Reads only the top of book from the book event, so it
-- does no allocation per event.
--
-- Parameters: instrument (default: the run's), size (0.001), enter (0.6),
-- exit (-0.2), cooldown_ms (1000).

local S = {}

local P = {
  instrument = params.instrument,
  size = params.size or 0.001,
  enter = params.enter or 0.6,
  exit = params.exit or -0.2,
  cooldown_ms = params.cooldown_ms or 1000,
}

local last_ns, working = 0, nil
local signals = 0

local function position()
  local p = cache.position(P.instrument)
  return p and p.qty or 0
end

local function on_book(b)
  local total = b.bid_qty + b.ask_qty
  if working or total <= 0 then return end
  local now = clock.now()
  if now - last_ns < P.cooldown_ms * 1e6 then return end
  local imb = (b.bid_qty - b.ask_qty) / total
  local q = position()
  if imb > P.enter and q <= 0 then
    working = exec.submit{ instrument = P.instrument, side = "BUY", type = "MARKET", qty = P.size }
  elseif imb < P.exit and q > 0 then
    working = exec.submit{ instrument = P.instrument, side = "SELL", type = "MARKET", qty = q }
  else
    return
  end
  signals = signals + 1
  last_ns = now
end

function S.on_order(ev)
  if working and cq.is_closed(ev.status) and ev:id() == working then
    working = nil
  end
end

function S.on_start()
  local sym, venue = P.instrument:match("^([^.]+)%.(.+)$")
  bus.subscribe(("data.book.%s.%s"):format(venue, sym), on_book)
end

function S.on_stop() log.info("signals %d, position %.5f", signals, position()) end

return S
