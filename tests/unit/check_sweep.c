/* Unit tests of the spec stage's overrides and sweeps: architecture
 * overrides by key path on the loaded tree (every kind of path, keys
 * the file leaves out, errors located at the override's origin) and
 * the order of a sweep's points (product and zip, worked out by hand). */
#include "unit_util.h"

static const char arch_text[] =
    "name: a\n"
    "pe_array: {rows: 2, cols: 3}\n"
    "levels:\n"
    "  - name: DRAM\n"
    "    kind: dram\n"
    "    bandwidth: 8\n"
    "  - name: GLB\n"
    "    kind: sram\n"
    "    capacity: 4 KiB\n"
    "  - name: RF\n"
    "    kind: regfile\n"
    "    per_pe: true\n"
    "    capacity: {F: 16 words, I: 8 words}\n"
    "noc:\n"
    "  - {from: GLB, to: RF, bandwidth: 4}\n";

static ef_arch_spec *load_with(const char *path, const char *value, ef_diags **d, char **file) {
    *file = ut_write_temp(arch_text);
    *d = ef_diags_create();
    ef_arch_set set = {.path = path, .value = value, .origin = "--set arch.X"};
    return ef_spec_load_arch_set(*file, &set, 1, *d);
}

START_TEST(each_kind_of_path) {
    ef_diags *d;
    char *file;
    ef_arch_spec *a = load_with("pe_array.rows", "5", &d, &file);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->rows, 5);
    ck_assert_int_eq(a->cols, 3);
    ef_arch_spec_destroy(a);
    ef_diags_destroy(d);
    unlink(file);
    free(file);

    static const struct {
        const char *path, *value;
    } ok[] = {
        {"levels.GLB.capacity", "2 KiB"},   {"levels.1.capacity", "2 KiB"},
        {"levels.RF.capacity.F", "4 words"}, {"levels.RF.capacity.O", "4 words"},
        {"levels.GLB.read_bandwidth", "3"}, {"levels.DRAM.read_bandwidth", "2"},
        {"noc.GLB.bandwidth", "1"},          {"noc.0.hop_energy", "1.5"},
        {"energy.GLB.read", "2.5"},          {"energy.MAC", "0.5"},
        {"pe.mac_energy", "0.25"},           {"clock_mhz", "500"},
        {"levels.GLB.energy.write", "7"},
    };
    for (size_t i = 0; i < UT_LEN(ok); i++) {
        a = load_with(ok[i].path, ok[i].value, &d, &file);
        char *text = ef_diags_render(d);
        ck_assert_msg(a != NULL, "%s=%s: %s", ok[i].path, ok[i].value, text);
        free(text);
        if (!strcmp(ok[i].path, "levels.GLB.capacity") || !strcmp(ok[i].path, "levels.1.capacity"))
            ck_assert_uint_eq(a->levels[1].capacity.amount, 2048);
        if (!strcmp(ok[i].path, "levels.RF.capacity.O")) ck_assert_int_eq(a->levels[2].partition_count, 3);
        if (!strcmp(ok[i].path, "levels.GLB.read_bandwidth")) {
            ck_assert_double_eq(a->levels[1].read_bandwidth_bytes, 3);
            ck_assert_double_eq(a->levels[1].write_bandwidth_bytes, 0); /* absent: unlimited */
        }
        if (!strcmp(ok[i].path, "levels.DRAM.read_bandwidth")) {
            /* bandwidth: 8 set both; the write side keeps it */
            ck_assert_double_eq(a->levels[0].read_bandwidth_bytes, 2);
            ck_assert_double_eq(a->levels[0].write_bandwidth_bytes, 8);
        }
        if (!strcmp(ok[i].path, "noc.GLB.bandwidth")) ck_assert_double_eq(a->nocs[0].bandwidth_bytes, 1);
        if (!strcmp(ok[i].path, "energy.MAC")) ck_assert_double_eq(a->mac_energy_pj, 0.5);
        if (!strcmp(ok[i].path, "clock_mhz")) ck_assert_double_eq(a->clock_mhz, 500);
        ef_arch_spec_destroy(a);
        ef_diags_destroy(d);
        unlink(file);
        free(file);
    }
}
END_TEST

/* Paths that lead nowhere: the error is at the override, with the
 * valid keys and a "did you mean". */
