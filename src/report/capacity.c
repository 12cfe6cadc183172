/* A level's capacity as text, for the tables that print it beside the
 * words a run used: one formatting rule so the run table and explain
 * say the same thing. */
#include "report/capacity.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void one(const ef_capacity *c, char *buf, size_t size) {
    if (!c->given || c->amount == 0) snprintf(buf, size, "unlimited");
    else snprintf(buf, size, "%" PRIu64 " %s", c->amount, c->in_words ? "words" : "B");
}

void ef_report_capacity_text(const ef_level_spec *ls, const char *tensor, char *buf,
                             size_t size) {
    if (ls->partition_count == 0) {
        one(&ls->capacity, buf, size);
        return;
    }
    for (int p = 0; p < ls->partition_count; p++)
        if (!strcmp(ls->partitions[p].tensor, tensor)) {
            one(&ls->partitions[p].capacity, buf, size);
            return;
        }
    snprintf(buf, size, "none");
}
