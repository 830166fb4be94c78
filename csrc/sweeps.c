/*
 * The sweeps of one instance, a dtype and an instruction-set level (SN_DTYPE, SN_ISA, see
 * meson.build and real.h), as one translation unit:
 * the step kernels and the three sweeps are files of their own, included here so that the
 * compiler sees every caller of the (static) step kernels. No code of its own.
 */
#include "steps.c"

#include "forward.c"

#include "adjoint.c"

#include "tangent.c"
