/* End-to-end tests of bandwidth-true timing (docs/model.md section 4):
 * every byte pays on each port and link it crosses, a transfer holds a
 * resource for ceil(bytes / bandwidth) cycles, and no two transfers
 * share a resource, so in every result, per level instance, direction
 * and link, bytes <= bandwidth x cycles (the bandwidth law).
 *
 *   decode   LLaMA-7B decode attention scores on configs/edge_8x8.yaml,
 *            with the bundled mapping and the mapper's free and os
 *            dataflows: no schedule beats the time DRAM's read port
 *            needs for the KV cache's keys, and every report says so.
 *   stonne   a 16x16 output-stationary systolic GEMM with 16 and 32
 *            B/cycle into the array and unlimited: cycle counts derived
 *            by hand from the model, and compared with STONNE's
 *            published figures.
 *   law      the law as a property of mapper-found runs: every bundled
 *            config x every bundled single workload or cascade x every
 *            built-in dataflow, plus the bundled networks.
 *
 * Every expected number is derived in a comment from the inputs and the
 * model's rules, never taken from einflow's output. */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "e2e_util.h"
#include "einflow/spec.h"

/* ---------- the bandwidth law on one result ---------- */

/* Violations found, as text for the failure message (the first few). */
typedef struct {
    char text[4096];
    size_t len;
    int count;
} problems;

static void problem(problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(problems *p, const char *fmt, ...) {
    if (p->count++ >= 12 || p->len >= sizeof p->text - 2) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->text + p->len, sizeof p->text - p->len, fmt, ap);
    va_end(ap);
    if (n > 0) p->len += (size_t)n;
    if (p->len > sizeof p->text - 2) p->len = sizeof p->text - 2;
    p->text[p->len++] = '\n';
    p->text[p->len] = '\0';
}

/* bytes <= bandwidth x cycles, bandwidth per cycle (0: unlimited). In
 * long double the right side is exact for the integral bandwidths of
 * the bundled configs; the slack only absorbs rounding of fractional
 * ones. */
static bool within(uint64_t bytes, double bandwidth, uint64_t cycles) {
    if (bandwidth <= 0) return true;
    return (long double)bytes <= (long double)bandwidth * (long double)cycles * (1 + 1e-12L);
}

static const ef_level_spec *arch_level(const ef_arch_spec *a, const char *name) {
    for (int i = 0; i < a->level_count; i++)
        if (!strcmp(a->levels[i].name, name)) return &a->levels[i];
    return NULL;
}

/* An exact unsigned integer at path, or a problem (and 0). */
static uint64_t u64_at(problems *p, const char *what, const cJSON *root, const char *path) {
    uint64_t v = 0;
    if (!e2e_u64(e2e_get(root, path), &v)) problem(p, "%s: %s missing or not an exact integer",
                                                   what, path);
    return v;
}

static double num_at(problems *p, const char *what, const cJSON *root, const char *path) {
    const cJSON *item = e2e_get(root, path);
    if (!cJSON_IsNumber(item)) {
        problem(p, "%s: %s missing or not a number", what, path);
        return 0;
    }
    return item->valuedouble;
}

/* The roofline's bandwidth of a port or link: null when unlimited, else
 * the architecture's per-instance figure times the instances
 * (docs/model.md section 4.5). */
static void check_roofline_bandwidth(problems *p, const char *what, const cJSON *line,
                                     double per_instance, uint64_t instances) {
    const cJSON *bw = e2e_get(line, "bandwidth_bytes_per_cycle");
    if (per_instance <= 0) {
        if (!cJSON_IsNull(bw)) problem(p, "%s: unlimited, but bandwidth_bytes_per_cycle is not "
                                       "null", what);
        return;
    }
    double want = per_instance * (double)instances;
    if (!cJSON_IsNumber(bw) || fabs(bw->valuedouble - want) > 1e-9 * want)
        problem(p, "%s: bandwidth_bytes_per_cycle %g, the architecture gives %g x %llu "
                "instances", what, cJSON_IsNumber(bw) ? bw->valuedouble : -1.0, per_instance,
                (unsigned long long)instances);
}

/* One Einsum's result e (summary, levels, noc, roofline) against the
 * architecture's bandwidths, read from its YAML by the spec loader. */
