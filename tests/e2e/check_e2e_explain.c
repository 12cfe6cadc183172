/* End to end: what a run says about its own mapping. Every run's JSON
 * carries the mapping it ran (einsums[].mapping), which must give back
 * the loops of the mapping file it came from; `einflow explain` prints
 * the mapped loop nest with each level's tiles, accesses per MAC and
 * bandwidth, and its JSON must carry exactly the counts `run` reports.
 * Expected numbers of the small case are derived by hand below. */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"
#include "einflow/spec.h"

#define TEACH2 "configs/teach_2level.yaml"
#define CONV1D "workloads/conv1d.yaml"
#define OS_MAP "mappings/teach_2level__conv1d_os.yaml"

/* ---------- the run's JSON carries its mapping ---------- */

typedef struct {
    const char *arch, *workload, *mapping;
} map_file_case;

static const map_file_case roundtrip_cases[] = {
    {TEACH2, CONV1D, OS_MAP},
    {TEACH2, CONV1D, "mappings/teach_2level__conv1d_ws.yaml"},
    {"configs/eyeriss_like.yaml", "workloads/resnet50_conv3x3.yaml",
     "mappings/eyeriss_like__resnet50_conv3x3.yaml"},
    {"configs/systolic_ws_16x16.yaml", "workloads/fc.yaml", "mappings/systolic_ws_16x16__fc.yaml"},
    {"configs/edge_8x8.yaml", "workloads/attention.yaml", "mappings/edge_8x8__attention.yaml"},
    {"configs/edge_8x8.yaml", "workloads/attention.yaml",
     "mappings/edge_8x8__attention_fused.yaml"},
};

/* The factors of a JSON loop list equal the file's, rank by rank in
 * order. */
static void assert_loops(const cJSON *list, const ef_factor_spec *f, int count,
                         const char *where) {
    ck_assert_msg(cJSON_GetArraySize(list) == count, "%s: %d loops in the JSON, %d in the file",
                  where, cJSON_GetArraySize(list), count);
    for (int i = 0; i < count; i++) {
        const cJSON *one = cJSON_GetArrayItem(list, i);
        ck_assert_msg(cJSON_GetArraySize(one) == 1, "%s[%d]: one rank per loop", where, i);
        ck_assert_msg(!strcmp(one->child->string, f[i].rank), "%s[%d]: rank %s, file says %s",
                      where, i, one->child->string, f[i].rank);
        uint64_t v = 0;
        ck_assert(e2e_u64(one->child, &v));
        ck_assert_msg(v == f[i].factor, "%s[%d]: %s %" PRIu64 ", file says %" PRIu64, where, i,
                      f[i].rank, v, f[i].factor);
    }
}

static bool in_list(const cJSON *list, const char *name) {
    const cJSON *it;
    cJSON_ArrayForEach(it, list) if (!strcmp(it->valuestring, name)) return true;
    return false;
}

static void assert_level(const cJSON *lv, const ef_level_mapping_spec *lm, const char *where) {
    char w[160];
    snprintf(w, sizeof w, "%s %s temporal", where, lm->level);
    assert_loops(e2e_get(lv, "temporal"), lm->temporal, lm->temporal_count, w);
    snprintf(w, sizeof w, "%s %s rows", where, lm->level);
    assert_loops(e2e_get(lv, "spatial.rows"), lm->rows, lm->row_count, w);
    snprintf(w, sizeof w, "%s %s cols", where, lm->level);
    assert_loops(e2e_get(lv, "spatial.cols"), lm->cols, lm->col_count, w);
    const cJSON *keep = e2e_get(lv, "keep");
    if (lm->keep_given) {
        /* the same set: the JSON lists them in operand order */
        ck_assert_msg(cJSON_GetArraySize(keep) == lm->keep_count, "%s %s: keep", where,
                      lm->level);
        for (int k = 0; k < lm->keep_count; k++)
            ck_assert_msg(in_list(keep, lm->keep[k]), "%s %s keeps %s", where, lm->level,
                          lm->keep[k]);
    }
    for (int k = 0; k < lm->bypass_count; k++)
        ck_assert_msg(!in_list(keep, lm->bypass[k]), "%s %s bypasses %s", where, lm->level,
                      lm->bypass[k]);
}

