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
} ef_cli_layers;

/* Loads path with the parameters s sets (--set, --batch), keeps the
 * layers s->layers lists (NULL: all; names or prefixes ending in '*',
 * comma-separated) and builds them; false with diagnostics on any
 * error (ef_cli_layers_free is still needed). */
bool ef_cli_layers_load(ef_cli_layers *L, const char *path, const ef_cli_search *s,
                        ef_diags *d);
void ef_cli_layers_free(ef_cli_layers *L);

/* Maps every Einsum of every layer with each of the ndf dataflows on
 * s->threads threads: found[k * L->einsums + L->first[i] + e] is
 * dataflow k, layer i, Einsum e (the caller clears each). */
ef_status ef_cli_layers_map(const ef_cli_layers *L, const ef_arch_spec *arch,
                            ef_dataflow_spec *const *dfs, int ndf, const ef_cli_search *s,
                            ef_map_result *found, ef_diags *d);

#endif
