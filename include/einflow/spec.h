/* einflow spec stage — loads and validates the YAML inputs
 * (architecture, workload or network, mapping) into plain structs.
 * Every later stage sees only these structs, never a YAML node.
 *
 * Ownership: each ef_*_spec returned by a loader is owned by the caller
 * and freed with the matching _destroy (NULL accepted). Strings inside
 * are owned by the spec. Diagnostics go to the ef_diags passed in. */
#ifndef EINFLOW_SPEC_H
#define EINFLOW_SPEC_H

#include "einflow/common.h"

#include <stdarg.h>

/* Where a value came from, for diagnostics raised by later stages. */
typedef struct {
    const char *file; /* borrowed from the owning spec's file field */
    int line, col;
} ef_loc;

/* ---------- architecture ---------- */

typedef enum { EF_LEVEL_DRAM, EF_LEVEL_SRAM, EF_LEVEL_REGFILE } ef_level_kind;

/* A capacity: 0 = unlimited. In words when in_words, else in bytes. */
typedef struct {
    uint64_t amount;
    bool in_words;
    bool given;
} ef_capacity;

typedef struct {
    char tensor[EF_MAX_NAME];
    ef_capacity capacity;
    ef_loc loc;
} ef_partition;

typedef struct {
    char name[EF_MAX_NAME];
    ef_level_kind kind;
    bool per_pe;                 /* one instance per PE                  */
    ef_capacity capacity;        /* shared capacity (if no partitions)   */
    ef_partition partitions[EF_MAX_TENSORS];
    int partition_count;         /* >0: capacity split per tensor        */
    double read_bandwidth_bytes; /* per cycle per instance; 0 unlimited  */
    double write_bandwidth_bytes;
    uint64_t latency_cycles;
    bool double_buffer;
    bool prefetch;               /* fills overlap use, staged outside capacity */
    double read_energy_pj;       /* per word; <0 when not given          */
    double write_energy_pj;
    double leakage_pj_per_cycle; /* per instance (energy.leakage); <0 when
                                    not given                            */
    /* area and static power (docs/area.md); each <0 when not given,
     * then the built-in table's */
    double area_mm2;             /* one instance                         */
    double area_mm2_per_kib;     /* one instance, per KiB of capacity    */
    int ports;                   /* read/write ports of the array, >= 1  */
    double leakage_mw;           /* one instance                         */
    double leakage_mw_per_kib;   /* one instance, per KiB of capacity    */
    ef_loc loc;
} ef_level_spec;

/* Whether the next tile streams in while the current one is in use
 * (double_buffer inside the capacity, prefetch beside it). */
static inline bool ef_level_overlaps_fills(const ef_level_spec *lv) {
    return lv->double_buffer || lv->prefetch;
}

typedef enum {
    EF_NOC_MULTICAST, EF_NOC_SYSTOLIC, EF_NOC_UNICAST
} ef_noc_topology;

typedef struct {
    char from[EF_MAX_NAME];      /* a level name                         */
    char to[EF_MAX_NAME];        /* a level name, or "PE"                */
    ef_noc_topology topology;
    double bandwidth_bytes;      /* per cycle into the array; 0 unlimited*/
    bool reduction;              /* partial sums reduced across PEs      */
    double hop_energy_pj;        /* per word per hop; <0 when not given  */
    double area_mm2;             /* the whole network; <0 when not given */
    double leakage_mw;           /* the whole network; <0 when not given */
    ef_loc loc;
} ef_noc_spec;

/* Number format of the MACs, for the built-in energy table. */
typedef enum { EF_ARITH_INT, EF_ARITH_FLOAT } ef_arithmetic;

/* Where an Einsum's points are computed: the PE array, or the 1-D
 * vector unit (architecture key vector_unit, mapping key unit). */
typedef enum { EF_UNIT_ARRAY, EF_UNIT_VECTOR } ef_unit;

/* The operator kinds of a vector unit, each with its own pipelined
 * functional unit in every lane (docs/model.md, "The vector unit"). */
