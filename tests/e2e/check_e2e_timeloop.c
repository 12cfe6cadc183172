/* End to end: `einflow import-timeloop`. Timeloop-format exercise files
 * (tests/data/timeloop/, written anew in the format of the
 * Timeloop/Accelergy exercises, each citing the file it follows) are
 * converted; the generated files must say what the Timeloop files say
 * (levels, capacities, loop order, bypasses, index expressions) and
 * running them must give counts derived by hand below, in Timeloop's
 * conventions (a word read per operand per MAC at the level that feeds
 * the MAC; the first write of an output is not preceded by a read).
 * Errors must be located at the Timeloop file's line and column. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

#define T "tests/data/timeloop/"

/* Converts arch + problem (+ mapping) into a fresh directory; asserts
 * exit 0 and returns the directory (caller frees). */
static char *convert(const char *arch, const char *prob, const char *map) {
    char *dir = e2e_tmp_path("tl");
    e2e_result r;
    const char *args[] = {"import-timeloop", "--arch", arch, "--problem", prob, "-o", dir,
                          map ? "--mapping" : NULL, map, NULL};
    ck_assert(e2e_run(&r, args));
    ck_assert_msg(r.exit_code == 0, "%s: exit %d\n%s", e2e_cmdline(args), r.exit_code, r.err);
    e2e_result_free(&r);
    return dir;
}

