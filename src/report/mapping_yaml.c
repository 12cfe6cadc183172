/* The mapper's result as a mapping file a user can read, run and edit:
 * the same YAML `einflow run` takes, with comments that say how it was
 * found, what the engine measured, the loop nest at a glance and, per
 * level, how full each buffer is. */
#include "einflow/report.h"
#include "spec/sbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void factors(sbuf *b, const ef_factor_spec *f, int n) {
    sbuf_put(b, "[");
    for (int i = 0; i < n; i++)
        sbuf_put(b, "%s%s: %" PRIu64, i ? ", " : "", f[i].rank, f[i].factor);
    sbuf_put(b, "]");
}

/* "DRAM  temporal [M: 8]  spatial rows [R: 3] cols [P: 14]" */
static void nest_line(sbuf *b, const ef_level_mapping_spec *lm, int width) {
    sbuf_put(b, "#   %-*s", width, lm->level);
    if (lm->temporal_count) {
        sbuf_put(b, " temporal ");
        factors(b, lm->temporal, lm->temporal_count);
    }
    if (lm->row_count || lm->col_count) {
        sbuf_put(b, "  spatial rows ");
        factors(b, lm->rows, lm->row_count);
        sbuf_put(b, " cols ");
        factors(b, lm->cols, lm->col_count);
    }
    if (!lm->temporal_count && !lm->row_count && !lm->col_count) sbuf_put(b, " (no loops)");
    sbuf_put(b, "\n");
}

/* "# tiles: I 7680 words, O 6272 words = 27904 B of 110592 B" */
static void capacity_comment(sbuf *b, const ef_nest *n, int l, const char *indent) {
    const ef_level_spec *ls = &n->arch->levels[l];
    const ef_nest_level *L = &n->levels[l];
    uint64_t total = 0;
    bool any = false;
    sbuf_put(b, "%s# tile%s:", indent, ls->per_pe ? " per PE" : "");
    for (int o = 0; o < n->op_count; o++) {
        if (!L->keeps[o]) continue;
        /* a recurrence's old and new values: one tensor, two tiles */
        bool listed = false;
        uint64_t words = 0;
        for (int k = 0; k < n->op_count; k++) {
            if (!L->keeps[k] || n->ops[k]->tensor != n->ops[o]->tensor) continue;
            listed |= k < o;
            words += L->tile_words[k];
        }
        if (listed) continue;
        const ef_tensor *t = &n->workload->tensors[n->ops[o]->tensor];
        uint64_t bytes = ef_words_to_bytes(words, t->bits);
        total += bytes;
        sbuf_put(b, "%s %s %" PRIu64 " words", any ? "," : "", t->name, words);
        any = true;
    }
    if (!any) sbuf_put(b, " nothing kept");
    if (ls->capacity.given && ls->capacity.amount && !ls->capacity.in_words) {
        uint64_t need = total * (ls->double_buffer ? 2 : 1);
        sbuf_put(b, " = %" PRIu64 " B%s of %" PRIu64 " B", need,
                 ls->double_buffer ? " double-buffered" : "", ls->capacity.amount);
    }
    sbuf_put(b, "\n");
}

/* The outermost level keeps every tensor unless the mapping fuses:
 * then it names the intermediates that stay on chip. */
static void outer_bypass(sbuf *b, const ef_map_result *r, const ef_level_mapping_spec *lm,
                         const char *indent) {
    const ef_nest *n = r->nest;
    bool any = false;
    for (int o = 0; o < n->op_count; o++) {
        const char *t = n->workload->tensors[n->ops[o]->tensor].name;
        bool kept = !lm->keep_given;
        for (int k = 0; k < lm->keep_count && !kept; k++) kept = !strcmp(lm->keep[k], t);
        /* a recurrence's two operands are one tensor, named once */
        bool named = false;
        for (int k = 0; k < o && !named; k++) named = n->ops[k]->tensor == n->ops[o]->tensor;
        if (kept || named) continue;
        sbuf_put(b, any ? ", %s" : "%sbypass: [%s", any ? t : indent, t);
        any = true;
    }
    if (any) sbuf_put(b, "]   # on chip: fused\n");
}

