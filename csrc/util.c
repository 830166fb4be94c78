/* Small helpers of the core that do not depend on the instruction-set level. */
#include "snode.h"

/* 1 if the n numbers at x are all finite: x * 0 is 0 for finite x and NaN for Inf or NaN;
 * eight independent sums vectorise. One body for both dtypes (real.h's sn_finite). */
#define SN_ALL_FINITE(name, real)                                                              \
    int name(ptrdiff_t n, const real *x)                                                       \
    {                                                                                          \
        real acc[8] = {0};                                                                     \
        ptrdiff_t e = 0;                                                                       \
        for (; e + 8 <= n; e += 8)                                                             \
            for (int l = 0; l < 8; l++) acc[l] += x[e + l] * (real)0;                          \
        for (; e < n; e++) acc[0] += x[e] * (real)0;                                           \
        real s = 0;                                                                            \
        for (int l = 0; l < 8; l++) s += acc[l];                                               \
        return s == 0;                                                                         \
    }

SN_ALL_FINITE(snode_all_finite, double)
SN_ALL_FINITE(snode_all_finite_f32, float)
