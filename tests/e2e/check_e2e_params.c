/* End to end: `--set NAME=VALUE` on run, map and compare. The bounds
 * of tests/data/param_net.yaml follow its parameters (MACs in closed
 * form from the file's comment: 32 * heads * seq * batch for proj,
 * heads * seq^2 * batch for scores); the values set are recorded in
 * meta.set; --batch N is --set batch=N; every malformed or unknown
 * --set is an error with the documented exit code and wording. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

#define ARCH "configs/eyeriss_like.yaml"
#define NET "tests/data/param_net.yaml"

static uint64_t param_net_macs(uint64_t batch, uint64_t seq, uint64_t heads) {
    return 32 * heads * seq * batch + heads * seq * seq * batch;
}

static cJSON *run_json(const char *const *args) {
    e2e_result r;
    ck_assert(e2e_run(&r, args));
    ck_assert_msg(r.exit_code == 0, "%s failed (%d):\n%s", e2e_cmdline(args), r.exit_code, r.err);
    cJSON *j = e2e_parse_json(r.out);
    ck_assert_msg(j != NULL, "%s: not JSON:\n%s", e2e_cmdline(args), r.out);
    e2e_result_free(&r);
    return j;
}

/* meta.set holds exactly the values given, in the order given. */
static void expect_set(const cJSON *j, const char *const *names, const uint64_t *values, int n) {
    const cJSON *set = e2e_get(j, "meta.set");
    ck_assert_msg(cJSON_IsObject(set), "meta.set is not an object");
    ck_assert_int_eq(cJSON_GetArraySize(set), n);
    int k = 0;
    for (const cJSON *it = set->child; it; it = it->next, k++) {
        ck_assert_str_eq(it->string, names[k]);
        uint64_t v = 0;
        ck_assert(e2e_u64(it, &v));
        ck_assert_uint_eq(v, values[k]);
    }
}

START_TEST(run_follows_set) {
    const char *args[] = {"run", ARCH, NET, "os", "--evaluations", "100", "--set", "seq=32",
                          "--batch", "2", "--json", NULL};
    cJSON *j = run_json(args);
    static const char *const names[] = {"seq", "batch"};
    static const uint64_t values[] = {32, 2};
    expect_set(j, names, values, 2);
    ck_assert_uint_eq(e2e_path_u64(j, "network.batch"), 2);
    ck_assert_uint_eq(e2e_path_u64(j, "layers[0].summary.macs"), 32 * 4 * 32 * 2);
    ck_assert_uint_eq(e2e_path_u64(j, "layers[1].summary.macs"), 4 * 32 * 32 * 2);
    ck_assert_uint_eq(e2e_summary_u64(j, "macs"), param_net_macs(2, 32, 4));
    cJSON_Delete(j);
}
END_TEST

/* Without --set, meta.set is there and empty; the file's values hold. */
START_TEST(run_defaults_have_empty_set) {
    const char *args[] = {"run", ARCH, NET, "os", "--evaluations", "100", "--json", NULL};
    cJSON *j = run_json(args);
    expect_set(j, NULL, NULL, 0);
    ck_assert_uint_eq(e2e_summary_u64(j, "macs"), param_net_macs(1, 16, 4));
    ck_assert_uint_eq(param_net_macs(1, 16, 4), 3072); /* the file's comment */
    cJSON_Delete(j);
}
END_TEST

/* --batch N and --set batch=N are one option spelt two ways. */
START_TEST(batch_is_set_batch) {
    const char *a[] = {"run", ARCH, NET, "os", "--evaluations", "100", "--batch", "3", "--json",
                       NULL};
    const char *b[] = {"run", ARCH, NET, "os", "--evaluations", "100", "--set", "batch=3",
                       "--json", NULL};
    cJSON *ja = run_json(a), *jb = run_json(b);
    static const char *const names[] = {"batch"};
    static const uint64_t values[] = {3};
    expect_set(ja, names, values, 1);
    expect_set(jb, names, values, 1);
    ck_assert_uint_eq(e2e_summary_u64(ja, "macs"), param_net_macs(3, 16, 4));
    ck_assert_uint_eq(e2e_summary_u64(jb, "macs"), e2e_summary_u64(ja, "macs"));
    ck_assert_uint_eq(e2e_summary_u64(jb, "cycles"), e2e_summary_u64(ja, "cycles"));
    ck_assert_uint_eq(e2e_path_u64(jb, "network.batch"), 3);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
}
END_TEST

