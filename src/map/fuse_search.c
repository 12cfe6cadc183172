/* The `fused` dataflow (a template with fuse: true): maps a cascade as
 * fused groups (docs/dataflows.md, "fused").
 *
 * Groups are taken greedily from the front: the longest run of
 * Einsums that fuses legally, else shorter ones, else the Einsum alone.
 * For a run, fuse_plan.c says what stays on chip and which ranks the
 * shared loops may walk; the fusion level is the largest shared level
 * that holds the group's smallest tiles, or a per-PE level (the PEs'
 * register files) that holds one PE's slice of the intermediates,
 * whichever gives the lower objective; a few tilings of the shared
 * loops are tried at each (spreading the shared ranks over the PEs
 * too, at a per-PE level). Under each, every Einsum's own loops are
 * searched below the fusion level by ef_map_search, constrained to the
 * shared tile, with the levels below shared out among the group (the
 * RFs keep each Einsum's tiles side by side: a product weighs three
 * times an elementwise step). When a per-PE level lies right below
 * the largest shared level, that level is tried once more with
 * FuseMax's binding (fuse_plan.c, ef_fplan_split): the Einsums sweeping
 * the scores on the array beside the products, the scores in the PEs
 * below it. The
 * group's mappings are checked by model/fuse.c, ranked by their
 * estimates, and the best few run in the engine together; its result
 * decides, as for a single Einsum. */
#include "map/fuse_plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------- budgets below the fusion level ---------- */

/* Whether member m sees level l: a vector Einsum's view ends at the
 * unit's level. */
static bool sees(const ef_arch_spec *arch, const ef_fplan *g, int m, int l) {
    return !g->vector[m] || l <= arch->vector_unit.from_level;
}

static bool uses_tensor(const ef_einsum *e, const char *name, const ef_workload *w) {
    if (!strcmp(w->tensors[e->output.tensor].name, name)) return true;
    for (int i = 0; i < e->input_count; i++)
        if (!strcmp(w->tensors[e->inputs[i].tensor].name, name)) return true;
    return false;
}

/* The architecture member m's own loops are searched on: below the
 * fusion level every level's room is shared out among the members
 * that see it — a shared capacity by weight (a product three, any
 * other Einsum one), a partition among the members using its tensor —
 * so that the group's tiles fit together wherever each keeps its own. */
static void budget_arch(const ef_arch_spec *arch, const ef_workload *w, const ef_fplan *g,
                        int level, int m, ef_arch_spec *out) {
    *out = *arch;
    int e = g->first + m;
    for (int l = level + 1; l < arch->level_count; l++) {
        if (!sees(arch, g, m, l)) continue;
        ef_level_spec *ls = &out->levels[l];
        if (ls->partition_count) {
            for (int p = 0; p < ls->partition_count; p++) {
                uint64_t k = 0;
                for (int j = 0; j < g->count; j++)
                    k += sees(arch, g, j, l) &&
                         uses_tensor(&w->einsums[g->first + j], ls->partitions[p].tensor, w);
                if (k > 1) ls->partitions[p].capacity.amount /= k;
            }
            continue;
        }
        if (!ls->capacity.given || ls->capacity.amount == 0) continue;
        uint64_t total = 0, mine = w->einsums[e].is_mac ? 3 : 1;
        for (int j = 0; j < g->count; j++)
            if (sees(arch, g, j, l)) total += w->einsums[g->first + j].is_mac ? 3 : 1;
        /* a zero share would read as "unlimited": one word or byte keeps
         * it a limit */
        uint64_t share = ls->capacity.amount / total * mine;
        ls->capacity.amount = share ? share : 1;
    }
}

static bool off_chip_operand(const ef_workload *w, const ef_fplan *g, int m) {
    const ef_einsum *e = &w->einsums[g->first + m];
    if (!g->on_chip[e->output.tensor]) return true;
    for (int i = 0; i < e->input_count; i++)
        if (!g->on_chip[e->inputs[i].tensor]) return true;
    return false;
}

