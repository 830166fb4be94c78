/*
 * Hot inner kernels of the sweeps, internal to csrc/. Included by sweeps.c only, which is
 * compiled once per instruction-set level; everything here is static inline so that each
 * level gets its own vectorised copy.
 *
 * Data layout inside a chunk is component-major: a state block of n samples is d x n,
 * row-major with leading dimension n, so that W x is a matrix product with the samples
 * along the contiguous (vectorised) direction, even for d = 4.
 */
#ifndef SNODE_KERNELS_INL_H
#define SNODE_KERNELS_INL_H

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "snode.h"

#define SN_INLINE static inline __attribute__((always_inline))

/*
 * Explicit SIMD through the GCC/Clang vector extensions: `vd` is one machine vector of doubles
 * (2 with SSE2, 4 with AVX2, 8 with AVX-512). Every lane is an independent sum in the same
 * order, so no reassociation is needed and the results do not depend on the width.
 */
#if defined(__AVX512F__)
#define SN_VL 8
#elif defined(__AVX__)
#define SN_VL 4
#else
#define SN_VL 2
#endif
typedef double vd __attribute__((vector_size(SN_VL * sizeof(double)), aligned(sizeof(double)),
                                 may_alias));
#define SN_LD(p) (*(const vd *)(const void *)(p))
#define SN_ST(p, v) (*(vd *)(void *)(p) = (v))

/* Columns of a chunk block are padded to a multiple of SN_PAD (>= 2 SN_VL at every level). */
#define SN_PAD 16

SN_INLINE double sn_hsum(vd v)
{
    double s = 0.0;
    for (int l = 0; l < SN_VL; l++) s += v[l];
    return s;
}

/*
 * C[i, :] = bias[i] + sum_j A[i*lda + j] B[j, :]   for i < M, j < KD, over ld columns
 * (ld a multiple of SN_PAD); B and C have leading dimension ld. bias may be NULL.
 * Register tile: 4 rows by 2 vectors.
 */
SN_INLINE void sn_gemm_nn(ptrdiff_t M, ptrdiff_t KD, ptrdiff_t ld, const double *restrict A,
                          ptrdiff_t lda, const double *restrict bias, const double *restrict B,
                          double *restrict C)
{
    ptrdiff_t i = 0;
    for (; i + 4 <= M; i += 4) {
        const double *restrict A0 = A + i * lda, *restrict A1 = A0 + lda;
        const double *restrict A2 = A1 + lda, *restrict A3 = A2 + lda;
        const vd z = {0};
        const vd b0 = z + (bias ? bias[i] : 0.0), b1 = z + (bias ? bias[i + 1] : 0.0);
        const vd b2 = z + (bias ? bias[i + 2] : 0.0), b3 = z + (bias ? bias[i + 3] : 0.0);
        for (ptrdiff_t c = 0; c < ld; c += 2 * SN_VL) {
            vd c00 = b0, c01 = b0, c10 = b1, c11 = b1, c20 = b2, c21 = b2, c30 = b3, c31 = b3;
            const double *restrict Bc = B + c;
            for (ptrdiff_t j = 0; j < KD; j++) {
                const vd x0 = SN_LD(Bc + j * ld), x1 = SN_LD(Bc + j * ld + SN_VL);
                const double w0 = A0[j], w1 = A1[j], w2 = A2[j], w3 = A3[j];
                c00 += w0 * x0;
                c01 += w0 * x1;
                c10 += w1 * x0;
                c11 += w1 * x1;
                c20 += w2 * x0;
                c21 += w2 * x1;
                c30 += w3 * x0;
                c31 += w3 * x1;
            }
            double *restrict Cc = C + i * ld + c;
            SN_ST(Cc, c00);
            SN_ST(Cc + SN_VL, c01);
            SN_ST(Cc + ld, c10);
            SN_ST(Cc + ld + SN_VL, c11);
            SN_ST(Cc + 2 * ld, c20);
            SN_ST(Cc + 2 * ld + SN_VL, c21);
            SN_ST(Cc + 3 * ld, c30);
            SN_ST(Cc + 3 * ld + SN_VL, c31);
        }
    }
    for (; i < M; i++) {
        const double *restrict Ai = A + i * lda;
        const vd z = {0};
        const vd bi = z + (bias ? bias[i] : 0.0);
        for (ptrdiff_t c = 0; c < ld; c += 2 * SN_VL) {
            vd c0 = bi, c1 = bi;
            for (ptrdiff_t j = 0; j < KD; j++) {
                c0 += Ai[j] * SN_LD(B + j * ld + c);
                c1 += Ai[j] * SN_LD(B + j * ld + c + SN_VL);
            }
            SN_ST(C + i * ld + c, c0);
            SN_ST(C + i * ld + c + SN_VL, c1);
        }
    }
}

