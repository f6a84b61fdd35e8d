"""One MCWF trajectory inside single total-spin sectors (Zhang, Zhang & Molmer, NJP 20, 112002 (2018)).

Unravelling
-----------
Collective emission is unravelled with the displaced jump operator ``L = sqrt(Gamma) (J- + beta)``
and the compensating Hamiltonian ``(i Gamma / 2)(beta J+ - beta* J-)``; the master equation is
unchanged because ``D[L + b] rho = D[L] rho + [b* L - b L^+, rho] / 2``. The no-jump generator is

    H_eff = H + (i Gamma/2)(beta J+ - beta* J-) - (i/2) sum_k L_k^+ L_k
          = (chi - i Gamma/2) J+J- + (Omega/2) J+ + (Omega/2 - i Gamma beta*) J- - i Gamma |beta|^2 / 2
            - (i/2) [kappa_z Jz^2 + kappa_p J-J+ + gamma_s (Jz + N/2) + pumping (N/2 - Jz) + dephasing N/4],

tridiagonal in |j, m>. The default ``beta = i Omega / (Gamma + 2 i chi)`` is minus the mean-field
fixed point <J-> of the collective model, so that near the superradiant fixed point the emission
rate Gamma <(J+ + beta*)(J- + beta)> is set by fluctuations, O(N), instead of Gamma |<J->|^2 = O(N^2);
it also makes H_eff's eigenbasis well conditioned (condition number ~10 at N = 2000 against ~1e16
for beta = 0), which the exact propagation below relies on (see benchmarks/results/mcwf.md).

Local processes jump with the channels K_dj of :func:`piqs_squeeze.dicke.local_channels`
(sector j -> j + dj, rate ``rate * ||K_dj psi||^2``); collective dephasing and pumping jump with
``sqrt(rate) Jz`` and ``sqrt(rate) J+`` and keep j.

Propagation
-----------
H_eff of each sector is fixed, so it is diagonalised once, H_eff = V diag(lam) V^-1 (cached per
process), and ``psi(t) = V (exp(-i lam t) * V^-1 psi0)`` is exact at any t. Jump times follow the
waiting-time algorithm: draw r in U(0, 1), the jump happens when ||psi(t)||^2 = r (monotone in t
because H_eff - H_eff^+ <= 0), located by Brent's method to ~1e-13 relative accuracy.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import scipy.linalg as sla
from scipy.optimize import brentq

from . import dicke

__all__ = ["default_beta", "resolve_beta", "h_eff_bands", "Sector", "sector", "jump_kind_names",
           "run_trajectory", "clear_cache"]

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
    """Displacement beta from the ``displacement`` option.

    ``"fixed_point"`` (default, :func:`default_beta`), ``"none"`` (beta = 0), ``"drive"``
    (beta = i Omega / Gamma: the compensating term cancels Omega Jx exactly), or a number.
    """
    if isinstance(displacement, str):
        if displacement == "fixed_point":
            return default_beta(model)
        if displacement == "none":
            return 0j
        if displacement == "drive":
            return 1j * model.omega / model.gamma if model.gamma > 0 else 0j
        raise ValueError(f"displacement must be 'fixed_point', 'none', 'drive' or a complex number, "
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


class Sector:
    """Eigendecomposition and jump channels of one sector j (built by :func:`sector`)."""

    def __init__(self, model, j: float, beta: complex):
        self.j = float(j)
        self.d = int(round(2 * j)) + 1
        diag, upper, lower = h_eff_bands(model, j, beta)
        H = np.diag(diag) + np.diag(upper, 1) + np.diag(lower, -1)
        lam, V = sla.eig(H, overwrite_a=True, check_finite=False)
        self.lam = lam
        self.V = np.asfortranarray(V)
        self.lu = sla.lu_factor(V, check_finite=False)
        self.channels = self._channels(model, beta)

    def _channels(self, model, beta):
        """[(kind, dj, rate, op)]: op(psi) -> unnormalised K psi in sector j + dj."""
        j, N = self.j, model.N
        c, m = dicke.jplus_elements(j), dicke.m_values(j)
        out = []
        if model.gamma > 0:
            def jminus(psi, c=c, b=beta):
                res = b * psi
                res[1:] += c * psi[:-1]
                return res
            out.append((0, 0, model.gamma, jminus))
        if model.collective_dephasing > 0:
            out.append((1, 0, model.collective_dephasing, lambda psi, m=m: m * psi))
        if model.collective_pumping > 0:
            def jplus(psi, c=c):
                res = np.zeros_like(psi)
                res[:-1] = c * psi[1:]
                return res
            out.append((2, 0, model.collective_pumping, jplus))
        for kind, (proc, dj) in enumerate(_LOCAL_KINDS, start=len(_COLLECTIVE_KINDS)):
            rate = getattr(model, proc)
            if rate == 0:
                continue
            amps = dicke.local_channels(N, j, proc)
            if dj not in amps:
                continue
            shift = dj - dicke.LOCAL_PROCESSES[proc]  # k' = k + dj - dm
            d_new = self.d + 2 * dj
            lo, hi = max(0, -shift), min(self.d, d_new - shift)
            if hi <= lo:
                continue

            def local(psi, a=amps[dj], lo=lo, hi=hi, s=shift, d_new=d_new):
                res = np.zeros(d_new, dtype=complex)
                res[lo + s:hi + s] = a[lo:hi] * psi[lo:hi]
                return res
            out.append((kind, dj, rate, local))
        return out

    def coefficients(self, psi):
        """c = V^-1 psi, checked: raises if H_eff's eigenbasis is too ill-conditioned to trust."""
        coef = sla.lu_solve(self.lu, psi, check_finite=False)
        resid = np.linalg.norm(self.V @ coef - psi)
        if not resid <= 1e-9 * max(np.linalg.norm(psi), 1e-300):
            raise RuntimeError(
                f"MCWF: the eigenbasis of H_eff in sector j={self.j} is ill-conditioned "
                f"(reconstruction error {resid:.2e}); try another displacement=")
        return coef

    def propagate(self, coef, tau):
        """psi(tau) = V (exp(-i lam tau) coef).

        Modes whose term has decayed below 1e-17 of the largest one are skipped (|exp(-i lam tau)|
        only decreases with tau, and V is well conditioned, so they cannot matter): after the
        first few 1/|Im lam| most of a large sector's modes are gone and the product gets cheap.
        """
        phase = np.exp(-1j * self.lam * tau) * coef
        if self.d <= 64:
            return self.V @ phase
        mag = np.abs(phase)
        keep = mag > 1e-17 * mag.max()
        if keep.sum() > 0.7 * keep.size:
            return self.V @ phase
        idx = np.flatnonzero(keep)
        return self.V[:, idx] @ phase[idx]