/* The architecture member m's loops are searched on when the fusion
 * level is per PE, under tiling t: at the fusion level each member
 * keeps its own on-chip tiles (the group counts each once: t->need)
 * and what is left is shared out, by weight, among the members with
 * tensors off chip, the only ones that keep more there; the shared
 * levels above it hold off-chip tensors only, shared out the same way;
 * the levels below as budget_arch says. */
static void budget_arch_pe(const ef_arch_spec *arch, const ef_workload *w, const ef_fplan *g,
                           int level, int m, const ef_ftiling *t, ef_arch_spec *out) {
    budget_arch(arch, w, g, level, m, out);
    int e = g->first + m;
    uint64_t total = 0, mine = 0;
    for (int j = 0; j < g->count; j++)
        if (off_chip_operand(w, g, j)) total += w->einsums[g->first + j].is_mac ? 3 : 1;
    if (off_chip_operand(w, g, m)) mine = w->einsums[e].is_mac ? 3 : 1;
    for (int l = 1; l <= level; l++) {
        ef_level_spec *ls = &out->levels[l];
        if (ls->partition_count) {
            /* an on-chip tensor's partition holds its one tile; the
             * others are split among the members using the tensor */
            for (int p = 0; p < ls->partition_count; p++) {
                int tid = ef_workload_tensor_id(w, ls->partitions[p].tensor);
                if (tid >= 0 && g->on_chip[tid]) continue;
                uint64_t k = 0;
                for (int j = 0; j < g->count; j++)
                    k += uses_tensor(&w->einsums[g->first + j], ls->partitions[p].tensor, w);
                if (k > 1) ls->partitions[p].capacity.amount /= k;
            }
            continue;
        }
        if (!ls->capacity.given || ls->capacity.amount == 0) continue;
        uint64_t amount = ls->capacity.amount, own = 0;
        if (l == level) {
            own = ef_fplan_member_on_chip(arch, w, g, l, m, t->tile);
            amount = amount > t->need ? amount - t->need : 0;
        }
        uint64_t share = total ? amount / total * mine : 0;
        /* a zero budget would read as "unlimited" */
        ls->capacity.amount = own + share ? own + share : 1;
    }
}

/* ---------- one group ---------- */

typedef struct {
    const ef_arch_spec *arch;
    const ef_workload *w;
    const ef_dataflow_spec *const *dfs;
    const ef_map_options *opt;
    const ef_fplan *g;
    int level;
    const ef_ftiling *tilings;
    int ntilings;
    bool split;                   /* scores in the PEs (g->inner_level) */
    ef_map_fixed *fixed;          /* [ntilings], or split
                                   * [ntilings * g->count]              */
    ef_arch_spec *budgets;        /* [g->count], or at a per-PE level
                                   * or split [ntilings * g->count]     */
    ef_map_result *found;         /* [ntilings * g->count]               */
    ef_status *status;
    ef_diags **diags;
} group_search;

static uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t z = seed + UINT64_C(0x9E3779B97F4A7C15) * (a * 1024 + b + 1);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void search_member(void *ctx, int job) {
    group_search *gs = ctx;
    int k = job / gs->g->count, m = job % gs->g->count, e = gs->g->first + m;
    ef_map_options o = *gs->opt;
    o.dataflow = gs->g->moved[m] ? gs->dfs[gs->g->array_like] : gs->dfs[e];
    o.fixed = &gs->fixed[gs->split ? job : k];
    /* the budget is per Einsum, shared by the tilings tried */
    uint64_t all = o.evaluations ? o.evaluations : EF_MAP_DEFAULT_EVALUATIONS;
    uint64_t per = all / (uint64_t)gs->ntilings, least = all < 100 ? all : 100;
    o.evaluations = per < least ? least : per;
    o.confirm = 0; /* the engine runs the group, not the Einsum alone */
    o.seed = mix_seed(gs->opt->seed, (uint64_t)k, (uint64_t)e);
    const ef_arch_spec *budget = &gs->budgets[gs->fixed[k].per_pe || gs->split ? job : m];
    gs->status[job] = ef_map_search(budget, gs->w, e, &o, &gs->found[job], gs->diags[job]);
}

