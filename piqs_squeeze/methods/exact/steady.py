"""Exact steady states and Liouvillian spectra with local processes, N up to a few hundred.

The generator ``L`` of :mod:`piqs_squeeze.methods.exact.generator` acts on the packed Dicke blocks rho_j. Local
processes couple block j only to j and j +- 1, so ``L`` is block tridiagonal, and every diagonal
block ``L_jj`` (the collective terms plus the dj = 0 channels of the local ones) is a 2-D stencil
on the (2j+1)^2 packed entries of rho_j: its sparse LU is cheap (COLAMD, ~2j^3 fill at most),
while the LU of the whole 3-D problem (``exact.steady_state(solver="lu")``) fills in like n^(4/3)
(its cost: benchmarks/results/exact_steady.md, notes.md).

All solves here are with

    A = L - sigma I + u w^T,

``w`` the trace functional (w^T x = sum_j tr rho_j), ``u`` a fixed state with w^T u = s > 0, and
the rank-one part only for sigma = 0. Because w^T L = 0 (L preserves the trace), A has the
eigenvalues of L - sigma with the eigenvalue 0 of the steady state moved to s (Brauer's theorem),
and the solution of A x = u is the steady state itself (w^T x = 1, L x = 0) whenever it is
unique. ``A`` is solved by restarted GMRES (right preconditioned, classical Gram-Schmidt twice,
true residual checked at every restart) with a two-level preconditioner:

* fine level: block Jacobi with the exact sparse LU of every ``L_jj - sigma I``;
* coarse level: one vector per block, ``z_j`` = the slowest mode of ``L_jj`` (two steps of inverse
  iteration), with the Galerkin matrix ``C = W^T A Z`` (W the block traces): a tridiagonal
  birth-death problem for the populations of the j sectors, solved exactly. This is the
  aggregation / disaggregation of Markov-chain solvers (Koury, McAllister & Stewart 1984): block
  Jacobi alone leaves the slow exchange of weight between the j sectors (rates ~ gamma_s) to
  GMRES, which then needs about as many iterations as there are blocks.

The preconditioner is applied as coarse - fine - coarse. Measured (N = 100, gamma_s = 1..4):
block Jacobi as the fine level needs 48-108 GMRES iterations, one forward block Gauss-Seidel
sweep 33-49, a symmetric sweep (forward then backward over j, the fine level used) 18-26; more
coarse vectors per block did not help. Products with L are scipy CSR products (one thread, as fast
as the threaded matrix-free kernel on a loaded 2-core machine and much faster than it there) and
dot products run with one BLAS thread (threadpoolctl): the results do not depend on thread
counts.
"""
from __future__ import annotations

import time as _time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from . import generator as ops
from piqs_squeeze.runtime import threads
from piqs_squeeze.model import Model
from piqs_squeeze.runtime.resources import check_memory

__all__ = ["BlockTridiagonalSolver", "gmres"]


def gmres(matvec, precond, b, x0=None, *, tol=1e-12, restart=40, maxiter=2000, callback=None):
    """Restarted, right-preconditioned GMRES for ``matvec(x) = b``.

    Real or complex (``b`` complex: complex Givens rotations and Hermitian inner products; the
    real path is unchanged). Minimises ||b - A M^{-1} q|| over the Krylov space of ``A M^{-1}`` and returns
    ``x = x0 + M^{-1} q``; stops when the true residual ||b - A x|| <= tol ||b|| (checked at every
    restart and at the end). Classical Gram-Schmidt applied twice (CGS2: as stable as modified
    Gram-Schmidt, with matrix-vector BLAS calls).

    Returns
    -------
    x, info: dict with ``iterations`` (inner steps), ``restarts``, ``residual`` (the true relative
    residual ||b - A x|| / ||b||) and ``converged``.
    """
    n = b.size
    cplx = np.iscomplexobj(b)
    dt = complex if cplx else float
    bnorm = float(np.linalg.norm(b)) or 1.0
    x = np.zeros(n, dt) if x0 is None else np.array(x0, dtype=dt)
    r = b - matvec(x) if x0 is not None else b.copy()
    total = 0
    restarts = 0
    beta = float(np.linalg.norm(r))
    stalled = 0
    while beta > tol * bnorm and total < maxiter and stalled < 2:
        m = min(restart, maxiter - total)
        V = np.empty((m + 1, n), dt)
        H = np.zeros((m + 1, m), dt)
        V[0] = r / beta
        g = np.zeros(m + 1, dt)
        g[0] = beta
        cs, sn = np.zeros(m), np.zeros(m, dt)
        k = 0
        for k in range(m):
            w = matvec(precond(V[k]))
            if cplx:  # V^H w as conj(V conj(w)): conjugates one vector, not the basis
                h = (V[:k + 1] @ w.conj()).conj()
                w -= h @ V[:k + 1]
                h2 = (V[:k + 1] @ w.conj()).conj()
            else:
                h = V[:k + 1] @ w
                w -= h @ V[:k + 1]
                h2 = V[:k + 1] @ w
            w -= h2 @ V[:k + 1]
            h += h2
            hn = float(np.linalg.norm(w))
            H[:k + 1, k] = h
            H[k + 1, k] = hn
            if cplx:
                # complex Givens rotations G = [[c, s], [-conj(s), c]], c real: G (a, b) = (|a| a/|a| den, 0)
                for i in range(k):
                    t = cs[i] * H[i, k] + sn[i] * H[i + 1, k]
                    H[i + 1, k] = -np.conj(sn[i]) * H[i, k] + cs[i] * H[i + 1, k]
                    H[i, k] = t
                a_, b_ = H[k, k], H[k + 1, k]
                den = float(np.hypot(abs(a_), abs(b_)))
                if den == 0:
                    cs[k], sn[k] = 1.0, 0.0
                elif a_ == 0:
                    cs[k], sn[k] = 0.0, 1.0
                else:
                    cs[k], sn[k] = abs(a_) / den, (a_ / abs(a_)) * np.conj(b_) / den
                H[k, k] = cs[k] * a_ + sn[k] * b_
                H[k + 1, k] = 0.0
                g[k + 1] = -np.conj(sn[k]) * g[k]
                g[k] = cs[k] * g[k]
            else:
                for i in range(k):  # apply the previous Givens rotations
                    t = cs[i] * H[i, k] + sn[i] * H[i + 1, k]
                    H[i + 1, k] = -sn[i] * H[i, k] + cs[i] * H[i + 1, k]
                    H[i, k] = t
                den = np.hypot(H[k, k], H[k + 1, k])
                cs[k], sn[k] = (1.0, 0.0) if den == 0 else (H[k, k] / den, H[k + 1, k] / den)
                H[k, k] = den
                H[k + 1, k] = 0.0
                g[k + 1] = -sn[k] * g[k]
                g[k] = cs[k] * g[k]
            total += 1
            if callback is not None:
                callback(abs(g[k + 1]) / bnorm)
            if abs(g[k + 1]) <= 0.5 * tol * bnorm or hn == 0.0:
                break
            V[k + 1] = w / hn
        kk = k + 1
        y = np.linalg.solve(np.triu(H[:kk, :kk]), g[:kk]) if kk else np.zeros(0)
        x += precond(y @ V[:kk])
        del V
        r = b - matvec(x)
        beta_old, beta = beta, float(np.linalg.norm(r))
        restarts += 1
        # rounding floor: when x is large (a nearly singular A) the attainable ||b - A x|| is
        # ~eps ||A|| ||x||, possibly above tol ||b||; two cycles that gain less than 2x stop it
        stalled = stalled + 1 if beta > 0.5 * beta_old else 0
    return x, {"iterations": total, "restarts": restarts, "residual": beta / bnorm,
               "converged": beta <= tol * bnorm, "stalled": stalled >= 2,
               "attained": beta <= max(tol, 1e3 * tol) * bnorm}


