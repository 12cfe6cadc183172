/* Period skipping, the event engine's second jump (the first, over
 * quiet cycles, is ef_engine_quiet in step.c).
 *
 * What the cycle loop does next depends only on its state relative to
 * the cycle about to run and to each level's current generation: every
 * transfer or step that finished in the past compares alike (all later
 * tests are "done by cycle t"), so the state is each channel's pointers
 * (next fill, next drain, generation in use) relative to that
 * generation, its transfer in flight and how long it still runs, the
 * stream of the innermost generation (started, cycles left), and the
 * position of the step counter in the innermost generation. The
 * resources need no entry of their own: each busy one is held by a
 * transfer in flight, which frees it a fixed number of cycles after it
 * started. At each generation boundary the loop remembers that
 * relative state. When it recurs, one "period" lies in between: T
 * cycles, S steps, G_l generations per level. If the generations the
 * loop will consult over the next k periods are copies of the period's
 * own, shifted by S steps and G generations (same transfers, parent
 * generations shifted alike), the next k periods repeat it exactly, and
 * they are added at once: T cycles, S steps, its compute and stall
 * cycles by cause, each level's window of done-times moved on by k G_l
 * generations, and the transfers in flight and the resources they hold
 * moved on by k T cycles. A level that did not move in the period (G_l
 * = 0) must have nothing left to write back and be idle, or busy with
 * one transfer all through the period that goes on past the k periods
 * added, and so must every resource it holds (matched by the signature
 * without the cycles left; see ef_periods_skip); and the steps added must
 * stay short of its next generation. Generations are compared run by
 * run (copies_until), so a skip costs time in proportion to the runs it
 * crosses, not to its generations. */
#include "sim/stepper.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define SIG_MAX (3 + 5 * EF_MAX_LEVELS + 4)
#define PERIOD_SLOTS 16
#define PERIOD_WAYS 4 /* states kept per signature: a period may span
                       * several boundaries whose signatures agree (tiles
                       * that alternate between two costs) */

typedef struct {
    int len;
    int64_t sig[SIG_MAX];
    uint64_t t, s, compute;
    uint64_t cause[CAUSE_COUNT];
    uint64_t nf[EF_MAX_LEVELS], nd[EF_MAX_LEVELS], cg[EF_MAX_LEVELS], agen[EF_MAX_LEVELS];
    uint64_t left[EF_MAX_LEVELS]; /* cycles its transfer still ran      */
    bool active[EF_MAX_LEVELS];
} snapshot;

/* The last PERIOD_WAYS states remembered under one hash of a signature;
 * which ways hold one is kept apart (bucket_meta), so that a run never
 * touches the memory of states it does not remember — a short run
 * remembers few, and zeroing them all cost more than the run. */
typedef struct {
    snapshot way[PERIOD_WAYS];
} bucket;

typedef struct {
    unsigned char next;       /* the oldest way, replaced next          */
    unsigned char filled;     /* bit w: way w holds a state             */
} bucket_meta;

/* One bucket with its meta data. */
typedef struct {
    bucket *b;
    bucket_meta *m;
} slot;

/* Kinds of boundary whose states are remembered apart, so that the
 * many boundaries inside a long stretch, whose signatures often agree,
 * do not push out the states a longer period starts from. */
enum { AT_ANY, AT_PATTERN, AT_PARENT, BOUNDARY_KINDS };

/* States by their full signature, and by the signature without the
 * cycles left of transfers in flight (see ef_periods_skip): at every
 * generation boundary; at those where the innermost generation starts a
 * pass through its run's pattern; at those where an outer level starts
 * a generation too. */
struct periods {
    bucket_meta meta[2][BOUNDARY_KINDS][PERIOD_SLOTS]; /* [loose]: zeroed   */
    bucket table[2][BOUNDARY_KINDS][PERIOD_SLOTS];     /* never zeroed      */
};

