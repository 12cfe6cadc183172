/* einflow spec stage — overrides of an architecture's scalars by key
 * path, applied to the loaded YAML tree before arch.c reads it. A path
 * is walked through the schema's key tables (arch.c), so a key the
 * schema knows can be set even where the file leaves it out, and a key
 * it does not know gets the valid keys there and a "did you mean". The
 * new value is a node of the tree like any other: arch.c checks it and
 * reads its unit ("256 KiB") unchanged, and its errors point at where
 * the override was given, not at the file. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/arch_set.h"

#define MAX_SEGMENTS 8           /* levels.RF.capacity.F is four         */

typedef struct {
    yt_doc *doc;
    const ef_arch_set *set;
    char *seg[MAX_SEGMENTS];     /* the path split at dots (in buf)      */
    int count;
    char buf[YT_MAX_PATH];
} walk;

/* "arch.levels.GLB": the path up to segment i, for diagnostics. */
static const char *prefix(const walk *w, int i, char *out, size_t size) {
    size_t len = (size_t)snprintf(out, size, "arch");
    for (int k = 0; k <= i && k < w->count && len < size; k++)
        len += (size_t)snprintf(out + len, size - len, ".%s", w->seg[k]);
    return out;
}

static bool fail(walk *w, int i, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool fail(walk *w, int i, const char *hint, const char *fmt, ...) {
    char msg[1024], path[YT_MAX_PATH];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const ef_arch_set *s = w->set;
    char *src = s->line > 0 ? ef_spec_source_line(s->origin, s->line) : NULL;
    ef_diags_add(w->doc->diags, s->origin, s->line, s->col, prefix(w, i, path, sizeof path),
                 hint, src, "%s", msg);
    free(src);
    w->doc->errors++;
    return false;
}

static bool oom(walk *w) {
    yt_oom(w->doc);
    return false;
}

/* "did you mean" over names, into hint; NULL when none is close. */
static const char *suggest(const char *word, const char *const *names, size_t n, char *hint,
                           size_t size) {
    const char *best = ef_suggest(word, names, n);
    if (!best) return NULL;
    snprintf(hint, size, "did you mean \"%s\"?", best);
    return hint;
}

static size_t key_names(const yt_key *keys, size_t n, const char **out) {
    for (size_t i = 0; i < n; i++) out[i] = keys[i].name;
    return n;
}

static yt_node *new_scalar(walk *w, const char *text) {
    return yt_new_node(YT_SCALAR, text, w->set->origin, w->set->line, w->set->col);
}

static int pair_index(const yt_node *map, const char *key) {
    for (size_t i = 0; map && map->kind == YT_MAP && i < map->count; i++)
        if (!strcmp(map->pairs[i].key->text, key)) return (int)i;
    return -1;
}

/* Sets map's key to a fresh scalar of the override's value: replaces
 * the value node of a key the file gives, appends the key otherwise. */
static bool put(walk *w, yt_node *map, const char *key) {
    yt_node *v = new_scalar(w, w->set->value);
    if (!v) return oom(w);
    int at = pair_index(map, key);
    if (at >= 0) {
        yt_node_free(map->pairs[at].value);
        map->pairs[at].value = v;
        return true;
    }
    yt_node *k = new_scalar(w, key);
    if (!k) {
        yt_node_free(v);
        return oom(w);
    }
    return yt_map_append(map, k, v) || oom(w);
}

/* The mapping under key, added empty when the file has none. */
static yt_node *child_map(walk *w, int i, yt_node *map, const char *key) {
    int at = pair_index(map, key);
    if (at >= 0) {
        yt_node *v = map->pairs[at].value;
        if (v->kind == YT_MAP) return v;
        char found[96];
        fail(w, i, NULL, "expected %s to be a mapping in the file, found %s", key,
             yt_describe(v, found, sizeof found));
        return NULL;
    }
    yt_node *k = new_scalar(w, key);
    yt_node *v = yt_new_node(YT_MAP, NULL, w->set->origin, w->set->line, w->set->col);
    if (!k || !v) {
        yt_node_free(k);
        yt_node_free(v);
        oom(w);
        return NULL;
    }
    if (!yt_map_append(map, k, v)) {
        oom(w);
        return NULL;
    }
    return v;
}

/* A level's `bandwidth:` sets both directions; setting one of them
 * keeps the other at that bandwidth, and setting `bandwidth` where the
 * file gives the directions sets both of them. */
static bool put_level_bandwidth(walk *w, yt_node *level, const char *key) {
    int both = pair_index(level, "bandwidth");
    bool one = !strcmp(key, "read_bandwidth") || !strcmp(key, "write_bandwidth");
    if (one && both >= 0) {
        const char *other = !strcmp(key, "read_bandwidth") ? "write_bandwidth" : "read_bandwidth";
        char *text = yt_strdup(other);
        if (!text) return oom(w);
        yt_node *k = level->pairs[both].key;
        free(k->text);
        k->text = text;
        k->len = strlen(text);
        return put(w, level, key);
    }
    int r = pair_index(level, "read_bandwidth"), wr = pair_index(level, "write_bandwidth");
    if (!strcmp(key, "bandwidth") && (r >= 0 || wr >= 0))
        return put(w, level, "read_bandwidth") && put(w, level, "write_bandwidth");
    return put(w, level, key);
}

/* The entry of levels named seg (or at index seg); NULL after an error
 * listing the names. */
static yt_node *find_level(walk *w, int i, yt_node *seq) {
    const char *seg = w->seg[i];
    const char *names[EF_MAX_LEVELS + 1];
    size_t n = 0;
    for (size_t k = 0; k < seq->count; k++) {
        const yt_node *name = yt_map_get(seq->items[k], "name");
        if (!name || name->kind != YT_SCALAR) continue;
        if (!strcmp(name->text, seg)) return seq->items[k];
        if (n < EF_MAX_LEVELS) names[n++] = name->text;
    }
    char *end;
    unsigned long at = strtoul(seg, &end, 10);
    if (seg[0] >= '0' && seg[0] <= '9' && !*end && at < seq->count) return seq->items[at];
    char list[EF_MAX_LEVELS * (EF_MAX_NAME + 2) + 8], hint[EF_MAX_NAME + 32];
    yt_join(list, sizeof list, names, n);
    fail(w, i, suggest(seg, names, n, hint, sizeof hint),
         "expected a level of the architecture by name (one of %s), found \"%s\"", list, seg);
    return NULL;
}

/* The entry of noc at index seg, or the one whose from is seg. */
static yt_node *find_noc(walk *w, int i, yt_node *seq) {
    const char *seg = w->seg[i];
    char *end;
    unsigned long at = strtoul(seg, &end, 10);
    if (seg[0] >= '0' && seg[0] <= '9' && !*end && at < seq->count) return seq->items[at];
    const char *froms[EF_MAX_LEVELS + 1];
    size_t n = 0;
    yt_node *found = NULL;
    int matches = 0;
    for (size_t k = 0; k < seq->count; k++) {
        const yt_node *from = yt_map_get(seq->items[k], "from");
        if (!from || from->kind != YT_SCALAR) continue;
        if (!strcmp(from->text, seg)) {
            found = seq->items[k];
            matches++;
        }
        if (n < EF_MAX_LEVELS) froms[n++] = from->text;
    }
    if (matches == 1) return found;
    if (matches > 1) {
        fail(w, i, "give the network's index instead, e.g. noc.0",
             "expected one network from \"%s\", found %d", seg, matches);
        return NULL;
    }
    char list[EF_MAX_LEVELS * (EF_MAX_NAME + 2) + 8], hint[EF_MAX_NAME + 32];
    yt_join(list, sizeof list, froms, n);
    fail(w, i, suggest(seg, froms, n, hint, sizeof hint),
         "expected a network by its from level (one of %s) or its index (0 to %zu), found \"%s\"",
         list, seq->count ? seq->count - 1 : 0, seg);
    return NULL;
}

/* What follows a key whose value is not a scalar, for "give one of". */
static bool not_scalar(walk *w, int i, const char *what, const char *const *names, size_t n) {
    char list[YT_MAX_KEYS * (EF_MAX_NAME + 2) + 8], path[YT_MAX_PATH];
    yt_join(list, sizeof list, names, n);
    return fail(w, i, NULL, "expected a path to a scalar, found %s, which is %s; give one of "
                "its keys: %s.KEY with KEY one of %s", prefix(w, i, path, sizeof path), what,
                path, list);
}

/* The object a mapping-valued key leads to. */
static ef_arch_obj child_obj(ef_arch_obj parent, const char *key) {
    if (parent == EF_ARCH_OBJ_TOP && !strcmp(key, "pe_array")) return EF_ARCH_OBJ_PE_ARRAY;
    if (parent == EF_ARCH_OBJ_TOP && !strcmp(key, "pe")) return EF_ARCH_OBJ_PE;
    if (parent == EF_ARCH_OBJ_TOP && !strcmp(key, "vector_unit")) return EF_ARCH_OBJ_VECTOR_UNIT;
    bool level = parent == EF_ARCH_OBJ_LEVEL;
    if (!strcmp(key, "area")) return level ? EF_ARCH_OBJ_LEVEL_AREA : EF_ARCH_OBJ_UNIT_AREA;
    if (!strcmp(key, "leakage"))
        return level ? EF_ARCH_OBJ_LEVEL_LEAKAGE : EF_ARCH_OBJ_UNIT_LEAKAGE;
    if (parent == EF_ARCH_OBJ_VECTOR_UNIT) return EF_ARCH_OBJ_VECTOR_OPS;
    if (parent == EF_ARCH_OBJ_VECTOR_OPS) return EF_ARCH_OBJ_VECTOR_OP;
    return EF_ARCH_OBJ_ENERGY; /* a level's energy */
}

/* A level's capacity: one size, or TENSOR: size. */
static bool set_capacity(walk *w, int i, yt_node *level) {
    int at = pair_index(level, "capacity");
    yt_node *cap = at >= 0 ? level->pairs[at].value : NULL;
    bool per_tensor = cap && cap->kind == YT_MAP;
    char path[YT_MAX_PATH];
    if (i == w->count - 1) {
        if (!per_tensor) return put(w, level, "capacity");
        const char *names[YT_MAX_KEYS];
        size_t n = 0;
        for (size_t k = 0; k < cap->count && n < YT_MAX_KEYS; k++)
            names[n++] = cap->pairs[k].key->text;
        return not_scalar(w, i, "a capacity per tensor in this file", names, n);
    }
    if (!per_tensor)
        return fail(w, i + 1, NULL, "expected %s to end the path: the file gives one capacity "
                    "for every tensor, not one per tensor", prefix(w, i, path, sizeof path));
    if (i + 1 != w->count - 1)
        return fail(w, i + 2, NULL, "expected the path to end at the tensor's capacity %s",
                    prefix(w, i + 1, path, sizeof path));
    return put(w, cap, w->seg[i + 1]);
}

static bool walk_object(walk *w, int i, yt_node *map, ef_arch_obj obj);

/* The top-level energy map: LEVEL: {read, write, leakage} or MAC: pJ. */
static bool walk_energy_map(walk *w, int i, yt_node *root, yt_node *energy) {
    const char *seg = w->seg[i];
    bool last = i == w->count - 1;
    char path[YT_MAX_PATH];
    if (!strcmp(seg, "MAC")) {
        if (!last)
            return fail(w, i + 1, NULL, "expected the path to end at %s, a scalar (pJ)",
                        prefix(w, i, path, sizeof path));
        return put(w, energy, "MAC");
    }
    const yt_node *levels = yt_map_get(root, "levels");
    const char *names[EF_MAX_LEVELS + 2];
    size_t n = 0;
    bool known = false;
    for (size_t k = 0; levels && levels->kind == YT_SEQ && k < levels->count; k++) {
        const yt_node *name = yt_map_get(levels->items[k], "name");
        if (!name || name->kind != YT_SCALAR) continue;
        known |= !strcmp(name->text, seg);
        if (n < EF_MAX_LEVELS) names[n++] = name->text;
    }
    names[n++] = "MAC";
    if (!known) {
        char list[(EF_MAX_LEVELS + 1) * (EF_MAX_NAME + 2) + 8], hint[EF_MAX_NAME + 32];
        yt_join(list, sizeof list, names, n);
        return fail(w, i, suggest(seg, names, n, hint, sizeof hint),
                    "expected a level name or MAC (one of %s), found \"%s\"", list, seg);
    }
    if (last) {
        size_t nk;
        const yt_key *keys = ef_arch_schema(EF_ARCH_OBJ_ENERGY, &nk);
        const char *kn[YT_MAX_KEYS];
        return not_scalar(w, i, "a mapping", kn, key_names(keys, nk, kn));
    }
    yt_node *m = child_map(w, i, energy, seg);
    return m && walk_object(w, i + 1, m, EF_ARCH_OBJ_ENERGY);
}

/* Segment i names a key of map, an object of kind obj. */
static bool walk_object(walk *w, int i, yt_node *map, ef_arch_obj obj) {
    const char *seg = w->seg[i];
    bool last = i == w->count - 1;
    size_t nk;
    const yt_key *keys = ef_arch_schema(obj, &nk);
    const char *names[YT_MAX_KEYS];
    key_names(keys, nk, names);
    size_t k = 0;
    while (k < nk && strcmp(keys[k].name, seg)) k++;
    char path[YT_MAX_PATH], list[YT_MAX_KEYS * (EF_MAX_NAME + 2) + 8], hint[EF_MAX_NAME + 32];
    if (k == nk) {
        yt_join(list, sizeof list, names, nk);
        return fail(w, i, suggest(seg, names, nk, hint, sizeof hint),
                    "expected a key of %s (one of %s), found \"%s\"",
                    i == 0 ? "the architecture" : prefix(w, i - 1, path, sizeof path), list, seg);
    }
    const yt_key *key = &keys[k];
    if (obj == EF_ARCH_OBJ_LEVEL && !strcmp(seg, "capacity")) return set_capacity(w, i, map);
    if (key->type == YT_T_SEQ) {
        int at = pair_index(map, seg);
        yt_node *seq = at >= 0 ? map->pairs[at].value : NULL;
        if (last || !seq || seq->kind != YT_SEQ)
            return fail(w, i, NULL, "expected a path to a scalar, found %s, a sequence; give an "
                        "entry and one of its keys, e.g. %s", prefix(w, i, path, sizeof path),
                        !strcmp(seg, "levels") ? "arch.levels.GLB.capacity"
                                               : "arch.noc.GLB.bandwidth");
        bool levels = !strcmp(seg, "levels");
        yt_node *item = levels ? find_level(w, i + 1, seq) : find_noc(w, i + 1, seq);
        if (!item) return false;
        ef_arch_obj entry = levels ? EF_ARCH_OBJ_LEVEL : EF_ARCH_OBJ_NOC;
        if (i + 1 == w->count - 1) {
            size_t ne;
            const yt_key *ek = ef_arch_schema(entry, &ne);
            const char *en[YT_MAX_KEYS];
            return not_scalar(w, i + 1, "a mapping", en, key_names(ek, ne, en));
        }
        if (item->kind != YT_MAP)
            return fail(w, i + 1, NULL, "expected a mapping in the file there");
        return walk_object(w, i + 2, item, entry);
    }
    if (key->type == YT_T_MAP) {
        if (obj == EF_ARCH_OBJ_TOP && !strcmp(seg, "energy")) {
            if (last) {
                const char *hint_names[] = {"MAC"};
                return not_scalar(w, i, "a mapping of levels and MAC", hint_names, 1);
            }
            yt_node *energy = child_map(w, i, map, seg);
            return energy && walk_energy_map(w, i + 1, map, energy);
        }
        ef_arch_obj child = child_obj(obj, seg);
        if (last) {
            size_t nc;
            const yt_key *ck = ef_arch_schema(child, &nc);
            const char *cn[YT_MAX_KEYS];
            return not_scalar(w, i, "a mapping", cn, key_names(ck, nc, cn));
        }
        yt_node *m = child_map(w, i, map, seg);
        return m && walk_object(w, i + 1, m, child);
    }
    if (!last)
        return fail(w, i + 1, NULL, "expected the path to end at %s, a scalar",
                    prefix(w, i, path, sizeof path));
    if (obj == EF_ARCH_OBJ_LEVEL && strstr(seg, "bandwidth")) return put_level_bandwidth(w, map, seg);
    return put(w, map, seg);
}

static bool apply_one(yt_doc *d, const ef_arch_set *s) {
    walk w = {.doc = d, .set = s};
    if (strlen(s->path) >= sizeof w.buf) {
        ef_diags_add(d->diags, s->origin, s->line, s->col, "", NULL, NULL,
                     "expected a key path of at most %zu bytes", sizeof w.buf - 1);
        d->errors++;
        return false;
    }
    snprintf(w.buf, sizeof w.buf, "%s", s->path);
    for (char *p = w.buf, *save = NULL, *tok; (tok = strtok_r(p, ".", &save)); p = NULL) {
        if (w.count == MAX_SEGMENTS)
            return fail(&w, w.count - 1, NULL, "expected a key path of at most %d keys",
                        MAX_SEGMENTS);
        w.seg[w.count++] = tok;
    }
    if (w.count == 0 || s->path[0] == '.' || s->path[strlen(s->path) - 1] == '.' ||
        strstr(s->path, "..")) {
        ef_diags_add(d->diags, s->origin, s->line, s->col, "", NULL, NULL,
                     "expected a key path such as arch.pe_array.rows, found \"arch.%s\"",
                     s->path);
        d->errors++;
        return false;
    }
    return walk_object(&w, 0, d->root, EF_ARCH_OBJ_TOP);
}

bool ef_arch_apply_sets(yt_doc *d, const ef_arch_set *set, int count) {
    /* a file that is no mapping is for arch.c to report */
    if (!d->root || d->root->kind != YT_MAP) return true;
    bool ok = true;
    for (int i = 0; i < count; i++) ok = apply_one(d, &set[i]) && ok;
    return ok;
}
