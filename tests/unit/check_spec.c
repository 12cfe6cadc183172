/* Unit tests of the spec stage: YAML snippets written to temp files,
 * loaded, and either their values checked or the exact first line of
 * the rendered diagnostic (plus its hint) pinned. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "einflow/common.h"
#include "einflow/spec.h"
#include "unit/unit_util.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------- helpers ---------- */


static void remove_temp(char *path) {
    unlink(path);
    free(path);
}

/* The first line of the rendered diagnostics, with the file name
 * replaced by "F" so expectations do not depend on mkstemp. */
static char *first_line(const ef_diags *d, const char *file) {
    char *all = ef_diags_render(d);
    ck_assert_ptr_nonnull(all);
    size_t n = strcspn(all, "\n");
    all[n] = '\0';
    size_t fl = strlen(file);
    char *out = malloc(n + 2);
    ck_assert_ptr_nonnull(out);
    if (strncmp(all, file, fl) == 0)
        snprintf(out, n + 2, "F%s", all + fl);
    else
        snprintf(out, n + 2, "%s", all);
    free(all);
    return out;
}

static ef_arch_spec *arch_from(const char *yaml, ef_diags **diags) {
    char *p = ut_write_temp(yaml);
    *diags = ef_diags_create();
    ef_arch_spec *a = ef_spec_load_arch(p, *diags);
    remove_temp(p);
    return a;
}

static ef_workload_spec *workload_from(const char *yaml, ef_diags **diags) {
    char *p = ut_write_temp(yaml);
    *diags = ef_diags_create();
    ef_workload_spec *w = ef_spec_load_workload(p, *diags);
    remove_temp(p);
    return w;
}

static ef_mapping_spec *mapping_from(const char *yaml, ef_diags **diags) {
    char *p = ut_write_temp(yaml);
    *diags = ef_diags_create();
    ef_mapping_spec *m = ef_spec_load_mapping(p, *diags);
    remove_temp(p);
    return m;
}

/* Fails with the rendered diagnostics when a load that should succeed
 * did not. */
static void expect_clean(const void *spec, ef_diags *d) {
    char *all = ef_diags_render(d);
    ck_assert_msg(spec != NULL && d->count == 0, "unexpected errors:\n%s",
                  all);
    free(all);
}

/* ---------- bad inputs: exact first diagnostic line ---------- */

#define ARCH_HEAD "name: a\nlevels:\n"
#define MAP_HEAD "mapping:\n  - level: GLB\n"

