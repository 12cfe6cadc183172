/* The CSV of `einflow run` and `einflow compare`: one row per Einsum
 * (and per layer of a network, per dataflow of a comparison), the
 * values a user plots. Every cell is read from the JSON tree the same
 * call prints (json_parts.h, ef_rj_run and friends), so the CSV cannot
 * drift from the JSON: a raw number keeps the text the JSON has. The
 * columns are documented in docs/output.md, "The CSV of run and
 * compare"; change both together. */
#include "einflow/report.h"
#include "report/json_parts.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An item by a dotted path of object keys ("summary.energy_breakdown.
 * mac"); NULL when a step is missing. Level names are never looked up
 * this way (a name may hold a dot). */
static const cJSON *at(const cJSON *o, const char *path) {
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key) return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

/* The columns read from one Einsum's entry (einsums[] of the JSON),
 * before and after the per-level ones; stall_cycles is the one cell
 * that sums (summary.stall_cycles over its causes). */
typedef struct {
    const char *name;
    const char *path;         /* in the entry; NULL: stall_cycles      */
} column;

static const column head_columns[] = {
    {"output", "output"},
    {"einsum", "einsum"},
    {"fused_index", "fused.index"},
    {"fused_count", "fused.count"},
    {"cycles", "summary.cycles"},
    {"compute_cycles", "summary.compute_cycles"},
    {"stall_cycles", NULL},
    {"macs", "summary.macs"},
    {"ops", "summary.ops"},
    {"utilization", "summary.utilization"},
    {"vector_utilization", "summary.vector_utilization"},
    {"active_pes", "summary.active_pes"},
    {"energy_pj", "summary.energy_pj"},
    {"pj_per_mac", "summary.pj_per_mac"},
    {"power_w", "summary.power_w"},
    {"energy_mac_pj", "summary.energy_breakdown.mac"},
    {"energy_vector_pj", "summary.energy_breakdown.vector"},
    {"energy_noc_pj", "summary.energy_breakdown.noc"},
    {"energy_leakage_pj", "summary.energy_breakdown.leakage"},
};

static const column tail_columns[] = {
    {"outer_bytes", "summary.outer_traffic.bytes"},
    {"outer_compulsory_bytes", "summary.outer_traffic.compulsory_bytes"},
    {"outer_extra_bytes", "summary.outer_traffic.extra_bytes"},
    {"roofline_bound", "roofline.bound"},
    {"peak_ops_per_cycle", "roofline.peak_ops_per_cycle"},
    {"achieved_ops_per_cycle", "roofline.achieved_ops_per_cycle"},
};

/* Per level L, in architecture order: L_energy_pj
 * (summary.energy_breakdown.levels.L), L_read_bytes and L_write_bytes
 * (the entry of levels[] named L; empty for a level a vector Einsum
 * does not see). */
static const char *const level_suffixes[] = {"energy_pj", "read_bytes", "write_bytes"};

typedef struct {
    ef_csv *csv;
    const cJSON *levels;      /* energy_breakdown.levels of the first
                               * Einsum: every declared level, in order */
    bool with_dataflow;       /* a comparison: a dataflow column first  */
} table;

static void header(table *t) {
    if (t->with_dataflow) ef_csv_text(t->csv, "dataflow");
    ef_csv_text(t->csv, "layer");
    ef_csv_text(t->csv, "count");
    for (size_t c = 0; c < sizeof head_columns / sizeof head_columns[0]; c++)
        ef_csv_text(t->csv, head_columns[c].name);
    char name[EF_MAX_NAME + 32];
    const cJSON *l;
    cJSON_ArrayForEach(l, t->levels) {
        for (size_t k = 0; k < sizeof level_suffixes / sizeof level_suffixes[0]; k++) {
            snprintf(name, sizeof name, "%s_%s", l->string, level_suffixes[k]);
            ef_csv_text(t->csv, name);
        }
    }
    for (size_t c = 0; c < sizeof tail_columns / sizeof tail_columns[0]; c++)
        ef_csv_text(t->csv, tail_columns[c].name);
    ef_csv_end_row(t->csv);
}

/* A counter as the JSON printed it (raw digits). */
static uint64_t counter(const cJSON *it) {
    if (cJSON_IsRaw(it)) return strtoull(it->valuestring, NULL, 10);
    return cJSON_IsNumber(it) ? (uint64_t)it->valuedouble : 0;
}

static const cJSON *level_entry(const cJSON *e, const char *name) {
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(e, "levels")) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(l, "name");
        if (cJSON_IsString(n) && !strcmp(n->valuestring, name)) return l;
    }
    return NULL;
}

