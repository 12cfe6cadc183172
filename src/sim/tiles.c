/* Pass 1 without values: tile generations by classes of events.
 *
 * The exact walk (trace.c) compares every instance's old and new
 * footprints at every event. Most events repeat an earlier one up to a
 * translation: the tile moved by the same amount, clipped the same way
 * by the rank bounds and the tensors' extents (padding). Such events
 * count exactly the same fills, reads, updates, deliveries, hops and
 * bytes, instance by instance, so this walk computes each class of
 * events once, remembers its counter increments, and counts how often
 * it occurs; the totals are multiplied out at the end.
 *
 * Why a class's outcome is determined by its key (make_key): every set
 * the counts are made of — an instance's footprint in one tensor
 * dimension, old and new, and at the innermost level the MACs' and
 * streamed operands' indices — is { expr(x) - offset : x in box } ∩
 * [0, extent), where the box of instance i is, per rank, [b + off_i,
 * min(b + off_i + span, bound)). Relative to the old base b, the boxes
 * depend only on the move t = b' - b and on bound - b and bound - b'
 * (which clip nothing once they exceed the farthest any instance's box
 * reaches), and each dimension's window is [-a(b), extent - a(b)) for
 * a(b) = expr(b) - offset (which cuts nothing once it lies beyond every
 * value the boxes can form). Two events with equal keys therefore see
 * the same sets shifted by the same amount per dimension; counts,
 * intersections and unions over instances are shift-invariant.
 *
 * The one count that depends on history is whether an output word that
 * enters a level is a returning partial sum (a fill) or a first visit
 * (starts empty). Outputs are indexed by plain ranks and tiles of one
 * level partition them, so a word is held at an event exactly when the
 * output ranks' loop indices above the level select its tile. The first
 * valid point of the loops above the level with given output indices is
 * the one with every other index 0 (it is valid: those ranks' bases are
 * 0). So the entering output words of an event are all first visits if
 * every loop above the level over a rank the output ignores is at index
 * 0, and all returning otherwise; the flag is part of the key.
 *
 * How one class is computed without listing words: instances are the
 * points of the PE grid, a product of spatial digits, and each digit's
 * rank indexes one dimension of a tensor or none. So the instances'
 * footprints of a tensor form a full product family over dimensions
 * ("slots", the last slot standing for the ranks the tensor ignores, a
 * one-point set when the instance is active in them): footprint(i) =
 * prod_d S_d(sig_d(i)). Sizes and intersections are products of per
 * slot sizes, and the union over instances of N_i \ C_i (what one
 * multicast read serves; for drains C_i \ N_i, what one update after the
 * reduction writes) is prod_d |U_d| - prod_d (|U_d| - |X_d|), with U_d
 * the union of the slot's new sets and X_d the union of new-minus-old:
 * a word is in it iff every dimension admits some signature holding it
 * and some dimension admits one holding it new but not old.
 *
 * Runs (run_length): the events that follow one event are often
 * increments of a single loop whose keys provably stay equal; they are
 * counted into the same classes without computing their keys.
 *
 * Block repeats (block_repeats): the same for a loop with loops inside
 * it. When a loop advances, the block of events it just finished (its
 * inner loops' whole sub-odometer) often provably repeats, event for
 * event and class for class, in the blocks that follow; they are
 * counted at once: their classes from a log of the classes each open
 * block saw, their generations as copies of the block's (runs, so a
 * copy of a block whose generations cost alike is a longer run). Cost
 * then grows with the blocks that differ, not with generations.
 *
 * Storage: a class is its key, its counter increments (pointers into
 * the walker's counters) and the bytes that make its generation's
 * cycles; the log keeps one entry per class for each closed block
 * inside the outermost loop's current one. The arenas double when a new class does not fit, which
 * happens once per class, never for a repeated event; past a budget,
 * new classes are applied at once and forgotten, so memory stays
 * bounded and the results stay the same. */
#include "sim/walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Key entries at most: level, flags, 3 per rank, 2 per operand dimension. */
#define KEY_MAX (2 + 3 * EF_MAX_RANKS + 2 * EF_NEST_MAX_OPS * EF_MAX_DIMS)
/* Class storage beyond which events are counted directly (no memory
 * growth, each event pays for its instances). Tests may build with a
 * budget of 0 (every event computed) or with EF_TILES_VERIFY (every
 * repeated event computed again and compared with its class). */
#ifndef EF_TILES_BUDGET_BYTES
#define EF_TILES_BUDGET_BYTES (UINT64_C(24) << 20)
#endif
#define CLASS_BUDGET_BYTES ((uint64_t)EF_TILES_BUDGET_BYTES)

/* One slot of one operand over the PE grid: PEs whose spatial offsets
 * agree on the slot's ranks share a signature. */
typedef struct {
    uint64_t nsig;
    uint32_t *sig;            /* [pe] signature                          */
    uint32_t *rep;            /* [sig] lowest PE with it                 */
    /* scratch of one class computation, [sig] */
    ef_dimset *nset, *cset;   /* new and old sets of a real dimension    */
    uint64_t *npool, *cpool;  /* their bits                              */
    uint64_t *cn, *cc, *cnc;  /* sizes: new, old, both                   */
    uint64_t un, xn, uc, xc;  /* unions: new, new \ old, old, old \ new  */
    uint64_t ucn;             /* |union of old ∩ union of new| (drains)  */
} slot;

/* One counter increment of a class. */
/* A counter increment, or the same increment of n counters `stride`
 * apart (instance after instance of one tensor: a class of a large
 * array stays as small as its distinct increments). */
typedef struct {
    uint64_t *at;
    uint64_t by;
    uint32_t n, stride;
} delta;

typedef struct {
    uint64_t count;           /* events of this class                    */
    uint64_t hash;
    uint64_t key_at;          /* into keys[]                             */
    uint64_t delta_at, delta_len; /* into deltas[]                       */
    uint32_t key_len;
    /* the bytes its events move, which give their fill and drain cycles */
    uint64_t src_bytes[EF_MAX_LEVELS];
    uint64_t inst_fill_bytes, drain_bytes, inst_drain_bytes;
    uint64_t partial_bytes;   /* drained words read back on arrival      */
    uint64_t steps;           /* innermost level: steps of its tile      */
    ef_gen_cost cost;         /* cycles of the fill and of the drain     */
} tclass;

/* Events of one class counted in the current blocks (block repeats). */
typedef struct {
    uint64_t cls;             /* index into cls[]                        */
    uint64_t times;
} logent;

/* The block of events of one loop at its current index: from the event
 * at which the loop took that index to the next advance of it or of a
 * loop outside it. */
typedef struct {
    bool repeatable;          /* may stand for the blocks that follow    */
    uint64_t log_at;          /* its first entry in log[]                */
    uint64_t step;            /* its first step                          */
    uint64_t scratch;         /* scratch_events when it began            */
    uint64_t gen[EF_MAX_LEVELS]; /* its first generation of each level   */
} block;

/* What make_key reads for one level: the ranks its loops above move, and
 * the operand dimensions those ranks index (the rest never change). */
typedef struct {
    int nrank, nwin;
    int rank[EF_MAX_RANKS];
    int win_op[EF_NEST_MAX_OPS * EF_MAX_DIMS], win_dim[EF_NEST_MAX_OPS * EF_MAX_DIMS];
} keyplan;

typedef struct {
    walker *wk;
    slot sl[EF_NEST_MAX_OPS][EF_MAX_DIMS + 1];
    int irr_rank[EF_NEST_MAX_OPS][EF_MAX_RANKS]; /* used ranks o ignores */
    int irr_count[EF_NEST_MAX_OPS];
    uint64_t *frame, *frame2; /* union scratch                           */
    int64_t frame_words;
    int64_t reach[EF_MAX_LEVELS][EF_MAX_RANKS]; /* farthest box end - b  */
    int64_t max_off[EF_MAX_LEVELS][EF_MAX_RANKS]; /* largest spatial offset */
    int64_t smin[EF_MAX_LEVELS][EF_NEST_MAX_OPS][EF_MAX_DIMS];
    int64_t smax[EF_MAX_LEVELS][EF_NEST_MAX_OPS][EF_MAX_DIMS];
    bool key_op[EF_MAX_LEVELS][EF_NEST_MAX_OPS];
    keyplan kp[EF_MAX_LEVELS];
    int64_t base[EF_MAX_LEVELS][EF_MAX_RANKS]; /* base at the last event */
    bool has_base[EF_MAX_LEVELS];
    int64_t zero[EF_MAX_RANKS];
    /* per-instance scratch */
    uint64_t *pn, *pc, *pnc;  /* [inst] footprint sizes of one operand   */
    uint64_t *fill, *inst_bytes, *gnc;
    uint8_t *claimed;         /* [group] output words claimed this event */
    /* classes */
    tclass *cls;
    uint64_t ncls, cap_cls;
    uint32_t *table;          /* class index + 1, open addressing        */
    uint64_t table_mask;
    int64_t *keys;
    uint64_t nkeys, cap_keys;
    delta *deltas;
    uint64_t ndeltas, cap_deltas;
    uint64_t class_start;     /* deltas of the class being computed     */
    uint64_t class_bytes;     /* storage in use, for the budget          */
    uint64_t most;            /* deltas one class can have               */
    bool full;                /* budget spent: count new classes at once */
    tclass scratch;           /* a class counted directly                */
    int64_t last_cls[EF_MAX_LEVELS]; /* class of each level's last event,
                                      * -1 when counted directly          */
    uint64_t block_steps;
    /* block repeats */
    block blk[EF_MAX_LOOPS];  /* by temporal loop position               */
    logent *log;              /* classes of the events in open blocks    */
    uint64_t nlog, cap_log;
    uint64_t log_floor;       /* entries below it belong to closed blocks */
    bool log_off;             /* log full: no repeats until it empties   */
    uint64_t scratch_events;  /* events counted at once, ever             */
    uint64_t *mark_pos;       /* [class] compaction scratch              */
    uint64_t *mark_epoch, epoch, cap_mark;
} tiles;

