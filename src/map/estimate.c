/* The mapper's analytical estimate: per level and tensor, how many words
 * are read, filled and updated, and roughly how many cycles the nest
 * takes, in the time of a few loops over the nest — so thousands of
 * candidates can be ranked before the engine confirms the best.
 *
 * It follows Timeloop's reuse rules, which the engine reproduces where
 * they are exact: a level refetches a tensor's tile each time a loop
 * above it that the tensor depends on advances, and also when an
 * irrelevant loop outside such a loop advances (the tile moved away
 * and comes back), but not for irrelevant loops directly above the
 * level (the tile stays). Two effects of the engine are approximated
 * because they matter for ranking dataflows: a window sliding along
 * the innermost relevant loop fetches only its new words, and one read
 * at a shared level serves every PE that needs the word in the same
 * delivery (multicast), or is combined across a reduction group. Edge
 * tiles of imperfect factors are taken into account through effective
 * loop trip counts. Its cycles are never below what the busiest port or
 * link needs for the bytes the counts put on it (model/timing.h, the
 * engines' bandwidth law), so a mapping that streams operands from a
 * slow level at every step does not look compute-bound. The estimate
 * never decides legality (the model does) and never reaches the user
 * as a result (the engine's does). */
#include "einflow/map.h"

#include <math.h>
#include <string.h>

#include "model/noc.h"
#include "model/timing.h"

typedef struct {
    const ef_nest *n;
    double eff[EF_MAX_LOOPS];       /* average trips of each loop        */
    uint32_t relmask[EF_NEST_MAX_OPS]; /* ranks each operand depends on  */
    int S;                          /* the spatial level, or -1          */
    double active;                  /* average active PEs                */
    ef_map_estimate *e;
} est;

static uint64_t ceil_div_u(uint64_t a, uint64_t b) { return b ? (a + b - 1) / b : 0; }

/* Trips of each loop averaged over the nest: the number of distinct
 * tile positions of its rank at its granularity, divided by that at the
 * next loop out. Their product over a rank's loops is its bound. */
static void effective_trips(est *s) {
    const ef_nest *n = s->n;
    const ef_workload *w = n->workload;
    uint64_t outer[EF_MAX_RANKS];
    for (int r = 0; r < w->rank_count; r++) outer[r] = 1;
    for (int j = 0; j < n->loop_count; j++) {
        const ef_loop *lp = &n->loops[j];
        uint64_t here = ceil_div_u(w->rank_bounds[lp->rank], lp->stride);
        s->eff[j] = outer[lp->rank] ? (double)here / (double)outer[lp->rank] : 1;
        outer[lp->rank] = here;
    }
}

/* Valid tuples of the temporal loops of one rank, outermost first in
 * loops[0..k): those whose base (sum of index x stride) lies below the
 * bound, which is what the engine walks (a loop that would start past
 * the bound ends early). At most one partial block per loop. */
static uint64_t valid_tuples(const ef_loop *const *loops, int k, uint64_t limit) {
    if (k == 0) return 1;
    const ef_loop *lp = loops[0];
    uint64_t span = 1, full = 1;
    for (int j = 1; j < k; j++) {
        span += (loops[j]->factor - 1) * loops[j]->stride;
        full *= loops[j]->factor;
    }
    uint64_t n_full = limit >= span ? (limit - span) / lp->stride + 1 : 0;
    if (n_full > lp->factor) n_full = lp->factor;
    uint64_t total = n_full * full;
    if (n_full < lp->factor && limit > n_full * lp->stride)
        total += valid_tuples(loops + 1, k - 1, limit - n_full * lp->stride);
    return total;
}

