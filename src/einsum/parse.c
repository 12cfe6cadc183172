/* Einsum text → ef_einsum. A small recursive-descent parser: the
 * grammar is tiny and a hand parser gives the best error positions.
 *
 *   einsum  := ref ("+=" | "=" | "max=") expr   (a recurrence: "=")
 *   expr    := term (("+" | "-") term)*
 *   term    := unary (("*" | "/") unary)*
 *   unary   := "-" unary | atom
 *   atom    := NUMBER | ref | "(" expr ")" | "exp" "(" expr ")"
 *            | "max" "(" expr "," expr ")"
 *   ref     := NAME "[" [affine ("," affine)*] "]"
 *   affine  := aterm (("+" | "-") aterm)*
 *   aterm   := factor ("*" factor)*     factor := INT | index | RANKNAME
 *
 * Lowercase index names denote ranks (p → rank P); an uppercase rank
 * name inside an index stands for that rank's bound (h*F + f).
 *
 * An output is indexed by plain rank letters, except in a recurrence:
 * one output dimension indexed r+1, the output read on the right at r
 * with every other index alike, written with "=" — step r+1 computed
 * from step r, as the running maximum of an online softmax
 * ("RM[h,m1+1,p] = max(RM[h,m1,p], LM[h,m1,p])"). */
#include "einflow/einsum.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    ef_workload *w;
    const char *text;
    size_t pos;
    ef_loc loc;
    ef_diags *diags;
    ef_einsum *e;
    bool failed;
    size_t self_at, self_end;   /* where the output is read on the right */
    int depth;                  /* parentheses and unary minus open now  */
} parser;

/* Expressions nest at most this deep: the parser recurses once per
 * level, and the 64 nodes of an Einsum never need more. */
#define EF_MAX_EXPR_DEPTH 64
/* An index coefficient or constant stays below this: strides and
 * dilations are small, and products of them must not wrap. */
#define EF_MAX_INDEX_COEF (INT64_C(1) << 40)

static void fail(parser *p, size_t at, const char *fmt, const char *arg) {
    if (p->failed) return;
    p->failed = true;
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    /* The Einsum string sits inside quotes in YAML: point at the exact
     * character by offsetting from the string's own column. */
    char *src = p->loc.file ? ef_diags_source_line(p->diags, p->loc.file, p->loc.line)
                            : NULL;
    int col = p->loc.col ? p->loc.col + 1 + (int)at : 0;
    if (src && p->loc.col > 0 && (size_t)p->loc.col <= strlen(src) &&
        src[p->loc.col - 1] != '"' && src[p->loc.col - 1] != '\'')
        col--; /* unquoted scalar */
    /* The spec knows where the string sits ("layers[6].einsum" in a
     * network file); a workload built by hand has only its index. */
    const ef_workload_spec *spec = p->w->spec;
    char path[EF_MAX_KEY_PATH];
    if (spec && p->w->einsum_count < spec->einsum_count &&
        spec->einsums[p->w->einsum_count].path[0])
        snprintf(path, sizeof path, "%s", spec->einsums[p->w->einsum_count].path);
    else
        snprintf(path, sizeof path, "einsums[%d]", p->w->einsum_count);
    ef_diags_add(p->diags, p->loc.file ? p->loc.file : "<einsum>",
                 p->loc.line, col, path, NULL, src, "%s", msg);
    free(src);
}

static void skip_ws(parser *p) {
    while (p->text[p->pos] == ' ' || p->text[p->pos] == '\t') p->pos++;
}

static bool accept(parser *p, const char *tok) {
    skip_ws(p);
    size_t n = strlen(tok);
    if (strncmp(p->text + p->pos, tok, n) == 0) {
        p->pos += n;
        return true;
    }
    return false;
}

static bool expect(parser *p, const char *tok) {
    if (accept(p, tok)) return true;
    char what[64];
    snprintf(what, sizeof what, "\"%s\"", tok);
    const char *here = p->text + p->pos;
    char found[32];
    if (*here)
        snprintf(found, sizeof found, "found \"%.8s\"", here);
    else
        snprintf(found, sizeof found, "found the end");
    char msg[128];
    snprintf(msg, sizeof msg, "expected %s, %s", what, found);
    fail(p, p->pos, "%s", msg);
    return false;
}

