/* Unit tests of the sim stage: small mapped nests whose access counts
 * and cycles are worked out by hand (closed forms in P, R, K, ... or
 * brute-force loops over the iteration space written here), never
 * copied from einflow's output. Every run also passes the value check.
 *
 * Conventions used in the derivations (docs: DESIGN.md "Counting
 * conventions"): reads = words sent inward, fills = words arriving
 * from the parent, updates = output words written back by the child;
 * an output level's reads = updates - distinct outputs it held; a
 * multicast is one read at the source and k deliveries; totals are
 * summed over instances. */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einflow/stats.h"
#include "sim/engine.h"
#include "unit/unit_util.h"

/* ---------- spec text ---------- */

static const char *ARCH_1LEVEL_FMT =
    "name: one\n"
    "pe_array: {rows: 1, cols: 1}\n"
    "pe: {macs_per_cycle: %d}\n"
    "levels:\n"
    "  - name: Buffer\n"
    "    kind: regfile\n"
    "    capacity: 64 B\n";

/* MainMemory -> Buffer -> one MAC; read bandwidth (0 = unlimited),
 * latency and double buffering of the Buffer are parameters. */
static const char *ARCH_2LEVEL_FMT =
    "name: two\n"
    "pe_array: {rows: 1, cols: 1}\n"
    "pe: {macs_per_cycle: %d}\n"
    "levels:\n"
    "  - name: MainMemory\n"
    "    kind: sram\n"
    "    capacity: 262144 B\n"
    "    read_bandwidth: %d\n"
    "    latency: %d\n"
    "  - name: Buffer\n"
    "    kind: regfile\n"
    "    capacity: 128 B\n"
    "    double_buffer: %s\n";

static const char *CONV_FMT =
    "name: conv1d\n"
    "einsums:\n"
    "  - \"O[p] += I[p+r] * W[r]\"\n"
    "ranks: {P: %d, R: %d}\n"
    "precision: {I: 8, W: 8, O: 8}\n"
    "%s";

static const char *ARCH_PE2X2 =
    "name: pe2x2\n"
    "pe_array: {rows: 2, cols: 2}\n"
    "levels:\n"
    "  - name: GLB\n"
    "    kind: sram\n"
    "  - name: RF\n"
    "    kind: regfile\n"
    "    per_pe: true\n"
    "noc:\n"
    "  - {from: GLB, to: RF, topology: multicast, reduction: true}\n";

static const char *ARCH_3LEVEL_PE2X2 =
    "name: three\n"
    "pe_array: {rows: 2, cols: 2}\n"
    "levels:\n"
    "  - name: DRAM\n"
    "    kind: dram\n"
    "  - name: GLB\n"
    "    kind: sram\n"
    "  - name: RF\n"
    "    kind: regfile\n"
    "    per_pe: true\n"
    "noc:\n"
    "  - {from: GLB, to: RF, topology: multicast, reduction: true}\n";

static const char *MATMUL_FMT =
    "name: mm\n"
    "einsums:\n"
    "  - \"Z[m,n] += A[m,k] * B[k,n]\"\n"
    "ranks: {M: %d, N: %d, K: %d}\n";


static char *arch2(int mpc, int read_bw, int latency, bool db) {
    return ut_fmt(ARCH_2LEVEL_FMT, mpc, read_bw, latency, db ? "true" : "false");
}

static char *conv(int P, int R, const char *extra) {
    return ut_fmt(CONV_FMT, P, R, extra);
}

/* MainMemory [R] / Buffer [P] (ws) or MainMemory [P] / Buffer [R] (os) */
static char *conv_mapping(int P, int R, bool ws) {
    if (ws)
        return ut_fmt("mapping:\n"
                   "  - level: MainMemory\n    temporal: [R: %d]\n"
                   "  - level: Buffer\n    temporal: [P: %d]\n", R, P);
    return ut_fmt("mapping:\n"
               "  - level: MainMemory\n    temporal: [P: %d]\n"
               "  - level: Buffer\n    temporal: [R: %d]\n", P, R);
}

/* Builds and runs (with the value check); the strings are freed. */
static ef_result *build_run(ut_fx *f, char *arch, char *wl, char *map) {
    ut_build_ok(f, arch, wl, map);
    free(arch);
    free(wl);
    free(map);
    return ut_run(f, true);
}

/* cycles = cycles issuing MACs + stall cycles, whatever the case */
static void check_cycle_identity(const ef_result *r) {
    char *s = ut_stall_list(r);
    ck_assert_msg(r->cycles == r->compute_cycles + r->stall_total,
                  "cycles %llu != compute %llu + stalls %llu (%s)",
                  (unsigned long long)r->cycles,
                  (unsigned long long)r->compute_cycles,
                  (unsigned long long)r->stall_total, s);
    ck_assert_uint_eq(ut_stall_sum(r), r->stall_total);
    free(s);
}

#define EXPECT_TC(f, level, tensor, rd, fl, up)                                 \
    do {                                                                       \
        const ef_tensor_counters *c_ = ut_tc(f, level, tensor);                \
        ck_assert_msg(c_->reads == (uint64_t)(rd) && c_->fills == (uint64_t)(fl) && \
                          c_->updates == (uint64_t)(up),                       \
                      "%s %s: expected reads/fills/updates %llu/%llu/%llu, "   \
                      "got %llu/%llu/%llu", level, tensor,                     \
                      (unsigned long long)(rd), (unsigned long long)(fl),      \
                      (unsigned long long)(up), (unsigned long long)c_->reads, \
                      (unsigned long long)c_->fills,                           \
                      (unsigned long long)c_->updates);                        \
    } while (0)

/* ---------- 1. conv1d on one level ---------- */

/* Every MAC reads one W and one I word from the Buffer and updates one
 * O word; O's first write per element has no read: O reads = PR - P. */
static const struct { int P, R; } one_level[] = {{16, 3}, {7, 2}, {5, 5}, {1, 4}};

START_TEST(conv1d_one_level) {
    int P = one_level[_i].P, R = one_level[_i].R;
    uint64_t macs = (uint64_t)P * (uint64_t)R;
    ut_fx f;
    ut_init(&f);
    ef_result *r = build_run(&f, ut_fmt(ARCH_1LEVEL_FMT, 1), conv(P, R, ""),
                             ut_fmt("mapping:\n  - level: Buffer\n"
                                 "    temporal: [P: %d, R: %d]\n", P, R));
    ck_assert_uint_eq(r->ops, macs);
    EXPECT_TC(&f, "Buffer", "W", macs, 0, 0);
    EXPECT_TC(&f, "Buffer", "I", macs, 0, 0);
    EXPECT_TC(&f, "Buffer", "O", macs - (uint64_t)P, 0, macs);
    ck_assert_uint_eq(ut_tc(&f, "Buffer", "W")->utilized_words, (uint64_t)R);
    ck_assert_uint_eq(ut_tc(&f, "Buffer", "I")->utilized_words, (uint64_t)(P + R - 1));
    ck_assert_uint_eq(ut_tc(&f, "Buffer", "O")->utilized_words, (uint64_t)P);
    ck_assert_uint_eq(r->cycles, macs);
    ck_assert_uint_eq(r->compute_cycles, macs);
    check_cycle_identity(r);
    ut_free(&f);
}
END_TEST

