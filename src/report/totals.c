/* Sums of results run one after another (totals.h). */
#include "report/totals.h"

#include <string.h>

/* a + w x b, saturating: totals are reports, not inputs to more work */
static uint64_t add_weighted(uint64_t a, uint64_t w, uint64_t b) {
    uint64_t p, sum;
    if (!ef_mul_u64(w, b, &p) || !ef_add_u64(a, p, &sum)) return UINT64_MAX;
    return sum;
}

static uint64_t compulsory_of_cur(const ef_totals *t, int k) {
    uint64_t c = 0;
    for (int i = 0; i < t->cur_count; i++)
        if (t->cur_tensor[i].slot == k && !t->cur_tensor[i].intermediate)
            c = add_weighted(c, t->cur_weight, t->cur_tensor[i].footprint_bytes);
    return c;
}

/* The workload changes (the next layer): what its tensors could not
 * avoid is now known. */
static void leave_workload(ef_totals *t) {
    for (int k = 0; k < t->tensor_count; k++)
        t->compulsory_done[k] = add_weighted(t->compulsory_done[k], 1, compulsory_of_cur(t, k));
    t->cur = NULL;
    t->cur_count = 0;
}

uint64_t ef_totals_compulsory(const ef_totals *t, int k) {
    uint64_t c = add_weighted(t->compulsory_done[k], 1, compulsory_of_cur(t, k));
    return c < t->outer_bytes[k] ? c : t->outer_bytes[k];
}

void ef_totals_outer_sum(const ef_totals *t, uint64_t *bytes, uint64_t *compulsory) {
    *bytes = *compulsory = 0;
    for (int k = 0; k < t->tensor_count; k++) {
        *bytes = add_weighted(*bytes, 1, t->outer_bytes[k]);
        *compulsory = add_weighted(*compulsory, 1, ef_totals_compulsory(t, k));
    }
}

static int tensor_slot(ef_totals *t, const char *name) {
    int k = 0;
    while (k < t->tensor_count && strcmp(t->tensor[k], name) != 0) k++;
    if (k < t->tensor_count) return k;
    if (k == EF_TOTALS_TENSORS) return -1;
    t->tensor[t->tensor_count++] = name;
    t->outer_accesses[k] = t->outer_bytes[k] = t->compulsory_done[k] = 0;
    return k;
}

/* Operand o of r at the outermost level: its traffic, and its part in
 * whether its tensor is an intermediate of r's workload. */
static void add_outer(ef_totals *t, const ef_result *r, const ef_stats *s, int o, uint64_t w) {
    const ef_nest *n = r->nest;
    int id = n->ops[o]->tensor;
    int k = tensor_slot(t, n->workload->tensors[id].name);
    if (k < 0) return;
    const ef_tensor_counters *c = &r->levels[0].ops[o];
    t->outer_accesses[k] = add_weighted(t->outer_accesses[k], w, c->reads + c->fills + c->updates);
    t->outer_bytes[k] = add_weighted(t->outer_bytes[k], w,
                                     s->tensor_read_bytes[0][o] + s->tensor_write_bytes[0][o]);
    int i = 0;
    while (i < t->cur_count && t->cur_tensor[i].tensor != id) i++;
    if (i == t->cur_count) {
        if (i == EF_TOTALS_TENSORS) return;
        t->cur_tensor[t->cur_count++] = (ef_totals_tensor){.tensor = id, .slot = k};
    }
    bool is_output = o == n->out_op;
    if (!is_output && t->cur_tensor[i].written) t->cur_tensor[i].intermediate = true;
    if (!n->levels[0].keeps[o]) return; /* on chip: no footprint outside */
    uint64_t fb = ef_words_to_bytes(c->utilized_words, n->workload->tensors[id].bits);
    if (fb > t->cur_tensor[i].footprint_bytes) t->cur_tensor[i].footprint_bytes = fb;
}

bool ef_totals_tensor_at(const ef_result *r, const ef_stats *s, int l, int o,
                         ef_tensor_sum *out) {
    const ef_nest *n = r->nest;
    const ef_nest_level *L = &n->levels[l];
    if (!L->keeps[o]) return false;
    for (int k = 0; k < o; k++)
        if (L->keeps[k] && n->ops[k]->tensor == n->ops[o]->tensor) return false;
    memset(out, 0, sizeof *out);
    for (int k = o; k < n->op_count; k++) {
        if (!L->keeps[k] || n->ops[k]->tensor != n->ops[o]->tensor) continue;
        const ef_tensor_counters *c = &r->levels[l].ops[k];
        out->c.reads += c->reads;
        out->c.fills += c->fills;
        out->c.updates += c->updates;
        out->c.max_reads += c->max_reads;
        out->c.max_fills += c->max_fills;
        out->c.max_updates += c->max_updates;
        out->c.utilized_words += c->utilized_words;
        if (c->utilized_instances > out->c.utilized_instances)
            out->c.utilized_instances = c->utilized_instances;
        if (!s) continue;
        out->read_bytes += s->tensor_read_bytes[l][k];
        out->write_bytes += s->tensor_write_bytes[l][k];
        out->energy.read_pj += s->tensor_energy[l][k].read_pj;
        out->energy.fill_pj += s->tensor_energy[l][k].fill_pj;
        out->energy.update_pj += s->tensor_energy[l][k].update_pj;
    }
    return true;
}

