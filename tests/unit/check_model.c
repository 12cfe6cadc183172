/* Unit tests of the model stage: which mappings are legal, and the
 * nest a legal one builds — loop order and mixed-radix strides, tile
 * spans and footprints per level, keep/bypass and the parent of each
 * operand. Illegal mappings must give exactly one diagnostic, located
 * at the mapping line that breaks the rule (docs/spec.md, "Mapping
 * semantics"). Expected values are worked out by hand in comments. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/timing.h"
#include "unit/unit_util.h"


/* MainMemory -> Buffer (capacity and double buffering given), 1 PE
 * unless rows/cols say otherwise. */
static char *arch2(const char *capacity, bool db, int rows) {
    return ut_fmt("name: two\n"
               "pe_array: {rows: %d, cols: 1}\n"
               "levels:\n"
               "  - name: MainMemory\n"
               "    kind: sram\n"
               "  - name: Buffer\n"
               "    kind: regfile\n"
               "    capacity: %s\n"
               "    double_buffer: %s\n",
               rows, capacity, db ? "true" : "false");
}

/* DRAM -> GLB -> RF (per PE), 2 x 2 PEs. */
static char *arch3(bool reduction) {
    return ut_fmt("name: three\n"
               "pe_array: {rows: 2, cols: 2}\n"
               "levels:\n"
               "  - name: DRAM\n"
               "    kind: dram\n"
               "  - name: GLB\n"
               "    kind: sram\n"
               "  - name: RF\n"
               "    kind: regfile\n"
               "    per_pe: true\n"
               "noc:\n"
               "  - {from: GLB, to: RF, reduction: %s}\n",
               reduction ? "true" : "false");
}

static char *conv(int P, int R, int bits) {
    return ut_fmt("name: conv1d\n"
               "einsums:\n"
               "  - \"O[p] += I[p+r] * W[r]\"\n"
               "ranks: {P: %d, R: %d}\n"
               "default_precision: %d\n",
               P, R, bits);
}

/* 1-based line of the first line of text containing token. */
static int line_of(const char *text, const char *token) {
    const char *at = strstr(text, token);
    ck_assert_msg(at != NULL, "no %s in the mapping", token);
    int line = 1;
    for (const char *c = text; c < at; c++) line += *c == '\n';
    return line;
}

/* Builds; the strings are freed. */
static ef_nest *build(ut_fx *f, char *arch, char *wl, char *map) {
    ef_nest *n = ut_build(f, arch, wl, map);
    free(arch);
    free(wl);
    free(map);
    return n;
}

static ef_nest *build_ok(ut_fx *f, char *arch, char *wl, char *map) {
    ef_nest *n = build(f, arch, wl, map);
    if (!n) {
        char *s = ut_render(f);
        ck_abort_msg("the mapping should be legal, got:\n%s", s);
        free(s);
    }
    return n;
}

/* The mapping must be rejected with exactly one diagnostic in the
 * mapping file at line `line`, whose message contains `part`. */
static void expect_reject(ut_fx *f, char *arch, char *wl, char *map, const char *token,
                          const char *part) {
    int line = line_of(map, token);
    ef_nest *n = build(f, arch, wl, map);
    char *all = ut_render(f);
    ck_assert_msg(n == NULL, "the mapping should be rejected");
    ck_assert_ptr_nonnull(f->arch);
    ck_assert_ptr_nonnull(f->w);
    ck_assert_ptr_nonnull(f->mspec);
    ck_assert_msg(f->diags->count == 1, "%zu diagnostics, expected 1:\n%s",
                  f->diags->count, all);
    const ef_diag *d = &f->diags->items[0];
    ck_assert_msg(strstr(d->message, part) != NULL, "message lacks \"%s\":\n%s", part, all);
    ck_assert_msg(strcmp(d->file, f->mapping_path) == 0 && d->line == line,
                  "expected the diagnostic at the mapping's line %d (%s), got "
                  "%s:%d:\n%s", line, token,
                  strcmp(d->file, f->mapping_path) == 0 ? "the mapping" : d->file,
                  d->line, all);
    free(all);
}

/* ---------- loops, strides, tiles ---------- */

typedef struct {
    const char *level;
    const char *rank;
    uint64_t factor, stride;
    ef_loop_kind kind;
} want_loop;

typedef struct {
    const char *what;
    int arch;                 /* 2 or 3 levels                           */
    int P, R;
    const char *map;
    int loop_count;
    want_loop loops[6];
    /* tile spans (P, R) and footprints (I, W, O) per level             */
    uint64_t span[3][2], words[3][3];
} nest_case;