/* Rows of Y per tile of sn_gemm_nt: 4 (16 accumulators) when there are 32 vector registers. */
#if SN_VL == 8
#define SN_NT_J 4
#else
#define SN_NT_J 2
#endif

/*
 * Out[i*ldo + j] (+)= sum_c G[i, c] Y[j, c]   for i < MI, j < MJ, over ld columns (a multiple
 * of SN_PAD); G and Y have leading dimension ld.
 */
SN_INLINE void sn_gemm_nt(ptrdiff_t MI, ptrdiff_t MJ, ptrdiff_t ld, const double *restrict G,
                          const double *restrict Y, double *restrict Out, ptrdiff_t ldo,
                          int accumulate)
{
    for (ptrdiff_t i = 0; i < MI; i += 4) {
        const int ri = (MI - i) < 4 ? (int)(MI - i) : 4;
        for (ptrdiff_t j = 0; j < MJ; j += SN_NT_J) {
            const int rj = (MJ - j) < SN_NT_J ? (int)(MJ - j) : SN_NT_J;
            vd acc[4][SN_NT_J];
            for (int p = 0; p < 4; p++)
                for (int q = 0; q < SN_NT_J; q++) acc[p][q] = (vd){0};
            if (ri == 4 && rj == SN_NT_J) {
                for (ptrdiff_t c = 0; c < ld; c += SN_VL) {
                    vd g[4], y[SN_NT_J];
                    for (int p = 0; p < 4; p++) g[p] = SN_LD(G + (i + p) * ld + c);
                    for (int q = 0; q < SN_NT_J; q++) y[q] = SN_LD(Y + (j + q) * ld + c);
                    for (int p = 0; p < 4; p++)
                        for (int q = 0; q < SN_NT_J; q++) acc[p][q] += g[p] * y[q];
                }
            } else {
                for (ptrdiff_t c = 0; c < ld; c += SN_VL)
                    for (int p = 0; p < ri; p++)
                        for (int q = 0; q < rj; q++)
                            acc[p][q] += SN_LD(G + (i + p) * ld + c) * SN_LD(Y + (j + q) * ld + c);
            }
            for (int p = 0; p < ri; p++)
                for (int q = 0; q < rj; q++) {
                    double s = sn_hsum(acc[p][q]);
                    double *o = Out + (i + p) * ldo + j + q;
                    *o = accumulate ? *o + s : s;
                }
        }
    }
}

/* out[i] (+)= sum_c G[i, c], i < M, over ld columns (a multiple of SN_PAD). */
SN_INLINE void sn_rowsum(ptrdiff_t M, ptrdiff_t ld, const double *restrict G,
                         double *restrict out, int accumulate)
{
    for (ptrdiff_t i = 0; i < M; i++) {
        vd acc = {0};
        for (ptrdiff_t c = 0; c < ld; c += SN_VL) acc += SN_LD(G + i * ld + c);
        double s = sn_hsum(acc);
        out[i] = accumulate ? out[i] + s : s;
    }
}

/* ---------------------------------------------------------------------------------------
 * Activations. tanh and sigmoid, the common ones, are evaluated branch-free so that the
 * loops vectorise: expm1 by Cody-Waite reduction, a Taylor polynomial and an exponent built
 * from the bits, and no double division. Accuracy: a few ulp (tested against libm).
 * ------------------------------------------------------------------------------------- */

/*
 * exp(x) = 2^n (1 + q) for x in [-708, 0] (the caller clamps): x = n ln2 + r, |r| <= ln2/2,
 * q = expm1(r) by its Taylor series to degree 13 (remainder < 1e-17 relative). Then
 * exp(x) = 2^n + 2^n q, and expm1(x) = 2^n q + (2^n - 1), accurate also near x = 0.
 */
SN_INLINE double sn_exp_parts(double x, double *scale_out)
{
    const double log2e = 1.4426950408889634;
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    const double shifter = 6755399441055744.0; /* 1.5 * 2^52 */
    double t = x * log2e + shifter;
    double nf = t - shifter; /* nearest integer to x / ln 2 */
    double r = (x - nf * ln2_hi) - nf * ln2_lo;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    /* 2^nf: nf in [-1022, 0], exact in an int64 */
    int64_t e = (int64_t)nf + 1023;
    uint64_t bits = (uint64_t)e << 52;
    memcpy(scale_out, &bits, sizeof *scale_out);
    return r + (r * r) * p; /* expm1(r) */
}

