/*
 * Discrete Sobolev (H1) inner product in depth and its Riesz map (shared MATH.md section 6).
 *
 * The matrix h I + (alpha/h) L, L the Neumann path Laplacian, is the same for every parameter
 * entry: it is factorised once (Thomas algorithm) and the substitutions run across the P
 * entries of each depth row, the contiguous direction.
 */
#include "snode.h"

int snode_sobolev_solve(ptrdiff_t K, ptrdiff_t P, double h, double alpha, const double *G,
                        double *g, double *work)
{
    if (K < 1 || P < 0 || !(h > 0.0) || !(alpha >= 0.0)) return SNODE_ERR_ARG;
    double *cp = work, *inv = work + K; /* c'_i and 1 / denominator_i */
    const double off = -alpha / h;
    for (ptrdiff_t i = 0; i < K; i++) {
        double lap = (K == 1) ? 0.0 : ((i == 0 || i == K - 1) ? 1.0 : 2.0);
        double diag = h + (alpha / h) * lap;
        double den = i == 0 ? diag : diag - off * cp[i - 1];
        inv[i] = 1.0 / den;
        cp[i] = off * inv[i];
    }
    /* forward substitution: g_i = (G_i - off g_{i-1}) / den_i */
    for (ptrdiff_t i = 0; i < K; i++) {
        const double *Gi = G + i * P;
        double *gi = g + i * P;
        const double iv = inv[i];
        if (i == 0) {
            for (ptrdiff_t p = 0; p < P; p++) gi[p] = Gi[p] * iv;
        } else {
            const double *gp = g + (i - 1) * P;
            for (ptrdiff_t p = 0; p < P; p++) gi[p] = (Gi[p] - off * gp[p]) * iv;
        }
    }
    /* back substitution: g_i -= c'_i g_{i+1} */
    for (ptrdiff_t i = K - 2; i >= 0; i--) {
        double *gi = g + i * P;
        const double *gn = g + (i + 1) * P;
        const double c = cp[i];
        for (ptrdiff_t p = 0; p < P; p++) gi[p] -= c * gn[p];
    }
    return SNODE_OK;
}

double snode_sobolev_inner(ptrdiff_t K, ptrdiff_t P, double h, double alpha, const double *u,
                           const double *v)
{
    double l2 = 0.0, h1 = 0.0;
    for (ptrdiff_t e = 0; e < K * P; e++) l2 += u[e] * v[e];
    for (ptrdiff_t i = 0; i + 1 < K; i++)
        for (ptrdiff_t p = 0; p < P; p++)
            h1 += (u[(i + 1) * P + p] - u[i * P + p]) * (v[(i + 1) * P + p] - v[i * P + p]);
    return h * l2 + (alpha / h) * h1;
}
