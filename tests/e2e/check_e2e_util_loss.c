/* End to end: summary.utilization_loss, the step-by-step view from the
 * peak to the achieved utilization (docs/model.md section 4.9).
 *
 *   - On every bundled mapping (mappings/, found at run time), the
 *     vector-unit cases of tests/data and a network run, every summary
 *     (the run's, each Einsum's, each layer's) satisfies the identity
 *     sum(steps[].slots) == peak_slots - ops exactly, with peak_slots =
 *     cycles x pes x steps_per_cycle; for each Einsum, the terms of the
 *     stall causes add up to the stall cycles x pes x steps_per_cycle
 *     and the rest to the compute cycles' slots less the ops.
 *   - A network's summary is the sum of its layers' times their counts.
 *   - Hand-worked cases on a 1 x 4 array (tests/data/util_1x4*.yaml),
 *     every term derived below, under both engines. */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

static uint64_t u64_of(const cJSON *o, const char *key) {
    uint64_t v = 0;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(it && e2e_u64(it, &v), "utilization_loss.%s is not a counter", key);
    return v;
}

/* slots of one cause, 0 when absent */
static uint64_t slots_of(const cJSON *loss, const char *cause) {
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(loss, "steps")) {
        if (!strcmp(cJSON_GetObjectItemCaseSensitive(s, "cause")->valuestring, cause))
            return u64_of(s, "slots");
    }
    return 0;
}

static bool compute_term(const char *cause) {
    static const char *const terms[] = {"issue_gaps", "unused_pes", "spatial_edge",
                                        "temporal_edge", "partial_steps"};
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++)
        if (!strcmp(cause, terms[i])) return true;
    return false;
}

/* One summary: the identity, the peak, the achieved utilization; with
 * einsum set (one Einsum's own summary), the split between stalled and
 * compute cycles too. */
static void check_summary(const char *what, const cJSON *sm, bool einsum) {
    const cJSON *loss = cJSON_GetObjectItemCaseSensitive(sm, "utilization_loss");
    ck_assert_msg(loss != NULL, "%s: no utilization_loss", what);
    uint64_t peak = u64_of(loss, "peak_slots"), ops = u64_of(loss, "ops");
    uint64_t pes = u64_of(loss, "pes"), spc = u64_of(loss, "steps_per_cycle");
    uint64_t cycles = e2e_path_u64(sm, "cycles");
    ck_assert_msg(peak == cycles * pes * spc, "%s: peak_slots %llu != %llu cycles x %llu x %llu",
                  what, (unsigned long long)peak, (unsigned long long)cycles,
                  (unsigned long long)pes, (unsigned long long)spc);
    ck_assert_uint_eq(u64_of(loss, "lost_slots"), peak - ops);
    uint64_t sum = 0, stalled = 0;
    double left = 1.0;
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(loss, "steps")) {
        uint64_t n = u64_of(s, "slots");
        const char *cause = cJSON_GetObjectItemCaseSensitive(s, "cause")->valuestring;
        ck_assert_msg(n > 0, "%s: cause %s listed with 0 slots", what, cause);
        sum += n;
        if (!compute_term(cause)) stalled += n;
        left -= (double)n / (double)peak;
        ck_assert(fabs(e2e_path_double(s, "remaining") - left) < 1e-9);
    }
    ck_assert_msg(sum == peak - ops, "%s: the steps add up to %llu slots, peak - ops is %llu",
                  what, (unsigned long long)sum, (unsigned long long)(peak - ops));
    bool vector = !strcmp(e2e_path_str(loss, "unit"), "vector");
    double util = e2e_path_double(sm, vector ? "vector_utilization" : "utilization");
    ck_assert_msg(fabs(e2e_path_double(loss, "utilization") - util) < 1e-12,
                  "%s: utilization_loss.utilization %.17g != %.17g", what,
                  e2e_path_double(loss, "utilization"), util);
    if (!einsum) return;
    uint64_t compute = e2e_path_u64(sm, "compute_cycles");
    ck_assert_msg(stalled == (cycles - compute) * pes * spc,
                  "%s: fill and stall causes %llu slots != %llu stall cycles x %llu x %llu", what,
                  (unsigned long long)stalled, (unsigned long long)(cycles - compute),
                  (unsigned long long)pes, (unsigned long long)spc);
    ck_assert_msg(sum - stalled == compute * pes * spc - ops,
                  "%s: the compute cycles' terms %llu slots != %llu x %llu x %llu - %llu ops",
                  what, (unsigned long long)(sum - stalled), (unsigned long long)compute,
                  (unsigned long long)pes, (unsigned long long)spc, (unsigned long long)ops);
}