/* ---------- 2/3. conv1d on two levels, ws and os ---------- */

/* Closed forms (unlimited bandwidth, no latency):
 *  Buffer W: reads PR, fills R (each weight fetched once: ws steps
 *    through them one by one; os holds all R for the whole run)
 *  Buffer I: reads PR, fills P+R-1 (the window slides by one word per
 *    outer step, so every input word is fetched exactly once)
 *  Buffer O: updates PR, reads PR-P, fills 0 (no output tile returns)
 *  MainMemory: W reads R, I reads P+R-1, O updates P, O reads 0
 *  Buffer utilized words: ws W 1, I P, O P; os W R, I R, O 1
 *  cycles = PR. */
static const struct { int P, R; bool ws; } two_level[] = {
    {16, 3, true}, {16, 3, false}, {10, 4, true},
    {10, 4, false}, {5, 5, true},  {9, 1, false},
};

START_TEST(conv1d_two_level) {
    int P = two_level[_i].P, R = two_level[_i].R;
    bool ws = two_level[_i].ws;
    uint64_t macs = (uint64_t)P * (uint64_t)R, u = (uint64_t)P, v = (uint64_t)R;
    ut_fx f;
    ut_init(&f);
    ef_result *r = build_run(&f, arch2(1, 0, 0, false), conv(P, R, ""),
                             conv_mapping(P, R, ws));
    ck_assert_uint_eq(r->ops, macs);
    EXPECT_TC(&f, "Buffer", "W", macs, v, 0);
    EXPECT_TC(&f, "Buffer", "I", macs, u + v - 1, 0);
    EXPECT_TC(&f, "Buffer", "O", macs - u, 0, macs);
    EXPECT_TC(&f, "MainMemory", "W", v, 0, 0);
    EXPECT_TC(&f, "MainMemory", "I", u + v - 1, 0, 0);
    EXPECT_TC(&f, "MainMemory", "O", 0, 0, u);
    ck_assert_uint_eq(ut_tc(&f, "Buffer", "W")->utilized_words, ws ? 1 : v);
    ck_assert_uint_eq(ut_tc(&f, "Buffer", "I")->utilized_words, ws ? u : v);
    ck_assert_uint_eq(ut_tc(&f, "Buffer", "O")->utilized_words, ws ? u : 1);
    ck_assert_uint_eq(r->cycles, macs);
    check_cycle_identity(r);
    ut_free(&f);
}
END_TEST

/* Reference case 4 (Timeloop exercise 2): O[k,p] += I[p+r] * W[k,r],
 * K=32, P=16, R=3; MainMemory [K:16, P:16], Buffer [K:2, R:3].
 *  W tile (2x3) changes only when K steps: fills 16 * 6 = 96 = K*R.
 *  I tile p..p+2: per K step 3 + 15 new words; when K steps, p jumps
 *    back from 15 to 0 (no overlap): 16 * 18 = 288.
 *  O tile (2 outputs) leaves at every P step: 16*16*2 = 512 = K*P
 *    updates at MainMemory; Buffer O updates 1536, reads 1536 - 512. */
START_TEST(conv1d_tiled_channels) {
    ut_fx f;
    ut_init(&f);
    ef_result *r = build_run(
        &f, arch2(1, 0, 0, false),
        strdup("name: conv1d_k\n"
               "einsums:\n  - \"O[k,p] += I[p+r] * W[k,r]\"\n"
               "ranks: {K: 32, P: 16, R: 3}\n"),
        strdup("mapping:\n"
               "  - level: MainMemory\n    temporal: [K: 16, P: 16]\n"
               "  - level: Buffer\n    temporal: [K: 2, R: 3]\n"));
    uint64_t K = 32, P = 16, R = 3, macs = K * P * R;
    ck_assert_uint_eq(r->ops, macs);
    EXPECT_TC(&f, "Buffer", "W", macs, K * R, 0);
    EXPECT_TC(&f, "Buffer", "I", macs, (K / 2) * (3 + (P - 1)), 0);
    EXPECT_TC(&f, "Buffer", "O", macs - K * P, 0, macs);
    EXPECT_TC(&f, "MainMemory", "W", K * R, 0, 0);
    EXPECT_TC(&f, "MainMemory", "I", (K / 2) * (3 + (P - 1)), 0, 0);
    EXPECT_TC(&f, "MainMemory", "O", 0, 0, K * P);
    ck_assert_uint_eq(r->cycles, macs);
    check_cycle_identity(r);
    ut_free(&f);
}
END_TEST

/* ---------- multicast on a 2x2 PE array ---------- */

/* Z[m,n] += A[m,k] * B[k,n], M = N = 2 on PE rows/cols, K = 4
 * temporal. PE (m,n) needs A[m,0..3], B[0..3,n], Z[m,n].
 *  GLB A reads = M*K = 8: each A word is read once and multicast to
 *    the N = 2 PEs of its row; B likewise, K*N = 8.
 *  RF A fills = M*N*K = 16 (4 per PE), RF A reads = MACs = 16.
 *  NoC: words sent = 8 + 8, deliveries = 16 + 16.
 *  Z: each PE owns one output (no sharing): GLB Z updates = M*N = 4,
 *    RF Z updates = 16, RF Z reads = 16 - 4 (first write per PE).
 *  cycles = K = 4, utilization 1.
 * Variants: K loop at the RF or at the GLB (RF tile of one k); and A
 * bypassing the RF (streamed from the GLB at each step: per step the
 * two A[m,k] words are read once and delivered to 4 PEs). */
static const struct {
    const char *name, *map;
    bool rf_keeps_a;
} mm_cases[] = {
    {"K at RF",
     "mapping:\n"
     "  - level: GLB\n    spatial: {rows: [M: 2], cols: [N: 2]}\n"
     "  - level: RF\n    temporal: [K: 4]\n", true},
    {"K at GLB",
     "mapping:\n"
     "  - level: GLB\n    temporal: [K: 4]\n"
     "    spatial: {rows: [M: 2], cols: [N: 2]}\n"
     "  - level: RF\n", true},
    {"A streams",
     "mapping:\n"
     "  - level: GLB\n    spatial: {rows: [M: 2], cols: [N: 2]}\n"
     "  - level: RF\n    bypass: [A]\n    temporal: [K: 4]\n", false},
};

