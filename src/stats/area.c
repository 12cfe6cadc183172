/* The cost model for exploration: what the architecture costs in
 * silicon (area) and in static power (leakage), beside what its
 * actions cost in energy (energy.c). A built-in table at the energy
 * table's 45 nm node supplies every figure the architecture does not
 * give; the architecture's own numbers (per level, per PE, per network,
 * for the vector unit) win. stats.c turns the static power into energy
 * over a run's time. docs/area.md states each number's source and
 * derives each rule; tests/unit/check_area.c re-derives them by hand. */
#include "einflow/stats.h"
#include "stats/interp.h"

#include <math.h>
#include <string.h>

/* M. Horowitz, "Computing's energy problem (and what we can do about
 * it)", ISSCC 2014, 45 nm: the area of each arithmetic circuit beside
 * its energy (energy.c's table points), in um^2. */
#define INT_ADD_8_UM2 36.0
#define INT_ADD_32_UM2 137.0
#define INT_MUL_8_UM2 282.0
#define INT_MUL_32_UM2 3495.0
#define FP_ADD_16_UM2 1360.0
#define FP_ADD_32_UM2 4184.0
#define FP_MUL_16_UM2 1640.0
#define FP_MUL_32_UM2 7700.0

/* D. J. Greaves, "System on Chip Design and Modelling", University of
 * Cambridge lecture notes 2011/12, "45nm SRAM memory area and power":
 * rules of thumb fitted to CACTI, an SRAM bit about 600 lambda^2 with
 * lambda the feature size, 45 nm. The macro's periphery is in it: the
 * bare 45 nm 6T cell is 0.346 um^2 (Mistry et al., IEDM 2007). */
#define SRAM_BIT_F2 600.0
#define FEATURE_UM 0.045
#define SRAM_BIT_UM2 (SRAM_BIT_F2 * FEATURE_UM * FEATURE_UM) /* 1.215 */

/* Y. S. Shao, B. Reagen, G.-Y. Wei, D. Brooks, "Aladdin", ISCA 2014:
 * its characterization of TSMC 40 nm (40G, the half node of 45 nm),
 * one register bit: 4.3092 um^2 and 5.3552e-5 mW of leakage. Their
 * ratio is the table's static power per mm^2 of any circuit. */
#define REG_BIT_UM2 4.3092
#define REG_BIT_LEAK_MW 5.3552e-5
#define LEAK_MW_PER_MM2 (REG_BIT_LEAK_MW / (REG_BIT_UM2 * 1e-6)) /* 12.43 */

#define UM2_PER_MM2 1e6
#define BYTES_PER_KIB 1024.0

static double width(int bits) {
    return bits < 1 ? 1.0 : (double)bits;
}

double ef_area_add_um2(ef_arithmetic a, int bits) {
    if (a == EF_ARITH_FLOAT) return ef_loglog(width(bits), 16, FP_ADD_16_UM2, 32, FP_ADD_32_UM2);
    return ef_loglog(width(bits), 8, INT_ADD_8_UM2, 32, INT_ADD_32_UM2);
}

static double mul_w_um2(ef_arithmetic a, double w) {
    if (a == EF_ARITH_FLOAT) return ef_loglog(w, 16, FP_MUL_16_UM2, 32, FP_MUL_32_UM2);
    return ef_loglog(w, 8, INT_MUL_8_UM2, 32, INT_MUL_32_UM2);
}

double ef_area_mul_um2(ef_arithmetic a, int bits) {
    return mul_w_um2(a, width(bits));
}

double ef_area_mac_um2(ef_arithmetic a, int a_bits, int b_bits, int acc_bits) {
    return mul_w_um2(a, sqrt(width(a_bits) * width(b_bits))) + ef_area_add_um2(a, acc_bits);
}

double ef_area_op_um2(ef_arithmetic a, ef_vector_op op, int bits) {
    ef_op_parts p;
    ef_op_parts_of(op, bits, &p);
    return p.muls * ef_area_mul_um2(a, bits) + p.adds * ef_area_add_um2(a, bits) +
           p.compares * ef_area_add_um2(EF_ARITH_INT, bits);
}

double ef_area_register_um2(uint64_t bits) {
    return (double)bits * REG_BIT_UM2;
}