START_TEST(run_json_carries_the_mapping_file) {
    const map_file_case *c = &roundtrip_cases[_i];
    ef_diags *d = ef_diags_create();
    ef_mapping_spec *ms = ef_spec_load_mapping(c->mapping, d);
    ck_assert_msg(ms != NULL, "%s does not load", c->mapping);
    cJSON *j = e2e_run_json(c->arch, c->workload, c->mapping, NULL);
    const cJSON *es = e2e_get(j, "einsums");
    ck_assert_int_eq(cJSON_GetArraySize(es), ms->mapping_count);
    const cJSON *e;
    cJSON_ArrayForEach(e, es) {
        const char *out = e2e_path_str(e, "output");
        const ef_einsum_mapping_spec *em = NULL;
        for (int i = 0; i < ms->mapping_count && !em; i++)
            if (!ms->mappings[i].einsum[0] || !strcmp(ms->mappings[i].einsum, out))
                em = &ms->mappings[i];
        ck_assert_msg(em != NULL, "%s: no entry for %s", c->mapping, out);
        ck_assert_msg(!em->dataflow[0], "a written mapping is needed here");
        const cJSON *levels = e2e_get(e, "mapping");
        ck_assert_msg(cJSON_IsArray(levels), "%s: einsum %s has no mapping", c->mapping, out);
        /* each level of the file, in order; a level it leaves out runs
         * no loops */
        int matched = 0;
        const cJSON *lv;
        cJSON_ArrayForEach(lv, levels) {
            const char *name = e2e_path_str(lv, "level");
            const ef_level_mapping_spec *lm = NULL;
            for (int l = 0; l < em->level_count && !lm; l++)
                if (!strcmp(em->levels[l].level, name)) lm = &em->levels[l];
            if (lm) {
                ck_assert_msg(lm == &em->levels[matched], "%s: level %s out of order", c->mapping,
                              name);
                assert_level(lv, lm, out);
                matched++;
            } else {
                ck_assert_int_eq(cJSON_GetArraySize(e2e_get(lv, "temporal")), 0);
                ck_assert_int_eq(cJSON_GetArraySize(e2e_get(lv, "spatial.rows")), 0);
                ck_assert_int_eq(cJSON_GetArraySize(e2e_get(lv, "spatial.cols")), 0);
            }
        }
        ck_assert_int_eq(matched, em->level_count);
        /* a file's run was not searched */
        ck_assert_ptr_null(e2e_get(e, "search"));
    }
    cJSON_Delete(j);
    ef_mapping_spec_destroy(ms);
    ef_diags_destroy(d);
}
END_TEST

/* ---------- explain ---------- */

static cJSON *explain_json(const char *const *args) {
    e2e_result r;
    ck_assert(e2e_run(&r, args));
    ck_assert_msg(r.exit_code == 0, "%s failed (%d):\n%s", e2e_cmdline(args), r.exit_code, r.err);
    cJSON *j = e2e_parse_json(r.out);
    ck_assert_msg(j != NULL, "%s: not JSON:\n%s", e2e_cmdline(args), r.out);
    e2e_result_free(&r);
    return j;
}

