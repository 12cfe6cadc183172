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
    if (only && !keep_layers(L->net, path, only, d)) {
        L->bad_selection = true;
        return false;
    }
    L->count = L->net->layer_count;
    L->w = ef_calloc((size_t)L->count, sizeof *L->w);
    L->first = ef_calloc((size_t)L->count + 1, sizeof *L->first);
    if (!L->w || !L->first) {
        ef_diags_out_of_memory(d, path);
        return false;
    }
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

static void show_progress(void *ctx, const ef_map_progress *p) {
    progress_line *pl = ctx;
    pthread_mutex_lock(&pl->lock);
    double now = ef_now_seconds();
    if (now - pl->last > 0.2 || p->confirming) {
        pl->last = now;
        pl->printed = true;
        if (p->confirming)
            fprintf(stderr, "\r\033[K  mapping %s: simulating candidate %d of %d (%.1f s)",
                    p->label ? p->label : "", p->confirming,
                    p->to_confirm > p->confirming ? p->to_confirm : p->confirming,
                    p->elapsed_seconds);
        else
            fprintf(stderr, "\r\033[K  mapping %s: %llu of %llu candidates, %llu legal (%.1f s)",
                    p->label ? p->label : "", (unsigned long long)p->considered,
                    (unsigned long long)p->budget, (unsigned long long)p->legal,
                    p->elapsed_seconds);
        fflush(stderr);
    }
    pthread_mutex_unlock(&pl->lock);
}

/* One search: an Einsum alone, or a layer's cascade under a dataflow
 * that fuses. */
typedef struct {
    const ef_arch_spec *arch;
    const ef_workload *w;
    int einsum;                   /* -1: the whole cascade, fused       */
    ef_map_options options;
    const ef_dataflow_spec *dfs[EF_MAX_EINSUMS]; /* fused: per Einsum   */
    ef_map_result *out;           /* one, or one per Einsum             */
    int threads;                  /* for a fused cascade's own searches */
} map_task;

typedef struct {
    map_task *tasks;
    ef_status *status;
    ef_diags **diags;
} task_batch;

static void run_task(void *ctx, int i) {
    task_batch *b = ctx;
    map_task *t = &b->tasks[i];
    b->status[i] = t->einsum >= 0
        ? ef_map_search(t->arch, t->w, t->einsum, &t->options, t->out, b->diags[i])
        : ef_map_fused(t->arch, t->w, t->dfs, &t->options, t->threads, t->out, b->diags[i]);
}

/* Runs the tasks on the pool (a lone task gets every thread for its
 * own searches), with a progress line on a terminal; diagnostics are
 * merged in task order. */
static ef_status run_tasks(map_task *tasks, int count, int threads, bool progress,
                           ef_diags *d) {
    progress_line pl = {.last = 0, .printed = false};
    pthread_mutex_init(&pl.lock, NULL);
    task_batch b = {.tasks = tasks};
    b.status = ef_calloc((size_t)count + 1, sizeof *b.status);
    b.diags = ef_calloc((size_t)count + 1, sizeof *b.diags);
    ef_status st = b.status && b.diags ? EF_OK : EF_ERR_NOMEM;
    for (int i = 0; st == EF_OK && i < count; i++) {
        if (!(b.diags[i] = ef_diags_create())) st = EF_ERR_NOMEM;
        tasks[i].threads = count == 1 ? threads : 1;
        if (progress && isatty(STDERR_FILENO)) {
            tasks[i].options.progress = show_progress;
            tasks[i].options.progress_ctx = &pl;
        }
    }
    if (st == EF_OK) st = ef_parallel_for(count, threads, run_task, &b);
    if (pl.printed) fprintf(stderr, "\r\033[K");
    for (int i = 0; st == EF_OK && i < count; i++) ef_diags_merge(d, b.diags[i]);
    for (int i = 0; st == EF_OK && i < count; i++)
        if (b.status[i] != EF_OK) st = b.status[i];
    for (int i = 0; b.diags && i < count; i++) ef_diags_destroy(b.diags[i]);
    free(b.diags);
    free(b.status);
    pthread_mutex_destroy(&pl.lock);
    return st;
}

