/* Builds the ef_workload: rank table from the spec, every Einsum
 * parsed, then tensor shapes derived from the index expressions so
 * the model stage never has to look at text again. */
#include "einflow/einsum.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ef_workload_tensor_id(const ef_workload *w, const char *name) {
    for (int t = 0; t < w->tensor_count; t++)
        if (strcmp(w->tensors[t].name, name) == 0) return t;
    return -1;
}

static bool same_tensor(const ef_tensor *a, const ef_tensor *b) {
    if (strcmp(a->name, b->name) || a->bits != b->bits || a->dims != b->dims ||
        a->recurrence_dim != b->recurrence_dim || a->init != b->init)
        return false;
    for (int d = 0; d < a->dims; d++)
        if (a->extent[d] != b->extent[d] || a->offset[d] != b->offset[d] ||
            a->pad_before[d] != b->pad_before[d] || a->pad_after[d] != b->pad_after[d])
            return false;
    return true;
}

bool ef_workload_same(const ef_workload *a, const ef_workload *b) {
    if (a->rank_count != b->rank_count || a->tensor_count != b->tensor_count ||
        a->einsum_count != b->einsum_count || a->mask_key != b->mask_key ||
        a->mask_query != b->mask_query || a->mask_offset != b->mask_offset)
        return false;
    for (int r = 0; r < a->rank_count; r++)
        if (strcmp(a->rank_names[r], b->rank_names[r]) || a->rank_bounds[r] != b->rank_bounds[r])
            return false;
    for (int t = 0; t < a->tensor_count; t++)
        if (!same_tensor(&a->tensors[t], &b->tensors[t])) return false;
    /* an Einsum's text, read against the same ranks and tensors, parses
     * the same */
    for (int e = 0; e < a->einsum_count; e++)
        if (strcmp(a->einsums[e].text, b->einsums[e].text)) return false;
    return true;
}

int ef_workload_rank_id(const ef_workload *w, const char *name) {
    for (int r = 0; r < w->rank_count; r++)
        if (strcmp(w->rank_names[r], name) == 0) return r;
    return -1;
}

/* The lowest and highest position an index expression reaches over
 * the ranks' bounds; false when they do not fit in 64 bits (a huge
 * rank times a stride), which no tensor could hold anyway. */
static bool affine_range(const ef_workload *w, const ef_affine *a,
                         int64_t *lo, int64_t *hi) {
    *lo = *hi = a->constant;
    for (int k = 0; k < a->term_count; k++) {
        uint64_t bound = w->rank_bounds[a->rank[k]];
        int64_t span;
        if (bound - 1 > (uint64_t)INT64_MAX ||
            __builtin_mul_overflow(a->coef[k], (int64_t)(bound - 1), &span))
            return false;
        if (span < 0 ? __builtin_add_overflow(*lo, span, lo)
                     : __builtin_add_overflow(*hi, span, hi))
            return false;
    }
    return !__builtin_sub_overflow(*hi, *lo, &(int64_t){0}) && *hi - *lo < INT64_MAX;
}

static void add_loc_diag(ef_diags *d, ef_loc loc, const char *path,
                         const char *hint, const char *msg);
static const char *einsum_path(const ef_workload_spec *s, int e, char *buf,
                               size_t size);

/* An Einsum's iteration points (the product of its ranks' bounds) fit
 * the 64-bit counters with room for the counts made from them, checked
 * here, before any stage does work on a space no run could finish. */
static bool check_points(ef_workload *w, int einsum, ef_diags *diags) {
    const ef_einsum *e = &w->einsums[einsum];
    uint64_t points = 1;
    bool over = false;
    char terms[256] = "";
    size_t len = 0;
    for (int r = 0; r < w->rank_count; r++) {
        if (!e->rank_used[r]) continue;
        over |= !ef_mul_u64(points, w->rank_bounds[r], &points) || points > EF_MAX_POINTS;
        if (len < sizeof terms)
            len += (size_t)snprintf(terms + len, sizeof terms - len, "%s%s %llu",
                                    len ? " x " : "", w->rank_names[r],
                                    (unsigned long long)w->rank_bounds[r]);
    }
    if (!over) return true;
    char msg[512], path[EF_MAX_KEY_PATH + 16];
    snprintf(msg, sizeof msg, "the Einsum has more than 2^%d iteration points (%s)",
             EF_MAX_POINTS_LOG2, terms);
    add_loc_diag(diags, e->loc, einsum_path(w->spec, einsum, path, sizeof path),
                 "a run counts every point in 64-bit counters; no accelerator finishes this "
                 "many in a simulated lifetime", msg);
    return false;
}

