/* einflow run --trace: the trace of a window is the same bytes under
 * both engines (the event engine jumps over cycles and periods, the
 * stepper does not), its totals over a whole run equal the JSON's
 * counts, its VCD is well formed, and bad windows are refused. */
#include "e2e_util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *arch, *workload, *mapping, *window;
} trace_case;

static const trace_case cases[] = {
    /* systolic, one Einsum: the whole run */
    {"configs/systolic_ws_16x16.yaml", "workloads/fc.yaml", "mappings/systolic_ws_16x16__fc.yaml",
     "0:100000"},
    /* eyeriss-like, mid-run, where the event engine skips periods */
    {"configs/eyeriss_like.yaml", "workloads/resnet50_conv3x3.yaml",
     "mappings/eyeriss_like__resnet50_conv3x3.yaml", "600000:610000"},
    /* a fused attention cascade on the array and the vector unit */
    {"configs/edge_8x8.yaml", "workloads/attention.yaml", "mappings/edge_8x8__attention_fused.yaml",
     "0:5000"},
    /* the same cascade unfused: Einsum after Einsum */
    {"configs/edge_8x8.yaml", "workloads/attention.yaml", "mappings/edge_8x8__attention.yaml",
     "0:5000"},
    /* bandwidth-bound decode: stalled on DRAM.read most cycles */
    {"configs/edge_8x8.yaml", "workloads/llama7b_decode_qk.yaml",
     "mappings/edge_8x8__llama7b_decode_qk.yaml", "900000:905000"},
};

/* Runs one case with engine and writes the trace to a fresh file;
 * returns its text. json: also -o there (may be NULL). */
