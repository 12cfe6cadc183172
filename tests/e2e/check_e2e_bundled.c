/* End-to-end runs of every bundled mapping (mappings/<config>__<workload>
 * [_suffix].yaml), found at run time so new mappings are covered too.
 *
 * Each runs with --check-values and must exit 0. Every result must satisfy
 * the counting conventions of DESIGN.md, with the workload facts (MACs,
 * tensor sizes, padded accesses) derived here from the rank sizes, not
 * taken from einflow:
 *   - summary.macs is the workload's MAC count;
 *   - cycles = compute_cycles + sum of stall_cycles; utilization =
 *     MACs / (PEs x MACs per PE x cycles) <= 1;
 *   - at the innermost level, each input it keeps is read once per MAC
 *     that touches real data (MACs minus the accesses that fall into
 *     padding); an output it keeps is updated once per MAC;
 *   - at the outermost level every tensor is held whole (utilized
 *     capacity = its stored size), inputs are never filled or updated,
 *     and output reads = output updates - output size (the first write of
 *     each output element is not preceded by a read);
 *   - inputs are never updated at any level; totals lie between the
 *     largest instance's count and instances times it.
 * A few mappings also get closed-form counts (the teaching configs, the
 * systolic arrays) and, for systolic arrays, SCALE-Sim's fold formula
 * under --fold-model scalesim. */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

/* ---------- workload facts, from the rank sizes ---------- */

#define MAX_INPUTS 4
#define MAX_EINSUMS 10

typedef struct {
    const char *output;
    uint64_t macs;         /* iteration points of a += product, else 0  */
    uint64_t ops;          /* iteration points                          */
    uint64_t output_words;
    int input_count;
    struct {
        const char *tensor;
        uint64_t words;    /* stored elements (padding excluded)        */
        uint64_t accesses; /* iteration points whose operand is real
                              data, not padding                         */
    } inputs[MAX_INPUTS];
} einsum_facts;

typedef struct {
    const char *name;
    int count;
    einsum_facts e[MAX_EINSUMS];
} workload_facts;

/* Pairs (p, r), 0 <= p < P, 0 <= r < R, whose index p + r falls on a
 * stored element when the tensor is padded by pad on each side and holds
 * stored elements: pad <= p + r < pad + stored. */
static uint64_t window_pairs(uint64_t P, uint64_t R, uint64_t pad, uint64_t stored) {
    uint64_t n = 0;
    for (uint64_t p = 0; p < P; p++)
        for (uint64_t r = 0; r < R; r++)
            if (p + r >= pad && p + r < pad + stored) n++;
    return n;
}

static workload_facts facts[16];
static int fact_count;

/* The next free entry; a table too small for the bundled workloads is
 * the test's own mistake (this runs in main, outside any test). */
static workload_facts *new_facts(void) {
    if (fact_count == (int)(sizeof facts / sizeof facts[0])) {
        fprintf(stderr, "check_e2e_bundled: facts[] is full: enlarge it\n");
        exit(EXIT_FAILURE);
    }
    return &facts[fact_count++];
}

/* One MAC Einsum with two unpadded or padded inputs. */
static einsum_facts mac_einsum(const char *out, uint64_t macs, uint64_t out_words,
                               const char *a, uint64_t a_words, uint64_t a_real,
                               const char *b, uint64_t b_words, uint64_t b_real) {
    return (einsum_facts){out, macs, macs, out_words, 2,
                          {{a, a_words, a_real}, {b, b_words, b_real}}};
}

