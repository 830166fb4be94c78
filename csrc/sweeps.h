/* Internal: the entry points of the sweeps (forward.c, adjoint.c, tangent.c, steps.c), one
 * instance per (dtype, instruction-set level), chosen by dispatch.c. */
#ifndef SNODE_SWEEPS_H
#define SNODE_SWEEPS_H
#include "snode.h"

#define SN_MAX_STAGES 16

/*
 * The entry points, one line each: X(inst, SFX, return type, name, (parameters), (arguments)),
 * with the prototype of snode.h's snode_<name><SFX> for the dtype whose real is REAL and whose
 * suffix is SFX (empty for float64, _f32 for float32); inst, the instance's suffix, is passed
 * through. From this list come the declarations of every instance's snode_<name>_<dtype>_<isa>
 * (below), the dispatch tables and the public functions that call through them (dispatch.c,
 * where the compiler checks them against snode.h). A new entry point: its prototype in
 * snode.h's SNODE_SWEEP_PROTOTYPES, one line here, its definition in a sweep file (SN_FN,
 * steps.h), its declaration in src/snode/_core.pxd.
 */
#define SN_SWEEP_ENTRIES(X, inst, SFX, REAL)                                                    \
    X(inst, SFX, ptrdiff_t, ws_forward, (const snode_net##SFX *net, ptrdiff_t n), (net, n))     \
    X(inst, SFX, ptrdiff_t, ws_grad, (const snode_net##SFX *net, ptrdiff_t n, int recompute),   \
      (net, n, recompute))                                                                      \
    X(inst, SFX, ptrdiff_t, ws_tangent, (const snode_net##SFX *net, ptrdiff_t n, ptrdiff_t q),  \
      (net, n, q))                                                                              \
    X(inst, SFX, ptrdiff_t, ws_tangent_kept, (const snode_net##SFX *net, ptrdiff_t n),         \
      (net, n))                                                                                 \
    X(inst, SFX, ptrdiff_t, keep_size, (const snode_net##SFX *net, ptrdiff_t n), (net, n))      \
    X(inst, SFX, int, forward,                                                                  \
      (const snode_net##SFX *net, const snode_forward_args##SFX *args, REAL *work),             \
      (net, args, work))                                                                        \
    X(inst, SFX, int, data_cost,                                                                \
      (const snode_net##SFX *net, const snode_cost_args##SFX *args, REAL *work),                \
      (net, args, work))                                                                        \
    X(inst, SFX, int, value_grad,                                                               \
      (const snode_net##SFX *net, const snode_grad_args##SFX *args, REAL *work),                \
      (net, args, work))                                                                        \
    X(inst, SFX, int, tangent,                                                                  \
      (const snode_net##SFX *net, const snode_tangent_args##SFX *args, REAL *work),             \
      (net, args, work))                                                                        \
    X(inst, SFX, int, tangent_kept,                                                             \
      (const snode_net##SFX *net, const snode_tangent_kept_args##SFX *args, REAL *work),        \
      (net, args, work))                                                                        \
    X(inst, SFX, int, activation, (int act, ptrdiff_t len, const REAL *z, REAL *k, REAL *sp),   \
      (act, len, z, k, sp))                                                                     \
    X(inst, SFX, ptrdiff_t, grad_panel,                                                         \
      (const snode_net##SFX *net, ptrdiff_t n, int recompute), (net, n, recompute))             \
    X(inst, SFX, int, uses_fused, (const snode_net##SFX *net), (net))

/* snode_<name>_<inst>: an instance's entry point (inst expanded first) */
#define SN_ENTRY_NAME(name, inst) SN_ENTRY_NAME_(name, inst)
#define SN_ENTRY_NAME_(name, inst) snode_##name##_##inst

#define SN_DECLARE_ENTRY(inst, SFX, ret, name, params, args) ret SN_ENTRY_NAME(name, inst) params;
/* the declarations of one instance's entry points: SN_DECLARE_SWEEPS(f64_avx2, , double),
 * SN_DECLARE_SWEEPS(f32_avx2, _f32, float) */
#define SN_DECLARE_SWEEPS(inst, SFX, REAL) SN_SWEEP_ENTRIES(SN_DECLARE_ENTRY, inst, SFX, REAL)

/* The instances the build makes (meson.build): float64 and float32 at every level it
 * compiles. */
#define SN_DECLARE_LEVEL(lv)                                                                    \
    SN_DECLARE_SWEEPS(f64_##lv, , double) SN_DECLARE_SWEEPS(f32_##lv, _f32, float)
SN_DECLARE_LEVEL(baseline)
#ifdef SNODE_HAVE_AVX2
SN_DECLARE_LEVEL(avx2)
#endif
#ifdef SNODE_HAVE_AVX512
SN_DECLARE_LEVEL(avx512)
#endif

/* Name of the instruction-set level in use ("baseline", "avx2", "avx512"). */
const char *snode_isa(void);
/* Force a level by name; returns 0 on success, -1 if unknown or unsupported here. */
int snode_set_isa(const char *name);

#endif
