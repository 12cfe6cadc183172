/* A tiny parallel-for: the runs of a cascade, a network or a mapper's
 * jobs go on a pool of threads that take the next index under a lock.
 * Each index writes only its own outputs, so results do not depend on
 * the thread count or on the order the threads happen to run in. */
#include "einflow/sim.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct {
    int count;
    void (*fn)(void *ctx, int i);
    void *ctx;
    pthread_mutex_t lock;
    int next;                 /* next index to take, under lock         */
} pool;

static void *worker(void *arg) {
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        int i = p->next++;
        pthread_mutex_unlock(&p->lock);
        if (i >= p->count) return NULL;
        p->fn(p->ctx, i);
    }
}

ef_status ef_parallel_for(int count, int threads, void (*fn)(void *ctx, int i), void *ctx) {
    if (threads > count) threads = count;
    if (threads <= 1) {
        for (int i = 0; i < count; i++) fn(ctx, i);
        return EF_OK;
    }
    pthread_t *tid = ef_calloc((size_t)threads, sizeof *tid);
    if (!tid) return EF_ERR_NOMEM;
    pool p = {.count = count, .fn = fn, .ctx = ctx};
    pthread_mutex_init(&p.lock, NULL);
    int started = 0;
    for (; started < threads; started++)
        if (pthread_create(&tid[started], NULL, worker, &p) != 0) break;
    if (started == 0) worker(&p); /* no thread could start: do it here */
    for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&p.lock);
    free(tid);
    return EF_OK;
}