static char *trace_of(const trace_case *c, const char *engine, const char *stem, const char *json) {
    char *path = e2e_tmp_path(stem);
    e2e_result r;
    const char *args[] = {"run", c->arch, c->workload, c->mapping, "--engine", engine,
                          "--trace", path, "--trace-window", c->window, "-q",
                          json ? "-o" : NULL, json, NULL};
    ck_assert(e2e_run(&r, args));
    ck_assert_msg(r.exit_code == 0, "%s failed: %s", e2e_cmdline(args), r.err);
    e2e_result_free(&r);
    char *text = e2e_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    free(path);
    return text;
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

START_TEST(engines_write_the_same_trace) {
    const trace_case *c = &cases[_i];
    char *step = trace_of(c, "step", "step.csv", NULL);
    char *event = trace_of(c, "event", "event.csv", NULL);
    ck_assert_msg(!strncmp(step, "cycle,einsum,kind,resource,bytes,detail\n", 40),
                  "header of %s", c->mapping);
    ck_assert_msg(count_lines(step) > 100, "%s: a trace of %d lines", c->mapping,
                  count_lines(step));
    ck_assert_msg(!strcmp(step, event), "%s %s: the event engine's trace differs from the "
                  "stepper's", c->mapping, c->window);
    free(step);
    free(event);
}
END_TEST

/* Per cause and per resource, what the CSV adds up to. */
typedef struct {
    char name[160];
    uint64_t n;
} tally;

static void add(tally *t, int *nt, const char *name, uint64_t v) {
    for (int i = 0; i < *nt; i++)
        if (!strcmp(t[i].name, name)) {
            t[i].n += v;
            return;
        }
    ck_assert_int_lt(*nt, 64);
    snprintf(t[*nt].name, sizeof t[0].name, "%s", name);
    t[(*nt)++].n = v;
}

static uint64_t get(const tally *t, int nt, const char *name) {
    for (int i = 0; i < nt; i++)
        if (!strcmp(t[i].name, name)) return t[i].n;
    return 0;
}

/* Splits a CSV line (no quoted cells in these runs) into 6 fields. */
static void fields(char *line, char **f) {
    for (int k = 0; k < 6; k++) {
        f[k] = line;
        char *comma = strchr(line, ',');
        if (k < 5) {
            ck_assert_msg(comma != NULL, "short CSV line");
            *comma = 0;
            line = comma + 1;
        }
    }
}

static void check_totals(const trace_case *c, const char *in_link, const char *out_link) {
    char *json_path = e2e_tmp_path("run.json");
    char *text = trace_of(c, "event", "totals.csv", json_path);
    cJSON *doc = e2e_load_json(json_path);
    ck_assert_ptr_nonnull(doc);
    tally stalls[64], bytes[64];
    int ns = 0, nb = 0;
    uint64_t busy = 0, stalled = 0;
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save); /* the header */
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *f[6];
        fields(line, f);
        if (!strcmp(f[2], "compute")) busy++;
        else if (!strcmp(f[2], "stall")) {
            stalled++;
            add(stalls, &ns, f[5], 1);
        } else add(bytes, &nb, f[3], strtoull(f[4], NULL, 10));
    }
    /* every cycle of the run is computing or stalled on one cause */
    ck_assert_uint_eq(busy + stalled, e2e_summary_u64(doc, "cycles"));
    const cJSON *sc = e2e_get(doc, "summary.stall_cycles");
    int causes = 0;
    for (const cJSON *it = sc ? sc->child : NULL; it; it = it->next, causes++) {
        uint64_t want;
        ck_assert(e2e_u64(it, &want));
        ck_assert_msg(get(stalls, ns, it->string) == want, "%s: %s: trace %llu, JSON %llu",
                      c->mapping, it->string, (unsigned long long)get(stalls, ns, it->string),
                      (unsigned long long)want);
    }
    ck_assert_int_eq(causes, ns);
    /* DRAM's ports: what every Einsum's levels[] say it moved */
    ck_assert_uint_eq(get(bytes, nb, "DRAM.read") + get(bytes, nb, "DRAM.write"),
                      e2e_einsums_level_bytes(doc, "DRAM"));
    if (in_link) {
        /* one Einsum: each port and link as the roofline has it */
        ck_assert_uint_eq(get(bytes, nb, "DRAM.read"),
                          e2e_path_u64(doc, "roofline.levels[0].read.bytes"));
        ck_assert_uint_eq(get(bytes, nb, "DRAM.write"),
                          e2e_path_u64(doc, "roofline.levels[0].write.bytes"));
        /* a level of one instance too, its write-backs to DRAM on its
         * read port (systolic_ws: the Buffer, 4,000 B of outputs) */
        ck_assert_uint_eq(get(bytes, nb, "Buffer.read"),
                          e2e_path_u64(doc, "roofline.levels[1].read.bytes"));
        ck_assert_uint_eq(get(bytes, nb, "Buffer.write"),
                          e2e_path_u64(doc, "roofline.levels[1].write.bytes"));
        ck_assert_uint_eq(get(bytes, nb, in_link), e2e_path_u64(doc, "roofline.noc.in.bytes"));
        ck_assert_uint_eq(get(bytes, nb, out_link), e2e_path_u64(doc, "roofline.noc.out.bytes"));
    }
    cJSON_Delete(doc);
    free(text);
    free(json_path);
}

START_TEST(whole_run_totals_equal_the_json) {
    check_totals(&cases[0], "noc Buffer->Reg", "noc Reg->Buffer");
    /* a cascade: Einsum after Einsum in one timeline */
    trace_case casc = cases[3];
    casc.window = "0:100000";
    check_totals(&casc, NULL, NULL);
}
END_TEST

/* The VCD: a header of the sections IEEE 1364 names, every identifier
 * declared once and dumped at the start, times increasing, values no
 * wider than their signal. */
