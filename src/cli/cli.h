/* Commands of the einflow CLI; each returns a process exit code. The
 * helpers here are what several commands share: diagnostics and exit
 * codes, usage errors, and the mapper's search options. */
#ifndef EF_CLI_H
#define EF_CLI_H

#include "einflow/common.h"
#include "einflow/map.h"
#include "einflow/spec.h"

enum {
    EF_EXIT_OK = 0,
    EF_EXIT_INPUT = 1,
    EF_EXIT_USAGE = 2,
    EF_EXIT_VALUES = 3,
    EF_EXIT_IO = 4,
    EF_EXIT_INTERNAL = 5
};

int ef_cli_run(int argc, char **argv);
int ef_cli_validate(int argc, char **argv);
int ef_cli_map(int argc, char **argv);
int ef_cli_compare(int argc, char **argv);
int ef_cli_sweep(int argc, char **argv);
int ef_cli_explain(int argc, char **argv);
int ef_cli_import_timeloop(int argc, char **argv);

/* Prints and clears diagnostics on stderr. */
void ef_cli_print_diags(ef_diags *d);
/* Prints the diagnostics and returns the exit code: code, or 5 when
 * memory ran out anywhere in the run (whatever that made fail). */
int ef_cli_finish(ef_diags *d, int code);
/* Memory ran out in the CLI itself: recorded in d; returns exit code 5. */
int ef_cli_out_of_memory(ef_diags *d);
/* The exit code of a library status, recording in d that memory ran
 * out when st says so (the library may have had no list to say it in). */
int ef_cli_status(ef_diags *d, ef_status st);
/* Not even the diagnostics list could be made: says so, returns 5. */
int ef_cli_no_diags(void);
int ef_cli_exit_code(ef_status st);

/* "einflow CMD: <message>", a blank line and the usage; returns
 * EF_EXIT_USAGE. */
int ef_cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "einflow CMD: unknown option", with a "did you mean" from known. */
int ef_cli_unknown_option(const char *cmd, const char *arg, const char *const *known,
                          int count);
bool ef_cli_write_file(const char *path, const char *text);
/* Parses a whole non-negative number; false for anything else. */
bool ef_cli_parse_u64(const char *s, uint64_t *out);

/* ---------- the options of everything that runs the engine or the mapper ---------- */

/* One `--set arch.PATH=VALUE`, copied so that a search can be copied
 * and changed (a sweep's points). */
typedef struct {
    char path[EF_MAX_SET_TEXT];   /* PATH, after "arch."                */
    char value[EF_MAX_SET_TEXT];  /* VALUE as given                     */
    char origin[EF_MAX_SET_TEXT + 16]; /* where it was given, for
                                   * diagnostics: "--set arch.PATH", or
                                   * a sweep file                       */
    int line, col;                /* in origin when a file; else 0      */
} ef_cli_arch_value;

typedef struct {
    const char *dataflow;         /* name or file; NULL: none given     */
    ef_objective objective;
    uint64_t seed;
    uint64_t evaluations;
    double time_limit_seconds;
    int confirm;
    ef_sim_options sim;
    int threads;
    const char *layers;           /* --layers of a network file; NULL: all */
    uint64_t batch;               /* --batch or --set batch=N; 0: the file's */
    ef_param_value set[EF_MAX_PARAMS]; /* --set NAME=VALUE and --batch N,
                                   * in the order given, each name once  */
    int set_count;
    ef_cli_arch_value arch[EF_MAX_ARCH_SETS]; /* --set arch.PATH=VALUE,
                                   * in the order given, each path once */
    int arch_count;
    bool progress;                /* searches may report on a terminal
                                   * (default; a sweep draws its own)   */
    const char *einsum_dataflow[EF_MAX_EINSUMS]; /* --einsum-dataflow
                                   * NAME=DF as given (borrowed from
                                   * argv), each NAME once               */
    int einsum_dataflow_count;
} ef_cli_search;

#define EF_CLI_ENGINE_OPTIONS_HELP                                                  \
    "  --engine E          event (default): jumps over cycles in which nothing\n"  \
    "                      changes; step: the reference cycle stepper; both\n"     \
    "                      give identical results\n"                               \
    "  --fold-model M      systolic arrays: overlap (default: a fold's drain\n"    \
    "                      overlaps the next fill) or scalesim (SCALE-Sim's\n"     \
    "                      serial fold formula)\n"                                 \
    "  --threads N         run independent Einsums, layers or searches on N\n"     \
    "                      threads (default: the number of cores); results do\n"  \
    "                      not depend on N\n"
