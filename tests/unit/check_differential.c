/* Differential test of the two sim engines. From a seed, a small
 * deterministic generator writes a workload (conv1d with stride,
 * dilation and padding, padded 2-D conv, grouped and depthwise conv,
 * matmul), an architecture (1-3 levels, optional per-PE regfile, a PE
 * array up to 4 x 4, or 16 x 16 for a quarter of the seeds, fractional
 * bandwidths, latencies, double buffering,
 * a NoC of any topology) and a legal mapping (imperfect factors, random
 * loop order, spatial loops on the level above the PEs, random bypass).
 * Each case runs through the real loaders and stages on the step engine
 * (with the value check) and on the event engine; every field of the
 * two ef_results must be equal, and a few invariants of docs/model.md
 * must hold. A failure names the seed and prints the three YAML texts.
 *
 * Seeds: 0..299 by default (CI). EF_DIFF_SEEDS=N runs N seeds and
 * EF_DIFF_FIRST=K starts at seed K, for long runs:
 *     EF_DIFF_SEEDS=3000 ./check_differential
 * The generator is allowed to produce cases the model rejects (padding
 * that leaves no stored element, for instance); they are skipped and
 * counted, and at least 85% of the seeds must give a runnable case so
 * that the generator cannot quietly degrade. To replay one seed and see
 * its YAML and results: EF_DIFF_FIRST=K EF_DIFF_SEEDS=1 EF_DIFF_PRINT=1
 * (EF_DIFF_VERBOSE=1 prints why skipped seeds were rejected). */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einflow/stats.h"
#include "unit/unit_util.h"

/* ---------- deterministic generator ---------- */

typedef struct {
    uint64_t s;
} rng;