static void facts_init(void) {
    workload_facts *f;
    { /* conv1d: O[p] += I[p+r] * W[r], P=16, R=3 */
        const uint64_t P = 16, R = 3;
        f = new_facts();
        *f = (workload_facts){"conv1d", 1, {mac_einsum("O", P * R, P, "I", P + R - 1, P * R,
                                                       "W", R, P * R)}};
    }
    { /* resnet50_conv3x3: O[n,m,p,q] += I[n,c,p+r,q+s] * F[m,c,r,s], pad 1 */
        const uint64_t N = 1, M = 128, C = 128, P = 28, Q = 28, R = 3, S = 3;
        const uint64_t H = 28, W = 28; /* stored: (28+3-1) - 2*1 */
        uint64_t macs = N * M * C * P * Q * R * S;
        uint64_t real = N * M * C * window_pairs(P, R, 1, H) * window_pairs(Q, S, 1, W);
        f = new_facts();
        *f = (workload_facts){"resnet50_conv3x3", 1,
                              {mac_einsum("O", macs, N * M * P * Q, "I", N * C * H * W, real,
                                          "F", M * C * R * S, macs)}};
    }
    { /* mobilenet_dw: O[n,g,p,q] += I[n,g,p+r,q+s] * F[g,r,s], pad 1 */
        const uint64_t N = 1, G = 512, P = 14, Q = 14, R = 3, S = 3;
        const uint64_t H = 14, W = 14;
        uint64_t macs = N * G * P * Q * R * S;
        uint64_t real = N * G * window_pairs(P, R, 1, H) * window_pairs(Q, S, 1, W);
        f = new_facts();
        *f = (workload_facts){"mobilenet_dw", 1,
                              {mac_einsum("O", macs, N * G * P * Q, "I", N * G * H * W, real,
                                          "F", G * R * S, macs)}};
    }
    { /* fc: O[n,m] += I[n,c] * F[m,c], N=1, M=1000, C=1024 */
        const uint64_t N = 1, M = 1000, C = 1024;
        uint64_t macs = N * M * C;
        f = new_facts();
        *f = (workload_facts){"fc", 1, {mac_einsum("O", macs, N * M, "I", N * C, macs, "F",
                                                   M * C, macs)}};
    }
    { /* batched_matmul: Z[b,m,n] += A[b,m,k] * B[b,k,n], B=4, M=K=N=64 */
        const uint64_t B = 4, M = 64, K = 64, N = 64;
        uint64_t macs = B * M * K * N;
        f = new_facts();
        *f = (workload_facts){"batched_matmul", 1,
                              {mac_einsum("Z", macs, B * M * N, "A", B * M * K, macs, "B",
                                          B * K * N, macs)}};
    }
    { /* llama7b_decode_qk: QK[h,m,p] += Q[h,p,e] * K[h,m,e], H=32, M=2048,
       * P=1, E=128 */
        const uint64_t H = 32, M = 2048, P = 1, E = 128;
        uint64_t macs = H * M * P * E;
        f = new_facts();
        *f = (workload_facts){"llama7b_decode_qk", 1,
                              {mac_einsum("QK", macs, H * M * P, "Q", H * P * E, macs, "K",
                                          H * M * E, macs)}};
    }
    { /* attention: H=2, M=P=16, E=F=8
       *   QK[h,m,p] += Q[h,p,e] * K[h,m,e]
       *   MX[h,p] max= QK[h,m,p]
       *   SN[h,m,p] = exp(QK[h,m,p] - MX[h,p])
       *   SD[h,p] += SN[h,m,p]
       *   A[h,m,p] = SN[h,m,p] / SD[h,p]
       *   AV[h,p,f] += A[h,m,p] * V[h,m,f] */
        const uint64_t H = 2, M = 16, P = 16, E = 8, F = 8;
        const uint64_t hmp = H * M * P, hp = H * P;
        f = new_facts();
        *f = (workload_facts){"attention", 6, {
            mac_einsum("QK", hmp * E, hmp, "Q", H * P * E, hmp * E, "K", H * M * E, hmp * E),
            {"MX", 0, hmp, hp, 1, {{"QK", hmp, hmp}}},
            {"SN", 0, hmp, hmp, 2, {{"QK", hmp, hmp}, {"MX", hp, hmp}}},
            {"SD", 0, hmp, hp, 1, {{"SN", hmp, hmp}}},
            {"A", 0, hmp, hmp, 2, {{"SN", hmp, hmp}, {"SD", hp, hmp}}},
            mac_einsum("AV", hp * F * M, hp * F, "A", hmp, hp * F * M, "V", H * M * F,
                       hp * F * M),
        }};
    }
    { /* attention_online: H=2, M1=4, M0=4, P=16, E=F=8; a recurrence's
       * tensor is an input (its old values, steps 0..M1-1) and the
       * output (steps 1..M1), H M1 P (x F) words each way
       *   QK[h,m1,m0,p] += Q[h,p,e] * K[h,M0*m1+m0,e]
       *   LM[h,m1,p] max= QK;  RM[h,m1+1,p] = max(RM[h,m1,p], LM)
       *   SLN[h,m1,m0,p] = exp(QK - RM[h,m1+1,p]);  SLD[h,m1,p] += SLN
       *   SLNV[h,m1,p,f] += SLN * V[h,M0*m1+m0,f]
       *   PRM[h,m1,p] = exp(-max(LM - RM[h,m1,p], 0))
       *   RD[h,m1+1,p] = SLD + RD[h,m1,p] * PRM
       *   RNV[h,m1+1,p,f] = SLNV + RNV[h,m1,p,f] * PRM
       *   AV[h,p,f] = RNV[h,M1,p,f] / RD[h,M1,p] */
        const uint64_t H = 2, M1 = 4, M0 = 4, P = 16, E = 8, F = 8, M = M1 * M0;
        const uint64_t pts = H * M1 * M0 * P, blk = H * M1 * P, blkf = blk * F;
        f = new_facts();
        *f = (workload_facts){"attention_online", 10, {
            mac_einsum("QK", pts * E, pts, "Q", H * P * E, pts * E, "K", H * M * E, pts * E),
            {"LM", 0, pts, blk, 1, {{"QK", pts, pts}}},
            {"RM", 0, blk, blk, 2, {{"RM", blk, blk}, {"LM", blk, blk}}},
            {"SLN", 0, pts, pts, 2, {{"QK", pts, pts}, {"RM", blk, pts}}},
            {"SLD", 0, pts, blk, 1, {{"SLN", pts, pts}}},
            mac_einsum("SLNV", pts * F, blkf, "SLN", pts, pts * F, "V", H * M * F, pts * F),
            {"PRM", 0, blk, blk, 2, {{"LM", blk, blk}, {"RM", blk, blk}}},
            {"RD", 0, blk, blk, 3, {{"SLD", blk, blk}, {"RD", blk, blk}, {"PRM", blk, blk}}},
            {"RNV", 0, blkf, blkf, 3,
             {{"SLNV", blkf, blkf}, {"RNV", blkf, blkf}, {"PRM", blk, blkf}}},
            {"AV", 0, H * P * F, H * P * F, 2,
             {{"RNV", H * P * F, H * P * F}, {"RD", H * P, H * P * F}}},
        }};
    }
}

