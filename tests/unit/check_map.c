/* Unit tests of the map stage: the dataflow templates as loaded, the
 * analytical estimate against the hand-derived counts of the public
 * reference cases and against hand-derived bandwidth floors, and the
 * mapper's search — legal mappings inside each template's constraints,
 * the same result for the same seed, and the row-stationary folding of
 * Eyeriss (Chen et al., JSSC 2017). */
#include "einflow/map.h"
#include "unit_util.h"

/* ---------- built-in templates ---------- */

START_TEST(builtin_templates_load) {
    int n = 0;
    const char *const *names = ef_spec_builtin_dataflow_names(&n);
    const char *want[] = {"ws", "os", "is", "rs", "nlr", "free", "fused", "vector"};
    ck_assert_int_eq(n, (int)UT_LEN(want));
    for (int i = 0; i < n; i++) {
        ck_assert_str_eq(names[i], want[i]);
        ef_diags *d = ef_diags_create();
        ef_dataflow_spec *df = ef_spec_builtin_dataflow(names[i], d);
        ck_assert_msg(df != NULL, "%s does not load", names[i]);
        ck_assert_str_eq(df->name, names[i]);
        ck_assert_ptr_nonnull(df->description);
        ef_dataflow_spec_destroy(df);
        ef_diags_destroy(d);
    }
}
END_TEST

START_TEST(template_meaning) {
    ef_diags *d = ef_diags_create();
    ef_dataflow_spec *rs = ef_spec_builtin_dataflow("rs", d);
    ef_dataflow_spec *ws = ef_spec_builtin_dataflow("ws", d);
    ef_dataflow_spec *nlr = ef_spec_builtin_dataflow("nlr", d);
    ef_dataflow_spec *fr = ef_spec_builtin_dataflow("free", d);
    ck_assert(rs && ws && nlr && fr);
    /* rs: output-row strips, then the whole filter rows, then replicas */
    ck_assert_int_eq(rs->row_count, 3);
    ck_assert_int_eq(rs->rows[0].fill, EF_FILL_MAX);
    ck_assert_uint_eq(rs->rows[0].roles, ef_role_bit(EF_ROLE_OUT_PIXEL, 0));
    ck_assert_int_eq(rs->rows[1].fill, EF_FILL_WHOLE);
    ck_assert_uint_eq(rs->rows[1].roles, ef_role_bit(EF_ROLE_FILTER_TAP, 0));
    ck_assert_int_eq(rs->rows[2].fill, EF_FILL_ANY);
    ck_assert(rs->pe_keeps[EF_OPERAND_INPUT] && rs->pe_keeps[EF_OPERAND_WEIGHT] &&
              rs->pe_keeps[EF_OPERAND_OUTPUT]);
    /* the 1-D convolution over a filter row runs innermost */
    ck_assert_int_eq(rs->pe_innermost_count, 1);
    ck_assert_uint_eq(rs->pe_innermost[0], ef_role_bit(EF_ROLE_FILTER_TAP, 1));
    /* ws keeps only the weight in the PE and loops over what it ignores */
    ck_assert(!ws->pe_keeps[EF_OPERAND_INPUT] && ws->pe_keeps[EF_OPERAND_WEIGHT] &&
              !ws->pe_keeps[EF_OPERAND_OUTPUT]);
    ck_assert_uint_eq(ws->pe_temporal, ef_role_all_axes(EF_ROLE_BATCH) |
                                           ef_role_all_axes(EF_ROLE_OUT_PIXEL));
    /* nlr keeps nothing and loops nothing in the PE */
    ck_assert(!nlr->pe_keep_searched);
    for (int k = 0; k < EF_OPERAND_COUNT; k++) ck_assert(!nlr->pe_keeps[k]);
    ck_assert_uint_eq(nlr->pe_temporal, 0);
    /* free: keep/bypass searched, any rank anywhere */
    ck_assert(fr->pe_keep_searched);
    ck_assert_uint_eq(fr->rows[0].roles, EF_ROLE_ANY);
    ef_dataflow_spec_destroy(rs);
    ef_dataflow_spec_destroy(ws);
    ef_dataflow_spec_destroy(nlr);
    ef_dataflow_spec_destroy(fr);
    ef_diags_destroy(d);
}
END_TEST

