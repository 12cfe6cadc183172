/* End-to-end: the softmax Einsums of workloads/attention.yaml on a
 * 4-lane vector unit (tests/data/vector_small.yaml and
 * tests/data/vector_small__attention.yaml) through `einflow run`. Every
 * expected number is derived by hand below from the mapping; cycles are
 * not pinned (the engines' timing of the vector unit is docs/model.md's
 * business, tested with the engines).
 *
 * H = 2, M = P = 16, 16-bit words (2 B). Each vector Einsum maps
 * DRAM [H: 2] above GLB [P: 4, M: 16] (or [M: 16, P: 4]) with P: 4 on
 * the lanes: 2 x 16 x 16 = 512 points, one lane per query p.
 *
 *   MX[h,p] max= QK[h,m,p]
 *     GLB holds one head: QK 16 x 16 = 256 words filled per head: fills
 *     512, DRAM reads 512. Every point reads its own QK word at the GLB
 *     (the lanes hold no copy): 512 reads. MX is updated at every point
 *     (512); every update but a word's first is preceded by a read:
 *     512 - 32 = 480 reads; it leaves the GLB once per word: DRAM
 *     updates 32.
 *   SN[h,m,p] = exp(QK[h,m,p] - MX[h,p])
 *     QK as above (reads 512, fills 512); MX: 16 words per head filled
 *     (32), read at every point (512: each lane needs its own p);
 *     SN written once per point: GLB updates 512, no reads; DRAM
 *     updates 512.
 *   SD[h,p] += SN[h,m,p] and A[h,m,p] = SN[h,m,p] / SD[h,p]: as MX and
 *     SN with SN, SD, A in place of QK, MX, SN.
 *
 * Energy of the operators (the architecture gives add 0.5, max 0.25,
 * div 3, exp 7 pJ): per point MX a max, SN a subtract and an exp, SD an
 * add, A a divide: 512 x (0.25 + 7.5 + 0.5 + 3) = 5760 pJ, all under
 * energy_breakdown.vector. The MACs of QK and AV (4096 each, 16 x 16
 * into 16 bits, integer) cost sqrt(0.2 x 3.1) + sqrt(0.03 x 0.1) pJ
 * each (docs/energy.md). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define ARCH "tests/data/vector_small.yaml"
#define WORKLOAD "workloads/attention.yaml"
#define MAPPING "tests/data/vector_small__attention.yaml"

#define POINTS 512   /* 2 x 16 x 16 */
#define HEADS_P 32   /* 2 x 16: MX, SD words */
#define MACS 4096    /* QK: 2 x 16 x 16 x 8; AV: 2 x 16 x 8 x 16 */
#define MAC16_PJ (0.78740078740118113 + 0.054772255750516611)

static bool close_to(double got, double want) {
    return fabs(got - want) <= 1e-9 * (fabs(want) > 1 ? fabs(want) : 1);
}

typedef struct {
    const char *tensor;
    uint64_t dram_reads, dram_updates; /* DRAM */
    uint64_t reads, fills, updates;    /* GLB  */
} tensor_counts;

typedef struct {
    const char *output;
    double point_pj;
    tensor_counts t[3];
    int tensors;
} vector_einsum;

static const vector_einsum vector_einsums[] = {
    {"MX", 0.25,
     {{"QK", POINTS, 0, POINTS, POINTS, 0}, {"MX", 0, HEADS_P, POINTS - HEADS_P, 0, POINTS}},
     2},
    {"SN", 0.5 + 7,
     {{"QK", POINTS, 0, POINTS, POINTS, 0},
      {"MX", HEADS_P, 0, POINTS, HEADS_P, 0},
      {"SN", 0, POINTS, 0, 0, POINTS}},
     3},
    {"SD", 0.5,
     {{"SN", POINTS, 0, POINTS, POINTS, 0}, {"SD", 0, HEADS_P, POINTS - HEADS_P, 0, POINTS}},
     2},
    {"A", 3,
     {{"SN", POINTS, 0, POINTS, POINTS, 0},
      {"SD", HEADS_P, 0, POINTS, HEADS_P, 0},
      {"A", 0, POINTS, 0, 0, POINTS}},
     3},
};

