/* Unit tests of the einsum stage: Einsum strings (inside small
 * workload YAML files) are parsed and their affine projections,
 * operators, expression trees and tensor shapes compared with values
 * worked out by hand; malformed Einsums must give exactly one located
 * diagnostic each. */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit/unit_util.h"

/* The Einsum sits on line 3 of every workload written here. */
#define EINSUM_LINE 3

static char *workload_yaml(const char *einsum, const char *ranks, const char *extra) {
    const char *f = "name: t\neinsums:\n  - \"%s\"\nranks: {%s}\n%s";
    size_t n = strlen(f) + strlen(einsum) + strlen(ranks) + strlen(extra) + 1;
    char *s = malloc(n);
    ck_assert_ptr_nonnull(s);
    snprintf(s, n, f, einsum, ranks, extra);
    return s;
}

/* Builds a one-Einsum workload; fails the test unless it is legal. */
static ef_workload *build_ok(ut_fx *f, const char *einsum, const char *ranks,
                             const char *extra) {
    char *y = workload_yaml(einsum, ranks, extra);
    ef_workload *w = ut_workload(f, y);
    free(y);
    if (!w) {
        char *s = ut_render(f);
        ck_abort_msg("\"%s\" should parse, got:\n%s", einsum, s);
        free(s);
    }
    return w;
}

static int tensor(const ef_workload *w, const char *name) {
    int t = ef_workload_tensor_id(w, name);
    ck_assert_msg(t >= 0, "no tensor %s", name);
    return t;
}

/* The operand of tensor `name` among the Einsum's inputs. */
static const ef_operand *input(const ef_workload *w, const ef_einsum *e,
                               const char *name) {
    int t = tensor(w, name);
    for (int i = 0; i < e->input_count; i++)
        if (e->inputs[i].tensor == t) return &e->inputs[i];
    ck_abort_msg("%s is not an input", name);
    return NULL;
}

/* Coefficient of the rank whose index letter is `idx` (0 if absent). */
static int64_t coef(const ef_workload *w, const ef_affine *a, const char *rank) {
    int r = ut_rank(w, rank);
    int64_t c = 0;
    int seen = 0;
    for (int k = 0; k < a->term_count; k++)
        if (a->rank[k] == r) {
            c += a->coef[k];
            seen++;
        }
    ck_assert_int_le(seen, 1); /* one term per rank */
    return c;
}

/* ---------- affine index expressions ---------- */

typedef struct {
    const char *einsum, *ranks, *tensor;
    int dim;
    struct { const char *rank; int64_t coef; } terms[3];
    int term_count;
    int64_t constant, extent, offset;
} affine_case;

/* extents: range of the expression over the rank bounds, hi - lo + 1 */
static const affine_case affine_cases[] = {
    /* stride 2, dilation 3: 2*15 + 3*2 + 1 = 37 */
    {"O[p] += I[p*2+r*3] * W[r]", "P: 16, R: 3", "I", 0,
     {{"P", 2}, {"R", 3}}, 2, 0, 37, 0},
    /* stride 2: 2*(P-1) + R = 33 */
    {"O[p] += I[p*2 + r] * W[r]", "P: 16, R: 3", "I", 0,
     {{"P", 2}, {"R", 1}}, 2, 0, 33, 0},
    /* dilation 2: (P-1) + 2*(R-1) + 1 = 20 */
    {"O[p] += I[p + r*2] * W[r]", "P: 16, R: 3", "I", 0,
     {{"P", 1}, {"R", 2}}, 2, 0, 20, 0},
    /* flattening: an uppercase rank is its bound, h*F + f spans H*F */
    {"O[h,f] = I[h*F + f]", "H: 3, F: 4", "I", 0,
     {{"H", 4}, {"F", 1}}, 2, 0, 12, 0},
    {"O[h,f] = I[F*h + f]", "H: 5, F: 7", "I", 0,
     {{"H", 7}, {"F", 1}}, 2, 0, 35, 0},
    /* constants shift the stored range: offset 2, extent P+R-1 */
    {"O[p] += I[p+r+2] * W[r]", "P: 16, R: 3", "I", 0,
     {{"P", 1}, {"R", 1}}, 2, 2, 18, 2},
    /* negative terms: p - r spans -2 .. 15 */
    {"O[p] += I[p-r] * W[r]", "P: 16, R: 3", "I", 0,
     {{"P", 1}, {"R", -1}}, 2, 0, 18, -2},
    /* leading minus: 20 - p + r spans 5 .. 22 */
    {"O[p] += I[-p+r+20] * W[r]", "P: 16, R: 3", "I", 0,
     {{"P", -1}, {"R", 1}}, 2, 20, 18, 5},
    /* repeated rank terms combine; integer products fold: 2*p*3 = 6p */
    {"O[p] += I[2*p + p + r] * W[r]", "P: 16, R: 3", "I", 0,
     {{"P", 3}, {"R", 1}}, 2, 0, 48, 0},
    {"O[p] += I[2*p*3 + r] * W[r]", "P: 4, R: 3", "I", 0,
     {{"P", 6}, {"R", 1}}, 2, 0, 21, 0},
    /* a constant-only dimension has extent 1 */
    {"O[p] += I[p+r, 2] * W[r]", "P: 16, R: 3", "I", 1,
     {{NULL, 0}}, 0, 2, 1, 2},
    /* a plain output index */
    {"O[p] += I[p+r] * W[r]", "P: 16, R: 3", "O", 0,
     {{"P", 1}}, 1, 0, 16, 0},
};

