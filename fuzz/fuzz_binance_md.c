/*
 * fuzz_binance_md.c - libFuzzer target: the fast Binance market-data decoder
 * against the cJSON reference, on arbitrary bytes.
 *
 * Any disagreement outside the documented exceptions (tests/bn_md_diff.h,
 * docs/binance-codec.md) aborts, as does any memory error or undefined
 * behaviour (built with ASan + UBSan). Level capacity depends on the input
 * length so that both CQ_EFULL and long level arrays are reached.
 *
 *   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCQ_FUZZ=ON
 *   cmake --build build-fuzz --target fuzz_binance_md
 *   build-fuzz/fuzz_binance_md -dict=fuzz/binance_md.dict -max_len=4096 \
 *       fuzz/work fuzz/corpus/binance_md
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bn_md_diff.h"

enum { FUZZ_CAP = 256 };
static cq_bn_level_t b1[FUZZ_CAP], a1[FUZZ_CAP], b2[FUZZ_CAP], a2[FUZZ_CAP];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bn_diff_t d;
    memset(&d, 0, sizeof d);
    d.bids1 = b1;
    d.asks1 = a1;
    d.bids2 = b2;
    d.asks2 = a2;
    d.cap = size % 3 == 0 ? 2 : FUZZ_CAP;
    char msg[512];
    if (bn_diff(&d, (const char *)data, size, msg, sizeof msg)) {
        fprintf(stderr, "decoders disagree: %s\n", msg);
        abort();
    }
    return 0;
}
