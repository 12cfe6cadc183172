/* End-to-end tests of cascades fused through a per-PE level, the PEs'
 * register files (docs/model.md, "Fused cascades"; docs/spec.md, "Fusing
 * a cascade").
 *
 * The attention cascade of tests/data/attention_m4.yaml (H 2, M 4, P 16,
 * E = F 8, 16-bit) on configs/edge_8x8.yaml with every intermediate kept
 * first at RF (tests/data/edge_8x8__attention_m4_rf_fused.yaml): shared
 * loops DRAM [H: 2, P: 2] and GLB spatial rows [P: 8], each Einsum's own
 * loops at RF. Expected values are worked out here from the loops, not
 * taken from einflow:
 *   - DRAM: Q read once (H P E words); K and V once (H M E, H M F: the
 *     GLB keeps a head's K and V across the P loop inside H, and neither
 *     depends on p); AV written once (H P F): 2 B x H x (P E + M E + M F
 *     + P F) = 1,280 B; no word of QK, MX, SN, SD or A;
 *   - the GLB and the NoC carry no word of an intermediate: MX, SN, SD
 *     and A send nothing over the NoC; QK sends Q (H P E = 256 words,
 *     one PE each) and K (M E = 32 words per shared iteration, 4 of
 *     them, each to the 8 rows: 128 words, 1,024 deliveries); AV sends
 *     V likewise (128 words, 1,024 deliveries);
 *   - at RF the intermediates arrive with no fill, written by their
 *     producers' updates: QK one per MAC (H M P E = 1,024), of which the
 *     first of each of the H M P = 128 words has no read (896 reads);
 *     MX, SN, SD and A one per point (H M P = 128 updates);
 *   - values through the fused nest equal the direct evaluation, and
 *     both engines give the same JSON.
 * The 1-pass online-softmax cascade (workloads/attention_online.yaml)
 * fused whole at RF (tests/data/edge_8x8__attention_online_rf_fused.yaml:
 * shared loops DRAM [H: 2, P: 2, M1: 4] and rows [P: 8], AV the tail):
 * DRAM moves Q once, K and V once per block of Pb = 8 queries and AV
 * once, 2 B x H x (P E + (P/Pb) M E + (P/Pb) M F + P F) = 3,072 B, the
 * running state lives in the RFs (RM: H M1 P = 128 old-value reads by RM
 * and 128 updates, no fill), and the result equals the 3-pass
 * cascade's. Illegal fusions through RF are refused at the mapping line
 * with the exact diagnostic: a member on the vector unit, spatial loops
 * that differ, tiles that do not fit one PE together, a spatial loop
 * over a rank an intermediate reduces. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define ARCH "configs/edge_8x8.yaml"
#define WORKLOAD "tests/data/attention_m4.yaml"
#define RF_FUSED "tests/data/edge_8x8__attention_m4_rf_fused.yaml"
#define ONLINE "workloads/attention_online.yaml"
#define ONLINE_RF_FUSED "tests/data/edge_8x8__attention_online_rf_fused.yaml"
#define THREE_PASS "workloads/attention.yaml"
#define VEC_ARCH "tests/data/vector_small.yaml"

enum { H = 2, M = 4, P = 16, E = 8, F = 8, ROWS = 8, WORD_BYTES = 2 };
/* iterations of the shared temporal loops: H x P / ROWS */
enum { ITERS = H * (P / ROWS) };

static const char *const einsums[] = {"QK", "MX", "SN", "SD", "A", "AV"};
static const char *const intermediates[] = {"QK", "MX", "SN", "SD", "A"};
#define NEINSUMS 6
#define NINTER 5

/* Words of tensor t at `level` over all Einsums: reads, and fills plus
 * updates (what is written); 0 where no Einsum keeps it there. */
static void level_words(const cJSON *r, const char *level, const char *t, uint64_t *rd,
                        uint64_t *wr) {
    *rd = *wr = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(r, "einsums")) {
        if (!e2e_tensor(e, level, t)) continue;
        *rd += e2e_counter(e, level, t, "reads");
        *wr += e2e_counter(e, level, t, "fills") + e2e_counter(e, level, t, "updates");
    }
}