/* The output-stationary conv1d of the Timeloop exercises on
 * MainMemory -> Buffer -> 1 MAC, by hand (P = 16, R = 3, 8-bit, so a
 * word is a byte; 48 MACs, 48 cycles with no bandwidth limits):
 *
 * Loop nest: MainMemory runs `for p in [0, 16)`, the Buffer
 * `for r in [0, 3)`; both keep every tensor (the file gives no keep).
 *
 * Tiles: MainMemory's spans everything: I has P + R - 1 = 18 words, W
 * 3, O 16 (37 B). The Buffer's spans P = 1, R = 3: I[p+r] 3 words, W
 * 3, O 1 (7 B).
 *
 * Accesses: the Buffer's I window slides by one word per p, so each of
 * the 18 inputs is read from MainMemory once (0.375 per MAC, reuse
 * 48/18 = 2.67); W's tile does not depend on p: 3 reads (0.0625, reuse
 * 16); each output is finished in the Buffer and written back once:
 * 16 updates (1/3, reuse 3). The Buffer feeds every MAC: I 48 reads +
 * 18 fills (66/48 = 1.375), W 48 + 3 (51/48 = 1.0625), O 48 updates
 * and 48 - 16 = 32 reads (the first write of each output reads
 * nothing): 80/48 = 1.6667.
 *
 * Bandwidth over 48 cycles: MainMemory reads 18 + 3 = 21 B (0.4375 B
 * per cycle) and takes 16 B of updates (1/3); the Buffer reads 48 + 48
 * + 32 = 128 B (2.6667) and writes 18 + 3 + 48 = 69 B (1.4375); the
 * architecture gives neither a bandwidth: unlimited. */
typedef struct {
    const char *level, *tensor;
    uint64_t words, reads, fills, updates;
    double per_mac;
} hand_row;

static const hand_row hand[] = {
    {"MainMemory", "I", 18, 18, 0, 0, 18.0 / 48},
    {"MainMemory", "W", 3, 3, 0, 0, 3.0 / 48},
    {"MainMemory", "O", 16, 0, 0, 16, 16.0 / 48},
    {"Buffer", "I", 3, 48, 18, 0, 66.0 / 48},
    {"Buffer", "W", 3, 48, 3, 0, 51.0 / 48},
    {"Buffer", "O", 1, 32, 0, 48, 80.0 / 48},
};

static const char *const hand_code[] = {
    "# MainMemory: keeps I, W, O",
    "for p in [0, 16):",
    "  # Buffer: keeps I, W, O",
    "  for r in [0, 3):",
    "    O[p] += I[p+r] * W[r]",
};