/* affine_range, reporting an index that spans too far at Einsum e. */
static bool index_range(ef_workload *w, const ef_operand *op, int d, int einsum,
                        int64_t *lo, int64_t *hi, ef_diags *diags) {
    if (affine_range(w, &op->index[d], lo, hi)) return true;
    char msg[256], path[EF_MAX_KEY_PATH + 16];
    snprintf(msg, sizeof msg,
             "dimension %d of %s spans more positions than 64-bit arithmetic holds "
             "(the ranks' bounds times the index coefficients)",
             d, w->tensors[op->tensor].name);
    add_loc_diag(diags, w->einsums[einsum].loc, einsum_path(w->spec, einsum, path, sizeof path),
                 NULL, msg);
    return false;
}

static void add_loc_diag(ef_diags *d, ef_loc loc, const char *path,
                         const char *hint, const char *msg) {
    char *src = loc.file ? ef_diags_source_line(d, loc.file, loc.line) : NULL;
    ef_diags_add(d, loc.file ? loc.file : "<workload>", loc.line, loc.col,
                 path, hint, src, "%s", msg);
    free(src);
}

/* Key paths in the spec's file, for diagnostics: under the spec's own
 * path, so "padding" in a workload file is "layers[3].padding" in a
 * network file. */
static const char *key_path(const ef_workload_spec *s, const char *key,
                            char *buf, size_t size) {
    snprintf(buf, size, "%s%s%s", s->path, s->path[0] ? "." : "", key);
    return buf;
}

static const char *einsum_path(const ef_workload_spec *s, int e, char *buf,
                               size_t size) {
    if (s->einsums[e].path[0]) snprintf(buf, size, "%s", s->einsums[e].path);
    else snprintf(buf, size, "einsums[%d]", e);
    return buf;
}

/* Shapes a tensor from one operand; later uses must agree with it.
 * Each dimension stores the range its index expression covers, less
 * the padding on either side: the window p*2+r of a stride-2 7x7 conv
 * with 112 outputs covers 229 positions, and [3, 2] leaves 224. */
static bool shape_tensor(ef_workload *w, const ef_operand *op, int einsum,
                         ef_diags *diags) {
    ef_tensor *t = &w->tensors[op->tensor];
    const ef_workload_spec *s = w->spec;
    char msg[512], leaf[EF_MAX_NAME + 32], path[EF_MAX_KEY_PATH + EF_MAX_NAME + 40];
    int64_t extent[EF_MAX_DIMS], offset[EF_MAX_DIMS];
    int64_t before[EF_MAX_DIMS] = {0}, after[EF_MAX_DIMS] = {0};
    const ef_padding_spec *ps = NULL;
    for (int pi = 0; pi < s->padding_count; pi++)
        if (strcmp(s->paddings[pi].tensor, t->name) == 0) ps = &s->paddings[pi];
    if (ps) {
        if (ps->dims != op->dims) {
            snprintf(msg, sizeof msg,
                     "expected %d padding amounts (one per dimension of %s), found %d",
                     op->dims, t->name, ps->dims);
            snprintf(leaf, sizeof leaf, "padding.%s", t->name);
            add_loc_diag(diags, ps->loc, key_path(s, leaf, path, sizeof path), NULL, msg);
            return false;
        }
        memcpy(before, ps->before, sizeof(int64_t) * (size_t)op->dims);
        memcpy(after, ps->after, sizeof(int64_t) * (size_t)op->dims);
    }
    uint64_t words = 1;
    for (int d = 0; d < op->dims; d++) {
        int64_t lo, hi;
        if (!index_range(w, op, d, einsum, &lo, &hi, diags)) return false;
        offset[d] = lo + before[d];
        extent[d] = hi - lo + 1 - before[d] - after[d];
        if (extent[d] < 1) {
            assert(ps); /* an unpadded range holds at least one position */
            snprintf(leaf, sizeof leaf, "padding.%s[%d]", t->name, d);
            key_path(s, leaf, path, sizeof path);
            snprintf(msg, sizeof msg,
                     "padding %lld before + %lld after leaves no stored element: "
                     "dimension %d of %s covers only %lld positions",
                     (long long)before[d], (long long)after[d], d, t->name,
                     (long long)(hi - lo + 1));
            add_loc_diag(diags, ps->loc, path,
                         "padding counts positions of the index expression and "
                         "must leave at least one", msg);
            return false;
        }
        if (!ef_mul_u64(words, (uint64_t)extent[d], &words) ||
            words > EF_MAX_TENSOR_WORDS) {
            snprintf(msg, sizeof msg, "tensor %s has more than %llu elements",
                     t->name, (unsigned long long)EF_MAX_TENSOR_WORDS);
            add_loc_diag(diags, w->einsums[einsum].loc,
                         einsum_path(s, einsum, path, sizeof path), NULL, msg);
            return false;
        }
    }
    if (t->dims < 0) {
        t->dims = op->dims;
        memcpy(t->extent, extent, sizeof extent);
        memcpy(t->offset, offset, sizeof offset);
        for (int d = 0; d < op->dims; d++) {
            t->pad_before[d] = before[d];
            t->pad_after[d] = after[d];
            t->pad[d] = before[d] + after[d];
        }
        t->words = words;
        return true;
    }
    bool same = t->dims == op->dims;
    for (int d = 0; same && d < op->dims; d++) {
        if (d != t->recurrence_dim) {
            same = t->extent[d] == extent[d] && t->offset[d] == offset[d];
            continue;
        }
        /* a recurrence's steps are read anywhere in 0..R: one step back,
         * the same step, or the last one at the bound (RD[h,M1,p]) */
        if (offset[d] >= t->offset[d] && offset[d] + extent[d] <= t->offset[d] + t->extent[d])
            continue;
        snprintf(msg, sizeof msg,
                 "tensor %s is read at indices %lld..%lld of its dimension %d, outside "
                 "its steps 0..%lld (0 the initial value, then one per step of the "
                 "recurrence that writes it)",
                 t->name, (long long)offset[d], (long long)(offset[d] + extent[d] - 1), d,
                 (long long)(t->extent[d] - 1));
        add_loc_diag(diags, w->einsums[einsum].loc,
                     einsum_path(s, einsum, path, sizeof path), NULL, msg);
        return false;
    }
    if (!same) {
        snprintf(msg, sizeof msg,
                 "tensor %s has a different shape here than where it first appears",
                 t->name);
        add_loc_diag(diags, w->einsums[einsum].loc,
                     einsum_path(s, einsum, path, sizeof path), NULL, msg);
        return false;
    }
    return true;
}

