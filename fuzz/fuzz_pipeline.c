/* Fuzz target `pipeline`: the whole run on a small bundled
 * architecture: a fuzzed workload (or network) and a fuzzed mapping
 * are loaded, built into nests and simulated on both engines with the
 * value check, as `einflow run ARCH W M --check-values` does with
 * --engine step and --engine event; then both results are rendered as
 * JSON.
 *
 * Input: byte 0 picks the architecture (fuzz_archs.c, in the order of
 * fuzz/CMakeLists.txt), byte 1 the fold model (bit 0) and the value
 * seed (the other bits); then the workload text, a line "%%", and the
 * mapping text.
 *
 * Bugs it stops on (abort, so libFuzzer keeps the input): a loader or
 * stage that fails without a diagnostic, a value check that fails (the
 * nest computed a wrong output), and any difference between the two
 * engines' results (docs/model.md: the event engine must give the
 * step engine's results). Inputs too big to run quickly are skipped
 * before any simulation: more than FZ_MAX_POINTS iteration points in
 * all, or tensors of more than FZ_MAX_WORDS words. Set EF_FUZZ_VERBOSE
 * in the environment to see why an input stopped short of the engines
 * (useful when writing seeds for fuzz/corpus/pipeline). */
#include <cjson/cJSON.h>
#include <string.h>

#include "einflow/einsum.h"
#include "einflow/model.h"
#include "einflow/report.h"
#include "einflow/sim.h"
#include "einflow/spec.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the bundled architectures, embedded at build time (fuzz_archs.c) */
extern const char *const fz_arch_names[];
extern const char *const fz_arch_texts[];
extern const int fz_arch_count;

#define FZ_MAX_POINTS (UINT64_C(1) << 13) /* iteration points of one input */
#define FZ_MAX_WORDS (UINT64_C(1) << 18)  /* tensor words of one layer    */
#define FZ_MAX_LAYERS 4                   /* layers of one network input */

static const char separator[] = "\n%%\n";

/* The first separator in text[0 .. size), or NULL. */
static const char *find_separator(const char *text, size_t size) {
    size_t n = sizeof separator - 1;
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(text + i, separator, n) == 0) return text + i;
    return NULL;
}

/* Says, when EF_FUZZ_VERBOSE is set, why an input went no further. */
static void verbose(const char *why, const ef_diags *d) {
    if (!getenv("EF_FUZZ_VERBOSE")) return;
    char *text = d ? ef_diags_render(d) : NULL;
    fprintf(stderr, "pipeline: %s\n%s", why, text ? text : "");
    free(text);
}

/* ---------- the two engines agree ---------- */

static void same_u64(const char *what, int i, uint64_t step, uint64_t event) {
    if (step != event)
        FZ_FAIL("engines differ: %s (%d): step %llu, event %llu", what, i,
                (unsigned long long)step, (unsigned long long)event);
}

