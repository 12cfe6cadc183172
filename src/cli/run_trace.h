/* Internal to the CLI: `run --trace FILE --trace-window A:B`
 * (run_trace.c). */
#ifndef EF_CLI_RUN_TRACE_H
#define EF_CLI_RUN_TRACE_H

#include "cli/run_session.h"

#define EF_CLI_TRACE_OPTIONS_HELP                                                   \
    "  --trace FILE        also write what each cycle did (units, stalls, bytes\n" \
    "                      per port and link) for a window of cycles: CSV, or a\n" \
    "                      VCD for GTKWave when FILE ends in .vcd\n"                \
    "  --trace-window A:B  the cycles traced, A up to B (default 0:10000; at\n"   \
    "                      most 100000 cycles)\n"

/* Reads --trace or --trace-window's value v into a. Returns -1 when
 * the command goes on, else the exit code of a usage error. */
int ef_cli_trace_option(ef_cli_run_args *a, const char *opt, const char *v, const char *cmd,
                        const char *usage);
/* After every option: the combinations --trace refuses, and the
 * default window. -1 when the command goes on. */
int ef_cli_trace_check(ef_cli_run_args *a, const char *cmd, const char *usage);
/* Runs s's workload once more with a trace and writes a->trace_path.
 * Returns an exit code; diagnostics go to s->d. With keep, the trace
 * is handed over (*keep, freed by the caller with ef_trace_destroy)
 * with the cycles it spans (*total), for the HTML report. */
int ef_cli_run_trace(ef_cli_session *s, const ef_cli_run_args *a, ef_trace **keep,
                     uint64_t *total);

#endif