static bool read_name(parser *p, char *out) {
    skip_ws(p);
    size_t start = p->pos, n = 0;
    const char *t = p->text;
    if (!(isalpha((unsigned char)t[p->pos]) || t[p->pos] == '_')) return false;
    while (isalnum((unsigned char)t[p->pos]) || t[p->pos] == '_') {
        if (n + 1 < EF_MAX_NAME) out[n++] = t[p->pos];
        p->pos++;
    }
    out[n] = 0;
    if (p->pos - start >= EF_MAX_NAME) fail(p, start, "name too long%s", "");
    return true;
}

static bool read_int(parser *p, int64_t *out) {
    skip_ws(p);
    const char *s = p->text + p->pos;
    if (!isdigit((unsigned char)*s)) return false;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (v > (1LL << 40)) {
        fail(p, p->pos, "number too large in index%s", "");
        return false;
    }
    p->pos += (size_t)(end - s);
    *out = v;
    return true;
}

/* Looks up an index variable (p) or a rank name used as constant (P). */
static int rank_of_index(parser *p, const char *name, bool *is_bound) {
    *is_bound = false;
    for (int r = 0; r < p->w->rank_count; r++) {
        if (strcmp(p->w->rank_names[r], name) == 0) {
            *is_bound = isupper((unsigned char)name[0]) != 0;
            if (*is_bound) return r;
        }
    }
    for (int r = 0; r < p->w->rank_count; r++) {
        const char *rn = p->w->rank_names[r];
        size_t i = 0;
        for (; rn[i] && name[i]; i++)
            if (toupper((unsigned char)name[i]) != toupper((unsigned char)rn[i]))
                break;
        if (!rn[i] && !name[i]) return r;
    }
    return -1;
}

/* factor := INT | index | RANKNAME; returns a coefficient or a rank. */
static bool parse_factor(parser *p, int64_t *num, int *rank) {
    *rank = -1;
    if (read_int(p, num)) return true;
    size_t at = (skip_ws(p), p->pos);
    char name[EF_MAX_NAME];
    if (!read_name(p, name)) {
        fail(p, at, "expected an index (a rank letter or an integer)%s", "");
        return false;
    }
    bool is_bound;
    int r = rank_of_index(p, name, &is_bound);
    skip_ws(p);
    if (p->text[p->pos] == '[') {
        fail(p, at, "expected \"]\" to close the index list before the tensor \"%s\"", name);
        return false;
    }
    if (r < 0) {
        char msg[320];
        size_t len = (size_t)snprintf(msg, sizeof msg,
                                      "unknown index \"%s\": the ranks are", name);
        for (int q = 0; q < p->w->rank_count && len < sizeof msg; q++)
            len += (size_t)snprintf(msg + len, sizeof msg - len, "%s %s",
                                    q ? "," : "", p->w->rank_names[q]);
        if (len < sizeof msg)
            snprintf(msg + len, sizeof msg - len, " (an index is a rank in lowercase)");
        fail(p, at, "%s", msg);
        return false;
    }
    if (is_bound) {
        *num = (int64_t)p->w->rank_bounds[r];
        return true;
    }
    *rank = r;
    *num = 1;
    return true;
}

static void affine_add(ef_affine *a, int rank, int64_t coef) {
    for (int k = 0; k < a->term_count; k++)
        if (a->rank[k] == rank) {
            a->coef[k] += coef;
            return;
        }
    a->rank[a->term_count] = rank;
    a->coef[a->term_count++] = coef;
}

