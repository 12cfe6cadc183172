/* End-to-end tests of fused cascades (docs/model.md, "Fused cascades";
 * docs/spec.md, "Fusing a cascade").
 *
 * The attention cascade of workloads/attention.yaml (H 2, M = P 16,
 * E = F 8, 16-bit) on configs/edge_8x8.yaml, with the same loops fused
 * (mappings/edge_8x8__attention_fused.yaml) and Einsum by Einsum
 * (mappings/edge_8x8__attention.yaml). Expected values are worked out
 * here from the loops, not taken from einflow:
 *   - fused, only the compulsory traffic reaches DRAM: Q, K and V read
 *     once, AV written once, 2 B x H x (P E + M E + M F + P F) = 2,048 B,
 *     and no word of QK, MX, SN, SD or A;
 *   - unfused, with the loops [H: 2, P: 2] above the GLB, every
 *     intermediate is written once and read by each consumer, whose GLB
 *     tile of it changes at every iteration (QK, SN, A: 512 words each;
 *     MX, SD: 8 words per block of 8 rows, 32 in all); K and V stay in
 *     the GLB across the two row blocks of a head, so 256 words each.
 * Also: values through fused nests (array only, and array plus vector
 * unit), both engines alike, the group's cycles, and the legality rules
 * with the exact diagnostics a user sees. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define ARCH "configs/edge_8x8.yaml"
#define WORKLOAD "workloads/attention.yaml"
#define FUSED "mappings/edge_8x8__attention_fused.yaml"
#define UNFUSED "mappings/edge_8x8__attention.yaml"
#define VEC_ARCH "tests/data/vector_small.yaml"
#define VEC_FUSED "tests/data/vector_small__attention_fused.yaml"

enum { H = 2, M = 16, P = 16, E = 8, F = 8, WORD_BYTES = 2 };

static const char *const einsums[] = {"QK", "MX", "SN", "SD", "A", "AV"};
#define NEINSUMS 6

/* Words of tensor t at DRAM over all Einsums: reads, and fills plus
 * updates (what is written). */
static void dram_words(const cJSON *r, const char *t, uint64_t *rd, uint64_t *wr) {
    *rd = *wr = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(r, "einsums")) {
        if (!e2e_tensor(e, "DRAM", t)) continue;
        *rd += e2e_counter(e, "DRAM", t, "reads");
        *wr += e2e_counter(e, "DRAM", t, "fills") + e2e_counter(e, "DRAM", t, "updates");
    }
}