static const workload_facts *facts_of(const char *workload) {
    for (int i = 0; i < fact_count; i++)
        if (!strcmp(facts[i].name, workload)) return &facts[i];
    return NULL;
}

/* ---------- the bundled mappings ---------- */

#define MAX_MAPPINGS 128

typedef struct {
    char stem[128];      /* file name without .yaml                     */
    char mapping[320];   /* mappings/<stem>.yaml                        */
    char arch[320];      /* configs/<config>.yaml                       */
    char workload[320];  /* workloads/<workload>.yaml, "" if not found  */
    char config_name[64], workload_name[64];
} bundled;

static bundled maps[MAX_MAPPINGS];
static int map_count;
static bool too_many_mappings;

static int cmp_bundled(const void *a, const void *b) {
    return strcmp(((const bundled *)a)->stem, ((const bundled *)b)->stem);
}

/* <config>__<workload>[_suffix]: the workload is the longest prefix of
 * the part after "__", cut at '_', that names a file in workloads/. */
static void resolve(bundled *m) {
    const char *sep = strstr(m->stem, "__");
    if (!sep) return;
    char config[64];
    size_t clen = (size_t)(sep - m->stem);
    if (clen >= sizeof config) return;
    memcpy(config, m->stem, clen);
    config[clen] = '\0';
    memcpy(m->config_name, config, clen + 1);
    snprintf(m->arch, sizeof m->arch, "configs/%s.yaml", config);
    char w[64];
    snprintf(w, sizeof w, "%s", sep + 2);
    for (;;) {
        char path[192];
        snprintf(path, sizeof path, "workloads/%s.yaml", w);
        if (e2e_file_exists(path)) {
            snprintf(m->workload, sizeof m->workload, "%s", path);
            snprintf(m->workload_name, sizeof m->workload_name, "%s", w);
            return;
        }
        char *us = strrchr(w, '_');
        if (!us) return;
        *us = '\0';
    }
}

static void scan_mappings(void) {
    DIR *d = opendir("mappings");
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= 5 || strcmp(e->d_name + n - 5, ".yaml") != 0) continue;
        if (map_count == MAX_MAPPINGS) {
            too_many_mappings = true;
            break;
        }
        bundled *m = &maps[map_count++];
        memset(m, 0, sizeof *m);
        snprintf(m->stem, sizeof m->stem, "%.*s", (int)(n - 5), e->d_name);
        snprintf(m->mapping, sizeof m->mapping, "mappings/%s", e->d_name);
        resolve(m);
    }
    closedir(d);
    qsort(maps, (size_t)map_count, sizeof maps[0], cmp_bundled);
}

/* ---------- closed forms for particular mappings ---------- */

typedef void (*closed_form_fn)(const cJSON *r);

#define EXPECT_COUNT(r, level, tensor, key, want)                                             \
    do {                                                                                      \
        uint64_t have_ = e2e_counter((r), (level), (tensor), (key));                          \
        uint64_t want_ = (uint64_t)(want);                                                    \
        ck_assert_msg(have_ == want_, "%s %s %s = %llu, expected %s = %llu", (level),         \
                      (tensor), (key), (unsigned long long)have_, #want,                      \
                      (unsigned long long)want_);                                             \
    } while (0)

static const uint64_t CP = 16, CR = 3; /* conv1d: P, R */

static void cf_teach_1level(const cJSON *r) {
    ck_assert_uint_eq(e2e_summary_u64(r, "cycles"), CP * CR);
    EXPECT_COUNT(r, "Buffer", "W", "reads", CP * CR);
    EXPECT_COUNT(r, "Buffer", "I", "reads", CP * CR);
    EXPECT_COUNT(r, "Buffer", "O", "updates", CP * CR);
    EXPECT_COUNT(r, "Buffer", "O", "reads", CP * CR - CP);
    EXPECT_COUNT(r, "Buffer", "W", "fills", 0);
    EXPECT_COUNT(r, "Buffer", "I", "fills", 0);
    EXPECT_COUNT(r, "Buffer", "O", "fills", 0);
    EXPECT_COUNT(r, "Buffer", "W", "utilized_capacity", CR);
    EXPECT_COUNT(r, "Buffer", "I", "utilized_capacity", CP + CR - 1);
    EXPECT_COUNT(r, "Buffer", "O", "utilized_capacity", CP);
    /* 8-bit words: one byte each. Compulsory: W, the input window and O
     * once; extra: every re-read, and O's partial sums read back and
     * rewritten (R - 1 times per output) */
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.tensors.I.compulsory_bytes"),
                      CP + CR - 1);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.tensors.I.extra_bytes"),
                      CP * CR - (CP + CR - 1));
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.tensors.W.compulsory_bytes"), CR);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.tensors.O.compulsory_bytes"), CP);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.tensors.O.extra_bytes"),
                      2 * CP * (CR - 1));
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.compulsory_bytes"),
                      CR + (CP + CR - 1) + CP);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.bytes"), 3 * CP * CR + CP * CR - CP);
}

/* Both 2-level mappings: each weight and each input word enters the
 * Buffer once (W stays while CP sweeps; the input window slides by one),
 * each output leaves complete, once. */
