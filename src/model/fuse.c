/* Fused cascades: which Einsums of a cascade pass intermediates on
 * chip, and whether their mappings let them run interleaved.
 *
 * A producer and its consumers fuse through an intermediate that their
 * mappings bypass above one level, the fusion level, where it lives.
 * They then run tile by tile: for each iteration of the loops above
 * the fusion level, every Einsum of the group runs its loops below it,
 * in cascade order, on the tile of the intermediate its producer has
 * just finished (sim/group.c). What makes that legal is checked here,
 * at the mapping lines concerned:
 *   - every Einsum touching the intermediate keeps it first at the same
 *     level (else it would have to reach, or leave, a level it skips);
 *   - the group is a run of consecutive Einsums of the cascade whose
 *     intermediates live at one level, or some of them deeper in the
 *     PEs' own storage (check_inner): the outermost is the fusion
 *     level;
 *   - they run the same loops above that level, in the same order, so
 *     that iteration g of each is the same slice of every intermediate;
 *     above a per-PE level (the PEs' own storage) that includes the
 *     spatial loops, so that each PE holds the same slice for the
 *     Einsum writing it and those reading it, and every Einsum runs on
 *     the PE array (the vector unit reads and writes a shared level);
 *   - the producer's loops above the level walk only ranks that index
 *     the intermediate, so each tile is finished in its iteration and
 *     never comes back, and consumers read it at the indices it is
 *     written;
 *   - the tiles of all of them fit together at every level, each
 *     intermediate's counted once where it lives;
 *   - a recurrence keeps its tensor at the fusion level as running
 *     state, and its rank is walked by the innermost shared loop alone
 *     (or not above the level at all): the tile it writes at one
 *     iteration is the one it reads as the old value at the next.
 *     Consumers read it as written (step r+1), at the previous step
 *     (step r: the tile written one iteration before, or the initial
 *     value) or, an Einsum without the rank that runs once per outer
 *     iteration (a "tail", below), at its last step.
 * A tail lacks the innermost shared loop: it does not have that rank,
 * reads on chip only the last step of recurrences stepping along it,
 * and writes nothing the group reads, so it runs once per iteration of
 * the loops outside, at the last iteration of the innermost one (the
 * normalisation of online softmax, on chip, as FlashAttention does). */
#include "einflow/model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ef_nest_home_level(const ef_nest *n, int op) {
    for (int l = 0; l < n->level_count; l++)
        if (n->levels[l].keeps[op]) return l;
    return 0;
}

typedef struct {
    ef_nest *const *nests;
    int count;
    ef_diags *diags;
    bool failed;
} fuser;

