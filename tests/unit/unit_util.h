/* Shared helpers of the Check unit tests (header-only: every unit test
 * is one .c file in the CMake glob). They write small YAML specs to
 * temp files, run them through the real loaders and the pipeline
 * stages, and look counters up by level and tensor name so that tests
 * read like the tables in docs and reference cases.
 *
 * Ownership: a ut_fx owns everything it loads or builds; ut_free
 * releases all of it (and removes its temp files). */
#ifndef EF_TESTS_UNIT_UTIL_H
#define EF_TESTS_UNIT_UTIL_H

#include <check.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "einflow/common.h"
#include "einflow/einsum.h"
#include "einflow/model.h"
#include "einflow/sim.h"
#include "einflow/spec.h"

#define UT_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Runs a suite (Check's own fork mode and output), frees it, and gives
 * main's exit status. */
static inline int ut_run_suite(Suite *suite) {
    SRunner *sr = srunner_create(suite);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Writes text to a fresh temp file; returns its malloc'd path. */
static inline char *ut_write_temp(const char *text) {
    char tmpl[] = "/tmp/ef_unit_XXXXXX";
    int fd = mkstemp(tmpl);
    ck_assert_int_ge(fd, 0);
    size_t len = strlen(text);
    ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    char *p = strdup(tmpl);
    ck_assert_ptr_nonnull(p);
    return p;
}

typedef struct {
    char *arch_path, *workload_path, *mapping_path;
    ef_diags *diags;
    ef_arch_spec *arch;
    ef_workload_spec *wspec;
    ef_mapping_spec *mspec;
    ef_workload *w;
    ef_nest *nest;          /* the nest of einsum 0                     */
    ef_values *values;
    ef_result *res;
    ef_status status;       /* of the last ef_sim_run                   */
} ut_fx;

static inline void ut_init(ut_fx *f) {
    memset(f, 0, sizeof *f);
    f->diags = ef_diags_create();
    ck_assert_ptr_nonnull(f->diags);
}

static inline void ut_free(ut_fx *f) {
    ef_result_destroy(f->res);
    ef_values_destroy(f->values);
    ef_nest_destroy(f->nest);
    ef_workload_destroy(f->w);
    ef_mapping_spec_destroy(f->mspec);
    ef_workload_spec_destroy(f->wspec);
    ef_arch_spec_destroy(f->arch);
    ef_diags_destroy(f->diags);
    char *paths[] = {f->arch_path, f->workload_path, f->mapping_path};
    for (size_t i = 0; i < UT_LEN(paths); i++)
        if (paths[i]) {
            unlink(paths[i]);
            free(paths[i]);
        }
    memset(f, 0, sizeof *f);
}

/* All diagnostics rendered, for failure messages. Caller frees. */
static inline char *ut_render(const ut_fx *f) {
    char *s = ef_diags_render(f->diags);
    return s ? s : strdup("(no diagnostics)");
}

/* Loads the workload spec and builds the workload; NULL on error. */
static inline ef_workload *ut_workload(ut_fx *f, const char *yaml) {
    f->workload_path = ut_write_temp(yaml);
    f->wspec = ef_spec_load_workload(f->workload_path, f->diags);
    if (!f->wspec) return NULL;
    f->w = ef_einsum_build(f->wspec, f->diags);
    return f->w;
}

/* Loads all three specs and builds the nest of einsum 0. Returns the
 * nest, or NULL (with diagnostics) when any stage fails. */
static inline ef_nest *ut_build(ut_fx *f, const char *arch, const char *wl,
                                const char *map) {
    f->arch_path = ut_write_temp(arch);
    f->mapping_path = ut_write_temp(map);
    f->arch = ef_spec_load_arch(f->arch_path, f->diags);
    f->mspec = ef_spec_load_mapping(f->mapping_path, f->diags);
    ut_workload(f, wl);
    if (!f->arch || !f->mspec || !f->w) return NULL;
    f->nest = ef_nest_build(f->arch, f->w, f->mspec, 0, f->diags);
    return f->nest;
}

/* As ut_build, but the specs must be legal: fails the test with the
 * rendered diagnostics otherwise. */
static inline ef_nest *ut_build_ok(ut_fx *f, const char *arch, const char *wl,
                                   const char *map) {
    ef_nest *n = ut_build(f, arch, wl, map);
    if (!n) {
        char *s = ut_render(f);
        ck_abort_msg("the specs should build a nest, got:\n%s", s);
        free(s);
    }
    return n;
}

/* Runs the step engine (overlap fold model) on f->nest. With
 * check_values, values come from seed 7 and the run must pass the
 * value check. Fails the test on any error. */
static inline ef_result *ut_run(ut_fx *f, bool check_values) {
    ef_sim_options o = {.engine = EF_ENGINE_STEP, .fold_model = EF_FOLD_OVERLAP,
                        .check_values = check_values, .seed = 7};
    if (check_values) {
        f->values = ef_values_create(f->w, 7);
        ck_assert_ptr_nonnull(f->values);
    }
    f->res = ef_sim_run(f->nest, &o, f->values, f->diags, &f->status);
    if (!f->res || f->status != EF_OK) {
        char *s = ut_render(f);
        ck_abort_msg("ef_sim_run failed with status %d:\n%s", (int)f->status, s);
        free(s);
    }
    if (check_values) {
        /* every element the Einsum writes: a recurrence's step 0 is given */
        const ef_tensor *ot = &f->w->tensors[f->nest->einsum->output.tensor];
        uint64_t written = ot->recurrence_dim < 0
                               ? ot->words
                               : ot->words - ot->words / (uint64_t)ot->extent[ot->recurrence_dim];
        ck_assert_msg(f->res->values_checked, "values were not checked");
        ck_assert_uint_eq(f->res->values_compared, written);
    }
    return f->res;
}

static inline int ut_level(const ef_nest *n, const char *name) {
    for (int l = 0; l < n->level_count; l++)
        if (strcmp(n->arch->levels[l].name, name) == 0) return l;
    ck_abort_msg("no level %s", name);
    return -1;
}

static inline int ut_op(const ef_nest *n, const char *tensor) {
    for (int o = 0; o < n->op_count; o++)
        if (strcmp(n->workload->tensors[n->ops[o]->tensor].name, tensor) == 0)
            return o;
    ck_abort_msg("no operand %s", tensor);
    return -1;
}

static inline int ut_rank(const ef_workload *w, const char *name) {
    int r = ef_workload_rank_id(w, name);
    ck_assert_msg(r >= 0, "no rank %s", name);
    return r;
}

/* Counters of one tensor at one level (totals over instances). */
static inline const ef_tensor_counters *ut_tc(const ut_fx *f, const char *level,
                                              const char *tensor) {
    return &f->res->levels[ut_level(f->nest, level)].ops[ut_op(f->nest, tensor)];
}

/* Cycles charged to stall causes starting with prefix. */
static inline uint64_t ut_stall(const ef_result *r, const char *prefix) {
    uint64_t c = 0;
    for (int i = 0; i < r->stall_count; i++)
        if (strncmp(r->stalls[i].cause, prefix, strlen(prefix)) == 0)
            c += r->stalls[i].cycles;
    return c;
}

static inline uint64_t ut_stall_sum(const ef_result *r) {
    uint64_t c = 0;
    for (int i = 0; i < r->stall_count; i++) c += r->stalls[i].cycles;
    return c;
}

static inline char *ut_stall_list(const ef_result *r) {
    size_t cap = 64 + (size_t)r->stall_count * (EF_MAX_NAME + 40), len = 0;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    s[0] = 0;
    for (int i = 0; i < r->stall_count; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s=%llu ", r->stalls[i].cause,
                                (unsigned long long)r->stalls[i].cycles);
    return s;
}


/* printf into a fresh malloc'd string. */
static inline char *ut_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static inline char *ut_fmt(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

/* Outside string literals, the only words in JSON text are true, false
 * and null (and a number's exponent e): no NaN or Infinity can hide. */
static inline void ut_only_json_words(const char *s) {
    for (size_t i = 0; s[i];) {
        if (s[i] == '"') {
            for (i++; s[i] && s[i] != '"'; i++)
                if (s[i] == '\\' && s[i + 1]) i++;
            ck_assert_msg(s[i] == '"', "unterminated string");
            i++;
            continue;
        }
        if (isalpha((unsigned char)s[i])) {
            size_t n = 0;
            while (isalpha((unsigned char)s[i + n])) n++;
            bool ok = (n == 4 && strncmp(s + i, "true", 4) == 0) ||
                      (n == 5 && strncmp(s + i, "false", 5) == 0) ||
                      (n == 4 && strncmp(s + i, "null", 4) == 0) ||
                      (n == 1 && (s[i] == 'e' || s[i] == 'E') && i > 0 &&
                       isdigit((unsigned char)s[i - 1]));
            ck_assert_msg(ok, "bare word \"%.*s\" in JSON", (int)n, s + i);
            i += n;
            continue;
        }
        i++;
    }
}


/* The Timeloop teaching case shared by several suites: conv1d (P=16,
 * R=3) on MainMemory + a 64 B Buffer, weight stationary. */
#define UT_CONV1D \
    "name: conv1d\n" \
    "einsums:\n" \
    "  - \"O[p] += I[p+r] * W[r]\"\n" \
    "ranks: {P: 16, R: 3}\n"
#define UT_ARCH_TEACH2 \
    "name: two\n" \
    "levels:\n" \
    "  - name: MainMemory\n" \
    "    kind: sram\n" \
    "  - name: Buffer\n" \
    "    kind: regfile\n" \
    "    capacity: 64 B\n"
#define UT_MAP_TEACH2_WS \
    "mapping:\n" \
    "  - level: MainMemory\n    temporal: [R: 3]\n" \
    "  - level: Buffer\n    temporal: [P: 16]\n"

#endif
