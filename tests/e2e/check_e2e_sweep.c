/* End to end: `einflow sweep`. Expected values come from elsewhere:
 * a point's cycles and energy equal `einflow run` with the same --set,
 * its MACs the closed form of tests/data/tiny_net.yaml (42,112 per
 * image), the order of the points the product (last axis fastest,
 * dataflows fastest of all) or zip written out by hand, the Pareto
 * front a set of hand-placed points. Resuming after a kill (the file
 * cut in the middle of a line), shards run through GNU parallel, the
 * CSV's shape and --threads are checked against an uninterrupted,
 * unsharded run. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define SWEEP "tests/data/sweep_tiny.yaml"
#define ARCH "configs/eyeriss_like.yaml"
#define NET "tests/data/tiny_net.yaml"
#define MACS_PER_IMAGE 42112

/* Runs einflow sweep SWEEP -o out plus extra; asserts exit 0. */
static void sweep_ok(const char *sweep, const char *out, const char *const *extra) {
    const char *args[32] = {"sweep", sweep, "-o", out, "--evaluations", "200", "-q"};
    int n = 7;
    for (int i = 0; extra && extra[i]; i++) args[n++] = extra[i];
    args[n] = NULL;
    e2e_result r;
    ck_assert(e2e_run(&r, args));
    ck_assert_msg(r.exit_code == 0, "%s: exit %d\n%s", e2e_cmdline(args), r.exit_code, r.err);
    e2e_result_free(&r);
}

/* The lines of a JSON Lines file, parsed; *n set. */
static cJSON **load_lines(const char *path, int *n) {
    char *text = e2e_read_file(path, NULL);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    cJSON **out = calloc(1024, sizeof *out);
    *n = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        ck_assert_int_lt(*n, 1024);
        out[*n] = e2e_parse_json(line);
        ck_assert_msg(out[*n] != NULL, "%s: not JSON: %s", path, line);
        (*n)++;
    }
    free(text);
    return out;
}

static void free_lines(cJSON **lines, int n) {
    for (int i = 0; i < n; i++) cJSON_Delete(lines[i]);
    free(lines);
}

static const char *value_of(const cJSON *line, const char *axis) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e2e_get(line, "values"), axis);
    ck_assert_msg(v != NULL, "no value for %s", axis);
    return v->valuestring; /* a number carries its text (e2e_parse_json) */
}

static char *text_of(const char *path) {
    char *t = e2e_read_file(path, NULL);
    ck_assert_msg(t != NULL, "cannot read %s", path);
    return t;
}

/* product: rows x batch x dataflow, the last fastest; every index
 * once; MACs in closed form. */
START_TEST(product_order_and_macs) {
    char *out = e2e_tmp_path("p.jsonl");
    sweep_ok(SWEEP, out, NULL);
    int n;
    cJSON **l = load_lines(out, &n);
    ck_assert_int_eq(n, 8);
    static const char *const rows[] = {"6", "6", "6", "6", "12", "12", "12", "12"};
    static const char *const batch[] = {"1", "1", "2", "2", "1", "1", "2", "2"};
    static const char *const df[] = {"ws", "os", "ws", "os", "ws", "os", "ws", "os"};
    for (int i = 0; i < n; i++) {
        ck_assert_uint_eq(e2e_path_u64(l[i], "index"), (uint64_t)i);
        ck_assert_str_eq(value_of(l[i], "arch.pe_array.rows"), rows[i]);
        ck_assert_str_eq(value_of(l[i], "batch"), batch[i]);
        ck_assert_str_eq(e2e_path_str(l[i], "dataflow"), df[i]);
        ck_assert_uint_eq(e2e_path_u64(l[i], "macs"),
                          (uint64_t)MACS_PER_IMAGE * strtoull(batch[i], NULL, 10));
        ck_assert_uint_eq(e2e_path_u64(l[i], "area.pes"), strtoull(rows[i], NULL, 10) * 14);
        ck_assert_int_eq(cJSON_GetArraySize(e2e_get(l[i], "layers")), 3);
        ck_assert_ptr_null(e2e_get(l[i], "pareto")); /* only with --pareto */
    }
    free_lines(l, n);
    free(out);
}
END_TEST

