/* The value check's reference: the Einsum evaluated directly over its
 * full rank box, no mapping involved. The longest rank runs as a
 * tight loop: along it every operand's word moves by a fixed step, and
 * the stretch of it where an operand is not padding is one interval,
 * so a point costs a multiply-add, not an index computation per
 * dimension. Also the reference of --check-against, Einsum by Einsum. Sums may run in another order than the mapped nest's:
 * the check's values are small integers, exact in any order, and
 * Einsums with division or exp are compared with a tolerance. */
#include "sim/engine.h"

#include <math.h>
#include <stdlib.h>

/* One operand along that rank: word first + k * step for the
 * k in [lo, hi); outside it, padding. */
typedef struct {
    int64_t first, step, lo, hi;
} stretch;

/* floor(a / b) and ceil(a / b) for b > 0 */
static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); }

static stretch along(const ef_workload *w, const ef_operand *op, const int64_t *x, int inner,
                     int64_t bound) {
    const ef_tensor *t = &w->tensors[op->tensor];
    stretch s = {0, 0, 0, bound};
    for (int d = 0; d < op->dims; d++) {
        const ef_affine *a = &op->index[d];
        int64_t i0 = ef_affine_eval(a, x) - t->offset[d], c = 0, e = t->extent[d];
        for (int k = 0; k < a->term_count; k++)
            if (a->rank[k] == inner) c += a->coef[k];
        /* 0 <= i0 + c * k < e */
        int64_t lo = 0, hi = bound;
        if (c == 0) {
            if (i0 < 0 || i0 >= e) hi = 0;
        } else if (c > 0) {
            lo = ceil_div(-i0, c);
            hi = floor_div(e - 1 - i0, c) + 1;
        } else {
            lo = ceil_div(i0 - (e - 1), -c);
            hi = floor_div(i0, -c) + 1;
        }
        if (lo > s.lo) s.lo = lo;
        if (hi < s.hi) s.hi = hi;
        s.first = s.first * e + i0;
        s.step = s.step * e + c;
    }
    if (s.hi < s.lo) s.hi = s.lo;
    return s;
}

/* Narrows [*lo, *hi) along rank `inner` to the points the causal mask
 * keeps, the other ranks at x. */
static void unmasked(const ef_workload *w, const ef_einsum *e, const int64_t *x, int inner,
                     int64_t *lo, int64_t *hi) {
    if (w->mask_key < 0 || !e->rank_used[w->mask_key] || !e->rank_used[w->mask_query]) return;
    int64_t off = w->mask_offset;
    if (inner == w->mask_key) {
        if (*hi > x[w->mask_query] + off + 1) *hi = x[w->mask_query] + off + 1;
    } else if (inner == w->mask_query) {
        if (*lo < x[w->mask_key] - off) *lo = x[w->mask_key] - off;
    } else if (x[w->mask_key] > x[w->mask_query] + off) {
        *hi = *lo;
    }
}

double *ef_direct_eval(const ef_workload *w, const ef_einsum *e, const ef_values *v) {
    const ef_tensor *ot = &w->tensors[e->output.tensor];
    double *out = ef_malloc(sizeof(double) * (size_t)ot->words);
    if (!out) return NULL;
    for (uint64_t q = 0; q < ot->words; q++)
        out[q] = e->reduce == EF_REDUCE_MAX ? -INFINITY : 0.0;
    /* A recurrence reads the steps it writes: from out, which starts
     * with the initial step and NaN elsewhere. The odometer below runs
     * every rank upward (the inner one too), so step r of a point is
     * written before step r+1 reads it. */
    const double *src[EF_MAX_TENSORS];
    for (int i = 0; i < e->input_count; i++) src[i] = v->data[e->inputs[i].tensor];
    if (e->recurrence_input >= 0) {
        ef_values_init_steps(w, e->output.tensor, out, true);
        src[e->recurrence_input] = out;
    }
    int inner = -1; /* the longest rank: the most points per stretch */
    for (int r = 0; r < w->rank_count; r++)
        if (e->rank_used[r] && (inner < 0 || w->rank_bounds[r] > w->rank_bounds[inner])) inner = r;
    int64_t bound = inner >= 0 ? (int64_t)w->rank_bounds[inner] : 1;
    bool plain_mac = e->is_mac && e->reduce == EF_REDUCE_SUM && e->input_count == 2;
    int64_t x[EF_MAX_RANKS] = {0};
    for (;;) {
        stretch so = along(w, &e->output, x, inner, bound), si[EF_MAX_TENSORS];
        for (int i = 0; i < e->input_count; i++) si[i] = along(w, &e->inputs[i], x, inner, bound);
        if (plain_mac) {
            /* padding reads as zero: only where both inputs are stored
             * does a product add anything */
            const double *a = src[0], *b = src[1];
            int64_t lo = si[0].lo > si[1].lo ? si[0].lo : si[1].lo;
            int64_t hi = si[0].hi < si[1].hi ? si[0].hi : si[1].hi;
            if (lo < so.lo) lo = so.lo;
            if (hi > so.hi) hi = so.hi;
            unmasked(w, e, x, inner, &lo, &hi);
            for (int64_t k = lo; k < hi; k++)
                out[so.first + k * so.step] +=
                    a[si[0].first + k * si[0].step] * b[si[1].first + k * si[1].step];
        } else {
            int64_t lo = so.lo, hi = so.hi;
            unmasked(w, e, x, inner, &lo, &hi);
            for (int64_t k = lo; k < hi; k++) {
                double in[EF_MAX_TENSORS];
                for (int i = 0; i < e->input_count; i++)
                    in[i] = k >= si[i].lo && k < si[i].hi
                                ? src[i][si[i].first + k * si[i].step]
                                : 0.0;
                double val = ef_einsum_eval(e, e->root, in);
                double *o = &out[so.first + k * so.step];
                if (e->reduce == EF_REDUCE_SUM) *o += val;
                else if (e->reduce == EF_REDUCE_MAX) { if (val > *o) *o = val; }
                else *o = val;
            }
        }
        int r = w->rank_count - 1;
        for (; r >= 0; r--) {
            if (!e->rank_used[r] || r == inner) continue;
            if (++x[r] < (int64_t)w->rank_bounds[r]) break;
            x[r] = 0;
        }
        if (r < 0) break;
    }
    return out;
}
