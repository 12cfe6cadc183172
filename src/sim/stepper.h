/* Internal to pass 2: one nest's cycle stepper (an "engine": its
 * channels, its stream and its step counter) as step.c defines it, for
 * the drivers that advance engines cycle by cycle — ef_step_run (one
 * nest, step.c), ef_group_run (the Einsums of a fused cascade,
 * group.c) — and for period skipping (periods.c). */
#ifndef EF_SIM_STEPPER_H
#define EF_SIM_STEPPER_H

#include "sim/engine.h"

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

/* Stall causes by number, so that a stalled cycle costs no string
 * work: each port and link (the resource that throttled), each
 * level's latency (model/timing.h), the unit's latency (a result not
 * yet written: "VU.latency"), then unknown. A cause finds (or makes)
 * its slot in the result the first time it is charged, which keeps
 * the result's order of first occurrence. */
enum {
    CAUSE_RESULT = EF_CAUSE_COUNT,
    CAUSE_UNIT_ARRAY,         /* a fused Einsum waits on one computing  */
    CAUSE_UNIT_VECTOR,        /* on the array, or on the vector unit    */
    CAUSE_UNKNOWN,
    CAUSE_COUNT
};

typedef struct engine engine;
struct engine {
    const ef_schedule *tr;
    int nl, lin;              /* levels; the innermost one              */
    chan ch[EF_MAX_LEVELS];
    ef_arbiter *arb;          /* its own, or its fused group's          */
    ef_arbiter own_arb;
    int holder[EF_RES_COUNT];
    uint8_t res[EF_RES_COUNT];   /* the resources this nest has ...        */
    int nres;                    /* ... its levels' ports and the links   */
    bool x_on;                /* the stream of the innermost generation
                               * in use has started ...                 */
    uint64_t x_done;          /* ... and ends then: that generation's
                               * last step completes no earlier         */
    uint64_t k;               /* steps a PE issues per cycle            */
    uint64_t interval;        /* cycles from one step to the next       */
    uint64_t latency;         /* cycles from a step to its result       */
    uint64_t next_issue;      /* no step before this cycle              */
    uint64_t result_at;       /* the last step's result is written then */
    /* a fused group (group.c): the level its intermediates live at,
     * -1 alone; the engines whose tiles there it reads, and those that
     * read its own */
    int fuse_level;
    bool on_turn;             /* its unit works for it: its steps and
                               * their stream may go                    */
    engine *producers[EF_MAX_EINSUMS];
    int nproducers;
    engine *consumers[EF_MAX_EINSUMS];
    int nconsumers;
    /* tiles back in the group's order that a producer's tile read is
     * (1: a recurrence's old value, written one iteration before; else
     * 0), per producer and per consumer link */
    uint64_t producer_lag[EF_MAX_EINSUMS], consumer_lag[EF_MAX_EINSUMS];
    /* per consumer link, the tiles its buffer holds: the depth of the
     * level where the intermediate lives (the fusion level, or a
     * per-PE one below it) */
    uint64_t consumer_depth[EF_MAX_EINSUMS];
    uint64_t self_lag;        /* a recurrence stepping with the group:
                               * its tile g reads what its tile
                               * g - self_lag wrote (its state slots,
                               * ef_fusion_state_slots); else 0         */
    uint64_t tile_stride;     /* a tail (model/fuse.c) runs at the last
                               * of tile_stride iterations of the
                               * shared loop it lacks, which has
                               * tile_inner iterations inside it; 1 and
                               * 1 for any other Einsum                 */
    uint64_t tile_inner;
    /* progress and what it cost */
    uint64_t s;               /* steps issued                           */
    uint64_t compute;         /* cycles its PEs were busy               */
    uint64_t last_issue;
    bool any_issue;
    int slots[CAUSE_COUNT];   /* each cause's entry in the result       */
    uint64_t cause_total[CAUSE_COUNT];
};

static inline uint64_t done_at(const chan *c, const uint64_t *ring, uint64_t g) {
    if (g < c->base) return 0;
    if (g - c->base >= RING) return NEVER;
    return ring[g % RING];
}

static inline const ef_xfer *xfer(const engine *e, uint32_t id) {
    return ef_schedule_xfer(e->tr, id);
}

static inline const ef_gen_run *gen_run(const ef_schedule *tr, int l, uint64_t g,
                                        uint64_t *hint) {
    return ef_gens_run(&tr->gens[l], g, hint);
}

/* Sets e up at cycle 0 for tr's generations; arb NULL: its own. */
void ef_engine_init(engine *e, const ef_schedule *tr, ef_arbiter *arb);

/* One settling pass at cycle t: each channel outermost first may finish
 * and start transfers, the stream may start, then the channels again
 * from the innermost out. True if anything changed. */
bool ef_engine_settle(engine *e, uint64_t t);

/* When level l's tile of generation g is usable: its own fill, and at
 * a fused group's level the producers' finished tiles too. */
uint64_t ef_engine_tile_ready(engine *e, int l, uint64_t g);