static void check_law(const ef_arch_spec *arch, const cJSON *e, const char *what,
                      problems *p) {
    uint64_t cycles = u64_at(p, what, e, "summary.cycles");
    uint64_t compute = u64_at(p, what, e, "summary.compute_cycles");
    uint64_t stalls = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, e2e_get(e, "summary.stall_cycles")) {
        uint64_t v = 0;
        if (!e2e_u64(c, &v)) problem(p, "%s: stall_cycles.%s not an exact integer", what,
                                     c->string);
        stalls += v;
    }
    if (cycles != compute + stalls)
        problem(p, "%s: cycles %llu != compute_cycles %llu + stall cycles %llu", what,
                (unsigned long long)cycles, (unsigned long long)compute,
                (unsigned long long)stalls);

    /* levels: bytes per instance and direction <= bandwidth x cycles */
    const cJSON *lv;
    int li = 0;
    cJSON_ArrayForEach(lv, e2e_get(e, "levels")) {
        const cJSON *name = e2e_get(lv, "name");
        const ef_level_spec *spec = cJSON_IsString(name) ? arch_level(arch, name->valuestring)
                                                         : NULL;
        if (!spec) {
            problem(p, "%s: levels[%d] names no level of %s", what, li, arch->name);
            li++;
            continue;
        }
        uint64_t inst = u64_at(p, what, lv, "instances");
        uint64_t rd = u64_at(p, what, lv, "read_bytes");
        uint64_t wr = u64_at(p, what, lv, "write_bytes");
        if (!within(rd, spec->read_bandwidth_bytes * (double)inst, cycles))
            problem(p, "%s: %s reads %llu B over %llu instances in %llu cycles: %.3f B/cycle "
                    "per instance > read_bandwidth %g", what, spec->name,
                    (unsigned long long)rd, (unsigned long long)inst,
                    (unsigned long long)cycles, (double)rd / (double)inst / (double)cycles,
                    spec->read_bandwidth_bytes);
        if (!within(wr, spec->write_bandwidth_bytes * (double)inst, cycles))
            problem(p, "%s: %s writes %llu B over %llu instances in %llu cycles: %.3f B/cycle "
                    "per instance > write_bandwidth %g", what, spec->name,
                    (unsigned long long)wr, (unsigned long long)inst,
                    (unsigned long long)cycles, (double)wr / (double)inst / (double)cycles,
                    spec->write_bandwidth_bytes);

        /* the roofline's line for this level: same bytes, the arch's
         * bandwidths, achieved <= attainable on each port */
        char path[64];
        snprintf(path, sizeof path, "roofline.levels[%d]", li);
        const cJSON *rl = e2e_get(e, path);
        const cJSON *rn = e2e_get(rl, "name");
        if (!cJSON_IsString(rn) || strcmp(rn->valuestring, spec->name) != 0) {
            problem(p, "%s: %s is not %s", what, path, spec->name);
            li++;
            continue;
        }
        static const char *const port[2] = {"read", "write"};
        const uint64_t bytes[2] = {rd, wr};
        const double bw[2] = {spec->read_bandwidth_bytes, spec->write_bandwidth_bytes};
        double achieved = num_at(p, what, e, "roofline.achieved_ops_per_cycle");
        for (int k = 0; k < 2; k++) {
            char pw[96];
            snprintf(pw, sizeof pw, "%s roofline %s.%s", what, spec->name, port[k]);
            const cJSON *line = e2e_get(rl, port[k]);
            uint64_t rb = u64_at(p, pw, line, "bytes");
            if (rb != bytes[k])
                problem(p, "%s: bytes %llu, levels[] says %llu", pw, (unsigned long long)rb,
                        (unsigned long long)bytes[k]);
            check_roofline_bandwidth(p, pw, line, bw[k], inst);
            double att = num_at(p, pw, line, "attainable_ops_per_cycle");
            if (achieved > att * (1 + 1e-9))
                problem(p, "%s: achieved %.6f ops/cycle > attainable %.6f", pw, achieved, att);
        }
        double latt = num_at(p, what, rl, "attainable_ops_per_cycle");
        double lach = num_at(p, what, rl, "achieved_ops_per_cycle");
        if (lach > latt * (1 + 1e-9))
            problem(p, "%s roofline %s: achieved %.6f ops/cycle > attainable %.6f", what,
                    spec->name, lach, latt);
        li++;
    }

    /* the network's links: bytes <= bandwidth x cycles, achieved <=
     * attainable. Its bandwidth is the arch's noc between the levels
     * the result's noc[] names (none declared: unlimited). */
    double noc_bw = 0;
    const cJSON *from = e2e_get(e, "noc[0].from"), *to = e2e_get(e, "noc[0].to");
    bool found = arch->noc_count == 0;
    /* an Einsum on the vector unit: the unit's own links from its level
     * (docs/model.md section 4.7) */
    const ef_vector_unit_spec *vu = &arch->vector_unit;
    if (vu->present && cJSON_IsString(from) && cJSON_IsString(to) &&
        !strcmp(vu->from, from->valuestring) && !strcmp(vu->name, to->valuestring)) {
        noc_bw = vu->bandwidth_bytes;
        found = true;
    }
    for (int i = 0; i < arch->noc_count; i++)
        if (cJSON_IsString(from) && cJSON_IsString(to) &&
            !strcmp(arch->nocs[i].from, from->valuestring) &&
            !strcmp(arch->nocs[i].to, to->valuestring)) {
            noc_bw = arch->nocs[i].bandwidth_bytes;
            found = true;
        }
    if (!found) problem(p, "%s: noc[0] is not a network of %s", what, arch->name);
    double achieved = num_at(p, what, e, "roofline.achieved_ops_per_cycle");
    static const char *const link[2] = {"in", "out"};
    for (int k = 0; k < 2; k++) {
        char path[64], pw[96];
        snprintf(path, sizeof path, "roofline.noc.%s", link[k]);
        snprintf(pw, sizeof pw, "%s %s", what, path);
        const cJSON *line = e2e_get(e, path);
        uint64_t b = u64_at(p, pw, line, "bytes");
        if (!within(b, noc_bw, cycles))
            problem(p, "%s: %llu B in %llu cycles: %.3f B/cycle > the network's %g", pw,
                    (unsigned long long)b, (unsigned long long)cycles,
                    (double)b / (double)cycles, noc_bw);
        check_roofline_bandwidth(p, pw, line, noc_bw, 1);
        double att = num_at(p, pw, line, "attainable_ops_per_cycle");
        if (achieved > att * (1 + 1e-9))
            problem(p, "%s: achieved %.6f ops/cycle > attainable %.6f", pw, achieved, att);
    }
}