START_TEST(fused_moves_only_compulsory_traffic) {
    const char *extra[] = {"--check-values", NULL};
    cJSON *r = e2e_run_json(ARCH, WORKLOAD, FUSED, extra);
    ck_assert(cJSON_IsTrue(e2e_get(r, "summary.values_checked")));
    static const struct { const char *t; uint64_t rd, wr; } want[] = {
        {"Q", H * P * E, 0}, {"K", H * M * E, 0}, {"V", H * M * F, 0}, {"AV", 0, H * P * F},
        {"QK", 0, 0},        {"MX", 0, 0},        {"SN", 0, 0},        {"SD", 0, 0},
        {"A", 0, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint64_t rd, wr;
        dram_words(r, want[i].t, &rd, &wr);
        ck_assert_msg(rd == want[i].rd && wr == want[i].wr,
                      "%s at DRAM: %llu read, %llu written; expected %llu, %llu", want[i].t,
                      (unsigned long long)rd, (unsigned long long)wr,
                      (unsigned long long)want[i].rd, (unsigned long long)want[i].wr);
    }
    uint64_t compulsory = WORD_BYTES * H * (P * E + M * E + M * F + P * F);
    ck_assert_uint_eq(compulsory, 2048);
    ck_assert_uint_eq(e2e_einsums_level_bytes(r, "DRAM"), compulsory);
    /* all of it compulsory: nothing a mapping could save */
    ck_assert_str_eq(e2e_path_str(r, "summary.outer_traffic.level"), "DRAM");
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.bytes"), compulsory);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.compulsory_bytes"), compulsory);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.extra_bytes"), 0);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.tensors.QK.bytes"), 0);

    /* one group of six; each reports the group's cycles, the cascade
     * counts them once */
    uint64_t cycles = e2e_summary_u64(r, "cycles");
    for (int i = 0; i < NEINSUMS; i++) {
        char path[64];
        snprintf(path, sizeof path, "einsums[%d]", i);
        const cJSON *e = e2e_get(r, path);
        ck_assert_str_eq(e2e_path_str(e, "output"), einsums[i]);
        ck_assert_uint_eq(e2e_path_u64(e, "fused.index"), (uint64_t)i);
        ck_assert_uint_eq(e2e_path_u64(e, "fused.count"), NEINSUMS);
        ck_assert_str_eq(e2e_path_str(e, "fused.level"), "GLB");
        ck_assert_uint_eq(e2e_summary_u64(e, "cycles"), cycles);
        ck_assert_uint_eq(e2e_summary_u64(e, "compute_cycles") + e2e_stall_total(e), cycles);
    }
    /* the cycles the array spent on each Einsum add up to the group's */
    uint64_t own = 0, stalls_shown = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(r, "einsums")) {
        const cJSON *other = e2e_get(e, "summary.stall_cycles.other_einsums");
        uint64_t o = 0;
        if (other) ck_assert(e2e_u64(other, &o));
        own += e2e_summary_u64(e, "cycles") - o;
    }
    ck_assert_uint_eq(own, cycles);
    stalls_shown = e2e_stall_total(r);
    ck_assert_uint_eq(e2e_summary_u64(r, "compute_cycles") + stalls_shown, cycles);
    ck_assert(e2e_get(r, "summary.stall_cycles.other_einsums") == NULL);
    /* the array does 8,192 MACs and 2,048 other ops on 64 PEs */
    ck_assert_uint_ge(cycles, (H * M * P * E + H * M * P * F) / 64);
    cJSON_Delete(r);
}
END_TEST

START_TEST(unfused_moves_scores_through_dram) {
    cJSON *r = e2e_run_json(ARCH, WORKLOAD, UNFUSED, NULL);
    enum { S = H * M * P, ROWS = H * P };
    static const struct { const char *t; uint64_t rd, wr; } want[] = {
        {"Q", H * P * E, 0}, {"K", H * M * E, 0},  {"V", H * M * F, 0},
        {"QK", 2 * S, S},    {"MX", ROWS, ROWS},   {"SN", 2 * S, S},
        {"SD", ROWS, ROWS},  {"A", S, S},          {"AV", 0, H * P * F},
    };
    uint64_t words = 0, score_crossings = 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint64_t rd, wr;
        dram_words(r, want[i].t, &rd, &wr);
        ck_assert_msg(rd == want[i].rd && wr == want[i].wr,
                      "%s at DRAM: %llu read, %llu written; expected %llu, %llu", want[i].t,
                      (unsigned long long)rd, (unsigned long long)wr,
                      (unsigned long long)want[i].rd, (unsigned long long)want[i].wr);
        words += rd + wr;
        if (!strcmp(want[i].t, "QK") || !strcmp(want[i].t, "SN") || !strcmp(want[i].t, "A"))
            score_crossings += (rd + wr) / S;
    }
    ck_assert_uint_eq(score_crossings, 8);
    ck_assert_uint_eq(words * WORD_BYTES, 10496);
    ck_assert_uint_eq(e2e_einsums_level_bytes(r, "DRAM"), 10496);
    /* over the cascade, Q, K, V and AV once are compulsory; every byte
     * of an intermediate is extra (fusion would keep it on chip) */
    uint64_t compulsory = WORD_BYTES * H * (P * E + M * E + M * F + P * F);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.bytes"), 10496);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.compulsory_bytes"), compulsory);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.extra_bytes"), 10496 - compulsory);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char path[96];
        bool intermediate = strcmp(want[i].t, "Q") && strcmp(want[i].t, "K") &&
                            strcmp(want[i].t, "V") && strcmp(want[i].t, "AV");
        uint64_t bytes = WORD_BYTES * (want[i].rd + want[i].wr);
        snprintf(path, sizeof path, "summary.outer_traffic.tensors.%s.compulsory_bytes", want[i].t);
        ck_assert_uint_eq(e2e_path_u64(r, path), intermediate ? 0 : bytes);
        snprintf(path, sizeof path, "summary.outer_traffic.tensors.%s.extra_bytes", want[i].t);
        ck_assert_uint_eq(e2e_path_u64(r, path), intermediate ? bytes : 0);
    }
    /* one Einsum on its own: what it reads and writes once is
     * compulsory for it (QK: Q, K and its scores) */
    const cJSON *qk = e2e_get(r, "einsums[0]");
    ck_assert_uint_eq(e2e_path_u64(qk, "summary.outer_traffic.compulsory_bytes"),
                      WORD_BYTES * (H * P * E + H * M * E + S));
    ck_assert_uint_eq(e2e_path_u64(qk, "summary.outer_traffic.extra_bytes"), 0);
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(r, "einsums")) ck_assert(cJSON_IsNull(e2e_get(e, "fused")));
    cJSON_Delete(r);
}
END_TEST

