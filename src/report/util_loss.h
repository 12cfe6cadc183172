/* Internal to the report stage: the utilization loss of results run
 * one after another (a cascade, a network's layers x their counts), as
 * JSON (`summary.utilization_loss`) and as the tables' waterfall. The
 * per-run terms come from stats/ (einflow/util_loss.h). */
#ifndef EF_REPORT_UTIL_LOSS_H
#define EF_REPORT_UTIL_LOSS_H

#include <cJSON.h>

#include "einflow/util_loss.h"
#include "spec/sbuf.h"

/* The loss over results rs[0 .. count), result i weights[i] times (NULL:
 * once each). One result alone is its own unit's, over its own cycles;
 * several are the PE array's over their summed cycles (each fused
 * group once): an Einsum on the array brings its terms but
 * `other_einsums` (the others' own time), and the cycles no Einsum had
 * the array go to `other_unit`. Causes are merged by name: fill, the
 * stall causes in first-seen order, other_unit, then the terms of the
 * compute cycles. */
void ef_loss_totals(const ef_result *const *rs, const uint64_t *weights, int count,
                    ef_util_loss *out);

/* {unit, pes, steps_per_cycle, peak_slots, ops, lost_slots,
 *  utilization, steps: [{cause, slots, share, remaining}]} */
cJSON *ef_rj_util_loss(const ef_util_loss *l);

/* The waterfall, one line per cause, each indented by `indent`. */
void ef_loss_table(sbuf *b, const ef_util_loss *l, const char *indent);

/* "fill 0.012, DRAM.read 0.300 -> 0.4123": one line's worth. */
void ef_loss_line(sbuf *b, const ef_util_loss *l);

#endif
