/* einflow report stage — renders results as JSON (fixed key order,
 * exact 64-bit counters), as CSV and as a short text table.
 *
 * Ownership: the renderers return malloc'd strings the caller frees.
 * results are borrowed. */
#ifndef EINFLOW_REPORT_H
#define EINFLOW_REPORT_H

#include "einflow/map.h"
#include "einflow/sim.h"

typedef struct {
    const char *arch_file, *workload_file, *mapping_file;
    const char *engine;        /* "step"                               */
    const char *fold_model;    /* "overlap" or "scalesim"              */
    double wall_seconds;
    bool check_values;
    uint64_t seed;
    const ef_map_result *const *found; /* the mapper's search of each
                                        * result, or NULL (a mapping file) */
    const ef_param_value *set; /* parameters set by the caller (--set,
                                * --batch), set_count of them; NULL: none */
    int set_count;
    const ef_values_check *checked_against; /* --check-against, or NULL */
    const char *check_against_file;         /* its workload file        */
    const ef_arch_set *arch_set; /* architecture overrides (--set
                                * arch.PATH=VALUE), arch_set_count of
                                * them, recorded as strings keyed
                                * "arch.PATH" after the parameters     */
    int arch_set_count;
} ef_run_meta;

/* One result per Einsum of the workload, in cascade order. */
char *ef_report_json(const ef_result *const *results, int count,
                     const ef_run_meta *meta);
char *ef_report_table(const ef_result *const *results, int count,
                      const ef_run_meta *meta);

/* ---------- networks and comparisons ---------- */

/* One layer of a network run: the results of its Einsums (in cascade
 * order) and how many times the network repeats it. found, when the
 * mapper chose the mappings, has the search of each Einsum. */
typedef struct {
    const char *name;
    uint64_t count;
    const ef_result *const *results;
    const ef_map_result *const *found;   /* NULL, or one per result     */
    int result_count;
} ef_report_layer;

typedef struct {
    const char *name;          /* the network's (or workload's) name   */
    uint64_t batch;
    bool is_network;           /* a network file (else one workload)   */
} ef_report_network;

/* A network run: totals over layers x counts, then every layer. */
char *ef_report_network_json(const ef_report_layer *layers, int count,
                             const ef_report_network *net, const ef_run_meta *meta);
char *ef_report_network_table(const ef_report_layer *layers, int count,
                              const ef_report_network *net);

/* One dataflow's results on every layer, for `einflow compare`. */
typedef struct {
    const ef_dataflow_spec *dataflow;
    const ef_report_layer *layers;
    int layer_count;
    /* the whole workload's objective under each seed searched (the
     * layers above are the best seed's); seed_count 1: one search */
    const double *seed_values;
    int seed_count;
    uint64_t best_seed;
} ef_report_compare_entry;

/* An entry's objective over the whole workload (layers x counts). */
double ef_report_compare_objective(const ef_report_compare_entry *e, ef_objective o);

/* Whether the winner's lead is more than the seeds' noise: margin is
 * (runner-up - winner) / winner, spread (max - min) / min of an entry's
 * seed values, noise the larger spread of the two. */
typedef struct {
    int best, runner_up;       /* entries; runner_up -1 with one entry */
    double margin, noise;
    bool measured;             /* more than one seed was searched      */
    bool within_noise;         /* margin <= noise                      */
} ef_compare_verdict;

void ef_report_compare_verdict(const ef_report_compare_entry *entries, int count,
                               ef_objective o, ef_compare_verdict *v);

typedef struct {
    ef_run_meta run;           /* mapping_file names the dataflows     */
    const char *objective;
    uint64_t evaluations;
} ef_compare_meta;

char *ef_report_compare_json(const ef_report_compare_entry *entries, int count,
                             const ef_report_network *net, const ef_compare_meta *meta);
char *ef_report_compare_table(const ef_report_compare_entry *entries, int count,
                              const ef_report_network *net, const ef_compare_meta *meta);

/* ---------- explain ---------- */