static const cJSON *einsum_at(const cJSON *r, int i) {
    char path[32];
    snprintf(path, sizeof path, "einsums[%d]", i);
    const cJSON *e = e2e_get(r, path);
    ck_assert_ptr_nonnull(e);
    return e;
}

START_TEST(rf_fused_moves_only_compulsory_traffic) {
    const char *extra[] = {"--check-values", NULL};
    cJSON *r = e2e_run_json(ARCH, WORKLOAD, RF_FUSED, extra);
    ck_assert(cJSON_IsTrue(e2e_get(r, "summary.values_checked")));
    static const struct { const char *t; uint64_t rd, wr; } want[] = {
        {"Q", H * P * E, 0}, {"K", H * M * E, 0}, {"V", H * M * F, 0}, {"AV", 0, H * P * F},
        {"QK", 0, 0},        {"MX", 0, 0},        {"SN", 0, 0},        {"SD", 0, 0},
        {"A", 0, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint64_t rd, wr;
        level_words(r, "DRAM", want[i].t, &rd, &wr);
        ck_assert_msg(rd == want[i].rd && wr == want[i].wr,
                      "%s at DRAM: %llu read, %llu written; expected %llu, %llu", want[i].t,
                      (unsigned long long)rd, (unsigned long long)wr,
                      (unsigned long long)want[i].rd, (unsigned long long)want[i].wr);
    }
    uint64_t compulsory = WORD_BYTES * H * (P * E + M * E + M * F + P * F);
    ck_assert_uint_eq(compulsory, 1280);
    ck_assert_uint_eq(e2e_einsums_level_bytes(r, "DRAM"), compulsory);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.bytes"), compulsory);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.extra_bytes"), 0);

    /* no intermediate word at the GLB, nor on the NoC */
    for (int i = 0; i < NINTER; i++) {
        uint64_t rd, wr;
        level_words(r, "GLB", intermediates[i], &rd, &wr);
        ck_assert_msg(rd == 0 && wr == 0, "%s at the GLB: %llu read, %llu written",
                      intermediates[i], (unsigned long long)rd, (unsigned long long)wr);
    }
    static const struct { uint64_t sent, deliveries; } noc[NEINSUMS] = {
        {H * P * E + ITERS * M * E, H * P * E + ITERS * M * E * ROWS}, /* QK: Q, K */
        {0, 0}, {0, 0}, {0, 0}, {0, 0},                               /* MX .. A */
        {ITERS * M * F, ITERS * M * F * ROWS},                        /* AV: V */
    };
    for (int i = 0; i < NEINSUMS; i++) {
        const cJSON *e = einsum_at(r, i);
        ck_assert_str_eq(e2e_path_str(e, "output"), einsums[i]);
        ck_assert_str_eq(e2e_path_str(e, "fused.level"), "RF");
        ck_assert_uint_eq(e2e_path_u64(e, "noc[0].words_sent"), noc[i].sent);
        ck_assert_uint_eq(e2e_path_u64(e, "noc[0].deliveries"), noc[i].deliveries);
    }

    /* at RF: written by the producers' updates, never filled */
    const cJSON *qk = einsum_at(r, 0);
    ck_assert_uint_eq(e2e_counter(qk, "RF", "QK", "updates"), H * M * P * E);
    ck_assert_uint_eq(e2e_counter(qk, "RF", "QK", "reads"), H * M * P * E - H * M * P);
    ck_assert_uint_eq(e2e_counter(qk, "RF", "QK", "fills"), 0);
    for (int i = 1; i < NINTER; i++) {
        const cJSON *e = einsum_at(r, i);
        ck_assert_uint_eq(e2e_counter(e, "RF", intermediates[i], "fills"), 0);
        /* one update per point, the reductions over M (MX, SD) too */
        ck_assert_uint_eq(e2e_counter(e, "RF", intermediates[i], "updates"), H * M * P);
    }

    /* one group of six: each reports the group's cycles; on the one
     * unit, the cycles each spends on its own add up to the group's */
    uint64_t cycles = e2e_summary_u64(r, "cycles"), own = 0;
    for (int i = 0; i < NEINSUMS; i++) {
        const cJSON *e = einsum_at(r, i);
        ck_assert_uint_eq(e2e_summary_u64(e, "cycles"), cycles);
        ck_assert_uint_eq(e2e_path_u64(e, "fused.count"), NEINSUMS);
        const cJSON *other = e2e_get(e, "summary.stall_cycles.other_einsums");
        uint64_t o = 0;
        if (other) ck_assert(e2e_u64(other, &o));
        own += cycles - o;
    }
    ck_assert_uint_eq(own, cycles);
    /* 80 steps per PE and shared iteration: QK M E = 32, MX SN SD A
     * M = 4 each, AV F M = 32 */
    ck_assert_uint_eq(e2e_summary_u64(r, "compute_cycles"),
                      ITERS * (M * E + 4 * M + F * M));
    cJSON_Delete(r);
}
END_TEST

