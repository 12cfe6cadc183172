/* `einflow compare ARCH WORKLOAD --dataflows ws,os,is,rs,nlr`: the
 * mapper finds the best mapping of every layer under each dataflow, the
 * engine measures each, and one table (and, with -o, one JSON file)
 * sets them side by side. */
#include "cli/layers.h"
#include "einflow/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char compare_usage[] =
    "usage: einflow compare ARCH.yaml WORKLOAD.yaml [options]\n"
    "\n"
    "Maps WORKLOAD (a workload or a network file) onto ARCH under each\n"
    "dataflow, simulates every mapping found and prints them side by side:\n"
    "cycles, utilization, energy and its split by level, accesses of the\n"
    "outermost level per tensor, and the mappings.\n"
    "\n"
    "options:\n"
    "  --dataflows LIST    comma-separated built-in names or template files\n"
    "                      (default ws,os,is,rs,nlr; fused for a cascade with\n"
    "                      its intermediates on chip)\n"
    EF_CLI_PARAM_OPTIONS_HELP
    "  --layers LIST       only these layers of a network file: names, or\n"
    "                      prefixes ending in * (conv1,conv2 or conv*)\n"
    EF_CLI_EINSUM_DATAFLOW_HELP
    "  -o FILE             also write the comparison as JSON to FILE\n"
    "  --json              print the JSON on stdout instead of the table\n"
    "  --html FILE         also write a self-contained HTML report of the comparison\n"
    "  --seeds N           search each dataflow with N seeds (--seed, --seed+1,\n"
    "                      ...; default 3), keep the best of each and say\n"
    "                      whether the winner's lead exceeds their spread\n"
    "  --csv FILE          also write one CSV row per dataflow, layer and\n"
    "                      Einsum to FILE\n"
    EF_CLI_SEARCH_OPTIONS_HELP
    "  -q, --quiet         print nothing on success (-o still writes the JSON)\n"
    "  -h, --help          show this help\n";

#define MAX_SEEDS 16

/* The entries of a comparison from the mapper's results found[k *
 * einsums + ...] of each dataflow k; layers, results and founds are the
 * storage the entries point into. */
static void fill_entries(const ef_cli_layers *L, ef_dataflow_spec *const *dfs, int ndf,
                         ef_map_result *found, ef_report_layer *layers,
                         const ef_result **results, const ef_map_result **founds,
                         ef_report_compare_entry *entries) {
    for (int k = 0; k < ndf; k++) {
        for (int i = 0; i < L->count; i++) {
            int at = k * L->einsums + L->first[i];
            for (int e = 0; e < L->w[i]->einsum_count; e++) {
                results[at + e] = found[at + e].result;
                founds[at + e] = &found[at + e];
            }
            layers[k * L->count + i] = (ef_report_layer){
                .name = L->net->layers[i].workload->name, .count = L->net->layers[i].count,
                .results = &results[at], .found = &founds[at],
                .result_count = L->w[i]->einsum_count};
        }
        entries[k] = (ef_report_compare_entry){.dataflow = dfs[k], .layers = &layers[k * L->count],
                                               .layer_count = L->count, .seed_count = 1};
    }
}

/* Splits "ws,os,rs" into names (in place); -1 past EF_MAX_DATAFLOWS. */
static int split_list(char *list, char **out) {
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (!*tok) continue;
        if (n == EF_MAX_DATAFLOWS) return -1;
        out[n++] = tok;
    }
    return n;
}