class BlockTridiagonalSolver:
    """Solves ``(L - sigma I + u w^T) x = b`` for the packed generator L of a model with local rates.

    See the module docstring for the method. ``sigma`` is a real shift (the rank-one part
    ``u w^T`` is used only for sigma = 0, where L itself is singular).

    Parameters
    ----------
    model : Model
        A model with at least one local rate, or a collective model with ``block`` given (the
        index of one j sector, 0 for j = N/2: collective models do not couple the sectors).
    sigma : float or complex
        Shift (complex: complex LUs, coarse space and GMRES).
    tol : float
        Relative residual of every solve.
    restart : int
        GMRES restart length (memory: ``restart + 1`` vectors of the packed size).
    maxiter : int
        Most GMRES iterations per solve.
    coarse_vectors : int
        Coarse vectors per block (1: the slowest mode; more did not help, module docstring).
    smoother : {"sym", "forward", "jacobi"}
        Fine level: symmetric or forward block Gauss-Seidel over j, or block Jacobi.
    block : int or None
        For a collective model: the index of the one j block to work on (0 = j = N/2).
    rank_one : bool or None
        Add ``u w^T`` (None: only for sigma = 0). With it, a traceless right side gives the
        traceless solution of ``(L - sigma) x = b`` even at sigma = 0 (w^T x = w^T b / (s - sigma)).
    """

    def __init__(self, model: Model, sigma: float = 0.0, *, tol: float = 1e-12, restart: int = 60,
                 maxiter: int = 2000, coarse_vectors: int = 1, smoother: str = "sym", block: int | None = None,
                 rank_one: bool | None = None, L=None):
        if not isinstance(model, Model):
            raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
        if smoother not in ("sym", "forward", "jacobi"):
            raise ValueError(f"smoother must be 'sym', 'forward' or 'jacobi', got {smoother!r}")
        if isinstance(coarse_vectors, bool) or not isinstance(coarse_vectors, (int, np.integer)) or coarse_vectors < 1:
            raise ValueError(f"coarse_vectors must be an integer >= 1, got {coarse_vectors!r}")
        self.smoother = smoother
        t0 = _time.perf_counter()
        if block is None and model.is_collective:
            raise ValueError("model has no local rate: its j blocks do not couple; pass block= (one j sector)")
        if block is not None and not model.is_collective:
            raise ValueError("block=: a single j sector only for collective models (local rates couple them)")
        self.model = model
        self.sigma = complex(sigma) if np.iscomplexobj(sigma) and complex(sigma).imag != 0 else float(np.real(sigma))
        self.dtype = np.dtype(complex if isinstance(self.sigma, complex) else float)
        self.tol = float(tol)
        self.restart = int(restart)
        self.maxiter = int(maxiter)
        self.layout = lay = ops.Layout(model.N) if block is None else ops.Layout(model.N, blocks=[int(block)])
        self.n = lay.n
        # CSR: diagonal blocks, |L| |x| and checks (``L``: the same matrix, already built)
        self.L = ops.generator_packed(model, lay) if L is None else L
        self.slices = [slice(int(lay.offsets[b]), int(lay.offsets[b + 1])) for b in range(lay.nblocks)]
        self.trace_index = ops.band_index(lay)[0]
        self.w = np.zeros(self.n)
        self.w[self.trace_index] = 1.0
        nb = lay.nblocks
        # rate scale: the largest diagonal entry of L (the fastest decay)
        self.scale = float(np.abs(self.L.diagonal()).max()) or 1.0
        self.lus = []
        self.block_shift = np.zeros(nb)
        for b, sl in enumerate(self.slices):
            Ab = (self.L[sl, sl] - self.sigma * sp.identity(sl.stop - sl.start)).tocsc()
            try:
                lu = spl.splu(Ab, permc_spec="COLAMD")
                ok = np.all(np.isfinite(lu.U.diagonal())) and np.abs(lu.U.diagonal()).min() > 1e-14 * self.scale
            except RuntimeError:
                ok = False
            if not ok:  # an exactly singular block (a block with its own steady state): shift it a little
                eps = 1e-8 * self.scale
                self.block_shift[b] = eps
                lu = spl.splu((Ab - eps * sp.identity(Ab.shape[0])).tocsc(), permc_spec="COLAMD")
            self.lus.append(lu)
        self.fill = int(sum(lu.L.nnz + lu.U.nnz for lu in self.lus))
        # coarse space: per block, q right vectors Z_b (inverse iteration from the identity: the
        # slowest modes of L_jj) and q left vectors W_b (the trace and inverse iteration with L_jj^T)
        q = self.q = int(coarse_vectors)
        self.Zb, self.Wb = [], []
        for b, sl in enumerate(self.slices):
            wb = self.w[sl]
            R, Lv = [], [wb / np.linalg.norm(wb)]
            v = wb.copy()
            for i in range(q + 1):
                v = self.lus[b].solve(v.astype(self.dtype))
                v /= np.linalg.norm(v) or 1.0
                if i >= 1:
                    R.append(v)
            v = wb.copy()
            for i in range(q - 1):
                v = self.lus[b].solve(v.astype(self.dtype), trans="T")
                v /= np.linalg.norm(v) or 1.0
                Lv.append(v)
            Zq = np.linalg.qr(np.array(R).T)[0] if q > 1 else np.array(R).T
            Wq = np.linalg.qr(np.array(Lv).T)[0] if q > 1 else np.array(Lv).T
            nk = min(q, sl.stop - sl.start)
            self.Zb.append(np.ascontiguousarray(Zq[:, :nk]))
            self.Wb.append(np.ascontiguousarray(Wq[:, :nk]))
        self.cstart = np.concatenate([[0], np.cumsum([Z.shape[1] for Z in self.Zb])]).astype(int)
        nc = int(self.cstart[-1])
        # rank-one part: u = s z_0 / tr z_0 (the top block's slowest mode), w^T u = s
        self.rank_one = (self.sigma == 0.0) if rank_one is None else bool(rank_one)
        self.s = self.scale
        self.u = np.zeros(self.n, self.dtype)
        if self.rank_one:
            z0 = self.Zb[0][:, 0]
            self.u[self.slices[0]] = self.s * z0 / (self.w[self.slices[0]] @ z0)
        # Petrov-Galerkin coarse matrix C = W^T A Z (block tridiagonal plus the rank-one part), from
        # 3 q products with L (blocks of one colour b mod 3 do not share a neighbour)
        C = np.zeros((nc, nc), self.dtype)
        with threads.single_blas():
            for colour in range(3):
                for i in range(q):
                    zc = np.zeros(self.n, self.dtype)
                    cols = {}
                    for b in range(colour, nb, 3):
                        if i < self.Zb[b].shape[1]:
                            zc[self.slices[b]] = self.Zb[b][:, i]
                            cols[b] = self.cstart[b] + i
                    y = self.L @ zc - self.sigma * zc
                    for a in range(nb):
                        ya = self.Wb[a].T @ y[self.slices[a]]
                        for b in (a - 1, a, a + 1):
                            if b in cols:
                                C[self.cstart[a]:self.cstart[a + 1], cols[b]] += ya
            if self.rank_one:
                wu = np.concatenate([W.T @ self.u[sl] for W, sl in zip(self.Wb, self.slices)])
                wz = np.concatenate([self.w[sl] @ Z for Z, sl in zip(self.Zb, self.slices)])
                C += np.outer(wu, wz)
        self.C = C
        self.C_inv = np.linalg.inv(C)
        # off-diagonal blocks by block row (L_{b,b-1}, L_{b,b+1}) for the Gauss-Seidel sweeps
        Lc = self.L.tocoo()
        bid = np.repeat(np.arange(nb), np.diff(lay.offsets))
        keep = bid[Lc.row] != bid[Lc.col]
        off = sp.csr_matrix((Lc.data[keep], (Lc.row[keep], Lc.col[keep])), shape=Lc.shape)
        del Lc
        self._off = []
        for b, sl in enumerate(self.slices):
            lo = self.slices[max(b - 1, 0)].start
            hi = self.slices[min(b + 1, nb - 1)].stop
            self._off.append((lo, hi, off[sl, lo:hi]))
        del off
        self.setup_time = _time.perf_counter() - t0
        self.solves = 0
        self.iterations = 0
        self.products = 0

    # ------------------------------------------------------------------ operators
    def _apply(self, x):
        """A x = L x - sigma x + u (w^T x)."""
        self.products += 1
        y = self.L @ x
        if self.sigma != 0.0:
            y -= self.sigma * x
        if self.rank_one:
            y += self.u * x[self.trace_index].sum()
        return y

    def _block_solve(self, r):
        y = np.empty_like(r)
        for lu, sl in zip(self.lus, self.slices):
            y[sl] = lu.solve(r[sl])
        return y

    def _coarse(self, r):
        """Z C^{-1} W^T r."""
        t = np.concatenate([W.T @ r[sl] for W, sl in zip(self.Wb, self.slices)])
        c = self.C_inv @ t
        y = np.empty_like(r)
        for b, (Z, sl) in enumerate(zip(self.Zb, self.slices)):
            y[sl] = Z @ c[self.cstart[b]:self.cstart[b + 1]]
        return y

    def _gauss_seidel(self, r, sweeps):
        """One block Gauss-Seidel sweep over j ("forward"), or forward then backward ("sym"), for
        (L - sigma) y = r from y = 0, with the exact LU of every diagonal block."""
        y = np.zeros_like(r)
        order = list(range(len(self.slices)))
        if sweeps == "sym":
            order = order + order[-2::-1]  # the last block's solve is not repeated
        for b in order:
            lo, hi, M = self._off[b]
            sl = self.slices[b]
            y[sl] = self.lus[b].solve(r[sl] - M @ y[lo:hi])
        return y

    def precond(self, r):
        """Two-level preconditioner: coarse correction, fine level (block Gauss-Seidel or Jacobi),
        coarse correction."""
        y = self._coarse(r)
        if self.smoother == "jacobi":
            y += self._block_solve(r - self._apply(y))
        else:
            y += self._gauss_seidel(r - self._apply(y), self.smoother)
        y += self._coarse(r - self._apply(y))
        return y

    # ------------------------------------------------------------------ solves
    def solve(self, b, x0=None):
        """x with (L - sigma + u w^T) x = b to relative residual ``tol``; info in ``last_info``.
        A complex ``b`` with a real solver: its real and imaginary parts are solved apart."""
        if np.iscomplexobj(b) and self.dtype == float:
            xr, xi = self.solve(np.real(b)), self.solve(np.imag(b))
            return xr + 1j * xi
        with threads.single_blas():
            x, info = gmres(self._apply, self.precond, np.asarray(b, dtype=self.dtype), x0, tol=self.tol,
                            restart=self.restart, maxiter=self.maxiter)
        self.solves += 1
        self.iterations += info["iterations"]
        self.last_info = info
        return x


