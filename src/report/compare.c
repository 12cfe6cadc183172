/* `einflow compare`: the same layers under several dataflows, side by
 * side — cycles, utilization, energy and its split by level, accesses
 * of the outermost level per tensor, and the mapping each dataflow
 * found. The winner is the lowest objective over the whole workload. */
#include "einflow/report.h"
#include "report/json_parts.h"
#include "spec/sbuf.h"
#include "report/totals.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void entry_totals(const ef_report_compare_entry *e, ef_totals *t) {
    ef_totals_init(t);
    for (int i = 0; i < e->layer_count; i++)
        for (int k = 0; k < e->layers[i].result_count; k++)
            ef_totals_add(t, e->layers[i].results[k], e->layers[i].count);
}

static void layer_totals(const ef_report_layer *L, ef_totals *t) {
    ef_totals_init(t);
    for (int k = 0; k < L->result_count; k++) ef_totals_add(t, L->results[k], 1);
}

static ef_objective objective_of(const ef_compare_meta *meta) {
    ef_objective o = EF_OBJECTIVE_EDP;
    ef_objective_parse(meta->objective, &o);
    return o;
}

double ef_report_compare_objective(const ef_report_compare_entry *e, ef_objective o) {
    ef_totals t;
    entry_totals(e, &t);
    return ef_map_objective_value(o, (double)t.cycles, t.energy_pj);
}

/* Index of the entry with the lowest objective (the first on a tie),
 * skipping `skip`. */
static int best_entry_but(const ef_report_compare_entry *entries, int count, ef_objective o,
                          int skip) {
    int best = -1;
    double bv = INFINITY;
    for (int i = 0; i < count; i++) {
        double v = ef_report_compare_objective(&entries[i], o);
        if (i != skip && (best < 0 || v < bv)) {
            bv = v;
            best = i;
        }
    }
    return best;
}

static int best_entry(const ef_report_compare_entry *entries, int count, ef_objective o) {
    return best_entry_but(entries, count, o, -1);
}

static double seed_spread(const ef_report_compare_entry *e) {
    if (e->seed_count < 2) return 0;
    double lo = INFINITY, hi = 0;
    for (int s = 0; s < e->seed_count; s++) {
        if (e->seed_values[s] < lo) lo = e->seed_values[s];
        if (e->seed_values[s] > hi) hi = e->seed_values[s];
    }
    return lo > 0 ? (hi - lo) / lo : 0;
}

void ef_report_compare_verdict(const ef_report_compare_entry *entries, int count,
                               ef_objective o, ef_compare_verdict *v) {
    memset(v, 0, sizeof *v);
    v->best = best_entry(entries, count, o);
    v->runner_up = count > 1 ? best_entry_but(entries, count, o, v->best) : -1;
    v->measured = entries[v->best].seed_count > 1;
    if (v->runner_up < 0) return;
    double b = ef_report_compare_objective(&entries[v->best], o);
    double r = ef_report_compare_objective(&entries[v->runner_up], o);
    v->margin = b > 0 ? (r - b) / b : 0;
    double sb = seed_spread(&entries[v->best]), sr = seed_spread(&entries[v->runner_up]);
    v->noise = sb > sr ? sb : sr;
    v->within_noise = v->margin <= v->noise;
}

/* "ws leads os by 12.3%; across 3 seeds the objective varies by at most
 * 1.2%, so the lead is 11.1 points above the noise" */
static void verdict_line(sbuf *b, const ef_report_compare_entry *entries,
                         const ef_compare_verdict *v, const char *objective) {
    if (v->runner_up < 0) return;
    const char *w = entries[v->best].dataflow->name, *r = entries[v->runner_up].dataflow->name;
    if (!v->measured) {
        sbuf_put(b, "\n%s leads %s by %.1f%% in %s; one seed searched, so the noise is "
                 "not measured (--seeds 3 measures it)\n", w, r, 100 * v->margin, objective);
        return;
    }
    int seeds = entries[v->best].seed_count;
    if (v->within_noise)
        sbuf_put(b, "\n%s and %s are within noise: %s leads by %.1f%% in %s, but across %d "
                 "seeds one dataflow's result varies by up to %.1f%%\n", w, r, w,
                 100 * v->margin, objective, seeds, 100 * v->noise);
    else
        sbuf_put(b, "\n%s leads %s by %.1f%% in %s; across %d seeds one dataflow's result "
                 "varies by at most %.1f%%, so the lead is %.1f points above the noise\n", w, r,
                 100 * v->margin, objective, seeds, 100 * v->noise,
                 100 * (v->margin - v->noise));
}

