/* The utilization loss in reports (report/util_loss.h): sums over the
 * Einsums of a cascade or the layers of a network, the JSON object and
 * the tables' waterfall. */
#include "report/util_loss.h"

#include "report/json_parts.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Where a cause goes in the waterfall: the time nothing computed
 * first (the fill, the stalls, the other unit's time), then what the
 * compute cycles left unused. */
static int rank_of(const char *cause) {
    static const char *const order[] = {EF_LOSS_FILL, NULL, EF_LOSS_OTHER_UNIT,
                                        EF_LOSS_ISSUE_GAPS, EF_LOSS_UNUSED_PES,
                                        EF_LOSS_SPATIAL_EDGE, EF_LOSS_TEMPORAL_EDGE,
                                        EF_LOSS_PARTIAL_STEPS, EF_LOSS_MASKED};
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        if (order[i] && strcmp(order[i], cause) == 0) return i;
    return 1; /* a stall cause */
}

static void merge(ef_util_loss *o, const char *cause, uint64_t slots) {
    int i = 0;
    while (i < o->step_count && strcmp(o->steps[i].cause, cause) != 0) i++;
    if (i == o->step_count) {
        if (i == EF_LOSS_MAX_STEPS) return;
        snprintf(o->steps[i].cause, sizeof o->steps[i].cause, "%s", cause);
        o->steps[i].slots = 0;
        o->step_count++;
    }
    o->steps[i].slots += slots;
}

/* stable: first-seen order within a rank */
static void order_steps(ef_util_loss *o) {
    for (int i = 1; i < o->step_count; i++) {
        ef_loss_step s = o->steps[i];
        int j = i;
        while (j > 0 && rank_of(o->steps[j - 1].cause) > rank_of(s.cause)) {
            o->steps[j] = o->steps[j - 1];
            j--;
        }
        o->steps[j] = s;
    }
}

void ef_loss_totals(const ef_result *const *rs, const uint64_t *weights, int count,
                    ef_util_loss *out) {
    memset(out, 0, sizeof *out);
    if (count < 1) return;
    if (count == 1) {
        uint64_t w = weights ? weights[0] : 1;
        ef_util_loss_of(rs[0], out);
        out->peak_slots *= w;
        out->ops *= w;
        for (int k = 0; k < out->step_count; k++) out->steps[k].slots *= w;
        return;
    }
    const ef_arch_spec *a = rs[0]->nest->spec_arch;
    out->pes = (uint64_t)a->rows * (uint64_t)a->cols;
    out->steps_per_cycle = (uint64_t)a->macs_per_cycle;
    uint64_t lost = 0;
    for (int i = 0; i < count; i++) {
        const ef_result *r = rs[i];
        uint64_t w = weights ? weights[i] : 1;
        out->peak_slots += w * ef_result_span_cycles(r) * out->pes * out->steps_per_cycle;
        if (r->nest->unit != EF_UNIT_ARRAY) continue;
        ef_util_loss one;
        ef_util_loss_of(r, &one);
        out->ops += w * one.ops;
        for (int k = 0; k < one.step_count; k++) {
            /* a fused Einsum's wait on the others is their own time */
            if (r->fused_count && !strcmp(one.steps[k].cause, EF_STALL_OTHER_EINSUMS)) continue;
            merge(out, one.steps[k].cause, w * one.steps[k].slots);
            lost += w * one.steps[k].slots;
        }
    }
    /* on one unit, a fused group's Einsums' own cycles add up to at
     * most the group's (docs/model.md section 4.8) */
    uint64_t used = out->ops + lost;
    merge(out, EF_LOSS_OTHER_UNIT, out->peak_slots > used ? out->peak_slots - used : 0);
    if (out->steps[out->step_count - 1].slots == 0) out->step_count--;
    order_steps(out);
}

static double share(uint64_t part, uint64_t whole) {
    return whole ? (double)part / (double)whole : 0;
}

cJSON *ef_rj_util_loss(const ef_util_loss *l) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "unit", l->vector ? "vector" : "array");
    ef_rj_u64(o, "pes", l->pes);
    ef_rj_u64(o, "steps_per_cycle", l->steps_per_cycle);
    ef_rj_u64(o, "peak_slots", l->peak_slots);
    ef_rj_u64(o, "ops", l->ops);
    ef_rj_u64(o, "lost_slots", l->peak_slots - l->ops);
    ef_rj_num(o, "utilization", share(l->ops, l->peak_slots));
    cJSON *arr = cJSON_AddArrayToObject(o, "steps");
    uint64_t left = l->peak_slots;
    for (int k = 0; k < l->step_count; k++) {
        const ef_loss_step *s = &l->steps[k];
        left -= s->slots;
        cJSON *one = cJSON_CreateObject();
        cJSON_AddStringToObject(one, "cause", s->cause);
        ef_rj_u64(one, "slots", s->slots);
        ef_rj_num(one, "share", share(s->slots, l->peak_slots));
        ef_rj_num(one, "remaining", share(left, l->peak_slots));
        ef_rj_append(arr, one);
    }
    return o;
}

void ef_loss_table(sbuf *b, const ef_util_loss *l, const char *indent) {
    sbuf_put(b, "%s%-18s %16" PRIu64 " slots  1.0000  (cycles x %" PRIu64 " %s x %" PRIu64 ")\n",
             indent, "peak", l->peak_slots, l->pes, l->vector ? "lanes" : "PEs",
             l->steps_per_cycle);
    uint64_t left = l->peak_slots;
    for (int k = 0; k < l->step_count; k++) {
        const ef_loss_step *s = &l->steps[k];
        left -= s->slots;
        sbuf_put(b, "%s- %-16s %16" PRIu64 " slots  %.4f  -> %.4f\n", indent, s->cause, s->slots,
                 share(s->slots, l->peak_slots), share(left, l->peak_slots));
    }
    sbuf_put(b, "%s= %-16s %16" PRIu64 " ops    %.4f\n", indent, "achieved", l->ops,
             share(l->ops, l->peak_slots));
}

void ef_loss_line(sbuf *b, const ef_util_loss *l) {
    for (int k = 0; k < l->step_count; k++)
        sbuf_put(b, "%s%s %.3f", k ? ", " : "", l->steps[k].cause,
                 share(l->steps[k].slots, l->peak_slots));
    sbuf_put(b, "%s-> %.4f", l->step_count ? " " : "", share(l->ops, l->peak_slots));
}
