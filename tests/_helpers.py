"""Shared test helpers (imported by the test modules; tests/ is on pythonpath)."""
import numpy as np
import snode


def make_net(width=3, n_steps=4, T=1.0, scheme="rk4", activation="tanh", seed=0, scale=1.5,
             **kw):
    """A small network with O(1) weights, so that the nonlinearity matters."""
    net = snode.SNODE(width, n_steps, T=T, scheme=scheme, activation=activation, init="normal",
                      seed=seed, **kw)
    rng = np.random.default_rng(seed + 1000)
    net.W = scale * rng.normal(size=net.W.shape) / np.sqrt(width)
    net.b = 0.5 * rng.normal(size=net.b.shape)
    return net


def fd4(f, x0, direction, eps):
    """4th-order central difference of the scalar or array function f(x0 + t direction) at 0."""
    fp2, fp1 = f(x0 + 2 * eps * direction), f(x0 + eps * direction)
    fm1, fm2 = f(x0 - eps * direction), f(x0 - 2 * eps * direction)
    return (fm2 - 8 * fm1 + 8 * fp1 - fp2) / (12 * eps)


def fd_gradient(cost_of_params, W, b, eps=1e-3):
    """Full gradient of a cost by 4th-order central differences, entry by entry."""
    theta = np.concatenate([W.ravel(), b.ravel()])
    g = np.empty_like(theta)
    e = np.zeros_like(theta)
    nW = W.size

    def f(t):
        return cost_of_params(t[:nW].reshape(W.shape), t[nW:].reshape(b.shape))

    for k in range(theta.size):
        e[k] = 1.0
        g[k] = fd4(f, theta, e, eps)
        e[k] = 0.0
    return g[:nW].reshape(W.shape), g[nW:].reshape(b.shape)


def rel_err(a, b):
    a = np.concatenate([np.ravel(x) for x in a]) if isinstance(a, tuple) else np.ravel(a)
    b = np.concatenate([np.ravel(x) for x in b]) if isinstance(b, tuple) else np.ravel(b)
    return np.linalg.norm(a - b) / np.linalg.norm(b)


class ThreadGroup:
    """Processes simulated by threads (the serial suite's stand-in for MPI ranks): a reducer
    per 'rank'. ``exact=True`` gives reducers that evaluate the whole tree over blocks (as
    snode.mpi.MPIReducer does); ``exact=False`` the plain all-reduce in rank order."""

    def __init__(self, size, exact=True):
        import threading
        self.size, self.exact = size, exact
        self.barrier = threading.Barrier(size)
        self.slots = [None] * size

    def _exchange(self, rank, obj):
        self.slots[rank] = obj
        self.barrier.wait()
        out = list(self.slots)
        self.barrier.wait()
        return out

    def reducer(self, rank):
        group = self
        base = snode.Reducer

        class _R(base):
            def allreduce(self, *parts):
                got = group._exchange(rank, [np.array(p, dtype=np.float64, copy=True)
                                             for p in parts])
                total = [sum(g[k] for g in got) for k in range(len(parts))]
                return tuple(float(t) if t.ndim == 0 else t for t in total)

            def total(self, n):
                return int(sum(group._exchange(rank, int(n))))

            def allgather(self, obj):
                return group._exchange(rank, obj)

            if group.exact:
                def reduce_tree(self, nodes, n_blocks):
                    from snode.reduce import tree_root
                    got = group._exchange(rank, nodes)
                    # (copies: the tree adds into its nodes' arrays)
                    return tree_root([(ab, tuple(np.copy(p) if isinstance(p, np.ndarray)
                                                 else p for p in parts))
                                      for g in got for ab, parts in g], n_blocks)

        r = _R()
        r.rank, r.size, r.exact = rank, self.size, self.exact
        return r

    def run(self, fn):
        """fn(rank, reducer) on every 'rank' at once; their results, in rank order."""
        import threading
        results, errors = [None] * self.size, []

        def target(rank):
            try:
                results[rank] = fn(rank, self.reducer(rank))
            except BaseException as exc:  # pragma: no cover - reported below (pytest.fail too)
                errors.append(exc)
                self.barrier.abort()

        threads = [threading.Thread(target=target, args=(r,)) for r in range(self.size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return results
