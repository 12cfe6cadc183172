/* einflow report stage, --trace: keeps what a run's engines report for
 * a window of cycles (the sink of einflow/sim.h) and writes it as CSV
 * or as a Value Change Dump (IEEE 1364) for GTKWave. docs/output.md
 * lists the columns and signals.
 *
 * Ownership: ef_trace_create returns a trace the caller frees with
 * ef_trace_destroy (NULL accepted). The sink it hands out points into
 * it. The nests given to the writers are borrowed for the call. */
#ifndef EINFLOW_TRACE_H
#define EINFLOW_TRACE_H

#include <stdio.h>

#include "einflow/sim.h"

typedef struct ef_trace ef_trace;

/* A trace of cycles [begin, end); NULL when out of memory or the window
 * is empty or longer than EF_TRACE_MAX_CYCLES (the caller says why). */
ef_trace *ef_trace_create(uint64_t begin_cycle, uint64_t end_cycle);
void ef_trace_destroy(ef_trace *t);

/* The sink to put in ef_sim_options.trace. Valid while t lives. */
const ef_trace_sink *ef_trace_sink_of(ef_trace *t);

/* Writes the trace of the cascade whose Einsums are nests[0 .. count)
 * (in the order the run was given them) that ran for total_cycles:
 * the window ends at the run's end if that comes first. title names the
 * run in the VCD header. EF_ERR_NOMEM when the trace ran out of memory
 * while it was kept, EF_ERR_IO when the file fails. */
ef_status ef_trace_write_csv(const ef_trace *t, const ef_nest *const *nests, int count,
                             uint64_t total_cycles, FILE *f);
ef_status ef_trace_write_vcd(const ef_trace *t, const ef_nest *const *nests, int count,
                             uint64_t total_cycles, const char *title, FILE *f);

#endif
