/* einflow — shared vocabulary of every pipeline stage: status codes,
 * located diagnostics and the limits all stages agree on.
 *
 * Ownership: an ef_diags list owns every string it holds; destroy it
 * with ef_diags_destroy (NULL is fine). */
#ifndef EINFLOW_COMMON_H
#define EINFLOW_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EF_VERSION "0.1.0"

/* All limits live here so that validation, docs and tests agree. */
#define EF_MAX_NAME 64          /* identifier length, bytes incl. NUL     */
#define EF_MAX_RANKS 16         /* ranks of one Einsum                    */
#define EF_MAX_DIMS 8           /* dimensions of one tensor               */
#define EF_MAX_TENSORS 8        /* tensors of one Einsum                  */
#define EF_MAX_EINSUMS 32       /* Einsums of one cascade                 */
#define EF_MAX_LEVELS 8         /* storage levels of one architecture     */
#define EF_MAX_LOOPS 64         /* loops of one mapping, all levels       */
#define EF_MAX_LEVEL_LOOPS 16   /* loops of one list (temporal/rows/cols) */
#define EF_MAX_PES 65536        /* rows x cols                            */
#define EF_MAX_TENSOR_WORDS (UINT64_C(1) << 31) /* words of one tensor    */
#define EF_MAX_DIAGS 50         /* diagnostics kept before giving up      */
#define EF_MAX_DATAFLOWS 16     /* dataflows of one `einflow compare`     */
#define EF_MAX_PATH 256         /* a file name a spec keeps (a dataflow
                                   template named in a mapping file)     */
#define EF_MAX_LAYERS 512       /* layers of one network file             */
#define EF_MAX_LAYER_COUNT 65536 /* repeats of one layer (its count:)     */
#define EF_MAX_POINTS_LOG2 56    /* iteration points of one Einsum:    */
#define EF_MAX_POINTS (UINT64_C(1) << EF_MAX_POINTS_LOG2) /* 2^56 leaves
                                     room for counts x precision bits   */
#define EF_MAX_ENERGY_PJ 1e9      /* one action's energy: 1 mJ, far above
                                     any real one, keeps 2^64 x it finite */
#define EF_MAX_AREA_MM2 1e6       /* one component's area: 14 wafers of
                                     300 mm, far above any chip         */
#define EF_MAX_POWER_MW 1e9       /* one component's static power: 1 MW */
#define EF_MAX_PORTS 64           /* read/write ports of one level       */
#define EF_TRACE_MAX_CYCLES 100000 /* cycles of one --trace window       */
#define EF_TRACE_DEFAULT_CYCLES 10000 /* --trace without --trace-window  */
#define EF_TRACE_PE_SIGNALS_MAX 64 /* VCD: one busy signal per PE up to
                                     this many PEs, else one per row    */
#define EF_MIN_BANDWIDTH 1e-6     /* bytes per cycle of a limited port:
                                     below it one byte would outlast any
                                     run (EF_MAX_CYCLES)                 */
#define EF_MAX_CYCLES (UINT64_C(1) << 50) /* cycles of one simulated run:
                                   13 days at 1 GHz                      */
#define EF_MAX_KEY_PATH 32      /* key path a spec keeps for later
                                   diagnostics, "layers[511].einsums[31]" */
#define EF_MAX_PARAMS 16        /* parameters of one network or workload
                                   file, batch included                  */
#define EF_MAX_ARCH_SETS 32     /* architecture overrides of one run
                                   (--set arch.PATH=VALUE, sweep axes)   */
#define EF_MAX_SWEEP_AXES 16    /* axes of one sweep file                 */
#define EF_MAX_SWEEP_VALUES 4096 /* values of one axis                    */
#define EF_MAX_SWEEP_POINTS (UINT64_C(1) << 24) /* points of one sweep   */
#define EF_MAX_SET_TEXT 256     /* bytes of one override's path or value */
#define EF_MAX_PARAM_VALUE ((uint64_t)INT64_MAX) /* a parameter's value:
                                   bound expressions compute in int64    */

