/* einflow spec stage — the architecture YAML: PE array, storage levels
 * (outermost first), the on-chip network between them and per-access
 * energies (absent ones come from the built-in table in stats/). Checks everything that needs only this file; whether a
 * mapping fits it is decided later, by model/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/arch_set.h"
#include "spec/ytree.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const level_kind_names[] = {
    [EF_LEVEL_DRAM] = "dram",
    [EF_LEVEL_SRAM] = "sram",
    [EF_LEVEL_REGFILE] = "regfile",
    [EF_LEVEL_REGFILE + 1] = NULL,
};

static const char *const topology_names[] = {
    [EF_NOC_MULTICAST] = "multicast",
    [EF_NOC_SYSTOLIC] = "systolic",
    [EF_NOC_UNICAST] = "unicast",
    [EF_NOC_UNICAST + 1] = NULL,
};

static const char *const arithmetic_names[] = {
    [EF_ARITH_INT] = "int",
    [EF_ARITH_FLOAT] = "float",
    [EF_ARITH_FLOAT + 1] = NULL,
};

const char *ef_level_kind_name(ef_level_kind k) {
    return (unsigned)k <= EF_LEVEL_REGFILE ? level_kind_names[k] : "?";
}

const char *ef_noc_topology_name(ef_noc_topology t) {
    return (unsigned)t <= EF_NOC_UNICAST ? topology_names[t] : "?";
}

const char *ef_arithmetic_name(ef_arithmetic a) {
    return (unsigned)a <= EF_ARITH_FLOAT ? arithmetic_names[a] : "?";
}

static const char *const vector_op_names[] = {
#define X(k, s) [EF_VOP_##k] = s,
    EF_VECTOR_OPS(X)
#undef X
    [EF_VOP_COUNT] = NULL,
};

const char *ef_vector_op_name(ef_vector_op op) {
    return (unsigned)op < EF_VOP_COUNT ? vector_op_names[op] : "?";
}

/* ---------- schema ---------- */

static const yt_key arch_keys[] = {
    {.name = "name", .type = YT_T_LABEL, .required = true,
     .doc = "architecture name, reported with every result"},
    {.name = "description", .type = YT_T_STR, .doc = "free text, ignored"},
    {.name = "clock_mhz", .type = YT_T_POSNUM, .def = 1000, .unit = "MHz",
     .doc = "clock frequency, for converting cycles to time"},
    {.name = "pe_array", .type = YT_T_MAP,
     .doc = "{rows, cols}: the grid of processing elements"},
    {.name = "pe", .type = YT_T_MAP, .doc = "what one PE computes per cycle"},
    {.name = "levels", .type = YT_T_SEQ, .required = true,
     .doc = "storage levels, outermost (DRAM) first"},
    {.name = "noc", .type = YT_T_SEQ,
     .doc = "networks delivering data from a shared level into the array"},
    {.name = "energy", .type = YT_T_MAP,
     .doc = "energies: LEVEL: {read, write, leakage} and MAC: pJ"},
    {.name = "vector_unit", .type = YT_T_MAP,
     .doc = "a 1-D vector unit for elementwise and reduction Einsums"},    {.name = "energy_unit_pj", .type = YT_T_POSNUM, .def = 1, .unit = "pJ",
     .doc = "the unit of the file's energies; the table's are divided by it"},
};

static const yt_key pe_array_keys[] = {
    {.name = "rows", .type = YT_T_INT, .min = 1, .max = EF_MAX_PES, .def = 1,
     .doc = "PE rows"},
    {.name = "cols", .type = YT_T_INT, .min = 1, .max = EF_MAX_PES, .def = 1,
     .doc = "PE columns"},
};

static const yt_key pe_keys[] = {
    {.name = "macs_per_cycle", .type = YT_T_INT, .min = 1, .def = 1,
     .doc = "MAC lanes of one PE"},
    {.name = "mac_energy", .type = YT_T_NUM, .min = 0, .max = EF_MAX_ENERGY_PJ, .def = -1,
     .unit = "pJ", .doc = "energy of one MAC; absent = built-in table"},
    {.name = "arithmetic", .type = YT_T_ENUM, .def = EF_ARITH_INT,
     .choices = arithmetic_names,
     .doc = "int or float MACs, for the built-in energy table"},
    {.name = "area", .type = YT_T_MAP,
     .doc = "{mm2}: area of one PE's MAC lanes; absent = built-in table"},
    {.name = "leakage", .type = YT_T_MAP,
     .doc = "{mw}: static power of one PE's MAC lanes; absent = built-in table"},
};

