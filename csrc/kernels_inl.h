/*
 * Hot inner kernels of the sweeps, internal to csrc/. Included by sweeps.c only, which is
 * compiled once per (dtype, instruction-set level); everything here is static inline so that
 * each instance gets its own vectorised copy. Written on sn_real (real.h); the activations'
 * polynomials, ranges and bit patterns are per dtype.
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

#include "real.h"
#include "snode.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#define SN_INLINE static inline __attribute__((always_inline))

/*
 * Explicit SIMD through the GCC/Clang vector extensions: `vd` is one machine vector of reals
 * (16 bytes with SSE2, 32 with AVX2, 64 with AVX-512: for doubles 2, 4 or 8 lanes, SN_VL).
 * Every lane is an independent sum in the same order, so no reassociation is needed and the
 * results do not depend on the width. SN_VREGS: the vector registers (32 with AVX-512), which
 * decide the register tiles' rows.
 */
#if defined(__AVX512F__)
#define SN_VBYTES 64
#define SN_VREGS 32
#elif defined(__AVX__)
#define SN_VBYTES 32
#define SN_VREGS 16
#else
#define SN_VBYTES 16
#define SN_VREGS 16
#endif
#define SN_VL (SN_VBYTES / SN_REAL_BYTES)
/* The rows of the widest register tile, and of a group of packed A: R rows by 2 vectors take
 * 2R accumulators, the 2 vectors of B and a broadcast of A beside them: 8 rows (19 registers)
 * with 32 vector registers, 6 (15) with 16, as the BLIS and OpenBLAS kernels for these
 * registers (measured on AVX2 in docs/decisions.md). */
#if SN_VREGS == 32
#define SN_MR 8
#else
#define SN_MR 6
#endif
typedef sn_real vd __attribute__((vector_size(SN_VBYTES), aligned(sizeof(sn_real)), may_alias));
#define SN_LD(p) (*(const vd *)(const void *)(p))
#define SN_ST(p, v) (*(vd *)(void *)(p) = (v))

/* Columns of a chunk block are padded to a multiple of SN_PAD: 8, or a vector's lanes where
 * there are more (float32 with AVX-512). */
#define SN_PAD (SN_VL > 8 ? SN_VL : 8)
_Static_assert(SN_PAD % SN_VL == 0, "a padded block holds whole vectors");

SN_INLINE sn_real sn_hsum(vd v)
{
    sn_real s = 0.0;
    for (int l = 0; l < SN_VL; l++) s += v[l];
    return s;
}

/* lanes as integers of the real's width: masks and bit patterns */
typedef sn_rbits vl __attribute__((vector_size(SN_VBYTES)));
/* lanes of a where the mask m is set, else of b */
#define SN_SEL(m, a, b) ((vd)(((vl)(a) & (m)) | ((vl)(b) & ~(m))))

SN_INLINE vd sn_tanh_v(vd z, vd *deriv);
SN_INLINE vd sn_sigmoid_v(vd z, vd *deriv);

/* The earlier stages j < s that feed stage s (coef[j] != 0): their coefficients into c and
 * their stage values, Ks + j * stride, into k; returns how many. */
SN_INLINE int sn_stage_terms(int s, const sn_real *coef, const sn_real *Ks, ptrdiff_t stride,
                             sn_real *c, const sn_real **k)
{
    int n = 0;
    for (int j = 0; j < s; j++)
        if (coef[j] != 0.0) {
            c[n] = coef[j];
            k[n++] = Ks + (ptrdiff_t)j * stride;
        }
    return n;
}

/* Activations that the product's register tile applies before storing (see sn_gemm_nn). */
#define SN_FUSED_ACT(act) ((act) == SNODE_ACT_TANH || (act) == SNODE_ACT_SIGMOID)

/* store s(v) at k and s'(v) at sp (if not NULL) for a fused activation, else v at k */
SN_INLINE void sn_store_act(int act, vd v, sn_real *k, sn_real *sp)
{
    if (SN_FUSED_ACT(act)) {
        vd dv, kv = act == SNODE_ACT_TANH ? sn_tanh_v(v, &dv) : sn_sigmoid_v(v, &dv);
        SN_ST(k, kv);
        if (sp) SN_ST(sp, dv);
    } else {
        SN_ST(k, v);
    }
}

/* acc[r][v] += sum_k A[r*sr + k*sk] B[k*ldb + v*VL ...] for r < R, v < V: the inner loop of
 * every register tile (R = SN_MR, 4 or 1 and V = 2 or 1, constants after inlining). A's strides
 * sr, sk are (lda, 1) for A itself and (1, lda) for its transpose. */
SN_INLINE void sn_tile_fma(const int R, const int V, ptrdiff_t KD, const sn_real *restrict A,
                           ptrdiff_t sr, ptrdiff_t sk, const sn_real *restrict B, ptrdiff_t ldb,
                           vd acc[8][2])
{
    for (ptrdiff_t k = 0; k < KD; k++) {
        const vd x0 = SN_LD(B + k * ldb);
        const vd x1 = V == 2 ? SN_LD(B + k * ldb + SN_VL) : x0;
        const sn_real *restrict ak = A + k * sk;
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            const sn_real w = ak[r * sr];
            acc[r][0] += w * x0;
            if (V == 2) acc[r][1] += w * x1;
        }
    }
}

