/* The plan of a fused group (fuse_plan.h): decided from the workload
 * and the architecture alone, before any mapping is drawn.
 *
 * An intermediate stays on chip when every Einsum that reads it is in
 * the group and reads it at the indices its producer writes; the
 * group must be tied together by such intermediates. Its shared loops
 * may walk only ranks that index every on-chip intermediate: then each
 * iteration finishes its slice of every intermediate (a producer never
 * loops above the fusion level over a rank it reduces) and every
 * consumer finds the slice its producer just made (model/fuse.c checks
 * the same on the mappings). A tiling of those loops fixes the tiles
 * at the fusion level — every rank it does not walk is covered whole
 * below it — so what the group's tiles take there, and what the
 * off-chip tensors cost in DRAM traffic, follow from the tiling alone.
 * A recurrence kept on chip is running state: its rank's shared loop
 * steps it one step per iteration (tile 1, innermost) or leaves it
 * whole below the level; an Einsum without that rank (the tail) reads
 * its last step and runs without the loop (fuse_search.c). */
#include "map/fuse_plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHOICES 24       /* tile sizes tried per shared rank        */
#define MAX_COMBOS 4096      /* tilings (before loop orders) per level  */

static const ef_einsum *einsum(const ef_workload *w, int e) { return &w->einsums[e]; }

const char *ef_fplan_name(const ef_workload *w, int first, int count, char *buf,
                          size_t size) {
    const char *a = w->tensors[einsum(w, first)->output.tensor].name;
    const char *b = w->tensors[einsum(w, first + count - 1)->output.tensor].name;
    if (count == 1) snprintf(buf, size, "%s", a);
    else snprintf(buf, size, "%s .. %s", a, b);
    return buf;
}

/* Every dimension indexed by one rank, plainly: x[h,m,p]. */
static bool plain(const ef_operand *op) {
    for (int d = 0; d < op->dims; d++) {
        const ef_affine *a = &op->index[d];
        if (a->term_count != 1 || a->coef[0] != 1 || a->constant != 0) return false;
    }
    return true;
}

static bool same_indices(const ef_operand *a, const ef_operand *b) {
    if (a->dims != b->dims || !plain(a) || !plain(b)) return false;
    for (int d = 0; d < a->dims; d++)
        if (a->index[d].rank[0] != b->index[d].rank[0]) return false;
    return true;
}

/* Whether consumer c reads producer p's output `out` through `in` where
 * a fused group can hand it over: at the indices it is written (plain);
 * a recurrence's tensor also at the step written (r+1), the step before
 * (r: the old value) or, by an Einsum without the rank, the last step
 * (model/fuse.c). */
static bool reads_as_written(const ef_workload *w, const ef_einsum *c, const ef_einsum *p,
                             const ef_operand *in, const ef_operand *out) {
    int rd = p->recurrence_dim, r = p->recurrence_rank;
    if (r < 0) return same_indices(in, out);
    if (in->dims != out->dims) return false;
    for (int d = 0; d < in->dims; d++) {
        const ef_affine *a = &in->index[d], *b = &out->index[d];
        if (d != rd) {
            if (a->term_count != 1 || a->coef[0] != 1 || a->constant != 0 ||
                b->term_count != 1 || a->rank[0] != b->rank[0])
                return false;
            continue;
        }
        bool stepped = a->term_count == 1 && a->rank[0] == r && a->coef[0] == 1 &&
                       (a->constant == b->constant || a->constant == b->constant - 1);
        bool last = a->term_count == 0 && a->constant == (int64_t)w->rank_bounds[r] &&
                    !c->rank_used[r];
        if (!stepped && !last) return false;
    }
    return true;
}

/* The recurrence rank of an on-chip recurrence of g stepping along r:
 * its shared loop must cover it whole or not at all, innermost. */
static bool state_rank(const ef_workload *w, const ef_fplan *g, int r) {
    for (int m = 0; m < g->count; m++) {
        const ef_einsum *e = &w->einsums[g->first + m];
        if (e->recurrence_rank == r && g->on_chip[e->output.tensor]) return true;
    }
    return false;
}

static bool indexes(const ef_operand *op, int r) {
    for (int d = 0; d < op->dims; d++)
        for (int k = 0; k < op->index[d].term_count; k++)
            if (op->index[d].rank[k] == r) return true;
    return false;
}

static int root(int *parent, int e) {
    while (parent[e] != e) e = parent[e] = parent[parent[e]];
    return e;
}

