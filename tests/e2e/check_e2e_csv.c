/* End to end: `--csv FILE` of `einflow run` and `einflow compare`.
 * The CSV is read back with a parser of RFC 4180 written here (not the
 * writer's code), and every cell is compared as text with the value
 * the JSON of the same command (-o) holds, read by the column's own
 * path: a number's literal text, a string as is, null as an empty
 * cell. The row counts are closed forms: the attention cascade has 6
 * Einsums, tests/data/tiny_net.yaml 3 layers of one Einsum each. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

#define EDGE "configs/edge_8x8.yaml"
#define ATTENTION "workloads/attention.yaml"
#define NET "tests/data/tiny_net.yaml"
#define ATTENTION_EINSUMS 6
#define NET_LAYERS 3
/* A matrix-vector product small enough for the sanitizers. */
#define SMALL_FC_BODY "einsums:\n  - \"O[m] += I[c] * F[m,c]\"\nranks: {M: 8, C: 16}\n"
#define SMALL_FC "name: small_fc\n" SMALL_FC_BODY

/* ---------- an RFC 4180 reader ---------- */

#define MAX_FIELDS 128
#define MAX_ROWS 64

typedef struct {
    char *cell[MAX_ROWS][MAX_FIELDS]; /* malloc'd */
    int width[MAX_ROWS];
    int rows;                          /* the header included */
} csv_t;

/* Parses text: fields split at commas, rows at LF (CRLF accepted); a
 * quoted field may hold commas, LFs and doubled quotes. Fails the test
 * on a malformed file (a quote inside an unquoted field, an
 * unterminated quote, a missing last LF). */
static void csv_parse(const char *text, csv_t *c) {
    memset(c, 0, sizeof *c);
    const char *p = text;
    while (*p) {
        ck_assert_int_lt(c->rows, MAX_ROWS);
        int r = c->rows++;
        for (;;) {
            ck_assert_int_lt(c->width[r], MAX_FIELDS);
            size_t cap = strlen(p) + 1, n = 0;
            char *f = malloc(cap);
            if (*p == '"') {
                for (p++;; p++) {
                    ck_assert_msg(*p, "unterminated quoted field");
                    if (*p == '"' && p[1] == '"') f[n++] = *p++;
                    else if (*p == '"') break;
                    else f[n++] = *p;
                }
                p++;
            } else {
                for (; *p && *p != ',' && *p != '\n' && *p != '\r'; p++) {
                    ck_assert_msg(*p != '"', "a quote inside an unquoted field");
                    f[n++] = *p;
                }
            }
            f[n] = '\0';
            c->cell[r][c->width[r]++] = f;
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p == '\r') p++;
            ck_assert_msg(*p == '\n', "a row must end in a newline, found '%c'", *p ? *p : '0');
            p++;
            break;
        }
    }
}

static void csv_free(csv_t *c) {
    for (int r = 0; r < c->rows; r++)
        for (int k = 0; k < c->width[r]; k++) free(c->cell[r][k]);
}

static int column(const csv_t *c, const char *name) {
    for (int k = 0; k < c->width[0]; k++)
        if (!strcmp(c->cell[0][k], name)) return k;
    ck_abort_msg("no column %s", name);
    return -1;
}

/* ---------- what a cell should hold ---------- */

/* A JSON value as the CSV must spell it: a number's literal text
 * (e2e_parse_json keeps it), a string, true/false, "" for null. */
static const char *expected_text(const cJSON *it, char *buf, size_t size) {
    if (!it || cJSON_IsNull(it)) return "";
    if (cJSON_IsNumber(it) || cJSON_IsString(it)) return it->valuestring;
    if (cJSON_IsBool(it)) return cJSON_IsTrue(it) ? "true" : "false";
    snprintf(buf, size, "<not a scalar>");
    return buf;
}

/* The columns read from an Einsum's JSON entry, by path, in order
 * (docs/output.md, "The CSV of run and compare"). */