START_TEST(affine_projection) {
    const affine_case *c = &affine_cases[_i];
    ut_fx f;
    ut_init(&f);
    ef_workload *w = build_ok(&f, c->einsum, c->ranks, "");
    const ef_einsum *e = &w->einsums[0];
    const ef_operand *op = strcmp(c->tensor, "O") == 0 ? &e->output
                                                       : input(w, e, c->tensor);
    ck_assert_int_gt(op->dims, c->dim);
    const ef_affine *a = &op->index[c->dim];
    ck_assert_msg(a->term_count == c->term_count, "%s: %d terms, expected %d",
                  c->einsum, a->term_count, c->term_count);
    for (int k = 0; k < c->term_count; k++)
        ck_assert_msg(coef(w, a, c->terms[k].rank) == c->terms[k].coef,
                      "%s: coefficient of %s is %lld, expected %lld", c->einsum,
                      c->terms[k].rank, (long long)coef(w, a, c->terms[k].rank),
                      (long long)c->terms[k].coef);
    ck_assert_int_eq(a->constant, c->constant);
    const ef_tensor *t = &w->tensors[op->tensor];
    ck_assert_msg(t->extent[c->dim] == c->extent, "%s: extent %lld, expected %lld",
                  c->einsum, (long long)t->extent[c->dim], (long long)c->extent);
    ck_assert_int_eq(t->offset[c->dim], c->offset);
    ut_free(&f);
}
END_TEST

/* ---------- tensor shapes and padding ---------- */

typedef struct {
    const char *einsum, *ranks, *extra;
    const char *tensor;
    int dims;
    int64_t extent[4], offset[4], before[4], after[4];
    uint64_t words;
} shape_case;

/* Extents by hand: the positions the index covers (hi - lo + 1) minus
 * the padding before and after; offset = lowest position + before. */
static const shape_case shape_cases[] = {
    /* P=16, R=3: P+R-1 = 18 */
    {"O[p] += I[p+r] * W[r]", "P: 16, R: 3", "", "I", 1, {18}, {0}, {0}, {0}, 18},
    /* stride 2: 2*(P-1) + R = 33 */
    {"O[p] += I[p*2+r] * W[r]", "P: 16, R: 3", "", "I", 1, {33}, {0}, {0}, {0}, 33},
    /* padding 1: 18 - 2 = 16, stored index = p + r - 1 */
    {"O[p] += I[p+r] * W[r]", "P: 16, R: 3", "padding: {I: [1]}\n", "I", 1, {16}, {1},
     {1}, {1}, 16},
    /* stride 2 and padding 2: 33 - 4 */
    {"O[p] += I[p*2+r] * W[r]", "P: 16, R: 3", "padding: {I: [2]}\n", "I", 1, {29}, {2},
     {2}, {2}, 29},
    /* 2-D: (4+3-1 - 2) x (5+2-1) */
    {"O[p,q] += I[p+r, q+s] * W[r,s]", "P: 4, Q: 5, R: 3, S: 2",
     "padding: {I: [1, 0]}\n", "I", 2, {4, 6}, {1, 0}, {1, 0}, {1, 0}, 24},
    /* the filter is unaffected: R x S */
    {"O[p,q] += W[r,s] * I[p+r, q+s]", "P: 4, Q: 5, R: 3, S: 2", "", "W", 2,
     {3, 2}, {0, 0}, {0, 0}, {0, 0}, 6},
    /* ResNet-50 conv1, 7x7 stride 2, 112 outputs from a 224 input:
     * p*2+r covers 0 .. 2*111+6 = 228, 229 positions; symmetric 3 would
     * store 223, [3, 2] stores 229 - 3 - 2 = 224, from position 3 */
    {"O[p] += I[p*2+r] * F[r]", "P: 112, R: 7", "padding: {I: [[3, 2]]}\n", "I", 1,
     {224}, {3}, {3}, {2}, 224},
    {"O[p] += I[p*2+r] * F[r]", "P: 112, R: 7", "padding: {I: [3]}\n", "I", 1,
     {223}, {3}, {3}, {3}, 223},
    /* the whole conv1: N=1, C=3, 224 x 224 stored: 3 * 224 * 224 */
    {"O[n,m,p,q] += I[n,c,p*2+r,q*2+s] * F[m,c,r,s]",
     "N: 1, M: 64, C: 3, P: 112, Q: 112, R: 7, S: 7",
     "padding: {I: [0, 0, [3, 2], [3, 2]]}\n", "I", 4, {1, 3, 224, 224},
     {0, 0, 3, 3}, {0, 0, 3, 3}, {0, 0, 2, 2}, 150528},
    /* 3x3 stride 2, 28 outputs from 56 (ResNet v1.5 conv3_1): p*2+r
     * covers 0 .. 56, 57 positions; [1, 0] stores 56 from position 1 */
    {"O[p] += I[p*2+r] * F[r]", "P: 28, R: 3", "padding: {I: [[1, 0]]}\n", "I", 1,
     {56}, {1}, {1}, {0}, 56},
    /* the same with all padding after (TensorFlow's "SAME"): from 0 */
    {"O[p] += I[p*2+r] * F[r]", "P: 28, R: 3", "padding: {I: [[0, 1]]}\n", "I", 1,
     {56}, {0}, {0}, {1}, 56},
    /* a pair and an integer on different dimensions: 3 - 1 and 6 - 2 */
    {"O[p,q] += I[p+r, q+s] * W[r,s]", "P: 2, Q: 5, R: 2, S: 2",
     "padding: {I: [[0, 1], 1]}\n", "I", 2, {2, 4}, {0, 1}, {0, 1}, {1, 1}, 8},
};