/* ---------- setup ---------- */

static int slot_of(const ef_operand *op, int r) {
    for (int d = 0; d < op->dims; d++)
        for (int k = 0; k < op->index[d].term_count; k++)
            if (op->index[d].rank[k] == r) return d;
    return op->dims;
}

static void setup_slots(tiles *T) {
    walker *wk = T->wk;
    const ef_nest *n = wk->n;
    for (int o = 0; o < wk->ops && wk->status == EF_OK; o++) {
        const ef_operand *op = n->ops[o];
        int lslot[EF_MAX_LOOPS];
        for (int j = 0; j < n->loop_count; j++) lslot[j] = slot_of(op, n->loops[j].rank);
        for (int r = 0; r < wk->w->rank_count; r++)
            if (n->einsum->rank_used[r] && slot_of(op, r) == op->dims)
                T->irr_rank[o][T->irr_count[o]++] = r;
        for (int d = 0; d <= op->dims; d++) {
            slot *S = &T->sl[o][d];
            S->nsig = 1;
            for (int j = 0; j < n->loop_count; j++)
                if (n->loops[j].kind != EF_LOOP_TEMPORAL && lslot[j] == d)
                    S->nsig *= n->loops[j].factor;
            S->sig = ef_walk_calloc(wk, wk->used_pes, sizeof(uint32_t));
            S->rep = ef_walk_calloc(wk, S->nsig, sizeof(uint32_t));
            S->cn = ef_walk_calloc(wk, S->nsig, sizeof(uint64_t));
            S->cc = ef_walk_calloc(wk, S->nsig, sizeof(uint64_t));
            S->cnc = ef_walk_calloc(wk, S->nsig, sizeof(uint64_t));
            if (wk->status != EF_OK) return;
            for (uint64_t sg = 0; sg < S->nsig; sg++) S->rep[sg] = UINT32_MAX;
            if (d == op->dims) continue;
            /* set storage: the most any level needs at once */
            uint64_t words = 1;
            for (int l = 0; l < wk->nl; l++) {
                int64_t cap = ef_dimset_capacity(&op->index[d], n->levels[l].tile_span);
                uint64_t w = (wk->L[l].per_pe ? S->nsig : 1) * (uint64_t)((cap + 63) / 64);
                if (w > words) words = w;
            }
            S->nset = ef_walk_calloc(wk, S->nsig, sizeof(ef_dimset));
            S->cset = ef_walk_calloc(wk, S->nsig, sizeof(ef_dimset));
            S->npool = ef_walk_calloc(wk, words, sizeof(uint64_t));
            S->cpool = ef_walk_calloc(wk, words, sizeof(uint64_t));
        }
        if (wk->status != EF_OK) return;
        for (uint64_t i = 0; i < wk->used_pes; i++) {
            /* each slot's spatial digits, innermost first, as in
             * spatial_offsets */
            uint64_t row = i / n->cols_used, col = i % n->cols_used;
            uint64_t sig[EF_MAX_DIMS + 1] = {0}, wgt[EF_MAX_DIMS + 1];
            for (int d = 0; d <= op->dims; d++) wgt[d] = 1;
            for (int j = n->loop_count - 1; j >= 0; j--) {
                const ef_loop *lp = &n->loops[j];
                if (lp->kind == EF_LOOP_TEMPORAL) continue;
                uint64_t *digit = lp->kind == EF_LOOP_ROWS ? &row : &col;
                uint64_t dv = *digit % lp->factor;
                *digit /= lp->factor;
                sig[lslot[j]] += dv * wgt[lslot[j]];
                wgt[lslot[j]] *= lp->factor;
            }
            for (int d = 0; d <= op->dims; d++) {
                slot *S = &T->sl[o][d];
                S->sig[i] = (uint32_t)sig[d];
                if (S->rep[sig[d]] == UINT32_MAX) S->rep[sig[d]] = (uint32_t)i;
            }
        }
    }
}

static void setup(tiles *T) {
    walker *wk = T->wk;
    const ef_nest *n = wk->n;
    const ef_workload *w = wk->w;
    setup_slots(T);
    int64_t max_off[EF_MAX_RANKS] = {0};
    for (uint64_t i = 0; i < wk->used_pes && wk->off; i++)
        for (int r = 0; r < w->rank_count; r++)
            if (wk->off[i][r] > max_off[r]) max_off[r] = wk->off[i][r];
    int64_t frame_bits = 64;
    for (int l = 0; l < wk->nl; l++) {
        bool pe = wk->L[l].per_pe;
        for (int r = 0; r < w->rank_count; r++) {
            T->max_off[l][r] = pe ? max_off[r] : 0;
            T->reach[l][r] = (int64_t)n->levels[l].tile_span[r] + T->max_off[l][r];
        }
        for (int o = 0; o < wk->ops; o++) {
            /* the innermost level also counts MACs and streamed operands */
            T->key_op[l][o] = n->levels[l].keeps[o] || l == wk->nl - 1;
            const ef_operand *op = n->ops[o];
            for (int d = 0; d < op->dims; d++) {
                const ef_affine *a = &op->index[d];
                int64_t lo = 0, hi = 0;
                for (int k = 0; k < a->term_count; k++) {
                    int64_t far = T->reach[l][a->rank[k]] - 1, c = a->coef[k];
                    if (c >= 0) hi += c * far;
                    else lo += c * far;
                }
                T->smin[l][o][d] = lo;
                T->smax[l][o][d] = hi;
                if (hi - lo + 1 > frame_bits) frame_bits = hi - lo + 1;
            }
        }
    }
    for (int l = 1; l < wk->nl; l++) {
        keyplan *kp = &T->kp[l];
        bool moves[EF_MAX_RANKS] = {false};
        for (int p = 0; p < wk->tl_begin[l]; p++) moves[n->loops[wk->tl[p]].rank] = true;
        for (int r = 0; r < w->rank_count; r++)
            if (moves[r]) kp->rank[kp->nrank++] = r;
        for (int o = 0; o < wk->ops; o++) {
            if (!T->key_op[l][o]) continue;
            for (int d = 0; d < n->ops[o]->dims; d++) {
                bool moved = false;
                for (int k = 0; k < n->ops[o]->index[d].term_count; k++)
                    moved |= moves[n->ops[o]->index[d].rank[k]];
                if (!moved) continue;
                kp->win_op[kp->nwin] = o;
                kp->win_dim[kp->nwin++] = d;
            }
        }
    }
    T->frame_words = (frame_bits + 63) / 64 + 2;
    T->frame = ef_walk_calloc(wk, (uint64_t)T->frame_words, sizeof(uint64_t));
    T->frame2 = ef_walk_calloc(wk, (uint64_t)T->frame_words, sizeof(uint64_t));
    uint64_t np = wk->used_pes;
    T->pn = ef_walk_calloc(wk, np, sizeof(uint64_t));
    T->pc = ef_walk_calloc(wk, np, sizeof(uint64_t));
    T->pnc = ef_walk_calloc(wk, np, sizeof(uint64_t));
    T->fill = ef_walk_calloc(wk, np, sizeof(uint64_t));
    T->inst_bytes = ef_walk_calloc(wk, np, sizeof(uint64_t));
    T->gnc = ef_walk_calloc(wk, np, sizeof(uint64_t));
    T->claimed = ef_walk_calloc(wk, np, sizeof(uint8_t));
    /* deltas of one class at most: per kept operand its instances'
     * fills and parent reads (the output also empty starts and updates),
     * at the innermost level the MAC counts, and a few scalars */
    for (int l = 0; l < wk->nl; l++) {
        uint64_t inst = wk->L[l].inst, m = 16;
        for (int o = 0; o < wk->ops; o++) {
            if (n->levels[l].keeps[o]) m += (o == wk->out ? 4 : 2) * inst + 8;
            if (l == wk->nl - 1) m += inst + 4;
        }
        if (m > T->most) T->most = m;
    }
    T->cap_cls = 16;
    T->cls = ef_walk_calloc(wk, T->cap_cls, sizeof(tclass));
    T->table_mask = 31;
    T->table = ef_walk_calloc(wk, T->table_mask + 1, sizeof(uint32_t));
    T->cap_keys = 4 * KEY_MAX;
    T->keys = ef_walk_calloc(wk, T->cap_keys, sizeof(int64_t));
    T->cap_deltas = 1024;
    T->deltas = ef_walk_calloc(wk, T->cap_deltas, sizeof(delta));
    T->class_bytes = T->cap_cls * sizeof(tclass) + (T->table_mask + 1) * sizeof(uint32_t) +
                     T->cap_keys * sizeof(int64_t);
}

static void teardown(tiles *T) {
    for (int o = 0; o < EF_NEST_MAX_OPS; o++)
        for (int d = 0; d <= EF_MAX_DIMS; d++) {
            slot *S = &T->sl[o][d];
            free(S->sig); free(S->rep); free(S->cn); free(S->cc); free(S->cnc);
            free(S->nset); free(S->cset); free(S->npool); free(S->cpool);
        }
    free(T->frame);
    free(T->frame2);
    free(T->pn); free(T->pc); free(T->pnc);
    free(T->fill); free(T->inst_bytes); free(T->gnc); free(T->claimed);
    free(T->cls); free(T->table); free(T->keys); free(T->deltas);
    free(T->log); free(T->mark_pos); free(T->mark_epoch);
}

