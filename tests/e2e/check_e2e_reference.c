/* End-to-end reference cases 1-4 (../shared/reference/README.md, copied
 * to tests/reference/): Timeloop's counts for the tutorial exercises.
 * Each case runs with --check-values; MACs, every level/tensor
 * reads/fills/updates (per instance), utilized capacity and utilized
 * instances must equal expected.json, and since these architectures
 * have unlimited bandwidth and no latency the cycle count must equal the
 * ideal one (no fill/drain cycles). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

static const char *const cases[] = {"tl-ex00", "tl-ex01-ws", "tl-ex01-os", "tl-ex02-tiled"};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static uint64_t expected_u64(const cJSON *o, const char *key, const char *where) {
    uint64_t v = 0;
    ck_assert_msg(e2e_u64(cJSON_GetObjectItemCaseSensitive(o, key), &v),
                  "expected.json: %s.%s missing", where, key);
    return v;
}

static cJSON *run_case(const char *name, cJSON **expected) {
    char arch[256], work[256], map[256], exp[256];
    snprintf(arch, sizeof arch, "tests/reference/%s/arch.yaml", name);
    snprintf(work, sizeof work, "tests/reference/%s/workload.yaml", name);
    snprintf(map, sizeof map, "tests/reference/%s/mapping.yaml", name);
    snprintf(exp, sizeof exp, "tests/reference/%s/expected.json", name);
    *expected = e2e_load_json(exp);
    ck_assert_msg(*expected != NULL, "cannot load %s", exp);
    const char *extra[] = {"--check-values", NULL};
    return e2e_run_json(arch, work, map, extra);
}

START_TEST(reference_counts) {
    const char *name = cases[_i];
    cJSON *exp;
    cJSON *got = run_case(name, &exp);

    ck_assert_msg(cJSON_IsTrue(e2e_get(got, "summary.values_checked")),
                  "%s: summary.values_checked is not true", name);
    uint64_t macs = e2e_summary_u64(got, "macs");
    ck_assert_msg(macs == expected_u64(exp, "macs", name), "%s: macs %llu, expected %llu", name,
                  (unsigned long long)macs, (unsigned long long)expected_u64(exp, "macs", name));

    const cJSON *exp_levels = cJSON_GetObjectItemCaseSensitive(exp, "levels");
    ck_assert_ptr_nonnull(exp_levels);
    ck_assert_msg(cJSON_GetArraySize(e2e_get(got, "levels")) == cJSON_GetArraySize(exp_levels),
                  "%s: %d levels in the result, %d expected", name,
                  cJSON_GetArraySize(e2e_get(got, "levels")), cJSON_GetArraySize(exp_levels));
    const cJSON *lv;
    cJSON_ArrayForEach(lv, exp_levels) {
        const char *level = lv->string;
        const cJSON *got_level = e2e_level(got, level);
        ck_assert_msg(got_level != NULL, "%s: no level %s in the result", name, level);
        ck_assert_msg(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(got_level, "tensors")) ==
                          cJSON_GetArraySize(lv),
                      "%s: level %s lists %d tensors, expected %d", name, level,
                      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(got_level, "tensors")),
                      cJSON_GetArraySize(lv));
        const cJSON *t;
        cJSON_ArrayForEach(t, lv) {
            const char *tensor = t->string;
            static const struct {
                const char *exp_key, *got_key;
            } keys[] = {
                {"reads", "per_instance.reads"},
                {"fills", "per_instance.fills"},
                {"updates", "per_instance.updates"},
                {"utilized_capacity", "utilized_capacity"},
                {"instances", "utilized_instances"},
            };
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
                char where[128];
                snprintf(where, sizeof where, "%s.%s", level, tensor);
                uint64_t want = expected_u64(t, keys[k].exp_key, where);
                uint64_t have = e2e_counter(got, level, tensor, keys[k].got_key);
                ck_assert_msg(have == want, "%s: %s %s %s = %llu, expected %llu", name, level,
                              tensor, keys[k].got_key, (unsigned long long)have,
                              (unsigned long long)want);
            }
            /* One instance each: totals equal the per-instance counts. */
            ck_assert_msg(e2e_counter(got, level, tensor, "reads") ==
                              e2e_counter(got, level, tensor, "per_instance.reads"),
                          "%s: %s %s total reads differ from per-instance reads", name, level,
                          tensor);
        }
    }
    cJSON_Delete(got);
    cJSON_Delete(exp);
}
END_TEST

