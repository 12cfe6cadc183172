/* A program of a user of the installed library (tests/install): it
 * builds against the installed headers and libeinflow_core through
 * pkg-config, loads the three spec files named on its command line,
 * simulates Einsum 0 and prints its cycles, which the test compares
 * with `einflow run`. */
#include <einflow/einsum.h>
#include <einflow/model.h>
#include <einflow/sim.h>
#include <einflow/spec.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: use_einflow ARCH WORKLOAD MAPPING\n");
        return 2;
    }
    ef_diags *d = ef_diags_create();
    ef_arch_spec *arch = ef_spec_load_arch(argv[1], d);
    ef_workload_spec *ws = ef_spec_load_workload(argv[2], d);
    ef_mapping_spec *ms = ef_spec_load_mapping(argv[3], d);
    ef_workload *w = ws ? ef_einsum_build(ws, d) : NULL;
    ef_nest *n = arch && w && ms ? ef_nest_build(arch, w, ms, 0, d) : NULL;
    ef_sim_options opt = {.engine = EF_ENGINE_EVENT};
    ef_status st = EF_OK;
    ef_result *r = n ? ef_sim_run(n, &opt, NULL, d, &st) : NULL;
    int code = 0;
    if (r) {
        printf("%" PRIu64 "\n", r->cycles);
    } else {
        char *text = ef_diags_render(d);
        fprintf(stderr, "%s", text ? text : "out of memory\n");
        free(text);
        code = 1;
    }
    ef_result_destroy(r);
    ef_nest_destroy(n);
    ef_workload_destroy(w);
    ef_mapping_spec_destroy(ms);
    ef_workload_spec_destroy(ws);
    ef_arch_spec_destroy(arch);
    ef_diags_destroy(d);
    return code;
}
