/* Internal to the report stage: the sums a summary shows when results
 * run one after another (the Einsums of a cascade, a network's layers
 * x their counts), computed once for the JSON and the tables. */
#ifndef EF_REPORT_TOTALS_H
#define EF_REPORT_TOTALS_H

#include "einflow/stats.h"
#include "spec/sbuf.h"

#define EF_TOTALS_TENSORS (EF_MAX_TENSORS * 4)

/* A tensor of the workload whose results are being added. */
typedef struct {
    int tensor;                    /* workload tensor id               */
    int slot;                      /* index into ef_totals.tensor[]    */
    bool written;                  /* by a result added so far         */
    bool intermediate;             /* read by a result after another
                                    * had written it                   */
    uint64_t footprint_bytes;      /* at the outermost level: the most
                                    * of it one result touched         */
} ef_totals_tensor;

typedef struct {
    bool alone;                    /* one result on its own: a fused
                                    * Einsum counts its group's cycles,
                                    * not its share of the cascade's   */
    const ef_nest *first;          /* the first result's nest          */
    uint64_t cycles, macs, ops, compute_cycles, storage_bits, active_pes;
    double seconds, energy_pj, mac_pj, noc_pj, leakage_pj;
    double level_pj[EF_MAX_LEVELS];
    /* static energy by component (leakage_pj is their sum) */
    double level_leakage_pj[EF_MAX_LEVELS];
    double mac_leakage_pj, noc_leakage_pj, vector_leakage_pj;
    /* the architecture's area and static power: the largest of the
     * results' (components are sized to each Einsum's widths) */
    ef_area_costs area;
    double capacity_ops;           /* sum of the PE array's peak x cycles */
    uint64_t vector_ops;           /* points computed on the vector unit */
    double vector_pj;              /* their energy (not in mac_pj)     */
    double vector_capacity_ops;    /* sum of lanes x cycles; 0 without
                                    * a vector unit                    */
    bool values_checked;
    /* accesses (reads + fills + updates) at the outermost level, by
     * tensor name in first-seen order, and the bytes they moved */
    int tensor_count;
    const char *tensor[EF_TOTALS_TENSORS];
    uint64_t outer_accesses[EF_TOTALS_TENSORS];
    uint64_t outer_bytes[EF_TOTALS_TENSORS];
    /* of outer_bytes, what the workloads could not avoid, of the
     * workloads already left behind (see ef_totals_compulsory) */
    uint64_t compulsory_done[EF_TOTALS_TENSORS];
    /* the workload whose results are being added (a network's next
     * layer is another), each added weight times */
    const ef_workload *cur;
    uint64_t cur_weight;
    int cur_count;
    ef_totals_tensor cur_tensor[EF_TOTALS_TENSORS];
} ef_totals;

/* One tensor's counters at one level of a result, as reports list
 * them: summed over the operand slots of the tensor that the level
 * keeps — two in a recurrence (the old value read, the new one
 * written), one otherwise. Per-instance maxima and tile sizes add up
 * (both tiles sit in every instance), instances take the larger. */
typedef struct {
    ef_tensor_counters c;
    uint64_t read_bytes, write_bytes;   /* 0 without stats            */
    ef_action_energy energy;            /* 0 without stats            */
} ef_tensor_sum;

/* Fills *out for the tensor of operand o at level l of r (s may be
 * NULL: counters only). false, with *out untouched, unless the level
 * keeps o and o is the tensor's first slot kept there, so that a
 * caller walking the slots lists each tensor once. */
bool ef_totals_tensor_at(const ef_result *r, const ef_stats *s, int l, int o,
                         ef_tensor_sum *out);

void ef_totals_init(ef_totals *t);
void ef_totals_add(ef_totals *t, const ef_result *r, uint64_t weight);
/* The PE array's share of its capacity over all results (it idles
 * while the vector unit computes), and the vector unit's; the latter
 * false when no result's architecture has one. */
double ef_totals_utilization(const ef_totals *t);
bool ef_totals_vector_utilization(const ef_totals *t, double *out);
/* Of outer_bytes[k], the compulsory part: per workload, the tensor's
 * footprint once (the most of it any Einsum touches) when the workload
 * reads it from outside or leaves it as a result; nothing for an
 * intermediate (written by one Einsum, read by a later one), which a
 * fused mapping keeps on chip. The rest of outer_bytes[k] is extra:
 * re-reads, partial sums spilled and read back, intermediates. */
uint64_t ef_totals_compulsory(const ef_totals *t, int k);
/* "  static       ..." : the static energy beside the dynamic one, the
 * total, the average power at the clock and the area (docs/area.md);
 * one line for every table. */
void ef_totals_static_line(sbuf *b, const ef_totals *t);
/* Bytes at the outermost level over all tensors, and their compulsory
 * part (saturating). */
void ef_totals_outer_sum(const ef_totals *t, uint64_t *bytes, uint64_t *compulsory);

#endif