static void fail_at(fuser *f, const ef_nest *n, ef_loc loc, const char *path, const char *hint,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void fail_at(fuser *f, const ef_nest *n, ef_loc loc, const char *path, const char *hint,
                    const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ef_diags_vadd_at(f->diags, loc, n->map_file, path, hint, fmt, ap);
    va_end(ap);
    f->failed = true;
}

static const char *tensor_name(const ef_nest *n, int op) {
    return n->workload->tensors[n->ops[op]->tensor].name;
}

static const char *einsum_name(const ef_nest *n) { return tensor_name(n, n->out_op); }

/* The operand slot of tensor t in n, or -1. */
static int slot_of(const ef_nest *n, int t) {
    for (int o = 0; o < n->op_count; o++)
        if (n->ops[o]->tensor == t) return o;
    return -1;
}

static int find(int *parent, int e) {
    while (parent[e] != e) e = parent[e] = parent[parent[e]];
    return e;
}

/* Ties every consumer of each on-chip intermediate to its producer,
 * checking that all of them keep it first at the same level. */
static void link_intermediates(fuser *f, int *parent, int *home_of) {
    const ef_workload *w = f->nests[0]->workload;
    for (int t = 0; t < w->tensor_count; t++) home_of[t] = 0;
    for (int p = 0; p < f->count; p++) {
        const ef_nest *pn = f->nests[p];
        int t = pn->ops[pn->out_op]->tensor;
        int hp = ef_nest_home_level(pn, pn->out_op);
        for (int c = p + 1; c < f->count; c++) {
            const ef_nest *cn = f->nests[c];
            int o = slot_of(cn, t);
            if (o < 0 || o == cn->out_op) continue;
            int hc = ef_nest_home_level(cn, o);
            if (hp == hc) {
                if (hp > 0) {
                    parent[find(parent, c)] = find(parent, p);
                    home_of[t] = hp;
                }
                continue;
            }
            const ef_arch_spec *a = cn->spec_arch;
            int deep = hp > hc ? hp : hc;
            const ef_nest *vn = pn->unit == EF_UNIT_VECTOR ? pn : cn;
            if (a->levels[deep].per_pe && vn->unit == EF_UNIT_VECTOR) {
                /* the lanes read and write a shared level only */
                fail_at(f, vn, vn->unit_loc, "unit",
                        "map it with unit: array, or keep the intermediate first at a shared "
                        "level in every mapping touching it",
                        "%s runs on the vector unit %s, which reads and writes %s only: it "
                        "cannot reach %s at %s, the PEs' own storage (per_pe), where %s keeps "
                        "it; Einsums fused through a per-PE level must all run on the PE array",
                        einsum_name(vn), a->vector_unit.name, a->vector_unit.from,
                        w->tensors[t].name, a->levels[deep].name,
                        einsum_name(vn == pn ? cn : pn));
                continue;
            }
            fail_at(f, cn, cn->level_loc[hc < hp ? hc : hp], "bypass",
                    "bypass it above the same level in both mappings",
                    "%s is first kept at %s in the mapping of %s, which writes it, but at %s "
                    "in the mapping of %s, which reads it: an intermediate stays on chip "
                    "(fused) only if every Einsum touching it keeps it first at the same level",
                    w->tensors[t].name, a->levels[hp].name, einsum_name(pn), a->levels[hc].name,
                    einsum_name(cn));
        }
    }
}

/* Loops above level h with a factor above 1, in nest order. */
static int loops_above(const ef_nest *n, int h, const ef_loop **out) {
    int k = 0;
    for (int i = 0; i < n->loop_count; i++)
        if (n->loops[i].level < h && n->loops[i].factor > 1) out[k++] = &n->loops[i];
    return k;
}

/* Of those, the temporal loops (spatial == false) or the spatial ones.
 * Only a per-PE fusion level has spatial loops above it: they spread
 * the shared iterations over the PEs, side by side, while the temporal
 * ones order them in time (the innermost shared loop is the innermost
 * temporal one). */
static int loops_above_kind(const ef_nest *n, int h, bool spatial, const ef_loop **out) {
    int k = 0;
    for (int i = 0; i < n->loop_count; i++) {
        const ef_loop *lp = &n->loops[i];
        if (lp->level < h && lp->factor > 1 && (lp->kind != EF_LOOP_TEMPORAL) == spatial)
            out[k++] = lp;
    }
    return k;
}

static void describe_loops(const ef_nest *n, const ef_loop *const *lp, int k, char *buf,
                           size_t size) {
    size_t len = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < k && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s%s %s: %llu", i ? ", " : "",
                                n->arch->levels[lp[i]->level].name,
                                lp[i]->kind == EF_LOOP_ROWS   ? " rows"
                                : lp[i]->kind == EF_LOOP_COLS ? " cols"
                                                              : "",
                                n->workload->rank_names[lp[i]->rank],
                                (unsigned long long)lp[i]->factor);
    if (len < size) snprintf(buf + len, size - len, "]");
}

static bool same_loop(const ef_loop *a, const ef_loop *b) {
    return a->level == b->level && a->kind == b->kind && a->rank == b->rank &&
           a->factor == b->factor;
}

/* The member of the group that writes tensor t at the fusion level,
 * or NULL. */
static const ef_nest *producer_of(const fuser *f, const ef_fusion_group *g, int t) {
    for (int e = g->first; e < g->first + g->count; e++) {
        const ef_nest *n = f->nests[e];
        if (n->ops[n->out_op]->tensor == t && ef_nest_home_level(n, n->out_op) == g->level)
            return n;
    }
    return NULL;
}

/* Whether rank r appears in an index of operand op. */
static bool indexed_by(const ef_operand *op, int r) {
    for (int d = 0; d < op->dims; d++)
        for (int k = 0; k < op->index[d].term_count; k++)
            if (op->index[d].rank[k] == r) return true;
    return false;
}

/* Whether operand index `in` (dimension d) reads the last step of the
 * recurrence rank r: the constant R, the rank's bound. */
