/* einflow spec stage — dataflow templates: which rank roles may go onto
 * the PE rows and columns (and how their factors are chosen), which
 * tensors the per-PE levels keep, and which roles loop inside the PE.
 * The built-in templates are the files of dataflows/, compiled in by
 * the build (dataflows_builtin.c); a user's template is a file of the
 * same shape. docs/dataflows.md explains every key with its loop nest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/ytree.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* dataflows_builtin.c, generated from the files of dataflows/ */
extern const char *const ef_builtin_dataflow_names[];
extern const char *const ef_builtin_dataflow_texts[];
extern const int ef_builtin_dataflow_count;

static const char *const fill_names[] = {"any", "max", "whole", NULL};
static const char *const unit_names[] = {
    [EF_UNIT_ARRAY] = "array", [EF_UNIT_VECTOR] = "vector", [EF_UNIT_VECTOR + 1] = NULL};

static const yt_key top_keys[] = {
    {.name = "dataflow", .type = YT_T_LABEL, .required = true,
     .doc = "the template's name, as given to --dataflow"},
    {.name = "description", .type = YT_T_STR, .doc = "one line, shown by compare"},
    {.name = "spatial", .type = YT_T_MAP,
     .doc = "{rows: [slot, ...], cols: [slot, ...]}: what the PE array spreads"},
    {.name = "pe", .type = YT_T_MAP,
     .doc = "{keep: [...], temporal: [...]}: what stays and loops in the PE"},
    {.name = "unit", .type = YT_T_ENUM, .def = EF_UNIT_ARRAY, .choices = unit_names,
     .doc = "array, or vector: the architecture's vector unit, lanes on spatial.cols"},
    {.name = "fuse", .type = YT_T_BOOL, .def = 0,
     .doc = "true: map a cascade as fused groups, intermediates kept on chip"},
};

static const yt_key spatial_keys[] = {
    {.name = "rows", .type = YT_T_SEQ, .doc = "slots across PE rows, outermost first"},
    {.name = "cols", .type = YT_T_SEQ, .doc = "slots across PE columns, outermost first"},
};

static const yt_key slot_keys[] = {
    {.name = "ranks", .type = YT_T_SEQ, .required = true,
     .doc = "rank roles this slot may take, e.g. [in_channel, filter_tap.0]"},
    {.name = "fill", .type = YT_T_ENUM, .choices = fill_names, .def = EF_FILL_ANY,
     .doc = "any (searched), max (largest that fits) or whole (entire rank)"},
};

static const yt_key pe_keys[] = {
    {.name = "keep", .type = YT_T_SEQ,
     .doc = "operands the per-PE levels keep: input, weight, output; absent = searched"},
    {.name = "temporal", .type = YT_T_SEQ,
     .doc = "rank roles that may loop inside the PE; absent = any"},
    {.name = "innermost", .type = YT_T_SEQ,
     .doc = "rank roles whose PE loops come last, the last listed innermost"},
};

static const char *const operand_names[] = {
#define X(k, s) s,
    EF_OPERAND_ROLES(X)
#undef X
    NULL
};

const char *ef_operand_role_name(ef_operand_role r) {
    return r >= 0 && r < EF_OPERAND_COUNT ? operand_names[r] : "?";
}

/* "in_channel", "filter_tap.0" or "any" → a set of role bits. */
static bool parse_selector(yt_doc *d, const yt_node *n, const char *path,
                           uint32_t *out) {
    const char *text;
    if (!yt_str(d, n, path, &text))
        return false;
    if (strcmp(text, "any") == 0) {
        *out = EF_ROLE_ANY;
        return true;
    }
    const char *dot = strchr(text, '.');
    size_t len = dot ? (size_t)(dot - text) : strlen(text);
    const char *names[EF_ROLE_COUNT + 1];
    for (int r = 0; r < EF_ROLE_COUNT; r++) {
        names[r] = ef_rank_role_name((ef_rank_role)r);
        if (strlen(names[r]) != len || strncmp(names[r], text, len) != 0)
            continue;
        if (!dot) {
            *out = ef_role_all_axes((ef_rank_role)r);
            return true;
        }
        char *end;
        long axis = strtol(dot + 1, &end, 10);
        bool windowed = r == EF_ROLE_OUT_PIXEL || r == EF_ROLE_FILTER_TAP;
        if (!windowed || *end || end == dot + 1 || axis < 0 || axis > 2) {
            yt_error(d, n, path, "only out_pixel and filter_tap have axes: .0, .1 or .2",
                     "expected a rank role, found \"%s\"", text);
            return false;
        }
        *out = ef_role_bit((ef_rank_role)r, (int)axis);
        return true;
    }
    names[EF_ROLE_COUNT] = "any";
    char word[EF_MAX_NAME];
    snprintf(word, sizeof word, "%.*s", (int)(len < sizeof word ? len : sizeof word - 1), text);
    const char *s = ef_suggest(word, names, EF_ROLE_COUNT + 1);
    char hint[96], list[256];
    if (s)
        snprintf(hint, sizeof hint, "did you mean \"%s\"?", s);
    yt_join(list, sizeof list, names, EF_ROLE_COUNT + 1);
    yt_error(d, n, path, s ? hint : NULL,
             "expected a rank role (%s), found \"%s\"", list, text);
    return false;
}

