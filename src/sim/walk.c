/* Pass 1's walker: the state both walks of the mapped nest share — the
 * loops in execution order and their odometer, the PEs' spatial
 * offsets, per-instance counters and the streaming memo — set up here,
 * folded into the result's counters at the end, and freed. The exact
 * walk (walk_exact.c) and the walk by classes of events (tiles.c) move
 * the odometer with it; what their events cost in time is walk_cost.c's;
 * schedule.c runs one of them. */
#include "sim/walk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ef_walk_limit(walker *wk, const char *fmt, ...) {
    if (wk->status == EF_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(wk->why, sizeof wk->why, fmt, ap);
        va_end(ap);
    }
    wk->status = EF_ERR_OVERFLOW;
}

void *ef_walk_calloc(walker *wk, uint64_t n, size_t sz) {
    if (wk->status != EF_OK) return NULL;
    if (n == 0) n = 1;
    if (n > (UINT64_C(1) << 32) / sz) { /* 4 GiB: a bigger need is a mistake */
        ef_walk_limit(wk, "a table of %llu entries of %zu bytes would exceed the 4 GiB one "
                          "allocation may take",
                      (unsigned long long)n, sz);
        return NULL;
    }
    void *p = ef_calloc((size_t)n, sz);
    if (!p) wk->status = EF_ERR_NOMEM;
    return p;
}

/* ---------- setup ---------- */

static void spatial_offsets(walker *wk) {
    const ef_nest *n = wk->n;
    wk->used_pes = n->rows_used * n->cols_used;
    wk->off = ef_walk_calloc(wk, wk->used_pes, sizeof *wk->off);
    if (!wk->off) return;
    for (uint64_t i = 0; i < wk->used_pes; i++) {
        uint64_t row = i / n->cols_used, col = i % n->cols_used;
        /* rows then cols, each list outermost first: peel innermost */
        for (int j = n->loop_count - 1; j >= 0; j--) {
            const ef_loop *lp = &n->loops[j];
            if (lp->kind == EF_LOOP_TEMPORAL) continue;
            uint64_t *digit = lp->kind == EF_LOOP_ROWS ? &row : &col;
            wk->off[i][lp->rank] += (int64_t)((*digit % lp->factor) * lp->stride);
            *digit /= lp->factor;
        }
    }
    for (int o = 0; o < n->op_count; o++) {
        bool rel[EF_MAX_RANKS] = {false};
        for (int d = 0; d < n->ops[o]->dims; d++)
            for (int k = 0; k < n->ops[o]->index[d].term_count; k++)
                rel[n->ops[o]->index[d].rank[k]] = true;
        for (int r = 0; r < EF_MAX_RANKS; r++)
            if (rel[r]) wk->relmask[o] |= UINT32_C(1) << r;
        wk->canon[o] = ef_walk_calloc(wk, wk->used_pes, sizeof(uint64_t));
        if (!wk->canon[o]) return;
        for (uint64_t i = 0; i < wk->used_pes; i++) {
            uint64_t row = i / n->cols_used, col = i % n->cols_used;
            uint64_t crow = 0, ccol = 0, wrow = 1, wcol = 1;
            for (int j = n->loop_count - 1; j >= 0; j--) {
                const ef_loop *lp = &n->loops[j];
                if (lp->kind == EF_LOOP_TEMPORAL) continue;
                bool is_row = lp->kind == EF_LOOP_ROWS;
                uint64_t *digit = is_row ? &row : &col;
                uint64_t dv = rel[lp->rank] ? *digit % lp->factor : 0;
                *digit /= lp->factor;
                if (is_row) { crow += dv * wrow; wrow *= lp->factor; }
                else { ccol += dv * wcol; wcol *= lp->factor; }
            }
            wk->canon[o][i] = crow * n->cols_used + ccol;
        }
    }
    wk->first_active = ef_walk_calloc(wk, wk->used_pes, sizeof(uint64_t));
    wk->ranges = ef_walk_calloc(wk, wk->used_pes * 2 * EF_MAX_RANKS, sizeof(int64_t));
    wk->active = ef_walk_calloc(wk, wk->used_pes, sizeof(bool));
    for (int r = 0; r < wk->w->rank_count; r++) {
        uint64_t cnt = 1;
        for (int j = 0; j < n->loop_count; j++)
            if (n->loops[j].kind != EF_LOOP_TEMPORAL && n->loops[j].rank == r)
                cnt *= n->loops[j].factor;
        wk->svals[r] = ef_walk_calloc(wk, cnt, sizeof(int64_t));
        if (!wk->svals[r]) return;
        uint64_t k = 0;
        for (uint64_t i = 0; i < wk->used_pes; i++) {
            bool dup = false;
            for (uint64_t q = 0; q < k && !dup; q++) dup = wk->svals[r][q] == wk->off[i][r];
            if (!dup && k < cnt) wk->svals[r][k++] = wk->off[i][r];
        }
        wk->nsvals[r] = (int64_t)k;
    }
}

