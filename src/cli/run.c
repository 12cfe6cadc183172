/* `einflow run`: load the three files, build each Einsum's nest, run
 * the engine Einsum by Einsum (a cascade passes its intermediates
 * through the outermost level), then print a table and/or JSON. With a
 * dataflow in place of the mapping the mapper finds the mappings first,
 * which is also how a network file runs (every layer mapped). The
 * command line and everything up to the results are run_session.c's,
 * shared with `explain`. */
#include "cli/cli.h"
#include "cli/run_session.h"
#include "cli/run_trace.h"
#include "einflow/trace.h"
#include "einflow/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    "  --csv FILE          also write one CSV row per Einsum (per layer and\n"
    "                      Einsum of a network) to FILE\n"
    "  --html FILE         also write a self-contained HTML report (charts of the\n"
    "                      JSON's summary, roofline, energy, utilization, layers\n"
    "                      and the PE array's activity)\n"
    EF_CLI_RUN_OPTIONS_HELP
    EF_CLI_TRACE_OPTIONS_HELP;

/* Frames of the PE array's activity per Einsum in the HTML report; a
 * cycle trace would bring its own (report.h, ef_report_activity). */
#define HTML_FRAMES 96

/* Writes the HTML report of the run s made: json (its JSON) and each
 * Einsum's activity derived from its nest. Returns an exit code. */
/* The report with its animation from the trace when there is one (the
 * one layer --trace follows), else derived from each nest. */
static int write_html(const ef_cli_session *s, const char *path, const char *json,
                      const ef_trace *trace, uint64_t trace_total) {
    const ef_cli_layers *L = &s->L;
    ef_report_activity *acts = ef_calloc((size_t)L->einsums + 1, sizeof *acts);
    if (!acts) return ef_cli_out_of_memory(s->d);
    int n = 0;
    bool ok = true;
    for (int i = 0; i < L->count && ok; i++)
        for (int e = L->first[i]; e < L->first[i + 1] && ok; e++) {
            const ef_nest *nest = s->out.nests[e];
            const char *out = nest->workload->tensors[nest->einsum->output.tensor].name;
            char label[sizeof acts->label];
            if (L->net->is_network)
                snprintf(label, sizeof label, "%s / %s", s->out.layers[i].name, out);
            else
                snprintf(label, sizeof label, "%s", out);
            ok = trace ? ef_trace_activity(trace, nest, e - L->first[i], trace_total, label,
                                           HTML_FRAMES, &acts[n++])
                       : ef_report_activity_derive(&acts[n++], nest, label, HTML_FRAMES);
        }
    char *html = ok ? ef_report_html(json, acts, n) : NULL;
    for (int i = 0; i < n; i++) ef_report_activity_free(&acts[i]);
    free(acts);
    if (!html) return ef_cli_out_of_memory(s->d);
    int code = EF_EXIT_OK;
    if (!ef_cli_write_file(path, html)) {
        fprintf(stderr, "einflow run: cannot write %s: %s\n", path, strerror(errno));
        code = EF_EXIT_IO;
    }
    free(html);
    return code;
}

int ef_cli_run(int argc, char **argv) {
    ef_cli_run_args a;
    int code = ef_cli_run_args_parse(&a, argc, argv, "run", run_usage);
    if (code >= 0) return code;
    ef_cli_session s;
    ef_trace *trace = NULL; /* kept for the HTML report's animation */
    uint64_t trace_total = 0;
    code = ef_cli_session_run(&s, &a);
    if (!s.d) return code;
    if (code != EF_EXIT_OK) goto done;
    ef_run_meta meta = ef_cli_session_meta(&s, &a);
    const ef_cli_layers *L = &s.L;
    ef_report_network net = {.name = L->net->name, .batch = L->net->batch,
                             .is_network = L->net->is_network};
    const ef_result *const *rs = (const ef_result *const *)s.out.results;
    if (a.trace_path &&
        (code = ef_cli_run_trace(&s, &a, a.html_path ? &trace : NULL, &trace_total)) != EF_EXIT_OK)
        goto done;
    if (a.out_path || a.json_stdout || a.html_path) {
        char *json = L->net->is_network
                         ? ef_report_network_json(s.out.layers, L->count, &net, &meta)
                         : ef_report_json(rs, L->einsums, &meta);
        if (!json) {
            code = ef_cli_out_of_memory(s.d);
            goto done;
        }
        if (a.out_path || a.json_stdout) code = ef_cli_session_write_json(&a, json, "run");
        if (a.html_path && code == EF_EXIT_OK)
            code = write_html(&s, a.html_path, json, trace, trace_total);
        free(json);
    }
    if (a.csv_path) {
        char *csv = L->net->is_network ? ef_report_network_csv(s.out.layers, L->count, &net, &meta)
                                       : ef_report_csv(rs, L->einsums, &meta);
        if (!csv) {
            code = ef_cli_out_of_memory(s.d);
            goto done;
        }
        if (!ef_cli_write_file(a.csv_path, csv)) {
            fprintf(stderr, "einflow run: cannot write %s: %s\n", a.csv_path, strerror(errno));
            code = EF_EXIT_IO;
        }
        free(csv);
    }
    if (!a.json_stdout && !a.quiet) {
        char *table = L->net->is_network ? ef_report_network_table(s.out.layers, L->count, &net)
                                         : ef_report_table(rs, L->einsums, &meta);
        if (!table) {
            code = ef_cli_out_of_memory(s.d);
            goto done;
        }
        fputs(table, stdout);
        free(table);
        if (a.out_path) printf("JSON written to %s\n", a.out_path);
        if (a.csv_path && code == EF_EXIT_OK) printf("CSV written to %s\n", a.csv_path);
        if (a.trace_path) printf("Trace written to %s\n", a.trace_path);
        if (a.html_path) printf("HTML report written to %s\n", a.html_path);
    }
    if (s.out.check_failed && code == EF_EXIT_OK) code = EF_EXIT_VALUES;
done:
    ef_trace_destroy(trace);
    code = ef_cli_finish(s.d, code);
    ef_cli_session_free(&s);
    return code;
}
