/* Dimension sets: see dimset.h for why footprints are products. */
#include "model/dimset.h"

#include <string.h>

int64_t ef_dimset_capacity(const ef_affine *a, const uint64_t *span) {
    int64_t width = 1;
    for (int k = 0; k < a->term_count; k++) {
        int64_t c = a->coef[k] < 0 ? -a->coef[k] : a->coef[k];
        width += c * (int64_t)(span[a->rank[k]] - 1);
    }
    return width;
}

static void set_bit(ef_dimset *s, int64_t v) {
    int64_t i = v - s->lo;
    uint64_t m = UINT64_C(1) << (i & 63);
    if (!(s->bits[i >> 6] & m)) {
        s->bits[i >> 6] |= m;
        s->count++;
    }
}

void ef_dimset_build(ef_dimset *s, const ef_affine *a, const int64_t *lo,
                     const int64_t *hi, int64_t offset, int64_t extent) {
    int64_t emin = a->constant - offset, emax = emin;
    for (int k = 0; k < a->term_count; k++) {
        int r = a->rank[k];
        if (hi[r] <= lo[r]) { /* empty tile */
            s->lo = 0; s->n = 0; s->count = 0;
            return;
        }
        int64_t v0 = a->coef[k] * lo[r], v1 = a->coef[k] * (hi[r] - 1);
        emin += v0 < v1 ? v0 : v1;
        emax += v0 < v1 ? v1 : v0;
    }
    if (emin < 0) emin = 0;
    if (emax > extent - 1) emax = extent - 1;
    s->count = 0;
    if (emax < emin) { s->lo = 0; s->n = 0; return; }
    s->lo = emin;
    s->n = emax - emin + 1;
    memset(s->bits, 0, (size_t)((s->n + 63) >> 6) * sizeof(uint64_t));
    /* Fast path: one rank with unit stride covers a plain interval. */
    if (a->term_count == 1 && (a->coef[0] == 1 || a->coef[0] == -1)) {
        /* the whole window, word by word */
        int64_t full = s->n >> 6;
        for (int64_t w = 0; w < full; w++) s->bits[w] = ~UINT64_C(0);
        if (s->n & 63) s->bits[full] = (UINT64_C(1) << (s->n & 63)) - 1;
        s->count = (uint64_t)s->n;
        return;
    }
    if (a->term_count == 0) { set_bit(s, emin); return; }
    /* General case: odometer over the ranks of this dimension only. */
    int64_t x[EF_MAX_RANKS];
    for (int k = 0; k < a->term_count; k++) x[k] = lo[a->rank[k]];
    for (;;) {
        int64_t v = a->constant - offset;
        for (int k = 0; k < a->term_count; k++) v += a->coef[k] * x[k];
        if (v >= s->lo && v < s->lo + s->n) set_bit(s, v);
        int k = a->term_count - 1;
        for (; k >= 0; k--) {
            if (++x[k] < hi[a->rank[k]]) break;
            x[k] = lo[a->rank[k]];
        }
        if (k < 0) break;
    }
}

/* Bit count without a library call on targets lacking the instruction. */
static inline uint64_t popcount64(uint64_t x) {
    x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0F0F0F0F0F0F0F0F);
    return (x * UINT64_C(0x0101010101010101)) >> 56;
}

/* 64 members' bits starting at value v (bits outside the window are 0). */
static uint64_t bits_at(const ef_dimset *s, int64_t v) {
    int64_t i = v - s->lo;
    if (i >= s->n || i <= -64) return 0;
    uint64_t out;
    if (i < 0) {
        out = s->bits[0] << (-i);
    } else {
        int64_t w = i >> 6, sh = i & 63;
        out = s->bits[w] >> sh;
        if (sh && ((w + 1) << 6) < s->n) out |= s->bits[w + 1] << (64 - sh);
    }
    int64_t left = s->n - i; /* members at or past v inside the window */
    if (left < 64) out &= (UINT64_C(1) << left) - 1;
    return out;
}

uint64_t ef_dimset_intersect(const ef_dimset *a, const ef_dimset *b) {
    int64_t from = a->lo > b->lo ? a->lo : b->lo;
    int64_t to = a->lo + a->n < b->lo + b->n ? a->lo + a->n : b->lo + b->n;
    uint64_t n = 0;
    for (int64_t v = from; v < to; v += 64) {
        uint64_t m = bits_at(a, v) & bits_at(b, v);
        if (to - v < 64) m &= (UINT64_C(1) << (to - v)) - 1;
        n += popcount64(m);
    }
    return n;
}

int64_t ef_dimset_next(const ef_dimset *s, int64_t v) {
    if (v < s->lo) v = s->lo;
    for (; v < s->lo + s->n; v++)
        if (ef_dimset_has(s, v)) return v;
    return -1;
}

/* ORs one 64-bit word of members, standing for indices v.. v+63, into
 * the frame. */
static void or_word(uint64_t *frame, int64_t frame_lo, int64_t v, uint64_t m) {
    if (!m) return;
    int64_t i = v - frame_lo, w = i >> 6, sh = i & 63;
    frame[w] |= m << sh;
    if (sh) frame[w + 1] |= m >> (64 - sh);
}

void ef_dimset_or_into(uint64_t *frame, int64_t frame_lo, const ef_dimset *a) {
    int64_t words = (a->n + 63) >> 6;
    for (int64_t w = 0; w < words; w++) or_word(frame, frame_lo, a->lo + (w << 6), a->bits[w]);
}

void ef_dimset_or_minus_into(uint64_t *frame, int64_t frame_lo, const ef_dimset *a,
                             const ef_dimset *b) {
    int64_t words = (a->n + 63) >> 6;
    for (int64_t w = 0; w < words; w++) {
        int64_t v = a->lo + (w << 6);
        uint64_t m = a->bits[w];
        if (b && b->n) m &= ~bits_at(b, v);
        or_word(frame, frame_lo, v, m);
    }
}

void ef_dimset_or_within_into(uint64_t *frame, const ef_dimset *mask, const ef_dimset *a) {
    int64_t words = (a->n + 63) >> 6;
    for (int64_t w = 0; w < words; w++) {
        int64_t v = a->lo + (w << 6);
        uint64_t m = a->bits[w] & bits_at(mask, v);
        if (!m) continue;
        if (v < mask->lo) frame[0] |= m >> (mask->lo - v); /* bits_at kept none below */
        else or_word(frame, mask->lo, v, m);
    }
}

uint64_t ef_bits_count(const uint64_t *bits, int64_t words) {
    uint64_t n = 0;
    for (int64_t w = 0; w < words; w++) n += popcount64(bits[w]);
    return n;
}
