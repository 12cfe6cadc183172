/* Unit tests of the cost model (stats/area.c, the static energy in
 * stats/stats.c, the architecture keys in spec/arch.c). Every expected
 * number is derived here from the cited table values and the rules of
 * docs/area.md, never read back from the program:
 *
 *   Horowitz, ISSCC 2014, 45 nm (um^2): int add 8b 36, 32b 137; int
 *   mult 8b 282, 32b 3495; fp add 16b 1360, 32b 4184; fp mult 16b 1640,
 *   32b 7700. SRAM bit: 600 F^2, F = 45 nm (Greaves' CACTI rule of
 *   thumb). Register bit (Aladdin, TSMC 40G): 4.3092 um^2, leaking
 *   5.3552e-5 mW; their ratio is the leakage per mm^2 of everything.
 *
 *   Rules: log-log interpolation between table points; MAC lane =
 *   multiply at sqrt(a b) bits + add at the accumulator width; p ports
 *   cost ((1 + p) / 2)^2 the cell; leakage energy = mW x cycles x 1000
 *   / MHz pJ, divided by energy_unit_pj. */
#include <cJSON.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einflow/report.h"
#include "einflow/stats.h"
#include "unit/unit_util.h"

#define SRAM_BIT_UM2 (600 * 0.045 * 0.045)
#define REG_BIT_UM2 4.3092
#define REG_BIT_MW 5.3552e-5
#define MW_PER_MM2 (REG_BIT_MW / (REG_BIT_UM2 * 1e-6))

static void near(double got, double want, const char *what) {
    double tol = 1e-9 * (fabs(want) > 1 ? fabs(want) : 1);
    ck_assert_msg(fabs(got - want) <= tol, "%s: got %.17g, want %.17g", what, got, want);
}

/* ---------- the table ---------- */

START_TEST(table_points) {
    near(ef_area_add_um2(EF_ARITH_INT, 8), 36, "int add 8");
    near(ef_area_add_um2(EF_ARITH_INT, 32), 137, "int add 32");
    near(ef_area_mul_um2(EF_ARITH_INT, 8), 282, "int mult 8");
    near(ef_area_mul_um2(EF_ARITH_INT, 32), 3495, "int mult 32");
    near(ef_area_add_um2(EF_ARITH_FLOAT, 16), 1360, "fp add 16");
    near(ef_area_add_um2(EF_ARITH_FLOAT, 32), 4184, "fp add 32");
    near(ef_area_mul_um2(EF_ARITH_FLOAT, 16), 1640, "fp mult 16");
    near(ef_area_mul_um2(EF_ARITH_FLOAT, 32), 7700, "fp mult 32");
    near(ef_area_register_um2(1), REG_BIT_UM2, "register bit");
    near(ef_leakage_mw(1.0), MW_PER_MM2, "1 mm^2");
    ck_assert(fabs(MW_PER_MM2 - 12.4274) < 1e-4);
}
END_TEST

/* 16 bits is the geometric middle of 8 and 32: the geometric mean. A
 * MAC of 8 x 8 bits into 24: the 8-bit multiply and a 24-bit add, 24 =
 * 8 x 3 on the add's power law k = log(137/36) / log 4. */
START_TEST(table_rules) {
    near(ef_area_add_um2(EF_ARITH_INT, 16), sqrt(36.0 * 137), "int add 16");
    near(ef_area_mul_um2(EF_ARITH_INT, 16), sqrt(282.0 * 3495), "int mult 16");
    double k = log(137.0 / 36) / log(4.0);
    near(ef_area_mac_um2(EF_ARITH_INT, 8, 8, 24), 282 + 36 * pow(3, k), "MAC 8x8+24");
    near(ef_area_mac_um2(EF_ARITH_INT, 8, 32, 32), sqrt(282.0 * 3495) + 137, "MAC 8x32+32");
    /* exp: 6 multiplies and 5 adds; div at 32 bits: 2 Newton steps, 5
     * multiplies and 2 adds; max: an integer add */
    near(ef_area_op_um2(EF_ARITH_FLOAT, EF_VOP_EXP, 16), 6 * 1640 + 5 * 1360, "exp fp16");
    near(ef_area_op_um2(EF_ARITH_INT, EF_VOP_DIV, 32), 5 * 3495 + 2 * 137, "div int32");
    near(ef_area_op_um2(EF_ARITH_FLOAT, EF_VOP_MAX, 32), 137, "max fp32");
}
END_TEST

