/* Pass 2: the cycle stepper. Advances one cycle at a time; in each
 * cycle every level's transfer channel may finish or start a fill or a
 * drain, the generation in use may start its stream, then the PE array
 * issues up to macs_per_cycle steps whose tiles are all resident.
 *
 * Each level has one channel to its parents, serving its transfers in
 * program order: without double buffering F0 D0 F1 D1 ... (a tile is
 * replaced only once the old one is dead and written back); with it
 * F0 F1 D0 F2 D1 ... (the next tile streams in while the current one
 * is used). A transfer that starts in cycle t and lasts d cycles makes
 * its data usable from cycle t + d, so zero-cost transfers are usable
 * at once and chains of them settle within the same cycle.
 *
 * Every transfer also needs the ports and links it crosses
 * (model/timing.h): it starts only when all of them are free and holds
 * each for the cycles its bytes take there. The operands and partial
 * sums the steps of one innermost generation stream past the levels
 * are one more transfer, the generation's *stream*: it starts once the
 * generation's tiles are resident, and the generation's last step
 * issues no earlier than the cycle before it ends, so a generation
 * lasts at least as long as its stream takes on the busiest port. */
#include "sim/engine.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEVER UINT64_MAX

/* Done-times are kept for a window of RING generations only: from
 * RING_BACK below the next write-back up. The channel's pointers keep
 * nd - 1 <= cg <= nf <= nd + depth (a drain waits for its generation's
 * last step, a step for its generation's fill, and a fill may run at
 * most depth generations ahead of the write-backs), so every transfer
 * or step of an older generation has finished ("long done", reported as
 * cycle 0: only ever compared with the current cycle) and none of a
 * newer one has started (NEVER). The window is what a pass needs, so
 * memory does not grow with generations. */
#define RING 8
#define RING_BACK 4

typedef struct {
    uint64_t base;            /* first generation in the window         */
    uint64_t fill_done[RING], drain_done[RING], compute_done[RING];
                              /* usable cycle, by generation % RING     */
    uint64_t nf, nd;          /* next fill / drain to schedule          */
    bool active, active_is_fill;
    uint64_t active_gen, end;
    uint32_t active_xfer;     /* the transfer in flight                 */
    uint64_t cg;              /* generation holding the next PE step    */
    uint64_t cg_step;         /* first step of cg                       */
    uint64_t cg_next_step;    /* first step of cg + 1 (steps if last)   */
    int depth;                /* 1, or 2 when double-buffered           */
    /* run lookups (ef_gens_run): where the last one of each kind was */
    uint64_t hint_fill, hint_drain, hint_step, hint_parent, hint_child;
    uint64_t hint_copy[2];    /* copies_until: g and g + G              */
} chan;

/* Who took a resource last: a level's channel (1 .. nl - 1) or the
 * stream. */
#define STREAM_HOLDER EF_MAX_LEVELS

typedef struct {
    const ef_schedule *tr;
    int nl, lin;              /* levels; the innermost one              */
    chan ch[EF_MAX_LEVELS];
    ef_arbiter arb;
    int holder[EF_RES_COUNT];
    uint8_t res[EF_RES_COUNT];   /* the resources this nest has ...        */
    int nres;                    /* ... its levels' ports and the links   */
    bool x_on;                /* the stream of the innermost generation
                               * in use has started ...                 */
    uint64_t x_done;          /* ... and ends then: that generation's
                               * last step completes no earlier         */
} engine;

static inline uint64_t done_at(const chan *c, const uint64_t *ring, uint64_t g) {
    if (g < c->base) return 0;
    if (g - c->base >= RING) return NEVER;
    return ring[g % RING];
}

static inline void set_done(chan *c, uint64_t *ring, uint64_t g, uint64_t v) {
    assert(g >= c->base && g - c->base < RING);
    ring[g % RING] = v;
}

