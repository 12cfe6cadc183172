/* einflow spec stage, internal — typed reads out of a yt_node tree and
 * the strict key check driven by each object's schema table. All the
 * "expected X, found Y" wording of the spec stage lives here so that it
 * stays uniform across the three loaders. */
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/ytree.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------- small helpers ---------- */

const char *yt_describe(const yt_node *n, char *buf, size_t size) {
    const size_t max_text = 40; /* enough to recognise, short for a line */
    if (!n) {
        snprintf(buf, size, "nothing");
    } else if (n->kind == YT_SEQ) {
        snprintf(buf, size, n->count ? "a sequence" : "an empty sequence");
    } else if (n->kind == YT_MAP) {
        snprintf(buf, size, n->count ? "a mapping" : "an empty mapping");
    } else if (!n->quoted && !n->block && n->len == 0) {
        snprintf(buf, size, "nothing");
    } else {
        size_t len = strcspn(n->text, "\r\n");
        bool cut = len < n->len;
        if (len > max_text) {
            len = max_text;
            /* Never cut a UTF-8 sequence in half. */
            while (len > 0 && ((unsigned char)n->text[len] & 0xC0) == 0x80)
                len--;
            cut = true;
        }
        snprintf(buf, size, "%s\"%.*s%s\"", n->quoted ? "the string " : "",
                 (int)len, n->text, cut ? "..." : "");
    }
    return buf;
}

/* Appends s at *at, truncating at size - 1: a clipped path still
 * locates the error, the line and column say the rest. */
static void append(char *buf, size_t size, size_t *at, const char *s) {
    size_t n = strlen(s);
    if (*at + n >= size)
        n = size - 1 - *at;
    memcpy(buf + *at, s, n);
    *at += n;
    buf[*at] = '\0';
}

void yt_path_key(char *buf, size_t size, const char *parent, const char *key) {
    size_t at = 0;
    if (size == 0)
        return;
    buf[0] = '\0';
    if (parent && parent[0]) {
        append(buf, size, &at, parent);
        append(buf, size, &at, ".");
    }
    append(buf, size, &at, key);
}

void yt_path_index(char *buf, size_t size, const char *parent, size_t i) {
    snprintf(buf, size, "%s[%zu]", parent ? parent : "", i);
}

void yt_join(char *buf, size_t size, const char *const *names, size_t n) {
    size_t at = 0;
    if (size == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < n && at < size; i++) {
        int w = snprintf(buf + at, size - at, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        at += (size_t)w;
    }
}

static bool plain_scalar(const yt_node *n) {
    return n->kind == YT_SCALAR && !n->quoted && !n->block;
}

/* Decimal digits only: YAML 1.1 octal/hex/sexagesimal forms are not
 * integers here, whatever libyaml's resolver would say. */
static bool parse_u64(const char *s, size_t len, uint64_t *out) {
    uint64_t v = 0;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (!ef_mul_u64(v, 10, &v) ||
            !ef_add_u64(v, (uint64_t)(s[i] - '0'), &v))
            return false;
    }
    *out = v;
    return true;
}

/* ---------- typed getters ---------- */

/* "a positive integer", "an integer from 1 to 64", ...: what an integer
 * in [min, max] is called in "expected ...". Only bounds a person
 * would choose are spelled out; the type's own limit shows only when a
 * value (too_big) runs into it. */
static void describe_u64_range(char *want, size_t size, uint64_t min,
                               uint64_t max, bool too_big) {
    bool natural = max == UINT64_MAX || max == INT_MAX;
    if (natural && too_big)
        snprintf(want, size, "an integer of at most %llu",
                 (unsigned long long)max);
    else if (!natural)
        snprintf(want, size, "an integer from %llu to %llu",
                 (unsigned long long)min, (unsigned long long)max);
    else if (min == 0)
        snprintf(want, size, "a non-negative integer");
    else if (min == 1)
        snprintf(want, size, "a positive integer");
    else
        snprintf(want, size, "an integer of at least %llu",
                 (unsigned long long)min);
}

