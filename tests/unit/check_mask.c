/* Unit tests of the causal mask in the sim stage (docs/model.md
 * section 1, "Causal masking"): a masked point is not computed. Its
 * step and cycle stay (the array runs in lockstep) and so does every
 * tile transfer; it is no op, reads no operand where the operands meet
 * the MACs and writes no partial sum there.
 *
 * The expected counts come from a brute-force enumeration written here:
 * every step of the nest's temporal loops, every PE at its spatial
 * offset, every point checked against the mask. Partial sums follow
 * the documented convention (docs/model.md sections 2 and 3): a word
 * visit of the innermost keeper starts empty on the word's first visit,
 * at every PE of a reduction group but the first that gains it on a
 * revisit, and a read precedes every update of a visit but its first
 * unmasked one. The enumeration is run without the mask too and must
 * then give the simulator's unmasked counts, which checks it. Both
 * walks (by classes of events, and word by word with --check-values)
 * and both engines must agree, and the cycles must not change. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einflow/util_loss.h"
#include "model/noc.h"
#include "unit/unit_util.h"

static const char *ARCH =
    "name: mask\n"
    "pe_array: {rows: 2, cols: 4}\n"
    "levels:\n"
    "  - name: DRAM\n"
    "    kind: dram\n"
    "  - name: GLB\n"
    "    kind: sram\n"
    "  - name: RF\n"
    "    kind: regfile\n"
    "    per_pe: true\n"
    "noc:\n"
    "  - {from: GLB, to: RF, topology: %s, reduction: true}\n";

/* scores (both mask ranks in the output) and weighted values (the
 * query only: the key is reduced) */
static const char *QK = "name: qk\neinsums: [\"S[m,p] += Q[p,e] * K[m,e]\"]\n"
                        "ranks: {M: %d, P: %d, E: 2}\n";
static const char *AV = "name: av\neinsums: [\"O[p,f] += A[m,p] * V[m,f]\"]\n"
                        "ranks: {M: %d, P: %d, F: 2}\n";
/* a padded operand whose index mixes the key with another rank */
static const char *QK_PAD = "name: qkpad\neinsums: [\"S[m,p] += Q[p,e] * K[m+r,e]\"]\n"
                            "ranks: {M: %d, P: %d, E: 2, R: 3}\n"
                            "padding: {K: [[1, 1], 0]}\n";

typedef struct {
    const char *name, *einsum, *noc;
    int M, P;
    int64_t offset;
    const char *map;
} mask_case;

