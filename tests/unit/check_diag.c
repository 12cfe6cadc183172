/* Unit tests of the diagnostics list: the exact rendered text (golden
 * CLI tests depend on it), caret alignment, the cap on kept
 * diagnostics, "did you mean" suggestions and source-line lookup. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "einflow/common.h"
#include "einflow/einsum.h"
#include "einflow/spec.h"
#include "unit/unit_util.h"

static char *render_one(const char *file, int line, int col, const char *path,
                        const char *hint, const char *source,
                        const char *message) {
    ef_diags *d = ef_diags_create();
    ck_assert_ptr_nonnull(d);
    ef_diags_add(d, file, line, col, path, hint, source, "%s", message);
    char *s = ef_diags_render(d);
    ef_diags_destroy(d);
    ck_assert_ptr_nonnull(s);
    return s;
}

START_TEST(render_full) {
    char *s = render_one("arch.yaml", 12, 15, "levels[1].capacity",
                         "did you mean \"KiB\"?", "    capacity: 108 KB",
                         "expected a size with a unit, found \"108 KB\"");
    ck_assert_str_eq(s,
                     "arch.yaml:12:15: error: levels[1].capacity: expected a "
                     "size with a unit, found \"108 KB\"\n"
                     "   12 |     capacity: 108 KB\n"
                     "      |               ^\n"
                     "      = hint: did you mean \"KiB\"?\n");
    free(s);
}
END_TEST

START_TEST(render_no_location) {
    char *s = render_one("x.yaml", 0, 7, "", NULL, "ignored", "cannot open");
    ck_assert_str_eq(s, "x.yaml: error: cannot open\n");
    free(s);
}
END_TEST

START_TEST(render_line_without_col) {
    char *s = render_one("x.yaml", 3, 0, "a.b", NULL, "src", "bad");
    ck_assert_str_eq(s, "x.yaml:3: error: a.b: bad\n"
                        "    3 | src\n");
    free(s);
}
END_TEST

START_TEST(render_no_source_no_path) {
    char *s = render_one("x.yaml", 2, 4, NULL, NULL, NULL, "oops");
    ck_assert_str_eq(s, "x.yaml:2:4: error: oops\n");
    free(s);
}
END_TEST

START_TEST(render_hint_without_source) {
    char *s = render_one("x.yaml", 2, 4, "", "try this", NULL, "oops");
    ck_assert_str_eq(s, "x.yaml:2:4: error: oops\n      = hint: try this\n");
    free(s);
}
END_TEST

START_TEST(caret_copies_tabs) {
    char *s = render_one("t.yaml", 1, 6, "", NULL, "\t\tx: 1", "m");
    ck_assert_str_eq(s, "t.yaml:1:6: error: m\n"
                        "    1 | \t\tx: 1\n"
                        "      | \t\t   ^\n");
    free(s);
}
END_TEST

START_TEST(caret_counts_utf8_characters) {
    /* libyaml counts columns in characters: "é" is one. */
    char *s = render_one("u.yaml", 1, 4, "", NULL, "\xc3\xa9: x", "m");
    ck_assert_str_eq(s, "u.yaml:1:4: error: m\n"
                        "    1 | \xc3\xa9: x\n"
                        "      |    ^\n");
    free(s);
}
END_TEST

START_TEST(caret_past_end_of_line) {
    char *s = render_one("e.yaml", 100000, 4, "", NULL, "ab", "m");
    ck_assert_str_eq(s, "e.yaml:100000:4: error: m\n"
                        "100000 | ab\n"
                        "      |    ^\n");
    free(s);
}
END_TEST

START_TEST(source_keeps_one_line) {
    char *s = render_one("s.yaml", 1, 1, "", NULL, "first\nsecond", "m");
    ck_assert_str_eq(s, "s.yaml:1:1: error: m\n    1 | first\n      | ^\n");
    free(s);
}
END_TEST

