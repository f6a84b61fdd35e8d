"""Shift-and-invert (rational) Krylov stepper for dx/dt = A x with a per-block preconditioned solver.

The Krylov space is built with Z = (I - g A)^{-1} instead of A (van den Eshof & Hochbruck,
SIAM J. Sci. Comput. 27, 1438 (2006)): Arnoldi gives Z V_m = V_m H_m + h_{m+1,m} v_{m+1} e_m^T,
and on the space A acts as

    T_m = (I - H_m^{-1}) / g,        x(t + s) ~ beta V_m exp(s T_m) e_1.

The step is chosen from the difference between the approximations from m and m - 1 Krylov
vectors (see :func:`sai_propagate`). Because the space is built from the resolvent, its quality
does not depend on the spectral radius of A (~N^2 here) but on the time scales of the solution,
so the number of steps is almost independent of N.

Each solve ``(I - g A) y = v`` is GMRES preconditioned by the exact sparse LU of every diagonal
block (the in-block part of A: a 2-D stencil on the (2j+1)^2 packed entries of rho_j). Only the
local processes couple j to j +- 1; they are left out of the preconditioner. When A has no
off-block part (collective models) the block LU is the exact inverse and no GMRES is run.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from .steppers import _arnoldi

__all__ = ["BlockSolver", "sai_propagate"]


class BlockSolver:
    """Solves (I - g A) y = v; A a real CSR matrix whose diagonal blocks are ``slices``.

    Parameters
    ----------
    A : scipy.sparse matrix (n x n)
    slices : list of slices partitioning range(n) into the diagonal blocks
    g : float > 0
    tol : float
        Relative residual of the GMRES solves.
    """

    def __init__(self, A, slices, g, tol=1e-12):
        self.A = sp.csr_matrix(A)
        self.g = float(g)
        self.tol = float(tol)
        self.slices = slices
        n = self.A.shape[0]
        self.n = n
        self.lus = []
        in_block = 0
        for sl in slices:
            Ab = self.A[sl, sl]
            in_block += Ab.nnz
            Mb = sp.identity(Ab.shape[0], format="csc") - self.g * Ab.tocsc()
            self.lus.append(spl.splu(Mb, permc_spec="MMD_AT_PLUS_A"))
        self.coupled = in_block < self.A.nnz
        self.M = sp.identity(n, format="csr") - self.g * self.A
        self.solves = 0
        self.iterations = 0
        self.fill = int(sum(lu.L.nnz + lu.U.nnz for lu in self.lus))

    def precondition(self, v):
        out = np.empty_like(v)
        for sl, lu in zip(self.slices, self.lus):
            out[sl] = lu.solve(v[sl])
        return out

    def solve(self, v):
        self.solves += 1
        y = self.precondition(v)
        if not self.coupled:
            self.iterations += 1
            return y
        count = [0]

        def cb(_):
            count[0] += 1

        P = spl.LinearOperator((self.n, self.n), matvec=self.precondition, dtype=float)
        y, info = spl.gmres(self.M, v, x0=y, rtol=self.tol, atol=0.0, M=P, restart=40, maxiter=20,
                            callback=cb, callback_type="pr_norm")
        self.iterations += count[0] + 1
        if info != 0:
            raise RuntimeError(f"GMRES did not converge to {self.tol:g} (info={info})")
        return y


def _exp_e1(T, s):
    """exp(s T) e_1."""
    return sla.expm(s * T)[:, 0]


def sai_propagate(x0, times, *, solver, rtol=1e-8, m=12, on_output=None, progress=None):
    """Propagate x' = A x to every output time with the shift-and-invert Krylov space of ``solver``
    (which holds A).

    Parameters
    ----------
    x0 : (n,) real
    times : increasing output times; ``times[0]`` is the initial time
    solver : :class:`BlockSolver` (its ``g`` is the shift)
    rtol : float
        Total error target relative to |x0| over the whole run: a step of length s is accepted
        when |y_m(s) - y_{m-1}(s)| <= rtol |x0| s / (times[-1] - times[0]), with y_k the
        approximation from the first k Krylov vectors (the SaI error does not vanish like s for
        s -> 0, so the shift must be small enough for this to hold at useful s).
    m : int
        Krylov dimension per step.

    Returns
    -------
    dict with ``solves``, ``iterations`` (preconditioned GMRES iterations), ``steps``.
    """
    times = np.asarray(times, float)
    T = max(times[-1] - times[0], 1e-300)
    g = solver.g
    x = np.array(x0, dtype=float)
    t = times[0]
    on_output(0, t, x)
    i = 1
    steps = 0
    h = None
    tol_rate = rtol * np.linalg.norm(x) / T
    while i < times.size:
        V, H, beta, mk, breakdown = _arnoldi(solver.solve, x, m)
        steps += 1
        Hm = H[:mk, :mk]
        Hinv = np.linalg.inv(Hm)
        Tm = (np.eye(mk) - Hinv) / g
        remaining = times[-1] - t
        if breakdown:
            h = remaining
        else:
            Tm1 = (np.eye(mk - 1) - np.linalg.inv(Hm[:-1, :-1])) / g

            def err(s):
                ym = _exp_e1(Tm, s)
                ym1 = _exp_e1(Tm1, s)
                ym[:-1] -= ym1
                return beta * np.linalg.norm(ym)

            if h is None:
                h = min(remaining, g)
            h = min(h, remaining)
            for _ in range(60):
                if err(h) <= tol_rate * h:
                    if h >= remaining:
                        break
                    h2 = min(2.0 * h, remaining)
                    if err(h2) > tol_rate * h2:
                        break
                    h = h2
                else:
                    h *= 0.5
                    if h < 1e-3 * g:
                        raise RuntimeError(
                            f"shift-invert Krylov: no step >= {h:.3g} meets rtol with m = {m}, shift {g:.3g}; "
                            "use a smaller shift or a larger krylov_dim")
        t_end = t + h
        while i < times.size and times[i] <= t_end * (1 + 1e-13) + 1e-300:
            y = _exp_e1(Tm, times[i] - t)
            on_output(i, times[i], V[:mk].T @ (beta * y))
            i += 1
        if i >= times.size:
            if progress is not None:
                progress.update(times[-1] - t)
            break
        y = _exp_e1(Tm, h)
        x = V[:mk].T @ (beta * y)
        if progress is not None:
            progress.update(h)
        t = t_end
    return {"solves": solver.solves, "iterations": solver.iterations, "steps": steps}