# --------------------------------------------------------------------------- memory
def memory_needed(N: int, restart: int = 60) -> int:
    """Estimated peak bytes of :func:`steady_state` / :func:`liouvillian_spectrum` with local rates.

    ``n = sum_j (2j+1)^2`` packed reals: the CSR generator and its off-diagonal blocks (~200 B per
    packed real), the block LUs (COLAMD fill measured at 119 n (N = 100) and 184 n (N = 200), taken
    as 1.1 n N, 12 B per entry) and the GMRES basis (``restart + 6`` vectors).
    """
    n = float(sum(int(d) ** 2 for d in ops.dicke.block_dims(N)))
    return int(200.0 * n + 12.0 * 1.1 * n * N + 8.0 * (restart + 6) * n)


def _check_memory(N, restart, max_memory, what):
    check_memory(memory_needed(N, restart), max_memory, f"the exact {what}",
                 "use a smaller N, or the collective model's analytic steady state (carmichael)")


def _second_eigenvalue(solver, m=2, tol=1e-4, maxiter=None):
    """Estimate of the eigenvalue of L nearest 0 other than 0, from m steps of Arnoldi with A^{-1}
    (m GMRES solves). Rough: it tends to overestimate |lambda_2| (m = 1, the Rayleigh quotient, by
    6-17x at N = 24-40; m = 2 by up to ~1.5x there, more near a first-order switch).

    Returns (lambda_2 estimate or None, converged). A = L + u w^T has L's eigenvalues with 0
    moved to s > 0, so the largest Ritz value theta of A^{-1} gives lambda_2 ~ 1/theta. When L has
    a second steady state, A is singular: the solves do not converge (or theta is huge).
    """
    # fixed (deterministic) start vector in the coarse space: a random mixture of the blocks' slow
    # modes, the part of the state space where lambda_2 lives (a fully random vector costs ~1.5x
    # more GMRES iterations per solve)
    rng = np.random.default_rng(12345)
    v = np.empty(solver.n)
    for Z, sl in zip(solver.Zb, solver.slices):
        v[sl] = Z @ rng.standard_normal(Z.shape[1])
    V = [v / np.linalg.norm(v)]
    H = np.zeros((m + 1, m))
    old = (solver.tol, solver.maxiter)
    solver.tol = tol
    if maxiter is not None:
        solver.maxiter = int(maxiter)
    try:
        for k in range(m):
            w = solver.solve(V[k])
            if not solver.last_info["attained"]:
                return None, False
            for _ in range(2):
                h = np.array([vi @ w for vi in V])
                w = w - sum(hi * vi for hi, vi in zip(h, V))
                H[:k + 1, k] += h
            H[k + 1, k] = np.linalg.norm(w)
            if H[k + 1, k] == 0:
                m = k + 1
                break
            V.append(w / H[k + 1, k])
    finally:
        solver.tol, solver.maxiter = old
    theta = np.linalg.eigvals(H[:m, :m])
    theta = theta[np.abs(theta) > 0]
    lam = 1.0 / theta
    lam = lam[np.abs(lam - solver.s) > 1e-6 * solver.s] if solver.rank_one else lam
    if lam.size == 0:
        return None, True
    return complex(lam[np.argmin(np.abs(lam))]), True