START_TEST(tensor_shape) {
    const shape_case *c = &shape_cases[_i];
    ut_fx f;
    ut_init(&f);
    ef_workload *w = build_ok(&f, c->einsum, c->ranks, c->extra);
    const ef_tensor *t = &w->tensors[tensor(w, c->tensor)];
    ck_assert_int_eq(t->dims, c->dims);
    for (int d = 0; d < c->dims; d++) {
        ck_assert_msg(t->extent[d] == c->extent[d], "case %d dim %d: extent %lld, expected %lld",
                      _i, d, (long long)t->extent[d], (long long)c->extent[d]);
        ck_assert_int_eq(t->offset[d], c->offset[d]);
        ck_assert_int_eq(t->pad_before[d], c->before[d]);
        ck_assert_int_eq(t->pad_after[d], c->after[d]);
        ck_assert_int_eq(t->pad[d], c->before[d] + c->after[d]);
    }
    ck_assert_uint_eq(t->words, c->words);
    ck_assert_int_eq(t->bits, 8); /* default precision */
    ck_assert_int_eq(t->producer, -1);
    ck_assert_int_eq(w->tensors[w->einsums[0].output.tensor].producer, 0);
    ut_free(&f);
}
END_TEST

/* Stored flat index of an element, or -1 in the padding: P=16, R=3,
 * padding 1 → stored = p + r - 1 in [0, 16). */
START_TEST(operand_word_padding) {
    ut_fx f;
    ut_init(&f);
    ef_workload *w = build_ok(&f, "O[p] += I[p+r] * W[r]", "P: 16, R: 3",
                              "padding: {I: [1]}\n");
    const ef_einsum *e = &w->einsums[0];
    const ef_operand *I = input(w, e, "I");
    int P = ut_rank(w, "P"), R = ut_rank(w, "R");
    for (int p = 0; p < 16; p++)
        for (int r = 0; r < 3; r++) {
            int64_t x[EF_MAX_RANKS] = {0};
            x[P] = p;
            x[R] = r;
            int64_t want = p + r - 1;
            if (want < 0 || want >= 16) want = -1;
            ck_assert_int_eq(ef_operand_word(w, I, x), want);
            ck_assert_int_eq(ef_operand_word(w, &e->output, x), p);
        }
    ut_free(&f);
}
END_TEST

/* Per-side padding [3, 2] on ResNet-50's conv1 window: stored =
 * p*2 + r - 3 in [0, 224); positions -3..-1 and 224..225 are padding. */
START_TEST(operand_word_padding_pair) {
    ut_fx f;
    ut_init(&f);
    ef_workload *w = build_ok(&f, "O[p] += I[p*2+r] * F[r]", "P: 112, R: 7",
                              "padding: {I: [[3, 2]]}\n");
    const ef_operand *I = input(w, &w->einsums[0], "I");
    int P = ut_rank(w, "P"), R = ut_rank(w, "R");
    int stored = 0, padded = 0;
    for (int p = 0; p < 112; p++)
        for (int r = 0; r < 7; r++) {
            int64_t x[EF_MAX_RANKS] = {0};
            x[P] = p;
            x[R] = r;
            int64_t want = p * 2 + r - 3;
            if (want < 0 || want >= 224) want = -1;
            ck_assert_int_eq(ef_operand_word(w, I, x), want);
            if (want < 0) padded++;
            else stored++;
        }
    /* padding hit by (p, r) = (0, 0..2), (1, 0) and (111, 5..6) */
    ck_assert_int_eq(padded, 6);
    ck_assert_int_eq(stored, 112 * 7 - 6);
    ut_free(&f);
}
END_TEST

/* 2-D, row-major: I[p+r-1, q+s] with extents 4 x 6. */
START_TEST(operand_word_2d) {
    ut_fx f;
    ut_init(&f);
    ef_workload *w = build_ok(&f, "O[p,q] += I[p+r, q+s] * W[r,s]",
                              "P: 4, Q: 5, R: 3, S: 2", "padding: {I: [1, 0]}\n");
    const ef_einsum *e = &w->einsums[0];
    const ef_operand *I = input(w, e, "I");
    int rp = ut_rank(w, "P"), rq = ut_rank(w, "Q"), rr = ut_rank(w, "R"),
        rs = ut_rank(w, "S");
    for (int p = 0; p < 4; p++)
        for (int q = 0; q < 5; q++)
            for (int r = 0; r < 3; r++)
                for (int s = 0; s < 2; s++) {
                    int64_t x[EF_MAX_RANKS] = {0};
                    x[rp] = p, x[rq] = q, x[rr] = r, x[rs] = s;
                    int64_t row = p + r - 1, col = q + s;
                    int64_t want = row < 0 || row >= 4 ? -1 : row * 6 + col;
                    ck_assert_int_eq(ef_operand_word(w, I, x), want);
                    ck_assert_int_eq(ef_operand_word(w, &e->output, x), p * 5 + q);
                }
    ut_free(&f);
}
END_TEST

/* ---------- operators and the MAC flag ---------- */

static const struct {
    const char *einsum, *ranks;
    ef_reduce reduce;
    bool is_mac;
    int inputs;
} op_cases[] = {
    {"O[p] += I[p+r] * W[r]", "P: 4, R: 3", EF_REDUCE_SUM, true, 2},
    {"O[p] += (I[p+r] * W[r])", "P: 4, R: 3", EF_REDUCE_SUM, true, 2},
    {"O[p] = I[p] * W[p]", "P: 4", EF_REDUCE_NONE, false, 2},
    {"O[p] max= I[p+r] * W[r]", "P: 4, R: 3", EF_REDUCE_MAX, false, 2},
    {"O[p] max= I[p,r]", "P: 4, R: 3", EF_REDUCE_MAX, false, 1},
    {"O[p] += I[p+r]", "P: 4, R: 3", EF_REDUCE_SUM, false, 1},
    {"O[p] += I[p+r] + W[r]", "P: 4, R: 3", EF_REDUCE_SUM, false, 2},
    {"O[p] += I[p+r] * W[r] * 2", "P: 4, R: 3", EF_REDUCE_SUM, false, 2},
    {"O[p] = exp(I[p])", "P: 4", EF_REDUCE_NONE, false, 1},
};

