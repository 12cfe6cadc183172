/* What the CLI's commands share: printing diagnostics, exit codes,
 * usage errors, and the options of the engine and the mapper. */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ef_cli_print_diags(ef_diags *d) {
    if (!d || (d->count == 0 && !d->out_of_memory)) return;
    char *text = d->count ? ef_diags_render(d) : NULL;
    if (text) fputs(text, stderr);
    else fputs("einflow: error: out of memory\n", stderr);
    free(text);
}

int ef_cli_out_of_memory(ef_diags *d) {
    ef_diags_out_of_memory(d, "");
    return EF_EXIT_INTERNAL;
}

int ef_cli_status(ef_diags *d, ef_status st) {
    if (st == EF_ERR_NOMEM) ef_diags_out_of_memory(d, "");
    return ef_cli_exit_code(st);
}

int ef_cli_no_diags(void) {
    fputs("einflow: error: out of memory\n", stderr);
    return EF_EXIT_INTERNAL;
}

int ef_cli_finish(ef_diags *d, int code) {
    ef_cli_print_diags(d);
    return d && d->out_of_memory ? EF_EXIT_INTERNAL : code;
}

int ef_cli_exit_code(ef_status st) {
    switch (st) {
    case EF_OK: return EF_EXIT_OK;
    case EF_ERR_USAGE: return EF_EXIT_USAGE;
    case EF_ERR_SPEC:
    case EF_ERR_MAPPING: return EF_EXIT_INPUT;
    case EF_ERR_VALUES: return EF_EXIT_VALUES;
    case EF_ERR_IO: return EF_EXIT_IO;
    default: return EF_EXIT_INTERNAL;
    }
}

int ef_cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "einflow %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\n%s", usage);
    return EF_EXIT_USAGE;
}

int ef_cli_unknown_option(const char *cmd, const char *arg, const char *const *known,
                          int count) {
    const char *s = ef_suggest(arg, known, (size_t)count);
    fprintf(stderr, "einflow %s: unknown option \"%s\"%s%s%s\n", cmd, arg,
            s ? "; did you mean \"" : "", s ? s : "", s ? "\"?" : "");
    return EF_EXIT_USAGE;
}

bool ef_cli_write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return false;
    bool ok = fputs(text, f) >= 0 && (text[0] == 0 || text[strlen(text) - 1] == '\n' ||
                                     fputc('\n', f) != EOF);
    return fclose(f) == 0 && ok;
}

bool ef_cli_parse_u64(const char *s, uint64_t *out) {
    if (!s[0] || s[0] == '-' || s[0] == '+') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno) return false;
    *out = v;
    return true;
}

void ef_cli_search_defaults(ef_cli_search *s) {
    memset(s, 0, sizeof *s);
    s->objective = EF_OBJECTIVE_EDP;
    s->seed = 1;
    s->evaluations = EF_MAP_DEFAULT_EVALUATIONS;
    s->confirm = EF_MAP_DEFAULT_CONFIRM;
    s->sim.engine = EF_ENGINE_EVENT;
    s->sim.fold_model = EF_FOLD_OVERLAP;
    s->sim.seed = 1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    s->threads = cores > 0 ? (int)cores : 1;
    s->progress = true;
}

static bool is_identifier(const char *s, size_t len) {
    if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return false;
    for (size_t i = 1; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') return false;
    return true;
}

bool ef_cli_parse_set(const char *arg, ef_param_value *out, char *why, size_t size) {
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    uint64_t v = 0;
    if (!eq) {
        snprintf(why, size, "--set expects NAME=VALUE, e.g. --set seq=4096, found \"%s\"", arg);
        return false;
    }
    if (!is_identifier(arg, len) || len >= EF_MAX_NAME) {
        /* a key path that does not start with arch. is a slip for it */
        const char *dot = memchr(arg, '.', len);
        snprintf(why, size, "--set expects a parameter name (letters, digits and _, not "
                 "starting with a digit) or an architecture path arch.KEY... before \"=\", "
                 "found \"%.*s\"%s", (int)len, arg,
                 dot ? "; did you mean \"arch.\" at its start?" : "");
        return false;
    }
    if (!ef_cli_parse_u64(eq + 1, &v) || v < 1 || v > EF_MAX_PARAM_VALUE) {
        snprintf(why, size, "--set %.*s expects an integer from 1 to 2^63 - 1 after \"=\", "
                 "found \"%s\"", (int)len, arg, eq + 1);
        return false;
    }
    memcpy(out->name, arg, len);
    out->name[len] = '\0';
    out->value = v;
    return true;
}

bool ef_cli_parse_arch_set(const char *arg, ef_cli_arch_value *out, char *why, size_t size) {
    const char *path = arg + 5, *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - path) : 0;
    memset(out, 0, sizeof *out);
    if (!eq || len == 0 || !eq[1]) {
        snprintf(why, size, "--set expects arch.PATH=VALUE, e.g. --set arch.pe_array.rows=16, "
                 "found \"%s\"", arg);
        return false;
    }
    if (len >= sizeof out->path || strlen(eq + 1) >= sizeof out->value) {
        snprintf(why, size, "--set %.*s: the path and the value are at most %d bytes each",
                 (int)(len + 5), arg, EF_MAX_SET_TEXT - 1);
        return false;
    }
    memcpy(out->path, path, len);
    snprintf(out->value, sizeof out->value, "%s", eq + 1);
    snprintf(out->origin, sizeof out->origin, "--set arch.%s", out->path);
    return true;
}

