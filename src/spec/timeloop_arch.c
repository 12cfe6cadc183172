/* einflow spec stage — reads a Timeloop architecture (v0.4 `nodes:`
 * with !Container / !Component, or v0.3 `subtree:` / `local:` with
 * `name: PE[0..255]`) into storage levels outermost first, the compute
 * component, and the one point where the design fans out into a PE
 * array. Energy and area (Accelergy's business) are not read: einflow's
 * built-in table prices the converted levels. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/timeloop.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Attributes that shape what einflow simulates. */
static const char *const storage_attrs[] = {
    "depth", "width", "datawidth", "word_bits", "block_size", "entries", "sizeKB",
    "read_bandwidth", "write_bandwidth", "shared_bandwidth", "multiple_buffering",
    "meshX", "meshY", "instances"};
/* Accelergy's energy and area inputs, Timeloop's bookkeeping and
 * options einflow has no use for: accepted and left out. */
static const char *const ignored_attrs[] = {
    "technology", "global_cycle_seconds", "type", "n_banks", "n_rdwr_ports",
    "n_rd_ports", "n_wr_ports", "cluster_size", "reduction_supported",
    "has_power_gating", "power_gated_at", "min_utilization", "allow_overbooking",
    "latency", "version", "num_ports", "network_read", "network_write",
    "network_fill", "network_drain", "metadata_storage_width",
    "metadata_storage_depth", "metadata_datawidth", "metadata_block_size",
    "decompression_supported", "compression_supported", "concordant_compressed_tile_traversal",
    "tile_partition_supported", "ports", "vdd", "energy_scale", "area_scale",
    "num_pipeline_stages", "multiplier_width", "adder_width", "area_share"};

static const char *const storage_classes[] = {"DRAM", "SRAM", "regfile", "storage"};
static const char *const compute_classes[] = {"intmac", "fpmac", "mac", "compute"};

typedef struct {
    yt_doc *d;
    tl_arch *a;
    bool ok;
    bool compute_seen;
    uint64_t mx, my;             /* running spatial multipliers (v0.4)    */
    int inherited_bits;          /* datawidth from a container            */
    uint64_t inherited_mx;       /* v0.3: meshX of an enclosing subtree   */
    const yt_node *bits_node;    /* where the word size was first given   */
} walk;

static bool attr_u64(yt_doc *d, const yt_node *attrs, const char *name, const char *path,
                     uint64_t min, uint64_t *out, bool *given) {
    const yt_node *v = tl_get(attrs, name);
    if (given) *given = v != NULL;
    if (!v) return true;
    char p[YT_MAX_PATH];
    yt_path_key(p, sizeof p, path, name);
    return yt_u64(d, v, p, min, UINT64_C(1) << 48, out);
}

static bool attr_num(yt_doc *d, const yt_node *attrs, const char *name, const char *path,
                     double *out) {
    const yt_node *v = tl_get(attrs, name);
    if (!v) return true;
    char p[YT_MAX_PATH];
    yt_path_key(p, sizeof p, path, name);
    return yt_num(d, v, p, 0, false, out);
}

static bool ieq(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
    return *a == *b;
}

static bool has_word(const char *s, const char *w) {
    size_t n = strlen(w);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && tolower((unsigned char)s[i]) == w[i]) i++;
        if (i == n) return true;
    }
    return false;
}

/* The kind a storage class stands for; false (reported) for a class
 * einflow cannot carry over. *compute set for a MAC. */