/*
 * 1/x for x in [1, 4]: a single-precision quotient refined by two Newton steps (error 2^-23,
 * then 2^-46, then rounding); several times faster than a double division in a vector loop.
 */
SN_INLINE double sn_recip(double x)
{
    double r = (double)(1.0f / (float)x);
    r = r + r * (1.0 - x * r);
    r = r + r * (1.0 - x * r);
    return r;
}

/*
 * tanh(z) = -expm1(-2|z|) / (2 + expm1(-2|z|)) with the sign of z, and its derivative
 * 1 - tanh^2 = (1 + t)(1 - t) with 1 - t = 2 exp(-2|z|) / (2 + expm1(-2|z|)), accurate where
 * tanh is close to 1 (the plain 1 - t^2 would cancel).
 */
SN_INLINE double sn_tanh(double z, double *deriv)
{
    double a = fabs(z);
    int big = a >= 300.0; /* tanh is 1 and its derivative under 1e-260: flush that to 0 */
    a = a < 300.0 ? a : 300.0;
    double scale, q = sn_exp_parts(-2.0 * a, &scale);
    double em = scale * q + (scale - 1.0); /* expm1(-2a) */
    double ex = scale + scale * q;         /* exp(-2a) */
    double rc = sn_recip(2.0 + em);
    double t = -em * rc;
    double d = (1.0 + t) * (2.0 * ex * rc);
    *deriv = big ? 0.0 : d;
    return z < 0.0 ? -t : t;
}

/*
 * logistic sigmoid, stable for both signs: with e = exp(-|z|), 1/(1+e) or e/(1+e); its
 * derivative e/(1+e)^2 (the plain s(1-s) would cancel for large z).
 */
SN_INLINE double sn_sigmoid(double z, double *deriv)
{
    double a = fabs(z);
    int big = a >= 700.0; /* below -700 the value is under 1e-304: flush it to 0 */
    a = a < 700.0 ? a : 700.0;
    double scale, q = sn_exp_parts(-a, &scale);
    double e = scale + scale * q; /* exp(-a) */
    double inv = sn_recip(1.0 + e);
    double d = e * inv * inv;
    *deriv = big ? 0.0 : d;
    return z >= 0.0 ? inv : (big ? 0.0 : e * inv);
}

#define SN_LEAKY_SLOPE 0.01

/* k = s(z), sp = s'(z); sp may be NULL; k may alias z. */
SN_INLINE void sn_activation(int act, ptrdiff_t len, const double *z, double *k, double *sp)
{
    ptrdiff_t e;
    switch (act) {
    case SNODE_ACT_TANH:
        if (sp) {
            for (e = 0; e < len; e++) k[e] = sn_tanh(z[e], &sp[e]);
        } else {
            for (e = 0; e < len; e++) {
                double unused;
                k[e] = sn_tanh(z[e], &unused);
            }
        }
        break;
    case SNODE_ACT_SIGMOID:
        if (sp) {
            for (e = 0; e < len; e++) k[e] = sn_sigmoid(z[e], &sp[e]);
        } else {
            for (e = 0; e < len; e++) {
                double unused;
                k[e] = sn_sigmoid(z[e], &unused);
            }
        }
        break;
    case SNODE_ACT_RELU:
        for (e = 0; e < len; e++) {
            double v = z[e];
            if (sp) sp[e] = v > 0.0 ? 1.0 : 0.0;
            k[e] = v > 0.0 ? v : 0.0;
        }
        break;
    case SNODE_ACT_LEAKY_RELU:
        for (e = 0; e < len; e++) {
            double v = z[e];
            if (sp) sp[e] = v > 0.0 ? 1.0 : SN_LEAKY_SLOPE;
            k[e] = v > 0.0 ? v : SN_LEAKY_SLOPE * v;
        }
        break;
    case SNODE_ACT_ELU:
        for (e = 0; e < len; e++) {
            double v = z[e];
            double vn = v < 0.0 ? v : 0.0;
            if (sp) sp[e] = v > 0.0 ? 1.0 : exp(vn);
            k[e] = v > 0.0 ? v : expm1(vn);
        }
        break;
    case SNODE_ACT_SOFTPLUS:
        for (e = 0; e < len; e++) {
            double v = z[e];
            double ex = exp(-fabs(v));
            if (sp) sp[e] = v >= 0.0 ? 1.0 / (1.0 + ex) : ex / (1.0 + ex);
            k[e] = (v > 0.0 ? v : 0.0) + log1p(ex);
        }
        break;
    default: /* identity */
        for (e = 0; e < len; e++) {
            if (sp) sp[e] = 1.0;
            k[e] = z[e];
        }
        break;
    }
}

#endif