/* The invariants every finished generation meets. */
static inline void check_done(const chan *c, uint64_t g) {
    (void)c;
    (void)g;
    assert(c->fill_done[g % RING] <= c->compute_done[g % RING] ||
           c->compute_done[g % RING] == NEVER);
    assert(c->drain_done[g % RING] != NEVER);
    assert(c->drain_done[g % RING] >= c->compute_done[g % RING]);
}

/* Slides the window up behind the write-backs. */
static void retire(chan *c) {
    while (c->nd > c->base + RING_BACK) {
        uint64_t q = c->base % RING;
        check_done(c, c->base);
        c->fill_done[q] = c->drain_done[q] = c->compute_done[q] = NEVER;
        c->base++;
    }
}

static inline const ef_gen_run *gen_run(const ef_schedule *tr, int l, uint64_t g, uint64_t *hint) {
    return ef_gens_run(&tr->gens[l], g, hint);
}

static inline const ef_xfer *xfer(const engine *e, uint32_t id) {
    return ef_schedule_xfer(e->tr, id);
}

static uint32_t fill_of(engine *e, int l, uint64_t g) {
    return ef_gen_shape_of(&e->tr->gens[l], gen_run(e->tr, l, g, &e->ch[l].hint_fill), g)->fill;
}

static uint32_t drain_of(engine *e, int l, uint64_t g) {
    return ef_gen_shape_of(&e->tr->gens[l], gen_run(e->tr, l, g, &e->ch[l].hint_drain), g)->drain;
}

/* Points cg's step cache at generation cg. */
static void set_cg(const ef_schedule *tr, int l, chan *c) {
    const ef_gen_list *gl = &tr->gens[l];
    const ef_gen_run *r = gen_run(tr, l, c->cg, &c->hint_step);
    c->cg_step = ef_gen_first_step(gl, r, c->cg);
    c->cg_next_step =
        c->cg + 1 < gl->count ? c->cg_step + ef_gen_shape_of(gl, r, c->cg)->steps : tr->steps;
}

/* The stream of the innermost generation in use (one level: of all
 * steps), and the step after that generation's last. */
static uint32_t stream_now(engine *e) {
    if (e->nl < 2) return e->tr->whole_stream;
    chan *c = &e->ch[e->lin];
    const ef_gen_list *gl = &e->tr->gens[e->lin];
    return ef_gen_shape_of(gl, gen_run(e->tr, e->lin, c->cg, &c->hint_step), c->cg)->stream;
}

static inline uint64_t gen_end_step(const engine *e) {
    return e->nl < 2 ? e->tr->steps : e->ch[e->lin].cg_next_step;
}

/* Every level holds the tile of its generation in use. */
static bool resident(const engine *e, uint64_t t) {
    for (int l = 1; l < e->nl; l++)
        if (done_at(&e->ch[l], e->ch[l].fill_done, e->ch[l].cg) > t) return false;
    return true;
}

static void take(engine *e, const ef_xfer *x, uint64_t t, int holder) {
    ef_arbiter_take(&e->arb, x, t);
    for (int i = 0; i < x->used; i++) e->holder[x->uses[i]] = holder;
}

static void add_stall(ef_result *r, const char *cause, uint64_t cycles) {
    r->stall_total += cycles;
    for (int i = 0; i < r->stall_count; i++)
        if (strcmp(r->stalls[i].cause, cause) == 0) {
            r->stalls[i].cycles += cycles;
            return;
        }
    if (r->stall_count < EF_MAX_STALL_CAUSES) {
        snprintf(r->stalls[r->stall_count].cause, sizeof r->stalls[0].cause, "%s", cause);
        r->stalls[r->stall_count++].cycles = cycles;
    }
}

/* The event engine's jump: how many cycles after t change nothing but
 * counters. Nothing changes until the earliest in-flight transfer ends
 * or a port or link it holds comes free (either may let another
 * transfer start), the stream lets the innermost generation's last
 * step go, or the array issues the last step of some generation (that
 * may release a write-back); a cycle right after one that crossed a
 * generation boundary is never skipped. */