static bool classify(walk *w, const yt_node *cls, const yt_node *sub, const char *path,
                     ef_level_kind *kind, bool *compute, ef_arithmetic *arith) {
    const char *c = cls->text;
    *compute = false;
    if (ieq(c, "DRAM")) { *kind = EF_LEVEL_DRAM; return true; }
    if (ieq(c, "SRAM")) { *kind = EF_LEVEL_SRAM; return true; }
    if (ieq(c, "regfile")) { *kind = EF_LEVEL_REGFILE; return true; }
    if (ieq(c, "storage")) {
        /* the subclass is Accelergy's model of it; its name says which
         * of einflow's kinds prices it best */
        const char *s = sub ? sub->text : "";
        *kind = has_word(s, "dram") ? EF_LEVEL_DRAM
              : has_word(s, "regfile") || has_word(s, "reg") ? EF_LEVEL_REGFILE
                                                              : EF_LEVEL_SRAM;
        return true;
    }
    for (size_t i = 0; i < ARRAY_LEN(compute_classes); i++)
        if (ieq(c, compute_classes[i])) {
            *compute = true;
            const char *s = ieq(c, "compute") && sub ? sub->text : c;
            *arith = has_word(s, "fp") || has_word(s, "float") ? EF_ARITH_FLOAT : EF_ARITH_INT;
            return true;
        }
    const char *names[ARRAY_LEN(storage_classes) + ARRAY_LEN(compute_classes)];
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_LEN(storage_classes); i++) names[n++] = storage_classes[i];
    for (size_t i = 0; i < ARRAY_LEN(compute_classes); i++) names[n++] = compute_classes[i];
    const char *best = ef_suggest(c, names, n);
    char hint[200];
    if (best)
        snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
    else
        snprintf(hint, sizeof hint,
                 "einflow converts the primitive classes DRAM, SRAM, regfile and storage "
                 "(with depth and width) and the MACs intmac, fpmac, mac and compute");
    bool compound = has_word(c, "smartbuffer") || has_word(c, "buffet") ||
                    has_word(c, "collection") || has_word(c, "_noc") || has_word(c, "fifo");
    yt_error(w->d, cls, path, hint,
             compound ? "expected a primitive component class, found the compound component "
                        "class \"%s\", which einflow has no equivalent for"
                      : "expected a storage or compute class, found \"%s\", which einflow has "
                        "no equivalent for",
             c);
    return false;
}

/* The word size of a level: its own datawidth (or word_bits), else a
 * container's. All levels must agree: einflow gives a tensor one
 * precision everywhere. */
static void word_size(walk *w, tl_level *lv, const yt_node *attrs, const char *path) {
    uint64_t bits = 0;
    bool given = false;
    const char *key = tl_get(attrs, "datawidth") ? "datawidth" : "word_bits";
    if (!attr_u64(w->d, attrs, key, path, 1, &bits, &given)) { w->ok = false; return; }
    if (given && bits > 64) {
        char p[YT_MAX_PATH];
        yt_path_key(p, sizeof p, path, key);
        yt_error(w->d, tl_get(attrs, key), p, NULL, "expected a word of 1 to 64 bits, found %llu",
                 (unsigned long long)bits);
        w->ok = false;
        return;
    }
    lv->word_bits = given ? (int)bits : w->inherited_bits;
    if (!lv->word_bits) return;
    const yt_node *at = given ? tl_get(attrs, key) : lv->node;
    if (!w->a->word_bits) {
        w->a->word_bits = lv->word_bits;
        w->bits_node = at;
    } else if (w->a->word_bits != lv->word_bits) {
        char hint[160];
        snprintf(hint, sizeof hint, "the first level's words are %d bits (line %d)",
                 w->a->word_bits, w->bits_node ? w->bits_node->line : 0);
        char kp[YT_MAX_PATH];
        yt_path_key(kp, sizeof kp, path, key);
        yt_error(w->d, at, given ? kp : path, hint,
                 "expected the same datawidth at every storage level (einflow gives each "
                 "tensor one precision), found %d bits", lv->word_bits);
        w->ok = false;
    }
}

/* Capacity of one instance in words: depth entries of block_size words
 * (width / datawidth when block_size is not given); or entries words; or
 * sizeKB. DRAM is unlimited. */
