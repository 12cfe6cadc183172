/* `einflow sweep SWEEP.yaml -o points.jsonl`: runs every point of a
 * design-space sweep (docs/cli.md, docs/spec.md) on a pool of threads,
 * each point exactly as `einflow run` would run it with the same
 * --set, and appends each point's line as it finishes. Re-running with
 * the same -o skips the points already there, so a killed sweep
 * resumes; --shard K/N runs one of N disjoint slices, so a sweep
 * spreads over a job array. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "cli/execute.h"
#include "cli/sweep_out.h"
#include "einflow/report.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char sweep_usage[] =
    "usage: einflow sweep SWEEP.yaml -o POINTS.jsonl [options]\n"
    "\n"
    "Runs every point of a design-space sweep: the architecture, workload\n"
    "and dataflows the sweep file names, with each combination of its\n"
    "axes' values (arch.PATH or a parameter of the workload), each point\n"
    "as `einflow run` with the same --set would run it. One JSON line per\n"
    "point goes to POINTS.jsonl as it finishes; running again with the\n"
    "same -o resumes, skipping the points already there. When all are\n"
    "in, the file is rewritten in index order.\n"
    "\n"
    "options:\n"
    "  -o FILE             the JSON Lines file (required)\n"
    "  --csv FILE          also write the points as CSV, one column per value\n"
    "  --pareto            mark the points on the front of cycles, total\n"
    "                      energy and area (pareto: true/false)\n"
    "  --shard K/N         run only the K-th of N disjoint slices (points\n"
    "                      whose index is K-1 modulo N)\n"
    "  --threads N         points run in parallel (default: the cores);\n"
    "                      results do not depend on N\n"
    "  --set KEY=VALUE     set an architecture path or a parameter for every\n"
    "                      point (an axis of the same path replaces it)\n"
    "  --objective, --evaluations, --time-limit, --confirm, --seed, --engine,\n"
    "  --fold-model, --layers, --einsum-dataflow\n"
    "                      as for `einflow run`, for every point\n"
    "  -q, --quiet         print nothing on success\n"
    "  -h, --help          show this help\n";

/* Everything one run of the sweep shares between its threads: read
 * only but for the counters and the output, which `lock` guards. */
typedef struct {
    const ef_sweep_spec *spec;
    const ef_cli_search *base;      /* the command line's options       */
    ef_dataflow_spec **dfs;         /* [spec->dataflow_count], loaded   */
    const ef_mapping_spec *ms;      /* with a mapping file              */
    char *settings;                 /* what every point's key hashes    */
    uint64_t *todo;                 /* indices of the points to run     */
    uint64_t todo_count;
    int inner_threads;              /* for each point's own searches    */
    bool quiet, progress;
    int fd;                         /* the JSON Lines file, O_APPEND    */
    pthread_mutex_t lock;
    uint64_t ran, failed;           /* under lock                       */
    bool write_failed;              /* under lock                       */
    int write_errno;
    double t0;
    bool drew;                      /* a progress bar is on the screen  */
} sweep_run;

/* The text a point's key hashes: the files, every setting that decides
 * its result and its own values. A line whose key differs was written
 * by a sweep with other settings. */
static char *common_settings(const ef_sweep_spec *s, const ef_cli_search *b) {
    char *arch = realpath(s->arch, NULL), *work = realpath(s->workload, NULL);
    char *map = s->mapping ? realpath(s->mapping, NULL) : NULL;
    size_t cap = 8192 + (size_t)b->arch_count * 3 * EF_MAX_SET_TEXT;
    char *t = ef_malloc(cap);
    if (t) {
        size_t n = (size_t)snprintf(t, cap, "einflow sweep point 1\narch %s\nworkload %s\n"
                                    "mapping %s\nobjective %d\nevaluations %llu\nseed %llu\n"
                                    "confirm %d\ntime_limit %.17g\nengine %d\nfold %d\n"
                                    "layers %s\n",
                                    arch ? arch : s->arch, work ? work : s->workload,
                                    map ? map : s->mapping ? s->mapping : "-",
                                    (int)b->objective, (unsigned long long)b->evaluations,
                                    (unsigned long long)b->seed, b->confirm,
                                    b->time_limit_seconds, (int)b->sim.engine,
                                    (int)b->sim.fold_model, b->layers ? b->layers : "-");
        for (int k = 0; k < b->set_count && n < cap; k++)
            n += (size_t)snprintf(t + n, cap - n, "set %s=%llu\n", b->set[k].name,
                                  (unsigned long long)b->set[k].value);
        for (int k = 0; k < b->arch_count && n < cap; k++)
            n += (size_t)snprintf(t + n, cap - n, "set arch.%s=%s\n", b->arch[k].path,
                                  b->arch[k].value);
        for (int k = 0; k < b->einsum_dataflow_count && n < cap; k++)
            n += (size_t)snprintf(t + n, cap - n, "einsum-dataflow %s\n", b->einsum_dataflow[k]);
    }
    free(arch);
    free(work);
    free(map);
    return t;
}

