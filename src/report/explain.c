/* `einflow explain`: a run told the way the lecture notes tell a
 * mapping. Per Einsum: the mapped loop nest as pseudo-code (`for` per
 * temporal loop, `parallel_for` per spatial one, each level's loops
 * under a comment naming the level and what it keeps), each level's
 * tile of each tensor, the engine's accesses per MAC at every level
 * (reuse = MACs / accesses), and the bandwidth each level needed over
 * the run against what the architecture gives it. Text and JSON say
 * the same things; the counts are the engine's (the result's), never
 * an estimate, so they equal what `einflow run` reports. */
#include "einflow/report.h"
#include "einflow/stats.h"
#include "report/capacity.h"
#include "report/json_parts.h"
#include "report/totals.h"
#include "spec/sbuf.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- what both renderings show ---------- */

/* One loop of the pseudo-code. Loops of factor 1 do nothing and are
 * left out (the run's JSON mapping keeps them); the others of a rank
 * are numbered from the innermost, p1 outside p0, as in the notes. */
typedef struct {
    const ef_loop *loop;
    char var[EF_MAX_NAME + 8];
} shown_loop;

typedef struct {
    const ef_result *r;
    const ef_nest *n;
    ef_stats s;
    shown_loop loops[EF_MAX_LOOPS];
    int loop_count;
    int rank_loops[EF_MAX_RANKS];   /* shown loops of each rank          */
} facts;

static const char *tensor_name(const ef_nest *n, int o) {
    return n->workload->tensors[n->ops[o]->tensor].name;
}

/* Operand o is the first of its tensor (a recurrence has two). */
static bool first_of_tensor(const ef_nest *n, int o) {
    for (int k = 0; k < o; k++)
        if (n->ops[k]->tensor == n->ops[o]->tensor) return false;
    return true;
}

/* The words of tensor (of operand o) in level l's full tile: both
 * operands of a recurrence sit there. Padding counts, as in the
 * capacity check (docs/spec.md, "Capacity"). */
static uint64_t tile_words(const ef_nest *n, int l, int o) {
    uint64_t words = 0;
    for (int k = 0; k < n->op_count; k++)
        if (n->ops[k]->tensor == n->ops[o]->tensor && n->levels[l].keeps[k])
            words += n->levels[l].tile_words[k];
    return words;
}

static bool kept(const ef_nest *n, int l, int o) {
    for (int k = 0; k < n->op_count; k++)
        if (n->ops[k]->tensor == n->ops[o]->tensor && n->levels[l].keeps[k]) return true;
    return false;
}

static void facts_of(facts *f, const ef_result *r) {
    memset(f, 0, sizeof *f);
    f->r = r;
    f->n = r->nest;
    ef_stats_compute(r, &f->s);
    const ef_nest *n = f->n;
    for (int i = 0; i < n->loop_count; i++)
        if (n->loops[i].factor > 1) f->rank_loops[n->loops[i].rank]++;
    int seen[EF_MAX_RANKS] = {0};
    for (int i = 0; i < n->loop_count; i++) {
        const ef_loop *lp = &n->loops[i];
        if (lp->factor < 2) continue;
        shown_loop *sl = &f->loops[f->loop_count++];
        sl->loop = lp;
        char lower[EF_MAX_NAME];
        const char *name = n->workload->rank_names[lp->rank];
        size_t len = strlen(name);
        for (size_t c = 0; c <= len; c++) lower[c] = (char)tolower((unsigned char)name[c]);
        int count = f->rank_loops[lp->rank];
        int digit = count - 1 - seen[lp->rank]++;
        /* a rank named with a digit at its end (M1) gets m1_0, not m10 */
        bool sep = len && isdigit((unsigned char)name[len - 1]);
        if (count == 1) snprintf(sl->var, sizeof sl->var, "%s", lower);
        else snprintf(sl->var, sizeof sl->var, "%s%s%d", lower, sep ? "_" : "", digit);
    }
}

static const char *spatial_note(const ef_nest *n, ef_loop_kind k) {
    if (n->unit == EF_UNIT_VECTOR) return "vector lanes";
    return k == EF_LOOP_ROWS ? "PE rows" : "PE cols";
}