static uint64_t steps_of(const ef_nest *n) {
    const ef_workload *w = n->workload;
    const ef_loop *mine[EF_MAX_RANKS][EF_MAX_LOOPS];
    int k[EF_MAX_RANKS] = {0};
    for (int j = 0; j < n->loop_count; j++)
        if (n->loops[j].kind == EF_LOOP_TEMPORAL) {
            int r = n->loops[j].rank;
            mine[r][k[r]++] = &n->loops[j];
        }
    uint64_t steps = 1;
    for (int r = 0; r < w->rank_count; r++)
        if (k[r]) steps *= valid_tuples(mine[r], k[r], w->rank_bounds[r]);
    return steps;
}

/* Tile generations of operand o at level l per instance, Timeloop's
 * way; *distinct gets the tiles that differ (relevant loops only) and
 * *slide the innermost relevant loop (-1 when there is none). */
static double generations(const est *s, int l, int o, double *distinct, int *slide) {
    const ef_nest *n = s->n;
    double g = 1, d = 1;
    bool found = false;
    *slide = -1;
    for (int j = n->levels[l].loop_begin - 1; j >= 0; j--) {
        const ef_loop *lp = &n->loops[j];
        if (lp->kind != EF_LOOP_TEMPORAL) continue;
        bool rel = s->relmask[o] >> lp->rank & 1u;
        if (rel && !found) {
            found = true;
            *slide = j;
        }
        if (!found) continue;
        g *= s->eff[j];
        if (rel) d *= s->eff[j];
    }
    *distinct = d;
    return g;
}

/* Distinct words of operand o's window over a box of spans, padding
 * included (an interior tile's footprint). */
static double words_of(const ef_nest *n, int o, const uint64_t *span) {
    int64_t lo[EF_MAX_RANKS] = {0}, hi[EF_MAX_RANKS];
    for (int r = 0; r < EF_MAX_RANKS; r++) {
        uint64_t b = r < n->workload->rank_count ? n->workload->rank_bounds[r] : 1;
        hi[r] = (int64_t)(span[r] < b ? span[r] : b);
    }
    return (double)ef_nest_window_words(n, o, lo, hi);
}

/* Fraction of an input tile that is new when loop j advances once:
 * along each dimension the rank of j indexes, the window keeps
 * max(0, extent - shift) of its extent. */
static double new_fraction(const est *s, int l, int o, int j) {
    const ef_nest *n = s->n;
    const ef_operand *op = n->ops[o];
    const ef_loop *lp = &n->loops[j];
    double keep = 1;
    bool moves = false;
    for (int d = 0; d < op->dims; d++) {
        const ef_affine *a = &op->index[d];
        int64_t coef = 0, extent = 1;
        for (int k = 0; k < a->term_count; k++) {
            int64_t c = a->coef[k] < 0 ? -a->coef[k] : a->coef[k];
            extent += c * (int64_t)(n->levels[l].tile_span[a->rank[k]] - 1);
            if (a->rank[k] == lp->rank) coef = c;
        }
        if (!coef) continue;
        moves = true;
        int64_t shift = coef * (int64_t)lp->stride;
        keep *= shift >= extent ? 0 : (double)(extent - shift) / (double)extent;
    }
    return moves ? 1 - keep : 1;
}

/* Ratio of distinct words to deliveries when every active PE of the
 * array receives its tile of o at once: below 1 when PEs share words
 * (multicast of identical or overlapping tiles, or a reduction group
 * of the output). */
static double share(const est *s, int l, int o) {
    const ef_nest *n = s->n;
    if (s->S < 0 || s->active <= 1) return 1;
    uint64_t per_pe[EF_MAX_RANKS], all[EF_MAX_RANKS];
    for (int r = 0; r < EF_MAX_RANKS; r++) {
        per_pe[r] = l >= 0 ? n->levels[l].tile_span[r] : 1;
        all[r] = per_pe[r];
    }
    for (int j = 0; j < n->loop_count; j++)
        if (n->loops[j].kind != EF_LOOP_TEMPORAL) all[n->loops[j].rank] *= n->loops[j].factor;
    /* one PE's window: its tile at l (the nest has it), or at the MACs
     * a single point, one word */
    double one = l >= 0 ? (double)n->levels[l].tile_words[o] : 1, u = words_of(n, o, all);
    if (one <= 0) return 1;
    double r = u / (one * s->active);
    return r > 1 ? 1 : r;
}

