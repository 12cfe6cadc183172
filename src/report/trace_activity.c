/* The HTML report's PE array animation from a cycle trace: frames at
 * cycles of the traced window, a PE busy in a cycle when its Einsum
 * computed then and the mapping gives the PE points — the trace's own
 * per-PE signal, as the VCD writes it (trace_vcd.c). */
#include "einflow/report.h"
#include "report/trace_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ef_trace_activity(const ef_trace *t, const ef_nest *n, int einsum, uint64_t total_cycles,
                       const char *label, int max_frames, ef_report_activity *a) {
    memset(a, 0, sizeof *a);
    snprintf(a->label, sizeof a->label, "%s", label);
    a->time_unit = "cycle";
    a->source = "the cycle trace (--trace-window): a PE is busy in a cycle when its Einsum "
                "computed then and the mapping gives it points; a stalled cycle names its cause";
    a->rows = (uint64_t)n->arch->rows;
    a->cols = (uint64_t)n->arch->cols;
    a->total_time = total_cycles;
    uint64_t end = ef_trace_shown_end(t, total_cycles), span = end - t->begin;
    if (max_frames < 1 || span == 0 || a->rows * a->cols == 0 || einsum < 0 || einsum >= t->nes)
        return true;
    const trace_einsum *e = &t->es[einsum];
    if (!e->state) return true; /* the window never saw this Einsum */
    uint64_t frames = span < (uint64_t)max_frames ? span : (uint64_t)max_frames;
    uint64_t pes = a->rows * a->cols;
    a->frames = ef_calloc((size_t)frames, sizeof *a->frames);
    a->owned = ef_calloc((size_t)frames, (size_t)pes);
    if (!a->frames || !a->owned) {
        ef_report_activity_free(a);
        return false;
    }
    for (uint64_t f = 0; f < frames; f++) {
        uint64_t c = span * f / frames; /* evenly over the window */
        uint8_t *busy = a->owned + f * pes;
        uint16_t state = e->state[c];
        if (state == TRACE_COMPUTING)
            for (uint64_t r = 0; r < n->rows_used && r < a->rows; r++)
                for (uint64_t k = 0; k < n->cols_used && k < a->cols; k++) busy[r * a->cols + k] = 1;
        a->frames[f] = (ef_report_frame){
            .time = t->begin + c, .busy = busy,
            .stall = state >= TRACE_STALLED ? t->causes[state - TRACE_STALLED] : NULL};
    }
    a->frame_count = (int)frames;
    return true;
}
