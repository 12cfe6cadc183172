/* End to end: `einflow map` writes a mapping that `einflow run` takes
 * back and simulates to the same numbers the mapper reported, and
 * `einflow run ARCH WORKLOAD DATAFLOW` is the same as mapping first and
 * running the file. Expected numbers here are the mapper's own claims
 * checked against an independent run of its output, plus the lower
 * bounds every mapping must respect. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

typedef struct {
    const char *arch, *workload, *dataflow;
    uint64_t macs;      /* product of the rank bounds, by hand     */
    uint64_t pes;
} map_case;

static const map_case cases[] = {
    {"configs/teach_2level.yaml", "workloads/conv1d.yaml", "free", 48, 1},
    {"configs/systolic_os_16x16.yaml", "workloads/batched_matmul.yaml", "os", 1048576, 256},
    {"configs/systolic_ws_16x16.yaml", "workloads/batched_matmul.yaml", "ws", 1048576, 256},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* What only says how a result was produced: wall time, the mapping's
 * name, and the search that found it. */
static void drop_provenance(cJSON *j) {
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "meta"),
                                            "wall_seconds");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "meta"),
                                            "mapping");
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "einsums")) {
        cJSON_DeleteItemFromObjectCaseSensitive(e, "mapping");
        cJSON_DeleteItemFromObjectCaseSensitive(e, "search");
    }
}

START_TEST(map_then_run_roundtrip) {
    const map_case *c = &cases[_i];
    char *yaml = e2e_tmp_path("map.yaml");
    e2e_result r;
    ck_assert(e2e_runl(&r, "map", c->arch, c->workload, "--dataflow", c->dataflow,
                       "--evaluations", "600", "-o", yaml, NULL));
    ck_assert_msg(r.exit_code == 0, "map failed:\n%s", r.err);
    ck_assert_msg(strstr(r.out, "mapping written to") != NULL, "%s", r.out);
    e2e_result_free(&r);
    /* the file is a valid mapping with its comments */
    ck_assert(e2e_runl(&r, "validate", yaml, NULL));
    ck_assert_msg(r.exit_code == 0, "validate failed:\n%s", r.err);
    e2e_result_free(&r);
    char *text = e2e_read_file(yaml, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "# Loop nest, outermost first:") != NULL, "%s", text);
    uint64_t claimed = e2e_mapping_claimed_cycles(text);
    ck_assert_msg(claimed > 0, "%s", text);
    /* run the file: the numbers the mapper claimed */
    const char *quiet[] = {NULL};
    cJSON *a = e2e_run_json(c->arch, c->workload, yaml, quiet);
    ck_assert_uint_eq(e2e_summary_u64(a, "cycles"), claimed);
    ck_assert_uint_eq(e2e_summary_u64(a, "macs"), c->macs);
    /* no mapping beats one MAC per PE per cycle */
    ck_assert_uint_ge(e2e_summary_u64(a, "cycles") * c->pes, c->macs);
    /* run with the dataflow in place of the file: the same result */
    const char *extra[] = {"--evaluations", "600", NULL};
    cJSON *b = e2e_run_json(c->arch, c->workload, c->dataflow, extra);
    /* which says the mapping it found and how */
    ck_assert_str_eq(e2e_path_str(b, "einsums[0].mapping[0].level"),
                     e2e_path_str(b, "levels[0].name"));
    ck_assert_uint_ge(e2e_path_u64(b, "einsums[0].search.legal"), 1);
    ck_assert_uint_ge(e2e_path_u64(b, "einsums[0].search.considered"),
                      e2e_path_u64(b, "einsums[0].search.legal"));
    drop_provenance(a);
    drop_provenance(b);
    char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
    ck_assert_msg(ta && tb && !strcmp(ta, tb), "map + run differs from run with a dataflow");
    free(ta);
    free(tb);
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(text);
    unlink(yaml);
    free(yaml);
}
END_TEST

/* The values pushed through a mapped nest agree with the Einsum. */
START_TEST(dataflow_run_checks_values) {
    const map_case *c = &cases[_i];
    e2e_result r;
    ck_assert(e2e_runl(&r, "run", c->arch, c->workload, c->dataflow, "--evaluations", "300",
                       "--check-values", NULL));
    ck_assert_msg(r.exit_code == 0, "run failed:\n%s", r.err);
    ck_assert_msg(strstr(r.out, "outputs match") != NULL, "%s", r.out);
    e2e_result_free(&r);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_map");
    TCase *tc = tcase_create("map");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(tc, map_then_run_roundtrip, 0, NCASES);
    tcase_add_loop_test(tc, dataflow_run_checks_values, 0, NCASES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
