/* einflow spec stage — the sweep file of `einflow sweep`: which
 * architecture, workload and dataflows (or mapping), and the axes of
 * the design space, each a key path with its values. Everything that
 * can be checked before a point runs is checked here, at the sweep
 * file's lines: unknown keys, an axis path the architecture or the
 * workload does not have, a value the architecture's loader rejects,
 * empty lists and zip axes of unequal length. Relative paths are
 * relative to the sweep file's directory, so a sweep file can be run
 * from anywhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/ytree.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const mode_names[] = {"product", "zip", NULL};

static const yt_key sweep_keys[] = {
    {.name = "arch", .type = YT_T_STR, .required = true,
     .doc = "the architecture file, relative to the sweep file"},
    {.name = "workload", .type = YT_T_STR, .required = true,
     .doc = "a workload or a network file, relative to the sweep file"},
    {.name = "dataflow", .type = YT_T_ANY,
     .doc = "a dataflow or a list of them: each point runs under each"},
    {.name = "mapping", .type = YT_T_STR,
     .doc = "a mapping file in place of dataflows"},
    {.name = "set", .type = YT_T_MAP,
     .doc = "the axes: key path (arch.PATH or a parameter) -> list of values"},
    {.name = "mode", .type = YT_T_ENUM, .def = 0, .choices = mode_names,
     .doc = "product (every combination) or zip (the i-th values together)"},
    {.name = "description", .type = YT_T_STR, .doc = "free text, ignored"},
};

typedef struct {
    yt_doc *doc;
    ef_sweep_spec *s;
    char dir[4096];              /* the sweep file's directory, "" for . */
    bool bad_axis[EF_MAX_SWEEP_AXES]; /* already reported: no zip check */
} sweep_ctx;

static char *resolve(const sweep_ctx *c, const char *rel) {
    if (rel[0] == '/' || !c->dir[0]) return yt_strdup(rel);
    size_t n = strlen(c->dir) + strlen(rel) + 2;
    char *out = ef_malloc(n);
    if (out) snprintf(out, n, "%s/%s", c->dir, rel);
    return out;
}

static bool looks_like_file(const char *name) {
    size_t len = strlen(name);
    return strchr(name, '/') || (len > 5 && !strcmp(name + len - 5, ".yaml")) ||
           (len > 4 && !strcmp(name + len - 4, ".yml"));
}

/* A path key's file, resolved; NULL after a diagnostic. */
static char *get_file(sweep_ctx *c, yt_obj *o, const char *key) {
    const char *text = NULL;
    if (!yt_obj_val(o, key) || !yt_get_str(o, key, &text)) return NULL;
    if (!text[0]) {
        yt_error(c->doc, yt_obj_val(o, key), key, NULL, "expected a file name, found nothing");
        return NULL;
    }
    char *p = resolve(c, text);
    if (!p) yt_oom(c->doc);
    return p;
}

/* One dataflow: a built-in name (checked, with "did you mean") or a
 * template file (loaded and checked). */
static bool add_dataflow(sweep_ctx *c, const yt_node *n, const char *path) {
    ef_sweep_spec *s = c->s;
    const char *name = NULL;
    if (!yt_str(c->doc, n, path, &name)) return false;
    char *kept = NULL;
    if (looks_like_file(name)) {
        kept = resolve(c, name);
        ef_dataflow_spec *df = kept ? ef_spec_load_dataflow(kept, c->doc->diags) : NULL;
        if (!df) {
            if (kept) yt_error(c->doc, n, path, NULL, "expected a dataflow template file, "
                               "found \"%s\" (see the errors above)", name);
            free(kept);
            return false;
        }
        ef_dataflow_spec_destroy(df);
    } else {
        if (!ef_spec_builtin_dataflow_text(name)) {
            int count;
            const char *const *names = ef_spec_builtin_dataflow_names(&count);
            const char *best = ef_suggest(name, names, (size_t)count);
            char list[256], hint[96];
            yt_join(list, sizeof list, names, (size_t)count);
            if (best) snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
            yt_error(c->doc, n, path, best ? hint : NULL,
                     "expected a built-in dataflow (one of %s) or a template file (NAME.yaml), "
                     "found \"%s\"", list, name);
            return false;
        }
        kept = yt_strdup(name);
    }
    if (!kept) {
        yt_oom(c->doc);
        return false;
    }
    s->dataflows[s->dataflow_count++] = kept;
    return true;
}

