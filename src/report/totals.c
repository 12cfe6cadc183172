/* Sums of results run one after another (totals.h). */
#include "report/totals.h"

#include <string.h>

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
    for (int o = 0; o < n->op_count; o++) {
        const char *name = n->workload->tensors[n->ops[o]->tensor].name;
        const ef_tensor_counters *c = &r->levels[0].ops[o];
        int k = 0;
        while (k < t->tensor_count && strcmp(t->tensor[k], name) != 0) k++;
        if (k == t->tensor_count) {
            if (k == EF_TOTALS_TENSORS) continue;
            t->tensor[t->tensor_count++] = name;
            t->outer_accesses[k] = 0;
        }
        t->outer_accesses[k] += w * (c->reads + c->fills + c->updates);
    }
}

double ef_totals_utilization(const ef_totals *t) {
    return t->capacity_ops > 0 ? (double)(t->ops - t->vector_ops) / t->capacity_ops : 0;
}

bool ef_totals_vector_utilization(const ef_totals *t, double *out) {
    *out = t->vector_capacity_ops > 0 ? (double)t->vector_ops / t->vector_capacity_ops : 0;
    return t->vector_capacity_ops > 0;
}
