/* einflow spec stage — the mapping YAML: per storage level, the temporal
 * loops (outermost first), the spatial loops onto PE rows and columns,
 * and which tensors the level keeps or bypasses. Either one `mapping:`
 * for a single Einsum or `mappings:` with one entry per Einsum of a
 * cascade. Level and rank names are only checked for shape here; model/
 * matches them against the architecture and workload, using the locs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/ytree.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_KEEP (int)(sizeof(((ef_level_mapping_spec *)0)->keep) / \
                       sizeof(((ef_level_mapping_spec *)0)->keep[0]))

static const char *const unit_names[] = {
    [EF_UNIT_ARRAY] = "array",
    [EF_UNIT_VECTOR] = "vector",
    [EF_UNIT_VECTOR + 1] = NULL,
};

const char *ef_unit_name(ef_unit u) {
    return (unsigned)u <= EF_UNIT_VECTOR ? unit_names[u] : "?";
}

static const yt_key top_keys[] = {
    {.name = "mapping", .type = YT_T_SEQ,
     .doc = "level mappings of the only Einsum, outermost level first"},
    {.name = "mappings", .type = YT_T_SEQ,
     .doc = "{einsum: OUTPUT, mapping: [...]} per Einsum of a cascade"},
    {.name = "description", .type = YT_T_STR, .doc = "free text, ignored"},
    {.name = "unit", .type = YT_T_ENUM, .def = EF_UNIT_ARRAY,
     .choices = unit_names,
     .doc = "array or vector: what computes the only Einsum's points"},
};

static const yt_key einsum_keys[] = {
    {.name = "einsum", .type = YT_T_NAME, .required = true,
     .doc = "the Einsum's output tensor"},
    {.name = "mapping", .type = YT_T_SEQ,
     .doc = "level mappings, outermost level first"},
    {.name = "dataflow", .type = YT_T_STR,
     .doc = "in place of mapping: a dataflow (name, vector, or template file) "
            "the mapper fills this Einsum in with"},
    {.name = "unit", .type = YT_T_ENUM, .def = EF_UNIT_ARRAY,
     .choices = unit_names,
     .doc = "array or vector: what computes this Einsum's points"},
};

static const yt_key level_keys[] = {
    {.name = "level", .type = YT_T_NAME, .required = true,
     .doc = "an architecture level"},
    {.name = "temporal", .type = YT_T_SEQ,
     .doc = "[RANK: factor, ...] loops at this level, outermost first"},
    {.name = "spatial", .type = YT_T_MAP,
     .doc = "{rows: [...], cols: [...]} loops spread over the PE array"},
    {.name = "keep", .type = YT_T_SEQ,
     .doc = "tensors this level holds; absent = all of them"},
    {.name = "bypass", .type = YT_T_SEQ,
     .doc = "tensors that pass this level by"},
};

static const yt_key spatial_keys[] = {
    {.name = "rows", .type = YT_T_SEQ,
     .doc = "[RANK: factor, ...] across PE rows"},
    {.name = "cols", .type = YT_T_SEQ,
     .doc = "[RANK: factor, ...] across PE columns"},
};

typedef struct {
    yt_doc *doc;
    ef_mapping_spec *m;
} map_ctx;

/* [M: 4, C: 2]: a sequence of single-pair mappings, so that order (the
 * loop order) survives YAML. */
static void load_factors(map_ctx *c, const yt_node *seq, const char *path,
                         ef_factor_spec *out, int *count) {
    if (seq->count > EF_MAX_LEVEL_LOOPS) {
        yt_error(c->doc, seq, path, NULL,
                 "expected at most %d loops, found %zu", EF_MAX_LEVEL_LOOPS,
                 seq->count);
        return;
    }
    for (size_t i = 0; i < seq->count; i++) {
        const yt_node *item = seq->items[i];
        char ip[YT_MAX_PATH], fp[YT_MAX_PATH], found[96];
        yt_path_index(ip, sizeof ip, path, i);
        if (item->bad)
            continue;
        if (item->kind != YT_MAP || item->count != 1) {
            if (item->kind == YT_MAP && item->count > 1)
                snprintf(found, sizeof found, "a mapping with %zu keys",
                         item->count);
            else
                yt_describe(item, found, sizeof found);
            yt_error(c->doc, item, ip, "write [M: 4, C: 2], one pair per loop",
                     "expected a single RANK: factor pair, found %s", found);
            continue;
        }
        const yt_pair *p = &item->pairs[0];
        ef_factor_spec *f = &out[*count];
        yt_path_key(fp, sizeof fp, ip, p->key->text);
        bool ok = yt_name(c->doc, p->key, ip, f->rank);
        ok = yt_u64(c->doc, p->value, fp, 1, UINT64_MAX, &f->factor) && ok;
        if (!ok)
            continue;
        f->loc = yt_loc(c->m->file, p->key);
        f->rank_hint = 0;
        (*count)++;
    }
}