START_TEST(operators) {
    ut_fx f;
    ut_init(&f);
    ef_workload *w = build_ok(&f, op_cases[_i].einsum, op_cases[_i].ranks, "");
    const ef_einsum *e = &w->einsums[0];
    ck_assert_int_eq(e->reduce, op_cases[_i].reduce);
    ck_assert_msg(e->is_mac == op_cases[_i].is_mac, "%s: is_mac %d",
                  op_cases[_i].einsum, e->is_mac);
    ck_assert_int_eq(e->input_count, op_cases[_i].inputs);
    ck_assert_str_eq(w->tensors[e->output.tensor].name, "O");
    ut_free(&f);
}
END_TEST

/* ---------- expression trees ---------- */

/* Prefix rendering of a tree, written independently of the parser:
 * binary ops as op(a,b), refs by tensor name, numbers with %g. */
static void render(const ef_workload *w, const ef_einsum *e, int node, char *buf,
                   size_t cap) {
    ck_assert_int_ge(node, 0);
    ck_assert_int_lt(node, e->node_count);
    const ef_expr_node *n = &e->nodes[node];
    char l[256] = "", r[256] = "";
    switch (n->kind) {
    case EF_EXPR_REF:
        ck_assert_int_ge(n->operand, 0);
        ck_assert_int_lt(n->operand, e->input_count);
        snprintf(buf, cap, "%s", w->tensors[e->inputs[n->operand].tensor].name);
        return;
    case EF_EXPR_NUM: snprintf(buf, cap, "%g", n->number); return;
    case EF_EXPR_NEG: render(w, e, n->left, l, sizeof l); snprintf(buf, cap, "neg(%s)", l); return;
    case EF_EXPR_EXP: render(w, e, n->left, l, sizeof l); snprintf(buf, cap, "exp(%s)", l); return;
    default: break;
    }
    const char *op = n->kind == EF_EXPR_ADD ? "+" : n->kind == EF_EXPR_SUB ? "-"
                   : n->kind == EF_EXPR_MUL ? "*" : n->kind == EF_EXPR_DIV ? "/"
                   : n->kind == EF_EXPR_MAX ? "max" : "?";
    render(w, e, n->left, l, sizeof l);
    render(w, e, n->right, r, sizeof r);
    snprintf(buf, cap, "%s(%s,%s)", op, l, r);
}

static const struct { const char *einsum, *tree; } tree_cases[] = {
    {"Y[p] = A[p] + B[p] * C[p]", "+(A,*(B,C))"},
    {"Y[p] = (A[p] + B[p]) * C[p]", "*(+(A,B),C)"},
    {"Y[p] = A[p] - B[p] - C[p]", "-(-(A,B),C)"},
    {"Y[p] = A[p] - (B[p] - C[p])", "-(A,-(B,C))"},
    {"Y[p] = A[p] / B[p] * C[p]", "*(/(A,B),C)"},
    {"Y[p] = A[p] * B[p] / C[p] + D[p]", "+(/(*(A,B),C),D)"},
    {"Y[p] = exp(A[p] - B[p]) / C[p]", "/(exp(-(A,B)),C)"},
    {"Y[p] = max(A[p], B[p] * 2) - -C[p]", "-(max(A,*(B,2)),neg(C))"},
    {"Y[p] = -A[p] * B[p]", "*(neg(A),B)"},
    {"Y[p] = max(exp(A[p]), 0.5)", "max(exp(A),0.5)"},
    {"Y[p] = A[p] + 2 * (B[p] - 1)", "+(A,*(2,-(B,1)))"},
    {"Y[p] = A[p] * A[p]", "*(A,A)"},
};

START_TEST(expression_tree) {
    ut_fx f;
    ut_init(&f);
    ef_workload *w = build_ok(&f, tree_cases[_i].einsum, "P: 4", "");
    const ef_einsum *e = &w->einsums[0];
    char buf[512];
    render(w, e, e->root, buf, sizeof buf);
    ck_assert_str_eq(buf, tree_cases[_i].tree);
    /* each distinct tensor is one input operand */
    int distinct = 0;
    const char *names[] = {"A", "B", "C", "D"};
    for (size_t i = 0; i < UT_LEN(names); i++)
        distinct += strstr(tree_cases[_i].tree, names[i]) != NULL;
    ck_assert_int_eq(e->input_count, distinct);
    ut_free(&f);
}
END_TEST

/* ---------- the attention cascade of DESIGN.md ---------- */

static const char *ATTENTION =
    "name: attention\n"
    "einsums:\n"
    "  - \"QK[b,h,m,p] += Q[b,h,p,e] * K[b,h,m,e]\"\n"
    "  - \"MX[b,h,p] max= QK[b,h,m,p]\"\n"
    "  - \"SN[b,h,m,p] = exp(QK[b,h,m,p] - MX[b,h,p])\"\n"
    "  - \"SD[b,h,p] += SN[b,h,m,p]\"\n"
    "  - \"A[b,h,m,p] = SN[b,h,m,p] / SD[b,h,p]\"\n"
    "  - \"AV[b,h,p,f] += A[b,h,m,p] * V[b,h,m,f]\"\n"
    "ranks: {B: 1, H: 2, M: 4, P: 3, E: 5, F: 6}\n";