bool ef_cli_add_arch_set(ef_cli_search *s, const ef_cli_arch_value *v, bool replace, char *why,
                         size_t size) {
    for (int k = 0; k < s->arch_count; k++)
        if (!strcmp(s->arch[k].path, v->path)) {
            if (replace) {
                s->arch[k] = *v;
                return true;
            }
            snprintf(why, size, "--set arch.%s is given twice", v->path);
            return false;
        }
    if (s->arch_count == EF_MAX_ARCH_SETS) {
        snprintf(why, size, "--set: at most %d architecture paths may be set", EF_MAX_ARCH_SETS);
        return false;
    }
    s->arch[s->arch_count++] = *v;
    return true;
}

int ef_cli_arch_sets(const ef_cli_search *s, ef_arch_set out[EF_MAX_ARCH_SETS]) {
    for (int k = 0; k < s->arch_count; k++)
        out[k] = (ef_arch_set){.path = s->arch[k].path, .value = s->arch[k].value,
                               .origin = s->arch[k].origin, .line = s->arch[k].line,
                               .col = s->arch[k].col};
    return s->arch_count;
}

ef_arch_spec *ef_cli_load_arch(const char *path, const ef_cli_search *s, ef_diags *d) {
    ef_arch_set sets[EF_MAX_ARCH_SETS];
    int n = ef_cli_arch_sets(s, sets);
    return ef_spec_load_arch_set(path, sets, n, d);
}

/* --set NAME=VALUE, or --batch N (the same as --set batch=N): each
 * parameter once, so that a command line says one thing. */
static bool set_param(ef_cli_search *s, const char *opt, const char *v, const char *cmd,
                      const char *usage) {
    ef_param_value pv = {.name = "batch"};
    char why[EF_MAX_SET_TEXT + 320];
    if (!strcmp(opt, "--set") && !strncmp(v, "arch.", 5)) {
        ef_cli_arch_value av;
        if (!ef_cli_parse_arch_set(v, &av, why, sizeof why) ||
            !ef_cli_add_arch_set(s, &av, false, why, sizeof why)) {
            ef_cli_usage_error(cmd, usage, "%s", why);
            return false;
        }
        return true;
    }
    if (!strcmp(opt, "--batch")) {
        if (!ef_cli_parse_u64(v, &pv.value) || pv.value < 1 || pv.value > EF_MAX_PARAM_VALUE) {
            ef_cli_usage_error(cmd, usage, "--batch expects a number of at least 1 (below 2^63), "
                               "found \"%s\"", v);
            return false;
        }
    } else if (!ef_cli_parse_set(v, &pv, why, sizeof why)) {
        ef_cli_usage_error(cmd, usage, "%s", why);
        return false;
    }
    for (int k = 0; k < s->set_count; k++)
        if (!strcmp(s->set[k].name, pv.name)) {
            ef_cli_usage_error(cmd, usage, "the parameter %s is set twice (by --set%s)", pv.name,
                               strcmp(pv.name, "batch") ? "" : " or --batch");
            return false;
        }
    if (s->set_count == EF_MAX_PARAMS) {
        ef_cli_usage_error(cmd, usage, "--set: at most %d parameters may be set", EF_MAX_PARAMS);
        return false;
    }
    s->set[s->set_count++] = pv;
    if (!strcmp(pv.name, "batch")) s->batch = pv.value;
    return true;
}

/* --einsum-dataflow NAME=DF: the shape only; whether an Einsum writes
 * NAME and DF exists is for the loaders to say, with "did you mean". */
static bool einsum_dataflow(ef_cli_search *s, const char *v, const char *cmd,
                            const char *usage) {
    const char *eq = strchr(v, '=');
    size_t len = eq ? (size_t)(eq - v) : 0;
    if (!eq || !is_identifier(v, len) || len >= EF_MAX_NAME || !eq[1]) {
        ef_cli_usage_error(cmd, usage, "--einsum-dataflow expects NAME=DATAFLOW, the output "
                           "of an Einsum and a dataflow, e.g. --einsum-dataflow MX=vector, "
                           "found \"%s\"", v);
        return false;
    }
    for (int k = 0; k < s->einsum_dataflow_count; k++)
        if (!strncmp(s->einsum_dataflow[k], v, len + 1)) {
            ef_cli_usage_error(cmd, usage, "--einsum-dataflow gives the Einsum %.*s twice",
                               (int)len, v);
            return false;
        }
    if (s->einsum_dataflow_count == EF_MAX_EINSUMS) {
        ef_cli_usage_error(cmd, usage, "--einsum-dataflow: at most %d Einsums may be given",
                           EF_MAX_EINSUMS);
        return false;
    }
    s->einsum_dataflow[s->einsum_dataflow_count++] = v;
    return true;
}

