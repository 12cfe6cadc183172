/* Internal to the sim stage: the state pass 1 walks with, shared by
 * walk.c (set-up, the odometer, the counters), walk_exact.c and tiles.c
 * (the two walks), walk_cost.c (what events cost in time), walk_mac.c
 * (accounting at the MACs) and walk_values.c (values). */
#ifndef EF_SIM_WALK_H
#define EF_SIM_WALK_H

#include "model/noc.h"
#include "sim/engine.h"

#include <math.h>
#include <string.h>

typedef struct {
    ef_dimset d[EF_MAX_DIMS];
    uint64_t words;
    uint64_t listed_event;        /* event in which its delta was listed */
    const void *listed_against;   /* ... against this old footprint      */
} footprint;

/* What the steps of one innermost tile stream between shared levels
 * and the PEs (operands no per-PE level keeps), summed over the tile. */
typedef struct {
    uint64_t keeper[EF_NEST_MAX_OPS]; /* reads at the keeper (updates of
                                   * the output, after the reduction)    */
    uint64_t first_updates;       /* output updates with no read before:
                                   * at steps whose loops over ranks the
                                   * output ignores are all at index 0    */
} ef_stream_words;

typedef struct {
    uint64_t inst;                /* instances walked                   */
    footprint *store[2];          /* [inst][op] storage, two buffers    */
    int curbuf[EF_NEST_MAX_OPS];  /* buffer holding each tensor's tiles */
    bool unchanged[EF_NEST_MAX_OPS]; /* tiles did not move this event   */
    bool *was_active;             /* [inst] active in the last event    */
    footprint **pcur, **pnxt;     /* [inst][op] the footprint in use: PEs
                                   * with identical tiles of a tensor
                                   * share their group's first one      */
    uint64_t *reads, *fills, *updates, *empty; /* [inst][op]            */
    uint64_t max_words[EF_NEST_MAX_OPS];
    uint8_t *seen;                /* output words ever held, bitmap     */
    /* values mode (walk_values.c): output partial sums, dense over the
     * tensor when val_slots is 0, else per instance a hash table of
     * val_slots entries keyed by word + 1 (0: free) */
    double *val;
    uint64_t *val_key, *val_held, *val_hint, val_slots; /* hint: [inst] slot last found */
    int val_shift;
    double val_spill;
    /* a per-PE level that is an output's first home (a fused cascade's
     * intermediate kept in the PEs' storage): the dense array over the
     * tensor its tiles' finished words go to when they are replaced,
     * as they would to a parent */
    double *home_val;
    bool *used;                   /* [inst] held any word               */
    bool per_pe;
} lvl_state;

