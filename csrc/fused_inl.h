/*
 * Fused RK stages for small widths, included by steps.c only (once per sweep instance).
 *
 * For d <= SN_FUSED_MAX_D the width is a compile-time constant D (one copy of each kernel per
 * width and activation). A stage is one pass over the block's column groups (V vectors of
 * samples each): the stage input is formed row by row as the product needs it, the product's
 * accumulators stay in registers, and the activation is applied before anything is stored;
 * in the backward stage the adjoint's g_s, W^T g_s and the stage input for the weight gradient
 * are formed the same way. Column groups are independent, so the processor overlaps one
 * group's activations with the next group's product. At these widths the separate passes of
 * the general kernels cost as much as the arithmetic.
 *
 * Formulas as in the general kernels (docs/method.md: the Runge-Kutta step and the adjoint).
 */
#ifndef SNODE_FUSED_INL_H
#define SNODE_FUSED_INL_H

#include "kernels_inl.h"

/* The largest width with fused kernels. (At 16 the general kernels' 8-row register tiles,
 * which reuse each loaded vector 8 times, are as fast.) */
#define SN_FUSED_MAX_D 12
/* The tangent step on kept states (no product W y, no activation) is fused up to this width. */
#define SN_FUSED_KEPT_MAX_D 16

/* Vectors of samples per column group: D V <= 16 accumulators. */
#define SN_FZ_V(D) ((D) <= 2 ? 4 : (D) <= 4 ? 2 : 1)
#define SN_FZ_MAX_V 4
/* Column groups of every width divide this (blocks of the fused path are multiples of it). */
#define SN_FZ_COLS (4 * SN_VL)

/* s(z), ACT (a constant) tanh or sigmoid, the fused activations */
SN_INLINE vd sn_fz_act(const int ACT, vd z)
{
    vd dv;
    return ACT == SNODE_ACT_TANH ? sn_tanh_v(z, &dv) : sn_sigmoid_v(z, &dv);
}

/* z += W[:, q] y_q for row q of the stage input, y_q = x_q + sum_j aj[j] K_j,q (at offset o);
 * Wq = W + q */
SN_INLINE void sn_fz_fwd_row(const int D, const int V, ptrdiff_t o, const sn_real *restrict x,
                             int nj, const sn_real *const *kj, const sn_real *aj,
                             const sn_real *restrict Wq, vd z[][SN_FZ_MAX_V])
{
    vd y[SN_FZ_MAX_V];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) y[v] = SN_LD(x + o + v * SN_VL);
    for (int j = 0; j < nj; j++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) y[v] += aj[j] * SN_LD(kj[j] + o + v * SN_VL);
#pragma GCC unroll 16
    for (int p = 0; p < D; p++) {
        const sn_real w = Wq[p * D];
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) z[p][v] += w * y[v];
    }
}

/*
 * Stage s of one RK step forward on a D x ld block (ld a multiple of SN_FZ_COLS):
 * K_s = s(b + W y_s) with y_s = x + sum_{j<s} ha[j] K_j, where K_j = Ks + j dn.
 */
SN_INLINE void sn_fz_fwd_stage(const int D, const int ACT, int s, const sn_real *restrict ha,
                               const sn_real *restrict W, const sn_real *restrict b,
                               const sn_real *restrict x, ptrdiff_t ld,
                               sn_real *restrict Ks)
{
    const int V = SN_FZ_V(D);
    const ptrdiff_t dn = D * ld;
    /* the stages that feed this one */
    const sn_real *kj[SN_MAX_STAGES];
    sn_real aj[SN_MAX_STAGES];
    const int nj = sn_stage_terms(s, ha, Ks, dn, aj, kj);
    sn_real *restrict ks = Ks + s * dn;
    for (ptrdiff_t c = 0; c < ld; c += V * SN_VL) {
        vd z[SN_FUSED_MAX_D][SN_FZ_MAX_V];
#pragma GCC unroll 16
        for (int p = 0; p < D; p++)
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) z[p][v] = (vd){0} + b[p];
        /* rolled for the smallest widths (their code stays small), by 4 above */
        if (D <= 4) {
#pragma GCC unroll 1
            for (int q = 0; q < D; q++) sn_fz_fwd_row(D, V, q * ld + c, x, nj, kj, aj, W + q, z);
        } else {
#pragma GCC unroll 4
            for (int q = 0; q < D; q++) sn_fz_fwd_row(D, V, q * ld + c, x, nj, kj, aj, W + q, z);
        }
#pragma GCC unroll 16
        for (int p = 0; p < D; p++)
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) SN_ST(ks + p * ld + c + v * SN_VL, sn_fz_act(ACT, z[p][v]));
    }
}

