/*
 * snode: compiled core of the standalone neural ODE solver.
 *
 * The model is x' = s(W(t) x + b(t)) on [0, T] with parameters piecewise constant on K equal
 * steps, discretised by an explicit Runge-Kutta tableau. The formulas are those of the
 * repository's docs/method.md.
 *
 * Conventions of this header:
 *   - no Python: raw pointers, sizes as ptrdiff_t, int status codes;
 *   - every function works on one contiguous chunk of samples, so a caller can split a batch
 *     over threads (or processes) and reduce the per-chunk results itself;
 *   - the caller owns all memory, including the workspace whose size snode_ws_* return (in
 *     numbers of the dtype, whole cache lines); nothing here allocates. A workspace aligned
 *     to 64 bytes (a cache line) is markedly faster: the vector loads then never straddle
 *     two lines;
 *   - samples are rows of row-major arrays (n x d); inputs with m < d features are zero-padded.
 */
#ifndef SNODE_H
#define SNODE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    SNODE_OK = 0,
    SNODE_ERR_NONFINITE = 1, /* a sweep produced Inf or NaN */
    SNODE_ERR_ARG = 2,       /* an argument is out of range (caller bug) */
    SNODE_ERR_LABEL = 3      /* a label the loss uses is outside [0, n_classes) */
};

enum {
    SNODE_ACT_TANH = 0,
    SNODE_ACT_SIGMOID = 1,
    SNODE_ACT_RELU = 2,
    SNODE_ACT_LEAKY_RELU = 3,
    SNODE_ACT_ELU = 4,
    SNODE_ACT_SOFTPLUS = 5,
    SNODE_ACT_IDENTITY = 6,
    SNODE_N_ACT = 7
};

/*
 * Data terms of the cost (loss.c): per sample with output u = x(T), target y and label c,
 *   scale (mse/2 |u - y|^2 + out/2 |u|^2 + ce (log sum_{j<C} exp(u_j) - u_c)),
 * scale = 1/N for the global number of samples N, so that the sums of chunks (threads, or
 * processes) add up to the cost. The squared error's targets are the rows of Y (n x my,
 * zero-padded to d) when Y is given, else the one-hot vectors of the labels in the first
 * n_classes components; with neither Y nor labels they are zero. Sums over samples are formed
 * sample by sample, in order. A label the loss uses that is outside [0, n_classes) gives
 * SNODE_ERR_LABEL, and the cross-entropy without labels or with n_classes outside [1, d]
 * SNODE_ERR_ARG (never a read out of bounds).
 */
typedef struct {
    double mse, ce, out;
    ptrdiff_t n_classes; /* C, used when ce > 0, and for one-hot targets */
    double scale;
} snode_loss;

/*
 * Targets of the data terms for n samples: Y (n x my, my <= d, zero-padded to d) and labels
 * (n), either NULL when no term uses it (see snode_loss). snode_targets_at: those of the
 * samples from r0 on.
 */
typedef struct {
    const double *Y;
    ptrdiff_t my;
    const int64_t *labels;
} snode_targets;

static inline snode_targets snode_targets_at(const snode_targets *tg, ptrdiff_t r0)
{
    snode_targets t = *tg;
    if (t.Y) t.Y += r0 * t.my;
    if (t.labels) t.labels += r0;
    return t;
}

/*
 * A gradient summed over chunks (threads) in place: chunk `index` of `count` adds its
 * gradient to the shared gW, gb step by step, in chunk order, so that the sum does not depend
 * on timing. turn (K ints, zero before the first chunk starts) counts, for each step, the
 * chunks that have added theirs; a chunk waits for its turn. Every chunk of the sum must be
 * started (concurrently, or in increasing order on one thread), and each must be one panel:
 * snode_grad_panel(net, n, recompute) >= n.
 */
typedef struct {
    int index, count;
    int *turn;
} snode_sum;