static void load_dataflows(sweep_ctx *c, const yt_node *n) {
    ef_sweep_spec *s = c->s;
    size_t count = n->kind == YT_SEQ ? n->count : 1;
    if (n->kind == YT_MAP) {
        char found[96];
        yt_error(c->doc, n, "dataflow", NULL, "expected a dataflow or a list of them, found %s",
                 yt_describe(n, found, sizeof found));
        return;
    }
    if (count == 0) {
        yt_error(c->doc, n, "dataflow", NULL, "expected at least one dataflow, found an empty "
                 "list");
        return;
    }
    if (count > EF_MAX_DATAFLOWS) {
        yt_error(c->doc, n, "dataflow", NULL, "expected at most %d dataflows, found %zu",
                 EF_MAX_DATAFLOWS, count);
        return;
    }
    s->dataflows = ef_calloc(count, sizeof *s->dataflows);
    if (!s->dataflows) {
        yt_oom(c->doc);
        return;
    }
    if (n->kind != YT_SEQ) {
        add_dataflow(c, n, "dataflow");
        return;
    }
    for (size_t i = 0; i < count; i++) {
        char kp[YT_MAX_PATH];
        yt_path_index(kp, sizeof kp, "dataflow", i);
        const yt_node *item = n->items[i];
        for (int k = 0; k < s->dataflow_count && item->kind == YT_SCALAR; k++)
            if (!strcmp(s->dataflows[k], item->text) ||
                (looks_like_file(item->text) && strstr(s->dataflows[k], item->text)))
                yt_error(c->doc, item, kp, NULL, "expected each dataflow once, found \"%s\" "
                         "again", item->text);
        add_dataflow(c, item, kp);
    }
}

/* The parameters a workload or network file declares, for the axes
 * that name one; false when the file does not load. */
static bool load_params(sweep_ctx *c, ef_network_spec **net) {
    *net = ef_spec_load_network_set(c->s->workload, NULL, 0, c->doc->diags);
    if (*net) return true;
    c->doc->errors++;
    return false;
}

/* A parameter axis: a name of the workload's, integer values. */
static void check_param_axis(sweep_ctx *c, ef_sweep_axis *ax, const yt_node *key,
                             const ef_network_spec *net, const char *path) {
    const char *names[EF_MAX_PARAMS];
    bool known = false;
    for (int k = 0; k < net->param_count; k++) {
        names[k] = net->params[k].name;
        known |= !strcmp(names[k], ax->path);
    }
    if (!known) {
        char list[EF_MAX_PARAMS * (EF_MAX_NAME + 2) + 8], hint[EF_MAX_NAME + 32];
        const char *best = ef_suggest(ax->path, names, (size_t)net->param_count);
        const char *arch = strchr(ax->path, '.') ? "; an architecture path starts with arch." : "";
        yt_join(list, sizeof list, names, (size_t)net->param_count);
        if (best) snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
        yt_error(c->doc, key, path, best ? hint : NULL,
                 "expected an architecture path arch.KEY... or a parameter of %s (one of %s), "
                 "found \"%s\"%s", net->file, list, ax->path, arch);
        return;
    }
    ax->numbers = ef_calloc((size_t)ax->value_count, sizeof *ax->numbers);
    if (!ax->numbers) yt_oom(c->doc);
}

/* The values of one axis as written (a scalar alone is one value). */
static bool read_values(sweep_ctx *c, ef_sweep_axis *ax, const yt_node *v, const char *path) {
    size_t count = v->kind == YT_SEQ ? v->count : 1;
    if (v->kind == YT_MAP) {
        char found[96];
        yt_error(c->doc, v, path, NULL, "expected a list of values, found %s",
                 yt_describe(v, found, sizeof found));
        return false;
    }
    if (count == 0) {
        yt_error(c->doc, v, path, "an axis needs at least one value",
                 "expected a list of values, found an empty list");
        return false;
    }
    if (count > EF_MAX_SWEEP_VALUES) {
        yt_error(c->doc, v, path, NULL, "expected at most %d values, found %zu",
                 EF_MAX_SWEEP_VALUES, count);
        return false;
    }
    ax->values = ef_calloc(count, sizeof *ax->values);
    ax->value_locs = ef_calloc(count, sizeof *ax->value_locs);
    if (!ax->values || !ax->value_locs) {
        yt_oom(c->doc);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        const yt_node *n = v->kind == YT_SEQ ? v->items[i] : v;
        char kp[YT_MAX_PATH];
        yt_path_index(kp, sizeof kp, path, i);
        const char *text = NULL;
        if (!yt_str(c->doc, n, kp, &text)) {
            ok = false;
            continue;
        }
        if (!text[0] || strlen(text) >= EF_MAX_SET_TEXT) {
            yt_error(c->doc, n, kp, NULL, "expected a value of 1 to %d bytes, found %zu",
                     EF_MAX_SET_TEXT - 1, strlen(text));
            ok = false;
            continue;
        }
        for (size_t k = 0; k < (size_t)ax->value_count; k++)
            if (!strcmp(ax->values[k], text)) {
                yt_error(c->doc, n, kp, "each value makes its own points", "expected each "
                         "value once, found \"%s\" again (first at line %d)", text,
                         ax->value_locs[k].line);
                ok = false;
            }
        if (!(ax->values[ax->value_count] = yt_strdup(text))) {
            yt_oom(c->doc);
            return false;
        }
        ax->value_locs[ax->value_count++] = yt_loc(c->s->file, n);
    }
    return ok;
}

