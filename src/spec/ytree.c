/* einflow spec stage, internal — reads one YAML file into a located
 * yt_node tree with libyaml's event parser. This is where strict YAML
 * is enforced: libyaml accepts duplicate keys, anchors and aliases,
 * tags and several documents per stream; einflow's specs accept none of
 * them, so each becomes a diagnostic here and the loaders never see it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "spec/ytree.h"

/* ---------- diagnostics ---------- */

/* The doc's own line, or NULL. The pointer runs to the end of the
 * buffer; ef_diags_add copies only up to the newline. */
static const char *source_of(const yt_doc *d, int line) {
    if (!d->buf || line < 1 || line > d->line_count)
        return NULL;
    return d->buf + d->line_start[line - 1];
}

static void verror(yt_doc *d, const char *origin, int line, int col,
                   const char *path, const char *hint, const char *fmt,
                   va_list ap) {
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    d->errors++;
    if (origin) {
        /* an override's value: its line is in the file that gave it */
        char *src = line > 0 ? ef_spec_source_line(origin, line) : NULL;
        ef_diags_add(d->diags, origin, line, col, path, hint, src, "%s", msg);
        free(src);
        return;
    }
    ef_diags_add(d->diags, d->file, line, col, path, hint,
                 source_of(d, line), "%s", msg);
}

void yt_error_at(yt_doc *d, int line, int col, const char *path,
                 const char *hint, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verror(d, NULL, line, col, path, hint, fmt, ap);
    va_end(ap);
}

void yt_error(yt_doc *d, const yt_node *n, const char *path,
              const char *hint, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verror(d, n ? n->origin : NULL, n ? n->line : 0, n ? n->col : 0, path,
           hint, fmt, ap);
    va_end(ap);
}

void yt_oom(yt_doc *d) {
    d->errors++;
    ef_diags_out_of_memory(d->diags, d->file);
}

char *yt_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = ef_malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

/* ---------- reading the file ---------- */

static bool read_file(yt_doc *d, const char *path) {
    char why[256];
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (strerror_r(errno, why, sizeof why) != 0)
            snprintf(why, sizeof why, "error %d", errno);
        yt_error(d, NULL, "", NULL, "cannot open: %s", why);
        return false;
    }
    size_t cap = 4096, len = 0;
    char *buf = ef_malloc(cap);
    bool ok = buf != NULL;
    while (ok) {
        if (len + 1 >= cap) {
            if (cap >= YT_MAX_FILE_BYTES) {
                yt_error(d, NULL, "", NULL,
                         "file too large: a spec is at most %u bytes",
                         YT_MAX_FILE_BYTES);
                ok = false;
                break;
            }
            char *p = ef_realloc(buf, cap * 2);
            if (!p) {
                yt_oom(d);
                ok = false;
                break;
            }
            buf = p;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                if (strerror_r(errno, why, sizeof why) != 0)
                    snprintf(why, sizeof why, "error %d", errno);
                yt_error(d, NULL, "", NULL, "cannot read: %s", why);
                ok = false;
            }
            break;
        }
    }
    if (!buf)
        yt_oom(d);
    fclose(f);
    if (!ok) {
        free(buf);
        return false;
    }
    buf[len] = '\0';
    d->buf = buf;
    d->size = len;
    return true;
}

static bool index_lines(yt_doc *d) {
    size_t n = 1;
    for (size_t i = 0; i < d->size; i++)
        if (d->buf[i] == '\n')
            n++;
    if (n > (size_t)INT32_MAX)
        return false;
    d->line_start = ef_malloc(n * sizeof *d->line_start);
    if (!d->line_start)
        return false;
    size_t at = 0;
    d->line_start[at++] = 0;
    for (size_t i = 0; i < d->size; i++)
        if (d->buf[i] == '\n')
            d->line_start[at++] = i + 1;
    d->line_count = (int)n;
    return true;
}

/* ---------- building the tree ---------- */