/* A run told the way the lecture notes tell a mapping, per Einsum of
 * every layer (a workload is one layer): the loop nest as pseudo-code
 * (`for`, `parallel_for`, each level's loops under a comment naming
 * the level and what it keeps or bypasses), each level's tile of each
 * tensor in words and bytes, the engine's reads, fills and updates per
 * level and tensor with accesses per MAC and reuse (MACs / accesses),
 * and each level's bandwidth needed over the run (bytes / cycles)
 * against what the architecture gives. The JSON says the same (docs/
 * cli.md, "einflow explain"). NULL when out of memory. */
char *ef_report_explain(const ef_report_layer *layers, int count, const ef_run_meta *meta);
char *ef_report_explain_json(const ef_report_layer *layers, int count, const ef_run_meta *meta);

/* ---------- sweeps ---------- */

/* What names one point of a sweep. Strings are borrowed. */
typedef struct {
    uint64_t index;            /* the point's index in the sweep       */
    const char *key;           /* index plus a hash of its settings    */
    const char *const *axis_paths;   /* [axis_count] as in the sweep file */
    const char *const *axis_values;  /* [axis_count] as written        */
    const bool *axis_numeric;  /* [axis_count] a parameter: a number in
                                * the JSON; else a string               */
    int axis_count;
    const char *dataflow;      /* its dataflow, or the mapping file    */
} ef_sweep_point_meta;

/* One point as one line of JSON (compact, no newline): index, key,
 * values, dataflow, cycles, macs, utilization, energy_pj, leakage_pj,
 * energy_total_pj, power_w, power_total_mw, area_mm2, area and a
 * summary per layer. NULL when out of memory. */
char *ef_report_sweep_point(const ef_report_layer *layers, int count,
                            const ef_sweep_point_meta *m);
/* A point that could not run: index, key, values, dataflow and error
 * (the diagnostics' text). */
char *ef_report_sweep_error(const ef_sweep_point_meta *m, const char *error);

/* ---------- CSV ---------- */

/* The results of `einflow run` and `einflow compare` as CSV: one row
 * per Einsum (per layer and Einsum for a network, per dataflow, layer
 * and Einsum for a comparison), every cell the value the JSON of the
 * same call holds; the columns are in docs/output.md. Returned text is
 * malloc'd (the caller frees it); NULL when memory ran out. */
char *ef_report_csv(const ef_result *const *results, int count, const ef_run_meta *meta);
char *ef_report_network_csv(const ef_report_layer *layers, int count,
                            const ef_report_network *net, const ef_run_meta *meta);
char *ef_report_compare_csv(const ef_report_compare_entry *entries, int count,
                            const ef_report_network *net, const ef_compare_meta *meta);

/* A CSV text built field by field (RFC 4180: a field holding a comma, a
 * quote, a CR or a LF is quoted, its quotes doubled; rows end in LF, so
 * pandas.read_csv and spreadsheets read it as is). Out of memory is
 * sticky: later calls do nothing and ef_csv_take returns NULL. */
typedef struct ef_csv ef_csv;
struct cJSON;

/* NULL when out of memory; ef_csv_take or ef_csv_destroy frees it. */
ef_csv *ef_csv_create(void);
void ef_csv_destroy(ef_csv *c);
void ef_csv_text(ef_csv *c, const char *s);
/* A whole number below 2^53 in plain digits (4700, not 4.7e+03), else
 * the shortest text that reads back to v; an empty field when v is not
 * finite. */
void ef_csv_number(ef_csv *c, double v);
void ef_csv_u64(ef_csv *c, uint64_t v);
/* A JSON value as a field: a number as the JSON wrote it (a raw number
 * keeps its text, so a 64-bit counter stays exact), a string as is,
 * true or false; null, an absent item (NULL), an object or an array
 * give an empty field. */
void ef_csv_json(ef_csv *c, const struct cJSON *item);
void ef_csv_end_row(ef_csv *c);
/* The text, c freed: the caller frees the text; NULL when an append
 * failed. */