static ef_arch_spec *load_arch(const char *path) {
    ef_diags *d = ef_diags_create();
    ck_assert_ptr_nonnull(d);
    ef_arch_spec *a = ef_spec_load_arch(path, d);
    char *msg = a ? NULL : ef_diags_render(d);
    ck_assert_msg(a != NULL, "cannot load %s:\n%s", path, msg ? msg : "");
    free(msg);
    ef_diags_destroy(d);
    return a;
}

/* The law on every Einsum of a run's JSON: einsums[] of a workload run,
 * layers[].einsums[] of a network run. Returns the Einsums checked. */
static int check_law_all(const ef_arch_spec *arch, const cJSON *root, const char *run,
                         problems *p) {
    int n = 0;
    const cJSON *e, *layer;
    char what[512];
    cJSON_ArrayForEach(e, e2e_get(root, "einsums")) {
        const cJSON *out = e2e_get(e, "output");
        snprintf(what, sizeof what, "%s [%s]", run,
                 cJSON_IsString(out) ? out->valuestring : "?");
        check_law(arch, e, what, p);
        n++;
    }
    cJSON_ArrayForEach(layer, e2e_get(root, "layers")) {
        const cJSON *ln = e2e_get(layer, "name");
        cJSON_ArrayForEach(e, e2e_get(layer, "einsums")) {
            const cJSON *out = e2e_get(e, "output");
            snprintf(what, sizeof what, "%s [%s:%s]", run,
                     cJSON_IsString(ln) ? ln->valuestring : "?",
                     cJSON_IsString(out) ? out->valuestring : "?");
            check_law(arch, e, what, p);
            n++;
        }
    }
    return n;
}

static void assert_no_problems(const problems *p) {
    ck_assert_msg(p->count == 0, "the bandwidth law fails %d time(s):\n%s%s", p->count, p->text,
                  p->count > 12 ? "(more left out)\n" : "");
}

/* The stall cause with the most cycles ("" when there are none). */
static const char *largest_stall(const cJSON *root) {
    const char *best = "";
    uint64_t most = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, e2e_get(root, "summary.stall_cycles")) {
        uint64_t v = 0;
        ck_assert_msg(e2e_u64(c, &v), "stall_cycles.%s is not an exact integer", c->string);
        if (v > most) {
            most = v;
            best = c->string;
        }
    }
    return best;
}

/* ---------- decode: LLaMA-7B attention scores on edge_8x8 ---------- */

