/* --trace FILE (not .vcd): the trace as CSV, one row per Einsum, cycle
 * and thing that happened in it — the unit computing or stalled, and
 * the bytes each port or link moved — in a fixed order (cycle, then
 * Einsum in cascade order, then its unit's row, then its resources as
 * ef_trace_res_order lists them). The rows depend only on the trace's
 * arrays, so both engines write the same bytes. Columns: docs/output.md. */
#include "report/trace_buf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A name in a CSV cell: quoted when it holds a comma or a quote. */
static void cell(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static const char *res_kind(const char *name) {
    if (!strncmp(name, "noc ", 4)) return "noc";
    const char *dot = strrchr(name, '.');
    return dot && !strcmp(dot, ".write") ? "write" : "read";
}

ef_status ef_trace_write_csv(const ef_trace *t, const ef_nest *const *nests, int count,
                             uint64_t total_cycles, FILE *f) {
    if (t->failed) return EF_ERR_NOMEM;
    int *order[EF_MAX_EINSUMS];
    int n = count < t->nes ? count : t->nes;
    if (n > EF_MAX_EINSUMS) n = EF_MAX_EINSUMS;
    ef_status st = EF_OK;
    for (int i = 0; i < n; i++) {
        order[i] = ef_calloc((size_t)t->es[i].nres + 1, sizeof *order[i]);
        if (!order[i]) st = EF_ERR_NOMEM;
        else ef_trace_res_order(&t->es[i], nests[i], order[i]);
    }
    uint64_t end = ef_trace_shown_end(t, total_cycles);
    fputs("cycle,einsum,kind,resource,bytes,detail\n", f);
    for (uint64_t c = 0; st == EF_OK && c < end - t->begin; c++) {
        for (int i = 0; i < n; i++) {
            const trace_einsum *e = &t->es[i];
            if (!e->seen) continue;
            const char *name = ef_trace_einsum_name(nests[i]);
            uint16_t s = e->state[c];
            if (s != TRACE_IDLE) {
                fprintf(f, "%" PRIu64 ",", t->begin + c);
                cell(f, name);
                fputs(s == TRACE_COMPUTING ? ",compute," : ",stall,", f);
                cell(f, ef_trace_unit_name(nests[i]));
                if (s == TRACE_COMPUTING) fprintf(f, ",0,%" PRIu32 "\n", e->steps[c]);
                else {
                    fputs(",0,", f);
                    cell(f, t->causes[s - TRACE_STALLED]);
                    fputc('\n', f);
                }
            }
            for (int k = 0; k < e->nres; k++) {
                const trace_res *r = &e->res[order[i][k]];
                if (!r->bytes[c]) continue;
                fprintf(f, "%" PRIu64 ",", t->begin + c);
                cell(f, name);
                fprintf(f, ",%s,", res_kind(r->name));
                cell(f, r->name);
                fprintf(f, ",%" PRIu64 ",\n", r->bytes[c]);
            }
        }
    }
    for (int i = 0; i < n; i++) free(order[i]);
    if (st == EF_OK && ferror(f)) st = EF_ERR_IO;
    return st;
}