static void cf_teach_2level_common(const cJSON *r) {
    ck_assert_uint_eq(e2e_summary_u64(r, "cycles"), CP * CR);
    EXPECT_COUNT(r, "Buffer", "W", "fills", CR);
    EXPECT_COUNT(r, "Buffer", "I", "fills", CP + CR - 1);
    EXPECT_COUNT(r, "Buffer", "O", "fills", 0);
    EXPECT_COUNT(r, "Buffer", "W", "reads", CP * CR);
    EXPECT_COUNT(r, "Buffer", "I", "reads", CP * CR);
    EXPECT_COUNT(r, "Buffer", "O", "updates", CP * CR);
    EXPECT_COUNT(r, "Buffer", "O", "reads", CP * CR - CP);
    EXPECT_COUNT(r, "MainMemory", "W", "reads", CR);
    EXPECT_COUNT(r, "MainMemory", "I", "reads", CP + CR - 1);
    EXPECT_COUNT(r, "MainMemory", "O", "updates", CP);
    EXPECT_COUNT(r, "MainMemory", "O", "reads", 0);
}

static void cf_teach_2level_ws(const cJSON *r) {
    cf_teach_2level_common(r);
    EXPECT_COUNT(r, "Buffer", "W", "utilized_capacity", 1);
    EXPECT_COUNT(r, "Buffer", "I", "utilized_capacity", CP);
    EXPECT_COUNT(r, "Buffer", "O", "utilized_capacity", CP);
}

static void cf_teach_2level_os(const cJSON *r) {
    cf_teach_2level_common(r);
    EXPECT_COUNT(r, "Buffer", "W", "utilized_capacity", CR);
    EXPECT_COUNT(r, "Buffer", "I", "utilized_capacity", CR);
    EXPECT_COUNT(r, "Buffer", "O", "utilized_capacity", 1);
}

static const uint64_t BB = 4, BM = 64, BK = 64, BN = 64; /* batched_matmul */

static void cf_systolic_os_bmm(const cJSON *r) {
    const uint64_t macs = BB * BM * BK * BN;
    ck_assert_uint_eq(e2e_summary_u64(r, "macs"), macs);
    /* each PE accumulates its output in place: one update per MAC, the
     * first one of each output without a read */
    EXPECT_COUNT(r, "Reg", "Z", "updates", macs);
    EXPECT_COUNT(r, "Reg", "Z", "reads", macs - BB * BM * BN);
    EXPECT_COUNT(r, "Reg", "Z", "fills", 0);
    EXPECT_COUNT(r, "DRAM", "A", "reads", BB * BM * BK);
    EXPECT_COUNT(r, "DRAM", "B", "reads", BB * BK * BN);
    EXPECT_COUNT(r, "DRAM", "Z", "updates", BB * BM * BN);
    EXPECT_COUNT(r, "Buffer", "Z", "updates", BB * BM * BN);
    EXPECT_COUNT(r, "Buffer", "Z", "reads", 0);
    ck_assert_uint_eq(e2e_path_u64(r, "levels[2].instances"), 256);
}

static void cf_systolic_ws_bmm(const cJSON *r) {
    const uint64_t macs = BB * BM * BK * BN;
    /* each weight is loaded into its PE once and used for all M rows */
    EXPECT_COUNT(r, "Reg", "B", "fills", BB * BK * BN);
    EXPECT_COUNT(r, "Reg", "B", "reads", macs);
    EXPECT_COUNT(r, "DRAM", "A", "reads", BB * BM * BK);
    EXPECT_COUNT(r, "DRAM", "B", "reads", BB * BK * BN);
    EXPECT_COUNT(r, "DRAM", "Z", "updates", BB * BM * BN);
}

static const uint64_t FM = 1000, FC = 1024; /* fc, batch 1 */

/* At batch 1 every weight is used once: it leaves DRAM exactly once. */
static void cf_fc_weights_once(const cJSON *r) {
    EXPECT_COUNT(r, "DRAM", "F", "reads", FM * FC);
    EXPECT_COUNT(r, "DRAM", "O", "updates", FM);
}

static void cf_systolic_os_fc(const cJSON *r) {
    cf_fc_weights_once(r);
    EXPECT_COUNT(r, "Reg", "O", "updates", FM * FC);
    EXPECT_COUNT(r, "Reg", "O", "reads", FM * FC - FM);
    EXPECT_COUNT(r, "DRAM", "I", "reads", FC);
}

static void cf_systolic_ws_fc(const cJSON *r) {
    cf_fc_weights_once(r);
    EXPECT_COUNT(r, "Reg", "F", "fills", FM * FC);
    EXPECT_COUNT(r, "Reg", "F", "reads", FM * FC);
    EXPECT_COUNT(r, "DRAM", "I", "reads", FC);
}

static void cf_eyeriss_fc(const cJSON *r) {
    cf_fc_weights_once(r);
    EXPECT_COUNT(r, "RF", "F", "fills", FM * FC);
}

