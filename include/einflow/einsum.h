/* einflow einsum stage — parses the workload's Einsum strings into
 * ranks, tensors with affine projections and an operator tree.
 *
 * Input: an ef_workload_spec (spec stage). Output: an ef_workload that
 * the model stage reads; it owns everything it points to and is freed
 * with ef_workload_destroy (NULL accepted). */
#ifndef EINFLOW_EINSUM_H
#define EINFLOW_EINSUM_H

#include "einflow/common.h"
#include "einflow/spec.h"

/* sum of coef[k] * rank[k] + constant; ranks are workload rank ids */
typedef struct {
    int term_count;
    int rank[EF_MAX_RANKS];
    int64_t coef[EF_MAX_RANKS];
    int64_t constant;
} ef_affine;

typedef enum { EF_REDUCE_NONE, EF_REDUCE_SUM, EF_REDUCE_MAX } ef_reduce;

#define EF_EXPR_KINDS(X) \
    X(REF, "ref") X(NUM, "number") X(ADD, "+") X(SUB, "-") X(MUL, "*") \
    X(DIV, "/") X(NEG, "neg") X(EXP, "exp") X(MAX, "max")
typedef enum {
#define X(k, s) EF_EXPR_##k,
    EF_EXPR_KINDS(X)
#undef X
} ef_expr_kind;

typedef struct {
    ef_expr_kind kind;
    int operand;        /* REF: index into the einsum's operand list    */
    double number;      /* NUM                                          */
    int left, right;    /* child node ids; -1 when absent               */
} ef_expr_node;

/* One use of a tensor inside an Einsum, with its projection. */
typedef struct {
    int tensor;                 /* workload tensor id                  */
    int dims;
    ef_affine index[EF_MAX_DIMS];
} ef_operand;

typedef struct {
    char *text;
    ef_loc loc;
    ef_reduce reduce;
    ef_operand output;
    ef_operand inputs[EF_MAX_TENSORS];
    int input_count;
    ef_expr_node nodes[64];
    int node_count;
    int root;
    bool is_mac;          /* output += a * b: counts as MACs             */
    bool rank_used[EF_MAX_RANKS];
    /* A recurrence (docs/spec.md, "Recurrences"): the output is indexed
     * r+1 in one dimension and read on the right-hand side at r, every
     * other index alike, so step r+1 is computed from step r. */
    int recurrence_rank;  /* the rank r, -1 when the Einsum is none     */
    int recurrence_dim;   /* the output dimension indexed r+1, or -1    */
    int recurrence_input; /* the input slot reading step r, or -1       */
} ef_einsum;

typedef struct {
    char name[EF_MAX_NAME];
    int bits;
    int dims;
    int64_t extent[EF_MAX_DIMS];  /* stored words per dimension          */
    int64_t offset[EF_MAX_DIMS];  /* stored index = expression - offset  */
    /* Zero padding in positions of the index expression: pad_before
     * below the stored range (offset = lowest index + pad_before),
     * pad_after above it; pad is their sum, 0 iff the dimension is not
     * padded at all. */
    int64_t pad[EF_MAX_DIMS];
    int64_t pad_before[EF_MAX_DIMS];
    int64_t pad_after[EF_MAX_DIMS];
    uint64_t words;               /* product of extents                  */
    int producer;                 /* einsum writing it, -1 for inputs    */
    /* Written by a recurrence: the dimension it steps along (extent R+1,
     * index 0 its initial value, which no Einsum writes), else -1. */
    int recurrence_dim;
    double init;                  /* the value of every step-0 element:
                                   * the workload's init:, else 0       */
} ef_tensor;

typedef struct {
    char name[EF_MAX_NAME];
    int rank_count;
    char rank_names[EF_MAX_RANKS][EF_MAX_NAME];
    uint64_t rank_bounds[EF_MAX_RANKS];
    int tensor_count;
    ef_tensor tensors[EF_MAX_TENSORS * 4];
    /* a causal mask (spec.h, ef_mask_spec): in the values of an Einsum
     * that uses both ranks, a point with x[mask_key] > x[mask_query] +
     * mask_offset is left out; mask_key -1: none */
    int mask_key, mask_query;
    int64_t mask_offset;
    const ef_workload_spec *spec; /* borrowed; must outlive this        */
    int einsum_count;
    /* as many as the workload has (at most EF_MAX_EINSUMS): an Einsum
     * is some 17 KB, and a sweep builds every layer at every point */
    ef_einsum einsums[];
} ef_workload;

/* Whether Einsum e of w leaves out the point at rank coordinates x
 * (the workload's causal mask). */
static inline bool ef_point_masked(const ef_workload *w, const ef_einsum *e,
                                   const int64_t *x) {
    return w->mask_key >= 0 && e->rank_used[w->mask_key] && e->rank_used[w->mask_query] &&
           x[w->mask_key] > x[w->mask_query] + w->mask_offset;
}

/* Parses and checks every Einsum of spec. NULL with diagnostics on
 * error. spec is borrowed and must outlive the workload. */
ef_workload *ef_einsum_build(const ef_workload_spec *spec, ef_diags *diags);
void ef_workload_destroy(ef_workload *w);

/* Parses one Einsum string against rank names; exposed for tests. */
ef_status ef_einsum_parse(ef_workload *w, const char *text, ef_loc loc,
                          ef_einsum *out, ef_diags *diags);

int ef_workload_tensor_id(const ef_workload *w, const char *name);
int ef_workload_rank_id(const ef_workload *w, const char *name);
/* Whether a and b are the same computation, names and all: ranks and
 * bounds, tensors as stored (precision, extents, padding) and Einsums,
 * and the mask. A mapping of one is a mapping of the other, with the
 * same counts and cycles (a network's repeated layer shapes). */
bool ef_workload_same(const ef_workload *a, const ef_workload *b);

/* Whether output word q (flat index) of e lies where only masked points
 * would write it: the output is indexed by both mask ranks and its key
 * exceeds its query + offset. */
bool ef_output_word_masked(const ef_workload *w, const ef_einsum *e, uint64_t q);

/* Stored flat index of a tensor element from rank coordinates, or -1
 * when the element lies in padding (it reads as zero). */
int64_t ef_operand_word(const ef_workload *w, const ef_operand *op,
                        const int64_t *rank_coord);

/* The right-hand side of e at one point, from node `node` down, given
 * the value of each input operand there (by operand slot). */
double ef_einsum_eval(const ef_einsum *e, int node, const double *operand_values);

/* Which input operand of e plays the weight: the second, unless only
 * the first is free of sliding windows (a convolution written
 * O = F * I); -1 with fewer than two inputs. The other input of the
 * first two is the input. */
int ef_einsum_weight_operand(const ef_einsum *e);

/* The role of every rank of e (spec.h, EF_RANK_ROLES), as one
 * ef_role_bit each; 0 for ranks e does not use. */
void ef_einsum_rank_roles(const ef_workload *w, const ef_einsum *e,
                          uint32_t role_bits[EF_MAX_RANKS]);

/* Evaluates an affine expression at rank coordinates. */
static inline int64_t ef_affine_eval(const ef_affine *a,
                                     const int64_t *rank_coord) {
    int64_t v = a->constant;
    for (int k = 0; k < a->term_count; k++)
        v += a->coef[k] * rank_coord[a->rank[k]];
    return v;
}

#endif