/*
 * One RK step forward on a D x ld block (ld a multiple of SN_FZ_COLS): xout = x_{i+1} from
 * xin = x_i (xout may be xin); Ks (S x D x ld) receives the stage values.
 */
SN_INLINE void sn_fz_fwd_step(const int D, const int ACT, int S, const sn_real *ha,
                              const sn_real *hbw, const sn_real *W, const sn_real *b,
                              const sn_real *xin, sn_real *xout, ptrdiff_t ld, sn_real *Ks)
{
    const ptrdiff_t dn = D * ld;
    for (int s = 0; s < S; s++) sn_fz_fwd_stage(D, ACT, s, ha + s * S, W, b, xin, ld, Ks);
    /* x_{i+1} = x_i + sum_s h b_s K_s */
    for (ptrdiff_t e = 0; e < dn; e += SN_VL) {
        vd acc = SN_LD(xin + e);
        for (int s = 0; s < S; s++) acc += hbw[s] * SN_LD(Ks + s * dn + e);
        SN_ST(xout + e, acc);
    }
}

/* row p of the backward stage (see sn_fz_bwd_stage), at offset o: y_s and g_s to ys and gs,
 * g_s to gbv[p], and acc += (row p of W)^T g_p */
SN_INLINE void sn_fz_bwd_row(const int D, const int V, const int ACT, int p, ptrdiff_t o,
                             sn_real hb, const sn_real *restrict xi, int nj,
                             const sn_real *const *kj, const sn_real *aj,
                             const sn_real *restrict lam, int nr, const sn_real *const *yr,
                             const sn_real *ar, const sn_real *restrict ks, sn_real *restrict gs,
                             sn_real *restrict ys, const sn_real *restrict W, vd *restrict gbv,
                             vd acc[][SN_FZ_MAX_V])
{
    vd g[SN_FZ_MAX_V];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        /* row p of y_s, for the weight gradient */
        vd y = SN_LD(xi + o + v * SN_VL);
        for (int j = 0; j < nj; j++) y += aj[j] * SN_LD(kj[j] + o + v * SN_VL);
        SN_ST(ys + o + v * SN_VL, y);
        /* row p of g_s */
        vd kb = hb * SN_LD(lam + o + v * SN_VL);
        for (int r = 0; r < nr; r++) kb += ar[r] * SN_LD(yr[r] + o + v * SN_VL);
        g[v] = sn_deriv_v(ACT, SN_LD(ks + o + v * SN_VL)) * kb;
        SN_ST(gs + o + v * SN_VL, g[v]);
        gbv[p] += g[v];
    }
    /* Ybar_s += (row p of W)^T g_p */
#pragma GCC unroll 16
    for (int q = 0; q < D; q++) {
        const sn_real w = W[p * D + q];
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) acc[q][v] += w * g[v];
    }
}

/*
 * Stage s of one RK step backward on a D x ld block, given the step's state xi and stage
 * values Ki (stage j at Ki + j dn) and Ybar_r = W^T g_r of the later stages r (at Ybar + r dn):
 * g_s = s'(z_s) (h b_s lam + sum_r h a_rs Ybar_r) to G + s dn, y_s to Yr + s dn (for the
 * weight gradient), Ybar_s = W^T g_s; adds the rows of g_s to gbv.
 */
