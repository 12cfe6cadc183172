/* Tile generations as runs (engine.h): written by pass 1, one push per
 * generation or one copy per repeated block, read by pass 2 by
 * generation index or by step.
 *
 * A pushed generation stays open until the next one arrives, because
 * only then are its steps (the difference of the two first steps) and
 * its write-back (part of the next event's cost) known. A complete
 * generation joins the last run if it is the one the run's pattern
 * calls for next, under the parent the run calls for next; else, while
 * the last run has made only one pass through its pattern under one
 * parent (a run of one shape counts as one pass of one long slot), the
 * pattern takes it in (one more of the last slot's shape, or a new
 * slot, up to EF_GEN_PERIOD_MAX); else it starts a new run. So
 * A A A B A A A B ... becomes one run of pattern A x 3, B once it has
 * gone round once, a long stretch of one shape is one run of pattern
 * A, and A B B ... B under each of many consecutive parents is one run
 * whose pattern is A, B x m with one pass per parent. */
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
    void *q = ef_realloc(*p, sz * (size_t)to);
    if (!q) return EF_ERR_NOMEM;
    *p = q;
    *cap = to;
    return EF_OK;
}

static inline ef_gen_run *last_run(ef_gen_list *gl) {
    return gl->nruns ? &gl->runs[gl->nruns - 1] : NULL;
}

/* The parent generation j of run r has, or would have if r went on. */
static inline uint64_t parent_at_index(const ef_gen_run *r, uint64_t j) {
    return r->per_parent ? r->parent + j / r->per_parent : r->parent;
}

/* Does run r go on with one more generation of shape x under parent?
 * *per_parent gets the run's per_parent if it does: a run under one
 * parent so far may go on under the next one once its first parent's
 * generations make whole passes through its pattern. */
static bool run_takes(const ef_gen_list *gl, const ef_gen_run *r, uint64_t parent,
                      const ef_gen_shape *x, uint64_t *per_parent) {
    uint64_t j = r->count;
    if (!same_shape(ef_gen_slot(gl, r, j % r->cycle_gens), x)) return false;
    *per_parent = r->per_parent;
    if (r->per_parent) return parent == r->parent + j / r->per_parent;
    if (parent == r->parent) return true;
    if (parent == r->parent + 1 && j % r->cycle_gens == 0) {
        *per_parent = j;
        return true;
    }
    return false;
}

/* The part of run r's second pass made so far joins its pattern, if
 * the pattern then still has at most EF_GEN_PERIOD_MAX slots: the run is
 * back in its first pass. (A A B A then C: the pattern A x 2, B, A, C,
 * where the second pass A would have ended the run.) */
static bool unroll(ef_gen_list *gl, ef_gen_run *r) {
    uint64_t extra = r->count - r->cycle_gens, taken = 0, period = r->period;
    const ef_gen_shape *slots = &gl->shapes[r->shape_at];
    bool join = same_shape(&slots[0], &slots[r->period - 1]);
    uint64_t need = 0;
    for (uint64_t q = 0; taken < extra; q++) {
        taken += slots[q].times < extra - taken ? slots[q].times : extra - taken;
        need++;
    }
    if (period + need - join > EF_GEN_PERIOD_MAX ||
        reserve_one((void **)&gl->shapes, gl->nshapes + need - 1, &gl->cap_shapes,
                    sizeof(ef_gen_shape)) != EF_OK) /* room for all, at most 8 */
        return false; /* the pattern as it was: a new run follows */
    slots = &gl->shapes[r->shape_at];
    for (uint64_t q = 0, left = extra; left > 0; q++) {
        uint64_t t = slots[q].times < left ? slots[q].times : left;
        left -= t;
        if (q == 0 && join) {
            gl->shapes[gl->nshapes - 1].times += t;
        } else {
            ef_gen_shape *s = &gl->shapes[gl->nshapes++];
            *s = slots[q];
            s->times = t;
            s->gen_off = r->cycle_gens;
            s->step_off = r->cycle_steps;
            r->period++;
        }
        r->cycle_gens += t;
        r->cycle_steps += t * slots[q].steps;
    }
    return true;
}