# --------------------------------------------------------------------------- steady state
def steady_state(model: Model, *, tol: float = 1e-12, check_unique: bool = True, return_state: bool = False,
                 restart: int = 60, max_memory=None):
    """Steady state L rho = 0, sum_j tr rho_j = 1, of a model with local processes (all j blocks).

    Solves ``(L + u w^T) x = u`` (module docstring): its solution is the steady state when that is
    unique, with w^T x = tr rho = 1. Restarted GMRES with the two-level (coarse / symmetric block
    Gauss-Seidel with the exact LU of every block / coarse) preconditioner, to a relative residual
    ``tol`` of the modified system.

    Parameters
    ----------
    model : Model
        With at least one local rate (gamma_s, dephasing, pumping); collective models are solved
        in their j = N/2 sector by :func:`piqs_squeeze.methods.exact.solver.steady_state`.
    tol : float in (0, 1e-3]
        GMRES tolerance: ||u - A x|| <= tol ||u||.
    check_unique : bool
        Two shift-invert Arnoldi steps with A^{-1} (two more GMRES solves, tolerance 1e-4, from a
        fixed random mixture of the blocks' slow modes; ~10-30 iterations each). A second steady
        state makes A singular: the solves then stall without converging, or give |lambda_2| <= 1e-13
        max|L_ii|; either raises ValueError ("not unique"). The same happens when lambda_2 is
        below what double precision resolves (~1e-12 max|L_ii|: e.g. two metastable states at a
        first-order switch, N = 200 with gamma_s > 0 below Upsilon'_c), where the steady state is
        not determined numerically either. The Ritz value is kept as ``extras["lambda2_estimate"]``:
        a rough estimate that tends to overestimate |lambda_2| (so ``error_estimate`` errs low);
        use :func:`liouvillian_spectrum` for the gap.
    return_state : bool
        Keep the blocks as ``extras["final_state"]`` (see :func:`piqs_squeeze.methods.exact.solver.final_blocks`).
    restart : int
        GMRES restart length (memory ``restart + 1`` vectors).
    max_memory : bytes or None

    Returns
    -------
    Result with the single time inf and extras ``residual`` (max |L rho|, rates x weights),
    ``residual_rel`` = ||L rho||_2 / || |L| |rho| ||_2 (how well the terms of L rho = 0 cancel),
    ``unique``, ``lambda2_estimate``, ``error_estimate`` (= residual_rel max|L_ii| / |lambda_2|,
    a pessimistic bound on the relative error of rho; nan without the uniqueness check; a
    RuntimeWarning above 1e-6), ``j_populations``; stats ``iterations``, ``steady_iterations``,
    ``products``, ``lu_fill``, ``packed_size``, ``wall_time``, ``setup_time``.
    """
    from .solver import _Recorder

    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    if model.is_collective:
        raise ValueError("model has no local rate: use piqs_squeeze.methods.exact.solver.steady_state (j = N/2 sector)")
    if not (isinstance(tol, (int, float)) and 0 < tol <= 1e-3):
        raise ValueError(f"tol must be in (0, 1e-3], got {tol!r}")
    if not (isinstance(restart, (int, np.integer)) and 2 <= restart <= 500):
        raise ValueError(f"restart must be an integer in [2, 500], got {restart!r}")
    _check_memory(model.N, restart, max_memory, "steady state")
    t0 = _time.perf_counter()
    S = BlockTridiagonalSolver(model, 0.0, tol=tol, restart=restart)
    with np.errstate(all="ignore"):
        x = S.solve(S.u)
    info = dict(S.last_info)
    x /= float(x[S.trace_index].sum())
    lam2, unique = None, info["attained"] and bool(np.all(np.isfinite(x)))
    if check_unique and unique:
        with np.errstate(all="ignore"):
            lam2, ok = _second_eigenvalue(S, maxiter=max(200, 10 * info["iterations"]))
        unique = ok and (lam2 is None or abs(lam2) > 1e-13 * S.scale)
    if check_unique and not unique:
        why = (f"the estimated second eigenvalue {lam2:.3g} of L is 0 to 1e-13 of the largest rate {S.scale:.3g}"
               if lam2 is not None else "L + u w^T is singular to double precision (the solve with it does not "
               "converge): a second steady state, or lambda_2 below ~1e-12 of the largest rate (metastable states)")
        raise ValueError(f"the steady state of {model} is not unique: {why}")
    with threads.single_blas():
        r = S.L @ x
        absr = abs(S.L) @ np.abs(x)
        res_rel = float(np.linalg.norm(r) / (np.linalg.norm(absr) or 1.0))
    if not (info["attained"] or res_rel <= 1e-9):
        raise RuntimeError(f"GMRES did not converge for {model}: relative residual {info['residual']:.3g} "
                           f"after {info['iterations']} iterations (||L rho|| / || |L| |rho| || = {res_rel:.3g})")
    # a-posteriori bound: ||dx|| / ||x|| <~ cond(A) ||r|| / ||u||, cond(A) ~ max|L_ii| / |lambda_2|;
    # near a first-order switch (two metastable states, lambda_2 exponentially small in N) the
    # weights of the two are then not resolved in double precision
    err = float(res_rel * S.scale / abs(lam2)) if lam2 else np.nan
    if np.isfinite(err) and err > 1e-6:
        import warnings

        warnings.warn(f"steady state of {model} is ill-conditioned: lambda_2 ~ {abs(lam2):.2g} against rates up to "
                      f"{S.scale:.3g}; relative error up to ~{err:.1g} (extras['error_estimate'])", RuntimeWarning,
                      stacklevel=2)
    rec = _Recorder(S.layout, 1)
    rec(0, np.inf, x)
    mean, second, pops = rec.moments()
    extras = {"j_populations": pops, "j_values": S.layout.j.copy(), "residual": float(np.abs(r).max()),
              "residual_rel": res_rel, "unique": bool(unique) if check_unique else None,
              "lambda2_estimate": lam2 if lam2 is not None else np.nan, "error_estimate": err}
    stats = {"wall_time": _time.perf_counter() - t0, "setup_time": S.setup_time, "iterations": int(S.iterations),
             "steady_iterations": int(info["iterations"]), "products": int(S.products), "lu_fill": S.fill,
             "packed_size": S.n}
    if return_state:
        extras["final_state"] = ops.unpack(S.layout, x)
        extras["final_state_blocks"] = S.layout.nblocks
    from piqs_squeeze.result import Result

    return Result([np.inf], mean, second, model, "exact", options={"solver": "gmres", "tol": tol,
                                                                   "check_unique": check_unique,
                                                                   "restart": restart}, extras=extras, stats=stats)


