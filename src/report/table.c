/* Text summary: what a user wants to see on the terminal after a run —
 * cycles, utilization, stalls, energy with its split, and accesses per
 * level and tensor. */
#include "einflow/report.h"
#include "einflow/stats.h"
#include "spec/sbuf.h"
#include "report/capacity.h"
#include "report/totals.h"
#include "report/util_loss.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double share(double part, double whole) {
    return whole > 0 ? 100.0 * part / whole : 0;
}

/* "energy 1234 pJ (0.84 pJ/MAC, 2.1 TOPS/W)" and the split by part. */
static void energy_lines(sbuf *b, const ef_result *r, const ef_stats *s) {
    const ef_nest *n = r->nest;
    uint64_t macs = n->einsum->is_mac ? r->ops : 0;
    ef_energy_rates er;
    ef_stats_energy_rates(s->energy_pj, macs, r->ops, s->seconds, &er);
    sbuf_put(b, "  energy       %.6g pJ", s->energy_pj);
    if (r->ops) {
        if (er.has_pj_per_mac) sbuf_put(b, "  (%.4g pJ/MAC", er.pj_per_mac);
        else sbuf_put(b, "  (%.4g pJ/op", s->energy_pj / (double)r->ops);
        if (er.has_tops_per_watt) sbuf_put(b, ", %.4g TOPS/W", er.tops_per_watt);
        sbuf_put(b, ")");
    }
    sbuf_put(b, "\n");
    const char *unit = n->unit == EF_UNIT_VECTOR ? "vector" : n->einsum->is_mac ? "MAC" : "ops";
    sbuf_put(b, "  energy split %s %.1f%%", unit, share(s->compute_energy_pj, s->energy_pj));
    for (int l = 0; l < n->level_count; l++)
        sbuf_put(b, ", %s %.1f%%", n->arch->levels[l].name, share(s->level_energy_pj[l], s->energy_pj));
    /* a network only where the array has one (declared or carrying hops) */
    if (n->noc != &n->default_noc || r->noc.hops)
        sbuf_put(b, ", NoC %.1f%%", share(s->noc_energy_pj, s->energy_pj));
    sbuf_put(b, "\n");
}

/* "DRAM traffic 6144 B (compulsory 4096 B, extra 2048 B)" and, for
 * more than one tensor with traffic, the split per tensor: extra bytes
 * are what a better mapping or fusion could save. */
static void traffic_line(sbuf *b, const ef_totals *t) {
    uint64_t bytes, comp;
    ef_totals_outer_sum(t, &bytes, &comp);
    sbuf_put(b, "  %-12s %" PRIu64 " B  (compulsory %" PRIu64 " B, extra %" PRIu64 " B)\n",
             t->first->spec_arch->levels[0].name, bytes, comp, bytes - comp);
}

static void traffic_lines(sbuf *b, const ef_totals *t) {
    traffic_line(b, t);
    sbuf_put(b, "  %-10s %-6s %14s %14s %14s %14s\n", t->first->spec_arch->levels[0].name,
             "tensor", "accesses", "bytes", "compulsory", "extra");
    for (int k = 0; k < t->tensor_count; k++) {
        uint64_t c = ef_totals_compulsory(t, k), by = t->outer_bytes[k];
        if (t->outer_accesses[k])
            sbuf_put(b, "  %-10s %-6s %14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %14" PRIu64 "\n",
                     "", t->tensor[k], t->outer_accesses[k], by, c, by - c);
    }
}

/* The utilization waterfall from the peak to what was achieved
 * (docs/model.md section 4.9). */
static void loss_lines(sbuf *b, const ef_result *const *rs, int count) {
    ef_util_loss l;
    ef_loss_totals(rs, NULL, count, &l);
    sbuf_put(b, "  utilization loss\n");
    ef_loss_table(b, &l, "    ");
}

/* A cascade's total: its Einsums one after another, each fused group
 * once (docs/output.md, summary). */
static void total_lines(sbuf *b, const ef_result *const *rs, int count) {
    ef_totals t;
    ef_totals_init(&t);
    for (int i = 0; i < count; i++) ef_totals_add(&t, rs[i], 1);
    int groups = 0, fused = 0;
    for (int i = 0; i < count; i++) {
        groups += rs[i]->fused_count && rs[i]->fused_index == 0;
        fused += rs[i]->fused_count > 0;
    }
    sbuf_put(b, "\ntotal, %d Einsums", count);
    if (fused) sbuf_put(b, " (%d fused in %d group%s)", fused, groups, groups == 1 ? "" : "s");
    sbuf_put(b, "\n  cycles       %" PRIu64 "  (%.6g s)\n", t.cycles, t.seconds);
    sbuf_put(b, "  MACs         %" PRIu64 "\n", t.macs);
    if (t.ops > t.macs) sbuf_put(b, "  other ops    %" PRIu64 "\n", t.ops - t.macs);
    sbuf_put(b, "  utilization  %.4f\n", ef_totals_utilization(&t));
    double vu;
    if (ef_totals_vector_utilization(&t, &vu)) sbuf_put(b, "  vector util  %.4f\n", vu);
    /* stalls merged by cause in first-seen order, a fused Einsum's
     * wait on the others left out: it is their time */
    const char *cause[EF_MAX_STALL_CAUSES * 4];
    uint64_t cyc[EF_MAX_STALL_CAUSES * 4], total = 0;
    int nc = 0;
    for (int i = 0; i < count; i++)
        for (int k = 0; k < rs[i]->stall_count; k++) {
            const ef_stall *x = &rs[i]->stalls[k];
            if (rs[i]->fused_count && !strcmp(x->cause, EF_STALL_OTHER_EINSUMS)) continue;
            int j = 0;
            while (j < nc && strcmp(cause[j], x->cause) != 0) j++;
            if (j == nc) {
                if (nc == (int)(sizeof cause / sizeof cause[0])) continue;
                cause[nc] = x->cause;
                cyc[nc++] = 0;
            }
            cyc[j] += x->cycles;
            total += x->cycles;
        }
    sbuf_put(b, "  stalls       %" PRIu64, total);
    for (int j = 0; j < nc; j++) sbuf_put(b, "%s%s %" PRIu64, j ? ", " : "  (", cause[j], cyc[j]);
    sbuf_put(b, "%s\n", nc ? ")" : "");
    loss_lines(b, rs, count);
    ef_energy_rates er;
    ef_stats_energy_rates(t.energy_pj, t.macs, t.ops, t.seconds, &er);
    sbuf_put(b, "  energy       %.6g pJ", t.energy_pj);
    if (er.has_pj_per_mac) sbuf_put(b, "  (%.4g pJ/MAC)", er.pj_per_mac);
    sbuf_put(b, "\n");
    ef_totals_static_line(b, &t);
    traffic_lines(b, &t);
}

