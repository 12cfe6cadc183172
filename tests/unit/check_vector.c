/* Unit tests of the vector unit: the architecture key vector_unit and
 * the mapping key unit (spec stage, exact diagnostics), the view a
 * vector Einsum's nest is built on and the time a lane spends per
 * point (model stage, model/vector.c), and the operators' energies
 * (stats stage), each derived by hand from docs/model.md ("The vector
 * unit") and docs/energy.md ("Operators"). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "einflow/stats.h"
#include "model/vector.h"
#include "unit/unit_util.h"

/* ---------- helpers ---------- */

static void near(double got, double want, const char *what) {
    ck_assert_msg(fabs(got - want) <= 1e-9 * (fabs(want) > 1 ? fabs(want) : 1),
                  "%s: got %.17g, want %.17g", what, got, want);
}

/* The first rendered line of d with the file name `file` replaced by
 * "F", and the first diagnostic's hint (or ""). Caller frees the line. */
static char *first_line(const ef_diags *d, const char *file) {
    char *all = ef_diags_render(d);
    ck_assert_ptr_nonnull(all);
    size_t n = strcspn(all, "\n");
    all[n] = '\0';
    size_t fl = file ? strlen(file) : 0;
    char *out = ut_fmt("%s%s", fl && strncmp(all, file, fl) == 0 ? "F" : "",
                       fl && strncmp(all, file, fl) == 0 ? all + fl : all);
    free(all);
    return out;
}

static void expect_diag(const ef_diags *d, const char *file, const char *line,
                        const char *hint) {
    ck_assert_msg(d->count > 0, "expected the diagnostic %s, got none", line);
    char *got = first_line(d, file);
    ck_assert_msg(strcmp(got, line) == 0, "diagnostic\n  got:  %s\n  want: %s", got, line);
    free(got);
    const char *h = d->items[0].hint ? d->items[0].hint : "";
    ck_assert_msg(strcmp(h, hint ? hint : "") == 0, "hint\n  got:  %s\n  want: %s", h,
                  hint ? hint : "");
}

/* Horowitz (ISSCC 2014) 45 nm points; 16 bits is the geometric middle
 * of the integer points 8 and 32, so its figures are geometric means. */
#define INT_ADD16 0.054772255750516611 /* sqrt(0.03 x 0.1) */
#define INT_MUL16 0.78740078740118113  /* sqrt(0.2 x 3.1)  */
#define FP_ADD16 0.4
#define FP_MUL16 1.1

/* ---------- architectures, workloads, mappings ---------- */

#define LEVELS3                                                          \
    "levels:\n"                                                          \
    "  - {name: DRAM, kind: dram}\n"                                     \
    "  - {name: GLB, kind: sram, capacity: 64 KiB}\n"                    \
    "  - {name: RF, kind: regfile, per_pe: true, capacity: 64 B}\n"

#define ARCH_V                                                           \
    "name: v\n"                                                          \
    "pe_array: {rows: 2, cols: 2}\n" LEVELS3                             \
    "vector_unit: {from: GLB, lanes: 4, bandwidth: 8}\n"

/* The softmax Einsums of workloads/attention.yaml. */
#define SOFTMAX                                                          \
    "name: softmax\n"                                                    \
    "einsums:\n"                                                         \
    "  - \"MX[h,p] max= QK[h,m,p]\"\n"                                   \
    "  - \"SN[h,m,p] = exp(QK[h,m,p] - MX[h,p])\"\n"                     \
    "  - \"SD[h,p] += SN[h,m,p]\"\n"                                     \
    "  - \"A[h,m,p] = SN[h,m,p] / SD[h,p]\"\n"                           \
    "ranks: {H: 2, M: 16, P: 16}\n"                                      \
    "default_precision: 16\n"

/* One lane per query p; m loops in time (a reduction over m stays in
 * its lane). */
#define VMAP(out)                                                        \
    "  - einsum: " out "\n"                                              \
    "    unit: vector\n"                                                 \
    "    mapping:\n"                                                     \
    "      - {level: DRAM, temporal: [H: 2]}\n"                          \
    "      - {level: GLB, temporal: [P: 4, M: 16], spatial: {cols: [P: 4]}}\n"
