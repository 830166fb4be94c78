/*
 * The data terms of the cost, their gradient dJ/dx(T) and their values along a line: the one
 * implementation of the loss (docs/method.md, the cost functional and the sensitivity step).
 *
 * Per sample with output u = x(T) in R^d, target y (Y's row, zero-padded to d, or the one-hot
 * vector of its label in the first C components) and label c:
 *
 *   l(u) = mse/2 |u - y|^2 + out/2 |u|^2 + ce (log sum_{j<C} exp(u_j) - u_c),
 *
 * each scaled by loss->scale (1/N for the global number of samples N). Sums over samples are
 * formed sample by sample in order, so that how a chunk is cut into panels does not change
 * them. No vector code: these passes are O(n d), the sweeps O(K n d^2). Compiled once per
 * dtype (SN_DTYPE, real.h): sn_loss reads the outputs and writes their gradient in the
 * sweeps' real and computes in double (the cost, its terms and the gradient's components);
 * the public functions on given outputs are float64's alone.
 */
#include <math.h>

#include "loss.h"

/* max_j u_j and sum_j exp(u_j - max) over j < C, u_j = x[j cs] + eta xi[j cs] (xi may be
 * NULL): the softmax of u is exp(u_j - max) / sum */
static void softmax_stats(ptrdiff_t C, const sn_real *x, const sn_real *xi, double eta,
                          ptrdiff_t cs, double *mx, double *se)
{
    double m = x[0] + (xi ? eta * xi[0] : 0.0);
    for (ptrdiff_t j = 1; j < C; j++) {
        const double u = x[j * cs] + (xi ? eta * xi[j * cs] : 0.0);
        m = u > m ? u : m;
    }
    double s = 0.0;
    for (ptrdiff_t j = 0; j < C; j++) s += exp(x[j * cs] + (xi ? eta * xi[j * cs] : 0.0) - m);
    *mx = m;
    *se = s;
}

/* component j of the softmax of u, from softmax_stats */
static inline double softmax_at(double u, double mx, double se) { return exp(u - mx) / se; }

/* component j of sample r's target for the squared error */
static inline double target(const double *Y, ptrdiff_t my, const int64_t *labels, ptrdiff_t r,
                            ptrdiff_t j)
{
    if (Y) return j < my ? Y[r * my + j] : 0.0;
    return labels && labels[r] == j ? 1.0 : 0.0;
}

/* SNODE_OK if the loss can read what it needs: the cross-entropy its labels and 1 <= C <= d
 * classes (the Python layer checks this; here it keeps a caller's bug from reading out of
 * bounds), and the labels it reads (for the cross-entropy, or as one-hot targets) lie in
 * [0, C) */
static int targets_valid(const snode_loss *L, ptrdiff_t d, ptrdiff_t n, const double *Y,
                         const int64_t *labels)
{
    if (L->ce != 0.0 && (!labels || L->n_classes < 1 || L->n_classes > d)) return SNODE_ERR_ARG;
    if (!labels || !(L->ce != 0.0 || (L->mse != 0.0 && !Y))) return SNODE_OK;
    int ok = 1;
    for (ptrdiff_t r = 0; r < n; r++) ok &= labels[r] >= 0 && labels[r] < L->n_classes;
    return ok ? SNODE_OK : SNODE_ERR_LABEL;
}

/* The loss's weights times its scale, and its targets, as both passes read them. */
typedef struct {
    double cm, co, cc; /* mse, out and ce times the scale */
    int quad;          /* a quadratic term is on */
    const double *Y;
    ptrdiff_t my;
    const int64_t *labels;
    const int64_t *tl; /* the labels the squared error reads (one-hot targets), or NULL */
    ptrdiff_t C;
} terms;

/* the terms of L with targets tg, and targets_valid's verdict */
static int terms_of(const snode_loss *L, ptrdiff_t d, ptrdiff_t n, const snode_targets *tg,
                    terms *t)
{
    t->cm = L->mse * L->scale;
    t->co = L->out * L->scale;
    t->cc = L->ce * L->scale;
    t->quad = L->mse != 0.0 || L->out != 0.0;
    t->Y = tg->Y;
    t->my = tg->my;
    t->labels = tg->labels;
    /* mse with neither Y nor labels has no target: zero, like a zero-padded Y */
    t->tl = L->mse != 0.0 ? tg->labels : NULL;
    t->C = L->n_classes;
    return targets_valid(L, d, n, tg->Y, tg->labels);
}

