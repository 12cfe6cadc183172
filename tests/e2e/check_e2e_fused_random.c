/* Randomized differential test of the fused dataflow: small random
 * attention-like cascades (random H, M, P, E, F and precision) on small
 * random architectures (array shape, buffer sizes, bandwidths,
 * latencies, double buffering on or off, a level above the buffer or
 * no storage in the PEs, with or without a vector unit), mapped by `einflow map --dataflow fused`, then run from the
 * mapping file with --engine step and --engine event. For every seed:
 *   - the two engines' JSON is identical but for meta;
 *   - --check-values passes (every output against a direct
 *     evaluation);
 *   - the run takes the cycles the mapping file says;
 *   - when all six Einsums fuse into one group at a shared level, DRAM
 *     moves exactly the compulsory traffic, bytes x H x (P E + M E + M F
 *     + P F): with the shared loops over heads outside those over
 *     queries, K and V stay in the fusion level across a head's blocks
 *     of queries (fused in the PEs' registers, Q, K and V may stream
 *     from DRAM instead, as the mapping says).
 * And the same for the 1-pass online-softmax cascade (random H, M1,
 * M0, P, E, F): both engines alike, its values, its output equal to the
 * 3-pass cascade's of the same shapes (--check-against), and when all
 * ten Einsums fuse, no intermediate or running state reaches DRAM.
 * A seed whose architecture leaves no legal mapping at all is skipped
 * (most must map).
 *
 * Seeds: 0..DEFAULT_SEEDS-1 by default, a few seconds. For more:
 *     EF_FUSED_SEEDS=200 ./check_e2e_fused_random
 * and EF_FUSED_FIRST=K starts at seed K; EF_FUSED_PRINT=1 prints each
 * seed's files and cycles, to reproduce one by hand. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define DEFAULT_SEEDS 8

typedef struct {
    uint64_t state;
} rng;

static uint64_t next(rng *r) {
    uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* uniform in [lo, hi] */
static int between(rng *r, int lo, int hi) { return lo + (int)(next(r) % (uint64_t)(hi - lo + 1)); }

static const char *pick(rng *r, const char *const *from, int n) { return from[between(r, 0, n - 1)]; }

typedef struct {
    int h, m, p, e, f, bits;
    int m1, m0;                    /* online: M = M1 x M0                */
    bool online;                   /* the 1-pass cascade (10 Einsums)    */
    char arch[2048], workload[1536], three_pass[1024];
    bool vector;
} instance;

static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    ck_assert(n >= 0 && (size_t)n < size - *len);
    *len += (size_t)n;
}