/* A cell with p ports has one wordline and one bitline per port: it
 * grows by a track each way per port (S. Rixner et al., "Register
 * organization for media processing", HPCA 2000, model the cell as
 * (w + p) x (h + p) tracks). einflow takes the single-ported cell as
 * two port pitches on a side, w = h = 1: p ports cost ((1 + p) / 2)^2
 * the table's cell, 2.25x for two. */
static double port_factor(int ports) {
    double p = ports < 1 ? 1.0 : (double)ports;
    return (1.0 + p) * (1.0 + p) / 4.0;
}

double ef_area_sram_mm2(uint64_t capacity_bytes, int ports) {
    return (double)capacity_bytes * 8.0 * SRAM_BIT_UM2 * port_factor(ports) / UM2_PER_MM2;
}

double ef_area_regfile_mm2(uint64_t capacity_bytes, int ports) {
    return ef_area_register_um2(capacity_bytes * 8) * port_factor(ports) / UM2_PER_MM2;
}

double ef_leakage_mw(double area_mm2) {
    return area_mm2 * LEAK_MW_PER_MM2;
}

double ef_leakage_pj(double mw, uint64_t cycles, double clock_mhz) {
    /* 1 mW for one cycle of 1 / (f MHz) us is 1000 / f pJ */
    return clock_mhz > 0 ? mw * (double)cycles * 1e3 / clock_mhz : 0;
}

/* ---------- the architecture a nest runs on ---------- */

static int widest_bits(const ef_workload *w) {
    int b = 1;
    for (int t = 0; t < w->tensor_count; t++)
        if (w->tensors[t].bits > b) b = w->tensors[t].bits;
    return b;
}

static int tensor_bits(const ef_workload *w, const char *name, int fallback) {
    for (int t = 0; t < w->tensor_count; t++)
        if (!strcmp(w->tensors[t].name, name)) return w->tensors[t].bits;
    return fallback;
}

static uint64_t to_bytes(const ef_capacity *c, int bits) {
    return c->in_words ? ef_words_to_bytes(c->amount, bits) : c->amount;
}

/* One instance's bytes: its partitions (each at its tensor's width) or
 * its capacity (words at the workload's widest); 0 = unlimited. The
 * workload's widest, not the tensors a mapping keeps there: a design's
 * area does not depend on how it is used. */
static uint64_t level_bytes(const ef_level_spec *ls, const ef_workload *w) {
    int widest = widest_bits(w);
    if (ls->partition_count == 0) return ls->capacity.given ? to_bytes(&ls->capacity, widest) : 0;
    uint64_t sum = 0;
    for (int p = 0; p < ls->partition_count; p++) {
        const ef_partition *part = &ls->partitions[p];
        uint64_t b = to_bytes(&part->capacity, tensor_bits(w, part->tensor, widest));
        sum = b > UINT64_MAX - sum ? UINT64_MAX : sum + b;
    }
    return sum;
}

static void level_costs(const ef_level_spec *ls, const ef_workload *w, double clock_mhz,
                        double *mm2, double *mw, ef_energy_source *area_src,
                        ef_energy_source *leak_src) {
    double kib = (double)level_bytes(ls, w) / BYTES_PER_KIB;
    *area_src = *leak_src = EF_ENERGY_ARCH;
    if (ls->area_mm2 >= 0) *mm2 = ls->area_mm2;
    else if (ls->area_mm2_per_kib >= 0) *mm2 = ls->area_mm2_per_kib * kib;
    else {
        *area_src = EF_ENERGY_TABLE;
        uint64_t bytes = level_bytes(ls, w);
        /* off chip, or unlimited: no silicon of this design's */
        *mm2 = ls->kind == EF_LEVEL_DRAM ? 0
               : ls->kind == EF_LEVEL_REGFILE ? ef_area_regfile_mm2(bytes, ls->ports)
                                              : ef_area_sram_mm2(bytes, ls->ports);
    }
    if (ls->leakage_mw >= 0) *mw = ls->leakage_mw;
    else if (ls->leakage_mw_per_kib >= 0) *mw = ls->leakage_mw_per_kib * kib;
    else if (ls->leakage_pj_per_cycle >= 0) *mw = ls->leakage_pj_per_cycle * clock_mhz / 1e3;
    else {
        *leak_src = EF_ENERGY_TABLE;
        *mw = ls->kind == EF_LEVEL_DRAM ? 0 : ef_leakage_mw(*mm2);
    }
}

/* One MAC lane sized to the nest's Einsum: a x b into acc for a MAC,
 * the widest of its tensors otherwise. */