START_TEST(attention_cascade) {
    static const struct {
        const char *out, *in[2];
        int inputs;
        ef_reduce reduce;
        bool is_mac;
        const char *tree;
    } want[] = {
        {"QK", {"Q", "K"}, 2, EF_REDUCE_SUM, true, "*(Q,K)"},
        {"MX", {"QK"}, 1, EF_REDUCE_MAX, false, "QK"},
        {"SN", {"QK", "MX"}, 2, EF_REDUCE_NONE, false, "exp(-(QK,MX))"},
        {"SD", {"SN"}, 1, EF_REDUCE_SUM, false, "SN"},
        {"A", {"SN", "SD"}, 2, EF_REDUCE_NONE, false, "/(SN,SD)"},
        {"AV", {"A", "V"}, 2, EF_REDUCE_SUM, true, "*(A,V)"},
    };
    ut_fx f;
    ut_init(&f);
    ef_workload *w = ut_workload(&f, ATTENTION);
    if (!w) {
        char *s = ut_render(&f);
        ck_abort_msg("attention should parse:\n%s", s);
        free(s);
    }
    ck_assert_int_eq(w->einsum_count, 6);
    for (int i = 0; i < 6; i++) {
        const ef_einsum *e = &w->einsums[i];
        ck_assert_str_eq(w->tensors[e->output.tensor].name, want[i].out);
        ck_assert_int_eq(e->input_count, want[i].inputs);
        for (int k = 0; k < want[i].inputs; k++)
            ck_assert_str_eq(w->tensors[e->inputs[k].tensor].name, want[i].in[k]);
        ck_assert_int_eq(e->reduce, want[i].reduce);
        ck_assert_int_eq(e->is_mac, want[i].is_mac);
        char buf[256];
        render(w, e, e->root, buf, sizeof buf);
        ck_assert_str_eq(buf, want[i].tree);
        ck_assert_int_eq(w->tensors[e->output.tensor].producer, i);
        ck_assert_int_eq(e->loc.line, 3 + i);
    }
    /* inputs of the cascade; 9 tensors in all */
    ck_assert_int_eq(w->tensors[tensor(w, "Q")].producer, -1);
    ck_assert_int_eq(w->tensors[tensor(w, "K")].producer, -1);
    ck_assert_int_eq(w->tensors[tensor(w, "V")].producer, -1);
    ck_assert_int_eq(w->tensor_count, 9);
    /* shapes: QK is B x H x M x P = 1 x 2 x 4 x 3; MX is B x H x P */
    const ef_tensor *qk = &w->tensors[tensor(w, "QK")];
    ck_assert_int_eq(qk->dims, 4);
    ck_assert_uint_eq(qk->words, 24);
    ck_assert_uint_eq(w->tensors[tensor(w, "MX")].words, 6);
    ck_assert_uint_eq(w->tensors[tensor(w, "AV")].words, 1 * 2 * 3 * 6);
    /* rank use: QK's Einsum uses b,h,m,p,e but not f */
    ck_assert(w->einsums[0].rank_used[ut_rank(w, "E")]);
    ck_assert(!w->einsums[0].rank_used[ut_rank(w, "F")]);
    ck_assert(w->einsums[5].rank_used[ut_rank(w, "F")]);
    ck_assert(!w->einsums[5].rank_used[ut_rank(w, "E")]);
    ut_free(&f);
}
END_TEST

/* ---------- errors: exactly one located diagnostic each ---------- */

static const struct {
    const char *einsum, *ranks;
    const char *message_part;  /* a word the message must contain    */
    const char *caret_at;      /* token the column must point at, or NULL */
} error_cases[] = {
    {"O[p] += I[p+x] * W[r]", "P: 4, R: 3", "unknown index", "x]"},
    {"O[p] += I[p+r] * W[r", "P: 4, R: 3", "\"]\"", NULL},
    {"O[p] += I[p+r * W[r]", "P: 4, R: 3", "", NULL},
    {"O[p] += O[p] * W[p]", "P: 4", "right-hand side", NULL},
    {"O[p] = sqrt(I[p])", "P: 4", "unknown function", "sqrt"},
    {"O[p] += I[p*r] * W[r]", "P: 4, R: 3", "affine", NULL},
    {"O[p] I[p]", "P: 4", "", NULL},
    {"O[p] += I[p] * W[p] )", "P: 4", "", NULL},
    {"O[p] = I[p+r] * W[r]", "P: 4, R: 3", "summed", NULL},
    {"O[p] += I[p+r] * I[p]", "P: 4, R: 3", "twice", NULL},
    /* recurrences: only "R[..., r+1, ...] = f(R[..., r, ...], ...)" */
    {"R[m+2,p] = R[m,p] + X[m,p]", "M: 4, P: 4",
     "output R is indexed \"m+2\", but an output dimension may only be a rank letter or, "
     "in a recurrence, a rank plus 1 (r+1: the step after r)", "m+2"},
    {"R[m-1,p] = R[m,p] + X[m,p]", "M: 4, P: 4", "output R is indexed \"m-1\"", "m-1"},
    {"R[m+1,p] += R[m,p] * X[m,p]", "M: 4, P: 4",
     "output R is indexed m+1, a recurrence, which is written with \"=\" (each step "
     "replaces the one before), found \"+=\"", "+="},
    {"R[m+1,p] max= R[m,p]", "M: 4, P: 4", "found \"max=\"", "max="},
    {"R[m+1,p+1] = R[m,p] + X[m,p]", "M: 4, P: 4",
     "output R is indexed \"p+1\" after another dimension indexed r+1; a recurrence steps "
     "along one rank only", "p+1"},
    {"R[m+1,p] = R[m,p+1] + X[m,p]", "M: 4, P: 4",
     "a recurrence reads its output one step back at the same other indices: expected "
     "R[m,p], found \"R[m,p+1]\"", "R[m,p+1]"},
    {"R[m+1,p] = R[p,m] + X[m,p]", "M: 4, P: 4", "expected R[m,p], found \"R[p,m]\"",
     "R[p,m]"},
    {"R[m+1,p] = X[m,p]", "M: 4, P: 4",
     "output R is indexed m+1, a recurrence, but the right-hand side never reads R[m,p], "
     "the step before", "= X"},
    {"R[m,p] = R[m,p] + X[m,p]", "M: 4, P: 4",
     "output R also appears on the right-hand side; only a recurrence may read its output "
     "(index one output dimension r+1 and read it at r)", "R[m,p] +"},
};