# --------------------------------------------------------------------------- spectrum
class Spectrum:
    """Eigenvalues of the generator on the permutation-symmetric sector (see :func:`liouvillian_spectrum`).

    Attributes
    ----------
    eigenvalues : complex ndarray (k,)
        Largest real part first (ties: larger imaginary part first); the first is 0.
    model : Model
    info : dict
        ``method``, ``blocks``, ``sigma``, ``solves``, ``iterations``, ``wall_time``.
    """

    def __init__(self, eigenvalues, model, info):
        self.eigenvalues = np.asarray(eigenvalues, dtype=complex)
        self.model = model
        self.info = dict(info)

    @property
    def gap(self) -> float:
        """Liouvillian gap: -Re of the rightmost non-zero eigenvalue (the slowest relaxation rate;
        nan when all returned eigenvalues are 0)."""
        lam = self.eigenvalues
        scale = max(float(np.abs(lam).max()) if lam.size else 0.0, 1.0)
        nz = lam[np.abs(lam) > 1e-10 * scale]
        return float(-nz[0].real) if nz.size else float("nan")

    def __repr__(self):
        return f"Spectrum({self.model}, eigenvalues={np.array2string(self.eigenvalues, precision=5)})"


def _order(lam):
    lam = np.asarray(lam, dtype=complex)
    return lam[np.lexsort((-lam.imag, -np.round(lam.real, 12)))]


