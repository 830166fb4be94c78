/*
 * The tangent-linear (sensitivity) sweep: how x(T) moves along a weight direction (dW, db),
 * with several tangents a sample for the input Jacobian; and the same sweep on the states that
 * a gradient sweep kept (snode_value_grad with keep), which skips the forward recomputation.
 * Part of sweeps.c (one translation unit per sweep instance, see steps.h). Formulas:
 * docs/method.md (the sensitivity problem).
 */
#include "steps.h"

/* the tangent sweep's workspace for panels of P samples (columns a multiple of unit) with q
 * tangents each: the state x and its stage values Ks (S), the tangents xi and their stage
 * values Kdot (S), and the general step's scratch */
typedef struct {
    ptrdiff_t P, unit;
    sn_real *x, *Ks, *xi, *Kdot;
    tan_scratch tan;
} tangent_ws;

/* Lays out the tangent sweep's workspace for a chunk of n samples with q tangents in work
 * (when work is NULL, only sizes it); returns its size. */
static ptrdiff_t tangent_layout(const sn_net *net, ptrdiff_t n, ptrdiff_t q, sn_real *work,
                                tangent_ws *w)
{
    const ptrdiff_t S = net->S, blocks = 4 + S + q * (2 + S);
    const ptrdiff_t unit = tangent_fused(net, q) ? col_unit(net) : SN_PAD;
    const ptrdiff_t P = step_panel(net, n, blocks, unit), pn = net->d * P, qpn = q * pn;
    ptrdiff_t size = 0;
    w->P = P;
    w->unit = unit;
    w->x = ws_take(work, &size, pn);
    w->Ks = ws_take(work, &size, S * pn);
    w->xi = ws_take(work, &size, qpn);
    w->Kdot = ws_take(work, &size, S * qpn);
    w->tan.y = ws_take(work, &size, pn);
    w->tan.sp = ws_take(work, &size, pn);
    w->tan.V = ws_take(work, &size, pn);
    w->tan.ydot = ws_take(work, &size, qpn);
    return size;
}

ptrdiff_t SN_FN(snode_ws_tangent)(const sn_net *net, ptrdiff_t n, ptrdiff_t q)
{
    tangent_ws w;
    return tangent_layout(net, n, q, NULL, &w);
}

/* the n x q x d rows of xiT from the tangents xi (d x q ld, column t ld + r) of n samples */
static void tangents_to_rows(ptrdiff_t d, ptrdiff_t n, ptrdiff_t q, ptrdiff_t ld,
                             const sn_real *xi, sn_real *xiT)
{
    const ptrdiff_t qn = q * ld;
    for (ptrdiff_t r = 0; r < n; r++)
        for (ptrdiff_t tt = 0; tt < q; tt++)
            for (ptrdiff_t j = 0; j < d; j++) xiT[(r * q + tt) * d + j] = xi[j * qn + tt * ld + r];
}

/* One panel of the tangent sweep: the n samples from c0 on, in ld columns. */
static int tangent_panel(const sn_net *net, const scaled_tableau *t,
                         const sn_tangent_args *a, ptrdiff_t c0, ptrdiff_t n, ptrdiff_t ld,
                         const tangent_ws *w)
{
    const ptrdiff_t d = net->d, K = net->K, m = a->m, q = a->q;
    const ptrdiff_t qn = q * ld, dqn = d * qn;
    const sn_real *xi0 = a->xi0 ? a->xi0 + c0 * q * d : NULL;
    sn_real *x = w->x, *xi = w->xi;

    to_cols(d, n, ld, a->x0 + c0 * m, m, x);
    /* xi is d x (q ld): column t*ld + r is tangent t of sample r */
    memset(xi, 0, (size_t)dqn * sizeof(sn_real));
    if (a->identity) {
        for (ptrdiff_t tt = 0; tt < q; tt++)
            for (ptrdiff_t r = 0; r < n; r++) xi[tt * qn + tt * ld + r] = 1.0;
    } else if (xi0) {
        for (ptrdiff_t j = 0; j < d; j++)
            for (ptrdiff_t tt = 0; tt < q; tt++)
                for (ptrdiff_t r = 0; r < n; r++)
                    xi[j * qn + tt * ld + r] = xi0[(r * q + tt) * d + j];
    }
    for (ptrdiff_t i = 0; i < K; i++)
        sn_tan_step(net, t, i, ld, q, a->dW, a->db, x, w->Ks, xi, w->Kdot, &w->tan, 0);
    if (!cols_finite(d, n, ld, x)) return SNODE_ERR_NONFINITE;
    for (ptrdiff_t tt = 0; tt < q; tt++)
        if (!cols_finite(d, n, qn, xi + tt * ld)) return SNODE_ERR_NONFINITE;
    if (a->xT) to_rows(d, n, ld, x, a->xT + c0 * d, d);
    tangents_to_rows(d, n, q, ld, xi, a->xiT + c0 * q * d);
    return SNODE_OK;
}

