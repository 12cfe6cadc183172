/* JSON report. Keys come out in a fixed order so files diff cleanly;
 * 64-bit counters are emitted as raw digits because cJSON stores
 * numbers as doubles and would round counts above 2^53; wall time and
 * version live under meta only. Energies and rates come from stats/;
 * a rate that does not exist is null, never NaN or infinite. */
#include "einflow/report.h"
#include "einflow/stats.h"
#include "report/json_parts.h"
#include "report/totals.h"
#include "report/util_loss.h"

#include "report/number.h"

#include <cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ef_rj_add(cJSON *o, const char *key, cJSON *item) {
    if (item && !cJSON_AddItemToObject(o, key, item)) cJSON_Delete(item);
}

char *ef_rj_print(cJSON *root, uint64_t failures) {
    char *out = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (ef_alloc_failures() != failures) {
        free(out);
        return NULL;
    }
    return out;
}

void ef_rj_append(cJSON *a, cJSON *item) {
    if (item && !cJSON_AddItemToArray(a, item)) cJSON_Delete(item);
}

void ef_rj_u64(cJSON *o, const char *key, uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    ef_rj_add(o, key, cJSON_CreateRaw(buf));
}

void ef_rj_num(cJSON *o, const char *key, double v) {
    if (!isfinite(v)) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    char buf[EF_NUMBER_TEXT];
    /* a whole number below 1e6 reads back at 6 digits, its own */
    if (v == floor(v) && fabs(v) < 1e6) snprintf(buf, sizeof buf, "%.6g", v);
    else ef_shortest_double(buf, sizeof buf, v, 6);
    ef_rj_add(o, key, cJSON_CreateRaw(buf));
}

static const char *tensor_name(const ef_nest *n, int o) {
    return n->workload->tensors[n->ops[o]->tensor].name;
}

static const char *source_name(ef_energy_source src) {
    return src == EF_ENERGY_ARCH ? "arch" : "table";
}

static void add_counts(cJSON *t, const ef_tensor_counters *c, uint64_t read_bytes,
                       uint64_t write_bytes) {
    /* a recurrence's two operands of one tensor are one entry
     * (totals.h, ef_totals_tensor_at) */
    ef_rj_u64(t, "reads", c->reads);
    ef_rj_u64(t, "fills", c->fills);
    ef_rj_u64(t, "updates", c->updates);
    cJSON *per = cJSON_AddObjectToObject(t, "per_instance");
    ef_rj_u64(per, "reads", c->max_reads);
    ef_rj_u64(per, "fills", c->max_fills);
    ef_rj_u64(per, "updates", c->max_updates);
    ef_rj_u64(t, "utilized_capacity", c->utilized_words);
    ef_rj_u64(t, "utilized_instances", c->utilized_instances);
    ef_rj_u64(t, "read_bytes", read_bytes);
    ef_rj_u64(t, "write_bytes", write_bytes);
}

