/* Unit tests of network parameters (spec/params.c): params: and batch:,
 * rank bounds written as expressions over parameters (their values,
 * precedence and the exact diagnostics of bad ones, caret column
 * included), values set by the caller (what --set passes), and
 * workload files that declare params:.
 *
 * Every expected value is worked out by hand from the expression in
 * the table; none is read back from the program. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit/unit_util.h"

/* ---------- helpers ---------- */

/* A network of one FC layer whose rank M is `bound`, under the given
 * top-level lines. The bound starts at line 6, column 22 when head is
 * one line: "    ranks: {N: 1, M: " is 21 characters. */
static char *one_layer_net(const char *head, const char *bound) {
    return ut_fmt("name: p\n"
                  "%s"
                  "layers:\n"
                  "  - name: l\n"
                  "    einsum: \"O[n,m] += I[n,c] * F[m,c]\"\n"
                  "    ranks: {N: 1, M: %s, C: 2}\n",
                  head, bound);
}

#define PARAMS "params: {seq: 2048, heads: 32, kv_heads: 8}\n"
#define VALUES "parameters in use: batch = 1, seq = 2048, heads = 32, kv_heads = 8"

static uint64_t rank_bound(const ef_workload_spec *w, const char *name) {
    for (int r = 0; r < w->rank_count; r++)
        if (strcmp(w->ranks[r].name, name) == 0) return w->ranks[r].bound;
    ck_abort_msg("no rank %s", name);
    return 0;
}

/* The first rendered line of d with the file name replaced by "F". */
static char *first_line(const ef_diags *d, const char *file) {
    char *all = ef_diags_render(d);
    ck_assert_ptr_nonnull(all);
    size_t n = strcspn(all, "\n");
    all[n] = '\0';
    size_t fl = strlen(file);
    char *out = strncmp(all, file, fl) == 0 ? ut_fmt("F%s", all + fl) : ut_fmt("%s", all);
    free(all);
    return out;
}

static ef_network_spec *load_set(const char *path, const ef_param_value *set, int n,
                                 ef_diags *d) {
    return ef_spec_load_network_set(path, set, n, d);
}

static ef_network_spec *load_ok(const char *path, const ef_param_value *set, int n,
                                ef_diags *d) {
    ef_network_spec *net = load_set(path, set, n, d);
    char *all = ef_diags_render(d);
    ck_assert_msg(net != NULL && d->count == 0, "%s: unexpected errors:\n%s", path, all);
    free(all);
    return net;
}

/* Loads text (which must fail) and checks the first diagnostic's
 * rendered line and hint. */
static void expect_error(const char *text, const ef_param_value *set, int n, const char *line,
                         const char *hint, int index) {
    char *p = ut_write_temp(text);
    ef_diags *d = ef_diags_create();
    ck_assert_msg(load_set(p, set, n, d) == NULL, "case %d loaded", index);
    ck_assert_uint_ge(d->count, 1);
    char *got = first_line(d, p);
    ck_assert_msg(strcmp(got, line) == 0, "case %d:\n want %s\n  got %s", index, line, got);
    const char *h = d->items[0].hint;
    if (hint)
        ck_assert_msg(h && strcmp(h, hint) == 0, "case %d hint:\n want %s\n  got %s", index, hint,
                      h ? h : "NULL");
    else
        ck_assert_msg(h == NULL, "case %d: unexpected hint %s", index, h);
    free(got);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
}

/* ---------- bounds that evaluate ---------- */

static const struct {
    const char *bound;
    uint64_t value;
} good[] = {
    {"seq", 2048},
    {"seq/16", 128},
    {"heads/kv_heads", 4},
    {"seq / 16 / 2", 64},          /* left to right: (2048 / 16) / 2 */
    {"seq - 1000 - 48", 1000},     /* (2048 - 1000) - 48 */
    {"2 + 3 * 4", 14},             /* * before + */
    {"(2 + 3) * 4", 20},
    {"heads*(seq/kv_heads)", 8192}, /* 32 * 256 */
    {"((seq))", 2048},
    {"batch*4", 4},
    {"seq/heads*kv_heads", 512},   /* (2048 / 32) * 8 */
    {"64", 64},
    {"18446744073709551615", UINT64_MAX}, /* a plain integer keeps its range */
    {"seq*seq*seq*seq*seq", UINT64_C(36028797018963968)}, /* 2^55 */
    {"seq-2047", 1},
};

