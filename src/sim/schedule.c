/* Pass 1 as a whole: walks the mapped nest — exactly when values are
 * checked (walk_exact.c), else by classes of events (tiles.c) — and
 * leaves the result's access counters and the schedule pass 2 times:
 * each level's tile generations and the transfers they cost. */
#include "sim/walk.h"

#include <stdlib.h>
#include <string.h>

ef_status ef_walk_run(ef_schedule *t, ef_values *values, ef_diags *diags) {
    walker wkv;
    walker *wk = &wkv;
    memset(wk, 0, sizeof *wk);
    wk->sch = t;
    wk->n = t->n;
    wk->w = t->n->workload;
    wk->V = values;
    ef_status st = ef_walk_setup(wk);
    if (st == EF_OK && values) st = ef_walk_setup_exact(wk);
    /* a recurrence reads the steps it writes (walk_mac.c): step 0 holds
     * the initial value, every later step NaN until its point runs, so
     * a point the nest ran before the one it depends on shows */
    int rec_tensor = t->n->einsum->recurrence_input >= 0 ? t->n->einsum->output.tensor : -1;
    if (st == EF_OK && values && rec_tensor >= 0)
        ef_values_init_steps(wk->w, rec_tensor, values->data[rec_tensor], true);
    if (st == EF_OK) {
        ef_demand none;
        memset(&none, 0, sizeof none);
        (void)ef_walk_xfer(wk, &none); /* index 0: the free transfer */
        if (values) ef_walk_exact(wk);
        else ef_walk_tiles(wk);
        t->steps = wk->step;
        /* the last generation of each level writes back what the final
         * write-back counted, and ends with the last step */
        for (int l = 1; l < wk->nl && wk->status == EF_OK; l++) {
            uint32_t c = ef_walk_drain_xfer(wk, l, wk->ev_drain_bytes[l],
                                            wk->ev_inst_drain_bytes[l], wk->ev_partial_bytes[l]);
            ef_status cst = ef_gens_close(&t->gens[l], t->steps, c);
            if (cst != EF_OK) wk->status = cst;
        }
        ef_walk_unmask(wk);
        ef_walk_finish(wk);
        if (wk->V) {
            /* the output's first home holds it whole (the outermost
             * level, or where a fused cascade keeps an intermediate) */
            const ef_tensor *ot = &wk->w->tensors[wk->n->ops[wk->out]->tensor];
            int home = 0;
            while (!wk->n->levels[home].keeps[wk->out]) home++;
            /* (a per-PE home: the words its tiles finished) */
            const double *held = wk->L[home].home_val ? wk->L[home].home_val : wk->L[home].val;
            memcpy(wk->V->data[wk->n->ops[wk->out]->tensor], held,
                   sizeof(double) * (size_t)ot->words);
            /* no point writes step 0: it keeps its initial value */
            if (rec_tensor >= 0) ef_values_init_steps(wk->w, rec_tensor, wk->V->data[rec_tensor], false);
        }
        st = wk->status;
    }
    if (st == EF_ERR_OVERFLOW)
        ef_diags_add(diags, t->n->arch->file, 0, 0, "", NULL, NULL,
                     "this mapping hits a limit of the simulator: %s",
                     wk->why[0] ? wk->why : "a 64-bit count would overflow");
    else if (st == EF_ERR_NOMEM)
        ef_diags_out_of_memory(diags, t->n->arch->file);
    ef_walk_free(wk);
    return st;
}

void ef_schedule_free(ef_schedule *t) {
    for (int l = 0; l < EF_MAX_LEVELS; l++) {
        free(t->gens[l].runs);
        free(t->gens[l].shapes);
    }
    ef_xfer_set_free(&t->xfers);
}
