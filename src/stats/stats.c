/* Derived metrics. Utilization = ops / (PEs x MACs per PE x cycles);
 * a level's roofline has one line per port — reads through the read
 * port, fills and updates through the write port — and the network one
 * per link: attainable = min(peak, bandwidth x intensity). Energy = the unit costs of energy.c times the counts:
 * per iteration point, per word read / filled / updated at each level,
 * per word per NoC hop; leakage is static power (area.c) over the
 * run's time, reported beside that dynamic energy. Every
 * figure is finite; rates that do not exist are flagged, not NaN. */
#include "einflow/stats.h"
#include "model/timing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

static int op_bits(const ef_nest *n, int o) {
    return n->workload->tensors[n->ops[o]->tensor].bits;
}

static uint64_t sat_mul(uint64_t a, uint64_t b) {
    uint64_t r;
    return ef_mul_u64(a, b, &r) ? r : UINT64_MAX;
}

static uint64_t sat_add(uint64_t a, uint64_t b) {
    uint64_t r;
    return ef_add_u64(a, b, &r) ? r : UINT64_MAX;
}

/* Bits per word of a tensor named in a partition: its precision in the
 * workload, else the fallback. */
static int named_bits(const ef_nest *n, const char *tensor, int fallback) {
    const ef_workload *w = n->workload;
    for (int t = 0; t < w->tensor_count; t++)
        if (strcmp(w->tensors[t].name, tensor) == 0) return w->tensors[t].bits;
    return fallback;
}

static uint64_t capacity_bits(const ef_capacity *c, int bits) {
    return c->in_words ? sat_mul(c->amount, (uint64_t)bits) : sat_mul(c->amount, 8);
}

uint64_t ef_stats_storage_bits(const ef_nest *n) {
    uint64_t total = 0;
    int any_bits = 1;
    for (int t = 0; t < n->workload->tensor_count; t++)
        if (n->workload->tensors[t].bits > any_bits) any_bits = n->workload->tensors[t].bits;
    for (int l = 0; l < n->level_count; l++) {
        const ef_level_spec *ls = &n->arch->levels[l];
        if (ls->kind == EF_LEVEL_DRAM) continue;
        int widest = 0;
        for (int o = 0; o < n->op_count; o++)
            if (n->levels[l].keeps[o] && op_bits(n, o) > widest) widest = op_bits(n, o);
        if (!widest) widest = any_bits;
        uint64_t bits = 0;
        if (ls->partition_count > 0) {
            for (int p = 0; p < ls->partition_count; p++)
                bits = sat_add(bits, capacity_bits(&ls->partitions[p].capacity,
                                                   named_bits(n, ls->partitions[p].tensor, widest)));
        } else if (ls->capacity.given) {
            bits = capacity_bits(&ls->capacity, widest);
        }
        total = sat_add(total, sat_mul(bits, n->levels[l].instances));
    }
    return total;
}

/* Every hop is priced at the width of the word that made it. */
static double noc_energy(const ef_result *r, const ef_energy_costs *c) {
    double pj = 0;
    for (int o = 0; o < r->nest->op_count; o++)
        pj += (double)r->noc.op_hops[o] * c->hop_pj[o];
    return pj;
}

static void energy(const ef_result *r, ef_stats *s) {
    const ef_nest *n = r->nest;
    ef_energy_costs *c = &s->costs;
    ef_energy_costs_of(n, c);
    s->compute_energy_pj = c->op_pj * (double)r->ops;
    if (n->unit == EF_UNIT_VECTOR) s->vector_energy_pj = s->compute_energy_pj;
    for (int l = 0; l < n->level_count; l++) {
        const ef_level_counters *lc = &r->levels[l];
        double level = 0;
        for (int o = 0; o < n->op_count; o++) {
            ef_action_energy *e = &s->tensor_energy[l][o];
            e->read_pj = c->read_pj[l][o] * (double)lc->ops[o].reads;
            e->fill_pj = c->write_pj[l][o] * (double)lc->ops[o].fills;
            e->update_pj = c->write_pj[l][o] * (double)lc->ops[o].updates;
            level += e->read_pj + e->fill_pj + e->update_pj;
        }
        s->level_energy_pj[l] = level;
    }
    s->noc_energy_pj = noc_energy(r, c);
    /* summed in a fixed order so the total is the same on every run */
    double total = s->compute_energy_pj;
    for (int l = 0; l < n->level_count; l++) total += s->level_energy_pj[l];
    s->energy_pj = total + s->noc_energy_pj;
}

