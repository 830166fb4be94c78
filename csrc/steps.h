/*
 * Internal to csrc/: what the sweep files (forward.c, adjoint.c, tangent.c) share with the step
 * kernels (steps.c). All of them are compiled together, as sweeps.c, once per dtype and
 * instruction-set level, SN_DTYPE and SN_ISA naming them (see meson.build and real.h): the
 * step kernels are static, and the entry points carry the instance's suffix (SN_FN), so that
 * the instances link side by side. Every array is of sn_real.
 *
 * Layout inside a chunk of samples: component-major blocks, d rows of ld columns (samples),
 * ld a multiple of the column unit; see kernels_inl.h.
 */
#ifndef SNODE_STEPS_H
#define SNODE_STEPS_H

#include "sweeps.h"
#include "kernels_inl.h"
#include "fused_inl.h"

/* this instance's suffix, f64_avx2 say, and its entry point of an snode.h name */
#define SN_INST SN_PASTE(SN_PASTE(SN_DTYPE, _), SN_ISA)
#define SN_FN(name) SN_PASTE(SN_PASTE(name, _), SN_INST)

/* this instance's entry points, declared from the list, so that the compiler checks every
 * definition (SN_FN) against it */
SN_DECLARE_SWEEPS(SN_INST, SN_SFX, sn_real)

/* this dtype's argument structs (snode.h) */
typedef SN_PASTE(snode_net, SN_SFX) sn_net;
typedef SN_PASTE(snode_forward_args, SN_SFX) sn_forward_args;
typedef SN_PASTE(snode_cost_args, SN_SFX) sn_cost_args;
typedef SN_PASTE(snode_grad_args, SN_SFX) sn_grad_args;
typedef SN_PASTE(snode_tangent_args, SN_SFX) sn_tangent_args;
typedef SN_PASTE(snode_tangent_kept_args, SN_SFX) sn_tangent_kept_args;

/* Scaled tableau: ha[s*S+j] = h a_sj, hb[s] = h b_s (at most SN_MAX_STAGES stages). */
typedef struct {
    sn_real ha[SN_MAX_STAGES * SN_MAX_STAGES];
    sn_real hb[SN_MAX_STAGES];
} scaled_tableau;

/* whether the sweeps of net run the fused small-width kernels */
static inline int use_fused(const sn_net *net)
{
    return !net->general && (net->act == SNODE_ACT_TANH || net->act == SNODE_ACT_SIGMOID) &&
           net->d <= SN_FUSED_MAX_D;
}

/* columns of a block are padded to a multiple of this */
static inline ptrdiff_t col_unit(const sn_net *net)
{
    return use_fused(net) ? SN_FZ_COLS : SN_PAD;
}

static inline ptrdiff_t round_up(ptrdiff_t n, ptrdiff_t unit)
{
    return (n + unit - 1) / unit * unit;
}

/* rows (n x m, m <= d) -> component-major d x ld, zero-padded in both directions */
static inline void to_cols(ptrdiff_t d, ptrdiff_t n, ptrdiff_t ld, const sn_real *restrict x,
                           ptrdiff_t m, sn_real *restrict xc)
{
    for (ptrdiff_t j = 0; j < d; j++) {
        sn_real *restrict row = xc + j * ld;
        ptrdiff_t r = 0;
        if (j < m)
            for (; r < n; r++) row[r] = x[r * m + j];
        for (; r < ld; r++) row[r] = 0.0;
    }
}

/* the n real columns of component-major d x ld -> rows with stride ldx (>= d) */
static inline void to_rows(ptrdiff_t d, ptrdiff_t n, ptrdiff_t ld, const sn_real *restrict xc,
                           sn_real *restrict x, ptrdiff_t ldx)
{
    for (ptrdiff_t r = 0; r < n; r++)
        for (ptrdiff_t j = 0; j < d; j++) x[r * ldx + j] = xc[j * ld + r];
}

