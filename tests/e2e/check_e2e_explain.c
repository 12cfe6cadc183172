/* End to end: what a run says about its own mapping. Every run's JSON
 * carries the mapping it ran (einsums[].mapping), which must give back
 * the loops of the mapping file it came from; `einflow explain` prints
 * the mapped loop nest with each level's tiles, accesses per MAC and
 * bandwidth, and its JSON must carry exactly the counts `run` reports.
 * Expected numbers of the small case are derived by hand below. */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"
#include "einflow/spec.h"

#define TEACH2 "configs/teach_2level.yaml"
#define CONV1D "workloads/conv1d.yaml"
#define OS_MAP "mappings/teach_2level__conv1d_os.yaml"

/* ---------- the run's JSON carries its mapping ---------- */

typedef struct {
    const char *arch, *workload, *mapping;
} map_file_case;

static const map_file_case roundtrip_cases[] = {
    {TEACH2, CONV1D, OS_MAP},
    {TEACH2, CONV1D, "mappings/teach_2level__conv1d_ws.yaml"},
    {"configs/eyeriss_like.yaml", "workloads/resnet50_conv3x3.yaml",
     "mappings/eyeriss_like__resnet50_conv3x3.yaml"},
    {"configs/systolic_ws_16x16.yaml", "workloads/fc.yaml", "mappings/systolic_ws_16x16__fc.yaml"},
    {"configs/edge_8x8.yaml", "workloads/attention.yaml", "mappings/edge_8x8__attention.yaml"},
    {"configs/edge_8x8.yaml", "workloads/attention.yaml",
     "mappings/edge_8x8__attention_fused.yaml"},
};

/* The factors of a JSON loop list equal the file's, rank by rank in
 * order. */
static void assert_loops(const cJSON *list, const ef_factor_spec *f, int count,
                         const char *where) {
    ck_assert_msg(cJSON_GetArraySize(list) == count, "%s: %d loops in the JSON, %d in the file",
                  where, cJSON_GetArraySize(list), count);
    for (int i = 0; i < count; i++) {
        const cJSON *one = cJSON_GetArrayItem(list, i);
        ck_assert_msg(cJSON_GetArraySize(one) == 1, "%s[%d]: one rank per loop", where, i);
        ck_assert_msg(!strcmp(one->child->string, f[i].rank), "%s[%d]: rank %s, file says %s",
                      where, i, one->child->string, f[i].rank);
        uint64_t v = 0;
        ck_assert(e2e_u64(one->child, &v));
        ck_assert_msg(v == f[i].factor, "%s[%d]: %s %" PRIu64 ", file says %" PRIu64, where, i,
                      f[i].rank, v, f[i].factor);
    }
}

static bool in_list(const cJSON *list, const char *name) {
    const cJSON *it;
    cJSON_ArrayForEach(it, list) if (!strcmp(it->valuestring, name)) return true;
    return false;
}

static void assert_level(const cJSON *lv, const ef_level_mapping_spec *lm, const char *where) {
    char w[160];
    snprintf(w, sizeof w, "%s %s temporal", where, lm->level);
    assert_loops(e2e_get(lv, "temporal"), lm->temporal, lm->temporal_count, w);
    snprintf(w, sizeof w, "%s %s rows", where, lm->level);
    assert_loops(e2e_get(lv, "spatial.rows"), lm->rows, lm->row_count, w);
    snprintf(w, sizeof w, "%s %s cols", where, lm->level);
    assert_loops(e2e_get(lv, "spatial.cols"), lm->cols, lm->col_count, w);
    const cJSON *keep = e2e_get(lv, "keep");
    if (lm->keep_given) {
        /* the same set: the JSON lists them in operand order */
        ck_assert_msg(cJSON_GetArraySize(keep) == lm->keep_count, "%s %s: keep", where,
                      lm->level);
        for (int k = 0; k < lm->keep_count; k++)
            ck_assert_msg(in_list(keep, lm->keep[k]), "%s %s keeps %s", where, lm->level,
                          lm->keep[k]);
    }
    for (int k = 0; k < lm->bypass_count; k++)
        ck_assert_msg(!in_list(keep, lm->bypass[k]), "%s %s bypasses %s", where, lm->level,
                      lm->bypass[k]);
}

START_TEST(run_json_carries_the_mapping_file) {
    const map_file_case *c = &roundtrip_cases[_i];
    ef_diags *d = ef_diags_create();
    ef_mapping_spec *ms = ef_spec_load_mapping(c->mapping, d);
    ck_assert_msg(ms != NULL, "%s does not load", c->mapping);
    cJSON *j = e2e_run_json(c->arch, c->workload, c->mapping, NULL);
    const cJSON *es = e2e_get(j, "einsums");
    ck_assert_int_eq(cJSON_GetArraySize(es), ms->mapping_count);
    const cJSON *e;
    cJSON_ArrayForEach(e, es) {
        const char *out = e2e_path_str(e, "output");
        const ef_einsum_mapping_spec *em = NULL;
        for (int i = 0; i < ms->mapping_count && !em; i++)
            if (!ms->mappings[i].einsum[0] || !strcmp(ms->mappings[i].einsum, out))
                em = &ms->mappings[i];
        ck_assert_msg(em != NULL, "%s: no entry for %s", c->mapping, out);
        ck_assert_msg(!em->dataflow[0], "a written mapping is needed here");
        const cJSON *levels = e2e_get(e, "mapping");
        ck_assert_msg(cJSON_IsArray(levels), "%s: einsum %s has no mapping", c->mapping, out);
        /* each level of the file, in order; a level it leaves out runs
         * no loops */
        int matched = 0;
        const cJSON *lv;
        cJSON_ArrayForEach(lv, levels) {
            const char *name = e2e_path_str(lv, "level");
            const ef_level_mapping_spec *lm = NULL;
            for (int l = 0; l < em->level_count && !lm; l++)
                if (!strcmp(em->levels[l].level, name)) lm = &em->levels[l];
            if (lm) {
                ck_assert_msg(lm == &em->levels[matched], "%s: level %s out of order", c->mapping,
                              name);
                assert_level(lv, lm, out);
                matched++;
            } else {
                ck_assert_int_eq(cJSON_GetArraySize(e2e_get(lv, "temporal")), 0);
                ck_assert_int_eq(cJSON_GetArraySize(e2e_get(lv, "spatial.rows")), 0);
                ck_assert_int_eq(cJSON_GetArraySize(e2e_get(lv, "spatial.cols")), 0);
            }
        }
        ck_assert_int_eq(matched, em->level_count);
        /* a file's run was not searched */
        ck_assert_ptr_null(e2e_get(e, "search"));
    }
    cJSON_Delete(j);
    ef_mapping_spec_destroy(ms);
    ef_diags_destroy(d);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_explain");
    TCase *tm = tcase_create("run_mapping");
    tcase_set_timeout(tm, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(tm, run_json_carries_the_mapping_file, 0,
                        (int)(sizeof roundtrip_cases / sizeof roundtrip_cases[0]));
    suite_add_tcase(s, tm);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