START_TEST(matmul_multicast) {
    const uint64_t M = 2, N = 2, K = 4, macs = M * N * K;
    ut_fx f;
    ut_init(&f);
    ef_result *r = build_run(&f, strdup(ARCH_PE2X2), ut_fmt(MATMUL_FMT, 2, 2, 4),
                             strdup(mm_cases[_i].map));
    ck_assert_uint_eq(r->ops, macs);
    EXPECT_TC(&f, "GLB", "A", M * K, 0, 0);
    EXPECT_TC(&f, "GLB", "B", K * N, 0, 0);
    EXPECT_TC(&f, "GLB", "Z", 0, 0, M * N);
    if (mm_cases[_i].rf_keeps_a) {
        EXPECT_TC(&f, "RF", "A", macs, M * N * K, 0);
        ck_assert_uint_eq(ut_tc(&f, "RF", "A")->max_reads, K);
        ck_assert_uint_eq(ut_tc(&f, "RF", "A")->max_fills, K);
    }
    EXPECT_TC(&f, "RF", "B", macs, M * N * K, 0);
    EXPECT_TC(&f, "RF", "Z", macs - M * N, 0, macs);
    ck_assert_uint_eq(r->noc.words_sent, M * K + K * N);
    ck_assert_uint_eq(r->noc.deliveries, 2 * M * N * K);
    ck_assert_uint_eq(r->noc.reductions, 0);
    ck_assert_uint_eq(r->cycles, K);
    check_cycle_identity(r);
    ut_free(&f);
}
END_TEST

/* ---------- read sharing by topology ---------- */

/* O[p] += I[p+r] * W[r], P = R = 2, one step: GLB rows [P: 2], cols
 * [R: 2], no per-PE level, so every operand streams from the GLB. PE
 * (p, r) needs I[p+r]: the words 0, 1, 1, 2, with 1 shared by the two
 * PEs of an anti-diagonal. A multicast bus reads it once for both (3
 * reads). A systolic array takes words at its edges and forwards them
 * along a row or a column: I varies along both, so no neighbour can
 * pass it on and every PE's word is a read of its own (4), as on a
 * unicast mesh. W[r] varies along the columns only, so a word entering
 * a column's edge serves the column (2 reads; unicast 4); O[p] is
 * reduced across R (2 updates, 2 reductions). Deliveries 4 + 4 in every
 * topology. */
static const struct {
    const char *topology;
    uint64_t i_reads;
} share_cases[] = {{"multicast", 3}, {"systolic", 4}, {"unicast", 4}};

START_TEST(read_sharing_by_topology) {
    ut_fx f;
    ut_init(&f);
    ef_result *r = build_run(&f,
                             ut_fmt("name: grid\npe_array: {rows: 2, cols: 2}\n"
                                    "levels:\n  - name: GLB\n    kind: sram\n"
                                    "noc:\n  - {from: GLB, to: PE, topology: %s, "
                                    "reduction: true}\n",
                                    share_cases[_i].topology),
                             conv(2, 2, ""),
                             strdup("mapping:\n  - level: GLB\n"
                                    "    spatial: {rows: [P: 2], cols: [R: 2]}\n"));
    uint64_t w_reads = strcmp(share_cases[_i].topology, "unicast") ? 2 : 4;
    EXPECT_TC(&f, "GLB", "I", share_cases[_i].i_reads, 0, 0);
    EXPECT_TC(&f, "GLB", "W", w_reads, 0, 0);
    EXPECT_TC(&f, "GLB", "O", 0, 0, 2);
    ck_assert_uint_eq(r->noc.words_sent, share_cases[_i].i_reads + w_reads);
    ck_assert_uint_eq(r->noc.deliveries, 8);
    ck_assert_uint_eq(r->noc.reductions, 2);
    check_cycle_identity(r);
    ut_free(&f);
}
END_TEST

/* ---------- spatial reduction ---------- */

/* Z[m,n] += A[m,k] * B[k,n], M=2, N=2, K=4. GLB temporal [M:2],
 * rows [K:2] (k = 2*row + k0), cols [N:2]; RF temporal [K:2].
 * The two PEs of a column hold partial sums of the same Z[m,n].
 *  Drains: one per M step (2), each of 4 PE words onto 2 distinct
 *    outputs: GLB Z updates = M*N = 4, reductions = (2-1) * 2 * 2 = 4.
 *  RF Z: updates = MACs = 16; every PE starts each Z word empty:
 *    4 PEs * 2 words = 8 first writes, reads = 16 - 8.
 *  A[m,k]: PEs of one row share k-range, multicast: GLB reads M*K = 8,
 *    RF fills 4 PEs * 2 words * 2 M steps = 16.
 *  B[k,n]: tile independent of m, one PE per word: GLB reads K*N = 8,
 *    RF fills 8.
 *  NoC: words sent 8 + 8, deliveries 16 + 8. cycles = M * 2 = 4. */
START_TEST(spatial_reduction) {
    ut_fx f;
    ut_init(&f);
    ef_result *r = build_run(&f, strdup(ARCH_PE2X2), ut_fmt(MATMUL_FMT, 2, 2, 4),
                             strdup("mapping:\n"
                                    "  - level: GLB\n    temporal: [M: 2]\n"
                                    "    spatial: {rows: [K: 2], cols: [N: 2]}\n"
                                    "  - level: RF\n    temporal: [K: 2]\n"));
    ck_assert_uint_eq(r->ops, 16);
    EXPECT_TC(&f, "GLB", "Z", 0, 0, 4);
    EXPECT_TC(&f, "RF", "Z", 8, 0, 16);
    EXPECT_TC(&f, "GLB", "A", 8, 0, 0);
    EXPECT_TC(&f, "RF", "A", 16, 16, 0);
    EXPECT_TC(&f, "GLB", "B", 8, 0, 0);
    EXPECT_TC(&f, "RF", "B", 16, 8, 0);
    ck_assert_uint_eq(r->noc.reductions, 4);
    ck_assert_uint_eq(r->noc.words_sent, 16);
    ck_assert_uint_eq(r->noc.deliveries, 24);
    ck_assert_uint_eq(r->cycles, 4);
    check_cycle_identity(r);
    ut_free(&f);
}
END_TEST

/* Spatial reduction with refilled partial sums (DESIGN.md, item 4).
 * GLB temporal [K:2, M:2] (k = 2*k1 + row), rows [K:2], cols [N:2];
 * RF keeps one Z word and no loops. Order: k1 outer, m inner, so each
 * Z[m,n] leaves the RFs twice (after k1 = 0 and at the end) and comes
 * back once (k1 = 1).
 *  Drains: 4 events (k1 x m), each 4 PE words onto 2 outputs:
 *    GLB Z updates 8, reductions 4 * (4 - 2) = 8.
 *  Refill: a returning sum enters its reduction group once: RF Z fills
 *    = M*N = 4 (one PE per group), GLB Z reads 4 = updates - distinct.
 *  RF Z: updates = MACs = 16; first writes: 8 in the first sweep, 4
 *    in the second (the PE of each group that got no fill): reads =
 *    16 - 12 = 4. */