static uint64_t quiet_cycles(engine *e, uint64_t t, uint64_t s, uint64_t k, uint64_t issued,
                             bool crossed) {
    const ef_schedule *tr = e->tr;
    int nl = e->nl;
    if (issued && (issued < k || crossed)) return 0;
    uint64_t quiet = NEVER;
    for (int l = 1; l < nl; l++)
        if (e->ch[l].active && e->ch[l].end - t - 1 < quiet) quiet = e->ch[l].end - t - 1;
    for (int i = 0; i < e->nres; i++) {
        uint64_t f = e->arb.free_at[e->res[i]];
        if (f > t && f - t - 1 < quiet) quiet = f - t - 1;
    }
    /* the last step may issue from cycle x_done - 1 on */
    if (e->x_on && e->x_done > t + 1 && e->x_done - t - 2 < quiet) quiet = e->x_done - t - 2;
    if (!issued) return quiet == NEVER ? 0 : quiet; /* stalled or draining */
    uint64_t boundary = tr->steps;   /* first step of the next generation */
    for (int l = 1; l < nl; l++) {
        if (done_at(&e->ch[l], e->ch[l].fill_done, e->ch[l].cg) > t) return 0;
        if (e->ch[l].cg_next_step < boundary) boundary = e->ch[l].cg_next_step;
    }
    /* cycles whose k steps all lie before the last step of a generation */
    uint64_t by_steps = boundary - 1 > s ? (boundary - 1 - s) / k : 0;
    return by_steps < quiet ? by_steps : quiet;
}

/* Index of the child generation that ends where generation g of level
 * l ends: the last one starting before g + 1 does. */
static uint64_t child_last_gen(engine *e, int l, uint64_t g) {
    const ef_schedule *tr = e->tr;
    const ef_gen_list *child = &tr->gens[l + 1], *me = &tr->gens[l];
    if (g + 1 >= me->count) return child->count - 1;
    uint64_t boundary = ef_gen_first_step(me, gen_run(tr, l, g + 1, &e->ch[l].hint_drain), g + 1);
    return ef_gens_before_step(child, boundary, &e->ch[l + 1].hint_child) - 1;
}

/* Every outer level holds the tile generation g of level l comes from:
 * its parent (from its run) and that one's parents, level by level. */
static bool fill_ready(engine *e, int l, uint64_t g, uint64_t t) {
    uint64_t p = ef_gen_parent(gen_run(e->tr, l, g, &e->ch[l].hint_fill), g);
    for (int q = l - 1; q >= 1; q--) {
        if (done_at(&e->ch[q], e->ch[q].fill_done, p) > t) return false;
        if (q > 1) p = ef_gen_parent(gen_run(e->tr, q, p, &e->ch[q].hint_parent), p);
    }
    return true;
}

static bool drain_ready(engine *e, int l, uint64_t g, uint64_t t) {
    if (done_at(&e->ch[l], e->ch[l].compute_done, g) > t) return false;
    int child = l + 1;
    if (child >= e->nl) return true;
    uint64_t cg = child_last_gen(e, l, g);
    return done_at(&e->ch[child], e->ch[child].drain_done, cg) <= t;
}

/* The transfer level l's channel would start next at cycle t, if its
 * turn has come (its resources aside): *is_fill says which kind. A
 * fill may run at most `depth` generations ahead of the write-backs
 * (one buffer, or two when double-buffered). When both a drain and a
 * fill could start, the drain goes first: it frees a buffer and lets
 * the parent move on, and a fill waiting on a parent that waits on this
 * drain would otherwise never start. */
static bool next_transfer(engine *e, int l, uint64_t t, bool *is_fill, uint32_t *id) {
    chan *c = &e->ch[l];
    if (c->nd < c->nf && drain_ready(e, l, c->nd, t)) {
        *is_fill = false;
        *id = drain_of(e, l, c->nd);
        return true;
    }
    if (c->nf < e->tr->gens[l].count && c->nf < c->nd + (uint64_t)c->depth &&
        fill_ready(e, l, c->nf, t)) {
        *is_fill = true;
        *id = fill_of(e, l, c->nf);
        return true;
    }
    return false;
}

