/* A growing string, for the texts the program renders (diagnostics,
 * tables, mapping files). Out of memory is sticky: once an append
 * fails, later ones are ignored and sbuf_take returns NULL, so a
 * caller never passes off a text with a piece missing as complete. */
#ifndef EF_SPEC_SBUF_H
#define EF_SPEC_SBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *buf;      /* malloc'd, NUL-terminated; NULL until the first put */
    size_t len, cap;
    bool failed;    /* an append ran out of memory                       */
} sbuf;

void sbuf_putn(sbuf *b, const char *s, size_t n);
void sbuf_puts(sbuf *b, const char *s);
void sbuf_put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text, which the caller frees: "" when nothing was put, NULL
 * (and the buffer freed) when an append failed. */
char *sbuf_take(sbuf *b);

#endif