/* ---------- per-slot sets ---------- */

/* The box of one instance in the ranks of one dimension (tile_range). */
static void box(const walker *wk, int l, const int64_t *b, const int64_t *off,
                const ef_affine *a, int64_t *lo, int64_t *hi) {
    for (int k = 0; k < a->term_count; k++) {
        int r = a->rank[k];
        int64_t bound = (int64_t)wk->w->rank_bounds[r];
        lo[r] = b[r] + off[r];
        hi[r] = lo[r] + (int64_t)wk->n->levels[l].tile_span[r];
        if (hi[r] > bound) hi[r] = bound;
        if (lo[r] > hi[r]) lo[r] = hi[r];
    }
}

static bool active_in(const tiles *T, int o, const int64_t *b, const int64_t *off) {
    const walker *wk = T->wk;
    for (int q = 0; q < T->irr_count[o]; q++) {
        int r = T->irr_rank[o][q];
        if (b[r] + off[r] >= (int64_t)wk->w->rank_bounds[r]) return false;
    }
    return true;
}

/* Union count over signatures: of the new sets (minus the old ones when
 * minus), or of the old sets (minus the new ones). */
static uint64_t union_count(tiles *T, const slot *S, uint64_t ns, bool of_old, bool minus) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (uint64_t s = 0; s < ns; s++) {
        const ef_dimset *a = of_old ? &S->cset[s] : &S->nset[s];
        if (!a->count) continue;
        if (a->lo < lo) lo = a->lo;
        if (a->lo + a->n > hi) hi = a->lo + a->n;
    }
    if (lo > hi) return 0;
    int64_t words = (hi - lo + 63) / 64 + 2;
    for (uint64_t s = 0; s < ns; s++) {
        const ef_dimset *a = of_old ? &S->cset[s] : &S->nset[s];
        const ef_dimset *b = of_old ? &S->nset[s] : &S->cset[s];
        if (!a->count) continue;
        if (minus) ef_dimset_or_minus_into(T->frame, lo, a, b->count ? b : NULL);
        else ef_dimset_or_into(T->frame, lo, a);
    }
    uint64_t c = ef_bits_count(T->frame, words);
    memset(T->frame, 0, sizeof(uint64_t) * (size_t)words);
    return c;
}

/* |(union of the old sets) ∩ (union of the new sets)| over signatures:
 * the new union goes into the frame, then each old set's members in it
 * into the second frame. */
static uint64_t union_overlap(tiles *T, const slot *S, uint64_t ns) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (uint64_t s = 0; s < ns; s++) {
        const ef_dimset *a = &S->nset[s];
        if (!a->count) continue;
        if (a->lo < lo) lo = a->lo;
        if (a->lo + a->n > hi) hi = a->lo + a->n;
    }
    if (lo > hi) return 0;
    int64_t words = (hi - lo + 63) / 64 + 2;
    for (uint64_t s = 0; s < ns; s++)
        if (S->nset[s].count) ef_dimset_or_into(T->frame, lo, &S->nset[s]);
    ef_dimset mask = {.lo = lo, .n = hi - lo, .bits = T->frame};
    for (uint64_t s = 0; s < ns; s++)
        if (S->cset[s].count) ef_dimset_or_within_into(T->frame2, &mask, &S->cset[s]);
    uint64_t c = ef_bits_count(T->frame2, words);
    memset(T->frame, 0, sizeof(uint64_t) * (size_t)words);
    memset(T->frame2, 0, sizeof(uint64_t) * (size_t)words);
    return c;
}

/* Sizes of operand o's old (ob) and new (nb) sets at level l, per slot
 * and signature, and their intersections; the union counts of the new
 * sets (unions_new) or of the old ones (unions_old) where asked. Then
 * per instance: pn, pc, pnc. A NULL base stands for no tile. */
static void slot_counts(tiles *T, int l, int o, const int64_t *ob, const int64_t *nb,
                        bool unions_new, bool unions_old) {
    walker *wk = T->wk;
    const ef_operand *op = wk->n->ops[o];
    const ef_tensor *t = &wk->w->tensors[op->tensor];
    bool pe = wk->L[l].per_pe;
    int64_t lo[EF_MAX_RANKS], hi[EF_MAX_RANKS];
    for (int d = 0; d < op->dims; d++) {
        slot *S = &T->sl[o][d];
        const ef_affine *a = &op->index[d];
        uint64_t ns = pe ? S->nsig : 1;
        int64_t cap = ef_dimset_capacity(a, wk->n->levels[l].tile_span);
        uint64_t words = (uint64_t)((cap + 63) / 64);
        for (uint64_t s = 0; s < ns; s++) {
            const int64_t *off = pe ? wk->off[S->rep[s]] : T->zero;
            ef_dimset *N = &S->nset[s], *C = &S->cset[s];
            N->bits = S->npool + s * words;
            C->bits = S->cpool + s * words;
            N->cap_bits = C->cap_bits = cap;
            N->lo = C->lo = 0;
            N->n = C->n = 0;
            N->count = C->count = 0;
            if (nb) {
                box(wk, l, nb, off, a, lo, hi);
                ef_dimset_build(N, a, lo, hi, t->offset[d], t->extent[d]);
            }
            if (ob) {
                box(wk, l, ob, off, a, lo, hi);
                ef_dimset_build(C, a, lo, hi, t->offset[d], t->extent[d]);
            }
            S->cn[s] = N->count;
            S->cc[s] = C->count;
            S->cnc[s] = N->count && C->count ? ef_dimset_intersect(N, C) : 0;
        }
        if (ns == 1) {
            S->un = S->cn[0];
            S->xn = S->cn[0] - S->cnc[0];
            S->uc = S->cc[0];
            S->xc = S->cc[0] - S->cnc[0];
            S->ucn = S->cnc[0];
            continue;
        }
        if (unions_new) {
            S->un = union_count(T, S, ns, false, false);
            S->xn = union_count(T, S, ns, false, true);
        }
        if (unions_old) {
            S->uc = union_count(T, S, ns, true, false);
            S->xc = union_count(T, S, ns, true, true);
            S->ucn = nb ? union_overlap(T, S, ns) : 0;
        }
    }
    /* the slot of the ranks o ignores: one point if active in them */
    slot *S = &T->sl[o][op->dims];
    uint64_t ns = pe ? S->nsig : 1;
    S->un = S->xn = S->uc = S->xc = 0;
    bool any_new = false, any_old = false;
    for (uint64_t s = 0; s < ns; s++) {
        const int64_t *off = pe ? wk->off[S->rep[s]] : T->zero;
        bool an = nb && active_in(T, o, nb, off), ac = ob && active_in(T, o, ob, off);
        S->cn[s] = an;
        S->cc[s] = ac;
        S->cnc[s] = an && ac;
        S->un |= an;
        S->xn |= an && !ac;
        S->uc |= ac;
        S->xc |= ac && !an;
        any_new |= an;
        any_old |= ac;
    }
    S->ucn = any_new && any_old;
    uint64_t inst = wk->L[l].inst;
    for (uint64_t i = 0; i < inst; i++) {
        uint64_t vn = 1, vc = 1, vnc = 1;
        for (int d = 0; d <= op->dims; d++) {
            const slot *Q = &T->sl[o][d];
            uint64_t s = pe ? Q->sig[i] : 0;
            vn *= Q->cn[s];
            vc *= Q->cc[s];
            vnc *= Q->cnc[s];
        }
        T->pn[i] = vn;
        T->pc[i] = vc;
        T->pnc[i] = vnc;
    }
}

/* prod |U_d| - prod (|U_d| - |X_d|): the union over instances of what
 * they gain (of_old: lose). */
static uint64_t union_minus(const tiles *T, int o, bool of_old) {
    const ef_operand *op = T->wk->n->ops[o];
    uint64_t all = 1, kept = 1;
    for (int d = 0; d <= op->dims; d++) {
        const slot *S = &T->sl[o][d];
        uint64_t u = of_old ? S->uc : S->un, x = of_old ? S->xc : S->xn;
        all *= u;
        kept *= u - x;
    }
    return all - kept;
}

/* ---------- class computation ---------- */

static void emit(tiles *T, uint64_t *at, uint64_t by) {
    if (!by) return;
    /* the next counter of a run of equal increments joins it */
    if (T->ndeltas > T->class_start) {
        delta *d = &T->deltas[T->ndeltas - 1];
        if (d->by == by && d->n < UINT32_MAX && at > d->at) {
            uint64_t gap = (uint64_t)(at - d->at);
            if (d->n == 1 && gap <= UINT32_MAX) {
                d->stride = (uint32_t)gap;
                d->n = 2;
                return;
            }
            if (d->n > 1 && gap == (uint64_t)d->n * d->stride) {
                d->n++;
                return;
            }
        }
    }
    if (T->ndeltas >= T->cap_deltas) {
        /* a class needs at most T->most (its instances' counters one by
         * one): the array grows to the classes kept plus that */
        uint64_t cap = 2 * T->cap_deltas;
        delta *q = cap <= T->ndeltas + T->most + 1024 || cap <= 2048
                       ? ef_realloc(T->deltas, sizeof(delta) * (size_t)cap)
                       : NULL;
        if (!q && cap > T->ndeltas + 1) {
            cap = T->ndeltas + T->most + 1024;
            q = ef_realloc(T->deltas, sizeof(delta) * (size_t)cap);
        }
        if (!q) {
            T->wk->status = EF_ERR_NOMEM;
            return;
        }
        T->deltas = q;
        T->cap_deltas = cap;
    }
    T->deltas[T->ndeltas] = (delta){.at = at, .by = by, .n = 1, .stride = 0};
    T->ndeltas++;
}