static const cJSON *einsum_entry(const cJSON *root, const char *output) {
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(root, "einsums")) {
        if (strcmp(e2e_path_str(e, "output"), output) == 0) return e;
    }
    ck_abort_msg("no einsums[] entry writes %s", output);
    return NULL;
}

START_TEST(softmax_on_the_vector_unit) {
    cJSON *root = e2e_run_json(ARCH, WORKLOAD, MAPPING, NULL);
    double vector_pj = 0;
    for (size_t i = 0; i < sizeof vector_einsums / sizeof vector_einsums[0]; i++) {
        const vector_einsum *v = &vector_einsums[i];
        const cJSON *e = einsum_entry(root, v->output);
        /* the view: the levels down to the unit's `from`, its network */
        ck_assert_int_eq(cJSON_GetArraySize(e2e_get(e, "levels")), 2);
        ck_assert_str_eq(e2e_path_str(e, "levels[1].name"), "GLB");
        ck_assert_str_eq(e2e_path_str(e, "noc[0].from"), "GLB");
        ck_assert_str_eq(e2e_path_str(e, "noc[0].to"), "VU");
        ck_assert_str_eq(e2e_path_str(e, "noc[0].topology"), "multicast");
        ck_assert_uint_eq(e2e_summary_u64(e, "ops"), POINTS);
        ck_assert_uint_eq(e2e_summary_u64(e, "macs"), 0);
        uint64_t dram_read_bytes = 0, dram_write_bytes = 0;
        for (int k = 0; k < v->tensors; k++) {
            const tensor_counts *t = &v->t[k];
            const char *what = v->output;
            ck_assert_msg(e2e_counter(e, "DRAM", t->tensor, "reads") == t->dram_reads,
                          "%s: DRAM %s reads", what, t->tensor);
            ck_assert_msg(e2e_counter(e, "DRAM", t->tensor, "updates") == t->dram_updates,
                          "%s: DRAM %s updates", what, t->tensor);
            ck_assert_msg(e2e_counter(e, "GLB", t->tensor, "reads") == t->reads,
                          "%s: GLB %s reads %llu, want %llu", what, t->tensor,
                          (unsigned long long)e2e_counter(e, "GLB", t->tensor, "reads"),
                          (unsigned long long)t->reads);
            ck_assert_msg(e2e_counter(e, "GLB", t->tensor, "fills") == t->fills,
                          "%s: GLB %s fills", what, t->tensor);
            ck_assert_msg(e2e_counter(e, "GLB", t->tensor, "updates") == t->updates,
                          "%s: GLB %s updates", what, t->tensor);
            dram_read_bytes += 2 * t->dram_reads;
            dram_write_bytes += 2 * t->dram_updates;
        }
        /* DRAM traffic: 2 bytes a word */
        ck_assert_uint_eq(e2e_path_u64(e, "levels[0].read_bytes"), dram_read_bytes);
        ck_assert_uint_eq(e2e_path_u64(e, "levels[0].write_bytes"), dram_write_bytes);
        /* energy: points x the per-point operators, apart from the MACs */
        double want = POINTS * v->point_pj;
        double got = e2e_path_double(e, "summary.energy_breakdown.vector");
        ck_assert_msg(close_to(got, want), "%s: vector energy %.17g, want %.17g", v->output, got,
                      want);
        ck_assert_msg(close_to(e2e_path_double(e, "summary.energy_breakdown.mac"), 0),
                      "%s: MAC energy", v->output);
        vector_pj += want;
        /* utilization: the lanes' share, the array idle */
        double cycles = (double)e2e_summary_u64(e, "cycles");
        ck_assert(cycles > 0);
        ck_assert_msg(close_to(e2e_summary_double(e, "vector_utilization"), POINTS / (4 * cycles)),
                      "%s: vector_utilization", v->output);
        ck_assert_msg(close_to(e2e_summary_double(e, "utilization"), 0), "%s: utilization",
                      v->output);
    }
    /* the cascade: both units' energies and utilizations over the run */
    const cJSON *sm = e2e_get(root, "summary");
    double cycles = (double)e2e_path_u64(sm, "cycles");
    ck_assert_msg(close_to(e2e_path_double(sm, "energy_breakdown.vector"), 5760),
                  "summary vector energy %.17g", e2e_path_double(sm, "energy_breakdown.vector"));
    ck_assert(close_to(vector_pj, 5760));
    ck_assert_msg(close_to(e2e_path_double(sm, "energy_breakdown.mac"), 2 * MACS * MAC16_PJ),
                  "summary MAC energy %.17g", e2e_path_double(sm, "energy_breakdown.mac"));
    ck_assert_uint_eq(e2e_path_u64(sm, "macs"), 2 * MACS);
    ck_assert_uint_eq(e2e_path_u64(sm, "ops"), 2 * MACS + 4 * POINTS);
    ck_assert(close_to(e2e_path_double(sm, "utilization"), 2 * MACS / (4 * cycles)));
    ck_assert(close_to(e2e_path_double(sm, "vector_utilization"), 4 * POINTS / (4 * cycles)));
    /* every declared level in the breakdown, RF too */
    ck_assert_ptr_nonnull(e2e_get(sm, "energy_breakdown.levels.RF"));
    ck_assert_int_eq((int)e2e_path_u64(root, "architecture.pes"), 4);
    cJSON_Delete(root);
}
END_TEST