START_TEST(spatial_reduction_refill) {
    ut_fx f;
    ut_init(&f);
    ef_result *r = build_run(&f, strdup(ARCH_PE2X2), ut_fmt(MATMUL_FMT, 2, 2, 4),
                             strdup("mapping:\n"
                                    "  - level: GLB\n    temporal: [K: 2, M: 2]\n"
                                    "    spatial: {rows: [K: 2], cols: [N: 2]}\n"
                                    "  - level: RF\n"));
    ck_assert_uint_eq(r->ops, 16);
    EXPECT_TC(&f, "GLB", "Z", 4, 0, 8);
    EXPECT_TC(&f, "RF", "Z", 4, 4, 16);
    ck_assert_uint_eq(r->noc.reductions, 8);
    ck_assert_uint_eq(r->cycles, 4);
    check_cycle_identity(r);
    ut_free(&f);
}
END_TEST

/* ---------- imperfect factors ---------- */

/* P = 7 as [P:2] at MainMemory and [P:4] at the Buffer: tiles p 0..3
 * and 4..6. MACs = 7*R exactly; Buffer I fills = 6 + 3 (tile 2 needs
 * I 4..8 and holds 4..5): every input word once, P+R-1 = 9; O leaves
 * as 4 then 3 words: MainMemory O updates 7; cycles = MACs. */
START_TEST(imperfect_factor) {
    ut_fx f;
    ut_init(&f);
    ef_result *r = build_run(&f, arch2(1, 0, 0, false), conv(7, 3, ""),
                             strdup("mapping:\n"
                                    "  - level: MainMemory\n    temporal: [P: 2]\n"
                                    "  - level: Buffer\n    temporal: [P: 4, R: 3]\n"));
    ck_assert_uint_eq(r->ops, 21);
    EXPECT_TC(&f, "Buffer", "W", 21, 3, 0);
    EXPECT_TC(&f, "Buffer", "I", 21, 9, 0);
    EXPECT_TC(&f, "Buffer", "O", 14, 0, 21);
    EXPECT_TC(&f, "MainMemory", "I", 9, 0, 0);
    EXPECT_TC(&f, "MainMemory", "O", 0, 0, 7);
    ck_assert_uint_eq(r->cycles, 21);
    check_cycle_identity(r);
    ut_free(&f);
}
END_TEST

/* M = 3 on 2 PE rows: DRAM [M:2] x rows [M:2]; the second DRAM step
 * keeps one row busy. MACs = 3*2*4 = 24; every output written once to
 * DRAM (M*N = 6); GLB A reads M*K = 12 (multicast along rows); steps =
 * 2 DRAM steps x 4 = 8 cycles. */
START_TEST(imperfect_spatial) {
    ut_fx f;
    ut_init(&f);
    ef_result *r = build_run(&f, strdup(ARCH_3LEVEL_PE2X2), ut_fmt(MATMUL_FMT, 3, 2, 4),
                             strdup("mapping:\n"
                                    "  - level: DRAM\n    temporal: [M: 2]\n"
                                    "  - level: GLB\n"
                                    "    spatial: {rows: [M: 2], cols: [N: 2]}\n"
                                    "  - level: RF\n    temporal: [K: 4]\n"));
    ck_assert_uint_eq(r->ops, 24);
    EXPECT_TC(&f, "RF", "Z", 24 - 6, 0, 24);
    EXPECT_TC(&f, "GLB", "A", 12, 12, 0);
    EXPECT_TC(&f, "RF", "A", 24, 24, 0);
    ck_assert_uint_eq(ut_tc(&f, "DRAM", "Z")->updates, 6);
    ck_assert_uint_eq(r->cycles, 8);
    check_cycle_identity(r);
    ut_free(&f);
}
END_TEST

/* ---------- padding ---------- */

/* conv1d P=16, R=3 with I padded by 1 on each side: I is stored as 16
 * words at positions p + r - 1. Counts derived by brute force here:
 * innermost I reads = MACs minus the accesses that land in padding;
 * Buffer I fills = words of each tile not held by the previous one. */
static uint64_t pad_reads(int P, int R, int pad, int extent) {
    uint64_t n = 0;
    for (int p = 0; p < P; p++)
        for (int r = 0; r < R; r++) {
            int x = p + r - pad;
            n += x >= 0 && x < extent;
        }
    return n;
}

static uint64_t pad_fills(int P, int R, int pad, int extent, bool ws) {
    bool held[64] = {false}, need[64];
    uint64_t fills = 0;
    int outer = ws ? R : P, inner = ws ? P : R;
    for (int a = 0; a < outer; a++) {
        memset(need, 0, sizeof need);
        for (int b = 0; b < inner; b++) {
            int p = ws ? b : a, r = ws ? a : b, x = p + r - pad;
            if (x >= 0 && x < extent) need[x] = true;
        }
        for (int x = 0; x < extent; x++) {
            fills += need[x] && !held[x];
            held[x] = need[x];
        }
    }
    return fills;
}

START_TEST(padding_one_level) {
    ut_fx f;
    ut_init(&f);
    ef_result *r = build_run(&f, ut_fmt(ARCH_1LEVEL_FMT, 1), conv(16, 3, "padding: {I: [1]}\n"),
                             strdup("mapping:\n  - level: Buffer\n"
                                    "    temporal: [P: 16, R: 3]\n"));
    uint64_t reads = pad_reads(16, 3, 1, 16);
    ck_assert_uint_eq(reads, 46); /* p=0,r=0 and p=15,r=2 fall in padding */
    ck_assert_uint_eq(r->ops, 48);
    EXPECT_TC(&f, "Buffer", "I", reads, 0, 0);
    EXPECT_TC(&f, "Buffer", "W", 48, 0, 0);
    EXPECT_TC(&f, "Buffer", "O", 32, 0, 48);
    ck_assert_uint_eq(ut_tc(&f, "Buffer", "I")->utilized_words, 16);
    ut_free(&f);
}
END_TEST

static const struct { int P, R, pad; bool ws; } pad_cases[] = {
    {16, 3, 1, true}, {16, 3, 1, false}, {8, 5, 2, true}, {8, 5, 2, false},
};

START_TEST(padding_two_level) {
    int P = pad_cases[_i].P, R = pad_cases[_i].R, pad = pad_cases[_i].pad;
    bool ws = pad_cases[_i].ws;
    int extent = P + R - 1 - 2 * pad;
    char padding[64];
    snprintf(padding, sizeof padding, "padding: {I: [%d]}\n", pad);
    ut_fx f;
    ut_init(&f);
    ef_result *r = build_run(&f, arch2(1, 0, 0, false), conv(P, R, padding),
                             conv_mapping(P, R, ws));
    uint64_t macs = (uint64_t)P * (uint64_t)R;
    uint64_t reads = pad_reads(P, R, pad, extent);
    uint64_t fills = pad_fills(P, R, pad, extent, ws);
    ck_assert_uint_eq(r->ops, macs);
    EXPECT_TC(&f, "Buffer", "I", reads, fills, 0);
    EXPECT_TC(&f, "MainMemory", "I", fills, 0, 0);
    EXPECT_TC(&f, "Buffer", "W", macs, (uint64_t)R, 0);
    EXPECT_TC(&f, "Buffer", "O", macs - (uint64_t)P, 0, macs);
    check_cycle_identity(r);
    ut_free(&f);
}
END_TEST