static const yt_key level_keys[] = {
    {.name = "name", .type = YT_T_NAME, .required = true,
     .doc = "level name, unique in the architecture"},
    {.name = "kind", .type = YT_T_ENUM, .required = true,
     .choices = level_kind_names, .doc = "dram, sram or regfile"},
    {.name = "capacity", .type = YT_T_ANY,
     .doc = "size with a unit, or TENSOR: size per tensor; absent = unlimited"},
    {.name = "per_pe", .type = YT_T_BOOL, .def = 0,
     .doc = "one instance per PE instead of one shared instance"},
    {.name = "read_bandwidth", .type = YT_T_NUM, .min = 0, .def = 0,
     .unit = "bytes/cycle", .doc = "per instance; 0 or absent = unlimited"},
    {.name = "write_bandwidth", .type = YT_T_NUM, .min = 0, .def = 0,
     .unit = "bytes/cycle", .doc = "per instance; 0 or absent = unlimited"},
    {.name = "bandwidth", .type = YT_T_NUM, .min = 0, .def = 0,
     .unit = "bytes/cycle", .doc = "sets read_bandwidth and write_bandwidth"},
    {.name = "latency", .type = YT_T_INT, .min = 0, .def = 0,
     .unit = "cycles", .doc = "from request to data"},
    {.name = "double_buffer", .type = YT_T_BOOL, .def = 0,
     .doc = "fetch the next tile while the current one is in use"},
    {.name = "prefetch", .type = YT_T_BOOL, .def = 0,
     .doc = "like double_buffer, the next tile staged in FIFOs outside the capacity"},
    {.name = "energy", .type = YT_T_MAP,
     .doc = "{read, write} pJ per word accessed, leakage pJ per cycle"},
    {.name = "area", .type = YT_T_MAP,
     .doc = "{mm2 or mm2_per_kib, ports}: area of one instance; absent = built-in table"},
    {.name = "leakage", .type = YT_T_MAP,
     .doc = "{mw or mw_per_kib}: static power of one instance; absent = built-in table"},
};

static const yt_key energy_keys[] = {
    {.name = "read", .type = YT_T_NUM, .min = 0, .max = EF_MAX_ENERGY_PJ, .def = -1,
     .unit = "pJ/word", .doc = "energy of reading one word"},
    {.name = "write", .type = YT_T_NUM, .min = 0, .max = EF_MAX_ENERGY_PJ, .def = -1,
     .unit = "pJ/word", .doc = "energy of writing one word"},
    {.name = "leakage", .type = YT_T_NUM, .min = 0, .max = EF_MAX_ENERGY_PJ, .def = -1,
     .unit = "pJ/cycle", .doc = "static energy of one instance per cycle"},
};

/* Area and static power (docs/area.md): a level is sized by its
 * capacity, so it may give either a total or a figure per KiB; the PE,
 * a network and the vector unit give totals only. */
static const yt_key level_area_keys[] = {
    {.name = "mm2", .type = YT_T_NUM, .min = 0, .max = EF_MAX_AREA_MM2, .def = -1,
     .unit = "mm2", .doc = "area of one instance"},
    {.name = "mm2_per_kib", .type = YT_T_NUM, .min = 0, .max = EF_MAX_AREA_MM2, .def = -1,
     .unit = "mm2/KiB", .doc = "area of one instance per KiB of its capacity"},
    {.name = "ports", .type = YT_T_INT, .min = 1, .max = EF_MAX_PORTS, .def = 1,
     .unit = "ports", .doc = "read/write ports of the array, for the table's area"},
};

static const yt_key level_leakage_keys[] = {
    {.name = "mw", .type = YT_T_NUM, .min = 0, .max = EF_MAX_POWER_MW, .def = -1,
     .unit = "mW", .doc = "static power of one instance"},
    {.name = "mw_per_kib", .type = YT_T_NUM, .min = 0, .max = EF_MAX_POWER_MW, .def = -1,
     .unit = "mW/KiB", .doc = "static power of one instance per KiB of its capacity"},
};

static const yt_key unit_area_keys[] = {
    {.name = "mm2", .type = YT_T_NUM, .min = 0, .max = EF_MAX_AREA_MM2, .def = -1,
     .unit = "mm2", .doc = "area"},
};

static const yt_key unit_leakage_keys[] = {
    {.name = "mw", .type = YT_T_NUM, .min = 0, .max = EF_MAX_POWER_MW, .def = -1,
     .unit = "mW", .doc = "static power"},
};

static const yt_key noc_keys[] = {
    {.name = "from", .type = YT_T_NAME, .required = true,
     .doc = "the shared level the network reads from"},
    {.name = "to", .type = YT_T_NAME, .required = true,
     .doc = "a level inside from, or PE"},
    {.name = "topology", .type = YT_T_ENUM, .def = EF_NOC_MULTICAST,
     .choices = topology_names, .doc = "multicast, systolic or unicast"},
    {.name = "bandwidth", .type = YT_T_NUM, .min = 0, .def = 0,
     .unit = "bytes/cycle", .doc = "into the array; 0 or absent = unlimited"},
    {.name = "reduction", .type = YT_T_BOOL, .def = 1,
     .doc = "partial sums may be reduced across PEs on the way back"},
    {.name = "hop_energy", .type = YT_T_NUM, .min = 0, .max = EF_MAX_ENERGY_PJ, .def = -1,
     .unit = "pJ/word/hop", .doc = "energy of moving one word one hop"},
    {.name = "area", .type = YT_T_MAP,
     .doc = "{mm2}: area of the network; absent = built-in table"},
    {.name = "leakage", .type = YT_T_MAP,
     .doc = "{mw}: static power of the network; absent = built-in table"},
};

/* The vector unit: lanes fed from one shared level, and per operator
 * kind its issue interval, latency and energy (docs/spec.md). */