bool ef_fplan_group(const ef_workload *w, int first, int count, const bool *vector,
                    ef_fplan *g, char *why, size_t size) {
    memset(g, 0, sizeof *g);
    g->first = first;
    g->count = count;
    for (int i = 0; i < count; i++) g->vector[i] = vector[first + i];
    int last = first + count - 1;
    if (count < 2) {
        snprintf(why, size, "a single Einsum");
        return false;
    }
    int parent[EF_MAX_EINSUMS];
    for (int e = 0; e < w->einsum_count; e++) parent[e] = e;
    int first_on_chip = -1;
    for (int p = first; p <= last; p++) {
        const ef_operand *out = &einsum(w, p)->output;
        bool read = false, inside = true;
        for (int c = 0; c < w->einsum_count; c++) {
            if (c == p) continue;
            for (int i = 0; i < einsum(w, c)->input_count; i++) {
                const ef_operand *in = &einsum(w, c)->inputs[i];
                if (in->tensor != out->tensor) continue;
                read = true;
                inside &= c > p && c <= last && reads_as_written(w, einsum(w, c), einsum(w, p),
                                                                 in, out);
            }
        }
        if (!read || !inside) continue;
        g->on_chip[out->tensor] = true;
        if (first_on_chip < 0) first_on_chip = p;
        for (int c = p + 1; c <= last; c++)
            for (int i = 0; i < einsum(w, c)->input_count; i++)
                if (einsum(w, c)->inputs[i].tensor == out->tensor)
                    parent[root(parent, c)] = root(parent, p);
    }
    for (int e = first + 1; e <= last; e++)
        if (root(parent, e) != root(parent, first)) {
            snprintf(why, size, "%s passes nothing on chip to %s (an intermediate stays on "
                     "chip only when all its readers are fused with its writer and read it "
                     "at the indices it is written)",
                     w->tensors[einsum(w, e)->output.tensor].name,
                     w->tensors[einsum(w, first)->output.tensor].name);
            return false;
        }
    /* ranks that index every on-chip intermediate, in the order the
     * first one lists them */
    const ef_operand *lead = &einsum(w, first_on_chip)->output;
    for (int d = 0; d < lead->dims; d++) {
        int r = lead->index[d].rank[0];
        if (w->rank_bounds[r] <= 1) continue;
        bool all = true;
        for (int p = first; p <= last; p++)
            if (g->on_chip[einsum(w, p)->output.tensor]) all &= indexes(&einsum(w, p)->output, r);
        bool dup = false;
        for (int q = 0; q < g->nshared; q++) dup |= g->shared[q] == r;
        if (all && !dup) g->shared[g->nshared++] = r;
    }
    return true;
}

/* ---------- levels ---------- */

/* A level's room for sorting, in bytes (words counted as 2 B, a
 * partitioned level as the sum of its partitions); unlimited first. */
static double room(const ef_level_spec *ls) {
    if (ls->partition_count) {
        double sum = 0;
        for (int p = 0; p < ls->partition_count; p++) {
            const ef_capacity *c = &ls->partitions[p].capacity;
            sum += (double)c->amount * (c->in_words ? 2 : 1);
        }
        return sum;
    }
    if (!ls->capacity.given || ls->capacity.amount == 0) return INFINITY;
    return (double)ls->capacity.amount * (ls->capacity.in_words ? 2 : 1);
}

int ef_fplan_levels(const ef_arch_spec *arch, const ef_fplan *g, int *levels) {
    int top = arch->level_count - 1;
    for (int i = 0; i < g->count; i++)
        if (g->vector[i] && arch->vector_unit.from_level < top) top = arch->vector_unit.from_level;
    bool vector = false;
    for (int i = 0; i < g->count; i++) vector |= g->vector[i];
    int n = 0;
    /* the lanes cannot reach a PE's own storage; of the per-PE levels
     * only the outermost, right below the spatial loops (a deeper one
     * would need the loops of those between shared too) */
    for (int l = 1; l <= top; l++)
        if (!arch->levels[l].per_pe || (!vector && !arch->levels[l - 1].per_pe)) levels[n++] = l;
    /* largest first; the outer of two alike first (stable insertion) */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && room(&arch->levels[levels[j]]) > room(&arch->levels[levels[j - 1]]);
             j--) {
            int t = levels[j];
            levels[j] = levels[j - 1];
            levels[j - 1] = t;
        }
    return n;
}

/* ---------- what a tiling takes and moves ---------- */

