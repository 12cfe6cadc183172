/* einflow map stage, internal — the plan of a fused group before any
 * search (fuse_plan.c): which of its tensors stay on chip, which ranks
 * its shared loops may walk, the levels its intermediates can live at,
 * and the shared-loop tilings worth searching. map/fuse_search.c then
 * searches every Einsum's own loops under each tiling and lets the
 * engine choose. The rules mirror model/fuse.c, which checks the
 * result (docs/spec.md, "Fusing a cascade"). */
#ifndef EF_MAP_FUSE_PLAN_H
#define EF_MAP_FUSE_PLAN_H

#include "einflow/map.h"

#define EF_FPLAN_MAX_TILINGS 4 /* tilings searched per group and level */

typedef struct {
    int first, count;                 /* Einsums [first, first + count) */
    bool on_chip[EF_MAX_TENSORS * 4]; /* by tensor id: intermediates the
                                       * group keeps on chip            */
    int shared[EF_MAX_RANKS];         /* ranks its shared loops may walk
                                       * (bound > 1), in the order the
                                       * first intermediate indexes them */
    int nshared;
    bool vector[EF_MAX_EINSUMS];      /* member i (Einsum first + i) runs
                                       * on the vector unit             */
    /* scores in the PEs (ef_fplan_split): intermediates that only PE
     * array members touch live at the per-PE level inner_level, below
     * the shared fusion level; 0 and none otherwise */
    int inner_level;
    bool inner[EF_MAX_TENSORS * 4];   /* by tensor id                   */
    bool cluster[EF_MAX_EINSUMS];     /* member i touches one of them   */
    bool moved[EF_MAX_EINSUMS];       /* member i sweeps the scores and
                                       * goes to the array, with the
                                       * dataflow of Einsum array_like  */
    int array_like;
} ef_fplan;

/* One tiling of a group's shared loops: temporal ones at the
 * outermost level and, for a per-PE fusion level, spatial ones at the
 * spatial level above it. */
typedef struct {
    ef_map_loop loops[EF_MAX_RANKS];  /* factor > 1 only, outermost first */
    int loop_count;
    ef_map_loop rows[EF_MAX_RANKS];   /* per-PE level: spread over rows  */
    int row_count;
    ef_map_loop cols[EF_MAX_RANKS];   /* ... and over columns            */
    int col_count;
    uint64_t tile[EF_MAX_RANKS];      /* per rank: what one iteration
                                       * covers in one instance of the
                                       * level (the bound for a rank the
                                       * loops do not walk)             */
    uint64_t iterations;              /* of the shared loops            */
    uint64_t pe_steps;                /* per-PE level: the shared points
                                       * one PE runs in turn (iterations
                                       * x its tiles of shared ranks)   */
    double dram_bytes;                /* estimated traffic of the group's
                                       * off-chip tensors               */
    uint64_t need;                    /* what the group's tiles take at
                                       * the fusion level, in its unit
                                       * (per PE at a per-PE level: its
                                       * on-chip tensors only, the
                                       * others may stream)             */
} ef_ftiling;

/* Whether Einsums [first, first + count) of w can run as one fused
 * group, with vector[i] telling which run on the vector unit: true and
 * the plan in *g; false with the reason in why. */
bool ef_fplan_group(const ef_workload *w, int first, int count, const bool *vector,
                    ef_fplan *g, char *why, size_t size);

/* The levels g's intermediates may live at — on chip, within every
 * vector member's view, and the outermost per-PE one only when no
 * member runs on the vector unit — largest capacity first (a per-PE
 * level's room is one PE's); returns how many were written to
 * levels[]. */
int ef_fplan_levels(const ef_arch_spec *arch, const ef_fplan *g, int *levels);

/* Up to max tilings of g's shared loops whose tiles fit together at
 * level: among those that move the least DRAM traffic, the fewest
 * iterations first, then ones with about 4x, 16x, ... as many (the
 * engine weighs larger tiles against overlap between tiles). Returns
 * the count, or -1 when memory runs out; *least_need gets what the
 * smallest tiles take at the level (for a message when nothing fits). */
int ef_fplan_tilings(const ef_arch_spec *arch, const ef_workload *w, const ef_fplan *g,
                     int level, ef_ftiling *out, int max, uint64_t *least_need);

/* What member m's (Einsum g->first + m) on-chip tensors take at the
 * per-PE level l in one PE when every rank r spans tile[r], each tensor
 * once, in the level's unit (bytes for a partitioned level). */
uint64_t ef_fplan_member_on_chip(const ef_arch_spec *arch, const ef_workload *w,
                                 const ef_fplan *g, int l, int m, const uint64_t *tile);

/* FuseMax's binding of g at the shared level `level`: a copy of g in
 * *out where the Einsums that sweep the scores (the output of the
 * first product kept on chip: no product of their own, no recurrence,
 * every rank of the scores among theirs) run on the PE array beside
 * the products, those movable[m] allows (the vector unit was not named
 * for them); the intermediates with every rank of the scores that only
 * the array touches live in the per-PE level below `level` (inner),
 * the others at `level`. False when there is no such intermediate or
 * no per-PE level right below `level`. The tilings of *out at `level`
 * (ef_fplan_tilings) leave the inner intermediates out of its room. */
bool ef_fplan_split(const ef_arch_spec *arch, const ef_workload *w, const ef_fplan *g,
                    int level, const bool *movable, ef_fplan *out);

/* Spreads tiling t of a split plan over the PEs: the members touching
 * an inner intermediate spread the same ranks (t->rows, t->cols), each
 * a rank of every inner intermediate and of each of those members,
 * taking divisors of t's tile; what is left of the tile lies in each
 * PE. The spread using the most PEs whose inner tiles fit one PE at
 * the inner level wins (the fewer words there on a tie). False when
 * none fits. */
bool ef_fplan_spread(const ef_arch_spec *arch, const ef_workload *w, const ef_fplan *g,
                     ef_ftiling *t);

/* What member m's inner intermediates (m < 0: all of them, each once)
 * take in one PE at g's inner level under tiling t's spread, in the
 * level's unit. */
uint64_t ef_fplan_inner_need(const ef_arch_spec *arch, const ef_workload *w,
                             const ef_fplan *g, const ef_ftiling *t, int m);

/* "QK .. AV": the group's first and last Einsums by output, into buf. */
const char *ef_fplan_name(const ef_workload *w, int first, int count, char *buf,
                          size_t size);

#endif