static const struct {
    char kind;          /* 'a', 'w', 'm' or 's' (sniff) */
    const char *yaml;
    const char *line;   /* first rendered line, file name as F */
    const char *hint;   /* of the first diagnostic; NULL: none */
} bad[] = {
    /* unknown key, with suggestion */
    {'a', ARCH_HEAD "  - name: GLB\n    kind: sram\n    capcity: 4 KiB\n",
     "F:5:5: error: levels[0]: unknown key \"capcity\"",
     "did you mean \"capacity\"?"},
    /* area and leakage (docs/area.md): a typo, two ways at once, a
     * figure per KiB of an unlimited level, leakage given twice */
    {'a', ARCH_HEAD "  - name: GLB\n    kind: sram\n    capacity: 4 KiB\n"
          "    area: {mm2_per_kb: 0.01}\n",
     "F:6:12: error: levels[0].area: unknown key \"mm2_per_kb\"",
     "did you mean \"mm2_per_kib\"?"},
    {'a', ARCH_HEAD "  - name: GLB\n    kind: sram\n    capacity: 4 KiB\n"
          "    area: {mm2: 1, mm2_per_kib: 0.01}\n",
     "F:6:20: error: levels[0].area: expected mm2 or mm2_per_kib, found both",
     "mm2 is the whole instance, mm2_per_kib scales with its capacity; keep one"},
    {'a', ARCH_HEAD "  - name: GLB\n    kind: sram\n    leakage: {mw_per_kib: 0.1}\n",
     "F:5:15: error: levels[0].leakage: expected mw_per_kib on a level with a capacity, "
     "found level \"GLB\" unlimited",
     "give the level a capacity, or a total (mm2, mw)"},
    {'a', ARCH_HEAD "  - name: GLB\n    kind: sram\n    leakage: {mw: 1}\n"
          "energy: {GLB: {leakage: 2}}\n",
     "F:6:16: error: energy.GLB: leakage of level \"GLB\" given twice (first at line 5)",
     "give a level's static power in one place"},
    {'a', "name: a\npe: {area: {um2: 300}}\nlevels: [{name: D, kind: dram}]\n",
     "F:2:13: error: pe.area: unknown key \"um2\"",
     "did you mean \"mm2\"?"},
    /* unknown key, nothing close: the allowed keys instead */
    {'a', "name: a\nwibble: 1\nlevels: [{name: D, kind: dram}]\n",
     "F:2:1: error: unknown key \"wibble\"",
     "allowed keys here: name, description, clock_mhz, pe_array, pe, "
     "levels, noc, energy, vector_unit, energy_unit_pj"},
    /* duplicate key */
    {'a', "name: a\nname: b\nlevels: [{name: D, kind: dram}]\n",
     "F:2:1: error: duplicate key \"name\" (first at line 1)", NULL},
    /* bad kind */
    {'a', ARCH_HEAD "  - name: GLB\n    kind: sdram\n",
     "F:4:11: error: levels[0].kind: expected one of dram, sram, regfile, "
     "found \"sdram\"",
     "did you mean \"sram\"?"},
    /* capacity without unit */
    {'a', ARCH_HEAD "  - {name: GLB, kind: sram, capacity: 64}\n",
     "F:3:39: error: levels[0].capacity: expected a size with a unit (B, "
     "KiB, MiB, GiB or words), found \"64\"",
     NULL},
    /* KB instead of KiB */
    {'a', ARCH_HEAD "  - name: GLB\n    kind: sram\n    capacity: 108 KB\n",
     "F:5:15: error: levels[0].capacity: expected a size with a unit (B, "
     "KiB, MiB, GiB or words), found \"108 KB\"",
     "did you mean \"KiB\"?"},
    {'a', ARCH_HEAD "  - name: GLB\n    kind: sram\n    capacity: 2MB\n",
     "F:5:15: error: levels[0].capacity: expected a size with a unit (B, "
     "KiB, MiB, GiB or words), found \"2MB\"",
     "did you mean \"MiB\"?"},
    /* capacity zero */
    {'a', ARCH_HEAD "  - name: GLB\n    kind: sram\n    capacity: 0 B\n",
     "F:5:15: error: levels[0].capacity: expected a positive size, found "
     "\"0 B\"",
     "leave capacity out for an unlimited level"},
    /* partition with a bad size */
    {'a', ARCH_HEAD "  - name: RF\n    kind: regfile\n"
                    "    capacity: {F: 448 B, I: 24}\n",
     "F:5:29: error: levels[0].capacity.I: expected a size with a unit (B, "
     "KiB, MiB, GiB or words), found \"24\"",
     NULL},
    /* negative bandwidth */
    {'a', ARCH_HEAD "  - name: GLB\n    kind: sram\n    read_bandwidth: -4\n",
     "F:5:21: error: levels[0].read_bandwidth: expected a non-negative "
     "number, found \"-4\"",
     NULL},
    /* bandwidth and read_bandwidth together */
    {'a', ARCH_HEAD "  - name: GLB\n    kind: sram\n    bandwidth: 4\n"
                    "    read_bandwidth: 4\n",
     "F:5:5: error: levels[0]: expected either bandwidth or read_bandwidth "
     "and write_bandwidth, found both",
     "bandwidth sets both; keep it or the two separate keys"},
    /* bool given as yes */
    {'a', ARCH_HEAD "  - name: GLB\n    kind: sram\n    double_buffer: yes\n",
     "F:5:20: error: levels[0].double_buffer: expected true or false, found "
     "\"yes\"",
     "did you mean \"true\"?"},
    {'a', ARCH_HEAD "  - name: RF\n    kind: regfile\n    per_pe: Off\n",
     "F:5:13: error: levels[0].per_pe: expected true or false, found \"Off\"",
     "did you mean \"false\"?"},
    /* missing name */
    {'a', "levels:\n  - {name: D, kind: dram}\n",
     "F:1:1: error: missing required key \"name\"", NULL},
    {'a', ARCH_HEAD "  - kind: dram\n",
     "F:3:5: error: levels[0]: missing required key \"name\"", NULL},
    /* name that is not an identifier */
    {'a', ARCH_HEAD "  - {name: G-LB, kind: sram}\n",
     "F:3:12: error: levels[0].name: expected a name (letters, digits and _, "
     "not starting with a digit), found \"G-LB\"",
     NULL},
    /* duplicate level name */
    {'a', ARCH_HEAD "  - {name: GLB, kind: sram}\n  - {name: GLB, kind: sram}\n",
     "F:4:12: error: levels[1].name: duplicate level name \"GLB\" (first at "
     "line 3)",
     NULL},
    /* dram not outermost */
    {'a', ARCH_HEAD "  - {name: GLB, kind: sram}\n  - {name: D, kind: dram}\n",
     "F:4:21: error: levels[1].kind: expected dram only as the outermost "
     "level (levels[0]), found it at levels[1]",
     "levels are listed outermost first"},
    /* per-PE levels inside shared ones */
    {'a', ARCH_HEAD "  - {name: RF, kind: regfile, per_pe: true}\n",
     "F:3:39: error: levels[0].per_pe: expected the outermost level to be "
     "shared, found per_pe: true",
     "per_pe levels are the innermost ones, inside a shared level"},
    {'a', ARCH_HEAD "  - {name: D, kind: dram}\n"
                    "  - {name: RF, kind: regfile, per_pe: true}\n"
                    "  - {name: GLB, kind: sram}\n",
     "F:5:5: error: levels[2]: expected a per_pe level inside per_pe level "
     "\"RF\" (levels[1]), found a shared one",
     "per_pe levels are the innermost ones, inside a shared level"},
    /* empty levels */
    {'a', "name: a\nlevels: []\n",
     "F:2:9: error: levels: expected at least one level, found an empty "
     "sequence",
     NULL},
    /* levels not a sequence */
    {'a', "name: a\nlevels: {GLB: 1}\n",
     "F:2:9: error: levels: expected a sequence, found a mapping", NULL},
    /* too many PEs */
    {'a', "name: a\npe_array: {rows: 1000, cols: 1000}\n"
          "levels: [{name: D, kind: dram}]\n",
     "F:2:11: error: pe_array: expected at most 65536 PEs, found 1000 x 1000 "
     "= 1000000",
     NULL},
    {'a', "name: a\npe_array: {rows: 12.5}\nlevels: [{name: D, kind: dram}]\n",
     "F:2:18: error: pe_array.rows: expected an integer from 1 to 65536, "
     "found \"12.5\"",
     NULL},
    {'a', "name: a\nclock_mhz: 0\nlevels: [{name: D, kind: dram}]\n",
     "F:2:12: error: clock_mhz: expected a positive number, found \"0\"",
     NULL},
    {'a', "name: a\nclock_mhz: \"200\"\nlevels: [{name: D, kind: dram}]\n",
     "F:2:12: error: clock_mhz: expected a positive number, found the string "
     "\"200\"",
     NULL},
    {'a', "name: a\nclock_mhz: .inf\nlevels: [{name: D, kind: dram}]\n",
     "F:2:12: error: clock_mhz: expected a positive number, found \".inf\"",
     NULL},
    /* noc from unknown level */
    {'a', ARCH_HEAD "  - {name: GLB, kind: sram}\n  - {name: RF, kind: regfile}\n"
                    "noc:\n  - {from: GLBX, to: RF}\n",
     "F:6:12: error: noc[0].from: expected one of GLB, RF, found \"GLBX\"",
     "did you mean \"GLB\"?"},
    /* noc to outside from */
    {'a', ARCH_HEAD "  - {name: GLB, kind: sram}\n  - {name: RF, kind: regfile}\n"
                    "noc:\n  - {from: RF, to: GLB}\n",
     "F:6:20: error: noc[0].to: expected a level inside RF (one of PE), found "
     "\"GLB\"",
     NULL},
    /* noc topology */
    {'a', ARCH_HEAD "  - {name: GLB, kind: sram}\n"
                    "noc:\n  - {from: GLB, to: PE, topology: mesh}\n",
     "F:5:35: error: noc[0].topology: expected one of multicast, systolic, "
     "unicast, found \"mesh\"",
     NULL},
    /* top-level energy for an unknown level */
    {'a', ARCH_HEAD "  - {name: GLB, kind: sram}\nenergy:\n  GBL: {read: 1}\n",
     "F:5:3: error: energy: expected a level name or MAC (one of GLB, MAC), "
     "found \"GBL\"",
     "did you mean \"GLB\"?"},
    /* energy in two places */
    {'a', ARCH_HEAD "  - {name: GLB, kind: sram, energy: {read: 1}}\n"
                    "energy:\n  GLB: {read: 2}\n",
     "F:5:8: error: energy.GLB: energy of level \"GLB\" given twice (first at "
     "line 3)",
     "give a level's energy in one place"},
    /* YAML syntax error */
    {'a', "name: a\nlevels: [{name: D, kind: dram}\n",
     "F:3:1: error: invalid YAML: did not find expected ',' or ']'",
     "while parsing a flow sequence that starts at line 2"},
    {'a', "name: a\n\tlevels: 1\n",
     "F:2:1: error: invalid YAML: found a tab character that violates "
     "indentation",
     "while scanning a plain scalar that starts at line 1"},
    /* alias used */
    {'a', "name: &n a\nlevels: [{name: *n, kind: dram}]\n",
     "F:1:7: error: anchors are not supported, found \"&n\"",
     "write the values out in full"},
    {'w', "name: w\neinsums: [\"O[p] += I[p]\"]\nranks: {P: 4}\n"
          "precision: {I: *x}\n",
     "F:4:16: error: aliases are not supported, found \"*x\"",
     "write the values out in full"},
    /* tags */
    {'a', "name: a\nlevels: !!seq [{name: D, kind: dram}]\n",
     "F:2:9: error: tags are not supported, found \"!!seq\"", NULL},
    /* non-scalar key */
    {'a', "name: a\n[x]: 1\nlevels: [{name: D, kind: dram}]\n",
     "F:2:1: error: expected a scalar key, found a sequence", NULL},
    /* several documents, empty file */
    {'a', "name: a\n---\nname: b\n",
     "F:2:1: error: expected one YAML document, found a second one",
     "put each spec in its own file"},
    {'a', "# nothing here\n",
     "F:1:1: error: expected a mapping of keys, found an empty document", NULL},
    {'a', "- name: a\n",
     "F:1:1: error: expected a mapping, found a sequence", NULL},
    /* workload */
    {'w', "name: w\neinsums: [\"O[p] += I[p]\"]\n",
     "F:1:1: error: missing required key \"ranks\"", NULL},
    {'w', "name: w\neinsums: []\nranks: {P: 4}\n",
     "F:2:10: error: einsums: expected at least one Einsum, found an empty "
     "sequence",
     NULL},
    {'w', "name: w\neinsums: [\"\"]\nranks: {P: 4}\n",
     "F:2:11: error: einsums[0]: expected an Einsum such as \"O[p] += I[p+r] "
     "* W[r]\", found the string \"\"",
     NULL},
    {'w', "name: w\neinsums: [\"O[p] += I[p]\"]\nranks: {P: 0}\n",
     "F:3:12: error: ranks.P: expected a positive integer, found \"0\"", NULL},
    {'w', "name: w\neinsums: [\"O[p] += I[p]\"]\nranks: {1P: 4}\n",
     "F:3:9: error: ranks: expected a name (letters, digits and _, not "
     "starting with a digit), found \"1P\"",
     NULL},
    {'w', "name: w\neinsums: [\"O[p] += I[p]\"]\nranks: {P: 4}\n"
          "precision: {I: 65}\n",
     "F:4:16: error: precision.I: expected an integer from 1 to 64, found "
     "\"65\"",
     NULL},
    {'w', "name: w\neinsums: [\"O[p] += I[p]\"]\nranks: {P: 4}\n"
          "padding: {I: [1, -1]}\n",
     "F:4:18: error: padding.I[1]: expected a non-negative integer, found "
     "\"-1\"",
     NULL},
    /* per-side padding: a pair [before, after], nothing else */
    {'w', "name: w\neinsums: [\"O[p] += I[p]\"]\nranks: {P: 4}\n"
          "padding: {I: [[1, 2, 3]]}\n",
     "F:4:15: error: padding.I[0]: expected a pair [before, after], found 3 "
     "values",
     "an integer pads both sides alike"},
    {'w', "name: w\neinsums: [\"O[p] += I[p]\"]\nranks: {P: 4}\n"
          "padding: {I: [[]]}\n",
     "F:4:15: error: padding.I[0]: expected a pair [before, after], found 0 "
     "values",
     "an integer pads both sides alike"},
    {'w', "name: w\neinsums: [\"O[p] += I[p]\"]\nranks: {P: 4}\n"
          "padding: {I: [[1, -2]]}\n",
     "F:4:19: error: padding.I[0][1]: expected a non-negative integer, found "
     "\"-2\"",
     NULL},
    {'w', "name: w\neinsums: [\"O[p] += I[p]\"]\nranks: {P: 4}\n"
          "padding: {I: [{before: 1}]}\n",
     "F:4:15: error: padding.I[0]: expected a non-negative integer or a pair "
     "[before, after], found a mapping",
     NULL},
    /* the word batch is a bound only in network files */
    {'w', "name: w\neinsums: [\"O[n] += I[n]\"]\nranks: {N: batch}\n",
     "F:3:12: error: ranks.N: expected a positive integer, found \"batch\"",
     NULL},
    {'w', "name: w\neinsum: [\"O[p] += I[p]\"]\nranks: {P: 4}\n",
     "F:2:1: error: unknown key \"einsum\"", "did you mean \"einsums\"?"},
    /* mapping with both mapping and mappings */
    {'m', "mapping: []\nmappings: []\n",
     "F:2:1: error: expected either mapping or mappings, found both",
     "use mapping for one Einsum, mappings for a cascade"},
    {'m', "description: nothing\n",
     "F:1:1: error: missing required key \"mapping\"",
     "use mappings for a cascade of Einsums"},
    /* temporal entry with two keys */
    {'m', MAP_HEAD "    temporal: [{M: 4, C: 2}]\n",
     "F:3:16: error: mapping[0].temporal[0]: expected a single RANK: factor "
     "pair, found a mapping with 2 keys",
     "write [M: 4, C: 2], one pair per loop"},
    {'m', MAP_HEAD "    temporal: {M: 4, C: 2}\n",
     "F:3:15: error: mapping[0].temporal: expected a sequence, found a "
     "mapping",
     NULL},
    /* factor 0 */
    {'m', MAP_HEAD "    temporal: [M: 4, C: 0]\n",
     "F:3:25: error: mapping[0].temporal[1].C: expected a positive integer, "
     "found \"0\"",
     NULL},
    {'m', MAP_HEAD "    spatial: {rows: [C: 2.5]}\n",
     "F:3:25: error: mapping[0].spatial.rows[0].C: expected a positive "
     "integer, found \"2.5\"",
     NULL},
    {'m', MAP_HEAD "    spatial: {row: [C: 2]}\n",
     "F:3:15: error: mapping[0].spatial: unknown key \"row\"",
     "did you mean \"rows\"?"},
    /* tensor in keep and bypass */
    {'m', MAP_HEAD "    keep: [I, O]\n    bypass: [F, O]\n",
     "F:4:17: error: mapping[0].bypass[1]: tensor \"O\" is both kept (line 3) "
     "and bypassed",
     "a level either keeps a tensor or lets it pass by"},
    {'m', MAP_HEAD "    keep: [I, I]\n",
     "F:3:15: error: mapping[0].keep[1]: tensor \"I\" listed twice (first at "
     "line 3)",
     NULL},
    {'m', "mapping:\n  - temporal: [M: 4]\n",
     "F:2:5: error: mapping[0]: missing required key \"level\"", NULL},
    {'m', "mappings:\n  - {einsum: O, mapping: [{level: A}]}\n"
          "  - {einsum: O, mapping: [{level: A}]}\n",
     "F:3:14: error: mappings[1].einsum: Einsum \"O\" mapped twice (first at "
     "line 2)",
     NULL},
    {'m', "mapping: []\n",
     "F:1:10: error: mapping: expected 1 to 8 level mappings, found an empty "
     "sequence",
     NULL},
    /* sniffing */
    {'s', "foo: 1\n",
     "F: error: cannot tell what this file is: expected top-level key levels "
     "(architecture), einsums (workload), layers (network), mapping "
     "(mapping), dataflow (dataflow template) or arch (sweep)",
     NULL},
    {'s', "name: a\nlevels: [\n",
     "F:3:1: error: invalid YAML: did not find expected node content",
     "while parsing a flow node that starts at line 3"},
};

