/* End-to-end tests of intermediates kept in the PEs below a shared
 * fusion level: FuseMax's binding of the 1-pass online-softmax cascade,
 * where the scores never leave the PE array while their reductions meet
 * the vector unit in the GLB (docs/model.md 4.8, "Scores in the PEs").
 *
 * Small case: workloads/attention_online.yaml with blocks 8, block 2 (H
 * 2, M = 8 x 2, P 16, E = F 8, 16-bit) on tests/data/vector_small.yaml
 * (2 x 2 PEs, a 4-lane vector unit), mapped by
 * tests/data/online_pe_vector_small.yaml: shared loops DRAM
 * [H: 2, P: 8, M1: 8] (I = 128 iterations; AV, the tail, [H: 2, P: 8]),
 * the array members spread rows [P: 2], cols [M0: 2], QK and SLN kept
 * first at RF. Expected values from the loops, not from einflow:
 *   - no word of QK or SLN at the GLB or DRAM in any Einsum;
 *   - at RF, QK: one update per MAC (H P M E = 4,096), the first of each
 *     of its H P M = 512 words without a read (3,584 reads), no fill; LM
 *     and SLN read each score once (512), SLN writes each once (512),
 *     SLD reads each once (512), SLNV once per F (4,096);
 *   - the NoC into the array: QK streams Q and K, per iteration 2 x 8 +
 *     2 x 8 words, each to the 2 PEs of its row or column (4,096 words,
 *     8,192 deliveries); SLN the running maximum, 2 words to 2 PEs each
 *     (256, 512); SLNV V, 2 x 8 words to 2 PEs each (2,048, 4,096); LM and
 *     SLD nothing;
 *   - the reductions across the columns, one per result: LM and SLD 2 per
 *     iteration (256), SLNV 2 x 8 (2,048);
 *   - DRAM: Q once (H P E = 256 words), K and V once per block of 2
 *     queries (I x M0 x E = 2,048 words each), AV once (256): 9,216 B;
 *   - array steps per iteration: QK E = 8, LM, SLN, SLD 1 each, SLNV F =
 *     8, so 128 x 19 = 2,432 compute cycles of the array's Einsums;
 *   - each Einsum's utilization loss adds up to its peak;
 *   - the values equal the 3-pass cascade's (--check-against), and both
 *     engines give the same JSON;
 *   - in the trace, no array Einsum starts a tile of scores before its
 *     producer finished it, nor overwrites one before its readers ran.
 * The `fused` mapper finds the binding by itself on the 8 x 8 edge
 * array for the 3-pass cascade, exactly (values, both engines); at
 * FuseMax scale see check_e2e_fusemax.c.
 * Illegal bindings are refused at the mapping line: a loop in time
 * between the fusion level and RF, consumers spread otherwise than the
 * producer, a producer spreading a rank its scores lack. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define ARCH "tests/data/vector_small.yaml"
#define ONLINE "workloads/attention_online.yaml"
#define THREE_PASS "workloads/attention.yaml"
#define PE_MAP "tests/data/online_pe_vector_small.yaml"

enum { H = 2, M1 = 8, M0 = 2, M = M1 * M0, P = 16, E = 8, F = 8, PB = 2, WORD_BYTES = 2 };
enum { ITERS = H * (P / PB) * M1 };

static const char *const einsums[] = {"QK", "LM",  "RM", "SLN", "SLD",
                                      "SLNV", "PRM", "RD", "RNV", "AV"};
#define NEINSUMS 10

static const cJSON *einsum_at(const cJSON *r, int i) {
    char path[32];
    snprintf(path, sizeof path, "einsums[%d]", i);
    const cJSON *e = e2e_get(r, path);
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e2e_path_str(e, "output"), einsums[i]);
    return e;
}

static cJSON *run_small(const char *engine) {
    const char *extra[] = {"--set", "blocks=8", "--set", "block=2", "--engine", engine,
                           "--check-against", THREE_PASS, NULL};
    cJSON *r = e2e_run_json(ARCH, ONLINE, PE_MAP, extra);
    ck_assert(cJSON_IsTrue(e2e_get(r, "summary.values_checked")));
    return r;
}

START_TEST(scores_stay_in_the_pes) {
    cJSON *r = run_small("event");
    /* no score at the GLB or DRAM, in any Einsum */
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(r, "einsums")) {
        ck_assert_str_eq(e2e_path_str(e, "fused.level"), "GLB");
        ck_assert_uint_eq(e2e_path_u64(e, "fused.count"), NEINSUMS);
        ck_assert_ptr_null(e2e_tensor(e, "GLB", "QK"));
        ck_assert_ptr_null(e2e_tensor(e, "GLB", "SLN"));
        ck_assert_ptr_null(e2e_tensor(e, "DRAM", "QK"));
        ck_assert_ptr_null(e2e_tensor(e, "DRAM", "SLN"));
    }
    const cJSON *qk = einsum_at(r, 0), *lm = einsum_at(r, 1), *sln = einsum_at(r, 3),
                *sld = einsum_at(r, 4), *slnv = einsum_at(r, 5);
    ck_assert_uint_eq(e2e_counter(qk, "RF", "QK", "updates"), H * P * M * E);
    ck_assert_uint_eq(e2e_counter(qk, "RF", "QK", "reads"), H * P * M * E - H * P * M);
    ck_assert_uint_eq(e2e_counter(qk, "RF", "QK", "fills"), 0);
    ck_assert_uint_eq(e2e_counter(lm, "RF", "QK", "reads"), H * P * M);
    ck_assert_uint_eq(e2e_counter(sln, "RF", "QK", "reads"), H * P * M);
    ck_assert_uint_eq(e2e_counter(sln, "RF", "SLN", "updates"), H * P * M);
    ck_assert_uint_eq(e2e_counter(sln, "RF", "SLN", "fills"), 0);
    ck_assert_uint_eq(e2e_counter(sld, "RF", "SLN", "reads"), H * P * M);
    ck_assert_uint_eq(e2e_counter(slnv, "RF", "SLN", "reads"), H * P * M * F);

    /* the NoC into the array, and the reductions across its columns */
    static const struct { int einsum; uint64_t sent, deliveries, reductions; } noc[] = {
        {0, ITERS * (PB * E + M0 * E), 2 * ITERS * (PB * E + M0 * E), 0}, /* QK: Q, K */
        {1, 0, 0, ITERS * PB},                                            /* LM */
        {3, ITERS * PB, 2 * ITERS * PB, 0},                               /* SLN: RM */
        {4, 0, 0, ITERS * PB},                                            /* SLD */
        {5, ITERS * M0 * F, 2 * ITERS * M0 * F, ITERS * PB * F},          /* SLNV: V */
    };
    for (size_t i = 0; i < sizeof noc / sizeof noc[0]; i++) {
        const cJSON *x = einsum_at(r, noc[i].einsum);
        ck_assert_uint_eq(e2e_path_u64(x, "noc[0].words_sent"), noc[i].sent);
        ck_assert_uint_eq(e2e_path_u64(x, "noc[0].deliveries"), noc[i].deliveries);
        ck_assert_uint_eq(e2e_path_u64(x, "noc[0].spatial_reductions"), noc[i].reductions);
    }

    uint64_t dram = WORD_BYTES * (H * P * E + ITERS * M0 * E + ITERS * M0 * F + H * P * F);
    ck_assert_uint_eq(dram, 9216);
    ck_assert_uint_eq(e2e_einsums_level_bytes(r, "DRAM"), dram);

    /* each Einsum's utilization loss adds up: peak = cycles x units,
     * ops + the slots lost, step by step */
    cJSON_ArrayForEach(e, e2e_get(r, "einsums")) {
        const cJSON *ul = e2e_get(e, "summary.utilization_loss");
        uint64_t peak = e2e_path_u64(ul, "peak_slots"), lost = 0;
        ck_assert_uint_eq(peak, e2e_summary_u64(e, "cycles") * e2e_path_u64(ul, "pes") *
                                    e2e_path_u64(ul, "steps_per_cycle"));
        const cJSON *step;
        cJSON_ArrayForEach(step, e2e_get(ul, "steps")) lost += e2e_path_u64(step, "slots");
        ck_assert_uint_eq(lost, e2e_path_u64(ul, "lost_slots"));
        ck_assert_uint_eq(e2e_path_u64(ul, "ops") + lost, peak);
    }

    uint64_t array_compute = 0;
    static const int on_array[] = {0, 1, 3, 4, 5};
    for (size_t i = 0; i < sizeof on_array / sizeof on_array[0]; i++)
        array_compute += e2e_summary_u64(einsum_at(r, on_array[i]), "compute_cycles");
    ck_assert_uint_eq(array_compute, ITERS * (E + 1 + 1 + 1 + F));
    cJSON_Delete(r);
}
END_TEST