static void generate(uint64_t seed, bool online, instance *in) {
    rng r = {seed * UINT64_C(0x2545F4914F6CDD1D) + 7 + (online ? 1 : 0)};
    in->online = online;
    in->h = between(&r, 1, 3);
    in->m = between(&r, 1, 12);
    in->p = between(&r, 1, 12);
    in->e = between(&r, 1, 6);
    in->f = between(&r, 1, 6);
    in->bits = between(&r, 0, 1) ? 16 : 8;
    in->m1 = between(&r, 1, 4);
    in->m0 = between(&r, 1, 4);
    size_t len = 0;
    if (online) {
        in->m = in->m1 * in->m0;
        put(in->workload, sizeof in->workload, &len,
            "name: random_online\n"
            "einsums:\n"
            "  - \"QK[h,m1,m0,p] += Q[h,p,e] * K[h,M0*m1+m0,e]\"\n"
            "  - \"LM[h,m1,p] max= QK[h,m1,m0,p]\"\n"
            "  - \"RM[h,m1+1,p] = max(RM[h,m1,p], LM[h,m1,p])\"\n"
            "  - \"SLN[h,m1,m0,p] = exp(QK[h,m1,m0,p] - RM[h,m1+1,p])\"\n"
            "  - \"SLD[h,m1,p] += SLN[h,m1,m0,p]\"\n"
            "  - \"SLNV[h,m1,p,f] += SLN[h,m1,m0,p] * V[h,M0*m1+m0,f]\"\n"
            "  - \"PRM[h,m1,p] = exp(-max(LM[h,m1,p] - RM[h,m1,p], 0))\"\n"
            "  - \"RD[h,m1+1,p] = SLD[h,m1,p] + RD[h,m1,p] * PRM[h,m1,p]\"\n"
            "  - \"RNV[h,m1+1,p,f] = SLNV[h,m1,p,f] + RNV[h,m1,p,f] * PRM[h,m1,p]\"\n"
            "  - \"AV[h,p,f] = RNV[h,M1,p,f] / RD[h,M1,p]\"\n"
            "ranks: {H: %d, M1: %d, M0: %d, P: %d, E: %d, F: %d}\n"
            "init: {RM: -inf}\n"
            "default_precision: %d\n",
            in->h, in->m1, in->m0, in->p, in->e, in->f, in->bits);
        len = 0;
        put(in->three_pass, sizeof in->three_pass, &len,
            "name: random_attention\n"
            "einsums:\n"
            "  - \"QK[h,m,p] += Q[h,p,e] * K[h,m,e]\"\n"
            "  - \"MX[h,p] max= QK[h,m,p]\"\n"
            "  - \"SN[h,m,p] = exp(QK[h,m,p] - MX[h,p])\"\n"
            "  - \"SD[h,p] += SN[h,m,p]\"\n"
            "  - \"A[h,m,p] = SN[h,m,p] / SD[h,p]\"\n"
            "  - \"AV[h,p,f] += A[h,m,p] * V[h,m,f]\"\n"
            "ranks: {H: %d, M: %d, P: %d, E: %d, F: %d}\n"
            "default_precision: %d\n",
            in->h, in->m, in->p, in->e, in->f, in->bits);
    } else
    put(in->workload, sizeof in->workload, &len,
        "name: random_attention\n"
        "einsums:\n"
        "  - \"QK[h,m,p] += Q[h,p,e] * K[h,m,e]\"\n"
        "  - \"MX[h,p] max= QK[h,m,p]\"\n"
        "  - \"SN[h,m,p] = exp(QK[h,m,p] - MX[h,p])\"\n"
        "  - \"SD[h,p] += SN[h,m,p]\"\n"
        "  - \"A[h,m,p] = SN[h,m,p] / SD[h,p]\"\n"
        "  - \"AV[h,p,f] += A[h,m,p] * V[h,m,f]\"\n"
        "ranks: {H: %d, M: %d, P: %d, E: %d, F: %d}\n"
        "default_precision: %d\n",
        in->h, in->m, in->p, in->e, in->f, in->bits);
    static const char *const glb[] = {"256 B", "512 B", "1 KiB", "2 KiB", "8 KiB", "64 KiB"};
    static const char *const l2[] = {"2 KiB", "4 KiB", "64 KiB"};
    static const char *const rf[] = {"8 B", "16 B", "32 B", "64 B"};
    static const char *const bw[] = {"4", "8", "16", "64"};
    static const char *const topo[] = {"multicast", "unicast"};
    static const char *const yesno[] = {"true", "false"};
    /* shapes: DRAM GLB RF; DRAM L2 GLB RF (a level above the buffer);
     * DRAM GLB (the PEs without storage of their own) */
    int shape = between(&r, 0, 5);
    shape = shape < 4 ? 0 : shape - 3;
    in->vector = between(&r, 0, 1);
    len = 0;
    put(in->arch, sizeof in->arch, &len,
        "name: random_arch\n"
        "clock_mhz: 1000\n"
        "pe_array: {rows: %d, cols: %d}\n"
        "pe: {macs_per_cycle: 1}\n"
        "levels:\n"
        "  - {name: DRAM, kind: dram, read_bandwidth: %s, write_bandwidth: %s, latency: %d}\n",
        between(&r, 1, 4), between(&r, 1, 4), pick(&r, bw, 4), pick(&r, bw, 4),
        between(&r, 0, 20));
    if (shape == 1)
        put(in->arch, sizeof in->arch, &len,
            "  - {name: L2, kind: sram, capacity: %s, bandwidth: %s, double_buffer: %s}\n",
            pick(&r, l2, 3), pick(&r, bw, 4), pick(&r, yesno, 2));
    put(in->arch, sizeof in->arch, &len,
        "  - {name: GLB, kind: sram, capacity: %s, bandwidth: %s, latency: %d, "
        "double_buffer: %s}\n",
        pick(&r, glb, 6), pick(&r, bw, 4), between(&r, 0, 2), pick(&r, yesno, 2));
    if (shape != 2)
        put(in->arch, sizeof in->arch, &len,
            "  - {name: RF, kind: regfile, per_pe: true, capacity: %s}\n"
            "noc:\n"
            "  - {from: GLB, to: RF, topology: %s, bandwidth: %s, reduction: true}\n",
            pick(&r, rf, 4), pick(&r, topo, 2), pick(&r, bw, 4));
    if (in->vector)
        put(in->arch, sizeof in->arch, &len,
            "vector_unit: {from: %s, lanes: %d, bandwidth: %s}\n",
            shape == 1 && between(&r, 0, 1) ? "L2" : "GLB", between(&r, 1, 8), pick(&r, bw, 4));
}

