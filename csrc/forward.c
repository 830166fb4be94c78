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

/* The forward sweep of a chunk one panel at a time through all steps; the outputs to xT, the
 * states to traj, and, if loss is not NULL, the data cost with targets tg added to *J. */
static int forward(const snode_net *net, const snode_forward_args *a, const snode_loss *loss,
                   const snode_targets *tg, double *J, double *work)
{
    const ptrdiff_t n = a->n, m = a->m, d = net->d, K = net->K, unit = col_unit(net);
    if (n <= 0) return SNODE_OK;
    if (net->S < 1 || net->S > SN_MAX_STAGES || m > d || (loss && tg->Y && tg->my > d))
        return SNODE_ERR_ARG;
    const ptrdiff_t P = step_panel(net, n, 1 + 2 * (ptrdiff_t)net->S, unit), pn = d * P;
    double *x = work, *Ys = x + pn, *Ks = Ys + net->S * pn, *Wp = Ks + net->S * pn;
    const ptrdiff_t traj_stride = a->traj_stride;
    double *traj = a->traj, *xT = a->xT;
    scaled_tableau t;
    sn_scale_tableau(net, &t);
    for (ptrdiff_t c0 = 0; c0 < n; c0 += P) {
        const ptrdiff_t np = n - c0 < P ? n - c0 : P, lp = round_up(np, unit);
        to_cols(d, np, lp, a->x0 + c0 * m, m, x);
        if (traj) to_rows(d, np, lp, x, traj + c0 * d, d);
        for (ptrdiff_t i = 0; i < K; i++) {
            sn_fwd_step(net, &t, i, x, x, lp, Ks, Ys, Wp);
            if (traj) to_rows(d, np, lp, x, traj + (i + 1) * traj_stride + c0 * d, d);
        }
        if (!cols_finite(d, np, lp, x)) return SNODE_ERR_NONFINITE;
        if (xT) to_rows(d, np, lp, x, xT + c0 * d, d);
        if (loss) {
            const snode_targets tp = snode_targets_at(tg, c0);
            const int status = sn_loss(loss, d, np, x, 1, lp, &tp, NULL, J);
            if (status != SNODE_OK) return status;
        }
    }
    if (loss && !snode_all_finite(1, J)) return SNODE_ERR_NONFINITE;
    return SNODE_OK;
}

int SN_FN(snode_forward)(const snode_net *net, const snode_forward_args *args, double *work)
{
    return forward(net, args, NULL, NULL, NULL, work);
}

int SN_FN(snode_data_cost)(const snode_net *net, const snode_cost_args *args, double *work)
{
    const snode_forward_args f = {.n = args->n, .x0 = args->x0, .m = args->m, .xT = args->xT};
    *args->J = 0.0;
    return forward(net, &f, args->loss, &args->tg, args->J, work);
}
