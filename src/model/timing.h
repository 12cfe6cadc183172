/* The one place where bytes become cycles.
 *
 * Every level instance has a read port and a write port, and the
 * network between the shared level and the PEs has a link into the
 * array and one out of it. Each is a *resource* with a bandwidth in
 * bytes per cycle (per instance; 0 = unlimited). A transfer — a tile's
 * fill, the write-back of partial sums, or the operands and partial
 * sums a generation of steps streams past the levels — asks each
 * resource it crosses for some bytes (for a level with many instances,
 * those of its busiest instance: they all move in lockstep). It holds
 * each resource for ceil(bytes / bandwidth) cycles from its start, and
 * its data is usable once the longest of those has passed (plus the
 * source's latency, for a fill's read ports: writes are posted and a
 * stream's addresses are known ahead).
 *
 * The arbiter keeps, per resource, the cycle it is next free. A
 * transfer starts only when every resource it needs is free, and takes
 * them all at once; so no resource is ever held by two transfers, and
 * no result moves more bytes through a port or link than its bandwidth
 * allows in the cycles it ran (the bandwidth law). Who goes first when
 * several transfers want a resource in the same cycle is the caller's
 * fixed order (sim/step.c).
 *
 * Used by the engines (sim/) and by the mapper's estimate (map/), so
 * the two agree on what a byte costs. */
#ifndef EF_MODEL_TIMING_H
#define EF_MODEL_TIMING_H

#include "einflow/model.h"

/* Resources: level l's read port 2l and write port 2l + 1, then the
 * network's link into the array and its link out of it, then the
 * vector unit's links (its own wires: a fused cascade's array and
 * vector unit do not share them). */
#define EF_RES_COUNT (2 * EF_MAX_LEVELS + 4)
#define EF_RES_NOC_IN (2 * EF_MAX_LEVELS)
#define EF_RES_NOC_OUT (2 * EF_MAX_LEVELS + 1)
#define EF_RES_VU_IN (2 * EF_MAX_LEVELS + 2)
#define EF_RES_VU_OUT (2 * EF_MAX_LEVELS + 3)
static inline int ef_res_read(int level) { return 2 * level; }
static inline int ef_res_write(int level) { return 2 * level + 1; }
/* The links into and out of the unit that computes n's points. */
static inline int ef_res_link_in(const ef_nest *n) {
    return n->unit == EF_UNIT_VECTOR ? EF_RES_VU_IN : EF_RES_NOC_IN;
}
static inline int ef_res_link_out(const ef_nest *n) {
    return n->unit == EF_UNIT_VECTOR ? EF_RES_VU_OUT : EF_RES_NOC_OUT;
}
/* The level a port belongs to, or -1 for a network link. */
static inline int ef_res_level(int res) { return res < EF_RES_NOC_IN ? res / 2 : -1; }

/* What the architecture grants each resource of one nest. */
typedef struct {
    double bandwidth_bytes[EF_RES_COUNT]; /* per cycle per instance; 0 unlimited */
    uint64_t latency_cycles[EF_RES_COUNT]; /* read ports: the level's latency */
} ef_ports;

void ef_ports_of(const ef_nest *n, ef_ports *p);

/* What one transfer asks of each resource, in bytes (per instance). */
typedef struct {
    uint64_t bytes[EF_RES_COUNT];
    bool waits_latency;           /* a fill: its read ports' latency counts */
} ef_demand;

/* What it costs. */
typedef struct {
    uint64_t hold_cycles[EF_RES_COUNT]; /* cycles it holds each resource */
    uint64_t cycles;              /* from its start until its data is usable */
    int bottleneck;               /* the resource that set `cycles`, or -1
                                   * when the transfer is free             */
    int used;                     /* resources with hold_cycles > 0 ...   */
    uint8_t uses[EF_RES_COUNT];   /* ... in increasing order              */
} ef_xfer;

/* Cycles `bytes` occupy a resource of `bandwidth_bytes` per cycle:
 * ceil(bytes / bandwidth), at least 1 for any traffic; 0 when there is
 * none or the bandwidth is unlimited. */
uint64_t ef_timing_cycles(uint64_t bytes, double bandwidth_bytes);

/* The cost of a demand. The bottleneck is the resource whose hold (plus
 * latency) is longest; ties go to the lowest-numbered resource, the one
 * farthest from the PEs. */
void ef_timing_cost(const ef_ports *p, const ef_demand *d, ef_xfer *x);

/* "DRAM.read", "GLB.write", "noc GLB->RF" (into the array) or
 * "noc RF->GLB" (out of it): the name stall causes and reports use. */
void ef_timing_resource_name(const ef_nest *n, int res, char *buf, size_t size);

/* Why a transfer takes the cycles it does, as a stall cause: a resource
 * (its bandwidth), or the latency of level l (EF_CAUSE_LATENCY + l)
 * when the source's latency is longer than the bottleneck's bandwidth
 * hold — a one-word fill from a 2-cycle SRAM waits on latency, not on
 * a port that is busy one cycle in three. -1 for a free transfer. */
#define EF_CAUSE_LATENCY EF_RES_COUNT
#define EF_CAUSE_COUNT (EF_RES_COUNT + EF_MAX_LEVELS)
int ef_timing_cause(const ef_xfer *x);

/* A resource's name (above), or "GLB.latency" for a level's latency. */
void ef_timing_cause_name(const ef_nest *n, int cause, char *buf, size_t size);

/* When each resource is next free. Zero-initialised: all free. */
typedef struct {
    uint64_t free_at[EF_RES_COUNT];
} ef_arbiter;

/* The first resource x needs that is busy at cycle t, or -1 when x can
 * start at t. */
static inline int ef_arbiter_blocker(const ef_arbiter *a, const ef_xfer *x, uint64_t t) {
    for (int i = 0; i < x->used; i++)
        if (a->free_at[x->uses[i]] > t) return x->uses[i];
    return -1;
}

/* x starts at t (ef_arbiter_blocker said it may). */
static inline void ef_arbiter_take(ef_arbiter *a, const ef_xfer *x, uint64_t t) {
    for (int i = 0; i < x->used; i++) a->free_at[x->uses[i]] = t + x->hold_cycles[x->uses[i]];
}

#endif