static const yt_key vector_unit_keys[] = {
    {.name = "name", .type = YT_T_NAME,
     .doc = "the unit's name in reports; absent = VU"},
    {.name = "from", .type = YT_T_NAME, .required = true,
     .doc = "the shared level whose tiles the lanes read and write"},
    {.name = "lanes", .type = YT_T_INT, .required = true, .min = 1,
     .max = EF_MAX_PES, .unit = "lanes", .doc = "operations issued per cycle"},
    {.name = "bandwidth", .type = YT_T_NUM, .min = 0, .def = 0,
     .unit = "bytes/cycle",
     .doc = "between from and the lanes, each way; 0 or absent = unlimited"},
    {.name = "arithmetic", .type = YT_T_ENUM, .choices = arithmetic_names,
     .doc = "int or float, for the built-in energy table; absent = pe's"},
    {.name = "ops", .type = YT_T_MAP,
     .doc = "per operator kind: {interval, latency, energy}"},
    {.name = "area", .type = YT_T_MAP,
     .doc = "{mm2}: area of all lanes; absent = built-in table"},
    {.name = "leakage", .type = YT_T_MAP,
     .doc = "{mw}: static power of all lanes; absent = built-in table"},
};

/* One key per operator kind, in the order of EF_VECTOR_OPS. */
static const yt_key vector_ops_keys[] = {
#define X(k, s) {.name = s, .type = YT_T_MAP, .doc = "operator " s},
    EF_VECTOR_OPS(X)
#undef X
};

static const yt_key vector_op_keys[] = {
    {.name = "interval", .type = YT_T_INT, .min = 1, .def = 1,
     .unit = "cycles",
     .doc = "between two operations of this kind in one lane; 1 = pipelined"},
    {.name = "latency", .type = YT_T_INT, .min = 0, .def = 0,
     .unit = "cycles", .doc = "from issue to result; absent = built-in"},
    {.name = "energy", .type = YT_T_NUM, .min = 0, .max = EF_MAX_ENERGY_PJ, .def = -1,
     .unit = "pJ", .doc = "of one operation; absent = built-in table"},
};

const yt_key *ef_arch_schema(ef_arch_obj o, size_t *count) {
    switch (o) {
#define TABLE(t) *count = ARRAY_LEN(t); return t
    case EF_ARCH_OBJ_TOP: TABLE(arch_keys);
    case EF_ARCH_OBJ_PE_ARRAY: TABLE(pe_array_keys);
    case EF_ARCH_OBJ_PE: TABLE(pe_keys);
    case EF_ARCH_OBJ_LEVEL: TABLE(level_keys);
    case EF_ARCH_OBJ_ENERGY: TABLE(energy_keys);
    case EF_ARCH_OBJ_NOC: TABLE(noc_keys);
    case EF_ARCH_OBJ_VECTOR_UNIT: TABLE(vector_unit_keys);
    case EF_ARCH_OBJ_VECTOR_OPS: TABLE(vector_ops_keys);
    case EF_ARCH_OBJ_VECTOR_OP: TABLE(vector_op_keys);
    case EF_ARCH_OBJ_LEVEL_AREA: TABLE(level_area_keys);
    case EF_ARCH_OBJ_LEVEL_LEAKAGE: TABLE(level_leakage_keys);
    case EF_ARCH_OBJ_UNIT_AREA: TABLE(unit_area_keys);
    case EF_ARCH_OBJ_UNIT_LEAKAGE: TABLE(unit_leakage_keys);
#undef TABLE
    }
    *count = 0;
    return NULL;
}

/* ---------- loading ---------- */

typedef struct {
    yt_doc *doc;
    ef_arch_spec *a;
    const yt_node *name_node[EF_MAX_LEVELS]; /* for "first at line" */
    const yt_node *energy_node[EF_MAX_LEVELS]; /* where energy was set */
    const yt_node *level_node[EF_MAX_LEVELS];  /* each level's mapping */
    const yt_node *per_pe_node[EF_MAX_LEVELS]; /* its per_pe value       */
    const yt_node *leakage_node[EF_MAX_LEVELS]; /* where leakage was set */
} arch_ctx;

static int find_level(const ef_arch_spec *a, const char *name) {
    for (int i = 0; i < a->level_count; i++)
        if (strcmp(a->levels[i].name, name) == 0)
            return i;
    return -1;
}

static void load_capacity(arch_ctx *c, const yt_node *n, const char *path,
                          ef_level_spec *lv) {
    if (n->kind != YT_MAP) {
        yt_size(c->doc, n, path, &lv->capacity);
        return;
    }
    if (n->count > EF_MAX_TENSORS) {
        yt_error(c->doc, n, path, NULL,
                 "expected at most %d tensor partitions, found %zu",
                 EF_MAX_TENSORS, n->count);
        return;
    }
    for (size_t i = 0; i < n->count; i++) {
        const yt_pair *p = &n->pairs[i];
        ef_partition *part = &lv->partitions[lv->partition_count];
        char kp[YT_MAX_PATH];
        yt_path_key(kp, sizeof kp, path, p->key->text);
        bool ok = yt_name(c->doc, p->key, path, part->tensor);
        ok = yt_size(c->doc, p->value, kp, &part->capacity) && ok;
        if (!ok)
            continue;
        part->loc = yt_loc(c->a->file, p->key);
        lv->partition_count++;
    }
}

