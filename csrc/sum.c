/*
 * A gradient summed over the chunks of a batch in place, step by step, in chunk order: chunk
 * c adds its part of step i after chunk c - 1 has added its own, so that the sum is the same
 * whatever the timing of the threads (see snode_sum in snode.h). No vector code: one pass of
 * d^2 additions a step and chunk. Compiled once per dtype (SN_DTYPE, real.h).
 */
#include <sched.h>
#include <string.h>

#include "sum.h"

static void sum_wait(const snode_sum *sum, ptrdiff_t i)
{
    int spins = 0;
    while (__atomic_load_n(&sum->turn[i], __ATOMIC_ACQUIRE) != sum->index) {
        if (spins < 4096) {
            spins++;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            sched_yield(); /* the chunk before this one is not running: let it */
        }
    }
}

static void sum_done(const snode_sum *sum, ptrdiff_t i)
{
    __atomic_store_n(&sum->turn[i], sum->index + 1, __ATOMIC_RELEASE);
}

void sn_sum_pass(const snode_sum *sum, ptrdiff_t i0, ptrdiff_t d, sn_real *gW, sn_real *gb)
{
    for (ptrdiff_t i = i0; i >= 0; i--) {
        sum_wait(sum, i);
        if (sum->index == 0) {
            memset(gW + i * d * d, 0, (size_t)(d * d) * sizeof(sn_real));
            memset(gb + i * d, 0, (size_t)d * sizeof(sn_real));
        }
        sum_done(sum, i);
    }
}

int sn_sum_add(const snode_sum *sum, ptrdiff_t i, ptrdiff_t d, const sn_real *gWl,
               const sn_real *gbl, sn_real *gW, sn_real *gb)
{
    const ptrdiff_t dd = d * d;
    sn_real *restrict gWi = gW + i * dd, *restrict gbi = gb + i * d;
    int ok = 1;
    sum_wait(sum, i);
    if (sum->index > 0) { /* the first chunk has written its part in place */
        for (ptrdiff_t e = 0; e < dd; e++) gWi[e] += gWl[e];
        for (ptrdiff_t e = 0; e < d; e++) gbi[e] += gbl[e];
    }
    if (sum->index == sum->count - 1)
        ok = sn_finite(dd, gWi) && sn_finite(d, gbi);
    sum_done(sum, i);
    return ok;
}
