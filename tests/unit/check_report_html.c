/* Unit tests of the HTML report's C side (src/report/html.c and
 * activity.c): the PE activity frames derived from a nest, worked out
 * by hand on a small 1-D conv with an edge tile, and the page's
 * embedding of the JSON, which no text in it may break out of. The
 * page as a browser renders it is tests/html/check_html.py's. */
#include <check.h>
#include <string.h>

#include "einflow/report.h"
#include "unit/unit_util.h"

/* DRAM -> GLB -> RF (per PE) on 2 x 2 PEs; O[p] += I[p+r] * W[r] with
 * P = 7: DRAM P:2 (stride 4), GLB rows P:2 (stride 2), RF P:2 (stride
 * 1) then R:3, so 12 steps, t = 6 p_dram + 3 p_rf + r, and PE row k
 * works on p = 4 p_dram + p_rf + 2k. Column 1 is never used; row 1 is
 * idle where p = 7, at p_dram = p_rf = 1: steps 9, 10, 11. */
static const char arch[] = "name: a\n"
                           "pe_array: {rows: 2, cols: 2}\n"
                           "levels:\n"
                           "  - {name: DRAM, kind: dram}\n"
                           "  - {name: GLB, kind: sram}\n"
                           "  - {name: RF, kind: regfile, per_pe: true}\n";
static const char wl[] = "name: conv1d\n"
                         "einsums:\n"
                         "  - \"O[p] += I[p+r] * W[r]\"\n"
                         "ranks: {P: 7, R: 3}\n";
static const char map[] = "mapping:\n"
                          "  - level: DRAM\n    temporal: [P: 2]\n"
                          "  - level: GLB\n    spatial: {rows: [P: 2]}\n"
                          "  - level: RF\n    temporal: [P: 2, R: 3]\n";

START_TEST(frames_show_the_edge_tile) {
    ut_fx f;
    ut_init(&f);
    ef_nest *n = ut_build_ok(&f, arch, wl, map);
    ef_report_activity a;
    ck_assert(ef_report_activity_derive(&a, n, "O", 96));
    ck_assert_str_eq(a.label, "O");
    ck_assert_str_eq(a.time_unit, "step");
    ck_assert_uint_eq(a.rows, 2);
    ck_assert_uint_eq(a.cols, 2);
    ck_assert_uint_eq(a.total_time, 12);
    ck_assert_int_eq(a.frame_count, 12);
    for (int t = 0; t < 12; t++) {
        const uint8_t *b = a.frames[t].busy;
        ck_assert_uint_eq(a.frames[t].time, (uint64_t)t);
        ck_assert_msg(b[0] && !b[1] && !b[3], "step %d: PE (0,0) only in column 0", t);
        ck_assert_msg(!b[2] == (t >= 9), "step %d: PE (1,0) busy %d", t, b[2]);
    }
    /* fewer frames than steps: the first half, then evenly to the end */
    ef_report_activity few;
    ck_assert(ef_report_activity_derive(&few, n, "O", 4));
    ck_assert_int_eq(few.frame_count, 4);
    ck_assert_uint_eq(few.frames[0].time, 0);
    ck_assert_uint_eq(few.frames[1].time, 1);
    ck_assert_uint_eq(few.frames[3].time, 11);
    ck_assert(!few.frames[3].busy[2]);

    /* the page: the frames as hex cells, row-major */
    char *html = ef_report_html("{\"x\": \"</script><!--\"}", &a, 1);
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_nonnull(strstr(html, "\"cells\":\"f0f0\""));
    ck_assert_ptr_nonnull(strstr(html, "{\"t\":9,\"stall\":null,\"cells\":\"f000\"}"));
    ck_assert_ptr_nonnull(strstr(html, "{\"x\": \"\\u003c/script>\\u003c!--\"}"));
    /* three script elements (data, activity, renderer), each closed once */
    int opens = 0, closes = 0;
    for (const char *p = html; (p = strstr(p, "<script")); p++) opens++;
    for (const char *p = html; (p = strstr(p, "</script")); p++) closes++;
    ck_assert_int_eq(opens, 3);
    ck_assert_int_eq(closes, 3);
    /* nothing fetched (the SVG namespace URI is a name, not a fetch) */
    static const char *const fetches[] = {"src=", "href=", "@import", "url(", "fetch(",
                                          "XMLHttpRequest"};
    for (size_t i = 0; i < UT_LEN(fetches); i++)
        ck_assert_msg(!strstr(html, fetches[i]), "the page has %s", fetches[i]);
    free(html);
    ef_report_activity_free(&few);
    ef_report_activity_free(&a);
    ut_free(&f);
}
END_TEST

START_TEST(no_frames_still_make_a_page) {
    char *html = ef_report_html("{}", NULL, 0);
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_nonnull(strstr(html, "id=\"ef-activity\">\n[]\n</script>"));
    free(html);
    ef_report_activity_free(NULL);
}
END_TEST

int main(void) {
    Suite *s = suite_create("report_html");
    TCase *tc = tcase_create("html");
    tcase_add_test(tc, frames_show_the_edge_tile);
    tcase_add_test(tc, no_frames_still_make_a_page);
    suite_add_tcase(s, tc);
    return ut_run_suite(s);
}
