/* Unit tests of model/dimset: the exact set of stored indices one
 * tensor dimension takes over a tile. Each case has a hand-derived
 * member count, first and last member; every case is also checked
 * member by member against a brute-force enumeration of the tile. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/dimset.h"
#include "unit/unit_util.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define RP 0 /* rank id of p */
#define RR 1 /* rank id of r */

typedef struct {
    ef_dimset s;
    uint64_t *bits;
} ds;

static ef_affine affine(int terms, const int *rank, const int64_t *coef, int64_t constant) {
    ef_affine a;
    memset(&a, 0, sizeof a);
    a.term_count = terms;
    for (int k = 0; k < terms; k++) {
        a.rank[k] = rank[k];
        a.coef[k] = coef[k];
    }
    a.constant = constant;
    return a;
}

static void ds_make(ds *d, const ef_affine *a, const int64_t *lo, const int64_t *hi,
                    int64_t offset, int64_t extent) {
    uint64_t span[EF_MAX_RANKS];
    for (int r = 0; r < EF_MAX_RANKS; r++)
        span[r] = hi[r] > lo[r] ? (uint64_t)(hi[r] - lo[r]) : 1;
    int64_t cap = ef_dimset_capacity(a, span);
    ck_assert_int_ge(cap, 1);
    d->bits = calloc((size_t)(cap + 63) / 64 + 1, sizeof(uint64_t));
    ck_assert_ptr_nonnull(d->bits);
    memset(&d->s, 0, sizeof d->s);
    d->s.bits = d->bits;
    d->s.cap_bits = cap;
    ef_dimset_build(&d->s, a, lo, hi, offset, extent);
}

static void ds_free(ds *d) { free(d->bits); }

/* Brute force: is stored index v = expr(x) - offset for some x in the
 * box, with 0 <= v < extent? */
static bool brute_has(const ef_affine *a, const int64_t *lo, const int64_t *hi,
                      int64_t offset, int64_t extent, int64_t v) {
    if (v < 0 || v >= extent) return false;
    for (int k = 0; k < a->term_count; k++)
        if (hi[a->rank[k]] <= lo[a->rank[k]]) return false;
    int64_t x[EF_MAX_RANKS];
    for (int k = 0; k < a->term_count; k++) x[k] = lo[a->rank[k]];
    for (;;) {
        int64_t e = a->constant - offset;
        for (int k = 0; k < a->term_count; k++) e += a->coef[k] * x[k];
        if (e == v) return true;
        int k = a->term_count - 1;
        for (; k >= 0; k--) {
            if (++x[k] < hi[a->rank[k]]) break;
            x[k] = lo[a->rank[k]];
        }
        if (k < 0) return false;
    }
}

/* ---------- build / count / has / next ---------- */

typedef struct {
    const char *what;
    int terms;
    int rank[2];
    int64_t coef[2], constant;
    int64_t plo, phi, rlo, rhi; /* p in [plo,phi), r in [rlo,rhi) */
    int64_t offset, extent;
    uint64_t count;
    int64_t first, last;        /* -1 when empty */
} build_case;

