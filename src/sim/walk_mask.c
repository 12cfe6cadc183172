/* Pass 1 under a causal mask (docs/model.md section 1, "Causal
 * masking"): a masked iteration point is not computed. The array runs
 * in lockstep, so its step and cycle stay, and so does every tile
 * transfer (a tile moves whole): the schedule the walk built is kept
 * as it is. But the point's MAC is clock-gated: it is no op, reads no
 * operand at the level that meets the MACs and writes no partial sum
 * there. Both walks count every point; this pass takes the masked ones
 * out of the counters at the MACs afterwards, in closed form.
 *
 * Why per PE and not per tile: what the MACs read and write is summed
 * over the run per instance of the keeper, and a PE's points over the
 * run are a product over ranks of value sets (its temporal bases plus
 * its spatial offset, below the bound). The masked ones among them are
 * a product of the other ranks' sets and a triangle count over the key
 * and query sets (key > query + offset). Two counts depend on more than
 * the points: an operand streamed with one read for every PE that
 * needs a word in a step (the read goes only when some PE needing it
 * is unmasked), and the partial sums' first writes (a word visit that
 * started empty has no read before its first unmasked update; a visit
 * with none writes nothing). Both are closed forms too, below. */
#include "sim/walk.h"

#include <assert.h>
#include <stdlib.h>

typedef struct {
    int64_t *v;                   /* sorted values                      */
    uint64_t n;
} vset;

typedef struct {
    walker *wk;
    int key, query;               /* the mask's ranks                   */
    int64_t off;                  /* masked: key > query + off          */
    int64_t bound[EF_MAX_RANKS];
    vset T[EF_MAX_RANKS];         /* each used rank's temporal bases    */
    uint64_t *pairs;              /* [key offset][query offset] memo of
                                   * masked_pairs + 1, 0 unknown: PEs
                                   * share offsets                      */
} masker;

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Values of rank r's temporal digits at positions from.. (those before
 * at 0) that lie below the bound: the walk's bases, sorted. */
static void digit_values(masker *m, int r, int from, vset *out) {
    walker *wk = m->wk;
    const ef_loop *lp[EF_MAX_LOOPS];
    int k = 0;
    uint64_t combos = 1;
    for (int p = from; p < wk->tl_count; p++) {
        const ef_loop *l = &wk->n->loops[wk->tl[p]];
        if (l->rank != r || l->factor < 2) continue;
        lp[k++] = l;
        if (!ef_mul_u64(combos, l->factor, &combos) || combos > (UINT64_C(1) << 26)) {
            ef_walk_limit(wk, "rank %s has more than 2^26 temporal tiles under a causal mask",
                          wk->w->rank_names[r]);
            return;
        }
    }
    out->v = ef_walk_calloc(wk, combos, sizeof(int64_t));
    out->n = 0;
    if (!out->v) return;
    uint64_t idx[EF_MAX_LOOPS] = {0};
    for (;;) {
        int64_t v = 0;
        for (int q = 0; q < k; q++) v += (int64_t)(idx[q] * lp[q]->stride);
        if (v < m->bound[r]) out->v[out->n++] = v;
        int q = k - 1;
        while (q >= 0 && ++idx[q] == lp[q]->factor) idx[q--] = 0;
        if (q < 0) break;
    }
    qsort(out->v, (size_t)out->n, sizeof(int64_t), cmp_i64);
}