static void fixed_of(const ef_arch_spec *arch, const ef_fplan *g, int level,
                     const ef_ftiling *t, ef_map_fixed *fx) {
    memset(fx, 0, sizeof *fx);
    fx->level = level;
    fx->per_pe = arch->levels[level].per_pe;
    fx->loop_count = t->loop_count;
    memcpy(fx->loops, t->loops, sizeof t->loops[0] * (size_t)t->loop_count);
    fx->row_count = t->row_count;
    memcpy(fx->rows, t->rows, sizeof t->rows[0] * (size_t)t->row_count);
    fx->col_count = t->col_count;
    memcpy(fx->cols, t->cols, sizeof t->cols[0] * (size_t)t->col_count);
    memcpy(fx->tile, t->tile, sizeof fx->tile);
    for (int i = 0; i < t->loop_count; i++) fx->shared[t->loops[i].rank] = true;
    for (int i = 0; i < t->row_count; i++) fx->shared[t->rows[i].rank] = true;
    for (int i = 0; i < t->col_count; i++) fx->shared[t->cols[i].rank] = true;
    memcpy(fx->on_chip, g->on_chip, sizeof fx->on_chip);
}

/* Member m's part of a split group (scores in the PEs): a member
 * touching an inner intermediate keeps it at the inner level and takes
 * the tiling's spread; the spread is not the group's (the others, on
 * the vector unit, do not share it), nor does it cover shared ranks
 * for them. */
static void fixed_split(const ef_fplan *g, int m, ef_map_fixed *fx) {
    for (int i = 0; i < fx->row_count; i++) fx->shared[fx->rows[i].rank] = false;
    for (int i = 0; i < fx->col_count; i++) fx->shared[fx->cols[i].rank] = false;
    for (int i = 0; i < fx->loop_count; i++) fx->shared[fx->loops[i].rank] = true;
    if (!g->cluster[m]) {
        fx->row_count = fx->col_count = 0;
        return;
    }
    fx->inner_level = g->inner_level;
    memcpy(fx->inner, g->inner, sizeof fx->inner);
}

/* The architecture member m's loops are searched on in a split group
 * under tiling t: as budget_arch, but at the inner level each member
 * touching the scores has room for its own slices of them (the group
 * counts each once) and a share of what they leave. */
static void budget_arch_split(const ef_arch_spec *arch, const ef_workload *w, const ef_fplan *g,
                              int level, int m, const ef_ftiling *t, ef_arch_spec *out) {
    budget_arch(arch, w, g, level, m, out);
    ef_level_spec *ls = &out->levels[g->inner_level];
    const ef_level_spec *real = &arch->levels[g->inner_level];
    if (g->vector[m] || ls->partition_count || !real->capacity.given ||
        real->capacity.amount == 0)
        return;
    uint64_t all = ef_fplan_inner_need(arch, w, g, t, -1), total = 0;
    for (int j = 0; j < g->count; j++)
        if (!g->vector[j]) total += w->einsums[g->first + j].is_mac ? 3 : 1;
    uint64_t left = real->capacity.amount > all ? real->capacity.amount - all : 0;
    uint64_t mine = w->einsums[g->first + m].is_mac ? 3 : 1;
    uint64_t amount = ef_fplan_inner_need(arch, w, g, t, m) + (total ? left / total * mine : 0);
    ls->capacity.amount = amount ? amount : 1;
}

/* One tiling's mappings, rebuilt against the architecture. */
typedef struct {
    int tiling;
    ef_nest *nests[EF_MAX_EINSUMS];
    double value;                 /* estimated objective                */
} group_cand;

static void cand_free(group_cand *c, int count) {
    for (int m = 0; m < count; m++) {
        ef_nest_destroy(c->nests[m]);
        c->nests[m] = NULL;
    }
}