START_TEST(unknown_builtin_suggests) {
    ef_diags *d = ef_diags_create();
    ck_assert_ptr_null(ef_spec_builtin_dataflow("rss", d));
    ck_assert_int_eq((int)d->count, 1);
    ck_assert_ptr_nonnull(strstr(d->items[0].message, "unknown dataflow \"rss\""));
    ck_assert_str_eq(d->items[0].hint, "did you mean \"rs\"?");
    ef_diags_destroy(d);
}
END_TEST

/* ---------- the estimate ---------- */

/* Reference cases 2-4 (shared/reference/README.md, Timeloop's
 * exercises): the estimate's counts equal the published tables, since
 * these nests have no window that slides back and no multicast. */
typedef struct {
    const char *workload, *mapping;
    /* MainMemory then Buffer; W, I, O: reads fills updates */
    double mm[3][3], buf[3][3];
    double cycles;
} est_case;

#define EX2_WORKLOAD \
    "name: ex2\neinsums: [\"O[k,p] += I[p+r] * W[k,r]\"]\nranks: {K: 32, P: 16, R: 3}\n"

static const est_case est_cases[] = {
    {UT_CONV1D, UT_MAP_TEACH2_WS,
     {{3, 0, 0}, {18, 0, 0}, {0, 0, 16}}, {{48, 3, 0}, {48, 18, 0}, {32, 0, 48}}, 48},
    {UT_CONV1D,
     "mapping:\n  - level: MainMemory\n    temporal: [P: 16]\n"
     "  - level: Buffer\n    temporal: [R: 3]\n",
     {{3, 0, 0}, {18, 0, 0}, {0, 0, 16}}, {{48, 3, 0}, {48, 18, 0}, {32, 0, 48}}, 48},
    {EX2_WORKLOAD,
     "mapping:\n  - level: MainMemory\n    temporal: [K: 16, P: 16]\n"
     "  - level: Buffer\n    temporal: [K: 2, R: 3]\n",
     {{96, 0, 0}, {288, 0, 0}, {0, 0, 512}}, {{1536, 96, 0}, {1536, 288, 0}, {1024, 0, 1536}},
     1536},
};

START_TEST(estimate_reference_counts) {
    const est_case *c = &est_cases[_i];
    ut_fx f;
    ut_init(&f);
    ef_nest *n = ut_build_ok(&f, UT_ARCH_TEACH2, c->workload, c->mapping);
    ef_map_estimate e;
    ef_map_estimate_nest(n, &e);
    const char *t[3] = {"W", "I", "O"};
    for (int k = 0; k < 3; k++) {
        int o = ut_op(n, t[k]);
        int mm = ut_level(n, "MainMemory"), b = ut_level(n, "Buffer");
        ck_assert_msg(e.reads[mm][o] == c->mm[k][0], "MainMemory %s reads %g", t[k], e.reads[mm][o]);
        ck_assert_msg(e.updates[mm][o] == c->mm[k][2], "MainMemory %s updates %g", t[k],
                      e.updates[mm][o]);
        ck_assert_msg(e.reads[b][o] == c->buf[k][0], "Buffer %s reads %g", t[k], e.reads[b][o]);
        ck_assert_msg(e.fills[b][o] == c->buf[k][1], "Buffer %s fills %g", t[k], e.fills[b][o]);
        ck_assert_msg(e.updates[b][o] == c->buf[k][2], "Buffer %s updates %g", t[k],
                      e.updates[b][o]);
    }
    ck_assert_msg(e.cycles == c->cycles, "cycles %g", e.cycles);
    ck_assert_uint_eq(e.steps, (uint64_t)c->cycles);
    ut_free(&f);
}
END_TEST

/* Imperfect factors: P = 16 as [P: 2] outside [P: 9] runs tiles of 9
 * and 7, so 16 steps, not 18; P = 7 as [P: 4] outside [P: 2] runs
 * 2+2+2+1. */
