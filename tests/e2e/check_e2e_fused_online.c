/* End-to-end tests of the 1-pass online-softmax cascade fused whole
 * (docs/model.md, sections 4.8 and 6; docs/spec.md, "Fusing a
 * cascade"): workloads/attention_online.yaml (H 2, M = M1 x M0 = 4 x 4
 * keys, P 16 queries, E = F 8, 16-bit) on configs/edge_8x8.yaml with
 * mappings/edge_8x8__attention_online_fused.yaml, and on
 * tests/data/vector_small.yaml with the softmax and the recurrences on
 * the vector unit. The shared loops above the GLB are [H: 2, P: 2,
 * M1: 4], so a query block holds Pb = 8 queries and AV, the tail, runs
 * once per (h, query block). Expected values are worked out here from
 * the loops, not taken from einflow:
 *   - DRAM: Q read once (H P E words), K and V once per query block
 *     (H (P/Pb) M E and H (P/Pb) M F), AV written once (H P F), and not
 *     a word of any intermediate or running state: 2 B x H x (P E +
 *     (P/Pb) M E + (P/Pb) M F + P F) = 3,072 B;
 *   - the running maximum RM at the GLB: every step of every (h, p)
 *     read once as the old value by RM (H M1 P = 128 points, the PEs
 *     read the GLB directly), once by SLN as written (one read per row
 *     of PEs, multicast over the M0 columns: 128) and once by PRM as
 *     the step before (128): 384 reads; 128 updates (the new values);
 *     no fill, the initial value being made on chip; RNV likewise:
 *     H M1 P F = 1,024 old-value reads and updates, and the 256 reads
 *     of its last step by AV;
 *   - the result equals the 3-pass cascade's (--check-against);
 *   - both engines give the same JSON;
 *   - with the key blocks outside the query blocks, the GLB keeps the
 *     state of every query block, and K and V are read once;
 *   - illegal fusions of the recurrences are refused at the line;
 *   - the fused dataflow finds the whole group by itself, stepping M1
 *     above the GLB when a head does not fit. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define ARCH "configs/edge_8x8.yaml"
#define WORKLOAD "workloads/attention_online.yaml"
#define THREE_PASS "workloads/attention.yaml"
#define FUSED "mappings/edge_8x8__attention_online_fused.yaml"
#define VEC_ARCH "tests/data/vector_small.yaml"
#define VEC_FUSED "tests/data/vector_small__attention_online_fused.yaml"

enum { H = 2, M1 = 4, M0 = 4, M = M1 * M0, P = 16, PB = 8, E = 8, F = 8, WORD_BYTES = 2 };

static const char *const states[] = {"QK", "LM", "RM", "SLN", "SLD",
                                     "SLNV", "PRM", "RD", "RNV"};

/* Words of tensor t at level `lv` over all Einsums. */
static void words_at(const cJSON *r, const char *lv, const char *t, uint64_t *rd, uint64_t *fl,
                     uint64_t *up) {
    *rd = *fl = *up = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(r, "einsums")) {
        if (!e2e_tensor(e, lv, t)) continue;
        *rd += e2e_counter(e, lv, t, "reads");
        *fl += e2e_counter(e, lv, t, "fills");
        *up += e2e_counter(e, lv, t, "updates");
    }
}

static cJSON *run_checked(const char *arch, const char *mapping, const char *engine) {
    const char *extra[] = {"--check-against", THREE_PASS, "--engine", engine, NULL};
    cJSON *r = e2e_run_json(arch, WORKLOAD, mapping, extra);
    ck_assert(cJSON_IsTrue(e2e_get(r, "summary.values_checked")));
    ck_assert_msg(cJSON_IsTrue(e2e_get(r, "summary.checked_against.passed")),
                  "%s: the 1-pass result differs from the 3-pass one", mapping);
    return r;
}

static void expect_compulsory(const cJSON *r, const char *mapping) {
    static const struct { const char *t; uint64_t rd, wr; } want[] = {
        {"Q", H * P * E, 0},
        {"K", H * (P / PB) * M * E, 0},
        {"V", H * (P / PB) * M * F, 0},
        {"AV", 0, H * P * F},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint64_t rd, fl, up;
        words_at(r, "DRAM", want[i].t, &rd, &fl, &up);
        ck_assert_msg(rd == want[i].rd && fl + up == want[i].wr,
                      "%s: DRAM %s read %llu written %llu, expected %llu and %llu", mapping,
                      want[i].t, (unsigned long long)rd, (unsigned long long)(fl + up),
                      (unsigned long long)want[i].rd, (unsigned long long)want[i].wr);
    }
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        uint64_t rd, fl, up;
        words_at(r, "DRAM", states[i], &rd, &fl, &up);
        ck_assert_msg(rd + fl + up == 0, "%s: %s reaches DRAM (%llu, %llu, %llu)", mapping,
                      states[i], (unsigned long long)rd, (unsigned long long)fl,
                      (unsigned long long)up);
    }
    uint64_t bytes = WORD_BYTES * H * (P * E + (P / PB) * M * E + (P / PB) * M * F + P * F);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.bytes"), bytes);
    ck_assert_uint_eq(e2e_einsums_level_bytes(r, "DRAM"), bytes);
}

