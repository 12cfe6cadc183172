/* einflow spec stage, internal — the Timeloop importer's shared model.
 *
 * timeloop_arch.c reads a Timeloop architecture into tl_arch (storage
 * levels outermost first, the one spatial fanout, word size),
 * timeloop_problem.c a problem into tl_problem (dimensions, data spaces
 * with their projections as affine sums), timeloop_mapping.c a mapping
 * into tl_mapping (per level: loops outermost first, the PE array's
 * rows and columns, bypasses), and timeloop.c writes the three einflow
 * texts. Every stage reports into the yt_doc of the file it reads.
 *
 * Ownership: a tl_* struct borrows node pointers from its yt_doc, which
 * must outlive it; the structs themselves own nothing. */
#ifndef EF_SPEC_TIMELOOP_H
#define EF_SPEC_TIMELOOP_H

#include "einflow/timeloop.h"
#include "spec/ytree.h"

#define TL_MAX_DIMS EF_MAX_RANKS
#define TL_MAX_SPACES 3          /* two operands and the output           */
#define TL_MAX_TERMS 4           /* terms of one projection dimension     */

typedef struct {
    char name[EF_MAX_NAME];
    ef_level_kind kind;
    const yt_node *node;         /* the component, for diagnostics        */
    uint64_t instances;          /* copies in the whole design            */
    uint64_t mesh_x, mesh_y;     /* their layout: instances = x * y       */
    uint64_t capacity_words;     /* one instance; 0: unlimited            */
    char capacity_why[160];      /* how capacity_words was derived        */
    int word_bits;               /* datawidth; 0 when not given           */
    double read_bw_words;        /* words per cycle per instance; 0: none */
    double write_bw_words;
    double shared_bw_words;      /* read and write together; 0: none      */
    bool double_buffer;          /* multiple_buffering >= 2               */
} tl_level;

typedef struct {
    int version;                 /* 3 (subtree/local) or 4 (nodes)        */
    tl_level levels[EF_MAX_LEVELS]; /* outermost first                    */
    int level_count;
    char compute[EF_MAX_NAME];   /* the MAC component's name              */
    ef_arithmetic arithmetic;
    uint64_t compute_instances, compute_mesh_x, compute_mesh_y;
    double cycle_seconds;        /* global_cycle_seconds; 0: not given    */
    int fanout;                  /* the level the PE array fans out below
                                    (its spatial loops); -1: one PE      */
    uint64_t rows, cols;         /* meshY and meshX of the fanout         */
    int word_bits;               /* the precision every tensor gets       */
} tl_arch;

typedef struct {
    int dim[TL_MAX_TERMS];       /* dimension index of each term          */
    int64_t coef[TL_MAX_TERMS];  /* its coefficient's value               */
    int count;                   /* terms with a nonzero coefficient      */
} tl_expr;

typedef struct {
    char name[EF_MAX_NAME];
    bool output;                 /* read_write: true                      */
    tl_expr proj[EF_MAX_DIMS];
    int dims;
    const yt_node *node;
} tl_space;

typedef struct {
    char name[EF_MAX_NAME];      /* the shape's name, as a label          */
    char dims[TL_MAX_DIMS][EF_MAX_NAME]; /* Timeloop's names, in order    */
    uint64_t bound[TL_MAX_DIMS];
    int dim_count;
    tl_space spaces[TL_MAX_SPACES]; /* in file order                      */
    int space_count;
    int output;                  /* index of the output space             */
} tl_problem;

typedef struct {
    int dim;                     /* into tl_problem.dims                  */
    uint64_t factor;             /* > 1                                   */
} tl_loop;

typedef struct {
    tl_loop temporal[TL_MAX_DIMS]; /* outermost first                     */
    int temporal_count;
    tl_loop rows[TL_MAX_DIMS];   /* meshY loops, outermost first          */
    int row_count;
    tl_loop cols[TL_MAX_DIMS];   /* meshX loops, outermost first          */
    int col_count;
    bool bypass[TL_MAX_SPACES];  /* the data space passes this level      */
} tl_level_map;

typedef struct {
    tl_level_map levels[EF_MAX_LEVELS];
} tl_mapping;

/* ---------- helpers (timeloop.c) ---------- */

/* Whether key is name, with '-' and '_' the same (word-bits, word_bits). */
bool tl_key_is(const char *key, const char *name);
/* The value of the first key of map n matching name as tl_key_is does. */
const yt_node *tl_get(const yt_node *n, const char *name);
const yt_node *tl_get_key(const yt_node *n, const char *name);
/* Reports every key of map n that is not in known[0..n_known) (compared
 * as tl_key_is does) and not in ignored[0..n_ignored), with a "did you
 * mean" among known. n not a mapping: reported; returns false. */
bool tl_check_keys(yt_doc *d, const yt_node *n, const char *path,
                   const char *const *known, size_t n_known,
                   const char *const *ignored, size_t n_ignored);
/* A Timeloop name made into an einflow identifier; false when it
 * cannot be one (reported at n). */
bool tl_ident(yt_doc *d, const yt_node *n, const char *path, const char *text,
              char out[EF_MAX_NAME]);

/* ---------- the stages ---------- */

/* d's root has `architecture:`; fills a. False after reporting. */
bool tl_read_arch(yt_doc *d, tl_arch *a);
bool tl_read_problem(yt_doc *d, tl_problem *p);
bool tl_read_mapping(yt_doc *d, const tl_arch *a, const tl_problem *p, tl_mapping *m);

#endif
