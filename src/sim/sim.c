/* ef_sim_run: pass 1 (counts and tile generations), pass 2 (cycles),
 * then the systolic skew or SCALE-Sim's fold formula, and the value
 * check against a direct evaluation of the Einsum. */
#include "model/noc.h"
#include "sim/engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: a tiny seeded generator, so values depend only on seed */
static uint64_t next_rand(uint64_t *s) {
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

ef_values *ef_values_create(const ef_workload *w, uint64_t seed) {
    ef_values *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->w = w;
    v->integral = true;
    for (int e = 0; e < w->einsum_count; e++) {
        const ef_einsum *es = &w->einsums[e];
        for (int i = 0; i < es->node_count; i++)
            if (es->nodes[i].kind == EF_EXPR_EXP || es->nodes[i].kind == EF_EXPR_DIV)
                v->integral = false;
    }
    uint64_t state = seed;
    for (int t = 0; t < w->tensor_count; t++) {
        v->data[t] = malloc(sizeof(double) * (size_t)w->tensors[t].words);
        if (!v->data[t]) {
            ef_values_destroy(v);
            return NULL;
        }
        /* small integers keep every sum of products exact in a double,
         * so a MAC done twice or skipped cannot hide in rounding */
        for (uint64_t q = 0; q < w->tensors[t].words; q++)
            v->data[t][q] = (double)((int64_t)(next_rand(&state) % 15) - 7);
    }
    return v;
}

void ef_values_destroy(ef_values *v) {
    if (!v) return;
    for (int t = 0; t < EF_MAX_TENSORS * 4; t++) free(v->data[t]);
    free(v);
}

static ef_status compare_values(const ef_nest *n, ef_values *v, ef_result *res,
                                ef_diags *diags) {
    const ef_workload *w = n->workload;
    const ef_tensor *ot = &w->tensors[n->einsum->output.tensor];
    double *want = ef_direct_eval(n, v);
    if (!want) return EF_ERR_NOMEM;
    const double *got = v->data[n->einsum->output.tensor];
    ef_status st = EF_OK;
    for (uint64_t q = 0; q < ot->words; q++) {
        double a = got[q], b = want[q];
        bool same = v->integral ? a == b
                                : fabs(a - b) <= 1e-9 * (fabs(b) > 1 ? fabs(b) : 1);
        if (same) continue;
        char idx[128] = "";
        uint64_t rem = q;
        int64_t coord[EF_MAX_DIMS];
        for (int d = ot->dims - 1; d >= 0; d--) {
            coord[d] = (int64_t)(rem % (uint64_t)ot->extent[d]);
            rem /= (uint64_t)ot->extent[d];
        }
        size_t len = 0;
        for (int d = 0; d < ot->dims; d++)
            len += (size_t)snprintf(idx + len, sizeof idx - len, "%s%lld",
                                    d ? "," : "", (long long)coord[d]);
        ef_diags_add(diags, n->einsum->loc.file ? n->einsum->loc.file : "<workload>",
                     n->einsum->loc.line, n->einsum->loc.col, "einsums", NULL, NULL,
                     "value check failed: %s[%s] is %.17g through the mapped nest "
                     "but %.17g by direct evaluation of \"%s\"",
                     ot->name, idx, a, b, n->einsum->text);
        st = EF_ERR_VALUES;
        break;
    }
    if (st == EF_OK) {
        res->values_checked = true;
        res->values_compared = ot->words;
    }
    free(want);
    return st;
}

/* SCALE-Sim (Samajdar et al., ISPASS 2020): folds run back to back;
 * each costs R + C + T - 2 cycles when outputs stay in the PEs and
 * 2R + C + T - 2 when weights or inputs do (they are preloaded down
 * the rows first); the whole run reports folds * per-fold - 1. */
static void scalesim_cycles(const ef_nest *n, ef_result *res) {
    uint64_t folds = 1, t = 1;
    /* output stationary when the PEs' own storage keeps the output;
     * without per-PE storage, when no inner loop walks over outputs */
    bool out_moves = n->first_pe_level < n->level_count
                         ? !n->levels[n->first_pe_level].keeps[n->out_op]
                         : false;
    bool by_loops = n->first_pe_level >= n->level_count;
    const ef_operand *out = n->ops[n->out_op];
    for (int j = 0; j < n->loop_count; j++) {
        const ef_loop *lp = &n->loops[j];
        if (lp->kind != EF_LOOP_TEMPORAL) continue;
        if (lp->level <= n->spatial_level) folds *= lp->factor;
        else {
            t *= lp->factor;
            for (int d = 0; d < out->dims; d++)
                if (by_loops && lp->factor > 1 && out->index[d].rank[0] == lp->rank)
                    out_moves = true;
        }
    }
    uint64_t R = (uint64_t)n->arch->rows, C = (uint64_t)n->arch->cols;
    uint64_t per_fold = (out_moves ? 2 * R : R) + C + t - 2;
    uint64_t cycles = folds * per_fold - 1;
    /* SCALE-Sim's memories never stall; where ports or links make the
     * run longer than its formula, the bandwidth-bound cycles stand */
    if (cycles < res->cycles) return;
    res->stall_count = 0;
    res->stall_total = 0;
    if (cycles > res->compute_cycles) {
        snprintf(res->stalls[0].cause, sizeof res->stalls[0].cause, "systolic_fold");
        res->stalls[0].cycles = cycles - res->compute_cycles;
        res->stall_count = 1;
        res->stall_total = res->stalls[0].cycles;
    }
    res->skew_cycles = 0;
    res->cycles = cycles;
}

ef_result *ef_sim_run(const ef_nest *nest, const ef_sim_options *opt,
                      ef_values *values, ef_diags *diags, ef_status *status) {
    ef_result *res = calloc(1, sizeof *res);
    ef_schedule tr;
    memset(&tr, 0, sizeof tr);
    *status = EF_ERR_NOMEM;
    if (!res) return NULL;
    res->nest = nest;
    tr.n = nest;
    tr.res = res;
    ef_values *v = opt->check_values ? values : NULL;
    ef_status st = ef_walk_run(&tr, v, diags);
    if (st == EF_OK) st = ef_step_run(&tr, opt->engine == EF_ENGINE_EVENT, diags);
    if (st == EF_OK && nest->noc->topology == EF_NOC_SYSTOLIC && nest->spatial_level >= 0) {
        if (opt->fold_model == EF_FOLD_SCALESIM) {
            scalesim_cycles(nest, res);
        } else {
            /* one pipeline fill and drain across the array; successive
             * folds overlap as the wavefront moves on */
            uint64_t skew = ef_noc_skew_cycles(nest);
            res->skew_cycles = skew;
            res->cycles += skew;
            if (skew) {
                int i = res->stall_count++;
                snprintf(res->stalls[i].cause, sizeof res->stalls[i].cause, "systolic_skew");
                res->stalls[i].cycles = skew;
                res->stall_total += skew;
            }
        }
    }
    if (st == EF_OK && v) st = compare_values(nest, v, res, diags);
    ef_schedule_free(&tr);
    *status = st;
    if (st != EF_OK) {
        free(res);
        return NULL;
    }
    return res;
}

void ef_result_destroy(ef_result *r) { free(r); }
