-- sma_cross.lua - the classic: long when the fast moving average of bar
-- closes is above the slow one, flat otherwise.
--
-- Bars come from the DataEngine (subscribing to data.bars.<VENUE>.<SYMBOL>.
-- <SPEC> asks it to build them from trades). On each closed bar the two
-- simple moving averages are updated in O(1) with ring buffers; a cross
-- up buys `size` at market, a cross down sells the whole position.
--
-- Parameters: instrument (default: the run's), bar ("1m"), fast (10),
-- slow (30), size (0.01).

local S = {}

local P = {
  instrument = params.instrument,
  bar = params.bar or "1m",
  fast = params.fast or 10,
  slow = params.slow or 30,
  size = params.size or 0.01,
}

-- a simple moving average over the last n values, O(1) per update
local function sma(n)
  local buf, i, sum, count = {}, 0, 0, 0
  return function(x)
    i = i % n + 1
    if count == n then sum = sum - buf[i] else count = count + 1 end
    buf[i] = x
    sum = sum + x
    return count == n and sum / n or nil
  end
end

local fast, slow = sma(P.fast), sma(P.slow)
local above          -- was fast above slow at the last bar?
local bars, crosses = 0, 0

local function position()
  local p = cache.position(P.instrument)
  return p and p.qty or 0
end

local function on_bar(b)
  bars = bars + 1
  local f, s = fast(b.close), slow(b.close)
  if not (f and s) then return end
  local now_above = f > s
  if above ~= nil and now_above ~= above then
    crosses = crosses + 1
    local q = position()
    if now_above and q <= 0 then
      exec.submit{ instrument = P.instrument, side = "BUY", type = "MARKET", qty = P.size, tag = "cross-up" }
    elseif not now_above and q > 0 then
      exec.submit{ instrument = P.instrument, side = "SELL", type = "MARKET", qty = q, tag = "cross-down" }
    end
  end
  above = now_above
end

function S.on_start()
  assert(P.fast < P.slow, "sma_cross: fast must be shorter than slow")
  local sym, venue = P.instrument:match("^([^.]+)%.(.+)$")
  bus.subscribe(("data.bars.%s.%s.%s"):format(venue, sym, P.bar), on_bar)
end

function S.on_stop()
  log.info("bars %d, crosses %d, position %.5f", bars, crosses, position())
end

function S.on_save() return { above = above, bars = bars, crosses = crosses } end
function S.on_reload(st) above, bars, crosses = st.above, st.bars, st.crosses end

return S