/* State both walks need: loops, offsets, counters, streaming memo and
 * the generation lists. */
ef_status ef_walk_setup(walker *wk) {
    const ef_nest *n = wk->n;
    wk->nl = n->level_count;
    wk->ops = n->op_count;
    wk->out = n->out_op;
    spatial_offsets(wk);
    for (int j = 0; j < n->loop_count; j++)
        if (n->loops[j].kind == EF_LOOP_TEMPORAL) wk->tl[wk->tl_count++] = j;
    for (int l = 0; l <= wk->nl; l++) {
        int p = 0;
        while (p < wk->tl_count && n->loops[wk->tl[p]].level < l) p++;
        wk->tl_begin[l] = p;
    }
    for (int l = 0; l < wk->nl && wk->status == EF_OK; l++) {
        lvl_state *L = &wk->L[l];
        L->per_pe = n->arch->levels[l].per_pe;
        L->inst = L->per_pe ? wk->used_pes : 1;
        uint64_t cells = L->inst * (uint64_t)wk->ops;
        L->reads = ef_walk_calloc(wk, cells, sizeof(uint64_t));
        L->fills = ef_walk_calloc(wk, cells, sizeof(uint64_t));
        L->updates = ef_walk_calloc(wk, cells, sizeof(uint64_t));
        L->empty = ef_walk_calloc(wk, cells, sizeof(uint64_t));
        L->used = ef_walk_calloc(wk, L->inst, sizeof(bool));
    }
    for (int o = 0; o < wk->ops; o++) {
        int k = n->op_keeper_mac[o];
        wk->stream_op[o] = !n->arch->levels[k].per_pe && wk->used_pes > 1;
        wk->shares[o] = o == wk->out || ef_noc_shares_reads(n, o);
    }
    ef_ports_of(n, &wk->ports);
    uint64_t lin_inst = wk->L[wk->nl - 1].inst;
    wk->mac_cnt = ef_walk_calloc(wk, lin_inst * (uint64_t)wk->ops, sizeof(uint64_t));
    wk->mac_own = ef_walk_calloc(wk, lin_inst, sizeof(uint64_t));
    for (uint64_t i = 0; i < wk->used_pes; i++) wk->all_pe_hops += hop_distance(wk, i);
    int64_t widest_extent = 1;
    for (int o = 0; o < wk->ops; o++) {
        if (!wk->stream_op[o]) continue;
        const ef_operand *op = n->ops[o];
        for (int d = 0; d < op->dims; d++) {
            const ef_tensor *t = &wk->w->tensors[op->tensor];
            if (t->extent[d] > widest_extent) widest_extent = t->extent[d];
            uint64_t keys = 1;
            for (int q = 0; q < op->index[d].term_count && keys <= (UINT64_C(1) << 22); q++)
                keys *= wk->w->rank_bounds[op->index[d].rank[q]];
            /* a dimension with too many coordinates is recomputed instead */
            if (keys <= (UINT64_C(1) << 22))
                wk->stream_memo[o][d] = ef_walk_calloc(wk, 2 * keys, sizeof(uint64_t));
        }
    }
    wk->stream_bits = ef_walk_calloc(wk, (uint64_t)(widest_extent + 63) / 64 + 1, sizeof(uint64_t));
    for (int l = 1; l < wk->nl && wk->status == EF_OK; l++) {
        /* the generations' storage grows as they come (runs, not one
         * record each); the product of the loops above only bounds
         * their number */
        uint64_t cap = 1;
        for (int p = 0; p < wk->tl_begin[l] && cap < UINT64_MAX; p++)
            if (!ef_mul_u64(cap, n->loops[wk->tl[p]].factor, &cap)) cap = UINT64_MAX;
        wk->sch->gens[l].limit = cap < UINT64_MAX ? cap + 1 : UINT64_MAX;
    }
    return wk->status;
}

/* ---------- footprints ---------- */

/* Sum of the strides of the loops above level l: where its tile starts. */
void ef_walk_level_base(const walker *wk, int l, int64_t *base) {
    const ef_nest *n = wk->n;
    for (int r = 0; r < wk->w->rank_count; r++) base[r] = 0;
    for (int p = 0; p < wk->tl_begin[l]; p++) {
        const ef_loop *lp = &n->loops[wk->tl[p]];
        base[lp->rank] += (int64_t)(wk->idx[p] * lp->stride);
    }
}