/* May run r's pattern take in more generations under parent? While it
 * has made one pass under one parent, or less than two (unroll); a run
 * of one shape is one pass of a slot as long as the run, which this
 * makes it. */
static bool may_grow(ef_gen_list *gl, ef_gen_run *r, uint64_t parent) {
    if (r->per_parent || r->parent != parent || r->shape_at + r->period != gl->nshapes)
        return false;
    if (r->count == r->cycle_gens) return true;
    if (r->period == 1) {
        gl->shapes[r->shape_at].times = r->count;
        r->cycle_gens = r->count;
        r->cycle_steps = r->count * gl->shapes[r->shape_at].steps;
        return true;
    }
    return r->count < 2 * r->cycle_gens && unroll(gl, r);
}

/* Starts a run of m generations of shape x under parent. */
static ef_status push_run(ef_gen_list *gl, uint64_t first_step, uint64_t parent,
                          const ef_gen_shape *x, uint64_t m) {
    ef_gen_run *last = last_run(gl);
    uint64_t next_gen = last ? last->first_gen + last->count : 0;
    ef_status st;
    if ((st = reserve_one((void **)&gl->runs, gl->nruns, &gl->cap_runs, sizeof(ef_gen_run))) !=
            EF_OK ||
        (st = reserve_one((void **)&gl->shapes, gl->nshapes, &gl->cap_shapes,
                          sizeof(ef_gen_shape))) != EF_OK)
        return st;
    ef_gen_shape *s = &gl->shapes[gl->nshapes];
    *s = *x;
    s->times = m;
    s->gen_off = s->step_off = 0;
    gl->runs[gl->nruns++] = (ef_gen_run){.first_gen = next_gen, .first_step = first_step,
                                         .count = m, .parent = parent,
                                         .shape_at = gl->nshapes++, .period = 1,
                                         .cycle_gens = m, .cycle_steps = m * x->steps};
    return EF_OK;
}

/* A run's pattern and parents, copied out of the list (whose storage
 * moves as it grows) to be appended again. */
typedef struct {
    ef_gen_run r;
    ef_gen_shape slot[EF_GEN_PERIOD_MAX];
} pattern;

static void pattern_of(const ef_gen_list *gl, const ef_gen_run *r, pattern *p) {
    p->r = *r;
    memcpy(p->slot, &gl->shapes[r->shape_at], sizeof(ef_gen_shape) * (size_t)r->period);
}

static const ef_gen_shape *pattern_slot(const pattern *p, uint64_t pos) {
    uint64_t i = 0;
    while (i + 1 < p->r.period && p->slot[i + 1].gen_off <= pos) i++;
    return &p->slot[i];
}