static const struct {
    const char *stem;
    closed_form_fn check;
} closed_forms[] = {
    {"teach_1level__conv1d", cf_teach_1level},
    {"teach_2level__conv1d_ws", cf_teach_2level_ws},
    {"teach_2level__conv1d_os", cf_teach_2level_os},
    {"systolic_os_16x16__batched_matmul", cf_systolic_os_bmm},
    {"systolic_ws_16x16__batched_matmul", cf_systolic_ws_bmm},
    {"systolic_os_16x16__fc", cf_systolic_os_fc},
    {"systolic_ws_16x16__fc", cf_systolic_ws_fc},
    {"eyeriss_like__fc", cf_eyeriss_fc},
};
#define NCLOSED ((int)(sizeof closed_forms / sizeof closed_forms[0]))

/* ---------- SCALE-Sim's fold formula on the bundled systolic arrays ---------- */

/* README case 5: folds = batches * ceil(rowsdim/R) * ceil(colsdim/C),
 * per fold R + C + T - 2 (OS) or 2R + C + T - 2 (WS, IS). */
static const struct {
    const char *stem;
    uint64_t rows, cols; /* the array                                  */
    uint64_t batches, rowsdim, colsdim, t, r_times;
} systolic[] = {
    /* OS: rows take M, cols take N, T = K (each batch is one GEMM) */
    {"systolic_os_16x16__batched_matmul", 16, 16, 4, 64, 64, 64, 1},
    /* OS at batch 1: GEMM M = batch 1 on the rows, N = 1000 neurons on
     * the cols, T = K = 1024 */
    {"systolic_os_16x16__fc", 16, 16, 1, 1, 1000, 1024, 1},
    /* WS: rows take K, cols take N, T = M */
    {"systolic_ws_16x16__batched_matmul", 16, 16, 4, 64, 64, 64, 2},
    /* WS at batch 1: rows take C = 1024, cols take the 1000 neurons,
     * T = GEMM M = batch = 1 */
    {"systolic_ws_16x16__fc", 16, 16, 1, 1024, 1000, 1, 2},
};
#define NSYSTOLIC ((int)(sizeof systolic / sizeof systolic[0]))

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* ---------- tests ---------- */

static const bundled *find_bundled(const char *stem) {
    for (int i = 0; i < map_count; i++)
        if (!strcmp(maps[i].stem, stem)) return &maps[i];
    return NULL;
}

START_TEST(mappings_found) {
    ck_assert_msg(!too_many_mappings, "more than %d mappings; raise MAX_MAPPINGS", MAX_MAPPINGS);
    ck_assert_msg(map_count >= 10, "only %d mappings found in mappings/", map_count);
    for (int i = 0; i < map_count; i++) {
        ck_assert_msg(maps[i].config_name[0] && e2e_file_exists(maps[i].arch),
                      "%s: no configs/<config>.yaml for the name <config>__<workload>",
                      maps[i].mapping);
        ck_assert_msg(maps[i].workload[0], "%s: no workloads/<workload>.yaml matches the name",
                      maps[i].mapping);
        ck_assert_msg(facts_of(maps[i].workload_name) != NULL,
                      "%s: workload %s has no facts in check_e2e_bundled.c; add them",
                      maps[i].mapping, maps[i].workload_name);
    }
    for (int i = 0; i < NCLOSED; i++)
        ck_assert_msg(find_bundled(closed_forms[i].stem), "closed-form table names %s, which is "
                      "not in mappings/", closed_forms[i].stem);
    for (int i = 0; i < NSYSTOLIC; i++)
        ck_assert_msg(find_bundled(systolic[i].stem), "systolic table names %s, which is not "
                      "in mappings/", systolic[i].stem);
}
END_TEST

/* cycles, utilization: for the whole run or one Einsum (r has summary) */
static void check_summary(const char *name, const cJSON *r, uint64_t macs, uint64_t ops,
                          uint64_t pes, uint64_t mpc) {
    uint64_t got_macs = e2e_summary_u64(r, "macs");
    ck_assert_msg(got_macs == macs, "%s: %llu MACs, the workload has %llu", name,
                  (unsigned long long)got_macs, (unsigned long long)macs);
    uint64_t got_ops = e2e_summary_u64(r, "ops");
    ck_assert_msg(got_ops == ops, "%s: %llu ops, the workload has %llu", name,
                  (unsigned long long)got_ops, (unsigned long long)ops);
    ck_assert_msg(cJSON_IsTrue(e2e_get(r, "summary.values_checked")),
                  "%s: summary.values_checked is not true", name);

    uint64_t cycles = e2e_summary_u64(r, "cycles");
    uint64_t compute = e2e_summary_u64(r, "compute_cycles");
    uint64_t stalls = e2e_stall_total(r);
    ck_assert_msg(cycles == compute + stalls,
                  "%s: cycles %llu != compute_cycles %llu + stall cycles %llu", name,
                  (unsigned long long)cycles, (unsigned long long)compute,
                  (unsigned long long)stalls);
    /* docs/output.md: utilization = ops / (PEs x macs_per_cycle x cycles);
     * ops = MACs for a single MAC Einsum (DESIGN.md's definition) */
    double util = e2e_summary_double(r, "utilization");
    double want = (double)ops / ((double)pes * (double)mpc * (double)cycles);
    ck_assert_msg(util <= 1.0, "%s: utilization %.17g > 1", name, util);
    ck_assert_msg(fabs(util - want) <= 1e-12 * want,
                  "%s: utilization %.17g, ops/(PEs x MACs/PE x cycles) = %.17g", name, util,
                  want);
    ck_assert_msg(cycles >= ceil_div(ops, pes * mpc), "%s: %llu cycles < ops/(PEs x MACs/PE)",
                  name, (unsigned long long)cycles);
}

