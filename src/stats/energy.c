/* The energy model: what one action costs. A built-in 45 nm table with
 * cited sources supplies every cost the architecture does not give; the
 * architecture's own numbers (per level, per MAC, per NoC hop) win.
 * stats.c multiplies these unit costs by the simulator's counts.
 * docs/energy.md states each number's source and derives each rule;
 * tests/unit/check_energy.c re-derives them by hand. */
#include "einflow/stats.h"
#include "model/vector.h"
#include "stats/interp.h"

#include <math.h>
#include <string.h>

/* M. Horowitz, "Computing's energy problem (and what we can do about
 * it)", ISSCC 2014, 45 nm, 0.9 V. pJ per operation. */
#define INT_ADD_8_PJ 0.03
#define INT_ADD_32_PJ 0.1
#define INT_MUL_8_PJ 0.2
#define INT_MUL_32_PJ 3.1
#define FP_ADD_16_PJ 0.4
#define FP_ADD_32_PJ 0.9
#define FP_MUL_16_PJ 1.1
#define FP_MUL_32_PJ 3.7

/* Same source: one 64-bit cache (SRAM) access at three sizes, and a
 * 64-bit DRAM access, 1.3 to 2.6 nJ: we take the middle of the range. */
static const struct {
    double bytes, pj_per_64b;
} sram_points[] = {
    {8.0 * 1024, 10.0},
    {32.0 * 1024, 20.0},
    {1024.0 * 1024, 100.0},
};
#define SRAM_UNLIMITED_BYTES (1024.0 * 1024) /* largest table point */
#define DRAM_PJ_PER_64B ((1300.0 + 2600.0) / 2)

/* Y.-H. Chen, J. Emer, V. Sze, "Eyeriss: A Spatial Architecture for
 * Energy-Efficient Dataflow for Convolutional Neural Networks", ISCA
 * 2016: access costs normalized to one 16-bit MAC. Used for
 * the two costs Horowitz's table lacks: register files and the array
 * network. (Its GLB 6x and DRAM 200x are not used: the table's SRAM
 * and DRAM figures cover those levels.) */
#define EYERISS_RF_X 1.0
#define EYERISS_NOC_X 2.0
#define EYERISS_REF_BITS 16

#define loglog ef_loglog

static double width(int bits) {
    return bits < 1 ? 1.0 : (double)bits;
}

double ef_energy_add_pj(ef_arithmetic a, int bits) {
    if (a == EF_ARITH_FLOAT)
        return loglog(width(bits), 16, FP_ADD_16_PJ, 32, FP_ADD_32_PJ);
    return loglog(width(bits), 8, INT_ADD_8_PJ, 32, INT_ADD_32_PJ);
}

/* A multiplier w bits wide (w need not be whole: see mul_ab_pj). */
static double mul_w_pj(ef_arithmetic a, double w) {
    if (a == EF_ARITH_FLOAT)
        return loglog(w, 16, FP_MUL_16_PJ, 32, FP_MUL_32_PJ);
    return loglog(w, 8, INT_MUL_8_PJ, 32, INT_MUL_32_PJ);
}

double ef_energy_mul_pj(ef_arithmetic a, int bits) {
    return mul_w_pj(a, width(bits));
}

/* Multiplier of a x b bits at the geometric-mean width sqrt(a b). */
static double mul_ab_pj(ef_arithmetic a, double a_bits, double b_bits) {
    return mul_w_pj(a, sqrt(a_bits * b_bits));
}

double ef_energy_mac_pj(ef_arithmetic a, int a_bits, int b_bits, int acc_bits) {
    return mul_ab_pj(a, width(a_bits), width(b_bits)) + ef_energy_add_pj(a, acc_bits);
}

/* Operators the table lacks, built from its multiplies and adds:
 * - div: a Newton-Raphson reciprocal (S. F. Oberman, M. J. Flynn,
 *   "Division algorithms and implementations", IEEE Trans. Computers,
 *   1997): an 8-bit table seed (a small ROM, not counted), k =
 *   ceil(log2(bits / 8)) iterations x' = x (2 - b x) of two multiplies
 *   and a subtract, each doubling the correct bits (k = 1 reaches the
 *   11-bit significand of fp16, 2 the 24 of fp32), then one multiply by
 *   the dividend: (2k + 1) multiplies and k adds.
 * - exp: FuseMax's exponential unit (Nayak et al., MICRO 2024, its
 *   artifact's transformer-components.yaml, after Nilsson et al.,
 *   NORCHIP 2014): a fifth-order Taylor polynomial as five fused
 *   multiply-adds and a final multiply: 6 multiplies and 5 adds.
 * - max: a compare, which for IEEE floats is an integer compare of the
 *   same bits (the biased exponent makes them order like sign-magnitude
 *   integers; D. Goldberg, ACM Computing Surveys, 1991): an integer add. */
#define EXP_MULS 6
#define EXP_ADDS 5

