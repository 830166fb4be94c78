/*
 * The step kernels of the sweeps: one Runge-Kutta step forward (the state and its stage
 * values), backward (the adjoint and the step's gradient) and tangent-linear (the
 * sensitivity), on a component-major block of samples; general register-tiled kernels at any
 * width, and fused ones for the small widths with tanh or sigmoid (fused_inl.h).
 *
 * Part of sweeps.c (one translation unit per sweep instance, see steps.h). Formulas:
 * docs/method.md (the Runge-Kutta step, the adjoint sweep, the sensitivity problem).
 */
#include "steps.h"

/* y = x + sum_u c[u] k[u] over n terms (from sn_stage_terms; a copy of x if n = 0) */
static void stage_sum(int n, const sn_real *c, const sn_real *const *k, ptrdiff_t len,
                      const sn_real *restrict x, sn_real *restrict y)
{
    if (n == 0) {
        memcpy(y, x, (size_t)len * sizeof(sn_real));
        return;
    }
    const sn_real *restrict k0 = k[0];
    for (ptrdiff_t e = 0; e < len; e++) y[e] = x[e] + c[0] * k0[e];
    for (int u = 1; u < n; u++) {
        const sn_real *restrict ku = k[u];
        for (ptrdiff_t e = 0; e < len; e++) y[e] += c[u] * ku[e];
    }
}

/* y = x + sum_j coef[j] * K_j over the stages j < s with nonzero coefficient */
static void stage_input(int s, const sn_real *restrict coef, ptrdiff_t len,
                        const sn_real *restrict x, const sn_real *restrict Ks,
                        sn_real *restrict y)
{
    const sn_real *k[SN_MAX_STAGES];
    sn_real c[SN_MAX_STAGES];
    stage_sum(sn_stage_terms(s, coef, Ks, len, c, k), c, k, len, x, y);
}

/* xout = x + sum_s coef[s] * K_s (xout may be x), two stages per pass */
static void combine_to(int S, const sn_real *restrict coef, ptrdiff_t len,
                       const sn_real *restrict Ks, const sn_real *x, sn_real *xout)
{
    sn_real *restrict xo = xout;
    int s = 0;
    if (xout != x) {
        /* the first pass from x (the others add in place) */
        const sn_real c0 = coef[0], c1 = S > 1 ? coef[1] : 0.0;
        const sn_real *restrict k0 = Ks, *restrict k1 = Ks + (S > 1 ? len : 0);
        for (ptrdiff_t e = 0; e < len; e++) xo[e] = x[e] + (c0 * k0[e] + c1 * k1[e]);
        s = S > 1 ? 2 : 1;
    }
    for (; s + 1 < S; s += 2) {
        sn_real c0 = coef[s], c1 = coef[s + 1];
        const sn_real *restrict k0 = Ks + (ptrdiff_t)s * len;
        const sn_real *restrict k1 = Ks + (ptrdiff_t)(s + 1) * len;
        for (ptrdiff_t e = 0; e < len; e++) xo[e] += c0 * k0[e] + c1 * k1[e];
    }
    if (s < S) {
        sn_real c0 = coef[s];
        const sn_real *restrict k0 = Ks + (ptrdiff_t)s * len;
        for (ptrdiff_t e = 0; e < len; e++) xo[e] += c0 * k0[e];
    }
}

/* x += sum_s coef[s] * K_s */
static void combine(int S, const sn_real *restrict coef, ptrdiff_t len, const sn_real *restrict Ks,
                    sn_real *restrict x)
{
    combine_to(S, coef, len, Ks, x, x);
}

/* x += sum_s K_s, two stages per pass */
static void combine_unit(int S, ptrdiff_t len, const sn_real *restrict Ks, sn_real *restrict x)
{
    int s = 0;
    for (; s + 1 < S; s += 2) {
        const sn_real *restrict k0 = Ks + (ptrdiff_t)s * len;
        const sn_real *restrict k1 = Ks + (ptrdiff_t)(s + 1) * len;
        for (ptrdiff_t e = 0; e < len; e++) x[e] += k0[e] + k1[e];
    }
    if (s < S) {
        const sn_real *restrict k0 = Ks + (ptrdiff_t)s * len;
        for (ptrdiff_t e = 0; e < len; e++) x[e] += k0[e];
    }
}