/* Tiling k's mappings as nests of the real architecture, if the group
 * is legal (model/fuse.c); the estimate sums the Einsums' cycles (they
 * share units) and energies. */
static bool build_cand(group_search *gs, int k, group_cand *c, ef_diags *scratch) {
    const ef_fplan *g = gs->g;
    memset(c, 0, sizeof *c);
    c->tiling = k;
    double cycles = 0, energy = 0;
    for (int m = 0; m < g->count; m++) {
        const ef_map_result *r = &gs->found[k * g->count + m];
        if (gs->status[k * g->count + m] != EF_OK || !r->mapping) {
            cand_free(c, g->count);
            return false;
        }
        c->nests[m] = ef_nest_build_one(gs->arch, gs->w, r->mapping, "<mapper>",
                                        g->first + m, scratch);
        if (!c->nests[m]) {
            cand_free(c, g->count);
            return false;
        }
        cycles += r->estimate.cycles;
        energy += r->estimate.energy_pj;
    }
    ef_fusion_group groups[EF_MAX_EINSUMS];
    int ng = ef_fuse_groups(c->nests, g->count, groups, scratch);
    if (ng != 1) {
        cand_free(c, g->count);
        return false;
    }
    c->value = ef_map_objective_value(gs->opt->objective, cycles, energy);
    return true;
}

static int cmp_cand(const void *a, const void *b) {
    const group_cand *x = a, *y = b;
    if (x->value != y->value) return x->value < y->value ? -1 : 1;
    return x->tiling - y->tiling;
}

/* Fills out[first ..] from the winning tiling. */
static ef_status take_winner(group_search *gs, group_cand *c, ef_result **results,
                             int confirmed, ef_map_result *out) {
    const ef_fplan *g = gs->g;
    const ef_ftiling *t = &gs->tilings[c->tiling];
    for (int m = 0; m < g->count; m++) {
        ef_map_result *r = &out[g->first + m];
        const ef_map_result *f = &gs->found[c->tiling * g->count + m];
        r->mapping = ef_malloc(sizeof *r->mapping);
        if (!r->mapping) return EF_ERR_NOMEM;
        memcpy(r->mapping, f->mapping, sizeof *r->mapping);
        r->nest = c->nests[m];
        c->nests[m] = NULL;
        r->result = results ? results[m] : NULL;
        if (results) results[m] = NULL;
        if (r->result) ef_stats_compute(r->result, &r->stats);
        r->estimate = f->estimate;
        for (int k = 0; k < gs->ntilings; k++) {
            r->considered += gs->found[k * g->count + m].considered;
            r->legal += gs->found[k * g->count + m].legal;
        }
        r->confirmed = (uint64_t)confirmed;
        r->active_pes = r->nest->active_pes;
        snprintf(r->dataflow, sizeof r->dataflow, "%s", f->dataflow);
        r->unit = f->unit;
        ef_map_fusion *fu = &r->fusion;
        fu->first = g->first;
        fu->count = g->count;
        fu->level = gs->level;
        fu->loop_count = t->loop_count;
        memcpy(fu->loops, t->loops, sizeof t->loops[0] * (size_t)t->loop_count);
        fu->inner_level = 0;
        if (gs->split) {
            /* the spread is the scores' Einsums', not the group's */
            fu->inner_level = g->inner_level;
            memcpy(fu->inner, g->inner, sizeof fu->inner);
            fu->inner_row_count = t->row_count;
            memcpy(fu->inner_rows, t->rows, sizeof t->rows[0] * (size_t)t->row_count);
            fu->inner_col_count = t->col_count;
            memcpy(fu->inner_cols, t->cols, sizeof t->cols[0] * (size_t)t->col_count);
        } else {
            fu->row_count = t->row_count;
            memcpy(fu->rows, t->rows, sizeof t->rows[0] * (size_t)t->row_count);
            fu->col_count = t->col_count;
            memcpy(fu->cols, t->cols, sizeof t->cols[0] * (size_t)t->col_count);
        }
        fu->tilings = (uint64_t)gs->ntilings;
        fu->tilings_confirmed = (uint64_t)confirmed;
    }
    return EF_OK;
}