static uint64_t sat_mul(uint64_t a, uint64_t b) {
    uint64_t r;
    return ef_mul_u64(a, b, &r) ? r : UINT64_MAX;
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* Words of op's tile when every rank r spans tile[r]: per dimension the
 * values its index takes (a window counts its whole reach), at most the
 * dimension's extent with padding — what a buffer must have room for. */
static uint64_t tile_words(const ef_workload *w, const ef_operand *op, const uint64_t *tile) {
    const ef_tensor *t = &w->tensors[op->tensor];
    uint64_t words = 1;
    for (int d = 0; d < op->dims; d++) {
        const ef_affine *a = &op->index[d];
        uint64_t span = 1;
        for (int k = 0; k < a->term_count; k++) {
            uint64_t c = (uint64_t)(a->coef[k] < 0 ? -a->coef[k] : a->coef[k]);
            span += sat_mul(c, tile[a->rank[k]] - 1);
        }
        uint64_t full = (uint64_t)(t->extent[d] + t->pad[d]);
        words = sat_mul(words, span < full ? span : full);
    }
    return words;
}

static const ef_operand *operand(const ef_einsum *e, int o) {
    return o == e->input_count ? &e->output : &e->inputs[o];
}

/* What the group's tiles take at level l together (model/fuse.c's
 * rule: each on-chip intermediate once, every other tile once per
 * Einsum that keeps it, doubled when double-buffered), in the level's
 * unit; false when they do not fit. A per-PE level counts one PE's
 * on-chip tiles only: the other tensors may stream from above (the
 * member searches decide, within what is left). `only` >= 0 counts
 * member `only`'s tiles alone, as its own nest does. */
static bool fits_of(const ef_arch_spec *arch, const ef_workload *w, const ef_fplan *g, int l,
                    const uint64_t *tile, int only, uint64_t *need) {
    const ef_level_spec *ls = &arch->levels[l];
    uint64_t mult = ls->double_buffer ? 2 : 1;
    uint64_t words[EF_MAX_TENSORS * 4] = {0}, bytes[EF_MAX_TENSORS * 4] = {0};
    bool counted[EF_MAX_TENSORS * 4] = {false};
    for (int m = 0; m < g->count; m++) {
        if (only >= 0 && m != only) continue;
        const ef_einsum *e = einsum(w, g->first + m);
        for (int o = 0; o <= e->input_count; o++) {
            const ef_operand *op = operand(e, o);
            int t = op->tensor;
            if (ls->per_pe && !g->on_chip[t]) continue;
            /* scores in the PEs: not at the shared fusion level */
            if (g->inner[t] && !ls->per_pe) continue;
            /* a member alone counts each operand's tile, a recurrence's
             * old and new values apart (model/nest.c) */
            if (g->on_chip[t] && only < 0) {
                if (counted[t]) continue;
                counted[t] = true;
            }
            uint64_t tw = sat_mul(tile_words(w, op, tile), mult);
            words[t] += tw;
            bytes[t] += tw == UINT64_MAX ? UINT64_MAX / 16 : ef_words_to_bytes(tw, w->tensors[t].bits);
        }
    }
    uint64_t sum_words = 0, sum_bytes = 0;
    for (int t = 0; t < w->tensor_count; t++) {
        sum_words += words[t] > UINT64_MAX / 64 ? UINT64_MAX / 64 : words[t];
        sum_bytes += bytes[t] > UINT64_MAX / 64 ? UINT64_MAX / 64 : bytes[t];
    }
    if (ls->partition_count == 0) {
        *need = ls->capacity.in_words ? sum_words : sum_bytes;
        return !ls->capacity.given || ls->capacity.amount == 0 || *need <= ls->capacity.amount;
    }
    /* partitioned: every tensor kept there needs a partition of its own */
    *need = sum_bytes;
    bool ok = true;
    for (int t = 0; t < w->tensor_count; t++) {
        if (!words[t]) continue;
        const ef_partition *part = NULL;
        for (int p = 0; p < ls->partition_count; p++)
            if (!strcmp(ls->partitions[p].tensor, w->tensors[t].name)) part = &ls->partitions[p];
        ok &= part && (part->capacity.in_words ? words[t] : bytes[t]) <= part->capacity.amount;
    }
    return ok;
}

static bool fits(const ef_arch_spec *arch, const ef_workload *w, const ef_fplan *g, int l,
                 const uint64_t *tile, uint64_t *need) {
    return fits_of(arch, w, g, l, tile, -1, need);
}

uint64_t ef_fplan_member_on_chip(const ef_arch_spec *arch, const ef_workload *w,
                                 const ef_fplan *g, int l, int m, const uint64_t *tile) {
    uint64_t need = 0;
    fits_of(arch, w, g, l, tile, m, &need);
    return need;
}

/* DRAM traffic of the group's off-chip tensors under the shared loops
 * (outermost first): a tile at the fusion level changes whenever a
 * loop outside its innermost relevant one steps (Timeloop's rule, as
 * the estimate counts it), and an output whose tile comes back before
 * it is done reads its partial sums again. */
static double dram_bytes(const ef_workload *w, const ef_fplan *g, const ef_map_loop *loops,
                         int n, const uint64_t *tile) {
    double sum = 0;
    for (int m = 0; m < g->count; m++) {
        const ef_einsum *e = einsum(w, g->first + m);
        for (int o = 0; o <= e->input_count; o++) {
            const ef_operand *op = operand(e, o);
            if (g->on_chip[op->tensor]) continue;
            double changes = 1, distinct = 1;
            int inner = -1;
            for (int i = 0; i < n; i++)
                if (indexes(op, loops[i].rank)) inner = i;
            for (int i = 0; i <= inner; i++) {
                changes *= (double)loops[i].factor;
                if (indexes(op, loops[i].rank)) distinct *= (double)loops[i].factor;
            }
            double words = (double)tile_words(w, op, tile);
            double moved = words * changes;
            if (o == e->input_count) moved += words * (changes - distinct);
            sum += moved * (double)w->tensors[op->tensor].bits / 8.0;
        }
    }
    return sum;
}

/* ---------- scores in the PEs ---------- */

static bool touches(const ef_einsum *e, int t) {
    if (e->output.tensor == t) return true;
    for (int i = 0; i < e->input_count; i++)
        if (e->inputs[i].tensor == t) return true;
    return false;
}

/* Whether operand op indexes every rank (bound > 1) of the scores, the
 * output of the group's first on-chip product. */
static bool score_shaped(const ef_workload *w, const ef_operand *scores, const ef_operand *op) {
    for (int r = 0; r < w->rank_count; r++)
        if (w->rank_bounds[r] > 1 && indexes(scores, r) && !indexes(op, r)) return false;
    return true;
}

bool ef_fplan_split(const ef_arch_spec *arch, const ef_workload *w, const ef_fplan *g,
                    int level, const bool *movable, ef_fplan *out) {
    *out = *g;
    if (arch->levels[level].per_pe || level + 1 >= arch->level_count ||
        !arch->levels[level + 1].per_pe)
        return false;
    out->array_like = -1;
    for (int m = 0; m < g->count && out->array_like < 0; m++) {
        const ef_einsum *p = einsum(w, g->first + m);
        if (p->is_mac && g->on_chip[p->output.tensor]) out->array_like = g->first + m;
    }
    if (out->array_like < 0) return false;
    const ef_operand *scores = &w->einsums[out->array_like].output;
    /* the Einsums sweeping the scores go to the array */
    for (int m = 0; m < g->count; m++) {
        const ef_einsum *e = einsum(w, g->first + m);
        if (!g->vector[m] || !movable[m] || e->is_mac || e->recurrence_rank >= 0) continue;
        bool sweeps = true;
        for (int r = 0; r < w->rank_count && sweeps; r++)
            if (w->rank_bounds[r] > 1 && indexes(scores, r)) sweeps = e->rank_used[r];
        out->moved[m] = sweeps;
        if (sweeps) out->vector[m] = false;
    }
    /* the score-shaped intermediates only the array touches stay in the
     * PEs; the others (the reductions of them, what the vector unit
     * reads) at the shared level */
    out->inner_level = level + 1;
    bool any = false;
    for (int m = 0; m < g->count; m++) {
        const ef_einsum *p = einsum(w, g->first + m);
        int t = p->output.tensor;
        /* running state steps at the fusion level (model/fuse.c) */
        if (!g->on_chip[t] || out->vector[m] || p->recurrence_rank >= 0 ||
            !score_shaped(w, scores, &p->output))
            continue;
        bool array_only = true;
        for (int c = 0; c < g->count && array_only; c++)
            if (c != m && touches(einsum(w, g->first + c), t)) array_only = !out->vector[c];
        if (!array_only) continue;
        out->inner[t] = true;
        any = true;
        for (int c = 0; c < g->count; c++)
            if (touches(einsum(w, g->first + c), t)) out->cluster[c] = true;
    }
    if (!any) out->inner_level = 0;
    return any;
}

/* A rank the spread may use: one of every inner intermediate and of
 * every member touching one, never a recurrence's (its steps run in
 * turn), with more than one index in the tile. */
static bool spread_rank(const ef_workload *w, const ef_fplan *g, const ef_ftiling *t, int r) {
    if (t->tile[r] < 2 || state_rank(w, g, r)) return false;
    for (int m = 0; m < g->count; m++) {
        const ef_einsum *e = einsum(w, g->first + m);
        if (g->cluster[m] && !e->rank_used[r]) return false;
        if (g->inner[e->output.tensor] && !indexes(&e->output, r)) return false;
    }
    return true;
}

static uint64_t largest_divisor_upto(uint64_t n, uint64_t cap) {
    for (uint64_t d = cap < n ? cap : n; d > 1; d--)
        if (n % d == 0) return d;
    return 1;
}

/* Each rank's extent in one PE under t's spread. */
static void pe_tile(const ef_workload *w, const ef_ftiling *t, uint64_t *tile) {
    for (int r = 0; r < w->rank_count; r++) tile[r] = t->tile[r];
    for (int i = 0; i < t->row_count; i++) tile[t->rows[i].rank] /= t->rows[i].factor;
    for (int i = 0; i < t->col_count; i++) tile[t->cols[i].rank] /= t->cols[i].factor;
}

uint64_t ef_fplan_inner_need(const ef_arch_spec *arch, const ef_workload *w,
                             const ef_fplan *g, const ef_ftiling *t, int m) {
    const ef_level_spec *ls = &arch->levels[g->inner_level];
    uint64_t tile[EF_MAX_RANKS], words = 0, bytes = 0;
    bool counted[EF_MAX_TENSORS * 4] = {false};
    pe_tile(w, t, tile);
    for (int j = 0; j < g->count; j++) {
        if (m >= 0 && j != m) continue;
        const ef_einsum *e = einsum(w, g->first + j);
        for (int o = 0; o <= e->input_count; o++) {
            const ef_operand *op = operand(e, o);
            if (!g->inner[op->tensor] || counted[op->tensor]) continue;
            counted[op->tensor] = true;
            uint64_t tw = sat_mul(tile_words(w, op, tile), ls->double_buffer ? 2 : 1);
            words = sat_add(words, tw);
            bytes = sat_add(bytes, ef_words_to_bytes(tw, w->tensors[op->tensor].bits));
        }
    }
    return ls->capacity.in_words ? words : bytes;
}

bool ef_fplan_spread(const ef_arch_spec *arch, const ef_workload *w, const ef_fplan *g,
                     ef_ftiling *t) {
    const ef_level_spec *ls = &arch->levels[g->inner_level];
    uint64_t room = ls->capacity.given && ls->capacity.amount ? ls->capacity.amount : UINT64_MAX;
    int cand[EF_MAX_RANKS + 1], nc = 0;
    cand[nc++] = -1; /* an axis left unspread */
    for (int r = 0; r < w->rank_count; r++)
        if (spread_rank(w, g, t, r)) cand[nc++] = r;
    uint64_t best_pes = 0, best_need = UINT64_MAX;
    ef_ftiling best = *t;
    for (int i = 0; i < nc; i++)
        for (int j = 0; j < nc; j++) {
            int ra = cand[i], rc = cand[j];
            if (ra >= 0 && ra == rc) continue;
            ef_ftiling x = *t;
            x.row_count = x.col_count = 0;
            uint64_t a = ra >= 0 ? largest_divisor_upto(t->tile[ra], (uint64_t)arch->rows) : 1;
            uint64_t c = rc >= 0 ? largest_divisor_upto(t->tile[rc], (uint64_t)arch->cols) : 1;
            if (a > 1) x.rows[x.row_count++] = (ef_map_loop){ra, a};
            if (c > 1) x.cols[x.col_count++] = (ef_map_loop){rc, c};
            uint64_t need = ef_fplan_inner_need(arch, w, g, &x, -1);
            if (need > room) continue;
            if (a * c > best_pes || (a * c == best_pes && need < best_need)) {
                best_pes = a * c;
                best_need = need;
                best = x;
            }
        }
    if (!best_pes) return false;
    *t = best;
    return true;
}

/* ---------- tilings ---------- */

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Tile sizes tried for a rank of bound b: its divisors and b / 2^k
 * rounded up (imperfect tiles, for bounds with few divisors), at most
 * `keep` of them spread from 1 to b. */
static int tile_choices(uint64_t b, uint64_t *out, int keep) {
    uint64_t all[256];
    int n = 0;
    for (uint64_t d = 1; d * d <= b && n < 200; d++) {
        if (b % d) continue;
        all[n++] = d;
        if (b / d != d) all[n++] = b / d;
    }
    for (uint64_t q = 2; q < b && n < 250; q *= 2) all[n++] = (b + q - 1) / q;
    qsort(all, (size_t)n, sizeof all[0], cmp_u64);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!k || all[i] != all[k - 1]) all[k++] = all[i];
    if (k <= keep) {
        memcpy(out, all, sizeof all[0] * (size_t)k);
        return k;
    }
    /* evenly spread over the sorted list, the ends kept */
    for (int i = 0; i < keep; i++) out[i] = all[(size_t)i * (size_t)(k - 1) / (size_t)(keep - 1)];
    return keep;
}

