/* Fuzz target `network`: the network loader (spec/network.c:
 * parameters and their expressions, batch, layer counts, causal masks
 * split into blocks) on any text, then the Einsum stage on every layer.
 * The input's first byte, when it is a digit, sets the batch (as
 * --batch N does); the rest is the file. */
#include "einflow/einsum.h"
#include "einflow/spec.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FZ_MAX_INPUT_BYTES) return 0;
    ef_param_value batch = {.name = "batch", .value = 0};
    int set_count = 0;
    if (size > 0 && data[0] >= '1' && data[0] <= '9') {
        batch.value = (uint64_t)(data[0] - '0');
        set_count = 1;
        data++;
        size--;
    }
    ef_diags *d = ef_diags_create();
    if (!d) return 0;
    ef_network_spec *n = ef_spec_load_network_text("<fuzz network>", (const char *)data, size,
                                                   &batch, set_count, d);
    if (!n) fz_check_failed_load(d, "ef_spec_load_network_text");
    for (int i = 0; n && i < n->layer_count; i++) {
        if (!n->layers[i].workload) FZ_FAIL("layer %d has no workload", i);
        ef_diags_clear(d);
        ef_workload *w = ef_einsum_build(n->layers[i].workload, d);
        if (!w) fz_check_failed_load(d, "ef_einsum_build");
        ef_workload_destroy(w);
    }
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    return 0;
}