def _block_spectrum(model, k, sigma, tol, method, block, restart):
    """k eigenvalues of the generator on one layout (all blocks, or one j block of a collective model)
    nearest sigma (the steady-state eigenvalue 0 included), unordered; and the solver stats."""
    import scipy.sparse.linalg as spl_

    S = BlockTridiagonalSolver(model, sigma, tol=tol, restart=restart, block=block)
    if method == "dense":
        lam = np.linalg.eigvals(S.L.toarray())
        lam = lam[np.argsort(np.abs(lam - sigma))][:k]
        return lam, S
    kk = min(k, S.n - 2)
    if kk < 1:
        return np.linalg.eigvals(S.L.toarray()), S
    with threads.single_blas():
        op = spl_.LinearOperator((S.n, S.n), matvec=S.solve, dtype=S.dtype)
        v0 = np.random.default_rng(2024).standard_normal(S.n)  # fixed: deterministic
        if S.dtype == complex:
            v0 = v0 + 1j * np.random.default_rng(2025).standard_normal(S.n)
        mu = spl_.eigs(op, k=kk, which="LM", v0=v0, tol=max(tol * 10, 1e-14), return_eigenvectors=False,
                       ncv=min(S.n, max(2 * kk + 2, 10)))
    lam = sigma + 1.0 / mu
    if S.rank_one:  # the eigenvalue 0 of L is s in A: put it back (0 is exact: L preserves the trace)
        far = np.abs(lam - S.s) > 1e-6 * S.s
        lam = np.concatenate([[0.0], lam[far]])
    lam = lam[np.argsort(np.abs(lam - sigma), kind="stable")][:k]
    return lam, S


def _shift_invert(L, lay, model, sigma, kk, tol, restart, block):
    """The kk eigenvalues of the packed generator ``L`` nearest the (complex) shift ``sigma`` by
    shift-invert ARPACK, ARPACK tolerance ``tol``; (eigenvalues, solves, GMRES iterations). One
    block, or a layout of at most :data:`DIRECT_MAX` entries: the sparse LU of ``L - sigma``;
    larger ones (local rates): GMRES with :class:`BlockTridiagonalSolver`."""
    import scipy.sparse.linalg as spl_

    n = L.shape[0]
    cplx = np.iscomplexobj(sigma) and complex(sigma).imag != 0
    dt = complex if cplx else float
    count = [0]
    direct = lay.nblocks == 1 or n <= DIRECT_MAX
    if direct:
        lu = spl_.splu((L - sigma * sp.identity(n, format="csc")).tocsc().astype(dt), permc_spec="COLAMD")

        def solve(x):
            count[0] += 1
            return lu.solve(np.asarray(x, dt))
        its = None
    else:
        S = BlockTridiagonalSolver(model, sigma, tol=1e-12, restart=restart, block=block, rank_one=False, L=L)
        solve = S.solve
    v0 = np.random.default_rng(2024).standard_normal(n)  # fixed: deterministic
    if cplx:
        v0 = v0 + 1j * np.random.default_rng(2025).standard_normal(n)
    with threads.single_blas():
        op = spl_.LinearOperator((n, n), matvec=solve, dtype=dt)
        mu = spl_.eigs(op, k=min(kk, n - 2), which="LM", v0=v0, tol=tol, return_eigenvectors=False,
                       ncv=min(n, max(2 * kk + 2, 20)))
    if direct:
        solves, its = count[0], count[0]
    else:
        solves, its = S.solves, S.iterations
    return sigma + 1.0 / mu, solves, its


#: layouts with local rates up to this size are shift-inverted by a sparse LU of the whole L - sigma
#: (its fill grows like n^(4/3); beyond, block-preconditioned GMRES)
DIRECT_MAX = 15000
#: layouts up to this size get the rightmost eigenvalues from dense eigenvalues (benchmarks/results/correlations.md)
DENSE_RIGHTMOST = 1000
#: most shifts of the imaginary-axis scan before it gives up (RuntimeError)
MAX_SHIFTS = 400


def imaginary_bound(L, layout=None) -> float:
    """Upper bound W >= max |Im lambda| over the spectrum of the real matrix ``L``.

    Every eigenvalue lies in the numerical range {x^H L x : |x| = 1}, so |Im lambda| <= ||(L - L^T)/2||_2.
    The norm is taken in two bases (the packed coordinates, and the packed coordinates with the
    off-diagonal entries scaled by sqrt 2, i.e. the Hilbert-Schmidt norm of the blocks): both bound
    the spectrum, the smaller is returned. Lanczos (eigsh of S^T S) approaches ||S||^2 from below,
    so a margin of 1% plus 1e-6 of the largest rate is added.
    """
    import scipy.sparse.linalg as spl_

    L = sp.csr_matrix(L)
    n = L.shape[0]
    best = np.inf
    scales = [np.ones(n)]
    if layout is not None:
        src, tr, _ = layout.pack_index()
        scales.append(np.where(src == tr, 1.0, np.sqrt(2.0)))
    for D in scales:
        Sk = (sp.diags(D) @ L @ sp.diags(1.0 / D))
        Sk = ((Sk - Sk.T) * 0.5).tocsr()
        if Sk.nnz == 0:
            return 0.0
        if n <= 400:
            val = float(np.linalg.norm(Sk.toarray(), 2))
        else:
            op = spl_.LinearOperator((n, n), matvec=lambda x, Sk=Sk: Sk.T @ (Sk @ x), dtype=float)
            v0 = np.random.default_rng(7).standard_normal(n)
            val = float(np.sqrt(abs(spl_.eigsh(op, k=1, which="LA", v0=v0, tol=1e-8,
                                               return_eigenvectors=False)[0])))
        best = min(best, val)
    scale = float(np.abs(L.diagonal()).max()) if n else 0.0
    return 1.01 * best + 1e-6 * scale


