/* Internal to the report stage: a growing string the text renderers
 * print into. Out of memory stops the growth; the caller checks buf. */
#ifndef EF_REPORT_SBUF_H
#define EF_REPORT_SBUF_H

#include <stddef.h>

typedef struct {
    char *buf;      /* malloc'd, NUL-terminated; NULL until the first put */
    size_t len, cap;
} sbuf;

void sbuf_put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
