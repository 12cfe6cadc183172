/* einflow spec stage, internal — a YAML file as a small located tree,
 * plus the schema-driven getters the three loaders share.
 *
 * ytree.c turns libyaml's event stream into yt_node trees, rejecting
 * what einflow's strict YAML does not allow (duplicate keys, anchors,
 * aliases, tags, several documents). yget.c reads typed values out of
 * the tree; every failure becomes a located diagnostic with key path,
 * "expected X, found Y", the source line and, where one is close, a
 * "did you mean" hint.
 *
 * Ownership: a yt_doc owns its whole tree, its copy of the file text and
 * its file name; yt_free releases everything. Node pointers and scalar
 * texts are borrowed and live as long as the doc. The ef_diags passed to
 * yt_load is borrowed and must outlive the doc (NULL discards). */
#ifndef EF_SPEC_YTREE_H
#define EF_SPEC_YTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "einflow/common.h"
#include "einflow/spec.h"

#define YT_MAX_DEPTH 64          /* nesting of sequences and mappings    */
#define YT_MAX_FILE_BYTES (16u << 20) /* bigger inputs are not specs     */
#define YT_MAX_KEYS 16           /* keys of one schema table             */
#define YT_MAX_PATH 256          /* bytes of a key path incl. NUL        */

typedef enum { YT_SCALAR, YT_SEQ, YT_MAP } yt_kind;

typedef struct yt_node yt_node;

typedef struct {
    yt_node *key;                /* always a scalar                      */
    yt_node *value;
} yt_pair;

struct yt_node {
    yt_kind kind;
    int line, col;               /* 1-based; a quoted scalar's quote     */
    bool quoted;                 /* '...' or "...": a string, never a number */
    bool block;                  /* | or > scalar: text starts next line */
    bool bad;                    /* already reported (an alias): getters
                                    fail without a second diagnostic    */
    char *origin;                /* owned; NULL for a node of the file.
                                    A node put in by an override
                                    (yt_set_scalar) names where it was
                                    given ("--set arch.pe_array.rows",
                                    or a sweep file), so its errors
                                    point there; line, col are in it (0
                                    on the command line)                 */
    char *tag;                   /* owned; the node's tag as written
                                    ("!Container"), only in a doc loaded
                                    with yt_load_tagged; NULL else      */
    char *text;                  /* scalar text, NUL-terminated; "" else */
    size_t len;                  /* bytes of text (may hold a NUL)       */
    size_t count;                /* sequence items or mapping pairs      */
    size_t cap;
    yt_node **items;             /* YT_SEQ                               */
    yt_pair *pairs;              /* YT_MAP, in document order            */
};

typedef struct {
    char *file;                  /* path as given                        */
    char *buf;                   /* whole file text, NUL-terminated      */
    size_t size;
    size_t *line_start;          /* offset of each line in buf           */
    int line_count;
    yt_node *root;               /* never NULL in a returned doc         */
    ef_diags *diags;             /* borrowed                             */
    int errors;                  /* diagnostics raised so far            */
    bool keep_tags;              /* tags are kept on nodes, not errors   */
} yt_doc;

/* Loads path into a tree. Returns NULL (with a diagnostic) when the file
 * cannot be read, is not YAML, is empty or memory runs out. A returned
 * doc may still carry errors (duplicate keys, anchors): check
 * doc->errors after loading the values out of it. */
yt_doc *yt_load(const char *path, ef_diags *diags);
/* The same for text held in memory (a built-in file); name stands for
 * the file name in diagnostics. */
yt_doc *yt_load_text(const char *name, const char *text, ef_diags *diags);
/* The same for text[0 .. size), which may hold NUL bytes (reported as
 * a file's would be); text is borrowed, the doc keeps a copy. */
yt_doc *yt_load_mem(const char *name, const char *text, size_t size,
                    ef_diags *diags);
/* yt_load for a foreign format whose files carry tags (Timeloop's
 * `- !Component`): a tag is kept on its node (yt_node.tag) instead of
 * being an error. Anchors, aliases and duplicate keys are still errors. */
yt_doc *yt_load_tagged(const char *path, ef_diags *diags);
void yt_free(yt_doc *d);

/* Reports an error located at node n (NULL: no location) with the key
 * path, an optional hint and the node's source line. Counts it in
 * d->errors. */
