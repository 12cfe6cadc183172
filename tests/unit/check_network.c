/* Unit tests of network files (spec/network.c): the bundled networks
 * against their published layer tables, the batch size, workload files
 * loaded as one-layer networks, locations inside network files, and the
 * exact diagnostics of bad network files.
 *
 * The expected layer counts and MAC totals are derived here, in closed
 * form, from the papers' tables (the sources are named at each
 * function); none is read back from the program. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit/unit_util.h"

/* ---------- helpers ---------- */

static char *source_path(const char *rel) {
    return ut_fmt("%s/%s", EF_SOURCE_DIR, rel);
}

static ef_network_spec *load_ok(const char *path, uint64_t batch,
                                ef_diags *d) {
    ef_network_spec *n = ef_spec_load_network(path, batch, d);
    char *all = ef_diags_render(d);
    ck_assert_msg(n != NULL && d->count == 0, "%s: unexpected errors:\n%s",
                  path, all);
    free(all);
    return n;
}

/* The first rendered line of d with the file name replaced by "F". */
static char *first_line(const ef_diags *d, const char *file) {
    char *all = ef_diags_render(d);
    ck_assert_ptr_nonnull(all);
    size_t n = strcspn(all, "\n");
    all[n] = '\0';
    size_t fl = strlen(file);
    char *out = strncmp(all, file, fl) == 0 ? ut_fmt("F%s", all + fl)
                                            : ut_fmt("%s", all);
    free(all);
    return out;
}

static uint64_t rank_bound(const ef_workload_spec *w, const char *name) {
    for (int r = 0; r < w->rank_count; r++)
        if (strcmp(w->ranks[r].name, name) == 0) return w->ranks[r].bound;
    return 0;
}

/* MACs of one built layer: the product of the bounds of the ranks its
 * MAC Einsum iterates (one Einsum per bundled layer). */
static uint64_t layer_macs(const ef_workload *w) {
    uint64_t total = 0;
    for (int e = 0; e < w->einsum_count; e++) {
        if (!w->einsums[e].is_mac) continue;
        uint64_t m = 1;
        for (int r = 0; r < w->rank_count; r++)
            if (w->einsums[e].rank_used[r]) ck_assert(ef_mul_u64(m, w->rank_bounds[r], &m));
        total += m;
    }
    return total;
}

/* ---------- the published tables, in closed form ---------- */

/* AlexNet: Chen, Emer, Sze, ISCA 2016, Table II (C per group for the
 * grouped layers, M in all): MACs = M * C * E^2 * R^2; then FC6
 * 9216 -> 4096, FC7 4096 -> 4096, FC8 4096 -> 1000 (Krizhevsky et al.,
 * NIPS 2012). 665,784,864 + 58,621,952 = 724,406,816. */
static const struct {
    uint64_t H, R, E, C, M, U;
} eyeriss_alexnet[] = {
    {227, 11, 55, 3, 96, 4},
    {31, 5, 27, 48, 256, 1},
    {15, 3, 13, 256, 384, 1},
    {15, 3, 13, 192, 384, 1},
    {15, 3, 13, 192, 256, 1},
};

static uint64_t alexnet_macs(void) {
    uint64_t macs = 0;
    for (size_t i = 0; i < UT_LEN(eyeriss_alexnet); i++) {
        uint64_t E = eyeriss_alexnet[i].E, R = eyeriss_alexnet[i].R;
        macs += eyeriss_alexnet[i].M * eyeriss_alexnet[i].C * E * E * R * R;
    }
    return macs + 9216 * 4096 + 4096 * 4096 + 4096 * 1000;
}

/* VGG-16: Simonyan & Zisserman, ICLR 2015, Table 1, configuration D:
 * five groups of 3x3 convs (2, 2, 3, 3, 3 of them; 64, 128, 256, 512,
 * 512 channels) at 224, 112, 56, 28, 14, then FC 25088 -> 4096 ->
 * 4096 -> 1000. About 15.47 GMACs. */
static uint64_t vgg16_macs(void) {
    static const uint64_t convs[] = {2, 2, 3, 3, 3}, width[] = {64, 128, 256, 512, 512};
    uint64_t macs = 0, cin = 3, hw = 224;
    for (int g = 0; g < 5; g++, hw /= 2)
        for (uint64_t k = 0; k < convs[g]; k++) {
            macs += 9 * cin * width[g] * hw * hw;
            cin = width[g];
        }
    return macs + 25088 * 4096 + 4096 * 4096 + 4096 * 1000;
}

/* ResNet-50: He et al., CVPR 2016, Table 1, with torchvision's v1.5
 * striding: conv1 7x7/2 to 64 at 112; stages of 3, 4, 6, 3 bottlenecks
 * [1x1, w; 3x3, w; 1x1, 4w], w = 64, 128, 256, 512, at 56, 28, 14, 7.
 * The first block of a stage reduces at its input size (56 for all of
 * stage 1, 2x the output otherwise), strides in the 3x3, and has a
 * 1x1 projection from its input channels to 4w at the output size.
 * Then FC 2048 -> 1000. About 4.09 GMACs (torchvision: 4.09 GFLOPS). */
