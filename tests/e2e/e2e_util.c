/* Helpers of the end-to-end tests: see e2e_util.h. */
#include "e2e_util.h"

#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------- setup ---------- */

static char scratch_dir[256];

void e2e_init(void) {
    if (chdir(EF_SOURCE_DIR) != 0) {
        fprintf(stderr, "e2e: cannot chdir to %s: %s\n", EF_SOURCE_DIR, strerror(errno));
        exit(EXIT_FAILURE);
    }
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    snprintf(scratch_dir, sizeof scratch_dir, "%s/einflow-e2e-XXXXXX", tmp);
    if (!mkdtemp(scratch_dir)) {
        fprintf(stderr, "e2e: cannot create a scratch directory: %s\n", strerror(errno));
        exit(EXIT_FAILURE);
    }
    /* A child killed on timeout must not take the test with it. */
    signal(SIGPIPE, SIG_IGN);
}

void e2e_cleanup(void) {
    if (!scratch_dir[0]) return;
    DIR *d = opendir(scratch_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", scratch_dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(scratch_dir);
    scratch_dir[0] = '\0';
}

char *e2e_tmp_path(const char *stem) {
    static unsigned counter;
    const char *dir = scratch_dir[0] ? scratch_dir : "/tmp";
    size_t n = strlen(dir) + strlen(stem) + 48;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%ld-%u-%s", dir, (long)getpid(), counter++, stem);
    return p;
}

char *e2e_write_tmp(const char *stem, const char *text) {
    char *path = e2e_tmp_path(stem);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert(fputs(text, f) >= 0);
    ck_assert(fclose(f) == 0);
    return path;
}

char *e2e_replace_all(const char *text, const char *from, const char *to) {
    size_t n = 0, fl = strlen(from), tl = strlen(to);
    for (const char *at = strstr(text, from); at; at = strstr(at + fl, from)) n++;
    ck_assert_msg(n > 0, "no \"%s\" to replace", from);
    size_t size = strlen(text) + n * tl + 1;
    char *out = malloc(size), *w = out;
    ck_assert_ptr_nonnull(out);
    for (const char *at; (at = strstr(text, from)); text = at + fl) {
        memcpy(w, text, (size_t)(at - text));
        w += at - text;
        memcpy(w, to, tl);
        w += tl;
    }
    strcpy(w, text);
    return out;
}

void e2e_locate(char *buf, size_t size, const char *path, const char *text, const char *mark,
                int nth, size_t into) {
    const char *at = strstr(text, mark);
    ck_assert_msg(at != NULL, "\"%s\" is not in the text", mark);
    for (int k = 1; nth != k; k++) {
        const char *q = strstr(at + 1, mark);
        if (!q) {
            ck_assert_int_eq(nth, 0);
            break;
        }
        at = q;
    }
    at += into;
    int line = 1, col = 1;
    for (const char *p = text; p < at; p++) {
        if (*p == '\n') line++, col = 1;
        else col++;
    }
    snprintf(buf, size, "%s:%d:%d: error: ", path, line, col);
}

/* ---------- files ---------- */

char *e2e_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    bool err = ferror(f) != 0;
    fclose(f);
    if (err) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

bool e2e_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---------- running the binary ---------- */

typedef struct {
    char *data;
    size_t len, cap;
} sbuf;

static bool sbuf_add(sbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->len + n + 1 > cap) cap *= 2;
        char *nd = realloc(b->data, cap);
        if (!nd) return false;
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *e2e_cmdline(const char *const *args) {
    static char line[2048];
    size_t n = (size_t)snprintf(line, sizeof line, "einflow");
    for (size_t i = 0; args && args[i] && n < sizeof line; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, " %s", args[i]);
    return line;
}

static double default_timeout(void) {
    const char *s = getenv("EF_E2E_TIMEOUT");
    if (s && *s) {
        double v = strtod(s, NULL);
        if (v > 0) return v;
    }
    return E2E_DEFAULT_TIMEOUT;
}

bool e2e_run(e2e_result *r, const char *const *args) {
    return e2e_run_timeout(r, default_timeout(), args);
}

bool e2e_run_timeout(e2e_result *r, double timeout_s, const char *const *args) {
    memset(r, 0, sizeof *r);
    size_t argc = 0;
    while (args && args[argc]) argc++;
    char **argv = calloc(argc + 2, sizeof *argv);
    if (!argv) return false;
    argv[0] = (char *)EF_BINARY;
    for (size_t i = 0; i < argc; i++) argv[i + 1] = (char *)args[i];

    int po[2], pe[2];
    if (pipe(po) != 0) {
        free(argv);
        return false;
    }
    if (pipe(pe) != 0) {
        close(po[0]);
        close(po[1]);
        free(argv);
        return false;
    }
    double t0 = now_s();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
        free(argv);
        return false;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, STDIN_FILENO);
        dup2(po[1], STDOUT_FILENO);
        dup2(pe[1], STDERR_FILENO);
        close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
        execv(EF_BINARY, argv);
        dprintf(STDERR_FILENO, "e2e: cannot execute %s: %s\n", EF_BINARY, strerror(errno));
        _exit(127);
    }
    free(argv);
    close(po[1]);
    close(pe[1]);

    sbuf out = {0}, err = {0};
    sbuf_add(&out, "", 0);
    sbuf_add(&err, "", 0);
    struct pollfd fds[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
    bool open_[2] = {true, true};
    double deadline = t0 + timeout_s;
    bool ok = true;
    int status = 0;
    bool reaped = false;
    while (open_[0] || open_[1]) {
        double left = deadline - now_s();
        if (left <= 0) {
            r->timed_out = true;
            break;
        }
        int ms = left > 1.0 ? 1000 : (int)(left * 1000) + 1;
        struct pollfd act[2];
        int idx[2], na = 0;
        for (int i = 0; i < 2; i++)
            if (open_[i]) {
                act[na] = fds[i];
                idx[na++] = i;
            }
        int pr = poll(act, (nfds_t)na, ms);
        if (pr < 0) {
            if (errno == EINTR) continue;
            ok = false;
            break;
        }
        for (int k = 0; k < na; k++) {
            if (!(act[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[8192];
            ssize_t n = read(act[k].fd, buf, sizeof buf);
            if (n > 0) {
                if (!sbuf_add(idx[k] == 0 ? &out : &err, buf, (size_t)n)) ok = false;
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                open_[idx[k]] = false;
            }
        }
    }
    /* Pipes closed (or timed out): wait for the exit, still bounded. */
    while (!r->timed_out) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            reaped = true;
            break;
        }
        if (w < 0 && errno != EINTR) {
            ok = false;
            reaped = true;
            break;
        }
        if (now_s() >= deadline) {
            r->timed_out = true;
            break;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!reaped) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    close(po[0]);
    close(pe[0]);
    r->seconds = now_s() - t0;
    r->out = out.data;
    r->err = err.data;
    if (WIFEXITED(status)) {
        r->exit_code = WEXITSTATUS(status);
    } else {
        r->exit_code = -1;
        r->term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    return ok && r->out && r->err;
}

bool e2e_runl(e2e_result *r, const char *arg0, ...) {
    const char *args[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a && n < 63; a = va_arg(ap, const char *)) args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    return e2e_run(r, args);
}

void e2e_result_free(e2e_result *r) {
    if (!r) return;
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* ---------- JSON ---------- */

typedef struct {
    const char **start;
    size_t *len;
    size_t count, cap;
} literal_list;

/* Lists the number literals of a JSON text in document order. */
static bool scan_numbers(const char *t, literal_list *l) {
    for (size_t i = 0; t[i];) {
        char c = t[i];
        if (c == '"') {
            for (i++; t[i] && t[i] != '"'; i++)
                if (t[i] == '\\' && t[i + 1]) i++;
            if (t[i]) i++;
        } else if (c == '-' || isdigit((unsigned char)c)) {
            size_t s = i;
            while (t[i] && strchr("0123456789+-.eE", t[i])) i++;
            if (l->count == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 256;
                const char **ns = realloc(l->start, cap * sizeof *ns);
                if (!ns) return false;
                l->start = ns;
                size_t *nl = realloc(l->len, cap * sizeof *nl);
                if (!nl) return false;
                l->len = nl;
                l->cap = cap;
            }
            l->start[l->count] = t + s;
            l->len[l->count++] = i - s;
        } else {
            i++;
        }
    }
    return true;
}

static bool attach_literals(cJSON *item, const literal_list *l, size_t *next) {
    for (; item; item = item->next) {
        if (cJSON_IsNumber(item)) {
            if (*next >= l->count) return false;
            item->valuestring = strndup(l->start[*next], l->len[*next]);
            if (!item->valuestring) return false;
            (*next)++;
        }
        if (item->child && !attach_literals(item->child, l, next)) return false;
    }
    return true;
}

cJSON *e2e_parse_json(const char *text) {
    if (!text) return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) return NULL;
    literal_list l = {0};
    size_t used = 0;
    bool ok = scan_numbers(text, &l) && attach_literals(root, &l, &used) && used == l.count;
    free(l.start);
    free(l.len);
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

cJSON *e2e_load_json(const char *path) {
    char *text = e2e_read_file(path, NULL);
    if (!text) return NULL;
    cJSON *root = e2e_parse_json(text);
    free(text);
    return root;
}

const cJSON *e2e_get(const cJSON *root, const char *path) {
    const cJSON *cur = root;
    const char *p = path;
    while (cur && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']' || i < 0 || !cJSON_IsArray(cur)) return NULL;
            cur = cJSON_GetArrayItem(cur, (int)i);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        char key[128];
        if (n >= sizeof key || !cJSON_IsObject(cur)) return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        cur = cJSON_GetObjectItemCaseSensitive(cur, key);
        p += n;
    }
    return cur;
}

bool e2e_u64(const cJSON *item, uint64_t *out) {
    if (!item || !cJSON_IsNumber(item)) return false;
    const char *s = item->valuestring;
    if (s) {
        if (!*s) return false;
        for (const char *c = s; *c; c++)
            if (!isdigit((unsigned char)*c)) return false;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end) return false;
        *out = (uint64_t)v;
        return true;
    }
    double d = item->valuedouble;
    if (d < 0 || d >= 9007199254740992.0 || floor(d) != d) return false;
    *out = (uint64_t)d;
    return true;
}

const cJSON *e2e_level(const cJSON *root, const char *level) {
    const cJSON *levels = cJSON_GetObjectItemCaseSensitive(root, "levels");
    const cJSON *lv;
    cJSON_ArrayForEach(lv, levels) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(lv, "name");
        if (cJSON_IsString(name) && !strcmp(name->valuestring, level)) return lv;
    }
    return NULL;
}

const cJSON *e2e_tensor(const cJSON *root, const char *level, const char *tensor) {
    const cJSON *lv = e2e_level(root, level);
    const cJSON *ts = lv ? cJSON_GetObjectItemCaseSensitive(lv, "tensors") : NULL;
    return ts ? cJSON_GetObjectItemCaseSensitive(ts, tensor) : NULL;
}

uint64_t e2e_counter(const cJSON *root, const char *level, const char *tensor,
                     const char *key) {
    const cJSON *t = e2e_tensor(root, level, tensor);
    ck_assert_msg(t != NULL, "JSON has no levels[%s].tensors.%s", level, tensor);
    const cJSON *item = e2e_get(t, key);
    uint64_t v = 0;
    ck_assert_msg(e2e_u64(item, &v), "levels[%s].tensors.%s.%s is missing or not an exact "
                  "unsigned integer", level, tensor, key);
    return v;
}

uint64_t e2e_path_u64(const cJSON *root, const char *path) {
    uint64_t v = 0;
    ck_assert_msg(e2e_u64(e2e_get(root, path), &v),
                  "JSON %s is missing or not an exact unsigned integer", path);
    return v;
}

double e2e_path_double(const cJSON *root, const char *path) {
    const cJSON *item = e2e_get(root, path);
    ck_assert_msg(cJSON_IsNumber(item), "JSON %s is missing or not a number", path);
    return item->valuedouble;
}

const char *e2e_path_str(const cJSON *root, const char *path) {
    const cJSON *item = e2e_get(root, path);
    ck_assert_msg(cJSON_IsString(item), "JSON %s is missing or not a string", path);
    return item->valuestring;
}

uint64_t e2e_summary_u64(const cJSON *root, const char *key) {
    char path[128];
    snprintf(path, sizeof path, "summary.%s", key);
    return e2e_path_u64(root, path);
}

uint64_t e2e_einsums_level_bytes(const cJSON *root, const char *level) {
    uint64_t sum = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, e2e_get(root, "einsums")) {
        const cJSON *l = e2e_level(e, level);
        sum += e2e_path_u64(l, "read_bytes") + e2e_path_u64(l, "write_bytes");
    }
    return sum;
}