/* The next permutation of a[0..n) in lexicographic order; false after
 * the last. */
static bool next_perm(int *a, int n) {
    int i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1]) i--;
    if (i < 0) return false;
    int j = n - 1;
    while (a[j] <= a[i]) j--;
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
    for (int l = i + 1, r = n - 1; l < r; l++, r--) {
        t = a[l];
        a[l] = a[r];
        a[r] = t;
    }
    return true;
}

/* The loop order of the tiling with the least DRAM traffic (ties: the
 * first in the group's order), the off-chip tiles spanning dtile. */
static void best_order(const ef_workload *w, const ef_fplan *g, ef_ftiling *t,
                       const uint64_t *dtile) {
    int n = t->loop_count, perm[EF_MAX_RANKS];
    ef_map_loop base[EF_MAX_RANKS], trial[EF_MAX_RANKS];
    /* a recurrence's state loop goes innermost, and stays there */
    for (int i = 0; i + 1 < n; i++)
        if (state_rank(w, g, t->loops[i].rank)) {
            ef_map_loop x = t->loops[i];
            memmove(&t->loops[i], &t->loops[i + 1], sizeof x * (size_t)(n - 1 - i));
            t->loops[n - 1] = x;
            break;
        }
    memcpy(base, t->loops, sizeof base[0] * (size_t)n);
    for (int i = 0; i < n; i++) perm[i] = i;
    t->dram_bytes = dram_bytes(w, g, base, n, dtile);
    if (n > 5) return; /* 720 orders and more: keep the group's */
    bool pinned = n > 0 && state_rank(w, g, base[n - 1].rank);
    while (next_perm(perm, n)) {
        if (pinned && perm[n - 1] != n - 1) continue;
        for (int i = 0; i < n; i++) trial[i] = base[perm[i]];
        double b = dram_bytes(w, g, trial, n, dtile);
        if (b < t->dram_bytes) {
            t->dram_bytes = b;
            memcpy(t->loops, trial, sizeof trial[0] * (size_t)n);
        }
    }
}

