/* Command-line behaviour: version and help, exit codes (0 ok, 1 bad
 * input, 2 usage, 4 cannot write output), suggestions for misspelt
 * commands and options, `validate` on every bundled file, and the JSON
 * written by -o / --json (meta names the version and the three inputs). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"
#include "einflow/common.h"

#define ARCH1 "configs/teach_1level.yaml"
#define CONV "workloads/conv1d.yaml"
#define MAP1 "mappings/teach_1level__conv1d.yaml"

static e2e_result run_args(const char *const *args) {
    e2e_result r;
    ck_assert_msg(e2e_run(&r, args), "cannot run %s", e2e_cmdline(args));
    ck_assert_msg(!r.timed_out, "%s timed out", e2e_cmdline(args));
    return r;
}

#define EXPECT_EXIT(r, args, code)                                                           \
    ck_assert_msg((r).exit_code == (code), "%s: exit code %d, expected %d\nstdout:\n%s\n"    \
                  "stderr:\n%s", e2e_cmdline(args), (r).exit_code, (code), (r).out, (r).err)

/* ---------- table: exit codes and what is printed ---------- */

typedef struct {
    const char *what;
    const char *args[8];
    int exit_code;
    const char *out_has; /* stdout contains this (NULL: not checked)      */
    const char *err_has; /* stderr contains this (NULL: not checked)      */
    bool out_empty, err_empty;
} cli_case;