static void load_energy(arch_ctx *c, const yt_node *n, const char *path,
                        int level) {
    yt_obj o;
    yt_obj_open(&o, c->doc, n, path, energy_keys, ARRAY_LEN(energy_keys));
    ef_level_spec *lv = &c->a->levels[level];
    if (c->energy_node[level]) {
        yt_error(c->doc, n, path, "give a level's energy in one place",
                 "energy of level \"%s\" given twice (first at line %d)",
                 lv->name, c->energy_node[level]->line);
        return;
    }
    c->energy_node[level] = n;
    yt_get_num(&o, "read", &lv->read_energy_pj);
    yt_get_num(&o, "write", &lv->write_energy_pj);
    yt_get_num(&o, "leakage", &lv->leakage_pj_per_cycle);
    const yt_node *k = yt_obj_knode(&o, "leakage");
    if (k && c->leakage_node[level])
        yt_error(c->doc, k, path, "give a level's static power in one place",
                 "leakage of level \"%s\" given twice (first at line %d)", lv->name,
                 c->leakage_node[level]->line);
    else if (k)
        c->leakage_node[level] = k;
}

/* Two keys of o that say the same thing in two ways: at most one. */
static void one_of(arch_ctx *c, yt_obj *o, const char *a, const char *b, const char *why) {
    const yt_node *kb = yt_obj_knode(o, b);
    if (yt_obj_knode(o, a) && kb)
        yt_error(c->doc, kb, o->path, why, "expected %s or %s, found both", a, b);
}

/* A figure per KiB scales a capacity: a level without one has none. */
static void needs_capacity(arch_ctx *c, yt_obj *o, const char *key, const ef_level_spec *lv) {
    const yt_node *k = yt_obj_knode(o, key);
    if (k && !lv->capacity.given && lv->partition_count == 0)
        yt_error(c->doc, k, o->path, "give the level a capacity, or a total (mm2, mw)",
                 "expected %s on a level with a capacity, found level \"%s\" unlimited", key,
                 lv->name);
}

static void load_level_area(arch_ctx *c, const yt_node *n, const char *path, ef_level_spec *lv) {
    yt_obj o;
    if (!yt_obj_open(&o, c->doc, n, path, level_area_keys, ARRAY_LEN(level_area_keys)))
        return;
    yt_get_num(&o, "mm2", &lv->area_mm2);
    yt_get_num(&o, "mm2_per_kib", &lv->area_mm2_per_kib);
    yt_get_int(&o, "ports", &lv->ports);
    one_of(c, &o, "mm2", "mm2_per_kib", "mm2 is the whole instance, mm2_per_kib scales with "
           "its capacity; keep one");
    needs_capacity(c, &o, "mm2_per_kib", lv);
}

static void load_level_leakage(arch_ctx *c, const yt_node *n, const char *path, int level) {
    ef_level_spec *lv = &c->a->levels[level];
    yt_obj o;
    if (!yt_obj_open(&o, c->doc, n, path, level_leakage_keys, ARRAY_LEN(level_leakage_keys)))
        return;
    if (c->leakage_node[level]) {
        yt_error(c->doc, n, path, "give a level's static power in one place",
                 "leakage of level \"%s\" given twice (first at line %d)", lv->name,
                 c->leakage_node[level]->line);
        return;
    }
    c->leakage_node[level] = n;
    yt_get_num(&o, "mw", &lv->leakage_mw);
    yt_get_num(&o, "mw_per_kib", &lv->leakage_mw_per_kib);
    one_of(c, &o, "mw", "mw_per_kib", "mw is the whole instance, mw_per_kib scales with its "
           "capacity; keep one");
    needs_capacity(c, &o, "mw_per_kib", lv);
}

/* The area and leakage maps of a PE, a network or the vector unit. */
static void load_unit_costs(arch_ctx *c, yt_obj *parent, double *area_mm2, double *leakage_mw) {
    char kp[YT_MAX_PATH];
    yt_obj o;
    *area_mm2 = *leakage_mw = -1;
    const yt_node *a = yt_obj_val(parent, "area"), *l = yt_obj_val(parent, "leakage");
    if (a && yt_obj_open(&o, c->doc, a, yt_obj_path(parent, "area", kp, sizeof kp),
                         unit_area_keys, ARRAY_LEN(unit_area_keys)))
        yt_get_num(&o, "mm2", area_mm2);
    if (l && yt_obj_open(&o, c->doc, l, yt_obj_path(parent, "leakage", kp, sizeof kp),
                         unit_leakage_keys, ARRAY_LEN(unit_leakage_keys)))
        yt_get_num(&o, "mw", leakage_mw);
}

/* A limited port moves at least EF_MIN_BANDWIDTH bytes a cycle: below
 * that one byte would outlast any run, and 0 already means unlimited. */
static void check_bandwidth(arch_ctx *c, yt_obj *o, const char *key, double bw) {
    const yt_node *v = yt_obj_val(o, key);
    char kp[YT_MAX_PATH];
    if (v && bw > 0 && bw < EF_MIN_BANDWIDTH)
        yt_error(c->doc, v, yt_obj_path(o, key, kp, sizeof kp),
                 "0 means unlimited; a real port moves bytes, not fractions of a "
                 "byte per million cycles",
                 "expected 0 or at least %g bytes/cycle, found %g", EF_MIN_BANDWIDTH, bw);
}

