/* End-to-end tests of FuseMax's binding at FuseMax's scale, on
 * configs/fusemax_like.yaml (256 x 256 PEs, a 256-lane vector unit):
 * the scores kept in the PEs below the GLB, as written by hand and as
 * the `fused` mapper finds it (docs/dataflows.md, "FuseMax's binding").
 * Apart from check_e2e_fusion_pe.c, whose small cases also run under
 * EF_TILES_VERIFY: these runs are too large for that.
 *   - By hand (tests/data/online_pe_fusemax_like.yaml: BERT's attention
 *     at 4K tokens in the 1-pass cascade, H 12, P = M 4096, E = F 64,
 *     shared loops [H: 12, M1: 16, P: 16], the key blocks outside as in
 *     FuseMax): 2 B x (16 H P E + H M E + H M F + H P F) = 119,537,664
 *     DRAM bytes (Q once per key block, K, V and AV once), no score off
 *     the PEs, and the bandwidth law on every port.
 *   - The mapper, 1-pass and 3-pass cascades: it beats the floor any
 *     binding with the scores at the GLB has (their bytes through its
 *     512 B/cycle write port), DRAM moves what the formula says, the
 *     file `map` writes runs back to the same cycles, its mappings are
 *     exact (values, both engines), and an Einsum put on the vector unit
 *     by name stays there. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define FM_ARCH "configs/fusemax_like.yaml"
#define FM_MAP "tests/data/online_pe_fusemax_like.yaml"
#define ONLINE "workloads/attention_online.yaml"

/* BERT scale on the FuseMax-like config: the DRAM traffic by formula,
 * no score off the PEs, and achieved <= attainable on every roofline
 * line of every Einsum (each port's bytes <= its bandwidth x cycles). */
START_TEST(fusemax_scale) {
    const char *extra[] = {"--set", "heads=12", "--set", "queries=4096", "--set", "dim=64",
                           "--set", "blocks=16", "--set", "block=256", NULL};
    cJSON *r = e2e_run_json(FM_ARCH, ONLINE, FM_MAP, extra);
    enum { BH = 12, BP = 4096, BM = 4096, BE = 64, BF = 64, KBLOCKS = 16 };
    uint64_t dram = UINT64_C(2) * ((uint64_t)KBLOCKS * BH * BP * BE + (uint64_t)BH * BM * BE +
                                   (uint64_t)BH * BM * BF + (uint64_t)BH * BP * BF);
    ck_assert_uint_eq(dram, UINT64_C(119537664));
    ck_assert_uint_eq(e2e_einsums_level_bytes(r, "DRAM"), dram);
    uint64_t macs = UINT64_C(2) * BH * BP * BM * BE, cycles = e2e_summary_u64(r, "cycles");
    ck_assert_uint_eq(e2e_summary_u64(r, "macs"), macs);
    ck_assert_uint_ge(cycles, macs / 65536);
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(r, "einsums")) {
        ck_assert_ptr_null(e2e_tensor(e, "GLB", "QK"));
        ck_assert_ptr_null(e2e_tensor(e, "GLB", "SLN"));
        ck_assert_uint_eq(e2e_summary_u64(e, "cycles"), cycles);
        double achieved = e2e_path_double(e, "roofline.achieved_ops_per_cycle");
        const cJSON *l;
        cJSON_ArrayForEach(l, e2e_get(e, "roofline.levels")) {
            static const char *const ports[] = {"read", "write"};
            for (int k = 0; k < 2; k++) {
                const cJSON *port = cJSON_GetObjectItemCaseSensitive(l, ports[k]);
                double att = e2e_path_double(port, "attainable_ops_per_cycle");
                ck_assert_msg(achieved <= att * (1 + 1e-9), "%s %s.%s: achieved %g > %g",
                              e2e_path_str(e, "output"), e2e_path_str(l, "name"), ports[k],
                              achieved, att);
            }
        }
    }
    /* the group's GLB write port, shared by every Einsum */
    uint64_t glb_writes = 0;
    cJSON_ArrayForEach(e, e2e_get(r, "einsums")) {
        const cJSON *lv;
        cJSON_ArrayForEach(lv, e2e_get(e, "levels"))
            if (!strcmp(e2e_path_str(lv, "name"), "GLB"))
                glb_writes += e2e_path_u64(lv, "write_bytes");
    }
    ck_assert_uint_le(glb_writes, UINT64_C(512) * cycles);
    cJSON_Delete(r);
}
END_TEST