static void sn_scale_tableau(const sn_net *net, scaled_tableau *t)
{
    const int S = net->S;
    for (int s = 0; s < S; s++) {
        t->hb[s] = net->h * net->bw[s];
        for (int j = 0; j < S; j++) t->ha[s * S + j] = j < s ? net->h * net->a[s * S + j] : 0.0;
    }
}


/*
 * One RK step forward on a d x ld block: xout = x_{i+1} from x = x_i (xout may be x). Writes
 * the stage values Ks (S x d x ld) and, for the stages whose input is not x itself, the stage
 * inputs Ys (S x d x ld). Wp: pack_scratch(d) scratch.
 */
static void step_forward(const sn_net *net, const scaled_tableau *t, ptrdiff_t i, ptrdiff_t ld,
                         const sn_real *x, sn_real *xout, sn_real *restrict Ys,
                         sn_real *restrict Ks, sn_real *restrict Wp)
{
    const ptrdiff_t d = net->d, dn = d * ld;
    const int S = net->S, packed = d >= SN_PACK_MIN_D;
    const sn_real *Wi = net->W + i * d * d, *bi = net->b + i * d;
    if (packed) sn_pack(d, d, Wi, d, Wp);
    for (int s = 0; s < S; s++) {
        sn_real *k = Ks + (ptrdiff_t)s * dn;
        /* the stage's input: x itself when no earlier stage feeds it */
        const sn_real *kj[SN_MAX_STAGES];
        sn_real cj[SN_MAX_STAGES];
        const int nj = sn_stage_terms(s, t->ha + s * S, Ks, dn, cj, kj);
        const sn_real *y = x;
        if (nj > 0) {
            y = Ys + (ptrdiff_t)s * dn;
            stage_sum(nj, cj, kj, dn, x, Ys + (ptrdiff_t)s * dn);
        }
        if (packed)
            sn_gemm_packed_act(d, d, ld, Wp, bi, y, k, net->act, NULL);
        else
            sn_gemm_nn_act(d, d, ld, Wi, d, bi, y, k, net->act, NULL);
        if (!SN_FUSED_ACT(net->act)) sn_activation(net->act, dn, k, k, NULL);
    }
    combine_to(S, t->hb, dn, Ks, x, xout);
}

/*
 * Yt (ld x ldt) = the transpose of stage s's input y = x + sum_{j<s} ha[j] K_j (d x ld each,
 * K_j = Ks + j d ld), the columns from d on zeroed: formed block by block as it is transposed.
 */
static void stage_input_t(int s, const sn_real *restrict ha, ptrdiff_t d, ptrdiff_t ld,
                          const sn_real *restrict x, const sn_real *restrict Ks,
                          sn_real *restrict Yt, ptrdiff_t ldt)
{
    const sn_real *kj[SN_MAX_STAGES];
    sn_real cj[SN_MAX_STAGES];
    const int nj = sn_stage_terms(s, ha, Ks, d * ld, cj, kj);
    ptrdiff_t j0 = 0;
#ifdef SN_HAVE_TRANSPOSE8
    for (; j0 + 8 <= d; j0 += 8)
        for (ptrdiff_t c0 = 0; c0 < ld; c0 += 8) {
            vd r[8], o[8];
            for (int q = 0; q < 8; q++) {
                const ptrdiff_t e = (j0 + q) * ld + c0;
                /* as stage_input: the first term from x, then added in place */
                vd y = SN_LD(x + e);
                if (nj > 0) y = y + cj[0] * SN_LD(kj[0] + e);
                for (int u = 1; u < nj; u++) y += cj[u] * SN_LD(kj[u] + e);
                r[q] = y;
            }
            sn_transpose8(r, o);
            for (int q = 0; q < 8; q++) SN_ST(Yt + (c0 + q) * ldt + j0, o[q]);
        }
#endif
    for (ptrdiff_t c = 0; c < ld; c++) {
        for (ptrdiff_t j = j0; j < d; j++) {
            const ptrdiff_t e = j * ld + c;
            sn_real y = x[e];
            if (nj > 0) y = y + cj[0] * kj[0][e];
            for (int u = 1; u < nj; u++) y += cj[u] * kj[u][e];
            Yt[c * ldt + j] = y;
        }
        for (ptrdiff_t j = d; j < ldt; j++) Yt[c * ldt + j] = 0.0;
    }
}

