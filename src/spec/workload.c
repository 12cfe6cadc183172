/* einflow spec stage — the workload YAML: Einsum texts (parsed later by
 * einsum/), rank bounds, precisions and padding. Only what this file
 * alone can tell is checked here; whether a rank is used or a tensor
 * exists is the einsum stage's business, located with the locs kept.
 *
 * The readers of the shared keys (spec/workload.h) also serve the
 * layers of network files (network.c). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "spec/workload.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_RANK_ENTRIES (int)(sizeof(((ef_workload_spec *)0)->ranks) / \
                               sizeof(ef_rank_spec))
#define MAX_PRECISIONS (int)(sizeof(((ef_workload_spec *)0)->precisions) / \
                             sizeof(ef_precision_spec))
#define MAX_PADDINGS (int)(sizeof(((ef_workload_spec *)0)->paddings) / \
                           sizeof(ef_padding_spec))
#define MAX_INITS (int)(sizeof(((ef_workload_spec *)0)->inits) / \
                        sizeof(ef_init_spec))

static const yt_key workload_keys[] = {
    {.name = "name", .type = YT_T_LABEL, .required = true,
     .doc = "workload name, reported with every result"},
    {.name = "description", .type = YT_T_STR, .doc = "free text, ignored"},
    {.name = "einsums", .type = YT_T_SEQ, .required = true,
     .doc = "Einsums, in order; later ones may read earlier outputs"},
    WL_KEY_RANKS("bound"),
    WL_KEY_PRECISION,
    {.name = "default_precision", .type = YT_T_INT, .min = 1, .max = 64,
     .def = 8, .unit = "bits", .doc = "bits of tensors not in precision"},
    WL_KEY_PADDING,
    WL_KEY_INIT,
    WL_KEY_PARAMS("NAME: integer >= 1; with it, rank bounds may be "
                  "expressions over the parameters"),
};

/* Key paths kept in a spec are short by construction
 * ("layers[511].einsums[31]" at most); a longer one would only lose its
 * tail, which the line and column still make up for. */
static void keep_path(char out[EF_MAX_KEY_PATH], const char *path) {
    size_t n = strlen(path);
    if (n >= EF_MAX_KEY_PATH)
        n = EF_MAX_KEY_PATH - 1;
    memcpy(out, path, n);
    out[n] = '\0';
}

ef_workload_spec *wl_create(yt_doc *d, const char *parent) {
    ef_workload_spec *w = ef_calloc(1, sizeof *w);
    if (!w || !(w->file = yt_strdup(d->file))) {
        yt_oom(d);
        free(w);
        return NULL;
    }
    keep_path(w->path, parent);
    w->default_bits = 8;
    return w;
}

/* ---------- Einsums ---------- */

void wl_load_einsum(yt_doc *d, const yt_node *n, const char *path,
                    ef_workload_spec *w) {
    char found[96];
    const char *text = NULL;
    assert(w->einsum_count < EF_MAX_EINSUMS); /* callers check lengths */
    if (n->kind == YT_SCALAR && !n->bad && n->len == 0) {
        yt_error(d, n, path, NULL,
                 "expected an Einsum such as \"O[p] += I[p+r] * W[r]\", "
                 "found %s",
                 yt_describe(n, found, sizeof found));
        return;
    }
    if (!yt_str(d, n, path, &text))
        return;
    ef_einsum_text *e = &w->einsums[w->einsum_count];
    e->text = yt_strdup(text);
    if (!e->text) {
        yt_oom(d);
        return;
    }
    /* einsum/ reports columns as loc.col + offset into the text, so
     * the loc is the first character, past any opening quote. */
    e->loc = yt_loc(w->file, n);
    if (n->quoted)
        e->loc.col++;
    keep_path(e->path, path);
    w->einsum_count++;
}

void wl_load_einsums(yt_doc *d, const yt_node *seq, const char *path,
                     ef_workload_spec *w) {
    if (seq->count == 0) {
        yt_error(d, seq, path, NULL,
                 "expected at least one Einsum, found an empty sequence");
        return;
    }
    if (seq->count > EF_MAX_EINSUMS) {
        yt_error(d, seq, path, NULL,
                 "expected at most %d Einsums, found %zu", EF_MAX_EINSUMS,
                 seq->count);
        return;
    }
    for (size_t i = 0; i < seq->count; i++) {
        char ip[YT_MAX_PATH];
        yt_path_index(ip, sizeof ip, path, i);
        wl_load_einsum(d, seq->items[i], ip, w);
    }
}

/* ---------- ranks, precision, padding ---------- */

static void load_ranks(yt_doc *d, const yt_node *map, const char *path,
                       const wl_params *params, ef_workload_spec *w) {
    if (map->count == 0 || map->count > (size_t)MAX_RANK_ENTRIES) {
        yt_error(d, map, path, NULL, "expected 1 to %d ranks, found %zu",
                 MAX_RANK_ENTRIES, map->count);
        return;
    }
    for (size_t i = 0; i < map->count; i++) {
        const yt_pair *p = &map->pairs[i];
        ef_rank_spec *r = &w->ranks[w->rank_count];
        char rp[YT_MAX_PATH];
        yt_path_key(rp, sizeof rp, path, p->key->text);
        bool ok = yt_name(d, p->key, path, r->name);
        ok = wl_params_bound(d, p->value, rp, params, &r->bound,
                             &r->is_batch) && ok;
        if (!ok)
            continue;
        r->loc = yt_loc(w->file, p->key);
        w->rank_count++;
    }
}