#define SOFTMAX_MAP "mappings:\n" VMAP("MX") VMAP("SN") VMAP("SD") VMAP("A")

/* The nest of Einsum e of f's workload (f built by ut_build_ok). */
static ef_nest *nest_of(ut_fx *f, int e) {
    ef_nest *n = ef_nest_build(f->arch, f->w, f->mspec, e, f->diags);
    if (!n) {
        char *s = ut_render(f);
        ck_abort_msg("Einsum %d should build, got:\n%s", e, s);
        free(s);
    }
    return n;
}

/* ---------- spec: values ---------- */

START_TEST(spec_values) {
    ut_fx f;
    ut_init(&f);
    f.arch_path = ut_write_temp("name: v\npe: {arithmetic: float}\n" LEVELS3
                                "vector_unit:\n"
                                "  name: SFU\n"
                                "  from: GLB\n"
                                "  lanes: 256\n"
                                "  bandwidth: 512\n"
                                "  ops:\n"
                                "    div: {interval: 4, latency: 8, energy: 2.5}\n"
                                "    exp: {latency: 0}\n");
    f.arch = ef_spec_load_arch(f.arch_path, f.diags);
    ck_assert_ptr_nonnull(f.arch);
    const ef_vector_unit_spec *vu = &f.arch->vector_unit;
    ck_assert(vu->present);
    ck_assert_str_eq(vu->name, "SFU");
    ck_assert_str_eq(vu->from, "GLB");
    ck_assert_int_eq(vu->from_level, 1);
    ck_assert_int_eq(vu->lanes, 256);
    near(vu->bandwidth_bytes, 512, "bandwidth");
    ck_assert_int_eq(vu->arithmetic, EF_ARITH_FLOAT); /* the PEs' */
    ck_assert_uint_eq(vu->ops[EF_VOP_DIV].interval_cycles, 4);
    ck_assert(vu->ops[EF_VOP_DIV].latency_given);
    ck_assert_uint_eq(vu->ops[EF_VOP_DIV].latency_cycles, 8);
    near(vu->ops[EF_VOP_DIV].energy_pj, 2.5, "div energy");
    ck_assert_int_eq(vu->ops[EF_VOP_DIV].loc.line, 13);
    ck_assert(vu->ops[EF_VOP_EXP].latency_given); /* a given 0 is given */
    ck_assert_uint_eq(vu->ops[EF_VOP_EXP].latency_cycles, 0);
    ck_assert_uint_eq(vu->ops[EF_VOP_EXP].interval_cycles, 1);
    for (int k = 0; k < EF_VOP_COUNT; k++) {
        if (k == EF_VOP_DIV || k == EF_VOP_EXP) continue;
        ck_assert_uint_eq(vu->ops[k].interval_cycles, 1);
        ck_assert(!vu->ops[k].latency_given);
        ck_assert(vu->ops[k].energy_pj < 0);
    }
    ck_assert_str_eq(ef_vector_op_name(EF_VOP_MAX), "max");
    ck_assert_str_eq(ef_unit_name(EF_UNIT_VECTOR), "vector");
    ut_free(&f);
}
END_TEST

START_TEST(spec_defaults_and_absent) {
    ut_fx f;
    ut_init(&f);
    f.arch_path = ut_write_temp("name: v\n" LEVELS3
                                "vector_unit: {from: DRAM, lanes: 8, arithmetic: float}\n");
    f.arch = ef_spec_load_arch(f.arch_path, f.diags);
    ck_assert_ptr_nonnull(f.arch);
    const ef_vector_unit_spec *vu = &f.arch->vector_unit;
    ck_assert_str_eq(vu->name, "VU");
    ck_assert_int_eq(vu->from_level, 0);
    near(vu->bandwidth_bytes, 0, "unlimited");
    ck_assert_int_eq(vu->arithmetic, EF_ARITH_FLOAT);
    ck_assert_int_eq(f.arch->arithmetic, EF_ARITH_INT);
    ut_free(&f);

    ut_init(&f);
    f.arch_path = ut_write_temp("name: v\n" LEVELS3);
    f.arch = ef_spec_load_arch(f.arch_path, f.diags);
    ck_assert_ptr_nonnull(f.arch);
    ck_assert(!f.arch->vector_unit.present);
    ut_free(&f);
}
END_TEST