#define EF_VECTOR_OPS(X)                                              \
    X(ADD, "add") /* + and -, negation, the combine of +=            */ \
    X(MUL, "mul") /* *                                               */ \
    X(MAX, "max") /* max(a, b), the combine of max=: a compare       */ \
    X(DIV, "div") /* /                                               */ \
    X(EXP, "exp") /* exp(x)                                          */
typedef enum {
#define X(k, s) EF_VOP_##k,
    EF_VECTOR_OPS(X)
#undef X
    EF_VOP_COUNT
} ef_vector_op;

typedef struct {
    uint64_t interval_cycles;    /* between two operations of this kind
                                    in one lane: 1 = fully pipelined     */
    uint64_t latency_cycles;     /* from issue to result, when given     */
    bool latency_given;          /* else the built-in default, which may
                                    depend on the operands' width
                                    (model/vector.c)                     */
    double energy_pj;            /* per operation; <0 when not given:
                                    the built-in table's                 */
    ef_loc loc;                  /* the op's key, or the unit's          */
} ef_vector_op_spec;

/* A 1-D vector (special-function) unit of `lanes` lanes that reads and
 * writes the tiles of the shared level `from`. present is false when
 * the architecture declares none. */
typedef struct {
    bool present;
    char name[EF_MAX_NAME];      /* "VU" unless given; names it in reports */
    char from[EF_MAX_NAME];
    int from_level;              /* index of from in levels[]            */
    int lanes;                   /* 1 .. EF_MAX_PES                      */
    double bandwidth_bytes;      /* per cycle between from and the lanes,
                                    each way; 0 unlimited                */
    ef_arithmetic arithmetic;    /* number format, for the table's energies:
                                    pe.arithmetic unless given           */
    ef_vector_op_spec ops[EF_VOP_COUNT];
    double area_mm2;             /* all lanes; <0 when not given         */
    double leakage_mw;           /* all lanes; <0 when not given         */
    ef_loc loc;                  /* the vector_unit key                  */
} ef_vector_unit_spec;

typedef struct {
    char *file;
    char name[EF_MAX_NAME];
    double clock_mhz;
    double energy_unit_pj;       /* what one unit of the file's energies
                                    is: table figures are divided by it  */
    int rows, cols;
    int macs_per_cycle;
    double mac_energy_pj;        /* <0 when not given                    */
    double pe_area_mm2;          /* one PE's MAC lanes; <0 when not given */
    double pe_leakage_mw;        /* one PE's MAC lanes; <0 when not given */
    ef_arithmetic arithmetic;    /* int (default) or float               */
    ef_level_spec levels[EF_MAX_LEVELS];
    int level_count;
    ef_noc_spec nocs[EF_MAX_LEVELS];
    int noc_count;
    ef_vector_unit_spec vector_unit; /* optional                         */
    ef_loc loc;
} ef_arch_spec;

/* ---------- workload ---------- */

typedef struct {
    char name[EF_MAX_NAME];      /* as written, e.g. "P"                 */
    uint64_t bound;              /* evaluated when written as an
                                    expression over parameters          */
    bool is_batch;               /* written as the word batch (network
                                    files): bound is the batch size      */
    ef_loc loc;
} ef_rank_spec;

/* A parameter of a network file (or of a workload file that declares
 * params:): a name its rank bounds may use, alone or in an integer
 * expression such as seq/16 or heads/kv_heads. */
typedef struct {
    char name[EF_MAX_NAME];
    uint64_t value;              /* in use: the caller's, else the
                                    file's; 1 .. EF_MAX_PARAM_VALUE      */
    bool overridden;             /* the caller set it (--set, --batch)   */
    ef_loc loc;                  /* its key in the file; line 0 for a
                                    batch the file does not give         */
} ef_param_spec;

/* A value the caller gives a parameter in place of the file's
 * (`--set NAME=VALUE`). */
typedef struct {
    char name[EF_MAX_NAME];
    uint64_t value;              /* 1 .. EF_MAX_PARAM_VALUE              */
} ef_param_value;