/* Share of operand o's index space that is stored, not padding: a tile
 * anywhere fetches, and a MAC reads, about this share of its window. */
static double stored_share(const ef_nest *n, int o) {
    const ef_tensor *t = &n->workload->tensors[n->ops[o]->tensor];
    double f = 1;
    for (int d = 0; d < t->dims; d++)
        if (t->pad[d] > 0) f *= (double)t->extent[d] / (double)(t->extent[d] + t->pad[d]);
    return f;
}

static int op_bits(const ef_nest *n, int o) {
    return n->workload->tensors[n->ops[o]->tensor].bits;
}

static double bytes(const ef_nest *n, int o, double words) {
    return words * (double)op_bits(n, o) / 8.0;
}

static double transfer_cycles(double b, double bw) { return bw > 0 ? b / bw : 0; }

/* Cycles a resource is held for `parts` transfers of equal shares of
 * all_bytes (all instances together). The instances of a per-PE level
 * move in lockstep, so the busiest moves about the average. */
static double held_cycles(const est *s, const ef_ports *p, int res, double all_bytes,
                          double parts) {
    if (all_bytes <= 0) return 0;
    int l = ef_res_level(res);
    double b = all_bytes / parts;
    if (l >= 0 && s->n->arch->levels[l].per_pe && s->active > 1) b /= s->active;
    return parts * (double)ef_timing_cycles((uint64_t)ceil(b - 1e-9), p->bandwidth_bytes[res]);
}

/* The fewest cycles in which every port and link can move its bytes:
 * the counts' reads on read ports, their fills and updates on write
 * ports, and extra_bytes (all instances together, by timing.h's
 * resources) for what the counts do not show. */
static double bandwidth_floor_cycles(const est *s, const ef_ports *p,
                                     const double *extra_bytes) {
    const ef_nest *n = s->n;
    double moved_bytes[EF_RES_COUNT];
    memcpy(moved_bytes, extra_bytes, sizeof moved_bytes);
    for (int l = 0; l < n->level_count; l++)
        for (int o = 0; o < n->op_count; o++) {
            moved_bytes[ef_res_read(l)] += bytes(n, o, s->e->reads[l][o]);
            moved_bytes[ef_res_write(l)] +=
                bytes(n, o, s->e->fills[l][o] + s->e->updates[l][o]);
        }
    double floor_cycles = 0;
    for (int r = 0; r < EF_RES_COUNT; r++) {
        double c = held_cycles(s, p, r, moved_bytes[r], 1);
        if (c > floor_cycles) floor_cycles = c;
    }
    return floor_cycles;
}

/* Cycles of the steps, stalls for fills aside. The engine moves the
 * traffic of each innermost tile's steps at the MACs as one transfer
 * while those steps run (timing.h), so a tile takes the longer of its
 * steps and its busiest resource's hold, rounded up per transfer. That
 * traffic is all the reads of each operand's innermost keeper, and the
 * output's updates there (no level below keeps them, so none serve a
 * fill), through the network when the keeper is shared by many PEs. */
