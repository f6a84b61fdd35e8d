"""Two-time correlations, g2 and the emission spectrum on the Dicke blocks (quantum regression theorem).

Conventions are qutip's (``qutip.correlation_2op_1t``, ``qutip.spectrum``):

    C(tau) = <a(tau) b(0)> = tr[a e^{L tau}(b rho)],
    g2(tau) = <J+(0) [J+J-](tau) J-(0)> / (<J+J->(0) <J+J->(tau))
            = tr[J+J- e^{L tau}(J- rho J+)] / (tr[J+J- rho] tr[J+J- e^{L tau} rho]),
    S(omega) = 2 Re int_0^inf e^{-i omega tau} (<a(tau) b(0)> - <a><b>) dtau
             = -2 Re tr[a (L - i omega)^{-1} Q (b rho_ss)],   Q X = X - rho_ss tr X,

with rho the steady state or an initial state at tau = 0, and collective operators a, b acting
on every block rho_j as their (2j+1)-dimensional matrices (permutation-invariant operators keep
the block structure). ``b rho`` is not Hermitian; since L commutes with the adjoint
(L(X^+) = L(X)^+), its evolution is that of the two Hermitian parts X = H1 + i H2,
H1 = (X + X^+)/2, H2 = (X - X^+)/(2i), each propagated by the exact solver's Krylov stepper on the
packed real blocks. The resolvent of the spectrum acts on the complex-linear extension of the
packed real generator (packed H1 + i packed H2 represents H1 + i H2): one complex GMRES solve per
frequency with the block preconditioner of :class:`~.steady.BlockTridiagonalSolver` (with the
rank-one part u w^T, which makes the solve of a traceless right side the traceless solution, even
at omega = 0).
"""
from __future__ import annotations

import time as _time

import numpy as np

from piqs_squeeze import dicke
from piqs_squeeze.model import Model
from piqs_squeeze.runtime import threads

from . import generator as ops

__all__ = ["operator_blocks", "correlation", "g2", "emission_spectrum", "OPERATOR_NAMES"]

#: single collective operators a name may be made of (products: names separated by spaces)
OPERATOR_NAMES = ("J+", "J-", "Jx", "Jy", "Jz")


def _single(name: str, j: float) -> np.ndarray:
    d = int(round(2 * j + 1))
    m = dicke.m_values(j)
    jp = np.zeros((d, d), complex)
    if d > 1:
        c = dicke.jplus_elements(j)
        jp[np.arange(d - 1), np.arange(1, d)] = c  # <m+1|J+|m>: row k-1, column k
    jm = jp.conj().T
    return {"J+": jp, "J-": jm, "Jx": (jp + jm) / 2, "Jy": (jp - jm) / 2j, "Jz": np.diag(m).astype(complex)}[name]


def operator_blocks(op, N: int) -> list:
    """The blocks (j = N/2, N/2 - 1, ...) of a collective operator.

    ``op`` is a name from :data:`OPERATOR_NAMES`, a product of them separated by spaces
    ("J+ J-"), or a ``qutip.Qobj``: (N+1) x (N+1) for the j = N/2 block (e.g. ``qutip.jmat(N/2, "+")``;
    the other blocks are then None and must carry no weight) or nds x nds in qutip.piqs' Dicke basis
    (block diagonal; e.g. ``qutip.piqs.jspin(N, "+")``).
    """
    js = dicke.j_values(N)
    if isinstance(op, str):
        names = op.split()
        bad = [p for p in names if p not in OPERATOR_NAMES]
        if not names or bad:
            raise ValueError(f"operator {op!r}: expected names from {OPERATOR_NAMES} separated by spaces "
                             f"(e.g. 'J+ J-'), or a qutip.Qobj")
        out = []
        for j in js:
            M = _single(names[0], j)
            for p in names[1:]:
                M = M @ _single(p, j)
            out.append(M)
        return out
    if type(op).__name__ == "Qobj":
        mat = np.asarray(op.full(), complex)
        if mat.shape == (N + 1, N + 1):
            return [mat] + [None] * (len(js) - 1)
        if mat.shape[0] == dicke.num_dicke_states(N) and mat.shape[0] == mat.shape[1]:
            return dicke.blocks_from_piqs(mat, N)
        raise ValueError(f"operator: a Qobj of shape {mat.shape} is neither the j = N/2 block ({N + 1} x {N + 1}) "
                         f"nor qutip.piqs' Dicke basis ({dicke.num_dicke_states(N)} squared) for N = {N}")
    raise TypeError(f"operator must be a name such as 'J+', 'J+ J-' or a qutip.Qobj, got {type(op).__name__}")


