/* Inputs that once crashed, hung or were accepted wrongly, each rebuilt
 * here from its description and run through the CLI: every one must
 * now end in a located error with the right exit code (1 bad input,
 * 2 usage), fast. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

#define EDGE "configs/edge_8x8.yaml"
#define EYERISS "configs/eyeriss_like.yaml"
#define TINY "tests/data/tiny_net.yaml"

/* configs/X with the first line containing `from` replaced by `to`
 * (and `extra` appended), as a scratch file. */
static char *edited_config(const char *config, const char *from, const char *to,
                           const char *extra) {
    char *text = e2e_read_file(config, NULL);
    ck_assert_ptr_nonnull(text);
    char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "%s has no \"%s\"", config, from);
    while (at > text && at[-1] != '\n') at--; /* the whole line */
    char *line_end = strchr(at, '\n');
    size_t size = strlen(text) + strlen(to) + strlen(extra) + 2;
    char *out = malloc(size);
    ck_assert_ptr_nonnull(out);
    snprintf(out, size, "%.*s%s%s%s", (int)(at - text), text, to, line_end ? line_end : "",
             extra);
    char *path = e2e_write_tmp("arch.yaml", out);
    free(out);
    free(text);
    return path;
}

/* exit code, and stderr holding message and "path:line:col:" */
static void expect_error(const char *const *args, int code, const char *message,
                         const char *path, int line, int col) {
    e2e_result r;
    ck_assert(e2e_run_timeout(&r, 60, args));
    ck_assert_msg(!r.timed_out, "%s timed out", e2e_cmdline(args));
    ck_assert_msg(r.exit_code == code, "%s: exit %d, want %d:\n%s", e2e_cmdline(args),
                  r.exit_code, code, r.err);
    ck_assert_msg(strstr(r.err, message) != NULL, "%s: stderr lacks \"%s\":\n%s",
                  e2e_cmdline(args), message, r.err);
    if (path) {
        char where[512];
        snprintf(where, sizeof where, "%s:%d:%d: error", path, line, col);
        ck_assert_msg(strstr(r.err, where) != NULL, "%s: not located at %s:\n%s",
                      e2e_cmdline(args), where, r.err);
    }
    e2e_result_free(&r);
}

/* A bandwidth of 1e-300 bytes per cycle was taken for unlimited (the
 * bytes-to-cycles conversion overflowed). */
START_TEST(tiny_bandwidth_is_rejected) {
    char *arch = edited_config(EDGE, "read_bandwidth:", "    read_bandwidth: 1e-300", "");
    const char *args[] = {"validate", arch, NULL};
    expect_error(args, 1, "levels[0].read_bandwidth: expected 0 or at least 1e-06 bytes/cycle, "
                          "found 1e-300", arch, 37, 21);
    free(arch);
}
END_TEST

/* energy: {read: 1e308} printed "energy inf pJ", "-nan%" and null. */
START_TEST(huge_energy_is_rejected) {
    char *arch = edited_config(EDGE, "noc:", "noc:", "energy:\n  GLB: {read: 1e308}\n");
    const char *args[] = {"validate", arch, NULL};
    char *text = e2e_read_file(arch, NULL);
    int line = 1;
    for (const char *c = text; *c; c++) line += *c == '\n';
    free(text);
    expect_error(args, 1, "energy.GLB.read: expected a number <= 1e+09 pJ/word, found \"1e308\"",
                 arch, line - 1, 15);
    free(arch);
}
END_TEST

/* A capacity partition for a tensor the workload does not have was
 * ignored; beside partitions that apply it is a typo. Partitions made
 * for other workloads (conv's I, F, O under attention) are not. */
START_TEST(stray_partition_is_rejected) {
    char *arch = edited_config(EYERISS, "capacity: {F: 224 words",
                               "    capacity: {F: 224 words, I: 12 words, O: 24 words, W: 8 words}",
                               "");
    const char *args[] = {"run", arch, "workloads/fc.yaml", "ws", "--evaluations", "50", NULL};
    expect_error(args, 1, "levels[2].capacity.W: expected a partition for a tensor of the "
                          "workload (O, I, F), found W", arch, 66, 56);
    e2e_result r;
    ck_assert(e2e_runl(&r, "run", EYERISS, "workloads/attention.yaml", "os", "--evaluations",
                       "100", "-q", NULL));
    ck_assert_msg(r.exit_code == 0, "conv partitions under attention: exit %d\n%s", r.exit_code,
                  r.err);
    e2e_result_free(&r);
    free(arch);
}
END_TEST

/* --layers naming no layer exited 1; it is a usage error. */
START_TEST(unknown_layer_is_a_usage_error) {
    const char *run[] = {"run", EYERISS, TINY, "ws", "--layers", "zzz", NULL};
    const char *map[] = {"map", EYERISS, TINY, "--dataflow", "ws", "--layers", "zzz", NULL};
    const char *cmp[] = {"compare", EYERISS, TINY, "--layers", "zzz", NULL};
    const char *const *all[] = {run, map, cmp};
    for (int i = 0; i < 3; i++)
        expect_error(all[i], 2, "--layers: no layer of tiny_net is named \"zzz\"", NULL, 0, 0);
}
END_TEST

/* An empty file, a NUL byte and a control character had no line and
 * column. */
static const struct {
    const char *text;
    size_t len;
    const char *message;
    int line, col;
} bad_bytes[] = {
    {"", 0, "expected a mapping of keys, found an empty document", 1, 1},
    {"  \n\n", 4, "expected a mapping of keys, found an empty document", 1, 1},
    {"name: x\nranks: {P: 4}\x00\n", 22, "control characters are not allowed", 2, 14},
    {"name: x\x01\n", 9, "control characters are not allowed", 1, 8},
};