START_TEST(online_fused_at_rf) {
    enum { M1 = 4, M0 = 4, MM = M1 * M0, PB = ROWS };
    const char *extra[] = {"--check-against", THREE_PASS, NULL};
    cJSON *r = e2e_run_json(ARCH, ONLINE, ONLINE_RF_FUSED, extra);
    ck_assert(cJSON_IsTrue(e2e_get(r, "summary.values_checked")));
    uint64_t bytes = WORD_BYTES * H * (P * E + (P / PB) * MM * E + (P / PB) * MM * F + P * F);
    ck_assert_uint_eq(bytes, 3072);
    ck_assert_uint_eq(e2e_einsums_level_bytes(r, "DRAM"), bytes);
    static const char *const state[] = {"QK", "LM", "RM", "SLN", "SLD",
                                        "SLNV", "PRM", "RD", "RNV"};
    for (size_t i = 0; i < sizeof state / sizeof state[0]; i++) {
        uint64_t rd, wr;
        level_words(r, "DRAM", state[i], &rd, &wr);
        ck_assert_uint_eq(rd + wr, 0);
        level_words(r, "GLB", state[i], &rd, &wr);
        ck_assert_msg(rd + wr == 0, "%s at the GLB: %llu words", state[i],
                      (unsigned long long)(rd + wr));
    }
    /* RM, running state in the RFs: the old value read once per step by
     * RM, the new one written once, nothing filled */
    const cJSON *rm = einsum_at(r, 2);
    ck_assert_str_eq(e2e_path_str(rm, "output"), "RM");
    ck_assert_str_eq(e2e_path_str(rm, "fused.level"), "RF");
    ck_assert_uint_eq(e2e_counter(rm, "RF", "RM", "reads"), H * M1 * P);
    ck_assert_uint_eq(e2e_counter(rm, "RF", "RM", "updates"), H * M1 * P);
    ck_assert_uint_eq(e2e_counter(rm, "RF", "RM", "fills"), 0);
    cJSON_Delete(r);
}
END_TEST

/* step == event, byte for byte but for meta */
static const struct { const char *workload, *mapping; } engines_cases[] = {
    {WORKLOAD, RF_FUSED},
    {ONLINE, ONLINE_RF_FUSED},
};