/* ---------- bandwidth ---------- */

/* conv1d P=16, R=3, MainMemory read bandwidth 1 B/cycle, 8-bit words.
 * Tile-granular model (DESIGN.md "Timing model"): a fill of b bytes
 * takes b cycles; without double buffering the next fill starts only
 * when the current tile is dead; with it, it overlaps the compute.
 *  os (MainMemory [P:16], Buffer [R:3]): first fill W 3 + I 3 = 6 B,
 *    then 15 fills of 1 I word; 3 MACs per tile.
 *    single: 6 + 3 + 15 * (1 + 3) = 69;  double: 6 + 48 = 54.
 *  ws (MainMemory [R:3], Buffer [P:16]): first fill W 1 + I 16 = 17 B,
 *    then 2 fills of W 1 + I 1; 16 MACs per tile.
 *    single: 17 + 16 + 2 * (2 + 16) = 69; double: 17 + 48 = 65. */
static const struct { bool ws; uint64_t single, dbl; } bw_cases[] = {
    {false, 69, 54},
    {true, 69, 65},
};

START_TEST(bandwidth_stalls) {
    bool ws = bw_cases[_i].ws;
    uint64_t cyc[2];
    for (int db = 0; db < 2; db++) {
        ut_fx f;
        ut_init(&f);
        ef_result *r = build_run(&f, arch2(1, 1, 0, db), conv(16, 3, ""),
                                 conv_mapping(16, 3, ws));
        char *s = ut_stall_list(r);
        ck_assert_uint_eq(r->ops, 48);
        ck_assert_uint_eq(r->compute_cycles, 48);
        check_cycle_identity(r);
        if (!db) {
            ck_assert_uint_gt(r->cycles, 48);
            ck_assert_msg(ut_stall(r, "MainMemory.read") > 0,
                          "no MainMemory.read stall: %s", s);
        }
        /* model-exact cycle counts, derived above */
        ck_assert_msg(r->cycles == (db ? bw_cases[_i].dbl : bw_cases[_i].single),
                      "%s, double_buffer %d: expected %llu cycles, got %llu (%s)",
                      ws ? "ws" : "os", db,
                      (unsigned long long)(db ? bw_cases[_i].dbl : bw_cases[_i].single),
                      (unsigned long long)r->cycles, s);
        cyc[db] = r->cycles;
        free(s);
        ut_free(&f);
    }
    ck_assert_uint_le(cyc[1], cyc[0]);
}
END_TEST

/* prefetch: fills overlap like double_buffer, but the staged tile is
 * not counted in the level's capacity. conv1d ws, P=40, R=3, MainMemory
 * 1 B/cycle: the Buffer tile is I 40 + W 1 + O 40 = 81 B of 128, so
 * double_buffer (162 B) does not fit and prefetch does. First fill
 * 41 B, then 2 fills of W 1 + I 1; 40 MACs per tile:
 *   prefetch: 41 + 3 * 40 = 161;  neither: 41 + 40 + 2 * (2 + 40) = 165. */
START_TEST(prefetch_overlaps_without_halving) {
    const char *how[] = {"prefetch: true", "double_buffer: false", "double_buffer: true"};
    const uint64_t want[] = {161, 165, 0};
    for (int k = 0; k < 3; k++) {
        ut_fx f;
        ut_init(&f);
        char *arch = arch2(1, 1, 0, false);
        char *at = strstr(arch, "double_buffer: false");
        ck_assert_ptr_nonnull(at);
        char *a2 = ut_fmt("%.*s%s\n", (int)(at - arch), arch, how[k]);
        char *wl = conv(40, 3, ""), *map = conv_mapping(40, 3, true);
        ef_nest *n = ut_build(&f, a2, wl, map);
        if (!want[k]) {
            ck_assert_ptr_null(n);
            char *t = ut_render(&f);
            ck_assert_msg(strstr(t, "double-buffered") || strstr(t, "double_buffer"),
                          "capacity error should say why: %s", t);
            free(t);
        } else {
            ck_assert_ptr_nonnull(n);
            ef_result *r = ut_run(&f, true);
            check_cycle_identity(r);
            ck_assert_uint_eq(r->compute_cycles, 120);
            ck_assert_msg(r->cycles == want[k], "%s: expected %llu cycles, got %llu", how[k],
                          (unsigned long long)want[k], (unsigned long long)r->cycles);
        }
        free(arch);
        free(a2);
        free(wl);
        free(map);
        ut_free(&f);
    }
}
END_TEST

/* ---------- latency ---------- */

/* conv1d ws (3 tiles of 16 MACs) with MainMemory latency L and
 * unlimited bandwidth: every fill costs L cycles.
 *  single buffer: 3 * (L + 16);  double: L + 48 (later fills, L <= 16,
 *  hide behind the 16 MACs of the tile in use). */
static const int lat_cases[] = {1, 10, 16};

START_TEST(latency_first_fill) {
    int L = lat_cases[_i];
    uint64_t base;
    {
        ut_fx f;
        ut_init(&f);
        ef_result *r = build_run(&f, arch2(1, 0, 0, false), conv(16, 3, ""),
                                 conv_mapping(16, 3, true));
        base = r->cycles;
        ut_free(&f);
    }
    ck_assert_uint_eq(base, 48);
    for (int db = 0; db < 2; db++) {
        ut_fx f;
        ut_init(&f);
        ef_result *r = build_run(&f, arch2(1, 0, L, db), conv(16, 3, ""),
                                 conv_mapping(16, 3, true));
        ck_assert_uint_ge(r->cycles, base + (uint64_t)L);
        /* the port has no bandwidth limit: the wait is the latency's */
        ck_assert_uint_ge(ut_stall(r, "MainMemory.latency"), (uint64_t)L);
        ck_assert_uint_eq(ut_stall(r, "MainMemory.read"), 0);
        check_cycle_identity(r);
        uint64_t want = db ? (uint64_t)L + 48 : 3 * ((uint64_t)L + 16);
        ck_assert_msg(r->cycles == want,
                      "latency %d, double_buffer %d: expected %llu cycles, got %llu",
                      L, db, (unsigned long long)want, (unsigned long long)r->cycles);
        ut_free(&f);
    }
}
END_TEST

/* ---------- MACs per cycle ---------- */

/* k MACs per cycle: compute cycles = ceil(MACs / k) when operands are
 * always resident (one level, or ws with tiles of an even length). */
static const struct { int P, R, mpc; bool two; uint64_t cycles; } mpc_cases[] = {
    {16, 3, 2, false, 24}, /* 48 / 2 */
    {7, 3, 2, false, 11},  /* ceil(21 / 2) */
    {7, 3, 4, false, 6},   /* ceil(21 / 4) */
    {16, 3, 2, true, 24},  /* ws: 3 tiles of 16 MACs, 8 cycles each */
};