static void capacity(walk *w, tl_level *lv, const yt_node *attrs, const char *path) {
    uint64_t depth = 0, width = 0, block = 0, entries = 0, kb = 0;
    bool has_depth, has_width, has_block, has_entries, has_kb;
    /* every attribute is read, so that each bad one is reported */
    bool ok = attr_u64(w->d, attrs, "depth", path, 1, &depth, &has_depth);
    ok &= attr_u64(w->d, attrs, "width", path, 1, &width, &has_width);
    ok &= attr_u64(w->d, attrs, "block_size", path, 1, &block, &has_block);
    ok &= attr_u64(w->d, attrs, "entries", path, 1, &entries, &has_entries);
    ok &= attr_u64(w->d, attrs, "sizeKB", path, 1, &kb, &has_kb);
    if (!ok) { w->ok = false; return; }
    if (lv->kind == EF_LEVEL_DRAM) {
        snprintf(lv->capacity_why, sizeof lv->capacity_why, "DRAM: unlimited");
        return;
    }
    int bits = lv->word_bits ? lv->word_bits : 8;
    if (has_depth) {
        if (!has_block) {
            if (has_width && width % (uint64_t)bits != 0) {
                char p[YT_MAX_PATH];
                yt_path_key(p, sizeof p, path, "width");
                yt_error(w->d, tl_get(attrs, "width"), p, "give block_size (words per entry)",
                         "expected a width that is a whole number of %d-bit words, found %llu "
                         "bits", bits, (unsigned long long)width);
                w->ok = false;
                return;
            }
            block = has_width ? width / (uint64_t)bits : 1;
            if (block == 0) block = 1;
        }
        lv->capacity_words = depth * block;
        if (has_width)
            snprintf(lv->capacity_why, sizeof lv->capacity_why,
                     "depth %llu x width %llu bits / datawidth %d = %llu words",
                     (unsigned long long)depth, (unsigned long long)width, bits,
                     (unsigned long long)lv->capacity_words);
        else
            snprintf(lv->capacity_why, sizeof lv->capacity_why,
                     "depth %llu x block_size %llu = %llu words", (unsigned long long)depth,
                     (unsigned long long)block, (unsigned long long)lv->capacity_words);
    } else if (has_entries) {
        lv->capacity_words = entries;
        snprintf(lv->capacity_why, sizeof lv->capacity_why, "entries %llu words",
                 (unsigned long long)entries);
    } else if (has_kb) {
        lv->capacity_words = kb * 8192 / (uint64_t)bits;
        snprintf(lv->capacity_why, sizeof lv->capacity_why, "sizeKB %llu = %llu words",
                 (unsigned long long)kb, (unsigned long long)lv->capacity_words);
    } else {
        snprintf(lv->capacity_why, sizeof lv->capacity_why, "no depth: unlimited");
    }
}

/* name "PE[0..255]" -> base "PE", count 256. */
static bool split_name(walk *w, const yt_node *n, const char *path, char base[EF_MAX_NAME],
                       uint64_t *count) {
    const char *t = n->text, *lb = strchr(t, '[');
    *count = 1;
    if (!lb) return tl_ident(w->d, n, path, t, base);
    unsigned long long lo = 0, hi = 0;
    char tail = 0;
    if (sscanf(lb, "[%llu..%llu]%c", &lo, &hi, &tail) != 2 || hi < lo ||
        hi - lo >= EF_MAX_PES) {
        yt_error(w->d, n, path, NULL, "expected a name or NAME[first..last], found \"%s\"", t);
        return false;
    }
    *count = hi - lo + 1;
    char b[EF_MAX_NAME];
    size_t len = (size_t)(lb - t);
    if (len >= sizeof b) len = sizeof b - 1;
    memcpy(b, t, len);
    b[len] = '\0';
    return tl_ident(w->d, n, path, b, base);
}

/* One component: a storage level or the compute. instances and the
 * mesh are those of this component in the whole design. */