static const cli_case cases[] = {
    {"--version", {"--version", NULL}, 0, "einflow " EF_VERSION "\n", NULL, false, true},
    {"-V", {"-V", NULL}, 0, "einflow " EF_VERSION "\n", NULL, false, true},
    {"--help", {"--help", NULL}, 0, "usage: einflow", NULL, false, true},
    {"-h", {"-h", NULL}, 0, "usage: einflow", NULL, false, true},
    {"help", {"help", NULL}, 0, "usage: einflow", NULL, false, true},
    {"run --help", {"run", "--help", NULL}, 0, "usage: einflow run", NULL, false, true},
    {"validate --help", {"validate", "--help", NULL}, 0, "usage: einflow validate", NULL, false,
     true},
    {"no command", {NULL}, 2, NULL, "usage: einflow", true, false},
    {"unknown command, suggestion", {"runn", NULL}, 2, NULL,
     "unknown command \"runn\"; did you mean \"run\"?", true, false},
    {"unknown command, suggestion validate", {"valdate", CONV, NULL}, 2, NULL,
     "did you mean \"validate\"?", true, false},
    {"run without files", {"run", NULL}, 2, NULL, "expected three files", true, false},
    {"run with two files", {"run", ARCH1, CONV, NULL}, 2, NULL, "expected three files", true,
     false},
    {"run with four files", {"run", ARCH1, CONV, MAP1, MAP1, NULL}, 2, NULL,
     "unexpected argument", true, false},
    {"unknown option, suggestion", {"run", ARCH1, CONV, MAP1, "--chek-values", NULL}, 2, NULL,
     "did you mean \"--check-values\"?", true, false},
    {"-o without a file", {"run", ARCH1, CONV, MAP1, "-o", NULL}, 2, NULL, "-o needs a file",
     true, false},
    {"bad --fold-model", {"run", ARCH1, CONV, MAP1, "--fold-model", "serial", NULL}, 2, NULL,
     "overlap or scalesim", true, false},
    {"bad --seed", {"run", ARCH1, CONV, MAP1, "--seed", "-3", NULL}, 2, NULL,
     "--seed expects a non-negative integer", true, false},
    {"bad --engine", {"run", ARCH1, CONV, MAP1, "--engine", "warp", NULL}, 2, NULL, "--engine",
     true, false},
    {"validate without files", {"validate", NULL}, 2, NULL, "usage: einflow validate", true,
     false},
    {"nonexistent arch", {"run", "configs/no_such_arch.yaml", CONV, MAP1, NULL}, 1, NULL,
     "configs/no_such_arch.yaml: error: cannot open", true, false},
    {"nonexistent workload", {"run", ARCH1, "workloads/no_such.yaml", MAP1, NULL}, 1, NULL,
     "workloads/no_such.yaml: error: cannot open", true, false},
    {"nonexistent mapping", {"run", ARCH1, CONV, "mappings/no_such.yaml", NULL}, 1, NULL,
     "mappings/no_such.yaml: error: cannot open", true, false},
    {"validate nonexistent", {"validate", "no_such.yaml", NULL}, 1, NULL,
     "no_such.yaml: error: cannot open", true, false},
    {"cannot write -o", {"run", ARCH1, CONV, MAP1, "-q", "-o", "/nonexistent-dir/r.json", NULL},
     4, NULL, "cannot write /nonexistent-dir/r.json", true, false},
    {"run prints a table", {"run", ARCH1, CONV, MAP1, NULL}, 0, "MACs", NULL, false, true},
    {"run --check-values reports the check", {"run", ARCH1, CONV, MAP1, "--check-values", NULL},
     0, "16 outputs match", NULL, false, true},
    {"run -q prints nothing", {"run", ARCH1, CONV, MAP1, "-q", NULL}, 0, NULL, NULL, true, true},
    {"map --help", {"map", "--help", NULL}, 0, "usage: einflow map", NULL, false, true},
    {"map without files", {"map", ARCH1, NULL}, 2, NULL, "expected two files", true, false},
    {"map bad --objective", {"map", ARCH1, CONV, "--objective", "speed", NULL}, 2, NULL,
     "--objective expects latency, energy or edp, found \"speed\"", true, false},
    {"map bad --evaluations", {"map", ARCH1, CONV, "--evaluations", "0", NULL}, 2, NULL,
     "--evaluations expects a number from 1", true, false},
    {"map unknown option", {"map", ARCH1, CONV, "--dataflw", "rs", NULL}, 2, NULL,
     "did you mean \"--dataflow\"?", true, false},
    {"map unknown dataflow", {"map", ARCH1, CONV, "--dataflow", "rss", NULL}, 1, NULL,
     "unknown dataflow \"rss\": the built-in ones are ws, os, is, rs, nlr, free", true, false},
    {"run with an unknown dataflow", {"run", ARCH1, CONV, "wss", NULL}, 1, NULL,
     "did you mean \"ws\"?", true, false},
    {"run with a dataflow", {"run", ARCH1, CONV, "free", NULL}, 0, "MACs", NULL, false, true},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

START_TEST(cli_table) {
    const cli_case *c = &cases[_i];
    e2e_result r = run_args(c->args);
    EXPECT_EXIT(r, c->args, c->exit_code);
    if (c->out_has)
        ck_assert_msg(strstr(r.out, c->out_has) != NULL, "%s (%s): stdout lacks \"%s\":\n%s",
                      c->what, e2e_cmdline(c->args), c->out_has, r.out);
    if (c->err_has)
        ck_assert_msg(strstr(r.err, c->err_has) != NULL, "%s (%s): stderr lacks \"%s\":\n%s",
                      c->what, e2e_cmdline(c->args), c->err_has, r.err);
    if (c->out_empty)
        ck_assert_msg(r.out[0] == '\0', "%s (%s): stdout should be empty:\n%s", c->what,
                      e2e_cmdline(c->args), r.out);
    if (c->err_empty)
        ck_assert_msg(r.err[0] == '\0', "%s (%s): stderr should be empty:\n%s", c->what,
                      e2e_cmdline(c->args), r.err);
    e2e_result_free(&r);
}
END_TEST

START_TEST(version_is_exact) {
    const char *args[] = {"--version", NULL};
    e2e_result r = run_args(args);
    EXPECT_EXIT(r, args, 0);
    ck_assert_str_eq(r.out, "einflow " EF_VERSION "\n");
    e2e_result_free(&r);
}
END_TEST

/* ---------- validate every bundled and test-data file ---------- */

#define MAX_FILES 256
static char files[MAX_FILES][512];
static int file_count;
static bool too_many_files;

static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }

static void collect(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    int first = file_count;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= 5 || strcmp(e->d_name + n - 5, ".yaml") != 0) continue;
        if (file_count == MAX_FILES) {
            too_many_files = true;
            break;
        }
        snprintf(files[file_count++], sizeof files[0], "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(files[first], (size_t)(file_count - first), sizeof files[0], cmp_str);
}

static void collect_all(void) {
    collect("configs");
    collect("workloads");
    collect("mappings");
    collect("dataflows");
    collect("tests/data");
    static const char *const refs[] = {"tl-ex00", "tl-ex01-ws", "tl-ex01-os", "tl-ex02-tiled"};
    for (int i = 0; i < 4; i++) {
        char dir[64];
        snprintf(dir, sizeof dir, "tests/reference/%s", refs[i]);
        collect(dir);
    }
}