/* The loop's state before cycle tn, relative (see above). */
static int signature(const engine *e, uint64_t s, uint64_t tn, int64_t *sig) {
    int nl = e->nl, k = 0;
    for (int l = 1; l < nl; l++) {
        const chan *c = &e->ch[l];
        sig[k++] = (int64_t)(c->nf - c->cg);
        sig[k++] = (int64_t)(c->nd - c->cg);
        sig[k++] = c->active ? (c->active_is_fill ? 2 : 1) : 0;
        sig[k++] = c->active ? (int64_t)(c->active_gen - c->cg) : 0;
        sig[k++] = c->active && c->end > tn ? (int64_t)(c->end - tn) : 0;
    }
    sig[k++] = (int64_t)(s - e->ch[e->lin].cg_step);
    sig[k++] = e->x_on;
    sig[k++] = e->x_on && e->x_done > tn ? (int64_t)(e->x_done - tn) : 0;
    return k;
}

/* How many of the generations of run r from index j on lie under the
 * same parent as j (all of them when r has one parent). */
static uint64_t to_next_parent(const ef_gen_run *r, uint64_t j) {
    return r->per_parent ? r->per_parent - j % r->per_parent : r->count - j;
}

/* The longest stretch from generation g of run a, and g + d of run b,
 * that stays in both runs (and in [.., want)) and over which their
 * parents move on in step: both one per per_parent generations at the
 * same phase, or else as far as the next parent of either. */
static uint64_t stretch(const ef_gen_run *a, uint64_t g, const ef_gen_run *b, uint64_t d,
                        uint64_t want) {
    uint64_t ja = g - a->first_gen, jb = g + d - b->first_gen;
    uint64_t len = a->count - ja, lb = b->count - jb;
    if (lb < len) len = lb;
    if (want - g < len) len = want - g;
    bool in_step = a->per_parent == b->per_parent &&
                   (!a->per_parent || ja % a->per_parent == jb % a->per_parent);
    if (!in_step) {
        uint64_t x = to_next_parent(a, ja), y = to_next_parent(b, jb);
        if (x < len) len = x;
        if (y < len) len = y;
    }
    return len;
}

/* Do generations [p0, p1) of level m have the parents of the ones G[m]
 * further on, less G[q] at each outer level q? Stretch by stretch, each
 * checked at its start and its parents' range one level up. */
static bool parents_shifted(engine *e, int m, uint64_t p0, uint64_t p1, const uint64_t *G) {
    if (m < 2 || p0 >= p1) return true; /* level 1's parent is the one top tile */
    const ef_gen_list *gl = &e->tr->gens[m];
    if (p1 + G[m] > gl->count) return false;
    uint64_t *ha = &e->ch[m].hint_parent, *hb = &e->ch[m].hint_child;
    for (uint64_t p = p0; p < p1;) {
        const ef_gen_run *a = ef_gens_run(gl, p, ha), *b = ef_gens_run(gl, p + G[m], hb);
        uint64_t len = stretch(a, p, b, G[m], p1);
        uint64_t up0 = ef_gen_parent(a, p), up1 = ef_gen_parent(a, p + len - 1);
        if (ef_gen_parent(b, p + G[m]) != up0 + G[m - 1]) return false;
        if (!parents_shifted(e, m - 1, up0, up1 + 1, G)) return false;
        p += len;
    }
    return true;
}

/* The first generation g in [lo, want) of level l that is not a copy of
 * g + G[l] shifted by S steps and by G[q] generations of each outer
 * level q (same transfers, first step + S, parents + G[q]), or whose
 * copy would lie past the last generation; want if there is none (lo
 * if lo >= want). Generations are compared a stretch at a time: while
 * g and g + G each stay inside one run with their parents in step,
 * the parents are checked at the stretch's start (and their own
 * parents over the range they cover), the first steps there too (the
 * shapes agreeing, the steps that follow agree), and the shapes one
 * stretch of one slot at a time over a common period of the two
 * patterns, beyond which they repeat. The same answer as comparing them
 * one by one (or an earlier one, which only shortens a skip), in time
 * proportional to the runs and slots crossed. */
