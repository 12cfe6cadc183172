/* einflow model stage, internal — Einsums computed on the
 * architecture's 1-D vector unit (architecture key vector_unit, mapping
 * key unit: vector).
 *
 * Such an Einsum is built as an ordinary nest against a view of the
 * architecture: its levels from the outermost down to the unit's
 * `from` (same indices), a PE array of one row of `lanes` lanes doing
 * one operation per cycle each, and a multicast network from `from` to
 * the lanes at the unit's bandwidth, without reduction. The engines
 * then need nothing new to count its accesses; what is new is the
 * time a lane spends per point (step interval and latency, from the
 * operators the Einsum uses) and the energy of those operators.
 * docs/model.md ("The vector unit") states the rules. */
#ifndef EF_MODEL_VECTOR_H
#define EF_MODEL_VECTOR_H

#include "einflow/model.h"

/* Called on every nest before its mapping is checked, with arch the
 * declared architecture. When em says unit: vector, checks what only
 * the vector unit forbids (no vector unit, levels inside `from`,
 * spatial rows, more lanes than the unit has, a reduced rank across
 * lanes), points n->arch at the view in n->unit_arch and sets n's
 * unit, level count, PE count, step interval and step latency. Returns
 * false with located diagnostics. mapfile names em's file. */
bool ef_vector_prepare(ef_nest *n, const ef_einsum_mapping_spec *em,
                       const char *mapfile, ef_diags *diags);

/* The operator an expression node performs on the vector unit (and is
 * priced as on the array); false for references and numbers. */
bool ef_vector_op_of(ef_expr_kind kind, ef_vector_op *op);

/* The operator that folds a point into its output: an add for +=, a
 * max for max=; false for = (no reduction). */
bool ef_vector_combine_op(ef_reduce reduce, ef_vector_op *op);

/* The built-in latency of one op on bits-wide operands, for a unit
 * whose architecture gives none (docs/model.md states the sources). */
uint64_t ef_vector_default_latency_cycles(ef_vector_op op, int bits);

#endif
