/* Pass 2 for a fused cascade: the Einsums of one group (model/fuse.c)
 * stepped together, cycle by cycle, sharing the ports and links and
 * the compute units.
 *
 * Each Einsum keeps its own engine (step.c): its channels, its stream,
 * its steps. What ties them:
 *   - one arbiter: every transfer of every Einsum competes for the same
 *     ports and links, in a fixed order (Einsums in cascade order, each
 *     as in ef_step_run);
 *   - the units: each Einsum runs on the PE array or the vector unit,
 *     and a unit works on one Einsum's tile of the fusion level at a
 *     time, to its end. Its tiles wait in program order — tile 0 of
 *     each of its Einsums in cascade order, then tile 1, ... — and it
 *     takes the oldest that can start (its tiles in, its buffer free),
 *     so that while one Einsum waits on the other unit it may go on
 *     with the next tile of another: the array computes the next
 *     block of scores while the vector unit normalises this one;
 *   - the intermediates: a consumer's tile at the fusion level is usable
 *     once each producer has written that tile back from below, and a
 *     producer starts a tile only once its consumers are done with the
 *     tile that tile's buffer held (ef_engine_tile_ready, consumers_free
 *     in step.c).
 * Each cycle is charged, per unit, to the Einsum whose turn it is: to
 * its compute cycles when the unit works, else to its stall cause;
 * where it waits on another Einsum of the group, to what that one waits
 * on. So on one unit, the Einsums' cycles add up to the group's. */
#include "sim/stepper.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNITS 2

typedef struct {
    int members[EF_MAX_EINSUMS]; /* engines it serves, in cascade order */
    int count;
    engine *holder;              /* whose tile it works on, or NULL     */
    uint64_t busy_until;         /* its last step's PE is busy until    */
    int busy_owner;              /* ... working for this engine         */
} unit;

/* Whether recurrence n steps with the group: its rank is walked by a
 * shared loop above the level (the innermost, model/fuse.c), so each
 * iteration writes the step the next one reads. */
static bool steps_with_group(const ef_nest *n, int level) {
    int r = n->einsum->recurrence_rank;
    if (r < 0 || ef_nest_home_level(n, n->out_op) != level) return false;
    for (int i = 0; i < n->loop_count; i++)
        if (n->loops[i].level < level && n->loops[i].rank == r && n->loops[i].factor > 1)
            return true;
    return false;
}

/* Links each consumer to the producers whose intermediates it reads
 * where the group keeps them (at its level, or deeper in the PEs): at
 * the same iteration, or one back for a recurrence's old value (the
 * step before the one written). */
static void link_engines(engine *es, int count, int level) {
    for (int c = 0; c < count; c++) {
        const ef_nest *cn = es[c].tr->n;
        es[c].self_lag = steps_with_group(cn, level) ? ef_fusion_state_slots(cn, level) : 0;
        for (int p = 0; p < c; p++) {
            const ef_nest *pn = es[p].tr->n;
            const ef_operand *out = pn->ops[pn->out_op];
            int d = pn->einsum->recurrence_dim;
            bool reads = false;
            uint64_t lag = 0;
            /* the buffer its tiles wait for: at the fusion level, or in
             * the PEs below it (model/fuse.c, check_inner) */
            int home = ef_nest_home_level(pn, pn->out_op);
            for (int o = 0; o < cn->out_op; o++) {
                if (cn->ops[o]->tensor != out->tensor || ef_nest_home_level(cn, o) < level)
                    continue;
                reads = true;
                if (steps_with_group(pn, level) && cn->ops[o]->index[d].term_count == 1 &&
                    cn->ops[o]->index[d].constant == out->index[d].constant - 1)
                    lag = es[p].self_lag;
            }
            if (!reads) continue;
            es[c].producer_lag[es[c].nproducers] = lag;
            es[c].producers[es[c].nproducers++] = &es[p];
            es[p].consumer_lag[es[p].nconsumers] = lag;
            /* running state: a buffer per state slot */
            es[p].consumer_depth[es[p].nconsumers] =
                (uint64_t)es[p].ch[home].depth * (es[p].self_lag ? es[p].self_lag : 1);
            es[p].consumers[es[p].nconsumers++] = &es[c];
        }
    }
}

/* Each engine's tiles at the level per iteration of the group's
 * shared loops: a tail (model/fuse.c) lacks one shared loop, over a
 * rank it does not have, and has a tile per iteration of the others,
 * run at the last iteration of the one it lacks. */