/* A point is the run with the same --set: same cycles, same energy. */
START_TEST(point_equals_run) {
    char *out = e2e_tmp_path("p.jsonl");
    sweep_ok(SWEEP, out, NULL);
    int n;
    cJSON **l = load_lines(out, &n);
    static const int picks[] = {1, 6};
    for (size_t k = 0; k < sizeof picks / sizeof picks[0]; k++) {
        const cJSON *p = l[picks[k]];
        char rows[64], batch[64];
        snprintf(rows, sizeof rows, "arch.pe_array.rows=%s", value_of(p, "arch.pe_array.rows"));
        snprintf(batch, sizeof batch, "batch=%s", value_of(p, "batch"));
        const char *args[] = {"run", ARCH, NET, e2e_path_str(p, "dataflow"), "--evaluations",
                              "200", "--set", rows, "--set", batch, "--json", NULL};
        e2e_result r;
        ck_assert(e2e_run(&r, args));
        ck_assert_msg(r.exit_code == 0, "%s", r.err);
        cJSON *j = e2e_parse_json(r.out);
        ck_assert_uint_eq(e2e_summary_u64(j, "cycles"), e2e_path_u64(p, "cycles"));
        ck_assert_double_eq_tol(e2e_summary_double(j, "energy_pj"),
                                e2e_path_double(p, "energy_pj"), 1e-6);
        ck_assert_uint_eq(e2e_path_u64(j, "layers[1].summary.cycles"),
                          e2e_path_u64(p, "layers[1].cycles"));
        cJSON_Delete(j);
        e2e_result_free(&r);
    }
    free_lines(l, n);
    free(out);
}
END_TEST

/* zip: the i-th values together, then each dataflow. */
START_TEST(zip_mode) {
    char text[1024];
    snprintf(text, sizeof text,
             "arch: %s/" ARCH "\nworkload: %s/" NET "\ndataflow: os\nmode: zip\nset:\n"
             "  arch.pe_array.rows: [4, 8, 12]\n  arch.levels.GLB.capacity: [16 KiB, 32 KiB, 64 KiB]\n"
             "  batch: [3, 2, 1]\n", EF_SOURCE_DIR, EF_SOURCE_DIR);
    char *sweep = e2e_write_tmp("zip.yaml", text);
    char *out = e2e_tmp_path("z.jsonl");
    sweep_ok(sweep, out, NULL);
    int n;
    cJSON **l = load_lines(out, &n);
    ck_assert_int_eq(n, 3);
    static const char *const rows[] = {"4", "8", "12"}, *const cap[] = {"16 KiB", "32 KiB", "64 KiB"};
    for (int i = 0; i < n; i++) {
        ck_assert_str_eq(value_of(l[i], "arch.pe_array.rows"), rows[i]);
        ck_assert_str_eq(value_of(l[i], "arch.levels.GLB.capacity"), cap[i]);
        ck_assert_uint_eq(e2e_path_u64(l[i], "macs"), (uint64_t)MACS_PER_IMAGE * (uint64_t)(3 - i));
    }
    free_lines(l, n);
    free(out);
    free(sweep);
}
END_TEST

/* A kill leaves a torn last line: the next run cuts it off, redoes
 * that point and the ones never run, duplicates none, and ends with
 * the same file as a run never interrupted. */
START_TEST(resume_after_kill) {
    char *whole = e2e_tmp_path("whole.jsonl"), *cut = e2e_tmp_path("cut.jsonl");
    sweep_ok(SWEEP, whole, NULL);
    char *text = text_of(whole);
    /* three whole lines and half of the fourth */
    char *at = text;
    for (int k = 0; k < 3; k++) at = strchr(at, '\n') + 1;
    size_t keep = (size_t)(at - text) + strlen(at) / 8;
    FILE *f = fopen(cut, "w");
    ck_assert(f && fwrite(text, 1, keep, f) == keep && fclose(f) == 0);
    const char *extra[] = {"--threads", "2", NULL};
    e2e_result r;
    const char *args[] = {"sweep", SWEEP, "-o", cut, "--evaluations", "200", "--threads", "2",
                          NULL};
    ck_assert(e2e_run(&r, args));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    ck_assert_msg(strstr(r.out, "8 points: 5 run, 3 done before") != NULL, "%s", r.out);
    ck_assert_str_eq(r.err, ""); /* no progress bar: stderr is no terminal */
    e2e_result_free(&r);
    char *again = text_of(cut);
    ck_assert_str_eq(again, text);
    /* and once more: nothing to run, nothing changes */
    sweep_ok(SWEEP, cut, extra);
    char *third = text_of(cut);
    ck_assert_str_eq(third, text);
    free(third);
    free(again);
    free(text);
    free(whole);
    free(cut);
}
END_TEST

