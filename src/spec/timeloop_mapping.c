/* einflow spec stage — reads a Timeloop mapping: a list of directives,
 * each aimed at a storage level (`target`) and of one `type`:
 *   temporal   factors and a permutation, innermost dimension FIRST;
 *   spatial    the same for the fanout below the target; positions of
 *              the permutation before `split` go along meshX (einflow's
 *              columns), the rest along meshY (rows); no split: all X;
 *   bypass / datatype / dataspace   keep: and bypass: lists.
 * Timeloop's rules are kept: a dimension a level does not name has
 * factor 1, a factor of 0 means the whole dimension, and every
 * dimension's factors over all levels multiply to its bound exactly. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/timeloop.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum { T_TEMPORAL, T_SPATIAL, T_BYPASS };

typedef struct {
    const yt_node *node;          /* the directive; NULL: none            */
    const yt_node *factors_node;
    uint64_t factor[TL_MAX_DIMS]; /* 1 when not named                     */
    const yt_node *named[TL_MAX_DIMS]; /* the factors node naming it      */
    int perm[TL_MAX_DIMS];        /* innermost first, completed           */
    int split;
} tiling;

typedef struct {
    yt_doc *d;
    const tl_arch *a;
    const tl_problem *p;
    tiling temporal[EF_MAX_LEVELS], spatial[EF_MAX_LEVELS];
    const yt_node *bypass_node[EF_MAX_LEVELS];
} reader;

static int find_dim(const tl_problem *p, const char *s, size_t n) {
    for (int i = 0; i < p->dim_count; i++)
        if (strlen(p->dims[i]) == n && !strncmp(p->dims[i], s, n)) return i;
    return -1;
}

static void dim_hint(const tl_problem *p, const char *word, char *hint, size_t size) {
    const char *names[TL_MAX_DIMS];
    for (int i = 0; i < p->dim_count; i++) names[i] = p->dims[i];
    const char *best = ef_suggest(word, names, (size_t)p->dim_count);
    if (best) {
        snprintf(hint, size, "did you mean \"%s\"?", best);
    } else {
        char list[256];
        yt_join(list, sizeof list, names, (size_t)p->dim_count);
        snprintf(hint, size, "the problem's dimensions: %s", list);
    }
}

/* The column of byte off of a one-line scalar. */
static int col_at(const yt_node *n, size_t off) {
    return n->col + (n->quoted ? 1 : 0) + (int)off;
}

/* "C=3 M=1", "R=3,P=16", each NAME=INT; `#` starts a comment. */
static bool factor_text(reader *r, const yt_node *n, const char *path, tiling *t) {
    const char *s = n->text;
    size_t i = 0;
    bool ok = true;
    while (s[i] && s[i] != '#') {
        if (isspace((unsigned char)s[i]) || s[i] == ',') { i++; continue; }
        size_t b = i;
        while (isalnum((unsigned char)s[i]) || s[i] == '_') i++;
        size_t e = i;
        while (isspace((unsigned char)s[i])) i++;
        if (e == b || isdigit((unsigned char)s[b]) || s[i] != '=') {
            yt_error_at(r->d, n->line, col_at(n, e == b ? b : i), path,
                        "write factors as \"C=3 M=1\" or \"C=3,M=1\"",
                        "expected DIMENSION=FACTOR, found \"%.*s\"",
                        (int)strcspn(s + b, " ,#"), s + b);
            return false;
        }
        i++;
        while (isspace((unsigned char)s[i])) i++;
        size_t nb = i;
        uint64_t v = 0;
        while (isdigit((unsigned char)s[i]) && v < (UINT64_C(1) << 40)) v = v * 10 + (uint64_t)(s[i++] - '0');
        if (i == nb || isalpha((unsigned char)s[i])) {
            yt_error_at(r->d, n->line, col_at(n, nb), path, NULL,
                        "expected a whole number of iterations after \"%.*s=\", found \"%.*s\"",
                        (int)(e - b), s + b, (int)strcspn(s + nb, " ,#"), s + nb);
            return false;
        }
        if (s[i] == ',' && isdigit((unsigned char)s[i + 1])) {
            yt_error_at(r->d, n->line, col_at(n, i), path,
                        "give whole factors; einflow makes the outermost tile partial itself",
                        "expected one factor per dimension, found a residual factor (%.*s), "
                        "which einflow has no equivalent for",
                        (int)strcspn(s + b, " #") , s + b);
            return false;
        }
        int d = find_dim(r->p, s + b, e - b);
        char name[EF_MAX_NAME];
        snprintf(name, sizeof name, "%.*s", (int)(e - b), s + b);
        if (d < 0) {
            char hint[320];
            dim_hint(r->p, name, hint, sizeof hint);
            yt_error_at(r->d, n->line, col_at(n, b), path, hint,
                        "expected a dimension of the problem, found \"%s\"", name);
            ok = false;
            continue;
        }
        if (t->named[d]) {
            yt_error_at(r->d, n->line, col_at(n, b), path, NULL,
                        "expected each dimension once, found \"%s\" again", name);
            ok = false;
            continue;
        }
        /* Timeloop's convention: 0 stands for the whole dimension */
        t->factor[d] = v == 0 ? r->p->bound[d] : v;
        t->named[d] = n;
    }
    return ok;
}

