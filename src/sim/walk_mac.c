/* Pass 1 at the MACs: how often each operand is read from (and the
 * output updated at) its innermost keeper. Per tile block for operands
 * the PEs keep, per step for operands a shared level streams into the
 * array, and, for --check-values, every PE's iteration point. */
#include "sim/walk.h"

/* ---------- MAC-level accounting ---------- */

uint64_t ef_walk_dim_points(const walker *wk, int o, int d, const int64_t *lo, const int64_t *hi,
                            bool padded) {
    const ef_operand *op = wk->n->ops[o];
    const ef_tensor *t = &wk->w->tensors[op->tensor];
    const ef_affine *a = &op->index[d];
    if (!padded) {
        uint64_t total = 1;
        for (int k = 0; k < a->term_count; k++) {
            int r = a->rank[k];
            total *= hi[r] > lo[r] ? (uint64_t)(hi[r] - lo[r]) : 0;
        }
        return total;
    }
    int64_t x[EF_MAX_RANKS];
    for (int k = 0; k < a->term_count; k++) {
        x[k] = lo[a->rank[k]];
        if (hi[a->rank[k]] <= lo[a->rank[k]]) return 0;
    }
    uint64_t cnt = 0;
    for (;;) {
        int64_t v = a->constant - t->offset[d];
        for (int k = 0; k < a->term_count; k++) v += a->coef[k] * x[k];
        cnt += v >= 0 && v < t->extent[d];
        int k = a->term_count - 1;
        for (; k >= 0; k--) {
            if (++x[k] < hi[a->rank[k]]) break;
            x[k] = lo[a->rank[k]];
        }
        if (k < 0) break;
    }
    return cnt;
}

/* Iteration points in the box whose operand index is stored (not
 * padding), counted with multiplicity, over the operand's own ranks;
 * the caller multiplies by the extents of the ranks it ignores. */
static uint64_t valid_points_own(walker *wk, int o, const int64_t *lo, const int64_t *hi) {
    const ef_operand *op = wk->n->ops[o];
    const ef_tensor *t = &wk->w->tensors[op->tensor];
    bool padded = false;
    for (int d = 0; d < op->dims; d++) padded |= t->pad[d] != 0;
    if (!padded) {
        /* the extents span every index the ranks can form: all points
         * are stored, one per combination of the operand's ranks */
        uint64_t total = 1;
        for (int r = 0; r < wk->w->rank_count; r++)
            if (wk->relmask[o] >> r & 1u) total *= hi[r] > lo[r] ? (uint64_t)(hi[r] - lo[r]) : 0;
        return total;
    }
    uint64_t total = 1;
    for (int d = 0; d < op->dims && total; d++) total *= ef_walk_dim_points(wk, o, d, lo, hi, true);
    return total;
}

/* Per innermost-tile block: operands kept per PE (or on a one-PE
 * array) are read once per iteration point that uses them. */
