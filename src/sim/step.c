/* Pass 2: the cycle stepper. Advances one cycle at a time; in each
 * cycle every level's transfer channel may finish or start a fill or a
 * drain, then the PE array issues up to macs_per_cycle steps whose
 * tiles are all resident.
 *
 * Each level has one channel to its parents, serving its transfers in
 * program order: without double buffering F0 D0 F1 D1 ... (a tile is
 * replaced only once the old one is dead and written back); with it
 * F0 F1 D0 F2 D1 ... (the next tile streams in while the current one
 * is used). A transfer that starts in cycle t and lasts d cycles makes
 * its data usable from cycle t + d, so zero-cost transfers are usable
 * at once and chains of them settle within the same cycle. */
#include "sim/engine.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEVER UINT64_MAX

typedef struct {
    uint64_t *fill_done, *drain_done, *compute_done; /* usable cycle    */
    uint64_t nf, nd;          /* next fill / drain to schedule          */
    bool active, active_is_fill;
    uint64_t active_gen, end;
    uint64_t cg;              /* generation holding the next PE step    */
    int depth;                /* 1, or 2 when double-buffered           */
} chan;

static void add_stall(ef_result *r, const char *cause, uint64_t cycles) {
    r->stall_total += cycles;
    for (int i = 0; i < r->stall_count; i++)
        if (strcmp(r->stalls[i].cause, cause) == 0) {
            r->stalls[i].cycles += cycles;
            return;
        }
    if (r->stall_count < EF_MAX_STALL_CAUSES) {
        snprintf(r->stalls[r->stall_count].cause, sizeof r->stalls[0].cause, "%s", cause);
        r->stalls[r->stall_count++].cycles = cycles;
    }
}

/* The event engine's jump: how many cycles after t change nothing but
 * counters. Nothing changes until the earliest in-flight transfer ends
 * (its completion may start others) or the array issues the last step
 * of some generation (that may release a write-back); a cycle right
 * after one that crossed a generation boundary is never skipped. */
static uint64_t quiet_cycles(const ef_trace *tr, const chan *ch, uint64_t t,
                             uint64_t s, uint64_t k, uint64_t issued,
                             bool crossed) {
    int nl = tr->n->level_count;
    if (issued && (issued < k || crossed)) return 0;
    uint64_t quiet = NEVER;
    for (int l = 1; l < nl; l++)
        if (ch[l].active && ch[l].end - t - 1 < quiet) quiet = ch[l].end - t - 1;
    if (!issued) return quiet == NEVER ? 0 : quiet; /* stalled or draining */
    uint64_t boundary = tr->steps;   /* first step of the next generation */
    for (int l = 1; l < nl; l++) {
        const ef_gen_list *gl = &tr->gens[l];
        if (ch[l].fill_done[ch[l].cg] > t) return 0;
        uint64_t next = ch[l].cg + 1 < gl->count ? gl->gens[ch[l].cg + 1].first_step
                                                 : tr->steps;
        if (next < boundary) boundary = next;
    }
    /* cycles whose k steps all lie before the last step of a generation */
    uint64_t by_steps = boundary - 1 > s ? (boundary - 1 - s) / k : 0;
    return by_steps < quiet ? by_steps : quiet;
}

/* Index of the child generation that ends where generation g ends. */
static uint64_t child_last_gen(const ef_gen_list *child, const ef_gen_list *me,
                               uint64_t g) {
    if (g + 1 >= me->count) return child->count - 1;
    uint64_t boundary = me->gens[g + 1].first_step;
    /* child generations are sorted by first_step: binary search */
    uint64_t lo = 0, hi = child->count;
    while (lo < hi) {
        uint64_t mid = (lo + hi) / 2;
        if (child->gens[mid].first_step < boundary) lo = mid + 1;
        else hi = mid;
    }
    return lo - 1;
}

static bool fill_ready(ef_trace *tr, chan *ch, int l, uint64_t g, uint64_t t) {
    const ef_gen *gen = &tr->gens[l].gens[g];
    for (int q = 1; q < l; q++)
        if (ch[q].fill_done[gen->parent_gen[q]] > t) return false;
    return true;
}