/* Every summary of a run: the top one, einsums[], layers[] and theirs. */
static void check_all(const char *what, const cJSON *root) {
    check_summary(what, cJSON_GetObjectItemCaseSensitive(root, "summary"),
                  !cJSON_GetObjectItemCaseSensitive(root, "layers") &&
                      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "einsums")) == 1);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "einsums")) {
        check_summary(what, cJSON_GetObjectItemCaseSensitive(e, "summary"), true);
    }
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(root, "layers")) {
        check_all(what, l);
    }
}

/* ---------- every bundled mapping ---------- */

#define MAX_CASES 64
typedef struct {
    char arch[600], workload[600], mapping[600];
} run_case;
static run_case cases[MAX_CASES];
static int case_count;

/* dir/<config>__<workload>[_suffix].yaml: the config in cfg_dir, the
 * workload the longest name in workloads/ or tests/data that prefixes
 * the rest */
static void scan(const char *dir, const char *cfg_dir) {
    DIR *d = opendir(dir);
    if (!d) { /* outside any test: the binary fails on its own */
        fprintf(stderr, "check_e2e_util_loss: cannot list %s\n", dir);
        exit(EXIT_FAILURE);
    }
    struct dirent *de;
    while ((de = readdir(d)) && case_count < MAX_CASES) {
        const char *sep = strstr(de->d_name, "__");
        size_t len = strlen(de->d_name);
        if (!sep || len < 6 || strcmp(de->d_name + len - 5, ".yaml")) continue;
        run_case *c = &cases[case_count];
        snprintf(c->mapping, sizeof c->mapping, "%s/%s", dir, de->d_name);
        snprintf(c->arch, sizeof c->arch, "%s/%.*s.yaml", cfg_dir, (int)(sep - de->d_name),
                 de->d_name);
        const char *rest = sep + 2;
        size_t best = 0;
        const char *wdirs[] = {"workloads", "tests/data"};
        for (int k = 0; k < 2; k++) {
            DIR *w = opendir(wdirs[k]);
            struct dirent *we;
            while (w && (we = readdir(w))) {
                size_t wl = strlen(we->d_name);
                if (wl < 6 || strstr(we->d_name, "__") || strcmp(we->d_name + wl - 5, ".yaml"))
                    continue;
                if (wl - 5 > best && !strncmp(rest, we->d_name, wl - 5)) {
                    best = wl - 5;
                    snprintf(c->workload, sizeof c->workload, "%s/%s", wdirs[k], we->d_name);
                }
            }
            if (w) closedir(w);
        }
        /* only cases whose files are all here (a data file may serve
         * another test) */
        if (best && e2e_file_exists(c->arch)) case_count++;
    }
    closedir(d);
}

START_TEST(identity_on_bundled) {
    ck_assert_msg(case_count >= 15, "only %d cases found", case_count);
    const run_case *c = &cases[_i];
    for (int e = 0; e < 2; e++) {
        const char *extra[] = {"--engine", e ? "event" : "step", NULL};
        cJSON *r = e2e_run_json(c->arch, c->workload, c->mapping, extra);
        check_all(c->mapping, r);
        cJSON_Delete(r);
    }
}
END_TEST

/* ---------- a network: layers x counts ---------- */

