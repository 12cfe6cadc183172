/* einflow spec stage — `einflow import-timeloop`: loads the Timeloop
 * files (tags kept: v0.4's !Container / !Component), has the
 * architecture, problem and mapping read (timeloop_arch.c,
 * timeloop_problem.c, timeloop_mapping.c) and writes einflow's three
 * spec texts, each with a header that says where every value came
 * from. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/sbuf.h"
#include "spec/timeloop.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------- helpers ---------- */

bool tl_key_is(const char *key, const char *name) {
    for (; *key && *name; key++, name++) {
        char a = *key == '-' ? '_' : *key, b = *name == '-' ? '_' : *name;
        if (a != b) return false;
    }
    return *key == *name;
}

const yt_node *tl_get_key(const yt_node *n, const char *name) {
    if (!n || n->kind != YT_MAP) return NULL;
    for (size_t i = 0; i < n->count; i++)
        if (tl_key_is(n->pairs[i].key->text, name)) return n->pairs[i].key;
    return NULL;
}

const yt_node *tl_get(const yt_node *n, const char *name) {
    if (!n || n->kind != YT_MAP) return NULL;
    for (size_t i = 0; i < n->count; i++)
        if (tl_key_is(n->pairs[i].key->text, name)) return n->pairs[i].value;
    return NULL;
}

bool tl_check_keys(yt_doc *d, const yt_node *n, const char *path,
                   const char *const *known, size_t n_known,
                   const char *const *ignored, size_t n_ignored) {
    if (!n || n->kind != YT_MAP) {
        char found[96];
        yt_error(d, n, path, NULL, "expected a mapping, found %s",
                 yt_describe(n, found, sizeof found));
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n->count; i++) {
        const char *k = n->pairs[i].key->text;
        bool found = false;
        for (size_t j = 0; j < n_known && !found; j++) found = tl_key_is(k, known[j]);
        for (size_t j = 0; j < n_ignored && !found; j++) found = tl_key_is(k, ignored[j]);
        for (size_t j = 0; j < i && found; j++)
            if (tl_key_is(n->pairs[j].key->text, k)) {
                yt_error(d, n->pairs[i].key, path, NULL,
                         "duplicate key \"%s\" (first at line %d, as \"%s\")", k,
                         n->pairs[j].key->line, n->pairs[j].key->text);
                ok = false;
            }
        if (found) continue;
        char hint[320];
        const char *best = ef_suggest(k, known, n_known);
        if (best) {
            snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
        } else {
            char list[256];
            yt_join(list, sizeof list, known, n_known);
            snprintf(hint, sizeof hint, "einflow converts: %s", list);
        }
        yt_error(d, n->pairs[i].key, path, hint,
                 "unknown or unsupported key \"%s\", which einflow has no equivalent for", k);
        ok = false;
    }
    return ok;
}

bool tl_ident(yt_doc *d, const yt_node *n, const char *path, const char *text,
              char out[EF_MAX_NAME]) {
    size_t len = strlen(text);
    bool ok = len > 0 && len < EF_MAX_NAME &&
              (isalpha((unsigned char)text[0]) || text[0] == '_');
    for (size_t i = 0; ok && i < len; i++)
        ok = isalnum((unsigned char)text[i]) || text[i] == '_';
    if (!ok) {
        yt_error(d, n, path, "einflow's names are letters, digits and _",
                 "expected a name of at most %d characters, found \"%s\"", EF_MAX_NAME - 1,
                 text);
        return false;
    }
    memcpy(out, text, len + 1);
    return true;
}

/* ---------- files ---------- */

/* Top-level keys of Timeloop's input files: a file may hold several
 * sections (Timeloop merges all its inputs into one tree). */
static const char *const sections[] = {
    "architecture", "problem", "mapping", "mapper", "mapspace", "mapspace_constraints",
    "architecture_constraints", "constraints", "compound_components", "components",
    "globals", "variables", "sparse_optimizations", "model", "ERT", "ART",
    "architecture_extensions", "includes"};

