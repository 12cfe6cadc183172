/* Values for --check-values and --check-against: the seeded tensor
 * values a run pushes through its nests, the comparison of each
 * Einsum's output with its direct evaluation, a recurrence's initial
 * step, and the comparison of a whole run with another workload
 * evaluated directly from the same inputs. */
#include "sim/engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: a tiny seeded generator, so values depend only on seed */
static uint64_t next_rand(uint64_t *s) {
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* FNV-1a of a tensor's name: each tensor draws from its own stream, so
 * a tensor has the same values in every workload that names it alike
 * (--check-against relies on it), whatever else the workload holds. */
static uint64_t name_hash(const char *name) {
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *name; name++) h = (h ^ (uint8_t)*name) * UINT64_C(1099511628211);
    return h;
}

void ef_values_init_steps(const ef_workload *w, int tensor, double *data, bool others_nan) {
    const ef_tensor *t = &w->tensors[tensor];
    int d = t->recurrence_dim;
    if (d < 0) return;
    /* element q lies at step (q / inner) % extent[d] */
    uint64_t inner = 1;
    for (int k = d + 1; k < t->dims; k++) inner *= (uint64_t)t->extent[k];
    uint64_t steps = (uint64_t)t->extent[d];
    for (uint64_t q = 0; q < t->words; q++) {
        if ((q / inner) % steps == 0) data[q] = t->init;
        else if (others_nan) data[q] = NAN;
    }
}

ef_values *ef_values_create(const ef_workload *w, uint64_t seed) {
    ef_values *v = ef_calloc(1, sizeof *v);
    if (!v) return NULL;
    v->w = w;
    v->integral = true;
    for (int e = 0; e < w->einsum_count; e++) {
        const ef_einsum *es = &w->einsums[e];
        for (int i = 0; i < es->node_count; i++)
            if (es->nodes[i].kind == EF_EXPR_EXP || es->nodes[i].kind == EF_EXPR_DIV)
                v->integral = false;
    }
    for (int t = 0; t < w->tensor_count; t++) {
        v->data[t] = ef_malloc(sizeof(double) * (size_t)w->tensors[t].words);
        if (!v->data[t]) {
            ef_values_destroy(v);
            return NULL;
        }
        /* small integers keep every sum of products exact in a double,
         * so a MAC done twice or skipped cannot hide in rounding */
        uint64_t state = seed ^ name_hash(w->tensors[t].name);
        for (uint64_t q = 0; q < w->tensors[t].words; q++)
            v->data[t][q] = (double)((int64_t)(next_rand(&state) % 15) - 7);
        ef_values_init_steps(w, t, v->data[t], false);
    }
    return v;
}

void ef_values_destroy(ef_values *v) {
    if (!v) return;
    for (int t = 0; t < EF_MAX_TENSORS * 4; t++) free(v->data[t]);
    free(v);
}

/* "2,0,13": the index of flat element q of t */
static void index_text(const ef_tensor *t, uint64_t q, char *buf, size_t size) {
    int64_t coord[EF_MAX_DIMS];
    for (int d = t->dims - 1; d >= 0; d--) {
        coord[d] = (int64_t)(q % (uint64_t)t->extent[d]) + t->offset[d];
        q /= (uint64_t)t->extent[d];
    }
    size_t len = 0;
    buf[0] = 0;
    for (int d = 0; d < t->dims && len < size; d++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", d ? "," : "",
                                (long long)coord[d]);
}

