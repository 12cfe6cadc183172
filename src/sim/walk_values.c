/* Values mode: the partial sums of the output each level holds. The
 * outermost level, and any level with one instance, keeps a dense array
 * over the whole output tensor. A per-PE level keeps, per PE, a small
 * hash table of only the words that PE holds: a dense array per PE
 * would cost PEs x tensor words (1.5 GB for a 32 x 32 array on a
 * 2916 x 64 output), while a PE holds at most one tile. */
#include "sim/walk.h"

#include "model/dimset.h"

/* Fibonacci hashing: spreads consecutive words over the table. */
static inline uint64_t home_slot(const lvl_state *L, uint64_t word) {
    return (word * UINT64_C(0x9E3779B97F4A7C15)) >> L->val_shift;
}

void ef_walk_values_alloc(walker *wk, int l) {
    const ef_nest *n = wk->n;
    lvl_state *L = &wk->L[l];
    const ef_operand *op = n->ops[wk->out];
    uint64_t words = wk->w->tensors[op->tensor].words;
    if (L->inst <= 1) {
        L->val = ef_walk_calloc(wk, words, sizeof(double));
        if (L->val)
            for (uint64_t q = 0; q < words; q++) L->val[q] = NAN;
        return;
    }
    /* the most words one instance can hold: its tile's index range per
     * dimension, multiplied out, and never more than the tensor */
    uint64_t most = 1;
    for (int d = 0; d < op->dims && most < words; d++) {
        int64_t cap = ef_dimset_capacity(&op->index[d], n->levels[l].tile_span);
        if (cap < 1) cap = 1;
        if (!ef_mul_u64(most, (uint64_t)cap, &most)) most = words;
    }
    if (most > words) most = words;
    /* at most half full, so that probes stay short and never wrap */
    int bits = 3;
    while (bits < 40 && (UINT64_C(1) << bits) < 2 * most + 1) bits++;
    L->val_slots = UINT64_C(1) << bits;
    L->val_shift = 64 - bits;
    if (L->val_slots > (UINT64_C(1) << 32) / L->inst) {
        ef_walk_limit(wk, "--check-values: the partial-sum tables of level %s would exceed "
                          "4 GiB",
                      wk->n->arch->levels[l].name);
        return;
    }
    uint64_t cells = L->inst * L->val_slots;
    L->val = ef_walk_calloc(wk, cells, sizeof(double));
    L->val_key = ef_walk_calloc(wk, cells, sizeof(uint64_t));
    L->val_held = ef_walk_calloc(wk, L->inst, sizeof(uint64_t));
    L->val_hint = ef_walk_calloc(wk, L->inst, sizeof(uint64_t));
}

double *ef_walk_val(walker *wk, int l, uint64_t inst, uint64_t word) {
    lvl_state *L = &wk->L[l];
    if (!L->val_slots) return &L->val[word];
    uint64_t mask = L->val_slots - 1, base = inst * L->val_slots;
    uint64_t *key = &L->val_key[base];
    /* a PE mostly accumulates into the word it used last */
    uint64_t s = L->val_hint[inst];
    if (key[s] == word + 1) return &L->val[base + s];
    s = home_slot(L, word);
    while (key[s] && key[s] != word + 1) s = (s + 1) & mask;
    L->val_hint[inst] = s;
    if (!key[s]) {
        if (2 * (L->val_held[inst] + 1) > L->val_slots) {
            /* holds more than its tile can: a broken invariant, not a
             * user error; the run fails rather than probe forever */
            ef_walk_limit(wk, "--check-values: instance %llu of level %s holds more output "
                              "words than its tile (an internal error: please report this "
                              "mapping)",
                          (unsigned long long)inst, wk->n->arch->levels[l].name);
            return &L->val_spill;
        }
        key[s] = word + 1;
        L->val[base + s] = NAN;
        L->val_held[inst]++;
    }
    return &L->val[base + s];
}

double ef_walk_val_take(walker *wk, int l, uint64_t inst, uint64_t word) {
    lvl_state *L = &wk->L[l];
    if (!L->val_slots) {
        double v = L->val[word];
        L->val[word] = NAN;
        return v;
    }
    uint64_t mask = L->val_slots - 1, base = inst * L->val_slots;
    uint64_t *key = &L->val_key[base];
    double *val = &L->val[base];
    uint64_t s = home_slot(L, word);
    while (key[s] && key[s] != word + 1) s = (s + 1) & mask;
    if (!key[s]) return NAN;
    double v = val[s];
    L->val_held[inst]--;
    /* linear probing without tombstones: pull back every later entry of
     * the cluster whose home does not lie in the (hole, entry] stretch */
    uint64_t hole = s;
    for (uint64_t j = (s + 1) & mask; key[j]; j = (j + 1) & mask) {
        uint64_t h = home_slot(L, key[j] - 1);
        bool stays = hole <= j ? hole < h && h <= j : hole < h || h <= j;
        if (stays) continue;
        key[hole] = key[j];
        val[hole] = val[j];
        hole = j;
    }
    key[hole] = 0;
    return v;
}