/* step == event, byte for byte but for meta, on fused runs: the array
 * alone, and the array with the vector unit working in turn */
static const struct { const char *arch, *mapping; } engines_cases[] = {
    {ARCH, FUSED},
    {VEC_ARCH, VEC_FUSED},
};

START_TEST(engines_agree_on_fused_runs) {
    const char *step[] = {"--engine", "step", "--check-values", NULL};
    const char *event[] = {"--engine", "event", "--check-values", NULL};
    cJSON *a = e2e_run_json(engines_cases[_i].arch, WORKLOAD, engines_cases[_i].mapping, step);
    cJSON *b = e2e_run_json(engines_cases[_i].arch, WORKLOAD, engines_cases[_i].mapping, event);
    cJSON_DeleteItemFromObject(a, "meta");
    cJSON_DeleteItemFromObject(b, "meta");
    ck_assert_msg(cJSON_Compare(a, b, 1), "%s: step and event engines differ",
                  engines_cases[_i].mapping);
    ck_assert(cJSON_IsTrue(e2e_get(a, "summary.values_checked")));
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

/* With the softmax on the vector unit, the array and the unit each
 * spend their cycles on their own Einsums; the waits on the other unit
 * are named after it. */
START_TEST(vector_unit_in_a_fused_group) {
    cJSON *r = e2e_run_json(VEC_ARCH, WORKLOAD, VEC_FUSED, NULL);
    uint64_t cycles = e2e_summary_u64(r, "cycles");
    uint64_t array_own = 0, vector_own = 0;
    for (int i = 0; i < NEINSUMS; i++) {
        char path[64];
        snprintf(path, sizeof path, "einsums[%d]", i);
        const cJSON *e = e2e_get(r, path);
        ck_assert_uint_eq(e2e_summary_u64(e, "cycles"), cycles);
        const cJSON *other = e2e_get(e, "summary.stall_cycles.other_einsums");
        uint64_t o = 0;
        if (other) ck_assert(e2e_u64(other, &o));
        uint64_t own = cycles - o;
        if (i == 0 || i == NEINSUMS - 1) array_own += own;
        else vector_own += own;
    }
    /* each unit's Einsums share its cycles; the unit that finishes
     * first idles to the end, the other's last write-back ends it */
    ck_assert_uint_le(array_own, cycles);
    ck_assert_uint_le(vector_own, cycles);
    ck_assert(array_own == cycles || vector_own == cycles);
    /* MX waits for the array to finish QK's tile */
    ck_assert(e2e_get(r, "einsums[1].summary.stall_cycles.array") != NULL);
    cJSON_Delete(r);
}
END_TEST

/* ---------- legality ---------- */


/* text with `from` replaced by `to` (once); frees text. */
static char *replace(char *text, const char *from, const char *to) {
    char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "\"%s\" is not in %s", from, FUSED);
    size_t len = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(len);
    ck_assert_ptr_nonnull(out);
    snprintf(out, len, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    free(text);
    return out;
}

static const struct {
    const char *from, *to, *from2, *to2; /* two edits of the fused mapping */
    const char *message;                  /* a line of stderr */
} illegal[] = {
    /* MX runs its loops above the GLB in another order */
    {"        bypass: [QK, MX]\n        temporal: [H: 2, P: 2]",
     "        bypass: [QK, MX]\n        temporal: [P: 2, H: 2]", NULL, NULL,
     "MX is fused with QK (they pass intermediates on chip at GLB), so it must run the same "
     "loops above GLB: QK runs [DRAM H: 2, DRAM P: 2], MX runs [DRAM P: 2, DRAM H: 2]"},
    /* SN reads QK from DRAM although QK's producer keeps it on chip */
    {"bypass: [QK, MX, SN]", "bypass: [MX, SN]", NULL, NULL,
     "QK is first kept at GLB in the mapping of QK, which writes it, but at DRAM in the mapping "
     "of SN, which reads it: an intermediate stays on chip (fused) only if every Einsum "
     "touching it keeps it first at the same level"},
    /* MX's reduction over M split above the GLB */
    {"        bypass: [QK, MX]\n        temporal: [H: 2, P: 2]\n      - level: GLB\n"
     "        temporal: [M: 16]",
     "        bypass: [QK, MX]\n        temporal: [H: 2, P: 2, M: 2]\n      - level: GLB\n"
     "        temporal: [M: 8]", NULL, NULL,
     "MX stays on chip at GLB, but this loop above GLB walks rank M, which MX does not have: "
     "its partial results would have to leave GLB between iterations"},
    /* the final output cannot stay on chip */
    {"bypass: [A]\n", "bypass: [A, AV]\n", NULL, NULL,
     "the outermost level DRAM must keep every tensor, but AV is bypassed (only an "
     "intermediate of a cascade may stay on chip)"},
    /* QK keeps Q 8 + K 8 + QK 1 words in each RF, AV A 8 + V 8 + AV 1:
     * 34 B each, which fit 64 B alone but not together with MX's and
     * SD's 2 B */
    {"        temporal: [M: 2, E: 8]\n        spatial: {rows: [P: 8], cols: [M: 8]}\n"
     "      - level: RF\n        keep: [QK]",
     "        temporal: [M: 2]\n        spatial: {rows: [P: 8], cols: [M: 8]}\n"
     "      - level: RF\n        temporal: [E: 8]",
     "        temporal: [M: 16]\n        spatial: {rows: [P: 8], cols: [F: 8]}\n"
     "      - level: RF\n        keep: [AV]",
     "        temporal: [M: 2]\n        spatial: {rows: [P: 8], cols: [F: 8]}\n"
     "      - level: RF\n        temporal: [M: 8]",
     "the fused Einsums keep their tiles at RF together: they need 72 bytes in each PE (QK 34, MX "
     "2, SN 0, SD 2, A 0, AV 34) but it holds 64"},
};

START_TEST(illegal_fusion_is_explained) {
    char *text = e2e_read_file(FUSED, NULL);
    ck_assert_ptr_nonnull(text);
    text = replace(text, illegal[_i].from, illegal[_i].to);
    if (illegal[_i].from2) text = replace(text, illegal[_i].from2, illegal[_i].to2);
    char *path = e2e_write_tmp("fused.yaml", text);
    e2e_result res;
    ck_assert(e2e_runl(&res, "run", ARCH, WORKLOAD, path, "-q", NULL));
    ck_assert_msg(res.exit_code == 1, "exit %d, stderr:\n%s", res.exit_code, res.err);
    ck_assert_msg(strstr(res.err, illegal[_i].message) != NULL,
                  "stderr lacks \"%s\":\n%s", illegal[_i].message, res.err);
    /* located at a line of the mapping file */
    char where[512];
    snprintf(where, sizeof where, "%s:", path);
    ck_assert_msg(strstr(res.err, where) != NULL, "not located in %s:\n%s", path, res.err);
    e2e_result_free(&res);
    unlink(path);
    free(path);
    free(text);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_fusion");
    TCase *tc = tcase_create("fusion");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, fused_moves_only_compulsory_traffic);
    tcase_add_test(tc, unfused_moves_scores_through_dram);
    tcase_add_loop_test(tc, engines_agree_on_fused_runs, 0,
                        (int)(sizeof engines_cases / sizeof engines_cases[0]));
    tcase_add_test(tc, vector_unit_in_a_fused_group);
    tcase_add_loop_test(tc, illegal_fusion_is_explained, 0,
                        (int)(sizeof illegal / sizeof illegal[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