START_TEST(bad_input) {
    char *path = ut_write_temp(bad[_i].yaml);
    ef_diags *d = ef_diags_create();
    bool loaded = false;
    switch (bad[_i].kind) {
    case 'a': {
        ef_arch_spec *a = ef_spec_load_arch(path, d);
        loaded = a != NULL;
        ef_arch_spec_destroy(a);
        break;
    }
    case 'w': {
        ef_workload_spec *w = ef_spec_load_workload(path, d);
        loaded = w != NULL;
        ef_workload_spec_destroy(w);
        break;
    }
    case 'm': {
        ef_mapping_spec *m = ef_spec_load_mapping(path, d);
        loaded = m != NULL;
        ef_mapping_spec_destroy(m);
        break;
    }
    default:
        loaded = ef_spec_sniff(path, d) != 0;
        break;
    }
    ck_assert_msg(!loaded, "case %d loaded", _i);
    ck_assert_uint_ge(d->count, 1);
    char *line = first_line(d, path);
    ck_assert_msg(strcmp(line, bad[_i].line) == 0,
                  "case %d:\n want %s\n  got %s", _i, bad[_i].line, line);
    const char *hint = d->items[0].hint;
    if (bad[_i].hint)
        ck_assert_msg(hint && strcmp(hint, bad[_i].hint) == 0,
                      "case %d hint: want %s, got %s", _i, bad[_i].hint,
                      hint ? hint : "NULL");
    else
        ck_assert_msg(hint == NULL, "case %d: unexpected hint %s", _i, hint);
    free(line);
    ef_diags_destroy(d);
    remove_temp(path);
}
END_TEST