static int cmp_tiling(const void *a, const void *b) {
    const ef_ftiling *x = a, *y = b;
    if (x->iterations != y->iterations) return x->iterations < y->iterations ? -1 : 1;
    if (x->dram_bytes != y->dram_bytes) return x->dram_bytes < y->dram_bytes ? -1 : 1;
    return x->need < y->need ? -1 : x->need > y->need;
}

/* ---------- tilings at a per-PE level ---------- */

/* One way to split a shared rank at a per-PE level: t in each PE,
 * spread over a rows and c columns of PEs (a x c divides the tiles
 * left, ceil(bound / t)), the rest walked in time. */
typedef struct {
    uint64_t t, a, c;
} pe_split;

#define MAX_SPLITS 48          /* splits kept per shared rank           */
#define MAX_PE_VISITS 100000   /* combinations of splits visited        */
#define ALL_SPLITS 1024

static bool every_member_has(const ef_workload *w, const ef_fplan *g, int r) {
    for (int m = 0; m < g->count; m++)
        if (!einsum(w, g->first + m)->rank_used[r]) return false;
    return true;
}

/* Every split of shared rank r (at most ALL_SPLITS). Only a rank every
 * member has is spread (model/fuse.c: the same spatial loops in every
 * member), and never a recurrence's, whose steps run one after
 * another: it steps one tile per iteration or runs whole in the PE. */