void ef_walk_mac_block(walker *wk) {
    const ef_nest *n = wk->n;
    int lin = wk->nl - 1;
    lvl_state *Lin = &wk->L[lin];
    int R = wk->w->rank_count;
    /* wk->ranges holds lin's tiles: the event just computed them last */
    memset(wk->mac_cnt, 0, sizeof(uint64_t) * (size_t)(Lin->inst * (uint64_t)wk->ops));
    memset(wk->mac_own, 0, sizeof(uint64_t) * (size_t)Lin->inst);
    for (int o = 0; o < wk->ops; o++) {
        if (wk->stream_op[o]) continue;
        int k = n->op_keeper_mac[o];
        bool in_op[EF_MAX_RANKS] = {false};
        for (int d = 0; d < n->ops[o]->dims; d++)
            for (int q = 0; q < n->ops[o]->index[d].term_count; q++)
                in_op[n->ops[o]->index[d].rank[q]] = true;
        if (Lin->inst > 1) memset(wk->first_active, 0, sizeof(uint64_t) * (size_t)Lin->inst);
        uint64_t own = 0;
        for (uint64_t i = 0; i < Lin->inst; i++) {
            if (!wk->active[i]) continue;
            const int64_t *lo = &wk->ranges[2 * i * (uint64_t)R], *hi = lo + R;
            /* PEs of one group see the same words of this operand */
            uint64_t *first = Lin->inst > 1 ? &wk->first_active[wk->canon[o][i]] : NULL;
            if (!first || !*first) {
                own = valid_points_own(wk, o, lo, hi);
                if (first) *first = own + 1;
            } else {
                own = *first - 1;
            }
            uint64_t cnt = own;
            for (int r = 0; r < R; r++)
                if (n->einsum->rank_used[r] && !in_op[r]) cnt *= (uint64_t)(hi[r] - lo[r]);
            uint64_t ki = wk->L[k].per_pe ? i : 0;
            wk->mac_cnt[i * (uint64_t)wk->ops + (uint64_t)o] = cnt;
            if (o == wk->out) wk->mac_own[i] = cnt ? own : 0;
            if (o == wk->out) {
                add(wk, &wk->L[k].updates[ki * (uint64_t)wk->ops + (uint64_t)o], cnt);
                add(wk, &wk->sch->res->ops, cnt);
            } else {
                add(wk, &wk->L[k].reads[ki * (uint64_t)wk->ops + (uint64_t)o], cnt);
            }
        }
    }
}

/* Hops of one step's streamed words: one per PE served on a bus;
 * otherwise each served PE's distance from the corner. */
static uint64_t stream_hops(walker *wk, int o, const int64_t *tbase, uint64_t served) {
    const ef_nest *n = wk->n;
    if (n->noc->topology == EF_NOC_MULTICAST) return served;
    if (served == wk->used_pes) return wk->all_pe_hops; /* no edge here */
    uint64_t hops = 0;
    for (uint64_t i = 0; i < wk->used_pes; i++) {
        int64_t x[EF_MAX_RANKS];
        bool ok = true;
        for (int r = 0; r < wk->w->rank_count && ok; r++) {
            x[r] = tbase[r] + wk->off[i][r];
            ok = !n->einsum->rank_used[r] || x[r] < (int64_t)wk->w->rank_bounds[r];
        }
        if (ok && ef_operand_word(wk->w, n->ops[o], x) >= 0) hops += hop_distance(wk, i);
    }
    return hops;
}

/* Distinct stored indices and (PE, index) pairs of one operand dimension
 * over all PEs at this step: its ranks' temporal coordinates plus every
 * spatial offset, padding and bounds excluded. */
static void stream_dim(walker *wk, int o, int d, const int64_t *tbase, uint64_t *distinct,
                       uint64_t *combos) {
    const ef_operand *op = wk->n->ops[o];
    const ef_tensor *t = &wk->w->tensors[op->tensor];
    const ef_affine *a = &op->index[d];
    int64_t x[EF_MAX_RANKS] = {0};
    int64_t vmin = INT64_MAX, vmax = INT64_MIN;
    *distinct = *combos = 0;
    for (;;) {
        bool ok = true;
        int64_t v = a->constant - t->offset[d];
        for (int q = 0; q < a->term_count; q++) {
            int r = a->rank[q];
            int64_t xr = tbase[r] + wk->svals[r][x[q]];
            if (xr >= (int64_t)wk->w->rank_bounds[r]) ok = false;
            v += a->coef[q] * xr;
        }
        if (ok && v >= 0 && v < t->extent[d]) {
            uint64_t m = UINT64_C(1) << (v & 63);
            if (!(wk->stream_bits[v >> 6] & m)) {
                wk->stream_bits[v >> 6] |= m;
                (*distinct)++;
            }
            (*combos)++;
            if (v < vmin) vmin = v;
            if (v > vmax) vmax = v;
        }
        int q = a->term_count - 1;
        for (; q >= 0; q--) {
            if (++x[q] < wk->nsvals[a->rank[q]]) break;
            x[q] = 0;
        }
        if (q < 0) break;
    }
    if (*combos) /* leave the scratch clear for the next call */
        memset(&wk->stream_bits[vmin >> 6], 0,
               sizeof(uint64_t) * (size_t)((vmax >> 6) - (vmin >> 6) + 1));
}