/*
 * The adjoint's stage quantity on d rows of ld columns: g = s'(z) * (hb lam + sum_q cr[q] yr[q])
 * with s'(z) from the stage values ks, and gb[j] = (or += unless init) the row sums of g. ACT
 * and NR (the number of terms, or -1 for nr) are constants after inlining where possible.
 */
SN_INLINE void g_pass(const int ACT, const int NR, int nr, ptrdiff_t d, ptrdiff_t ld, sn_real hb,
                      const sn_real *cr, const sn_real *const *yr, const sn_real *restrict lam,
                      const sn_real *restrict ks, sn_real *restrict g, sn_real *restrict gb,
                      int init)
{
    const int n = NR >= 0 ? NR : nr;
    for (ptrdiff_t j = 0; j < d; j++) {
        vd acc0 = {0}, acc1 = {0};
        const ptrdiff_t o = j * ld;
        for (ptrdiff_t c = 0; c < ld; c += SN_VL) {
            vd kb = hb * SN_LD(lam + o + c);
            for (int q = 0; q < n; q++) kb += cr[q] * SN_LD(yr[q] + o + c);
            const vd gv = sn_deriv_v(ACT, SN_LD(ks + o + c)) * kb;
            SN_ST(g + o + c, gv);
            if ((c / SN_VL) & 1)
                acc1 += gv;
            else
                acc0 += gv;
        }
        const sn_real sum = sn_hsum(acc0 + acc1);
        gb[j] = init ? sum : gb[j] + sum;
    }
}

/*
 * One RK step backward: lam <- lambda_i from lambda_{i+1}, using the step's state xi and stage
 * values Ks (the derivatives s'(z_s) come from the values). gWi (d x d) and gbi (d) receive
 * this step's gradient (added to them if accumulate). G, Ybar: S x d x ld scratch each; T:
 * wgrad_scratch(d, ld) scratch; Ys: the stage inputs (S x d x ld), where the weight gradient
 * needs them (!wgrad_over_samples(d)); Wp: pack_scratch(d).
 */
