/* End to end: network files through `einflow run ARCH NETWORK DATAFLOW`
 * and `einflow compare`. Expected MAC counts are the closed forms of
 * tests/data/tiny_net.yaml (and the bundled networks' published
 * totals); totals must be the sums of the layers times their counts,
 * the best dataflow the one with the lowest objective in the JSON. */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define EYERISS "configs/eyeriss_like.yaml"
#define TINY "tests/data/tiny_net.yaml"

/* per image: conv 8*8*6*6*3*3, gconv 2*4*4*6*6*3*3 (twice), fc 64*10 */
static const uint64_t tiny_macs[3] = {20736, 10368, 640};
static const uint64_t tiny_count[3] = {1, 2, 1};

static cJSON *run_json(const char *const *args) {
    e2e_result r;
    ck_assert(e2e_run(&r, args));
    ck_assert_msg(r.exit_code == 0, "%s failed (%d):\n%s", e2e_cmdline(args), r.exit_code, r.err);
    cJSON *j = e2e_parse_json(r.out);
    ck_assert_msg(j != NULL, "%s: not JSON:\n%s", e2e_cmdline(args), r.out);
    e2e_result_free(&r);
    return j;
}

START_TEST(network_totals_are_layer_sums) {
    const char *args[] = {"run", EYERISS, TINY, "rs", "--evaluations", "300", "--json", NULL};
    cJSON *j = run_json(args);
    ck_assert_str_eq(e2e_path_str(j, "network.name"), "tiny_net");
    ck_assert_uint_eq(e2e_path_u64(j, "network.batch"), 2);
    ck_assert_uint_eq(e2e_path_u64(j, "network.layers"), 3);
    ck_assert_uint_eq(e2e_path_u64(j, "network.layers_with_repeats"), 4);
    uint64_t macs = 0, cycles = 0;
    double energy = 0;
    for (int i = 0; i < 3; i++) {
        char p[96];
        snprintf(p, sizeof p, "layers[%d].summary.macs", i);
        ck_assert_uint_eq(e2e_path_u64(j, p), 2 * tiny_macs[i]); /* batch 2 */
        snprintf(p, sizeof p, "layers[%d].count", i);
        ck_assert_uint_eq(e2e_path_u64(j, p), tiny_count[i]);
        snprintf(p, sizeof p, "layers[%d].summary.cycles", i);
        cycles += tiny_count[i] * e2e_path_u64(j, p);
        snprintf(p, sizeof p, "layers[%d].summary.energy_pj", i);
        energy += (double)tiny_count[i] * e2e_path_double(j, p);
        macs += tiny_count[i] * 2 * tiny_macs[i];
        /* the mapper's mapping and search are part of each Einsum */
        snprintf(p, sizeof p, "layers[%d].einsums[0].search.considered", i);
        uint64_t considered = e2e_path_u64(j, p);
        snprintf(p, sizeof p, "layers[%d].einsums[0].search.legal", i);
        uint64_t legal = e2e_path_u64(j, p);
        ck_assert(legal >= 1 && legal <= considered && considered <= 300);
        snprintf(p, sizeof p, "layers[%d].einsums[0].mapping[0].level", i);
        ck_assert_str_eq(e2e_path_str(j, p), "DRAM");
    }
    ck_assert_uint_eq(e2e_summary_u64(j, "macs"), macs);
    ck_assert_uint_eq(macs, 2 * 42112);
    ck_assert_uint_eq(e2e_summary_u64(j, "cycles"), cycles);
    double total = e2e_path_double(j, "summary.energy_pj");
    ck_assert_msg(fabs(total - energy) <= 1e-9 * energy, "energy %g, layers sum to %g", total, energy);
    /* compulsory DRAM traffic: each layer's I (stored unpadded), F and O
     * once, 2 B a word, per layer times its count:
     *   conv  2*8*6*6 + 8*8*3*3 + 2*8*6*6         = 1,728 words
     *   gconv 2*2*4*6*6 + 2*4*4*3*3 + 2*2*4*6*6   = 1,440 words, x2
     *   fc    2*64 + 10*64 + 2*10                  =   788 words */
    static const uint64_t tiny_compulsory_words[3] = {1728, 1440, 788};
    uint64_t compulsory = 0, bytes = 0;
    for (int i = 0; i < 3; i++) {
        char p[96];
        snprintf(p, sizeof p, "layers[%d].summary.outer_traffic.compulsory_bytes", i);
        ck_assert_uint_eq(e2e_path_u64(j, p), 2 * tiny_compulsory_words[i]);
        compulsory += tiny_count[i] * 2 * tiny_compulsory_words[i];
        snprintf(p, sizeof p, "layers[%d].summary.outer_traffic.bytes", i);
        bytes += tiny_count[i] * e2e_path_u64(j, p);
    }
    ck_assert_uint_eq(e2e_path_u64(j, "summary.outer_traffic.compulsory_bytes"), compulsory);
    ck_assert_uint_eq(e2e_path_u64(j, "summary.outer_traffic.bytes"), bytes);
    ck_assert_uint_eq(e2e_path_u64(j, "summary.outer_traffic.extra_bytes"), bytes - compulsory);
    cJSON_Delete(j);
}
END_TEST

