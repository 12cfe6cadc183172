/* einflow spec stage — the network YAML: a whole DNN as a list of
 * layers, each one Einsum (or a cascade) with its ranks, read into one
 * ef_workload_spec per layer so that every later stage takes a layer
 * exactly like a workload file. The keys a layer shares with a
 * workload file are read by the same functions (spec/workload.h); what
 * is new here is the list, the parameters (batch, and params: such as
 * seq or ctx, which rank bounds may name: spec/params.h), inherited
 * precision, `count` and unique layer names.
 *
 * A plain workload file loads as a network of one layer, so callers
 * that run networks need no second path for single layers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/workload.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const yt_key network_keys[] = {
    {.name = "name", .type = YT_T_LABEL, .required = true,
     .doc = "network name, reported with every result"},
    {.name = "description", .type = YT_T_STR, .doc = "free text, ignored"},
    {.name = "batch", .type = YT_T_INT, .min = 1, .def = 1, .unit = "inputs",
     .doc = "batch size: the bound of every rank written batch (short for "
            "params: {batch: N})"},
    WL_KEY_PARAMS("NAME: integer >= 1, for rank bounds such as seq or "
                  "seq/16; batch is always one"),
    {.name = "default_precision", .type = YT_T_INT, .min = 1, .max = 64,
     .def = 8, .unit = "bits",
     .doc = "bits of tensors a layer does not list; layers inherit it"},
    {.name = "layers", .type = YT_T_SEQ, .required = true,
     .doc = "the layers, in network order"},
};

static const yt_key layer_keys[] = {
    {.name = "name", .type = YT_T_LABEL, .required = true,
     .doc = "layer name, unique within the file"},
    {.name = "description", .type = YT_T_STR, .doc = "free text, ignored"},
    {.name = "einsum", .type = YT_T_STR,
     .doc = "the layer's Einsum (or einsums: for a cascade)"},
    {.name = "einsums", .type = YT_T_SEQ,
     .doc = "the layer's Einsums, a cascade (or einsum: for one)"},
    WL_KEY_RANKS("bound (an integer, a parameter or an expression over "
                 "parameters)"),
    WL_KEY_PRECISION,
    WL_KEY_PADDING,
    WL_KEY_INIT,
    {.name = "default_precision", .type = YT_T_INT, .min = 1, .max = 64,
     .def = 8, .unit = "bits",
     .doc = "bits of tensors not in precision; the network's if absent"},
    {.name = "count", .type = YT_T_INT, .min = 1, .max = EF_MAX_LAYER_COUNT,
     .def = 1, .unit = "layers",
     .doc = "identical repeats of this layer in the network"},
    {.name = "causal", .type = YT_T_MAP,
     .doc = "{query: RANK, key: RANK, block: N}: a causal mask (key <= "
            "query), computed a block of queries at a time"},
};

static const yt_key causal_keys[] = {
    {.name = "query", .type = YT_T_NAME, .required = true,
     .doc = "the rank of the queries (P in QK[h,m,p])"},
    {.name = "key", .type = YT_T_NAME, .required = true,
     .doc = "the rank of the keys (M in QK[h,m,p])"},
    {.name = "block", .type = YT_T_ANY, .required = true,
     .doc = "queries per block (an integer, a parameter or an expression): "
            "key blocks past a block's last query are skipped whole (no "
            "cycles); masked scores inside a block are not computed"},
};

/* A layer's causal: as read, before it is split into blocks. */
typedef struct {
    bool present;
    char query[EF_MAX_NAME], key[EF_MAX_NAME];
    uint64_t block;
    ef_loc loc;
} causal_spec;

/* What every layer inherits from the network's top level. */
typedef struct {
    yt_doc *doc;
    ef_network_spec *net;
    wl_params params;
    int default_bits;
    const yt_node *names[EF_MAX_LAYERS]; /* name value of each layer read */
    causal_spec causal[EF_MAX_LAYERS];   /* each layer's causal:         */
} net_ctx;

