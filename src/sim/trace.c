/* Pass 1: walk the mapped nest tile generation by tile generation.
 *
 * A level's tile changes whenever a loop above it advances ("event").
 * At an event every instance compares its new footprint with the one
 * it holds: words it lacks are fills (read from the nearest outer
 * keeper, once per word for all PEs that need it in that delivery),
 * output words it no longer holds drain to the parent (reduced across
 * the PEs that share them). Work is proportional to tiles and their
 * footprints, not to MACs, except for operands that stream from a
 * shared level into many PEs, which are counted step by step.
 *
 * Order inside one event (why): drains run innermost level first so a
 * child's partial sums reach the parent before the parent writes its
 * own tile back; fills run outermost first so a child fetches from the
 * parent's new tile. */
#include "sim/walk.h"

#include <math.h>
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
    void *p = calloc((size_t)n, sz);
    if (!p) wk->status = EF_ERR_NOMEM;
    return p;
}


/* Starts a new round of word marks. The marks are 32-bit: when they wrap,
 * every stamp is cleared so an old mark can never pass for a new one. */
static void next_event(walker *wk) {
    wk->event_seq++;
    if (++wk->event_id != 0) return;
    for (int o = 0; o < wk->ops; o++)
        if (wk->stamp[o])
            memset(wk->stamp[o], 0,
                   sizeof(uint32_t) * (size_t)wk->w->tensors[wk->n->ops[o]->tensor].words);
    wk->event_id = 1;
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
static ef_status setup(walker *wk) {
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
    ef_demand none;
    memset(&none, 0, sizeof none);
    (void)ef_walk_xfer(wk, &none); /* index 0: the free transfer */
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
        wk->t->gens[l].limit = cap < UINT64_MAX ? cap + 1 : UINT64_MAX;
    }
    return wk->status;
}

/* State of the exact walk only: every instance's footprints, word marks,
 * the bitmap of output words ever held, and values. */