START_TEST(full_render_has_source_and_caret) {
    ef_diags *d;
    ef_arch_spec *a = arch_from(
        ARCH_HEAD "  - name: GLB\n    kind: sram\n    capacity: 108 KB\n", &d);
    ck_assert_ptr_null(a);
    char *all = ef_diags_render(d);
    const char *tail = ": error: levels[0].capacity: expected a size with a "
                       "unit (B, KiB, MiB, GiB or words), found \"108 KB\"\n"
                       "    5 |     capacity: 108 KB\n"
                       "      |               ^\n"
                       "      = hint: did you mean \"KiB\"?\n";
    ck_assert_ptr_nonnull(strstr(all, tail));
    ck_assert_int_eq(strlen(strstr(all, tail)), strlen(tail));
    free(all);
    ef_diags_destroy(d);
}
END_TEST

START_TEST(collects_several_errors) {
    ef_diags *d;
    ef_arch_spec *a = arch_from(ARCH_HEAD "  - name: GLB\n    kind: sdram\n"
                                          "    capcity: 1 KiB\n"
                                          "    latency: -1\n"
                                          "    per_pe: yes\n",
                                &d);
    ck_assert_ptr_null(a);
    ck_assert_uint_eq(d->count, 4);
    ef_diags_destroy(d);
}
END_TEST

START_TEST(missing_file) {
    ef_diags *d = ef_diags_create();
    const char *path = "/nonexistent/einflow/arch.yaml";
    ck_assert_ptr_null(ef_spec_load_arch(path, d));
    ck_assert_uint_eq(d->count, 1);
    char *all = ef_diags_render(d);
    ck_assert_str_eq(all, "/nonexistent/einflow/arch.yaml: error: cannot "
                          "open: No such file or directory\n");
    free(all);
    ck_assert_int_eq(ef_spec_sniff(path, d), 0);
    ck_assert_uint_eq(d->count, 2);
    ef_diags_destroy(d);
}
END_TEST

