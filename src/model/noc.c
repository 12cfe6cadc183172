/* Topology operations (noc.h). */
#include "model/noc.h"

double ef_noc_mean_hops(const ef_nest *n) {
    if (n->noc->topology == EF_NOC_MULTICAST) return 1;
    return ((double)n->rows_used - 1) / 2 + ((double)n->cols_used - 1) / 2 + 1;
}

/* Does op's index use a rank that a spatial loop of this kind spreads
 * over more than one PE? */
static bool varies_along(const ef_nest *n, int op, ef_loop_kind kind) {
    const ef_operand *o = n->ops[op];
    for (int j = 0; j < n->loop_count; j++) {
        const ef_loop *lp = &n->loops[j];
        if (lp->kind != kind || lp->factor < 2) continue;
        for (int d = 0; d < o->dims; d++)
            for (int k = 0; k < o->index[d].term_count; k++)
                if (o->index[d].rank[k] == lp->rank) return true;
    }
    return false;
}

bool ef_noc_shares_reads(const ef_nest *n, int op) {
    switch (n->noc->topology) {
    case EF_NOC_MULTICAST: return true;
    case EF_NOC_UNICAST: return false;
    case EF_NOC_SYSTOLIC:
        return !(varies_along(n, op, EF_LOOP_ROWS) && varies_along(n, op, EF_LOOP_COLS));
    }
    return true;
}

uint64_t ef_noc_skew_cycles(const ef_nest *n) {
    if (n->noc->topology != EF_NOC_SYSTOLIC || n->spatial_level < 0) return 0;
    return n->rows_used + n->cols_used - 2;
}
