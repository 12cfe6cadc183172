/* Unit tests of the report stage: the JSON is strict JSON (parsed with
 * cJSON_ParseWithOpts, nothing but true/false/null outside strings, so
 * no NaN or Infinity), its top-level keys come in a fixed order, 64-bit
 * counters are printed as exact raw integers, energy is always filled
 * (from the built-in table when the architecture gives none; the table
 * itself is tested in check_energy.c), the text table names every
 * level, and the CSV writer quotes and spells fields as RFC 4180 and
 * the JSON do.
 * Expected numbers are derived by hand for conv1d P=16, R=3. */
#include <cJSON.h>
#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "einflow/report.h"
#include "unit/unit_util.h"

static const char *CONV = UT_CONV1D;

static const char *ARCH1 =
    "name: one\n"
    "levels:\n"
    "  - name: Buffer\n"
    "    kind: regfile\n"
    "    capacity: 64 B\n";

/* Same, with energies: read 1 pJ, write 2 pJ per word, 0.5 pJ/MAC. */
static const char *ARCH1_ENERGY =
    "name: one_e\n"
    "pe: {macs_per_cycle: 1, mac_energy: 0.5}\n"
    "levels:\n"
    "  - name: Buffer\n"
    "    kind: regfile\n"
    "    capacity: 64 B\n"
    "    energy: {read: 1.0, write: 2.0}\n";

static const char *MAP1 = "mapping:\n  - level: Buffer\n    temporal: [P: 16, R: 3]\n";

static const char *ARCH2 = UT_ARCH_TEACH2;

static const char *MAP2 = UT_MAP_TEACH2_WS;

static ef_run_meta meta_of(const ut_fx *f) {
    ef_run_meta m = {.arch_file = f->arch_path, .workload_file = f->workload_path,
                     .mapping_file = f->mapping_path, .engine = "step",
                     .fold_model = "overlap", .wall_seconds = 0.25,
                     .check_values = true, .seed = 7};
    return m;
}

static char *json_of(ut_fx *f) {
    ef_run_meta m = meta_of(f);
    const ef_result *rs[1] = {f->res};
    char *j = ef_report_json(rs, 1, &m);
    ck_assert_ptr_nonnull(j);
    return j;
}

static cJSON *parse(const char *text) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    ck_assert_msg(root != NULL, "JSON does not parse near: %.40s", end ? end : "?");
    return root;
}


/* Every value of the given counter keys is a plain run of digits. */
static void counters_are_integers(const char *s) {
    static const char *keys[] = {"\"reads\"", "\"fills\"", "\"updates\"", "\"cycles\"",
                                 "\"macs\"", "\"ops\"", "\"compute_cycles\"",
                                 "\"deliveries\"", "\"words_sent\""};
    for (size_t k = 0; k < UT_LEN(keys); k++) {
        int seen = 0;
        for (const char *p = strstr(s, keys[k]); p; p = strstr(p + 1, keys[k])) {
            const char *v = p + strlen(keys[k]);
            while (*v == ':' || isspace((unsigned char)*v)) v++;
            size_t digits = strspn(v, "0123456789");
            ck_assert_msg(digits > 0 && (v[digits] == ',' || v[digits] == '\n' ||
                                         v[digits] == '}' || isspace((unsigned char)v[digits])),
                          "%s is not a raw integer: %.20s", keys[k], v);
            seen++;
        }
        ck_assert_msg(seen > 0, "no %s in the JSON", keys[k]);
    }
}

static double num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", key);
    return v->valuedouble;
}

static const cJSON *obj(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(v != NULL, "no key %s", key);
    return v;
}

