-- example.lua - the strategy of docs/lua-api.md: buys 0.001 BTC at the
-- trade price whenever BTCUSDT trades below params.buy_below, and logs how
-- many trades it has seen every second.
--
--   cquant run strategies/example.lua buy_below=60000
local S = {}
local n = 0
function S.on_start()
  bus.subscribe("data.trades.BINANCE.BTCUSDT", function(t)
    n = n + 1
    if t.price < params.buy_below then
      exec.submit{ instrument = "BTCUSDT.BINANCE", side = "BUY",
                   type = "LIMIT", price = t.price, qty = 0.001 }
    end
  end)
  timer.every(1000, function() log.info("trades seen: %d", n) end)
end
function S.on_order(o) end        -- every state change of this strategy's orders
function S.on_fill(f) end
function S.on_save() return { n = n } end
function S.on_reload(state) n = state.n end
return S