/* (kept out of line: inlined into the sweep it spills its pointers in the hot loops) */
__attribute__((noinline)) static void
step_backward(const sn_net *net, const scaled_tableau *t, ptrdiff_t i, ptrdiff_t ld,
              sn_real *restrict lam, const sn_real *restrict xi, const sn_real *restrict Ks,
              sn_real *restrict gWi, sn_real *restrict gbi, sn_real *restrict G,
              sn_real *restrict Ybar, sn_real *restrict T, sn_real *restrict Ys,
              sn_real *restrict Wp, int accumulate)
{
    const ptrdiff_t d = net->d, dn = d * ld;
    const int S = net->S, packed = d >= SN_PACK_MIN_D;
    const sn_real *Wi = net->W + i * d * d;
    if (packed) sn_pack_t(d, d, Wi, d, Wp);
    for (int s = S - 1; s >= 0; s--) {
        const sn_real *restrict ks = Ks + (ptrdiff_t)s * dn;
        const int act = net->act;
        sn_real *restrict g = G + (ptrdiff_t)s * dn;
        const sn_real hb = t->hb[s];
        /* the later stages r that feed stage s: kbar_s = h b_s lam + sum_r h a_rs ybar_r */
        const sn_real *yr[SN_MAX_STAGES];
        sn_real cr[SN_MAX_STAGES];
        int nr = 0;
        for (int r = s + 1; r < S; r++)
            if (t->ha[r * S + s] != 0.0) {
                cr[nr] = t->ha[r * S + s];
                yr[nr++] = Ybar + (ptrdiff_t)r * dn;
            }
        /* g_s = s'(z_s) * kbar_s, and dJ/db_i += row sums of g_s, in one pass */
        const int init = s == S - 1 && !accumulate;
#define SN_G_PASS(ACT, NR) g_pass(ACT, NR, nr, d, ld, hb, cr, yr, lam, ks, g, gbi, init)
#define SN_G_PASS_ACT(ACT)                                                                     \
    (nr == 0 ? SN_G_PASS(ACT, 0) : nr == 1 ? SN_G_PASS(ACT, 1) : SN_G_PASS(ACT, -1))
        if (act == SNODE_ACT_TANH)
            SN_G_PASS_ACT(SNODE_ACT_TANH);
        else if (act == SNODE_ACT_SIGMOID)
            SN_G_PASS_ACT(SNODE_ACT_SIGMOID);
        else
            SN_G_PASS_ACT(act);
#undef SN_G_PASS_ACT
#undef SN_G_PASS
        /* ybar_s = W^T g_s */
        if (packed)
            sn_gemm_packed_act(d, d, ld, Wp, NULL, g, Ybar + (ptrdiff_t)s * dn, -1, NULL);
        else
            sn_gemm_tn(d, d, ld, Wi, d, g, Ybar + (ptrdiff_t)s * dn);
    }
    combine_unit(S, dn, Ybar, lam);
    /* dJ/dW_i = sum_s g_s y_s^T (the zero pad of g adds nothing) */
    if (wgrad_over_samples(d)) {
        /* as a product with the samples inside: dJ/dW_i = sum_s g_s y_s^T, with y_s
         * formed transposed (samples x dp) so that the output rows are contiguous */
        const ptrdiff_t dp = (d + SN_VL - 1) / SN_VL * SN_VL;
        for (int s = 0; s < S; s++) {
            stage_input_t(s, t->ha + s * S, d, ld, xi, Ks, T, dp);
            sn_gemm_acc(d, ld, d, G + (ptrdiff_t)s * dn, ld, T, dp, gWi, d, s > 0 || accumulate);
        }
    } else {
        for (int s = 0; s < S; s++) stage_input(s, t->ha + s * S, dn, xi, Ks, Ys + s * dn);
        sn_gemm_nt(1, S, d, d, ld, dn, G, Ys, gWi, d, accumulate);
    }
}

/* scratch of the weight gradient as a product over samples: y_s^T (ld x dp) */
/* --- the steps: general kernels (any width) or fused ones (small widths) ------------------ */

/* one copy of the fused steps per width D and activation (kept out of line: each is large);
 * tank is the tangent step on a gradient sweep's stored states */
#define SN_FZ_DEFINE1(DD, ACT, NAME)                                                           \
    static __attribute__((noinline)) void fz_fwd_##DD##_##NAME(                                \
        const sn_net *net, const scaled_tableau *t, ptrdiff_t i, const sn_real *xin,        \
        sn_real *xout, ptrdiff_t ld, sn_real *Ks)                                              \
    {                                                                                          \
        sn_fz_fwd_step(DD, ACT, net->S, t->ha, t->hb, net->W + i * DD * DD, net->b + i * DD,   \
                       xin, xout, ld, Ks);                                                     \
    }                                                                                          \
    static __attribute__((noinline)) void fz_bwd_##DD##_##NAME(                                \
        const sn_net *net, const scaled_tableau *t, ptrdiff_t i, const sn_real *xi,         \
        const sn_real *Ki, ptrdiff_t ld, sn_real *lam, sn_real *gWi, sn_real *gbi, sn_real *G, \
        sn_real *Yr, sn_real *Ybar, int accumulate)                                            \
    {                                                                                          \
        sn_fz_bwd_step(DD, ACT, net->S, t->ha, t->hb, net->W + i * DD * DD, xi, Ki, ld, lam,   \
                       gWi, gbi, G, Yr, Ybar, accumulate);                                     \
    }                                                                                          \
    SN_FZ_TAN(DD, ACT, NAME, tan, 0)                                                           \
    SN_FZ_TAN(DD, ACT, NAME, tank, 1)