START_TEST(macs_per_cycle) {
    int P = mpc_cases[_i].P, R = mpc_cases[_i].R, k = mpc_cases[_i].mpc;
    ut_fx f;
    ut_init(&f);
    ef_result *r;
    if (mpc_cases[_i].two)
        r = build_run(&f, arch2(k, 0, 0, false), conv(P, R, ""), conv_mapping(P, R, true));
    else
        r = build_run(&f, ut_fmt(ARCH_1LEVEL_FMT, k), conv(P, R, ""),
                      ut_fmt("mapping:\n  - level: Buffer\n"
                          "    temporal: [P: %d, R: %d]\n", P, R));
    ck_assert_uint_eq(r->ops, (uint64_t)(P * R));
    ck_assert_uint_eq(r->compute_cycles, mpc_cases[_i].cycles);
    ck_assert_uint_eq(r->cycles, mpc_cases[_i].cycles);
    check_cycle_identity(r);
    ut_free(&f);
}
END_TEST

/* ---------- value check catches nothing on a cascade either ---------- */

/* A two-Einsum cascade: each Einsum's nest runs and checks its values
 * against the direct evaluation; ops = iteration points. */
START_TEST(cascade_values) {
    ut_fx f;
    ut_init(&f);
    char *arch = ut_fmt(ARCH_1LEVEL_FMT, 1);
    ut_build_ok(&f, arch,
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
    free(arch);
    ck_assert_int_eq(f.w->einsum_count, 2);
    f.values = ef_values_create(f.w, 11);
    ck_assert_ptr_nonnull(f.values);
    ef_sim_options o = {.engine = EF_ENGINE_STEP, .fold_model = EF_FOLD_OVERLAP,
                        .check_values = true, .seed = 11};
    for (int e = 0; e < 2; e++) {
        ef_nest *n = ef_nest_build(f.arch, f.w, f.mspec, e, f.diags);
        ck_assert_ptr_nonnull(n);
        ef_status st;
        ef_result *r = ef_sim_run(n, &o, f.values, f.diags, &st);
        char *s = ut_render(&f);
        ck_assert_msg(st == EF_OK && r, "einsum %d: status %d\n%s", e, (int)st, s);
        free(s);
        ck_assert(r->values_checked);
        ck_assert_uint_eq(r->ops, 12);
        ck_assert_uint_eq(r->values_compared, 4);
        check_cycle_identity(r);
        ef_result_destroy(r);
        ef_nest_destroy(n);
    }
    ut_free(&f);
}
END_TEST

/* ---------- recurrences ---------- */

/* R[m+1,p] = 2 R[m,p] + X[m,p] from R[0,p] = 1, worked out by hand for
 * X = [[1,-1],[2,3],[-4,0]]: R[1] = [3,1], R[2] = [8,5], R[3] = [12,10].
 * p runs on two PEs, m in time: at one level, or split over two (the
 * RF's tiles of two steps drain and refill around the recurrence). The
 * counts are those of the two operands of R, hand-derived: every old
 * value read once and every new one written once at the outermost
 * level, 6 = M x P each. */
static const char *const recurrence_maps[] = {
    "mapping:\n  - level: DRAM\n    temporal: [M: 3]\n    spatial: {cols: [P: 2]}\n"
    "  - level: RF\n",
    "mapping:\n  - level: DRAM\n    temporal: [M: 2]\n    spatial: {cols: [P: 2]}\n"
    "  - level: RF\n    temporal: [M: 2]\n",
};

START_TEST(recurrence_values_by_hand) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f,
                "name: two\npe_array: {rows: 1, cols: 2}\nlevels:\n"
                "  - {name: DRAM, kind: dram}\n  - {name: RF, kind: regfile, per_pe: true}\n",
                "name: r\neinsums: [\"R[m+1,p] = R[m,p] * 2 + X[m,p]\"]\n"
                "ranks: {M: 3, P: 2}\ninit: {R: 1}\n",
                recurrence_maps[_i]);
    ck_assert_int_eq(f.nest->op_count, 3); /* R (old), X, R (new) */
    f.values = ef_values_create(f.w, 7);
    ck_assert_ptr_nonnull(f.values);
    int X = ef_workload_tensor_id(f.w, "X"), R = ef_workload_tensor_id(f.w, "R");
    const double x[6] = {1, -1, 2, 3, -4, 0};
    memcpy(f.values->data[X], x, sizeof x);
    ef_sim_options o = {.engine = EF_ENGINE_STEP, .fold_model = EF_FOLD_OVERLAP,
                        .check_values = true, .seed = 7};
    f.res = ef_sim_run(f.nest, &o, f.values, f.diags, &f.status);
    char *all = ut_render(&f);
    ck_assert_msg(f.res && f.status == EF_OK, "status %d\n%s", (int)f.status, all);
    free(all);
    const double want[8] = {1, 1, 3, 1, 8, 5, 12, 10};
    for (int q = 0; q < 8; q++)
        ck_assert_msg(f.values->data[R][q] == want[q], "R[%d,%d] = %g, expected %g", q / 2,
                      q % 2, f.values->data[R][q], want[q]);
    ck_assert(f.res->values_checked);
    ck_assert_uint_eq(f.res->values_compared, 6); /* steps 1..3; step 0 is given */
    ck_assert_uint_eq(f.res->ops, 6);
    int dram = ut_level(f.nest, "DRAM");
    int old_r = f.nest->einsum->recurrence_input, new_r = f.nest->out_op;
    ck_assert_uint_eq(f.res->levels[dram].ops[old_r].reads, 6);
    ck_assert_uint_eq(f.res->levels[dram].ops[new_r].updates, 6);
    ck_assert_uint_eq(f.res->levels[dram].ops[ut_op(f.nest, "X")].reads, 6);
    check_cycle_identity(f.res);
    ut_free(&f);
}
END_TEST

/* An initial value of -inf through max and exp, as in online softmax:
 * M[k+1] = max(M[k], X[k]) from -inf; C[k] = exp(-max(X[k] - M[k], 0))
 * is exp(M[k] - M[k+1]), 0 at k = 0. */
