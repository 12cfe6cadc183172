/* `einflow run`: load the three files, build each Einsum's nest, run
 * the engine Einsum by Einsum (a cascade passes its intermediates
 * through the outermost level), then print a table and/or JSON. */
#include "cli/cli.h"
#include "einflow/einsum.h"
#include "einflow/model.h"
#include "einflow/report.h"
#include "einflow/sim.h"
#include "einflow/spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char run_usage[] =
    "usage: einflow run ARCH.yaml WORKLOAD.yaml MAPPING.yaml [options]\n"
    "\n"
    "Simulates WORKLOAD mapped by MAPPING onto ARCH cycle by cycle and\n"
    "prints a summary table.\n"
    "\n"
    "options:\n"
    "  -o FILE             write the full JSON result to FILE (- for stdout,\n"
    "                      which replaces the table)\n"
    "  --json              print JSON on stdout instead of the table\n"
    "  --check-values      push seeded random values through the mapped nest\n"
    "                      and compare every output with a direct evaluation\n"
    "  --seed N            seed for --check-values (default 1)\n"
    "  --engine E          event (default): jumps over cycles in which nothing\n"
    "                      changes; step: the reference cycle stepper; both\n"
    "                      give identical results\n"
    "  --fold-model M      systolic arrays: overlap (default: a fold's drain\n"
    "                      overlaps the next fill) or scalesim (SCALE-Sim's\n"
    "                      serial fold formula)\n"
    "  --threads N         simulate the Einsums of a cascade on N threads\n"
    "                      (default: the number of cores); results do not\n"
    "                      depend on N\n"
    "  -q, --quiet         print nothing on success\n"
    "  -h, --help          show this help\n";

void ef_cli_print_diags(ef_diags *d) {
    if (!d || d->count == 0) return;
    char *text = ef_diags_render(d);
    if (text) fputs(text, stderr);
    free(text);
}

int ef_cli_exit_code(ef_status st) {
    switch (st) {
    case EF_OK: return EF_EXIT_OK;
    case EF_ERR_USAGE: return EF_EXIT_USAGE;
    case EF_ERR_SPEC:
    case EF_ERR_MAPPING: return EF_EXIT_INPUT;
    case EF_ERR_VALUES: return EF_EXIT_VALUES;
    case EF_ERR_IO: return EF_EXIT_IO;
    default: return EF_EXIT_INTERNAL;
    }
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "einflow run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", run_usage);
    return EF_EXIT_USAGE;
}

static bool write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return false;
    bool ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    return fclose(f) == 0 && ok;
}