static uint64_t copies_until(engine *e, int l, uint64_t lo, uint64_t want, uint64_t S,
                             const uint64_t *G) {
    const ef_gen_list *gl = &e->tr->gens[l];
    uint64_t Gl = G[l], g = lo, *ha = &e->ch[l].hint_copy[0], *hb = &e->ch[l].hint_copy[1];
    if (gl->count <= Gl) return lo;
    if (want > gl->count - Gl) want = gl->count - Gl;
    while (g < want) {
        const ef_gen_run *a = ef_gens_run(gl, g, ha), *b = ef_gens_run(gl, g + Gl, hb);
        uint64_t len = stretch(a, g, b, Gl, want);
        if (l >= 2) {
            uint64_t p0 = ef_gen_parent(a, g);
            if (ef_gen_parent(b, g + Gl) != p0 + G[l - 1]) return g;
            if (!parents_shifted(e, l - 1, p0, ef_gen_parent(a, g + len - 1) + 1, G)) return g;
        }
        if (ef_gen_first_step(gl, b, g + Gl) != ef_gen_first_step(gl, a, g) + S) return g;
        uint64_t ja = g - a->first_gen, jb = g + Gl - b->first_gen;
        uint64_t ca = a->cycle_gens, cb = b->cycle_gens, gcd = ca, r = cb;
        while (r) {
            uint64_t t = gcd % r;
            gcd = r;
            r = t;
        }
        uint64_t span = ca / gcd <= len / cb ? ca / gcd * cb : len;
        for (uint64_t t = 0; t < span;) {
            uint64_t pa = (ja + t) % ca, pb = (jb + t) % cb;
            const ef_gen_shape *x = ef_gen_slot(gl, a, pa), *y = ef_gen_slot(gl, b, pb);
            if (y->steps != x->steps || y->fill != x->fill || y->drain != x->drain ||
                y->stream != x->stream)
                return g + t;
            uint64_t la = x->gen_off + x->times - pa, lb = y->gen_off + y->times - pb;
            t += la < lb ? la : lb;
        }
        g += len;
    }
    return g;
}

/* The window of done-times after k periods of G generations and T
 * cycles, as the stepper would have left them: each generation from
 * `from` on that the periods reach takes the time of the one G before
 * it plus T (so, from the last period simulated, j * T for the one j
 * periods on); those below `from` keep theirs; later ones have not
 * started. Every time needed lies in the old window: a generation of
 * the new one is at least base + k G, and its source j <= k periods
 * back is at least the old base. */
static void shift_done(uint64_t *ring, uint64_t old_base, uint64_t new_base, uint64_t from,
                       uint64_t kG, uint64_t G, uint64_t T) {
    uint64_t old[RING];
    memcpy(old, ring, sizeof old);
    (void)old_base;
    for (uint64_t g = new_base; g < new_base + RING; g++) {
        uint64_t v = NEVER;
        if (g < from) {
            assert(g >= old_base && g - old_base < RING);
            v = old[g % RING];
        } else if (g - from < kG) {
            uint64_t j = (g - from) / G + 1, src = g - j * G;
            assert(src >= old_base && src - old_base < RING && old[src % RING] != NEVER);
            v = old[src % RING] + j * T;
        }
        ring[g % RING] = v;
    }
}

/* How many periods after snapshot a provably repeat, given that the
 * state now has a's signature (loose: but for the cycles left of the
 * transfers in flight). Fills G. */