static const char *const einsum_paths[][2] = {
    {"output", "output"},
    {"einsum", "einsum"},
    {"fused_index", "fused.index"},
    {"fused_count", "fused.count"},
    {"cycles", "summary.cycles"},
    {"compute_cycles", "summary.compute_cycles"},
    {"stall_cycles", NULL},
    {"macs", "summary.macs"},
    {"ops", "summary.ops"},
    {"utilization", "summary.utilization"},
    {"vector_utilization", "summary.vector_utilization"},
    {"active_pes", "summary.active_pes"},
    {"energy_pj", "summary.energy_pj"},
    {"pj_per_mac", "summary.pj_per_mac"},
    {"power_w", "summary.power_w"},
    {"energy_mac_pj", "summary.energy_breakdown.mac"},
    {"energy_vector_pj", "summary.energy_breakdown.vector"},
    {"energy_noc_pj", "summary.energy_breakdown.noc"},
    {"energy_leakage_pj", "summary.energy_breakdown.leakage"},
    {"outer_bytes", "summary.outer_traffic.bytes"},
    {"outer_compulsory_bytes", "summary.outer_traffic.compulsory_bytes"},
    {"outer_extra_bytes", "summary.outer_traffic.extra_bytes"},
    {"roofline_bound", "roofline.bound"},
    {"peak_ops_per_cycle", "roofline.peak_ops_per_cycle"},
    {"achieved_ops_per_cycle", "roofline.achieved_ops_per_cycle"},
};
#define EINSUM_COLUMNS (int)(sizeof einsum_paths / sizeof einsum_paths[0])

/* The entry of e's levels[] named name, or NULL. */
static const cJSON *level_of(const cJSON *e, const char *name) {
    const cJSON *l;
    cJSON_ArrayForEach(l, e2e_get(e, "levels"))
        if (!strcmp(e2e_path_str(l, "name"), name)) return l;
    return NULL;
}

/* Checks every cell of row r against entry e: the Einsum columns, and
 * per level L of the architecture L_energy_pj, L_read_bytes,
 * L_write_bytes. levels: the architecture's level names. Returns how
 * many cells it checked. */
static int check_einsum_cells(const csv_t *c, int r, const cJSON *e, const char *const *levels,
                              int level_count) {
    char buf[64], want[64];
    int checked = 0;
    for (int k = 0; k < EINSUM_COLUMNS; k++) {
        const char *got = c->cell[r][column(c, einsum_paths[k][0])];
        const char *exp;
        if (einsum_paths[k][1]) {
            exp = expected_text(e2e_get(e, einsum_paths[k][1]), buf, sizeof buf);
        } else {
            snprintf(want, sizeof want, "%" PRIu64, e2e_stall_total(e));
            exp = want;
        }
        ck_assert_msg(!strcmp(got, exp), "row %d, %s: CSV has \"%s\", JSON \"%s\"", r,
                      einsum_paths[k][0], got, exp);
        checked++;
    }
    for (int l = 0; l < level_count; l++) {
        const cJSON *entry = level_of(e, levels[l]);
        char name[96], path[128];
        snprintf(path, sizeof path, "summary.energy_breakdown.levels.%s", levels[l]);
        const struct {
            const char *suffix;
            const cJSON *item;
        } cells[] = {{"energy_pj", e2e_get(e, path)},
                     {"read_bytes", entry ? e2e_get(entry, "read_bytes") : NULL},
                     {"write_bytes", entry ? e2e_get(entry, "write_bytes") : NULL}};
        for (int k = 0; k < 3; k++) {
            snprintf(name, sizeof name, "%s_%s", levels[l], cells[k].suffix);
            const char *got = c->cell[r][column(c, name)];
            const char *exp = expected_text(cells[k].item, buf, sizeof buf);
            ck_assert_msg(!strcmp(got, exp), "row %d, %s: CSV has \"%s\", JSON \"%s\"", r, name,
                          got, exp);
            checked++;
        }
    }
    return checked;
}

