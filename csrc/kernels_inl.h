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
 * loops vectorise: exp by Cody-Waite reduction, a degree-13 Taylor polynomial and an exponent
 * built from the bits; tanh near 0 by its odd Taylor series. Accuracy: a few ulp.
 * ------------------------------------------------------------------------------------- */

/* exp(x) for x in [-708, 0]; the caller clamps. */
SN_INLINE double sn_exp_neg(double x)
{
    const double log2e = 1.4426950408889634;
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    const double shifter = 6755399441055744.0; /* 1.5 * 2^52 */
    double t = x * log2e + shifter;
    double nf = t - shifter; /* nearest integer to x / ln 2 */
    double r = (x - nf * ln2_hi) - nf * ln2_lo;
    /* exp(r), |r| <= 0.35: Taylor to degree 13 (remainder < 1e-17 relative). */
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
    p = p * r + 1.0;
    p = p * r + 1.0;
    /* 2^nf: nf in [-1022, 0], exact in an int64. */
    int64_t e = (int64_t)nf + 1023;
    uint64_t bits = (uint64_t)e << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* tanh(z), and its derivative 1 - tanh^2. */
SN_INLINE double sn_tanh(double z)
{
    double a = fabs(z);
    a = a < 20.0 ? a : 20.0; /* tanh(20) == 1 in double */
    /* large branch: tanh a = (1 - e) / (1 + e), e = exp(-2a) */
    double e = sn_exp_neg(-2.0 * a);
    double big = (1.0 - e) / (1.0 + e);
    /* small branch, a < 0.25: odd Taylor series (ratio (a / (pi/2))^2 < 0.026 per term) */
    double s2 = a * a;
    double q = -113927491862.0 / 2900518163668125.0; /* a^23 */
    q = q * s2 + 18888466084.0 / 194896477400625.0;   /* a^21 */
    q = q * s2 - 443861162.0 / 1856156927625.0;       /* a^19 */
    q = q * s2 + 6404582.0 / 10854718875.0;           /* a^17 */
    q = q * s2 - 929569.0 / 638512875.0;              /* a^15 */
    q = q * s2 + 21844.0 / 6081075.0;                 /* a^13 */
    q = q * s2 - 1382.0 / 155925.0;                   /* a^11 */
    q = q * s2 + 62.0 / 2835.0;                       /* a^9 */
    q = q * s2 - 17.0 / 315.0;                        /* a^7 */
    q = q * s2 + 2.0 / 15.0;                          /* a^5 */
    q = q * s2 - 1.0 / 3.0;                           /* a^3 */
    q = q * s2;
    double small = a + a * q;
    double t = a < 0.25 ? small : big;
    return z < 0.0 ? -t : t;
}

/* logistic sigmoid, stable for both signs */
SN_INLINE double sn_sigmoid(double z)
{
    double a = fabs(z);
    a = a < 700.0 ? a : 700.0;
    double e = sn_exp_neg(-a);
    double inv = 1.0 / (1.0 + e);
    return z >= 0.0 ? inv : e * inv;
}

#define SN_LEAKY_SLOPE 0.01

/* k = s(z), sp = s'(z); sp may be NULL; k may alias z. */
SN_INLINE void sn_activation(int act, ptrdiff_t len, const double *z, double *k, double *sp)
{
    ptrdiff_t e;
    switch (act) {
    case SNODE_ACT_TANH:
        if (sp) {
            for (e = 0; e < len; e++) {
                double t = sn_tanh(z[e]);
                k[e] = t;
                sp[e] = 1.0 - t * t;
            }
        } else {
            for (e = 0; e < len; e++) k[e] = sn_tanh(z[e]);
        }
        break;
    case SNODE_ACT_SIGMOID:
        if (sp) {
            for (e = 0; e < len; e++) {
                double t = sn_sigmoid(z[e]);
                k[e] = t;
                sp[e] = t * (1.0 - t);
            }
        } else {
            for (e = 0; e < len; e++) k[e] = sn_sigmoid(z[e]);
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
            double em1 = expm1(v < 0.0 ? v : 0.0);
            if (sp) sp[e] = v > 0.0 ? 1.0 : em1 + 1.0;
            k[e] = v > 0.0 ? v : em1;
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