static void component(walk *w, const yt_node *n, const char *path, uint64_t instances,
                      uint64_t mx, uint64_t my) {
    static const char *const keys[] = {"name", "class", "subclass", "attributes", "spatial",
                                       "required_actions", "enabled", "constraints",
                                       "area_share", "energy_scale", "description",
                                       "actions"};
    if (!tl_check_keys(w->d, n, path, keys, ARRAY_LEN(keys), NULL, 0)) { w->ok = false; return; }
    const yt_node *name = tl_get(n, "name"), *cls = tl_get(n, "class");
    char p[YT_MAX_PATH];
    if (!name || !cls) {
        yt_error(w->d, n, path, NULL, "missing required key \"%s\"", name ? "class" : "name");
        w->ok = false;
        return;
    }
    ef_level_kind kind = EF_LEVEL_SRAM;
    bool compute = false;
    ef_arithmetic arith = EF_ARITH_INT;
    yt_path_key(p, sizeof p, path, "class");
    if (!classify(w, cls, tl_get(n, "subclass"), p, &kind, &compute, &arith)) {
        w->ok = false;
        return;
    }
    const yt_node *attrs = tl_get(n, "attributes");
    char ap[YT_MAX_PATH];
    yt_path_key(ap, sizeof ap, path, "attributes");
    if (attrs && !tl_check_keys(w->d, attrs, ap, storage_attrs, ARRAY_LEN(storage_attrs),
                                ignored_attrs, ARRAY_LEN(ignored_attrs))) {
        w->ok = false;
        return;
    }
    double gcs = 0;
    if (!attr_num(w->d, attrs, "global_cycle_seconds", ap, &gcs)) w->ok = false;
    if (gcs > 0 && w->a->cycle_seconds == 0) w->a->cycle_seconds = gcs;
    if (w->compute_seen) {
        yt_error(w->d, n, path, "list the compute component last, below every storage level",
                 "expected nothing after the compute component \"%s\", found \"%s\"",
                 w->a->compute, name->text);
        w->ok = false;
        return;
    }
    char base[EF_MAX_NAME];
    uint64_t own = 1;
    yt_path_key(p, sizeof p, path, "name");
    if (!split_name(w, name, p, base, &own)) { w->ok = false; return; }
    uint64_t given = 0;
    bool has_given = false;
    if (!attr_u64(w->d, attrs, "instances", ap, 1, &given, &has_given)) w->ok = false;
    instances *= own;
    if (has_given) instances = given;
    /* v0.3 states the mesh in attributes; all along X otherwise */
    uint64_t ax = 0, ay = 0;
    bool has_x = false, has_y = false;
    if (!attr_u64(w->d, attrs, "meshX", ap, 1, &ax, &has_x) ||
        !attr_u64(w->d, attrs, "meshY", ap, 1, &ay, &has_y)) {
        w->ok = false;
        return;
    }
    if (w->a->version == 3 && !has_x && !has_y && w->inherited_mx &&
        instances % w->inherited_mx == 0) {
        has_x = true;
        ax = w->inherited_mx;
    }
    if (w->a->version == 3 || has_x || has_y) {
        mx = has_x ? ax : has_y ? instances / ay : instances;
        my = has_y ? ay : instances / mx;
    }
    if (mx * my != instances) {
        yt_error(w->d, has_x ? tl_get(attrs, "meshX") : n, path, NULL,
                 "expected meshX x meshY to equal the %llu instances, found %llu x %llu",
                 (unsigned long long)instances, (unsigned long long)mx, (unsigned long long)my);
        w->ok = false;
        return;
    }
    if (compute) {
        w->compute_seen = true;
        snprintf(w->a->compute, sizeof w->a->compute, "%s", base);
        w->a->arithmetic = arith;
        w->a->compute_instances = instances;
        w->a->compute_mesh_x = mx;
        w->a->compute_mesh_y = my;
        return;
    }
    if (w->a->level_count == EF_MAX_LEVELS) {
        yt_error(w->d, n, path, NULL, "expected at most %d storage levels, found more",
                 EF_MAX_LEVELS);
        w->ok = false;
        return;
    }
    tl_level *lv = &w->a->levels[w->a->level_count++];
    memset(lv, 0, sizeof *lv);
    snprintf(lv->name, sizeof lv->name, "%s", base);
    for (int i = 0; i < w->a->level_count - 1; i++)
        if (!strcmp(w->a->levels[i].name, base)) {
            yt_error(w->d, name, p, NULL, "expected a name no other level has, found \"%s\"",
                     base);
            w->ok = false;
        }
    lv->kind = kind;
    lv->node = n;
    lv->instances = instances;
    lv->mesh_x = mx;
    lv->mesh_y = my;
    if (kind == EF_LEVEL_DRAM && w->a->level_count > 1) {
        yt_error(w->d, cls, path, "einflow's DRAM is the outermost level",
                 "expected class DRAM only for the first storage level, found it below \"%s\"",
                 w->a->levels[0].name);
        w->ok = false;
    }
    word_size(w, lv, attrs, ap);
    capacity(w, lv, attrs, ap);
    uint64_t mb = 1;
    if (!attr_num(w->d, attrs, "read_bandwidth", ap, &lv->read_bw_words) ||
        !attr_num(w->d, attrs, "write_bandwidth", ap, &lv->write_bw_words) ||
        !attr_num(w->d, attrs, "shared_bandwidth", ap, &lv->shared_bw_words) ||
        !attr_u64(w->d, attrs, "multiple_buffering", ap, 1, &mb, NULL))
        w->ok = false;
    lv->double_buffer = mb >= 2;
}