/* Searches group g at one fusion level: EF_OK with out[] filled,
 * EF_ERR_MAPPING (why says it) when no tiling gives a legal group, or
 * a hard error. */
static ef_status search_at(group_search *gs, int threads, ef_map_result *out, double *value,
                           char *why, size_t size) {
    const ef_fplan *g = gs->g;
    int jobs = gs->ntilings * g->count;
    bool per_pe = gs->arch->levels[gs->level].per_pe;
    ef_status st = EF_OK;
    gs->fixed = ef_calloc((size_t)(gs->split ? jobs : gs->ntilings), sizeof *gs->fixed);
    gs->budgets = ef_calloc((size_t)(per_pe || gs->split ? jobs : g->count),
                            sizeof *gs->budgets);
    gs->found = ef_calloc((size_t)jobs, sizeof *gs->found);
    gs->status = ef_calloc((size_t)jobs, sizeof *gs->status);
    gs->diags = ef_calloc((size_t)jobs, sizeof *gs->diags);
    group_cand *cands = ef_calloc((size_t)gs->ntilings, sizeof *cands);
    ef_diags *scratch = ef_diags_create();
    int ncand = 0;
    if (!gs->fixed || !gs->budgets || !gs->found || !gs->status || !gs->diags || !cands ||
        !scratch)
        st = EF_ERR_NOMEM;
    for (int j = 0; st == EF_OK && j < jobs; j++)
        if (!(gs->diags[j] = ef_diags_create())) st = EF_ERR_NOMEM;
    if (st != EF_OK) goto done;
    if (gs->split)
        for (int j = 0; j < jobs; j++) {
            fixed_of(gs->arch, g, gs->level, &gs->tilings[j / g->count], &gs->fixed[j]);
            fixed_split(g, j % g->count, &gs->fixed[j]);
            budget_arch_split(gs->arch, gs->w, g, gs->level, j % g->count,
                              &gs->tilings[j / g->count], &gs->budgets[j]);
        }
    else
        for (int k = 0; k < gs->ntilings; k++)
            fixed_of(gs->arch, g, gs->level, &gs->tilings[k], &gs->fixed[k]);
    if (per_pe)
        for (int j = 0; j < jobs; j++)
            budget_arch_pe(gs->arch, gs->w, g, gs->level, j % g->count,
                           &gs->tilings[j / g->count], &gs->budgets[j]);
    else if (!gs->split)
        for (int m = 0; m < g->count; m++)
            budget_arch(gs->arch, gs->w, g, gs->level, m, &gs->budgets[m]);
    st = ef_parallel_for(jobs, threads, search_member, gs);
    if (st != EF_OK) goto done;
    for (int j = 0; j < jobs; j++)
        if (gs->status[j] != EF_OK && gs->status[j] != EF_ERR_MAPPING) {
            st = gs->status[j];
            goto done;
        }
    for (int k = 0; k < gs->ntilings; k++) {
        ef_diags_clear(scratch);
        if (build_cand(gs, k, &cands[ncand], scratch)) ncand++;
        if (scratch->out_of_memory) {
            /* not an illegal tiling: the search cannot go on */
            st = EF_ERR_NOMEM;
            goto done;
        }
    }
    if (!ncand) {
        /* say why the first tiling failed: its first member's reason */
        const char *reason = NULL;
        for (int j = 0; j < jobs && !reason; j++)
            if (gs->status[j] != EF_OK && gs->diags[j]->count)
                reason = gs->diags[j]->items[0].message;
        if (!reason && scratch->count) reason = scratch->items[0].message;
        snprintf(why, size, "%s", reason ? reason : "no tiling gave a legal group");
        st = EF_ERR_MAPPING;
        goto done;
    }
    qsort(cands, (size_t)ncand, sizeof cands[0], cmp_cand);
    int confirm = gs->opt->confirm;
    if (confirm <= 0) {
        *value = cands[0].value;
        st = take_winner(gs, &cands[0], NULL, 0, out);
        goto done;
    }
    /* the engine decides among the best estimates, the group as a whole */
    int best = -1, confirmed = 0;
    double best_value = INFINITY;
    ef_result *best_results[EF_MAX_EINSUMS] = {0};
    for (int i = 0; i < ncand && i < confirm; i++) {
        ef_result *res[EF_MAX_EINSUMS] = {0};
        ef_diags_clear(scratch);
        ef_status rs = ef_sim_run_cascade(cands[i].nests, g->count, &gs->opt->sim, NULL, 1,
                                          res, scratch);
        if (rs != EF_OK) {
            for (int m = 0; m < g->count; m++) ef_result_destroy(res[m]);
            if (rs == EF_ERR_OVERFLOW || rs == EF_ERR_MAPPING) continue;
            st = rs;
            goto confirm_done;
        }
        confirmed++;
        double cycles = 0, energy = 0;
        for (int m = 0; m < g->count; m++) {
            ef_stats sm;
            ef_stats_compute(res[m], &sm);
            cycles += (double)ef_result_span_cycles(res[m]);
            energy += sm.energy_pj;
        }
        double v = ef_map_objective_value(gs->opt->objective, cycles, energy);
        if (v < best_value) {
            best_value = v;
            best = i;
            for (int m = 0; m < g->count; m++) {
                ef_result_destroy(best_results[m]);
                best_results[m] = res[m];
            }
        } else {
            for (int m = 0; m < g->count; m++) ef_result_destroy(res[m]);
        }
    }
    if (best < 0) {
        snprintf(why, size, "every candidate group ran past a limit of the simulator%s%s",
                 scratch->count ? ": " : "", scratch->count ? scratch->items[0].message : "");
        st = EF_ERR_MAPPING;
    } else {
        *value = best_value;
        st = take_winner(gs, &cands[best], best_results, confirmed, out);
    }
confirm_done:
    for (int m = 0; m < EF_MAX_EINSUMS; m++) ef_result_destroy(best_results[m]);
done:
    for (int i = 0; cands && i < ncand; i++) cand_free(&cands[i], g->count);
    for (int j = 0; gs->found && j < jobs; j++) ef_map_result_clear(&gs->found[j]);
    for (int j = 0; gs->diags && j < jobs; j++) ef_diags_destroy(gs->diags[j]);
    free(gs->diags);
    free(gs->status);
    free(gs->found);
    free(gs->budgets);
    free(gs->fixed);
    free(cands);
    ef_diags_destroy(scratch);
    return st;
}