static void set_strides(engine *es, int count, int level) {
    uint64_t most = 0;
    int lead = 0;
    for (int i = 0; i < count; i++)
        if (es[i].tr->gens[level].count > most) {
            most = es[i].tr->gens[level].count;
            lead = i;
        }
    const ef_nest *ln = es[lead].tr->n;
    for (int i = 0; i < count; i++) {
        uint64_t own = es[i].tr->gens[level].count;
        if (own == 0 || own == most) continue;
        const ef_einsum *tail = es[i].tr->n->einsum;
        bool inside = false;
        for (int k = 0; k < ln->loop_count; k++) {
            const ef_loop *lp = &ln->loops[k];
            if (lp->level >= level || lp->factor < 2 || lp->kind != EF_LOOP_TEMPORAL) continue;
            if (inside) es[i].tile_inner *= lp->factor;
            else if (!tail->rank_used[lp->rank]) {
                es[i].tile_stride = lp->factor;
                inside = true;
            }
        }
        assert(own * es[i].tile_stride == most);
    }
}

/* The group iteration of e's tile in use. */
static uint64_t iter_of(const engine *e) {
    return ef_engine_group_iter(e, e->ch[e->fuse_level].cg);
}

/* The Einsum u works for at cycle t: the one whose tile it has begun;
 * else, of the tiles waiting in program order (the tile of the fusion
 * level, then cascade order), the oldest that can start, failing that
 * the oldest (whose wait the cycle is charged to). NULL when all its
 * Einsums are done. */
static engine *pick(const unit *u, engine *es, uint64_t t) {
    if (u->holder && ef_engine_mid_tile(u->holder)) return u->holder;
    engine *oldest = NULL, *ready = NULL;
    for (int i = 0; i < u->count; i++) {
        engine *e = &es[u->members[i]];
        if (e->s >= e->tr->steps) continue;
        uint64_t g = iter_of(e);
        if (!oldest || g < iter_of(oldest)) oldest = e;
        if ((!ready || g < iter_of(ready)) && ef_engine_can_start(e, t)) ready = e;
    }
    return ready ? ready : oldest;
}

/* Settles every Einsum's transfers at t; the order is the
 * arbitration. */
static void settle(engine *es, int count, int max_levels, uint64_t t) {
    bool changed = true;
    for (int pass = 0; changed && pass < count * (4 * max_levels + 8); pass++) {
        changed = false;
        for (int i = 0; i < count; i++) changed |= ef_engine_settle(&es[i], t);
    }
}

/* Chooses each unit's Einsum for cycle t; true if any changed. Only
 * the chosen one streams operands to its unit. */
static bool choose(unit *units, engine *es, uint64_t t) {
    bool changed = false;
    for (int ui = 0; ui < UNITS; ui++) {
        unit *u = &units[ui];
        engine *h = u->count ? pick(u, es, t) : NULL;
        changed |= h != u->holder;
        u->holder = h;
        for (int i = 0; i < u->count; i++) {
            engine *e = &es[u->members[i]];
            e->on_turn = e == h;
        }
    }
    return changed;
}

/* Where a stalled unit's cycle goes: its holder's cause (which names
 * the unit or the transfer it waits on in the group), failing that
 * what the others have in flight. */
static int group_cause(engine *h, engine *es, int count, uint64_t t) {
    int r = ef_engine_stall_cause(h, t);
    for (int i = 0; i < count && r < 0; i++)
        if (&es[i] != h) r = ef_engine_flight_cause(&es[i]);
    return r;
}