/* The text table names the unit and its utilization. */
START_TEST(table_names_the_unit) {
    e2e_result r;
    ck_assert(e2e_runl(&r, "run", ARCH, WORKLOAD, MAPPING, NULL));
    ck_assert_msg(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
    ck_assert_msg(strstr(r.out, "SN[h,m,p] = exp(QK[h,m,p] - MX[h,p])  on vector_small, vector "
                                "unit VU (4 lanes, 1000 MHz)"),
                  "table:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "  vector util  0."), "table:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "  energy split vector "), "table:\n%s", r.out);
    e2e_result_free(&r);
}
END_TEST

/* A vector Einsum on an architecture without a vector unit is an error
 * located at the mapping's unit key (exit 1). */
START_TEST(no_vector_unit) {
    char *arch = e2e_tmp_path("plain.yaml");
    FILE *fp = fopen(arch, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("name: plain\npe_array: {rows: 2, cols: 2}\nlevels:\n"
          "  - {name: DRAM, kind: dram}\n  - {name: GLB, kind: sram, capacity: 64 KiB}\n"
          "  - {name: RF, kind: regfile, per_pe: true, capacity: 64 B}\n",
          fp);
    fclose(fp);
    e2e_result r;
    ck_assert(e2e_runl(&r, "run", arch, WORKLOAD, MAPPING, NULL));
    ck_assert_int_eq(r.exit_code, 1);
    ck_assert_msg(strstr(r.err, MAPPING ":14:11: error: unit: the architecture plain declares no "
                                "vector_unit to compute this Einsum on"),
                  "stderr:\n%s", r.err);
    e2e_result_free(&r);
    unlink(arch);
    free(arch);
}
END_TEST

/* configs/fusemax_like.yaml loads, with its vector unit. */
START_TEST(fusemax_like_validates) {
    e2e_result r;
    ck_assert(e2e_runl(&r, "validate", "configs/fusemax_like.yaml", NULL));
    ck_assert_msg(r.exit_code == 0, "exit %d: %s%s", r.exit_code, r.out, r.err);
    e2e_result_free(&r);
}
END_TEST

int main(void) {
    e2e_init();
    Suite *s = suite_create("e2e_vector");
    TCase *tc = tcase_create("vector");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, softmax_on_the_vector_unit);
    tcase_add_test(tc, table_names_the_unit);
    tcase_add_test(tc, no_vector_unit);
    tcase_add_test(tc, fusemax_like_validates);
    suite_add_tcase(s, tc);
    return e2e_run_suite(s);
}