typedef struct {
    ef_schedule *sch;             /* what the walk records for pass 2   */
    const ef_nest *n;
    const ef_workload *w;
    ef_values *V;
    int nl, ops, out;
    uint64_t used_pes;
    int64_t (*off)[EF_MAX_RANKS];  /* spatial offset of each used PE    */
    lvl_state L[EF_MAX_LEVELS];
    int tl[EF_MAX_LOOPS], tl_count;
    int tl_begin[EF_MAX_LEVELS + 1];
    uint64_t idx[EF_MAX_LOOPS];
    int64_t tbase[EF_MAX_RANKS];
    /* spatial offsets per rank, for per-step unions */
    int64_t *svals[EF_MAX_RANKS];
    int64_t nsvals[EF_MAX_RANKS];
    bool stream_op[EF_NEST_MAX_OPS]; /* counted per step               */
    bool shares[EF_NEST_MAX_OPS];  /* one source read serves all takers */
    ef_ports ports;                /* bandwidths and latencies          */
    /* the innermost tile's accesses at the MACs (ef_walk_stream_demand) */
    uint64_t *mac_cnt;             /* [inst][op] kept operands          */
    uint64_t *mac_own;             /* [inst] distinct outputs updated   */
    ef_stream_words sw;            /* streamed operands over the tile   */
    bool tile_first;               /* exact walk: the innermost tile's
                                    * output updates may start empty    */
    uint32_t *stamp[EF_NEST_MAX_OPS]; /* per-event union marks, by word */
    uint32_t event_id;             /* marks in stamp[]; may wrap          */
    uint64_t event_seq;            /* never wraps: for listed_event       */
    uint64_t *bitpool;
    uint64_t step;
    uint64_t cur_gen[EF_MAX_LEVELS];
    /* per-event scratch */
    uint64_t ev_src_bytes[EF_MAX_LEVELS][EF_MAX_LEVELS]; /* [l][src]    */
    uint64_t ev_inst_fill_bytes[EF_MAX_LEVELS];
    uint64_t ev_drain_bytes[EF_MAX_LEVELS];
    uint64_t ev_inst_drain_bytes[EF_MAX_LEVELS];
    uint64_t ev_partial_bytes[EF_MAX_LEVELS]; /* drained words that the
                                    * parent reads back to combine       */
    uint32_t *held;                /* [output word] held-after marks     */
    uint32_t held_id;
    uint64_t *inst_bytes;          /* [inst] scratch                    */
    int64_t *lists[3][EF_MAX_DIMS]; /* member lists for word enumeration */
    uint32_t relmask[EF_NEST_MAX_OPS]; /* ranks each tensor depends on   */
    uint64_t *canon[EF_NEST_MAX_OPS]; /* [pe]: first PE of its group for
                                    * the tensor, irrelevant digits zeroed */
    uint64_t *first_active;        /* [pe] scratch: group -> instance+1  */
    int64_t *ranges;               /* [pe][2][rank] scratch tile ranges  */
    bool *active;                  /* [pe] scratch                       */
    footprint empty_fp;
    uint64_t all_pe_hops;          /* hops to reach every used PE once  */
    uint64_t *stream_memo[EF_NEST_MAX_OPS][EF_MAX_DIMS]; /* per step
                                    * unions by temporal coordinate     */
    uint64_t *stream_bits;         /* scratch bitset over an extent      */
    int64_t *spart;                /* values mode: [pe][op][dim] spatial
                                    * part of each operand index        */
    ef_status status;
    char why[192];                 /* the limit hit, for the diagnostic   */
} walker;

#define AT(L, i, o) ((i) * (uint64_t)wk->ops + (uint64_t)(o))