/* "MainMemory: keeps I, W, O" / "GLB: keeps I, O; bypasses F" /
 * "RF, per PE (168): keeps ..." */
static void level_header(sbuf *b, const ef_nest *n, int l) {
    const ef_level_spec *ls = &n->arch->levels[l];
    sbuf_put(b, "# %s", ls->name);
    if (ls->per_pe) sbuf_put(b, ", per PE (%" PRIu64 " instances)", n->levels[l].instances);
    int nk = 0, nb = 0;
    for (int o = 0; o < n->op_count; o++)
        if (first_of_tensor(n, o) && kept(n, l, o))
            sbuf_put(b, "%s%s", nk++ ? ", " : ": keeps ", tensor_name(n, o));
    if (!nk) sbuf_put(b, ": keeps nothing");
    for (int o = 0; o < n->op_count; o++)
        if (first_of_tensor(n, o) && !kept(n, l, o))
            sbuf_put(b, "%s%s", nb++ ? ", " : "; bypasses ", tensor_name(n, o));
    sbuf_put(b, "\n");
}

/* The nest as pseudo-code, one line each, at `indent` spaces. */
static void pseudo_code(sbuf *b, const facts *f, int indent) {
    const ef_nest *n = f->n;
    const ef_workload *w = n->workload;
    int depth = 0, k = 0;
    for (int l = 0; l < n->level_count; l++) {
        sbuf_put(b, "%*s", indent + 2 * depth, "");
        level_header(b, n, l);
        for (; k < f->loop_count && f->loops[k].loop->level == l; k++) {
            const ef_loop *lp = f->loops[k].loop;
            sbuf_put(b, "%*s%s %s in [0, %" PRIu64 "):", indent + 2 * depth, "",
                     lp->kind == EF_LOOP_TEMPORAL ? "for" : "parallel_for", f->loops[k].var,
                     lp->factor);
            if (lp->kind != EF_LOOP_TEMPORAL) sbuf_put(b, "   # %s", spatial_note(n, lp->kind));
            sbuf_put(b, "\n");
            depth++;
        }
    }
    /* a tiled rank's index from its loops' variables; a last partial
     * tile says where it stops */
    for (int r = 0; r < w->rank_count; r++) {
        if (f->rank_loops[r] < 2) continue;
        sbuf_put(b, "%*s", indent + 2 * depth, "");
        uint64_t span = 0;
        bool any = false;
        for (int i = 0; i < f->loop_count; i++) {
            const ef_loop *lp = f->loops[i].loop;
            if (lp->rank != r) continue;
            if (!any) {
                for (const char *c = w->rank_names[r]; *c; c++)
                    sbuf_put(b, "%c", tolower((unsigned char)*c));
                sbuf_put(b, " = ");
                span = lp->stride * lp->factor;
            }
            if (lp->stride > 1) sbuf_put(b, "%s%s*%" PRIu64, any ? " + " : "", f->loops[i].var,
                                         lp->stride);
            else sbuf_put(b, "%s%s", any ? " + " : "", f->loops[i].var);
            any = true;
        }
        if (span > w->rank_bounds[r])
            sbuf_put(b, "   # up to %" PRIu64 ": the last tile is partial", w->rank_bounds[r]);
        sbuf_put(b, "\n");
    }
    sbuf_put(b, "%*s%s\n", indent + 2 * depth, "", n->einsum->text);
}

/* ---------- text ---------- */