static const nest_case nest_cases[] = {
    /* P = 4 x 4: the inner P loop steps by 1, the outer by 4 */
    {"two levels, P split", 2, 16, 3,
     "mapping:\n"
     "  - level: MainMemory\n    temporal: [P: 4]\n"
     "  - level: Buffer\n    temporal: [P: 4, R: 3]\n",
     3,
     {{"MainMemory", "P", 4, 4, EF_LOOP_TEMPORAL},
      {"Buffer", "P", 4, 1, EF_LOOP_TEMPORAL},
      {"Buffer", "R", 3, 1, EF_LOOP_TEMPORAL}},
     /* MainMemory: whole problem, I 18, W 3, O 16;
      * Buffer: P 4, R 3: I 4+3-1 = 6, W 3, O 4 */
     {{16, 3}, {4, 3}}, {{18, 3, 16}, {6, 3, 4}}},
    /* P = 2 (DRAM) x 2 (rows) x 4 (RF): strides 8, 4, 1; nest order is
     * DRAM, GLB temporal, GLB rows, RF */
    {"three levels, spatial P", 3, 16, 3,
     "mapping:\n"
     "  - level: DRAM\n    temporal: [P: 2]\n"
     "  - level: GLB\n    temporal: [R: 3]\n    spatial: {rows: [P: 2]}\n"
     "  - level: RF\n    temporal: [P: 4]\n",
     4,
     {{"DRAM", "P", 2, 8, EF_LOOP_TEMPORAL},
      {"GLB", "R", 3, 1, EF_LOOP_TEMPORAL},
      {"GLB", "P", 2, 4, EF_LOOP_ROWS},
      {"RF", "P", 4, 1, EF_LOOP_TEMPORAL}},
     /* GLB: R 3, P 2*4 = 8: I 10, W 3, O 8; RF: P 4, R 1: I 4, W 1, O 4 */
     {{16, 3}, {8, 3}, {4, 1}}, {{18, 3, 16}, {10, 3, 8}, {4, 1, 4}}},
    /* a spatial cols loop between temporal ones: P = 2*2*2 */
    {"cols spatial", 3, 8, 3,
     "mapping:\n"
     "  - level: DRAM\n    temporal: [P: 2, R: 3]\n"
     "  - level: GLB\n    spatial: {cols: [P: 2]}\n"
     "  - level: RF\n    temporal: [P: 2]\n",
     4,
     {{"DRAM", "P", 2, 4, EF_LOOP_TEMPORAL},
      {"DRAM", "R", 3, 1, EF_LOOP_TEMPORAL},
      {"GLB", "P", 2, 2, EF_LOOP_COLS},
      {"RF", "P", 2, 1, EF_LOOP_TEMPORAL}},
     /* GLB: P 4, R 1: I 4, W 1, O 4; RF: P 2: I 2, W 1, O 2 */
     {{8, 3}, {4, 1}, {2, 1}}, {{10, 3, 8}, {4, 1, 4}, {2, 1, 2}}},
    /* imperfect: P = 7 as 2 x 4, the Buffer tile is the full 4 */
    {"imperfect P = 7", 2, 7, 3,
     "mapping:\n"
     "  - level: MainMemory\n    temporal: [P: 2]\n"
     "  - level: Buffer\n    temporal: [P: 4, R: 3]\n",
     3,
     {{"MainMemory", "P", 2, 4, EF_LOOP_TEMPORAL},
      {"Buffer", "P", 4, 1, EF_LOOP_TEMPORAL},
      {"Buffer", "R", 3, 1, EF_LOOP_TEMPORAL}},
     {{7, 3}, {4, 3}}, {{9, 3, 7}, {6, 3, 4}}},
    /* a rank split over rows and cols and RF */
    {"three P loops at one level", 3, 16, 1,
     "mapping:\n"
     "  - level: DRAM\n    temporal: [P: 2]\n"
     "  - level: GLB\n    spatial: {rows: [P: 2], cols: [P: 2]}\n"
     "  - level: RF\n    temporal: [P: 2]\n",
     4,
     {{"DRAM", "P", 2, 8, EF_LOOP_TEMPORAL},
      {"GLB", "P", 2, 4, EF_LOOP_ROWS},
      {"GLB", "P", 2, 2, EF_LOOP_COLS},
      {"RF", "P", 2, 1, EF_LOOP_TEMPORAL}},
     {{16, 1}, {8, 1}, {2, 1}}, {{16, 1, 16}, {8, 1, 8}, {2, 1, 2}}},
};

START_TEST(nest_structure) {
    const nest_case *c = &nest_cases[_i];
    ut_fx f;
    ut_init(&f);
    ef_nest *n = build_ok(&f, c->arch == 2 ? arch2("64 B", false, 1) : arch3(true),
                          conv(c->P, c->R, 8), strdup(c->map));
    ck_assert_int_eq(n->loop_count, c->loop_count);
    for (int i = 0; i < c->loop_count; i++) {
        const ef_loop *lp = &n->loops[i];
        const want_loop *wl = &c->loops[i];
        ck_assert_msg(lp->level == ut_level(n, wl->level) &&
                          lp->rank == ut_rank(f.w, wl->rank) && lp->factor == wl->factor &&
                          lp->stride == wl->stride && lp->kind == wl->kind,
                      "%s: loop %d is level %d rank %d factor %llu stride %llu kind %d",
                      c->what, i, lp->level, lp->rank, (unsigned long long)lp->factor,
                      (unsigned long long)lp->stride, (int)lp->kind);
        /* the loop belongs to its level's range */
        ck_assert_int_ge(i, n->levels[lp->level].loop_begin);
        ck_assert_int_lt(i, n->levels[lp->level].loop_end);
    }
    int P = ut_rank(f.w, "P"), R = ut_rank(f.w, "R");
    int I = ut_op(n, "I"), W = ut_op(n, "W"), O = ut_op(n, "O");
    ck_assert_int_eq(O, n->out_op);
    ck_assert_int_eq(n->op_count, 3);
    for (int l = 0; l < n->level_count; l++) {
        const ef_nest_level *L = &n->levels[l];
        ck_assert_msg(L->tile_span[P] == c->span[l][0] && L->tile_span[R] == c->span[l][1],
                      "%s: level %d spans P %llu R %llu", c->what, l,
                      (unsigned long long)L->tile_span[P], (unsigned long long)L->tile_span[R]);
        ck_assert_msg(L->tile_words[I] == c->words[l][0] && L->tile_words[W] == c->words[l][1] &&
                          L->tile_words[O] == c->words[l][2],
                      "%s: level %d words I %llu W %llu O %llu", c->what, l,
                      (unsigned long long)L->tile_words[I], (unsigned long long)L->tile_words[W],
                      (unsigned long long)L->tile_words[O]);
    }
    ck_assert_uint_eq(n->total_ops, (uint64_t)c->P * (uint64_t)c->R);
    ut_free(&f);
}
END_TEST

