/* einflow model stage — joins architecture, workload and one Einsum's
 * mapping into a checked loop nest ("nest"): loops in execution order
 * with their rank strides, what each level keeps, where each tensor is
 * fetched from, the spatial fan-out and the NoC between the shared
 * level and the PEs. Every mapping error is reported here, located at
 * the mapping line that causes it.
 *
 * Ownership: ef_nest_build returns a nest the caller frees with
 * ef_nest_destroy (NULL accepted). arch and workload are borrowed and
 * must outlive it. */
#ifndef EINFLOW_MODEL_H
#define EINFLOW_MODEL_H

#include "einflow/einsum.h"
#include "einflow/spec.h"

typedef enum { EF_LOOP_TEMPORAL, EF_LOOP_ROWS, EF_LOOP_COLS } ef_loop_kind;

typedef struct {
    int level;          /* architecture level index                     */
    int rank;           /* workload rank id                             */
    uint64_t factor;
    uint64_t stride;    /* rank units per step of this loop             */
    ef_loop_kind kind;
    ef_loc loc;
    int entry, item;    /* where the mapping says it: entry `entry` of
                         * the Einsum's mapping, item `item` of its
                         * temporal, rows or cols list (ef_loop_path)   */
} ef_loop;

/* Operand slots of one Einsum: inputs first, the output last. */
#define EF_NEST_MAX_OPS (EF_MAX_TENSORS + 1)

typedef struct {
    int index;                     /* architecture level index          */
    uint64_t instances;            /* 1, or rows*cols when per PE       */
    bool keeps[EF_NEST_MAX_OPS];
    int parent[EF_NEST_MAX_OPS];   /* nearest outer keeper, -1 if none  */
    int loop_begin, loop_end;      /* this level's loops in nest order  */
    uint64_t tile_span[EF_MAX_RANKS]; /* full-tile extent of each rank  */
    uint64_t tile_words[EF_NEST_MAX_OPS]; /* full-tile footprint        */
} ef_nest_level;

typedef struct {
    const ef_arch_spec *arch;
    const ef_workload *workload;
    const ef_einsum *einsum;
    int einsum_index;
    int op_count;                   /* inputs + 1                       */
    const ef_operand *ops[EF_NEST_MAX_OPS];
    int out_op;                     /* == op_count - 1                  */
    int loop_count;
    ef_loop loops[EF_MAX_LOOPS];
    int level_count;
    ef_nest_level levels[EF_MAX_LEVELS];
    int spatial_level;              /* level holding spatial loops, -1  */
    int first_pe_level;             /* first per-PE level, or count     */
    uint64_t rows_used, cols_used;  /* product of spatial factors       */
    uint64_t pes;                   /* physical rows * cols             */
    const ef_noc_spec *noc;         /* NoC into the array: never NULL (default_noc when the arch declares none) */
    ef_noc_spec default_noc;        /* used when the arch declares none */
    int op_keeper_mac[EF_NEST_MAX_OPS]; /* innermost keeper of each op  */
    uint64_t total_ops;             /* iteration points (MACs)          */
    uint64_t active_pes;            /* PEs that ever hold a point       */
    const char *map_file;           /* the mapping's file (borrowed), for
                                     * diagnostics of later stages      */
    ef_loc map_loc;                 /* the Einsum's mapping             */
    ef_loc level_loc[EF_MAX_LEVELS]; /* each level's mapping entry, or the
                                     * level in the architecture        */
    ef_unit unit;                   /* what computes the points         */
    ef_loc unit_loc;                /* the mapping's `unit:` key, or its
                                     * mapping when it has none         */
    uint64_t step_interval_cycles;  /* cycles from one step of a PE (or
                                     * lane) to its next: 1 on the array */
    uint64_t step_latency_cycles;   /* from a step's issue to its result
                                     * being written: 0 on the array     */
    const ef_arch_spec *spec_arch;  /* the architecture as loaded: arch
                                     * itself on the array              */
    ef_arch_spec unit_arch;         /* on the vector unit, the view arch
                                     * points to: levels down to the
                                     * unit's `from`, a 1 x lanes array
                                     * (model/vector.c); owned here, so
                                     * a nest is never copied by value   */
} ef_nest;