static yt_doc *load(const char *path, const char *want, ef_diags *diags) {
    yt_doc *d = yt_load_tagged(path, diags);
    if (!d) return NULL;
    if (d->errors || !tl_check_keys(d, d->root, "", sections, ARRAY_LEN(sections), NULL, 0)) {
        yt_free(d);
        return NULL;
    }
    if (tl_get(d->root, want)) return d;
    const char *constraint = tl_get(d->root, "mapspace_constraints") ? "mapspace_constraints"
                           : tl_get(d->root, "architecture_constraints") ? "architecture_constraints"
                           : tl_get(d->root, "constraints") ? "constraints"
                                                            : NULL;
    if (!strcmp(want, "mapping") && constraint)
        yt_error(d, tl_get_key(d->root, constraint), "",
                 "constraints only narrow Timeloop's mapper's search: give the mapping it found "
                 "(timeloop-mapper.map.yaml), or let `einflow map` search with a dataflow",
                 "expected a mapping (mapping: [...]), found a constraint file (%s:), which "
                 "einflow has no equivalent for",
                 constraint);
    else
        yt_error(d, d->root, "", NULL, "expected a Timeloop %s file (top-level key %s:), found "
                 "none", want, want);
    yt_free(d);
    return NULL;
}

/* ---------- writing ---------- */

static void put_num(sbuf *b, double v) {
    char t[64];
    snprintf(t, sizeof t, "%.12g", v);
    sbuf_puts(b, t);
}

static const char *kind_name(ef_level_kind k) {
    return k == EF_LEVEL_DRAM ? "dram" : k == EF_LEVEL_REGFILE ? "regfile" : "sram";
}

static void arch_name(const char *file, char out[EF_MAX_NAME]) {
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t len = strlen(base);
    if (len > 5 && !strcmp(base + len - 5, ".yaml")) len -= 5;
    else if (len > 4 && !strcmp(base + len - 4, ".yml")) len -= 4;
    size_t n = 0;
    if (!isalpha((unsigned char)base[0]) && base[0] != '_') {
        memcpy(out, "tl_", 3);
        n = 3;
    }
    for (size_t i = 0; i < len && n + 1 < EF_MAX_NAME; i++) {
        char c = base[i];
        out[n++] = isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == '+'
                       ? c
                       : '_';
    }
    out[n] = '\0';
}

static char *write_arch(const tl_arch *a, const char *file, char name[EF_MAX_NAME]) {
    sbuf b = {0};
    arch_name(file, name);
    sbuf_put(&b, "# Converted by `einflow import-timeloop` from the Timeloop architecture\n"
                 "#   %s (version 0.%d).\n#\n", file, a->version);
    sbuf_put(&b, "# Capacities are in words of %d bits (the datawidth), bandwidths in\n"
                 "# bytes per cycle = Timeloop's words per cycle x %d / 8.\n",
             a->word_bits, a->word_bits);
    for (int i = 0; i < a->level_count; i++) {
        const tl_level *lv = &a->levels[i];
        sbuf_put(&b, "#   %s: %s, %llu instance%s; %s\n", lv->name, kind_name(lv->kind),
                 (unsigned long long)lv->instances, lv->instances == 1 ? "" : "s",
                 lv->capacity_why);
    }
    if (a->fanout >= 0)
        sbuf_put(&b, "# The PE array is the fanout below %s: meshX %llu -> cols, meshY %llu "
                     "-> rows;\n# the levels below it are per PE.\n",
                 a->levels[a->fanout].name, (unsigned long long)a->cols,
                 (unsigned long long)a->rows);
    sbuf_put(&b, "# %s (%s) does one MAC per cycle. Energies and areas are einflow's\n"
                 "# built-in table's, not Accelergy's.\n",
             a->compute, a->arithmetic == EF_ARITH_FLOAT ? "floating point" : "integer");
    sbuf_put(&b, "name: %s\n", name);
    if (a->cycle_seconds > 0) {
        sbuf_puts(&b, "clock_mhz: ");
        put_num(&b, 1e-6 / a->cycle_seconds);
        sbuf_put(&b, "    # global_cycle_seconds %g\n", a->cycle_seconds);
    }
    sbuf_put(&b, "pe_array: {rows: %llu, cols: %llu}\n", (unsigned long long)a->rows,
             (unsigned long long)a->cols);
    sbuf_put(&b, "pe: {macs_per_cycle: 1, arithmetic: %s}\n",
             a->arithmetic == EF_ARITH_FLOAT ? "float" : "int");
    sbuf_puts(&b, "levels:\n");
    double bytes = a->word_bits / 8.0;
    for (int i = 0; i < a->level_count; i++) {
        const tl_level *lv = &a->levels[i];
        sbuf_put(&b, "  - name: %s\n    kind: %s\n", lv->name, kind_name(lv->kind));
        if (lv->capacity_words)
            sbuf_put(&b, "    capacity: %llu words\n", (unsigned long long)lv->capacity_words);
        if (a->fanout >= 0 && i > a->fanout) sbuf_puts(&b, "    per_pe: true\n");
        if (lv->shared_bw_words > 0 && !lv->read_bw_words && !lv->write_bw_words) {
            sbuf_puts(&b, "    bandwidth: ");
            put_num(&b, lv->shared_bw_words * bytes);
            sbuf_put(&b, "    # shared_bandwidth %g words/cycle, here per port\n",
                     lv->shared_bw_words);
        }
        if (lv->read_bw_words > 0) {
            sbuf_puts(&b, "    read_bandwidth: ");
            put_num(&b, lv->read_bw_words * bytes);
            sbuf_put(&b, "    # %g words/cycle\n", lv->read_bw_words);
        }
        if (lv->write_bw_words > 0) {
            sbuf_puts(&b, "    write_bandwidth: ");
            put_num(&b, lv->write_bw_words * bytes);
            sbuf_put(&b, "    # %g words/cycle\n", lv->write_bw_words);
        }
        if (lv->double_buffer) sbuf_puts(&b, "    double_buffer: true    # multiple_buffering 2\n");
    }
    return sbuf_take(&b);
}