/*
 * The sweeps, in two dtypes: float64 (snode_net, snode_forward, ...) and float32 (the same
 * names with the suffix _f32: snode_net_f32, snode_forward_f32, ...). Both are made from one
 * source (csrc/real.h); their types come from SNODE_SWEEP_TYPES below, so that the two
 * differ in the type of their arrays only, and the caller (the Cython wrappers) fills them
 * field by field, the compiler checking every pointer's type. In float32 the network's
 * weights, the states, tangents, adjoints and gradients and the workspace are float; the
 * tableau and the step (h, a, bw), the targets (snode_targets) and the cost *J stay double:
 * the loss is evaluated in double on the float outputs and its sums over samples accumulate
 * in double.
 *
 * Each sweep takes the network, one argument struct and a workspace:
 *     int snode_<sweep>(const snode_net *net, const snode_<sweep>_args *args, double *work);
 * every argument struct starts with the chunk's samples: n, and their inputs x0 (n x m rows,
 * m <= d; zero-padded to d). Output arrays hold n rows of d numbers unless said otherwise;
 * those marked "or NULL" are optional. The workspace holds as many numbers of the dtype as
 * the sweep's snode_ws_* gives for the same n (and mode).
 *
 * The network and scheme (snode_net, read-only during every call): width d, K steps of h =
 * T / K, S stages with the Butcher matrix a (S x S, row-major, strictly lower triangular)
 * and weights bw (S), the activation act (SNODE_ACT_*), the weights W (K x d x d) and b
 * (K x d); general nonzero: always the general kernels, also where fused ones exist.
 *
 * Forward sweep (snode_forward_args): x(T) to xT, or NULL; the states to traj, or NULL
 * (state i of sample r at traj[i*traj_stride + r*d], i <= K).
 *
 * Forward sweep and the data cost at the outputs, for trial points of a line search
 * (snode_cost_args, snode_data_cost): *J receives the chunk's data cost, the same number
 * snode_value_grad gives at the same weights and targets; work: snode_ws_forward.
 *
 * Forward sweep, data cost and adjoint sweep, the exact gradient of the discrete cost
 * (snode_grad_args, snode_value_grad). If lamT is NULL the data terms of `loss` with targets
 * tg give lambda_K and *J receives the chunk's data cost; otherwise lamT (n x d) is used as
 * lambda_K = dJ/dx(T) and *J is set to 0. gW (K x d x d) and gb (K x d) are overwritten with
 * this chunk's gradient, or, if sum is not NULL, receive it as the chunk's part of that sum.
 * lam0 receives lambda_0 = dJ/dx(0) and xT x(T) (either may be NULL). recompute != 0 stores
 * only the states x_i and recomputes each step's stages backwards. keep
 * (snode_keep_size(net, n) numbers, or NULL; not with recompute) receives the forward states
 * (every step's state and stage values) for snode_tangent_kept.
 *
 * Tangent-linear (sensitivity) sweep with q tangents per sample (snode_tangent_args,
 * snode_tangent). dW (K x d x d), db (K x d): parameter direction, either NULL for zero.
 * xi0: n x q x d initial tangents; NULL means zeros, unless identity != 0, which sets
 * tangent t of every sample to e_t (q <= d): then xiT (n x q x d) holds the input Jacobian.
 * xT: x(T), or NULL.
 *
 * The tangent-linear sweep along (dW, db) (one tangent a sample, from xi_0 = 0) on the
 * forward states `keep` that snode_value_grad kept for the same n samples and weights
 * (snode_tangent_kept_args, snode_tangent_kept): no forward recomputation (and no inputs: the
 * kept states begin with them); xiT: n x d. work: snode_ws_tangent_kept.
 */
#define SNODE_SWEEP_TYPES(SFX, REAL)                                                           \
    typedef struct {                                                                           \
        ptrdiff_t d, K;                                                                        \
        double h;                                                                              \
        int S;                                                                                 \
        const double *a, *bw;                                                                  \
        int act;                                                                               \
        const REAL *W, *b;                                                                     \
        int general;                                                                           \
    } snode_net##SFX;                                                                          \
    typedef struct {                                                                           \
        ptrdiff_t n;                                                                           \
        const REAL *x0;                                                                        \
        ptrdiff_t m;                                                                           \
        REAL *xT, *traj;                                                                       \
        ptrdiff_t traj_stride;                                                                 \
    } snode_forward_args##SFX;                                                                 \
    typedef struct {                                                                           \
        ptrdiff_t n;                                                                           \
        const REAL *x0;                                                                        \
        ptrdiff_t m;                                                                           \
        const snode_loss *loss;                                                                \
        snode_targets tg;                                                                      \
        double *J;                                                                             \
        REAL *xT;                                                                              \
    } snode_cost_args##SFX;                                                                    \
    typedef struct {                                                                           \
        ptrdiff_t n;                                                                           \
        const REAL *x0;                                                                        \
        ptrdiff_t m;                                                                           \
        const snode_loss *loss;                                                                \
        snode_targets tg;                                                                      \
        const REAL *lamT;                                                                      \
        double *J;                                                                             \
        REAL *gW, *gb, *lam0, *xT;                                                             \
        int recompute;                                                                         \
        const snode_sum *sum;                                                                  \
        REAL *keep;                                                                            \
    } snode_grad_args##SFX;                                                                    \
    typedef struct {                                                                           \
        ptrdiff_t n;                                                                           \
        const REAL *x0;                                                                        \
        ptrdiff_t m;                                                                           \
        const REAL *dW, *db;                                                                   \
        ptrdiff_t q;                                                                           \
        const REAL *xi0;                                                                       \
        int identity;                                                                          \
        REAL *xT, *xiT;                                                                        \
    } snode_tangent_args##SFX;                                                                 \
    typedef struct {                                                                           \
        ptrdiff_t n;                                                                           \
        const REAL *keep;                                                                      \
        const REAL *dW, *db;                                                                   \
        REAL *xiT;                                                                             \
    } snode_tangent_kept_args##SFX;

SNODE_SWEEP_TYPES(, double)
SNODE_SWEEP_TYPES(_f32, float)

