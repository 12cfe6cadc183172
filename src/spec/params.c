/* einflow spec stage — network parameters and the rank bounds written
 * over them (spec/params.h): the params: table, the caller's values
 * (--set), and a small recursive-descent evaluator for bounds such as
 * seq/16 or (heads/kv_heads)*2.
 *
 *   sum     := product (("+" | "-") product)*
 *   product := operand (("*" | "/") operand)*
 *   operand := INTEGER | PARAMETER | "(" sum ")"
 *
 * The evaluator records its first error with the offset of the
 * character at fault, so the diagnostic's caret lands on the operator
 * or name inside the YAML scalar, not just at its start. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "spec/params.h"

#define MAX_FOUND_CHARS 40    /* of a token quoted in "found ..."       */

/* ---------- the table ---------- */

void wl_params_init(wl_params *p) {
    memset(p, 0, sizeof *p);
    snprintf(p->items[0].name, sizeof p->items[0].name, "batch");
    p->items[0].value = 1;
    p->count = 1;
}

void wl_params_set_batch(wl_params *p, const char *file, const yt_node *key,
                         uint64_t batch) {
    p->items[0].value = batch;
    p->items[0].loc = yt_loc(file, key);
}

static int find_param(const wl_params *p, const char *name, size_t len) {
    for (int i = 0; i < p->count; i++)
        if (strlen(p->items[i].name) == len &&
            strncmp(p->items[i].name, name, len) == 0)
            return i;
    return -1;
}

static size_t param_names(const wl_params *p, const char **names) {
    for (int i = 0; i < p->count; i++)
        names[i] = p->items[i].name;
    return (size_t)p->count;
}

/* "batch, seq, ctx" */
static void list_params(const wl_params *p, char *buf, size_t size) {
    const char *names[EF_MAX_PARAMS];
    yt_join(buf, size, names, param_names(p, names));
}

/* "did you mean ..." for a name that is not a parameter, or how to
 * make it one. */
static void unknown_name_hint(const wl_params *p, const char *name,
                              char *hint, size_t size) {
    const char *names[EF_MAX_PARAMS];
    const char *best = ef_suggest(name, names, param_names(p, names));
    if (best)
        snprintf(hint, size, "did you mean \"%s\"?", best);
    else
        snprintf(hint, size, "a file declares its parameters under params:, "
                             "e.g. params: {%s: 1}", name);
}

/* Where a division or sign went wrong, the values in play say why:
 * "parameters in use: batch = 1, seq = 100 (set)". */
static void values_hint(const wl_params *p, char *hint, size_t size) {
    size_t at = (size_t)snprintf(hint, size, "parameters in use:");
    for (int i = 0; i < p->count && at < size; i++)
        at += (size_t)snprintf(hint + at, size - at, "%s %s = %llu%s",
                               i ? "," : "", p->items[i].name,
                               (unsigned long long)p->items[i].value,
                               p->items[i].overridden ? " (set)" : "");
}

/* Counts params: entries, batch aside, against the limit (which counts
 * batch, always present). */
static bool params_fit(yt_doc *d, const yt_node *map) {
    size_t others = 0;
    for (size_t i = 0; i < map->count; i++)
        others += strcmp(map->pairs[i].key->text, "batch") != 0;
    if (others + 1 <= EF_MAX_PARAMS)
        return true;
    yt_error(d, map, "params", NULL,
             "expected at most %d parameters (batch included), found %zu",
             EF_MAX_PARAMS, others + 1);
    return false;
}

/* One NAME: value entry of params:. */
static void load_param(yt_doc *d, const yt_pair *pair, const char *file,
                       bool batch_given, wl_params *p) {
    char kp[YT_MAX_PATH], name[EF_MAX_NAME], found[96];
    yt_path_key(kp, sizeof kp, "params", pair->key->text);
    uint64_t value = 0;
    bool ok = yt_name(d, pair->key, "params", name);
    ok = yt_u64(d, pair->value, kp, 1, UINT64_MAX, &value) && ok;
    if (!ok)
        return;
    if (value > EF_MAX_PARAM_VALUE) {
        yt_error(d, pair->value, kp, NULL,
                 "expected a positive integer below 2^63, found %s",
                 yt_describe(pair->value, found, sizeof found));
        return;
    }
    ef_param_spec *ps;
    if (strcmp(name, "batch") == 0) {
        if (batch_given) {
            yt_error(d, pair->key, kp,
                     "batch: N at the top level is short for params: "
                     "{batch: N}; keep one of them",
                     "expected batch either at the top level or under "
                     "params, found both");
            return;
        }
        ps = &p->items[0];
    } else {
        ps = &p->items[p->count++]; /* params_fit counted the room */
        snprintf(ps->name, sizeof ps->name, "%s", name);
    }
    ps->value = value;
    ps->loc = yt_loc(file, pair->key);
}