static double step_cycles(const est *s, const ef_ports *p, double compute_cycles) {
    const ef_nest *n = s->n;
    const ef_map_estimate *e = s->e;
    double step_bytes[EF_RES_COUNT] = {0};
    for (int o = 0; o < n->op_count; o++) {
        int k = n->op_keeper_mac[o];
        bool streamed = !n->arch->levels[k].per_pe && s->active > 1;
        double rd = bytes(n, o, e->reads[k][o]);
        step_bytes[ef_res_read(k)] += rd;
        if (o == n->out_op) {
            double wr = bytes(n, o, e->updates[k][o]);
            step_bytes[ef_res_write(k)] += wr;
            if (streamed) step_bytes[EF_RES_NOC_OUT] += wr;
        } else if (streamed) {
            step_bytes[EF_RES_NOC_IN] += rd;
        }
    }
    double tile_steps = 1;
    const ef_nest_level *in = &n->levels[n->level_count - 1];
    for (int j = in->loop_begin; j < in->loop_end; j++)
        if (n->loops[j].kind == EF_LOOP_TEMPORAL) tile_steps *= s->eff[j];
    double tiles = (double)e->steps / tile_steps, most = compute_cycles;
    if (tiles <= 0) return compute_cycles;
    for (int r = 0; r < EF_RES_COUNT; r++) {
        double c = held_cycles(s, p, r, step_bytes[r], tiles);
        if (c > most) most = c;
    }
    return most;
}

/* Iteration points a causal mask leaves out (key > query + offset, on
 * an Einsum with both ranks): not computed, so no op and no access at
 * the MACs (sim/walk_mask.c); the steps stay. The pairs over the
 * (key, query) box times the other ranks' points. */
static double masked_points(const ef_nest *n) {
    const ef_workload *w = n->workload;
    int kr = w->mask_key, qr = w->mask_query;
    if (kr < 0 || !n->einsum->rank_used[kr] || !n->einsum->rank_used[qr]) return 0;
    double K = (double)w->rank_bounds[kr], Q = (double)w->rank_bounds[qr];
    double off = (double)w->mask_offset;
    /* query q masks keys from max(0, q + off + 1) up: K of them while
     * q + off + 1 <= 0, then one fewer per q, none from q + off + 1 >= K */
    double all_q = fmin(Q, fmax(0, -off));           /* q < -off        */
    double first = all_q, last = fmin(Q, fmax(0, K - off - 1)); /* q < K - off - 1 */
    double pairs = all_q * K;
    if (last > first) {
        /* q in [first, last): K - (q + off + 1) keys each */
        double cnt = last - first;
        pairs += cnt * (K - off - 1) - (first + last - 1) * cnt / 2;
    }
    double others = 1;
    for (int r = 0; r < w->rank_count; r++)
        if (r != kr && r != qr && n->einsum->rank_used[r]) others *= (double)w->rank_bounds[r];
    return pairs * others;
}

void ef_map_estimate_nest(const ef_nest *n, ef_map_estimate *e) {
    ef_energy_costs c;
    ef_energy_costs_of(n, &c);
    ef_map_estimate_nest_costs(n, &c, e);
}