static const build_case build_cases[] = {
    {"unit stride", 1, {RP}, {1}, 0, 2, 7, 0, 1, 0, 100, 5, 2, 6},
    {"stride 2", 1, {RP}, {2}, 0, 0, 4, 0, 1, 0, 100, 4, 0, 6},
    {"stride 2, later tile", 1, {RP}, {2}, 0, 3, 6, 0, 1, 0, 100, 3, 6, 10},
    {"dilation 2, one p", 2, {RP, RR}, {1, 2}, 0, 0, 1, 0, 3, 0, 100, 3, 0, 4},
    {"dilation 2, two p", 2, {RP, RR}, {1, 2}, 0, 0, 2, 0, 3, 0, 100, 6, 0, 5},
    {"p + r: P+R-1", 2, {RP, RR}, {1, 1}, 0, 0, 4, 0, 3, 0, 100, 6, 0, 5},
    {"2p + r, R=3: 0..8", 2, {RP, RR}, {2, 1}, 0, 0, 4, 0, 3, 0, 100, 9, 0, 8},
    {"2p + r, R=1: only used words", 2, {RP, RR}, {2, 1}, 0, 0, 4, 0, 1, 0, 100, 4, 0, 6},
    {"3p + r, R=2: gaps", 2, {RP, RR}, {3, 1}, 0, 0, 3, 0, 2, 0, 100, 6, 0, 7},
    {"5p + 3r: no collisions", 2, {RP, RR}, {5, 3}, 0, 0, 10, 0, 4, 0, 100, 40, 0, 54},
    {"padding clipped low", 2, {RP, RR}, {1, 1}, 0, 0, 4, 0, 3, 1, 16, 5, 0, 4},
    {"padding clipped high", 2, {RP, RR}, {1, 1}, 0, 12, 16, 0, 3, 1, 16, 5, 11, 15},
    {"padding clipped both ends", 2, {RP, RR}, {1, 1}, 0, 0, 16, 0, 3, 1, 16, 16, 0, 15},
    {"strided, padding low", 2, {RP, RR}, {2, 1}, 0, 0, 2, 0, 3, 2, 29, 3, 0, 2},
    {"strided, padding high", 2, {RP, RR}, {2, 1}, 0, 14, 16, 0, 3, 2, 29, 3, 26, 28},
    {"unit stride, padding only", 1, {RP}, {1}, 0, 0, 1, 0, 1, 1, 16, 0, -1, -1},
    {"empty p range", 2, {RP, RR}, {1, 1}, 0, 3, 3, 0, 3, 0, 100, 0, -1, -1},
    {"empty r range", 2, {RP, RR}, {2, 1}, 0, 0, 4, 2, 2, 0, 100, 0, -1, -1},
    {"constant", 0, {0}, {0}, 5, 0, 1, 0, 1, 0, 10, 1, 5, 5},
    {"constant shifted by offset", 0, {0}, {0}, 5, 0, 1, 0, 1, 2, 10, 1, 3, 3},
    {"constant outside", 0, {0}, {0}, 12, 0, 1, 0, 1, 0, 10, 0, -1, -1},
    {"negative coefficient", 1, {RP}, {-1}, 10, 0, 3, 0, 1, 0, 100, 3, 8, 10},
    {"p - r with offset -2", 2, {RP, RR}, {1, -1}, 0, 0, 2, 0, 3, -2, 18, 4, 0, 3},
    {"wide: 130 words", 1, {RP}, {1}, 0, 0, 130, 0, 1, 0, 1000, 130, 0, 129},
    {"wide stride 2", 1, {RP}, {2}, 0, 0, 100, 0, 1, 0, 1000, 100, 0, 198},
    {"wide p + 64r", 2, {RP, RR}, {1, 64}, 0, 0, 3, 0, 3, 0, 1000, 9, 0, 130},
};

START_TEST(build_count_has_next) {
    const build_case *c = &build_cases[_i];
    ef_affine a = affine(c->terms, c->rank, c->coef, c->constant);
    int64_t lo[EF_MAX_RANKS] = {0}, hi[EF_MAX_RANKS] = {0};
    lo[RP] = c->plo, hi[RP] = c->phi, lo[RR] = c->rlo, hi[RR] = c->rhi;
    ds d;
    ds_make(&d, &a, lo, hi, c->offset, c->extent);
    ck_assert_msg(d.s.count == c->count, "%s: count %llu, expected %llu", c->what,
                  (unsigned long long)d.s.count, (unsigned long long)c->count);
    /* membership against the brute force over a window around the
     * extent; first/last and next() from the same table */
    ck_assert_int_eq(ef_dimset_next(&d.s, INT64_MIN / 4), c->first);
    const int64_t from = -70, to = c->extent + 70;
    bool *member = calloc((size_t)(to - from), sizeof(bool));
    ck_assert_ptr_nonnull(member);
    int64_t last = -1, members = 0;
    for (int64_t v = from; v < to; v++) {
        bool want = brute_has(&a, lo, hi, c->offset, c->extent, v);
        member[v - from] = want;
        ck_assert_msg(ef_dimset_has(&d.s, v) == want, "%s: has(%lld) = %d", c->what,
                      (long long)v, !want);
        if (want) {
            last = v;
            members++;
        }
    }
    int64_t nx = -1; /* smallest member >= v, scanning down */
    for (int64_t v = to - 1; v >= from; v--) {
        if (member[v - from]) nx = v;
        ck_assert_msg(ef_dimset_next(&d.s, v) == nx, "%s: next(%lld) = %lld, want %lld",
                      c->what, (long long)v, (long long)ef_dimset_next(&d.s, v),
                      (long long)nx);
    }
    free(member);
    ck_assert_int_eq(last, c->last);
    ck_assert_int_eq(members, (int64_t)c->count);
    ds_free(&d);
}
END_TEST