typedef struct {
    yaml_parser_t parser;
    yt_doc *doc;
} loader;

static void node_free(yt_node *n) {
    if (!n)
        return;
    for (size_t i = 0; n->items && i < n->count; i++)
        node_free(n->items[i]);
    for (size_t i = 0; n->pairs && i < n->count; i++) {
        node_free(n->pairs[i].key);
        node_free(n->pairs[i].value);
    }
    free(n->items);
    free(n->pairs);
    free(n->text);
    free(n->tag);
    free(n->origin);
    free(n);
}

static yt_node *node_new(yt_kind kind, yaml_mark_t m) {
    yt_node *n = ef_calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = (int)m.line + 1;
    n->col = (int)m.column + 1;
    if (kind != YT_SCALAR) {
        n->text = ef_calloc(1, 1);
        if (!n->text) {
            free(n);
            return NULL;
        }
    }
    return n;
}

static bool grow(yt_node *n) {
    if (n->count < n->cap)
        return true;
    size_t cap = n->cap ? n->cap * 2 : 4;
    if (n->kind == YT_SEQ) {
        yt_node **p = ef_realloc(n->items, cap * sizeof *p);
        if (!p)
            return false;
        n->items = p;
    } else {
        yt_pair *p = ef_realloc(n->pairs, cap * sizeof *p);
        if (!p)
            return false;
        n->pairs = p;
    }
    n->cap = cap;
    return true;
}

static void syntax_error(loader *L) {
    yaml_parser_t *p = &L->parser;
    yt_doc *d = L->doc;
    if (p->error == YAML_MEMORY_ERROR) {
        yt_oom(d);
        return;
    }
    const char *problem = p->problem ? p->problem : "unknown error";
    if (p->error == YAML_READER_ERROR) {
        /* Reader errors (bad encoding) carry a byte offset, not a mark. */
        int line = 1, col = 1;
        size_t off = p->problem_offset < d->size ? p->problem_offset : d->size;
        for (size_t i = 0; i < off; i++) {
            col++;
            if (d->buf[i] == '\n') {
                line++;
                col = 1;
            }
        }
        char hint[96];
        snprintf(hint, sizeof hint, "the byte there is 0x%02x",
                 off < d->size ? (unsigned)(unsigned char)d->buf[off] : 0u);
        yt_error_at(d, line, col, "", off < d->size ? hint : NULL,
                    "invalid YAML: %s", problem);
        return;
    }
    char hint[160];
    const char *h = NULL;
    if (p->context) {
        snprintf(hint, sizeof hint, "%s that starts at line %d", p->context,
                 (int)p->context_mark.line + 1);
        h = hint;
    }
    yt_error_at(d, (int)p->problem_mark.line + 1,
                (int)p->problem_mark.column + 1, "", h, "invalid YAML: %s",
                problem);
}

static bool next_event(loader *L, yaml_event_t *ev) {
    if (yaml_parser_parse(&L->parser, ev))
        return true;
    syntax_error(L);
    return false;
}

/* Anchors and tags are reported but the node is kept: the rest of the
 * file can still be checked. */
static void check_props(loader *L, yt_node *n, const yaml_char_t *anchor,
                        const yaml_char_t *tag) {
    if (anchor)
        yt_error(L->doc, n, "", "write the values out in full",
                 "anchors are not supported, found \"&%s\"",
                 (const char *)anchor);
    if (tag) {
        /* Show the tag as written: "!!str", not its expanded form. */
        static const char core[] = "tag:yaml.org,2002:";
        const char *t = (const char *)tag;
        bool short_form = strncmp(t, core, sizeof core - 1) == 0;
        if (L->doc->keep_tags && !short_form) {
            n->tag = yt_strdup(t);
            if (!n->tag)
                yt_oom(L->doc);
            return;
        }
        yt_error(L->doc, n, "", NULL, "tags are not supported, found \"%s%s\"",
                 short_form ? "!!" : "", short_form ? t + sizeof core - 1 : t);
    }
}