START_TEST(json_shape) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f, ARCH1, CONV, MAP1);
    ut_run(&f, true);
    char *text = json_of(&f);
    ut_only_json_words(text);
    counters_are_integers(text);
    cJSON *root = parse(text);

    static const char *order[] = {"meta",     "summary", "architecture", "workload",
                                  "levels",   "noc",     "roofline",     "einsums"};
    size_t i = 0;
    for (const cJSON *c = root->child; c; c = c->next, i++) {
        ck_assert_msg(i < UT_LEN(order), "extra top-level key %s", c->string);
        ck_assert_str_eq(c->string, order[i]);
    }
    ck_assert_uint_eq(i, UT_LEN(order));

    const cJSON *meta = obj(root, "meta");
    ck_assert_str_eq(obj(meta, "einflow_version")->valuestring, EF_VERSION);
    ck_assert_str_eq(obj(meta, "arch")->valuestring, f.arch_path);
    ck_assert_str_eq(obj(meta, "workload")->valuestring, f.workload_path);
    ck_assert_str_eq(obj(meta, "mapping")->valuestring, f.mapping_path);

    /* conv1d on one level: 48 MACs in 48 cycles, utilization 1 */
    const cJSON *sm = obj(root, "summary");
    ck_assert(num(sm, "cycles") == 48);
    ck_assert(num(sm, "macs") == 48);
    ck_assert(fabs(num(sm, "utilization") - 1.0) < 1e-12);
    /* no energies in the arch: the built-in table. The 64 B regfile
     * costs 1 x the 16-bit MAC per 16 bits (Eyeriss, ISCA 2016) with
     * the 16-bit MAC = sqrt(0.2 x 3.1) + sqrt(0.03 x 0.1) pJ (Horowitz,
     * ISSCC 2014, between the 8- and 32-bit points); 128 reads + 48
     * updates of 8-bit words; 48 MACs of 0.2 + 0.03 pJ (8-bit). */
    double ref_mac = sqrt(0.2 * 3.1) + sqrt(0.03 * 0.1);
    double want = 176 * ref_mac / 2 + 48 * 0.23;
    ck_assert_msg(fabs(num(sm, "energy_pj") - want) < 1e-9, "energy_pj %.17g, want %.17g",
                  num(sm, "energy_pj"), want);
    ck_assert_msg(fabs(num(sm, "pj_per_mac") - want / 48) < 1e-12, "pj_per_mac");
    ck_assert(cJSON_IsObject(obj(sm, "stall_cycles")));

    const cJSON *levels = obj(root, "levels");
    ck_assert_int_eq(cJSON_GetArraySize(levels), 1);
    const cJSON *buf = cJSON_GetArrayItem(levels, 0);
    ck_assert_str_eq(obj(buf, "name")->valuestring, "Buffer");
    const cJSON *O = obj(obj(buf, "tensors"), "O");
    ck_assert(num(O, "reads") == 32);
    ck_assert(num(O, "updates") == 48);
    ck_assert(num(O, "fills") == 0);
    ck_assert(num(obj(O, "per_instance"), "updates") == 48);
    ck_assert(num(obj(obj(buf, "tensors"), "W"), "reads") == 48);
    ck_assert(num(obj(obj(buf, "tensors"), "I"), "reads") == 48);

    const cJSON *es = obj(root, "einsums");
    ck_assert_int_eq(cJSON_GetArraySize(es), 1);
    ck_assert_str_eq(obj(cJSON_GetArrayItem(es, 0), "output")->valuestring, "O");

    /* same inputs, same text */
    char *again = json_of(&f);
    ck_assert_str_eq(text, again);
    free(again);
    cJSON_Delete(root);
    free(text);
    ut_free(&f);
}
END_TEST

/* Counters above 2^53 (where a double loses integers) print exactly. */
START_TEST(json_64bit_counters) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f, ARCH1, CONV, MAP1);
    ut_run(&f, false);
    const uint64_t big_cycles = (UINT64_C(1) << 60) + 1;  /* 1152921504606846977 */
    const uint64_t big_reads = (UINT64_C(1) << 53) + 1;   /* 9007199254740993    */
    f.res->cycles = big_cycles;
    f.res->compute_cycles = big_cycles;
    f.res->levels[0].ops[ut_op(f.nest, "W")].reads = big_reads;
    char *text = json_of(&f);
    ut_only_json_words(text);
    counters_are_integers(text);
    const char *sm = strstr(text, "\"summary\"");
    ck_assert_ptr_nonnull(sm);
    const char *cyc = strstr(sm, "\"cycles\"");
    ck_assert_ptr_nonnull(cyc);
    cyc += strlen("\"cycles\"");
    while (*cyc == ':' || isspace((unsigned char)*cyc)) cyc++;
    ck_assert_msg(strncmp(cyc, "1152921504606846977", 19) == 0 && !isdigit((unsigned char)cyc[19]),
                  "summary.cycles printed as %.24s", cyc);
    ck_assert_ptr_nonnull(strstr(text, "9007199254740993"));
    cJSON_Delete(parse(text));
    free(text);
    ut_free(&f);
}
END_TEST

/* With energies: Buffer reads W 48 + I 48 + O 32 = 128 words x 1 pJ,
 * writes (fills 0 + O updates 48) x 2 pJ = 96, MACs 48 x 0.5 = 24:
 * 248 pJ in all, 224 of them at the Buffer. */
START_TEST(json_energy) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f, ARCH1_ENERGY, CONV, MAP1);
    ut_run(&f, true);
    char *text = json_of(&f);
    ut_only_json_words(text);
    cJSON *root = parse(text);
    const cJSON *sm = obj(root, "summary");
    ck_assert_msg(fabs(num(sm, "energy_pj") - 248.0) < 1e-9, "energy_pj %g",
                  num(sm, "energy_pj"));
    const cJSON *buf = cJSON_GetArrayItem(obj(root, "levels"), 0);
    ck_assert_msg(fabs(num(buf, "energy_pj") - 224.0) < 1e-9, "Buffer energy_pj %g",
                  num(buf, "energy_pj"));
    cJSON_Delete(root);
    free(text);
    ut_free(&f);
}
END_TEST