START_TEST(reference_ideal_cycles) {
    const char *name = cases[_i];
    cJSON *exp;
    cJSON *got = run_case(name, &exp);
    uint64_t ideal = expected_u64(exp, "ideal_cycles", name);
    uint64_t cycles = e2e_summary_u64(got, "cycles");
    ck_assert_msg(cycles == ideal, "%s: %llu cycles, ideal %llu (no latency, unlimited bandwidth: "
                  "no fill/drain cycles expected)", name, (unsigned long long)cycles,
                  (unsigned long long)ideal);
    ck_assert_msg(e2e_summary_u64(got, "compute_cycles") == ideal,
                  "%s: compute_cycles %llu, expected %llu", name,
                  (unsigned long long)e2e_summary_u64(got, "compute_cycles"),
                  (unsigned long long)ideal);
    ck_assert_msg(e2e_stall_total(got) == 0, "%s: %llu stall cycles, expected none", name,
                  (unsigned long long)e2e_stall_total(got));
    double util = e2e_summary_double(got, "utilization");
    ck_assert_msg(util == 1.0, "%s: utilization %.17g, expected 1", name, util);
    cJSON_Delete(got);
    cJSON_Delete(exp);
}
END_TEST

/* The copies in tests/reference must stay identical to the shared ones
 * when those are present (they are the source of truth). */
/* FNV-1a, 64 bits: enough to tell an edited copy from the original. */
static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* The hash tests/reference/COPIES records for case/file. */
static uint64_t recorded_hash(const char *name) {
    char *list = e2e_read_file("tests/reference/COPIES", NULL);
    ck_assert_msg(list != NULL, "cannot read tests/reference/COPIES");
    uint64_t h = 0;
    bool found = false;
    for (char *line = strtok(list, "\n"); line && !found; line = strtok(NULL, "\n")) {
        char file[256];
        unsigned long long v;
        if (line[0] == '#' || sscanf(line, "%255s %llx", file, &v) != 2) continue;
        if (!strcmp(file, name)) h = v, found = true;
    }
    free(list);
    ck_assert_msg(found, "tests/reference/COPIES has no line for %s", name);
    return h;
}

/* The copies here are the files of ../shared/reference as recorded in
 * tests/reference/COPIES; where ../shared is present (not on a fresh
 * clone in CI) it must hold the same files. An edited copy fails
 * either way. */
START_TEST(reference_copies_match_shared) {
    static const char *const files[] = {"arch.yaml", "workload.yaml", "mapping.yaml",
                                        "expected.json"};
    for (size_t f = 0; f < 4; f++) {
        char name[128], mine[256], shared[512];
        snprintf(name, sizeof name, "%s/%s", cases[_i], files[f]);
        snprintf(mine, sizeof mine, "tests/reference/%s", name);
        snprintf(shared, sizeof shared, "%s/reference/%s", EF_SHARED_DIR, name);
        uint64_t want = recorded_hash(name);
        size_t n;
        char *a = e2e_read_file(mine, &n);
        ck_assert_msg(a != NULL, "cannot read %s", mine);
        ck_assert_msg(fnv1a(a, n) == want, "%s is not the copy tests/reference/COPIES records",
                      mine);
        free(a);
        char *b = e2e_read_file(shared, &n);
        if (b) ck_assert_msg(fnv1a(b, n) == want, "%s differs from its copy %s", shared, mine);
        free(b);
    }
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_reference");
    TCase *tc = tcase_create("timeloop_exercises");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(tc, reference_counts, 0, NCASES);
    tcase_add_loop_test(tc, reference_ideal_cycles, 0, NCASES);
    tcase_add_loop_test(tc, reference_copies_match_shared, 0, NCASES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