static void level_entries(sbuf *b, const ef_map_result *r, const char *indent) {
    const ef_einsum_mapping_spec *em = r->mapping;
    for (int l = 0; l < em->level_count; l++) {
        const ef_level_mapping_spec *lm = &em->levels[l];
        sbuf_put(b, "%s- level: %s\n", indent, lm->level);
        char inner[32];
        snprintf(inner, sizeof inner, "%s  ", indent);
        if (l == 0) outer_bypass(b, r, lm, inner);
        if (l > 0) capacity_comment(b, r->nest, l, inner);
        if (l > 0) {
            sbuf_put(b, "%skeep: [", inner);
            for (int k = 0; k < lm->keep_count; k++)
                sbuf_put(b, "%s%s", k ? ", " : "", lm->keep[k]);
            sbuf_put(b, "]\n");
        }
        if (lm->temporal_count) {
            sbuf_put(b, "%stemporal: ", inner);
            factors(b, lm->temporal, lm->temporal_count);
            sbuf_put(b, "\n");
        }
        if (lm->row_count || lm->col_count) {
            sbuf_put(b, "%sspatial: {rows: ", inner);
            factors(b, lm->rows, lm->row_count);
            sbuf_put(b, ", cols: ");
            factors(b, lm->cols, lm->col_count);
            sbuf_put(b, "}\n");
        }
    }
}

/* " rows [H: 2, P: 2]", nothing for no loops. */
static void shared_list(sbuf *b, const ef_workload *w, const char *what, const ef_map_loop *lp,
                        int count) {
    if (!count) return;
    sbuf_put(b, "%s [", what);
    for (int k = 0; k < count; k++)
        sbuf_put(b, "%s%s: %" PRIu64, k ? ", " : "", w->rank_names[lp[k].rank], lp[k].factor);
    sbuf_put(b, "]");
}

/* A fused group, said once at its first Einsum: what stays on chip,
 * where, under which shared loops, and how it was chosen. */
static void fusion_comment(sbuf *b, const ef_map_result *const *results, int i) {
    const ef_map_fusion *f = &results[i]->fusion;
    const ef_nest *n = results[i]->nest;
    const ef_workload *w = n->workload;
    if (f->note[0] && (i == 0 || strcmp(f->note, results[i - 1]->fusion.note)))
        sbuf_put(b, "#\n# note: %s\n", f->note);
    if (f->count < 2 || f->first != n->einsum_index) return;
    const char *first = w->tensors[w->einsums[f->first].output.tensor].name;
    const char *last = w->tensors[w->einsums[f->first + f->count - 1].output.tensor].name;
    sbuf_put(b, "#\n# fused: %s .. %s (%d Einsums) run interleaved, tile by tile; their "
             "intermediates stay in %s\n", first, last, f->count,
             n->spec_arch->levels[f->level].name);
    if (f->loop_count || f->row_count || f->col_count) {
        sbuf_put(b, "#   shared loops above %s:", n->spec_arch->levels[f->level].name);
        if (f->loop_count) sbuf_put(b, " %s", n->spec_arch->levels[0].name);
        shared_list(b, w, "", f->loops, f->loop_count);
        /* above a per-PE level: the spatial ones too, at the level the
         * PEs' network leaves */
        if (f->row_count || f->col_count) {
            int pe = f->level, sl = 0;
            while (pe > 0 && n->spec_arch->levels[pe - 1].per_pe) pe--;
            sl = pe > 0 ? pe - 1 : 0;
            sbuf_put(b, "%s %s", f->loop_count ? "," : "", n->spec_arch->levels[sl].name);
            shared_list(b, w, " rows", f->rows, f->row_count);
            shared_list(b, w, " cols", f->cols, f->col_count);
        }
    } else {
        sbuf_put(b, "#   no shared loops: one tile, the whole group at once");
    }
    sbuf_put(b, "; %" PRIu64 " tilings searched, %" PRIu64 " run in the engine\n", f->tilings,
             f->tilings_confirmed);
    if (f->inner_level > 0) {
        /* scores in the PEs (docs/model.md 4.8) */
        sbuf_put(b, "#   kept in the PEs, at %s:", n->spec_arch->levels[f->inner_level].name);
        for (int t = 0, k = 0; t < w->tensor_count; t++)
            if (f->inner[t]) sbuf_put(b, "%s %s", k++ ? "," : "", w->tensors[t].name);
        sbuf_put(b, " (the Einsums touching them spread");
        shared_list(b, w, " rows", f->inner_rows, f->inner_row_count);
        shared_list(b, w, " cols", f->inner_cols, f->inner_col_count);
        sbuf_put(b, ")\n");
    }
    if (results[i]->result)
        sbuf_put(b, "#   engine, the group: %" PRIu64 " cycles (each Einsum's cycles below are "
                 "the group's)\n", results[i]->result->cycles);
}