static void tiles_text(sbuf *b, const facts *f) {
    const ef_nest *n = f->n;
    sbuf_put(b, "\n  tiles (one instance's full tile; padding counted as the capacity check "
                "counts it)\n");
    sbuf_put(b, "    %-10s %-6s %12s %12s  %s\n", "level", "tensor", "words", "bytes",
             "capacity");
    for (int l = 0; l < n->level_count; l++) {
        const ef_level_spec *ls = &n->arch->levels[l];
        bool first = true;
        uint64_t bytes_sum = 0;
        for (int o = 0; o < n->op_count; o++) {
            if (!first_of_tensor(n, o)) continue;
            const char *t = tensor_name(n, o);
            if (!kept(n, l, o)) {
                sbuf_put(b, "    %-10s %-6s %12s\n", first ? ls->name : "", t, "bypass");
                first = false;
                continue;
            }
            uint64_t words = tile_words(n, l, o);
            uint64_t bytes = ef_words_to_bytes(words, n->workload->tensors[n->ops[o]->tensor].bits);
            bytes_sum += bytes;
            char cap[48] = "";
            bool show_cap = ls->partition_count || first;
            if (show_cap) ef_report_capacity_text(ls, t, cap, sizeof cap);
            sbuf_put(b, "    %-10s %-6s %12" PRIu64 " %12" PRIu64 "%s%s\n", first ? ls->name : "",
                     t, words, bytes, cap[0] ? "  " : "", cap);
            first = false;
        }
        /* what the capacity check holds against the level's room */
        if (ls->double_buffer)
            sbuf_put(b, "    %-10s %-6s %12s %12" PRIu64 "  (double-buffered: 2 x %" PRIu64
                     " B)\n", "", "total", "", 2 * bytes_sum, bytes_sum);
        else
            sbuf_put(b, "    %-10s %-6s %12s %12" PRIu64 "\n", "", "total", "", bytes_sum);
    }
}

static void accesses_text(sbuf *b, const facts *f) {
    const ef_nest *n = f->n;
    const ef_result *r = f->r;
    const char *per = n->einsum->is_mac ? "MAC" : "op";
    sbuf_put(b, "\n  accesses (the engine's counts, all instances; reuse = %ss / accesses)\n",
             per);
    sbuf_put(b, "    %-10s %-6s %12s %12s %12s %12s %10s\n", "level", "tensor", "reads", "fills",
             "updates", n->einsum->is_mac ? "per MAC" : "per op", "reuse");
    for (int l = 0; l < n->level_count; l++)
        for (int o = 0; o < n->op_count; o++) {
            ef_tensor_sum sum;
            if (!ef_totals_tensor_at(r, &f->s, l, o, &sum)) continue;
            uint64_t acc = sum.c.reads + sum.c.fills + sum.c.updates;
            sbuf_put(b, "    %-10s %-6s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12.4g",
                     n->arch->levels[l].name, tensor_name(n, o), sum.c.reads, sum.c.fills,
                     sum.c.updates, r->ops ? (double)acc / (double)r->ops : 0.0);
            if (acc) sbuf_put(b, " %10.4g\n", (double)r->ops / (double)acc);
            else sbuf_put(b, " %10s\n", "-");
        }
}

/* "GLB  read  2.6667  of 32  (8.3%)"; a port without a bandwidth is
 * unlimited and has no share. */
static void port_text(sbuf *b, const char *level, const char *port, const ef_roofline_port *p) {
    sbuf_put(b, "    %-10s %-6s %12.4f", level, port, p->used_bandwidth_bytes);
    if (p->bandwidth_bytes > 0)
        sbuf_put(b, " %12.6g %7.1f%%\n", p->bandwidth_bytes,
                 100.0 * p->used_bandwidth_bytes / p->bandwidth_bytes);
    else
        sbuf_put(b, " %12s\n", "unlimited");
}

static void bandwidth_text(sbuf *b, const facts *f) {
    const ef_nest *n = f->n;
    sbuf_put(b, "\n  bandwidth (bytes per cycle, all instances: needed = bytes moved / the "
                "run's %" PRIu64 " cycles)\n", f->r->cycles);
    sbuf_put(b, "    %-10s %-6s %12s %12s %8s\n", "level", "port", "needs", "has", "used");
    for (int l = 0; l < n->level_count; l++) {
        port_text(b, n->arch->levels[l].name, "read", &f->s.roofline[l].read);
        port_text(b, "", "write", &f->s.roofline[l].write);
    }
}