/* An architecture axis: its path must lead to a scalar (reported once,
 * at the key), then each value must load (reported at the value). */
static void check_arch_axis(sweep_ctx *c, const ef_sweep_axis *ax) {
    ef_sweep_spec *s = c->s;
    ef_arch_set set = {.path = ax->path + 5, .value = ax->values[0], .origin = s->file,
                       .line = ax->loc.line, .col = ax->loc.col};
    if (!ef_spec_arch_paths_ok(s->arch, &set, 1, c->doc->diags)) {
        c->doc->errors++;
        return;
    }
    for (int v = 0; v < ax->value_count; v++) {
        set.value = ax->values[v];
        set.line = ax->value_locs[v].line;
        set.col = ax->value_locs[v].col;
        ef_arch_spec *a = ef_spec_load_arch_set(s->arch, &set, 1, c->doc->diags);
        if (!a) c->doc->errors++;
        ef_arch_spec_destroy(a);
    }
}

static void load_axes(sweep_ctx *c, const yt_node *map, const ef_network_spec *net,
                      bool arch_ok) {
    ef_sweep_spec *s = c->s;
    if (map->count > EF_MAX_SWEEP_AXES) {
        yt_error(c->doc, map, "set", NULL, "expected at most %d axes, found %zu",
                 EF_MAX_SWEEP_AXES, map->count);
        return;
    }
    for (size_t i = 0; i < map->count; i++) {
        const yt_node *key = map->pairs[i].key, *v = map->pairs[i].value;
        char kp[YT_MAX_PATH];
        yt_path_key(kp, sizeof kp, "set", key->text);
        int errors = c->doc->errors;
        ef_sweep_axis *ax = &s->axes[s->axis_count++];
        ax->loc = yt_loc(s->file, key);
        if (strlen(key->text) >= sizeof ax->path || !key->text[0]) {
            yt_error(c->doc, key, kp, NULL, "expected a key path of 1 to %d bytes",
                     (int)sizeof ax->path - 1);
            continue;
        }
        snprintf(ax->path, sizeof ax->path, "%s", key->text);
        ax->is_arch = !strncmp(ax->path, "arch.", 5);
        if (read_values(c, ax, v, kp)) {
            if (ax->is_arch && arch_ok) check_arch_axis(c, ax);
            if (!ax->is_arch && net) check_param_axis(c, ax, key, net, kp);
            for (int k = 0; ax->numbers && k < ax->value_count; k++) {
                const yt_node *n = v->kind == YT_SEQ ? v->items[k] : v;
                char vp[YT_MAX_PATH];
                yt_path_index(vp, sizeof vp, kp, (size_t)k);
                yt_u64(c->doc, n, vp, 1, EF_MAX_PARAM_VALUE, &ax->numbers[k]);
            }
        }
        c->bad_axis[s->axis_count - 1] = c->doc->errors > errors;
    }
}

/* zip: every axis as long as the first; the point count, checked. */
static void count_points(sweep_ctx *c) {
    ef_sweep_spec *s = c->s;
    uint64_t combos = 1;
    bool over = false;
    for (int a = 0; a < s->axis_count; a++) {
        const ef_sweep_axis *ax = &s->axes[a];
        if (s->zip && ax->value_count != s->axes[0].value_count && !c->bad_axis[a] &&
            !c->bad_axis[0]) {
            char kp[YT_MAX_PATH];
            yt_path_key(kp, sizeof kp, "set", ax->path);
            yt_error_at(c->doc, ax->loc.line, ax->loc.col, kp,
                        "mode: zip takes the i-th value of every axis together",
                        "expected %d values, as many as %s has, found %d",
                        s->axes[0].value_count, s->axes[0].path, ax->value_count);
            continue;
        }
        if (!s->zip) over |= !ef_mul_u64(combos, (uint64_t)ax->value_count, &combos);
    }
    if (s->zip && s->axis_count > 0) combos = (uint64_t)s->axes[0].value_count;
    uint64_t points = 0;
    uint64_t per = s->dataflow_count > 0 ? (uint64_t)s->dataflow_count : 1;
    over |= !ef_mul_u64(combos, per, &points);
    if (over || points > EF_MAX_SWEEP_POINTS)
        yt_error(c->doc, NULL, "set", NULL, "expected at most %llu points, found %s",
                 (unsigned long long)EF_MAX_SWEEP_POINTS, over ? "more than 2^64" : "more");
    s->combos = combos;
    s->point_count = points;
}