static int nr_iterations(int bits) {
    int k = 0;
    for (int covered = 8; covered < bits; covered *= 2) k++;
    return k;
}

void ef_op_parts_of(ef_vector_op op, int bits, ef_op_parts *p) {
    p->muls = p->adds = p->compares = 0;
    switch (op) {
    case EF_VOP_MUL: p->muls = 1; break;
    case EF_VOP_MAX: p->compares = 1; break;
    case EF_VOP_DIV: {
        int k = nr_iterations(bits);
        p->muls = 2 * k + 1;
        p->adds = k;
        break;
    }
    case EF_VOP_EXP:
        p->muls = EXP_MULS;
        p->adds = EXP_ADDS;
        break;
    case EF_VOP_ADD:
    default: p->adds = 1; break;
    }
}

double ef_energy_op_pj(ef_arithmetic a, ef_vector_op op, int bits) {
    ef_op_parts p;
    ef_op_parts_of(op, bits, &p);
    return p.muls * ef_energy_mul_pj(a, bits) + p.adds * ef_energy_add_pj(a, bits) +
           p.compares * ef_energy_add_pj(EF_ARITH_INT, bits);
}

double ef_energy_ref_mac_pj(void) {
    return ef_energy_mac_pj(EF_ARITH_INT, EYERISS_REF_BITS, EYERISS_REF_BITS,
                            EYERISS_REF_BITS);
}

double ef_energy_regfile_pj(int bits) {
    return EYERISS_RF_X * ef_energy_ref_mac_pj() * width(bits) / EYERISS_REF_BITS;
}

double ef_energy_hop_pj(int bits) {
    return EYERISS_NOC_X * ef_energy_ref_mac_pj() * width(bits) / EYERISS_REF_BITS;
}

double ef_energy_dram_pj(int bits) {
    return DRAM_PJ_PER_64B / 8.0 * (width(bits) / 8.0);
}

double ef_energy_sram_pj(uint64_t capacity_bytes, int bits) {
    double c = capacity_bytes ? (double)capacity_bytes : SRAM_UNLIMITED_BYTES;
    /* segment: the first pair below 32 KiB, the second above */
    int s = c <= sram_points[1].bytes ? 0 : 1;
    double per64 = loglog(c, sram_points[s].bytes, sram_points[s].pj_per_64b,
                          sram_points[s + 1].bytes, sram_points[s + 1].pj_per_64b);
    double e = per64 * width(bits) / 64.0;
    double floor_pj = ef_energy_regfile_pj(bits), ceil_pj = ef_energy_dram_pj(bits);
    return e < floor_pj ? floor_pj : e > ceil_pj ? ceil_pj : e;
}

/* ---------- costs of one nest ---------- */

static int op_bits(const ef_nest *n, int o) {
    return n->workload->tensors[n->ops[o]->tensor].bits;
}

/* Energy and width of one expression node per iteration point. Each
 * operator is priced by ef_energy_op_pj at the wider of its operands'
 * widths — a product at their geometric mean, as a MAC's multiply — or,
 * on the vector unit, at the energy the architecture gives for its kind.
 * A number constant has width 0 and takes its partner's. */
typedef struct {
    double pj;
    double bits;
} node_cost;

typedef struct {
    const ef_nest *n;
    const ef_vector_unit_spec *vu; /* NULL on the PE array              */
    bool all_given;                /* every operator priced by the arch */
} cost_walk;

static double op_pj(cost_walk *w, ef_vector_op op, double a_bits, double b_bits) {
    if (w->vu && w->vu->ops[op].energy_pj >= 0) return w->vu->ops[op].energy_pj;
    w->all_given = false;
    ef_arithmetic a = w->n->arch->arithmetic; /* the view's: the unit's */
    double unit = w->n->arch->energy_unit_pj > 0 ? w->n->arch->energy_unit_pj : 1;
    if (op == EF_VOP_MUL) return mul_ab_pj(a, a_bits, b_bits) / unit;
    double wide = a_bits > b_bits ? a_bits : b_bits;
    return ef_energy_op_pj(a, op, (int)wide) / unit;
}

static node_cost expr_cost(cost_walk *w, int id, int depth) {
    node_cost c = {0, 0};
    const ef_nest *n = w->n;
    const ef_einsum *e = n->einsum;
    if (id < 0 || id >= e->node_count || depth > 64) return c;
    const ef_expr_node *nd = &e->nodes[id];
    if (nd->kind == EF_EXPR_REF) {
        c.bits = n->workload->tensors[e->inputs[nd->operand].tensor].bits;
        return c;
    }
    if (nd->kind == EF_EXPR_NUM) return c;
    node_cost l = expr_cost(w, nd->left, depth + 1);
    node_cost r = expr_cost(w, nd->right, depth + 1);
    c.pj = l.pj + r.pj;
    double wide = l.bits > r.bits ? l.bits : r.bits;
    if (wide <= 0) wide = op_bits(n, n->out_op);
    c.bits = wide;
    ef_vector_op op;
    if (ef_vector_op_of(nd->kind, &op)) {
        double lb = l.bits > 0 ? l.bits : wide, rb = r.bits > 0 ? r.bits : wide;
        c.pj += op_pj(w, op, op == EF_VOP_MUL ? lb : wide, op == EF_VOP_MUL ? rb : wide);
    }
    return c;
}