START_TEST(format_arguments) {
    ef_diags *d = ef_diags_create();
    ef_diags_add(d, "f", 1, 2, "p", NULL, NULL, "found %d of %s", 3, "x");
    ck_assert_uint_eq(d->count, 1);
    ck_assert_str_eq(d->items[0].message, "found 3 of x");
    ck_assert_str_eq(d->items[0].path, "p");
    ck_assert_ptr_null(d->items[0].hint);
    ck_assert_ptr_null(d->items[0].source);
    ef_diags_destroy(d);
}
END_TEST

START_TEST(several_in_order) {
    ef_diags *d = ef_diags_create();
    ef_diags_add(d, "a", 1, 1, "", NULL, NULL, "one");
    ef_diags_add(d, "b", 2, 2, "", NULL, NULL, "two");
    char *s = ef_diags_render(d);
    ck_assert_str_eq(s, "a:1:1: error: one\nb:2:2: error: two\n");
    free(s);
    ef_diags_destroy(d);
}
END_TEST

START_TEST(dropped_past_cap) {
    ef_diags *d = ef_diags_create();
    for (int i = 0; i < EF_MAX_DIAGS + 3; i++)
        ef_diags_add(d, "f", i + 1, 1, "", NULL, NULL, "e%d", i);
    ck_assert_uint_eq(d->count, EF_MAX_DIAGS);
    ck_assert_uint_eq(d->dropped, 3);
    char *s = ef_diags_render(d);
    const char *tail = "f:50:1: error: e49\n... and 3 more errors\n";
    size_t ls = strlen(s), lt = strlen(tail);
    ck_assert_uint_ge(ls, lt);
    ck_assert_str_eq(s + ls - lt, tail);
    free(s);
    ef_diags_destroy(d);
}
END_TEST

