/* `einflow run`: load the three files, build each Einsum's nest, run
 * the engine Einsum by Einsum (a cascade passes its intermediates
 * through the outermost level), then print a table and/or JSON. With a
 * dataflow in place of the mapping the mapper finds the mappings first,
 * which is also how a network file runs (every layer mapped). */
#include "cli/cli.h"
#include "cli/execute.h"
#include "cli/layers.h"
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

/* The workload of --check-against, with those of the caller's
 * parameters (--set, --batch) that its file declares: a parameter only
 * the run's workload has (blocks of an online softmax) must not make
 * the other file an error. */
typedef struct {
    ef_network_spec *net;
    ef_workload *w;
} against_workload;

static bool load_against(against_workload *A, const char *path, const ef_cli_search *s,
                         ef_diags *d) {
    memset(A, 0, sizeof *A);
    ef_network_spec *plain = ef_spec_load_network_set(path, NULL, 0, d);
    if (!plain) return false;
    ef_param_value set[EF_MAX_PARAMS * 4];
    int n = 0;
    for (int i = 0; i < s->set_count && n < (int)(sizeof set / sizeof set[0]); i++)
        for (int p = 0; p < plain->param_count; p++)
            if (!strcmp(plain->params[p].name, s->set[i].name)) set[n++] = s->set[i];
    ef_network_spec_destroy(plain);
    A->net = ef_spec_load_network_set(path, set, n, d);
    if (!A->net) return false;
    if (A->net->layer_count != 1) {
        ef_diags_add(d, path, 0, 0, "", "pick a workload file, or one layer of the network",
                     NULL, "--check-against takes one workload, but %s has %d layers", path,
                     A->net->layer_count);
        return false;
    }
    A->w = ef_einsum_build(A->net->layers[0].workload, d);
    return A->w != NULL;
}

static const char run_usage[] =
    "usage: einflow run ARCH.yaml WORKLOAD.yaml MAPPING.yaml [options]\n"
    "       einflow run ARCH.yaml WORKLOAD.yaml DATAFLOW [options]\n"
    "       einflow run ARCH.yaml NETWORK.yaml DATAFLOW [options]\n"
    "\n"
    "Simulates WORKLOAD mapped by MAPPING onto ARCH cycle by cycle and\n"
    "prints a summary table. In place of a mapping file, a dataflow (ws,\n"
    "os, is, rs, nlr, free, fused, vector, or a template file) lets the\n"
    "mapper find one first (see `einflow map --help` for its options); a\n"
    "network file runs every layer that way and reports per layer and in\n"
    "total. A cascade's Einsums without a product go to the vector unit\n"
    "when the architecture has one; fused keeps a cascade's intermediates\n"
    "on chip.\n"
    "\n"
    "options:\n"
    "  -o FILE             write the full JSON result to FILE (- for stdout,\n"
    "                      which replaces the table)\n"
    "  --json              print JSON on stdout instead of the table\n"
    "  --csv FILE          also write one CSV row per Einsum (per layer and\n"
    "                      Einsum of a network) to FILE\n"
    "  --check-values      push seeded random values through the mapped nest\n"
    "                      and compare every output with a direct evaluation\n"
    "  --check-against OTHER.yaml\n"
    "                      also evaluate the workload OTHER directly with the same\n"
    "                      input values and compare the outputs both have (by name;\n"
    "                      |a - b| <= 1e-9 x max(1, |a|, |b|)); implies --check-values\n"
    "  --seed N            seed for --check-values and the mapper (default 1)\n"
    EF_CLI_PARAM_OPTIONS_HELP
    "  --layers LIST       only these layers of a network file: names, or\n"
    "                      prefixes ending in * (conv1,conv2 or conv*)\n"
    EF_CLI_ENGINE_OPTIONS_HELP
    "  --objective, --evaluations, --time-limit, --confirm\n"
    "                      the mapper's options, with a dataflow\n"
    EF_CLI_EINSUM_DATAFLOW_HELP
    "  -q, --quiet         print nothing on success\n"
    "  -h, --help          show this help\n";