static void einsum_text(sbuf *b, const facts *f, const char *layer, int index, int count) {
    const ef_nest *n = f->n;
    const ef_result *r = f->r;
    if (layer) sbuf_put(b, "== layer %s, ", layer);
    else sbuf_put(b, "== ");
    sbuf_put(b, "Einsum %d of %d: %s ==\n", index + 1, count, n->einsum->text);
    sbuf_put(b, "  on %s%s%s: %" PRIu64 " %s in %" PRIu64 " cycles", n->spec_arch->name,
             n->unit == EF_UNIT_VECTOR ? ", vector unit " : "",
             n->unit == EF_UNIT_VECTOR ? n->arch->vector_unit.name : "", r->ops,
             n->einsum->is_mac ? "MACs" : "ops", r->cycles);
    if (n->unit == EF_UNIT_VECTOR)
        sbuf_put(b, " (vector utilization %.4f)\n", f->s.vector_utilization);
    else
        sbuf_put(b, " (utilization %.4f, %" PRIu64 " of %" PRIu64 " PEs active)\n",
                 f->s.utilization, n->active_pes, n->pes);
    if (r->fused_count)
        sbuf_put(b, "  fused: %d of %d Einsums with the intermediates at %s; the cycles are "
                    "the group's\n", r->fused_index + 1, r->fused_count,
                 n->arch->levels[r->fusion_level].name);
    sbuf_put(b, "\n  loop nest (outermost first; a level's loops walk the tile it holds)\n");
    pseudo_code(b, f, 4);
    tiles_text(b, f);
    accesses_text(b, f);
    bandwidth_text(b, f);
}

char *ef_report_explain(const ef_report_layer *layers, int count, const ef_run_meta *meta) {
    sbuf b = {0};
    if (count < 1) return NULL;
    sbuf_put(&b, "%s on %s, mapping %s\n", meta->workload_file, meta->arch_file,
             meta->mapping_file);
    for (int i = 0; i < count; i++)
        for (int e = 0; e < layers[i].result_count; e++) {
            facts f;
            facts_of(&f, layers[i].results[e]);
            sbuf_put(&b, "\n");
            einsum_text(&b, &f, count > 1 ? layers[i].name : NULL, e, layers[i].result_count);
        }
    return sbuf_take(&b);
}

/* ---------- JSON ---------- */

static void capacity_json(cJSON *o, const char *key, const ef_capacity *c) {
    if (!c->given || c->amount == 0) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    cJSON *cap = cJSON_AddObjectToObject(o, key);
    ef_rj_u64(cap, "amount", c->amount);
    cJSON_AddStringToObject(cap, "unit", c->in_words ? "words" : "bytes");
}

static cJSON *loops_json(const facts *f, int l) {
    cJSON *arr = cJSON_CreateArray();
    for (int k = 0; k < f->loop_count; k++) {
        const ef_loop *lp = f->loops[k].loop;
        if (lp->level != l) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", lp->kind == EF_LOOP_TEMPORAL ? "for" : "parallel_for");
        cJSON_AddStringToObject(o, "var", f->loops[k].var);
        cJSON_AddStringToObject(o, "rank", f->n->workload->rank_names[lp->rank]);
        ef_rj_u64(o, "factor", lp->factor);
        ef_rj_u64(o, "stride", lp->stride);
        if (lp->kind == EF_LOOP_TEMPORAL) cJSON_AddNullToObject(o, "spatial");
        else cJSON_AddStringToObject(o, "spatial", lp->kind == EF_LOOP_ROWS ? "rows" : "cols");
        ef_rj_append(arr, o);
    }
    return arr;
}

static cJSON *port_json(const ef_roofline_port *p) {
    cJSON *o = cJSON_CreateObject();
    ef_rj_u64(o, "bytes", p->bytes);
    ef_rj_num(o, "needed_bytes_per_cycle", p->used_bandwidth_bytes);
    if (p->bandwidth_bytes > 0) ef_rj_num(o, "available_bytes_per_cycle", p->bandwidth_bytes);
    else cJSON_AddNullToObject(o, "available_bytes_per_cycle");
    return o;
}

