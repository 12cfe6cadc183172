/* A cascade simulated on 1, 2 or 3 threads gives the same JSON, apart
 * from the host's wall time under meta. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

static char *run_json(const char *threads) {
    const char *args[] = {"run", "configs/teach_2level.yaml", "workloads/attention.yaml",
                          "mappings/teach_2level__attention.yaml", "--json",
                          "--threads", threads, NULL};
    e2e_result r;
    ck_assert(e2e_run(&r, args));
    ck_assert_msg(r.exit_code == 0, "%s: %s", e2e_cmdline(args), r.err);
    cJSON *j = e2e_parse_json(r.out);
    ck_assert_ptr_nonnull(j);
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "meta"),
                                            "wall_seconds");
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    e2e_result_free(&r);
    return text;
}

START_TEST(results_do_not_depend_on_threads) {
    char *one = run_json("1");
    ck_assert_ptr_nonnull(strstr(one, "\"einsums\""));
    for (int t = 2; t <= 3; t++) {
        char *many = run_json(t == 2 ? "2" : "3");
        ck_assert_msg(!strcmp(one, many), "--threads %d differs from --threads 1", t);
        free(many);
    }
    free(one);
}
END_TEST

int main(void) {
    e2e_init();
    Suite *s = suite_create("e2e_threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, results_do_not_depend_on_threads);
    suite_add_tcase(s, tc);
    return e2e_run_suite(s);
}