static void columns(table *t, const cJSON *e, const column *cols, size_t n) {
    for (size_t c = 0; c < n; c++) {
        if (cols[c].path) {
            ef_csv_json(t->csv, at(e, cols[c].path));
            continue;
        }
        uint64_t stalls = 0;
        const cJSON *s;
        cJSON_ArrayForEach(s, at(e, "summary.stall_cycles")) stalls += counter(s);
        ef_csv_u64(t->csv, stalls);
    }
}

/* One row: an Einsum's entry e of layer (its name and count; count
 * NULL for a workload run, which is one layer run once). */
static void einsum_row(table *t, const cJSON *dataflow, const cJSON *layer, const cJSON *count,
                       const cJSON *e) {
    if (t->with_dataflow) ef_csv_json(t->csv, dataflow);
    ef_csv_json(t->csv, layer);
    if (count) ef_csv_json(t->csv, count);
    else ef_csv_text(t->csv, "1");
    columns(t, e, head_columns, sizeof head_columns / sizeof head_columns[0]);
    const cJSON *energies = at(e, "summary.energy_breakdown.levels");
    const cJSON *l;
    cJSON_ArrayForEach(l, t->levels) {
        ef_csv_json(t->csv, cJSON_GetObjectItemCaseSensitive(energies, l->string));
        const cJSON *entry = level_entry(e, l->string);
        ef_csv_json(t->csv, cJSON_GetObjectItemCaseSensitive(entry, "read_bytes"));
        ef_csv_json(t->csv, cJSON_GetObjectItemCaseSensitive(entry, "write_bytes"));
    }
    columns(t, e, tail_columns, sizeof tail_columns / sizeof tail_columns[0]);
    ef_csv_end_row(t->csv);
}

/* The rows of every layer of layers[] (a network run's, or one
 * dataflow's of a comparison). */
static void layer_rows(table *t, const cJSON *dataflow, const cJSON *layers) {
    const cJSON *L, *e;
    cJSON_ArrayForEach(L, layers) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(L, "name");
        const cJSON *count = cJSON_GetObjectItemCaseSensitive(L, "count");
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(L, "einsums"))
            einsum_row(t, dataflow, name, count, e);
    }
}

typedef enum { SHAPE_RUN, SHAPE_NETWORK, SHAPE_COMPARE } shape;

/* The CSV of root, root deleted; NULL when memory ran out anywhere
 * since failures was read (a piece of the tree may be missing). */
static char *csv_of(cJSON *root, shape sh, uint64_t failures) {
    ef_csv *csv = root ? ef_csv_create() : NULL;
    if (csv) {
        const cJSON *dataflows = cJSON_GetObjectItemCaseSensitive(root, "dataflows");
        const cJSON *first = sh == SHAPE_RUN ? at(root, "einsums")
                             : sh == SHAPE_NETWORK
                                 ? at(root, "layers")
                                 : at(cJSON_GetArrayItem(dataflows, 0), "layers");
        if (sh != SHAPE_RUN) first = at(cJSON_GetArrayItem(first, 0), "einsums");
        table t = {.csv = csv, .with_dataflow = sh == SHAPE_COMPARE,
                   .levels = at(cJSON_GetArrayItem(first, 0), "summary.energy_breakdown.levels")};
        header(&t);
        const cJSON *e, *df;
        if (sh == SHAPE_RUN) {
            const cJSON *name = at(root, "workload.name");
            cJSON_ArrayForEach(e, at(root, "einsums")) einsum_row(&t, NULL, name, NULL, e);
        } else if (sh == SHAPE_NETWORK) {
            layer_rows(&t, NULL, at(root, "layers"));
        } else {
            cJSON_ArrayForEach(df, dataflows)
                layer_rows(&t, at(df, "dataflow"), at(df, "layers"));
        }
    }
    char *out = ef_csv_take(csv);
    cJSON_Delete(root);
    if (ef_alloc_failures() != failures) {
        free(out);
        return NULL;
    }
    return out;
}

char *ef_report_csv(const ef_result *const *results, int count, const ef_run_meta *meta) {
    uint64_t failures = ef_alloc_failures();
    return csv_of(ef_rj_run(results, count, meta), SHAPE_RUN, failures);
}

char *ef_report_network_csv(const ef_report_layer *layers, int count,
                            const ef_report_network *net, const ef_run_meta *meta) {
    uint64_t failures = ef_alloc_failures();
    return csv_of(ef_rj_network(layers, count, net, meta), SHAPE_NETWORK, failures);
}

char *ef_report_compare_csv(const ef_report_compare_entry *entries, int count,
                            const ef_report_network *net, const ef_compare_meta *meta) {
    uint64_t failures = ef_alloc_failures();
    return csv_of(ef_rj_compare(entries, count, net, meta), SHAPE_COMPARE, failures);
}
