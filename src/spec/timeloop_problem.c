/* einflow spec stage — reads a Timeloop problem: the shape (dimensions,
 * coefficients, data spaces with their projections) and the instance
 * (each dimension's bound, each coefficient's value). A projection is a
 * list of tensor dimensions, each a sum of products ("SOP") of a
 * problem dimension and an optional coefficient: [[R, Wdilation],
 * [P, Wstride]] is r*Wdilation + p*Wstride, einflow's `p*2+r` once the
 * coefficients have their values. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/timeloop.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_COEFS 16

typedef struct {
    yt_doc *d;
    tl_problem *p;
    const char *coef_names[MAX_COEFS];
    int64_t coef_values[MAX_COEFS];
    const yt_node *coef_nodes[MAX_COEFS];
    int coef_count;
    const yt_node *instance;
} reader;

static int find_dim(const tl_problem *p, const char *name) {
    for (int i = 0; i < p->dim_count; i++)
        if (!strcmp(p->dims[i], name)) return i;
    return -1;
}

static int find_coef(const reader *r, const char *name) {
    for (int i = 0; i < r->coef_count; i++)
        if (!strcmp(r->coef_names[i], name)) return i;
    return -1;
}

static bool dimensions(reader *r, const yt_node *n) {
    if (!n || n->kind != YT_SEQ || n->count == 0) {
        char found[96];
        yt_error(r->d, n, "problem.shape.dimensions", NULL,
                 "expected a list of dimension names, found %s",
                 yt_describe(n, found, sizeof found));
        return false;
    }
    if (n->count > TL_MAX_DIMS) {
        yt_error(r->d, n, "problem.shape.dimensions", NULL,
                 "expected at most %d dimensions, found %zu", TL_MAX_DIMS, n->count);
        return false;
    }
    for (size_t i = 0; i < n->count; i++) {
        char p[YT_MAX_PATH];
        yt_path_index(p, sizeof p, "problem.shape.dimensions", i);
        char id[EF_MAX_NAME];
        if (!tl_ident(r->d, n->items[i], p, n->items[i]->text, id)) return false;
        /* einflow's index variable is the rank's name in lowercase */
        char up[EF_MAX_NAME];
        for (size_t k = 0; k < sizeof up; k++) up[k] = (char)toupper((unsigned char)id[k]);
        for (int j = 0; j < r->p->dim_count; j++) {
            char other[EF_MAX_NAME];
            for (size_t k = 0; k < sizeof other; k++)
                other[k] = (char)toupper((unsigned char)r->p->dims[j][k]);
            if (!strcmp(other, up)) {
                yt_error(r->d, n->items[i], p, NULL,
                         "expected dimension names that differ in more than case, found \"%s\" "
                         "and \"%s\"", r->p->dims[j], id);
                return false;
            }
        }
        snprintf(r->p->dims[r->p->dim_count++], EF_MAX_NAME, "%s", id);
    }
    return true;
}

static bool coefficients(reader *r, const yt_node *n) {
    if (!n) return true;
    if (n->kind != YT_SEQ) {
        yt_error(r->d, n, "problem.shape.coefficients", NULL,
                 "expected a list of {name, default}");
        return false;
    }
    for (size_t i = 0; i < n->count; i++) {
        char p[YT_MAX_PATH];
        yt_path_index(p, sizeof p, "problem.shape.coefficients", i);
        static const char *const keys[] = {"name", "default"};
        if (!tl_check_keys(r->d, n->items[i], p, keys, ARRAY_LEN(keys), NULL, 0)) return false;
        const yt_node *name = tl_get(n->items[i], "name"), *def = tl_get(n->items[i], "default");
        if (!name) {
            yt_error(r->d, n->items[i], p, NULL, "missing required key \"name\"");
            return false;
        }
        if (r->coef_count == MAX_COEFS) {
            yt_error(r->d, name, p, NULL, "expected at most %d coefficients", MAX_COEFS);
            return false;
        }
        uint64_t v = 1;
        char dp[YT_MAX_PATH];
        yt_path_key(dp, sizeof dp, p, "default");
        if (def && !yt_u64(r->d, def, dp, 0, 1u << 20, &v)) return false;
        r->coef_names[r->coef_count] = name->text;
        r->coef_values[r->coef_count] = (int64_t)v;
        r->coef_nodes[r->coef_count++] = name;
    }
    return true;
}

