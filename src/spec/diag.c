/* einflow spec stage — the located diagnostics list every stage reports
 * into, its compiler-style rendering (pinned by golden tests) and the
 * "did you mean" suggestions. Nothing here prints: rendering returns a
 * string and the CLI decides where it goes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einflow/common.h"
#include "einflow/spec.h"
#include "spec/sbuf.h"

/* ---------- the list ---------- */

ef_diags *ef_diags_create(void) { return ef_calloc(1, sizeof(ef_diags)); }

static void diag_clear(ef_diag *g) {
    free(g->file);
    free(g->path);
    free(g->message);
    free(g->hint);
    free(g->source);
}

void ef_diags_clear(ef_diags *d) {
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++)
        diag_clear(&d->items[i]);
    d->count = 0;
    d->dropped = 0;
}

static char *copy_n(const char *s, size_t n);

void ef_diags_destroy(ef_diags *d) {
    if (!d)
        return;
    ef_diags_clear(d);
    free(d->items);
    for (size_t i = 0; i < d->source_count; i++) {
        free(d->sources[i].file);
        free(d->sources[i].text);
    }
    free(d->sources);
    free(d);
}

void ef_diags_keep_source(ef_diags *d, const char *file, const char *text, size_t len) {
    if (!d || !file || !text)
        return;
    char *f = ef_strdup(file), *t = ef_malloc(len + 1);
    ef_diag_source *grown = ef_realloc(d->sources, (d->source_count + 1) * sizeof *grown);
    if (grown)
        d->sources = grown;
    if (!f || !t || !grown) {
        free(f);
        free(t);
        return;
    }
    memcpy(t, text, len);
    t[len] = '\0';
    d->sources[d->source_count++] = (ef_diag_source){.file = f, .text = t, .len = len};
}

char *ef_diags_source_line(const ef_diags *d, const char *file, int line) {
    if (!file || line < 1)
        return NULL;
    const ef_diag_source *src = NULL;
    for (size_t i = 0; d && i < d->source_count; i++)
        if (!strcmp(d->sources[i].file, file))
            src = &d->sources[i];
    if (!src)
        return ef_spec_source_line(file, line);
    const char *p = src->text, *end = src->text + src->len;
    for (int l = 1; l < line && p < end; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return NULL;
        p = nl + 1;
    }
    if (p >= end)
        return NULL;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)((nl ? nl : end) - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    return copy_n(p, n);
}

/* Copies at most n bytes of s; NULL in, NULL out. */
static char *copy_n(const char *s, size_t n) {
    char *c = ef_malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

void ef_diags_add(ef_diags *d, const char *file, int line, int col,
                  const char *path, const char *hint, const char *source,
                  const char *fmt, ...) {
    if (!d)
        return;
    if (d->count >= EF_MAX_DIAGS || d->count_only) {
        d->dropped++;
        return;
    }
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        if (cap > EF_MAX_DIAGS)
            cap = EF_MAX_DIAGS;
        ef_diag *items = ef_realloc(d->items, cap * sizeof *items);
        if (!items) {
            d->dropped++; /* still counted, so the failure is not silent */
            d->out_of_memory = true;
            return;
        }
        d->items = items;
        d->cap = cap;
    }

    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = n >= 0 ? ef_malloc((size_t)n + 1) : NULL;
    if (msg) {
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }

    if (!file)
        file = "<input>";
    if (!path)
        path = "";
    ef_diag g = {0};
    g.line = line > 0 ? line : 0;
    g.col = line > 0 && col > 0 ? col : 0;
    g.message = msg;
    g.file = copy_n(file, strlen(file));
    g.path = copy_n(path, strlen(path));
    bool ok = msg && g.file && g.path;
    if (hint) {
        g.hint = copy_n(hint, strlen(hint));
        ok = ok && g.hint;
    }
    /* Callers may pass a pointer into a whole file buffer: keep only
     * the one line. */
    if (source) {
        g.source = copy_n(source, strcspn(source, "\r\n"));
        ok = ok && g.source;
    }
    if (!ok) {
        diag_clear(&g);
        d->dropped++;
        d->out_of_memory = true;
        return;
    }
    d->items[d->count++] = g;
}

