/* End-to-end reference case 5 (../shared/reference/README.md): SCALE-Sim's
 * systolic-array model. A GEMM of M x K by K x N on an R x C array:
 *
 *   OS: rows take M, cols take N, T = K; per fold R + C + T - 2
 *   WS: rows take K, cols take N, T = M; per fold 2R + C + T - 2
 *   IS: rows take K, cols take M, T = N; per fold 2R + C + T - 2
 *   folds = ceil(rowsdim / R) * ceil(colsdim / C); total folds*per_fold - 1
 *
 * The workload is the ResNet-50 3x3 layer as SCALE-Sim's GEMM
 * (tests/data/gemm_resnet_3x3.yaml: M=2916, K=576, N=64) on 32x32 arrays
 * (tests/data/scalesim_32x32_{os,ws,is}.yaml). With --fold-model scalesim
 * einflow must reproduce the formula exactly (OS: 117,391 cycles,
 * utilization 0.894); the default (overlap) model may only be faster, and
 * never faster than every PE busy every cycle. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "e2e_util.h"

#define GEMM_M 2916u
#define GEMM_K 576u
#define GEMM_N 64u
#define ARRAY_R 32u
#define ARRAY_C 32u

static const char *const WORKLOAD = "tests/data/gemm_resnet_3x3.yaml";

typedef struct {
    const char *dataflow;
    uint64_t rowsdim, colsdim, t; /* what the rows, the columns and time take */
    uint64_t r_times;             /* 1 for OS (R + C + T - 2), 2 for WS/IS    */
    uint64_t published;           /* a number quoted in the README, or 0      */
} scalesim_case;

static const scalesim_case cases[] = {
    {"os", GEMM_M, GEMM_N, GEMM_K, 1, 117391},
    {"ws", GEMM_K, GEMM_N, GEMM_M, 2, 0},
    {"is", GEMM_K, GEMM_M, GEMM_N, 2, 0},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

static uint64_t scalesim_cycles(const scalesim_case *c) {
    uint64_t folds = ceil_div(c->rowsdim, ARRAY_R) * ceil_div(c->colsdim, ARRAY_C);
    uint64_t per_fold = c->r_times * ARRAY_R + ARRAY_C + c->t - 2;
    return folds * per_fold - 1;
}

static cJSON *run(const scalesim_case *c, const char *fold_model) {
    char arch[128], map[128];
    snprintf(arch, sizeof arch, "tests/data/scalesim_32x32_%s.yaml", c->dataflow);
    snprintf(map, sizeof map, "tests/data/scalesim_32x32_%s__gemm_resnet_3x3.yaml", c->dataflow);
    const char *extra[] = {"--fold-model", fold_model, NULL};
    cJSON *root = e2e_run_json(arch, WORKLOAD, map, extra);
    ck_assert_str_eq(e2e_path_str(root, "meta.fold_model"), fold_model);
    return root;
}

static void check_macs_and_utilization(const cJSON *root, const char *what) {
    const uint64_t macs = (uint64_t)GEMM_M * GEMM_K * GEMM_N;
    uint64_t got = e2e_summary_u64(root, "macs");
    ck_assert_msg(got == macs, "%s: %llu MACs, expected %llu", what, (unsigned long long)got,
                  (unsigned long long)macs);
    uint64_t cycles = e2e_summary_u64(root, "cycles");
    double want = (double)macs / ((double)ARRAY_R * ARRAY_C * (double)cycles);
    double util = e2e_summary_double(root, "utilization");
    ck_assert_msg(fabs(util - want) <= 1e-12 * want,
                  "%s: utilization %.15g, expected MACs/(1024*cycles) = %.15g", what, util, want);
    ck_assert_msg(e2e_path_u64(root, "architecture.pes") == ARRAY_R * ARRAY_C,
                  "%s: architecture.pes is not %u", what, ARRAY_R * ARRAY_C);
}

START_TEST(scalesim_fold_model_matches_formula) {
    const scalesim_case *c = &cases[_i];
    uint64_t want = scalesim_cycles(c);
    if (c->published) ck_assert_uint_eq(want, c->published); /* the README's own number */
    cJSON *root = run(c, "scalesim");
    uint64_t cycles = e2e_summary_u64(root, "cycles");
    ck_assert_msg(cycles == want, "%s --fold-model scalesim: %llu cycles, SCALE-Sim's formula "
                  "gives %llu", c->dataflow, (unsigned long long)cycles, (unsigned long long)want);
    ck_assert_msg(cycles == e2e_summary_u64(root, "compute_cycles") + e2e_stall_total(root),
                  "%s: cycles != compute_cycles + stall cycles", c->dataflow);
    check_macs_and_utilization(root, c->dataflow);
    cJSON_Delete(root);
}
END_TEST

START_TEST(scalesim_os_published_utilization) {
    cJSON *root = run(&cases[0], "scalesim");
    double util = e2e_summary_double(root, "utilization");
    /* README: 107.5 M MACs, utilization 0.894 */
    ck_assert_msg(fabs(util - 0.894) < 0.0005, "OS utilization %.6f, published 0.894", util);
    ck_assert_msg(e2e_summary_u64(root, "cycles") == 117391, "OS cycles %llu, published 117391",
                  (unsigned long long)e2e_summary_u64(root, "cycles"));
    cJSON_Delete(root);
}
END_TEST

START_TEST(overlap_is_faster_but_bounded) {
    const scalesim_case *c = &cases[_i];
    const uint64_t macs = (uint64_t)GEMM_M * GEMM_K * GEMM_N;
    const uint64_t bound = ceil_div(macs, (uint64_t)ARRAY_R * ARRAY_C);
    cJSON *root = run(c, "overlap");
    uint64_t cycles = e2e_summary_u64(root, "cycles");
    ck_assert_msg(cycles < scalesim_cycles(c),
                  "%s overlap: %llu cycles, not fewer than SCALE-Sim's %llu", c->dataflow,
                  (unsigned long long)cycles, (unsigned long long)scalesim_cycles(c));
    ck_assert_msg(cycles >= bound, "%s overlap: %llu cycles, fewer than MACs/1024 = %llu",
                  c->dataflow, (unsigned long long)cycles, (unsigned long long)bound);
    ck_assert_msg(cycles == e2e_summary_u64(root, "compute_cycles") + e2e_stall_total(root),
                  "%s: cycles != compute_cycles + stall cycles", c->dataflow);
    check_macs_and_utilization(root, c->dataflow);
    cJSON_Delete(root);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_scalesim");
    TCase *tc = tcase_create("gemm_resnet_3x3_32x32");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(tc, scalesim_fold_model_matches_formula, 0, NCASES);
    tcase_add_test(tc, scalesim_os_published_utilization);
    tcase_add_loop_test(tc, overlap_is_faster_but_bounded, 0, NCASES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
