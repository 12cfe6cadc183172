/* einflow spec stage, internal — overrides of an architecture's scalars
 * by key path (`--set arch.levels.GLB.capacity=256 KiB`, the axes of a
 * sweep). They change the loaded YAML tree before arch.c reads it, so
 * every check and unit of the file applies to an overridden value
 * unchanged; arch_set.c walks the tree by the schema arch.c declares. */
#ifndef EF_SPEC_ARCH_SET_H
#define EF_SPEC_ARCH_SET_H

#include "spec/ytree.h"

/* The objects of an architecture file, each with its key table. */
typedef enum {
    EF_ARCH_OBJ_TOP,        /* the file                                */
    EF_ARCH_OBJ_PE_ARRAY,   /* pe_array                                */
    EF_ARCH_OBJ_PE,         /* pe                                      */
    EF_ARCH_OBJ_LEVEL,      /* an entry of levels                      */
    EF_ARCH_OBJ_ENERGY,     /* a level's energy (or energy.LEVEL)      */
    EF_ARCH_OBJ_NOC,        /* an entry of noc                         */
    EF_ARCH_OBJ_VECTOR_UNIT,/* vector_unit                             */
    EF_ARCH_OBJ_VECTOR_OPS, /* vector_unit.ops                         */
    EF_ARCH_OBJ_VECTOR_OP,  /* vector_unit.ops.OP                      */
    EF_ARCH_OBJ_LEVEL_AREA, /* a level's area                          */
    EF_ARCH_OBJ_LEVEL_LEAKAGE, /* a level's leakage                    */
    EF_ARCH_OBJ_UNIT_AREA,  /* the area of pe, a noc or vector_unit    */
    EF_ARCH_OBJ_UNIT_LEAKAGE /* their leakage                          */
} ef_arch_obj;

/* The key table of object o (arch.c); *count set. */
const yt_key *ef_arch_schema(ef_arch_obj o, size_t *count);

/* Applies set[0 .. count) to d's tree in order; every path that does
 * not lead to a scalar the schema knows is reported (located at the
 * override's origin, with the valid keys there and a "did you mean").
 * False when any was reported or memory ran out. */
bool ef_arch_apply_sets(yt_doc *d, const ef_arch_set *set, int count);

#endif
