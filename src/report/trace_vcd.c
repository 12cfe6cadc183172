/* --trace FILE.vcd: the trace as a Value Change Dump (IEEE 1364-2001,
 * section 18) that GTKWave and other waveform viewers open. One time
 * unit is one cycle ($timescale 1ns: a nominal unit, whatever the
 * architecture's clock). Per Einsum, a scope with its unit's busy bit,
 * the PEs' (or, past EF_TRACE_PE_SIGNALS_MAX PEs, the rows') busy bits,
 * the steps issued, one bit per stall cause and the bytes each port and
 * link moved in the cycle. Only changes are written, after a
 * $dumpvars of every signal at the window's first cycle. */
#include "report/trace_buf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { SIG_BUSY, SIG_PE, SIG_ROW, SIG_STEPS, SIG_STALL, SIG_BYTES };

typedef struct {
    int einsum, kind, index;   /* index: PE, row, cause or resource     */
    int width;                 /* bits                                  */
    char id[8];                /* the VCD identifier code               */
    uint64_t last;
} sig;

/* Identifier codes: printable ASCII from '!' to '~', base 94. */
static void id_code(int i, char *out) {
    int k = 0;
    do {
        out[k++] = (char)('!' + i % 94);
        i /= 94;
    } while (i && k < 7);
    out[k] = 0;
}

/* A VCD reference: letters, digits and '_' only. */
static void ref_name(const char *s, char *out, size_t size) {
    size_t k = 0;
    for (; *s && k + 1 < size; s++) {
        if (s[0] == '-' && s[1] == '>') {
            if (k + 5 < size) {
                memcpy(out + k, "_to_", 4);
                k += 4;
            }
            s++;
            continue;
        }
        unsigned char ch = (unsigned char)*s;
        out[k++] = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                           (ch >= 'A' && ch <= 'Z') ? (char)ch : '_';
    }
    out[k] = 0;
}

static uint64_t value(const ef_trace *t, const ef_nest *n, const sig *s, const int *order,
                      uint64_t c) {
    const trace_einsum *e = &t->es[s->einsum];
    bool busy = e->state[c] == TRACE_COMPUTING;
    switch (s->kind) {
    case SIG_BUSY: return busy;
    case SIG_PE: {
        uint64_t cols = (uint64_t)n->arch->cols;
        return busy && (uint64_t)s->index / cols < n->rows_used &&
               (uint64_t)s->index % cols < n->cols_used;
    }
    case SIG_ROW: return busy && (uint64_t)s->index < n->rows_used;
    case SIG_STEPS: return e->steps[c];
    case SIG_STALL: return e->state[c] == TRACE_STALLED + s->index;
    default: return e->res[order[s->index]].bytes[c];
    }
}

static void put(FILE *f, const sig *s, uint64_t v) {
    if (s->width == 1) {
        fprintf(f, "%d%s\n", (int)v, s->id);
        return;
    }
    char bits[65];
    int k = 64;
    bits[k] = 0;
    do {
        bits[--k] = (char)('0' + (v & 1));
        v >>= 1;
    } while (v);
    fprintf(f, "b%s %s\n", bits + k, s->id);
}

/* Adds a signal; false when out of room. */
static bool add(sig **sigs, int *n, int *cap, int einsum, int kind, int index, int width) {
    if (*n == *cap) {
        int nc = *cap ? 2 * *cap : 64;
        sig *s = ef_realloc(*sigs, (size_t)nc * sizeof *s);
        if (!s) return false;
        *sigs = s;
        *cap = nc;
    }
    sig *s = &(*sigs)[*n];
    memset(s, 0, sizeof *s);
    s->einsum = einsum;
    s->kind = kind;
    s->index = index;
    s->width = width;
    id_code(*n, s->id);
    (*n)++;
    return true;
}

