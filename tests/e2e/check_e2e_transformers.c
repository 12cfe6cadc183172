/* End to end: the bundled transformer network files (BERT-base, GPT-2
 * small, LLaMA-7B prefill and decode, GQA decode, ViT-B/16) load,
 * build, and do the MACs of their models, layer by layer, at their
 * default parameters and with one parameter set as --set would.
 *
 * The expected MACs are the closed forms of each model's published
 * configuration (hidden size, heads, head dimension, FFN size: the
 * sources are named at each function), written here from the papers,
 * not read back from einflow; the totals at the defaults are also the
 * numbers the files' headers print. Loading and building is enough to
 * count MACs (the product of the bounds of the ranks of every `+=`
 * product Einsum), so the whole suite runs in well under a second. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"
#include "einflow/einsum.h"
#include "einflow/spec.h"

#define MAX_LAYERS 12

/* The parameters a file may have; 0 where it has none. */
typedef struct {
    uint64_t batch, seq, ctx, heads, kv_heads, image, block;
} model_params;

static uint64_t param_value(const model_params *v, const char *name) {
    if (!strcmp(name, "batch")) return v->batch;
    if (!strcmp(name, "seq")) return v->seq;
    if (!strcmp(name, "ctx")) return v->ctx;
    if (!strcmp(name, "heads")) return v->heads;
    if (!strcmp(name, "kv_heads")) return v->kv_heads;
    if (!strcmp(name, "image")) return v->image;
    if (!strcmp(name, "block")) return v->block;
    return 0;
}

static void apply_set(model_params *v, const ef_param_value *s) {
    if (!strcmp(s->name, "batch")) v->batch = s->value;
    else if (!strcmp(s->name, "seq")) v->seq = s->value;
    else if (!strcmp(s->name, "ctx")) v->ctx = s->value;
    else if (!strcmp(s->name, "heads")) v->heads = s->value;
    else if (!strcmp(s->name, "kv_heads")) v->kv_heads = s->value;
    else if (!strcmp(s->name, "image")) v->image = s->value;
    else if (!strcmp(s->name, "block")) v->block = s->value;
    else ck_abort_msg("no parameter %s in the test's model", s->name);
}

/* A linear layer over T tokens: T x d_in x d_out MACs. */
static uint64_t linear(uint64_t tokens, uint64_t d_in, uint64_t d_out) {
    return tokens * d_in * d_out;
}

/* Attention of P query tokens against M keys: Q.K and A.V, each
 * heads x P x M x head_dim. */
static uint64_t attention(uint64_t heads, uint64_t queries, uint64_t keys, uint64_t head_dim) {
    return 2 * heads * queries * keys * head_dim;
}

/* Causal attention of S tokens: query p meets keys 0 .. p, so
 * 1 + 2 + ... + S = S (S + 1) / 2 scores per head, each for Q.K and
 * for A.V. The blocks of B queries skip the keys past a block's last
 * query, and inside the diagonal blocks a masked score is not computed
 * either: B leaves the MACs as they are. */
static uint64_t causal_attention(uint64_t heads, uint64_t tokens, uint64_t head_dim) {
    return heads * tokens * (tokens + 1) * head_dim;
}

/* BERT-base: Devlin et al., NAACL 2019, section 3: hidden 768, 12
 * heads (64 each), FFN 4 x 768 = 3072. Layers: q, k, v, attention,
 * out, ffn1, gelu (no MACs), ffn2. */
static int bert_base(const model_params *v, uint64_t *macs) {
    const uint64_t d = 768, heads = 12, ffn = 4 * d, t = v->batch * v->seq;
    uint64_t m[] = {linear(t, d, d), linear(t, d, d), linear(t, d, d),
                    v->batch * attention(heads, v->seq, v->seq, d / heads), linear(t, d, d),
                    linear(t, d, ffn), 0, linear(t, ffn, d)};
    memcpy(macs, m, sizeof m);
    return (int)(sizeof m / sizeof m[0]);
}

/* GPT-2 small: Radford et al. 2019, Table 2 (12 layers, d_model 768),
 * with GPT-1's 12 heads and 3072-wide FFN (Radford et al. 2018,
 * section 4.1). Layers: fused q/k/v (768 -> 3 x 768), attention,
 * projection, FFN up, gelu, FFN down. */
static int gpt2_small(const model_params *v, uint64_t *macs) {
    const uint64_t d = 768, heads = 12, ffn = 3072, t = v->batch * v->seq;
    uint64_t m[] = {linear(t, d, 3 * d),
                    v->batch * causal_attention(heads, v->seq, d / heads),
                    linear(t, d, d), linear(t, d, ffn), 0, linear(t, ffn, d)};
    memcpy(macs, m, sizeof m);
    return (int)(sizeof m / sizeof m[0]);
}