static uint64_t env_u64(const char *name, uint64_t def) {
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 10) : def;
}



/* Runs the mapping file with one engine; the JSON. */
static cJSON *run(const char *arch, const char *workload, const char *mapping, const char *engine,
                  uint64_t seed, const char *against) {
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
    const char *extra[] = {"--engine", engine, "--check-values", "--seed", seed_text,
                           against ? "--check-against" : NULL, against, NULL};
    return e2e_run_json(arch, workload, mapping, extra);
}

/* The 1-pass cascade's intermediates and running state. */
static const char *const online_inner[] = {"QK", "LM", "RM", "SLN", "SLD",
                                           "SLNV", "PRM", "RD", "RNV"};

/* Bytes of tensor t at DRAM over all Einsums' counts. */
static uint64_t dram_words_of(const cJSON *r, const char *t) {
    uint64_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(r, "einsums")) {
        if (!e2e_tensor(e, "DRAM", t)) continue;
        n += e2e_counter(e, "DRAM", t, "reads") + e2e_counter(e, "DRAM", t, "fills") +
             e2e_counter(e, "DRAM", t, "updates");
    }
    return n;
}

/* Returns false when the architecture leaves no legal mapping. */
static bool one_seed(uint64_t seed, bool online) {
    instance in;
    generate(seed, online, &in);
    int count = online ? 10 : 6;
    char *arch = e2e_write_tmp("arch.yaml", in.arch);
    char *workload = e2e_write_tmp("workload.yaml", in.workload);
    char *three = online ? e2e_write_tmp("three_pass.yaml", in.three_pass) : NULL;
    char *mapping = e2e_tmp_path("mapping.yaml");
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
    e2e_result res;
    ck_assert(e2e_runl(&res, "map", arch, workload, "--dataflow", "fused", "--evaluations",
                       "300", "--confirm", "1", "--seed", seed_text, "-o", mapping, "-q", NULL));
    bool print = env_u64("EF_FUSED_PRINT", 0) != 0;
    if (res.exit_code == 1 && strstr(res.err, "found no legal mapping")) {
        if (print) fprintf(stderr, "seed %llu: no legal mapping\n", (unsigned long long)seed);
        e2e_result_free(&res);
        unlink(arch);
        unlink(workload);
        if (three) unlink(three);
        free(three);
        free(arch);
        free(workload);
        free(mapping);
        return false;
    }
    ck_assert_msg(res.exit_code == 0, "seed %llu: map exited %d:\n%s\n%s%s",
                  (unsigned long long)seed, res.exit_code, res.err, in.arch, in.workload);
    e2e_result_free(&res);
    char *text = e2e_read_file(mapping, NULL);
    ck_assert_ptr_nonnull(text);
    char tag[64];
    snprintf(tag, sizeof tag, "#   engine, all %d Einsums: ", count);
    const char *at = strstr(text, tag);
    ck_assert_msg(at != NULL, "seed %llu: the mapping file gives no total", (unsigned long long)seed);
    uint64_t claimed = strtoull(at + strlen(tag), NULL, 10);

    cJSON *a = run(arch, workload, mapping, "step", seed, three);
    cJSON *b = run(arch, workload, mapping, "event", seed, three);
    ck_assert_msg(cJSON_IsTrue(e2e_get(a, "summary.values_checked")), "seed %llu: values",
                  (unsigned long long)seed);
    if (online)
        ck_assert_msg(cJSON_IsTrue(e2e_get(a, "summary.checked_against.passed")),
                      "seed %llu: the 1-pass result differs from the 3-pass one",
                      (unsigned long long)seed);
    uint64_t cycles = e2e_summary_u64(b, "cycles");
    ck_assert_msg(cycles == claimed, "seed %llu: %llu cycles, the mapping file says %llu",
                  (unsigned long long)seed, (unsigned long long)cycles,
                  (unsigned long long)claimed);
    int group = cJSON_IsNull(e2e_get(b, "einsums[0].fused"))
                    ? 1
                    : (int)e2e_path_double(e2e_get(b, "einsums[0]"), "fused.count");
    if (online && group == 10)
        for (size_t i = 0; i < sizeof online_inner / sizeof online_inner[0]; i++)
            ck_assert_msg(dram_words_of(b, online_inner[i]) == 0,
                          "seed %llu: all fused, yet %s reaches DRAM\n%s\n%s\n%s",
                          (unsigned long long)seed, online_inner[i], in.arch, in.workload, text);
    /* (fused in the PEs' registers, the other operands may stream from
     * DRAM, as often as the mapping says: nothing to claim) */
    bool shared_level = group > 1 && strcmp(e2e_path_str(b, "einsums[0].fused.level"), "RF");
    if (!online && group == 6 && shared_level) {
        uint64_t want = (uint64_t)in.bits / 8 * (uint64_t)in.h *
                        (uint64_t)(in.p * in.e + in.m * in.e + in.m * in.f + in.p * in.f);
        ck_assert_msg(e2e_einsums_level_bytes(b, "DRAM") == want, "seed %llu: all fused, DRAM moves %llu B, the "
                      "compulsory traffic is %llu B\n%s\n%s\n%s", (unsigned long long)seed,
                      (unsigned long long)e2e_einsums_level_bytes(b, "DRAM"), (unsigned long long)want, in.arch,
                      in.workload, text);
    }
    cJSON_DeleteItemFromObject(a, "meta");
    cJSON_DeleteItemFromObject(b, "meta");
    if (!cJSON_Compare(a, b, 1)) {
        char *ja = cJSON_Print(a), *jb = cJSON_Print(b);
        char *pa = e2e_write_tmp("step.json", ja), *pb = e2e_write_tmp("event.json", jb);
        ck_abort_msg("seed %llu: step and event differ (%s, %s)\n%s\n%s\n%s",
                     (unsigned long long)seed, pa, pb, in.arch, in.workload, text);
    }
    if (print)
        fprintf(stderr, "seed %llu: %s%s%d fused%s, %llu cycles, H %d M %d P %d E %d F %d\n",
                (unsigned long long)seed, online ? "online, " : "",
                in.vector ? "vector unit, " : "", group,
                strstr(text, "#   kept in the PEs") ? " (scores in the PEs)" : "",
                (unsigned long long)cycles, in.h, in.m, in.p, in.e, in.f);
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(text);
    unlink(mapping);
    unlink(arch);
    unlink(workload);
    if (three) unlink(three);
    free(three);
    free(mapping);
    free(arch);
    free(workload);
    return true;
}