/* The architecture's levels, from summary.energy_breakdown.levels. */
static int level_names(const cJSON *root, const char **out) {
    int n = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, e2e_get(root, "summary.energy_breakdown.levels")) out[n++] = l->string;
    return n;
}

/* Every row as wide as the header, and the header exactly the
 * documented columns: [dataflow,] layer, count, the Einsum's head
 * columns, three per level, the tail ones. */
static void check_header(const csv_t *c, bool with_dataflow, const char *const *levels,
                         int level_count) {
    const char *want[MAX_FIELDS];
    char names[MAX_FIELDS][96];
    int n = 0;
    if (with_dataflow) want[n++] = "dataflow";
    want[n++] = "layer";
    want[n++] = "count";
    int head = 0; /* the level columns come after energy_leakage_pj */
    while (strcmp(einsum_paths[head++][0], "energy_leakage_pj")) continue;
    for (int k = 0; k < head; k++) want[n++] = einsum_paths[k][0];
    static const char *const suffixes[] = {"energy_pj", "read_bytes", "write_bytes"};
    for (int l = 0; l < level_count; l++)
        for (int k = 0; k < 3; k++) {
            snprintf(names[n], sizeof names[n], "%s_%s", levels[l], suffixes[k]);
            want[n] = names[n];
            n++;
        }
    for (int k = head; k < EINSUM_COLUMNS; k++) want[n++] = einsum_paths[k][0];
    ck_assert_int_eq(c->width[0], n);
    for (int k = 0; k < n; k++)
        ck_assert_msg(!strcmp(c->cell[0][k], want[k]), "column %d: \"%s\", expected \"%s\"", k,
                      c->cell[0][k], want[k]);
    for (int r = 1; r < c->rows; r++) ck_assert_int_eq(c->width[r], n);
}

/* Runs einflow with args plus -o JSON --csv CSV; asserts exit 0 and
 * returns the JSON, the CSV parsed into c and its text in *text. */
static cJSON *run_both(const char *const *args, csv_t *c, char **text) {
    char *json = e2e_tmp_path("out.json"), *csv = e2e_tmp_path("out.csv");
    const char *all[40];
    int n = 0;
    for (; args[n]; n++) all[n] = args[n];
    all[n++] = "-o";
    all[n++] = json;
    all[n++] = "--csv";
    all[n++] = csv;
    all[n] = NULL;
    e2e_result r;
    ck_assert(e2e_run(&r, all));
    ck_assert_msg(r.exit_code == 0, "%s: exit %d\n%s", e2e_cmdline(all), r.exit_code, r.err);
    e2e_result_free(&r);
    cJSON *root = e2e_load_json(json);
    ck_assert_msg(root != NULL, "%s: no JSON", e2e_cmdline(all));
    *text = e2e_read_file(csv, NULL);
    ck_assert_msg(*text != NULL, "%s: no CSV", e2e_cmdline(all));
    csv_parse(*text, c);
    free(json);
    free(csv);
    return root;
}

/* ---------- the tests ---------- */

/* A cascade run from a mapping file with a fused group: one row per
 * Einsum, layer = the workload's name, count 1. */
START_TEST(run_cascade_rows_equal_json) {
    const char *args[] = {"run", EDGE, ATTENTION, "mappings/edge_8x8__attention_fused.yaml", "-q",
                          NULL};
    csv_t c;
    char *text;
    cJSON *root = run_both(args, &c, &text);
    const char *levels[16];
    int nl = level_names(root, levels);
    ck_assert_int_eq(nl, 3); /* DRAM, GLB, RF */
    check_header(&c, false, levels, nl);
    ck_assert_int_eq(c.rows, 1 + ATTENTION_EINSUMS);
    int checked = 0;
    for (int i = 0; i < ATTENTION_EINSUMS; i++) {
        char path[32];
        snprintf(path, sizeof path, "einsums[%d]", i);
        const cJSON *e = e2e_get(root, path);
        ck_assert_str_eq(c.cell[1 + i][column(&c, "layer")], e2e_path_str(root, "workload.name"));
        ck_assert_str_eq(c.cell[1 + i][column(&c, "count")], "1");
        checked += check_einsum_cells(&c, 1 + i, e, levels, nl);
    }
    ck_assert_int_eq(checked, ATTENTION_EINSUMS * (EINSUM_COLUMNS + 3 * nl));
    /* the group is fused: its members carry their place in it */
    ck_assert_str_eq(c.cell[1][column(&c, "fused_index")], "0");
    ck_assert_str_ne(c.cell[1][column(&c, "fused_count")], "");
    /* an Einsum's text has commas: quoted in the file, whole when read */
    ck_assert_msg(strstr(text, ",\"QK[") != NULL, "the Einsum text is not quoted:\n%s", text);
    ck_assert_str_eq(c.cell[1][column(&c, "einsum")], e2e_path_str(root, "einsums[0].einsum"));
    free(text);
    csv_free(&c);
    cJSON_Delete(root);
}
END_TEST

