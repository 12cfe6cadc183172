/* Published results einflow must reproduce, end to end through the CLI
 * on the bundled files.
 *
 * Eyeriss dataflow study: Y.-H. Chen, J. Emer, V. Sze, "Eyeriss: A
 * Spatial Architecture for Energy-Efficient Dataflow for Convolutional
 * Neural Networks", ISCA 2016, Section VI: with the normalized energy
 * costs (MAC 1, RF 1, array 2, buffer 6, DRAM 200), AlexNet's CONV
 * layers at batch 16 on 256 PEs with the same total storage for every
 * dataflow, row stationary spends the least energy per MAC of RS, WS,
 * OS and NLR (the paper: 1.4x to 2.5x less). Tolerance: RS must be the
 * lowest; the ratios are printed, not asserted, since einflow's mapper
 * and the paper's differ in how far they search.
 *
 * Eyeriss chip: Y.-H. Chen, T. Krishna, J. Emer, V. Sze, JSSC 52(1),
 * 2017, Table V: AlexNet CONV1-CONV5 at batch 4 on the 12 x 14 array
 * with row stationary use 154, 135, 156, 156 and 156 PEs. Tolerance:
 * exact. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

static cJSON *compare_json(const char *arch, const char *dataflows, const char *batch,
                           const char *objective) {
    const char *args[] = {"compare", arch, "workloads/alexnet.yaml", "--layers", "conv*",
                          "--batch", batch, "--dataflows", dataflows, "--objective", objective,
                          "--confirm", "1", "--seeds", "1", "--json", NULL};
    e2e_result r;
    ck_assert(e2e_run(&r, args));
    ck_assert_msg(r.exit_code == 0, "%s failed (%d):\n%s", e2e_cmdline(args), r.exit_code, r.err);
    cJSON *j = e2e_parse_json(r.out);
    ck_assert_msg(j != NULL, "%s: not JSON", e2e_cmdline(args));
    e2e_result_free(&r);
    return j;
}

static double pj_per_mac(const cJSON *j, int dataflow) {
    char p[64];
    snprintf(p, sizeof p, "dataflows[%d].summary.pj_per_mac", dataflow);
    return e2e_path_double(j, p);
}

START_TEST(isca2016_rs_lowest_energy_per_mac) {
    cJSON *pe = compare_json("configs/eyeriss_isca16_256.yaml", "rs,ws,os", "16", "energy");
    cJSON *nlr = compare_json("configs/eyeriss_isca16_256_nlr.yaml", "nlr", "16", "energy");
    const char *names[] = {"rs", "ws", "os", "nlr"};
    double e[4] = {pj_per_mac(pe, 0), pj_per_mac(pe, 1), pj_per_mac(pe, 2), pj_per_mac(nlr, 0)};
    for (int d = 0; d < 3; d++) {
        char p[64];
        snprintf(p, sizeof p, "dataflows[%d].dataflow", d);
        ck_assert_str_eq(e2e_path_str(pe, p), names[d]);
    }
    /* the same work in every dataflow: AlexNet's CONV MACs per image,
     * M*C*E*E*R*R of ISCA 2016 Table II: 96*3*55^2*11^2 + 256*48*27^2*5^2
     * + 384*256*13^2*3^2 + 384*192*13^2*3^2 + 256*192*13^2*3^2 */
    const uint64_t conv_macs = UINT64_C(105415200) + 223948800 + 149520384 + 112140288 + 74760192;
    ck_assert_uint_eq(conv_macs, UINT64_C(665784864));
    for (int d = 0; d < 3; d++) {
        char p[64];
        snprintf(p, sizeof p, "dataflows[%d].summary.macs", d);
        ck_assert_uint_eq(e2e_path_u64(pe, p), 16 * conv_macs);
    }
    ck_assert_uint_eq(e2e_path_u64(nlr, "dataflows[0].summary.macs"), 16 * conv_macs);
    fprintf(stderr, "ISCA 2016, AlexNet CONV1-5, batch 16: pJ/MAC (MAC = 1)");
    for (int d = 0; d < 4; d++) fprintf(stderr, " %s %.3f (%.2fx RS)", names[d], e[d], e[d] / e[0]);
    fprintf(stderr, "\n");
    for (int d = 1; d < 4; d++)
        ck_assert_msg(e[0] < e[d], "rs spends %.4g pJ/MAC, %s %.4g: row stationary should be lowest",
                      e[0], names[d], e[d]);
    cJSON_Delete(pe);
    cJSON_Delete(nlr);
}
END_TEST

START_TEST(jssc2017_active_pes) {
    static const uint64_t want[] = {154, 135, 156, 156, 156};
    cJSON *j = compare_json("configs/eyeriss_like.yaml", "rs", "4", "edp");
    ck_assert_uint_eq(e2e_path_u64(j, "network.batch"), 4);
    for (int i = 0; i < 5; i++) {
        char p[96];
        snprintf(p, sizeof p, "dataflows[0].layers[%d].name", i);
        char name[16];
        snprintf(name, sizeof name, "conv%d", i + 1);
        ck_assert_str_eq(e2e_path_str(j, p), name);
        snprintf(p, sizeof p, "dataflows[0].layers[%d].summary.active_pes", i);
        ck_assert_msg(e2e_path_u64(j, p) == want[i], "%s: %llu active PEs, JSSC 2017 has %llu",
                      name, (unsigned long long)e2e_path_u64(j, p), (unsigned long long)want[i]);
    }
    cJSON_Delete(j);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_published");
    TCase *tc = tcase_create("published");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, jssc2017_active_pes);
    tcase_add_test(tc, isca2016_rs_lowest_energy_per_mac);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
