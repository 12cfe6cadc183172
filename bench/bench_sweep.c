/* einflow_bench, part 3: `einflow sweep` end to end, through the CLI as
 * a user runs it (a fresh output file each repetition, so nothing is
 * resumed):
 *
 *   sweep_resnet50   sweeps/eyeriss_resnet50.yaml — ResNet-50 on the
 *                    Eyeriss-like array, 4 PE-row counts x 4 buffer
 *                    sizes under `ws`, mapper included, 2 threads;
 *   sweep_overhead   a sweep of a tiny layer with a mapping file (no
 *                    mapper, a few hundred simulated cycles per point):
 *                    the wall time per point bounds what the sweep
 *                    itself costs — loading, --set, writing the line.
 *
 * Figures, not assertions, like the rest of the benchmark. */
#include "bench/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs `einflow sweep FILE -o OUT --threads N` quietly; false when it
 * fails. */
static bool run_sweep(const char *sweep, const char *out, int threads) {
    unlink(out);
    char cmd[3 * PATH_LEN];
    snprintf(cmd, sizeof cmd, "'%s' sweep '%s' -o '%s' --threads %d >/dev/null 2>&1",
             EF_BINARY, sweep, out, threads);
    int rc = system(cmd);
    return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

/* A sweep of `points` values of the teaching conv1d's DRAM bandwidth,
 * each point a mapping-file run. */
static bool write_overhead_sweep(const bench_options *o, const char *path, int points) {
    FILE *f = fopen(path, "w");
    if (!f) return false;
    fprintf(f, "arch: %s/configs/teach_2level.yaml\n"
               "workload: %s/workloads/conv1d.yaml\n"
               "mapping: %s/mappings/teach_2level__conv1d_os.yaml\n"
               "set:\n  arch.levels.MainMemory.read_bandwidth: [",
            o->root, o->root, o->root);
    for (int i = 0; i < points; i++) fprintf(f, "%s%d", i ? ", " : "", i + 1);
    fprintf(f, "]\n");
    return fclose(f) == 0;
}

static void one_case(const bench_options *o, const char *name, const char *sweep, int threads,
                     int *ran, int *failed) {
    char out[PATH_LEN];
    snprintf(out, sizeof out, "%s.jsonl", sweep);
    double t[64];
    int reps = o->reps < 64 ? o->reps : 64, points = -1;
    (*ran)++;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        if (!run_sweep(sweep, out, threads)) {
            printf("%-36s FAILED (%s sweep %s)\n", name, EF_BINARY, sweep);
            (*failed)++;
            unlink(out);
            return;
        }
        t[r] = bench_now() - t0;
        points = count_lines(out);
    }
    unlink(out);
    double min = t[0], max = t[0];
    for (int r = 1; r < reps; r++) {
        if (t[r] < min) min = t[r];
        if (t[r] > max) max = t[r];
    }
    double med = bench_median(t, reps);
    printf("%-36s %7d %8d %10.3f %10.3f %10.3f %12.3f\n", name, points, threads, med, min, max,
           points > 0 ? 1000 * med / points : 0);
}

void bench_sweeps(const bench_options *o, int *ran, int *failed) {
    bool want_resnet = !o->filter || strstr("sweep_resnet50", o->filter);
    bool want_overhead = !o->filter || strstr("sweep_overhead", o->filter);
    if (!want_resnet && !want_overhead) return;
    note(o, "sweeps through the CLI (%s), median of %d", EF_BINARY, o->reps);
    printf("%-36s %7s %8s %10s %10s %10s %12s\n", "case", "points", "threads", "median_s",
           "min_s", "max_s", "ms/point");
    if (want_resnet) {
        char sweep[PATH_LEN];
        snprintf(sweep, sizeof sweep, "%s/sweeps/eyeriss_resnet50.yaml", o->root);
        one_case(o, "sweep_resnet50", sweep, 2, ran, failed);
    }
    if (want_overhead) {
        char sweep[PATH_LEN];
        snprintf(sweep, sizeof sweep, "/tmp/einflow_bench_overhead_%d.yaml", (int)getpid());
        if (!write_overhead_sweep(o, sweep, 400)) {
            printf("%-36s FAILED (cannot write %s)\n", "sweep_overhead", sweep);
            (*ran)++;
            (*failed)++;
            return;
        }
        one_case(o, "sweep_overhead", sweep, 1, ran, failed);
        unlink(sweep);
    }
}