/* Results do not depend on --threads: the finished files are equal. */
START_TEST(threads_do_not_matter) {
    char *one = e2e_tmp_path("t1.jsonl"), *two = e2e_tmp_path("t2.jsonl");
    const char *t1[] = {"--threads", "1", NULL}, *t2[] = {"--threads", "2", NULL};
    sweep_ok(SWEEP, one, t1);
    sweep_ok(SWEEP, two, t2);
    char *a = text_of(one), *b = text_of(two);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    free(one);
    free(two);
}
END_TEST

/* Three shards through GNU parallel, merged with cat and finished by a
 * run on the merged file, equal the unsharded sweep. */
START_TEST(shards_with_gnu_parallel) {
    if (system("command -v parallel >/dev/null 2>&1") != 0) {
        fprintf(stderr, "check_e2e_sweep: SKIPPED shards_with_gnu_parallel: GNU parallel is not "
                "installed (scripts/deps.sh installs it)\n");
        return;
    }
    char *whole = e2e_tmp_path("whole.jsonl"), *merged = e2e_tmp_path("merged.jsonl");
    sweep_ok(SWEEP, whole, NULL);
    char *stem = e2e_tmp_path("shard");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "parallel --will-cite --halt now,fail=1 '%s' sweep " SWEEP " -o '%s.{}.jsonl' "
             "--shard {}/3 --evaluations 200 -q --threads 1 ::: 1 2 3 && "
             "cat '%s'.1.jsonl '%s'.2.jsonl '%s'.3.jsonl > '%s'",
             EF_BINARY, stem, stem, stem, stem, merged);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
    /* the shards are disjoint: every index in exactly one of them */
    int counts[3];
    for (int k = 0; k < 3; k++) {
        char path[512];
        snprintf(path, sizeof path, "%s.%d.jsonl", stem, k + 1);
        cJSON **l = load_lines(path, &counts[k]);
        for (int i = 0; i < counts[k]; i++)
            ck_assert_uint_eq(e2e_path_u64(l[i], "index") % 3, (uint64_t)k);
        free_lines(l, counts[k]);
    }
    ck_assert_int_eq(counts[0] + counts[1] + counts[2], 8);
    /* finishing the merged file runs nothing and sorts it */
    e2e_result r;
    ck_assert(e2e_runl(&r, "sweep", SWEEP, "-o", merged, "--evaluations", "200", NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    ck_assert_msg(strstr(r.out, "0 run, 8 done before") != NULL, "%s", r.out);
    e2e_result_free(&r);
    char *a = text_of(whole), *b = text_of(merged);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    free(stem);
    free(whole);
    free(merged);
}
END_TEST

/* Counts the CSV's fields of one record (quotes respected). */
static int csv_fields(const char *line) {
    int n = 1;
    bool quoted = false;
    for (const char *p = line; *p; p++) {
        if (*p == '"') quoted = !quoted;
        else if (*p == ',' && !quoted) n++;
    }
    return n;
}

/* --csv: a header and one row per point, every row as wide as the
 * header; its numbers are the JSON's. */
START_TEST(csv_shape) {
    char *out = e2e_tmp_path("c.jsonl"), *csv = e2e_tmp_path("c.csv");
    const char *extra[] = {"--csv", csv, "--pareto", NULL};
    sweep_ok(SWEEP, out, extra);
    int n;
    cJSON **l = load_lines(out, &n);
    char *text = text_of(csv);
    char *save = NULL, *header = strtok_r(text, "\n", &save);
    ck_assert_str_eq(header, "index,key,dataflow,arch.pe_array.rows,batch,cycles,macs,"
                             "utilization,energy_pj,leakage_pj,energy_total_pj,power_w,"
                             "power_total_mw,area_mm2,area_storage_bits,area_pes,pareto,error");
    int rows = 0;
    for (char *row = strtok_r(NULL, "\n", &save); row; row = strtok_r(NULL, "\n", &save)) {
        ck_assert_int_eq(csv_fields(row), csv_fields(header));
        char want[128];
        snprintf(want, sizeof want, "%d,%s,%s,", rows, e2e_path_str(l[rows], "key"),
                 e2e_path_str(l[rows], "dataflow"));
        ck_assert_msg(!strncmp(row, want, strlen(want)), "row %d: %s", rows, row);
        char cycles[64];
        snprintf(cycles, sizeof cycles, ",%llu,%llu,",
                 (unsigned long long)e2e_path_u64(l[rows], "cycles"),
                 (unsigned long long)e2e_path_u64(l[rows], "macs"));
        ck_assert_msg(strstr(row, cycles) != NULL, "row %d lacks %s: %s", rows, cycles, row);
        rows++;
    }
    ck_assert_int_eq(rows, n);
    free(text);
    free_lines(l, n);
    free(out);
    free(csv);
}
END_TEST

/* Writes cost[i] = {cycles, energy_total_pj, area_mm2} into the points
 * of a finished file (their keys stay valid, so nothing is rerun),
 * marks the front with --pareto and checks it is front[], of `count`
 * points. */
static void pareto_of(const double cost[8][3], const bool front[8], int count) {
    char *out = e2e_tmp_path("h.jsonl");
    sweep_ok(SWEEP, out, NULL);
    int n;
    cJSON **l = load_lines(out, &n);
    ck_assert_int_eq(n, 8);
    FILE *f = fopen(out, "w");
    static const char *const keys[3] = {"cycles", "energy_total_pj", "area_mm2"};
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++)
            cJSON_ReplaceItemInObjectCaseSensitive(l[i], keys[k], cJSON_CreateNumber(cost[i][k]));
        char *line = cJSON_PrintUnformatted(l[i]);
        fprintf(f, "%s\n", line);
        free(line);
    }
    fclose(f);
    free_lines(l, n);
    e2e_result r;
    ck_assert(e2e_runl(&r, "sweep", SWEEP, "-o", out, "--evaluations", "200", "--pareto", NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    char want[64];
    snprintf(want, sizeof want, "%d on the cycles-energy-area front", count);
    ck_assert_msg(strstr(r.out, want) != NULL, "want %s: %s", want, r.out);
    e2e_result_free(&r);
    l = load_lines(out, &n);
    ck_assert_int_eq(n, 8);
    for (int i = 0; i < n; i++) {
        const cJSON *p = e2e_get(l[i], "pareto");
        ck_assert_msg(cJSON_IsBool(p), "point %d has no pareto field", i);
        ck_assert_msg(cJSON_IsTrue(p) == front[i], "point %d: pareto %d, want %d", i,
                      cJSON_IsTrue(p), front[i]);
    }
    free_lines(l, n);
    /* without --pareto the field goes */
    sweep_ok(SWEEP, out, NULL);
    l = load_lines(out, &n);
    for (int i = 0; i < n; i++) ck_assert_ptr_null(e2e_get(l[i], "pareto"));
    free_lines(l, n);
    free(out);
}

/* --pareto on hand-set (cycles, energy) of equal area:
 *   (10, 50) (20, 40) (30, 30) (20, 60) (40, 30) (10, 50) (50, 10) (50, 20)
 * front: both (10, 50), (20, 40), (30, 30), (50, 10); (20, 60) is beaten
 * by (20, 40), (40, 30) by (30, 30), (50, 20) by (50, 10). */
START_TEST(pareto_by_hand) {
    static const double cost[8][3] = {{10, 50, 4}, {20, 40, 4}, {30, 30, 4}, {20, 60, 4},
                                      {40, 30, 4}, {10, 50, 4}, {50, 10, 4}, {50, 20, 4}};
    static const bool front[8] = {true, true, true, false, false, true, true, false};
    pareto_of(cost, front, 5);
}
END_TEST

/* The same points with area as the third objective: (40, 30) and
 * (50, 20), beaten on cycles and energy, are the two smallest designs
 * (areas 1 and 2) and join the front; (20, 60) is still beaten by
 * (20, 40), which is no larger. */
START_TEST(pareto_area_by_hand) {
    static const double cost[8][3] = {{10, 50, 4}, {20, 40, 4}, {30, 30, 4}, {20, 60, 4},
                                      {40, 30, 1}, {10, 50, 4}, {50, 10, 4}, {50, 20, 2}};
    static const bool front[8] = {true, true, true, false, true, true, true, true};
    pareto_of(cost, front, 7);
}
END_TEST

/* A real sweep (6 or 12 PE rows): the smaller array is slower and, on
 * dynamic energy, beaten by a 12-row point, so a cycles-energy front
 * would leave it out; with its smaller area and leakage it is on the
 * front. Each point's area is the closed form of its rows: the rows
 * scale the PE array only (MACs, RFs, network), not DRAM or the GLB. */
START_TEST(pareto_keeps_the_smallest_design) {
    char *out = e2e_tmp_path("small.jsonl");
    const char *extra[] = {"--pareto", NULL};
    sweep_ok(SWEEP, out, extra);
    int n;
    cJSON **l = load_lines(out, &n);
    double least = 1e300;
    for (int i = 0; i < n; i++) {
        double a = e2e_path_double(l[i], "area_mm2");
        ck_assert_msg(a > 0, "point %d: area_mm2 %g", i, a);
        if (a < least) least = a;
    }
    bool small_on_front = false, beaten_2d = false;
    for (int i = 0; i < n; i++) {
        if (e2e_path_double(l[i], "area_mm2") != least) continue;
        ck_assert_str_eq(value_of(l[i], "arch.pe_array.rows"), "6");
        if (!cJSON_IsTrue(e2e_get(l[i], "pareto"))) continue;
        small_on_front = true;
        for (int k = 0; k < n; k++)
            beaten_2d |= e2e_path_u64(l[k], "cycles") < e2e_path_u64(l[i], "cycles") &&
                         e2e_path_double(l[k], "energy_pj") < e2e_path_double(l[i], "energy_pj");
    }
    ck_assert_msg(small_on_front, "no 6-row point on the front");
    ck_assert_msg(beaten_2d, "the 6-row point on the front is not beaten on cycles and dynamic "
                  "energy: the test no longer shows what area and leakage add");
    /* area: 12 rows cost 6 rows' worth of PEs more than 6 rows */
    double a6 = 0, a12 = 0;
    for (int i = 0; i < n; i++) {
        double a = e2e_path_double(l[i], "area_mm2");
        if (!strcmp(value_of(l[i], "arch.pe_array.rows"), "6")) a6 = a;
        else a12 = a;
    }
    double per_pe = (a12 - a6) / (6 * 14);
    double glb = e2e_path_double(l[0], "area.mm2.levels.GLB");
    ck_assert_msg(fabs(a6 - (glb + 6 * 14 * per_pe)) < 1e-9 * a6, "area %g != GLB %g + 84 PEs x %g",
                  a6, glb, per_pe);
    free_lines(l, n);
    free(out);
}
END_TEST

/* A file written by another sweep is never mixed in. */
START_TEST(foreign_file_refused) {
    char *out = e2e_tmp_path("f.jsonl");
    sweep_ok(SWEEP, out, NULL);
    e2e_result r;
    ck_assert(e2e_runl(&r, "sweep", SWEEP, "-o", out, "--evaluations", "300", "-q", NULL));
    ck_assert_int_eq(r.exit_code, 1);
    ck_assert_msg(strstr(r.err, "f.jsonl:1: the point with key 0-") != NULL, "%s", r.err);
    ck_assert_msg(strstr(r.err, "is not a point of this sweep") != NULL, "%s", r.err);
    e2e_result_free(&r);
    free(out);
}
END_TEST

/* Bad sweep files: located at the sweep file's line, exit 1, for
 * validate and sweep alike. */
static const struct {
    const char *text;         /* after the arch and workload lines      */
    const char *err;
} bad_files[] = {
    {"dataflow: ws\nsett:\n  batch: [1]\n",
     ":4:1: error: unknown key \"sett\"\n    4 | sett:\n      | ^\n      = hint: did you mean "
     "\"set\"?\n"},
    {"dataflow: ws\nset:\n  arch.levels.GBL.capacity: [1 KiB]\n",
     ":5:3: error: arch.levels.GBL: expected a level of the architecture by name (one of "
     "DRAM, GLB, RF), found \"GBL\"\n"},
    {"dataflow: ws\nset:\n  arch.pe_array.rowz: [1]\n", "did you mean \"rows\"?"},
    {"dataflow: ws\nset:\n  bach: [1, 2]\n",
     ":5:3: error: set.bach: expected an architecture path arch.KEY... or a parameter of "},
    {"dataflow: ws\nset:\n  arch.pe_array.rows: []\n",
     ":5:23: error: set.arch.pe_array.rows: expected a list of values, found an empty list\n"},
    {"dataflow: ws\nmode: zip\nset:\n  arch.pe_array.rows: [1, 2]\n  batch: [1, 2, 3]\n",
     ":7:3: error: set.batch: expected 2 values, as many as arch.pe_array.rows has, found 3\n"},
    {"dataflow: ws\nset:\n  arch.levels.GLB.capacity: [1 KiB, 2 KB]\n",
     ":5:37: error: levels[1].capacity: expected a size with a unit"},
    {"dataflow: [ws, rz]\n", ":3:16: error: dataflow[1]: expected a built-in dataflow"},
    {"dataflow: []\n", "expected at least one dataflow, found an empty list"},
    {"mode: zipp\ndataflow: ws\n", "did you mean \"zip\"?"},
    {"set: {batch: [1]}\n", "missing required key \"dataflow\" (or \"mapping\")"},
};

START_TEST(bad_sweep_files) {
    char text[1024];
    snprintf(text, sizeof text, "arch: %s/" ARCH "\nworkload: %s/" NET "\n%s", EF_SOURCE_DIR,
             EF_SOURCE_DIR, bad_files[_i].text);
    char *path = e2e_write_tmp("bad.yaml", text);
    char *out = e2e_tmp_path("bad.jsonl");
    e2e_result r;
    ck_assert(e2e_runl(&r, "validate", path, NULL));
    ck_assert_int_eq(r.exit_code, 1);
    ck_assert_msg(strstr(r.err, bad_files[_i].err) != NULL, "validate: lacks \"%s\":\n%s",
                  bad_files[_i].err, r.err);
    e2e_result_free(&r);
    ck_assert(e2e_runl(&r, "sweep", path, "-o", out, NULL));
    ck_assert_int_eq(r.exit_code, 1);
    ck_assert_msg(strstr(r.err, bad_files[_i].err) != NULL, "sweep: lacks \"%s\":\n%s",
                  bad_files[_i].err, r.err);
    ck_assert(!e2e_file_exists(out));
    e2e_result_free(&r);
    free(out);
    free(path);
}
END_TEST

static const struct {
    const char *args[10];
    int code;
    const char *err;
} usage[] = {
    {{"sweep", SWEEP, NULL}, 2, "einflow sweep: -o FILE is required"},
    {{"sweep", SWEEP, "-o", "x.jsonl", "--shard", "4/3", NULL}, 2,
     "--shard expects K/N with 1 <= K <= N, e.g. --shard 2/8, found \"4/3\""},
    {{"sweep", SWEEP, "-o", "x.jsonl", "--shard", "0/3", NULL}, 2, "--shard expects K/N"},
    {{"sweep", SWEEP, "-o", "x.jsonl", "--dataflow", "ws", NULL}, 2,
     "--dataflow: the sweep file names the dataflows"},
    {{"sweep", SWEEP, "-o", "x.jsonl", "--paretto", NULL}, 2, "did you mean \"--pareto\"?"},
    {{"sweep", SWEEP, "-o", "x.jsonl", "--set", "arch.pe_aray.rows=2", NULL}, 1,
     "--set arch.pe_aray.rows: error: arch.pe_aray: expected a key of the architecture"},
    {{"swep", SWEEP, NULL}, 2, "did you mean \"sweep\"?"},
};

START_TEST(usage_errors) {
    e2e_result r;
    ck_assert(e2e_run(&r, usage[_i].args));
    ck_assert_msg(r.exit_code == usage[_i].code, "%s: exit %d\n%s", e2e_cmdline(usage[_i].args),
                  r.exit_code, r.err);
    ck_assert_msg(strstr(r.err, usage[_i].err) != NULL, "%s: lacks \"%s\":\n%s",
                  e2e_cmdline(usage[_i].args), usage[_i].err, r.err);
    e2e_result_free(&r);
}
END_TEST

/* A --set on the command line holds for every point; an axis of the
 * same path replaces it. */
START_TEST(command_line_set) {
    char *out = e2e_tmp_path("s.jsonl");
    const char *extra[] = {"--set", "arch.pe_array.rows=3", "--set", "arch.pe_array.cols=2",
                           NULL};
    sweep_ok(SWEEP, out, extra);
    int n;
    cJSON **l = load_lines(out, &n);
    ck_assert_int_eq(n, 8);
    for (int i = 0; i < n; i++)
        ck_assert_uint_eq(e2e_path_u64(l[i], "area.pes"),
                          strtoull(value_of(l[i], "arch.pe_array.rows"), NULL, 10) * 2);
    free_lines(l, n);
    free(out);
}
END_TEST

/* mapping: FILE in place of dataflows; a point whose values the
 * mapping does not fit gets an error line, the others run, exit 1. */
START_TEST(mapping_and_failed_point) {
    char text[1024];
    snprintf(text, sizeof text,
             "arch: %s/" ARCH "\nworkload: %s/workloads/resnet50_conv3x3.yaml\n"
             "mapping: %s/mappings/eyeriss_like__resnet50_conv3x3.yaml\n"
             "set:\n  arch.levels.GLB.capacity: [16 KiB, 108 KiB]\n",
             EF_SOURCE_DIR, EF_SOURCE_DIR, EF_SOURCE_DIR);
    char *sweep = e2e_write_tmp("map.yaml", text);
    char *out = e2e_tmp_path("m.jsonl");
    e2e_result r;
    ck_assert(e2e_runl(&r, "sweep", sweep, "-o", out, NULL));
    ck_assert_int_eq(r.exit_code, 1);
    ck_assert_msg(strstr(r.err, "einflow sweep: point 0 failed:\n") != NULL, "%s", r.err);
    ck_assert_msg(strstr(r.err, "1 point failed") != NULL, "%s", r.err);
    e2e_result_free(&r);
    int n;
    cJSON **l = load_lines(out, &n);
    ck_assert_int_eq(n, 2);
    ck_assert_msg(strstr(e2e_path_str(l[0], "error"), "but it holds 16384") != NULL, "%s",
                  e2e_path_str(l[0], "error"));
    ck_assert_ptr_null(e2e_get(l[0], "cycles"));
    /* the other point is the run of the mapping file on the file's GLB */
    cJSON *j = e2e_run_json(ARCH, "workloads/resnet50_conv3x3.yaml",
                            "mappings/eyeriss_like__resnet50_conv3x3.yaml", NULL);
    ck_assert_uint_eq(e2e_path_u64(l[1], "cycles"), e2e_summary_u64(j, "cycles"));
    ck_assert_uint_eq(e2e_path_u64(l[1], "macs"), 128ull * 128 * 28 * 28 * 9);
    cJSON_Delete(j);
    free_lines(l, n);
    /* a failed point is done: a rerun runs nothing and still says so */
    ck_assert(e2e_runl(&r, "sweep", sweep, "-o", out, NULL));
    ck_assert_int_eq(r.exit_code, 1);
    ck_assert_msg(strstr(r.out, "0 run, 2 done before") != NULL, "%s", r.out);
    e2e_result_free(&r);
    free(out);
    free(sweep);
}
END_TEST

int main(void) {
    e2e_init();
    Suite *s = suite_create("e2e_sweep");
    TCase *tc = tcase_create("sweep");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, product_order_and_macs);
    tcase_add_test(tc, point_equals_run);
    tcase_add_test(tc, zip_mode);
    tcase_add_test(tc, resume_after_kill);
    tcase_add_test(tc, threads_do_not_matter);
    tcase_add_test(tc, shards_with_gnu_parallel);
    tcase_add_test(tc, csv_shape);
    tcase_add_test(tc, pareto_by_hand);
    tcase_add_test(tc, pareto_area_by_hand);
    tcase_add_test(tc, pareto_keeps_the_smallest_design);
    tcase_add_test(tc, foreign_file_refused);
    tcase_add_loop_test(tc, bad_sweep_files, 0, (int)(sizeof bad_files / sizeof bad_files[0]));
    tcase_add_loop_test(tc, usage_errors, 0, (int)(sizeof usage / sizeof usage[0]));
    tcase_add_test(tc, command_line_set);
    tcase_add_test(tc, mapping_and_failed_point);
    suite_add_tcase(s, tc);
    return e2e_run_suite(s);
}