static uint64_t gcd_u64(uint64_t a, uint64_t b) {
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Would run r, going on from its end, repeat the n generations of p
 * from index j? Both sequences are periodic, so they agree everywhere
 * once they agree over a common period; compared a stretch of one shape
 * at a time. */
static bool continues(const ef_gen_list *gl, const ef_gen_run *r, const pattern *p, uint64_t j,
                      uint64_t n) {
    uint64_t ca = r->cycle_gens, cb = p->r.cycle_gens, g = gcd_u64(ca, cb);
    uint64_t span = n;
    if (ca / g <= n / cb) span = ca / g * cb; /* the common period, when shorter */
    for (uint64_t t = 0; t < span;) {
        uint64_t pa = (r->count + t) % ca, pb = (j + t) % cb;
        const ef_gen_shape *a = ef_gen_slot(gl, r, pa), *b = pattern_slot(p, pb);
        if (!same_shape(a, b)) return false;
        uint64_t la = a->gen_off + a->times - pa, lb = b->gen_off + b->times - pb;
        t += la < lb ? la : lb;
    }
    return true;
}

/* Do n generations under parents parent_at_index(src, j + t) + shift,
 * t < n, go on with the parents run r calls for next? *per_parent gets
 * r's per_parent after them. */
static bool parents_continue(const ef_gen_run *r, const ef_gen_run *src, uint64_t j, uint64_t n,
                             uint64_t shift, uint64_t *per_parent) {
    uint64_t c = r->count, parent = parent_at_index(src, j) + shift;
    uint64_t rpp = r->per_parent, spp = src->per_parent;
    bool one = !spp || j % spp + n <= spp; /* all n under one parent */
    *per_parent = rpp;
    if (rpp) {
        if (one) return c % rpp + n <= rpp && parent_at_index(r, c) == parent;
        return spp == rpp && c % rpp == j % rpp && parent_at_index(r, c) == parent;
    }
    if (one && parent == r->parent) return true;
    /* r is under one parent so far: it goes on under the next one with
     * as many generations, after whole passes through its pattern */
    if (parent != r->parent + 1 || c % r->cycle_gens) return false;
    if (one ? n <= c : spp == c && j % spp == 0) {
        *per_parent = c;
        return true;
    }
    return false;
}

/* First step of generation j of p's run. */
static uint64_t pattern_first_step(const pattern *p, uint64_t j) {
    const ef_gen_run *r = &p->r;
    uint64_t pos = j % r->cycle_gens;
    const ef_gen_shape *x = pattern_slot(p, pos);
    return r->first_step + j / r->cycle_gens * r->cycle_steps + x->step_off +
           (pos - x->gen_off) * x->steps;
}

/* Appends m generations of shape x under one parent: the last run goes
 * on with them, or its growing pattern takes them in, or they make a run
 * of their own. */
static ef_status append_same(ef_gen_list *gl, const ef_gen_shape *x, uint64_t m,
                             uint64_t first_step, uint64_t parent) {
    ef_gen_run *last = last_run(gl);
    if (last && last->period == 1 && !last->per_parent && last->parent == parent &&
        same_shape(&gl->shapes[last->shape_at], x)) {
        last->count += m;
        return EF_OK;
    }
    if (last && may_grow(gl, last, parent)) {
        ef_gen_shape *end = &gl->shapes[gl->nshapes - 1], *start = &gl->shapes[last->shape_at];
        if (same_shape(start, x) && start->times >= m) {
            /* a whole pass made (perhaps just now, by unroll): the
             * next one begins */
            last->count += m;
            return EF_OK;
        }
        if (same_shape(end, x)) {
            end->times += m;
        } else if (last->period < EF_GEN_PERIOD_MAX) {
            ef_status st = reserve_one((void **)&gl->shapes, gl->nshapes, &gl->cap_shapes,
                                       sizeof(ef_gen_shape));
            if (st != EF_OK) return st;
            ef_gen_shape *s = &gl->shapes[gl->nshapes++];
            *s = *x;
            s->times = m;
            s->gen_off = last->cycle_gens;
            s->step_off = last->cycle_steps;
            last->period++;
        } else {
            goto new_run;
        }
        last->count += m;
        last->cycle_gens += m;
        last->cycle_steps += m * x->steps;
        return EF_OK;
    }
new_run:
    return push_run(gl, first_step, parent, x, m);
}

static ef_status settle_last(ef_gen_list *gl, bool *split);

/* Appends one complete generation of shape x (its times and offsets
 * ignored) that starts at first_step under parent. */
static ef_status append_gen(ef_gen_list *gl, uint64_t first_step, uint64_t parent,
                            const ef_gen_shape *x) {
    ef_gen_run *last = last_run(gl);
    uint64_t pp;
    if (last && run_takes(gl, last, parent, x, &pp)) {
        last->per_parent = pp;
        last->count++;
        return EF_OK;
    }
    bool split;
    ef_status st = settle_last(gl, &split);
    return st != EF_OK ? st : append_same(gl, x, 1, first_step, parent);
}

/* Appends n generations of p from index j, at the start of a pass
 * through its pattern, as a run of their own with p's pattern (cut short
 * if they are less than a pass); under one parent of p, or starting at
 * one of its parents' first generations. */
static ef_status append_run(ef_gen_list *gl, const pattern *p, uint64_t j, uint64_t n,
                            uint64_t step_shift, uint64_t parent_shift) {
    const ef_gen_run *src = &p->r;
    const ef_gen_run *last = last_run(gl);
    uint64_t next_gen = last ? last->first_gen + last->count : 0; /* runs may move */
    ef_status st;
    if ((st = reserve_one((void **)&gl->runs, gl->nruns, &gl->cap_runs, sizeof(ef_gen_run))) !=
        EF_OK)
        return st;
    uint64_t at = gl->nshapes, cyc = 0, cyc_steps = 0, period = 0;
    for (uint64_t q = 0; q < src->period && cyc < n; q++) {
        if ((st = reserve_one((void **)&gl->shapes, gl->nshapes, &gl->cap_shapes,
                              sizeof(ef_gen_shape))) != EF_OK)
            return st;
        ef_gen_shape s = p->slot[q];
        if (s.times > n - cyc) s.times = n - cyc;
        s.gen_off = cyc;
        s.step_off = cyc_steps;
        gl->shapes[gl->nshapes++] = s;
        period++;
        cyc += s.times;
        cyc_steps += s.times * s.steps;
    }
    uint64_t pp = src->per_parent && n > src->per_parent ? src->per_parent : 0;
    gl->runs[gl->nruns++] =
        (ef_gen_run){.first_gen = next_gen, .first_step = pattern_first_step(p, j) + step_shift,
                     .count = n, .parent = parent_at_index(src, j) + parent_shift,
                     .per_parent = pp, .shape_at = at, .period = period,
                     .cycle_gens = cyc, .cycle_steps = cyc_steps};
    return EF_OK;
}

/* The last run stops going on: if it ends inside a parent other than
 * its first, that parent's generations become a run of their own, so
 * that runs keep starting where parents do (the next run can then go on
 * parent by parent, where otherwise it would be out of step). */
static ef_status settle_last(ef_gen_list *gl, bool *split) {
    ef_gen_run *last = last_run(gl);
    *split = false;
    if (!last || !last->per_parent || last->count % last->per_parent == 0) return EF_OK;
    *split = true;
    uint64_t k = last->count % last->per_parent;
    pattern p;
    pattern_of(gl, last, &p);
    last->count -= k;
    if (last->count <= last->per_parent) last->per_parent = 0;
    return append_run(gl, &p, last->count, k, 0, 0);
}

/* Appends generations [j, j + n) of pattern p, their first steps and
 * parents moved on by step_shift and parent_shift (a piece of a run,
 * copied). At once when the last run goes on with them; else in a few
 * pieces, each a stretch of one shape or whole passes, which the last
 * run takes in or which make runs of their own that the next copy goes
 * on with. The cost grows with the pattern's slots, never with n. */
static ef_status append_piece(ef_gen_list *gl, const pattern *p, uint64_t j, uint64_t n,
                              uint64_t step_shift, uint64_t parent_shift) {
    const ef_gen_run *src = &p->r;
    ef_status st = EF_OK;
    while (n > 0 && st == EF_OK) {
        ef_gen_run *last = last_run(gl);
        uint64_t pp;
        if (last && continues(gl, last, p, j, n) &&
            parents_continue(last, src, j, n, parent_shift, &pp)) {
            last->per_parent = pp;
            last->count += n;
            return EF_OK;
        }
        bool split;
        if ((st = settle_last(gl, &split)) != EF_OK) return st;
        if (split) continue; /* the run split off may go on with the piece */
        uint64_t pos = j % src->cycle_gens, m;
        uint64_t left = src->per_parent ? src->per_parent - j % src->per_parent : n;
        if (left > n) left = n;
        if (pos) {
            /* the rest of this pass, a slot at a time */
            const ef_gen_shape *x = pattern_slot(p, pos);
            m = x->gen_off + x->times - pos;
            if (m > left) m = left;
            st = append_same(gl, x, m, pattern_first_step(p, j) + step_shift,
                             parent_at_index(src, j) + parent_shift);
        } else {
            /* whole passes: to the end of the piece, or of this parent's
             * generations if the piece starts inside them */
            m = src->per_parent && j % src->per_parent ? left : n;
            if (src->period == 1 || m < src->cycle_gens) {
                /* one shape to the end of this parent's generations, or
                 * a pass cut short, a slot at a time */
                const ef_gen_shape *x = pattern_slot(p, 0);
                if (src->period == 1) m = left;
                else if (m > x->times) m = x->times;
                st = append_same(gl, x, m, pattern_first_step(p, j) + step_shift,
                                 parent_at_index(src, j) + parent_shift);
            } else {
                st = append_run(gl, p, j, m, step_shift, parent_shift);
            }
        }
        j += m;
        n -= m;
    }
    return st;
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
     * the pattern, then, slot by slot, those of the next pass that
     * start in time */
    const ef_gen_run *x = &r[i];
    uint64_t d = s - x->first_step, q = d / x->cycle_steps, rem = d % x->cycle_steps;
    uint64_t in = x->count;
    if (q < in / x->cycle_gens + 1) {
        uint64_t part = 0;
        for (uint64_t p = 0; p < x->period; p++) {
            const ef_gen_shape *sh = &gl->shapes[x->shape_at + p];
            if (rem <= sh->step_off) break;
            uint64_t fit = (rem - sh->step_off + sh->steps - 1) / sh->steps;
            part += fit < sh->times ? fit : sh->times;
        }
        if (q * x->cycle_gens + part < in) in = q * x->cycle_gens + part;
    }
    return x->first_gen + in;
}

/* Takes the last generation off the last run (to reopen it): a run
 * still in its first pass gives up the pattern's last position, and
 * one that reached a second parent with it alone is under one again. */
static void drop_last(ef_gen_list *gl) {
    ef_gen_run *last = &gl->runs[gl->nruns - 1];
    last->count--;
    if (last->per_parent && last->count <= last->per_parent) last->per_parent = 0;
    if (last->count < last->cycle_gens) {
        ef_gen_shape *s = &gl->shapes[last->shape_at + last->period - 1];
        last->cycle_gens--;
        last->cycle_steps -= s->steps;
        if (--s->times == 0) {
            last->period--;
            if (last->shape_at + last->period + 1 == gl->nshapes) gl->nshapes--;
        }
    }
    if (last->count == 0) gl->nruns--;
}

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
    pattern *pc = ef_malloc(sizeof(pattern) * (size_t)npieces);
    uint64_t *pj = ef_malloc(sizeof(uint64_t) * (size_t)npieces * 2);
    if (!pc || !pj) {
        free(pc);
        free(pj);
        return EF_ERR_NOMEM;
    }
    for (uint64_t q = 0; q < npieces; q++) {
        const ef_gen_run *r = &gl->runs[i0 + q];
        uint64_t g = q ? r->first_gen : from;
        pattern_of(gl, r, &pc[q]);
        pj[2 * q] = g - r->first_gen;                /* first index in the run */
        pj[2 * q + 1] = r->first_gen + r->count - g; /* generations */
    }
    for (uint64_t i = 1; i <= k && st == EF_OK; i++) {
        uint64_t start = gl->count;
        for (uint64_t q = 0; q < npieces && st == EF_OK; q++)
            st = append_piece(gl, &pc[q], pj[2 * q], pj[2 * q + 1], i * step_shift,
                              i * parent_shift);
        gl->count = start + n;
        ef_gen_run *last = last_run(gl);
        uint64_t pp = last->per_parent;
        bool self_similar = n % last->cycle_gens == 0 &&
                            (pp ? n % pp == 0 && parent_shift == n / pp : parent_shift == 0);
        if (st == EF_OK && i < k && last->first_gen <= start && self_similar) {
            /* copy i lies in one run that goes round whole passes in it
             * and moves on by as many parents as the copies do: the
             * other copies, equal to it, go on with that run */
            uint64_t rest = (k - i) * n;
            last->count += rest;
            gl->count += rest;
            break;
        }
    }
    free(pc);
    free(pj);
    if (st != EF_OK) return st;
    /* the last generation is open again: its steps and write-back come
     * with the next event */
    ef_gen_run *last = &gl->runs[gl->nruns - 1];
    uint64_t g = gl->count - 1;
    gl->open = *ef_gen_shape_of(gl, last, g);
    gl->open_step = ef_gen_first_step(gl, last, g);
    gl->open_parent = ef_gen_parent(last, g);
    gl->has_open = true;
    drop_last(gl);
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

static bool same_bytes(const ef_xfer_set *s, uint64_t q, const uint64_t *bytes) {
    return !s->with_bytes || !memcmp(s->bytes[q], bytes, sizeof s->bytes[q]);
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
    uint32_t *slots = ef_calloc((size_t)size, sizeof *slots);
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

/* Room for one more transfer's bytes, beside items. */
static ef_status reserve_bytes(ef_xfer_set *s) {
    if (!s->with_bytes || s->bytes_cap == s->cap) return EF_OK;
    void *b = ef_realloc(s->bytes, (size_t)s->cap * sizeof *s->bytes);
    if (!b) return EF_ERR_NOMEM;
    s->bytes = b;
    s->bytes_cap = s->cap;
    return EF_OK;
}

ef_status ef_xfer_intern(ef_xfer_set *s, const ef_xfer *x, const uint64_t *bytes,
                         uint32_t *id) {
    ef_status st;
    if (!s->count) {
        /* index 0: the free transfer, which most generations use */
        if ((st = reserve_one((void **)&s->items, 0, &s->cap, sizeof(ef_xfer))) != EF_OK)
            return st;
        if ((st = reserve_bytes(s)) != EF_OK) return st;
        if (s->with_bytes) memset(s->bytes[0], 0, sizeof s->bytes[0]);
        memset(&s->items[0], 0, sizeof(ef_xfer));
        s->items[0].bottleneck = -1;
        s->count = 1;
        if ((st = grow_slots(s)) != EF_OK) {
            s->count = 0; /* no index yet: the next call starts over */
            return st;
        }
    }
    uint64_t h = hash_xfer(x), at = h & s->mask;
    /* transfers that differ in bytes alone share a hash and probe on */
    for (; s->slots[at]; at = (at + 1) & s->mask)
        if (same_xfer(&s->items[s->slots[at] - 1], x) && same_bytes(s, s->slots[at] - 1, bytes)) {
            *id = s->slots[at] - 1;
            return EF_OK;
        }
    if (s->count >= UINT32_MAX - 1) return EF_ERR_OVERFLOW;
    if ((st = reserve_one((void **)&s->items, s->count, &s->cap, sizeof(ef_xfer))) != EF_OK)
        return st;
    if ((st = reserve_bytes(s)) != EF_OK) return st;
    if ((uint64_t)s->count * 2 + 2 > s->mask + 1) {
        /* grown before the item goes in, so a failure leaves the set as
         * it was */
        if ((st = grow_slots(s)) != EF_OK) return st;
        for (at = h & s->mask; s->slots[at]; at = (at + 1) & s->mask) {}
    }
    s->items[s->count] = *x;
    if (s->with_bytes) memcpy(s->bytes[s->count], bytes, sizeof s->bytes[0]);
    *id = (uint32_t)s->count++;
    s->slots[at] = *id + 1;
    return EF_OK;
}

void ef_xfer_set_free(ef_xfer_set *s) {
    free(s->bytes);
    free(s->items);
    free(s->slots);
    memset(s, 0, sizeof *s);
}
