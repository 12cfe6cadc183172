/* einflow command line: a thin shell over the library. Only this stage
 * prints and chooses exit codes (see docs/cli.md):
 *   0 success · 1 bad input (YAML, Einsum or mapping) · 2 bad usage ·
 *   3 --check-values mismatch · 4 cannot write output · 5 internal limit */
#include "cli/cli.h"

#include <cjson/cJSON.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: einflow <command> [options]\n"
    "\n"
    "Cycle-level simulator of DNN accelerators.\n"
    "\n"
    "commands:\n"
    "  run ARCH.yaml WORKLOAD.yaml MAPPING.yaml [-o FILE] [--check-values]\n"
    "                      simulate a mapped workload; see `einflow run --help`\n"
    "  map ARCH.yaml WORKLOAD.yaml [--dataflow D] [-o FILE]\n"
    "                      search a mapping within a dataflow template; see\n"
    "                      `einflow map --help`\n"
    "  compare ARCH.yaml WORKLOAD.yaml [--dataflows ws,os,is,rs,nlr]\n"
    "                      map and simulate under several dataflows, side by\n"
    "                      side; see `einflow compare --help`\n"
    "  sweep SWEEP.yaml -o POINTS.jsonl [--threads N] [--shard K/N]\n"
    "                      run every point of a design-space sweep, resumably;\n"
    "                      see `einflow sweep --help`\n"
    "  explain ARCH.yaml WORKLOAD.yaml MAPPING.yaml|DATAFLOW\n"
    "                      the mapped loop nest as pseudo-code, with tiles,\n"
    "                      accesses per MAC and bandwidth per level; see\n"
    "                      `einflow explain --help`\n"
    "  import-timeloop --arch A.yaml --problem P.yaml [--mapping M.yaml] -o DIR\n"
    "                      convert Timeloop inputs into einflow's three files;\n"
    "                      see `einflow import-timeloop --help`\n"
    "  validate FILE.yaml...\n"
    "                      check architecture, workload, network, mapping or\n"
    "                      dataflow template files\n"
    "\n"
    "options:\n"
    "  -h, --help          show this help\n"
    "  -V, --version       show the version\n";

static int dispatch(int argc, char **argv);

/* Out of memory on every path, tested: EF_FAIL_ALLOC=N makes the N-th
 * allocation of the run fail (ef_alloc_fail_at), EF_ALLOC_REPORT=1
 * prints how many there were (tests/e2e/check_e2e_nomem.c). */
int main(int argc, char **argv) {
#ifdef __GLIBC__
    /* the engine's tables grow to megabytes and are freed after every
     * run, thousands of times in a search: kept in the heap rather than
     * mapped and unmapped each time, they cost no page faults (a tenth
     * of the CPU time of `run eyeriss_like resnet50 ws` went to them) */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
    cJSON_Hooks hooks = {.malloc_fn = ef_malloc, .free_fn = free};
    cJSON_InitHooks(&hooks);
    const char *fail = getenv("EF_FAIL_ALLOC");
    if (fail) ef_alloc_fail_at(strtoull(fail, NULL, 10));
    int code = dispatch(argc, argv);
    if (getenv("EF_ALLOC_REPORT"))
        fprintf(stderr, "einflow: %llu allocations\n", (unsigned long long)ef_alloc_count());
    return code;
}

static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return EF_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("einflow %s\n", EF_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "run")) return ef_cli_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "validate")) return ef_cli_validate(argc - 2, argv + 2);
    if (!strcmp(cmd, "map")) return ef_cli_map(argc - 2, argv + 2);
    if (!strcmp(cmd, "compare")) return ef_cli_compare(argc - 2, argv + 2);
    if (!strcmp(cmd, "sweep")) return ef_cli_sweep(argc - 2, argv + 2);
    if (!strcmp(cmd, "explain")) return ef_cli_explain(argc - 2, argv + 2);
    if (!strcmp(cmd, "import-timeloop")) return ef_cli_import_timeloop(argc - 2, argv + 2);
    static const char *const commands[] = {"run",      "map",     "compare", "sweep",
                                           "validate", "explain", "import-timeloop", "help"};
    const char *s = ef_suggest(cmd, commands, sizeof commands / sizeof commands[0]);
    fprintf(stderr, "einflow: unknown command \"%s\"", cmd);
    if (s) fprintf(stderr, "; did you mean \"%s\"?", s);
    fprintf(stderr, "\n\n%s", usage);
    return EF_EXIT_USAGE;
}