/*
 * Rows R (a constant after inlining: SN_MR, 4 or 1) of C[i, c:c+V*VL] = bias[i] + sum_j A[i, j] B[j, c:c+V*VL],
 * one register tile of R rows by V (2, or 1 at the end of a row) vectors; with a fused
 * activation, s of that into C and s' into SP (same layout as C; may be NULL).
 */
SN_INLINE void sn_gemm_nn_tile(const int R, const int V, ptrdiff_t KD, ptrdiff_t ld,
                               const sn_real *restrict A, ptrdiff_t sr, ptrdiff_t sk,
                               const sn_real *restrict bias, const sn_real *restrict Bc,
                               sn_real *restrict Cc, int act, sn_real *restrict SPc)
{
    vd acc[8][2];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        const vd b0 = (vd){0} + (bias ? bias[r] : SN_R(0));
        acc[r][0] = b0;
        acc[r][1] = b0;
    }
    sn_tile_fma(R, V, KD, A, sr, sk, Bc, ld, acc);
    for (int r = 0; r < R; r++) {
        sn_store_act(act, acc[r][0], Cc + r * ld, SPc ? SPc + r * ld : NULL);
        if (V == 2)
            sn_store_act(act, acc[r][1], Cc + r * ld + SN_VL, SPc ? SPc + r * ld + SN_VL : NULL);
    }
}

/*
 * Packed A: the rows in groups of SN_MR (8 or 6), each group k-major, A(i, k) at
 * Ap[(i / MR) * MR KD + MR k + i % MR]; a register tile of rows (MR, 4 or 1, never across a
 * group: the 4-row tile follows whole groups) then reads one contiguous stream, the same for
 * A and for A^T. sn_packed_size() numbers.
 */
SN_INLINE ptrdiff_t sn_packed_size(ptrdiff_t M, ptrdiff_t KD)
{
    return (M + SN_MR - 1) / SN_MR * SN_MR * KD;
}

/* where the rows from i on start in packed A (see sn_packed_size) */
SN_INLINE const sn_real *sn_packed_at(const sn_real *Ap, ptrdiff_t KD, ptrdiff_t i)
{
    return Ap + (i / SN_MR) * SN_MR * KD + i % SN_MR;
}

/* One column panel of V vectors, all rows: SN_MR-row tiles, then 4 and 1.
 * A(i, k) = A[i*sr + k*sk], or packed A if packed (a constant after inlining; its tiles are
 * read with sr = 1, sk = SN_MR from sn_packed_at). */
SN_INLINE void sn_gemm_nn_panel(const int V, ptrdiff_t M, ptrdiff_t KD, ptrdiff_t ld,
                                const sn_real *restrict A, ptrdiff_t sr, ptrdiff_t sk,
                                const int packed, const sn_real *restrict bias,
                                const sn_real *restrict Bc, sn_real *restrict Cc, int act,
                                sn_real *restrict SPc)
{
    ptrdiff_t i = 0;
#define SN_TILE(R)                                                                             \
    sn_gemm_nn_tile(R, V, KD, ld, packed ? sn_packed_at(A, KD, i) : A + i * sr, sr, sk,        \
                    bias ? bias + i : NULL, Bc, Cc + i * ld, act, SPc ? SPc + i * ld : NULL)
    for (; i + SN_MR <= M; i += SN_MR) SN_TILE(SN_MR);
    for (; i + 4 <= M; i += 4) SN_TILE(4);
    for (; i < M; i++) SN_TILE(1);
#undef SN_TILE
}

/*
 * C[i, :] = s(bias[i] + sum_j A(i, j) B[j, :])   for i < M, j < KD, over ld columns
 * (ld a multiple of SN_PAD), A(i, j) = A[i*sr + j*sk]; B, C (and SP) have leading dimension
 * ld; bias may be NULL. s is the activation `act` when SN_FUSED_ACT(act), with s' stored in
 * SP (if not NULL), and the identity otherwise (act = -1 for a plain product).
 * Column panels of 2 vectors (1 at the end) outside, so that a panel of B stays in L1 while
 * every row tile (SN_MR rows, then 4, then single rows) passes over it.
 */
SN_INLINE void sn_gemm_act_strided(ptrdiff_t M, ptrdiff_t KD, ptrdiff_t ld,
                                   const sn_real *restrict A, ptrdiff_t sr, ptrdiff_t sk,
                                   const int packed, const sn_real *restrict bias,
                                   const sn_real *restrict B, sn_real *restrict C, int act,
                                   sn_real *restrict SP)
{
    ptrdiff_t c = 0;
    for (; c + 2 * SN_VL <= ld; c += 2 * SN_VL)
        sn_gemm_nn_panel(2, M, KD, ld, A, sr, sk, packed, bias, B + c, C + c, act,
                         SP ? SP + c : NULL);
    for (; c < ld; c += SN_VL)
        sn_gemm_nn_panel(1, M, KD, ld, A, sr, sk, packed, bias, B + c, C + c, act,
                         SP ? SP + c : NULL);
}

