/* Fuzz target `einsum`: the Einsum parser and checker
 * (einsum/parse.c, einsum/workload.c) on any text, without the YAML
 * around it. Each line of the input is one Einsum of a cascade; the
 * ranks are a fixed set of small and huge bounds, so the parser meets
 * both affine arithmetic near 64 bits and tensors that get built. What
 * it accepts is evaluated once at every operand = 1.5, to run the
 * expression evaluator over the trees it made. */
#include <string.h>

#include "einflow/einsum.h"
#include "einflow/spec.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    const char *name;
    uint64_t bound;
} ranks[] = {
    {"B", 2}, {"C", 3}, {"E", 4}, {"F", 2}, {"G", 2}, {"H", 1}, {"K", 5}, {"M", 3},
    {"N", 1}, {"P", 7}, {"Q", 4}, {"R", 3}, {"S", 2}, {"X", UINT64_C(1) << 20},
    {"Y", UINT64_C(1) << 40}, {"Z", UINT64_C(9223372036854775807)},
};

/* The spec a workload file with these Einsums would give. */
static ef_workload_spec *spec_from(const char *text, size_t size) {
    ef_workload_spec *ws = calloc(1, sizeof *ws);
    if (!ws || !(ws->file = strdup("<fuzz einsum>"))) {
        free(ws);
        return NULL;
    }
    snprintf(ws->name, sizeof ws->name, "fuzz");
    ws->default_bits = 8;
    ws->loc = (ef_loc){.file = ws->file, .line = 1, .col = 1};
    for (size_t r = 0; r < sizeof ranks / sizeof ranks[0]; r++) {
        ef_rank_spec *rs = &ws->ranks[ws->rank_count++];
        snprintf(rs->name, sizeof rs->name, "%s", ranks[r].name);
        rs->bound = ranks[r].bound;
        rs->loc = ws->loc;
    }
    size_t at = 0;
    for (int line = 1; at < size && ws->einsum_count < EF_MAX_EINSUMS; line++) {
        size_t end = at;
        while (end < size && text[end] != '\n' && text[end] != '\0') end++;
        ef_einsum_text *e = &ws->einsums[ws->einsum_count];
        if (!(e->text = strndup(text + at, end - at))) break;
        e->loc = (ef_loc){.file = ws->file, .line = line, .col = 1};
        snprintf(e->path, sizeof e->path, "einsums[%d]", ws->einsum_count);
        ws->einsum_count++;
        at = end + 1;
    }
    return ws;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FZ_MAX_INPUT_BYTES) return 0;
    ef_workload_spec *ws = spec_from((const char *)data, size);
    ef_diags *d = ef_diags_create();
    if (!ws || !d || ws->einsum_count == 0) goto done;
    ef_workload *w = ef_einsum_build(ws, d);
    if (!w) fz_check_failed_load(d, "ef_einsum_build");
    for (int e = 0; w && e < w->einsum_count; e++) {
        const ef_einsum *es = &w->einsums[e];
        double values[EF_MAX_TENSORS];
        for (int i = 0; i < EF_MAX_TENSORS; i++) values[i] = 1.5;
        if (es->root < 0 || es->root >= es->node_count)
            FZ_FAIL("Einsum %d: root %d outside its %d nodes", e, es->root, es->node_count);
        (void)ef_einsum_eval(es, es->root, values);
    }
    ef_workload_destroy(w);
done:
    ef_diags_destroy(d);
    ef_workload_spec_destroy(ws);
    return 0;
}
