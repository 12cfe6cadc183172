/* JSON report. Keys come out in a fixed order so files diff cleanly;
 * 64-bit counters are emitted as raw digits because cJSON stores
 * numbers as doubles and would round counts above 2^53; wall time and
 * version live under meta only. Energies and rates come from stats/;
 * a rate that does not exist is null, never NaN or infinite. */
#include "einflow/report.h"
#include "einflow/stats.h"

#include <cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void u64(cJSON *o, const char *key, uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    cJSON_AddItemToObject(o, key, cJSON_CreateRaw(buf));
}

static void num(cJSON *o, const char *key, double v) {
    if (!isfinite(v)) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    char buf[64];
    /* shortest text that reads back to the same double */
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    cJSON_AddItemToObject(o, key, cJSON_CreateRaw(buf));
}

static const char *tensor_name(const ef_nest *n, int o) {
    return n->workload->tensors[n->ops[o]->tensor].name;
}

static const char *source_name(ef_energy_source src) {
    return src == EF_ENERGY_ARCH ? "arch" : "table";
}

static void add_counts(cJSON *t, const ef_tensor_counters *c, int bits) {
    u64(t, "reads", c->reads);
    u64(t, "fills", c->fills);
    u64(t, "updates", c->updates);
    cJSON *per = cJSON_AddObjectToObject(t, "per_instance");
    u64(per, "reads", c->max_reads);
    u64(per, "fills", c->max_fills);
    u64(per, "updates", c->max_updates);
    u64(t, "utilized_capacity", c->utilized_words);
    u64(t, "utilized_instances", c->utilized_instances);
    u64(t, "read_bytes", ef_words_to_bytes(c->reads, bits));
    u64(t, "write_bytes", ef_words_to_bytes(c->fills + c->updates, bits));
}

static cJSON *levels_json(const ef_result *r, const ef_stats *s) {
    const ef_nest *n = r->nest;
    cJSON *arr = cJSON_CreateArray();
    for (int l = 0; l < n->level_count; l++) {
        const ef_level_spec *ls = &n->arch->levels[l];
        cJSON *lv = cJSON_CreateObject();
        cJSON_AddStringToObject(lv, "name", ls->name);
        cJSON_AddStringToObject(lv, "kind", ef_level_kind_name(ls->kind));
        u64(lv, "instances", n->levels[l].instances);
        cJSON *ts = cJSON_AddObjectToObject(lv, "tensors");
        uint64_t rb = 0, wb = 0;
        for (int o = 0; o < n->op_count; o++) {
            if (!n->levels[l].keeps[o]) continue;
            int bits = n->workload->tensors[n->ops[o]->tensor].bits;
            cJSON *t = cJSON_AddObjectToObject(ts, tensor_name(n, o));
            add_counts(t, &r->levels[l].ops[o], bits);
            rb += ef_words_to_bytes(r->levels[l].ops[o].reads, bits);
            wb += ef_words_to_bytes(r->levels[l].ops[o].fills + r->levels[l].ops[o].updates, bits);
        }
        u64(lv, "read_bytes", rb);
        u64(lv, "write_bytes", wb);
        num(lv, "bandwidth_used_bytes_per_cycle",
            r->cycles ? (double)(rb + wb) / (double)r->cycles : 0);
        u64(lv, "tile_changes", r->generations[l]);
        num(lv, "energy_pj", s->level_energy_pj[l]);
        num(lv, "leakage_pj", s->level_leakage_pj[l]);
        cJSON *en = cJSON_AddObjectToObject(lv, "energy");
        cJSON *pw = cJSON_CreateObject();
        for (int o = 0; o < n->op_count; o++) {
            if (!n->levels[l].keeps[o]) continue;
            const ef_action_energy *ae = &s->tensor_energy[l][o];
            cJSON *t = cJSON_AddObjectToObject(en, tensor_name(n, o));
            num(t, "read", ae->read_pj);
            num(t, "fill", ae->fill_pj);
            num(t, "update", ae->update_pj);
            cJSON *w = cJSON_AddObjectToObject(pw, tensor_name(n, o));
            num(w, "read", s->costs.read_pj[l][o]);
            num(w, "write", s->costs.write_pj[l][o]);
        }
        cJSON_AddItemToObject(lv, "energy_per_word_pj", pw);
        cJSON_AddStringToObject(lv, "energy_source", source_name(s->costs.level_source[l]));
        cJSON_AddItemToArray(arr, lv);
    }
    return arr;
}

