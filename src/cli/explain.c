/* `einflow explain ARCH WORKLOAD MAPPING|DATAFLOW`: makes the run
 * `einflow run` makes with the same command line (run_session.c), then
 * tells it as the lecture notes tell a mapping (report/explain.c): the
 * loop nest as pseudo-code, tiles, accesses per MAC, bandwidth. */
#include "cli/cli.h"
#include "cli/run_session.h"
#include "einflow/report.h"

#include <stdio.h>
#include <stdlib.h>

static const char explain_usage[] =
    "usage: einflow explain ARCH.yaml WORKLOAD.yaml MAPPING.yaml [options]\n"
    "       einflow explain ARCH.yaml WORKLOAD.yaml DATAFLOW [options]\n"
    "\n"
    "Runs WORKLOAD mapped onto ARCH as `einflow run` does (a dataflow lets\n"
    "the mapper find the mapping first), then prints, per Einsum, the\n"
    "mapped loop nest as pseudo-code (for per temporal loop, parallel_for\n"
    "per spatial loop, a comment per level naming what it keeps), each\n"
    "level's tile of each tensor, the engine's accesses per MAC and reuse\n"
    "at every level, and the bandwidth each level needs against what it\n"
    "has. -o and --json give the same as JSON.\n"
    "\n"
    "options (as for run):\n"
    EF_CLI_RUN_OPTIONS_HELP;

int ef_cli_explain(int argc, char **argv) {
    ef_cli_run_args a;
    int code = ef_cli_run_args_parse(&a, argc, argv, "explain", explain_usage);
    if (code >= 0) return code;
    ef_cli_session s;
    code = ef_cli_session_run(&s, &a);
    if (!s.d) return code;
    if (code != EF_EXIT_OK) goto done;
    ef_run_meta meta = ef_cli_session_meta(&s, &a);
    if (a.out_path || a.json_stdout) {
        char *json = ef_report_explain_json(s.out.layers, s.L.count, &meta);
        if (!json) {
            code = ef_cli_out_of_memory(s.d);
            goto done;
        }
        code = ef_cli_session_write_json(&a, json, "explain");
        free(json);
    }
    if (!a.json_stdout && !a.quiet) {
        char *text = ef_report_explain(s.out.layers, s.L.count, &meta);
        if (!text) {
            code = ef_cli_out_of_memory(s.d);
            goto done;
        }
        fputs(text, stdout);
        free(text);
        if (a.out_path) printf("JSON written to %s\n", a.out_path);
    }
    if (s.out.check_failed && code == EF_EXIT_OK) code = EF_EXIT_VALUES;
done:
    code = ef_cli_finish(s.d, code);
    ef_cli_session_free(&s);
    return code;
}