/* One term, [DIM] or [DIM, COEF] (either order; COEF a name or an
 * integer). */
static bool term(reader *r, const yt_node *t, const char *path, tl_expr *e) {
    if (t->kind != YT_SEQ || t->count < 1 || t->count > 2) {
        char found[96];
        yt_error(r->d, t, path, "write a term as [DIM] or [DIM, COEFFICIENT]",
                 "expected a term of one dimension and an optional coefficient, found %s",
                 yt_describe(t, found, sizeof found));
        return false;
    }
    int dim = -1;
    int64_t coef = 1;
    const yt_node *coef_node = NULL;
    for (size_t i = 0; i < t->count; i++) {
        const yt_node *x = t->items[i];
        int k = x->kind == YT_SCALAR ? find_dim(r->p, x->text) : -1;
        if (k >= 0 && dim < 0) dim = k;
        else coef_node = x;
    }
    char ip[YT_MAX_PATH];
    if (dim < 0) {
        const yt_node *x = t->items[0];
        const char *names[TL_MAX_DIMS];
        for (int i = 0; i < r->p->dim_count; i++) names[i] = r->p->dims[i];
        const char *best = ef_suggest(x->text, names, (size_t)r->p->dim_count);
        char hint[96];
        if (best) snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
        yt_error(r->d, x, path, best ? hint : NULL,
                 "expected a dimension of the shape, found \"%s\"", x->text);
        return false;
    }
    if (coef_node) {
        yt_path_index(ip, sizeof ip, path, 1);
        int c = coef_node->kind == YT_SCALAR ? find_coef(r, coef_node->text) : -1;
        if (c >= 0) {
            coef = r->coef_values[c];
        } else if (coef_node->kind == YT_SCALAR && isdigit((unsigned char)coef_node->text[0])) {
            uint64_t v;
            if (!yt_u64(r->d, coef_node, ip, 0, 1u << 20, &v)) return false;
            coef = (int64_t)v;
        } else {
            char hint[160] = "declare it under problem.shape.coefficients";
            if (r->coef_count) {
                const char *best = ef_suggest(coef_node->text, r->coef_names,
                                              (size_t)r->coef_count);
                if (best) snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
            }
            char found[96];
            yt_error(r->d, coef_node, ip, hint,
                     "expected a coefficient of the shape or an integer, found %s",
                     yt_describe(coef_node, found, sizeof found));
            return false;
        }
    }
    if (coef == 0) return true; /* the term vanishes */
    if (e->count == TL_MAX_TERMS) {
        yt_error(r->d, t, path, NULL, "expected at most %d terms", TL_MAX_TERMS);
        return false;
    }
    e->dim[e->count] = dim;
    e->coef[e->count++] = coef;
    return true;
}