/* einsum: or einsums:, exactly one of them. */
static void load_layer_einsums(net_ctx *c, yt_obj *o, ef_workload_spec *w) {
    const yt_node *one = yt_obj_knode(o, "einsum");
    const yt_node *many = yt_obj_knode(o, "einsums");
    char kp[YT_MAX_PATH];
    if (one && many) {
        const yt_node *second = one->line > many->line ||
                                        (one->line == many->line &&
                                         one->col > many->col)
                                    ? one
                                    : many;
        yt_error(c->doc, second, o->path,
                 "use einsum for one Einsum, einsums for a cascade",
                 "expected either einsum or einsums, found both");
        return;
    }
    if (!one && !many) {
        yt_error(c->doc, o->node, o->path,
                 "use einsums for a cascade of Einsums",
                 "missing required key \"einsum\"");
        return;
    }
    const yt_node *v;
    if ((v = yt_obj_val(o, "einsums"))) {
        wl_load_einsums(c->doc, v, yt_obj_path(o, "einsums", kp, sizeof kp),
                        w);
        return;
    }
    v = yt_obj_val(o, "einsum");
    if (!v)
        return;
    yt_obj_path(o, "einsum", kp, sizeof kp);
    if (v->kind == YT_SEQ) {
        yt_error(c->doc, v, kp, "einsums: takes a list (a cascade)",
                 "expected one Einsum string, found a sequence");
        return;
    }
    wl_load_einsum(c->doc, v, kp, w);
}

/* The name must be new in the file: reports the second use, pointing
 * back at the first. */
static void check_unique_name(net_ctx *c, yt_obj *o, int index,
                              const char *name) {
    const yt_node *v = yt_obj_val(o, "name");
    if (!v || !name[0])
        return;
    char kp[YT_MAX_PATH];
    for (int j = 0; j < index; j++) {
        const ef_workload_spec *other = c->net->layers[j].workload;
        if (c->names[j] && strcmp(other->name, name) == 0) {
            yt_error(c->doc, v, yt_obj_path(o, "name", kp, sizeof kp), NULL,
                     "duplicate layer name \"%s\" (first at line %d)", name,
                     c->names[j]->line);
            return;
        }
    }
    c->names[index] = v;
}

/* The index of rank `name` among w's ranks, or -1 after reporting it
 * at n with a "did you mean". */
static int causal_rank(net_ctx *c, const yt_node *n, const char *path,
                       const ef_workload_spec *w, const char *name) {
    const char *names[EF_MAX_RANKS * 2];
    for (int r = 0; r < w->rank_count; r++) {
        if (strcmp(w->ranks[r].name, name) == 0)
            return r;
        names[r] = w->ranks[r].name;
    }
    const char *close = ef_suggest(name, names, (size_t)w->rank_count);
    char hint[96] = "";
    if (close)
        snprintf(hint, sizeof hint, "did you mean %s?", close);
    char list[256];
    yt_join(list, sizeof list, names, (size_t)w->rank_count);
    yt_error(c->doc, n, path, close ? hint : NULL,
             "expected one of the layer's ranks (%s), found \"%s\"", list,
             name);
    return -1;
}

/* causal: {query, key, block} of a layer: checked against its ranks
 * (two of them, equal bounds: the keys are the queries' own tokens, as
 * in prefill; block divides them). */
static void load_causal(net_ctx *c, yt_obj *lo, const ef_workload_spec *w,
                        causal_spec *out) {
    const yt_node *n = yt_obj_val(lo, "causal");
    if (!n)
        return;
    char cp[YT_MAX_PATH], kp[YT_MAX_PATH];
    yt_obj_path(lo, "causal", cp, sizeof cp);
    yt_obj o;
    if (!yt_obj_open(&o, c->doc, n, cp, causal_keys, ARRAY_LEN(causal_keys)))
        return;
    int errors = c->doc->errors;
    yt_get_name(&o, "query", out->query);
    yt_get_name(&o, "key", out->key);
    if (c->doc->errors > errors || !yt_obj_val(&o, "block"))
        return;
    const yt_node *qn = yt_obj_val(&o, "query"), *kn = yt_obj_val(&o, "key");
    int q = causal_rank(c, qn, yt_obj_path(&o, "query", kp, sizeof kp), w,
                        out->query);
    int k = causal_rank(c, kn, yt_obj_path(&o, "key", kp, sizeof kp), w,
                        out->key);
    bool is_batch = false;
    const yt_node *bn = yt_obj_val(&o, "block");
    if (!wl_params_bound(c->doc, bn, yt_obj_path(&o, "block", kp, sizeof kp),
                         &c->params, &out->block, &is_batch) ||
        q < 0 || k < 0)
        return;
    if (q == k) {
        yt_error(c->doc, kn, yt_obj_path(&o, "key", kp, sizeof kp),
                 "the keys are another rank than the queries (M and P in "
                 "QK[h,m,p])",
                 "expected two different ranks, found %s twice", out->key);
        return;
    }
    uint64_t tokens = w->ranks[q].bound;
    if (w->ranks[k].bound != tokens) {
        yt_error(c->doc, n, cp,
                 "a causal mask is for prefill, where every query attends to "
                 "the tokens before it; one decode step attends to its whole "
                 "cache and needs none",
                 "expected as many keys as queries, found %s = %llu and %s = "
                 "%llu",
                 out->query, (unsigned long long)tokens, out->key,
                 (unsigned long long)w->ranks[k].bound);
        return;
    }
    if (tokens % out->block != 0) {
        yt_error(c->doc, bn, yt_obj_path(&o, "block", kp, sizeof kp), NULL,
                 "expected a block that divides %s = %llu, found %llu",
                 out->query, (unsigned long long)tokens,
                 (unsigned long long)out->block);
        return;
    }
    out->present = true;
    out->loc = yt_loc(c->net->file, n);
}

