/* Pass 1, exactly: walk the mapped nest tile generation by tile
 * generation, comparing every instance's footprints word by word where
 * it must and visiting every step (for --check-values, which moves real
 * values, and to check the walk by classes, tiles.c).
 *
 * A level's tile changes whenever a loop above it advances ("event").
 * At an event every instance compares its new footprint with the one
 * it holds: words it lacks are fills (read from the nearest outer
 * keeper, once per word for all PEs that need it in that delivery),
 * output words it no longer holds drain to the parent (reduced across
 * the PEs that share them).
 *
 * Order inside one event (why): drains run innermost level first so a
 * child's partial sums reach the parent before the parent writes its
 * own tile back; fills run outermost first so a child fetches from the
 * parent's new tile. */
#include "sim/walk.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


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

/* State of the exact walk only: every instance's footprints, word marks,
 * the bitmap of output words ever held, and values. */
ef_status ef_walk_setup_exact(walker *wk) {
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
            if (wk->V && l > 0 && L->val_slots && n->levels[l].parent[wk->out] < 0) {
                L->home_val = ef_walk_calloc(wk, words, sizeof(double));
                for (uint64_t q = 0; L->home_val && q < words; q++) L->home_val[q] = NAN;
            }
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

/* A finished word leaving a per-PE first home: each word of a fused
 * intermediate is in one PE only (model/fuse.c: the loops above the
 * level, spatial ones too, walk only its ranks), complete. */
static void on_home_word(walker *wk, int o, uint64_t word, void *vctx) {
    (void)o;
    word_ctx *x = vctx;
    wk->L[x->l].home_val[word] = ef_walk_val_take(wk, x->l, x->inst, word);
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
        assert(x->parent >= 0); /* a first home never sees a word twice */
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
    if (p < 0) {
        /* a first home keeps its words; a per-PE one keeps only its
         * tile, so the finished words it replaces move to home_val */
        if (!L->home_val) return;
        for (uint64_t i = 0; i < L->inst; i++) {
            footprint *cur = L->pcur[AT(L, i, o)];
            footprint *nxt = final ? NULL : L->pnxt[AT(L, i, o)];
            if (!cur->words) continue;
            word_ctx x = {.l = l, .parent = -1, .inst = i};
            fp_each_minus(wk, o, cur, nxt, on_home_word, &x);
        }
        return;
    }
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
        add(wk, &wk->sch->res->noc.reductions, total - unique_all);
    }
    if (L->per_pe && !wk->L[p].per_pe) add(wk, &wk->sch->res->noc.words_returned, unique_all);
    wk->ev_drain_bytes[l] += bytes_of(wk, o, unique_all);
    wk->ev_partial_bytes[l] += bytes_of(wk, o, partial_all);
    wk->ev_inst_drain_bytes[l] += bytes_of(wk, o, max_inst);
}

/* A new tile at the level that is a tensor's first home: an
 * intermediate of a fused cascade (model/fuse.c), which its producer
 * writes here. Its words arrive without a fill; an output's start
 * empty, and never come back (fusion keeps each tile whole). */
static void first_home(walker *wk, int l, int o) {
    lvl_state *L = &wk->L[l];
    next_event(wk);
    for (uint64_t i = 0; i < L->inst; i++) {
        footprint *cur = L->pcur[AT(L, i, o)], *nxt = L->pnxt[AT(L, i, o)];
        uint64_t entering = nxt->words - fp_intersect(wk, o, nxt, cur);
        if (nxt->words > L->max_words[o]) L->max_words[o] = nxt->words;
        if (nxt->words) L->used[i] = true;
        if (!entering || o != wk->out) continue;
        word_ctx x = {.l = l, .parent = -1, .inst = i, .parent_inst = 0};
        fp_each_minus(wk, o, nxt, cur, on_enter_out, &x);
        add(wk, &L->empty[AT(L, i, o)], x.empty_i);
    }
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
        if (p < 0) {
            first_home(wk, l, o);
            continue;
        }
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
            add(wk, &wk->sch->res->noc.words_sent, parent_reads_total);
            add(wk, &wk->sch->res->noc.op_words_in[o], parent_reads_total);
            add(wk, &wk->sch->res->noc.deliveries, deliveries);
        }
    }
    for (uint64_t i = 0; i < L->inst; i++)
        if (wk->inst_bytes[i] > max_inst_bytes) max_inst_bytes = wk->inst_bytes[i];
    wk->ev_inst_fill_bytes[l] = max_inst_bytes;
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
            if (!n->levels[0].keeps[o]) continue; /* an on-chip intermediate */
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
    if (lin >= 1) ef_gens_set_open_stream(&wk->sch->gens[lin], ef_walk_stream_demand(wk, wk->tile_first));
    for (int l = first_real; l < wk->nl; l++) {
        ef_walk_record_gen(wk, l);
    }
    ef_walk_mac_block(wk);
    memset(&wk->sw, 0, sizeof wk->sw);
    wk->tile_first = ef_walk_first_visit(wk, lin);
}

/* The exact walk: every event compares every instance's footprints word
 * by word where it must; every step is visited (values, streamed operands). */
void ef_walk_exact(walker *wk) {
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
    if (wk->nl >= 2) ef_gens_set_open_stream(&wk->sch->gens[wk->nl - 1], last);
    else wk->sch->whole_stream = last;
    /* final write-back of every output still held below the top */
    for (int l = wk->nl - 1; l >= 1 && wk->status == EF_OK; l--) drain_level(wk, l, true);
}