ef_status ef_group_run(ef_schedule *const *trs, int count, int level, bool fast_forward,
                       uint64_t *group_cycles, ef_diags *diags) {
    engine *es = ef_calloc((size_t)count, sizeof *es);
    ef_arbiter *arb = ef_calloc(1, sizeof *arb);
    ef_status st = EF_OK;
    unit units[UNITS];
    memset(units, 0, sizeof units);
    if (!es || !arb) {
        st = EF_ERR_NOMEM;
        goto out;
    }
    int max_levels = 0;
    for (int i = 0; i < count; i++) {
        ef_engine_init(&es[i], trs[i], arb);
        es[i].fuse_level = level;
        unit *u = &units[trs[i]->n->unit == EF_UNIT_VECTOR ? 1 : 0];
        u->members[u->count++] = i;
        if (es[i].nl > max_levels) max_levels = es[i].nl;
    }
    link_engines(es, count, level);
    set_strides(es, count, level);
    const ef_nest *n0 = trs[0]->n;
    bool trace = trs[0]->trace != NULL;
    uint64_t t = 0;
    for (;; t++) {
        /* transfers first, then each unit picks its Einsum from the
         * state they leave; a new pick may start its stream */
        settle(es, count, max_levels, t);
        if (choose(units, es, t)) settle(es, count, max_levels, t);
        bool computing[UNITS] = {false}, passed = false, crossed = false;
        engine *h[UNITS];
        uint64_t issued[UNITS] = {0};
        for (int ui = 0; ui < UNITS; ui++) {
            unit *u = &units[ui];
            h[ui] = u->holder;
            if (!h[ui]) continue;
            if (t >= u->busy_until) {
                ef_issue is;
                issued[ui] = ef_engine_issue(h[ui], t, &is);
                crossed |= is.crossed;
                if (issued[ui]) {
                    u->busy_until = h[ui]->next_issue;
                    u->busy_owner = (int)(h[ui] - es);
                }
                /* the tile is done: the unit picks anew next cycle */
                passed |= is.fused_crossed || h[ui]->s >= h[ui]->tr->steps;
            }
            computing[ui] = issued[ui] || t < u->busy_until;
            if (computing[ui]) es[u->busy_owner].compute++;
        }
        bool all_done = true, busy = false, waiting = false, unit_busy = false;
        for (int i = 0; i < count; i++) {
            all_done &= ef_engine_done(&es[i]);
            busy |= ef_engine_in_flight(&es[i]);
            waiting |= ef_engine_waiting(&es[i], t);
        }
        for (int ui = 0; ui < UNITS; ui++) unit_busy |= t + 1 < units[ui].busy_until;
        if (all_done && !busy && !unit_busy) break;
        if (!computing[0] && !computing[1] && !busy && !waiting && !unit_busy && !passed) {
            ef_diags_add(diags, n0->arch->file, 0, 0, "", NULL, NULL,
                         "internal error: the fused cascade stalled with no transfer in "
                         "flight at cycle %llu (please report this mapping)",
                         (unsigned long long)t);
            st = EF_ERR_OVERFLOW;
            goto out;
        }
        /* the next cycle that may differ: the soonest of every engine's */
        uint64_t quiet = 0;
        if (fast_forward && !passed && !crossed) {
            quiet = NEVER;
            for (int i = 0; i < count; i++) {
                engine *e = &es[i];
                uint64_t by = e == h[0] ? issued[0] : e == h[1] ? issued[1] : 0;
                uint64_t q = ef_engine_quiet(e, t, by, false);
                if (q < quiet) quiet = q;
            }
            /* a unit coming free lets its next Einsum issue (one that
             * issues every cycle is its holder's to bound) */
            for (int ui = 0; ui < UNITS; ui++) {
                const unit *u = &units[ui];
                bool steady = issued[ui] && h[ui] && h[ui]->interval == 1;
                if (!steady && u->busy_until > t && u->busy_until - t - 1 < quiet)
                    quiet = u->busy_until - t - 1;
            }
            if (quiet == NEVER) quiet = 0;
        }
        for (int ui = 0; ui < UNITS; ui++) {
            if (!h[ui] || computing[ui]) continue;
            int cause = group_cause(h[ui], es, count, t);
            ef_engine_charge(h[ui], cause, 1 + quiet);
            if (trace) ef_engine_trace(h[ui], t, 1 + quiet, false, 0, 0, cause);
        }
        for (int ui = 0; ui < UNITS && trace; ui++) {
            if (!computing[ui]) continue;
            engine *e = &es[units[ui].busy_owner];
            ef_engine_trace(e, t, 1 + quiet, true, issued[ui],
                            issued[ui] == e->k && e->interval == 1 ? e->k : 0, -1);
        }
        if (quiet) {
            for (int ui = 0; ui < UNITS; ui++) {
                if (!computing[ui]) continue;
                engine *e = &es[units[ui].busy_owner];
                if (issued[ui] == e->k && e->interval == 1) {
                    e->s += quiet * e->k;
                    e->last_issue = t + quiet;
                    e->next_issue = e->last_issue + 1;
                    units[ui].busy_until = e->next_issue;
                }
                e->compute += quiet;
            }
        }
        t += quiet;
        if (ef_engine_past_limit(t, n0->arch->file, diags)) {
            st = EF_ERR_OVERFLOW;
            goto out;
        }
    }
    /* the group ends with its last write-back; the cycles after the
     * last step, on either unit, go to the Einsum that issued it */
    uint64_t end = 0, busy_end = 0;
    int last = 0;
    for (int i = 0; i < count; i++) {
        uint64_t d = ef_engine_last_drain(&es[i]);
        if (d > end) end = d;
        uint64_t b = es[i].any_issue ? es[i].last_issue + es[i].interval : 0;
        if (b >= busy_end) {
            busy_end = b;
            last = i;
        }
    }
    for (int i = 0; i < count; i++) {
        ef_result *r = trs[i]->res;
        if (i == last && end > busy_end) {
            ef_result_add_stall(r, "final_drain", end - busy_end);
            if (trace) ef_trace_cycles(trs[i], busy_end, end - busy_end, 0, 0, "final_drain");
        }
        r->compute_cycles = es[i].compute;
        r->steps = es[i].s;
        r->cycles = es[i].compute + r->stall_total;
        ef_engine_check(&es[i]);
    }
    *group_cycles = end;
out:
    free(arb);
    free(es);
    return st;
}
