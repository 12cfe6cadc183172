/* One point of a sweep as one line of JSON: what identifies it (index,
 * key, axis values, dataflow), the totals a design-space plot needs
 * (cycles, energy dynamic, static and total, utilization, power, area
 * in mm^2 and its proxies) and one summary per
 * layer. Compact, so that a point is one line of a JSON Lines file
 * that a single write(2) appends whole. */
#include "einflow/report.h"
#include "report/json_parts.h"

#include <stdlib.h>
#include <string.h>

static cJSON *point_head(const ef_sweep_point_meta *m) {
    cJSON *o = cJSON_CreateObject();
    ef_rj_u64(o, "index", m->index);
    cJSON_AddStringToObject(o, "key", m->key);
    cJSON *v = cJSON_AddObjectToObject(o, "values");
    for (int a = 0; a < m->axis_count; a++) {
        if (m->axis_numeric && m->axis_numeric[a])
            cJSON_AddItemToObject(v, m->axis_paths[a], cJSON_CreateRaw(m->axis_values[a]));
        else
            cJSON_AddStringToObject(v, m->axis_paths[a], m->axis_values[a]);
    }
    cJSON_AddStringToObject(o, "dataflow", m->dataflow);
    return o;
}

/* Moves the named items of a full summary into o, in this order. */
static void pick(cJSON *o, cJSON *summary, const char *const *keys, size_t n) {
    for (size_t i = 0; i < n; i++) {
        cJSON *it = cJSON_DetachItemFromObjectCaseSensitive(summary, keys[i]);
        if (it) cJSON_AddItemToObject(o, keys[i], it);
    }
}

char *ef_report_sweep_point(const ef_report_layer *layers, int count,
                            const ef_sweep_point_meta *m) {
    int n = 0;
    for (int i = 0; i < count; i++) n += layers[i].result_count;
    const ef_result **rs = ef_calloc((size_t)n + 1, sizeof *rs);
    uint64_t *weights = ef_calloc((size_t)n + 1, sizeof *weights);
    char *out = NULL;
    if (rs && weights) {
        int k = 0;
        for (int i = 0; i < count; i++)
            for (int e = 0; e < layers[i].result_count; e++) {
                rs[k] = layers[i].results[e];
                weights[k++] = layers[i].count;
            }
        cJSON *o = point_head(m);
        cJSON *sm = cJSON_CreateObject();
        ef_rj_summary(sm, rs, weights, n);
        static const char *const totals[] = {"cycles", "macs", "utilization", "energy_pj",
                                             "leakage_pj", "energy_total_pj", "power_w",
                                             "power_total_mw", "area_mm2", "area"};
        pick(o, sm, totals, sizeof totals / sizeof totals[0]);
        cJSON_Delete(sm);
        cJSON *arr = cJSON_AddArrayToObject(o, "layers");
        for (int i = 0; i < count; i++) {
            cJSON *lo = cJSON_CreateObject();
            cJSON_AddStringToObject(lo, "name", layers[i].name);
            ef_rj_u64(lo, "count", layers[i].count);
            cJSON *ls = cJSON_CreateObject();
            ef_rj_summary(ls, layers[i].results, NULL, layers[i].result_count);
            static const char *const per_layer[] = {"cycles", "macs", "utilization",
                                                    "energy_pj", "energy_total_pj"};
            pick(lo, ls, per_layer, sizeof per_layer / sizeof per_layer[0]);
            cJSON_Delete(ls);
            cJSON_AddItemToArray(arr, lo);
        }
        out = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
    }
    free(rs);
    free(weights);
    return out;
}

char *ef_report_sweep_error(const ef_sweep_point_meta *m, const char *error) {
    cJSON *o = point_head(m);
    cJSON_AddStringToObject(o, "error", error);
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}