bool ef_walk_first_visit(const walker *wk, int l) {
    for (int p = 0; p < wk->tl_begin[l]; p++) {
        const ef_loop *lp = &wk->n->loops[wk->tl[p]];
        if (wk->idx[p] && !(wk->relmask[wk->out] >> lp->rank & 1u)) return false;
    }
    return true;
}

/* Advances the temporal odometer from loop position p outwards (the
 * positions inside p are the caller's); returns the outermost position
 * that changed, or -1 when the nest is done. A loop whose new index
 * starts beyond its rank's bound has only empty tiles below it: it is
 * carried over at once, which is how imperfect factors shorten loops. */
int ef_walk_carry(walker *wk, int p) {
    const ef_nest *n = wk->n;
    for (; p >= 0; p--) {
        const ef_loop *lp = &n->loops[wk->tl[p]];
        wk->tbase[lp->rank] -= (int64_t)(wk->idx[p] * lp->stride);
        wk->idx[p]++;
        if (wk->idx[p] < lp->factor) {
            wk->tbase[lp->rank] += (int64_t)(wk->idx[p] * lp->stride);
            if (wk->tbase[lp->rank] < (int64_t)wk->w->rank_bounds[lp->rank]) return p;
            wk->tbase[lp->rank] -= (int64_t)(wk->idx[p] * lp->stride);
        }
        wk->idx[p] = 0;
    }
    return -1;
}

int ef_walk_level_of_change(const walker *wk, int p) {
    int l = 1;
    while (l < wk->nl && wk->tl_begin[l] <= p) l++;
    return l; /* levels l.. have loops entirely below position p */
}

/* The counters of the result from the walk's per-instance ones: totals,
 * the busiest instance, and the reads of the output from its updates. */
void ef_walk_finish(walker *wk) {
    const ef_nest *n = wk->n;
    ef_result *res = wk->sch->res;
    for (int l = 0; l < wk->nl; l++) {
        lvl_state *L = &wk->L[l];
        ef_level_counters *lc = &res->levels[l];
        for (int o = 0; o < wk->ops; o++) {
            ef_tensor_counters *c = &lc->ops[o];
            if (!n->levels[l].keeps[o]) continue;
            for (uint64_t i = 0; i < L->inst; i++) {
                uint64_t at = AT(L, i, o);
                uint64_t rd = L->reads[at];
                if (o == wk->out) {
                    /* a read precedes every update but the first write of
                     * each word visit that started empty */
                    uint64_t upd = L->updates[at], emp = L->empty[at];
                    rd = upd > emp ? upd - emp : 0;
                }
                add(wk, &c->reads, rd);
                add(wk, &c->fills, L->fills[at]);
                add(wk, &c->updates, L->updates[at]);
                if (rd > c->max_reads) c->max_reads = rd;
                if (L->fills[at] > c->max_fills) c->max_fills = L->fills[at];
                if (L->updates[at] > c->max_updates) c->max_updates = L->updates[at];
                if (L->used[i] && (rd || L->fills[at] || L->updates[at] || l == 0))
                    c->utilized_instances++;
            }
            c->utilized_words = L->max_words[o];
        }
    }
    for (int l = 1; l < wk->nl; l++) res->generations[l] = wk->sch->gens[l].count;
    res->generations[0] = 1;
}

/* Frees what setup and the walks allocated (the counters are in the
 * result by then). */
void ef_walk_free(walker *wk) {
    for (int l = 0; l < EF_MAX_LEVELS; l++) {
        lvl_state *L = &wk->L[l];
        free(L->store[0]); free(L->store[1]); free(L->pcur); free(L->pnxt);
        free(L->was_active);
        free(L->reads); free(L->fills);
        free(L->updates); free(L->empty); free(L->seen); free(L->val); free(L->home_val); free(L->val_key); free(L->val_held); free(L->val_hint); free(L->used);
    }
    for (int o = 0; o < EF_NEST_MAX_OPS; o++) free(wk->stamp[o]);
    for (int o = 0; o < EF_NEST_MAX_OPS; o++) free(wk->canon[o]);
    free(wk->first_active);
    free(wk->ranges);
    free(wk->active);
    for (int r = 0; r < EF_MAX_RANKS; r++) free(wk->svals[r]);
    free(wk->off);
    free(wk->bitpool);
    free(wk->inst_bytes);
    free(wk->spart);
    free(wk->mac_cnt);
    free(wk->held);
    free(wk->mac_own);
    free(wk->stream_bits);
    for (int o = 0; o < EF_NEST_MAX_OPS; o++)
        for (int d = 0; d < EF_MAX_DIMS; d++) free(wk->stream_memo[o][d]);
    for (int q = 0; q < 3; q++)
        for (int d = 0; d < EF_MAX_DIMS; d++) free(wk->lists[q][d]);
}