START_TEST(identity_on_network) {
    const char *extra[] = {"--evaluations", "300", NULL};
    cJSON *r = e2e_run_json("configs/eyeriss_like.yaml", "tests/data/tiny_net.yaml", "ws", extra);
    check_all("tiny_net ws", r);
    /* the network's slots, cause by cause, are its layers' x counts */
    const cJSON *total = e2e_get(r, "summary.utilization_loss");
    uint64_t peak = 0, ops = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(r, "layers")) {
        uint64_t count = e2e_path_u64(l, "count");
        const cJSON *loss = e2e_get(l, "summary.utilization_loss");
        peak += count * u64_of(loss, "peak_slots");
        ops += count * u64_of(loss, "ops");
    }
    ck_assert_uint_eq(u64_of(total, "peak_slots"), peak);
    ck_assert_uint_eq(u64_of(total, "ops"), ops);
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(total, "steps")) {
        const char *cause = cJSON_GetObjectItemCaseSensitive(s, "cause")->valuestring;
        uint64_t want = 0;
        cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(r, "layers")) {
            want += e2e_path_u64(l, "count") * slots_of(e2e_get(l, "summary.utilization_loss"),
                                                          cause);
        }
        ck_assert_msg(u64_of(s, "slots") == want, "network %s: %llu slots, layers x counts %llu",
                      cause, (unsigned long long)u64_of(s, "slots"), (unsigned long long)want);
    }
    cJSON_Delete(r);
}
END_TEST

/* ---------- hand-worked cases on 1 x 4 PEs ---------- */

#define ARCH "tests/data/util_1x4.yaml"
#define SLOW "tests/data/util_1x4_slow.yaml"
#define CONV "workloads/conv1d.yaml"
#define SPATIAL "tests/data/util_1x4__conv1d_spatial_edge.yaml"
#define TEMPORAL "tests/data/util_1x4__conv1d_temporal_edge.yaml"

typedef struct {
    const char *cause;
    uint64_t slots;
} want_step;

/* The run's utilization_loss under both engines: the same JSON, and the
 * steps exactly want[] in order. */
static void expect(const char *arch, const char *mapping, uint64_t cycles, uint64_t peak,
                   const want_step *want, int n) {
    char *text[2];
    for (int e = 0; e < 2; e++) {
        const char *extra[] = {"--engine", e ? "event" : "step", NULL};
        cJSON *r = e2e_run_json(arch, CONV, mapping, extra);
        check_all(mapping, r);
        ck_assert_uint_eq(e2e_summary_u64(r, "cycles"), cycles);
        const cJSON *loss = e2e_get(r, "summary.utilization_loss");
        ck_assert_uint_eq(u64_of(loss, "peak_slots"), peak);
        ck_assert_uint_eq(u64_of(loss, "ops"), 48);
        const cJSON *steps = cJSON_GetObjectItemCaseSensitive(loss, "steps");
        ck_assert_int_eq(cJSON_GetArraySize(steps), n);
        for (int k = 0; k < n; k++) {
            const cJSON *s = cJSON_GetArrayItem(steps, k);
            ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(s, "cause")->valuestring,
                             want[k].cause);
            ck_assert_msg(u64_of(s, "slots") == want[k].slots, "%s %s: %llu slots, want %llu",
                          mapping, want[k].cause, (unsigned long long)u64_of(s, "slots"),
                          (unsigned long long)want[k].slots);
        }
        text[e] = cJSON_PrintUnformatted(loss);
        cJSON_Delete(r);
    }
    ck_assert_msg(!strcmp(text[0], text[1]), "%s: engines differ:\n%s\n%s", mapping, text[0],
                  text[1]);
    free(text[0]);
    free(text[1]);
}

