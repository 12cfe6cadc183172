/* Golden diagnostics: each tests/golden/<name>.yaml is broken in one way;
 * einflow must exit with the given code and print exactly
 * tests/golden/<name>.expected on stderr (nothing on stdout). The other
 * two inputs of `run` are good bundled files. Paths are relative to the
 * source directory (the test changes there) so the text is stable.
 *
 * To regenerate after an intended change of wording:
 *   EF_GOLDEN_UPDATE=1 build/tests/check_e2e_golden
 * then READ every changed .expected (git diff tests/golden) before
 * committing: each must name the right file:line:col and say what is
 * wrong and how to fix it.
 *
 * Every .expected was read and judged right: the right file:line:col,
 * what is wrong, and how to fix it. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

#define ARCH2 "configs/teach_2level.yaml"
#define CONV "workloads/conv1d.yaml"
#define MAP_WS "mappings/teach_2level__conv1d_ws.yaml"
#define G(name) "tests/golden/" name ".yaml"

typedef struct {
    const char *name;      /* tests/golden/<name>.expected          */
    const char *args[6];   /* einflow arguments, NULL-terminated    */
    int exit_code;
} golden_case;

#define ARCH_CASE(n) {n, {"run", G(n), CONV, MAP_WS, NULL}, 1}
#define WORK_CASE(n) {n, {"run", ARCH2, G(n), MAP_WS, NULL}, 1}
#define MAP_CASE(n) {n, {"run", ARCH2, CONV, G(n), NULL}, 1}
#define DATAFLOW_CASE(n) {n, {"map", ARCH2, CONV, "--dataflow", G(n), NULL}, 1}
#define NET_CASE(n) {n, {"validate", G(n), NULL}, 1}

static const golden_case golden[] = {
    /* architecture files */
    ARCH_CASE("arch_unknown_key"),        /* capcity: did you mean capacity */
    ARCH_CASE("arch_duplicate_key"),
    ARCH_CASE("arch_bad_kind"),
    ARCH_CASE("arch_capacity_no_unit"),
    ARCH_CASE("arch_capacity_kb"),        /* KB: did you mean KiB */
    ARCH_CASE("arch_yaml_syntax"),
    ARCH_CASE("arch_both_bandwidths"),
    ARCH_CASE("arch_double_buffer_and_prefetch"),
    ARCH_CASE("arch_dram_not_outermost"),
    ARCH_CASE("arch_rows_not_integer"),
    ARCH_CASE("arch_zero_capacity"),
    ARCH_CASE("arch_anchor"),
    ARCH_CASE("arch_missing_name"),
    /* workload files */
    WORK_CASE("workload_einsum_syntax"),  /* missing ] */
    WORK_CASE("workload_unknown_index"),
    WORK_CASE("workload_unknown_key"),
    WORK_CASE("workload_zero_rank"),
    WORK_CASE("workload_recurrence_accumulate"), /* += with an output at m+1 */
    WORK_CASE("workload_init_unknown"),          /* RN: did you mean RM */
    /* mapping files */
    MAP_CASE("mapping_unknown_level"),    /* Bufer: did you mean Buffer */
    MAP_CASE("mapping_factors_short"),
    MAP_CASE("mapping_empty_tiles"),
    MAP_CASE("mapping_level_order"),
    MAP_CASE("mapping_keep_and_bypass"),
    MAP_CASE("mapping_zero_factor"),
    MAP_CASE("mapping_spatial_wrong_level"),
    MAP_CASE("mapping_spatial_unknown_key"),
    MAP_CASE("mapping_level_twice"),
    MAP_CASE("mapping_rank_missing"),
    {"mapping_capacity",
     {"run", ARCH2, "tests/reference/tl-ex02-tiled/workload.yaml", G("mapping_capacity"), NULL},
     1},
    {"mapping_reduction_no_noc",
     {"run", "configs/systolic_os_16x16.yaml", "workloads/batched_matmul.yaml",
      G("mapping_reduction_no_noc"), NULL},
     1},
    {"mapping_spatial_too_big",
     {"run", "configs/systolic_os_16x16.yaml", "workloads/batched_matmul.yaml",
      G("mapping_spatial_too_big"), NULL},
     1},
    MAP_CASE("mapping_keep_unknown_tensor"),
    MAP_CASE("mapping_unknown_rank"),
    WORK_CASE("workload_output_expression"),
    WORK_CASE("workload_einsum_unclosed_inner"),
    WORK_CASE("workload_precision_unknown_tensor"),
    /* dataflow templates */
    DATAFLOW_CASE("dataflow_unknown_role"),  /* in_chanel: did you mean in_channel */
    DATAFLOW_CASE("dataflow_bad_fill"),      /* maximum: did you mean max */
    DATAFLOW_CASE("dataflow_bad_axis"),
    DATAFLOW_CASE("dataflow_unknown_key"),   /* temporl: did you mean temporal */
    DATAFLOW_CASE("dataflow_keep_unknown_operand"),
    DATAFLOW_CASE("dataflow_innermost_not_temporal"),
    {"run_dataflow_unknown_role", {"run", ARCH2, CONV, G("dataflow_unknown_role"), NULL}, 1},
    WORK_CASE("workload_padding_pair_length"),   /* [1, 1, 0]: not a pair */
    WORK_CASE("workload_padding_pair_negative"),
    WORK_CASE("workload_padding_leaves_nothing"), /* einsum stage, at the padding */
    /* network files (`validate`: `run` takes one workload) */
    NET_CASE("network_unknown_key"),        /* cuont: did you mean count */
    NET_CASE("network_einsum_and_einsums"),
    NET_CASE("network_no_einsum"),
    NET_CASE("network_duplicate_layer"),    /* at the second, naming the first */
    NET_CASE("network_count_zero"),
    NET_CASE("network_bad_batch"),
    NET_CASE("network_batch_misspelt"),     /* bacth: did you mean batch */
    NET_CASE("network_bad_einsum_layer"),   /* einsum stage, at layers[3]'s line */
    NET_CASE("network_param_misspelt"),     /* sqe/4: did you mean seq, caret on sqe */
    NET_CASE("network_param_division"),     /* heads/kv_heads = 12/5: caret on the / */
    /* `validate` prints the same diagnostics */
    {"validate_output_expression", {"validate", G("workload_output_expression"), NULL}, 1},
    {"validate_arch_unknown_key", {"validate", G("arch_unknown_key"), NULL}, 1},
};
#define NGOLDEN ((int)(sizeof golden / sizeof golden[0]))