START_TEST(empty_and_null) {
    ef_diags *d = ef_diags_create();
    char *s = ef_diags_render(d);
    ck_assert_str_eq(s, "");
    free(s);
    ef_diags_destroy(d);
    ef_diags_destroy(NULL);
    ef_diags_add(NULL, "f", 1, 1, "", NULL, NULL, "ignored");
    s = ef_diags_render(NULL);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

/* ---------- suggestions ---------- */

static const char *const keys[] = {"name", "kind", "capacity", "per_pe",
                                   "read_bandwidth", "bandwidth"};
static const char *const kinds[] = {"dram", "sram", "regfile"};
static const char *const units[] = {"B", "KiB", "MiB", "GiB", "words"};

static const struct {
    const char *word;
    const char *const *cands;
    size_t n;
    const char *want; /* NULL: no suggestion */
} suggest_cases[] = {
    {"capcity", keys, 6, "capacity"},
    {"capacty", keys, 6, "capacity"},
    {"nam", keys, 6, "name"},
    {"NAME", keys, 6, "name"},
    {"bandwith", keys, 6, "bandwidth"},
    {"read_bandwith", keys, 6, "read_bandwidth"},
    {"sdram", kinds, 3, "sram"},
    {"SRAM", kinds, 3, "sram"},
    {"regfiles", kinds, 3, "regfile"},
    {"KB", units, 5, "KiB"},
    {"kib", units, 5, "KiB"},
    {"word", units, 5, "words"},
    {"cache", kinds, 3, NULL},
    {"zzzzzzz", keys, 6, NULL},
    {"", kinds, 3, NULL},
    {"x", NULL, 0, NULL},
};

START_TEST(suggest_table) {
    const char *got = ef_suggest(suggest_cases[_i].word,
                                 suggest_cases[_i].cands, suggest_cases[_i].n);
    if (suggest_cases[_i].want == NULL)
        ck_assert_msg(got == NULL, "%s: got %s", suggest_cases[_i].word, got);
    else
        ck_assert_msg(got && strcmp(got, suggest_cases[_i].want) == 0,
                      "%s: want %s, got %s", suggest_cases[_i].word,
                      suggest_cases[_i].want, got ? got : "NULL");
}
END_TEST

START_TEST(suggest_long_word) {
    char word[400];
    memset(word, 'a', sizeof word - 1);
    word[sizeof word - 1] = '\0';
    ck_assert_ptr_null(ef_suggest(word, keys, 6));
    ck_assert_ptr_null(ef_suggest(NULL, keys, 6));
}
END_TEST

/* ---------- source lines ---------- */

START_TEST(source_line_lookup) {
    char path[] = "/tmp/ef_diag_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "one\r\n\ttwo\n\nfour";
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    const char *want[] = {"one", "\ttwo", "", "four"};
    for (int i = 0; i < 4; i++) {
        char *s = ef_spec_source_line(path, i + 1);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_eq(s, want[i]);
        free(s);
    }
    ck_assert_ptr_null(ef_spec_source_line(path, 5));
    ck_assert_ptr_null(ef_spec_source_line(path, 0));
    unlink(path);
    ck_assert_ptr_null(ef_spec_source_line(path, 1));
}
END_TEST

START_TEST(source_line_trailing_newline) {
    char path[] = "/tmp/ef_diag_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "a\n", 2), 2);
    close(fd);
    char *s = ef_spec_source_line(path, 1);
    ck_assert_str_eq(s, "a");
    free(s);
    ck_assert_ptr_null(ef_spec_source_line(path, 2));
    unlink(path);
}
END_TEST

/* A stage after loading quotes the line as it was loaded, even when the
 * file has changed on disk since (it used to read the file again). */
START_TEST(source_line_is_the_loaded_text) {
    char *path = ut_write_temp("name: w\neinsums: [\"O[p] += I[p] * Q[z]\"]\nranks: {P: 4}\n");
    ef_diags *d = ef_diags_create();
    ef_workload_spec *ws = ef_spec_load_workload(path, d);
    ck_assert_ptr_nonnull(ws);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("something else entirely\nand another line\n", f);
    fclose(f);
    ck_assert_ptr_null(ef_einsum_build(ws, d)); /* z: no such rank */
    char *text = ef_diags_render(d);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "    2 | einsums: [\"O[p] += I[p] * Q[z]\"]") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "another line") == NULL, "%s", text);
    char *line = ef_diags_source_line(d, path, 3);
    ck_assert_str_eq(line, "ranks: {P: 4}");
    free(line);
    ck_assert_ptr_null(ef_diags_source_line(d, path, 4));
    free(text);
    ef_workload_spec_destroy(ws);
    ef_diags_destroy(d);
    unlink(path);
    free(path);
}
END_TEST

static Suite *diag_suite(void) {
    Suite *s = suite_create("diag");
    TCase *r = tcase_create("render");
    tcase_add_test(r, render_full);
    tcase_add_test(r, render_no_location);
    tcase_add_test(r, render_line_without_col);
    tcase_add_test(r, render_no_source_no_path);
    tcase_add_test(r, render_hint_without_source);
    tcase_add_test(r, caret_copies_tabs);
    tcase_add_test(r, caret_counts_utf8_characters);
    tcase_add_test(r, caret_past_end_of_line);
    tcase_add_test(r, source_keeps_one_line);
    tcase_add_test(r, format_arguments);
    tcase_add_test(r, several_in_order);
    tcase_add_test(r, dropped_past_cap);
    tcase_add_test(r, empty_and_null);
    tcase_add_test(r, source_line_is_the_loaded_text);
    suite_add_tcase(s, r);
    TCase *g = tcase_create("suggest");
    tcase_add_loop_test(g, suggest_table, 0,
                        (int)(sizeof suggest_cases / sizeof suggest_cases[0]));
    tcase_add_test(g, suggest_long_word);
    suite_add_tcase(s, g);
    TCase *l = tcase_create("source");
    tcase_add_test(l, source_line_lookup);
    tcase_add_test(l, source_line_trailing_newline);
    suite_add_tcase(s, l);
    return s;
}

int main(void) {
    return ut_run_suite(diag_suite());
}
