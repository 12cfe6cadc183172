/* einflow_bench — in-process performance benchmark of the simulator.
 *
 * For every case (architecture + workload + mapping) it loads and
 * checks the three files once, then, for each engine, runs
 * ef_nest_build + ef_sim_run (every Einsum of the workload) R times and
 * prints one row: median, min and max wall time of one repetition
 * (CLOCK_MONOTONIC), median CPU time of one repetition (well below the
 * wall time means the machine was busy), simulated MACs and cycles per
 * second of wall time (at the median), the MACs and cycles simulated,
 * and the process's peak resident memory (getrusage ru_maxrss) after the
 * row — a high-water mark of the whole process so far, not of the row.
 *
 *   einflow_bench [--case SUBSTR] [--reps N] [--engine step|event]
 *                 [--fold-model overlap|scalesim] [--check-values]
 *                 [--csv] [--root DIR] [--list]
 *
 * Not a test: nothing is asserted about time. scripts/bench.sh builds a
 * Release binary and runs it. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "bench/bench.h"
#include "einflow/einsum.h"
#include "einflow/model.h"
#include "einflow/sim.h"
#include "einflow/spec.h"

#ifndef EF_SOURCE_DIR
#define EF_SOURCE_DIR "."
#endif

#define MAX_CASES 128
#define MAX_REPS 100000

typedef struct {
    char name[128];
    char arch[PATH_LEN], workload[PATH_LEN], mapping[PATH_LEN];
    int fold_model; /* -1: the simulator's default (overlap) */
    bool event_only; /* stepping its cycles one by one would take hours */
} bench_case;


double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* CPU time of this process: equals wall time on an idle machine; less
 * when other load (or the hypervisor) takes the CPU away. */