/* A 64 KiB SRAM: 524,288 bits of 1.215 um^2 = 0.637 mm^2; two ports
 * 2.25x; a 64-byte register file 512 flip-flops. */
START_TEST(storage) {
    near(ef_area_sram_mm2(65536, 1), 65536 * 8 * SRAM_BIT_UM2 * 1e-6, "64 KiB SRAM");
    near(ef_area_sram_mm2(65536, 1), 0.63700992, "64 KiB SRAM, by hand");
    near(ef_area_sram_mm2(65536, 2), 2.25 * 0.63700992, "two ports");
    near(ef_area_sram_mm2(65536, 3), 4 * 0.63700992, "three ports");
    near(ef_area_regfile_mm2(64, 1), 512 * REG_BIT_UM2 * 1e-6, "64 B register file");
    near(ef_area_sram_mm2(0, 1), 0, "unlimited");
    /* 64 KiB leaks 0.637 mm^2 x 12.43 mW/mm^2 */
    near(ef_leakage_mw(ef_area_sram_mm2(65536, 1)), 0.63700992 * MW_PER_MM2, "64 KiB leakage");
}
END_TEST

/* leakage_pj = mW x cycles / f: 2 mW for 1000 cycles at 200 MHz is
 * 2 mW x 5 us = 10 nJ. */
START_TEST(leakage_energy) {
    near(ef_leakage_pj(2, 1000, 200), 10000, "2 mW, 5 us");
    near(ef_leakage_pj(1, 1, 1000), 1, "1 mW for 1 ns");
    near(ef_leakage_pj(1, 1000, 0), 0, "no clock");
}
END_TEST

/* ---------- a run ---------- */

static const char *CONV = UT_CONV1D;
static const char *MAP2 = UT_MAP_TEACH2_WS;

/* teach-2 (1000 MHz): MainMemory unlimited (no area), a 64-byte Buffer
 * register file, one PE with an 8 x 8 + 8 MAC, the default network's
 * latch of O, I and W (8 bits each). */
START_TEST(run_default_table) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f, UT_ARCH_TEACH2, CONV, MAP2);
    ut_run(&f, false);
    ef_stats s;
    ef_stats_compute(f.res, &s);
    int bf = ut_level(f.nest, "Buffer"), mm = ut_level(f.nest, "MainMemory");
    double buffer = 512 * REG_BIT_UM2 * 1e-6, mac = (282 + 36) * 1e-6,
           noc = 24 * REG_BIT_UM2 * 1e-6;
    near(s.area.level_mm2[mm], 0, "MainMemory");
    near(s.area.level_mm2[bf], buffer, "Buffer");
    near(s.area.pe_mm2, mac, "MAC");
    near(s.area.noc_mm2, noc, "network");
    near(s.area.total_mm2, buffer + mac + noc, "total");
    double mw = (buffer + mac + noc) * MW_PER_MM2;
    near(s.area.total_mw, mw, "leakage mW");
    double cycles = (double)ef_result_span_cycles(f.res);
    near(s.level_leakage_pj[bf], buffer * MW_PER_MM2 * cycles, "Buffer leakage pJ");
    near(s.leakage_energy_pj, mw * cycles, "leakage pJ at 1 GHz");
    near(s.energy_total_pj, s.energy_pj + mw * cycles, "total energy");
    ck_assert_int_eq(s.area.level_area_source[bf], EF_ENERGY_TABLE);

    ef_run_meta m = {.arch_file = "a", .workload_file = "w", .mapping_file = "m",
                     .engine = "step", .fold_model = "overlap"};
    const ef_result *rs[1] = {f.res};
    char *text = ef_report_json(rs, 1, &m);
    cJSON *root = cJSON_Parse(text);
    const cJSON *sm = cJSON_GetObjectItemCaseSensitive(root, "summary");
    near(cJSON_GetObjectItemCaseSensitive(sm, "area_mm2")->valuedouble, buffer + mac + noc,
         "summary.area_mm2");
    near(cJSON_GetObjectItemCaseSensitive(sm, "leakage_pj")->valuedouble, mw * cycles,
         "summary.leakage_pj");
    near(cJSON_GetObjectItemCaseSensitive(sm, "leakage_mw")->valuedouble, mw,
         "summary.leakage_mw");
    /* total energy over the run's time, in mW */
    near(cJSON_GetObjectItemCaseSensitive(sm, "power_total_mw")->valuedouble,
         (s.energy_pj + mw * cycles) * 1e-9 / ((double)f.res->cycles * 1e-9),
         "summary.power_total_mw");
    cJSON_Delete(root);
    free(text);
    ut_free(&f);
}
END_TEST