START_TEST(parse_errors) {
    ut_fx f;
    ut_init(&f);
    char *y = workload_yaml(error_cases[_i].einsum, error_cases[_i].ranks, "");
    ef_workload *w = ut_workload(&f, y);
    char *all = ut_render(&f);
    ck_assert_msg(w == NULL, "\"%s\" should be rejected", error_cases[_i].einsum);
    ck_assert_ptr_nonnull(f.wspec); /* the YAML itself is fine */
    ck_assert_msg(f.diags->count == 1, "\"%s\": %zu diagnostics, expected 1:\n%s",
                  error_cases[_i].einsum, f.diags->count, all);
    const ef_diag *d = &f.diags->items[0];
    ck_assert_msg(d->line == EINSUM_LINE, "\"%s\": line %d, expected %d:\n%s",
                  error_cases[_i].einsum, d->line, EINSUM_LINE, all);
    ck_assert_msg(strstr(d->message, error_cases[_i].message_part) != NULL,
                  "\"%s\": message lacks \"%s\":\n%s", error_cases[_i].einsum,
                  error_cases[_i].message_part, all);
    ck_assert_str_eq(d->file, f.workload_path);
    if (error_cases[_i].caret_at) {
        /* column of the offending token in the YAML line (1-based) */
        const char *line = strstr(y, "  - \"");
        const char *tok = strstr(line, error_cases[_i].caret_at);
        int col = (int)(tok - line) + 1;
        ck_assert_msg(d->col == col, "\"%s\": column %d, expected %d:\n%s",
                      error_cases[_i].einsum, d->col, col, all);
    }
    free(all);
    free(y);
    ut_free(&f);
}
END_TEST

/* ---------- recurrences ---------- */

/* R steps along M: written at m+1, read at m, so it stores M+1 = 5
 * steps (0 the initial value); a later Einsum reads the last step at
 * the bound, R[h,M,p], a constant index 4. */
static const char *RECURRENCE =
    "name: r\n"
    "einsums:\n"
    "  - \"R[h,m+1,p] = max(R[h,m,p], X[h,m,p])\"\n"
    "  - \"Y[h,p] = R[h,M,p] * 2\"\n"
    "ranks: {H: 2, M: 4, P: 3}\n";

START_TEST(recurrence_accepted) {
    for (int with_init = 0; with_init < 2; with_init++) {
        ut_fx f;
        ut_init(&f);
        char *y = ut_fmt("%s%s", RECURRENCE, with_init ? "init: {R: -inf}\n" : "");
        ef_workload *w = ut_workload(&f, y);
        if (!w) {
            char *all = ut_render(&f);
            ck_abort_msg("the recurrence should parse:\n%s", all);
        }
        const ef_einsum *e = &w->einsums[0];
        int R = tensor(w, "R");
        ck_assert_int_eq(e->recurrence_rank, ut_rank(w, "M"));
        ck_assert_int_eq(e->recurrence_dim, 1);
        ck_assert_int_eq(e->inputs[e->recurrence_input].tensor, R);
        ck_assert_int_eq(e->output.tensor, R);
        ck_assert_int_eq(e->reduce, EF_REDUCE_NONE);
        ck_assert(!e->is_mac);
        /* the output's step index is m + 1, the read's m */
        ck_assert_int_eq(e->output.index[1].constant, 1);
        ck_assert_int_eq(coef(w, &e->output.index[1], "M"), 1);
        ck_assert_int_eq(e->inputs[e->recurrence_input].index[1].constant, 0);
        const ef_tensor *t = &w->tensors[R];
        ck_assert_int_eq(t->dims, 3);
        ck_assert_int_eq(t->recurrence_dim, 1);
        ck_assert_int_eq(t->extent[0], 2);
        ck_assert_int_eq(t->extent[1], 5);
        ck_assert_int_eq(t->extent[2], 3);
        ck_assert_int_eq(t->offset[1], 0);
        ck_assert_uint_eq(t->words, 2 * 5 * 3);
        ck_assert(with_init ? isinf(t->init) && t->init < 0 : t->init == 0);
        /* every other tensor and Einsum is no recurrence */
        ck_assert_int_eq(w->tensors[tensor(w, "X")].recurrence_dim, -1);
        ck_assert_int_eq(w->tensors[tensor(w, "Y")].recurrence_dim, -1);
        const ef_einsum *e1 = &w->einsums[1];
        ck_assert_int_eq(e1->recurrence_rank, -1);
        ck_assert_int_eq(e1->recurrence_input, -1);
        const ef_operand *last = input(w, e1, "R");
        ck_assert_int_eq(last->index[1].term_count, 0);
        ck_assert_int_eq(last->index[1].constant, 4);
        ck_assert_int_eq(ef_operand_word(w, last, (int64_t[EF_MAX_RANKS]){1, 0, 2}),
                         (1 * 5 + 4) * 3 + 2);
        free(y);
        ut_free(&f);
    }
}
END_TEST

/* init: names recurrence tensors only; each mistake is located at its
 * key with what is wrong, the rest still reported. */