int ef_cli_search_option(ef_cli_search *s, int argc, char **argv, int i, const char *cmd,
                         const char *usage) {
    const char *a = argv[i];
    static const char *const with_value[] = {EF_CLI_SEARCH_FLAGS};
    bool known = false;
    for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
        known |= !strcmp(a, with_value[k]);
    if (!known) return 0;
    if (i + 1 >= argc) {
        ef_cli_usage_error(cmd, usage, "%s needs a value", a);
        return -1;
    }
    const char *v = argv[i + 1];
    uint64_t u;
    if (!strcmp(a, "--dataflow")) {
        s->dataflow = v;
    } else if (!strcmp(a, "--objective")) {
        if (!ef_objective_parse(v, &s->objective)) {
            ef_cli_usage_error(cmd, usage,
                               "--objective expects latency, energy or edp, found \"%s\"", v);
            return -1;
        }
    } else if (!strcmp(a, "--evaluations")) {
        if (!ef_cli_parse_u64(v, &u) || u < 1 || u > (UINT64_C(1) << 32)) {
            ef_cli_usage_error(cmd, usage,
                               "--evaluations expects a number from 1 to 2^32, found \"%s\"", v);
            return -1;
        }
        s->evaluations = u;
    } else if (!strcmp(a, "--time-limit")) {
        char *end;
        double t = strtod(v, &end);
        if (*end || !(t > 0) || t > 1e6) {
            ef_cli_usage_error(cmd, usage,
                               "--time-limit expects seconds greater than 0, found \"%s\"", v);
            return -1;
        }
        s->time_limit_seconds = t;
    } else if (!strcmp(a, "--confirm")) {
        if (!ef_cli_parse_u64(v, &u) || u > 100) {
            ef_cli_usage_error(cmd, usage,
                               "--confirm expects a number from 0 to 100, found \"%s\"", v);
            return -1;
        }
        s->confirm = (int)u;
    } else if (!strcmp(a, "--seed")) {
        if (!ef_cli_parse_u64(v, &u)) {
            ef_cli_usage_error(cmd, usage,
                               "--seed expects a non-negative integer, found \"%s\"", v);
            return -1;
        }
        s->seed = s->sim.seed = u;
    } else if (!strcmp(a, "--layers")) {
        s->layers = v;
    } else if (!strcmp(a, "--batch") || !strcmp(a, "--set")) {
        if (!set_param(s, a, v, cmd, usage)) return -1;
    } else if (!strcmp(a, "--einsum-dataflow")) {
        if (!einsum_dataflow(s, v, cmd, usage)) return -1;
    } else if (!strcmp(a, "--threads")) {
        if (!ef_cli_parse_u64(v, &u) || u < 1 || u > 1024) {
            ef_cli_usage_error(cmd, usage,
                               "--threads expects a number from 1 to 1024, found \"%s\"", v);
            return -1;
        }
        s->threads = (int)u;
    } else if (!strcmp(a, "--engine")) {
        if (!strcmp(v, "step")) s->sim.engine = EF_ENGINE_STEP;
        else if (!strcmp(v, "event")) s->sim.engine = EF_ENGINE_EVENT;
        else {
            ef_cli_usage_error(cmd, usage, "--engine expects event or step, found \"%s\"", v);
            return -1;
        }
    } else if (!strcmp(a, "--fold-model")) {
        if (!strcmp(v, "overlap")) s->sim.fold_model = EF_FOLD_OVERLAP;
        else if (!strcmp(v, "scalesim")) s->sim.fold_model = EF_FOLD_SCALESIM;
        else {
            ef_cli_usage_error(cmd, usage,
                               "--fold-model expects overlap or scalesim, found \"%s\"", v);
            return -1;
        }
    }
    return 2;
}

ef_dataflow_spec *ef_cli_load_dataflow(const char *name, ef_diags *d) {
    if (!name) name = "free";
    size_t len = strlen(name);
    bool file = strchr(name, '/') || (len > 5 && !strcmp(name + len - 5, ".yaml")) ||
                (len > 4 && !strcmp(name + len - 4, ".yml"));
    return file ? ef_spec_load_dataflow(name, d) : ef_spec_builtin_dataflow(name, d);
}

void ef_cli_search_map_options(const ef_cli_search *s, const ef_dataflow_spec *df,
                               ef_map_options *out) {
    memset(out, 0, sizeof *out);
    out->dataflow = df;
    out->objective = s->objective;
    out->seed = s->seed;
    out->evaluations = s->evaluations;
    out->time_limit_seconds = s->time_limit_seconds;
    out->confirm = s->confirm;
    out->sim = s->sim;
}