static void load_level(arch_ctx *c, const yt_node *n, const char *path) {
    ef_arch_spec *a = c->a;
    int index = a->level_count;
    ef_level_spec *lv = &a->levels[index];
    lv->read_energy_pj = lv->write_energy_pj = lv->leakage_pj_per_cycle = -1;
    lv->area_mm2 = lv->area_mm2_per_kib = lv->leakage_mw = lv->leakage_mw_per_kib = -1;
    lv->ports = 1;
    lv->loc = yt_loc(a->file, n);
    a->level_count++; /* even when broken: keeps indexes in paths true */

    yt_obj o;
    if (!yt_obj_open(&o, c->doc, n, path, level_keys, ARRAY_LEN(level_keys)))
        return;
    char kp[YT_MAX_PATH];
    const yt_node *name = yt_obj_val(&o, "name");
    if (yt_get_name(&o, "name", lv->name) && name) {
        int first = find_level(a, lv->name);
        if (first >= 0 && first < index) {
            yt_error(c->doc, name, yt_obj_path(&o, "name", kp, sizeof kp),
                     NULL, "duplicate level name \"%s\" (first at line %d)",
                     lv->name,
                     c->name_node[first] ? c->name_node[first]->line
                                         : a->levels[first].loc.line);
            lv->name[0] = '\0';
        } else {
            c->name_node[index] = name;
        }
    }
    int kind = EF_LEVEL_SRAM;
    if (yt_get_enum(&o, "kind", &kind) && yt_obj_val(&o, "kind") &&
        kind == EF_LEVEL_DRAM && index > 0)
        yt_error(c->doc, yt_obj_val(&o, "kind"),
                 yt_obj_path(&o, "kind", kp, sizeof kp),
                 "levels are listed outermost first",
                 "expected dram only as the outermost level (levels[0]), "
                 "found it at %s",
                 path);
    lv->kind = (ef_level_kind)kind;

    const yt_node *cap = yt_obj_val(&o, "capacity");
    if (cap)
        load_capacity(c, cap, yt_obj_path(&o, "capacity", kp, sizeof kp), lv);
    c->level_node[index] = n;
    c->per_pe_node[index] = yt_obj_val(&o, "per_pe");
    yt_get_bool(&o, "per_pe", &lv->per_pe);
    yt_get_bool(&o, "double_buffer", &lv->double_buffer);
    yt_get_bool(&o, "prefetch", &lv->prefetch);
    if (lv->double_buffer && lv->prefetch)
        yt_error(c->doc, yt_obj_knode(&o, "prefetch"), o.path,
                 "both let the next tile arrive while the current one is in use; "
                 "double_buffer keeps it in the level's capacity, prefetch beside it",
                 "expected double_buffer or prefetch, found both");
    yt_get_num(&o, "read_bandwidth", &lv->read_bandwidth_bytes);
    yt_get_num(&o, "write_bandwidth", &lv->write_bandwidth_bytes);
    const yt_node *both = yt_obj_knode(&o, "bandwidth");
    if (both && (yt_obj_knode(&o, "read_bandwidth") ||
                 yt_obj_knode(&o, "write_bandwidth"))) {
        yt_error(c->doc, both, o.path,
                 "bandwidth sets both; keep it or the two separate keys",
                 "expected either bandwidth or read_bandwidth and "
                 "write_bandwidth, found both");
    } else if (both) {
        double bw = 0;
        if (yt_get_num(&o, "bandwidth", &bw))
            lv->read_bandwidth_bytes = lv->write_bandwidth_bytes = bw;
    }
    check_bandwidth(c, &o, "read_bandwidth", lv->read_bandwidth_bytes);
    check_bandwidth(c, &o, "write_bandwidth", lv->write_bandwidth_bytes);
    check_bandwidth(c, &o, "bandwidth", lv->read_bandwidth_bytes);
    yt_get_u64(&o, "latency", &lv->latency_cycles);
    const yt_node *energy = yt_obj_val(&o, "energy");
    if (energy)
        load_energy(c, energy, yt_obj_path(&o, "energy", kp, sizeof kp),
                    index);
    const yt_node *area = yt_obj_val(&o, "area");
    if (area)
        load_level_area(c, area, yt_obj_path(&o, "area", kp, sizeof kp), lv);
    const yt_node *leakage = yt_obj_val(&o, "leakage");
    if (leakage)
        load_level_leakage(c, leakage, yt_obj_path(&o, "leakage", kp, sizeof kp), index);
}

/* Per-PE levels sit inside the shared ones: the outermost level is
 * shared, and below the first per-PE level every level is per-PE. */
static void check_per_pe_order(arch_ctx *c) {
    const ef_arch_spec *a = c->a;
    char path[YT_MAX_PATH];
    if (a->level_count > 0 && a->levels[0].per_pe && c->per_pe_node[0]) {
        yt_error(c->doc, c->per_pe_node[0], "levels[0].per_pe",
                 "per_pe levels are the innermost ones, inside a shared level",
                 "expected the outermost level to be shared, found per_pe: "
                 "true");
        return;
    }
    int first = -1;
    for (int i = 0; i < a->level_count; i++) {
        if (a->levels[i].per_pe && first < 0)
            first = i;
        if (first >= 0 && !a->levels[i].per_pe && c->level_node[i]) {
            yt_path_index(path, sizeof path, "levels", (size_t)i);
            yt_error(c->doc, c->level_node[i], path,
                     "per_pe levels are the innermost ones, inside a shared "
                     "level",
                     "expected a per_pe level inside per_pe level \"%s\" "
                     "(levels[%d]), found a shared one",
                     a->levels[first].name, first);
            return;
        }
    }
}

