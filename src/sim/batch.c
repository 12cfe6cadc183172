/* Runs many nests (the Einsums of a cascade, the layers of a network)
 * on a pool of threads. Each run owns its own result and diagnostics,
 * and nothing is shared but read-only inputs, so results do not depend
 * on the thread count; diagnostics are merged in nest order. Value
 * checks chain outputs into later inputs, so they run in order. */
#include "sim/engine.h"

#include <stdlib.h>

typedef struct {
    ef_nest *const *nests;
    const ef_sim_options *opt;
    ef_result **out;
    ef_status *status;
    ef_diags **diags;
} batch;

static void run_one(void *ctx, int i) {
    batch *b = ctx;
    b->out[i] = ef_sim_run(b->nests[i], b->opt, NULL, b->diags[i], &b->status[i]);
}

ef_status ef_sim_run_all(ef_nest *const *nests, int count, const ef_sim_options *opt,
                         ef_values *values, int threads, ef_result **out,
                         ef_diags *diags) {
    for (int i = 0; i < count; i++) out[i] = NULL;
    if (opt->check_values || threads <= 1 || count <= 1) {
        for (int i = 0; i < count; i++) {
            ef_status st;
            out[i] = ef_sim_run(nests[i], opt, values, diags, &st);
            if (!out[i]) return st;
        }
        return EF_OK;
    }
    batch b = {.nests = nests, .opt = opt, .out = out};
    b.status = ef_calloc((size_t)count, sizeof *b.status);
    b.diags = ef_calloc((size_t)count, sizeof *b.diags);
    ef_status st = b.status && b.diags ? EF_OK : EF_ERR_NOMEM;
    for (int i = 0; st == EF_OK && i < count; i++)
        if (!(b.diags[i] = ef_diags_create())) st = EF_ERR_NOMEM;
    if (st == EF_OK) st = ef_parallel_for(count, threads, run_one, &b);
    for (int i = 0; st == EF_OK && i < count; i++) ef_diags_merge(diags, b.diags[i]);
    for (int i = 0; st == EF_OK && i < count; i++)
        if (!out[i]) st = b.status[i];
    for (int i = 0; b.diags && i < count; i++) ef_diags_destroy(b.diags[i]);
    free(b.diags);
    free(b.status);
    return st;
}

/* A traced cascade: one group after another on the calling thread,
 * each starting in the trace where the one before it ended (its
 * span). groups NULL: every Einsum alone. */
static ef_status run_traced(ef_nest *const *nests, int count, const ef_fusion_group *groups,
                            int ngroups, const ef_sim_options *opt, ef_values *values,
                            ef_result **out, ef_diags *diags) {
    uint64_t base = 0;
    for (int g = 0; g < (groups ? ngroups : count); g++) {
        int first = groups ? groups[g].first : g, n = groups ? groups[g].count : 1;
        ef_status st = EF_OK;
        if (n > 1)
            st = ef_sim_run_fused_at(&nests[first], n, groups[g].level, opt, values,
                                     &out[first], diags, first, base);
        else if (!(out[first] = ef_sim_run_at(nests[first], opt, values, diags, &st, first, base)))
            return st;
        if (st != EF_OK) return st;
        for (int i = first; i < first + n; i++) base += ef_result_span_cycles(out[i]);
    }
    return EF_OK;
}

ef_status ef_sim_run_cascade(ef_nest *const *nests, int count, const ef_sim_options *opt,
                             ef_values *values, int threads, ef_result **out,
                             ef_diags *diags) {
    ef_fusion_group groups[EF_MAX_EINSUMS];
    for (int i = 0; i < count; i++) out[i] = NULL;
    if (count > EF_MAX_EINSUMS)
        return opt->trace ? run_traced(nests, count, NULL, 0, opt, values, out, diags)
                          : ef_sim_run_all(nests, count, opt, values, threads, out, diags);
    int ngroups = ef_fuse_groups(nests, count, groups, diags);
    if (ngroups < 0) return EF_ERR_MAPPING;
    if (opt->trace) return run_traced(nests, count, groups, ngroups, opt, values, out, diags);
    if (ngroups == count) return ef_sim_run_all(nests, count, opt, values, threads, out, diags);
    /* groups run one after another, in cascade order */
    for (int g = 0; g < ngroups; g++) {
        const ef_fusion_group *gr = &groups[g];
        ef_status st =
            gr->count > 1
                ? ef_sim_run_fused(&nests[gr->first], gr->count, gr->level, opt, values,
                                   &out[gr->first], diags)
                : ef_sim_run_all(&nests[gr->first], 1, opt, values, 1, &out[gr->first], diags);
        if (st != EF_OK) return st;
    }
    return EF_OK;
}
