/* einflow stats stage — the utilization loss (Eyexam's step-by-step
 * view): from the unit's peak to the points it achieved, every slot
 * that did no work is charged to one cause. docs/model.md section 4.9
 * defines the terms; they are integers from the simulator's counters
 * or exact closed forms, and they add up exactly:
 *
 *     sum(steps[].slots) == peak_slots - ops
 *
 * Ownership: plain value structs, nothing to free. */
#ifndef EINFLOW_UTIL_LOSS_H
#define EINFLOW_UTIL_LOSS_H

#include "einflow/sim.h"

/* Causes beside the stall causes, in the order they are listed. */
#define EF_LOSS_FILL "fill"                   /* stalls before the first step */
#define EF_LOSS_ISSUE_GAPS "issue_gaps"       /* compute cycles short of steps */
#define EF_LOSS_UNUSED_PES "unused_pes"       /* PEs the mapping never uses  */
#define EF_LOSS_SPATIAL_EDGE "spatial_edge"   /* partial spatial edge tiles  */
#define EF_LOSS_TEMPORAL_EDGE "temporal_edge" /* partial temporal edge tiles */
#define EF_LOSS_PARTIAL_STEPS "partial_steps" /* both, when not split        */
#define EF_LOSS_MASKED "masked"               /* points of a causal mask:
                                               * the PE idles on them      */
#define EF_LOSS_OTHER_UNIT "other_unit"       /* a cascade's cycles without
                                               * any Einsum on this unit   */

#define EF_LOSS_MAX_STEPS (EF_MAX_STALL_CAUSES + 8)

typedef struct {
    char cause[sizeof ((ef_stall *)0)->cause];
    uint64_t slots;               /* PE-slots (PE x step issue chances) */
} ef_loss_step;

typedef struct {
    bool vector;                  /* the vector unit's lanes, not PEs   */
    uint64_t pes;                 /* PEs, or lanes                      */
    uint64_t steps_per_cycle;     /* macs_per_cycle; 1 for lanes        */
    uint64_t peak_slots;          /* cycles x pes x steps_per_cycle     */
    uint64_t ops;                 /* points computed: the used slots    */
    int step_count;
    ef_loss_step steps[EF_LOSS_MAX_STEPS]; /* only causes with slots    */
} ef_util_loss;

/* The loss of one Einsum's run over its own cycles (a fused Einsum's
 * include `other_einsums`), on the unit that computed it. */
void ef_util_loss_of(const ef_result *r, ef_util_loss *out);

/* The closed forms behind the edge terms, for one nest: per rank r, the
 * loops of r split into temporal digits t and spatial digits x, and a
 * point (t, x) exists when its index is below r's bound. steps is the
 * product over ranks of the t with (t, 0) valid (what the engine walks),
 * active_pes that of the x with (0, x) valid, points that of the valid
 * (t, x): so ops = points, and steps x active_pes - points slots are
 * idle PEs in steps. Of those, temporal_idle are idle only because the
 * PE's own temporal loops ran past the bound (the outermost digit
 * whose addition crosses the bound is temporal, in every rank where
 * the point is invalid); the rest are spatial. split is false (and the
 * counts 0) when a rank's loops have more than 2^26 combinations. */
typedef struct {
    bool split;
    uint64_t steps, active_pes, points;
    uint64_t temporal_idle;
} ef_edge_counts;

void ef_util_loss_edges(const ef_nest *n, ef_edge_counts *out);

#endif
