/* A network run as JSON and as a table: totals over every layer times
 * its count, then one entry per layer with its Einsums in full (and the
 * mapping the mapper found, when it found one). */
#include "einflow/report.h"
#include "report/json_parts.h"
#include "spec/sbuf.h"
#include "report/totals.h"
#include "report/util_loss.h"

#include <inttypes.h>
#include <stdlib.h>

/* Every result of every layer, with the layer's count as its weight. */
static int flatten(const ef_report_layer *layers, int count, const ef_result ***rs,
                   uint64_t **weights) {
    int n = 0;
    for (int i = 0; i < count; i++) n += layers[i].result_count;
    *rs = ef_calloc((size_t)n + 1, sizeof **rs);
    *weights = ef_calloc((size_t)n + 1, sizeof **weights);
    if (!*rs || !*weights) return -1;
    int k = 0;
    for (int i = 0; i < count; i++)
        for (int e = 0; e < layers[i].result_count; e++) {
            (*rs)[k] = layers[i].results[e];
            (*weights)[k++] = layers[i].count;
        }
    return n;
}

cJSON *ef_rj_layer(const ef_report_layer *L) {
    cJSON *lo = cJSON_CreateObject();
    cJSON_AddStringToObject(lo, "name", L->name);
    ef_rj_u64(lo, "count", L->count);
    cJSON *sm = cJSON_AddObjectToObject(lo, "summary");
    ef_rj_summary(sm, L->results, NULL, L->result_count);
    cJSON *es = cJSON_AddArrayToObject(lo, "einsums");
    for (int e = 0; e < L->result_count; e++) {
        cJSON *one = ef_rj_einsum(L->results[e]);
        if (L->found && L->found[e])
            ef_rj_add(one, "search", ef_rj_search(L->found[e], L->results[e]->nest));
        ef_rj_append(es, one);
    }
    return lo;
}

cJSON *ef_rj_network(const ef_report_layer *layers, int count, const ef_report_network *net,
                     const ef_run_meta *meta) {
    if (count < 1 || layers[0].result_count < 1) return NULL;
    const ef_result **rs;
    uint64_t *weights;
    int n = flatten(layers, count, &rs, &weights);
    cJSON *root = NULL;
    if (n > 0) {
        root = cJSON_CreateObject();
        ef_rj_meta(root, meta);
        cJSON *sm = cJSON_AddObjectToObject(root, "summary");
        ef_rj_summary(sm, rs, weights, n);
        ef_rj_checked_against(sm, meta);
        ef_rj_add(root, "architecture", ef_rj_architecture(rs[0]->nest));
        cJSON *nw = cJSON_AddObjectToObject(root, "network");
        cJSON_AddStringToObject(nw, "name", net->name);
        ef_rj_u64(nw, "batch", net->batch);
        cJSON_AddNumberToObject(nw, "layers", count);
        uint64_t repeated = 0;
        for (int i = 0; i < count; i++) repeated += layers[i].count;
        ef_rj_u64(nw, "layers_with_repeats", repeated);
        cJSON *arr = cJSON_AddArrayToObject(root, "layers");
        for (int i = 0; i < count; i++) ef_rj_append(arr, ef_rj_layer(&layers[i]));
    }
    free(rs);
    free(weights);
    return root;
}

char *ef_report_network_json(const ef_report_layer *layers, int count,
                             const ef_report_network *net, const ef_run_meta *meta) {
    uint64_t failures = ef_alloc_failures();
    return ef_rj_print(ef_rj_network(layers, count, net, meta), failures);
}

/* Where each layer's PE-slots went (docs/model.md section 4.9): its
 * stalls by cause and its idle PEs, as shares of its peak. */
static void loss_by_layer(sbuf *b, const ef_report_layer *layers, int count) {
    sbuf_put(b, "  utilization loss by layer (shares of its peak -> utilization)\n");
    for (int i = 0; i < count; i++) {
        ef_util_loss l;
        ef_loss_totals(layers[i].results, NULL, layers[i].result_count, &l);
        sbuf_put(b, "  %-24.24s ", layers[i].name);
        ef_loss_line(b, &l);
        sbuf_put(b, "\n");
    }
    const ef_result **rs;
    uint64_t *weights;
    int n = flatten(layers, count, &rs, &weights);
    if (n > 0) {
        ef_util_loss all;
        ef_loss_totals(rs, weights, n, &all);
        sbuf_put(b, "  %-24s ", "total (x counts)");
        ef_loss_line(b, &all);
        sbuf_put(b, "\n");
    } else {
        b->failed = true; /* out of memory: no table rather than a cut one */
    }
    free(rs);
    free(weights);
}

char *ef_report_network_table(const ef_report_layer *layers, int count,
                              const ef_report_network *net) {
    sbuf b = {0};
    if (count < 1 || layers[0].result_count < 1) return NULL;
    const ef_nest *n0 = layers[0].results[0]->nest;
    ef_totals all;
    ef_totals_init(&all);
    uint64_t repeated = 0;
    for (int i = 0; i < count; i++) {
        repeated += layers[i].count;
        for (int e = 0; e < layers[i].result_count; e++)
            ef_totals_add(&all, layers[i].results[e], layers[i].count);
    }
    sbuf_put(&b, "%s (%d layer%s, %" PRIu64 " with repeats, batch %" PRIu64 ") on %s (%" PRIu64
             " PEs, %g MHz)\n", net->name, count, count == 1 ? "" : "s", repeated, net->batch,
             n0->arch->name, n0->pes, n0->arch->clock_mhz);
    sbuf_put(&b, "  %-24s %5s %14s %7s %5s %14s %9s\n", "layer", "count", "cycles", "util",
             "PEs", "energy pJ", "pJ/MAC");
    for (int i = 0; i < count; i++) {
        ef_totals t;
        ef_totals_init(&t);
        for (int e = 0; e < layers[i].result_count; e++)
            ef_totals_add(&t, layers[i].results[e], 1);
        sbuf_put(&b, "  %-24.24s %5" PRIu64 " %14" PRIu64 " %7.4f %5" PRIu64 " %14.6g %9.4g\n",
                 layers[i].name, layers[i].count, t.cycles, ef_totals_utilization(&t),
                 t.active_pes, t.energy_pj, t.macs ? t.energy_pj / (double)t.macs : 0);
    }
    sbuf_put(&b, "  %-24s %5" PRIu64 " %14" PRIu64 " %7.4f %5s %14.6g %9.4g\n", "total", repeated,
             all.cycles, ef_totals_utilization(&all), "", all.energy_pj,
             all.macs ? all.energy_pj / (double)all.macs : 0);
    sbuf_put(&b, "  %" PRIu64 " MACs, %.6g s at the clock\n", all.macs, all.seconds);
    ef_totals_static_line(&b, &all);
    loss_by_layer(&b, layers, count);
    return sbuf_take(&b);
}