int ef_cli_run(int argc, char **argv) {
    const char *files[3] = {0};
    int nfiles = 0;
    const char *out_path = NULL;
    bool json_stdout = false, quiet = false;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cores > 0 ? (int)cores : 1;
    ef_sim_options opt = {.engine = EF_ENGINE_EVENT, .fold_model = EF_FOLD_OVERLAP,
                          .check_values = false, .seed = 1};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(run_usage, stdout);
            return 0;
        } else if (!strcmp(a, "-o")) {
            if (++i >= argc) return usage_error("%s needs a file name", "-o");
            out_path = argv[i];
        } else if (!strcmp(a, "--json")) {
            json_stdout = true;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = true;
        } else if (!strcmp(a, "--check-values")) {
            opt.check_values = true;
        } else if (!strcmp(a, "--seed")) {
            if (++i >= argc) return usage_error("%s needs a number", "--seed");
            char *end;
            errno = 0;
            opt.seed = strtoull(argv[i], &end, 10);
            if (*end || errno || argv[i][0] == '-')
                return usage_error("--seed expects a non-negative integer, found \"%s\"", argv[i]);
        } else if (!strcmp(a, "--threads")) {
            if (++i >= argc) return usage_error("%s needs a number", "--threads");
            char *end;
            long v = strtol(argv[i], &end, 10);
            if (*end || v < 1 || v > 1024)
                return usage_error("--threads expects a number from 1 to 1024, found \"%s\"", argv[i]);
            threads = (int)v;
        } else if (!strcmp(a, "--engine")) {
            if (++i >= argc) return usage_error("%s needs a name", "--engine");
            if (!strcmp(argv[i], "step")) opt.engine = EF_ENGINE_STEP;
            else if (!strcmp(argv[i], "event")) opt.engine = EF_ENGINE_EVENT;
            else return usage_error("--engine expects event or step, found \"%s\"", argv[i]);
        } else if (!strcmp(a, "--fold-model")) {
            if (++i >= argc) return usage_error("%s needs a name", "--fold-model");
            if (!strcmp(argv[i], "overlap")) opt.fold_model = EF_FOLD_OVERLAP;
            else if (!strcmp(argv[i], "scalesim")) opt.fold_model = EF_FOLD_SCALESIM;
            else return usage_error("--fold-model expects overlap or scalesim, found \"%s\"", argv[i]);
        } else if (a[0] == '-' && a[1]) {
            static const char *const known[] = {"--help", "--json", "--quiet", "--check-values",
                                                "--seed", "--engine", "--fold-model", "--threads"};
            const char *s = ef_suggest(a, known, sizeof known / sizeof known[0]);
            fprintf(stderr, "einflow run: unknown option \"%s\"%s%s%s\n", a,
                    s ? "; did you mean \"" : "", s ? s : "", s ? "\"?" : "");
            return EF_EXIT_USAGE;
        } else if (nfiles < 3) {
            files[nfiles++] = a;
        } else {
            return usage_error("unexpected argument \"%s\": run takes three files", a);
        }
    }
    if (nfiles < 3)
        return usage_error("%s", "expected three files: ARCH.yaml WORKLOAD.yaml MAPPING.yaml");
    if (out_path && !strcmp(out_path, "-")) {
        json_stdout = true;
        out_path = NULL;
    }

    double t0 = now_seconds();
    int code = EF_EXIT_OK;
    ef_diags *d = ef_diags_create();
    if (!d) return EF_EXIT_INTERNAL;
    ef_arch_spec *arch = ef_spec_load_arch(files[0], d);
    ef_workload_spec *ws = ef_spec_load_workload(files[1], d);
    ef_mapping_spec *ms = ef_spec_load_mapping(files[2], d);
    ef_workload *w = NULL;
    ef_values *vals = NULL;
    ef_nest *nests[EF_MAX_EINSUMS] = {0};
    ef_result *results[EF_MAX_EINSUMS] = {0};
    int count = 0;
    if (!arch || !ws || !ms) {
        code = EF_EXIT_INPUT;
        goto done;
    }
    w = ef_einsum_build(ws, d);
    if (!w) {
        code = EF_EXIT_INPUT;
        goto done;
    }
    bool nest_ok = true;
    for (int e = 0; e < w->einsum_count; e++) {
        nests[e] = ef_nest_build(arch, w, ms, e, d);
        nest_ok &= nests[e] != NULL;
    }
    if (!nest_ok) {
        code = EF_EXIT_INPUT;
        goto done;
    }
    if (opt.check_values) {
        vals = ef_values_create(w, opt.seed);
        if (!vals) {
            code = EF_EXIT_INTERNAL;
            goto done;
        }
    }
    ef_status st = ef_sim_run_all(nests, w->einsum_count, &opt, vals, threads, results, d);
    if (st != EF_OK) {
        code = ef_cli_exit_code(st);
        goto done;
    }
    count = w->einsum_count;
    ef_run_meta meta = {.arch_file = files[0], .workload_file = files[1],
                        .mapping_file = files[2],
                        .engine = opt.engine == EF_ENGINE_STEP ? "step" : "event",
                        .fold_model = opt.fold_model == EF_FOLD_SCALESIM ? "scalesim" : "overlap",
                        .wall_seconds = now_seconds() - t0,
                        .check_values = opt.check_values, .seed = opt.seed};
    const ef_result *const *rs = (const ef_result *const *)results;
    if (out_path || json_stdout) {
        char *json = ef_report_json(rs, count, &meta);
        if (!json) {
            code = EF_EXIT_INTERNAL;
            goto done;
        }
        if (json_stdout) {
            puts(json);
        } else if (!write_file(out_path, json)) {
            fprintf(stderr, "einflow run: cannot write %s: %s\n", out_path, strerror(errno));
            code = EF_EXIT_IO;
        }
        free(json);
    }
    if (!json_stdout && !quiet) {
        char *table = ef_report_table(rs, count, &meta);
        if (table) fputs(table, stdout);
        free(table);
        if (out_path) printf("JSON written to %s\n", out_path);
    }
done:
    ef_cli_print_diags(d);
    for (int e = 0; e < EF_MAX_EINSUMS; e++) {
        ef_result_destroy(results[e]);
        ef_nest_destroy(nests[e]);
    }
    ef_values_destroy(vals);
    ef_workload_destroy(w);
    ef_mapping_spec_destroy(ms);
    ef_workload_spec_destroy(ws);
    ef_arch_spec_destroy(arch);
    ef_diags_destroy(d);
    return code;
}
