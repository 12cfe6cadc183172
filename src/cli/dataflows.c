/* Which dataflow maps which Einsum (docs/dataflows.md, "One dataflow
 * per Einsum"): the run's dataflow for the array's products, the
 * built-in vector template for the rest when the architecture has a
 * vector unit (ef_map_dataflow_for), and whatever the user names for
 * one Einsum — on the command line (--einsum-dataflow NAME=DF) or in a
 * mapping file's entry (dataflow: DF). Names are checked here, with a
 * "did you mean" and where they were written. */
#include "cli/layers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMDLINE "<command line>"

/* A template by name or file, refusing one that fuses: fusion is a
 * choice for the whole cascade, not for one of its Einsums. */
static ef_dataflow_spec *one_einsum_dataflow(const char *df_name, const char *einsum,
                                             const char *file, int line, int col,
                                             const char *path, ef_diags *d) {
    ef_dataflow_spec *df = ef_cli_load_dataflow(df_name, d);
    if (df && df->fuse) {
        char *src = line ? ef_diags_source_line(d, file, line) : NULL;
        ef_diags_add(d, file, line, col, path,
                     "give it as the run's dataflow (einflow run ARCH WORKLOAD fused), or "
                     "name an array or vector dataflow for this Einsum",
                     src, "dataflow %s fuses a whole cascade, so it cannot map the Einsum "
                     "%s alone", df->name, einsum);
        free(src);
        ef_dataflow_spec_destroy(df);
        return NULL;
    }
    return df;
}

/* The outputs of every Einsum of every layer, each once. */
static int einsum_outputs(const ef_cli_layers *L, const char **names, int max) {
    int n = 0;
    for (int i = 0; i < L->count; i++)
        for (int e = 0; e < L->w[i]->einsum_count; e++) {
            const ef_workload *w = L->w[i];
            const char *out = w->tensors[w->einsums[e].output.tensor].name;
            bool seen = false;
            for (int k = 0; k < n && !seen; k++) seen = !strcmp(names[k], out);
            if (!seen && n < max) names[n++] = out;
        }
    return n;
}

bool ef_cli_choice_load(ef_cli_choice *c, const ef_cli_search *s, const ef_cli_layers *L,
                        const ef_arch_spec *arch, ef_diags *d) {
    memset(c, 0, sizeof *c);
    c->vector = ef_spec_builtin_dataflow("vector", d);
    if (!c->vector) return false;
    const char *outs[EF_MAX_EINSUMS * 4];
    int nout = einsum_outputs(L, outs, EF_MAX_EINSUMS * 4);
    bool ok = true;
    for (int k = 0; k < s->einsum_dataflow_count; k++) {
        const char *arg = s->einsum_dataflow[k], *eq = strchr(arg, '=');
        snprintf(c->names[c->count], EF_MAX_NAME, "%.*s", (int)(eq - arg), arg);
        const char *name = c->names[c->count];
        bool known = false;
        for (int i = 0; i < nout && !known; i++) known = !strcmp(outs[i], name);
        if (!known) {
            const char *sug = ef_suggest(name, outs, (size_t)nout);
            char hint[EF_MAX_NAME + 32], list[512];
            size_t len = 0;
            list[0] = '\0';
            for (int i = 0; i < nout && len < sizeof list; i++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                        outs[i]);
            if (sug) snprintf(hint, sizeof hint, "did you mean \"%s\"?", sug);
            ef_diags_add(d, CMDLINE, 0, 0, "--einsum-dataflow", sug ? hint : NULL, NULL,
                         "no Einsum of %s writes \"%s\" (its Einsums write %s)",
                         L->net->name, name, list);
            ok = false;
            continue;
        }
        ef_dataflow_spec *df = one_einsum_dataflow(eq + 1, name, CMDLINE, 0, 0,
                                                   "--einsum-dataflow", d);
        if (df && df->unit == EF_UNIT_VECTOR && arch && !arch->vector_unit.present) {
            ef_diags_add(d, CMDLINE, 0, 0, "--einsum-dataflow",
                         "name an array dataflow for it, or add vector_unit to the "
                         "architecture", NULL,
                         "%s puts %s on the vector unit, but the architecture %s declares no "
                         "vector_unit", arg, name, arch->name);
            ef_dataflow_spec_destroy(df);
            df = NULL;
        }
        c->dfs[c->count] = df;
        if (!df) ok = false;
        c->count++;
    }
    return ok;
}

void ef_cli_choice_free(ef_cli_choice *c) {
    if (!c) return;
    for (int k = 0; k < c->count; k++) ef_dataflow_spec_destroy(c->dfs[k]);
    ef_dataflow_spec_destroy(c->vector);
    memset(c, 0, sizeof *c);
}

const ef_dataflow_spec *ef_cli_choice_for(const ef_cli_choice *c, const ef_arch_spec *arch,
                                          const ef_workload *w, int e,
                                          const ef_dataflow_spec *df) {
    const char *out = w->tensors[w->einsums[e].output.tensor].name;
    for (int k = 0; c && k < c->count; k++)
        if (!strcmp(c->names[k], out)) return c->dfs[k];
    return ef_map_dataflow_for(arch, &w->einsums[e], df, c ? c->vector : NULL);
}

ef_dataflow_spec *ef_cli_entry_dataflow(const ef_einsum_mapping_spec *em, int index,
                                        ef_diags *d) {
    const char *name = em->dataflow;
    const ef_loc *at = &em->dataflow_loc;
    char path[64];
    snprintf(path, sizeof path, "mappings[%d].dataflow", index);
    size_t len = strlen(name);
    bool file = strchr(name, '/') || (len > 5 && !strcmp(name + len - 5, ".yaml")) ||
                (len > 4 && !strcmp(name + len - 4, ".yml"));
    if (!file && !ef_spec_builtin_dataflow_text(name)) {
        /* located at the entry, not at the command line */
        int n;
        const char *const *names = ef_spec_builtin_dataflow_names(&n);
        const char *sug = ef_suggest(name, names, (size_t)n);
        char hint[96], list[256];
        size_t l = 0;
        list[0] = '\0';
        for (int i = 0; i < n && l < sizeof list; i++)
            l += (size_t)snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", names[i]);
        if (sug) snprintf(hint, sizeof hint, "did you mean \"%s\"?", sug);
        char *src = at->line ? ef_diags_source_line(d, at->file, at->line) : NULL;
        ef_diags_add(d, at->file, at->line, at->col, path, sug ? hint : NULL, src,
                     "unknown dataflow \"%s\": the built-in ones are %s, or give a template "
                     "file (NAME.yaml)", name, list);
        free(src);
        return NULL;
    }
    return one_einsum_dataflow(name, em->einsum, at->file, at->line, at->col, path, d);
}
