/* Out of memory on every path: each run below is repeated with its
 * N-th allocation failing (EF_FAIL_ALLOC=N, src/spec/alloc.c), for
 * every N from 1 to the number of allocations the run makes
 * (EF_ALLOC_REPORT). Every repetition must either end in exit 5 with
 * "out of memory" on stderr, or succeed with exactly the normal output
 * (a failure some path can do without: the copy of a file kept for
 * diagnostics); never a crash, another exit code, or a different
 * result. Under the sanitizers a leak or a bad access aborts the run,
 * so it fails here too; there, every eighth N is run to keep the suite's
 * time in bounds (the plain build runs them all). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

#ifdef __SANITIZE_ADDRESS__
#define STRIDE 8
#else
#define STRIDE 1
#endif

/* The output with the seconds a run took taken out ("0.01 s)"). */
static char *without_times(const char *s) {
    char *out = malloc(strlen(s) + 1), *o = out;
    ck_assert_ptr_nonnull(out);
    while (*s) {
        const char *t = s;
        while (*t == '.' || (*t >= '0' && *t <= '9')) t++;
        if (t > s && !strncmp(t, " s)", 3)) {
            s = t;
            continue;
        }
        *o++ = *s++;
    }
    *o = '\0';
    return out;
}

static uint64_t allocations(const char *const *args) {
    setenv("EF_ALLOC_REPORT", "1", 1);
    e2e_result r;
    ck_assert(e2e_run(&r, args));
    unsetenv("EF_ALLOC_REPORT");
    ck_assert_msg(r.exit_code == 0, "%s: exit %d\n%s", e2e_cmdline(args), r.exit_code, r.err);
    const char *at = strstr(r.err, "einflow: ");
    unsigned long long n = 0;
    ck_assert_msg(at && sscanf(at, "einflow: %llu allocations", &n) == 1, "no count:\n%s",
                  r.err);
    e2e_result_free(&r);
    return n;
}

static const char *const runs[][16] = {
    {"run", "configs/teach_1level.yaml", "workloads/conv1d.yaml",
     "mappings/teach_1level__conv1d.yaml", "--check-values", "-o", "JSON", "--csv", "CSV", NULL},
    {"map", "configs/teach_2level.yaml", "workloads/conv1d.yaml", "--dataflow", "ws",
     "--evaluations", "20", "--confirm", "1", "--threads", "1", NULL},
    {"run", "configs/edge_8x8.yaml", "workloads/attention.yaml",
     "mappings/edge_8x8__attention_fused.yaml", "--check-values", NULL},
    {"validate", "configs/fusemax_like.yaml", "workloads/bert_base.yaml", NULL},
};

START_TEST(every_allocation_can_fail) {
    const char *args[16];
    char *json = e2e_tmp_path("nomem.json"), *csv = e2e_tmp_path("nomem.csv");
    int n = 0;
    /* JSON and CSV stand for scratch files */
    for (; runs[_i][n]; n++)
        args[n] = !strcmp(runs[_i][n], "JSON") ? json : !strcmp(runs[_i][n], "CSV") ? csv
                                                                                 : runs[_i][n];
    args[n] = NULL;
    e2e_result normal;
    ck_assert(e2e_run(&normal, args));
    ck_assert_int_eq(normal.exit_code, 0);
    char *want = without_times(normal.out);
    uint64_t total = allocations(args);
    ck_assert_uint_gt(total, 10);
    int stride = _i == 2 ? 3 * STRIDE : STRIDE; /* the fused run is the long one */
    for (uint64_t k = 1; k <= total; k += (uint64_t)stride) {
        char value[32];
        snprintf(value, sizeof value, "%llu", (unsigned long long)k);
        setenv("EF_FAIL_ALLOC", value, 1);
        e2e_result r;
        ck_assert(e2e_run(&r, args));
        unsetenv("EF_FAIL_ALLOC");
        char *got = without_times(r.out);
        bool ok = (r.exit_code == 5 && strstr(r.err, "out of memory")) ||
                  (r.exit_code == 0 && !strcmp(got, want));
        ck_assert_msg(ok, "%s with allocation %llu failing: exit %d (signal %d)\nstdout:\n%s\n"
                      "stderr:\n%s", e2e_cmdline(args), (unsigned long long)k, r.exit_code,
                      r.term_signal, r.out, r.err);
        free(got);
        e2e_result_free(&r);
    }
    free(want);
    e2e_result_free(&normal);
    free(json);
    free(csv);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_nomem");
    TCase *tc = tcase_create("nomem");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(tc, every_allocation_can_fail, 0, (int)(sizeof runs / sizeof runs[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