static const char *point_dataflow(const ef_sweep_spec *s, int df) {
    return s->mapping ? s->mapping : s->dataflows[df];
}

static void point_key(void *ctx, uint64_t index, char out[40]) {
    const sweep_run *r = ctx;
    const ef_sweep_spec *s = r->spec;
    int which[EF_MAX_SWEEP_AXES], df;
    ef_sweep_point(s, index, which, &df);
    uint64_t h = ef_sweep_hash(r->settings, strlen(r->settings));
    char line[2 * EF_MAX_SET_TEXT + 32];
    int n = snprintf(line, sizeof line, "dataflow %s\n", point_dataflow(s, df));
    h ^= ef_sweep_hash(line, (size_t)n) * 3;
    for (int a = 0; a < s->axis_count; a++) {
        n = snprintf(line, sizeof line, "%s=%s\n", s->axes[a].path,
                     s->axes[a].values[which[a]]);
        h = h * UINT64_C(1099511628211) ^ ef_sweep_hash(line, (size_t)n);
    }
    snprintf(out, 40, "%llu-%016llx", (unsigned long long)index, (unsigned long long)h);
}

/* The command line's options with the point's values put in: an axis
 * replaces a --set of the same path. */
static bool point_search(const sweep_run *r, const int *which, ef_cli_search *s, ef_diags *d) {
    *s = *r->base;
    s->threads = r->inner_threads;
    s->progress = false;
    const ef_sweep_spec *sp = r->spec;
    for (int a = 0; a < sp->axis_count; a++) {
        const ef_sweep_axis *ax = &sp->axes[a];
        if (ax->is_arch) {
            ef_cli_arch_value v = {.line = ax->value_locs[which[a]].line,
                                   .col = ax->value_locs[which[a]].col};
            snprintf(v.path, sizeof v.path, "%s", ax->path + 5);
            snprintf(v.value, sizeof v.value, "%s", ax->values[which[a]]);
            snprintf(v.origin, sizeof v.origin, "%s", sp->file);
            char why[EF_MAX_SET_TEXT + 64];
            if (!ef_cli_add_arch_set(s, &v, true, why, sizeof why)) {
                ef_diags_add(d, sp->file, ax->loc.line, ax->loc.col, ax->path, NULL, NULL,
                             "%s", why);
                return false;
            }
            continue;
        }
        uint64_t v = ax->numbers[which[a]];
        int k = 0;
        while (k < s->set_count && strcmp(s->set[k].name, ax->path)) k++;
        if (k == s->set_count) {
            size_t len = strlen(ax->path); /* a parameter's name: checked at load */
            if (k == EF_MAX_PARAMS || len >= sizeof s->set[k].name) {
                ef_diags_add(d, sp->file, ax->loc.line, ax->loc.col, ax->path, NULL, NULL,
                             "at most %d parameters of at most %d bytes may be set",
                             EF_MAX_PARAMS, EF_MAX_NAME - 1);
                return false;
            }
            memcpy(s->set[k].name, ax->path, len + 1);
            s->set_count++;
        }
        s->set[k].value = v;
        if (!strcmp(ax->path, "batch")) s->batch = v;
    }
    return true;
}

/* Runs point index: the line for the file (malloc'd), or an error
 * line; *failed says which. */
