/* The network between the shared level and the PEs: what each topology
 * does to a word on its way (hops, read sharing) and to the array's
 * timing (the systolic wavefront). The only place that branches on the
 * topology; the walks (sim/) and the mapper's estimate (map/) ask here.
 *
 *   multicast  row/column buses: one read at the source reaches every
 *              PE that takes the word in the same delivery; one hop per
 *              delivery.
 *   systolic   neighbour forwarding from the array's edges: a word
 *              entering at a row's (column's) edge serves that whole row
 *              (column), so an operand that varies along only one of the
 *              two directions is read once per word, like multicast; one
 *              that varies along both needs a word of its own at every
 *              PE and pays as unicast. Hops: row + col + 1; the
 *              wavefront adds rows + cols - 2 cycles of skew.
 *   unicast    every delivery is a read at the source of its own; hops
 *              row + col + 1 from the corner. */
#ifndef EF_MODEL_NOC_H
#define EF_MODEL_NOC_H

#include "einflow/model.h"

/* Link traversals of one word between the shared level and used PE i
 * (i = row * cols_used + col). */
static inline uint64_t ef_noc_hops(const ef_nest *n, uint64_t i) {
    if (n->noc->topology == EF_NOC_MULTICAST) return 1;
    return i / n->cols_used + i % n->cols_used + 1;
}

/* Average hops of a delivery over the used PEs (the estimate's). */
double ef_noc_mean_hops(const ef_nest *n);

/* Does one source read of input operand op serve every PE that takes
 * the word in the same delivery? (Else every delivery is a read.) */
bool ef_noc_shares_reads(const ef_nest *n, int op);

/* Cycles the wavefront adds to fill and drain the array once. */
uint64_t ef_noc_skew_cycles(const ef_nest *n);

#endif
