/* einflow spec stage, internal — the parameters of a network file (or
 * of a workload file that declares params:) and the rank bounds written
 * over them: `M: ctx`, `P: seq/16`, `G: heads/kv_heads`.
 *
 * A bound is a positive integer, a parameter's name, or an integer
 * expression over parameters and integers with + - * / and
 * parentheses. It is evaluated in signed 64-bit arithmetic with every
 * operation checked for overflow; a division must leave no remainder,
 * since a bound is a whole number and a silent floor would hide a
 * parameter that does not fit the model (seq = 100 with P: seq/16).
 *
 * Every function reports into d, located at the file's nodes, in the
 * wording of yget.c ("expected X, found Y"); the caller decides from
 * d->errors whether what it read is kept.
 *
 * Ownership: nothing here allocates; nodes and d are borrowed. */
#ifndef EF_SPEC_PARAMS_H
#define EF_SPEC_PARAMS_H

#include "spec/ytree.h"

#define WL_MAX_BOUND_NESTING 32 /* parentheses in one bound; a deeper one is
                                   no bound a person writes, and the
                                   evaluator recurses once per level    */

/* The parameters a file's rank bounds may name, with their values in
 * use. batch is always items[0]: 1 unless the file or the caller says
 * otherwise. */
typedef struct {
    ef_param_spec items[EF_MAX_PARAMS];
    int count;
    bool declared;               /* the file has params: (else batch is
                                    its only parameter, and diagnostics
                                    say "the word batch" as they always
                                    have)                                */
    const yt_node *key;          /* the params: key, or NULL: where an
                                    unknown name set by the caller is
                                    reported                             */
} wl_params;

/* A table holding only batch = 1, given by nobody. */
void wl_params_init(wl_params *p);

/* The file's top-level batch: value (already checked >= 1); key is its
 * key node, for the location kept. */
void wl_params_set_batch(wl_params *p, const char *file, const yt_node *key,
                         uint64_t batch);

/* The params: mapping `map` at key node `key`, path "params" (the
 * file's top level). batch_given: the file also has batch:, so a
 * params.batch is reported as given twice. */
void wl_params_load(yt_doc *d, const yt_node *key, const yt_node *map,
                    const char *file, bool batch_given, wl_params *p);

/* Replaces values with the caller's set[0 .. count). An unknown name is
 * reported, with the file's parameters and a "did you mean". */
void wl_params_override(yt_doc *d, const ef_param_value *set, int count,
                        wl_params *p);

/* A rank bound at node n (key path `path`). p == NULL: only a positive
 * integer is a bound (a workload file without params:). *is_batch is
 * set when the bound is the plain word batch. */
bool wl_params_bound(yt_doc *d, const yt_node *n, const char *path,
                     const wl_params *p, uint64_t *out, bool *is_batch);

#endif