void ef_walk_stream_dim(walker *wk, int o, int d, const int64_t *tbase, uint64_t *distinct,
                        uint64_t *combos) {
    const ef_affine *a = &wk->n->ops[o]->index[d];
    uint64_t key = 0;
    for (int q = 0; q < a->term_count; q++)
        key = key * wk->w->rank_bounds[a->rank[q]] + (uint64_t)tbase[a->rank[q]];
    uint64_t *memo = wk->stream_memo[o][d];
    if (memo && memo[2 * key]) {
        *distinct = memo[2 * key] - 1;
        *combos = memo[2 * key + 1];
        return;
    }
    stream_dim(wk, o, d, tbase, distinct, combos);
    if (memo) {
        memo[2 * key] = *distinct + 1;
        memo[2 * key + 1] = *combos;
    }
}

/* Operands a shared level streams into several PEs: per step, one read
 * serves every PE that needs the word (multicast or systolic
 * forwarding); outputs are reduced across PEs before one update. The
 * union over PEs is a product over dimensions (each rank sits in one
 * dimension and the PE grid is a product of spatial offsets), and each
 * dimension's share depends only on its own ranks' temporal
 * coordinates, so it is computed once per coordinate and remembered. */
void ef_walk_stream_counts(walker *wk, const int64_t *tbase, ef_stream_counts *c) {
    const ef_nest *n = wk->n;
    const ef_workload *w = wk->w;
    for (int o = 0; o < wk->ops; o++) {
        if (!wk->stream_op[o]) continue;
        const ef_operand *op = n->ops[o];
        uint64_t uni = 1, mult = 1;
        for (int r = 0; r < w->rank_count; r++) {
            if (!n->einsum->rank_used[r] || (wk->relmask[o] >> r & 1u)) continue;
            int64_t cnt = 0;
            for (int64_t sv = 0; sv < wk->nsvals[r]; sv++)
                cnt += tbase[r] + wk->svals[r][sv] < (int64_t)w->rank_bounds[r];
            mult *= (uint64_t)cnt;
        }
        for (int d = 0; d < op->dims && uni; d++) {
            uint64_t distinct, combos;
            ef_walk_stream_dim(wk, o, d, tbase, &distinct, &combos);
            uni *= distinct;
            mult *= combos;
        }
        if (!uni) mult = 0;
        /* without read sharing every delivery is a read of its own */
        uint64_t reads = wk->shares[o] ? uni : mult;
        add(wk, &c->keeper[o], o == wk->out ? uni : reads);
        if (o == wk->out) {
            add(wk, &c->ops, mult);
            add(wk, &c->reductions, mult - uni);
        } else {
            add(wk, &c->words_sent, reads);
            add(wk, &c->deliveries, mult);
        }
        add(wk, &c->hops[o], stream_hops(wk, o, tbase, mult));
    }
}

/* Is this step's update of each output word its first in the word's
 * visit of the keeper, when the tile's are first visits? Only where
 * every loop of the innermost level over a rank the output ignores is
 * at index 0 (the first point of the sub-odometer with those indices). */
static bool first_update_step(const walker *wk) {
    for (int p = wk->tl_begin[wk->nl - 1]; p < wk->tl_count; p++)
        if (wk->idx[p] && !(wk->relmask[wk->out] >> wk->n->loops[wk->tl[p]].rank & 1u))
            return false;
    return true;
}

/* Adds one step's streamed-operand counts to the counters and to the
 * tile's stream. */
