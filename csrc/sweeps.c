/*
 * Forward, adjoint and tangent-linear sweeps over depth for one chunk of samples.
 *
 * This file is compiled once per instruction-set level (see meson.build); SN_ISA names the
 * level and suffixes the entry points, and dispatch.c picks one at run time. The arithmetic is
 * the same at every level; only the vector width (and FMA contraction) differ.
 *
 * Formulas: shared MATH.md sections 2 (RK step), 3 (data cost), 4 (adjoint), 5 (sensitivity).
 */
#include <sched.h>

#include "kernels_inl.h"
#include "sweeps.h"
#include "fused_inl.h"

#define SN_CAT2(a, b) a##_##b
#define SN_CAT(a, b) SN_CAT2(a, b)
#define SN_FN(name) SN_CAT(name, SN_ISA)

/*
 * The weight gradient sum_s g_s y_s^T: as a product with the samples inside (y_s transposed)
 * from width 16 on where its columns fill whole vectors, and at every width from 96 on;
 * otherwise by dot products along the samples (sn_gemm_nt), which pad nothing. (Measured with
 * AVX-512: the first is 3 % faster at width 16 and 4-12 % from 100 on, the second 5-11 %
 * faster at widths 20-68 that are not multiples of 8.)
 */
static int wgrad_over_samples(ptrdiff_t d) { return d >= 16 && (d % SN_VL == 0 || d >= 96); }

/* --- layout helpers ------------------------------------------------------------------ */

/* rows (n x m, m <= d) -> component-major d x ld, zero-padded in both directions */
static void to_cols(ptrdiff_t d, ptrdiff_t n, ptrdiff_t ld, const double *restrict x,
                    ptrdiff_t m, double *restrict xc)
{
    for (ptrdiff_t j = 0; j < d; j++) {
        double *restrict row = xc + j * ld;
        ptrdiff_t r = 0;
        if (j < m)
            for (; r < n; r++) row[r] = x[r * m + j];
        for (; r < ld; r++) row[r] = 0.0;
    }
}

/* the n real columns of component-major d x ld -> rows with stride ldx (>= d) */
static void to_rows(ptrdiff_t d, ptrdiff_t n, ptrdiff_t ld, const double *restrict xc,
                    double *restrict x, ptrdiff_t ldx)
{
    for (ptrdiff_t r = 0; r < n; r++)
        for (ptrdiff_t j = 0; j < d; j++) x[r * ldx + j] = xc[j * ld + r];
}

/* the n real columns of d rows with leading dimension ld are finite */
static int cols_finite(ptrdiff_t d, ptrdiff_t n, ptrdiff_t ld, const double *x)
{
    int ok = 1;
    for (ptrdiff_t j = 0; j < d; j++) ok &= snode_all_finite(n, x + j * ld);
    return ok;
}

/* y = x + sum_u c[u] k[u] over n terms (from sn_stage_terms; a copy of x if n = 0) */
static void stage_sum(int n, const double *c, const double *const *k, ptrdiff_t len,
                      const double *restrict x, double *restrict y)
{
    if (n == 0) {
        memcpy(y, x, (size_t)len * sizeof(double));
        return;
    }
    const double *restrict k0 = k[0];
    for (ptrdiff_t e = 0; e < len; e++) y[e] = x[e] + c[0] * k0[e];
    for (int u = 1; u < n; u++) {
        const double *restrict ku = k[u];
        for (ptrdiff_t e = 0; e < len; e++) y[e] += c[u] * ku[e];
    }
}

/* y = x + sum_j coef[j] * K_j over the stages j < s with nonzero coefficient */
static void stage_input(int s, const double *restrict coef, ptrdiff_t len,
                        const double *restrict x, const double *restrict Ks,
                        double *restrict y)
{
    const double *k[SN_MAX_STAGES];
    double c[SN_MAX_STAGES];
    stage_sum(sn_stage_terms(s, coef, Ks, len, c, k), c, k, len, x, y);
}

/* xout = x + sum_s coef[s] * K_s (xout may be x), two stages per pass */
static void combine_to(int S, const double *restrict coef, ptrdiff_t len,
                       const double *restrict Ks, const double *x, double *xout)
{
    double *restrict xo = xout;
    int s = 0;
    if (xout != x) {
        /* the first pass from x (the others add in place) */
        const double c0 = coef[0], c1 = S > 1 ? coef[1] : 0.0;
        const double *restrict k0 = Ks, *restrict k1 = Ks + (S > 1 ? len : 0);
        for (ptrdiff_t e = 0; e < len; e++) xo[e] = x[e] + (c0 * k0[e] + c1 * k1[e]);
        s = S > 1 ? 2 : 1;
    }
    for (; s + 1 < S; s += 2) {
        double c0 = coef[s], c1 = coef[s + 1];
        const double *restrict k0 = Ks + (ptrdiff_t)s * len;
        const double *restrict k1 = Ks + (ptrdiff_t)(s + 1) * len;
        for (ptrdiff_t e = 0; e < len; e++) xo[e] += c0 * k0[e] + c1 * k1[e];
    }
    if (s < S) {
        double c0 = coef[s];
        const double *restrict k0 = Ks + (ptrdiff_t)s * len;
        for (ptrdiff_t e = 0; e < len; e++) xo[e] += c0 * k0[e];
    }
}

/* x += sum_s coef[s] * K_s */
static void combine(int S, const double *restrict coef, ptrdiff_t len, const double *restrict Ks,
                    double *restrict x)
{
    combine_to(S, coef, len, Ks, x, x);
}