static void emit_hops(tiles *T, int o, uint64_t hops) {
    emit(T, &T->wk->sch->res->noc.hops, hops);
    emit(T, &T->wk->sch->res->noc.op_hops[o], hops);
}

/* Can operand o's tiles at level l differ between the bases ob and nb?
 * Only if a rank it indexes moved, or a rank it ignores moved where it
 * may switch instances on or off (the exact walk's "unchanged" test). */
static bool tiles_move(const tiles *T, int l, int o, const int64_t *ob, const int64_t *nb) {
    const walker *wk = T->wk;
    for (int r = 0; r < wk->w->rank_count; r++) {
        if (ob[r] == nb[r] || !wk->n->einsum->rank_used[r]) continue;
        if (wk->relmask[o] >> r & 1u) return true;
        int64_t bound = (int64_t)wk->w->rank_bounds[r], far = T->max_off[l][r];
        if (ob[r] + far >= bound || nb[r] + far >= bound) return true;
    }
    return false;
}

/* Fills and drains of level l between the tile at ob and the one at nb
 * (fill_level and drain_level of the exact walk, by slots). */
static void level_counts(tiles *T, int l, const int64_t *ob, const int64_t *nb, bool first,
                         tclass *c) {
    walker *wk = T->wk;
    const ef_nest *n = wk->n;
    lvl_state *L = &wk->L[l];
    uint64_t inst = L->inst;
    bool crosses_noc = L->per_pe && !wk->L[l - 1].per_pe;
    ef_noc_counters *noc = &wk->sch->res->noc;
    memset(T->inst_bytes, 0, sizeof(uint64_t) * (size_t)inst);
    for (int o = 0; o < wk->ops && wk->status == EF_OK; o++) {
        if (!n->levels[l].keeps[o]) continue;
        /* unmoved tiles fill and drain nothing; what they hold was
         * counted when they came in */
        if (ob && nb && !tiles_move(T, l, o, ob, nb)) continue;
        int p = n->levels[l].parent[o];
        bool shared_parent = p >= 0 && !wk->L[p].per_pe && inst > 1;
        bool multicast_fill = o != wk->out && shared_parent && wk->shares[o];
        bool drain = o == wk->out && p >= 0 && ob;
        slot_counts(T, l, o, ob, nb, multicast_fill && nb, drain && shared_parent);
        if (nb && p < 0) {
            /* the first home of a fused cascade's intermediate: its
             * producer writes it here, so nothing is filled, and an
             * output's words start empty (first_home of the exact walk) */
            for (uint64_t i = 0; i < inst; i++) {
                if (T->pn[i] > L->max_words[o]) L->max_words[o] = T->pn[i];
                if (T->pn[i]) L->used[i] = true;
                if (o == wk->out) emit(T, &L->empty[AT(L, i, o)], T->pn[i] - T->pnc[i]);
            }
        }
        if (nb && p >= 0) {
            uint64_t parent_total = 0, deliveries = 0, hops = 0;
            for (uint64_t i = 0; i < inst; i++) {
                if (T->pn[i] > L->max_words[o]) L->max_words[o] = T->pn[i];
                if (T->pn[i]) L->used[i] = true;
                T->fill[i] = T->pn[i] - T->pnc[i];
            }
            if (o == wk->out) {
                /* returning partial sums enter once per reduction group,
                 * at its first PE that gains them; the rest start empty */
                memset(T->claimed, 0, (size_t)inst);
                for (uint64_t i = 0; i < inst; i++) {
                    uint64_t enter = T->fill[i], f = 0;
                    if (!first && enter) {
                        /* the group's PEs gain all its new words (they
                         * held none) or those beyond its old tile */
                        uint64_t g = inst > 1 ? wk->canon[o][i] : 0;
                        bool whole = T->pnc[i] == 0;
                        if (T->claimed[g] == 0) {
                            f = enter;
                            T->claimed[g] = whole ? 2 : 1;
                            T->gnc[g] = T->pnc[i];
                        } else if (T->claimed[g] == 1 && whole) {
                            f = T->gnc[g];
                            T->claimed[g] = 2;
                        }
                    }
                    T->fill[i] = f;
                    emit(T, &L->empty[AT(L, i, o)], enter - f);
                }
            }
            uint64_t pr_shared = 0;
            for (uint64_t i = 0; i < inst; i++) {
                uint64_t f = T->fill[i];
                if (!f) continue;
                emit(T, &L->fills[AT(L, i, o)], f);
                add(wk, &deliveries, f);
                T->inst_bytes[i] += ef_walk_bytes(wk, o, f);
                if (crosses_noc) add(wk, &hops, f * hop_distance(wk, i));
                if (multicast_fill) continue;
                if (wk->L[p].per_pe) emit(T, &wk->L[p].reads[i * (uint64_t)wk->ops + (uint64_t)o], f);
                else add(wk, &pr_shared, f);
                add(wk, &parent_total, f);
            }
            if (multicast_fill) {
                parent_total = union_minus(T, o, false);
                pr_shared = parent_total;
            }
            emit(T, &wk->L[p].reads[o], pr_shared);
            c->src_bytes[p] += ef_walk_bytes(wk, o, parent_total);
            if (crosses_noc) {
                emit_hops(T, o, hops);
                emit(T, &noc->words_sent, parent_total);
                emit(T, &noc->op_words_in[o], parent_total);
                emit(T, &noc->deliveries, deliveries);
            }
        }
        if (drain) {
            uint64_t total = 0, max_inst = 0, hops = 0, unique = 0;
            bool out_of_array = L->per_pe && !wk->L[p].per_pe;
            for (uint64_t i = 0; i < inst; i++) {
                uint64_t leaving = T->pc[i] - T->pnc[i];
                if (!leaving) continue;
                add(wk, &total, leaving);
                if (leaving > max_inst) max_inst = leaving;
                if (out_of_array) add(wk, &hops, leaving * hop_distance(wk, i));
                if (!shared_parent)
                    emit(T, &wk->L[p].updates[(wk->L[p].per_pe ? i : 0) * (uint64_t)wk->ops +
                                              (uint64_t)o], leaving);
            }
            if (shared_parent) {
                unique = union_minus(T, o, true);
                emit(T, &wk->L[p].updates[o], unique);
                emit(T, &noc->reductions, total - unique);
                /* a word that leaves some PEs of its reduction group while
                 * another keeps it arrives before the rest of the group's
                 * partial sums, which are combined with it on arrival:
                 * one read at the parent each (model.md section 2) */
                uint64_t all = 1, both = 1;
                for (int d = 0; d <= n->ops[o]->dims; d++) {
                    all *= T->sl[o][d].uc;
                    both *= T->sl[o][d].ucn;
                }
                c->partial_bytes += ef_walk_bytes(wk, o, unique - (all - both));
            } else {
                unique = total;
            }
            if (out_of_array) {
                emit_hops(T, o, hops);
                emit(T, &noc->words_returned, unique);
            }
            c->drain_bytes += ef_walk_bytes(wk, o, unique);
            c->inst_drain_bytes += ef_walk_bytes(wk, o, max_inst);
        }
    }
    uint64_t most = 0;
    for (uint64_t i = 0; i < inst; i++)
        if (T->inst_bytes[i] > most) most = T->inst_bytes[i];
    c->inst_fill_bytes = most;
}

/* How many of rank r's values nb + s0 * k, k < room, plus off lie
 * inside its bound. */
static uint64_t in_bound(const ef_workload *w, int r, int64_t nb, int64_t s0, uint64_t room,
                         int64_t off) {
    int64_t left = (int64_t)w->rank_bounds[r] - nb - off;
    if (left <= 0) return 0;
    uint64_t fit = ((uint64_t)left + (uint64_t)s0 - 1) / (uint64_t)s0;
    return fit < room ? fit : room;
}

static uint64_t mul_checked(walker *wk, uint64_t a, uint64_t b) {
    uint64_t v;
    if (!ef_mul_u64(a, b, &v)) {
        wk->status = EF_ERR_OVERFLOW;
        return 0;
    }
    return v;
}

/* Streamed operands over all steps of the innermost tile at nb (whose
 * rank r takes nb[r] + s0[r] * k, k < room[r]): the sums over steps of
 * ef_walk_stream_counts. A step's counts are products over the
 * operand's dimensions (and over the ranks it ignores) of terms that
 * depend on those ranks' coordinates only, and the steps are a product
 * over ranks, so each sum is a product of per-dimension sums. Hops on a
 * mesh or systolic array go PE by PE: PE i's share is its distance
 * times the steps at which it needs a stored word, again a product. */