static uint64_t periods_fit(engine *e, const snapshot *a, const loop_state *ls, uint64_t tn,
                            bool loose, uint64_t *G) {
    const ef_schedule *tr = e->tr;
    int nl = e->nl;
    uint64_t T = tn - a->t, S = ls->s - a->s;
    uint64_t k = (UINT64_C(1) << 62) / T; /* no overflow of t */
    for (int l = 1; l < nl; l++) G[l] = e->ch[l].cg - a->cg[l];
    /* levels that stayed put bound k by their next boundary */
    for (int l = 1; l < nl && k; l++) {
        if (G[l]) continue;
        const chan *c = &e->ch[l];
        if (c->nd != c->cg) k = 0;
        if (c->active) {
            /* A transfer in flight through the whole period (the same
             * one: nothing of this level moved) and beyond the next k
             * periods changes nothing in them but its own cycles left:
             * the stepper only compares its end with the cycle. The
             * resources it holds must stay busy as long, or have been
             * free all through the period. */
            if (!loose || !a->active[l] || a->agen[l] != c->active_gen || c->end <= tn) k = 0;
            else if ((c->end - tn) / T < k) k = (c->end - tn) / T;
            const ef_xfer *x = xfer(e, c->active_xfer);
            uint64_t start = c->end - x->cycles;
            for (int i = 0; i < x->used && k; i++) {
                uint64_t f = start + x->hold_cycles[x->uses[i]]; /* it frees the resource */
                if (f > tn) {
                    if ((f - tn) / T < k) k = (f - tn) / T;
                } else if (f > a->t) {
                    k = 0; /* freed inside the period: the next one differs */
                }
            }
        }
        uint64_t fit = c->cg_next_step > ls->s ? (c->cg_next_step - 1 - ls->s) / S : 0;
        if (fit < k) k = fit;
    }
    /* levels that moved: the generations the next k periods consult
     * must be copies of those this one did; a transfer in flight must
     * be as far from its end as it was then */
    for (int l = 1; l < nl && k; l++) {
        if (!G[l]) continue;
        const ef_gen_list *gl = &tr->gens[l];
        chan *c = &e->ch[l];
        if (loose && c->active && (c->end > tn ? c->end - tn : 0) != a->left[l]) {
            k = 0;
            break;
        }
        uint64_t lo = a->cg[l];
        if (a->nf[l] < lo) lo = a->nf[l];
        if (a->nd[l] < lo) lo = a->nd[l];
        if (a->active[l] && a->agen[l] < lo) lo = a->agen[l];
        if (l >= 2 && a->nd[l - 1] < tr->gens[l - 1].count) {
            /* the parent's write-back waits on this level's last
             * generation under it */
            uint64_t cl = ef_engine_child_last_gen(e, l - 1, a->nd[l - 1]);
            if (cl < lo) lo = cl;
        }
        uint64_t hi = c->cg + 1;
        if (c->nf > hi) hi = c->nf;
        if (c->nd + 1 > hi) hi = c->nd + 1;
        if (c->active && c->active_gen > hi) hi = c->active_gen;
        hi++; /* one generation of look-ahead */
        /* generations g in [lo, hi + (k - 1) G] must match g + G */
        uint64_t want = k > (gl->count - hi) / G[l] + 1 ? gl->count : hi + (k - 1) * G[l] + 1;
        uint64_t g = copies_until(e, l, lo, want, S, G);
        uint64_t fit = g > hi ? (g - 1 - hi) / G[l] + 1 : 0;
        if (fit < k) k = fit;
    }
    return k;
}

static slot lookup(periods *pd, int loose, int at, const int64_t *sig, int len) {
    uint64_t h = UINT64_C(0x9E3779B97F4A7C15);
    for (int q = 0; q < len; q++) h = (h ^ (uint64_t)sig[q]) * UINT64_C(0xFF51AFD7ED558CCD);
    unsigned i = (unsigned)((h ^ h >> 29) % PERIOD_SLOTS);
    return (slot){&pd->table[loose][at][i], &pd->meta[loose][at][i]};
}

static bool matches(const snapshot *a, const int64_t *sig, int len, const loop_state *ls) {
    return a->len == len && !memcmp(a->sig, sig, sizeof(int64_t) * (size_t)len) && ls->s > a->s;
}

static void remember(slot sl, const engine *e, const int64_t *sig, int len,
                     const loop_state *ls, uint64_t tn, const uint64_t *cause) {
    snapshot *a = &sl.b->way[sl.m->next];
    sl.m->filled |= (unsigned char)(1u << sl.m->next);
    sl.m->next = (unsigned char)((sl.m->next + 1) % PERIOD_WAYS);
    a->len = len;
    memcpy(a->sig, sig, sizeof(int64_t) * (size_t)len);
    a->t = tn;
    a->s = ls->s;
    a->compute = ls->compute;
    for (int c = 0; c < CAUSE_COUNT; c++) a->cause[c] = cause[c] + ls->more_stalls[c];
    for (int l = 1; l < e->nl; l++) {
        const chan *c = &e->ch[l];
        a->nf[l] = c->nf;
        a->nd[l] = c->nd;
        a->cg[l] = c->cg;
        a->agen[l] = c->active_gen;
        a->active[l] = c->active;
        a->left[l] = c->active && c->end > tn ? c->end - tn : 0;
    }
}