/* Counting conventions at every level of one Einsum's result r (an
 * object with "levels"). */
static void check_levels(const char *name, const einsum_facts *f, const cJSON *r) {
    const cJSON *levels = e2e_get(r, "levels");
    int nlev = cJSON_GetArraySize(levels);
    ck_assert_msg(nlev >= 1, "%s: no levels", name);
    const char *outer = e2e_path_str(r, "levels[0].name");
    char path[64];
    snprintf(path, sizeof path, "levels[%d].name", nlev - 1);
    const char *inner = e2e_path_str(r, path);

    /* every level, every tensor */
    const cJSON *lv;
    cJSON_ArrayForEach(lv, levels) {
        const char *lname = e2e_path_str(lv, "name");
        uint64_t inst = e2e_path_u64(lv, "instances");
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(lv, "tensors")) {
            const char *tn = t->string;
            static const char *const keys[] = {"reads", "fills", "updates"};
            for (int k = 0; k < 3; k++) {
                char pk[64];
                snprintf(pk, sizeof pk, "per_instance.%s", keys[k]);
                uint64_t tot = e2e_counter(r, lname, tn, keys[k]);
                uint64_t per = e2e_counter(r, lname, tn, pk);
                ck_assert_msg(per <= tot && tot <= per * inst,
                              "%s: %s %s %s total %llu not within [per-instance %llu, %llu "
                              "instances x it]", name, lname, tn, keys[k],
                              (unsigned long long)tot, (unsigned long long)per,
                              (unsigned long long)inst);
            }
            ck_assert_msg(e2e_counter(r, lname, tn, "utilized_instances") <= inst,
                          "%s: %s %s utilized_instances > instances", name, lname, tn);
            if (strcmp(tn, f->output) != 0)
                ck_assert_msg(e2e_counter(r, lname, tn, "updates") == 0,
                              "%s: input %s is updated at %s", name, tn, lname);
        }
    }

    /* innermost level: one read per real operand, one update per op */
    for (int i = 0; i < f->input_count; i++) {
        const char *tn = f->inputs[i].tensor;
        if (!e2e_tensor(r, inner, tn)) continue; /* bypassed: streams past */
        uint64_t reads = e2e_counter(r, inner, tn, "reads");
        ck_assert_msg(reads == f->inputs[i].accesses,
                      "%s: innermost %s reads of %s = %llu, expected ops - padded accesses "
                      "= %llu", name, inner, tn, (unsigned long long)reads,
                      (unsigned long long)f->inputs[i].accesses);
    }
    if (e2e_tensor(r, inner, f->output))
        ck_assert_msg(e2e_counter(r, inner, f->output, "updates") == f->ops,
                      "%s: innermost %s updates of %s = %llu, expected one per op = %llu", name,
                      inner, f->output,
                      (unsigned long long)e2e_counter(r, inner, f->output, "updates"),
                      (unsigned long long)f->ops);

    /* outermost level: holds everything, inputs start there, outputs
     * end there; in a fused cascade (docs/model.md) an intermediate
     * lives at the fusion level instead, one tile at a time, written
     * once per word by its producer and never filled */
    const cJSON *fused = e2e_get(r, "fused");
    const char *fused_at = cJSON_IsObject(fused) ? e2e_path_str(fused, "level") : NULL;
    for (int i = 0; i < f->input_count; i++) {
        const char *tn = f->inputs[i].tensor;
        const char *home = outer;
        if (!e2e_tensor(r, outer, tn) && fused_at) home = fused_at;
        ck_assert_msg(e2e_tensor(r, home, tn) != NULL, "%s: outermost %s lacks %s", name, home,
                      tn);
        if (home == outer) EXPECT_COUNT(r, outer, tn, "utilized_capacity", f->inputs[i].words);
        EXPECT_COUNT(r, home, tn, "fills", 0);
    }
    const char *home = outer;
    if (!e2e_tensor(r, outer, f->output) && fused_at) home = fused_at;
    ck_assert_msg(e2e_tensor(r, home, f->output) != NULL, "%s: outermost %s lacks %s", name,
                  home, f->output);
    if (home == outer) EXPECT_COUNT(r, outer, f->output, "utilized_capacity", f->output_words);
    uint64_t o_upd = e2e_counter(r, home, f->output, "updates");
    uint64_t o_rd = e2e_counter(r, home, f->output, "reads");
    /* a recurrence reads its tensor as an input too (its old values):
     * those reads come on top */
    bool recurrence = false;
    for (int i = 0; i < f->input_count; i++) recurrence |= !strcmp(f->inputs[i].tensor, f->output);
    ck_assert_msg(o_upd >= f->output_words &&
                      (recurrence ? o_rd >= o_upd - f->output_words
                                  : o_rd == o_upd - f->output_words),
                  "%s: outermost %s %s reads %llu, updates %llu: expected reads = updates - "
                  "output size %llu", name, home, f->output, (unsigned long long)o_rd,
                  (unsigned long long)o_upd, (unsigned long long)f->output_words);
}

static bool close_to(double got, double want) {
    return fabs(got - want) <= 1e-9 * (fabs(want) > 1 ? fabs(want) : 1);
}

