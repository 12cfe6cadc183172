/* The role each rank plays in an Einsum, for dataflow templates: which
 * of input, weight and output it indexes, and whether it moves inside a
 * sliding window of the input. The input is the first operand and the
 * weight the second, except that the operand read through a window is
 * the input whichever comes first.
 * Decided from the projections alone, so a template written for
 * convolutions applies unchanged to FC layers and matrix multiplies
 * (GEMM Z[m,n] += A[m,k] * B[k,n]: m is batch-like, n an output
 * channel, k an input channel). */
#include "einflow/einsum.h"

static bool indexes(const ef_operand *op, int rank) {
    for (int d = 0; d < op->dims; d++)
        for (int k = 0; k < op->index[d].term_count; k++)
            if (op->index[d].rank[k] == rank && op->index[d].coef[k] != 0) return true;
    return false;
}

/* The window axis of rank in the input (the ordinal of the windowed
 * dimension it appears in, counting only dimensions whose index has two
 * or more ranks), or -1 when it is in no window. */
static int window_axis(const ef_operand *op, int rank) {
    int axis = 0;
    for (int d = 0; d < op->dims; d++) {
        const ef_affine *a = &op->index[d];
        if (a->term_count < 2) continue;
        for (int k = 0; k < a->term_count; k++)
            if (a->rank[k] == rank && a->coef[k] != 0) return axis;
        axis++;
    }
    return -1;
}

static const char *const role_names[] = {
#define X(k, s) s,
    EF_RANK_ROLES(X)
#undef X
};

const char *ef_rank_role_name(ef_rank_role r) {
    return r >= 0 && r < EF_ROLE_COUNT ? role_names[r] : "?";
}

static bool has_window(const ef_operand *op) {
    for (int d = 0; d < op->dims; d++)
        if (op->index[d].term_count >= 2) return true;
    return false;
}

int ef_einsum_weight_operand(const ef_einsum *e) {
    if (e->input_count < 2) return -1;
    return has_window(&e->inputs[0]) || !has_window(&e->inputs[1]) ? 1 : 0;
}

void ef_einsum_rank_roles(const ef_workload *w, const ef_einsum *e,
                          uint32_t role_bits[EF_MAX_RANKS]) {
    for (int r = 0; r < EF_MAX_RANKS; r++) role_bits[r] = 0;
    int wi = ef_einsum_weight_operand(e);
    const ef_operand *in = e->input_count > 0 ? &e->inputs[wi == 0 ? 1 : 0] : NULL;
    const ef_operand *wt = wi >= 0 ? &e->inputs[wi] : NULL;
    for (int r = 0; r < w->rank_count; r++) {
        if (!e->rank_used[r]) continue;
        bool o = indexes(&e->output, r);
        bool i = in && indexes(in, r);
        bool f = wt && indexes(wt, r);
        int axis = in ? window_axis(in, r) : -1;
        ef_rank_role role = EF_ROLE_OTHER;
        if (o && i && f) role = EF_ROLE_GROUP;
        else if (o && i && !f) role = axis >= 0 ? EF_ROLE_OUT_PIXEL : EF_ROLE_BATCH;
        else if (o && f && !i) role = EF_ROLE_OUT_CHANNEL;
        else if (!o && i && f) role = axis >= 0 ? EF_ROLE_FILTER_TAP : EF_ROLE_IN_CHANNEL;
        bool windowed = role == EF_ROLE_OUT_PIXEL || role == EF_ROLE_FILTER_TAP;
        role_bits[r] = ef_role_bit(role, windowed ? axis : 0);
    }
}