/* Tries to advance level l's channel at cycle t; true if it changed.
 * A transfer whose turn has come waits while a resource it needs is
 * busy. */
static bool service(engine *e, int l, uint64_t t) {
    chan *c = &e->ch[l];
    bool changed = false;
    for (;;) {
        if (c->active) {
            if (c->end > t) return changed;
            set_done(c, c->active_is_fill ? c->fill_done : c->drain_done, c->active_gen, c->end);
            c->active = false;
            changed = true;
        }
        bool is_fill;
        uint32_t id;
        if (!next_transfer(e, l, t, &is_fill, &id)) return changed;
        const ef_xfer *x = xfer(e, id);
        if (ef_arbiter_blocker(&e->arb, x, t) >= 0) return changed;
        uint64_t g = is_fill ? c->nf++ : c->nd++;
        take(e, x, t, l);
        c->active = true;
        c->active_is_fill = is_fill;
        c->active_gen = g;
        c->active_xfer = id;
        c->end = t + x->cycles;
        if (!is_fill) retire(c);
        changed = true;
    }
}

/* Starts the stream of the innermost generation in use once its tiles
 * are resident and the resources it crosses are free. */
static bool stream_start(engine *e, uint64_t s, uint64_t t) {
    if (e->x_on || s >= e->tr->steps || !resident(e, t)) return false;
    const ef_xfer *x = xfer(e, stream_now(e));
    if (ef_arbiter_blocker(&e->arb, x, t) >= 0) return false;
    take(e, x, t, STREAM_HOLDER);
    e->x_on = true;
    e->x_done = t + x->cycles;
    return true;
}

/* Stall causes by number, so that a stalled cycle costs no string
 * work: each port and link (the resource that throttled), each
 * level's latency, then unknown. A cause finds (or makes) its slot in the result the first
 * time it is charged, which keeps the result's order of first
 * occurrence. */
enum { CAUSE_UNKNOWN = EF_CAUSE_COUNT, CAUSE_COUNT };
#define SLOT_UNSEEN (-1)
#define SLOT_NONE (-2) /* the result's cause list was full */

/* What holds level l's tile back: the transfer it runs (its slowest
 * resource, or its source's latency), or the busy resource its next transfer waits for; -1 when
 * it waits for another level. */
static int channel_cause(engine *e, int l, uint64_t t) {
    chan *c = &e->ch[l];
    if (c->active) return ef_timing_cause(xfer(e, c->active_xfer));
    bool is_fill;
    uint32_t id;
    if (!next_transfer(e, l, t, &is_fill, &id)) return -1;
    return ef_arbiter_blocker(&e->arb, xfer(e, id), t);
}

/* A stalled cycle's cause: the outermost level whose tile is not
 * resident, by what it waits for; with every tile resident, the
 * stream that holds the generation's last step back; failing both,
 * the first transfer in flight (what the waiting level waits on). */
static int stall_cause(engine *e, uint64_t t) {
    bool all_resident = true;
    for (int l = 1; l < e->nl && all_resident; l++) {
        if (done_at(&e->ch[l], e->ch[l].fill_done, e->ch[l].cg) <= t) continue;
        int r = channel_cause(e, l, t);
        if (r >= 0) return r;
        all_resident = false;
    }
    if (all_resident) {
        const ef_xfer *x = xfer(e, stream_now(e));
        int r = e->x_on ? ef_timing_cause(x) : ef_arbiter_blocker(&e->arb, x, t);
        if (r >= 0) return r;
    }
    for (int l = 1; l < e->nl; l++)
        if (e->ch[l].active) return ef_timing_cause(xfer(e, e->ch[l].active_xfer));
    if (e->x_on && e->x_done > t) return ef_timing_cause(xfer(e, stream_now(e)));
    return CAUSE_UNKNOWN;
}

