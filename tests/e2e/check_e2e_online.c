/* End-to-end: the 1-pass attention cascade of online softmax
 * (workloads/attention_online.yaml, FlashAttention / FuseMax) through
 * `einflow run`, checked value by value against the 3-pass cascade
 * (workloads/attention.yaml) with --check-against, on the PE array
 * alone (mapper-found) and with the softmax and its three recurrences
 * on a vector unit (tests/data/vector_small__attention_online.yaml).
 *
 * Shapes: H = 2 heads, M = 16 keys as M1 = 4 blocks of M0 = 4, P = 16
 * queries, E = F = 8; 16-bit words. MACs: QK (2 x 4 x 4 x 16 x 8) and
 * SLNV (2 x 4 x 16 x 8 x 4) do 4096 each, 8192 in all, as QK and AV of
 * the 3-pass file. Other points: LM, SLN, SLD 2 x 4 x 4 x 16 = 512
 * each; RM, PRM, RD 2 x 4 x 16 = 128 each; RNV 2 x 4 x 16 x 8 = 1024;
 * AV 2 x 16 x 8 = 256: 3200.
 *
 * Counts of the recurrences, by hand, on the vector mapping (DRAM
 * [H: 2] over GLB [M1: 4, P: 4] with P: 4 on the lanes, and [M1: 4,
 * F: 8, P: 4] for RNV): a GLB tile holds one head, every tensor is
 * filled once per head and every point reads its operands at the GLB.
 * A recurrence's tensor is two operands — the old value (steps 0..3)
 * read, the new one (steps 1..4) written — reported as one entry:
 *   RM[h,m1+1,p] = max(RM[h,m1,p], LM[h,m1,p]), 128 points:
 *     DRAM RM reads 128 (old), updates 128 (new); LM reads 128.
 *     GLB  RM reads 128, fills 128, updates 128; LM reads 128, fills 128.
 *   RNV[h,m1+1,p,f] = SLNV[h,m1,p,f] + RNV[h,m1,p,f] * PRM[h,m1,p],
 *   1024 points:
 *     DRAM RNV reads 1024, updates 1024; SLNV reads 1024; PRM reads
 *          128 (4 x 16 per head, once).
 *     GLB  RNV reads 1024, fills 1024, updates 1024; PRM reads 1024
 *          (every point), fills 128. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define ONLINE "workloads/attention_online.yaml"
#define THREE_PASS "workloads/attention.yaml"
#define EDGE "configs/edge_8x8.yaml"
#define FUSEMAX "configs/fusemax_like.yaml"
#define VEC_ARCH "tests/data/vector_small.yaml"
#define VEC_MAP "tests/data/vector_small__attention_online.yaml"

/* The 1-pass and 3-pass cascades differ only in rounding: measured
 * 1.8e-15 at most; the check allows 1e-9 x max(1, |value|). */
#define AGREE 1e-12

static const cJSON *einsum_entry(const cJSON *root, const char *output) {
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(root, "einsums")) {
        if (strcmp(e2e_path_str(e, "output"), output) == 0) return e;
    }
    ck_abort_msg("no einsums[] entry writes %s", output);
    return NULL;
}