static int rank_splits(const ef_arch_spec *arch, const ef_workload *w, const ef_fplan *g,
                       int r, pe_split *out) {
    uint64_t b = w->rank_bounds[r], tiles[MAX_CHOICES];
    int nt;
    bool state = state_rank(w, g, r), spread = !state && every_member_has(w, g, r);
    if (state) {
        tiles[0] = 1;
        tiles[1] = b;
        nt = b > 1 ? 2 : 1;
    } else {
        nt = tile_choices(b, tiles, MAX_CHOICES);
    }
    int n = 0;
    for (int i = 0; i < nt; i++) {
        uint64_t q = (b + tiles[i] - 1) / tiles[i];
        for (uint64_t a = 1; a <= q && a <= (uint64_t)arch->rows; a++) {
            if (q % a || (!spread && a > 1)) continue;
            for (uint64_t c = 1; c <= q / a && c <= (uint64_t)arch->cols; c++) {
                if ((q / a) % c || (!spread && c > 1)) continue;
                if (n < ALL_SPLITS) out[n++] = (pe_split){tiles[i], a, c};
            }
        }
    }
    return n;
}

/* keep of the n splits, evenly spread over the list, the ends kept. */
static int thin(const pe_split *all, int n, pe_split *out, int keep) {
    if (n <= keep) {
        memcpy(out, all, sizeof all[0] * (size_t)n);
        return n;
    }
    for (int i = 0; i < keep; i++) out[i] = all[(size_t)i * (size_t)(n - 1) / (size_t)(keep - 1)];
    return keep;
}