/* What the steps issued in one cycle did. */
typedef struct {
    bool crossed;             /* some level's generation ended          */
    bool outer_crossed;       /* ... one above the innermost            */
    bool fused_crossed;       /* ... the fused group's level            */
} ef_issue;

/* Whether e could issue a step at t (its tiles in, its unit's turn
 * aside), and whether it has issued part of its current tile of the
 * fused group's level. */
bool ef_engine_can_start(engine *e, uint64_t t);
bool ef_engine_mid_tile(const engine *e);

/* Issues up to k steps at cycle t (stopping at the end of a generation
 * of the fused group's level); returns how many. */
uint64_t ef_engine_issue(engine *e, uint64_t t, ef_issue *is);

/* Cycles after t in which nothing but e's counters would change (the
 * event engine's jump), given what cycle t issued; NEVER when nothing
 * of e's own pends (it waits on others, or is done). */
uint64_t ef_engine_quiet(engine *e, uint64_t t, uint64_t issued, bool crossed);

/* Whether e has a transfer in flight, or a resource it uses is held
 * past t, or its stream runs on. */
bool ef_engine_in_flight(const engine *e);
bool ef_engine_waiting(const engine *e, uint64_t t);
/* Every step issued and every write-back done. */
bool ef_engine_done(const engine *e);

/* The cause of a cycle t in which e could not issue (or -1 when it
 * waits on nothing of its own: another engine of its group). */
int ef_engine_stall_cause(engine *e, uint64_t t);
/* The first transfer in flight's cause, or -1. */
int ef_engine_flight_cause(const engine *e);
/* A fused Einsum's tile g of the fusion level as an iteration of the
 * group's shared loops: a tail's tile is the last iteration of the
 * innermost loop it lacks. */
static inline uint64_t ef_engine_group_iter(const engine *e, uint64_t g) {
    uint64_t in = e->tile_inner, block = e->tile_stride * in;
    return g / in * block + (e->tile_stride - 1) * in + g % in;
}

/* The last tile of e's own finished by group iteration it (the latest
 * whose iteration is at most it); false when none is. */
static inline bool ef_engine_tile_by(const engine *e, uint64_t it, uint64_t *g) {
    uint64_t in = e->tile_inner, block = e->tile_stride * in;
    uint64_t outer = it / block, rem = it % block, first = (e->tile_stride - 1) * in;
    if (rem >= first) {
        *g = outer * in + (rem - first);
        return true;
    }
    if (outer == 0) return false;
    *g = outer * in - 1;
    return true;
}

/* What a fused Einsum waits on in its group: a producer's tile (the
 * unit still computing it, or what holds its write-back), or a
 * consumer's buffer (the unit computing it); -1 if none. */
int ef_engine_group_cause(engine *e, uint64_t t);
/* What holds back the write-backs into `level` from below (a
 * producer's tile for its consumers), or -1. */
int ef_engine_drain_cause(engine *e, int level, uint64_t t);

/* The name of a stall cause ("DRAM.read", "PE.latency", ...). */
void ef_engine_cause_name(const engine *e, int cause, char *name, size_t size);
/* A trace of the cycles [t, t + count) of e's unit (ef_trace_cycles):
 * computing, or stalled on cause when not computing. */
void ef_engine_trace(const engine *e, uint64_t t, uint64_t count, bool computing,
                     uint64_t first_steps, uint64_t later_steps, int cause);

/* Charges `cycles` stalled cycles of cause to e's result. */
void ef_engine_charge(engine *e, int cause, uint64_t cycles);

/* The cycle e's last write-back ends (0 if none), after its run. */
uint64_t ef_engine_last_drain(const engine *e);
/* Whether cycle t is past the run limit (EF_MAX_CYCLES), then said in
 * diags at the architecture's file. */
bool ef_engine_past_limit(uint64_t t, const char *arch_file, ef_diags *diags);
/* Checks the invariants of every generation left in the windows. */
void ef_engine_check(const engine *e);

/* ---------- periods (periods.c, the event engine) ---------- */

typedef struct periods periods;
periods *ef_periods_create(void);
void ef_periods_destroy(periods *pd);

typedef struct {
    uint64_t t, s, compute, last_issue;   /* in: now; out: after the skip */
    uint64_t more_stalls[CAUSE_COUNT];    /* out: cycles to charge       */
    uint64_t t_max;                       /* in: the skip ends by then
                                           * (a trace's window)          */
} loop_state;

/* At a generation boundary, before cycle ls->t + 1: remembers the
 * state and, if it repeats an earlier one, adds as many whole periods
 * as provably repeat (docs in periods.c). Returns whether it did. */
bool ef_periods_skip(engine *e, periods *pd, loop_state *ls, const uint64_t *cause,
                     bool outer_crossed);

/* The channel helpers periods.c shares with step.c. */
void ef_engine_set_cg(const ef_schedule *tr, int l, chan *c);
uint64_t ef_engine_child_last_gen(engine *e, int l, uint64_t g);

#endif