static void check_vcd(const trace_case *c) {
    char *text = trace_of(c, "event", "t.vcd", NULL);
    const char *need[] = {"$date", "$version", "$timescale 1ns $end", "$scope module einflow $end",
                          "$upscope $end", "$enddefinitions $end", "$dumpvars"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        ck_assert_msg(strstr(text, need[i]) != NULL, "%s: no %s", c->mapping, need[i]);
    char ids[512][16];
    int width[512], nid = 0, dumped = 0;
    bool defs = true, in_dump = false;
    long long last_time = -1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (defs) {
            char id[16], name[160];
            int w;
            if (sscanf(line, "$var wire %d %15s %159s $end", &w, id, name) == 3) {
                for (int i = 0; i < nid; i++) ck_assert_msg(strcmp(ids[i], id), "id %s twice", id);
                ck_assert_int_lt(nid, 512);
                ck_assert_int_lt(strlen(id), 8);
                snprintf(ids[nid], sizeof ids[0], "%s", id);
                width[nid++] = w;
            }
            if (!strcmp(line, "$enddefinitions $end")) defs = false;
            continue;
        }
        if (line[0] == '#') {
            long long t = atoll(line + 1);
            ck_assert_msg(t > last_time, "time %lld after %lld", t, last_time);
            last_time = t;
            continue;
        }
        if (!strcmp(line, "$dumpvars")) {
            in_dump = true;
            continue;
        }
        if (!strcmp(line, "$end")) {
            in_dump = false;
            continue;
        }
        const char *id;
        int bits;
        if (line[0] == 'b') {
            char *sp = strchr(line, ' ');
            ck_assert_msg(sp != NULL, "bad vector change \"%s\"", line);
            bits = (int)(sp - line - 1);
            for (char *p = line + 1; p < sp; p++) ck_assert(*p == '0' || *p == '1');
            id = sp + 1;
        } else {
            ck_assert_msg(line[0] == '0' || line[0] == '1', "bad change \"%s\"", line);
            bits = 1;
            id = line + 1;
        }
        int k = -1;
        for (int i = 0; i < nid; i++)
            if (!strcmp(ids[i], id)) k = i;
        ck_assert_msg(k >= 0, "%s: id \"%s\" not declared", c->mapping, id);
        ck_assert_int_le(bits, width[k]);
        ck_assert_int_ge(last_time, 0);
        dumped += in_dump;
    }
    ck_assert(!defs);
    ck_assert_int_gt(nid, 3);
    ck_assert_int_eq(dumped, nid);
    free(text);
}

START_TEST(vcd_is_well_formed) {
    check_vcd(&cases[0]);
    check_vcd(&cases[2]);
}
END_TEST

/* --html beside --trace animates the traced cycles: a frame at cycle t
 * of an Einsum shows busy PEs exactly when the trace says the Einsum
 * computed at t, and names the stall cause the trace gives. */
START_TEST(html_animates_the_trace) {
    char *csv = e2e_tmp_path("anim.csv"), *html = e2e_tmp_path("anim.html");
    e2e_result r;
    ck_assert(e2e_runl(&r, "run", "configs/edge_8x8.yaml", "workloads/attention.yaml",
                       "mappings/edge_8x8__attention.yaml", "--trace", csv, "--trace-window",
                       "0:1900", "--html", html, "-q", NULL));
    ck_assert_msg(r.exit_code == 0, "%s", r.err);
    e2e_result_free(&r);
    char *trace = e2e_read_file(csv, NULL), *page = e2e_read_file(html, NULL);
    ck_assert(trace && page);
    int frames = 0, busy_frames = 0, stalled_frames = 0;
    /* each activity: "label":"QK",... then its frames {"t":N,"stall":...,"cells":"..."} */
    for (const char *at = strstr(page, "{\"label\":\""); at; at = strstr(at + 1, "{\"label\":\"")) {
        char label[64];
        ck_assert(sscanf(at, "{\"label\":\"%63[^\"]\"", label) == 1);
        ck_assert_msg(strstr(at, "\"time_unit\":\"cycle\"") == strstr(at, "\"time_unit\""),
                      "%s: frames not in cycles", label);
        const char *next = strstr(at + 1, "{\"label\":\"");
        for (const char *f = strstr(at, "{\"t\":"); f && (!next || f < next);
             f = strstr(f + 1, "{\"t\":")) {
            unsigned long long t;
            ck_assert(sscanf(f, "{\"t\":%llu", &t) == 1);
            const char *cells = strstr(f, "\"cells\":\"") + 9;
            bool any = false;
            for (const char *c = cells; *c != '"'; c++) any |= *c != '0';
            char want[96], stall[96] = "";
            snprintf(want, sizeof want, "\n%llu,%s,compute,", t, label);
            bool computing = strstr(trace, want) != NULL;
            snprintf(want, sizeof want, "\n%llu,%s,stall,", t, label);
            const char *srow = strstr(trace, want);
            if (srow) sscanf(strchr(srow + strlen(want), ',') + 3, "%95[^\n]", stall);
            ck_assert_msg(any == computing, "%s cycle %llu: PEs %s busy but the trace says %s",
                          label, t, any ? "" : "not", computing ? "compute" : "no compute");
            if (srow) {
                char quoted[128];
                snprintf(quoted, sizeof quoted, "\"stall\":\"%s\"", stall);
                ck_assert_msg(!strncmp(strstr(f, "\"stall\":"), quoted, strlen(quoted)),
                              "%s cycle %llu: stall %s expected", label, t, stall);
                stalled_frames++;
            }
            frames++;
            busy_frames += any;
        }
    }
    ck_assert_int_gt(frames, 100);
    ck_assert_int_gt(busy_frames, 0);
    ck_assert_int_gt(stalled_frames, 0);
    free(trace);
    free(page);
    free(csv);
    free(html);
}
END_TEST

