/* What `run` and each point of `sweep` do once the files are loaded:
 * the mapper fills in every Einsum the run leaves to a dataflow, the
 * engine runs each layer's Einsums as a cascade (intermediates through
 * the outermost level), and each layer's results are set out for the
 * reports. */
#include "cli/execute.h"
#include "einflow/einsum.h"
#include "einflow/model.h"
#include "einflow/common.h"

#include <stdlib.h>
#include <string.h>

/* With a mapping file, Einsum e's entry may name a dataflow instead of
 * loops (`dataflow: DF`), and --einsum-dataflow may name one for it:
 * then the mapper fills it in, alone (*out gets its nest). EF_OK with
 * out untouched for a written mapping. */
static ef_status fill_in(const ef_arch_spec *arch, const ef_workload *w,
                         const ef_mapping_spec *ms, int e, const ef_cli_choice *choice,
                         const ef_cli_search *s, ef_map_result *out, ef_diags *d) {
    const char *name = w->tensors[w->einsums[e].output.tensor].name;
    const ef_dataflow_spec *df = NULL;
    ef_dataflow_spec *own = NULL;
    for (int k = 0; k < choice->count && !df; k++)
        if (!strcmp(choice->names[k], name)) df = choice->dfs[k];
    for (int i = 0; i < ms->mapping_count && !df; i++) {
        const ef_einsum_mapping_spec *em = &ms->mappings[i];
        bool mine = (em->einsum[0] == 0 && w->einsum_count == 1) || !strcmp(em->einsum, name);
        if (!mine || !em->dataflow[0]) continue;
        if (!(own = ef_cli_entry_dataflow(em, i, d))) return EF_ERR_SPEC;
        df = own;
    }
    if (!df) return EF_OK;
    ef_map_options opt;
    ef_cli_search_map_options(s, df, &opt);
    ef_status st = ef_map_search(arch, w, e, &opt, out, d);
    ef_dataflow_spec_destroy(own);
    return st;
}

/* The nests of a mapping file's Einsums (the mapper's for those that
 * name a dataflow). */
static int build_nests(const ef_arch_spec *arch, const ef_cli_layers *L,
                       const ef_mapping_spec *ms, const ef_cli_choice *choice,
                       const ef_cli_search *s, ef_cli_outcome *o, ef_diags *d) {
    bool nest_ok = true;
    for (int e = 0; e < L->einsums; e++) {
        ef_status st = fill_in(arch, L->w[0], ms, e, choice, s, &o->found[e], d);
        if (st == EF_OK && o->found[e].nest) {
            /* the mapper's, for an entry that names a dataflow */
            o->nests[e] = o->found[e].nest;
            o->found[e].nest = NULL;
            o->founds[e] = &o->found[e];
        } else if (st == EF_OK) {
            o->nests[e] = ef_nest_build(arch, L->w[0], ms, e, d);
        } else if (st != EF_ERR_MAPPING && st != EF_ERR_SPEC) {
            return ef_cli_status(d, st);
        }
        nest_ok &= o->nests[e] != NULL;
    }
    return nest_ok ? EF_EXIT_OK : d->out_of_memory ? EF_EXIT_INTERNAL : EF_EXIT_INPUT;
}

int ef_cli_execute(const ef_arch_spec *arch, const ef_cli_layers *L, const ef_dataflow_spec *df,
                   const ef_mapping_spec *ms, const ef_cli_choice *choice,
                   const ef_cli_search *s, bool quiet, const char *mapping_path,
                   const ef_workload *against, ef_cli_outcome *o, ef_diags *d) {
    memset(o, 0, sizeof *o);
    const ef_sim_options *opt = &s->sim;
    if (L->count > 1 && !df) {
        ef_diags_add(d, mapping_path, 0, 0, "",
                     "give a dataflow instead (einflow run ARCH NETWORK rs), or pick the "
                     "mapping's layer with --layers NAME", NULL,
                     "a mapping file maps one workload, but %s is a network of %d layers",
                     L->net->file, L->count);
        return EF_EXIT_INPUT;
    }
    o->einsums = L->einsums;
    o->layer_count = L->count;
    o->nests = ef_calloc((size_t)L->einsums, sizeof *o->nests);
    o->results = ef_calloc((size_t)L->einsums, sizeof *o->results);
    o->found = ef_calloc((size_t)L->einsums, sizeof *o->found);
    o->founds = ef_calloc((size_t)L->einsums, sizeof *o->founds);
    o->layers = ef_calloc((size_t)L->count, sizeof *o->layers);
    if (!o->nests || !o->results || !o->found || !o->founds || !o->layers)
        return ef_cli_out_of_memory(d);
    if (df) {
        ef_dataflow_spec *dfs[1] = {(ef_dataflow_spec *)df};
        ef_status st = ef_cli_layers_map(L, arch, dfs, 1, choice, s, quiet, o->found, d);
        if (st != EF_OK) return ef_cli_status(d, st);
        /* the mapper's confirming run is the result, unless values
         * have to go through the nest as well */
        for (int j = 0; j < L->einsums; j++) {
            o->nests[j] = o->found[j].nest;
            o->found[j].nest = NULL;
            o->founds[j] = &o->found[j];
            if (!opt->check_values) {
                o->results[j] = o->found[j].result;
                o->found[j].result = NULL;
            }
        }
    } else {
        int code = build_nests(arch, L, ms, choice, s, o, d);
        if (code != EF_EXIT_OK) return code;
    }
    /* each layer's Einsums run as a cascade; a value check chains
     * outputs into later inputs inside one layer only */
    for (int i = 0; i < L->count; i++) {
        int at = L->first[i], n = L->w[i]->einsum_count;
        if (!o->results[at]) {
            ef_values *vals = NULL;
            if (opt->check_values && !(vals = ef_values_create(L->w[i], opt->seed)))
                return ef_cli_out_of_memory(d);
            ef_status st = ef_sim_run_cascade(&o->nests[at], n, opt, vals, s->threads,
                                              &o->results[at], d);
            if (st == EF_OK && against) {
                /* a mismatch still reports, then exits as a value check */
                st = ef_values_check_against(vals, against, &o->checked, d);
                if (st == EF_ERR_VALUES) {
                    o->check_failed = true;
                    st = EF_OK;
                }
            }
            ef_values_destroy(vals);
            if (st != EF_OK) return ef_cli_status(d, st);
        }
        o->layers[i] = (ef_report_layer){.name = L->net->layers[i].workload->name,
                                         .count = L->net->layers[i].count,
                                         .results = (const ef_result *const *)&o->results[at],
                                         .found = &o->founds[at], .result_count = n};
    }
    return EF_EXIT_OK;
}

void ef_cli_outcome_free(ef_cli_outcome *o) {
    for (int j = 0; j < o->einsums; j++) {
        if (o->results) ef_result_destroy(o->results[j]);
        if (o->nests) ef_nest_destroy(o->nests[j]);
        if (o->found) ef_map_result_clear(&o->found[j]);
    }
    free(o->results);
    free(o->nests);
    free(o->found);
    free(o->founds);
    free(o->layers);
    memset(o, 0, sizeof *o);
}