START_TEST(estimate_imperfect_steps) {
    const char *maps[] = {
        "mapping:\n  - level: MainMemory\n    temporal: [R: 3, P: 2]\n"
        "  - level: Buffer\n    temporal: [P: 9]\n",
        "mapping:\n  - level: MainMemory\n    temporal: [P: 4, R: 3]\n"
        "  - level: Buffer\n    temporal: [P: 2]\n",
    };
    const char *wls[] = {UT_CONV1D, "name: c\neinsums: [\"O[p] += I[p+r] * W[r]\"]\n"
                                    "ranks: {P: 7, R: 3}\n"};
    uint64_t want[] = {48, 21};
    for (int i = 0; i < 2; i++) {
        ut_fx f;
        ut_init(&f);
        ef_nest *n = ut_build_ok(&f, UT_ARCH_TEACH2, wls[i], maps[i]);
        ef_map_estimate e;
        ef_map_estimate_nest(n, &e);
        ck_assert_uint_eq(e.steps, want[i]);
        ut_run(&f, false);
        ck_assert_uint_eq(f.res->compute_cycles, want[i]);
        ut_free(&f);
    }
}
END_TEST

/* The estimate's cycles are never below the cycles the busiest port or
 * link needs for its bytes (model/timing.h), here in cases whose floor
 * follows from one operand alone.
 *
 * decode_gemv: one decode step's attention scores, 16-bit. K bypasses
 * the GLB and the RF, so every K word comes from DRAM: 32 x 2048 x 128
 * words x 2 B = 16,777,216 B at 16 B/cycle = 1,048,576 cycles, eight
 * times the 131,072 steps. decode_gemv_edge_tiles: the same K traffic
 * under loops over H that cover 2 x 4 x 5 = 40 > 32 heads (edge tiles
 * of imperfect factors); the floor does not change.
 *
 * streamed_multicast: O[n,m] += I[n,c] * F[m,c] on 4x4 PEs (rows M,
 * cols C), 16-bit, with a NoC of 8 B/cycle. F stays in the GLB, so at
 * each of the 16 x 16 x 16 = 4096 steps every PE takes an F word of its
 * own: 16 words x 2 B / 8 B = 4 cycles a step, 16,384 cycles.
 *
 * streamed_unicast: the same nest keeping F in the RF and streaming I,
 * which varies along the columns only: multicast would read 4 words a
 * step (4096 cycles, no more than the steps), but a unicast NoC
 * delivers each PE's copy on its own: 16 x 2 B / 8 B x 4096 = 16,384. */
#define FLOOR_ARCH_EDGE \
    "name: edge\npe_array: {rows: 8, cols: 8}\nlevels:\n" \
    "  - {name: DRAM, kind: dram, read_bandwidth: 16, write_bandwidth: 16}\n" \
    "  - {name: GLB, kind: sram, capacity: 64 KiB, bandwidth: 64}\n" \
    "  - {name: RF, kind: regfile, per_pe: true, capacity: 64 B}\n" \
    "noc:\n  - {from: GLB, to: RF, topology: multicast, bandwidth: 64, reduction: true}\n"
#define FLOOR_ARCH_4X4(topology) \
    "name: small\npe_array: {rows: 4, cols: 4}\nlevels:\n" \
    "  - {name: GLB, kind: sram}\n" \
    "  - {name: RF, kind: regfile, per_pe: true, capacity: 128 B}\n" \
    "noc:\n  - {from: GLB, to: RF, topology: " topology ", bandwidth: 8, reduction: true}\n"
#define FLOOR_DECODE \
    "name: decode\neinsums: [\"QK[h,m,p] += Q[h,p,e] * K[h,m,e]\"]\n" \
    "ranks: {H: 32, M: 2048, P: 1, E: 128}\ndefault_precision: 16\n"
#define FLOOR_GEMM \
    "name: gemm\neinsums: [\"O[n,m] += I[n,c] * F[m,c]\"]\n" \
    "ranks: {N: 16, M: 64, C: 64}\ndefault_precision: 16\n"