/* `fused` on the FuseMax-like config, BERT's attention at 4K tokens in
 * the 1-pass cascade. Any binding that keeps the scores at the GLB
 * writes each of QK and SLN there once at least: 2 x H x P x M words of
 * 2 B = 805,306,368 B through its 512 B/cycle write port, so at least
 * 1,572,864 cycles. The mapper keeps them in the PEs (in_pes, with the
 * block's maximum, exponentials and sum on the array beside the
 * products) and must beat that floor; the file `map` writes runs back
 * to the same cycles with the parameters its header repeats. */
START_TEST(mapper_keeps_scores_in_the_pes) {
    static const char *const params[] = {"heads=12", "queries=4096", "dim=64", "blocks=16",
                                         "block=256"};
    const char *extra[] = {"--set", params[0], "--set", params[1], "--set", params[2],
                           "--set", params[3], "--set", params[4], NULL};
    cJSON *r = e2e_run_json(FM_ARCH, ONLINE, "fused", extra);
    uint64_t floor_bytes = UINT64_C(2) * 12 * 4096 * 4096 * 2; /* QK and SLN, 2 B */
    ck_assert_uint_eq(floor_bytes, UINT64_C(805306368));
    uint64_t cycles = e2e_summary_u64(r, "cycles");
    ck_assert_uint_lt(cycles, floor_bytes / 512);
    const cJSON *in = e2e_get(r, "einsums[0].search.fusion.in_pes");
    ck_assert_ptr_nonnull(in);
    ck_assert_str_eq(e2e_path_str(in, "level"), "RF");
    ck_assert_str_eq(e2e_path_str(in, "tensors[0]"), "QK");
    ck_assert_str_eq(e2e_path_str(in, "tensors[1]"), "SLN");
    ck_assert_int_eq(cJSON_GetArraySize(e2e_get(in, "tensors")), 2);
    static const char *const on_array[] = {"QK", "LM", "SLN", "SLD", "SLNV"};
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(r, "einsums")) {
        ck_assert_ptr_null(e2e_tensor(e, "GLB", "QK"));
        ck_assert_ptr_null(e2e_tensor(e, "GLB", "SLN"));
        bool array = false;
        for (size_t i = 0; i < sizeof on_array / sizeof on_array[0]; i++)
            array |= !strcmp(e2e_path_str(e, "output"), on_array[i]);
        ck_assert_str_eq(e2e_path_str(e, "search.unit"), array ? "array" : "vector");
    }
    cJSON_Delete(r);

    char *file = e2e_tmp_path("fm_map.yaml");
    e2e_result res;
    ck_assert(e2e_runl(&res, "map", FM_ARCH, ONLINE, "--dataflow", "fused", "--set", params[0],
                       "--set", params[1], "--set", params[2], "--set", params[3], "--set",
                       params[4], "-o", file, "-q", NULL));
    ck_assert_msg(res.exit_code == 0, "map: exit %d\n%s", res.exit_code, res.err);
    e2e_result_free(&res);
    char *text = e2e_read_file(file, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "THIS_FILE --set heads=12 --set queries=4096 --set dim=64 "
                               "--set blocks=16 --set block=256\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "#   kept in the PEs, at RF: QK, SLN") != NULL, "%s", text);
    free(text);
    cJSON *back = e2e_run_json(FM_ARCH, ONLINE, file, extra);
    ck_assert_uint_eq(e2e_summary_u64(back, "cycles"), cycles);
    cJSON_Delete(back);
    unlink(file);
    free(file);
}
END_TEST

/* The mapper's binding of a small head (H 1, P 256 queries, M 512 keys
 * as 2 blocks of 256, E = F 16): values equal a direct evaluation, and
 * both engines agree. */
