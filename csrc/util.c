/* Small helpers of the core that do not depend on the instruction-set level. */
#include "snode.h"

int snode_all_finite(ptrdiff_t n, const double *x)
{
    /* x * 0 is 0 for finite x and NaN for Inf or NaN; eight independent sums vectorise */
    double acc[8] = {0};
    ptrdiff_t e = 0;
    for (; e + 8 <= n; e += 8)
        for (int l = 0; l < 8; l++) acc[l] += x[e + l] * 0.0;
    for (; e < n; e++) acc[0] += x[e] * 0.0;
    double s = 0.0;
    for (int l = 0; l < 8; l++) s += acc[l];
    return s == 0.0;
}