/* Strided tiles count only the words used (docs/spec.md "Tiles"):
 * I[p*2+r] with tile P=4, R=1 is 0,2,4,6 — 4 words; with R=3, 0..8. */
START_TEST(strided_tile_words) {
    ut_fx f;
    ut_init(&f);
    ef_nest *n = build_ok(&f, arch2("64 B", false, 1),
                          strdup("name: s\neinsums:\n  - \"O[p] += I[p*2+r] * W[r]\"\n"
                                 "ranks: {P: 4, R: 3}\n"),
                          strdup("mapping:\n"
                                 "  - level: MainMemory\n    temporal: [R: 3]\n"
                                 "  - level: Buffer\n    temporal: [P: 4]\n"));
    int I = ut_op(n, "I");
    ck_assert_uint_eq(n->levels[1].tile_words[I], 4);
    ck_assert_uint_eq(n->levels[0].tile_words[I], 9);
    ut_free(&f);
}
END_TEST

/* Footprints over explicit boxes; padding is never stored. conv1d
 * P=16, R=3, I padded by 1: stored index p + r - 1 in [0,16). */
START_TEST(footprint_words) {
    static const struct { int64_t plo, phi, rlo, rhi; uint64_t I, W, O; } box[] = {
        {0, 4, 0, 3, 5, 3, 4},   /* -1..4 → 0..4                       */
        {4, 8, 0, 3, 6, 3, 4},   /* 3..8                               */
        {12, 16, 0, 3, 5, 3, 4}, /* 11..16 → 11..15                    */
        {0, 16, 0, 3, 16, 3, 16},
        {0, 1, 0, 1, 0, 1, 1},   /* only the padding                   */
        {3, 4, 1, 2, 1, 1, 1},
    };
    ut_fx f;
    ut_init(&f);
    ef_nest *n = build_ok(&f, arch2("64 B", false, 1),
                          strdup("name: c\neinsums:\n  - \"O[p] += I[p+r] * W[r]\"\n"
                                 "ranks: {P: 16, R: 3}\npadding: {I: [1]}\n"),
                          strdup("mapping:\n  - level: Buffer\n    temporal: [P: 16, R: 3]\n"));
    int P = ut_rank(f.w, "P"), R = ut_rank(f.w, "R");
    for (size_t i = 0; i < UT_LEN(box); i++) {
        int64_t lo[EF_MAX_RANKS] = {0}, hi[EF_MAX_RANKS] = {0};
        lo[P] = box[i].plo, hi[P] = box[i].phi, lo[R] = box[i].rlo, hi[R] = box[i].rhi;
        ck_assert_uint_eq(ef_nest_footprint_words(n, ut_op(n, "I"), lo, hi), box[i].I);
        ck_assert_uint_eq(ef_nest_footprint_words(n, ut_op(n, "W"), lo, hi), box[i].W);
        ck_assert_uint_eq(ef_nest_footprint_words(n, ut_op(n, "O"), lo, hi), box[i].O);
    }
    ut_free(&f);
}
END_TEST

/* Window counts (padding included) of I[s*p + d*r] and I[s*p - d*r]
 * over every box of a small space, against the distinct values listed
 * by brute force: the closed forms for strides that divide one another
 * and the bitset for the rest must agree. */
START_TEST(window_words_match_brute_force) {
    static const char *const forms[] = {"p*%d+r*%d", "p*%d-r*%d"};
    for (int form = 0; form < 2; form++)
        for (int st = 1; st <= 4; st++)
            for (int dil = 1; dil <= 3; dil++) {
                ut_fx f;
                ut_init(&f);
                char expr[32], *wl;
                snprintf(expr, sizeof expr, forms[form], st, dil);
                wl = ut_fmt("name: c\neinsums:\n  - \"O[p] += I[%s] * W[r]\"\n"
                            "ranks: {P: 6, R: 5}\n", expr);
                ef_nest *n = build_ok(&f, arch2("1 KiB", false, 1), wl,
                                      strdup("mapping:\n  - level: Buffer\n"
                                             "    temporal: [P: 6, R: 5]\n"));
                int P = ut_rank(f.w, "P"), R = ut_rank(f.w, "R"), I = ut_op(n, "I");
                for (int np = 1; np <= 6; np++)
                    for (int nr = 1; nr <= 5; nr++) {
                        bool seen[128] = {false};
                        uint64_t distinct = 0;
                        for (int p = 0; p < np; p++)
                            for (int r = 0; r < nr; r++) {
                                int v = st * p + (form ? -dil * r : dil * r) + 64;
                                distinct += !seen[v];
                                seen[v] = true;
                            }
                        int64_t lo[EF_MAX_RANKS] = {0}, hi[EF_MAX_RANKS] = {0};
                        hi[P] = np, hi[R] = nr;
                        ck_assert_msg(ef_nest_window_words(n, I, lo, hi) == distinct,
                                      "I[%s] over P %d x R %d: %llu words, expected %llu",
                                      expr, np, nr,
                                      (unsigned long long)ef_nest_window_words(n, I, lo, hi),
                                      (unsigned long long)distinct);
                    }
                ut_free(&f);
            }
}
END_TEST