START_TEST(bound_values) {
    char *text = one_layer_net(PARAMS, good[_i].bound);
    char *p = ut_write_temp(text);
    ef_diags *d = ef_diags_create();
    ef_network_spec *n = load_ok(p, NULL, 0, d);
    const ef_workload_spec *w = n->layers[0].workload;
    ck_assert_msg(rank_bound(w, "M") == good[_i].value, "%s: %llu, want %llu", good[_i].bound,
                  (unsigned long long)rank_bound(w, "M"), (unsigned long long)good[_i].value);
    ck_assert_msg(!w->ranks[1].is_batch, "%s is not the word batch", good[_i].bound);
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
    free(text);
}
END_TEST

/* The parameters in use: batch first (implicit here), then params: in
 * file order, each located at its key. */
START_TEST(params_in_use) {
    char *text = one_layer_net(PARAMS, "seq");
    char *p = ut_write_temp(text);
    ef_diags *d = ef_diags_create();
    ef_network_spec *n = load_ok(p, NULL, 0, d);
    static const char *const names[] = {"batch", "seq", "heads", "kv_heads"};
    static const uint64_t values[] = {1, 2048, 32, 8};
    static const int cols[] = {0, 10, 21, 32};
    ck_assert_int_eq(n->param_count, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(n->params[i].name, names[i]);
        ck_assert_uint_eq(n->params[i].value, values[i]);
        ck_assert(!n->params[i].overridden);
        ck_assert_int_eq(n->params[i].loc.line, i ? 2 : 0);
        ck_assert_int_eq(n->params[i].loc.col, cols[i]);
    }
    ck_assert_ptr_eq(n->params[1].loc.file, n->file);
    ck_assert_uint_eq(n->batch, 1);
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
    free(text);
}
END_TEST

/* batch: and params.batch are the same parameter, and the word batch
 * works inside expressions of a file without params: too. */
START_TEST(batch_forms) {
    static const struct {
        const char *head, *bound;
        uint64_t batch, value;
        bool is_batch;
    } cases[] = {
        {"batch: 3\n", "batch", 3, 3, true},
        {"params: {batch: 5}\n", "batch", 5, 5, true},
        {"params: {batch: 5, seq: 8}\n", "batch*seq", 5, 40, false},
        {"batch: 4\n", "batch*2", 4, 8, false},
        {"", "batch + 1", 1, 2, false},
        {"batch: 2\nparams: {seq: 16}\n", "seq/batch", 2, 8, false},
    };
    for (size_t i = 0; i < UT_LEN(cases); i++) {
        char *text = one_layer_net(cases[i].head, cases[i].bound);
        char *p = ut_write_temp(text);
        ef_diags *d = ef_diags_create();
        ef_network_spec *n = load_ok(p, NULL, 0, d);
        ck_assert_uint_eq(n->batch, cases[i].batch);
        ck_assert_str_eq(n->params[0].name, "batch");
        ck_assert_uint_eq(rank_bound(n->layers[0].workload, "M"), cases[i].value);
        ck_assert(n->layers[0].workload->ranks[1].is_batch == cases[i].is_batch);
        ef_network_spec_destroy(n);
        ef_diags_destroy(d);
        unlink(p);
        free(p);
        free(text);
    }
}
END_TEST

/* ---------- bad bounds: the exact first diagnostic ---------- */

#define WANT_ANY                                                                   \
    "F:6:22: error: layers[0].ranks.M: expected a positive integer or an expression " \
    "over the parameters (batch, seq, heads, kv_heads), found "