/* A task that repeats an earlier one: the same Einsum, alone in the
 * same computation (ef_workload_same), under the same template. Layers
 * of one shape recur in networks (ResNet-50's bottlenecks); searching
 * each once keeps a network's and a sweep's mapping time to its
 * distinct shapes. Returns the earlier task, or -1. */
static int twin_of(const map_task *tasks, int i) {
    const map_task *t = &tasks[i];
    if (t->einsum < 0 || t->w->einsum_count != 1) return -1;
    for (int j = 0; j < i; j++) {
        const map_task *u = &tasks[j];
        if (u->einsum == t->einsum && u->arch == t->arch && u->dfs[0] == t->dfs[0] &&
            u->w->einsum_count == 1 && ef_workload_same(u->w, t->w))
            return j;
    }
    return -1;
}

/* The twin's result: the mapping its original found, built on its own
 * workload and simulated, with the search's figures. */
static ef_status replay_twin(const map_task *t, const ef_map_result *src, ef_diags *d) {
    ef_map_result *out = t->out;
    *out = *src;
    out->mapping = NULL;
    out->nest = NULL;
    out->result = NULL;
    if (!(out->mapping = ef_malloc(sizeof *out->mapping))) return EF_ERR_NOMEM;
    memcpy(out->mapping, src->mapping, sizeof *out->mapping);
    out->nest = ef_nest_build_one(t->arch, t->w, out->mapping, "<mapper>", t->einsum, d);
    if (!out->nest) return d->out_of_memory ? EF_ERR_NOMEM : EF_ERR_MAPPING;
    if (!src->result) return EF_OK;
    ef_status st = EF_OK;
    out->result = ef_sim_run(out->nest, &t->options.sim, NULL, d, &st);
    if (!out->result) return st;
    ef_stats_compute(out->result, &out->stats);
    return EF_OK;
}

/* What the fused dataflow gave up, once per group, on stderr. */
static void print_notes(const ef_cli_layers *L, const ef_dataflow_spec *df,
                        const ef_map_result *found, int layer) {
    const ef_workload *w = L->w[layer];
    for (int e = 0; e < w->einsum_count; e++) {
        const ef_map_fusion *f = &found[L->first[layer] + e].fusion;
        if (!f->note[0] || (e > 0 && !strcmp(f->note, found[L->first[layer] + e - 1].fusion.note)))
            continue;
        fprintf(stderr, "einflow: note: dataflow %s on %s: %s\n", df->name,
                L->net->layers[layer].workload->name, f->note);
    }
}

