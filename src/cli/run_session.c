/* A run from its command line to its outcome, for `run` and `explain`:
 * parse the options, load the architecture, the workload (or network)
 * and the mapping file or dataflow, then let execute.c map and simulate.
 * One copy, so that `explain` with a command line explains exactly the
 * run `run` makes with it. */
#include "cli/run_session.h"
#include "cli/run_trace.h"
#include "einflow/einsum.h"
#include "einflow/spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ef_cli_run_args_parse(ef_cli_run_args *a, int argc, char **argv, const char *cmd,
                          const char *usage) {
    memset(a, 0, sizeof *a);
    ef_cli_search_defaults(&a->search);
    int nfiles = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        int used = ef_cli_search_option(&a->search, argc, argv, i, cmd, usage);
        if (used < 0) return EF_EXIT_USAGE;
        if (used > 0) {
            i += used - 1;
            continue;
        }
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            fputs(usage, stdout);
            return EF_EXIT_OK;
        } else if (!strcmp(arg, "-o")) {
            if (++i >= argc) return ef_cli_usage_error(cmd, usage, "-o needs a file name");
            a->out_path = argv[i];
        } else if (!strcmp(arg, "--html") && !strcmp(cmd, "run")) {
            if (++i >= argc) return ef_cli_usage_error(cmd, usage, "--html needs a file name");
            a->html_path = argv[i];
        } else if (!strcmp(arg, "--json")) {
            a->json_stdout = true;
        } else if (!strcmp(arg, "--csv") && !strcmp(cmd, "run")) {
            if (++i >= argc) return ef_cli_usage_error(cmd, usage, "--csv needs a file name");
            a->csv_path = argv[i];
        } else if (!strcmp(arg, "-q") || !strcmp(arg, "--quiet")) {
            a->quiet = true;
        } else if (!strcmp(arg, "--check-values")) {
            a->search.sim.check_values = true;
        } else if (!strcmp(arg, "--check-against")) {
            if (++i >= argc)
                return ef_cli_usage_error(cmd, usage, "--check-against needs a workload file");
            a->against_path = argv[i];
            a->search.sim.check_values = true;
        } else if (!strcmp(cmd, "run") &&
                   (!strcmp(arg, "--trace") || !strcmp(arg, "--trace-window"))) {
            if (++i >= argc) return ef_cli_usage_error(cmd, usage, "%s needs a value", arg);
            int code = ef_cli_trace_option(a, arg, argv[i], cmd, usage);
            if (code >= 0) return code;
        } else if (arg[0] == '-' && arg[1]) {
            /* --html, --csv, --trace first: only run has them */
            static const char *const known[] = {"--html", "--csv", "--trace", "--trace-window",
                                                "--help", "--json", "--quiet", "--check-values",
                                                "--check-against", EF_CLI_SEARCH_FLAGS};
            int skip = strcmp(cmd, "run") != 0 ? 4 : 0;
            return ef_cli_unknown_option(cmd, arg, known + skip,
                                         (int)(sizeof known / sizeof known[0]) - skip);
        } else if (nfiles < 3) {
            a->files[nfiles++] = arg;
        } else {
            return ef_cli_usage_error(cmd, usage,
                                      "unexpected argument \"%s\": %s takes three files", arg,
                                      cmd);
        }
    }
    if (nfiles < 3)
        return ef_cli_usage_error(cmd, usage, "%s",
                                  "expected three files: ARCH.yaml WORKLOAD.yaml MAPPING.yaml");
    int code = ef_cli_trace_check(a, cmd, usage);
    if (code >= 0) return code;
    if (a->out_path && !strcmp(a->out_path, "-")) {
        a->json_stdout = true;
        a->out_path = NULL;
    }
    return -1;
}

/* The workload of --check-against, with those of the caller's
 * parameters (--set, --batch) that its file declares: a parameter only
 * the run's workload has (blocks of an online softmax) must not make
 * the other file an error. */
