/* Tile generations as runs (engine.h): written by pass 1, one push per
 * generation, read by pass 2 by generation index or by step.
 *
 * A pushed generation stays open until the next one arrives, because
 * only then are its steps (the difference of the two first steps) and
 * its write-back (part of the next event's cost) known; it is then
 * appended to the last run if it matches it in everything but position,
 * or starts a new run. */
#include "sim/engine.h"

#include <stdlib.h>

static bool same_run(const ef_gen_run *a, const ef_gen_run *b) {
    return a->steps == b->steps && a->parent == b->parent &&
           a->fill_cycles == b->fill_cycles && a->drain_cycles == b->drain_cycles &&
           a->fill_source == b->fill_source && a->fill_noc_bound == b->fill_noc_bound;
}

/* Moves the open generation, now complete, into the runs. */
static ef_status append_open(ef_gen_list *gl) {
    ef_gen_run *last = gl->nruns ? &gl->runs[gl->nruns - 1] : NULL;
    if (last && same_run(last, &gl->open)) {
        last->count++;
        return EF_OK;
    }
    if (gl->nruns == gl->cap_runs) {
        uint64_t cap = gl->cap_runs ? 2 * gl->cap_runs : 16;
        if (cap > (UINT64_C(1) << 32) / sizeof(ef_gen_run)) return EF_ERR_OVERFLOW;
        ef_gen_run *r = realloc(gl->runs, sizeof(ef_gen_run) * (size_t)cap);
        if (!r) return EF_ERR_NOMEM;
        gl->runs = r;
        gl->cap_runs = cap;
    }
    gl->runs[gl->nruns++] = gl->open;
    return EF_OK;
}

ef_status ef_gens_push(ef_gen_list *gl, uint64_t first_step, uint64_t parent,
                       const ef_gen_cost *gc) {
    if (gl->has_open) {
        gl->open.steps = first_step - gl->open.first_step;
        gl->open.drain_cycles = gc->drain_cycles;
        ef_status st = append_open(gl);
        if (st != EF_OK) return st;
    }
    if (gl->count >= gl->limit) return EF_ERR_OVERFLOW;
    gl->open = (ef_gen_run){.first_gen = gl->count, .first_step = first_step, .count = 1,
                            .parent = parent, .fill_cycles = gc->fill_cycles,
                            .fill_source = gc->fill_source,
                            .fill_noc_bound = gc->fill_noc_bound};
    gl->has_open = true;
    gl->count++;
    return EF_OK;
}

ef_status ef_gens_close(ef_gen_list *gl, uint64_t end_step, uint64_t drain_cycles) {
    if (!gl->has_open) return EF_OK;
    gl->open.steps = end_step - gl->open.first_step;
    gl->open.drain_cycles = drain_cycles;
    gl->has_open = false;
    return append_open(gl);
}

const ef_gen_run *ef_gens_run(const ef_gen_list *gl, uint64_t g, uint64_t *hint) {
    const ef_gen_run *r = gl->runs;
    uint64_t i = *hint < gl->nruns ? *hint : 0;
    if (g >= r[i].first_gen && g - r[i].first_gen < r[i].count) return &r[i];
    if (i + 1 < gl->nruns && g >= r[i + 1].first_gen && g - r[i + 1].first_gen < r[i + 1].count) {
        *hint = i + 1;
        return &r[i + 1];
    }
    /* the last run starting at or before g */
    uint64_t lo = 0, hi = gl->nruns;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (r[mid].first_gen <= g) lo = mid;
        else hi = mid;
    }
    *hint = lo;
    return &r[lo];
}

uint64_t ef_gens_before_step(const ef_gen_list *gl, uint64_t s, uint64_t *hint) {
    const ef_gen_run *r = gl->runs;
    if (!gl->nruns || r[0].first_step >= s) return 0;
    /* the last run whose first generation starts before s */
    uint64_t i = *hint < gl->nruns ? *hint : 0;
    bool ok = r[i].first_step < s && (i + 1 == gl->nruns || r[i + 1].first_step >= s);
    if (!ok) {
        uint64_t lo = 0, hi = gl->nruns;
        while (hi - lo > 1) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (r[mid].first_step < s) lo = mid;
            else hi = mid;
        }
        i = lo;
        *hint = i;
    }
    /* generations j of the run with first_step + j * steps < s */
    uint64_t in = r[i].count;
    if (r[i].steps) {
        uint64_t fit = (s - r[i].first_step + r[i].steps - 1) / r[i].steps;
        if (fit < in) in = fit;
    }
    return r[i].first_gen + in;
}