START_TEST(words_to_bytes) {
    static const struct { uint64_t words; int bits; uint64_t bytes; } c[] = {
        {3, 8, 3}, {3, 12, 5}, {1, 1, 1}, {0, 8, 0}, {5, 24, 15}, {16, 16, 32}, {9, 4, 5},
    };
    for (size_t i = 0; i < UT_LEN(c); i++)
        ck_assert_uint_eq(ef_words_to_bytes(c[i].words, c[i].bits), c[i].bytes);
}
END_TEST

/* ---------- factors: coverage and empty tiles ---------- */

/* Outer x inner factors for a rank of bound B: legal iff the outermost
 * factor is exactly ceil(B / inner). */
static const struct { int outer, inner, bound; const char *part; } factor_cases[] = {
    {63, 16, 1000, NULL},     /* 63*16 = 1008 >= 1000, last step 8 */
    {64, 16, 1000, "empty"},  /* a whole step would be empty       */
    {62, 16, 1000, "cover"},  /* 992 < 1000                        */
    {2, 4, 7, NULL},
    {3, 4, 7, "empty"},
    {1, 4, 7, "cover"},
    {4, 4, 16, NULL},
    {5, 4, 16, "empty"},
    {1, 16, 16, NULL},
};

START_TEST(factors) {
    int outer = factor_cases[_i].outer, inner = factor_cases[_i].inner;
    int bound = factor_cases[_i].bound;
    char *map = ut_fmt("mapping:\n"
                    "  - level: MainMemory\n    temporal: [P: %d]\n"
                    "  - level: Buffer\n    temporal: [P: %d, R: 1]\n",
                    outer, inner);
    ut_fx f;
    ut_init(&f);
    /* R = 1: the Buffer tile is I inner, W 1, O inner words */
    if (!factor_cases[_i].part) {
        ef_nest *n = build_ok(&f, arch2("64 B", false, 1), conv(bound, 1, 8), map);
        ck_assert_uint_eq(n->levels[1].tile_span[ut_rank(f.w, "P")], (uint64_t)inner);
        ck_assert_uint_eq(n->total_ops, (uint64_t)bound);
    } else {
        expect_reject(&f, arch2("64 B", false, 1), conv(bound, 1, 8), map,
                      "temporal: [P: ", factor_cases[_i].part);
    }
    ut_free(&f);
}
END_TEST

START_TEST(uncovered_rank) {
    ut_fx f;
    ut_init(&f);
    /* R = 3 has no loop; the diagnostic names R. Located at the
     * mapping (its first line is as good as any). */
    ef_nest *n = build(&f, arch2("64 B", false, 1), conv(16, 3, 8),
                       strdup("mapping:\n  - level: Buffer\n    temporal: [P: 16]\n"));
    char *all = ut_render(&f);
    ck_assert_ptr_null(n);
    ck_assert_msg(f.diags->count == 1, "%s", all);
    ck_assert_ptr_nonnull(strstr(f.diags->items[0].message, "R"));
    ck_assert_str_eq(f.diags->items[0].file, f.mapping_path);
    ck_assert_int_gt(f.diags->items[0].line, 0);
    free(all);
    ut_free(&f);
}
END_TEST

START_TEST(bound_one_rank_may_be_omitted) {
    ut_fx f;
    ut_init(&f);
    ef_nest *n = build_ok(&f, arch2("64 B", false, 1), conv(16, 1, 8),
                          strdup("mapping:\n  - level: Buffer\n    temporal: [P: 16]\n"));
    ck_assert_uint_eq(n->total_ops, 16);
    ck_assert_uint_eq(n->levels[1].tile_span[ut_rank(f.w, "R")], 1);
    ut_free(&f);
}
END_TEST

/* ---------- capacity ---------- */

/* os tile at the Buffer ([R:3] under MainMemory [P:16]): W 3 + I 3 +
 * O 1 = 7 words; bytes = words x bits / 8; double buffering doubles
 * the need. */
static const struct {
    const char *capacity;
    bool db;
    int bits;
    bool ok;
} cap_cases[] = {
    {"7 B", false, 8, true},      /* exact fit                        */
    {"6 B", false, 8, false},
    {"14 B", true, 8, true},      /* 2 x 7                            */
    {"13 B", true, 8, false},
    {"10 B", false, 8, true},
    {"10 B", true, 8, false},     /* fits once, not twice             */
    {"14 B", false, 16, true},    /* 7 words x 2 B                    */
    {"13 B", false, 16, false},
    {"7 words", false, 16, true}, /* words ignore precision           */
    {"6 words", false, 16, false},
    {"14 words", true, 32, true},
    {"{W: 3 B, I: 3 B, O: 1 B}", false, 8, true},
    {"{W: 3 B, I: 2 B, O: 1 B}", false, 8, false},
    {"{W: 6 B, I: 6 B, O: 2 B}", true, 8, true},
    {"{W: 6 B, I: 6 B, O: 1 B}", true, 8, false},
    {"{W: 3 words, I: 3 words, O: 1 word}", false, 32, true},
    {"{W: 3 B, I: 3 B}", false, 8, false}, /* O has no partition      */
};