/* A cascade: one entry per Einsum; summary totals are sums, and only
 * the MAC Einsum counts as MACs (S: 4*3 = 12 MACs; M: 12 max ops). */
START_TEST(json_cascade) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f, ARCH1,
                "name: casc\n"
                "einsums:\n"
                "  - \"S[p] += I[p,r] * W[r]\"\n"
                "  - \"M[p] max= S[p] - I[p,r]\"\n"
                "ranks: {P: 4, R: 3}\n",
                "mappings:\n"
                "  - einsum: S\n    mapping:\n"
                "      - level: Buffer\n        temporal: [P: 4, R: 3]\n"
                "  - einsum: M\n    mapping:\n"
                "      - level: Buffer\n        temporal: [R: 3, P: 4]\n");
    ef_sim_options o = {.engine = EF_ENGINE_STEP, .fold_model = EF_FOLD_OVERLAP};
    ef_nest *n1 = ef_nest_build(f.arch, f.w, f.mspec, 1, f.diags);
    ck_assert_ptr_nonnull(n1);
    ef_status st;
    ef_result *r0 = ef_sim_run(f.nest, &o, NULL, f.diags, &st);
    ck_assert_int_eq(st, EF_OK);
    ef_result *r1 = ef_sim_run(n1, &o, NULL, f.diags, &st);
    ck_assert_int_eq(st, EF_OK);
    const ef_result *rs[2] = {r0, r1};
    ef_run_meta m = meta_of(&f);
    char *text = ef_report_json(rs, 2, &m);
    ck_assert_ptr_nonnull(text);
    ut_only_json_words(text);
    counters_are_integers(text);
    cJSON *root = parse(text);
    const cJSON *sm = obj(root, "summary");
    ck_assert(num(sm, "macs") == 12);
    ck_assert(num(sm, "ops") == 24);
    ck_assert(num(sm, "cycles") == (double)(r0->cycles + r1->cycles));
    const cJSON *es = obj(root, "einsums");
    ck_assert_int_eq(cJSON_GetArraySize(es), 2);
    ck_assert_str_eq(obj(cJSON_GetArrayItem(es, 0), "output")->valuestring, "S");
    ck_assert_str_eq(obj(cJSON_GetArrayItem(es, 1), "output")->valuestring, "M");
    cJSON_Delete(root);
    free(text);
    ef_result_destroy(r0);
    ef_result_destroy(r1);
    ef_nest_destroy(n1);
    ut_free(&f);
}
END_TEST

START_TEST(table_names_levels) {
    ut_fx f;
    ut_init(&f);
    ut_build_ok(&f, ARCH2, CONV, MAP2);
    ut_run(&f, false);
    ef_run_meta m = meta_of(&f);
    const ef_result *rs[1] = {f.res};
    char *t = ef_report_table(rs, 1, &m);
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(strstr(t, "MainMemory"));
    ck_assert_ptr_nonnull(strstr(t, "Buffer"));
    ck_assert_ptr_nonnull(strstr(t, "48")); /* cycles and MACs */
    /* the tile column says it counts words, and the level's capacity
     * stands beside it on the level's first row (a shared capacity):
     * ws streams the 16 inputs and outputs through the Buffer beside
     * one weight; MainMemory (no capacity here) holds all 18 inputs */
    ck_assert_ptr_nonnull(strstr(t, "used words  capacity\n"));
    ck_assert_msg(strstr(t, "  MainMemory I                  18              0              0"
                            "           18  unlimited\n") != NULL, "%s", t);
    ck_assert_msg(strstr(t, "  Buffer     I                  48             18              0"
                            "           16  64 B\n") != NULL, "%s", t);
    ck_assert_msg(strstr(t, "  Buffer     W                  48              3              0"
                            "            1\n") != NULL, "%s", t);
    ck_assert_ptr_null(strstr(t, "updates   capacity"));
    free(t);
    char *text = json_of(&f);
    cJSON *root = parse(text);
    const cJSON *levels = obj(root, "levels");
    ck_assert_int_eq(cJSON_GetArraySize(levels), 2);
    ck_assert_str_eq(obj(cJSON_GetArrayItem(levels, 0), "name")->valuestring, "MainMemory");
    ck_assert_str_eq(obj(cJSON_GetArrayItem(levels, 1), "name")->valuestring, "Buffer");
    /* ws: MainMemory O updates P = 16, I reads P+R-1 = 18 */
    const cJSON *mm = obj(cJSON_GetArrayItem(levels, 0), "tensors");
    ck_assert(num(obj(mm, "O"), "updates") == 16);
    ck_assert(num(obj(mm, "I"), "reads") == 18);
    cJSON_Delete(root);
    free(text);
    ut_free(&f);
}
END_TEST