/* Writes text to a fresh scratch file; the caller frees the path. */
static char *scratch(const char *stem, const char *text) {
    char *path = e2e_tmp_path(stem);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* text with the first occurrence of `from` replaced by `to` (malloc'd) */
static char *replace(const char *text, const char *from, const char *to) {
    const char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "no \"%s\" to replace", from);
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    ck_assert_ptr_nonnull(out);
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

/* blocks: M1, which sets how many steps the recurrences take */
static void check_agreement(const cJSON *root, const char *what, uint64_t blocks) {
    ck_assert_msg(cJSON_IsTrue(e2e_get(root, "summary.values_checked")), "%s: values", what);
    const cJSON *c = e2e_get(root, "summary.checked_against");
    ck_assert_msg(c != NULL, "%s: no summary.checked_against", what);
    ck_assert_str_eq(e2e_path_str(c, "workload"), "attention");
    ck_assert_str_eq(e2e_path_str(c, "file"), THREE_PASS);
    ck_assert_int_eq(cJSON_GetArraySize(e2e_get(c, "tensors")), 1);
    ck_assert_str_eq(e2e_path_str(c, "tensors[0]"), "AV");
    ck_assert_uint_eq(e2e_path_u64(c, "elements"), 2 * 16 * 8);
    ck_assert(e2e_path_double(c, "tolerance") == 1e-9);
    double abs_err = e2e_path_double(c, "max_abs_error");
    double rel_err = e2e_path_double(c, "max_rel_error");
    ck_assert_msg(abs_err >= 0 && abs_err <= AGREE, "%s: max_abs_error %g", what, abs_err);
    ck_assert_msg(rel_err >= 0 && rel_err <= AGREE, "%s: max_rel_error %g", what, rel_err);
    ck_assert(cJSON_IsTrue(e2e_get(c, "passed")));
    ck_assert_uint_eq(e2e_summary_u64(root, "macs"), 8192);
    /* LM, SLN, SLD 512 each, AV 256; RM, PRM, RD 2 x M1 x 16 each,
     * RNV 2 x M1 x 16 x 8 */
    ck_assert_uint_eq(e2e_summary_u64(root, "ops"), 8192 + 3 * 512 + 256 + 352 * blocks);
}

/* ---------- agreement ---------- */

static const struct {
    const char *arch, *mapping;
    uint64_t blocks;
    const char *extra[8];
} agree_cases[] = {
    {EDGE, "os", 4, {"--evaluations", "1000", NULL}},
    {EDGE, "ws", 2, {"--evaluations", "1000", "--set", "blocks=2", "--set", "block=8", NULL}},
    {FUSEMAX, "os", 8, {"--evaluations", "1000", "--set", "blocks=8", "--set", "block=2", NULL}},
    {VEC_ARCH, VEC_MAP, 4, {NULL}},
};

START_TEST(online_agrees_with_three_pass) {
    const char *extra[12] = {"--check-values", "--check-against", THREE_PASS};
    int k = 3;
    for (int i = 0; agree_cases[_i].extra[i]; i++) extra[k++] = agree_cases[_i].extra[i];
    extra[k] = NULL;
    cJSON *root = e2e_run_json(agree_cases[_i].arch, ONLINE, agree_cases[_i].mapping, extra);
    check_agreement(root, agree_cases[_i].mapping, agree_cases[_i].blocks);
    ck_assert_int_eq(cJSON_GetArraySize(e2e_get(root, "einsums")), 10);
    cJSON_Delete(root);
}
END_TEST

/* step == event, byte for byte but for meta */
START_TEST(engines_agree) {
    const char *const maps[] = {"os", VEC_MAP};
    const char *const arch[] = {EDGE, VEC_ARCH};
    for (int i = 0; i < 2; i++) {
        const char *step[] = {"--engine", "step", "--check-against", THREE_PASS,
                              "--evaluations", "500", NULL};
        const char *event[] = {"--engine", "event", "--check-against", THREE_PASS,
                               "--evaluations", "500", NULL};
        cJSON *a = e2e_run_json(arch[i], ONLINE, maps[i], step);
        cJSON *b = e2e_run_json(arch[i], ONLINE, maps[i], event);
        cJSON_DeleteItemFromObject(a, "meta");
        cJSON_DeleteItemFromObject(b, "meta");
        ck_assert_msg(cJSON_Compare(a, b, 1), "%s: step and event engines differ", maps[i]);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
}
END_TEST

/* ---------- the recurrences' counts, by hand (header) ---------- */

typedef struct {
    const char *tensor;
    uint64_t dram_reads, dram_updates;
    uint64_t reads, fills, updates; /* GLB */
} tcount;

static void check_counts(const cJSON *e, const tcount *t, int n) {
    for (int k = 0; k < n; k++) {
        const char *x = t[k].tensor;
        ck_assert_msg(e2e_counter(e, "DRAM", x, "reads") == t[k].dram_reads, "DRAM %s reads", x);
        ck_assert_msg(e2e_counter(e, "DRAM", x, "updates") == t[k].dram_updates,
                      "DRAM %s updates", x);
        ck_assert_msg(e2e_counter(e, "GLB", x, "reads") == t[k].reads, "GLB %s reads %llu", x,
                      (unsigned long long)e2e_counter(e, "GLB", x, "reads"));
        ck_assert_msg(e2e_counter(e, "GLB", x, "fills") == t[k].fills, "GLB %s fills", x);
        ck_assert_msg(e2e_counter(e, "GLB", x, "updates") == t[k].updates, "GLB %s updates", x);
    }
}

START_TEST(recurrence_counts_by_hand) {
    cJSON *root = e2e_run_json(VEC_ARCH, ONLINE, VEC_MAP, NULL);
    const cJSON *rm = einsum_entry(root, "RM");
    ck_assert_uint_eq(e2e_summary_u64(rm, "ops"), 128);
    /* one entry per tensor: RM and LM, nothing else */
    ck_assert_int_eq(cJSON_GetArraySize(e2e_get(rm, "levels[0].tensors")), 2);
    const tcount rm_counts[] = {{"RM", 128, 128, 128, 128, 128}, {"LM", 128, 0, 128, 128, 0}};
    check_counts(rm, rm_counts, 2);
    const cJSON *rnv = einsum_entry(root, "RNV");
    ck_assert_uint_eq(e2e_summary_u64(rnv, "ops"), 1024);
    const tcount rnv_counts[] = {{"RNV", 1024, 1024, 1024, 1024, 1024},
                                 {"SLNV", 1024, 0, 1024, 1024, 0},
                                 {"PRM", 128, 0, 1024, 128, 0}};
    check_counts(rnv, rnv_counts, 3);
    /* 16-bit words: DRAM moves 2 bytes a word, both directions */
    ck_assert_uint_eq(e2e_path_u64(rnv, "levels[0].read_bytes"), 2 * (1024 + 1024 + 128));
    ck_assert_uint_eq(e2e_path_u64(rnv, "levels[0].write_bytes"), 2 * 1024);
    cJSON_Delete(root);
}
END_TEST

/* ---------- failures ---------- */

/* Dropping the rescale of the running sum (RD[m1+1] = SLD[m1] + RD[m1])
 * makes a different workload: the check fails with exit 3, a message
 * naming an element, and the JSON still says by how much. */
START_TEST(different_workload_fails) {
    size_t len;
    char *text = e2e_read_file(ONLINE, &len);
    ck_assert_ptr_nonnull(text);
    char *bad = replace(text, "+ RD[h,m1,p] * PRM[h,m1,p]", "+ RD[h,m1,p]");
    char *path = scratch("online_no_rescale.yaml", bad);
    char *json = e2e_tmp_path("bad.json");
    e2e_result r;
    ck_assert(e2e_runl(&r, "run", VEC_ARCH, path, VEC_MAP, "--check-values", "--check-against",
                       THREE_PASS, "-q", "-o", json, NULL));
    ck_assert_msg(r.exit_code == 3, "exit %d: %s", r.exit_code, r.err);
    ck_assert_msg(strstr(r.err, THREE_PASS ":13:6: error: einsums: --check-against failed: AV["),
                  "stderr:\n%s", r.err);
    ck_assert_msg(strstr(r.err, "in attention_online but"), "stderr:\n%s", r.err);
    cJSON *root = e2e_load_json(json);
    ck_assert_ptr_nonnull(root);
    ck_assert(cJSON_IsFalse(e2e_get(root, "summary.checked_against.passed")));
    ck_assert(e2e_path_double(root, "summary.checked_against.max_abs_error") > 1e-3);
    cJSON_Delete(root);
    e2e_result_free(&r);
    unlink(path);
    unlink(json);
    free(path);
    free(json);
    free(bad);
    free(text);
}
END_TEST

/* Workloads that cannot be compared say why (exit 1): inputs of other
 * shapes (8 keys against 16), or no output in common. */
START_TEST(incomparable_workloads) {
    e2e_result r;
    ck_assert(e2e_runl(&r, "run", VEC_ARCH, ONLINE, "os", "--check-against", THREE_PASS,
                       "--set", "blocks=2", "--evaluations", "200", "-q", NULL));
    ck_assert_msg(r.exit_code == 1, "exit %d: %s", r.exit_code, r.err);
    ck_assert_msg(strstr(r.err, "--check-against: input K has shape [2,16,8] in attention but "
                                "[2,8,8] in attention_online"),
                  "stderr:\n%s", r.err);
    e2e_result_free(&r);
    char *other = scratch("scaled_q.yaml", "name: scaled_q\neinsums: [\"QS[h,p,e] = Q[h,p,e] * 2\"]\n"
                                           "ranks: {H: 2, P: 16, E: 8}\n");
    ck_assert(e2e_runl(&r, "run", VEC_ARCH, ONLINE, VEC_MAP, "--check-against", other, "-q",
                       NULL));
    ck_assert_msg(r.exit_code == 1, "exit %d: %s", r.exit_code, r.err);
    ck_assert_msg(strstr(r.err, "--check-against: attention_online and scaled_q have no output "
                                "in common"),
                  "stderr:\n%s", r.err);
    e2e_result_free(&r);
    unlink(other);
    free(other);
}
END_TEST

/* A mapping that spreads the recurrence rank over the lanes, or fuses
 * a recurrence whose tensor stays off chip, is rejected at the line
 * concerned (exit 1). */
static const struct {
    const char *from, *to, *message;
} illegal[] = {
    {"  - einsum: RM\n    unit: vector\n    mapping:\n      - {level: DRAM, temporal: [H: 2]}\n"
     "      - {level: GLB, temporal: [M1: 4, P: 4], spatial: {cols: [P: 4]}}",
     "  - einsum: RM\n    unit: vector\n    mapping:\n      - {level: DRAM, temporal: [H: 2]}\n"
     "      - {level: GLB, temporal: [P: 16], spatial: {cols: [M1: 4]}}",
     ":23:58: error: mapping[1].spatial.cols[0].M1: rank M1 is the recurrence rank of "
     "\"RM[h,m1+1,p] = max(RM[h,m1,p], LM[h,m1,p])\": each of its steps needs the one before, "
     "so they run one after another and cannot be spread over the vector lanes"},
    {"  - einsum: RNV\n    unit: vector\n    mapping:\n      - {level: DRAM, temporal: [H: 2]}",
     "  - einsum: RNV\n    unit: vector\n    mapping:\n"
     "      - {level: DRAM, temporal: [H: 2], bypass: [PRM]}",
     ":52:9: error: bypass: RNV is a recurrence (\"RNV[h,m1+1,p,f] = SLNV[h,m1,p,f] + "
     "RNV[h,m1,p,f] * PRM[h,m1,p]\") fused with PRM .. RNV, but keeps RNV at DRAM: a fused "
     "recurrence keeps its tensor at GLB, the fusion level, as running state"},
};

START_TEST(illegal_mappings_are_located) {
    size_t len;
    char *text = e2e_read_file(VEC_MAP, &len);
    ck_assert_ptr_nonnull(text);
    char *map = replace(text, illegal[_i].from, illegal[_i].to);
    if (_i == 1) {
        /* PRM is passed on chip to RD and RNV, which keep their own
         * tensors at DRAM */
        static const char *const users[] = {"PRM", "RD"};
        for (int k = 0; k < 2; k++) {
            char from[160], to[160];
            snprintf(from, sizeof from, "  - einsum: %s\n    unit: vector\n    mapping:\n"
                     "      - {level: DRAM, temporal: [H: 2]}", users[k]);
            snprintf(to, sizeof to, "  - einsum: %s\n    unit: vector\n    mapping:\n"
                     "      - {level: DRAM, temporal: [H: 2], bypass: [PRM]}", users[k]);
            char *both = replace(map, from, to);
            free(map);
            map = both;
        }
    }
    char *path = scratch("illegal.yaml", map);
    e2e_result r;
    ck_assert(e2e_runl(&r, "run", VEC_ARCH, ONLINE, path, "-q", NULL));
    ck_assert_msg(r.exit_code == 1, "exit %d: %s", r.exit_code, r.err);
    char want[1024];
    snprintf(want, sizeof want, "%s%s", path, illegal[_i].message);
    ck_assert_msg(strstr(r.err, want), "want:\n%s\nstderr:\n%s", want, r.err);
    e2e_result_free(&r);
    unlink(path);
    free(path);
    free(map);
    free(text);
}
END_TEST

/* The mapper finds a legal mapping of every Einsum under each built-in
 * template (the recurrences' M1 always in time; other Einsums may
 * spread m1), and the result still agrees with the 3-pass cascade. */
START_TEST(mapper_maps_every_einsum) {
    static const char *const dfs[] = {"ws", "os", "is", "rs", "nlr"};
    const char *extra[] = {"--check-against", THREE_PASS, "--evaluations", "400", NULL};
    cJSON *root = e2e_run_json(EDGE, ONLINE, dfs[_i], extra);
    check_agreement(root, dfs[_i], 4);
    const cJSON *e;
    int n = 0;
    cJSON_ArrayForEach(e, e2e_get(root, "einsums")) {
        n++;
        const char *out = e2e_path_str(e, "output");
        if (strcmp(out, "RM") && strcmp(out, "RD") && strcmp(out, "RNV")) continue;
        const cJSON *lv;
        cJSON_ArrayForEach(lv, e2e_get(e, "mapping")) {
            const cJSON *f;
            cJSON_ArrayForEach(f, e2e_get(lv, "spatial.rows"))
                ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(f, "M1"));
            cJSON_ArrayForEach(f, e2e_get(lv, "spatial.cols"))
                ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(f, "M1"));
        }
    }
    ck_assert_int_eq(n, 10);
    cJSON_Delete(root);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_online");
    TCase *tc = tcase_create("online");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(tc, online_agrees_with_three_pass, 0,
                        (int)(sizeof agree_cases / sizeof agree_cases[0]));
    tcase_add_test(tc, engines_agree);
    tcase_add_test(tc, recurrence_counts_by_hand);
    tcase_add_test(tc, different_workload_fails);
    tcase_add_test(tc, incomparable_workloads);
    tcase_add_loop_test(tc, illegal_mappings_are_located, 0,
                        (int)(sizeof illegal / sizeof illegal[0]));
    tcase_add_loop_test(tc, mapper_maps_every_einsum, 0, 5);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