/* docs/energy.md, docs/output.md: energy_pj = mac + levels + noc, the
 * dynamic energy; energy_total_pj = energy_pj + leakage_pj, the static
 * energy, which is the breakdown's leakage and the sum of its own
 * breakdown by component (docs/area.md); a level's energy_pj is its actions' energies, each count x
 * the per-word energy it reports; pj_per_mac = energy_pj / macs. r is
 * one Einsum's result (summary, levels and noc are all its own). */
static void check_energy(const char *name, const cJSON *r) {
    double total = e2e_summary_double(r, "energy_pj");
    const cJSON *eb = e2e_get(r, "summary.energy_breakdown");
    double sum = e2e_path_double(eb, "mac") + e2e_path_double(eb, "noc");
    double leak = e2e_summary_double(r, "leakage_pj");
    ck_assert_msg(close_to(e2e_path_double(eb, "leakage"), leak), "%s: breakdown leakage", name);
    ck_assert_msg(close_to(e2e_summary_double(r, "energy_total_pj"), total + leak),
                  "%s: energy_total_pj != energy_pj + leakage_pj", name);
    const cJSON *lb = e2e_get(r, "summary.leakage_breakdown");
    double lsum = e2e_path_double(lb, "pe_array") + e2e_path_double(lb, "noc") +
                  e2e_path_double(lb, "vector_unit");
    const cJSON *ll;
    cJSON_ArrayForEach(ll, cJSON_GetObjectItemCaseSensitive(lb, "levels")) lsum += ll->valuedouble;
    ck_assert_msg(isfinite(leak) && leak >= 0 && close_to(lsum, leak),
                  "%s: leakage_pj %.17g != its breakdown %.17g", name, leak, lsum);
    ck_assert_msg(isfinite(total) && total > 0, "%s: energy_pj %g", name, total);
    const cJSON *lv;
    cJSON_ArrayForEach(lv, e2e_get(r, "levels")) {
        const char *lname = e2e_path_str(lv, "name");
        double level = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(lv, "energy")) {
            static const char *const act[][2] = {
                {"read", "reads"}, {"fill", "fills"}, {"update", "updates"}};
            for (int k = 0; k < 3; k++) {
                char pk[96];
                snprintf(pk, sizeof pk, "energy_per_word_pj.%s.%s", t->string,
                         k ? "write" : "read");
                double want = (double)e2e_counter(r, lname, t->string, act[k][1]) *
                              e2e_path_double(lv, pk);
                double got = e2e_path_double(t, act[k][0]);
                ck_assert_msg(close_to(got, want), "%s: %s %s %s energy %.17g, count x per "
                              "word = %.17g", name, lname, t->string, act[k][0], got, want);
                level += got;
            }
        }
        double lpj = e2e_path_double(lv, "energy_pj");
        ck_assert_msg(close_to(lpj, level), "%s: %s energy_pj %.17g != its actions %.17g", name,
                      lname, lpj, level);
        char bk[96];
        snprintf(bk, sizeof bk, "levels.%s", lname);
        ck_assert_msg(close_to(e2e_path_double(eb, bk), lpj), "%s: breakdown of %s", name, lname);
        sum += lpj;
    }
    ck_assert_msg(close_to(total, sum), "%s: energy_pj %.17g != mac + levels + noc %.17g", name,
                  total, sum);
    uint64_t macs = e2e_summary_u64(r, "macs");
    const cJSON *ppm = e2e_get(r, "summary.pj_per_mac");
    ck_assert_msg(ppm != NULL, "%s: no summary.pj_per_mac", name);
    if (macs)
        ck_assert_msg(close_to(ppm->valuedouble, total / (double)macs), "%s: pj_per_mac", name);
    else
        ck_assert_msg(cJSON_IsNull(ppm), "%s: pj_per_mac without MACs", name);
}

static void check_invariants(const bundled *m, const workload_facts *wf, const cJSON *r) {
    uint64_t pes = e2e_path_u64(r, "architecture.pes");
    uint64_t mpc = e2e_path_u64(r, "architecture.macs_per_cycle");
    uint64_t macs = 0, ops = 0, cycles = 0;
    double energy = 0;
    for (int e = 0; e < wf->count; e++) {
        macs += wf->e[e].macs;
        ops += wf->e[e].ops;
    }
    check_summary(m->stem, r, macs, ops, pes, mpc);

    const cJSON *einsums = e2e_get(r, "einsums");
    ck_assert_msg(cJSON_GetArraySize(einsums) == wf->count, "%s: %d entries in einsums[], the "
                  "workload has %d Einsums", m->stem, cJSON_GetArraySize(einsums), wf->count);
    for (int e = 0; e < wf->count; e++) {
        const cJSON *er = cJSON_GetArrayItem(einsums, e);
        char name[192];
        snprintf(name, sizeof name, "%s einsums[%d] (%s)", m->stem, e, wf->e[e].output);
        ck_assert_str_eq(e2e_path_str(er, "output"), wf->e[e].output);
        check_summary(name, er, wf->e[e].macs, wf->e[e].ops, pes, mpc);
        check_levels(name, &wf->e[e], er);
        check_energy(name, er);
        /* a fused group's Einsums all report the group's cycles */
        const cJSON *fu = e2e_get(er, "fused");
        if (!cJSON_IsObject(fu) || e2e_path_u64(fu, "index") == 0)
            cycles += e2e_summary_u64(er, "cycles");
        energy += e2e_summary_double(er, "energy_pj");
    }
    /* docs/output.md: a cascade's Einsums (a fused group's together)
     * run one after another; the top-level levels describe the last
     * Einsum */
    ck_assert_msg(e2e_summary_u64(r, "cycles") == cycles,
                  "%s: summary.cycles %llu != sum over einsums[] %llu", m->stem,
                  (unsigned long long)e2e_summary_u64(r, "cycles"), (unsigned long long)cycles);
    ck_assert_msg(close_to(e2e_summary_double(r, "energy_pj"), energy),
                  "%s: summary.energy_pj %.17g != sum over einsums[] %.17g", m->stem,
                  e2e_summary_double(r, "energy_pj"), energy);
    const cJSON *last = cJSON_GetArrayItem(einsums, wf->count - 1);
    ck_assert_msg(cJSON_Compare(e2e_get(r, "levels"), e2e_get(last, "levels"), 1),
                  "%s: top-level levels differ from the last Einsum's", m->stem);
}