#define FLOOR_GEMM_MAP(rf_keep) \
    "mapping:\n  - level: GLB\n    temporal: [M: 16, C: 16]\n" \
    "    spatial: {rows: [M: 4], cols: [C: 4]}\n" \
    "  - level: RF\n    keep: [" rf_keep "]\n    temporal: [N: 16]\n"

typedef struct {
    const char *name, *arch, *workload, *mapping;
    double floor_cycles;          /* derived above                      */
} floor_case;

static const floor_case floor_cases[] = {
    {"decode_gemv", FLOOR_ARCH_EDGE, FLOOR_DECODE,
     "mapping:\n  - level: DRAM\n    temporal: [H: 32]\n"
     "  - level: GLB\n    keep: [Q, QK]\n    temporal: [M: 32]\n"
     "    spatial: {rows: [M: 8], cols: [M: 8]}\n"
     "  - level: RF\n    keep: [QK]\n    temporal: [E: 128]\n",
     1048576},
    {"decode_gemv_edge_tiles", FLOOR_ARCH_EDGE, FLOOR_DECODE,
     "mapping:\n  - level: DRAM\n    temporal: [M: 16]\n"
     "  - level: GLB\n    keep: [Q, QK]\n    temporal: [M: 16, H: 4, E: 2]\n"
     "    spatial: {rows: [M: 8], cols: [H: 2]}\n"
     "  - level: RF\n    keep: [QK]\n    temporal: [H: 5, E: 64]\n",
     1048576},
    {"streamed_multicast", FLOOR_ARCH_4X4("multicast"), FLOOR_GEMM, FLOOR_GEMM_MAP("I, O"), 16384},
    {"streamed_unicast", FLOOR_ARCH_4X4("unicast"), FLOOR_GEMM, FLOOR_GEMM_MAP("F, O"), 16384},
};

START_TEST(estimate_bandwidth_floor) {
    const floor_case *c = &floor_cases[_i];
    ut_fx f;
    ut_init(&f);
    ef_nest *n = ut_build_ok(&f, c->arch, c->workload, c->mapping);
    ef_map_estimate e;
    ef_map_estimate_nest(n, &e);
    ck_assert_msg(e.cycles >= c->floor_cycles, "%s: estimate %g cycles, below the floor %g", c->name,
                  e.cycles, c->floor_cycles);
    ut_free(&f);
}
END_TEST

/* ---------- the mapper ---------- */

#define EYERISS EF_SOURCE_DIR "/configs/eyeriss_like.yaml"

typedef struct {
    ef_diags *d;
    ef_arch_spec *arch;
    ef_workload_spec *ws;
    ef_workload *w;
    ef_dataflow_spec *df;
    ef_map_result r;
    char *wpath;
} mapped;

static ef_status map_once(mapped *m, const char *arch, const char *workload_yaml,
                          const char *dataflow, uint64_t seed, uint64_t evaluations,
                          int confirm) {
    memset(m, 0, sizeof *m);
    m->d = ef_diags_create();
    m->arch = ef_spec_load_arch(arch, m->d);
    m->wpath = ut_write_temp(workload_yaml);
    m->ws = ef_spec_load_workload(m->wpath, m->d);
    ck_assert(m->arch && m->ws);
    m->w = ef_einsum_build(m->ws, m->d);
    ck_assert_ptr_nonnull(m->w);
    m->df = ef_spec_builtin_dataflow(dataflow, m->d);
    ck_assert_ptr_nonnull(m->df);
    ef_map_options opt = {.dataflow = m->df, .objective = EF_OBJECTIVE_EDP, .seed = seed,
                          .evaluations = evaluations, .confirm = confirm,
                          .sim = {.engine = EF_ENGINE_EVENT}};
    return ef_map_search(m->arch, m->w, 0, &opt, &m->r, m->d);
}

static void map_free(mapped *m) {
    ef_map_result_clear(&m->r);
    ef_dataflow_spec_destroy(m->df);
    ef_workload_destroy(m->w);
    ef_workload_spec_destroy(m->ws);
    ef_arch_spec_destroy(m->arch);
    ef_diags_destroy(m->d);
    unlink(m->wpath);
    free(m->wpath);
}