/* O[p] += I[p+r] * W[r], P 16, R 3: 48 MACs. P = 6 (time, stride 3) x
 * 3 (cols, stride 1), R 3 in each PE. Unlimited memories: no stalls,
 * one step a cycle.
 *   steps: p1 in 0..5 (3 p1 < 16) x r 3 = 18; cycles 18; peak 18 x 4 = 72
 *   unused_pes: the mapping puts 3 of the 4 PEs to work: 1 x 18 = 18
 *   spatial_edge: at p1 = 5 the tile is p 15, 16, 17: PEs 1 and 2 are
 *     past the bound, crossed by the spatial digit, for r's 3 steps: 6
 *   72 - 18 - 6 = 48 MACs: utilization 2/3. */
START_TEST(hand_spatial_edge) {
    const want_step w[] = {{"unused_pes", 18}, {"spatial_edge", 6}};
    expect(ARCH, SPATIAL, 18, 72, w, 2);
}
END_TEST

/* The same with P = 3 (cols, stride 6) x 6 (time, stride 1): PE k
 * works on p 6k .. 6k + 5.
 *   steps: p0 6 x r 3 = 18 (PE 0 runs every p0); peak 72
 *   unused_pes: 1 PE x 18 = 18
 *   temporal_edge: PE 2's p 16, 17 (p0 = 4, 5) are past the bound,
 *     crossed by the temporal digit: 2 x r 3 = 6 */
START_TEST(hand_temporal_edge) {
    const want_step w[] = {{"unused_pes", 18}, {"temporal_edge", 6}};
    expect(ARCH, TEMPORAL, 18, 72, w, 2);
}
END_TEST

/* The temporal-edge mapping under a main memory of latency 4 that takes
 * one byte a cycle back. The Buffer's one tile arrives after the
 * latency: 4 cycles before the first step, fill 4 x 4 PEs = 16 slots.
 * Then 18 steps, and the 16 outputs (8 bits) go back at 1 B a cycle:
 * final_drain 16 cycles x 4 = 64. cycles 4 + 18 + 16 = 38, peak 152;
 * the idle PEs as above. */
START_TEST(hand_fill_and_drain) {
    const want_step w[] = {{"fill", 16}, {"final_drain", 64}, {"unused_pes", 18},
                           {"temporal_edge", 6}};
    expect(SLOW, TEMPORAL, 38, 152, w, 4);
}
END_TEST

/* With tiles changing (the spatial-edge mapping refills the Buffer at
 * every p1), the latency stalls after the first step too: they are
 * their cause's, not the fill's, and the causes add up to the stall
 * cycles (check_summary). */
START_TEST(stalls_after_fill) {
    cJSON *r = e2e_run_json(SLOW, CONV, SPATIAL, NULL);
    check_all(SPATIAL, r);
    const cJSON *loss = e2e_get(r, "summary.utilization_loss");
    uint64_t lat = 0;
    ck_assert(e2e_u64(cJSON_GetObjectItemCaseSensitive(e2e_get(r, "summary.stall_cycles"),
                                                       "MainMemory.latency"), &lat));
    /* the first 4 cycles of latency are the fill; the rest stall later
     * tiles on all 4 PEs */
    ck_assert_uint_eq(slots_of(loss, "fill"), 4 * 4);
    ck_assert_uint_gt(lat, 4);
    ck_assert_uint_eq(slots_of(loss, "MainMemory.latency"), (lat - 4) * 4);
    cJSON_Delete(r);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_util_loss");
    TCase *tc = tcase_create("identity");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(tc, identity_on_bundled, 0, case_count ? case_count : 1);
    tcase_add_test(tc, identity_on_network);
    suite_add_tcase(s, tc);
    TCase *th = tcase_create("hand_worked");
    tcase_set_timeout(th, E2E_TCASE_TIMEOUT);
    tcase_add_test(th, hand_spatial_edge);
    tcase_add_test(th, hand_temporal_edge);
    tcase_add_test(th, hand_fill_and_drain);
    tcase_add_test(th, stalls_after_fill);
    suite_add_tcase(s, th);
    return s;
}

int main(void) {
    e2e_init();
    scan("mappings", "configs");
    scan("tests/data", "tests/data");
    return e2e_run_suite(suite());
}
