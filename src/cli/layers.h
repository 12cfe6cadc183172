/* Internal to the CLI: a workload or a network file as layers, and the
 * mapper run over them (layers.c). */
#ifndef EF_CLI_LAYERS_H
#define EF_CLI_LAYERS_H

#include "cli/cli.h"
#include "einflow/einsum.h"

typedef struct {
    ef_network_spec *net;      /* owned; a workload file is one layer   */
    ef_workload **w;           /* [count] owned, built from net         */
    int *first;                /* [count + 1]: index of each layer's
                                  first Einsum among all of them        */
    int count;                 /* layers                                */
    int einsums;               /* Einsums of all layers                 */
    bool bad_selection;        /* --layers named no layer: a usage error */
} ef_cli_layers;

/* Loads path with the parameters s sets (--set, --batch), keeps the
 * layers s->layers lists (NULL: all; names or prefixes ending in '*',
 * comma-separated) and builds them; false with diagnostics on any
 * error (ef_cli_layers_free is still needed). */
bool ef_cli_layers_load(ef_cli_layers *L, const char *path, const ef_cli_search *s,
                        ef_diags *d);
void ef_cli_layers_free(ef_cli_layers *L);
/* On a level with partitions for some of the layers' tensors, every
 * partition names a tensor some layer has (a stray one beside them is a
 * typo, found before any work); false with a located diagnostic and a
 * "did you mean" per stray one. A level none of whose partitions
 * applies (conv partitions under attention) keeps nothing and passes. */
bool ef_cli_layers_check_partitions(const ef_cli_layers *L, const ef_arch_spec *arch,
                                    ef_diags *d);

/* Which dataflow maps which Einsum (dataflows.c): the built-in vector
 * template, and the templates the user names per Einsum with
 * --einsum-dataflow NAME=DF. */
typedef struct {
    ef_dataflow_spec *vector;                 /* owned                  */
    char names[EF_MAX_EINSUMS][EF_MAX_NAME];  /* Einsums, by output     */
    ef_dataflow_spec *dfs[EF_MAX_EINSUMS];    /* owned, one per name    */
    int count;
} ef_cli_choice;

/* Loads s's --einsum-dataflow choices against the layers' Einsums and
 * arch (may be NULL: not checked); false with located diagnostics (an
 * Einsum no layer has, an unknown dataflow, one that fuses, the vector
 * unit on an architecture without one). ef_cli_choice_free is needed
 * either way. */
bool ef_cli_choice_load(ef_cli_choice *c, const ef_cli_search *s, const ef_cli_layers *L,
                        const ef_arch_spec *arch, ef_diags *d);
void ef_cli_choice_free(ef_cli_choice *c);
/* The template of Einsum e of w when the run's dataflow is df: the
 * user's for that Einsum, else ef_map_dataflow_for's (c may be NULL). */
const ef_dataflow_spec *ef_cli_choice_for(const ef_cli_choice *c, const ef_arch_spec *arch,
                                          const ef_workload *w, int e,
                                          const ef_dataflow_spec *df);
/* The template an entry of a mapping file names with `dataflow:`
 * (entry `index` of mappings:); NULL with a diagnostic at the entry. */
ef_dataflow_spec *ef_cli_entry_dataflow(const ef_einsum_mapping_spec *em, int index,
                                        ef_diags *d);

/* Maps every Einsum of every layer with each of the ndf dataflows on
 * s->threads threads: found[k * L->einsums + L->first[i] + e] is
 * dataflow k, layer i, Einsum e (the caller clears each). Each Einsum
 * takes the template ef_cli_choice_for gives it (choice may be NULL);
 * a dataflow that fuses maps each layer's cascade as a whole
 * (ef_map_fused), and its notes go to stderr unless quiet. */
ef_status ef_cli_layers_map(const ef_cli_layers *L, const ef_arch_spec *arch,
                            ef_dataflow_spec *const *dfs, int ndf, const ef_cli_choice *choice,
                            const ef_cli_search *s, bool quiet, ef_map_result *found,
                            ef_diags *d);

#endif
