/* Internal to the CLI: a run from its command line to its outcome —
 * the options, the three files, the mapper or the mapping file, the
 * engine — shared by `run` and `explain`, so that explain explains
 * exactly the run the same command line would make (run_session.c). */
#ifndef EF_CLI_RUN_SESSION_H
#define EF_CLI_RUN_SESSION_H

#include "cli/execute.h"
#include "cli/layers.h"
#include "einflow/report.h"

/* The options of `run` (and `explain`), as --help lists them. */
#define EF_CLI_RUN_OPTIONS_HELP                                                     \
    "  -o FILE             write the full JSON result to FILE (- for stdout,\n"    \
    "                      which replaces the table)\n"                            \
    "  --json              print JSON on stdout instead of the table\n"            \
    "  --check-values      push seeded random values through the mapped nest\n"    \
    "                      and compare every output with a direct evaluation\n"    \
    "  --check-against OTHER.yaml\n"                                               \
    "                      also evaluate the workload OTHER directly with the same\n" \
    "                      input values and compare the outputs both have (by name;\n" \
    "                      |a - b| <= 1e-9 x max(1, |a|, |b|)); implies --check-values\n" \
    "  --seed N            seed for --check-values and the mapper (default 1)\n"   \
    EF_CLI_PARAM_OPTIONS_HELP                                                       \
    "  --layers LIST       only these layers of a network file: names, or\n"       \
    "                      prefixes ending in * (conv1,conv2 or conv*)\n"          \
    EF_CLI_ENGINE_OPTIONS_HELP                                                      \
    "  --objective, --evaluations, --time-limit, --confirm\n"                      \
    "                      the mapper's options, with a dataflow\n"                \
    EF_CLI_EINSUM_DATAFLOW_HELP                                                     \
    "  -q, --quiet         print nothing on success\n"                             \
    "  -h, --help          show this help\n"

/* The command line of a run. Strings are borrowed from argv. */
typedef struct {
    const char *files[3];        /* ARCH, WORKLOAD, MAPPING or DATAFLOW */
    const char *out_path;        /* -o FILE; NULL: none (- is stdout)   */
    const char *against_path;    /* --check-against; NULL: none         */
    const char *csv_path;        /* --csv FILE (run only); NULL: none   */
    const char *html_path;       /* --html FILE (run only); NULL: none  */
    bool json_stdout;            /* --json or -o -                      */
    bool quiet;                  /* -q                                  */
    ef_cli_search search;
    const char *trace_path;      /* run --trace FILE; NULL: none        */
    const char *trace_window;    /* --trace-window as given, or NULL    */
    uint64_t trace_begin, trace_end; /* its cycles [begin, end)         */
} ef_cli_run_args;

/* Parses argv as `run` does, for command cmd whose usage is printed on
 * --help and after a usage error. Returns -1 when the command goes on,
 * else the exit code to return (0 after --help). */
int ef_cli_run_args_parse(ef_cli_run_args *a, int argc, char **argv, const char *cmd,
                          const char *usage);

/* Everything a run loads and makes, freed by ef_cli_session_free. */
typedef struct {
    ef_diags *d;                 /* owned; never NULL after _start      */
    ef_arch_spec *arch;
    ef_cli_layers L;
    ef_mapping_spec *ms;         /* a mapping file, or NULL             */
    ef_dataflow_spec *df;        /* a dataflow, or NULL                 */
    ef_cli_choice choice;
    ef_network_spec *against_net; /* --check-against's file and workload */
    ef_workload *against;
    ef_cli_outcome out;          /* nests, results, the mapper's searches */
    /* for the report's meta */
    double t0;
    char mapping_name[EF_MAX_NAME + 32];
    ef_arch_set arch_sets[EF_MAX_ARCH_SETS];
    int arch_set_count;
} ef_cli_session;

/* Loads a's files, maps (or builds from the mapping file) and runs the
 * engine into s->out. Returns an exit code (EF_EXIT_OK: s->out is
 * filled; a --check-against disagreement is s->out.check_failed);
 * diagnostics wait in s->d for ef_cli_finish. ef_cli_session_free is
 * needed either way. */
int ef_cli_session_run(ef_cli_session *s, const ef_cli_run_args *a);
/* The report's meta of a finished run (pointing into s and a). */
ef_run_meta ef_cli_session_meta(const ef_cli_session *s, const ef_cli_run_args *a);
/* Writes text to a's -o FILE or stdout: the JSON of a run. Returns an
 * exit code (EF_EXIT_IO with a message when the file cannot be
 * written); cmd names the command in the message. */
int ef_cli_session_write_json(const ef_cli_run_args *a, const char *text, const char *cmd);
void ef_cli_session_free(ef_cli_session *s);

#endif