static bool reads_last_step(const ef_nest *n, const ef_affine *in, int r) {
    return in->term_count == 0 && in->constant == (int64_t)n->workload->rank_bounds[r];
}

/* Whether n may run as the group's tail (see the file's head): the
 * lead's loops above the level but one, rank r, which n does not
 * have; on chip it reads only the last step of recurrences along r
 * and writes nothing the group reads. */
static bool is_tail(const fuser *f, const ef_fusion_group *g, const ef_nest *n,
                    const ef_loop *innermost) {
    int r = innermost->rank;
    if (n->einsum->rank_used[r] || ef_nest_home_level(n, n->out_op) == g->level) return false;
    bool reads = false;
    for (int o = 0; o < n->op_count; o++) {
        /* (one slice of an intermediate in the PEs lasts one iteration) */
        if (o != n->out_op && ef_nest_home_level(n, o) > g->level) return false;
        if (o == n->out_op || ef_nest_home_level(n, o) != g->level) continue;
        const ef_nest *p = producer_of(f, g, n->ops[o]->tensor);
        if (!p || p->einsum->recurrence_rank != r) return false;
        int d = p->einsum->recurrence_dim;
        if (!reads_last_step(n, &n->ops[o]->index[d], r)) return false;
        reads = true;
    }
    return reads;
}

/* Whether have[0 .. kh) is want[] without want[i] (the first loop
 * where they differ). */
static bool tail_skips(const ef_loop *const *want, const ef_loop *const *have, int kh, int i) {
    for (int j = i; j < kh; j++)
        if (!same_loop(want[j + 1], have[j])) return false;
    return true;
}

/* Every Einsum of the group runs the first one's loops above h, or
 * all but the temporal one of a recurrence rank as its tail; above a
 * per-PE level the same spatial loops too, the tail's included, so
 * that every PE holds the same slice of each intermediate for the
 * Einsum writing it and for those reading it. */
static void check_shared_loops(fuser *f, const ef_fusion_group *g) {
    const ef_nest *lead = f->nests[g->first];
    const char *lvl = lead->arch->levels[g->level].name;
    const ef_loop *want[EF_MAX_LOOPS], *have[EF_MAX_LOOPS];
    int kw = loops_above_kind(lead, g->level, true, want);
    for (int e = g->first + 1; e < g->first + g->count; e++) {
        const ef_nest *n = f->nests[e];
        int kh = loops_above_kind(n, g->level, true, have);
        int i = 0;
        while (i < kw && i < kh && same_loop(want[i], have[i])) i++;
        if (i == kw && i == kh) continue;
        char a[256], b[256];
        describe_loops(lead, want, kw, a, sizeof a);
        describe_loops(n, have, kh, b, sizeof b);
        ef_loc loc = i < kh ? have[i]->loc : n->level_loc[want[i]->level];
        char path[EF_LOOP_PATH_MAX] = "spatial";
        fail_at(f, n, loc, i < kh ? ef_loop_path(n, have[i], path) : path,
                "spread the same ranks over the same rows and columns above the fusion level "
                "in every fused mapping",
                "%s is fused with %s through %s, the PEs' own storage, so it must spread the "
                "same loops over the PEs above %s (each PE then holds the same slice of every "
                "intermediate for the Einsum writing it and those reading it): %s runs %s, "
                "%s runs %s",
                einsum_name(n), einsum_name(lead), lvl, lvl, einsum_name(lead), a,
                einsum_name(n), b);
    }
    kw = loops_above_kind(lead, g->level, false, want);
    for (int e = g->first + 1; e < g->first + g->count; e++) {
        const ef_nest *n = f->nests[e];
        int kh = loops_above_kind(n, g->level, false, have);
        int i = 0;
        while (i < kw && i < kh && same_loop(want[i], have[i])) i++;
        if (i == kw && i == kh) continue;
        if (kh == kw - 1 && tail_skips(want, have, kh, i) &&
            is_tail(f, g, n, want[i]))
            continue;
        char a[256], b[256];
        describe_loops(lead, want, kw, a, sizeof a);
        describe_loops(n, have, kh, b, sizeof b);
        ef_loc loc = i < kh ? have[i]->loc : n->level_loc[g->level - 1];
        char path[EF_LOOP_PATH_MAX] = "temporal";
        fail_at(f, n, loc, i < kh ? ef_loop_path(n, have[i], path) : path,
                "write the same loops above the fusion level in every fused mapping",
                "%s is fused with %s (they pass intermediates on chip at %s), so it must run "
                "the same loops above %s: %s runs %s, %s runs %s",
                einsum_name(n), einsum_name(lead), n->arch->levels[g->level].name,
                n->arch->levels[g->level].name, einsum_name(lead), a, einsum_name(n), b);
    }
}