void ef_diags_merge(ef_diags *into, const ef_diags *from) {
    if (!into || !from)
        return;
    for (size_t k = 0; k < from->count; k++) {
        const ef_diag *g = &from->items[k];
        ef_diags_add(into, g->file, g->line, g->col, g->path, g->hint, g->source, "%s",
                     g->message);
    }
    into->dropped += from->dropped;
    into->out_of_memory |= from->out_of_memory;
}

void ef_diags_vadd_at(ef_diags *d, ef_loc loc, const char *file, const char *path,
                      const char *hint, const char *fmt, va_list ap) {
    if (d && d->count_only) {
        d->dropped++;
        return;
    }
    char msg[640];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (loc.file)
        file = loc.file;
    char *src = loc.line && file ? ef_diags_source_line(d, file, loc.line) : NULL;
    ef_diags_add(d, file, loc.line, loc.col, path, hint, src, "%s", msg);
    free(src);
}

void ef_diags_out_of_memory(ef_diags *d, const char *file) {
    if (!d)
        return;
    d->out_of_memory = true;
    ef_diags_add(d, file, 0, 0, "", NULL, NULL, "out of memory");
}

/* ---------- rendering ---------- */

/* The caret goes under column col, counted in characters as libyaml
 * counts them. Tabs are copied so the caret lines up whatever the
 * terminal's tab width; UTF-8 continuation bytes take no column. */
static void render_caret(sbuf *b, const char *source, int col) {
    sbuf_puts(b, "      | ");
    const unsigned char *p = (const unsigned char *)source;
    for (int c = 1; c < col; c++) {
        if (*p == '\t') {
            sbuf_putn(b, "\t", 1);
        } else {
            sbuf_putn(b, " ", 1);
        }
        if (*p) {
            p++;
            while ((*p & 0xC0) == 0x80)
                p++;
        }
    }
    sbuf_puts(b, "^\n");
}

/* Byte offset of column col (1-based, in characters as libyaml counts
 * them) in source, or its end. */
static size_t column_offset(const char *source, int col) {
    const unsigned char *p = (const unsigned char *)source;
    for (int c = 1; c < col && *p; c++) {
        p++;
        while ((*p & 0xC0) == 0x80)
            p++;
    }
    return (size_t)(p - (const unsigned char *)source);
}

