/*
 * The discrete H1 operator in depth, A = mass h I + (stiff / h) L with L the Neumann path
 * Laplacian (diagonal 1, 2, ..., 2, 1; off-diagonals -1), applied to every parameter entry
 * alike (docs/method.md, the Sobolev gradient). With (mass, stiff) = (1, alpha) it is the
 * Sobolev inner product and its Riesz map; with (decay, smooth) the cost's weight penalty and
 * its gradient. Arrays are K x P, depth along the rows: the loops run across the P entries of
 * a row, the contiguous direction.
 */
#include "snode.h"

static int valid(ptrdiff_t K, ptrdiff_t P, double h, double mass, double stiff)
{
    return K >= 1 && P >= 0 && h > 0.0 && mass >= 0.0 && stiff >= 0.0;
}

int snode_h1_solve(ptrdiff_t K, ptrdiff_t P, double h, double mass, double stiff,
                   const double *G, double *g, double *work)
{
    /* A is singular without its mass part (constants are in L's kernel) */
    if (!valid(K, P, h, mass, stiff) || !(mass > 0.0)) return SNODE_ERR_ARG;
    /* the factorisation is the same for every entry (Thomas algorithm): c'_i and 1 / den_i */
    double *cp = work, *inv = work + K;
    const double off = -stiff / h;
    for (ptrdiff_t i = 0; i < K; i++) {
        double lap = (K == 1) ? 0.0 : ((i == 0 || i == K - 1) ? 1.0 : 2.0);
        double diag = mass * h + (stiff / h) * lap;
        double den = i == 0 ? diag : diag - off * cp[i - 1];
        inv[i] = 1.0 / den;
        cp[i] = off * inv[i];
    }
    /* a factorisation that overflows: h and the weights are out of range */
    if (!snode_all_finite(2 * K, work)) return SNODE_ERR_ARG;
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
    return snode_all_finite(K * P, g) ? SNODE_OK : SNODE_ERR_NONFINITE;
}

int snode_h1_apply(ptrdiff_t K, ptrdiff_t P, double h, double mass, double stiff,
                   const double *u, double *out)
{
    const double cm = mass * h, cs = stiff / h;
    if (!valid(K, P, h, mass, stiff) || !snode_all_finite(1, &cm) || !snode_all_finite(1, &cs))
        return SNODE_ERR_ARG;
    for (ptrdiff_t i = 0; i < K; i++) {
        const double *ui = u + i * P;
        const double *up = i > 0 ? u + (i - 1) * P : NULL;
        const double *un = i + 1 < K ? u + (i + 1) * P : NULL;
        double *oi = out + i * P;
        for (ptrdiff_t p = 0; p < P; p++) {
            double lap = 0.0; /* (L u)_i: the differences to the neighbours in depth */
            if (up) lap += ui[p] - up[p];
            if (un) lap += ui[p] - un[p];
            oi[p] = cm * ui[p] + cs * lap;
        }
    }
    return snode_all_finite(K * P, out) ? SNODE_OK : SNODE_ERR_NONFINITE;
}

double snode_h1_inner(ptrdiff_t K, ptrdiff_t P, double h, double mass, double stiff,
                      const double *u, const double *v)
{
    double l2 = 0.0, h1 = 0.0;
    for (ptrdiff_t e = 0; e < K * P; e++) l2 += u[e] * v[e];
    for (ptrdiff_t i = 0; i + 1 < K; i++)
        for (ptrdiff_t p = 0; p < P; p++)
            h1 += (u[(i + 1) * P + p] - u[i * P + p]) * (v[(i + 1) * P + p] - v[i * P + p]);
    return mass * h * l2 + (stiff / h) * h1;
}