static bool update_mode(void) {
    const char *u = getenv("EF_GOLDEN_UPDATE");
    return u && *u && strcmp(u, "0") != 0;
}

START_TEST(golden_stderr) {
    const golden_case *g = &golden[_i];
    char expected_path[256];
    snprintf(expected_path, sizeof expected_path, "tests/golden/%s.expected", g->name);
    e2e_result r;
    ck_assert_msg(e2e_run(&r, g->args), "cannot run %s", e2e_cmdline(g->args));
    ck_assert_msg(!r.timed_out, "%s timed out", e2e_cmdline(g->args));
    if (update_mode()) {
        FILE *f = fopen(expected_path, "w");
        ck_assert_msg(f != NULL, "cannot write %s", expected_path);
        fputs(r.err, f);
        fclose(f);
    }
    char *want = e2e_read_file(expected_path, NULL);
    ck_assert_msg(want != NULL, "%s is missing (EF_GOLDEN_UPDATE=1 creates it)", expected_path);
    ck_assert_msg(r.exit_code == g->exit_code, "%s: exit code %d, expected %d; stderr:\n%s",
                  e2e_cmdline(g->args), r.exit_code, g->exit_code, r.err);
    ck_assert_msg(!strcmp(r.err, want), "%s: stderr differs from %s\n--- expected\n%s--- got\n%s",
                  e2e_cmdline(g->args), expected_path, want, r.err);
    ck_assert_msg(r.out[0] == '\0', "%s: unexpected stdout:\n%s", e2e_cmdline(g->args), r.out);
    free(want);
    e2e_result_free(&r);
}
END_TEST

/* Every golden input is used by a case, and every .expected has a case. */
/* Every file in tests/golden belongs to a case, read from the
 * directory itself: a <name>.expected to the case <name>, a .yaml to a
 * case that passes it to einflow; and every case has its .expected. */
static bool used_by_a_case(const char *file) {
    size_t len = strlen(file);
    if (len > 9 && !strcmp(file + len - 9, ".expected")) {
        for (int i = 0; i < NGOLDEN; i++)
            if (strlen(golden[i].name) == len - 9 && !strncmp(golden[i].name, file, len - 9))
                return true;
        return false;
    }
    char path[512];
    snprintf(path, sizeof path, "tests/golden/%s", file);
    for (int i = 0; i < NGOLDEN; i++)
        for (int k = 0; golden[i].args[k]; k++)
            if (!strcmp(golden[i].args[k], path)) return true;
    return false;
}

START_TEST(golden_files_all_used) {
    DIR *dir = opendir("tests/golden");
    ck_assert_msg(dir != NULL, "cannot list tests/golden");
    for (struct dirent *ent; (ent = readdir(dir));) {
        if (ent->d_name[0] == '.') continue;
        ck_assert_msg(used_by_a_case(ent->d_name), "tests/golden/%s belongs to no case",
                      ent->d_name);
    }
    closedir(dir);
    for (int i = 0; i < NGOLDEN; i++) {
        char p[256];
        snprintf(p, sizeof p, "tests/golden/%s.expected", golden[i].name);
        ck_assert_msg(e2e_file_exists(p), "%s is missing", p);
    }
}
END_TEST


static Suite *suite(void) {
    Suite *s = suite_create("e2e_golden");
    TCase *tc = tcase_create("golden_diagnostics");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, golden_files_all_used);
    tcase_add_loop_test(tc, golden_stderr, 0, NGOLDEN);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