START_TEST(spec_mapping_unit) {
    ut_fx f;
    ut_init(&f);
    f.mapping_path = ut_write_temp("unit: vector\nmapping:\n  - {level: GLB}\n");
    f.mspec = ef_spec_load_mapping(f.mapping_path, f.diags);
    ck_assert_ptr_nonnull(f.mspec);
    ck_assert_int_eq(f.mspec->mappings[0].unit, EF_UNIT_VECTOR);
    ck_assert_int_eq(f.mspec->mappings[0].unit_loc.line, 1);
    ut_free(&f);

    ut_init(&f);
    f.mapping_path = ut_write_temp(SOFTMAX_MAP "  - einsum: QK\n    mapping: [{level: GLB}]\n");
    f.mspec = ef_spec_load_mapping(f.mapping_path, f.diags);
    ck_assert_ptr_nonnull(f.mspec);
    ck_assert_int_eq(f.mspec->mappings[1].unit, EF_UNIT_VECTOR);
    ck_assert_int_eq(f.mspec->mappings[1].unit_loc.line, 8);
    ck_assert_int_eq(f.mspec->mappings[4].unit, EF_UNIT_ARRAY); /* the default */
    ck_assert_int_eq(f.mspec->mappings[4].unit_loc.line, 0);
    ut_free(&f);
}
END_TEST

/* ---------- spec: exact diagnostics ---------- */

static const struct {
    char kind; /* 'a' architecture, 'm' mapping */
    const char *yaml;
    const char *line; /* first rendered line, file name as F */
    const char *hint;
} bad_spec[] = {
    {'a', "name: v\n" LEVELS3 "vector_unit: {from: GLB, lanes: 4, ops: {exq: {latency: 3}}}\n",
     "F:6:42: error: vector_unit.ops: unknown key \"exq\"", "did you mean \"exp\"?"},
    {'a', "name: v\n" LEVELS3 "vector_unit: {from: GLB, lanes: 4, ops: {div: {intervall: 2}}}\n",
     "F:6:48: error: vector_unit.ops.div: unknown key \"intervall\"",
     "did you mean \"interval\"?"},
    {'a', "name: v\n" LEVELS3 "vector_unit: {from: RF, lanes: 4}\n",
     "F:6:21: error: vector_unit.from: expected a shared level (one of DRAM, GLB), found "
     "per_pe level \"RF\"",
     "the vector unit reads and writes the tiles of a buffer the array shares"},
    {'a', "name: v\n" LEVELS3 "vector_unit: {from: GLBB, lanes: 4}\n",
     "F:6:21: error: vector_unit.from: expected one of DRAM, GLB, found \"GLBB\"",
     "did you mean \"GLB\"?"},
    {'a', "name: v\n" LEVELS3 "vector_unit: {from: GLB, lanes: 0}\n",
     "F:6:33: error: vector_unit.lanes: expected an integer from 1 to 65536, found \"0\"", NULL},
    {'a', "name: v\n" LEVELS3 "vector_unit: {from: GLB}\n",
     "F:6:14: error: vector_unit: missing required key \"lanes\"", NULL},
    {'a', "name: v\n" LEVELS3 "vector_unit: {from: GLB, lanes: 4, ops: {div: {interval: 0}}}\n",
     "F:6:58: error: vector_unit.ops.div.interval: expected a positive integer, found \"0\"", NULL},
    {'a', "name: v\n" LEVELS3 "vector_unit: {name: GLB, from: GLB, lanes: 4}\n",
     "F:6:21: error: vector_unit.name: expected a name no level has, found \"GLB\"",
     "reports name the unit and the levels alike"},
    {'m', "mappings:\n  - einsum: SN\n    unit: vectr\n    mapping: [{level: GLB}]\n",
     "F:3:11: error: mappings[0].unit: expected one of array, vector, found \"vectr\"",
     "did you mean \"vector\"?"},
    {'m', "unit: vector\nmappings:\n  - einsum: SN\n    mapping: [{level: GLB}]\n",
     "F:1:1: error: expected unit beside mapping (one Einsum), found it beside mappings",
     "give unit in each entry of mappings"},
};

