/*
 * The forward sweep: the outputs x(T), the trajectory, and the data cost at the outputs (the
 * cost-only entry that line searches evaluate at trial points). Part of sweeps.c (one
 * translation unit per instruction-set level, see steps.h). Formulas: docs/method.md (the
 * Runge-Kutta step).
 */
#include "loss.h"
#include "steps.h"

ptrdiff_t SN_FN(snode_ws_forward)(const snode_net *net, ptrdiff_t n)
{
    /* x, Ys, Ks of one panel; the packed weights */
    const ptrdiff_t blocks = 1 + 2 * (ptrdiff_t)net->S;
    return net->d * step_panel(net, n, blocks, col_unit(net)) * blocks + pack_scratch(net->d);
}

/* The forward sweep of n samples one panel at a time through all steps; the outputs to xT,
 * the states to traj, and, if loss is not NULL, the data cost added to *J. */
static int forward(const snode_net *net, ptrdiff_t n, const double *x0, ptrdiff_t m,
                   const snode_loss *loss, const double *Y, ptrdiff_t my, const int64_t *labels,
                   double *J, double *xT, double *traj, ptrdiff_t traj_stride, double *work)
{
    const ptrdiff_t d = net->d, K = net->K, unit = col_unit(net);
    if (n <= 0) return SNODE_OK;
    if (net->S < 1 || net->S > SN_MAX_STAGES || m > d || (Y && my > d)) return SNODE_ERR_ARG;
    const ptrdiff_t P = step_panel(net, n, 1 + 2 * (ptrdiff_t)net->S, unit), pn = d * P;
    double *x = work, *Ys = x + pn, *Ks = Ys + net->S * pn, *Wp = Ks + net->S * pn;
    scaled_tableau t;
    sn_scale_tableau(net, &t);
    for (ptrdiff_t c0 = 0; c0 < n; c0 += P) {
        const ptrdiff_t np = n - c0 < P ? n - c0 : P, lp = round_up(np, unit);
        to_cols(d, np, lp, x0 + c0 * m, m, x);
        if (traj) to_rows(d, np, lp, x, traj + c0 * d, d);
        for (ptrdiff_t i = 0; i < K; i++) {
            sn_fwd_step(net, &t, i, x, x, lp, Ks, Ys, Wp);
            if (traj) to_rows(d, np, lp, x, traj + (i + 1) * traj_stride + c0 * d, d);
        }
        if (!cols_finite(d, np, lp, x)) return SNODE_ERR_NONFINITE;
        if (xT) to_rows(d, np, lp, x, xT + c0 * d, d);
        if (loss) {
            const snode_targets tg = {Y ? Y + c0 * my : NULL, my, labels ? labels + c0 : NULL};
            const int status = sn_loss(loss, d, np, x, 1, lp, &tg, NULL, J);
            if (status != SNODE_OK) return status;
        }
    }
    if (loss && !snode_all_finite(1, J)) return SNODE_ERR_NONFINITE;
    return SNODE_OK;
}

int SN_FN(snode_forward)(const snode_net *net, ptrdiff_t n, const double *x0, ptrdiff_t m,
                         double *xT, double *traj, ptrdiff_t traj_stride, double *work)
{
    return forward(net, n, x0, m, NULL, NULL, 0, NULL, NULL, xT, traj, traj_stride, work);
}

int SN_FN(snode_data_cost)(const snode_net *net, ptrdiff_t n, const double *x0, ptrdiff_t m,
                           const snode_loss *loss, const double *Y, ptrdiff_t my,
                           const int64_t *labels, double *J, double *xT, double *work)
{
    *J = 0.0;
    return forward(net, n, x0, m, loss, Y, my, labels, J, xT, NULL, 0, work);
}
