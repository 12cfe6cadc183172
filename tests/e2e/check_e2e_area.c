/* End to end: area and static energy of a bundled config, against a
 * closed form derived here from the config's numbers and the cited
 * table of docs/area.md (never read back from the program).
 *
 * configs/systolic_ws_16x16.yaml with workloads/fc.yaml (I, F 8 bits,
 * O 32 bits), 700 MHz, 16 x 16 PEs, no area or leakage keys:
 *   Buffer  128 KiB SRAM, 1 port:  131072 x 8 bits x 600 x 0.045^2 um^2
 *   Reg     2 B register file per PE: 16 x 4.3092 um^2, x 256
 *   MACs    8 x 8 multiply (282 um^2) + 32-bit add (137 um^2), x 256
 *   NoC     a latch of I, F and O (48 bits) per PE: 48 x 4.3092 um^2 x 256
 *   DRAM    off chip: none
 * Static power: 5.3552e-5 mW per 4.3092 um^2 of any of it; leakage_pj =
 * mW x cycles x 1000 / 700. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

#define REG_UM2 4.3092
#define MW_PER_MM2 (5.3552e-5 / (REG_UM2 * 1e-6))

static void near(double got, double want, const char *what) {
    ck_assert_msg(fabs(got - want) <= 1e-9 * (fabs(want) > 1 ? fabs(want) : 1),
                  "%s: got %.17g, want %.17g", what, got, want);
}

START_TEST(systolic_closed_form) {
    char *out = e2e_tmp_path("area.json");
    e2e_result r;
    ck_assert(e2e_runl(&r, "run", "configs/systolic_ws_16x16.yaml", "workloads/fc.yaml",
                       "mappings/systolic_ws_16x16__fc.yaml", "-o", out, NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    e2e_result_free(&r);
    cJSON *j = e2e_load_json(out);
    double buffer = 131072.0 * 8 * 600 * 0.045 * 0.045 * 1e-6;
    double reg = 16 * REG_UM2 * 1e-6 * 256;
    double macs = (282.0 + 137.0) * 1e-6 * 256;
    double noc = 48 * REG_UM2 * 1e-6 * 256;
    double area = buffer + reg + macs + noc;
    near(e2e_path_double(j, "summary.area.mm2.levels.Buffer"), buffer, "Buffer mm2");
    near(e2e_path_double(j, "summary.area.mm2.levels.Reg"), reg, "Reg mm2");
    near(e2e_path_double(j, "summary.area.mm2.levels.DRAM"), 0, "DRAM mm2");
    near(e2e_path_double(j, "summary.area.mm2.pe_array"), macs, "MACs mm2");
    near(e2e_path_double(j, "summary.area.mm2.noc"), noc, "NoC mm2");
    near(e2e_summary_double(j, "area_mm2"), area, "area_mm2");
    near(area, 1.4518857728, "area_mm2 by hand");
    double mw = area * MW_PER_MM2;
    double cycles = (double)e2e_summary_u64(j, "cycles");
    near(e2e_summary_double(j, "leakage_mw"), mw, "leakage_mw");
    near(e2e_summary_double(j, "leakage_pj"), mw * cycles * 1000 / 700, "leakage_pj");
    near(e2e_path_double(j, "summary.leakage_breakdown.levels.Buffer"),
         buffer * MW_PER_MM2 * cycles * 1000 / 700, "Buffer leakage_pj");
    near(e2e_summary_double(j, "energy_total_pj"),
         e2e_summary_double(j, "energy_pj") + mw * cycles * 1000 / 700, "energy_total_pj");
    /* average power: the total energy over cycles / 700 MHz, in mW */
    near(e2e_summary_double(j, "power_total_mw"),
         e2e_summary_double(j, "energy_total_pj") * 1e-9 / (cycles / 700e6), "power_total_mw");
    /* the level's own entry says the same */
    const cJSON *lv = e2e_level(j, "Buffer");
    near(e2e_path_double(lv, "area_mm2"), buffer, "levels[Buffer].area_mm2");
    ck_assert_str_eq(e2e_path_str(lv, "area_source"), "table");
    cJSON_Delete(j);
    free(out);
}
END_TEST

/* The table output has its line: static energy, total, power, area. */
START_TEST(table_line) {
    e2e_result r;
    ck_assert(e2e_runl(&r, "run", "configs/systolic_ws_16x16.yaml", "workloads/fc.yaml",
                       "mappings/systolic_ws_16x16__fc.yaml", NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    ck_assert_msg(strstr(r.out, "  static       ") && strstr(r.out, "mW average; area 1.452 mm2"),
                  "%s", r.out);
    e2e_result_free(&r);
}
END_TEST

int main(void) {
    e2e_init();
    Suite *s = suite_create("e2e_area");
    TCase *tc = tcase_create("area");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, systolic_closed_form);
    tcase_add_test(tc, table_line);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    e2e_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
