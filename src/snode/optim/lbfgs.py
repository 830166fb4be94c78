"""The limited-memory BFGS direction in a metric in depth (docs/method.md, section 7), in the
compact form of Byrd, Nocedal and Schnabel.

References
----------
.. [1] R. H. Byrd, J. Nocedal, R. B. Schnabel, "Representations of quasi-Newton matrices and
   their use in limited memory methods", Mathematical Programming 63, 129-156, 1994.
.. [2] J. Nocedal, S. J. Wright, "Numerical Optimization", 2nd ed., Springer, 2006, chapter 7.
"""
import numpy as np
from scipy.linalg.lapack import dtrtrs

__all__ = ["LBFGS"]


class LBFGS:
    """The memory of the last `m` steps and gradient changes, and the direction they give.

    Parameters
    ----------
    m : int >= 1
        The pairs kept (2 m vectors of the weights' size).
    """

    def __init__(self, m):
        self.m = m
        self._pairs = None
        self._prev = None

    def forget(self):
        """Drop the pairs (the last point is kept: the next call adds no pair from it only
        when it restarts)."""
        if self._pairs is not None:
            self._pairs.clear()

    def direction(self, theta, G, g, restart, metric):
        """The limited-memory BFGS direction -H G at the point theta with Euclidean gradient
        G and metric gradient g = A^-1 G (parameter pairs), for the inverse-Hessian estimate
        that the BFGS updates with the stored pairs (s, y) make of the scaled metric
        H0 = gamma A^-1 (gamma = <s, y> / <y, A^-1 y> of the newest pair): a few products with
        the stored pairs and m x m triangular solves instead of the two-loop recursion's 4 m
        vector operations. The pair from the last point is added first, unless `restart`,
        which forgets them all; pairs with no positive curvature <s, y> are skipped.
        `metric` gives ``metric.gradient(pair)`` = A^-1 pair (a
        :class:`snode.optim.metric.BoundMetric`).

        Returns
        -------
        n_pairs : float
            The pairs used (0: the direction is -g, steepest descent in the metric).
        direction : (ndarray, ndarray)
        """
        x, gx = _flat(theta), _flat(G)
        shapes = (G[0].shape, G[1].shape)

        def riesz(v):  # A^-1 v for a flat v (the metric's, hybrid or not)
            return _flat(metric.gradient(_unflat(v, shapes)))

        qn = self._pairs
        if qn is None or qn.S.shape[1] != x.size:
            qn = self._pairs = _Pairs(self.m, x.size)
        prev, self._prev = self._prev, (x, gx)
        if restart or prev is None:
            qn.clear()
        else:
            qn.add(x - prev[0], gx - prev[1], riesz)
        if not qn.order:
            return 0.0, (-g[0], -g[1])
        r = qn.apply(gx, _flat(g), riesz)
        np.negative(r, out=r)
        return float(len(qn.order)), _unflat(r, shapes)


#: Vectors from this many entries on are combined by einsum's own loops, not BLAS (see _dot).
_BLAS_MAX = 8192


def _dot(n):
    """The dot product for vectors of n entries: BLAS's for short ones, einsum's own loop for
    long ones (a threaded BLAS woken between the sweeps' OpenMP regions competes with their
    idle threads; see snode.optim.trainer.pair_dot)."""
    return _blas_dot if n < _BLAS_MAX else _einsum_dot


def _blas_dot(u, v):
    return float(np.dot(u, v))


def _einsum_dot(u, v):
    return float(np.einsum("i,i->", u, v))


def _flat(p):
    return np.concatenate((p[0].ravel(), p[1].ravel()))


def _unflat(v, shapes):
    n = int(np.prod(shapes[0]))
    return v[:n].reshape(shapes[0]), v[n:].reshape(shapes[1])


class _Pairs:
    """The last m pairs (s, y) of L-BFGS in rows of two (m, n) arrays, with the products the
    compact form needs: SY[i, j] = <s_i, y_j> and YAY[i, j] = <y_i, A^-1 y_j> over the rows
    (slots), and the slots' order from oldest to newest. Adding a pair overwrites the oldest
    slot and updates one row and column of each product (three products with the rows)."""

    def __init__(self, m, n):
        self.S, self.Y = np.zeros((m, n)), np.zeros((m, n))
        self.SY, self.YAY = np.zeros((m, m)), np.zeros((m, m))
        self.order = []

    def clear(self):
        self.order.clear()

    def add(self, s, y, riesz):
        """Store the pair (s, y) when <s, y> > 0 (relative to |s| |y|); riesz(y) = A^-1 y."""
        dot = _dot(s.size)
        sy = dot(s, y)
        if not sy > 1e-12 * np.sqrt(dot(s, s) * dot(y, y)):
            return
        m = self.S.shape[0]
        slot = len(self.order) if len(self.order) < m else self.order.pop(0)
        self.order.append(slot)
        self.S[slot], self.Y[slot] = s, y
        self.SY[slot, :] = _matvec(self.Y, s)  # <s_new, y_j>
        self.SY[:, slot] = _matvec(self.S, y)  # <s_i, y_new>
        self.YAY[slot, :] = self.YAY[:, slot] = _matvec(self.Y, riesz(y))

    def apply(self, G, g, riesz):
        """``H G = gamma g + S u - gamma A^-1 (Y w)`` for G (Euclidean gradient) and
        g = A^-1 G, with ``w = R^-1 S^T G`` and
        ``u = R^-T ((D + gamma Y^T A^-1 Y) w - gamma Y^T g)``, R the upper triangle of S^T Y
        in the pairs' order and D its diagonal; riesz(v) = A^-1 v."""
        idx = np.array(self.order)
        new = idx[-1]
        gamma = self.SY[new, new] / self.YAY[new, new]
        # S^T Y in the pairs' order: R is its upper triangle, the only one the triangular
        # solves read (LAPACK's, called as it is: R's diagonal, <s_i, y_i>, is positive by
        # the pairs' admission test, and scipy's checking wrapper costs 30 times the solve)
        R = self.SY.take(idx, 0).take(idx, 1)
        p1 = _matvec(self.S, G)[idx]
        p2 = _matvec(self.Y, g)[idx]
        w = dtrtrs(R, p1, lower=0, trans=0)[0]
        yay = self.YAY.take(idx, 0).take(idx, 1)
        rhs = np.diag(R) * w + gamma * (yay @ w) - gamma * p2
        u = dtrtrs(R, rhs, lower=0, trans=1)[0]
        m = self.S.shape[0]
        uu, ww = np.zeros(m), np.zeros(m)  # (the coefficients by slot)
        uu[idx], ww[idx] = u, w
        r = gamma * g + _rmatvec(self.S, uu)
        r -= gamma * riesz(_rmatvec(self.Y, ww))
        return r


def _matvec(M, v):
    """M @ v for the stored pairs (rows of M); BLAS for short rows, einsum's own loop for long
    ones (see _dot)."""
    return M @ v if M.shape[1] < _BLAS_MAX else np.einsum("ij,j->i", M, v)


def _rmatvec(M, c):
    """M^T @ c, the combination of M's rows with coefficients c."""
    return c @ M if M.shape[1] < _BLAS_MAX else np.einsum("i,ij->j", c, M)