static bool factors(reader *r, const yt_node *n, const char *path, tiling *t) {
    t->factors_node = n;
    if (n->kind == YT_SCALAR) return factor_text(r, n, path, t);
    if (n->kind == YT_SEQ) {
        bool ok = true;
        for (size_t i = 0; i < n->count; i++) {
            char p[YT_MAX_PATH];
            yt_path_index(p, sizeof p, path, i);
            if (n->items[i]->kind != YT_SCALAR) {
                yt_error(r->d, n->items[i], p, NULL, "expected \"DIMENSION=FACTOR\"");
                ok = false;
                continue;
            }
            ok &= factor_text(r, n->items[i], p, t);
        }
        return ok;
    }
    yt_error(r->d, n, path, NULL, "expected a string of factors such as \"C=3 M=1\"");
    return false;
}

/* "RPK" (one letter a dimension, innermost first) or [R, P, K]. The
 * dimensions left out follow, outermost, in the shape's order. */
static bool permutation(reader *r, const yt_node *n, const char *path, tiling *t) {
    int count = 0;
    bool seen[TL_MAX_DIMS] = {false};
    size_t items = n ? (n->kind == YT_SEQ ? n->count : strlen(n->text)) : 0;
    if (n && n->kind == YT_MAP) {
        yt_error(r->d, n, path, NULL, "expected a permutation such as \"RPK\"");
        return false;
    }
    for (size_t i = 0; i < items; i++) {
        const char *s;
        size_t len;
        const yt_node *at = n;
        int col;
        if (n->kind == YT_SEQ) {
            at = n->items[i];
            s = at->text;
            len = strlen(s);
            col = at->col;
        } else {
            s = n->text + i;
            if (isspace((unsigned char)*s)) continue;
            len = 1;
            col = col_at(n, i);
        }
        int d = find_dim(r->p, s, len);
        if (d < 0 || seen[d]) {
            char hint[320] = "";
            char word[EF_MAX_NAME];
            snprintf(word, sizeof word, "%.*s", (int)len, s);
            if (d < 0) dim_hint(r->p, word, hint, sizeof hint);
            yt_error_at(r->d, at->line, col, path, d < 0 ? hint : NULL,
                        d < 0 ? "expected a dimension of the problem, found \"%s\""
                              : "expected each dimension once, found \"%s\" again",
                        word);
            return false;
        }
        seen[d] = true;
        t->perm[count++] = d;
    }
    for (int d = 0; d < r->p->dim_count; d++)
        if (!seen[d]) t->perm[count++] = d;
    return true;
}