def _rightmost_block(model, k, tol, block, restart, dense_max=DENSE_RIGHTMOST, per_shift=None):
    """The k rightmost eigenvalues of the generator on one layout; (eigenvalues, info).

    Dense eigenvalues for a layout of at most ``dense_max`` entries; otherwise the scan of
    :func:`liouvillian_spectrum` (module docstring there): shift-invert Arnoldi at sigma = 0 and at
    shifts i omega up the imaginary axis until the disks of the nearest eigenvalues cover the
    rectangle Re in [Re lambda_k, 0], |Im| <= W (:func:`imaginary_bound`).
    """
    lay = ops.Layout(model.N) if block is None else ops.Layout(model.N, blocks=[int(block)])
    info = {"shifts": [], "solves": 0, "iterations": 0}
    if lay.n <= dense_max:
        L = ops.generator_packed(model, lay).toarray()
        lam = np.linalg.eigvals(L)
        lam[np.argmin(np.abs(lam))] = 0.0  # exact: L preserves the trace
        info["eigensolver"] = "dense"
        return _take_rightmost(lam, k), info
    info["eigensolver"] = "scan"
    kk = int(per_shift or max(k + 6, 12))
    L = ops.generator_packed(model, lay)
    scale = float(np.abs(L.diagonal()).max()) or 1.0
    # sigma = 0 is singular: a small real shift to the right (the eigenvalue 0 is put back exactly)
    eps = 1e-6 * scale
    lam0, ns, ni = _shift_invert(L, lay, model, eps, kk, max(tol * 10, 1e-14), restart, block)
    lam0[np.argmin(np.abs(lam0))] = 0.0
    info["solves"] += ns
    info["iterations"] += ni
    W = imaginary_bound(L, lay)
    info["imag_bound"] = W
    tiny = 1e-9 * max(scale, 1.0)
    shifts = [(0.0, float(np.abs(lam0 - eps).max()) - eps, lam0)]  # (omega, radius, eigenvalues)

    def upper(lam):
        return lam[lam.imag >= -tiny]

    def collect():
        """Upper-half-plane eigenvalues, each from the nearest shift whose disk holds it."""
        centers = np.array([w for w, _, _ in shifts])
        radii = np.array([r for _, r, _ in shifts])
        out = []
        for i, (w, r, lam) in enumerate(shifts):
            for z in upper(lam):
                d = np.abs(z - 1j * centers)
                inside = d <= radii * (1 + 1e-12)
                inside[i] = True
                if np.argmin(np.where(inside, d, np.inf)) == i:
                    out.append(z)
        out = np.array(out, dtype=complex)
        real = np.abs(out.imag) <= tiny
        out[real] = out[real].real
        return np.concatenate([out, np.conj(out[~real])])

    def covered_to(R):
        """Largest omega such that [0, omega] x [R, 0] lies in the union of the disks."""
        iv = []
        for w, r, _ in shifts:
            h2 = r * r - R * R
            if h2 > 0:
                h = np.sqrt(h2) * (1 - 1e-9)
                iv.append((w - h, w + h))
        iv.sort()
        top = 0.0
        for lo, hi in iv:
            if lo > top:
                break
            top = max(top, hi)
        return top, iv

    step = None
    while True:
        lam = collect()
        R = min(float(_take_rightmost(lam, k)[-1].real), 0.0)
        top, iv = covered_to(R)
        if top >= W:
            break
        if len(shifts) > MAX_SHIFTS:
            raise RuntimeError(f"the rightmost-eigenvalue scan of {model} did not cover |Im| <= {W:.3g} with "
                               f"{len(shifts)} shifts (covered to {top:.3g})")
        if step is None:
            step = max(np.sqrt(max(shifts[0][1] ** 2 - R * R, 0.0)), 1e-6 * max(W, 1.0))
        omega = min(top + 0.9 * step, W)
        # first loosely (the radius is what counts there, taken 0.1% smaller); again to ARPACK
        # tolerance ~tol when an eigenvalue comes near the rightmost k (a candidate)
        lamw, ns, ni = _shift_invert(L, lay, model, 1j * omega, kk, 1e-6, restart, block)
        info["solves"] += ns
        info["iterations"] += ni
        if np.any(lamw.real >= 1.5 * R - 1.0):
            lamw, ns, ni = _shift_invert(L, lay, model, 1j * omega, kk, max(tol * 10, 1e-14), restart, block)
            info["solves"] += ns
            info["iterations"] += ni
            r = float(np.abs(lamw - 1j * omega).max())
        else:
            r = 0.999 * float(np.abs(lamw - 1j * omega).max())
        shifts.append((omega, r, lamw))
        h = np.sqrt(max(r * r - R * R, 0.0))
        if h < 1e-3 * max(abs(R), 1.0) and kk < lay.n - 2:
            kk = min(2 * kk, lay.n - 2)  # disks too small to span the strip: more eigenvalues per shift
        step = max(h, 1e-6 * max(W, 1.0))
    info["shifts"] = [w for w, _, _ in shifts]
    info["covered_real_part"] = R
    return _take_rightmost(collect(), k), info


def _take_rightmost(lam, k):
    """The k eigenvalues of largest real part, ordered by :func:`_order` (conjugate pairs adjacent,
    positive imaginary part first; a pair is split only by the k-th place)."""
    lam = np.asarray(lam, dtype=complex)
    o = _order(lam)
    return o[:k]