static void stream_block(tiles *T, const int64_t *nb, const int64_t *s0, const uint64_t *room) {
    walker *wk = T->wk;
    const ef_nest *n = wk->n;
    const ef_workload *w = wk->w;
    bool bus = n->noc->topology == EF_NOC_MULTICAST;
    ef_noc_counters *noc = &wk->sch->res->noc;
    for (int o = 0; o < wk->ops && wk->status == EF_OK; o++) {
        if (!wk->stream_op[o]) continue;
        const ef_operand *op = n->ops[o];
        const ef_tensor *t = &w->tensors[op->tensor];
        uint64_t su = 1, sm = 1, su_first;
        for (int d = 0; d < op->dims; d++) {
            const ef_affine *a = &op->index[d];
            slot *S = &T->sl[o][d];
            memset(S->cn, 0, sizeof(uint64_t) * (size_t)S->nsig);
            uint64_t sd = 0, sc = 0, k[EF_MAX_RANKS] = {0};
            int64_t x[EF_MAX_RANKS];
            bool none = false;
            for (int q = 0; q < a->term_count; q++) {
                x[a->rank[q]] = nb[a->rank[q]];
                none |= room[a->rank[q]] == 0;
            }
            while (!none) {
                uint64_t distinct, combos;
                ef_walk_stream_dim(wk, o, d, x, &distinct, &combos);
                add(wk, &sd, distinct);
                add(wk, &sc, combos);
                for (uint64_t sg = 0; !bus && sg < S->nsig; sg++) {
                    const int64_t *off = wk->off[S->rep[sg]];
                    int64_t v = a->constant - t->offset[d];
                    bool ok = true;
                    for (int q = 0; q < a->term_count; q++) {
                        int r = a->rank[q];
                        ok &= x[r] + off[r] < (int64_t)w->rank_bounds[r];
                        v += a->coef[q] * (x[r] + off[r]);
                    }
                    S->cn[sg] += ok && v >= 0 && v < t->extent[d];
                }
                int q = a->term_count - 1;
                for (; q >= 0; q--) {
                    int r = a->rank[q];
                    if (++k[q] < room[r]) {
                        x[r] += s0[r];
                        break;
                    }
                    k[q] = 0;
                    x[r] = nb[r];
                }
                if (q < 0) break;
            }
            su = mul_checked(wk, su, sd);
            sm = mul_checked(wk, sm, sc);
        }
        /* the steps at which the ranks o ignores take their first value:
         * an output word's first update in the tile (walk_mac.c) */
        su_first = su;
        /* ranks the operand ignores: every step counts once for the
         * union; a used one multiplies the pairs by its offsets in bound */
        slot *I = &T->sl[o][op->dims];
        for (uint64_t sg = 0; sg < I->nsig; sg++) I->cn[sg] = 1;
        for (int r = 0; r < w->rank_count; r++) {
            if (wk->relmask[o] >> r & 1u) continue;
            su = mul_checked(wk, su, room[r]);
            if (!n->einsum->rank_used[r]) {
                sm = mul_checked(wk, sm, room[r]);
                for (uint64_t sg = 0; sg < I->nsig; sg++) I->cn[sg] *= room[r];
                continue;
            }
            uint64_t pairs = 0;
            for (int64_t sv = 0; sv < wk->nsvals[r]; sv++)
                pairs += in_bound(w, r, nb[r], s0[r], room[r], wk->svals[r][sv]);
            sm = mul_checked(wk, sm, pairs);
            for (uint64_t sg = 0; !bus && sg < I->nsig; sg++)
                I->cn[sg] *= in_bound(w, r, nb[r], s0[r], room[r], wk->off[I->rep[sg]][r]);
        }
        if (!su) sm = 0;
        uint64_t hops = sm;
        if (!bus) {
            hops = 0;
            for (uint64_t i = 0; i < wk->used_pes; i++) {
                uint64_t cnt = 1;
                for (int d = 0; d <= op->dims; d++) cnt *= T->sl[o][d].cn[T->sl[o][d].sig[i]];
                add(wk, &hops, mul_checked(wk, cnt, hop_distance(wk, i)));
            }
        }
        int k = n->op_keeper_mac[o];
        /* without read sharing every delivery is a read of its own */
        uint64_t reads = o == wk->out || wk->shares[o] ? su : sm;
        emit(T, o == wk->out ? &wk->L[k].updates[o] : &wk->L[k].reads[o], reads);
        emit_hops(T, o, hops);
        wk->sw.keeper[o] = reads;
        if (o == wk->out) {
            emit(T, &wk->sch->res->ops, sm);
            emit(T, &noc->reductions, sm - su);
            emit(T, &noc->words_returned, su);
            wk->sw.first_updates = su_first;
        } else {
            emit(T, &noc->words_sent, reads);
            emit(T, &noc->op_words_in[o], reads);
            emit(T, &noc->deliveries, sm);
        }
    }
}

/* The innermost level's tile at nb: operand reads and output updates at
 * the MACs (ef_walk_mac_block), streamed operands step by step, and the
 * number of steps. */
static void block_counts(tiles *T, const int64_t *nb, bool first, tclass *c) {
    walker *wk = T->wk;
    const ef_nest *n = wk->n;
    const ef_workload *w = wk->w;
    int lin = wk->nl - 1;
    lvl_state *Lin = &wk->L[lin];
    bool pe = Lin->per_pe;
    bool any_stream = false;
    int64_t lo[EF_MAX_RANKS], hi[EF_MAX_RANKS];
    memset(wk->mac_cnt, 0, sizeof(uint64_t) * (size_t)(Lin->inst * (uint64_t)wk->ops));
    memset(wk->mac_own, 0, sizeof(uint64_t) * (size_t)Lin->inst);
    memset(&wk->sw, 0, sizeof wk->sw);
    for (int o = 0; o < wk->ops && wk->status == EF_OK; o++) {
        if (wk->stream_op[o]) {
            any_stream = true;
            continue;
        }
        const ef_operand *op = n->ops[o];
        const ef_tensor *t = &w->tensors[op->tensor];
        bool padded = false;
        for (int d = 0; d < op->dims; d++) padded |= t->pad[d] != 0;
        for (int d = 0; d <= op->dims; d++) {
            slot *S = &T->sl[o][d];
            uint64_t ns = pe ? S->nsig : 1;
            for (uint64_t s = 0; s < ns; s++) {
                const int64_t *off = pe ? wk->off[S->rep[s]] : T->zero;
                if (d < op->dims) {
                    box(wk, lin, nb, off, &op->index[d], lo, hi);
                    S->cn[s] = ef_walk_dim_points(wk, o, d, lo, hi, padded);
                    continue;
                }
                /* the ranks o ignores multiply its reads */
                uint64_t m = 1;
                for (int q = 0; q < T->irr_count[o]; q++) {
                    int r = T->irr_rank[o][q];
                    int64_t bl = nb[r] + off[r];
                    int64_t bh = bl + (int64_t)n->levels[lin].tile_span[r];
                    if (bh > (int64_t)w->rank_bounds[r]) bh = (int64_t)w->rank_bounds[r];
                    m *= bh > bl ? (uint64_t)(bh - bl) : 0;
                }
                S->cn[s] = m;
            }
        }
        int k = n->op_keeper_mac[o];
        uint64_t total = 0;
        for (uint64_t i = 0; i < Lin->inst; i++) {
            uint64_t cnt = 1, own = 1;
            for (int d = 0; d <= op->dims; d++) {
                const slot *S = &T->sl[o][d];
                cnt *= S->cn[pe ? S->sig[i] : 0];
                if (d < op->dims) own *= S->cn[pe ? S->sig[i] : 0];
            }
            if (!cnt) continue;
            wk->mac_cnt[i * (uint64_t)wk->ops + (uint64_t)o] = cnt;
            if (o == wk->out) wk->mac_own[i] = own;
            uint64_t ki = wk->L[k].per_pe ? i : 0;
            uint64_t *at = o == wk->out ? &wk->L[k].updates[ki * (uint64_t)wk->ops + (uint64_t)o]
                                        : &wk->L[k].reads[ki * (uint64_t)wk->ops + (uint64_t)o];
            emit(T, at, cnt);
            add(wk, &total, cnt);
        }
        if (o == wk->out) emit(T, &wk->sch->res->ops, total);
    }
    /* The steps of the tile are a product over ranks: rank r takes the
     * values nb[r] + s0 * k, k < room[r], where s0 is the stride of its
     * innermost loop here (its loops at this level count in units of
     * s0) and imperfect factors cut k short at the bound. */
    int64_t s0[EF_MAX_RANKS];
    uint64_t room[EF_MAX_RANKS], steps = 1;
    for (int r = 0; r < w->rank_count; r++) {
        uint64_t f = 1, st = 0;
        for (int p = wk->tl_begin[lin]; p < wk->tl_count; p++) {
            const ef_loop *lp = &n->loops[wk->tl[p]];
            if (lp->rank != r) continue;
            f *= lp->factor;
            if (!st || lp->stride < st) st = lp->stride;
        }
        s0[r] = st ? (int64_t)st : 1;
        uint64_t fit = (w->rank_bounds[r] - (uint64_t)nb[r] + (uint64_t)s0[r] - 1) / (uint64_t)s0[r];
        room[r] = fit < f ? fit : f;
        if (!ef_mul_u64(steps, room[r], &steps)) wk->status = EF_ERR_OVERFLOW;
    }
    c->steps = steps;
    if (any_stream) stream_block(T, nb, s0, room);
    c->cost.stream = ef_walk_stream_demand(wk, first);
}

/* ---------- classes ---------- */

/* What a level's event depends on, relative to its old base (see the
 * file comment). A missing base (first tile, final write-back) is
 * flagged and the other one stands in for it. Ranks that no loop above
 * the level moves have base 0 at every event, and dimensions indexed by
 * such ranks only keep one window: both are left out. */