static void load_levels(arch_ctx *c, const yt_node *seq) {
    if (seq->count == 0) {
        yt_error(c->doc, seq, "levels", NULL,
                 "expected at least one level, found an empty sequence");
        return;
    }
    if (seq->count > EF_MAX_LEVELS) {
        yt_error(c->doc, seq, "levels", NULL,
                 "expected at most %d levels, found %zu", EF_MAX_LEVELS,
                 seq->count);
        return;
    }
    for (size_t i = 0; i < seq->count; i++) {
        char path[YT_MAX_PATH];
        yt_path_index(path, sizeof path, "levels", i);
        load_level(c, seq->items[i], path);
    }
    check_per_pe_order(c);
}

/* Names of levels [first, level_count) that loaded, plus extra (or
 * NULL): the candidates of a level reference. Returns how many. */
static size_t level_names(const ef_arch_spec *a, int first, const char *extra,
                          const char *names[EF_MAX_LEVELS + 1]) {
    size_t n = 0;
    for (int i = first; i < a->level_count; i++)
        if (a->levels[i].name[0])
            names[n++] = a->levels[i].name;
    if (extra)
        names[n++] = extra;
    return n;
}

/* "expected one of ..." for a level reference, with a suggestion. */
static void bad_level_ref(arch_ctx *c, const yt_node *n, const char *path,
                          const char *const *names, size_t count,
                          const char *inside) {
    char list[EF_MAX_LEVELS * (EF_MAX_NAME + 2) + 8], hint[EF_MAX_NAME + 32];
    char found[96];
    const char *best = ef_suggest(n->text, names, count);
    if (best)
        snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
    yt_join(list, sizeof list, names, count);
    if (inside)
        yt_error(c->doc, n, path, best ? hint : NULL,
                 "expected a level inside %s (one of %s), found %s", inside,
                 list, yt_describe(n, found, sizeof found));
    else
        yt_error(c->doc, n, path, best ? hint : NULL,
                 "expected one of %s, found %s", list,
                 yt_describe(n, found, sizeof found));
}

/* from must name a level; to a level inside it (listed later) or PE. */
static void load_noc_ends(arch_ctx *c, yt_obj *o, ef_noc_spec *noc) {
    const ef_arch_spec *a = c->a;
    const char *names[EF_MAX_LEVELS + 1];
    char kp[YT_MAX_PATH];
    int from = -1;
    const yt_node *fn = yt_obj_val(o, "from");
    if (fn && yt_get_name(o, "from", noc->from)) {
        from = find_level(a, noc->from);
        if (from < 0)
            bad_level_ref(c, fn, yt_obj_path(o, "from", kp, sizeof kp), names,
                          level_names(a, 0, NULL, names), NULL);
    }
    const yt_node *tn = yt_obj_val(o, "to");
    if (tn && yt_get_name(o, "to", noc->to) && from >= 0) {
        int to = strcmp(noc->to, "PE") == 0 ? a->level_count
                                            : find_level(a, noc->to);
        if (to <= from)
            bad_level_ref(c, tn, yt_obj_path(o, "to", kp, sizeof kp), names,
                          level_names(a, from + 1, "PE", names), noc->from);
    }
}

static void load_noc(arch_ctx *c, const yt_node *n, const char *path) {
    ef_arch_spec *a = c->a;
    ef_noc_spec *noc = &a->nocs[a->noc_count++];
    noc->loc = yt_loc(a->file, n);
    yt_obj o;
    bool is_map =
        yt_obj_open(&o, c->doc, n, path, noc_keys, ARRAY_LEN(noc_keys));
    if (is_map)
        load_noc_ends(c, &o, noc);
    int topo = EF_NOC_MULTICAST;
    yt_get_enum(&o, "topology", &topo);
    noc->topology = (ef_noc_topology)topo;
    yt_get_num(&o, "bandwidth", &noc->bandwidth_bytes);
    check_bandwidth(c, &o, "bandwidth", noc->bandwidth_bytes);
    yt_get_bool(&o, "reduction", &noc->reduction);
    noc->hop_energy_pj = -1;
    yt_get_num(&o, "hop_energy", &noc->hop_energy_pj);
    load_unit_costs(c, &o, &noc->area_mm2, &noc->leakage_mw);
}

static void load_nocs(arch_ctx *c, const yt_node *seq) {
    if (seq->count > EF_MAX_LEVELS) {
        yt_error(c->doc, seq, "noc", NULL,
                 "expected at most %d networks, found %zu", EF_MAX_LEVELS,
                 seq->count);
        return;
    }
    for (size_t i = 0; i < seq->count; i++) {
        char path[YT_MAX_PATH];
        yt_path_index(path, sizeof path, "noc", i);
        load_noc(c, seq->items[i], path);
    }
}

