/* Tile generations as runs (engine.h): written by pass 1, one push per
 * generation or one copy per repeated block, read by pass 2 by
 * generation index or by step.
 *
 * A pushed generation stays open until the next one arrives, because
 * only then are its steps (the difference of the two first steps) and
 * its write-back (part of the next event's cost) known. A complete
 * generation joins the last run if it is the one the run's pattern
 * calls for next; else, while the last run has made only one pass
 * through its pattern, the pattern takes it in (up to
 * EF_GEN_PERIOD_MAX shapes); else it starts a new run. So A A A B
 * A A A B ... becomes one run of pattern A A A B once it has gone round
 * once, and a long stretch of one shape is one run of pattern A. */
#include "sim/engine.h"

#include <stdlib.h>
#include <string.h>

static bool same_shape(const ef_gen_shape *a, const ef_gen_shape *b) {
    return a->steps == b->steps && a->fill == b->fill && a->drain == b->drain &&
           a->stream == b->stream;
}

/* Room for one more element of *p (*cap of them, sz bytes each). */
static ef_status reserve_one(void **p, uint64_t n, uint64_t *cap, size_t sz) {
    if (n < *cap) return EF_OK;
    uint64_t to = *cap ? 2 * *cap : 16;
    if (to > (UINT64_C(1) << 32) / sz) return EF_ERR_OVERFLOW;
    void *q = realloc(*p, sz * (size_t)to);
    if (!q) return EF_ERR_NOMEM;
    *p = q;
    *cap = to;
    return EF_OK;
}

static inline ef_gen_run *last_run(ef_gen_list *gl) {
    return gl->nruns ? &gl->runs[gl->nruns - 1] : NULL;
}

/* Appends one complete generation of shape x (its step_off ignored)
 * that starts at first_step under parent. */
static ef_status append_gen(ef_gen_list *gl, uint64_t first_step, uint64_t parent,
                            const ef_gen_shape *x) {
    ef_gen_run *last = last_run(gl);
    ef_status st;
    if (last && last->parent == parent) {
        if (same_shape(&gl->shapes[last->shape_at + last->count % last->period], x)) {
            last->count++;
            return EF_OK;
        }
        if (last->count == last->period && last->period < EF_GEN_PERIOD_MAX &&
            last->shape_at + last->period == gl->nshapes) {
            /* one pass so far: the pattern grows */
            if ((st = reserve_one((void **)&gl->shapes, gl->nshapes, &gl->cap_shapes,
                                  sizeof(ef_gen_shape))) != EF_OK)
                return st;
            ef_gen_shape *s = &gl->shapes[gl->nshapes++];
            *s = *x;
            s->step_off = last->cycle_steps;
            last->period++;
            last->count++;
            last->cycle_steps += x->steps;
            return EF_OK;
        }
    }
    uint64_t next_gen = last ? last->first_gen + last->count : 0;
    if ((st = reserve_one((void **)&gl->runs, gl->nruns, &gl->cap_runs, sizeof(ef_gen_run))) !=
            EF_OK ||
        (st = reserve_one((void **)&gl->shapes, gl->nshapes, &gl->cap_shapes,
                          sizeof(ef_gen_shape))) != EF_OK)
        return st;
    ef_gen_shape *s = &gl->shapes[gl->nshapes];
    *s = *x;
    s->step_off = 0;
    gl->runs[gl->nruns++] = (ef_gen_run){.first_gen = next_gen, .first_step = first_step,
                                         .count = 1, .parent = parent,
                                         .shape_at = gl->nshapes++, .period = 1,
                                         .cycle_steps = x->steps};
    return EF_OK;
}

/* Would the last run go on with the n generations whose shapes are
 * shapes[at + (phase + i) % m]? Both sequences are periodic, so they
 * agree everywhere once they agree over the product of the periods. */
static bool continues(const ef_gen_list *gl, const ef_gen_run *last, uint64_t at, uint64_t m,
                      uint64_t phase, uint64_t n) {
    uint64_t upto = last->period * m < n ? last->period * m : n;
    for (uint64_t i = 0; i < upto; i++)
        if (!same_shape(&gl->shapes[last->shape_at + (last->count + i) % last->period],
                        &gl->shapes[at + (phase + i) % m]))
            return false;
    return true;
}

/* Appends n generations under parent, the first starting at first_step,
 * whose shapes are shapes[at + (phase + i) % m] (a piece of a run). */
