/* Evaluates an Einsum's right-hand side at one iteration point, given
 * the values its operands take there; shared by the value check's two
 * sides (the mapped nest and the direct evaluation). */
#include "einflow/einsum.h"

#include <math.h>

double ef_einsum_eval(const ef_einsum *e, int node, const double *operand_values) {
    const ef_expr_node *nd = &e->nodes[node];
    switch (nd->kind) {
    case EF_EXPR_REF: return operand_values[nd->operand];
    case EF_EXPR_NUM: return nd->number;
    case EF_EXPR_ADD:
        return ef_einsum_eval(e, nd->left, operand_values) +
               ef_einsum_eval(e, nd->right, operand_values);
    case EF_EXPR_SUB:
        return ef_einsum_eval(e, nd->left, operand_values) -
               ef_einsum_eval(e, nd->right, operand_values);
    case EF_EXPR_MUL:
        return ef_einsum_eval(e, nd->left, operand_values) *
               ef_einsum_eval(e, nd->right, operand_values);
    case EF_EXPR_DIV:
        return ef_einsum_eval(e, nd->left, operand_values) /
               ef_einsum_eval(e, nd->right, operand_values);
    case EF_EXPR_NEG: return -ef_einsum_eval(e, nd->left, operand_values);
    case EF_EXPR_EXP: return exp(ef_einsum_eval(e, nd->left, operand_values));
    case EF_EXPR_MAX: {
        double a = ef_einsum_eval(e, nd->left, operand_values);
        double b = ef_einsum_eval(e, nd->right, operand_values);
        return a > b ? a : b;
    }
    }
    return 0;
}