uint64_t ef_fusion_state_slots(const ef_nest *n, int level) {
    int r = n->einsum->recurrence_rank;
    if (r < 0 || ef_nest_home_level(n, n->out_op) != level) return 1;
    uint64_t slots = 1;
    bool inside = false;
    for (int i = 0; i < n->loop_count; i++) {
        const ef_loop *lp = &n->loops[i];
        if (lp->level >= level || lp->factor < 2 || lp->kind != EF_LOOP_TEMPORAL) continue;
        if (inside) (void)ef_mul_u64(slots, lp->factor, &slots);
        inside |= lp->rank == r;
    }
    return slots;
}

/* Whether the rank has a loop above the fusion level in n. */
static bool walked_above(const ef_nest *n, int level, int rank) {
    const ef_loop *lp[EF_MAX_LOOPS];
    int k = loops_above(n, level, lp);
    for (int i = 0; i < k; i++)
        if (lp[i]->rank == rank) return true;
    return false;
}

/* Whether consumer cn's index `in` of dimension d reads what producer
 * pn writes there (`out`): the same index; for a recurrence's
 * dimension also the step before (the old value: the tile written one
 * iteration before, or the initial value), or the last step, by a tail
 * or when the rank is walked below the level only (its whole range is
 * then in every tile). */
static bool reads_as_written(const ef_fusion_group *g, const ef_nest *pn,
                             const ef_nest *cn, int d, const ef_affine *in,
                             const ef_affine *out) {
    /* plain indices (one rank, coefficient 1), the constant 0 but on a
     * recurrence's dimension, where r+1 is read as written */
    int r = pn->einsum->recurrence_rank;
    bool stepped = r >= 0 && d == pn->einsum->recurrence_dim;
    if (in->term_count == 1 && out->term_count == 1 && in->rank[0] == out->rank[0] &&
        in->coef[0] == 1 && out->coef[0] == 1 && in->constant == out->constant &&
        (in->constant == 0 || stepped))
        return true;
    if (!stepped) return false;
    if (in->term_count == 1 && in->rank[0] == r && in->coef[0] == 1 &&
        in->constant == out->constant - 1)
        return true;
    /* an Einsum without the rank cannot loop over it: where a shared
     * loop walks it, check_shared_loops admits it only as the tail */
    if (!reads_last_step(cn, in, r)) return false;
    return !walked_above(pn, g->level, r) || !cn->einsum->rank_used[r];
}

/* A recurrence of the group keeps its tensor at the fusion level as
 * running state, stepped by a shared loop or entirely below the level.
 * The shared loops inside the recurrence's walk ranks of the state
 * only: each of their iterations steps its own state tile, all of which
 * stay at the level (the running state of every query block while the
 * key blocks go by, as FuseMax walks them; ef_fusion_state_slots). A
 * loop over a rank the state lacks would step one tile several times
 * per step, and is rejected; so is the rank split across the level,
 * whose tiles would hold several steps, some read as old values in the
 * iteration that writes them. */