static void put_index(sbuf *b, const tl_problem *p, const tl_space *s) {
    sbuf_put(b, "%s[", s->name);
    for (int d = 0; d < s->dims; d++) {
        const tl_expr *e = &s->proj[d];
        if (d) sbuf_puts(b, ",");
        for (int k = 0; k < e->count; k++) {
            char v[EF_MAX_NAME];
            const char *dim = p->dims[e->dim[k]];
            size_t i = 0;
            for (; dim[i]; i++) v[i] = (char)tolower((unsigned char)dim[i]);
            v[i] = '\0';
            sbuf_put(b, "%s%s", k ? "+" : "", v);
            if (e->coef[k] != 1) sbuf_put(b, "*%lld", (long long)e->coef[k]);
        }
    }
    sbuf_puts(b, "]");
}

static void put_rank(sbuf *b, const char *dim) {
    for (; *dim; dim++) sbuf_put(b, "%c", toupper((unsigned char)*dim));
}

static char *write_workload(const tl_problem *p, const tl_arch *a, const char *file) {
    sbuf b = {0};
    sbuf_put(&b, "# Converted by `einflow import-timeloop` from the Timeloop problem\n"
                 "#   %s:\n# the data spaces' projections as index expressions\n"
                 "# (a term [DIM, COEF] is dim*COEF), the instance as rank bounds, the\n"
                 "# architecture's datawidth (%d bits) as every tensor's precision.\n",
             file, a->word_bits);
    sbuf_put(&b, "name: %s\neinsums:\n  - \"", p->name);
    put_index(&b, p, &p->spaces[p->output]);
    sbuf_puts(&b, " += ");
    bool first = true;
    for (int i = 0; i < p->space_count; i++) {
        if (i == p->output) continue;
        if (!first) sbuf_puts(&b, " * ");
        put_index(&b, p, &p->spaces[i]);
        first = false;
    }
    sbuf_puts(&b, "\"\nranks: {");
    for (int d = 0; d < p->dim_count; d++) {
        sbuf_puts(&b, d ? ", " : "");
        put_rank(&b, p->dims[d]);
        sbuf_put(&b, ": %llu", (unsigned long long)p->bound[d]);
    }
    sbuf_puts(&b, "}\nprecision: {");
    for (int i = 0; i < p->space_count; i++)
        sbuf_put(&b, "%s%s: %d", i ? ", " : "", p->spaces[i].name, a->word_bits);
    sbuf_puts(&b, "}\n");
    return sbuf_take(&b);
}

static void put_loops(sbuf *b, const tl_problem *p, const tl_loop *l, int n) {
    sbuf_puts(b, "[");
    for (int i = 0; i < n; i++) {
        sbuf_puts(b, i ? ", " : "");
        put_rank(b, p->dims[l[i].dim]);
        sbuf_put(b, ": %llu", (unsigned long long)l[i].factor);
    }
    sbuf_puts(b, "]");
}