cJSON *ef_rj_levels(const ef_result *r, const ef_stats *s) {
    const ef_nest *n = r->nest;
    cJSON *arr = cJSON_CreateArray();
    for (int l = 0; l < n->level_count; l++) {
        const ef_level_spec *ls = &n->arch->levels[l];
        cJSON *lv = cJSON_CreateObject();
        cJSON_AddStringToObject(lv, "name", ls->name);
        cJSON_AddStringToObject(lv, "kind", ef_level_kind_name(ls->kind));
        ef_rj_u64(lv, "instances", n->levels[l].instances);
        cJSON *ts = cJSON_AddObjectToObject(lv, "tensors");
        ef_tensor_sum sum;
        for (int o = 0; o < n->op_count; o++) {
            if (!ef_totals_tensor_at(r, s, l, o, &sum)) continue;
            cJSON *t = cJSON_AddObjectToObject(ts, tensor_name(n, o));
            add_counts(t, &sum.c, sum.read_bytes, sum.write_bytes);
        }
        ef_rj_u64(lv, "read_bytes", s->read_bytes[l]);
        ef_rj_u64(lv, "write_bytes", s->write_bytes[l]);
        ef_rj_num(lv, "bandwidth_used_bytes_per_cycle", s->used_bandwidth_bytes[l]);
        ef_rj_u64(lv, "tile_changes", r->generations[l]);
        ef_rj_num(lv, "energy_pj", s->level_energy_pj[l]);
        ef_rj_num(lv, "leakage_pj", s->level_leakage_pj[l]);
        double inst = (double)s->area.level_instances[l];
        ef_rj_num(lv, "area_mm2", s->area.level_mm2[l] * inst);
        ef_rj_num(lv, "leakage_mw", s->area.level_mw[l] * inst);
        cJSON *en = cJSON_AddObjectToObject(lv, "energy");
        cJSON *pw = cJSON_CreateObject();
        for (int o = 0; o < n->op_count; o++) {
            if (!ef_totals_tensor_at(r, s, l, o, &sum)) continue;
            const ef_action_energy *ae = &sum.energy;
            cJSON *t = cJSON_AddObjectToObject(en, tensor_name(n, o));
            ef_rj_num(t, "read", ae->read_pj);
            ef_rj_num(t, "fill", ae->fill_pj);
            ef_rj_num(t, "update", ae->update_pj);
            cJSON *w = cJSON_AddObjectToObject(pw, tensor_name(n, o));
            ef_rj_num(w, "read", s->costs.read_pj[l][o]);
            ef_rj_num(w, "write", s->costs.write_pj[l][o]);
        }
        ef_rj_add(lv, "energy_per_word_pj", pw);
        cJSON_AddStringToObject(lv, "energy_source", source_name(s->costs.level_source[l]));
        cJSON_AddStringToObject(lv, "area_source", source_name(s->area.level_area_source[l]));
        cJSON_AddStringToObject(lv, "leakage_source",
                                source_name(s->area.level_leakage_source[l]));
        ef_rj_append(arr, lv);
    }
    return arr;
}

cJSON *ef_rj_noc(const ef_result *r, const ef_stats *s) {
    const ef_nest *n = r->nest;
    cJSON *arr = cJSON_CreateArray();
    cJSON *o = cJSON_CreateObject();
    const char *from = n->spatial_level >= 0 ? n->arch->levels[n->spatial_level].name
                                             : n->arch->levels[n->level_count - 1].name;
    cJSON_AddStringToObject(o, "from", n->noc->from[0] ? n->noc->from : from);
    cJSON_AddStringToObject(o, "to", n->noc->to[0] ? n->noc->to : "PE");
    cJSON_AddStringToObject(o, "topology", ef_noc_topology_name(n->noc->topology));
    cJSON_AddBoolToObject(o, "reduction", n->noc->reduction);
    ef_rj_u64(o, "words_sent", r->noc.words_sent);
    ef_rj_u64(o, "deliveries", r->noc.deliveries);
    ef_rj_u64(o, "hops", r->noc.hops);
    ef_rj_u64(o, "spatial_reductions", r->noc.reductions);
    ef_rj_num(o, "energy_pj", s->noc_energy_pj);
    cJSON_AddStringToObject(o, "energy_source", source_name(s->costs.noc_source));
    ef_rj_append(arr, o);
    return arr;
}

static cJSON *roofline_port(const ef_roofline_port *p) {
    cJSON *o = cJSON_CreateObject();
    ef_rj_u64(o, "bytes", p->bytes);
    ef_rj_num(o, "operational_intensity", p->operational_intensity);
    if (p->bandwidth_bytes > 0) ef_rj_num(o, "bandwidth_bytes_per_cycle", p->bandwidth_bytes);
    else cJSON_AddNullToObject(o, "bandwidth_bytes_per_cycle");
    ef_rj_num(o, "attainable_ops_per_cycle", p->attainable_ops);
    ef_rj_num(o, "used_bandwidth_bytes_per_cycle", p->used_bandwidth_bytes);
    return o;
}