/* splitmix64 */
static uint64_t rng_next(rng *r) {
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static rng rng_seed(uint64_t seed) {
    rng r = {seed * UINT64_C(0xD1B54A32D192ED03) ^ UINT64_C(0xEF0D1FF5EED0000)};
    rng_next(&r);
    return r;
}

/* uniform in [lo, hi] */
static int rng_int(rng *r, int lo, int hi) {
    return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static bool rng_pct(rng *r, int pct) { return (int)(rng_next(r) % 100) < pct; }

#define PICK(r, arr) ((arr)[rng_int((r), 0, (int)UT_LEN(arr) - 1)])

/* Fixed-size text buffer; overflowing it fails the test. */
typedef struct {
    char buf[4096];
    size_t len;
} sbuf;

static void sb_add(sbuf *b, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(b->buf + b->len, sizeof b->buf - b->len, f, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < sizeof b->buf - b->len, "generator text too long");
    b->len += (size_t)n;
}

typedef struct {
    sbuf arch, wl, map;
} gen_case;

#define G_MAX_RANKS 8
#define G_MAX_LEVELS 3

typedef struct {
    char name;
    int bound;
} g_rank;

/* A loop slot in nest order: level l's temporal list, then (on the
 * spatial level) its rows and cols lists. */
enum { S_T, S_ROWS, S_COLS };
typedef struct {
    int level, kind;
} g_slot;

typedef struct {
    char rank;
    int factor;
} g_loop;

typedef struct {
    g_loop l[G_MAX_RANKS];
    int n;
} g_list;

static const char *index_expr(char var, int mult, char *out, size_t n) {
    if (mult == 1) snprintf(out, n, "%c", var);
    else snprintf(out, n, "%c*%d", var, mult);
    return out;
}

/* Workload: returns the tensor names (inputs first, output last). */
static int gen_workload(rng *r, sbuf *wl, g_rank *ranks, int *nranks,
                        char tensors[][4]) {
    char ein[160], pad[96] = "";
    int kind = rng_int(r, 0, 4);
    int nr = 0;
    /* a quarter of the cases double the larger ranks (not R, S) */
    int big = rng_pct(r, 25) ? 2 : 1;
#define RANK(c, lo, hi)                                                         \
    (ranks[nr].name = (c),                                                      \
     ranks[nr].bound = rng_int(r, lo, (c) == 'R' || (c) == 'S' ? (hi) : (hi) * big), \
     nr++)
    switch (kind) {
    case 0: { /* conv1d with stride and dilation, padded input */
        int U = rng_int(r, 1, 2), D = PICK(r, ((const int[]){1, 1, 2}));
        char pe[16], re[16];
        snprintf(ein, sizeof ein, "O[k,p] += I[c,%s+%s] * W[k,c,r]",
                 index_expr('p', U, pe, sizeof pe), index_expr('r', D, re, sizeof re));
        RANK('K', 1, 4); RANK('C', 1, 4); RANK('P', 1, 12); RANK('R', 1, 3);
        int p = PICK(r, ((const int[]){0, 0, 1, 2}));
        if (p) snprintf(pad, sizeof pad, "padding: {I: [0, %d]}\n", p);
        strcpy(tensors[0], "I"); strcpy(tensors[1], "W"); strcpy(tensors[2], "O");
        break;
    }
    case 1: /* matmul */
        snprintf(ein, sizeof ein, "Z[m,n] += A[m,k] * B[k,n]");
        RANK('M', 1, 8); RANK('N', 1, 8); RANK('K', 1, 8);
        strcpy(tensors[0], "A"); strcpy(tensors[1], "B"); strcpy(tensors[2], "Z");
        break;
    case 2: { /* 2-D conv with padding */
        snprintf(ein, sizeof ein, "O[m,p,q] += I[c,p+r,q+s] * F[m,c,r,s]");
        RANK('M', 1, 3); RANK('C', 1, 3); RANK('P', 1, 6); RANK('Q', 1, 6);
        RANK('R', 1, 3); RANK('S', 1, 3);
        int a = rng_int(r, 0, 1), b = rng_int(r, 0, 1);
        if (a || b) snprintf(pad, sizeof pad, "padding: {I: [0, %d, %d]}\n", a, b);
        strcpy(tensors[0], "I"); strcpy(tensors[1], "F"); strcpy(tensors[2], "O");
        break;
    }
    case 3: /* grouped conv */
        snprintf(ein, sizeof ein, "O[g,k,p] += I[g,c,p+r] * F[g,k,c,r]");
        RANK('G', 1, 3); RANK('K', 1, 3); RANK('C', 1, 3); RANK('P', 1, 8);
        RANK('R', 1, 3);
        if (rng_pct(r, 30)) snprintf(pad, sizeof pad, "padding: {I: [0, 0, 1]}\n");
        strcpy(tensors[0], "I"); strcpy(tensors[1], "F"); strcpy(tensors[2], "O");
        break;
    default: /* depthwise conv */
        snprintf(ein, sizeof ein, "O[g,p] += I[g,p+r] * F[g,r]");
        RANK('G', 1, 6); RANK('P', 1, 10); RANK('R', 1, 3);
        if (rng_pct(r, 30)) snprintf(pad, sizeof pad, "padding: {I: [0, 1]}\n");
        strcpy(tensors[0], "I"); strcpy(tensors[1], "F"); strcpy(tensors[2], "O");
        break;
    }
#undef RANK
    *nranks = nr;
    sb_add(wl, "name: diff_w\neinsums: [\"%s\"]\nranks: {", ein);
    for (int i = 0; i < nr; i++)
        sb_add(wl, "%s%c: %d", i ? ", " : "", ranks[i].name, ranks[i].bound);
    sb_add(wl, "}\n%s", pad);
    if (rng_pct(r, 30)) { /* precisions change bytes, not words */
        static const int bits[] = {4, 8, 8, 16, 24, 32};
        sb_add(wl, "precision: {%s: %d, %s: %d, %s: %d}\n", tensors[0], PICK(r, bits),
               tensors[1], PICK(r, bits), tensors[2], PICK(r, bits));
    }
    return 3;
}

static void gen_bandwidth(rng *r, sbuf *a, const char *key) {
    static const char *bw[] = {"0.25", "0.5", "1", "1.5", "2", "3", "4", "8", "16"};
    sb_add(a, "    %s: %s\n", key, PICK(r, bw));
}

static void gen_case_text(uint64_t seed, gen_case *c) {
    memset(c, 0, sizeof *c);
    rng r = rng_seed(seed);
    g_rank ranks[G_MAX_RANKS];
    int nranks = 0;
    char tensors[4][4];
    int ntensors = gen_workload(&r, &c->wl, ranks, &nranks, tensors);

    /* ---- architecture ---- */
    /* mostly small arrays, and a quarter up to 16 x 16, where the tile
     * classes group many PEs per signature */
    bool big = rng_pct(&r, 25);
    int rows = rng_int(&r, 1, big ? 16 : 4), cols = rng_int(&r, 1, big ? 16 : 4);
    int nlev = PICK(&r, ((const int[]){1, 2, 2, 3, 3}));
    bool perpe = nlev >= 2 && rng_pct(&r, 65);
    const char *names2[] = {"DRAM", perpe || rng_pct(&r, 50) ? "RF" : "GLB"};
    const char *names3[] = {"DRAM", "GLB", "RF"};
    const char *names1[] = {"Buf"};
    const char **names = nlev == 3 ? names3 : nlev == 2 ? names2 : names1;
    sb_add(&c->arch, "name: diff_a\npe_array: {rows: %d, cols: %d}\n"
                     "pe: {macs_per_cycle: %d}\nlevels:\n",
           rows, cols, rng_pct(&r, 70) ? 1 : 2);
    for (int i = 0; i < nlev; i++) {
        const char *kind = i == 0 && nlev > 1 ? "dram"
                           : i == nlev - 1 && (perpe || rng_pct(&r, 50)) ? "regfile"
                                                                        : "sram";
        sb_add(&c->arch, "  - name: %s\n    kind: %s\n", names[i], kind);
        if (perpe && i == nlev - 1) sb_add(&c->arch, "    per_pe: true\n");
        if (i > 0 || rng_pct(&r, 40)) {
            if (rng_pct(&r, 20)) {
                gen_bandwidth(&r, &c->arch, "bandwidth");
            } else {
                if (rng_pct(&r, 60)) gen_bandwidth(&r, &c->arch, "read_bandwidth");
                if (rng_pct(&r, 40)) gen_bandwidth(&r, &c->arch, "write_bandwidth");
            }
            if (rng_pct(&r, 40))
                sb_add(&c->arch, "    latency: %d\n",
                       i == 0 && rng_pct(&r, 30) ? rng_int(&r, 6, 20) : rng_int(&r, 0, 5));
            if (i > 0 && rng_pct(&r, 50))
                sb_add(&c->arch, rng_pct(&r, 70) ? "    double_buffer: true\n" : "    prefetch: true\n");
        }
    }
    /* the spatial level: just above the per-PE level, else the innermost */
    int spl = perpe ? nlev - 2 : nlev - 1;
    if (rng_pct(&r, 85)) {
        static const char *topo[] = {"multicast", "systolic", "unicast"};
        static const char *nbw[] = {"", "", ", bandwidth: 0.5", ", bandwidth: 1",
                                    ", bandwidth: 4", ", bandwidth: 16"};
        sb_add(&c->arch, "noc:\n  - {from: %s, to: %s, topology: %s%s%s}\n", names[spl],
               perpe ? names[nlev - 1] : "PE", PICK(&r, topo), PICK(&r, nbw),
               rng_pct(&r, 50) ? ", reduction: true" : "");
    }

    /* ---- mapping ---- */
    g_slot slots[G_MAX_LEVELS + 2];
    int nslots = 0;
    for (int i = 0; i < nlev; i++) {
        slots[nslots++] = (g_slot){i, S_T};
        if (i == spl) {
            slots[nslots++] = (g_slot){i, S_ROWS};
            slots[nslots++] = (g_slot){i, S_COLS};
        }
    }
    g_list lists[G_MAX_LEVELS][3];
    memset(lists, 0, sizeof lists);
    int cap[3] = {0, rows, cols}, used[3] = {0, 1, 1};
    for (int k = 0; k < nranks; k++) {
        int b = ranks[k].bound;
        if (b == 1 && rng_pct(&r, 50)) continue;
        int chosen[G_MAX_LEVELS + 2], nc = 0;
        for (int s = 0; s < nslots; s++)
            if (rng_pct(&r, 40)) chosen[nc++] = s;
        if (!nc) chosen[nc++] = rng_int(&r, 0, nslots - 1);
        /* inner factors from the innermost chosen slot outward; once
         * they cover the bound, further loops would be 1 and are
         * mostly left out */
        int inner = 1, fac[G_MAX_LEVELS + 2], slot[G_MAX_LEVELS + 2], nk = 0;
        for (int j = nc - 1; j >= 1; j--) {
            const g_slot *s = &slots[chosen[j]];
            if (inner >= b && rng_pct(&r, 75)) continue;
            int f = rng_int(&r, 1, b);
            if (s->kind != S_T) {
                int room = cap[s->kind] / used[s->kind];
                if (f > room) f = room < 1 ? 1 : room;
            }
            if (inner * f >= b) f = inner < b ? (b + inner - 1) / inner : 1;
            if (s->kind != S_T) used[s->kind] *= f;
            slot[nk] = chosen[j];
            fac[nk++] = f;
            inner *= f;
        }
        /* the outermost loop: exactly ceil(bound / inner), which makes
         * the factors imperfect whenever inner does not divide b */
        int s0 = chosen[0], f0 = (b + inner - 1) / inner;
        if (slots[s0].kind != S_T) {
            int kd = slots[s0].kind;
            if (used[kd] * f0 > cap[kd]) {
                /* does not fit the array: the same level's temporal
                 * list is still outside every inner slot chosen */
                for (int q = 0; q < nslots; q++)
                    if (slots[q].level == slots[s0].level && slots[q].kind == S_T) s0 = q;
            } else {
                used[kd] *= f0;
            }
        }
        slot[nk] = s0;
        fac[nk++] = f0;
        for (int j = 0; j < nk; j++) {
            g_list *L = &lists[slots[slot[j]].level][slots[slot[j]].kind];
            L->l[L->n++] = (g_loop){ranks[k].name, fac[j]};
        }
    }
    /* random loop order inside every list (different ranks only) */
    for (int i = 0; i < nlev; i++)
        for (int kd = 0; kd < 3; kd++) {
            g_list *L = &lists[i][kd];
            for (int j = L->n - 1; j > 0; j--) {
                int q = rng_int(&r, 0, j);
                g_loop t = L->l[j];
                L->l[j] = L->l[q];
                L->l[q] = t;
            }
        }
    sb_add(&c->map, "mapping:\n");
    for (int i = 0; i < nlev; i++) {
        bool byp[4] = {false};
        int nbyp = 0;
        if (i > 0)
            for (int t = 0; t < ntensors; t++)
                if (rng_pct(&r, 25)) byp[t] = true, nbyp++;
        bool empty = !lists[i][S_T].n && !lists[i][S_ROWS].n && !lists[i][S_COLS].n;
        /* no entry at all (but a mapping lists at least one level) */
        if (empty && !nbyp && rng_pct(&r, 30) && (i > 0 || nlev > 1)) continue;
        sb_add(&c->map, "  - level: %s\n", names[i]);
        for (int kd = 0; kd < 3; kd++) {
            const g_list *L = &lists[i][kd];
            if (!L->n) continue;
            if (kd == S_T) sb_add(&c->map, "    temporal: [");
            else if (kd == S_ROWS) sb_add(&c->map, "    spatial: {rows: [");
            else sb_add(&c->map, "%scols: [", lists[i][S_ROWS].n ? ", " : "    spatial: {");
            for (int j = 0; j < L->n; j++)
                sb_add(&c->map, "%s%c: %d", j ? ", " : "", L->l[j].rank, L->l[j].factor);
            if (kd == S_T) sb_add(&c->map, "]\n");
            else if (kd == S_COLS || !lists[i][S_COLS].n) sb_add(&c->map, "]}\n");
            else sb_add(&c->map, "]");
        }
        if (nbyp && nbyp < ntensors && rng_pct(&r, 30)) {
            sb_add(&c->map, "    keep: [");
            int w = 0;
            for (int t = 0; t < ntensors; t++)
                if (!byp[t]) sb_add(&c->map, "%s%s", w++ ? ", " : "", tensors[t]);
            sb_add(&c->map, "]\n");
        } else if (nbyp) {
            sb_add(&c->map, "    bypass: [");
            int w = 0;
            for (int t = 0; t < ntensors; t++)
                if (byp[t]) sb_add(&c->map, "%s%s", w++ ? ", " : "", tensors[t]);
            sb_add(&c->map, "]\n");
        }
    }
}

/* ---------- comparison ---------- */

typedef struct {
    char text[8192];
    size_t len;
    int count;
} diffs;

static void diff_add(diffs *d, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void diff_add(diffs *d, const char *f, ...) {
    if (++d->count > 40 || d->len >= sizeof d->text - 1) return;
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(d->text + d->len, sizeof d->text - d->len, f, ap);
    va_end(ap);
    if (n > 0) d->len += (size_t)n;
    if (d->len > sizeof d->text - 1) d->len = sizeof d->text - 1;
}

static void cmp_u64(diffs *d, const char *name, uint64_t a, uint64_t b) {
    if (a != b)
        diff_add(d, "  %s: step %llu, event %llu\n", name, (unsigned long long)a,
                 (unsigned long long)b);
}

/* Every field of two results; a = step engine, b = event engine. */
static void compare_results(const ef_result *a, const ef_result *b, diffs *d) {
    char nm[256];
#define CMP(f) cmp_u64(d, #f, a->f, b->f)
    CMP(ops);
    CMP(cycles);
    CMP(compute_cycles);
    CMP(skew_cycles);
    CMP(stall_total);
    cmp_u64(d, "stall_count", (uint64_t)a->stall_count, (uint64_t)b->stall_count);
    int ns = a->stall_count < b->stall_count ? a->stall_count : b->stall_count;
    for (int i = 0; i < ns; i++) {
        if (strcmp(a->stalls[i].cause, b->stalls[i].cause) != 0)
            diff_add(d, "  stalls[%d].cause: step %s, event %s\n", i, a->stalls[i].cause,
                     b->stalls[i].cause);
        snprintf(nm, sizeof nm, "stalls[%d].cycles (%s)", i, a->stalls[i].cause);
        cmp_u64(d, nm, a->stalls[i].cycles, b->stalls[i].cycles);
    }
    for (int l = 0; l < EF_MAX_LEVELS; l++) {
        const ef_level_counters *la = &a->levels[l], *lb = &b->levels[l];
        for (int o = 0; o < EF_NEST_MAX_OPS; o++) {
            const ef_tensor_counters *x = &la->ops[o], *y = &lb->ops[o];
#define CMPT(f)                                                   \
    do {                                                          \
        snprintf(nm, sizeof nm, "levels[%d].ops[%d]." #f, l, o); \
        cmp_u64(d, nm, x->f, y->f);                               \
    } while (0)
            CMPT(reads);
            CMPT(fills);
            CMPT(updates);
            CMPT(max_reads);
            CMPT(max_fills);
            CMPT(max_updates);
            CMPT(utilized_words);
            CMPT(utilized_instances);
#undef CMPT
        }
        snprintf(nm, sizeof nm, "generations[%d]", l);
        cmp_u64(d, nm, a->generations[l], b->generations[l]);
    }
    CMP(noc.words_sent);
    CMP(noc.deliveries);
    CMP(noc.hops);
    CMP(noc.reductions);
    CMP(noc.words_returned);
    for (int o = 0; o < EF_NEST_MAX_OPS; o++) {
        snprintf(nm, sizeof nm, "noc.op_words_in[%d]", o);
        cmp_u64(d, nm, a->noc.op_words_in[o], b->noc.op_words_in[o]);
    }
#undef CMP
}

/* The bandwidth law (docs/model.md section 4): no port or link moves
 * more bytes than its bandwidth allows in the cycles the run took. Per
 * level and direction, all instances together (bandwidth x instances)
 * and the busiest instance of each tensor alone; per network link; and
 * the roofline never shows achieved above attainable. */
static void check_bandwidth_law(const char *engine, const ef_result *r, const ef_nest *n,
                                diffs *d) {
    ef_stats st;
    ef_stats_compute(r, &st);
    double cycles = (double)r->cycles, slack = 1 + 1e-12;
    for (int l = 0; l < n->level_count; l++) {
        const ef_level_spec *ls = &n->arch->levels[l];
        double inst = (double)n->levels[l].instances;
        double rbw = ls->read_bandwidth_bytes, wbw = ls->write_bandwidth_bytes;
        if (rbw > 0 && (double)st.read_bytes[l] > rbw * inst * cycles * slack)
            diff_add(d, "  %s: %s reads %llu bytes in %llu cycles: more than %g x %g per cycle\n",
                     engine, ls->name, (unsigned long long)st.read_bytes[l],
                     (unsigned long long)r->cycles, inst, rbw);
        if (wbw > 0 && (double)st.write_bytes[l] > wbw * inst * cycles * slack)
            diff_add(d, "  %s: %s writes %llu bytes in %llu cycles: more than %g x %g per cycle\n",
                     engine, ls->name, (unsigned long long)st.write_bytes[l],
                     (unsigned long long)r->cycles, inst, wbw);
        for (int o = 0; o < n->op_count; o++) {
            const ef_tensor_counters *c = &r->levels[l].ops[o];
            int bits = n->workload->tensors[n->ops[o]->tensor].bits;
            uint64_t rb = ef_words_to_bytes(c->max_reads, bits);
            uint64_t wb = ef_words_to_bytes(c->max_fills > c->max_updates ? c->max_fills
                                                                           : c->max_updates,
                                            bits);
            if ((rbw > 0 && (double)rb > rbw * cycles * slack) ||
                (wbw > 0 && (double)wb > wbw * cycles * slack))
                diff_add(d, "  %s: the busiest %s instance moves %llu / %llu bytes of tensor %d "
                         "in %llu cycles at %g / %g per cycle\n", engine, ls->name,
                         (unsigned long long)rb, (unsigned long long)wb, o,
                         (unsigned long long)r->cycles, rbw, wbw);
        }
        const ef_roofline_level *rl = &st.roofline[l];
        if (rl->achieved_ops > rl->attainable_ops * slack)
            diff_add(d, "  %s: roofline %s: achieved %g > attainable %g ops/cycle\n", engine,
                     ls->name, rl->achieved_ops, rl->attainable_ops);
    }
    const ef_roofline_port *links[2] = {&st.roofline_noc_in, &st.roofline_noc_out};
    for (int i = 0; i < 2; i++) {
        double bw = n->noc->bandwidth_bytes;
        if (bw > 0 && (double)links[i]->bytes > bw * cycles * slack)
            diff_add(d, "  %s: the network moves %llu bytes %s the array in %llu cycles at "
                     "%g per cycle\n", engine, (unsigned long long)links[i]->bytes,
                     i ? "out of" : "into", (unsigned long long)r->cycles, bw);
        if (bw > 0 && r->cycles && links[i]->attainable_ops * slack < (double)r->ops / cycles)
            diff_add(d, "  %s: roofline noc %s: achieved above attainable\n", engine,
                     i ? "out" : "in");
    }
}

/* Invariants of docs/model.md that hold for every run. */
static void check_invariants(const char *engine, const ef_result *r, const ef_nest *n,
                             diffs *d) {
    uint64_t sum = 0;
    for (int i = 0; i < r->stall_count; i++) sum += r->stalls[i].cycles;
    if (sum != r->stall_total)
        diff_add(d, "  %s: stall causes sum to %llu but stall_total is %llu\n", engine,
                 (unsigned long long)sum, (unsigned long long)r->stall_total);
    if (r->cycles != r->compute_cycles + r->stall_total)
        diff_add(d, "  %s: cycles %llu != compute_cycles %llu + stall_total %llu\n", engine,
                 (unsigned long long)r->cycles, (unsigned long long)r->compute_cycles,
                 (unsigned long long)r->stall_total);
    if (r->ops != n->total_ops)
        diff_add(d, "  %s: ops %llu but the Einsum has %llu iteration points\n", engine,
                 (unsigned long long)r->ops, (unsigned long long)n->total_ops);
    uint64_t peak = n->pes * (uint64_t)n->arch->macs_per_cycle;
    if (r->ops > peak * r->cycles)
        diff_add(d, "  %s: utilization > 1: ops %llu > %llu PEs x MACs x %llu cycles\n",
                 engine, (unsigned long long)r->ops, (unsigned long long)peak,
                 (unsigned long long)r->cycles);
    const ef_tensor_counters *o = &r->levels[0].ops[n->out_op];
    uint64_t words = n->workload->tensors[n->einsum->output.tensor].words;
    if (o->reads + words != o->updates)
        diff_add(d, "  %s: outermost level: output reads %llu != updates %llu - %llu words\n",
                 engine, (unsigned long long)o->reads, (unsigned long long)o->updates,
                 (unsigned long long)words);
    check_bandwidth_law(engine, r, n, d);
}

/* ---------- the driver ---------- */

static uint64_t env_u64(const char *name, uint64_t def) {
    const char *s = getenv(name);
    if (!s || !*s) return def;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end) { /* also read outside any test: no ck_assert here */
        fprintf(stderr, "%s=%s is not a number\n", name, s);
        exit(EXIT_FAILURE);
    }
    return (uint64_t)v;
}

static void fail_case(uint64_t seed, const gen_case *c, const char *what,
                      const char *detail) __attribute__((noreturn));
static void fail_case(uint64_t seed, const gen_case *c, const char *what,
                      const char *detail) {
    /* stderr gets everything; Check's message may be truncated */
    fprintf(stderr,
            "differential seed %llu: %s\n%s\n--- arch.yaml ---\n%s--- workload.yaml ---\n"
            "%s--- mapping.yaml ---\n%s",
            (unsigned long long)seed, what, detail, c->arch.buf, c->wl.buf, c->map.buf);
    ck_abort_msg("seed %llu: %s\n%s\n--- arch.yaml ---\n%s--- workload.yaml ---\n%s"
                 "--- mapping.yaml ---\n%s",
                 (unsigned long long)seed, what, detail, c->arch.buf, c->wl.buf,
                 c->map.buf);
}

typedef enum { CASE_RAN, CASE_SKIP_EINSUM, CASE_SKIP_NEST } case_outcome;

static case_outcome run_case(uint64_t seed) {
    gen_case c;
    gen_case_text(seed, &c);
    ut_fx f;
    ut_init(&f);
    ut_build(&f, c.arch.buf, c.wl.buf, c.map.buf);
    if (!f.arch || !f.wspec || !f.mspec) {
        /* the generator writes only well-formed specs */
        char *s = ut_render(&f);
        fail_case(seed, &c, "the generator wrote a spec the loaders reject", s);
        free(s);
    }
    if (!f.w || !f.nest) {
        case_outcome out = !f.w ? CASE_SKIP_EINSUM : CASE_SKIP_NEST;
        if (getenv("EF_DIFF_VERBOSE")) {
            char *s = ut_render(&f);
            fprintf(stderr, "seed %llu skipped:\n%s\n", (unsigned long long)seed, s);
            free(s);
        }
        ut_free(&f);
        return out;
    }
    ef_sim_options step = {.engine = EF_ENGINE_STEP, .fold_model = EF_FOLD_OVERLAP,
                           .check_values = true, .seed = seed};
    ef_sim_options event = step;
    event.engine = EF_ENGINE_EVENT;
    event.check_values = false;
    f.values = ef_values_create(f.w, seed);
    ck_assert_ptr_nonnull(f.values);
    ef_status st_a = EF_OK, st_b = EF_OK;
    ef_result *a = ef_sim_run(f.nest, &step, f.values, f.diags, &st_a);
    ef_result *b = a ? ef_sim_run(f.nest, &event, NULL, f.diags, &st_b) : NULL;
    if (!a || !b || st_a != EF_OK || st_b != EF_OK) {
        char *s = ut_render(&f);
        char what[96];
        snprintf(what, sizeof what, "%s engine failed with status %d",
                 !a || st_a != EF_OK ? "step (with value check)" : "event",
                 (int)(!a || st_a != EF_OK ? st_a : st_b));
        fail_case(seed, &c, what, s);
        free(s);
    }
    if (!a->values_checked)
        fail_case(seed, &c, "the step run did not check values", "");
    diffs d;
    memset(&d, 0, sizeof d);
    compare_results(a, b, &d);
    if (d.count) fail_case(seed, &c, "the step and event engines disagree", d.text);
    check_invariants("step", a, f.nest, &d);
    check_invariants("event", b, f.nest, &d);
    if (d.count) fail_case(seed, &c, "an invariant does not hold", d.text);
    if (getenv("EF_DIFF_PRINT")) {
        char *stalls = ut_stall_list(a);
        printf("=== seed %llu: ops %llu cycles %llu compute %llu skew %llu stalls: %s\n"
               "--- arch.yaml ---\n%s--- workload.yaml ---\n%s--- mapping.yaml ---\n%s",
               (unsigned long long)seed, (unsigned long long)a->ops,
               (unsigned long long)a->cycles, (unsigned long long)a->compute_cycles,
               (unsigned long long)a->skew_cycles, stalls, c.arch.buf, c.wl.buf, c.map.buf);
        free(stalls);
    }
    ef_result_destroy(a);
    ef_result_destroy(b);
    ut_free(&f);
    return CASE_RAN;
}

#define DEFAULT_SEEDS 300

START_TEST(engines_agree) {
    uint64_t first = env_u64("EF_DIFF_FIRST", 0);
    uint64_t count = env_u64("EF_DIFF_SEEDS", DEFAULT_SEEDS);
    ck_assert_uint_gt(count, 0);
    uint64_t ran = 0, skip_einsum = 0, skip_nest = 0;
    for (uint64_t seed = first; seed < first + count; seed++) {
        switch (run_case(seed)) {
        case CASE_RAN: ran++; break;
        case CASE_SKIP_EINSUM: skip_einsum++; break;
        case CASE_SKIP_NEST: skip_nest++; break;
        }
    }
    fprintf(stderr,
            "differential: seeds %llu..%llu: %llu ran, %llu skipped (%llu by the "
            "workload, %llu by the mapping checks)\n",
            (unsigned long long)first, (unsigned long long)(first + count - 1),
            (unsigned long long)ran, (unsigned long long)(skip_einsum + skip_nest),
            (unsigned long long)skip_einsum, (unsigned long long)skip_nest);
    ck_assert_msg(ran * 100 >= count * 85,
                  "only %llu of %llu seeds gave a runnable case (%llu rejected by the "
                  "workload, %llu by the mapping checks): the generator has degraded",
                  (unsigned long long)ran, (unsigned long long)count,
                  (unsigned long long)skip_einsum, (unsigned long long)skip_nest);
}
END_TEST

/* The generator itself must be a pure function of the seed, or a
 * failing seed could not be replayed. */
START_TEST(generator_is_deterministic) {
    for (uint64_t seed = 0; seed < 50; seed++) {
        gen_case *x = malloc(sizeof *x), *y = malloc(sizeof *y);
        ck_assert_ptr_nonnull(x);
        ck_assert_ptr_nonnull(y);
        gen_case_text(seed, x);
        gen_case_text(seed, y);
        ck_assert_str_eq(x->arch.buf, y->arch.buf);
        ck_assert_str_eq(x->wl.buf, y->wl.buf);
        ck_assert_str_eq(x->map.buf, y->map.buf);
        free(x);
        free(y);
    }
}
END_TEST

static Suite *differential_suite(void) {
    Suite *s = suite_create("differential");
    TCase *tc = tcase_create("engines");
    uint64_t count = env_u64("EF_DIFF_SEEDS", DEFAULT_SEEDS);
    /* generous: 300 seeds take seconds, under ASan well under 90 s */
    double timeout = 120.0 + 0.5 * (double)count;
    tcase_set_timeout(tc, timeout);
    tcase_add_test(tc, generator_is_deterministic);
    tcase_add_test(tc, engines_agree);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    check_set_max_msg_size(32768);
    return ut_run_suite(differential_suite());
}