/* C = s(A B + bias), A with leading dimension lda (see sn_gemm_act_strided). */
SN_INLINE void sn_gemm_nn_act(ptrdiff_t M, ptrdiff_t KD, ptrdiff_t ld, const sn_real *restrict A,
                              ptrdiff_t lda, const sn_real *restrict bias,
                              const sn_real *restrict B, sn_real *restrict C, int act,
                              sn_real *restrict SP)
{
    sn_gemm_act_strided(M, KD, ld, A, lda, 1, 0, bias, B, C, act, SP);
}

/* C = A B (+ bias), without activation. */
SN_INLINE void sn_gemm_nn(ptrdiff_t M, ptrdiff_t KD, ptrdiff_t ld, const sn_real *restrict A,
                          ptrdiff_t lda, const sn_real *restrict bias, const sn_real *restrict B,
                          sn_real *restrict C)
{
    sn_gemm_act_strided(M, KD, ld, A, lda, 1, 0, bias, B, C, -1, NULL);
}

/* C = A^T B for A (KD x M, leading dimension lda): no transposed copy of A is needed. */
SN_INLINE void sn_gemm_tn(ptrdiff_t M, ptrdiff_t KD, ptrdiff_t ld, const sn_real *restrict A,
                          ptrdiff_t lda, const sn_real *restrict B, sn_real *restrict C)
{
    sn_gemm_act_strided(M, KD, ld, A, 1, lda, 0, NULL, B, C, -1, NULL);
}

/* C = s(A B + bias) for packed A (M x KD, see sn_packed_size). */
SN_INLINE void sn_gemm_packed_act(ptrdiff_t M, ptrdiff_t KD, ptrdiff_t ld,
                                  const sn_real *restrict Ap, const sn_real *restrict bias,
                                  const sn_real *restrict B, sn_real *restrict C, int act,
                                  sn_real *restrict SP)
{
    sn_gemm_act_strided(M, KD, ld, Ap, 1, SN_MR, 1, bias, B, C, act, SP);
}

/*
 * C[r, :V*VL] (+)= sum_k A[r*lda + k] B[k*ldb, :V*VL] for r < R (R = SN_MR, 4, 1; V = 2, 1): the
 * register tile of sn_gemm_acc. With nv < VL (V = 1), only the first nv columns of C are read
 * and written (B is read in whole vectors).
 */
SN_INLINE void sn_gemm_acc_tile(const int R, const int V, ptrdiff_t KD, const sn_real *restrict A,
                                ptrdiff_t lda, const sn_real *restrict B, ptrdiff_t ldb,
                                sn_real *restrict C, ptrdiff_t ldc, int accumulate, ptrdiff_t nv)
{
    vd acc[8][2];
    const int part = V == 1 && nv < SN_VL;
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        acc[r][0] = (vd){0};
        acc[r][1] = (vd){0};
        if (accumulate && part) {
            for (ptrdiff_t l = 0; l < nv; l++) acc[r][0][l] = C[r * ldc + l];
        } else if (accumulate) {
            acc[r][0] = SN_LD(C + r * ldc);
            if (V == 2) acc[r][1] = SN_LD(C + r * ldc + SN_VL);
        }
    }
    sn_tile_fma(R, V, KD, A, lda, 1, B, ldb, acc);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        if (part) {
            for (ptrdiff_t l = 0; l < nv; l++) C[r * ldc + l] = acc[r][0][l];
        } else {
            SN_ST(C + r * ldc, acc[r][0]);
            if (V == 2) SN_ST(C + r * ldc + SN_VL, acc[r][1]);
        }
    }
}

/*
 * C (M x N) (+)= A (M x KD, leading dimension lda) . B (KD x N, leading dimension ldb, a
 * multiple of SN_VL: the columns of B from N to the next multiple are read, not used), C with
 * leading dimension ldc. The inner dimension is cut into blocks of 128 so that a panel of B
 * (128 x 2 vectors) stays in L1 while the row tiles pass over it.
 */
