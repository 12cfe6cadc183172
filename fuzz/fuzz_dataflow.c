/* Fuzz target `dataflow`: the dataflow template loader
 * (spec/dataflow.c) on any text, with its diagnostics rendered. */
#include "einflow/spec.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FZ_MAX_INPUT_BYTES) return 0;
    ef_diags *d = ef_diags_create();
    if (!d) return 0;
    ef_dataflow_spec *df =
        ef_spec_load_dataflow_text("<fuzz dataflow>", (const char *)data, size, d);
    if (!df) fz_check_failed_load(d, "ef_spec_load_dataflow_text");
    ef_dataflow_spec_destroy(df);
    ef_diags_destroy(d);
    return 0;
}
