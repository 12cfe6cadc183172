/* --trace: the sink the engines call (einflow/sim.h) and what it keeps.
 * Every call is cut to the window and added up cycle by cycle, so the
 * stepper's one call a cycle and the event engine's one call a jump
 * leave the same arrays; the writers then read them in a fixed order.
 * Memory is bounded by the window (EF_TRACE_MAX_CYCLES): per Einsum
 * a state and a step count per cycle, per resource it uses a byte
 * count per cycle, made the first time a call reaches the window. */
#include "report/trace_buf.h"

#include <stdlib.h>
#include <string.h>

static trace_einsum *einsum_at(ef_trace *t, int i) {
    if (i < 0 || t->failed) return NULL;
    if (i >= t->nes) {
        trace_einsum *es = ef_realloc(t->es, (size_t)(i + 1) * sizeof *es);
        if (!es) {
            t->failed = true;
            return NULL;
        }
        memset(es + t->nes, 0, (size_t)(i + 1 - t->nes) * sizeof *es);
        t->es = es;
        t->nes = i + 1;
    }
    trace_einsum *e = &t->es[i];
    if (!e->seen) {
        e->steps = ef_calloc((size_t)t->window, sizeof *e->steps);
        e->state = ef_calloc((size_t)t->window, sizeof *e->state);
        if (!e->steps || !e->state) {
            t->failed = true;
            return NULL;
        }
        e->seen = true;
    }
    return e;
}

static int cause_id(ef_trace *t, const char *cause) {
    for (int i = 0; i < t->ncauses; i++)
        if (!strcmp(t->causes[i], cause)) return i;
    if (t->ncauses + TRACE_STALLED >= UINT16_MAX) return -1;
    if (t->ncauses == t->cap_causes) {
        int cap = t->cap_causes ? 2 * t->cap_causes : 16;
        void *c = ef_realloc(t->causes, (size_t)cap * sizeof *t->causes);
        if (!c) return -1;
        t->causes = c;
        t->cap_causes = cap;
    }
    snprintf(t->causes[t->ncauses], sizeof t->causes[0], "%s", cause);
    return t->ncauses++;
}

/* [t0, t0 + count) cut to the window, as offsets into it; false when
 * they do not meet. */
static bool clip(const ef_trace *t, uint64_t t0, uint64_t count, uint64_t *lo, uint64_t *hi) {
    uint64_t end = count > UINT64_MAX - t0 ? UINT64_MAX : t0 + count;
    if (end <= t->begin || t0 >= t->end) return false;
    *lo = (t0 > t->begin ? t0 : t->begin) - t->begin;
    *hi = (end < t->end ? end : t->end) - t->begin;
    return true;
}

static void on_cycles(void *ctx, int einsum, uint64_t t0, uint64_t count, uint64_t first_steps,
                      uint64_t later_steps, const char *cause) {
    ef_trace *t = ctx;
    uint64_t lo, hi;
    if (!clip(t, t0, count, &lo, &hi)) return;
    trace_einsum *e = einsum_at(t, einsum);
    if (!e) return;
    uint16_t state = TRACE_COMPUTING;
    if (cause) {
        int id = cause_id(t, cause);
        if (id < 0) {
            t->failed = true;
            return;
        }
        state = (uint16_t)(TRACE_STALLED + id);
    }
    uint32_t later = later_steps > UINT32_MAX ? UINT32_MAX : (uint32_t)later_steps;
    for (uint64_t c = lo; c < hi; c++) {
        e->state[c] = state;
        e->steps[c] = cause ? 0 : later;
    }
    if (!cause && t0 >= t->begin && t0 < t->end)
        e->steps[t0 - t->begin] = first_steps > UINT32_MAX ? UINT32_MAX : (uint32_t)first_steps;
}

static trace_res *res_of(ef_trace *t, trace_einsum *e, const char *name) {
    for (int i = 0; i < e->nres; i++)
        if (!strcmp(e->res[i].name, name)) return &e->res[i];
    if (e->nres == e->cap_res) {
        int cap = e->cap_res ? 2 * e->cap_res : 8;
        trace_res *r = ef_realloc(e->res, (size_t)cap * sizeof *r);
        if (!r) return NULL;
        e->res = r;
        e->cap_res = cap;
    }
    trace_res *r = &e->res[e->nres];
    snprintf(r->name, sizeof r->name, "%s", name);
    if (!(r->bytes = ef_calloc((size_t)t->window, sizeof *r->bytes))) return NULL;
    e->nres++;
    return r;
}