void ef_map_estimate_nest_costs(const ef_nest *n, const ef_energy_costs *costs,
                                ef_map_estimate *e) {
    memset(e, 0, sizeof *e);
    est s = {.n = n, .e = e, .S = n->spatial_level};
    effective_trips(&s);
    for (int o = 0; o < n->op_count; o++)
        for (int d = 0; d < n->ops[o]->dims; d++)
            for (int k = 0; k < n->ops[o]->index[d].term_count; k++)
                s.relmask[o] |= UINT32_C(1) << n->ops[o]->index[d].rank[k];
    s.active = 1;
    for (int j = 0; j < n->loop_count; j++)
        if (n->loops[j].kind != EF_LOOP_TEMPORAL) s.active *= s.eff[j];
    e->steps = steps_of(n);
    const ef_arch_spec *a = n->arch;
    int out = n->out_op;
    /* a causal mask's points are no ops: no MAC energy, no access at
     * the keeper meeting the MACs, no delivery; but a word shared by
     * several PEs is read while one of them needs it (sim/walk_mask.c),
     * which the estimate takes as always */
    double points = (double)n->total_ops, ops = points - masked_points(n);
    double src_bytes[EF_MAX_LEVELS][EF_MAX_LEVELS] = {{0}}; /* [child][parent] */
    double inst_bytes[EF_MAX_LEVELS] = {0}, noc_in_bytes[EF_MAX_LEVELS] = {0};
    double drain_bytes[EF_MAX_LEVELS] = {0};
    /* bytes on each port and link that the counts below do not show:
     * the network's two links, and write-backs read out of a level */
    double extra_bytes[EF_RES_COUNT] = {0};
    /* generations in which level l fetches from parent p: each pays
     * p's latency (the engine charges the slowest source per fill) */
    double fetches[EF_MAX_LEVELS][EF_MAX_LEVELS] = {{0}};
    double hop = ef_noc_mean_hops(n);
    for (int l = 1; l < n->level_count; l++) {
        bool per_pe = a->levels[l].per_pe;
        bool crosses = per_pe && !a->levels[l - 1].per_pe;
        double inst = per_pe ? s.active : 1;
        for (int o = 0; o < n->op_count; o++) {
            if (!n->levels[l].keeps[o]) continue;
            int p = n->levels[l].parent[o];
            /* an intermediate of a fused group at its home: its
             * producer's updates write it there and it never leaves
             * (docs/model.md section 4.8), so no transfer crosses above */
            if (p < 0) continue;
            double T = (double)n->levels[l].tile_words[o], distinct;
            int slide;
            double g = generations(&s, l, o, &distinct, &slide);
            double moves = o == out ? g - distinct : g;
            if (moves > fetches[l][p]) fetches[l][p] = moves;
            double sh = crosses ? share(&s, l, o) : 1;
            /* without read sharing every delivery is a read at the parent */
            if (crosses && o != out && !ef_noc_shares_reads(n, o)) sh = 1;
            if (o == out) {
                double visits_words = g * T * inst;
                double refills = (g - distinct) * T * inst * sh;
                /* the parent reads before each update, less its words
                 * that arrive empty (taken off when p is the child, or
                 * below for the outermost level), like this level's own */
                e->fills[l][o] += refills;
                e->updates[p][o] += visits_words * sh;
                e->reads[p][o] += visits_words * sh;
                /* words that arrive empty skip the read before the update */
                e->reads[l][o] -= visits_words - refills;
                drain_bytes[l] += bytes(n, o, visits_words * sh);
                extra_bytes[ef_res_read(l)] += bytes(n, o, visits_words);
                if (crosses) {
                    e->hops[o] += (visits_words + refills) * hop;
                    noc_in_bytes[l] += bytes(n, o, refills);
                    extra_bytes[EF_RES_NOC_OUT] += bytes(n, o, visits_words * sh);
                    extra_bytes[EF_RES_NOC_IN] += bytes(n, o, refills);
                }
                src_bytes[l][p] += bytes(n, o, refills);
                inst_bytes[l] += bytes(n, o, (g - distinct) * T);
            } else {
                T *= stored_share(n, o);
                double per_inst = T;
                if (slide >= 0) {
                    double runs = g / s.eff[slide];
                    double fresh = T * new_fraction(&s, l, o, slide);
                    per_inst = runs * (T + (s.eff[slide] - 1) * fresh);
                }
                double fills = per_inst * inst;
                e->fills[l][o] += fills;
                e->reads[p][o] += fills * sh;
                if (crosses) {
                    e->hops[o] += fills * hop;
                    noc_in_bytes[l] += bytes(n, o, fills * sh);
                    extra_bytes[EF_RES_NOC_IN] += bytes(n, o, fills * sh);
                }
                src_bytes[l][p] += bytes(n, o, fills * sh);
                inst_bytes[l] += bytes(n, o, per_inst);
            }
        }
    }
    /* the innermost keeper of each operand meets the MACs */
    for (int o = 0; o < n->op_count; o++) {
        int k = n->op_keeper_mac[o];
        bool streamed = !a->levels[k].per_pe && s.active > 1;
        /* every iteration point takes one word at its PE (counting the
         * points, not steps x average active PEs, keeps edge tiles
         * exact); a shared word is one read (or one reduced update) but
         * a delivery to each PE, and without read sharing each delivery
         * is a read of its own */
        double sh = streamed && (o == out || ef_noc_shares_reads(n, o)) ? share(&s, -1, o) : 1;
        double st = (sh < 1 ? points : ops) * sh * (o == out ? 1 : stored_share(n, o));
        if (o == out) {
            e->updates[k][o] += st;
            e->reads[k][o] += st;
        } else {
            e->reads[k][o] += st;
        }
        if (streamed) {
            e->hops[o] += ops * hop;
            extra_bytes[o == out ? EF_RES_NOC_OUT : EF_RES_NOC_IN] += bytes(n, o, st);
        }
    }
    /* the output's first home (the outermost level, or the fusion
     * level of an intermediate kept on chip) holds it from the start:
     * its first write of each word is no read */
    const ef_tensor *ot = &n->workload->tensors[n->ops[out]->tensor];
    e->reads[ef_nest_home_level(n, out)][out] -= (double)ot->words;
    for (int l = 0; l < n->level_count; l++)
        for (int o = 0; o < n->op_count; o++)
            if (e->reads[l][o] < 0) e->reads[l][o] = 0;

    /* cycles: the steps, and each level's channel, overlapped with the
     * steps when double-buffered, in series with them otherwise */
    ef_ports ports;
    ef_ports_of(n, &ports);
    double steps_cycles =
        step_cycles(&s, &ports, ceil((double)e->steps / (double)a->macs_per_cycle));
    double serial = 0, overlapped = 0;
    for (int l = 1; l < n->level_count; l++) {
        const ef_level_spec *me = &a->levels[l];
        double fill = 0, lat = 0;
        for (int p = 0; p < l; p++) {
            if (src_bytes[l][p] <= 0) continue;
            double c = transfer_cycles(src_bytes[l][p], a->levels[p].read_bandwidth_bytes);
            if (c > fill) fill = c;
            double waits = fetches[l][p] * (double)a->levels[p].latency_cycles;
            if (waits > lat) lat = waits;
        }
        double wr = transfer_cycles(inst_bytes[l], me->write_bandwidth_bytes);
        double nb = transfer_cycles(noc_in_bytes[l], n->noc->bandwidth_bytes);
        if (wr > fill) fill = wr;
        if (nb > fill) fill = nb;
        fill += lat;
        /* a write-back holds the parent's write port and, out of the
         * array, the network at once: the slower one sets its time */
        int p = n->levels[l].parent[out];
        double drain = p >= 0 ? transfer_cycles(drain_bytes[l], a->levels[p].write_bandwidth_bytes) : 0;
        bool crosses = a->levels[l].per_pe && !a->levels[l - 1].per_pe;
        double out_nb = crosses ? transfer_cycles(drain_bytes[l], n->noc->bandwidth_bytes) : 0;
        if (out_nb > drain) drain = out_nb;
        double chan = fill + drain;
        if (ef_level_overlaps_fills(me)) {
            if (chan > overlapped) overlapped = chan;
        } else {
            serial += chan;
        }
    }
    e->cycles = steps_cycles + serial > overlapped ? steps_cycles + serial : overlapped;
    /* no schedule is faster than its busiest port or link */
    double floor_cycles = bandwidth_floor_cycles(&s, &ports, extra_bytes);
    if (floor_cycles > e->cycles) e->cycles = floor_cycles;
    e->cycles += (double)ef_noc_skew_cycles(n);

    const ef_energy_costs *c = costs;
    double pj = c->op_pj * ops;
    for (int l = 0; l < n->level_count; l++)
        for (int o = 0; o < n->op_count; o++)
            pj += e->reads[l][o] * c->read_pj[l][o] +
                  (e->fills[l][o] + e->updates[l][o]) * c->write_pj[l][o];
    for (int o = 0; o < n->op_count; o++) pj += e->hops[o] * c->hop_pj[o];
    e->energy_pj = pj;
}