typedef struct {
    char tensor[EF_MAX_NAME];
    int bits;
    ef_loc loc;
} ef_precision_spec;

typedef struct {
    char tensor[EF_MAX_NAME];
    int dims;
    /* Zero padding per dimension, in positions of the index expression:
     * `before` lie below the stored range, `after` above it. An integer
     * in the file sets both; a pair [before, after] sets each. */
    int64_t before[EF_MAX_DIMS];
    int64_t after[EF_MAX_DIMS];
    ef_loc loc;                  /* the tensor's key in padding          */
} ef_padding_spec;

/* The initial value of a recurrence's tensor: what every element at
 * step 0 of the dimension it steps along holds (init: {RM: -inf}). */
typedef struct {
    char tensor[EF_MAX_NAME];
    double value;                /* finite, or -inf / inf                */
    ef_loc loc;                  /* the tensor's key in init             */
} ef_init_spec;

typedef struct {
    char *text;                  /* e.g. "O[p] += I[p+r] * W[r]"         */
    ef_loc loc;                  /* where the string starts              */
    char path[EF_MAX_KEY_PATH];  /* its key path: "einsums[1]" in a
                                    workload file, "layers[6].einsum" in
                                    a network file                       */
} ef_einsum_text;

/* A causal mask (a network layer's `causal:`, spec/network.c): a point
 * whose key index exceeds its query index + offset is masked. The
 * layer is split into one layer per block of queries, each with its
 * keys up to the end of its block (the blocks above the diagonal are
 * never computed, moved or timed); within a diagonal block a masked
 * point is not computed: its step is timed (the array runs in
 * lockstep) but it is no op and reads and writes nothing at the MACs
 * (sim/walk_mask.c), and it is left out of the values (--check-values). */
typedef struct {
    bool present;
    char query[EF_MAX_NAME];     /* rank names                           */
    char key[EF_MAX_NAME];
    uint64_t offset;             /* the block's first query index        */
    ef_loc loc;                  /* the layer's causal key               */
} ef_mask_spec;

/* A workload: from a workload file, or one layer of a network file
 * (then file is the network file, name the layer's name, and every loc
 * points into the network file). */
typedef struct {
    char *file;
    char path[EF_MAX_KEY_PATH];  /* key path of the workload in its file,
                                    for diagnostics: "" for a workload
                                    file, "layers[6]" for a layer        */
    char name[EF_MAX_NAME];
    ef_einsum_text einsums[EF_MAX_EINSUMS];
    int einsum_count;
    ef_rank_spec ranks[EF_MAX_RANKS * 2];
    int rank_count;
    ef_precision_spec precisions[EF_MAX_TENSORS * 4];
    int precision_count;
    ef_padding_spec paddings[EF_MAX_TENSORS * 4];
    int padding_count;
    ef_init_spec inits[EF_MAX_TENSORS * 4];
    int init_count;
    int default_bits;            /* precision for tensors not listed: 8  */
    ef_mask_spec mask;           /* a block of a causal layer            */
    ef_loc loc;
} ef_workload_spec;

/* ---------- mapping ---------- */

typedef struct {
    char rank[EF_MAX_NAME];
    uint64_t factor;
    ef_loc loc;
    int rank_hint;               /* 1 + where the maker expects the rank
                                  * among the workload's (the mapper's
                                  * candidates), checked first; 0: none */
} ef_factor_spec;

typedef struct {
    char level[EF_MAX_NAME];
    ef_factor_spec temporal[EF_MAX_LEVEL_LOOPS];   /* outermost first        */
    int temporal_count;
    ef_factor_spec rows[EF_MAX_LEVEL_LOOPS];       /* spatial onto PE rows   */
    int row_count;
    ef_factor_spec cols[EF_MAX_LEVEL_LOOPS];       /* spatial onto PE cols   */
    int col_count;
    char keep[EF_MAX_TENSORS * 4][EF_MAX_NAME];
    ef_loc keep_loc[EF_MAX_TENSORS * 4];
    int keep_hint[EF_MAX_TENSORS * 4]; /* as rank_hint, for the tensor   */
    int keep_count;
    bool keep_given;             /* absent: keeps every tensor           */
    char bypass[EF_MAX_TENSORS * 4][EF_MAX_NAME];
    ef_loc bypass_loc[EF_MAX_TENSORS * 4];
    int bypass_count;
    ef_loc loc;
} ef_level_mapping_spec;