START_TEST(capacity) {
    char *map = strdup("mapping:\n"
                       "  - level: MainMemory\n    temporal: [P: 16]\n"
                       "  - level: Buffer\n    temporal: [R: 3]\n");
    ut_fx f;
    ut_init(&f);
    char *arch = arch2(cap_cases[_i].capacity, cap_cases[_i].db, 1);
    if (cap_cases[_i].ok)
        build_ok(&f, arch, conv(16, 3, cap_cases[_i].bits), map);
    else
        expect_reject(&f, arch, conv(16, 3, cap_cases[_i].bits), map,
                      "level: Buffer", "Buffer");
    ut_free(&f);
}
END_TEST

/* ---------- spatial loops ---------- */

static const struct {
    int arch;        /* 2: MainMemory/Buffer on 2x1 PEs; 3: DRAM/GLB/RF 2x2 */
    const char *map;
    const char *token;   /* the offending line, NULL when legal */
    const char *part;
} spatial_cases[] = {
    /* too many rows / cols.
     * BUG (found by this test): einflow reports these at the
     * architecture's GLB level (arch file), not at the mapping's
     * spatial line that asks for too many PEs, contrary to
     * docs/spec.md ("reports a broken one at the mapping line that
     * breaks it"). Kept failing on purpose until nest.c's
     * place_spatial locates the error at the spatial loops. */
    {3, "mapping:\n  - level: DRAM\n    temporal: [P: 4]\n"
        "  - level: GLB\n    spatial: {rows: [P: 4]}\n  - level: RF\n    temporal: [R: 3]\n",
     "rows: [P: 4]", "PE"},
    {3, "mapping:\n  - level: DRAM\n    temporal: [P: 2]\n"
        "  - level: GLB\n    spatial: {cols: [P: 2, R: 3]}\n  - level: RF\n    temporal: [P: 4]\n",
     "cols: [P: 2, R: 3]", "PE"},
    /* exactly the array */
    {3, "mapping:\n  - level: DRAM\n    temporal: [P: 4]\n"
        "  - level: GLB\n    spatial: {rows: [P: 2], cols: [P: 2]}\n"
        "  - level: RF\n    temporal: [R: 3]\n",
     NULL, NULL},
    /* spatial on the outermost level, above the GLB */
    {3, "mapping:\n  - level: DRAM\n    temporal: [P: 8]\n    spatial: {rows: [P: 2]}\n"
        "  - level: RF\n    temporal: [R: 3]\n",
     "rows: [P: 2]", "GLB"},
    /* spatial on the per-PE level */
    {3, "mapping:\n  - level: DRAM\n    temporal: [P: 8]\n"
        "  - level: RF\n    temporal: [R: 3]\n    spatial: {rows: [P: 2]}\n",
     "rows: [P: 2]", "GLB"},
    /* no per-PE level: spatial loops go on the innermost level */
    {2, "mapping:\n  - level: MainMemory\n    temporal: [P: 8]\n    spatial: {rows: [P: 2]}\n"
        "  - level: Buffer\n    temporal: [R: 3]\n",
     "rows: [P: 2]", "Buffer"},
    {2, "mapping:\n  - level: MainMemory\n    temporal: [P: 8]\n"
        "  - level: Buffer\n    temporal: [R: 3]\n    spatial: {rows: [P: 2]}\n",
     NULL, NULL},
};

START_TEST(spatial) {
    ut_fx f;
    ut_init(&f);
    char *arch = spatial_cases[_i].arch == 2 ? arch2("64 B", false, 2) : arch3(true);
    char *map = strdup(spatial_cases[_i].map);
    if (!spatial_cases[_i].token) {
        ef_nest *n = build_ok(&f, arch, conv(16, 3, 8), map);
        ck_assert_int_ge(n->spatial_level, 0);
        ck_assert_uint_le(n->rows_used, (uint64_t)f.arch->rows);
        ck_assert_uint_le(n->cols_used, (uint64_t)f.arch->cols);
    } else {
        expect_reject(&f, arch, conv(16, 3, 8), map, spatial_cases[_i].token,
                      spatial_cases[_i].part);
    }
    ut_free(&f);
}
END_TEST

/* A reduction rank (R) across PEs needs a NoC with reduction. */
START_TEST(spatial_reduction_needs_noc_reduction) {
    const char *map = "mapping:\n  - level: DRAM\n    temporal: [P: 16]\n"
                      "  - level: GLB\n    spatial: {rows: [R: 2]}\n  - level: RF\n";
    ut_fx f;
    ut_init(&f);
    ef_nest *n = build_ok(&f, arch3(true), conv(16, 2, 8), strdup(map));
    ck_assert_uint_eq(n->rows_used, 2);
    ck_assert_int_eq(n->spatial_level, 1);
    ut_free(&f);
    ut_init(&f);
    expect_reject(&f, arch3(false), conv(16, 2, 8), strdup(map), "rows: [R: 2]", "reduc");
    ut_free(&f);
}
END_TEST

/* ---------- unknown names, order ---------- */