static void verdict_json(cJSON *root, const ef_report_compare_entry *entries, int count,
                         const ef_compare_verdict *v) {
    cJSON *n = cJSON_AddObjectToObject(root, "noise");
    cJSON_AddNumberToObject(n, "seeds", entries[0].seed_count);
    cJSON *per = cJSON_AddObjectToObject(n, "spread");
    for (int i = 0; i < count; i++)
        cJSON_AddNumberToObject(per, entries[i].dataflow->name, seed_spread(&entries[i]));
    if (v->runner_up >= 0) {
        cJSON_AddStringToObject(n, "runner_up", entries[v->runner_up].dataflow->name);
        cJSON_AddNumberToObject(n, "margin", v->margin);
        cJSON_AddNumberToObject(n, "noise", v->noise);
        cJSON_AddNumberToObject(n, "margin_over_noise", v->margin - v->noise);
    }
    if (v->measured && v->runner_up >= 0) cJSON_AddBoolToObject(n, "within_noise", v->within_noise);
    else cJSON_AddNullToObject(n, "within_noise");
}

static int best_for_layer(const ef_report_compare_entry *entries, int count, int layer,
                          ef_objective o) {
    int best = 0;
    double bv = INFINITY;
    for (int i = 0; i < count; i++) {
        ef_totals t;
        layer_totals(&entries[i].layers[layer], &t);
        double v = ef_map_objective_value(o, (double)t.cycles, t.energy_pj);
        if (v < bv) {
            bv = v;
            best = i;
        }
    }
    return best;
}

static void totals_json(cJSON *o, const ef_totals *t) {
    cJSON *acc = cJSON_AddObjectToObject(o, "outer_level_accesses");
    for (int k = 0; k < t->tensor_count; k++) ef_rj_u64(acc, t->tensor[k], t->outer_accesses[k]);
}

cJSON *ef_rj_compare(const ef_report_compare_entry *entries, int count,
                     const ef_report_network *net, const ef_compare_meta *meta) {
    if (count < 1 || entries[0].layer_count < 1) return NULL;
    ef_objective obj = objective_of(meta);
    cJSON *root = cJSON_CreateObject();
    cJSON *m = ef_rj_meta(root, &meta->run);
    cJSON_AddStringToObject(m, "objective", meta->objective);
    ef_rj_u64(m, "evaluations", meta->evaluations);
    ef_rj_add(root, "architecture",
                          ef_rj_architecture(entries[0].layers[0].results[0]->nest));
    cJSON *nw = cJSON_AddObjectToObject(root, "network");
    cJSON_AddStringToObject(nw, "name", net->name);
    ef_rj_u64(nw, "batch", net->batch);
    cJSON_AddNumberToObject(nw, "layers", entries[0].layer_count);
    cJSON_AddStringToObject(root, "best", entries[best_entry(entries, count, obj)].dataflow->name);
    ef_compare_verdict verdict;
    ef_report_compare_verdict(entries, count, obj, &verdict);
    verdict_json(root, entries, count, &verdict);
    cJSON *per = cJSON_AddArrayToObject(root, "best_per_layer");
    for (int i = 0; i < entries[0].layer_count; i++)
        ef_rj_append(per, cJSON_CreateString(
                                      entries[best_for_layer(entries, count, i, obj)].dataflow->name));
    cJSON *arr = cJSON_AddArrayToObject(root, "dataflows");
    for (int d = 0; d < count; d++) {
        const ef_report_compare_entry *e = &entries[d];
        cJSON *eo = cJSON_CreateObject();
        cJSON_AddStringToObject(eo, "dataflow", e->dataflow->name);
        cJSON_AddStringToObject(eo, "description",
                                e->dataflow->description ? e->dataflow->description : "");
        ef_rj_u64(eo, "seed", e->best_seed);
        cJSON *sv = cJSON_AddArrayToObject(eo, "seed_objectives");
        for (int s = 0; s < e->seed_count; s++)
            ef_rj_append(sv, cJSON_CreateNumber(e->seed_values[s]));
        const ef_result **rs = ef_calloc((size_t)e->layer_count * EF_MAX_EINSUMS + 1, sizeof *rs);
        uint64_t *w = ef_calloc((size_t)e->layer_count * EF_MAX_EINSUMS + 1, sizeof *w);
        if (!rs || !w) {
            free(rs);
            free(w);
            cJSON_Delete(root);
            return NULL;
        }
        int n = 0;
        for (int i = 0; i < e->layer_count; i++)
            for (int k = 0; k < e->layers[i].result_count; k++) {
                rs[n] = e->layers[i].results[k];
                w[n++] = e->layers[i].count;
            }
        cJSON *sm = cJSON_AddObjectToObject(eo, "summary");
        ef_rj_summary(sm, rs, w, n);
        free(rs);
        free(w);
        ef_totals t;
        entry_totals(e, &t);
        totals_json(sm, &t);
        cJSON *layers = cJSON_AddArrayToObject(eo, "layers");
        for (int i = 0; i < e->layer_count; i++) {
            cJSON *lo = ef_rj_layer(&e->layers[i]);
            ef_totals lt;
            layer_totals(&e->layers[i], &lt);
            totals_json(cJSON_GetObjectItemCaseSensitive(lo, "summary"), &lt);
            ef_rj_append(layers, lo);
        }
        ef_rj_append(arr, eo);
    }
    return root;
}