START_TEST(fused_online_moves_only_inputs_and_output) {
    cJSON *r = run_checked(ARCH, FUSED, "event");
    expect_compulsory(r, FUSED);
    /* one group of all ten */
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(r, "einsums")) {
        ck_assert_msg(cJSON_IsObject(e2e_get(e, "fused")), "%s is not fused",
                      e2e_path_str(e, "output"));
        ck_assert_uint_eq(e2e_path_u64(e, "fused.count"), 10);
    }
    cJSON_Delete(r);
}
END_TEST

START_TEST(running_state_counted_at_the_glb) {
    cJSON *r = run_checked(ARCH, FUSED, "event");
    uint64_t rd, fl, up;
    words_at(r, "GLB", "RM", &rd, &fl, &up);
    ck_assert_uint_eq(rd, 3 * H * M1 * P);
    ck_assert_uint_eq(up, H * M1 * P);
    ck_assert_uint_eq(fl, 0);
    words_at(r, "GLB", "RNV", &rd, &fl, &up);
    ck_assert_uint_eq(rd, H * M1 * P * F + H * P * F);
    ck_assert_uint_eq(up, H * M1 * P * F);
    ck_assert_uint_eq(fl, 0);
    cJSON_Delete(r);
}
END_TEST

START_TEST(vector_unit_runs_the_recurrences_fused) {
    cJSON *r = run_checked(VEC_ARCH, VEC_FUSED, "event");
    expect_compulsory(r, VEC_FUSED);
    /* RM's cycles on the vector unit: its utilization there */
    ck_assert_msg(e2e_path_double(r, "einsums[2].summary.vector_utilization") > 0,
                  "RM does not run on the vector unit");
    cJSON_Delete(r);
}
END_TEST

static const char *const engine_cases[][2] = {{ARCH, FUSED}, {VEC_ARCH, VEC_FUSED}};

START_TEST(engines_agree_on_fused_online) {
    cJSON *a = run_checked(engine_cases[_i][0], engine_cases[_i][1], "step");
    cJSON *b = run_checked(engine_cases[_i][0], engine_cases[_i][1], "event");
    cJSON_DeleteItemFromObject(a, "meta");
    cJSON_DeleteItemFromObject(b, "meta");
    ck_assert_msg(cJSON_Compare(a, b, 1), "%s: step and event engines differ",
                  engine_cases[_i][1]);
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

/* The fused dataflow finds the ten-Einsum group by itself: on
 * edge_8x8 with K and V read once (2 B x H x (P E + M E + M F + P F) =
 * 2,048 B: fused at the GLB a whole head fits there, M1 below it; fused
 * at RF, where the mapper now puts it, every (h, p) has its own PE, so
 * no query block makes K and V come again); with a 1 KiB GLB it must
 * step M1 above the GLB, innermost, FlashAttention's loop over key
 * blocks (the last of the temporal shared loops, followed in the
 * header by "; " at the GLB, or by the shared spatial loops at RF),
 * and still keep every intermediate and the state on chip. */
START_TEST(mapper_fuses_the_online_cascade) {
    const char *extra[] = {"--check-against", THREE_PASS, "--evaluations", "2000", NULL};
    cJSON *r = e2e_run_json(ARCH, WORKLOAD, "fused", extra);
    ck_assert(cJSON_IsTrue(e2e_get(r, "summary.checked_against.passed")));
    ck_assert_uint_eq(e2e_path_u64(r, "einsums[0].fused.count"), 10);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.bytes"),
                      WORD_BYTES * H * (P * E + M * E + M * F + P * F));
    cJSON_Delete(r);

    char *arch_text = e2e_read_file(ARCH, NULL);
    ck_assert_ptr_nonnull(arch_text);
    char *small = e2e_replace_all(arch_text, "capacity: 64 KiB", "capacity: 1 KiB");
    char *arch = e2e_write_tmp("edge_1k.yaml", small);
    char *mapping = e2e_tmp_path("online_fused_1k.yaml");
    e2e_result res;
    ck_assert(e2e_runl(&res, "map", arch, WORKLOAD, "--dataflow", "fused", "--evaluations",
                       "2000", "-o", mapping, "-q", NULL));
    ck_assert_msg(res.exit_code == 0, "map exited %d:\n%s", res.exit_code, res.err);
    e2e_result_free(&res);
    char *text = e2e_read_file(mapping, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "M1: 4]; ") != NULL || strstr(text, "M1: 4], GLB rows") != NULL,
                  "M1 is not the innermost shared loop:\n%.2000s", text);
    r = run_checked(arch, mapping, "event");
    ck_assert_uint_eq(e2e_path_u64(r, "einsums[0].fused.count"), 10);
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        uint64_t rd, fl, up;
        words_at(r, "DRAM", states[i], &rd, &fl, &up);
        ck_assert_msg(rd + fl + up == 0, "1 KiB GLB: %s reaches DRAM", states[i]);
    }
    cJSON_Delete(r);
    unlink(mapping);
    unlink(arch);
    free(text);
    free(mapping);
    free(arch);
    free(small);
    free(arch_text);
}
END_TEST