/* The mapper never spreads a recurrence's rank over the PEs (its steps
 * run one after another): on an array without capacities, where any
 * other candidate is legal, every candidate it draws is, with every
 * template, and the M of RD[h,m+1,p] stays in time. */
START_TEST(mapper_recurrence_rank_temporal) {
    static const char *const dfs[] = {"ws", "os", "is", "rs", "nlr", "free"};
    char *arch = ut_write_temp("name: open\npe_array: {rows: 4, cols: 4}\nlevels:\n"
                               "  - {name: DRAM, kind: dram}\n  - {name: GLB, kind: sram}\n"
                               "  - {name: RF, kind: regfile, per_pe: true}\n"
                               "noc:\n  - {from: GLB, to: RF, reduction: true}\n");
    const char *wl = "name: r\neinsums: [\"RD[h,m+1,p] = S[h,m,p] + RD[h,m,p] * C[h,m,p]\"]\n"
                     "ranks: {H: 2, M: 8, P: 8}\n";
    for (size_t i = 0; i < UT_LEN(dfs); i++) {
        mapped m;
        ck_assert_int_eq(map_once(&m, arch, wl, dfs[i], 5, 600, 1), EF_OK);
        ck_assert_msg(m.r.legal == m.r.considered, "%s: %llu of %llu candidates legal", dfs[i],
                      (unsigned long long)m.r.legal, (unsigned long long)m.r.considered);
        const ef_nest *n = m.r.nest;
        for (int j = 0; j < n->loop_count; j++)
            ck_assert(n->loops[j].kind == EF_LOOP_TEMPORAL ||
                      n->loops[j].rank != n->einsum->recurrence_rank);
        map_free(&m);
    }
    unlink(arch);
    free(arch);
}
END_TEST

/* A small conv layer that fits the Eyeriss-like scratchpads in many
 * ways: 8 output and 8 input channels, 6x6 outputs, 3x3 filters. */
#define SMALL_CONV                                                      \
    "name: small\neinsums: [\"O[n,m,p,q] += I[n,c,p+r,q+s] * F[m,c,r,s]\"]\n" \
    "ranks: {N: 1, M: 8, C: 8, P: 6, Q: 6, R: 3, S: 3}\ndefault_precision: 16\n"

static bool rank_has_role(const ef_nest *n, int rank, uint32_t roles) {
    uint32_t bits[EF_MAX_RANKS];
    ef_einsum_rank_roles(n->workload, n->einsum, bits);
    return (bits[rank] & roles) != 0;
}

/* Whatever the mapper returns obeys the template it was given: spatial
 * ranks from the slots' roles, per-PE keeps and per-PE loop ranks. */
