/*
 * bench_cache.c - cost of the cache's hot lookups.
 *
 * cache.order_by_client_id: random lookups among 100k live orders whose ids
 * look like the execution engine's ("cq-1732425600-000123"). The random
 * sequence of keys is generated before timing and stored contiguously, as a
 * key parsed from a venue report would be in cache, so the loop measures
 * the lookup (hash, table probe, key compare in the order) only.
 *
 * cache.position: random lookups by (instrument, strategy) among 1000
 * positions (100 instruments x 10 strategies).
 *
 * Also measured, for docs/cache.md: lookups by venue order id (Binance's
 * numeric ids), an add + remove pair at steady state (the pool and tables
 * are warm: no allocation), and a status change that moves an order
 * between sets (ACCEPTED <-> PENDING_CANCEL).
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cquant/cache.h"

#ifndef N_ORDERS
#define N_ORDERS 100000
#endif
#define N_SEQ (1u << 16)   /* distinct lookups, replayed in a cycle */
#define KEY_SIZE 24

typedef struct {
    cq_cache_t *cache;
    char (*keys)[KEY_SIZE];
    char (*vkeys)[KEY_SIZE];
    uint32_t (*pairs)[2];
    cq_order_t **orders;
} ctx_t;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static void order_id(char *buf, uint32_t i)
{
    snprintf(buf, KEY_SIZE, "cq-%u-%06u", 1732425600u + i / 1000000u, i % 1000000u);
}

static void bench_order_lookup(void *p, uint64_t n)
{
    ctx_t *x = p;
    for (uint64_t i = 0; i < n; i++) {
        cq_order_t *o = cq_cache_order(x->cache, x->keys[i & (N_SEQ - 1)]);
        CQ_BENCH_USE(o);
    }
}

static void bench_venue_lookup(void *p, uint64_t n)
{
    ctx_t *x = p;
    for (uint64_t i = 0; i < n; i++) {
        cq_order_t *o = cq_cache_order_by_venue_id(x->cache, x->vkeys[i & (N_SEQ - 1)]);
        CQ_BENCH_USE(o);
    }
}

static void bench_add_remove(void *p, uint64_t n)
{
    ctx_t *x = p;
    cq_order_t init = {0}, *o;
    init.status = CQ_OS_SUBMITTED;
    for (uint64_t i = 0; i < n; i++) {
        memcpy(init.client_order_id, "cq-1732425600-new", 18);
        init.client_order_id[17] = (char)('a' + (i & 15));
        if (cq_cache_order_add(x->cache, &init, &o) < 0 || cq_cache_order_remove(x->cache, o) < 0)
            abort();
    }
}

static void bench_set_status(void *p, uint64_t n)
{
    ctx_t *x = p;
    for (uint64_t i = 0; i < n; i++) {
        cq_order_t *o = x->orders[i & (N_SEQ - 1)];
        int32_t s = o->status == CQ_OS_ACCEPTED ? CQ_OS_PENDING_CANCEL : CQ_OS_ACCEPTED;
        if (cq_cache_order_set_status(x->cache, o, s) < 0)
            abort();
    }
}

static void bench_position_lookup(void *p, uint64_t n)
{
    ctx_t *x = p;
    for (uint64_t i = 0; i < n; i++) {
        const uint32_t *k = x->pairs[i & (N_SEQ - 1)];
        cq_position_t *pos = cq_cache_position(x->cache, k[0], k[1]);
        CQ_BENCH_USE(pos);
    }
}

int main(void)
{
    ctx_t x = {0};
    cq_cache_config_t cfg = {.initial_orders = N_ORDERS};
    if (cq_cache_create(&x.cache, &cfg) < 0)
        return 1;
    x.keys = malloc(sizeof *x.keys * N_SEQ);
    x.vkeys = malloc(sizeof *x.vkeys * N_SEQ);
    x.pairs = malloc(sizeof *x.pairs * N_SEQ);
    x.orders = malloc(sizeof *x.orders * N_SEQ);
    if (!x.keys || !x.vkeys || !x.pairs || !x.orders)
        return 1;

    uint32_t inst[100], strat[10];
    for (int i = 0; i < 100; i++) {
        char id[48];
        snprintf(id, sizeof id, "SYM%03dUSDT.BINANCE", i);
        if (cq_cache_instrument_intern(x.cache, id, &inst[i]) < 0)
            return 1;
    }
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "strat%d", i);
        if (cq_cache_strategy_intern(x.cache, name, &strat[i]) < 0)
            return 1;
    }

    for (uint32_t i = 0; i < N_ORDERS; i++) {
        cq_order_t o = {0};
        order_id(o.client_order_id, i);
        o.hdr.instrument = inst[i % 100];
        o.hdr.strategy = strat[i % 10];
        o.status = CQ_OS_ACCEPTED;
        snprintf(o.venue_order_id, sizeof o.venue_order_id, "%llu", 28457000000ull + i * 7ull);
        if (cq_cache_order_add(x.cache, &o, NULL) < 0)
            return 1;
    }
    for (uint32_t i = 0; i < N_SEQ; i++) {
        uint32_t k = (uint32_t)(rng() % N_ORDERS);
        order_id(x.keys[i], k);
        snprintf(x.vkeys[i], KEY_SIZE, "%llu", 28457000000ull + k * 7ull);
        x.orders[i] = cq_cache_order(x.cache, x.keys[i]);
    }
    for (uint32_t i = 0; i < N_SEQ; i++)
        if (!x.orders[i] || cq_cache_order_by_venue_id(x.cache, x.vkeys[i]) != x.orders[i])
            return 1;

    for (int i = 0; i < 100; i++)
        for (int j = 0; j < 10; j++) {
            cq_position_t *p;
            if (cq_cache_position_get(x.cache, inst[i], strat[j], &p) < 0)
                return 1;
        }
    for (uint32_t i = 0; i < N_SEQ; i++) {
        x.pairs[i][0] = inst[rng() % 100];
        x.pairs[i][1] = strat[rng() % 10];
    }

    uint64_t n = 16u * N_SEQ;
    cq_bench_print("cache.order_by_client_id", cq_bench_run(bench_order_lookup, &x, n), n, 0);
    cq_bench_print("cache.position", cq_bench_run(bench_position_lookup, &x, n), n, 0);
    cq_bench_print("cache.order_by_venue_id", cq_bench_run(bench_venue_lookup, &x, n), n, 0);
    cq_bench_print("cache.order_add_remove", cq_bench_run(bench_add_remove, &x, n / 4), n / 4, 0);
    cq_bench_print("cache.order_set_status", cq_bench_run(bench_set_status, &x, n), n, 0);

    free(x.keys);
    free(x.vkeys);
    free(x.pairs);
    free(x.orders);
    cq_cache_destroy(x.cache);
    return 0;
}