static const struct {
    const char *path, *value, *want;
} bad[] = {
    {"pe_aray.rows", "1", "--set arch.X: error: arch.pe_aray: expected a key of the architecture "
     "(one of name, description, clock_mhz, pe_array, pe, levels, noc, energy, vector_unit, energy_unit_pj), "
     "found \"pe_aray\"\n      = hint: did you mean \"pe_array\"?\n"},
    {"levels.GLX.capacity", "1 B", "arch.levels.GLX: expected a level of the architecture by name "
     "(one of DRAM, GLB, RF), found \"GLX\"\n      = hint: did you mean \"GLB\"?\n"},
    {"levels.GLB.capacty", "1 B", "did you mean \"capacity\"?"},
    {"levels.GLB", "1 B", "found arch.levels.GLB, which is a mapping; give one of its keys: "
     "arch.levels.GLB.KEY with KEY one of name, kind, capacity,"},
    {"levels.RF.capacity", "1 B", "which is a capacity per tensor in this file; give one of its "
     "keys: arch.levels.RF.capacity.KEY with KEY one of F, I\n"},
    {"levels.GLB.capacity.F", "1 B", "the file gives one capacity for every tensor"},
    {"pe_array.rows.x", "1", "expected the path to end at arch.pe_array.rows, a scalar"},
    {"noc.DRAM.bandwidth", "1", "expected a network by its from level (one of GLB) or its index "
     "(0 to 0), found \"DRAM\""},
    {"energy.GLB", "1", "which is a mapping;"},
    {"levels..x", "1", "expected a key path such as arch.pe_array.rows"},
    /* a value the loader rejects: its own message, at the origin */
    {"pe_array.rows", "many", "--set arch.X: error: pe_array.rows: expected an integer"},
};

START_TEST(bad_paths) {
    ef_diags *d;
    char *file;
    ef_arch_spec *a = load_with(bad[_i].path, bad[_i].value, &d, &file);
    ck_assert_ptr_null(a);
    char *text = ef_diags_render(d);
    ck_assert_msg(strstr(text, bad[_i].want) != NULL, "%s: lacks \"%s\":\n%s", bad[_i].path,
                  bad[_i].want, text);
    free(text);
    ef_diags_destroy(d);
    unlink(file);
    free(file);
}
END_TEST

/* An override from a file is located there: line, column and source. */
START_TEST(value_error_in_a_file) {
    char *origin = ut_write_temp("set:\n  arch.pe_array.rows: [2, lots]\n");
    char *file = ut_write_temp(arch_text);
    ef_diags *d = ef_diags_create();
    ef_arch_set set = {.path = "pe_array.rows", .value = "lots", .origin = origin, .line = 2,
                       .col = 27};
    ck_assert_ptr_null(ef_spec_load_arch_set(file, &set, 1, d));
    char *text = ef_diags_render(d);
    char want[256];
    snprintf(want, sizeof want, "%s:2:27: error: pe_array.rows: expected an integer", origin);
    ck_assert_msg(strstr(text, want) != NULL, "lacks \"%s\":\n%s", want, text);
    ck_assert_msg(strstr(text, "    2 |   arch.pe_array.rows: [2, lots]\n") != NULL, "%s", text);
    free(text);
    ef_diags_destroy(d);
    unlink(file);
    unlink(origin);
    free(file);
    free(origin);
}
END_TEST

/* Point order, by hand: axes a (2 values), b (3 values), dataflows x, y. */
START_TEST(point_order) {
    ef_sweep_spec s;
    memset(&s, 0, sizeof s);
    s.axis_count = 2;
    s.axes[0].value_count = 2;
    s.axes[1].value_count = 3;
    s.dataflow_count = 2;
    /* product: index = ((a * 3) + b) * 2 + df */
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
            for (int df = 0; df < 2; df++) {
                int which[EF_MAX_SWEEP_AXES], got;
                ef_sweep_point(&s, (uint64_t)((a * 3 + b) * 2 + df), which, &got);
                ck_assert_int_eq(which[0], a);
                ck_assert_int_eq(which[1], b);
                ck_assert_int_eq(got, df);
            }
    /* zip: index = i * 2 + df, every axis at i */
    s.zip = true;
    s.axes[0].value_count = 3;
    for (int i = 0; i < 3; i++)
        for (int df = 0; df < 2; df++) {
            int which[EF_MAX_SWEEP_AXES], got;
            ef_sweep_point(&s, (uint64_t)(i * 2 + df), which, &got);
            ck_assert_int_eq(which[0], i);
            ck_assert_int_eq(which[1], i);
            ck_assert_int_eq(got, df);
        }
}
END_TEST

int main(void) {
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("sweep");
    tcase_add_test(tc, each_kind_of_path);
    tcase_add_loop_test(tc, bad_paths, 0, (int)UT_LEN(bad));
    tcase_add_test(tc, value_error_in_a_file);
    tcase_add_test(tc, point_order);
    suite_add_tcase(s, tc);
    return ut_run_suite(s);
}
