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

/* Appends complete generations that follow the last run, merging them
 * into it when they match it. */
static ef_status append_run(ef_gen_list *gl, const ef_gen_run *run) {
    ef_gen_run *last = gl->nruns ? &gl->runs[gl->nruns - 1] : NULL;
    if (last && same_run(last, run)) {
        last->count += run->count;
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
    gl->runs[gl->nruns++] = *run;
    return EF_OK;
}

/* Moves the open generation, now complete, into the runs. */
static ef_status append_open(ef_gen_list *gl) { return append_run(gl, &gl->open); }

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

ef_status ef_gens_repeat(ef_gen_list *gl, uint64_t from, uint64_t k, uint64_t step_shift,
                         uint64_t parent_shift, uint64_t end_step) {
    if (!gl->has_open || from < 1 || from >= gl->count) return EF_ERR_OVERFLOW; /* a bug */
    uint64_t hint = 0;
    ef_status st = ef_gens_close(gl, end_step, ef_gens_run(gl, from - 1, &hint)->drain_cycles);
    if (st != EF_OK) return st;
    uint64_t n = gl->count - from, add;
    if (!ef_mul_u64(k, n, &add) || gl->count > gl->limit || add > gl->limit - gl->count)
        return EF_ERR_OVERFLOW;
    uint64_t i0 = gl->nruns - 1;
    (void)ef_gens_run(gl, from, &i0);
    uint64_t pieces = gl->nruns - i0;
    if (pieces == 1 && parent_shift == 0) {
        /* the copies continue the run they come from */
        gl->runs[i0].count += add;
        gl->count += add;
    } else {
        ef_gen_run *piece = malloc(sizeof(ef_gen_run) * (size_t)pieces);
        if (!piece) return EF_ERR_NOMEM;
        for (uint64_t q = 0; q < pieces; q++) piece[q] = gl->runs[i0 + q];
        piece[0].first_step = ef_gen_first_step(&piece[0], from);
        piece[0].count -= from - piece[0].first_gen;
        for (uint64_t i = 1; i <= k && st == EF_OK; i++)
            for (uint64_t q = 0; q < pieces && st == EF_OK; q++) {
                ef_gen_run r = piece[q];
                r.first_gen = gl->count;
                r.first_step += i * step_shift;
                r.parent += i * parent_shift;
                st = append_run(gl, &r);
                gl->count += r.count;
            }
        free(piece);
        if (st != EF_OK) return st;
    }
    /* the last generation is open again: its steps and write-back come
     * with the next event */
    ef_gen_run *last = &gl->runs[gl->nruns - 1];
    gl->open = *last;
    gl->open.first_gen = gl->count - 1;
    gl->open.first_step = ef_gen_first_step(last, gl->count - 1);
    gl->open.count = 1;
    gl->has_open = true;
    if (--last->count == 0) gl->nruns--;
    return EF_OK;
}
