/*
 * test_lua_host.c - the Lua strategy host (strategy.h): the issue's example
 * strategy, the life cycle, callbacks and routing, error isolation.
 */
#include <stdio.h>
#include <string.h>

#include "cquant/error.h"
#include "support/cq_test.h"
#include "support/lua_fx.h"

#define REQUIRE(c)                                                                  \
    do {                                                                            \
        if (!(c))                                                                   \
            ck_abort_msg("%s:%d: requirement failed: %s", __FILE__, __LINE__, #c);  \
    } while (0)

static const char *EXAMPLE =
    "local S = {}\n"
    "local n = 0\n"
    "function S.on_start()\n"
    "  bus.subscribe(\"data.trades.BINANCE.BTCUSDT\", function(t)\n"
    "    n = n + 1\n"
    "    if t.price < params.buy_below then\n"
    "      exec.submit{ instrument = \"BTCUSDT.BINANCE\", side = \"BUY\",\n"
    "                   type = \"LIMIT\", price = t.price, qty = 0.001 }\n"
    "    end\n"
    "  end)\n"
    "  timer.every(1000, function() log.info(\"trades seen: %d\", n) end)\n"
    "end\n"
    "function S.on_order(o) end        -- every state change of this strategy's orders\n"
    "function S.on_fill(f) end\n"
    "function S.on_save() return { n = n } end\n"
    "function S.on_reload(state) n = state.n end\n"
    "return S\n";

START_TEST(test_lua_issue_example_trades_lead_to_orders_at_the_sim)
{
    lfx_t *f = lfx_new(NULL);
    const char *params[] = {"buy_below=99.5", NULL};
    lfx_start(f, "EX", "example.lua", EXAMPLE, params);
    lfx_trade(f, 99.9, 0.01, CQ_SIDE_SELL);
    lfx_trade(f, 99.2, 0.01, CQ_SIDE_SELL);
    lfx_trade(f, 99.3, 0.01, CQ_SIDE_SELL);
    lfx_advance(f, LFX_MS);
    size_t n = 0;
    const cq_order_t *orders = cq_sim_orders(f->sim, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert(orders[0].price == 99.2);
    ck_assert(orders[1].price == 99.3);
    ck_assert(orders[0].qty == 0.001);
    ck_assert_int_eq(orders[0].side, CQ_SIDE_BUY);
    lfx_advance(f, 1000 * LFX_MS);
    ck_assert(lfx_log_has(f, "INFO EX: trades seen: 3"));
    lfx_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lua_host");
    TCase *tc = tcase_create("host");
    tcase_add_test(tc, test_lua_issue_example_trades_lead_to_orders_at_the_sim);
    suite_add_tcase(s, tc);
    return cq_test_run(s);
}