/* QK[h,m,p] += Q[h,p,e] * K[h,m,e], H 32, M 2048, P 1, E 128, 16-bit.
 * Every key K[h,m,e] is used by exactly one MAC (P = 1) and starts in
 * DRAM, the only level that holds it before the run, so each of its
 * 32 * 2048 * 128 = 8,388,608 words, 2 B each, must leave DRAM's read
 * port at least once:
 *     DRAM read bytes >= 16,777,216
 * and at read_bandwidth 16 B/cycle (configs/edge_8x8.yaml) that port
 * alone needs
 *     cycles >= 16,777,216 / 16 = 1,048,576
 * against 8,388,608 MACs / 64 PEs = 131,072 cycles of MACs at full
 * use. Every other resource is 64 B/cycle wide (GLB ports, NoC links)
 * and the keys cross it at most once, so it needs at most a quarter of
 * DRAM's read time for them (DRAM's write port takes only the 131,072
 * B of QK: 8,192 cycles). So whatever the mapping, DRAM's read port is
 * what throttles the run: the largest stall cause is "DRAM.read", and
 * the roofline's lowest attainable below the peak is DRAM.read's:
 * intensity 8,388,608 MACs / >= 16,777,216 B <= 0.5 MAC/B, attainable
 * <= 16 x 0.5 = 8 MACs/cycle of the 64 peak, where a 64 B/cycle port
 * carrying the same bytes attains at least 4 x that. */
#define DECODE_ARCH "configs/edge_8x8.yaml"
#define DECODE_WORKLOAD "workloads/llama7b_decode_qk.yaml"
#define DECODE_K_BYTES (UINT64_C(32) * 2048 * 128 * 2)
#define DECODE_DRAM_READ_BW UINT64_C(16)
#define DECODE_FLOOR_CYCLES (DECODE_K_BYTES / DECODE_DRAM_READ_BW)

static const char *const decode_mappings[] = {
    "mappings/edge_8x8__llama7b_decode_qk.yaml", "free", "os",
};
#define NDECODE ((int)(sizeof decode_mappings / sizeof decode_mappings[0]))

START_TEST(decode_is_dram_read_bound) {
    ck_assert_uint_eq(DECODE_K_BYTES, 16777216);
    ck_assert_uint_eq(DECODE_FLOOR_CYCLES, 1048576);
    const char *m = decode_mappings[_i];
    cJSON *r = e2e_run_json(DECODE_ARCH, DECODE_WORKLOAD, m, NULL);
    uint64_t cycles = e2e_summary_u64(r, "cycles");
    ck_assert_msg(cycles >= DECODE_FLOOR_CYCLES, "%s: %llu cycles, below the %llu DRAM's read "
                  "port needs for K alone", m, (unsigned long long)cycles,
                  (unsigned long long)DECODE_FLOOR_CYCLES);
    ck_assert_uint_eq(e2e_summary_u64(r, "macs"), UINT64_C(32) * 2048 * 128);

    const cJSON *dram = e2e_level(r, "DRAM");
    ck_assert_msg(dram != NULL, "%s: no DRAM in levels[]", m);
    uint64_t rd = e2e_path_u64(dram, "read_bytes");
    ck_assert_msg(rd >= DECODE_K_BYTES, "%s: DRAM read %llu B, fewer than K's %llu", m,
                  (unsigned long long)rd, (unsigned long long)DECODE_K_BYTES);
    ck_assert_msg(rd <= DECODE_DRAM_READ_BW * cycles, "%s: DRAM read %llu B in %llu cycles, "
                  "%.3f B/cycle > 16", m, (unsigned long long)rd, (unsigned long long)cycles,
                  (double)rd / (double)cycles);

    const char *stall = largest_stall(r);
    ck_assert_msg(!strcmp(stall, "DRAM.read"), "%s: the largest stall cause is \"%s\", not "
                  "\"DRAM.read\"", m, stall);
    ck_assert_str_eq(e2e_path_str(r, "roofline.bound"), "DRAM.read");

    ef_arch_spec *arch = load_arch(DECODE_ARCH);
    problems p = {.len = 0};
    ck_assert_int_eq(check_law_all(arch, r, m, &p), 1);
    ef_arch_spec_destroy(arch);
    assert_no_problems(&p);
    cJSON_Delete(r);
}
END_TEST

/* Prefill, the other side of the roofline: LLaMA-7B's q_proj over 2048
 * tokens on fusemax_like with its inputs kept in the buffer
 * (tests/data/fusemax_like__llama7b_q_proj_prefill.yaml) moves 96 MiB
 * for 2048 x 4096 x 4096 MACs, 341 MACs a byte, above the 143 a byte
 * where DRAM's 456.9 B/cycle would cap 65,536 PEs: compute-bound, with
 * at least MACs / PEs cycles, and the law holding. */