static char *run_point(const sweep_run *r, uint64_t index, bool *failed, char **diag_text) {
    const ef_sweep_spec *sp = r->spec;
    int which[EF_MAX_SWEEP_AXES], dfi;
    ef_sweep_point(sp, index, which, &dfi);
    ef_diags *d = ef_diags_create();
    ef_cli_search *s = ef_malloc(sizeof *s);
    const char *paths[EF_MAX_SWEEP_AXES], *values[EF_MAX_SWEEP_AXES];
    bool numeric[EF_MAX_SWEEP_AXES];
    for (int a = 0; a < sp->axis_count; a++) {
        paths[a] = sp->axes[a].path;
        values[a] = sp->axes[a].values[which[a]];
        numeric[a] = !sp->axes[a].is_arch;
    }
    char key[40];
    point_key((void *)r, index, key);
    ef_sweep_point_meta meta = {.index = index, .key = key, .axis_paths = paths,
                                .axis_values = values, .axis_numeric = numeric,
                                .axis_count = sp->axis_count,
                                .dataflow = sp->mapping ? sp->mapping : r->dfs[dfi]->name};
    char *line = NULL;
    int code = EF_EXIT_INTERNAL;
    ef_arch_spec *arch = NULL;
    ef_cli_layers L;
    memset(&L, 0, sizeof L);
    ef_cli_choice choice;
    memset(&choice, 0, sizeof choice);
    ef_cli_outcome out;
    memset(&out, 0, sizeof out);
    if (d && s && point_search(r, which, s, d)) {
        arch = ef_cli_load_arch(sp->arch, s, d);
        bool ok = ef_cli_layers_load(&L, sp->workload, s, d);
        ok = ok && arch && ef_cli_choice_load(&choice, s, &L, arch, d);
        code = EF_EXIT_INPUT;
        if (ok)
            code = ef_cli_execute(arch, &L, sp->mapping ? NULL : r->dfs[dfi], r->ms, &choice, s,
                                  true, sp->mapping, NULL, &out, d);
        if (code == EF_EXIT_OK) line = ef_report_sweep_point(out.layers, out.layer_count, &meta);
    }
    *failed = code != EF_EXIT_OK;
    if (*failed) {
        char *text = d ? ef_diags_render(d) : NULL;
        const char *why = text && text[0] ? text
                          : code == EF_EXIT_INTERNAL ? "a limit of the simulator was hit, or memory ran out"
                                                     : "bad input";
        line = ef_report_sweep_error(&meta, why);
        *diag_text = text;
    }
    ef_cli_outcome_free(&out);
    ef_cli_choice_free(&choice);
    ef_cli_layers_free(&L);
    ef_arch_spec_destroy(arch);
    ef_diags_destroy(d);
    free(s);
    return line;
}

static void draw_progress(sweep_run *r) {
    double t = ef_now_seconds() - r->t0;
    uint64_t done = r->ran, total = r->todo_count;
    int width = 30, fill = total ? (int)((double)width * (double)done / (double)total) : width;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    char eta[32] = "";
    if (done > 0 && done < total)
        snprintf(eta, sizeof eta, ", ETA %.0f s", t / (double)done * (double)(total - done));
    fprintf(stderr, "\r\033[K  [%s] %llu/%llu points, %.1f s%s", bar, (unsigned long long)done,
            (unsigned long long)total, t, eta);
    fflush(stderr);
    r->drew = true;
}

static void point_task(void *ctx, int i) {
    sweep_run *r = ctx;
    uint64_t index = r->todo[i];
    bool failed = false;
    char *diag = NULL;
    char *line = run_point(r, index, &failed, &diag);
    pthread_mutex_lock(&r->lock);
    /* one write(2) per whole line, so a kill never tears one in the
     * middle of the file; under the lock, so lines never interleave */
    if (!line || !ef_sweep_out_append(r->fd, line)) {
        if (!r->write_failed) r->write_errno = line ? errno : ENOMEM;
        r->write_failed = true;
    }
    r->ran++;
    r->failed += failed;
    if (failed && !r->quiet) {
        if (r->drew) fprintf(stderr, "\r\033[K");
        fprintf(stderr, "einflow sweep: point %llu failed:\n%s", (unsigned long long)index,
                diag && diag[0] ? diag : "(no diagnostic)\n");
    }
    if (r->progress) draw_progress(r);
    pthread_mutex_unlock(&r->lock);
    free(diag);
    free(line);
}

/* --shard K/N */
static bool parse_shard(const char *v, uint64_t *k, uint64_t *n) {
    const char *slash = strchr(v, '/');
    if (!slash) return false;
    char head[32];
    if ((size_t)(slash - v) >= sizeof head) return false;
    snprintf(head, sizeof head, "%.*s", (int)(slash - v), v);
    return ef_cli_parse_u64(head, k) && ef_cli_parse_u64(slash + 1, n) && *n >= 1 &&
           *n <= EF_MAX_SWEEP_POINTS && *k >= 1 && *k <= *n;
}