START_TEST(compare_and_map_take_set) {
    const char *c[] = {"compare", ARCH, NET, "--dataflows", "os,ws", "--evaluations", "100",
                       "--set", "heads=2", "--json", NULL};
    cJSON *j = run_json(c);
    static const char *const names[] = {"heads"};
    static const uint64_t values[] = {2};
    expect_set(j, names, values, 1);
    ck_assert_uint_eq(e2e_path_u64(j, "dataflows[0].summary.macs"), param_net_macs(1, 16, 2));
    ck_assert_uint_eq(e2e_path_u64(j, "dataflows[1].summary.macs"), param_net_macs(1, 16, 2));
    cJSON_Delete(j);
    /* map: the layer's ranks follow --set (P = seq/4 = 8 loops in all) */
    e2e_result r;
    ck_assert(e2e_runl(&r, "map", ARCH, NET, "--layers", "scores", "--evaluations", "100",
                       "--set", "seq=32", NULL));
    ck_assert_msg(r.exit_code == 0, "map failed:\n%s", r.err);
    ck_assert_msg(strstr(r.out, "mapping:") != NULL, "no mapping written:\n%s", r.out);
    e2e_result_free(&r);
}
END_TEST

static const struct {
    const char *args[12];
    int code;
    const char *err;
} errors[] = {
    {{"run", ARCH, NET, "os", "--set", "sqe=32", NULL}, 1,
     "tests/data/param_net.yaml:10:1: error: params: expected a parameter of this file to set "
     "(batch, seq, heads), found \"sqe\"\n"},
    {{"run", ARCH, NET, "os", "--set", "sqe=32", NULL}, 1, "= hint: did you mean \"seq\"?\n"},
    {{"compare", ARCH, NET, "--set", "ctx=32", NULL}, 1,
     "expected a parameter of this file to set (batch, seq, heads), found \"ctx\""},
    {{"map", ARCH, NET, "--layers", "proj", "--set", "head=2", NULL}, 1,
     "did you mean \"heads\"?"},
    /* a value that leaves a bound fractional: at the bound, with the values */
    {{"run", ARCH, NET, "os", "--set", "seq=30", NULL}, 1,
     "tests/data/param_net.yaml:17:47: error: layers[1].ranks.P: expected a division without "
     "remainder, found 30 / 4 (remainder 2)\n"},
    {{"run", ARCH, NET, "os", "--set", "seq=30", NULL}, 1,
     "= hint: parameters in use: batch = 1, seq = 30 (set), heads = 4\n"},
    /* usage errors */
    /* architecture paths: a path the schema or the file lacks is bad
     * input, located at the --set, with a "did you mean" */
    {{"run", ARCH, NET, "os", "--set", "arch.pe_aray.rows=16", NULL}, 1,
     "--set arch.pe_aray.rows: error: arch.pe_aray: expected a key of the architecture (one of "
     "name, description, clock_mhz, pe_array, pe, levels, noc, energy, vector_unit, energy_unit_pj), found "
     "\"pe_aray\"\n      = hint: did you mean \"pe_array\"?\n"},
    {{"compare", ARCH, NET, "--set", "arch.levels.GBL.capacity=64 KiB", NULL}, 1,
     "--set arch.levels.GBL.capacity: error: arch.levels.GBL: expected a level of the "
     "architecture by name (one of DRAM, GLB, RF), found \"GBL\"\n      = hint: did you mean "
     "\"GLB\"?\n"},
    {{"map", ARCH, NET, "--set", "arch.pe_array=16", NULL}, 1,
     "--set arch.pe_array: error: arch.pe_array: expected a path to a scalar, found "
     "arch.pe_array, which is a mapping; give one of its keys: arch.pe_array.KEY with KEY one "
     "of rows, cols\n"},
    {{"run", ARCH, NET, "os", "--set", "arch.levels.GLB.latncy=3", NULL}, 1,
     "did you mean \"latency\"?"},
    /* a value the schema rejects: the loader's own message, at the --set */
    {{"run", ARCH, NET, "os", "--set", "arch.levels.GLB.capacity=64 KB", NULL}, 1,
     "--set arch.levels.GLB.capacity: error: levels[1].capacity: "},
    {{"run", ARCH, NET, "os", "--set", "arch.pe_array.rows=0", NULL}, 1,
     "--set arch.pe_array.rows: error: pe_array.rows: expected an integer from 1 to 65536, "
     "found \"0\"\n"},
    {{"run", ARCH, NET, "os", "--set", "arch.levels.RF.capacity=64 B", NULL}, 1,
     "which is a capacity per tensor in this file; give one of its keys: "
     "arch.levels.RF.capacity.KEY with KEY one of F, I, O\n"},
    /* malformed: usage errors */
    {{"run", ARCH, NET, "os", "--set", "arch.pe_array.rows=", NULL}, 2,
     "einflow run: --set expects arch.PATH=VALUE, e.g. --set arch.pe_array.rows=16, found "
     "\"arch.pe_array.rows=\"\n"},
    {{"run", ARCH, NET, "os", "--set", "arch.clock_mhz=500", "--set", "arch.clock_mhz=400",
      NULL}, 2, "einflow run: --set arch.clock_mhz is given twice\n"},
    {{"run", ARCH, NET, "os", "--set", "acrh.clock_mhz=500", NULL}, 2,
     "found \"acrh.clock_mhz\"; did you mean \"arch.\" at its start?"},
    {{"run", ARCH, NET, "os", "--set", "seq", NULL}, 2,
     "einflow run: --set expects NAME=VALUE, e.g. --set seq=4096, found \"seq\"\n"},
    {{"run", ARCH, NET, "os", "--set", "seq=", NULL}, 2,
     "einflow run: --set seq expects an integer from 1 to 2^63 - 1 after \"=\", found \"\"\n"},
    {{"run", ARCH, NET, "os", "--set", "seq=0", NULL}, 2,
     "--set seq expects an integer from 1 to 2^63 - 1 after \"=\", found \"0\""},
    {{"run", ARCH, NET, "os", "--set", "seq=4k", NULL}, 2,
     "--set seq expects an integer from 1 to 2^63 - 1 after \"=\", found \"4k\""},
    {{"run", ARCH, NET, "os", "--set", "seq=9223372036854775808", NULL}, 2,
     "found \"9223372036854775808\""},
    {{"run", ARCH, NET, "os", "--set", "2seq=4", NULL}, 2,
     "--set expects a parameter name (letters, digits and _, not starting with a digit) "
     "or an architecture path arch.KEY... before \"=\", found \"2seq\""},
    {{"run", ARCH, NET, "os", "--set", "=4", NULL}, 2, "before \"=\", found \"\""},
    {{"run", ARCH, NET, "os", "--set", "seq=8", "--set", "seq=16", NULL}, 2,
     "einflow run: the parameter seq is set twice (by --set)\n"},
    {{"run", ARCH, NET, "os", "--batch", "2", "--set", "batch=4", NULL}, 2,
     "the parameter batch is set twice (by --set or --batch)"},
    {{"run", ARCH, NET, "os", "--set", NULL}, 2, "--set needs a value"},
    {{"run", ARCH, NET, "os", "--sett", "seq=8", NULL}, 2, "did you mean \"--set\"?"},
};