static ef_status append_piece(ef_gen_list *gl, uint64_t first_step, uint64_t parent,
                              uint64_t at, uint64_t m, uint64_t phase, uint64_t n) {
    while (n > 0) {
        ef_gen_run *last = last_run(gl);
        if (last && last->parent == parent && continues(gl, last, at, m, phase, n)) {
            last->count += n;
            return EF_OK;
        }
        ef_gen_shape x = gl->shapes[at + phase]; /* append_gen may move shapes */
        ef_status st = append_gen(gl, first_step, parent, &x);
        if (st != EF_OK) return st;
        first_step += x.steps;
        phase = (phase + 1) % m;
        n--;
    }
    return EF_OK;
}

ef_status ef_gens_push(ef_gen_list *gl, uint64_t first_step, uint64_t parent,
                       const ef_gen_cost *gc) {
    if (gl->has_open) {
        gl->open.steps = first_step - gl->open_step;
        gl->open.drain = gc->drain;
        ef_status st = append_gen(gl, gl->open_step, gl->open_parent, &gl->open);
        if (st != EF_OK) return st;
    }
    if (gl->count >= gl->limit) return EF_ERR_OVERFLOW;
    gl->open = (ef_gen_shape){.fill = gc->fill, .stream = gc->stream};
    gl->open_step = first_step;
    gl->open_parent = parent;
    gl->has_open = true;
    gl->count++;
    return EF_OK;
}

void ef_gens_set_open_stream(ef_gen_list *gl, uint32_t stream) {
    if (gl->has_open) gl->open.stream = stream;
}

ef_status ef_gens_close(ef_gen_list *gl, uint64_t end_step, uint32_t drain) {
    if (!gl->has_open) return EF_OK;
    gl->open.steps = end_step - gl->open_step;
    gl->open.drain = drain;
    gl->has_open = false;
    return append_gen(gl, gl->open_step, gl->open_parent, &gl->open);
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
    /* generations of the run that start before s: whole passes through
     * the pattern, then those of the next pass that start in time */
    uint64_t in = r[i].count;
    if (r[i].cycle_steps) {
        uint64_t d = s - r[i].first_step, q = d / r[i].cycle_steps, rem = d % r[i].cycle_steps;
        uint64_t part = 0;
        for (uint64_t p = 0; p < r[i].period; p++)
            part += gl->shapes[r[i].shape_at + p].step_off < rem;
        if (q < in && q * r[i].period + part < in) in = q * r[i].period + part;
    }
    return r[i].first_gen + in;
}

/* A piece of a run, for copying. */
typedef struct {
    uint64_t first_step, parent, at, period, phase, count;
} piece;

ef_status ef_gens_repeat(ef_gen_list *gl, uint64_t from, uint64_t k, uint64_t step_shift,
                         uint64_t parent_shift, uint64_t end_step) {
    if (!gl->has_open || from < 1 || from >= gl->count) return EF_ERR_OVERFLOW; /* a bug */
    uint64_t hint = gl->nruns - 1;
    const ef_gen_run *before = ef_gens_run(gl, from - 1, &hint);
    ef_status st = ef_gens_close(gl, end_step, ef_gen_shape_of(gl, before, from - 1)->drain);
    if (st != EF_OK) return st;
    uint64_t n = gl->count - from, add;
    if (!ef_mul_u64(k, n, &add) || gl->count > gl->limit || add > gl->limit - gl->count)
        return EF_ERR_OVERFLOW;
    uint64_t i0 = gl->nruns - 1;
    (void)ef_gens_run(gl, from, &i0);
    uint64_t npieces = gl->nruns - i0;
    const ef_gen_run *r0 = &gl->runs[i0];
    if (npieces == 1 && parent_shift == 0 && n % r0->period == 0) {
        /* whole passes through the last run's pattern: the copies go on
         * with it */
        gl->runs[i0].count += add;
        gl->count += add;
    } else {
        piece *pc = malloc(sizeof(piece) * (size_t)npieces);
        if (!pc) return EF_ERR_NOMEM;
        for (uint64_t q = 0; q < npieces; q++) {
            const ef_gen_run *r = &gl->runs[i0 + q];
            uint64_t g = q ? r->first_gen : from;
            pc[q] = (piece){.first_step = ef_gen_first_step(gl, r, g), .parent = r->parent,
                            .at = r->shape_at, .period = r->period,
                            .phase = (g - r->first_gen) % r->period,
                            .count = r->first_gen + r->count - g};
        }
        for (uint64_t i = 1; i <= k && st == EF_OK; i++) {
            uint64_t start = gl->count;
            for (uint64_t q = 0; q < npieces && st == EF_OK; q++)
                st = append_piece(gl, pc[q].first_step + i * step_shift,
                                  pc[q].parent + i * parent_shift, pc[q].at, pc[q].period,
                                  pc[q].phase, pc[q].count);
            gl->count = start + n;
            const ef_gen_run *last = last_run(gl);
            if (st == EF_OK && i < k && parent_shift == 0 && last->first_gen <= start &&
                n % last->period == 0) {
                /* copy i lies in one run whose pattern goes round a
                 * whole number of times in it: the other copies, equal
                 * to it, go on with that run */
                uint64_t rest = (k - i) * n;
                gl->runs[gl->nruns - 1].count += rest;
                gl->count += rest;
                break;
            }
        }
        free(pc);
        if (st != EF_OK) return st;
    }
    /* the last generation is open again: its steps and write-back come
     * with the next event */
    ef_gen_run *last = &gl->runs[gl->nruns - 1];
    uint64_t g = gl->count - 1;
    gl->open = *ef_gen_shape_of(gl, last, g);
    gl->open_step = ef_gen_first_step(gl, last, g);
    gl->open_parent = last->parent;
    gl->has_open = true;
    last->count--;
    if (last->count < last->period) {
        /* the pattern keeps only the shapes still in use */
        uint64_t old = last->period;
        last->period = last->count;
        last->cycle_steps = 0;
        for (uint64_t p = 0; p < last->period; p++)
            last->cycle_steps += gl->shapes[last->shape_at + p].steps;
        if (last->shape_at + old == gl->nshapes) gl->nshapes = last->shape_at + last->period;
        if (last->count == 0) gl->nruns--;
    }
    return EF_OK;
}