char *ef_csv_take(ef_csv *c);

/* The mapper's results (one per Einsum, in cascade order) as a mapping
 * file with comments. */
typedef struct {
    const char *arch_file, *workload_file;
    const char *dataflow;      /* the template's name                 */
    const char *objective;
    uint64_t seed;
    const char *layer;         /* the network layer mapped, or NULL    */
    uint64_t batch;            /* the batch given on the command line,
                                * 0 for the file's                     */
    const ef_arch_set *arch_set; /* --set arch.PATH=VALUE the mapping was
                                * found under, arch_set_count of them:
                                * the run command repeats them        */
    int arch_set_count;
    const ef_param_value *set; /* --set NAME=VALUE of the workload's
                                * parameters, set_count of them (batch
                                * aside): the run command repeats them */
    int set_count;
} ef_map_meta;
char *ef_report_mapping_yaml(const ef_map_result *const *results, int count,
                             const ef_map_meta *meta);

/* ---------- the HTML report (html.c, activity.c) ---------- */

/* The PE array's activity at one instant, for the report's animation.
 * busy is borrowed: rows x cols entries (of its ef_report_activity),
 * row-major, nonzero where the PE issued work at that instant. */
typedef struct {
    uint64_t time;             /* the cycle (a trace) or the step (derived
                                * from the nest) this frame shows     */
    const uint8_t *busy;       /* [rows * cols]                        */
    const char *stall;         /* what held the array back then, or NULL */
} ef_report_frame;

/* A sequence of frames of one Einsum's run. A cycle trace (per-cycle PE
 * busy) plugs in here as it is; without one, ef_report_activity_derive
 * makes the frames from the nest. Strings and frames are borrowed by
 * ef_report_html; an activity from _derive owns them (free it with
 * ef_report_activity_free). */
typedef struct {
    char label[EF_MAX_NAME * 2 + 4]; /* "layer / output", or the output  */
    const char *time_unit;     /* "cycle" or "step"                    */
    const char *source;        /* one sentence the page shows: where the
                                * frames come from                      */
    uint64_t rows, cols;       /* the array (the vector unit: 1 x lanes) */
    uint64_t total_time;       /* cycles or steps of the whole run      */
    ef_report_frame *frames;   /* [frame_count], in time order          */
    int frame_count;
    uint8_t *owned;            /* _derive's storage of the busy maps    */
} ef_report_activity;

/* The frames of nest n's run without a trace: each PE runs the nest's
 * temporal loops one step (one iteration point) at a time, so at step
 * t PE (row, col) is busy iff its point — the temporal loops' digits of
 * t plus its spatial offset — lies inside every rank's bound (edge
 * tiles leave PEs idle) and outside the causal mask. Stalls are not in
 * it: time counts steps, not cycles. At most max_frames frames: every
 * step when there are no more, else the first half consecutively and
 * the rest evenly up to the last step. false when out of memory (a
 * is then empty). label names the Einsum in the page. */
bool ef_report_activity_derive(ef_report_activity *a, const ef_nest *n, const char *label,
                               int max_frames);
void ef_report_activity_free(ef_report_activity *a);

/* The frames of Einsum `einsum` (its place in the traced cascade, nest
 * n) from a cycle trace (einflow/trace.h) of a run of total_cycles: at
 * most max_frames cycles spread over the window. Free with
 * ef_report_activity_free; false when out of memory. */
typedef struct ef_trace ef_trace;
bool ef_trace_activity(const ef_trace *t, const ef_nest *n, int einsum, uint64_t total_cycles,
                       const char *label, int max_frames, ef_report_activity *a);

/* One self-contained HTML page (inline SVG, style and script, nothing
 * fetched) showing json — a run's, a network run's or a comparison's
 * JSON as ef_report_json / _network_json / _compare_json write it,
 * embedded as it is — with acts (may be NULL, count 0) animated. The
 * caller frees the result; NULL when out of memory. */
char *ef_report_html(const char *json, const ef_report_activity *acts, int act_count);

#endif