int sn_loss(const snode_loss *L, ptrdiff_t d, ptrdiff_t n, const sn_real *x, ptrdiff_t rs,
            ptrdiff_t cs, const snode_targets *tg, sn_real *lam, double *J)
{
    terms t;
    const int valid = terms_of(L, d, n, tg, &t);
    if (valid != SNODE_OK) return valid;
    double acc = *J;
    for (ptrdiff_t r = 0; r < n; r++) {
        const sn_real *xr = x + r * rs;
        sn_real *lr = lam ? lam + r * rs : NULL;
        double l = 0.0;
        if (t.quad) {
            double sm = 0.0, so = 0.0;
            for (ptrdiff_t j = 0; j < d; j++) {
                const double v = xr[j * cs], diff = v - target(t.Y, t.my, t.tl, r, j);
                sm += diff * diff;
                so += v * v;
                if (lr) lr[j * cs] = (sn_real)(lr[j * cs] + (t.cm * diff + t.co * v));
            }
            l = 0.5 * t.cm * sm + 0.5 * t.co * so;
        }
        if (L->ce != 0.0) {
            double mx, se;
            softmax_stats(t.C, xr, NULL, 0.0, cs, &mx, &se);
            const ptrdiff_t c = (ptrdiff_t)t.labels[r];
            l += t.cc * (mx + log(se) - xr[c * cs]);
            if (lr)
                for (ptrdiff_t j = 0; j < t.C; j++)
                    lr[j * cs] = (sn_real)(lr[j * cs] + t.cc * (softmax_at(xr[j * cs], mx, se) -
                                                                (j == c ? 1.0 : 0.0)));
        }
        acc += l;
    }
    *J = acc;
    return SNODE_OK;
}

#if SN_REAL_BYTES == 8
int snode_output_loss(const snode_loss *loss, ptrdiff_t d, ptrdiff_t n, const double *x,
                      const snode_targets *tg, double *lam, double *J)
{
    *J = 0.0;
    return sn_loss(loss, d, n, x, d, 1, tg, lam, J);
}

int snode_loss_line(const snode_loss *L, ptrdiff_t d, ptrdiff_t n, const double *x,
                    const double *xi, const snode_targets *tg, double eta, double out[3])
{
    terms t;
    const int valid = terms_of(L, d, n, tg, &t);
    if (valid != SNODE_OK) return valid;
    double phi = 0.0, d1 = 0.0, d2 = 0.0;
    for (ptrdiff_t r = 0; r < n; r++) {
        const double *xr = x + r * d, *zr = xi + r * d;
        double p0 = 0.0, p1 = 0.0, p2 = 0.0;
        if (t.quad) {
            double sm = 0.0, so = 0.0, g = 0.0, zz = 0.0;
            for (ptrdiff_t j = 0; j < d; j++) {
                const double u = xr[j] + eta * zr[j], diff = u - target(t.Y, t.my, t.tl, r, j);
                sm += diff * diff;
                so += u * u;
                g += (t.cm * diff + t.co * u) * zr[j];
                zz += zr[j] * zr[j];
            }
            p0 = 0.5 * t.cm * sm + 0.5 * t.co * so;
            p1 = g;
            p2 = (t.cm + t.co) * zz;
        }
        if (L->ce != 0.0) {
            /* with p the softmax of u: d/deta = <p - e_c, zeta>, d2/deta2 = <p, zeta^2> -
             * <p, zeta>^2 (zeta = xi restricted to the first t.C components) */
            double mx, se;
            softmax_stats(t.C, xr, zr, eta, 1, &mx, &se);
            const ptrdiff_t c = (ptrdiff_t)t.labels[r];
            double s1 = 0.0, s2 = 0.0;
            for (ptrdiff_t j = 0; j < t.C; j++) {
                const double pj = softmax_at(xr[j] + eta * zr[j], mx, se);
                s1 += pj * zr[j];
                s2 += pj * zr[j] * zr[j];
            }
            p0 += t.cc * (mx + log(se) - (xr[c] + eta * zr[c]));
            p1 += t.cc * (s1 - zr[c]);
            p2 += t.cc * (s2 - s1 * s1);
        }
        phi += p0;
        d1 += p1;
        d2 += p2;
    }
    out[0] = phi;
    out[1] = d1;
    out[2] = d2;
    return SNODE_OK;
}

void snode_softmax(ptrdiff_t n, ptrdiff_t C, const double *z, ptrdiff_t ldz, double *p)
{
    for (ptrdiff_t r = 0; r < n; r++) {
        const double *zr = z + r * ldz;
        double mx, se;
        softmax_stats(C, zr, NULL, 0.0, 1, &mx, &se);
        for (ptrdiff_t j = 0; j < C; j++) p[r * C + j] = softmax_at(zr[j], mx, se);
    }
}
#endif