static ef_status setup_exact(walker *wk) {
    const ef_nest *n = wk->n;
    /* bit storage for every footprint dimension, sized by tile spans */
    uint64_t pool_words = 0;
    for (int l = 0; l < wk->nl; l++) {
        lvl_state *L = &wk->L[l];
        for (int o = 0; o < wk->ops; o++)
            for (int d = 0; d < n->ops[o]->dims; d++) {
                int64_t cap = ef_dimset_capacity(&n->ops[o]->index[d], n->levels[l].tile_span);
                pool_words += 2 * L->inst * (uint64_t)((cap + 63) / 64);
            }
    }
    wk->bitpool = ef_walk_calloc(wk, pool_words, sizeof(uint64_t));
    int64_t widest = 1;
    for (int l = 0; l < wk->nl; l++)
        for (int o = 0; o < wk->ops; o++)
            for (int d = 0; d < n->ops[o]->dims; d++) {
                int64_t cap = ef_dimset_capacity(&n->ops[o]->index[d], n->levels[l].tile_span);
                if (cap > widest) widest = cap;
            }
    for (int q = 0; q < 3; q++)
        for (int d = 0; d < EF_MAX_DIMS; d++)
            wk->lists[q][d] = ef_walk_calloc(wk, (uint64_t)widest + 64, sizeof(int64_t));
    uint64_t *bp = wk->bitpool;
    for (int l = 0; l < wk->nl && wk->status == EF_OK; l++) {
        lvl_state *L = &wk->L[l];
        uint64_t cells = L->inst * (uint64_t)wk->ops;
        L->store[0] = ef_walk_calloc(wk, cells, sizeof(footprint));
        L->store[1] = ef_walk_calloc(wk, cells, sizeof(footprint));
        L->was_active = ef_walk_calloc(wk, L->inst, sizeof(bool));
        L->pcur = ef_walk_calloc(wk, cells, sizeof(footprint *));
        L->pnxt = ef_walk_calloc(wk, cells, sizeof(footprint *));
        if (wk->status != EF_OK) break;
        for (uint64_t c = 0; c < cells; c++) L->pcur[c] = &wk->empty_fp;
        for (uint64_t c = 0; c < cells; c++) {
            int o = (int)(c % (uint64_t)wk->ops);
            for (int d = 0; d < n->ops[o]->dims; d++) {
                int64_t cap = ef_dimset_capacity(&n->ops[o]->index[d], n->levels[l].tile_span);
                uint64_t words = (uint64_t)((cap + 63) / 64);
                for (int b = 0; b < 2; b++) {
                    L->store[b][c].d[d].bits = bp;
                    bp += words;
                    L->store[b][c].d[d].cap_bits = cap;
                }
            }
        }
        if (n->levels[l].keeps[wk->out]) {
            uint64_t words = wk->w->tensors[n->ops[wk->out]->tensor].words;
            L->seen = ef_walk_calloc(wk, (words + 7) / 8, 1);
            /* one table per instance: PEs sharing an output word hold
             * separate partial sums until the NoC reduces them */
            if (wk->V) ef_walk_values_alloc(wk, l);
        }
    }
    for (int o = 0; o < wk->ops; o++)
        if (wk->used_pes > 1 || o == wk->out)
            wk->stamp[o] = ef_walk_calloc(wk, wk->w->tensors[n->ops[o]->tensor].words,
                                   sizeof(uint32_t));
    if (wk->used_pes > 1)
        wk->held = ef_walk_calloc(wk, wk->w->tensors[n->ops[wk->out]->tensor].words,
                                  sizeof(uint32_t));
    wk->inst_bytes = ef_walk_calloc(wk, wk->used_pes, sizeof(uint64_t));
    if (wk->V) {
        wk->spart = ef_walk_calloc(wk, wk->used_pes * (uint64_t)wk->ops * EF_MAX_DIMS, sizeof(int64_t));
        for (uint64_t i = 0; wk->spart && i < wk->used_pes; i++)
            for (int o = 0; o < wk->ops; o++)
                for (int d = 0; d < n->ops[o]->dims; d++) {
                    const ef_affine *a = &n->ops[o]->index[d];
                    int64_t v = 0;
                    for (int q = 0; q < a->term_count; q++) v += a->coef[q] * wk->off[i][a->rank[q]];
                    wk->spart[(i * (uint64_t)wk->ops + (uint64_t)o) * EF_MAX_DIMS + d] = v;
                }
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

static void tile_range(const walker *wk, int l, uint64_t i, const int64_t *base,
                       int64_t *lo, int64_t *hi) {
    const ef_nest *n = wk->n;
    for (int r = 0; r < wk->w->rank_count; r++) {
        int64_t b = base[r] + (wk->L[l].per_pe ? wk->off[i][r] : 0);
        int64_t bound = (int64_t)wk->w->rank_bounds[r];
        lo[r] = b;
        hi[r] = b + (int64_t)n->levels[l].tile_span[r];
        if (hi[r] > bound) hi[r] = bound;
        if (lo[r] > hi[r]) lo[r] = hi[r];
    }
}

static void build_fp(walker *wk, footprint *f, int o, const int64_t *lo,
                     const int64_t *hi) {
    const ef_operand *op = wk->n->ops[o];
    const ef_tensor *t = &wk->w->tensors[op->tensor];
    bool empty = false;
    for (int r = 0; r < wk->w->rank_count; r++)
        if (wk->n->einsum->rank_used[r] && hi[r] <= lo[r]) empty = true;
    f->words = empty ? 0 : 1;
    for (int d = 0; d < op->dims; d++) {
        if (empty) { f->d[d].n = 0; f->d[d].count = 0; continue; }
        ef_dimset_build(&f->d[d], &op->index[d], lo, hi, t->offset[d], t->extent[d]);
        f->words *= f->d[d].count;
    }
}

static uint64_t fp_intersect(const walker *wk, int o, const footprint *a,
                             const footprint *b) {
    if (!a->words || !b->words) return 0;
    uint64_t v = 1;
    for (int d = 0; d < wk->n->ops[o]->dims; d++) v *= ef_dimset_intersect(&a->d[d], &b->d[d]);
    return v;
}


/* Members of s in order, split by membership in other (NULL: none are):
 * all of them, those in other, those not in other. Scans whole words. */
static void list_members(const ef_dimset *s, const ef_dimset *other, int64_t *all,
                         int64_t *in, int64_t *out, int64_t n[3]) {
    n[0] = n[1] = n[2] = 0;
    int64_t words = (s->n + 63) >> 6;
    for (int64_t wi = 0; wi < words; wi++) {
        uint64_t bits = s->bits[wi];
        while (bits) {
            int64_t v = s->lo + (wi << 6) + __builtin_ctzll(bits);
            bits &= bits - 1;
            all[n[0]++] = v;
            if (other && ef_dimset_has(other, v)) in[n[1]++] = v;
            else out[n[2]++] = v;
        }
    }
}

/* Calls fn for every word of a that is not in b (b may be NULL), in time
 * proportional to the words visited: A \ B for products A and B is the
 * disjoint union over d of (A_0∩B_0) x ... x (A_d \ B_d) x A_{d+1} x ... */
typedef void (*word_fn)(walker *wk, int o, uint64_t word, void *ctx);
static void fp_each_minus(walker *wk, int o, const footprint *a,
                          const footprint *b, word_fn fn, void *ctx) {
    const ef_operand *op = wk->n->ops[o];
    const ef_tensor *t = &wk->w->tensors[op->tensor];
    int dims = op->dims;
    if (!a->words) return;
    if (b && !b->words) b = NULL;
    int parts = b ? dims : 1;
    if (dims == 0) {
        if (!b) fn(wk, o, 0, ctx);
        return;
    }
    /* per dimension: every member, those also in b, those not in b */
    int64_t cnt[EF_MAX_DIMS][3];
    for (int j = 0; j < dims; j++)
        list_members(&a->d[j], b ? &b->d[j] : NULL, wk->lists[0][j], wk->lists[1][j],
                     wk->lists[2][j], cnt[j]);
    for (int d = 0; d < parts; d++) {
        /* part d: dims before d in both, dim d only in a, the rest any */
        const int64_t *list[EF_MAX_DIMS];
        int64_t n[EF_MAX_DIMS];
        bool empty = false;
        for (int j = 0; j < dims && !empty; j++) {
            int which = !b ? 0 : j < d ? 1 : j == d ? 2 : 0;
            list[j] = wk->lists[which][j];
            n[j] = cnt[j][which];
            empty = n[j] == 0;
        }
        if (empty) continue;
        int64_t k[EF_MAX_DIMS] = {0};
        for (;;) {
            uint64_t flat = 0;
            for (int j = 0; j < dims; j++)
                flat = flat * (uint64_t)t->extent[j] + (uint64_t)list[j][k[j]];
            fn(wk, o, flat, ctx);
            int j = dims - 1;
            for (; j >= 0; j--) {
                if (++k[j] < n[j]) break;
                k[j] = 0;
            }
            if (j < 0) break;
        }
    }
}

/* ---------- drains and fills ---------- */


typedef struct {
    int l, parent;
    uint64_t inst, parent_inst;
    uint64_t unique;   /* words not yet marked in this event           */
    uint64_t partial;  /* of those, words another instance still holds */
    bool held_marked;  /* mark_held ran for this drain                 */
    uint64_t fills_i, empty_i, parent_reads;
} word_ctx;

static bool mark(walker *wk, int o, uint64_t word) {
    if (wk->stamp[o][word] == wk->event_id) return false;
    wk->stamp[o][word] = wk->event_id;
    return true;
}




/* Values follow the hardware: a drained partial sum is combined into
 * the parent (which holds the identity unless another PE of the same
 * reduction group drained earlier), and a returning partial sum moves
 * down into one PE of the group, leaving the identity behind. */
static void on_drain_word(walker *wk, int o, uint64_t word, void *vctx) {
    word_ctx *x = vctx;
    if (wk->V) {
        double v = ef_walk_val_take(wk, x->l, x->inst, word);
        combine(wk, ef_walk_val(wk, x->parent, x->parent_inst, word), v);
    }
    bool shared_parent = !wk->L[x->parent].per_pe;
    if (shared_parent && wk->L[x->l].inst > 1 && !mark(wk, o, word)) return;
    x->unique++;
    if (x->held_marked && wk->held[word] == wk->held_id) x->partial++;
}

static void on_held_word(walker *wk, int o, uint64_t word, void *vctx) {
    (void)o;
    (void)vctx;
    wk->held[word] = wk->held_id;
}

/* Marks the output words some instance of level l holds after the
 * event: a word drained from part of its reduction group while another
 * PE keeps it is combined with the rest on arrival at the parent. */
static void mark_held(walker *wk, int l) {
    lvl_state *L = &wk->L[l];
    int o = wk->out;
    if (++wk->held_id == 0) {
        memset(wk->held, 0,
               sizeof(uint32_t) * (size_t)wk->w->tensors[wk->n->ops[o]->tensor].words);
        wk->held_id = 1;
    }
    const footprint *last = NULL;
    for (uint64_t i = 0; i < L->inst; i++) {
        const footprint *f = L->pnxt[AT(L, i, o)];
        if (f == last || !f->words) continue; /* PEs of a group share one */
        last = f;
        fp_each_minus(wk, o, f, NULL, on_held_word, NULL);
    }
}

static void on_enter_out(walker *wk, int o, uint64_t word, void *vctx) {
    word_ctx *x = vctx;
    lvl_state *L = &wk->L[x->l];
    bool first_in_group = mark(wk, o, word);
    uint8_t bit = (uint8_t)(1u << (word & 7));
    if (first_in_group && (L->seen[word >> 3] & bit)) {
        x->fills_i++;
        x->parent_reads++;
        if (wk->V) {
            double *up = ef_walk_val(wk, x->parent, x->parent_inst, word);
            double moved = *up;
            *up = identity(wk);
            *ef_walk_val(wk, x->l, x->inst, word) = moved;
        }
    } else {
        x->empty_i++;
        if (first_in_group) L->seen[word >> 3] |= bit;
        if (wk->V) *ef_walk_val(wk, x->l, x->inst, word) = identity(wk);
    }
}

static void on_enter_in(walker *wk, int o, uint64_t word, void *vctx) {
    word_ctx *x = vctx;
    if (mark(wk, o, word)) x->parent_reads++;
}

static uint64_t bytes_of(walker *wk, int o, uint64_t words) {
    return ef_words_to_bytes(words, wk->w->tensors[wk->n->ops[o]->tensor].bits);
}

static void drain_level(walker *wk, int l, bool final) {
    const ef_nest *n = wk->n;
    lvl_state *L = &wk->L[l];
    int o = wk->out;
    if (!n->levels[l].keeps[o] || (!final && L->unchanged[o])) return;
    int p = n->levels[l].parent[o];
    if (p < 0) return;
    next_event(wk);
    uint64_t total = 0, unique_all = 0, partial_all = 0, max_inst = 0;
    bool reduce = !wk->L[p].per_pe && L->inst > 1;
    bool held_marked = reduce && !final;
    if (held_marked) mark_held(wk, l);
    for (uint64_t i = 0; i < L->inst; i++) {
        footprint *cur = L->pcur[AT(L, i, o)];
        footprint *nxt = final ? NULL : L->pnxt[AT(L, i, o)];
        uint64_t leaving = cur->words - (nxt ? fp_intersect(wk, o, cur, nxt) : 0);
        if (!leaving) continue;
        uint64_t pi = wk->L[p].per_pe ? i : 0;
        word_ctx x = {.l = l, .parent = p, .inst = i, .parent_inst = pi,
                      .held_marked = held_marked};
        /* words need listing only to reduce them across PEs or to move
         * values; otherwise the count is all there is to know */
        if (wk->V) {
            fp_each_minus(wk, o, cur, nxt, on_drain_word, &x);
        } else if (!wk->L[p].per_pe && L->inst > 1) {
            /* a group listed already in this event has nothing new */
            if (cur->listed_event != wk->event_seq || cur->listed_against != nxt) {
                cur->listed_event = wk->event_seq;
                cur->listed_against = nxt;
                fp_each_minus(wk, o, cur, nxt, on_drain_word, &x);
            }
        } else {
            x.unique = leaving;
        }
        add(wk, &wk->L[p].updates[pi * (uint64_t)wk->ops + (uint64_t)o], x.unique);
        /* partial sums leaving the PEs travel the network back */
        if (L->per_pe && !wk->L[p].per_pe) add_hops(wk, o, leaving * hop_distance(wk, i));
        total += leaving;
        unique_all += x.unique;
        partial_all += x.partial;
        if (leaving > max_inst) max_inst = leaving;
    }
    if (!wk->L[p].per_pe && L->inst > 1) {
        add(wk, &wk->t->res->noc.reductions, total - unique_all);
    }
    if (L->per_pe && !wk->L[p].per_pe) add(wk, &wk->t->res->noc.words_returned, unique_all);
    wk->ev_drain_bytes[l] += bytes_of(wk, o, unique_all);
    wk->ev_partial_bytes[l] += bytes_of(wk, o, partial_all);
    wk->ev_inst_drain_bytes[l] += bytes_of(wk, o, max_inst);
}

static void fill_level(walker *wk, int l) {
    const ef_nest *n = wk->n;
    lvl_state *L = &wk->L[l];
    bool crosses_noc = L->per_pe && !wk->L[l - 1].per_pe;
    uint64_t max_inst_bytes = 0;
    memset(wk->inst_bytes, 0, sizeof(uint64_t) * (size_t)L->inst);
    for (int o = 0; o < wk->ops; o++) {
        if (!n->levels[l].keeps[o] || L->unchanged[o]) continue;
        int p = n->levels[l].parent[o];
        bool shared_parent = !wk->L[p].per_pe && L->inst > 1;
        bool unicast = !wk->shares[o];
        next_event(wk);
        uint64_t parent_reads_total = 0, deliveries = 0;
        for (uint64_t i = 0; i < L->inst; i++) {
            footprint *cur = L->pcur[AT(L, i, o)], *nxt = L->pnxt[AT(L, i, o)];
            uint64_t entering = nxt->words - fp_intersect(wk, o, nxt, cur);
            if (nxt->words > L->max_words[o]) L->max_words[o] = nxt->words;
            if (nxt->words) L->used[i] = true;
            if (!entering) continue;
            uint64_t pi = wk->L[p].per_pe ? i : 0;
            word_ctx x = {.l = l, .parent = p, .inst = i, .parent_inst = pi};
            bool listed = !wk->V && nxt->listed_event == wk->event_seq &&
                          nxt->listed_against == cur;
            if (!listed) {
                nxt->listed_event = wk->event_seq;
                nxt->listed_against = cur;
            }
            if (o == wk->out) {
                /* a group listed already: every word was claimed by its
                 * first PE, the others start empty */
                if (listed) x.empty_i = entering;
                else fp_each_minus(wk, o, nxt, cur, on_enter_out, &x);
                add(wk, &L->empty[AT(L, i, o)], x.empty_i);
            } else if (shared_parent && !unicast) {
                if (!listed) fp_each_minus(wk, o, nxt, cur, on_enter_in, &x);
                x.fills_i = entering;
            } else {
                x.fills_i = x.parent_reads = entering;
            }
            add(wk, &L->fills[AT(L, i, o)], x.fills_i);
            add(wk, &wk->L[p].reads[pi * (uint64_t)wk->ops + (uint64_t)o], x.parent_reads);
            parent_reads_total += x.parent_reads;
            deliveries += x.fills_i;
            wk->inst_bytes[i] += bytes_of(wk, o, x.fills_i);
            if (crosses_noc) add_hops(wk, o, x.fills_i * hop_distance(wk, i));
        }
        wk->ev_src_bytes[l][p] += bytes_of(wk, o, parent_reads_total);
        if (crosses_noc) {
            add(wk, &wk->t->res->noc.words_sent, parent_reads_total);
            add(wk, &wk->t->res->noc.op_words_in[o], parent_reads_total);
            add(wk, &wk->t->res->noc.deliveries, deliveries);
        }
    }
    for (uint64_t i = 0; i < L->inst; i++)
        if (wk->inst_bytes[i] > max_inst_bytes) max_inst_bytes = wk->inst_bytes[i];
    wk->ev_inst_fill_bytes[l] = max_inst_bytes;
}

uint32_t ef_walk_xfer(walker *wk, const ef_demand *d) {
    ef_xfer x;
    ef_timing_cost(&wk->ports, d, &x);
    uint32_t id = 0;
    ef_status st = ef_xfer_intern(&wk->t->xfers, &x, &id);
    if (st != EF_OK) wk->status = st;
    return id;
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* A per-PE parent's busiest instance sends at most what this level's
 * busiest instance takes in; a shared one sends all of it. */
uint32_t ef_walk_drain_xfer(walker *wk, int l, uint64_t drain_bytes, uint64_t inst_drain_bytes,
                            uint64_t partial_bytes) {
    int p = wk->n->levels[l].parent[wk->out];
    if (p < 0 || (!drain_bytes && !inst_drain_bytes)) return 0;
    ef_demand d;
    memset(&d, 0, sizeof d);
    bool pe_parent = wk->L[p].per_pe;
    d.bytes[ef_res_write(p)] = pe_parent ? min_u64(drain_bytes, inst_drain_bytes) : drain_bytes;
    d.bytes[ef_res_read(l)] = inst_drain_bytes;
    d.bytes[ef_res_read(p)] = partial_bytes;
    if (wk->L[l].per_pe && !pe_parent) d.bytes[EF_RES_NOC_OUT] = drain_bytes;
    return ef_walk_xfer(wk, &d);
}

void ef_walk_gen_cost(walker *wk, int l, const uint64_t *src_bytes,
                      uint64_t inst_fill_bytes, uint64_t drain_bytes,
                      uint64_t inst_drain_bytes, uint64_t partial_bytes, ef_gen_cost *gc) {
    gc->drain = ef_walk_drain_xfer(wk, l, drain_bytes, inst_drain_bytes, partial_bytes);
    ef_demand d;
    memset(&d, 0, sizeof d);
    d.waits_latency = true;
    for (int q = 0; q < l; q++) {
        if (!src_bytes[q]) continue;
        d.bytes[ef_res_read(q)] = wk->L[q].per_pe ? min_u64(src_bytes[q], inst_fill_bytes)
                                                  : src_bytes[q];
        /* words from a shared level into a per-PE one cross the network */
        if (wk->L[l].per_pe && !wk->L[q].per_pe) d.bytes[EF_RES_NOC_IN] += src_bytes[q];
    }
    d.bytes[ef_res_write(l)] = inst_fill_bytes;
    gc->fill = ef_walk_xfer(wk, &d);
    gc->stream = 0;
}

void ef_walk_push_gen(walker *wk, int l, const ef_gen_cost *gc) {
    ef_gen_list *gl = &wk->t->gens[l];
    ef_status st = ef_gens_push(gl, wk->step, l >= 2 ? wk->cur_gen[l - 1] : 0, gc);
    if (st == EF_ERR_OVERFLOW)
        ef_walk_limit(wk, "level %s: the store of its tile generations would exceed 4 GiB "
                          "(%llu runs of %llu generations)",
                      wk->n->arch->levels[l].name, (unsigned long long)gl->nruns,
                      (unsigned long long)gl->count);
    else if (st != EF_OK)
        wk->status = st;
    wk->cur_gen[l] = gl->count - 1;
}

void ef_walk_record_gen(walker *wk, int l) {
    ef_gen_cost gc;
    ef_walk_gen_cost(wk, l, wk->ev_src_bytes[l], wk->ev_inst_fill_bytes[l],
                     wk->ev_drain_bytes[l], wk->ev_inst_drain_bytes[l], wk->ev_partial_bytes[l],
                     &gc);
    wk->ev_drain_bytes[l] = wk->ev_inst_drain_bytes[l] = wk->ev_partial_bytes[l] = 0;
    for (int q = 0; q < l; q++) wk->ev_src_bytes[l][q] = 0;
    ef_walk_push_gen(wk, l, &gc);
}

bool ef_walk_first_visit(const walker *wk, int l) {
    for (int p = 0; p < wk->tl_begin[l]; p++) {
        const ef_loop *lp = &wk->n->loops[wk->tl[p]];
        if (wk->idx[p] && !(wk->relmask[wk->out] >> lp->rank & 1u)) return false;
    }
    return true;
}

/* ---------- the walk ---------- */

/* Does a change of the loops at positions carry.. above level l move
 * the tiles of tensor o? Only if one of them walks a rank o depends on. */
static bool loops_move(const walker *wk, int l, int o, int carry) {
    if (carry < 0) return true;
    for (int q = carry; q < wk->tl_begin[l]; q++)
        if (wk->relmask[o] >> wk->n->loops[wk->tl[q]].rank & 1u) return true;
    return false;
}

static void event(walker *wk, int from_level, int carry) {
    const ef_nest *n = wk->n;
    /* new footprints of every level whose tile changes */
    for (int l = from_level; l < wk->nl; l++) {
        lvl_state *L = &wk->L[l];
        int R = wk->w->rank_count;
        int64_t base[EF_MAX_RANKS];
        ef_walk_level_base(wk, l, base);
        for (uint64_t i = 0; i < L->inst; i++) {
            int64_t *lo = &wk->ranges[2 * i * (uint64_t)R], *hi = lo + R;
            tile_range(wk, l, i, base, lo, hi);
            bool active = true;
            for (int r = 0; r < R; r++)
                if (n->einsum->rank_used[r] && hi[r] <= lo[r]) active = false;
            wk->active[i] = active;
        }
        bool activity_moved = carry < 0;
        for (uint64_t i = 0; i < L->inst; i++) {
            activity_moved |= wk->active[i] != L->was_active[i];
            L->was_active[i] = wk->active[i];
        }
        for (int o = 0; o < wk->ops; o++) {
            if (!n->levels[l].keeps[o]) continue;
            /* tiles that cannot have moved are neither rebuilt nor
             * compared: the common case of a stationary tensor */
            L->unchanged[o] = !activity_moved && !loops_move(wk, l, o, carry);
            if (L->unchanged[o]) {
                for (uint64_t i = 0; i < L->inst; i++)
                    L->pnxt[AT(L, i, o)] = L->pcur[AT(L, i, o)];
                continue;
            }
            footprint *fresh = L->store[1 - L->curbuf[o]];
            if (L->inst > 1) memset(wk->first_active, 0, sizeof(uint64_t) * (size_t)L->inst);
            for (uint64_t i = 0; i < L->inst; i++) {
                const int64_t *lo = &wk->ranges[2 * i * (uint64_t)R], *hi = lo + R;
                uint64_t at = AT(L, i, o);
                if (!wk->active[i]) {
                    L->pnxt[at] = &wk->empty_fp;
                    continue;
                }
                /* active PEs that differ only in ranks the tensor ignores
                 * hold the same tile: build it once per group (values
                 * mode keeps one per PE: their partial sums differ) */
                uint64_t *first = L->inst > 1 && !wk->V ? &wk->first_active[wk->canon[o][i]] : NULL;
                if (first && *first) {
                    L->pnxt[at] = L->pnxt[AT(L, *first - 1, o)];
                    continue;
                }
                if (first) *first = i + 1;
                build_fp(wk, &fresh[at], o, lo, hi);
                fresh[at].listed_event = 0;
                L->pnxt[at] = &fresh[at];
            }
            L->curbuf[o] = 1 - L->curbuf[o];
        }
    }
    int first_real = from_level < 1 ? 1 : from_level;
    for (int l = wk->nl - 1; l >= first_real; l--) drain_level(wk, l, false);
    for (int l = first_real; l < wk->nl; l++) fill_level(wk, l);
    if (from_level == 0) {
        /* the outermost level holds every tensor from the start */
        lvl_state *L0 = &wk->L[0];
        for (int o = 0; o < wk->ops; o++) {
            footprint *f = L0->pnxt[o];
            L0->max_words[o] = f->words;
            if (o == wk->out) {
                L0->empty[o] = f->words;
                if (wk->V)
                    for (uint64_t q = 0; q < wk->w->tensors[n->ops[o]->tensor].words; q++)
                        L0->val[q] = identity(wk);
            }
        }
        L0->used[0] = true;
    }
    for (int l = from_level; l < wk->nl; l++) {
        lvl_state *L = &wk->L[l];
        footprint **ptmp = L->pcur;
        L->pcur = L->pnxt;
        L->pnxt = ptmp;
    }
    /* the innermost tile that ends here: its steps' stream is known
     * now that they have been walked */
    int lin = wk->nl - 1;
    if (lin >= 1) ef_gens_set_open_stream(&wk->t->gens[lin], ef_walk_stream_demand(wk, wk->tile_first));
    for (int l = first_real; l < wk->nl; l++) {
        ef_walk_record_gen(wk, l);
    }
    ef_walk_mac_block(wk);
    memset(&wk->sw, 0, sizeof wk->sw);
    wk->tile_first = ef_walk_first_visit(wk, lin);
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

static void finish_counters(walker *wk) {
    const ef_nest *n = wk->n;
    ef_result *res = wk->t->res;
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
    for (int l = 1; l < wk->nl; l++) res->generations[l] = wk->t->gens[l].count;
    res->generations[0] = 1;
}

/* The exact walk: every event compares every instance's footprints word
 * by word where it must; every step is visited (values, streamed operands). */
static void walk_exact(walker *wk) {
    int from = 0, carry = -1;
    for (;;) {
        event(wk, from, carry);
        /* one step = one temporal point, all PEs at once */
        for (;;) {
            for (int o = 0; o < wk->ops; o++)
                if (wk->stream_op[o]) {
                    ef_walk_stream_step(wk);
                    break;
                }
            if (wk->V) ef_walk_values_step(wk);
            wk->step++;
            int p = ef_walk_carry(wk, wk->tl_count - 1);
            if (p < 0) { from = -1; break; }
            int l = ef_walk_level_of_change(wk, p);
            if (l < wk->nl) {
                from = l;
                carry = p;
                break;
            }
        }
        if (from < 0 || wk->status != EF_OK) break;
    }
    uint32_t last = ef_walk_stream_demand(wk, wk->tile_first);
    if (wk->nl >= 2) ef_gens_set_open_stream(&wk->t->gens[wk->nl - 1], last);
    else wk->t->whole_stream = last;
    /* final write-back of every output still held below the top */
    for (int l = wk->nl - 1; l >= 1 && wk->status == EF_OK; l--) drain_level(wk, l, true);
}

ef_status ef_trace_run(ef_trace *t, ef_values *values, ef_diags *diags) {
    walker wkv;
    walker *wk = &wkv;
    memset(wk, 0, sizeof *wk);
    wk->t = t;
    wk->n = t->n;
    wk->w = t->n->workload;
    wk->V = values;
    ef_status st = setup(wk);
    if (st == EF_OK && values) st = setup_exact(wk);
    if (st == EF_OK) {
        if (values) walk_exact(wk);
        else ef_walk_tiles(wk);
        t->steps = wk->step;
        /* the last generation of each level writes back what the final
         * write-back counted, and ends with the last step */
        for (int l = 1; l < wk->nl && wk->status == EF_OK; l++) {
            uint32_t c = ef_walk_drain_xfer(wk, l, wk->ev_drain_bytes[l],
                                            wk->ev_inst_drain_bytes[l], wk->ev_partial_bytes[l]);
            ef_status cst = ef_gens_close(&t->gens[l], t->steps, c);
            if (cst != EF_OK) wk->status = cst;
        }
        finish_counters(wk);
        if (wk->V) {
            const ef_tensor *ot = &wk->w->tensors[wk->n->ops[wk->out]->tensor];
            memcpy(wk->V->data[wk->n->ops[wk->out]->tensor], wk->L[0].val,
                   sizeof(double) * (size_t)ot->words);
        }
        st = wk->status;
    }
    if (st == EF_ERR_OVERFLOW)
        ef_diags_add(diags, t->n->arch->file, 0, 0, "", NULL, NULL,
                     "this mapping hits a limit of the simulator: %s",
                     wk->why[0] ? wk->why : "a 64-bit count would overflow");
    else if (st == EF_ERR_NOMEM)
        ef_diags_add(diags, t->n->arch->file, 0, 0, "", NULL, NULL, "out of memory");
    for (int l = 0; l < EF_MAX_LEVELS; l++) {
        lvl_state *L = &wk->L[l];
        free(L->store[0]); free(L->store[1]); free(L->pcur); free(L->pnxt);
        free(L->was_active);
        free(L->reads); free(L->fills);
        free(L->updates); free(L->empty); free(L->seen); free(L->val); free(L->val_key); free(L->val_held); free(L->val_hint); free(L->used);
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
    return st;
}

void ef_trace_free(ef_trace *t) {
    for (int l = 0; l < EF_MAX_LEVELS; l++) {
        free(t->gens[l].runs);
        free(t->gens[l].shapes);
    }
    ef_xfer_set_free(&t->xfers);
}