START_TEST(mapper_honours_templates) {
    const char *names[] = {"ws", "os", "is", "rs", "nlr"};
    mapped m;
    ck_assert_int_eq(map_once(&m, EYERISS, SMALL_CONV, names[_i], 3, 1500, 1), EF_OK);
    const ef_nest *n = m.r.nest;
    const ef_dataflow_spec *df = m.df;
    ck_assert_ptr_nonnull(n);
    ck_assert_uint_gt(m.r.legal, 0);
    ck_assert_uint_le(m.r.legal, m.r.considered);
    ck_assert_uint_ge(m.r.confirmed, 1);
    uint32_t rows = 0, cols = 0;
    for (int i = 0; i < df->row_count; i++) rows |= df->rows[i].roles;
    for (int i = 0; i < df->col_count; i++) cols |= df->cols[i].roles;
    for (int j = 0; j < n->loop_count; j++) {
        const ef_loop *lp = &n->loops[j];
        if (lp->kind == EF_LOOP_ROWS) ck_assert(rank_has_role(n, lp->rank, rows));
        if (lp->kind == EF_LOOP_COLS) ck_assert(rank_has_role(n, lp->rank, cols));
        if (lp->kind == EF_LOOP_TEMPORAL && n->arch->levels[lp->level].per_pe)
            ck_assert_msg(rank_has_role(n, lp->rank, df->pe_temporal),
                          "%s: rank %s loops in the PE", names[_i],
                          n->workload->rank_names[lp->rank]);
    }
    /* pe.innermost: once a loop of a listed role appears inside the PE,
     * only loops of that role or of later-listed ones follow */
    for (int l = n->first_pe_level; l < n->level_count; l++) {
        int stage = -1;
        for (int j = n->levels[l].loop_begin; j < n->levels[l].loop_end; j++) {
            uint32_t bits[EF_MAX_RANKS];
            ef_einsum_rank_roles(n->workload, n->einsum, bits);
            int here = -1;
            for (int q = 0; q < df->pe_innermost_count; q++)
                if (bits[n->loops[j].rank] & df->pe_innermost[q]) here = q;
            ck_assert_msg(here >= stage, "%s: rank %s loops outside an innermost one", names[_i],
                          n->workload->rank_names[n->loops[j].rank]);
            if (here >= 0) stage = here;
        }
    }
    int rf = n->first_pe_level;
    ck_assert_int_eq(n->levels[rf].keeps[0], df->pe_keeps[EF_OPERAND_INPUT]);
    ck_assert_int_eq(n->levels[rf].keeps[1], df->pe_keeps[EF_OPERAND_WEIGHT]);
    ck_assert_int_eq(n->levels[rf].keeps[n->out_op], df->pe_keeps[EF_OPERAND_OUTPUT]);
    ck_assert_uint_eq(m.r.result->ops, 8 * 8 * 6 * 6 * 9);
    map_free(&m);
}
END_TEST

/* The filter written first: the template's weight is still the filter
 * (the operand not read through a window), so weight stationary keeps
 * operand 0 in the PE and streams operand 1, the input. */
START_TEST(weight_found_by_window) {
    mapped m;
    ck_assert_int_eq(map_once(&m, EYERISS,
                              "name: small\neinsums: [\"O[n,m,p,q] += F[m,c,r,s] * I[n,c,p+r,q+s]\"]\n"
                              "ranks: {N: 1, M: 8, C: 8, P: 6, Q: 6, R: 3, S: 3}\n"
                              "default_precision: 16\n",
                              "ws", 3, 1500, 1),
                     EF_OK);
    const ef_nest *n = m.r.nest;
    ck_assert_ptr_nonnull(n);
    int rf = n->first_pe_level;
    ck_assert(n->levels[rf].keeps[0]);
    ck_assert(!n->levels[rf].keeps[1]);
    ck_assert(!n->levels[rf].keeps[n->out_op]);
    map_free(&m);
}
END_TEST

/* The same seed gives the same mapping; the search is a pure function
 * of its inputs. */
START_TEST(mapper_deterministic) {
    mapped a, b;
    ck_assert_int_eq(map_once(&a, EYERISS, SMALL_CONV, "free", 11, 800, 1), EF_OK);
    ck_assert_int_eq(map_once(&b, EYERISS, SMALL_CONV, "free", 11, 800, 1), EF_OK);
    ck_assert_uint_eq(a.r.considered, b.r.considered);
    ck_assert_uint_eq(a.r.legal, b.r.legal);
    ck_assert_uint_eq(a.r.result->cycles, b.r.result->cycles);
    const ef_einsum_mapping_spec *x = a.r.mapping, *y = b.r.mapping;
    ck_assert_int_eq(x->level_count, y->level_count);
    for (int l = 0; l < x->level_count; l++) {
        const ef_level_mapping_spec *p = &x->levels[l], *q = &y->levels[l];
        ck_assert_int_eq(p->temporal_count, q->temporal_count);
        ck_assert_int_eq(p->row_count, q->row_count);
        ck_assert_int_eq(p->col_count, q->col_count);
        ck_assert_int_eq(p->keep_count, q->keep_count);
        for (int i = 0; i < p->temporal_count; i++) {
            ck_assert_str_eq(p->temporal[i].rank, q->temporal[i].rank);
            ck_assert_uint_eq(p->temporal[i].factor, q->temporal[i].factor);
        }
        for (int i = 0; i < p->row_count; i++)
            ck_assert_uint_eq(p->rows[i].factor, q->rows[i].factor);
        for (int i = 0; i < p->col_count; i++)
            ck_assert_uint_eq(p->cols[i].factor, q->cols[i].factor);
        for (int i = 0; i < p->keep_count; i++) ck_assert_str_eq(p->keep[i], q->keep[i]);
    }
    map_free(&a);
    map_free(&b);
}
END_TEST