static void charge_stall(ef_result *r, const ef_nest *n, int *slot, uint64_t *total, int cause,
                         uint64_t cycles) {
    total[cause] += cycles;
    if (slot[cause] == SLOT_UNSEEN) {
        char name[sizeof r->stalls[0].cause];
        if (cause < EF_CAUSE_COUNT) ef_timing_cause_name(n, cause, name, sizeof name);
        else snprintf(name, sizeof name, "unknown");
        slot[cause] = SLOT_NONE;
        for (int i = 0; i < r->stall_count && slot[cause] == SLOT_NONE; i++)
            if (strcmp(r->stalls[i].cause, name) == 0) slot[cause] = i;
        if (slot[cause] == SLOT_NONE && r->stall_count < EF_MAX_STALL_CAUSES) {
            snprintf(r->stalls[r->stall_count].cause, sizeof r->stalls[0].cause, "%s", name);
            r->stalls[r->stall_count].cycles = 0;
            slot[cause] = r->stall_count++;
        }
    }
    r->stall_total += cycles;
    if (slot[cause] >= 0) r->stalls[slot[cause]].cycles += cycles;
}

/* ---------- periods (event engine) ----------
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
 * without the cycles left; see skip_periods); and the steps added must
 * stay short of its next generation. Generations are compared run by
 * run (copies_until), so a skip costs time in proportion to the runs it
 * crosses, not to its generations. */
#define SIG_MAX (3 + 5 * EF_MAX_LEVELS + 4)
#define PERIOD_SLOTS 16
#define PERIOD_WAYS 4 /* states kept per signature: a period may span
                       * several boundaries whose signatures agree (tiles
                       * that alternate between two costs) */

typedef struct {
    bool used;
    int len;
    int64_t sig[SIG_MAX];
    uint64_t t, s, compute;
    uint64_t cause[CAUSE_COUNT];
    uint64_t nf[EF_MAX_LEVELS], nd[EF_MAX_LEVELS], cg[EF_MAX_LEVELS], agen[EF_MAX_LEVELS];
    uint64_t left[EF_MAX_LEVELS]; /* cycles its transfer still ran      */
    bool active[EF_MAX_LEVELS];
} snapshot;

/* The last PERIOD_WAYS states remembered under one hash of a signature. */
typedef struct {
    snapshot way[PERIOD_WAYS];
    unsigned next;            /* the oldest, replaced next              */
} bucket;

/* Kinds of boundary whose states are remembered apart, so that the
 * many boundaries inside a long stretch, whose signatures often agree,
 * do not push out the states a longer period starts from. */
enum { AT_ANY, AT_PATTERN, AT_PARENT, BOUNDARY_KINDS };

/* States by their full signature, and by the signature without the
 * cycles left of transfers in flight (see skip_periods): at every
 * generation boundary; at those where the innermost generation starts a
 * pass through its run's pattern; at those where an outer level starts
 * a generation too. */
typedef struct {
    bucket strict[BOUNDARY_KINDS][PERIOD_SLOTS], loose[BOUNDARY_KINDS][PERIOD_SLOTS];
} periods;

typedef struct {
    uint64_t t, s, compute, last_issue;   /* in: now; out: after the skip */
    uint64_t more_stalls[CAUSE_COUNT];    /* out: cycles to charge       */
} loop_state;

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
            uint64_t cl = child_last_gen(e, l - 1, a->nd[l - 1]);
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

static bucket *lookup(bucket *table, const int64_t *sig, int len) {
    uint64_t h = UINT64_C(0x9E3779B97F4A7C15);
    for (int q = 0; q < len; q++) h = (h ^ (uint64_t)sig[q]) * UINT64_C(0xFF51AFD7ED558CCD);
    return &table[(h ^ h >> 29) % PERIOD_SLOTS];
}

static bool matches(const snapshot *a, const int64_t *sig, int len, const loop_state *ls) {
    return a->used && a->len == len && !memcmp(a->sig, sig, sizeof(int64_t) * (size_t)len) &&
           ls->s > a->s;
}

