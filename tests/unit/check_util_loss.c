/* Unit tests of stats/util_loss.c: the utilization loss of one run.
 * Table driven: small matmuls with imperfect factors in time and space
 * on a 4 x 4 array. Each case checks
 *   - the identity: the steps add up to peak_slots - ops exactly;
 *   - the closed forms of ef_util_loss_edges against a brute force that
 *     visits every combination of every loop of the nest: a step is a
 *     combination of the temporal digits in which PE 0 works, an
 *     active PE one that works in the first step, and an idle (step,
 *     PE) is temporal when in every rank it fails the outermost digit
 *     crossing the bound is temporal;
 *   - that they match the engine's counters (steps, active PEs, ops). */
#include "unit/unit_util.h"

#include "einflow/util_loss.h"

static const char *ARCH_FMT =
    "name: a4x4\n"
    "pe_array: {rows: 4, cols: 4}\n"
    "pe: {macs_per_cycle: %d}\n"
    "levels:\n"
    "  - name: MainMemory\n"
    "    kind: sram\n"
    "    latency: 3\n"
    "    read_bandwidth: 4\n"
    "  - name: Buffer\n"
    "    kind: regfile\n"
    "    per_pe: true\n";

static const char *MATMUL =
    "name: mm\n"
    "einsums:\n"
    "  - \"O[m,n] += A[m,k] * B[k,n]\"\n"
    "ranks: {M: 5, N: 7, K: 3}\n"
    "precision: {A: 8, B: 8, O: 8}\n";

typedef struct {
    const char *name;
    int macs_per_cycle;
    const char *mapping;
    bool spatial, temporal;       /* which edges the case must show   */
} loss_case;

static const loss_case cases[] = {
    {"spatial edges in M and N", 1,
     "mapping:\n"
     "  - level: MainMemory\n"
     "    temporal: [M: 2, N: 2]\n"
     "    spatial: {rows: [M: 3], cols: [N: 4]}\n"
     "  - level: Buffer\n"
     "    temporal: [K: 3]\n",
     true, false},
    {"temporal edges in M and N", 1,
     "mapping:\n"
     "  - level: MainMemory\n"
     "    spatial: {rows: [M: 2], cols: [N: 4]}\n"
     "  - level: Buffer\n"
     "    temporal: [M: 3, N: 2, K: 3]\n",
     false, true},
    /* M's edge is spatial, N's temporal: a (step, PE) idle in both is
     * spatial, one idle in N alone temporal */
    {"spatial in M, temporal in N", 1,
     "mapping:\n"
     "  - level: MainMemory\n"
     "    temporal: [M: 2]\n"
     "    spatial: {rows: [M: 3], cols: [N: 2]}\n"
     "  - level: Buffer\n"
     "    temporal: [N: 4, K: 3]\n",
     true, true},
    {"two steps a cycle", 2,
     "mapping:\n"
     "  - level: MainMemory\n"
     "    temporal: [M: 2, N: 2]\n"
     "    spatial: {rows: [M: 3], cols: [N: 4]}\n"
     "  - level: Buffer\n"
     "    temporal: [K: 3]\n",
     true, false},
};

/* Loop j's index in combination c (nest order, loop 0 outermost). */
static uint64_t digit(const ef_nest *n, uint64_t c, int j) {
    for (int i = n->loop_count - 1; i > j; i--) c /= n->loops[i].factor;
    return c % n->loops[j].factor;
}

/* For rank r of combination c: 0 valid, else the kind of the outermost
 * loop whose index takes the prefix past the bound (+1). Only the
 * digits selected by `which` count (1 temporal, 2 spatial, 3 both). */
static int rank_state(const ef_nest *n, uint64_t c, int r, int which) {
    uint64_t v = 0, bound = n->workload->rank_bounds[r];
    for (int j = 0; j < n->loop_count; j++) {
        const ef_loop *lp = &n->loops[j];
        bool t = lp->kind == EF_LOOP_TEMPORAL;
        if (lp->rank != r || !(which & (t ? 1 : 2))) continue;
        v += digit(n, c, j) * lp->stride;
        if (v >= bound) return (int)lp->kind + 1;
    }
    return 0;
}