static const mask_case cases[] = {
    /* the mask inside one PE's temporal loops; 7 keys as 2 x 4 */
    {"qk one PE", "qk", "multicast", 7, 6, 0,
     "mapping:\n  - level: DRAM\n    temporal: [M: 2]\n"
     "  - level: GLB\n    temporal: [P: 3]\n"
     "  - level: RF\n    temporal: [M: 4, P: 2, E: 2]\n"},
    {"av one PE", "av", "multicast", 7, 6, 2,
     "mapping:\n  - level: DRAM\n    temporal: [P: 3]\n"
     "  - level: GLB\n    temporal: [M: 2]\n"
     "  - level: RF\n    temporal: [F: 2, P: 2, M: 4]\n"},
    /* across PEs: keys on the columns, queries on the rows */
    {"qk across PEs", "qk", "multicast", 8, 6, 1,
     "mapping:\n  - level: DRAM\n    temporal: [P: 3]\n"
     "  - level: GLB\n    spatial: {rows: [P: 2], cols: [M: 4]}\n"
     "  - level: RF\n    temporal: [M: 2, E: 2]\n"},
    /* AV reduces the keys across the columns, and the DRAM's key loop
     * outside the query loop brings partial sums back to the groups */
    {"av groups revisit", "av", "multicast", 8, 6, 0,
     "mapping:\n  - level: DRAM\n    temporal: [M: 2, P: 3]\n"
     "  - level: GLB\n    spatial: {rows: [P: 2], cols: [M: 2]}\n"
     "  - level: RF\n    temporal: [M: 2, F: 2]\n"},
    {"av groups unicast", "av", "unicast", 11, 11, 3,
     "mapping:\n  - level: DRAM\n    temporal: [M: 2]\n"
     "  - level: GLB\n    temporal: [P: 2]\n"
     "    spatial: {rows: [P: 2], cols: [M: 4]}\n"
     "  - level: RF\n    temporal: [P: 3, M: 2, F: 2]\n"},
    /* across tiles: the RF's tiles cut the diagonal, keys partial */
    {"qk across tiles", "qk", "multicast", 7, 8, 0,
     "mapping:\n  - level: DRAM\n    temporal: [M: 2]\n"
     "  - level: GLB\n    temporal: [P: 2, M: 2]\n"
     "    spatial: {rows: [P: 2]}\n"
     "  - level: RF\n    temporal: [P: 2, M: 2, E: 2]\n"},
    {"av across tiles", "av", "multicast", 8, 8, -1,
     "mapping:\n  - level: DRAM\n    temporal: [P: 2]\n"
     "  - level: GLB\n    temporal: [M: 2, P: 2]\n"
     "    spatial: {cols: [M: 2, F: 2]}\n"
     "  - level: RF\n    temporal: [M: 2, P: 2]\n"},
    /* streamed from the GLB: operands and outputs no RF keeps */
    {"qk streamed", "qk", "multicast", 8, 6, 0,
     "mapping:\n  - level: DRAM\n    temporal: [P: 3]\n"
     "  - level: GLB\n    spatial: {rows: [P: 2], cols: [M: 4]}\n"
     "  - level: RF\n    bypass: [K, S]\n    temporal: [M: 2, E: 2]\n"},
    {"av streamed", "av", "multicast", 8, 6, 2,
     "mapping:\n  - level: DRAM\n    temporal: [M: 2, P: 3]\n"
     "  - level: GLB\n    spatial: {rows: [P: 2], cols: [M: 4]}\n"
     "  - level: RF\n    bypass: [A, O]\n    temporal: [F: 2]\n"},
    /* the output kept by a shared level: one PE's, and all PEs' from
     * the DRAM, reduced in flight */
    {"qk one PE at the GLB", "qk", "multicast", 7, 6, 1,
     "mapping:\n  - level: DRAM\n    temporal: [P: 3, M: 2]\n"
     "  - level: GLB\n    temporal: [M: 2, P: 2]\n"
     "  - level: RF\n    bypass: [S]\n    temporal: [E: 2, M: 2]\n"},
    {"av streamed from DRAM", "av", "multicast", 8, 6, 0,
     "mapping:\n  - level: DRAM\n    temporal: [M: 2, P: 3]\n"
     "  - level: GLB\n    bypass: [O]\n"
     "    spatial: {rows: [P: 2], cols: [M: 4]}\n"
     "  - level: RF\n    bypass: [O]\n    temporal: [F: 2]\n"},
    {"qk padded", "qkpad", "multicast", 7, 6, 1,
     "mapping:\n  - level: DRAM\n    temporal: [P: 3]\n"
     "  - level: GLB\n    temporal: [R: 3]\n"
     "    spatial: {rows: [P: 2], cols: [M: 4]}\n"
     "  - level: RF\n    temporal: [M: 2, E: 2]\n"},
    {"av streamed unicast", "av", "unicast", 8, 6, 1,
     "mapping:\n  - level: DRAM\n    temporal: [M: 2, P: 3]\n"
     "  - level: GLB\n    spatial: {rows: [P: 2], cols: [M: 4]}\n"
     "  - level: RF\n    bypass: [A, V, O]\n    temporal: [F: 2]\n"},
};

/* ---------- the brute-force enumeration ---------- */

typedef struct {
    uint64_t ops;
    uint64_t reads[EF_NEST_MAX_OPS];      /* at each operand's innermost keeper */
    uint64_t updates, out_reads;          /* the output's, there             */
    uint64_t deliveries[EF_NEST_MAX_OPS]; /* streamed: PE-point deliveries  */
} bf_counts;

typedef struct {
    const ef_nest *n;
    const ef_workload *w;
    int R, T;                             /* ranks, temporal loops         */
    int tl[EF_MAX_LOOPS];
    uint64_t pes;
    int64_t (*off)[EF_MAX_RANKS];
} bf_nest;