/* The top-level energy map names levels, so it is read after them. */
static void load_energy_map(arch_ctx *c, const yt_node *map,
                            const yt_node *pe_mac) {
    ef_arch_spec *a = c->a;
    for (size_t i = 0; i < map->count; i++) {
        const yt_node *k = map->pairs[i].key, *v = map->pairs[i].value;
        char kp[YT_MAX_PATH];
        yt_path_key(kp, sizeof kp, "energy", k->text);
        if (strcmp(k->text, "MAC") == 0) {
            if (pe_mac) {
                yt_error(c->doc, k, "energy",
                         "give the MAC energy in one place",
                         "MAC energy given twice (first at line %d)",
                         pe_mac->line);
                continue;
            }
            double pj;
            if (!yt_num(c->doc, v, kp, 0, false, &pj))
                continue;
            if (pj > EF_MAX_ENERGY_PJ)
                yt_error(c->doc, v, kp, "the limit keeps every total a finite number",
                         "expected a number <= %g pJ, found %g", EF_MAX_ENERGY_PJ, pj);
            else
                a->mac_energy_pj = pj;
            continue;
        }
        int level = find_level(a, k->text);
        if (level < 0) {
            const char *names[EF_MAX_LEVELS + 1];
            size_t count = level_names(a, 0, "MAC", names);
            char list[EF_MAX_LEVELS * (EF_MAX_NAME + 2) + 8], hint[96];
            const char *best = ef_suggest(k->text, names, count);
            if (best)
                snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
            yt_join(list, sizeof list, names, count);
            yt_error(c->doc, k, "energy", best ? hint : NULL,
                     "expected a level name or MAC (one of %s), found \"%s\"",
                     list, k->text);
            continue;
        }
        load_energy(c, v, kp, level);
    }
}

static void load_vector_ops(arch_ctx *c, const yt_node *n) {
    ef_vector_unit_spec *vu = &c->a->vector_unit;
    yt_obj o;
    if (!yt_obj_open(&o, c->doc, n, "vector_unit.ops", vector_ops_keys,
                     ARRAY_LEN(vector_ops_keys)))
        return;
    for (int k = 0; k < EF_VOP_COUNT; k++) {
        const yt_node *v = yt_obj_val(&o, vector_op_names[k]);
        if (!v)
            continue;
        char kp[YT_MAX_PATH];
        yt_obj op;
        yt_obj_open(&op, c->doc, v,
                    yt_obj_path(&o, vector_op_names[k], kp, sizeof kp),
                    vector_op_keys, ARRAY_LEN(vector_op_keys));
        ef_vector_op_spec *s = &vu->ops[k];
        s->loc = yt_loc(c->a->file, yt_obj_knode(&o, vector_op_names[k]));
        yt_get_u64(&op, "interval", &s->interval_cycles);
        if (yt_obj_val(&op, "latency"))
            s->latency_given = yt_get_u64(&op, "latency", &s->latency_cycles);
        yt_get_num(&op, "energy", &s->energy_pj);
    }
}

/* `from` must be a shared level: the lanes sit beside the array and
 * read one buffer, not the PEs' own registers. */
static void load_vector_from(arch_ctx *c, yt_obj *o) {
    ef_arch_spec *a = c->a;
    ef_vector_unit_spec *vu = &a->vector_unit;
    const yt_node *fn = yt_obj_val(o, "from");
    if (!fn || !yt_get_name(o, "from", vu->from))
        return;
    char kp[YT_MAX_PATH];
    yt_obj_path(o, "from", kp, sizeof kp);
    vu->from_level = find_level(a, vu->from);
    const char *names[EF_MAX_LEVELS + 1];
    size_t count = 0;
    for (int i = 0; i < a->level_count; i++)
        if (a->levels[i].name[0] && !a->levels[i].per_pe)
            names[count++] = a->levels[i].name;
    if (vu->from_level < 0) {
        bad_level_ref(c, fn, kp, names, count, NULL);
        return;
    }
    if (a->levels[vu->from_level].per_pe) {
        char list[EF_MAX_LEVELS * (EF_MAX_NAME + 2) + 8];
        yt_join(list, sizeof list, names, count);
        yt_error(c->doc, fn, kp,
                 "the vector unit reads and writes the tiles of a buffer the "
                 "array shares",
                 "expected a shared level (one of %s), found per_pe level "
                 "\"%s\"",
                 list, vu->from);
    }
}

/* Read after levels and pe: from names a level, and the arithmetic
 * defaults to the PEs'. */
static void load_vector_unit(arch_ctx *c, const yt_node *n) {
    ef_arch_spec *a = c->a;
    ef_vector_unit_spec *vu = &a->vector_unit;
    yt_obj o;
    if (!yt_obj_open(&o, c->doc, n, "vector_unit", vector_unit_keys,
                     ARRAY_LEN(vector_unit_keys)))
        return;
    vu->present = true;
    vu->loc = yt_loc(a->file, n);
    snprintf(vu->name, sizeof vu->name, "VU");
    const yt_node *name = yt_obj_val(&o, "name");
    if (name && yt_get_name(&o, "name", vu->name) &&
        find_level(a, vu->name) >= 0) {
        char kp[YT_MAX_PATH];
        yt_error(c->doc, name, yt_obj_path(&o, "name", kp, sizeof kp),
                 "reports name the unit and the levels alike",
                 "expected a name no level has, found \"%s\"", vu->name);
    }
    load_vector_from(c, &o);
    yt_get_int(&o, "lanes", &vu->lanes);
    yt_get_num(&o, "bandwidth", &vu->bandwidth_bytes);
    check_bandwidth(c, &o, "bandwidth", vu->bandwidth_bytes);
    int arith = (int)a->arithmetic;
    if (yt_obj_val(&o, "arithmetic"))
        yt_get_enum(&o, "arithmetic", &arith);
    vu->arithmetic = (ef_arithmetic)arith;
    for (int k = 0; k < EF_VOP_COUNT; k++) {
        vu->ops[k].interval_cycles = 1;
        vu->ops[k].energy_pj = -1;
        vu->ops[k].loc = vu->loc;
    }
    const yt_node *ops = yt_obj_val(&o, "ops");
    if (ops)
        load_vector_ops(c, ops);
    load_unit_costs(c, &o, &vu->area_mm2, &vu->leakage_mw);
}