static int find_level(const reader *r, const yt_node *n, const char *path) {
    const tl_arch *a = r->a;
    if (n->kind == YT_SCALAR && isdigit((unsigned char)n->text[0])) {
        /* a storage level's number counts from the innermost, 0 */
        uint64_t id;
        if (!yt_u64(r->d, n, path, 0, (uint64_t)a->level_count - 1, &id)) return -1;
        return a->level_count - 1 - (int)id;
    }
    for (int i = 0; i < a->level_count; i++)
        if (!strcmp(a->levels[i].name, n->text)) return i;
    const char *names[EF_MAX_LEVELS];
    for (int i = 0; i < a->level_count; i++) names[i] = a->levels[i].name;
    char hint[320];
    const char *best = ef_suggest(n->text, names, (size_t)a->level_count);
    if (best) {
        snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
    } else {
        char list[256];
        yt_join(list, sizeof list, names, (size_t)a->level_count);
        snprintf(hint, sizeof hint, "the architecture's storage levels: %s", list);
    }
    yt_error(r->d, n, path, hint,
             !strcmp(n->text, a->compute)
                 ? "expected a storage level, found the compute component \"%s\""
                 : "expected a storage level of the architecture, found \"%s\"",
             n->text);
    return -1;
}

static int space_index(const tl_problem *p, const char *name) {
    for (int i = 0; i < p->space_count; i++)
        if (!strcmp(p->spaces[i].name, name)) return i;
    return -1;
}

static bool space_list(reader *r, const yt_node *n, const char *path, int level, bool bypass,
                       tl_mapping *m, bool *set) {
    if (!n) return true;
    if (n->kind != YT_SEQ) {
        yt_error(r->d, n, path, NULL, "expected a list of data spaces");
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n->count; i++) {
        char p[YT_MAX_PATH];
        yt_path_index(p, sizeof p, path, i);
        int s = space_index(r->p, n->items[i]->text);
        if (s < 0) {
            const char *names[TL_MAX_SPACES];
            for (int k = 0; k < r->p->space_count; k++) names[k] = r->p->spaces[k].name;
            const char *best = ef_suggest(n->items[i]->text, names, (size_t)r->p->space_count);
            char hint[96];
            if (best) snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
            yt_error(r->d, n->items[i], p, best ? hint : NULL,
                     "expected a data space of the problem, found \"%s\"", n->items[i]->text);
            ok = false;
            continue;
        }
        if (set[s]) {
            yt_error(r->d, n->items[i], p, NULL,
                     "expected each data space once in keep and bypass, found \"%s\" again",
                     n->items[i]->text);
            ok = false;
            continue;
        }
        set[s] = true;
        if (bypass && level == 0) {
            yt_error(r->d, n->items[i], p, "the outermost level holds every data space",
                     "expected no bypass at the outermost level \"%s\", found \"%s\"",
                     r->a->levels[0].name, n->items[i]->text);
            ok = false;
        }
        m->levels[level].bypass[s] = bypass;
    }
    return ok;
}

static const char *const types[] = {"temporal", "spatial", "bypass", "datatype", "dataspace",
                                    NULL};