START_TEST(bundled_run) {
    const bundled *m = &maps[_i];
    ck_assert_msg(m->workload[0], "%s: cannot tell its workload", m->mapping);
    const workload_facts *f = facts_of(m->workload_name);
    ck_assert_msg(f != NULL, "%s: no facts for workload %s", m->mapping, m->workload_name);
    const char *extra[] = {"--check-values", NULL};
    cJSON *r = e2e_run_json(m->arch, m->workload, m->mapping, extra);
    check_invariants(m, f, r);
    for (int i = 0; i < NCLOSED; i++)
        if (!strcmp(closed_forms[i].stem, m->stem)) closed_forms[i].check(r);
    cJSON_Delete(r);
}
END_TEST

START_TEST(systolic_scalesim_formula) {
    const bundled *m = find_bundled(systolic[_i].stem);
    ck_assert_msg(m != NULL, "%s not in mappings/", systolic[_i].stem);
    const char *extra[] = {"--fold-model", "scalesim", NULL};
    cJSON *r = e2e_run_json(m->arch, m->workload, m->mapping, extra);
    uint64_t folds = systolic[_i].batches * ceil_div(systolic[_i].rowsdim, systolic[_i].rows) *
                     ceil_div(systolic[_i].colsdim, systolic[_i].cols);
    uint64_t per_fold = systolic[_i].r_times * systolic[_i].rows + systolic[_i].cols +
                        systolic[_i].t - 2;
    uint64_t want = folds * per_fold - 1;
    uint64_t cycles = e2e_summary_u64(r, "cycles");
    /* SCALE-Sim's memories never stall. systolic_os_16x16 has no
     * bandwidth limit either: its formula holds exactly. Where the
     * config's ports and links make the run longer than the formula
     * (systolic_ws_16x16's DRAM), the bandwidth-bound cycles of the
     * default fold model, its wavefront skew left out, stand instead:
     * no result moves more bytes per cycle than its architecture
     * allows (docs/model.md section 4). */
    bool unlimited = strstr(m->arch, "systolic_os_16x16") != NULL;
    if (!unlimited) {
        cJSON *o = e2e_run_json(m->arch, m->workload, m->mapping, NULL);
        uint64_t bound = e2e_summary_u64(o, "cycles") -
                         e2e_path_u64(o, "summary.stall_cycles.systolic_skew");
        if (bound > want) want = bound;
        cJSON_Delete(o);
    }
    ck_assert_msg(cycles == want, "%s --fold-model scalesim: %llu cycles, SCALE-Sim's formula "
                  "gives %llu folds x %llu - 1 = %llu%s", m->stem, (unsigned long long)cycles,
                  (unsigned long long)folds, (unsigned long long)per_fold,
                  (unsigned long long)(folds * per_fold - 1),
                  unlimited ? "" : " (or the bandwidth-bound cycles if longer)");
    cJSON_Delete(r);
}
END_TEST

/* Both engines on every bundled case: the same JSON but for meta. */
START_TEST(engines_agree) {
    const bundled *m = &maps[_i];
    char *text[2];
    for (int e = 0; e < 2; e++) {
        const char *extra[] = {"--engine", e ? "event" : "step", NULL};
        cJSON *r = e2e_run_json(m->arch, m->workload, m->mapping, extra);
        cJSON_DeleteItemFromObjectCaseSensitive(r, "meta");
        text[e] = cJSON_PrintUnformatted(r);
        cJSON_Delete(r);
    }
    ck_assert_msg(!strcmp(text[0], text[1]), "%s: --engine step and event differ", m->stem);
    free(text[0]);
    free(text[1]);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_bundled");
    TCase *tc = tcase_create("bundled_mappings");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, mappings_found);
    tcase_add_loop_test(tc, bundled_run, 0, map_count);
    tcase_add_loop_test(tc, engines_agree, 0, map_count);
    suite_add_tcase(s, tc);
    TCase *ts = tcase_create("systolic_fold_formula");
    tcase_set_timeout(ts, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(ts, systolic_scalesim_formula, 0, NSYSTOLIC);
    suite_add_tcase(s, ts);
    return s;
}

int main(void) {
    e2e_init();
    facts_init();
    scan_mappings();
    return e2e_run_suite(suite());
}