static bool drain_ready(ef_trace *tr, chan *ch, int l, uint64_t g, uint64_t t) {
    if (ch[l].compute_done[g] > t) return false;
    int child = l + 1;
    if (child >= tr->n->level_count) return true;
    uint64_t cg = child_last_gen(&tr->gens[child], &tr->gens[l], g);
    return ch[child].drain_done[cg] <= t;
}

/* Tries to advance level l's channel at cycle t; true if it changed.
 * A fill may run at most `depth` generations ahead of the write-backs
 * (one buffer, or two when double-buffered). When both a drain and a
 * fill could start, the drain goes first: it frees a buffer and lets the
 * parent move on, and a fill waiting on a parent that waits on this
 * drain would otherwise never start. */
static bool service(ef_trace *tr, chan *ch, int l, uint64_t t) {
    const ef_gen_list *gl = &tr->gens[l];
    chan *c = &ch[l];
    bool changed = false;
    for (;;) {
        if (c->active) {
            if (c->end > t) return changed;
            if (c->active_is_fill) c->fill_done[c->active_gen] = c->end;
            else c->drain_done[c->active_gen] = c->end;
            c->active = false;
            changed = true;
        }
        bool can_drain = c->nd < c->nf && drain_ready(tr, ch, l, c->nd, t);
        bool can_fill = !can_drain && c->nf < gl->count &&
                        c->nf < c->nd + (uint64_t)c->depth &&
                        fill_ready(tr, ch, l, c->nf, t);
        if (!can_drain && !can_fill) return changed;
        uint64_t g = can_fill ? c->nf++ : c->nd++;
        c->active = true;
        c->active_is_fill = can_fill;
        c->active_gen = g;
        c->end = t + (can_fill ? gl->gens[g].fill_cycles : gl->gens[g].drain_cycles);
        changed = true;
    }
}

/* Stall causes by number, so that a stalled cycle costs no string
 * work: drain_to_X and operand_from_X for each level X, then noc and
 * unknown. A cause finds (or makes) its slot in the result the first
 * time it is charged, which keeps the result's order of first
 * occurrence. */
enum { CAUSE_DRAIN = 0, CAUSE_OPERAND = EF_MAX_LEVELS, CAUSE_NOC = 2 * EF_MAX_LEVELS,
       CAUSE_UNKNOWN, CAUSE_COUNT };
#define SLOT_UNSEEN (-1)
#define SLOT_NONE (-2) /* the result's cause list was full */

static int stall_cause(ef_trace *tr, chan *ch, uint64_t t) {
    for (int l = 1; l < tr->n->level_count; l++) {
        chan *c = &ch[l];
        if (c->fill_done[c->cg] <= t) continue;
        const ef_gen *g = &tr->gens[l].gens[c->cg];
        int p = tr->n->levels[l].parent[tr->n->out_op];
        if (c->active && !c->active_is_fill && p >= 0) return CAUSE_DRAIN + p;
        if (g->fill_noc_bound) return CAUSE_NOC;
        return CAUSE_OPERAND + g->fill_source;
    }
    return CAUSE_UNKNOWN;
}

static void charge_stall(ef_result *r, const ef_arch_spec *a, int *slot, uint64_t *total,
                         int cause, uint64_t cycles) {
    total[cause] += cycles;
    if (slot[cause] == SLOT_UNSEEN) {
        char name[EF_MAX_NAME + 16];
        if (cause < CAUSE_OPERAND)
            snprintf(name, sizeof name, "drain_to_%s", a->levels[cause - CAUSE_DRAIN].name);
        else if (cause < CAUSE_NOC)
            snprintf(name, sizeof name, "operand_from_%s", a->levels[cause - CAUSE_OPERAND].name);
        else
            snprintf(name, sizeof name, cause == CAUSE_NOC ? "noc" : "unknown");
        slot[cause] = SLOT_NONE;
        for (int i = 0; i < r->stall_count && slot[cause] == SLOT_NONE; i++)
            if (strcmp(r->stalls[i].cause, name) == 0) slot[cause] = i;
        if (slot[cause] == SLOT_NONE && r->stall_count < EF_MAX_STALL_CAUSES) {
            snprintf(r->stalls[r->stall_count].cause, sizeof r->stalls[0].cause, "%s", name);
            r->stalls[r->stall_count].cycles = 0;
            slot[cause] = r->stall_count++;
        }
    }
    r->stall_total += cycles;
    if (slot[cause] >= 0) r->stalls[slot[cause]].cycles += cycles;
}