/* A container's or component's `spatial: {meshX, meshY}` multiplies
 * every node after it. */
static bool spatial(walk *w, const yt_node *n, const char *path) {
    const yt_node *s = tl_get(n, "spatial");
    if (!s) return true;
    char p[YT_MAX_PATH];
    yt_path_key(p, sizeof p, path, "spatial");
    static const char *const keys[] = {"meshX", "meshY"};
    if (!tl_check_keys(w->d, s, p, keys, ARRAY_LEN(keys), NULL, 0)) return false;
    uint64_t x = 1, y = 1;
    if (!attr_u64(w->d, s, "meshX", p, 1, &x, NULL) || !attr_u64(w->d, s, "meshY", p, 1, &y, NULL))
        return false;
    if (w->mx * x * w->my * y > EF_MAX_PES) {
        yt_error(w->d, s, p, NULL, "expected at most %d instances, found %llu", EF_MAX_PES,
                 (unsigned long long)(w->mx * x * w->my * y));
        return false;
    }
    w->mx *= x;
    w->my *= y;
    return true;
}

static void container_attrs(walk *w, const yt_node *n, const char *path) {
    const yt_node *attrs = tl_get(n, "attributes");
    if (!attrs) return;
    char ap[YT_MAX_PATH];
    yt_path_key(ap, sizeof ap, path, "attributes");
    double gcs = 0;
    if (!attr_num(w->d, attrs, "global_cycle_seconds", ap, &gcs)) w->ok = false;
    if (gcs > 0) w->a->cycle_seconds = gcs;
    uint64_t bits = 0;
    bool given = false;
    const char *key = tl_get(attrs, "datawidth") ? "datawidth" : "word_bits";
    if (!attr_u64(w->d, attrs, key, ap, 1, &bits, &given)) w->ok = false;
    if (given && bits <= 64) w->inherited_bits = (int)bits;
    uint64_t mx = 0;
    if (!attr_u64(w->d, attrs, "meshX", ap, 1, &mx, &given)) w->ok = false;
    if (given) w->inherited_mx = mx;
    /* other container attributes are Accelergy defaults (technology, ...) */
}