static void remember(bucket *bk, const engine *e, const int64_t *sig, int len,
                     const loop_state *ls, uint64_t tn, const uint64_t *cause) {
    snapshot *a = &bk->way[bk->next];
    bk->next = (bk->next + 1) % PERIOD_WAYS;
    a->used = true;
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
        if (e->arb.free_at[r] <= tn) continue;
        int h = e->holder[r];
        if (h == STREAM_HOLDER ? G[e->lin] : G[h]) e->arb.free_at[r] += k * T;
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
        set_cg(e->tr, l, c);
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
static bool skip_periods(engine *e, periods *pd, loop_state *ls, const uint64_t *cause,
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
            bucket *bk = lookup(loose ? pd->loose[at] : pd->strict[at], sg, len[at]);
            for (unsigned i = 1; i <= PERIOD_WAYS && !m; i++) {
                const snapshot *x = &bk->way[(bk->next + PERIOD_WAYS - i) % PERIOD_WAYS];
                if (!matches(x, sg, len[at], ls)) continue;
                bool seen = false;
                for (int q = 0; q < ntried[loose] && !seen; q++) seen = tried[loose][q] == x->t;
                if (seen) continue;
                tried[loose][ntried[loose]++] = x->t;
                if ((k = periods_fit(e, x, ls, tn, loose, G))) m = x;
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
            remember(lookup(loose ? pd->loose[at] : pd->strict[at], sig[at][loose], len[at]), e,
                     sig[at][loose], len[at], ls, tn, cause);
    }
    return k > 0;
}

ef_status ef_step_run(ef_schedule *tr, bool fast_forward, ef_diags *diags) {
    const ef_nest *n = tr->n;
    ef_result *res = tr->res;
    int nl = n->level_count;
    uint64_t k = (uint64_t)n->arch->macs_per_cycle;
    engine *e = calloc(1, sizeof *e);
    periods *pd = NULL;      /* remembered states, event engine only */
    ef_status st = EF_OK;
    if (!e) return EF_ERR_NOMEM;
    e->tr = tr;
    e->nl = nl;
    e->lin = nl - 1;
    for (int l = 0; l < nl; l++) {
        e->res[e->nres++] = (uint8_t)ef_res_read(l);
        e->res[e->nres++] = (uint8_t)ef_res_write(l);
    }
    e->res[e->nres++] = EF_RES_NOC_IN;
    e->res[e->nres++] = EF_RES_NOC_OUT;
    chan *ch = e->ch;
    for (int l = 1; l < nl; l++) {
        for (int q = 0; q < RING; q++)
            ch[l].fill_done[q] = ch[l].drain_done[q] = ch[l].compute_done[q] = NEVER;
        ch[l].depth = ef_level_overlaps_fills(&n->arch->levels[l]) ? 2 : 1;
        if (tr->gens[l].count) set_cg(tr, l, &ch[l]);
    }
    int slots[CAUSE_COUNT];
    uint64_t cause_total[CAUSE_COUNT] = {0};
    for (int c = 0; c < CAUSE_COUNT; c++) slots[c] = SLOT_UNSEEN;
    if (fast_forward && !(pd = calloc(1, sizeof *pd))) {
        st = EF_ERR_NOMEM;
        goto out;
    }
    uint64_t s = 0, t = 0, last_issue = 0, compute = 0;
    bool any_issue = false;
    for (;; t++) {
        /* settle transfers: a finished fill may enable a child's fill,
         * a finished drain the parent's drain, in the same cycle. The
         * order is the arbitration: channels outermost first, then the
         * stream, then back out; the first to ask for a free resource
         * gets it. */
        bool changed = true;
        for (int pass = 0; changed && pass < 4 * nl + 8; pass++) {
            changed = false;
            for (int l = 1; l < nl; l++) changed |= service(e, l, t);
            changed |= stream_start(e, s, t);
            for (int l = nl - 1; l >= 1; l--) changed |= service(e, l, t);
        }
        uint64_t issued = 0;
        bool crossed = false, outer_crossed = false;
        while (issued < k && s < tr->steps) {
            if (!resident(e, t)) break;
            /* the generation's last step waits for its stream */
            if (s + 1 == gen_end_step(e) && !(e->x_on && e->x_done <= t + 1)) break;
            /* the gens that step s uses: cg must already have reached it */
            for (int l = 1; l < nl; l++) assert(ch[l].cg_step <= s);
            s++;
            issued++;
            for (int l = 1; l < nl; l++) {
                chan *c = &ch[l];
                if (s >= c->cg_next_step) {
                    crossed = true;
                    outer_crossed |= l < e->lin;
                    set_done(c, c->compute_done, c->cg, t + 1);
                    if (c->cg + 1 < tr->gens[l].count) {
                        c->cg++;
                        set_cg(tr, l, c);
                        if (l == e->lin) e->x_on = false;
                    }
                }
            }
        }
        bool busy = false, drained = true, waiting = e->x_on && e->x_done > t + 1;
        for (int l = 1; l < nl; l++) {
            busy |= ch[l].active;
            drained &= ch[l].nd >= tr->gens[l].count;
        }
        for (int i = 0; i < e->nres; i++) waiting |= e->arb.free_at[e->res[i]] > t;
        if (issued) {
            last_issue = t;
            any_issue = true;
            compute++;
        }
        if (s >= tr->steps && drained && !busy) break;
        if (!issued && !busy && !waiting) {
            /* nothing moves and nothing can: a broken invariant */
            ef_diags_add(diags, n->arch->file, 0, 0, "", NULL, NULL,
                         "internal error: the step engine stalled with no transfer "
                         "in flight at cycle %llu (please report this mapping)",
                         (unsigned long long)t);
            st = EF_ERR_OVERFLOW;
            goto out;
        }
        uint64_t quiet = fast_forward ? quiet_cycles(e, t, s, k, issued, crossed) : 0;
        if (!issued && s < tr->steps)
            charge_stall(res, n, slots, cause_total, stall_cause(e, t), 1 + quiet);
        if (quiet && issued == k) {
            s += quiet * k;
            compute += quiet;
            last_issue = t + quiet;
        }
        t += quiet;
        if (pd && crossed) {
            loop_state ls = {.t = t, .s = s, .compute = compute, .last_issue = last_issue};
            if (skip_periods(e, pd, &ls, cause_total, outer_crossed)) {
                for (int c = 0; c < CAUSE_COUNT; c++)
                    if (ls.more_stalls[c])
                        charge_stall(res, n, slots, cause_total, c, ls.more_stalls[c]);
                t = ls.t;
                s = ls.s;
                compute = ls.compute;
                last_issue = ls.last_issue;
            }
        }
        if (t > EF_MAX_CYCLES) {
            ef_diags_add(diags, n->arch->file, 0, 0, "", NULL, NULL,
                         "this mapping hits a limit of the simulator: it runs past %llu "
                         "cycles (2^50)",
                         (unsigned long long)EF_MAX_CYCLES);
            st = EF_ERR_OVERFLOW;
            goto out;
        }
    }
    uint64_t end = any_issue ? last_issue + 1 : 0;
    for (int l = 1; l < nl; l++) {
        uint64_t cnt = tr->gens[l].count;
        uint64_t last = cnt ? done_at(&ch[l], ch[l].drain_done, cnt - 1) : NEVER;
        if (last != NEVER && last > end) end = last;
    }
    /* cycles after the last MAC spent writing results back */
    if (end > last_issue + 1 && any_issue) {
        add_stall(res, "final_drain", end - last_issue - 1);
    }
    res->cycles = end;
    res->compute_cycles = compute;
    /* every cycle was either computing or charged to one stall cause */
    assert(compute + res->stall_total == end || !any_issue);
    for (int l = 1; l < nl; l++)
        for (uint64_t g = ch[l].base; g < tr->gens[l].count; g++) check_done(&ch[l], g);
out:
    free(pd);
    free(e);
    return st;
}