static void check_recurrences(fuser *f, const ef_fusion_group *g) {
    const ef_workload *w = f->nests[0]->workload;
    const char *lvl = f->nests[g->first]->arch->levels[g->level].name;
    for (int e = g->first; e < g->first + g->count; e++) {
        const ef_nest *n = f->nests[e];
        int r = n->einsum->recurrence_rank;
        if (r < 0) continue;
        const char *t = tensor_name(n, n->out_op), *rn = w->rank_names[r];
        if (ef_nest_home_level(n, n->out_op) != g->level) {
            fail_at(f, n, n->level_loc[0], "bypass",
                    "bypass it above the fusion level, as the intermediates",
                    "%s is a recurrence (\"%s\") fused with %s .. %s, but keeps %s at %s: a "
                    "fused recurrence keeps its tensor at %s, the fusion level, as running "
                    "state",
                    einsum_name(n), n->einsum->text, einsum_name(f->nests[g->first]),
                    einsum_name(f->nests[g->first + g->count - 1]), t,
                    n->arch->levels[ef_nest_home_level(n, n->out_op)].name, lvl);
            continue;
        }
        const ef_loop *lp[EF_MAX_LOOPS];
        int k = loops_above_kind(n, g->level, false, lp);
        int at = -1;
        for (int i = 0; i < k; i++)
            if (lp[i]->rank == r) at = i;
        if (at < 0) continue;
        int stray = -1;
        for (int i = at + 1; i < k && stray < 0; i++)
            if (!indexed_by(n->ops[n->out_op], lp[i]->rank)) stray = i;
        if (stray >= 0) {
            char path[EF_LOOP_PATH_MAX];
            fail_at(f, n, lp[at]->loc, ef_loop_path(n, lp[at], path),
                    "make this loop the innermost one above the fusion level in every fused "
                    "mapping, or put inside it only loops over ranks of the state",
                    "this loop above %s walks %s, the recurrence rank of %s, with the shared "
                    "loop of %s inside it, a rank %s does not have: each step would revisit "
                    "the same state tile once per iteration of that loop",
                    lvl, rn, einsum_name(n), w->rank_names[lp[stray]->rank], t);
            continue;
        }
        for (int i = 0; i < n->loop_count; i++) {
            const ef_loop *b = &n->loops[i];
            if (b->level < g->level || b->rank != r || b->factor < 2) continue;
            char path[EF_LOOP_PATH_MAX];
            fail_at(f, n, b->loc, ef_loop_path(n, b, path),
                    "walk the recurrence rank above the fusion level only, or below it only",
                    "%s, the recurrence rank of %s, is walked both above %s (a shared loop) "
                    "and by this loop below it: each tile of %s would hold several steps, "
                    "some read as old values in the iteration that writes them; a fused "
                    "recurrence steps one tile per shared iteration",
                    rn, einsum_name(n), lvl, t);
            break;
        }
    }
}

/* An intermediate's tile at the fusion level is finished within one
 * iteration of the shared loops, and read back at its own indices. */
static void check_whole_tiles(fuser *f, const ef_fusion_group *g) {
    const ef_workload *w = f->nests[0]->workload;
    for (int p = g->first; p < g->first + g->count; p++) {
        const ef_nest *pn = f->nests[p];
        const ef_operand *out = pn->ops[pn->out_op];
        if (ef_nest_home_level(pn, pn->out_op) == 0) continue;
        const ef_loop *lp[EF_MAX_LOOPS];
        int k = loops_above(pn, g->level, lp);
        for (int i = 0; i < k; i++) {
            bool indexes = false;
            for (int d = 0; d < out->dims; d++) indexes |= out->index[d].rank[0] == lp[i]->rank;
            if (indexes) continue;
            char path[EF_LOOP_PATH_MAX];
            if (lp[i]->kind != EF_LOOP_TEMPORAL) {
                fail_at(f, pn, lp[i]->loc, ef_loop_path(pn, lp[i], path),
                        "spread only ranks of the intermediate over the PEs, or keep it at a "
                        "shared level",
                        "%s stays on chip at %s, the PEs' own storage, but this spatial loop "
                        "above %s spreads rank %s, which %s does not have, over the PEs: each "
                        "would hold a partial result, to be combined with the others' through "
                        "a shared level",
                        w->tensors[out->tensor].name, pn->arch->levels[g->level].name,
                        pn->arch->levels[g->level].name, w->rank_names[lp[i]->rank],
                        w->tensors[out->tensor].name);
                continue;
            }
            fail_at(f, pn, lp[i]->loc, ef_loop_path(pn, lp[i], path),
                    "move this loop below the fusion level, or keep the intermediate off chip",
                    "%s stays on chip at %s, but this loop above %s walks rank %s, which %s "
                    "does not have: its partial results would have to leave %s between "
                    "iterations",
                    w->tensors[out->tensor].name, pn->arch->levels[g->level].name,
                    pn->arch->levels[g->level].name, w->rank_names[lp[i]->rank],
                    w->tensors[out->tensor].name, pn->arch->levels[g->level].name);
        }
        for (int c = p + 1; c < g->first + g->count; c++) {
            const ef_nest *cn = f->nests[c];
            int o = slot_of(cn, out->tensor);
            if (o < 0 || o == cn->out_op) continue;
            const ef_operand *in = cn->ops[o];
            bool same = in->dims == out->dims;
            for (int d = 0; d < in->dims && same; d++)
                same = reads_as_written(g, pn, cn, d, &in->index[d], &out->index[d]);
            if (!same)
                fail_at(f, cn, cn->einsum->loc, "einsums", NULL,
                        "%s reads %s at other indices than %s writes it; a fused intermediate "
                        "must be read where it is written (the same rank, coefficient and "
                        "constant in every index; a recurrence's tensor also at the step "
                        "before, or at its last step by an Einsum without the rank)",
                        einsum_name(cn), w->tensors[out->tensor].name, einsum_name(pn));
        }
    }
}

