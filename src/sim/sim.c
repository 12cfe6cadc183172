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
    uint64_t masked = 0;
    ef_status st = EF_OK;
    for (uint64_t q = 0; q < ot->words; q++) {
        double a = got[q], b = want[q];
        if (ef_output_word_masked(w, n->einsum, q)) {
            /* no point computes it: no value, and none to compare */
            v->data[n->einsum->output.tensor][q] = NAN;
            masked++;
            continue;
        }
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
        res->values_compared = ot->words - masked;
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

/* The systolic array's pipeline fill and drain, or SCALE-Sim's fold
 * formula, on top of what pass 2 found. */
static void systolic_cycles(const ef_nest *nest, const ef_sim_options *opt, ef_result *res) {
    if (nest->noc->topology != EF_NOC_SYSTOLIC || nest->spatial_level < 0) return;
    if (opt->fold_model == EF_FOLD_SCALESIM) {
        scalesim_cycles(nest, res);
        return;
    }
    /* one pipeline fill and drain across the array; successive folds
     * overlap as the wavefront moves on */
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

void ef_result_add_stall(ef_result *r, const char *cause, uint64_t cycles) {
    r->stall_total += cycles;
    for (int i = 0; i < r->stall_count; i++)
        if (strcmp(r->stalls[i].cause, cause) == 0) {
            r->stalls[i].cycles += cycles;
            return;
        }
    if (r->stall_count < EF_MAX_STALL_CAUSES) {
        snprintf(r->stalls[r->stall_count].cause, sizeof r->stalls[0].cause, "%s", cause);
        r->stalls[r->stall_count++].cycles = cycles;
    }
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
    if (st == EF_OK) systolic_cycles(nest, opt, res);
    if (st == EF_OK && v) st = compare_values(nest, v, res, diags);
    res->span_cycles = res->cycles;
    ef_schedule_free(&tr);
    *status = st;
    if (st != EF_OK) {
        free(res);
        return NULL;
    }
    return res;
}

ef_status ef_sim_run_fused(ef_nest *const *nests, int count, int level,
                           const ef_sim_options *opt, ef_values *values, ef_result **out,
                           ef_diags *diags) {
    ef_schedule *trs = calloc((size_t)count, sizeof *trs);
    ef_schedule **ptrs = calloc((size_t)count, sizeof *ptrs);
    ef_status st = trs && ptrs ? EF_OK : EF_ERR_NOMEM;
    ef_values *v = opt->check_values ? values : NULL;
    for (int i = 0; i < count; i++) out[i] = NULL;
    /* pass 1 in cascade order: a value check feeds each Einsum's
     * outputs to the next */
    for (int i = 0; st == EF_OK && i < count; i++) {
        if (!(out[i] = calloc(1, sizeof *out[i]))) {
            st = EF_ERR_NOMEM;
            break;
        }
        out[i]->nest = nests[i];
        out[i]->fused_count = count;
        out[i]->fused_index = i;
        out[i]->fusion_level = level;
        trs[i].n = nests[i];
        trs[i].res = out[i];
        ptrs[i] = &trs[i];
        st = ef_walk_run(&trs[i], v, diags);
        if (st == EF_OK && v) st = compare_values(nests[i], v, out[i], diags);
    }
    uint64_t group_cycles = 0;
    if (st == EF_OK)
        st = ef_group_run(ptrs, count, level, opt->engine == EF_ENGINE_EVENT, &group_cycles,
                          diags);
    if (st == EF_OK) {
        /* the array's pipeline fills once for the group */
        uint64_t before = out[count - 1]->cycles;
        ef_sim_options once = *opt;
        once.fold_model = EF_FOLD_OVERLAP;
        systolic_cycles(nests[count - 1], &once, out[count - 1]);
        group_cycles += out[count - 1]->cycles - before;
        /* each Einsum ran interleaved with the others over the whole
         * group: its cycles are the group's, of which those its unit
         * spent on the others are a cause of their own; the cascade
         * counts the group once */
        for (int i = 0; i < count; i++) {
            ef_result *r = out[i];
            uint64_t own = r->compute_cycles + r->stall_total;
            if (group_cycles > own) ef_result_add_stall(r, EF_STALL_OTHER_EINSUMS, group_cycles - own);
            r->cycles = group_cycles;
            r->span_cycles = i == 0 ? group_cycles : 0;
        }
    }
    for (int i = 0; trs && i < count; i++) ef_schedule_free(&trs[i]);
    free(ptrs);
    free(trs);
    if (st != EF_OK)
        for (int i = 0; i < count; i++) {
            free(out[i]);
            out[i] = NULL;
        }
    return st;
}

void ef_result_destroy(ef_result *r) { free(r); }