START_TEST(engines_agree_at_rf) {
    const char *step[] = {"--engine", "step", "--check-values", NULL};
    const char *event[] = {"--engine", "event", "--check-values", NULL};
    cJSON *a = e2e_run_json(ARCH, engines_cases[_i].workload, engines_cases[_i].mapping, step);
    cJSON *b = e2e_run_json(ARCH, engines_cases[_i].workload, engines_cases[_i].mapping, event);
    cJSON_DeleteItemFromObject(a, "meta");
    cJSON_DeleteItemFromObject(b, "meta");
    ck_assert_msg(cJSON_Compare(a, b, 1), "%s: step and event engines differ",
                  engines_cases[_i].mapping);
    ck_assert(cJSON_IsTrue(e2e_get(a, "summary.values_checked")));
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

/* ---------- legality ---------- */

/* The vector unit's lanes read and write the GLB only: they cannot reach
 * what QK keeps in the RFs (tests/data/vector_small.yaml: 2 x 2 PEs with
 * RFs, a 4-lane vector unit fed from the GLB). */
static const char vector_mapping[] =
    "mappings:\n"
    "  - einsum: QK\n"
    "    mapping:\n"
    "      - {level: DRAM, bypass: [QK], temporal: [H: 2, P: 4]}\n"
    "      - {level: GLB, bypass: [QK], temporal: [P: 2, M: 8], spatial: {rows: [P: 2], cols: [M: 2]}}\n"
    "      - {level: RF, keep: [QK], temporal: [E: 8]}\n"
    "  - einsum: MX\n"
    "    unit: vector\n"
    "    mapping:\n"
    "      - {level: DRAM, bypass: [QK, MX], temporal: [H: 2, P: 4]}\n"
    "      - {level: GLB, temporal: [M: 16], spatial: {cols: [P: 4]}}\n"
    "  - einsum: SN\n"
    "    unit: vector\n"
    "    mapping:\n"
    "      - {level: DRAM, bypass: [QK, MX, SN], temporal: [H: 2, P: 4]}\n"
    "      - {level: GLB, temporal: [M: 16], spatial: {cols: [P: 4]}}\n"
    "  - einsum: SD\n"
    "    unit: vector\n"
    "    mapping:\n"
    "      - {level: DRAM, bypass: [SN, SD], temporal: [H: 2, P: 4]}\n"
    "      - {level: GLB, temporal: [M: 16], spatial: {cols: [P: 4]}}\n"
    "  - einsum: A\n"
    "    unit: vector\n"
    "    mapping:\n"
    "      - {level: DRAM, bypass: [SN, SD, A], temporal: [H: 2, P: 4]}\n"
    "      - {level: GLB, temporal: [M: 16], spatial: {cols: [P: 4]}}\n"
    "  - einsum: AV\n"
    "    mapping:\n"
    "      - {level: DRAM, bypass: [A], temporal: [H: 2, P: 4]}\n"
    "      - {level: GLB, temporal: [P: 2, F: 4, M: 4], spatial: {rows: [P: 2], cols: [F: 2]}}\n"
    "      - {level: RF, temporal: [M: 4]}\n";

START_TEST(vector_member_is_refused) {
    char *path = e2e_write_tmp("vector.yaml", vector_mapping);
    e2e_result res;
    ck_assert(e2e_runl(&res, "run", VEC_ARCH, THREE_PASS, path, "-q", NULL));
    ck_assert_msg(res.exit_code == 1, "exit %d, stderr:\n%s", res.exit_code, res.err);
    char where[512], want[1024];
    e2e_locate(where, sizeof where, path, vector_mapping, "unit: vector", 1, strlen("unit: "));
    snprintf(want, sizeof want,
             "%sunit: MX runs on the vector unit VU, which reads and writes GLB only: it cannot "
             "reach QK at RF, the PEs' own storage (per_pe), where QK keeps it; Einsums fused "
             "through a per-PE level must all run on the PE array",
             where);
    ck_assert_msg(strstr(res.err, want) != NULL, "stderr lacks \"%s\":\n%s", want, res.err);
    ck_assert(strstr(res.err, "hint: map it with unit: array, or keep the intermediate first at "
                              "a shared level in every mapping touching it") != NULL);
    e2e_result_free(&res);
    unlink(path);
    free(path);
}
END_TEST

static const struct {
    const char *edits[4][2];              /* RF_FUSED's text: from, to (every match) */
    const char *mark;                     /* where the error points ... */
    int nth;                              /* ... (its nth match, 0: the last) */
    size_t into;                          /* ... at this offset in it */
    const char *message;
} illegal[] = {
    /* MX spreads 4 query rows over the PEs, QK 8: a PE's QK is not the
     * QK MX reads there */
    {{{"        bypass: [QK, MX]\n        spatial: {rows: [P: 8]}\n      - level: RF\n"
       "        keep: [QK, MX]\n        temporal: [M: 4]",
       "        bypass: [QK, MX]\n        spatial: {rows: [P: 4]}\n      - level: RF\n"
       "        keep: [QK, MX]\n        temporal: [P: 2, M: 4]"}},
     "spatial: {rows: [P: 4]}", 1, strlen("spatial: {rows: ["),
     "mapping[1].spatial.rows[0].P: MX is fused with QK through RF, the PEs' own storage, so it "
     "must spread the same loops over the PEs above RF (each PE then holds the same slice of "
     "every intermediate for the Einsum writing it and those reading it): QK runs [GLB rows P: "
     "8], MX runs [GLB rows P: 4]"},
    /* two query rows per PE double every tile: QK (Q 16 + QK 8 words)
     * and AV (A 8 + AV 16) fit 64 B alone, but the group's tiles, each
     * intermediate counted once with its producer, need QK 24, MX 2,
     * SN 8, SD 2, A 8, AV 16 = 60 words (120 B) */
    {{{"spatial: {rows: [P: 8]}", "spatial: {rows: [P: 4]}"},
      {"        temporal: [M", "        temporal: [P: 2, M"},
      {"        temporal: [F", "        temporal: [P: 2, F"}},
     "- level: RF", 0, strlen("- "),
     "keep: the fused Einsums keep their tiles at RF together: they need 120 bytes in each PE "
     "(QK 48, MX 4, SN 16, SD 4, A 16, AV 32) but it holds 64"},
    /* the 4 keys over the PE columns: MX's maximum over them would be
     * four partial results in four PEs (SD's sum likewise) */
    {{{"rows: [P: 8]}", "rows: [P: 8], cols: [M: 4]}"},
      {"M: 4, E: 8", "E: 8"},
      {"\n        temporal: [M: 4]", ""},
      {"F: 8, M: 4", "F: 8"}},
     "cols: [M: 4]", 2, strlen("cols: ["),
     "mapping[1].spatial.cols[0].M: MX stays on chip at RF, the PEs' own storage, but this "
     "spatial loop above RF spreads rank M, which MX does not have, over the PEs: each would "
     "hold a partial result, to be combined with the others' through a shared level"},
};

START_TEST(illegal_rf_fusion_is_explained) {
    char *text = e2e_read_file(RF_FUSED, NULL);
    ck_assert_ptr_nonnull(text);
    for (int k = 0; k < 4 && illegal[_i].edits[k][0]; k++) {
        char *next = e2e_replace_all(text, illegal[_i].edits[k][0], illegal[_i].edits[k][1]);
        free(text);
        text = next;
    }
    char *path = e2e_write_tmp("rf.yaml", text);
    e2e_result res;
    ck_assert(e2e_runl(&res, "run", ARCH, WORKLOAD, path, "-q", NULL));
    ck_assert_msg(res.exit_code == 1, "exit %d, stderr:\n%s", res.exit_code, res.err);
    char where[512], want[1024];
    e2e_locate(where, sizeof where, path, text, illegal[_i].mark, illegal[_i].nth,
           illegal[_i].into);
    snprintf(want, sizeof want, "%s%s", where, illegal[_i].message);
    ck_assert_msg(strstr(res.err, want) != NULL, "stderr lacks \"%s\":\n%s", want, res.err);
    e2e_result_free(&res);
    unlink(path);
    free(path);
    free(text);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_fusion_rf");
    TCase *tc = tcase_create("fusion_rf");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, rf_fused_moves_only_compulsory_traffic);
    tcase_add_test(tc, online_fused_at_rf);
    tcase_add_loop_test(tc, engines_agree_at_rf, 0,
                        (int)(sizeof engines_cases / sizeof engines_cases[0]));
    tcase_add_test(tc, vector_member_is_refused);
    tcase_add_loop_test(tc, illegal_rf_fusion_is_explained, 0,
                        (int)(sizeof illegal / sizeof illegal[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