START_TEST(recurrence_init_errors) {
    ut_fx f;
    ut_init(&f);
    char *y = ut_fmt("%s%s", RECURRENCE, "init: {RR: -inf, X: 1, Y: 2, R: 0.5}\n");
    ck_assert_ptr_null(ut_workload(&f, y));
    char *all = ut_render(&f);
    ck_assert_msg(f.diags->count == 3, "%zu diagnostics:\n%s", f.diags->count, all);
    static const struct { const char *path, *message, *hint; int col; } want[] = {
        {"init.RR", "unknown tensor \"RR\": the Einsums use R, X, Y", "did you mean \"R\"?", 8},
        {"init.X",
         "tensor X has no initial value to give: init: sets step 0 of a recurrence's tensor "
         "(one written at r+1 and read at r), and X is an input of the workload",
         "an input's values come from --seed", 18},
        {"init.Y",
         "tensor Y has no initial value to give: init: sets step 0 of a recurrence's tensor "
         "(one written at r+1 and read at r), and Y is written whole by its Einsum", NULL, 24},
    };
    for (int i = 0; i < 3; i++) {
        const ef_diag *d = &f.diags->items[i];
        ck_assert_str_eq(d->path, want[i].path);
        ck_assert_str_eq(d->message, want[i].message);
        if (want[i].hint) ck_assert_str_eq(d->hint, want[i].hint);
        ck_assert_int_eq(d->line, 6);
        ck_assert_int_eq(d->col, want[i].col);
    }
    free(all);
    free(y);
    ut_free(&f);
    /* a value that is no number */
    ut_init(&f);
    y = ut_fmt("%s%s", RECURRENCE, "init: {R: minus_inf}\n");
    ck_assert_ptr_null(ut_workload(&f, y));
    ck_assert_int_eq(f.diags->count, 1);
    ck_assert_str_eq(f.diags->items[0].message,
                     "expected a number, inf or -inf, found \"minus_inf\"");
    free(y);
    ut_free(&f);
}
END_TEST

/* A later read outside the stored steps (M+1 is step 5 of 0..4). */
START_TEST(recurrence_read_outside_steps) {
    ut_fx f;
    ut_init(&f);
    ck_assert_ptr_null(ut_workload(&f, "name: r\neinsums:\n"
                                       "  - \"R[m+1,p] = max(R[m,p], X[m,p])\"\n"
                                       "  - \"Y[p] = R[M+1,p]\"\n"
                                       "ranks: {M: 4, P: 3}\n"));
    ck_assert_int_eq(f.diags->count, 1);
    ck_assert_int_eq(f.diags->items[0].line, 4);
    ck_assert_str_eq(f.diags->items[0].message,
                     "tensor R is read at indices 5..5 of its dimension 0, outside its steps "
                     "0..4 (0 the initial value, then one per step of the recurrence that "
                     "writes it)");
    ut_free(&f);
}
END_TEST

/* Errors are collected: two bad Einsums give two diagnostics, each at
 * its own line. */
START_TEST(errors_collected) {
    ut_fx f;
    ut_init(&f);
    ef_workload *w = ut_workload(&f, "name: t\n"
                                     "einsums:\n"
                                     "  - \"O[p] += I[p+x] * W[r]\"\n"
                                     "  - \"Z[p] = foo(O[p])\"\n"
                                     "ranks: {P: 4, R: 3}\n");
    char *all = ut_render(&f);
    ck_assert_ptr_null(w);
    ck_assert_msg(f.diags->count == 2, "%zu diagnostics:\n%s", f.diags->count, all);
    ck_assert_int_eq(f.diags->items[0].line, 3);
    ck_assert_int_eq(f.diags->items[1].line, 4);
    free(all);
    ut_free(&f);
}
END_TEST

/* Padding that leaves nothing stored is reported at the padding entry,
 * with the dimension in the key path. p+r covers 3 positions here. */
START_TEST(padding_leaves_nothing) {
    static const struct {
        const char *padding, *message;
    } cases[] = {
        {"padding: {I: [[2, 1]]}\n",
         "padding 2 before + 1 after leaves no stored element: dimension 0 of I "
         "covers only 3 positions"},
        {"padding: {I: [2]}\n",
         "padding 2 before + 2 after leaves no stored element: dimension 0 of I "
         "covers only 3 positions"},
    };
    for (size_t i = 0; i < UT_LEN(cases); i++) {
        ut_fx f;
        ut_init(&f);
        char *y = workload_yaml("O[p] += I[p+r] * W[r]", "P: 2, R: 2", cases[i].padding);
        ck_assert_ptr_null(ut_workload(&f, y));
        char *all = ut_render(&f);
        ck_assert_msg(f.diags->count == 1, "%zu diagnostics:\n%s", f.diags->count, all);
        const ef_diag *d = &f.diags->items[0];
        ck_assert_str_eq(d->message, cases[i].message);
        ck_assert_str_eq(d->path, "padding.I[0]");
        ck_assert_int_eq(d->line, EINSUM_LINE + 2); /* name, einsums, E, ranks, padding */
        ck_assert_int_eq(d->col, 11);                /* the key I */
        free(all);
        free(y);
        ut_free(&f);
    }
}
END_TEST

/* ef_einsum_parse directly: ranks looked up by letter, no file. */
START_TEST(parse_direct) {
    ef_workload *w = calloc(1, sizeof *w);
    ck_assert_ptr_nonnull(w);
    w->rank_count = 2;
    strcpy(w->rank_names[0], "P");
    strcpy(w->rank_names[1], "R");
    w->rank_bounds[0] = 16;
    w->rank_bounds[1] = 3;
    ef_diags *d = ef_diags_create();
    ef_einsum e;
    ef_loc loc = {NULL, 0, 0};
    ck_assert_int_eq(ef_einsum_parse(w, "O[p] += I[p*2+r] * W[r]", loc, &e, d), EF_OK);
    ck_assert_int_eq(d->count, 0);
    ck_assert_int_eq(w->tensor_count, 3);
    ck_assert_int_eq(e.input_count, 2);
    ck_assert_int_eq(e.inputs[0].index[0].term_count, 2);
    ck_assert(e.is_mac);
    ck_assert(e.rank_used[0] && e.rank_used[1]);
    ef_einsum e2;
    ck_assert_int_ne(ef_einsum_parse(w, "O[p] += I[p+q] * W[r]", loc, &e2, d), EF_OK);
    ck_assert_int_eq(d->count, 1);
    ef_diags_destroy(d);
    ef_workload_destroy(w);
}
END_TEST

