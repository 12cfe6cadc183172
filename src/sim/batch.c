/* Runs many nests (the Einsums of a cascade, the layers of a network)
 * on a pool of threads. Each run owns its own result and diagnostics,
 * and nothing is shared but read-only inputs, so results do not depend
 * on the thread count; diagnostics are merged in nest order. Value
 * checks chain outputs into later inputs, so they run in order. */
#include "einflow/sim.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct {
    ef_nest *const *nests;
    int count;
    const ef_sim_options *opt;
    ef_result **out;
    ef_status *status;
    ef_diags **diags;
    pthread_mutex_t lock;
    int next;                 /* next nest to take, under lock          */
} pool;

static void *worker(void *arg) {
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        int i = p->next++;
        pthread_mutex_unlock(&p->lock);
        if (i >= p->count) return NULL;
        p->out[i] = ef_sim_run(p->nests[i], p->opt, NULL, p->diags[i], &p->status[i]);
    }
}

static void merge(ef_diags *into, const ef_diags *from) {
    for (size_t k = 0; k < from->count; k++) {
        const ef_diag *g = &from->items[k];
        ef_diags_add(into, g->file, g->line, g->col, g->path, g->hint, g->source, "%s",
                     g->message);
    }
}

ef_status ef_sim_run_all(ef_nest *const *nests, int count, const ef_sim_options *opt,
                         ef_values *values, int threads, ef_result **out,
                         ef_diags *diags) {
    for (int i = 0; i < count; i++) out[i] = NULL;
    if (opt->check_values || threads <= 1 || count <= 1) {
        for (int i = 0; i < count; i++) {
            ef_status st;
            out[i] = ef_sim_run(nests[i], opt, values, diags, &st);
            if (!out[i]) return st;
        }
        return EF_OK;
    }
    pool p = {.nests = nests, .count = count, .opt = opt, .out = out};
    p.status = calloc((size_t)count, sizeof *p.status);
    p.diags = calloc((size_t)count, sizeof *p.diags);
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    ef_status st = EF_OK;
    if (!p.status || !p.diags || !tid) st = EF_ERR_NOMEM;
    for (int i = 0; st == EF_OK && i < count; i++)
        if (!(p.diags[i] = ef_diags_create())) st = EF_ERR_NOMEM;
    int started = 0;
    if (st == EF_OK) {
        pthread_mutex_init(&p.lock, NULL);
        if (threads > count) threads = count;
        for (; started < threads; started++)
            if (pthread_create(&tid[started], NULL, worker, &p) != 0) break;
        if (started == 0) worker(&p); /* no thread could start: do it here */
        for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
        pthread_mutex_destroy(&p.lock);
        for (int i = 0; i < count; i++) {
            merge(diags, p.diags[i]);
            if (!out[i] && st == EF_OK) st = p.status[i];
        }
    }
    for (int i = 0; p.diags && i < count; i++) ef_diags_destroy(p.diags[i]);
    free(p.diags);
    free(p.status);
    free(tid);
    return st;
}