START_TEST(prefill_is_compute_bound) {
    const char *arch_file = "configs/fusemax_like.yaml";
    const char *m = "tests/data/fusemax_like__llama7b_q_proj_prefill.yaml";
    cJSON *r = e2e_run_json(arch_file, "tests/data/llama7b_q_proj_prefill.yaml", m, NULL);
    const uint64_t macs = UINT64_C(2048) * 4096 * 4096;
    ck_assert_uint_eq(e2e_summary_u64(r, "macs"), macs);
    ck_assert_uint_eq(e2e_path_u64(r, "summary.outer_traffic.bytes"), UINT64_C(96) << 20);
    ck_assert_str_eq(e2e_path_str(r, "roofline.bound"), "compute");
    ck_assert_uint_ge(e2e_summary_u64(r, "cycles"), macs / 65536);
    ef_arch_spec *arch = load_arch(arch_file);
    problems p = {.len = 0};
    ck_assert_int_eq(check_law_all(arch, r, m, &p), 1);
    ef_arch_spec_destroy(arch);
    assert_no_problems(&p);
    cJSON_Delete(r);
}
END_TEST

/* ---------- stonne: an output-stationary systolic GEMM ---------- */

/* STONNE (F. Muñoz-Martínez et al., "STONNE: Enabling Cycle-Level
 * Microarchitectural Simulation for DNN Inference Accelerators", IISWC
 * 2021) compares itself with a 16x16 TPU-like output-stationary mesh on
 * a 256x256x256 GEMM, 8-bit operands and 32-bit outputs: 140,032 cycles
 * with 16 input ports and 74,496 with 32.
 *
 * Here: DRAM (unlimited) -> Buffer (1 MiB, double buffered, holds the
 * whole problem: A 64 KiB + B 64 KiB + Z 256 KiB = 384 KiB, x2 = 768
 * KiB) -> Reg (4 B per PE, keeps only Z); the NoC Buffer->Reg is
 * systolic without reduction, at 16, 32 B/cycle or unlimited. Mapping:
 * Buffer temporal [M: 16, N: 16], spatial rows [M: 16] cols [N: 16];
 * Reg keep [Z], temporal [K: 256]. So 256 folds (16 x 16 output tiles),
 * each 256 steps of one MAC per PE.
 *
 * Derivation from docs/model.md section 4:
 *   - each step every row takes A[m,k] (one word per row, shared along
 *     the row) and every column B[k,n] (one per column): 16 + 16 words
 *     of 1 B = 32 B through the link into the array; a fold's stream is
 *     256 x 32 = 8,192 B, which holds the link 8,192 / 16 = 512 cycles
 *     (256 at 32); the fold's last step waits for its stream, so a fold
 *     lasts max(256 steps, its stream);
 *   - after each fold the 256 outputs, 4 B each = 1,024 B, leave through
 *     the link out of the array at the same bandwidth: 1,024 / 16 = 64
 *     cycles (32 at 32); Reg is not double buffered, so the next fold
 *     starts only once this write-back is done (F0 D0 F1 D1 ...);
 *   - the wavefront's skew, rows + cols - 2 = 30 cycles, is paid once.
 *     16 B/cycle:  256 x (512 + 64) + 30 = 147,486
 *     32 B/cycle:  256 x (256 + 32) + 30 =  73,758
 *     unlimited:   256 x 256 + 30        =  65,566
 * Of these, 65,536 are compute cycles (one step per cycle); at 16
 * B/cycle the other 256 x 256 cycles of each stream stall on the link
 * in ("noc Buffer->Reg"), at 32 the stream keeps pace with the steps;
 * the write-backs stall on the link out, the last one as final_drain.
 * The roofline: 2,097,152 B in for 16,777,216 MACs, 8 MACs/B; at 16
 * B/cycle attainable 128 < 256 (bound "noc Buffer->Reg"); at 32, 256 =
 * the peak (bound "compute"); out: 262,144 B, 64 MACs/B, never bound. */
#define STONNE_FOLDS UINT64_C(256)
#define STONNE_STEPS UINT64_C(256)
#define STONNE_SKEW UINT64_C(30)

typedef struct {
    int bandwidth_bytes;       /* NoC, per cycle; 0 unlimited         */
    uint64_t stream_cycles;    /* per fold on the link in             */
    uint64_t drain_cycles;     /* per fold on the link out            */
    uint64_t cycles;           /* the total, written out              */
    const char *bound;         /* roofline.bound                      */
    uint64_t published_cycles; /* STONNE's figure, or 0               */
    double tolerance;          /* allowed relative distance from it   */
} stonne_case;