/* The CSV writer (ef_csv), field by field: RFC 4180 quoting (a comma,
 * a quote, a CR or a LF quotes the field; quotes doubled), numbers in
 * their shortest exact form, a JSON value as the JSON spelled it. */
typedef enum { F_TEXT, F_NUMBER, F_U64, F_RAW, F_JSON_NUMBER, F_NULL, F_TRUE } field_kind;
static const struct {
    field_kind kind;
    const char *text;
    double number;
    const char *want;
} csv_fields[] = {
    {F_TEXT, "plain", 0, "plain"},
    {F_TEXT, "", 0, ""},
    {F_TEXT, "a,b", 0, "\"a,b\""},
    {F_TEXT, "say \"hi\"", 0, "\"say \"\"hi\"\"\""},
    {F_TEXT, "\"", 0, "\"\"\"\""},
    {F_TEXT, "two\nlines", 0, "\"two\nlines\""},
    {F_TEXT, "cr\r", 0, "\"cr\r\""},
    {F_TEXT, "x[a,b] += \"q\"", 0, "\"x[a,b] += \"\"q\"\"\""},
    {F_NUMBER, NULL, 0.1, "0.1"},
    {F_NUMBER, NULL, 1.0 / 3.0, "0.3333333333333333"},
    {F_NUMBER, NULL, 1e21, "1e+21"},
    {F_NUMBER, NULL, 42, "42"},
    {F_NUMBER, NULL, 4700, "4700"}, /* whole: digits, not 4.7e+03 */
    {F_NUMBER, NULL, -3, "-3"},
    {F_NUMBER, NULL, NAN, ""},
    {F_NUMBER, NULL, INFINITY, ""},
    {F_U64, NULL, 0, "18446744073709551615"},
    {F_RAW, "9007199254740993", 0, "9007199254740993"}, /* 2^53 + 1: kept exact */
    {F_JSON_NUMBER, NULL, 2.5, "2.5"},
    {F_NULL, NULL, 0, ""},
    {F_TRUE, NULL, 0, "true"},
};

START_TEST(csv_field_spelling) {
    ef_csv *c = ef_csv_create();
    ck_assert_ptr_nonnull(c);
    ef_csv_text(c, "first");
    cJSON *item = NULL;
    switch (csv_fields[_i].kind) {
    case F_TEXT: ef_csv_text(c, csv_fields[_i].text); break;
    case F_NUMBER: ef_csv_number(c, csv_fields[_i].number); break;
    case F_U64: ef_csv_u64(c, UINT64_MAX); break;
    case F_RAW: item = cJSON_CreateRaw(csv_fields[_i].text); break;
    case F_JSON_NUMBER: item = cJSON_CreateNumber(csv_fields[_i].number); break;
    case F_NULL: item = cJSON_CreateNull(); break;
    case F_TRUE: item = cJSON_CreateTrue(); break;
    }
    if (item) ef_csv_json(c, item);
    cJSON_Delete(item);
    ef_csv_end_row(c);
    ef_csv_text(c, "next");
    ef_csv_end_row(c);
    char *text = ef_csv_take(c);
    char want[128];
    snprintf(want, sizeof want, "first,%s\nnext\n", csv_fields[_i].want);
    ck_assert_str_eq(text, want);
    free(text);
}
END_TEST

/* An absent item is an empty field; nothing written is an empty text. */
START_TEST(csv_empty) {
    ef_csv *c = ef_csv_create();
    ef_csv_json(c, NULL);
    ef_csv_json(c, NULL);
    ef_csv_end_row(c);
    char *text = ef_csv_take(c);
    ck_assert_str_eq(text, ",\n");
    free(text);
    c = ef_csv_create();
    text = ef_csv_take(c);
    ck_assert_str_eq(text, "");
    free(text);
    ef_csv_destroy(NULL);
}
END_TEST

static Suite *report_suite(void) {
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");
    tcase_add_test(tc, json_shape);
    tcase_add_test(tc, json_64bit_counters);
    tcase_add_test(tc, json_energy);
    tcase_add_test(tc, json_cascade);
    tcase_add_test(tc, table_names_levels);
    tcase_add_loop_test(tc, csv_field_spelling, 0, (int)(sizeof csv_fields / sizeof csv_fields[0]));
    tcase_add_test(tc, csv_empty);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return ut_run_suite(report_suite());
}
