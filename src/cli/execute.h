/* Internal to the CLI: what `run` does between loading the files and
 * reporting, shared with `sweep` so that a sweep's point is exactly
 * the run with the same settings (execute.c). */
#ifndef EF_CLI_EXECUTE_H
#define EF_CLI_EXECUTE_H

#include "cli/layers.h"
#include "einflow/report.h"
#include "einflow/sim.h"

/* Every Einsum's nest and result, and each layer's view of them. */
typedef struct {
    ef_nest **nests;                  /* [einsums] owned                */
    ef_result **results;              /* [einsums] owned                */
    ef_map_result *found;             /* [einsums] the mapper's, owned  */
    const ef_map_result **founds;     /* [einsums] &found[i] where the
                                       * mapper chose, else NULL        */
    ef_report_layer *layers;          /* [layer_count]                  */
    int einsums, layer_count;
    ef_values_check checked;          /* with --check-against           */
    bool check_failed;                /* it found a disagreement        */
} ef_cli_outcome;

/* Maps every Einsum of L with the dataflow df (the mapper, on
 * s->threads threads), or builds it from the mapping file ms (exactly
 * one of df, ms; an entry of ms that names a dataflow, or an Einsum
 * --einsum-dataflow names, is mapped), then simulates each layer as a
 * cascade (with seeded values through the nest when
 * s->sim.check_values; against, when not NULL, is then evaluated
 * with the same inputs and compared, into out->checked). Returns an
 * exit code (EF_EXIT_OK with out filled, a disagreement in
 * out->check_failed); diagnostics go to d. ef_cli_outcome_free is
 * needed either way. */
int ef_cli_execute(const ef_arch_spec *arch, const ef_cli_layers *L, const ef_dataflow_spec *df,
                   const ef_mapping_spec *ms, const ef_cli_choice *choice,
                   const ef_cli_search *s, bool quiet, const char *mapping_path,
                   const ef_workload *against, ef_cli_outcome *out, ef_diags *d);
void ef_cli_outcome_free(ef_cli_outcome *o);

#endif
