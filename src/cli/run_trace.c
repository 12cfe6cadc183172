/* `einflow run --trace FILE [--trace-window A:B]`: runs the cascade
 * once more with a trace sink (report/trace_*.c) and writes the window
 * as CSV, or as a VCD when FILE ends in .vcd. The run itself (table,
 * JSON) is the untraced one; the traced run repeats it exactly, one
 * Einsum after another on one thread. */
#include "cli/run_trace.h"
#include "einflow/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_cycle(const char *s, size_t len, uint64_t *out) {
    char buf[32];
    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = 0;
    return ef_cli_parse_u64(buf, out);
}

int ef_cli_trace_option(ef_cli_run_args *a, const char *opt, const char *v, const char *cmd,
                        const char *usage) {
    if (!strcmp(opt, "--trace")) {
        if (!v[0]) return ef_cli_usage_error(cmd, usage, "--trace needs a file name");
        a->trace_path = v;
        return -1;
    }
    /* A:B, A: (EF_TRACE_DEFAULT_CYCLES from A) or :B (from 0) */
    const char *colon = strchr(v, ':');
    uint64_t begin = 0, end = 0;
    bool ok = colon != NULL;
    if (ok && colon > v) ok = parse_cycle(v, (size_t)(colon - v), &begin);
    if (ok && colon[1]) ok = parse_cycle(colon + 1, strlen(colon + 1), &end);
    else if (ok) end = begin > UINT64_MAX - EF_TRACE_DEFAULT_CYCLES ? UINT64_MAX
                                                                    : begin + EF_TRACE_DEFAULT_CYCLES;
    if (!ok || (colon == v && !colon[1]))
        return ef_cli_usage_error(cmd, usage,
                                  "--trace-window expects A:B (cycles A up to, not including, "
                                  "B; A: or :B), found \"%s\"",
                                  v);
    if (end <= begin)
        return ef_cli_usage_error(cmd, usage,
                                  "--trace-window %s is empty: B must be greater than A", v);
    if (end - begin > EF_TRACE_MAX_CYCLES)
        return ef_cli_usage_error(cmd, usage,
                                  "--trace-window %s spans %" PRIu64 " cycles, but a trace "
                                  "holds at most %d: trace a longer run window by window",
                                  v, end - begin, EF_TRACE_MAX_CYCLES);
    a->trace_begin = begin;
    a->trace_end = end;
    a->trace_window = v;
    return -1;
}

int ef_cli_trace_check(ef_cli_run_args *a, const char *cmd, const char *usage) {
    if (a->trace_window && !a->trace_path)
        return ef_cli_usage_error(cmd, usage, "--trace-window needs --trace FILE");
    if (!a->trace_path) return -1;
    if (a->search.sim.fold_model == EF_FOLD_SCALESIM)
        return ef_cli_usage_error(cmd, usage,
                                  "--trace follows the cycle loop, which --fold-model scalesim "
                                  "replaces by a formula: trace with --fold-model overlap");
    if (!a->trace_window) {
        a->trace_begin = 0;
        a->trace_end = EF_TRACE_DEFAULT_CYCLES;
    }
    return -1;
}

static bool ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && !strcmp(s + n - k, tail);
}

int ef_cli_run_trace(ef_cli_session *s, const ef_cli_run_args *a, ef_trace **keep,
                     uint64_t *total_out) {
    ef_diags *d = s->d;
    const ef_cli_layers *L = &s->L;
    if (L->count != 1) {
        ef_diags_add(d, a->files[1], 0, 0, "", "pick one layer with --layers NAME", NULL,
                     "--trace follows one workload, but %s is a network of %d layers",
                     a->files[1], L->count);
        return EF_EXIT_INPUT;
    }
    int at = L->first[0], n = L->w[0]->einsum_count;
    ef_trace *t = ef_trace_create(a->trace_begin, a->trace_end);
    ef_result **rs = ef_calloc((size_t)n, sizeof *rs);
    if (!t || !rs) {
        ef_trace_destroy(t);
        free(rs);
        return ef_cli_out_of_memory(d);
    }
    ef_sim_options opt = a->search.sim;
    opt.check_values = false; /* the values do not change the timing */
    opt.trace = ef_trace_sink_of(t);
    int code = EF_EXIT_OK;
    ef_status st = ef_sim_run_cascade(&s->out.nests[at], n, &opt, NULL, 1, rs, d);
    if (st != EF_OK) code = ef_cli_status(d, st);
    uint64_t total = 0;
    for (int i = 0; i < n && code == EF_EXIT_OK; i++) total += ef_result_span_cycles(rs[i]);
    FILE *f = code == EF_EXIT_OK ? fopen(a->trace_path, "w") : NULL;
    if (code == EF_EXIT_OK && !f) {
        fprintf(stderr, "einflow run: cannot write %s: %s\n", a->trace_path, strerror(errno));
        code = EF_EXIT_IO;
    }
    if (f) {
        const ef_nest *const *nests = (const ef_nest *const *)&s->out.nests[at];
        char title[3 * EF_MAX_PATH];
        snprintf(title, sizeof title, "%s on %s", L->w[0]->name, s->arch->name);
        st = ends_with(a->trace_path, ".vcd")
                 ? ef_trace_write_vcd(t, nests, n, total, title, f)
                 : ef_trace_write_csv(t, nests, n, total, f);
        bool closed = fclose(f) == 0;
        if (st == EF_OK && !closed) st = EF_ERR_IO;
        if (st == EF_ERR_IO) {
            fprintf(stderr, "einflow run: cannot write %s\n", a->trace_path);
            code = EF_EXIT_IO;
        } else if (st != EF_OK) code = ef_cli_status(d, st);
    }
    for (int i = 0; i < n; i++) ef_result_destroy(rs[i]);
    free(rs);
    if (keep && code == EF_EXIT_OK) {
        *keep = t;
        *total_out = total;
    } else {
        ef_trace_destroy(t);
    }
    return code;
}