/* The capacity covers every index a tile of the given spans can reach:
 * 1 + sum |coef| * (span - 1). */
static const struct {
    int terms;
    int64_t coef[2];
    uint64_t sp, sr;
    int64_t cap;
} cap_cases[] = {
    {1, {1}, 16, 1, 16},    {1, {2}, 4, 1, 7},    {2, {1, 1}, 4, 3, 6},
    {2, {2, 1}, 4, 3, 9},   {2, {1, -1}, 2, 3, 4}, {2, {5, 3}, 10, 4, 55},
    {0, {0}, 8, 8, 1},
};

START_TEST(capacity) {
    int rank[2] = {RP, RR};
    ef_affine a = affine(cap_cases[_i].terms, rank, cap_cases[_i].coef, 3);
    uint64_t span[EF_MAX_RANKS];
    for (int r = 0; r < EF_MAX_RANKS; r++) span[r] = 1;
    span[RP] = cap_cases[_i].sp;
    span[RR] = cap_cases[_i].sr;
    ck_assert_int_eq(ef_dimset_capacity(&a, span), cap_cases[_i].cap);
}
END_TEST

/* ---------- intersections (sliding-window reuse) ---------- */

typedef struct {
    const char *what;
    int terms;
    int64_t coef[2];
    int64_t a_plo, a_phi, a_rlo, a_rhi; /* tile a */
    int64_t b_plo, b_phi, b_rlo, b_rhi; /* tile b */
    int64_t offset, extent;
    uint64_t overlap;
} isect_case;

static const isect_case isect_cases[] = {
    /* p + r, tile P=4, R=3 (6 words) */
    {"window moves by 1: (P+R-1) - 1", 2, {1, 1}, 0, 4, 0, 3, 1, 5, 0, 3, 0, 100, 5},
    {"window moves by P: R-1", 2, {1, 1}, 0, 4, 0, 3, 4, 8, 0, 3, 0, 100, 2},
    {"window moves by P+R-1: none", 2, {1, 1}, 0, 4, 0, 3, 6, 10, 0, 3, 0, 100, 0},
    {"window moves back", 2, {1, 1}, 4, 8, 0, 3, 0, 4, 0, 3, 0, 100, 2},
    /* R=1 tiles of P=8 sliding by one p: P-1 */
    {"P tile slides by 1: P-1", 2, {1, 1}, 0, 8, 0, 1, 1, 9, 0, 1, 0, 100, 7},
    /* ws: P=16 tile, r steps 0 -> 1: P-1 */
    {"ws r step: P-1", 2, {1, 1}, 0, 16, 0, 1, 0, 16, 1, 2, 0, 100, 15},
    /* os: R=3 tile, p steps by 1: R-1 */
    {"os p step: R-1", 2, {1, 1}, 5, 6, 0, 3, 6, 7, 0, 3, 0, 100, 2},
    /* strided: {0,2,4,6} vs {2,4,6,8} */
    {"stride 2 slides by 1", 2, {2, 1}, 0, 4, 0, 1, 1, 5, 0, 1, 0, 100, 3},
    /* stride 2, r steps by 1: even vs odd words */
    {"stride 2, r step: disjoint", 2, {2, 1}, 0, 4, 0, 1, 0, 4, 1, 2, 0, 100, 0},
    /* stride 2 with R=3: 0..8 vs 2..10 */
    {"stride 2, R=3, p step", 2, {2, 1}, 0, 4, 0, 3, 1, 5, 0, 3, 0, 100, 7},
    /* dilation 2: {0,2,4}+{0,1} = 0..5 vs p+1: 1..6 */
    {"dilated window", 2, {1, 2}, 0, 2, 0, 3, 1, 3, 0, 3, 0, 100, 5},
    /* padding: stored = p + r - 1 clipped to [0,16): tiles p 0..3, 1..4 */
    {"clipped windows", 2, {1, 1}, 0, 4, 0, 3, 1, 5, 0, 3, 1, 16, 5},
    /* wide, across 64-bit words: [0,100) vs [37,150) */
    {"wide", 1, {1}, 0, 100, 0, 1, 37, 150, 0, 1, 0, 1000, 63},
    {"empty tile", 2, {1, 1}, 0, 4, 0, 3, 2, 2, 0, 3, 0, 100, 0},
};

