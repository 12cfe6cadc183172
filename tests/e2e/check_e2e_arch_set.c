/* End to end: `--set arch.PATH=VALUE` overrides a scalar of the
 * architecture. The expected results come from an independent route:
 * the same change written into a copy of the file by hand, run without
 * --set; the two runs must agree on every number (the mapper is seeded,
 * so it sees the same architecture and finds the same mappings). Each
 * kind of value is covered: an integer, a size with a unit, a
 * bandwidth, a key the file leaves out, one direction of a level's
 * `bandwidth:`. The overrides are recorded in meta.set as strings. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

#define ARCH "configs/eyeriss_like.yaml"
#define NET "tests/data/tiny_net.yaml"

/* The text of path with the first `from` replaced by `to` (malloc'd). */
static char *edited(const char *path, const char *from, const char *to) {
    char *text = e2e_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "%s has no \"%s\"", path, from);
    size_t head = (size_t)(at - text), n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    ck_assert_ptr_nonnull(out);
    snprintf(out, n, "%.*s%s%s", (int)head, text, to, at + strlen(from));
    free(text);
    return out;
}

static cJSON *run_json(const char *arch, const char *set) {
    const char *args[] = {"run", arch, NET, "rs", "--evaluations", "200", "--threads", "1",
                          "--json", set ? "--set" : NULL, set, NULL};
    e2e_result r;
    ck_assert(e2e_run(&r, args));
    ck_assert_msg(r.exit_code == 0, "%s failed (%d):\n%s", e2e_cmdline(args), r.exit_code, r.err);
    cJSON *j = e2e_parse_json(r.out);
    ck_assert_msg(j != NULL, "%s: not JSON", e2e_cmdline(args));
    e2e_result_free(&r);
    return j;
}

static const struct {
    const char *set;        /* --set's value                            */
    const char *from, *to;  /* the same change made in the file's text   */
    const char *check;      /* a JSON path that shows it, or NULL        */
    uint64_t want;
} kinds[] = {
    /* an integer */
    {"arch.pe_array.rows=6", "pe_array: {rows: 12,", "pe_array: {rows: 6,", "architecture.rows", 6},
    /* a size with a unit */
    {"arch.levels.GLB.capacity=1 KiB", "capacity: 108 KiB", "capacity: 1 KiB", NULL, 0},
    /* a bandwidth the file gives */
    {"arch.levels.DRAM.read_bandwidth=2", "read_bandwidth: 8 ", "read_bandwidth: 2 ", NULL, 0},
    /* a key the file leaves out: RF has no read_bandwidth */
    {"arch.levels.RF.read_bandwidth=1", "per_pe: true ", "per_pe: true\n    read_bandwidth: 1 ",
     NULL, 0},
    /* one tensor's partition of a per-tensor capacity */
    {"arch.levels.RF.capacity.F=1 words", "F: 224 words", "F: 1 words", NULL, 0},
    /* a network's scalar, found by its from level */
    {"arch.noc.GLB.bandwidth=2", "bandwidth: 16             # bytes per cycle into",
     "bandwidth: 2 #", NULL, 0},
};

START_TEST(set_equals_edited_file) {
    char *text = edited(ARCH, kinds[_i].from, kinds[_i].to);
    char *path = e2e_write_tmp("arch.yaml", text);
    cJSON *by_set = run_json(ARCH, kinds[_i].set);
    cJSON *by_file = run_json(path, NULL);
    cJSON *plain = run_json(ARCH, NULL);
    uint64_t c_set = e2e_summary_u64(by_set, "cycles"), c_file = e2e_summary_u64(by_file, "cycles");
    ck_assert_msg(c_set == c_file, "%s: %llu cycles, the edited file %llu", kinds[_i].set,
                  (unsigned long long)c_set, (unsigned long long)c_file);
    ck_assert_double_eq_tol(e2e_summary_double(by_set, "energy_pj"),
                            e2e_summary_double(by_file, "energy_pj"), 1e-9);
    /* and the change made a difference, so the test can fail */
    ck_assert_msg(c_set != e2e_summary_u64(plain, "cycles") ||
                      e2e_summary_double(by_set, "energy_pj") !=
                          e2e_summary_double(plain, "energy_pj"),
                  "%s changed nothing", kinds[_i].set);
    if (kinds[_i].check) ck_assert_uint_eq(e2e_path_u64(by_set, kinds[_i].check), kinds[_i].want);
    /* meta.set records it as a string, keyed by its path */
    const char *eq = strchr(kinds[_i].set, '=');
    char key[128];
    snprintf(key, sizeof key, "%.*s", (int)(eq - kinds[_i].set), kinds[_i].set);
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(e2e_get(by_set, "meta.set"), key);
    ck_assert_msg(cJSON_IsString(rec), "meta.set lacks \"%s\"", key);
    ck_assert_str_eq(rec->valuestring, eq + 1);
    cJSON_Delete(by_set);
    cJSON_Delete(by_file);
    cJSON_Delete(plain);
    free(path);
    free(text);
}
END_TEST

/* A level that gives `bandwidth:` for both directions: setting one
 * direction keeps the other at the old bandwidth. */
START_TEST(one_direction_of_bandwidth) {
    char *both = edited(ARCH, "    read_bandwidth: 16\n    write_bandwidth: 16\n",
                        "    bandwidth: 16\n");
    char *both_path = e2e_write_tmp("both.yaml", both);
    char *split = edited(ARCH, "    read_bandwidth: 16\n", "    read_bandwidth: 4\n");
    char *split_path = e2e_write_tmp("split.yaml", split);
    cJSON *a = run_json(both_path, "arch.levels.GLB.read_bandwidth=4");
    cJSON *b = run_json(split_path, NULL);
    ck_assert_uint_eq(e2e_summary_u64(a, "cycles"), e2e_summary_u64(b, "cycles"));
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(both);
    free(both_path);
    free(split);
    free(split_path);
}
END_TEST

/* meta.set: parameters first, then the architecture's paths, each in
 * the order given. */
START_TEST(meta_records_order) {
    const char *args[] = {"run", ARCH, NET, "ws", "--evaluations", "200", "--json",
                          "--set", "arch.clock_mhz=400", "--batch", "3",
                          "--set", "arch.levels.GLB.capacity=64 KiB", NULL};
    e2e_result r;
    ck_assert(e2e_run(&r, args));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    cJSON *j = e2e_parse_json(r.out);
    const cJSON *set = e2e_get(j, "meta.set");
    const char *keys[] = {"batch", "arch.clock_mhz", "arch.levels.GLB.capacity"};
    int k = 0;
    for (const cJSON *it = set->child; it; it = it->next, k++) {
        ck_assert_int_lt(k, 3);
        ck_assert_str_eq(it->string, keys[k]);
    }
    ck_assert_int_eq(k, 3);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(set, "arch.clock_mhz")->valuestring, "400");
    cJSON_Delete(j);
    e2e_result_free(&r);
}
END_TEST

int main(void) {
    e2e_init();
    Suite *s = suite_create("e2e_arch_set");
    TCase *tc = tcase_create("arch_set");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(tc, set_equals_edited_file, 0, (int)(sizeof kinds / sizeof kinds[0]));
    tcase_add_test(tc, one_direction_of_bandwidth);
    tcase_add_test(tc, meta_records_order);
    suite_add_tcase(s, tc);
    return e2e_run_suite(s);
}