static const struct { const char *map, *token, *part; } name_cases[] = {
    {"mapping:\n  - level: Bufer\n    temporal: [P: 16, R: 3]\n", "level: Bufer", "Bufer"},
    {"mapping:\n  - level: Buffer\n    temporal: [P: 16, Q: 3]\n", "Q: 3", "Q"},
    {"mapping:\n  - level: Buffer\n    keep: [X]\n    temporal: [P: 16, R: 3]\n",
     "keep: [X]", "X"},
    {"mapping:\n  - level: Buffer\n    bypass: [Y]\n    temporal: [P: 16, R: 3]\n",
     "bypass: [Y]", "Y"},
    {"mapping:\n  - level: Buffer\n    temporal: [P: 16]\n"
     "  - level: MainMemory\n    temporal: [R: 3]\n", "level: MainMemory", "outermost first"},
    {"mapping:\n  - level: Buffer\n    temporal: [P: 16]\n"
     "  - level: Buffer\n    temporal: [R: 3]\n", "level: Buffer\n    temporal: [R", "twice"},
};

START_TEST(unknown_names) {
    ut_fx f;
    ut_init(&f);
    expect_reject(&f, arch2("64 B", false, 1), conv(16, 3, 8), strdup(name_cases[_i].map),
                  name_cases[_i].token, name_cases[_i].part);
    ut_free(&f);
}
END_TEST

/* A misspelt level gets a hint. */
START_TEST(unknown_level_hint) {
    ut_fx f;
    ut_init(&f);
    ef_nest *n = build(&f, arch2("64 B", false, 1), conv(16, 3, 8),
                       strdup("mapping:\n  - level: Bufer\n    temporal: [P: 16, R: 3]\n"));
    ck_assert_ptr_null(n);
    ck_assert_int_eq(f.diags->count, 1);
    ck_assert_ptr_nonnull(f.diags->items[0].hint);
    ck_assert_ptr_nonnull(strstr(f.diags->items[0].hint, "Buffer"));
    ut_free(&f);
}
END_TEST

/* ---------- keep / bypass and parents ---------- */

static const struct {
    const char *what, *map;
    /* keeps at DRAM, GLB, RF for I, W, O */
    bool keeps[3][3];
    /* parent level of I, W, O at GLB and RF */
    int parent[2][3];
    int keeper_mac[3];
} keep_cases[] = {
    {"all kept", "",
     {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}}, {{0, 0, 0}, {1, 1, 1}}, {2, 2, 2}},
    {"GLB keeps I and O", "    keep: [I, O]\n",
     {{1, 1, 1}, {1, 0, 1}, {1, 1, 1}}, {{0, 0, 0}, {1, 0, 1}}, {2, 2, 2}},
    {"GLB bypasses I and W", "    bypass: [I, W]\n",
     {{1, 1, 1}, {0, 0, 1}, {1, 1, 1}}, {{0, 0, 0}, {0, 0, 1}}, {2, 2, 2}},
    {"RF bypasses W", "RF:bypass: [W]\n",
     {{1, 1, 1}, {1, 1, 1}, {1, 0, 1}}, {{0, 0, 0}, {1, 1, 1}}, {2, 1, 2}},
    {"W only at DRAM", "    bypass: [W]\nRF:keep: [I, O]\n",
     {{1, 1, 1}, {1, 0, 1}, {1, 0, 1}}, {{0, 0, 0}, {1, 0, 1}}, {2, 0, 2}},
};

START_TEST(keep_bypass_parents) {
    /* "RF:" in the case text splits GLB's extra lines from RF's */
    const char *glb = keep_cases[_i].map, *rf = strstr(glb, "RF:");
    size_t glb_len = rf ? (size_t)(rf - glb) : strlen(glb);
    char *map = ut_fmt("mapping:\n  - level: DRAM\n    temporal: [P: 4]\n"
                    "  - level: GLB\n%.*s    temporal: [P: 4]\n"
                    "  - level: RF\n%s%s    temporal: [R: 3]\n",
                    (int)glb_len, glb, rf ? "    " : "", rf ? rf + 3 : "");
    ut_fx f;
    ut_init(&f);
    ef_nest *n = build_ok(&f, arch3(true), conv(16, 3, 8), map);
    const char *names[3] = {"I", "W", "O"};
    for (int t = 0; t < 3; t++) {
        int o = ut_op(n, names[t]);
        for (int l = 0; l < 3; l++)
            ck_assert_msg(n->levels[l].keeps[o] == keep_cases[_i].keeps[l][t],
                          "%s: level %d keeps %s = %d", keep_cases[_i].what, l, names[t],
                          n->levels[l].keeps[o]);
        ck_assert_int_eq(n->levels[0].parent[o], -1);
        for (int l = 1; l < 3; l++)
            ck_assert_msg(n->levels[l].parent[o] == keep_cases[_i].parent[l - 1][t],
                          "%s: parent of %s at level %d is %d", keep_cases[_i].what,
                          names[t], l, n->levels[l].parent[o]);
        ck_assert_int_eq(n->op_keeper_mac[o], keep_cases[_i].keeper_mac[t]);
    }
    ck_assert_uint_eq(n->levels[0].instances, 1);
    ck_assert_uint_eq(n->levels[1].instances, 1);
    ck_assert_uint_eq(n->levels[2].instances, 4);
    ck_assert_int_eq(n->first_pe_level, 2);
    ck_assert_int_eq(n->spatial_level, -1);
    ck_assert_uint_eq(n->pes, 4);
    ut_free(&f);
}
END_TEST