static const uint64_t resnet_blocks[] = {3, 4, 6, 3};

static uint64_t resnet50_macs(void) {
    uint64_t macs = 64 * 3 * 7 * 7 * 112 * 112;
    uint64_t cin = 64, hin = 56;
    for (int s = 0; s < 4; s++) {
        uint64_t w = 64u << s, h = 56u >> s, o = h * h;
        macs += cin * w * hin * hin + 9 * w * w * o + w * 4 * w * o + cin * 4 * w * o;
        macs += (resnet_blocks[s] - 1) * (4 * w * w * o + 9 * w * w * o + w * 4 * w * o);
        cin = 4 * w;
        hin = h;
    }
    return macs + 2048 * 1000;
}

/* MobileNet-v2: Sandler et al., CVPR 2018, Table 2 (width 1.0, 224):
 * conv2d 3x3/2 3 -> 32; bottlenecks (t, c, n, s); conv2d 1x1 320 ->
 * 1280 at 7x7; classifier 1280 -> 1000. A bottleneck from k channels at
 * H to c at H/s: expansion k*tk*H^2 (none when t = 1), depthwise
 * 9*tk*(H/s)^2, projection tk*c*(H/s)^2; the first of n strides. The
 * paper quotes 300M multiply-adds. */
static const struct {
    uint64_t t, c, n, s;
} mnv2_table[] = {
    {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
    {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
};

static uint64_t mobilenet_v2_macs(void) {
    uint64_t macs = 32 * 3 * 9 * 112 * 112;
    uint64_t k = 32, h = 112;
    for (size_t i = 0; i < UT_LEN(mnv2_table); i++)
        for (uint64_t b = 0; b < mnv2_table[i].n; b++) {
            uint64_t t = mnv2_table[i].t, c = mnv2_table[i].c;
            uint64_t ho = b == 0 ? h / mnv2_table[i].s : h;
            if (t != 1) macs += k * t * k * h * h;
            macs += 9 * t * k * ho * ho + t * k * c * ho * ho;
            k = c;
            h = ho;
        }
    return macs + 320 * 1280 * 7 * 7 + 1280 * 1000;
}

typedef struct {
    const char *file;
    int entries;              /* layer entries in the file             */
    uint64_t layers;          /* sum of count: layers in the network   */
    uint64_t (*macs)(void);   /* per input (batch 1)                   */
    uint64_t batch;           /* the file's batch size                 */
    uint64_t macs_lo, macs_hi; /* the published round figure's range  */
} bundled_net;

static const bundled_net nets[] = {
    /* 5 CONV + 3 FC, one entry each */
    {"workloads/alexnet.yaml", 8, 8, alexnet_macs, 4, 724000000, 725000000},
    /* 13 convs + 3 FC; entries: 16 less the repeats folded into count
     * (conv3_3, conv4_3, conv5_2, conv5_3) */
    {"workloads/vgg16.yaml", 16 - 4, 13 + 3, vgg16_macs, 1, 15465000000, 15475000000},
    /* conv1, 16 bottlenecks of 3 convs, 4 projections, fc; entries:
     * conv1, per stage block 0 (4) and the repeated blocks (3), fc */
    {"workloads/resnet50.yaml", 1 + 4 * (4 + 3) + 1, 1 + 3 * (3 + 4 + 6 + 3) + 4 + 1,
     resnet50_macs, 1, 4085000000, 4095000000},
    /* conv0, block 1 (2 convs), 16 more bottlenecks of 3, conv18,
     * classifier; entries: conv0, block 1 (2), the first and the
     * repeated blocks of the 5 sequences with n > 1 (6 each), the
     * single block 17 (3), conv18, classifier */
    {"workloads/mobilenet_v2.yaml", 1 + 2 + 5 * 6 + 3 + 2, 1 + 2 + 16 * 3 + 2,
     mobilenet_v2_macs, 1, 299000000, 302000000},
};

/* ---------- bundled networks ---------- */

START_TEST(bundled_counts_and_macs) {
    const bundled_net *b = &nets[_i];
    char *path = source_path(b->file);
    ef_diags *d = ef_diags_create();
    ef_network_spec *n = load_ok(path, 1, d);
    ck_assert_int_eq(n->layer_count, b->entries);
    uint64_t layers = 0, macs = 0;
    for (int l = 0; l < n->layer_count; l++) {
        ef_workload *w = ef_einsum_build(n->layers[l].workload, d);
        ck_assert_msg(w != NULL, "%s layer %d does not build", b->file, l);
        layers += n->layers[l].count;
        macs += n->layers[l].count * layer_macs(w);
        ef_workload_destroy(w);
    }
    ck_assert_uint_eq(layers, b->layers);
    uint64_t want = b->macs();
    ck_assert_msg(macs == want, "%s: %llu MACs, the published table gives %llu", b->file,
                  (unsigned long long)macs, (unsigned long long)want);
    /* the closed form itself agrees with the figure usually quoted */
    ck_assert(want >= b->macs_lo && want <= b->macs_hi);
    ef_network_spec_destroy(n);

    /* the file's own batch multiplies every layer */
    n = load_ok(path, 0, d);
    ck_assert_uint_eq(n->batch, b->batch);
    uint64_t batched = 0;
    for (int l = 0; l < n->layer_count; l++) {
        ef_workload *w = ef_einsum_build(n->layers[l].workload, d);
        ck_assert_ptr_nonnull(w);
        batched += n->layers[l].count * layer_macs(w);
        ef_workload_destroy(w);
    }
    ck_assert_uint_eq(batched, b->batch * want);
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    free(path);
}
END_TEST

/* The real input size of a conv layer with P outputs, stride U and an
 * R-wide window, as the four networks define it. */
static int64_t real_input(int64_t P, int64_t U, int64_t R) {
    if (U == 1) return P;              /* 3x3 pad 1 and 1x1: size kept    */
    if (U == 2 && R > 1) return 2 * P; /* halving: 224 -> 112, 56 -> 28   */
    if (U == 2) return 2 * P - 1;      /* 1x1/2 projection: stores only
                                          the rows it reads (documented)  */
    return (P - 1) * U + R;            /* AlexNet conv1, unpadded: 227    */
}

/* Every layer: builds, names its tensors I, F, O (the mapper's
 * convention), is one MAC Einsum, and stores the real input map. */
START_TEST(bundled_layers_follow_conventions) {
    const bundled_net *b = &nets[_i];
    char *path = source_path(b->file);
    ef_diags *d = ef_diags_create();
    ef_network_spec *n = load_ok(path, 0, d);
    for (int l = 0; l < n->layer_count; l++) {
        const ef_workload_spec *ws = n->layers[l].workload;
        ef_workload *w = ef_einsum_build(ws, d);
        ck_assert_msg(w != NULL, "%s: %s does not build", b->file, ws->name);
        ck_assert_int_eq(w->einsum_count, 1);
        const ef_einsum *e = &w->einsums[0];
        ck_assert_msg(e->is_mac, "%s: %s is not a MAC", b->file, ws->name);
        ck_assert_str_eq(w->tensors[e->output.tensor].name, "O");
        ck_assert_int_eq(e->input_count, 2);
        ck_assert_str_eq(w->tensors[e->inputs[0].tensor].name, "I");
        ck_assert_str_eq(w->tensors[e->inputs[1].tensor].name, "F");
        ck_assert_str_eq(ws->file, n->file);
        ck_assert_int_ge(n->layers[l].count, 1);
        /* every N is the batch word, and nothing else is */
        for (int r = 0; r < ws->rank_count; r++)
            ck_assert_int_eq(ws->ranks[r].is_batch, strcmp(ws->ranks[r].name, "N") == 0);
        /* spatial dimensions: the last two of I, indexed by p and q */
        int P = ef_workload_rank_id(w, "P");
        if (P >= 0) {
            const ef_operand *I = &e->inputs[0];
            const ef_tensor *t = &w->tensors[I->tensor];
            int R = ef_workload_rank_id(w, "R");
            int64_t U = 0;
            const ef_affine *a = &I->index[I->dims - 2];
            for (int k = 0; k < a->term_count; k++)
                if (a->rank[k] == P) U = a->coef[k];
            int64_t want = real_input((int64_t)rank_bound(ws, "P"), U,
                                      R >= 0 ? (int64_t)w->rank_bounds[R] : 1);
            ck_assert_msg(t->extent[I->dims - 2] == want && t->extent[I->dims - 1] == want,
                          "%s: %s stores %lld x %lld, the real map is %lld", b->file, ws->name,
                          (long long)t->extent[I->dims - 2], (long long)t->extent[I->dims - 1],
                          (long long)want);
        }
        ef_workload_destroy(w);
    }
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    free(path);
}
END_TEST

/* AlexNet's CONV layers are Eyeriss's Table II, row by row. */
START_TEST(alexnet_matches_eyeriss_table) {
    char *path = source_path("workloads/alexnet.yaml");
    ef_diags *d = ef_diags_create();
    ef_network_spec *n = load_ok(path, 0, d);
    for (size_t i = 0; i < UT_LEN(eyeriss_alexnet); i++) {
        const ef_workload_spec *w = n->layers[i].workload;
        uint64_t G = rank_bound(w, "G") ? rank_bound(w, "G") : 1;
        ck_assert_uint_eq(rank_bound(w, "R"), eyeriss_alexnet[i].R);
        ck_assert_uint_eq(rank_bound(w, "S"), eyeriss_alexnet[i].R);
        ck_assert_uint_eq(rank_bound(w, "P"), eyeriss_alexnet[i].E);
        ck_assert_uint_eq(rank_bound(w, "Q"), eyeriss_alexnet[i].E);
        ck_assert_uint_eq(rank_bound(w, "C"), eyeriss_alexnet[i].C);
        ck_assert_uint_eq(G * rank_bound(w, "M"), eyeriss_alexnet[i].M);
        ck_assert_uint_eq(rank_bound(w, "N"), 4);
        ck_assert_int_eq(w->default_bits, 16);
        /* H includes the padding: the window covers exactly H positions */
        ef_workload *b = ef_einsum_build(w, d);
        ck_assert_ptr_nonnull(b);
        const ef_operand *I = &b->einsums[0].inputs[0];
        const ef_tensor *t = &b->tensors[I->tensor];
        int dim = I->dims - 2;
        ck_assert_int_eq(t->extent[dim] + t->pad[dim], (int64_t)eyeriss_alexnet[i].H);
        ef_workload_destroy(b);
    }
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    free(path);
}
END_TEST

/* ---------- batch ---------- */

static const char batch_net[] =
    "name: b\n"
    "batch: 3\n"
    "layers:\n"
    "  - name: conv\n"
    "    einsum: \"O[n,m,p] += I[n,c,p+r] * F[m,c,r]\"\n"
    "    ranks: {N: batch, M: 4, C: 2, P: 8, R: 3}\n"
    "  - name: fixed\n"
    "    einsum: \"O[n,m] += I[n,c] * F[m,c]\"\n"
    "    ranks: {N: 2, M: 3, C: batch}\n";

START_TEST(batch_override_changes_only_batch_ranks) {
    char *p = ut_write_temp(batch_net);
    ef_diags *d = ef_diags_create();
    static const struct {
        uint64_t override, in_use;
    } cases[] = {{0, 3}, {1, 1}, {8, 8}};
    for (size_t i = 0; i < UT_LEN(cases); i++) {
        ef_network_spec *n = load_ok(p, cases[i].override, d);
        uint64_t B = cases[i].in_use;
        ck_assert_uint_eq(n->batch, B);
        const ef_workload_spec *a = n->layers[0].workload, *f = n->layers[1].workload;
        ck_assert_uint_eq(rank_bound(a, "N"), B);
        ck_assert(a->ranks[0].is_batch);
        ck_assert_uint_eq(rank_bound(a, "M"), 4);
        ck_assert_uint_eq(rank_bound(a, "C"), 2);
        ck_assert_uint_eq(rank_bound(a, "P"), 8);
        ck_assert_uint_eq(rank_bound(a, "R"), 3);
        /* a literal N is not the batch; a C written batch is */
        ck_assert_uint_eq(rank_bound(f, "N"), 2);
        ck_assert(!f->ranks[0].is_batch);
        ck_assert_uint_eq(rank_bound(f, "M"), 3);
        ck_assert_uint_eq(rank_bound(f, "C"), B);
        ck_assert(f->ranks[2].is_batch);
        ef_network_spec_destroy(n);
    }
    ef_diags_destroy(d);
    unlink(p);
    free(p);
}
END_TEST

/* Bundled ResNet-50 at batch 8: N is 8 in every layer, every other
 * bound as at batch 1. */
START_TEST(batch_override_on_bundled_network) {
    char *path = source_path("workloads/resnet50.yaml");
    ef_diags *d = ef_diags_create();
    ef_network_spec *one = load_ok(path, 0, d), *eight = load_ok(path, 8, d);
    ck_assert_uint_eq(one->batch, 1);
    ck_assert_uint_eq(eight->batch, 8);
    ck_assert_int_eq(one->layer_count, eight->layer_count);
    for (int l = 0; l < one->layer_count; l++) {
        const ef_workload_spec *a = one->layers[l].workload, *b = eight->layers[l].workload;
        ck_assert_int_eq(a->rank_count, b->rank_count);
        for (int r = 0; r < a->rank_count; r++) {
            ck_assert_str_eq(a->ranks[r].name, b->ranks[r].name);
            bool is_n = strcmp(a->ranks[r].name, "N") == 0;
            ck_assert_uint_eq(b->ranks[r].bound, is_n ? 8 : a->ranks[r].bound);
            if (is_n) ck_assert_uint_eq(a->ranks[r].bound, 1);
        }
        ck_assert_uint_eq(one->layers[l].count, eight->layers[l].count);
    }
    ef_network_spec_destroy(one);
    ef_network_spec_destroy(eight);
    ef_diags_destroy(d);
    free(path);
}
END_TEST

/* Without a batch: key, the word batch means 1. */
START_TEST(batch_defaults_to_one) {
    char *p = ut_write_temp("name: b\nlayers:\n"
                            "  - {name: fc, einsum: \"O[n,m] += I[n,c] * F[m,c]\", "
                            "ranks: {N: batch, M: 3, C: 5}}\n");
    ef_diags *d = ef_diags_create();
    ef_network_spec *n = load_ok(p, 0, d);
    ck_assert_uint_eq(n->batch, 1);
    ck_assert_uint_eq(rank_bound(n->layers[0].workload, "N"), 1);
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
}
END_TEST

/* ---------- a workload file is a network of one layer ---------- */

START_TEST(workload_file_is_one_layer) {
    char *path = source_path("workloads/resnet50_conv3x3.yaml");
    ef_diags *d = ef_diags_create();
    ef_network_spec *n = load_ok(path, 0, d);
    ck_assert_str_eq(n->name, "resnet50_conv3x3");
    ck_assert_str_eq(n->file, path);
    ck_assert_uint_eq(n->batch, 1);
    ck_assert_int_eq(n->layer_count, 1);
    ck_assert_uint_eq(n->layers[0].count, 1);
    const ef_workload_spec *ws = n->layers[0].workload;
    ck_assert_str_eq(ws->name, "resnet50_conv3x3");
    ck_assert_str_eq(ws->path, "");
    ck_assert_str_eq(ws->einsums[0].path, "einsums[0]");
    ck_assert_int_eq(ws->einsums[0].loc.line, 18); /* as loaded as a workload */
    ck_assert_int_eq(ws->default_bits, 8);
    ef_workload *w = ef_einsum_build(ws, d);
    ck_assert_ptr_nonnull(w);
    /* 128 * 128 * 28 * 28 * 9, the file's own comment */
    ck_assert_uint_eq(layer_macs(w), 115605504);
    ef_workload_destroy(w);
    ef_network_spec_destroy(n);
    /* an override has no batch word to change: N stays as written */
    n = load_ok(path, 16, d);
    ck_assert_uint_eq(n->batch, 16);
    ck_assert_uint_eq(rank_bound(n->layers[0].workload, "N"), 1);
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    free(path);
}
END_TEST

/* ---------- values and locations ---------- */

static const char located_net[] =
    "name: loc-test\n"                                            /* 1 */
    "description: \"two layers\"\n"                               /* 2 */
    "default_precision: 16\n"                                     /* 3 */
    "layers:\n"                                                   /* 4 */
    "  - name: conv\n"                                            /* 5 */
    "    einsum: \"O[n,m,p] += I[n,c,p*2+r] * F[m,c,r]\"\n"       /* 6 */
    "    ranks: {N: batch, M: 4, C: 2, P: 8, R: 3}\n"             /* 7 */
    "    padding: {I: [0, 0, [1, 0]]}\n"                          /* 8 */
    "    precision: {O: 32}\n"                                    /* 9 */
    "    count: 3\n"                                              /* 10 */
    "  - name: attn\n"                                            /* 11 */
    "    description: a cascade\n"                                /* 12 */
    "    einsums:\n"                                              /* 13 */
    "      - \"S[m,p] += Q[p,e] * K[m,e]\"\n"                     /* 14 */
    "      - MX[p] max= S[m,p]\n"                                 /* 15 */
    "    ranks: {M: 4, P: 4, E: 2}\n"                             /* 16 */
    "    default_precision: 8\n";                                 /* 17 */

START_TEST(layer_values_and_locations) {
    char *p = ut_write_temp(located_net);
    ef_diags *d = ef_diags_create();
    ef_network_spec *n = load_ok(p, 0, d);
    ck_assert_str_eq(n->name, "loc-test");
    ck_assert_str_eq(n->file, p);
    ck_assert_int_eq(n->layer_count, 2);
    ck_assert_int_eq(n->loc.line, 1);

    const ef_layer_spec *conv = &n->layers[0];
    ck_assert_uint_eq(conv->count, 3);
    ck_assert_int_eq(conv->loc.line, 5);
    ck_assert_int_eq(conv->loc.col, 5);
    const ef_workload_spec *w = conv->workload;
    ck_assert_str_eq(w->name, "conv");
    ck_assert_str_eq(w->file, p);
    ck_assert_str_eq(w->path, "layers[0]");
    ck_assert_int_eq(w->default_bits, 16); /* inherited */
    ck_assert_int_eq(w->einsum_count, 1);
    ck_assert_str_eq(w->einsums[0].text, "O[n,m,p] += I[n,c,p*2+r] * F[m,c,r]");
    ck_assert_str_eq(w->einsums[0].path, "layers[0].einsum");
    ck_assert_int_eq(w->einsums[0].loc.line, 6);
    ck_assert_int_eq(w->einsums[0].loc.col, 14); /* past the quote */
    ck_assert_ptr_eq(w->einsums[0].loc.file, w->file);
    ck_assert_int_eq(w->ranks[3].loc.line, 7);
    ck_assert_int_eq(w->ranks[3].loc.col, 35);   /* P */
    ck_assert_int_eq(w->padding_count, 1);
    ck_assert_int_eq(w->paddings[0].before[2], 1);
    ck_assert_int_eq(w->paddings[0].after[2], 0);
    ck_assert_int_eq(w->paddings[0].loc.line, 8);
    ck_assert_int_eq(w->precision_count, 1);
    ck_assert_int_eq(w->precisions[0].bits, 32);

    const ef_workload_spec *a = n->layers[1].workload;
    ck_assert_uint_eq(n->layers[1].count, 1);
    ck_assert_int_eq(a->default_bits, 8); /* overridden */
    ck_assert_int_eq(a->einsum_count, 2);
    ck_assert_str_eq(a->einsums[1].path, "layers[1].einsums[1]");
    ck_assert_int_eq(a->einsums[1].loc.line, 15);
    ck_assert_int_eq(a->einsums[1].loc.col, 9);

    /* usable exactly like a workload file's spec */
    ef_workload *bw = ef_einsum_build(w, d);
    ck_assert_ptr_nonnull(bw);
    const ef_tensor *I = &bw->tensors[ef_workload_tensor_id(bw, "I")];
    ck_assert_int_eq(I->extent[2], 16); /* 2*7 + 3 = 17 positions, 1 before */
    ck_assert_int_eq(bw->tensors[ef_workload_tensor_id(bw, "O")].bits, 32);
    ck_assert_int_eq(I->bits, 16);
    ef_workload_destroy(bw);
    bw = ef_einsum_build(a, d);
    ck_assert_ptr_nonnull(bw);
    ck_assert_int_eq(bw->einsum_count, 2);
    ef_workload_destroy(bw);
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
}
END_TEST

/* A bad Einsum in layer k is reported by the einsum stage at its line
 * in the network file, under layers[k]. */
START_TEST(bad_einsum_located_in_layer) {
    char *p = ut_write_temp("name: n\n"
                            "layers:\n"
                            "  - {name: a, einsum: \"O[n] += I[n] * F[n]\", ranks: {N: 2}}\n"
                            "  - {name: b, einsum: \"O[n] += I[n] * F[n]\", ranks: {N: 2}}\n"
                            "  - name: c\n"
                            "    einsums:\n"
                            "      - \"O[n,m] += I[n,c] * F[m,x]\"\n"
                            "    ranks: {N: batch, M: 3, C: 5}\n"
                            "  - name: d\n"
                            "    einsum: \"O[n] += I[n] * F[n]\"\n"
                            "    ranks: {N: 2}\n"
                            "    padding: {X: [1]}\n");
    ef_diags *d = ef_diags_create();
    ef_network_spec *n = load_ok(p, 0, d);
    int built = 0;
    for (int l = 0; l < n->layer_count; l++) {
        ef_workload *w = ef_einsum_build(n->layers[l].workload, d);
        built += w != NULL;
        ef_workload_destroy(w);
    }
    ck_assert_int_eq(built, 2);
    char *all = ef_diags_render(d);
    ck_assert_msg(d->count == 2, "%s", all);
    const ef_diag *e = &d->items[0];
    ck_assert_str_eq(e->path, "layers[2].einsums[0]");
    ck_assert_int_eq(e->line, 7);
    ck_assert_int_eq(e->col, 33); /* the x: the string starts at 10 */
    ck_assert_ptr_nonnull(strstr(e->message, "unknown index"));
    ck_assert_str_eq(d->items[1].path, "layers[3].padding");
    ck_assert_int_eq(d->items[1].line, 12);
    free(all);
    ef_network_spec_destroy(n);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
}
END_TEST

/* The layer limit lives in common.h: 512 load, 513 do not. */
static char *many_layers(int count) {
    size_t cap = 64 + (size_t)count * 80;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    size_t at = (size_t)snprintf(s, cap, "name: many\nlayers:\n");
    for (int i = 0; i < count; i++)
        at += (size_t)snprintf(s + at, cap - at,
                               "  - {name: l%d, einsum: \"O[n] += I[n] * F[n]\", ranks: {N: 1}}\n",
                               i);
    return s;
}

START_TEST(layer_limit) {
    char *y = many_layers(EF_MAX_LAYERS);
    char *p = ut_write_temp(y);
    ef_diags *d = ef_diags_create();
    ef_network_spec *n = load_ok(p, 0, d);
    ck_assert_int_eq(n->layer_count, EF_MAX_LAYERS);
    ef_network_spec_destroy(n);
    unlink(p);
    free(p);
    free(y);
    y = many_layers(EF_MAX_LAYERS + 1);
    p = ut_write_temp(y);
    ck_assert_ptr_null(ef_spec_load_network(p, 0, d));
    char *line = first_line(d, p);
    ck_assert_str_eq(line, "F:3:3: error: layers: expected at most 512 layers, found 513");
    free(line);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
    free(y);
}
END_TEST

/* ---------- bad network files: the exact first diagnostic ---------- */

#define NET_HEAD "name: n\nlayers:\n"
#define FC_LAYER "einsum: \"O[n,m] += I[n,c] * F[m,c]\"\n"

static const struct {
    const char *yaml;
    const char *line;   /* first rendered line, file name as F */
    const char *hint;   /* NULL: none */
} bad[] = {
    /* unknown keys, top level and in a layer */
    {"name: n\nbatches: 2\nlayers: []\n", "F:2:1: error: unknown key \"batches\"",
     "did you mean \"batch\"?"},
    {NET_HEAD "  - name: fc\n    " FC_LAYER "    ranks: {N: 1, M: 2, C: 2}\n    cuont: 2\n",
     "F:6:5: error: layers[0]: unknown key \"cuont\"", "did you mean \"count\"?"},
    {NET_HEAD "  - name: fc\n    " FC_LAYER "    rank: {N: 1, M: 2, C: 2}\n",
     "F:5:5: error: layers[0]: unknown key \"rank\"", "did you mean \"ranks\"?"},
    /* einsum and einsums: exactly one */
    {NET_HEAD "  - name: fc\n    " FC_LAYER "    einsums: [\"O[n] += I[n]\"]\n"
              "    ranks: {N: 1, M: 2, C: 2}\n",
     "F:5:5: error: layers[0]: expected either einsum or einsums, found both",
     "use einsum for one Einsum, einsums for a cascade"},
    {NET_HEAD "  - name: fc\n    ranks: {N: 1}\n",
     "F:3:5: error: layers[0]: missing required key \"einsum\"",
     "use einsums for a cascade of Einsums"},
    {NET_HEAD "  - name: fc\n    einsum: [\"O[n] += I[n] * F[n]\"]\n    ranks: {N: 1}\n",
     "F:4:13: error: layers[0].einsum: expected one Einsum string, found a sequence",
     "einsums: takes a list (a cascade)"},
    {NET_HEAD "  - name: fc\n    einsum: \"\"\n    ranks: {N: 1}\n",
     "F:4:13: error: layers[0].einsum: expected an Einsum such as \"O[p] += I[p+r] * W[r]\", "
     "found the string \"\"",
     NULL},
    /* duplicate layer names, located at the second */
    {NET_HEAD "  - {name: fc, einsum: \"O[n] += I[n] * F[n]\", ranks: {N: 1}}\n"
              "  - {name: x, einsum: \"O[n] += I[n] * F[n]\", ranks: {N: 1}}\n"
              "  - {name: fc, einsum: \"O[n] += I[n] * F[n]\", ranks: {N: 1}}\n",
     "F:5:12: error: layers[2].name: duplicate layer name \"fc\" (first at line 3)", NULL},
    /* count */
    {NET_HEAD "  - name: fc\n    " FC_LAYER "    ranks: {N: 1, M: 2, C: 2}\n    count: 0\n",
     "F:6:12: error: layers[0].count: expected an integer from 1 to 65536, found \"0\"", NULL},
    {NET_HEAD "  - name: fc\n    " FC_LAYER "    ranks: {N: 1, M: 2, C: 2}\n    count: two\n",
     "F:6:12: error: layers[0].count: expected an integer from 1 to 65536, found \"two\"",
     NULL},
    /* batch */
    {"name: n\nbatch: 0\nlayers:\n  - {name: a, einsum: \"O[n] += I[n] * F[n]\", "
     "ranks: {N: batch}}\n",
     "F:2:8: error: batch: expected a positive integer, found \"0\"", NULL},
    {"name: n\nbatch: -4\nlayers:\n  - {name: a, einsum: \"O[n] += I[n] * F[n]\", "
     "ranks: {N: batch}}\n",
     "F:2:8: error: batch: expected a positive integer, found \"-4\"", NULL},
    {"name: n\nbatch: [4]\nlayers:\n  - {name: a, einsum: \"O[n] += I[n] * F[n]\", "
     "ranks: {N: batch}}\n",
     "F:2:8: error: batch: expected a positive integer, found a sequence", NULL},
    /* the batch word misspelt, or a bad bound */
    {NET_HEAD "  - name: fc\n    " FC_LAYER "    ranks: {N: bacth, M: 2, C: 2}\n",
     "F:5:16: error: layers[0].ranks.N: expected a positive integer or the word batch, "
     "found \"bacth\"",
     "did you mean \"batch\"?"},
    {NET_HEAD "  - name: fc\n    " FC_LAYER "    ranks: {N: Batch, M: 2, C: 2}\n",
     "F:5:16: error: layers[0].ranks.N: expected a positive integer or the word batch, "
     "found \"Batch\"",
     "did you mean \"batch\"?"},
    {NET_HEAD "  - name: fc\n    " FC_LAYER "    ranks: {N: \"batch\", M: 2, C: 2}\n",
     "F:5:16: error: layers[0].ranks.N: expected a positive integer or the word batch, "
     "found the string \"batch\"",
     "write batch without quotes: quoted, it is a string"},
    {NET_HEAD "  - name: fc\n    " FC_LAYER "    ranks: {N: 1, M: 0, C: 2}\n",
     "F:5:22: error: layers[0].ranks.M: expected a positive integer or the word batch, "
     "found \"0\"",
     NULL},
    /* the shared workload checks, with the layer's path */
    {NET_HEAD "  - name: fc\n    " FC_LAYER "    ranks: {N: 1, M: 2, C: 2}\n"
              "    padding: {I: [0, [1, 2, 3]]}\n",
     "F:6:22: error: layers[0].padding.I[1]: expected a pair [before, after], found 3 values",
     "an integer pads both sides alike"},
    {NET_HEAD "  - name: fc\n    " FC_LAYER "    ranks: {N: 1, M: 2, C: 2}\n"
              "    precision: {O: 65}\n",
     "F:6:20: error: layers[0].precision.O: expected an integer from 1 to 64, found \"65\"",
     NULL},
    {NET_HEAD "  - name: fc\n    " FC_LAYER "    ranks: {N: 1, M: 2, C: 2}\n"
              "    default_precision: 0\n",
     "F:6:24: error: layers[0].default_precision: expected an integer from 1 to 64, "
     "found \"0\"",
     NULL},
    /* names */
    {NET_HEAD "  - name: \"conv 1\"\n    " FC_LAYER "    ranks: {N: 1, M: 2, C: 2}\n",
     "F:3:11: error: layers[0].name: expected a name (letters, digits, _, - and .), found the "
     "string \"conv 1\"",
     NULL},
    {NET_HEAD "  - " FC_LAYER "    ranks: {N: 1, M: 2, C: 2}\n",
     "F:3:5: error: layers[0]: missing required key \"name\"", NULL},
    /* the layer list */
    {"name: n\nlayers: []\n",
     "F:2:9: error: layers: expected at least one layer, found an empty sequence", NULL},
    {"name: n\nlayers: {conv: 1}\n", "F:2:9: error: layers: expected a sequence, found a mapping",
     NULL},
    {NET_HEAD "  - conv1\n", "F:3:5: error: layers[0]: expected a mapping, found \"conv1\"", NULL},
    {"layers:\n  - {name: a, einsum: \"O[n] += I[n] * F[n]\", ranks: {N: 1}}\n",
     "F:1:1: error: missing required key \"name\"", NULL},
    /* not a network: read as one, so its errors are a network's */
    {"name: a\nlevels: [{name: D, kind: dram}]\n",
     "F:2:1: error: unknown key \"levels\"",
     "allowed keys here: name, description, batch, params, default_precision, layers"},
};

START_TEST(bad_network) {
    char *p = ut_write_temp(bad[_i].yaml);
    ef_diags *d = ef_diags_create();
    ck_assert_msg(ef_spec_load_network(p, 0, d) == NULL, "case %d loaded", _i);
    ck_assert_uint_ge(d->count, 1);
    char *line = first_line(d, p);
    ck_assert_msg(strcmp(line, bad[_i].line) == 0, "case %d:\n want %s\n  got %s", _i,
                  bad[_i].line, line);
    const char *hint = d->items[0].hint;
    if (bad[_i].hint)
        ck_assert_msg(hint && strcmp(hint, bad[_i].hint) == 0, "case %d hint: want %s, got %s",
                      _i, bad[_i].hint, hint ? hint : "NULL");
    else
        ck_assert_msg(hint == NULL, "case %d: unexpected hint %s", _i, hint);
    free(line);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
}
END_TEST

/* Errors in several layers are all collected. */
START_TEST(collects_errors_across_layers) {
    char *p = ut_write_temp(NET_HEAD
                            "  - {name: a, einsum: \"O[n] += I[n] * F[n]\", ranks: {N: 0}}\n"
                            "  - {name: b, einsum: \"O[n] += I[n] * F[n]\", ranks: {N: 1}}\n"
                            "  - {name: a, einsum: \"O[n] += I[n] * F[n]\", ranks: {N: 1}, "
                            "count: 0}\n");
    ef_diags *d = ef_diags_create();
    ck_assert_ptr_null(ef_spec_load_network(p, 0, d));
    char *all = ef_diags_render(d);
    ck_assert_msg(d->count == 3, "%s", all);
    ck_assert_int_eq(d->items[0].line, 3);
    ck_assert_int_eq(d->items[1].line, 5);
    ck_assert_int_eq(d->items[2].line, 5);
    free(all);
    ef_diags_destroy(d);
    unlink(p);
    free(p);
}
END_TEST

START_TEST(sniff_and_null) {
    char *p = ut_write_temp(batch_net);
    ef_diags *d = ef_diags_create();
    ck_assert_int_eq(ef_spec_sniff(p, d), 'n');
    ck_assert_uint_eq(d->count, 0);
    ef_network_spec_destroy(NULL);
    ck_assert_ptr_null(ef_spec_load_network("/nonexistent/einflow/net.yaml", 0, d));
    ck_assert_uint_eq(d->count, 1);
    ef_diags_destroy(d);
    ef_network_spec *n = ef_spec_load_network(p, 0, NULL); /* diagnostics may be dropped */
    ck_assert_ptr_nonnull(n);
    ef_network_spec_destroy(n);
    unlink(p);
    free(p);
}
END_TEST

static Suite *network_suite(void) {
    Suite *s = suite_create("network");
    TCase *b = tcase_create("bundled");
    tcase_set_timeout(b, 60);
    tcase_add_loop_test(b, bundled_counts_and_macs, 0, (int)UT_LEN(nets));
    tcase_add_loop_test(b, bundled_layers_follow_conventions, 0, (int)UT_LEN(nets));
    tcase_add_test(b, alexnet_matches_eyeriss_table);
    suite_add_tcase(s, b);
    TCase *t = tcase_create("batch");
    tcase_add_test(t, batch_override_changes_only_batch_ranks);
    tcase_add_test(t, batch_override_on_bundled_network);
    tcase_add_test(t, batch_defaults_to_one);
    suite_add_tcase(s, t);
    TCase *v = tcase_create("values");
    tcase_add_test(v, workload_file_is_one_layer);
    tcase_add_test(v, layer_values_and_locations);
    tcase_add_test(v, bad_einsum_located_in_layer);
    tcase_add_test(v, layer_limit);
    tcase_add_test(v, sniff_and_null);
    suite_add_tcase(s, v);
    TCase *e = tcase_create("errors");
    tcase_add_loop_test(e, bad_network, 0, (int)UT_LEN(bad));
    tcase_add_test(e, collects_errors_across_layers);
    suite_add_tcase(s, e);
    return s;
}

int main(void) {
    return ut_run_suite(network_suite());
}