static bool directive(reader *r, const yt_node *n, const char *path, tl_mapping *m) {
    static const char *const keys[] = {"target", "type", "factors", "permutation", "split",
                                       "keep", "bypass"};
    if (!tl_check_keys(r->d, n, path, keys, ARRAY_LEN(keys), NULL, 0)) return false;
    const yt_node *target = tl_get(n, "target"), *type = tl_get(n, "type");
    if (!target || !type) {
        yt_error(r->d, n, path, NULL, "missing required key \"%s\"", target ? "type" : "target");
        return false;
    }
    char p[YT_MAX_PATH];
    yt_path_key(p, sizeof p, path, "type");
    int kind = -1;
    for (int i = 0; types[i]; i++)
        if (!strcmp(type->text, types[i])) kind = i;
    if (kind < 0) {
        const char *best = ef_suggest(type->text, types, 5);
        char hint[96];
        snprintf(hint, sizeof hint, best ? "did you mean \"%s\"?" : "%s",
                 best ? best : "einflow converts temporal, spatial and bypass directives");
        yt_error(r->d, type, p, hint,
                 "expected temporal, spatial, bypass, datatype or dataspace, found \"%s\"",
                 type->text);
        return false;
    }
    if (kind > T_BYPASS) kind = T_BYPASS;
    yt_path_key(p, sizeof p, path, "target");
    int level = find_level(r, target, p);
    if (level < 0) return false;
    const char *only_tiling[] = {"factors", "permutation", "split"};
    const char *only_bypass[] = {"keep", "bypass"};
    for (size_t i = 0; i < 3; i++) {
        const char *k = kind == T_BYPASS ? only_tiling[i] : i < 2 ? only_bypass[i] : NULL;
        if (!k || (kind == T_TEMPORAL && !strcmp(k, "split"))) {
            if (kind == T_TEMPORAL && tl_get(n, "split")) {
                yt_path_key(p, sizeof p, path, "split");
                yt_error(r->d, tl_get_key(n, "split"), p, NULL,
                         "expected split only in a spatial directive");
                return false;
            }
            continue;
        }
        if (tl_get(n, k)) {
            yt_path_key(p, sizeof p, path, k);
            yt_error(r->d, tl_get_key(n, k), p, NULL, "expected no %s in a %s directive", k,
                     type->text);
            return false;
        }
    }
    if (kind == T_BYPASS) {
        if (r->bypass_node[level]) {
            yt_error(r->d, n, path, NULL,
                     "expected one bypass directive for \"%s\", found a second (the first at "
                     "line %d)", r->a->levels[level].name, r->bypass_node[level]->line);
            return false;
        }
        r->bypass_node[level] = n;
        bool set[TL_MAX_SPACES] = {false};
        char kp[YT_MAX_PATH], bp[YT_MAX_PATH];
        yt_path_key(kp, sizeof kp, path, "keep");
        yt_path_key(bp, sizeof bp, path, "bypass");
        /* both lists are read, so that each bad one is reported */
        bool ok = space_list(r, tl_get(n, "keep"), kp, level, false, m, set);
        ok &= space_list(r, tl_get(n, "bypass"), bp, level, true, m, set);
        return ok;
    }
    tiling *t = kind == T_SPATIAL ? &r->spatial[level] : &r->temporal[level];
    if (t->node) {
        yt_error(r->d, n, path, NULL,
                 "expected one %s directive for \"%s\", found a second (the first at line %d)",
                 type->text, r->a->levels[level].name, t->node->line);
        return false;
    }
    if (kind == T_SPATIAL && level != r->a->fanout) {
        char hint[200];
        if (r->a->fanout >= 0)
            snprintf(hint, sizeof hint, "the architecture fans out below \"%s\"",
                     r->a->levels[r->a->fanout].name);
        else
            snprintf(hint, sizeof hint, "the architecture has one PE: no level fans out");
        yt_error(r->d, target, p, hint,
                 "expected a spatial directive only for the level the PE array fans out "
                 "below, found \"%s\"", target->text);
        return false;
    }
    t->node = n;
    const yt_node *f = tl_get(n, "factors");
    yt_path_key(p, sizeof p, path, "factors");
    if (f && !factors(r, f, p, t)) return false;
    yt_path_key(p, sizeof p, path, "permutation");
    if (!permutation(r, tl_get(n, "permutation"), p, t)) return false;
    t->split = r->p->dim_count;
    const yt_node *sp = tl_get(n, "split");
    if (sp) {
        uint64_t v;
        yt_path_key(p, sizeof p, path, "split");
        if (!yt_u64(r->d, sp, p, 0, (uint64_t)r->p->dim_count, &v)) return false;
        t->split = (int)v;
    }
    return true;
}

static void init_tiling(tiling *t, const tl_problem *p) {
    memset(t, 0, sizeof *t);
    for (int d = 0; d < p->dim_count; d++) {
        t->factor[d] = 1;
        t->perm[d] = d;
    }
    t->split = p->dim_count;
}

/* Loops of t's permutation positions [from, to), outermost first,
 * leaving out factors of 1. */
