/* Unit tests of the energy model (stats/energy.c, stats/stats.c) and of
 * its JSON. Every expected number is derived here from the cited table
 * values and the rules of docs/energy.md, never read back from the
 * program:
 *
 *   Horowitz, ISSCC 2014, 45 nm (pJ): int add 8b 0.03, 32b 0.1; int mult
 *   8b 0.2, 32b 3.1; fp add 16b 0.4, 32b 0.9; fp mult 16b 1.1, 32b 3.7;
 *   64-bit SRAM access 8 KiB 10, 32 KiB 20, 1 MiB 100; DRAM 1.3-2.6 nJ
 *   per 64 bits (middle: 1950 pJ). Chen et al., ISCA 2016: RF 1x, NoC
 *   2x a 16-bit MAC.
 *
 *   Rules: log-log interpolation between table points (a power law,
 *   also outside them); MAC = multiply at sqrt(a b) bits + add at the
 *   accumulator width; RF word = ref MAC x bits/16 with ref MAC = the
 *   16-bit int MAC = sqrt(0.2 x 3.1) + sqrt(0.03 x 0.1) (16 is the
 *   geometric middle of 8 and 32); hop = 2 x that; SRAM word = 64-bit
 *   curve x bits/64, clamped to [RF word, DRAM word], unlimited =
 *   1 MiB; DRAM word = 1950/8 pJ per byte x bits/8. */
#include <cJSON.h>
#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einflow/report.h"
#include "einflow/stats.h"
#include "unit/unit_util.h"

#define REF_MAC (sqrt(0.2 * 3.1) + sqrt(0.03 * 0.1)) /* 16-bit int MAC, pJ */

static void near(double got, double want, const char *what) {
    double tol = 1e-9 * (fabs(want) > 1 ? fabs(want) : 1);
    ck_assert_msg(fabs(got - want) <= tol, "%s: got %.17g, want %.17g", what, got, want);
}

/* ---------- the table ---------- */

START_TEST(table_points) {
    near(ef_energy_add_pj(EF_ARITH_INT, 8), 0.03, "int add 8");
    near(ef_energy_add_pj(EF_ARITH_INT, 32), 0.1, "int add 32");
    near(ef_energy_mul_pj(EF_ARITH_INT, 8), 0.2, "int mult 8");
    near(ef_energy_mul_pj(EF_ARITH_INT, 32), 3.1, "int mult 32");
    near(ef_energy_add_pj(EF_ARITH_FLOAT, 16), 0.4, "fp add 16");
    near(ef_energy_add_pj(EF_ARITH_FLOAT, 32), 0.9, "fp add 32");
    near(ef_energy_mul_pj(EF_ARITH_FLOAT, 16), 1.1, "fp mult 16");
    near(ef_energy_mul_pj(EF_ARITH_FLOAT, 32), 3.7, "fp mult 32");
    near(ef_energy_sram_pj(8192, 64), 10, "SRAM 8 KiB");
    near(ef_energy_sram_pj(32768, 64), 20, "SRAM 32 KiB");
    near(ef_energy_sram_pj(1048576, 64), 100, "SRAM 1 MiB");
    near(ef_energy_dram_pj(64), 1950, "DRAM 64 bits");
}
END_TEST

/* Between and beyond the points: a power law through two points takes
 * the geometric mean at the geometric middle, and one doubling of the
 * width multiplies by sqrt(ratio) when the points are 4x apart. */
START_TEST(table_interpolation) {
    near(ef_energy_add_pj(EF_ARITH_INT, 16), sqrt(0.03 * 0.1), "int add 16");
    near(ef_energy_mul_pj(EF_ARITH_INT, 16), sqrt(0.2 * 3.1), "int mult 16");
    near(ef_energy_mul_pj(EF_ARITH_INT, 4), 0.2 / sqrt(3.1 / 0.2), "int mult 4");
    near(ef_energy_mul_pj(EF_ARITH_INT, 64), 3.1 * sqrt(3.1 / 0.2), "int mult 64");
    near(ef_energy_add_pj(EF_ARITH_INT, 64), 0.1 * sqrt(0.1 / 0.03), "int add 64");
    /* fp points are 2x apart: 8 bits is one halving below 16 */
    near(ef_energy_mul_pj(EF_ARITH_FLOAT, 8), 1.1 * 1.1 / 3.7, "fp mult 8");
    near(ef_energy_add_pj(EF_ARITH_FLOAT, 64), 0.9 * 0.9 / 0.4, "fp add 64");
    /* 24 bits: 0.03 x 3^k, k = log(0.1/0.03) / log(4) */
    near(ef_energy_add_pj(EF_ARITH_INT, 24), 0.03 * pow(3, log(0.1 / 0.03) / log(4)), "add 24");
}
END_TEST

