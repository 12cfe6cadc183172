/* The one clock einflow reads (common.h, ef_now_seconds): monotonic, so
 * that wall times and the mapper's time limit never run backwards. */
#include "einflow/common.h"

#include <time.h>

double ef_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