static bool data_space(reader *r, const yt_node *n, const char *path, tl_space *s) {
    static const char *const keys[] = {"name", "projection", "read_write"};
    if (!tl_check_keys(r->d, n, path, keys, ARRAY_LEN(keys), NULL, 0)) return false;
    const yt_node *name = tl_get(n, "name"), *proj = tl_get(n, "projection");
    const yt_node *rw = tl_get(n, "read_write");
    if (!name || !proj) {
        yt_error(r->d, n, path, NULL, "missing required key \"%s\"", name ? "projection" : "name");
        return false;
    }
    char p[YT_MAX_PATH];
    yt_path_key(p, sizeof p, path, "name");
    if (!tl_ident(r->d, name, p, name->text, s->name)) return false;
    s->node = n;
    if (rw) {
        yt_path_key(p, sizeof p, path, "read_write");
        /* Timeloop writes True as often as true */
        if (!strcmp(rw->text, "True") || !strcmp(rw->text, "False"))
            s->output = rw->text[0] == 'T';
        else if (!yt_bool(r->d, rw, p, &s->output))
            return false;
    }
    yt_path_key(p, sizeof p, path, "projection");
    if (proj->kind != YT_SEQ || proj->count == 0 || proj->count > EF_MAX_DIMS) {
        char found[96];
        yt_error(r->d, proj, p, "write a projection as [[[C]], [[R], [P]], ...]",
                 "expected a list of 1 to %d tensor dimensions, each a list of terms, found %s",
                 EF_MAX_DIMS, yt_describe(proj, found, sizeof found));
        return false;
    }
    for (size_t i = 0; i < proj->count; i++) {
        char dp[YT_MAX_PATH];
        yt_path_index(dp, sizeof dp, p, i);
        const yt_node *dim = proj->items[i];
        if (dim->kind != YT_SEQ || dim->count == 0) {
            char found[96];
            yt_error(r->d, dim, dp, "write a tensor dimension as [[P]] or [[R], [P]]",
                     "expected a list of terms, found %s", yt_describe(dim, found, sizeof found));
            return false;
        }
        tl_expr *e = &s->proj[s->dims++];
        for (size_t k = 0; k < dim->count; k++) {
            char tp[YT_MAX_PATH];
            yt_path_index(tp, sizeof tp, dp, k);
            if (!term(r, dim->items[k], tp, e)) return false;
        }
        if (e->count == 0) {
            yt_error(r->d, dim, dp, NULL,
                     "expected a tensor dimension with a nonzero term, found every coefficient 0");
            return false;
        }
        if (s->output && (e->count != 1 || e->coef[0] != 1)) {
            yt_error(r->d, dim, dp, "einflow writes outputs at plain indices: O[m,p]",
                     "expected the output's dimension to be one problem dimension, found a sum "
                     "or a coefficient");
            return false;
        }
    }
    return true;
}

/* instance: each dimension's bound (1 when absent, as Timeloop's),
 * coefficients' values, and densities (dense only). */
static bool instance(reader *r, const yt_node *n) {
    for (int i = 0; i < r->p->dim_count; i++) r->p->bound[i] = 1;
    if (!n) return true;
    if (n->kind != YT_MAP) {
        yt_error(r->d, n, "problem.instance", NULL, "expected a mapping of bounds");
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n->count; i++) {
        const yt_node *k = n->pairs[i].key, *v = n->pairs[i].value;
        char p[YT_MAX_PATH];
        yt_path_key(p, sizeof p, "problem.instance", k->text);
        if (!strcmp(k->text, "densities")) {
            if (v->kind == YT_MAP && v->count == 0) continue;
            if (v->kind == YT_SCALAR && (!strcmp(v->text, "") || !strcmp(v->text, "null")))
                continue;
            yt_error(r->d, v, p, "einflow simulates dense tensors only",
                     "expected no densities, found a sparse workload, which einflow has no "
                     "equivalent for");
            ok = false;
            continue;
        }
        int d = find_dim(r->p, k->text);
        if (d >= 0) {
            ok &= yt_u64(r->d, v, p, 1, UINT64_C(1) << 31, &r->p->bound[d]);
            continue;
        }
        int c = find_coef(r, k->text);
        if (c >= 0) {
            uint64_t x;
            if (yt_u64(r->d, v, p, 0, 1u << 20, &x)) r->coef_values[c] = (int64_t)x;
            else ok = false;
            continue;
        }
        const char *names[TL_MAX_DIMS + MAX_COEFS];
        size_t m = 0;
        for (int j = 0; j < r->p->dim_count; j++) names[m++] = r->p->dims[j];
        for (int j = 0; j < r->coef_count; j++) names[m++] = r->coef_names[j];
        const char *best = ef_suggest(k->text, names, m);
        char hint[96];
        if (best) snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
        yt_error(r->d, k, "problem.instance", best ? hint : NULL,
                 "expected a dimension or coefficient of the shape, found \"%s\"", k->text);
        ok = false;
    }
    return ok;
}