char *ef_report_compare_json(const ef_report_compare_entry *entries, int count,
                             const ef_report_network *net, const ef_compare_meta *meta) {
    uint64_t failures = ef_alloc_failures();
    return ef_rj_print(ef_rj_compare(entries, count, net, meta), failures);
}

static double share(double part, double whole) { return whole > 0 ? 100 * part / whole : 0; }

/* " bypass [QK]": the intermediates a fused mapping keeps on chip. */
static void outer_bypass(sbuf *b, const ef_map_result *f) {
    const ef_nest *n = f->nest;
    const ef_level_mapping_spec *lm = &f->mapping->levels[0];
    if (!n || !lm->keep_given) return;
    bool any = false;
    for (int o = 0; o < n->op_count; o++) {
        const char *t = n->workload->tensors[n->ops[o]->tensor].name;
        bool kept = false;
        for (int k = 0; k < lm->keep_count && !kept; k++) kept = !strcmp(lm->keep[k], t);
        if (kept) continue;
        sbuf_put(b, "%s%s", any ? ", " : " bypass [", t);
        any = true;
    }
    if (any) sbuf_put(b, "]");
}

/* "DRAM [M: 5, C: 32]; GLB keep [I, O] [Q: 28] rows [R: 3] cols [P: 14]; RF ..." */
static void mapping_line(sbuf *b, const ef_map_result *f) {
    const ef_einsum_mapping_spec *em = f->mapping;
    if (f->unit == EF_UNIT_VECTOR) sbuf_put(b, "vector unit: ");
    for (int l = 0; l < em->level_count; l++) {
        const ef_level_mapping_spec *lm = &em->levels[l];
        sbuf_put(b, "%s%s", l ? "; " : "", lm->level);
        if (l == 0) outer_bypass(b, f);
        if (l > 0) {
            sbuf_put(b, " keep [");
            for (int k = 0; k < lm->keep_count; k++) sbuf_put(b, "%s%s", k ? ", " : "", lm->keep[k]);
            sbuf_put(b, "]");
        }
        const ef_factor_spec *lists[3] = {lm->temporal, lm->rows, lm->cols};
        const int counts[3] = {lm->temporal_count, lm->row_count, lm->col_count};
        static const char *const names[3] = {"", " rows", " cols"};
        for (int q = 0; q < 3; q++) {
            if (!counts[q]) continue;
            sbuf_put(b, "%s [", names[q]);
            for (int i = 0; i < counts[q]; i++)
                sbuf_put(b, "%s%s: %" PRIu64, i ? ", " : "", lists[q][i].rank, lists[q][i].factor);
            sbuf_put(b, "]");
        }
    }
}

