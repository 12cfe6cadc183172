/* CSV text, field by field (report.h, ef_csv): the one place that
 * knows RFC 4180's quoting and how a number is spelled in a cell, for
 * every CSV einflow writes (runs, comparisons, sweeps). */
#include "einflow/report.h"
#include "spec/sbuf.h"

#include "report/number.h"

#include <cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ef_csv {
    sbuf text;
    bool row_started;         /* a field is on the current row: the next
                               * one needs a comma before it            */
};

ef_csv *ef_csv_create(void) { return ef_calloc(1, sizeof(ef_csv)); }

void ef_csv_destroy(ef_csv *c) {
    if (!c) return;
    free(c->text.buf);
    free(c);
}

void ef_csv_text(ef_csv *c, const char *s) {
    if (c->row_started) sbuf_putn(&c->text, ",", 1);
    c->row_started = true;
    if (!strpbrk(s, ",\"\r\n")) {
        sbuf_puts(&c->text, s);
        return;
    }
    sbuf_putn(&c->text, "\"", 1);
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        sbuf_putn(&c->text, s, (size_t)(q - s) + 1);
        sbuf_putn(&c->text, "\"", 1); /* a quote is doubled */
    }
    sbuf_puts(&c->text, s);
    sbuf_putn(&c->text, "\"", 1);
}

void ef_csv_number(ef_csv *c, double v) {
    char buf[EF_NUMBER_TEXT] = "";
    /* whole numbers (counts, cycles) in plain digits, never "4.7e+03";
     * past 2^53 a double is no exact count, so it keeps the form below */
    if (isfinite(v) && v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(buf, sizeof buf, "%.0f", v);
        ef_csv_text(c, buf);
        return;
    }
    /* else the shortest text that reads back to the same double */
    if (isfinite(v)) ef_shortest_double(buf, sizeof buf, v, 1);
    ef_csv_text(c, buf);
}

void ef_csv_u64(ef_csv *c, uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    ef_csv_text(c, buf);
}

void ef_csv_json(ef_csv *c, const cJSON *item) {
    if (cJSON_IsRaw(item)) ef_csv_text(c, strcmp(item->valuestring, "null") ? item->valuestring : "");
    else if (cJSON_IsNumber(item)) ef_csv_number(c, item->valuedouble);
    else if (cJSON_IsString(item)) ef_csv_text(c, item->valuestring);
    else if (cJSON_IsBool(item)) ef_csv_text(c, cJSON_IsTrue(item) ? "true" : "false");
    else ef_csv_text(c, "");
}

void ef_csv_end_row(ef_csv *c) {
    sbuf_putn(&c->text, "\n", 1);
    c->row_started = false;
}

char *ef_csv_take(ef_csv *c) {
    if (!c) return NULL;
    char *out = sbuf_take(&c->text);
    free(c);
    return out;
}