START_TEST(null_diags_is_allowed) {
    char *p = ut_write_temp("name: a\nlevels: []\n");
    ck_assert_ptr_null(ef_spec_load_arch(p, NULL));
    remove_temp(p);
}
END_TEST

/* ---------- architecture values ---------- */

static const char design_arch[] =
    "name: eyeriss-like\n"
    "clock_mhz: 200\n"
    "pe_array: {rows: 12, cols: 14}\n"
    "pe: {macs_per_cycle: 1}\n"
    "levels:                       # outermost first\n"
    "  - name: DRAM\n"
    "    kind: dram\n"
    "    read_bandwidth: 8\n"
    "    write_bandwidth: 8\n"
    "    latency: 100\n"
    "  - name: GLB\n"
    "    kind: sram\n"
    "    capacity: 108 KiB\n"
    "    read_bandwidth: 32\n"
    "    write_bandwidth: 32\n"
    "    double_buffer: true\n"
    "  - name: RF\n"
    "    kind: regfile\n"
    "    per_pe: true\n"
    "    capacity: {F: 448 B, I: 24 B, O: 48 B}\n"
    "noc:\n"
    "  - from: GLB\n"
    "    to: RF\n"
    "    topology: systolic\n"
    "    bandwidth: 16\n"
    "    reduction: false\n"
    "energy:\n"
    "  GLB: {read: 6.0, write: 6.5}\n"
    "  MAC: 0.25\n";

START_TEST(arch_design_example) {
    ef_diags *d;
    ef_arch_spec *a = arch_from(design_arch, &d);
    expect_clean(a, d);
    ck_assert_str_eq(a->name, "eyeriss-like");
    ck_assert_double_eq(a->clock_mhz, 200);
    ck_assert_int_eq(a->rows, 12);
    ck_assert_int_eq(a->cols, 14);
    ck_assert_int_eq(a->macs_per_cycle, 1);
    ck_assert_double_eq(a->mac_energy_pj, 0.25);
    ck_assert_int_eq(a->level_count, 3);

    const ef_level_spec *dram = &a->levels[0];
    ck_assert_str_eq(dram->name, "DRAM");
    ck_assert_int_eq(dram->kind, EF_LEVEL_DRAM);
    ck_assert(!dram->capacity.given);
    ck_assert_double_eq(dram->read_bandwidth_bytes, 8);
    ck_assert_double_eq(dram->write_bandwidth_bytes, 8);
    ck_assert_uint_eq(dram->latency_cycles, 100);
    ck_assert_double_eq(dram->read_energy_pj, -1);
    ck_assert_ptr_eq(dram->loc.file, a->file);
    ck_assert_int_eq(dram->loc.line, 6);
    ck_assert_int_eq(dram->loc.col, 5);

    const ef_level_spec *glb = &a->levels[1];
    ck_assert_int_eq(glb->kind, EF_LEVEL_SRAM);
    ck_assert(glb->capacity.given);
    ck_assert(!glb->capacity.in_words);
    ck_assert_uint_eq(glb->capacity.amount, 108 * 1024);
    ck_assert(glb->double_buffer);
    ck_assert(!glb->per_pe);
    ck_assert_double_eq(glb->read_energy_pj, 6.0);
    ck_assert_double_eq(glb->write_energy_pj, 6.5);

    const ef_level_spec *rf = &a->levels[2];
    ck_assert(rf->per_pe);
    ck_assert_int_eq(rf->partition_count, 3);
    const char *tensors[] = {"F", "I", "O"};
    const uint64_t bytes[] = {448, 24, 48};
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(rf->partitions[i].tensor, tensors[i]);
        ck_assert_uint_eq(rf->partitions[i].capacity.amount, bytes[i]);
        ck_assert(rf->partitions[i].capacity.given);
        ck_assert_int_eq(rf->partitions[i].loc.line, 20);
        ck_assert_ptr_eq(rf->partitions[i].loc.file, a->file);
    }
    ck_assert_int_eq(rf->partitions[1].loc.col, 26);

    ck_assert_int_eq(a->noc_count, 1);
    ck_assert_str_eq(a->nocs[0].from, "GLB");
    ck_assert_str_eq(a->nocs[0].to, "RF");
    ck_assert_int_eq(a->nocs[0].topology, EF_NOC_SYSTOLIC);
    ck_assert_double_eq(a->nocs[0].bandwidth_bytes, 16);
    ck_assert(!a->nocs[0].reduction);
    ck_assert_int_eq(a->nocs[0].loc.line, 22);
    ef_arch_spec_destroy(a);
    ef_diags_destroy(d);
}
END_TEST

START_TEST(arch_defaults) {
    ef_diags *d;
    ef_arch_spec *a = arch_from(
        "name: tiny\nlevels:\n  - {name: Buffer, kind: regfile}\n"
        "noc:\n  - {from: Buffer, to: PE}\n",
        &d);
    expect_clean(a, d);
    ck_assert_double_eq(a->clock_mhz, 1000);
    ck_assert_int_eq(a->rows, 1);
    ck_assert_int_eq(a->cols, 1);
    ck_assert_int_eq(a->macs_per_cycle, 1);
    ck_assert_double_eq(a->mac_energy_pj, -1);
    const ef_level_spec *b = &a->levels[0];
    ck_assert(!b->capacity.given);
    ck_assert_uint_eq(b->capacity.amount, 0);
    ck_assert_int_eq(b->partition_count, 0);
    ck_assert(!b->per_pe);
    ck_assert(!b->double_buffer);
    ck_assert_double_eq(b->read_bandwidth_bytes, 0);
    ck_assert_double_eq(b->write_bandwidth_bytes, 0);
    ck_assert_uint_eq(b->latency_cycles, 0);
    ck_assert_double_eq(b->read_energy_pj, -1);
    ck_assert_double_eq(b->write_energy_pj, -1);
    ck_assert_int_eq(a->nocs[0].topology, EF_NOC_MULTICAST);
    ck_assert(a->nocs[0].reduction);
    ck_assert_double_eq(a->nocs[0].bandwidth_bytes, 0);
    ck_assert_int_eq(a->loc.line, 1);
    ef_arch_spec_destroy(a);
    ef_diags_destroy(d);
}
END_TEST