/* ---------- the transfer set ---------- */

static uint64_t hash_xfer(const ef_xfer *x) {
    uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ x->cycles;
    for (int i = 0; i < x->used; i++)
        h = (h ^ ((uint64_t)x->uses[i] << 56 ^ x->hold_cycles[x->uses[i]])) *
            UINT64_C(0xFF51AFD7ED558CCD);
    return (h ^ (uint64_t)(x->bottleneck + 1)) * UINT64_C(0xC4CEB9FE1A85EC53);
}

static bool same_xfer(const ef_xfer *a, const ef_xfer *b) {
    if (a->cycles != b->cycles || a->bottleneck != b->bottleneck || a->used != b->used)
        return false;
    for (int i = 0; i < a->used; i++)
        if (a->uses[i] != b->uses[i] || a->hold_cycles[a->uses[i]] != b->hold_cycles[b->uses[i]])
            return false;
    return true;
}

static ef_status grow_slots(ef_xfer_set *s) {
    uint64_t size = s->slots ? 2 * (s->mask + 1) : 64;
    uint32_t *slots = calloc((size_t)size, sizeof *slots);
    if (!slots) return EF_ERR_NOMEM;
    for (uint64_t q = 0; q < s->count; q++) {
        uint64_t at = hash_xfer(&s->items[q]) & (size - 1);
        while (slots[at]) at = (at + 1) & (size - 1);
        slots[at] = (uint32_t)q + 1;
    }
    free(s->slots);
    s->slots = slots;
    s->mask = size - 1;
    return EF_OK;
}

ef_status ef_xfer_intern(ef_xfer_set *s, const ef_xfer *x, uint32_t *id) {
    ef_status st;
    if (!s->count) {
        /* index 0: the free transfer, which most generations use */
        if ((st = reserve_one((void **)&s->items, 0, &s->cap, sizeof(ef_xfer))) != EF_OK)
            return st;
        memset(&s->items[0], 0, sizeof(ef_xfer));
        s->items[0].bottleneck = -1;
        s->count = 1;
        if ((st = grow_slots(s)) != EF_OK) return st;
    }
    uint64_t h = hash_xfer(x), at = h & s->mask;
    for (; s->slots[at]; at = (at + 1) & s->mask)
        if (same_xfer(&s->items[s->slots[at] - 1], x)) {
            *id = s->slots[at] - 1;
            return EF_OK;
        }
    if (s->count >= UINT32_MAX - 1) return EF_ERR_OVERFLOW;
    if ((st = reserve_one((void **)&s->items, s->count, &s->cap, sizeof(ef_xfer))) != EF_OK)
        return st;
    s->items[s->count] = *x;
    *id = (uint32_t)s->count++;
    if ((uint64_t)s->count * 2 > s->mask + 1) return grow_slots(s);
    s->slots[at] = *id + 1;
    return EF_OK;
}

void ef_xfer_set_free(ef_xfer_set *s) {
    free(s->items);
    free(s->slots);
    memset(s, 0, sizeof *s);
}