static cJSON *noc_json(const ef_result *r, const ef_stats *s) {
    const ef_nest *n = r->nest;
    cJSON *arr = cJSON_CreateArray();
    cJSON *o = cJSON_CreateObject();
    const char *from = n->spatial_level >= 0 ? n->arch->levels[n->spatial_level].name
                                             : n->arch->levels[n->level_count - 1].name;
    cJSON_AddStringToObject(o, "from", n->noc->from[0] ? n->noc->from : from);
    cJSON_AddStringToObject(o, "to", n->noc->to[0] ? n->noc->to : "PE");
    cJSON_AddStringToObject(o, "topology", ef_noc_topology_name(n->noc->topology));
    cJSON_AddBoolToObject(o, "reduction", n->noc->reduction);
    u64(o, "words_sent", r->noc.words_sent);
    u64(o, "deliveries", r->noc.deliveries);
    u64(o, "hops", r->noc.hops);
    u64(o, "spatial_reductions", r->noc.reductions);
    num(o, "energy_pj", s->noc_energy_pj);
    cJSON_AddStringToObject(o, "energy_source", source_name(s->costs.noc_source));
    cJSON_AddItemToArray(arr, o);
    return arr;
}

static cJSON *roofline_json(const ef_result *r, const ef_stats *s) {
    const ef_nest *n = r->nest;
    cJSON *o = cJSON_CreateObject();
    num(o, "peak_ops_per_cycle", s->peak_ops);
    cJSON *arr = cJSON_AddArrayToObject(o, "levels");
    for (int l = 0; l < n->level_count; l++) {
        const ef_roofline_level *rl = &s->roofline[l];
        cJSON *lv = cJSON_CreateObject();
        cJSON_AddStringToObject(lv, "name", n->arch->levels[l].name);
        u64(lv, "bytes", rl->bytes);
        num(lv, "operational_intensity", rl->operational_intensity);
        if (rl->bandwidth_bytes > 0) num(lv, "bandwidth_bytes_per_cycle", rl->bandwidth_bytes);
        else cJSON_AddNullToObject(lv, "bandwidth_bytes_per_cycle");
        num(lv, "attainable_ops_per_cycle", rl->attainable_ops);
        num(lv, "achieved_ops_per_cycle", rl->achieved_ops);
        num(lv, "used_bandwidth_bytes_per_cycle", rl->used_bandwidth_bytes);
        cJSON_AddStringToObject(lv, "bound", rl->memory_bound ? "memory" : "compute");
        cJSON_AddItemToArray(arr, lv);
    }
    return o;
}