static bool u64_in_range(const yt_node *n, uint64_t min, uint64_t max,
                         uint64_t *out, bool *too_big) {
    uint64_t v = 0;
    bool number = plain_scalar(n) && parse_u64(n->text, n->len, &v);
    *too_big = number && v > max;
    if (!number || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool yt_u64(yt_doc *d, const yt_node *n, const char *path, uint64_t min,
            uint64_t max, uint64_t *out) {
    assert(n);
    if (n->bad)
        return false;
    bool too_big = false;
    if (u64_in_range(n, min, max, out, &too_big))
        return true;
    char want[96], found[96];
    describe_u64_range(want, sizeof want, min, max, too_big);
    yt_error(d, n, path, NULL, "expected %s, found %s", want,
             yt_describe(n, found, sizeof found));
    return false;
}

bool yt_u64_or_word(yt_doc *d, const yt_node *n, const char *path,
                    uint64_t min, uint64_t max, const char *word,
                    uint64_t *out, bool *is_word) {
    assert(n && word);
    if (n->bad)
        return false;
    if (plain_scalar(n) && strcmp(n->text, word) == 0) {
        *is_word = true;
        return true;
    }
    bool too_big = false;
    if (u64_in_range(n, min, max, out, &too_big)) {
        *is_word = false;
        return true;
    }
    char want[96], found[96], hint[96];
    describe_u64_range(want, sizeof want, min, max, too_big);
    const char *best =
        n->kind == YT_SCALAR ? ef_suggest(n->text, &word, 1) : NULL;
    if (best && n->quoted && strcmp(n->text, word) == 0)
        snprintf(hint, sizeof hint, "write %s without quotes: quoted, it is a string",
                 word);
    else if (best)
        snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
    yt_error(d, n, path, best ? hint : NULL,
             "expected %s or the word %s, found %s", want, word,
             yt_describe(n, found, sizeof found));
    return false;
}

/* A decimal number as a person writes it: digits, one optional point,
 * an optional exponent. Rules out strtod's "inf", "nan" and hex. */
static bool looks_numeric(const char *s, size_t len) {
    size_t i = 0, digits = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, exp++;
        if (exp == 0)
            return false;
    }
    return i == len;
}

bool yt_num(yt_doc *d, const yt_node *n, const char *path, double min,
            bool exclusive, double *out) {
    assert(n);
    if (n->bad)
        return false;
    if (plain_scalar(n) && looks_numeric(n->text, n->len)) {
        char *end = NULL;
        double v = strtod(n->text, &end);
        if (end == n->text + n->len && isfinite(v) &&
            (exclusive ? v > min : v >= min)) {
            *out = v;
            return true;
        }
    }
    char want[96], found[96];
    if (min == 0)
        snprintf(want, sizeof want, "a %s number",
                 exclusive ? "positive" : "non-negative");
    else
        snprintf(want, sizeof want, "a number %s %g", exclusive ? ">" : ">=",
                 min);
    yt_error(d, n, path, NULL, "expected %s, found %s", want,
             yt_describe(n, found, sizeof found));
    return false;
}

bool yt_real(yt_doc *d, const yt_node *n, const char *path, double *out) {
    assert(n);
    if (n->bad)
        return false;
    if (plain_scalar(n)) {
        static const char *const infinities[] = {"inf", "+inf", "-inf", ".inf",
                                                 "+.inf", "-.inf"};
        for (size_t i = 0; i < sizeof infinities / sizeof infinities[0]; i++)
            if (n->len == strlen(infinities[i]) &&
                memcmp(n->text, infinities[i], n->len) == 0) {
                *out = n->text[0] == '-' ? -INFINITY : INFINITY;
                return true;
            }
        if (looks_numeric(n->text, n->len)) {
            char *end = NULL;
            double v = strtod(n->text, &end);
            if (end == n->text + n->len && isfinite(v)) {
                *out = v;
                return true;
            }
        }
    }
    char found[96];
    yt_error(d, n, path, NULL, "expected a number, inf or -inf, found %s",
             yt_describe(n, found, sizeof found));
    return false;
}

static bool equal_nocase(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

bool yt_bool(yt_doc *d, const yt_node *n, const char *path, bool *out) {
    assert(n);
    if (n->bad)
        return false;
    if (plain_scalar(n) && strcmp(n->text, "true") == 0) {
        *out = true;
        return true;
    }
    if (plain_scalar(n) && strcmp(n->text, "false") == 0) {
        *out = false;
        return true;
    }
    /* YAML 1.1 spellings: libyaml users expect them to work, and a
     * silent string would be worse than an error with the fix. */
    static const char *const yes[] = {"true", "yes", "y", "on"};
    static const char *const no[] = {"false", "no", "n", "off"};
    const char *hint = NULL;
    if (n->kind == YT_SCALAR) {
        for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
            if (equal_nocase(n->text, yes[i]))
                hint = "did you mean \"true\"?";
            if (equal_nocase(n->text, no[i]))
                hint = "did you mean \"false\"?";
        }
    }
    char found[96];
    yt_error(d, n, path, hint, "expected true or false, found %s",
             yt_describe(n, found, sizeof found));
    return false;
}

bool yt_str(yt_doc *d, const yt_node *n, const char *path, const char **out) {
    assert(n);
    if (n->bad)
        return false;
    if (n->kind == YT_SCALAR) {
        *out = n->text;
        return true;
    }
    char found[96];
    yt_error(d, n, path, NULL, "expected a string, found %s",
             yt_describe(n, found, sizeof found));
    return false;
}

/* Identifiers name things other specs refer to (levels, ranks,
 * tensors); labels only name a whole spec for reports, and people
 * write those like file names ("eyeriss-like", "tl-ex01"). */
static bool is_ident(const char *s, size_t len, bool label) {
    if (len == 0 || strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        bool digit = c >= '0' && c <= '9';
        bool punct = i > 0 && (c == '-' || c == '.' || c == '+');
        if (label ? !(alpha || digit || punct) : !(alpha || (digit && i > 0)))
            return false;
    }
    return true;
}

static bool get_name(yt_doc *d, const yt_node *n, const char *path,
                     bool label, char out[EF_MAX_NAME]) {
    assert(n);
    if (n->bad)
        return false;
    char found[96];
    if (n->kind != YT_SCALAR || !is_ident(n->text, n->len, label)) {
        yt_error(d, n, path, NULL,
                 label ? "expected a name (letters, digits, _, - and .), "
                         "found %s"
                       : "expected a name (letters, digits and _, not "
                         "starting with a digit), found %s",
                 yt_describe(n, found, sizeof found));
        return false;
    }
    if (n->len >= EF_MAX_NAME) {
        yt_error(d, n, path, NULL,
                 "expected a name of at most %d characters, found %s",
                 EF_MAX_NAME - 1, yt_describe(n, found, sizeof found));
        return false;
    }
    memcpy(out, n->text, n->len + 1);
    return true;
}

bool yt_name(yt_doc *d, const yt_node *n, const char *path,
             char out[EF_MAX_NAME]) {
    return get_name(d, n, path, false, out);
}

bool yt_label(yt_doc *d, const yt_node *n, const char *path,
              char out[EF_MAX_NAME]) {
    return get_name(d, n, path, true, out);
}

bool yt_enum(yt_doc *d, const yt_node *n, const char *path,
             const char *const *choices, int *out) {
    assert(n && choices);
    if (n->bad)
        return false;
    size_t count = 0;
    while (choices[count])
        count++;
    if (n->kind == YT_SCALAR) {
        for (size_t i = 0; i < count; i++) {
            if (strcmp(n->text, choices[i]) == 0) {
                *out = (int)i;
                return true;
            }
        }
    }
    char list[256], found[96], hint[96];
    const char *best =
        n->kind == YT_SCALAR ? ef_suggest(n->text, choices, count) : NULL;
    if (best)
        snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
    yt_join(list, sizeof list, choices, count);
    yt_error(d, n, path, best ? hint : NULL, "expected one of %s, found %s",
             list, yt_describe(n, found, sizeof found));
    return false;
}

/* ---------- sizes ---------- */

typedef struct {
    const char *name;
    uint64_t bytes;   /* multiplier; 0 = counted in words */
} size_unit;

static const size_unit size_units[] = {
    {"B", 1},
    {"KiB", UINT64_C(1) << 10},
    {"MiB", UINT64_C(1) << 20},
    {"GiB", UINT64_C(1) << 30},
    {"words", 0},
    {"word", 0},
};

/* Decimal prefixes are the classic slip; suggest the binary unit the
 * rest of the spec uses rather than guessing 1000 vs 1024. */
static const char *unit_hint(const char *unit) {
    static const char *const names[] = {"B", "KiB", "MiB", "GiB", "words"};
    size_t len = strlen(unit);
    if (len == 2 && (unit[1] == 'B' || unit[1] == 'b')) {
        switch (unit[0]) {
        case 'k': case 'K': return "KiB";
        case 'm': case 'M': return "MiB";
        case 'g': case 'G': return "GiB";
        default: break;
        }
    }
    return ef_suggest(unit, names, ARRAY_LEN(names));
}

bool yt_size(yt_doc *d, const yt_node *n, const char *path, ef_capacity *out) {
    assert(n);
    if (n->bad)
        return false;
    char found[96], hint[96];
    const char *want =
        "expected a size with a unit (B, KiB, MiB, GiB or words), found %s";
    if (n->kind != YT_SCALAR || n->block) {
        yt_error(d, n, path, NULL, want, yt_describe(n, found, sizeof found));
        return false;
    }
    const char *s = n->text;
    size_t digits = strspn(s, "0123456789");
    const char *unit = s + digits;
    while (*unit == ' ')
        unit++;
    uint64_t amount = 0;
    if (digits == 0 || !parse_u64(s, digits, &amount) || *unit == '\0') {
        yt_error(d, n, path, NULL, want, yt_describe(n, found, sizeof found));
        return false;
    }
    const size_unit *u = NULL;
    for (size_t i = 0; i < ARRAY_LEN(size_units); i++)
        if (strcmp(unit, size_units[i].name) == 0)
            u = &size_units[i];
    if (!u) {
        const char *best = unit_hint(unit);
        if (best)
            snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
        yt_error(d, n, path, best ? hint : NULL, want,
                 yt_describe(n, found, sizeof found));
        return false;
    }
    if (amount == 0) {
        yt_error(d, n, path, "leave capacity out for an unlimited level",
                 "expected a positive size, found %s",
                 yt_describe(n, found, sizeof found));
        return false;
    }
    uint64_t total = amount;
    if (u->bytes > 1 && !ef_mul_u64(amount, u->bytes, &total)) {
        yt_error(d, n, path, NULL,
                 "expected a size below 2^64 bytes, found %s",
                 yt_describe(n, found, sizeof found));
        return false;
    }
    out->amount = total;
    out->in_words = u->bytes == 0;
    out->given = true;
    return true;
}

/* ---------- schema objects ---------- */

static const char *type_shape(yt_type t) {
    switch (t) {
    case YT_T_MAP: return "a mapping";
    case YT_T_SEQ: return "a sequence";
    default: return NULL;
    }
}

static void unknown_key(yt_obj *o, const yt_node *key) {
    const char *names[YT_MAX_KEYS];
    for (size_t i = 0; i < o->nkeys; i++)
        names[i] = o->keys[i].name;
    char hint[320];
    const char *best = ef_suggest(key->text, names, o->nkeys);
    if (best) {
        snprintf(hint, sizeof hint, "did you mean \"%s\"?", best);
    } else {
        char list[256];
        yt_join(list, sizeof list, names, o->nkeys);
        snprintf(hint, sizeof hint, "allowed keys here: %s", list);
    }
    yt_error(o->doc, key, o->path, hint, "unknown key \"%s\"", key->text);
}

bool yt_obj_open(yt_obj *o, yt_doc *d, const yt_node *n, const char *path,
                 const yt_key *keys, size_t nkeys) {
    assert(nkeys <= YT_MAX_KEYS);
    memset(o, 0, sizeof *o);
    o->doc = d;
    o->keys = keys;
    o->nkeys = nkeys;
    snprintf(o->path, sizeof o->path, "%s", path ? path : "");
    if (!n || n->bad)
        return false;
    if (n->kind != YT_MAP) {
        char found[96];
        yt_error(d, n, o->path, NULL, "expected a mapping, found %s",
                 yt_describe(n, found, sizeof found));
        return false;
    }
    o->node = n;
    for (size_t i = 0; i < n->count; i++) {
        const yt_node *k = n->pairs[i].key, *v = n->pairs[i].value;
        size_t j = 0;
        while (j < nkeys && strcmp(keys[j].name, k->text) != 0)
            j++;
        if (j == nkeys) {
            unknown_key(o, k);
            continue;
        }
        o->knodes[j] = k;
        const char *shape = type_shape(keys[j].type);
        if (shape && !v->bad &&
            v->kind != (keys[j].type == YT_T_MAP ? YT_MAP : YT_SEQ)) {
            char kp[YT_MAX_PATH], found[96];
            yt_error(d, v, yt_obj_path(o, k->text, kp, sizeof kp), NULL,
                     "expected %s, found %s", shape,
                     yt_describe(v, found, sizeof found));
            continue;
        }
        if (!v->bad)
            o->vals[j] = v;
    }
    for (size_t j = 0; j < nkeys; j++)
        if (keys[j].required && !o->knodes[j])
            yt_error(d, n, o->path, NULL, "missing required key \"%s\"",
                     keys[j].name);
    return true;
}

static size_t key_index(const yt_obj *o, const char *key) {
    for (size_t i = 0; i < o->nkeys; i++)
        if (strcmp(o->keys[i].name, key) == 0)
            return i;
    assert(!"key not in the schema table");
    return 0;
}

const yt_node *yt_obj_val(const yt_obj *o, const char *key) {
    return o->vals[key_index(o, key)];
}

const yt_node *yt_obj_knode(const yt_obj *o, const char *key) {
    return o->knodes[key_index(o, key)];
}

const char *yt_obj_path(const yt_obj *o, const char *key, char *buf,
                        size_t size) {
    yt_path_key(buf, size, o->path, key);
    return buf;
}

bool yt_get_u64(yt_obj *o, const char *key, uint64_t *out) {
    size_t i = key_index(o, key);
    const yt_key *k = &o->keys[i];
    assert(k->type == YT_T_INT);
    if (!o->vals[i]) {
        *out = (uint64_t)k->def;
        return true;
    }
    char kp[YT_MAX_PATH];
    return yt_u64(o->doc, o->vals[i], yt_obj_path(o, key, kp, sizeof kp),
                  (uint64_t)k->min, k->max > 0 ? (uint64_t)k->max : UINT64_MAX,
                  out);
}

bool yt_get_int(yt_obj *o, const char *key, int *out) {
    size_t i = key_index(o, key);
    const yt_key *k = &o->keys[i];
    assert(k->type == YT_T_INT && k->max <= INT_MAX);
    if (!o->vals[i]) {
        *out = (int)k->def;
        return true;
    }
    char kp[YT_MAX_PATH];
    uint64_t v = 0;
    if (!yt_u64(o->doc, o->vals[i], yt_obj_path(o, key, kp, sizeof kp),
                (uint64_t)k->min, k->max > 0 ? (uint64_t)k->max : INT_MAX,
                &v))
        return false;
    *out = (int)v;
    return true;
}

bool yt_get_num(yt_obj *o, const char *key, double *out) {
    size_t i = key_index(o, key);
    const yt_key *k = &o->keys[i];
    assert(k->type == YT_T_NUM || k->type == YT_T_POSNUM);
    if (!o->vals[i]) {
        *out = k->def;
        return true;
    }
    char kp[YT_MAX_PATH];
    yt_obj_path(o, key, kp, sizeof kp);
    double v;
    if (!yt_num(o->doc, o->vals[i], kp, k->type == YT_T_POSNUM ? 0 : k->min,
                k->type == YT_T_POSNUM, &v))
        return false;
    if (k->max > 0 && v > k->max) {
        char found[96];
        yt_error(o->doc, o->vals[i], kp,
                 "the limit keeps every total a finite number",
                 "expected a number <= %g%s%s, found %s", k->max,
                 k->unit ? " " : "", k->unit ? k->unit : "",
                 yt_describe(o->vals[i], found, sizeof found));
        return false;
    }
    *out = v;
    return true;
}

bool yt_get_bool(yt_obj *o, const char *key, bool *out) {
    size_t i = key_index(o, key);
    assert(o->keys[i].type == YT_T_BOOL);
    if (!o->vals[i]) {
        *out = o->keys[i].def != 0;
        return true;
    }
    char kp[YT_MAX_PATH];
    return yt_bool(o->doc, o->vals[i], yt_obj_path(o, key, kp, sizeof kp),
                   out);
}

bool yt_get_name(yt_obj *o, const char *key, char out[EF_MAX_NAME]) {
    size_t i = key_index(o, key);
    yt_type t = o->keys[i].type;
    assert(t == YT_T_NAME || t == YT_T_LABEL);
    if (!o->vals[i])
        return true;
    char kp[YT_MAX_PATH];
    return get_name(o->doc, o->vals[i], yt_obj_path(o, key, kp, sizeof kp),
                    t == YT_T_LABEL, out);
}

bool yt_get_str(yt_obj *o, const char *key, const char **out) {
    size_t i = key_index(o, key);
    assert(o->keys[i].type == YT_T_STR);
    if (!o->vals[i])
        return true;
    char kp[YT_MAX_PATH];
    return yt_str(o->doc, o->vals[i], yt_obj_path(o, key, kp, sizeof kp), out);
}

bool yt_get_enum(yt_obj *o, const char *key, int *out) {
    size_t i = key_index(o, key);
    const yt_key *k = &o->keys[i];
    assert(k->type == YT_T_ENUM && k->choices);
    if (!o->vals[i]) {
        *out = (int)k->def;
        return true;
    }
    char kp[YT_MAX_PATH];
    return yt_enum(o->doc, o->vals[i], yt_obj_path(o, key, kp, sizeof kp),
                   k->choices, out);
}