ef_status ef_values_compare_output(const ef_nest *n, ef_values *v, ef_result *res,
                                   ef_diags *diags) {
    const ef_workload *w = n->workload;
    const ef_tensor *ot = &w->tensors[n->einsum->output.tensor];
    double *want = ef_direct_eval(w, n->einsum, v);
    if (!want) return EF_ERR_NOMEM;
    const double *got = v->data[n->einsum->output.tensor];
    ef_status st = EF_OK;
    uint64_t masked = 0;
    for (uint64_t q = 0; q < ot->words; q++) {
        double a = got[q], b = want[q];
        if (ef_output_word_masked(w, n->einsum, q)) {
            /* only masked points would write it: no value, none to
             * compare, and none for a later Einsum to read by mistake */
            v->data[n->einsum->output.tensor][q] = NAN;
            masked++;
            continue;
        }
        /* the same computation both ways: equal infinities (a running
         * maximum's -inf) and NaNs agree */
        bool same = a == b || (isnan(a) && isnan(b)) ||
                    (!v->integral && fabs(a - b) <= 1e-9 * (fabs(b) > 1 ? fabs(b) : 1));
        if (same) continue;
        char idx[128];
        index_text(ot, q, idx, sizeof idx);
        ef_diags_add(diags, n->einsum->loc.file ? n->einsum->loc.file : "<workload>",
                     n->einsum->loc.line, n->einsum->loc.col, "einsums", NULL, NULL,
                     "value check failed: %s[%s] is %.17g through the mapped nest "
                     "but %.17g by direct evaluation of \"%s\"",
                     ot->name, idx, a, b, n->einsum->text);
        st = EF_ERR_VALUES;
        break;
    }
    if (st == EF_OK) {
        res->values_checked = true;
        /* the elements the Einsum writes: a recurrence's step 0 is given */
        int d = ot->recurrence_dim;
        res->values_compared = (d < 0 ? ot->words
                                      : ot->words - ot->words / (uint64_t)ot->extent[d]) -
                               masked;
    }
    free(want);
    return st;
}

/* ---------- --check-against ---------- */

/* Read by no Einsum of w: what the cascade computes for its user. */
static bool is_final_output(const ef_workload *w, int t) {
    if (w->tensors[t].producer < 0) return false;
    for (int e = 0; e < w->einsum_count; e++)
        for (int i = 0; i < w->einsums[e].input_count; i++)
            if (w->einsums[e].inputs[i].tensor == t && e != w->tensors[t].producer) return false;
    return true;
}

static bool same_shape(const ef_tensor *a, const ef_tensor *b) {
    if (a->dims != b->dims) return false;
    for (int d = 0; d < a->dims; d++)
        if (a->extent[d] != b->extent[d] || a->offset[d] != b->offset[d]) return false;
    return true;
}

static void shape_text(const ef_tensor *t, char *buf, size_t size) {
    size_t len = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < t->dims && len < size; d++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", d ? "," : "",
                                (long long)t->extent[d]);
    if (len < size) snprintf(buf + len, size - len, "]");
}

/* Diagnostics about the other workload point at its file. */
static void other_diag(ef_diags *diags, const ef_workload *o, const char *hint,
                       const char *msg) {
    const ef_workload_spec *s = o->spec;
    ef_diags_add(diags, s && s->file ? s->file : o->name, s ? s->loc.line : 0,
                 s ? s->loc.col : 0, "", hint, NULL, "%s", msg);
}

/* The other workload's inputs take this run's values: each must be an
 * input here too, of the same shape. */
static bool share_inputs(const ef_values *v, const ef_workload *o, ef_values *ov,
                         ef_diags *diags) {
    const ef_workload *w = v->w;
    bool ok = true;
    char msg[512], a[96], b[96];
    for (int t = 0; t < o->tensor_count; t++) {
        const ef_tensor *ot = &o->tensors[t];
        if (ot->producer >= 0) continue;
        int here = ef_workload_tensor_id(w, ot->name);
        if (here < 0 || w->tensors[here].producer >= 0) {
            snprintf(msg, sizeof msg,
                     "--check-against: %s is an input of %s but %s %s, so the two "
                     "cannot be given the same inputs", ot->name, o->name,
                     here < 0 ? "not a tensor of" : "computed by", w->name);
            other_diag(diags, o, "inputs are matched by tensor name", msg);
            ok = false;
            continue;
        }
        if (!same_shape(ot, &w->tensors[here])) {
            shape_text(ot, a, sizeof a);
            shape_text(&w->tensors[here], b, sizeof b);
            snprintf(msg, sizeof msg,
                     "--check-against: input %s has shape %s in %s but %s in %s",
                     ot->name, a, o->name, b, w->name);
            other_diag(diags, o, "give both workloads the same rank bounds (--set applies "
                       "to the run's workload only)", msg);
            ok = false;
            continue;
        }
        memcpy(ov->data[t], v->data[here], sizeof(double) * (size_t)ot->words);
    }
    return ok;
}