/* LLaMA-7B: Touvron et al. 2023, Table 2 (dimension 4096, 32 heads)
 * and section 2.2 (SwiGLU, hidden 2/3 x 4d rounded up to a multiple of
 * 256: 11008). Layers: q, k, v, attention, o, gate, up, SiLU x up (no
 * MACs), down; `tokens` new tokens against `keys` keys, causal in
 * blocks of `block` queries in prefill (0: decode, no mask). */
static int llama7b(const model_params *v, uint64_t tokens, uint64_t keys, uint64_t block,
                   uint64_t *macs) {
    const uint64_t d = 4096, heads = 32, ffn = 11008, t = v->batch * tokens;
    uint64_t att = block ? causal_attention(heads, tokens, d / heads)
                         : attention(heads, tokens, keys, d / heads);
    uint64_t m[] = {linear(t, d, d),   linear(t, d, d),
                    linear(t, d, d),   v->batch * att,
                    linear(t, d, d),   linear(t, d, ffn),
                    linear(t, d, ffn), 0,
                    linear(t, ffn, d)};
    memcpy(macs, m, sizeof m);
    return (int)(sizeof m / sizeof m[0]);
}

static int llama7b_prefill(const model_params *v, uint64_t *macs) {
    return llama7b(v, v->seq, v->seq, v->block, macs);
}

static int llama7b_decode(const model_params *v, uint64_t *macs) {
    return llama7b(v, 1, v->ctx, 0, macs);
}

/* GQA decode in Mistral 7B's shapes: Jiang et al. 2023, Table 1 (dim
 * 4096, head_dim 128, hidden_dim 14336, n_heads 32, n_kv_heads 8).
 * Every query head still meets every cached key: the MACs of attention
 * are those of multi-head attention; K and V projections are
 * kv_heads x 128 wide. */
static int gqa_decode(const model_params *v, uint64_t *macs) {
    const uint64_t d = 4096, head_dim = 128, ffn = 14336, t = v->batch;
    uint64_t q = v->heads * head_dim, kv = v->kv_heads * head_dim;
    uint64_t m[] = {linear(t, d, q),   linear(t, d, kv),
                    linear(t, d, kv),  v->batch * attention(v->heads, 1, v->ctx, head_dim),
                    linear(t, q, d),   linear(t, d, ffn),
                    linear(t, d, ffn), 0,
                    linear(t, ffn, d)};
    memcpy(macs, m, sizeof m);
    return (int)(sizeof m / sizeof m[0]);
}

/* ViT-B/16: Dosovitskiy et al., ICLR 2021, Table 1 (hidden 768, MLP
 * 3072, 12 heads) and section 3.1: (image/16)^2 patches of 16 x 16 x 3
 * projected to 768, plus a class token. Layers: patch embedding, then
 * one encoder layer as BERT's. */
static int vit_b16(const model_params *v, uint64_t *macs) {
    const uint64_t d = 768, heads = 12, ffn = 3072, side = v->image / 16;
    const uint64_t tokens = side * side + 1, t = v->batch * tokens;
    uint64_t m[] = {v->batch * side * side * (16 * 16 * 3) * d,
                    linear(t, d, d),
                    linear(t, d, d),
                    linear(t, d, d),
                    v->batch * attention(heads, tokens, tokens, d / heads),
                    linear(t, d, d),
                    linear(t, d, ffn),
                    0,
                    linear(t, ffn, d)};
    memcpy(macs, m, sizeof m);
    return (int)(sizeof m / sizeof m[0]);
}

typedef struct {
    const char *file;
    const char *layers[MAX_LAYERS];
    int (*expect)(const model_params *v, uint64_t *macs);
    model_params defaults;          /* as the file's params: declare    */
    const char *params[7];          /* the file's parameters, in order  */
    uint64_t header_total;          /* the total its header prints      */
    ef_param_value set;             /* one value set as --set would     */
    uint64_t header_total_set;      /* the header's total with it; 0: not
                                     * printed there                    */
} transformer_file;