START_TEST(spec_errors) {
    char *p = ut_write_temp(bad_spec[_i].yaml);
    ef_diags *d = ef_diags_create();
    void *spec = bad_spec[_i].kind == 'a' ? (void *)ef_spec_load_arch(p, d)
                                          : (void *)ef_spec_load_mapping(p, d);
    ck_assert_msg(spec == NULL, "case %d should fail", _i);
    expect_diag(d, p, bad_spec[_i].line, bad_spec[_i].hint);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
}
END_TEST

/* ---------- model: the view ---------- */

START_TEST(derived_view) {
    ut_fx f;
    ut_init(&f);
    ef_nest *n = ut_build_ok(&f, ARCH_V, SOFTMAX, SOFTMAX_MAP);
    ck_assert_int_eq(n->unit, EF_UNIT_VECTOR);
    ck_assert_ptr_eq(n->spec_arch, f.arch);
    ck_assert_ptr_eq(n->arch, &n->unit_arch);
    /* DRAM and GLB keep their indices; RF, inside GLB, is not there */
    ck_assert_int_eq(n->level_count, 2);
    ck_assert_int_eq(n->arch->level_count, 2);
    ck_assert_str_eq(n->arch->levels[1].name, "GLB");
    ck_assert_str_eq(n->arch->name, "v");
    ck_assert_ptr_eq(n->arch->file, f.arch->file);
    /* one row of 4 lanes, one operation per lane per cycle */
    ck_assert_int_eq(n->arch->rows, 1);
    ck_assert_int_eq(n->arch->cols, 4);
    ck_assert_int_eq(n->arch->macs_per_cycle, 1);
    ck_assert_uint_eq(n->pes, 4);
    ck_assert_uint_eq(n->cols_used, 4);
    ck_assert_uint_eq(n->active_pes, 4);
    ck_assert_int_eq(n->spatial_level, 1);
    ck_assert_int_eq(n->first_pe_level, 2);
    ck_assert_uint_eq(n->levels[1].instances, 1);
    /* a multicast network from GLB to the lanes, without reduction */
    ck_assert_ptr_eq(n->noc, &n->unit_arch.nocs[0]);
    ck_assert_str_eq(n->noc->from, "GLB");
    ck_assert_str_eq(n->noc->to, "VU");
    ck_assert_int_eq(n->noc->topology, EF_NOC_MULTICAST);
    ck_assert(!n->noc->reduction);
    near(n->noc->bandwidth_bytes, 8, "noc bandwidth");
    ck_assert_uint_eq(n->total_ops, 2 * 16 * 16);
    /* the declared architecture is untouched */
    ck_assert_int_eq(f.arch->level_count, 3);
    ck_assert_int_eq(f.arch->rows, 2);
    ut_free(&f);
}
END_TEST

/* The same Einsum with unit: array stays on the PEs. */
START_TEST(array_unchanged) {
    ut_fx f;
    ut_init(&f);
    ef_nest *n = ut_build_ok(&f, ARCH_V, SOFTMAX,
                             "mappings:\n"
                             "  - einsum: MX\n"
                             "    unit: array\n"
                             "    mapping:\n"
                             "      - {level: DRAM, temporal: [H: 2, P: 4]}\n"
                             "      - {level: GLB, temporal: [M: 16], spatial: {rows: [P: 2], cols: [P: 2]}}\n");
    ck_assert_int_eq(n->unit, EF_UNIT_ARRAY);
    ck_assert_ptr_eq(n->arch, f.arch);
    ck_assert_ptr_eq(n->spec_arch, f.arch);
    ck_assert_int_eq(n->level_count, 3);
    ck_assert_uint_eq(n->pes, 4);
    ck_assert_uint_eq(n->step_interval_cycles, 1);
    ck_assert_uint_eq(n->step_latency_cycles, 0);
    ut_free(&f);
}
END_TEST