typedef struct {
    char einsum[EF_MAX_NAME];    /* output tensor name; "" = the only one*/
    ef_level_mapping_spec levels[EF_MAX_LEVELS];
    int level_count;
    ef_unit unit;                /* array (default) or vector            */
    ef_loc unit_loc;             /* the unit key; line 0 when absent     */
    char dataflow[EF_MAX_PATH];  /* `dataflow: DF` in place of `mapping:`
                                    (a built-in name, vector, or a
                                    template file): the mapper fills this
                                    entry in; "" for a written mapping   */
    ef_loc dataflow_loc;         /* the dataflow key's value             */
    ef_loc loc;
} ef_einsum_mapping_spec;

typedef struct {
    char *file;
    ef_einsum_mapping_spec mappings[EF_MAX_EINSUMS];
    int mapping_count;
    ef_loc loc;
} ef_mapping_spec;

/* ---------- dataflow template ----------
 *
 * A dataflow (weight, output, input or row stationary, no local reuse,
 * or one of the user's) constrains the mappings the mapper may build:
 * which ranks go onto the PE rows and columns, which tensors the per-PE
 * levels keep, and which ranks loop inside the PE. Templates name ranks
 * by the role they play in a two-operand Einsum, so that one template
 * fits convolutions, FC layers and matrix multiplies alike. The roles
 * are decided by the tensors a rank indexes (input = the first operand,
 * weight = the second, output) and whether it sits in a sliding window
 * such as p+r; docs/dataflows.md has the table. */
#define EF_RANK_ROLES(X)                                              \
    X(BATCH, "batch")             /* input + output: n; GEMM m      */ \
    X(OUT_CHANNEL, "out_channel") /* weight + output: m; GEMM n     */ \
    X(IN_CHANNEL, "in_channel")   /* input + weight, reduced: c, k  */ \
    X(GROUP, "group")             /* all three: g of grouped conv   */ \
    X(OUT_PIXEL, "out_pixel")     /* output, input window: p, q     */ \
    X(FILTER_TAP, "filter_tap")   /* weight, input window: r, s     */ \
    X(OTHER, "other")             /* anything else                  */
typedef enum {
#define X(k, s) EF_ROLE_##k,
    EF_RANK_ROLES(X)
#undef X
    EF_ROLE_COUNT
} ef_rank_role;

/* A rank's role and, for the window roles, its axis: the window
 * dimension of the input it moves in (0 for p+r in I[n,c,p+r,q+s], 1
 * for q+s), so a template can tell filter rows from filter columns.
 * Selectors are sets of (role, axis) bits. */
#define EF_ROLE_AXES 4 /* axes 0, 1, 2 and "3 or more" */
static inline uint32_t ef_role_bit(ef_rank_role role, int axis) {
    int a = axis < 0 ? 0 : axis < EF_ROLE_AXES - 1 ? axis : EF_ROLE_AXES - 1;
    return UINT32_C(1) << ((int)role * EF_ROLE_AXES + a);
}
static inline uint32_t ef_role_all_axes(ef_rank_role role) {
    return UINT32_C(0xF) << ((int)role * EF_ROLE_AXES);
}
#define EF_ROLE_ANY UINT32_C(0x0FFFFFFF)

/* The operand roles templates keep or bypass. */
#define EF_OPERAND_ROLES(X) X(INPUT, "input") X(WEIGHT, "weight") X(OUTPUT, "output")
typedef enum {
#define X(k, s) EF_OPERAND_##k,
    EF_OPERAND_ROLES(X)
#undef X
    EF_OPERAND_COUNT
} ef_operand_role;

