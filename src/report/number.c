/* Numbers as text (number.h). */
#include "report/number.h"

#include <stdio.h>
#include <stdlib.h>

void ef_shortest_double(char *buf, size_t size, double v, int min_digits) {
    int lo = min_digits, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(buf, size, "%.*g", mid, v);
        if (strtod(buf, NULL) == v) hi = mid;
        else lo = mid + 1;
    }
    snprintf(buf, size, "%.*g", lo, v);
}