START_TEST(validate_bundled_file) {
    const char *args[] = {"validate", files[_i], NULL};
    e2e_result r = run_args(args);
    EXPECT_EXIT(r, args, 0);
    char want[600];
    snprintf(want, sizeof want, "%s: ok (", files[_i]);
    ck_assert_msg(!strncmp(r.out, want, strlen(want)), "%s: stdout should start with \"%s\":\n%s",
                  e2e_cmdline(args), want, r.out);
    ck_assert_msg(r.err[0] == '\0', "%s: stderr:\n%s", e2e_cmdline(args), r.err);
    e2e_result_free(&r);
}
END_TEST

START_TEST(validate_found_files) {
    ck_assert_msg(!too_many_files, "more than %d files; raise MAX_FILES", MAX_FILES);
    ck_assert_msg(file_count >= 20, "only %d files to validate", file_count);
}
END_TEST

START_TEST(validate_many_at_once) {
    const char *args[] = {"validate", "configs/teach_2level.yaml", CONV,
                          "mappings/teach_2level__conv1d_ws.yaml", NULL};
    e2e_result r = run_args(args);
    EXPECT_EXIT(r, args, 0);
    ck_assert_msg(strstr(r.out, "configs/teach_2level.yaml: ok (architecture") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "workloads/conv1d.yaml: ok (workload") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "mappings/teach_2level__conv1d_ws.yaml: ok (mapping") != NULL,
                  "%s", r.out);
    e2e_result_free(&r);
}
END_TEST

/* A network file: every layer is loaded and built; the summary counts
 * entries, layers with their repeats (AlexNet: 5 CONV + 3 FC, none
 * repeated) and the file's batch. */
START_TEST(validate_network) {
    const char *args[] = {"validate", "workloads/alexnet.yaml", NULL};
    e2e_result r = run_args(args);
    EXPECT_EXIT(r, args, 0);
    ck_assert_str_eq(r.out,
                     "workloads/alexnet.yaml: ok (network alexnet: 8 layers, 8 with repeats, "
                     "batch 4)\n");
    ck_assert_str_eq(r.err, "");
    e2e_result_free(&r);
}
END_TEST

/* One bad file among good ones: exit 1, the good ones still reported. */
START_TEST(validate_mixed) {
    const char *args[] = {"validate", CONV, "tests/golden/arch_unknown_key.yaml", ARCH1, NULL};
    e2e_result r = run_args(args);
    EXPECT_EXIT(r, args, 1);
    ck_assert_msg(strstr(r.out, CONV ": ok") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, ARCH1 ": ok") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.err, "tests/golden/arch_unknown_key.yaml:9:5: error:") != NULL, "%s",
                  r.err);
    e2e_result_free(&r);
}
END_TEST

/* ---------- JSON output ---------- */