def _restrict(op_blocks, layout, what):
    out = []
    for b in layout.block_index:
        M = op_blocks[b]
        if M is None:
            raise ValueError(f"{what}: the Qobj acts on j = N/2 only, but the state occupies j = "
                             f"{dicke.j_values(layout.N)[b]:g}; give it in qutip.piqs' Dicke basis")
        out.append(M)
    return out


def _functional(layout, a_blocks) -> np.ndarray:
    """f with tr(a Y) = f @ y for the packed (or complexified packed) vector y of Y."""
    at = np.concatenate([np.asarray(A).T.ravel() for A in a_blocks])
    P = ops._packed_to_full(layout)
    return np.asarray(P.T @ at)


def _state(model, state, layout_for_steady=True):
    """(layout, blocks of rho) for ``state``: "steady" or what ``evolve`` takes as initial."""
    from .solver import initial_blocks, steady_state

    if isinstance(state, str):
        if state != "steady":
            raise ValueError(f"state must be 'steady' or an initial state as evolve takes it, got {state!r}")
        res = steady_state(model, return_state=True)
        nb = int(res.extras["final_state_blocks"])
        lay = ops.Layout(model.N, nb)
        return lay, ops.full_to_blocks(lay, np.asarray(res.extras["final_state"]))
    blocks = initial_blocks(model, state)
    if model.is_collective:  # the blocks do not couple: only the occupied ones
        occ = [b for b, B in enumerate(blocks) if np.abs(B).max() > 0]
        lay = ops.Layout(model.N, blocks=occ)
        return lay, [blocks[b] for b in occ]
    return ops.Layout(model.N), blocks


def _check_taus(taus):
    taus = np.asarray(taus, dtype=float)
    if taus.ndim != 1 or taus.size == 0 or not np.all(np.isfinite(taus)) or taus[0] < 0 or np.any(np.diff(taus) <= 0):
        raise ValueError("taus must be a non-empty, strictly increasing 1-D array of delays >= 0")
    return taus


def _propagate(model, layout, X_blocks, taus, rtol, krylov_dim):
    """The packed vectors e^{L tau} H at every tau for a Hermitian block operator H; (T, n)."""
    from .kernels import PackedGenerator
    from .steppers import krylov_propagate

    x0 = ops.pack(layout, ops.blocks_to_full(layout, X_blocks))
    grid = taus if taus[0] == 0 else np.concatenate([[0.0], taus])
    out = np.zeros((grid.size, layout.n))

    def rec(i, t, x):
        out[i] = x

    if grid.size == 1:
        out[0] = x0
    else:
        A = PackedGenerator(model, layout)
        with threads.single_blas():
            krylov_propagate(A, x0, grid, rtol=rtol, m=krylov_dim, on_output=rec)
    return out if taus[0] == 0 else out[1:]


def _hermitian_parts(blocks):
    h1 = [(X + X.conj().T) / 2 for X in blocks]
    h2 = [(X - X.conj().T) / 2j for X in blocks]
    return h1, h2