void ef_walk_stream_step(walker *wk) {
    ef_stream_counts c;
    memset(&c, 0, sizeof c);
    ef_walk_stream_counts(wk, wk->tbase, &c);
    ef_noc_counters *noc = &wk->sch->res->noc;
    for (int o = 0; o < wk->ops; o++) {
        if (!wk->stream_op[o]) continue;
        int k = wk->n->op_keeper_mac[o];
        add(wk, o == wk->out ? &wk->L[k].updates[o] : &wk->L[k].reads[o], c.keeper[o]);
        add(wk, &wk->sw.keeper[o], c.keeper[o]);
        add(wk, o == wk->out ? &noc->words_returned : &noc->op_words_in[o], c.keeper[o]);
        if (o == wk->out && wk->tile_first && first_update_step(wk))
            add(wk, &wk->sw.first_updates, c.keeper[o]);
        add_hops(wk, o, c.hops[o]);
    }
    add(wk, &wk->sch->res->ops, c.ops);
    add(wk, &noc->reductions, c.reductions);
    add(wk, &noc->words_sent, c.words_sent);
    add(wk, &noc->deliveries, c.deliveries);
}

/* ---------- values ---------- */

/* Every PE's iteration point of this step, into its output keeper. */
void ef_walk_values_step(walker *wk) {
    const ef_nest *n = wk->n;
    const ef_workload *w = wk->w;
    const ef_einsum *e = n->einsum;
    int k = n->op_keeper_mac[wk->out];
    /* index of each operand dimension: this step's temporal part plus
     * each PE's precomputed spatial part */
    int64_t tpart[EF_NEST_MAX_OPS][EF_MAX_DIMS], limit[EF_MAX_RANKS];
    for (int o = 0; o < wk->ops; o++)
        for (int d = 0; d < n->ops[o]->dims; d++)
            tpart[o][d] = ef_affine_eval(&n->ops[o]->index[d], wk->tbase) -
                          w->tensors[n->ops[o]->tensor].offset[d];
    for (int r = 0; r < w->rank_count; r++)
        limit[r] = e->rank_used[r] ? (int64_t)w->rank_bounds[r] - wk->tbase[r] : INT64_MAX;
    for (uint64_t i = 0; i < wk->used_pes; i++) {
        bool ok = true;
        for (int r = 0; r < w->rank_count && ok; r++) ok = wk->off[i][r] < limit[r];
        if (!ok) continue;
        if (w->mask_key >= 0) {
            int64_t x[EF_MAX_RANKS];
            for (int r = 0; r < w->rank_count; r++) x[r] = wk->tbase[r] + wk->off[i][r];
            if (ef_point_masked(w, e, x)) continue;
        }
        double in[EF_NEST_MAX_OPS];
        int64_t out_word = 0;
        for (int o = 0; o < wk->ops; o++) {
            const ef_tensor *t = &w->tensors[n->ops[o]->tensor];
            const int64_t *sp = &wk->spart[(i * (uint64_t)wk->ops + (uint64_t)o) * EF_MAX_DIMS];
            int64_t flat = 0;
            for (int d = 0; d < n->ops[o]->dims && flat >= 0; d++) {
                int64_t v = tpart[o][d] + sp[d];
                flat = v < 0 || v >= t->extent[d] ? -1 : flat * t->extent[d] + v;
            }
            if (o == wk->out) out_word = flat;
            else in[o] = flat < 0 ? 0.0 : wk->V->data[n->ops[o]->tensor][flat];
        }
        double v = e->is_mac ? in[0] * in[1] : ef_einsum_eval(e, e->root, in);
        combine(wk, ef_walk_val(wk, k, i, (uint64_t)out_word), v);
        /* a recurrence's later points read this step from the tensor's
         * values, where the point that wrote it leaves it (the kept
         * copy still travels the levels and is what the check compares) */
        if (e->recurrence_input >= 0) wk->V->data[n->ops[wk->out]->tensor][out_word] = v;
    }
}