int SN_FN(snode_tangent)(const sn_net *net, const sn_tangent_args *args, sn_real *work)
{
    const ptrdiff_t n = args->n, q = args->q, d = net->d;
    scaled_tableau t;
    if (n <= 0) return SNODE_OK;
    if (net->S < 1 || net->S > SN_MAX_STAGES || args->m > d || q < 1 ||
        (args->identity && q > d))
        return SNODE_ERR_ARG;
    sn_scale_tableau(net, &t);
    tangent_ws w;
    tangent_layout(net, n, q, work, &w);
    const ptrdiff_t P = w.P;
    /* one panel of samples at a time through all steps */
    for (ptrdiff_t c0 = 0; c0 < n; c0 += P) {
        const ptrdiff_t np = n - c0 < P ? n - c0 : P;
        const int status = tangent_panel(net, &t, args, c0, np, round_up(np, w.unit), &w);
        if (status != SNODE_OK) return status;
    }
    return SNODE_OK;
}

/* --- on kept states --------------------------------------------------------------------- */

/* the workspace of the tangent sweep on kept states, for the gradient sweep's panels of P
 * samples: the state x, the tangent xi and its stage values Kdot (S), the general step's
 * scratch */
typedef struct {
    ptrdiff_t P;
    sn_real *x, *xi, *Kdot;
    tan_scratch tan;
} tangent_kept_ws;

/* Lays out the workspace of the tangent sweep on kept states for a chunk of n samples in work
 * (when work is NULL, only sizes it); returns its size. */
static ptrdiff_t tangent_kept_layout(const sn_net *net, ptrdiff_t n, sn_real *work,
                                     tangent_kept_ws *w)
{
    const ptrdiff_t P = grad_panel(net, n, 0), pn = net->d * P;
    ptrdiff_t size = 0;
    w->P = P;
    w->x = ws_take(work, &size, pn);
    w->xi = ws_take(work, &size, pn);
    w->Kdot = ws_take(work, &size, net->S * pn);
    w->tan.ydot = ws_take(work, &size, pn);
    w->tan.y = ws_take(work, &size, pn);
    w->tan.sp = ws_take(work, &size, pn);
    w->tan.V = ws_take(work, &size, pn);
    return size;
}

ptrdiff_t SN_FN(snode_ws_tangent_kept)(const sn_net *net, ptrdiff_t n)
{
    tangent_kept_ws w;
    return tangent_kept_layout(net, n, NULL, &w);
}

int SN_FN(snode_tangent_kept)(const sn_net *net, const sn_tangent_kept_args *args,
                              sn_real *work)
{
    const ptrdiff_t n = args->n, d = net->d, K = net->K, S = net->S;
    scaled_tableau t;
    if (n <= 0) return SNODE_OK;
    if (S < 1 || S > SN_MAX_STAGES) return SNODE_ERR_ARG;
    sn_scale_tableau(net, &t);
    /* the panels of the gradient sweep that kept the states (see snode_keep_size) */
    tangent_kept_ws w;
    tangent_kept_layout(net, n, work, &w);
    const ptrdiff_t P = w.P, unit = col_unit(net);
    sn_real *x = w.x, *xi = w.xi;
    /* the panels in the reverse of the order the gradient sweep wrote them: the last ones
     * written are the likeliest to be still in cache */
    for (ptrdiff_t c0 = (n - 1) / P * P; c0 >= 0; c0 -= P) {
        const ptrdiff_t np = n - c0 < P ? n - c0 : P, lp = round_up(np, unit), ln = d * lp;
        /* step i's state and stage values at store + i (S + 1) ln; the states after the
         * first are formed again from the stage values (cheaper than reading them) */
        const sn_real *store = args->keep + kept_offset(net, P, c0);
        memcpy(x, store, (size_t)ln * sizeof(sn_real));
        memset(xi, 0, (size_t)ln * sizeof(sn_real));
        for (ptrdiff_t i = 0; i < K; i++) {
            sn_real *Ki = (sn_real *)(store + i * (S + 1) * ln + ln); /* read only (kept) */
            /* the next step's stage values, fetched from memory while this step runs */
            if (i + 1 < K)
                for (ptrdiff_t e = 0; e < S * ln; e += SN_LINE)
                    __builtin_prefetch(Ki + (S + 1) * ln + e, 0, 2);
            sn_tan_step(net, &t, i, lp, 1, args->dW, args->db, x, Ki, xi, w.Kdot, &w.tan, 1);
        }
        if (!cols_finite(d, np, lp, xi)) return SNODE_ERR_NONFINITE;
        to_rows(d, np, lp, xi, args->xiT + c0 * d, d);
    }
    return SNODE_OK;
}
