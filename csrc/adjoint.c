/*
 * The gradient sweep: forward through all steps, the data cost and lambda_K = dJ/dx(T), then
 * the adjoint sweep back, which gives the exact gradient of the discrete cost with respect to
 * the weights and the inputs. Part of sweeps.c (one translation unit per sweep instance, see
 * steps.h). Formulas: docs/method.md (the cost functional, the adjoint sweep).
 */
#include "loss.h"
#include "steps.h"
#include "sum.h"

/* the gradient sweep's workspace for panels of P samples: a panel's state x and adjoint lam,
 * the backward step's scratch, one step's stage values Ks (for recompute), a step's gradient
 * gWl, gbl (for the shared sum), and the forward store (unless the states are kept) */
typedef struct {
    ptrdiff_t P;
    sn_real *x, *lam, *Ks, *gWl, *gbl, *store;
    bwd_scratch bwd;
} grad_ws;

/* Lays out the gradient sweep's workspace for a chunk of n samples in work (when work is NULL,
 * only sizes it); returns its size. */
static ptrdiff_t grad_layout(const sn_net *net, ptrdiff_t n, int recompute, sn_real *work,
                             grad_ws *w)
{
    const ptrdiff_t P = grad_panel(net, n, recompute);
    const ptrdiff_t d = net->d, pn = d * P, S = net->S, K = net->K;
    ptrdiff_t size = 0;
    w->P = P;
    w->x = ws_take(work, &size, pn);
    w->lam = ws_take(work, &size, pn);
    w->bwd.G = ws_take(work, &size, S * pn);
    w->bwd.Ybar = ws_take(work, &size, S * pn);
    w->Ks = ws_take(work, &size, S * pn);
    w->bwd.T = ws_take(work, &size, wgrad_scratch(d, P));
    w->bwd.Yr = ws_take(work, &size, S * pn); /* one step's stage inputs */
    w->gWl = ws_take(work, &size, d * d + d);
    w->gbl = w->gWl ? w->gWl + d * d : NULL;
    w->bwd.Wp = ws_take(work, &size, pack_scratch(d));
    /* the states x_0..x_{K-1}, or with the stage values of every step */
    w->store = ws_take(work, &size, K * (recompute ? 1 : S + 1) * pn);
    return size;
}

ptrdiff_t SN_FN(snode_ws_grad)(const sn_net *net, ptrdiff_t n, int recompute)
{
    grad_ws w;
    return grad_layout(net, n, recompute, NULL, &w);
}

ptrdiff_t SN_FN(snode_grad_panel)(const sn_net *net, ptrdiff_t n, int recompute)
{
    return grad_panel(net, n, recompute);
}

int SN_FN(snode_uses_fused)(const sn_net *net) { return use_fused(net); }

ptrdiff_t SN_FN(snode_keep_size)(const sn_net *net, ptrdiff_t n)
{
    if (n <= 0) return 0;
    const ptrdiff_t P = grad_panel(net, n, 0);
    /* whole panels of P columns, the last one of its own width (kept_offset) */
    const ptrdiff_t cols = n / P * P + round_up(n % P, col_unit(net));
    return net->K * (net->S + 1) * net->d * cols;
}

/*
 * The gradient sweep of snode_value_grad; *next receives the first step whose turn of the
 * shared sum this chunk has not passed (K - 1 before the backward sweep, -1 when done).
 */
