/* Internal to the report stage: numbers as text that reads back. */
#ifndef EF_REPORT_NUMBER_H
#define EF_REPORT_NUMBER_H

#include <stddef.h>

/* %g digits from GCC's -Wformat-truncation bound of %.*g (Debug builds);
 * a finite double needs 24 at most */
#define EF_NUMBER_TEXT 320

/* The shortest %g text, with at least min_digits significant digits,
 * that reads back to the finite double v. More digits never stop
 * reading back, so the fewest that do are found by bisection. */
void ef_shortest_double(char *buf, size_t size, double v, int min_digits);

#endif