/* the tangent step, on computed (KEPT 0) or kept (1) stage values */
#define SN_FZ_TAN(DD, ACT, NAME, KIND, KEPT)                                                   \
    static __attribute__((noinline)) void fz_##KIND##_##DD##_##NAME(                           \
        const sn_net *net, const scaled_tableau *t, ptrdiff_t i, const sn_real *dW,         \
        const sn_real *db, sn_real *x, sn_real *xi, ptrdiff_t ld, sn_real *Ks, sn_real *Kd)    \
    {                                                                                          \
        sn_fz_tan_step(DD, ACT, KEPT, net->S, t->ha, t->hb, net->W + i * DD * DD,              \
                       net->b + i * DD, dW ? dW + i * DD * DD : NULL, db ? db + i * DD : NULL, \
                       x, xi, ld, Ks, Kd);                                                     \
    }
#define SN_FZ_DEFINE(DD)                                                                       \
    SN_FZ_DEFINE1(DD, SNODE_ACT_TANH, tanh)                                                    \
    SN_FZ_DEFINE1(DD, SNODE_ACT_SIGMOID, sigmoid)

/* the widths with fused kernels, 1 ... SN_FUSED_MAX_D, as X(width) */
#define SN_FZ_WIDTHS(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12)
SN_FZ_WIDTHS(SN_FZ_DEFINE)

typedef void (*fz_tan_fn)(const sn_net *, const scaled_tableau *, ptrdiff_t, const sn_real *,
                          const sn_real *, sn_real *, sn_real *, ptrdiff_t, sn_real *, sn_real *);

/* the fused steps of one width and activation */
typedef struct {
    void (*fwd)(const sn_net *, const scaled_tableau *, ptrdiff_t, const sn_real *, sn_real *,
                ptrdiff_t, sn_real *);
    void (*bwd)(const sn_net *, const scaled_tableau *, ptrdiff_t, const sn_real *,
                const sn_real *, ptrdiff_t, sn_real *, sn_real *, sn_real *, sn_real *, sn_real *,
                sn_real *, int);
    fz_tan_fn tan, tank;
} fz_kernels;