static const stonne_case stonne[] = {
    {16, 8192 / 16, 1024 / 16, 147486, "noc Buffer->Reg", 140032, 0.10},
    {32, 8192 / 32, 1024 / 32, 73758, "compute", 74496, 0.05},
    {0, STONNE_STEPS, 0, 65566, "compute", 0, 0},
};
#define NSTONNE ((int)(sizeof stonne / sizeof stonne[0]))

static const char STONNE_WORKLOAD[] =
    "name: gemm_256\n"
    "einsums:\n"
    "  - \"Z[m,n] += A[m,k] * B[k,n]\"\n"
    "ranks: {M: 256, K: 256, N: 256}\n"
    "precision: {A: 8, B: 8, Z: 32}\n";

static const char STONNE_MAPPING[] =
    "mapping:\n"
    "  - level: Buffer\n"
    "    temporal: [M: 16, N: 16]\n"
    "    spatial: {rows: [M: 16], cols: [N: 16]}\n"
    "  - level: Reg\n"
    "    keep: [Z]\n"
    "    temporal: [K: 256]\n";


static uint64_t stall_of(const cJSON *r, const char *cause) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(e2e_get(r, "summary.stall_cycles"),
                                                         cause);
    uint64_t v = 0;
    if (item) ck_assert_msg(e2e_u64(item, &v), "stall_cycles.%s is not an exact integer", cause);
    return v;
}

START_TEST(stonne_os_gemm) {
    const stonne_case *c = &stonne[_i];
    const int bw = c->bandwidth_bytes;
    char arch_text[1024], bw_line[64] = "";
    if (bw) snprintf(bw_line, sizeof bw_line, "    bandwidth: %d\n", bw);
    snprintf(arch_text, sizeof arch_text,
             "name: stonne_os_16x16\n"
             "pe_array: {rows: 16, cols: 16}\n"
             "pe: {macs_per_cycle: 1}\n"
             "levels:\n"
             "  - name: DRAM\n"
             "    kind: dram\n"
             "  - name: Buffer\n"
             "    kind: sram\n"
             "    capacity: 1 MiB\n"
             "    double_buffer: true\n"
             "  - name: Reg\n"
             "    kind: regfile\n"
             "    per_pe: true\n"
             "    capacity: 4 B\n"
             "noc:\n"
             "  - from: Buffer\n"
             "    to: Reg\n"
             "    topology: systolic\n"
             "    reduction: false\n"
             "%s",
             bw_line);
    char *arch = e2e_write_tmp("stonne_arch.yaml", arch_text);
    char *workload = e2e_write_tmp("stonne_gemm.yaml", STONNE_WORKLOAD);
    char *mapping = e2e_write_tmp("stonne_map.yaml", STONNE_MAPPING);

    /* the table's per-fold figures are the derivation's */
    uint64_t want = STONNE_FOLDS * (c->stream_cycles + c->drain_cycles) + STONNE_SKEW;
    ck_assert_uint_eq(want, c->cycles);

    cJSON *r = e2e_run_json(arch, workload, mapping, NULL);
    uint64_t cycles = e2e_summary_u64(r, "cycles");
    ck_assert_msg(cycles == want, "NoC %d B/cycle: %llu cycles, the model gives 256 x (%llu + "
                  "%llu) + 30 = %llu", bw, (unsigned long long)cycles,
                  (unsigned long long)c->stream_cycles,
                  (unsigned long long)c->drain_cycles, (unsigned long long)want);
    ck_assert_uint_eq(e2e_summary_u64(r, "macs"), UINT64_C(256) * 256 * 256);
    ck_assert_uint_eq(e2e_summary_u64(r, "compute_cycles"), STONNE_FOLDS * STONNE_STEPS);
    ck_assert_uint_eq(stall_of(r, "systolic_skew"), STONNE_SKEW);
    ck_assert_uint_eq(stall_of(r, "noc Buffer->Reg"),
                      STONNE_FOLDS * (c->stream_cycles - STONNE_STEPS));
    ck_assert_uint_eq(stall_of(r, "noc Reg->Buffer") + stall_of(r, "final_drain"),
                      STONNE_FOLDS * c->drain_cycles);
    ck_assert_str_eq(e2e_path_str(r, "roofline.bound"), c->bound);

    if (c->published_cycles) {
        double off = fabs((double)cycles - (double)c->published_cycles) /
                     (double)c->published_cycles;
        ck_assert_msg(off <= c->tolerance, "NoC %d B/cycle: %llu cycles, %.1f%% from "
                      "STONNE's published %llu (allowed %.0f%%)", bw, (unsigned long long)cycles,
                      100 * off, (unsigned long long)c->published_cycles,
                      100 * c->tolerance);
    }

    ef_arch_spec *a = load_arch(arch);
    problems p = {.len = 0};
    check_law_all(a, r, "stonne", &p);
    ef_arch_spec_destroy(a);
    assert_no_problems(&p);
    cJSON_Delete(r);
    unlink(arch);
    unlink(workload);
    unlink(mapping);
    free(arch);
    free(workload);
    free(mapping);
}
END_TEST