static void load_arch(arch_ctx *c, const yt_node *root) {
    ef_arch_spec *a = c->a;
    a->loc = yt_loc(a->file, root);
    a->mac_energy_pj = -1;
    yt_obj o;
    if (!yt_obj_open(&o, c->doc, root, "", arch_keys, ARRAY_LEN(arch_keys)))
        return;
    yt_get_name(&o, "name", a->name);
    const char *description = NULL;
    yt_get_str(&o, "description", &description);
    yt_get_num(&o, "clock_mhz", &a->clock_mhz);
    yt_get_num(&o, "energy_unit_pj", &a->energy_unit_pj);

    yt_obj po;
    const yt_node *array = yt_obj_val(&o, "pe_array");
    yt_obj_open(&po, c->doc, array, "pe_array", pe_array_keys,
                ARRAY_LEN(pe_array_keys));
    bool ok = yt_get_int(&po, "rows", &a->rows);
    ok = yt_get_int(&po, "cols", &a->cols) && ok;
    if (ok && (uint64_t)a->rows * (uint64_t)a->cols > EF_MAX_PES)
        yt_error(c->doc, array, "pe_array", NULL,
                 "expected at most %d PEs, found %d x %d = %llu", EF_MAX_PES,
                 a->rows, a->cols,
                 (unsigned long long)((uint64_t)a->rows * (uint64_t)a->cols));

    yt_obj pe;
    yt_obj_open(&pe, c->doc, yt_obj_val(&o, "pe"), "pe", pe_keys,
                ARRAY_LEN(pe_keys));
    yt_get_int(&pe, "macs_per_cycle", &a->macs_per_cycle);
    yt_get_num(&pe, "mac_energy", &a->mac_energy_pj);
    int arith = EF_ARITH_INT;
    yt_get_enum(&pe, "arithmetic", &arith);
    a->arithmetic = (ef_arithmetic)arith;
    load_unit_costs(c, &pe, &a->pe_area_mm2, &a->pe_leakage_mw);

    const yt_node *levels = yt_obj_val(&o, "levels");
    if (levels)
        load_levels(c, levels);
    const yt_node *nocs = yt_obj_val(&o, "noc");
    if (nocs)
        load_nocs(c, nocs);
    const yt_node *energy = yt_obj_val(&o, "energy");
    if (energy)
        load_energy_map(c, energy, yt_obj_knode(&pe, "mac_energy"));
    const yt_node *vu = yt_obj_val(&o, "vector_unit");
    if (vu)
        load_vector_unit(c, vu);
}

/* The architecture in d with the overrides set[0 .. set_count) applied
 * (--set arch.PATH=VALUE); d is freed. */
static ef_arch_spec *arch_from_doc(yt_doc *d, const ef_arch_set *set, int set_count) {
    if (!d)
        return NULL;
    /* a path that leads nowhere says nothing about the file: stop there */
    if (set_count > 0 && !ef_arch_apply_sets(d, set, set_count)) {
        yt_free(d);
        return NULL;
    }
    ef_arch_spec *a = ef_calloc(1, sizeof *a);
    if (!a || !(a->file = yt_strdup(d->file))) {
        yt_oom(d);
        free(a);
        yt_free(d);
        return NULL;
    }
    arch_ctx c = {.doc = d, .a = a};
    load_arch(&c, d->root);
    if (d->errors > 0) {
        ef_arch_spec_destroy(a);
        a = NULL;
    }
    yt_free(d);
    return a;
}

ef_arch_spec *ef_spec_load_arch(const char *path, ef_diags *diags) {
    return arch_from_doc(yt_load(path, diags), NULL, 0);
}

ef_arch_spec *ef_spec_load_arch_set(const char *path, const ef_arch_set *set,
                                    int set_count, ef_diags *diags) {
    return arch_from_doc(yt_load(path, diags), set, set_count);
}

ef_arch_spec *ef_spec_load_arch_text(const char *name, const char *text,
                                     size_t size, ef_diags *diags) {
    return arch_from_doc(yt_load_mem(name, text, size, diags), NULL, 0);
}

bool ef_spec_arch_paths_ok(const char *path, const ef_arch_set *set, int set_count,
                           ef_diags *diags) {
    yt_doc *d = yt_load(path, diags);
    if (!d)
        return false;
    bool ok = ef_arch_apply_sets(d, set, set_count);
    yt_free(d);
    return ok;
}

void ef_arch_spec_destroy(ef_arch_spec *a) {
    if (!a)
        return;
    free(a->file);
    free(a);
}