START_TEST(mac_rule) {
    near(ef_energy_mac_pj(EF_ARITH_INT, 8, 8, 8), 0.2 + 0.03, "8-bit MAC");
    near(ef_energy_mac_pj(EF_ARITH_INT, 32, 32, 32), 3.1 + 0.1, "32-bit MAC");
    near(ef_energy_mac_pj(EF_ARITH_INT, 16, 16, 16), REF_MAC, "16-bit MAC");
    near(ef_energy_ref_mac_pj(), REF_MAC, "reference MAC");
    /* 8 x 32 multiplies like 16 x 16 (sqrt(8 x 32) = 16), adds at 32 */
    near(ef_energy_mac_pj(EF_ARITH_INT, 8, 32, 32), sqrt(0.2 * 3.1) + 0.1, "8x32 MAC");
    near(ef_energy_mac_pj(EF_ARITH_FLOAT, 16, 16, 32), 1.1 + 0.9, "fp16 MAC, fp32 acc");
}
END_TEST

START_TEST(storage_rules) {
    near(ef_energy_regfile_pj(16), REF_MAC, "RF 16");
    near(ef_energy_regfile_pj(8), REF_MAC / 2, "RF 8");
    near(ef_energy_hop_pj(16), 2 * REF_MAC, "hop 16");
    near(ef_energy_hop_pj(32), 4 * REF_MAC, "hop 32");
    /* width: bits / 64 of the 64-bit access */
    near(ef_energy_sram_pj(8192, 8), 10.0 / 8, "SRAM 8 KiB, 8 bits");
    near(ef_energy_sram_pj(32768, 16), 20.0 / 4, "SRAM 32 KiB, 16 bits");
    /* capacity: 8 -> 32 KiB doubles the energy over 4x: sqrt per 2x */
    near(ef_energy_sram_pj(16384, 64), 10 * sqrt(2), "SRAM 16 KiB");
    near(ef_energy_sram_pj(2048, 64), 10 * sqrt(0.25), "SRAM 2 KiB (extrapolated)");
    /* 32 KiB -> 1 MiB is 32x for 5x: 4 MiB (4x past 1 MiB) is 5^(2/5) */
    near(ef_energy_sram_pj(4u << 20, 64), 100 * pow(5, 0.4), "SRAM 4 MiB");
    near(ef_energy_sram_pj(108 * 1024, 64), 20 * pow(108.0 / 32, log(5) / log(32)), "108 KiB");
    /* floor: 256 B would be 10 sqrt(1/32) = 1.77 < RF 4 x REF_MAC */
    near(ef_energy_sram_pj(256, 64), 4 * REF_MAC, "tiny SRAM at the RF floor");
    /* ceiling: a huge SRAM never costs more than DRAM */
    near(ef_energy_sram_pj(UINT64_C(1) << 50, 64), 1950, "huge SRAM at the DRAM ceiling");
    /* unlimited = 1 MiB */
    near(ef_energy_sram_pj(0, 8), 100.0 / 8, "unlimited SRAM");
    near(ef_energy_dram_pj(8), 1950.0 / 8, "DRAM byte");
    near(ef_energy_dram_pj(24), 3 * 1950.0 / 8, "DRAM 24-bit word");
}
END_TEST

/* ---------- a hand-derived two-level run ---------- */

static const char *CONV = UT_CONV1D;

static const char *ARCH2 = UT_ARCH_TEACH2;

static const char *MAP2 = UT_MAP_TEACH2_WS;

/* Counts of conv1d P=16, R=3 weight-stationary over two levels:
 * per r, the Buffer holds W[r], I[r..r+15] and O[0..15]. W: 3 fills
 * (3 MainMemory reads), 48 reads; I: 16 + 1 + 1 = 18 fills, 48 reads;
 * O: never leaves until the end, 48 updates, 48 - 16 = 32 reads, then
 * 16 updates at MainMemory. */
static void expect_ws_counts(const ut_fx *f) {
    ck_assert_uint_eq(ut_tc(f, "Buffer", "W")->fills, 3);
    ck_assert_uint_eq(ut_tc(f, "Buffer", "W")->reads, 48);
    ck_assert_uint_eq(ut_tc(f, "Buffer", "I")->fills, 18);
    ck_assert_uint_eq(ut_tc(f, "Buffer", "I")->reads, 48);
    ck_assert_uint_eq(ut_tc(f, "Buffer", "O")->updates, 48);
    ck_assert_uint_eq(ut_tc(f, "Buffer", "O")->reads, 32);
    ck_assert_uint_eq(ut_tc(f, "Buffer", "O")->fills, 0);
    ck_assert_uint_eq(ut_tc(f, "MainMemory", "W")->reads, 3);
    ck_assert_uint_eq(ut_tc(f, "MainMemory", "I")->reads, 18);
    ck_assert_uint_eq(ut_tc(f, "MainMemory", "O")->updates, 16);
    ck_assert_uint_eq(ut_tc(f, "MainMemory", "O")->reads, 0);
    ck_assert_uint_eq(f->res->ops, 48);
}