static void label(const char *in, char out[EF_MAX_NAME]) {
    size_t n = 0;
    if (!isalpha((unsigned char)in[0]) && in[0] != '_') out[n++] = 'p';
    for (size_t i = 0; in[i] && n + 1 < EF_MAX_NAME; i++) {
        char c = in[i];
        out[n++] = isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == '+'
                       ? c
                       : '_';
    }
    out[n] = '\0';
}

bool tl_read_problem(yt_doc *d, tl_problem *p) {
    memset(p, 0, sizeof *p);
    reader r = {.d = d, .p = p};
    const yt_node *root = tl_get(d->root, "problem");
    static const char *const keys[] = {"version", "shape", "instance"};
    if (!tl_check_keys(d, root, "problem", keys, ARRAY_LEN(keys), NULL, 0)) return false;
    const yt_node *shape = tl_get(root, "shape");
    if (!shape) {
        yt_error(d, root, "problem", NULL, "missing required key \"shape\"");
        return false;
    }
    if (shape->kind == YT_SCALAR) {
        yt_error(d, shape, "problem.shape", "copy the shape's definition into the problem file",
                 "expected the shape written out, found a reference to Timeloop's shape "
                 "library \"%s\", which einflow does not have", shape->text);
        return false;
    }
    static const char *const shape_keys[] = {"name", "dimensions", "coefficients",
                                             "data_spaces"};
    if (!tl_check_keys(d, shape, "problem.shape", shape_keys, ARRAY_LEN(shape_keys), NULL, 0))
        return false;
    const yt_node *name = tl_get(shape, "name");
    label(name && name->text[0] ? name->text : "timeloop", p->name);
    if (!dimensions(&r, tl_get(shape, "dimensions")) ||
        !coefficients(&r, tl_get(shape, "coefficients")) ||
        !instance(&r, tl_get(root, "instance")))
        return false;
    const yt_node *spaces = tl_get(shape, "data_spaces");
    if (!spaces || spaces->kind != YT_SEQ) {
        char found[96];
        yt_error(d, spaces ? spaces : shape, "problem.shape.data_spaces", NULL,
                 "expected a list of data spaces, found %s",
                 yt_describe(spaces, found, sizeof found));
        return false;
    }
    if (spaces->count != TL_MAX_SPACES) {
        yt_error(d, spaces, "problem.shape.data_spaces",
                 "einflow imports a product of two operands into one output",
                 "expected 3 data spaces (two operands and a read_write output), found %zu",
                 spaces->count);
        return false;
    }
    p->output = -1;
    for (size_t i = 0; i < spaces->count; i++) {
        char sp[YT_MAX_PATH];
        yt_path_index(sp, sizeof sp, "problem.shape.data_spaces", i);
        tl_space *s = &p->spaces[p->space_count++];
        if (!data_space(&r, spaces->items[i], sp, s)) return false;
        for (int j = 0; j + 1 < p->space_count; j++)
            if (!strcmp(p->spaces[j].name, s->name)) {
                yt_error(d, tl_get(spaces->items[i], "name"), sp, NULL,
                         "expected a name no other data space has, found \"%s\"", s->name);
                return false;
            }
        if (s->output) {
            if (p->output >= 0) {
                yt_error(d, spaces->items[i], sp, NULL,
                         "expected one read_write data space (the output), found a second, "
                         "\"%s\"", s->name);
                return false;
            }
            p->output = (int)i;
        }
    }
    if (p->output < 0) {
        yt_error(d, spaces, "problem.shape.data_spaces", "mark the output with read_write: true",
                 "expected one read_write data space (the output), found none");
        return false;
    }
    return true;
}