/* How a spatial slot's factor is chosen: searched, the largest that
 * fits, or the rank's whole bound (the largest that fits if it cannot). */
typedef enum { EF_FILL_ANY, EF_FILL_MAX, EF_FILL_WHOLE } ef_fill;

typedef struct {
    uint32_t roles;              /* ef_role_bit set of allowed ranks     */
    ef_fill fill;
    ef_loc loc;
} ef_slot_spec;
/* ---------- network ---------- */

/* One layer of a network file. */
typedef struct {
    ef_workload_spec *workload;  /* owned: the layer as a workload; its
                                    file is the network file, its name
                                    the layer name, its path
                                    "layers[k]"; ef_einsum_build takes
                                    it like any workload spec            */
    uint64_t count;              /* identical repeats of this layer (>= 1) */
    ef_loc loc;                  /* the layer's entry                    */
} ef_layer_spec;

typedef struct {
    char *file;
    char name[EF_MAX_NAME];
    char *description;           /* may be NULL                          */
    ef_slot_spec rows[EF_MAX_LEVEL_LOOPS];   /* outermost first          */
    int row_count;
    ef_slot_spec cols[EF_MAX_LEVEL_LOOPS];
    int col_count;
    bool pe_keeps[EF_OPERAND_COUNT];         /* kept by per-PE levels    */
    bool pe_keep_searched;       /* no pe.keep: the mapper chooses       */
    uint32_t pe_temporal;        /* roles that may loop inside the PE    */
    uint32_t pe_innermost[EF_MAX_LEVEL_LOOPS]; /* roles whose loops come
                                  * last in the PE, the last listed
                                  * innermost                            */
    int pe_innermost_count;
    ef_unit unit;                /* what computes the points: the PE array,
                                    or the vector unit (`unit: vector`: one
                                    row of lanes, no per-PE levels)       */
    bool fuse;                   /* `fuse: true`: a cascade is mapped as
                                    fused groups, its intermediates kept on
                                    chip (map/fuse_search.c); this
                                    template then maps its MAC Einsums    */
    ef_loc loc;
} ef_dataflow_spec;

typedef struct {
    char *file;
    char name[EF_MAX_NAME];
    uint64_t batch;              /* the batch size in use: the override,
                                    else the file's, else 1              */
    ef_param_spec params[EF_MAX_PARAMS]; /* the parameters in use: batch
                                    first, then params: in file order    */
    int param_count;             /* >= 1: batch is always a parameter    */
    bool is_network;             /* read from a network file (else a
                                    workload file as one layer)          */
    ef_layer_spec *layers;       /* layer_count entries, in file order   */
    int layer_count;             /* 1 .. EF_MAX_LAYERS                   */
    ef_loc loc;
} ef_network_spec;

/* Loaders: return NULL and add diagnostics on any error (they collect
 * as many as they can before giving up). */
ef_arch_spec *ef_spec_load_arch(const char *path, ef_diags *diags);

/* One scalar of an architecture file replaced by key path, as
 * `--set arch.levels.GLB.capacity=256 KiB` or a sweep's axis gives it.
 * A path names keys of the file's schema, separated by dots; an entry
 * of levels by its name (levels.GLB.capacity), an entry of noc by its
 * index or its from level (noc.GLB.bandwidth), an operator of the
 * vector unit by name (vector_unit.ops.exp.latency), a per-tensor
 * capacity by tensor (levels.RF.capacity.F), the top-level energy map
 * by level or MAC (energy.GLB.read, energy.MAC). A key the schema knows
 * may be absent from the file: it is added. Setting read_bandwidth or
 * write_bandwidth of a level that gives `bandwidth:` keeps the other
 * direction at that bandwidth. */
typedef struct {
    const char *path;            /* after "arch.", e.g. "pe_array.rows";
                                    borrowed                             */
    const char *value;           /* the scalar as text, e.g. "256 KiB";
                                    read as an unquoted YAML scalar      */
    const char *origin;          /* where it was given, for diagnostics:
                                    "--set arch.pe_array.rows", or a
                                    file; borrowed                       */
    int line, col;               /* in origin when a file; else 0        */
} ef_arch_set;