/* ---------- model: step interval and latency ---------- */

static const struct {
    const char *ops;      /* the vector_unit's ops: map, or "" */
    const char *einsum;
    const char *ranks;
    int bits;
    uint64_t interval, latency;
} timing[] = {
    /* defaults: add, mul, max 1 cycle; exp 6; div 2 + 3k */
    {"", "SN[m,p] = exp(QK[m,p] - MX[p])", "{M: 4, P: 4}", 16, 1, 1 + 6}, /* add 1 + exp 1 */
    {"", "A[m,p] = SN[m,p] / SD[p]", "{M: 4, P: 4}", 16, 1, 5},  /* k = 1 */
    {"", "A[m,p] = SN[m,p] / SD[p]", "{M: 4, P: 4}", 32, 1, 8},  /* k = 2 */
    {"", "A[m,p] = SN[m,p] / SD[p]", "{M: 4, P: 4}", 8, 1, 2},   /* the seed alone */
    {"", "MX[p] max= QK[m,p]", "{M: 4, P: 4}", 16, 1, 1},
    {"", "SD[p] += SN[m,p]", "{M: 4, P: 4}", 16, 1, 1},
    {"", "O[p] += I[m,p] * W[m]", "{M: 4, P: 4}", 16, 1, 2},     /* mul 1 + add 1 */
    {"", "B[p] = A[p]", "{P: 4}", 16, 1, 0},                      /* a copy */
    /* given intervals and latencies */
    {"{div: {interval: 4, latency: 12}}", "A[m,p] = SN[m,p] / SD[p]", "{M: 4, P: 4}", 16, 4, 12},
    {"{add: {interval: 2, latency: 3}, exp: {latency: 10}}", "SN[m,p] = exp(QK[m,p] - MX[p])",
     "{M: 4, P: 4}", 16, 2, 13},
    /* two exps on one point keep the exp unit busy twice as long; the
     * longest path is one exp then the add */
    {"{exp: {interval: 3}}", "Y[p] = exp(X[p]) + exp(Z[p]) - X[p]", "{P: 4}", 16, 6, 6 + 1 + 1},
    /* += of a product: one mul and one add per point */
    {"{add: {interval: 2}, mul: {latency: 4}}", "O[p] += I[m,p] * W[m]", "{M: 4, P: 4}", 16, 2,
     4 + 1},
    {"{max: {interval: 5, latency: 2}}", "MX[p] max= QK[m,p] - B[p]", "{M: 4, P: 4}", 16, 5,
     1 + 2},
};

START_TEST(step_timing) {
    char *arch = ut_fmt("name: v\n" LEVELS3 "vector_unit: {from: GLB, lanes: 4%s%s}\n",
                        timing[_i].ops[0] ? ", ops: " : "", timing[_i].ops);
    char *wl = ut_fmt("name: t\neinsums: [\"%s\"]\nranks: %s\ndefault_precision: %d\n",
                      timing[_i].einsum, timing[_i].ranks, timing[_i].bits);
    ut_fx f;
    ut_init(&f);
    ef_nest *n = ut_build_ok(&f, arch, wl,
                             strstr(timing[_i].ranks, "M:")
                                 ? "unit: vector\nmapping:\n  - {level: DRAM}\n"
                                   "  - {level: GLB, temporal: [M: 4], spatial: {cols: [P: 4]}}\n"
                                 : "unit: vector\nmapping:\n  - {level: DRAM}\n"
                                   "  - {level: GLB, spatial: {cols: [P: 4]}}\n");
    ck_assert_int_eq(n->unit, EF_UNIT_VECTOR);
    ck_assert_msg(n->step_interval_cycles == timing[_i].interval, "%s: interval %llu, want %llu",
                  timing[_i].einsum, (unsigned long long)n->step_interval_cycles,
                  (unsigned long long)timing[_i].interval);
    ck_assert_msg(n->step_latency_cycles == timing[_i].latency, "%s: latency %llu, want %llu",
                  timing[_i].einsum, (unsigned long long)n->step_latency_cycles,
                  (unsigned long long)timing[_i].latency);
    ut_free(&f);
    free(arch);
    free(wl);
}
END_TEST