typedef enum {
    EF_OK = 0,
    EF_ERR_USAGE,     /* bad command line                                */
    EF_ERR_IO,        /* file cannot be read or written                  */
    EF_ERR_SPEC,      /* bad YAML, bad key, bad value: a user error      */
    EF_ERR_MAPPING,   /* mapping illegal for this arch and workload      */
    EF_ERR_VALUES,    /* --check-values found a wrong output element     */
    EF_ERR_OVERFLOW,  /* a 64-bit counter or size would overflow         */
    EF_ERR_NOMEM,
    EF_STOPPED        /* a run stopped past its cycle budget (ef_sim_options
                       * budget): not an error, the mapper asked for it  */
} ef_status;

/* One located message. line/col are 1-based; 0 when not known. */
typedef struct {
    char *file;       /* input file name as given by the user            */
    int line, col;
    char *path;       /* key path, e.g. "levels[2].capacity"; may be ""  */
    char *message;    /* "expected ..., found ..."                       */
    char *hint;       /* "did you mean ...?" or NULL                     */
    char *source;     /* the offending source line, or NULL              */
} ef_diag;

/* The text of an input file as it was loaded, so that a stage long
 * after loading quotes the line it read, not what the file holds now. */
typedef struct {
    char *file;
    char *text;
    size_t len;
} ef_diag_source;

typedef struct {
    ef_diag *items;
    size_t count, cap;
    size_t dropped;   /* diagnostics past EF_MAX_DIAGS, counted only     */
    ef_diag_source *sources; /* files loaded under this list          */
    size_t source_count;
    bool out_of_memory; /* an allocation failed somewhere in the run: the
                           CLI exits 5 whatever else went wrong         */
    bool count_only;    /* diagnostics are counted in `dropped`, never
                           formatted: the mapper's rejected candidates,
                           once it holds the reason for the first       */
} ef_diags;

ef_diags *ef_diags_create(void);
void ef_diags_destroy(ef_diags *d);
/* Keeps a copy of file's text (the loaders call it as they read a
 * file); the last copy kept for a name wins. Out of memory keeps none:
 * the line is then read from disk. */
void ef_diags_keep_source(ef_diags *d, const char *file, const char *text, size_t len);
/* Line `line` (1-based) of file, from the text kept when it was loaded,
 * else from disk; malloc'd, NULL when there is no such line. */
char *ef_diags_source_line(const ef_diags *d, const char *file, int line);
/* Appends every diagnostic of from to into (a worker's list into the
 * run's), with what was dropped and whether memory ran out. */
void ef_diags_merge(ef_diags *into, const ef_diags *from);
/* Records that memory ran out (at file, or "" when no file is
 * concerned): an "out of memory" diagnostic, and out_of_memory set even
 * when that diagnostic cannot be kept. */
void ef_diags_out_of_memory(ef_diags *d, const char *file);
/* Forgets every diagnostic, keeping the list and the sources for reuse. */
void ef_diags_clear(ef_diags *d);
/* Appends a diagnostic; every string is copied. source may be NULL. */
void ef_diags_add(ef_diags *d, const char *file, int line, int col,
                  const char *path, const char *hint, const char *source,
                  const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
/* Renders all diagnostics compiler-style (file:line:col: error: path:
 * message, then the source line with a caret) into a malloc'd string. */
char *ef_diags_render(const ef_diags *d);

/* Every allocation einflow makes goes through these (src/spec/alloc.c),
 * with the semantics of malloc, calloc, realloc and strdup. */
void *ef_malloc(size_t size);
void *ef_calloc(size_t n, size_t size);
void *ef_realloc(void *p, size_t size);
char *ef_strdup(const char *s);
/* Test mode, for this thread: the n-th allocation from now on (1-based)
 * fails, the others succeed; 0 turns it off. ef_alloc_count gives the
 * allocations made since. */
void ef_alloc_fail_at(uint64_t n);
uint64_t ef_alloc_count(void);
/* Allocations of this thread that have failed, test mode or not: a
 * builder whose pieces cannot report a failure one by one (cJSON's
 * adders) compares it before and after. */
uint64_t ef_alloc_failures(void);

/* Seconds on a monotonic clock (src/spec/clock.c): differences are
 * wall times. */
double ef_now_seconds(void);

/* Levenshtein-closest candidate to word, or NULL if none is close. */
const char *ef_suggest(const char *word, const char *const *candidates,
                       size_t n);

/* Overflow-checked 64-bit arithmetic: return false on overflow. */
static inline bool ef_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}
static inline bool ef_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}

#endif