/* A recurrence's tensor: written at r+1 for r in 0..R-1 and read at r,
 * so it stores R+1 steps along that dimension, step 0 being its
 * initial value (init:), which no Einsum writes. Shaped before any
 * other use, which must then fall inside those steps. */
static bool shape_recurrence(ef_workload *w, int einsum, ef_diags *diags) {
    const ef_einsum *e = &w->einsums[einsum];
    const ef_operand *op = &e->output;
    ef_tensor *t = &w->tensors[op->tensor];
    const ef_workload_spec *s = w->spec;
    char msg[256], leaf[EF_MAX_NAME + 32], path[EF_MAX_KEY_PATH + EF_MAX_NAME + 40];
    for (int pi = 0; pi < s->padding_count; pi++)
        if (strcmp(s->paddings[pi].tensor, t->name) == 0) {
            snprintf(msg, sizeof msg,
                     "tensor %s is written by a recurrence (einsums[%d]) and cannot be "
                     "padded", t->name, einsum);
            snprintf(leaf, sizeof leaf, "padding.%s", t->name);
            add_loc_diag(diags, s->paddings[pi].loc, key_path(s, leaf, path, sizeof path),
                         "give its initial value with init: instead", msg);
            return false;
        }
    uint64_t words = 1;
    t->dims = op->dims;
    for (int d = 0; d < op->dims; d++) {
        int64_t lo, hi;
        if (!index_range(w, op, d, einsum, &lo, &hi, diags)) return false;
        if (d == e->recurrence_dim) lo--; /* step 0, read by step 1 */
        t->offset[d] = lo;
        t->extent[d] = hi - lo + 1;
        t->pad[d] = t->pad_before[d] = t->pad_after[d] = 0;
        if (!ef_mul_u64(words, (uint64_t)t->extent[d], &words) ||
            words > EF_MAX_TENSOR_WORDS) {
            snprintf(msg, sizeof msg, "tensor %s has more than %llu elements", t->name,
                     (unsigned long long)EF_MAX_TENSOR_WORDS);
            add_loc_diag(diags, e->loc, einsum_path(s, einsum, path, sizeof path), NULL, msg);
            return false;
        }
    }
    t->words = words;
    t->recurrence_dim = e->recurrence_dim;
    return true;
}