void ef_totals_init(ef_totals *t) {
    memset(t, 0, sizeof *t);
    t->values_checked = true;
}

void ef_totals_add(ef_totals *t, const ef_result *r, uint64_t w) {
    ef_stats s;
    ef_stats_compute(r, &s);
    const ef_nest *n = r->nest;
    double wd = (double)w;
    uint64_t span = t->alone ? r->cycles : ef_result_span_cycles(r);
    if (!t->first) t->first = n;
    t->cycles += w * span; /* a fused group counts once */
    t->ops += w * r->ops;
    if (n->einsum->is_mac) t->macs += w * r->ops;
    t->compute_cycles += w * r->compute_cycles;
    t->seconds += r->cycles ? wd * s.seconds * (double)span / (double)r->cycles : 0;
    t->energy_pj += wd * s.energy_pj;
    t->mac_pj += wd * (s.compute_energy_pj - s.vector_energy_pj);
    t->vector_pj += wd * s.vector_energy_pj;
    t->noc_pj += wd * s.noc_energy_pj;
    t->leakage_pj += wd * s.leakage_energy_pj;
    for (int l = 0; l < n->level_count; l++) t->level_pj[l] += wd * s.level_energy_pj[l];
    for (int l = 0; l < s.area.level_count; l++)
        t->level_leakage_pj[l] += wd * s.level_leakage_pj[l];
    t->mac_leakage_pj += wd * s.mac_leakage_pj;
    t->noc_leakage_pj += wd * s.noc_leakage_pj;
    t->vector_leakage_pj += wd * s.vector_leakage_pj;
    if (t->area.level_count == 0 || s.area.total_mm2 > t->area.total_mm2) t->area = s.area;
    if (s.storage_bits > t->storage_bits) t->storage_bits = s.storage_bits;
    if (n->unit == EF_UNIT_ARRAY && n->active_pes > t->active_pes) t->active_pes = n->active_pes;
    t->values_checked &= r->values_checked;
    /* each unit's capacity runs through every result: Einsums run one
     * after another, so one unit idles while the other computes */
    const ef_arch_spec *a = n->spec_arch;
    double array_peak = (double)a->rows * (double)a->cols * (double)a->macs_per_cycle;
    t->capacity_ops += wd * array_peak * (double)span;
    if (a->vector_unit.present)
        t->vector_capacity_ops += wd * (double)a->vector_unit.lanes * (double)span;
    if (n->unit == EF_UNIT_VECTOR) t->vector_ops += w * r->ops;
    if (t->cur != n->workload || t->cur_weight != w) leave_workload(t);
    t->cur = n->workload;
    t->cur_weight = w;
    for (int o = 0; o < n->op_count; o++) add_outer(t, r, &s, o, w);
    /* written after its reads: a recurrence reads its own earlier steps */
    for (int i = 0; i < t->cur_count; i++)
        if (t->cur_tensor[i].tensor == n->ops[n->out_op]->tensor) t->cur_tensor[i].written = true;
}

double ef_totals_utilization(const ef_totals *t) {
    return t->capacity_ops > 0 ? (double)(t->ops - t->vector_ops) / t->capacity_ops : 0;
}

bool ef_totals_vector_utilization(const ef_totals *t, double *out) {
    *out = t->vector_capacity_ops > 0 ? (double)t->vector_ops / t->vector_capacity_ops : 0;
    return t->vector_capacity_ops > 0;
}

void ef_totals_static_line(sbuf *b, const ef_totals *t) {
    double total = t->energy_pj + t->leakage_pj;
    sbuf_put(b, "  static       %.6g pJ leakage (%.4g mW); total %.6g pJ", t->leakage_pj,
             t->area.total_mw, total);
    /* pJ / s = 1e-9 mW */
    if (t->seconds > 0) sbuf_put(b, ", %.4g mW average", total * 1e-9 / t->seconds);
    sbuf_put(b, "; area %.4g mm2\n", t->area.total_mm2);
}
