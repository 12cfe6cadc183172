/* Every allocation einflow makes (common.h, ef_malloc): plain libc
 * underneath, and a test mode that makes one chosen allocation fail,
 * so that every out-of-memory path can be run (tests/e2e/
 * check_e2e_nomem.c). The counters are per thread: runs on other
 * threads neither see nor disturb them. */
#include "einflow/common.h"

#include <stdlib.h>
#include <string.h>

static _Thread_local uint64_t made;      /* allocations asked for      */
static _Thread_local uint64_t fail_at;   /* which one fails; 0: none   */
static _Thread_local uint64_t failed;    /* allocations that failed    */

void ef_alloc_fail_at(uint64_t n) {
    made = 0;
    fail_at = n;
}

uint64_t ef_alloc_count(void) { return made; }

uint64_t ef_alloc_failures(void) { return failed; }

/* p, counting it as a failure when it is NULL (size 0 may be NULL) */
static void *counted(void *p, size_t size) {
    if (!p && size) failed++;
    return p;
}

/* Counts one allocation; true when it is the one to fail. */
static bool failing(void) { return ++made == fail_at; }

void *ef_malloc(size_t size) { return counted(failing() ? NULL : malloc(size), size); }

void *ef_calloc(size_t n, size_t size) {
    return counted(failing() ? NULL : calloc(n, size), n * size);
}

void *ef_realloc(void *p, size_t size) {
    return counted(failing() ? NULL : realloc(p, size), size);
}

char *ef_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = ef_malloc(n);
    if (c) memcpy(c, s, n);
    return c;
}
