/* `einflow map ARCH WORKLOAD --dataflow rs -o mapping.yaml`: search a
 * mapping for every Einsum of the workload within a dataflow template,
 * confirm the best in the engine, and write it as an editable mapping
 * file with comments. */
#include "cli/cli.h"
#include "cli/layers.h"
#include "einflow/einsum.h"
#include "einflow/map.h"
#include "einflow/report.h"
#include "einflow/spec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char map_usage[] =
    "usage: einflow map ARCH.yaml WORKLOAD.yaml [options]\n"
    "\n"
    "Searches a mapping of WORKLOAD onto ARCH within a dataflow template,\n"
    "ranks candidates with an analytical estimate, confirms the best in the\n"
    "engine and writes the winner as a mapping file for `einflow run`.\n"
    "\n"
    "options:\n"
    "  --dataflow D        ws, os, is, rs, nlr, free (the default: no\n"
    "                      template), fused (a cascade with its intermediates\n"
    "                      on chip), vector, or a template file\n"
    "                      (docs/dataflows.md)\n"
    EF_CLI_EINSUM_DATAFLOW_HELP
    "  -o FILE             write the mapping to FILE (default: stdout)\n"
    "  --layers NAME       the layer of a network file to map (a mapping file\n"
    "                      maps one workload)\n"
    EF_CLI_PARAM_OPTIONS_HELP
    EF_CLI_SEARCH_OPTIONS_HELP
    "  -q, --quiet         print no summary\n"
    "  -h, --help          show this help\n";

int ef_cli_map(int argc, char **argv) {
    ef_cli_search search;
    ef_cli_search_defaults(&search);
    const char *files[2] = {0};
    int nfiles = 0;
    const char *out_path = NULL;
    bool quiet = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int used = ef_cli_search_option(&search, argc, argv, i, "map", map_usage);
        if (used < 0) return EF_EXIT_USAGE;
        if (used > 0) {
            i += used - 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(map_usage, stdout);
            return 0;
        } else if (!strcmp(a, "-o")) {
            if (++i >= argc) return ef_cli_usage_error("map", map_usage, "%s needs a file name", "-o");
            out_path = argv[i];
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = true;
        } else if (a[0] == '-' && a[1]) {
            static const char *const known[] = {EF_CLI_SEARCH_FLAGS, "--quiet", "--help"};
            return ef_cli_unknown_option("map", a, known, (int)(sizeof known / sizeof known[0]));
        } else if (nfiles < 2) {
            files[nfiles++] = a;
        } else {
            return ef_cli_usage_error("map", map_usage,
                                      "unexpected argument \"%s\": map takes two files", a);
        }
    }
    if (nfiles < 2)
        return ef_cli_usage_error("map", map_usage, "%s",
                                  "expected two files: ARCH.yaml WORKLOAD.yaml");
    int code = EF_EXIT_OK;
    ef_diags *d = ef_diags_create();
    if (!d) return ef_cli_no_diags();
    ef_arch_spec *arch = ef_cli_load_arch(files[0], &search, d);
    ef_cli_layers L;
    bool layers_ok = ef_cli_layers_load(&L, files[1], &search, d);
    ef_dataflow_spec *df = ef_cli_load_dataflow(search.dataflow, d);
    if (layers_ok && L.count != 1) {
        ef_diags_add(d, files[1], 0, 0, "layers", "pick one with --layers NAME, or run the "
                     "whole network with `einflow run ARCH NETWORK DATAFLOW`", NULL,
                     "a mapping file maps one workload, but %d layers are selected", L.count);
        layers_ok = false;
    }
    ef_cli_choice choice;
    memset(&choice, 0, sizeof choice);
    bool choice_ok = layers_ok && (!arch || ef_cli_layers_check_partitions(&L, arch, d)) &&
                     ef_cli_choice_load(&choice, &search, &L, arch, d);
    ef_workload *w = arch && layers_ok && df && choice_ok ? L.w[0] : NULL;
    ef_map_result results[EF_MAX_EINSUMS];
    memset(results, 0, sizeof results);
    if (!w) {
        code = L.bad_selection ? EF_EXIT_USAGE : EF_EXIT_INPUT;
        goto done;
    }
    ef_map_options opt;
    ef_cli_search_map_options(&search, df, &opt);
    ef_status st = ef_cli_layers_map(&L, arch, &df, 1, &choice, &search, quiet, results, d);
    if (st != EF_OK) {
        code = ef_cli_status(d, st);
        goto done;
    }
    const ef_map_result *rs[EF_MAX_EINSUMS];
    for (int e = 0; e < w->einsum_count; e++) rs[e] = &results[e];
    ef_arch_set arch_sets[EF_MAX_ARCH_SETS];
    int arch_set_count = ef_cli_arch_sets(&search, arch_sets);
    ef_map_meta meta = {.arch_file = files[0], .workload_file = files[1],
                        .arch_set = arch_sets, .arch_set_count = arch_set_count,
                        .dataflow = df->name, .objective = ef_objective_name(opt.objective),
                        .seed = opt.seed,
                        .layer = L.net->is_network ? L.net->layers[0].workload->name : NULL,
                        .batch = search.batch, .set = search.set,
                        .set_count = search.set_count};
    char *yaml = ef_report_mapping_yaml(rs, w->einsum_count, &meta);
    if (!yaml) {
        code = ef_cli_out_of_memory(d);
        goto done;
    }
    if (!out_path) {
        fputs(yaml, stdout);
    } else if (!ef_cli_write_file(out_path, yaml)) {
        fprintf(stderr, "einflow map: cannot write %s: %s\n", out_path, strerror(errno));
        code = EF_EXIT_IO;
    }
    free(yaml);
    if (out_path && !quiet && code == EF_EXIT_OK) {
        for (int e = 0; e < w->einsum_count; e++) {
            const ef_map_result *r = &results[e];
            if (!r->result) {
                printf("%s: estimate %.6g cycles, %.6g pJ, %" PRIu64 "/%" PRIu64
                       " PEs (%" PRIu64 " candidates, %" PRIu64 " legal, %.2f s)\n",
                       w->einsums[e].text, r->estimate.cycles, r->estimate.energy_pj,
                       r->nest->active_pes, r->nest->pes, r->considered, r->legal, r->seconds);
                continue;
            }
            printf("%s: %" PRIu64 " cycles, utilization %.4f, energy %.6g pJ, %" PRIu64
                   "/%" PRIu64 " PEs (%" PRIu64 " candidates, %" PRIu64 " legal, %.2f s)\n",
                   w->einsums[e].text, r->result->cycles, r->stats.utilization,
                   r->stats.energy_pj, r->nest->active_pes, r->nest->pes, r->considered,
                   r->legal, r->seconds);
        }
        printf("mapping written to %s\n", out_path);
    }
done:
    code = ef_cli_finish(d, code);
    for (int e = 0; e < EF_MAX_EINSUMS; e++) ef_map_result_clear(&results[e]);
    ef_cli_choice_free(&choice);
    ef_dataflow_spec_destroy(df);
    ef_cli_layers_free(&L);
    ef_arch_spec_destroy(arch);
    ef_diags_destroy(d);
    return code;
}