static void load_precisions(yt_doc *d, const yt_node *map, const char *path,
                            ef_workload_spec *w) {
    if (map->count > (size_t)MAX_PRECISIONS) {
        yt_error(d, map, path, NULL, "expected at most %d tensors, found %zu",
                 MAX_PRECISIONS, map->count);
        return;
    }
    for (size_t i = 0; i < map->count; i++) {
        const yt_pair *p = &map->pairs[i];
        ef_precision_spec *ps = &w->precisions[w->precision_count];
        char tp[YT_MAX_PATH];
        yt_path_key(tp, sizeof tp, path, p->key->text);
        uint64_t bits = 0;
        bool ok = yt_name(d, p->key, path, ps->tensor);
        ok = yt_u64(d, p->value, tp, 1, 64, &bits) && ok;
        if (!ok)
            continue;
        ps->bits = (int)bits;
        ps->loc = yt_loc(w->file, p->key);
        w->precision_count++;
    }
}

/* One dimension's padding: an integer for both sides, or a pair
 * [before, after] — strided windows overhang one side more than the
 * other (ResNet-50's conv1 needs [3, 2]). int64_t storage, int32
 * bounds: real paddings are tiny. */
static bool load_pad_amount(yt_doc *d, const yt_node *n, const char *path,
                            int64_t *before, int64_t *after) {
    uint64_t amount[2] = {0, 0};
    if (n->bad)
        return false;
    if (n->kind == YT_MAP) {
        yt_error(d, n, path, NULL,
                 "expected a non-negative integer or a pair [before, "
                 "after], found a mapping");
        return false;
    }
    if (n->kind == YT_SEQ) {
        if (n->count != 2) {
            yt_error(d, n, path, "an integer pads both sides alike",
                     "expected a pair [before, after], found %zu value%s",
                     n->count, n->count == 1 ? "" : "s");
            return false;
        }
        bool ok = true;
        for (size_t side = 0; side < 2; side++) {
            char sp[YT_MAX_PATH];
            yt_path_index(sp, sizeof sp, path, side);
            ok = yt_u64(d, n->items[side], sp, 0, INT32_MAX, &amount[side]) &&
                 ok;
        }
        if (!ok)
            return false;
    } else {
        if (!yt_u64(d, n, path, 0, INT32_MAX, &amount[0]))
            return false;
        amount[1] = amount[0];
    }
    *before = (int64_t)amount[0];
    *after = (int64_t)amount[1];
    return true;
}

static void load_paddings(yt_doc *d, const yt_node *map, const char *path,
                          ef_workload_spec *w) {
    if (map->count > (size_t)MAX_PADDINGS) {
        yt_error(d, map, path, NULL, "expected at most %d tensors, found %zu",
                 MAX_PADDINGS, map->count);
        return;
    }
    for (size_t i = 0; i < map->count; i++) {
        const yt_pair *p = &map->pairs[i];
        const yt_node *v = p->value;
        ef_padding_spec *ps = &w->paddings[w->padding_count];
        char tp[YT_MAX_PATH], found[96];
        yt_path_key(tp, sizeof tp, path, p->key->text);
        bool ok = yt_name(d, p->key, path, ps->tensor);
        if (v->bad)
            continue;
        if (v->kind != YT_SEQ || v->count == 0 || v->count > EF_MAX_DIMS) {
            yt_error(d, v, tp, NULL,
                     "expected a sequence of 1 to %d paddings such as "
                     "[0, 1, 1], found %s",
                     EF_MAX_DIMS, yt_describe(v, found, sizeof found));
            continue;
        }
        for (size_t j = 0; j < v->count; j++) {
            char ip[YT_MAX_PATH];
            yt_path_index(ip, sizeof ip, tp, j);
            ok = load_pad_amount(d, v->items[j], ip, &ps->before[j],
                                 &ps->after[j]) && ok;
        }
        if (!ok)
            continue;
        ps->dims = (int)v->count;
        ps->loc = yt_loc(w->file, p->key);
        w->padding_count++;
    }
}

/* Whether a named tensor is a recurrence's, and so may be given an
 * initial value, is the einsum stage's to say: it knows the Einsums. */
static void load_inits(yt_doc *d, const yt_node *map, const char *path,
                       ef_workload_spec *w) {
    if (map->count > (size_t)MAX_INITS) {
        yt_error(d, map, path, NULL, "expected at most %d tensors, found %zu",
                 MAX_INITS, map->count);
        return;
    }
    for (size_t i = 0; i < map->count; i++) {
        const yt_pair *p = &map->pairs[i];
        ef_init_spec *is = &w->inits[w->init_count];
        char tp[YT_MAX_PATH];
        yt_path_key(tp, sizeof tp, path, p->key->text);
        bool ok = yt_name(d, p->key, path, is->tensor);
        ok = yt_real(d, p->value, tp, &is->value) && ok;
        if (!ok)
            continue;
        is->loc = yt_loc(w->file, p->key);
        w->init_count++;
    }
}