static char *file_in(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static char *read_in(const char *dir, const char *name) {
    char *p = file_in(dir, name);
    char *text = e2e_read_file(p, NULL);
    ck_assert_msg(text != NULL, "%s not written", p);
    free(p);
    return text;
}

static void assert_has(const char *text, const char *want, const char *what) {
    ck_assert_msg(strstr(text, want) != NULL, "%s lacks \"%s\":\n%s", what, want, text);
}

static cJSON *run_dir(const char *dir) {
    char *a = file_in(dir, "arch.yaml"), *w = file_in(dir, "workload.yaml"),
         *m = file_in(dir, "mapping.yaml");
    cJSON *j = e2e_run_json(a, w, m, NULL);
    free(a);
    free(w);
    free(m);
    return j;
}

/* Exercise 00, one level: Buffer holds everything; loops "RP" =
 * for p in 16: for r in 3. Per MAC the Buffer serves one weight and one
 * input: Weights reads = Inputs reads = P x R = 48. Outputs: 48 updates,
 * and reads = updates - distinct outputs = 48 - 16 = 32 (P x (R - 1)).
 * 48 MACs, one a cycle. */
START_TEST(one_level) {
    char *dir = convert(T "1level.arch.yaml", T "conv1d.prob.yaml", T "conv1d-1level.map.yaml");
    char *arch = read_in(dir, "arch.yaml"), *work = read_in(dir, "workload.yaml"),
         *map = read_in(dir, "mapping.yaml");
    /* depth 64 x width 8 bits / datawidth 8 = 64 words */
    assert_has(arch, "  - name: Buffer\n    kind: regfile\n    capacity: 64 words\n", "arch");
    assert_has(arch, "clock_mhz: 1000", "arch");
    assert_has(arch, "pe_array: {rows: 1, cols: 1}", "arch");
    assert_has(work, "\"Outputs[p] += Weights[r] * Inputs[r+p]\"", "workload");
    assert_has(work, "ranks: {R: 3, P: 16}", "workload");
    assert_has(work, "precision: {Weights: 8, Inputs: 8, Outputs: 8}", "workload");
    /* "RP" lists r innermost: p outside r */
    assert_has(map, "  - level: Buffer\n    temporal: [P: 16, R: 3]\n", "mapping");
    cJSON *j = run_dir(dir);
    ck_assert_uint_eq(e2e_summary_u64(j, "macs"), 48);
    ck_assert_uint_eq(e2e_summary_u64(j, "cycles"), 48);
    ck_assert_uint_eq(e2e_counter(j, "Buffer", "Weights", "reads"), 48);
    ck_assert_uint_eq(e2e_counter(j, "Buffer", "Inputs", "reads"), 48);
    ck_assert_uint_eq(e2e_counter(j, "Buffer", "Outputs", "updates"), 48);
    ck_assert_uint_eq(e2e_counter(j, "Buffer", "Outputs", "reads"), 32);
    cJSON_Delete(j);
    free(arch);
    free(work);
    free(map);
    free(dir);
}
END_TEST

/* Exercise 01, two levels. Weight stationary: r at MainMemory, p at the
 * Buffer. MainMemory sends each weight once (Weights reads = R = 3), the
 * inputs as a window sliding by one per r: 16 + 1 + 1 = P + R - 1 = 18,
 * and the Buffer holds all 16 outputs across r, so they go back once
 * (updates = P = 16, no reads: first writes). Output stationary (p at
 * MainMemory, r at the Buffer): the Buffer's weight tile W[0..2] never
 * changes (3 reads), the input window slides by one per p (3 + 15 =
 * 18), each output leaves once finished (16 updates). */
static void two_level(const char *map, const char *want_main, const char *want_buffer) {
    char *dir = convert(T "2level.arch.yaml", T "conv1d.prob.yaml", map);
    char *arch = read_in(dir, "arch.yaml"), *m = read_in(dir, "mapping.yaml");
    /* DRAM first and unlimited, then the 64-word Buffer */
    assert_has(arch, "levels:\n  - name: MainMemory\n    kind: dram\n  - name: Buffer\n"
                     "    kind: regfile\n    capacity: 64 words\n", "arch");
    assert_has(m, want_main, "mapping");
    assert_has(m, want_buffer, "mapping");
    cJSON *j = run_dir(dir);
    ck_assert_uint_eq(e2e_summary_u64(j, "macs"), 48);
    ck_assert_uint_eq(e2e_counter(j, "MainMemory", "Weights", "reads"), 3);
    ck_assert_uint_eq(e2e_counter(j, "MainMemory", "Inputs", "reads"), 18);
    ck_assert_uint_eq(e2e_counter(j, "MainMemory", "Outputs", "updates"), 16);
    ck_assert_uint_eq(e2e_counter(j, "MainMemory", "Outputs", "reads"), 0);
    ck_assert_uint_eq(e2e_counter(j, "Buffer", "Weights", "fills"), 3);
    ck_assert_uint_eq(e2e_counter(j, "Buffer", "Inputs", "fills"), 18);
    cJSON_Delete(j);
    free(arch);
    free(m);
    free(dir);
}

START_TEST(two_level_ws) {
    two_level(T "conv1d-2level-ws.map.yaml", "  - level: MainMemory\n    temporal: [R: 3]\n",
              "  - level: Buffer\n    temporal: [P: 16]\n");
}
END_TEST

START_TEST(two_level_os) {
    two_level(T "conv1d-2level-os.map.yaml", "  - level: MainMemory\n    temporal: [P: 16]\n",
              "  - level: Buffer\n    temporal: [R: 3]\n");
}
END_TEST

/* The strided conv layer on a 2 x 4 PE array (C=4, M=8, R=S=3, P=Q=4,
 * stride 2, so H=W=(4-1)*2+3=9). Nest: DRAM M 2 / GlobalBuffer Q 4, P 4,
 * rows C 2, cols M 4 / RegisterFile C 2, R 3, S 3. Weights bypass the
 * global buffer, inputs the register files.
 *   DRAM Weights reads: each PE's RF tile (C 2 x R 3 x S 3 of its own M
 *     and C) stays while P and Q step: every weight once, C*M*R*S = 288.
 *   DRAM Inputs reads: the global buffer's tile is the whole input,
 *     the same for both M steps: N*C*H*W = 4*9*9 = 324.
 *   DRAM Outputs updates: M*P*Q = 128, no reads (first writes).
 *   GlobalBuffer Inputs reads: per P,Q step each PE row needs its
 *     C 2 x R 3 x S 3 = 18 words, one read multicast to the 4 columns:
 *     2 rows x 18 x 16 steps x 2 M steps = 1152.
 *   GlobalBuffer Outputs updates: the 2 rows' partial sums are reduced
 *     on the way, so one per output: 128.
 *   MACs: C*M*R*S*P*Q = 4608. */
START_TEST(spatial_bypass) {
    char *dir = convert(T "conv2d_pe.arch.yaml", T "conv2d.prob.yaml", T "conv2d_pe.map.yaml");
    char *arch = read_in(dir, "arch.yaml"), *work = read_in(dir, "workload.yaml"),
         *map = read_in(dir, "mapping.yaml");
    /* meshY 2 -> rows, meshX 4 -> cols; 8 words per 64-bit entry */
    assert_has(arch, "pe_array: {rows: 2, cols: 4}", "arch");
    assert_has(arch, "clock_mhz: 500", "arch");
    assert_has(arch, "  - name: GlobalBuffer\n    kind: sram\n    capacity: 4096 words\n"
                     "    read_bandwidth: 8", "arch");
    assert_has(arch, "  - name: RegisterFile\n    kind: regfile\n    capacity: 32 words\n"
                     "    per_pe: true\n", "arch");
    assert_has(work, "\"Outputs[n,m,q,p] += Weights[c,m,r,s] * Inputs[n,c,r+p*2,s+q*2]\"",
               "workload");
    assert_has(map, "  - level: DRAM\n    temporal: [M: 2]\n", "mapping");
    assert_has(map, "  - level: GlobalBuffer\n    bypass: [Weights]\n    temporal: [Q: 4, P: 4]\n"
                    "    spatial: {rows: [C: 2], cols: [M: 4]}\n", "mapping");
    assert_has(map, "  - level: RegisterFile\n    bypass: [Inputs]\n"
                    "    temporal: [C: 2, R: 3, S: 3]\n", "mapping");
    cJSON *j = run_dir(dir);
    ck_assert_uint_eq(e2e_summary_u64(j, "macs"), 4608);
    ck_assert_uint_eq(e2e_counter(j, "DRAM", "Weights", "reads"), 288);
    ck_assert_uint_eq(e2e_counter(j, "DRAM", "Inputs", "reads"), 324);
    ck_assert_uint_eq(e2e_counter(j, "DRAM", "Outputs", "updates"), 128);
    ck_assert_uint_eq(e2e_counter(j, "DRAM", "Outputs", "reads"), 0);
    ck_assert_uint_eq(e2e_counter(j, "GlobalBuffer", "Inputs", "reads"), 1152);
    ck_assert_uint_eq(e2e_counter(j, "GlobalBuffer", "Outputs", "updates"), 128);
    ck_assert_ptr_null(e2e_tensor(j, "GlobalBuffer", "Weights"));
    ck_assert_ptr_null(e2e_tensor(j, "RegisterFile", "Inputs"));
    cJSON_Delete(j);
    free(arch);
    free(work);
    free(map);
    free(dir);
}
END_TEST

/* The same architecture in v0.3 (subtree, PE[0..7], meshX 4) gives the
 * same levels and array. */
START_TEST(v03_same_arch) {
    char *d4 = convert(T "conv2d_pe.arch.yaml", T "conv2d.prob.yaml", NULL);
    char *d3 = convert(T "conv2d_pe.arch.v03.yaml", T "conv2d.prob.yaml", NULL);
    char *a4 = read_in(d4, "arch.yaml"), *a3 = read_in(d3, "arch.yaml");
    const char *l4 = strstr(a4, "pe_array:"), *l3 = strstr(a3, "pe_array:");
    ck_assert_ptr_nonnull(l4);
    ck_assert_ptr_nonnull(l3);
    ck_assert_str_eq(l3, l4);
    free(a4);
    free(a3);
    free(d4);
    free(d3);
}
END_TEST

/* ---------- errors, located in the Timeloop files ---------- */

typedef struct {
    const char *arch, *prob, *map;
    const char *where;   /* file:line:col: */
    const char *what;    /* a piece of the message or hint */
} error_case;

static const error_case errors[] = {
    {T "err_compound.arch.yaml", T "conv1d.prob.yaml", NULL,
     T "err_compound.arch.yaml:10:12: error: architecture.nodes[1].class:",
     "the compound component class \"smartbuffer_RF\", which einflow has no equivalent for"},
    {T "err_class_typo.arch.yaml", T "conv1d.prob.yaml", NULL,
     T "err_class_typo.arch.yaml:9:12: error: architecture.nodes[1].class:",
     "hint: did you mean \"SRAM\"?"},
    {T "1level.arch.yaml", T "conv1d.prob.yaml", T "err_factors.map.yaml",
     T "err_factors.map.yaml:4:20: error: mapping[0].factors:",
     "expected a whole number of iterations after \"P=\", found \"1x6\""},
    {T "1level.arch.yaml", T "conv1d.prob.yaml", T "err_residual.map.yaml",
     T "err_residual.map.yaml:4:22: error: mapping[0].factors:",
     "residual factor (P=6,4), which einflow has no equivalent for"},
    {T "2level.arch.yaml", T "conv1d.prob.yaml", T "err_product.map.yaml",
     T "err_product.map.yaml:4:14: error: mapping:",
     "factors of P over all levels to multiply to its bound 16, found 8"},
    {T "1level.arch.yaml", T "conv1d.prob.yaml", T "err_constraints.yaml",
     T "err_constraints.yaml:2:1: error:",
     "found a constraint file (architecture_constraints:)"},
    {T "1level.arch.yaml", T "conv1d.prob.yaml", T "conv2d_pe.map.yaml",
     T "conv2d_pe.map.yaml:7:13: error: mapping[0].target:",
     "the architecture's storage levels: Buffer"},
};

START_TEST(located_errors) {
    const error_case *c = &errors[_i];
    char *dir = e2e_tmp_path("tl-err");
    e2e_result r;
    const char *args[] = {"import-timeloop", "--arch", c->arch, "--problem", c->prob, "-o", dir,
                          c->map ? "--mapping" : NULL, c->map, NULL};
    ck_assert(e2e_run(&r, args));
    ck_assert_msg(r.exit_code == 1, "%s: exit %d", e2e_cmdline(args), r.exit_code);
    assert_has(r.err, c->where, "stderr");
    assert_has(r.err, c->what, "stderr");
    /* nothing is written when the input is bad */
    char *a = file_in(dir, "arch.yaml");
    ck_assert(!e2e_file_exists(a));
    free(a);
    e2e_result_free(&r);
    free(dir);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_timeloop");
    TCase *tc = tcase_create("import");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, one_level);
    tcase_add_test(tc, two_level_ws);
    tcase_add_test(tc, two_level_os);
    tcase_add_test(tc, spatial_bypass);
    tcase_add_test(tc, v03_same_arch);
    tcase_add_loop_test(tc, located_errors, 0, (int)(sizeof errors / sizeof errors[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