static void bf_setup(bf_nest *b, const ef_nest *n) {
    memset(b, 0, sizeof *b);
    b->n = n;
    b->w = n->workload;
    b->R = b->w->rank_count;
    for (int j = 0; j < n->loop_count; j++)
        if (n->loops[j].kind == EF_LOOP_TEMPORAL) b->tl[b->T++] = j;
    b->pes = n->rows_used * n->cols_used;
    b->off = calloc(b->pes, sizeof *b->off);
    ck_assert_ptr_nonnull(b->off);
    /* PE i is row i / cols, col i % cols; each list of spatial loops
     * is a mixed-radix number of its row or column, outermost first */
    for (uint64_t i = 0; i < b->pes; i++) {
        uint64_t row = i / n->cols_used, col = i % n->cols_used;
        for (int j = n->loop_count - 1; j >= 0; j--) {
            const ef_loop *lp = &n->loops[j];
            if (lp->kind == EF_LOOP_TEMPORAL) continue;
            uint64_t *digit = lp->kind == EF_LOOP_ROWS ? &row : &col;
            b->off[i][lp->rank] += (int64_t)((*digit % lp->factor) * lp->stride);
            *digit /= lp->factor;
        }
    }
}

static bool bf_masked(const bf_nest *b, const int64_t *x, bool masked) {
    return masked && ef_point_masked(b->w, b->n->einsum, x);
}

static bool bf_in_out(const bf_nest *b, int r) {
    const ef_operand *o = &b->n->einsum->output;
    for (int d = 0; d < o->dims; d++)
        if (o->index[d].rank[0] == r) return true;
    return false;
}

/* The range of rank r in instance i's tile of level k (per-PE: from the
 * PE's offset; shared: the tile of every PE) at the loop indices idx. */
static void bf_range(const bf_nest *b, int k, const uint64_t *idx, uint64_t i, int r,
                     int64_t *lo, int64_t *hi) {
    const ef_nest *n = b->n;
    int64_t base = 0;
    for (int p = 0; p < b->T; p++) {
        const ef_loop *lp = &n->loops[b->tl[p]];
        if (lp->level < k && lp->rank == r) base += (int64_t)(idx[p] * lp->stride);
    }
    if (n->arch->levels[k].per_pe) base += b->off[i][r];
    *lo = base;
    *hi = base + (int64_t)n->levels[k].tile_span[r];
    if (*hi > (int64_t)b->w->rank_bounds[r]) *hi = (int64_t)b->w->rank_bounds[r];
}

/* Whether instance i's tile of level k holds output word x (rank
 * coordinates) at idx: every rank's range non-empty, the output's
 * ranks' containing x. */
static bool bf_holds(const bf_nest *b, int k, const uint64_t *idx, uint64_t i, const int64_t *x) {
    for (int r = 0; r < b->R; r++) {
        if (!b->n->einsum->rank_used[r]) continue;
        int64_t lo, hi;
        bf_range(b, k, idx, i, r, &lo, &hi);
        if (hi <= lo) return false;
        if (bf_in_out(b, r) && (x[r] < lo || x[r] >= hi)) return false;
    }
    return true;
}

enum { ABSENT, EMPTY, FILLED };

