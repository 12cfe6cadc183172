/* Which template maps which Einsum of a cascade: a dataflow template
 * describes the PE array's products, so an Einsum without one — the
 * elementwise, max= and sum steps of a softmax — goes to the vector
 * unit when the architecture has one (docs/dataflows.md, "One dataflow
 * per Einsum"). */
#include "einflow/map.h"

const ef_dataflow_spec *ef_map_dataflow_for(const ef_arch_spec *arch, const ef_einsum *e,
                                            const ef_dataflow_spec *df,
                                            const ef_dataflow_spec *vector) {
    if (df->unit == EF_UNIT_VECTOR || e->is_mac) return df;
    return arch->vector_unit.present && vector ? vector : df;
}