static bool parse_affine(parser *p, ef_affine *a) {
    memset(a, 0, sizeof *a);
    int64_t sign = 1;
    if (accept(p, "-")) sign = -1;
    for (;;) {
        size_t at = p->pos;
        int64_t coef = sign;
        int rank = -1;
        do {
            int64_t num;
            int r;
            if (!parse_factor(p, &num, &r)) return false;
            if (__builtin_mul_overflow(coef, num, &coef) || coef > EF_MAX_INDEX_COEF ||
                coef < -EF_MAX_INDEX_COEF) {
                fail(p, at, "index coefficient too large: a product of factors above 2^40%s",
                     "");
                return false;
            }
            if (r >= 0) {
                if (rank >= 0) {
                    fail(p, at, "index products of two ranks are not affine%s", "");
                    return false;
                }
                rank = r;
            }
        } while (accept(p, "*"));
        if (rank >= 0)
            affine_add(a, rank, coef);
        else
            a->constant += coef;
        if (accept(p, "+")) sign = 1;
        else if (accept(p, "-")) sign = -1;
        else break;
    }
    /* drop zero coefficients (p - p) so footprints stay exact */
    int k2 = 0;
    for (int k = 0; k < a->term_count; k++)
        if (a->coef[k] != 0) {
            a->rank[k2] = a->rank[k];
            a->coef[k2++] = a->coef[k];
        }
    a->term_count = k2;
    return true;
}

static int tensor_id(parser *p, const char *name) {
    ef_workload *w = p->w;
    int t = ef_workload_tensor_id(w, name);
    if (t >= 0) return t;
    if (w->tensor_count >= EF_MAX_TENSORS * 4) return -1;
    t = w->tensor_count++;
    memset(&w->tensors[t], 0, sizeof w->tensors[t]);
    snprintf(w->tensors[t].name, EF_MAX_NAME, "%s", name);
    w->tensors[t].producer = -1;
    w->tensors[t].dims = -1;
    w->tensors[t].recurrence_dim = -1;
    return t;
}

/* ref := NAME "[" affine ("," affine)* "]". An output must be indexed by
 * plain rank letters, and no tensor may use one rank in two dimensions:
 * the model's footprints rely on both. */
static bool parse_ref(parser *p, ef_operand *op, bool is_output) {
    size_t at = (skip_ws(p), p->pos);
    char name[EF_MAX_NAME];
    if (!read_name(p, name)) {
        fail(p, at, "expected a tensor name%s", "");
        return false;
    }
    int t = tensor_id(p, name);
    if (t < 0) {
        fail(p, at, "too many tensors%s", "");
        return false;
    }
    memset(op, 0, sizeof *op);
    op->tensor = t;
    if (!expect(p, "[")) return false;
    if (accept(p, "]")) return true;
    int dim_of_rank[EF_MAX_RANKS];
    for (int r = 0; r < EF_MAX_RANKS; r++) dim_of_rank[r] = -1;
    do {
        if (op->dims >= EF_MAX_DIMS) {
            fail(p, p->pos, "too many dimensions%s", "");
            return false;
        }
        size_t dim_at = (skip_ws(p), p->pos);
        ef_affine *a = &op->index[op->dims];
        if (!parse_affine(p, a)) return false;
        char text[64];
        size_t len = p->pos - dim_at;
        while (len && (p->text[dim_at + len - 1] == ' ')) len--;
        snprintf(text, sizeof text, "%.*s", (int)(len < 60 ? len : 60), p->text + dim_at);
        bool plain = a->term_count == 1 && a->coef[0] == 1;
        if (is_output && plain && a->constant == 1) {
            /* r+1: one step of a recurrence over r */
            if (p->e->recurrence_dim >= 0) {
                char msg[256];
                snprintf(msg, sizeof msg,
                         "output %s is indexed \"%s\" after another dimension indexed r+1; "
                         "a recurrence steps along one rank only", name, text);
                fail(p, dim_at, "%s", msg);
                return false;
            }
            p->e->recurrence_dim = op->dims;
            p->e->recurrence_rank = a->rank[0];
        } else if (is_output && (!plain || a->constant != 0)) {
            char msg[320];
            if (plain)
                snprintf(msg, sizeof msg,
                         "output %s is indexed \"%s\", but an output dimension may only be a "
                         "rank letter or, in a recurrence, a rank plus 1 (r+1: the step after r)",
                         name, text);
            else
                snprintf(msg, sizeof msg,
                         "output %s must be indexed by lowercase rank letters (or one "
                         "dimension by r+1, a recurrence), found \"%s\"%s",
                         name, text,
                         a->term_count == 0 ? " (an uppercase rank name stands for its bound)"
                                            : "");
            fail(p, dim_at, "%s", msg);
            return false;
        }
        for (int k = 0; k < a->term_count; k++) {
            int r = a->rank[k];
            if (dim_of_rank[r] >= 0) {
                char msg[256];
                snprintf(msg, sizeof msg,
                         "rank %s indexes two dimensions of %s; each rank may index "
                         "at most one dimension of a tensor", p->w->rank_names[r], name);
                fail(p, dim_at, "%s", msg);
                return false;
            }
            dim_of_rank[r] = op->dims;
        }
        op->dims++;
    } while (accept(p, ","));
    return expect(p, "]");
}