START_TEST(loss_cases) {
    const loss_case *lc = &cases[_i];
    ut_fx f;
    ut_init(&f);
    char *arch = ut_fmt(ARCH_FMT, lc->macs_per_cycle);
    const ef_nest *n = ut_build_ok(&f, arch, MATMUL, lc->mapping);
    const ef_result *r = ut_run(&f, true);
    /* brute force over every combination of every loop */
    uint64_t combos = 1;
    for (int j = 0; j < n->loop_count; j++) combos *= n->loops[j].factor;
    uint64_t steps = 0, active = 0, points = 0, temporal = 0, cells = 0;
    int ranks = n->workload->rank_count;
    for (uint64_t c = 0; c < combos; c++) {
        bool step = true, pe = true, all_t = true, zero_t = true, zero_x = true, valid = true;
        for (int j = 0; j < n->loop_count; j++) {
            if (!digit(n, c, j)) continue;
            if (n->loops[j].kind == EF_LOOP_TEMPORAL) zero_t = false;
            else zero_x = false;
        }
        for (int k = 0; k < ranks; k++) {
            step &= rank_state(n, c, k, 1) == 0;
            pe &= rank_state(n, c, k, 2) == 0;
            int s = rank_state(n, c, k, 3);
            valid &= s == 0;
            all_t &= s == 0 || s == EF_LOOP_TEMPORAL + 1;
        }
        steps += step && zero_x;
        active += pe && zero_t;
        if (!step || !pe) continue;
        cells++;
        points += valid;
        temporal += !valid && all_t;
    }
    ef_edge_counts e;
    ef_util_loss_edges(n, &e);
    ck_assert_msg(e.split, "%s: no split", lc->name);
    ck_assert_uint_eq(e.steps, steps);
    ck_assert_uint_eq(e.active_pes, active);
    ck_assert_uint_eq(e.points, points);
    ck_assert_uint_eq(e.temporal_idle, temporal);
    ck_assert_uint_eq(cells, steps * active);
    /* the engine's counters agree with the nest */
    ck_assert_uint_eq(r->steps, steps);
    ck_assert_uint_eq(n->active_pes, active);
    ck_assert_uint_eq(r->ops, points);
    ef_util_loss l;
    ef_util_loss_of(r, &l);
    ck_assert_uint_eq(l.peak_slots, r->cycles * 16 * (uint64_t)lc->macs_per_cycle);
    uint64_t sum = 0, edges = 0, fill = 0;
    for (int k = 0; k < l.step_count; k++) {
        sum += l.steps[k].slots;
        if (!strcmp(l.steps[k].cause, EF_LOSS_TEMPORAL_EDGE)) {
            ck_assert_uint_eq(l.steps[k].slots, temporal);
            edges += l.steps[k].slots;
        }
        if (!strcmp(l.steps[k].cause, EF_LOSS_SPATIAL_EDGE)) edges += l.steps[k].slots;
        if (!strcmp(l.steps[k].cause, EF_LOSS_UNUSED_PES))
            ck_assert_uint_eq(l.steps[k].slots, (16 - active) * steps);
        if (!strcmp(l.steps[k].cause, EF_LOSS_FILL)) fill = l.steps[k].slots;
    }
    ck_assert_msg(sum == l.peak_slots - r->ops, "%s: %llu slots lost, peak - ops %llu", lc->name,
                  (unsigned long long)sum, (unsigned long long)(l.peak_slots - r->ops));
    ck_assert_uint_eq(edges, steps * active - points);
    ck_assert_msg((edges > temporal) == lc->spatial && (temporal > 0) == lc->temporal,
                  "%s: spatial %llu, temporal %llu slots", lc->name,
                  (unsigned long long)(edges - temporal), (unsigned long long)temporal);
    /* the memory's latency holds the first step back */
    ck_assert_uint_ge(fill, 3 * 16 * (uint64_t)lc->macs_per_cycle);
    free(arch);
    ut_free(&f);
}
END_TEST

int main(void) {
    Suite *s = suite_create("util_loss");
    TCase *tc = tcase_create("cases");
    tcase_add_loop_test(tc, loss_cases, 0, (int)UT_LEN(cases));
    suite_add_tcase(s, tc);
    return ut_run_suite(s);
}