cJSON *ef_rj_roofline(const ef_result *r, const ef_stats *s) {
    const ef_nest *n = r->nest;
    cJSON *o = cJSON_CreateObject();
    ef_rj_num(o, "peak_ops_per_cycle", s->peak_ops);
    ef_rj_num(o, "achieved_ops_per_cycle", r->cycles ? (double)r->ops / (double)r->cycles : 0);
    cJSON_AddStringToObject(o, "bound", s->roofline_bound);
    cJSON *arr = cJSON_AddArrayToObject(o, "levels");
    for (int l = 0; l < n->level_count; l++) {
        const ef_roofline_level *rl = &s->roofline[l];
        cJSON *lv = cJSON_CreateObject();
        cJSON_AddStringToObject(lv, "name", n->arch->levels[l].name);
        ef_rj_add(lv, "read", roofline_port(&rl->read));
        ef_rj_add(lv, "write", roofline_port(&rl->write));
        ef_rj_num(lv, "attainable_ops_per_cycle", rl->attainable_ops);
        ef_rj_num(lv, "achieved_ops_per_cycle", rl->achieved_ops);
        cJSON_AddStringToObject(lv, "bound", rl->memory_bound ? "memory" : "compute");
        ef_rj_append(arr, lv);
    }
    cJSON *noc = cJSON_AddObjectToObject(o, "noc");
    ef_rj_add(noc, "in", roofline_port(&s->roofline_noc_in));
    ef_rj_add(noc, "out", roofline_port(&s->roofline_noc_out));
    return o;
}