START_TEST(set_errors) {
    e2e_result r;
    ck_assert(e2e_run(&r, errors[_i].args));
    ck_assert_msg(r.exit_code == errors[_i].code, "%s: exit %d, want %d:\n%s",
                  e2e_cmdline(errors[_i].args), r.exit_code, errors[_i].code, r.err);
    ck_assert_msg(strstr(r.err, errors[_i].err) != NULL, "%s: stderr lacks \"%s\":\n%s",
                  e2e_cmdline(errors[_i].args), errors[_i].err, r.err);
    ck_assert_str_eq(r.out, "");
    e2e_result_free(&r);
}
END_TEST

/* Every command that takes --set says so in its help. */
START_TEST(help_mentions_set) {
    static const char *const cmds[] = {"run", "map", "compare"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        e2e_result r;
        ck_assert(e2e_runl(&r, cmds[i], "--help", NULL));
        ck_assert_int_eq(r.exit_code, 0);
        ck_assert_msg(strstr(r.out, "--set NAME=VALUE") != NULL, "%s --help lacks --set", cmds[i]);
        ck_assert_msg(strstr(r.out, "the same as --set batch=N") != NULL,
                      "%s --help lacks --batch", cmds[i]);
        e2e_result_free(&r);
    }
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_params");
    TCase *tc = tcase_create("set");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, run_follows_set);
    tcase_add_test(tc, run_defaults_have_empty_set);
    tcase_add_test(tc, batch_is_set_batch);
    tcase_add_test(tc, compare_and_map_take_set);
    tcase_add_loop_test(tc, set_errors, 0, (int)(sizeof errors / sizeof errors[0]));
    tcase_add_test(tc, help_mentions_set);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
