/* Internal: the per-ISA entry points of the sweeps (forward.c, adjoint.c, tangent.c, steps.c),
 * chosen by dispatch.c. */
#ifndef SNODE_SWEEPS_H
#define SNODE_SWEEPS_H
#include "snode.h"

#define SN_MAX_STAGES 16

#define SN_DECLARE_SWEEPS(isa)                                                                 \
    ptrdiff_t snode_ws_forward_##isa(const snode_net *, ptrdiff_t);                            \
    ptrdiff_t snode_ws_grad_##isa(const snode_net *, ptrdiff_t, int);                          \
    ptrdiff_t snode_ws_tangent_##isa(const snode_net *, ptrdiff_t, ptrdiff_t);                 \
    ptrdiff_t snode_ws_tangent_kept_##isa(const snode_net *, ptrdiff_t);                       \
    ptrdiff_t snode_keep_size_##isa(const snode_net *, ptrdiff_t);                             \
    int snode_forward_##isa(const snode_net *, ptrdiff_t, const double *, ptrdiff_t, double *, \
                            double *, ptrdiff_t, double *);                                    \
    int snode_data_cost_##isa(const snode_net *, ptrdiff_t, const double *, ptrdiff_t,         \
                              const snode_loss *, const double *, ptrdiff_t, const int64_t *,  \
                              double *, double *, double *);                                   \
    int snode_value_grad_##isa(const snode_net *, ptrdiff_t, const double *, ptrdiff_t,        \
                               const snode_loss *, const double *, ptrdiff_t, const int64_t *, \
                               const double *, double *, double *, double *, double *,         \
                               double *, int, const snode_sum *, double *, double *);          \
    int snode_tangent_##isa(const snode_net *, ptrdiff_t, const double *, ptrdiff_t,           \
                            const double *, const double *, ptrdiff_t, const double *, int,    \
                            double *, double *, double *);                                     \
    int snode_tangent_kept_##isa(const snode_net *, ptrdiff_t, const double *, const double *, \
                                 const double *, double *, double *);                          \
    void snode_activation_##isa(int, ptrdiff_t, const double *, double *, double *);          \
    ptrdiff_t snode_grad_panel_##isa(const snode_net *, ptrdiff_t, int);                       \
    int snode_uses_fused_##isa(const snode_net *);

SN_DECLARE_SWEEPS(baseline)
#ifdef SNODE_HAVE_AVX2
SN_DECLARE_SWEEPS(avx2)
#endif
#ifdef SNODE_HAVE_AVX512
SN_DECLARE_SWEEPS(avx512)
#endif

/* Name of the instruction-set level in use ("baseline", "avx2", "avx512"). */
const char *snode_isa(void);
/* Force a level by name; returns 0 on success, -1 if unknown or unsupported here. */
int snode_set_isa(const char *name);

#endif