/* ef_spec_load_arch with set[0 .. set_count) applied to the file's tree
 * before it is read, in order (a later one for the same path wins); an
 * overridden value is checked as if it were in the file, and its
 * errors point at its origin. set may be NULL with set_count 0. */
ef_arch_spec *ef_spec_load_arch_set(const char *path, const ef_arch_set *set,
                                    int set_count, ef_diags *diags);
ef_workload_spec *ef_spec_load_workload(const char *path, ef_diags *diags);
ef_mapping_spec *ef_spec_load_mapping(const char *path, ef_diags *diags);

/* A dataflow template file. */
ef_dataflow_spec *ef_spec_load_dataflow(const char *path, ef_diags *diags);
/* A built-in template by name (ws, os, is, rs, nlr): the files of
 * dataflows/, compiled into the library. NULL with a diagnostic (and a
 * "did you mean") for an unknown name. */
ef_dataflow_spec *ef_spec_builtin_dataflow(const char *name, ef_diags *diags);
/* Names of the built-in templates, in a fixed order; *count set. */
const char *const *ef_spec_builtin_dataflow_names(int *count);
/* The template's text of a built-in (for `einflow map --show`), or NULL. */
const char *ef_spec_builtin_dataflow_text(const char *name);
void ef_dataflow_spec_destroy(ef_dataflow_spec *d);
const char *ef_rank_role_name(ef_rank_role r);
const char *ef_operand_role_name(ef_operand_role r);
/* Loads a network file, or a plain workload file as a network of one
 * layer (count 1, named as the workload). batch: 0 keeps the file's
 * batch; > 0 overrides it (every rank bound written `batch` takes it).
 * NULL with located diagnostics on any error. The layers' workloads
 * are owned by the network and live until ef_network_spec_destroy. */
ef_network_spec *ef_spec_load_network(const char *path, uint64_t batch,
                                      ef_diags *diags);
/* The same with parameters set by the caller: set[0 .. set_count) each
 * replace a parameter's value from the file (a later entry for the
 * same name wins). batch may always be set (a file that never uses it
 * is unchanged, as with the batch argument above); any other name must
 * be one the file declares under params:, else a diagnostic names the
 * file's parameters. set is borrowed; NULL with set_count 0 sets none.
 * The values in use are in the result's params. */
ef_network_spec *ef_spec_load_network_set(const char *path,
                                          const ef_param_value *set,
                                          int set_count, ef_diags *diags);

/* Whether every override's path leads to a scalar of the architecture
 * at path (its values are not checked): false with a diagnostic at the
 * override's origin for each that does not. */
bool ef_spec_arch_paths_ok(const char *path, const ef_arch_set *set, int set_count,
                           ef_diags *diags);

/* ---------- sweep ----------
 *
 * A design-space sweep (`einflow sweep`): an architecture, a workload
 * or network, dataflows or a mapping, and axes, each a key path with a
 * list of values; its points are the axes' values taken together
 * (product or zip), each under every dataflow. */

typedef struct {
    char path[EF_MAX_SET_TEXT];  /* as written: "arch.pe_array.rows", or
                                    a parameter of the workload, "batch" */
    bool is_arch;                /* path starts with "arch."             */
    char **values;               /* [value_count] owned, as written      */
    ef_loc *value_locs;          /* [value_count]                        */
    uint64_t *numbers;           /* [value_count] a parameter's values;
                                    NULL for an architecture path        */
    int value_count;             /* >= 1                                 */
    ef_loc loc;                  /* the axis's key                       */
} ef_sweep_axis;