int ef_cli_compare(int argc, char **argv) {
    ef_cli_search search;
    ef_cli_search_defaults(&search);
    const char *files[2] = {0};
    int nfiles = 0;
    const char *out_path = NULL, *csv_path = NULL, *html_path = NULL;
    bool json_stdout = false, quiet = false;
    char list[1024] = "ws,os,is,rs,nlr";
    int seeds = 3;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int used = ef_cli_search_option(&search, argc, argv, i, "compare", compare_usage);
        if (used < 0) return EF_EXIT_USAGE;
        if (used > 0) {
            i += used - 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(compare_usage, stdout);
            return 0;
        } else if (!strcmp(a, "-o")) {
            if (++i >= argc)
                return ef_cli_usage_error("compare", compare_usage, "-o needs a file name");
            out_path = argv[i];
        } else if (!strcmp(a, "--html")) {
            if (++i >= argc)
                return ef_cli_usage_error("compare", compare_usage, "--html needs a file name");
            html_path = argv[i];
        } else if (!strcmp(a, "--json")) {
            json_stdout = true;
        } else if (!strcmp(a, "--seeds")) {
            char *end = NULL;
            long v = ++i < argc ? strtol(argv[i], &end, 10) : 0;
            if (i >= argc || !end || *end || end == argv[i] || v < 1 || v > MAX_SEEDS)
                return ef_cli_usage_error("compare", compare_usage,
                                          "--seeds expects a number from 1 to %d, found \"%s\"",
                                          MAX_SEEDS, i < argc ? argv[i] : "");
            seeds = (int)v;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = true;
        } else if (!strcmp(a, "--csv")) {
            if (++i >= argc)
                return ef_cli_usage_error("compare", compare_usage, "--csv needs a file name");
            csv_path = argv[i];
        } else if (!strcmp(a, "--dataflows")) {
            if (++i >= argc || strlen(argv[i]) >= sizeof list)
                return ef_cli_usage_error("compare", compare_usage,
                                          "--dataflows needs a list such as ws,os,rs");
            snprintf(list, sizeof list, "%s", argv[i]);
        } else if (a[0] == '-' && a[1]) {
            static const char *const known[] = {EF_CLI_SEARCH_FLAGS, "--dataflows",
                                                "--json", "--html", "--seeds", "--quiet",
                                                "--csv", "--help"};
            return ef_cli_unknown_option("compare", a, known,
                                         (int)(sizeof known / sizeof known[0]));
        } else if (nfiles < 2) {
            files[nfiles++] = a;
        } else {
            return ef_cli_usage_error("compare", compare_usage,
                                      "unexpected argument \"%s\": compare takes two files", a);
        }
    }
    if (nfiles < 2)
        return ef_cli_usage_error("compare", compare_usage, "%s",
                                  "expected two files: ARCH.yaml WORKLOAD.yaml");
    if (search.confirm < 1)
        return ef_cli_usage_error("compare", compare_usage,
                                  "compare measures every mapping: --confirm must be at least 1");
    if (out_path && !strcmp(out_path, "-")) {
        json_stdout = true;
        out_path = NULL;
    }
    char *names[EF_MAX_DATAFLOWS];
    int ndf = split_list(list, names);
    if (ndf < 0)
        return ef_cli_usage_error("compare", compare_usage, "--dataflows lists more than %d dataflows",
                                  EF_MAX_DATAFLOWS);
    if (ndf == 0)
        return ef_cli_usage_error("compare", compare_usage, "--dataflows lists no dataflow");

    double t0 = ef_now_seconds();
    int code = EF_EXIT_OK;
    ef_diags *d = ef_diags_create();
    if (!d) return ef_cli_no_diags();
    ef_cli_layers L;
    ef_dataflow_spec *dfs[EF_MAX_DATAFLOWS] = {0};
    ef_map_result *found = NULL, *trial = NULL;
    double seed_values[EF_MAX_DATAFLOWS][MAX_SEEDS];
    uint64_t best_seed[EF_MAX_DATAFLOWS] = {0};
    ef_report_layer *layers = NULL;
    const ef_result **results = NULL;
    const ef_map_result **founds = NULL;
    ef_arch_spec *arch = ef_cli_load_arch(files[0], &search, d);
    ef_cli_choice choice;
    memset(&choice, 0, sizeof choice);
    bool loaded = ef_cli_layers_load(&L, files[1], &search, d);
    bool ok = loaded && arch && ef_cli_layers_check_partitions(&L, arch, d) &&
              ef_cli_choice_load(&choice, &search, &L, arch, d);
    for (int k = 0; k < ndf; k++) ok &= (dfs[k] = ef_cli_load_dataflow(names[k], d)) != NULL;
    if (!ok) {
        code = L.bad_selection ? EF_EXIT_USAGE : EF_EXIT_INPUT;
        goto done;
    }
    int total = ndf * L.einsums;
    found = ef_calloc((size_t)total, sizeof *found);
    layers = ef_calloc((size_t)ndf * (size_t)L.count, sizeof *layers);
    results = ef_calloc((size_t)total, sizeof *results);
    founds = ef_calloc((size_t)total, sizeof *founds);
    trial = seeds > 1 ? ef_calloc((size_t)total, sizeof *trial) : NULL;
    if (!found || !layers || !results || !founds || (seeds > 1 && !trial)) {
        code = ef_cli_out_of_memory(d);
        goto done;
    }
    /* each seed's search of every dataflow; a dataflow keeps the
     * mappings of its best seed, and the spread of the seeds' results
     * says how far apart two dataflows must be to differ */
    ef_report_compare_entry entries[EF_MAX_DATAFLOWS];
    ef_cli_search per_seed = search;
    for (int s = 0; s < seeds; s++) {
        per_seed.seed = search.seed + (uint64_t)s;
        ef_map_result *into = s == 0 ? found : trial;
        ef_status st = ef_cli_layers_map(&L, arch, dfs, ndf, &choice, &per_seed,
                                         json_stdout || quiet, into, d);
        if (st != EF_OK) {
            code = ef_cli_status(d, st);
            goto done;
        }
        fill_entries(&L, dfs, ndf, into, layers, results, founds, entries);
        for (int k = 0; k < ndf; k++) {
            seed_values[k][s] = ef_report_compare_objective(&entries[k], search.objective);
            if (s == 0 || seed_values[k][s] >= seed_values[k][best_seed[k] - search.seed])
                continue;
            best_seed[k] = per_seed.seed;
            for (int j = k * L.einsums; j < (k + 1) * L.einsums; j++) {
                ef_map_result t = found[j];
                found[j] = trial[j];
                trial[j] = t;
            }
        }
        if (s == 0)
            for (int k = 0; k < ndf; k++) best_seed[k] = search.seed;
        for (int j = 0; trial && j < total; j++) ef_map_result_clear(&trial[j]);
    }
    fill_entries(&L, dfs, ndf, found, layers, results, founds, entries);
    for (int k = 0; k < ndf; k++) {
        entries[k].seed_values = seed_values[k];
        entries[k].seed_count = seeds;
        entries[k].best_seed = best_seed[k];
    }
    char joined[1024] = "";
    size_t len = 0;
    for (int k = 0; k < ndf && len < sizeof joined; k++)
        len += (size_t)snprintf(joined + len, sizeof joined - len, "%sdataflow %s",
                                k ? ", " : "", dfs[k]->name);
    ef_report_network net = {.name = L.net->name, .batch = L.net->batch,
                             .is_network = L.net->is_network};
    ef_arch_set arch_sets[EF_MAX_ARCH_SETS];
    int arch_set_count = ef_cli_arch_sets(&search, arch_sets);
    ef_compare_meta meta = {
        .run = {.arch_file = files[0], .workload_file = files[1], .mapping_file = joined,
                .engine = search.sim.engine == EF_ENGINE_STEP ? "step" : "event",
                .fold_model = search.sim.fold_model == EF_FOLD_SCALESIM ? "scalesim" : "overlap",
                .wall_seconds = ef_now_seconds() - t0, .seed = search.seed,
                .set = search.set, .arch_set = arch_sets, .arch_set_count = arch_set_count, .set_count = search.set_count},
        .objective = ef_objective_name(search.objective), .evaluations = search.evaluations};
    if (out_path || json_stdout || html_path) {
        char *json = ef_report_compare_json(entries, ndf, &net, &meta);
        if (!json) {
            code = ef_cli_out_of_memory(d);
            goto done;
        }
        if (json_stdout) puts(json);
        else if (out_path && !ef_cli_write_file(out_path, json)) {
            fprintf(stderr, "einflow compare: cannot write %s: %s\n", out_path, strerror(errno));
            code = EF_EXIT_IO;
        }
        /* the page shows the comparison and the best dataflow's charts;
         * no activity frames: several dataflows would need several */
        char *html = html_path && code == EF_EXIT_OK ? ef_report_html(json, NULL, 0) : NULL;
        free(json);
        if (html_path && code == EF_EXIT_OK) {
            if (!html) {
                code = ef_cli_out_of_memory(d);
                goto done;
            }
            if (!ef_cli_write_file(html_path, html)) {
                fprintf(stderr, "einflow compare: cannot write %s: %s\n", html_path,
                        strerror(errno));
                code = EF_EXIT_IO;
            }
            free(html);
        }
    }
    if (csv_path) {
        char *csv = ef_report_compare_csv(entries, ndf, &net, &meta);
        if (!csv) {
            code = ef_cli_out_of_memory(d);
            goto done;
        }
        if (!ef_cli_write_file(csv_path, csv)) {
            fprintf(stderr, "einflow compare: cannot write %s: %s\n", csv_path, strerror(errno));
            code = EF_EXIT_IO;
        }
        free(csv);
    }
    if (!json_stdout && !quiet) {
        char *table = ef_report_compare_table(entries, ndf, &net, &meta);
        if (!table) {
            code = ef_cli_out_of_memory(d);
            goto done;
        }
        fputs(table, stdout);
        free(table);
        if (out_path && code == EF_EXIT_OK) printf("JSON written to %s\n", out_path);
        if (csv_path && code == EF_EXIT_OK) printf("CSV written to %s\n", csv_path);
        if (html_path && code == EF_EXIT_OK) printf("HTML report written to %s\n", html_path);
    }
done:
    code = ef_cli_finish(d, code);
    for (int j = 0; found && j < ndf * L.einsums; j++) ef_map_result_clear(&found[j]);
    for (int j = 0; trial && j < ndf * L.einsums; j++) ef_map_result_clear(&trial[j]);
    free(found);
    free(trial);
    free(layers);
    free(results);
    free(founds);
    for (int k = 0; k < ndf; k++) ef_dataflow_spec_destroy(dfs[k]);
    ef_cli_choice_free(&choice);
    ef_cli_layers_free(&L);
    ef_arch_spec_destroy(arch);
    ef_diags_destroy(d);
    return code;
}