START_TEST(recurrence_minus_infinity) {
    ut_fx f;
    ut_init(&f);
    char *arch = ut_fmt(ARCH_1LEVEL_FMT, 1);
    ut_build_ok(&f, arch,
                "name: rm\neinsums:\n"
                "  - \"M[k+1] = max(M[k], X[k])\"\n"
                "  - \"C[k] = exp(-max(X[k] - M[k], 0))\"\n"
                "ranks: {K: 3}\ninit: {M: -inf}\n",
                "mappings:\n"
                "  - einsum: M\n    mapping:\n      - level: Buffer\n        temporal: [K: 3]\n"
                "  - einsum: C\n    mapping:\n      - level: Buffer\n        temporal: [K: 3]\n");
    free(arch);
    f.values = ef_values_create(f.w, 3);
    ck_assert_ptr_nonnull(f.values);
    int X = ef_workload_tensor_id(f.w, "X"), M = ef_workload_tensor_id(f.w, "M"),
        C = ef_workload_tensor_id(f.w, "C");
    const double x[3] = {2, 5, 1};
    memcpy(f.values->data[X], x, sizeof x);
    ef_sim_options o = {.engine = EF_ENGINE_EVENT, .check_values = true, .seed = 3};
    for (int e = 0; e < 2; e++) {
        ef_nest *n = ef_nest_build(f.arch, f.w, f.mspec, e, f.diags);
        ck_assert_ptr_nonnull(n);
        ef_status st;
        ef_result *r = ef_sim_run(n, &o, f.values, f.diags, &st);
        ck_assert_msg(st == EF_OK && r, "einsum %d: status %d", e, (int)st);
        ef_result_destroy(r);
        ef_nest_destroy(n);
    }
    const double *m = f.values->data[M], *c = f.values->data[C];
    ck_assert(isinf(m[0]) && m[0] < 0);
    ck_assert(m[1] == 2 && m[2] == 5 && m[3] == 5);
    ck_assert(c[0] == 0);                      /* exp(-inf - 2)       */
    ck_assert(fabs(c[1] - exp(-3.0)) < 1e-15); /* exp(2 - 5)          */
    ck_assert(c[2] == 1);                      /* the maximum holds   */
    ut_free(&f);
}
END_TEST

/* ---------- the value check's reference ---------- */

/* ef_direct_eval against the plainest evaluation there is: every point
 * of the rank box, every index through ef_operand_word. Strides,
 * dilation, a negative coefficient, padding on both sides, a rank the
 * output ignores turning fastest, max= and + with padding reading 0. */
typedef struct {
    const char *einsum, *ranks, *padding, *loops;
} direct_case;

static const direct_case direct_cases[] = {
    {"O[m,p,q] += I[c,p*2+r,q+s*2] * F[m,c,r,s]", "{M: 3, C: 2, P: 5, Q: 4, R: 3, S: 2}",
     "{I: [0, [1, 2], [2, 0]]}", "[M: 3, C: 2, P: 5, Q: 4, R: 3, S: 2]"},
    {"O[p] += I[p-r] * W[r]", "{P: 9, R: 4}", "{I: [[0, 3]]}", "[R: 4, P: 9]"},
    {"O[m,p] max= I[c,p+r] + F[m,c,r]", "{M: 2, C: 3, P: 6, R: 3}", "{I: [0, [1, 1]]}",
     "[P: 6, M: 2, R: 3, C: 3]"},
    {"Z[m,n] += A[m,k] * B[k,n]", "{M: 3, N: 2, K: 7}", "{}", "[M: 3, N: 2, K: 7]"},
};

START_TEST(direct_eval_matches_naive) {
    const direct_case *c = &direct_cases[_i];
    ut_fx f;
    ut_init(&f);
    char *wl = ut_fmt("name: d\neinsums: [\"%s\"]\nranks: %s\npadding: %s\n", c->einsum,
                      c->ranks, c->padding);
    char *map = ut_fmt("mapping:\n  - level: Mem\n    temporal: %s\n", c->loops);
    ef_nest *n = ut_build_ok(&f, "name: mem\npe_array: {rows: 1, cols: 1}\nlevels:\n"
                                 "  - name: Mem\n    kind: dram\n", wl, map);
    f.values = ef_values_create(f.w, 5);
    ck_assert_ptr_nonnull(f.values);
    double *got = ef_direct_eval(n->workload, n->einsum, f.values);
    ck_assert_ptr_nonnull(got);
    const ef_einsum *e = n->einsum;
    const ef_workload *w = n->workload;
    uint64_t words = w->tensors[e->output.tensor].words;
    double *want = malloc(sizeof(double) * words);
    ck_assert_ptr_nonnull(want);
    for (uint64_t q = 0; q < words; q++) want[q] = e->reduce == EF_REDUCE_MAX ? -INFINITY : 0;
    int64_t x[EF_MAX_RANKS] = {0};
    for (;;) {
        double in[EF_MAX_TENSORS];
        for (int i = 0; i < e->input_count; i++) {
            int64_t iw = ef_operand_word(w, &e->inputs[i], x);
            in[i] = iw < 0 ? 0.0 : f.values->data[e->inputs[i].tensor][iw];
        }
        double v = ef_einsum_eval(e, e->root, in);
        double *o = &want[ef_operand_word(w, &e->output, x)];
        if (e->reduce == EF_REDUCE_MAX) *o = v > *o ? v : *o;
        else *o += v;
        int r = w->rank_count - 1;
        while (r >= 0 && ++x[r] == (int64_t)w->rank_bounds[r]) x[r--] = 0;
        if (r < 0) break;
    }
    for (uint64_t q = 0; q < words; q++)
        ck_assert_msg(got[q] == want[q], "%s: word %llu: %g, naive %g", c->einsum,
                      (unsigned long long)q, got[q], want[q]);
    free(got);
    free(want);
    free(wl);
    free(map);
    ut_free(&f);
}
END_TEST

/* A causal mask (key > query + offset left out) in the direct
 * evaluation: whichever rank runs fastest in it (the longest), the
 * points kept are those of the naive loop that skips masked points, and
 * exactly the output words no kept point writes are masked words. */
typedef struct {
    const char *einsum, *ranks, *key, *query;
    int64_t offset;
} masked_case;

static const masked_case masked_cases[] = {
    {"S[m,p] += Q[p,e] * K[m,e]", "{M: 9, P: 4, E: 3}", "M", "P", 0}, /* key fastest */
    {"S[m,p] += Q[p,e] * K[m,e]", "{M: 4, P: 9, E: 3}", "M", "P", 2}, /* query fastest */
    {"S[m,p] += Q[p,e] * K[m,e]", "{M: 5, P: 5, E: 8}", "M", "P", 1}, /* neither */
    {"X[p] max= S[m,p] * 2", "{M: 6, P: 6}", "M", "P", 0},            /* reduced key */
    {"A[m,p] = S[m,p] / D[p]", "{M: 7, P: 3}", "M", "P", 3},
};