static int new_node(parser *p, ef_expr_kind kind, int left, int right) {
    ef_einsum *e = p->e;
    if (e->node_count >= (int)(sizeof e->nodes / sizeof e->nodes[0])) {
        fail(p, p->pos, "expression too long%s", "");
        return -1;
    }
    ef_expr_node *n = &e->nodes[e->node_count];
    n->kind = kind;
    n->left = left;
    n->right = right;
    n->operand = -1;
    n->number = 0;
    return e->node_count++;
}

static int parse_expr(parser *p);

static int parse_atom(parser *p) {
    skip_ws(p);
    size_t at = p->pos;
    const char *s = p->text + p->pos;
    if (isdigit((unsigned char)*s) || *s == '.') {
        char *end;
        double v = strtod(s, &end);
        p->pos += (size_t)(end - s);
        int n = new_node(p, EF_EXPR_NUM, -1, -1);
        if (n >= 0) p->e->nodes[n].number = v;
        return n;
    }
    if (accept(p, "(")) {
        int n = parse_expr(p);
        return (n >= 0 && expect(p, ")")) ? n : -1;
    }
    char name[EF_MAX_NAME];
    size_t save = p->pos;
    if (read_name(p, name)) {
        skip_ws(p);
        if (p->text[p->pos] == '(') {
            p->pos++;
            if (strcmp(name, "exp") == 0) {
                int a = parse_expr(p);
                if (a < 0 || !expect(p, ")")) return -1;
                return new_node(p, EF_EXPR_EXP, a, -1);
            }
            if (strcmp(name, "max") == 0) {
                int a = parse_expr(p);
                if (a < 0 || !expect(p, ",")) return -1;
                int b = parse_expr(p);
                if (b < 0 || !expect(p, ")")) return -1;
                return new_node(p, EF_EXPR_MAX, a, b);
            }
            fail(p, at, "unknown function \"%s\": expected exp or max", name);
            return -1;
        }
        p->pos = save;
        ef_einsum *e = p->e;
        if (e->input_count >= EF_MAX_TENSORS) {
            fail(p, at, "too many operands%s", "");
            return -1;
        }
        ef_operand op;
        if (!parse_ref(p, &op, false)) return -1;
        if (op.tensor == e->output.tensor && !p->self_end) {
            p->self_at = at;
            p->self_end = p->pos;
        }
        for (int i = 0; i < e->input_count; i++)
            if (e->inputs[i].tensor == op.tensor &&
                memcmp(&e->inputs[i], &op, sizeof op) != 0) {
                fail(p, at, "tensor %s is used twice with different indices",
                     p->w->tensors[op.tensor].name);
                return -1;
            }
        int slot = -1;
        for (int i = 0; i < e->input_count; i++)
            if (e->inputs[i].tensor == op.tensor) slot = i;
        if (slot < 0) {
            slot = e->input_count++;
            e->inputs[slot] = op;
        }
        int n = new_node(p, EF_EXPR_REF, -1, -1);
        if (n >= 0) e->nodes[n].operand = slot;
        return n;
    }
    fail(p, at, "expected a tensor, a number or \"(\"%s", "");
    return -1;
}

