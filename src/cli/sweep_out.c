/* The files of `einflow sweep`: the JSON Lines file a sweep appends to
 * and resumes from, its final rewrite in index order with the Pareto
 * front, and the CSV. The lines are the report stage's; this file only
 * reads back what it needs (index, key, cycles, energy, area, error) and
 * never reprints a line's numbers, so a line reads the same before and
 * after the rewrite but for its pareto field, which is always last. */
#include "cli/sweep_out.h"
#include "einflow/report.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t ef_sweep_hash(const char *text, size_t len) {
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)text[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

/* The whole of fd's file, NUL-terminated, in *text (malloc'd). */
static bool read_all(int fd, char **text, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = ef_malloc(cap);
    if (!buf) return false;
    for (;;) {
        if (n + 1 >= cap) {
            char *p = ef_realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                return false;
            }
            buf = p;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            free(buf);
            return false;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return true;
}

/* One line of the file, parsed. */
typedef struct {
    char *text;               /* the line, without its newline (in buf) */
    uint64_t index;
    const char *key;          /* in json                                */
    double cycles, energy_pj; /* energy_total_pj: dynamic + leakage     */
    double area_mm2;
    bool failed;              /* has an error field                     */
    bool on_front;
    size_t order;             /* line number, for a stable sort         */
    cJSON *json;
} line_t;

/* Parses text (one line, NUL-terminated) into l; false when it is not
 * a point. */
static bool parse_line(char *text, line_t *l) {
    memset(l, 0, sizeof *l);
    l->text = text;
    l->json = cJSON_ParseWithOpts(text, NULL, true);
    const cJSON *index = cJSON_GetObjectItemCaseSensitive(l->json, "index");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(l->json, "key");
    if (!cJSON_IsObject(l->json) || !cJSON_IsNumber(index) || !cJSON_IsString(key) ||
        index->valuedouble < 0) {
        cJSON_Delete(l->json);
        l->json = NULL;
        return false;
    }
    l->index = (uint64_t)index->valuedouble;
    l->key = key->valuestring;
    l->failed = cJSON_GetObjectItemCaseSensitive(l->json, "error") != NULL;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(l->json, "cycles");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(l->json, "energy_total_pj");
    /* a line of an einflow before the cost model: dynamic energy, no area */
    if (!cJSON_IsNumber(e)) e = cJSON_GetObjectItemCaseSensitive(l->json, "energy_pj");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(l->json, "area_mm2");
    l->cycles = cJSON_IsNumber(c) ? c->valuedouble : 0;
    l->energy_pj = cJSON_IsNumber(e) ? e->valuedouble : 0;
    l->area_mm2 = cJSON_IsNumber(a) ? a->valuedouble : 0;
    return true;
}

ef_status ef_sweep_out_open(const char *path, uint64_t point_count, ef_sweep_key_fn key, void *ctx,
                       bool *done, uint64_t *found, int *fd_out, char *why, size_t size) {
    *found = 0;
    *fd_out = -1;
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    char *text = NULL;
    size_t len = 0;
    if (fd < 0 || !read_all(fd, &text, &len)) {
        snprintf(why, size, "cannot read %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return EF_ERR_IO;
    }
    /* a line without its newline was cut off by a kill: it goes, and
     * its point is run again */
    size_t whole = len;
    while (whole > 0 && text[whole - 1] != '\n') whole--;
    if (whole < len && ftruncate(fd, (off_t)whole) != 0) {
        snprintf(why, size, "cannot cut the torn last line of %s: %s", path, strerror(errno));
        free(text);
        close(fd);
        return EF_ERR_IO;
    }
    close(fd);
    bool ok = true;
    size_t number = 0;
    for (char *at = text, *nl; ok && at < text + whole; at = nl + 1) {
        nl = memchr(at, '\n', (size_t)(text + whole - at));
        *nl = '\0';
        number++;
        line_t l;
        if (!parse_line(at, &l)) {
            snprintf(why, size, "%s:%zu: expected one point of a sweep per line (a JSON object "
                     "with index and key), found something else; is this a sweep's output?",
                     path, number);
            ok = false;
            break;
        }
        char want[40] = "";
        if (l.index < point_count) key(ctx, l.index, want);
        if (strcmp(want, l.key)) {
            snprintf(why, size, "%s:%zu: the point with key %s is not a point of this sweep "
                     "(the sweep file, its files, --set or the mapper's options differ from "
                     "the run that wrote it): give another -o, or delete the file to start "
                     "over", path, number, l.key);
            ok = false;
        } else if (!done[l.index]) {
            done[l.index] = true;
            (*found)++;
        }
        cJSON_Delete(l.json);
    }
    free(text);
    if (!ok) return EF_ERR_SPEC;
    *fd_out = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (*fd_out < 0) {
        snprintf(why, size, "cannot append to %s: %s", path, strerror(errno));
        return EF_ERR_IO;
    }
    return EF_OK;
}

/* write(2) until all of buf is out. One call writes a line whole on a
 * local file; a short write (a full disk) leaves a torn line that the
 * next run cuts off. */
static bool write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

bool ef_sweep_out_append(int fd, const char *line) {
    size_t len = strlen(line);
    char *buf = ef_malloc(len + 2);
    if (!buf) return false;
    memcpy(buf, line, len);
    buf[len] = '\n';
    bool ok = write_all(fd, buf, len + 1);
    free(buf);
    return ok;
}

static int by_index(const void *a, const void *b) {
    const line_t *x = a, *y = b;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int by_cost(const void *a, const void *b) {
    const line_t *x = *(const line_t *const *)a, *y = *(const line_t *const *)b;
    if (x->cycles != y->cycles) return x->cycles < y->cycles ? -1 : 1;
    if (x->energy_pj != y->energy_pj) return x->energy_pj < y->energy_pj ? -1 : 1;
    if (x->area_mm2 != y->area_mm2) return x->area_mm2 < y->area_mm2 ? -1 : 1;
    return 0;
}

/* q is no worse than p on every objective and better on one. */
static bool dominates(const line_t *q, const line_t *p) {
    bool no_worse = q->cycles <= p->cycles && q->energy_pj <= p->energy_pj &&
                    q->area_mm2 <= p->area_mm2;
    return no_worse && (q->cycles < p->cycles || q->energy_pj < p->energy_pj ||
                        q->area_mm2 < p->area_mm2);
}

/* The points no other point dominates on cycles, total energy and area
 * (docs/cli.md): a design that is slower or dearer may still be the
 * smallest. Equal points are on the front together. Sorted by the
 * three in turn, whatever dominates a point comes before it, and so
 * does a point of the front that dominates it (dominance is
 * transitive): each point need only be checked against the front found
 * so far. */
static uint64_t mark_front(line_t *lines, size_t n) {
    line_t **ok = ef_calloc(n + 1, sizeof *ok);
    line_t **front = ef_calloc(n + 1, sizeof *front);
    if (!ok || !front) {
        free(ok);
        free(front);
        return 0;
    }
    size_t m = 0, f = 0;
    for (size_t i = 0; i < n; i++)
        if (!lines[i].failed) ok[m++] = &lines[i];
    qsort(ok, m, sizeof *ok, by_cost);
    for (size_t i = 0; i < m; i++) {
        bool beaten = false;
        for (size_t k = 0; k < f && !beaten; k++) beaten = dominates(front[k], ok[i]);
        if (beaten) continue;
        ok[i]->on_front = true;
        front[f++] = ok[i];
    }
    free(ok);
    free(front);
    return f;
}

/* The line without a pareto field of an earlier rewrite (always last). */
static size_t without_pareto(const char *text) {
    size_t len = strlen(text);
    static const char *const tails[] = {",\"pareto\":true}", ",\"pareto\":false}"};
    for (int k = 0; k < 2; k++) {
        size_t t = strlen(tails[k]);
        if (len >= t && !strcmp(text + len - t, tails[k])) return len - t;
    }
    return len > 0 ? len - 1 : 0; /* up to the closing brace */
}

/* The CSV (docs/output.md, "The CSV (`--csv FILE`)"): the lines' own
 * values, quoted and spelled by the report stage's CSV writer. */
static bool write_csv(FILE *f, const line_t *lines, size_t n, const ef_sweep_finish *fin) {
    ef_csv *c = ef_csv_create();
    if (!c) return false;
    ef_csv_text(c, "index");
    ef_csv_text(c, "key");
    ef_csv_text(c, "dataflow");
    for (int a = 0; a < fin->axis_count; a++) ef_csv_text(c, fin->axis_paths[a]);
    static const char *const cols[] = {"cycles", "macs", "utilization", "energy_pj",
                                       "leakage_pj", "energy_total_pj", "power_w",
                                       "power_total_mw", "area_mm2"};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) ef_csv_text(c, cols[k]);
    ef_csv_text(c, "area_storage_bits");
    ef_csv_text(c, "area_pes");
    if (fin->pareto) ef_csv_text(c, "pareto");
    ef_csv_text(c, "error");
    ef_csv_end_row(c);
    for (size_t i = 0; i < n; i++) {
        const cJSON *j = lines[i].json;
        ef_csv_u64(c, lines[i].index);
        ef_csv_text(c, lines[i].key);
        ef_csv_json(c, cJSON_GetObjectItemCaseSensitive(j, "dataflow"));
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(j, "values");
        for (int a = 0; a < fin->axis_count; a++)
            ef_csv_json(c, cJSON_GetObjectItemCaseSensitive(values, fin->axis_paths[a]));
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
            ef_csv_json(c, cJSON_GetObjectItemCaseSensitive(j, cols[k]));
        const cJSON *area = cJSON_GetObjectItemCaseSensitive(j, "area");
        ef_csv_json(c, cJSON_GetObjectItemCaseSensitive(area, "storage_bits"));
        ef_csv_json(c, cJSON_GetObjectItemCaseSensitive(area, "pes"));
        if (fin->pareto) ef_csv_text(c, lines[i].failed ? "" : lines[i].on_front ? "true" : "false");
        ef_csv_json(c, cJSON_GetObjectItemCaseSensitive(j, "error"));
        ef_csv_end_row(c);
    }
    char *text = ef_csv_take(c);
    bool ok = text && fputs(text, f) >= 0;
    free(text);
    return ok && !ferror(f);
}

/* Writes through a temporary file beside path, renamed over it, so
 * that a reader or a kill never sees half a file. */
typedef bool (*writer_fn)(FILE *f, const void *ctx);
static bool replace_file(const char *path, writer_fn fn, const void *ctx) {
    size_t n = strlen(path) + 32;
    char *tmp = ef_malloc(n);
    if (!tmp) return false;
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    bool ok = f && fn(f, ctx);
    ok = f && fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    ok = f && fclose(f) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) unlink(tmp);
    free(tmp);
    return ok;
}

typedef struct {
    const line_t *lines;
    size_t n;
    const ef_sweep_finish *fin;
} rewrite_ctx;

static bool write_jsonl(FILE *f, const void *p) {
    const rewrite_ctx *c = p;
    for (size_t i = 0; i < c->n; i++) {
        const line_t *l = &c->lines[i];
        fwrite(l->text, 1, without_pareto(l->text), f);
        if (c->fin->pareto && !l->failed) fprintf(f, ",\"pareto\":%s", l->on_front ? "true" : "false");
        fputs("}\n", f);
    }
    return !ferror(f);
}

static bool write_csv_file(FILE *f, const void *p) {
    const rewrite_ctx *c = p;
    return write_csv(f, c->lines, c->n, c->fin);
}

bool ef_sweep_out_finish(const char *path, const ef_sweep_finish *fin, uint64_t *points,
                         uint64_t *on_front, uint64_t *failed, char *why, size_t size) {
    *points = *on_front = *failed = 0;
    int fd = open(path, O_RDONLY);
    char *text = NULL;
    size_t len = 0;
    if (fd < 0 || !read_all(fd, &text, &len)) {
        snprintf(why, size, "cannot read %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return false;
    }
    close(fd);
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += text[i] == '\n';
    line_t *lines = ef_calloc(cap, sizeof *lines);
    size_t n = 0;
    bool ok = lines != NULL;
    for (char *at = text, *nl; ok && at < text + len && (nl = memchr(at, '\n', (size_t)(text + len - at)));
         at = nl + 1) {
        *nl = '\0';
        if (!parse_line(at, &lines[n])) continue; /* checked when opened */
        lines[n].order = n;
        n++;
    }
    if (ok) {
        qsort(lines, n, sizeof *lines, by_index);
        /* merged shards may hold a point twice: the first stays */
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (k > 0 && lines[k - 1].index == lines[i].index) {
                cJSON_Delete(lines[i].json);
                continue;
            }
            lines[k++] = lines[i];
        }
        n = k;
        for (size_t i = 0; i < n; i++) *failed += lines[i].failed;
        if (fin->pareto) *on_front = mark_front(lines, n);
        *points = n;
        rewrite_ctx c = {.lines = lines, .n = n, .fin = fin};
        if (!replace_file(path, write_jsonl, &c)) {
            snprintf(why, size, "cannot rewrite %s: %s", path, strerror(errno));
            ok = false;
        } else if (fin->csv_path && !replace_file(fin->csv_path, write_csv_file, &c)) {
            snprintf(why, size, "cannot write %s: %s", fin->csv_path, strerror(errno));
            ok = false;
        }
    } else {
        snprintf(why, size, "out of memory reading %s", path);
    }
    for (size_t i = 0; lines && i < n; i++) cJSON_Delete(lines[i].json);
    free(lines);
    free(text);
    return ok;
}