static void load_layer(net_ctx *c, const yt_node *n, int index) {
    ef_network_spec *net = c->net;
    char lp[YT_MAX_PATH];
    yt_path_index(lp, sizeof lp, "layers", (size_t)index);
    ef_workload_spec *w = wl_create(c->doc, lp);
    if (!w)
        return;
    /* layers[index] even after a failed allocation above, so that
     * names[j] and layers[j] always describe the same entry */
    ef_layer_spec *l = &net->layers[index];
    net->layer_count = index + 1;
    l->workload = w;
    l->count = 1;
    l->loc = yt_loc(net->file, n);
    w->loc = yt_loc(w->file, n);
    w->default_bits = c->default_bits;
    yt_obj o;
    if (!yt_obj_open(&o, c->doc, n, lp, layer_keys, ARRAY_LEN(layer_keys)))
        return;
    if (yt_get_name(&o, "name", w->name))
        check_unique_name(c, &o, index, w->name);
    const char *description = NULL;
    yt_get_str(&o, "description", &description);
    load_layer_einsums(c, &o, w);
    wl_load_ranks_precision_padding(&o, &c->params, w);
    if (yt_obj_val(&o, "default_precision"))
        yt_get_int(&o, "default_precision", &w->default_bits);
    yt_get_u64(&o, "count", &l->count);
    load_causal(c, &o, w, &c->causal[index]);
}

/* The parameters in use, kept in the network for reports; their locs
 * point into the network's own copy of the file name. */
static void keep_params(ef_network_spec *net, const wl_params *p) {
    net->param_count = p->count;
    for (int i = 0; i < p->count; i++) {
        net->params[i] = p->items[i];
        net->params[i].loc.file = net->file;
    }
    net->batch = p->items[0].value;
}

/* batch: and params:, then the caller's values over them. */
static void load_params(net_ctx *c, yt_obj *o, const ef_param_value *set,
                        int set_count) {
    wl_params_init(&c->params);
    uint64_t file_batch = 1;
    const yt_node *batch_key = yt_obj_knode(o, "batch");
    if (yt_obj_val(o, "batch") && yt_get_u64(o, "batch", &file_batch))
        wl_params_set_batch(&c->params, c->net->file, batch_key, file_batch);
    const yt_node *n = yt_obj_val(o, "params");
    if (n)
        wl_params_load(c->doc, yt_obj_knode(o, "params"), n, c->net->file,
                       batch_key != NULL, &c->params);
    wl_params_override(c->doc, set, set_count, &c->params);
    keep_params(c->net, &c->params);
}

/* Block b of causal layer l (its workload w): the queries of block b
 * and the keys up to the end of it, named NAME.qB. */
