# The one place the C core is declared. See csrc/snode.h for the contracts.
from libc.stdint cimport int64_t

cdef extern from "snode.h" nogil:
    enum:
        SNODE_OK
        SNODE_ERR_NONFINITE
        SNODE_ERR_ARG
        SNODE_ERR_LABEL

    ctypedef struct snode_net:
        Py_ssize_t d
        Py_ssize_t K
        double h
        int S
        const double *a
        const double *bw
        int act
        const double *W
        const double *b
        int general

    ctypedef struct snode_sum:
        int index
        int count
        int *turn

    ctypedef struct snode_loss:
        double mse
        double ce
        double out
        Py_ssize_t n_classes
        double scale

    ctypedef struct snode_targets:
        const double *Y
        Py_ssize_t my
        const int64_t *labels

    snode_targets snode_targets_at(const snode_targets *tg, Py_ssize_t r0)

    # the sweeps' argument structs (the fields of snode.h, in its order)
    ctypedef struct snode_forward_args:
        Py_ssize_t n
        const double *x0
        Py_ssize_t m
        double *xT
        double *traj
        Py_ssize_t traj_stride

    ctypedef struct snode_cost_args:
        Py_ssize_t n
        const double *x0
        Py_ssize_t m
        const snode_loss *loss
        snode_targets tg
        double *J
        double *xT

    ctypedef struct snode_grad_args:
        Py_ssize_t n
        const double *x0
        Py_ssize_t m
        const snode_loss *loss
        snode_targets tg
        const double *lamT
        double *J
        double *gW
        double *gb
        double *lam0
        double *xT
        int recompute
        const snode_sum *sum
        double *keep

    ctypedef struct snode_tangent_args:
        Py_ssize_t n
        const double *x0
        Py_ssize_t m
        const double *dW
        const double *db
        Py_ssize_t q
        const double *xi0
        int identity
        double *xT
        double *xiT

    ctypedef struct snode_tangent_kept_args:
        Py_ssize_t n
        const double *keep
        const double *dW
        const double *db
        double *xiT

    Py_ssize_t snode_ws_forward(const snode_net *net, Py_ssize_t n)
    Py_ssize_t snode_ws_grad(const snode_net *net, Py_ssize_t n, int recompute)
    Py_ssize_t snode_ws_tangent(const snode_net *net, Py_ssize_t n, Py_ssize_t q)
    Py_ssize_t snode_ws_tangent_kept(const snode_net *net, Py_ssize_t n)
    Py_ssize_t snode_keep_size(const snode_net *net, Py_ssize_t n)
    Py_ssize_t snode_grad_panel(const snode_net *net, Py_ssize_t n, int recompute)
    int snode_uses_fused(const snode_net *net)
    int snode_all_finite(Py_ssize_t n, const double *x)
    int snode_forward(const snode_net *net, const snode_forward_args *args, double *work)
    int snode_data_cost(const snode_net *net, const snode_cost_args *args, double *work)
    int snode_value_grad(const snode_net *net, const snode_grad_args *args, double *work)
    int snode_tangent(const snode_net *net, const snode_tangent_args *args, double *work)
    int snode_tangent_kept(const snode_net *net, const snode_tangent_kept_args *args,
                           double *work)
    int snode_output_loss(const snode_loss *loss, Py_ssize_t d, Py_ssize_t n,
                          const double *x, const snode_targets *tg, double *lam, double *J)
    int snode_loss_line(const snode_loss *loss, Py_ssize_t d, Py_ssize_t n, const double *x,
                        const double *xi, const snode_targets *tg, double eta, double *out)
    void snode_softmax(Py_ssize_t n, Py_ssize_t C, const double *z, Py_ssize_t ldz, double *p)
    int snode_activation(int act, Py_ssize_t len, const double *z, double *k, double *sp)
    int snode_h1_solve(Py_ssize_t K, Py_ssize_t P, double h, double mass, double stiff,
                       const double *G, double *g, double *work)
    int snode_h1_apply(Py_ssize_t K, Py_ssize_t P, double h, double mass, double stiff,
                       const double *u, double *out)
    double snode_h1_inner(Py_ssize_t K, Py_ssize_t P, double h, double mass, double stiff,
                          const double *u, const double *v)

cdef extern from "sweeps.h" nogil:
    const char *snode_isa()
    int snode_set_isa(const char *name)