static void summary_comment(sbuf *b, const ef_map_result *r) {
    const ef_nest *n = r->nest;
    sbuf_put(b, "#\n# %s%s\n", n->einsum->text,
             n->unit == EF_UNIT_VECTOR ? "   (on the vector unit)" : "");
    sbuf_put(b, "#   %" PRIu64 " candidates considered, %" PRIu64 " legal, %" PRIu64
             " confirmed in the engine (%.2f s)\n", r->considered, r->legal, r->confirmed,
             r->seconds);
    if (r->result)
        sbuf_put(b, "#   engine: %" PRIu64 " cycles, utilization %.4f, energy %.6g pJ, "
                 "%" PRIu64 " of %" PRIu64 " PEs active\n", r->result->cycles,
                 r->stats.utilization, r->stats.energy_pj, n->active_pes, n->pes);
    else
        sbuf_put(b, "#   not run in the engine (--confirm 0); %" PRIu64 " of %" PRIu64
                 " PEs active\n", n->active_pes, n->pes);
    sbuf_put(b, "#   estimate that ranked it: %.6g cycles, %.6g pJ\n", r->estimate.cycles,
             r->estimate.energy_pj);
    int width = 1;
    for (int l = 0; l < r->mapping->level_count; l++) {
        int len = (int)strlen(r->mapping->levels[l].level);
        if (len > width) width = len;
    }
    sbuf_put(b, "# Loop nest, outermost first:\n");
    for (int l = 0; l < r->mapping->level_count; l++)
        nest_line(b, &r->mapping->levels[l], width);
}

char *ef_report_mapping_yaml(const ef_map_result *const *results, int count,
                             const ef_map_meta *meta) {
    sbuf b = {0};
    if (count < 1) return NULL;
    const ef_nest *n0 = results[0]->nest;
    sbuf_put(&b, "# %s x %s — dataflow %s, found by `einflow map` (einflow %s)\n",
             n0->arch->name, n0->workload->name, meta->dataflow, EF_VERSION);
    sbuf_put(&b, "#   architecture %s, workload %s\n", meta->arch_file, meta->workload_file);
    sbuf_put(&b, "#   objective %s, seed %" PRIu64 "\n", meta->objective, meta->seed);
    sbuf_put(&b, "#   run it: einflow run %s %s THIS_FILE%s%s", meta->arch_file,
             meta->workload_file, meta->layer ? " --layers " : "", meta->layer ? meta->layer : "");
    if (meta->batch) sbuf_put(&b, " --batch %" PRIu64, meta->batch);
    for (int i = 0; i < meta->set_count; i++)
        if (strcmp(meta->set[i].name, "batch"))
            sbuf_put(&b, " --set %s=%" PRIu64, meta->set[i].name, meta->set[i].value);
    for (int i = 0; i < meta->arch_set_count; i++) {
        const char *v = meta->arch_set[i].value;
        bool quote = strpbrk(v, " \t'\"$`\\") != NULL;
        sbuf_put(&b, " --set %sarch.%s=%s%s", quote ? "'" : "", meta->arch_set[i].path, v,
                 quote ? "'" : "");
    }
    sbuf_put(&b, "\n");
    /* a cascade's total: fused groups count once (docs/model.md 4.8) */
    uint64_t total = 0;
    bool all_run = count > 1;
    for (int i = 0; i < count; i++) {
        all_run &= results[i]->result != NULL;
        if (results[i]->result) total += ef_result_span_cycles(results[i]->result);
    }
    if (all_run) sbuf_put(&b, "#   engine, all %d Einsums: %" PRIu64 " cycles\n", count, total);
    for (int i = 0; i < count; i++) {
        fusion_comment(&b, results, i);
        summary_comment(&b, results[i]);
    }
    if (count == 1 && n0->workload->einsum_count == 1) {
        sbuf_put(&b, "mapping:\n");
        if (results[0]->nest->unit == EF_UNIT_VECTOR) sbuf_put(&b, "unit: vector\n");
        level_entries(&b, results[0], "  ");
    } else {
        sbuf_put(&b, "mappings:\n");
        for (int i = 0; i < count; i++) {
            const ef_nest *n = results[i]->nest;
            sbuf_put(&b, "  - einsum: %s\n",
                     n->workload->tensors[n->ops[n->out_op]->tensor].name);
            if (n->unit == EF_UNIT_VECTOR) sbuf_put(&b, "    unit: vector\n");
            sbuf_put(&b, "    mapping:\n");
            level_entries(&b, results[i], "      ");
        }
    }
    return sbuf_take(&b);
}
