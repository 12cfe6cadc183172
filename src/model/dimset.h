/* Exact sets of stored indices along one tensor dimension, as a bitset
 * over the window the index expression can reach. A tensor tile's
 * footprint is the product of its dimensions' sets whenever each rank
 * indexes at most one dimension (the model checks that), so counts,
 * intersections and sliding-window reuse are exact without listing
 * words, however strided or dilated the access. */
#ifndef EF_MODEL_DIMSET_H
#define EF_MODEL_DIMSET_H

#include "einflow/einsum.h"

typedef struct {
    int64_t lo;          /* first stored index the window covers      */
    int64_t n;           /* window length in indices                  */
    int64_t cap_bits;    /* allocated bits                            */
    uint64_t count;      /* members                                   */
    uint64_t *bits;
} ef_dimset;

/* Bits a dimset needs for tiles whose ranks span at most `span`. */
int64_t ef_dimset_capacity(const ef_affine *a, const uint64_t *span);

/* Fills s with { expr(x) - offset : lo[r] <= x[r] < hi[r] } ∩ [0,extent).
 * s->bits must hold ef_dimset_capacity bits for these spans. */
void ef_dimset_build(ef_dimset *s, const ef_affine *a, const int64_t *lo,
                     const int64_t *hi, int64_t offset, int64_t extent);

uint64_t ef_dimset_intersect(const ef_dimset *a, const ef_dimset *b);

static inline bool ef_dimset_has(const ef_dimset *s, int64_t v) {
    int64_t i = v - s->lo;
    if (i < 0 || i >= s->n) return false;
    return (s->bits[i >> 6] >> (i & 63)) & 1u;
}

/* Next member >= v, or -1. */
int64_t ef_dimset_next(const ef_dimset *s, int64_t v);

/* Unions of several sets in one frame: a plain bitset whose bit i
 * stands for index frame_lo + i. ef_dimset_or_into sets the members of
 * a, ef_dimset_or_minus_into those of a that b lacks (b NULL: none);
 * the frame must cover a's window plus one spare word. */
void ef_dimset_or_into(uint64_t *frame, int64_t frame_lo, const ef_dimset *a);
void ef_dimset_or_minus_into(uint64_t *frame, int64_t frame_lo, const ef_dimset *a,
                             const ef_dimset *b);
/* ORs into frame the members of a that mask holds; the frame is a
 * window over mask's indices [mask->lo, mask->lo + mask->n) with one
 * spare word. */
void ef_dimset_or_within_into(uint64_t *frame, const ef_dimset *mask, const ef_dimset *a);
uint64_t ef_bits_count(const uint64_t *bits, int64_t words);

#endif