double e2e_summary_double(const cJSON *root, const char *key) {
    char path[128];
    snprintf(path, sizeof path, "summary.%s", key);
    return e2e_path_double(root, path);
}

uint64_t e2e_stall_total(const cJSON *root) {
    const cJSON *st = e2e_get(root, "summary.stall_cycles");
    ck_assert_msg(cJSON_IsObject(st), "JSON summary.stall_cycles is missing or not an object");
    uint64_t total = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, st) {
        uint64_t v = 0;
        ck_assert_msg(e2e_u64(c, &v), "summary.stall_cycles.%s is not an exact unsigned integer",
                      c->string ? c->string : "?");
        total += v;
    }
    return total;
}

cJSON *e2e_run_json(const char *arch, const char *workload, const char *mapping,
                    const char *const *extra) {
    char *out = e2e_tmp_path("run.json");
    const char *args[32] = {"run", arch, workload, mapping, "-o", out, "-q"};
    size_t n = 7;
    for (size_t i = 0; extra && extra[i] && n < 31; i++) args[n++] = extra[i];
    args[n] = NULL;
    e2e_result r;
    ck_assert_msg(e2e_run(&r, args), "cannot run %s", e2e_cmdline(args));
    ck_assert_msg(!r.timed_out, "%s timed out after %.0f s", e2e_cmdline(args), r.seconds);
    ck_assert_msg(r.exit_code == 0, "%s exited with %d (signal %d); stderr:\n%s",
                  e2e_cmdline(args), r.exit_code, r.term_signal, r.err);
    e2e_result_free(&r);
    cJSON *root = e2e_load_json(out);
    ck_assert_msg(root != NULL, "%s: %s is not valid JSON", e2e_cmdline(args), out);
    unlink(out);
    free(out);
    return root;
}

int e2e_run_suite(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    e2e_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

uint64_t e2e_mapping_claimed_cycles(const char *text) {
    static const char tag[] = "#   engine: ";
    const char *at = text ? strstr(text, tag) : NULL;
    return at ? strtoull(at + strlen(tag), NULL, 10) : 0;
}