static int parse_unary_nested(parser *p);

/* Every level of nesting, a parenthesis or a unary minus, comes through
 * here: the depth is bounded before the stack is. */
static int parse_unary(parser *p) {
    if (p->depth >= EF_MAX_EXPR_DEPTH) {
        skip_ws(p);
        fail(p, p->pos, "expression nested more than 64 levels deep (parentheses and "
                        "unary minus)%s", "");
        return -1;
    }
    p->depth++;
    int n = parse_unary_nested(p);
    p->depth--;
    return n;
}

static int parse_unary_nested(parser *p) {
    if (accept(p, "-")) {
        int a = parse_unary(p);
        return a < 0 ? -1 : new_node(p, EF_EXPR_NEG, a, -1);
    }
    return parse_atom(p);
}

static int parse_term(parser *p) {
    int left = parse_unary(p);
    while (left >= 0) {
        ef_expr_kind k;
        if (accept(p, "*")) k = EF_EXPR_MUL;
        else if (accept(p, "/")) k = EF_EXPR_DIV;
        else break;
        int right = parse_unary(p);
        if (right < 0) return -1;
        left = new_node(p, k, left, right);
    }
    return left;
}

static int parse_expr(parser *p) {
    int left = parse_term(p);
    while (left >= 0) {
        ef_expr_kind k;
        skip_ws(p);
        /* "+=" never appears on the right-hand side; plain + and - do */
        if (accept(p, "+")) k = EF_EXPR_ADD;
        else if (accept(p, "-")) k = EF_EXPR_SUB;
        else break;
        int right = parse_term(p);
        if (right < 0) return -1;
        left = new_node(p, k, left, right);
    }
    return left;
}

/* "h,m1,p": the output's indices with the recurrence rank one step back,
 * as the right-hand side must read them. */
static void previous_step(const parser *p, char *buf, size_t size) {
    const ef_einsum *e = p->e;
    size_t len = 0;
    buf[0] = 0;
    for (int d = 0; d < e->output.dims && len < size; d++) {
        const char *rn = p->w->rank_names[e->output.index[d].rank[0]];
        len += (size_t)snprintf(buf + len, size - len, "%s", d ? "," : "");
        for (size_t i = 0; rn[i] && len + 1 < size; i++)
            buf[len++] = (char)tolower((unsigned char)rn[i]);
        buf[len < size ? len : size - 1] = 0;
    }
}

/* The output on the right-hand side: only a recurrence reads it, with
 * "=", at the output's own indices one step back. */
static bool check_recurrence(parser *p, size_t op_at) {
    ef_einsum *e = p->e;
    const char *name = p->w->tensors[e->output.tensor].name;
    char msg[640], want[160];
    int self = -1;
    for (int i = 0; i < e->input_count; i++)
        if (e->inputs[i].tensor == e->output.tensor) self = i;
    if (e->recurrence_dim < 0) {
        if (self < 0) return true;
        snprintf(msg, sizeof msg,
                 "output %s also appears on the right-hand side; only a recurrence may "
                 "read its output (index one output dimension r+1 and read it at r)", name);
        fail(p, p->self_at, "%s", msg);
        return false;
    }
    previous_step(p, want, sizeof want);
    const char *rank = p->w->rank_names[e->recurrence_rank];
    char r[EF_MAX_NAME];
    size_t i = 0;
    for (; rank[i] && i + 1 < sizeof r; i++) r[i] = (char)tolower((unsigned char)rank[i]);
    r[i] = 0;
    if (e->reduce != EF_REDUCE_NONE) {
        snprintf(msg, sizeof msg,
                 "output %s is indexed %s+1, a recurrence, which is written with \"=\" "
                 "(each step replaces the one before), found \"%s\"",
                 name, r, e->reduce == EF_REDUCE_SUM ? "+=" : "max=");
        fail(p, op_at, "%s", msg);
        return false;
    }
    if (self < 0) {
        snprintf(msg, sizeof msg,
                 "output %s is indexed %s+1, a recurrence, but the right-hand side never "
                 "reads %s[%s], the step before", name, r, name, want);
        fail(p, op_at, "%s", msg);
        return false;
    }
    const ef_operand *in = &e->inputs[self], *out = &e->output;
    bool same = in->dims == out->dims;
    for (int d = 0; same && d < in->dims; d++) {
        const ef_affine *a = &in->index[d];
        same = a->term_count == 1 && a->coef[0] == 1 && a->rank[0] == out->index[d].rank[0] &&
               a->constant == 0;
    }
    if (!same) {
        int len = (int)(p->self_end - p->self_at);
        snprintf(msg, sizeof msg,
                 "a recurrence reads its output one step back at the same other indices: "
                 "expected %s[%s], found \"%.*s\"", name, want, len > 80 ? 80 : len,
                 p->text + p->self_at);
        fail(p, p->self_at, "%s", msg);
        return false;
    }
    e->recurrence_input = self;
    return true;
}