/* Default table, 8-bit words: MainMemory (sram, unlimited = 1 MiB)
 * 100/8 = 12.5 pJ x (3 + 18 + 16) = 462.5; Buffer (64 B regfile: the
 * SRAM curve, 10 sqrt(64/8192)/8 = 0.11, is below the RF floor) REF/2
 * x (128 reads + 21 fills + 48 updates); MACs 48 x (0.2 + 0.03). */
START_TEST(two_level_default_table) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f, ARCH2, CONV, MAP2);
    ut_run(&f, false);
    expect_ws_counts(&f);
    ef_stats s;
    ef_stats_compute(f.res, &s);
    int mm = ut_level(f.nest, "MainMemory"), bf = ut_level(f.nest, "Buffer");
    int I = ut_op(f.nest, "I"), O = ut_op(f.nest, "O"), W = ut_op(f.nest, "W");
    near(s.costs.op_pj, 0.23, "MAC");
    near(s.costs.read_pj[mm][I], 12.5, "MainMemory word");
    near(s.costs.write_pj[bf][O], REF_MAC / 2, "Buffer word");
    near(s.tensor_energy[mm][I].read_pj, 18 * 12.5, "MainMemory I reads");
    near(s.tensor_energy[mm][W].read_pj, 3 * 12.5, "MainMemory W reads");
    near(s.tensor_energy[mm][O].update_pj, 16 * 12.5, "MainMemory O updates");
    near(s.tensor_energy[bf][I].fill_pj, 18 * REF_MAC / 2, "Buffer I fills");
    near(s.level_energy_pj[mm], 462.5, "MainMemory");
    near(s.level_energy_pj[bf], 197 * REF_MAC / 2, "Buffer");
    near(s.compute_energy_pj, 48 * 0.23, "MACs");
    near(s.noc_energy_pj, 0, "no network");
    /* the table's static energy is reported beside the dynamic one
     * (check_area.c derives it), not in energy_pj */
    ck_assert(s.leakage_energy_pj > 0);
    near(s.energy_pj, 462.5 + 197 * REF_MAC / 2 + 48 * 0.23, "total");
    near(s.energy_total_pj, s.energy_pj + s.leakage_energy_pj, "total with leakage");
    ck_assert_int_eq(s.costs.level_source[mm], EF_ENERGY_TABLE);
    ck_assert_int_eq(s.costs.op_source, EF_ENERGY_TABLE);
    /* area: Buffer 64 B = 512 bits; MainMemory unlimited: not counted */
    ck_assert_uint_eq(s.storage_bits, 512);
    ck_assert_uint_eq(s.pes, 1);
    ut_free(&f);
}
END_TEST

/* Overrides: MainMemory gives read only (write takes the same figure),
 * Buffer read 1 / write 2 and 0.25 pJ leakage per cycle, MAC 0.5. */
START_TEST(overrides_win) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f,
                "name: two_e\n"
                "pe: {mac_energy: 0.5}\n"
                "levels:\n"
                "  - name: MainMemory\n"
                "    kind: sram\n"
                "    energy: {read: 10}\n"
                "  - name: Buffer\n"
                "    kind: regfile\n"
                "    capacity: 64 B\n"
                "    energy: {read: 1.0, write: 2.0, leakage: 0.25}\n",
                CONV, MAP2);
    ut_run(&f, false);
    expect_ws_counts(&f);
    ef_stats s;
    ef_stats_compute(f.res, &s);
    int mm = ut_level(f.nest, "MainMemory"), bf = ut_level(f.nest, "Buffer");
    near(s.level_energy_pj[mm], (21 + 16) * 10.0, "MainMemory");
    near(s.level_energy_pj[bf], 128 * 1.0 + (21 + 48) * 2.0, "Buffer");
    near(s.compute_energy_pj, 48 * 0.5, "MACs");
    near(s.level_leakage_pj[bf], 0.25 * (double)f.res->cycles, "Buffer leakage");
    near(s.energy_pj, 370 + 266 + 24, "dynamic total");
    near(s.energy_total_pj, s.energy_pj + s.leakage_energy_pj, "total");
    ck_assert_int_eq(s.area.level_leakage_source[bf], EF_ENERGY_ARCH);
    ck_assert_int_eq(s.costs.level_source[mm], EF_ENERGY_ARCH);
    ck_assert_int_eq(s.costs.level_source[bf], EF_ENERGY_ARCH);
    ck_assert_int_eq(s.costs.op_source, EF_ENERGY_ARCH);
    ut_free(&f);
}
END_TEST