static yt_node *parse_node(loader *L, yaml_event_t *ev, int depth);

static yt_node *parse_seq(loader *L, yt_node *n, int depth) {
    for (;;) {
        yaml_event_t ev;
        if (!next_event(L, &ev))
            return NULL;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return n;
        }
        yt_node *item = parse_node(L, &ev, depth + 1);
        if (!item)
            return NULL;
        if (!grow(n)) {
            node_free(item);
            yt_oom(L->doc);
            return NULL;
        }
        n->items[n->count++] = item;
    }
}

static const yt_node *find_key(const yt_node *map, const char *text,
                               size_t len) {
    for (size_t i = 0; i < map->count; i++) {
        const yt_node *k = map->pairs[i].key;
        if (k->len == len && memcmp(k->text, text, len) == 0)
            return k;
    }
    return NULL;
}

static yt_node *parse_map(loader *L, yt_node *n, int depth) {
    static const char *const kind_name[] = {"a scalar", "a sequence",
                                            "a mapping"};
    for (;;) {
        yaml_event_t ev;
        if (!next_event(L, &ev))
            return NULL;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return n;
        }
        yt_node *key = parse_node(L, &ev, depth + 1);
        if (!key)
            return NULL;
        if (!next_event(L, &ev)) {
            node_free(key);
            return NULL;
        }
        yt_node *value = parse_node(L, &ev, depth + 1);
        if (!value) {
            node_free(key);
            return NULL;
        }
        /* A rejected pair is dropped so that nothing downstream reports
         * it a second time. */
        bool keep = !key->bad;
        if (keep && key->kind != YT_SCALAR) {
            yt_error(L->doc, key, "", NULL, "expected a scalar key, found %s",
                     kind_name[key->kind]);
            keep = false;
        }
        if (keep && strlen(key->text) != key->len) {
            yt_error(L->doc, key, "", NULL,
                     "expected a key without NUL characters, found \"%s\\0...\"",
                     key->text);
            keep = false;
        }
        const yt_node *first =
            keep ? find_key(n, key->text, key->len) : NULL;
        if (first) {
            yt_error(L->doc, key, "", NULL,
                     "duplicate key \"%s\" (first at line %d)", key->text,
                     first->line);
            keep = false;
        }
        if (!keep) {
            node_free(key);
            node_free(value);
            continue;
        }
        if (!grow(n)) {
            node_free(key);
            node_free(value);
            yt_oom(L->doc);
            return NULL;
        }
        n->pairs[n->count].key = key;
        n->pairs[n->count].value = value;
        n->count++;
    }
}

/* Consumes ev. Returns NULL only when parsing cannot go on (syntax
 * error, out of memory, too deep); the diagnostic is already out. */