static int loops(const tiling *t, int from, int to, tl_loop *out) {
    int n = 0;
    for (int i = to - 1; i >= from; i--) {
        int d = t->perm[i];
        if (t->factor[d] > 1) out[n++] = (tl_loop){d, t->factor[d]};
    }
    return n;
}

bool tl_read_mapping(yt_doc *d, const tl_arch *a, const tl_problem *p, tl_mapping *m) {
    memset(m, 0, sizeof *m);
    reader *r = ef_calloc(1, sizeof *r);
    if (!r) {
        yt_oom(d);
        return false;
    }
    r->d = d;
    r->a = a;
    r->p = p;
    for (int l = 0; l < a->level_count; l++) {
        init_tiling(&r->temporal[l], p);
        init_tiling(&r->spatial[l], p);
    }
    const yt_node *list = tl_get(d->root, "mapping");
    bool ok = true;
    if (list->kind != YT_SEQ) {
        char found[96];
        yt_error(d, list, "mapping", NULL, "expected a list of directives, found %s",
                 yt_describe(list, found, sizeof found));
        ok = false;
    }
    for (size_t i = 0; ok && i < list->count; i++) {
        char path[YT_MAX_PATH];
        yt_path_index(path, sizeof path, "mapping", i);
        ok &= directive(r, list->items[i], path, m);
    }
    /* every dimension's factors multiply to its bound, as Timeloop
     * demands */
    for (int dim = 0; ok && dim < p->dim_count; dim++) {
        uint64_t prod = 1;
        const yt_node *at = NULL;
        char terms[256] = "";
        size_t len = 0;
        for (int l = 0; l < a->level_count; l++)
            for (int s = 0; s < 2; s++) {
                const tiling *t = s ? &r->spatial[l] : &r->temporal[l];
                prod *= t->factor[dim];
                if (t->named[dim]) {
                    if (!at) at = t->named[dim];
                    len += (size_t)snprintf(terms + len, sizeof terms - len,
                                            "%s%s %s %llu", len ? ", " : "",
                                            a->levels[l].name, s ? "spatial" : "temporal",
                                            (unsigned long long)t->factor[dim]);
                    if (len >= sizeof terms) len = sizeof terms - 1;
                }
            }
        if (prod != p->bound[dim]) {
            char hint[EF_MAX_NAME + sizeof terms + 16];
            snprintf(hint, sizeof hint, "factors of %s: %s", p->dims[dim],
                     terms[0] ? terms : "none given");
            yt_error(d, at ? at : list, "mapping", hint,
                     "expected the factors of %s over all levels to multiply to its bound %llu, "
                     "found %llu",
                     p->dims[dim], (unsigned long long)p->bound[dim], (unsigned long long)prod);
            ok = false;
        }
    }
    for (int l = 0; ok && l < a->level_count; l++) {
        tl_level_map *lm = &m->levels[l];
        const tiling *t = &r->temporal[l], *s = &r->spatial[l];
        lm->temporal_count = loops(t, 0, p->dim_count, lm->temporal);
        if (l != a->fanout) continue;
        /* positions before split are meshX: einflow's columns */
        lm->col_count = loops(s, 0, s->split, lm->cols);
        lm->row_count = loops(s, s->split, p->dim_count, lm->rows);
        uint64_t x = 1, y = 1;
        for (int i = 0; i < lm->col_count; i++) x *= lm->cols[i].factor;
        for (int i = 0; i < lm->row_count; i++) y *= lm->rows[i].factor;
        if (x > a->cols || y > a->rows) {
            char p2[YT_MAX_PATH];
            yt_path_key(p2, sizeof p2, "mapping", "factors");
            yt_error(d, s->factors_node ? s->factors_node : s->node, p2,
                     "split says where the permutation turns from meshX to meshY",
                     "expected at most %llu along meshX and %llu along meshY below \"%s\", "
                     "found %llu and %llu",
                     (unsigned long long)a->cols, (unsigned long long)a->rows,
                     a->levels[l].name, (unsigned long long)x, (unsigned long long)y);
            ok = false;
        }
    }
    free(r);
    return ok;
}