/* the n real columns of d rows with leading dimension ld are finite */
static inline int cols_finite(ptrdiff_t d, ptrdiff_t n, ptrdiff_t ld, const sn_real *x)
{
    int ok = 1;
    for (ptrdiff_t j = 0; j < d; j++) ok &= sn_finite(n, x + j * ld);
    return ok;
}

/*
 * The next len numbers of a workspace being laid out (by a sweep's layout function, which
 * both sizes and carves it): a pointer into work, or NULL while only sizing (work NULL);
 * *size counts the numbers taken, len rounded up to whole cache lines (SN_LINE) so that every
 * array starts as aligned as work.
 */
static inline sn_real *ws_take(sn_real *work, ptrdiff_t *size, ptrdiff_t len)
{
    sn_real *p = work ? work + *size : NULL;
    *size += round_up(len, SN_LINE);
    return p;
}

/*
 * Panel widths. The sweeps go through all steps one panel of samples at a time, so that a
 * panel's working set stays in cache: as many columns as keep col_bytes a column within
 * budget, but at least about 2 d (the products' efficiency; the weight gradient is a product
 * over the panel's samples) and at most the chunk of n; a multiple of unit.
 */
static inline ptrdiff_t panel_width(const sn_net *net, ptrdiff_t n, ptrdiff_t col_bytes,
                                    ptrdiff_t budget, ptrdiff_t unit)
{
    const ptrdiff_t ld = round_up(n, unit);
    ptrdiff_t P = budget / col_bytes / unit * unit;
    const ptrdiff_t Pmin = round_up(net->d < 8 ? 16 : 2 * net->d, unit);
    if (P < Pmin) P = Pmin;
    return P < ld ? P : ld;
}

/* Forward and tangent sweeps: the step's `blocks` arrays of d x P numbers within
 * SN_STEP_BYTES (the fastest caches). */
#ifndef SN_STEP_BYTES
#define SN_STEP_BYTES (64 * 1024)
#endif
static inline ptrdiff_t step_panel(const sn_net *net, ptrdiff_t n, ptrdiff_t blocks,
                                   ptrdiff_t unit)
{
    return panel_width(net, n, blocks * net->d * (ptrdiff_t)sizeof(sn_real), SN_STEP_BYTES,
                       unit);
}

/* Gradient sweep (forward and back through all steps a panel at a time): what the backward
 * pass reads (each step's state and stage values) within SN_PANEL_BYTES, so that it was
 * written recently and is still in cache. */
#ifndef SN_PANEL_BYTES
#define SN_PANEL_BYTES (512 * 1024)
#endif
#ifndef SN_STORE_MAX_BYTES
#define SN_STORE_MAX_BYTES (256 * 1024 * 1024)
#endif
static inline ptrdiff_t grad_panel(const sn_net *net, ptrdiff_t n, int recompute)
{
    const ptrdiff_t per_col =
        net->K * (recompute ? 1 : net->S + 1) * net->d * (ptrdiff_t)sizeof(sn_real);
    const ptrdiff_t unit = col_unit(net), P = panel_width(net, n, per_col, SN_PANEL_BYTES, unit);
    /* a network so deep and wide that a panel of the products' preferred width would keep
     * gigabytes: fewer columns, so that the scratch follows the work (at least one unit) */
    ptrdiff_t cap = SN_STORE_MAX_BYTES / per_col / unit * unit;
    if (cap < unit) cap = unit;
    return P < cap ? P : cap;
}

/* Where the panel that starts at column c0 of a chunk (panels of P) keeps its forward states
 * (snode_keep_size): K (S + 1) d P numbers a panel, the last one of its own width. */
static inline ptrdiff_t kept_offset(const sn_net *net, ptrdiff_t P, ptrdiff_t c0)
{
    return c0 / P * (net->K * (net->S + 1) * net->d * P);
}

/* From this width on, the products of a step read W in packed row tiles (sn_pack), packed
 * once a step and read by all S stages: one contiguous stream per tile. */
