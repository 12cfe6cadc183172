/* einflow — importing Timeloop inputs (`einflow import-timeloop`).
 *
 * Converts a Timeloop architecture (v0.4 `nodes:` with !Container and
 * !Component, or v0.3 `subtree:`/`local:`), problem (`shape:` with
 * data spaces and projections, `instance:`) and, optionally, mapping
 * (`mapping:` directives with target, type, factors, permutation,
 * split, keep, bypass) into the texts of einflow's three spec files.
 * What einflow has no equivalent for is a located diagnostic
 * (file:line:col, key path, expected/found). docs/cli.md lists how each
 * Timeloop concept is carried over.
 *
 * Ownership: the input's paths are borrowed for the call; every text of
 * an ef_timeloop_output is malloc'd (ef_malloc) and freed by
 * ef_timeloop_output_free. */
#ifndef EINFLOW_TIMELOOP_H
#define EINFLOW_TIMELOOP_H

#include "einflow/common.h"

typedef struct {
    const char *arch_file;       /* a file with `architecture:`          */
    const char *problem_file;    /* a file with `problem:`               */
    const char *mapping_file;    /* a file with `mapping:`, or NULL      */
} ef_timeloop_input;

typedef struct {
    char *arch_yaml;             /* einflow architecture file text       */
    char *workload_yaml;         /* einflow workload file text           */
    char *mapping_yaml;          /* einflow mapping file text; NULL when
                                    no mapping file was given            */
    char arch_name[EF_MAX_NAME]; /* the names the texts give             */
    char workload_name[EF_MAX_NAME];
    int level_count;             /* storage levels                       */
    int rows, cols;              /* PE array                             */
} ef_timeloop_output;

/* Reads the three files and fills out (zeroed first). Returns EF_OK, or
 * EF_ERR_SPEC / EF_ERR_IO / EF_ERR_NOMEM with diagnostics in d and out
 * left empty. */
ef_status ef_timeloop_import(const ef_timeloop_input *in, ef_timeloop_output *out,
                             ef_diags *d);
/* Frees out's texts and zeroes it; NULL is fine. */
void ef_timeloop_output_free(ef_timeloop_output *out);

#endif
