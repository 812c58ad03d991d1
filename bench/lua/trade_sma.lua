-- trade_sma.lua - the benchmark's "Lua strategy on trades keeping a moving
-- average": an exponential and a 100-trade simple moving average of trade
-- prices, updated on every trade; no orders.
local S = {}
local n, ema, sum, buf, i = 0, nil, 0, {}, 0
local W = 100
local function on_trade(t)
  local p = t.price
  n = n + 1
  ema = ema and ema + 0.01 * (p - ema) or p
  i = i % W + 1
  sum = sum + p - (buf[i] or 0)
  buf[i] = p
end
function S.on_start()
  local sym, venue = params.instrument:match("^([^.]+)%.(.+)$")
  bus.subscribe(("data.trades.%s.%s"):format(venue, sym), on_trade)
end
function S.on_stop() log.info("trades %d, ema %.2f, sma %.2f", n, ema or 0, sum / W) end
return S
