/* Fuzz target `mapping`: the mapping loader (spec/mapping.c) on any
 * text, with its diagnostics rendered. */
#include "einflow/spec.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FZ_MAX_INPUT_BYTES) return 0;
    ef_diags *d = ef_diags_create();
    if (!d) return 0;
    ef_mapping_spec *m = ef_spec_load_mapping_text("<fuzz mapping>", (const char *)data, size, d);
    if (!m) fz_check_failed_load(d, "ef_spec_load_mapping_text");
    ef_mapping_spec_destroy(m);
    ef_diags_destroy(d);
    return 0;
}