/* Static energy: every component of the architecture leaks for the
 * whole of the run's span, whichever unit computes (area.c). */
static void leakage(const ef_result *r, ef_stats *s) {
    const ef_nest *n = r->nest;
    const ef_area_costs *a = &s->area;
    uint64_t span = ef_result_span_cycles(r);
    /* in the file's energy unit, as the dynamic energies */
    double unit = n->spec_arch->energy_unit_pj > 0 ? n->spec_arch->energy_unit_pj : 1;
    double mhz = n->spec_arch->clock_mhz * unit;
    double total = 0;
    for (int l = 0; l < a->level_count; l++) {
        s->level_leakage_pj[l] =
            ef_leakage_pj(a->level_mw[l] * (double)a->level_instances[l], span, mhz);
        total += s->level_leakage_pj[l];
    }
    s->mac_leakage_pj = ef_leakage_pj(a->pe_mw * (double)a->pes, span, mhz);
    s->noc_leakage_pj = ef_leakage_pj(a->noc_mw, span, mhz);
    s->vector_leakage_pj = ef_leakage_pj(a->vector_mw, span, mhz);
    s->leakage_energy_pj = total + s->mac_leakage_pj + s->noc_leakage_pj + s->vector_leakage_pj;
    s->energy_total_pj = s->energy_pj + s->leakage_energy_pj;
}

/* One port or link: bw_bytes per cycle per instance, 0 unlimited. */
static void port(ef_roofline_port *p, uint64_t bytes, double bw_bytes, uint64_t instances,
                 double ops, double cycles, double peak) {
    p->bytes = bytes;
    p->operational_intensity = bytes ? ops / (double)bytes : 0;
    p->bandwidth_bytes = bw_bytes * (double)instances;
    p->used_bandwidth_bytes = cycles > 0 ? (double)bytes / cycles : 0;
    double mem = p->bandwidth_bytes > 0 && bytes ? p->bandwidth_bytes * p->operational_intensity
                                                 : peak;
    p->attainable_ops = mem < peak ? mem : peak;
}

/* The lowest attainable below the peak names the bound. */
static void consider(ef_stats *s, const ef_nest *n, const ef_roofline_port *p, int res,
                     double *lowest) {
    if (p->attainable_ops >= *lowest) return;
    *lowest = p->attainable_ops;
    ef_timing_resource_name(n, res, s->roofline_bound, sizeof s->roofline_bound);
}

static void roofline(const ef_result *r, ef_stats *s) {
    const ef_nest *n = r->nest;
    const ef_arch_spec *a = n->arch;
    double cycles = (double)r->cycles, ops = (double)r->ops, peak = s->peak_ops;
    double lowest = peak;
    snprintf(s->roofline_bound, sizeof s->roofline_bound, "compute");
    for (int l = 0; l < n->level_count; l++) {
        const ef_level_spec *ls = &a->levels[l];
        ef_roofline_level *rl = &s->roofline[l];
        uint64_t inst = n->levels[l].instances;
        port(&rl->read, s->read_bytes[l], ls->read_bandwidth_bytes, inst, ops, cycles, peak);
        port(&rl->write, s->write_bytes[l], ls->write_bandwidth_bytes, inst, ops, cycles, peak);
        rl->attainable_ops = rl->read.attainable_ops < rl->write.attainable_ops
                                 ? rl->read.attainable_ops
                                 : rl->write.attainable_ops;
        rl->achieved_ops = cycles > 0 ? ops / cycles : 0;
        rl->memory_bound = rl->attainable_ops < peak;
        consider(s, n, &rl->read, ef_res_read(l), &lowest);
        consider(s, n, &rl->write, ef_res_write(l), &lowest);
    }
    uint64_t in = 0;
    for (int o = 0; o < n->op_count; o++)
        in += ef_words_to_bytes(r->noc.op_words_in[o], op_bits(n, o));
    uint64_t out = ef_words_to_bytes(r->noc.words_returned, op_bits(n, n->out_op));
    port(&s->roofline_noc_in, in, n->noc->bandwidth_bytes, 1, ops, cycles, peak);
    port(&s->roofline_noc_out, out, n->noc->bandwidth_bytes, 1, ops, cycles, peak);
    consider(s, n, &s->roofline_noc_in, ef_res_link_in(n), &lowest);
    consider(s, n, &s->roofline_noc_out, ef_res_link_out(n), &lowest);
}

