/* Bytes into cycles for ports and links (timing.h). */
#include "model/timing.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void ef_ports_of(const ef_nest *n, ef_ports *p) {
    memset(p, 0, sizeof *p);
    for (int l = 0; l < n->level_count; l++) {
        const ef_level_spec *ls = &n->arch->levels[l];
        p->bandwidth_bytes[ef_res_read(l)] = ls->read_bandwidth_bytes;
        p->bandwidth_bytes[ef_res_write(l)] = ls->write_bandwidth_bytes;
        p->latency_cycles[ef_res_read(l)] = ls->latency_cycles;
    }
    /* the spec gives one bandwidth "into the array"; partial sums and
     * outputs leave it on links of the same width */
    p->bandwidth_bytes[ef_res_link_in(n)] = n->noc->bandwidth_bytes;
    p->bandwidth_bytes[ef_res_link_out(n)] = n->noc->bandwidth_bytes;
}

uint64_t ef_timing_cycles(uint64_t bytes, double bandwidth_bytes) {
    if (bytes == 0 || bandwidth_bytes <= 0) return 0;
    /* bandwidths are short decimals (0.25, 1.5): the tolerance keeps an
     * exact quotient from rounding up */
    double c = ceil((double)bytes / bandwidth_bytes - 1e-9);
    /* past the run limit the engines stop with a message; a double that
     * large does not convert to an integer */
    if (c > (double)EF_MAX_CYCLES) return EF_MAX_CYCLES + 1;
    return c < 1 ? 1 : (uint64_t)c;
}

void ef_timing_cost(const ef_ports *p, const ef_demand *d, ef_xfer *x) {
    memset(x, 0, sizeof *x);
    x->bottleneck = -1;
    for (int r = 0; r < EF_RES_COUNT; r++) {
        if (!d->bytes[r]) continue;
        uint64_t hold = ef_timing_cycles(d->bytes[r], p->bandwidth_bytes[r]);
        uint64_t until = hold + (d->waits_latency ? p->latency_cycles[r] : 0);
        x->hold_cycles[r] = hold;
        if (hold) x->uses[x->used++] = (uint8_t)r;
        if (until > x->cycles) {
            x->cycles = until;
            x->bottleneck = r;
        }
    }
}

void ef_timing_resource_name(const ef_nest *n, int res, char *buf, size_t size) {
    int l = ef_res_level(res);
    if (l >= 0) {
        snprintf(buf, size, "%s.%s", n->arch->levels[l].name, res % 2 ? "write" : "read");
        return;
    }
    /* the link's ends: the level the network starts at and its
     * destination (a per-PE level or the PEs) */
    const char *from = n->noc->from[0] ? n->noc->from
                       : n->spatial_level >= 0 ? n->arch->levels[n->spatial_level].name
                                               : n->arch->levels[0].name;
    const char *to = n->noc->to[0] ? n->noc->to
                     : n->first_pe_level < n->level_count ? n->arch->levels[n->first_pe_level].name
                                                          : "PE";
    if (res == EF_RES_NOC_IN || res == EF_RES_VU_IN) snprintf(buf, size, "noc %s->%s", from, to);
    else snprintf(buf, size, "noc %s->%s", to, from);
}

int ef_timing_cause(const ef_xfer *x) {
    int b = x->bottleneck;
    if (b < 0) return -1;
    uint64_t hold = x->hold_cycles[b];
    /* cycles = hold + latency when the latency counted (timing_cost) */
    if (x->cycles - hold > hold) return EF_CAUSE_LATENCY + ef_res_level(b);
    return b;
}

void ef_timing_cause_name(const ef_nest *n, int cause, char *buf, size_t size) {
    if (cause >= EF_CAUSE_LATENCY)
        snprintf(buf, size, "%s.latency", n->arch->levels[cause - EF_CAUSE_LATENCY].name);
    else ef_timing_resource_name(n, cause, buf, size);
}
