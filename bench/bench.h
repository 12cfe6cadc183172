/* Internal to einflow_bench: the options and helpers its parts share
 * (einflow_bench.c: simulator cases; bench_map.c: mapper and networks). */
#ifndef EF_BENCH_H
#define EF_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#define PATH_LEN 4096

typedef struct {
    const char *filter;
    int reps;
    int engine;     /* -1: both */
    int fold_model; /* -1: per case */
    bool check_values, csv, list;
    const char *root;
    uint64_t map_evaluations; /* candidates per search (mapper, networks) */
    double map_seconds;       /* bound of the "mapper best" searches; 0: skip */
} bench_options;

double bench_now(void);
double bench_median(double *v, int n);   /* sorts v */
double bench_peak_rss_mb(void);
/* A "# ..." line: stdout in table mode, stderr with --csv. */
void note(const bench_options *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void bench_mapper_rate(const bench_options *o, int *ran, int *failed);
void bench_mapper_best(const bench_options *o, int *ran, int *failed);
void bench_networks(const bench_options *o, int *ran, int *failed);
void bench_sweeps(const bench_options *o, int *ran, int *failed);

#endif