SN_INLINE void sn_fz_bwd_stage(const int D, const int ACT, int S, int s,
                               const sn_real *restrict ha, const sn_real *restrict hbw,
                               const sn_real *restrict W, const sn_real *restrict xi,
                               const sn_real *restrict Ki, const sn_real *restrict lam,
                               ptrdiff_t ld, sn_real *restrict G, sn_real *restrict Yr,
                               sn_real *restrict Ybar, vd *restrict gbv)
{
    const int V = SN_FZ_V(D);
    const ptrdiff_t dn = D * ld;
    /* the earlier stages j that feed y_s, and the later stages r that s feeds */
    const sn_real *kj[SN_MAX_STAGES], *yr[SN_MAX_STAGES];
    sn_real aj[SN_MAX_STAGES], ar[SN_MAX_STAGES];
    const int nj = sn_stage_terms(s, ha + s * S, Ki, dn, aj, kj);
    int nr = 0;
    for (int r = s + 1; r < S; r++)
        if (ha[r * S + s] != 0.0) {
            ar[nr] = ha[r * S + s];
            yr[nr++] = Ybar + r * dn;
        }
    const sn_real hb = hbw[s];
    const sn_real *restrict ks = Ki + s * dn;
    sn_real *restrict gs = G + s * dn, *restrict ys = Yr + s * dn, *restrict ybs = Ybar + s * dn;
    for (ptrdiff_t c = 0; c < ld; c += V * SN_VL) {
        vd acc[SN_FUSED_MAX_D][SN_FZ_MAX_V];
#pragma GCC unroll 16
        for (int q = 0; q < D; q++)
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) acc[q][v] = (vd){0};
        if (D <= 4) {
#pragma GCC unroll 1
            for (int p = 0; p < D; p++)
                sn_fz_bwd_row(D, V, ACT, p, p * ld + c, hb, xi, nj, kj, aj, lam, nr, yr, ar, ks,
                              gs, ys, W, gbv, acc);
        } else {
#pragma GCC unroll 4
            for (int p = 0; p < D; p++)
                sn_fz_bwd_row(D, V, ACT, p, p * ld + c, hb, xi, nj, kj, aj, lam, nr, yr, ar, ks,
                              gs, ys, W, gbv, acc);
        }
#pragma GCC unroll 16
        for (int q = 0; q < D; q++)
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) SN_ST(ybs + q * ld + c + v * SN_VL, acc[q][v]);
    }
}

/*
 * One RK step backward on a D x ld block (ld a multiple of SN_FZ_COLS): lam <- lambda_i from
 * lambda_{i+1}, given the step's state xi and stage values Ki (S x D x ld); gWi (D x D) and
 * gbi (D) receive this step's gradient (added to them if accumulate).
 * G, Yr, Ybar: S x D x ld scratch each.
 */
SN_INLINE void sn_fz_bwd_step(const int D, const int ACT, int S, const sn_real *ha,
                              const sn_real *hbw, const sn_real *W, const sn_real *xi,
                              const sn_real *Ki, ptrdiff_t ld, sn_real *lam, sn_real *gWi,
                              sn_real *gbi, sn_real *G, sn_real *Yr, sn_real *Ybar, int accumulate)
{
    const ptrdiff_t dn = D * ld;
    vd gbv[SN_FUSED_MAX_D];
    for (int p = 0; p < D; p++) gbv[p] = (vd){0};
    for (int s = S - 1; s >= 0; s--)
        sn_fz_bwd_stage(D, ACT, S, s, ha, hbw, W, xi, Ki, lam, ld, G, Yr, Ybar, gbv);
    /* lambda_i = lambda_{i+1} + sum_s Ybar_s */
    for (ptrdiff_t e = 0; e < dn; e += SN_VL) {
        vd l = SN_LD(lam + e);
        for (int s = 0; s < S; s++) l += SN_LD(Ybar + s * dn + e);
        SN_ST(lam + e, l);
    }
    for (int p = 0; p < D; p++) gbi[p] = (accumulate ? gbi[p] : 0.0) + sn_hsum(gbv[p]);
    /* dJ/dW_i = sum_s g_s y_s^T (lane sums one by one: at these widths the reduction is a
     * small share of the step, and the tree's other rounding moved the trainings of the
     * quality benchmark, see the README) */
    sn_gemm_nt(0, S, D, D, ld, dn, G, Yr, gWi, D, accumulate);
}

/*
 * Stage s of one tangent-linear step (one tangent per sample) on D x ld blocks (ld a multiple
 * of SN_FZ_COLS): K_s = s(z_s), z_s = b + W y_s, y_s = x + sum_{j<s} ha[j] K_j, and
 * Kd_s = s'(z_s) (W yd_s + dW y_s + db), yd_s = xi + sum_{j<s} ha[j] Kd_j (docs/method.md,
 * the sensitivity problem); K_j = Ks + j dn, Kd_j = Kd + j dn. dW and db may be NULL (zero).
 * With KEPT (a constant), x and Ks are a gradient sweep's stored state and stage values: K_s
 * is read, not computed (no product W y_s, no activation), and y_s is formed only for dW.
 */