static const struct { const char *extra, *part; } outer_bypass_cases[] = {
    {"    bypass: [W]\n", "W"},
    {"    keep: [I, O]\n", "W"},
};

START_TEST(outermost_must_keep_all) {
    char *map = ut_fmt("mapping:\n  - level: MainMemory\n%s    temporal: [R: 3]\n"
                    "  - level: Buffer\n    temporal: [P: 16]\n",
                    outer_bypass_cases[_i].extra);
    ut_fx f;
    ut_init(&f);
    expect_reject(&f, arch2("64 B", false, 1), conv(16, 3, 8), map, "level: MainMemory",
                  outer_bypass_cases[_i].part);
    ut_free(&f);
}
END_TEST

/* ---------- recurrences ---------- */

static char *recurrence_wl(void) {
    return ut_fmt("name: r\neinsums: [\"R[m+1,p] = R[m,p] * 2 + X[m,p]\"]\n"
                  "ranks: {M: 4, P: 2}\n");
}

/* The recurrence rank may be in time only, at any level; spread over
 * rows or columns it is rejected at the loop, with the column. */
START_TEST(recurrence_rank_not_spatial) {
    ut_fx f;
    ut_init(&f);
    build_ok(&f, arch3(true), recurrence_wl(),
             ut_fmt("mapping:\n  - level: DRAM\n    temporal: [M: 2]\n"
                    "  - level: GLB\n    temporal: [M: 2]\n    spatial: {cols: [P: 2]}\n"
                    "  - level: RF\n"));
    ut_free(&f);
    for (int axis = 0; axis < 2; axis++) {
        ut_init(&f);
        char *map = ut_fmt("mapping:\n  - level: DRAM\n    temporal: [P: 2]\n"
                           "  - level: GLB\n    spatial: {%s: [M: 2]}\n"
                           "  - level: RF\n    temporal: [M: 2]\n", axis ? "cols" : "rows");
        expect_reject(&f, arch3(true), recurrence_wl(), map, "M: 2]}",
                      "rank M is the recurrence rank of \"R[m+1,p] = R[m,p] * 2 + X[m,p]\": "
                      "each of its steps needs the one before, so they run one after another "
                      "and cannot be spread over PE rows or columns");
        const ef_diag *d = &f.diags->items[0];
        ck_assert_int_eq(d->col, 22); /* the M of the spatial loop */
        ck_assert_str_eq(d->path, axis ? "mapping[1].spatial.cols[0].M"
                                       : "mapping[1].spatial.rows[0].M");
        ut_free(&f);
    }
}
END_TEST

/* keep and bypass name tensors: the old and the new value of R, two
 * operands, go together; at a partitioned level they share R's part. */
START_TEST(recurrence_keeps_both_operands) {
    ut_fx f;
    ut_init(&f);
    ef_nest *n = build_ok(&f, arch3(true), recurrence_wl(),
                          ut_fmt("mapping:\n  - level: DRAM\n    temporal: [M: 4, P: 2]\n"
                                 "  - level: GLB\n    bypass: [R]\n  - level: RF\n"
                                 "    keep: [R]\n"));
    int old_r = n->einsum->recurrence_input, new_r = n->out_op;
    ck_assert_int_ne(old_r, new_r);
    ck_assert_int_eq(n->ops[old_r]->tensor, n->ops[new_r]->tensor);
    ck_assert(!n->levels[1].keeps[old_r] && !n->levels[1].keeps[new_r]);
    ck_assert(n->levels[2].keeps[old_r] && n->levels[2].keeps[new_r]);
    ck_assert(!n->levels[2].keeps[ut_op(n, "X")]);
    ut_free(&f);
    /* an RF whose R part holds 1 word: the two tiles need 2 */
    for (int words = 1; words <= 2; words++) {
        ut_init(&f);
        char *arch = ut_fmt("name: part\npe_array: {rows: 1, cols: 1}\nlevels:\n"
                            "  - {name: DRAM, kind: dram}\n"
                            "  - {name: RF, kind: regfile, per_pe: true, "
                            "capacity: {R: %d B, X: 1 B}}\n", words);
        char *map = ut_fmt("mapping:\n  - level: DRAM\n    temporal: [M: 4, P: 2]\n"
                           "  - level: RF\n");
        if (words == 2) build_ok(&f, arch, recurrence_wl(), map);
        else
            expect_reject(&f, arch, recurrence_wl(), map, "level: RF",
                          "the R tile needs 2 bytes at RF but its partition holds 1");
        ut_free(&f);
    }
}
END_TEST

/* ---------- timing: bytes into cycles ---------- */

static const struct { uint64_t bytes; double bandwidth; uint64_t cycles; } cycle_cases[] = {
    {64, 16, 4},   {65, 16, 5},  {1, 64, 1},  /* any traffic costs a cycle */
    {1, 0.25, 4},  {10, 1.5, 7}, /* 6.67 rounds up */
    {3, 1.5, 2},   /* exact: the tolerance keeps 2.000...01 from rounding up */
    {0, 16, 0},    {64, 0, 0},   /* no traffic; unlimited bandwidth */
};