void wl_params_load(yt_doc *d, const yt_node *key, const yt_node *map,
                    const char *file, bool batch_given, wl_params *p) {
    p->declared = true;
    p->key = key;
    if (!params_fit(d, map))
        return;
    for (size_t i = 0; i < map->count; i++)
        load_param(d, &map->pairs[i], file, batch_given, p);
}

static void unknown_override(yt_doc *d, const wl_params *p,
                             const char *name) {
    char list[256], hint[160];
    const char *names[EF_MAX_PARAMS];
    const char *best = ef_suggest(name, names, param_names(p, names));
    list_params(p, list, sizeof list);
    if (best)
        snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
    else
        snprintf(hint, sizeof hint, "%s",
                 p->declared ? "" : "the file declares no params:, so batch "
                                    "is its only parameter");
    yt_error(d, p->key, p->key ? "params" : "", hint[0] ? hint : NULL,
             "expected a parameter of this file to set (%s), found \"%s\"",
             list, name);
}

void wl_params_override(yt_doc *d, const ef_param_value *set, int count,
                        wl_params *p) {
    for (int i = 0; i < count; i++) {
        const ef_param_value *s = &set[i];
        int k = find_param(p, s->name, strnlen(s->name, sizeof s->name));
        if (k < 0) {
            unknown_override(d, p, s->name);
            continue;
        }
        if (s->value < 1 || s->value > EF_MAX_PARAM_VALUE) {
            yt_error(d, NULL, "", NULL,
                     "expected a value from 1 to 2^63 - 1 to set %s to, "
                     "found %llu",
                     s->name, (unsigned long long)s->value);
            continue;
        }
        p->items[k].value = s->value;
        p->items[k].overridden = true;
    }
}

/* ---------- bound expressions ---------- */

typedef struct {
    const char *text;
    size_t at;                   /* next character                       */
    int depth;                   /* open parentheses                     */
    int col;                     /* column of text[0] in the file        */
    const wl_params *params;
    bool failed;                 /* the first error is kept, the rest of
                                    the walk only unwinds                */
    size_t err_at;               /* offset of the character at fault     */
    char msg[256];
    char hint[512];
} bound_expr;