void yt_error(yt_doc *d, const yt_node *n, const char *path,
              const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void yt_error_at(yt_doc *d, int line, int col, const char *path,
                 const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void yt_oom(yt_doc *d);

/* ---------- changing a loaded tree (overrides) ----------
 * Nodes made here carry origin (copied) and origin_line/col in place of
 * a place in the file; errors raised at them render there. */

/* A new scalar or empty mapping; NULL when out of memory. */
yt_node *yt_new_node(yt_kind kind, const char *text, const char *origin,
                     int line, int col);
void yt_node_free(yt_node *n);
/* Appends key: value to map (both taken over); false when out of
 * memory (then both are freed). */
bool yt_map_append(yt_node *map, yt_node *key, yt_node *value);

/* The value for key in a mapping (NULL when absent or n not a mapping),
 * and the key node itself. */
const yt_node *yt_map_get(const yt_node *n, const char *key);
const yt_node *yt_map_key(const yt_node *n, const char *key);

/* What a node looks like, for "found ...": "\"12.5\"", "the string
 * \"12\"", "a sequence", "a mapping", "nothing". Returns buf. */
const char *yt_describe(const yt_node *n, char *buf, size_t size);

/* Key paths: "levels[1].capacity". Truncates safely. */
void yt_path_key(char *buf, size_t size, const char *parent, const char *key);
void yt_path_index(char *buf, size_t size, const char *parent, size_t i);

ef_loc yt_loc(const char *file, const yt_node *n);
char *yt_strdup(const char *s);
/* "a, b, c" of names[0..n), for "expected one of ...". Truncates. */
void yt_join(char *buf, size_t size, const char *const *names, size_t n);

/* ---------- typed getters on one node (yget.c) ----------
 * Each returns true and writes *out on success; on failure it reports a
 * diagnostic at n with path and returns false, leaving *out alone. A
 * NULL node is a bug in the caller (use the yt_obj getters for optional
 * keys). */

/* Unsigned decimal integer in [min, max]. */
bool yt_u64(yt_doc *d, const yt_node *n, const char *path, uint64_t min,
            uint64_t max, uint64_t *out);
/* Like yt_u64, but the plain word `word` is accepted too: then
 * *is_word is set and *out left alone ("batch" as a rank bound). A
 * near miss of the word gets a "did you mean" hint. */
bool yt_u64_or_word(yt_doc *d, const yt_node *n, const char *path,
                    uint64_t min, uint64_t max, const char *word,
                    uint64_t *out, bool *is_word);
/* Finite decimal number >= min (> min when exclusive). */
bool yt_num(yt_doc *d, const yt_node *n, const char *path, double min,
            bool exclusive, double *out);
/* Any decimal number, or an infinity: inf, -inf (also +inf and YAML's
 * .inf, -.inf). NaN is never a value. */
bool yt_real(yt_doc *d, const yt_node *n, const char *path, double *out);
/* true or false, nothing else (YAML 1.1's yes/no/on/off get a hint). */
bool yt_bool(yt_doc *d, const yt_node *n, const char *path, bool *out);
/* Any scalar, quoted or not; *out is borrowed from the tree. */
bool yt_str(yt_doc *d, const yt_node *n, const char *path, const char **out);
/* Identifier [A-Za-z_][A-Za-z0-9_]*, shorter than EF_MAX_NAME. */
bool yt_name(yt_doc *d, const yt_node *n, const char *path,
             char out[EF_MAX_NAME]);
/* Like yt_name, but also allows - . + after the first character: for
 * the names of whole specs, which only label reports. */
bool yt_label(yt_doc *d, const yt_node *n, const char *path,
              char out[EF_MAX_NAME]);
/* One of the NULL-terminated choices; *out is the index. */
bool yt_enum(yt_doc *d, const yt_node *n, const char *path,
             const char *const *choices, int *out);
/* "64 B", "108KiB", "224 words": an integer and a unit. */
bool yt_size(yt_doc *d, const yt_node *n, const char *path, ef_capacity *out);

/* ---------- schema tables (yget.c) ----------
 * Each object of a spec declares its keys once, in a table; the strict
 * key check, the getters' bounds and defaults, and documentation all
 * read that table. */

typedef enum {
    YT_T_INT,      /* unsigned integer in [min, max] (max 0: unbounded)   */
    YT_T_NUM,      /* number >= min                                       */
    YT_T_POSNUM,   /* number > 0                                          */
    YT_T_BOOL,
    YT_T_STR,      /* free text                                           */
    YT_T_NAME,     /* identifier                                          */
    YT_T_LABEL,    /* identifier that may also hold - . + (spec names)    */
    YT_T_ENUM,     /* one of choices                                      */
    YT_T_MAP,
    YT_T_SEQ,
    YT_T_ANY       /* the loader decides (e.g. size or per-tensor map)    */
} yt_type;

typedef struct {
    const char *name;
    yt_type type;
    bool required;
    double min, max;             /* YT_T_INT / YT_T_NUM bounds           */
    double def;                  /* default when absent (numbers, bool)  */
    const char *const *choices;  /* YT_T_ENUM, NULL-terminated           */
    const char *unit;            /* of the value, e.g. "bytes/cycle"     */
    const char *doc;             /* one line for docs and `explain`      */
} yt_key;

/* One mapping of the spec being read against its key table. */
typedef struct {
    yt_doc *doc;
    const yt_node *node;         /* the mapping, or NULL when absent     */
    const yt_key *keys;
    size_t nkeys;
    const yt_node *vals[YT_MAX_KEYS];  /* per key; NULL when absent     */
    const yt_node *knodes[YT_MAX_KEYS];
    char path[YT_MAX_PATH];
} yt_obj;

/* Checks n against keys: every key not in the table is reported with a
 * "did you mean" hint, every missing required key is reported at n,
 * and values of YT_T_MAP/YT_T_SEQ keys must have that shape (else they
 * are reported and treated as absent). n == NULL is an absent optional
 * object: no error, every getter yields its default. Returns true when
 * n is a mapping. */
bool yt_obj_open(yt_obj *o, yt_doc *d, const yt_node *n, const char *path,
                 const yt_key *keys, size_t nkeys);
const yt_node *yt_obj_val(const yt_obj *o, const char *key);
const yt_node *yt_obj_knode(const yt_obj *o, const char *key);
/* The path of key inside o, into buf. Returns buf. */
const char *yt_obj_path(const yt_obj *o, const char *key, char *buf,
                        size_t size);

/* Typed reads of one key: absent keys yield the table's default (or
 * leave *out alone for names and strings) and return true; a bad value
 * is reported and returns false. */
bool yt_get_u64(yt_obj *o, const char *key, uint64_t *out);
bool yt_get_int(yt_obj *o, const char *key, int *out);
bool yt_get_num(yt_obj *o, const char *key, double *out);
bool yt_get_bool(yt_obj *o, const char *key, bool *out);
/* YT_T_NAME or YT_T_LABEL keys. */
bool yt_get_name(yt_obj *o, const char *key, char out[EF_MAX_NAME]);
bool yt_get_str(yt_obj *o, const char *key, const char **out);
bool yt_get_enum(yt_obj *o, const char *key, int *out);

#endif
