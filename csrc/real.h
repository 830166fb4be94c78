/*
 * Internal to csrc/: the real type of one instance of the sweeps. The sweep files (steps.c,
 * forward.c, adjoint.c, tangent.c and the kernels they include) are written on sn_real and
 * compiled once per (dtype, instruction-set level): SN_DTYPE names the dtype as SN_ISA names
 * the level (meson.build passes both), and the entry points carry both as a suffix
 * (snode_value_grad_f64_avx2, see SN_FN in steps.h). The vector type and its lane count follow
 * from the real's size (kernels_inl.h).
 *
 * Two dtypes are built: f64 (double) and f32 (float). What is not written on sn_real: the
 * argument structs (snode.h declares both dtypes' from one macro; steps.h names this
 * instance's sn_net, sn_grad_args, ...), the loss and the ordered sum of a gradient (loss.c
 * and sum.c, compiled once per dtype: the loss reads float outputs and works in double) and
 * the step, tableau, targets and cost (double in both). Constants in vector expressions are
 * written SN_R(c), so that float's instance rounds them once, where the compiler would refuse
 * to narrow a double silently; the activations' polynomials and ranges are per dtype
 * (kernels_inl.h).
 */
#ifndef SNODE_REAL_H
#define SNODE_REAL_H

#include <stddef.h>
#include <stdint.h>

#define SN_PASTE_(a, b) a##b
#define SN_PASTE(a, b) SN_PASTE_(a, b)

/* the dtypes, as numbers that the preprocessor can compare */
#define SN_DTYPE_ID_f64 1
#define SN_DTYPE_ID_f32 2

#if SN_PASTE(SN_DTYPE_ID_, SN_DTYPE) == 1
typedef double sn_real;
typedef int64_t sn_rbits; /* an integer of the real's width: lane masks and bit patterns */
#define SN_REAL_BYTES 8   /* sizeof(sn_real), where the preprocessor needs it */
#define SN_SFX            /* the suffix of the dtype's public names in snode.h: none */
#elif SN_PASTE(SN_DTYPE_ID_, SN_DTYPE) == 2
typedef float sn_real;
typedef int32_t sn_rbits;
#define SN_REAL_BYTES 4
#define SN_SFX _f32
#else
#error "SN_DTYPE must name a dtype the sweeps are instantiated for: f64 or f32"
#endif

/* a constant as the real (rounded once, where a vector expression needs the real's type) */
#define SN_R(c) ((sn_real)(c))

_Static_assert(sizeof(sn_real) == SN_REAL_BYTES && sizeof(sn_rbits) == SN_REAL_BYTES,
               "SN_REAL_BYTES is the size of sn_real");

/* 1 if the n reals at x are all finite (snode.h's snode_all_finite, util.c) */
int snode_all_finite(ptrdiff_t n, const double *x);
int snode_all_finite_f32(ptrdiff_t n, const float *x);
static inline int sn_finite(ptrdiff_t n, const sn_real *x)
{
#if SN_REAL_BYTES == 8
    return snode_all_finite(n, x);
#else
    return snode_all_finite_f32(n, x);
#endif
}

/* Numbers in a cache line (64 bytes): every workspace array starts at a multiple of it. */
#define SN_LINE (64 / SN_REAL_BYTES)

#endif