/* A third argument that is no mapping file names a dataflow: a template
 * file, or a bare word (no file of that name, no '/' or '.'), which then
 * must be a built-in template. */
static bool names_dataflow(const char *arg, ef_diags *d) {
    FILE *f = fopen(arg, "r");
    if (!f) return !strchr(arg, '/') && !strchr(arg, '.');
    fclose(f);
    ef_diags *quiet = ef_diags_create();
    char kind = ef_spec_sniff(arg, quiet ? quiet : d);
    ef_diags_destroy(quiet);
    return kind == 'd';
}

int ef_cli_run(int argc, char **argv) {
    const char *files[3] = {0};
    int nfiles = 0;
    const char *out_path = NULL, *against_path = NULL, *csv_path = NULL;
    bool json_stdout = false, quiet = false;
    ef_cli_search search;
    ef_cli_search_defaults(&search);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int used = ef_cli_search_option(&search, argc, argv, i, "run", run_usage);
        if (used < 0) return EF_EXIT_USAGE;
        if (used > 0) {
            i += used - 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(run_usage, stdout);
            return 0;
        } else if (!strcmp(a, "-o")) {
            if (++i >= argc) return ef_cli_usage_error("run", run_usage, "-o needs a file name");
            out_path = argv[i];
        } else if (!strcmp(a, "--json")) {
            json_stdout = true;
        } else if (!strcmp(a, "--csv")) {
            if (++i >= argc) return ef_cli_usage_error("run", run_usage, "--csv needs a file name");
            csv_path = argv[i];
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = true;
        } else if (!strcmp(a, "--check-values")) {
            search.sim.check_values = true;
        } else if (!strcmp(a, "--check-against")) {
            if (++i >= argc)
                return ef_cli_usage_error("run", run_usage, "--check-against needs a workload file");
            against_path = argv[i];
            search.sim.check_values = true;
        } else if (a[0] == '-' && a[1]) {
            static const char *const known[] = {"--help", "--json", "--csv", "--quiet", "--check-values",
                                                "--check-against", EF_CLI_SEARCH_FLAGS};
            return ef_cli_unknown_option("run", a, known, (int)(sizeof known / sizeof known[0]));
        } else if (nfiles < 3) {
            files[nfiles++] = a;
        } else {
            return ef_cli_usage_error("run", run_usage,
                                      "unexpected argument \"%s\": run takes three files", a);
        }
    }
    if (nfiles < 3)
        return ef_cli_usage_error("run", run_usage, "%s",
                                  "expected three files: ARCH.yaml WORKLOAD.yaml MAPPING.yaml");
    against_workload against = {0};
    if (out_path && !strcmp(out_path, "-")) {
        json_stdout = true;
        out_path = NULL;
    }
    ef_sim_options opt = search.sim;

    double t0 = ef_now_seconds();
    int code = EF_EXIT_OK;
    ef_diags *d = ef_diags_create();
    if (!d) return ef_cli_no_diags();
    bool by_dataflow = names_dataflow(files[2], d);
    ef_arch_spec *arch = ef_cli_load_arch(files[0], &search, d);
    ef_cli_layers L;
    bool layers_ok = ef_cli_layers_load(&L, files[1], &search, d);
    ef_mapping_spec *ms = by_dataflow ? NULL : ef_spec_load_mapping(files[2], d);
    ef_dataflow_spec *df = by_dataflow ? ef_cli_load_dataflow(files[2], d) : NULL;
    ef_cli_outcome out;
    memset(&out, 0, sizeof out);
    ef_cli_choice choice;
    memset(&choice, 0, sizeof choice);
    bool choice_ok = layers_ok && (!arch || ef_cli_layers_check_partitions(&L, arch, d)) &&
                     ef_cli_choice_load(&choice, &search, &L, arch, d);
    if (!arch || !layers_ok || !choice_ok || (!ms && !df)) {
        code = L.bad_selection ? EF_EXIT_USAGE : EF_EXIT_INPUT;
        goto done;
    }
    if (against_path) {
        if (L.count > 1) {
            ef_diags_add(d, files[1], 0, 0, "", "pick one layer with --layers NAME", NULL,
                         "--check-against compares one workload, but %s is a network of %d "
                         "layers", files[1], L.count);
            code = EF_EXIT_INPUT;
            goto done;
        }
        if (!load_against(&against, against_path, &search, d)) {
            code = EF_EXIT_INPUT;
            goto done;
        }
    }
    code = ef_cli_execute(arch, &L, df, ms, &choice, &search, quiet, files[2], against.w, &out,
                          d);
    if (code != EF_EXIT_OK) goto done;
    ef_report_layer *layers = out.layers;
    const ef_map_result **founds = out.founds;
    ef_result **results = out.results;
    bool check_failed = out.check_failed;
    char mapping_name[EF_MAX_NAME + 32];
    snprintf(mapping_name, sizeof mapping_name, "dataflow %s (mapper)", df ? df->name : "");
    ef_arch_set arch_sets[EF_MAX_ARCH_SETS];
    int arch_set_count = ef_cli_arch_sets(&search, arch_sets);
    ef_run_meta meta = {.arch_file = files[0], .workload_file = files[1],
                        .mapping_file = df ? mapping_name : files[2],
                        .engine = opt.engine == EF_ENGINE_STEP ? "step" : "event",
                        .fold_model = opt.fold_model == EF_FOLD_SCALESIM ? "scalesim" : "overlap",
                        .wall_seconds = ef_now_seconds() - t0,
                        .check_values = opt.check_values, .seed = opt.seed,
                        .found = founds, .set = search.set,
                        .set_count = search.set_count, .arch_set = arch_sets,
                        .arch_set_count = arch_set_count,
                        .checked_against = against.w ? &out.checked : NULL,
                        .check_against_file = against_path};
    ef_report_network net = {.name = L.net->name, .batch = L.net->batch,
                             .is_network = L.net->is_network};
    const ef_result *const *rs = (const ef_result *const *)results;
    if (out_path || json_stdout) {
        char *json = L.net->is_network ? ef_report_network_json(layers, L.count, &net, &meta)
                                       : ef_report_json(rs, L.einsums, &meta);
        if (!json) {
            code = ef_cli_out_of_memory(d);
            goto done;
        }
        if (json_stdout) {
            puts(json);
        } else if (!ef_cli_write_file(out_path, json)) {
            fprintf(stderr, "einflow run: cannot write %s: %s\n", out_path, strerror(errno));
            code = EF_EXIT_IO;
        }
        free(json);
    }
    if (csv_path) {
        char *csv = L.net->is_network ? ef_report_network_csv(layers, L.count, &net, &meta)
                                      : ef_report_csv(rs, L.einsums, &meta);
        if (!csv) {
            code = ef_cli_out_of_memory(d);
            goto done;
        }
        if (!ef_cli_write_file(csv_path, csv)) {
            fprintf(stderr, "einflow run: cannot write %s: %s\n", csv_path, strerror(errno));
            code = EF_EXIT_IO;
        }
        free(csv);
    }
    if (!json_stdout && !quiet) {
        char *table = L.net->is_network ? ef_report_network_table(layers, L.count, &net)
                                        : ef_report_table(rs, L.einsums, &meta);
        if (!table) {
            code = ef_cli_out_of_memory(d);
            goto done;
        }
        fputs(table, stdout);
        free(table);
        if (out_path) printf("JSON written to %s\n", out_path);
        if (csv_path && code == EF_EXIT_OK) printf("CSV written to %s\n", csv_path);
    }
    if (check_failed && code == EF_EXIT_OK) code = EF_EXIT_VALUES;
done:
    code = ef_cli_finish(d, code);
    ef_cli_outcome_free(&out);
    ef_cli_choice_free(&choice);
    ef_dataflow_spec_destroy(df);
    ef_mapping_spec_destroy(ms);
    ef_cli_layers_free(&L);
    ef_workload_destroy(against.w);
    ef_network_spec_destroy(against.net);
    ef_arch_spec_destroy(arch);
    ef_diags_destroy(d);
    return code;
}
