/* The growing string (sbuf.h). */
#include "spec/sbuf.h"

#include "einflow/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and the NUL; false (sticky) when there is none. */
static bool reserve(sbuf *b, size_t n) {
    if (b->failed) return false;
    if (b->len + n + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
        if (cap > (size_t)-1 / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *p = ef_realloc(b->buf, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->buf = p;
    b->cap = cap;
    return true;
}

void sbuf_putn(sbuf *b, const char *s, size_t n) {
    if (!reserve(b, n)) return;
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

void sbuf_puts(sbuf *b, const char *s) { sbuf_putn(b, s, strlen(s)); }

void sbuf_put(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) {
        b->failed = true;
        return;
    }
    if (!reserve(b, (size_t)need)) return;
    va_start(ap, fmt);
    vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)need;
}

char *sbuf_take(sbuf *b) {
    if (!b->failed && !b->buf) reserve(b, 0);
    if (b->failed) {
        free(b->buf);
        *b = (sbuf){0};
        return NULL;
    }
    b->buf[b->len] = '\0';
    char *s = b->buf;
    *b = (sbuf){0};
    return s;
}