static bool load_selectors(yt_doc *d, const yt_node *seq, const char *path,
                           uint32_t *out) {
    bool ok = true;
    *out = 0;
    for (size_t i = 0; i < seq->count; i++) {
        char ip[YT_MAX_PATH];
        uint32_t bits = 0;
        yt_path_index(ip, sizeof ip, path, i);
        if (parse_selector(d, seq->items[i], ip, &bits))
            *out |= bits;
        else
            ok = false;
    }
    return ok;
}

static void load_slots(yt_doc *d, const yt_node *seq, const char *path,
                       ef_dataflow_spec *df, ef_slot_spec *slots, int *count) {
    if (seq->count > EF_MAX_LEVEL_LOOPS) {
        yt_error(d, seq, path, NULL, "expected at most %d slots, found %zu",
                 EF_MAX_LEVEL_LOOPS, seq->count);
        return;
    }
    for (size_t i = 0; i < seq->count; i++) {
        char ip[YT_MAX_PATH], kp[YT_MAX_PATH];
        yt_path_index(ip, sizeof ip, path, i);
        yt_obj o;
        if (!yt_obj_open(&o, d, seq->items[i], ip, slot_keys, ARRAY_LEN(slot_keys)))
            continue;
        ef_slot_spec *s = &slots[*count];
        int fill = EF_FILL_ANY;
        bool ok = yt_get_enum(&o, "fill", &fill);
        const yt_node *ranks = yt_obj_val(&o, "ranks");
        if (!ranks)
            continue;
        if (ranks->count == 0) {
            yt_error(d, ranks, yt_obj_path(&o, "ranks", kp, sizeof kp), NULL,
                     "expected at least one rank role, found an empty sequence");
            continue;
        }
        ok = load_selectors(d, ranks, yt_obj_path(&o, "ranks", kp, sizeof kp),
                            &s->roles) && ok;
        if (!ok)
            continue;
        s->fill = (ef_fill)fill;
        s->loc = yt_loc(df->file, seq->items[i]);
        (*count)++;
    }
}

static void load_pe(yt_doc *d, const yt_node *n, ef_dataflow_spec *df) {
    /* absent keys: every operand may be kept (searched), any rank may loop */
    for (int k = 0; k < EF_OPERAND_COUNT; k++) df->pe_keeps[k] = true;
    df->pe_keep_searched = true;
    df->pe_temporal = EF_ROLE_ANY;
    yt_obj o;
    if (!yt_obj_open(&o, d, n, "pe", pe_keys, ARRAY_LEN(pe_keys)))
        return;
    char kp[YT_MAX_PATH];
    const yt_node *keep = yt_obj_val(&o, "keep");
    if (keep) {
        df->pe_keep_searched = false;
        for (int k = 0; k < EF_OPERAND_COUNT; k++) df->pe_keeps[k] = false;
        yt_obj_path(&o, "keep", kp, sizeof kp);
        for (size_t i = 0; i < keep->count; i++) {
            char ip[YT_MAX_PATH];
            int role;
            yt_path_index(ip, sizeof ip, kp, i);
            if (!yt_enum(d, keep->items[i], ip, operand_names, &role))
                continue;
            if (df->pe_keeps[role])
                yt_error(d, keep->items[i], ip, NULL, "operand \"%s\" listed twice",
                         operand_names[role]);
            df->pe_keeps[role] = true;
        }
    }
    const yt_node *temporal = yt_obj_val(&o, "temporal");
    if (temporal)
        load_selectors(d, temporal, yt_obj_path(&o, "temporal", kp, sizeof kp),
                       &df->pe_temporal);
    const yt_node *inner = yt_obj_val(&o, "innermost");
    if (!inner)
        return;
    yt_obj_path(&o, "innermost", kp, sizeof kp);
    if (inner->count > EF_MAX_LEVEL_LOOPS) {
        yt_error(d, inner, kp, NULL, "expected at most %d roles, found %zu", EF_MAX_LEVEL_LOOPS,
                 inner->count);
        return;
    }
    for (size_t i = 0; i < inner->count; i++) {
        char ip[YT_MAX_PATH];
        uint32_t bits;
        yt_path_index(ip, sizeof ip, kp, i);
        if (!parse_selector(d, inner->items[i], ip, &bits))
            continue;
        if (!(bits & df->pe_temporal))
            yt_error(d, inner->items[i], ip, "list it under pe.temporal too",
                     "a role that may not loop inside the PE cannot be innermost there");
        df->pe_innermost[df->pe_innermost_count++] = bits;
    }
}