START_TEST(default_latencies) {
    ck_assert_uint_eq(ef_vector_default_latency_cycles(EF_VOP_ADD, 16), 1);
    ck_assert_uint_eq(ef_vector_default_latency_cycles(EF_VOP_MUL, 32), 1);
    ck_assert_uint_eq(ef_vector_default_latency_cycles(EF_VOP_MAX, 16), 1);
    ck_assert_uint_eq(ef_vector_default_latency_cycles(EF_VOP_EXP, 16), 6);
    ck_assert_uint_eq(ef_vector_default_latency_cycles(EF_VOP_EXP, 32), 6);
    ck_assert_uint_eq(ef_vector_default_latency_cycles(EF_VOP_DIV, 8), 2);
    ck_assert_uint_eq(ef_vector_default_latency_cycles(EF_VOP_DIV, 16), 5);
    ck_assert_uint_eq(ef_vector_default_latency_cycles(EF_VOP_DIV, 24), 8);
    ck_assert_uint_eq(ef_vector_default_latency_cycles(EF_VOP_DIV, 32), 8);
    ck_assert_uint_eq(ef_vector_default_latency_cycles(EF_VOP_DIV, 64), 11);
}
END_TEST

/* ---------- model: exact diagnostics ---------- */

static const struct {
    const char *arch, *map;
    const char *line; /* file name as F */
    const char *hint;
} bad_model[] = {
    {"name: plain\n" LEVELS3,
     "mappings:\n  - einsum: MX\n    unit: vector\n    mapping: [{level: GLB}]\n",
     "F:3:11: error: unit: the architecture plain declares no vector_unit to compute this "
     "Einsum on",
     "add vector_unit: {from: LEVEL, lanes: N} to the architecture, or map this Einsum with "
     "unit: array"},
    {ARCH_V,
     "mappings:\n  - einsum: MX\n    unit: vector\n    mapping:\n"
     "      - {level: DRAM, temporal: [H: 2, P: 16]}\n"
     "      - {level: RF, temporal: [M: 16]}\n",
     "F:6:9: error: mapping[1].level: level RF is inside GLB, which feeds the vector unit VU: "
     "a vector Einsum's mapping names levels down to GLB only",
     "map this Einsum with unit: array to use the levels inside"},
    {ARCH_V,
     "mappings:\n  - einsum: MX\n    unit: vector\n    mapping:\n"
     "      - {level: DRAM, temporal: [H: 2, P: 8]}\n"
     "      - {level: GLB, temporal: [M: 16], spatial: {rows: [P: 2]}}\n",
     "F:6:58: error: mapping[1].spatial.rows: the vector unit VU is one row of 4 lanes: it has "
     "no spatial rows",
     "put the lanes' loops under spatial.cols"},
    {ARCH_V,
     "mappings:\n  - einsum: MX\n    unit: vector\n    mapping:\n"
     "      - {level: DRAM, temporal: [H: 2, P: 2]}\n"
     "      - {level: GLB, temporal: [M: 16], spatial: {cols: [P: 8]}}\n",
     "F:6:58: error: mapping[1].spatial.cols: the spatial cols factors need 8 lanes but the "
     "vector unit VU has 4",
     NULL},
    {ARCH_V,
     "mappings:\n  - einsum: MX\n    unit: vector\n    mapping:\n"
     "      - {level: DRAM, temporal: [H: 2, P: 16]}\n"
     "      - {level: GLB, temporal: [M: 4], spatial: {cols: [M: 4]}}\n",
     "F:6:57: error: mapping[1].spatial.cols[0].M: rank M is reduced (the output MX does not "
     "index it), and the vector unit VU has no reduction across its lanes",
     "loop over this rank in time, and put an output rank on the lanes"},
};