/* Describes a level's room for a message: "64 KiB", "16 words". */
static void room_text(const ef_level_spec *ls, uint64_t need, char *buf, size_t size) {
    const char *unit = ls->capacity.in_words ? "words" : "B";
    if (ls->partition_count)
        snprintf(buf, size, "its partitions cannot hold the tiles (%llu B in all)",
                 (unsigned long long)need);
    else
        snprintf(buf, size, "they need %llu %s of its %llu %s%s", (unsigned long long)need, unit,
                 (unsigned long long)ls->capacity.amount, unit,
                 ls->double_buffer ? " (double-buffered)" : "");
}

/* The first legal group found goes to out[], a later one to alt[]
 * and then to out[] if its objective is lower (a tie keeps the one
 * found first). */
static void keep_better(const ef_fplan *g, double value, bool *found, double *best,
                        ef_map_result *out, ef_map_result *alt) {
    if (!*found) {
        *found = true;
        *best = value;
        return;
    }
    bool better = value < *best;
    if (better) *best = value;
    for (int m = 0; m < g->count; m++) {
        int e = g->first + m;
        if (better) {
            ef_map_result_clear(&out[e]);
            out[e] = alt[e];
            memset(&alt[e], 0, sizeof alt[e]);
        } else {
            ef_map_result_clear(&alt[e]);
        }
    }
}