START_TEST(arch_bandwidth_shorthand_and_level_energy) {
    ef_diags *d;
    ef_arch_spec *a = arch_from(
        "name: a\npe: {mac_energy: 0.2}\nlevels:\n"
        "  - {name: GLB, kind: sram, bandwidth: 12.5, "
        "energy: {read: 2, write: 3}}\n",
        &d);
    expect_clean(a, d);
    ck_assert_double_eq(a->levels[0].read_bandwidth_bytes, 12.5);
    ck_assert_double_eq(a->levels[0].write_bandwidth_bytes, 12.5);
    ck_assert_double_eq(a->levels[0].read_energy_pj, 2);
    ck_assert_double_eq(a->levels[0].write_energy_pj, 3);
    ck_assert_double_eq(a->mac_energy_pj, 0.2);
    ef_arch_spec_destroy(a);
    ef_diags_destroy(d);
}
END_TEST

static const struct {
    const char *text;
    uint64_t amount;
    bool in_words;
} sizes[] = {
    {"64 B", 64, false},
    {"64B", 64, false},
    {"108 KiB", 108 * 1024, false},
    {"108KiB", 108 * 1024, false},
    {"2 MiB", UINT64_C(2) << 20, false},
    {"3 GiB", UINT64_C(3) << 30, false},
    {"224 words", 224, true},
    {"1 word", 1, true},
    {"\"16 KiB\"", 16 * 1024, false},
    {"262144 B", 262144, false},
};

START_TEST(capacity_units) {
    char yaml[256];
    snprintf(yaml, sizeof yaml,
             "name: a\nlevels:\n  - name: L\n    kind: sram\n    capacity: %s\n",
             sizes[_i].text);
    ef_diags *d;
    ef_arch_spec *a = arch_from(yaml, &d);
    expect_clean(a, d);
    ck_assert(a->levels[0].capacity.given);
    ck_assert_uint_eq(a->levels[0].capacity.amount, sizes[_i].amount);
    ck_assert_int_eq(a->levels[0].capacity.in_words, sizes[_i].in_words);
    ef_arch_spec_destroy(a);
    ef_diags_destroy(d);
}
END_TEST

START_TEST(capacity_overflow) {
    ef_diags *d;
    ef_arch_spec *a = arch_from(
        "name: a\nlevels:\n  - {name: L, kind: sram, capacity: "
        "99999999999999 GiB}\n",
        &d);
    ck_assert_ptr_null(a);
    ck_assert_str_eq(d->items[0].message,
                     "expected a size below 2^64 bytes, found "
                     "\"99999999999999 GiB\"");
    ef_diags_destroy(d);
}
END_TEST

/* ---------- workload values ---------- */

START_TEST(workload_values) {
    ef_diags *d;
    ef_workload_spec *w = workload_from(
        "name: attn-layer\n"
        "description: two Einsums\n"
        "einsums:\n"
        "  - \"QK[m,p] += Q[p,e] * K[m,e]\"\n"
        "  - MX[p] max= QK[m,p]\n"
        "ranks: {M: 128, P: 64, E: 32}\n"
        "precision: {Q: 16, K: 4}\n"
        "padding:\n  Q: [0, 1]\n",
        &d);
    expect_clean(w, d);
    ck_assert_str_eq(w->name, "attn-layer");
    ck_assert_int_eq(w->einsum_count, 2);
    ck_assert_str_eq(w->einsums[0].text, "QK[m,p] += Q[p,e] * K[m,e]");
    ck_assert_int_eq(w->einsums[0].loc.line, 4);
    ck_assert_int_eq(w->einsums[0].loc.col, 6); /* past the quote */
    ck_assert_ptr_eq(w->einsums[0].loc.file, w->file);
    ck_assert_str_eq(w->einsums[1].text, "MX[p] max= QK[m,p]");
    ck_assert_int_eq(w->einsums[1].loc.col, 5);
    ck_assert_str_eq(w->path, "");
    ck_assert_str_eq(w->einsums[0].path, "einsums[0]");
    ck_assert_str_eq(w->einsums[1].path, "einsums[1]");
    ck_assert(!w->ranks[0].is_batch);
    ck_assert_int_eq(w->rank_count, 3);
    ck_assert_str_eq(w->ranks[0].name, "M");
    ck_assert_uint_eq(w->ranks[0].bound, 128);
    ck_assert_str_eq(w->ranks[2].name, "E");
    ck_assert_uint_eq(w->ranks[2].bound, 32);
    ck_assert_int_eq(w->ranks[1].loc.line, 6);
    ck_assert_int_eq(w->ranks[1].loc.col, 17);
    ck_assert_int_eq(w->precision_count, 2);
    ck_assert_str_eq(w->precisions[1].tensor, "K");
    ck_assert_int_eq(w->precisions[1].bits, 4);
    ck_assert_int_eq(w->default_bits, 8);
    ck_assert_int_eq(w->padding_count, 1);
    ck_assert_str_eq(w->paddings[0].tensor, "Q");
    ck_assert_int_eq(w->paddings[0].dims, 2);
    ck_assert_int_eq(w->paddings[0].before[0], 0);
    ck_assert_int_eq(w->paddings[0].after[0], 0);
    ck_assert_int_eq(w->paddings[0].before[1], 1);
    ck_assert_int_eq(w->paddings[0].after[1], 1);
    ef_workload_spec_destroy(w);
    ef_diags_destroy(d);
}
END_TEST

