"""One MCWF trajectory inside single total-spin sectors (Zhang, Zhang & Molmer, NJP 20, 112002 (2018)).

Unravelling
-----------
Collective emission is unravelled with the displaced jump operator ``L = sqrt(Gamma) (J- + beta)``
and the compensating Hamiltonian ``(i Gamma / 2)(beta J+ - beta* J-)``; the master equation is
unchanged because ``D[L + b] rho = D[L] rho + [b* L - b L^+, rho] / 2``. The no-jump generator is

    H_eff = H + (i Gamma/2)(beta J+ - beta* J-) - (i/2) sum_k L_k^+ L_k
          = (chi - i Gamma/2) J+J- + (Omega/2) J+ + (Omega/2 - i Gamma beta*) J- - i Gamma |beta|^2 / 2
            - (i/2) [kappa_z Jz^2 + kappa_p J-J+ + gamma_s (Jz + N/2) + pumping (N/2 - Jz) + dephasing N/4],

tridiagonal in |j, m>. The default (``displacement="adaptive"``) follows the state: beta = -<J->_psi,
re-chosen at the start of every propagation step and after every jump, and constant within a step,
so that each step is a valid unravelling of the same master equation (the choice depends only on
the past of the trajectory). The collective jump rate is then Gamma (<J+J-> - |<J->|^2), set by
the fluctuations, O(N), in the superradiant and the normal phase alike. A fixed beta is also
available: ``beta = i Omega / (Gamma + 2 i chi)`` (minus the collective mean-field fixed point of
<J->), 0, or the drive-cancelling i Omega / Gamma; their collective rates grow ~N^2 once the state
moves away from that value (see benchmarks/results/mcwf.md).

Local processes jump with the channels K_dj of :func:`piqs_squeeze.dicke.local_channels`
(sector j -> j + dj, rate ``rate * ||K_dj psi||^2``); collective dephasing and pumping jump with
``sqrt(rate) Jz`` and ``sqrt(rate) J+`` and keep j.

Propagation
-----------
Waiting-time jumps (draw r in U(0, 1); the jump happens when ||psi(t)||^2 = r, monotone in t
because H_eff - H_eff^+ <= 0) with the no-jump equation stepped under a per-step error bound,
restricted to the window of m where psi is non-negligible, in the numba kernel
:mod:`piqs_squeeze.methods.mcwf.kernels`: by default Pade steps of the shifted generator with tridiagonal
solves (:mod:`piqs_squeeze.methods.mcwf.rational`), or Krylov (Arnoldi) steps
(:mod:`piqs_squeeze.methods.mcwf.krylov`). Python only switches sectors and refills random numbers. Small models (N + 1 <= SMALL_DIM) instead propagate exactly
with a cached eigendecomposition of H_eff per sector, with the fixed point displacement (the
per-step cost, not the jump count, matters there).
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from piqs_squeeze import dicke
from .kernels import STATUS_DONE, STATUS_REFILL, STATUS_SECTOR, advance
from .rational import HIGH_ORDER, LOW_ORDER, PAD_MIN, pade_fractions

__all__ = ["default_beta", "resolve_beta", "h_eff_bands", "SectorTables", "sector", "jump_kind_names",
           "run_trajectory", "clear_cache", "PROPAGATORS", "KRYLOV_DIM", "STEP_TOL"]

#: no-jump propagators: Pade steps (default) or Krylov (Arnoldi) steps of dimension KRYLOV_DIM
PROPAGATORS = ("rational", "krylov")
KRYLOV_DIM = 16
#: per-step error bound on ||psi|| (= 1 at the start of a step)
STEP_TOL = 1e-8
_PADE = (*pade_fractions((HIGH_ORDER, LOW_ORDER)), HIGH_ORDER)
#: models with N + 1 <= SMALL_DIM are propagated exactly with cached eigendecompositions of H_eff
#: per sector (Python overhead, not jumps, dominates there), and the state-following displacement
#: is replaced by the fixed point default_beta; larger models use the step kernel in every sector
SMALL_DIM = 64
_NONE_C = np.zeros(1, dtype=complex)
_NONE_CC = np.zeros((1, 1), dtype=complex)

# Local channels in a fixed order: (model rate name, dj); the collective ones come first.
_LOCAL_KINDS = [(p, dj) for p in ("gamma_s", "dephasing", "pumping") for dj in (-1, 0, 1)]
_COLLECTIVE_KINDS = ["gamma", "collective_dephasing", "collective_pumping"]


def jump_kind_names() -> list[str]:
    """Names of the jump kinds; the integer kind of a jump indexes this list."""
    return _COLLECTIVE_KINDS + [f"{p}{dj:+d}" for p, dj in _LOCAL_KINDS]


def default_beta(model) -> complex:
    """beta = i Omega / (Gamma + 2 i chi): minus the collective mean-field fixed point of <J->.

    From d<J->/dt = <Jz [(Gamma + 2 i chi) J- + i Omega]> = 0. Zero when Gamma = 0 (no collective
    emission to displace) or when Gamma = chi = 0.
    """
    if model.gamma == 0:
        return 0j
    return 1j * model.omega / (model.gamma + 2j * model.chi)


def resolve_beta(model, displacement) -> complex:
    """Displacement beta from the ``displacement`` option; None means state-following.

    ``"adaptive"`` (default: None, beta = -<J->_psi per step), ``"fixed_point"``
    (:func:`default_beta`), ``"none"`` (beta = 0), ``"drive"`` (beta = i Omega / Gamma: the
    compensating term cancels Omega Jx exactly), or a number.
    """
    if isinstance(displacement, str):
        if displacement == "adaptive":
            return None
        if displacement == "fixed_point":
            return default_beta(model)
        if displacement == "none":
            return 0j
        if displacement == "drive":
            return 1j * model.omega / model.gamma if model.gamma > 0 else 0j
        raise ValueError(f"displacement must be 'adaptive', 'fixed_point', 'none', 'drive' or a complex number, "
                         f"got {displacement!r}")
    if isinstance(displacement, bool) or not isinstance(displacement, (int, float, complex, np.number)):
        raise TypeError(f"displacement must be a string or a complex number, got {displacement!r}")
    beta = complex(displacement)
    if not np.isfinite(beta):
        raise ValueError(f"displacement must be finite, got {displacement!r}")
    return beta if model.gamma > 0 else 0j


def h_eff_bands(model, j: float, beta: complex):
    """(diag, upper, lower) of H_eff in sector j (see module docstring).

    ``upper[k-1] = <k-1|H_eff|k>`` (the J+ band), ``lower[k-1] = <k|H_eff|k-1>`` (the J- band).
    """
    N = model.N
    m = dicke.m_values(j)
    c = dicke.jplus_elements(j)
    jpjm = j * (j + 1) - m * m + m
    jmjp = j * (j + 1) - m * m - m
    decay = (model.gamma * (jpjm + abs(beta) ** 2) + model.collective_dephasing * m * m
             + model.collective_pumping * jmjp + model.gamma_s * (m + N / 2)
             + model.pumping * (N / 2 - m) + model.dephasing * N / 4)
    diag = model.chi * jpjm - 0.5j * decay
    upper = (0.5 * model.omega) * c + 0j
    lower = (0.5 * model.omega - 1j * model.gamma * np.conj(beta)) * c
    return diag, upper, lower


class SectorTables:
    """Everything the kernel needs about sector j: H_eff bands at beta = 0, J+ elements, m, and the
    local channels as a (9, d) table in the order of ``jump_kind_names()[3:]`` (built by :func:`sector`)."""

    def __init__(self, model, j: float):
        self.j = float(j)
        self.d = d = int(round(2 * j)) + 1
        self.diag0, self.up, self.low0 = (np.ascontiguousarray(x, dtype=complex) for x in h_eff_bands(model, j, 0j))
        self.c = np.ascontiguousarray(dicke.jplus_elements(j), dtype=float)
        self.m = np.ascontiguousarray(dicke.m_values(j), dtype=float)
        self.rates3 = np.array([model.gamma, model.collective_dephasing, model.collective_pumping], float)
        n = len(_LOCAL_KINDS)
        self.amp = np.zeros((n, d))
        self.rate = np.zeros(n)
        self.shift = np.zeros(n, np.int64)
        self.dj = np.zeros(n, np.int64)
        self.dnew = np.zeros(n, np.int64)
        for i, (proc, dj) in enumerate(_LOCAL_KINDS):
            rate = getattr(model, proc)
            self.dj[i], self.dnew[i] = dj, d + 2 * dj
            self.shift[i] = dj - dicke.LOCAL_PROCESSES[proc]  # k' = k + dj - dm
            amps = dicke.local_channels(model.N, j, proc) if rate > 0 else {}
            if dj in amps:
                self.amp[i] = amps[dj]
                self.rate[i] = rate
        self.nbytes = 16 * 3 * d + 8 * (n + 2) * d
        self._model = model
        self._eig = {}

    def eig(self, beta: complex):
        """(lam, V, V^-1) of -i H_eff(beta), or None if V is too ill-conditioned to trust (cond > 1e8)."""
        if beta not in self._eig:
            import scipy.linalg as sla

            diag, up, low = h_eff_bands(self._model, self.j, beta)
            A = -1j * (np.diag(diag) + np.diag(up, 1) + np.diag(low, -1))
            lam, V = sla.eig(A)
            out = None
            if np.linalg.cond(V) < 1e8:
                out = (np.ascontiguousarray(lam), np.ascontiguousarray(V), np.ascontiguousarray(np.linalg.inv(V)))
                self.nbytes += 3 * V.nbytes
            self._eig[beta] = out
        return self._eig[beta]


_CACHE: OrderedDict = OrderedDict()
_CACHE_BYTES = 256 << 20  # per-process budget for cached sector tables


def clear_cache():
    """Drop the per-process cache of sector tables."""
    _CACHE.clear()


def sector(model, j: float) -> SectorTables:
    """Cached :class:`SectorTables` (LRU within a per-process memory budget of ~256 MiB)."""
    key = (model, float(j))
    s = _CACHE.get(key)
    if s is not None:
        _CACHE.move_to_end(key)
        return s
    s = SectorTables(model, j)
    _CACHE[key] = s
    total = sum(v.nbytes for v in _CACHE.values())
    while len(_CACHE) > 1 and total > _CACHE_BYTES:
        total -= _CACHE.popitem(last=False)[1].nbytes
    return s


_NU, _NJ = 512, 4096  # uniforms per refill, jump-record buffer


def run_trajectory(model, times, j0, psi0, beta, rng, keep_states=False, krylov_dim=None, tol=None,
                   propagator="rational"):
    """Simulate one trajectory; return a dict of per-output records.

    Parameters
    ----------
    model : Model
    times : (T,) output times, the first one the initial time
    j0, psi0 : initial sector and normalised state in it
    beta : complex displacement of collective emission, or None for the state-following beta = -<J->
    rng : numpy Generator (one per trajectory); uniforms are drawn in blocks of 512, used in
        order (one per waiting time, one per channel choice), so results depend only on the seed
    krylov_dim, tol : Krylov dimension and per-step error bound (default KRYLOV_DIM, STEP_TOL)
    propagator : "rational" or "krylov" (see :mod:`piqs_squeeze.methods.mcwf.kernels`)

    Returns
    -------
    dict with ``mean`` (T, 3), ``second`` (T, 3, 3) (moments of the normalised state), ``j`` (T,),
    ``jump_times`` (J,), ``jump_kinds`` (J,) int (index into :func:`jump_kind_names`).
    """
    times = np.ascontiguousarray(times, dtype=float)
    T = len(times)
    j = float(j0)
    psi = np.array(psi0, dtype=complex)
    outbuf = np.empty((T, model.N + 1), dtype=complex)
    out_j = np.empty(T)
    u = rng.random(_NU)
    fstate = np.array([times[0], u[0], 0.0])
    istate = np.array([0, 1, 0, 0, psi.size, 0, 0, 0, 0, 0, PAD_MIN, 0, 0], dtype=np.int64)
    jt, jk = np.empty(_NJ), np.empty(_NJ, dtype=np.int64)
    times_out, kinds_out = [], []
    adaptive = beta is None
    b = 0j if adaptive else complex(beta)
    m_dim = KRYLOV_DIM if krylov_dim is None else int(krylov_dim)
    tol = STEP_TOL if tol is None else float(tol)
    if propagator not in PROPAGATORS:
        raise ValueError(f"propagator must be one of {PROPAGATORS}, got {propagator!r}")
    rational = propagator == "rational"
    b_small = default_beta(model) if adaptive else b
    while True:
        tab = sector(model, j)
        k0 = istate[0]
        newpsi = np.empty(tab.d + 2, dtype=complex)
        eig = tab.eig(b_small) if model.N + 1 <= SMALL_DIM else None
        if eig is None:
            status = advance(psi, tab.diag0, tab.up, tab.low0, tab.c, tab.m, tab.rates3, tab.amp, tab.rate,
                             tab.shift, tab.dj, tab.dnew, adaptive, b, fstate, istate, times, outbuf, u, jt, jk,
                             newpsi, rational, *_PADE, m_dim, tol, False, _NONE_C, _NONE_CC, _NONE_CC)
        else:
            status = advance(psi, tab.diag0, tab.up, tab.low0, tab.c, tab.m, tab.rates3, tab.amp, tab.rate,
                             tab.shift, tab.dj, tab.dnew, False, b_small, fstate, istate, times, outbuf, u, jt,
                             jk, newpsi, rational, *_PADE, m_dim, tol, True, *eig)
        out_j[k0:istate[0]] = j
        nj = istate[2]
        if status == STATUS_REFILL or status == STATUS_DONE or nj >= _NJ:
            times_out.append(jt[:nj].copy())
            kinds_out.append(jk[:nj].copy())
            istate[2] = 0
        if status == STATUS_DONE:
            break
        if status == STATUS_REFILL and istate[1] + 2 > u.size:
            u = np.concatenate([u[istate[1]:], rng.random(_NU)])
            istate[1] = 0
        elif status == STATUS_SECTOR:
            j += istate[5]
            psi = newpsi[:tab.d + 2 * istate[5]].copy()
            istate[3], istate[4] = istate[6], istate[7]
    mean = np.empty((T, 3))
    second = np.empty((T, 3, 3))
    for jj in np.unique(out_j):
        idx = np.flatnonzero(out_j == jj)
        mean[idx], second[idx] = dicke.moments_from_state(jj, outbuf[idx, :int(round(2 * jj)) + 1])
    out = {"mean": mean, "second": second, "j": out_j,
           "jump_times": np.concatenate(times_out), "jump_kinds": np.concatenate(kinds_out).astype(np.int16),
           "steps": int(istate[8]), "mean_window": float(istate[9] / max(istate[8], 1)),
           "rejected_steps": int(istate[11]), "pade_evaluations": int(istate[12])}
    if keep_states:
        out["final_state"] = (j, psi.copy())
    return out