static int make_key(const tiles *T, int l, const int64_t *ob, const int64_t *nb, bool first,
                    int64_t *key) {
    const walker *wk = T->wk;
    const ef_workload *w = wk->w;
    const keyplan *kp = &T->kp[l];
    const int64_t *rb = ob ? ob : nb, *qb = nb ? nb : ob;
    int k = 0;
    key[k++] = l | (ob != NULL) << 8 | (nb != NULL) << 9 | first << 10;
    for (int u = 0; u < kp->nrank; u++) {
        int r = kp->rank[u];
        int64_t bound = (int64_t)w->rank_bounds[r], reach = T->reach[l][r];
        int64_t bo = bound - rb[r], bn = bound - qb[r];
        key[k++] = qb[r] - rb[r];
        key[k++] = bo < reach ? bo : reach;
        key[k++] = bn < reach ? bn : reach;
    }
    for (int u = 0; u < kp->nwin; u++) {
        int o = kp->win_op[u], d = kp->win_dim[u];
        const ef_affine *a = &wk->n->ops[o]->index[d];
        const ef_tensor *tn = &w->tensors[wk->n->ops[o]->tensor];
        int64_t a0 = a->constant - tn->offset[d], ct = 0;
        for (int q = 0; q < a->term_count; q++) {
            int r = a->rank[q];
            a0 += a->coef[q] * rb[r];
            ct += a->coef[q] * (qb[r] - rb[r]);
        }
        int64_t lo = T->smin[l][o][d] + (ct < 0 ? ct : 0);
        int64_t hi = T->smax[l][o][d] + (ct > 0 ? ct : 0) + 1;
        int64_t wl = -a0, wh = tn->extent[d] - a0;
        key[k++] = wl < lo ? lo : wl > hi ? hi : wl;
        key[k++] = wh < lo ? lo : wh > hi ? hi : wh;
    }
    return k;
}

static uint64_t hash_key(const int64_t *key, int len) {
    uint64_t h = UINT64_C(0x9E3779B97F4A7C15);
    for (int q = 0; q < len; q++) h = (h ^ (uint64_t)key[q]) * UINT64_C(0xFF51AFD7ED558CCD);
    return h ^ h >> 31;
}

static void apply(walker *wk, const delta *d, uint64_t len, uint64_t count) {
    for (uint64_t q = 0; q < len && wk->status == EF_OK; q++) {
        uint64_t v;
        if (!ef_mul_u64(d[q].by, count, &v)) {
            wk->status = EF_ERR_OVERFLOW;
            return;
        }
        for (uint64_t k = 0; k < d[q].n; k++) add(wk, d[q].at + k * d[q].stride, v);
    }
}

static void compute(tiles *T, int l, const int64_t *ob, const int64_t *nb, bool first,
                    tclass *c) {
    c->delta_at = T->ndeltas;
    T->class_start = T->ndeltas;
    if (l > 0) level_counts(T, l, ob, nb, first, c);
    c->delta_len = T->ndeltas - c->delta_at;
    if (l > 0)
        ef_walk_gen_cost(T->wk, l, c->src_bytes, c->inst_fill_bytes, c->drain_bytes,
                         c->inst_drain_bytes, c->partial_bytes, &c->cost);
    if (l == T->wk->nl - 1 && nb) {
        block_counts(T, nb, first, c);
        c->delta_len = T->ndeltas - c->delta_at;
    }
}

#ifdef EF_TILES_VERIFY
/* A debugging aid: the event's counts computed afresh must equal its
 * class's, delta for delta. */
static void verify(tiles *T, const tclass *c, int l, const int64_t *ob, const int64_t *nb,
                   bool first) {
    tclass again;
    memset(&again, 0, sizeof again);
    uint64_t mark = T->ndeltas;
    compute(T, l, ob, nb, first, &again);
    bool same = again.delta_len == c->delta_len && again.steps == c->steps &&
                again.inst_fill_bytes == c->inst_fill_bytes &&
                again.drain_bytes == c->drain_bytes &&
                again.inst_drain_bytes == c->inst_drain_bytes &&
                again.partial_bytes == c->partial_bytes &&
                !memcmp(again.src_bytes, c->src_bytes, sizeof c->src_bytes);
    for (uint64_t q = 0; same && q < c->delta_len; q++)
        same = T->deltas[again.delta_at + q].at == T->deltas[c->delta_at + q].at &&
               T->deltas[again.delta_at + q].by == T->deltas[c->delta_at + q].by &&
               T->deltas[again.delta_at + q].n == T->deltas[c->delta_at + q].n &&
               T->deltas[again.delta_at + q].stride == T->deltas[c->delta_at + q].stride;
    T->ndeltas = mark;
    if (!same) {
        fprintf(stderr, "tiles.c: level %d: an event differs from its class\n", l);
        abort();
    }
}
#endif

/* Doubles *cap (elements of sz bytes) at *p if need exceeds it, within
 * the storage budget. */
static bool grow(tiles *T, void **p, uint64_t *cap, uint64_t need, size_t sz) {
    if (need <= *cap) return true;
    uint64_t to = *cap * 2;
    while (to < need) to *= 2;
    uint64_t more = (to - *cap) * sz;
    if (T->class_bytes + more > CLASS_BUDGET_BYTES) return false;
    void *q = ef_realloc(*p, (size_t)(to * sz));
    if (!q) return false;
    *p = q;
    *cap = to;
    T->class_bytes += more;
    return true;
}

/* Room to store one more class with a key of len entries; false, once
 * and for all, when the budget is spent (the deltas kept count in it;
 * the array of deltas itself grows as a class needs, emit). */
static bool reserve(tiles *T, uint64_t len) {
    bool ok = T->class_bytes + T->ndeltas * sizeof(delta) <= CLASS_BUDGET_BYTES &&
              grow(T, (void **)&T->cls, &T->cap_cls, T->ncls + 1, sizeof(tclass)) &&
              grow(T, (void **)&T->keys, &T->cap_keys, T->nkeys + len, sizeof(int64_t));
    if (ok && (T->ncls + 1) * 2 > T->table_mask + 1) {
        uint64_t size = (T->table_mask + 1) * 2;
        uint32_t *table = T->class_bytes + size * sizeof(uint32_t) <= CLASS_BUDGET_BYTES
                              ? ef_calloc((size_t)size, sizeof(uint32_t))
                              : NULL;
        if (!table) {
            ok = false;
        } else {
            for (uint64_t q = 0; q < T->ncls; q++) {
                uint64_t s = T->cls[q].hash & (size - 1);
                while (table[s]) s = (s + 1) & (size - 1);
                table[s] = (uint32_t)(q + 1);
            }
            free(T->table);
            T->table = table;
            T->table_mask = size - 1;
            T->class_bytes += size * sizeof(uint32_t) / 2;
        }
    }
    if (!ok) T->full = true;
    return ok;
}

/* Counts one event of level l into its class (computing the class the
 * first time); returns the class, whose byte counts describe this
 * event. Past the storage budget, new classes are counted at once. */
static const tclass *count_event(tiles *T, int l, const int64_t *ob, const int64_t *nb,
                                 bool first) {
    walker *wk = T->wk;
    int64_t key[KEY_MAX];
    int len = make_key(T, l, ob, nb, first, key);
    uint64_t h = hash_key(key, len);
    uint64_t at = h & T->table_mask;
    for (; T->table[at]; at = (at + 1) & T->table_mask) {
        tclass *c = &T->cls[T->table[at] - 1];
        if (c->hash == h && c->key_len == (uint32_t)len &&
            !memcmp(&T->keys[c->key_at], key, sizeof(int64_t) * (size_t)len)) {
            c->count++;
#ifdef EF_TILES_VERIFY
            verify(T, c, l, ob, nb, first);
#endif
            return c;
        }
    }
    bool store = !T->full && reserve(T, (uint64_t)len);
    at = h & T->table_mask; /* the table may have grown */
    while (T->table[at]) at = (at + 1) & T->table_mask;
    tclass *c = store ? &T->cls[T->ncls] : &T->scratch;
    uint64_t mark = T->ndeltas;
    memset(c, 0, sizeof *c);
    compute(T, l, ob, nb, first, c);
    if (wk->status != EF_OK) return NULL;
    if (store && T->class_bytes + T->ndeltas * sizeof(delta) > CLASS_BUDGET_BYTES) {
        /* its increments do not fit: from now on classes are counted at
         * once (the stored ones keep counting) */
        T->full = true;
        store = false;
        T->scratch = *c;
        c = &T->scratch;
    }
    if (!store) {
        /* counted at once, and forgotten */
        apply(wk, &T->deltas[c->delta_at], c->delta_len, 1);
        T->ndeltas = mark;
        return c;
    }
    c->count = 1;
    c->hash = h;
    c->key_len = (uint32_t)len;
    c->key_at = T->nkeys;
    memcpy(&T->keys[T->nkeys], key, sizeof(int64_t) * (size_t)len);
    T->nkeys += (uint64_t)len;
    T->table[at] = (uint32_t)(T->ncls + 1);
    T->ncls++;
    return c;
}

/* ---------- the log of classes, for block repeats ---------- */

/* Entries at most; past it, no block repeats until the outermost
 * loop's block ends (the counts stay exact, only slower). */
#define LOG_MAX (UINT64_C(1) << 18)

static void log_event(tiles *T, uint64_t cls, uint64_t times) {
    if (T->log_off) return;
    if (T->nlog > T->log_floor && T->log[T->nlog - 1].cls == cls) {
        T->log[T->nlog - 1].times += times;
        return;
    }
    if (T->nlog == T->cap_log) {
        uint64_t cap = T->cap_log ? 2 * T->cap_log : 256;
        logent *q = cap <= LOG_MAX ? ef_realloc(T->log, sizeof(logent) * (size_t)cap) : NULL;
        if (!q) {
            T->log_off = true;
            return;
        }
        T->log = q;
        T->cap_log = cap;
    }
    T->log[T->nlog].cls = cls;
    T->log[T->nlog].times = times;
    T->nlog++;
}

/* Merges the entries of equal classes in log[from, nlog): a closed
 * block keeps one entry per class it saw. */