/* One iteration point: the right-hand side, then the combine into the
 * output (an add for +=, a compare for max=) at the output's width.
 * *given: every operator's energy came from the vector unit's keys. */
static double op_table_pj(const ef_nest *n, bool *given) {
    cost_walk w = {.n = n, .all_given = true};
    if (n->unit == EF_UNIT_VECTOR) w.vu = &n->arch->vector_unit;
    double pj = expr_cost(&w, n->einsum->root, 0).pj;
    ef_vector_op combine;
    if (ef_vector_combine_op(n->einsum->reduce, &combine)) {
        double bits = op_bits(n, n->out_op);
        pj += op_pj(&w, combine, bits, bits);
    }
    *given = w.vu && w.all_given;
    return pj;
}

/* Bytes of one instance's storage for operand o at level l: its
 * partition, or the shared capacity (words at the widest precision the
 * level keeps). 0 = unlimited. */
static uint64_t capacity_bytes(const ef_nest *n, int l, int o) {
    const ef_level_spec *ls = &n->arch->levels[l];
    const char *name = n->workload->tensors[n->ops[o]->tensor].name;
    for (int p = 0; p < ls->partition_count; p++)
        if (strcmp(ls->partitions[p].tensor, name) == 0) {
            const ef_capacity *c = &ls->partitions[p].capacity;
            return c->in_words ? ef_words_to_bytes(c->amount, op_bits(n, o)) : c->amount;
        }
    if (!ls->capacity.in_words) return ls->capacity.amount;
    int widest = 1;
    for (int k = 0; k < n->op_count; k++)
        if (n->levels[l].keeps[k] && op_bits(n, k) > widest) widest = op_bits(n, k);
    return ef_words_to_bytes(ls->capacity.amount, widest);
}

static double table_word_pj(const ef_nest *n, int l, int o) {
    const ef_level_spec *ls = &n->arch->levels[l];
    int bits = op_bits(n, o);
    switch (ls->kind) {
    case EF_LEVEL_DRAM:
        return ef_energy_dram_pj(bits);
    case EF_LEVEL_REGFILE:
        /* small by declaration; a large one is costed as the SRAM it is */
        if (!ls->capacity.given && ls->partition_count == 0) return ef_energy_regfile_pj(bits);
        return ef_energy_sram_pj(capacity_bytes(n, l, o), bits);
    case EF_LEVEL_SRAM:
    default:
        return ef_energy_sram_pj(capacity_bytes(n, l, o), bits);
    }
}

void ef_energy_costs_of(const ef_nest *n, ef_energy_costs *c) {
    memset(c, 0, sizeof *c);
    const ef_arch_spec *a = n->arch;
    /* the table is in pJ; a file in its own unit gets it in that unit */
    double unit = a->energy_unit_pj > 0 ? a->energy_unit_pj : 1;
    if (n->unit == EF_UNIT_ARRAY && a->mac_energy_pj >= 0) {
        c->op_pj = a->mac_energy_pj;
        c->op_source = EF_ENERGY_ARCH;
    } else {
        bool given;
        c->op_pj = op_table_pj(n, &given);
        c->op_source = given ? EF_ENERGY_ARCH : EF_ENERGY_TABLE;
    }
    for (int l = 0; l < n->level_count; l++) {
        const ef_level_spec *ls = &a->levels[l];
        /* one given figure serves both directions, as in the table */
        double rd = ls->read_energy_pj >= 0 ? ls->read_energy_pj : ls->write_energy_pj;
        double wr = ls->write_energy_pj >= 0 ? ls->write_energy_pj : ls->read_energy_pj;
        c->level_source[l] = rd >= 0 ? EF_ENERGY_ARCH : EF_ENERGY_TABLE;
        for (int o = 0; o < n->op_count; o++) {
            double t = rd >= 0 ? 0 : table_word_pj(n, l, o) / unit;
            c->read_pj[l][o] = rd >= 0 ? rd : t;
            c->write_pj[l][o] = wr >= 0 ? wr : t;
        }
    }
    /* the nest's default network (none declared) has no energy key */
    bool given = n->noc && n->noc != &n->default_noc && n->noc->hop_energy_pj >= 0;
    c->noc_source = given ? EF_ENERGY_ARCH : EF_ENERGY_TABLE;
    for (int o = 0; o < n->op_count; o++)
        c->hop_pj[o] = given ? n->noc->hop_energy_pj : ef_energy_hop_pj(op_bits(n, o)) / unit;
}