/* How many values of s lie below x. */
static uint64_t below(const vset *s, int64_t x) {
    uint64_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (s->v[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The largest value of s + shift below the bound b, or -1. */
static int64_t largest(const vset *s, int64_t shift, int64_t b) {
    uint64_t c = below(s, b - shift);
    return c ? s->v[c - 1] + shift : -1;
}

static bool in_op(const walker *wk, int o, int r) { return wk->relmask[o] >> r & 1u; }

/* The index of spatial offset v of rank r among the PEs' offsets. */
static int64_t offset_index(const walker *wk, int r, int64_t v) {
    int64_t s = 0;
    while (s < wk->nsvals[r] && wk->svals[r][s] != v) s++;
    return s;
}

/* Pairs (key, query) of the sets T[key] + ok and T[query] + oq, below
 * their bounds, with key > query + off; ok and oq are spatial offsets
 * of some PE. */
static uint64_t masked_pairs(const masker *m, int64_t ok, int64_t oq) {
    const walker *wk = m->wk;
    int64_t a = offset_index(wk, m->key, ok), b = offset_index(wk, m->query, oq);
    uint64_t *memo = NULL;
    if (m->pairs && a < wk->nsvals[m->key] && b < wk->nsvals[m->query]) {
        memo = &m->pairs[a * wk->nsvals[m->query] + b];
        if (*memo) return *memo - 1;
    }
    const vset *K = &m->T[m->key], *Q = &m->T[m->query];
    uint64_t nk = below(K, m->bound[m->key] - ok), total = 0;
    for (uint64_t j = 0; j < Q->n && Q->v[j] + oq < m->bound[m->query]; j++) {
        uint64_t upto = below(K, Q->v[j] + oq + m->off - ok + 1);
        if (upto < nk) total += nk - upto;
    }
    if (memo) *memo = total + 1;
    return total;
}

/* Whether operand o's dimension d has a stored index at x. */
static bool stored(const walker *wk, int o, int d, const int64_t *x) {
    const ef_tensor *t = &wk->w->tensors[wk->n->ops[o]->tensor];
    int64_t v = ef_affine_eval(&wk->n->ops[o]->index[d], x) - t->offset[d];
    return v >= 0 && v < t->extent[d];
}

static uint32_t dim_ranks(const walker *wk, int o, int d) {
    const ef_affine *a = &wk->n->ops[o]->index[d];
    uint32_t bits = 0;
    for (int q = 0; q < a->term_count; q++) bits |= UINT32_C(1) << a->rank[q];
    return bits;
}

/* Points of a PE (offsets po) over the ranks in `ranks`, counted where
 * every dimension in `dims` of operand o is stored and, if masked_only,
 * the point is masked. Only for padded dimensions: small ranges. */
static uint64_t enumerate(const masker *m, int o, uint32_t ranks, uint32_t dims, bool masked_only,
                          const int64_t *po) {
    const walker *wk = m->wk;
    int rs[EF_MAX_RANKS], k = 0;
    uint64_t j[EF_MAX_RANKS] = {0}, lim[EF_MAX_RANKS];
    for (int r = 0; r < wk->w->rank_count; r++) {
        if (!(ranks >> r & 1u)) continue;
        lim[k] = below(&m->T[r], m->bound[r] - po[r]);
        if (!lim[k]) return 0;
        rs[k++] = r;
    }
    int64_t x[EF_MAX_RANKS] = {0};
    uint64_t cnt = 0;
    for (;;) {
        for (int q = 0; q < k; q++) x[rs[q]] = m->T[rs[q]].v[j[q]] + po[rs[q]];
        bool ok = !masked_only || x[m->key] > x[m->query] + m->off;
        for (int d = 0; d < wk->n->ops[o]->dims && ok; d++)
            if (dims >> d & 1u) ok = stored(wk, o, d, x);
        cnt += ok;
        int q = k - 1;
        while (q >= 0 && ++j[q] == lim[q]) j[q--] = 0;
        if (q < 0) break;
    }
    return cnt;
}

/* A PE's masked points that use operand o (its stored words: padding
 * left out), with multiplicity over the ranks o ignores. */
static uint64_t masked_points(const masker *m, int o, const int64_t *po) {
    const walker *wk = m->wk;
    const ef_operand *op = wk->n->ops[o];
    const ef_tensor *t = &wk->w->tensors[op->tensor];
    uint32_t padded = 0;
    for (int d = 0; d < op->dims; d++)
        if (t->pad[d]) padded |= UINT32_C(1) << d;
    /* the padded dimensions that share ranks with the mask's are
     * counted together with it */
    uint32_t cranks = (UINT32_C(1) << m->key) | (UINT32_C(1) << m->query), cdims = 0;
    for (bool grew = true; grew;) {
        grew = false;
        for (int d = 0; d < op->dims; d++)
            if ((padded >> d & 1u) && !(cdims >> d & 1u) && (dim_ranks(wk, o, d) & cranks)) {
                cdims |= UINT32_C(1) << d;
                cranks |= dim_ranks(wk, o, d);
                grew = true;
            }
    }
    uint64_t total = cdims ? enumerate(m, o, cranks, cdims, true, po)
                           : masked_pairs(m, po[m->key], po[m->query]);
    uint32_t covered = cranks;
    for (int d = 0; d < op->dims && total; d++) {
        if (!(padded >> d & 1u) || (cdims >> d & 1u)) continue;
        total *= enumerate(m, o, dim_ranks(wk, o, d), UINT32_C(1) << d, false, po);
        covered |= dim_ranks(wk, o, d);
    }
    for (int r = 0; r < wk->w->rank_count && total; r++)
        if (wk->n->einsum->rank_used[r] && !(covered >> r & 1u))
            total *= below(&m->T[r], m->bound[r] - po[r]);
    return total;
}

static void take(uint64_t *c, uint64_t v) {
    assert(*c >= v); /* a masked count is part of the count it leaves */
    *c = *c >= v ? *c - v : 0;
}

/* ---------- operands streamed with shared reads ---------- */

/* The dimension of o that rank r indexes alone, -1 if o ignores r, -2
 * if r is in an expression with others. */
static int plain_dim(const walker *wk, int o, int r) {
    const ef_operand *op = wk->n->ops[o];
    for (int d = 0; d < op->dims; d++) {
        const ef_affine *a = &op->index[d];
        for (int q = 0; q < a->term_count; q++)
            if (a->rank[q] == r) return a->term_count == 1 ? d : -2;
    }
    return -1;
}

/* One step's key or query values over the PEs (temporal base t), below
 * the bound and, in dimension d of o (d >= 0), stored. */
static int64_t step_values(const masker *m, int r, int64_t t, int o, int d, int64_t *out) {
    const walker *wk = m->wk;
    int64_t x[EF_MAX_RANKS] = {0}, k = 0;
    for (int64_t s = 0; s < wk->nsvals[r]; s++) {
        x[r] = t + wk->svals[r][s];
        if (x[r] < m->bound[r] && (d < 0 || stored(wk, o, d, x))) out[k++] = x[r];
    }
    return k;
}

/* The words of a streamed operand o summed over the steps that only
 * masked points need: no read goes for them (for the output, no
 * update). A step's words are a product over o's dimensions (as in
 * ef_walk_stream_counts); the word's key and query values decide
 * whether all PEs that need it are masked, and o's other dimensions
 * and the ranks it ignores only multiply. */
static uint64_t stream_masked_words(masker *m, int o) {
    walker *wk = m->wk;
    const ef_operand *op = wk->n->ops[o];
    int dk = plain_dim(wk, o, m->key), dq = plain_dim(wk, o, m->query);
    if (dk == -2 || dq == -2 || (dk >= 0 && dk == dq)) {
        ef_walk_limit(wk, "a causal mask on an operand streamed to the PEs whose index "
                          "combines the masked ranks with others");
        return 0;
    }
    uint64_t total = 1;
    for (int d = 0; d < op->dims && total; d++) {
        if (d == dk || d == dq) continue;
        /* sum over this dimension's ranks' bases of its distinct words */
        const ef_affine *a = &op->index[d];
        uint64_t j[EF_MAX_DIMS] = {0}, sum = 0;
        int64_t tb[EF_MAX_RANKS] = {0};
        bool none = false;
        for (int q = 0; q < a->term_count; q++) none |= m->T[a->rank[q]].n == 0;
        while (!none) {
            for (int q = 0; q < a->term_count; q++) tb[a->rank[q]] = m->T[a->rank[q]].v[j[q]];
            uint64_t distinct, combos;
            ef_walk_stream_dim(wk, o, d, tb, &distinct, &combos);
            sum += distinct;
            int q = a->term_count - 1;
            while (q >= 0 && ++j[q] == m->T[a->rank[q]].n) j[q--] = 0;
            if (q < 0) break;
        }
        total *= none ? 0 : sum;
    }
    for (int r = 0; r < wk->w->rank_count; r++)
        if (wk->n->einsum->rank_used[r] && !in_op(wk, o, r) && r != m->key && r != m->query)
            total *= m->T[r].n;
    if (!total) return 0;
    int64_t *ks = ef_walk_calloc(wk, (uint64_t)wk->nsvals[m->key], sizeof(int64_t));
    int64_t *qs = ef_walk_calloc(wk, (uint64_t)wk->nsvals[m->query], sizeof(int64_t));
    uint64_t pairs = 0;
    for (uint64_t a = 0; ks && qs && a < m->T[m->key].n; a++) {
        int64_t nk = step_values(m, m->key, m->T[m->key].v[a], o, dk, ks);
        for (uint64_t b = 0; b < m->T[m->query].n; b++) {
            int64_t nq = step_values(m, m->query, m->T[m->query].v[b], o, dq, qs);
            if (!nk || !nq) continue;
            /* values come in increasing order of spatial offset, not
             * sorted: scan for the extremes */
            int64_t kmin = INT64_MAX, qmax = INT64_MIN;
            for (int64_t s = 0; s < nk; s++) kmin = ks[s] < kmin ? ks[s] : kmin;
            for (int64_t s = 0; s < nq; s++) qmax = qs[s] > qmax ? qs[s] : qmax;
            if (dk >= 0 && dq >= 0) { /* the word fixes both */
                for (int64_t s = 0; s < nk; s++)
                    for (int64_t u = 0; u < nq; u++) pairs += ks[s] > qs[u] + m->off;
            } else if (dq >= 0) {     /* all its PEs' keys past its query */
                for (int64_t u = 0; u < nq; u++) pairs += kmin > qs[u] + m->off;
            } else if (dk >= 0) {
                for (int64_t s = 0; s < nk; s++) pairs += ks[s] > qmax + m->off;
            } else {
                pairs += kmin > qmax + m->off;
            }
        }
    }
    free(ks);
    free(qs);
    return total * pairs;
}

/* ---------- partial sums: visits that start empty ---------- */

/* The output words of one instance of its innermost keeper (a PE with
 * offsets po, or the shared keeper: po NULL, every value) whose visit
 * with the reduced ranks at base ub has no unmasked point: such a
 * visit started empty but writes nothing, so it saves no read. A visit
 * runs the reduced ranks' digits free below the outermost loop that
 * moves the output (F), from ub plus the PE's offset or, shared, plus
 * any. */
static uint64_t dead_visits(const masker *m, const vset *F, const int64_t *po,
                            const int64_t *ub) {
    const walker *wk = m->wk;
    const int out = wk->out;
    const int R = wk->w->rank_count;
    int64_t vmin[EF_MAX_RANKS], vmax[EF_MAX_RANKS];
    for (int r = 0; r < R; r++) {
        if (!wk->n->einsum->rank_used[r] || in_op(wk, out, r)) continue;
        vmin[r] = INT64_MAX;
        vmax[r] = -1;
        int64_t ns = po ? 1 : wk->nsvals[r];
        for (int64_t s = 0; s < ns; s++) {
            int64_t shift = ub[r] + (po ? po[r] : wk->svals[r][s]);
            if (shift >= m->bound[r]) continue;
            if (shift < vmin[r]) vmin[r] = shift;
            int64_t hi = largest(&F[r], shift, m->bound[r]);
            if (hi > vmax[r]) vmax[r] = hi;
        }
        if (vmax[r] < 0) return 0; /* this instance has no point here */
    }
    /* how many values of an output rank the instance holds */
    uint64_t words = 1;
    for (int r = 0; r < R && words; r++)
        if (wk->n->einsum->rank_used[r] && in_op(wk, out, r) && r != m->key && r != m->query)
            words *= po ? below(&m->T[r], m->bound[r] - po[r]) : (uint64_t)m->bound[r];
    bool hk = in_op(wk, out, m->key), hq = in_op(wk, out, m->query);
    int64_t bk = m->bound[m->key], bq = m->bound[m->query];
    uint64_t c = 0;
    if (hk && hq) {
        if (po) {
            c = masked_pairs(m, po[m->key], po[m->query]);
        } else {
            for (int64_t q = 0; q < bq; q++) {
                int64_t from = q + m->off + 1 > 0 ? q + m->off + 1 : 0;
                if (from < bk) c += (uint64_t)(bk - from);
            }
        }
    } else if (hq) { /* the query values below min key - off */
        int64_t lim = vmin[m->key] - m->off;
        if (po) c = below(&m->T[m->query], (lim < bq ? lim : bq) - po[m->query]);
        else c = lim <= 0 ? 0 : (uint64_t)(lim < bq ? lim : bq);
    } else if (hk) { /* the key values past max query + off */
        int64_t from = vmax[m->query] + m->off + 1;
        if (po) {
            uint64_t all = below(&m->T[m->key], bk - po[m->key]);
            uint64_t low = below(&m->T[m->key], from - po[m->key]);
            c = all > low ? all - low : 0;
        } else {
            c = from < 0 ? (uint64_t)bk : from < bk ? (uint64_t)(bk - from) : 0;
        }
    } else {
        c = vmin[m->key] > vmax[m->query] + m->off;
    }
    return words * c;
}

/* Word visits of the output at its innermost keeper that started empty
 * and have no unmasked point: taken out of `empty`, so that the reads
 * stay updates - visits that started empty and were written. Empty
 * starts are the first visits, and, at a per-PE keeper, a revisit at
 * every PE of a reduction group but its first active one (the returning
 * partial sum enters once; docs/model.md section 3), or at every PE if
 * the keeper is the output's first home (nothing comes back to it). */
static void empty_visits(masker *m) {
    walker *wk = m->wk;
    const ef_nest *n = wk->n;
    const int out = wk->out, R = wk->w->rank_count;
    int k = n->op_keeper_mac[out];
    lvl_state *Lk = &wk->L[k];
    int jstar = -1;
    for (int p = 0; p < wk->tl_begin[k]; p++) {
        const ef_loop *lp = &n->loops[wk->tl[p]];
        if (lp->factor > 1 && in_op(wk, out, lp->rank)) jstar = p;
    }
    vset F[EF_MAX_RANKS];
    memset(F, 0, sizeof F);
    for (int r = 0; r < R && wk->status == EF_OK; r++)
        if (n->einsum->rank_used[r] && !in_op(wk, out, r)) digit_values(m, r, jstar + 1, &F[r]);
    int64_t ub[EF_MAX_RANKS] = {0};
    if (wk->status == EF_OK && !Lk->per_pe) {
        take(&Lk->empty[out], dead_visits(m, F, NULL, ub));
    } else if (wk->status == EF_OK) {
        for (uint64_t i = 0; i < Lk->inst; i++)
            take(&Lk->empty[AT(Lk, i, out)], dead_visits(m, F, wk->off[i], ub));
        /* revisits: the reduced ranks' digits at or above jstar */
        const ef_loop *lp[EF_MAX_LOOPS];
        int nl = 0;
        for (int p = 0; p <= jstar; p++) {
            const ef_loop *l = &n->loops[wk->tl[p]];
            if (l->factor > 1 && n->einsum->rank_used[l->rank] && !in_op(wk, out, l->rank))
                lp[nl++] = l;
        }
        bool all_empty = n->levels[k].parent[out] < 0;
        uint64_t idx[EF_MAX_LOOPS] = {0};
        uint64_t *claimed = nl ? ef_walk_calloc(wk, Lk->inst, sizeof(uint64_t)) : NULL;
        while (claimed) {
            int q = nl - 1; /* the next revisit: the first (all 0) is done */
            while (q >= 0 && ++idx[q] == lp[q]->factor) idx[q--] = 0;
            if (q < 0) break;
            bool valid = true;
            memset(ub, 0, sizeof ub);
            for (int s = 0; s < nl; s++) ub[lp[s]->rank] += (int64_t)(idx[s] * lp[s]->stride);
            for (int r = 0; r < R; r++) valid &= ub[r] < m->bound[r];
            if (!valid) continue;
            memset(claimed, 0, sizeof(uint64_t) * (size_t)Lk->inst);
            for (uint64_t i = 0; i < Lk->inst; i++) {
                bool active = true;
                for (int r = 0; r < R && active; r++)
                    if (n->einsum->rank_used[r])
                        active = below(&(in_op(wk, out, r) ? m->T : F)[r],
                                       m->bound[r] - ub[r] - wk->off[i][r]) > 0;
                if (!active) continue;
                uint64_t *g = &claimed[wk->canon[out][i]];
                if (!all_empty && !*g) {
                    *g = 1; /* the group's first active PE takes the fill */
                    continue;
                }
                take(&Lk->empty[AT(Lk, i, out)], dead_visits(m, F, wk->off[i], ub));
            }
        }
        free(claimed);
    }
    for (int r = 0; r < R; r++) free(F[r].v);
}

void ef_walk_unmask(walker *wk) {
    const ef_nest *n = wk->n;
    const ef_workload *w = wk->w;
    const ef_einsum *e = n->einsum;
    if (wk->status != EF_OK || w->mask_key < 0 || !e->rank_used[w->mask_key] ||
        !e->rank_used[w->mask_query])
        return;
    masker mv, *m = &mv;
    memset(m, 0, sizeof *m);
    m->wk = wk;
    m->key = w->mask_key;
    m->query = w->mask_query;
    m->off = w->mask_offset;
    for (int r = 0; r < w->rank_count; r++) m->bound[r] = (int64_t)w->rank_bounds[r];
    for (int r = 0; r < w->rank_count && wk->status == EF_OK; r++)
        if (e->rank_used[r]) digit_values(m, r, 0, &m->T[r]);
    m->pairs = ef_walk_calloc(wk, (uint64_t)(wk->nsvals[m->key] * wk->nsvals[m->query]),
                              sizeof(uint64_t));
    ef_result *res = wk->sch->res;
    ef_noc_counters *noc = &res->noc;
    uint64_t masked = 0, out_points = 0;
    for (uint64_t i = 0; i < wk->used_pes && wk->status == EF_OK; i++) {
        const int64_t *po = wk->off[i];
        for (int o = 0; o < wk->ops; o++) {
            uint64_t mp = masked_points(m, o, po);
            int k = n->op_keeper_mac[o];
            if (o == wk->out) {
                masked += mp;
                out_points += mp;
            }
            if (!mp) continue;
            if (!wk->stream_op[o]) {
                uint64_t at = (wk->L[k].per_pe ? i : 0) * (uint64_t)wk->ops + (uint64_t)o;
                take(o == wk->out ? &wk->L[k].updates[at] : &wk->L[k].reads[at], mp);
                continue;
            }
            /* streamed: each masked point was one delivery (and one
             * read where the network does not share them) */
            uint64_t hops = n->noc->topology == EF_NOC_MULTICAST ? mp : mp * hop_distance(wk, i);
            take(&noc->hops, hops);
            take(&noc->op_hops[o], hops);
            if (o == wk->out) continue;
            take(&noc->deliveries, mp);
            if (!wk->shares[o]) {
                take(&wk->L[k].reads[o], mp);
                take(&noc->words_sent, mp);
                take(&noc->op_words_in[o], mp);
            }
        }
    }
    for (int o = 0; o < wk->ops && wk->status == EF_OK; o++) {
        if (!wk->stream_op[o] || !wk->shares[o]) continue;
        int k = n->op_keeper_mac[o];
        uint64_t words = stream_masked_words(m, o);
        if (o == wk->out) {
            /* reduced in flight: one update per word a step still writes */
            take(&wk->L[k].updates[o], words);
            take(&noc->words_returned, words);
            take(&noc->reductions, out_points - words);
        } else {
            take(&wk->L[k].reads[o], words);
            take(&noc->words_sent, words);
            take(&noc->op_words_in[o], words);
        }
    }
    if (wk->status == EF_OK) empty_visits(m);
    if (wk->status == EF_OK) {
        take(&res->ops, masked);
        res->masked_ops = masked;
    }
    for (int r = 0; r < w->rank_count; r++) free(m->T[r].v);
    free(m->pairs);
}