/* The signature without the cycles left of transfers in flight. */
static void loosen(const engine *e, const int64_t *sig, int len, int64_t *lsig) {
    memcpy(lsig, sig, sizeof(int64_t) * (size_t)len);
    for (int l = 1; l < e->nl; l++) lsig[5 * (l - 1) + 4] = 0;
}

/* Moves the state on by k periods of T cycles and G generations. */
static void add_periods(engine *e, uint64_t k, uint64_t T, const uint64_t *G, uint64_t tn) {
    /* resources held by a transfer of a level that moves, or by the
     * stream, come free k T later; those of a level that stays put are
     * held by the same transfer as before */
    for (int i = 0; i < e->nres; i++) {
        int r = e->res[i];
        if (e->arb->free_at[r] <= tn) continue;
        int h = e->holder[r];
        if (h == STREAM_HOLDER ? G[e->lin] : G[h]) e->arb->free_at[r] += k * T;
    }
    if (e->x_on && G[e->lin]) e->x_done += k * T;
    for (int l = 1; l < e->nl; l++) {
        chan *c = &e->ch[l];
        if (!G[l]) continue;
        uint64_t kg = k * G[l];
        uint64_t nd = c->nd + kg;
        uint64_t base = nd > RING_BACK ? nd - RING_BACK : 0;
        shift_done(c->fill_done, c->base, base,
                   c->active && c->active_is_fill ? c->active_gen : c->nf, kg, G[l], T);
        shift_done(c->drain_done, c->base, base,
                   c->active && !c->active_is_fill ? c->active_gen : c->nd, kg, G[l], T);
        shift_done(c->compute_done, c->base, base, c->cg, kg, G[l], T);
        c->base = base;
        c->nf += kg;
        c->nd += kg;
        c->cg += kg;
        ef_engine_set_cg(e->tr, l, c);
        if (c->active) {
            c->active_gen += kg;
            c->end += k * T;
        }
    }
}

/* Does the innermost generation in use start a pass through its run's
 * pattern? Periods whose length is a multiple of the pattern's start
 * at such states. If so, the signature is extended by what that pattern
 * starts with (its first slot's shape and its length), so that the
 * starts of different kinds of runs inside a long period, whose plain
 * signatures agree, keep apart: each kind finds its own last start. */
static bool pattern_start(engine *e, const int64_t *sig, int len, int64_t *esig, int *elen) {
    if (e->nl < 2) return false;
    chan *c = &e->ch[e->lin];
    const ef_gen_list *gl = &e->tr->gens[e->lin];
    const ef_gen_run *r = gen_run(e->tr, e->lin, c->cg, &c->hint_step);
    if ((c->cg - r->first_gen) % r->cycle_gens) return false;
    const ef_gen_shape *x = &gl->shapes[r->shape_at];
    memcpy(esig, sig, sizeof(int64_t) * (size_t)len);
    esig[len] = (int64_t)x->steps;
    esig[len + 1] = (int64_t)x->fill << 32 | x->drain;
    esig[len + 2] = (int64_t)x->stream;
    esig[len + 3] = (int64_t)r->cycle_gens;
    *elen = len + 4;
    return true;
}

/* At a generation boundary, before cycle ls->t + 1: remembers the state
 * and, if it repeats an earlier one, adds as many whole periods as
 * provably repeat. Returns whether it added any. A state is looked up
 * by its full signature first; failing that, by the signature without
 * the cycles left of transfers in flight, which finds periods that run
 * while a level that does not move in them fetches its next tile (a
 * long fill from DRAM under a level that changes at every step). The
 * longest periods are tried first: from the last boundary at which an
 * outer level started a generation, then from the last start of the
 * innermost run's pattern, then from any boundary. outer_crossed: an
 * outer level starts a generation here. */