/* The command line's --set and --layers, checked once against the
 * files before any point runs, so that a typo is one error, not one
 * per point. */
static bool check_base(const ef_sweep_spec *sp, const ef_cli_search *s, ef_diags *d) {
    ef_arch_spec *a = ef_cli_load_arch(sp->arch, s, d);
    ef_cli_layers L;
    bool ok = ef_cli_layers_load(&L, sp->workload, s, d) && a;
    ef_cli_layers_free(&L);
    ef_arch_spec_destroy(a);
    return ok;
}

int ef_cli_sweep(int argc, char **argv) {
    ef_cli_search *search = ef_malloc(sizeof *search);
    if (!search) return EF_EXIT_INTERNAL;
    ef_cli_search_defaults(search);
    const char *file = NULL, *out_path = NULL, *csv_path = NULL;
    bool quiet = false, pareto = false;
    uint64_t shard_k = 1, shard_n = 1;
    int code = EF_EXIT_OK;
    for (int i = 0; i < argc && code == EF_EXIT_OK; i++) {
        const char *a = argv[i];
        int used = ef_cli_search_option(search, argc, argv, i, "sweep", sweep_usage);
        if (used < 0) {
            code = EF_EXIT_USAGE;
            break;
        }
        if (used > 0) {
            if (!strcmp(a, "--dataflow"))
                code = ef_cli_usage_error("sweep", sweep_usage, "--dataflow: the sweep file "
                                          "names the dataflows (dataflow: [ws, os])");
            i += used - 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(sweep_usage, stdout);
            free(search);
            return EF_EXIT_OK;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--csv") || !strcmp(a, "--shard")) {
            if (++i >= argc) {
                code = ef_cli_usage_error("sweep", sweep_usage, "%s needs a value", a);
            } else if (!strcmp(a, "-o")) {
                out_path = argv[i];
            } else if (!strcmp(a, "--csv")) {
                csv_path = argv[i];
            } else if (!parse_shard(argv[i], &shard_k, &shard_n)) {
                code = ef_cli_usage_error("sweep", sweep_usage, "--shard expects K/N with "
                                          "1 <= K <= N, e.g. --shard 2/8, found \"%s\"", argv[i]);
            }
        } else if (!strcmp(a, "--pareto")) {
            pareto = true;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = true;
        } else if (a[0] == '-' && a[1]) {
            static const char *const known[] = {"--help", "--csv", "--pareto", "--shard",
                                                "--quiet", EF_CLI_SEARCH_FLAGS};
            code = ef_cli_unknown_option("sweep", a, known, (int)(sizeof known / sizeof known[0]));
        } else if (!file) {
            file = a;
        } else {
            code = ef_cli_usage_error("sweep", sweep_usage, "unexpected argument \"%s\": sweep "
                                      "takes one sweep file", a);
        }
    }
    if (code == EF_EXIT_OK && !file)
        code = ef_cli_usage_error("sweep", sweep_usage, "expected a sweep file");
    if (code == EF_EXIT_OK && (!out_path || !strcmp(out_path, "-")))
        code = ef_cli_usage_error("sweep", sweep_usage, "-o FILE is required: the points go to "
                                  "a file, which a second run resumes");
    if (code != EF_EXIT_OK) {
        free(search);
        return code;
    }

    double t0 = ef_now_seconds();
    ef_diags *d = ef_diags_create();
    ef_sweep_spec *sp = d ? ef_spec_load_sweep(file, d) : NULL;
    sweep_run r = {.spec = sp, .base = search, .quiet = quiet, .fd = -1, .t0 = t0};
    pthread_mutex_init(&r.lock, NULL);
    ef_mapping_spec *ms = NULL;
    bool *done = NULL;
    char why[1024];
    if (!sp || !check_base(sp, search, d)) {
        code = EF_EXIT_INPUT;
        goto finish;
    }
    r.dfs = ef_calloc((size_t)sp->dataflow_count + 1, sizeof *r.dfs);
    bool loaded = r.dfs != NULL;
    for (int k = 0; loaded && k < sp->dataflow_count; k++)
        loaded = (r.dfs[k] = ef_cli_load_dataflow(sp->dataflows[k], d)) != NULL;
    if (loaded && sp->mapping) loaded = (r.ms = ms = ef_spec_load_mapping(sp->mapping, d)) != NULL;
    r.settings = common_settings(sp, search);
    done = ef_calloc((size_t)sp->point_count + 1, sizeof *done);
    r.todo = ef_calloc((size_t)sp->point_count + 1, sizeof *r.todo);
    if (!loaded || !r.settings || !done || !r.todo) {
        code = loaded ? EF_EXIT_INTERNAL : EF_EXIT_INPUT;
        goto finish;
    }
    uint64_t before = 0, mine = 0;
    ef_status opened = ef_sweep_out_open(out_path, sp->point_count, point_key, &r, done,
                                         &before, &r.fd, why, sizeof why);
    if (opened != EF_OK) {
        fprintf(stderr, "einflow sweep: %s\n", why);
        code = ef_cli_status(d, opened);
        goto finish;
    }
    /* this shard's points, by index: the union over K is every point */
    for (uint64_t i = shard_k - 1; i < sp->point_count; i += shard_n) {
        mine++;
        if (!done[i]) r.todo[r.todo_count++] = i;
    }
    int threads = search->threads;
    r.inner_threads = r.todo_count > 0 && (uint64_t)threads > r.todo_count
                          ? (int)((uint64_t)threads / r.todo_count) : 1;
    r.progress = !quiet && isatty(STDERR_FILENO) && r.todo_count > 0;
    if (r.progress) draw_progress(&r);
    ef_status st = r.todo_count > INT_MAX ? EF_ERR_OVERFLOW
                   : ef_parallel_for((int)r.todo_count, threads, point_task, &r);
    if (r.drew) fprintf(stderr, "\r\033[K");
    close(r.fd);
    r.fd = -1;
    if (st != EF_OK || r.write_failed) {
        if (r.write_failed)
            fprintf(stderr, "einflow sweep: cannot write %s: %s\n", out_path,
                    strerror(r.write_errno));
        code = r.write_failed ? EF_EXIT_IO : ef_cli_status(d, st);
        goto finish;
    }
    const char *paths[EF_MAX_SWEEP_AXES];
    for (int a = 0; a < sp->axis_count; a++) paths[a] = sp->axes[a].path;
    ef_sweep_finish fin = {.axis_paths = paths, .axis_count = sp->axis_count, .pareto = pareto,
                           .csv_path = csv_path};
    uint64_t points, on_front, failed;
    if (!ef_sweep_out_finish(out_path, &fin, &points, &on_front, &failed, why, sizeof why)) {
        fprintf(stderr, "einflow sweep: %s\n", why);
        code = EF_EXIT_IO;
        goto finish;
    }
    if (!quiet) {
        printf("sweep %s: %llu point%s", file, (unsigned long long)mine, mine == 1 ? "" : "s");
        if (shard_n > 1)
            printf(" (shard %llu of %llu, of %llu in all)", (unsigned long long)shard_k,
                   (unsigned long long)shard_n, (unsigned long long)sp->point_count);
        printf(": %llu run, %llu done before, in %.1f s\n", (unsigned long long)r.todo_count,
               (unsigned long long)(mine - r.todo_count), ef_now_seconds() - t0);
        printf("%llu point%s in %s", (unsigned long long)points, points == 1 ? "" : "s",
               out_path);
        if (pareto)
            printf(", %llu on the cycles-energy-area front", (unsigned long long)on_front);
        if (csv_path) printf("; CSV in %s", csv_path);
        printf("\n");
    }
    if (failed) {
        fprintf(stderr, "einflow sweep: %llu point%s failed; %s: their lines carry an error "
                "field\n", (unsigned long long)failed, failed == 1 ? "" : "s", out_path);
        code = EF_EXIT_INPUT;
    }
finish:
    code = ef_cli_finish(d, code);
    if (r.fd >= 0) close(r.fd);
    for (int k = 0; sp && r.dfs && k < sp->dataflow_count; k++) ef_dataflow_spec_destroy(r.dfs[k]);
    free(r.dfs);
    free(r.settings);
    free(r.todo);
    free(done);
    ef_mapping_spec_destroy(ms);
    ef_sweep_spec_destroy(sp);
    ef_diags_destroy(d);
    pthread_mutex_destroy(&r.lock);
    free(search);
    return code;
}