typedef struct {
    char *file;
    char *description;           /* may be NULL                          */
    char *arch;                  /* paths resolved against the sweep
                                    file's directory, owned              */
    char *workload;
    char *mapping;               /* NULL when dataflows are given        */
    char **dataflows;            /* [dataflow_count] owned: built-in
                                    names, or resolved template files    */
    int dataflow_count;          /* 0 with a mapping                     */
    ef_sweep_axis axes[EF_MAX_SWEEP_AXES];
    int axis_count;              /* 0 .. EF_MAX_SWEEP_AXES               */
    bool zip;                    /* mode: zip (else product)             */
    uint64_t combos;             /* sets of axis values                  */
    uint64_t point_count;        /* combos x dataflows (x 1 with a
                                    mapping), <= EF_MAX_SWEEP_POINTS     */
    ef_loc loc;
} ef_sweep_spec;

/* Loads and checks a sweep file: its keys, that the architecture and
 * the workload load, that every axis path leads to a scalar of the
 * architecture or names a parameter of the workload, and every value
 * on its own (an architecture value as the architecture's loader
 * checks it, located at the value in the sweep file). NULL with
 * located diagnostics on any error. */
ef_sweep_spec *ef_spec_load_sweep(const char *path, ef_diags *diags);
void ef_sweep_spec_destroy(ef_sweep_spec *s);
/* Point index (< point_count): which[a] the value of axis a it takes,
 * *dataflow the index of its dataflow (0 with a mapping). Points run
 * through the axes' values with the last axis fastest (product) or
 * together (zip), and each through the dataflows, fastest of all. */
void ef_sweep_point(const ef_sweep_spec *s, uint64_t index, int which[EF_MAX_SWEEP_AXES],
                    int *dataflow);

/* The same loaders for a file's text held in memory: text[0 .. size)
 * (NUL bytes in it are reported as in a file, with line and column),
 * name standing for the file name in diagnostics and in the spec's file
 * field. Diagnostics quote their source lines from this text (kept in
 * diags when it is loaded). text is borrowed for the call. Used by the
 * fuzz harnesses (fuzz/). */
ef_arch_spec *ef_spec_load_arch_text(const char *name, const char *text,
                                     size_t size, ef_diags *diags);
ef_workload_spec *ef_spec_load_workload_text(const char *name, const char *text,
                                             size_t size, ef_diags *diags);
ef_mapping_spec *ef_spec_load_mapping_text(const char *name, const char *text,
                                           size_t size, ef_diags *diags);
ef_dataflow_spec *ef_spec_load_dataflow_text(const char *name, const char *text,
                                             size_t size, ef_diags *diags);
ef_network_spec *ef_spec_load_network_text(const char *name, const char *text,
                                           size_t size, const ef_param_value *set,
                                           int set_count, ef_diags *diags);

void ef_arch_spec_destroy(ef_arch_spec *a);
void ef_workload_spec_destroy(ef_workload_spec *w);
void ef_mapping_spec_destroy(ef_mapping_spec *m);
/* Frees the network and every layer's workload spec (NULL accepted). */
void ef_network_spec_destroy(ef_network_spec *n);

/* Which kind of file this is, judged by its top-level keys; used by
 * `einflow validate`. Returns 'a' (architecture), 'n' (network: has
 * layers), 'w' (workload), 'm' (mapping), 'd' (dataflow template),
 * 's' (sweep: has arch) or 0
 * (with a diagnostic). */
char ef_spec_sniff(const char *path, ef_diags *diags);

/* The source line `line` (1-based) of file, malloc'd, or NULL. */
char *ef_spec_source_line(const char *file, int line);
/* Adds a diagnostic at loc (in `file` when loc names no file), quoting
 * its source line as loaded (ef_diags_source_line); the later stages'
 * one way of reporting at a spec's location. */
void ef_diags_vadd_at(ef_diags *d, ef_loc loc, const char *file, const char *path,
                      const char *hint, const char *fmt, va_list ap);

const char *ef_level_kind_name(ef_level_kind k);
const char *ef_noc_topology_name(ef_noc_topology t);
const char *ef_arithmetic_name(ef_arithmetic a);
const char *ef_unit_name(ef_unit u);            /* "array", "vector"  */
const char *ef_vector_op_name(ef_vector_op op); /* "add", ... "exp"   */

#endif
