/* The HTML report: one self-contained page (inline style, SVG drawn by
 * an inline script, nothing fetched) that shows a run's JSON. The C
 * side only assembles: the JSON as the run wrote it and the PE array's
 * activity frames go into <script type="application/json"> elements,
 * and the renderer (src/report/html_app.js, with html_style.css,
 * embedded at build time by cmake/embed_files.cmake) reads them in the
 * browser. So the page shows exactly the numbers of the JSON file, and
 * the drawing code stays JavaScript a reader can edit as such. */
#include "einflow/report.h"
#include "spec/sbuf.h"

#include <inttypes.h>
#include <string.h>

extern const char *const ef_html_asset_names[];
extern const char *const ef_html_asset_texts[];
extern const int ef_html_asset_count;

/* The embedded file called name ("" if the build left it out, which
 * CMake does not). */
static const char *asset(const char *name) {
    for (int i = 0; i < ef_html_asset_count; i++)
        if (!strcmp(ef_html_asset_names[i], name)) return ef_html_asset_texts[i];
    return "";
}

/* JSON text made safe inside <script>: in valid JSON a '<' can only be
 * inside a string, where \u003c means the same, so no "</script>" or
 * "<!--" can end or change the element. */
static void put_script_json(sbuf *b, const char *json) {
    const char *p = json;
    for (const char *lt; (lt = strchr(p, '<')); p = lt + 1) {
        sbuf_putn(b, p, (size_t)(lt - p));
        sbuf_puts(b, "\\u003c");
    }
    sbuf_puts(b, p);
}

/* s as a JSON string, with '<' escaped as above. */
static void put_string(sbuf *b, const char *s) {
    if (!s) {
        sbuf_puts(b, "null");
        return;
    }
    sbuf_puts(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') sbuf_put(b, "\\%c", *c);
        else if (*c < 0x20 || *c == '<') sbuf_put(b, "\\u%04x", *c);
        else sbuf_putn(b, (const char *)c, 1);
    }
    sbuf_puts(b, "\"");
}

/* At most this many cells a side: a larger array is drawn in blocks,
 * each the share of its PEs that are busy, so the page stays small. */
#define GRID_MAX 64

/* One activity as JSON: the array, the grid it is drawn in, and each
 * frame's cells as one hex digit each (busy share x 15), row-major. */
static void put_activity(sbuf *b, const ef_report_activity *a) {
    uint64_t br = (a->rows + GRID_MAX - 1) / GRID_MAX, bc = (a->cols + GRID_MAX - 1) / GRID_MAX;
    if (!br) br = 1;
    if (!bc) bc = 1;
    uint64_t gr = (a->rows + br - 1) / br, gc = (a->cols + bc - 1) / bc;
    sbuf_puts(b, "{\"label\":");
    put_string(b, a->label);
    sbuf_puts(b, ",\"time_unit\":");
    put_string(b, a->time_unit);
    sbuf_puts(b, ",\"source\":");
    put_string(b, a->source);
    sbuf_put(b, ",\"rows\":%" PRIu64 ",\"cols\":%" PRIu64 ",\"total_time\":%" PRIu64
                ",\"grid_rows\":%" PRIu64 ",\"grid_cols\":%" PRIu64 ",\"frames\":[",
             a->rows, a->cols, a->total_time, gr, gc);
    for (int f = 0; f < a->frame_count; f++) {
        const ef_report_frame *fr = &a->frames[f];
        sbuf_put(b, "%s{\"t\":%" PRIu64 ",\"stall\":", f ? "," : "", fr->time);
        put_string(b, fr->stall);
        sbuf_puts(b, ",\"cells\":\"");
        for (uint64_t r = 0; r < gr; r++)
            for (uint64_t c = 0; c < gc; c++) {
                uint64_t busy = 0, all = 0;
                for (uint64_t i = r * br; i < (r + 1) * br && i < a->rows; i++)
                    for (uint64_t j = c * bc; j < (c + 1) * bc && j < a->cols; j++) {
                        busy += fr->busy[i * a->cols + j] != 0;
                        all++;
                    }
                unsigned digit = all ? (unsigned)((busy * 15 + all - 1) / all) : 0;
                sbuf_putn(b, &"0123456789abcdef"[digit], 1);
            }
        sbuf_puts(b, "\"}");
    }
    sbuf_puts(b, "]}");
}

char *ef_report_html(const char *json, const ef_report_activity *acts, int act_count) {
    sbuf b = {0};
    sbuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"generator\" content=\"einflow\">\n"
                  "<title>einflow report</title>\n<style>\n");
    sbuf_puts(&b, asset("html_style"));
    sbuf_puts(&b, "</style>\n</head>\n<body>\n"
                  "<noscript>This report draws its charts with JavaScript; the run's JSON "
                  "is in the page source.</noscript>\n<main id=\"ef-app\"></main>\n"
                  "<script type=\"application/json\" id=\"ef-data\">\n");
    put_script_json(&b, json);
    sbuf_puts(&b, "\n</script>\n<script type=\"application/json\" id=\"ef-activity\">\n[");
    for (int i = 0; i < act_count; i++) {
        if (i) sbuf_puts(&b, ",\n");
        put_activity(&b, &acts[i]);
    }
    sbuf_puts(&b, "]\n</script>\n<script>\n");
    sbuf_puts(&b, asset("html_app"));
    sbuf_puts(&b, "</script>\n</body>\n</html>\n");
    return sbuf_take(&b);
}