static int line_of(const yt_node *n) { return n ? n->line : 0; }

/* keep: [I, O]. Returns the names' nodes so keep/bypass clashes can
 * point at the second mention. */
static void load_names(map_ctx *c, const yt_node *seq, const char *path,
                       char (*out)[EF_MAX_NAME], ef_loc *locs, int *count,
                       const yt_node **nodes) {
    if (seq->count > (size_t)MAX_KEEP) {
        yt_error(c->doc, seq, path, NULL,
                 "expected at most %d tensors, found %zu", MAX_KEEP,
                 seq->count);
        return;
    }
    for (size_t i = 0; i < seq->count; i++) {
        char ip[YT_MAX_PATH];
        yt_path_index(ip, sizeof ip, path, i);
        if (!yt_name(c->doc, seq->items[i], ip, out[*count]))
            continue;
        bool dup = false;
        for (int j = 0; j < *count && !dup; j++) {
            if (strcmp(out[j], out[*count]) == 0) {
                yt_error(c->doc, seq->items[i], ip, NULL,
                         "tensor \"%s\" listed twice (first at line %d)",
                         out[j], line_of(nodes[j]));
                dup = true;
            }
        }
        if (dup)
            continue;
        nodes[*count] = seq->items[i];
        locs[*count] = yt_loc(c->m->file, seq->items[i]);
        (*count)++;
    }
}

static int loop_count(const ef_level_mapping_spec *lm) {
    return lm->temporal_count + lm->row_count + lm->col_count;
}

static void load_level(map_ctx *c, const yt_node *n, const char *path,
                       ef_level_mapping_spec *lm) {
    lm->loc = yt_loc(c->m->file, n);
    yt_obj o;
    if (!yt_obj_open(&o, c->doc, n, path, level_keys, ARRAY_LEN(level_keys)))
        return;
    char kp[YT_MAX_PATH];
    const yt_node *v;
    yt_get_name(&o, "level", lm->level);
    if ((v = yt_obj_val(&o, "temporal")))
        load_factors(c, v, yt_obj_path(&o, "temporal", kp, sizeof kp),
                     lm->temporal, &lm->temporal_count);
    yt_obj so;
    yt_obj_open(&so, c->doc, yt_obj_val(&o, "spatial"),
                yt_obj_path(&o, "spatial", kp, sizeof kp), spatial_keys,
                ARRAY_LEN(spatial_keys));
    if ((v = yt_obj_val(&so, "rows")))
        load_factors(c, v, yt_obj_path(&so, "rows", kp, sizeof kp), lm->rows,
                     &lm->row_count);
    if ((v = yt_obj_val(&so, "cols")))
        load_factors(c, v, yt_obj_path(&so, "cols", kp, sizeof kp), lm->cols,
                     &lm->col_count);

    const yt_node *keep_nodes[MAX_KEEP] = {0}, *bypass_nodes[MAX_KEEP] = {0};
    if ((v = yt_obj_val(&o, "keep"))) {
        lm->keep_given = true;
        load_names(c, v, yt_obj_path(&o, "keep", kp, sizeof kp), lm->keep,
                   lm->keep_loc, &lm->keep_count, keep_nodes);
    }
    if ((v = yt_obj_val(&o, "bypass")))
        load_names(c, v, yt_obj_path(&o, "bypass", kp, sizeof kp), lm->bypass,
                   lm->bypass_loc, &lm->bypass_count, bypass_nodes);
    for (int i = 0; i < lm->bypass_count; i++) {
        for (int j = 0; j < lm->keep_count; j++) {
            if (strcmp(lm->bypass[i], lm->keep[j]) != 0)
                continue;
            char bp[YT_MAX_PATH], ip[YT_MAX_PATH];
            yt_obj_path(&o, "bypass", bp, sizeof bp);
            yt_path_index(ip, sizeof ip, bp, (size_t)i);
            yt_error(c->doc, bypass_nodes[i], ip,
                     "a level either keeps a tensor or lets it pass by",
                     "tensor \"%s\" is both kept (line %d) and bypassed",
                     lm->bypass[i], line_of(keep_nodes[j]));
        }
    }
}