void wl_load_ranks_precision_padding(yt_obj *o, const wl_params *params,
                                     ef_workload_spec *w) {
    char kp[YT_MAX_PATH];
    const yt_node *n;
    if ((n = yt_obj_val(o, "ranks")))
        load_ranks(o->doc, n, yt_obj_path(o, "ranks", kp, sizeof kp), params,
                   w);
    if ((n = yt_obj_val(o, "precision")))
        load_precisions(o->doc, n, yt_obj_path(o, "precision", kp, sizeof kp),
                        w);
    if ((n = yt_obj_val(o, "padding")))
        load_paddings(o->doc, n, yt_obj_path(o, "padding", kp, sizeof kp), w);
    if ((n = yt_obj_val(o, "init")))
        load_inits(o->doc, n, yt_obj_path(o, "init", kp, sizeof kp), w);
}

/* ---------- the workload file ---------- */

/* A workload file's parameters: batch always (so that a batch set by
 * the caller is never an error, as before params existed), the rest
 * only where the file declares params:. */
static void load_file_params(yt_obj *o, const char *file,
                             const ef_param_value *set, int set_count,
                             wl_params *params) {
    const yt_node *n = yt_obj_val(o, "params");
    if (n)
        wl_params_load(o->doc, yt_obj_knode(o, "params"), n, file, false,
                       params);
    wl_params_override(o->doc, set, set_count, params);
}

void wl_load_file(yt_doc *d, ef_workload_spec *w, const ef_param_value *set,
                  int set_count, wl_params *params) {
    w->loc = yt_loc(w->file, d->root);
    wl_params_init(params);
    yt_obj o;
    if (!yt_obj_open(&o, d, d->root, w->path, workload_keys,
                     ARRAY_LEN(workload_keys)))
        return;
    yt_get_name(&o, "name", w->name);
    const char *description = NULL;
    yt_get_str(&o, "description", &description);
    yt_get_int(&o, "default_precision", &w->default_bits);
    load_file_params(&o, w->file, set, set_count, params);
    char kp[YT_MAX_PATH];
    const yt_node *n;
    if ((n = yt_obj_val(&o, "einsums")))
        wl_load_einsums(d, n, yt_obj_path(&o, "einsums", kp, sizeof kp), w);
    wl_load_ranks_precision_padding(&o, params->declared ? params : NULL, w);
}

/* The workload in d, which it frees. */
static ef_workload_spec *workload_from_doc(yt_doc *d) {
    if (!d)
        return NULL;
    ef_workload_spec *w = wl_create(d, "");
    if (w) {
        wl_params params;
        wl_load_file(d, w, NULL, 0, &params);
        if (d->errors > 0) {
            ef_workload_spec_destroy(w);
            w = NULL;
        }
    }
    yt_free(d);
    return w;
}

ef_workload_spec *ef_spec_load_workload(const char *path, ef_diags *diags) {
    return workload_from_doc(yt_load(path, diags));
}

ef_workload_spec *ef_spec_load_workload_text(const char *name, const char *text,
                                             size_t size, ef_diags *diags) {
    return workload_from_doc(yt_load_mem(name, text, size, diags));
}

ef_workload_spec *wl_clone(const ef_workload_spec *w) {
    ef_workload_spec *c = ef_malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *w;
    c->file = yt_strdup(w->file);
    bool ok = c->file != NULL;
    /* locations that name w's copy of the file name name c's */
    ef_loc *locs[] = {&c->loc, &c->mask.loc};
    for (size_t i = 0; ok && i < sizeof locs / sizeof locs[0]; i++)
        if (locs[i]->file == w->file) locs[i]->file = c->file;
    for (int i = 0; ok && i < c->einsum_count; i++)
        if (c->einsums[i].loc.file == w->file) c->einsums[i].loc.file = c->file;
    for (int i = 0; ok && i < c->rank_count; i++)
        if (c->ranks[i].loc.file == w->file) c->ranks[i].loc.file = c->file;
    for (int i = 0; ok && i < c->precision_count; i++)
        if (c->precisions[i].loc.file == w->file) c->precisions[i].loc.file = c->file;
    for (int i = 0; ok && i < c->padding_count; i++)
        if (c->paddings[i].loc.file == w->file) c->paddings[i].loc.file = c->file;
    for (int i = 0; i < w->einsum_count; i++) {
        c->einsums[i].text = ok ? yt_strdup(w->einsums[i].text) : NULL;
        ok &= c->einsums[i].text != NULL;
    }
    if (!ok) {
        ef_workload_spec_destroy(c);
        return NULL;
    }
    return c;
}

void ef_workload_spec_destroy(ef_workload_spec *w) {
    if (!w)
        return;
    for (int i = 0; i < w->einsum_count; i++)
        free(w->einsums[i].text);
    free(w->file);
    free(w);
}