/* x += sum_s K_s, two stages per pass */
static void combine_unit(int S, ptrdiff_t len, const double *restrict Ks, double *restrict x)
{
    int s = 0;
    for (; s + 1 < S; s += 2) {
        const double *restrict k0 = Ks + (ptrdiff_t)s * len;
        const double *restrict k1 = Ks + (ptrdiff_t)(s + 1) * len;
        for (ptrdiff_t e = 0; e < len; e++) x[e] += k0[e] + k1[e];
    }
    if (s < S) {
        const double *restrict k0 = Ks + (ptrdiff_t)s * len;
        for (ptrdiff_t e = 0; e < len; e++) x[e] += k0[e];
    }
}

/* Scaled tableau: ha[s*S+j] = h a_sj, hb[s] = h b_s (at most SN_MAX_STAGES stages). */
typedef struct {
    double ha[SN_MAX_STAGES * SN_MAX_STAGES];
    double hb[SN_MAX_STAGES];
} scaled_tableau;

static void scale_tableau(const snode_net *net, scaled_tableau *t)
{
    const int S = net->S;
    for (int s = 0; s < S; s++) {
        t->hb[s] = net->h * net->bw[s];
        for (int j = 0; j < S; j++) t->ha[s * S + j] = j < s ? net->h * net->a[s * S + j] : 0.0;
    }
}

/* From this width on, the products of a step read W in packed row tiles (sn_pack), packed
 * once a step and read by all S stages: one contiguous stream per tile. */
#ifndef SN_PACK_MIN_D
#define SN_PACK_MIN_D 16
#endif
static ptrdiff_t pack_scratch(ptrdiff_t d) { return d >= SN_PACK_MIN_D ? sn_packed_size(d, d) : 0; }

/*
 * One RK step forward on a d x ld block: xout = x_{i+1} from x = x_i (xout may be x). Writes
 * the stage values Ks (S x d x ld) and, for the stages whose input is not x itself, the stage
 * inputs Ys (S x d x ld). Wp: pack_scratch(d) scratch.
 */
static void step_forward(const snode_net *net, const scaled_tableau *t, ptrdiff_t i, ptrdiff_t ld,
                         const double *x, double *xout, double *restrict Ys,
                         double *restrict Ks, double *restrict Wp)
{
    const ptrdiff_t d = net->d, dn = d * ld;
    const int S = net->S, packed = d >= SN_PACK_MIN_D;
    const double *Wi = net->W + i * d * d, *bi = net->b + i * d;
    if (packed) sn_pack(d, d, Wi, d, Wp);
    for (int s = 0; s < S; s++) {
        double *k = Ks + (ptrdiff_t)s * dn;
        /* the stage's input: x itself when no earlier stage feeds it */
        const double *kj[SN_MAX_STAGES];
        double cj[SN_MAX_STAGES];
        const int nj = sn_stage_terms(s, t->ha + s * S, Ks, dn, cj, kj);
        const double *y = x;
        if (nj > 0) {
            y = Ys + (ptrdiff_t)s * dn;
            stage_sum(nj, cj, kj, dn, x, Ys + (ptrdiff_t)s * dn);
        }
        if (packed)
            sn_gemm_packed_act(d, d, ld, Wp, bi, y, k, net->act, NULL);
        else
            sn_gemm_nn_act(d, d, ld, Wi, d, bi, y, k, net->act, NULL);
        if (!SN_FUSED_ACT(net->act)) sn_activation(net->act, dn, k, k, NULL);
    }
    combine_to(S, t->hb, dn, Ks, x, xout);
}

/*
 * Yt (ld x ldt) = the transpose of stage s's input y = x + sum_{j<s} ha[j] K_j (d x ld each,
 * K_j = Ks + j d ld), the columns from d on zeroed: formed block by block as it is transposed.
 */
static void stage_input_t(int s, const double *restrict ha, ptrdiff_t d, ptrdiff_t ld,
                          const double *restrict x, const double *restrict Ks,
                          double *restrict Yt, ptrdiff_t ldt)
{
    const double *kj[SN_MAX_STAGES];
    double cj[SN_MAX_STAGES];
    const int nj = sn_stage_terms(s, ha, Ks, d * ld, cj, kj);
    ptrdiff_t j0 = 0;
#ifdef SN_HAVE_TRANSPOSE8
    for (; j0 + 8 <= d; j0 += 8)
        for (ptrdiff_t c0 = 0; c0 < ld; c0 += 8) {
            vd r[8], o[8];
            for (int q = 0; q < 8; q++) {
                const ptrdiff_t e = (j0 + q) * ld + c0;
                /* as stage_input: the first term from x, then added in place */
                vd y = SN_LD(x + e);
                if (nj > 0) y = y + cj[0] * SN_LD(kj[0] + e);
                for (int u = 1; u < nj; u++) y += cj[u] * SN_LD(kj[u] + e);
                r[q] = y;
            }
            sn_transpose8(r, o);
            for (int q = 0; q < 8; q++) SN_ST(Yt + (c0 + q) * ldt + j0, o[q]);
        }
#endif
    for (ptrdiff_t c = 0; c < ld; c++) {
        for (ptrdiff_t j = j0; j < d; j++) {
            const ptrdiff_t e = j * ld + c;
            double y = x[e];
            if (nj > 0) y = y + cj[0] * kj[0][e];
            for (int u = 1; u < nj; u++) y += cj[u] * kj[u][e];
            Yt[c * ldt + j] = y;
        }
        for (ptrdiff_t j = d; j < ldt; j++) Yt[c * ldt + j] = 0.0;
    }
}

/*
 * The adjoint's stage quantity on d rows of ld columns: g = s'(z) * (hb lam + sum_q cr[q] yr[q])
 * with s'(z) from the stage values ks, and gb[j] = (or += unless init) the row sums of g. ACT
 * and NR (the number of terms, or -1 for nr) are constants after inlining where possible.
 */