/* An intermediate kept deeper than the fusion level, in the PEs' own
 * storage (the scores of FuseMax's mapping, which never leave the
 * array while the reductions of them meet the vector unit at the
 * fusion level). The group still runs tile by tile of the fusion
 * level, each Einsum its whole tile in its turn, so each PE holds its
 * whole slice of that tile at once, for the Einsum writing it and for
 * those reading it:
 *   - they spread the same loops over the PEs above its level, so each
 *     PE holds the same slice for all of them;
 *   - none of them walks a rank of it in time between the fusion level
 *     and its level: the next step would overwrite the slice before its
 *     readers ran;
 *   - the producer walks nothing in time there (its partial results
 *     would have to leave the PE) and spreads over the PEs only ranks
 *     of it (else each PE would hold a partial result). */
static void check_inner(fuser *f, const ef_fusion_group *g) {
    const ef_workload *w = f->nests[0]->workload;
    for (int p = g->first; p < g->first + g->count; p++) {
        const ef_nest *pn = f->nests[p];
        const ef_operand *out = pn->ops[pn->out_op];
        int h = ef_nest_home_level(pn, pn->out_op);
        if (h <= g->level) continue;
        const char *t = w->tensors[out->tensor].name, *lvl = pn->arch->levels[h].name,
                   *fl = pn->arch->levels[g->level].name;
        for (int i = 0; i < pn->loop_count; i++) {
            const ef_loop *lp = &pn->loops[i];
            if (lp->level < g->level || lp->level >= h || lp->factor < 2) continue;
            char path[EF_LOOP_PATH_MAX];
            if (lp->kind == EF_LOOP_TEMPORAL)
                fail_at(f, pn, lp->loc, ef_loop_path(pn, lp, path),
                        "move this loop to the level that keeps it, or spread it over the PEs",
                        "%s stays in the PEs' own storage at %s, below the fusion level %s, "
                        "but this loop walks rank %s in time between them: each PE must hold "
                        "its whole slice of a tile of %s at once, %s",
                        t, lvl, fl, w->rank_names[lp->rank], fl,
                        indexed_by(out, lp->rank)
                            ? "which the next step would overwrite before its readers ran"
                            : "and its partial results would have to leave the PE between steps");
            else if (!indexed_by(out, lp->rank))
                fail_at(f, pn, lp->loc, ef_loop_path(pn, lp, path),
                        "spread only ranks of the intermediate over the PEs, or keep it at "
                        "the fusion level",
                        "%s stays in the PEs' own storage at %s, but this spatial loop spreads "
                        "rank %s, which %s does not have, over the PEs: each would hold a "
                        "partial result, to be combined with the others' through a shared level",
                        t, lvl, w->rank_names[lp->rank], t);
        }
        const ef_loop *want[EF_MAX_LOOPS], *have[EF_MAX_LOOPS];
        int kw = loops_above_kind(pn, h, true, want);
        for (int c = p + 1; c < g->first + g->count; c++) {
            const ef_nest *cn = f->nests[c];
            int o = slot_of(cn, out->tensor);
            if (o < 0 || o == cn->out_op) continue;
            int kh = loops_above_kind(cn, h, true, have);
            int i = 0;
            while (i < kw && i < kh && same_loop(want[i], have[i])) i++;
            if (i < kw || i < kh) {
                char a[256], b[256];
                describe_loops(pn, want, kw, a, sizeof a);
                describe_loops(cn, have, kh, b, sizeof b);
                ef_loc loc = i < kh ? have[i]->loc : cn->level_loc[h - 1];
                char path[EF_LOOP_PATH_MAX] = "spatial";
                fail_at(f, cn, loc, i < kh ? ef_loop_path(cn, have[i], path) : path,
                        "spread the same ranks over the same rows and columns above it in "
                        "every mapping touching it",
                        "%s reads %s in the PEs' own storage at %s, so it must spread the same "
                        "loops over the PEs as %s, which writes it there (each PE then holds "
                        "the same slice for both): %s runs %s, %s runs %s",
                        einsum_name(cn), t, lvl, einsum_name(pn), einsum_name(pn), a,
                        einsum_name(cn), b);
            }
            for (int j = 0; j < cn->loop_count; j++) {
                const ef_loop *lp = &cn->loops[j];
                if (lp->level < g->level || lp->level >= h || lp->factor < 2 ||
                    lp->kind != EF_LOOP_TEMPORAL || !indexed_by(cn->ops[o], lp->rank))
                    continue;
                char path[EF_LOOP_PATH_MAX];
                fail_at(f, cn, lp->loc, ef_loop_path(cn, lp, path),
                        "move this loop to the level that keeps it, or spread it over the PEs",
                        "%s reads %s in the PEs' own storage at %s, below the fusion level %s, "
                        "but this loop walks rank %s of it in time between them: each PE holds "
                        "one slice of it per tile of %s, written whole before %s runs",
                        einsum_name(cn), t, lvl, fl, w->rank_names[lp->rank], fl,
                        einsum_name(cn));
            }
        }
    }
}