/* A rate, or null when it does not exist (never NaN or infinite). */
static void rate(cJSON *o, const char *key, bool has, double v) {
    if (has) num(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

/* Summary of Einsums run one after another: counts, times and energies
 * add up; the area proxy is the architecture's (the largest seen, as a
 * capacity in words depends on the precisions each Einsum keeps). */
static void summary_fields(cJSON *sm, const ef_result *const *rs, int count) {
    uint64_t cycles = 0, macs = 0, ops = 0, compute = 0, storage_bits = 0;
    double seconds = 0, energy = 0, cap = 0, mac_pj = 0, noc_pj = 0, leak_pj = 0;
    double level_pj[EF_MAX_LEVELS] = {0};
    bool checked = true;
    for (int i = 0; i < count; i++) {
        ef_stats s;
        ef_stats_compute(rs[i], &s);
        cycles += rs[i]->cycles;
        ops += rs[i]->ops;
        if (rs[i]->nest->einsum->is_mac) macs += rs[i]->ops;
        compute += rs[i]->compute_cycles;
        seconds += s.seconds;
        energy += s.energy_pj;
        mac_pj += s.compute_energy_pj;
        noc_pj += s.noc_energy_pj;
        leak_pj += s.leakage_energy_pj;
        for (int l = 0; l < rs[i]->nest->level_count; l++) level_pj[l] += s.level_energy_pj[l];
        if (s.storage_bits > storage_bits) storage_bits = s.storage_bits;
        checked &= rs[i]->values_checked;
        cap += s.peak_ops * (double)rs[i]->cycles;
    }
    const ef_nest *n0 = rs[0]->nest;
    ef_energy_rates er;
    ef_stats_energy_rates(energy, macs, ops, seconds, &er);
    u64(sm, "cycles", cycles);
    num(sm, "seconds", seconds);
    u64(sm, "macs", macs);
    u64(sm, "ops", ops);
    num(sm, "utilization", cap > 0 ? (double)ops / cap : 0);
    num(sm, "energy_pj", energy);
    rate(sm, "pj_per_mac", er.has_pj_per_mac, er.pj_per_mac);
    rate(sm, "tops_per_watt", er.has_tops_per_watt, er.tops_per_watt);
    rate(sm, "power_w", er.has_watts, er.watts);
    cJSON *eb = cJSON_AddObjectToObject(sm, "energy_breakdown");
    num(eb, "mac", mac_pj);
    cJSON *ebl = cJSON_AddObjectToObject(eb, "levels");
    for (int l = 0; l < n0->level_count; l++) num(ebl, n0->arch->levels[l].name, level_pj[l]);
    num(eb, "noc", noc_pj);
    num(eb, "leakage", leak_pj);
    cJSON *area = cJSON_AddObjectToObject(sm, "area");
    u64(area, "storage_bits", storage_bits);
    u64(area, "pes", n0->pes);
    u64(sm, "compute_cycles", compute);
    cJSON *st = cJSON_AddObjectToObject(sm, "stall_cycles");
    /* merge causes across Einsums in first-seen order */
    for (int i = 0; i < count; i++)
        for (int k = 0; k < rs[i]->stall_count; k++) {
            const ef_stall *x = &rs[i]->stalls[k];
            cJSON *have = cJSON_GetObjectItemCaseSensitive(st, x->cause);
            uint64_t prev = have ? (uint64_t)strtoull(have->valuestring, NULL, 10) : 0;
            if (have) cJSON_DeleteItemFromObjectCaseSensitive(st, x->cause);
            u64(st, x->cause, prev + x->cycles);
        }
    cJSON_AddBoolToObject(sm, "values_checked", checked);
}

char *ef_report_json(const ef_result *const *rs, int count, const ef_run_meta *meta) {
    if (count < 1) return NULL;
    const ef_nest *n0 = rs[0]->nest;
    cJSON *root = cJSON_CreateObject();
    cJSON *m = cJSON_AddObjectToObject(root, "meta");
    cJSON_AddStringToObject(m, "einflow_version", EF_VERSION);
    cJSON_AddStringToObject(m, "arch", meta->arch_file);
    cJSON_AddStringToObject(m, "workload", meta->workload_file);
    cJSON_AddStringToObject(m, "mapping", meta->mapping_file);
    cJSON_AddStringToObject(m, "engine", meta->engine);
    cJSON_AddStringToObject(m, "fold_model", meta->fold_model);
    cJSON_AddBoolToObject(m, "check_values", meta->check_values);
    u64(m, "seed", meta->seed);
    num(m, "wall_seconds", meta->wall_seconds);

    cJSON *sm = cJSON_AddObjectToObject(root, "summary");
    summary_fields(sm, rs, count);

    cJSON *ar = cJSON_AddObjectToObject(root, "architecture");
    cJSON_AddStringToObject(ar, "name", n0->arch->name);
    num(ar, "clock_mhz", n0->arch->clock_mhz);
    cJSON_AddNumberToObject(ar, "rows", n0->arch->rows);
    cJSON_AddNumberToObject(ar, "cols", n0->arch->cols);
    u64(ar, "pes", n0->pes);
    cJSON_AddNumberToObject(ar, "macs_per_cycle", n0->arch->macs_per_cycle);
    cJSON_AddStringToObject(ar, "arithmetic", ef_arithmetic_name(n0->arch->arithmetic));
    cJSON_AddStringToObject(ar, "mac_energy_source",
                            n0->arch->mac_energy_pj >= 0 ? "arch" : "table");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(root, "workload"), "name",
                            n0->workload->name);

    /* Top level shows the last Einsum of a cascade in full; every
     * Einsum has its own entry under einsums[]. A single Einsum is both. */
    const ef_result *main_r = rs[count - 1];
    ef_stats s;
    ef_stats_compute(main_r, &s);
    cJSON_AddItemToObject(root, "levels", levels_json(main_r, &s));
    cJSON_AddItemToObject(root, "noc", noc_json(main_r, &s));
    cJSON_AddItemToObject(root, "roofline", roofline_json(main_r, &s));
    cJSON *es = cJSON_AddArrayToObject(root, "einsums");
    for (int i = 0; i < count; i++) {
        ef_stats si;
        ef_stats_compute(rs[i], &si);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "einsum", rs[i]->nest->einsum->text);
        cJSON_AddStringToObject(e, "output", tensor_name(rs[i]->nest, rs[i]->nest->out_op));
        cJSON *esum = cJSON_AddObjectToObject(e, "summary");
        summary_fields(esum, &rs[i], 1);
        cJSON_AddItemToObject(e, "levels", levels_json(rs[i], &si));
        cJSON_AddItemToObject(e, "noc", noc_json(rs[i], &si));
        cJSON_AddItemToObject(e, "roofline", roofline_json(rs[i], &si));
        cJSON_AddItemToArray(es, e);
    }
    char *out = cJSON_Print(root);
    cJSON_Delete(root);
    return out;
}
