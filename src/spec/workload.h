/* einflow spec stage, internal — the parts of a workload that a
 * workload file and a layer of a network file write the same way:
 * Einsum strings, ranks, precisions and padding. workload.c and
 * network.c both read them through these functions, so a layer is
 * checked exactly like a workload file, with the same wording.
 *
 * Every function reports into d, located at the file's nodes, with key
 * paths under parent ("" in a workload file, "layers[3]" in a network
 * file), and appends what is valid to w; the caller decides from
 * d->errors whether w is kept.
 *
 * Ownership: w and d are borrowed. Strings copied into w (Einsum texts)
 * are owned by w and freed by ef_workload_spec_destroy. */
#ifndef EF_SPEC_WORKLOAD_H
#define EF_SPEC_WORKLOAD_H

#include "spec/params.h"
#include "spec/ytree.h"

/* Schema rows both tables declare, so the two files document and check
 * these keys identically. */
#define WL_KEY_RANKS(bound_doc)                                            \
    {.name = "ranks", .type = YT_T_MAP, .required = true,                  \
     .doc = "RANK: " bound_doc " for every rank the Einsums iterate"}
#define WL_KEY_PRECISION                                                   \
    {.name = "precision", .type = YT_T_MAP, .unit = "bits",                \
     .doc = "TENSOR: bits per element"}
#define WL_KEY_PARAMS(params_doc)                                          \
    {.name = "params", .type = YT_T_MAP, .doc = params_doc}
#define WL_KEY_PADDING                                                     \
    {.name = "padding", .type = YT_T_MAP, .unit = "elements",              \
     .doc = "TENSOR: [pad per dimension], each N (both sides) or "         \
            "[before, after]"}

#define WL_KEY_INIT                                                        \
    {.name = "init", .type = YT_T_MAP,                                     \
     .doc = "TENSOR: initial value (a number, inf or -inf) of a "          \
            "recurrence's step 0; 0 if absent"}

/* A fresh workload spec for doc d: calloc'd, file copied, default
 * precision 8, path set from parent. NULL (with an out-of-memory
 * diagnostic) on failure. */
ef_workload_spec *wl_create(yt_doc *d, const char *parent);
/* A deep copy of w (its own file name and Einsum texts); NULL when
 * memory runs out. */
ef_workload_spec *wl_clone(const ef_workload_spec *w);

/* One Einsum string at key path `path` (n any node: non-strings are
 * reported). */
void wl_load_einsum(yt_doc *d, const yt_node *n, const char *path,
                    ef_workload_spec *w);
/* A sequence of 1 to EF_MAX_EINSUMS Einsum strings at `path`. */
void wl_load_einsums(yt_doc *d, const yt_node *seq, const char *path,
                     ef_workload_spec *w);

/* The ranks, precision, padding and init keys of o (a table that has the
 * WL_KEY_* rows). params are the parameters rank bounds may name, or
 * NULL where bounds are plain integers (a workload file without
 * params:). */
void wl_load_ranks_precision_padding(yt_obj *o, const wl_params *params,
                                     ef_workload_spec *w);

/* A whole workload file whose root is d->root, into w, with the
 * caller's parameter values set[0 .. set_count) (NULL, 0: none). The
 * file's parameters and their values in use go to *params (batch alone
 * when the file declares no params:). */
void wl_load_file(yt_doc *d, ef_workload_spec *w, const ef_param_value *set,
                  int set_count, wl_params *params);

#endif