START_TEST(bad_windows_are_refused) {
    static const struct {
        const char *window, *trace, *extra, *message;
    } bad[] = {
        {"abc", "t.csv", NULL, "--trace-window expects A:B"},
        {":", "t.csv", NULL, "--trace-window expects A:B"},
        {"5:5", "t.csv", NULL, "--trace-window 5:5 is empty"},
        {"10:2", "t.csv", NULL, "--trace-window 10:2 is empty"},
        {"0:100001", "t.csv", NULL, "spans 100001 cycles, but a trace holds at most 100000"},
        {"0:10", NULL, NULL, "--trace-window needs --trace FILE"},
        {NULL, "t.csv", "--fold-model", "trace with --fold-model overlap"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[16];
        int n = 0;
        args[n++] = "run";
        args[n++] = cases[0].arch;
        args[n++] = cases[0].workload;
        args[n++] = cases[0].mapping;
        if (bad[i].window) {
            args[n++] = "--trace-window";
            args[n++] = bad[i].window;
        }
        if (bad[i].trace) {
            args[n++] = "--trace";
            args[n++] = bad[i].trace;
        }
        if (bad[i].extra) {
            args[n++] = bad[i].extra;
            args[n++] = "scalesim";
        }
        args[n] = NULL;
        e2e_result r;
        ck_assert(e2e_run(&r, args));
        ck_assert_msg(r.exit_code == 2, "%s: exit %d", e2e_cmdline(args), r.exit_code);
        ck_assert_msg(strstr(r.err, bad[i].message) != NULL, "%s: said \"%s\"",
                      e2e_cmdline(args), r.err);
        e2e_result_free(&r);
    }
    /* a window past the run's end: just the header */
    trace_case late = cases[0];
    late.window = "1000000:1000100";
    char *text = trace_of(&late, "event", "late.csv", NULL);
    ck_assert_str_eq(text, "cycle,einsum,kind,resource,bytes,detail\n");
    free(text);
}
END_TEST

int main(void) {
    e2e_init();
    Suite *s = suite_create("e2e_trace");
    TCase *tc = tcase_create("trace");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(tc, engines_write_the_same_trace, 0,
                        (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, whole_run_totals_equal_the_json);
    tcase_add_test(tc, vcd_is_well_formed);
    tcase_add_test(tc, bad_windows_are_refused);
    tcase_add_test(tc, html_animates_the_trace);
    suite_add_tcase(s, tc);
    return e2e_run_suite(s);
}
