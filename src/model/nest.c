/* Mapping + architecture + Einsum → checked loop nest. Every rule a
 * mapping must obey is enforced here, so the engines can assume a
 * legal nest and keep their loops free of checks. */
#include "einflow/model.h"
#include "model/dimset.h"
#include "model/vector.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    ef_nest *n;
    ef_diags *diags;
    const char *mapfile;
    ef_loc map_loc;
    bool failed;
} builder;

static void err(builder *b, ef_loc loc, const char *path, const char *hint,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void err(builder *b, ef_loc loc, const char *path, const char *hint,
                const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ef_diags_vadd_at(b->diags, loc, b->mapfile, path, hint, fmt, ap);
    va_end(ap);
    b->failed = true;
}

uint64_t ef_words_to_bytes(uint64_t words, int bits) {
    return (words * (uint64_t)bits + 7) / 8;
}

/* Distinct values of k*x + y over x < nx, y < ny: runs of ny values
 * every k apart, which touch or overlap when k <= ny. */
static uint64_t strided_runs(uint64_t k, uint64_t nx, uint64_t ny) {
    return k <= ny ? k * (nx - 1) + ny : nx * ny;
}

/* The distinct values one index expression takes over the box, without
 * a bitset, in the shapes workloads have: a constant, one rank (any
 * stride), or two ranks whose coefficients divide one another (a
 * convolution's stride and dilation). 0 for the rest, which the bitset
 * counts. The mapper sizes every tile of every candidate this way. */
static uint64_t window_count(const ef_affine *a, const int64_t *lo, const int64_t *hi) {
    if (a->term_count == 0) return 1;
    uint64_t n[2];
    int64_t c[2];
    if (a->term_count > 2 || (a->term_count == 2 && a->rank[0] == a->rank[1])) return 0;
    for (int k = 0; k < a->term_count; k++) {
        int r = a->rank[k];
        if (hi[r] <= lo[r]) return 0; /* an empty tile: the bitset says 0 */
        n[k] = (uint64_t)(hi[r] - lo[r]);
        c[k] = a->coef[k] < 0 ? -a->coef[k] : a->coef[k];
        if (c[k] == 0) return 0;
    }
    if (a->term_count == 1) return n[0];
    if (n[0] == 1) return n[1];
    if (n[1] == 1) return n[0];
    /* c0 x + c1 y and c0 x - c1 y take as many values (y -> n1-1-y) */
    if (c[0] % c[1] == 0) return strided_runs((uint64_t)(c[0] / c[1]), n[0], n[1]);
    if (c[1] % c[0] == 0) return strided_runs((uint64_t)(c[1] / c[0]), n[1], n[0]);
    return 0;
}

/* Distinct words of operand op over the box; with `stored_only` the
 * padding (never stored, never fetched) is left out, otherwise the
 * whole window counts — what a buffer must be able to hold for any
 * position of the tile. */
static uint64_t box_words(const ef_nest *n, int op, const int64_t *lo,
                          const int64_t *hi, bool stored_only) {
    const ef_operand *o = n->ops[op];
    const ef_tensor *t = &n->workload->tensors[o->tensor];
    uint64_t words = 1;
    for (int d = 0; d < o->dims; d++) {
        uint64_t quick = stored_only ? 0 : window_count(&o->index[d], lo, hi);
        if (quick) {
            words *= quick;
            continue;
        }
        uint64_t span[EF_MAX_RANKS];
        for (int r = 0; r < EF_MAX_RANKS; r++)
            span[r] = hi[r] > lo[r] ? (uint64_t)(hi[r] - lo[r]) : 1;
        int64_t cap = ef_dimset_capacity(&o->index[d], span);
        uint64_t stack[64];
        uint64_t *bits = cap <= 64 * 64 ? stack
                                        : ef_calloc((size_t)(cap + 63) / 64, 8);
        if (!bits) return UINT64_MAX;
        ef_dimset s = {.bits = bits, .cap_bits = cap};
        int64_t offset = t->offset[d], extent = t->extent[d];
        if (!stored_only) {
            offset = INT64_MIN / 4;
            extent = INT64_MAX / 2;
        }
        ef_dimset_build(&s, &o->index[d], lo, hi, offset, extent);
        words *= s.count;
        if (bits != stack) free(bits);
    }
    return words;
}

uint64_t ef_nest_footprint_words(const ef_nest *n, int op, const int64_t *lo,
                                 const int64_t *hi) {
    return box_words(n, op, lo, hi, true);
}

uint64_t ef_nest_window_words(const ef_nest *n, int op, const int64_t *lo,
                              const int64_t *hi) {
    return box_words(n, op, lo, hi, false);
}

/* PEs that hold some iteration point: the first temporal tile starts at
 * the origin, so a PE works at some time iff its spatial offset lies
 * inside every rank's bound. Each spatial loop is one digit of the PE's
 * row or column, so the PEs are every combination of the digits and the
 * condition splits by rank: the count is the product, over ranks, of the
 * digit combinations of that rank's loops that stay inside its bound. */
static uint64_t count_active_pes(const ef_nest *n) {
    uint64_t active = 1;
    for (int r = 0; r < n->workload->rank_count; r++) {
        const ef_loop *sp[EF_MAX_LOOPS];
        int k = 0;
        for (int j = 0; j < n->loop_count; j++)
            if (n->loops[j].kind != EF_LOOP_TEMPORAL && n->loops[j].rank == r &&
                n->loops[j].factor > 1)
                sp[k++] = &n->loops[j];
        if (!k) continue;
        uint64_t combos = 1, inside = 0, bound = n->workload->rank_bounds[r];
        if (k == 1) { /* digits d < factor with d x stride < bound */
            uint64_t reach = (bound + sp[0]->stride - 1) / sp[0]->stride;
            active *= reach < sp[0]->factor ? reach : sp[0]->factor;
            continue;
        }
        for (int i = 0; i < k; i++) combos *= sp[i]->factor;
        for (uint64_t c = 0; c < combos; c++) {
            uint64_t rest = c, off = 0;
            for (int i = 0; i < k; i++) {
                off += (rest % sp[i]->factor) * sp[i]->stride;
                rest /= sp[i]->factor;
            }
            inside += off < bound;
        }
        active *= inside;
    }
    return active;
}

/* The level called name, looked for first at `guess` (a mapping lists
 * its levels in the architecture's order, usually all of them). */
static int find_level(const ef_arch_spec *a, const char *name, int guess) {
    if (guess >= 0 && guess < a->level_count && strcmp(a->levels[guess].name, name) == 0)
        return guess;
    for (int l = 0; l < a->level_count; l++)
        if (strcmp(a->levels[l].name, name) == 0) return l;
    return -1;
}

static const ef_einsum_mapping_spec *pick_mapping(builder *b,
                                                  const ef_mapping_spec *m,
                                                  int einsum) {
    const ef_workload *w = b->n->workload;
    const char *out = w->tensors[w->einsums[einsum].output.tensor].name;
    for (int i = 0; i < m->mapping_count; i++) {
        const char *e = m->mappings[i].einsum;
        if ((e[0] == 0 && w->einsum_count == 1) || strcmp(e, out) == 0)
            return &m->mappings[i];
    }
    if (m->mapping_count == 1 && m->mappings[0].einsum[0] == 0)
        err(b, m->loc, "mapping", "use `mappings:` with one entry per Einsum",
            "the workload has %d Einsums; a single `mapping:` cannot say "
            "which one it maps", w->einsum_count);
    else
        err(b, m->loc, "mappings", NULL,
            "no mapping for the Einsum that writes %s", out);
    return NULL;
}

/* "a, b, c" into out, for a diagnostic's list of what there is. */
static void join_names(char *out, size_t size, const char *const *names, int count) {
    size_t len = 0;
    out[0] = '\0';
    for (int k = 0; k < count && len < size; k++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", k ? ", " : "", names[k]);
}

static const char *const loop_lists[] = {"temporal", "spatial.rows", "spatial.cols"};

const char *ef_loop_path(const ef_nest *n, const ef_loop *lp, char *buf) {
    snprintf(buf, EF_LOOP_PATH_MAX, "mapping[%d].%s[%d].%s", lp->entry, loop_lists[lp->kind],
             lp->item, n->workload->rank_names[lp->rank]);
    return buf;
}

/* Reports at a loop of the nest, its path made only now. */
static void err_loop(builder *b, const ef_loop *lp, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void err_loop(builder *b, const ef_loop *lp, const char *hint, const char *fmt, ...) {
    char path[EF_LOOP_PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    ef_diags_vadd_at(b->diags, lp->loc, b->mapfile, ef_loop_path(b->n, lp, path), hint, fmt, ap);
    va_end(ap);
    b->failed = true;
}

/* The loops of list `kind` of mapping entry `entry` at `level`. The
 * mapper builds a nest per candidate, so nothing here formats text
 * unless a diagnostic needs it. */
static void add_loops(builder *b, int level, const ef_factor_spec *f, int count,
                      ef_loop_kind kind, int entry) {
    ef_nest *n = b->n;
    const ef_workload *w = n->workload;
    for (int i = 0; i < count; i++) {
        int h = f[i].rank_hint - 1;
        int r = h >= 0 && h < w->rank_count && strcmp(w->rank_names[h], f[i].rank) == 0
                    ? h
                    : ef_workload_rank_id(w, f[i].rank);
        if (r < 0 || !n->einsum->rank_used[r] || n->loop_count >= EF_MAX_LOOPS) {
            char p[EF_LOOP_PATH_MAX];
            snprintf(p, sizeof p, "mapping[%d].%s[%d].%s", entry, loop_lists[kind], i, f[i].rank);
            if (r < 0) {
                const char *names[EF_MAX_RANKS], *s;
                char hint[96], list[256];
                for (int q = 0; q < w->rank_count; q++) names[q] = w->rank_names[q];
                s = ef_suggest(f[i].rank, names, (size_t)w->rank_count);
                if (s) snprintf(hint, sizeof hint, "did you mean \"%s\"?", s);
                join_names(list, sizeof list, names, w->rank_count);
                err(b, f[i].loc, p, s ? hint : NULL,
                    "unknown rank \"%s\": the workload's ranks are %s", f[i].rank, list);
                continue;
            }
            if (!n->einsum->rank_used[r]) {
                err(b, f[i].loc, p, NULL, "rank %s is not an index of the Einsum \"%s\"",
                    f[i].rank, n->einsum->text);
                continue;
            }
            err(b, f[i].loc, p, NULL, "more than %d loops", EF_MAX_LOOPS);
            return;
        }
        ef_loop *lp = &n->loops[n->loop_count++];
        lp->level = level;
        lp->rank = r;
        lp->factor = f[i].factor;
        lp->stride = 0;
        lp->kind = kind;
        lp->loc = f[i].loc;
        lp->entry = entry;
        lp->item = i;
    }
}

/* Sets keeps of every operand of tensor `name` — two in a recurrence,
 * the old value read and the new one written, kept or bypassed alike
 * since the mapping names tensors — and says whether there was one. */
static bool keep_named(ef_nest_level *L, const ef_nest *n, const char *name, int hint,
                       bool keep) {
    const ef_workload *w = n->workload;
    int t = hint - 1;
    if (t < 0 || t >= w->tensor_count || strcmp(w->tensors[t].name, name) != 0) t = -1;
    bool found = false;
    for (int o = 0; o < n->op_count; o++)
        if (t >= 0 ? n->ops[o]->tensor == t : strcmp(w->tensors[n->ops[o]->tensor].name, name) == 0) {
            L->keeps[o] = keep;
            found = true;
        }
    return found;
}

static void set_keeps(builder *b, int level, const ef_level_mapping_spec *lm, int entry) {
    ef_nest *n = b->n;
    ef_nest_level *L = &n->levels[level];
    for (int o = 0; o < n->op_count; o++) L->keeps[o] = !lm || !lm->keep_given;
    if (!lm) return;
    for (int pass = 0; pass < 2; pass++) {
        int count = pass ? lm->bypass_count : lm->keep_count;
        for (int i = 0; i < count; i++) {
            const char *t = pass ? lm->bypass[i] : lm->keep[i];
            if (!keep_named(L, n, t, pass ? 0 : lm->keep_hint[i], !pass)) {
                const char *names[EF_NEST_MAX_OPS];
                int name_count = 0; /* each tensor once: a recurrence has it twice */
                for (int o = 0; o < n->op_count; o++) {
                    const char *name = n->workload->tensors[n->ops[o]->tensor].name;
                    bool seen = false;
                    for (int k = 0; k < name_count; k++) seen |= strcmp(names[k], name) == 0;
                    if (!seen) names[name_count++] = name;
                }
                char hint[96], list[256];
                const char *s = ef_suggest(t, names, (size_t)name_count);
                if (s) snprintf(hint, sizeof hint, "did you mean \"%s\"?", s);
                join_names(list, sizeof list, names, name_count);
                char path[64];
                snprintf(path, sizeof path, "mapping[%d].%s[%d]", entry,
                         pass ? "bypass" : "keep", i);
                err(b, pass ? lm->bypass_loc[i] : lm->keep_loc[i], path, s ? hint : NULL,
                    "unknown tensor \"%s\": this Einsum's tensors are %s", t, list);
                continue;
            }
        }
    }
}

/* Strides and coverage: the loops of one rank form a mixed-radix
 * number, innermost digit first. */
static void check_coverage(builder *b) {
    ef_nest *n = b->n;
    const ef_workload *w = n->workload;
    /* every rank's digits at once, innermost first */
    uint64_t covered[EF_MAX_RANKS];
    int outer[EF_MAX_RANKS], overflow[EF_MAX_RANKS];
    for (int r = 0; r < w->rank_count; r++) {
        covered[r] = 1;
        outer[r] = overflow[r] = -1;
    }
    for (int i = n->loop_count - 1; i >= 0; i--) {
        int r = n->loops[i].rank;
        if (!n->einsum->rank_used[r] || overflow[r] >= 0) continue;
        n->loops[i].stride = covered[r];
        if (!ef_mul_u64(covered[r], n->loops[i].factor, &covered[r])) overflow[r] = i;
        else outer[r] = i;
    }
    for (int r = 0; r < w->rank_count; r++) {
        if (!n->einsum->rank_used[r]) continue;
        if (overflow[r] >= 0) {
            err_loop(b, &n->loops[overflow[r]], NULL, "factors of %s overflow 64 bits",
                     w->rank_names[r]);
            return;
        }
        uint64_t inner = covered[r];
        int outermost = outer[r];
        uint64_t bound = w->rank_bounds[r];
        if (outermost < 0) {
            if (bound > 1)
                err(b, b->map_loc, "mapping", NULL,
                    "rank %s (bound %llu) has no loop: add %s: %llu to some "
                    "level's temporal or spatial loops",
                    w->rank_names[r], (unsigned long long)bound,
                    w->rank_names[r], (unsigned long long)bound);
            continue;
        }
        const ef_loop *o = &n->loops[outermost];
        uint64_t below = o->stride;
        uint64_t need = (bound + below - 1) / below;
        if (inner < bound)
            err_loop(b, o, NULL,
                "factors of %s multiply to %llu, which does not cover its bound "
                "%llu: the outermost %s loop needs factor %llu",
                w->rank_names[r], (unsigned long long)inner,
                (unsigned long long)bound, w->rank_names[r],
                (unsigned long long)need);
        else if (o->factor != need)
            err_loop(b, o, NULL,
                "factors of %s multiply to %llu for a bound of %llu, leaving "
                "whole tiles empty: the outermost %s loop needs factor %llu",
                w->rank_names[r], (unsigned long long)inner,
                (unsigned long long)bound, w->rank_names[r],
                (unsigned long long)need);
    }
}

static void place_spatial(builder *b) {
    ef_nest *n = b->n;
    const ef_arch_spec *a = n->arch;
    n->first_pe_level = n->level_count;
    for (int l = 0; l < n->level_count; l++)
        if (a->levels[l].per_pe) {
            n->first_pe_level = l;
            break;
        }
    for (int l = n->first_pe_level; l < n->level_count; l++)
        if (!a->levels[l].per_pe)
            err(b, a->levels[l].loc, "levels", NULL,
                "level %s is shared but sits inside the per-PE level %s; "
                "per-PE levels must be the innermost ones",
                a->levels[l].name, a->levels[n->first_pe_level].name);
    if (n->first_pe_level == 0)
        err(b, a->levels[0].loc, "levels", NULL,
            "the outermost level %s cannot be per_pe", a->levels[0].name);
    int allowed = n->first_pe_level < n->level_count ? n->first_pe_level - 1
                                                      : n->level_count - 1;
    n->spatial_level = -1;
    n->rows_used = n->cols_used = 1;
    for (int i = 0; i < n->loop_count; i++) {
        const ef_loop *lp = &n->loops[i];
        if (lp->kind == EF_LOOP_TEMPORAL) continue;
        if (lp->level != allowed) {
            err_loop(b, lp, NULL,
                "spatial loops fan out to the PEs, so they belong to level %s "
                "(the level just above the PEs), not %s",
                a->levels[allowed < 0 ? 0 : allowed].name,
                a->levels[lp->level].name);
            continue;
        }
        if (lp->rank == n->einsum->recurrence_rank && lp->factor > 1) {
            bool lanes = n->unit == EF_UNIT_VECTOR;
            err_loop(b, lp, "map it with temporal loops (any level, any order)",
                "rank %s is the recurrence rank of \"%s\": each of its steps needs the "
                "one before, so they run one after another and cannot be spread over %s",
                n->workload->rank_names[lp->rank], n->einsum->text,
                lanes ? "the vector lanes" : "PE rows or columns");
            continue;
        }
        n->spatial_level = allowed;
        uint64_t *used = lp->kind == EF_LOOP_ROWS ? &n->rows_used : &n->cols_used;
        *used *= lp->factor;
    }
    for (int dim = 0; dim < 2; dim++) {
        uint64_t used = dim ? n->cols_used : n->rows_used;
        int have = dim ? a->cols : a->rows;
        if (used <= (uint64_t)have) continue;
        ef_loop_kind kind = dim ? EF_LOOP_COLS : EF_LOOP_ROWS;
        const ef_loop *first = NULL;
        for (int i = 0; i < n->loop_count && !first; i++)
            if (n->loops[i].kind == kind) first = &n->loops[i];
        char path[EF_LOOP_PATH_MAX] = "spatial";
        err(b, first ? first->loc : a->loc, first ? ef_loop_path(n, first, path) : path, NULL,
            "the spatial %s factors need %llu PE %s but pe_array has %d",
            dim ? "cols" : "rows", (unsigned long long)used,
            dim ? "columns" : "rows", have);
    }
}

static void pick_noc(builder *b) {
    ef_nest *n = b->n;
    const ef_arch_spec *a = n->arch;
    n->noc = NULL;
    for (int i = 0; i < a->noc_count; i++) {
        int from = find_level(a, a->nocs[i].from, n->spatial_level);
        if (n->spatial_level >= 0 && from == n->spatial_level) n->noc = &a->nocs[i];
    }
    if (!n->noc && a->noc_count > 0) n->noc = &a->nocs[0];
    if (!n->noc) {
        memset(&n->default_noc, 0, sizeof n->default_noc);
        n->default_noc.topology = EF_NOC_MULTICAST;
        n->default_noc.reduction = true;
        n->noc = &n->default_noc;
    }
    if (n->noc->reduction) return;
    for (int i = 0; i < n->loop_count; i++) {
        const ef_loop *lp = &n->loops[i];
        if (lp->kind == EF_LOOP_TEMPORAL || lp->factor < 2) continue;
        const ef_operand *out = n->ops[n->out_op];
        bool indexes_out = false;
        for (int d = 0; d < out->dims; d++)
            indexes_out |= out->index[d].rank[0] == lp->rank;
        if (!indexes_out)
            err_loop(b, lp, "set reduction: true on the NoC or map this rank temporally",
                "rank %s is reduced across PEs but the NoC from %s has no "
                "reduction", n->workload->rank_names[lp->rank], n->noc->from);
    }
}

/* Where a level's capacity errors point: its mapping entry, or the
 * level in the architecture when the mapping has none. */
/* Diagnostics only counted (the mapper's candidates): nothing needs
 * the text they would carry. */
static bool counting_only(const builder *b) { return b->diags && b->diags->count_only; }

static void level_path(const builder *b, const ef_level_mapping_spec **lm,
                       const ef_level_mapping_spec *first, int l, char *buf, size_t size) {
    if (counting_only(b)) buf[0] = '\0';
    else if (lm[l]) snprintf(buf, size, "mapping[%d]", (int)(lm[l] - first));
    else snprintf(buf, size, "levels[%d]", l);
}

static ef_loc level_loc(const ef_level_mapping_spec **lm, const ef_level_spec *ls, int l) {
    return lm[l] ? lm[l]->loc : ls->loc;
}

static void tiles_and_capacity(builder *b, const ef_level_mapping_spec **lm,
                               const ef_level_mapping_spec *first) {
    ef_nest *n = b->n;
    const ef_arch_spec *a = n->arch;
    const ef_workload *w = n->workload;
    /* a level's tile spans what its own loops and every inner level's
     * loops walk, less its spatial loops when it is per PE (each PE
     * holds one slice); the coverage check has kept every rank's
     * product within 64 bits */
    uint64_t all[EF_MAX_LEVELS][EF_MAX_RANKS], own[EF_MAX_LEVELS][EF_MAX_RANKS];
    for (int l = 0; l < n->level_count; l++)
        for (int r = 0; r < w->rank_count; r++) all[l][r] = own[l][r] = 1;
    for (int i = 0; i < n->loop_count; i++) {
        const ef_loop *lp = &n->loops[i];
        all[lp->level][lp->rank] *= lp->factor;
        if (!(a->levels[lp->level].per_pe && lp->kind != EF_LOOP_TEMPORAL))
            own[lp->level][lp->rank] *= lp->factor;
    }
    uint64_t inner[EF_MAX_RANKS];
    for (int r = 0; r < w->rank_count; r++) inner[r] = 1;
    for (int l = n->level_count - 1; l >= 0; l--)
        for (int r = 0; r < w->rank_count; r++) {
            uint64_t span = inner[r] * own[l][r];
            n->levels[l].tile_span[r] = span < w->rank_bounds[r] ? span : w->rank_bounds[r];
            inner[r] *= all[l][r];
        }
    for (int l = 0; l < n->level_count; l++) {
        ef_nest_level *L = &n->levels[l];
        int64_t lo[EF_MAX_RANKS] = {0}, hi[EF_MAX_RANKS];
        for (int r = 0; r < w->rank_count; r++) hi[r] = (int64_t)L->tile_span[r];
        const ef_level_spec *ls = &a->levels[l];
        int mult = ls->double_buffer ? 2 : 1;
        /* per tensor kept: its words (and bytes) with double buffering */
        int kept[EF_NEST_MAX_OPS], nkept = 0;
        uint64_t kwords[EF_NEST_MAX_OPS], kbytes[EF_NEST_MAX_OPS];
        uint64_t words_sum = 0, bytes_sum = 0;
        for (int o = 0; o < n->op_count; o++) L->tile_words[o] = box_words(n, o, lo, hi, false);
        for (int o = 0; o < n->op_count; o++) {
            if (!L->keeps[o]) continue;
            /* a recurrence's old and new values are two tiles of one
             * tensor: they share its partition, counted at the first */
            bool counted = false;
            uint64_t tile = 0;
            for (int o2 = 0; o2 < n->op_count; o2++) {
                if (!L->keeps[o2] || n->ops[o2]->tensor != n->ops[o]->tensor) continue;
                if (o2 < o) counted = true;
                tile += L->tile_words[o2];
            }
            if (counted) continue;
            kept[nkept] = o;
            kwords[nkept] = tile * (uint64_t)mult;
            kbytes[nkept] = ef_words_to_bytes(kwords[nkept], w->tensors[n->ops[o]->tensor].bits);
            words_sum += kwords[nkept];
            bytes_sum += kbytes[nkept];
            nkept++;
        }
        for (int k = 0; k < nkept && ls->partition_count > 0; k++) {
            const ef_tensor *t = &w->tensors[n->ops[kept[k]]->tensor];
            const ef_partition *part = NULL;
            for (int p = 0; p < ls->partition_count; p++)
                if (strcmp(ls->partitions[p].tensor, t->name) == 0)
                    part = &ls->partitions[p];
            uint64_t need = part && part->capacity.in_words ? kwords[k] : kbytes[k];
            if (part && need <= part->capacity.amount) continue;
            char path[64];
            level_path(b, lm, first, l, path, sizeof path);
            if (!part)
                err(b, level_loc(lm, ls, l), path, NULL,
                    "level %s has no partition for tensor %s; add one to its "
                    "capacity or bypass %s", ls->name, t->name, t->name);
            else
                err(b, level_loc(lm, ls, l), path, NULL,
                    "the %s tile needs %llu %s%s at %s but its partition holds %llu",
                    t->name, (unsigned long long)need,
                    part->capacity.in_words ? "words" : "bytes",
                    mult == 2 ? " (double-buffered)" : "", ls->name,
                    (unsigned long long)part->capacity.amount);
        }
        uint64_t need = ls->capacity.in_words ? words_sum : bytes_sum;
        if (ls->partition_count == 0 && ls->capacity.given && ls->capacity.amount > 0 &&
            need > ls->capacity.amount) {
            char path[64], parts[256] = "";
            size_t plen = 0;
            for (int k = 0; k < nkept && plen < sizeof parts && !counting_only(b); k++)
                plen += (size_t)snprintf(parts + plen, sizeof parts - plen, "%s%s %llu",
                                         k ? ", " : "", w->tensors[n->ops[kept[k]]->tensor].name,
                                         (unsigned long long)(ls->capacity.in_words ? kwords[k]
                                                                                    : kbytes[k]));
            level_path(b, lm, first, l, path, sizeof path);
            err(b, level_loc(lm, ls, l), path,
                "shrink the loops at or below this level, or bypass a tensor",
                "the tiles kept at %s need %llu %s%s (%s) but it holds %llu",
                ls->name, (unsigned long long)need,
                ls->capacity.in_words ? "words" : "bytes",
                mult == 2 ? ", double-buffered" : "", parts,
                (unsigned long long)ls->capacity.amount);
        }
    }
}

/* Written by one Einsum of the cascade and read by another. */
static bool is_intermediate(const ef_workload *w, int t) {
    if (w->tensors[t].producer < 0) return false;
    for (int e = 0; e < w->einsum_count; e++) {
        if (e == w->tensors[t].producer) continue;
        for (int i = 0; i < w->einsums[e].input_count; i++)
            if (w->einsums[e].inputs[i].tensor == t) return true;
    }
    return false;
}

static bool any_keeper(const ef_nest *n, int o) {
    for (int l = 0; l < n->level_count; l++)
        if (n->levels[l].keeps[o]) return true;
    return false;
}

/* Sets n up for a build: every field the build reads before writing is
 * zeroed, but not the loops (each is written whole as it is added) nor
 * the vector view (written whole by model/vector.c when used), which
 * make up most of a nest's bytes. */
static void nest_init(ef_nest *n, const ef_arch_spec *arch, const ef_workload *w, int einsum) {
    size_t loops_end = offsetof(ef_nest, loops) + sizeof n->loops;
    memset(n, 0, offsetof(ef_nest, loops));
    memset((char *)n + loops_end, 0, offsetof(ef_nest, unit_arch) - loops_end);
    n->arch = arch;
    n->spec_arch = arch;
    n->workload = w;
    n->einsum = &w->einsums[einsum];
    n->einsum_index = einsum;
    for (int i = 0; i < n->einsum->input_count; i++) n->ops[i] = &n->einsum->inputs[i];
    n->out_op = n->einsum->input_count;
    n->ops[n->out_op] = &n->einsum->output;
    n->op_count = n->out_op + 1;
    n->level_count = arch->level_count;
    n->pes = (uint64_t)arch->rows * (uint64_t)arch->cols;
    n->unit = EF_UNIT_ARRAY;
    n->step_interval_cycles = 1;
}

static bool build(builder *bp, const ef_einsum_mapping_spec *em);

ef_nest *ef_nest_build(const ef_arch_spec *arch, const ef_workload *w,
                       const ef_mapping_spec *m, int einsum, ef_diags *diags) {
    ef_nest *n = ef_malloc(sizeof *n);
    if (!n) {
        ef_diags_out_of_memory(diags, m->file);
        return NULL;
    }
    nest_init(n, arch, w, einsum);
    builder b = {.n = n, .diags = diags, .mapfile = m->file};
    const ef_einsum_mapping_spec *em = pick_mapping(&b, m, einsum);
    if (!em || !build(&b, em)) {
        free(n);
        return NULL;
    }
    return n;
}

ef_nest *ef_nest_build_one(const ef_arch_spec *arch, const ef_workload *w,
                           const ef_einsum_mapping_spec *em, const char *mapfile,
                           int einsum, ef_diags *diags) {
    ef_nest *n = ef_malloc(sizeof *n);
    if (!n) {
        ef_diags_out_of_memory(diags, mapfile);
        return NULL;
    }
    if (!ef_nest_build_into(n, arch, w, em, mapfile, einsum, diags)) {
        free(n);
        return NULL;
    }
    return n;
}

bool ef_nest_build_into(ef_nest *n, const ef_arch_spec *arch, const ef_workload *w,
                        const ef_einsum_mapping_spec *em, const char *mapfile, int einsum,
                        ef_diags *diags) {
    nest_init(n, arch, w, einsum);
    builder b = {.n = n, .diags = diags, .mapfile = mapfile};
    return build(&b, em);
}

static bool build(builder *bp, const ef_einsum_mapping_spec *em) {
    builder b = *bp;
    ef_nest *n = b.n;
    /* a vector Einsum is checked against the unit's view (vector.c) */
    if (!ef_vector_prepare(n, em, b.mapfile, b.diags)) return false;
    const ef_arch_spec *arch = n->arch;
    const ef_workload *w = n->workload;
    b.map_loc = em->loc;
    n->map_file = b.mapfile;
    n->map_loc = em->loc;
    n->unit_loc = em->unit_loc.line ? em->unit_loc : em->loc;
    const ef_level_mapping_spec *lm[EF_MAX_LEVELS] = {0};
    const char *level_names[EF_MAX_LEVELS];
    for (int l = 0; l < arch->level_count; l++) level_names[l] = arch->levels[l].name;
    int last = -1;
    for (int i = 0; i < em->level_count; i++) {
        const ef_level_mapping_spec *e = &em->levels[i];
        int l = find_level(arch, e->level, i);
        char path[64], hint[96];
        if (l < 0 || lm[l] || l < last) snprintf(path, sizeof path, "mapping[%d].level", i);
        if (l < 0) {
            const char *s = ef_suggest(e->level, level_names, (size_t)arch->level_count);
            if (s) snprintf(hint, sizeof hint, "did you mean \"%s\"?", s);
            err(&b, e->loc, path, s ? hint : NULL,
                "unknown level \"%s\": the architecture %s has no such level",
                e->level, arch->name);
            continue;
        }
        if (lm[l]) {
            err(&b, e->loc, path, NULL, "level %s is mapped twice", e->level);
            continue;
        }
        if (l < last)
            err(&b, e->loc, path, NULL,
                "levels must be listed outermost first: %s is outside %s",
                e->level, arch->levels[last].name);
        last = l;
        lm[l] = e;
    }
    if (b.failed) goto fail;
    for (int l = 0; l < arch->level_count; l++)
        n->level_loc[l] = lm[l] ? lm[l]->loc : arch->levels[l].loc;
    for (int l = 0; l < arch->level_count; l++) {
        n->levels[l].index = l;
        n->levels[l].loop_begin = n->loop_count;
        n->levels[l].instances = arch->levels[l].per_pe ? n->pes : 1;
        if (lm[l]) {
            int idx = (int)(lm[l] - em->levels);
            add_loops(&b, l, lm[l]->temporal, lm[l]->temporal_count, EF_LOOP_TEMPORAL, idx);
            add_loops(&b, l, lm[l]->rows, lm[l]->row_count, EF_LOOP_ROWS, idx);
            add_loops(&b, l, lm[l]->cols, lm[l]->col_count, EF_LOOP_COLS, idx);
        }
        n->levels[l].loop_end = n->loop_count;
        set_keeps(&b, l, lm[l], lm[l] ? (int)(lm[l] - em->levels) : -1);
    }
    if (b.failed) goto fail;
    check_coverage(&b);
    place_spatial(&b);
    if (b.failed) goto fail;
    pick_noc(&b);
    for (int o = 0; o < n->op_count; o++) {
        const char *tn = w->tensors[n->ops[o]->tensor].name;
        /* an intermediate may live on chip only (a fused cascade,
         * model/fuse.c); everything else starts or ends off chip */
        if (!n->levels[0].keeps[o] && !is_intermediate(w, n->ops[o]->tensor))
            err(&b, lm[0] ? lm[0]->loc : arch->levels[0].loc, "bypass", NULL,
                "the outermost level %s must keep every tensor, but %s is bypassed "
                "(only an intermediate of a cascade may stay on chip)",
                arch->levels[0].name, tn);
        if (!any_keeper(n, o))
            err(&b, lm[0] ? lm[0]->loc : arch->levels[0].loc, "bypass", NULL,
                "%s is bypassed at every level: some level must keep it", tn);
        n->op_keeper_mac[o] = 0;
        for (int l = 0; l < n->level_count; l++) {
            n->levels[l].parent[o] = -1;
            for (int p = l - 1; p >= 0; p--)
                if (n->levels[p].keeps[o]) {
                    n->levels[l].parent[o] = p;
                    break;
                }
            if (n->levels[l].keeps[o]) n->op_keeper_mac[o] = l;
        }
    }
    if (b.failed) goto fail;
    tiles_and_capacity(&b, lm, em->levels);
    if (b.failed) goto fail;
    n->active_pes = count_active_pes(n);
    n->total_ops = 1;
    for (int r = 0; r < w->rank_count; r++)
        if (n->einsum->rank_used[r] &&
            !ef_mul_u64(n->total_ops, w->rank_bounds[r], &n->total_ops)) {
            err(&b, n->einsum->loc, "ranks", NULL,
                "the Einsum has more than 2^64 iteration points");
            goto fail;
        }
    return true;
fail:
    return false;
}

void ef_nest_destroy(ef_nest *n) { free(n); }