static void compact(tiles *T, uint64_t from) {
    if (T->log_off || from >= T->nlog || T->nlog - from < 2) return;
    if (T->cap_mark < T->ncls) {
        uint64_t cap = T->ncls * 2;
        uint64_t *pos = ef_realloc(T->mark_pos, sizeof(uint64_t) * (size_t)cap);
        if (pos) T->mark_pos = pos;
        uint64_t *ep = pos ? ef_realloc(T->mark_epoch, sizeof(uint64_t) * (size_t)cap) : NULL;
        if (!ep) {
            T->log_off = true;
            return;
        }
        T->mark_epoch = ep;
        for (uint64_t c = T->cap_mark; c < cap; c++) ep[c] = 0;
        T->cap_mark = cap;
    }
    uint64_t e = ++T->epoch, w = from;
    for (uint64_t q = from; q < T->nlog; q++) {
        uint64_t c = T->log[q].cls;
        if (T->mark_epoch[c] == e) {
            T->log[T->mark_pos[c]].times += T->log[q].times;
            continue;
        }
        T->mark_epoch[c] = e;
        T->mark_pos[c] = w;
        T->log[w++] = T->log[q];
    }
    T->nlog = w;
}

/* Blocks of the loops at positions p and inside begin now. */
static void begin_blocks(tiles *T, int p) {
    walker *wk = T->wk;
    int inner = wk->tl_begin[wk->nl - 1];
    for (int q = p; q < inner; q++) {
        block *b = &T->blk[q];
        b->repeatable = true;
        b->log_at = T->nlog;
        b->step = wk->step;
        b->scratch = T->scratch_events;
        for (int l = 1; l < wk->nl; l++) b->gen[l] = wk->sch->gens[l].count;
    }
    T->log_floor = T->nlog;
}

/* ---------- block repeats ----------
 *
 * Runs generalised to loops with loops inside. Loop p, with rank r and
 * stride d, has just taken index j + 1 >= 2; block j (its events at
 * index j, the inner loops' whole sub-odometer) is done. Block j + i
 * is block j with every base of the levels from lc on moved by i d in
 * rank r and by nothing else, event for event — as long as no point of
 * its sub-odometer is skipped at the bound of r, which (a) below
 * ensures. Its keys (make_key) then equal block j's wherever they do
 * not depend on r: the moves, the clipping of the other ranks, the
 * windows of dimensions r does not index, and the first-visit flag
 * (loop p is past index 0 in both, and the other loops are the same).
 * The entries that depend on r stay equal when they are saturated in
 * every event of blocks j .. j + k:
 *   (a) the clipping of r's box: bound - b >= reach for the largest
 *       base b that r takes in block j + k at the level;
 *   (b) each window of a dimension that r indexes cuts nothing: both
 *       key entries are the clamp bounds, which depend on the move
 *       alone. For a move of ct from e = expr(old base) - offset that
 *       is exactly: e and e + ct = expr(new base) - offset both lie in
 *       [-smin, extent - smax - 1] (the window is [-e, extent - e),
 *       the bounds smin + min(ct, 0) and smax + max(ct, 0) + 1), so it
 *       is enough that expr(b) - offset does for every base b of a
 *       tile of the blocks or the old base of their first events.
 * Those bases lie in a box: per rank, from the block's first base to
 * it plus the inner loops' reach in that rank, and in r from block j's
 * first base (or block j - 1's last, if lower) to (k - 1) d above block
 * j + 1's first plus that reach; expr's range follows term by term. No
 * tile of block j - 1 but its last is needed. Then the
 * k blocks have block j's classes in block j's order: each class
 * counts k times its events in block j (the log), each level's
 * generations of block j are copied k times (ef_gens_repeat), and the
 * walk resumes at the end of block j + k. */
static uint64_t block_repeats(const tiles *T, int p, int lc) {
#ifdef EF_TILES_VERIFY
    /* every event computed and checked instead */
    (void)T, (void)p, (void)lc;
    return 0;
#else
    const walker *wk = T->wk;
    const ef_nest *n = wk->n;
    const block *b = &T->blk[p];
    const ef_loop *lp = &n->loops[wk->tl[p]];
    if (T->log_off || !b->repeatable || b->scratch != T->scratch_events || wk->idx[p] < 2)
        return 0;
    int r = lp->rank;
    int64_t d = (int64_t)lp->stride, bound = (int64_t)wk->w->rank_bounds[r];
    int64_t k = (int64_t)(lp->factor - wk->idx[p]);
    if (d <= 0) return 0;
    for (int l = lc; l < wk->nl && k > 0; l++) {
        int64_t nb[EF_MAX_RANKS] = {0}, span[EF_MAX_RANKS] = {0};
        ef_walk_level_base(wk, l, nb);
        for (int q = p + 1; q < wk->tl_begin[l]; q++) {
            const ef_loop *lq = &n->loops[wk->tl[q]];
            span[lq->rank] += (int64_t)((lq->factor - 1) * lq->stride);
        }
        /* the smallest base r takes: block j's first, or block j - 1's
         * last (the old base of block j's first event) */
        int64_t first_r = nb[r] - d < nb[r] - 2 * d + span[r] ? nb[r] - d : nb[r] - 2 * d + span[r];
        int64_t room = bound - T->reach[l][r] - nb[r] - span[r];
        if (room < 0) return 0;
        if (room / d + 1 < k) k = room / d + 1;
        const keyplan *kp = &T->kp[l];
        for (int u = 0; u < kp->nwin && k > 0; u++) {
            int o = kp->win_op[u], dm = kp->win_dim[u];
            const ef_affine *a = &n->ops[o]->index[dm];
            const ef_tensor *tn = &wk->w->tensors[n->ops[o]->tensor];
            int64_t lo = a->constant - tn->offset[dm], hi = lo, up = 0, down = 0;
            bool uses_r = false;
            for (int q = 0; q < a->term_count; q++) {
                int rq = a->rank[q];
                int64_t c = a->coef[q], vlo = nb[rq], vhi = nb[rq] + span[rq];
                if (rq == r) {
                    uses_r = true;
                    vlo = first_r;
                    if (c > 0) up += c * d;
                    else down += c * d;
                }
                lo += c >= 0 ? c * vlo : c * vhi;
                hi += c >= 0 ? c * vhi : c * vlo;
            }
            if (!uses_r) continue;
            int64_t L = -T->smin[l][o][dm], U = tn->extent[dm] - T->smax[l][o][dm] - 1;
            if (lo < L || hi > U) return 0;
            /* each further block moves e by up (its largest) and down */
            if (up > 0 && (U - hi) / up + 1 < k) k = (U - hi) / up + 1;
            if (down < 0 && (lo - L) / -down + 1 < k) k = (lo - L) / -down + 1;
        }
    }
    return k > 0 ? (uint64_t)k : 0;
#endif
}

/* Counts blocks j + 1 .. j + k of loop p as copies of block j (above)
 * and leaves the walk at the end of block j + k: end_idx and end_tbase
 * are the odometer at the end of block j. */
static void repeat_blocks(tiles *T, int p, int lc, uint64_t k, const uint64_t *end_idx,
                          const int64_t *end_tbase) {
    walker *wk = T->wk;
    block *b = &T->blk[p];
    const ef_loop *lp = &wk->n->loops[wk->tl[p]];
    int r = lp->rank;
    int64_t d = (int64_t)lp->stride;
    uint64_t steps = wk->step - b->step, more_steps, per[EF_MAX_LEVELS] = {0};
    if (!ef_mul_u64(k, steps, &more_steps) || !ef_add_u64(wk->step, more_steps, &more_steps)) {
        wk->status = EF_ERR_OVERFLOW;
        return;
    }
    for (int l = lc; l < wk->nl; l++) per[l] = wk->sch->gens[l].count - b->gen[l];
    for (int l = lc; l < wk->nl && wk->status == EF_OK; l++) {
        /* generations of the level above in a block: the parents of
         * this level's copies move on by as many per copy */
        ef_status st = ef_gens_repeat(&wk->sch->gens[l], b->gen[l], k, steps,
                                      l - 1 >= lc ? per[l - 1] : 0, wk->step);
        if (st == EF_ERR_OVERFLOW)
            ef_walk_limit(wk, "level %s: the store of its tile generations would exceed "
                              "4 GiB",
                          wk->n->arch->levels[l].name);
        else if (st != EF_OK)
            wk->status = st;
        wk->cur_gen[l] = wk->sch->gens[l].count - 1;
        T->base[l][r] += (int64_t)k * d;
    }
    for (uint64_t q = b->log_at; q < T->nlog && wk->status == EF_OK; q++) {
        logent *e = &T->log[q];
        uint64_t more;
        if (!ef_mul_u64(e->times, k, &more) || !ef_add_u64(e->times, more, &e->times)) {
            wk->status = EF_ERR_OVERFLOW;
            return;
        }
        add(wk, &T->cls[e->cls].count, more);
    }
    wk->step = more_steps;
    memcpy(wk->idx, end_idx, sizeof(uint64_t) * (size_t)wk->tl_count);
    memcpy(wk->tbase, end_tbase, sizeof(int64_t) * EF_MAX_RANKS);
    wk->idx[p] += k;
    wk->tbase[r] += (int64_t)k * d;
    /* it now stands for k + 1 blocks */
    b->repeatable = false;
}

/* ---------- the walk ---------- */

/* The first-visit flag of level l's event: whether its entering output
 * words start empty (levels that keep the output) and whether its
 * steps' first updates of a word need no read (the innermost level). */
static bool first_visit(const walker *wk, int l) {
    return (wk->n->levels[l].keeps[wk->out] || l == wk->nl - 1) && ef_walk_first_visit(wk, l);
}

