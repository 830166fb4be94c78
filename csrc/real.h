/*
 * Internal to csrc/: the real type of one instance of the sweeps. The sweep files (steps.c,
 * forward.c, adjoint.c, tangent.c and the kernels they include) are written on sn_real and
 * compiled once per (dtype, instruction-set level): SN_DTYPE names the dtype as SN_ISA names
 * the level (meson.build passes both), and the entry points carry both as a suffix
 * (snode_value_grad_f64_avx2, see SN_FN in steps.h). The vector type and its lane count follow
 * from the real's size (kernels_inl.h).
 *
 * Only float64 (f64) is built. A float32 instance would add its line below and, outside the
 * sweep files: argument structs with float arrays and a dispatch table of its own (snode.h,
 * dispatch.c); its own constants where the kernels' are double's (the activations'
 * polynomials, bit patterns and libm calls in kernels_inl.h); and conversions at the three
 * seams to code compiled once in double: the loss (sn_loss on the outputs), the ordered sum of
 * a gradient (sn_sum_add) and the finiteness check (sn_finite, steps.h). The build refuses
 * any other SN_DTYPE here rather than compile a half-made instance.
 */
#ifndef SNODE_REAL_H
#define SNODE_REAL_H

#include <stdint.h>

#define SN_PASTE_(a, b) a##b
#define SN_PASTE(a, b) SN_PASTE_(a, b)

/* the dtypes, as numbers that the preprocessor can compare */
#define SN_DTYPE_ID_f64 1

#if SN_PASTE(SN_DTYPE_ID_, SN_DTYPE) == 1
typedef double sn_real;
typedef int64_t sn_rbits; /* an integer of the real's width: lane masks and bit patterns */
#define SN_REAL_BYTES 8   /* sizeof(sn_real), where the preprocessor needs it */
#else
#error "SN_DTYPE must name a dtype the sweeps are instantiated for: f64"
#endif

_Static_assert(sizeof(sn_real) == SN_REAL_BYTES && sizeof(sn_rbits) == SN_REAL_BYTES,
               "SN_REAL_BYTES is the size of sn_real");

/* Numbers in a cache line (64 bytes): every workspace array starts at a multiple of it. */
#define SN_LINE (64 / SN_REAL_BYTES)

#endif
