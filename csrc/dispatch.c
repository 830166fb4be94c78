/*
 * Run-time choice of the instruction-set level of the sweeps. sweeps.c is compiled for the
 * portable baseline and, on x86-64 with GCC or Clang, for AVX2+FMA and AVX-512; the widest one
 * the CPU supports is used, unless SNODE_ISA in the environment names a narrower one.
 */
#include <stdlib.h>
#include <string.h>

#include "snode.h"
#include "sweeps.h"

typedef struct {
    const char *name;
    ptrdiff_t (*ws_forward)(const snode_net *, ptrdiff_t);
    ptrdiff_t (*ws_grad)(const snode_net *, ptrdiff_t, int);
    ptrdiff_t (*ws_tangent)(const snode_net *, ptrdiff_t, ptrdiff_t);
    ptrdiff_t (*ws_tangent_kept)(const snode_net *, ptrdiff_t);
    ptrdiff_t (*keep_size)(const snode_net *, ptrdiff_t);
    int (*forward)(const snode_net *, ptrdiff_t, const double *, ptrdiff_t, double *, double *,
                   ptrdiff_t, double *);
    int (*data_cost)(const snode_net *, ptrdiff_t, const double *, ptrdiff_t,
                     const snode_loss *, const double *, ptrdiff_t, const int64_t *, double *,
                     double *, double *);
    int (*value_grad)(const snode_net *, ptrdiff_t, const double *, ptrdiff_t,
                      const snode_loss *, const double *, ptrdiff_t, const int64_t *,
                      const double *, double *, double *, double *, double *, double *, int,
                      const snode_sum *, double *, double *);
    int (*tangent)(const snode_net *, ptrdiff_t, const double *, ptrdiff_t, const double *,
                   const double *, ptrdiff_t, const double *, int, double *, double *, double *);
    int (*tangent_kept)(const snode_net *, ptrdiff_t, const double *, const double *,
                        const double *, double *, double *);
    void (*activation)(int, ptrdiff_t, const double *, double *, double *);
    ptrdiff_t (*grad_panel)(const snode_net *, ptrdiff_t, int);
    int (*uses_fused)(const snode_net *);
} sweep_table;

#define SN_TABLE(isa)                                                                          \
    {#isa,                                                                                     \
     snode_ws_forward_##isa,                                                                   \
     snode_ws_grad_##isa,                                                                      \
     snode_ws_tangent_##isa,                                                                   \
     snode_ws_tangent_kept_##isa,                                                              \
     snode_keep_size_##isa,                                                                    \
     snode_forward_##isa,                                                                      \
     snode_data_cost_##isa,                                                                    \
     snode_value_grad_##isa,                                                                   \
     snode_tangent_##isa,                                                                      \
     snode_tangent_kept_##isa,                                                                 \
     snode_activation_##isa,                                                                   \
     snode_grad_panel_##isa,                                                                   \
     snode_uses_fused_##isa}

static const sweep_table tables[] = {
    SN_TABLE(baseline),
#ifdef SNODE_HAVE_AVX2
    SN_TABLE(avx2),
#endif
#ifdef SNODE_HAVE_AVX512
    SN_TABLE(avx512),
#endif
};
static const int n_tables = (int)(sizeof(tables) / sizeof(tables[0]));

static int supported(const char *name)
{
    if (strcmp(name, "baseline") == 0) return 1;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (strcmp(name, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (strcmp(name, "avx512") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
#endif
    return 0;
}

static const sweep_table *active = NULL;

static int find(const char *name)
{
    for (int k = 0; k < n_tables; k++)
        if (strcmp(tables[k].name, name) == 0) return supported(name) ? k : -1;
    return -1;
}

static const sweep_table *table(void)
{
    /* benign race: every thread computes the same answer */
    const sweep_table *t = active;
    if (t) return t;
    int best = 0;
    for (int k = 1; k < n_tables; k++)
        if (supported(tables[k].name)) best = k;
    const char *env = getenv("SNODE_ISA");
    if (env && *env) {
        int k = find(env);
        if (k >= 0 && k < best) best = k;
    }
    active = &tables[best];
    return active;
}

const char *snode_isa(void) { return table()->name; }

int snode_set_isa(const char *name)
{
    int k = find(name);
    if (k < 0) return -1;
    active = &tables[k];
    return 0;
}

ptrdiff_t snode_ws_forward(const snode_net *net, ptrdiff_t n)
{
    return table()->ws_forward(net, n);
}

ptrdiff_t snode_ws_grad(const snode_net *net, ptrdiff_t n, int recompute)
{
    return table()->ws_grad(net, n, recompute);
}

ptrdiff_t snode_ws_tangent(const snode_net *net, ptrdiff_t n, ptrdiff_t q)
{
    return table()->ws_tangent(net, n, q);
}

ptrdiff_t snode_ws_tangent_kept(const snode_net *net, ptrdiff_t n)
{
    return table()->ws_tangent_kept(net, n);
}

ptrdiff_t snode_keep_size(const snode_net *net, ptrdiff_t n) { return table()->keep_size(net, n); }

int snode_forward(const snode_net *net, ptrdiff_t n, const double *x0, ptrdiff_t m, double *xT,
                  double *traj, ptrdiff_t traj_stride, double *work)
{
    return table()->forward(net, n, x0, m, xT, traj, traj_stride, work);
}

int snode_data_cost(const snode_net *net, ptrdiff_t n, const double *x0, ptrdiff_t m,
                    const snode_loss *loss, const double *Y, ptrdiff_t my, const int64_t *labels,
                    double *J, double *xT, double *work)
{
    return table()->data_cost(net, n, x0, m, loss, Y, my, labels, J, xT, work);
}

int snode_value_grad(const snode_net *net, ptrdiff_t n, const double *x0, ptrdiff_t m,
                     const snode_loss *loss, const double *Y, ptrdiff_t my,
                     const int64_t *labels, const double *lamT, double *J, double *gW,
                     double *gb, double *lam0, double *xT, int recompute, const snode_sum *sum,
                     double *keep, double *work)
{
    return table()->value_grad(net, n, x0, m, loss, Y, my, labels, lamT, J, gW, gb, lam0, xT,
                               recompute, sum, keep, work);
}

int snode_tangent(const snode_net *net, ptrdiff_t n, const double *x0, ptrdiff_t m,
                  const double *dW, const double *db, ptrdiff_t q, const double *xi0,
                  int identity, double *xT, double *xiT, double *work)
{
    return table()->tangent(net, n, x0, m, dW, db, q, xi0, identity, xT, xiT, work);
}

int snode_tangent_kept(const snode_net *net, ptrdiff_t n, const double *keep, const double *dW,
                       const double *db, double *xiT, double *work)
{
    return table()->tangent_kept(net, n, keep, dW, db, xiT, work);
}

void snode_activation(int act, ptrdiff_t len, const double *z, double *k, double *sp)
{
    table()->activation(act, len, z, k, sp);
}

ptrdiff_t snode_grad_panel(const snode_net *net, ptrdiff_t n, int recompute)
{
    return table()->grad_panel(net, n, recompute);
}

int snode_uses_fused(const snode_net *net) { return table()->uses_fused(net); }
