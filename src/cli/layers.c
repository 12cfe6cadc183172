/* What `run`, `map` and `compare` do with a workload or a network file:
 * load it as layers, build every layer's Einsums, and run the mapper on
 * every (dataflow, layer, Einsum) at once, on the pool of threads. On a
 * terminal, long searches report their progress on stderr. */
#include "cli/layers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool selected(const char *name, const char *only) {
    char list[1024];
    snprintf(list, sizeof list, "%s", only);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t n = strlen(tok);
        if (n && tok[n - 1] == '*' ? strncmp(name, tok, n - 1) == 0 : strcmp(name, tok) == 0)
            return true;
    }
    return false;
}

/* Keeps the layers `only` names (each entry a name, or a prefix ending
 * in '*'); an entry that matches nothing is an error. */
static bool keep_layers(ef_network_spec *net, const char *path, const char *only, ef_diags *d) {
    char list[1024];
    snprintf(list, sizeof list, "%s", only);
    const char *names[EF_MAX_LAYERS];
    for (int i = 0; i < net->layer_count; i++) names[i] = net->layers[i].workload->name;
    bool ok = true;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        bool any = false;
        for (int i = 0; i < net->layer_count && !any; i++) any = selected(names[i], tok);
        if (any) continue;
        const char *s = ef_suggest(tok, names, (size_t)net->layer_count);
        char hint[EF_MAX_NAME + 32];
        if (s) snprintf(hint, sizeof hint, "did you mean \"%s\"?", s);
        ef_diags_add(d, path, 0, 0, "layers", s ? hint : NULL, NULL,
                     "--layers: no layer of %s is named \"%s\"", net->name, tok);
        ok = false;
    }
    if (!ok) return false;
    int k = 0;
    for (int i = 0; i < net->layer_count; i++) {
        if (selected(net->layers[i].workload->name, only)) net->layers[k++] = net->layers[i];
        else ef_workload_spec_destroy(net->layers[i].workload);
    }
    net->layer_count = k;
    return true;
}

bool ef_cli_layers_load(ef_cli_layers *L, const char *path, const ef_cli_search *s,
                        ef_diags *d) {
    memset(L, 0, sizeof *L);
    const char *only = s->layers;
    L->net = ef_spec_load_network_set(path, s->set, s->set_count, d);
    if (!L->net) return false;
    if (only && !keep_layers(L->net, path, only, d)) return false;
    L->count = L->net->layer_count;
    L->w = calloc((size_t)L->count, sizeof *L->w);
    L->first = calloc((size_t)L->count + 1, sizeof *L->first);
    if (!L->w || !L->first) return false;
    bool ok = true;
    for (int i = 0; i < L->count; i++) {
        L->w[i] = ef_einsum_build(L->net->layers[i].workload, d);
        ok &= L->w[i] != NULL;
    }
    if (!ok) return false;
    for (int i = 0; i < L->count; i++) L->first[i + 1] = L->first[i] + L->w[i]->einsum_count;
    L->einsums = L->first[L->count];
    return true;
}

void ef_cli_layers_free(ef_cli_layers *L) {
    for (int i = 0; L->w && i < L->count; i++) ef_workload_destroy(L->w[i]);
    free(L->w);
    free(L->first);
    ef_network_spec_destroy(L->net);
    memset(L, 0, sizeof *L);
}

/* ---------- progress on a terminal ---------- */

typedef struct {
    pthread_mutex_t lock;
    double last;
    bool printed;
} progress_line;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void show_progress(void *ctx, const ef_map_progress *p) {
    progress_line *pl = ctx;
    pthread_mutex_lock(&pl->lock);
    double now = now_seconds();
    if (now - pl->last > 0.2 || p->confirming) {
        pl->last = now;
        pl->printed = true;
        if (p->confirming)
            fprintf(stderr, "\r\033[K  mapping %s: simulating the best estimate number %d "
                    "(%.1f s)", p->label ? p->label : "", p->confirming, p->elapsed_seconds);
        else
            fprintf(stderr, "\r\033[K  mapping %s: %llu of %llu candidates, %llu legal (%.1f s)",
                    p->label ? p->label : "", (unsigned long long)p->considered,
                    (unsigned long long)p->budget, (unsigned long long)p->legal,
                    p->elapsed_seconds);
        fflush(stderr);
    }
    pthread_mutex_unlock(&pl->lock);
}

/* Runs the jobs, with a progress line on a terminal. */
static ef_status run_jobs(ef_map_job *jobs, int total, int threads, ef_map_result *found,
                          ef_diags *d) {
    progress_line pl = {.last = 0, .printed = false};
    pthread_mutex_init(&pl.lock, NULL);
    if (isatty(STDERR_FILENO))
        for (int j = 0; j < total; j++) {
            jobs[j].options.progress = show_progress;
            jobs[j].options.progress_ctx = &pl;
        }
    ef_status st = ef_map_search_all(jobs, total, threads, found, d);
    if (pl.printed) fprintf(stderr, "\r\033[K");
    pthread_mutex_destroy(&pl.lock);
    return st;
}

ef_status ef_cli_layers_map(const ef_cli_layers *L, const ef_arch_spec *arch,
                            ef_dataflow_spec *const *dfs, int ndf, const ef_cli_search *s,
                            ef_map_result *found, ef_diags *d) {
    int total = ndf * L->einsums;
    ef_map_job *jobs = calloc((size_t)total + 1, sizeof *jobs);
    char (*labels)[2 * EF_MAX_NAME + 2] = calloc((size_t)total + 1, sizeof *labels);
    if (!jobs || !labels) {
        free(jobs);
        free(labels);
        return EF_ERR_NOMEM;
    }
    for (int k = 0; k < ndf; k++)
        for (int i = 0; i < L->count; i++)
            for (int e = 0; e < L->w[i]->einsum_count; e++) {
                int j = k * L->einsums + L->first[i] + e;
                jobs[j].arch = arch;
                jobs[j].workload = L->w[i];
                jobs[j].einsum = e;
                ef_cli_search_map_options(s, dfs[k], &jobs[j].options);
                snprintf(labels[j], sizeof labels[j], "%s %s", dfs[k]->name,
                         L->net->layers[i].workload->name);
                jobs[j].options.progress_label = labels[j];
            }
    ef_status st = run_jobs(jobs, total, s->threads, found, d);
    free(labels);
    free(jobs);
    return st;
}

ef_status ef_cli_map_all(const ef_arch_spec *arch, const ef_workload *w,
                         const ef_map_options *opt, int threads, ef_map_result *results,
                         ef_diags *d) {
    ef_map_job jobs[EF_MAX_EINSUMS];
    for (int e = 0; e < w->einsum_count; e++) {
        jobs[e] = (ef_map_job){.arch = arch, .workload = w, .einsum = e, .options = *opt};
        jobs[e].options.progress_label = w->tensors[w->einsums[e].output.tensor].name;
    }
    return run_jobs(jobs, w->einsum_count, threads, results, d);
}
