/* Internal: the entry points of the sweeps (forward.c, adjoint.c, tangent.c, steps.c), one
 * instance per (dtype, instruction-set level), chosen by dispatch.c. */
#ifndef SNODE_SWEEPS_H
#define SNODE_SWEEPS_H
#include "snode.h"

#define SN_MAX_STAGES 16

/*
 * The entry points, one line each: X(inst, return type, name, (parameters), (arguments)),
 * with the prototype of snode.h's snode_<name> (which the compiler checks against this line,
 * in dispatch.c) and inst the instance's suffix, passed through. From this list come the
 * declarations of every instance's snode_<name>_<dtype>_<isa> (below), the dispatch table and
 * the public functions that call through it (dispatch.c). A new entry point: its prototype in
 * snode.h, one line here, its definition in a sweep file (SN_FN, steps.h), its declaration in
 * src/snode/_core.pxd.
 */
#define SN_SWEEP_ENTRIES(X, inst)                                                              \
    X(inst, ptrdiff_t, ws_forward, (const snode_net *net, ptrdiff_t n), (net, n))              \
    X(inst, ptrdiff_t, ws_grad, (const snode_net *net, ptrdiff_t n, int recompute),            \
      (net, n, recompute))                                                                     \
    X(inst, ptrdiff_t, ws_tangent, (const snode_net *net, ptrdiff_t n, ptrdiff_t q),           \
      (net, n, q))                                                                             \
    X(inst, ptrdiff_t, ws_tangent_kept, (const snode_net *net, ptrdiff_t n), (net, n))         \
    X(inst, ptrdiff_t, keep_size, (const snode_net *net, ptrdiff_t n), (net, n))               \
    X(inst, int, forward,                                                                      \
      (const snode_net *net, const snode_forward_args *args, double *work), (net, args, work)) \
    X(inst, int, data_cost,                                                                    \
      (const snode_net *net, const snode_cost_args *args, double *work), (net, args, work))    \
    X(inst, int, value_grad,                                                                   \
      (const snode_net *net, const snode_grad_args *args, double *work), (net, args, work))    \
    X(inst, int, tangent,                                                                      \
      (const snode_net *net, const snode_tangent_args *args, double *work), (net, args, work)) \
    X(inst, int, tangent_kept,                                                                 \
      (const snode_net *net, const snode_tangent_kept_args *args, double *work),               \
      (net, args, work))                                                                       \
    X(inst, int, activation,                                                                   \
      (int act, ptrdiff_t len, const double *z, double *k, double *sp), (act, len, z, k, sp))  \
    X(inst, ptrdiff_t, grad_panel, (const snode_net *net, ptrdiff_t n, int recompute),         \
      (net, n, recompute))                                                                     \
    X(inst, int, uses_fused, (const snode_net *net), (net))

/* snode_<name>_<inst>: an instance's entry point (inst expanded first) */
#define SN_ENTRY_NAME(name, inst) SN_ENTRY_NAME_(name, inst)
#define SN_ENTRY_NAME_(name, inst) snode_##name##_##inst

#define SN_DECLARE_ENTRY(inst, ret, name, params, args) ret SN_ENTRY_NAME(name, inst) params;
/* the declarations of one instance's entry points, e.g. SN_DECLARE_SWEEPS(f64_avx2) */
#define SN_DECLARE_SWEEPS(inst) SN_SWEEP_ENTRIES(SN_DECLARE_ENTRY, inst)

/* The instances the build makes (meson.build): float64 at every level it compiles. */
SN_DECLARE_SWEEPS(f64_baseline)
#ifdef SNODE_HAVE_AVX2
SN_DECLARE_SWEEPS(f64_avx2)
#endif
#ifdef SNODE_HAVE_AVX512
SN_DECLARE_SWEEPS(f64_avx512)
#endif

/* Name of the instruction-set level in use ("baseline", "avx2", "avx512"). */
const char *snode_isa(void);
/* Force a level by name; returns 0 on success, -1 if unknown or unsupported here. */
int snode_set_isa(const char *name);

#endif