/* The signals of Einsum i, declared as they are added. */
static bool declare(const ef_trace *t, const ef_nest *n, int i, const int *order, sig **sigs,
                    int *ns, int *cap, FILE *f) {
    const trace_einsum *e = &t->es[i];
    char name[TRACE_RES_NAME + 8];
    ref_name(ef_trace_einsum_name(n), name, sizeof name);
    fprintf(f, "$scope module e%d_%s $end\n", i, name);
    int first = *ns;
    if (!add(sigs, ns, cap, i, SIG_BUSY, 0, 1)) return false;
    uint64_t rows = (uint64_t)n->arch->rows, cols = (uint64_t)n->arch->cols;
    if (rows * cols <= EF_TRACE_PE_SIGNALS_MAX) {
        for (uint64_t p = 0; p < rows * cols; p++)
            if (!add(sigs, ns, cap, i, SIG_PE, (int)p, 1)) return false;
    } else {
        for (uint64_t r = 0; r < rows; r++)
            if (!add(sigs, ns, cap, i, SIG_ROW, (int)r, 1)) return false;
    }
    if (!add(sigs, ns, cap, i, SIG_STEPS, 0, 32)) return false;
    /* the causes this Einsum stalls on in the window, by name */
    bool *used = ef_calloc((size_t)t->ncauses + 1, sizeof *used);
    if (!used) return false;
    for (uint64_t c = 0; c < t->window; c++)
        if (e->state[c] >= TRACE_STALLED) used[e->state[c] - TRACE_STALLED] = true;
    for (;;) {
        int best = -1;
        for (int k = 0; k < t->ncauses; k++)
            if (used[k] && (best < 0 || strcmp(t->causes[k], t->causes[best]) < 0)) best = k;
        if (best < 0) break;
        used[best] = false;
        if (!add(sigs, ns, cap, i, SIG_STALL, best, 1)) {
            free(used);
            return false;
        }
    }
    free(used);
    for (int k = 0; k < e->nres; k++)
        if (!add(sigs, ns, cap, i, SIG_BYTES, k, 64)) return false;
    for (int k = first; k < *ns; k++) {
        const sig *s = &(*sigs)[k];
        char ref[TRACE_RES_NAME + 16];
        switch (s->kind) {
        case SIG_BUSY: snprintf(ref, sizeof ref, "busy"); break;
        case SIG_PE:
            snprintf(ref, sizeof ref, "pe_%d_%d", s->index / n->arch->cols,
                     s->index % n->arch->cols);
            break;
        case SIG_ROW: snprintf(ref, sizeof ref, "row_%d", s->index); break;
        case SIG_STEPS: snprintf(ref, sizeof ref, "steps"); break;
        case SIG_STALL: {
            char c[TRACE_RES_NAME];
            ref_name(t->causes[s->index], c, sizeof c);
            snprintf(ref, sizeof ref, "stall_%s", c);
            break;
        }
        default: {
            char r[TRACE_RES_NAME];
            ref_name(e->res[order[s->index]].name, r, sizeof r);
            snprintf(ref, sizeof ref, "bytes_%s", r);
        }
        }
        fprintf(f, "$var wire %d %s %s $end\n", s->width, s->id, ref);
    }
    fputs("$upscope $end\n", f);
    return true;
}

ef_status ef_trace_write_vcd(const ef_trace *t, const ef_nest *const *nests, int count,
                             uint64_t total_cycles, const char *title, FILE *f) {
    if (t->failed) return EF_ERR_NOMEM;
    int n = count < t->nes ? count : t->nes;
    if (n > EF_MAX_EINSUMS) n = EF_MAX_EINSUMS;
    int *order[EF_MAX_EINSUMS] = {NULL};
    sig *sigs = NULL;
    int ns = 0, cap = 0;
    ef_status st = EF_OK;
    uint64_t end = ef_trace_shown_end(t, total_cycles);
    fprintf(f, "$date\n\tnone: cycles are simulated, not timed\n$end\n");
    fprintf(f, "$version\n\teinflow %s\n$end\n", EF_VERSION);
    fprintf(f, "$comment\n\t%s: cycles %" PRIu64 " to %" PRIu64 " of %" PRIu64
               "; one time unit is one cycle\n$end\n",
            title, t->begin, end, total_cycles);
    fputs("$timescale 1ns $end\n$scope module einflow $end\n", f);
    for (int i = 0; i < n && st == EF_OK; i++) {
        if (!t->es[i].seen) continue;
        order[i] = ef_calloc((size_t)t->es[i].nres + 1, sizeof *order[i]);
        if (!order[i]) st = EF_ERR_NOMEM;
        else {
            ef_trace_res_order(&t->es[i], nests[i], order[i]);
            if (!declare(t, nests[i], i, order[i], &sigs, &ns, &cap, f)) st = EF_ERR_NOMEM;
        }
    }
    fputs("$upscope $end\n$enddefinitions $end\n", f);
    for (uint64_t c = 0; st == EF_OK && c < end - t->begin; c++) {
        bool stamped = false;
        if (c == 0) fprintf(f, "#%" PRIu64 "\n$dumpvars\n", t->begin);
        for (int k = 0; k < ns; k++) {
            sig *s = &sigs[k];
            uint64_t v = value(t, nests[s->einsum], s, order[s->einsum], c);
            if (c > 0 && v == s->last) continue;
            if (c > 0 && !stamped) {
                fprintf(f, "#%" PRIu64 "\n", t->begin + c);
                stamped = true;
            }
            put(f, s, v);
            s->last = v;
        }
        if (c == 0) fputs("$end\n", f);
    }
    /* the window's end, so that a viewer shows its last cycle whole */
    if (st == EF_OK && end > t->begin) fprintf(f, "#%" PRIu64 "\n", end);
    for (int i = 0; i < n; i++) free(order[i]);
    free(sigs);
    if (st == EF_OK && ferror(f)) st = EF_ERR_IO;
    return st;
}