static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_peak_rss_mb(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1.0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool add_case(bench_case *cases, int *n, const char *name, const char *root,
                     const char *arch, const char *workload, const char *mapping,
                     int fold_model) {
    if (*n >= MAX_CASES) {
        fprintf(stderr, "einflow_bench: more than %d cases; %s skipped\n", MAX_CASES, name);
        return false;
    }
    bench_case *c = &cases[*n];
    if (snprintf(c->name, sizeof c->name, "%s", name) >= (int)sizeof c->name ||
        snprintf(c->arch, sizeof c->arch, "%s/%s", root, arch) >= (int)sizeof c->arch ||
        snprintf(c->workload, sizeof c->workload, "%s/%s", root, workload) >=
            (int)sizeof c->workload ||
        snprintf(c->mapping, sizeof c->mapping, "%s/%s", root, mapping) >=
            (int)sizeof c->mapping) {
        fprintf(stderr, "einflow_bench: path too long; %s skipped\n", name);
        return false;
    }
    c->fold_model = fold_model;
    c->event_only = false;
    (*n)++;
    return true;
}

/* mappings/<config>__<workload>[_suffix].yaml: the workload is the
 * longest prefix of the part after "__" (cut at '_') that names a file
 * in workloads/. */
static bool bundled_case(const char *root, const char *file, char *arch, char *workload) {
    size_t len = strlen(file);
    if (len < 6 || strcmp(file + len - 5, ".yaml")) return false;
    const char *sep = strstr(file, "__");
    if (!sep || sep == file) return false;
    snprintf(arch, PATH_LEN, "configs/%.*s.yaml", (int)(sep - file), file);
    char rest[256];
    snprintf(rest, sizeof rest, "%.*s", (int)(len - 5 - (size_t)(sep + 2 - file)), sep + 2);
    char probe[PATH_LEN];
    for (;;) {
        snprintf(probe, sizeof probe, "%s/workloads/%s.yaml", root, rest);
        if (file_exists(probe)) {
            snprintf(workload, PATH_LEN, "workloads/%s.yaml", rest);
            return true;
        }
        char *cut = strrchr(rest, '_');
        if (!cut || cut == rest) return false;
        *cut = '\0';
    }
}

static int collect_cases(const char *root, bench_case *cases) {
    int n = 0;
    /* 1. The headline layer on the Eyeriss-like array. */
    add_case(cases, &n, "resnet50_3x3_eyeriss", root, "configs/eyeriss_like.yaml",
             "workloads/resnet50_conv3x3.yaml",
             "mappings/eyeriss_like__resnet50_conv3x3.yaml", -1);
    /* 2. SCALE-Sim's reference GEMM on 32x32 systolic arrays, with
     *    SCALE-Sim's fold model so the cycles match its formula. */
    static const char *const flows[] = {"os", "ws", "is"};
    for (int i = 0; i < 3; i++) {
        char name[128], arch[128], map[128];
        snprintf(name, sizeof name, "gemm_2916x576x64_%s32", flows[i]);
        snprintf(arch, sizeof arch, "tests/data/scalesim_32x32_%s.yaml", flows[i]);
        snprintf(map, sizeof map, "tests/data/scalesim_32x32_%s__gemm_resnet_3x3.yaml", flows[i]);
        add_case(cases, &n, name, root, arch, "tests/data/gemm_resnet_3x3.yaml", map,
                 EF_FOLD_SCALESIM);
    }
    /* 3. Cases the engines once found hard (bench/data): per-PE tiles of
     *    three steps on the Eyeriss-like array, and a transformer-size
     *    GEMM whose per-PE level changes tile at every one of its 2^34
     *    steps. */
    add_case(cases, &n, "resnet50_3x3_eyeriss_short_tiles", root, "configs/eyeriss_like.yaml",
             "workloads/resnet50_conv3x3.yaml",
             "bench/data/eyeriss_like__resnet50_conv3x3_short_tiles.yaml", -1);
    if (add_case(cases, &n, "gemm_16384_os16", root, "configs/systolic_os_16x16.yaml",
                 "bench/data/gemm_16384.yaml", "bench/data/systolic_os_16x16__gemm_16384.yaml",
                 -1))
        cases[n - 1].event_only = true; /* 1.7e10 cycles */
    /* 4. Every other bundled mapping. */
    char dir[PATH_LEN];
    snprintf(dir, sizeof dir, "%s/mappings", root);
    DIR *dp = opendir(dir);
    if (!dp) {
        fprintf(stderr, "einflow_bench: cannot open %s: %s\n", dir, strerror(errno));
        return n;
    }
    char *names[MAX_CASES];
    int count = 0;
    struct dirent *de;
    while ((de = readdir(dp)) && count < MAX_CASES) {
        size_t len = strlen(de->d_name);
        if (len > 5 && !strcmp(de->d_name + len - 5, ".yaml"))
            names[count++] = strdup(de->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)count, sizeof names[0], cmp_str);
    for (int i = 0; i < count; i++) {
        if (!names[i]) continue;
        char arch[PATH_LEN], workload[PATH_LEN], map[PATH_LEN], name[128];
        snprintf(map, sizeof map, "mappings/%s", names[i]);
        snprintf(name, sizeof name, "%.*s", (int)(strlen(names[i]) - 5), names[i]);
        if (!strcmp(names[i], "eyeriss_like__resnet50_conv3x3.yaml")) {
            free(names[i]);
            continue; /* already case 1 */
        }
        if (bundled_case(root, names[i], arch, workload))
            add_case(cases, &n, name, root, arch, workload, map, -1);
        else
            fprintf(stderr, "einflow_bench: %s: no matching configs/ and workloads/ file; "
                            "skipped\n", map);
        free(names[i]);
    }
    return n;
}

static void print_diags(ef_diags *d) {
    if (!d || d->count == 0) return;
    char *text = ef_diags_render(d);
    if (text) fputs(text, stderr);
    free(text);
    d->count = 0;
}

/* Notes go to stdout in table mode and to stderr (as # comments) in CSV
 * mode, so that CSV output stays parseable. */
void note(const bench_options *o, const char *fmt, ...) {
    FILE *f = o->csv ? stderr : stdout;
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    va_end(ap);
    fflush(f);
}

/* One engine on one loaded case: R repetitions. Returns false on error. */
static bool run_engine(const bench_case *c, const bench_options *o, ef_engine engine,
                       const ef_arch_spec *arch, const ef_workload *w,
                       const ef_mapping_spec *ms, ef_diags *d) {
    int fold = o->fold_model >= 0 ? o->fold_model : c->fold_model;
    ef_sim_options opt = {.engine = engine,
                          .fold_model = fold >= 0 ? (ef_fold_model)fold : EF_FOLD_OVERLAP,
                          .check_values = o->check_values, .seed = 1};
    double *t = calloc((size_t)o->reps * 2, sizeof *t), *cpu = t + o->reps;
    if (!t) return false;
    uint64_t ops = 0, cycles = 0;
    bool ok = true;
    for (int rep = 0; rep < o->reps && ok; rep++) {
        ef_nest *nests[EF_MAX_EINSUMS] = {0};
        ef_result *results[EF_MAX_EINSUMS] = {0};
        ef_values *vals = NULL;
        if (o->check_values && !(vals = ef_values_create(w, opt.seed))) ok = false;
        uint64_t rep_ops = 0, rep_cycles = 0;
        double c0 = cpu_seconds(), t0 = bench_now();
        for (int e = 0; ok && e < w->einsum_count; e++) {
            nests[e] = ef_nest_build(arch, w, ms, e, d);
            if (!nests[e]) {
                ok = false;
                break;
            }
            ef_status st = EF_OK;
            results[e] = ef_sim_run(nests[e], &opt, vals, d, &st);
            if (!results[e]) {
                ok = false;
                break;
            }
            rep_ops += results[e]->ops;
            rep_cycles += results[e]->cycles;
        }
        t[rep] = bench_now() - t0;
        cpu[rep] = cpu_seconds() - c0;
        for (int e = 0; e < EF_MAX_EINSUMS; e++) {
            ef_result_destroy(results[e]);
            ef_nest_destroy(nests[e]);
        }
        ef_values_destroy(vals);
        if (rep == 0) {
            ops = rep_ops;
            cycles = rep_cycles;
        } else if (ok && (rep_ops != ops || rep_cycles != cycles)) {
            fprintf(stderr, "einflow_bench: %s: repetition %d gave %llu ops / %llu cycles, "
                            "the first gave %llu / %llu\n", c->name, rep,
                    (unsigned long long)rep_ops, (unsigned long long)rep_cycles,
                    (unsigned long long)ops, (unsigned long long)cycles);
            ok = false;
        }
    }
    const char *ename = engine == EF_ENGINE_STEP ? "step" : "event";
    if (!ok) {
        print_diags(d);
        if (o->csv)
            printf("%s,%s,FAILED,,,,,,,,\n", c->name, ename);
        else
            printf("%-36s %-5s FAILED\n", c->name, ename);
        fflush(stdout);
        free(t);
        return false;
    }
    double med = bench_median(t, o->reps), mn = t[0], mx = t[o->reps - 1];
    double cpu_med = bench_median(cpu, o->reps);
    double macs_s = med > 0 ? (double)ops / med : 0, cyc_s = med > 0 ? (double)cycles / med : 0;
    double rss = bench_peak_rss_mb();
    if (o->csv)
        printf("%s,%s,%.3f,%.3f,%.3f,%.3f,%.4g,%.4g,%llu,%llu,%.1f\n", c->name, ename,
               med * 1e3, mn * 1e3, mx * 1e3, cpu_med * 1e3, macs_s, cyc_s, (unsigned long long)ops,
               (unsigned long long)cycles, rss);
    else
        printf("%-36s %-5s %10.3f %10.3f %10.3f %10.3f %10.3g %10.3g %12llu %10llu %8.1f\n",
               c->name, ename, med * 1e3, mn * 1e3, mx * 1e3, cpu_med * 1e3, macs_s, cyc_s, (unsigned long long)ops,
               (unsigned long long)cycles, rss);
    fflush(stdout);
    free(t);
    return true;
}

static bool run_case(const bench_case *c, const bench_options *o) {
    ef_diags *d = ef_diags_create();
    if (!d) return false;
    ef_arch_spec *arch = ef_spec_load_arch(c->arch, d);
    ef_workload_spec *ws = ef_spec_load_workload(c->workload, d);
    ef_mapping_spec *ms = ef_spec_load_mapping(c->mapping, d);
    ef_workload *w = arch && ws && ms ? ef_einsum_build(ws, d) : NULL;
    bool ok = w != NULL;
    if (!ok) {
        print_diags(d);
        if (o->csv)
            printf("%s,load,FAILED,,,,,,,,\n", c->name);
        else
            printf("%-36s load  FAILED\n", c->name);
    }
    for (int e = 0; ok && e < 2; e++) {
        if (o->engine >= 0 && o->engine != e) continue;
        if (c->event_only && e == EF_ENGINE_STEP) continue;
        ok &= run_engine(c, o, (ef_engine)e, arch, w, ms, d);
    }
    ef_workload_destroy(w);
    ef_mapping_spec_destroy(ms);
    ef_workload_spec_destroy(ws);
    ef_arch_spec_destroy(arch);
    ef_diags_destroy(d);
    return ok;
}

static const char usage[] =
    "usage: einflow_bench [options]\n"
    "  --case SUBSTR       only cases whose name contains SUBSTR\n"
    "  --reps N            repetitions per case and engine (default 5)\n"
    "  --engine E          step or event (default: both)\n"
    "  --fold-model M      overlap or scalesim for every case (default: scalesim\n"
    "                      for the gemm_* SCALE-Sim cases, overlap otherwise)\n"
    "  --check-values      also push values through the nest (slower)\n"
    "  --csv               machine-readable rows; notes go to stderr\n"
    "  --root DIR          source tree with configs/ workloads/ mappings/ tests/data/\n"
    "                      (default: " EF_SOURCE_DIR ")\n"
    "  --evaluations N     candidates per mapper search (default 20000)\n"
    "  --mapper-seconds S  time bound of the mapper-best searches (default 10;\n"
    "                      0 skips them)\n"
    "  --list              list the cases and exit\n";

static int bad_usage(const char *msg, const char *arg) {
    fprintf(stderr, "einflow_bench: %s%s%s\n%s", msg, arg ? " " : "", arg ? arg : "", usage);
    return 2;
}

int main(int argc, char **argv) {
    double start = bench_now();
    bench_options o = {.filter = NULL, .reps = 5, .engine = -1, .fold_model = -1,
                       .root = EF_SOURCE_DIR, .map_evaluations = 20000, .map_seconds = 10};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--case")) {
            if (!has_value) return bad_usage("--case needs a substring", NULL);
            o.filter = argv[++i];
        } else if (!strcmp(a, "--reps")) {
            if (!has_value) return bad_usage("--reps needs a number", NULL);
            char *end;
            errno = 0;
            long r = strtol(argv[++i], &end, 10);
            if (*end || errno || r < 1 || r > MAX_REPS)
                return bad_usage("--reps expects an integer from 1 to 100000, found", argv[i]);
            o.reps = (int)r;
        } else if (!strcmp(a, "--engine")) {
            if (!has_value) return bad_usage("--engine needs step or event", NULL);
            const char *v = argv[++i];
            if (!strcmp(v, "step")) o.engine = EF_ENGINE_STEP;
            else if (!strcmp(v, "event")) o.engine = EF_ENGINE_EVENT;
            else return bad_usage("--engine expects step or event, found", v);
        } else if (!strcmp(a, "--fold-model")) {
            if (!has_value) return bad_usage("--fold-model needs overlap or scalesim", NULL);
            const char *v = argv[++i];
            if (!strcmp(v, "overlap")) o.fold_model = EF_FOLD_OVERLAP;
            else if (!strcmp(v, "scalesim")) o.fold_model = EF_FOLD_SCALESIM;
            else return bad_usage("--fold-model expects overlap or scalesim, found", v);
        } else if (!strcmp(a, "--check-values")) {
            o.check_values = true;
        } else if (!strcmp(a, "--csv")) {
            o.csv = true;
        } else if (!strcmp(a, "--evaluations")) {
            if (!has_value) return bad_usage("--evaluations needs a number", NULL);
            char *end;
            errno = 0;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end || errno || v < 1) return bad_usage("--evaluations expects a number, found", argv[i]);
            o.map_evaluations = v;
        } else if (!strcmp(a, "--mapper-seconds")) {
            if (!has_value) return bad_usage("--mapper-seconds needs a number", NULL);
            char *end;
            double v = strtod(argv[++i], &end);
            if (*end || v < 0) return bad_usage("--mapper-seconds expects seconds, found", argv[i]);
            o.map_seconds = v;
        } else if (!strcmp(a, "--list")) {
            o.list = true;
        } else if (!strcmp(a, "--root")) {
            if (!has_value) return bad_usage("--root needs a directory", NULL);
            o.root = argv[++i];
        } else {
            return bad_usage("unknown argument", a);
        }
    }

    static bench_case cases[MAX_CASES];
    int n = collect_cases(o.root, cases);
    if (o.list) {
        for (int i = 0; i < n; i++)
            if (!o.filter || strstr(cases[i].name, o.filter))
                printf("%s\t%s\t%s\t%s\n", cases[i].name, cases[i].arch, cases[i].workload,
                       cases[i].mapping);
        return 0;
    }

    note(&o, "einflow %s bench: %d rep%s per case and engine, root %s%s", EF_VERSION, o.reps,
         o.reps == 1 ? "" : "s", o.root, o.check_values ? ", --check-values" : "");
    if (o.csv)
        printf("case,engine,median_ms,min_ms,max_ms,cpu_median_ms,macs_per_s,cycles_per_s,"
               "macs,cycles,peak_rss_mb\n");
    else
        printf("%-36s %-5s %10s %10s %10s %10s %10s %10s %12s %10s %8s\n", "case", "engine",
               "median_ms", "min_ms", "max_ms", "cpu_ms", "MACs/s", "cycles/s", "MACs", "cycles",
               "rss_MB");
    fflush(stdout);
    int ran = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        if (o.filter && !strstr(cases[i].name, o.filter)) continue;
        ran++;
        if (!run_case(&cases[i], &o)) failed++;
    }
    if (!o.csv) {
        bench_mapper_rate(&o, &ran, &failed);
        bench_mapper_best(&o, &ran, &failed);
        bench_networks(&o, &ran, &failed);
        bench_sweeps(&o, &ran, &failed);
    }
    if (ran == 0)
        fprintf(stderr, "einflow_bench: no case%s%s%s\n", o.filter ? " matches \"" : "",
                o.filter ? o.filter : "", o.filter ? "\"" : "");
    note(&o, "%d case%s, %d failed; whole process %.3f s wall, peak RSS %.1f MB", ran,
         ran == 1 ? "" : "s", failed, bench_now() - start, bench_peak_rss_mb());
    return failed || ran == 0 ? 1 : 0;
}