static const struct {
    const char *bound;
    const char *line;
    const char *hint;
} bad[] = {
    /* a misspelt name, alone or inside an expression: caret on it */
    {"sqe", WANT_ANY "\"sqe\"", "did you mean \"seq\"?"},
    {"seq/hedas",
     "F:6:26: error: layers[0].ranks.M: expected a parameter (batch, seq, heads, kv_heads), "
     "found \"hedas\"",
     "did you mean \"heads\"?"},
    {"seq/tokens",
     "F:6:26: error: layers[0].ranks.M: expected a parameter (batch, seq, heads, kv_heads), "
     "found \"tokens\"",
     "a file declares its parameters under params:, e.g. params: {tokens: 1}"},
    /* arithmetic that has no whole positive answer: caret on the operator */
    {"seq/3",
     "F:6:25: error: layers[0].ranks.M: expected a division without remainder, found 2048 / 3 "
     "(remainder 2)",
     VALUES},
    {"seq/(heads-32)",
     "F:6:25: error: layers[0].ranks.M: expected a nonzero divisor, found 2048 / 0", NULL},
    {"seq-seq", "F:6:22: error: layers[0].ranks.M: expected a positive bound, found \"seq-seq\" = 0",
     VALUES},
    {"heads - seq",
     "F:6:22: error: layers[0].ranks.M: expected a positive bound, found \"heads - seq\" = -2016",
     VALUES},
    {"99999999999 * 99999999999",
     "F:6:34: error: layers[0].ranks.M: expected a value that fits in 64 bits, found "
     "99999999999 * 99999999999",
     NULL},
    {"99999999999999999999 + 1",
     "F:6:22: error: layers[0].ranks.M: expected a number below 2^63, found "
     "\"99999999999999999999\"",
     NULL},
    /* syntax */
    {"(seq/16", "F:6:29: error: layers[0].ranks.M: expected \")\", found the end",
     "to close the \"(\" at column 22"},
    {"seq*", "F:6:26: error: layers[0].ranks.M: expected a number, a parameter or \"(\", found the end",
     NULL},
    {"seq)", "F:6:25: error: layers[0].ranks.M: expected an operator (+, -, *, /) or the end, "
             "found \")\"",
     NULL},
    {"seq/16 heads", "F:6:29: error: layers[0].ranks.M: expected an operator (+, -, *, /) or "
                     "the end, found \"heads\"",
     NULL},
    {"2 * -seq", "F:6:26: error: layers[0].ranks.M: expected a number, a parameter or \"(\", "
                 "found \"-\"",
     NULL},
    {"(((((((((((((((((((((((((((((((((seq)))))))))))))))))))))))))))))))))",
     "F:6:54: error: layers[0].ranks.M: expected at most 32 nested parentheses, found more",
     NULL},
    /* not an expression at all */
    {"0", WANT_ANY "\"0\"", NULL},
    {"-4", WANT_ANY "\"-4\"", NULL},
    {"seq % 16", WANT_ANY "\"seq % 16\"", NULL},
    {"\"seq/16\"", WANT_ANY "the string \"seq/16\"",
     "write seq/16 without quotes: quoted, it is a string"},
    {"[seq]", WANT_ANY "a sequence", NULL},
};

START_TEST(bad_bound) {
    char *text = one_layer_net(PARAMS, bad[_i].bound);
    expect_error(text, NULL, 0, bad[_i].line, bad[_i].hint, _i);
    free(text);
}
END_TEST

/* A file without params: keeps the words it always had for a bad
 * single bound; expressions over batch get the new ones. */
START_TEST(bad_bound_without_params) {
    char *text = one_layer_net("batch: 4\n", "bacth");
    expect_error(text, NULL, 0,
                 "F:6:22: error: layers[0].ranks.M: expected a positive integer or the word "
                 "batch, found \"bacth\"",
                 "did you mean \"batch\"?", 0);
    free(text);
    text = one_layer_net("batch: 4\n", "2*bacth");
    expect_error(text, NULL, 0,
                 "F:6:24: error: layers[0].ranks.M: expected a parameter (batch), found "
                 "\"bacth\"",
                 "did you mean \"batch\"?", 1);
    free(text);
    text = one_layer_net("", "batch/2");
    expect_error(text, NULL, 0,
                 "F:5:27: error: layers[0].ranks.M: expected a division without remainder, "
                 "found 1 / 2 (remainder 1)",
                 "parameters in use: batch = 1", 2);
    free(text);
}
END_TEST

/* ---------- bad params: ---------- */

static const struct {
    const char *head;
    const char *line;
    const char *hint;
} bad_params[] = {
    {"batch: 2\nparams: {seq: 4, batch: 3}\n",
     "F:3:18: error: params.batch: expected batch either at the top level or under params, "
     "found both",
     "batch: N at the top level is short for params: {batch: N}; keep one of them"},
    {"params: {seq: 0}\n", "F:2:15: error: params.seq: expected a positive integer, found \"0\"",
     NULL},
    {"params: {seq: two}\n",
     "F:2:15: error: params.seq: expected a positive integer, found \"two\"", NULL},
    {"params: {seq: 9223372036854775808}\n",
     "F:2:15: error: params.seq: expected a positive integer below 2^63, found "
     "\"9223372036854775808\"",
     NULL},
    {"params: {2k: 4}\n",
     "F:2:10: error: params: expected a name (letters, digits and _, not starting with a "
     "digit), found \"2k\"",
     NULL},
    {"params: [seq]\n", "F:2:9: error: params: expected a mapping, found a sequence", NULL},
    {"param: {seq: 4}\n", "F:2:1: error: unknown key \"param\"", "did you mean \"params\"?"},
    {"params: {a: 1, b: 1, c: 1, d: 1, e: 1, f: 1, g: 1, h: 1, i: 1, j: 1, k: 1, l: 1, m: 1, "
     "n: 1, o: 1, q: 1}\n",
     "F:2:9: error: params: expected at most 16 parameters (batch included), found 17", NULL},
};