/* Searches the group at the largest shared level that holds its tiles
 * (else the next ones), at every per-PE level that holds them, and with
 * FuseMax's binding at the largest shared level: of the groups that
 * are legal, the lowest objective wins — the
 * engine's, or the estimate's with confirm 0 — a tie going to the
 * one tried first. EF_ERR_MAPPING with why when none gives a legal
 * group. */
static ef_status search_group(const ef_arch_spec *arch, const ef_workload *w,
                              const ef_dataflow_spec *const *dfs, const ef_map_options *opt,
                              int threads, const ef_fplan *g, ef_map_result *out, char *why,
                              size_t size) {
    int levels[EF_MAX_LEVELS];
    int nl = ef_fplan_levels(arch, g, levels);
    if (!nl) {
        snprintf(why, size, "the architecture has no shared on-chip level%s",
                 arch->vector_unit.present ? " the vector unit can reach" : "");
        return EF_ERR_MAPPING;
    }
    why[0] = '\0';
    bool found = false, shared_found = false;
    double best = INFINITY;
    ef_map_result *alt = NULL; /* a later level's group, until compared */
    ef_status st = EF_ERR_MAPPING;
    for (int i = 0; i < nl; i++) {
        const ef_level_spec *ls = &arch->levels[levels[i]];
        if (shared_found && !ls->per_pe) continue;
        ef_ftiling tilings[EF_FPLAN_MAX_TILINGS];
        uint64_t least = 0;
        int nt = ef_fplan_tilings(arch, w, g, levels[i], tilings, EF_FPLAN_MAX_TILINGS, &least);
        if (nt < 0) {
            st = EF_ERR_NOMEM;
            goto done;
        }
        if (!nt) {
            if (!why[0]) {
                char room[160];
                room_text(ls, least, room, sizeof room);
                snprintf(why, size, "%s cannot hold even the smallest tiles of the group "
                         "together: %s", ls->name, room);
            }
            continue;
        }
        ef_map_result *dst = out;
        if (found) {
            if (!alt && !(alt = ef_calloc((size_t)w->einsum_count, sizeof *alt))) {
                st = EF_ERR_NOMEM;
                goto done;
            }
            dst = alt;
        }
        group_search gs = {.arch = arch, .w = w, .dfs = dfs, .opt = opt, .g = g,
                           .level = levels[i], .tilings = tilings, .ntilings = nt};
        char reason[320];
        double value = INFINITY;
        ef_status rs = search_at(&gs, threads, dst, &value, reason, sizeof reason);
        if (rs == EF_ERR_MAPPING) {
            if (!why[0])
                snprintf(why, size, "no legal mapping keeps the group's tiles in %s: %s",
                         ls->name, reason);
            continue;
        }
        if (rs != EF_OK) {
            st = rs;
            goto done;
        }
        shared_found |= !ls->per_pe;
        keep_better(g, value, &found, &best, out, alt);
    }
    /* FuseMax's binding: at the largest shared level, the scores kept
     * in the PEs below it (ef_fplan_split) */
    for (int i = 0; i < nl; i++) {
        if (arch->levels[levels[i]].per_pe) continue;
        ef_fplan gsplit;
        bool movable[EF_MAX_EINSUMS];
        for (int m = 0; m < g->count; m++)
            movable[m] = !opt->auto_vector || dfs[g->first + m] == opt->auto_vector;
        if (!ef_fplan_split(arch, w, g, levels[i], movable, &gsplit)) break;
        ef_ftiling tilings[EF_FPLAN_MAX_TILINGS];
        uint64_t least = 0;
        int nt = ef_fplan_tilings(arch, w, &gsplit, levels[i], tilings, EF_FPLAN_MAX_TILINGS,
                                  &least);
        if (nt < 0) {
            st = EF_ERR_NOMEM;
            goto done;
        }
        if (!nt) break;
        if (found && !alt && !(alt = ef_calloc((size_t)w->einsum_count, sizeof *alt))) {
            st = EF_ERR_NOMEM;
            goto done;
        }
        group_search gs = {.arch = arch, .w = w, .dfs = dfs, .opt = opt, .g = &gsplit,
                           .level = levels[i], .tilings = tilings, .ntilings = nt,
                           .split = true};
        char reason[320];
        double value = INFINITY;
        ef_status rs = search_at(&gs, threads, found ? alt : out, &value, reason, sizeof reason);
        if (rs == EF_OK) keep_better(g, value, &found, &best, out, alt);
        else if (rs != EF_ERR_MAPPING) {
            st = rs;
            goto done;
        }
        break;
    }
    st = found ? EF_OK : EF_ERR_MAPPING;
done:
    if (alt)
        for (int m = 0; m < g->count; m++) ef_map_result_clear(&alt[g->first + m]);
    free(alt);
    return st;
}