static void load_levels(map_ctx *c, const yt_node *seq, const char *path,
                        ef_einsum_mapping_spec *em) {
    if (seq->count == 0 || seq->count > EF_MAX_LEVELS) {
        char found[96];
        yt_error(c->doc, seq, path, NULL,
                 "expected 1 to %d level mappings, found %s", EF_MAX_LEVELS,
                 yt_describe(seq, found, sizeof found));
        return;
    }
    int loops = 0;
    for (size_t i = 0; i < seq->count; i++) {
        char ip[YT_MAX_PATH];
        yt_path_index(ip, sizeof ip, path, i);
        load_level(c, seq->items[i], ip, &em->levels[i]);
        em->level_count++;
        loops += loop_count(&em->levels[i]);
    }
    if (loops > EF_MAX_LOOPS)
        yt_error(c->doc, seq, path, NULL,
                 "expected at most %d loops over all levels, found %d",
                 EF_MAX_LOOPS, loops);
}

/* unit: array | vector; the model checks it against the architecture
 * (a vector unit must exist), so its loc is kept. */
static void load_unit(map_ctx *c, yt_obj *o, ef_einsum_mapping_spec *em) {
    int unit = EF_UNIT_ARRAY;
    if (yt_get_enum(o, "unit", &unit))
        em->unit = (ef_unit)unit;
    if (yt_obj_val(o, "unit"))
        em->unit_loc = yt_loc(c->m->file, yt_obj_val(o, "unit"));
}

/* `dataflow: DF` stands in place of `mapping:` (the mapper fills the
 * entry in; whether DF exists is the CLI's to say, with the other
 * dataflows). The unit then comes from the dataflow. */
static void load_entry_dataflow(map_ctx *c, yt_obj *o, const yt_node *n,
                                ef_einsum_mapping_spec *em) {
    const yt_node *df = yt_obj_knode(o, "dataflow");
    const yt_node *levels = yt_obj_knode(o, "mapping");
    char kp[YT_MAX_PATH];
    if (!df && !levels) {
        yt_error(c->doc, n, o->path, "give the loops under mapping:, or let the mapper find "
                 "them with dataflow: NAME",
                 "missing required key \"mapping\" (or \"dataflow\")");
        return;
    }
    if (!df)
        return;
    if (levels) {
        const yt_node *second = levels->line > df->line ? levels : df;
        yt_error(c->doc, second, o->path,
                 "write the loops, or name a dataflow for the mapper, not both",
                 "expected either mapping or dataflow, found both");
        return;
    }
    if (yt_obj_knode(o, "unit")) {
        yt_error(c->doc, yt_obj_knode(o, "unit"), yt_obj_path(o, "unit", kp, sizeof kp),
                 "write dataflow: vector for the vector unit",
                 "expected no unit beside dataflow: the dataflow says what computes the "
                 "Einsum");
        return;
    }
    const char *text = NULL;
    if (!yt_get_str(o, "dataflow", &text) || !text)
        return;
    yt_obj_path(o, "dataflow", kp, sizeof kp);
    if (!text[0] || strlen(text) >= sizeof em->dataflow) {
        yt_error(c->doc, yt_obj_val(o, "dataflow"), kp, NULL,
                 "expected a dataflow name or a template file of 1 to %d characters, found "
                 "%zu", (int)sizeof em->dataflow - 1, strlen(text));
        return;
    }
    snprintf(em->dataflow, sizeof em->dataflow, "%s", text);
    em->dataflow_loc = yt_loc(c->m->file, yt_obj_val(o, "dataflow"));
}