SN_INLINE void sn_gemm_acc(ptrdiff_t M, ptrdiff_t KD, ptrdiff_t N, const sn_real *restrict A,
                           ptrdiff_t lda, const sn_real *restrict B, ptrdiff_t ldb,
                           sn_real *restrict C, ptrdiff_t ldc, int accumulate)
{
    const ptrdiff_t kc = 128;
    for (ptrdiff_t k0 = 0; k0 < KD; k0 += kc) {
        const ptrdiff_t kn = KD - k0 < kc ? KD - k0 : kc;
        const int acc = accumulate || k0 > 0;
        for (ptrdiff_t c = 0; c < N; c += 2 * SN_VL) {
            const ptrdiff_t nv = N - c; /* columns left */
            const sn_real *Bp = B + k0 * ldb + c;
            ptrdiff_t i = 0;
#define SN_ACC_TILES(R)                                                                        \
    for (; i + R <= M; i += R) {                                                               \
        if (nv >= 2 * SN_VL)                                                                   \
            sn_gemm_acc_tile(R, 2, kn, A + i * lda + k0, lda, Bp, ldb, C + i * ldc + c, ldc,   \
                             acc, nv);                                                         \
        else                                                                                   \
            sn_gemm_acc_tile(R, 1, kn, A + i * lda + k0, lda, Bp, ldb, C + i * ldc + c, ldc,   \
                             acc, nv);                                                         \
    }
            SN_ACC_TILES(SN_MR)
            SN_ACC_TILES(4)
            SN_ACC_TILES(1)
#undef SN_ACC_TILES
            if (nv > SN_VL && nv < 2 * SN_VL) {
                /* the rest after one whole vector: a partial one */
                const sn_real *Bq = Bp + SN_VL;
                i = 0;
#define SN_ACC_REST(R)                                                                           \
    for (; i + R <= M; i += R)                                                                   \
        sn_gemm_acc_tile(R, 1, kn, A + i * lda + k0, lda, Bq, ldb, C + i * ldc + c + SN_VL, ldc, \
                         acc, nv - SN_VL);
                SN_ACC_REST(SN_MR)
                SN_ACC_REST(4)
                SN_ACC_REST(1)
#undef SN_ACC_REST
            }
        }
    }
}

#if SN_VL == 8 && defined(__GNUC__) && !defined(__clang__)
#define SN_HAVE_TRANSPOSE8 1
/* out[k] = column k of the 8 x 8 block whose rows are r[0..7] (three rounds of shuffles) */
SN_INLINE void sn_transpose8(const vd r[8], vd out[8])
{
    const vl even = {0, 8, 2, 10, 4, 12, 6, 14}, odd = {1, 9, 3, 11, 5, 13, 7, 15};
    const vl lo2 = {0, 1, 8, 9, 4, 5, 12, 13}, hi2 = {2, 3, 10, 11, 6, 7, 14, 15};
    const vl lo4 = {0, 1, 2, 3, 8, 9, 10, 11}, hi4 = {4, 5, 6, 7, 12, 13, 14, 15};
    vd t[8], u[8];
    for (int k = 0; k < 8; k += 2) {
        t[k] = __builtin_shuffle(r[k], r[k + 1], even);
        t[k + 1] = __builtin_shuffle(r[k], r[k + 1], odd);
    }
    for (int k = 0; k < 8; k += 4) {
        u[k] = __builtin_shuffle(t[k], t[k + 2], lo2);
        u[k + 2] = __builtin_shuffle(t[k], t[k + 2], hi2);
        u[k + 1] = __builtin_shuffle(t[k + 1], t[k + 3], lo2);
        u[k + 3] = __builtin_shuffle(t[k + 1], t[k + 3], hi2);
    }
    for (int k = 0; k < 4; k++) {
        out[k] = __builtin_shuffle(u[k], u[k + 4], lo4);
        out[k + 4] = __builtin_shuffle(u[k], u[k + 4], hi4);
    }
}
#endif

/* Ap = A (M x KD, leading dimension lda) packed (see sn_packed_size) */
SN_INLINE void sn_pack(ptrdiff_t M, ptrdiff_t KD, const sn_real *restrict A, ptrdiff_t lda,
                       sn_real *restrict Ap)
{
    ptrdiff_t i0 = 0;
#if defined(SN_HAVE_TRANSPOSE8) && SN_MR == 8
    for (; i0 + 8 <= M; i0 += 8) {
        sn_real *restrict g = Ap + i0 * KD;
        ptrdiff_t k0 = 0;
        for (; k0 + 8 <= KD; k0 += 8) {
            vd r[8], o[8];
            for (int q = 0; q < 8; q++) r[q] = SN_LD(A + (i0 + q) * lda + k0);
            sn_transpose8(r, o);
            for (int q = 0; q < 8; q++) SN_ST(g + (k0 + q) * 8, o[q]);
        }
        for (; k0 < KD; k0++)
            for (int q = 0; q < 8; q++) g[k0 * 8 + q] = A[(i0 + q) * lda + k0];
    }
#endif
    for (ptrdiff_t i = i0; i < M; i++) {
        sn_real *restrict g = Ap + (i / SN_MR) * SN_MR * KD + i % SN_MR;
        for (ptrdiff_t k = 0; k < KD; k++) g[k * SN_MR] = A[i * lda + k];
    }
}

/* Ap = A^T packed, for A (KD x M, leading dimension lda) (see sn_packed_size) */
SN_INLINE void sn_pack_t(ptrdiff_t M, ptrdiff_t KD, const sn_real *restrict A, ptrdiff_t lda,
                         sn_real *restrict Ap)
{
    const ptrdiff_t Mg = M / SN_MR * SN_MR;
    for (ptrdiff_t k = 0; k < KD; k++) {
        const sn_real *restrict ak = A + k * lda;
        for (ptrdiff_t i0 = 0; i0 < Mg; i0 += SN_MR) {
            sn_real *restrict g = Ap + i0 * KD + k * SN_MR;
#pragma GCC unroll 8
            for (int q = 0; q < SN_MR; q++) g[q] = ak[i0 + q];
        }
        for (ptrdiff_t i = Mg; i < M; i++) Ap[Mg * KD + k * SN_MR + (i - Mg)] = ak[i];
    }
}