START_TEST(model_errors) {
    ut_fx f;
    ut_init(&f);
    ef_nest *n = ut_build(&f, bad_model[_i].arch, SOFTMAX, bad_model[_i].map);
    ck_assert_msg(n == NULL, "case %d should fail", _i);
    expect_diag(f.diags, f.mapping_path, bad_model[_i].line, bad_model[_i].hint);
    ut_free(&f);
}
END_TEST

/* ---------- energy ---------- */

/* docs/energy.md, "Operators": the table's rows at 16 and 32 bits. */
START_TEST(op_table) {
    static const struct {
        ef_arithmetic a;
        int bits;
        double add, mul, max, div, exp;
    } rows[] = {
        {EF_ARITH_INT, 16, INT_ADD16, INT_MUL16, INT_ADD16, 3 * INT_MUL16 + INT_ADD16,
         6 * INT_MUL16 + 5 * INT_ADD16},
        {EF_ARITH_INT, 32, 0.1, 3.1, 0.1, 5 * 3.1 + 2 * 0.1, 6 * 3.1 + 5 * 0.1},
        {EF_ARITH_FLOAT, 16, FP_ADD16, FP_MUL16, INT_ADD16, 3 * FP_MUL16 + FP_ADD16,
         6 * FP_MUL16 + 5 * FP_ADD16},
        {EF_ARITH_FLOAT, 32, 0.9, 3.7, 0.1, 5 * 3.7 + 2 * 0.9, 6 * 3.7 + 5 * 0.9},
        /* 8 bits: the seed alone, times the dividend */
        {EF_ARITH_INT, 8, 0.03, 0.2, 0.03, 0.2, 6 * 0.2 + 5 * 0.03},
    };
    for (size_t i = 0; i < UT_LEN(rows); i++) {
        near(ef_energy_op_pj(rows[i].a, EF_VOP_ADD, rows[i].bits), rows[i].add, "add");
        near(ef_energy_op_pj(rows[i].a, EF_VOP_MUL, rows[i].bits), rows[i].mul, "mul");
        near(ef_energy_op_pj(rows[i].a, EF_VOP_MAX, rows[i].bits), rows[i].max, "max");
        near(ef_energy_op_pj(rows[i].a, EF_VOP_DIV, rows[i].bits), rows[i].div, "div");
        near(ef_energy_op_pj(rows[i].a, EF_VOP_EXP, rows[i].bits), rows[i].exp, "exp");
    }
}
END_TEST

/* A vector Einsum's point costs its operators: from the table at the
 * unit's arithmetic, or as the architecture gives them per op; the PEs'
 * mac_energy does not apply to the lanes. */
START_TEST(vector_energy) {
    const char *archs[] = {
        /* table, integer (the PEs' arithmetic) */
        "name: v\npe: {mac_energy: 9}\n" LEVELS3 "vector_unit: {from: GLB, lanes: 4}\n",
        /* table, floating point */
        "name: v\n" LEVELS3 "vector_unit: {from: GLB, lanes: 4, arithmetic: float}\n",
        /* given: add and exp; max and div from the table */
        "name: v\n" LEVELS3 "vector_unit: {from: GLB, lanes: 4, ops: {add: {energy: 0.5}, "
        "exp: {energy: 7}, div: {energy: 3}, max: {energy: 0.25}}}\n",
    };
    /* per point: MX max, SN add + exp, SD add, A div */
    const double want[][4] = {
        {INT_ADD16, INT_ADD16 + 6 * INT_MUL16 + 5 * INT_ADD16, INT_ADD16,
         3 * INT_MUL16 + INT_ADD16},
        {INT_ADD16, FP_ADD16 + 6 * FP_MUL16 + 5 * FP_ADD16, FP_ADD16, 3 * FP_MUL16 + FP_ADD16},
        {0.25, 0.5 + 7, 0.5, 3},
    };
    for (size_t a = 0; a < UT_LEN(archs); a++) {
        ut_fx f;
        ut_init(&f);
        ut_build_ok(&f, archs[a], SOFTMAX, SOFTMAX_MAP);
        for (int e = 0; e < 4; e++) {
            ef_nest *n = nest_of(&f, e);
            ef_energy_costs c;
            ef_energy_costs_of(n, &c);
            char what[64];
            snprintf(what, sizeof what, "arch %zu, Einsum %d", a, e);
            near(c.op_pj, want[a][e], what);
            ck_assert_int_eq(c.op_source, a == 2 ? EF_ENERGY_ARCH : EF_ENERGY_TABLE);
            ef_nest_destroy(n);
        }
        ut_free(&f);
    }
}
END_TEST