START_TEST(direct_eval_leaves_out_masked_points) {
    const masked_case *c = &masked_cases[_i];
    ut_fx f;
    ut_init(&f);
    char *wl = ut_fmt("name: d\neinsums: [\"%s\"]\nranks: %s\n", c->einsum, c->ranks);
    /* one loop per rank, in the order the ranks are written */
    char *map = ut_fmt("mapping:\n  - level: Mem\n    temporal: [%.*s]\n",
                       (int)strlen(c->ranks) - 2, c->ranks + 1);
    ef_nest *n = ut_build_ok(&f, "name: mem\npe_array: {rows: 1, cols: 1}\nlevels:\n"
                                 "  - name: Mem\n    kind: dram\n", wl, map);
    free(map);
    ef_workload *w = f.w;
    w->mask_key = ef_workload_rank_id(w, c->key);
    w->mask_query = ef_workload_rank_id(w, c->query);
    w->mask_offset = c->offset;
    f.values = ef_values_create(w, 3);
    ck_assert_ptr_nonnull(f.values);
    double *got = ef_direct_eval(n->workload, n->einsum, f.values);
    ck_assert_ptr_nonnull(got);
    const ef_einsum *e = n->einsum;
    uint64_t words = w->tensors[e->output.tensor].words;
    double *want = malloc(sizeof(double) * words);
    bool *kept = calloc(words, sizeof(bool));
    ck_assert(want && kept);
    for (uint64_t q = 0; q < words; q++) want[q] = e->reduce == EF_REDUCE_MAX ? -INFINITY : 0;
    int64_t x[EF_MAX_RANKS] = {0};
    for (;;) {
        int64_t ow = ef_operand_word(w, &e->output, x);
        if (x[w->mask_key] <= x[w->mask_query] + c->offset) {
            double in[EF_MAX_TENSORS];
            for (int i = 0; i < e->input_count; i++)
                in[i] = f.values->data[e->inputs[i].tensor][ef_operand_word(w, &e->inputs[i], x)];
            double v = ef_einsum_eval(e, e->root, in);
            if (e->reduce == EF_REDUCE_MAX) want[ow] = v > want[ow] ? v : want[ow];
            else if (e->reduce == EF_REDUCE_SUM) want[ow] += v;
            else want[ow] = v;
            kept[ow] = true;
        }
        int r = w->rank_count - 1;
        while (r >= 0 && ++x[r] == (int64_t)w->rank_bounds[r]) x[r--] = 0;
        if (r < 0) break;
    }
    for (uint64_t q = 0; q < words; q++) {
        ck_assert_msg(ef_output_word_masked(w, e, q) == !kept[q], "%s: word %llu masked %d",
                      c->einsum, (unsigned long long)q, (int)ef_output_word_masked(w, e, q));
        if (kept[q])
            ck_assert_msg(got[q] == want[q], "%s: word %llu: %g, naive %g", c->einsum,
                          (unsigned long long)q, got[q], want[q]);
    }
    free(got);
    free(want);
    free(kept);
    free(wl);
    ut_free(&f);
}
END_TEST

/* ---------- the cycle budget (ef_sim_options budget) ---------- */

/* conv1d os, P=16, R=3 through a 1 B/cycle MainMemory, no double
 * buffering: stalls make the cycles more than the 48 steps. The budget
 * sees the counts of pass 1 (the energy they give is the final one),
 * a budget of the run's own cycles changes nothing, and one short of
 * its 48 steps (pass 1 knows) or of its cycles (pass 2 finds out)
 * stops it with no result. */
typedef struct {
    uint64_t give;
    int calls;
    double energy_seen;
} budget_probe;

static uint64_t probe_budget(void *ctx, const ef_result *counted) {
    budget_probe *b = ctx;
    b->calls++;
    b->energy_seen = ef_stats_energy_pj(counted);
    return b->give;
}

START_TEST(budget_stops_only_past_it) {
    ut_fx f;
    ut_init(&f);
    ef_result *full = build_run(&f, arch2(1, 1, 0, false), conv(16, 3, ""),
                                conv_mapping(16, 3, false));
    uint64_t cycles = full->cycles;
    ck_assert_uint_gt(cycles, 48);
    ef_stats st;
    ef_stats_compute(full, &st);
    /* between the 48 steps and the cycles: only pass 2 can tell */
    ck_assert_uint_gt(cycles, 48 + 6);
    const uint64_t gives[] = {UINT64_MAX, cycles, 48 + (cycles - 48) / 2, 47, 0};
    for (size_t k = 0; k < UT_LEN(gives); k++) {
        budget_probe b = {.give = gives[k]};
        ef_sim_options o = {.engine = k % 2 ? EF_ENGINE_EVENT : EF_ENGINE_STEP,
                            .fold_model = EF_FOLD_OVERLAP, .seed = 7,
                            .budget = probe_budget, .budget_ctx = &b};
        ef_status status;
        ef_result *r = ef_sim_run(f.nest, &o, NULL, f.diags, &status);
        ck_assert_int_eq(b.calls, 1);
        ck_assert_msg(b.energy_seen == st.energy_pj, "budget saw %.17g pJ, the run has %.17g",
                      b.energy_seen, st.energy_pj);
        if (gives[k] >= cycles) {
            ck_assert_int_eq(status, EF_OK);
            ck_assert_ptr_nonnull(r);
            ck_assert_uint_eq(r->cycles, cycles);
            ck_assert_uint_eq(r->stall_total, full->stall_total);
            ef_result_destroy(r);
        } else {
            ck_assert_msg(status == EF_STOPPED && !r, "budget %llu of %llu cycles: status %d",
                          (unsigned long long)gives[k], (unsigned long long)cycles, (int)status);
        }
    }
    ut_free(&f);
}
END_TEST

static Suite *sim_suite(void) {
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("counts");
    tcase_add_loop_test(tc, conv1d_one_level, 0, (int)UT_LEN(one_level));
    tcase_add_test(tc, prefetch_overlaps_without_halving);
    tcase_add_loop_test(tc, direct_eval_matches_naive, 0, (int)UT_LEN(direct_cases));
    tcase_add_loop_test(tc, direct_eval_leaves_out_masked_points, 0, (int)UT_LEN(masked_cases));
    tcase_add_loop_test(tc, conv1d_two_level, 0, (int)UT_LEN(two_level));
    tcase_add_test(tc, conv1d_tiled_channels);
    tcase_add_loop_test(tc, matmul_multicast, 0, (int)UT_LEN(mm_cases));
    tcase_add_test(tc, spatial_reduction);
    tcase_add_loop_test(tc, read_sharing_by_topology, 0, (int)UT_LEN(share_cases));
    tcase_add_test(tc, spatial_reduction_refill);
    tcase_add_test(tc, imperfect_factor);
    tcase_add_test(tc, imperfect_spatial);
    tcase_add_test(tc, padding_one_level);
    tcase_add_loop_test(tc, padding_two_level, 0, (int)UT_LEN(pad_cases));
    tcase_add_test(tc, cascade_values);
    tcase_add_loop_test(tc, recurrence_values_by_hand, 0, (int)UT_LEN(recurrence_maps));
    tcase_add_test(tc, recurrence_minus_infinity);
    suite_add_tcase(s, tc);
    TCase *tt = tcase_create("timing");
    tcase_add_loop_test(tt, bandwidth_stalls, 0, (int)UT_LEN(bw_cases));
    tcase_add_loop_test(tt, latency_first_fill, 0, (int)UT_LEN(lat_cases));
    tcase_add_loop_test(tt, macs_per_cycle, 0, (int)UT_LEN(mpc_cases));
    tcase_add_test(tt, budget_stops_only_past_it);
    suite_add_tcase(s, tt);
    return s;
}

int main(void) {
    return ut_run_suite(sim_suite());
}