static const transformer_file files[] = {
    {"workloads/bert_base.yaml",
     {"q_proj", "k_proj", "v_proj", "attention", "out_proj", "ffn1", "gelu", "ffn2"},
     bert_base, {.batch = 1, .seq = 512}, {"batch", "seq"}, 4026531840,
     {"seq", 128}, 931135488},
    {"workloads/gpt2_small.yaml",
     {"attn.c_attn", "attn", "attn.c_proj", "mlp.c_fc", "mlp.gelu", "mlp.c_proj"},
     gpt2_small, {.batch = 1, .seq = 1024, .block = 256}, {"batch", "seq", "block"}, 8053850112,
     {"seq", 4096}, 0},
    {"workloads/llama7b_prefill.yaml",
     {"q_proj", "k_proj", "v_proj", "attention", "o_proj", "ffn.gate", "ffn.up", "ffn.act",
      "ffn.down"},
     llama7b_prefill, {.batch = 1, .seq = 2048, .block = 256}, {"batch", "seq", "block"},
     UINT64_C(431652601856), {"seq", 4096}, UINT64_C(897664942080)},
    {"workloads/llama7b_decode.yaml",
     {"q_proj", "k_proj", "v_proj", "attention", "o_proj", "ffn.gate", "ffn.up", "ffn.act",
      "ffn.down"},
     llama7b_decode, {.batch = 1, .ctx = 2048}, {"batch", "ctx"}, 219152384,
     {"ctx", 8192}, 269484032},
    {"workloads/llama_gqa_decode.yaml",
     {"q_proj", "k_proj", "v_proj", "attention", "o_proj", "ffn.gate", "ffn.up", "ffn.act",
      "ffn.down"},
     gqa_decode, {.batch = 1, .ctx = 4096, .heads = 32, .kv_heads = 8},
     {"batch", "ctx", "heads", "kv_heads"}, 251658240, {"ctx", 8192}, 285212672},
    {"workloads/vit_b16.yaml",
     {"patch_embed", "q_proj", "k_proj", "v_proj", "attention", "out_proj", "mlp.fc1",
      "mlp.gelu", "mlp.fc2"},
     vit_b16, {.batch = 1, .image = 224}, {"batch", "image"}, 1569560064,
     {"image", 384}, UINT64_C(4935058944)},
};
#define NFILES ((int)(sizeof files / sizeof files[0]))

/* MACs of one built layer: the iteration points of its `+=` product
 * Einsums (what summary.macs counts) that a causal block's mask keeps:
 * with both mask ranks, the (key, query) pairs with key <= query +
 * offset times the other ranks' bounds. */
static uint64_t layer_macs(const ef_workload *w) {
    uint64_t total = 0;
    for (int e = 0; e < w->einsum_count; e++) {
        const ef_einsum *es = &w->einsums[e];
        if (!es->is_mac) continue;
        bool masked = w->mask_key >= 0 && es->rank_used[w->mask_key] &&
                      es->rank_used[w->mask_query];
        uint64_t m = 1;
        for (int r = 0; r < w->rank_count; r++)
            if (es->rank_used[r] && (!masked || (r != w->mask_key && r != w->mask_query)))
                ck_assert(ef_mul_u64(m, w->rank_bounds[r], &m));
        if (masked) {
            uint64_t pairs = 0, keys = w->rank_bounds[w->mask_key];
            for (uint64_t q = 0; q < w->rank_bounds[w->mask_query]; q++) {
                int64_t upto = (int64_t)q + w->mask_offset + 1; /* keys 0 .. q + offset */
                pairs += upto <= 0 ? 0 : (uint64_t)upto < keys ? (uint64_t)upto : keys;
            }
            ck_assert(ef_mul_u64(m, pairs, &m));
        }
        total += m;
    }
    return total;
}

/* Loads f with set[0 .. n), checks its parameters against v and every
 * layer's MACs against the closed form; returns the total. */
