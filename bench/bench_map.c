/* einflow_bench, part 2: the mapper and whole networks.
 *
 *   mapper rate   for each bundled layer and dataflow, one search of N
 *                 candidates with no engine run: candidates and legal
 *                 mappings per second of one thread;
 *   mapper best   for each bundled layer, the free search bounded by S
 *                 seconds (the engine confirming the best 3): the best
 *                 mapping found, as the engine measures it;
 *   network       every conv and FC layer of ResNet-50 (batch 1) on each
 *                 config: mappings found first (not timed), then nest
 *                 build + simulation of all layers on one thread, R
 *                 repetitions; repeated layers are simulated once and
 *                 counted `count` times.
 *
 * Like the rest of the benchmark: figures, not assertions. */
#include "bench/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einflow/einsum.h"
#include "einflow/map.h"
#include "einflow/model.h"
#include "einflow/sim.h"
#include "einflow/spec.h"
#include "einflow/stats.h"

typedef struct {
    const char *name, *arch, *workload, *dataflow;
} layer_case;

/* The bundled layers (workloads/) on the configs they are mapped to in
 * mappings/. The dataflow of the network runs is the config's own. */
static const layer_case layers[] = {
    {"resnet50_conv3x3@eyeriss_like", "configs/eyeriss_like.yaml", "workloads/resnet50_conv3x3.yaml", "rs"},
    {"mobilenet_dw@eyeriss_like", "configs/eyeriss_like.yaml", "workloads/mobilenet_dw.yaml", "rs"},
    {"fc@eyeriss_like", "configs/eyeriss_like.yaml", "workloads/fc.yaml", "rs"},
    {"batched_matmul@systolic_os_16x16", "configs/systolic_os_16x16.yaml", "workloads/batched_matmul.yaml", "os"},
    {"fc@systolic_ws_16x16", "configs/systolic_ws_16x16.yaml", "workloads/fc.yaml", "ws"},
    {"conv1d@teach_2level", "configs/teach_2level.yaml", "workloads/conv1d.yaml", "free"},
};

/* Every bundled config but the two teaching ones, whose outermost
 * level (64 B, 256 KiB) cannot hold a ResNet-50 layer's tensors. */
static const char *const network_configs[][2] = {
    {"configs/eyeriss_like.yaml", "rs"},
    {"configs/eyeriss_isca16_256.yaml", "rs"},
    {"configs/eyeriss_isca16_256_nlr.yaml", "nlr"},
    {"configs/systolic_os_16x16.yaml", "os"},
    /* its 2 B weight register holds one 8-bit weight, double-buffered;
     * the bundled ResNet-50 is 16-bit, so ws has no legal mapping there */
    {"configs/systolic_ws_16x16.yaml", "free"},
};

static void path_of(char *out, const bench_options *o, const char *rel) {
    snprintf(out, PATH_LEN, "%s/%s", o->root, rel);
}

static bool wanted(const bench_options *o, const char *name) {
    return !o->filter || strstr(name, o->filter);
}

static void print_and_clear(ef_diags *d) {
    if (!d->count) return;
    char *t = ef_diags_render(d);
    if (t) fputs(t, stderr);
    free(t);
    ef_diags_clear(d);
}

/* One bundled layer loaded: its architecture and built workload. */
typedef struct {
    ef_diags *d;
    ef_arch_spec *arch;
    ef_workload_spec *ws;
    ef_workload *w;           /* NULL when anything failed to load */
} loaded;

static void load_layer(loaded *L, const bench_options *o, const layer_case *c) {
    char ap[PATH_LEN], wp[PATH_LEN];
    path_of(ap, o, c->arch);
    path_of(wp, o, c->workload);
    L->d = ef_diags_create();
    L->arch = ef_spec_load_arch(ap, L->d);
    L->ws = ef_spec_load_workload(wp, L->d);
    L->w = L->arch && L->ws ? ef_einsum_build(L->ws, L->d) : NULL;
}

static void unload_layer(loaded *L) {
    ef_workload_destroy(L->w);
    ef_workload_spec_destroy(L->ws);
    ef_arch_spec_destroy(L->arch);
    ef_diags_destroy(L->d);
}

