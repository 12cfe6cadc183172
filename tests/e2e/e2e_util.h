/* Helpers shared by the end-to-end tests (tests/e2e/check_e2e_*.c):
 * run the einflow binary with a timeout and capture what it prints, load
 * its JSON results with exact 64-bit counters, and small file helpers.
 *
 * Every test binary calls e2e_init() once in main(): it changes to the
 * source directory (so that paths in diagnostics are the stable relative
 * ones, e.g. "tests/golden/x.yaml:3:5") and creates a private scratch
 * directory that e2e_cleanup() removes.
 *
 * Ownership: e2e_run results own their strings (free with
 * e2e_result_free); e2e_load_json/e2e_parse_json return trees freed with
 * cJSON_Delete; e2e_read_file/e2e_tmp_path return malloc'd strings. */
#ifndef EF_E2E_UTIL_H
#define EF_E2E_UTIL_H

#include <check.h>
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef EF_SOURCE_DIR
#error "EF_SOURCE_DIR must be defined by the build"
/* Runs every test of s, frees it, calls e2e_cleanup and returns the
 * process exit status: the shared tail of every e2e main(). */
int e2e_run_suite(Suite *s);

#endif
#ifndef EF_BINARY
#error "EF_BINARY must be defined by the build"
/* Runs every test of s, frees it, calls e2e_cleanup and returns the
 * process exit status: the shared tail of every e2e main(). */
int e2e_run_suite(Suite *s);

#endif

/* Default limit for one einflow run. Generous: the suite also runs under
 * ASan/UBSan, which is several times slower. EF_E2E_TIMEOUT (seconds) in
 * the environment overrides it. */
#define E2E_DEFAULT_TIMEOUT 300.0

/* Check's per-test timeout for e2e test cases (seconds). */
#define E2E_TCASE_TIMEOUT 900

typedef struct {
    int exit_code;    /* process exit status; -1 if killed by a signal   */
    int term_signal;  /* the signal that ended it, or 0                  */
    bool timed_out;   /* killed because it ran past the timeout          */
    char *out;        /* everything written to stdout (NUL-terminated)   */
    char *err;        /* everything written to stderr                    */
    double seconds;   /* wall time                                       */
} e2e_result;

/* Changes to EF_SOURCE_DIR and creates the scratch directory. */
void e2e_init(void);
/* Removes the scratch directory and everything in it. */
void e2e_cleanup(void);

/* Runs EF_BINARY with args (a NULL-terminated list, not including the
 * program name). Returns false only if the process could not be started
 * or its output not collected; a nonzero exit is a normal result. */
bool e2e_run(e2e_result *r, const char *const *args);
bool e2e_run_timeout(e2e_result *r, double timeout_s, const char *const *args);
/* Same, arguments as a NULL-terminated variadic list. */
bool e2e_runl(e2e_result *r, const char *arg0, ...);
void e2e_result_free(e2e_result *r);
/* The command line as one string, for failure messages (static buffer). */
const char *e2e_cmdline(const char *const *args);

/* Whole file as a NUL-terminated string, or NULL. */
char *e2e_read_file(const char *path, size_t *len);
bool e2e_file_exists(const char *path);
/* A fresh path name in the scratch directory, e.g. "<dir>/3-run.json". */
char *e2e_tmp_path(const char *stem);
/* Writes text to a fresh scratch file (e2e_tmp_path) and returns its
 * path (the caller frees it). */
char *e2e_write_tmp(const char *stem, const char *text);

/* text with every `from` replaced by `to`, malloc'd (text is left as
 * it is); fails the test when `from` does not occur. */
char *e2e_replace_all(const char *text, const char *from, const char *to);

/* "path:line:col: error: " into buf, for the nth `mark` in text (1: the
 * first; 0: the last), col at the offset `into` inside it: where a
 * diagnostic about that spot of the file must point. */
void e2e_locate(char *buf, size_t size, const char *path, const char *text, const char *mark,
                int nth, size_t into);
/* The cycles a mapping file written by `einflow map` claims on its
 * "#   engine: N cycles" comment line; 0 when it has none. */
uint64_t e2e_mapping_claimed_cycles(const char *text);

/* Parses JSON text with cJSON_ParseWithOpts (whole text must be one
 * value). Each number item additionally gets its literal text in
 * valuestring, so that e2e_u64 can read counters above 2^53 exactly. */
cJSON *e2e_parse_json(const char *text);
cJSON *e2e_load_json(const char *path);

/* An item by a dotted path: "summary.cycles", "levels[1].name",
 * "levels[0].tensors.W.per_instance.reads". NULL if absent. Object keys
 * are matched case-sensitively. */
const cJSON *e2e_get(const cJSON *root, const char *path);
/* The exact unsigned integer value of a number item (from its literal
 * text). False if item is not a non-negative integer literal. */
bool e2e_u64(const cJSON *item, uint64_t *out);

/* The entry of levels[] named level, or NULL. */
const cJSON *e2e_level(const cJSON *root, const char *level);
/* levels[level].tensors[tensor], or NULL. */
const cJSON *e2e_tensor(const cJSON *root, const char *level, const char *tensor);

/* Assertion-style getters for use inside Check tests: they fail the
 * current test with a clear message if the item is missing or not an
 * exact unsigned integer. key may be dotted ("per_instance.reads"). */
uint64_t e2e_counter(const cJSON *root, const char *level, const char *tensor,
                     const char *key);
uint64_t e2e_path_u64(const cJSON *root, const char *path);
double e2e_path_double(const cJSON *root, const char *path);
const char *e2e_path_str(const cJSON *root, const char *path);
/* summary.<key> as an exact integer / as a double. */
uint64_t e2e_summary_u64(const cJSON *root, const char *key);
/* Bytes read and written at `level` (levels[].read_bytes + write_bytes)
 * summed over einsums[]: what a cascade moved there. */
uint64_t e2e_einsums_level_bytes(const cJSON *root, const char *level);
double e2e_summary_double(const cJSON *root, const char *key);
/* Sum of summary.stall_cycles{cause: n}. */
uint64_t e2e_stall_total(const cJSON *root);

/* Runs einflow run ARCH WORKLOAD MAPPING -o <tmp> -q plus extra (a
 * NULL-terminated list, may be NULL), asserts exit code 0 (stderr in the
 * failure message) and returns the parsed JSON. */
cJSON *e2e_run_json(const char *arch, const char *workload, const char *mapping,
                    const char *const *extra);

/* Runs every test of s, frees it, calls e2e_cleanup and returns the
 * process exit status: the shared tail of every e2e main(). */
int e2e_run_suite(Suite *s);

#endif