ef_status ef_einsum_parse(ef_workload *w, const char *text, ef_loc loc,
                          ef_einsum *e, ef_diags *diags) {
    parser p = {.w = w, .text = text, .loc = loc, .diags = diags, .e = e};
    memset(e, 0, sizeof *e);
    e->loc = loc;
    e->recurrence_rank = e->recurrence_dim = e->recurrence_input = -1;
    if (!parse_ref(&p, &e->output, true)) return EF_ERR_SPEC;
    skip_ws(&p);
    size_t op_at = p.pos;
    if (accept(&p, "+=")) e->reduce = EF_REDUCE_SUM;
    else if (accept(&p, "max=")) e->reduce = EF_REDUCE_MAX;
    else if (accept(&p, "=")) e->reduce = EF_REDUCE_NONE;
    else {
        fail(&p, op_at, "expected \"+=\", \"max=\" or \"=\" after the output%s", "");
        return EF_ERR_SPEC;
    }
    e->root = parse_expr(&p);
    if (e->root < 0 || p.failed) return EF_ERR_SPEC;
    skip_ws(&p);
    if (text[p.pos]) {
        fail(&p, p.pos, "unexpected \"%s\" after the expression", text + p.pos);
        return EF_ERR_SPEC;
    }
    if (!check_recurrence(&p, op_at)) return EF_ERR_SPEC;
    if (e->reduce == EF_REDUCE_NONE) {
        /* "=" writes each output once: every rank must index the output */
        bool in_out[EF_MAX_RANKS] = {false};
        for (int d = 0; d < e->output.dims; d++)
            for (int k = 0; k < e->output.index[d].term_count; k++)
                in_out[e->output.index[d].rank[k]] = true;
        for (int i = 0; i < e->input_count; i++)
            for (int d = 0; d < e->inputs[i].dims; d++)
                for (int k = 0; k < e->inputs[i].index[d].term_count; k++) {
                    int r = e->inputs[i].index[d].rank[k];
                    if (!in_out[r]) {
                        char msg[200];
                        snprintf(msg, sizeof msg,
                                 "rank %s is summed over but the Einsum uses \"=\"; "
                                 "use \"+=\" or \"max=\" to reduce it",
                                 w->rank_names[r]);
                        fail(&p, op_at, "%s", msg);
                        return EF_ERR_SPEC;
                    }
                }
    }
    const ef_expr_node *root = &e->nodes[e->root];
    e->is_mac = e->reduce == EF_REDUCE_SUM && root->kind == EF_EXPR_MUL &&
                e->nodes[root->left].kind == EF_EXPR_REF &&
                e->nodes[root->right].kind == EF_EXPR_REF &&
                e->input_count == 2;
    for (int d = 0; d < e->output.dims; d++)
        for (int k = 0; k < e->output.index[d].term_count; k++)
            e->rank_used[e->output.index[d].rank[k]] = true;
    for (int i = 0; i < e->input_count; i++)
        for (int d = 0; d < e->inputs[i].dims; d++)
            for (int k = 0; k < e->inputs[i].index[d].term_count; k++)
                e->rank_used[e->inputs[i].index[d].rank[k]] = true;
    return EF_OK;
}