static void load_einsum_mapping(map_ctx *c, const yt_node *n,
                                const char *path, const yt_node **seen) {
    ef_mapping_spec *m = c->m;
    int index = m->mapping_count++;
    ef_einsum_mapping_spec *em = &m->mappings[index];
    em->loc = yt_loc(m->file, n);
    yt_obj o;
    if (!yt_obj_open(&o, c->doc, n, path, einsum_keys, ARRAY_LEN(einsum_keys)))
        return;
    char kp[YT_MAX_PATH];
    const yt_node *name = yt_obj_val(&o, "einsum");
    if (name && yt_get_name(&o, "einsum", em->einsum)) {
        for (int j = 0; j < index; j++) {
            if (seen[j] && strcmp(m->mappings[j].einsum, em->einsum) == 0) {
                yt_error(c->doc, name, yt_obj_path(&o, "einsum", kp, sizeof kp),
                         NULL, "Einsum \"%s\" mapped twice (first at line %d)",
                         em->einsum, seen[j]->line);
                break;
            }
        }
        seen[index] = name;
    }
    const yt_node *levels = yt_obj_val(&o, "mapping");
    if (levels)
        load_levels(c, levels, yt_obj_path(&o, "mapping", kp, sizeof kp), em);
    load_unit(c, &o, em);
    load_entry_dataflow(c, &o, n, em);
}

static void load_mapping(map_ctx *c, const yt_node *root) {
    ef_mapping_spec *m = c->m;
    m->loc = yt_loc(m->file, root);
    yt_obj o;
    if (!yt_obj_open(&o, c->doc, root, "", top_keys, ARRAY_LEN(top_keys)))
        return;
    const char *description = NULL;
    yt_get_str(&o, "description", &description);
    const yt_node *one = yt_obj_knode(&o, "mapping");
    const yt_node *many = yt_obj_knode(&o, "mappings");
    if (one && many) {
        const yt_node *second = one->line > many->line ? one : many;
        yt_error(c->doc, second, "",
                 "use mapping for one Einsum, mappings for a cascade",
                 "expected either mapping or mappings, found both");
        return;
    }
    if (!one && !many) {
        yt_error(c->doc, root, "", "use mappings for a cascade of Einsums",
                 "missing required key \"mapping\"");
        return;
    }
    if (many && yt_obj_knode(&o, "unit")) {
        yt_error(c->doc, yt_obj_knode(&o, "unit"), "",
                 "give unit in each entry of mappings",
                 "expected unit beside mapping (one Einsum), found it beside "
                 "mappings");
        return;
    }
    const yt_node *v;
    if ((v = yt_obj_val(&o, "mapping"))) {
        m->mapping_count = 1;
        m->mappings[0].loc = yt_loc(m->file, v);
        load_levels(c, v, "mapping", &m->mappings[0]);
        load_unit(c, &o, &m->mappings[0]);
        return;
    }
    v = yt_obj_val(&o, "mappings");
    if (!v)
        return; /* wrong shape, already reported */
    if (v->count == 0 || v->count > EF_MAX_EINSUMS) {
        char found[96];
        yt_error(c->doc, v, "mappings", NULL,
                 "expected 1 to %d Einsum mappings, found %s", EF_MAX_EINSUMS,
                 yt_describe(v, found, sizeof found));
        return;
    }
    const yt_node *seen[EF_MAX_EINSUMS] = {0};
    for (size_t i = 0; i < v->count; i++) {
        char ip[YT_MAX_PATH];
        yt_path_index(ip, sizeof ip, "mappings", i);
        load_einsum_mapping(c, v->items[i], ip, seen);
    }
}

/* The mapping in d, which it frees. */
static ef_mapping_spec *mapping_from_doc(yt_doc *d) {
    if (!d)
        return NULL;
    ef_mapping_spec *m = ef_calloc(1, sizeof *m);
    if (!m || !(m->file = yt_strdup(d->file))) {
        yt_oom(d);
        free(m);
        yt_free(d);
        return NULL;
    }
    map_ctx c = {.doc = d, .m = m};
    load_mapping(&c, d->root);
    if (d->errors > 0) {
        ef_mapping_spec_destroy(m);
        m = NULL;
    }
    yt_free(d);
    return m;
}

ef_mapping_spec *ef_spec_load_mapping(const char *path, ef_diags *diags) {
    return mapping_from_doc(yt_load(path, diags));
}

ef_mapping_spec *ef_spec_load_mapping_text(const char *name, const char *text,
                                           size_t size, ef_diags *diags) {
    return mapping_from_doc(yt_load_mem(name, text, size, diags));
}

void ef_mapping_spec_destroy(ef_mapping_spec *m) {
    if (!m)
        return;
    free(m->file);
    free(m);
}