/* Checks the mapping for einsum `einsum` and builds its nest. NULL with
 * located diagnostics when the mapping is illegal. */
ef_nest *ef_nest_build(const ef_arch_spec *arch, const ef_workload *w,
                       const ef_mapping_spec *m, int einsum, ef_diags *diags);
/* The same from one Einsum's mapping (the mapper's candidates); mapfile
 * names it in diagnostics. em is read only during the call. */
ef_nest *ef_nest_build_one(const ef_arch_spec *arch, const ef_workload *w,
                           const ef_einsum_mapping_spec *em, const char *mapfile,
                           int einsum, ef_diags *diags);
/* The same into n, memory of a nest the caller owns, overwritten: the
 * mapper builds one per candidate without allocating. false (n then
 * holds nothing usable) when the mapping is illegal. */
bool ef_nest_build_into(ef_nest *n, const ef_arch_spec *arch, const ef_workload *w,
                        const ef_einsum_mapping_spec *em, const char *mapfile, int einsum,
                        ef_diags *diags);
void ef_nest_destroy(ef_nest *n);

/* The key path of a loop in its mapping, "mapping[2].temporal[0].K",
 * written into buf (at least EF_LOOP_PATH_MAX bytes) when a diagnostic
 * needs it; returns buf. */
#define EF_LOOP_PATH_MAX 128
const char *ef_loop_path(const ef_nest *n, const ef_loop *lp, char *buf);

/* Words a tile of operand op occupies when each rank r spans
 * [lo[r], hi[r]) (clipped to bounds by the caller); exact distinct
 * count, padding excluded. Exposed for tests. */
uint64_t ef_nest_footprint_words(const ef_nest *n, int op,
                                 const int64_t *lo, const int64_t *hi);

/* The same with padding counted: the words a buffer must have room for
 * when the tile sits anywhere (the capacity check's footprint). */
uint64_t ef_nest_window_words(const ef_nest *n, int op, const int64_t *lo,
                              const int64_t *hi);

/* ---------- fused cascades (fuse.c) ----------
 *
 * A mapping that keeps an intermediate of a cascade on chip (bypassed
 * at the outermost level) fuses its producer and consumers: they share
 * the loops above the level where the intermediate lives (the fusion
 * level), and for each iteration of those loops run one after another,
 * each on the tile its predecessors just made (docs/model.md, "Fused
 * cascades"). A group is a run of consecutive Einsums; an Einsum that
 * passes nothing on chip is a group of one. */
typedef struct {
    int first, count;   /* Einsums [first, first + count) of the cascade */
    int level;          /* the fusion level; -1 for a group of one      */
    uint64_t tiles;     /* iterations of the shared loops: tiles of the
                         * fusion level each Einsum runs                */
} ef_fusion_group;

/* Splits the cascade nests[0 .. count) (in order) into groups and checks
 * every fused one; groups[] needs room for count entries. Returns the
 * number of groups, or -1 with located diagnostics. */
int ef_fuse_groups(ef_nest *const *nests, int count, ef_fusion_group *groups,
                   ef_diags *diags);

/* The state tiles a fused recurrence n keeps at the fusion level: the
 * iterations of the shared loops inside its rank's (1 when it steps
 * with the innermost, or n is no recurrence living there). */
uint64_t ef_fusion_state_slots(const ef_nest *n, int level);

/* The level where operand op of n first lives: 0 unless n's mapping
 * keeps it on chip. */
int ef_nest_home_level(const ef_nest *n, int op);

/* Bytes a tensor of `words` elements at `bits` precision occupies. */
uint64_t ef_words_to_bytes(uint64_t words, int bits);

#endif