static yt_node *parse_node(loader *L, yaml_event_t *ev, int depth) {
    yt_node *n = NULL;
    if (depth > YT_MAX_DEPTH) {
        yt_error_at(L->doc, (int)ev->start_mark.line + 1,
                    (int)ev->start_mark.column + 1, "", NULL,
                    "nesting deeper than %d levels", YT_MAX_DEPTH);
        yaml_event_delete(ev);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n = node_new(YT_SCALAR, ev->start_mark);
        if (!n)
            break;
        n->len = ev->data.scalar.length;
        n->text = ef_malloc(n->len + 1);
        if (!n->text) {
            free(n);
            n = NULL;
            break;
        }
        memcpy(n->text, ev->data.scalar.value, n->len);
        n->text[n->len] = '\0';
        n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        n->block = ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                   ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
        check_props(L, n, ev->data.scalar.anchor, ev->data.scalar.tag);
        yaml_event_delete(ev);
        return n;
    case YAML_ALIAS_EVENT:
        n = node_new(YT_SCALAR, ev->start_mark);
        if (!n || !(n->text = ef_calloc(1, 1))) {
            free(n);
            n = NULL;
            break;
        }
        n->bad = true;
        yt_error(L->doc, n, "", "write the values out in full",
                 "aliases are not supported, found \"*%s\"",
                 (const char *)ev->data.alias.anchor);
        yaml_event_delete(ev);
        return n;
    case YAML_SEQUENCE_START_EVENT:
        n = node_new(YT_SEQ, ev->start_mark);
        if (!n)
            break;
        check_props(L, n, ev->data.sequence_start.anchor,
                    ev->data.sequence_start.tag);
        yaml_event_delete(ev);
        if (!parse_seq(L, n, depth)) {
            node_free(n);
            return NULL;
        }
        return n;
    case YAML_MAPPING_START_EVENT:
        n = node_new(YT_MAP, ev->start_mark);
        if (!n)
            break;
        check_props(L, n, ev->data.mapping_start.anchor,
                    ev->data.mapping_start.tag);
        yaml_event_delete(ev);
        if (!parse_map(L, n, depth)) {
            node_free(n);
            return NULL;
        }
        return n;
    default:
        /* libyaml only emits nodes here; anything else is a bug. */
        yt_error_at(L->doc, (int)ev->start_mark.line + 1,
                    (int)ev->start_mark.column + 1, "", NULL,
                    "invalid YAML: unexpected event %d", (int)ev->type);
        yaml_event_delete(ev);
        return NULL;
    }
    yaml_event_delete(ev);
    yt_oom(L->doc);
    return NULL;
}

static bool is_empty_scalar(const yt_node *n) {
    return n->kind == YT_SCALAR && !n->quoted && !n->block && n->len == 0;
}

/* stream-start, one document, stream-end: anything else is an error. */
static yt_node *parse_stream(loader *L) {
    yt_doc *d = L->doc;
    yaml_event_t ev;
    if (!next_event(L, &ev))
        return NULL;
    yaml_event_delete(&ev); /* STREAM_START */
    if (!next_event(L, &ev))
        return NULL;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        yt_error_at(d, 1, 1, "", NULL,
                    "expected a mapping of keys, found an empty document");
        return NULL;
    }
    yaml_event_delete(&ev); /* DOCUMENT_START */
    if (!next_event(L, &ev))
        return NULL;
    yt_node *root = parse_node(L, &ev, 0);
    if (!root)
        return NULL;
    if (!next_event(L, &ev)) { /* DOCUMENT_END */
        node_free(root);
        return NULL;
    }
    yaml_event_delete(&ev);
    if (!next_event(L, &ev)) {
        node_free(root);
        return NULL;
    }
    if (ev.type == YAML_DOCUMENT_START_EVENT) {
        yt_error_at(d, (int)ev.start_mark.line + 1,
                    (int)ev.start_mark.column + 1, "",
                    "put each spec in its own file",
                    "expected one YAML document, found a second one");
        yaml_event_delete(&ev);
        node_free(root);
        return NULL;
    }
    yaml_event_delete(&ev);
    if (is_empty_scalar(root)) {
        yt_error_at(d, 1, 1, "", NULL,
                    "expected a mapping of keys, found an empty document");
        node_free(root);
        return NULL;
    }
    return root;
}

/* A doc named `name` with nothing read yet; NULL when out of memory. */
static yt_doc *doc_new(const char *name, ef_diags *diags) {
    yt_doc *d = ef_calloc(1, sizeof *d);
    if (!d) {
        ef_diags_out_of_memory(diags, name);
        return NULL;
    }
    d->diags = diags;
    d->file = yt_strdup(name ? name : "<input>");
    if (!d->file) {
        ef_diags_out_of_memory(diags, name);
        free(d);
        return NULL;
    }
    return d;
}