/* The outputs written back out of level l to its parent: its read port
 * moves them (the engine charges it), though they are no reads by the
 * field's counting. They are the parent's updates, each PE's own
 * before a reduction across PEs combines them. */
static uint64_t writeback_bytes(const ef_result *r, int l) {
    const ef_nest *n = r->nest;
    int out = n->out_op, p = n->levels[l].parent[out];
    if (l == 0 || p < 0 || !n->levels[l].keeps[out]) return 0;
    uint64_t words = r->levels[p].ops[out].updates;
    if (n->arch->levels[l].per_pe && !n->arch->levels[p].per_pe)
        words = sat_add(words, r->noc.reductions);
    return ef_words_to_bytes(words, op_bits(n, out));
}

double ef_stats_energy_pj(const ef_result *r) {
    ef_stats *s = ef_malloc(sizeof *s);
    if (!s) return INFINITY; /* no budget is then kept: see search.c */
    energy(r, s);
    double pj = s->energy_pj;
    free(s);
    return pj;
}

void ef_stats_compute(const ef_result *r, ef_stats *s) {
    memset(s, 0, sizeof *s);
    const ef_nest *n = r->nest;
    const ef_arch_spec *a = n->arch;
    s->peak_ops = (double)n->pes * (double)a->macs_per_cycle;
    double cycles = (double)r->cycles;
    s->seconds = a->clock_mhz > 0 ? cycles / (a->clock_mhz * 1e6) : 0;
    /* peak_ops is the unit's that computes the points: the vector
     * unit's lanes for a vector Einsum, while the PE array idles */
    double used = cycles > 0 ? (double)r->ops / (s->peak_ops * cycles) : 0;
    if (n->unit == EF_UNIT_VECTOR) s->vector_utilization = used;
    else s->utilization = used;
    for (int l = 0; l < n->level_count; l++) {
        const ef_level_counters *lc = &r->levels[l];
        for (int o = 0; o < n->op_count; o++) {
            if (!n->levels[l].keeps[o]) continue;
            uint64_t rb = ef_words_to_bytes(lc->ops[o].reads, op_bits(n, o));
            uint64_t wb = ef_words_to_bytes(lc->ops[o].fills + lc->ops[o].updates, op_bits(n, o));
            s->tensor_read_bytes[l][o] = rb;
            s->tensor_write_bytes[l][o] = wb;
            s->read_bytes[l] = sat_add(s->read_bytes[l], rb);
            s->write_bytes[l] = sat_add(s->write_bytes[l], wb);
        }
        s->writeback_bytes[l] = writeback_bytes(r, l);
        s->read_bytes[l] = sat_add(s->read_bytes[l], s->writeback_bytes[l]);
        s->used_bandwidth_bytes[l] =
            cycles > 0 ? ((double)s->read_bytes[l] + (double)s->write_bytes[l]) / cycles : 0;
    }
    roofline(r, s);
    energy(r, s);
    ef_area_costs_of(n, &s->area);
    leakage(r, s);
    s->storage_bits = ef_stats_storage_bits(n);
    s->pes = (uint64_t)n->spec_arch->rows * (uint64_t)n->spec_arch->cols;
}

void ef_stats_energy_rates(double energy_pj, uint64_t macs, uint64_t ops, double seconds,
                           ef_energy_rates *out) {
    memset(out, 0, sizeof *out);
    if (macs > 0) {
        out->pj_per_mac = energy_pj / (double)macs;
        out->has_pj_per_mac = true;
    }
    /* TOPS/W = (ops/s) / W / 1e12 = ops / (energy in pJ): the clock
     * cancels. A MAC is two operations, as in published TOPS/W. */
    if (energy_pj > 0) {
        double counted = 2.0 * (double)macs + (double)(ops - (ops >= macs ? macs : ops));
        out->tops_per_watt = counted / energy_pj;
        out->has_tops_per_watt = true;
    }
    if (seconds > 0) {
        out->watts = energy_pj * 1e-12 / seconds;
        out->has_watts = true;
    }
}