/* On an architecture with a vector unit, an Einsum on it sees only the
 * levels down to the unit's: its other level cells are empty, as the
 * JSON has no entry; vector_utilization is a number. */
START_TEST(run_vector_unit_cells) {
    const char *args[] = {"run", "tests/data/vector_small.yaml", ATTENTION,
                          "tests/data/vector_small__attention.yaml", "-q", NULL};
    csv_t c;
    char *text;
    cJSON *root = run_both(args, &c, &text);
    const char *levels[16];
    int nl = level_names(root, levels);
    check_header(&c, false, levels, nl);
    ck_assert_int_eq(c.rows, 1 + ATTENTION_EINSUMS);
    int empty = 0;
    for (int i = 0; i < ATTENTION_EINSUMS; i++) {
        char path[32];
        snprintf(path, sizeof path, "einsums[%d]", i);
        check_einsum_cells(&c, 1 + i, e2e_get(root, path), levels, nl);
        for (int l = 0; l < nl; l++) {
            char name[96];
            snprintf(name, sizeof name, "%s_read_bytes", levels[l]);
            empty += !c.cell[1 + i][column(&c, name)][0];
        }
        ck_assert_str_ne(c.cell[1 + i][column(&c, "vector_utilization")], "");
    }
    ck_assert_msg(empty > 0, "no Einsum ran on the vector unit");
    free(text);
    csv_free(&c);
    cJSON_Delete(root);
}
END_TEST

/* A network run: one row per layer (each has one Einsum), its count. */
START_TEST(network_rows_equal_json) {
    const char *args[] = {"run", EDGE, NET, "ws", "--evaluations", "300", "-q", NULL};
    csv_t c;
    char *text;
    cJSON *root = run_both(args, &c, &text);
    const char *levels[16];
    int nl = level_names(root, levels);
    check_header(&c, false, levels, nl);
    ck_assert_int_eq(c.rows, 1 + NET_LAYERS * 1);
    for (int i = 0; i < NET_LAYERS; i++) {
        char path[48];
        snprintf(path, sizeof path, "layers[%d]", i);
        const cJSON *L = e2e_get(root, path);
        ck_assert_str_eq(c.cell[1 + i][column(&c, "layer")], e2e_path_str(L, "name"));
        ck_assert_str_eq(c.cell[1 + i][column(&c, "count")], e2e_get(L, "count")->valuestring);
        check_einsum_cells(&c, 1 + i, e2e_get(L, "einsums[0]"), levels, nl);
    }
    ck_assert_str_eq(c.cell[2][column(&c, "count")], "2"); /* gconv runs twice */
    free(text);
    csv_free(&c);
    cJSON_Delete(root);
}
END_TEST