/* ---------- the cascade ---------- */

static ef_status map_alone(const ef_arch_spec *arch, const ef_workload *w,
                           const ef_dataflow_spec *df, const ef_map_options *opt, int e,
                           ef_map_result *out, ef_diags *diags) {
    ef_map_options o = *opt;
    o.dataflow = df;
    o.fixed = NULL;
    ef_status st = ef_map_search(arch, w, e, &o, out, diags);
    out->fusion.first = e;
    out->fusion.count = 1;
    out->fusion.level = -1;
    return st;
}

ef_status ef_map_fused(const ef_arch_spec *arch, const ef_workload *w,
                       const ef_dataflow_spec *const *dfs, const ef_map_options *opt,
                       int threads, ef_map_result *out, ef_diags *diags) {
    int n = w->einsum_count;
    double t0 = ef_now_seconds();
    bool vector[EF_MAX_EINSUMS];
    for (int e = 0; e < n; e++) {
        memset(&out[e], 0, sizeof out[e]);
        vector[e] = dfs[e]->unit == EF_UNIT_VECTOR;
    }
    /* a group given up is said at each of its Einsums, even those that
     * went on to another group or alone */
    int carry_from = -1, carry_to = -1;
    for (int i = 0; i < n;) {
        int done = -1, widest = -1;
        char why[400] = "";
        for (int j = n - 1; j > i && done < 0; j--) {
            ef_fplan g;
            char reason[400];
            if (!ef_fplan_group(w, i, j - i + 1, vector, &g, reason, sizeof reason)) continue;
            if (widest < 0) widest = j;
            ef_status st = search_group(arch, w, dfs, opt, threads, &g, out, reason,
                                        sizeof reason);
            if (st == EF_OK) done = j;
            else if (st != EF_ERR_MAPPING) return st;
            else if (!why[0]) snprintf(why, sizeof why, "%s", reason);
        }
        if (done < 0) {
            ef_status st = map_alone(arch, w, dfs[i], opt, i, &out[i], diags);
            if (st != EF_OK) return st;
            done = i;
        }
        /* a note wherever intermediates that could stay on chip did not */
        for (int e = i; e <= done && e <= carry_to && carry_from != e; e++)
            memcpy(out[e].fusion.note, out[carry_from].fusion.note, sizeof out[e].fusion.note);
        if (widest > done) {
            char asked[160], got[160];
            ef_fplan_name(w, i, widest - i + 1, asked, sizeof asked);
            ef_fplan_name(w, i, done - i + 1, got, sizeof got);
            for (int e = i; e <= done; e++) {
                if (done > i)
                    snprintf(out[e].fusion.note, sizeof out[e].fusion.note,
                             "could not fuse %.60s (%.200s); fused %.60s at %.40s", asked, why, got,
                             arch->levels[out[i].fusion.level].name);
                else
                    snprintf(out[e].fusion.note, sizeof out[e].fusion.note,
                             "could not fuse %.60s (%.220s); %.60s mapped alone", asked, why, got);
            }
            carry_from = i;
            carry_to = widest;
        }
        i = done + 1;
    }
    double seconds = ef_now_seconds() - t0;
    for (int e = 0; e < n; e++) {
        out[e].fusion.asked = true;
        if (out[e].fusion.count > 1) out[e].seconds = seconds;
    }
    return EF_OK;
}
