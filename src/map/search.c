/* The mapper's search: sample candidate mappings inside a dataflow
 * template's space, keep the legal ones the model accepts, rank them by
 * the analytical estimate, and run the best few in the engine.
 *
 * A candidate is drawn in the order that makes the template's rules
 * easy to honour: what the levels keep; the per-PE loops; the spatial
 * slots (whole slots first, then max slots — columns before rows, so a
 * row slot can fold a rank the columns could not hold — then the
 * searched ones); the temporal factors of the shared levels from the
 * inside out, with the outermost level taking what is left of every
 * rank. A last pass caps each factor at what its rank still needs
 * (an imperfect outermost factor is ceil(bound / inner), never more),
 * so every candidate covers the workload without empty tiles. Loop
 * orders are shuffled, often sorted to keep one tensor stationary. */
#include "einflow/map.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int rank;
    uint64_t factor;
} mfac;

typedef struct {
    mfac t[EF_MAX_LEVELS][EF_MAX_RANKS];   /* temporal, outermost first */
    int tn[EF_MAX_LEVELS];
    mfac rows[EF_MAX_LEVEL_LOOPS], cols[EF_MAX_LEVEL_LOOPS];
    int rn, cn;
    bool keep[EF_MAX_LEVELS][EF_NEST_MAX_OPS];
} cand;

typedef struct {
    uint64_t need;                /* 0: empty                           */
    int count;
    uint64_t d[80];
} divisor_list;

typedef struct {
    const ef_arch_spec *arch;     /* what candidates are drawn for: the
                                   * architecture, or for a vector
                                   * template the unit's view            */
    const ef_arch_spec *real;     /* what their nests are built against */
    const ef_workload *w;
    int e;
    const ef_einsum *es;
    const ef_dataflow_spec *df;
    const ef_map_fixed *fx;       /* a fused group's member, or NULL    */
    bool vector;                  /* on the vector unit                 */
    int top;                      /* the outermost level whose loops are
                                   * searched: it takes what is left of
                                   * every rank (0, or the fusion level) */
    uint64_t bound[EF_MAX_RANKS]; /* what the searched levels cover     */
    int L, S, first_pe;
    int ops, out;
    int op_role[EF_NEST_MAX_OPS];
    uint32_t role[EF_MAX_RANKS];
    int used[EF_MAX_RANKS], nused;          /* ranks with bound > 1     */
    bool is_used[EF_MAX_RANKS];
    bool can_keep[EF_MAX_LEVELS][EF_NEST_MAX_OPS];
    int twin_of[EF_NEST_MAX_OPS];   /* first slot of the same tensor: a
                                     * recurrence's old and new values are
                                     * kept alike, as the mapping names
                                     * tensors                          */
    uint32_t relmask[EF_NEST_MAX_OPS];
    uint64_t rng;
    /* divisors of the `need`s met so far: the same few values recur
     * in every draw, and finding them by trial division dominated */
    divisor_list divisors[64];
} space;

/* One candidate as an objective ranks it; c points into its pool's
 * slab, so reordering a pool moves pointers, not candidates. */
typedef struct {
    cand *c;
    double value;
} ranked;

/* A candidate whose estimate beat the best so far of an objective by
 * more than RECORD_MARGIN: the engine confirms these. A search with more
 * evaluations sees the same candidates first, so it has every record of
 * a shorter one, and its confirmed best can only be better. */
typedef struct {
    cand c;
    uint64_t hash;
    unsigned objectives;          /* bit o: a record of objective o     */
    double est_cycles, est_energy_pj;
} record;

#define OBJECTIVE_COUNT (EF_OBJECTIVE_EDP + 1)
#define RECORD_MARGIN 0.01
/* fresh draws before mutations of the best begin: a fixed count, not a
 * share of the budget, so that the candidates never depend on it */
#define EXPLORE_FIRST 2000
#define POOL 8                    /* parents kept per objective         */

/* ---------- randomness: splitmix64, so a seed fixes the search ---------- */