/* A rate, or null when it does not exist (never NaN or infinite). */
static void rate(cJSON *o, const char *key, bool has, double v) {
    if (has) ef_rj_num(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

static void traffic_entry(cJSON *o, uint64_t bytes, uint64_t compulsory) {
    ef_rj_u64(o, "bytes", bytes);
    ef_rj_u64(o, "compulsory_bytes", compulsory);
    ef_rj_u64(o, "extra_bytes", bytes > compulsory ? bytes - compulsory : 0);
}

/* The outermost level's traffic by tensor, compulsory and extra
 * (totals.h, ef_totals_compulsory). */
static void outer_traffic(cJSON *sm, const ef_totals *t) {
    cJSON *ot = cJSON_AddObjectToObject(sm, "outer_traffic");
    cJSON_AddStringToObject(ot, "level", t->first->spec_arch->levels[0].name);
    uint64_t bytes, compulsory;
    ef_totals_outer_sum(t, &bytes, &compulsory);
    traffic_entry(ot, bytes, compulsory);
    cJSON *ts = cJSON_AddObjectToObject(ot, "tensors");
    for (int k = 0; k < t->tensor_count; k++)
        traffic_entry(cJSON_AddObjectToObject(ts, t->tensor[k]), t->outer_bytes[k],
                      ef_totals_compulsory(t, k));
}

/* Summary of Einsums run one after another, result i weights[i] times
 * (a network's repeated layers; NULL: once each): counts, times and
 * energies add up; the area proxy is the architecture's (the largest
 * seen, as a capacity in words depends on the precisions each Einsum
 * keeps); active PEs are the most any Einsum keeps busy. */
void ef_rj_summary(cJSON *sm, const ef_result *const *rs, const uint64_t *weights, int count) {
    ef_totals t;
    ef_totals_init(&t);
    t.alone = count == 1;
    for (int i = 0; i < count; i++) ef_totals_add(&t, rs[i], weights ? weights[i] : 1);
    const ef_nest *n0 = t.first;
    ef_energy_rates er;
    ef_stats_energy_rates(t.energy_pj, t.macs, t.ops, t.seconds, &er);
    double total_pj = t.energy_pj + t.leakage_pj;
    ef_rj_u64(sm, "cycles", t.cycles);
    ef_rj_num(sm, "seconds", t.seconds);
    ef_rj_u64(sm, "macs", t.macs);
    ef_rj_u64(sm, "ops", t.ops);
    ef_rj_num(sm, "utilization", ef_totals_utilization(&t));
    double vu_util;
    bool has_vu = ef_totals_vector_utilization(&t, &vu_util);
    rate(sm, "vector_utilization", has_vu, vu_util);
    ef_rj_u64(sm, "active_pes", t.active_pes);
    /* energy_pj is dynamic, as before leakage had a table; the total
     * and the average power at the clock include the static energy */
    ef_rj_num(sm, "energy_pj", t.energy_pj);
    ef_rj_num(sm, "leakage_pj", t.leakage_pj);
    ef_rj_num(sm, "energy_total_pj", total_pj);
    rate(sm, "pj_per_mac", er.has_pj_per_mac, er.pj_per_mac);
    rate(sm, "tops_per_watt", er.has_tops_per_watt, er.tops_per_watt);
    rate(sm, "power_w", er.has_watts, er.watts);
    ef_rj_num(sm, "leakage_mw", t.area.total_mw);
    /* pJ / s = 1e-9 mW */
    rate(sm, "power_total_mw", t.seconds > 0, t.seconds > 0 ? total_pj * 1e-9 / t.seconds : 0);
    ef_rj_num(sm, "area_mm2", t.area.total_mm2);
    cJSON *eb = cJSON_AddObjectToObject(sm, "energy_breakdown");
    ef_rj_num(eb, "mac", t.mac_pj);
    ef_rj_num(eb, "vector", t.vector_pj);
    cJSON *ebl = cJSON_AddObjectToObject(eb, "levels");
    /* every declared level: a vector Einsum's nest sees only those down
     * to the unit's `from` (same indices) */
    const ef_arch_spec *a0 = n0->spec_arch;
    for (int l = 0; l < a0->level_count; l++) ef_rj_num(ebl, a0->levels[l].name, t.level_pj[l]);
    ef_rj_num(eb, "noc", t.noc_pj);
    ef_rj_num(eb, "leakage", t.leakage_pj);
    cJSON *lb = cJSON_AddObjectToObject(sm, "leakage_breakdown");
    cJSON *lbl = cJSON_AddObjectToObject(lb, "levels");
    for (int l = 0; l < a0->level_count; l++)
        ef_rj_num(lbl, a0->levels[l].name, t.level_leakage_pj[l]);
    ef_rj_num(lb, "pe_array", t.mac_leakage_pj);
    ef_rj_num(lb, "noc", t.noc_leakage_pj);
    ef_rj_num(lb, "vector_unit", t.vector_leakage_pj);
    cJSON *area = cJSON_AddObjectToObject(sm, "area");
    ef_rj_u64(area, "storage_bits", t.storage_bits);
    ef_rj_u64(area, "pes", (uint64_t)a0->rows * (uint64_t)a0->cols);
    cJSON *mm2 = cJSON_AddObjectToObject(area, "mm2");
    cJSON *ml = cJSON_AddObjectToObject(mm2, "levels");
    for (int l = 0; l < t.area.level_count; l++)
        ef_rj_num(ml, a0->levels[l].name, t.area.level_mm2[l] * (double)t.area.level_instances[l]);
    ef_rj_num(mm2, "pe_array", t.area.pe_mm2 * (double)t.area.pes);
    ef_rj_num(mm2, "noc", t.area.noc_mm2);
    ef_rj_num(mm2, "vector_unit", t.area.vector_mm2);
    ef_rj_u64(sm, "compute_cycles", t.compute_cycles);
    cJSON *st = cJSON_AddObjectToObject(sm, "stall_cycles");
    /* merge causes across Einsums in first-seen order */
    for (int i = 0; i < count; i++)
        for (int k = 0; k < rs[i]->stall_count; k++) {
            const ef_stall *x = &rs[i]->stalls[k];
            uint64_t w = weights ? weights[i] : 1;
            /* over a cascade, a fused Einsum's wait on the others is
             * their time, counted there */
            if (count > 1 && rs[i]->fused_count && !strcmp(x->cause, EF_STALL_OTHER_EINSUMS))
                continue;
            cJSON *have = cJSON_GetObjectItemCaseSensitive(st, x->cause);
            uint64_t prev = have ? (uint64_t)strtoull(have->valuestring, NULL, 10) : 0;
            if (have) cJSON_DeleteItemFromObjectCaseSensitive(st, x->cause);
            ef_rj_u64(st, x->cause, prev + w * x->cycles);
        }
    ef_util_loss loss;
    ef_loss_totals(rs, weights, count, &loss);
    ef_rj_add(sm, "utilization_loss", ef_rj_util_loss(&loss));
    outer_traffic(sm, &t);
    cJSON_AddBoolToObject(sm, "values_checked", t.values_checked);
}

void ef_rj_checked_against(cJSON *sm, const ef_run_meta *meta) {
    const ef_values_check *c = meta->checked_against;
    if (!c) return;
    cJSON *o = cJSON_AddObjectToObject(sm, "checked_against");
    cJSON_AddStringToObject(o, "workload", c->workload);
    cJSON_AddStringToObject(o, "file", meta->check_against_file ? meta->check_against_file : "");
    cJSON *ts = cJSON_AddArrayToObject(o, "tensors");
    for (int i = 0; i < c->tensor_count; i++)
        ef_rj_append(ts, cJSON_CreateString(c->tensors[i]));
    ef_rj_u64(o, "elements", c->words_compared);
    ef_rj_num(o, "max_abs_error", c->max_abs_error);
    ef_rj_num(o, "max_rel_error", c->max_rel_error);
    ef_rj_num(o, "tolerance", c->tolerance);
    cJSON_AddBoolToObject(o, "passed", c->passed);
}

/* meta: what produced the file and how. */
cJSON *ef_rj_meta(cJSON *root, const ef_run_meta *meta) {
    cJSON *m = cJSON_AddObjectToObject(root, "meta");
    cJSON_AddStringToObject(m, "einflow_version", EF_VERSION);
    cJSON_AddStringToObject(m, "arch", meta->arch_file);
    cJSON_AddStringToObject(m, "workload", meta->workload_file);
    cJSON_AddStringToObject(m, "mapping", meta->mapping_file);
    cJSON_AddStringToObject(m, "engine", meta->engine);
    cJSON_AddStringToObject(m, "fold_model", meta->fold_model);
    cJSON_AddBoolToObject(m, "check_values", meta->check_values);
    ef_rj_u64(m, "seed", meta->seed);
    cJSON *set = cJSON_AddObjectToObject(m, "set");
    for (int i = 0; i < meta->set_count; i++) ef_rj_u64(set, meta->set[i].name, meta->set[i].value);
    for (int i = 0; i < meta->arch_set_count; i++) {
        char key[EF_MAX_SET_TEXT + 8];
        snprintf(key, sizeof key, "arch.%s", meta->arch_set[i].path);
        cJSON_AddStringToObject(set, key, meta->arch_set[i].value);
    }
    ef_rj_num(m, "wall_seconds", meta->wall_seconds);
    return m;
}

cJSON *ef_rj_architecture(const ef_nest *n0) {
    const ef_arch_spec *a = n0->spec_arch; /* as declared, whatever unit n0 ran on */
    cJSON *ar = cJSON_CreateObject();
    cJSON_AddStringToObject(ar, "name", a->name);
    ef_rj_num(ar, "clock_mhz", a->clock_mhz);
    cJSON_AddNumberToObject(ar, "rows", a->rows);
    cJSON_AddNumberToObject(ar, "cols", a->cols);
    ef_rj_u64(ar, "pes", (uint64_t)a->rows * (uint64_t)a->cols);
    cJSON_AddNumberToObject(ar, "macs_per_cycle", a->macs_per_cycle);
    cJSON_AddStringToObject(ar, "arithmetic", ef_arithmetic_name(a->arithmetic));
    cJSON_AddStringToObject(ar, "mac_energy_source", a->mac_energy_pj >= 0 ? "arch" : "table");
    return ar;
}

/* One entry of einsums[]: the Einsum in full. */
cJSON *ef_rj_einsum(const ef_result *r) {
    ef_stats si;
    ef_stats_compute(r, &si);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "einsum", r->nest->einsum->text);
    cJSON_AddStringToObject(e, "output", tensor_name(r->nest, r->nest->out_op));
    if (r->fused_count) {
        /* docs/output.md: its cycles are its group's */
        cJSON *fu = cJSON_AddObjectToObject(e, "fused");
        cJSON_AddNumberToObject(fu, "index", r->fused_index);
        cJSON_AddNumberToObject(fu, "count", r->fused_count);
        cJSON_AddStringToObject(fu, "level", r->nest->arch->levels[r->fusion_level].name);
    } else {
        cJSON_AddNullToObject(e, "fused");
    }
    cJSON *esum = cJSON_AddObjectToObject(e, "summary");
    ef_rj_summary(esum, &r, NULL, 1);
    ef_rj_add(e, "levels", ef_rj_levels(r, &si));
    ef_rj_add(e, "noc", ef_rj_noc(r, &si));
    ef_rj_add(e, "roofline", ef_rj_roofline(r, &si));
    ef_rj_add(e, "mapping", ef_rj_mapping(r->nest));
    return e;
}

cJSON *ef_rj_run(const ef_result *const *rs, int count, const ef_run_meta *meta) {
    if (count < 1) return NULL;
    const ef_nest *n0 = rs[0]->nest;
    cJSON *root = cJSON_CreateObject();
    ef_rj_meta(root, meta);
    cJSON *sm = cJSON_AddObjectToObject(root, "summary");
    ef_rj_summary(sm, rs, NULL, count);
    ef_rj_checked_against(sm, meta);
    ef_rj_add(root, "architecture", ef_rj_architecture(n0));
    cJSON_AddStringToObject(cJSON_AddObjectToObject(root, "workload"), "name",
                            n0->workload->name);

    /* Top level shows the last Einsum of a cascade in full; every
     * Einsum has its own entry under einsums[]. A single Einsum is both. */
    const ef_result *main_r = rs[count - 1];
    ef_stats s;
    ef_stats_compute(main_r, &s);
    ef_rj_add(root, "levels", ef_rj_levels(main_r, &s));
    ef_rj_add(root, "noc", ef_rj_noc(main_r, &s));
    ef_rj_add(root, "roofline", ef_rj_roofline(main_r, &s));
    cJSON *es = cJSON_AddArrayToObject(root, "einsums");
    for (int i = 0; i < count; i++) {
        cJSON *e = ef_rj_einsum(rs[i]);
        if (meta->found && meta->found[i])
            ef_rj_add(e, "search", ef_rj_search(meta->found[i], rs[i]->nest));
        ef_rj_append(es, e);
    }
    return root;
}

char *ef_report_json(const ef_result *const *rs, int count, const ef_run_meta *meta) {
    uint64_t failures = ef_alloc_failures();
    return ef_rj_print(ef_rj_run(rs, count, meta), failures);
}

/* [{RANK: factor}] of level l's loops of one kind, in nest order. */

/* {"rows": [{RANK: factor}], "cols": [...]} into sp. */
static void spatial_lists(cJSON *sp, const ef_workload *w, const ef_map_loop *rows, int nr,
                          const ef_map_loop *cols, int nc) {
    const ef_map_loop *lists[2] = {rows, cols};
    int counts[2] = {nr, nc};
    for (int a = 0; a < 2; a++) {
        cJSON *axis = cJSON_AddArrayToObject(sp, a ? "cols" : "rows");
        for (int k = 0; k < counts[a]; k++) {
            cJSON *one = cJSON_CreateObject();
            ef_rj_u64(one, w->rank_names[lists[a][k].rank], lists[a][k].factor);
            ef_rj_append(axis, one);
        }
    }
}

static cJSON *loop_list(const ef_nest *n, int l, ef_loop_kind kind) {
    cJSON *arr = cJSON_CreateArray();
    for (int i = n->levels[l].loop_begin; i < n->levels[l].loop_end; i++) {
        const ef_loop *lp = &n->loops[i];
        if (lp->kind != kind) continue;
        cJSON *one = cJSON_CreateObject();
        ef_rj_u64(one, n->workload->rank_names[lp->rank], lp->factor);
        ef_rj_append(arr, one);
    }
    return arr;
}

/* Read from the nest, not from a mapping spec: the nest is what ran,
 * whoever wrote it (a file, an entry naming a dataflow, the mapper), so
 * every run carries its mapping in one form. Every level is listed,
 * with the tensors it keeps spelled out even where the file left the
 * default (keep everything). */
cJSON *ef_rj_mapping(const ef_nest *n) {
    cJSON *arr = cJSON_CreateArray();
    for (int l = 0; l < n->level_count; l++) {
        const ef_nest_level *L = &n->levels[l];
        cJSON *lv = cJSON_CreateObject();
        cJSON_AddStringToObject(lv, "level", n->arch->levels[l].name);
        cJSON *keep = cJSON_AddArrayToObject(lv, "keep");
        for (int o = 0; o < n->op_count; o++) {
            /* a recurrence's two operands are one tensor, named once */
            bool named = false;
            for (int k = 0; k < o && !named; k++)
                named = L->keeps[k] && n->ops[k]->tensor == n->ops[o]->tensor;
            if (L->keeps[o] && !named) ef_rj_append(keep, cJSON_CreateString(tensor_name(n, o)));
        }
        ef_rj_add(lv, "temporal", loop_list(n, l, EF_LOOP_TEMPORAL));
        cJSON *sp = cJSON_AddObjectToObject(lv, "spatial");
        ef_rj_add(sp, "rows", loop_list(n, l, EF_LOOP_ROWS));
        ef_rj_add(sp, "cols", loop_list(n, l, EF_LOOP_COLS));
        ef_rj_append(arr, lv);
    }
    return arr;
}

cJSON *ef_rj_search(const ef_map_result *r, const ef_nest *n) {
    cJSON *o = cJSON_CreateObject();
    ef_rj_u64(o, "considered", r->considered);
    ef_rj_u64(o, "legal", r->legal);
    ef_rj_u64(o, "confirmed", r->confirmed);
    ef_rj_num(o, "estimated_cycles", r->estimate.cycles);
    ef_rj_num(o, "estimated_energy_pj", r->estimate.energy_pj);
    cJSON_AddStringToObject(o, "dataflow", r->dataflow);
    cJSON_AddStringToObject(o, "unit", ef_unit_name(r->unit));
    const ef_map_fusion *f = &r->fusion;
    if (!f->asked) {
        cJSON_AddNullToObject(o, "fusion");
        return o;
    }
    /* docs/output.md: what the fused dataflow made of this Einsum's group */
    const ef_workload *w = n->workload;
    cJSON *fu = cJSON_AddObjectToObject(o, "fusion");
    cJSON *members = cJSON_AddArrayToObject(fu, "einsums");
    for (int e = f->first; e < f->first + f->count && e < w->einsum_count; e++)
        ef_rj_append(members,
                             cJSON_CreateString(w->tensors[w->einsums[e].output.tensor].name));
    if (f->count > 1) {
        cJSON_AddStringToObject(fu, "level", n->spec_arch->levels[f->level].name);
        cJSON *loops = cJSON_AddArrayToObject(fu, "shared_loops");
        for (int k = 0; k < f->loop_count; k++) {
            cJSON *one = cJSON_CreateObject();
            ef_rj_u64(one, w->rank_names[f->loops[k].rank], f->loops[k].factor);
            ef_rj_append(loops, one);
        }
        if (n->spec_arch->levels[f->level].per_pe)
            /* the spatial loops above a per-PE level are shared too */
            spatial_lists(cJSON_AddObjectToObject(fu, "shared_spatial"), w, f->rows,
                          f->row_count, f->cols, f->col_count);
        else
            cJSON_AddNullToObject(fu, "shared_spatial");
        if (f->inner_level > 0) {
            /* scores in the PEs: where, which, spread how */
            cJSON *in = cJSON_AddObjectToObject(fu, "in_pes");
            cJSON_AddStringToObject(in, "level", n->spec_arch->levels[f->inner_level].name);
            cJSON *ts = cJSON_AddArrayToObject(in, "tensors");
            for (int t = 0; t < w->tensor_count; t++)
                if (f->inner[t]) ef_rj_append(ts, cJSON_CreateString(w->tensors[t].name));
            spatial_lists(cJSON_AddObjectToObject(in, "spatial"), w, f->inner_rows,
                          f->inner_row_count, f->inner_cols, f->inner_col_count);
        } else {
            cJSON_AddNullToObject(fu, "in_pes");
        }
    } else {
        cJSON_AddNullToObject(fu, "level");
        cJSON_AddNullToObject(fu, "shared_loops");
        cJSON_AddNullToObject(fu, "shared_spatial");
        cJSON_AddNullToObject(fu, "in_pes");
    }
    ef_rj_u64(fu, "tilings", f->tilings);
    ef_rj_u64(fu, "tilings_confirmed", f->tilings_confirmed);
    if (f->note[0]) cJSON_AddStringToObject(fu, "note", f->note);
    else cJSON_AddNullToObject(fu, "note");
    return o;
}