/* Only some costs given: the others still come from the table. */
START_TEST(partial_override) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f,
                "name: two_p\n"
                "levels:\n"
                "  - name: MainMemory\n"
                "    kind: sram\n"
                "    capacity: 8 KiB\n"
                "  - name: Buffer\n"
                "    kind: regfile\n"
                "    capacity: 64 B\n"
                "    energy: {write: 3.0}\n",
                CONV, MAP2);
    ut_run(&f, false);
    ef_stats s;
    ef_stats_compute(f.res, &s);
    int mm = ut_level(f.nest, "MainMemory"), bf = ut_level(f.nest, "Buffer");
    near(s.level_energy_pj[mm], 37 * 10.0 / 8, "MainMemory, 8 KiB at 8 bits");
    near(s.level_energy_pj[bf], 197 * 3.0, "Buffer: write given, read the same");
    near(s.compute_energy_pj, 48 * 0.23, "MACs from the table");
    ut_free(&f);
}
END_TEST

/* Precisions: I 8, W 16, O 32: the MAC multiplies at sqrt(8 x 16) and
 * adds at 32 bits; DRAM charges per byte; the SRAM per word by width. */
START_TEST(precision_scaling) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f,
                "name: prec\n"
                "levels:\n"
                "  - name: DRAM\n"
                "    kind: dram\n"
                "  - name: Buffer\n"
                "    kind: sram\n"
                "    capacity: 32 KiB\n",
                "name: conv1d\n"
                "einsums:\n"
                "  - \"O[p] += I[p+r] * W[r]\"\n"
                "ranks: {P: 16, R: 3}\n"
                "precision: {I: 8, W: 16, O: 32}\n",
                "mapping:\n"
                "  - level: DRAM\n    temporal: [R: 3]\n"
                "  - level: Buffer\n    temporal: [P: 16]\n");
    ut_run(&f, false);
    ef_stats s;
    ef_stats_compute(f.res, &s);
    int dr = ut_level(f.nest, "DRAM"), bf = ut_level(f.nest, "Buffer");
    int I = ut_op(f.nest, "I"), O = ut_op(f.nest, "O"), W = ut_op(f.nest, "W");
    double mul = 0.2 * pow(sqrt(8.0 * 16) / 8, log(3.1 / 0.2) / log(4));
    near(s.costs.op_pj, mul + 0.1, "MAC 8x16, 32-bit accumulator");
    near(s.costs.read_pj[dr][I], 1950.0 / 8, "DRAM I (1 byte)");
    near(s.costs.read_pj[dr][W], 2 * 1950.0 / 8, "DRAM W (2 bytes)");
    near(s.costs.write_pj[dr][O], 4 * 1950.0 / 8, "DRAM O (4 bytes)");
    near(s.costs.read_pj[bf][I], 20.0 / 8, "32 KiB SRAM, 8 bits");
    near(s.costs.read_pj[bf][O], 20.0 / 2, "32 KiB SRAM, 32 bits");
    near(s.level_energy_pj[dr], 18 * 243.75 + 3 * 487.5 + 16 * 975, "DRAM");
    ut_free(&f);
}
END_TEST

/* ---------- network ---------- */

/* Two PEs share a GLB over a multicast bus. Each PE's RF takes W[0..2]
 * (the same 3 words: one GLB read, 2 deliveries each) and its own
 * I window of P 8 + R 3 - 1 = 10 words: 2 x (3 + 10) = 26 deliveries,
 * one hop each; the 8 outputs of each PE go back over the bus at the
 * end: 16 more hops. With W at 16 bits and I and O at 8, the hops are
 * charged at each word's width. */
static const char *ARCH_NOC =
    "name: pair\n"
    "pe_array: {rows: 1, cols: 2}\n"
    "levels:\n"
    "  - name: GLB\n"
    "    kind: sram\n"
    "    capacity: 1 KiB\n"
    "  - name: RF\n"
    "    kind: regfile\n"
    "    per_pe: true\n"
    "    capacity: 32 B\n"
    "noc:\n"
    "  - {from: GLB, to: RF, topology: multicast%s}\n";

static const char *CONV_PREC =
    "name: conv1d\n"
    "einsums:\n"
    "  - \"O[p] += I[p+r] * W[r]\"\n"
    "ranks: {P: 16, R: 3}\n"
    "precision: {I: 8, W: 16, O: 8}\n";

static const char *MAP_NOC =
    "mapping:\n"
    "  - level: GLB\n    spatial: {cols: [P: 2]}\n"
    "  - level: RF\n    temporal: [P: 8, R: 3]\n";

static void noc_case(ut_fx *f, const char *extra) {
    char arch[1024];
    snprintf(arch, sizeof arch, ARCH_NOC, extra);
    ut_init(f);
    ut_build_ok(f, arch, CONV_PREC, MAP_NOC);
    ut_run(f, false);
    ck_assert_uint_eq(ut_tc(f, "RF", "W")->fills, 6);
    ck_assert_uint_eq(ut_tc(f, "RF", "I")->fills, 20);
    ck_assert_uint_eq(f->res->noc.hops, 26 + 16);
}