static double mac_lane_um2(const ef_nest *n) {
    const ef_workload *w = n->workload;
    const ef_einsum *e = n->einsum;
    ef_arithmetic arith = n->spec_arch->arithmetic;
    int out = w->tensors[e->output.tensor].bits;
    if (e->is_mac && e->input_count >= 2)
        return ef_area_mac_um2(arith, w->tensors[e->inputs[0].tensor].bits,
                               w->tensors[e->inputs[1].tensor].bits, out);
    int wide = out;
    for (int k = 0; k < e->input_count; k++)
        if (w->tensors[e->inputs[k].tensor].bits > wide) wide = w->tensors[e->inputs[k].tensor].bits;
    return ef_area_mac_um2(arith, wide, wide, wide);
}

/* A network's pipeline latch at every PE: one word of each of the
 * nest's tensors (operands in, the partial sum out). */
static double noc_table_mm2(const ef_nest *n, uint64_t pes) {
    const ef_workload *w = n->workload;
    const ef_einsum *e = n->einsum;
    uint64_t bits = (uint64_t)w->tensors[e->output.tensor].bits;
    for (int k = 0; k < e->input_count; k++) {
        bool seen = e->inputs[k].tensor == e->output.tensor;
        for (int j = 0; j < k && !seen; j++) seen = e->inputs[j].tensor == e->inputs[k].tensor;
        if (!seen) bits += (uint64_t)w->tensors[e->inputs[k].tensor].bits;
    }
    return ef_area_register_um2(bits) * (double)pes / UM2_PER_MM2;
}

/* All five functional units of one lane at the workload's widest. */
static double vector_lane_um2(const ef_vector_unit_spec *vu, int bits) {
    double um2 = 0;
    for (int op = 0; op < EF_VOP_COUNT; op++)
        um2 += ef_area_op_um2(vu->arithmetic, (ef_vector_op)op, bits);
    return um2;
}

static double given_or(double given, double table) {
    return given >= 0 ? given : table;
}

void ef_area_costs_of(const ef_nest *n, ef_area_costs *c) {
    memset(c, 0, sizeof *c);
    const ef_arch_spec *a = n->spec_arch;
    c->pes = (uint64_t)a->rows * (uint64_t)a->cols;
    c->level_count = a->level_count;
    for (int l = 0; l < a->level_count; l++) {
        const ef_level_spec *ls = &a->levels[l];
        c->level_instances[l] = ls->per_pe ? c->pes : 1;
        level_costs(ls, n->workload, a->clock_mhz, &c->level_mm2[l], &c->level_mw[l],
                    &c->level_area_source[l], &c->level_leakage_source[l]);
        c->total_mm2 += c->level_mm2[l] * (double)c->level_instances[l];
        c->total_mw += c->level_mw[l] * (double)c->level_instances[l];
    }
    double lane_mm2 = mac_lane_um2(n) * (double)a->macs_per_cycle / UM2_PER_MM2;
    c->pe_mm2 = given_or(a->pe_area_mm2, lane_mm2);
    c->pe_mw = given_or(a->pe_leakage_mw, ef_leakage_mw(c->pe_mm2));
    /* the networks the file declares, or the one every array has */
    double table_noc = noc_table_mm2(n, c->pes);
    if (a->noc_count == 0) {
        c->noc_mm2 = table_noc;
        c->noc_mw = ef_leakage_mw(table_noc);
    }
    for (int k = 0; k < a->noc_count; k++) {
        double mm2 = given_or(a->nocs[k].area_mm2, table_noc);
        c->noc_mm2 += mm2;
        c->noc_mw += given_or(a->nocs[k].leakage_mw, ef_leakage_mw(mm2));
    }
    const ef_vector_unit_spec *vu = &a->vector_unit;
    if (vu->present) {
        double table = vector_lane_um2(vu, widest_bits(n->workload)) * (double)vu->lanes /
                       UM2_PER_MM2;
        c->vector_mm2 = given_or(vu->area_mm2, table);
        c->vector_mw = given_or(vu->leakage_mw, ef_leakage_mw(c->vector_mm2));
    }
    c->total_mm2 += c->pe_mm2 * (double)c->pes + c->noc_mm2 + c->vector_mm2;
    c->total_mw += c->pe_mw * (double)c->pes + c->noc_mw + c->vector_mw;
}