/* --batch replaces every bound written `batch`; --layers picks layers. */
START_TEST(batch_and_layers_options) {
    const char *args[] = {"run", EYERISS, TINY, "os", "--evaluations", "200", "--batch", "5",
                          "--layers", "g*,fc", "--json", NULL};
    cJSON *j = run_json(args);
    ck_assert_uint_eq(e2e_path_u64(j, "network.batch"), 5);
    ck_assert_uint_eq(e2e_path_u64(j, "network.layers"), 2);
    ck_assert_str_eq(e2e_path_str(j, "layers[0].name"), "gconv");
    ck_assert_str_eq(e2e_path_str(j, "layers[1].name"), "fc");
    ck_assert_uint_eq(e2e_summary_u64(j, "macs"), 5 * (2 * 10368 + 640));
    cJSON_Delete(j);
}
END_TEST

START_TEST(network_errors) {
    static const struct {
        const char *args[8];
        int code;
        const char *err;
    } cases[] = {
        {{"run", EYERISS, TINY, "mappings/eyeriss_like__fc.yaml", NULL}, 1,
         "a mapping file maps one workload, but tests/data/tiny_net.yaml is a network of 3 layers"},
        {{"run", EYERISS, TINY, "rs", "--layers", "conv2", NULL}, 2,
         "no layer of tiny_net is named \"conv2\""},
        {{"run", EYERISS, TINY, "rs", "--batch", "0", NULL}, 2, "--batch expects a number"},
        {{"compare", EYERISS, TINY, "--dataflows", "ws,rz", NULL}, 1, "did you mean \"rs\"?"},
        {{"compare", EYERISS, TINY, "--confirm", "0", NULL}, 2, "--confirm must be at least 1"},
        {{"compare", EYERISS, NULL}, 2, "expected two files"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        e2e_result r;
        ck_assert(e2e_run(&r, cases[i].args));
        ck_assert_msg(r.exit_code == cases[i].code, "%s: exit %d, want %d:\n%s",
                      e2e_cmdline(cases[i].args), r.exit_code, cases[i].code, r.err);
        ck_assert_msg(strstr(r.err, cases[i].err) != NULL, "%s: stderr lacks \"%s\":\n%s",
                      e2e_cmdline(cases[i].args), cases[i].err, r.err);
        e2e_result_free(&r);
    }
}
END_TEST

/* A causal layer (tests/data/causal_small.yaml: 16 tokens, blocks of
 * 4) runs as attention.q0 .. q3, block b with 4 queries and 4 (b + 1)
 * keys; inside the diagonal block a masked score is not computed, so
 * block b's queries p = 0 .. 3 meet 4 b + p + 1 keys each: 4 (4 b) +
 * 10 pairs. Its values match a direct evaluation under array and fused
 * mappings and on a vector unit. */
#define CAUSAL "tests/data/causal_small.yaml"

static const struct { const char *arch, *dataflow; } causal_runs[] = {
    {"configs/edge_8x8.yaml", "os"},
    {"configs/edge_8x8.yaml", "fused"},
    {"tests/data/vector_small.yaml", "ws"},
};

START_TEST(causal_layer_runs_in_blocks) {
    const char *args[] = {"run", causal_runs[_i].arch, CAUSAL, causal_runs[_i].dataflow,
                          "--check-values", "--evaluations", "300", "--json", NULL};
    cJSON *j = run_json(args);
    ck_assert(cJSON_IsTrue(e2e_get(j, "summary.values_checked")));
    enum { H = 2, B = 4, E = 8, F = 8, BLOCKS = 4 };
    ck_assert_uint_eq(e2e_path_u64(j, "network.layers"), 1 + BLOCKS);
    uint64_t macs = 8 * 8 * 16; /* proj */
    for (int b = 0; b < BLOCKS; b++) {
        char p[96], name[32];
        snprintf(p, sizeof p, "layers[%d].name", b + 1);
        snprintf(name, sizeof name, "attention.q%d", b);
        ck_assert_str_eq(e2e_path_str(j, p), name);
        snprintf(p, sizeof p, "layers[%d].summary.macs", b + 1);
        uint64_t pairs = 0; /* query p of the block meets keys 0 .. b B + p */
        for (uint64_t q = 0; q < B; q++) pairs += (uint64_t)b * B + q + 1;
        ck_assert_uint_eq(e2e_path_u64(j, p), H * pairs * E + H * pairs * F);
        macs += H * pairs * (E + F);
    }
    /* 16 x 17 / 2 = 136 scores per head, not 256 */
    ck_assert_uint_eq(macs, 8 * 8 * 16 + H * 136 * (E + F));
    ck_assert_uint_eq(e2e_summary_u64(j, "macs"), macs);
    cJSON_Delete(j);
}
END_TEST

/* The causal layer's masked points cost the same steps under both
 * engines, and the utilization loss shows them: per head and block,
 * the B (B - 1) / 2 masked (key, query) pairs of the diagonal block,
 * each E + F points of the MAC Einsums and one of each of the four
 * others. */
START_TEST(causal_engines_agree_and_show_masked_slots) {
    cJSON *j[2];
    const char *engines[] = {"step", "event"};
    for (int e = 0; e < 2; e++) {
        const char *args[] = {"run", "configs/edge_8x8.yaml", CAUSAL, "os", "--engine", engines[e],
                              "--evaluations", "300", "--json", NULL};
        j[e] = run_json(args);
    }
    static const char *const keys[] = {"macs", "ops", "cycles", "compute_cycles"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        ck_assert_uint_eq(e2e_summary_u64(j[0], keys[k]), e2e_summary_u64(j[1], keys[k]));
    ck_assert_double_eq(e2e_path_double(j[0], "summary.energy_pj"),
                        e2e_path_double(j[1], "summary.energy_pj"));
    enum { H = 2, B = 4, E = 8, F = 8, BLOCKS = 4 };
    const cJSON *steps = e2e_get(j[0], "summary.utilization_loss.steps");
    uint64_t lost = 0, masked = 0;
    for (int s = 0; s < cJSON_GetArraySize(steps); s++) {
        const cJSON *st = cJSON_GetArrayItem(steps, s);
        uint64_t slots = (uint64_t)cJSON_GetObjectItem(st, "slots")->valuedouble;
        lost += slots;
        if (!strcmp(cJSON_GetObjectItem(st, "cause")->valuestring, "masked")) masked = slots;
    }
    ck_assert_uint_eq(masked, (uint64_t)H * BLOCKS * (B * (B - 1) / 2) * (E + F + 4));
    ck_assert_uint_eq(lost, e2e_path_u64(j[0], "summary.utilization_loss.peak_slots") -
                                e2e_path_u64(j[0], "summary.utilization_loss.ops"));
    cJSON_Delete(j[0]);
    cJSON_Delete(j[1]);
}
END_TEST

/* The mapper's estimate leaves a causal mask's points out too (no op,
 * no access at the keeper meeting the MACs; a word several PEs share
 * is taken as still read): on the causal layer its energy stays within
 * 10% of the engine's for every Einsum of every block and dataflow.
 * Counting the masked points, it was up to 50% high (SN of block q0
 * under rs: the diagonal block's exponentials, half of them masked). */
START_TEST(causal_estimate_tracks_the_engine) {
    const char *dfs[] = {"os", "ws", "rs"};
    for (size_t d = 0; d < sizeof dfs / sizeof dfs[0]; d++) {
        /* (a budget that keeps the sanitizer build's run short) */
        const char *args[] = {"run", "configs/edge_8x8.yaml", CAUSAL, dfs[d], "--evaluations",
                              "2000", "--json", NULL};
        cJSON *j = run_json(args);
        const cJSON *layers = e2e_get(j, "layers");
        int checked = 0;
        for (int l = 0; l < cJSON_GetArraySize(layers); l++) {
            const cJSON *es = cJSON_GetObjectItem(cJSON_GetArrayItem(layers, l), "einsums");
            for (int e = 0; e < cJSON_GetArraySize(es); e++) {
                const cJSON *ein = cJSON_GetArrayItem(es, e);
                double est = e2e_path_double(ein, "search.estimated_energy_pj");
                double sim = e2e_path_double(ein, "summary.energy_pj");
                ck_assert_msg(sim > 0 && fabs(est / sim - 1) <= 0.10,
                              "%s, layer %d Einsum %d: estimated %.0f pJ, simulated %.0f pJ",
                              dfs[d], l, e, est, sim);
                checked++;
            }
        }
        ck_assert_int_eq(checked, 1 + 4 * 6);
        cJSON_Delete(j);
    }
}
END_TEST

/* GPT-2 small (workloads/gpt2_small.yaml) simulated in prefill at its
 * defaults (S = 1024 tokens, blocks of B = 256): query p meets keys
 * 0 .. p, so attention's Q.K and A.V each do 12 heads x S (S + 1) / 2
 * scores x 64, and the layer 7,077,888 S + 768 S (S + 1) MACs (the
 * linear layers: 2304 + 768 + 2 x 3072 times 768 S). Block b does
 * 2 x 12 x (b B^2 + B (B + 1) / 2) x 64: the keys before its first
 * query and the lower triangle of the diagonal block. */
START_TEST(gpt2_small_macs_are_the_causal_closed_form) {
    const char *args[] = {"run", "configs/edge_8x8.yaml", "workloads/gpt2_small.yaml", "os",
                          "--evaluations", "100", "--json", NULL};
    cJSON *j = run_json(args);
    const uint64_t S = 1024, B = 256;
    ck_assert_uint_eq(e2e_summary_u64(j, "macs"), 7077888 * S + 768 * S * (S + 1));
    ck_assert_uint_eq(e2e_summary_u64(j, "macs"), UINT64_C(8053850112));
    for (uint64_t b = 0; b < S / B; b++) {
        char p[96];
        snprintf(p, sizeof p, "layers[%d].summary.macs", (int)b + 1);
        ck_assert_uint_eq(e2e_path_u64(j, p), 2 * 12 * (b * B * B + B * (B + 1) / 2) * 64);
    }
    cJSON_Delete(j);
}
END_TEST

/* Bad causal: keys, each located with what was expected. */
static const struct { const char *causal, *ranks, *message; } causal_errors[] = {
    {"{query: P, key: N, block: 4}", "{H: 2, M: 16, P: 16, E: 8, F: 8}",
     "layers[0].causal.key: expected one of the layer's ranks (H, M, P, E, F), found \"N\""},
    {"{query: P, key: P, block: 4}", "{H: 2, M: 16, P: 16, E: 8, F: 8}",
     "expected two different ranks, found P twice"},
    {"{query: P, key: M, block: 5}", "{H: 2, M: 16, P: 16, E: 8, F: 8}",
     "layers[0].causal.block: expected a block that divides P = 16, found 5"},
    {"{query: P, key: M, block: 4}", "{H: 2, M: 2048, P: 1, E: 8, F: 8}",
     "expected as many keys as queries, found P = 1 and M = 2048"},
    {"{query: P, key: M}", "{H: 2, M: 16, P: 16, E: 8, F: 8}", "block"},
    {"{query: P, key: M, block: 4, blok: 2}", "{H: 2, M: 16, P: 16, E: 8, F: 8}", "blok"},
};

START_TEST(causal_errors_are_located) {
    char *text = malloc(2048);
    ck_assert_ptr_nonnull(text);
    snprintf(text, 2048,
             "name: bad\nlayers:\n  - name: attention\n"
             "    einsums:\n      - \"QK[h,m,p] += Q[h,p,e] * K[h,m,e]\"\n"
             "      - \"AV[h,p,f] += QK[h,m,p] * V[h,m,f]\"\n"
             "    ranks: %s\n    causal: %s\n",
             causal_errors[_i].ranks, causal_errors[_i].causal);
    char *path = e2e_write_tmp("causal.yaml", text);
    e2e_result r;
    ck_assert(e2e_runl(&r, "validate", path, NULL));
    ck_assert_int_eq(r.exit_code, 1);
    ck_assert_msg(strstr(r.err, causal_errors[_i].message) != NULL, "stderr lacks \"%s\":\n%s",
                  causal_errors[_i].message, r.err);
    char where[512];
    snprintf(where, sizeof where, "%s:8:", path);
    ck_assert_msg(strstr(r.err, where) != NULL, "not located at line 8:\n%s", r.err);
    e2e_result_free(&r);
    free(path);
    free(text);
}
END_TEST

/* A block's name may not be a name the file gives another layer. */
START_TEST(causal_block_names_are_unique) {
    char *path = e2e_write_tmp("dup.yaml",
        "name: dup\nlayers:\n  - name: a\n    einsum: \"S[h,m,p] += Q[h,p,e] * K[h,m,e]\"\n"
        "    ranks: {H: 1, M: 8, P: 8, E: 2}\n    causal: {query: P, key: M, block: 4}\n"
        "  - name: a.q1\n    einsum: \"O[p] += I[p,c] * W[c]\"\n    ranks: {P: 2, C: 2}\n");
    e2e_result r;
    ck_assert(e2e_runl(&r, "validate", path, NULL));
    ck_assert_int_eq(r.exit_code, 1);
    ck_assert_msg(strstr(r.err, "duplicate layer name \"a.q1\" once the causal layers are "
                                "split into blocks") != NULL, "%s", r.err);
    e2e_result_free(&r);
    free(path);
}
END_TEST

/* compare: every dataflow did the same work; the winner has the lowest
 * objective over the whole network, recomputed here from the JSON. */
START_TEST(compare_picks_the_lowest_objective) {
    static const char *const objectives[] = {"edp", "energy", "latency"};
    for (int k = 0; k < 3; k++) {
        const char *args[] = {"compare", EYERISS, TINY, "--dataflows", "ws,os,rs,nlr",
                              "--objective", objectives[k], "--evaluations", "200",
                              "--json", NULL};
        cJSON *j = run_json(args);
        const cJSON *dfs = e2e_get(j, "dataflows");
        ck_assert_int_eq(cJSON_GetArraySize(dfs), 4);
        const char *want[] = {"ws", "os", "rs", "nlr"};
        double best = INFINITY;
        const char *best_name = NULL;
        for (int d = 0; d < 4; d++) {
            char p[96];
            snprintf(p, sizeof p, "dataflows[%d].dataflow", d);
            ck_assert_str_eq(e2e_path_str(j, p), want[d]);
            snprintf(p, sizeof p, "dataflows[%d].summary.macs", d);
            ck_assert_uint_eq(e2e_path_u64(j, p), 2 * 42112);
            snprintf(p, sizeof p, "dataflows[%d].summary.cycles", d);
            double cycles = (double)e2e_path_u64(j, p);
            snprintf(p, sizeof p, "dataflows[%d].summary.energy_pj", d);
            double energy = e2e_path_double(j, p);
            double v = k == 0 ? cycles * energy : k == 1 ? energy : cycles;
            if (v < best) {
                best = v;
                best_name = want[d];
            }
            snprintf(p, sizeof p, "dataflows[%d].layers[1].count", d);
            ck_assert_uint_eq(e2e_path_u64(j, p), 2);
        }
        ck_assert_str_eq(e2e_path_str(j, "best"), best_name);
        ck_assert_str_eq(e2e_path_str(j, "meta.objective"), objectives[k]);
        ck_assert_int_eq(cJSON_GetArraySize(e2e_get(j, "best_per_layer")), 3);
        cJSON_Delete(j);
    }
}
END_TEST

/* compare --seeds: each dataflow's seed objectives are what a
 * one-seed comparison with that seed measures; the reported dataflow is
 * its best seed; spread, margin and the verdict follow from those
 * numbers by their definitions (docs/output.md). */
START_TEST(compare_seeds_measure_the_noise) {
    const char *args[] = {"compare", EYERISS, TINY, "--dataflows", "ws,rs", "--evaluations",
                          "200", "--seeds", "3", "--seed", "4", "--json", NULL};
    cJSON *j = run_json(args);
    ck_assert_uint_eq(e2e_path_u64(j, "noise.seeds"), 3);
    double best_of[2], spread[2];
    for (int d = 0; d < 2; d++) {
        char p[96];
        snprintf(p, sizeof p, "dataflows[%d].seed_objectives", d);
        const cJSON *sv = e2e_get(j, p);
        ck_assert_int_eq(cJSON_GetArraySize(sv), 3);
        double lo = INFINITY, hi = 0;
        uint64_t lo_seed = 0;
        for (int s = 0; s < 3; s++) {
            double v = cJSON_GetArrayItem(sv, s)->valuedouble;
            /* the same seed alone measures the same */
            char seed[8];
            snprintf(seed, sizeof seed, "%d", 4 + s);
            const char *one[] = {"compare", EYERISS, TINY, "--dataflows", d ? "rs" : "ws",
                                 "--evaluations", "200", "--seeds", "1", "--seed", seed,
                                 "--json", NULL};
            cJSON *o = run_json(one);
            double c = (double)e2e_path_u64(o, "dataflows[0].summary.cycles");
            double e = e2e_path_double(o, "dataflows[0].summary.energy_pj");
            ck_assert_msg(fabs(c * e - v) <= 1e-9 * v, "seed %d: %.17g alone, %.17g in --seeds",
                          4 + s, c * e, v);
            ck_assert_msg(cJSON_IsNull(e2e_get(o, "noise.within_noise")), "one seed: null");
            cJSON_Delete(o);
            if (v < lo) {
                lo = v;
                lo_seed = (uint64_t)(4 + s);
            }
            if (v > hi) hi = v;
        }
        snprintf(p, sizeof p, "dataflows[%d].seed", d);
        ck_assert_uint_eq(e2e_path_u64(j, p), lo_seed);
        snprintf(p, sizeof p, "dataflows[%d].summary.cycles", d);
        double c = (double)e2e_path_u64(j, p);
        snprintf(p, sizeof p, "dataflows[%d].summary.energy_pj", d);
        double e = e2e_path_double(j, p);
        ck_assert_msg(fabs(c * e - lo) <= 1e-9 * lo, "reported %.17g, best seed %.17g", c * e, lo);
        best_of[d] = lo;
        spread[d] = (hi - lo) / lo;
        snprintf(p, sizeof p, "noise.spread.%s", d ? "rs" : "ws");
        ck_assert(fabs(e2e_path_double(j, p) - spread[d]) <= 1e-12);
    }
    int w = best_of[1] < best_of[0];
    ck_assert_str_eq(e2e_path_str(j, "best"), w ? "rs" : "ws");
    ck_assert_str_eq(e2e_path_str(j, "noise.runner_up"), w ? "ws" : "rs");
    double margin = (best_of[!w] - best_of[w]) / best_of[w];
    double noise = spread[0] > spread[1] ? spread[0] : spread[1];
    ck_assert(fabs(e2e_path_double(j, "noise.margin") - margin) <= 1e-12);
    ck_assert(fabs(e2e_path_double(j, "noise.noise") - noise) <= 1e-12);
    ck_assert(cJSON_IsBool(e2e_get(j, "noise.within_noise")));
    ck_assert_int_eq(cJSON_IsTrue(e2e_get(j, "noise.within_noise")), margin <= noise);
    cJSON_Delete(j);
    /* the table says it in words */
    e2e_result r;
    ck_assert(e2e_runl(&r, "compare", EYERISS, TINY, "--dataflows", "ws,rs", "--evaluations",
                       "200", "--seeds", "3", "--seed", "4", NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    ck_assert_msg(strstr(r.out, margin <= noise ? "are within noise" : "above the noise"),
                  "%s", r.out);
    e2e_result_free(&r);
    ck_assert(e2e_runl(&r, "compare", EYERISS, TINY, "--seeds", "0", NULL));
    ck_assert_int_eq(r.exit_code, 2);
    ck_assert_msg(strstr(r.err, "--seeds expects a number from 1 to 16") != NULL, "%s", r.err);
    e2e_result_free(&r);
}
END_TEST

/* The table a user reads: one row per dataflow, the winner marked, the
 * per-layer section and the mappings; the same run writes JSON with -o. */
START_TEST(compare_table_and_file) {
    char *out = e2e_tmp_path("compare.json");
    e2e_result r;
    ck_assert(e2e_runl(&r, "compare", EYERISS, TINY, "--dataflows", "ws,rs", "--evaluations",
                       "200", "-o", out, NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    ck_assert_msg(strstr(r.out, "tiny_net on eyeriss_like (168 PEs), objective edp") != NULL, "%s",
                  r.out);
    ck_assert_msg(strstr(r.out, "<- best") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "per layer, energy pJ/MAC") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "mappings found:") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "  rs    gconv  DRAM") != NULL, "%s", r.out);
    cJSON *j = e2e_load_json(out);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetArraySize(e2e_get(j, "dataflows")), 2);
    cJSON_Delete(j);
    e2e_result_free(&r);
    unlink(out);
    free(out);
}
END_TEST

/* compare -q, as run -q: nothing on stdout on success, the JSON of -o
 * still written whole (the same dataflows, the same best); a fused
 * dataflow's notes are not printed either. */
START_TEST(compare_quiet) {
    char *out = e2e_tmp_path("compare_q.json");
    e2e_result r;
    ck_assert(e2e_runl(&r, "compare", EYERISS, TINY, "--dataflows", "ws,rs", "--evaluations",
                       "200", "-q", "-o", out, NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    ck_assert_msg(r.out[0] == 0, "compare -q printed:\n%s", r.out);
    ck_assert_msg(r.err[0] == 0, "compare -q printed on stderr:\n%s", r.err);
    cJSON *j = e2e_load_json(out);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetArraySize(e2e_get(j, "dataflows")), 2);
    ck_assert(!strcmp(e2e_path_str(j, "best"), "ws") || !strcmp(e2e_path_str(j, "best"), "rs"));
    cJSON_Delete(j);
    e2e_result_free(&r);
    /* --quiet is the long form; without -o nothing at all */
    ck_assert(e2e_runl(&r, "compare", "configs/edge_8x8.yaml", "workloads/attention.yaml",
                       "--dataflows", "fused", "--evaluations", "100", "--quiet", NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    ck_assert_msg(r.out[0] == 0 && r.err[0] == 0, "out:\n%s\nerr:\n%s", r.out, r.err);
    e2e_result_free(&r);
    unlink(out);
    free(out);
}
END_TEST

/* One layer of a network through `map --layers`, run back with the same
 * selection: the cycles the mapping file claims. */
START_TEST(map_one_layer_of_a_network) {
    char *yaml = e2e_tmp_path("gconv.yaml");
    e2e_result r;
    ck_assert(e2e_runl(&r, "map", EYERISS, TINY, "--layers", "gconv", "--batch", "3",
                       "--dataflow", "ws", "--evaluations", "300", "-o", yaml, "-q", NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    e2e_result_free(&r);
    char *text = e2e_read_file(yaml, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "THIS_FILE --layers gconv --batch 3") != NULL, "%s", text);
    uint64_t claimed = e2e_mapping_claimed_cycles(text);
    ck_assert_msg(claimed > 0, "%s", text);
    const char *args[] = {"run", EYERISS, TINY, yaml, "--layers", "gconv", "--batch", "3",
                          "--json", NULL};
    cJSON *j = run_json(args);
    ck_assert_uint_eq(e2e_path_u64(j, "layers[0].summary.cycles"), claimed);
    ck_assert_uint_eq(e2e_summary_u64(j, "macs"), 2 * 3 * 10368);
    cJSON_Delete(j);
    /* several layers cannot share one mapping file */
    ck_assert(e2e_runl(&r, "map", EYERISS, TINY, "--dataflow", "ws", NULL));
    ck_assert_int_eq(r.exit_code, 1);
    ck_assert_msg(strstr(r.err, "a mapping file maps one workload, but 3 layers are selected"),
                  "%s", r.err);
    e2e_result_free(&r);
    free(text);
    unlink(yaml);
    free(yaml);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_network");
    TCase *tc = tcase_create("network");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_test(tc, network_totals_are_layer_sums);
    tcase_add_test(tc, batch_and_layers_options);
    tcase_add_test(tc, network_errors);
    tcase_add_loop_test(tc, causal_layer_runs_in_blocks, 0,
                        (int)(sizeof causal_runs / sizeof causal_runs[0]));
    tcase_add_loop_test(tc, causal_errors_are_located, 0,
                        (int)(sizeof causal_errors / sizeof causal_errors[0]));
    tcase_add_test(tc, causal_block_names_are_unique);
    tcase_add_test(tc, causal_engines_agree_and_show_masked_slots);
    tcase_add_test(tc, causal_estimate_tracks_the_engine);
    tcase_add_test(tc, gpt2_small_macs_are_the_causal_closed_form);
    tcase_add_test(tc, compare_picks_the_lowest_objective);
    tcase_add_test(tc, compare_table_and_file);
    tcase_add_test(tc, compare_seeds_measure_the_noise);
    tcase_add_test(tc, compare_quiet);
    tcase_add_test(tc, map_one_layer_of_a_network);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