static ef_workload_spec *causal_block(net_ctx *c, const ef_layer_spec *l,
                                      const causal_spec *cs, uint64_t b) {
    ef_workload_spec *w = wl_clone(l->workload);
    if (!w) {
        yt_oom(c->doc);
        return NULL;
    }
    for (int r = 0; r < w->rank_count; r++) {
        if (strcmp(w->ranks[r].name, cs->query) == 0)
            w->ranks[r].bound = cs->block;
        else if (strcmp(w->ranks[r].name, cs->key) == 0)
            w->ranks[r].bound = (b + 1) * cs->block;
    }
    w->mask = (ef_mask_spec){.present = true, .offset = b * cs->block,
                             .loc = cs->loc};
    snprintf(w->mask.query, EF_MAX_NAME, "%s", cs->query);
    snprintf(w->mask.key, EF_MAX_NAME, "%s", cs->key);
    char name[EF_MAX_NAME + 32];
    snprintf(name, sizeof name, "%s.q%llu", l->workload->name,
             (unsigned long long)b);
    if (strlen(name) >= EF_MAX_NAME) {
        yt_error_at(c->doc, l->loc.line, l->loc.col, "layers",
                    "a shorter layer name leaves room for the block's",
                    "causal layer %s is split into layers named %s, longer "
                    "than %d characters",
                    l->workload->name, name, EF_MAX_NAME - 1);
        ef_workload_spec_destroy(w);
        return NULL;
    }
    memcpy(w->name, name, strlen(name) + 1);
    return w;
}

/* How many blocks of queries causal layer l splits into (1 when it is
 * not causal). */
static uint64_t causal_blocks(const ef_layer_spec *l, const causal_spec *cs) {
    if (!cs->present)
        return 1;
    for (int r = 0; r < l->workload->rank_count; r++)
        if (!strcmp(l->workload->ranks[r].name, cs->query))
            return l->workload->ranks[r].bound / cs->block;
    return 1;
}

/* Replaces every causal layer by its blocks of queries, in order: block
 * b has block queries and (b + 1) x block keys, the tokens up to its
 * own last query. The blocks above the diagonal are so never
 * computed. */
static void split_causal(net_ctx *c) {
    ef_network_spec *net = c->net;
    uint64_t total = 0;
    for (int i = 0; i < net->layer_count; i++) {
        const causal_spec *cs = &c->causal[i];
        total += causal_blocks(&net->layers[i], cs);
        if (total > EF_MAX_LAYERS) {
            yt_error_at(c->doc, cs->loc.line, cs->loc.col, "layers",
                        "a larger block gives fewer layers",
                        "expected at most %d layers with the causal layers "
                        "split into blocks of queries, found more",
                        EF_MAX_LAYERS);
            return;
        }
    }
    if (total == (uint64_t)net->layer_count)
        return;
    ef_layer_spec *out = ef_calloc(total, sizeof *out);
    if (!out) {
        yt_oom(c->doc);
        return;
    }
    int n = 0;
    bool ok = true;
    for (int i = 0; i < net->layer_count; i++) {
        const causal_spec *cs = &c->causal[i];
        if (!cs->present || !ok) {
            out[n++] = net->layers[i];
            net->layers[i].workload = NULL;
            continue;
        }
        uint64_t blocks = causal_blocks(&net->layers[i], cs);
        for (uint64_t b = 0; b < blocks && ok; b++) {
            ef_workload_spec *w = causal_block(c, &net->layers[i], cs, b);
            if (!(ok = w != NULL))
                break;
            out[n] = net->layers[i];
            out[n++].workload = w;
        }
    }
    /* a block's name may be one the file gives another layer */
    for (int a = 0; a < n && ok; a++)
        for (int b = a + 1; b < n && ok; b++)
            if (!strcmp(out[a].workload->name, out[b].workload->name)) {
                ef_loc at = out[a].workload->mask.present ? out[b].loc : out[a].loc;
                yt_error_at(c->doc, at.line, at.col, "layers",
                            "rename the layer: a causal layer NAME is split "
                            "into layers NAME.q0, NAME.q1, ...",
                            "duplicate layer name \"%s\" once the causal "
                            "layers are split into blocks",
                            out[a].workload->name);
                ok = false;
            }
    /* on failure n may fall short of total: the rest stay zeroed */
    for (int i = 0; i < net->layer_count; i++)
        ef_workload_spec_destroy(net->layers[i].workload);
    free(net->layers);
    net->layers = out;
    net->layer_count = n;
}