START_TEST(mapper_binding_is_exact) {
    const char *step[] = {"--set", "heads=1", "--set", "queries=256", "--set", "dim=16",
                          "--set", "blocks=2", "--set", "block=256", "--engine", "step",
                          "--check-values", NULL};
    const char *event[] = {"--set", "heads=1", "--set", "queries=256", "--set", "dim=16",
                           "--set", "blocks=2", "--set", "block=256", "--engine", "event",
                           "--check-values", NULL};
    cJSON *a = e2e_run_json(FM_ARCH, ONLINE, "fused", step);
    cJSON *b = e2e_run_json(FM_ARCH, ONLINE, "fused", event);
    ck_assert(cJSON_IsTrue(e2e_get(b, "summary.values_checked")));
    ck_assert_ptr_nonnull(e2e_get(b, "einsums[0].search.fusion.in_pes.level"));
    cJSON_DeleteItemFromObject(a, "meta");
    cJSON_DeleteItemFromObject(b, "meta");
    ck_assert_msg(cJSON_Compare(a, b, 1), "step and event engines differ");
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

/* An Einsum the user puts on the vector unit by name stays there: with
 * LM on the vector unit, QK is read off the array, so only SLN stays in
 * the PEs. */
START_TEST(named_vector_einsum_stays) {
    const char *extra[] = {"--set", "heads=1", "--set", "queries=256", "--set", "dim=16",
                           "--set", "blocks=2", "--set", "block=256", "--einsum-dataflow",
                           "LM=vector", NULL};
    cJSON *r = e2e_run_json(FM_ARCH, ONLINE, "fused", extra);
    ck_assert_str_eq(e2e_path_str(r, "einsums[1].output"), "LM");
    ck_assert_str_eq(e2e_path_str(r, "einsums[1].search.unit"), "vector");
    const cJSON *in = e2e_get(r, "einsums[0].search.fusion.in_pes");
    ck_assert_ptr_nonnull(in);
    ck_assert_int_eq(cJSON_GetArraySize(e2e_get(in, "tensors")), 1);
    ck_assert_str_eq(e2e_path_str(in, "tensors[0]"), "SLN");
    cJSON_Delete(r);
}
END_TEST

/* The 3-pass cascade (workloads/bert_base.yaml's attention layer at 1K
 * tokens: H 12, M = P 1024, E = F 64, 16-bit) fused on the FuseMax-like
 * config: the scores QK, SN and A stay in the PEs, their maximum MX and
 * sum SD are reduced across them into the GLB. Any binding keeping the
 * three at the GLB writes 3 x H x M x P words of 2 B there, 75,497,472
 * B through its 512 B/cycle write port: at least 147,456 cycles; this
 * one must beat that, and DRAM moves only the compulsory traffic, 2 B x
 * H x (P E + M E + M F + P F) = 6,291,456 B. */
START_TEST(mapper_keeps_three_pass_scores_in_the_pes) {
    const char *extra[] = {"--set", "seq=1024", "--layers", "attention", NULL};
    cJSON *r = e2e_run_json(FM_ARCH, "workloads/bert_base.yaml", "fused", extra);
    const cJSON *layer = e2e_get(r, "layers[0]");
    ck_assert_ptr_nonnull(layer);
    uint64_t floor_bytes = UINT64_C(3) * 12 * 1024 * 1024 * 2;
    ck_assert_uint_eq(floor_bytes, UINT64_C(75497472));
    ck_assert_uint_lt(e2e_summary_u64(layer, "cycles"), floor_bytes / 512);
    const cJSON *in = e2e_get(layer, "einsums[0].search.fusion.in_pes");
    ck_assert_ptr_nonnull(in);
    static const char *const scores[] = {"QK", "SN", "A"};
    ck_assert_int_eq(cJSON_GetArraySize(e2e_get(in, "tensors")), 3);
    for (int i = 0; i < 3; i++) {
        char path[32];
        snprintf(path, sizeof path, "tensors[%d]", i);
        ck_assert_str_eq(e2e_path_str(in, path), scores[i]);
    }
    ck_assert_uint_eq(e2e_einsums_level_bytes(layer, "DRAM"),
                      UINT64_C(2) * 12 * (1024 * 64 * 4));
    cJSON_Delete(r);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_fusemax");
    TCase *tc = tcase_create("fusemax");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, fusemax_scale);
    tcase_add_test(tc, mapper_keeps_scores_in_the_pes);
    tcase_add_test(tc, mapper_binding_is_exact);
    tcase_add_test(tc, named_vector_einsum_stays);
    tcase_add_test(tc, mapper_keeps_three_pass_scores_in_the_pes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
