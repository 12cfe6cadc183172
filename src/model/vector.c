/* The vector unit (vector.h): checks a vector Einsum's mapping against
 * what a 1-D unit can do, builds the architecture view its nest runs
 * on, and derives how long a lane spends on one point. The rest of the
 * nest is built and checked by nest.c exactly as for the PE array. */
#include "model/vector.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    ef_diags *diags;
    const char *mapfile;
    bool failed;
} checker;

static void err(checker *c, ef_loc loc, const char *path, const char *hint,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void err(checker *c, ef_loc loc, const char *path, const char *hint,
                const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ef_diags_vadd_at(c->diags, loc, c->mapfile, path, hint, fmt, ap);
    va_end(ap);
    c->failed = true;
}

bool ef_vector_op_of(ef_expr_kind kind, ef_vector_op *op) {
    switch (kind) {
    case EF_EXPR_ADD:
    case EF_EXPR_SUB:
    case EF_EXPR_NEG: /* a subtraction from zero */
        *op = EF_VOP_ADD;
        return true;
    case EF_EXPR_MUL: *op = EF_VOP_MUL; return true;
    case EF_EXPR_DIV: *op = EF_VOP_DIV; return true;
    case EF_EXPR_EXP: *op = EF_VOP_EXP; return true;
    case EF_EXPR_MAX: *op = EF_VOP_MAX; return true;
    default: return false; /* REF, NUM: operands, not operations */
    }
}

bool ef_vector_combine_op(ef_reduce reduce, ef_vector_op *op) {
    if (reduce == EF_REDUCE_SUM) *op = EF_VOP_ADD;
    else if (reduce == EF_REDUCE_MAX) *op = EF_VOP_MAX;
    else return false;
    return true;
}

/* Sources (docs/model.md, "The vector unit"):
 * - add, mul, max: one cycle each, as FuseMax's cost model charges
 *   every add, max and MAC of its PEs (Nayak et al., MICRO 2024; its
 *   artifact's src/accel/proposal.py);
 * - exp: six cycles, FuseMax's exponential unit: a fifth-order Taylor
 *   polynomial as five fused multiply-adds and a final multiply, one
 *   cycle each (artifact, transformer-components.yaml, after Nilsson et
 *   al., NORCHIP 2014);
 * - div: derived, not published: a Newton-Raphson reciprocal (Oberman
 *   and Flynn, IEEE Trans. Computers 1997) from an 8-bit table seed
 *   (one cycle), k = ceil(log2(bits / 8)) iterations of multiply,
 *   subtract, multiply (three cycles each), and the final multiply by
 *   the dividend: 2 + 3k cycles, 5 at 16 bits and 8 at 32. */
uint64_t ef_vector_default_latency_cycles(ef_vector_op op, int bits) {
    switch (op) {
    case EF_VOP_EXP: return 6;
    case EF_VOP_DIV: {
        uint64_t k = 0;
        for (int covered = 8; covered < bits; covered *= 2) k++;
        return 2 + 3 * k;
    }
    default: return 1;
    }
}

static uint64_t op_latency(const ef_vector_unit_spec *vu, ef_vector_op op, int bits) {
    const ef_vector_op_spec *s = &vu->ops[op];
    return s->latency_given ? s->latency_cycles : ef_vector_default_latency_cycles(op, bits);
}

/* Latency of the longest path from the operands to node id, and the
 * width the node computes at: a reference its tensor's precision, an
 * operator the wider of its operands (a number takes its partner's;
 * numbers alone the output's) — the widths docs/energy.md prices. */
typedef struct {
    uint64_t cycles;
    int bits;
} op_path;

static op_path longest_path(const ef_nest *n, const ef_vector_unit_spec *vu, int id, int depth) {
    op_path p = {0, 0};
    const ef_einsum *e = n->einsum;
    if (id < 0 || id >= e->node_count || depth > 64) return p;
    const ef_expr_node *nd = &e->nodes[id];
    if (nd->kind == EF_EXPR_REF) {
        p.bits = n->workload->tensors[e->inputs[nd->operand].tensor].bits;
        return p;
    }
    if (nd->kind == EF_EXPR_NUM) return p;
    op_path l = longest_path(n, vu, nd->left, depth + 1);
    op_path r = longest_path(n, vu, nd->right, depth + 1);
    p.bits = l.bits > r.bits ? l.bits : r.bits;
    if (p.bits <= 0) p.bits = n->workload->tensors[e->output.tensor].bits;
    ef_vector_op op;
    p.cycles = l.cycles > r.cycles ? l.cycles : r.cycles;
    if (ef_vector_op_of(nd->kind, &op)) p.cycles += op_latency(vu, op, p.bits);
    return p;
}

static void count_uses(const ef_einsum *e, int id, int depth, uint64_t uses[EF_VOP_COUNT]) {
    if (id < 0 || id >= e->node_count || depth > 64) return;
    const ef_expr_node *nd = &e->nodes[id];
    ef_vector_op op;
    if (ef_vector_op_of(nd->kind, &op)) uses[op]++;
    if (nd->kind == EF_EXPR_REF || nd->kind == EF_EXPR_NUM) return;
    count_uses(e, nd->left, depth + 1, uses);
    count_uses(e, nd->right, depth + 1, uses);
}

/* A lane starts a point every `interval` cycles: each operator kind
 * has its own pipelined unit, so the kind that is busiest per point
 * sets the pace (interval x uses); a point with no operator (a copy)
 * still takes a cycle. Its result is written `latency` cycles after
 * issue: the longest operator path, then the combine into the output. */
static void step_timing(ef_nest *n, const ef_vector_unit_spec *vu) {
    const ef_einsum *e = n->einsum;
    uint64_t uses[EF_VOP_COUNT] = {0};
    count_uses(e, e->root, 0, uses);
    op_path p = longest_path(n, vu, e->root, 0);
    ef_vector_op combine;
    if (ef_vector_combine_op(e->reduce, &combine)) {
        uses[combine]++;
        p.cycles += op_latency(vu, combine, n->workload->tensors[e->output.tensor].bits);
    }
    uint64_t interval = 1;
    for (int k = 0; k < EF_VOP_COUNT; k++) {
        uint64_t busy = vu->ops[k].interval_cycles * uses[k];
        if (busy > interval) interval = busy;
    }
    n->step_interval_cycles = interval;
    n->step_latency_cycles = p.cycles;
}

static int level_named(const ef_arch_spec *a, const char *name) {
    for (int l = 0; l < a->level_count; l++)
        if (strcmp(a->levels[l].name, name) == 0) return l;
    return -1;
}

/* Whether rank r indexes the Einsum's output: else it is reduced. */
static bool indexes_output(const ef_einsum *e, int r) {
    for (int d = 0; d < e->output.dims; d++)
        for (int t = 0; t < e->output.index[d].term_count; t++)
            if (e->output.index[d].rank[t] == r) return true;
    return false;
}

/* The rules a 1-D unit fed from one level adds to the usual ones
 * (nest.c checks those on the view). Paths follow nest.c's. */
static void check_mapping(checker *c, const ef_nest *n, const ef_einsum_mapping_spec *em,
                          const ef_vector_unit_spec *vu) {
    const ef_arch_spec *a = n->spec_arch;
    const ef_workload *w = n->workload;
    const ef_einsum *e = n->einsum;
    for (int i = 0; i < em->level_count; i++) {
        const ef_level_mapping_spec *lm = &em->levels[i];
        char path[160];
        int l = level_named(a, lm->level);
        if (l > vu->from_level) {
            snprintf(path, sizeof path, "mapping[%d].level", i);
            err(c, lm->loc, path, "map this Einsum with unit: array to use the levels inside",
                "level %s is inside %s, which feeds the vector unit %s: a vector "
                "Einsum's mapping names levels down to %s only",
                lm->level, vu->from, vu->name, vu->from);
        }
        if (lm->row_count > 0) {
            snprintf(path, sizeof path, "mapping[%d].spatial.rows", i);
            err(c, lm->rows[0].loc, path, "put the lanes' loops under spatial.cols",
                "the vector unit %s is one row of %d lanes: it has no spatial rows",
                vu->name, vu->lanes);
        }
        uint64_t lanes_used = 1;
        for (int k = 0; k < lm->col_count; k++) {
            const ef_factor_spec *f = &lm->cols[k];
            if (!ef_mul_u64(lanes_used, f->factor, &lanes_used)) lanes_used = UINT64_MAX;
            int r = ef_workload_rank_id(w, f->rank);
            if (r < 0 || !e->rank_used[r] || f->factor < 2 || indexes_output(e, r)) continue;
            snprintf(path, sizeof path, "mapping[%d].spatial.cols[%d].%s", i, k, f->rank);
            err(c, f->loc, path, "loop over this rank in time, and put an output rank on the lanes",
                "rank %s is reduced (the output %s does not index it), and the vector "
                "unit %s has no reduction across its lanes",
                f->rank, w->tensors[e->output.tensor].name, vu->name);
        }
        if (lm->col_count > 0 && lanes_used > (uint64_t)vu->lanes) {
            snprintf(path, sizeof path, "mapping[%d].spatial.cols", i);
            err(c, lm->cols[0].loc, path, NULL,
                "the spatial cols factors need %llu lanes but the vector unit %s has %d",
                (unsigned long long)lanes_used, vu->name, vu->lanes);
        }
    }
}

/* The view: the declared levels down to `from` keep their indices, so
 * a vector Einsum's counts line up with the array's level by level. */
static void build_view(ef_nest *n, const ef_vector_unit_spec *vu) {
    ef_arch_spec *v = &n->unit_arch;
    *v = *n->spec_arch; /* file and strings borrowed: the nest never frees them */
    v->level_count = vu->from_level + 1;
    v->rows = 1;
    v->cols = vu->lanes;
    v->macs_per_cycle = 1;
    v->mac_energy_pj = -1; /* the PEs' MAC energy is not the lanes' */
    v->arithmetic = vu->arithmetic;
    /* A lane reads its own operands, and a word every lane needs in the
     * same step (MX[h,p] while the lanes split M) is one read multicast
     * to them all, as on a row bus. Partial sums are never combined
     * across lanes: reductions run in time inside a lane. */
    ef_noc_spec *noc = &v->nocs[0];
    memset(noc, 0, sizeof *noc);
    snprintf(noc->from, sizeof noc->from, "%s", vu->from);
    snprintf(noc->to, sizeof noc->to, "%s", vu->name);
    noc->topology = EF_NOC_MULTICAST;
    noc->bandwidth_bytes = vu->bandwidth_bytes;
    noc->reduction = false;
    noc->hop_energy_pj = -1;
    noc->loc = vu->loc;
    v->noc_count = 1;
    n->arch = v;
    n->level_count = v->level_count;
    n->pes = (uint64_t)vu->lanes;
}

bool ef_vector_prepare(ef_nest *n, const ef_einsum_mapping_spec *em, const char *mapfile,
                       ef_diags *diags) {
    if (em->unit != EF_UNIT_VECTOR) return true;
    checker c = {.diags = diags, .mapfile = mapfile};
    const ef_arch_spec *a = n->spec_arch;
    const ef_vector_unit_spec *vu = &a->vector_unit;
    if (!vu->present) {
        err(&c, em->unit_loc, "unit",
            "add vector_unit: {from: LEVEL, lanes: N} to the architecture, or map "
            "this Einsum with unit: array",
            "the architecture %s declares no vector_unit to compute this Einsum on",
            a->name);
        return false;
    }
    check_mapping(&c, n, em, vu);
    if (c.failed) return false;
    build_view(n, vu);
    n->unit = EF_UNIT_VECTOR;
    step_timing(n, vu);
    return true;
}