/* An event: the loops above level from_level moved. */
static void tile_event(tiles *T, int from_level) {
    walker *wk = T->wk;
    for (int l = from_level < 1 ? 1 : from_level; l < wk->nl && wk->status == EF_OK; l++) {
        int64_t nb[EF_MAX_RANKS] = {0};
        ef_walk_level_base(wk, l, nb);
        const tclass *c = count_event(T, l, T->has_base[l] ? T->base[l] : NULL, nb,
                                      first_visit(wk, l));
        if (!c) return;
        T->last_cls[l] = c == &T->scratch ? -1 : c - T->cls;
        if (c == &T->scratch) T->scratch_events++;
        else log_event(T, (uint64_t)(c - T->cls), 1);
        ef_walk_push_gen(wk, l, &c->cost);
        memcpy(T->base[l], nb, sizeof nb);
        T->has_base[l] = true;
        if (l == wk->nl - 1) T->block_steps = c->steps;
    }
}

/* How many more steps j keep clamp(w - j * step, lo, hi) where it is. */
static int64_t still(int64_t w, int64_t lo, int64_t hi, int64_t step) {
    if (step == 0 || (step > 0 && w <= lo) || (step < 0 && w >= hi)) return INT64_MAX;
    if (step > 0 && w >= hi) return (w - hi) / step;
    if (step < 0 && w <= lo) return (lo - w) / -step;
    return 0;
}

/* Runs of events. When the loops between position p and the innermost
 * level's loops all have factor 1, the events that follow this one are
 * increments of loop p alone, each moving the base of every level from
 * lc inward by the loop's stride d in its rank r, and nothing else.
 * Their keys (make_key) then differ from this event's only in entries
 * that move with r — the clipping of r's box by its bound and the
 * windows of dimensions r indexes — and those stay equal as long as
 * the clamps keep them saturated; the first-visit flag cannot change
 * (loop p is past index 0 now). Returns how many of the next events
 * provably have this event's classes. */
static uint64_t run_length(const tiles *T, int p, int lc) {
    const walker *wk = T->wk;
    const ef_nest *n = wk->n;
    int inner = wk->tl_begin[wk->nl - 1];
    for (int q = p + 1; q < inner; q++)
        if (n->loops[wk->tl[q]].factor > 1) return 0;
    const ef_loop *lp = &n->loops[wk->tl[p]];
    int r = lp->rank;
    int64_t d = (int64_t)lp->stride, bound = (int64_t)wk->w->rank_bounds[r];
    int64_t run = (int64_t)(lp->factor - 1 - wk->idx[p]);
    for (int l = lc; l < wk->nl && run > 0; l++) {
        if (T->last_cls[l] < 0) return 0;
        /* the old base of the j-th next event is this event's old base
         * (b) plus j * d, its new base b + (j + 1) * d */
        int64_t b = T->base[l][r] - d, reach = T->reach[l][r];
        if (bound - b < reach || bound - b - d < reach) return 0;
        int64_t fit = (bound - b - d - reach) / d;
        if (fit < run) run = fit;
        const keyplan *kp = &T->kp[l];
        for (int u = 0; u < kp->nwin && run > 0; u++) {
            int o = kp->win_op[u], dm = kp->win_dim[u];
            const ef_affine *a = &n->ops[o]->index[dm];
            const ef_tensor *tn = &wk->w->tensors[n->ops[o]->tensor];
            int64_t c = 0, a0 = a->constant - tn->offset[dm];
            for (int q = 0; q < a->term_count; q++) {
                int64_t rb = T->base[l][a->rank[q]] - (a->rank[q] == r ? d : 0);
                a0 += a->coef[q] * rb;
                if (a->rank[q] == r) c = a->coef[q];
            }
            if (!c) continue;
            int64_t ct = c * d;
            int64_t lo = T->smin[l][o][dm] + (ct < 0 ? ct : 0);
            int64_t hi = T->smax[l][o][dm] + (ct > 0 ? ct : 0) + 1;
            int64_t f1 = still(-a0, lo, hi, ct), f2 = still(tn->extent[dm] - a0, lo, hi, ct);
            if (f1 < run) run = f1;
            if (f2 < run) run = f2;
        }
    }
    return run > 0 ? (uint64_t)run : 0;
}

/* Counts the next `count` events (run_length) without computing them:
 * each adds one event to every moved level's class and its generation. */
static void repeat_events(tiles *T, int p, int lc, uint64_t count) {
    walker *wk = T->wk;
    const ef_loop *lp = &wk->n->loops[wk->tl[p]];
    int r = lp->rank;
    int64_t d = (int64_t)lp->stride;
    for (uint64_t j = 0; j < count && wk->status == EF_OK; j++) {
        wk->step += T->block_steps;
        wk->idx[p]++;
        wk->tbase[r] += d;
        for (int l = lc; l < wk->nl; l++) {
            tclass *c = &T->cls[T->last_cls[l]];
#ifdef EF_TILES_VERIFY
            int64_t key[KEY_MAX], nb[EF_MAX_RANKS] = {0};
            ef_walk_level_base(wk, l, nb);
            bool first = first_visit(wk, l);
            int len = make_key(T, l, T->base[l], nb, first, key);
            if (len != (int)c->key_len ||
                memcmp(key, &T->keys[c->key_at], sizeof(int64_t) * (size_t)len)) {
                fprintf(stderr, "tiles.c: level %d: a repeated event has another key\n", l);
                abort();
            }
            verify(T, c, l, T->base[l], nb, first);
#endif
            c->count++;
            ef_walk_push_gen(wk, l, &c->cost);
            T->base[l][r] += d;
        }
    }
    for (int l = lc; l < wk->nl; l++) log_event(T, (uint64_t)T->last_cls[l], count);
    /* the block of loop p now stands for several: it repeats no more */
    T->blk[p].repeatable = false;
}

/* Moves the temporal odometer past the innermost level's tile: the
 * next point at which a loop above that level changes (ef_walk_carry of
 * the exact walk, skipping the steps in between). Returns the outermost
 * loop position that changed, or -1 when the nest is done. */
static int advance_tile(walker *wk) {
    const ef_nest *n = wk->n;
    int inner = wk->tl_begin[wk->nl - 1];
    for (int p = inner; p < wk->tl_count; p++) {
        const ef_loop *lp = &n->loops[wk->tl[p]];
        wk->tbase[lp->rank] -= (int64_t)(wk->idx[p] * lp->stride);
        wk->idx[p] = 0;
    }
    return ef_walk_carry(wk, inner - 1);
}

void ef_walk_tiles(walker *wk) {
    tiles *T = ef_calloc(1, sizeof *T);
    if (!T) {
        wk->status = EF_ERR_NOMEM;
        return;
    }
    T->wk = wk;
    setup(T);
    if (wk->status == EF_OK) {
        /* the outermost level holds every tensor from the start */
        lvl_state *L0 = &wk->L[0];
        for (int o = 0; o < wk->ops; o++) {
            if (!wk->n->levels[0].keeps[o]) continue; /* an on-chip intermediate */
            slot_counts(T, 0, o, NULL, T->zero, false, false);
            L0->max_words[o] = T->pn[0];
            if (o == wk->out) L0->empty[o] = T->pn[0];
        }
        L0->used[0] = true;
        if (wk->nl == 1) {
            /* one level: its only tile is the whole nest */
            tclass *c = &T->scratch;
            memset(c, 0, sizeof *c);
            compute(T, 0, NULL, T->zero, true, c);
            apply(wk, &T->deltas[c->delta_at], c->delta_len, 1);
            T->ndeltas = 0;
            T->block_steps = c->steps;
            wk->sch->whole_stream = c->cost.stream;
        }
        begin_blocks(T, 0);
        tile_event(T, 0);
    }
    uint64_t end_idx[EF_MAX_LOOPS];
    int64_t end_tbase[EF_MAX_RANKS];
    while (wk->status == EF_OK) {
        wk->step += T->block_steps;
        int p, lc;
        for (;;) {
            memcpy(end_idx, wk->idx, sizeof(uint64_t) * (size_t)wk->tl_count);
            memcpy(end_tbase, wk->tbase, sizeof end_tbase);
            p = advance_tile(wk);
            if (p < 0) break;
            lc = ef_walk_level_of_change(wk, p);
            /* the blocks of loops p and inside end: one entry per class */
            compact(T, T->blk[p].log_at);
            uint64_t k = block_repeats(T, p, lc);
            if (!k) break;
            repeat_blocks(T, p, lc, k, end_idx, end_tbase);
            if (wk->status != EF_OK) break;
        }
        if (p < 0 || wk->status != EF_OK) break;
        if (p == 0) {
            /* nothing before the outermost loop's new block is needed */
            T->nlog = 0;
            T->log_off = false;
        }
        begin_blocks(T, p);
        tile_event(T, lc);
        uint64_t more = wk->status == EF_OK ? run_length(T, p, lc) : 0;
        if (more) repeat_events(T, p, lc, more);
    }
    /* final write-back of every output still held below the top */
    for (int l = wk->nl - 1; l >= 1 && wk->status == EF_OK; l--) {
        if (!wk->n->levels[l].keeps[wk->out] || !T->has_base[l]) continue;
        tclass *c = &T->scratch;
        memset(c, 0, sizeof *c);
        uint64_t mark = T->ndeltas;
        compute(T, l, T->base[l], NULL, false, c);
        apply(wk, &T->deltas[c->delta_at], c->delta_len, 1);
        T->ndeltas = mark;
        wk->ev_drain_bytes[l] += c->drain_bytes;
        wk->ev_inst_drain_bytes[l] += c->inst_drain_bytes;
        wk->ev_partial_bytes[l] += c->partial_bytes;
    }
    for (uint64_t q = 0; q < T->ncls && wk->status == EF_OK; q++)
        apply(wk, &T->deltas[T->cls[q].delta_at], T->cls[q].delta_len, T->cls[q].count);
    teardown(T);
    free(T);
}