/* init: names the recurrence tensors whose step 0 is not 0. */
static bool check_inits(ef_workload *w, const char *const *names, ef_diags *diags) {
    const ef_workload_spec *s = w->spec;
    bool ok = true;
    char msg[400], hint[160], path[EF_MAX_KEY_PATH + EF_MAX_NAME + 16];
    for (int i = 0; i < s->init_count; i++) {
        const ef_init_spec *is = &s->inits[i];
        int t = ef_workload_tensor_id(w, is->tensor);
        char leaf[EF_MAX_NAME + 8];
        snprintf(leaf, sizeof leaf, "init.%s", is->tensor);
        key_path(s, leaf, path, sizeof path);
        if (t < 0) {
            const char *sug = ef_suggest(is->tensor, names, (size_t)w->tensor_count);
            size_t len = (size_t)snprintf(msg, sizeof msg,
                                          "unknown tensor \"%s\": the Einsums use ", is->tensor);
            for (int k = 0; k < w->tensor_count && len < sizeof msg; k++)
                len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%s", k ? ", " : "",
                                        names[k]);
            if (sug) snprintf(hint, sizeof hint, "did you mean \"%s\"?", sug);
            add_loc_diag(diags, is->loc, path, sug ? hint : NULL, msg);
            ok = false;
            continue;
        }
        ef_tensor *tn = &w->tensors[t];
        if (tn->recurrence_dim < 0) {
            snprintf(msg, sizeof msg,
                     "tensor %s has no initial value to give: init: sets step 0 of a "
                     "recurrence's tensor (one written at r+1 and read at r), and %s is %s",
                     tn->name, tn->name,
                     tn->producer < 0 ? "an input of the workload" : "written whole by its Einsum");
            add_loc_diag(diags, is->loc, path,
                         tn->producer < 0 ? "an input's values come from --seed" : NULL, msg);
            ok = false;
            continue;
        }
        tn->init = is->value;
    }
    return ok;
}

static bool check_names(ef_workload *w, ef_diags *diags) {
    const ef_workload_spec *s = w->spec;
    const char *names[EF_MAX_TENSORS * 4];
    for (int t = 0; t < w->tensor_count; t++) names[t] = w->tensors[t].name;
    bool ok = true;
    char msg[400], hint[100], path[EF_MAX_KEY_PATH + 16];
    for (int i = 0; i < s->precision_count + s->padding_count; i++) {
        bool is_prec = i < s->precision_count;
        const char *tn = is_prec ? s->precisions[i].tensor
                                 : s->paddings[i - s->precision_count].tensor;
        ef_loc loc = is_prec ? s->precisions[i].loc
                             : s->paddings[i - s->precision_count].loc;
        if (ef_workload_tensor_id(w, tn) >= 0) continue;
        const char *sug = ef_suggest(tn, names, (size_t)w->tensor_count);
        size_t len = (size_t)snprintf(msg, sizeof msg,
                                      "unknown tensor \"%s\": the Einsums use ", tn);
        for (int t = 0; t < w->tensor_count && len < sizeof msg; t++)
            len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%s", t ? ", " : "",
                                    names[t]);
        if (sug) snprintf(hint, sizeof hint, "did you mean \"%s\"?", sug);
        add_loc_diag(diags, loc,
                     key_path(s, is_prec ? "precision" : "padding", path, sizeof path),
                     sug ? hint : NULL, msg);
        ok = false;
    }
    ok &= check_inits(w, names, diags);
    for (int r = 0; r < w->rank_count; r++) {
        bool used = false;
        for (int e = 0; e < w->einsum_count; e++) used |= w->einsums[e].rank_used[r];
        if (!used) {
            snprintf(msg, sizeof msg, "rank %s is declared but no Einsum indexes it",
                     w->rank_names[r]);
            add_loc_diag(diags, s->ranks[r].loc, key_path(s, "ranks", path, sizeof path),
                         NULL, msg);
            ok = false;
        }
    }
    return ok;
}