/*
 * The entry points of the sweeps, float64 and float32 (_f32) alike. Workspace sizes are in
 * numbers of the dtype, for a chunk of n samples: snode_ws_forward (forward, data_cost),
 * snode_ws_grad, snode_ws_tangent, snode_ws_tangent_kept; snode_keep_size: the forward states
 * that a gradient sweep of n samples keeps for snode_tangent_kept (K (S + 1) d times about n
 * numbers). snode_activation: elementwise k = s(z), sp = s'(z) (sp may be NULL; returns
 * SNODE_OK). snode_grad_panel and snode_uses_fused, for tests and benchmarks: the samples per
 * panel of the gradient sweep of a chunk of n (it goes forward and back through all steps one
 * panel at a time), and whether the sweeps of `net` use the fused small-width kernels (1) or
 * the general ones (0).
 */
#define SNODE_SWEEP_PROTOTYPES(SFX, REAL)                                                      \
    ptrdiff_t snode_ws_forward##SFX(const snode_net##SFX *net, ptrdiff_t n);                   \
    ptrdiff_t snode_ws_grad##SFX(const snode_net##SFX *net, ptrdiff_t n, int recompute);       \
    ptrdiff_t snode_ws_tangent##SFX(const snode_net##SFX *net, ptrdiff_t n, ptrdiff_t q);      \
    ptrdiff_t snode_ws_tangent_kept##SFX(const snode_net##SFX *net, ptrdiff_t n);              \
    ptrdiff_t snode_keep_size##SFX(const snode_net##SFX *net, ptrdiff_t n);                    \
    int snode_forward##SFX(const snode_net##SFX *net, const snode_forward_args##SFX *args,     \
                           REAL *work);                                                        \
    int snode_data_cost##SFX(const snode_net##SFX *net, const snode_cost_args##SFX *args,      \
                             REAL *work);                                                      \
    int snode_value_grad##SFX(const snode_net##SFX *net, const snode_grad_args##SFX *args,     \
                              REAL *work);                                                     \
    int snode_tangent##SFX(const snode_net##SFX *net, const snode_tangent_args##SFX *args,     \
                           REAL *work);                                                        \
    int snode_tangent_kept##SFX(const snode_net##SFX *net,                                     \
                                const snode_tangent_kept_args##SFX *args, REAL *work);         \
    int snode_activation##SFX(int act, ptrdiff_t len, const REAL *z, REAL *k, REAL *sp);       \
    ptrdiff_t snode_grad_panel##SFX(const snode_net##SFX *net, ptrdiff_t n, int recompute);    \
    int snode_uses_fused##SFX(const snode_net##SFX *net);

SNODE_SWEEP_PROTOTYPES(, double)
SNODE_SWEEP_PROTOTYPES(_f32, float)

/*
 * The data terms on given outputs x (n x d rows) with targets tg: *J receives their sum; lam
 * (n x d, may be NULL; zeroed by the caller) has their gradient dJ/dx added.
 */
int snode_output_loss(const snode_loss *loss, ptrdiff_t d, ptrdiff_t n, const double *x,
                      const snode_targets *tg, double *lam, double *J);

/*
 * The data terms along the line x + eta xi (n x d rows each): out[0..2] receive phi(eta),
 * phi'(eta) and phi''(eta), summed over the samples in order.
 */
int snode_loss_line(const snode_loss *loss, ptrdiff_t d, ptrdiff_t n, const double *x,
                    const double *xi, const snode_targets *tg, double eta, double out[3]);

/* p (n x C) = the softmax of the first C components of each row of z (n rows, stride ldz). */
void snode_softmax(ptrdiff_t n, ptrdiff_t C, const double *z, ptrdiff_t ldz, double *p);

/* 1 if the n numbers at x are all finite, else 0 (float64, float32). */
int snode_all_finite(ptrdiff_t n, const double *x);
int snode_all_finite_f32(ptrdiff_t n, const float *x);

/*
 * The discrete H1 operator in depth, A = mass h I + (stiff/h) L, L the Neumann path Laplacian,
 * on every column of K x P arrays (sobolev.c). h > 0, mass >= 0, stiff >= 0.
 * snode_h1_solve: g = A^-1 G (g may alias G; mass > 0); work: 2 K doubles.
 * snode_h1_apply: out = A u.
 * Both return SNODE_ERR_ARG for parameters out of range (also when the operator itself
 * overflows, as for h = 1e-310) and SNODE_ERR_NONFINITE when the result is not finite.
 * snode_h1_inner: sum u . A v
 *   = mass h sum_i u_i.v_i + (stiff/h) sum_{i<K-1} (u_{i+1} - u_i).(v_{i+1} - v_i).
 */
int snode_h1_solve(ptrdiff_t K, ptrdiff_t P, double h, double mass, double stiff,
                   const double *G, double *g, double *work);
int snode_h1_apply(ptrdiff_t K, ptrdiff_t P, double h, double mass, double stiff,
                   const double *u, double *out);
double snode_h1_inner(ptrdiff_t K, ptrdiff_t P, double h, double mass, double stiff,
                      const double *u, const double *v);

#ifdef __cplusplus
}
#endif
#endif
