/* The PE array's activity for the HTML report's animation, derived
 * from a nest when no cycle trace is at hand: which PEs hold an
 * iteration point at each temporal step. It is the mapping's spatial
 * pattern over time — edge tiles of ranks whose factors overshoot the
 * bound leave PEs idle — not the engine's timing (no stalls), which is
 * why the frames count steps and the page says so. A trace replaces
 * these frames through the same ef_report_activity (report.h). */
#include "einflow/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The step numbers to show: all of [0, total) when they fit, else the
 * first half of max consecutively (the fine pattern of the innermost
 * loops) and the rest spread evenly to the last step (the edge tiles
 * come at the ends of the outer loops). */
static int pick_steps(uint64_t total, int max, uint64_t *steps) {
    if (total <= (uint64_t)max) {
        for (uint64_t t = 0; t < total; t++) steps[t] = t;
        return (int)total;
    }
    int head = max / 2, tail = max - head;
    for (int i = 0; i < head; i++) steps[i] = (uint64_t)i;
    uint64_t from = (uint64_t)head, span = total - 1 - from;
    for (int i = 1; i <= tail; i++)
        steps[head + i - 1] = from + (uint64_t)((double)span * i / tail);
    return max;
}

/* Whether the point at temporal coordinates base plus spatial offset
 * off is a real one: inside every rank's bound and not masked. */
static bool holds_point(const ef_nest *n, const int64_t *base, const int64_t *off) {
    const ef_workload *w = n->workload;
    int64_t x[EF_MAX_RANKS] = {0};
    for (int r = 0; r < w->rank_count; r++) {
        x[r] = base[r] + off[r];
        if (n->einsum->rank_used[r] && (uint64_t)x[r] >= w->rank_bounds[r]) return false;
    }
    return !ef_point_masked(w, n->einsum, x);
}

bool ef_report_activity_derive(ef_report_activity *a, const ef_nest *n, const char *label,
                               int max_frames) {
    memset(a, 0, sizeof *a);
    snprintf(a->label, sizeof a->label, "%s", label);
    a->time_unit = "step";
    a->source = "derived from the mapping: one frame per temporal step of the loop nest "
                "(iteration points each PE holds), without the engine's stalls";
    a->rows = (uint64_t)n->arch->rows;
    a->cols = (uint64_t)n->arch->cols;
    uint64_t total = 1;
    for (int j = 0; j < n->loop_count; j++)
        if (n->loops[j].kind == EF_LOOP_TEMPORAL && n->loops[j].factor > 1 &&
            !ef_mul_u64(total, n->loops[j].factor, &total))
            total = UINT64_MAX;
    a->total_time = total;
    if (max_frames < 1 || a->rows * a->cols == 0) return true;
    uint64_t pes = a->rows * a->cols;
    uint64_t *steps = ef_calloc((size_t)max_frames, sizeof *steps);
    a->frames = ef_calloc((size_t)max_frames, sizeof *a->frames);
    a->owned = ef_calloc((size_t)max_frames, (size_t)pes);
    if (!steps || !a->frames || !a->owned) {
        free(steps);
        ef_report_activity_free(a);
        return false;
    }
    a->frame_count = pick_steps(total, max_frames, steps);
    for (int f = 0; f < a->frame_count; f++) {
        /* the temporal loops are a mixed-radix number, innermost digit
         * fastest; each digit moves its rank by the loop's stride */
        int64_t base[EF_MAX_RANKS] = {0};
        uint64_t rest = steps[f];
        for (int j = n->loop_count - 1; j >= 0; j--) {
            const ef_loop *lp = &n->loops[j];
            if (lp->kind != EF_LOOP_TEMPORAL || lp->factor < 2) continue;
            base[lp->rank] += (int64_t)((rest % lp->factor) * lp->stride);
            rest /= lp->factor;
        }
        uint8_t *busy = a->owned + (size_t)f * pes;
        /* PE i of the used block sits at row i / cols_used, column
         * i % cols_used; its digits peel off as the engine's do
         * (sim/walk.c): rows, then cols, each list innermost first */
        for (uint64_t i = 0; i < n->rows_used * n->cols_used; i++) {
            uint64_t row = i / n->cols_used, col = i % n->cols_used;
            if (row >= a->rows || col >= a->cols) continue;
            int64_t off[EF_MAX_RANKS] = {0};
            uint64_t dr = row, dc = col;
            for (int j = n->loop_count - 1; j >= 0; j--) {
                const ef_loop *lp = &n->loops[j];
                if (lp->kind == EF_LOOP_TEMPORAL) continue;
                uint64_t *digit = lp->kind == EF_LOOP_ROWS ? &dr : &dc;
                off[lp->rank] += (int64_t)((*digit % lp->factor) * lp->stride);
                *digit /= lp->factor;
            }
            busy[row * a->cols + col] = holds_point(n, base, off);
        }
        a->frames[f] = (ef_report_frame){.time = steps[f], .busy = busy, .stall = NULL};
    }
    free(steps);
    return true;
}

void ef_report_activity_free(ef_report_activity *a) {
    if (!a) return;
    free(a->frames);
    free(a->owned);
    a->frames = NULL;
    a->owned = NULL;
    a->frame_count = 0;
}