START_TEST(engines_agree) {
    cJSON *a = run_small("step"), *b = run_small("event");
    cJSON_DeleteItemFromObject(a, "meta");
    cJSON_DeleteItemFromObject(b, "meta");
    ck_assert_msg(cJSON_Compare(a, b, 1), "step and event engines differ");
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

/* The array's order, read off a full trace (one line per cycle and
 * unit: "cycle,einsum,compute,array,0,steps"): tile g of each array
 * Einsum is its g-th run of steps (QK and SLNV 8 cycles, the others 1).
 * A consumer of a score starts a tile after its producer's last step
 * on it (LM and SLN after QK, SLD and SLNV after SLN), and since RF is
 * not double-buffered, a producer starts tile g + 1 only after every
 * reader of its tile g is done (QK after LM and SLN, SLN after SLD and
 * SLNV). With the GLB double-buffered (as here) the array could run
 * ahead two tiles of the fusion level, which must not let it run ahead
 * of the one score each PE holds. */
START_TEST(array_order_respects_the_scores) {
    char *trace = e2e_tmp_path("pe_trace.csv");
    const char *extra[] = {"--set", "blocks=8", "--set", "block=2", "--set",
                           "arch.levels.GLB.double_buffer=true", "--trace", trace,
                           "--trace-window", "0:100000", NULL};
    cJSON *r = e2e_run_json(ARCH, ONLINE, PE_MAP, extra);
    ck_assert_uint_lt(e2e_summary_u64(r, "cycles"), 100000);
    cJSON_Delete(r);
    enum { QK_, LM_, SLN_, SLD_, SLNV_, NARRAY };
    static const char *const names[NARRAY] = {"QK", "LM", "SLN", "SLD", "SLNV"};
    static const int per_tile[NARRAY] = {E, 1, 1, 1, F};
    static uint64_t first[NARRAY][ITERS], last[NARRAY][ITERS];
    uint64_t seen[NARRAY] = {0};
    char *text = e2e_read_file(trace, NULL);
    ck_assert_ptr_nonnull(text);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long long cycle, bytes, steps;
        char einsum[16], kind[16], unit[16];
        if (sscanf(line, "%llu,%15[^,],%15[^,],%15[^,],%llu,%llu", &cycle, einsum, kind, unit,
                   &bytes, &steps) != 6 ||
            strcmp(kind, "compute") || strcmp(unit, "array") || steps == 0)
            continue;
        int i = 0;
        while (i < NARRAY && strcmp(names[i], einsum)) i++;
        ck_assert_int_lt(i, NARRAY);
        uint64_t g = seen[i] / (uint64_t)per_tile[i];
        ck_assert_uint_lt(g, ITERS);
        if (seen[i] % (uint64_t)per_tile[i] == 0) first[i][g] = cycle;
        last[i][g] = cycle;
        seen[i]++;
    }
    for (int i = 0; i < NARRAY; i++) ck_assert_uint_eq(seen[i], (uint64_t)ITERS * per_tile[i]);
    for (int g = 0; g < ITERS; g++) {
        ck_assert_uint_gt(first[LM_][g], last[QK_][g]);
        ck_assert_uint_gt(first[SLN_][g], last[QK_][g]);
        ck_assert_uint_gt(first[SLD_][g], last[SLN_][g]);
        ck_assert_uint_gt(first[SLNV_][g], last[SLN_][g]);
        if (g + 1 == ITERS) continue;
        ck_assert_msg(first[QK_][g + 1] > last[LM_][g] && first[QK_][g + 1] > last[SLN_][g],
                      "QK's tile %d starts at cycle %llu, before LM and SLN read tile %d", g + 1,
                      (unsigned long long)first[QK_][g + 1], g);
        ck_assert_msg(first[SLN_][g + 1] > last[SLD_][g] &&
                          first[SLN_][g + 1] > last[SLNV_][g],
                      "SLN's tile %d starts at cycle %llu, before SLD and SLNV read tile %d",
                      g + 1, (unsigned long long)first[SLN_][g + 1], g);
    }
    free(text);
    unlink(trace);
    free(trace);
}
END_TEST