START_TEST(noc_table) {
    ut_fx f;
    noc_case(&f, "");
    ef_stats s;
    ef_stats_compute(f.res, &s);
    near(s.noc_energy_pj, 6 * 2 * REF_MAC + (20 + 16) * 2 * REF_MAC / 2, "hops at each width");
    ck_assert_int_eq(s.costs.noc_source, EF_ENERGY_TABLE);
    /* area: GLB 8192 bits + 2 x RF 256 bits */
    ck_assert_uint_eq(s.storage_bits, 8192 + 2 * 256);
    ck_assert_uint_eq(s.pes, 2);
    ut_free(&f);
}
END_TEST

START_TEST(noc_override) {
    ut_fx f;
    noc_case(&f, ", hop_energy: 3.0");
    ef_stats s;
    ef_stats_compute(f.res, &s);
    near(s.noc_energy_pj, 42 * 3.0, "42 hops x 3 pJ");
    ck_assert_int_eq(s.costs.noc_source, EF_ENERGY_ARCH);
    near(s.energy_pj,
         s.compute_energy_pj + s.level_energy_pj[0] + s.level_energy_pj[1] + 126.0,
         "total = MAC + levels + NoC");
    ut_free(&f);
}
END_TEST

/* ---------- the Eyeriss-like config: normalized costs ---------- */

static char *slurp(const char *rel) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", EF_SOURCE_DIR, rel);
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)len, fp), (size_t)len);
    buf[len] = 0;
    fclose(fp);
    return buf;
}

/* MAC 1, RF 1, NoC 2, GLB 6, DRAM 200 per 16-bit word: the energy is
 * those weights times the counts, with nothing from the table. */
START_TEST(eyeriss_normalized) {
    char *arch = slurp("configs/eyeriss_like.yaml");
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f, arch,
                "name: row\n"
                "einsums:\n"
                "  - \"O[p] += I[p+r] * F[r]\"\n"
                "ranks: {P: 28, R: 3}\n"
                "precision: {I: 16, F: 16, O: 16}\n",
                "mapping:\n"
                "  - level: DRAM\n    temporal: [P: 2]\n"
                "  - level: GLB\n    spatial: {cols: [P: 14]}\n"
                "  - level: RF\n    temporal: [R: 3]\n");
    ut_run(&f, false);
    ef_stats s;
    ef_stats_compute(f.res, &s);
    static const struct {
        const char *level;
        double weight;
    } w[] = {{"DRAM", 200}, {"GLB", 6}, {"RF", 1}};
    double want = (double)f.res->ops * 1.0 + (double)f.res->noc.hops * 2.0;
    for (size_t i = 0; i < UT_LEN(w); i++) {
        int l = ut_level(f.nest, w[i].level);
        double words = 0;
        for (int o = 0; o < f.nest->op_count; o++) {
            const ef_tensor_counters *c = &f.res->levels[l].ops[o];
            words += (double)(c->reads + c->fills + c->updates);
        }
        near(s.level_energy_pj[l], words * w[i].weight, w[i].level);
        want += words * w[i].weight;
        ck_assert_int_eq(s.costs.level_source[l], EF_ENERGY_ARCH);
    }
    ck_assert_uint_gt(f.res->noc.hops, 0);
    ck_assert_uint_eq(f.res->ops, 28 * 3);
    near(s.energy_pj, want, "total in MAC-equivalents");
    ck_assert_int_eq(s.costs.op_source, EF_ENERGY_ARCH);
    ck_assert_int_eq(s.costs.noc_source, EF_ENERGY_ARCH);
    /* area: 168 PEs x (224 + 12 + 24) 16-bit words + 108 KiB GLB */
    ck_assert_uint_eq(s.storage_bits, 168 * 260 * 16 + 108 * 1024 * 8);
    ck_assert_uint_eq(s.pes, 168);
    ut_free(&f);
    free(arch);
}
END_TEST

/* ---------- rates ---------- */

START_TEST(rates_formulas) {
    ef_energy_rates r;
    /* 100 MACs in 1 us for 1000 pJ: 10 pJ/MAC; 200 ops / 1 us = 2e8
     * ops/s at 1e-9 J / 1e-6 s = 1 mW: 2e11 ops/s/W = 0.2 TOPS/W */
    ef_stats_energy_rates(1000, 100, 100, 1e-6, &r);
    ck_assert(r.has_pj_per_mac && r.has_tops_per_watt && r.has_watts);
    near(r.pj_per_mac, 10, "pJ/MAC");
    near(r.watts, 1e-3, "W");
    near(r.tops_per_watt, (200 / 1e-6) / 1e-3 / 1e12, "TOPS/W");
    /* a cascade: 12 MACs (24 ops) and 12 other ops */
    ef_stats_energy_rates(72, 12, 24, 1e-9, &r);
    near(r.tops_per_watt, (24 + 12) / 72.0, "TOPS/W with non-MAC ops");
    near(r.pj_per_mac, 6, "pJ/MAC of a cascade");
}
END_TEST

