/* Unit tests of the sim stage's generation store (src/sim/gens.c):
 * runs with patterns must give back, generation by generation, exactly
 * what was pushed and copied. Random sequences of pushes and block
 * copies (as pass 1 makes them) over a small alphabet of shapes, so
 * that runs, patterns, broken patterns and re-split tails all occur,
 * are replayed into a plain array and every lookup is compared with
 * it: shape, first step, parent, run lookups from any hint, and the
 * count of generations starting before a step.
 *
 * Seeds: 0..399 by default; EF_GENS_SEEDS=N runs N. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine.h"
#include "unit/unit_util.h"

typedef struct {
    uint64_t first_step, steps, parent, fill, drain;
    uint64_t stream;
} ref_gen;

typedef struct {
    ref_gen *g;
    uint64_t n, cap;
} ref_list;

/* Check's asserts cost a system call each in fork mode: test first. */
#define EXPECT(cond) \
    do {                \
        if (!(cond)) ck_assert_msg(cond, "%s", #cond); \
    } while (0)
#define EXPECT_EQ(a, b) \
    do {                                                                                 \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                 \
        if (a_ != b_)                                                                    \
            ck_assert_msg(0, "%s == %s: %llu != %llu", #a, #b, (unsigned long long)a_, \
                          (unsigned long long)b_);                                       \
    } while (0)

static uint64_t next_rand(uint64_t *s) {
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t pick(uint64_t *s, uint64_t n) { return next_rand(s) % n; }

static void ref_add(ref_list *r, ref_gen g) {
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->g = realloc(r->g, sizeof *r->g * r->cap);
        ck_assert_ptr_nonnull(r->g);
    }
    r->g[r->n++] = g;
}

/* A fill cost from a small alphabet: few kinds, so patterns form. */
static ef_gen_cost some_cost(uint64_t *s, uint64_t kinds) {
    uint64_t k = pick(s, kinds);
    ef_gen_cost c = {.fill = (uint32_t)(10 + k), .drain = pick(s, 2) ? 0 : (uint32_t)(3 + pick(s, 2)),
                     .stream = (uint32_t)(k % 3)};
    return c;
}

static void check_against(const ef_gen_list *gl, const ref_list *r, uint64_t *s) {
    EXPECT_EQ(gl->count, r->n);
    EXPECT(!gl->has_open);
    uint64_t next = 0;
    for (uint64_t i = 0; i < gl->nruns; i++) {
        const ef_gen_run *run = &gl->runs[i];
        EXPECT_EQ(run->first_gen, next);
        EXPECT(run->count >= run->cycle_gens);
        EXPECT(run->period >= 1 && run->period <= EF_GEN_PERIOD_MAX);
        uint64_t cyc = 0, gens = 0;
        for (uint64_t p = 0; p < run->period; p++) {
            const ef_gen_shape *sh = &gl->shapes[run->shape_at + p];
            EXPECT_EQ(sh->step_off, cyc);
            EXPECT_EQ(sh->gen_off, gens);
            EXPECT(sh->times >= 1);
            cyc += sh->times * sh->steps;
            gens += sh->times;
        }
        EXPECT_EQ(cyc, run->cycle_steps);
        EXPECT_EQ(gens, run->cycle_gens);
        /* generations under each parent make whole passes */
        if (run->per_parent) {
            EXPECT_EQ(run->per_parent % run->cycle_gens, 0);
            EXPECT(run->count > run->per_parent);
        }
        next += run->count;
    }
    EXPECT_EQ(next, r->n);
    uint64_t hint = 0;
    for (uint64_t g = 0; g < r->n; g++) {
        if (pick(s, 8) == 0) hint = pick(s, gl->nruns + 2); /* stale hints too */
        const ef_gen_run *run = ef_gens_run(gl, g, &hint);
        EXPECT(g >= run->first_gen && g < run->first_gen + run->count);
        const ef_gen_shape *x = ef_gen_shape_of(gl, run, g);
        const ref_gen *w = &r->g[g];
        EXPECT_EQ(ef_gen_first_step(gl, run, g), w->first_step);
        EXPECT_EQ(x->steps, w->steps);
        EXPECT_EQ(ef_gen_parent(run, g), w->parent);
        EXPECT_EQ(x->fill, w->fill);
        EXPECT_EQ(x->drain, w->drain);
        EXPECT_EQ(x->stream, w->stream);
    }
    uint64_t end = r->n ? r->g[r->n - 1].first_step + r->g[r->n - 1].steps : 0;
    uint64_t k = 0;
    for (uint64_t step = 0; step <= end + 1; step++) {
        while (k < r->n && r->g[k].first_step < step) k++;
        if (pick(s, 4) == 0) hint = pick(s, gl->nruns + 1);
        EXPECT_EQ(ef_gens_before_step(gl, step, &hint), k);
    }
}

static void one_seed(uint64_t seed) {
    uint64_t s = seed * UINT64_C(0x9E3779B97F4A7C15) + 1;
    ef_gen_list gl;
    memset(&gl, 0, sizeof gl);
    gl.limit = UINT64_C(1) << 40;
    ref_list r = {0};
    uint64_t step = 0, parent = 0, kinds = 1 + pick(&s, 4), ops = 20 + pick(&s, 200);
    uint64_t steps_kinds = 1 + pick(&s, 3), lag = 1 + pick(&s, 9);
    for (uint64_t op = 0; op < ops; op++) {
        bool copy = r.n >= 2 && r.n < 20000 && pick(&s, 5) == 0;
        if (!copy) {
            ef_gen_cost c = some_cost(&s, kinds);
            if (r.n > lag && pick(&s, 4)) {
                /* mostly periodic with period lag, now and then broken */
                const ref_gen *p = &r.g[r.n - lag];
                c.fill = (uint32_t)p->fill;
                c.stream = (uint32_t)p->stream;
            }
            if (pick(&s, 12) == 0) parent++;
            if (r.n) {
                ref_gen *last = &r.g[r.n - 1];
                last->steps = step - last->first_step;
                last->drain = c.drain;
            }
            EXPECT_EQ(ef_gens_push(&gl, step, parent, &c), EF_OK);
            ref_add(&r, (ref_gen){.first_step = step, .parent = parent, .fill = c.fill,
                                  .stream = c.stream});
            step += r.n > lag && pick(&s, 4) ? r.g[r.n - lag].steps ? r.g[r.n - lag].steps
                                                                  : 1 + pick(&s, steps_kinds)
                                           : 1 + pick(&s, steps_kinds);
            continue;
        }
        /* a block of the last generations, copied k times as pass 1 does:
         * same parent, or parents moving on by a fixed shift per copy */
        uint64_t back = r.n - 1 < 40 ? r.n - 1 : 40;
        uint64_t from = r.n - 1 - pick(&s, back), k = 1 + pick(&s, 6);
        uint64_t shift = pick(&s, 3) == 0 ? 1 + pick(&s, 2) : 0;
        ref_gen *last = &r.g[r.n - 1];
        last->steps = step - last->first_step;
        last->drain = r.g[from - 1].drain;
        uint64_t n = r.n - from, block_steps = step - r.g[from].first_step;
        EXPECT_EQ(ef_gens_repeat(&gl, from, k, block_steps, shift, step), EF_OK);
        for (uint64_t i = 1; i <= k; i++)
            for (uint64_t q = 0; q < n; q++) {
                ref_gen g = r.g[from + q];
                g.first_step += i * block_steps;
                g.parent += i * shift;
                ref_add(&r, g);
            }
        step += k * block_steps;
        parent = r.g[r.n - 1].parent;
    }
    uint64_t drain = pick(&s, 3);
    r.g[r.n - 1].steps = step - r.g[r.n - 1].first_step;
    r.g[r.n - 1].drain = drain;
    EXPECT_EQ(ef_gens_close(&gl, step, (uint32_t)drain), EF_OK);
    check_against(&gl, &r, &s);
    free(gl.runs);
    free(gl.shapes);
    free(r.g);
}

/* Pushes one generation into both lists. */
static void push_both(ef_gen_list *gl, ref_list *r, uint64_t step, uint64_t parent,
                      ef_gen_cost c) {
    if (r->n) {
        ref_gen *last = &r->g[r->n - 1];
        last->steps = step - last->first_step;
        last->drain = c.drain;
    }
    EXPECT_EQ(ef_gens_push(gl, step, parent, &c), EF_OK);
    ref_add(r, (ref_gen){.first_step = step, .parent = parent, .fill = c.fill,
                         .stream = c.stream});
}

/* A level under a parent that changes every m generations: each
 * parent's first generation fills (A), the others do not (B), now and
 * then one is different; blocks of whole parents are copied with their
 * parents moving on, as pass 1 copies a repeated loop's block. The
 * store must keep these in few runs and give every generation back. */
static void one_parent_seed(uint64_t seed) {
    uint64_t s = seed * UINT64_C(0xC2B2AE3D27D4EB4F) + 7;
    ef_gen_list gl;
    memset(&gl, 0, sizeof gl);
    gl.limit = UINT64_C(1) << 40;
    ref_list r = {0};
    uint64_t m = 1 + pick(&s, 40), step = 0, parent = 0, parents = 3 + pick(&s, 30);
    ef_gen_cost a = {.fill = 7, .drain = 2, .stream = 1}, b = {.fill = 0, .drain = 0, .stream = 1};
    for (uint64_t p = 0; p < parents; p++) {
        if (p && pick(&s, 4) == 0 && r.n < 20000) {
            /* the last few parents' blocks, copied k times */
            uint64_t whole = r.n / m, back = 1 + pick(&s, whole < 3 ? whole : 3);
            uint64_t k = 1 + pick(&s, 50);
            if (back * m >= r.n) continue; /* the block must leave one before it */
            uint64_t from = r.n - back * m;
            ref_gen *last = &r.g[r.n - 1];
            last->steps = step - last->first_step;
            last->drain = r.g[from - 1].drain;
            uint64_t n = r.n - from, block_steps = step - r.g[from].first_step;
            EXPECT_EQ(ef_gens_repeat(&gl, from, k, block_steps, back, step), EF_OK);
            for (uint64_t i = 1; i <= k; i++)
                for (uint64_t q = 0; q < n; q++) {
                    ref_gen g = r.g[from + q];
                    g.first_step += i * block_steps;
                    g.parent += i * back;
                    ref_add(&r, g);
                }
            step += k * block_steps;
            parent = r.g[r.n - 1].parent + 1;
            continue;
        }
        for (uint64_t q = 0; q < m; q++) {
            ef_gen_cost c = q ? b : a;
            if (pick(&s, 50) == 0) c.fill = 9; /* now and then one differs */
            push_both(&gl, &r, step, parent, c);
            step += 1 + (q == 0);
        }
        parent++;
    }
    r.g[r.n - 1].steps = step - r.g[r.n - 1].first_step;
    r.g[r.n - 1].drain = 0;
    EXPECT_EQ(ef_gens_close(&gl, step, 0), EF_OK);
    check_against(&gl, &r, &s);
    free(gl.runs);
    free(gl.shapes);
    free(r.g);
}

START_TEST(parent_blocks) {
    const char *env = getenv("EF_GENS_SEEDS");
    uint64_t seeds = env ? strtoull(env, NULL, 10) : 400;
    for (uint64_t seed = 0; seed < seeds; seed++) one_parent_seed(seed);
}
END_TEST

/* Every tile of a level that changes at every step of its parent's,
 * under many parents, costing alike: one run, whatever the counts. */
START_TEST(many_parents_one_run) {
    ef_gen_list gl;
    memset(&gl, 0, sizeof gl);
    gl.limit = UINT64_C(1) << 40;
    uint64_t step = 0;
    for (uint64_t p = 0; p < 300; p++)
        for (uint64_t q = 0; q < 64; q++) {
            ef_gen_cost c = {.fill = q == 0 ? 3 : 0, .drain = q == 0 ? 4 : 0};
            ck_assert_int_eq(ef_gens_push(&gl, step, p, &c), EF_OK);
            step += 1;
        }
    /* and a million parents more as copies of the last one's block, as
     * pass 1 counts a loop that provably repeats */
    ck_assert_int_eq(ef_gens_repeat(&gl, gl.count - 64, 1000000, 64, 1, step), EF_OK);
    ck_assert_int_eq(ef_gens_close(&gl, step + 1000000 * 64, 0), EF_OK);
    ck_assert_uint_eq(gl.count, 1000300 * 64);
    ck_assert_uint_le(gl.nruns, 3);
    uint64_t hint = 0;
    const ef_gen_run *r = ef_gens_run(&gl, 777777 * 64 + 5, &hint);
    ck_assert_uint_eq(ef_gen_parent(r, 777777 * 64 + 5), 777777);
    ck_assert_uint_eq(ef_gen_first_step(&gl, r, 777777 * 64 + 5), 777777 * 64 + 5);
    free(gl.runs);
    free(gl.shapes);
}
END_TEST

/* Copies of a block that starts and ends inside parents, parents moving
 * on by six per copy: three parents of eight generations of shape A,
 * three of shape B, over and over. Each copy comes in as pieces that
 * begin half-way through a parent; the store must line them up with the
 * parents again, one run per stretch of one shape (two per copy), not a
 * run per piece of a parent or per generation. */
START_TEST(copies_across_parents_one_run) {
    ef_gen_list gl;
    memset(&gl, 0, sizeof gl);
    gl.limit = UINT64_C(1) << 40;
    ef_gen_cost a = {.fill = 5, .stream = 2}, b = {.fill = 6, .stream = 2};
    uint64_t step = 0, k = 200;
    for (uint64_t g = 0; g < 52; g++, step++)
        ck_assert_int_eq(ef_gens_push(&gl, step, g / 8, g / 8 % 6 < 3 ? &a : &b), EF_OK);
    ck_assert_int_eq(ef_gens_repeat(&gl, 4, k, 48, 6, step), EF_OK);
    ck_assert_int_eq(ef_gens_close(&gl, step + k * 48, 0), EF_OK);
    ck_assert_uint_eq(gl.count, 52 + k * 48);
    ck_assert_uint_le(gl.nruns, 2 * k + 4);
    uint64_t hint = 0;
    for (uint64_t g = 0; g < gl.count; g++) {
        const ef_gen_run *r = ef_gens_run(&gl, g, &hint);
        ck_assert_uint_eq(ef_gen_parent(r, g), g / 8);
        ck_assert_uint_eq(ef_gen_first_step(&gl, r, g), g);
        ck_assert_uint_eq(ef_gen_shape_of(&gl, r, g)->fill, g / 8 % 6 < 3 ? 5 : 6);
    }
    free(gl.runs);
    free(gl.shapes);
}
END_TEST

/* Tiles whose first and last generations cost alike (A, then B eleven
 * times, then A again: a clipped edge at both ends of a row), row after
 * row. A greedy pattern takes the second A for the start of a new pass
 * and is wrong one generation later; the pass made so far joins the
 * pattern instead, which settles on A, B x 11, A: one run. */
START_TEST(pattern_unrolls) {
    ef_gen_list gl;
    memset(&gl, 0, sizeof gl);
    gl.limit = UINT64_C(1) << 40;
    ef_gen_cost a = {.fill = 1, .stream = 4}, b = {.fill = 1, .stream = 5};
    uint64_t step = 0;
    for (int row = 0; row < 50; row++)
        for (int q = 0; q < 13; q++, step++)
            ck_assert_int_eq(ef_gens_push(&gl, step, 0, q == 0 || q == 12 ? &a : &b), EF_OK);
    ck_assert_int_eq(ef_gens_close(&gl, step, 0), EF_OK);
    ck_assert_uint_eq(gl.count, 650);
    ck_assert_uint_le(gl.nruns, 2);
    uint64_t hint = 0;
    for (uint64_t g = 0; g < gl.count; g++) {
        const ef_gen_run *r = ef_gens_run(&gl, g, &hint);
        ck_assert_uint_eq(ef_gen_shape_of(&gl, r, g)->stream, g % 13 == 0 || g % 13 == 12 ? 4 : 5);
        ck_assert_uint_eq(ef_gen_first_step(&gl, r, g), g);
    }
    free(gl.runs);
    free(gl.shapes);
}
END_TEST

START_TEST(random_sequences) {
    const char *env = getenv("EF_GENS_SEEDS");
    uint64_t seeds = env ? strtoull(env, NULL, 10) : 400;
    for (uint64_t seed = 0; seed < seeds; seed++) one_seed(seed);
}
END_TEST

/* A level whose tiles alternate: one run, whatever the length. */
START_TEST(alternating_is_one_run) {
    ef_gen_list gl;
    memset(&gl, 0, sizeof gl);
    gl.limit = 1000;
    uint64_t step = 0;
    for (int i = 0; i < 600; i++) {
        ef_gen_cost c = {.fill = i % 3 == 0 ? 26 : 30};
        ck_assert_int_eq(ef_gens_push(&gl, step, 0, &c), EF_OK);
        step += i % 2 ? 21 : 28;
    }
    ck_assert_int_eq(ef_gens_close(&gl, step, 0), EF_OK);
    ck_assert_uint_eq(gl.count, 600);
    ck_assert_uint_le(gl.nruns, 2);
    free(gl.runs);
    free(gl.shapes);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("gens");
    TCase *tc = tcase_create("gens");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, random_sequences);
    tcase_add_test(tc, alternating_is_one_run);
    tcase_add_test(tc, parent_blocks);
    tcase_add_test(tc, many_parents_one_run);
    tcase_add_test(tc, copies_across_parents_one_run);
    tcase_add_test(tc, pattern_unrolls);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return ut_run_suite(suite());
}
