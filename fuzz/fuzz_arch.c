/* Fuzz target `arch`: the architecture loader (spec/arch.c) on any
 * text, with its diagnostics rendered. */
#include "einflow/spec.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FZ_MAX_INPUT_BYTES) return 0;
    ef_diags *d = ef_diags_create();
    if (!d) return 0;
    ef_arch_spec *a = ef_spec_load_arch_text("<fuzz arch>", (const char *)data, size, d);
    if (!a) fz_check_failed_load(d, "ef_spec_load_arch_text");
    ef_arch_spec_destroy(a);
    ef_diags_destroy(d);
    return 0;
}
