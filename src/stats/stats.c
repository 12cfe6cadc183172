/* Derived metrics. Utilization = ops / (PEs x MACs per PE x cycles);
 * a level's roofline uses the bytes it sends toward the PEs (reads) and
 * receives back from them (updates): attainable = min(peak, bandwidth x
 * intensity). Energy is counted only where the architecture gives
 * per-access energies (the built-in table comes with the energy model). */
#include "einflow/stats.h"

#include <string.h>

void ef_stats_compute(const ef_result *r, ef_stats *s) {
    memset(s, 0, sizeof *s);
    const ef_nest *n = r->nest;
    const ef_arch_spec *a = n->arch;
    s->peak_ops = (double)n->pes * (double)a->macs_per_cycle;
    double cycles = (double)r->cycles;
    s->seconds = a->clock_mhz > 0 ? cycles / (a->clock_mhz * 1e6) : 0;
    s->utilization = cycles > 0 ? (double)r->ops / (s->peak_ops * cycles) : 0;
    s->has_energy = a->mac_energy_pj >= 0;
    if (s->has_energy) s->mac_energy_pj = a->mac_energy_pj * (double)r->ops;
    s->energy_pj = s->mac_energy_pj;
    for (int l = 0; l < n->level_count; l++) {
        const ef_level_spec *ls = &a->levels[l];
        const ef_level_counters *lc = &r->levels[l];
        ef_roofline_level *rl = &s->roofline[l];
        uint64_t bytes = 0;
        uint64_t rd_words = 0, wr_words = 0;
        for (int o = 0; o < n->op_count; o++) {
            int bits = n->workload->tensors[n->ops[o]->tensor].bits;
            bytes += ef_words_to_bytes(lc->ops[o].reads + lc->ops[o].updates, bits);
            rd_words += lc->ops[o].reads;
            wr_words += lc->ops[o].fills + lc->ops[o].updates;
        }
        rl->bytes = bytes;
        rl->operational_intensity = bytes ? (double)r->ops / (double)bytes : 0;
        rl->bandwidth_bytes = ls->read_bandwidth_bytes * (double)n->levels[l].instances;
        rl->achieved_ops = cycles > 0 ? (double)r->ops / cycles : 0;
        rl->used_bandwidth_bytes = cycles > 0 ? (double)bytes / cycles : 0;
        double mem = rl->bandwidth_bytes > 0 && bytes
                         ? rl->bandwidth_bytes * rl->operational_intensity
                         : s->peak_ops;
        rl->memory_bound = mem < s->peak_ops;
        rl->attainable_ops = rl->memory_bound ? mem : s->peak_ops;
        if (ls->read_energy_pj >= 0 || ls->write_energy_pj >= 0) {
            double e = 0;
            if (ls->read_energy_pj > 0) e += ls->read_energy_pj * (double)rd_words;
            if (ls->write_energy_pj > 0) e += ls->write_energy_pj * (double)wr_words;
            s->level_energy_pj[l] = e;
            s->energy_pj += e;
            s->has_energy = true;
        }
    }
}