static uint64_t rnd(space *s) {
    uint64_t z = (s->rng += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [0, n): the high 32 bits scaled, without a division, for
 * the small n the search draws from. */
static uint64_t below(space *s, uint64_t n) {
    if (!n) return 0;
    if (n <= UINT32_MAX) return ((rnd(s) >> 32) * n) >> 32;
    return rnd(s) % n;
}

static bool chance(space *s, unsigned percent) { return below(s, 100) < percent; }

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* A factor for a rank that still needs `need` more: 1, a divisor of
 * need (a perfect split) or a value whose quotient is a small number
 * (an imperfect one), at most `cap`. An exact rank (shared by a fused
 * group, covered exactly) takes divisors only. */
static uint64_t pick_factor(space *s, uint64_t need, uint64_t cap, bool exact) {
    if (cap > need) cap = need;
    if (cap <= 1) return 1;
    uint64_t choices[96];
    int n = 0;
    /* needs are often multiples of 64 apart: hashed, they meet less */
    divisor_list *dv = &s->divisors[(need * UINT64_C(0x9E3779B97F4A7C15)) >> 58];
    if (dv->need != need) {
        dv->need = need;
        dv->count = 0;
        for (uint64_t d = 1; d * d <= need && dv->count < 80; d++) {
            if (need % d) continue;
            dv->d[dv->count++] = d;
            if (need / d != d && dv->count < 80) dv->d[dv->count++] = need / d;
        }
    }
    for (int i = 0; i < dv->count; i++)
        if (dv->d[i] <= cap) choices[n++] = dv->d[i];
    for (uint64_t q = 2; q <= 8 && n < 96 && !exact; q++) {
        uint64_t f = ceil_div(need, q);
        if (f <= cap && f > 1) choices[n++] = f;
    }
    if (cap < need && !exact) choices[n++] = cap;
    return choices[below(s, (uint64_t)n)];
}

/* The largest divisor of need at most cap: an exact rank's "as much as
 * fits". */
static uint64_t largest_divisor(uint64_t need, uint64_t cap) {
    uint64_t best = 1;
    for (uint64_t d = 1; d * d <= need; d++) {
        if (need % d) continue;
        if (d <= cap && d > best) best = d;
        if (need / d <= cap && need / d > best) best = need / d;
    }
    return best;
}

static bool exact_rank(const space *s, int r) { return s->fx && s->fx->shared[r]; }

/* ---------- the space ---------- */

static bool level_has_partition(const ef_level_spec *ls, const char *tensor) {
    for (int p = 0; p < ls->partition_count; p++)
        if (strcmp(ls->partitions[p].tensor, tensor) == 0) return true;
    return false;
}

/* The vector unit as the search sees it: the levels down to its
 * `from`, one row of `lanes` lanes (model/vector.c builds the same view
 * for the nest). */
static void vector_view(const ef_arch_spec *arch, ef_arch_spec *view) {
    *view = *arch;
    view->level_count = arch->vector_unit.from_level + 1;
    view->rows = 1;
    view->cols = arch->vector_unit.lanes;
}

static void space_init(space *s, const ef_arch_spec *arch, const ef_arch_spec *real,
                       const ef_workload *w, int e, const ef_dataflow_spec *df,
                       const ef_map_fixed *fx, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->arch = arch;
    s->real = real;
    s->vector = arch != real;
    s->w = w;
    s->e = e;
    s->es = &w->einsums[e];
    s->df = df;
    s->fx = fx;
    s->top = fx ? fx->level : 0;
    for (int r = 0; r < EF_MAX_RANKS; r++)
        s->bound[r] = r >= w->rank_count ? 1 : fx ? fx->tile[r] : w->rank_bounds[r];
    s->rng = seed;
    s->L = arch->level_count;
    s->first_pe = s->L;
    for (int l = 0; l < s->L; l++)
        if (arch->levels[l].per_pe) {
            s->first_pe = l;
            break;
        }
    s->S = s->first_pe < s->L ? s->first_pe - 1 : s->L - 1;
    s->ops = s->es->input_count + 1;
    s->out = s->es->input_count;
    int weight = ef_einsum_weight_operand(s->es);
    for (int o = 0; o < s->ops; o++) {
        s->op_role[o] = o == s->out  ? EF_OPERAND_OUTPUT
                        : o == weight ? EF_OPERAND_WEIGHT
                                      : EF_OPERAND_INPUT;
        const ef_operand *op = o == s->out ? &s->es->output : &s->es->inputs[o];
        for (int d = 0; d < op->dims; d++)
            for (int k = 0; k < op->index[d].term_count; k++)
                s->relmask[o] |= UINT32_C(1) << op->index[d].rank[k];
        const char *name = w->tensors[op->tensor].name;
        for (int l = 0; l < s->L; l++) {
            const ef_level_spec *ls = &arch->levels[l];
            s->can_keep[l][o] = l == 0 || ls->partition_count == 0 ||
                                level_has_partition(ls, name);
        }
    }
    for (int o = 0; o < s->ops; o++) {
        const ef_operand *op = o == s->out ? &s->es->output : &s->es->inputs[o];
        s->twin_of[o] = o;
        for (int k = o - 1; k >= 0; k--) {
            const ef_operand *ok = k == s->out ? &s->es->output : &s->es->inputs[k];
            if (ok->tensor == op->tensor) s->twin_of[o] = k;
        }
    }
    ef_einsum_rank_roles(w, s->es, s->role);
    for (int r = 0; r < w->rank_count; r++)
        if (s->es->rank_used[r] && s->bound[r] > 1) {
            s->used[s->nused++] = r;
            s->is_used[r] = true;
        }
}

/* Whether rank r may go across the lanes: the vector unit has no
 * reduction across them, so only a rank the output indexes. */
static bool lane_rank(const space *s, int r) {
    if (!s->vector) return true;
    return s->relmask[s->out] >> r & 1u;
}

/* ---------- drawing a candidate ---------- */

/* What a fused group fixes of the keeps: the outermost level keeps
 * what does not live on chip, the levels between it and the fusion
 * level nothing, the fusion level everything. At a per-PE fusion level
 * only the on-chip tensors' keeps are fixed there and above (bypassed,
 * then kept at the level): the others stream to the PEs or are kept on
 * the way, as the search decides — else every operand of every member
 * would have to fit one PE, and the GLB would hold nothing. False for
 * what the search decides. */
static bool fixed_keep(const space *s, int l, int o, bool *keep) {
    if (!s->fx) return false;
    const ef_operand *op = o == s->out ? &s->es->output : &s->es->inputs[o];
    /* scores in the PEs: bypassed down to their per-PE level, kept there */
    if (s->fx->inner_level && s->fx->inner[op->tensor]) {
        if (l > s->fx->inner_level) return false;
        *keep = l == s->fx->inner_level;
        return true;
    }
    if (l > s->top) return false;
    bool on_chip = s->fx->on_chip[op->tensor];
    if (l == 0) *keep = !on_chip;
    else if (s->fx->per_pe && !on_chip) return false;
    else *keep = l == s->top;
    return true;
}

static void tie_twins(const space *s, cand *c) {
    for (int l = 0; l < s->L; l++)
        for (int o = 0; o < s->ops; o++) c->keep[l][o] = c->keep[l][s->twin_of[o]];
}

static void draw_keeps(space *s, cand *c) {
    const ef_dataflow_spec *df = s->df;
    for (int l = 0; l < s->L; l++)
        for (int o = 0; o < s->ops; o++) {
            bool k;
            if (fixed_keep(s, l, o, &k)) {
                c->keep[l][o] = k;
                continue;
            }
            if (l == 0) k = true;
            else if (l >= s->first_pe)
                k = df->pe_keep_searched ? chance(s, 50) : df->pe_keeps[s->op_role[o]];
            else
                k = chance(s, 75);
            c->keep[l][o] = k && s->can_keep[l][o];
        }
    tie_twins(s, c);
}

typedef struct {
    uint64_t need[EF_MAX_RANKS];   /* what each rank has left to place   */
} needs;

static void place_slots(space *s, cand *c, needs *nd) {
    const ef_dataflow_spec *df = s->df;
    uint64_t left[2] = {(uint64_t)s->arch->rows, (uint64_t)s->arch->cols};
    const ef_slot_spec *slot[2] = {df->rows, df->cols};
    int count[2] = {df->row_count, df->col_count};
    mfac chosen[2][EF_MAX_LEVEL_LOOPS];
    for (int axis = 0; axis < 2; axis++)
        for (int i = 0; i < count[axis]; i++) chosen[axis][i] = (mfac){0, 0};
    /* pass 0: whole slots; 1: max slots, columns first; 2: searched */
    for (int pass = 0; pass < 3; pass++)
        for (int ax = 0; ax < 2; ax++) {
            int axis = pass == 1 ? 1 - ax : ax;
            for (int i = 0; i < count[axis]; i++) {
                const ef_slot_spec *sl = &slot[axis][i];
                int want = sl->fill == EF_FILL_WHOLE ? 0 : sl->fill == EF_FILL_MAX ? 1 : 2;
                if (want != pass) continue;
                /* a rank takes one slot per axis: two would only be
                 * their product written twice */
                int cands[EF_MAX_RANKS], nc = 0;
                for (int q = 0; q < s->nused; q++) {
                    int r = s->used[q];
                    bool taken = false;
                    for (int j = 0; j < count[axis]; j++)
                        taken |= chosen[axis][j].factor > 1 && chosen[axis][j].rank == r;
                    /* a recurrence's steps run one after another */
                    if (r == s->es->recurrence_rank) continue;
                    if ((s->role[r] & sl->roles) && nd->need[r] > 1 && !taken && lane_rank(s, r))
                        cands[nc++] = r;
                }
                if (!nc || left[axis] <= 1) continue;
                if (pass == 2 && chance(s, 20)) continue; /* leave it empty */
                int r = cands[below(s, (uint64_t)nc)];
                uint64_t f;
                if (pass == 0 && nd->need[r] <= left[axis]) f = nd->need[r];
                else if (pass < 2) f = nd->need[r] < left[axis] ? nd->need[r] : left[axis];
                else f = chance(s, 50) ? (nd->need[r] < left[axis] ? nd->need[r] : left[axis])
                                       : pick_factor(s, nd->need[r], left[axis], exact_rank(s, r));
                if (exact_rank(s, r)) f = largest_divisor(nd->need[r], f);
                if (f <= 1) continue;
                chosen[axis][i] = (mfac){r, f};
                left[axis] /= f;
                nd->need[r] = ceil_div(nd->need[r], f);
            }
        }
    c->rn = c->cn = 0;
    for (int i = 0; i < df->row_count; i++)
        if (chosen[0][i].factor > 1) c->rows[c->rn++] = chosen[0][i];
    for (int i = 0; i < df->col_count; i++)
        if (chosen[1][i].factor > 1) c->cols[c->cn++] = chosen[1][i];
}

/* A per-PE fusion level's spatial loops are the group's, fixed: they
 * take nothing of the ranks' needs (those are the tiles of one PE). */
static void fixed_slots(const space *s, cand *c) {
    c->rn = c->cn = 0;
    for (int i = 0; i < s->fx->row_count; i++)
        c->rows[c->rn++] = (mfac){s->fx->rows[i].rank, s->fx->rows[i].factor};
    for (int i = 0; i < s->fx->col_count; i++)
        c->cols[c->cn++] = (mfac){s->fx->cols[i].rank, s->fx->cols[i].factor};
}

static void shuffle(space *s, mfac *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)below(s, (uint64_t)i + 1);
        mfac t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* Loops of one level in a random order; often the ones a chosen tensor
 * depends on go outside, so that tensor stays put across the inner ones. */
static void order_loops(space *s, mfac *a, int n) {
    shuffle(s, a, n);
    if (n < 2 || chance(s, 35)) return;
    uint32_t rel = s->relmask[below(s, (uint64_t)s->ops)];
    mfac tmp[EF_MAX_RANKS];
    int k = 0;
    for (int i = 0; i < n; i++)
        if (rel >> a[i].rank & 1u) tmp[k++] = a[i];
    for (int i = 0; i < n; i++)
        if (!(rel >> a[i].rank & 1u)) tmp[k++] = a[i];
    memcpy(a, tmp, sizeof(mfac) * (size_t)n);
}

/* The template's pe.innermost: at every per-PE level, loops of those
 * roles move behind the others, in the order the template lists them
 * (the last listed innermost); the rest keep their order. */
static void order_innermost(space *s, cand *c) {
    const ef_dataflow_spec *df = s->df;
    if (!df->pe_innermost_count) return;
    for (int l = s->first_pe; l < s->L; l++) {
        mfac tmp[EF_MAX_RANKS];
        bool used[EF_MAX_RANKS] = {false};
        int k = 0, n = c->tn[l];
        for (int i = 0; i < n; i++) {
            bool listed = false;
            for (int q = 0; q < df->pe_innermost_count; q++)
                listed |= (s->role[c->t[l][i].rank] & df->pe_innermost[q]) != 0;
            if (!listed) {
                tmp[k++] = c->t[l][i];
                used[i] = true;
            }
        }
        for (int q = 0; q < df->pe_innermost_count; q++)
            for (int i = 0; i < n; i++)
                if (!used[i] && (s->role[c->t[l][i].rank] & df->pe_innermost[q])) {
                    tmp[k++] = c->t[l][i];
                    used[i] = true;
                }
        memcpy(c->t[l], tmp, sizeof(mfac) * (size_t)n);
    }
}

/* Caps the loops f[0..n), innermost (last) first, at what their ranks
 * still need, inner[r] being what the loops inside already cover. */
static void cap_loops(const space *s, mfac *f, int n, uint64_t *inner) {
    for (int i = n - 1; i >= 0; i--) {
        int r = f[i].rank;
        if (!s->is_used[r]) continue;
        uint64_t cap = ceil_div(s->bound[r], inner[r]);
        if (f[i].factor > cap) f[i].factor = cap;
        inner[r] *= f[i].factor;
    }
}

static int drop_ones(mfac *f, int n) {
    int k = 0;
    for (int i = 0; i < n; i++)
        if (f[i].factor > 1) f[k++] = f[i];
    return k;
}

/* Caps every factor at what its rank still needs, from the innermost
 * loop outward in nest order (per level: its temporal loops, then on
 * the spatial level the rows and the columns), and gives the outermost
 * searched level the exact remainder, in the place its loop already
 * has. */
static void normalize(space *s, cand *c) {
    int top = s->top;
    /* each rank's loops are capped inside out; the ranks do not meet,
     * so one pass over the levels does them all */
    uint64_t inner[EF_MAX_RANKS];
    for (int r = 0; r < EF_MAX_RANKS; r++) inner[r] = 1;
    for (int l = s->L - 1; l >= top; l--) {
        if (l == s->S) {
            cap_loops(s, c->cols, c->cn, inner);
            cap_loops(s, c->rows, c->rn, inner);
        }
        if (l > top) cap_loops(s, c->t[l], c->tn[l], inner);
    }
    for (int q = 0; q < s->nused; q++) {
        int r = s->used[q];
        uint64_t rest = ceil_div(s->bound[r], inner[r]);
        bool placed = false;
        for (int i = 0; i < c->tn[top]; i++)
            if (c->t[top][i].rank == r) {
                c->t[top][i].factor = placed ? 1 : rest;
                placed = true;
            }
        if (!placed && rest > 1) c->t[top][c->tn[top]++] = (mfac){r, rest};
    }
    for (int l = 0; l < s->L; l++) c->tn[l] = drop_ones(c->t[l], c->tn[l]);
    c->rn = drop_ones(c->rows, c->rn);
    c->cn = drop_ones(c->cols, c->cn);
}

/* A fused group's shared ranks are covered exactly below the shared
 * loops (their stride is the shared tile in every Einsum of the group):
 * false when the factors' product overshoots. */
static bool covers_exactly(const space *s, const cand *c) {
    if (!s->fx) return true;
    for (int q = 0; q < s->nused; q++) {
        int r = s->used[q];
        if (!exact_rank(s, r)) continue;
        uint64_t prod = 1;
        for (int l = s->top; l < s->L; l++)
            for (int i = 0; i < c->tn[l]; i++)
                if (c->t[l][i].rank == r) prod *= c->t[l][i].factor;
        /* above a per-PE fusion level, the spatial loops are shared */
        for (int i = 0; i < c->rn && !s->fx->per_pe; i++)
            if (c->rows[i].rank == r) prod *= c->rows[i].factor;
        for (int i = 0; i < c->cn && !s->fx->per_pe; i++)
            if (c->cols[i].rank == r) prod *= c->cols[i].factor;
        if (prod != s->bound[r]) return false;
    }
    return true;
}

/* What of a candidate is in use: its loops up to the counts, and the
 * keeps; the rest of its (mostly empty) arrays is never read. */
static void cand_clear(cand *c) {
    memset(c->tn, 0, sizeof c->tn);
    c->rn = c->cn = 0;
    memset(c->keep, 0, sizeof c->keep);
}

static void cand_copy(const space *s, cand *dst, const cand *src) {
    for (int l = 0; l < s->L; l++)
        memcpy(dst->t[l], src->t[l], sizeof(mfac) * (size_t)src->tn[l]);
    memcpy(dst->tn, src->tn, sizeof dst->tn);
    memcpy(dst->rows, src->rows, sizeof(mfac) * (size_t)src->rn);
    memcpy(dst->cols, src->cols, sizeof(mfac) * (size_t)src->cn);
    dst->rn = src->rn;
    dst->cn = src->cn;
    memcpy(dst->keep, src->keep, sizeof dst->keep);
}

/* A member touching scores kept in the PEs (ef_map_fixed.inner_level):
 * its spatial loops are the group's spread, and every other loop lies
 * at the scores' level, so that a PE holds its whole slice of them for
 * each tile of the fusion level (model/fuse.c); only the order of those
 * loops and the keeps of the other tensors are searched. */
static void draw_inner(space *s, cand *c, needs *nd) {
    fixed_slots(s, c);
    for (int i = 0; i < c->rn; i++)
        nd->need[c->rows[i].rank] = ceil_div(nd->need[c->rows[i].rank], c->rows[i].factor);
    for (int i = 0; i < c->cn; i++)
        nd->need[c->cols[i].rank] = ceil_div(nd->need[c->cols[i].rank], c->cols[i].factor);
    int l = s->fx->inner_level;
    for (int q = 0; q < s->nused; q++) {
        int r = s->used[q];
        if (nd->need[r] > 1) c->t[l][c->tn[l]++] = (mfac){r, nd->need[r]};
        nd->need[r] = 1;
    }
    normalize(s, c);
    order_loops(s, c->t[l], c->tn[l]);
}

static void draw(space *s, cand *c) {
    cand_clear(c);
    needs nd;
    for (int r = 0; r < EF_MAX_RANKS; r++) nd.need[r] = s->bound[r];
    draw_keeps(s, c);
    if (s->fx && s->fx->inner_level) {
        draw_inner(s, c, &nd);
        return;
    }
    /* per-PE loops, innermost level first */
    for (int l = s->L - 1; l >= s->first_pe; l--) {
        bool keeps_any = false;
        for (int o = 0; o < s->ops; o++) keeps_any |= c->keep[l][o];
        if (!keeps_any) continue;
        for (int q = 0; q < s->nused; q++) {
            int r = s->used[q];
            if (!(s->role[r] & s->df->pe_temporal) || nd.need[r] <= 1 || chance(s, 30)) continue;
            uint64_t f = pick_factor(s, nd.need[r], nd.need[r], exact_rank(s, r));
            if (f <= 1) continue;
            c->t[l][c->tn[l]++] = (mfac){r, f};
            nd.need[r] = ceil_div(nd.need[r], f);
        }
    }
    if (s->fx && s->fx->per_pe) fixed_slots(s, c);
    else place_slots(s, c, &nd);
    for (int l = s->S; l > s->top && l < s->first_pe; l--)
        for (int q = 0; q < s->nused; q++) {
            int r = s->used[q];
            if (nd.need[r] <= 1 || chance(s, 40)) continue;
            uint64_t f = pick_factor(s, nd.need[r], nd.need[r], exact_rank(s, r));
            if (f <= 1) continue;
            c->t[l][c->tn[l]++] = (mfac){r, f};
            nd.need[r] = ceil_div(nd.need[r], f);
        }
    normalize(s, c);
    for (int l = 0; l < s->L; l++) order_loops(s, c->t[l], c->tn[l]);
    order_innermost(s, c);
}

/* May level l hold a temporal loop of rank r? */
static bool loop_allowed(const space *s, const cand *c, int l, int r) {
    if (s->fx && s->fx->inner_level && l != s->fx->inner_level) return false;
    if (l < s->first_pe) return true;
    bool keeps_any = false;
    for (int o = 0; o < s->ops; o++) keeps_any |= c->keep[l][o];
    return keeps_any && (s->role[r] & s->df->pe_temporal);
}

static int find_loop(const cand *c, int l, int r) {
    for (int i = 0; i < c->tn[l]; i++)
        if (c->t[l][i].rank == r) return i;
    return -1;
}

/* A smallest prime factor of f (f itself when prime). */
static uint64_t prime_of(uint64_t f) {
    for (uint64_t p = 2; p * p <= f; p++)
        if (f % p == 0) return p;
    return f;
}

/* A neighbour of c: one factor moved between two levels, two loops of
 * a level swapped, or one tensor kept or bypassed at a shared level.
 * Spatial choices stay; fresh draws explore those. */
static void mutate(space *s, cand *c) {
    int kind = (int)below(s, 10);
    int top = s->top, span = s->L - top;
    if (kind < 6 && s->nused) {
        int r = s->used[below(s, (uint64_t)s->nused)];
        int from = top + (int)below(s, (uint64_t)span), to = top + (int)below(s, (uint64_t)span);
        int i = find_loop(c, from, r);
        if (from == to || i < 0 || !loop_allowed(s, c, to, r)) return;
        uint64_t f = c->t[from][i].factor;
        uint64_t d = chance(s, 50) ? prime_of(f) : f;
        /* the outermost searched level's factor is the remainder:
         * normalize recomputes it in place */
        if (from != top) c->t[from][i].factor = f / d;
        int j = find_loop(c, to, r);
        if (j >= 0) {
            c->t[to][j].factor *= d;
        } else if (c->tn[to] < EF_MAX_RANKS) {
            int at = (int)below(s, (uint64_t)c->tn[to] + 1);
            memmove(&c->t[to][at + 1], &c->t[to][at], sizeof(mfac) * (size_t)(c->tn[to] - at));
            c->t[to][at] = (mfac){r, d};
            c->tn[to]++;
        }
    } else if (kind < 9) {
        int l = top + (int)below(s, (uint64_t)span);
        if (c->tn[l] < 2) return;
        int a = (int)below(s, (uint64_t)c->tn[l]), b = (int)below(s, (uint64_t)c->tn[l]);
        mfac t = c->t[l][a];
        c->t[l][a] = c->t[l][b];
        c->t[l][b] = t;
    } else {
        /* the levels down to a fusion level are fixed (fixed_keep), but
         * for a per-PE one only the on-chip tensors' keeps: the others'
         * are searched from the level below the outermost down */
        bool pe_fused = s->fx && s->fx->per_pe;
        int hi = s->df->pe_keep_searched ? s->L : pe_fused ? top + 1 : s->first_pe;
        int lo = pe_fused ? 1 : top + 1;
        if (hi <= lo) return;
        int l = lo + (int)below(s, (uint64_t)(hi - lo));
        int o = (int)below(s, (uint64_t)s->ops);
        bool fixed;
        if (fixed_keep(s, l, s->twin_of[o], &fixed)) return;
        c->keep[l][s->twin_of[o]] = !c->keep[l][o] && s->can_keep[l][o];
        tie_twins(s, c);
    }
    normalize(s, c);
    order_innermost(s, c);
}

static uint64_t cand_hash(const space *s, const cand *c) {
    uint64_t h = UINT64_C(1469598103934665603);
#define MIX(v) (h = (h ^ (uint64_t)(v)) * UINT64_C(1099511628211))
    for (int l = 0; l < s->L; l++) {
        MIX(0x100 + l);
        for (int i = 0; i < c->tn[l]; i++) {
            MIX(c->t[l][i].rank);
            MIX(c->t[l][i].factor);
        }
        for (int o = 0; o < s->ops; o++) MIX(c->keep[l][o]);
    }
    MIX(0x200);
    for (int i = 0; i < c->rn; i++) {
        MIX(c->rows[i].rank);
        MIX(c->rows[i].factor);
    }
    MIX(0x300);
    for (int i = 0; i < c->cn; i++) {
        MIX(c->cols[i].rank);
        MIX(c->cols[i].factor);
    }
#undef MIX
    return h | 1; /* 0 marks an empty slot of the set */
}

/* ---------- candidate → mapping spec ---------- */

/* Names are copied, not formatted: this runs for every candidate. */
static void put_name(char *dst, const char *src) {
    size_t len = strlen(src);
    if (len >= EF_MAX_NAME) len = EF_MAX_NAME - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void put_factors(const space *s, const mfac *f, int n, ef_factor_spec *out, int *count) {
    *count = n;
    for (int i = 0; i < n; i++) {
        memset(&out[i].loc, 0, sizeof out[i].loc);
        put_name(out[i].rank, s->w->rank_names[f[i].rank]);
        out[i].factor = f[i].factor;
        out[i].rank_hint = f[i].rank + 1;
    }
}

/* The shared loops a fused group fixes at the outermost level. */
static void fixed_loops(const space *s, ef_level_mapping_spec *lm) {
    mfac f[EF_MAX_RANKS];
    int n = 0;
    /* a tail (model/fuse.c) has no loop over the rank it lacks */
    for (int i = 0; i < s->fx->loop_count; i++)
        if (s->es->rank_used[s->fx->loops[i].rank])
            f[n++] = (mfac){s->fx->loops[i].rank, s->fx->loops[i].factor};
    put_factors(s, f, n, lm->temporal, &lm->temporal_count);
}

static void to_spec(const space *s, const cand *c, ef_einsum_mapping_spec *em) {
    const ef_workload *w = s->w;
    put_name(em->einsum, w->einsum_count > 1 ? w->tensors[s->es->output.tensor].name : "");
    em->level_count = s->L;
    em->unit = s->vector ? EF_UNIT_VECTOR : EF_UNIT_ARRAY;
    memset(&em->unit_loc, 0, sizeof em->unit_loc);
    em->dataflow[0] = '\0';
    memset(&em->loc, 0, sizeof em->loc);
    for (int l = 0; l < s->L; l++) {
        ef_level_mapping_spec *lm = &em->levels[l];
        memset(&lm->loc, 0, sizeof lm->loc);
        put_name(lm->level, s->arch->levels[l].name);
        if (s->fx && l == 0) fixed_loops(s, lm);
        else put_factors(s, c->t[l], c->tn[l], lm->temporal, &lm->temporal_count);
        lm->row_count = lm->col_count = 0;
        if (l == s->S) {
            put_factors(s, c->rows, c->rn, lm->rows, &lm->row_count);
            put_factors(s, c->cols, c->cn, lm->cols, &lm->col_count);
        }
        lm->keep_given = true;
        lm->keep_count = 0;
        lm->bypass_count = 0;
        for (int o = 0; o < s->ops; o++) {
            if (!c->keep[l][o] || s->twin_of[o] != o) continue;
            const ef_operand *op = o == s->out ? &s->es->output : &s->es->inputs[o];
            memset(&lm->keep_loc[lm->keep_count], 0, sizeof(ef_loc));
            lm->keep_hint[lm->keep_count] = op->tensor + 1;
            put_name(lm->keep[lm->keep_count++], w->tensors[op->tensor].name);
        }
    }
}

/* What a nest's energy costs depend on besides the architecture and the
 * Einsum (and the NoC, compared apart): the unit, and at each level
 * the widest tensor kept, which sizes a capacity given in words
 * (stats/energy.c). */
static uint64_t costs_key(const ef_nest *n) {
    uint64_t key = (uint64_t)n->unit;
    for (int l = 0; l < n->level_count; l++) {
        int widest = 0;
        for (int o = 0; o < n->op_count; o++) {
            int bits = n->workload->tensors[n->ops[o]->tensor].bits;
            if (n->levels[l].keeps[o] && bits > widest) widest = bits;
        }
        key = key * 131 + (uint64_t)widest;
    }
    return key;
}

/* ---------- the search ---------- */

static const char *const objective_names[] = {
#define X(k, s) s,
    EF_OBJECTIVES(X)
#undef X
};

const char *ef_objective_name(ef_objective o) {
    return o >= 0 && o <= EF_OBJECTIVE_EDP ? objective_names[o] : "?";
}

bool ef_objective_parse(const char *str, ef_objective *out) {
    for (int o = 0; o <= EF_OBJECTIVE_EDP; o++)
        if (strcmp(str, objective_names[o]) == 0) {
            *out = (ef_objective)o;
            return true;
        }
    return false;
}

double ef_map_objective_value(ef_objective o, double cycles, double energy_pj) {
    switch (o) {
    case EF_OBJECTIVE_LATENCY: return cycles;
    case EF_OBJECTIVE_ENERGY: return energy_pj;
    case EF_OBJECTIVE_EDP:
    default: return cycles * energy_pj;
    }
}

/* Hashes of the candidates seen (0 marks an empty slot). */
typedef struct {
    uint64_t *slots;
    uint64_t size, used;
} seen_set;

#define SEEN_MAX (UINT64_C(1) << 20)

/* 1 when h is new (and now held, while there is room), 0 when seen
 * before, -1 when growing the set ran out of memory. */
static int seen_add(seen_set *set, uint64_t h) {
    uint64_t mask = set->size - 1, at = h & mask;
    while (set->slots[at] && set->slots[at] != h) at = (at + 1) & mask;
    if (set->slots[at] == h) return 0;
    if (set->used * 10 >= set->size * 7) {
        if (set->size >= SEEN_MAX) return 1; /* full: h may come again */
        seen_set big = {.size = set->size * 2, .used = 0};
        if (!(big.slots = ef_calloc((size_t)big.size, sizeof *big.slots))) return -1;
        for (uint64_t i = 0; i < set->size; i++)
            if (set->slots[i]) {
                uint64_t j = set->slots[i] & (big.size - 1);
                while (big.slots[j]) j = (j + 1) & (big.size - 1);
                big.slots[j] = set->slots[i];
                big.used++;
            }
        free(set->slots);
        *set = big;
        return seen_add(set, h);
    }
    set->slots[at] = h;
    set->used++;
    return 1;
}

/* Keeps the k best (lowest value) in order; ties go to the earlier.
 * Most candidates are no better than the k-th: they cost a compare. */
static void offer(const space *s, ranked *top, cand *slab, int k, int *have, const cand *c,
                  double value) {
    if (*have == k && value >= top[k - 1].value) return;
    /* the slot of the candidate it displaces, or a fresh one */
    cand *slot = *have < k ? &slab[*have] : top[k - 1].c;
    int i = *have < k ? (*have)++ : k - 1;
    while (i > 0 && top[i - 1].value > value) {
        top[i] = top[i - 1];
        i--;
    }
    cand_copy(s, slot, c);
    top[i].c = slot;
    top[i].value = value;
}

/* The confirmations' budget: a candidate whose counted energy is E
 * beats the best value confirmed so far only within the most cycles
 * this returns, so the engine stops it past them (ef_sim_options
 * budget). Found with ef_map_objective_value itself, so that a
 * candidate it stops could not have won even by a rounding. */
typedef struct {
    ef_objective objective;
    double best;
} confirm_budget;

static uint64_t most_cycles(void *ctx, const ef_result *counted) {
    const confirm_budget *b = ctx;
    if (!isfinite(b->best)) return UINT64_MAX;
    double e = ef_stats_energy_pj(counted);
    if (!isfinite(e) || e < 0) return UINT64_MAX;
    ef_objective o = b->objective;
    if (ef_map_objective_value(o, 0, e) > b->best) return 0;
    double per_cycle = o == EF_OBJECTIVE_LATENCY ? 1 : o == EF_OBJECTIVE_ENERGY ? 0 : e;
    if (per_cycle <= 0) return UINT64_MAX;
    double guess = floor(b->best / per_cycle);
    if (!(guess < 0x1p52)) return UINT64_MAX; /* past exact doubles */
    uint64_t c = (uint64_t)guess;
    while (ef_map_objective_value(o, (double)(c + 1), e) <= b->best) c++;
    while (c > 0 && ef_map_objective_value(o, (double)c, e) > b->best) c--;
    return c;
}

/* Records in the order they are confirmed: best estimate first, so that
 * the budget is tight early; ties in the order they were found. */
typedef struct {
    double value;
    size_t at;
} confirm_order;

static int by_estimate(const void *a, const void *b) {
    const confirm_order *x = a, *y = b;
    if (x->value != y->value) return x->value < y->value ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

void ef_map_result_clear(ef_map_result *r) {
    if (!r) return;
    ef_result_destroy(r->result);
    ef_nest_destroy(r->nest);
    free(r->mapping);
    memset(r, 0, sizeof *r);
}

ef_status ef_map_search(const ef_arch_spec *arch, const ef_workload *w, int e,
                        const ef_map_options *opt, ef_map_result *out, ef_diags *diags) {
    memset(out, 0, sizeof *out);
    double t0 = ef_now_seconds();
    ef_dataflow_spec *own = NULL;
    const ef_dataflow_spec *df = opt->dataflow;
    if (!df) {
        own = ef_spec_builtin_dataflow("free", diags);
        if (!own) return EF_ERR_SPEC;
        df = own;
    }
    if (df->unit == EF_UNIT_VECTOR && !arch->vector_unit.present) {
        ef_diags_add(diags, df->file, 0, 0, "unit",
                     "map this Einsum with an array dataflow, or add vector_unit to the "
                     "architecture", NULL,
                     "dataflow %s runs \"%s\" on the vector unit, but the architecture %s "
                     "declares no vector_unit", df->name, w->einsums[e].text, arch->name);
        ef_dataflow_spec_destroy(own);
        return EF_ERR_MAPPING;
    }
    /* a vector Einsum's candidates are drawn for the unit's view; its
     * nests are built against the architecture, which makes the view
     * again (model/vector.c) */
    ef_arch_spec *view = NULL;
    if (df->unit == EF_UNIT_VECTOR && !(view = ef_malloc(sizeof *view))) {
        ef_dataflow_spec_destroy(own);
        return EF_ERR_NOMEM;
    }
    if (view) vector_view(arch, view);
    space s;
    space_init(&s, view ? view : arch, arch, w, e, df, opt->fixed, opt->seed);
    uint64_t budget = opt->evaluations ? opt->evaluations : EF_MAP_DEFAULT_EVALUATIONS;
    ef_status st = EF_OK;
    /* the best candidates of every objective: all of them seed the
     * mutations, whatever the objective asked, so the candidates drawn
     * are the same for every objective and `energy` sees what `edp`
     * sees */
    ranked *top = ef_calloc(OBJECTIVE_COUNT * POOL, sizeof *top);
    cand *slab = ef_calloc(OBJECTIVE_COUNT * POOL, sizeof *slab);
    int have[OBJECTIVE_COUNT] = {0};
    double record_value[OBJECTIVE_COUNT];
    for (int o = 0; o < OBJECTIVE_COUNT; o++) record_value[o] = INFINITY;
    record *records = NULL;
    size_t nrecords = 0, records_cap = 0;
    confirm_order *order = NULL;
    ef_einsum_mapping_spec *em = ef_calloc(1, sizeof *em);
    ef_nest *scratch_nest = ef_malloc(sizeof *scratch_nest); /* every candidate's */
    ef_diags *scratch = ef_diags_create();
    ef_diags *limit_hit = NULL; /* the first candidate past a limit */
    /* duplicates are drawn often in small spaces: remember what was
     * seen, up to 700,000 candidates (8 MiB); past that, a repeat may be
     * evaluated again. The set grows with what it holds, never with the
     * budget, so a longer search repeats a shorter one's candidates. */
    seen_set seen = {.size = 4096};
    seen.slots = ef_calloc((size_t)seen.size, sizeof *seen.slots);
    char first_reason[512] = "";
    if (!top || !slab || !em || !scratch_nest || !scratch || !seen.slots) {
        ef_diags_out_of_memory(diags, arch->file);
        st = EF_ERR_NOMEM;
        goto done;
    }
    uint64_t stale = 0;
    double last_progress = t0;
    ef_energy_costs costs;        /* of the last nest's costs_key */
    const ef_noc_spec *costs_for = NULL;
    uint64_t costs_key_of = 0;
    /* a space smaller than the budget runs dry: stop when the last
     * 16 x (what has been found) draws in a row found nothing new */
    while (out->considered < budget && stale < 1000 + 16 * out->considered) {
        cand c;
        int parents = have[0] + have[1] + have[2];
        if (parents && out->considered >= EXPLORE_FIRST && chance(&s, 75)) {
            uint64_t pick = below(&s, (uint64_t)parents);
            int o = 0;
            while (pick >= (uint64_t)have[o]) pick -= (uint64_t)have[o++];
            cand_copy(&s, &c, top[o * POOL + (int)pick].c);
            int steps = 1 + (int)below(&s, 3);
            for (int m = 0; m < steps; m++) mutate(&s, &c);
        } else {
            draw(&s, &c);
        }
        uint64_t h = cand_hash(&s, &c);
        int fresh = seen_add(&seen, h);
        if (fresh < 0) {
            ef_diags_out_of_memory(diags, arch->file);
            st = EF_ERR_NOMEM;
            goto done;
        }
        if (!fresh) {
            stale++;
            continue;
        }
        stale = 0;
        out->considered++;
        if (!covers_exactly(&s, &c)) {
            if (!first_reason[0])
                snprintf(first_reason, sizeof first_reason, "its loops below the fusion "
                         "level overshoot a shared tile");
            continue;
        }
        to_spec(&s, &c, em);
        ef_nest *n = scratch_nest;
        if (!ef_nest_build_into(n, s.real, w, em, "<mapper>", e, scratch)) n = NULL;
        if (!n && scratch->out_of_memory) {
            /* not an illegal candidate: the search cannot go on */
            ef_diags_merge(diags, scratch);
            st = EF_ERR_NOMEM;
            goto done;
        }
        if (!n) {
            if (!first_reason[0] && scratch->count) {
                snprintf(first_reason, sizeof first_reason, "%s", scratch->items[0].message);
                scratch->count_only = true; /* the other reasons are never read */
            }
            ef_diags_clear(scratch);
            continue;
        }
        out->legal++;
        uint64_t key = costs_key(n);
        if (!costs_for || costs_for != n->noc || costs_key_of != key) {
            ef_energy_costs_of(n, &costs);
            costs_for = n->noc;
            costs_key_of = key;
        }
        ef_map_estimate est;
        ef_map_estimate_nest_costs(n, &costs, &est);
        unsigned beat = 0;
        for (int o = 0; o < OBJECTIVE_COUNT; o++) {
            double v = ef_map_objective_value((ef_objective)o, est.cycles, est.energy_pj);
            offer(&s, &top[o * POOL], &slab[o * POOL], POOL, &have[o], &c, v);
            if (v < record_value[o] * (1 - RECORD_MARGIN)) {
                record_value[o] = v;
                beat |= 1u << o;
            }
        }
        if (beat) {
            if (nrecords == records_cap) {
                size_t cap = records_cap ? 2 * records_cap : 32;
                record *grown = ef_realloc(records, cap * sizeof *records);
                if (!grown) {
                    ef_diags_out_of_memory(diags, arch->file);
                    st = EF_ERR_NOMEM;
                    goto done;
                }
                records = grown;
                records_cap = cap;
            }
            records[nrecords++] = (record){.c = c, .hash = h, .objectives = beat,
                                           .est_cycles = est.cycles,
                                           .est_energy_pj = est.energy_pj};
        }
        if ((out->considered & 63) == 0) {
            double now = ef_now_seconds();
            if (opt->time_limit_seconds > 0 && now - t0 > opt->time_limit_seconds) break;
            if (opt->progress && now - last_progress > 0.25) {
                last_progress = now;
                ef_map_progress p = {.label = opt->progress_label,
                                     .considered = out->considered, .legal = out->legal,
                                     .budget = budget, .elapsed_seconds = now - t0,
                                     .best_estimate = top[opt->objective * POOL].value};
                opt->progress(opt->progress_ctx, &p);
            }
        }
    }
    const ranked *best_est = &top[opt->objective * POOL];
    if (!have[opt->objective]) {
        ef_diags_add(diags, arch->file, 0, 0, "", NULL, NULL,
                     "the mapper found no legal mapping of \"%s\" with dataflow %s on %s "
                     "(%llu candidates considered, none legal%s%s)",
                     w->einsums[e].text, df->name, arch->name,
                     (unsigned long long)out->considered,
                     first_reason[0] ? "; the first was rejected because " : "", first_reason);
        st = EF_ERR_MAPPING;
        goto done;
    }
    if (opt->confirm <= 0) {
        to_spec(&s, best_est->c, em);
        out->nest = ef_nest_build_one(s.real, w, em, "<mapper>", e, diags);
        out->mapping = ef_malloc(sizeof *out->mapping);
        if (!out->nest || !out->mapping) {
            st = out->nest || diags->out_of_memory ? EF_ERR_NOMEM : EF_ERR_MAPPING;
            goto done;
        }
        memcpy(out->mapping, em, sizeof *em);
        ef_map_estimate_nest(out->nest, &out->estimate);
        out->active_pes = out->nest->active_pes;
        goto done;
    }
    /* confirm: the engine decides among the records of the objective
     * and of the default one, so that no objective's winner does worse
     * on its own measure than the default's winner */
    unsigned wanted = 1u << opt->objective | 1u << EF_OBJECTIVE_EDP;
    int to_confirm = 0, confirming = 0;
    order = ef_malloc(sizeof *order * (nrecords ? nrecords : 1));
    if (!order) {
        ef_diags_out_of_memory(diags, arch->file);
        st = EF_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < nrecords; i++)
        if (records[i].objectives & wanted)
            order[to_confirm++] = (confirm_order){
                ef_map_objective_value(opt->objective, records[i].est_cycles,
                                       records[i].est_energy_pj), i};
    qsort(order, (size_t)to_confirm, sizeof *order, by_estimate);
    /* the winner is the first record, in the order found, of the best
     * value: the order of confirming changes nothing but the budget */
    double best = INFINITY;
    size_t best_at = SIZE_MAX;
    confirm_budget bound = {.objective = opt->objective, .best = INFINITY};
    ef_sim_options sim = opt->sim;
    sim.budget = most_cycles;
    sim.budget_ctx = &bound;
    for (int q = 0; q < to_confirm; q++) {
        size_t i = order[q].at;
        if (opt->progress) {
            ef_map_progress p = {.label = opt->progress_label, .considered = out->considered,
                                 .legal = out->legal, .budget = budget,
                                 .elapsed_seconds = ef_now_seconds() - t0,
                                 .best_estimate = best_est->value, .confirming = ++confirming,
                                 .to_confirm = to_confirm};
            opt->progress(opt->progress_ctx, &p);
        }
        to_spec(&s, &records[i].c, em);
        ef_nest *n = ef_nest_build_one(s.real, w, em, "<mapper>", e, diags);
        if (!n) {
            st = diags->out_of_memory ? EF_ERR_NOMEM : EF_ERR_MAPPING;
            goto done;
        }
        ef_status rs;
        ef_diags_clear(scratch);
        scratch->count_only = false;
        ef_result *res = ef_sim_run(n, &sim, NULL, scratch, &rs);
        if (!res) {
            ef_nest_destroy(n);
            if (rs == EF_STOPPED) {
                /* the engine's counts and first cycles rule it out */
                out->confirmed++;
                continue;
            }
            if (rs != EF_ERR_OVERFLOW) {
                ef_diags_merge(diags, scratch);
                st = rs;
                goto done;
            }
            /* past a limit of the simulator: never the answer; another
             * record may be within it */
            if (!limit_hit) {
                limit_hit = ef_diags_create();
                if (limit_hit) ef_diags_merge(limit_hit, scratch);
            }
            continue;
        }
        out->confirmed++;
        ef_stats stats;
        ef_stats_compute(res, &stats);
        double v = ef_map_objective_value(opt->objective, (double)res->cycles, stats.energy_pj);
        if (v < best || (v == best && i < best_at)) {
            best = v;
            best_at = i;
            bound.best = best;
            ef_result_destroy(out->result);
            ef_nest_destroy(out->nest);
            out->result = res;
            out->nest = n;
            out->stats = stats;
            if (!out->mapping && !(out->mapping = ef_malloc(sizeof *out->mapping))) {
                st = EF_ERR_NOMEM;
                goto done;
            }
            memcpy(out->mapping, em, sizeof *em);
        } else {
            ef_result_destroy(res);
            ef_nest_destroy(n);
        }
    }
    if (!out->nest) {
        /* every candidate confirmed ran past a limit: say which */
        if (limit_hit) ef_diags_merge(diags, limit_hit);
        st = EF_ERR_OVERFLOW;
        goto done;
    }
    ef_map_estimate_nest(out->nest, &out->estimate);
    out->active_pes = out->nest->active_pes;
done:
    out->seconds = ef_now_seconds() - t0;
    if (st != EF_OK) ef_map_result_clear(out);
    snprintf(out->dataflow, sizeof out->dataflow, "%s", df->name);
    out->unit = df->unit;
    free(view);
    free(slab);
    free(scratch_nest);
    free(seen.slots);
    free(records);
    free(order);
    ef_diags_destroy(scratch);
    ef_diags_destroy(limit_hit);
    free(em);
    free(top);
    ef_dataflow_spec_destroy(own);
    return st;
}