def correlation(model: Model, taus, a="J+", b="J-", state="steady", *, rtol: float = 1e-10,
                krylov_dim: int = 30):
    """<a(tau) b(0)> = tr[a e^{L tau}(b rho)] (qutip.correlation_2op_1t's convention; module docstring).

    Parameters
    ----------
    model : Model (constant coefficients)
    taus : array_like
        Strictly increasing delays >= 0.
    a, b : str or qutip.Qobj
        See :func:`operator_blocks`.
    state : "steady", None (CSS along -x), a CoherentSpinState, blocks or a Dicke-basis Qobj
        rho at tau = 0.
    rtol : float
        Error target of the Krylov stepper relative to the norm of the propagated operator.

    Returns
    -------
    complex ndarray (len(taus),)
    """
    taus = _check_taus(taus)
    ab, bb = operator_blocks(a, model.N), operator_blocks(b, model.N)
    lay, rho = _state(model, state)
    A, B = _restrict(ab, lay, "a"), _restrict(bb, lay, "b")
    X = [Bj @ R for Bj, R in zip(B, rho)]
    f = _functional(lay, A)
    h1, h2 = _hermitian_parts(X)
    y1 = _propagate(model, lay, h1, taus, rtol, krylov_dim)
    y2 = _propagate(model, lay, h2, taus, rtol, krylov_dim)
    return y1 @ f + 1j * (y2 @ f)


def g2(model: Model, taus, state="steady", *, rtol: float = 1e-10, krylov_dim: int = 30):
    """g2(tau) = <J+(0) [J+J-](tau) J-(0)> / (<J+J->(0) <J+J->(tau)) (module docstring): real ndarray."""
    taus = _check_taus(taus)
    lay, rho = _state(model, state)
    jp = _restrict(operator_blocks("J+", model.N), lay, "J+")
    jm = [M.conj().T for M in jp]
    n_op = [P @ M for P, M in zip(jp, jm)]
    f = _functional(lay, n_op)
    num = _propagate(model, lay, [M @ R @ P for M, R, P in zip(jm, rho, jp)], taus, rtol, krylov_dim) @ f
    n0 = float(sum(np.trace(N_ @ R).real for N_, R in zip(n_op, rho)))
    if isinstance(state, str):
        n_tau = np.full(taus.size, n0)
    else:
        n_tau = (_propagate(model, lay, rho, taus, rtol, krylov_dim) @ f).real
    return num.real / (n0 * n_tau)


def emission_spectrum(model: Model, omegas, a="J+", b="J-", *, tol: float = 1e-12, restart: int = 60):
    """S(omega) = -2 Re tr[a (L - i omega)^{-1} Q (b rho_ss)] (qutip.spectrum's convention and
    normalisation, its steady-state part <a><b> removed; module docstring). Real ndarray.

    One complex GMRES solve per frequency, relative residual ``tol``.
    """
    from .steady import BlockTridiagonalSolver

    omegas = np.asarray(omegas, dtype=float)
    if omegas.ndim != 1 or omegas.size == 0 or not np.all(np.isfinite(omegas)):
        raise ValueError("omegas must be a non-empty 1-D array of finite frequencies")
    ab, bb = operator_blocks(a, model.N), operator_blocks(b, model.N)
    lay, rho = _state(model, "steady")
    A, B = _restrict(ab, lay, "a"), _restrict(bb, lay, "b")
    X = [Bj @ R for Bj, R in zip(B, rho)]
    trX = sum(np.trace(Xj) for Xj in X)
    Z = [Xj - trX * R for Xj, R in zip(X, rho)]
    h1, h2 = _hermitian_parts(Z)
    z = ops.pack(lay, ops.blocks_to_full(lay, h1)) + 1j * ops.pack(lay, ops.blocks_to_full(lay, h2))
    f = _functional(lay, A)
    block = 0 if model.is_collective else None
    L = ops.generator_packed(model, lay)
    out = np.empty(omegas.size)
    stats = {"solves": 0, "iterations": 0}
    for i, w in enumerate(omegas):
        S = BlockTridiagonalSolver(model, 1j * w if w != 0 else 0.0, tol=tol, restart=restart, block=block,
                                   rank_one=True, L=L)
        y = S.solve(z.astype(complex))
        if not S.last_info["attained"]:
            raise RuntimeError(f"emission spectrum of {model}: GMRES did not converge at omega = {w:g} "
                               f"(relative residual {S.last_info['residual']:.3g})")
        stats["solves"] += 1
        stats["iterations"] += S.last_info["iterations"]
        out[i] = -2.0 * float(np.real(f @ y))
    return out