static char *write_mapping(const tl_mapping *m, const tl_arch *a, const tl_problem *p,
                           const char *file) {
    sbuf b = {0};
    sbuf_put(&b, "# Converted by `einflow import-timeloop` from the Timeloop mapping\n"
                 "#   %s.\n# Timeloop's permutations list the innermost dimension\n"
                 "# first; einflow's loops are outermost first, so each level's order is\n"
                 "# reversed, and loops of factor 1 are left out. Spatial positions before\n"
                 "# `split` (meshX) are columns, the others (meshY) rows.\n#\n"
                 "# Loop nest (outermost first):\n",
             file);
    int depth = 0;
    for (int l = 0; l < a->level_count; l++) {
        const tl_level_map *lm = &m->levels[l];
        for (int i = 0; i < lm->temporal_count; i++, depth++)
            sbuf_put(&b, "#   %*sfor %s in [0:%llu)    # %s\n", 2 * depth, "",
                     p->dims[lm->temporal[i].dim], (unsigned long long)lm->temporal[i].factor,
                     a->levels[l].name);
        for (int i = 0; i < lm->row_count; i++, depth++)
            sbuf_put(&b, "#   %*sparallel-for %s in [0:%llu)    # %s, PE rows\n", 2 * depth, "",
                     p->dims[lm->rows[i].dim], (unsigned long long)lm->rows[i].factor,
                     a->levels[l].name);
        for (int i = 0; i < lm->col_count; i++, depth++)
            sbuf_put(&b, "#   %*sparallel-for %s in [0:%llu)    # %s, PE cols\n", 2 * depth, "",
                     p->dims[lm->cols[i].dim], (unsigned long long)lm->cols[i].factor,
                     a->levels[l].name);
    }
    sbuf_puts(&b, "mapping:\n");
    for (int l = 0; l < a->level_count; l++) {
        const tl_level_map *lm = &m->levels[l];
        sbuf_put(&b, "  - level: %s\n", a->levels[l].name);
        int nb = 0;
        for (int s = 0; s < p->space_count; s++)
            if (lm->bypass[s]) sbuf_put(&b, "%s%s", nb++ ? ", " : "    bypass: [", p->spaces[s].name);
        if (nb) sbuf_puts(&b, "]\n");
        if (lm->temporal_count) {
            sbuf_puts(&b, "    temporal: ");
            put_loops(&b, p, lm->temporal, lm->temporal_count);
            sbuf_puts(&b, "\n");
        }
        if (lm->row_count || lm->col_count) {
            sbuf_puts(&b, "    spatial: {");
            if (lm->row_count) {
                sbuf_puts(&b, "rows: ");
                put_loops(&b, p, lm->rows, lm->row_count);
            }
            if (lm->col_count) {
                sbuf_puts(&b, lm->row_count ? ", cols: " : "cols: ");
                put_loops(&b, p, lm->cols, lm->col_count);
            }
            sbuf_puts(&b, "}\n");
        }
    }
    return sbuf_take(&b);
}

/* ---------- the command's library half ---------- */

void ef_timeloop_output_free(ef_timeloop_output *out) {
    if (!out) return;
    free(out->arch_yaml);
    free(out->workload_yaml);
    free(out->mapping_yaml);
    memset(out, 0, sizeof *out);
}

ef_status ef_timeloop_import(const ef_timeloop_input *in, ef_timeloop_output *out,
                             ef_diags *diags) {
    memset(out, 0, sizeof *out);
    tl_arch *a = ef_calloc(1, sizeof *a);
    tl_problem *p = ef_calloc(1, sizeof *p);
    tl_mapping *m = ef_calloc(1, sizeof *m);
    yt_doc *ad = NULL, *pd = NULL, *md = NULL;
    ef_status st = EF_ERR_SPEC;
    if (!a || !p || !m) {
        ef_diags_out_of_memory(diags, "");
        st = EF_ERR_NOMEM;
        goto done;
    }
    /* each file read on its own, so that all of them are reported */
    ad = load(in->arch_file, "architecture", diags);
    pd = load(in->problem_file, "problem", diags);
    md = in->mapping_file ? load(in->mapping_file, "mapping", diags) : NULL;
    bool ok = ad && pd && (md || !in->mapping_file);
    bool arch_ok = ad && tl_read_arch(ad, a);
    bool prob_ok = pd && tl_read_problem(pd, p);
    if (!ok || !arch_ok || !prob_ok) goto done;
    if (md && !tl_read_mapping(md, a, p, m)) goto done;
    out->arch_yaml = write_arch(a, in->arch_file, out->arch_name);
    out->workload_yaml = write_workload(p, a, in->problem_file);
    out->mapping_yaml = md ? write_mapping(m, a, p, in->mapping_file) : NULL;
    if (!out->arch_yaml || !out->workload_yaml || (md && !out->mapping_yaml)) {
        ef_diags_out_of_memory(diags, "");
        ef_timeloop_output_free(out);
        st = EF_ERR_NOMEM;
        goto done;
    }
    snprintf(out->workload_name, sizeof out->workload_name, "%s", p->name);
    out->level_count = a->level_count;
    out->rows = (int)a->rows;
    out->cols = (int)a->cols;
    st = EF_OK;
done:
    if (st != EF_OK && diags && diags->out_of_memory) st = EF_ERR_NOMEM;
    yt_free(ad);
    yt_free(pd);
    yt_free(md);
    free(a);
    free(p);
    free(m);
    return st;
}