/* The key blocks outside the query blocks (shared loops [H: 2, M1: 4,
 * P: 2], AV the tail [H: 2, P: 2] at M1's last iteration): the GLB keeps
 * the running state of both query blocks (RM, RD and RNV twice over)
 * while the key blocks go by, as FlashAttention's first version and
 * FuseMax walk them. From the loops:
 *   - DRAM: K and V once (H M E, H M F: their tile stays across the
 *     inner P loop), Q once per key block (M1 H P E), AV once: 2 B x
 *     (M1 H P E + H M E + H M F + H P F) = 3,584 B;
 *   - the state counts as before (RM: 128 old-value reads by RM, 128
 *     by PRM, 128 reads by SLN, 128 updates, no fill);
 *   - the group's tiles at the GLB: the state's twice, 80 words (RM 8,
 *     RD 8, RNV 64) x 2 B x 2 (double-buffered) = 320 B more than with
 *     M1 innermost, which needs 1,696 B;
 *   - the values equal the 3-pass cascade's, under both engines. */
START_TEST(state_of_every_query_block) {
    char *text = e2e_read_file(FUSED, NULL);
    ck_assert_ptr_nonnull(text);
    char *map = e2e_replace_all(text, "[H: 2, P: 2, M1: 4]", "[H: 2, M1: 4, P: 2]");
    char *path = e2e_write_tmp("online_kv_outer.yaml", map);
    const char *step[] = {"--engine", "step", "--check-against", THREE_PASS, NULL};
    const char *event[] = {"--engine", "event", "--check-against", THREE_PASS, NULL};
    cJSON *a = e2e_run_json(ARCH, WORKLOAD, path, step);
    cJSON *r = e2e_run_json(ARCH, WORKLOAD, path, event);
    ck_assert(cJSON_IsTrue(e2e_get(r, "summary.values_checked")));
    cJSON_DeleteItemFromObject(a, "meta");
    cJSON *meta = cJSON_DetachItemFromObject(r, "meta");
    ck_assert_msg(cJSON_Compare(a, r, 1), "step and event engines differ");
    cJSON_Delete(meta);
    cJSON_Delete(a);
    static const struct { const char *t; uint64_t rd, wr; } dram[] = {
        {"Q", M1 * H * P * E, 0}, {"K", H * M * E, 0}, {"V", H * M * F, 0}, {"AV", 0, H * P * F},
    };
    for (size_t i = 0; i < sizeof dram / sizeof dram[0]; i++) {
        uint64_t rd, fl, up;
        words_at(r, "DRAM", dram[i].t, &rd, &fl, &up);
        ck_assert_msg(rd == dram[i].rd && fl + up == dram[i].wr, "%s at DRAM: %llu, %llu",
                      dram[i].t, (unsigned long long)rd, (unsigned long long)(fl + up));
    }
    ck_assert_uint_eq(e2e_einsums_level_bytes(r, "DRAM"), 3584);
    uint64_t rd, fl, up;
    words_at(r, "GLB", "RM", &rd, &fl, &up);
    ck_assert_uint_eq(rd, 3 * H * M1 * P);
    ck_assert_uint_eq(up, H * M1 * P);
    ck_assert_uint_eq(fl, 0);
    cJSON_Delete(r);

    /* capacity: a GLB of 2,000 B holds the group with M1 innermost
     * (1,696 B), not with the state twice over (2,016 B) */
    e2e_result res;
    ck_assert(e2e_runl(&res, "run", ARCH, WORKLOAD, FUSED, "--set",
                       "arch.levels.GLB.capacity=2000 B", "-q", NULL));
    ck_assert_msg(res.exit_code == 0, "exit %d:\n%s", res.exit_code, res.err);
    e2e_result_free(&res);
    ck_assert(e2e_runl(&res, "run", ARCH, WORKLOAD, path, "--set",
                       "arch.levels.GLB.capacity=2000 B", "-q", NULL));
    ck_assert_int_eq(res.exit_code, 1);
    ck_assert_msg(strstr(res.err, "the fused Einsums keep their tiles at GLB together: they "
                                  "need 2016 bytes, double-buffered (QK 512, LM 32, RM 64, SLN "
                                  "128, SLD 32, SLNV 384, PRM 32, RD 64, RNV 512, AV 256) but "
                                  "it holds 2000") != NULL,
                  "stderr:\n%s", res.err);
    e2e_result_free(&res);
    unlink(path);
    free(path);
    free(map);
    free(text);
}
END_TEST