bool ef_periods_skip(engine *e, periods *pd, loop_state *ls, const uint64_t *cause,
                     bool outer_crossed) {
    uint64_t tn = ls->t + 1;
    /* per kind of boundary: its signatures, strict [0] and loose [1] */
    int64_t sig[BOUNDARY_KINDS][2][SIG_MAX];
    int len[BOUNDARY_KINDS];
    bool kind[BOUNDARY_KINDS];
    len[AT_ANY] = signature(e, ls->s, tn, sig[AT_ANY][0]);
    loosen(e, sig[AT_ANY][0], len[AT_ANY], sig[AT_ANY][1]);
    kind[AT_ANY] = true;
    kind[AT_PATTERN] = pattern_start(e, sig[AT_ANY][0], len[AT_ANY], sig[AT_PATTERN][0],
                                     &len[AT_PATTERN]);
    if (kind[AT_PATTERN]) loosen(e, sig[AT_PATTERN][0], len[AT_PATTERN], sig[AT_PATTERN][1]);
    kind[AT_PARENT] = outer_crossed;
    len[AT_PARENT] = len[AT_ANY];
    memcpy(sig[AT_PARENT], sig[AT_ANY], sizeof sig[AT_ANY]);
    const snapshot *m = NULL;
    uint64_t k = 0, G[EF_MAX_LEVELS] = {0};
    /* a state kept in several tables is tried once in each mode */
    uint64_t tried[2][BOUNDARY_KINDS * PERIOD_WAYS];
    int ntried[2] = {0, 0};
    for (int at = BOUNDARY_KINDS - 1; at >= 0 && !m; at--) {
        if (!kind[at]) continue;
        for (int loose = 0; loose < 2 && !m; loose++) {
            const int64_t *sg = sig[at][loose];
            slot sl = lookup(pd, loose, at, sg, len[at]);
            for (unsigned i = 1; i <= PERIOD_WAYS && !m; i++) {
                unsigned w = (sl.m->next + PERIOD_WAYS - i) % PERIOD_WAYS;
                const snapshot *x = &sl.b->way[w];
                if (!(sl.m->filled >> w & 1u) || !matches(x, sg, len[at], ls)) continue;
                bool seen = false;
                for (int q = 0; q < ntried[loose] && !seen; q++) seen = tried[loose][q] == x->t;
                if (seen) continue;
                tried[loose][ntried[loose]++] = x->t;
                k = periods_fit(e, x, ls, tn, loose, G);
                /* a trace's window is stepped, never skipped */
                if (k && ls->t_max != UINT64_MAX) {
                    uint64_t room = ls->t_max > ls->t ? (ls->t_max - ls->t) / (tn - x->t) : 0;
                    if (room < k) k = room;
                }
                if (k) m = x;
            }
        }
    }
    if (m) {
        uint64_t T = tn - m->t, S = ls->s - m->s;
        add_periods(e, k, T, G, tn);
        for (int c = 0; c < CAUSE_COUNT; c++) ls->more_stalls[c] = k * (cause[c] - m->cause[c]);
        ls->compute += k * (ls->compute - m->compute);
        ls->t += k * T;
        ls->s += k * S;
        ls->last_issue += k * T;
        tn = ls->t + 1;
        /* the state after the skip: only the cycles left of transfers
         * that stayed put have changed, and where the patterns stand */
        len[AT_ANY] = signature(e, ls->s, tn, sig[AT_ANY][0]);
        loosen(e, sig[AT_ANY][0], len[AT_ANY], sig[AT_ANY][1]);
        kind[AT_PATTERN] = pattern_start(e, sig[AT_ANY][0], len[AT_ANY], sig[AT_PATTERN][0],
                                         &len[AT_PATTERN]);
        if (kind[AT_PATTERN])
            loosen(e, sig[AT_PATTERN][0], len[AT_PATTERN], sig[AT_PATTERN][1]);
        len[AT_PARENT] = len[AT_ANY];
        memcpy(sig[AT_PARENT], sig[AT_ANY], sizeof sig[AT_ANY]);
    }
    for (int at = 0; at < BOUNDARY_KINDS; at++) {
        if (!kind[at]) continue;
        for (int loose = 0; loose < 2; loose++)
            remember(lookup(pd, loose, at, sig[at][loose], len[at]), e, sig[at][loose], len[at],
                     ls, tn, cause);
    }
    return k > 0;
}

periods *ef_periods_create(void) {
    periods *pd = ef_malloc(sizeof *pd);
    if (pd) memset(pd->meta, 0, sizeof pd->meta);
    return pd;
}

void ef_periods_destroy(periods *pd) { free(pd); }