/* The fused Einsums' tiles coexist: each keeps its own at every level,
 * except that an intermediate's tile where it lives is one tile. */
static void check_capacity(fuser *f, const ef_fusion_group *g) {
    const ef_nest *lead = f->nests[g->first];
    const ef_arch_spec *a = lead->arch;
    const ef_workload *w = lead->workload;
    for (int l = 1; l < lead->level_count; l++) {
        const ef_level_spec *ls = &a->levels[l];
        if (ls->partition_count == 0 && (!ls->capacity.given || ls->capacity.amount == 0))
            continue;
        uint64_t mult = ls->double_buffer ? 2 : 1;
        uint64_t words[EF_MAX_TENSORS * 4] = {0}, bytes[EF_MAX_TENSORS * 4] = {0};
        bool counted_home[EF_MAX_TENSORS * 4] = {false};
        uint64_t sum_words = 0, sum_bytes = 0;
        char parts[384] = "";
        size_t plen = 0;
        for (int e = g->first; e < g->first + g->count; e++) {
            const ef_nest *n = f->nests[e];
            uint64_t ew = 0, eb = 0;
            for (int o = 0; o < n->op_count; o++) {
                if (!n->levels[l].keeps[o]) continue;
                int t = n->ops[o]->tensor;
                uint64_t slots = 1;
                if (ef_nest_home_level(n, o) == l) {
                    if (counted_home[t]) continue;
                    counted_home[t] = true;
                    const ef_nest *pn = l == g->level ? producer_of(f, g, t) : NULL;
                    if (pn) slots = ef_fusion_state_slots(pn, l);
                }
                uint64_t tw = 0;
                (void)ef_mul_u64(n->levels[l].tile_words[o] * mult, slots, &tw);
                uint64_t tb = ef_words_to_bytes(tw, w->tensors[t].bits);
                words[t] += tw;
                bytes[t] += tb;
                ew += tw;
                eb += tb;
            }
            sum_words += ew;
            sum_bytes += eb;
            if (plen < sizeof parts)
                plen += (size_t)snprintf(parts + plen, sizeof parts - plen, "%s%s %llu",
                                         plen ? ", " : "", einsum_name(n),
                                         (unsigned long long)(ls->capacity.in_words ? ew : eb));
        }
        const ef_nest *last = f->nests[g->first + g->count - 1];
        if (ls->partition_count == 0) {
            uint64_t need = ls->capacity.in_words ? sum_words : sum_bytes;
            if (need > ls->capacity.amount)
                fail_at(f, last, last->level_loc[l], "keep",
                        "shrink the tiles below the shared loops, or bypass a tensor",
                        "the fused Einsums keep their tiles at %s together: they need %llu %s%s%s "
                        "(%s) but it holds %llu",
                        ls->name, (unsigned long long)need,
                        ls->capacity.in_words ? "words" : "bytes",
                        ls->per_pe ? " in each PE" : "",
                        mult == 2 ? ", double-buffered" : "", parts,
                        (unsigned long long)ls->capacity.amount);
            continue;
        }
        for (int p = 0; p < ls->partition_count; p++) {
            int t = ef_workload_tensor_id(w, ls->partitions[p].tensor);
            if (t < 0) continue;
            const ef_capacity *cap = &ls->partitions[p].capacity;
            uint64_t need = cap->in_words ? words[t] : bytes[t];
            if (need > cap->amount)
                fail_at(f, last, last->level_loc[l], "keep", NULL,
                        "the fused Einsums keep %s tiles at %s together: they need %llu %s%s but "
                        "its partition holds %llu",
                        w->tensors[t].name, ls->name, (unsigned long long)need,
                        cap->in_words ? "words" : "bytes", ls->per_pe ? " in each PE" : "",
                        (unsigned long long)cap->amount);
        }
    }
}