#define EF_CLI_SEARCH_OPTIONS_HELP                                                  \
    "  --objective O       latency, energy or edp (default: edp)\n"                \
    "  --evaluations N     candidates the mapper considers per Einsum (default\n"  \
    "                      20000); the search is deterministic for a seed\n"       \
    "  --time-limit S      also stop each search after S seconds (the result\n"    \
    "                      then depends on the machine's speed)\n"                 \
    "  --confirm K         best estimates confirmed in the engine (default 3;\n" \
    "                      0: the best estimate wins unconfirmed)\n"             \
    "  --seed N            seed of the search (default 1)\n"                       \
    EF_CLI_ENGINE_OPTIONS_HELP
/* The options that change a network file's parameters, in every
 * command that loads one. */
#define EF_CLI_PARAM_OPTIONS_HELP                                                   \
    "  --set NAME=VALUE    set a parameter of the network file (seq, ctx, ...;\n"  \
    "                      repeatable): every rank bound that names it follows\n" \
    "  --set arch.PATH=V   set a scalar of the architecture by key path\n"         \
    "                      (arch.pe_array.rows=16, arch.levels.GLB.capacity=\n"   \
    "                      \"256 KiB\"); checked as if the file said it\n"      \
    "  --batch N           the batch size: the same as --set batch=N\n"
/* Per-Einsum dataflows, in every command that maps. */
#define EF_CLI_EINSUM_DATAFLOW_HELP                                                 \
    "  --einsum-dataflow NAME=DF\n"                                                 \
    "                      map the Einsum that writes NAME with DF (a dataflow,\n"  \
    "                      vector, or a template file); repeatable\n"
#define EF_CLI_SEARCH_FLAGS                                                         \
    "--dataflow", "--objective", "--evaluations", "--time-limit", "--confirm",     \
        "--seed", "--engine", "--fold-model", "--threads", "--layers", "--batch",  \
        "--set", "--einsum-dataflow"

void ef_cli_search_defaults(ef_cli_search *s);
/* If argv[i] is one of the options above, reads it (and its value) and
 * returns how many arguments it took; 0 when it is not one; -1 after
 * printing a usage error. */
int ef_cli_search_option(ef_cli_search *s, int argc, char **argv, int i, const char *cmd,
                         const char *usage);
/* Parses the value of one `--set NAME=VALUE` into out; false, with the
 * usage error's message in why, when it is malformed or VALUE is not an
 * integer from 1 to EF_MAX_PARAM_VALUE. Whether the file has a
 * parameter NAME is the loader's to say. An architecture path
 * (arch.PATH=VALUE) goes to ef_cli_parse_arch_set instead. */
bool ef_cli_parse_set(const char *arg, ef_param_value *out, char *why, size_t size);
/* `arch.PATH=VALUE` into out (origin "--set arch.PATH"); false with the
 * usage error's message in why when PATH or VALUE is empty or too long.
 * Whether PATH exists is the architecture loader's to say. */
bool ef_cli_parse_arch_set(const char *arg, ef_cli_arch_value *out, char *why, size_t size);
/* Adds one architecture override to s (a later one for the same path
 * replaces it when replace, else it is a usage error in why). */
bool ef_cli_add_arch_set(ef_cli_search *s, const ef_cli_arch_value *v, bool replace, char *why,
                         size_t size);
/* s's architecture overrides as the loader takes them, pointing into s
 * (valid while s is unchanged); returns how many. */
int ef_cli_arch_sets(const ef_cli_search *s, ef_arch_set out[EF_MAX_ARCH_SETS]);
/* The architecture file with s's overrides applied. */
ef_arch_spec *ef_cli_load_arch(const char *path, const ef_cli_search *s, ef_diags *d);
/* A built-in template by name, or a template file (a name with '/' or
 * ending in .yaml); "free" when name is NULL. */
ef_dataflow_spec *ef_cli_load_dataflow(const char *name, ef_diags *d);
void ef_cli_search_map_options(const ef_cli_search *s, const ef_dataflow_spec *df,
                               ef_map_options *out);

#endif
