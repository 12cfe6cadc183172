/* --trace, the engines' side: turns what a run does in one cycle (or,
 * in the event engine, one jump of many alike) into calls of the
 * options' trace sink (einflow/sim.h), in the cascade's cycles. The
 * engines call these only when their schedule has a tracer, so a run
 * without --trace pays one test of a NULL pointer per simulated cycle
 * and per transfer. */
#include "sim/engine.h"

#include <string.h>

void ef_trace_xfer(const ef_schedule *tr, uint32_t id, uint64_t t) {
    const ef_tracer *tc = tr->trace;
    const ef_xfer_set *xs = &tr->xfers;
    if (!xs->with_bytes) return;
    const ef_xfer *x = &xs->items[id];
    for (int r = 0; r < EF_RES_COUNT; r++) {
        uint64_t bytes = xs->bytes[id][r];
        if (!bytes) continue;
        char name[2 * EF_MAX_NAME + 16];
        ef_timing_resource_name(tr->n, r, name, sizeof name);
        tc->sink->bytes(tc->sink->ctx, tc->einsum, name, tc->base_cycles + t, x->hold_cycles[r],
                        bytes);
    }
}

void ef_trace_cycles(const ef_schedule *tr, uint64_t t, uint64_t count, uint64_t first_steps,
                     uint64_t later_steps, const char *cause) {
    const ef_tracer *tc = tr->trace;
    if (!count) return;
    tc->sink->cycles(tc->sink->ctx, tc->einsum, tc->base_cycles + t, count, first_steps,
                     later_steps, cause);
}

uint64_t ef_trace_skip_limit(const ef_schedule *tr, uint64_t t) {
    const ef_tracer *tc = tr->trace;
    if (!tc) return UINT64_MAX;
    /* the window in the run's own cycles; a skip adds cycles t + 1 ..
     * t' as counts only, so they must all lie before the window or
     * after it */
    uint64_t b = tc->base_cycles, lo = tc->sink->begin_cycle, hi = tc->sink->end_cycle;
    uint64_t lo_own = lo > b ? lo - b : 0, hi_own = hi > b ? hi - b : 0;
    if (t + 1 >= hi_own) return UINT64_MAX;
    if (t + 1 < lo_own) return lo_own - 1;
    return t; /* inside the window: no skip */
}
