/* The four worked examples of docs/model.md section 5, where einflow
 * counts what its buffers move and deliberately differs from Timeloop.
 * Expected numbers are derived here from the tiles, by hand, as in the
 * doc; the Timeloop figure each replaces is noted beside it. */
#include <check.h>

#include "e2e_util.h"

#define EX "tests/model_examples/"
#define TEACH2 "configs/teach_2level.yaml"

static const char *const check_values[] = {"--check-values", NULL};

/* 5.1: MainMemory [R: 3, P: 2], Buffer [P: 8], P = 16. The Buffer's I
 * tiles are [r+8a, r+8a+8): r=0: [0,8) [8,16); r=1: [1,9) keeps word 8
 * of [8,16), then [9,17); r=2: [2,10) keeps word 9, then [10,18).
 * New words: 8 + 8 + 7 + 8 + 7 + 8 = 46 (Timeloop: 6 tiles x 8 = 48). */
START_TEST(sliding_window_any_direction) {
    cJSON *j = e2e_run_json(TEACH2, EX "sliding_window.workload.yaml",
                            EX "sliding_window.mapping.yaml", check_values);
    uint64_t fills = 8 + 8 + 7 + 8 + 7 + 8;
    ck_assert_uint_eq(e2e_counter(j, "Buffer", "I", "fills"), fills);
    ck_assert_uint_eq(e2e_counter(j, "MainMemory", "I", "reads"), fills);
    ck_assert_uint_eq(e2e_counter(j, "Buffer", "I", "utilized_capacity"), 8);
    cJSON_Delete(j);
}
END_TEST

/* 5.2: P = 4 on four PEs (cols: [P: 4]), R = 3 temporal in the RF. PE k
 * needs I[k..k+2]; one GLB read per distinct word: 4 + 3 - 1 = 6
 * (Timeloop: the tiles are not identical, so 4 x 3 = 12 reads). Every
 * PE still receives its 3 words: 12 deliveries. W is the same in all
 * PEs: 3 reads, 12 deliveries. */
START_TEST(multicast_overlapping_tiles) {
    cJSON *j = e2e_run_json(EX "multicast.arch.yaml", EX "multicast.workload.yaml",
                            EX "multicast.mapping.yaml", check_values);
    ck_assert_uint_eq(e2e_counter(j, "GLB", "I", "reads"), 4 + 3 - 1);
    ck_assert_uint_eq(e2e_counter(j, "RF", "I", "fills"), 4 * 3);
    ck_assert_uint_eq(e2e_counter(j, "GLB", "W", "reads"), 3);
    ck_assert_uint_eq(e2e_path_u64(j, "noc[0].words_sent"), 6 + 3);
    ck_assert_uint_eq(e2e_path_u64(j, "noc[0].deliveries"), 12 + 12);
    cJSON_Delete(j);
}
END_TEST

/* 5.3: I[p*2 + r], P = 4, R = 1: the Buffer tile is {0, 2, 4, 6}, four
 * words (Timeloop: the bounding box 0..6, seven). */
START_TEST(strided_tile_counts_used_words) {
    cJSON *j = e2e_run_json(TEACH2, EX "strided.workload.yaml", EX "strided.mapping.yaml",
                            check_values);
    ck_assert_uint_eq(e2e_counter(j, "Buffer", "I", "utilized_capacity"), 4);
    ck_assert_uint_eq(e2e_counter(j, "Buffer", "I", "fills"), 4);
    cJSON_Delete(j);
}
END_TEST

/* 5.4: Z[m] += A[m,k] * B[k], M = 2, K = 6; three PEs reduce K
 * (cols: [K: 3]); GLB temporal [K: 2, M: 2]. Each Z word is visited by
 * the group twice; the second time its partial sum returns once, into
 * one PE: RF Z fills = M = 2 (Timeloop: one per PE of the group, 6).
 * RF Z updates = MACs = 12; visits that start empty: first visits
 * 2 x 3 PEs + second visits 2 x 2 PEs = 10, so RF Z reads = 12 - 10 = 2.
 * GLB Z: 2 drains per word, reduced: updates 4, reads 4 - 2 = 2. */
START_TEST(refilled_partial_sum_enters_group_once) {
    cJSON *j = e2e_run_json(EX "refill.arch.yaml", EX "refill.workload.yaml",
                            EX "refill.mapping.yaml", check_values);
    ck_assert_uint_eq(e2e_counter(j, "RF", "Z", "fills"), 2);
    ck_assert_uint_eq(e2e_counter(j, "RF", "Z", "updates"), 12);
    ck_assert_uint_eq(e2e_counter(j, "RF", "Z", "reads"), 12 - 10);
    ck_assert_uint_eq(e2e_counter(j, "GLB", "Z", "updates"), 4);
    ck_assert_uint_eq(e2e_counter(j, "GLB", "Z", "reads"), 2);
    /* three partial sums combine into one update at each of 4 drains */
    ck_assert_uint_eq(e2e_path_u64(j, "noc[0].spatial_reductions"), 4 * 2);
    cJSON_Delete(j);
}
END_TEST

int main(void) {
    e2e_init();
    Suite *s = suite_create("e2e_model_examples");
    TCase *tc = tcase_create("model_md_section_5");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, sliding_window_any_direction);
    tcase_add_test(tc, multicast_overlapping_tiles);
    tcase_add_test(tc, strided_tile_counts_used_words);
    tcase_add_test(tc, refilled_partial_sum_enters_group_once);
    suite_add_tcase(s, tc);
    return e2e_run_suite(s);
}
