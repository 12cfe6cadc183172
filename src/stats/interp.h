/* Internal to the stats stage: the one interpolation rule of the
 * built-in tables (energy.c, area.c), so that energies and areas of
 * the same circuits scale the same way with width. */
#ifndef EF_STATS_INTERP_H
#define EF_STATS_INTERP_H

#include <math.h>

/* y at x on the line through (x0, y0) and (x1, y1) in log-log space:
 * a power law y = y0 (x / x0)^k, which also extrapolates. */
static inline double ef_loglog(double x, double x0, double y0, double x1, double y1) {
    double k = log(y1 / y0) / log(x1 / x0);
    return y0 * pow(x / x0, k);
}

#endif