static void check_meta(const cJSON *root, const char *arch, const char *work, const char *map) {
    ck_assert_str_eq(e2e_path_str(root, "meta.einflow_version"), EF_VERSION);
    ck_assert_str_eq(e2e_path_str(root, "meta.arch"), arch);
    ck_assert_str_eq(e2e_path_str(root, "meta.workload"), work);
    ck_assert_str_eq(e2e_path_str(root, "meta.mapping"), map);
    ck_assert_str_eq(e2e_path_str(root, "architecture.name"), "teach_1level");
    ck_assert_str_eq(e2e_path_str(root, "workload.name"), "conv1d");
    static const char *const top[] = {"meta", "summary", "architecture", "workload",
                                      "levels", "noc", "roofline", "einsums"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        ck_assert_msg(e2e_get(root, top[i]) != NULL, "JSON lacks top-level key %s", top[i]);
    ck_assert_uint_eq(e2e_summary_u64(root, "macs"), 48);
    ck_assert_uint_eq(e2e_summary_u64(root, "cycles"), 48);
}

START_TEST(output_file_is_json_with_meta) {
    char *out = e2e_tmp_path("cli.json");
    const char *args[] = {"run", ARCH1, CONV, MAP1, "-o", out, NULL};
    e2e_result r = run_args(args);
    EXPECT_EXIT(r, args, 0);
    ck_assert_msg(strstr(r.out, out) != NULL, "stdout should say where the JSON went:\n%s", r.out);
    cJSON *root = e2e_load_json(out);
    ck_assert_msg(root != NULL, "%s is not valid JSON", out);
    check_meta(root, ARCH1, CONV, MAP1);
    ck_assert_str_eq(e2e_path_str(root, "meta.fold_model"), "overlap");
    ck_assert_msg(cJSON_IsFalse(e2e_get(root, "meta.check_values")), "meta.check_values");
    cJSON_Delete(root);
    unlink(out);
    free(out);
    e2e_result_free(&r);
}
END_TEST

START_TEST(json_on_stdout) {
    static const char *const variants[2][8] = {
        {"run", ARCH1, CONV, MAP1, "--json", NULL},
        {"run", ARCH1, CONV, MAP1, "-o", "-", NULL},
    };
    for (int v = 0; v < 2; v++) {
        e2e_result r = run_args(variants[v]);
        EXPECT_EXIT(r, variants[v], 0);
        cJSON *root = e2e_parse_json(r.out);
        ck_assert_msg(root != NULL, "%s: stdout is not one JSON value:\n%s",
                      e2e_cmdline(variants[v]), r.out);
        check_meta(root, ARCH1, CONV, MAP1);
        cJSON_Delete(root);
        e2e_result_free(&r);
    }
}
END_TEST

/* --check-values and --seed are recorded; results do not depend on the
 * seed (only the values pushed through do). */
START_TEST(seed_recorded_and_counts_unchanged) {
    const char *x1[] = {"--check-values", "--seed", "12345678901234567", NULL};
    const char *x2[] = {"--check-values", NULL};
    cJSON *a = e2e_run_json(ARCH1, CONV, MAP1, x1);
    cJSON *b = e2e_run_json(ARCH1, CONV, MAP1, x2);
    ck_assert_uint_eq(e2e_path_u64(a, "meta.seed"), UINT64_C(12345678901234567));
    ck_assert_uint_eq(e2e_path_u64(b, "meta.seed"), 1);
    ck_assert_msg(cJSON_IsTrue(e2e_get(a, "meta.check_values")), "meta.check_values");
    ck_assert_msg(cJSON_Compare(e2e_get(a, "levels"), e2e_get(b, "levels"), 1),
                  "counts depend on the seed");
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

/* Two identical runs give identical JSON apart from wall_seconds. */
START_TEST(deterministic) {
    cJSON *a = e2e_run_json("configs/systolic_ws_16x16.yaml", "workloads/batched_matmul.yaml",
                            "mappings/systolic_ws_16x16__batched_matmul.yaml", NULL);
    cJSON *b = e2e_run_json("configs/systolic_ws_16x16.yaml", "workloads/batched_matmul.yaml",
                            "mappings/systolic_ws_16x16__batched_matmul.yaml", NULL);
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "meta"),
                                            "wall_seconds");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "meta"),
                                            "wall_seconds");
    char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
    ck_assert_msg(ta && tb && !strcmp(ta, tb), "two identical runs differ");
    free(ta);
    free(tb);
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

/* The harness itself: a run past its timeout is killed and reported, so
 * a hang fails a test instead of stalling the suite. */
START_TEST(harness_timeout_kills) {
    const char *args[] = {"run", "configs/eyeriss_like.yaml", "workloads/resnet50_conv3x3.yaml",
                          "mappings/eyeriss_like__resnet50_conv3x3.yaml", "--check-values", "-q",
                          NULL};
    e2e_result r;
    ck_assert(e2e_run_timeout(&r, 0.2, args));
    ck_assert_msg(r.timed_out, "a %0.1f s run was not stopped after 0.2 s", r.seconds);
    ck_assert_msg(r.seconds < 5.0, "killing took %.1f s", r.seconds);
    ck_assert_int_eq(r.exit_code, -1);
    e2e_result_free(&r);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_cli");
    TCase *tc = tcase_create("commands");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(tc, cli_table, 0, NCASES);
    tcase_add_test(tc, version_is_exact);
    tcase_add_test(tc, harness_timeout_kills);
    suite_add_tcase(s, tc);

    TCase *tv = tcase_create("validate");
    tcase_set_timeout(tv, E2E_TCASE_TIMEOUT);
    tcase_add_test(tv, validate_found_files);
    tcase_add_loop_test(tv, validate_bundled_file, 0, file_count);
    tcase_add_test(tv, validate_many_at_once);
    tcase_add_test(tv, validate_network);
    tcase_add_test(tv, validate_mixed);
    suite_add_tcase(s, tv);

    TCase *tj = tcase_create("json_output");
    tcase_set_timeout(tj, E2E_TCASE_TIMEOUT);
    tcase_add_test(tj, output_file_is_json_with_meta);
    tcase_add_test(tj, json_on_stdout);
    tcase_add_test(tj, seed_recorded_and_counts_unchanged);
    tcase_add_test(tj, deterministic);
    suite_add_tcase(s, tj);
    return s;
}

int main(void) {
    e2e_init();
    collect_all();
    return e2e_run_suite(suite());
}