void bench_mapper_rate(const bench_options *o, int *ran, int *failed) {
    static const char *const dfs[] = {"ws", "os", "is", "rs", "nlr", "free"};
    bool header = false;
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        char name[160];
        snprintf(name, sizeof name, "mapper_rate_%s", layers[i].name);
        if (!wanted(o, name)) continue;
        if (!header) {
            note(o, "mapper rate: %llu candidates per search, no engine run, one thread",
                 (unsigned long long)o->map_evaluations);
            printf("%-48s %-5s %10s %10s %10s %12s %12s %12s\n", "case", "df", "considered",
                   "legal", "ms", "cand/s", "legal/s", "est_cycles");
            header = true;
        }
        loaded L;
        load_layer(&L, o, &layers[i]);
        ef_diags *d = L.d;
        ef_arch_spec *arch = L.arch;
        ef_workload *w = L.w;
        (*ran)++;
        if (!w) {
            print_and_clear(d);
            printf("%-48s load FAILED\n", name);
            (*failed)++;
        }
        for (size_t k = 0; w && k < sizeof dfs / sizeof dfs[0]; k++) {
            ef_dataflow_spec *df = ef_spec_builtin_dataflow(dfs[k], d);
            ef_map_options opt = {.dataflow = df, .objective = EF_OBJECTIVE_EDP, .seed = 1,
                                  .evaluations = o->map_evaluations, .confirm = 0};
            ef_map_result r;
            double t0 = bench_now();
            ef_status st = ef_map_search(arch, w, 0, &opt, &r, d);
            double t = bench_now() - t0;
            if (st != EF_OK) {
                /* a template may not fit an architecture: say so, go on */
                printf("%-48s %-5s no legal mapping\n", name, dfs[k]);
                ef_diags_clear(d);
            } else {
                printf("%-48s %-5s %10llu %10llu %10.1f %12.4g %12.4g %12.4g\n", name, dfs[k],
                       (unsigned long long)r.considered, (unsigned long long)r.legal, t * 1e3,
                       (double)r.considered / t, (double)r.legal / t, r.estimate.cycles);
            }
            fflush(stdout);
            ef_map_result_clear(&r);
            ef_dataflow_spec_destroy(df);
        }
        unload_layer(&L);
    }
}

void bench_mapper_best(const bench_options *o, int *ran, int *failed) {
    bool header = false;
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        char name[160];
        snprintf(name, sizeof name, "mapper_best_%s", layers[i].name);
        if (!wanted(o, name) || o->map_seconds <= 0) continue;
        if (!header) {
            note(o, "mapper best: free search bounded by %.3g s (3 confirmed in the engine)",
                 o->map_seconds);
            printf("%-48s %10s %10s %10s %12s %8s %12s\n", "case", "considered", "legal", "s",
                   "cycles", "util", "energy_pj");
            header = true;
        }
        loaded L;
        load_layer(&L, o, &layers[i]);
        ef_diags *d = L.d;
        ef_arch_spec *arch = L.arch;
        ef_workload *w = L.w;
        ef_map_options opt = {.dataflow = NULL, .objective = EF_OBJECTIVE_EDP, .seed = 1,
                              .evaluations = UINT64_C(1) << 32,
                              .time_limit_seconds = o->map_seconds, .confirm = 3,
                              .sim = {.engine = EF_ENGINE_EVENT}};
        ef_map_result r;
        double t0 = bench_now();
        ef_status st = w ? ef_map_search(arch, w, 0, &opt, &r, d) : EF_ERR_SPEC;
        double t = bench_now() - t0;
        (*ran)++;
        if (st != EF_OK) {
            print_and_clear(d);
            printf("%-48s FAILED\n", name);
            (*failed)++;
        } else {
            printf("%-48s %10llu %10llu %10.2f %12llu %8.4f %12.5g\n", name,
                   (unsigned long long)r.considered, (unsigned long long)r.legal, t,
                   (unsigned long long)r.result->cycles, r.stats.utilization, r.stats.energy_pj);
            ef_map_result_clear(&r);
        }
        fflush(stdout);
        unload_layer(&L);
    }
}