START_TEST(bad_params_table) {
    char *text = one_layer_net(bad_params[_i].head, "4");
    expect_error(text, NULL, 0, bad_params[_i].line, bad_params[_i].hint, _i);
    free(text);
}
END_TEST

/* 15 parameters besides batch fit. */
START_TEST(params_limit_fits) {
    char *text = one_layer_net("params: {a: 1, b: 1, c: 1, d: 1, e: 1, f: 1, g: 1, h: 1, i: 1, "
                               "j: 1, k: 1, l: 1, m: 1, n: 1, o: 1}\n",
                               "a+o");
    char *p = ut_write_temp(text);
    ef_diags *d = ef_diags_create();
    ef_network_spec *n = load_ok(p, NULL, 0, d);
    ck_assert_int_eq(n->param_count, EF_MAX_PARAMS);
    ck_assert_uint_eq(rank_bound(n->layers[0].workload, "M"), 2);
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
    free(text);
}
END_TEST

/* ---------- values set by the caller ---------- */

START_TEST(set_changes_bounds) {
    char *text = one_layer_net(PARAMS, "seq/16");
    char *p = ut_write_temp(text);
    ef_diags *d = ef_diags_create();
    ef_param_value set[] = {{"seq", 1024}, {"batch", 3}, {"seq", 4096}}; /* the later seq wins */
    ef_network_spec *n = load_ok(p, set, 3, d);
    ck_assert_uint_eq(rank_bound(n->layers[0].workload, "M"), 256);
    ck_assert_uint_eq(n->batch, 3);
    ck_assert(n->params[0].overridden);
    ck_assert_str_eq(n->params[1].name, "seq");
    ck_assert_uint_eq(n->params[1].value, 4096);
    ck_assert(n->params[1].overridden);
    ck_assert(!n->params[2].overridden);
    ck_assert_uint_eq(n->params[2].value, 32);
    ef_network_spec_destroy(n);
    /* the batch argument of ef_spec_load_network is the same thing */
    n = ef_spec_load_network(p, 7, d);
    ck_assert_ptr_nonnull(n);
    ck_assert_uint_eq(n->batch, 7);
    ck_assert(n->params[0].overridden);
    ck_assert_uint_eq(rank_bound(n->layers[0].workload, "M"), 128);
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
    free(text);
}
END_TEST

START_TEST(set_errors) {
    char *text = one_layer_net(PARAMS, "seq/16");
    ef_param_value sqe[] = {{"sqe", 4096}};
    expect_error(text, sqe, 1,
                 "F:2:1: error: params: expected a parameter of this file to set (batch, seq, "
                 "heads, kv_heads), found \"sqe\"",
                 "did you mean \"seq\"?", 0);
    ef_param_value ctx[] = {{"ctx", 4096}};
    expect_error(text, ctx, 1,
                 "F:2:1: error: params: expected a parameter of this file to set (batch, seq, "
                 "heads, kv_heads), found \"ctx\"",
                 NULL, 1);
    /* a value that breaks a bound is reported at the bound, with the
     * values in use */
    ef_param_value hundred[] = {{"seq", 100}};
    expect_error(text, hundred, 1,
                 "F:6:25: error: layers[0].ranks.M: expected a division without remainder, "
                 "found 100 / 16 (remainder 4)",
                 "parameters in use: batch = 1, seq = 100 (set), heads = 32, kv_heads = 8", 2);
    ef_param_value zero[] = {{"seq", 0}};
    expect_error(text, zero, 1,
                 "F: error: expected a value from 1 to 2^63 - 1 to set seq to, found 0", NULL, 3);
    free(text);
    /* a file without params: has batch only */
    text = one_layer_net("", "4");
    ef_param_value seq[] = {{"seq", 8}};
    expect_error(text, seq, 1,
                 "F: error: expected a parameter of this file to set (batch), found \"seq\"",
                 "the file declares no params:, so batch is its only parameter", 4);
    free(text);
}
END_TEST