ef_workload *ef_einsum_build(const ef_workload_spec *spec, ef_diags *diags) {
    int room = spec->einsum_count > 0 ? spec->einsum_count : 1;
    ef_workload *w = room <= EF_MAX_EINSUMS
        ? ef_calloc(1, sizeof *w + (size_t)room * sizeof w->einsums[0]) : NULL;
    if (!w) {
        ef_diags_out_of_memory(diags, spec->file);
        return NULL;
    }
    w->spec = spec;
    snprintf(w->name, EF_MAX_NAME, "%s", spec->name);
    if (spec->rank_count > EF_MAX_RANKS) {
        char path[EF_MAX_KEY_PATH + 16];
        ef_diags_add(diags, spec->file, spec->loc.line, spec->loc.col,
                     key_path(spec, "ranks", path, sizeof path),
                     NULL, NULL, "at most %d ranks are supported, found %d",
                     EF_MAX_RANKS, spec->rank_count);
        free(w);
        return NULL;
    }
    w->rank_count = spec->rank_count;
    for (int r = 0; r < spec->rank_count; r++) {
        snprintf(w->rank_names[r], EF_MAX_NAME, "%s", spec->ranks[r].name);
        w->rank_bounds[r] = spec->ranks[r].bound;
    }
    w->mask_key = w->mask_query = -1;
    if (spec->mask.present) {
        /* spec/network.c made the mask from ranks it checked */
        w->mask_key = ef_workload_rank_id(w, spec->mask.key);
        w->mask_query = ef_workload_rank_id(w, spec->mask.query);
        w->mask_offset = (int64_t)spec->mask.offset;
        assert(w->mask_key >= 0 && w->mask_query >= 0);
    }
    bool ok = true;
    for (int e = 0; e < spec->einsum_count; e++) {
        ef_einsum *es = &w->einsums[e];
        w->einsum_count = e; /* the parser names this one einsums[e] */
        if (ef_einsum_parse(w, spec->einsums[e].text, spec->einsums[e].loc, es,
                            diags) != EF_OK) {
            ok = false;
            continue;
        }
        es->text = spec->einsums[e].text;
        w->einsum_count = e + 1;
        ef_tensor *out = &w->tensors[es->output.tensor];
        if (out->producer >= 0) {
            char msg[160], path[EF_MAX_KEY_PATH];
            snprintf(msg, sizeof msg, "tensor %s is already written by %s", out->name,
                     einsum_path(spec, out->producer, path, sizeof path));
            add_loc_diag(diags, es->loc, einsum_path(spec, e, path, sizeof path), NULL, msg);
            ok = false;
        }
        out->producer = e;
    }
    if (!ok) {
        free(w);
        return NULL;
    }
    for (int e = 0; e < w->einsum_count && ok; e++)
        if (w->einsums[e].recurrence_dim >= 0) ok &= shape_recurrence(w, e, diags);
    for (int e = 0; e < w->einsum_count && ok; e++) {
        ok &= shape_tensor(w, &w->einsums[e].output, e, diags);
        for (int i = 0; i < w->einsums[e].input_count && ok; i++)
            ok &= shape_tensor(w, &w->einsums[e].inputs[i], e, diags);
    }
    for (int t = 0; t < w->tensor_count; t++) {
        w->tensors[t].bits = spec->default_bits > 0 ? spec->default_bits : 8;
        for (int i = 0; i < spec->precision_count; i++)
            if (strcmp(spec->precisions[i].tensor, w->tensors[t].name) == 0)
                w->tensors[t].bits = spec->precisions[i].bits;
    }
    for (int e = 0; e < w->einsum_count && ok; e++) ok = check_points(w, e, diags);
    if (ok) ok = check_names(w, diags);
    if (!ok) {
        free(w);
        return NULL;
    }
    return w;
}

void ef_workload_destroy(ef_workload *w) { free(w); }

bool ef_output_word_masked(const ef_workload *w, const ef_einsum *e, uint64_t q) {
    if (w->mask_key < 0) return false;
    const ef_operand *o = &e->output;
    const ef_tensor *t = &w->tensors[o->tensor];
    int64_t key = 0, query = 0;
    bool has_key = false, has_query = false;
    /* an output is indexed by plain ranks (a recurrence's by r + 1),
     * outermost dimension first */
    for (int d = o->dims - 1; d >= 0; d--) {
        /* the rank's value: the stored index back in the expression's
         * positions, less its constant */
        int64_t i = (int64_t)(q % (uint64_t)t->extent[d]) + t->offset[d] - o->index[d].constant;
        q /= (uint64_t)t->extent[d];
        if (o->index[d].rank[0] == w->mask_key) key = i, has_key = true;
        if (o->index[d].rank[0] == w->mask_query) query = i, has_query = true;
    }
    return has_key && has_query && key > query + w->mask_offset;
}

int64_t ef_operand_word(const ef_workload *w, const ef_operand *op,
                        const int64_t *rank_coord) {
    const ef_tensor *t = &w->tensors[op->tensor];
    int64_t flat = 0;
    for (int d = 0; d < op->dims; d++) {
        int64_t i = ef_affine_eval(&op->index[d], rank_coord) - t->offset[d];
        if (i < 0 || i >= t->extent[d]) return -1;
        flat = flat * t->extent[d] + i;
    }
    return flat;
}