static int cmp_pe_tiling(const void *a, const void *b) {
    const ef_ftiling *x = a, *y = b;
    if (x->pe_steps != y->pe_steps) return x->pe_steps < y->pe_steps ? -1 : 1;
    return cmp_tiling(a, b);
}

/* Tilings at a per-PE level: every shared rank's tile in one PE, its
 * spread over the rows and columns, and the temporal loops above; the
 * on-chip tiles of one PE must fit there (fits). Of those that move
 * within 10% of the least DRAM traffic, the ones whose PEs do the least
 * shared work in turn (most spread, then fewest iterations) come
 * first, one per amount of that work. */
static int pe_tilings(const ef_arch_spec *arch, const ef_workload *w, const ef_fplan *g,
                      int level, ef_ftiling *out, int max, uint64_t *least_need) {
    int ns = g->nshared;
    pe_split (*split)[MAX_SPLITS] = ef_calloc(EF_MAX_RANKS, sizeof *split);
    int nall_split[EF_MAX_RANKS], nsplit[EF_MAX_RANKS];
    ef_ftiling *kept = ef_calloc(MAX_COMBOS + 1, sizeof *kept);
    pe_split(*full)[ALL_SPLITS] = ef_calloc(EF_MAX_RANKS, sizeof *full);
    if (!split || !kept || !full) {
        free(split);
        free(kept);
        free(full);
        return -1;
    }
    for (int q = 0; q < ns; q++) nall_split[q] = rank_splits(arch, w, g, g->shared[q], full[q]);
    /* as many splits per rank as keep the combinations within bounds */
    int keep = MAX_SPLITS;
    for (;;) {
        double visits = 1;
        for (int q = 0; q < ns; q++) visits *= nall_split[q] < keep ? nall_split[q] : keep;
        if (visits <= MAX_PE_VISITS || keep <= 2) break;
        keep--;
    }
    for (int q = 0; q < ns; q++) nsplit[q] = thin(full[q], nall_split[q], split[q], keep);
    int nkept = 0, idx[EF_MAX_RANKS] = {0};
    *least_need = UINT64_MAX;
    for (;;) {
        uint64_t rows = 1, cols = 1;
        for (int q = 0; q < ns; q++) {
            rows *= split[q][idx[q]].a;
            cols *= split[q][idx[q]].c;
        }
        if (rows <= (uint64_t)arch->rows && cols <= (uint64_t)arch->cols) {
            ef_ftiling t;
            uint64_t dtile[EF_MAX_RANKS];
            memset(&t, 0, sizeof t);
            for (int r = 0; r < w->rank_count; r++) dtile[r] = t.tile[r] = w->rank_bounds[r];
            t.iterations = 1;
            t.pe_steps = 1;
            for (int q = 0; q < ns; q++) {
                int r = g->shared[q];
                const pe_split *sp = &split[q][idx[q]];
                uint64_t b = w->rank_bounds[r], left = (b + sp->t - 1) / sp->t;
                uint64_t f = left / (sp->a * sp->c);
                t.tile[r] = sp->t;
                dtile[r] = sat_mul(sp->t, sp->a * sp->c) < b ? sp->t * sp->a * sp->c : b;
                if (f > 1) {
                    t.loops[t.loop_count++] = (ef_map_loop){r, f};
                    t.iterations = sat_mul(t.iterations, f);
                }
                if (sp->a > 1) t.rows[t.row_count++] = (ef_map_loop){r, sp->a};
                if (sp->c > 1) t.cols[t.col_count++] = (ef_map_loop){r, sp->c};
                t.pe_steps = sat_mul(t.pe_steps, sat_mul(f, sp->t));
            }
            bool ok = fits(arch, w, g, level, t.tile, &t.need);
            if (t.need < *least_need) *least_need = t.need;
            if (ok && nkept < MAX_COMBOS) {
                best_order(w, g, &t, dtile);
                kept[nkept++] = t;
            }
        }
        int q = 0;
        while (q < ns && ++idx[q] == nsplit[q]) idx[q++] = 0;
        if (q == ns) break;
    }
    free(split);
    free(full);
    double least = INFINITY;
    for (int i = 0; i < nkept; i++)
        if (kept[i].dram_bytes < least) least = kept[i].dram_bytes;
    int k = 0;
    for (int i = 0; i < nkept; i++)
        if (kept[i].dram_bytes <= least * 1.1 + 1) kept[k++] = kept[i];
    qsort(kept, (size_t)k, sizeof kept[0], cmp_pe_tiling);
    int n = 0;
    for (int i = 0; i < k && n < max; i++)
        if (!n || kept[i].pe_steps != out[n - 1].pe_steps) out[n++] = kept[i];
    for (int i = 0; i < k && n < max; i++) {
        bool taken = false;
        for (int j = 0; j < n; j++) taken |= !memcmp(&out[j], &kept[i], sizeof kept[i]);
        if (!taken) out[n++] = kept[i];
    }
    free(kept);
    return n;
}