static cJSON *level_json(const facts *f, int l) {
    const ef_nest *n = f->n;
    const ef_result *r = f->r;
    const ef_level_spec *ls = &n->arch->levels[l];
    cJSON *lv = cJSON_CreateObject();
    cJSON_AddStringToObject(lv, "name", ls->name);
    ef_rj_u64(lv, "instances", n->levels[l].instances);
    cJSON *keep = cJSON_AddArrayToObject(lv, "keep");
    cJSON *bypass = cJSON_AddArrayToObject(lv, "bypass");
    for (int o = 0; o < n->op_count; o++)
        if (first_of_tensor(n, o))
            ef_rj_append(kept(n, l, o) ? keep : bypass, cJSON_CreateString(tensor_name(n, o)));
    ef_rj_add(lv, "loops", loops_json(f, l));
    if (ls->partition_count) cJSON_AddNullToObject(lv, "capacity");
    else capacity_json(lv, "capacity", &ls->capacity);
    cJSON_AddBoolToObject(lv, "double_buffer", ls->double_buffer);
    cJSON *tiles = cJSON_AddObjectToObject(lv, "tiles");
    cJSON *acc = cJSON_AddObjectToObject(lv, "accesses");
    for (int o = 0; o < n->op_count; o++) {
        if (!first_of_tensor(n, o) || !kept(n, l, o)) continue;
        const char *t = tensor_name(n, o);
        uint64_t words = tile_words(n, l, o);
        cJSON *tile = cJSON_AddObjectToObject(tiles, t);
        ef_rj_u64(tile, "words", words);
        ef_rj_u64(tile, "bytes",
                  ef_words_to_bytes(words, n->workload->tensors[n->ops[o]->tensor].bits));
        if (ls->partition_count) {
            const ef_capacity none = {0};
            const ef_capacity *c = &none;
            for (int p = 0; p < ls->partition_count; p++)
                if (!strcmp(ls->partitions[p].tensor, t)) c = &ls->partitions[p].capacity;
            capacity_json(tile, "capacity", c);
        }
    }
    for (int o = 0; o < n->op_count; o++) {
        ef_tensor_sum sum;
        if (!ef_totals_tensor_at(r, &f->s, l, o, &sum)) continue;
        uint64_t total = sum.c.reads + sum.c.fills + sum.c.updates;
        cJSON *a = cJSON_AddObjectToObject(acc, tensor_name(n, o));
        ef_rj_u64(a, "reads", sum.c.reads);
        ef_rj_u64(a, "fills", sum.c.fills);
        ef_rj_u64(a, "updates", sum.c.updates);
        ef_rj_u64(a, "accesses", total);
        ef_rj_num(a, "accesses_per_mac", r->ops ? (double)total / (double)r->ops : 0.0);
        if (total) ef_rj_num(a, "reuse", (double)r->ops / (double)total);
        else cJSON_AddNullToObject(a, "reuse");
    }
    cJSON *bw = cJSON_AddObjectToObject(lv, "bandwidth");
    ef_rj_add(bw, "read", port_json(&f->s.roofline[l].read));
    ef_rj_add(bw, "write", port_json(&f->s.roofline[l].write));
    return lv;
}

/* The pseudo-code as an array of lines, as the text prints it. */
static cJSON *code_json(const facts *f) {
    sbuf b = {0};
    pseudo_code(&b, f, 0);
    char *text = sbuf_take(&b);
    if (!text) return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        *nl = 0;
        ef_rj_append(arr, cJSON_CreateString(line));
    }
    free(text);
    return arr;
}

static cJSON *einsum_json(const facts *f, const char *layer) {
    const ef_nest *n = f->n;
    const ef_result *r = f->r;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "layer", layer);
    cJSON_AddStringToObject(e, "einsum", n->einsum->text);
    cJSON_AddStringToObject(e, "output", tensor_name(n, n->out_op));
    cJSON_AddStringToObject(e, "unit", ef_unit_name(n->unit));
    ef_rj_u64(e, "macs", r->ops);
    ef_rj_u64(e, "cycles", r->cycles);
    ef_rj_add(e, "pseudo_code", code_json(f));
    cJSON *levels = cJSON_AddArrayToObject(e, "levels");
    for (int l = 0; l < n->level_count; l++) ef_rj_append(levels, level_json(f, l));
    return e;
}

char *ef_report_explain_json(const ef_report_layer *layers, int count, const ef_run_meta *meta) {
    if (count < 1) return NULL;
    uint64_t failures = ef_alloc_failures();
    cJSON *root = cJSON_CreateObject();
    ef_rj_meta(root, meta);
    cJSON *es = cJSON_AddArrayToObject(root, "einsums");
    for (int i = 0; i < count; i++)
        for (int e = 0; e < layers[i].result_count; e++) {
            facts f;
            facts_of(&f, layers[i].results[e]);
            ef_rj_append(es, einsum_json(&f, layers[i].name));
        }
    return ef_rj_print(root, failures);
}
