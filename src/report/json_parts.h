/* Internal to the report stage: the JSON pieces that single runs,
 * network runs and comparisons share (json.c). Numbers go in as raw
 * text so 64-bit counters stay exact. */
#ifndef EF_REPORT_JSON_PARTS_H
#define EF_REPORT_JSON_PARTS_H

#include <cJSON.h>

#include "einflow/report.h"
#include "einflow/stats.h"

void ef_rj_u64(cJSON *o, const char *key, uint64_t v);
/* Adds item to object o (array a), or frees it when it cannot be added:
 * the report then fails as a whole (ef_alloc_failures), never leaks. */
void ef_rj_add(cJSON *o, const char *key, cJSON *item);
/* root as text, root freed; NULL when any allocation failed since
 * `failures` was read from ef_alloc_failures (a piece may be missing). */
char *ef_rj_print(cJSON *root, uint64_t failures);
void ef_rj_append(cJSON *a, cJSON *item);
/* Shortest text that reads back to v; null when not finite. */
void ef_rj_num(cJSON *o, const char *key, double v);
cJSON *ef_rj_levels(const ef_result *r, const ef_stats *s);
cJSON *ef_rj_noc(const ef_result *r, const ef_stats *s);
cJSON *ef_rj_roofline(const ef_result *r, const ef_stats *s);
/* Totals of results run one after another, result i weights[i] times
 * (NULL: once each). */
void ef_rj_summary(cJSON *sm, const ef_result *const *rs, const uint64_t *weights, int count);
cJSON *ef_rj_meta(cJSON *root, const ef_run_meta *meta);
/* The whole JSON of a run of a workload, of a network and of a
 * comparison, as a tree the caller deletes: what ef_report_json,
 * ef_report_network_json and ef_report_compare_json print, and what
 * their CSVs (csv_rows.c) are read from. NULL when there is nothing to
 * report or memory ran out before the root was made. */
cJSON *ef_rj_run(const ef_result *const *rs, int count, const ef_run_meta *meta);
cJSON *ef_rj_network(const ef_report_layer *layers, int count, const ef_report_network *net,
                     const ef_run_meta *meta);
cJSON *ef_rj_compare(const ef_report_compare_entry *entries, int count,
                     const ef_report_network *net, const ef_compare_meta *meta);
/* summary.checked_against, when the run has one (--check-against). */
void ef_rj_checked_against(cJSON *sm, const ef_run_meta *meta);
cJSON *ef_rj_architecture(const ef_nest *n0);
/* One Einsum in full: summary, levels, noc, roofline, mapping. */
cJSON *ef_rj_einsum(const ef_result *r);
/* One layer of a network run: name, count, summary, its Einsums. */
cJSON *ef_rj_layer(const ef_report_layer *L);
/* The mapping a nest ran, as data: per level of the nest, outermost
 * first, {level, keep, temporal: [{RANK: factor}], spatial: {rows,
 * cols}}, loop order kept. */
cJSON *ef_rj_mapping(const ef_nest *n);
/* How the mapper found it: considered, legal, confirmed, the estimate,
 * the template and unit, and a fused dataflow's group (no time: wall
 * time lives under meta only). n is the Einsum's nest, for names. */
cJSON *ef_rj_search(const ef_map_result *r, const ef_nest *n);

#endif