/* ---------- periods (event engine) ----------
 *
 * What the cycle loop does next depends only on its state relative to
 * the cycle about to run and to each level's current generation: every
 * transfer or step that finished in the past compares alike (all later
 * tests are "done by cycle t"), so the state is each channel's pointers
 * (next fill, next drain, generation in use) relative to that
 * generation, its transfer in flight and how long it still runs, and
 * the position of the step counter in the innermost generation. At each
 * generation boundary the loop remembers that relative state. When it
 * recurs, one "period" lies in between: T cycles, S steps, G_l
 * generations per level. If the generations the loop will consult over
 * the next k periods are copies of the period's own, shifted by S steps
 * and G generations (same fill and drain cycles, fill source, NoC bound,
 * parent generations shifted alike), the next k periods repeat it
 * exactly, and they are added at once: T cycles, S steps, its compute
 * and stall cycles by cause, and the done-times of the generations they
 * finish. A level that did not move in the period (G_l = 0) must be
 * idle with nothing left to write back, and the steps added must stay
 * short of its next generation. */
#define SIG_MAX (1 + 5 * EF_MAX_LEVELS)
#define PERIOD_SLOTS 64

typedef struct {
    bool used;
    int len;
    int64_t sig[SIG_MAX];
    uint64_t t, s, compute;
    uint64_t cause[CAUSE_COUNT];
    uint64_t nf[EF_MAX_LEVELS], nd[EF_MAX_LEVELS], cg[EF_MAX_LEVELS], agen[EF_MAX_LEVELS];
    bool active[EF_MAX_LEVELS];
} snapshot;

typedef struct {
    snapshot slot[PERIOD_SLOTS];
} periods;

typedef struct {
    uint64_t t, s, compute, last_issue;   /* in: now; out: after the skip */
    uint64_t more_stalls[CAUSE_COUNT];    /* out: cycles to charge       */
} loop_state;

/* The loop's state before cycle tn, relative (see above). */
static int signature(const ef_trace *tr, const chan *ch, uint64_t s, uint64_t tn,
                     int64_t *sig) {
    int nl = tr->n->level_count, k = 0;
    for (int l = 1; l < nl; l++) {
        const chan *c = &ch[l];
        sig[k++] = (int64_t)(c->nf - c->cg);
        sig[k++] = (int64_t)(c->nd - c->cg);
        sig[k++] = c->active ? (c->active_is_fill ? 2 : 1) : 0;
        sig[k++] = c->active ? (int64_t)(c->active_gen - c->cg) : 0;
        sig[k++] = c->active && c->end > tn ? (int64_t)(c->end - tn) : 0;
    }
    sig[k++] = (int64_t)(s - tr->gens[nl - 1].gens[ch[nl - 1].cg].first_step);
    return k;
}

/* Is generation h of level l a copy of generation g shifted by S steps
 * and by G[q] generations of each outer level q? */
static bool same_gen(const ef_trace *tr, int l, uint64_t g, uint64_t h, uint64_t S,
                     const uint64_t *G) {
    const ef_gen *a = &tr->gens[l].gens[g], *b = &tr->gens[l].gens[h];
    if (b->first_step != a->first_step + S || b->fill_cycles != a->fill_cycles ||
        b->drain_cycles != a->drain_cycles || b->fill_source != a->fill_source ||
        b->fill_noc_bound != a->fill_noc_bound)
        return false;
    for (int q = 1; q < l; q++)
        if (b->parent_gen[q] != a->parent_gen[q] + G[q]) return false;
    return true;
}