/* compare: one row per dataflow x layer, dataflows in the order given. */
START_TEST(compare_rows_equal_json) {
    const char *args[] = {"compare", EDGE, NET, "--dataflows", "ws,os,rs", "--evaluations", "300",
                          NULL};
    csv_t c;
    char *text;
    cJSON *root = run_both(args, &c, &text);
    const char *levels[16];
    int nl = level_names(e2e_get(root, "dataflows[0]"), levels);
    check_header(&c, true, levels, nl);
    ck_assert_int_eq(c.rows, 1 + 3 * NET_LAYERS);
    static const char *const dfs[] = {"ws", "os", "rs"};
    for (int d = 0; d < 3; d++)
        for (int i = 0; i < NET_LAYERS; i++) {
            int r = 1 + d * NET_LAYERS + i;
            char path[64];
            snprintf(path, sizeof path, "dataflows[%d].layers[%d]", d, i);
            const cJSON *L = e2e_get(root, path);
            ck_assert_str_eq(c.cell[r][column(&c, "dataflow")], dfs[d]);
            ck_assert_str_eq(c.cell[r][column(&c, "layer")], e2e_path_str(L, "name"));
            ck_assert_str_eq(c.cell[r][column(&c, "count")], e2e_get(L, "count")->valuestring);
            check_einsum_cells(&c, r, e2e_get(L, "einsums[0]"), levels, nl);
        }
    free(text);
    csv_free(&c);
    cJSON_Delete(root);
}
END_TEST

/* A field with a comma is quoted; every other field is bare (names
 * cannot hold a comma or a quote: the doubling of quotes is
 * tests/unit/check_report.c's). */
START_TEST(quoting) {
    char *wl = e2e_write_tmp("small.yaml", SMALL_FC);
    const char *args[] = {"run", EDGE, wl, "ws", "--evaluations", "200", "-q", NULL};
    csv_t c;
    char *text;
    cJSON *root = run_both(args, &c, &text);
    ck_assert_msg(strstr(text, "\nsmall_fc,1,O,\"O[m] += I[c] * F[m,c]\",,,") != NULL,
                  "not quoted as expected:\n%s", text);
    ck_assert_int_eq(c.rows, 2);
    ck_assert_str_eq(c.cell[1][column(&c, "einsum")], "O[m] += I[c] * F[m,c]");
    free(text);
    free(wl);
    csv_free(&c);
    cJSON_Delete(root);
}
END_TEST

/* A file that cannot be written: a message naming it, exit 4. */
START_TEST(unwritable_file) {
    char *wl = e2e_write_tmp("small.yaml", SMALL_FC);
    const char *const cmds[][8] = {
        {"run", EDGE, wl, "ws", "--evaluations", "100", NULL},
        {"compare", EDGE, wl, "--dataflows", "ws", "--evaluations", "100", NULL},
    };
    for (int k = 0; k < 2; k++) {
        const char *args[16];
        int n = 0;
        for (; cmds[k][n]; n++) args[n] = cmds[k][n];
        args[n++] = "--csv";
        args[n++] = "/nonexistent-dir/x.csv";
        args[n] = NULL;
        e2e_result r;
        ck_assert(e2e_run(&r, args));
        ck_assert_msg(r.exit_code == 4, "%s: exit %d\n%s", e2e_cmdline(args), r.exit_code, r.err);
        ck_assert_msg(strstr(r.err, "cannot write /nonexistent-dir/x.csv") != NULL, "%s", r.err);
        e2e_result_free(&r);
    }
    e2e_result r;
    ck_assert(e2e_runl(&r, "run", EDGE, wl, "ws", "--csv", NULL));
    ck_assert_int_eq(r.exit_code, 2);
    ck_assert_msg(strstr(r.err, "--csv needs a file name") != NULL, "%s", r.err);
    e2e_result_free(&r);
    free(wl);
}
END_TEST

int main(void) {
    e2e_init();
    Suite *s = suite_create("e2e_csv");
    TCase *tc = tcase_create("csv");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, run_cascade_rows_equal_json);
    tcase_add_test(tc, run_vector_unit_cells);
    tcase_add_test(tc, network_rows_equal_json);
    tcase_add_test(tc, compare_rows_equal_json);
    tcase_add_test(tc, quoting);
    tcase_add_test(tc, unwritable_file);
    suite_add_tcase(s, tc);
    return e2e_run_suite(s);
}