static void bf_count(const bf_nest *b, bool masked, bf_counts *c) {
    const ef_nest *n = b->n;
    const ef_workload *w = b->w;
    const ef_einsum *e = n->einsum;
    const int out = n->out_op, R = b->R;
    memset(c, 0, sizeof *c);
    int k = n->op_keeper_mac[out];
    bool per_pe = n->arch->levels[k].per_pe;
    uint64_t inst = per_pe ? b->pes : 1;
    const ef_operand *oo = n->ops[out];
    uint64_t words = w->tensors[oo->tensor].words;
    unsigned char *state = calloc(inst * words, 1);
    ck_assert_ptr_nonnull(state);
    int kbegin = 0; /* temporal loops above the keeper */
    while (kbegin < b->T && n->loops[b->tl[kbegin]].level < k) kbegin++;
    uint64_t idx[EF_MAX_LOOPS] = {0}, prev[EF_MAX_LOOPS];
    bool started = false;
    for (;;) {
        int64_t tb[EF_MAX_RANKS] = {0};
        for (int p = 0; p < b->T; p++)
            tb[n->loops[b->tl[p]].rank] += (int64_t)(idx[p] * n->loops[b->tl[p]].stride);
        /* the keeper's tiles change: words leave, words enter */
        if (!started || memcmp(idx, prev, sizeof(uint64_t) * (size_t)kbegin) != 0) {
            bool first = true;
            for (int p = 0; p < kbegin; p++)
                if (idx[p] && !bf_in_out(b, n->loops[b->tl[p]].rank)) first = false;
            bool home = n->levels[k].parent[out] < 0;
            for (uint64_t q = 0; q < words; q++) {
                /* the word's coordinates: an output of plain ranks */
                int64_t x[EF_MAX_RANKS] = {0};
                uint64_t rest = q;
                for (int d = oo->dims - 1; d >= 0; d--) {
                    const ef_tensor *t = &w->tensors[oo->tensor];
                    x[oo->index[d].rank[0]] = (int64_t)(rest % (uint64_t)t->extent[d]);
                    rest /= (uint64_t)t->extent[d];
                }
                bool group_claimed[64] = {false}; /* by output offsets */
                for (uint64_t i = 0; i < inst; i++) {
                    bool now = bf_holds(b, k, idx, i, x);
                    unsigned char *s = &state[i * words + q];
                    if (!now) {
                        *s = ABSENT;
                        continue;
                    }
                    if (*s != ABSENT) continue;
                    /* entering: the first PE of its group (same output
                     * offsets) that gains it takes the partial sum */
                    uint64_t g = 0;
                    if (per_pe) {
                        uint64_t j = 0;
                        while (j < i) {
                            bool same = true;
                            for (int r = 0; r < R; r++)
                                if (bf_in_out(b, r) && b->off[j][r] != b->off[i][r]) same = false;
                            if (same) break;
                            j++;
                        }
                        g = j;
                    }
                    ck_assert_uint_lt(g, 64);
                    if (first || home || group_claimed[g]) {
                        *s = EMPTY;
                    } else {
                        *s = FILLED;
                        group_claimed[g] = true;
                    }
                }
            }
            memcpy(prev, idx, sizeof prev);
            started = true;
        }
        /* the step: every PE at its point */
        uint64_t *step_words[EF_NEST_MAX_OPS];
        for (int o = 0; o < n->op_count; o++) {
            step_words[o] = calloc(w->tensors[n->ops[o]->tensor].words, sizeof(uint64_t));
            ck_assert_ptr_nonnull(step_words[o]);
        }
        for (uint64_t i = 0; i < b->pes; i++) {
            int64_t x[EF_MAX_RANKS];
            bool ok = true;
            for (int r = 0; r < R; r++) {
                x[r] = tb[r] + b->off[i][r];
                if (e->rank_used[r] && x[r] >= (int64_t)w->rank_bounds[r]) ok = false;
            }
            if (!ok || bf_masked(b, x, masked)) continue;
            c->ops++;
            for (int o = 0; o < n->op_count; o++) {
                int64_t word = ef_operand_word(w, n->ops[o], x);
                if (word < 0) continue;
                int ko = n->op_keeper_mac[o];
                bool streamed = !n->arch->levels[ko].per_pe && b->pes > 1;
                if (streamed && o != out) c->deliveries[o]++;
                if (streamed && (o == out || ef_noc_shares_reads(n, o))) {
                    step_words[o][word] = 1; /* one read (update) for all */
                    continue;
                }
                if (o != out) {
                    c->reads[o]++;
                    continue;
                }
                unsigned char *s = &state[(per_pe ? i : 0) * words + (uint64_t)word];
                ck_assert_int_ne(*s, ABSENT);
                c->updates++;
                if (*s == EMPTY) *s = FILLED; /* written: later updates read */
                else c->out_reads++;
            }
        }
        for (int o = 0; o < n->op_count; o++) {
            for (uint64_t q = 0; q < w->tensors[n->ops[o]->tensor].words; q++) {
                if (!step_words[o][q]) continue;
                if (o != out) {
                    c->reads[o]++;
                    continue;
                }
                c->updates++;
                if (state[q] == EMPTY) state[q] = FILLED;
                else c->out_reads++;
            }
            free(step_words[o]);
        }
        /* the next step: a loop whose index would start past its
         * rank's bound is carried at once (imperfect factors) */
        int p = b->T - 1;
        for (; p >= 0; p--) {
            const ef_loop *lp = &n->loops[b->tl[p]];
            int64_t base = tb[lp->rank] - (int64_t)(idx[p] * lp->stride);
            if (++idx[p] < lp->factor &&
                base + (int64_t)(idx[p] * lp->stride) < (int64_t)w->rank_bounds[lp->rank]) {
                break;
            }
            tb[lp->rank] = base;
            idx[p] = 0;
        }
        if (p < 0) break;
    }
    free(state);
}