START_TEST(rates_degenerate) {
    ef_energy_rates r;
    ef_stats_energy_rates(0, 0, 0, 0, &r);
    ck_assert(!r.has_pj_per_mac && !r.has_tops_per_watt && !r.has_watts);
    ck_assert(r.pj_per_mac == 0 && r.tops_per_watt == 0 && r.watts == 0);
    ef_stats_energy_rates(5, 0, 10, 0, &r); /* ops but no MACs, no time */
    ck_assert(!r.has_pj_per_mac && r.has_tops_per_watt && !r.has_watts);
    near(r.tops_per_watt, 2, "10 ops / 5 pJ");
    ef_stats_energy_rates(0, 10, 10, 1, &r); /* all costs given as 0 */
    ck_assert(r.has_pj_per_mac && !r.has_tops_per_watt && r.has_watts);
    ck_assert(r.pj_per_mac == 0 && r.watts == 0);
}
END_TEST

/* ---------- spec keys ---------- */

START_TEST(float_arithmetic) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f,
                "name: fp\n"
                "pe: {arithmetic: float}\n"
                "levels:\n"
                "  - name: Buffer\n"
                "    kind: regfile\n",
                "name: conv1d\n"
                "einsums:\n"
                "  - \"O[p] += I[p+r] * W[r]\"\n"
                "ranks: {P: 4, R: 3}\n"
                "default_precision: 16\n"
                "precision: {O: 32}\n",
                "mapping:\n  - level: Buffer\n    temporal: [P: 4, R: 3]\n");
    ck_assert_int_eq(f.arch->arithmetic, EF_ARITH_FLOAT);
    ut_run(&f, false);
    ef_stats s;
    ef_stats_compute(f.res, &s);
    near(s.costs.op_pj, 1.1 + 0.9, "fp16 multiply + fp32 add");
    /* an unlimited regfile: the RF rule */
    near(s.costs.read_pj[0][ut_op(f.nest, "I")], REF_MAC, "RF 16 bits");
    near(s.costs.read_pj[0][ut_op(f.nest, "O")], 2 * REF_MAC, "RF 32 bits");
    ut_free(&f);
}
END_TEST

START_TEST(bad_arithmetic) {
    char *p = ut_write_temp("name: x\npe: {arithmetic: fixed}\nlevels:\n"
                            "  - {name: B, kind: regfile}\n");
    ef_diags *d = ef_diags_create();
    ef_arch_spec *a = ef_spec_load_arch(p, d);
    ck_assert_ptr_null(a);
    char *text = ef_diags_render(d);
    ck_assert_msg(strstr(text, "pe.arithmetic") && strstr(text, "int") && strstr(text, "float"),
                  "diagnostic: %s", text);
    free(text);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
}
END_TEST

/* A cascade's non-MAC Einsum: M[p] max= S[p] - I[p,r] costs a subtract
 * and a compare (two adds) per point; S += I * W a MAC. */
START_TEST(non_mac_ops) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f,
                "name: one\nlevels:\n  - {name: Buffer, kind: regfile}\n",
                "name: casc\n"
                "einsums:\n"
                "  - \"S[p] += I[p,r] * W[r]\"\n"
                "  - \"M[p] max= S[p] - I[p,r]\"\n"
                "ranks: {P: 4, R: 3}\n",
                "mappings:\n"
                "  - einsum: S\n    mapping:\n"
                "      - level: Buffer\n        temporal: [P: 4, R: 3]\n"
                "  - einsum: M\n    mapping:\n"
                "      - level: Buffer\n        temporal: [R: 3, P: 4]\n");
    ef_nest *n1 = ef_nest_build(f.arch, f.w, f.mspec, 1, f.diags);
    ck_assert_ptr_nonnull(n1);
    ef_energy_costs c0, c1;
    ef_energy_costs_of(f.nest, &c0);
    ef_energy_costs_of(n1, &c1);
    near(c0.op_pj, 0.2 + 0.03, "MAC");
    near(c1.op_pj, 0.03 + 0.03, "subtract + compare");
    ef_nest_destroy(n1);
    ut_free(&f);
}
END_TEST

/* ---------- JSON ---------- */

static cJSON *parse(const char *text) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    ck_assert_msg(root != NULL, "JSON does not parse near: %.40s", end ? end : "?");
    return root;
}

static const cJSON *obj(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(v != NULL, "no key %s", key);
    return v;
}