/* Stops the walk at a limit, saying which (the first one hit stays). */
void ef_walk_limit(walker *wk, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline bool add(walker *wk, uint64_t *c, uint64_t v) {
    if (!ef_add_u64(*c, v, c)) {
        ef_walk_limit(wk, "a 64-bit access counter would overflow");
        return false;
    }
    return true;
}

static inline uint64_t hop_distance(const walker *wk, uint64_t i) {
    return ef_noc_hops(wk->n, i);
}

static inline void add_hops(walker *wk, int o, uint64_t hops) {
    add(wk, &wk->sch->res->noc.hops, hops);
    add(wk, &wk->sch->res->noc.op_hops[o], hops);
}

static inline double identity(const walker *wk) {
    return wk->n->einsum->reduce == EF_REDUCE_MAX ? -INFINITY : 0.0;
}

static inline void combine(const walker *wk, double *into, double v) {
    switch (wk->n->einsum->reduce) {
    case EF_REDUCE_SUM: *into += v; break;
    case EF_REDUCE_MAX: if (v > *into) *into = v; break;
    case EF_REDUCE_NONE: *into = v; break;
    }
}

/* walk_values.c: the value of an output word at level l, instance
 * inst; ef_walk_val adds the word (as NaN) if absent, take removes it
 * and returns what it held (NaN if nothing). */
void ef_walk_values_alloc(walker *wk, int l);
double *ef_walk_val(walker *wk, int l, uint64_t inst, uint64_t word);
double ef_walk_val_take(walker *wk, int l, uint64_t inst, uint64_t word);

static inline uint64_t ef_walk_bytes(const walker *wk, int o, uint64_t words) {
    return ef_words_to_bytes(words, wk->w->tensors[wk->n->ops[o]->tensor].bits);
}

/* walk.c: the walker both walks share */
/* Sets up what both walks need: loops, offsets, counters, streaming
 * memo, ports, the generation lists' limits. */
ef_status ef_walk_setup(walker *wk);
void *ef_walk_calloc(walker *wk, uint64_t n, size_t sz); /* NULL + status on failure */
void ef_walk_level_base(const walker *wk, int l, int64_t *base);
int ef_walk_carry(walker *wk, int p);
int ef_walk_level_of_change(const walker *wk, int p);
/* Are the output words entering level l first visits (every loop above
 * it over a rank the output ignores at index 0)? */
bool ef_walk_first_visit(const walker *wk, int l);
void ef_walk_finish(walker *wk);
void ef_walk_free(walker *wk);

/* walk_cost.c: what events cost in time */
/* The transfers of a generation's fill and of the previous
 * generation's write-back, from the bytes they move (stream left 0). */
void ef_walk_gen_cost(walker *wk, int l, const uint64_t *src_bytes,
                      uint64_t inst_fill_bytes, uint64_t drain_bytes,
                      uint64_t inst_drain_bytes, uint64_t partial_bytes, ef_gen_cost *gc);
/* The index of a demand's transfer in the schedule's set. */
uint32_t ef_walk_xfer(walker *wk, const ef_demand *d);
/* The write-back of level l's outputs (drain_bytes after the
 * reduction, inst_drain_bytes of the busiest instance, partial_bytes of
 * them read back at the parent to be combined on arrival). */
uint32_t ef_walk_drain_xfer(walker *wk, int l, uint64_t drain_bytes, uint64_t inst_drain_bytes,
                            uint64_t partial_bytes);
/* Appends level l's generation at the current step and sets the
 * previous generation's drain. */
void ef_walk_push_gen(walker *wk, int l, const ef_gen_cost *gc);
/* Both, from the ev_* byte counts, which it clears. */
void ef_walk_record_gen(walker *wk, int l);
/* The transfer the steps of the innermost tile make at the MACs: what
 * mac_cnt, mac_own (kept operands, per instance) and sw (streamed ones)
 * say, read and written at each operand's innermost keeper and across
 * the network. first: the tile's output updates may start empty
 * (ef_walk_first_visit of the innermost level). */
uint32_t ef_walk_stream_demand(walker *wk, bool first);

/* walk_mac.c: accounting at the MACs */
/* Reads and updates at the MACs of the innermost tile just entered,
 * for the operands the PEs keep; also leaves each instance's counts in
 * mac_cnt and mac_own. */
void ef_walk_mac_block(walker *wk);
/* Iteration points of the box [lo, hi) whose index in operand o's
 * dimension d is stored (not padding), with multiplicity over the ranks
 * that index uses; without padding, simply their box's size. */
uint64_t ef_walk_dim_points(const walker *wk, int o, int d, const int64_t *lo, const int64_t *hi,
                            bool padded);
/* Counts of one step's streamed operands (all PEs together) at the
 * temporal base tbase, added to *c. */
typedef struct {
    uint64_t keeper[EF_NEST_MAX_OPS]; /* reads, or updates of the output, at its keeper */
    uint64_t ops;                     /* iteration points                  */
    uint64_t reductions;              /* partial sums combined in flight   */
    uint64_t words_sent, deliveries;
    uint64_t hops[EF_NEST_MAX_OPS];
} ef_stream_counts;
void ef_walk_stream_counts(walker *wk, const int64_t *tbase, ef_stream_counts *c);
/* One dimension's share of a step: distinct stored indices over all PEs
 * and (PE, index) pairs, remembered by its ranks' temporal coordinates. */
void ef_walk_stream_dim(walker *wk, int o, int d, const int64_t *tbase, uint64_t *distinct,
                        uint64_t *combos);
void ef_walk_stream_step(walker *wk);
void ef_walk_values_step(walker *wk);

/* walk_exact.c: pass 1 word by word and step by step */
ef_status ef_walk_setup_exact(walker *wk);
void ef_walk_exact(walker *wk);

/* tiles.c: pass 1 without values, by classes of events */
void ef_walk_tiles(walker *wk);

/* walk_mask.c: after either walk, takes the points of the workload's
 * causal mask out of the counters at the MACs (they are not computed)
 * and sets the result's masked_ops; the schedule is left as it is. */
void ef_walk_unmask(walker *wk);

#endif