#define SN_FZ_ENTRY(DD, NAME)                                                                  \
    [DD] = {fz_fwd_##DD##_##NAME, fz_bwd_##DD##_##NAME, fz_tan_##DD##_##NAME,                  \
            fz_tank_##DD##_##NAME},
#define SN_FZ_ENTRY_TANH(DD) SN_FZ_ENTRY(DD, tanh)
#define SN_FZ_ENTRY_SIGMOID(DD) SN_FZ_ENTRY(DD, sigmoid)
/* [0]: tanh, [1]: sigmoid */
static const fz_kernels fz_table[2][SN_FUSED_MAX_D + 1] = {{SN_FZ_WIDTHS(SN_FZ_ENTRY_TANH)},
                                                           {SN_FZ_WIDTHS(SN_FZ_ENTRY_SIGMOID)}};

/* the tangent step on kept states at width 16 (fused: its stage has two products and no
 * activation, which fit the registers at this width) */
SN_FZ_TAN(16, SNODE_ACT_TANH, tanh, tank, 1)
SN_FZ_TAN(16, SNODE_ACT_SIGMOID, sigmoid, tank, 1)

/* the fused steps of the network (use_fused(net) must hold) */
static const fz_kernels *fz_of(const sn_net *net)
{
    return &fz_table[net->act == SNODE_ACT_SIGMOID][net->d];
}

static void sn_fwd_step(const sn_net *net, const scaled_tableau *t, ptrdiff_t i,
                        const sn_real *xin, sn_real *xout, ptrdiff_t ld, sn_real *Ks,
                        sn_real *Ys, sn_real *Wp)
{
    if (use_fused(net)) {
        fz_of(net)->fwd(net, t, i, xin, xout, ld, Ks);
        return;
    }
    step_forward(net, t, i, ld, xin, xout, Ys, Ks, Wp);
}

static void sn_bwd_step(const sn_net *net, const scaled_tableau *t, ptrdiff_t i,
                        ptrdiff_t ld, const sn_real *xi, const sn_real *Ki, sn_real *lam,
                        sn_real *gWi, sn_real *gbi, int accumulate, const bwd_scratch *w)
{
    if (use_fused(net)) {
        fz_of(net)->bwd(net, t, i, xi, Ki, ld, lam, gWi, gbi, w->G, w->Yr, w->Ybar, accumulate);
        return;
    }
    step_backward(net, t, i, ld, lam, xi, Ki, gWi, gbi, w->G, w->Ybar, w->T, w->Yr, w->Wp,
                  accumulate);
}

static void sn_tan_step(const sn_net *net, const scaled_tableau *t, ptrdiff_t i,
                        ptrdiff_t ld, ptrdiff_t q, const sn_real *dW, const sn_real *db,
                        sn_real *x, sn_real *Ks, sn_real *xi, sn_real *Kdot, const tan_scratch *w,
                        int kept)
{
    if (tangent_fused(net, q)) {
        (kept ? fz_of(net)->tank : fz_of(net)->tan)(net, t, i, dW, db, x, xi, ld, Ks, Kdot);
        return;
    }
    if (kept && q == 1 && net->d == 16 && !net->general && SN_FUSED_ACT(net->act)) {
        (net->act == SNODE_ACT_TANH ? fz_tank_16_tanh : fz_tank_16_sigmoid)(net, t, i, dW, db,
                                                                         x, xi, ld, Ks, Kdot);
        return;
    }
    const ptrdiff_t d = net->d, dn = d * ld, S = net->S, dd = d * d;
    const ptrdiff_t qn = q * ld, dqn = d * qn;
    const sn_real *Wi = net->W + i * dd, *bi = net->b + i * d;
    const sn_real *dWi = dW ? dW + i * dd : NULL, *dbi = db ? db + i * d : NULL;
    sn_real *y = w->y, *sp = w->sp, *V = w->V, *ydot = w->ydot;
    for (int s = 0; s < S; s++) {
        sn_real *k = Ks + s * dn;
        sn_real *kd = Kdot + s * dqn;
        if (kept) {
            /* the stage values are stored: s'(z_s) from them, y_s only for dW y_s */
            for (ptrdiff_t e = 0; e < dn; e += SN_VL)
                SN_ST(sp + e, sn_deriv_v(net->act, SN_LD(k + e)));
            if (dWi) stage_input(s, t->ha + s * S, dn, x, Ks, y);
        } else {
            stage_input(s, t->ha + s * S, dn, x, Ks, y);
            sn_gemm_nn_act(d, d, ld, Wi, d, bi, y, k, net->act, sp);
            if (!SN_FUSED_ACT(net->act)) sn_activation(net->act, dn, k, k, sp);
        }
        stage_input(s, t->ha + s * S, dqn, xi, Kdot, ydot);
        /* kdot = s'(z) * (W ydot + dW y + db) */
        sn_gemm_nn(d, d, qn, Wi, d, NULL, ydot, kd);
        if (dWi) {
            sn_gemm_nn(d, d, ld, dWi, d, dbi, y, V);
        } else if (dbi) {
            for (ptrdiff_t j = 0; j < d; j++)
                for (ptrdiff_t r = 0; r < ld; r++) V[j * ld + r] = dbi[j];
        }
        /* one pass: kd = s'(z) * (W ydot + V) */
        for (ptrdiff_t j = 0; j < d; j++)
            for (ptrdiff_t tt = 0; tt < q; tt++) {
                sn_real *restrict kr = kd + j * qn + tt * ld;
                const sn_real *restrict spr = sp + j * ld;
                if (dWi || dbi) {
                    const sn_real *restrict vr = V + j * ld;
                    for (ptrdiff_t r = 0; r < ld; r++) kr[r] = (kr[r] + vr[r]) * spr[r];
                } else {
                    for (ptrdiff_t r = 0; r < ld; r++) kr[r] *= spr[r];
                }
            }
    }
    if (!kept || dWi) combine(S, t->hb, dn, Ks, x);
    combine(S, t->hb, dqn, Kdot, xi);
}

int SN_FN(snode_activation)(int act, ptrdiff_t len, const sn_real *z, sn_real *k, sn_real *sp)
{
    sn_activation(act, len, z, k, sp);
    return SNODE_OK;
}