int ef_fuse_groups(ef_nest *const *nests, int count, ef_fusion_group *groups,
                   ef_diags *diags) {
    fuser f = {.nests = nests, .count = count, .diags = diags};
    if (count <= 0) return 0;
    int parent[EF_MAX_EINSUMS], home_of[EF_MAX_TENSORS * 4];
    for (int e = 0; e < count; e++) parent[e] = e;
    link_intermediates(&f, parent, home_of);
    if (f.failed) return -1;
    const ef_workload *w = nests[0]->workload;
    int ngroups = 0;
    for (int e = 0; e < count;) {
        int root = find(parent, e), last = e;
        for (int j = e + 1; j < count; j++)
            if (find(parent, j) == root) last = j;
        ef_fusion_group *g = &groups[ngroups++];
        g->first = e;
        g->count = last - e + 1;
        g->level = -1;
        g->tiles = 1;
        for (int j = e + 1; j <= last; j++)
            if (find(parent, j) != root) {
                const ef_nest *n = nests[j];
                fail_at(&f, n, n->map_loc, "mappings", "keep its output on chip too, or write "
                        "the intermediates that cross it to the outermost level",
                        "%s lies between Einsums fused on chip (%s .. %s) but passes nothing "
                        "on chip with them, so it cannot run in their place in the cascade",
                        einsum_name(n), einsum_name(nests[e]), einsum_name(nests[last]));
            }
        /* the fusion level is the outermost home; deeper ones must be
         * the PEs' own storage (check_inner) */
        for (int j = e; j <= last && g->count > 1; j++) {
            const ef_nest *n = nests[j];
            for (int o = 0; o < n->op_count; o++) {
                int h = home_of[n->ops[o]->tensor];
                if (h > 0 && (g->level < 0 || h < g->level)) g->level = h;
            }
        }
        for (int j = e; j <= last && g->count > 1; j++) {
            const ef_nest *n = nests[j];
            for (int o = 0; o < n->op_count; o++) {
                int h = home_of[n->ops[o]->tensor];
                if (h == 0 || h == g->level || n->arch->levels[h].per_pe) continue;
                fail_at(&f, n, n->level_loc[h - 1], "bypass",
                        "keep it at the fusion level too, or in the PEs' own storage",
                        "the intermediates fused with %s live at %s, but %s lives at %s: "
                        "Einsums fused together keep their intermediates at one level, or "
                        "some of them deeper, in the PEs' own storage (per_pe)",
                        einsum_name(nests[e]), n->arch->levels[g->level].name,
                        w->tensors[n->ops[o]->tensor].name, n->arch->levels[h].name);
            }
        }
        e = last + 1;
    }
    if (f.failed) return -1;
    for (int i = 0; i < ngroups; i++) {
        ef_fusion_group *g = &groups[i];
        if (g->count < 2) continue;
        check_shared_loops(&f, g);
        check_recurrences(&f, g);
        check_whole_tiles(&f, g);
        check_inner(&f, g);
        check_capacity(&f, g);
        /* the spatial loops above a per-PE level run side by side */
        const ef_loop *lp[EF_MAX_LOOPS];
        int k = loops_above_kind(nests[g->first], g->level, false, lp);
        for (int j = 0; j < k; j++) (void)ef_mul_u64(g->tiles, lp[j]->factor, &g->tiles);
    }
    return f.failed ? -1 : ngroups;
}