SN_INLINE void sn_fz_tan_stage(const int D, const int ACT, const int KEPT, int s,
                               const sn_real *restrict ha,
                               const sn_real *restrict W, const sn_real *restrict b,
                               const sn_real *restrict dW, const sn_real *restrict db,
                               const sn_real *restrict x, const sn_real *restrict xi,
                               ptrdiff_t ld, sn_real *restrict Ks, sn_real *restrict Kd)
{
    const int V = SN_FZ_V(D);
    const ptrdiff_t dn = D * ld;
    const sn_real *kj[SN_MAX_STAGES], *kdj[SN_MAX_STAGES];
    sn_real aj[SN_MAX_STAGES];
    const int nj = sn_stage_terms(s, ha, Ks, dn, aj, kj);
    (void)sn_stage_terms(s, ha, Kd, dn, aj, kdj);
    sn_real *restrict ks = Ks + s * dn, *restrict kds = Kd + s * dn;
    for (ptrdiff_t c = 0; c < ld; c += V * SN_VL) {
        vd z[SN_FUSED_KEPT_MAX_D][SN_FZ_MAX_V], zd[SN_FUSED_KEPT_MAX_D][SN_FZ_MAX_V];
#pragma GCC unroll 16
        for (int p = 0; p < D; p++)
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) {
                if (!KEPT) z[p][v] = (vd){0} + b[p];
                zd[p][v] = (vd){0} + (db ? db[p] : SN_R(0));
            }
        /* y_s is needed for the product W y_s, or for dW y_s */
        const int want_y = !KEPT || dW != NULL;
#pragma GCC unroll 1
        for (int q = 0; q < D; q++) {
            const ptrdiff_t o = q * ld + c;
            vd y[SN_FZ_MAX_V], yd[SN_FZ_MAX_V];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) {
                if (want_y) y[v] = SN_LD(x + o + v * SN_VL);
                yd[v] = SN_LD(xi + o + v * SN_VL);
                for (int j = 0; j < nj; j++) {
                    if (want_y) y[v] += aj[j] * SN_LD(kj[j] + o + v * SN_VL);
                    yd[v] += aj[j] * SN_LD(kdj[j] + o + v * SN_VL);
                }
            }
#pragma GCC unroll 16
            for (int p = 0; p < D; p++) {
                const sn_real w = W[p * D + q], dw = dW ? dW[p * D + q] : 0.0;
#pragma GCC unroll 4
                for (int v = 0; v < V; v++) {
                    if (!KEPT) z[p][v] += w * y[v];
                    zd[p][v] += want_y ? w * yd[v] + dw * y[v] : w * yd[v];
                }
            }
        }
#pragma GCC unroll 16
        for (int p = 0; p < D; p++)
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) {
                vd k;
                if (KEPT) {
                    k = SN_LD(ks + p * ld + c + v * SN_VL);
                } else {
                    k = sn_fz_act(ACT, z[p][v]);
                    SN_ST(ks + p * ld + c + v * SN_VL, k);
                }
                SN_ST(kds + p * ld + c + v * SN_VL, sn_deriv_v(ACT, k) * zd[p][v]);
            }
    }
}

/*
 * One tangent-linear step (one tangent per sample) on D x ld blocks: xi <- xi_{i+1} and
 * x <- x_{i+1} in place, Kd (S x D x ld scratch) the tangent's stage values. Without KEPT the
 * stage values are computed into Ks (scratch); with KEPT, Ks holds the step's stored stage
 * values, only read, and x (needed for dW y_s only) is advanced only when dW is not NULL.
 */
SN_INLINE void sn_fz_tan_step(const int D, const int ACT, const int KEPT, int S,
                              const sn_real *ha, const sn_real *hbw, const sn_real *W,
                              const sn_real *b, const sn_real *dW, const sn_real *db, sn_real *x,
                              sn_real *xi, ptrdiff_t ld, sn_real *Ks, sn_real *Kd)
{
    const ptrdiff_t dn = D * ld;
    const int want_x = !KEPT || dW != NULL;
    for (int s = 0; s < S; s++)
        sn_fz_tan_stage(D, ACT, KEPT, s, ha + s * S, W, b, dW, db, x, xi, ld, Ks, Kd);
    for (ptrdiff_t e = 0; e < dn; e += SN_VL) {
        vd a = want_x ? SN_LD(x + e) : (vd){0}, ad = SN_LD(xi + e);
        for (int s = 0; s < S; s++) {
            if (want_x) a += hbw[s] * SN_LD(Ks + s * dn + e);
            ad += hbw[s] * SN_LD(Kd + s * dn + e);
        }
        if (want_x) SN_ST(x + e, a);
        SN_ST(xi + e, ad);
    }
}

#endif
