/* Internal to csrc/: the loss (loss.c) as the sweeps call it, on blocks of either layout. */
#ifndef SNODE_LOSS_H
#define SNODE_LOSS_H
#include "real.h"
#include "snode.h"

/* this dtype's (loss.c is compiled once per dtype, SN_DTYPE: it reads and writes the
 * dtype's blocks and computes in double) */
#define sn_loss SN_PASTE(sn_loss_, SN_DTYPE)

/*
 * Adds the data terms of n samples to *J, sample by sample in order, and, if lam is not NULL,
 * their gradient dJ/dx to lam (same layout as x; the caller zeroes it). Element (r, j) of x
 * and lam is at [r rs + j cs]: (d, 1) for rows, (1, ld) for component-major blocks. tg: the
 * n samples' targets (snode_targets_at for a later part of a chunk). Returns SNODE_OK, or
 * SNODE_ERR_LABEL for a label out of range, SNODE_ERR_ARG for a cross-entropy without labels
 * or classes outside [1, d] (nothing added then).
 */
int sn_loss(const snode_loss *loss, ptrdiff_t d, ptrdiff_t n, const sn_real *x, ptrdiff_t rs,
            ptrdiff_t cs, const snode_targets *tg, sn_real *lam, double *J);

#endif