/* Every figure given: the table steps aside. Buffer 64 B = 1/16 KiB at
 * 0.5 mm^2/KiB and 4 mW/KiB; the PE and the network as given; the
 * energy unit 2 pJ halves the static energy (and the table energies),
 * 500 MHz doubles it per cycle. */
START_TEST(run_overrides) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f,
                "name: given\n"
                "clock_mhz: 500\n"
                "energy_unit_pj: 2\n"
                "pe: {area: {mm2: 0.001}, leakage: {mw: 0.01}}\n"
                "levels:\n"
                "  - name: MainMemory\n"
                "    kind: sram\n"
                "    leakage: {mw: 1}\n"
                "  - name: Buffer\n"
                "    kind: regfile\n"
                "    capacity: 64 B\n"
                "    area: {mm2_per_kib: 0.5, ports: 2}\n"
                "    leakage: {mw_per_kib: 4}\n"
                "noc:\n"
                "  - {from: MainMemory, to: Buffer, area: {mm2: 0.002}}\n",
                CONV, MAP2);
    ut_run(&f, false);
    ef_stats s;
    ef_stats_compute(f.res, &s);
    int bf = ut_level(f.nest, "Buffer"), mm = ut_level(f.nest, "MainMemory");
    near(s.area.level_mm2[bf], 0.5 / 16, "Buffer mm2_per_kib (ports: a given figure wins)");
    near(s.area.level_mw[bf], 4.0 / 16, "Buffer mw_per_kib");
    near(s.area.level_mw[mm], 1, "MainMemory mw");
    near(s.area.pe_mm2, 0.001, "pe area");
    near(s.area.noc_mm2, 0.002, "noc area");
    near(s.area.noc_mw, 0.002 * MW_PER_MM2, "noc leakage from its given area");
    near(s.area.total_mm2, 0.5 / 16 + 0.001 + 0.002, "total area");
    double mw = 0.25 + 1 + 0.01 + 0.002 * MW_PER_MM2;
    double cycles = (double)ef_result_span_cycles(f.res);
    near(s.leakage_energy_pj, mw * cycles * 1000 / 500 / 2, "leakage in units of 2 pJ");
    ck_assert_int_eq(s.area.level_area_source[bf], EF_ENERGY_ARCH);
    ck_assert_int_eq(s.area.level_leakage_source[mm], EF_ENERGY_ARCH);
    /* the table's MAC energy, in the file's unit */
    near(s.costs.op_pj, (0.2 + 0.03) / 2, "MAC energy in units of 2 pJ");
    ut_free(&f);
}
END_TEST

/* --set reaches the new keys: the path walks into a level's area. */
START_TEST(set_reaches_area) {
    char *arch = ut_write_temp("name: s\nlevels:\n  - {name: B, kind: sram, capacity: 2 KiB}\n");
    ef_arch_set set = {.path = "levels.B.area.mm2_per_kib", .value = "0.25",
                       .origin = "--set"};
    ef_diags *d = ef_diags_create();
    ef_arch_spec *a = ef_spec_load_arch_set(arch, &set, 1, d);
    ck_assert_msg(a != NULL, "%s", ef_diags_render(d));
    near(a->levels[0].area_mm2_per_kib, 0.25, "set");
    ef_arch_spec_destroy(a);
    ef_diags_destroy(d);
    d = ef_diags_create();
    set.path = "levels.B.leakage.mv";
    a = ef_spec_load_arch_set(arch, &set, 1, d);
    ck_assert_ptr_null(a);
    ck_assert_msg(d->count >= 1 && d->items[0].hint && strstr(d->items[0].hint, "\"mw\""),
                  "want a did-you-mean mw");
    ef_diags_destroy(d);
    unlink(arch);
    free(arch);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("area");
    TCase *t = tcase_create("table");
    tcase_add_test(t, table_points);
    tcase_add_test(t, table_rules);
    tcase_add_test(t, storage);
    tcase_add_test(t, leakage_energy);
    suite_add_tcase(s, t);
    TCase *r = tcase_create("runs");
    tcase_add_test(r, run_default_table);
    tcase_add_test(r, run_overrides);
    tcase_add_test(r, set_reaches_area);
    suite_add_tcase(s, r);
    return s;
}

int main(void) {
    return ut_run_suite(suite());
}