SN_INLINE void g_pass(const int ACT, const int NR, int nr, ptrdiff_t d, ptrdiff_t ld, double hb,
                      const double *cr, const double *const *yr, const double *restrict lam,
                      const double *restrict ks, double *restrict g, double *restrict gb,
                      int init)
{
    const int n = NR >= 0 ? NR : nr;
    for (ptrdiff_t j = 0; j < d; j++) {
        vd acc0 = {0}, acc1 = {0};
        const ptrdiff_t o = j * ld;
        for (ptrdiff_t c = 0; c < ld; c += SN_VL) {
            vd kb = hb * SN_LD(lam + o + c);
            for (int q = 0; q < n; q++) kb += cr[q] * SN_LD(yr[q] + o + c);
            const vd gv = sn_deriv_v(ACT, SN_LD(ks + o + c)) * kb;
            SN_ST(g + o + c, gv);
            if ((c / SN_VL) & 1)
                acc1 += gv;
            else
                acc0 += gv;
        }
        const double sum = sn_hsum(acc0 + acc1);
        gb[j] = init ? sum : gb[j] + sum;
    }
}

/*
 * One RK step backward: lam <- lambda_i from lambda_{i+1}, using the step's state xi and stage
 * values Ks (the derivatives s'(z_s) come from the values). gWi (d x d) and gbi (d) receive
 * this step's gradient (added to them if accumulate). G, Ybar: S x d x ld scratch each; T:
 * wgrad_scratch(d, ld) scratch; Ys: the stage inputs (S x d x ld), where the weight gradient
 * needs them (!wgrad_over_samples(d)); Wp: pack_scratch(d).
 */
/* (kept out of line: inlined into the sweep it spills its pointers in the hot loops) */
__attribute__((noinline)) static void
step_backward(const snode_net *net, const scaled_tableau *t, ptrdiff_t i, ptrdiff_t ld,
              double *restrict lam, const double *restrict xi, const double *restrict Ks,
              double *restrict gWi, double *restrict gbi, double *restrict G,
              double *restrict Ybar, double *restrict T, double *restrict Ys,
              double *restrict Wp, int accumulate)
{
    const ptrdiff_t d = net->d, dn = d * ld;
    const int S = net->S, packed = d >= SN_PACK_MIN_D;
    const double *Wi = net->W + i * d * d;
    if (packed) sn_pack_t(d, d, Wi, d, Wp);
    for (int s = S - 1; s >= 0; s--) {
        const double *restrict ks = Ks + (ptrdiff_t)s * dn;
        const int act = net->act;
        double *restrict g = G + (ptrdiff_t)s * dn;
        const double hb = t->hb[s];
        /* the later stages r that feed stage s: kbar_s = h b_s lam + sum_r h a_rs ybar_r */
        const double *yr[SN_MAX_STAGES];
        double cr[SN_MAX_STAGES];
        int nr = 0;
        for (int r = s + 1; r < S; r++)
            if (t->ha[r * S + s] != 0.0) {
                cr[nr] = t->ha[r * S + s];
                yr[nr++] = Ybar + (ptrdiff_t)r * dn;
            }
        /* g_s = s'(z_s) * kbar_s, and dJ/db_i += row sums of g_s, in one pass */
        const int init = s == S - 1 && !accumulate;
#define SN_G_PASS(ACT, NR) g_pass(ACT, NR, nr, d, ld, hb, cr, yr, lam, ks, g, gbi, init)
#define SN_G_PASS_ACT(ACT)                                                                     \
    (nr == 0 ? SN_G_PASS(ACT, 0) : nr == 1 ? SN_G_PASS(ACT, 1) : SN_G_PASS(ACT, -1))
        if (act == SNODE_ACT_TANH)
            SN_G_PASS_ACT(SNODE_ACT_TANH);
        else if (act == SNODE_ACT_SIGMOID)
            SN_G_PASS_ACT(SNODE_ACT_SIGMOID);
        else
            SN_G_PASS_ACT(act);
#undef SN_G_PASS_ACT
#undef SN_G_PASS
        /* ybar_s = W^T g_s */
        if (packed)
            sn_gemm_packed_act(d, d, ld, Wp, NULL, g, Ybar + (ptrdiff_t)s * dn, -1, NULL);
        else
            sn_gemm_tn(d, d, ld, Wi, d, g, Ybar + (ptrdiff_t)s * dn);
    }
    combine_unit(S, dn, Ybar, lam);
    /* dJ/dW_i = sum_s g_s y_s^T (the zero pad of g adds nothing) */
    if (wgrad_over_samples(d)) {
        /* as a product with the samples inside: dJ/dW_i = sum_s g_s y_s^T, with y_s
         * formed transposed (samples x dp) so that the output rows are contiguous */
        const ptrdiff_t dp = (d + SN_VL - 1) / SN_VL * SN_VL;
        for (int s = 0; s < S; s++) {
            stage_input_t(s, t->ha + s * S, d, ld, xi, Ks, T, dp);
            sn_gemm_acc(d, ld, d, G + (ptrdiff_t)s * dn, ld, T, dp, gWi, d, s > 0 || accumulate);
        }
    } else {
        for (int s = 0; s < S; s++) stage_input(s, t->ha + s * S, dn, xi, Ks, Ys + s * dn);
        sn_gemm_nt(1, S, d, d, ld, dn, G, Ys, gWi, d, accumulate);
    }
}

