/* End-to-end tests of the mapper on cascades (docs/dataflows.md, "One
 * dataflow per Einsum" and "fused"): `einflow run/map/compare` with the
 * fused dataflow, the vector template, and per-Einsum choices on the
 * command line and in mapping files, with their errors.
 *
 * The attention cascade of workloads/attention.yaml (H 2, M = P 16,
 * E = F 8, 16-bit). Expected values are worked out here, not taken
 * from einflow:
 *   - fused, the only words that may cross DRAM are the compulsory
 *     ones: Q, K and V read once, AV written once, 2 B x H x (P E + M E
 *     + M F + P F) = 2 x 2 x (128 + 128 + 128 + 128) = 2,048 B, and no
 *     word of QK, MX, SN, SD or A — whatever tiling the mapper picks,
 *     since every tiling it keeps moves the least DRAM traffic and a
 *     group that fits on chip at all fits with K and V kept across the
 *     blocks of queries of a head;
 *   - with a vector unit, the four Einsums without a product (MX, SN,
 *     SD, A) run there and the two products (QK, AV) on the array;
 *   - the mapping file `einflow map` writes runs to the cycles it says.
 * Each mapper run is seeded, so results are exact. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define EDGE "configs/edge_8x8.yaml"
#define VEC "tests/data/vector_small.yaml"
#define WORKLOAD "workloads/attention.yaml"
/* few candidates: the searches' spaces are small, and the suite runs
 * under the sanitizers too */
#define EVALS "1500"

enum { H = 2, M = 16, P = 16, E = 8, F = 8, WORD_BYTES = 2 };

static const char *const einsums[] = {"QK", "MX", "SN", "SD", "A", "AV"};
#define NEINSUMS 6


static const cJSON *einsum_entry(const cJSON *r, int i) {
    char path[32];
    snprintf(path, sizeof path, "einsums[%d]", i);
    const cJSON *e = e2e_get(r, path);
    ck_assert_msg(e != NULL, "no %s", path);
    ck_assert_str_eq(e2e_path_str(e, "output"), einsums[i]);
    return e;
}

/* Words of tensor t at DRAM over all Einsums: read, and written (fills
 * and updates). */
static void dram_words(const cJSON *r, const char *t, uint64_t *rd, uint64_t *wr) {
    *rd = *wr = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(r, "einsums")) {
        if (!e2e_tensor(e, "DRAM", t)) continue;
        *rd += e2e_counter(e, "DRAM", t, "reads");
        *wr += e2e_counter(e, "DRAM", t, "fills") + e2e_counter(e, "DRAM", t, "updates");
    }
}


/* The compulsory traffic and nothing else, one group of six, values
 * right. */