#ifdef SN_HAVE_TRANSPOSE8
/* the sums of the lanes of a[0..3], in r[0..3] (a tree over the lanes: three rounds of
 * shuffles, 11 operations for the four sums) */
SN_INLINE void sn_hsum4(const vd a[4], sn_real r[4])
{
    const vl even = {0, 8, 2, 10, 4, 12, 6, 14}, odd = {1, 9, 3, 11, 5, 13, 7, 15};
    const vl lo2 = {0, 1, 8, 9, 4, 5, 12, 13}, hi2 = {2, 3, 10, 11, 6, 7, 14, 15};
    /* x: pair sums of a0 (even lanes) and a1 (odd); y: of a2 and a3 */
    const vd x = __builtin_shuffle(a[0], a[1], even) + __builtin_shuffle(a[0], a[1], odd);
    const vd y = __builtin_shuffle(a[2], a[3], even) + __builtin_shuffle(a[2], a[3], odd);
    /* z[q], z[q + 4]: the sums of lanes 0-3 and 4-7 of a_q */
    const vd z = __builtin_shuffle(x, y, lo2) + __builtin_shuffle(x, y, hi2);
    for (int q = 0; q < 4; q++) r[q] = z[q] + z[q + 4];
}
#endif

/* Rows of Y per tile of sn_gemm_nt: 4 (16 accumulators) when there are 32 vector registers. */
#if SN_VREGS == 32
#define SN_NT_J 4
#else
#define SN_NT_J 2
#endif

/*
 * Out[i*ldo + j] = sum_s sum_c G_s[i, c] Y_s[j, c]   for i < MI, j < MJ, over S blocks
 * G_s = G + s*sstride, Y_s = Y + s*sstride, each with ld columns (a multiple of SN_PAD).
 * Column blocks small enough for L2 (all stages of G and Y) are the outer loop, so each block
 * is read from memory once; inside, the stages are summed in the register tile and each entry
 * is reduced across the vector lanes once per block: lane by lane, or with tree (a constant
 * after inlining) four entries at once by a tree of shuffles where that is available.
 */