static bool load_against(ef_cli_session *s, const char *path, const ef_cli_search *search) {
    ef_diags *d = s->d;
    ef_network_spec *plain = ef_spec_load_network_set(path, NULL, 0, d);
    if (!plain) return false;
    ef_param_value set[EF_MAX_PARAMS * 4];
    int n = 0;
    for (int i = 0; i < search->set_count && n < (int)(sizeof set / sizeof set[0]); i++)
        for (int p = 0; p < plain->param_count; p++)
            if (!strcmp(plain->params[p].name, search->set[i].name)) set[n++] = search->set[i];
    ef_network_spec_destroy(plain);
    s->against_net = ef_spec_load_network_set(path, set, n, d);
    if (!s->against_net) return false;
    if (s->against_net->layer_count != 1) {
        ef_diags_add(d, path, 0, 0, "", "pick a workload file, or one layer of the network",
                     NULL, "--check-against takes one workload, but %s has %d layers", path,
                     s->against_net->layer_count);
        return false;
    }
    s->against = ef_einsum_build(s->against_net->layers[0].workload, d);
    return s->against != NULL;
}

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

int ef_cli_session_run(ef_cli_session *s, const ef_cli_run_args *a) {
    memset(s, 0, sizeof *s);
    s->t0 = ef_now_seconds();
    s->d = ef_diags_create();
    if (!s->d) return ef_cli_no_diags();
    ef_diags *d = s->d;
    const ef_cli_search *search = &a->search;
    bool by_dataflow = names_dataflow(a->files[2], d);
    s->arch = ef_cli_load_arch(a->files[0], search, d);
    bool layers_ok = ef_cli_layers_load(&s->L, a->files[1], search, d);
    s->ms = by_dataflow ? NULL : ef_spec_load_mapping(a->files[2], d);
    s->df = by_dataflow ? ef_cli_load_dataflow(a->files[2], d) : NULL;
    bool choice_ok = layers_ok &&
                     (!s->arch || ef_cli_layers_check_partitions(&s->L, s->arch, d)) &&
                     ef_cli_choice_load(&s->choice, search, &s->L, s->arch, d);
    if (!s->arch || !layers_ok || !choice_ok || (!s->ms && !s->df))
        return s->L.bad_selection ? EF_EXIT_USAGE : EF_EXIT_INPUT;
    if (a->against_path) {
        if (s->L.count > 1) {
            ef_diags_add(d, a->files[1], 0, 0, "", "pick one layer with --layers NAME", NULL,
                         "--check-against compares one workload, but %s is a network of %d "
                         "layers", a->files[1], s->L.count);
            return EF_EXIT_INPUT;
        }
        if (!load_against(s, a->against_path, search)) return EF_EXIT_INPUT;
    }
    snprintf(s->mapping_name, sizeof s->mapping_name, "dataflow %s (mapper)",
             s->df ? s->df->name : "");
    s->arch_set_count = ef_cli_arch_sets(search, s->arch_sets);
    return ef_cli_execute(s->arch, &s->L, s->df, s->ms, &s->choice, search, a->quiet,
                          a->files[2], s->against, &s->out, d);
}

ef_run_meta ef_cli_session_meta(const ef_cli_session *s, const ef_cli_run_args *a) {
    const ef_sim_options *opt = &a->search.sim;
    return (ef_run_meta){
        .arch_file = a->files[0], .workload_file = a->files[1],
        .mapping_file = s->df ? s->mapping_name : a->files[2],
        .engine = opt->engine == EF_ENGINE_STEP ? "step" : "event",
        .fold_model = opt->fold_model == EF_FOLD_SCALESIM ? "scalesim" : "overlap",
        .wall_seconds = ef_now_seconds() - s->t0, .check_values = opt->check_values,
        .seed = opt->seed, .found = s->out.founds, .set = a->search.set,
        .set_count = a->search.set_count, .arch_set = s->arch_sets,
        .arch_set_count = s->arch_set_count,
        .checked_against = s->against ? &s->out.checked : NULL,
        .check_against_file = a->against_path};
}

int ef_cli_session_write_json(const ef_cli_run_args *a, const char *text, const char *cmd) {
    if (a->json_stdout) {
        puts(text);
        return EF_EXIT_OK;
    }
    if (!ef_cli_write_file(a->out_path, text)) {
        fprintf(stderr, "einflow %s: cannot write %s: %s\n", cmd, a->out_path, strerror(errno));
        return EF_EXIT_IO;
    }
    return EF_EXIT_OK;
}

void ef_cli_session_free(ef_cli_session *s) {
    ef_cli_outcome_free(&s->out);
    ef_cli_choice_free(&s->choice);
    ef_dataflow_spec_destroy(s->df);
    ef_mapping_spec_destroy(s->ms);
    ef_cli_layers_free(&s->L);
    ef_workload_destroy(s->against);
    ef_network_spec_destroy(s->against_net);
    ef_arch_spec_destroy(s->arch);
    ef_diags_destroy(s->d);
    memset(s, 0, sizeof *s);
}