#ifndef SN_PACK_MIN_D
#define SN_PACK_MIN_D 16
#endif
static inline ptrdiff_t pack_scratch(ptrdiff_t d)
{
    return d >= SN_PACK_MIN_D ? sn_packed_size(d, d) : 0;
}

/*
 * The weight gradient sum_s g_s y_s^T: as a product with the samples inside (y_s transposed)
 * from width 16 on where its columns fill whole vectors, and at every width from 96 on;
 * otherwise by dot products along the samples (sn_gemm_nt), which pad nothing. (Measured with
 * AVX-512: the first is 3 % faster at width 16 and 4-12 % from 100 on, the second 5-11 %
 * faster at widths 20-68 that are not multiples of 8.)
 */
static inline int wgrad_over_samples(ptrdiff_t d)
{
    return d >= 16 && (d % SN_VL == 0 || d >= 96);
}

/* scratch of the weight gradient as a product over samples: y_s^T (ld x dp) */
static inline ptrdiff_t wgrad_scratch(ptrdiff_t d, ptrdiff_t ld)
{
    const ptrdiff_t dp = (d + SN_VL - 1) / SN_VL * SN_VL;
    return wgrad_over_samples(d) ? ld * dp : 0;
}

/* --- the step kernels (steps.c): general kernels at any width, fused ones where they exist - */

static void sn_scale_tableau(const sn_net *net, scaled_tableau *t);

/*
 * One step forward on a d x ld block: xout = x_{i+1} from xin = x_i (xout may be xin). Ks
 * (S x d x ld) receives the stage values. Ys: S x d x ld scratch (general kernels only); Wp:
 * pack_scratch(d).
 */
static void sn_fwd_step(const sn_net *net, const scaled_tableau *t, ptrdiff_t i,
                        const sn_real *xin, sn_real *xout, ptrdiff_t ld, sn_real *Ks,
                        sn_real *Ys, sn_real *Wp);

/* scratch of one backward step on a d x ld block: G, Ybar, Yr S x d x ld each; T
 * wgrad_scratch(d, ld); Wp pack_scratch(d) */
typedef struct {
    sn_real *G, *Ybar, *T, *Yr, *Wp;
} bwd_scratch;

/*
 * One step backward on a d x ld block, given the step's state xi and stage values Ki (S x d x
 * ld): lam <- lambda_i from lambda_{i+1}; gWi (d x d), gbi (d) receive the step's gradient
 * (added to them if accumulate).
 */
static void sn_bwd_step(const sn_net *net, const scaled_tableau *t, ptrdiff_t i,
                        ptrdiff_t ld, const sn_real *xi, const sn_real *Ki, sn_real *lam,
                        sn_real *gWi, sn_real *gbi, int accumulate, const bwd_scratch *w);

/* scratch of one tangent step on d x ld blocks with q tangents: y, sp, V d x ld each, ydot
 * d x q ld (general kernels only) */
typedef struct {
    sn_real *y, *sp, *V, *ydot;
} tan_scratch;

/* one tangent a sample runs the fused kernels where they exist */
static inline int tangent_fused(const sn_net *net, ptrdiff_t q)
{
    return q == 1 && use_fused(net);
}

/*
 * One tangent-linear step on a d x ld block with q tangents per sample: xi (d x q ld, column
 * t ld + r is tangent t of sample r) <- xi_{i+1}, with its stage values in Kdot (S x d x q
 * ld). dW, db: the parameter direction (whole arrays; either may be NULL for zero).
 * x <- x_{i+1} in place. If kept, Ks holds the step's stage values (S x d x ld) as a gradient
 * sweep stored them, only read (q must be 1), and x, needed for dW y_s only, is advanced only
 * when dW is not NULL; otherwise Ks receives the stage values.
 */
static void sn_tan_step(const sn_net *net, const scaled_tableau *t, ptrdiff_t i,
                        ptrdiff_t ld, ptrdiff_t q, const sn_real *dW, const sn_real *db,
                        sn_real *x, sn_real *Ks, sn_real *xi, sn_real *Kdot, const tan_scratch *w,
                        int kept);

#endif