char *ef_report_table(const ef_result *const *rs, int count, const ef_run_meta *meta) {
    sbuf b = {0};
    for (int i = 0; i < count; i++) {
        const ef_result *r = rs[i];
        const ef_nest *n = r->nest;
        ef_stats s;
        ef_stats_compute(r, &s);
        sbuf_put(&b, "%s%s  on %s%s%s (%" PRIu64 " %s, %g MHz)\n", i ? "\n" : "",
            n->einsum->text, n->arch->name, n->unit == EF_UNIT_VECTOR ? ", vector unit " : "",
            n->unit == EF_UNIT_VECTOR ? n->arch->vector_unit.name : "", n->pes,
            n->unit == EF_UNIT_VECTOR ? "lanes" : "PEs", n->arch->clock_mhz);
        if (r->fused_count)
            sbuf_put(&b, "  fused        %d of %d Einsums, intermediates at %s: the cycles "
                         "are the group's\n", r->fused_index + 1, r->fused_count,
                     n->arch->levels[r->fusion_level].name);
        sbuf_put(&b, "  cycles       %" PRIu64 "  (%.6g s)\n", r->cycles, s.seconds);
        sbuf_put(&b, "  %-12s %" PRIu64 "\n", n->einsum->is_mac ? "MACs" : "ops", r->ops);
        if (n->unit == EF_UNIT_VECTOR)
            sbuf_put(&b, "  vector util  %.4f  (%s, %" PRIu64 " lanes)\n", s.vector_utilization,
                n->arch->vector_unit.name, n->pes);
        else
            sbuf_put(&b, "  utilization  %.4f\n", s.utilization);
        sbuf_put(&b, "  stalls       %" PRIu64, r->stall_total);
        for (int k = 0; k < r->stall_count; k++)
            sbuf_put(&b, "%s%s %" PRIu64, k ? ", " : "  (", r->stalls[k].cause, r->stalls[k].cycles);
        sbuf_put(&b, "%s\n", r->stall_count ? ")" : "");
        loss_lines(&b, &r, 1);
        energy_lines(&b, r, &s);
        ef_totals one;
        ef_totals_init(&one);
        one.alone = true;
        ef_totals_add(&one, r, 1);
        ef_totals_static_line(&b, &one);
        traffic_line(&b, &one);
        if (r->values_checked)
            sbuf_put(&b, "  values       %" PRIu64 " outputs match a direct evaluation\n",
                r->values_compared);
        /* "used words": the largest tile one instance held (JSON
         * utilized_capacity); "capacity": what one instance has, said
         * once per level when shared, per tensor when partitioned */
        sbuf_put(&b, "  %-10s %-6s %14s %14s %14s %12s  %s\n", "level", "tensor", "reads", "fills",
            "updates", "used words", "capacity");
        for (int l = 0; l < n->level_count; l++) {
            const ef_level_spec *ls = &n->arch->levels[l];
            bool first = true;
            for (int o = 0; o < n->op_count; o++) {
                ef_tensor_sum sum;
                if (!ef_totals_tensor_at(r, NULL, l, o, &sum)) continue;
                const ef_tensor_counters *c = &sum.c;
                const char *tn = n->workload->tensors[n->ops[o]->tensor].name;
                char cap[48] = "";
                if (first || ls->partition_count) ef_report_capacity_text(ls, tn, cap, sizeof cap);
                first = false;
                sbuf_put(&b, "  %-10s %-6s %14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %12" PRIu64
                    "%s%s\n", ls->name, tn, c->reads, c->fills, c->updates, c->utilized_words,
                    cap[0] ? "  " : "", cap);
            }
        }
    }
    if (count > 1) total_lines(&b, rs, count);
    const ef_values_check *c = meta->checked_against;
    if (c) {
        sbuf_put(&b, "\nchecked against %s (%s): %" PRIu64 " elements of", c->workload,
                 meta->check_against_file ? meta->check_against_file : "", c->words_compared);
        for (int i = 0; i < c->tensor_count; i++) sbuf_put(&b, " %s", c->tensors[i]);
        sbuf_put(&b, " %s\n  max error %.3g absolute, %.3g relative (allowed %g x max(1, "
                     "|value|))\n", c->passed ? "agree" : "DISAGREE", c->max_abs_error,
                 c->max_rel_error, c->tolerance);
    }
    return sbuf_take(&b);
}