/* Rank roles, derived by hand from which operands each rank indexes
 * (input = first, weight = second, unless only the second is read
 * through a window) and whether it sits in a window. */
typedef struct {
    const char *einsum, *ranks;
    const char *expect; /* "P=out_pixel.0 R=filter_tap.0 ..." */
} role_case;

static const role_case role_cases[] = {
    {"O[n,m,p,q] += I[n,c,p+r,q+s] * F[m,c,r,s]",
     "{N: 2, M: 4, C: 3, P: 5, Q: 5, R: 3, S: 3}",
     "N=batch M=out_channel C=in_channel P=out_pixel.0 Q=out_pixel.1 R=filter_tap.0 S=filter_tap.1"},
    /* strided, dilated: still windows */
    {"O[m,p] += I[c,p*2+r*3] * F[m,c,r]", "{M: 2, C: 2, P: 4, R: 3}",
     "M=out_channel C=in_channel P=out_pixel.0 R=filter_tap.0"},
    /* the filter written first: the windowed operand is the input */
    {"O[m,p,q] += F[m,c,r,s] * I[c,p+r,q+s]", "{M: 4, C: 3, P: 5, Q: 5, R: 3, S: 3}",
     "M=out_channel C=in_channel P=out_pixel.0 Q=out_pixel.1 R=filter_tap.0 S=filter_tap.1"},
    /* FC and GEMM: no windows */
    {"O[n,m] += I[n,c] * F[m,c]", "{N: 1, M: 10, C: 8}", "N=batch M=out_channel C=in_channel"},
    {"Z[m,n] += A[m,k] * B[k,n]", "{M: 4, N: 5, K: 6}", "M=batch N=out_channel K=in_channel"},
    /* depthwise and grouped convolutions: G indexes all three */
    {"O[n,g,p,q] += I[n,g,p+r,q+s] * F[g,r,s]", "{N: 1, G: 8, P: 4, Q: 4, R: 3, S: 3}",
     "N=batch G=group P=out_pixel.0 Q=out_pixel.1 R=filter_tap.0 S=filter_tap.1"},
    {"O[n,g,m,p] += I[n,g,c,p+r] * F[g,m,c,r]", "{N: 1, G: 2, M: 4, C: 3, P: 4, R: 3}",
     "N=batch G=group M=out_channel C=in_channel P=out_pixel.0 R=filter_tap.0"},
    /* attention's QK: b, h index everything; e is reduced */
    {"QK[b,h,m,p] += Q[b,h,p,e] * K[b,h,m,e]", "{B: 1, H: 2, M: 4, P: 4, E: 8}",
     "B=group H=group M=out_channel P=batch E=in_channel"},
    /* one operand: a rank only the input has is "other" */
    {"SD[b,p] += SN[b,m,p]", "{B: 1, M: 4, P: 4}", "B=batch M=other P=batch"},
};

START_TEST(rank_roles) {
    const role_case *c = &role_cases[_i];
    char *yaml = ut_fmt("name: t\neinsums: [\"%s\"]\nranks: %s\n", c->einsum, c->ranks);
    ut_fx f;
    ut_init(&f);
    ef_workload *w = ut_workload(&f, yaml);
    ck_assert_ptr_nonnull(w);
    uint32_t bits[EF_MAX_RANKS];
    ef_einsum_rank_roles(w, &w->einsums[0], bits);
    char got[512] = "";
    size_t len = 0;
    for (int r = 0; r < w->rank_count; r++) {
        int role = -1, axis = 0;
        for (int k = 0; k < EF_ROLE_COUNT * EF_ROLE_AXES; k++)
            if (bits[r] >> k & 1u) {
                role = k / EF_ROLE_AXES;
                axis = k % EF_ROLE_AXES;
            }
        ck_assert_int_ge(role, 0);
        bool windowed = role == EF_ROLE_OUT_PIXEL || role == EF_ROLE_FILTER_TAP;
        len += (size_t)snprintf(got + len, sizeof got - len, "%s%s=%s", len ? " " : "",
                                w->rank_names[r], ef_rank_role_name((ef_rank_role)role));
        if (windowed) len += (size_t)snprintf(got + len, sizeof got - len, ".%d", axis);
    }
    ck_assert_str_eq(got, c->expect);
    ut_free(&f);
    free(yaml);
}
END_TEST

static Suite *einsum_suite(void) {
    Suite *s = suite_create("einsum");
    TCase *tc = tcase_create("parse");
    tcase_add_loop_test(tc, affine_projection, 0, (int)UT_LEN(affine_cases));
    tcase_add_loop_test(tc, tensor_shape, 0, (int)UT_LEN(shape_cases));
    tcase_add_test(tc, operand_word_padding);
    tcase_add_test(tc, operand_word_padding_pair);
    tcase_add_test(tc, operand_word_2d);
    tcase_add_loop_test(tc, operators, 0, (int)UT_LEN(op_cases));
    tcase_add_loop_test(tc, expression_tree, 0, (int)UT_LEN(tree_cases));
    tcase_add_test(tc, attention_cascade);
    tcase_add_test(tc, recurrence_accepted);
    tcase_add_test(tc, parse_direct);
    tcase_add_loop_test(tc, rank_roles, 0, (int)UT_LEN(role_cases));
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("errors");
    tcase_add_loop_test(te, parse_errors, 0, (int)UT_LEN(error_cases));
    tcase_add_test(te, errors_collected);
    tcase_add_test(te, padding_leaves_nothing);
    tcase_add_test(te, recurrence_init_errors);
    tcase_add_test(te, recurrence_read_outside_steps);
    suite_add_tcase(s, te);
    return s;
}

int main(void) {
    return ut_run_suite(einsum_suite());
}