static double num(const cJSON *o, const char *key) {
    const cJSON *v = obj(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", key);
    return v->valuedouble;
}

/* The keys of o are exactly `keys`, in order. */
static void keys_are(const cJSON *o, const char *const *keys, size_t n, const char *what) {
    size_t i = 0;
    for (const cJSON *c = o->child; c; c = c->next, i++) {
        ck_assert_msg(i < n, "%s: extra key %s", what, c->string);
        ck_assert_msg(strcmp(c->string, keys[i]) == 0, "%s: key %zu is %s, want %s", what, i,
                      c->string, keys[i]);
    }
    ck_assert_msg(i == n, "%s: %zu keys, want %zu", what, i, n);
}

/* keys appear in o in this relative order (others may sit between) */
static void in_order(const cJSON *o, const char *const *keys, size_t n, const char *what) {
    size_t i = 0;
    for (const cJSON *c = o->child; c && i < n; c = c->next)
        if (strcmp(c->string, keys[i]) == 0) i++;
    ck_assert_msg(i == n, "%s: key %s missing or out of order", what, i < n ? keys[i] : "");
}

static char *json_of(ut_fx *f) {
    ef_run_meta m = {.arch_file = f->arch_path, .workload_file = f->workload_path,
                     .mapping_file = f->mapping_path, .engine = "step",
                     .fold_model = "overlap", .seed = 7};
    const ef_result *rs[1] = {f->res};
    char *j = ef_report_json(rs, 1, &m);
    ck_assert_ptr_nonnull(j);
    return j;
}


START_TEST(json_energy_keys) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f, ARCH2, CONV, MAP2);
    ut_run(&f, false);
    char *text = json_of(&f);
    ut_only_json_words(text);
    cJSON *root = parse(text);
    const cJSON *sm = obj(root, "summary");
    static const char *summary[] = {"cycles", "seconds", "macs", "ops", "utilization",
                                    "vector_utilization", "active_pes", "energy_pj",
                                    "leakage_pj", "energy_total_pj",
                                    "pj_per_mac", "tops_per_watt", "power_w", "leakage_mw",
                                    "power_total_mw", "area_mm2", "energy_breakdown",
                                    "leakage_breakdown", "area", "compute_cycles",
                                    "stall_cycles", "utilization_loss", "outer_traffic",
                                    "values_checked"};
    keys_are(sm, summary, UT_LEN(summary), "summary");
    static const char *breakdown[] = {"mac", "vector", "levels", "noc", "leakage"};
    const cJSON *eb = obj(sm, "energy_breakdown");
    keys_are(eb, breakdown, UT_LEN(breakdown), "energy_breakdown");
    static const char *lv_names[] = {"MainMemory", "Buffer"};
    keys_are(obj(eb, "levels"), lv_names, UT_LEN(lv_names), "energy_breakdown.levels");
    static const char *area[] = {"storage_bits", "pes", "mm2"};
    keys_are(obj(sm, "area"), area, UT_LEN(area), "area");

    double total = 462.5 + 197 * REF_MAC / 2 + 48 * 0.23;
    near(num(sm, "energy_pj"), total, "summary.energy_pj");
    near(num(sm, "pj_per_mac"), total / 48, "summary.pj_per_mac");
    near(num(sm, "tops_per_watt"), 96 / total, "summary.tops_per_watt");
    /* teach-style arch: 1000 MHz default clock */
    near(num(sm, "power_w"), total * 1e-12 / ((double)f.res->cycles / 1e9), "summary.power_w");
    near(num(eb, "mac"), 48 * 0.23, "breakdown.mac");
    near(num(obj(eb, "levels"), "MainMemory"), 462.5, "breakdown.levels.MainMemory");
    ck_assert(num(obj(sm, "area"), "storage_bits") == 512);
    ck_assert(num(obj(sm, "area"), "pes") == 1);

    const cJSON *mm = cJSON_GetArrayItem(obj(root, "levels"), 0);
    static const char *level_keys[] = {"tile_changes", "energy_pj", "leakage_pj", "energy",
                                       "energy_per_word_pj", "energy_source"};
    in_order(mm, level_keys, UT_LEN(level_keys), "levels[0]");
    near(num(mm, "energy_pj"), 462.5, "levels[0].energy_pj");
    ck_assert_str_eq(obj(mm, "energy_source")->valuestring, "table");
    const cJSON *eI = obj(obj(mm, "energy"), "I");
    static const char *actions[] = {"read", "fill", "update"};
    keys_are(eI, actions, UT_LEN(actions), "levels[0].energy.I");
    near(num(eI, "read"), 18 * 12.5, "MainMemory I read pJ");
    near(num(obj(obj(mm, "energy"), "O"), "update"), 16 * 12.5, "MainMemory O update pJ");
    near(num(obj(obj(mm, "energy_per_word_pj"), "W"), "read"), 12.5, "per word");

    const cJSON *noc = cJSON_GetArrayItem(obj(root, "noc"), 0);
    near(num(noc, "energy_pj"), 0, "noc.energy_pj");
    ck_assert_str_eq(obj(obj(root, "architecture"), "arithmetic")->valuestring, "int");
    cJSON_Delete(root);
    free(text);
    ut_free(&f);
}
END_TEST