SN_INLINE void sn_gemm_nt(const int tree, int S, ptrdiff_t MI, ptrdiff_t MJ, ptrdiff_t ld,
                          ptrdiff_t sstride, const sn_real *restrict G, const sn_real *restrict Y,
                          sn_real *restrict Out, ptrdiff_t ldo, int accumulate)
{
    /* 2 S max(MI, MJ) cb numbers of G and Y blocks: about 1 MiB */
    ptrdiff_t rows = MI > MJ ? MI : MJ;
    ptrdiff_t cb = (ptrdiff_t)(512 * 1024 / sizeof(sn_real)) / ((ptrdiff_t)S * rows) / SN_PAD *
                   SN_PAD;
    if (cb < SN_PAD) cb = SN_PAD;
    for (ptrdiff_t c0 = 0; c0 < ld; c0 += cb) {
        const ptrdiff_t c1 = c0 + cb < ld ? c0 + cb : ld;
        for (ptrdiff_t i = 0; i < MI; i += 4) {
            const int ri = (MI - i) < 4 ? (int)(MI - i) : 4;
            for (ptrdiff_t j = 0; j < MJ; j += SN_NT_J) {
                const int rj = (MJ - j) < SN_NT_J ? (int)(MJ - j) : SN_NT_J;
                vd acc[4][SN_NT_J];
#pragma GCC unroll 4
                for (int p = 0; p < 4; p++)
#pragma GCC unroll 4
                    for (int q = 0; q < SN_NT_J; q++) acc[p][q] = (vd){0};
                for (int s = 0; s < S; s++) {
                    const sn_real *restrict Gs = G + s * sstride;
                    const sn_real *restrict Ys = Y + s * sstride;
                    if (ri == 4 && rj == SN_NT_J) {
                        for (ptrdiff_t c = c0; c < c1; c += SN_VL) {
                            vd g[4], y[SN_NT_J];
#pragma GCC unroll 4
                            for (int p = 0; p < 4; p++) g[p] = SN_LD(Gs + (i + p) * ld + c);
#pragma GCC unroll 4
                            for (int q = 0; q < SN_NT_J; q++) y[q] = SN_LD(Ys + (j + q) * ld + c);
#pragma GCC unroll 4
                            for (int p = 0; p < 4; p++)
#pragma GCC unroll 4
                                for (int q = 0; q < SN_NT_J; q++) acc[p][q] += g[p] * y[q];
                        }
                    } else {
                        for (ptrdiff_t c = c0; c < c1; c += SN_VL)
                            for (int p = 0; p < ri; p++)
                                for (int q = 0; q < rj; q++)
                                    acc[p][q] += SN_LD(Gs + (i + p) * ld + c) *
                                                 SN_LD(Ys + (j + q) * ld + c);
                    }
                }
                for (int p = 0; p < ri; p++) {
                    sn_real sums[SN_NT_J];
#if defined(SN_HAVE_TRANSPOSE8) && SN_NT_J == 4
                    if (tree)
                        sn_hsum4(acc[p], sums);
                    else
#endif
                        for (int q = 0; q < rj; q++) sums[q] = sn_hsum(acc[p][q]);
                    for (int q = 0; q < rj; q++) {
                        sn_real *o = Out + (i + p) * ldo + j + q;
                        *o = (c0 == 0 && !accumulate ? 0.0 : *o) + sums[q];
                    }
                }
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------
 * Activations. tanh and sigmoid, the common ones, are evaluated on whole vectors, branch-free:
 * expm1 by Cody-Waite reduction, a Taylor polynomial and an exponent built from the bits.
 * Accuracy: a few ulp (tested against libm). The others are plain loops (elu and softplus
 * through libm).
 * ------------------------------------------------------------------------------------- */

/*
 * exp(x) = 2^n (1 + q) for x in [SN_EXP_MIN, 0] (the caller clamps): x = n ln2 + r,
 * |r| <= ln2/2, q = expm1(r) by its Taylor series (float64: to degree 13, remainder < 1e-17
 * relative; float32: to degree 8, < 2e-8). Then exp(x) = 2^n + 2^n q, and
 * expm1(x) = 2^n q + (2^n - 1), accurate also near x = 0. ln2 is split in two parts whose
 * first times n is exact (Cody and Waite).
 */
#if SN_REAL_BYTES == 8
#define SN_EXP_MIN (-708.0)
SN_INLINE vd sn_exp_parts_v(vd x, vd *scale_out)
{
    const double shifter = 6755399441055744.0; /* 1.5 2^52: the low bits hold round(x/ln2) */
    vd t = x * 1.4426950408889634 + shifter;
    vd nf = t - shifter;
    vd r = (x - nf * 6.93147180369123816490e-01) - nf * 1.90821492927058770002e-10;
    /* P(r) = sum_k r^k / (k + 2)!, k <= 11, in Estrin form: four multiply-adds deep instead
     * of Horner's twelve */
    vd r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    vd q0 = 0.5 + r * (1.0 / 6.0), q1 = (1.0 / 24.0) + r * (1.0 / 120.0);
    vd q2 = (1.0 / 720.0) + r * (1.0 / 5040.0), q3 = (1.0 / 40320.0) + r * (1.0 / 362880.0);
    vd q4 = (1.0 / 3628800.0) + r * (1.0 / 39916800.0);
    vd q5 = (1.0 / 479001600.0) + r * (1.0 / 6227020800.0);
    vd p = ((q0 + r2 * q1) + r4 * (q2 + r2 * q3)) + r8 * (q4 + r2 * q5);
    /* the low bits of t hold nf (an integer in [-1022, 0]) offset by the shifter's */
    vl n = (vl)t - (vl)((vd){0} + shifter);
    *scale_out = (vd)((n + 1023) << 52);
    return r + (r * r) * p;
}
#else
#define SN_EXP_MIN (-87.0f)
SN_INLINE vd sn_exp_parts_v(vd x, vd *scale_out)
{
    const float shifter = 12582912.0f; /* 1.5 2^23 */
    vd t = x * 1.44269504f + shifter;
    vd nf = t - shifter;
    vd r = (x - nf * 0.693359375f) - nf * -2.12194440e-4f;
    /* P(r) = sum_k r^k / (k + 2)!, k <= 6, in Estrin form */
    vd r2 = r * r, r4 = r2 * r2;
    vd q0 = 0.5f + r * SN_R(1.0 / 6.0), q1 = SN_R(1.0 / 24.0) + r * SN_R(1.0 / 120.0);
    vd q2 = SN_R(1.0 / 720.0) + r * SN_R(1.0 / 5040.0);
    vd p = (q0 + r2 * q1) + r4 * (q2 + r2 * SN_R(1.0 / 40320.0));
    /* nf, an integer in [-126, 0], in the low bits of t */
    vl n = (vl)t - (vl)((vd){0} + shifter);
    *scale_out = (vd)((n + 127) << 23);
    return r + (r * r) * p;
}
#endif

/* 1/x: on AVX-512 the 14-bit estimate and two Newton steps (a division is the slowest part). */
SN_INLINE vd sn_recip_v(vd x)
{
#if defined(__AVX512F__) && SN_REAL_BYTES == 8
    vd r = (vd)_mm512_rcp14_pd((__m512d)x);
    r = r + r * (1.0 - x * r);
    r = r + r * (1.0 - x * r);
    return r;
#else
    return 1.0 / x;
#endif
}

/* min(c, a) lane by lane; NaN in a propagates */
SN_INLINE vd sn_min_const_v(sn_real c, vd a)
{
#if defined(__AVX512F__) && SN_REAL_BYTES == 8
    return (vd)_mm512_min_pd(_mm512_set1_pd(c), (__m512d)a);
#else
    vl keep = a < c;
    vl nan = a != a;
    return SN_SEL(keep | nan, a, (vd){0} + c);
#endif
}

#if defined(__AVX512F__) && SN_REAL_BYTES == 8 && defined(__GNUC__) && !defined(__clang__)
#define SN_HAVE_EXP_TABLE 1
#endif

/*
 * expm1(x) for x in [SN_EXP_MIN, 0] (the caller clamps), and exp(x) in *ex, both to an ulp or two
 * (expm1 also relative near 0). With AVX-512: x = (16 n + j) ln2/16 + r, |r| <= ln2/32, and
 * 2^(j/16) = T_j (1 + c_j) with T_j the double nearest and c_j (< 2^-53) from two 16-entry
 * tables (one two-register permute each); expm1(r) by its Taylor series to degree 7 (error
 * under 2^-54 relative) in Estrin form (short dependency chains); then with S = 2^n T_j and
 * q = expm1(r) + c_j, exp(x) = S (1 + q) and expm1(x) = S q + (S - 1), where S - 1 is exact
 * for the small x (n = -1 or 0) at which expm1 needs it. Otherwise sn_exp_parts_v.
 */
SN_INLINE vd sn_expm1_v(vd x, vd *ex)
{
#ifdef SN_HAVE_EXP_TABLE
    const vd thi_lo = {0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0,
                       0x1.2387a6e756238p+0, 0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0,
                       0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0};
    const vd thi_hi = {0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0,
                       0x1.9c49182a3f090p+0, 0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0,
                       0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};
    const vd c_lo = {0.0, 0x1.79aa65d837b6dp-54, -0x1.01b15eaa59348p-55, 0x1.68efde3a8a894p-54,
                     0x1.34d754db0abb6p-55, 0x1.59f48a72a4c6dp-55, 0x1.690cebb7aafb0p-56,
                     0x1.063e1e21c5409p-54};
    const vd c_hi = {-0x1.3b3efbf5e2228p-54, -0x1.b32dcb94da51dp-56, 0x1.db72fc1f0eab4p-55,
                     0x1.1affc2b91ce27p-56, 0x1.c1a7792cb3387p-55, 0x1.36eae30af0cb3p-56,
                     0x1.4a385a63d07a7p-56, -0x1.ff7128fd391f0p-55};
    const double shifter = 6755399441055744.0; /* 1.5 2^52 */
    vd t = x * 23.083120654223414 + shifter;  /* round(x 16/ln2) in the low bits */
    vd nf = t - shifter;
    vd r = (x - nf * 0x1.62e42fefa39efp-5) - nf * 1.4494042586539372e-18;
    /* expm1(r) = r + r^2 P(r), P = sum_k r^k / (k + 2)!, k <= 5 */
    vd r2 = r * r, r4 = r2 * r2;
    vd p01 = 0.5 + r * (1.0 / 6.0);
    vd p23 = (1.0 / 24.0) + r * (1.0 / 120.0);
    vd p45 = (1.0 / 720.0) + r * (1.0 / 5040.0);
    vd P = (p01 + r2 * p23) + r4 * p45;
    /* n16 = 16 n + j from the low bits of t; 2^n T_j by adding n to T_j's exponent */
    vl n16 = (vl)t - (vl)((vd){0} + shifter);
    vl j = n16 & 15;
    vd q = (r + __builtin_shuffle(c_lo, c_hi, j)) + r2 * P;
    vd S = (vd)((vl)__builtin_shuffle(thi_lo, thi_hi, j) + ((n16 >> 4) << 52));
    vd Sq = S * q;
    *ex = S + Sq;
    return Sq + (S - 1.0);
#else
    vd S, q = sn_exp_parts_v(x, &S);
    *ex = S + S * q;
    return S * q + (S - 1.0);
#endif
}

/*
 * tanh(z) = -expm1(-2|z|) / (2 + expm1(-2|z|)) with the sign of z, and its derivative
 * 1 - tanh^2 = (1 + t)(1 - t) with 1 - t = 2 exp(-2|z|) / (2 + expm1(-2|z|)), accurate where
 * tanh is close to 1 (the plain 1 - t^2 would cancel). Beyond |z| = SN_TANH_MAX (300 in
 * float64, 40 in float32) the derivative (under 1e-260, 1e-34) is flushed to 0.
 */
#if SN_REAL_BYTES == 8
#define SN_SIGN_BIT INT64_MIN
#define SN_TANH_MAX 300.0
#define SN_SIGMOID_MIN 700.0
#define SN_SOFTPLUS_MAX 708.0
#else
#define SN_SIGN_BIT INT32_MIN
#define SN_TANH_MAX 40.0f
#define SN_SIGMOID_MIN 85.0f
#define SN_SOFTPLUS_MAX 85.0f
#endif
_Static_assert(-2 * SN_TANH_MAX >= SN_EXP_MIN && -SN_SIGMOID_MIN >= SN_EXP_MIN &&
                   -SN_SOFTPLUS_MAX >= SN_EXP_MIN,
               "the activations clamp within sn_exp_parts_v's range");

SN_INLINE vd sn_tanh_v(vd z, vd *deriv)
{
    const vl sign = (vl){0} + SN_SIGN_BIT;
    vd a = (vd)((vl)z & ~sign);
    vd ex, em = sn_expm1_v(SN_R(-2) * sn_min_const_v(SN_TANH_MAX, a), &ex);
    vd rc = sn_recip_v(2.0 + em);
    vd t = -em * rc;
    vd d = (1.0 + t) * (2.0 * ex * rc);
    *deriv = SN_SEL(a >= SN_TANH_MAX, (vd){0}, d);
    return (vd)((vl)t | ((vl)z & sign));
}

/*
 * logistic sigmoid, stable for both signs: with e = exp(-|z|), 1/(1+e) or e/(1+e); its
 * derivative e/(1+e)^2 (the plain s(1-s) would cancel for large z). Below z = -SN_SIGMOID_MIN
 * (-700 in float64, -85 in float32) the value (under 1e-304, 1e-37) and the derivative are
 * flushed to 0.
 */
SN_INLINE vd sn_sigmoid_v(vd z, vd *deriv)
{
    const vl sign = (vl){0} + SN_SIGN_BIT;
    vd a = (vd)((vl)z & ~sign);
    vl big = a >= SN_SIGMOID_MIN;
    vd e;
    (void)sn_expm1_v(-sn_min_const_v(SN_SIGMOID_MIN, a), &e);
    vd inv = sn_recip_v(1.0 + e);
    *deriv = SN_SEL(big, (vd){0}, e * inv * inv);
    vd neg = SN_SEL(big, (vd){0}, e * inv);
    return SN_SEL(z >= 0.0, inv, neg);
}

#define SN_LEAKY_SLOPE 0.01

/* k = s(z), sp = s'(z); sp may be NULL; k may alias z. */
SN_INLINE void sn_activation(int act, ptrdiff_t len, const sn_real *z, sn_real *k, sn_real *sp)
{
    ptrdiff_t e;
    switch (act) {
    case SNODE_ACT_TANH:
    case SNODE_ACT_SIGMOID: {
        /* whole vectors; a partial one at the end through a zero-padded copy */
        const int th = act == SNODE_ACT_TANH;
        for (e = 0; e < len; e += SN_VL) {
            const ptrdiff_t m = len - e < SN_VL ? len - e : SN_VL;
            vd zv = {0}, dv, kv;
            if (m == SN_VL)
                zv = SN_LD(z + e);
            else
                for (ptrdiff_t l = 0; l < m; l++) zv[l] = z[e + l];
            kv = th ? sn_tanh_v(zv, &dv) : sn_sigmoid_v(zv, &dv);
            if (m == SN_VL) {
                SN_ST(k + e, kv);
                if (sp) SN_ST(sp + e, dv);
            } else {
                for (ptrdiff_t l = 0; l < m; l++) {
                    k[e + l] = kv[l];
                    if (sp) sp[e + l] = dv[l];
                }
            }
        }
        break;
    }
    case SNODE_ACT_RELU:
        for (e = 0; e < len; e++) {
            sn_real v = z[e];
            if (sp) sp[e] = v > 0.0 ? 1.0 : 0.0;
            k[e] = v > 0.0 ? v : 0.0;
        }
        break;
    case SNODE_ACT_LEAKY_RELU:
        for (e = 0; e < len; e++) {
            sn_real v = z[e];
            if (sp) sp[e] = v > 0.0 ? 1.0 : SN_LEAKY_SLOPE;
            k[e] = v > 0.0 ? v : SN_LEAKY_SLOPE * v;
        }
        break;
    case SNODE_ACT_ELU:
        for (e = 0; e < len; e++) {
            sn_real v = z[e];
            sn_real vn = v < 0.0 ? v : 0.0;
            if (sp) sp[e] = v > 0.0 ? 1.0 : exp(vn);
            k[e] = v > 0.0 ? v : expm1(vn);
        }
        break;
    case SNODE_ACT_SOFTPLUS:
        for (e = 0; e < len; e++) {
            sn_real v = z[e];
            sn_real ex = exp(-fabs(v));
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

/*
 * s'(z) from k = s(z) on one vector: every activation's derivative is a function of its value,
 * so the adjoint needs only the stage values. (For tanh and sigmoid this is 1 - k^2 and
 * k (1 - k): accurate to rounding in absolute terms; for elu, k = exp(z) - 1 for z <= 0, so
 * s' = k + 1; for softplus, k = log(1 + exp(z)), so s' = sigmoid(z) = 1 - exp(-k).)
 */
SN_INLINE vd sn_deriv_v(int act, vd k)
{
    const vd one = (vd){0} + 1.0;
    vd ex;
    switch (act) {
    case SNODE_ACT_TANH:
        return 1.0 - k * k;
    case SNODE_ACT_SIGMOID:
        return k * (1.0 - k);
    case SNODE_ACT_RELU:
        return SN_SEL(k > 0.0, one, (vd){0});
    case SNODE_ACT_LEAKY_RELU:
        return SN_SEL(k > 0.0, one, (vd){0} + SN_R(SN_LEAKY_SLOPE));
    case SNODE_ACT_ELU:
        return SN_SEL(k > 0.0, one, k + 1.0);
    case SNODE_ACT_SOFTPLUS: /* k >= 0; beyond SN_SOFTPLUS_MAX, 1 - exp(-k) is 1 */
        return -sn_expm1_v(-sn_min_const_v(SN_SOFTPLUS_MAX, k), &ex);
    default:
        return one;
    }
}

#endif