static void expr_fail(bound_expr *e, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void expr_fail(bound_expr *e, size_t at, const char *fmt, ...) {
    if (e->failed)
        return;
    e->failed = true;
    e->err_at = at;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

static bool word_char(char c) {
    return isalnum((unsigned char)c) || c == '_';
}

static void skip_spaces(bound_expr *e) {
    while (e->text[e->at] == ' ' || e->text[e->at] == '\t')
        e->at++;
}

/* The token at `at` as "found" shows it: a whole word or number, one
 * other character, or the end. */
static const char *describe_at(const bound_expr *e, size_t at, char *buf,
                               size_t size) {
    const char *s = e->text + at;
    if (!*s) {
        snprintf(buf, size, "the end");
        return buf;
    }
    size_t n = 1;
    if (word_char(*s))
        while (word_char(s[n]) && n < MAX_FOUND_CHARS)
            n++;
    snprintf(buf, size, "\"%.*s\"", (int)n, s);
    return buf;
}

static int64_t sum(bound_expr *e);

static int64_t number(bound_expr *e) {
    size_t at = e->at;
    int64_t v = 0;
    bool overflow = false;
    for (; isdigit((unsigned char)e->text[e->at]); e->at++)
        overflow |= __builtin_mul_overflow(v, 10, &v) ||
                    __builtin_add_overflow(v, e->text[e->at] - '0', &v);
    if (overflow)
        expr_fail(e, at, "expected a number below 2^63, found \"%.*s\"",
                  (int)(e->at - at), e->text + at);
    return v;
}

static int64_t parameter(bound_expr *e) {
    size_t at = e->at;
    while (word_char(e->text[e->at]))
        e->at++;
    size_t len = e->at - at;
    int k = find_param(e->params, e->text + at, len);
    if (k >= 0)
        return (int64_t)e->params->items[k].value;
    char list[256], name[EF_MAX_NAME];
    snprintf(name, sizeof name, "%.*s", (int)len, e->text + at);
    list_params(e->params, list, sizeof list);
    unknown_name_hint(e->params, name, e->hint, sizeof e->hint);
    expr_fail(e, at, "expected a parameter (%s), found \"%.*s\"", list,
              (int)(len < MAX_FOUND_CHARS ? len : MAX_FOUND_CHARS),
              e->text + at);
    return 0;
}

static int64_t parenthesised(bound_expr *e) {
    size_t open = e->at++;
    if (++e->depth > WL_MAX_BOUND_NESTING) {
        expr_fail(e, open, "expected at most %d nested parentheses, found more",
                  WL_MAX_BOUND_NESTING);
        return 0;
    }
    int64_t v = sum(e);
    e->depth--;
    if (e->failed)
        return 0;
    skip_spaces(e);
    if (e->text[e->at] != ')') {
        char found[MAX_FOUND_CHARS + 8];
        snprintf(e->hint, sizeof e->hint, "to close the \"(\" at column %d",
                 e->col + (int)open);
        expr_fail(e, e->at, "expected \")\", found %s",
                  describe_at(e, e->at, found, sizeof found));
        return 0;
    }
    e->at++;
    return v;
}

static int64_t operand(bound_expr *e) {
    skip_spaces(e);
    char c = e->text[e->at];
    if (isdigit((unsigned char)c))
        return number(e);
    if (isalpha((unsigned char)c) || c == '_')
        return parameter(e);
    if (c == '(')
        return parenthesised(e);
    char found[MAX_FOUND_CHARS + 8];
    expr_fail(e, e->at, "expected a number, a parameter or \"(\", found %s",
              describe_at(e, e->at, found, sizeof found));
    return 0;
}

/* l / r, which must leave no remainder: a bound is a whole number. */
static int64_t divide(bound_expr *e, size_t op_at, int64_t l, int64_t r) {
    if (r == 0) {
        expr_fail(e, op_at, "expected a nonzero divisor, found %lld / 0",
                  (long long)l);
        return 0;
    }
    if (l == INT64_MIN && r == -1) {
        expr_fail(e, op_at, "expected a value that fits in 64 bits, found "
                            "%lld / -1", (long long)l);
        return 0;
    }
    if (l % r != 0) {
        values_hint(e->params, e->hint, sizeof e->hint);
        expr_fail(e, op_at, "expected a division without remainder, found "
                            "%lld / %lld (remainder %lld)",
                  (long long)l, (long long)r, (long long)(l % r));
        return 0;
    }
    return l / r;
}

static int64_t product(bound_expr *e) {
    int64_t v = operand(e);
    while (!e->failed) {
        skip_spaces(e);
        char op = e->text[e->at];
        if (op != '*' && op != '/')
            break;
        size_t op_at = e->at++;
        int64_t r = operand(e);
        if (e->failed)
            break;
        int64_t l = v;
        if (op == '/')
            v = divide(e, op_at, l, r);
        else if (__builtin_mul_overflow(l, r, &v))
            expr_fail(e, op_at, "expected a value that fits in 64 bits, "
                                "found %lld * %lld", (long long)l, (long long)r);
    }
    return v;
}

static int64_t sum(bound_expr *e) {
    int64_t v = product(e);
    while (!e->failed) {
        skip_spaces(e);
        char op = e->text[e->at];
        if (op != '+' && op != '-')
            break;
        size_t op_at = e->at++;
        int64_t r = product(e);
        if (e->failed)
            break;
        int64_t l = v;
        bool overflow = op == '+' ? __builtin_add_overflow(l, r, &v)
                                  : __builtin_sub_overflow(l, r, &v);
        if (overflow)
            expr_fail(e, op_at, "expected a value that fits in 64 bits, "
                                "found %lld %c %lld", (long long)l, op,
                      (long long)r);
    }
    return v;
}

/* The whole text as one expression; e->failed says whether it is one. */
static int64_t evaluate(bound_expr *e) {
    int64_t v = sum(e);
    skip_spaces(e);
    if (!e->failed && e->text[e->at]) {
        char found[MAX_FOUND_CHARS + 8];
        expr_fail(e, e->at, "expected an operator (+, -, *, /) or the end, "
                            "found %s",
                  describe_at(e, e->at, found, sizeof found));
    }
    return v;
}

/* ---------- rank bounds ---------- */

static bool plain_scalar(const yt_node *n) {
    return n->kind == YT_SCALAR && !n->quoted && !n->block;
}

/* An operator or a parenthesis makes a bound an expression; a leading
 * minus is a sign, and "-4" stays a (bad) number. */
static bool is_expression(const char *s) {
    return s[0] && (strpbrk(s, "+*/()") || strchr(s + 1, '-'));
}

/* What a misspelt parameter looks like: a hint about names fits it. */
static bool is_name(const char *s) {
    if (!isalpha((unsigned char)s[0]) && s[0] != '_')
        return false;
    while (word_char(*s))
        s++;
    return *s == '\0';
}

static bool decimal_u64(const char *s, uint64_t *out) {
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) || !ef_mul_u64(v, 10, &v) ||
            !ef_add_u64(v, (uint64_t)(*s - '0'), &v))
            return false;
    *out = v;
    return true;
}

