/* ef_sim_run: pass 1 (counts and tile generations), pass 2 (cycles),
 * then the systolic skew or SCALE-Sim's fold formula, and the value
 * check against a direct evaluation of the Einsum (values.c). */
#include "model/noc.h"
#include "sim/engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        res->stalls[0].fill_cycles = 0; /* the formula has no first step */
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
        res->stalls[i].fill_cycles = 0;
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
        r->stalls[r->stall_count].fill_cycles = 0;
        r->stalls[r->stall_count++].cycles = cycles;
    }
}

/* A trace's systolic fill and drain: the skew's cycles after the
 * run's last, on the unit of the Einsum they were added to. */
static void trace_skew(const ef_schedule *tr, uint64_t end, uint64_t skew) {
    if (tr->trace && skew) ef_trace_cycles(tr, end, skew, 0, 0, "systolic_skew");
}

ef_result *ef_sim_run(const ef_nest *nest, const ef_sim_options *opt,
                      ef_values *values, ef_diags *diags, ef_status *status) {
    return ef_sim_run_at(nest, opt, values, diags, status, 0, 0);
}

ef_result *ef_sim_run_at(const ef_nest *nest, const ef_sim_options *opt, ef_values *values,
                         ef_diags *diags, ef_status *status, int einsum, uint64_t base_cycles) {
    ef_result *res = ef_calloc(1, sizeof *res);
    ef_schedule tr;
    memset(&tr, 0, sizeof tr);
    *status = EF_ERR_NOMEM;
    if (!res) return NULL;
    res->nest = nest;
    tr.n = nest;
    tr.res = res;
    ef_tracer tracer = {.sink = opt->trace, .einsum = einsum, .base_cycles = base_cycles};
    if (opt->trace) {
        tr.trace = &tracer;
        tr.xfers.with_bytes = true;
    }
    ef_values *v = opt->check_values ? values : NULL;
    ef_status st = ef_walk_run(&tr, v, diags);
    if (st == EF_OK && opt->budget) {
        tr.budgeted = true;
        tr.cycle_budget = opt->budget(opt->budget_ctx, res);
        /* at most macs_per_cycle steps issue in a cycle */
        uint64_t k = (uint64_t)nest->arch->macs_per_cycle;
        if ((tr.steps + k - 1) / k > tr.cycle_budget) st = EF_STOPPED;
    }
    if (st == EF_OK) st = ef_step_run(&tr, opt->engine == EF_ENGINE_EVENT, diags);
    if (st == EF_OK) {
        uint64_t before = res->cycles;
        systolic_cycles(nest, opt, res);
        trace_skew(&tr, before, res->skew_cycles);
    }
    if (st == EF_OK && v) st = ef_values_compare_output(nest, v, res, diags);
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
    return ef_sim_run_fused_at(nests, count, level, opt, values, out, diags, 0, 0);
}

ef_status ef_sim_run_fused_at(ef_nest *const *nests, int count, int level,
                              const ef_sim_options *opt, ef_values *values, ef_result **out,
                              ef_diags *diags, int einsum, uint64_t base_cycles) {
    ef_schedule *trs = ef_calloc((size_t)count, sizeof *trs);
    ef_schedule **ptrs = ef_calloc((size_t)count, sizeof *ptrs);
    ef_tracer *tracers = opt->trace ? ef_calloc((size_t)count, sizeof *tracers) : NULL;
    ef_status st = trs && ptrs && (tracers || !opt->trace) ? EF_OK : EF_ERR_NOMEM;
    ef_values *v = opt->check_values ? values : NULL;
    for (int i = 0; i < count; i++) out[i] = NULL;
    /* pass 1 in cascade order: a value check feeds each Einsum's
     * outputs to the next */
    for (int i = 0; st == EF_OK && i < count; i++) {
        if (!(out[i] = ef_calloc(1, sizeof *out[i]))) {
            st = EF_ERR_NOMEM;
            break;
        }
        out[i]->nest = nests[i];
        out[i]->fused_count = count;
        out[i]->fused_index = i;
        out[i]->fusion_level = level;
        trs[i].n = nests[i];
        trs[i].res = out[i];
        if (tracers) {
            tracers[i] = (ef_tracer){.sink = opt->trace, .einsum = einsum + i,
                                     .base_cycles = base_cycles};
            trs[i].trace = &tracers[i];
            trs[i].xfers.with_bytes = true;
        }
        ptrs[i] = &trs[i];
        st = ef_walk_run(&trs[i], v, diags);
        if (st == EF_OK && v) st = ef_values_compare_output(nests[i], v, out[i], diags);
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
        trace_skew(&trs[count - 1], group_cycles, out[count - 1]->cycles - before);
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
    free(tracers);
    if (st != EF_OK)
        for (int i = 0; i < count; i++) {
            free(out[i]);
            out[i] = NULL;
        }
    return st;
}

void ef_result_destroy(ef_result *r) { free(r); }