static void copy_done(uint64_t *done, uint64_t from, uint64_t count, uint64_t G, uint64_t T) {
    for (uint64_t g = from; g < from + count; g++) done[g] = done[g - G] + T;
}

/* At a generation boundary, before cycle ls->t + 1: remembers the state
 * and, if it repeats an earlier one, adds as many whole periods as
 * provably repeat. Returns whether it added any. */
static bool skip_periods(const ef_trace *tr, chan *ch, periods *pd, loop_state *ls,
                         const uint64_t *cause) {
    int nl = tr->n->level_count;
    uint64_t tn = ls->t + 1;
    int64_t sig[SIG_MAX];
    int len = signature(tr, ch, ls->s, tn, sig);
    uint64_t h = UINT64_C(0x9E3779B97F4A7C15);
    for (int q = 0; q < len; q++) h = (h ^ (uint64_t)sig[q]) * UINT64_C(0xFF51AFD7ED558CCD);
    snapshot *a = &pd->slot[(h ^ h >> 29) % PERIOD_SLOTS];
    uint64_t k = 0;
    if (a->used && a->len == len && !memcmp(a->sig, sig, sizeof(int64_t) * (size_t)len) &&
        ls->s > a->s) {
        uint64_t T = tn - a->t, S = ls->s - a->s, G[EF_MAX_LEVELS] = {0};
        k = (UINT64_C(1) << 62) / T; /* no overflow of t */
        for (int l = 1; l < nl; l++) G[l] = ch[l].cg - a->cg[l];
        /* levels that stayed put bound k by their next boundary */
        for (int l = 1; l < nl && k; l++) {
            if (G[l]) continue;
            const ef_gen_list *gl = &tr->gens[l];
            if (ch[l].active || ch[l].nd != ch[l].cg) k = 0;
            uint64_t next = ch[l].cg + 1 < gl->count ? gl->gens[ch[l].cg + 1].first_step
                                                     : tr->steps;
            uint64_t fit = next > ls->s ? (next - 1 - ls->s) / S : 0;
            if (fit < k) k = fit;
        }
        /* levels that moved: the generations the next k periods consult
         * must be copies of those this one did */
        for (int l = 1; l < nl && k; l++) {
            if (!G[l]) continue;
            const ef_gen_list *gl = &tr->gens[l];
            uint64_t lo = a->cg[l];
            if (a->nf[l] < lo) lo = a->nf[l];
            if (a->nd[l] < lo) lo = a->nd[l];
            if (a->active[l] && a->agen[l] < lo) lo = a->agen[l];
            if (l >= 2 && a->nd[l - 1] < tr->gens[l - 1].count) {
                /* the parent's write-back waits on this level's last
                 * generation under it */
                uint64_t c = child_last_gen(gl, &tr->gens[l - 1], a->nd[l - 1]);
                if (c < lo) lo = c;
            }
            uint64_t hi = ch[l].cg + 1;
            if (ch[l].nf > hi) hi = ch[l].nf;
            if (ch[l].nd + 1 > hi) hi = ch[l].nd + 1;
            if (ch[l].active && ch[l].active_gen > hi) hi = ch[l].active_gen;
            hi++; /* one generation of look-ahead */
            /* generations g in [lo, hi + (k - 1) G] must match g + G */
            uint64_t want = k > (gl->count - hi) / G[l] + 1 ? gl->count : hi + (k - 1) * G[l] + 1;
            uint64_t g = lo;
            while (g < want && g + G[l] < gl->count && same_gen(tr, l, g, g + G[l], S, G)) g++;
            uint64_t fit = g > hi ? (g - 1 - hi) / G[l] + 1 : 0;
            if (fit < k) k = fit;
        }
        if (k) {
            for (int l = 1; l < nl; l++) {
                chan *c = &ch[l];
                if (!G[l]) continue;
                uint64_t kg = k * G[l];
                copy_done(c->fill_done, c->active && c->active_is_fill ? c->active_gen : c->nf,
                          kg, G[l], T);
                copy_done(c->drain_done, c->active && !c->active_is_fill ? c->active_gen : c->nd,
                          kg, G[l], T);
                copy_done(c->compute_done, c->cg, kg, G[l], T);
                c->nf += kg;
                c->nd += kg;
                c->cg += kg;
                if (c->active) {
                    c->active_gen += kg;
                    c->end += k * T;
                }
            }
            for (int c = 0; c < CAUSE_COUNT; c++) ls->more_stalls[c] = k * (cause[c] - a->cause[c]);
            ls->compute += k * (ls->compute - a->compute);
            ls->t += k * T;
            ls->s += k * S;
            ls->last_issue += k * T;
            tn = ls->t + 1;
        }
    }
    a->used = true;
    a->len = len;
    memcpy(a->sig, sig, sizeof(int64_t) * (size_t)len);
    a->t = tn;
    a->s = ls->s;
    a->compute = ls->compute;
    for (int c = 0; c < CAUSE_COUNT; c++) a->cause[c] = cause[c] + ls->more_stalls[c];
    for (int l = 1; l < nl; l++) {
        a->nf[l] = ch[l].nf;
        a->nd[l] = ch[l].nd;
        a->cg[l] = ch[l].cg;
        a->agen[l] = ch[l].active_gen;
        a->active[l] = ch[l].active;
    }
    return k > 0;
}