char *ef_report_compare_table(const ef_report_compare_entry *entries, int count,
                              const ef_report_network *net, const ef_compare_meta *meta) {
    sbuf b = {0};
    if (count < 1 || entries[0].layer_count < 1) return NULL;
    const ef_nest *n0 = entries[0].layers[0].results[0]->nest;
    const ef_arch_spec *a = n0->arch;
    ef_objective obj = objective_of(meta);
    int layers = entries[0].layer_count;
    sbuf_put(&b, "%s on %s (%" PRIu64 " PEs), objective %s, %" PRIu64
             " evaluations per Einsum and dataflow\n",
             net->name, a->name, n0->pes, meta->objective, meta->evaluations);
    if (net->is_network)
        sbuf_put(&b, "%d layer%s, batch %" PRIu64 "\n", layers, layers == 1 ? "" : "s", net->batch);
    sbuf_put(&b, "\n%-8s %14s %7s %5s %12s %8s %6s", "dataflow", "cycles", "util", "PEs",
             "energy pJ", "pJ/MAC", "MAC%");
    for (int l = 0; l < a->level_count; l++) sbuf_put(&b, " %6.6s%%", a->levels[l].name);
    sbuf_put(&b, " %6s  %s accesses\n", "NoC%", a->levels[0].name);
    int best = best_entry(entries, count, obj);
    for (int d = 0; d < count; d++) {
        ef_totals t;
        entry_totals(&entries[d], &t);
        sbuf_put(&b, "%-8s %14" PRIu64 " %7.4f %5" PRIu64 " %12.5g %8.4g %6.1f", entries[d].dataflow->name,
                 t.cycles, ef_totals_utilization(&t), t.active_pes, t.energy_pj,
                 t.macs ? t.energy_pj / (double)t.macs : 0, share(t.mac_pj, t.energy_pj));
        for (int l = 0; l < a->level_count; l++) sbuf_put(&b, " %7.1f", share(t.level_pj[l], t.energy_pj));
        sbuf_put(&b, " %6.1f ", share(t.noc_pj, t.energy_pj));
        for (int k = 0; k < t.tensor_count; k++)
            sbuf_put(&b, " %s %" PRIu64, t.tensor[k], t.outer_accesses[k]);
        sbuf_put(&b, "%s\n", d == best ? "   <- best" : "");
    }
    /* energy pJ above is dynamic; leakage is the architecture's static
     * power over each dataflow's time (docs/area.md) */
    for (int d = 0; d < count; d++) {
        ef_totals t;
        entry_totals(&entries[d], &t);
        sbuf_put(&b, "%-8s", entries[d].dataflow->name);
        ef_totals_static_line(&b, &t);
    }
    ef_compare_verdict verdict;
    ef_report_compare_verdict(entries, count, obj, &verdict);
    verdict_line(&b, entries, &verdict, meta->objective);
    if (layers > 1) {
        sbuf_put(&b, "\nper layer, energy pJ/MAC (cycles); * best by %s\n%-24s %5s", meta->objective,
                 "layer", "count");
        for (int d = 0; d < count; d++) sbuf_put(&b, " %20s", entries[d].dataflow->name);
        sbuf_put(&b, "\n");
        for (int i = 0; i < layers; i++) {
            int lb = best_for_layer(entries, count, i, obj);
            sbuf_put(&b, "%-24.24s %5" PRIu64, entries[0].layers[i].name, entries[0].layers[i].count);
            for (int d = 0; d < count; d++) {
                ef_totals t;
                layer_totals(&entries[d].layers[i], &t);
                char cell[64];
                snprintf(cell, sizeof cell, "%s%.3g (%.3g)", d == lb ? "*" : "",
                         t.macs ? t.energy_pj / (double)t.macs : 0, (double)t.cycles);
                sbuf_put(&b, " %20s", cell);
            }
            sbuf_put(&b, "\n");
        }
    }
    sbuf_put(&b, "\nmappings found:\n");
    for (int d = 0; d < count; d++) {
        const ef_report_compare_entry *e = &entries[d];
        for (int i = 0; i < e->layer_count; i++)
            for (int k = 0; k < e->layers[i].result_count; k++) {
                const ef_map_result *f = e->layers[i].found ? e->layers[i].found[k] : NULL;
                if (!f) continue;
                sbuf_put(&b, "  %-5s", e->dataflow->name);
                if (layers > 1 || e->layers[i].result_count > 1)
                    sbuf_put(&b, " %s%s%s", e->layers[i].name, e->layers[i].result_count > 1 ? ":" : "",
                             e->layers[i].result_count > 1
                                 ? f->nest->workload->tensors[f->nest->ops[f->nest->out_op]->tensor].name
                                 : "");
                sbuf_put(&b, "  ");
                mapping_line(&b, f);
                sbuf_put(&b, "  (%" PRIu64 " considered, %" PRIu64 " legal)\n", f->considered, f->legal);
            }
    }
    return sbuf_take(&b);
}