/* ---------- workload files with params: ---------- */

static const char param_workload[] =
    "name: w\n"
    "params: {seq: 64, heads: 4}\n"
    "einsums: [\"QK[n,h,m,p] += Q[n,h,p,e] * K[n,h,m,e]\"]\n"
    "ranks: {N: batch, H: heads, M: seq, P: seq/2, E: 16}\n";

START_TEST(workload_with_params) {
    char *p = ut_write_temp(param_workload);
    ef_diags *d = ef_diags_create();
    ef_workload_spec *w = ef_spec_load_workload(p, d);
    ck_assert_msg(w != NULL && d->count == 0, "workload with params: does not load");
    ck_assert_uint_eq(rank_bound(w, "N"), 1);
    ck_assert(w->ranks[0].is_batch);
    ck_assert_uint_eq(rank_bound(w, "H"), 4);
    ck_assert_uint_eq(rank_bound(w, "M"), 64);
    ck_assert_uint_eq(rank_bound(w, "P"), 32);
    ef_workload_spec_destroy(w);
    /* as a one-layer network, with values set */
    ef_param_value set[] = {{"seq", 128}, {"batch", 2}};
    ef_network_spec *n = load_ok(p, set, 2, d);
    ck_assert(!n->is_network);
    ck_assert_int_eq(n->param_count, 3);
    ck_assert_str_eq(n->params[2].name, "heads");
    ck_assert_ptr_eq(n->params[1].loc.file, n->file);
    ck_assert_int_eq(n->params[1].loc.line, 2);
    ck_assert_uint_eq(n->batch, 2);
    ck_assert_uint_eq(rank_bound(n->layers[0].workload, "N"), 2);
    ck_assert_uint_eq(rank_bound(n->layers[0].workload, "M"), 128);
    ck_assert_uint_eq(rank_bound(n->layers[0].workload, "P"), 64);
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
}
END_TEST

/* Without params:, a workload file reads as before: plain integers,
 * and a batch set by the caller changes nothing. */
START_TEST(workload_without_params) {
    char *p = ut_write_temp("name: w\neinsums: [\"O[n] += I[n] * F[n]\"]\nranks: {N: 3}\n");
    ef_diags *d = ef_diags_create();
    ef_param_value set[] = {{"batch", 8}};
    ef_network_spec *n = load_ok(p, set, 1, d);
    ck_assert_int_eq(n->param_count, 1);
    ck_assert_uint_eq(n->batch, 8);
    ck_assert_uint_eq(rank_bound(n->layers[0].workload, "N"), 3);
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
    expect_error("name: w\neinsums: [\"O[n] += I[n] * F[n]\"]\nranks: {N: 2*2}\n", NULL, 0,
                 "F:3:12: error: ranks.N: expected a positive integer, found \"2*2\"", NULL, 0);
    ef_param_value seq[] = {{"seq", 8}};
    expect_error("name: w\neinsums: [\"O[n] += I[n] * F[n]\"]\nranks: {N: 2}\n", seq, 1,
                 "F: error: expected a parameter of this file to set (batch), found \"seq\"",
                 "the file declares no params:, so batch is its only parameter", 1);
}
END_TEST

static Suite *params_suite(void) {
    Suite *s = suite_create("params");
    TCase *v = tcase_create("values");
    tcase_add_loop_test(v, bound_values, 0, (int)UT_LEN(good));
    tcase_add_test(v, params_in_use);
    tcase_add_test(v, batch_forms);
    tcase_add_test(v, params_limit_fits);
    suite_add_tcase(s, v);
    TCase *e = tcase_create("errors");
    tcase_add_loop_test(e, bad_bound, 0, (int)UT_LEN(bad));
    tcase_add_test(e, bad_bound_without_params);
    tcase_add_loop_test(e, bad_params_table, 0, (int)UT_LEN(bad_params));
    suite_add_tcase(s, e);
    TCase *o = tcase_create("set");
    tcase_add_test(o, set_changes_bounds);
    tcase_add_test(o, set_errors);
    suite_add_tcase(s, o);
    TCase *w = tcase_create("workload");
    tcase_add_test(w, workload_with_params);
    tcase_add_test(w, workload_without_params);
    suite_add_tcase(s, w);
    return s;
}

int main(void) {
    return ut_run_suite(params_suite());
}