START_TEST(workload_padding_pairs) {
    ef_diags *d;
    ef_workload_spec *w = workload_from(
        "name: w\neinsums: [\"O[p,q] += I[p*2+r, q*2+s] * F[r,s]\"]\n"
        "ranks: {P: 112, Q: 112, R: 7, S: 7}\n"
        "padding: {I: [[3, 2], 4]}\n",
        &d);
    expect_clean(w, d);
    ck_assert_int_eq(w->padding_count, 1);
    ck_assert_int_eq(w->paddings[0].dims, 2);
    ck_assert_int_eq(w->paddings[0].before[0], 3);
    ck_assert_int_eq(w->paddings[0].after[0], 2);
    ck_assert_int_eq(w->paddings[0].before[1], 4);
    ck_assert_int_eq(w->paddings[0].after[1], 4);
    ck_assert_int_eq(w->paddings[0].loc.line, 4);
    ck_assert_int_eq(w->paddings[0].loc.col, 11);
    ef_workload_spec_destroy(w);
    ef_diags_destroy(d);
}
END_TEST

START_TEST(workload_default_precision) {
    ef_diags *d;
    ef_workload_spec *w = workload_from(
        "name: w\neinsums: [\"O[p] += I[p+r] * W[r]\"]\nranks: {P: 16, R: 3}\n"
        "default_precision: 16\n",
        &d);
    expect_clean(w, d);
    ck_assert_int_eq(w->default_bits, 16);
    ck_assert_int_eq(w->precision_count, 0);
    ef_workload_spec_destroy(w);
    ef_diags_destroy(d);
}
END_TEST

/* ---------- mapping values ---------- */

START_TEST(mapping_single) {
    ef_diags *d;
    ef_mapping_spec *m = mapping_from(
        "mapping:\n"
        "  - level: DRAM\n"
        "    temporal: [M: 4, C: 2]\n"
        "  - level: GLB\n"
        "    keep: [I, O]\n"
        "    bypass: [F]\n"
        "    temporal: [P: 7, Q: 7]\n"
        "    spatial: {rows: [C: 4, S: 3], cols: [M: 14]}\n"
        "  - level: RF\n"
        "    temporal:\n"
        "      - Q: 4\n"
        "      - R: 3\n"
        "      - C: 16\n",
        &d);
    expect_clean(m, d);
    ck_assert_int_eq(m->mapping_count, 1);
    const ef_einsum_mapping_spec *em = &m->mappings[0];
    ck_assert_str_eq(em->einsum, "");
    ck_assert_int_eq(em->level_count, 3);

    const ef_level_mapping_spec *dram = &em->levels[0];
    ck_assert_str_eq(dram->level, "DRAM");
    ck_assert_int_eq(dram->temporal_count, 2);
    ck_assert_str_eq(dram->temporal[0].rank, "M");
    ck_assert_uint_eq(dram->temporal[0].factor, 4);
    ck_assert_str_eq(dram->temporal[1].rank, "C");
    ck_assert_uint_eq(dram->temporal[1].factor, 2);
    ck_assert_int_eq(dram->temporal[1].loc.line, 3);
    ck_assert_int_eq(dram->temporal[1].loc.col, 22);
    ck_assert_ptr_eq(dram->temporal[1].loc.file, m->file);
    ck_assert(!dram->keep_given);
    ck_assert_int_eq(dram->loc.line, 2);

    const ef_level_mapping_spec *glb = &em->levels[1];
    ck_assert(glb->keep_given);
    ck_assert_int_eq(glb->keep_count, 2);
    ck_assert_str_eq(glb->keep[0], "I");
    ck_assert_str_eq(glb->keep[1], "O");
    ck_assert_int_eq(glb->bypass_count, 1);
    ck_assert_str_eq(glb->bypass[0], "F");
    ck_assert_int_eq(glb->row_count, 2);
    ck_assert_str_eq(glb->rows[1].rank, "S");
    ck_assert_uint_eq(glb->rows[1].factor, 3);
    ck_assert_int_eq(glb->col_count, 1);
    ck_assert_str_eq(glb->cols[0].rank, "M");
    ck_assert_uint_eq(glb->cols[0].factor, 14);

    const ef_level_mapping_spec *rf = &em->levels[2];
    ck_assert_int_eq(rf->temporal_count, 3);
    ck_assert_str_eq(rf->temporal[0].rank, "Q");
    ck_assert_str_eq(rf->temporal[2].rank, "C");
    ck_assert_uint_eq(rf->temporal[2].factor, 16);
    ck_assert_int_eq(rf->temporal[2].loc.line, 13);
    ef_mapping_spec_destroy(m);
    ef_diags_destroy(d);
}
END_TEST

START_TEST(mapping_cascade) {
    ef_diags *d;
    ef_mapping_spec *m = mapping_from(
        "mappings:\n"
        "  - einsum: QK\n"
        "    mapping:\n"
        "      - {level: GLB, temporal: [M: 2]}\n"
        "  - einsum: AV\n"
        "    mapping:\n"
        "      - {level: GLB, keep: []}\n"
        "      - {level: RF}\n",
        &d);
    expect_clean(m, d);
    ck_assert_int_eq(m->mapping_count, 2);
    ck_assert_str_eq(m->mappings[0].einsum, "QK");
    ck_assert_int_eq(m->mappings[0].level_count, 1);
    ck_assert_str_eq(m->mappings[1].einsum, "AV");
    ck_assert_int_eq(m->mappings[1].level_count, 2);
    ck_assert(m->mappings[1].levels[0].keep_given);
    ck_assert_int_eq(m->mappings[1].levels[0].keep_count, 0);
    ck_assert_str_eq(m->mappings[1].levels[1].level, "RF");
    ck_assert_int_eq(m->mappings[1].loc.line, 5);
    ef_mapping_spec_destroy(m);
    ef_diags_destroy(d);
}
END_TEST

/* ---------- sniffing and names ---------- */

START_TEST(sniff_kinds) {
    static const struct {
        const char *yaml;
        char kind;
    } cases[] = {
        {"name: a\nlevels: []\n", 'a'},
        {"name: w\neinsums: []\n", 'w'},
        {"mapping: []\n", 'm'},
        {"mappings: []\n", 'm'},
        {"name: n\nlayers: []\n", 'n'},
    };
    for (size_t i = 0; i < LEN(cases); i++) {
        char *p = ut_write_temp(cases[i].yaml);
        ef_diags *d = ef_diags_create();
        ck_assert_int_eq(ef_spec_sniff(p, d), cases[i].kind);
        /* Errors inside are the loader's to report, not sniff's. */
        ck_assert_uint_eq(d->count, 0);
        ef_diags_destroy(d);
        remove_temp(p);
    }
}
END_TEST