/* Parses the text already in d->buf into d's tree. */
static yt_doc *doc_parse(yt_doc *d) {
    /* later stages quote the lines of this text, whatever the file
     * holds by then */
    ef_diags_keep_source(d->diags, d->file, d->buf, d->size);
    if (!index_lines(d)) {
        yt_oom(d);
        yt_free(d);
        return NULL;
    }
    loader L = {.doc = d};
    if (!yaml_parser_initialize(&L.parser)) {
        yt_oom(d);
        yt_free(d);
        return NULL;
    }
    yaml_parser_set_input_string(&L.parser, (const unsigned char *)d->buf,
                                 d->size);
    d->root = parse_stream(&L);
    yaml_parser_delete(&L.parser);
    if (!d->root) {
        yt_free(d);
        return NULL;
    }
    return d;
}

yt_doc *yt_load(const char *path, ef_diags *diags) {
    yt_doc *d = doc_new(path, diags);
    if (!d)
        return NULL;
    if (!read_file(d, d->file)) {
        yt_free(d);
        return NULL;
    }
    return doc_parse(d);
}

yt_doc *yt_load_tagged(const char *path, ef_diags *diags) {
    yt_doc *d = doc_new(path, diags);
    if (!d)
        return NULL;
    d->keep_tags = true;
    if (!read_file(d, d->file)) {
        yt_free(d);
        return NULL;
    }
    return doc_parse(d);
}

yt_doc *yt_load_text(const char *name, const char *text, ef_diags *diags) {
    return yt_load_mem(name, text, strlen(text), diags);
}

yt_doc *yt_load_mem(const char *name, const char *text, size_t size,
                    ef_diags *diags) {
    yt_doc *d = doc_new(name, diags);
    if (!d)
        return NULL;
    /* the same limit as a file's, so text and file read alike */
    if (size >= YT_MAX_FILE_BYTES) {
        yt_error(d, NULL, "", NULL, "file too large: a spec is at most %u bytes",
                 YT_MAX_FILE_BYTES);
        yt_free(d);
        return NULL;
    }
    d->buf = ef_malloc(size + 1);
    if (!d->buf) {
        yt_oom(d);
        yt_free(d);
        return NULL;
    }
    if (size)
        memcpy(d->buf, text, size);
    d->buf[size] = '\0';
    d->size = size;
    return doc_parse(d);
}

void yt_free(yt_doc *d) {
    if (!d)
        return;
    node_free(d->root);
    free(d->line_start);
    free(d->buf);
    free(d->file);
    free(d);
}

/* ---------- changing a loaded tree ---------- */

yt_node *yt_new_node(yt_kind kind, const char *text, const char *origin,
                     int line, int col) {
    yt_node *n = ef_calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = line;
    n->col = col;
    n->text = yt_strdup(kind == YT_SCALAR && text ? text : "");
    n->len = n->text ? strlen(n->text) : 0;
    n->origin = origin ? yt_strdup(origin) : NULL;
    if (!n->text || (origin && !n->origin)) {
        node_free(n);
        return NULL;
    }
    return n;
}

void yt_node_free(yt_node *n) { node_free(n); }

bool yt_map_append(yt_node *map, yt_node *key, yt_node *value) {
    if (!grow(map)) {
        node_free(key);
        node_free(value);
        return false;
    }
    map->pairs[map->count].key = key;
    map->pairs[map->count].value = value;
    map->count++;
    return true;
}

/* ---------- lookups ---------- */

const yt_node *yt_map_key(const yt_node *n, const char *key) {
    if (!n || n->kind != YT_MAP)
        return NULL;
    return find_key(n, key, strlen(key));
}

const yt_node *yt_map_get(const yt_node *n, const char *key) {
    if (!n || n->kind != YT_MAP)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < n->count; i++) {
        const yt_node *k = n->pairs[i].key;
        if (k->len == len && memcmp(k->text, key, len) == 0)
            return n->pairs[i].value;
    }
    return NULL;
}

ef_loc yt_loc(const char *file, const yt_node *n) {
    ef_loc l = {file, n ? n->line : 0, n ? n->col : 0};
    return l;
}