/* v0.4: a flat list; !Container opens a scope that lasts to the end. */
static void nodes_v4(walk *w, const yt_node *list, const char *path) {
    if (list->kind != YT_SEQ) {
        char found[96];
        yt_error(w->d, list, path, NULL, "expected a sequence of nodes, found %s",
                 yt_describe(list, found, sizeof found));
        w->ok = false;
        return;
    }
    for (size_t i = 0; i < list->count && w->ok; i++) {
        const yt_node *n = list->items[i];
        char p[YT_MAX_PATH];
        yt_path_index(p, sizeof p, path, i);
        const char *tag = n->tag ? n->tag : "";
        bool is_comp = !strcmp(tag, "!Component") || (!*tag && tl_get(n, "class"));
        bool is_cont = !strcmp(tag, "!Container") || (!*tag && n->kind == YT_MAP && !is_comp &&
                                                     !tl_get(n, "nodes"));
        if (!strcmp(tag, "!Hierarchical") || (!*tag && tl_get(n, "nodes"))) {
            const yt_node *sub = tl_get(n, "nodes");
            if (!sub) {
                yt_error(w->d, n, p, NULL, "missing required key \"nodes\"");
                w->ok = false;
                return;
            }
            char sp[YT_MAX_PATH];
            yt_path_key(sp, sizeof sp, p, "nodes");
            nodes_v4(w, sub, sp);
            continue;
        }
        if (is_comp) {
            /* a component's own fanout applies to it and what follows */
            if (!spatial(w, n, p)) { w->ok = false; return; }
            component(w, n, p, w->mx * w->my, w->mx, w->my);
            continue;
        }
        if (is_cont) {
            static const char *const keys[] = {"name", "attributes", "spatial", "constraints",
                                               "description", "networks"};
            if (!tl_check_keys(w->d, n, p, keys, ARRAY_LEN(keys), NULL, 0) ||
                !spatial(w, n, p)) {
                w->ok = false;
                return;
            }
            container_attrs(w, n, p);
            continue;
        }
        yt_error(w->d, n, p,
                 "einflow converts !Container, !Component and !Hierarchical nodes",
                 "expected a !Container or a !Component, found \"%s\", which einflow has no "
                 "equivalent for",
                 tag);
        w->ok = false;
        return;
    }
}

/* v0.3: a subtree's local components are outside its own subtree. */
static void subtree_v3(walk *w, const yt_node *n, const char *path, uint64_t inst) {
    static const char *const keys[] = {"name", "attributes", "local", "subtree", "description"};
    if (!tl_check_keys(w->d, n, path, keys, ARRAY_LEN(keys), NULL, 0)) { w->ok = false; return; }
    uint64_t count = 1;
    char base[EF_MAX_NAME];
    const yt_node *name = tl_get(n, "name");
    if (name) {
        char p[YT_MAX_PATH];
        yt_path_key(p, sizeof p, path, "name");
        if (!split_name(w, name, p, base, &count)) { w->ok = false; return; }
    }
    inst *= count;
    if (inst > EF_MAX_PES) {
        yt_error(w->d, name ? name : n, path, NULL, "expected at most %d instances, found %llu",
                 EF_MAX_PES, (unsigned long long)inst);
        w->ok = false;
        return;
    }
    container_attrs(w, n, path);
    const yt_node *local = tl_get(n, "local");
    char p[YT_MAX_PATH];
    if (local) {
        yt_path_key(p, sizeof p, path, "local");
        if (local->kind != YT_SEQ) {
            yt_error(w->d, local, p, NULL, "expected a sequence of components");
            w->ok = false;
            return;
        }
        for (size_t i = 0; i < local->count && w->ok; i++) {
            char ip[YT_MAX_PATH];
            yt_path_index(ip, sizeof ip, p, i);
            component(w, local->items[i], ip, inst, inst, 1);
        }
    }
    const yt_node *sub = tl_get(n, "subtree");
    if (!sub || !w->ok) return;
    yt_path_key(p, sizeof p, path, "subtree");
    if (sub->kind != YT_SEQ || sub->count > 1) {
        yt_error(w->d, sub, p, "einflow's architectures are one chain of levels",
                 "expected one subtree, found %s",
                 sub->kind == YT_SEQ ? "several (a heterogeneous design)" : "no sequence");
        w->ok = false;
        return;
    }
    if (sub->count == 1) {
        char ip[YT_MAX_PATH];
        yt_path_index(ip, sizeof ip, p, 0);
        subtree_v3(w, sub->items[0], ip, inst);
    }
}

/* The one level below which the instances multiply: its loops are
 * einflow's spatial loops, the levels below it are per PE. */