ef_status ef_cli_layers_map(const ef_cli_layers *L, const ef_arch_spec *arch,
                            ef_dataflow_spec *const *dfs, int ndf, const ef_cli_choice *choice,
                            const ef_cli_search *s, bool quiet, ef_map_result *found,
                            ef_diags *d) {
    int total = ndf * L->einsums;
    map_task *tasks = ef_calloc((size_t)total + 1, sizeof *tasks);
    char (*labels)[2 * EF_MAX_NAME + 2] = ef_calloc((size_t)total + 1, sizeof *labels);
    if (!tasks || !labels) {
        free(tasks);
        free(labels);
        return EF_ERR_NOMEM;
    }
    int n = 0;
    for (int k = 0; k < ndf; k++)
        for (int i = 0; i < L->count; i++) {
            const ef_workload *w = L->w[i];
            int at = k * L->einsums + L->first[i];
            bool fuse = dfs[k]->fuse && w->einsum_count > 1;
            for (int e = 0; e < w->einsum_count; e++) {
                map_task *t = &tasks[n];
                if (fuse && e > 0) {
                    t->dfs[e] = ef_cli_choice_for(choice, arch, w, e, dfs[k]);
                    continue;
                }
                t->arch = arch;
                t->w = w;
                t->einsum = fuse ? -1 : e;
                t->out = &found[at + e];
                const ef_dataflow_spec *df = ef_cli_choice_for(choice, arch, w, e, dfs[k]);
                t->dfs[e] = df;
                ef_cli_search_map_options(s, df, &t->options);
                t->options.auto_vector = choice ? choice->vector : NULL;
                snprintf(labels[n], sizeof labels[n], "%s %s", dfs[k]->name,
                         L->net->layers[i].workload->name);
                t->options.progress_label = labels[n];
                if (!fuse) n++;
            }
            if (fuse) n++;
        }
    /* the distinct tasks first, to the front; then each twin */
    int *twin = ef_calloc((size_t)n + 1, sizeof *twin);
    map_task *distinct = ef_calloc((size_t)n + 1, sizeof *distinct);
    if (!twin || !distinct) {
        free(twin);
        free(distinct);
        free(labels);
        free(tasks);
        return EF_ERR_NOMEM;
    }
    int nd = 0;
    for (int i = 0; i < n; i++)
        if ((twin[i] = twin_of(tasks, i)) < 0) distinct[nd++] = tasks[i];
    ef_status st = run_tasks(distinct, nd, s->threads, s->progress, d);
    for (int i = 0; st == EF_OK && i < n; i++)
        if (twin[i] >= 0) st = replay_twin(&tasks[i], tasks[twin[i]].out, d);
    free(twin);
    free(distinct);
    if (st == EF_OK && !quiet)
        for (int k = 0; k < ndf; k++)
            for (int i = 0; dfs[k]->fuse && i < L->count; i++)
                print_notes(L, dfs[k], &found[k * L->einsums], i);
    free(labels);
    free(tasks);
    return st;
}

/* Whether some layer has a tensor named name. */
static bool layers_have_tensor(const ef_cli_layers *L, const char *name) {
    for (int i = 0; i < L->count; i++)
        if (ef_workload_tensor_id(L->w[i], name) >= 0) return true;
    return false;
}

bool ef_cli_layers_check_partitions(const ef_cli_layers *L, const ef_arch_spec *arch,
                                    ef_diags *d) {
    const char *names[EF_MAX_TENSORS * 4];
    bool ok = true;
    for (int l = 0; l < arch->level_count; l++) {
        /* a level whose partitions name none of the tensors was made for
         * other workloads (conv partitions I, F, O under attention):
         * nothing can be kept there, which the mapper and the nest say;
         * only beside partitions that apply is a stray one a typo */
        bool applies = false;
        for (int p = 0; p < arch->levels[l].partition_count && !applies; p++)
            applies = layers_have_tensor(L, arch->levels[l].partitions[p].tensor);
        if (!applies) continue;
        for (int p = 0; p < arch->levels[l].partition_count; p++) {
            const ef_partition *part = &arch->levels[l].partitions[p];
            size_t n = 0;
            bool found = false;
            for (int i = 0; i < L->count && !found; i++)
                for (int t = 0; t < L->w[i]->tensor_count && !found; t++) {
                    const char *name = L->w[i]->tensors[t].name;
                    found = !strcmp(name, part->tensor);
                    bool seen = false;
                    for (size_t k = 0; k < n && !seen; k++) seen = !strcmp(names[k], name);
                    if (!seen && n < sizeof names / sizeof names[0]) names[n++] = name;
                }
            if (found) continue;
            const char *close = ef_suggest(part->tensor, names, n);
            char hint[96], path[96], list[512];
            size_t len = 0;
            list[0] = '\0';
            for (size_t k = 0; k < n && len < sizeof list; k++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "",
                                        names[k]);
            if (close) snprintf(hint, sizeof hint, "did you mean %s?", close);
            snprintf(path, sizeof path, "levels[%d].capacity.%s", l, part->tensor);
            char *src = part->loc.line ? ef_diags_source_line(d, part->loc.file, part->loc.line)
                                       : NULL;
            ef_diags_add(d, part->loc.file, part->loc.line, part->loc.col, path,
                         close ? hint : NULL, src,
                         "expected a partition for a tensor of the workload (%s), found %s",
                         list, part->tensor);
            free(src);
            ok = false;
        }
    }
    return ok;
}
