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

/* Register tile of the products: MR rows of the result by NR samples. */
#define SN_MR 4
#define SN_NR 16
/* Vector lanes used for the partial sums of the sample reductions. */
#define SN_VL 8

/*
 * C[i, :] = bias[i] + sum_j A[i*lda + j] B[j, :]   for i < M, j < KD, over n columns.
 * B has leading dimension ldb, C has ldc. bias may be NULL.
 */
SN_INLINE void sn_gemm_nn(ptrdiff_t M, ptrdiff_t KD, ptrdiff_t n, const double *restrict A,
                          ptrdiff_t lda, const double *restrict bias, const double *restrict B,
                          ptrdiff_t ldb, double *restrict C, ptrdiff_t ldc)
{
    ptrdiff_t i = 0;
    for (; i + SN_MR <= M; i += SN_MR) {
        ptrdiff_t c = 0;
        for (; c + SN_NR <= n; c += SN_NR) {
            double acc[SN_MR][SN_NR];
            for (int r = 0; r < SN_MR; r++) {
                double b0 = bias ? bias[i + r] : 0.0;
                for (int l = 0; l < SN_NR; l++) acc[r][l] = b0;
            }
            for (ptrdiff_t j = 0; j < KD; j++) {
                const double *restrict Bj = B + j * ldb + c;
                for (int r = 0; r < SN_MR; r++) {
                    double w = A[(i + r) * lda + j];
                    for (int l = 0; l < SN_NR; l++) acc[r][l] += w * Bj[l];
                }
            }
            for (int r = 0; r < SN_MR; r++)
                for (int l = 0; l < SN_NR; l++) C[(i + r) * ldc + c + l] = acc[r][l];
        }
        for (; c < n; c++) {
            for (int r = 0; r < SN_MR; r++) {
                double s = bias ? bias[i + r] : 0.0;
                for (ptrdiff_t j = 0; j < KD; j++) s += A[(i + r) * lda + j] * B[j * ldb + c];
                C[(i + r) * ldc + c] = s;
            }
        }
    }
    for (; i < M; i++) {
        double *restrict Ci = C + i * ldc;
        double b0 = bias ? bias[i] : 0.0;
        for (ptrdiff_t c = 0; c < n; c++) Ci[c] = b0;
        for (ptrdiff_t j = 0; j < KD; j++) {
            double w = A[i * lda + j];
            const double *restrict Bj = B + j * ldb;
            for (ptrdiff_t c = 0; c < n; c++) Ci[c] += w * Bj[c];
        }
    }
}

/*
 * Out[i*ldo + j] (+)= sum_c G[i, c] Y[j, c]   for i < MI, j < MJ, over n columns.
 * Partial sums are kept per vector lane (no reassociation needed to vectorise).
 */
SN_INLINE void sn_gemm_nt(ptrdiff_t MI, ptrdiff_t MJ, ptrdiff_t n, const double *restrict G,
                          ptrdiff_t ldg, const double *restrict Y, ptrdiff_t ldy,
                          double *restrict Out, ptrdiff_t ldo, int accumulate)
{
    const ptrdiff_t nv = n - n % SN_VL;
    ptrdiff_t i = 0;
    for (; i < MI; i += 4) {
        int ri = (MI - i) < 4 ? (int)(MI - i) : 4;
        ptrdiff_t j = 0;
        for (; j < MJ; j += 4) {
            int rj = (MJ - j) < 4 ? (int)(MJ - j) : 4;
            double acc[4][4][SN_VL];
            memset(acc, 0, sizeof(acc));
            if (ri == 4 && rj == 4) {
                for (ptrdiff_t c = 0; c < nv; c += SN_VL) {
                    for (int p = 0; p < 4; p++) {
                        const double *restrict gp = G + (i + p) * ldg + c;
                        for (int q = 0; q < 4; q++) {
                            const double *restrict yq = Y + (j + q) * ldy + c;
                            for (int l = 0; l < SN_VL; l++) acc[p][q][l] += gp[l] * yq[l];
                        }
                    }
                }
            } else {
                for (ptrdiff_t c = 0; c < nv; c += SN_VL)
                    for (int p = 0; p < ri; p++)
                        for (int q = 0; q < rj; q++)
                            for (int l = 0; l < SN_VL; l++)
                                acc[p][q][l] += G[(i + p) * ldg + c + l] * Y[(j + q) * ldy + c + l];
            }
            for (ptrdiff_t c = nv; c < n; c++)
                for (int p = 0; p < ri; p++)
                    for (int q = 0; q < rj; q++)
                        acc[p][q][0] += G[(i + p) * ldg + c] * Y[(j + q) * ldy + c];
            for (int p = 0; p < ri; p++)
                for (int q = 0; q < rj; q++) {
                    double s = 0.0;
                    for (int l = 0; l < SN_VL; l++) s += acc[p][q][l];
                    if (accumulate)
                        Out[(i + p) * ldo + j + q] += s;
                    else
                        Out[(i + p) * ldo + j + q] = s;
                }
        }
    }
}

/* out[i] (+)= sum_c G[i, c], i < M. */
SN_INLINE void sn_rowsum(ptrdiff_t M, ptrdiff_t n, const double *restrict G, ptrdiff_t ldg,
                         double *restrict out, int accumulate)
{
    const ptrdiff_t nv = n - n % SN_VL;
    for (ptrdiff_t i = 0; i < M; i++) {
        double acc[SN_VL] = {0};
        const double *restrict gi = G + i * ldg;
        for (ptrdiff_t c = 0; c < nv; c += SN_VL)
            for (int l = 0; l < SN_VL; l++) acc[l] += gi[c + l];
        for (ptrdiff_t c = nv; c < n; c++) acc[0] += gi[c];
        double s = 0.0;
        for (int l = 0; l < SN_VL; l++) s += acc[l];
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