/* scratch of the weight gradient as a product over samples: y_s^T (ld x dp) */
static ptrdiff_t wgrad_scratch(ptrdiff_t d, ptrdiff_t ld)
{
    const ptrdiff_t dp = (d + SN_VL - 1) / SN_VL * SN_VL;
    return wgrad_over_samples(d) ? ld * dp : 0;
}

/* --- the steps: general kernels (any width) or fused ones (small widths) ------------------ */

/* one copy of the fused steps per width D and activation (kept out of line: each is large) */
#define SN_FZ_DEFINE1(DD, ACT, NAME)                                                           \
    static __attribute__((noinline)) void fz_fwd_##DD##_##NAME(                                \
        const snode_net *net, const scaled_tableau *t, ptrdiff_t i, const double *xin,         \
        double *xout, ptrdiff_t ld, double *Ks)                                                \
    {                                                                                          \
        sn_fz_fwd_step(DD, ACT, net->S, t->ha, t->hb, net->W + i * DD * DD, net->b + i * DD,   \
                       xin, xout, ld, Ks);                                                     \
    }                                                                                          \
    static __attribute__((noinline)) void fz_bwd_##DD##_##NAME(                                \
        const snode_net *net, const scaled_tableau *t, ptrdiff_t i, const double *xi,          \
        const double *Ki, ptrdiff_t ld, double *lam, double *gWi, double *gbi, double *G,      \
        double *Yr, double *Ybar, int accumulate)                                              \
    {                                                                                          \
        sn_fz_bwd_step(DD, ACT, net->S, t->ha, t->hb, net->W + i * DD * DD, xi, Ki, ld, lam,   \
                       gWi, gbi, G, Yr, Ybar, accumulate);                                     \
    }                                                                                          \
    static __attribute__((noinline)) void fz_tan_##DD##_##NAME(                                \
        const snode_net *net, const scaled_tableau *t, ptrdiff_t i, const double *dW,          \
        const double *db, double *x, double *xi, ptrdiff_t ld, double *Ks, double *Kd)         \
    {                                                                                          \
        sn_fz_tan_step(DD, ACT, net->S, t->ha, t->hb, net->W + i * DD * DD, net->b + i * DD,   \
                       dW ? dW + i * DD * DD : NULL, db ? db + i * DD : NULL, x, xi, ld, Ks,   \
                       Kd);                                                                    \
    }
#define SN_FZ_DEFINE(DD)                                                                       \
    SN_FZ_DEFINE1(DD, SNODE_ACT_TANH, tanh)                                                    \
    SN_FZ_DEFINE1(DD, SNODE_ACT_SIGMOID, sigmoid)

/* the widths with fused kernels, 1 ... SN_FUSED_MAX_D, as X(width) */
#define SN_FZ_WIDTHS(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12)
SN_FZ_WIDTHS(SN_FZ_DEFINE)

/* the fused steps of one width and activation */
typedef struct {
    void (*fwd)(const snode_net *, const scaled_tableau *, ptrdiff_t, const double *, double *,
                ptrdiff_t, double *);
    void (*bwd)(const snode_net *, const scaled_tableau *, ptrdiff_t, const double *,
                const double *, ptrdiff_t, double *, double *, double *, double *, double *,
                double *, int);
    void (*tan)(const snode_net *, const scaled_tableau *, ptrdiff_t, const double *,
                const double *, double *, double *, ptrdiff_t, double *, double *);
} fz_kernels;