START_TEST(fused_engines_agree) {
    uint64_t first = env_u64("EF_FUSED_FIRST", 0);
    uint64_t count = env_u64("EF_FUSED_SEEDS", DEFAULT_SEEDS);
    uint64_t mapped = 0;
    for (uint64_t s = first; s < first + count; s++) mapped += one_seed(s, false);
    ck_assert_msg(2 * mapped >= count, "only %llu of %llu seeds could be mapped",
                  (unsigned long long)mapped, (unsigned long long)count);
}
END_TEST

/* The same for the 1-pass online-softmax cascade (its recurrences
 * fused as running state), also checked against the 3-pass cascade of
 * the same shapes. */
START_TEST(fused_online_engines_agree) {
    uint64_t first = env_u64("EF_FUSED_FIRST", 0);
    uint64_t count = env_u64("EF_FUSED_SEEDS", DEFAULT_SEEDS);
    uint64_t mapped = 0;
    for (uint64_t s = first; s < first + count; s++) mapped += one_seed(s, true);
    ck_assert_msg(2 * mapped >= count, "only %llu of %llu seeds could be mapped",
                  (unsigned long long)mapped, (unsigned long long)count);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_fused_random");
    TCase *tc = tcase_create("random");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, fused_engines_agree);
    tcase_add_test(tc, fused_online_engines_agree);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
