/* Internal to csrc/: the loss (loss.c) as the sweeps call it, on blocks of either layout. */
#ifndef SNODE_LOSS_H
#define SNODE_LOSS_H
#include "snode.h"

/*
 * Adds the data terms of n samples to *J, sample by sample in order, and, if lam is not NULL,
 * their gradient dJ/dx to lam (same layout as x; the caller zeroes it). Element (r, j) of x
 * and lam is at [r rs + j cs]: (d, 1) for rows, (1, ld) for component-major blocks. Y (n x my,
 * may be NULL) and labels (n, may be NULL) as for snode_output_loss. Returns SNODE_OK, or
 * SNODE_ERR_LABEL for a label out of range (nothing added then).
 */
int sn_loss(const snode_loss *loss, ptrdiff_t d, ptrdiff_t n, const double *x, ptrdiff_t rs,
             ptrdiff_t cs, const double *Y, ptrdiff_t my, const int64_t *labels, double *lam,
             double *J);

#endif