static uint64_t check_file(const transformer_file *f, const ef_param_value *set, int n,
                           const model_params *v) {
    ef_diags *d = ef_diags_create();
    ef_network_spec *net = ef_spec_load_network_set(f->file, set, n, d);
    char *all = ef_diags_render(d);
    ck_assert_msg(net != NULL && d->count == 0, "%s does not load:\n%s", f->file, all);
    free(all);
    int np = 0;
    while (np < 7 && f->params[np]) np++;
    ck_assert_int_eq(net->param_count, np);
    for (int i = 0; i < np; i++) {
        ck_assert_str_eq(net->params[i].name, f->params[i]);
        ck_assert_uint_eq(net->params[i].value, param_value(v, f->params[i]));
    }
    uint64_t want[MAX_LAYERS];
    int layers = f->expect(v, want);
    uint64_t total = 0;
    int k = 0; /* the network's layers: a causal one is split in blocks */
    for (int l = 0; l < layers; l++) {
        uint64_t got = 0, blocks = 0;
        char block_name[EF_MAX_NAME + 24];
        for (;;) {
            ck_assert_msg(k < net->layer_count, "%s: no layer %s", f->file, f->layers[l]);
            const ef_workload_spec *ws = net->layers[k].workload;
            snprintf(block_name, sizeof block_name, "%s.q%" PRIu64, f->layers[l], blocks);
            bool block = !strcmp(ws->name, block_name);
            if (!block && blocks) break;
            if (!block) ck_assert_str_eq(ws->name, f->layers[l]);
            ck_assert_int_eq(ws->default_bits, 16);
            ck_assert_uint_eq(net->layers[k].count, 1);
            ef_workload *w = ef_einsum_build(ws, d);
            all = ef_diags_render(d);
            ck_assert_msg(w != NULL, "%s: %s does not build:\n%s", f->file, ws->name, all);
            free(all);
            got += layer_macs(w);
            ef_workload_destroy(w);
            k++;
            if (!block) break;
            blocks++;
            if (k == net->layer_count) break;
        }
        /* a causal layer: seq / block blocks, in order */
        if (blocks) ck_assert_uint_eq(blocks, v->seq / v->block);
        ck_assert_msg(got == want[l], "%s: %s does %" PRIu64 " MACs, the model %" PRIu64,
                      f->file, f->layers[l], got, want[l]);
        total += got;
    }
    ck_assert_int_eq(k, net->layer_count);
    ef_network_spec_destroy(net);
    ef_diags_destroy(d);
    return total;
}

START_TEST(macs_at_defaults) {
    const transformer_file *f = &files[_i];
    uint64_t total = check_file(f, NULL, 0, &f->defaults);
    ck_assert_msg(total == f->header_total, "%s: %" PRIu64 " MACs in all, the header says %" PRIu64,
                  f->file, total, f->header_total);
}
END_TEST

START_TEST(macs_with_a_parameter_set) {
    const transformer_file *f = &files[_i];
    model_params v = f->defaults;
    apply_set(&v, &f->set);
    uint64_t total = check_file(f, &f->set, 1, &v);
    if (f->header_total_set)
        ck_assert_msg(total == f->header_total_set,
                      "%s with %s=%" PRIu64 ": %" PRIu64 " MACs, the header says %" PRIu64,
                      f->file, f->set.name, f->set.value, total, f->header_total_set);
    /* and the batch multiplies every layer */
    ef_param_value both[] = {f->set, {"batch", 4}};
    v.batch = 4;
    ck_assert_uint_eq(check_file(f, both, 2, &v), 4 * total);
}
END_TEST

/* GQA's group structure: kv_heads may change as long as it divides
 * heads (MHA at 32, MQA at 1); else the bound J = heads/kv_heads has
 * no whole value and the file says so at that bound. */
START_TEST(gqa_groups) {
    const transformer_file *f = &files[4];
    static const uint64_t kv[] = {1, 2, 4, 8, 16, 32};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        model_params v = f->defaults;
        v.kv_heads = kv[i];
        ef_param_value set = {"kv_heads", kv[i]};
        check_file(f, &set, 1, &v);
    }
    ef_diags *d = ef_diags_create();
    ef_param_value five = {"kv_heads", 5};
    ck_assert_ptr_null(ef_spec_load_network_set(f->file, &five, 1, d));
    ck_assert_uint_eq(d->count, 1);
    ck_assert_str_eq(d->items[0].path, "layers[3].ranks.J");
    ck_assert_str_eq(d->items[0].message,
                     "expected a division without remainder, found 32 / 5 (remainder 2)");
    ef_diags_destroy(d);
}
END_TEST

/* `einflow validate` names every parameter with its value. */
START_TEST(validate_lists_params) {
    e2e_result r;
    ck_assert(e2e_runl(&r, "validate", "workloads/llama_gqa_decode.yaml", "workloads/vit_b16.yaml",
                       NULL));
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_str_eq(r.out,
                     "workloads/llama_gqa_decode.yaml: ok (network llama_gqa_decode: 9 layers, 9 "
                     "with repeats, batch 1, ctx 4096, heads 32, kv_heads 8)\n"
                     "workloads/vit_b16.yaml: ok (network vit_b16: 9 layers, 9 with repeats, "
                     "batch 1, image 224)\n");
    ck_assert_str_eq(r.err, "");
    e2e_result_free(&r);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("e2e_transformers");
    TCase *tc = tcase_create("transformers");
    tcase_set_timeout(tc, E2E_TCASE_TIMEOUT);
    tcase_add_loop_test(tc, macs_at_defaults, 0, NFILES);
    tcase_add_loop_test(tc, macs_with_a_parameter_set, 0, NFILES);
    tcase_add_test(tc, gqa_groups);
    tcase_add_test(tc, validate_lists_params);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    e2e_init();
    return e2e_run_suite(suite());
}
