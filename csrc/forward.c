/*
 * The forward sweep: the outputs x(T), the trajectory, and the data cost at the outputs (the
 * cost-only entry that line searches evaluate at trial points). Part of sweeps.c (one
 * translation unit per sweep instance, see steps.h). Formulas: docs/method.md (the
 * Runge-Kutta step).
 */
#include "loss.h"
#include "steps.h"

/* the forward sweep's workspace: a panel of P samples' state x, stage inputs Ys and stage
 * values Ks (S each), and the packed weights */
typedef struct {
    ptrdiff_t P;
    sn_real *x, *Ys, *Ks, *Wp;
} forward_ws;

/* Lays out the forward sweep's workspace for a chunk of n samples in work (when work is NULL,
 * only sizes it); returns its size. */
static ptrdiff_t forward_layout(const sn_net *net, ptrdiff_t n, sn_real *work, forward_ws *w)
{
    const ptrdiff_t S = net->S, P = step_panel(net, n, 1 + 2 * S, col_unit(net)), pn = net->d * P;
    ptrdiff_t size = 0;
    w->P = P;
    w->x = ws_take(work, &size, pn);
    w->Ys = ws_take(work, &size, S * pn);
    w->Ks = ws_take(work, &size, S * pn);
    w->Wp = ws_take(work, &size, pack_scratch(net->d));
    return size;
}

ptrdiff_t SN_FN(snode_ws_forward)(const sn_net *net, ptrdiff_t n)
{
    forward_ws w;
    return forward_layout(net, n, NULL, &w);
}

/* The forward sweep of a chunk one panel at a time through all steps; the outputs to xT, the
 * states to traj, and, if loss is not NULL, the data cost with targets tg added to *J. */
static int forward(const sn_net *net, const sn_forward_args *a, const snode_loss *loss,
                   const snode_targets *tg, double *J, sn_real *work)
{
    const ptrdiff_t n = a->n, m = a->m, d = net->d, K = net->K, unit = col_unit(net);
    if (n <= 0) return SNODE_OK;
    if (net->S < 1 || net->S > SN_MAX_STAGES || m > d || (loss && tg->Y && tg->my > d))
        return SNODE_ERR_ARG;
    forward_ws w;
    forward_layout(net, n, work, &w);
    const ptrdiff_t P = w.P, traj_stride = a->traj_stride;
    sn_real *x = w.x, *traj = a->traj, *xT = a->xT;
    scaled_tableau t;
    sn_scale_tableau(net, &t);
    for (ptrdiff_t c0 = 0; c0 < n; c0 += P) {
        const ptrdiff_t np = n - c0 < P ? n - c0 : P, lp = round_up(np, unit);
        to_cols(d, np, lp, a->x0 + c0 * m, m, x);
        if (traj) to_rows(d, np, lp, x, traj + c0 * d, d);
        for (ptrdiff_t i = 0; i < K; i++) {
            sn_fwd_step(net, &t, i, x, x, lp, w.Ks, w.Ys, w.Wp);
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

int SN_FN(snode_forward)(const sn_net *net, const sn_forward_args *args, sn_real *work)
{
    return forward(net, args, NULL, NULL, NULL, work);
}

int SN_FN(snode_data_cost)(const sn_net *net, const sn_cost_args *args, sn_real *work)
{
    const sn_forward_args f = {.n = args->n, .x0 = args->x0, .m = args->m, .xT = args->xT};
    *args->J = 0.0;
    return forward(net, &f, args->loss, &args->tg, args->J, work);
}