def liouvillian_spectrum(model: Model, k: int = 6, *, sigma: float | None = None, blocks="auto",
                         tol: float = 1e-12, method: str = "arnoldi", restart: int = 60, max_memory=None) -> Spectrum:
    """The k rightmost eigenvalues (largest real part) of the master-equation generator restricted
    to permutation-symmetric operators.

    Which spectrum this is: the generator ``L rho = -i[H, rho] + sum D[.] rho`` of
    :class:`~piqs_squeeze.model.Model` maps permutation-invariant operators
    ``rho = sum_j rho_j (x) 1_{d_j} / d_j`` to permutation-invariant ones, and acts on them as the
    block generator of :mod:`piqs_squeeze.methods.exact.generator` on the blocks rho_j (any complex (2j+1) x
    (2j+1) matrices; the packed real form used here has the same complex spectrum because L
    commutes with the adjoint). These sum_j (2j+1)^2 eigenvalues are a *subset* of the 4^N
    eigenvalues of the full Liouvillian (the symmetric-sector restriction): modes that break
    permutation symmetry are not in it. They are the ones a permutation-invariant initial state
    (a coherent spin state, any state of the exact solver) relaxes through.

    Which sectors: with local rates all j blocks (they are coupled). For a collective model
    (no local rate) every j block is invariant and has its own eigenvalue 0; the default
    (``blocks="auto"``) is then the sector of a coherent spin state, j = N/2 (``"top"``);
    ``blocks="all"`` merges the per-j spectra (kept per j in ``info["per_j"]``), an integer the
    block of that index (0: j = N/2, 1: j = N/2 - 1, ...).

    How (``sigma=None``, the default): a layout of at most :data:`DENSE_RIGHTMOST` entries gets
    numpy's dense eigenvalues. A larger one is scanned along the imaginary axis (the spectrum is
    symmetric under conjugation, so Im >= 0 suffices): shift-invert Arnoldi (ARPACK, every
    application a GMRES solve with the block preconditioner of :class:`BlockTridiagonalSolver`,
    complex for complex shifts) at sigma = 0 and at shifts i omega_1 < i omega_2 < ..., each giving
    the ``max(k + 6, 12)`` eigenvalues nearest it, i.e. all eigenvalues in a disk around it. The
    shifts are placed until the disks cover the rectangle ``Re lambda_k <= Re z <= 0``,
    ``0 <= Im z <= W``, where lambda_k is the k-th rightmost eigenvalue found so far and W a bound
    on |Im lambda| over the whole spectrum (the numerical range, :func:`imaginary_bound`). No
    eigenvalue of L has Re > 0, so what is **guaranteed** (up to the convergence of ARPACK to the
    eigenvalues nearest each shift, which raises when it fails) is: no eigenvalue to the right of
    the k-th returned one is missed, however large its frequency. Far from the real axis the
    eigenvalues decay fast, the disks grow with omega, and the shifts spread out geometrically
    (their positions: ``info["shifts"]``). This was chosen over Arnoldi on exp(tL) and the Cayley
    transform by measurement (benchmarks/results/correlations.md, README).

    With ``sigma`` given: the k eigenvalues **nearest sigma** (one shift-invert Arnoldi run), the
    behaviour before the scan existed; ordered the same way.

    The first eigenvalue is exactly 0 (the steady state: L preserves the trace) and
    :attr:`Spectrum.gap` is -Re of the rightmost non-zero one.

    Parameters
    ----------
    model : Model
    k : int >= 1
        Number of eigenvalues.
    sigma : float or None
        None: the k rightmost; a real number: the k nearest it.
    blocks : {"auto", "top", "all"} or int
        See above; "top" and an integer only for collective models.
    tol : float
        Relative residual of every solve (and ~ARPACK's tolerance).
    method : {"arnoldi", "dense"}
        "dense": numpy eigvals of the dense generator (reference; only for small layouts).

    Returns
    -------
    Spectrum with ``eigenvalues`` (complex, length k, largest real part first; conjugate pairs
    adjacent, positive imaginary part first, split only by the k-th place) and ``gap``.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    if sigma is not None and (isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.floating))
                              or not np.isfinite(sigma)):
        raise ValueError(f"sigma must be None or a finite real number, got {sigma!r}")
    nall = len(ops.dicke.j_values(model.N))
    if isinstance(blocks, (int, np.integer)) and not isinstance(blocks, bool):
        if not 0 <= int(blocks) < nall:
            raise ValueError(f"blocks: a block index must be in [0, {nall}), got {blocks!r}")
    elif blocks not in ("auto", "all", "top"):
        raise ValueError(f"blocks must be 'auto', 'all', 'top' or a block index, got {blocks!r}")
    if (blocks == "top" or not isinstance(blocks, str)) and not model.is_collective:
        raise ValueError("blocks='top' or a block index: local rates couple the j sectors; use blocks='all'")
    if method not in ("arnoldi", "dense"):
        raise ValueError(f"method must be 'arnoldi' or 'dense', got {method!r}")
    if not (isinstance(tol, (int, float)) and 0 < tol <= 1e-3):
        raise ValueError(f"tol must be in (0, 1e-3], got {tol!r}")
    if model.is_collective:
        which = [0] if blocks in ("auto", "top") else (list(range(nall)) if blocks == "all" else [int(blocks)])
    else:
        which = [None]
    dims = ops.dicke.block_dims(model.N)
    n = sum(int(d) ** 2 for d in dims) if which == [None] else max(int(dims[b]) ** 2 for b in which)
    if method == "dense" and n > 6000:
        raise ValueError(f"method='dense' is for small N (packed size {n} > 6000)")
    if not model.is_collective:
        _check_memory(model.N, restart, max_memory, "spectrum")
    t0 = _time.perf_counter()
    lams, per_j, solves, its, shifts, solvers = [], {}, 0, 0, {}, set()
    for b in which:
        if sigma is None:
            lam, inf = _rightmost_block(model, int(k), tol, b, restart, dense_max=6000 if method == "dense"
                                        else DENSE_RIGHTMOST)
            solves += inf["solves"]
            its += inf["iterations"]
            solvers.add(inf["eigensolver"])
            if inf["shifts"]:
                shifts[b] = inf["shifts"]
        else:
            lam, S = _block_spectrum(model, int(k), float(sigma), tol, method, b, restart)
            solves += S.solves
            its += S.iterations
            solvers.add(method)
        lams.append(lam)
        if b is not None:
            per_j[float(ops.dicke.j_values(model.N)[b])] = _order(lam)
    lam = np.concatenate(lams)
    if sigma is None:
        lam = _take_rightmost(lam, k)
    else:
        lam = _order(lam[np.argsort(np.abs(lam - sigma), kind="stable")][:k])
    info = {"method": method, "eigensolver": "+".join(sorted(solvers)), "blocks": blocks,
            "sigma": sigma, "solves": solves, "iterations": its, "wall_time": _time.perf_counter() - t0}
    if shifts:
        info["shifts"] = shifts if len(which) > 1 else next(iter(shifts.values()))
    if len(which) > 1:
        info["per_j"] = per_j
    return Spectrum(lam, model, info)