static bool find_fanout(walk *w) {
    tl_arch *a = w->a;
    a->fanout = -1;
    a->rows = a->cols = 1;
    if (a->levels[0].instances != 1) {
        yt_error(w->d, a->levels[0].node, "architecture", NULL,
                 "expected one instance of the outermost level \"%s\", found %llu",
                 a->levels[0].name, (unsigned long long)a->levels[0].instances);
        return false;
    }
    for (int i = 0; i < a->level_count; i++) {
        const tl_level *up = &a->levels[i];
        bool last = i + 1 == a->level_count;
        uint64_t inst = last ? a->compute_instances : a->levels[i + 1].instances;
        uint64_t mx = last ? a->compute_mesh_x : a->levels[i + 1].mesh_x;
        uint64_t my = last ? a->compute_mesh_y : a->levels[i + 1].mesh_y;
        const char *below = last ? a->compute : a->levels[i + 1].name;
        if (inst == up->instances) continue;
        if (inst < up->instances || inst % up->instances || mx % up->mesh_x ||
            my % up->mesh_y) {
            yt_error(w->d, last ? up->node : a->levels[i + 1].node, "architecture", NULL,
                     "expected \"%s\" to have a multiple of the %llu instances of \"%s\" above "
                     "it, found %llu",
                     below, (unsigned long long)up->instances, up->name,
                     (unsigned long long)inst);
            return false;
        }
        if (a->fanout >= 0) {
            char hint[200];
            snprintf(hint, sizeof hint,
                     "the first fanout is below \"%s\"; einflow has one PE array, fed from "
                     "one shared level",
                     a->levels[a->fanout].name);
            yt_error(w->d, last ? up->node : a->levels[i + 1].node, "architecture", hint,
                     "expected one spatial fanout, found a second one below \"%s\"", up->name);
            return false;
        }
        a->fanout = i;
        a->cols = mx / up->mesh_x;
        a->rows = my / up->mesh_y;
    }
    return true;
}

bool tl_read_arch(yt_doc *d, tl_arch *a) {
    memset(a, 0, sizeof *a);
    walk w = {.d = d, .a = a, .ok = true, .mx = 1, .my = 1};
    const yt_node *root = tl_get(d->root, "architecture");
    static const char *const keys[] = {"version", "nodes", "subtree", "local"};
    if (!tl_check_keys(d, root, "architecture", keys, ARRAY_LEN(keys), NULL, 0)) return false;
    const yt_node *nodes = tl_get(root, "nodes"), *sub = tl_get(root, "subtree");
    const yt_node *local = tl_get(root, "local");
    if (nodes) {
        a->version = 4;
        nodes_v4(&w, nodes, "architecture.nodes");
    } else if (sub || local) {
        a->version = 3;
        if (local) {
            for (size_t i = 0; local->kind == YT_SEQ && i < local->count && w.ok; i++) {
                char ip[YT_MAX_PATH];
                yt_path_index(ip, sizeof ip, "architecture.local", i);
                component(&w, local->items[i], ip, 1, 1, 1);
            }
        }
        if (sub && w.ok) {
            if (sub->kind != YT_SEQ || sub->count != 1) {
                yt_error(d, sub, "architecture.subtree",
                         "einflow's architectures are one chain of levels",
                         "expected one subtree, found %s",
                         sub->kind == YT_SEQ ? "several or none" : "no sequence");
                return false;
            }
            subtree_v3(&w, sub->items[0], "architecture.subtree[0]", 1);
        }
    } else {
        yt_error(d, root, "architecture", NULL,
                 "expected nodes (version 0.4) or subtree (version 0.3), found neither");
        return false;
    }
    if (!w.ok) return false;
    if (a->level_count == 0) {
        yt_error(d, root, "architecture", NULL,
                 "expected at least one storage component (class DRAM, SRAM, regfile or "
                 "storage), found none");
        return false;
    }
    if (!w.compute_seen) {
        yt_error(d, root, "architecture", NULL,
                 "expected a compute component (class intmac, fpmac, mac or compute) after "
                 "the storage levels, found none");
        return false;
    }
    if (!a->word_bits) a->word_bits = 8;
    for (int i = 0; i < a->level_count; i++)
        if (!a->levels[i].word_bits) a->levels[i].word_bits = a->word_bits;
    return find_fanout(&w);
}