static void assert_fused_attention(const cJSON *r, const char *what) {
    ck_assert_msg(cJSON_IsTrue(e2e_get(r, "summary.values_checked")), "%s: values unchecked",
                  what);
    static const struct { const char *t; uint64_t rd, wr; } want[] = {
        {"Q", H * P * E, 0}, {"K", H * M * E, 0}, {"V", H * M * F, 0}, {"AV", 0, H * P * F},
        {"QK", 0, 0},        {"MX", 0, 0},        {"SN", 0, 0},        {"SD", 0, 0},
        {"A", 0, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint64_t rd, wr;
        dram_words(r, want[i].t, &rd, &wr);
        ck_assert_msg(rd == want[i].rd && wr == want[i].wr,
                      "%s: %s at DRAM: %llu read, %llu written; expected %llu, %llu", what,
                      want[i].t, (unsigned long long)rd, (unsigned long long)wr,
                      (unsigned long long)want[i].rd, (unsigned long long)want[i].wr);
    }
    uint64_t compulsory = WORD_BYTES * H * (P * E + M * E + M * F + P * F);
    ck_assert_uint_eq(compulsory, 2048);
    ck_assert_uint_eq(e2e_einsums_level_bytes(r, "DRAM"), compulsory);
    for (int i = 0; i < NEINSUMS; i++) {
        const cJSON *e = einsum_entry(r, i);
        ck_assert_int_eq((int)e2e_path_double(e, "fused.count"), NEINSUMS);
        ck_assert_int_eq((int)e2e_path_double(e, "fused.index"), i);
        ck_assert_str_eq(e2e_path_str(e, "fused.level"), "GLB");
        if (!e2e_get(e, "search")) continue; /* a mapping file's run */
        ck_assert_str_eq(e2e_path_str(e, "search.fusion.level"), "GLB");
        ck_assert_int_eq(cJSON_GetArraySize(e2e_get(e, "search.fusion.einsums")), NEINSUMS);
        ck_assert(cJSON_IsNull(e2e_get(e, "search.fusion.note")));
    }
}

/* (a) edge_8x8, array only */
START_TEST(fused_edge_moves_compulsory_traffic) {
    const char *extra[] = {"--check-values", "--evaluations", EVALS, NULL};
    cJSON *r = e2e_run_json(EDGE, WORKLOAD, "fused", extra);
    assert_fused_attention(r, "edge_8x8");
    for (int i = 0; i < NEINSUMS; i++) {
        const cJSON *e = einsum_entry(r, i);
        ck_assert_str_eq(e2e_path_str(e, "search.unit"), "array");
        ck_assert_str_eq(e2e_path_str(e, "search.dataflow"), "fused");
    }
    /* the DRAM entry of every mapping keeps only the tensors that are
     * not intermediates */
    const cJSON *keep = e2e_get(r, "einsums[1].mapping[0].keep");
    ck_assert_int_eq(cJSON_GetArraySize(keep), 0);
    keep = e2e_get(r, "einsums[0].mapping[0].keep");
    ck_assert_int_eq(cJSON_GetArraySize(keep), 2); /* Q, K */
    cJSON_Delete(r);
}
END_TEST

/* (b) vector_small: the softmax on the vector unit */
START_TEST(fused_vector_small_uses_the_vector_unit) {
    const char *extra[] = {"--check-values", "--evaluations", EVALS, NULL};
    cJSON *r = e2e_run_json(VEC, WORKLOAD, "fused", extra);
    assert_fused_attention(r, "vector_small");
    for (int i = 0; i < NEINSUMS; i++) {
        const cJSON *e = einsum_entry(r, i);
        bool product = i == 0 || i == NEINSUMS - 1;
        ck_assert_str_eq(e2e_path_str(e, "search.unit"), product ? "array" : "vector");
        ck_assert_str_eq(e2e_path_str(e, "search.dataflow"), product ? "fused" : "vector");
        /* the vector unit's view: the levels down to its GLB, its own
         * network to the lanes */
        ck_assert_int_eq(cJSON_GetArraySize(e2e_get(e, "levels")), product ? 3 : 2);
        ck_assert_str_eq(e2e_path_str(e, "noc[0].to"), product ? "RF" : "VU");
    }
    ck_assert_double_gt(e2e_summary_double(r, "vector_utilization"), 0);
    cJSON_Delete(r);
}
END_TEST

/* The value on the first line of text that starts with tag, or 0. */
static uint64_t claimed(const char *text, const char *tag) {
    const char *at = strstr(text, tag);
    return at ? strtoull(at + strlen(tag), NULL, 10) : 0;
}

static int count_of(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* (c) map -o, then run the file: the cycles the file says, and those
 * of run with the dataflow (same seed, same mapping) */
static const char *const map_archs[] = {EDGE, VEC};

START_TEST(map_then_run_reproduces) {
    const char *arch = map_archs[_i];
    char *out = e2e_tmp_path("fused_map.yaml");
    e2e_result res;
    ck_assert(e2e_runl(&res, "map", arch, WORKLOAD, "--dataflow", "fused", "--evaluations",
                       EVALS, "-o", out, "-q", NULL));
    ck_assert_msg(res.exit_code == 0, "map exited %d:\n%s", res.exit_code, res.err);
    e2e_result_free(&res);
    char *text = e2e_read_file(out, NULL);
    ck_assert_ptr_nonnull(text);
    uint64_t total = claimed(text, "#   engine, all 6 Einsums: ");
    ck_assert_uint_gt(total, 0);
    /* every mapping keeps its intermediates off DRAM; the softmax's on
     * the vector unit when there is one */
    ck_assert_int_eq(count_of(text, "bypass: ["), NEINSUMS);
    ck_assert_int_eq(count_of(text, "    unit: vector\n"), !strcmp(arch, VEC) ? 4 : 0);
    const char *step[] = {"--engine", "step", "--check-values", NULL};
    cJSON *r = e2e_run_json(arch, WORKLOAD, out, step);
    ck_assert_uint_eq(e2e_summary_u64(r, "cycles"), total);
    assert_fused_attention(r, arch);
    const char *extra[] = {"--evaluations", EVALS, NULL};
    cJSON *direct = e2e_run_json(arch, WORKLOAD, "fused", extra);
    ck_assert_uint_eq(e2e_summary_u64(direct, "cycles"), total);
    cJSON_Delete(direct);
    cJSON_Delete(r);
    free(text);
    unlink(out);
    free(out);
}
END_TEST

/* A buffer too small for the whole group: fewer Einsums are fused, the
 * run says so (stderr and JSON), and the values still come out right.
 * The 64 KiB GLB at 1 KiB, double-buffered: the six Einsums' smallest
 * tiles (one head, one query) take Q 8 + K 128 + QK 16 + MX 1 + SN 16
 * + SD 1 + A 16 + V 128 + AV 8 = 322 words, 644 B, 1,288 B doubled. */
START_TEST(fallback_fuses_fewer) {
    char *text = e2e_read_file(EDGE, NULL);
    ck_assert_ptr_nonnull(text);
    char *at = strstr(text, "capacity: 64 KiB");
    ck_assert_ptr_nonnull(at);
    memcpy(at, "capacity:  1 KiB", strlen("capacity:  1 KiB"));
    char *arch = e2e_write_tmp("edge_1k.yaml", text);
    char *out = e2e_tmp_path("fallback.json");
    e2e_result res;
    ck_assert(e2e_runl(&res, "run", arch, WORKLOAD, "fused", "--evaluations", EVALS,
                       "--check-values", "-o", out, NULL));
    ck_assert_msg(res.exit_code == 0, "run exited %d:\n%s", res.exit_code, res.err);
    static const char note[] =
        "einflow: note: dataflow fused on attention: could not fuse QK .. AV (GLB cannot hold "
        "even the smallest tiles of the group together: they need 1288 B of its 1024 B "
        "(double-buffered))";
    ck_assert_msg(strstr(res.err, note) != NULL, "stderr lacks the note:\n%s", res.err);
    e2e_result_free(&res);
    cJSON *r = e2e_load_json(out);
    ck_assert_ptr_nonnull(r);
    ck_assert(cJSON_IsTrue(e2e_get(r, "summary.values_checked")));
    const char *n = e2e_path_str(r, "einsums[5].search.fusion.note");
    ck_assert_msg(strstr(n, "could not fuse QK .. AV") != NULL, "note: %s", n);
    ck_assert_int_lt(cJSON_GetArraySize(e2e_get(r, "einsums[0].search.fusion.einsums")),
                     NEINSUMS);
    cJSON_Delete(r);
    unlink(out);
    unlink(arch);
    free(out);
    free(arch);
    free(text);
}
END_TEST

/* (3) compare: fused beside array dataflows, side by side */
START_TEST(compare_with_fused) {
    char *out = e2e_tmp_path("compare.json");
    e2e_result res;
    ck_assert(e2e_runl(&res, "compare", EDGE, WORKLOAD, "--dataflows", "ws,os,fused",
                       "--evaluations", "500", "--seeds", "1", "-o", out, NULL));
    ck_assert_msg(res.exit_code == 0, "compare exited %d:\n%s", res.exit_code, res.err);
    ck_assert_msg(strstr(res.out, "fused ") != NULL, "no fused row:\n%s", res.out);
    ck_assert_msg(strstr(res.out, "DRAM bypass [QK]") != NULL, "no bypass shown:\n%s",
                  res.out);
    e2e_result_free(&res);
    cJSON *r = e2e_load_json(out);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(cJSON_GetArraySize(e2e_get(r, "dataflows")), 3);
    ck_assert_str_eq(e2e_path_str(r, "dataflows[2].dataflow"), "fused");
    /* fused: no score crosses DRAM; unfused, every one does */
    uint64_t fused_qk = e2e_path_u64(r, "dataflows[2].summary.outer_level_accesses.QK");
    uint64_t os_qk = e2e_path_u64(r, "dataflows[1].summary.outer_level_accesses.QK");
    ck_assert_uint_eq(fused_qk, 0);
    ck_assert_uint_ge(os_qk, 3 * H * M * P); /* written, read by MX and SN */
    cJSON_Delete(r);
    unlink(out);
    free(out);
}
END_TEST

/* ---------- (e) one dataflow per Einsum ---------- */

/* Without a fused dataflow: the products on the array with os, the
 * rest on the vector unit, SN overridden to stay on the array. */
START_TEST(per_einsum_dataflows) {
    const char *extra[] = {"--evaluations", "500", "--einsum-dataflow", "SN=free",
                           "--check-values", NULL};
    cJSON *r = e2e_run_json(VEC, WORKLOAD, "os", extra);
    static const char *const df[] = {"os", "vector", "free", "vector", "vector", "os"};
    for (int i = 0; i < NEINSUMS; i++) {
        const cJSON *e = einsum_entry(r, i);
        ck_assert_str_eq(e2e_path_str(e, "search.dataflow"), df[i]);
        ck_assert_str_eq(e2e_path_str(e, "search.unit"),
                         !strcmp(df[i], "vector") ? "vector" : "array");
        ck_assert(cJSON_IsNull(e2e_get(e, "search.fusion")));
        ck_assert(cJSON_IsNull(e2e_get(e, "fused")));
    }
    ck_assert(cJSON_IsTrue(e2e_get(r, "summary.values_checked")));
    cJSON_Delete(r);
}
END_TEST

/* A mapping file whose entries name dataflows for the mapper to fill
 * in, beside written ones. */
static const char MIXED[] =
    "mappings:\n"
    "  - einsum: QK\n"
    "    dataflow: os\n"
    "  - einsum: MX\n"
    "    dataflow: vector\n"
    "  - einsum: SN\n"
    "    dataflow: vector\n"
    "  - einsum: SD\n"
    "    dataflow: vector\n"
    "  - einsum: A\n"
    "    unit: vector\n"
    "    mapping:\n"
    "      - {level: DRAM, temporal: [H: 2, P: 4]}\n"
    "      - {level: GLB, temporal: [M: 16], spatial: {cols: [P: 4]}}\n"
    "  - einsum: AV\n"
    "    dataflow: ws\n";

START_TEST(mapping_entries_name_dataflows) {
    char *path = e2e_write_tmp("mixed.yaml", MIXED);
    const char *extra[] = {"--evaluations", "500", "--check-values", NULL};
    cJSON *r = e2e_run_json(VEC, WORKLOAD, path, extra);
    static const char *const df[] = {"os", "vector", "vector", "vector", NULL, "ws"};
    for (int i = 0; i < NEINSUMS; i++) {
        const cJSON *e = einsum_entry(r, i);
        if (!df[i]) {
            /* written by hand: no search */
            ck_assert(e2e_get(e, "search") == NULL);
            continue;
        }
        ck_assert_str_eq(e2e_path_str(e, "search.dataflow"), df[i]);
    }
    ck_assert(cJSON_IsTrue(e2e_get(r, "summary.values_checked")));
    ck_assert_str_eq(e2e_path_str(r, "meta.mapping"), path);
    cJSON_Delete(r);
    unlink(path);
    free(path);
}
END_TEST

/* Errors: what the user sees, located, with a "did you mean". */
static const struct {
    const char *mapping;     /* a mapping file's text, or NULL: the dataflow */
    const char *arch;
    const char *option, *value; /* or NULL */
    int exit_code;
    const char *message, *hint;
} errors[] = {
    {NULL, VEC, "--einsum-dataflow", "QQ=vector", 1,
     "<command line>: error: --einsum-dataflow: no Einsum of attention writes \"QQ\" (its "
     "Einsums write QK, MX, SN, SD, A, AV)",
     "did you mean \"QK\"?"},
    {NULL, VEC, "--einsum-dataflow", "MX=vectr", 1,
     "unknown dataflow \"vectr\": the built-in ones are ws, os, is, rs, nlr, free, fused, vector",
     "did you mean \"vector\"?"},
    {NULL, VEC, "--einsum-dataflow", "MX=fused", 1,
     "dataflow fused fuses a whole cascade, so it cannot map the Einsum MX alone", NULL},
    {NULL, EDGE, "--einsum-dataflow", "MX=vector", 1,
     "MX=vector puts MX on the vector unit, but the architecture edge_8x8 declares no "
     "vector_unit", NULL},
    {NULL, VEC, "--einsum-dataflow", "MX", 2,
     "--einsum-dataflow expects NAME=DATAFLOW", NULL},
    {"mappings:\n  - einsum: QK\n    dataflow: os\n  - einsum: MX\n    dataflow: vectr\n", VEC,
     NULL, NULL, 1,
     ":5:15: error: mappings[1].dataflow: unknown dataflow \"vectr\"",
     "did you mean \"vector\"?"},
    {"mappings:\n  - einsum: QK\n    dataflow: fused\n", VEC, NULL, NULL, 1,
     ":3:15: error: mappings[0].dataflow: dataflow fused fuses a whole cascade", NULL},
    {"mappings:\n  - einsum: QK\n    dataflow: os\n    mapping: [{level: DRAM}]\n", VEC, NULL,
     NULL, 1, "expected either mapping or dataflow, found both", NULL},
    {"mappings:\n  - einsum: QK\n    unit: vector\n    dataflow: vector\n", VEC, NULL, NULL, 1,
     "expected no unit beside dataflow", "write dataflow: vector for the vector unit"},
    {"mappings:\n  - einsum: QK\n", VEC, NULL, NULL, 1,
     "missing required key \"mapping\" (or \"dataflow\")", NULL},
};

START_TEST(per_einsum_errors) {
    char *path = errors[_i].mapping ? e2e_write_tmp("bad.yaml", errors[_i].mapping) : NULL;
    e2e_result res;
    ck_assert(e2e_runl(&res, "run", errors[_i].arch, WORKLOAD, path ? path : "os", "-q",
                       "--evaluations", "200", errors[_i].option, errors[_i].value, NULL));
    ck_assert_msg(res.exit_code == errors[_i].exit_code, "exit %d, stderr:\n%s", res.exit_code,
                  res.err);
    ck_assert_msg(strstr(res.err, errors[_i].message) != NULL, "stderr lacks \"%s\":\n%s",
                  errors[_i].message, res.err);
    if (errors[_i].hint)
        ck_assert_msg(strstr(res.err, errors[_i].hint) != NULL, "stderr lacks \"%s\":\n%s",
                      errors[_i].hint, res.err);
    if (path) {
        char where[512];
        snprintf(where, sizeof where, "%s:", path);
        ck_assert_msg(strstr(res.err, where) != NULL, "not located in %s:\n%s", path, res.err);
        unlink(path);
        free(path);
    }
    e2e_result_free(&res);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_fused_map");
    TCase *tc = tcase_create("fused_map");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, fused_edge_moves_compulsory_traffic);
    tcase_add_test(tc, fused_vector_small_uses_the_vector_unit);
    tcase_add_loop_test(tc, map_then_run_reproduces, 0,
                        (int)(sizeof map_archs / sizeof map_archs[0]));
    tcase_add_test(tc, fallback_fuses_fewer);
    tcase_add_test(tc, compare_with_fused);
    tcase_add_test(tc, per_einsum_dataflows);
    tcase_add_test(tc, mapping_entries_name_dataflows);
    tcase_add_loop_test(tc, per_einsum_errors, 0, (int)(sizeof errors / sizeof errors[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