/* ---------- the runs ---------- */

static ef_result *run(ut_fx *f, ef_engine engine, bool values, ef_values **v) {
    ef_sim_options o = {.engine = engine, .fold_model = EF_FOLD_OVERLAP,
                        .check_values = values, .seed = 7};
    *v = values ? ef_values_create(f->w, 7) : NULL;
    ef_status st = EF_OK;
    ef_result *r = ef_sim_run(f->nest, &o, *v, f->diags, &st);
    if (!r || st != EF_OK) {
        char *s = ut_render(f);
        ck_abort_msg("ef_sim_run failed with status %d:\n%s", (int)st, s);
        free(s);
    }
    if (values) ck_assert(r->values_checked);
    return r;
}

static void expect_bf(const ut_fx *f, const ef_result *r, const bf_counts *c, const char *what) {
    const ef_nest *n = f->nest;
    ck_assert_msg(r->ops == c->ops, "%s: ops %llu, enumerated %llu", what,
                  (unsigned long long)r->ops, (unsigned long long)c->ops);
    for (int o = 0; o < n->op_count; o++) {
        const ef_tensor_counters *t = &r->levels[n->op_keeper_mac[o]].ops[o];
        const char *tn = n->workload->tensors[n->ops[o]->tensor].name;
        if (o == n->out_op) {
            ck_assert_msg(t->updates == c->updates && t->reads == c->out_reads,
                          "%s: %s updates %llu reads %llu, enumerated %llu and %llu", what, tn,
                          (unsigned long long)t->updates, (unsigned long long)t->reads,
                          (unsigned long long)c->updates, (unsigned long long)c->out_reads);
        } else {
            ck_assert_msg(t->reads == c->reads[o], "%s: %s reads %llu, enumerated %llu", what,
                          tn, (unsigned long long)t->reads, (unsigned long long)c->reads[o]);
        }
    }
}

/* Every counter and the cycles of two runs. */
static void expect_same(const ef_nest *n, const ef_result *a, const ef_result *b,
                        const char *what) {
    ck_assert_msg(a->ops == b->ops && a->masked_ops == b->masked_ops, "%s: ops", what);
    ck_assert_msg(a->cycles == b->cycles, "%s: cycles %llu and %llu", what,
                  (unsigned long long)a->cycles, (unsigned long long)b->cycles);
    for (int l = 0; l < n->level_count; l++)
        for (int o = 0; o < n->op_count; o++) {
            const ef_tensor_counters *x = &a->levels[l].ops[o], *y = &b->levels[l].ops[o];
            ck_assert_msg(x->reads == y->reads && x->fills == y->fills &&
                              x->updates == y->updates && x->max_reads == y->max_reads &&
                              x->max_updates == y->max_updates,
                          "%s: level %d operand %d differs", what, l, o);
        }
    ck_assert_msg(!memcmp(&a->noc, &b->noc, sizeof a->noc), "%s: network counters", what);
}