ef_status ef_values_check_against(const ef_values *v, const ef_workload *o,
                                  ef_values_check *out, ef_diags *diags) {
    const ef_workload *w = v->w;
    memset(out, 0, sizeof *out);
    snprintf(out->workload, sizeof out->workload, "%s", o->name);
    out->tolerance = EF_CHECK_AGAINST_TOLERANCE;
    char msg[640];
    ef_values *ov = ef_values_create(o, 0);
    if (!ov) return EF_ERR_NOMEM;
    ef_status st = share_inputs(v, o, ov, diags) ? EF_OK : EF_ERR_SPEC;
    for (int e = 0; st == EF_OK && e < o->einsum_count; e++) {
        const ef_einsum *es = &o->einsums[e];
        double *res = ef_direct_eval(o, es, ov);
        if (!res) {
            st = EF_ERR_NOMEM;
            break;
        }
        free(ov->data[es->output.tensor]);
        ov->data[es->output.tensor] = res;
    }
    int tensor_ids[EF_MAX_TENSORS * 4][2];
    for (int t = 0; st == EF_OK && t < w->tensor_count; t++) {
        if (!is_final_output(w, t)) continue;
        int ot = ef_workload_tensor_id(o, w->tensors[t].name);
        if (ot < 0 || !is_final_output(o, ot)) continue;
        if (!same_shape(&w->tensors[t], &o->tensors[ot])) {
            char a[96], b[96];
            shape_text(&w->tensors[t], a, sizeof a);
            shape_text(&o->tensors[ot], b, sizeof b);
            snprintf(msg, sizeof msg, "--check-against: output %s has shape %s in %s but %s in %s",
                     w->tensors[t].name, a, w->name, b, o->name);
            other_diag(diags, o, NULL, msg);
            st = EF_ERR_SPEC;
            break;
        }
        tensor_ids[out->tensor_count][0] = t;
        tensor_ids[out->tensor_count][1] = ot;
        snprintf(out->tensors[out->tensor_count++], EF_MAX_NAME, "%s", w->tensors[t].name);
    }
    if (st == EF_OK && out->tensor_count == 0) {
        snprintf(msg, sizeof msg,
                 "--check-against: %s and %s have no output in common (an output is a "
                 "tensor an Einsum writes and no other reads; they are matched by name)",
                 w->name, o->name);
        other_diag(diags, o, NULL, msg);
        st = EF_ERR_SPEC;
    }
    /* the worst element, by how far past (or how close to) its allowance */
    double worst_ratio = -1;
    int worst_k = -1;
    uint64_t worst_q = 0;
    for (int k = 0; st == EF_OK && k < out->tensor_count; k++) {
        const ef_tensor *t = &w->tensors[tensor_ids[k][0]];
        const double *a = v->data[tensor_ids[k][0]], *b = ov->data[tensor_ids[k][1]];
        for (uint64_t q = 0; q < t->words; q++) {
            double err = 0, rel = 0, ratio = 0;
            if (a[q] != b[q]) {
                double mag = fmax(fabs(a[q]), fabs(b[q]));
                err = fabs(a[q] - b[q]);
                if (!isfinite(err)) {
                    /* a NaN, or an infinity against anything else */
                    err = rel = ratio = INFINITY;
                } else {
                    rel = err / mag;
                    ratio = err / (out->tolerance * fmax(1.0, mag));
                }
            }
            if (err > out->max_abs_error) out->max_abs_error = err;
            if (rel > out->max_rel_error) out->max_rel_error = rel;
            if (ratio > worst_ratio) {
                worst_ratio = ratio;
                worst_k = k;
                worst_q = q;
            }
            out->words_compared++;
        }
    }
    if (st == EF_OK) {
        out->passed = worst_ratio <= 1;
        if (!out->passed) {
            const ef_tensor *t = &w->tensors[tensor_ids[worst_k][0]];
            char idx[128];
            index_text(t, worst_q, idx, sizeof idx);
            snprintf(msg, sizeof msg,
                     "--check-against failed: %s[%s] is %.17g in %s but %.17g by direct "
                     "evaluation of %s (largest errors: %.3g absolute, %.3g relative; allowed: "
                     "%g x max(1, |value|))",
                     t->name, idx, v->data[tensor_ids[worst_k][0]][worst_q], w->name,
                     ov->data[tensor_ids[worst_k][1]][worst_q], o->name, out->max_abs_error,
                     out->max_rel_error, out->tolerance);
            /* at the other workload's Einsum that writes the tensor */
            const ef_einsum *we = &o->einsums[o->tensors[tensor_ids[worst_k][1]].producer];
            ef_diags_add(diags, we->loc.file ? we->loc.file : o->name, we->loc.line,
                         we->loc.col, "einsums", NULL, NULL, "%s", msg);
            st = EF_ERR_VALUES;
        }
    }
    ef_values_destroy(ov);
    return st;
}