START_TEST(intersect) {
    const isect_case *c = &isect_cases[_i];
    int rank[2] = {RP, RR};
    ef_affine a = affine(c->terms, rank, c->coef, 0);
    int64_t alo[EF_MAX_RANKS] = {0}, ahi[EF_MAX_RANKS] = {0};
    int64_t blo[EF_MAX_RANKS] = {0}, bhi[EF_MAX_RANKS] = {0};
    alo[RP] = c->a_plo, ahi[RP] = c->a_phi, alo[RR] = c->a_rlo, ahi[RR] = c->a_rhi;
    blo[RP] = c->b_plo, bhi[RP] = c->b_phi, blo[RR] = c->b_rlo, bhi[RR] = c->b_rhi;
    ds x, y;
    ds_make(&x, &a, alo, ahi, c->offset, c->extent);
    ds_make(&y, &a, blo, bhi, c->offset, c->extent);
    uint64_t brute = 0;
    for (int64_t v = 0; v < c->extent; v++)
        brute += brute_has(&a, alo, ahi, c->offset, c->extent, v) &&
                 brute_has(&a, blo, bhi, c->offset, c->extent, v);
    ck_assert_uint_eq(brute, c->overlap); /* the hand derivation itself */
    ck_assert_msg(ef_dimset_intersect(&x.s, &y.s) == c->overlap, "%s: %llu, expected %llu",
                  c->what, (unsigned long long)ef_dimset_intersect(&x.s, &y.s),
                  (unsigned long long)c->overlap);
    ck_assert_uint_eq(ef_dimset_intersect(&y.s, &x.s), c->overlap);
    ck_assert_uint_eq(ef_dimset_intersect(&x.s, &x.s), x.s.count);
    ds_free(&x);
    ds_free(&y);
}
END_TEST

/* Rebuilding into the same storage must forget the old members. */
START_TEST(rebuild_reuses_storage) {
    int rank[2] = {RP, RR};
    int64_t coef[2] = {1, 1};
    ef_affine a = affine(2, rank, coef, 0);
    int64_t lo[EF_MAX_RANKS] = {0}, hi[EF_MAX_RANKS] = {0};
    hi[RP] = 4, hi[RR] = 3;
    ds d;
    ds_make(&d, &a, lo, hi, 0, 100);
    ck_assert_uint_eq(d.s.count, 6);
    lo[RP] = 10, hi[RP] = 14;
    ef_dimset_build(&d.s, &a, lo, hi, 0, 100);
    ck_assert_uint_eq(d.s.count, 6);
    ck_assert(!ef_dimset_has(&d.s, 0));
    ck_assert(!ef_dimset_has(&d.s, 5));
    ck_assert(ef_dimset_has(&d.s, 10));
    ck_assert(ef_dimset_has(&d.s, 15));
    ck_assert_int_eq(ef_dimset_next(&d.s, 0), 10);
    ck_assert_int_eq(ef_dimset_next(&d.s, 16), -1);
    ds_free(&d);
}
END_TEST

static Suite *dimset_suite(void) {
    Suite *s = suite_create("dimset");
    TCase *tc = tcase_create("dimset");
    tcase_add_loop_test(tc, build_count_has_next, 0, (int)LEN(build_cases));
    tcase_add_loop_test(tc, capacity, 0, (int)LEN(cap_cases));
    tcase_add_loop_test(tc, intersect, 0, (int)LEN(isect_cases));
    tcase_add_test(tc, rebuild_reuses_storage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return ut_run_suite(dimset_suite());
}