/* A transfer's bytes spread evenly over the cycles it holds the
 * resource, the remainder one byte each to the first of them, so that
 * they add up exactly. */
static void on_bytes(void *ctx, int einsum, const char *res_name, uint64_t t0,
                     uint64_t hold_cycles, uint64_t bytes) {
    ef_trace *t = ctx;
    uint64_t hold = hold_cycles ? hold_cycles : 1, lo, hi;
    if (!clip(t, t0, hold, &lo, &hi)) return;
    trace_einsum *e = einsum_at(t, einsum);
    trace_res *r = e ? res_of(t, e, res_name) : NULL;
    if (!r) {
        t->failed = true;
        return;
    }
    uint64_t each = bytes / hold, extra = bytes % hold;
    for (uint64_t c = lo; c < hi; c++) {
        uint64_t j = c + t->begin - t0;
        r->bytes[c] += each + (j < extra ? 1 : 0);
    }
}

ef_trace *ef_trace_create(uint64_t begin_cycle, uint64_t end_cycle) {
    if (end_cycle <= begin_cycle || end_cycle - begin_cycle > EF_TRACE_MAX_CYCLES) return NULL;
    ef_trace *t = ef_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->begin = begin_cycle;
    t->end = end_cycle;
    t->window = end_cycle - begin_cycle;
    t->sink = (ef_trace_sink){.begin_cycle = begin_cycle, .end_cycle = end_cycle, .ctx = t,
                              .cycles = on_cycles, .bytes = on_bytes};
    return t;
}

const ef_trace_sink *ef_trace_sink_of(ef_trace *t) { return &t->sink; }

void ef_trace_destroy(ef_trace *t) {
    if (!t) return;
    for (int i = 0; i < t->nes; i++) {
        trace_einsum *e = &t->es[i];
        for (int r = 0; r < e->nres; r++) free(e->res[r].bytes);
        free(e->res);
        free(e->steps);
        free(e->state);
    }
    free(t->es);
    free(t->causes);
    free(t);
}

static int level_index(const ef_nest *n, const char *name, size_t len) {
    for (int l = 0; l < n->level_count; l++)
        if (strlen(n->arch->levels[l].name) == len && !strncmp(n->arch->levels[l].name, name, len))
            return l;
    return EF_MAX_LEVELS; /* the PEs themselves */
}

/* Ports 2l (read) and 2l + 1 (write), then the link in, the link out. */
static int res_key(const ef_nest *n, const char *name) {
    if (!strncmp(name, "noc ", 4)) {
        const char *arrow = strstr(name + 4, "->");
        if (!arrow) return 4 * EF_MAX_LEVELS;
        int from = level_index(n, name + 4, (size_t)(arrow - name - 4));
        int to = level_index(n, arrow + 2, strlen(arrow + 2));
        return 2 * EF_MAX_LEVELS + 2 + (from > to);
    }
    const char *dot = strrchr(name, '.');
    if (!dot) return 4 * EF_MAX_LEVELS;
    return 2 * level_index(n, name, (size_t)(dot - name)) + (strcmp(dot, ".write") == 0);
}

void ef_trace_res_order(const trace_einsum *e, const ef_nest *n, int *order) {
    for (int i = 0; i < e->nres; i++) order[i] = i;
    /* insertion sort: a handful of resources */
    for (int i = 1; i < e->nres; i++) {
        int v = order[i], j = i;
        int kv = res_key(n, e->res[v].name);
        while (j > 0) {
            int u = order[j - 1], ku = res_key(n, e->res[u].name);
            if (ku < kv || (ku == kv && strcmp(e->res[u].name, e->res[v].name) <= 0)) break;
            order[j] = u;
            j--;
        }
        order[j] = v;
    }
}

const char *ef_trace_einsum_name(const ef_nest *n) {
    return n->workload->tensors[n->ops[n->out_op]->tensor].name;
}

const char *ef_trace_unit_name(const ef_nest *n) {
    return n->unit == EF_UNIT_VECTOR ? n->spec_arch->vector_unit.name : "array";
}

uint64_t ef_trace_shown_end(const ef_trace *t, uint64_t total_cycles) {
    uint64_t end = total_cycles < t->end ? total_cycles : t->end;
    return end > t->begin ? end : t->begin;
}
