/* Fuzz target `workload`: the workload loader (spec/workload.c) on any
 * text, then the Einsum stage (ef_einsum_build) on what it accepts:
 * ranks, parameters, precisions, paddings and init values of a workload
 * file all reach the tensor shapes. */
#include "einflow/einsum.h"
#include "einflow/spec.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FZ_MAX_INPUT_BYTES) return 0;
    ef_diags *d = ef_diags_create();
    if (!d) return 0;
    ef_workload_spec *ws =
        ef_spec_load_workload_text("<fuzz workload>", (const char *)data, size, d);
    if (!ws) {
        fz_check_failed_load(d, "ef_spec_load_workload_text");
    } else {
        ef_workload *w = ef_einsum_build(ws, d);
        if (!w) fz_check_failed_load(d, "ef_einsum_build");
        ef_workload_destroy(w);
    }
    ef_workload_spec_destroy(ws);
    ef_diags_destroy(d);
    return 0;
}
