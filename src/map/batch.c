/* Many mapper searches at once — the Einsums of a cascade, the layers
 * of a network, the dataflows of a comparison — on a pool of threads.
 * Each search has its own seed and writes only its own result, so the
 * results do not depend on the thread count; diagnostics are merged
 * in job order. */
#include "einflow/map.h"

#include <stdlib.h>

typedef struct {
    const ef_map_job *jobs;
    ef_map_result *out;
    ef_status *status;
    ef_diags **diags;
} batch;

static void search_one(void *ctx, int i) {
    batch *b = ctx;
    const ef_map_job *j = &b->jobs[i];
    b->status[i] = ef_map_search(j->arch, j->workload, j->einsum, &j->options, &b->out[i],
                                 b->diags[i]);
}

ef_status ef_map_search_all(const ef_map_job *jobs, int count, int threads,
                            ef_map_result *out, ef_diags *diags) {
    batch b = {.jobs = jobs, .out = out};
    b.status = ef_calloc((size_t)count + 1, sizeof *b.status);
    b.diags = ef_calloc((size_t)count + 1, sizeof *b.diags);
    ef_status st = b.status && b.diags ? EF_OK : EF_ERR_NOMEM;
    for (int i = 0; st == EF_OK && i < count; i++)
        if (!(b.diags[i] = ef_diags_create())) st = EF_ERR_NOMEM;
    if (st == EF_OK) st = ef_parallel_for(count, threads, search_one, &b);
    for (int i = 0; st == EF_OK && i < count; i++) ef_diags_merge(diags, b.diags[i]);
    for (int i = 0; st == EF_OK && i < count; i++)
        if (b.status[i] != EF_OK) st = b.status[i];
    for (int i = 0; b.diags && i < count; i++) ef_diags_destroy(b.diags[i]);
    free(b.diags);
    free(b.status);
    return st;
}
