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
 * lasts at least as long as its stream takes on the busiest port.
 *
 * A PE issues up to macs_per_cycle steps a cycle on the array; a unit
 * whose steps take longer (the vector unit, model.h) issues one step
 * every step_interval_cycles, and a step's result is written
 * step_latency_cycles after that. The drivers: ef_step_run below, for
 * one nest; ef_group_run (group.c), for the Einsums of a fused cascade
 * sharing the ports, links and compute units. */
#include "sim/stepper.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static uint32_t fill_of(engine *e, int l, uint64_t g) {
    return ef_gen_shape_of(&e->tr->gens[l], gen_run(e->tr, l, g, &e->ch[l].hint_fill), g)->fill;
}

static uint32_t drain_of(engine *e, int l, uint64_t g) {
    return ef_gen_shape_of(&e->tr->gens[l], gen_run(e->tr, l, g, &e->ch[l].hint_drain), g)->drain;
}

/* Points cg's step cache at generation cg. */
void ef_engine_set_cg(const ef_schedule *tr, int l, chan *c) {
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

/* When producer p's tile g of level l is complete: its steps are done
 * and every level below has written its results back into it. (Its own
 * write-back of the tile moves nothing: the tile stays for the
 * consumers.) */
static uint64_t produced_at(engine *p, int l, uint64_t g) {
    uint64_t at = done_at(&p->ch[l], p->ch[l].compute_done, g);
    if (at == NEVER || l + 1 >= p->nl) return at;
    uint64_t cg = ef_engine_child_last_gen(p, l, g);
    uint64_t d = done_at(&p->ch[l + 1], p->ch[l + 1].drain_done, cg);
    return d > at ? d : at;
}

/* Producer p's tile that e's tile g reads, `lag` iterations of the
 * group back; false when there is none (before the first). */
static bool producer_tile(const engine *e, const engine *p, uint64_t lag, uint64_t g,
                          uint64_t *pg) {
    uint64_t it = ef_engine_group_iter(e, g);
    return it >= lag && ef_engine_tile_by(p, it - lag, pg);
}

uint64_t ef_engine_tile_ready(engine *e, int l, uint64_t g) {
    uint64_t at = done_at(&e->ch[l], e->ch[l].fill_done, g);
    if (l != e->fuse_level) return at;
    for (int i = 0; i < e->nproducers; i++) {
        uint64_t pg;
        if (!producer_tile(e, e->producers[i], e->producer_lag[i], g, &pg)) continue;
        uint64_t d = produced_at(e->producers[i], l, pg);
        if (d > at) at = d;
    }
    /* running state: the old value is the new value of its last tile,
     * written back from below before it is read again */
    if (e->self_lag && g >= e->self_lag) {
        uint64_t d = produced_at(e, l, g - e->self_lag);
        if (d > at) at = d;
    }
    return at;
}

/* Every level holds the tile of its generation in use. */
static bool resident(engine *e, uint64_t t) {
    for (int l = 1; l < e->nl; l++)
        if (ef_engine_tile_ready(e, l, e->ch[l].cg) > t) return false;
    return true;
}

static void take(engine *e, uint32_t id, uint64_t t, int holder) {
    const ef_xfer *x = xfer(e, id);
    ef_arbiter_take(e->arb, x, t);
    for (int i = 0; i < x->used; i++) e->holder[x->uses[i]] = holder;
    if (e->tr->trace) ef_trace_xfer(e->tr, id, t);
}


/* The event engine's jump: how many cycles after t change nothing but
 * counters. Nothing changes until the earliest in-flight transfer ends
 * or a port or link it holds comes free (either may let another
 * transfer start), the stream lets the innermost generation's last
 * step go, the unit may issue its next step, or the array issues the
 * last step of some generation (that may release a write-back); a
 * cycle right after one that crossed a generation boundary is never
 * skipped. */
uint64_t ef_engine_quiet(engine *e, uint64_t t, uint64_t issued, bool crossed) {
    const ef_schedule *tr = e->tr;
    int nl = e->nl;
    if (issued && (issued < e->k || crossed)) return 0;
    uint64_t quiet = NEVER;
    for (int l = 1; l < nl; l++)
        if (e->ch[l].active && e->ch[l].end - t - 1 < quiet) quiet = e->ch[l].end - t - 1;
    for (int i = 0; i < e->nres; i++) {
        uint64_t f = e->arb->free_at[e->res[i]];
        if (f > t && f - t - 1 < quiet) quiet = f - t - 1;
    }
    /* the last step may issue from cycle x_done - 1 on */
    if (e->x_on && e->x_done > t + 1 && e->x_done - t - 2 < quiet) quiet = e->x_done - t - 2;
    /* the unit may issue again, or a result is written that may release
     * a write-back (any generation's not yet written back) */
    /* (a unit issuing a step every cycle is bounded by its generation
     * ends below, and the results of those by the scan) */
    bool steady = issued && e->interval == 1;
    if (!steady && e->next_issue > t && e->next_issue - t - 1 < quiet)
        quiet = e->next_issue - t - 1;
    if (!issued && e->result_at > t && e->result_at - t - 1 < quiet)
        quiet = e->result_at - t - 1;
    for (int l = 1; l < nl && e->latency + e->interval > 1; l++) {
        const chan *c = &e->ch[l];
        for (uint64_t g = c->nd > c->base ? c->nd : c->base; g <= c->cg; g++) {
            uint64_t v = done_at(c, c->compute_done, g);
            if (v != NEVER && v > t && v - t - 1 < quiet) quiet = v - t - 1;
        }
    }
    if (!issued) return quiet; /* stalled or draining: NEVER if nothing pends */
    if (e->interval > 1) return quiet;                /* no step until next_issue */
    uint64_t boundary = tr->steps;   /* first step of the next generation */
    for (int l = 1; l < nl; l++) {
        if (ef_engine_tile_ready(e, l, e->ch[l].cg) > t) return 0;
        if (e->ch[l].cg_next_step < boundary) boundary = e->ch[l].cg_next_step;
    }
    /* cycles whose k steps all lie before the last step of a generation */
    uint64_t by_steps = boundary - 1 > e->s ? (boundary - 1 - e->s) / e->k : 0;
    return by_steps < quiet ? by_steps : quiet;
}

/* Index of the child generation that ends where generation g of level
 * l ends: the last one starting before g + 1 does. */
uint64_t ef_engine_child_last_gen(engine *e, int l, uint64_t g) {
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
        if (ef_engine_tile_ready(e, q, p) > t) return false;
        if (q > 1) p = ef_gen_parent(gen_run(e->tr, q, p, &e->ch[q].hint_parent), p);
    }
    return true;
}

