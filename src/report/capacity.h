/* Internal to the report stage: a level's capacity as the tables print
 * it beside what the run used (capacity.c). */
#ifndef EF_REPORT_CAPACITY_H
#define EF_REPORT_CAPACITY_H

#include <stddef.h>

#include "einflow/spec.h"

/* The room one instance of level ls has for tensor `tensor` into buf:
 * the tensor's partition when the level splits its capacity per tensor
 * ("24 B", "224 words"; "none" when it has no partition for it), else
 * the shared capacity, "unlimited" when the level declares none. */
void ef_report_capacity_text(const ef_level_spec *ls, const char *tensor, char *buf,
                             size_t size);

#endif