/* On the PEs, / and exp are priced by the same table (they were a
 * single multiply before the table had them), max= as a compare. */
START_TEST(array_energy_uses_table) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f, "name: a\npe: {arithmetic: float}\n" LEVELS3, SOFTMAX,
                "mappings:\n"
                "  - einsum: MX\n    mapping: [{level: DRAM, temporal: [H: 2, P: 16, M: 16]}]\n"
                "  - einsum: SN\n    mapping: [{level: DRAM, temporal: [H: 2, P: 16, M: 16]}]\n"
                "  - einsum: SD\n    mapping: [{level: DRAM, temporal: [H: 2, P: 16, M: 16]}]\n"
                "  - einsum: A\n    mapping: [{level: DRAM, temporal: [H: 2, P: 16, M: 16]}]\n");
    const double want[] = {INT_ADD16, FP_ADD16 + 6 * FP_MUL16 + 5 * FP_ADD16, FP_ADD16,
                           3 * FP_MUL16 + FP_ADD16};
    for (int e = 0; e < 4; e++) {
        ef_nest *n = nest_of(&f, e);
        ck_assert_int_eq(n->unit, EF_UNIT_ARRAY);
        ef_energy_costs c;
        ef_energy_costs_of(n, &c);
        near(c.op_pj, want[e], "array op");
        ef_nest_destroy(n);
    }
    ut_free(&f);
}
END_TEST

/* A run: the compute energy of a vector Einsum is its points x the
 * per-point energy, reported apart from the MACs, and the vector unit's
 * utilization is its points over lanes x cycles (the array's is 0). */
START_TEST(vector_stats) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f,
                "name: v\n" LEVELS3 "vector_unit: {from: GLB, lanes: 4, ops: {max: {energy: 0.25, "
                "latency: 0}}}\n",
                SOFTMAX, SOFTMAX_MAP);
    ef_result *r = ut_run(&f, true);
    ef_stats s;
    ef_stats_compute(r, &s);
    ck_assert_uint_eq(r->ops, 512);
    near(s.compute_energy_pj, 512 * 0.25, "compute");
    near(s.vector_energy_pj, 512 * 0.25, "vector");
    near(s.utilization, 0, "array utilization");
    near(s.vector_utilization, 512.0 / (4.0 * (double)r->cycles), "vector utilization");
    near(s.peak_ops, 4, "peak: the lanes");
    ck_assert_uint_eq(s.pes, 1); /* the area proxy: the array's 1 x 1 PEs */
    ut_free(&f);
}
END_TEST

Suite *vector_suite(void) {
    Suite *s = suite_create("vector");
    TCase *sp = tcase_create("spec");
    tcase_add_test(sp, spec_values);
    tcase_add_test(sp, spec_defaults_and_absent);
    tcase_add_test(sp, spec_mapping_unit);
    tcase_add_loop_test(sp, spec_errors, 0, (int)UT_LEN(bad_spec));
    suite_add_tcase(s, sp);
    TCase *m = tcase_create("model");
    tcase_add_test(m, derived_view);
    tcase_add_test(m, array_unchanged);
    tcase_add_loop_test(m, step_timing, 0, (int)UT_LEN(timing));
    tcase_add_test(m, default_latencies);
    tcase_add_loop_test(m, model_errors, 0, (int)UT_LEN(bad_model));
    suite_add_tcase(s, m);
    TCase *e = tcase_create("energy");
    tcase_add_test(e, op_table);
    tcase_add_test(e, vector_energy);
    tcase_add_test(e, array_energy_uses_table);
    tcase_add_test(e, vector_stats);
    suite_add_tcase(s, e);
    return s;
}

int main(void) { return ut_run_suite(vector_suite()); }