/* ---------- the mapper ---------- */

/* The mapper's binding of the 3-pass cascade on the 8 x 8 edge array
 * (attention.yaml: H 2, M = P 16, E = F 8: QK, SN and A in the PEs):
 * values exact, both engines alike. */
START_TEST(three_pass_binding_is_exact) {
    const char *step[] = {"--engine", "step", "--check-values", NULL};
    const char *event[] = {"--engine", "event", "--check-values", NULL};
    cJSON *a = e2e_run_json("configs/edge_8x8.yaml", THREE_PASS, "fused", step);
    cJSON *b = e2e_run_json("configs/edge_8x8.yaml", THREE_PASS, "fused", event);
    ck_assert(cJSON_IsTrue(e2e_get(b, "summary.values_checked")));
    ck_assert_str_eq(e2e_path_str(b, "einsums[0].search.fusion.in_pes.level"), "RF");
    cJSON_DeleteItemFromObject(a, "meta");
    cJSON_DeleteItemFromObject(b, "meta");
    ck_assert_msg(cJSON_Compare(a, b, 1), "step and event engines differ");
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

/* ---------- legality ---------- */

#define QK_GLB "{level: GLB, bypass: [QK], spatial: {rows: [P: 2], cols: [M0: 2]}}"
#define QK_RF "{level: RF, keep: [QK], temporal: [E: 8]}"

static const struct {
    const char *from, *to; /* one edit of PE_MAP's text (its first match) */
    const char *mark;      /* where the error points ... */
    size_t into;           /* ... at this offset in it */
    const char *message;
} illegal[] = {
    /* QK walks E in time at the GLB: its partial sums would leave RF */
    {QK_GLB "\n      - " QK_RF,
     "{level: GLB, bypass: [QK], temporal: [E: 8], spatial: {rows: [P: 2], cols: [M0: 2]}}\n"
     "      - {level: RF, keep: [QK]}",
     "E: 8]", 0,
     "mapping[1].temporal[0].E: QK stays in the PEs' own storage at RF, below the fusion level "
     "GLB, but this loop walks rank E in time between them: each PE must hold its whole slice "
     "of a tile of GLB at once, and its partial results would have to leave the PE between "
     "steps"},
    /* SLD spreads the keys over the rows, SLN over the columns */
    {"{level: GLB, bypass: [SLN], spatial: {rows: [P: 2], cols: [M0: 2]}}\n"
     "      - {level: RF, keep: [SLN]}\n",
     "{level: GLB, bypass: [SLN], spatial: {rows: [M0: 2], cols: [P: 2]}}\n"
     "      - {level: RF, keep: [SLN]}\n",
     "rows: [M0: 2]", strlen("rows: ["),
     "mapping[1].spatial.rows[0].M0: SLD reads SLN in the PEs' own storage at RF, so it must "
     "spread the same loops over the PEs as SLN, which writes it there (each PE then holds the "
     "same slice for both): SLN runs [GLB rows P: 2, GLB cols M0: 2], SLD runs [GLB rows M0: "
     "2, GLB cols P: 2]"},
    /* QK spreads E, a rank it reduces, over the columns */
    {QK_GLB "\n      - " QK_RF,
     "{level: GLB, bypass: [QK], spatial: {rows: [P: 2], cols: [E: 2]}}\n"
     "      - {level: RF, keep: [QK], temporal: [M0: 2, E: 4]}",
     "cols: [E: 2]", strlen("cols: ["),
     "mapping[1].spatial.cols[0].E: QK stays in the PEs' own storage at RF, but this spatial "
     "loop spreads rank E, which QK does not have, over the PEs: each would hold a partial "
     "result, to be combined with the others' through a shared level"},
};

START_TEST(illegal_binding_is_explained) {
    char *text = e2e_read_file(PE_MAP, NULL);
    ck_assert_ptr_nonnull(text);
    const char *at = strstr(text, illegal[_i].from);
    ck_assert_msg(at != NULL, "\"%s\" is not in %s", illegal[_i].from, PE_MAP);
    size_t head = (size_t)(at - text), from = strlen(illegal[_i].from);
    size_t len = strlen(text) - from + strlen(illegal[_i].to) + 1;
    char *edited = malloc(len);
    ck_assert_ptr_nonnull(edited);
    snprintf(edited, len, "%.*s%s%s", (int)head, text, illegal[_i].to, at + from);
    char *path = e2e_write_tmp("pe.yaml", edited);
    e2e_result res;
    ck_assert(e2e_runl(&res, "run", ARCH, ONLINE, path, "--set", "blocks=8", "--set",
                       "block=2", "-q", NULL));
    ck_assert_msg(res.exit_code == 1, "exit %d, stderr:\n%s", res.exit_code, res.err);
    char where[512], want[1024];
    e2e_locate(where, sizeof where, path, edited, illegal[_i].mark, 1, illegal[_i].into);
    snprintf(want, sizeof want, "%s%s", where, illegal[_i].message);
    ck_assert_msg(strstr(res.err, want) != NULL, "stderr lacks \"%s\":\n%s", want, res.err);
    e2e_result_free(&res);
    unlink(path);
    free(path);
    free(edited);
    free(text);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_fusion_pe");
    TCase *tc = tcase_create("fusion_pe");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, scores_stay_in_the_pes);
    tcase_add_test(tc, engines_agree);
    tcase_add_test(tc, array_order_respects_the_scores);
    tcase_add_test(tc, three_pass_binding_is_exact);
    tcase_add_loop_test(tc, illegal_binding_is_explained, 0,
                        (int)(sizeof illegal / sizeof illegal[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
