/* `einflow import-timeloop`: converts Timeloop architecture, problem
 * and mapping files (the format of the Timeloop/Accelergy exercises)
 * into einflow's three spec files, then loads what it wrote as `einflow
 * run` would, so that a file einflow would reject is reported now, at
 * its line. The conversion itself is the library's (spec/timeloop*.c). */
#include "cli/cli.h"
#include "einflow/einsum.h"
#include "einflow/timeloop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char import_usage[] =
    "usage: einflow import-timeloop --arch ARCH.yaml --problem PROB.yaml\n"
    "                               [--mapping MAP.yaml] (-o DIR | --out-arch FILE\n"
    "                               --out-workload FILE [--out-mapping FILE])\n"
    "\n"
    "Converts Timeloop inputs (architecture version 0.4 `nodes:` with\n"
    "!Container/!Component, or 0.3 `subtree:`; problem `shape:` and\n"
    "`instance:`; mapping directives) into einflow's architecture, workload\n"
    "and mapping files. One Timeloop file holding several sections may be\n"
    "given to several options. What einflow has no equivalent for is an\n"
    "error at its line. Afterwards:\n"
    "  einflow run DIR/arch.yaml DIR/workload.yaml DIR/mapping.yaml\n"
    "\n"
    "options:\n"
    "  --arch FILE          the Timeloop architecture (architecture:)\n"
    "  --problem FILE       the Timeloop problem (problem:)\n"
    "  --mapping FILE       the Timeloop mapping (mapping:); without it, run\n"
    "                       the workload with a dataflow (`einflow run ... ws`)\n"
    "  -o, --output DIR     write DIR/arch.yaml, DIR/workload.yaml and\n"
    "                       DIR/mapping.yaml (DIR is created if missing)\n"
    "  --out-arch FILE, --out-workload FILE, --out-mapping FILE\n"
    "                       write each file to the path given instead\n"
    "  -h, --help           show this help\n";

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = ef_malloc(n);
    if (s) snprintf(s, n, "%s/%s", dir, name);
    return s;
}

/* Loads the three written files as `einflow run` does. */
static bool check_written(const char *arch, const char *workload, const char *mapping,
                          ef_diags *d) {
    ef_arch_spec *a = ef_spec_load_arch(arch, d);
    ef_workload_spec *ws = ef_spec_load_workload(workload, d);
    ef_workload *w = ws ? ef_einsum_build(ws, d) : NULL;
    ef_mapping_spec *m = mapping ? ef_spec_load_mapping(mapping, d) : NULL;
    bool ok = a && w && (!mapping || m);
    ef_mapping_spec_destroy(m);
    ef_workload_destroy(w);
    ef_workload_spec_destroy(ws);
    ef_arch_spec_destroy(a);
    return ok;
}

int ef_cli_import_timeloop(int argc, char **argv) {
    ef_timeloop_input in = {0};
    const char *dir = NULL, *out_arch = NULL, *out_workload = NULL, *out_mapping = NULL;
    static const char *const known[] = {"--arch",    "--problem",      "--mapping",
                                        "--output",  "--out-arch",     "--out-workload",
                                        "--out-mapping", "--help"};
    const char *cmd = "import-timeloop";
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(import_usage, stdout);
            return EF_EXIT_OK;
        }
        const char **slot = !strcmp(o, "--arch")                          ? &in.arch_file
                            : !strcmp(o, "--problem")                     ? &in.problem_file
                            : !strcmp(o, "--mapping")                     ? &in.mapping_file
                            : !strcmp(o, "-o") || !strcmp(o, "--output")  ? &dir
                            : !strcmp(o, "--out-arch")                    ? &out_arch
                            : !strcmp(o, "--out-workload")                ? &out_workload
                            : !strcmp(o, "--out-mapping")                 ? &out_mapping
                                                                          : NULL;
        if (!slot) {
            if (o[0] == '-') return ef_cli_unknown_option(cmd, o, known, 8);
            return ef_cli_usage_error(cmd, import_usage,
                                      "unexpected argument \"%s\": give the files with --arch, "
                                      "--problem and --mapping", o);
        }
        if (i + 1 >= argc) return ef_cli_usage_error(cmd, import_usage, "%s needs a value", o);
        if (*slot) return ef_cli_usage_error(cmd, import_usage, "%s given twice", o);
        *slot = argv[++i];
    }
    if (!in.arch_file || !in.problem_file)
        return ef_cli_usage_error(cmd, import_usage, "give --arch and --problem");
    if (!dir && !(out_arch && out_workload))
        return ef_cli_usage_error(cmd, import_usage,
                                  "give -o DIR, or --out-arch and --out-workload");
    if (out_mapping && !in.mapping_file)
        return ef_cli_usage_error(cmd, import_usage, "--out-mapping needs --mapping");

    ef_diags *d = ef_diags_create();
    if (!d) return ef_cli_no_diags();
    ef_timeloop_output out;
    char *paths[3] = {NULL, NULL, NULL};
    int code = ef_cli_status(d, ef_timeloop_import(&in, &out, d));
    if (code != EF_EXIT_OK) goto done;
    if (dir && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "einflow import-timeloop: cannot create %s: %s\n", dir, strerror(errno));
        code = EF_EXIT_IO;
        goto done;
    }
    paths[0] = out_arch ? ef_strdup(out_arch) : join(dir, "arch.yaml");
    paths[1] = out_workload ? ef_strdup(out_workload) : join(dir, "workload.yaml");
    if (in.mapping_file)
        paths[2] = out_mapping ? ef_strdup(out_mapping) : join(dir ? dir : ".", "mapping.yaml");
    if (!paths[0] || !paths[1] || (in.mapping_file && !paths[2])) {
        code = ef_cli_out_of_memory(d);
        goto done;
    }
    const char *texts[3] = {out.arch_yaml, out.workload_yaml, out.mapping_yaml};
    for (int i = 0; i < 3; i++) {
        if (!paths[i]) continue;
        if (!ef_cli_write_file(paths[i], texts[i])) {
            fprintf(stderr, "einflow import-timeloop: cannot write %s: %s\n", paths[i],
                    strerror(errno));
            code = EF_EXIT_IO;
            goto done;
        }
    }
    if (!check_written(paths[0], paths[1], paths[2], d)) {
        code = EF_EXIT_INPUT;
        goto done;
    }
    printf("wrote %s (architecture %s: %d level%s, %dx%d PEs)\n", paths[0], out.arch_name,
           out.level_count, out.level_count == 1 ? "" : "s", out.rows, out.cols);
    printf("wrote %s (workload %s)\n", paths[1], out.workload_name);
    if (paths[2]) printf("wrote %s\n", paths[2]);
    printf("run: einflow run %s %s %s\n", paths[0], paths[1], paths[2] ? paths[2] : "ws");
done:
    for (int i = 0; i < 3; i++) free(paths[i]);
    ef_timeloop_output_free(&out);
    code = ef_cli_finish(d, code);
    ef_diags_destroy(d);
    return code;
}