static void load_sweep(sweep_ctx *c, const yt_node *root) {
    ef_sweep_spec *s = c->s;
    s->loc = yt_loc(s->file, root);
    yt_obj o;
    if (!yt_obj_open(&o, c->doc, root, "", sweep_keys, ARRAY_LEN(sweep_keys))) return;
    const char *description = NULL;
    if (yt_get_str(&o, "description", &description) && description &&
        !(s->description = yt_strdup(description)))
        yt_oom(c->doc);
    int mode = 0;
    yt_get_enum(&o, "mode", &mode);
    s->zip = mode == 1;
    s->arch = get_file(c, &o, "arch");
    s->workload = get_file(c, &o, "workload");
    const yt_node *df = yt_obj_val(&o, "dataflow"), *mapping = yt_obj_val(&o, "mapping");
    if (df && mapping)
        yt_error(c->doc, yt_obj_knode(&o, "mapping"), "mapping", NULL,
                 "expected either dataflow or mapping, found both");
    else if (!df && !mapping)
        yt_error(c->doc, root, "", "e.g. dataflow: [ws, os, rs]",
                 "missing required key \"dataflow\" (or \"mapping\")");
    else if (df)
        load_dataflows(c, df);
    else
        s->mapping = get_file(c, &o, "mapping");
    /* the files the points run on must load, and name what the axes
     * set; their own errors are located in them */
    bool arch_ok = false;
    if (s->arch) {
        ef_arch_spec *a = ef_spec_load_arch(s->arch, c->doc->diags);
        arch_ok = a != NULL;
        if (!a) c->doc->errors++;
        ef_arch_spec_destroy(a);
    }
    ef_network_spec *net = NULL;
    if (s->workload) load_params(c, &net);
    const yt_node *set = yt_obj_val(&o, "set");
    if (set) load_axes(c, set, net, arch_ok);
    ef_network_spec_destroy(net);
    count_points(c);
}

ef_sweep_spec *ef_spec_load_sweep(const char *path, ef_diags *diags) {
    yt_doc *d = yt_load(path, diags);
    if (!d) return NULL;
    ef_sweep_spec *s = ef_calloc(1, sizeof *s);
    if (!s || !(s->file = yt_strdup(d->file))) {
        yt_oom(d);
        free(s);
        yt_free(d);
        return NULL;
    }
    sweep_ctx c = {.doc = d, .s = s};
    const char *slash = strrchr(path, '/');
    if (slash) snprintf(c.dir, sizeof c.dir, "%.*s", (int)(slash - path), path);
    if (slash == path) snprintf(c.dir, sizeof c.dir, "/");
    load_sweep(&c, d->root);
    if (d->errors > 0) {
        ef_sweep_spec_destroy(s);
        s = NULL;
    }
    yt_free(d);
    return s;
}

void ef_sweep_spec_destroy(ef_sweep_spec *s) {
    if (!s) return;
    for (int a = 0; a < s->axis_count; a++) {
        ef_sweep_axis *ax = &s->axes[a];
        for (int v = 0; ax->values && v < ax->value_count; v++) free(ax->values[v]);
        free(ax->values);
        free(ax->value_locs);
        free(ax->numbers);
    }
    for (int k = 0; k < s->dataflow_count; k++) free(s->dataflows[k]);
    free(s->dataflows);
    free(s->arch);
    free(s->workload);
    free(s->mapping);
    free(s->description);
    free(s->file);
    free(s);
}

void ef_sweep_point(const ef_sweep_spec *s, uint64_t index, int which[EF_MAX_SWEEP_AXES],
                    int *dataflow) {
    uint64_t per = s->dataflow_count > 0 ? (uint64_t)s->dataflow_count : 1;
    *dataflow = (int)(index % per);
    uint64_t combo = index / per;
    for (int a = s->axis_count - 1; a >= 0; a--) {
        uint64_t n = (uint64_t)s->axes[a].value_count;
        which[a] = (int)(s->zip ? combo : combo % n);
        if (!s->zip) combo /= n;
    }
}