#define SN_FZ_ENTRY_TANH(DD) [DD] = {fz_fwd_##DD##_tanh, fz_bwd_##DD##_tanh, fz_tan_##DD##_tanh},
#define SN_FZ_ENTRY_SIGMOID(DD)                                                                \
    [DD] = {fz_fwd_##DD##_sigmoid, fz_bwd_##DD##_sigmoid, fz_tan_##DD##_sigmoid},
/* [0]: tanh, [1]: sigmoid */
static const fz_kernels fz_table[2][SN_FUSED_MAX_D + 1] = {{SN_FZ_WIDTHS(SN_FZ_ENTRY_TANH)},
                                                           {SN_FZ_WIDTHS(SN_FZ_ENTRY_SIGMOID)}};

static int use_fused(const snode_net *net)
{
    return !net->general && (net->act == SNODE_ACT_TANH || net->act == SNODE_ACT_SIGMOID) &&
           net->d <= SN_FUSED_MAX_D;
}

/* the fused steps of the network (use_fused(net) must hold) */
static const fz_kernels *fz_of(const snode_net *net)
{
    return &fz_table[net->act == SNODE_ACT_SIGMOID][net->d];
}

/* columns of a block are padded to a multiple of this */
static ptrdiff_t col_unit(const snode_net *net) { return use_fused(net) ? SN_FZ_COLS : SN_PAD; }

static ptrdiff_t round_up(ptrdiff_t n, ptrdiff_t unit) { return (n + unit - 1) / unit * unit; }

/*
 * One step forward on a d x ld block: xout = x_{i+1} from xin = x_i (xout may be xin). Ks
 * (S x d x ld) receives the stage values. Ys: S x d x ld scratch (general kernels only).
 */
static void fwd_step(const snode_net *net, const scaled_tableau *t, ptrdiff_t i,
                     const double *xin, double *xout, ptrdiff_t ld, double *Ks, double *Ys,
                     double *Wp)
{
    if (use_fused(net)) {
        fz_of(net)->fwd(net, t, i, xin, xout, ld, Ks);
        return;
    }
    step_forward(net, t, i, ld, xin, xout, Ys, Ks, Wp);
}

/* scratch of one backward step on a d x ld block */
typedef struct {
    double *G, *Ybar, *T, *Yr, *Wp;
} bwd_scratch;

/*
 * One step backward on a d x ld block, given the step's state xi and stage values Ki (S x d x
 * ld): lam <- lambda_i; gWi, gbi receive the step's gradient (added to them if accumulate).
 */
static void bwd_step(const snode_net *net, const scaled_tableau *t, ptrdiff_t i, ptrdiff_t ld,
                     const double *xi, const double *Ki, double *lam, double *gWi, double *gbi,
                     int accumulate, const bwd_scratch *w)
{
    if (use_fused(net)) {
        fz_of(net)->bwd(net, t, i, xi, Ki, ld, lam, gWi, gbi, w->G, w->Yr, w->Ybar, accumulate);
        return;
    }
    step_backward(net, t, i, ld, lam, xi, Ki, gWi, gbi, w->G, w->Ybar, w->T, w->Yr, w->Wp,
                  accumulate);
}

/* --- forward ----------------------------------------------------------------------------- */

/*
 * The sweeps go through all steps one panel of samples at a time, so that a panel's working
 * set stays in cache. Its width: as many columns as keep col_bytes a column within budget,
 * but at least about 2 d (the products' efficiency; the weight gradient is a product over the
 * panel's samples) and at most the chunk of n; a multiple of unit.
 */
static ptrdiff_t panel_width(const snode_net *net, ptrdiff_t n, ptrdiff_t col_bytes,
                             ptrdiff_t budget, ptrdiff_t unit)
{
    const ptrdiff_t ld = round_up(n, unit);
    ptrdiff_t P = budget / col_bytes / unit * unit;
    const ptrdiff_t Pmin = round_up(net->d < 8 ? 16 : 2 * net->d, unit);
    if (P < Pmin) P = Pmin;
    return P < ld ? P : ld;
}

/* Panel width of the forward and tangent sweeps: the step's `blocks` arrays of d x P numbers
 * within SN_STEP_BYTES (the fastest caches). */
#ifndef SN_STEP_BYTES
#define SN_STEP_BYTES (64 * 1024)
#endif
static ptrdiff_t step_panel(const snode_net *net, ptrdiff_t n, ptrdiff_t blocks, ptrdiff_t unit)
{
    return panel_width(net, n, blocks * net->d * 8, SN_STEP_BYTES, unit);
}

ptrdiff_t SN_FN(snode_ws_forward)(const snode_net *net, ptrdiff_t n)
{
    /* x, Ys, Ks of one panel; the packed weights */
    const ptrdiff_t blocks = 1 + 2 * (ptrdiff_t)net->S;
    return net->d * step_panel(net, n, blocks, col_unit(net)) * blocks + pack_scratch(net->d);
}

int SN_FN(snode_forward)(const snode_net *net, ptrdiff_t n, const double *x0, ptrdiff_t m,
                         double *xT, double *traj, ptrdiff_t traj_stride, double *work)
{
    const ptrdiff_t d = net->d, K = net->K, unit = col_unit(net);
    if (n <= 0) return SNODE_OK;
    if (net->S < 1 || net->S > SN_MAX_STAGES || m > d) return SNODE_ERR_ARG;
    const ptrdiff_t P = step_panel(net, n, 1 + 2 * (ptrdiff_t)net->S, unit), pn = d * P;
    double *x = work, *Ys = x + pn, *Ks = Ys + net->S * pn, *Wp = Ks + net->S * pn;
    scaled_tableau t;
    scale_tableau(net, &t);
    /* one panel of samples at a time through all steps */
    for (ptrdiff_t c0 = 0; c0 < n; c0 += P) {
        const ptrdiff_t np = n - c0 < P ? n - c0 : P, lp = round_up(np, unit);
        to_cols(d, np, lp, x0 + c0 * m, m, x);
        if (traj) to_rows(d, np, lp, x, traj + c0 * d, d);
        for (ptrdiff_t i = 0; i < K; i++) {
            fwd_step(net, &t, i, x, x, lp, Ks, Ys, Wp);
            if (traj) to_rows(d, np, lp, x, traj + (i + 1) * traj_stride + c0 * d, d);
        }
        if (!cols_finite(d, np, lp, x)) return SNODE_ERR_NONFINITE;
        if (xT) to_rows(d, np, lp, x, xT + c0 * d, d);
    }
    return SNODE_OK;
}

/* --- data cost: lambda_K and the chunk's cost ---------------------------------------------- */

static double data_cost(const snode_net *net, ptrdiff_t n, ptrdiff_t ld, const snode_loss *L,
                        const double *restrict xc, const double *restrict Y, ptrdiff_t my,
                        const int64_t *restrict labels, double *restrict lam)
{
    const ptrdiff_t d = net->d;
    double J = 0.0;
    memset(lam, 0, (size_t)(d * ld) * sizeof(double));
    if (L->mse != 0.0 || L->out != 0.0) {
        const double cm = L->mse * L->scale, co = L->out * L->scale;
        double jm = 0.0, jo = 0.0;
        for (ptrdiff_t j = 0; j < d; j++) {
            const double *restrict xj = xc + j * ld;
            double *restrict lj = lam + j * ld;
            for (ptrdiff_t r = 0; r < n; r++) {
                double v = xj[r];
                double y = (Y && j < my) ? Y[r * my + j] : 0.0;
                double diff = v - y;
                jm += diff * diff;
                jo += v * v;
                lj[r] = cm * diff + co * v;
            }
        }
        J += 0.5 * cm * jm + 0.5 * co * jo;
    }
    if (L->ce != 0.0) {
        const ptrdiff_t C = L->n_classes;
        const double cc = L->ce * L->scale;
        double jc = 0.0;
        for (ptrdiff_t r = 0; r < n; r++) {
            double mx = xc[r];
            for (ptrdiff_t j = 1; j < C; j++) mx = xc[j * ld + r] > mx ? xc[j * ld + r] : mx;
            double se = 0.0;
            for (ptrdiff_t j = 0; j < C; j++) se += exp(xc[j * ld + r] - mx);
            ptrdiff_t c = (ptrdiff_t)labels[r];
            jc += mx + log(se) - xc[c * ld + r];
            for (ptrdiff_t j = 0; j < C; j++)
                lam[j * ld + r] += cc * (exp(xc[j * ld + r] - mx) / se - (j == c ? 1.0 : 0.0));
        }
        J += cc * jc;
    }
    return J;
}

/* --- gradient ---------------------------------------------------------------------------- */

/*
 * Panel width of the gradient sweep, which runs forward and back through all steps one panel
 * at a time, so that what the backward pass reads (each step's state and stage values) was
 * written recently and is still in cache: that store within SN_PANEL_BYTES.
 */
#ifndef SN_PANEL_BYTES
#define SN_PANEL_BYTES (512 * 1024)
#endif
static ptrdiff_t panel_cols(const snode_net *net, ptrdiff_t n, int recompute)
{
    const ptrdiff_t per_col = net->K * (recompute ? 1 : net->S + 1) * net->d * 8;
    return panel_width(net, n, per_col, SN_PANEL_BYTES, col_unit(net));
}

ptrdiff_t SN_FN(snode_ws_grad)(const snode_net *net, ptrdiff_t n, int recompute)
{
    const ptrdiff_t P = panel_cols(net, n, recompute);
    const ptrdiff_t d = net->d, pn = d * P, S = net->S, K = net->K;
    /* x, lam, G (S), Ybar (S), one-step Ks (S), weight-gradient scratch, one step's stage
     * inputs (S), one step's gradient, the packed weights (each a multiple of 8 numbers, so
     * that every array is as aligned as work) */
    ptrdiff_t base = 2 * pn + 4 * S * pn + wgrad_scratch(d, P) + round_up(d * d + d, 8) +
                     pack_scratch(d);
    if (recompute) return base + K * pn; /* the states x_0..x_{K-1} */
    return base + K * (S + 1) * pn;      /* every step's state and stage values */
}

ptrdiff_t SN_FN(snode_grad_panel)(const snode_net *net, ptrdiff_t n, int recompute)
{
    return panel_cols(net, n, recompute);
}

int SN_FN(snode_uses_fused)(const snode_net *net) { return use_fused(net); }

/* --- a gradient summed over chunks in place, in chunk order (snode_sum) ------------------- */

static void sum_wait(const snode_sum *sum, ptrdiff_t i)
{
    int spins = 0;
    while (__atomic_load_n(&sum->turn[i], __ATOMIC_ACQUIRE) != sum->index) {
        if (spins < 4096) {
            spins++;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            sched_yield(); /* the chunk before this one is not running: let it */
        }
    }
}

static void sum_done(const snode_sum *sum, ptrdiff_t i)
{
    __atomic_store_n(&sum->turn[i], sum->index + 1, __ATOMIC_RELEASE);
}

/* pass the turns of steps i0, i0 - 1, ..., 0 without a gradient (an empty chunk, or one that
 * stopped on an error): the chunks after it must not wait forever */
static void sum_pass(const snode_sum *sum, ptrdiff_t i0, const snode_net *net, double *gW,
                     double *gb)
{
    const ptrdiff_t d = net->d;
    for (ptrdiff_t i = i0; i >= 0; i--) {
        sum_wait(sum, i);
        if (sum->index == 0) {
            memset(gW + i * d * d, 0, (size_t)(d * d) * sizeof(double));
            memset(gb + i * d, 0, (size_t)d * sizeof(double));
        }
        sum_done(sum, i);
    }
}

/* add this chunk's step gradient (gWl, gbl) to the shared gW_i, gb_i in its turn (the first
 * chunk's is already there); the last chunk checks the sum */
static int sum_add(const snode_sum *sum, ptrdiff_t i, ptrdiff_t d, const double *gWl,
                   const double *gbl, double *gW, double *gb)
{
    const ptrdiff_t dd = d * d;
    double *restrict gWi = gW + i * dd, *restrict gbi = gb + i * d;
    int ok = 1;
    sum_wait(sum, i);
    if (sum->index > 0) { /* the first chunk has written its part in place */
        for (ptrdiff_t e = 0; e < dd; e++) gWi[e] += gWl[e];
        for (ptrdiff_t e = 0; e < d; e++) gbi[e] += gbl[e];
    }
    if (sum->index == sum->count - 1)
        ok = snode_all_finite(dd, gWi) && snode_all_finite(d, gbi);
    sum_done(sum, i);
    return ok;
}

/*
 * The gradient sweep of snode_value_grad; *next receives the first step whose turn of the
 * shared sum this chunk has not passed (K - 1 before the backward sweep, -1 when done).
 */
static int value_grad(const snode_net *net, ptrdiff_t n, const double *x0, ptrdiff_t m,
                      const snode_loss *loss, const double *Y, ptrdiff_t my,
                      const int64_t *labels, const double *lamT, double *J, double *gW,
                      double *gb, double *lam0, double *xT, int recompute, const snode_sum *sum,
                      double *work, ptrdiff_t *next)
{
    const ptrdiff_t d = net->d, K = net->K, S = net->S, dd = d * d;
    scaled_tableau t;
    *next = K - 1;
    scale_tableau(net, &t);
    const ptrdiff_t P = panel_cols(net, n, recompute), pn = d * P, unit = col_unit(net);
    if (sum && P < n) return SNODE_ERR_ARG;
    double *x = work, *lam = x + pn;
    bwd_scratch w;
    w.G = lam + pn;
    w.Ybar = w.G + S * pn;
    double *Ks = w.Ybar + S * pn;
    w.T = Ks + S * pn;
    w.Yr = w.T + wgrad_scratch(d, P);
    double *gWl = w.Yr + S * pn, *gbl = gWl + dd; /* a step's gradient, for the shared sum */
    w.Wp = gWl + round_up(dd + d, 8);
    double *store = w.Wp + pack_scratch(d);
    *J = 0.0;
    /* one panel of samples at a time, forward and back through all steps */
    for (ptrdiff_t c0 = 0; c0 < n; c0 += P) {
        const ptrdiff_t np = n - c0 < P ? n - c0 : P, lp = round_up(np, unit), ln = d * lp;
        /* what is kept for the backward pass: "store" keeps x_i and the stage values K_s of
         * every step ((S + 1) d lp numbers a step), "recompute" only x_i; the stage inputs
         * are rebuilt from them, in cache */
        const ptrdiff_t kept = recompute ? ln : (S + 1) * ln;
        to_cols(d, np, lp, x0 + c0 * m, m, store);
        for (ptrdiff_t i = 0; i < K; i++) {
            double *xi = store + i * kept;
            double *Ki = recompute ? Ks : xi + ln;
            fwd_step(net, &t, i, xi, i + 1 < K ? xi + kept : x, lp, Ki, w.Yr, w.Wp);
        }
        if (!cols_finite(d, np, lp, x)) return SNODE_ERR_NONFINITE;
        if (xT) to_rows(d, np, lp, x, xT + c0 * d, d);

        if (lamT)
            to_cols(d, np, lp, lamT + c0 * d, d, lam);
        else
            *J += data_cost(net, np, lp, loss, x, Y ? Y + c0 * my : NULL, my,
                            labels ? labels + c0 : NULL, lam);

        for (ptrdiff_t i = K - 1; i >= 0; i--) {
            const double *xi = store + i * kept;
            const double *Ki = xi + ln;
            if (recompute) {
                fwd_step(net, &t, i, xi, x, lp, Ks, w.Yr, w.Wp);
                Ki = Ks;
            }
            if (sum) {
                /* the first chunk writes the sum directly (its turn comes first); the others
                 * compute their part aside and add it in their turn */
                const int first = sum->index == 0;
                bwd_step(net, &t, i, lp, xi, Ki, lam, first ? gW + i * dd : gWl,
                         first ? gb + i * d : gbl, 0, &w);
                *next = i - 1;
                if (!sum_add(sum, i, d, gWl, gbl, gW, gb)) return SNODE_ERR_NONFINITE;
                continue;
            }
            bwd_step(net, &t, i, lp, xi, Ki, lam, gW + i * dd, gb + i * d, c0 > 0, &w);
            /* the step's gradient is complete after the last panel: check it while in cache */
            if (c0 + P >= n &&
                !(snode_all_finite(dd, gW + i * dd) && snode_all_finite(d, gb + i * d)))
                return SNODE_ERR_NONFINITE;
        }
        if (!cols_finite(d, np, lp, lam)) return SNODE_ERR_NONFINITE;
        if (lam0) to_rows(d, np, lp, lam, lam0 + c0 * d, d);
    }
    if (!snode_all_finite(1, J)) return SNODE_ERR_NONFINITE;
    return SNODE_OK;
}

int SN_FN(snode_value_grad)(const snode_net *net, ptrdiff_t n, const double *x0, ptrdiff_t m,
                            const snode_loss *loss, const double *Y, ptrdiff_t my,
                            const int64_t *labels, const double *lamT, double *J, double *gW,
                            double *gb, double *lam0, double *xT, int recompute,
                            const snode_sum *sum, double *work)
{
    const ptrdiff_t d = net->d, K = net->K;
    ptrdiff_t next = K - 1;
    int status = SNODE_OK;
    *J = 0.0;
    if (net->S < 1 || net->S > SN_MAX_STAGES || m > d || (Y && my > d) ||
        (sum && (sum->index < 0 || sum->index >= sum->count)))
        status = SNODE_ERR_ARG;
    else if (n <= 0 && !sum) {
        memset(gW, 0, (size_t)(K * d * d) * sizeof(double));
        memset(gb, 0, (size_t)(K * d) * sizeof(double));
    } else if (n > 0) {
        status = value_grad(net, n, x0, m, loss, Y, my, labels, lamT, J, gW, gb, lam0, xT,
                            recompute, sum, work, &next);
    }
    if (sum) sum_pass(sum, next, net, gW, gb);
    return status;
}

/* --- tangent-linear sweep ------------------------------------------------------------------ */

/* the tangent sweep's arrays per step, in d x P blocks (see snode_ws_tangent) */
static ptrdiff_t tangent_blocks(const snode_net *net, ptrdiff_t q)
{
    return 4 + net->S + q * (2 + net->S);
}

/* one tangent a sample runs the fused kernels where they exist */
static int tangent_fused(const snode_net *net, ptrdiff_t q) { return q == 1 && use_fused(net); }

ptrdiff_t SN_FN(snode_ws_tangent)(const snode_net *net, ptrdiff_t n, ptrdiff_t q)
{
    /* x, y, sp, V (d P each), Ks (S d P); xi, ydot (d q P each), Kdot (S d q P) */
    const ptrdiff_t blocks = tangent_blocks(net, q);
    const ptrdiff_t unit = tangent_fused(net, q) ? col_unit(net) : SN_PAD;
    return net->d * step_panel(net, n, blocks, unit) * blocks;
}

/* One panel of the tangent sweep: n samples, ld columns. */
static int tangent_panel(const snode_net *net, const scaled_tableau *t, ptrdiff_t n,
                         ptrdiff_t ld, const double *x0, ptrdiff_t m, const double *dW,
                         const double *db, ptrdiff_t q, const double *xi0, int identity,
                         double *xT, double *xiT, double *work)
{
    const ptrdiff_t d = net->d, dn = d * ld, K = net->K, S = net->S;
    const ptrdiff_t dd = d * d, qn = q * ld, dqn = d * qn;
    double *x = work, *y = x + dn, *sp = y + dn, *V = sp + dn, *Ks = V + dn;
    double *xi = Ks + S * dn, *ydot = xi + dqn, *Kdot = ydot + dqn;

    to_cols(d, n, ld, x0, m, x);
    /* xi is d x (q ld): column t*ld + r is tangent t of sample r */
    memset(xi, 0, (size_t)dqn * sizeof(double));
    if (identity) {
        for (ptrdiff_t tt = 0; tt < q; tt++)
            for (ptrdiff_t r = 0; r < n; r++) xi[tt * qn + tt * ld + r] = 1.0;
    } else if (xi0) {
        for (ptrdiff_t j = 0; j < d; j++)
            for (ptrdiff_t tt = 0; tt < q; tt++)
                for (ptrdiff_t r = 0; r < n; r++)
                    xi[j * qn + tt * ld + r] = xi0[(r * q + tt) * d + j];
    }
    for (ptrdiff_t i = 0; tangent_fused(net, q) && i < K; i++)
        fz_of(net)->tan(net, t, i, dW, db, x, xi, ld, Ks, Kdot);
    for (ptrdiff_t i = 0; !tangent_fused(net, q) && i < K; i++) {
        const double *Wi = net->W + i * dd, *bi = net->b + i * d;
        for (int s = 0; s < S; s++) {
            double *k = Ks + s * dn;
            double *kd = Kdot + s * dqn;
            stage_input(s, t->ha + s * S, dn, x, Ks, y);
            stage_input(s, t->ha + s * S, dqn, xi, Kdot, ydot);
            sn_gemm_nn_act(d, d, ld, Wi, d, bi, y, k, net->act, sp);
            if (!SN_FUSED_ACT(net->act)) sn_activation(net->act, dn, k, k, sp);
            /* kdot = s'(z) * (W ydot + dW y + db) */
            sn_gemm_nn(d, d, qn, Wi, d, NULL, ydot, kd);
            if (dW || db) {
                if (dW) {
                    sn_gemm_nn(d, d, ld, dW + i * dd, d, db ? db + i * d : NULL, y, V);
                } else {
                    for (ptrdiff_t j = 0; j < d; j++)
                        for (ptrdiff_t r = 0; r < ld; r++) V[j * ld + r] = db[i * d + j];
                }
            }
            /* one pass: kd = s'(z) * (W ydot + V) */
            for (ptrdiff_t j = 0; j < d; j++)
                for (ptrdiff_t tt = 0; tt < q; tt++) {
                    double *restrict kr = kd + j * qn + tt * ld;
                    const double *restrict spr = sp + j * ld;
                    if (dW || db) {
                        const double *restrict vr = V + j * ld;
                        for (ptrdiff_t r = 0; r < ld; r++) kr[r] = (kr[r] + vr[r]) * spr[r];
                    } else {
                        for (ptrdiff_t r = 0; r < ld; r++) kr[r] *= spr[r];
                    }
                }
        }
        combine(S, t->hb, dn, Ks, x);
        combine(S, t->hb, dqn, Kdot, xi);
    }
    if (!cols_finite(d, n, ld, x)) return SNODE_ERR_NONFINITE;
    for (ptrdiff_t tt = 0; tt < q; tt++)
        if (!cols_finite(d, n, qn, xi + tt * ld)) return SNODE_ERR_NONFINITE;
    if (xT) to_rows(d, n, ld, x, xT, d);
    for (ptrdiff_t r = 0; r < n; r++)
        for (ptrdiff_t tt = 0; tt < q; tt++)
            for (ptrdiff_t j = 0; j < d; j++)
                xiT[(r * q + tt) * d + j] = xi[j * qn + tt * ld + r];
    return SNODE_OK;
}

int SN_FN(snode_tangent)(const snode_net *net, ptrdiff_t n, const double *x0, ptrdiff_t m,
                         const double *dW, const double *db, ptrdiff_t q, const double *xi0,
                         int identity, double *xT, double *xiT, double *work)
{
    const ptrdiff_t d = net->d;
    scaled_tableau t;
    if (n <= 0) return SNODE_OK;
    if (net->S < 1 || net->S > SN_MAX_STAGES || m > d || q < 1 || (identity && q > d))
        return SNODE_ERR_ARG;
    scale_tableau(net, &t);
    const ptrdiff_t unit = tangent_fused(net, q) ? col_unit(net) : SN_PAD;
    const ptrdiff_t P = step_panel(net, n, tangent_blocks(net, q), unit);
    /* one panel of samples at a time through all steps */
    for (ptrdiff_t c0 = 0; c0 < n; c0 += P) {
        const ptrdiff_t np = n - c0 < P ? n - c0 : P;
        int status = tangent_panel(net, &t, np, round_up(np, unit), x0 + c0 * m, m, dW, db, q,
                                   xi0 ? xi0 + c0 * q * d : NULL, identity,
                                   xT ? xT + c0 * d : NULL, xiT + c0 * q * d, work);
        if (status != SNODE_OK) return status;
    }
    return SNODE_OK;
}

void SN_FN(snode_activation)(int act, ptrdiff_t len, const double *z, double *k, double *sp)
{
    sn_activation(act, len, z, k, sp);
}