START_TEST(masked_points_are_not_computed) {
    const mask_case *mc = &cases[_i];
    ut_fx f;
    ut_init(&f);
    char *arch = ut_fmt(ARCH, mc->noc);
    const char *fmt = !strcmp(mc->einsum, "qk") ? QK : !strcmp(mc->einsum, "av") ? AV : QK_PAD;
    char *wl = ut_fmt(fmt, mc->M, mc->P);
    ut_build_ok(&f, arch, wl, mc->map);
    free(arch);
    free(wl);
    bf_nest b;
    bf_setup(&b, f.nest);
    ef_values *v[4];
    /* without the mask: the enumeration must give the simulator's counts */
    ef_result *whole = run(&f, EF_ENGINE_STEP, false, &v[0]);
    bf_counts c;
    bf_count(&b, false, &c);
    expect_bf(&f, whole, &c, mc->name);
    ck_assert_uint_eq(whole->masked_ops, 0);
    f.w->mask_key = ut_rank(f.w, "M");
    f.w->mask_query = ut_rank(f.w, "P");
    f.w->mask_offset = mc->offset;
    ef_result *step = run(&f, EF_ENGINE_STEP, false, &v[1]);
    ef_result *event = run(&f, EF_ENGINE_EVENT, false, &v[2]);
    ef_result *exact = run(&f, EF_ENGINE_EVENT, true, &v[3]);
    bf_count(&b, true, &c);
    char what[128];
    snprintf(what, sizeof what, "%s, masked", mc->name);
    expect_bf(&f, step, &c, what);
    ck_assert_uint_eq(step->ops + step->masked_ops, whole->ops);
    ck_assert_uint_gt(step->masked_ops, 0);
    expect_same(f.nest, step, event, what);
    expect_same(f.nest, step, exact, what);
    /* the lockstep array: every step and cycle stays, and every
     * transfer above the MACs */
    ck_assert_uint_eq(step->cycles, whole->cycles);
    ck_assert_uint_eq(step->steps, whole->steps);
    for (int l = 0; l < f.nest->level_count; l++)
        for (int o = 0; o < f.nest->op_count; o++) {
            ck_assert_uint_eq(step->levels[l].ops[o].fills, whole->levels[l].ops[o].fills);
            if (l < f.nest->op_keeper_mac[o])
                ck_assert(step->levels[l].ops[o].reads == whole->levels[l].ops[o].reads &&
                          step->levels[l].ops[o].updates == whole->levels[l].ops[o].updates);
        }
    /* streamed operands: one delivery fewer per masked point that needs
     * a stored word */
    bf_counts all;
    bf_count(&b, false, &all);
    uint64_t gone = 0;
    for (int o = 0; o < f.nest->op_count; o++) gone += all.deliveries[o] - c.deliveries[o];
    ck_assert_uint_eq(whole->noc.deliveries - step->noc.deliveries, gone);
    /* the utilization loss still adds up, with the masked points' slots */
    ef_util_loss u;
    ef_util_loss_of(step, &u);
    uint64_t lost = 0, masked = 0;
    for (int s = 0; s < u.step_count; s++) {
        lost += u.steps[s].slots;
        if (!strcmp(u.steps[s].cause, EF_LOSS_MASKED)) masked = u.steps[s].slots;
        ck_assert_str_ne(u.steps[s].cause, EF_LOSS_PARTIAL_STEPS);
    }
    ck_assert_uint_eq(masked, step->masked_ops);
    ck_assert_uint_eq(lost, u.peak_slots - u.ops);
    ef_result *rs[] = {whole, step, event, exact};
    for (int k = 0; k < 4; k++) {
        ef_result_destroy(rs[k]);
        ef_values_destroy(v[k]);
    }
    free(b.off);
    ut_free(&f);
}
END_TEST

/* Outside the diagonal nothing changes: a mask no point meets. */
START_TEST(a_mask_no_point_meets_changes_nothing) {
    ut_fx f;
    ut_init(&f);
    char *arch = ut_fmt(ARCH, "multicast");
    char *wl = ut_fmt(AV, 6, 6);
    ut_build_ok(&f, arch, wl, cases[3].map);
    free(arch);
    free(wl);
    ef_values *v[2];
    ef_result *whole = run(&f, EF_ENGINE_STEP, false, &v[0]);
    f.w->mask_key = ut_rank(f.w, "M");
    f.w->mask_query = ut_rank(f.w, "P");
    f.w->mask_offset = 5; /* key <= 5 + query always */
    ef_result *r = run(&f, EF_ENGINE_STEP, false, &v[1]);
    expect_same(f.nest, whole, r, "no masked point");
    ck_assert_uint_eq(r->masked_ops, 0);
    ef_result_destroy(whole);
    ef_result_destroy(r);
    ef_values_destroy(v[0]);
    ef_values_destroy(v[1]);
    ut_free(&f);
}
END_TEST

static Suite *mask_suite(void) {
    Suite *s = suite_create("mask");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, masked_points_are_not_computed, 0, (int)UT_LEN(cases));
    tcase_add_test(tc, a_mask_no_point_meets_changes_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ut_run_suite(mask_suite()); }