static bool drain_ready(engine *e, int l, uint64_t g, uint64_t t) {
    if (done_at(&e->ch[l], e->ch[l].compute_done, g) > t) return false;
    int child = l + 1;
    if (child >= e->nl) return true;
    uint64_t cg = ef_engine_child_last_gen(e, l, g);
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
        if (ef_arbiter_blocker(e->arb, x, t) >= 0) return changed;
        uint64_t g = is_fill ? c->nf++ : c->nd++;
        take(e, id, t, l);
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
static bool stream_start(engine *e, uint64_t t) {
    if (e->x_on || !e->on_turn || e->s >= e->tr->steps || !resident(e, t)) return false;
    uint32_t id = stream_now(e);
    const ef_xfer *x = xfer(e, id);
    if (ef_arbiter_blocker(e->arb, x, t) >= 0) return false;
    take(e, id, t, STREAM_HOLDER);
    e->x_on = true;
    e->x_done = t + x->cycles;
    return true;
}

/* A producer of a fused group starts a tile of the group's level only
 * once its consumers are done with the one that tile's buffer held
 * (depth tiles back). */
/* The consumer q's tile that must be done before e starts its tile g
 * of the fusion level: the last one reading what that tile's buffer
 * held, depth iterations back, or depth - 1 back when q reads a
 * recurrence's old value (that buffer holds the step before, which q
 * reads one iteration later); false when there is none. */
static bool consumer_tile(const engine *e, int i, uint64_t g, uint64_t *qg) {
    const engine *q = e->consumers[i];
    uint64_t it = ef_engine_group_iter(e, g) + e->consumer_lag[i];
    uint64_t depth = e->consumer_depth[i];
    return it >= depth && ef_engine_tile_by(q, it - depth, qg);
}

static bool consumers_free(const engine *e, uint64_t t) {
    int l = e->fuse_level;
    if (l < 0 || !e->nconsumers) return true;
    const chan *c = &e->ch[l];
    if (e->s != c->cg_step) return true;
    for (int i = 0; i < e->nconsumers; i++) {
        const engine *q = e->consumers[i];
        uint64_t qg;
        if (!consumer_tile(e, i, c->cg, &qg)) continue;
        if (done_at(&q->ch[l], q->ch[l].compute_done, qg) > t) return false;
    }
    return true;
}

/* What holds level l's tile back: the transfer it runs (its slowest
 * resource, or its source's latency), or the busy resource its next
 * transfer waits for; -1 when it waits for another level. */
static int channel_cause(engine *e, int l, uint64_t t) {
    chan *c = &e->ch[l];
    if (c->active) return ef_timing_cause(xfer(e, c->active_xfer));
    bool is_fill;
    uint32_t id;
    if (!next_transfer(e, l, t, &is_fill, &id)) return -1;
    return ef_arbiter_blocker(e->arb, xfer(e, id), t);
}

int ef_engine_drain_cause(engine *e, int level, uint64_t t) {
    for (int l = e->nl - 1; l > level; l--) {
        chan *c = &e->ch[l];
        if (c->active && !c->active_is_fill) return ef_timing_cause(xfer(e, c->active_xfer));
        bool is_fill;
        uint32_t id;
        if (!c->active && next_transfer(e, l, t, &is_fill, &id) && !is_fill) {
            int r = ef_arbiter_blocker(e->arb, xfer(e, id), t);
            if (r >= 0) return r;
        }
    }
    return -1;
}

int ef_engine_flight_cause(const engine *e) {
    for (int l = 1; l < e->nl; l++)
        if (e->ch[l].active) return ef_timing_cause(xfer(e, e->ch[l].active_xfer));
    return -1;
}

/* A stalled cycle's cause: the outermost level whose tile is not
 * resident, by what it waits for; with every tile resident, the
 * stream that holds the generation's last step back; failing both,
 * the first transfer in flight (what the waiting level waits on). */
int ef_engine_stall_cause(engine *e, uint64_t t) {
    bool all_resident = true;
    for (int l = 1; l < e->nl && all_resident; l++) {
        if (ef_engine_tile_ready(e, l, e->ch[l].cg) <= t) continue;
        /* its own tile is in, a producer's is not */
        if (done_at(&e->ch[l], e->ch[l].fill_done, e->ch[l].cg) <= t) return ef_engine_group_cause(e, t);
        int r = channel_cause(e, l, t);
        if (r >= 0) return r;
        all_resident = false;
    }
    if (all_resident) {
        const ef_xfer *x = xfer(e, stream_now(e));
        int r = e->x_on ? ef_timing_cause(x) : ef_arbiter_blocker(e->arb, x, t);
        if (r >= 0) return r;
    }
    int r = ef_engine_flight_cause(e);
    if (r >= 0) return r;
    if (e->x_on && e->x_done > t) return ef_timing_cause(xfer(e, stream_now(e)));
    if (e->result_at > t) return CAUSE_RESULT;
    if (!consumers_free(e, t)) return ef_engine_group_cause(e, t);
    return -1;
}

static int unit_cause(const engine *e) {
    return e->tr->n->unit == EF_UNIT_VECTOR ? CAUSE_UNIT_VECTOR : CAUSE_UNIT_ARRAY;
}

int ef_engine_group_cause(engine *e, uint64_t t) {
    int l = e->fuse_level;
    if (l < 0) return -1;
    uint64_t g = e->ch[l].cg;
    for (int i = 0; i <= e->nproducers; i++) {
        engine *p = i < e->nproducers ? e->producers[i] : e;
        uint64_t pg;
        if (i < e->nproducers) {
            if (!producer_tile(e, p, e->producer_lag[i], g, &pg)) continue;
        } else {
            if (!e->self_lag || g < e->self_lag) continue;
            pg = g - e->self_lag;
        }
        if (produced_at(p, l, pg) <= t) continue;
        /* still computing its tile, on its unit; or writing it back */
        if (done_at(&p->ch[l], p->ch[l].compute_done, pg) > t) return unit_cause(p);
        int r = ef_engine_drain_cause(p, l, t);
        if (r >= 0) return r;
    }
    const chan *c = &e->ch[l];
    if (e->s == c->cg_step)
        for (int i = 0; i < e->nconsumers; i++) {
            const engine *q = e->consumers[i];
            uint64_t qg;
            if (!consumer_tile(e, i, c->cg, &qg)) continue;
            if (done_at(&q->ch[l], q->ch[l].compute_done, qg) > t) return unit_cause(q);
        }
    return -1;
}

#define SLOT_UNSEEN (-1)
#define SLOT_NONE (-2) /* the result's cause list was full */

void ef_engine_cause_name(const engine *e, int cause, char *name, size_t size) {
    const ef_nest *n = e->tr->n;
    if (cause < 0) cause = CAUSE_UNKNOWN;
    if (cause < EF_CAUSE_COUNT) ef_timing_cause_name(n, cause, name, size);
    else if (cause == CAUSE_RESULT)
        snprintf(name, size, "%s.latency",
                 n->unit == EF_UNIT_VECTOR ? n->arch->vector_unit.name : "PE");
    else if (cause == CAUSE_UNIT_VECTOR)
        snprintf(name, size, "%s", n->spec_arch->vector_unit.name);
    else if (cause == CAUSE_UNIT_ARRAY)
        snprintf(name, size, "array");
    else snprintf(name, size, "unknown");
}

void ef_engine_trace(const engine *e, uint64_t t, uint64_t count, bool computing,
                     uint64_t first_steps, uint64_t later_steps, int cause) {
    if (computing) {
        ef_trace_cycles(e->tr, t, count, first_steps, later_steps, NULL);
        return;
    }
    char name[sizeof e->tr->res->stalls[0].cause];
    ef_engine_cause_name(e, cause, name, sizeof name);
    ef_trace_cycles(e->tr, t, count, 0, 0, name);
}

void ef_engine_charge(engine *e, int cause, uint64_t cycles) {
    ef_result *r = e->tr->res;
    if (cause < 0) cause = CAUSE_UNKNOWN;
    e->cause_total[cause] += cycles;
    int *slot = e->slots;
    if (slot[cause] == SLOT_UNSEEN) {
        char name[sizeof r->stalls[0].cause];
        ef_engine_cause_name(e, cause, name, sizeof name);
        slot[cause] = SLOT_NONE;
        for (int i = 0; i < r->stall_count && slot[cause] == SLOT_NONE; i++)
            if (strcmp(r->stalls[i].cause, name) == 0) slot[cause] = i;
        if (slot[cause] == SLOT_NONE && r->stall_count < EF_MAX_STALL_CAUSES) {
            snprintf(r->stalls[r->stall_count].cause, sizeof r->stalls[0].cause, "%s", name);
            r->stalls[r->stall_count].cycles = 0;
            r->stalls[r->stall_count].fill_cycles = 0;
            slot[cause] = r->stall_count++;
        }
    }
    r->stall_total += cycles;
    if (slot[cause] < 0) return;
    r->stalls[slot[cause]].cycles += cycles;
    /* before the first step the whole array waits to be filled: the
     * utilization loss reports it apart (stats/util_loss.c). Both
     * engines issue the first step in a cycle they simulate, so the
     * split is the same in both. */
    if (!e->any_issue) r->stalls[slot[cause]].fill_cycles += cycles;
}

void ef_engine_init(engine *e, const ef_schedule *tr, ef_arbiter *arb) {
    const ef_nest *n = tr->n;
    int nl = n->level_count;
    memset(e, 0, sizeof *e);
    e->tr = tr;
    e->nl = nl;
    e->lin = nl - 1;
    e->arb = arb ? arb : &e->own_arb;
    e->fuse_level = -1;
    e->tile_stride = 1;
    e->tile_inner = 1;
    e->on_turn = true;
    e->interval = n->step_interval_cycles ? n->step_interval_cycles : 1;
    e->latency = n->step_latency_cycles;
    /* a step that takes longer than a cycle leaves its PE one at a time */
    e->k = e->interval > 1 ? 1 : (uint64_t)n->arch->macs_per_cycle;
    for (int l = 0; l < nl; l++) {
        e->res[e->nres++] = (uint8_t)ef_res_read(l);
        e->res[e->nres++] = (uint8_t)ef_res_write(l);
    }
    e->res[e->nres++] = (uint8_t)ef_res_link_in(n);
    e->res[e->nres++] = (uint8_t)ef_res_link_out(n);
    for (int l = 1; l < nl; l++) {
        chan *c = &e->ch[l];
        for (int q = 0; q < RING; q++) c->fill_done[q] = c->drain_done[q] = c->compute_done[q] = NEVER;
        c->depth = ef_level_overlaps_fills(&n->arch->levels[l]) ? 2 : 1;
        if (tr->gens[l].count) ef_engine_set_cg(tr, l, c);
    }
    for (int c = 0; c < CAUSE_COUNT; c++) e->slots[c] = SLOT_UNSEEN;
}

bool ef_engine_settle(engine *e, uint64_t t) {
    bool changed = false;
    for (int l = 1; l < e->nl; l++) changed |= service(e, l, t);
    changed |= stream_start(e, t);
    for (int l = e->nl - 1; l >= 1; l--) changed |= service(e, l, t);
    return changed;
}

bool ef_engine_can_start(engine *e, uint64_t t) {
    return e->s < e->tr->steps && t >= e->next_issue && resident(e, t) && consumers_free(e, t);
}

bool ef_engine_mid_tile(const engine *e) {
    int l = e->fuse_level;
    return l >= 0 && e->s < e->tr->steps && e->s > e->ch[l].cg_step;
}

uint64_t ef_engine_issue(engine *e, uint64_t t, ef_issue *is) {
    const ef_schedule *tr = e->tr;
    uint64_t issued = 0;
    memset(is, 0, sizeof *is);
    if (t < e->next_issue) return 0;
    while (issued < e->k && e->s < tr->steps) {
        if (!resident(e, t)) break;
        /* the generation's last step waits for its stream */
        if (e->s + 1 == gen_end_step(e) && !(e->x_on && e->x_done <= t + 1)) break;
        if (!consumers_free(e, t)) break;
        /* the gens that step s uses: cg must already have reached it */
        for (int l = 1; l < e->nl; l++) assert(e->ch[l].cg_step <= e->s);
        e->s++;
        issued++;
        for (int l = 1; l < e->nl; l++) {
            chan *c = &e->ch[l];
            if (e->s < c->cg_next_step) continue;
            is->crossed = true;
            is->outer_crossed |= l < e->lin;
            is->fused_crossed |= l == e->fuse_level;
            set_done(c, c->compute_done, c->cg, t + e->interval + e->latency);
            if (c->cg + 1 < tr->gens[l].count) {
                c->cg++;
                ef_engine_set_cg(tr, l, c);
                if (l == e->lin) e->x_on = false;
            }
        }
        /* a fused group's unit moves on to the next Einsum */
        if (is->fused_crossed) break;
    }
    if (issued) {
        e->last_issue = t;
        e->any_issue = true;
        e->next_issue = t + e->interval;
        e->result_at = t + e->interval + e->latency;
    }
    return issued;
}

bool ef_engine_in_flight(const engine *e) {
    for (int l = 1; l < e->nl; l++)
        if (e->ch[l].active) return true;
    return false;
}

bool ef_engine_waiting(const engine *e, uint64_t t) {
    if (e->x_on && e->x_done > t + 1) return true;
    if (e->result_at > t) return true; /* a write-back may start then */
    for (int i = 0; i < e->nres; i++)
        if (e->arb->free_at[e->res[i]] > t) return true;
    return false;
}

bool ef_engine_done(const engine *e) {
    if (e->s < e->tr->steps) return false;
    for (int l = 1; l < e->nl; l++)
        if (e->ch[l].nd < e->tr->gens[l].count) return false;
    return true;
}

bool ef_engine_past_limit(uint64_t t, const char *arch_file, ef_diags *diags) {
    if (t <= EF_MAX_CYCLES) return false;
    ef_diags_add(diags, arch_file, 0, 0, "", NULL, NULL,
                 "this mapping hits a limit of the simulator: it runs past %llu cycles (2^50)",
                 (unsigned long long)EF_MAX_CYCLES);
    return true;
}

uint64_t ef_engine_last_drain(const engine *e) {
    uint64_t end = e->any_issue ? e->last_issue + e->interval + e->latency : 0;
    for (int l = 1; l < e->nl; l++) {
        uint64_t cnt = e->tr->gens[l].count;
        uint64_t last = cnt ? done_at(&e->ch[l], e->ch[l].drain_done, cnt - 1) : NEVER;
        if (last != NEVER && last > end) end = last;
    }
    return end;
}

void ef_engine_check(const engine *e) {
    for (int l = 1; l < e->nl; l++)
        for (uint64_t g = e->ch[l].base; g < e->tr->gens[l].count; g++) check_done(&e->ch[l], g);
}

/* After a period skip from cycle t0: the transfers in flight that
 * started in the skipped cycles (never stepped, so never traced), with
 * the cycles they started at. Those that started and ended there moved
 * their bytes before the window (ef_trace_skip_limit). */
static void trace_in_flight(engine *e, uint64_t t0) {
    for (int l = 1; l < e->nl; l++) {
        const chan *c = &e->ch[l];
        if (!c->active) continue;
        uint64_t start = c->end - xfer(e, c->active_xfer)->cycles;
        if (start > t0) ef_trace_xfer(e->tr, c->active_xfer, start);
    }
    if (e->x_on) {
        uint32_t id = stream_now(e);
        uint64_t start = e->x_done - xfer(e, id)->cycles;
        if (start > t0) ef_trace_xfer(e->tr, id, start);
    }
}

ef_status ef_step_run(ef_schedule *tr, bool fast_forward, ef_diags *diags) {
    const ef_nest *n = tr->n;
    ef_result *res = tr->res;
    const ef_tracer *trace = tr->trace;
    int nl = n->level_count;
    engine *e = ef_calloc(1, sizeof *e);
    periods *pd = NULL;      /* remembered states, event engine only */
    ef_status st = EF_OK;
    if (!e) return EF_ERR_NOMEM;
    ef_engine_init(e, tr, NULL);
    /* periods compare states at generation boundaries, which steps of
     * more than a cycle, or results written later, would have to carry
     * in their signature too */
    if (fast_forward && e->interval == 1 && e->latency == 0 && !(pd = ef_periods_create())) {
        st = EF_ERR_NOMEM;
        goto out;
    }
    for (uint64_t t = 0;; t++) {
        /* settle transfers: a finished fill may enable a child's fill,
         * a finished drain the parent's drain, in the same cycle. The
         * order is the arbitration: channels outermost first, then the
         * stream, then back out; the first to ask for a free resource
         * gets it. */
        for (int pass = 0; pass < 4 * nl + 8 && ef_engine_settle(e, t); pass++) {
        }
        ef_issue is;
        uint64_t issued = ef_engine_issue(e, t, &is);
        bool computing = issued || t < e->next_issue;
        if (computing) e->compute++;
        bool busy = ef_engine_in_flight(e);
        if (ef_engine_done(e) && !busy && t + 1 >= e->next_issue) break;
        if (!computing && !busy && !ef_engine_waiting(e, t)) {
            /* nothing moves and nothing can: a broken invariant */
            ef_diags_add(diags, n->arch->file, 0, 0, "", NULL, NULL,
                         "internal error: the step engine stalled with no transfer "
                         "in flight at cycle %llu (please report this mapping)",
                         (unsigned long long)t);
            st = EF_ERR_OVERFLOW;
            goto out;
        }
        uint64_t quiet = fast_forward ? ef_engine_quiet(e, t, issued, is.crossed) : 0;
        if (quiet == NEVER) quiet = 0; /* nothing pends: a broken invariant, caught above */
        if (!computing && e->s < tr->steps) {
            int cause = ef_engine_stall_cause(e, t);
            ef_engine_charge(e, cause, 1 + quiet);
            if (trace) ef_engine_trace(e, t, 1 + quiet, false, 0, 0, cause);
        }
        /* a jump repeats cycle t: k steps a cycle, or a step of several
         * cycles going on (the same test as below) */
        if (trace && computing)
            ef_engine_trace(e, t, 1 + quiet, true, issued,
                            issued == e->k && e->interval == 1 ? e->k : 0, -1);
        if (quiet && computing) {
            if (issued == e->k && e->interval == 1) {
                e->s += quiet * e->k;
                e->last_issue = t + quiet;
                e->next_issue = e->last_issue + 1;
            }
            e->compute += quiet;
        }
        t += quiet;
        if (pd && is.crossed) {
            loop_state ls = {.t = t, .s = e->s, .compute = e->compute,
                             .last_issue = e->last_issue,
                             .t_max = trace ? ef_trace_skip_limit(tr, t) : UINT64_MAX};
            if (ef_periods_skip(e, pd, &ls, e->cause_total, is.outer_crossed)) {
                if (trace) trace_in_flight(e, t);
                for (int c = 0; c < CAUSE_COUNT; c++)
                    if (ls.more_stalls[c]) ef_engine_charge(e, c, ls.more_stalls[c]);
                t = ls.t;
                e->s = ls.s;
                e->compute = ls.compute;
                e->last_issue = ls.last_issue;
                e->next_issue = e->last_issue + 1;
            }
        }
        if (ef_engine_past_limit(t, n->arch->file, diags)) {
            st = EF_ERR_OVERFLOW;
            goto out;
        }
        /* work is left at cycle t, so the run ends after it (the margin
         * keeps clear of how the last cycle is counted) */
        if (tr->budgeted && t > tr->cycle_budget && t - tr->cycle_budget > 2) {
            st = EF_STOPPED;
            goto out;
        }
    }
    uint64_t end = ef_engine_last_drain(e);
    uint64_t busy_end = e->any_issue ? e->last_issue + e->interval : 0;
    /* cycles after the last step spent writing results back */
    if (end > busy_end && e->any_issue) {
        ef_result_add_stall(res, "final_drain", end - busy_end);
        if (trace) ef_trace_cycles(tr, busy_end, end - busy_end, 0, 0, "final_drain");
    }
    res->cycles = end;
    res->compute_cycles = e->compute;
    res->steps = e->s;
    /* every cycle was either computing or charged to one stall cause */
    assert(e->compute + res->stall_total == end || !e->any_issue);
    ef_engine_check(e);
out:
    ef_periods_destroy(pd);
    free(e);
    return st;
}