/* Each case: replacements (all occurrences) of the hand mapping, and a
 * diagnostic the user must see, with its file:line:col suffix. */
static const struct {
    const char *from[3], *to[3], *message;
} illegal[] = {
    /* the running maximum kept at DRAM while its neighbours fuse */
    {{"bypass: [LM, RM]", "bypass: [QK, RM, SLN]", "bypass: [LM, RM, PRM]"},
     {"bypass: [LM]", "bypass: [QK, SLN]", "bypass: [LM, PRM]"},
     ":51:9: error: bypass: RM is a recurrence (\"RM[h,m1+1,p] = max(RM[h,m1,p], "
     "LM[h,m1,p])\") fused with QK .. AV, but keeps RM at DRAM: a fused recurrence keeps its "
     "tensor at GLB, the fusion level, as running state"},
    /* the recurrence rank split across the GLB (M1: 2 above, 2 below;
     * AV has no M1) */
    {{"M1: 4]", "      - level: RF\n",
      "[H: 2, P: 2]\n      - level: GLB\n        spatial: {rows: [P: 8], cols: [F: 8]}\n"
      "      - level: RF\n        temporal: [M1: 2]\n"},
     {"M1: 2]", "      - level: RF\n        temporal: [M1: 2]\n",
      "[H: 2, P: 2]\n      - level: GLB\n        spatial: {rows: [P: 8], cols: [F: 8]}\n"
      "      - level: RF\n"},
     ":59:20: error: mapping[2].temporal[0].M1: M1, the recurrence rank of RM, is walked both "
     "above GLB (a shared loop) and by this loop below it: each tile of RM would hold several "
     "steps, some read as old values in the iteration that writes them; a fused recurrence "
     "steps one tile per shared iteration"},
    /* the tail with a loop too few: it must lack exactly the innermost */
    {{"temporal: [H: 2, P: 2]\n      - level: GLB\n"},
     {"temporal: [H: 2]\n      - level: GLB\n        temporal: [P: 2]\n"},
     ":116:9: error: temporal: AV is fused with QK (they pass intermediates "
     "on chip at GLB), so it must run the same loops above GLB: QK runs [DRAM H: 2, DRAM P: "
     "2, DRAM M1: 4], AV runs [DRAM H: 2]"},
};

START_TEST(illegal_online_fusion_is_located) {
    char *text = e2e_read_file(FUSED, NULL);
    ck_assert_ptr_nonnull(text);
    char *map = text;
    for (int k = 0; k < 3 && illegal[_i].from[k]; k++) {
        char *next = e2e_replace_all(map, illegal[_i].from[k], illegal[_i].to[k]);
        if (map != text) free(map);
        map = next;
    }
    char *path = e2e_write_tmp("online_fused.yaml", map);
    e2e_result res;
    ck_assert(e2e_runl(&res, "run", ARCH, WORKLOAD, path, "-q", NULL));
    ck_assert_msg(res.exit_code == 1, "exit %d, stderr:\n%s", res.exit_code, res.err);
    char want[1024];
    snprintf(want, sizeof want, "%s%s", path, illegal[_i].message);
    ck_assert_msg(strstr(res.err, want) != NULL, "stderr lacks \"%s\":\n%s", want, res.err);
    e2e_result_free(&res);
    unlink(path);
    free(path);
    if (map != text) free(map);
    free(text);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_fused_online");
    TCase *tc = tcase_create("fused_online");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, fused_online_moves_only_inputs_and_output);
    tcase_add_test(tc, running_state_counted_at_the_glb);
    tcase_add_test(tc, vector_unit_runs_the_recurrences_fused);
    tcase_add_loop_test(tc, engines_agree_on_fused_online, 0,
                        (int)(sizeof engine_cases / sizeof engine_cases[0]));
    tcase_add_test(tc, mapper_fuses_the_online_cascade);
    tcase_add_test(tc, state_of_every_query_block);
    tcase_add_loop_test(tc, illegal_online_fusion_is_located, 0,
                        (int)(sizeof illegal / sizeof illegal[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    int failed = e2e_run_suite(suite());
    e2e_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