/* The engine's measure of a search's winner under objective o. */
static double measured(const mapped *m, ef_objective o) {
    return ef_map_objective_value(o, (double)m->r.result->cycles, m->r.stats.energy_pj);
}

/* More evaluations never find worse (same seed): a longer search draws
 * the shorter one's candidates first and confirms all its records. Over
 * every template, on the Eyeriss-like array. */
START_TEST(mapper_monotone_in_evaluations) {
    const char *names[] = {"ws", "os", "is", "rs", "nlr", "free"};
    static const uint64_t budgets[] = {300, 1200, 5000};
    double last = INFINITY;
    for (size_t b = 0; b < UT_LEN(budgets); b++) {
        mapped m;
        ck_assert_int_eq(map_once(&m, EYERISS, SMALL_CONV, names[_i], 7, budgets[b], 1), EF_OK);
        double v = measured(&m, EF_OBJECTIVE_EDP);
        ck_assert_msg(v <= last, "%s: %llu evaluations measure %.6g, worse than %.6g with fewer",
                      names[_i], (unsigned long long)budgets[b], v, last);
        last = v;
        map_free(&m);
    }
}
END_TEST

/* An objective's winner is never worse on its own measure than the
 * default objective's winner: `energy` finds no more energy, `latency`
 * no more cycles, than `edp`. */
START_TEST(mapper_objective_no_worse_than_default) {
    const char *names[] = {"ws", "os", "rs", "free"};
    for (int o = EF_OBJECTIVE_LATENCY; o <= EF_OBJECTIVE_ENERGY; o++) {
        mapped def, own;
        ck_assert_int_eq(map_once(&def, EYERISS, SMALL_CONV, names[_i], 5, 3000, 1), EF_OK);
        memset(&own, 0, sizeof own);
        own.d = ef_diags_create();
        own.arch = ef_spec_load_arch(EYERISS, own.d);
        own.wpath = ut_write_temp(SMALL_CONV);
        own.ws = ef_spec_load_workload(own.wpath, own.d);
        own.w = ef_einsum_build(own.ws, own.d);
        own.df = ef_spec_builtin_dataflow(names[_i], own.d);
        ef_map_options opt = {.dataflow = own.df, .objective = (ef_objective)o, .seed = 5,
                              .evaluations = 3000, .confirm = 1,
                              .sim = {.engine = EF_ENGINE_EVENT}};
        ck_assert_int_eq(ef_map_search(own.arch, own.w, 0, &opt, &own.r, own.d), EF_OK);
        ck_assert_msg(measured(&own, (ef_objective)o) <= measured(&def, (ef_objective)o),
                      "%s: objective %s measures %.6g, the edp winner %.6g", names[_i],
                      ef_objective_name((ef_objective)o), measured(&own, (ef_objective)o),
                      measured(&def, (ef_objective)o));
        map_free(&def);
        map_free(&own);
    }
}
END_TEST

/* A space smaller than the budget: a 1-D convolution on one buffer has
 * only a handful of mappings; the search stops when it runs dry and
 * still finds the one with no wasted cycle. */
START_TEST(mapper_small_space) {
    mapped m;
    char *arch = ut_write_temp(UT_ARCH_TEACH2);
    ck_assert_int_eq(map_once(&m, arch, UT_CONV1D, "free", 1, 100000, 1), EF_OK);
    ck_assert_uint_lt(m.r.considered, 100000);
    ck_assert_uint_eq(m.r.result->cycles, 48);
    map_free(&m);
    unlink(arch);
    free(arch);
}
END_TEST