ef_status ef_step_run(ef_trace *tr, bool fast_forward, ef_diags *diags) {
    const ef_nest *n = tr->n;
    ef_result *res = tr->res;
    int nl = n->level_count;
    uint64_t k = (uint64_t)n->arch->macs_per_cycle;
    chan ch[EF_MAX_LEVELS];
    memset(ch, 0, sizeof ch);
    periods *pd = NULL;      /* remembered states, event engine only */
    ef_status st = EF_OK;
    for (int l = 1; l < nl; l++) {
        uint64_t cnt = tr->gens[l].count;
        ch[l].fill_done = malloc(sizeof(uint64_t) * (size_t)cnt);
        ch[l].drain_done = malloc(sizeof(uint64_t) * (size_t)cnt);
        ch[l].compute_done = malloc(sizeof(uint64_t) * (size_t)cnt);
        if (!ch[l].fill_done || !ch[l].drain_done || !ch[l].compute_done) {
            st = EF_ERR_NOMEM;
            goto out;
        }
        for (uint64_t g = 0; g < cnt; g++)
            ch[l].fill_done[g] = ch[l].drain_done[g] = ch[l].compute_done[g] = NEVER;
        ch[l].depth = n->arch->levels[l].double_buffer ? 2 : 1;
    }
    int slots[CAUSE_COUNT];
    uint64_t cause_total[CAUSE_COUNT] = {0};
    for (int c = 0; c < CAUSE_COUNT; c++) slots[c] = SLOT_UNSEEN;
    if (fast_forward && !(pd = calloc(1, sizeof *pd))) {
        st = EF_ERR_NOMEM;
        goto out;
    }
    uint64_t s = 0, t = 0, last_issue = 0, compute = 0;
    bool any_issue = false;
    for (;; t++) {
        /* settle transfers: a finished fill may enable a child's fill,
         * a finished drain the parent's drain, in the same cycle */
        bool changed = true;
        for (int pass = 0; changed && pass < 4 * nl + 4; pass++) {
            changed = false;
            for (int l = 1; l < nl; l++) changed |= service(tr, ch, l, t);
            for (int l = nl - 1; l >= 1; l--) changed |= service(tr, ch, l, t);
        }
        uint64_t issued = 0;
        bool crossed = false;
        while (issued < k && s < tr->steps) {
            bool ready = true;
            for (int l = 1; l < nl && ready; l++) ready = ch[l].fill_done[ch[l].cg] <= t;
            if (!ready) break;
            /* the gens that step s uses: cg must already have reached it */
            for (int l = 1; l < nl; l++)
                assert(tr->gens[l].gens[ch[l].cg].first_step <= s);
            s++;
            issued++;
            for (int l = 1; l < nl; l++) {
                chan *c = &ch[l];
                const ef_gen_list *gl = &tr->gens[l];
                bool last = c->cg + 1 >= gl->count ? s >= tr->steps
                                                   : s >= gl->gens[c->cg + 1].first_step;
                if (last) {
                    crossed = true;
                    c->compute_done[c->cg] = t + 1;
                    if (c->cg + 1 < gl->count) c->cg++;
                }
            }
        }
        bool busy = false, drained = true;
        for (int l = 1; l < nl; l++) {
            busy |= ch[l].active;
            drained &= ch[l].nd >= tr->gens[l].count;
        }
        if (issued) {
            last_issue = t;
            any_issue = true;
            compute++;
        }
        if (s >= tr->steps && drained && !busy) break;
        if (!issued && !busy) {
            /* nothing moves and nothing can: a broken invariant */
            ef_diags_add(diags, n->arch->file, 0, 0, "", NULL, NULL,
                         "internal error: the step engine stalled with no transfer "
                         "in flight at cycle %llu (please report this mapping)",
                         (unsigned long long)t);
            st = EF_ERR_OVERFLOW;
            goto out;
        }
        uint64_t quiet = fast_forward ? quiet_cycles(tr, ch, t, s, k, issued, crossed) : 0;
        if (!issued && s < tr->steps)
            charge_stall(res, n->arch, slots, cause_total, stall_cause(tr, ch, t), 1 + quiet);
        if (quiet && issued == k) {
            s += quiet * k;
            compute += quiet;
            last_issue = t + quiet;
        }
        t += quiet;
        if (pd && crossed) {
            loop_state ls = {.t = t, .s = s, .compute = compute, .last_issue = last_issue};
            if (skip_periods(tr, ch, pd, &ls, cause_total)) {
                for (int c = 0; c < CAUSE_COUNT; c++)
                    if (ls.more_stalls[c])
                        charge_stall(res, n->arch, slots, cause_total, c, ls.more_stalls[c]);
                t = ls.t;
                s = ls.s;
                compute = ls.compute;
                last_issue = ls.last_issue;
            }
        }
        if (t > (UINT64_C(1) << 40)) {
            ef_diags_add(diags, n->arch->file, 0, 0, "", NULL, NULL,
                         "the simulation did not finish within 2^40 cycles");
            st = EF_ERR_OVERFLOW;
            goto out;
        }
    }
    uint64_t end = any_issue ? last_issue + 1 : 0;
    for (int l = 1; l < nl; l++) {
        uint64_t cnt = tr->gens[l].count;
        if (cnt && ch[l].drain_done[cnt - 1] != NEVER && ch[l].drain_done[cnt - 1] > end)
            end = ch[l].drain_done[cnt - 1];
    }
    /* cycles after the last MAC spent writing results back */
    if (end > last_issue + 1 && any_issue) {
        add_stall(res, "final_drain", end - last_issue - 1);
    }
    res->cycles = end;
    res->compute_cycles = compute;
    /* every cycle was either computing or charged to one stall cause */
    assert(compute + res->stall_total == end || !any_issue);
    for (int l = 1; l < nl; l++) {
        const ef_gen_list *gl = &tr->gens[l];
        for (uint64_t g = 0; g < gl->count; g++) {
            assert(ch[l].fill_done[g] <= ch[l].compute_done[g] ||
                   ch[l].compute_done[g] == NEVER);
            assert(ch[l].drain_done[g] != NEVER);
            assert(ch[l].drain_done[g] >= ch[l].compute_done[g]);
        }
    }
out:
    free(pd);
    for (int l = 1; l < nl; l++) {
        free(ch[l].fill_done);
        free(ch[l].drain_done);
        free(ch[l].compute_done);
    }
    return st;
}
