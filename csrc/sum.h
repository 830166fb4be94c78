/*
 * Internal to csrc/: the ordered sum of a gradient over the chunks of a batch (sum.c), for the
 * gradient sweep (adjoint.c). See snode_sum in snode.h for the contract.
 */
#ifndef SNODE_SUM_H
#define SNODE_SUM_H
#include "real.h"
#include "snode.h"

/* this dtype's (sum.c is compiled once per dtype, SN_DTYPE) */
#define sn_sum_pass SN_PASTE(sn_sum_pass_, SN_DTYPE)
#define sn_sum_add SN_PASTE(sn_sum_add_, SN_DTYPE)

/* Pass the turns of steps i0, i0 - 1, ..., 0 without adding a gradient (an empty chunk, or one
 * that stopped on an error), so that the chunks after it do not wait forever; the first
 * chunk zeroes those steps of the shared gW (K x d x d), gb (K x d). */
void sn_sum_pass(const snode_sum *sum, ptrdiff_t i0, ptrdiff_t d, sn_real *gW, sn_real *gb);

/* Add this chunk's gradient of step i (gWl: d x d, gbl: d) to the shared gW_i, gb_i in the
 * chunk's turn (the first chunk writes its part in place beforehand and adds nothing here).
 * The last chunk checks that the step's sum is finite: returns 0 if not, else 1. */
int sn_sum_add(const snode_sum *sum, ptrdiff_t i, ptrdiff_t d, const sn_real *gWl,
               const sn_real *gbl, sn_real *gW, sn_real *gb);

#endif