/* One config: map every layer (untimed), then time the simulations. */
static bool network_on(const bench_options *o, const char *arch_rel, const char *dataflow,
                       const char *name) {
    ef_diags *d = ef_diags_create();
    char ap[PATH_LEN], np[PATH_LEN];
    path_of(ap, o, arch_rel);
    path_of(np, o, "workloads/resnet50.yaml");
    ef_arch_spec *arch = ef_spec_load_arch(ap, d);
    ef_network_spec *net = ef_spec_load_network(np, 1, d);
    ef_dataflow_spec *df = ef_spec_builtin_dataflow(dataflow, d);
    bool ok = arch && net && df;
    int n = ok ? net->layer_count : 0;
    ef_workload **w = calloc((size_t)n + 1, sizeof *w);
    ef_einsum_mapping_spec **maps = calloc((size_t)n + 1, sizeof *maps);
    ok &= w && maps;
    double map_t0 = bench_now();
    for (int i = 0; ok && i < n; i++) {
        w[i] = ef_einsum_build(net->layers[i].workload, d);
        ef_map_options opt = {.dataflow = df, .objective = EF_OBJECTIVE_EDP, .seed = 1,
                              .evaluations = o->map_evaluations, .confirm = 0};
        ef_map_result r;
        ok = w[i] && ef_map_search(arch, w[i], 0, &opt, &r, d) == EF_OK;
        if (ok) {
            maps[i] = r.mapping;
            r.mapping = NULL;
        }
        ef_map_result_clear(&r);
    }
    double map_t = bench_now() - map_t0;
    double *t = calloc((size_t)o->reps, sizeof *t);
    uint64_t macs = 0, cycles = 0;
    ok &= t != NULL;
    for (int rep = 0; ok && rep < o->reps; rep++) {
        uint64_t m = 0, c = 0;
        double t0 = bench_now();
        for (int i = 0; ok && i < n; i++) {
            ef_nest *nest = ef_nest_build_one(arch, w[i], maps[i], "<bench>", 0, d);
            ef_sim_options so = {.engine = EF_ENGINE_EVENT};
            ef_status st;
            ef_result *res = nest ? ef_sim_run(nest, &so, NULL, d, &st) : NULL;
            ok = res != NULL;
            if (ok) {
                m += net->layers[i].count * res->ops;
                c += net->layers[i].count * res->cycles;
            }
            ef_result_destroy(res);
            ef_nest_destroy(nest);
        }
        t[rep] = bench_now() - t0;
        macs = m;
        cycles = c;
    }
    if (!ok) {
        print_and_clear(d);
        printf("%-48s FAILED\n", name);
    } else {
        double med = bench_median(t, o->reps);
        printf("%-48s %-5s %6d %10.1f %10.1f %14llu %14llu %10.3g %8.1f\n", name, dataflow, n,
               map_t * 1e3, med * 1e3, (unsigned long long)macs, (unsigned long long)cycles,
               (double)macs / med, bench_peak_rss_mb());
    }
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        ef_workload_destroy(w ? w[i] : NULL);
        free(maps ? maps[i] : NULL);
    }
    free(t);
    free(w);
    free(maps);
    ef_dataflow_spec_destroy(df);
    ef_network_spec_destroy(net);
    ef_arch_spec_destroy(arch);
    ef_diags_destroy(d);
    return ok;
}

void bench_networks(const bench_options *o, int *ran, int *failed) {
    bool header = false;
    for (size_t i = 0; i < sizeof network_configs / sizeof network_configs[0]; i++) {
        char name[160];
        const char *base = strrchr(network_configs[i][0], '/') + 1;
        snprintf(name, sizeof name, "resnet50_all_layers@%.*s", (int)(strlen(base) - 5), base);
        if (!wanted(o, name)) continue;
        if (!header) {
            note(o, "network: ResNet-50 (batch 1), every conv and FC layer; mapping untimed "
                    "(%llu candidates, no engine), then simulation, median of %d",
                 (unsigned long long)o->map_evaluations, o->reps);
            printf("%-48s %-5s %6s %10s %10s %14s %14s %10s %8s\n", "case", "df", "layers",
                   "map_ms", "sim_ms", "MACs", "cycles", "MACs/s", "rss_MB");
            header = true;
        }
        (*ran)++;
        if (!network_on(o, network_configs[i][0], network_configs[i][1], name)) (*failed)++;
    }
}