START_TEST(enum_names) {
    ck_assert_str_eq(ef_level_kind_name(EF_LEVEL_DRAM), "dram");
    ck_assert_str_eq(ef_level_kind_name(EF_LEVEL_SRAM), "sram");
    ck_assert_str_eq(ef_level_kind_name(EF_LEVEL_REGFILE), "regfile");
    ck_assert_str_eq(ef_noc_topology_name(EF_NOC_MULTICAST), "multicast");
    ck_assert_str_eq(ef_noc_topology_name(EF_NOC_SYSTOLIC), "systolic");
    ck_assert_str_eq(ef_noc_topology_name(EF_NOC_UNICAST), "unicast");
    ck_assert_str_eq(ef_level_kind_name((ef_level_kind)42), "?");
}
END_TEST

/* ---------- loaders from text held in memory ---------- */

/* The whole file at EF_SOURCE_DIR/rel, malloc'd; *size its bytes. */
static char *source_file(const char *rel, size_t *size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", EF_SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *buf = malloc(1 << 20);
    ck_assert_ptr_nonnull(buf);
    *size = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[*size] = '\0';
    return buf;
}

/* Each _text loader reads a bundled file's text as its path loader
 * reads the file, and names it as told. */
START_TEST(text_loaders_match_files) {
    char path[1024];
    size_t size;
    char *text = source_file("configs/edge_8x8.yaml", &size);
    snprintf(path, sizeof path, "%s/configs/edge_8x8.yaml", EF_SOURCE_DIR);
    ef_arch_spec *a = ef_spec_load_arch(path, NULL);
    ef_arch_spec *at = ef_spec_load_arch_text("<edge>", text, size, NULL);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(at);
    ck_assert_str_eq(at->file, "<edge>");
    ck_assert_str_eq(at->name, a->name);
    ck_assert_int_eq(at->level_count, a->level_count);
    ck_assert_int_eq(at->rows * at->cols, a->rows * a->cols);
    ck_assert_int_eq(at->levels[1].loc.line, a->levels[1].loc.line);
    ef_arch_spec_destroy(a);
    ef_arch_spec_destroy(at);
    free(text);

    text = source_file("workloads/attention.yaml", &size);
    ef_workload_spec *w = ef_spec_load_workload_text("<w>", text, size, NULL);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(w->einsum_count, 6);
    ef_network_spec *n = ef_spec_load_network_text("<n>", text, size, NULL, 0, NULL);
    ck_assert_ptr_nonnull(n);
    ck_assert_int_eq(n->layer_count, 1);
    ck_assert_str_eq(n->layers[0].workload->name, w->name);
    ef_workload_spec_destroy(w);
    ef_network_spec_destroy(n);
    free(text);

    text = source_file("tests/data/tiny_net.yaml", &size);
    ef_param_value batch = {.name = "batch", .value = 3};
    n = ef_spec_load_network_text("<net>", text, size, &batch, 1, NULL);
    ck_assert_ptr_nonnull(n);
    ck_assert(n->is_network);
    ck_assert_uint_eq(n->batch, 3);
    ef_network_spec_destroy(n);
    free(text);

    text = source_file("mappings/edge_8x8__attention.yaml", &size);
    ef_mapping_spec *m = ef_spec_load_mapping_text("<m>", text, size, NULL);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->mapping_count, 6);
    ef_mapping_spec_destroy(m);
    free(text);

    text = source_file("dataflows/rs.yaml", &size);
    ef_dataflow_spec *df = ef_spec_load_dataflow_text("<df>", text, size, NULL);
    ck_assert_ptr_nonnull(df);
    ck_assert_str_eq(df->name, "rs");
    ef_dataflow_spec_destroy(df);
    free(text);
}
END_TEST

/* The text's length is its size, not its first NUL: a NUL byte is
 * located as in a file, with the text's own source line. */
START_TEST(text_loader_nul_byte) {
    static const char text[] = "name: x\nranks: {P: 4}\0\n";
    ef_diags *d = ef_diags_create();
    ck_assert_ptr_null(ef_spec_load_workload_text("<input>", text, sizeof text - 1, d));
    ck_assert_uint_ge(d->count, 1);
    ck_assert_str_eq(d->items[0].file, "<input>");
    ck_assert_int_eq(d->items[0].line, 2);
    ck_assert_int_eq(d->items[0].col, 14);
    ck_assert_ptr_nonnull(strstr(d->items[0].message, "control characters are not allowed"));
    ef_diags_destroy(d);
}
END_TEST

static Suite *spec_suite(void) {
    Suite *s = suite_create("spec");
    TCase *b = tcase_create("bad");
    tcase_add_loop_test(b, bad_input, 0, (int)LEN(bad));
    tcase_add_test(b, full_render_has_source_and_caret);
    tcase_add_test(b, collects_several_errors);
    tcase_add_test(b, missing_file);
    tcase_add_test(b, null_diags_is_allowed);
    suite_add_tcase(s, b);
    TCase *a = tcase_create("arch");
    tcase_add_test(a, arch_design_example);
    tcase_add_test(a, arch_defaults);
    tcase_add_test(a, arch_bandwidth_shorthand_and_level_energy);
    tcase_add_loop_test(a, capacity_units, 0, (int)LEN(sizes));
    tcase_add_test(a, capacity_overflow);
    suite_add_tcase(s, a);
    TCase *w = tcase_create("workload");
    tcase_add_test(w, workload_values);
    tcase_add_test(w, workload_default_precision);
    tcase_add_test(w, workload_padding_pairs);
    suite_add_tcase(s, w);
    TCase *m = tcase_create("mapping");
    tcase_add_test(m, mapping_single);
    tcase_add_test(m, mapping_cascade);
    suite_add_tcase(s, m);
    TCase *o = tcase_create("other");
    tcase_add_test(o, sniff_kinds);
    tcase_add_test(o, enum_names);
    tcase_add_test(o, text_loaders_match_files);
    tcase_add_test(o, text_loader_nul_byte);
    suite_add_tcase(s, o);
    return s;
}

int main(void) {
    return ut_run_suite(spec_suite());
}
