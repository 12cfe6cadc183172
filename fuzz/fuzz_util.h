/* einflow fuzz harnesses — what every libFuzzer target shares.
 *
 * Each target (fuzz/fuzz_<target>.c) feeds one input through a stage of
 * the pipeline. A crash, a sanitizer report, a hang or an abort() from
 * one of the checks below is a bug to fix in the library, never in the
 * harness: a bad input must end in located diagnostics.
 *
 * Harnesses keep no state between inputs, like the library. */
#ifndef EF_FUZZ_UTIL_H
#define EF_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "einflow/common.h"

/* Inputs larger than this are not specs worth the time; they only
 * slow the fuzzer down. */
#define FZ_MAX_INPUT_BYTES 16384

/* Stops the fuzzer with a message: libFuzzer saves the input. */
#define FZ_FAIL(...)                                        \
    do {                                                    \
        fprintf(stderr, "fuzz check failed (%s:%d): ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                       \
        fputc('\n', stderr);                                \
        abort();                                            \
    } while (0)

/* A loader that returns NULL has said why (spec.h: "NULL and adds
 * diagnostics on any error"); renders them, as the CLI would, to run
 * the renderer on whatever the input put into them. */
static inline void fz_check_failed_load(const ef_diags *d, const char *what) {
    if (d->count == 0 && d->dropped == 0)
        FZ_FAIL("%s failed without a diagnostic", what);
    for (size_t i = 0; i < d->count; i++)
        if (!d->items[i].message || !d->items[i].message[0])
            FZ_FAIL("%s: diagnostic %zu has no message", what, i);
    free(ef_diags_render(d));
}

#endif
