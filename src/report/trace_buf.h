/* Internal to the trace writers: what a trace keeps, cycle by cycle,
 * for its window (trace_buf.c fills it from the engines' calls;
 * trace_csv.c and trace_vcd.c read it). Cycle c of the window is entry
 * c - begin of every array. */
#ifndef EF_REPORT_TRACE_BUF_H
#define EF_REPORT_TRACE_BUF_H

#include "einflow/trace.h"

#define TRACE_RES_NAME (2 * EF_MAX_NAME + 16)

/* The state of a unit in one cycle: idle, computing, or stalled on a
 * cause (TRACE_STALLED + its index in the trace's causes). */
enum { TRACE_IDLE = 0, TRACE_COMPUTING = 1, TRACE_STALLED = 2 };

typedef struct {
    char name[TRACE_RES_NAME];  /* "GLB.read", "noc GLB->RF", ...       */
    uint64_t *bytes;            /* owned, [window]: bytes per cycle      */
} trace_res;

typedef struct {
    bool seen;                  /* some call reached the window          */
    uint32_t *steps;            /* owned, [window]: steps issued         */
    uint16_t *state;            /* owned, [window]: TRACE_*              */
    trace_res *res;             /* owned, [cap_res]                      */
    int nres, cap_res;
} trace_einsum;

struct ef_trace {
    ef_trace_sink sink;         /* its ctx is the trace                  */
    uint64_t begin, end;        /* the window, in the cascade's cycles   */
    uint64_t window;            /* end - begin                           */
    trace_einsum *es;           /* owned, [nes], by the Einsum's place   */
    int nes;
    char (*causes)[TRACE_RES_NAME]; /* owned, [cap_causes]: stall causes */
    int ncauses, cap_causes;
    bool failed;                /* out of memory while keeping it        */
};

/* The Einsum's resources in a fixed order: its levels' ports outermost
 * first (read before write), then the links into and out of the unit,
 * ties by name; order[] receives indexes into e->res. So the writers
 * list them alike whichever engine ran. */
void ef_trace_res_order(const trace_einsum *e, const ef_nest *n, int *order);

/* The Einsum's name in a trace: its output tensor's. */
const char *ef_trace_einsum_name(const ef_nest *n);
/* What computes its points: "array" or the vector unit's name. */
const char *ef_trace_unit_name(const ef_nest *n);
/* The last cycle (exclusive) the writers show: the window's end, or the
 * run's if it comes first. */
uint64_t ef_trace_shown_end(const ef_trace *t, uint64_t total_cycles);

#endif