START_TEST(bad_bytes_are_located) {
    char *path = e2e_tmp_path("bytes.yaml");
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bad_bytes[_i].text, 1, bad_bytes[_i].len, f), bad_bytes[_i].len);
    ck_assert_int_eq(fclose(f), 0);
    const char *args[] = {"validate", path, NULL};
    expect_error(args, 1, bad_bytes[_i].message, path, bad_bytes[_i].line, bad_bytes[_i].col);
    free(path);
}
END_TEST

/* Einsums that overflowed the parser's stack, wrapped 64-bit index
 * arithmetic, or passed validate with a space no run could finish. */
static char *long_einsum(const char *open, int n, const char *middle, const char *close) {
    size_t size = strlen(open) * (size_t)n + strlen(middle) + strlen(close) * (size_t)n + 1;
    char *s = malloc(size), *at = s;
    ck_assert_ptr_nonnull(s);
    for (int i = 0; i < n; i++) at += sprintf(at, "%s", open);
    at += sprintf(at, "%s", middle);
    for (int i = 0; i < n; i++) at += sprintf(at, "%s", close);
    return s;
}

static const struct {
    const char *einsum, *ranks, *message;
    int col;
} bad_einsums[] = {
    {NULL, "{P: 4}", "expression nested more than 64 levels deep (parentheses and unary minus)",
     0},
    {"O[r] += I[p+r] * W[r]", "{P: 9223372036854775807, R: 3}",
     "dimension 0 of I spans more positions than 64-bit arithmetic holds", 12},
    {"O[r] += I[4*p+r] * W[r]", "{P: 4611686018427387904, R: 3}",
     "dimension 0 of I spans more positions than 64-bit arithmetic holds", 12},
    {"O[p] += I[4*p+r] * W[r]", "{P: 4611686018427387904, R: 3}",
     "tensor O has more than 2147483648 elements", 12},
    {"O[p] += I[1099511627776*1099511627776*p] * W[p]", "{P: 4}",
     "index coefficient too large: a product of factors above 2^40", 22},
    {"O[a] += I[b] * W[c]", "{A: 1073741824, B: 1073741824, C: 1073741824}",
     "the Einsum has more than 2^56 iteration points (A 1073741824 x B 1073741824 x C "
     "1073741824)", 12},
};

START_TEST(bad_einsums_are_rejected) {
    char *deep = long_einsum("(", 5000, "I[p]", ")");
    char *einsum = NULL;
    if (!bad_einsums[_i].einsum) {
        size_t size = strlen(deep) + 32;
        einsum = malloc(size);
        ck_assert_ptr_nonnull(einsum);
        snprintf(einsum, size, "O[p] += %s * W[p]", deep);
    }
    const char *text = einsum ? einsum : bad_einsums[_i].einsum;
    size_t size = strlen(text) + 256;
    char *yaml = malloc(size);
    ck_assert_ptr_nonnull(yaml);
    snprintf(yaml, size, "name: bad\neinsums: [\"%s\"]\nranks: %s\n", text,
             bad_einsums[_i].ranks);
    char *path = e2e_write_tmp("einsum.yaml", yaml);
    const char *args[] = {"validate", path, NULL};
    /* the nested case: the column of the 65th parenthesis */
    int col = bad_einsums[_i].col ? bad_einsums[_i].col : 12 + 8 + 64;
    expect_error(args, 1, bad_einsums[_i].message, path, 2, col);
    free(path);
    free(yaml);
    free(einsum);
    free(deep);
}
END_TEST

/* A unary minus chain as long: the same limit, and a 20,000-character
 * line is shown as a window around the caret, not whole. */
START_TEST(long_lines_show_a_window) {
    char *minus = long_einsum("-", 20000, "I[p]", "");
    size_t size = strlen(minus) + 128;
    char *yaml = malloc(size);
    ck_assert_ptr_nonnull(yaml);
    snprintf(yaml, size, "name: bad\neinsums: [\"O[p] = %s\"]\nranks: {P: 4}\n", minus);
    char *path = e2e_write_tmp("minus.yaml", yaml);
    e2e_result r;
    ck_assert(e2e_runl(&r, "validate", path, NULL));
    ck_assert_int_eq(r.exit_code, 1);
    ck_assert_msg(strstr(r.err, "expression nested more than 64 levels deep") != NULL, "%s",
                  r.err);
    ck_assert_msg(strlen(r.err) < 1000, "%zu bytes of diagnostics for one error", strlen(r.err));
    ck_assert_msg(strstr(r.err, "    2 | ...-") != NULL, "no window:\n%s", r.err);
    e2e_result_free(&r);
    free(path);
    free(yaml);
    free(minus);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_hardening");
    TCase *tc = tcase_create("hardening");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, tiny_bandwidth_is_rejected);
    tcase_add_test(tc, huge_energy_is_rejected);
    tcase_add_test(tc, stray_partition_is_rejected);
    tcase_add_test(tc, unknown_layer_is_a_usage_error);
    tcase_add_loop_test(tc, bad_einsums_are_rejected, 0,
                        (int)(sizeof bad_einsums / sizeof bad_einsums[0]));
    tcase_add_test(tc, long_lines_show_a_window);
    tcase_add_loop_test(tc, bad_bytes_are_located, 0,
                        (int)(sizeof bad_bytes / sizeof bad_bytes[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