/* Zero cycles, zero ops, zero counts: every energy is 0 and the rates
 * that would divide by zero are null, never NaN or infinite. */
START_TEST(json_zero_run) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f, ARCH2, CONV, MAP2);
    ut_run(&f, false);
    ef_result *r = f.res;
    r->ops = r->cycles = r->compute_cycles = 0;
    memset(r->levels, 0, sizeof r->levels);
    memset(&r->noc, 0, sizeof r->noc);
    r->stall_count = 0;
    char *text = json_of(&f);
    ut_only_json_words(text);
    cJSON *root = parse(text);
    const cJSON *sm = obj(root, "summary");
    ck_assert(num(sm, "energy_pj") == 0);
    ck_assert(cJSON_IsNull(obj(sm, "pj_per_mac")));
    ck_assert(cJSON_IsNull(obj(sm, "tops_per_watt")));
    ck_assert(cJSON_IsNull(obj(sm, "power_w")));
    cJSON_Delete(root);
    free(text);
    ef_run_meta m = {.arch_file = "a", .workload_file = "w", .mapping_file = "m",
                     .engine = "step", .fold_model = "overlap"};
    const ef_result *rs[1] = {r};
    char *t = ef_report_table(rs, 1, &m);
    ck_assert_ptr_nonnull(t);
    ck_assert_msg(!strstr(t, "nan") && !strstr(t, "inf"), "table: %s", t);
    free(t);
    ut_free(&f);
}
END_TEST

/* Zero-cost overrides with work done: pJ/MAC is 0, TOPS/W is null. */
START_TEST(json_zero_energy) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f,
                "name: free\npe: {mac_energy: 0}\nlevels:\n"
                "  - {name: Buffer, kind: regfile, energy: {read: 0, write: 0}}\n",
                CONV, "mapping:\n  - level: Buffer\n    temporal: [P: 16, R: 3]\n");
    ut_run(&f, false);
    char *text = json_of(&f);
    ut_only_json_words(text);
    cJSON *root = parse(text);
    const cJSON *sm = obj(root, "summary");
    ck_assert(num(sm, "energy_pj") == 0);
    ck_assert(num(sm, "pj_per_mac") == 0);
    ck_assert(cJSON_IsNull(obj(sm, "tops_per_watt")));
    ck_assert(num(sm, "power_w") == 0);
    cJSON_Delete(root);
    free(text);
    ut_free(&f);
}
END_TEST

START_TEST(table_energy_line) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f, ARCH2, CONV, MAP2);
    ut_run(&f, false);
    ef_run_meta m = {.arch_file = "a", .workload_file = "w", .mapping_file = "m",
                     .engine = "step", .fold_model = "overlap"};
    const ef_result *rs[1] = {f.res};
    char *t = ef_report_table(rs, 1, &m);
    ck_assert_ptr_nonnull(t);
    double total = 462.5 + 197 * REF_MAC / 2 + 48 * 0.23;
    char want[160];
    snprintf(want, sizeof want, "energy       %.6g pJ  (%.4g pJ/MAC, %.4g TOPS/W)", total,
             total / 48, 96 / total);
    ck_assert_msg(strstr(t, want), "no \"%s\" in:\n%s", want, t);
    snprintf(want, sizeof want, "energy split MAC %.1f%%, MainMemory %.1f%%, Buffer %.1f%%\n",
             100 * 48 * 0.23 / total, 100 * 462.5 / total, 100 * 197 * REF_MAC / 2 / total);
    ck_assert_msg(strstr(t, want), "no \"%s\" in:\n%s", want, t);
    free(t);
    ut_free(&f);
}
END_TEST

static Suite *energy_suite(void) {
    Suite *s = suite_create("energy");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, table_points);
    tcase_add_test(tc, table_interpolation);
    tcase_add_test(tc, mac_rule);
    tcase_add_test(tc, storage_rules);
    suite_add_tcase(s, tc);
    tc = tcase_create("runs");
    tcase_add_test(tc, two_level_default_table);
    tcase_add_test(tc, overrides_win);
    tcase_add_test(tc, partial_override);
    tcase_add_test(tc, precision_scaling);
    tcase_add_test(tc, noc_table);
    tcase_add_test(tc, noc_override);
    tcase_add_test(tc, eyeriss_normalized);
    tcase_add_test(tc, float_arithmetic);
    tcase_add_test(tc, bad_arithmetic);
    tcase_add_test(tc, non_mac_ops);
    suite_add_tcase(s, tc);
    tc = tcase_create("rates");
    tcase_add_test(tc, rates_formulas);
    tcase_add_test(tc, rates_degenerate);
    suite_add_tcase(s, tc);
    tc = tcase_create("report");
    tcase_add_test(tc, json_energy_keys);
    tcase_add_test(tc, json_zero_run);
    tcase_add_test(tc, json_zero_energy);
    tcase_add_test(tc, table_energy_line);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return ut_run_suite(energy_suite());
}