/* Back to the start of the UTF-8 character holding byte i. */
static size_t char_start(const char *s, size_t i) {
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

/* Characters in s[from, to). */
static int chars_between(const char *s, size_t from, size_t to) {
    int n = 0;
    for (size_t i = from; i < to; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* The source line with a caret under col. A long line (a generated
 * Einsum thousands of characters wide) shows only a window around the
 * column, marked with "...", so the caret stays on the screen. */
static void render_source(sbuf *b, const char *source, int line, int col) {
    enum { BEFORE = 60, AFTER = 40, LONG = 120 };
    size_t len = strlen(source);
    if (len <= LONG) {
        sbuf_put(b, "%5d | %s\n", line, source);
        if (col > 0)
            render_caret(b, source, col);
        return;
    }
    size_t at = col > 0 ? column_offset(source, col) : 0;
    size_t from = at > BEFORE ? char_start(source, at - BEFORE) : 0;
    size_t to = at + AFTER < len ? char_start(source, at + AFTER) : len;
    const char *lead = from > 0 ? "..." : "", *tail = to < len ? "..." : "";
    sbuf_put(b, "%5d | %s%.*s%s\n", line, lead, (int)(to - from), source + from, tail);
    if (col > 0) {
        sbuf_puts(b, "      | ");
        int pad = chars_between(source, from, at) + (from > 0 ? 3 : 0);
        for (size_t i = from; i < at; i++) /* tabs copied, as render_caret does */
            if (source[i] == '\t') {
                sbuf_putn(b, "\t", 1);
                pad--;
            }
        for (; pad > 0; pad--)
            sbuf_putn(b, " ", 1);
        sbuf_puts(b, "^\n");
    }
}

static void render_one(sbuf *b, const ef_diag *g) {
    sbuf_puts(b, g->file);
    if (g->line > 0) {
        sbuf_put(b, ":%d", g->line);
        if (g->col > 0)
            sbuf_put(b, ":%d", g->col);
    }
    sbuf_puts(b, ": error: ");
    if (g->path && g->path[0]) {
        sbuf_puts(b, g->path);
        sbuf_puts(b, ": ");
    }
    sbuf_puts(b, g->message);
    sbuf_puts(b, "\n");
    if (g->source && g->line > 0)
        render_source(b, g->source, g->line, g->col);
    if (g->hint) {
        sbuf_puts(b, "      = hint: ");
        sbuf_puts(b, g->hint);
        sbuf_puts(b, "\n");
    }
}

char *ef_diags_render(const ef_diags *d) {
    sbuf b = {0};
    if (d) {
        for (size_t i = 0; i < d->count; i++)
            render_one(&b, &d->items[i]);
        if (d->dropped > 0)
            sbuf_put(&b, "... and %zu more errors\n", d->dropped);
    }
    return sbuf_take(&b);
}

/* ---------- suggestions ---------- */

#define SUGGEST_MAX_LEN 128 /* longer words are never typos of a key */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

/* Edit distance counting a swap of two neighbouring letters as one edit
 * (optimal string alignment), so "rnu" is one edit from "run". */
static size_t levenshtein(const char *a, size_t la, const char *b, size_t lb) {
    size_t d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int ai = lower((unsigned char)a[i - 1]), bj = lower((unsigned char)b[j - 1]);
            size_t best = d[i - 1][j - 1] + (ai != bj);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ai == lower((unsigned char)b[j - 2]) &&
                lower((unsigned char)a[i - 2]) == bj && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

static size_t common_prefix(const char *a, const char *b) {
    size_t n = 0;
    while (a[n] && b[n] &&
           lower((unsigned char)a[n]) == lower((unsigned char)b[n]))
        n++;
    return n;
}

const char *ef_suggest(const char *word, const char *const *candidates,
                       size_t n) {
    if (!word || !candidates)
        return NULL;
    size_t lw = strlen(word);
    if (lw > SUGGEST_MAX_LEN)
        return NULL;
    /* a one-letter name is one edit from every other one: suggest only
     * a difference of case there */
    size_t limit = lw < 2 ? 0 : lw / 3 > 1 ? lw / 3 : 1;
    const char *best = NULL;
    size_t best_dist = 0, best_prefix = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = candidates[i];
        if (!c)
            continue;
        size_t lc = strlen(c);
        if (lc > SUGGEST_MAX_LEN)
            continue;
        size_t dist = levenshtein(word, lw, c, lc);
        if (dist > limit)
            continue;
        /* Ties go to the longer shared prefix: "sdram" is a slip for
         * "sram" more often than for "dram", "KB" means "KiB", not "B". */
        size_t prefix = common_prefix(word, c);
        if (!best || dist < best_dist ||
            (dist == best_dist && prefix > best_prefix)) {
            best = c;
            best_dist = dist;
            best_prefix = prefix;
        }
    }
    return best;
}

/* ---------- source lines ---------- */

char *ef_spec_source_line(const char *file, int line) {
    if (!file || line < 1)
        return NULL;
    FILE *f = fopen(file, "rb");
    if (!f)
        return NULL;
    int c, at = 1;
    while (at < line && (c = getc(f)) != EOF)
        if (c == '\n')
            at++;
    if (at < line) {
        fclose(f);
        return NULL;
    }
    /* A file ending in a newline has no line after it. */
    c = getc(f);
    if (c == EOF) {
        fclose(f);
        return NULL;
    }
    ungetc(c, f);
    size_t len = 0, cap = 128;
    char *s = ef_malloc(cap);
    while (s && (c = getc(f)) != EOF && c != '\n') {
        if (len + 2 > cap) {
            char *p = ef_realloc(s, cap * 2);
            if (!p) {
                free(s);
                s = NULL;
                break;
            }
            s = p;
            cap *= 2;
        }
        s[len++] = (char)c;
    }
    if (s) {
        if (len > 0 && s[len - 1] == '\r')
            len--;
        s[len] = '\0';
    }
    fclose(f);
    return s;
}
