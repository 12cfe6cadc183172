/* `einflow validate FILE...`: loads each file as what its top-level
 * keys say it is, and reports every problem found. A workload, and
 * every layer of a network, is also parsed down to its Einsums. Mappings are checked for shape here; their
 * legality needs an architecture and a workload (use `einflow run`). */
#include "cli/cli.h"
#include "einflow/einsum.h"
#include "einflow/spec.h"

#include <stdio.h>
#include <string.h>

int ef_cli_validate(int argc, char **argv) {
    if (argc < 1 || !strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")) {
        fputs("usage: einflow validate FILE.yaml...\n\n"
              "Checks architecture, workload, network, mapping, dataflow\n"
              "template and sweep files and prints every problem with\n"
              "file:line:col. Exit status 0 when all are valid.\n",
              argc < 1 ? stderr : stdout);
        return argc < 1 ? EF_EXIT_USAGE : EF_EXIT_OK;
    }
    int code = EF_EXIT_OK;
    for (int i = 0; i < argc; i++) {
        ef_diags *d = ef_diags_create();
        if (!d) return ef_cli_no_diags();
        char kind = ef_spec_sniff(argv[i], d);
        bool ok = false;
        if (kind == 'a') {
            ef_arch_spec *a = ef_spec_load_arch(argv[i], d);
            if (a) printf("%s: ok (architecture %s: %d levels, %dx%d PEs)\n", argv[i],
                          a->name, a->level_count, a->rows, a->cols);
            ok = a != NULL;
            ef_arch_spec_destroy(a);
        } else if (kind == 'w') {
            ef_workload_spec *ws = ef_spec_load_workload(argv[i], d);
            ef_workload *w = ws ? ef_einsum_build(ws, d) : NULL;
            if (w) printf("%s: ok (workload %s: %d Einsum%s, %d tensors)\n", argv[i],
                          w->name, w->einsum_count, w->einsum_count == 1 ? "" : "s",
                          w->tensor_count);
            ok = w != NULL;
            ef_workload_destroy(w);
            ef_workload_spec_destroy(ws);
        } else if (kind == 'n') {
            ef_network_spec *n = ef_spec_load_network(argv[i], 0, d);
            ok = n != NULL;
            uint64_t repeats = 0;
            /* every layer, even after a bad one: each error at its line */
            for (int l = 0; n && l < n->layer_count; l++) {
                ef_workload *w = ef_einsum_build(n->layers[l].workload, d);
                ok &= w != NULL;
                repeats += n->layers[l].count;
                ef_workload_destroy(w);
            }
            if (ok) {
                printf("%s: ok (network %s: %d layer%s, %llu with repeats", argv[i], n->name,
                       n->layer_count, n->layer_count == 1 ? "" : "s",
                       (unsigned long long)repeats);
                /* batch first, as always; then the file's params: */
                for (int k = 0; k < n->param_count; k++)
                    printf(", %s %llu", n->params[k].name,
                           (unsigned long long)n->params[k].value);
                printf(")\n");
            }
            ef_network_spec_destroy(n);
        } else if (kind == 'm') {
            ef_mapping_spec *m = ef_spec_load_mapping(argv[i], d);
            if (m) printf("%s: ok (mapping for %d Einsum%s)\n", argv[i], m->mapping_count,
                          m->mapping_count == 1 ? "" : "s");
            ok = m != NULL;
            ef_mapping_spec_destroy(m);
        } else if (kind == 's') {
            ef_sweep_spec *sw = ef_spec_load_sweep(argv[i], d);
            if (sw) printf("%s: ok (sweep: %llu point%s, %d ax%s, %s)\n", argv[i],
                           (unsigned long long)sw->point_count, sw->point_count == 1 ? "" : "s",
                           sw->axis_count, sw->axis_count == 1 ? "is" : "es",
                           sw->zip ? "zip" : "product");
            ok = sw != NULL;
            ef_sweep_spec_destroy(sw);
        } else if (kind == 'd') {
            ef_dataflow_spec *df = ef_spec_load_dataflow(argv[i], d);
            if (df) printf("%s: ok (dataflow %s: %d row and %d column slots)\n", argv[i],
                           df->name, df->row_count, df->col_count);
            ok = df != NULL;
            ef_dataflow_spec_destroy(df);
        }
        if (!ok) code = EF_EXIT_INPUT;
        code = ef_cli_finish(d, code);
        ef_diags_destroy(d);
    }
    return code;
}