int ef_fplan_tilings(const ef_arch_spec *arch, const ef_workload *w, const ef_fplan *g,
                     int level, ef_ftiling *out, int max, uint64_t *least_need) {
    if (arch->levels[level].per_pe) return pe_tilings(arch, w, g, level, out, max, least_need);
    uint64_t choice[EF_MAX_RANKS][MAX_CHOICES];
    int nchoice[EF_MAX_RANKS], ns = g->nshared;
    /* as many choices per rank as keep the combinations within bounds */
    int keep = MAX_CHOICES;
    while (keep > 2) {
        double combos = 1;
        for (int q = 0; q < ns; q++) {
            uint64_t tmp[MAX_CHOICES];
            combos *= tile_choices(w->rank_bounds[g->shared[q]], tmp, keep);
        }
        if (combos <= MAX_COMBOS) break;
        keep--;
    }
    for (int q = 0; q < ns; q++) {
        uint64_t b = w->rank_bounds[g->shared[q]];
        nchoice[q] = tile_choices(b, choice[q], keep);
        /* a recurrence steps one tile per shared iteration, or runs
         * whole below the level (model/fuse.c) */
        if (state_rank(w, g, g->shared[q])) {
            choice[q][0] = 1;
            choice[q][1] = b;
            nchoice[q] = b > 1 ? 2 : 1;
        }
    }
    ef_ftiling *all = ef_calloc(MAX_COMBOS + 1, sizeof *all);
    if (!all) return -1;
    int nall = 0, idx[EF_MAX_RANKS] = {0};
    *least_need = UINT64_MAX;
    for (;;) {
        ef_ftiling t;
        memset(&t, 0, sizeof t);
        for (int r = 0; r < w->rank_count; r++) t.tile[r] = w->rank_bounds[r];
        t.iterations = 1;
        for (int q = 0; q < ns; q++) {
            int r = g->shared[q];
            uint64_t b = w->rank_bounds[r], tl = choice[q][idx[q]];
            uint64_t f = (b + tl - 1) / tl;
            t.tile[r] = tl;
            if (f > 1) {
                t.loops[t.loop_count++] = (ef_map_loop){r, f};
                t.iterations = sat_mul(t.iterations, f);
            }
        }
        bool ok = fits(arch, w, g, level, t.tile, &t.need);
        if (t.need < *least_need) *least_need = t.need;
        /* scores in the PEs: a spread whose tiles fit a PE */
        if (ok && g->inner_level) ok = ef_fplan_spread(arch, w, g, &t);
        if (ok && nall < MAX_COMBOS) {
            best_order(w, g, &t, t.tile);
            all[nall++] = t;
        }
        int q = 0;
        while (q < ns && ++idx[q] == nchoice[q]) idx[q++] = 0;
        if (q == ns) break;
    }
    if (!nall) {
        free(all);
        return 0;
    }
    double least = INFINITY;
    for (int i = 0; i < nall; i++)
        if (all[i].dram_bytes < least) least = all[i].dram_bytes;
    int k = 0;
    for (int i = 0; i < nall; i++)
        if (all[i].dram_bytes <= least * 1.1 + 1) all[k++] = all[i];
    qsort(all, (size_t)k, sizeof all[0], cmp_tiling);
    /* the fewest iterations, then about 4x as many each time */
    int n = 0;
    bool taken[MAX_COMBOS + 1] = {false};
    for (int i = 0; i < k && n < max; i++) {
        if (n && all[i].iterations < 4 * out[n - 1].iterations) continue;
        out[n++] = all[i];
        taken[i] = true;
    }
    for (int i = 0; i < k && n < max; i++)
        if (!taken[i]) out[n++] = all[i];
    free(all);
    return n;
}
