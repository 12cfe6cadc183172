/* Pass 1: what an event's transfers cost in time. The bytes an event
 * moves at each port and link become transfers (model/timing.h), stored
 * once each in the schedule; a level's new generation refers to its
 * fill, the write-back of the one before it and, at the innermost
 * level, the stream of its steps. */
#include "sim/walk.h"

#include <string.h>

uint32_t ef_walk_xfer(walker *wk, const ef_demand *d) {
    ef_xfer x;
    ef_timing_cost(&wk->ports, d, &x);
    uint32_t id = 0;
    ef_status st = ef_xfer_intern(&wk->sch->xfers, &x, d->bytes, &id);
    if (st != EF_OK) wk->status = st;
    return id;
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* A per-PE parent's busiest instance sends at most what this level's
 * busiest instance takes in; a shared one sends all of it. */
uint32_t ef_walk_drain_xfer(walker *wk, int l, uint64_t drain_bytes, uint64_t inst_drain_bytes,
                            uint64_t partial_bytes) {
    int p = wk->n->levels[l].parent[wk->out];
    if (p < 0 || (!drain_bytes && !inst_drain_bytes)) return 0;
    ef_demand d;
    memset(&d, 0, sizeof d);
    bool pe_parent = wk->L[p].per_pe;
    d.bytes[ef_res_write(p)] = pe_parent ? min_u64(drain_bytes, inst_drain_bytes) : drain_bytes;
    d.bytes[ef_res_read(l)] = inst_drain_bytes;
    d.bytes[ef_res_read(p)] = partial_bytes;
    if (wk->L[l].per_pe && !pe_parent) d.bytes[ef_res_link_out(wk->n)] = drain_bytes;
    return ef_walk_xfer(wk, &d);
}

void ef_walk_gen_cost(walker *wk, int l, const uint64_t *src_bytes,
                      uint64_t inst_fill_bytes, uint64_t drain_bytes,
                      uint64_t inst_drain_bytes, uint64_t partial_bytes, ef_gen_cost *gc) {
    gc->drain = ef_walk_drain_xfer(wk, l, drain_bytes, inst_drain_bytes, partial_bytes);
    ef_demand d;
    memset(&d, 0, sizeof d);
    d.waits_latency = true;
    for (int q = 0; q < l; q++) {
        if (!src_bytes[q]) continue;
        d.bytes[ef_res_read(q)] = wk->L[q].per_pe ? min_u64(src_bytes[q], inst_fill_bytes)
                                                  : src_bytes[q];
        /* words from a shared level into a per-PE one cross the network */
        if (wk->L[l].per_pe && !wk->L[q].per_pe) d.bytes[ef_res_link_in(wk->n)] += src_bytes[q];
    }
    d.bytes[ef_res_write(l)] = inst_fill_bytes;
    gc->fill = ef_walk_xfer(wk, &d);
    gc->stream = 0;
}

void ef_walk_push_gen(walker *wk, int l, const ef_gen_cost *gc) {
    ef_gen_list *gl = &wk->sch->gens[l];
    ef_status st = ef_gens_push(gl, wk->step, l >= 2 ? wk->cur_gen[l - 1] : 0, gc);
    if (st == EF_ERR_OVERFLOW)
        ef_walk_limit(wk, "level %s: the store of its tile generations would exceed 4 GiB "
                          "(%llu runs of %llu generations)",
                      wk->n->arch->levels[l].name, (unsigned long long)gl->nruns,
                      (unsigned long long)gl->count);
    else if (st != EF_OK)
        wk->status = st;
    wk->cur_gen[l] = gl->count - 1;
}

void ef_walk_record_gen(walker *wk, int l) {
    ef_gen_cost gc;
    ef_walk_gen_cost(wk, l, wk->ev_src_bytes[l], wk->ev_inst_fill_bytes[l],
                     wk->ev_drain_bytes[l], wk->ev_inst_drain_bytes[l], wk->ev_partial_bytes[l],
                     &gc);
    wk->ev_drain_bytes[l] = wk->ev_inst_drain_bytes[l] = wk->ev_partial_bytes[l] = 0;
    for (int q = 0; q < l; q++) wk->ev_src_bytes[l][q] = 0;
    ef_walk_push_gen(wk, l, &gc);
}

/* ---------- the stream of one innermost tile ---------- */

uint32_t ef_walk_stream_demand(walker *wk, bool first) {
    const ef_nest *n = wk->n;
    lvl_state *Lin = &wk->L[wk->nl - 1];
    uint64_t ops = (uint64_t)wk->ops;
    ef_demand d;
    memset(&d, 0, sizeof d);
    /* operands the PEs keep: each instance's port, the busiest counts */
    for (int k = 0; k < wk->nl; k++) {
        bool keeps_some = false;
        for (int o = 0; o < wk->ops; o++)
            keeps_some |= !wk->stream_op[o] && n->op_keeper_mac[o] == k;
        if (!keeps_some) continue;
        uint64_t most_r = 0, most_w = 0;
        for (uint64_t i = 0; i < Lin->inst; i++) {
            uint64_t r = 0, w = 0;
            for (int o = 0; o < wk->ops; o++) {
                uint64_t c = wk->mac_cnt[i * ops + (uint64_t)o];
                if (wk->stream_op[o] || n->op_keeper_mac[o] != k || !c) continue;
                if (o == wk->out) {
                    /* a read precedes every update but a word's first */
                    w += ef_walk_bytes(wk, o, c);
                    r += ef_walk_bytes(wk, o, c - (first ? wk->mac_own[i] : 0));
                } else {
                    r += ef_walk_bytes(wk, o, c);
                }
            }
            if (r > most_r) most_r = r;
            if (w > most_w) most_w = w;
        }
        d.bytes[ef_res_read(k)] += most_r;
        d.bytes[ef_res_write(k)] += most_w;
    }
    /* operands streamed from a shared level: through its ports and the
     * network, once per read (or reduced update) */
    for (int o = 0; o < wk->ops; o++) {
        if (!wk->stream_op[o]) continue;
        int k = n->op_keeper_mac[o];
        uint64_t b = ef_walk_bytes(wk, o, wk->sw.keeper[o]);
        if (o == wk->out) {
            d.bytes[ef_res_write(k)] += b;
            d.bytes[ef_res_read(k)] +=
                ef_walk_bytes(wk, o, wk->sw.keeper[o] - (first ? wk->sw.first_updates : 0));
            d.bytes[ef_res_link_out(wk->n)] += b;
        } else {
            d.bytes[ef_res_read(k)] += b;
            d.bytes[ef_res_link_in(wk->n)] += b;
        }
    }
    return ef_walk_xfer(wk, &d);
}