START_TEST(explain_hand_worked) {
    const char *args[] = {"explain", TEACH2, CONV1D, OS_MAP, "--json", NULL};
    cJSON *j = explain_json(args);
    ck_assert_int_eq(cJSON_GetArraySize(e2e_get(j, "einsums")), 1);
    const cJSON *e = e2e_get(j, "einsums[0]");
    ck_assert_uint_eq(e2e_path_u64(e, "macs"), 48);
    ck_assert_uint_eq(e2e_path_u64(e, "cycles"), 48);
    const cJSON *code = e2e_get(e, "pseudo_code");
    int lines = (int)(sizeof hand_code / sizeof hand_code[0]);
    ck_assert_int_eq(cJSON_GetArraySize(code), lines);
    for (int i = 0; i < lines; i++)
        ck_assert_str_eq(cJSON_GetArrayItem(code, i)->valuestring, hand_code[i]);
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
        const hand_row *h = &hand[i];
        int l = strcmp(h->level, "MainMemory") ? 1 : 0;
        char p[128];
        snprintf(p, sizeof p, "levels[%d].name", l);
        ck_assert_str_eq(e2e_path_str(e, p), h->level);
        snprintf(p, sizeof p, "levels[%d].tiles.%s.words", l, h->tensor);
        ck_assert_uint_eq(e2e_path_u64(e, p), h->words);
        snprintf(p, sizeof p, "levels[%d].tiles.%s.bytes", l, h->tensor);
        ck_assert_uint_eq(e2e_path_u64(e, p), h->words); /* 8-bit */
        snprintf(p, sizeof p, "levels[%d].accesses.%s.reads", l, h->tensor);
        ck_assert_uint_eq(e2e_path_u64(e, p), h->reads);
        snprintf(p, sizeof p, "levels[%d].accesses.%s.fills", l, h->tensor);
        ck_assert_uint_eq(e2e_path_u64(e, p), h->fills);
        snprintf(p, sizeof p, "levels[%d].accesses.%s.updates", l, h->tensor);
        ck_assert_uint_eq(e2e_path_u64(e, p), h->updates);
        snprintf(p, sizeof p, "levels[%d].accesses.%s.accesses_per_mac", l, h->tensor);
        ck_assert_double_eq_tol(e2e_path_double(e, p), h->per_mac, 1e-12);
        snprintf(p, sizeof p, "levels[%d].accesses.%s.reuse", l, h->tensor);
        ck_assert_double_eq_tol(e2e_path_double(e, p), 1.0 / h->per_mac, 1e-12);
    }
    ck_assert_double_eq_tol(e2e_path_double(e, "levels[0].bandwidth.read.needed_bytes_per_cycle"),
                            21.0 / 48, 1e-12);
    ck_assert_double_eq_tol(e2e_path_double(e, "levels[0].bandwidth.write.needed_bytes_per_cycle"),
                            16.0 / 48, 1e-12);
    /* the Buffer's read port: its 128 reads, and the 16 outputs it
     * writes back to MainMemory (MainMemory's O updates above) */
    ck_assert_double_eq_tol(e2e_path_double(e, "levels[1].bandwidth.read.needed_bytes_per_cycle"),
                            (128.0 + 16) / 48, 1e-12);
    ck_assert_double_eq_tol(e2e_path_double(e, "levels[1].bandwidth.write.needed_bytes_per_cycle"),
                            69.0 / 48, 1e-12);
    ck_assert(cJSON_IsNull(e2e_get(e, "levels[1].bandwidth.read.available_bytes_per_cycle")));
    ck_assert_uint_eq(e2e_path_u64(e, "levels[1].capacity.amount"), 64);
    ck_assert_int_eq(cJSON_GetArraySize(e2e_get(e, "levels[1].bypass")), 0);
    cJSON_Delete(j);

    /* the text says the same */
    e2e_result r;
    ck_assert(e2e_runl(&r, "explain", TEACH2, CONV1D, OS_MAP, NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    static const char *const text[] = {
        "== Einsum 1 of 1: O[p] += I[p+r] * W[r] ==\n",
        "  on teach_2level: 48 MACs in 48 cycles",
        "    # MainMemory: keeps I, W, O\n"
        "    for p in [0, 16):\n"
        "      # Buffer: keeps I, W, O\n"
        "      for r in [0, 3):\n"
        "        O[p] += I[p+r] * W[r]\n",
        "    MainMemory I                18           18  262144 B\n",
        "               total                         37\n",
        "    Buffer     I                 3            3  64 B\n",
        "               total                          7\n",
        "    MainMemory I                18            0            0        0.375      2.667\n",
        "    Buffer     O                32            0           48        1.667        0.6\n",
        "    Buffer     read         3.0000    unlimited\n",
        "               write        1.4375    unlimited\n",
    };
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        ck_assert_msg(strstr(r.out, text[i]) != NULL, "missing:\n%s\nin:\n%s", text[i], r.out);
    e2e_result_free(&r);
}
END_TEST

/* explain's counts are the run's: the same command line through `run -o`
 * and `explain --json` gives the same reads, fills and updates at every
 * level of every Einsum, the same cycles and MACs, and as the bandwidth
 * needed the bytes / cycles of run's roofline; its loops are the run's
 * mapping without the loops of factor 1. */
typedef struct {
    const char *arch, *workload, *mapping;
    const char *opt, *value; /* one more option and its value, or NULL */
} explain_case;

static const explain_case agree_cases[] = {
    {TEACH2, CONV1D, OS_MAP, NULL, NULL},
    {"configs/eyeriss_like.yaml", "workloads/resnet50_conv3x3.yaml",
     "mappings/eyeriss_like__resnet50_conv3x3.yaml", NULL, NULL},
    {"configs/edge_8x8.yaml", "workloads/attention.yaml",
     "mappings/edge_8x8__attention_fused.yaml", NULL, NULL},
    {TEACH2, CONV1D, "os", "--evaluations", "200"},
    {"configs/edge_8x8.yaml", "workloads/attention.yaml", "os", "--evaluations", "100"},
};

static void assert_same_counts(const cJSON *run_e, const cJSON *ex_e, const char *where) {
    ck_assert_uint_eq(e2e_path_u64(ex_e, "cycles"), e2e_path_u64(run_e, "summary.cycles"));
    ck_assert_uint_eq(e2e_path_u64(ex_e, "macs"), e2e_path_u64(run_e, "summary.ops"));
    const cJSON *rl = e2e_get(run_e, "levels"), *xl = e2e_get(ex_e, "levels");
    ck_assert_int_eq(cJSON_GetArraySize(rl), cJSON_GetArraySize(xl));
    uint64_t cycles = e2e_path_u64(run_e, "summary.cycles");
    for (int l = 0; l < cJSON_GetArraySize(rl); l++) {
        const cJSON *a = cJSON_GetArrayItem(rl, l), *b = cJSON_GetArrayItem(xl, l);
        ck_assert_str_eq(e2e_path_str(a, "name"), e2e_path_str(b, "name"));
        const cJSON *ts = e2e_get(a, "tensors"), *t;
        ck_assert_int_eq(cJSON_GetArraySize(ts), cJSON_GetArraySize(e2e_get(b, "accesses")));
        cJSON_ArrayForEach(t, ts) {
            static const char *const keys[] = {"reads", "fills", "updates"};
            for (int k = 0; k < 3; k++) {
                char p[160];
                snprintf(p, sizeof p, "accesses.%s.%s", t->string, keys[k]);
                ck_assert_msg(e2e_path_u64(b, p) == e2e_path_u64(t, keys[k]), "%s %s %s", where,
                              e2e_path_str(a, "name"), p);
            }
        }
        /* bandwidth needed: the bytes run's roofline counts / cycles */
        char p[96];
        snprintf(p, sizeof p, "roofline.levels[%d].read.bytes", l);
        uint64_t rb = e2e_path_u64(run_e, p);
        snprintf(p, sizeof p, "roofline.levels[%d].write.bytes", l);
        uint64_t wb = e2e_path_u64(run_e, p);
        ck_assert_uint_eq(e2e_path_u64(b, "bandwidth.read.bytes"), rb);
        ck_assert_uint_eq(e2e_path_u64(b, "bandwidth.write.bytes"), wb);
        if (cycles)
            ck_assert_double_eq_tol(e2e_path_double(b, "bandwidth.read.needed_bytes_per_cycle"),
                                    (double)rb / (double)cycles, 1e-9);
    }
    /* the loops, as the run's mapping has them (factor 1 left out) */
    const cJSON *lv;
    int l = 0;
    cJSON_ArrayForEach(lv, e2e_get(run_e, "mapping")) {
        const cJSON *loops = e2e_get(cJSON_GetArrayItem(xl, l++), "loops");
        int k = 0;
        static const char *const lists[] = {"temporal", "spatial.rows", "spatial.cols"};
        for (int q = 0; q < 3; q++) {
            const cJSON *f;
            cJSON_ArrayForEach(f, e2e_get(lv, lists[q])) {
                uint64_t factor = 0;
                ck_assert(e2e_u64(f->child, &factor));
                if (factor < 2) continue;
                const cJSON *x = cJSON_GetArrayItem(loops, k++);
                ck_assert_msg(x != NULL, "%s: loop %s missing", where, f->child->string);
                ck_assert_str_eq(e2e_path_str(x, "rank"), f->child->string);
                ck_assert_uint_eq(e2e_path_u64(x, "factor"), factor);
                ck_assert_str_eq(e2e_path_str(x, "kind"), q ? "parallel_for" : "for");
            }
        }
        ck_assert_int_eq(k, cJSON_GetArraySize(loops));
    }
}

START_TEST(explain_json_equals_run) {
    const explain_case *c = &agree_cases[_i];
    const char *extra[] = {"--threads", "1", c->opt, c->value, NULL};
    cJSON *run = e2e_run_json(c->arch, c->workload, c->mapping, extra);
    const char *args[] = {"explain", c->arch, c->workload, c->mapping, "--json",
                          "--threads", "1", c->opt, c->value, NULL};
    cJSON *ex = explain_json(args);
    const cJSON *re = e2e_get(run, "einsums"), *xe = e2e_get(ex, "einsums");
    ck_assert_int_eq(cJSON_GetArraySize(re), cJSON_GetArraySize(xe));
    for (int i = 0; i < cJSON_GetArraySize(re); i++) {
        const cJSON *a = cJSON_GetArrayItem(re, i), *b = cJSON_GetArrayItem(xe, i);
        ck_assert_str_eq(e2e_path_str(a, "output"), e2e_path_str(b, "output"));
        assert_same_counts(a, b, c->mapping);
    }
    ck_assert_str_eq(e2e_path_str(run, "meta.mapping"), e2e_path_str(ex, "meta.mapping"));
    cJSON_Delete(run);
    cJSON_Delete(ex);
}
END_TEST

/* With a dataflow the mapper finds the mapping first: the text names
 * the mapper, says each level, and has a nest; a cascade gives one
 * section per Einsum. Bad input is a located error as for run. */
START_TEST(explain_with_a_dataflow) {
    e2e_result r;
    ck_assert(e2e_runl(&r, "explain", "configs/eyeriss_like.yaml", "workloads/fc.yaml", "ws",
                       "--evaluations", "300", NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    ck_assert_msg(strstr(r.out, "mapping dataflow ws (mapper)\n") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "== Einsum 1 of 1: ") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "    # DRAM: keeps ") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "# RF, per PE (168 instances): keeps ") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "parallel_for ") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "accesses (the engine's counts") != NULL, "%s", r.out);
    e2e_result_free(&r);

    ck_assert(e2e_runl(&r, "explain", "configs/edge_8x8.yaml", "workloads/attention.yaml", "os",
                       "--evaluations", "100", NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    for (int i = 1; i <= 6; i++) {
        char head[48];
        snprintf(head, sizeof head, "== Einsum %d of 6: ", i);
        ck_assert_msg(strstr(r.out, head) != NULL, "no %s in:\n%s", head, r.out);
    }
    e2e_result_free(&r);

    /* -o writes the JSON beside the text */
    char *out = e2e_tmp_path("explain.json");
    ck_assert(e2e_runl(&r, "explain", TEACH2, CONV1D, "os", "--evaluations", "100", "-o", out,
                       NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    ck_assert_msg(strstr(r.out, "JSON written to ") != NULL, "%s", r.out);
    cJSON *j = e2e_load_json(out);
    ck_assert_ptr_nonnull(j);
    ck_assert_uint_eq(e2e_path_u64(j, "einsums[0].macs"), 48);
    cJSON_Delete(j);
    free(out);
    e2e_result_free(&r);

    ck_assert(e2e_runl(&r, "explain", TEACH2, CONV1D, "oss", NULL));
    ck_assert_int_eq(r.exit_code, 1);
    ck_assert_msg(strstr(r.err, "did you mean \"os\"?") != NULL, "%s", r.err);
    e2e_result_free(&r);
    ck_assert(e2e_runl(&r, "explain", TEACH2, CONV1D, OS_MAP, "--jsno", NULL));
    ck_assert_int_eq(r.exit_code, 2);
    ck_assert_msg(strstr(r.err, "einflow explain: unknown option \"--jsno\"; did you mean "
                                "\"--json\"?") != NULL, "%s", r.err);
    e2e_result_free(&r);
    ck_assert(e2e_runl(&r, "explian", NULL));
    ck_assert_int_eq(r.exit_code, 2);
    ck_assert_msg(strstr(r.err, "did you mean \"explain\"?") != NULL, "%s", r.err);
    e2e_result_free(&r);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_explain");
    TCase *tm = tcase_create("run_mapping");
    tcase_set_timeout(tm, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(tm, run_json_carries_the_mapping_file, 0,
                        (int)(sizeof roundtrip_cases / sizeof roundtrip_cases[0]));
    suite_add_tcase(s, tm);
    TCase *te = tcase_create("explain");
    tcase_set_timeout(te, E2E_TCASE_TIMEOUT);
    tcase_add_test(te, explain_hand_worked);
    tcase_add_loop_test(te, explain_json_equals_run, 0,
                        (int)(sizeof agree_cases / sizeof agree_cases[0]));
    tcase_add_test(te, explain_with_a_dataflow);
    suite_add_tcase(s, te);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