/* Every counter of two results of one nest: a = step, b = event. */
static void same_results(const ef_result *a, const ef_result *b) {
#define SAME(f) same_u64(#f, 0, (uint64_t)a->f, (uint64_t)b->f)
    SAME(ops);
    SAME(cycles);
    SAME(compute_cycles);
    SAME(skew_cycles);
    SAME(stall_total);
    SAME(stall_count);
    SAME(values_compared);
    SAME(fused_count);
    SAME(fused_index);
    SAME(span_cycles);
    SAME(noc.words_sent);
    SAME(noc.deliveries);
    SAME(noc.hops);
    SAME(noc.reductions);
    SAME(noc.words_returned);
#undef SAME
    for (int i = 0; i < a->stall_count && i < EF_MAX_STALL_CAUSES; i++) {
        if (strcmp(a->stalls[i].cause, b->stalls[i].cause) != 0)
            FZ_FAIL("engines differ: stalls[%d].cause: step %s, event %s", i, a->stalls[i].cause,
                    b->stalls[i].cause);
        same_u64("stalls[i].cycles", i, a->stalls[i].cycles, b->stalls[i].cycles);
    }
    for (int l = 0; l < EF_MAX_LEVELS; l++) {
        same_u64("generations[level]", l, a->generations[l], b->generations[l]);
        for (int o = 0; o < EF_NEST_MAX_OPS; o++) {
            const ef_tensor_counters *x = &a->levels[l].ops[o], *y = &b->levels[l].ops[o];
            int at = l * 100 + o;
            same_u64("levels[l].ops[o].reads (l*100+o)", at, x->reads, y->reads);
            same_u64("levels[l].ops[o].fills (l*100+o)", at, x->fills, y->fills);
            same_u64("levels[l].ops[o].updates (l*100+o)", at, x->updates, y->updates);
            same_u64("levels[l].ops[o].max_reads (l*100+o)", at, x->max_reads, y->max_reads);
            same_u64("levels[l].ops[o].max_fills (l*100+o)", at, x->max_fills, y->max_fills);
            same_u64("levels[l].ops[o].max_updates (l*100+o)", at, x->max_updates,
                     y->max_updates);
            same_u64("levels[l].ops[o].utilized_words (l*100+o)", at, x->utilized_words,
                     y->utilized_words);
            same_u64("levels[l].ops[o].utilized_instances (l*100+o)", at,
                     x->utilized_instances, y->utilized_instances);
        }
    }
    for (int o = 0; o < EF_NEST_MAX_OPS; o++) {
        same_u64("noc.op_words_in[o]", o, a->noc.op_words_in[o], b->noc.op_words_in[o]);
        same_u64("noc.op_hops[o]", o, a->noc.op_hops[o], b->noc.op_hops[o]);
    }
}

/* ---------- one layer ---------- */

/* Whether w is small enough to simulate twice in a moment. */
static bool small_enough(const ef_workload *w, uint64_t *points_left) {
    uint64_t words = 0;
    for (int t = 0; t < w->tensor_count; t++)
        if (!ef_add_u64(words, w->tensors[t].words, &words) || words > FZ_MAX_WORDS)
            return false;
    for (int e = 0; e < w->einsum_count; e++) {
        uint64_t points = 1;
        for (int r = 0; r < w->rank_count; r++)
            if (w->einsums[e].rank_used[r] &&
                (!ef_mul_u64(points, w->rank_bounds[r], &points) || points > *points_left))
                return false;
        *points_left -= points;
    }
    return true;
}

/* Runs the cascade of nests on one engine; out[] gets its results. */
static ef_status run_engine(ef_nest *const *nests, const ef_workload *w, ef_engine engine,
                            const ef_sim_options *base, ef_result **out, ef_diags *d) {
    ef_sim_options opt = *base;
    opt.engine = engine;
    ef_values *vals = ef_values_create(w, opt.seed);
    if (!vals) return EF_ERR_NOMEM;
    ef_status st = ef_sim_run_cascade(nests, w->einsum_count, &opt, vals, 1, out, d);
    ef_values_destroy(vals);
    return st;
}