static void load_network(net_ctx *c, const ef_param_value *set,
                         int set_count) {
    yt_doc *d = c->doc;
    ef_network_spec *net = c->net;
    net->loc = yt_loc(net->file, d->root);
    wl_params_init(&c->params);
    keep_params(net, &c->params);
    yt_obj o;
    if (!yt_obj_open(&o, d, d->root, "", network_keys,
                     ARRAY_LEN(network_keys)))
        return;
    yt_get_name(&o, "name", net->name);
    const char *description = NULL;
    yt_get_str(&o, "description", &description);
    load_params(c, &o, set, set_count);
    c->default_bits = 8;
    yt_get_int(&o, "default_precision", &c->default_bits);
    const yt_node *seq = yt_obj_val(&o, "layers");
    if (!seq)
        return;
    if (seq->count == 0) {
        yt_error(d, seq, "layers", NULL,
                 "expected at least one layer, found an empty sequence");
        return;
    }
    if (seq->count > EF_MAX_LAYERS) {
        yt_error(d, seq, "layers", NULL,
                 "expected at most %d layers, found %zu", EF_MAX_LAYERS,
                 seq->count);
        return;
    }
    /* counted above: at most EF_MAX_LAYERS entries are ever allocated */
    net->layers = ef_calloc(seq->count, sizeof *net->layers);
    if (!net->layers) {
        yt_oom(d);
        return;
    }
    for (size_t i = 0; i < seq->count; i++)
        load_layer(c, seq->items[i], (int)i);
    if (d->errors == 0)
        split_causal(c);
}

/* A workload file: one layer, count 1, named as the workload. */
static void load_single_workload(net_ctx *c, const ef_param_value *set,
                                 int set_count) {
    ef_network_spec *net = c->net;
    net->loc = yt_loc(net->file, c->doc->root);
    wl_params_init(&c->params);
    keep_params(net, &c->params);
    net->layers = ef_calloc(1, sizeof *net->layers);
    ef_workload_spec *w = net->layers ? wl_create(c->doc, "") : NULL;
    if (!w) {
        if (!net->layers)
            yt_oom(c->doc);
        return;
    }
    net->layers[0].workload = w;
    net->layers[0].count = 1;
    net->layers[0].loc = net->loc;
    net->layer_count = 1;
    wl_load_file(c->doc, w, set, set_count, &c->params);
    keep_params(net, &c->params);
    snprintf(net->name, sizeof net->name, "%s", w->name);
}

ef_network_spec *ef_spec_load_network(const char *path, uint64_t batch,
                                      ef_diags *diags) {
    ef_param_value set = {.name = "batch", .value = batch};
    return ef_spec_load_network_set(path, &set, batch > 0 ? 1 : 0, diags);
}

/* The network in d, which it frees. */
static ef_network_spec *network_from_doc(yt_doc *d, const ef_param_value *set,
                                         int set_count) {
    if (!d)
        return NULL;
    ef_network_spec *net = ef_calloc(1, sizeof *net);
    if (!net || !(net->file = yt_strdup(d->file))) {
        yt_oom(d);
        free(net);
        yt_free(d);
        return NULL;
    }
    net_ctx c = {.doc = d, .net = net};
    /* Everything that is not plainly a workload file is read as a
     * network, so its errors are a network's (missing layers, unknown
     * keys with suggestions). */
    if (yt_map_key(d->root, "einsums") && !yt_map_key(d->root, "layers"))
        load_single_workload(&c, set, set_count);
    else {
        net->is_network = true;
        load_network(&c, set, set_count);
    }
    if (d->errors > 0) {
        ef_network_spec_destroy(net);
        net = NULL;
    }
    yt_free(d);
    return net;
}

ef_network_spec *ef_spec_load_network_set(const char *path,
                                          const ef_param_value *set,
                                          int set_count, ef_diags *diags) {
    return network_from_doc(yt_load(path, diags), set, set_count);
}

ef_network_spec *ef_spec_load_network_text(const char *name, const char *text,
                                           size_t size, const ef_param_value *set,
                                           int set_count, ef_diags *diags) {
    return network_from_doc(yt_load_mem(name, text, size, diags), set, set_count);
}

void ef_network_spec_destroy(ef_network_spec *n) {
    if (!n)
        return;
    for (int i = 0; i < n->layer_count; i++)
        ef_workload_spec_destroy(n->layers[i].workload);
    free(n->layers);
    free(n->file);
    free(n);
}
