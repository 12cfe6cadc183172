/* The utilization loss of one run (einflow/util_loss.h): the unit's
 * peak slots, cycle by cycle and PE by PE, split into what did no work
 * and why. Stall terms come from the engines' counters; the idle PEs of
 * the steps that ran come from the nest's loops in closed form, checked
 * against the counters, so the terms always add up to peak - ops. */
#include "einflow/util_loss.h"

#include <stdio.h>
#include <string.h>

/* Beyond this many digit combinations in one rank the split between
 * spatial and temporal edges is not computed (real ranks stay far
 * below: a rank's combinations are at most about twice its bound). */
#define MAX_RANK_COMBOS ((uint64_t)1 << 26)

/* One rank's loops, outermost first, and what the walk counts. */
typedef struct {
    const ef_loop *lp[EF_MAX_LOOPS];
    int k;
    uint64_t bound;
    uint64_t valid;               /* (t, x) below the bound             */
    uint64_t temporal;            /* invalid, first crossed by a t digit */
} rank_walk;

/* Every (t, x) of the rank with (t, 0) and (0, x) valid, i.e. a PE that
 * works at some step and a step some PE works in. `why` is the kind of
 * the outermost digit whose index took the point past the bound (the
 * inner digits at 0), or -1 while it is still inside. Indices grow with
 * each digit, so a digit that takes t or x alone past the bound ends
 * its loop. */
static void walk(rank_walk *w, int i, uint64_t vt, uint64_t vx, int why) {
    if (i == w->k) {
        if (vt + vx < w->bound) w->valid++;
        else if (why == EF_LOOP_TEMPORAL) w->temporal++;
        return;
    }
    const ef_loop *lp = w->lp[i];
    bool temporal = lp->kind == EF_LOOP_TEMPORAL;
    for (uint64_t d = 0; d < lp->factor; d++) {
        uint64_t t = vt + (temporal ? d * lp->stride : 0);
        uint64_t x = vx + (temporal ? 0 : d * lp->stride);
        if (t >= w->bound || x >= w->bound) break;
        int crossed = why < 0 && t + x >= w->bound ? (int)lp->kind : why;
        walk(w, i + 1, t, x, crossed);
    }
}

/* Tuples of the loops of one kind whose index stays below the bound. */
static uint64_t tuples_below(const rank_walk *w, int i, uint64_t v, bool temporal) {
    if (i == w->k) return 1;
    const ef_loop *lp = w->lp[i];
    if ((lp->kind == EF_LOOP_TEMPORAL) != temporal) return tuples_below(w, i + 1, v, temporal);
    uint64_t n = 0;
    for (uint64_t d = 0; d < lp->factor && v + d * lp->stride < w->bound; d++)
        n += tuples_below(w, i + 1, v + d * lp->stride, temporal);
    return n;
}

void ef_util_loss_edges(const ef_nest *n, ef_edge_counts *out) {
    memset(out, 0, sizeof *out);
    const ef_workload *wl = n->workload;
    uint64_t steps = 1, active = 1, points = 1, not_spatial = 1;
    for (int r = 0; r < wl->rank_count; r++) {
        rank_walk w = {.bound = wl->rank_bounds[r]};
        uint64_t combos = 1;
        for (int j = 0; j < n->loop_count; j++)
            if (n->loops[j].rank == r && n->loops[j].factor > 1) {
                w.lp[w.k++] = &n->loops[j];
                combos *= n->loops[j].factor;
                if (combos > MAX_RANK_COMBOS) return;
            }
        /* a rank without loops: one value, if the Einsum uses it */
        if (!w.k) {
            if (n->einsum->rank_used[r] && w.bound != 1) return;
            continue;
        }
        walk(&w, 0, 0, 0, -1);
        steps *= tuples_below(&w, 0, 0, true);
        active *= tuples_below(&w, 0, 0, false);
        points *= w.valid;
        not_spatial *= w.valid + w.temporal;
    }
    out->split = true;
    out->steps = steps;
    out->active_pes = active;
    out->points = points;
    /* a point idle in some rank for a spatial reason is spatial; the
     * rest of the invalid ones are temporal in every rank they fail */
    out->temporal_idle = not_spatial - points;
}

static uint64_t minus(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

static void add(ef_util_loss *o, const char *cause, uint64_t slots) {
    if (!slots || o->step_count == EF_LOSS_MAX_STEPS) return;
    ef_loss_step *s = &o->steps[o->step_count++];
    snprintf(s->cause, sizeof s->cause, "%s", cause);
    s->slots = slots;
}

void ef_util_loss_of(const ef_result *r, ef_util_loss *out) {
    const ef_nest *n = r->nest;
    memset(out, 0, sizeof *out);
    out->vector = n->unit == EF_UNIT_VECTOR;
    out->pes = n->pes;
    /* the vector unit's view has macs_per_cycle 1 (model/vector.c) */
    out->steps_per_cycle = (uint64_t)n->arch->macs_per_cycle;
    uint64_t slot = out->pes * out->steps_per_cycle; /* per cycle */
    out->peak_slots = r->cycles * slot;
    out->ops = r->ops;
    /* cycles = compute_cycles + every stall cause's cycles, each of
     * which is either before the first step (fill) or after it */
    uint64_t fill = 0;
    for (int k = 0; k < r->stall_count; k++) fill += r->stalls[k].fill_cycles;
    add(out, EF_LOSS_FILL, fill * slot);
    for (int k = 0; k < r->stall_count; k++)
        add(out, r->stalls[k].cause, minus(r->stalls[k].cycles, r->stalls[k].fill_cycles) * slot);
    /* the compute cycles: each could have issued steps_per_cycle steps
     * on every PE; r->steps issued, each on active_pes at most. A run
     * the engine made never needs the clamps (the tests check the
     * identity on every bundled run); a result built by hand may. */
    uint64_t issue_chances = r->compute_cycles * out->steps_per_cycle;
    uint64_t steps = r->steps < issue_chances ? r->steps : issue_chances;
    add(out, EF_LOSS_ISSUE_GAPS, (issue_chances - steps) * out->pes);
    uint64_t active = n->active_pes < out->pes ? n->active_pes : out->pes;
    add(out, EF_LOSS_UNUSED_PES, (out->pes - active) * steps);
    uint64_t points = r->ops + r->masked_ops;
    uint64_t idle = minus(active * steps, points);
    ef_edge_counts e;
    ef_util_loss_edges(n, &e);
    if (e.split && e.steps == steps && e.active_pes == active && e.points == points &&
        e.temporal_idle <= idle) {
        add(out, EF_LOSS_SPATIAL_EDGE, idle - e.temporal_idle);
        add(out, EF_LOSS_TEMPORAL_EDGE, e.temporal_idle);
    } else {
        add(out, EF_LOSS_PARTIAL_STEPS, idle);
    }
    /* a masked point's step runs but its MAC is gated: the PE idles */
    add(out, EF_LOSS_MASKED, r->masked_ops);
}