/* Whether text reads as a bound once unquoted: then the quotes are the
 * mistake. */
static bool valid_unquoted(const wl_params *p, const char *text) {
    bound_expr e = {.text = text, .params = p};
    return evaluate(&e) >= 1 && !e.failed;
}

static bool bound_error(yt_doc *d, const yt_node *n, const char *path,
                        const wl_params *p) {
    char list[256], found[96], hint[320] = "";
    list_params(p, list, sizeof list);
    if (n->kind == YT_SCALAR && n->quoted && valid_unquoted(p, n->text))
        snprintf(hint, sizeof hint,
                 "write %s without quotes: quoted, it is a string", n->text);
    else if (plain_scalar(n) && is_name(n->text))
        unknown_name_hint(p, n->text, hint, sizeof hint);
    yt_error(d, n, path, hint[0] ? hint : NULL,
             "expected a positive integer or an expression over the "
             "parameters (%s), found %s",
             list, yt_describe(n, found, sizeof found));
    return false;
}

static bool expression_bound(yt_doc *d, const yt_node *n, const char *path,
                             const wl_params *p, uint64_t *out) {
    bound_expr e = {.text = n->text, .params = p, .col = n->col};
    int64_t v = evaluate(&e);
    if (e.failed) {
        yt_error_at(d, n->line, n->col + (int)e.err_at, path,
                    e.hint[0] ? e.hint : NULL, "%s", e.msg);
        return false;
    }
    if (v < 1) {
        char found[96];
        values_hint(p, e.hint, sizeof e.hint);
        yt_error(d, n, path, e.hint, "expected a positive bound, found %s = %lld",
                 yt_describe(n, found, sizeof found), (long long)v);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

/* A bound of one operand in a file with params:: a positive integer or
 * a parameter's name. */
static bool single_bound(yt_doc *d, const yt_node *n, const char *path,
                         const wl_params *p, uint64_t *out, bool *is_batch) {
    if (plain_scalar(n)) {
        uint64_t v = 0;
        if (decimal_u64(n->text, &v) && v >= 1) {
            *out = v;
            return true;
        }
        int k = find_param(p, n->text, n->len);
        if (k >= 0) {
            *out = p->items[k].value;
            *is_batch = k == 0;
            return true;
        }
    }
    return bound_error(d, n, path, p);
}

bool wl_params_bound(yt_doc *d, const yt_node *n, const char *path,
                     const wl_params *p, uint64_t *out, bool *is_batch) {
    *is_batch = false;
    if (!p)
        return yt_u64(d, n, path, 1, UINT64_MAX, out);
    if (n->bad)
        return false;
    if (plain_scalar(n) && is_expression(n->text))
        return expression_bound(d, n, path, p, out);
    if (p->declared)
        return single_bound(d, n, path, p, out, is_batch);
    /* Only batch, as before params existed: the same words. */
    if (!yt_u64_or_word(d, n, path, 1, UINT64_MAX, "batch", out, is_batch))
        return false;
    if (*is_batch)
        *out = p->items[0].value;
    return true;
}