/* Row stationary folds the logical PE set (filter rows x output rows)
 * onto the 12 x 14 array as the Eyeriss chip does, which gives the
 * active PE counts of Chen et al., JSSC 2017, Table V, for AlexNet's
 * CONV1-CONV5 at batch 4: 154, 135, 156, 156, 156 of 168. Worked out:
 * CONV1 R=11 rows x 14 of 55 output rows = 154 (one strip fits);
 * CONV2 R=5, E=27 folds into strips of 14 and 13 stacked on 10 rows:
 * 5x14 + 5x13 = 135; CONV3-5 R=3, E=13: one strip of 3 x 13, replicated
 * 4 times down the 12 rows = 156. The layers are the bundled
 * workloads/alexnet.yaml. Which PEs work is the nest's business, so the
 * best estimate is checked without an engine run. */
static const uint64_t jssc_active_pes[] = {154, 135, 156, 156, 156};

START_TEST(rs_folds_like_eyeriss) {
    ef_diags *d = ef_diags_create();
    ef_arch_spec *arch = ef_spec_load_arch(EYERISS, d);
    ef_network_spec *net = ef_spec_load_network(EF_SOURCE_DIR "/workloads/alexnet.yaml", 4, d);
    ef_dataflow_spec *rs = ef_spec_builtin_dataflow("rs", d);
    ck_assert(arch && net && rs);
    char name[16];
    snprintf(name, sizeof name, "conv%d", _i + 1);
    const ef_workload_spec *ws = NULL;
    for (int i = 0; i < net->layer_count; i++)
        if (!strcmp(net->layers[i].workload->name, name)) ws = net->layers[i].workload;
    ck_assert_msg(ws != NULL, "alexnet.yaml has no layer %s", name);
    ef_workload *w = ef_einsum_build(ws, d);
    ck_assert_ptr_nonnull(w);
    ef_map_options opt = {.dataflow = rs, .objective = EF_OBJECTIVE_EDP, .seed = 1,
                          .evaluations = 600, .confirm = 0};
    ef_map_result r;
    ck_assert_int_eq(ef_map_search(arch, w, 0, &opt, &r, d), EF_OK);
    ck_assert_msg(r.nest->active_pes == jssc_active_pes[_i], "%s: %llu active PEs", name,
                  (unsigned long long)r.nest->active_pes);
    ef_map_result_clear(&r);
    ef_workload_destroy(w);
    ef_dataflow_spec_destroy(rs);
    ef_network_spec_destroy(net);
    ef_arch_spec_destroy(arch);
    ef_diags_destroy(d);
}
END_TEST

static Suite *map_suite(void) {
    Suite *s = suite_create("map");
    TCase *tt = tcase_create("templates");
    tcase_add_test(tt, builtin_templates_load);
    tcase_add_test(tt, template_meaning);
    tcase_add_test(tt, unknown_builtin_suggests);
    suite_add_tcase(s, tt);
    TCase *te = tcase_create("estimate");
    tcase_add_loop_test(te, estimate_reference_counts, 0, (int)UT_LEN(est_cases));
    tcase_add_test(te, estimate_imperfect_steps);
    tcase_add_loop_test(te, estimate_bandwidth_floor, 0, (int)UT_LEN(floor_cases));
    suite_add_tcase(s, te);
    TCase *tm = tcase_create("mapper");
    tcase_set_timeout(tm, 300);
    tcase_add_loop_test(tm, mapper_honours_templates, 0, 5);
    tcase_add_test(tm, weight_found_by_window);
    tcase_add_test(tm, mapper_deterministic);
    tcase_add_loop_test(tm, mapper_monotone_in_evaluations, 0, 6);
    tcase_add_loop_test(tm, mapper_objective_no_worse_than_default, 0, 4);
    tcase_add_test(tm, mapper_small_space);
    tcase_add_test(tm, mapper_recurrence_rank_temporal);
    tcase_add_loop_test(tm, rs_folds_like_eyeriss, 0, (int)UT_LEN(jssc_active_pes));
    suite_add_tcase(s, tm);
    return s;
}

int main(void) {
    return ut_run_suite(map_suite());
}