START_TEST(timing_cycles) {
    ck_assert_uint_eq(ef_timing_cycles(cycle_cases[_i].bytes, cycle_cases[_i].bandwidth),
                      cycle_cases[_i].cycles);
}
END_TEST

/* Level 0 reads at 16 B/cycle after a 50-cycle latency; level 1 is
 * written at 64 B/cycle. A fill from 0 into 1 of b bytes holds the read
 * port ceil(b / 16) cycles and is usable 50 cycles later; the stall it
 * causes is the latency's when those 50 exceed the hold, the port's
 * otherwise (a tie goes to the port). */
static const struct {
    uint64_t bytes;
    bool waits_latency;
    uint64_t read_hold, write_hold, cycles;
    bool latency_cause;
} cost_cases[] = {
    {64, true, 4, 1, 54, true},
    {1600, true, 100, 25, 150, false},
    {800, true, 50, 13, 100, false},
    {64, false, 4, 1, 4, false}, /* a stream: addresses known ahead */
};

START_TEST(timing_cost_and_cause) {
    ef_ports p;
    memset(&p, 0, sizeof p);
    p.bandwidth_bytes[ef_res_read(0)] = 16;
    p.latency_cycles[ef_res_read(0)] = 50;
    p.bandwidth_bytes[ef_res_write(1)] = 64;
    ef_demand d;
    memset(&d, 0, sizeof d);
    d.bytes[ef_res_read(0)] = cost_cases[_i].bytes;
    d.bytes[ef_res_write(1)] = cost_cases[_i].bytes;
    d.waits_latency = cost_cases[_i].waits_latency;
    ef_xfer x;
    ef_timing_cost(&p, &d, &x);
    ck_assert_uint_eq(x.hold_cycles[ef_res_read(0)], cost_cases[_i].read_hold);
    ck_assert_uint_eq(x.hold_cycles[ef_res_write(1)], cost_cases[_i].write_hold);
    ck_assert_uint_eq(x.cycles, cost_cases[_i].cycles);
    ck_assert_int_eq(x.bottleneck, ef_res_read(0));
    ck_assert_int_eq(x.used, 2);
    ck_assert_int_eq(ef_timing_cause(&x),
                     cost_cases[_i].latency_cause ? EF_CAUSE_LATENCY + 0 : ef_res_read(0));
}
END_TEST

/* A port without a bandwidth limit is never held, but its latency still
 * delays the data, and is what the transfer waits for; a transfer with
 * no bytes costs nothing and names no cause. */
START_TEST(timing_latency_only_and_free) {
    ef_ports p;
    memset(&p, 0, sizeof p);
    p.latency_cycles[ef_res_read(0)] = 10;
    ef_demand d;
    memset(&d, 0, sizeof d);
    d.bytes[ef_res_read(0)] = 64;
    d.waits_latency = true;
    ef_xfer x;
    ef_timing_cost(&p, &d, &x);
    ck_assert_uint_eq(x.cycles, 10);
    ck_assert_int_eq(x.used, 0);
    ck_assert_int_eq(ef_timing_cause(&x), EF_CAUSE_LATENCY + 0);

    memset(&d, 0, sizeof d);
    ef_timing_cost(&p, &d, &x);
    ck_assert_uint_eq(x.cycles, 0);
    ck_assert_int_eq(x.bottleneck, -1);
    ck_assert_int_eq(ef_timing_cause(&x), -1);
}
END_TEST

static Suite *model_suite(void) {
    Suite *s = suite_create("model");
    TCase *tn = tcase_create("nest");
    tcase_add_loop_test(tn, nest_structure, 0, (int)UT_LEN(nest_cases));
    tcase_add_test(tn, strided_tile_words);
    tcase_add_test(tn, footprint_words);
    tcase_add_test(tn, window_words_match_brute_force);
    tcase_add_test(tn, words_to_bytes);
    tcase_add_loop_test(tn, keep_bypass_parents, 0, (int)UT_LEN(keep_cases));
    suite_add_tcase(s, tn);
    TCase *tl = tcase_create("legality");
    tcase_add_loop_test(tl, factors, 0, (int)UT_LEN(factor_cases));
    tcase_add_test(tl, uncovered_rank);
    tcase_add_test(tl, bound_one_rank_may_be_omitted);
    tcase_add_loop_test(tl, capacity, 0, (int)UT_LEN(cap_cases));
    tcase_add_loop_test(tl, spatial, 0, (int)UT_LEN(spatial_cases));
    tcase_add_test(tl, spatial_reduction_needs_noc_reduction);
    tcase_add_loop_test(tl, unknown_names, 0, (int)UT_LEN(name_cases));
    tcase_add_test(tl, unknown_level_hint);
    tcase_add_loop_test(tl, outermost_must_keep_all, 0, (int)UT_LEN(outer_bypass_cases));
    tcase_add_test(tl, recurrence_rank_not_spatial);
    tcase_add_test(tl, recurrence_keeps_both_operands);
    suite_add_tcase(s, tl);
    TCase *tt = tcase_create("timing");
    tcase_add_loop_test(tt, timing_cycles, 0, (int)UT_LEN(cycle_cases));
    tcase_add_loop_test(tt, timing_cost_and_cause, 0, (int)UT_LEN(cost_cases));
    tcase_add_test(tt, timing_latency_only_and_free);
    suite_add_tcase(s, tt);
    return s;
}

int main(void) {
    return ut_run_suite(model_suite());
}