/* A vector template describes the vector unit: one row of lanes fed
 * from a shared level, with no storage of its own (docs/model.md,
 * "The vector unit"); what a row or a PE would mean has no place in it. */
static void check_vector_template(yt_doc *d, yt_obj *o, yt_obj *so, ef_dataflow_spec *df) {
    if (df->unit != EF_UNIT_VECTOR) return;
    const yt_node *n;
    if ((n = yt_obj_knode(so, "rows")) && df->row_count > 0)
        yt_error(d, n, "spatial.rows", "put the lanes' slots under spatial.cols",
                 "the vector unit is one row of lanes: a template with unit: vector has "
                 "no spatial rows");
    if ((n = yt_obj_knode(o, "pe")))
        yt_error(d, n, "pe", "leave pe out of a vector template",
                 "the vector unit's lanes keep nothing and loop over nothing of their own: "
                 "a template with unit: vector has no pe");
    if ((n = yt_obj_knode(o, "fuse")) && df->fuse)
        yt_error(d, n, "fuse", "give fuse: true to an array template; its non-MAC Einsums "
                 "go to the vector unit by themselves",
                 "fuse: true maps a whole cascade, with this template for its MAC Einsums on "
                 "the PE array, so it cannot go with unit: vector");
}

static void load_dataflow(yt_doc *d, ef_dataflow_spec *df) {
    df->loc = yt_loc(df->file, d->root);
    yt_obj o;
    if (!yt_obj_open(&o, d, d->root, "", top_keys, ARRAY_LEN(top_keys)))
        return;
    yt_get_name(&o, "dataflow", df->name);
    const char *description = NULL;
    if (yt_get_str(&o, "description", &description) && description &&
        !(df->description = yt_strdup(description)))
        yt_oom(d);
    yt_obj so;
    yt_obj_open(&so, d, yt_obj_val(&o, "spatial"), "spatial", spatial_keys,
                ARRAY_LEN(spatial_keys));
    const yt_node *v;
    if ((v = yt_obj_val(&so, "rows")))
        load_slots(d, v, "spatial.rows", df, df->rows, &df->row_count);
    if ((v = yt_obj_val(&so, "cols")))
        load_slots(d, v, "spatial.cols", df, df->cols, &df->col_count);
    load_pe(d, yt_obj_val(&o, "pe"), df);
    int unit = EF_UNIT_ARRAY;
    if (yt_get_enum(&o, "unit", &unit)) df->unit = (ef_unit)unit;
    yt_get_bool(&o, "fuse", &df->fuse);
    check_vector_template(d, &o, &so, df);
}

static ef_dataflow_spec *load_doc(yt_doc *d) {
    if (!d)
        return NULL;
    ef_dataflow_spec *df = ef_calloc(1, sizeof *df);
    if (!df || !(df->file = yt_strdup(d->file))) {
        yt_oom(d);
        free(df);
        yt_free(d);
        return NULL;
    }
    load_dataflow(d, df);
    if (d->errors > 0) {
        ef_dataflow_spec_destroy(df);
        df = NULL;
    }
    yt_free(d);
    return df;
}

ef_dataflow_spec *ef_spec_load_dataflow(const char *path, ef_diags *diags) {
    return load_doc(yt_load(path, diags));
}

ef_dataflow_spec *ef_spec_load_dataflow_text(const char *name, const char *text,
                                             size_t size, ef_diags *diags) {
    return load_doc(yt_load_mem(name, text, size, diags));
}

const char *ef_spec_builtin_dataflow_text(const char *name) {
    for (int i = 0; i < ef_builtin_dataflow_count; i++)
        if (strcmp(ef_builtin_dataflow_names[i], name) == 0)
            return ef_builtin_dataflow_texts[i];
    return NULL;
}

const char *const *ef_spec_builtin_dataflow_names(int *count) {
    *count = ef_builtin_dataflow_count;
    return ef_builtin_dataflow_names;
}

ef_dataflow_spec *ef_spec_builtin_dataflow(const char *name, ef_diags *diags) {
    const char *text = ef_spec_builtin_dataflow_text(name);
    if (!text) {
        int n;
        const char *const *names = ef_spec_builtin_dataflow_names(&n);
        const char *s = ef_suggest(name, names, (size_t)n);
        char list[256], hint[96];
        yt_join(list, sizeof list, names, (size_t)n);
        if (s)
            snprintf(hint, sizeof hint, "did you mean \"%s\"?", s);
        ef_diags_add(diags, "<command line>", 0, 0, "dataflow", s ? hint : NULL, NULL,
                     "unknown dataflow \"%s\": the built-in ones are %s, or give "
                     "a template file (NAME.yaml)", name, list);
        return NULL;
    }
    char file[EF_MAX_NAME + 32];
    snprintf(file, sizeof file, "<built-in dataflows/%s.yaml>", name);
    return load_doc(yt_load_text(file, text, diags));
}

void ef_dataflow_spec_destroy(ef_dataflow_spec *df) {
    if (!df)
        return;
    free(df->description);
    free(df->file);
    free(df);
}