/* ---------- law: mapper-found runs over the bundled files ---------- */

/* Candidates per Einsum: few, so that the 8 x 7 x 6 runs take seconds
 * in a Release build and about a minute and a half under the
 * sanitizers (measured on 2 cores: 4-8 s and 93 s). The law must hold
 * for any mapping, good or bad. */
#define LAW_EVALUATIONS "50"

/* the last, fused, only for cascades: for one Einsum it is free */
static const char *const dataflows[] = {"ws", "os", "is", "rs", "nlr", "free", "fused"};
#define NDATAFLOWS ((int)(sizeof dataflows / sizeof dataflows[0]))

static bool is_cascade(const char *workload) {
    ef_diags *d = ef_diags_create();
    ef_workload_spec *w = ef_spec_load_workload(workload, d);
    ck_assert_msg(w != NULL, "cannot load %s", workload);
    bool many = w->einsum_count > 1;
    ef_workload_spec_destroy(w);
    ef_diags_destroy(d);
    return many;
}

#define MAX_FILES 64

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The dir/<name>.yaml files ef_spec_sniff judges to be of kind want ('a'
 * architecture, 'w' workload), sorted. Files of kind skip ('n' network)
 * are left out; any other file fails the test, so that a file the sweep
 * should cover is never dropped unnoticed. */
static int list_yaml(const char *dir, char want, char skip, char *out[MAX_FILES]) {
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s/", dir);
    int n = 0;
    struct dirent *e;
    ef_diags *diags = ef_diags_create();
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ef_diags_clear(diags);
        char k = ef_spec_sniff(path, diags);
        if (skip && k == skip) continue;
        ck_assert_msg(k == want, "%s: ef_spec_sniff says '%c', expected '%c'", path,
                      k ? k : '0', want);
        ck_assert_msg(n < MAX_FILES, "more than %d files in %s/", MAX_FILES, dir);
        out[n] = strdup(path);
        ck_assert_ptr_nonnull(out[n]);
        n++;
    }
    closedir(d);
    ef_diags_destroy(diags);
    qsort(out, (size_t)n, sizeof out[0], cmp_str);
    return n;
}

/* Runs einflow run arch workload dataflow [option value] -o tmp -q (no
 * option when option is NULL). Returns the JSON, or NULL (and *skipped
 * = true) when the mapper found no legal mapping or the config does
 * not fit the workload's tensor names (exit 1 with that diagnostic,
 * docs/cli.md); any other failure fails the test. */