static int value_grad(const sn_net *net, const sn_grad_args *a, sn_real *work,
                      ptrdiff_t *next)
{
    const ptrdiff_t n = a->n, m = a->m, d = net->d, K = net->K, S = net->S, dd = d * d;
    const int recompute = a->recompute;
    const snode_sum *sum = a->sum;
    sn_real *gW = a->gW, *gb = a->gb, *keep = a->keep;
    double *J = a->J;
    scaled_tableau t;
    *next = K - 1;
    sn_scale_tableau(net, &t);
    grad_ws w;
    grad_layout(net, n, recompute, work, &w);
    const ptrdiff_t P = w.P, unit = col_unit(net);
    if ((sum && P < n) || (keep && recompute)) return SNODE_ERR_ARG;
    sn_real *x = w.x, *lam = w.lam, *Ks = w.Ks, *gWl = w.gWl, *gbl = w.gbl;
    *J = 0.0;
    /* one panel of samples at a time, forward and back through all steps */
    for (ptrdiff_t c0 = 0; c0 < n; c0 += P) {
        const ptrdiff_t np = n - c0 < P ? n - c0 : P, lp = round_up(np, unit), ln = d * lp;
        /* what is kept for the backward pass: "store" keeps x_i and the stage values K_s of
         * every step ((S + 1) d lp numbers a step), "recompute" only x_i; the stage inputs
         * are rebuilt from them, in cache. With keep, each panel's store stays in keep (at
         * K (S + 1) d P numbers a panel) for snode_tangent_kept. */
        const ptrdiff_t kept = recompute ? ln : (S + 1) * ln;
        sn_real *store = keep ? keep + kept_offset(net, P, c0) : w.store;
        to_cols(d, np, lp, a->x0 + c0 * m, m, store);
        for (ptrdiff_t i = 0; i < K; i++) {
            sn_real *xi = store + i * kept;
            sn_real *Ki = recompute ? Ks : xi + ln;
            sn_fwd_step(net, &t, i, xi, i + 1 < K ? xi + kept : x, lp, Ki, w.bwd.Yr, w.bwd.Wp);
        }
        if (!cols_finite(d, np, lp, x)) return SNODE_ERR_NONFINITE;
        if (a->xT) to_rows(d, np, lp, x, a->xT + c0 * d, d);

        if (a->lamT) {
            to_cols(d, np, lp, a->lamT + c0 * d, d, lam);
        } else {
            memset(lam, 0, (size_t)ln * sizeof(sn_real));
            const snode_targets tp = snode_targets_at(&a->tg, c0);
            const int status = sn_loss(a->loss, d, np, x, 1, lp, &tp, lam, J);
            if (status != SNODE_OK) return status;
        }

        for (ptrdiff_t i = K - 1; i >= 0; i--) {
            const sn_real *xi = store + i * kept;
            const sn_real *Ki = xi + ln;
            if (recompute) {
                sn_fwd_step(net, &t, i, xi, x, lp, Ks, w.bwd.Yr, w.bwd.Wp);
                Ki = Ks;
            }
            if (sum) {
                /* the first chunk writes the sum directly (its turn comes first); the others
                 * compute their part aside and add it in their turn */
                const int first = sum->index == 0;
                sn_bwd_step(net, &t, i, lp, xi, Ki, lam, first ? gW + i * dd : gWl,
                            first ? gb + i * d : gbl, 0, &w.bwd);
                *next = i - 1;
                if (!sn_sum_add(sum, i, d, gWl, gbl, gW, gb)) return SNODE_ERR_NONFINITE;
                continue;
            }
            sn_bwd_step(net, &t, i, lp, xi, Ki, lam, gW + i * dd, gb + i * d, c0 > 0, &w.bwd);
            /* the step's gradient is complete after the last panel: check it while in cache */
            if (c0 + P >= n && !(sn_finite(dd, gW + i * dd) && sn_finite(d, gb + i * d)))
                return SNODE_ERR_NONFINITE;
        }
        if (!cols_finite(d, np, lp, lam)) return SNODE_ERR_NONFINITE;
        if (a->lam0) to_rows(d, np, lp, lam, a->lam0 + c0 * d, d);
    }
    if (!snode_all_finite(1, J)) return SNODE_ERR_NONFINITE;
    return SNODE_OK;
}

int SN_FN(snode_value_grad)(const sn_net *net, const sn_grad_args *args, sn_real *work)
{
    const ptrdiff_t d = net->d, K = net->K, n = args->n;
    const snode_sum *sum = args->sum;
    ptrdiff_t next = K - 1;
    int status = SNODE_OK;
    *args->J = 0.0;
    if (net->S < 1 || net->S > SN_MAX_STAGES || args->m > d ||
        (args->tg.Y && args->tg.my > d) || (sum && (sum->index < 0 || sum->index >= sum->count)))
        status = SNODE_ERR_ARG;
    else if (n <= 0 && !sum) {
        memset(args->gW, 0, (size_t)(K * d * d) * sizeof(sn_real));
        memset(args->gb, 0, (size_t)(K * d) * sizeof(sn_real));
    } else if (n > 0) {
        status = value_grad(net, args, work, &next);
    }
    if (sum) sn_sum_pass(sum, next, d, args->gW, args->gb);
    return status;
}