_CACHE: OrderedDict = OrderedDict()
_CACHE_BYTES = 1 << 30  # per-process budget for cached eigenbases


def clear_cache():
    """Drop the per-process cache of sector eigendecompositions."""
    _CACHE.clear()


def sector(model, j: float, beta: complex) -> Sector:
    """Cached :class:`Sector` (LRU within a per-process memory budget of ~1 GiB)."""
    key = (model, float(j), complex(beta))
    s = _CACHE.get(key)
    if s is not None:
        _CACHE.move_to_end(key)
        return s
    s = Sector(model, j, beta)
    _CACHE[key] = s
    while len(_CACHE) > 1 and sum(2 * v.V.nbytes for v in _CACHE.values()) > _CACHE_BYTES:
        _CACHE.popitem(last=False)
    return s


def run_trajectory(model, times, j0, psi0, beta, rng, keep_states=False):
    """Simulate one trajectory; return a dict of per-output records.

    Parameters
    ----------
    model : Model
    times : (T,) output times, the first one the initial time
    j0, psi0 : initial sector and normalised state in it
    beta : complex displacement of collective emission
    rng : numpy Generator (one per trajectory)

    Returns
    -------
    dict with ``mean`` (T, 3), ``second`` (T, 3, 3) (moments of the normalised state), ``j`` (T,),
    ``jump_times`` (J,), ``jump_kinds`` (J,) int (index into :func:`jump_kind_names`).
    """
    T = len(times)
    mean = np.empty((T, 3))
    second = np.empty((T, 3, 3))
    jt = np.empty(T)
    jump_times, jump_kinds = [], []
    j, psi = float(j0), np.asarray(psi0, dtype=complex)
    t0 = float(times[0])
    t_end = float(times[-1])
    sec = sector(model, j, beta)
    coef = sec.coefficients(psi)
    r = rng.random()
    log_r = np.log(r)

    def lognorm2(tau):
        v = sec.propagate(coef, tau)
        with np.errstate(divide="ignore"):  # an underflowed norm is -inf: still below log r
            return np.log(np.vdot(v, v).real) - log_r

    k = 0
    while k < T:
        tau = float(times[k]) - t0
        psi_t = sec.propagate(coef, tau) if tau > 0 else psi
        n2 = np.vdot(psi_t, psi_t).real
        if n2 > r or tau == 0:
            mean[k], second[k] = dicke.moments_from_state(j, psi_t / np.sqrt(n2))
            jt[k] = j
            k += 1
            continue
        # jump in (previous output or last jump, times[k]]: locate ||psi||^2 = r
        lo = max(float(times[k - 1]) - t0, 0.0) if k > 0 else 0.0  # 0 right after a jump
        tj = brentq(lognorm2, lo, tau, xtol=1e-14 * max(1.0, abs(t0) + tau), rtol=1e-14)
        v = sec.propagate(coef, tj)
        v /= np.linalg.norm(v)
        cand = [(kind, dj, op(v)) for kind, dj, rate, op in sec.channels]
        w = np.array([rate * np.vdot(x, x).real for (_, _, rate, _), (_, _, x) in zip(sec.channels, cand)])
        if w.sum() <= 0:
            raise RuntimeError(f"MCWF: norm decayed but no jump channel is open in sector j={j}")
        pick = int(np.searchsorted(np.cumsum(w), rng.random() * w.sum(), side="right"))
        pick = min(pick, len(cand) - 1)
        kind, dj, x = cand[pick]
        t0 = t0 + tj
        jump_times.append(t0)
        jump_kinds.append(kind)
        j = j + dj
        psi = x / np.linalg.norm(x)
        if dj != 0 or sec.j != j:
            sec = sector(model, j, beta)
        coef = sec.coefficients(psi)
        r = rng.random()
        log_r = np.log(r)
    out = {"mean": mean, "second": second, "j": jt,
           "jump_times": np.asarray(jump_times, dtype=float),
           "jump_kinds": np.asarray(jump_kinds, dtype=np.int16)}
    if keep_states:
        out["final_state"] = (j, sec.propagate(coef, t_end - t0) if t_end > t0 else psi)
    return out