static cJSON *law_run(const char *arch, const char *workload, const char *dataflow,
                      const char *option, const char *value, bool *skipped) {
    char *out = e2e_tmp_path("law.json");
    const char *args[] = {"run", arch, workload, dataflow, "--evaluations", LAW_EVALUATIONS,
                          "--confirm", "1", "-o", out, "-q", option, value, NULL};
    e2e_result res;
    ck_assert_msg(e2e_run(&res, args), "cannot run %s", e2e_cmdline(args));
    ck_assert_msg(!res.timed_out, "%s timed out after %.0f s", e2e_cmdline(args), res.seconds);
    *skipped = false;
    cJSON *root = NULL;
    /* ... or when the config's partitions are for another workload's
     * tensors beside this one's (eyeriss_like's F for conv1d's W) */
    if (res.exit_code == 1 && (strstr(res.err, "found no legal mapping") ||
                               strstr(res.err, "expected a partition for a tensor of the "
                                               "workload"))) {
        *skipped = true;
    } else {
        ck_assert_msg(res.exit_code == 0, "%s exited with %d (signal %d); stderr:\n%s",
                      e2e_cmdline(args), res.exit_code, res.term_signal, res.err);
        root = e2e_load_json(out);
        ck_assert_msg(root != NULL, "%s: %s is not valid JSON", e2e_cmdline(args), out);
    }
    e2e_result_free(&res);
    unlink(out);
    free(out);
    return root;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

START_TEST(law_holds_on_mapper_runs) {
    double t0 = now_s();
    char *configs[MAX_FILES], *workloads[MAX_FILES];
    int nc = list_yaml("configs", 'a', 0, configs);
    int nw = list_yaml("workloads", 'w', 'n', workloads); /* not the networks */
    ck_assert_msg(nc >= 8, "only %d configs found", nc);
    ck_assert_msg(nw >= 7, "only %d single workloads or cascades found", nw);
    bool has_decode = false;
    for (int w = 0; w < nw; w++) has_decode |= !strcmp(workloads[w], DECODE_WORKLOAD);
    ck_assert_msg(has_decode, "%s is not among the workloads swept", DECODE_WORKLOAD);

    problems p = {.len = 0};
    int combos = 0, ran = 0, skipped = 0, einsums = 0;
    for (int c = 0; c < nc; c++) {
        ef_arch_spec *arch = load_arch(configs[c]);
        for (int w = 0; w < nw; w++)
            for (int d = 0; d < NDATAFLOWS; d++) {
                bool skip;
                if (!strcmp(dataflows[d], "fused") && !is_cascade(workloads[w])) continue;
                combos++;
                cJSON *r = law_run(configs[c], workloads[w], dataflows[d], NULL, NULL, &skip);
                if (skip) {
                    skipped++;
                    continue;
                }
                char run[512];
                snprintf(run, sizeof run, "%s %s %s", configs[c], workloads[w], dataflows[d]);
                einsums += check_law_all(arch, r, run, &p);
                ran++;
                cJSON_Delete(r);
            }
        ef_arch_spec_destroy(arch);
    }
    ck_assert_msg(2 * ran >= combos, "only %d of %d combinations could be mapped", ran, combos);

    /* the bundled networks (AlexNet's five CONV layers) and the small
     * test network, on the Eyeriss-like config */
    static const struct {
        const char *network, *dataflow;
        const char *option, *value; /* or NULL */
        int layers;                 /* layers the run must report */
    } nets[] = {
        {"workloads/alexnet.yaml", "rs", "--layers", "conv*", 5},
        {"workloads/resnet50.yaml", "rs", NULL, NULL, 30},
        {"workloads/vgg16.yaml", "ws", NULL, NULL, 12},
        {"workloads/mobilenet_v2.yaml", "os", NULL, NULL, 38},
        {"tests/data/tiny_net.yaml", "rs", NULL, NULL, 3},
    };
    ef_arch_spec *eyeriss = load_arch("configs/eyeriss_like.yaml");
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        bool skip;
        cJSON *r = law_run("configs/eyeriss_like.yaml", nets[i].network, nets[i].dataflow,
                           nets[i].option, nets[i].value, &skip);
        ck_assert_msg(!skip, "%s %s: no legal mapping", nets[i].network, nets[i].dataflow);
        ck_assert_int_eq(cJSON_GetArraySize(e2e_get(r, "layers")), nets[i].layers);
        char run[256];
        snprintf(run, sizeof run, "configs/eyeriss_like.yaml %s %s", nets[i].network,
                 nets[i].dataflow);
        einsums += check_law_all(eyeriss, r, run, &p);
        ran++;
        cJSON_Delete(r);
    }
    ef_arch_spec_destroy(eyeriss);

    fprintf(stderr, "bandwidth law: %d Einsum results of %d runs checked (%d of %d "
            "config x workload x dataflow combinations mapped, %d with no legal mapping "
            "skipped; %d network runs) in %.1f s\n", einsums, ran, combos - skipped, combos,
            skipped, (int)(sizeof nets / sizeof nets[0]), now_s() - t0);
    for (int i = 0; i < nc; i++) free(configs[i]);
    for (int i = 0; i < nw; i++) free(workloads[i]);
    assert_no_problems(&p);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_bandwidth");
    TCase *td = tcase_create("decode");
    tcase_set_timeout(td, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(td, decode_is_dram_read_bound, 0, NDECODE);
    tcase_add_test(td, prefill_is_compute_bound);
    suite_add_tcase(s, td);
    TCase *ts = tcase_create("stonne");
    tcase_set_timeout(ts, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(ts, stonne_os_gemm, 0, NSTONNE);
    suite_add_tcase(s, ts);
    TCase *tl = tcase_create("law");
    tcase_set_timeout(tl, E2E_TCASE_TIMEOUT);
    tcase_add_test(tl, law_holds_on_mapper_runs);
    suite_add_tcase(s, tl);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