static void run_layer(const ef_arch_spec *arch, const ef_workload_spec *ws,
                      const ef_mapping_spec *map, const ef_sim_options *opt,
                      uint64_t *points_left, ef_diags *d) {
    ef_workload *w = ef_einsum_build(ws, d);
    if (!w) {
        fz_check_failed_load(d, "ef_einsum_build");
        verbose("the Einsums do not build", d);
        return;
    }
    ef_nest *nests[EF_MAX_EINSUMS] = {0};
    ef_result *step[EF_MAX_EINSUMS] = {0}, *event[EF_MAX_EINSUMS] = {0};
    if (!small_enough(w, points_left)) {
        verbose("too big to simulate here", NULL);
        goto done;
    }
    for (int e = 0; e < w->einsum_count; e++)
        if (!(nests[e] = ef_nest_build(arch, w, map, e, d))) {
            fz_check_failed_load(d, "ef_nest_build");
            verbose("the mapping does not build", d);
            goto done;
        }
    ef_status s1 = run_engine(nests, w, EF_ENGINE_STEP, opt, step, d);
    ef_status s2 = run_engine(nests, w, EF_ENGINE_EVENT, opt, event, d);
    if (s1 == EF_ERR_VALUES || s2 == EF_ERR_VALUES)
        FZ_FAIL("the value check failed (step %d, event %d)", (int)s1, (int)s2);
    if (s1 != s2) FZ_FAIL("engines differ: step status %d, event status %d", (int)s1, (int)s2);
    if (s1 != EF_OK) {
        if (s1 != EF_ERR_NOMEM) fz_check_failed_load(d, "ef_sim_run_cascade");
        verbose("the run failed", d);
        goto done;
    }
    for (int e = 0; e < w->einsum_count; e++) {
        if (!step[e] || !event[e]) FZ_FAIL("Einsum %d has no result", e);
        same_results(step[e], event[e]);
        if (step[e]->ops != nests[e]->total_ops)
            FZ_FAIL("Einsum %d ran %llu of its %llu points", e,
                    (unsigned long long)step[e]->ops, (unsigned long long)nests[e]->total_ops);
    }
    ef_run_meta meta = {.arch_file = arch->file, .workload_file = ws->file,
                        .mapping_file = map->file, .engine = "step", .fold_model = "overlap",
                        .check_values = true, .seed = opt->seed};
    char *json = ef_report_json((const ef_result *const *)step, w->einsum_count, &meta);
    char *table = ef_report_table((const ef_result *const *)event, w->einsum_count, &meta);
    if (json) {
        /* NaN and infinities print as invalid JSON */
        cJSON *doc = cJSON_ParseWithOpts(json, NULL, true);
        if (!doc) FZ_FAIL("the JSON report does not parse:\n%s", json);
        cJSON_Delete(doc);
    }
    free(json);
    free(table);
    verbose("simulated", NULL);
done:
    for (int e = 0; e < EF_MAX_EINSUMS; e++) {
        ef_result_destroy(step[e]);
        ef_result_destroy(event[e]);
        ef_nest_destroy(nests[e]);
    }
    ef_workload_destroy(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > FZ_MAX_INPUT_BYTES) return 0;
    int which = data[0] % fz_arch_count;
    ef_sim_options opt = {.fold_model = (data[1] & 1) ? EF_FOLD_SCALESIM : EF_FOLD_OVERLAP,
                          .check_values = true, .seed = data[1] >> 1};
    const char *text = (const char *)data + 2;
    size_t text_size = size - 2;
    const char *sep = find_separator(text, text_size);
    if (!sep) {
        verbose("no line %% between the workload and the mapping", NULL);
        return 0;
    }
    size_t wsize = (size_t)(sep - text) + 1; /* keeps the newline */
    const char *mtext = sep + sizeof separator - 1;
    size_t msize = text_size - (size_t)(mtext - text);

    ef_diags *d = ef_diags_create();
    ef_arch_spec *arch = NULL;
    ef_network_spec *net = NULL;
    ef_mapping_spec *map = NULL;
    if (!d) goto done;
    char arch_name[96];
    snprintf(arch_name, sizeof arch_name, "<bundled %s>", fz_arch_names[which]);
    arch = ef_spec_load_arch_text(arch_name, fz_arch_texts[which], strlen(fz_arch_texts[which]), d);
    if (!arch) FZ_FAIL("bundled architecture %s does not load", fz_arch_names[which]);
    net = ef_spec_load_network_text("<fuzz workload>", text, wsize, NULL, 0, d);
    map = ef_spec_load_mapping_text("<fuzz mapping>", mtext, msize, d);
    if (!net || !map) {
        fz_check_failed_load(d, "loading the workload or mapping");
        verbose("the workload or mapping does not load", d);
        goto done;
    }
    /* the mapper's search is not this target's: its time is unbounded */
    for (int i = 0; i < map->mapping_count; i++)
        if (map->mappings[i].dataflow[0]) {
            verbose("a mapping entry names a dataflow", NULL);
            goto done;
        }
    uint64_t points_left = FZ_MAX_POINTS;
    for (int i = 0; i < net->layer_count && i < FZ_MAX_LAYERS; i++) {
        ef_diags_clear(d);
        run_layer(arch, net->layers[i].workload, map, &opt, &points_left, d);
    }
done:
    ef_mapping_spec_destroy(map);
    ef_network_spec_destroy(net);
    ef_arch_spec_destroy(arch);
    ef_diags_destroy(d);
    return 0;
}
