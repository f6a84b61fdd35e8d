"""One MCWF trajectory inside single total-spin sectors (Zhang, Zhang & Molmer, NJP 20, 112002 (2018)).

Unravelling
-----------
Collective emission is unravelled with the displaced jump operator ``L = sqrt(Gamma) (J- + beta)``
and the compensating Hamiltonian ``(i Gamma / 2)(beta J+ - beta* J-)``; the master equation is
unchanged because ``D[L + b] rho = D[L] rho + [b* L - b L^+, rho] / 2``. The no-jump generator is

    H_eff = H + (i Gamma/2)(beta J+ - beta* J-) - (i/2) sum_k L_k^+ L_k
          = H + (i Gamma/2)(beta J+ - beta* J-) - i Gamma |beta|^2 / 2
            - (i/2) [Gamma J+J- + kappa_z Jz^2 + kappa_p J-J+ + gamma_s (Jz + N/2) + pumping (N/2 - Jz) + dephasing N/4],

with H = chi J+J- + Omega Jx + H_extra any quadratic collective Hamiltonian
(:mod:`piqs_squeeze.hamiltonian`): tridiagonal in |j, m> for the paper's H (and for extra terms
in Jz, Jz^2, Jx, Jy, JxJz, JyJz, J+J-), pentadiagonal once H has Jx^2, Jy^2 or JxJy parts
(:func:`h_eff_outer_bands`; the dissipative part is always tridiagonal).

The default (``displacement="adaptive"``) follows the state: beta = -<J->_psi, re-chosen at the
start of every propagation step and after every jump, and constant within a step, so that each
step is a valid unravelling of the same master equation (the choice depends only on the past of
the trajectory). It needs nothing from H, so it is the displacement for any H: the collective jump
rate is then Gamma (<J+J-> - |<J->|^2), set by the fluctuations, O(N), in the superradiant and the
normal phase alike. A fixed beta is also available: ``beta = i Omega / (Gamma + 2 i chi)`` (minus
the collective mean-field fixed point of <J->), 0, or the drive-cancelling i Omega / Gamma; their
collective rates grow ~N^2 once the state moves away from that value (see
benchmarks/results/mcwf.md). The fixed point and the drive-cancelling value are built from the
paper's H and are refused for any other (or time-dependent) H; in small sectors, where the
state-following beta is replaced by a fixed one (see below), a general H uses beta = 0.

Local processes jump with the channels K_dj of :func:`piqs_squeeze.dicke.local_channels`
(sector j -> j + dj, rate ``rate * ||K_dj psi||^2``); collective dephasing and pumping jump with
``sqrt(rate) Jz`` and ``sqrt(rate) J+`` and keep j.

Propagation
-----------
Waiting-time jumps (draw r in U(0, 1); the jump happens when ||psi(t)||^2 = r, monotone in t
because H_eff - H_eff^+ <= 0) with the no-jump equation stepped under a per-step error bound,
restricted to the window of m where psi is non-negligible, in the numba kernel
:mod:`piqs_squeeze.methods.mcwf.kernels`: by default Pade steps of the shifted generator with banded
(bandwidth 1 or 2) solves (:mod:`piqs_squeeze.methods.mcwf.rational`), or Krylov (Arnoldi) steps
(:mod:`piqs_squeeze.methods.mcwf.krylov`). Python only switches sectors and refills random numbers. Small models (N + 1 <= SMALL_DIM) instead propagate exactly
with a cached eigendecomposition of H_eff per sector, with the fixed point displacement (the
per-step cost, not the jump count, matters there).

Protocols and time-dependent H
------------------------------
A :class:`~piqs_squeeze.protocol.Protocol` runs its segments one after the other on the same
trajectory (state, sector, drawn r, random stream and jump record carry on; the kernel just
stops at each boundary). A model whose coefficients depend on time is propagated in steps
[t, t + h] of the fourth-order commutator-free Magnus scheme CF4 (two piecewise-constant
sub-steps of length h/2 with H_eff frozen at combinations of H at the two Gauss nodes, see
:func:`_ramped`), h chosen from the state by the error model :func:`cf4_error` <= ``ramp_tol`` h
(:func:`midpoint_error` is the second-order midpoint rule's estimate, kept for comparison); the
jump operators do not depend on time, so the waiting-time jumps inside a step are those of its H_eff.
"""
from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np

from piqs_squeeze import dicke, hamiltonian, observables
from piqs_squeeze.protocol import Protocol, Segment
from .kernels import NSUMS, STATUS_DONE, STATUS_REFILL, STATUS_SECTOR, advance
from .rational import HIGH_ORDER, KP, LOW_ORDER, PAD_MIN, pade_fractions, work_array
from .window import magnus_norms, paper_tables

__all__ = ["default_beta", "small_beta", "resolve_beta", "decay_diagonal", "h_eff_bands", "h_eff_outer_bands",
           "SectorTables", "RampSector", "midpoint_error", "cf4_error", "sector", "jump_kind_names", "run_trajectory",
           "clear_cache", "SCHEMES", "KRYLOV_DIM", "STEP_TOL", "RAMP_TOL"]

#: no-jump propagation schemes: Pade steps (default) or Krylov (Arnoldi) steps of dimension KRYLOV_DIM
SCHEMES = ("rational", "krylov")
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
    emission to displace) or when Gamma = chi = 0. Paper models only (H = chi J+J- + Omega Jx with
    constant coefficients; ValueError otherwise).
    """
    if not model.is_paper_model:
        raise ValueError("the fixed-point displacement is defined for H = chi J+J- + omega Jx with constant "
                         "coefficients only; use displacement='adaptive' (beta = -<J->, any H), 'none' or a number")
    if model.gamma == 0:
        return 0j
    return 1j * model.omega / (model.gamma + 2j * model.chi)


def small_beta(model) -> complex:
    """The fixed displacement that replaces the state-following one in small sectors
    (N + 1 <= SMALL_DIM, cached eigendecompositions): :func:`default_beta` for a paper model, 0
    for any other H (the propagation there is exact, so beta only changes the jump count)."""
    return default_beta(model) if model.is_paper_model else 0j


def resolve_beta(model, displacement) -> complex:
    """Displacement beta from the ``displacement`` option; None means state-following.

    ``"adaptive"`` (default: None, beta = -<J->_psi per step; any H), ``"fixed_point"``
    (:func:`default_beta`), ``"none"`` (beta = 0), ``"drive"`` (beta = i Omega / Gamma: the
    compensating term cancels Omega Jx exactly), or a number. "fixed_point" and "drive" are
    defined through the paper's H = chi J+J- + Omega Jx with constant coefficients and are refused
    (ValueError) for any other model.
    """
    if isinstance(displacement, str):
        if displacement == "adaptive":
            return None
        if displacement == "none":
            return 0j
        if displacement in ("fixed_point", "drive") and not model.is_paper_model:
            raise ValueError(f"displacement={displacement!r} is defined for H = chi J+J- + omega Jx with constant "
                             "coefficients only; this model has other or time-dependent terms: use 'adaptive' "
                             "(beta = -<J->, valid for any H), 'none' or a number")
        if displacement == "fixed_point":
            return default_beta(model)
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


def decay_diagonal(model, j: float, beta: complex = 0j):
    """sum_k <m|L_k^+ L_k|m> in sector j (the diagonal of 2i (H_eff - H) for the displaced
    collective emission): Gamma (<J+J-> + |beta|^2) + collective dephasing m^2 + collective
    pumping <J-J+> + gamma_s (m + N/2) + pumping (N/2 - m) + dephasing N/4."""
    N = model.N
    m = dicke.m_values(j)
    jpjm = j * (j + 1) - m * m + m
    jmjp = j * (j + 1) - m * m - m
    return (model.gamma * (jpjm + abs(beta) ** 2) + model.collective_dephasing * m * m
            + model.collective_pumping * jmjp + model.gamma_s * (m + N / 2)
            + model.pumping * (N / 2 - m) + model.dephasing * N / 4)


def h_eff_bands(model, j: float, beta: complex):
    """(diag, upper, lower) of H_eff in sector j (see module docstring) for a model with constant
    coefficients.

    ``upper[k-1] = <k-1|H_eff|k>`` (the J+ band), ``lower[k-1] = <k|H_eff|k-1>`` (the J- band).
    The paper's H = chi J+J- + Omega Jx uses its closed form; any other H takes its bands from
    :func:`piqs_squeeze.hamiltonian.dicke_bands` (its second bands: :func:`h_eff_outer_bands`).
    """
    m = dicke.m_values(j)
    c = dicke.jplus_elements(j)
    decay = decay_diagonal(model, j, beta)
    if not model.hamiltonian:
        diag = model.chi * (j * (j + 1) - m * m + m) - 0.5j * decay
        upper = (0.5 * model.omega) * c + 0j
        lower = (0.5 * model.omega - 1j * model.gamma * np.conj(beta)) * c
        return diag, upper, lower
    hb = hamiltonian.dicke_bands(model.hamiltonian_terms(), j)
    empty = np.zeros(0, dtype=complex)
    return hb[0] - 0.5j * decay, hb.get(1, empty), hb.get(-1, empty) - 1j * model.gamma * np.conj(beta) * c


def h_eff_outer_bands(model, j: float):
    """(upper2, lower2) = (np.diag(H_eff, 2), np.diag(H_eff, -2)) in sector j (H's alone: the
    dissipative and displacement parts are tridiagonal), or two empty arrays when they vanish
    (the paper's H, or terms without Jx^2, Jy^2, JxJy parts), so the kernel stays tridiagonal."""
    empty = np.zeros(0, dtype=complex)
    if not model.hamiltonian:
        return empty, empty
    hb = hamiltonian.dicke_bands(model.hamiltonian_terms(), j)
    if 2 not in hb or not (np.any(hb[2]) or np.any(hb[-2])):
        return empty, empty
    return hb[2], hb[-2]


class SectorTables:
    """Everything the kernel needs about sector j: H_eff bands at beta = 0 (second bands ``up2``,
    ``low2``, empty when H_eff is tridiagonal), J+ elements, m, and the local channels as a (9, d)
    table in the order of ``jump_kind_names()[3:]`` (built by :func:`sector`).

    ``bands``: (diag0, up, low0, up2, low2) of H_eff at beta = 0 given by the caller (the
    instantaneous H_eff of a time-dependent model, :meth:`RampSector.tables`); otherwise they
    come from the model, which must then have constant coefficients.
    """

    def __init__(self, model, j: float, bands=None):
        if bands is None and model.time_dependent:
            raise ValueError("SectorTables need a model with constant coefficients (use model.at(t))")
        self.j = float(j)
        self.d = d = int(round(2 * j)) + 1
        self._given = bands is not None
        n = len(_LOCAL_KINDS)
        self.amp = np.zeros((n, d))
        paper = bands is None and not model.hamiltonian
        if paper:  # compiled: the same bits as h_eff_bands and dicke.local_channels, without their overhead
            bands = (np.empty(d, complex), np.empty(d - 1, complex), np.empty(d - 1, complex),
                     *h_eff_outer_bands(model, j))
            paper_tables(model.N, self.j, float(model.omega), float(model.chi), model.gamma, model.collective_dephasing,
                         model.collective_pumping, model.gamma_s, model.dephasing, model.pumping, bands[0], bands[1],
                         bands[2], self.amp)
        elif bands is None:
            bands = (*h_eff_bands(model, j, 0j), *h_eff_outer_bands(model, j))
        self.diag0, self.up, self.low0, self.up2, self.low2 = (np.ascontiguousarray(x, dtype=complex) for x in bands)
        self.c = np.ascontiguousarray(dicke.jplus_elements(j), dtype=float)
        self.m = np.ascontiguousarray(dicke.m_values(j), dtype=float)
        self.rates3 = np.array([model.gamma, model.collective_dephasing, model.collective_pumping], float)
        self.rate = np.zeros(n)
        self.shift = np.zeros(n, np.int64)
        self.dj = np.zeros(n, np.int64)
        self.dnew = np.zeros(n, np.int64)
        channels = {}
        for i, (proc, dj) in enumerate(_LOCAL_KINDS):
            rate = getattr(model, proc)
            self.dj[i], self.dnew[i] = dj, d + 2 * dj
            self.shift[i] = dj - dicke.LOCAL_PROCESSES[proc]  # k' = k + dj - dm
            if paper:
                if rate > 0 and -1e-9 <= j + dj <= model.N / 2.0 + 1e-9:  # local_channels' existence test
                    self.rate[i] = rate
                continue
            if proc not in channels:  # all three dj of a process at once
                channels[proc] = dicke.local_channels(model.N, j, proc) if rate > 0 else {}
            amps = channels[proc]
            if dj in amps:
                self.amp[i] = amps[dj]
                self.rate[i] = rate
        self.nbytes = 16 * (3 * d + self.up2.size + self.low2.size) + 8 * (n + 2) * d
        self._model = model
        self._eig = {}

    def eig(self, beta: complex):
        """(lam, V, V^-1) of -i H_eff(beta), or None if V is too ill-conditioned to trust (cond > 1e8)."""
        if beta not in self._eig:
            if self._given:
                self._eig[beta] = self._eig_given(beta)
                return self._eig[beta]
            import scipy.linalg as sla

            diag, up, low = h_eff_bands(self._model, self.j, beta)
            A = -1j * (np.diag(diag) + np.diag(up, 1) + np.diag(low, -1))
            if self.up2.size:
                A += -1j * (np.diag(self.up2, 2) + np.diag(self.low2, -2))
            lam, V = sla.eig(A)
            out = None
            if np.linalg.cond(V) < 1e8:
                out = (np.ascontiguousarray(lam), np.ascontiguousarray(V), np.ascontiguousarray(np.linalg.inv(V)))
                self.nbytes += 3 * V.nbytes
            self._eig[beta] = out
        return self._eig[beta]

    def _eig_given(self, beta):
        """:meth:`eig` for given bands (one-off tables of a ramp step: the 1-norm condition number
        from the inverse that is needed anyway instead of an SVD)."""
        g = self._model.gamma  # the displacement adds -i Gamma |beta|^2 / 2 and -i Gamma beta* J-
        A = -1j * (np.diag(self.diag0 - 0.5j * g * abs(beta) ** 2) + np.diag(self.up, 1)
                   + np.diag(self.low0 - 1j * g * np.conj(beta) * self.c, -1))
        if self.up2.size:
            A += -1j * (np.diag(self.up2, 2) + np.diag(self.low2, -2))
        lam, V = np.linalg.eig(A)
        Vi = np.linalg.inv(V)
        if np.abs(V).sum(0).max() * np.abs(Vi).sum(0).max() >= 1e8:
            return None
        return np.ascontiguousarray(lam), np.ascontiguousarray(V), np.ascontiguousarray(Vi)

    def with_bands(self, bands) -> "SectorTables":
        """A copy with other H_eff bands (diag0, up, low0, up2, low2) and the same channels."""
        new = copy.copy(self)
        new.diag0, new.up, new.low0, new.up2, new.low2 = (np.ascontiguousarray(x, dtype=complex) for x in bands)
        new._given, new._eig = True, {}
        return new


_CACHE: OrderedDict = OrderedDict()
_CACHE_BYTES = 256 << 20  # per-process budget for cached sector tables
_CACHED = [0]  # bytes held by _CACHE when its entries were added (their eigenbases may add more later)


def clear_cache():
    """Drop the per-process cache of sector tables."""
    _CACHE.clear()
    _CACHED[0] = 0


def sector(model, j: float) -> SectorTables:
    """Cached :class:`SectorTables` (LRU within a per-process memory budget of ~256 MiB)."""
    key = (model, float(j))
    s = _CACHE.get(key)
    if s is not None:
        _CACHE.move_to_end(key)
        return s
    s = SectorTables(model, j)
    _CACHE[key] = s
    _CACHED[0] += s.nbytes
    if _CACHED[0] > _CACHE_BYTES:  # recount (eigenbases grow entries after they were added), then evict
        _CACHED[0] = sum(v.nbytes for v in _CACHE.values())  # down to 3/4 of the budget: recounts stay rare
        while len(_CACHE) > 1 and _CACHED[0] > 0.75 * _CACHE_BYTES:
            _CACHED[0] -= _CACHE.popitem(last=False)[1].nbytes
    return s


_NU, _NJ = 512, 4096  # uniforms per refill, jump-record buffer
#: default bound on the leading local error of the CF4 steps of a time-dependent H, per unit
#: time (see :func:`cf4_error`)
RAMP_TOL = 1e-3


class _Trajectory:
    """The state of one trajectory between kernel calls: sector j, psi, the kernel's float and
    int state (time, drawn r, proposed step, uniform index, window, counters), the uniforms, the
    jump record, the collective sums at the output times (O(T), so a trajectory holds O(N + T)
    memory) and, only if asked for, the output states. It carries across protocol boundaries and
    ramp sub-steps unchanged."""

    def __init__(self, N, times, j0, psi0, rng, krylov_dim, tol, rational, states=False):
        self.T = len(times)
        self.j = float(j0)
        self.psi = np.array(psi0, dtype=complex)
        self.sums = np.zeros((self.T, NSUMS))
        self.outbuf = np.zeros((self.T, N + 1), dtype=complex) if states else np.zeros((0, 0), dtype=complex)
        self.work = work_array(N + 3)
        self.out_j = np.empty(self.T)
        self.rng = rng
        self.u = rng.random(_NU)
        self.fstate = np.array([times[0], self.u[0], 0.0])
        self.istate = np.array([0, 1, 0, 0, self.psi.size, 0, 0, 0, 0, 0, PAD_MIN, 0, 0, 0, 0], dtype=np.int64)
        self.jt, self.jk = np.empty(_NJ), np.empty(_NJ, dtype=np.int64)
        self.times_out, self.kinds_out = [], []
        self.m_dim = KRYLOV_DIM if krylov_dim is None else int(krylov_dim)
        self.tol = STEP_TOL if tol is None else float(tol)
        self.rational = rational

    @property
    def t(self) -> float:
        return float(self.fstate[0])

    def advance(self, model, times, first, nout, beta, tables=None):
        """Run the kernel with the constant ``model`` until ``times[-1]``, writing the states at
        ``times[:nout]`` into output rows ``first, first + 1, ...`` (``times[nout:]``, at most the
        end time, are not outputs). ``beta`` None: state-following. ``tables``: j -> SectorTables
        instead of the shared cache (the instantaneous H_eff of a time-dependent ``model``)."""
        istate = self.istate
        istate[0] = 0
        sums = self.sums[first:first + nout]
        outbuf = self.outbuf[first:first + nout] if self.outbuf.size else self.outbuf
        adaptive = beta is None
        b = 0j if adaptive else complex(beta)
        small = model.N + 1 <= SMALL_DIM
        b_small = (small_beta(model) if adaptive else b) if small else b
        while True:
            tab = sector(model, self.j) if tables is None else tables(self.j)
            k0 = istate[0]
            newpsi = np.empty(tab.d + 2, dtype=complex)
            eig = tab.eig(b_small) if small else None
            if tab.up2.size and self.work.shape[1] < 6 * KP:
                self.work = work_array(model.N + 3, pentadiagonal=True)
            if eig is None:
                status = advance(self.psi, tab.diag0, tab.up, tab.low0, tab.up2, tab.low2, tab.c, tab.m,
                                 tab.rates3, tab.amp, tab.rate, tab.shift, tab.dj, tab.dnew, adaptive, b,
                                 self.fstate, istate, times, sums, outbuf, self.u, self.jt, self.jk, newpsi,
                                 self.rational, *_PADE, self.m_dim, self.tol, False, _NONE_C, _NONE_CC, _NONE_CC,
                                 self.work)
            else:
                status = advance(self.psi, tab.diag0, tab.up, tab.low0, tab.up2, tab.low2, tab.c, tab.m,
                                 tab.rates3, tab.amp, tab.rate, tab.shift, tab.dj, tab.dnew, False, b_small,
                                 self.fstate, istate, times, sums, outbuf, self.u, self.jt, self.jk, newpsi,
                                 self.rational, *_PADE, self.m_dim, self.tol, True, *eig, self.work)
            self.out_j[first + min(k0, nout):first + min(istate[0], nout)] = self.j
            nj = istate[2]
            if status == STATUS_REFILL or status == STATUS_DONE or nj >= _NJ:
                self.times_out.append(self.jt[:nj].copy())
                self.kinds_out.append(self.jk[:nj].copy())
                istate[2] = 0
            if status == STATUS_DONE:
                return
            if status == STATUS_REFILL and istate[1] + 2 > self.u.size:
                self.u = np.concatenate([self.u[istate[1]:], self.rng.random(_NU)])
                istate[1] = 0
            elif status == STATUS_SECTOR:
                self.j += istate[5]
                self.psi = newpsi[:tab.d + 2 * istate[5]].copy()
                istate[3], istate[4] = istate[6], istate[7]


_SQ3 = float(np.sqrt(3.0))
_CF4_A, _CF4_B = 0.5 + _SQ3 / 3.0, 0.5 - _SQ3 / 3.0


def _matvec(B, x):
    """y = B x for a banded d x d matrix stored as (5, d) rows: row 2 + o holds the diagonal o
    (o = -2 ... 2) in its first d - |o| entries (so B[:, a:b] stores the block [a, b) x [a, b))."""
    y = B[2] * x
    d = x.size
    for o in (1, 2):
        if o < d:
            y[:-o] += B[2 + o, :d - o] * x[o:]
            y[o:] += B[2 - o, :d - o] * x[:-o]
    return y


class RampSector:
    """Sector j of a model with time-dependent coefficients: the bands of each term of H with unit
    coefficient, stacked (terms, 5, d) as in :func:`_matvec`, and the decay diagonal, so that
    H(t) = sum_k c_k(t) B_k and the kernel's tables at any t are cheap to form."""

    def __init__(self, model, j: float):
        self.model, self.j = model, float(j)
        self.d = d = int(round(2 * j)) + 1
        terms = model.hamiltonian_terms()
        self.coefs = list(terms.values())
        self.unit = np.zeros((len(terms), 5, d), dtype=complex)
        for i, key in enumerate(terms):
            for o, v in hamiltonian.dicke_bands({key: 1.0}, j).items():
                self.unit[i, 2 + o, :v.size] = v
        self.half_decay = 0.5j * decay_diagonal(model, j)
        self._last = {}
        self._template = None

    def values(self, t: float) -> list:
        """The coefficients c_k(t) of the terms of H."""
        return [float(v(t)) if callable(v) else v for v in self.coefs]

    def combine(self, vals, a: int = 0, b: int | None = None) -> np.ndarray:
        """sum_k vals[k] B_k as (5, b - a) band rows of the block [a, b) (see :func:`_matvec`)."""
        unit = self.unit[:, :, a:b]
        out = np.zeros(unit.shape[1:], dtype=complex)
        for v, u in zip(vals, unit):
            out += v * u
        return out

    def h(self, t: float) -> np.ndarray:
        """H(t) as (5, d) band rows (see :func:`_matvec`); the last few times are remembered."""
        out = self._last.get(t)
        if out is None:
            out = self.combine(self.values(t))
            if len(self._last) >= 4:
                self._last.pop(next(iter(self._last)))
            self._last[t] = out
        return out

    def tables(self, t: float) -> SectorTables:
        """Kernel tables of H_eff(t) = H(t) - (i/2) sum_k L_k^+ L_k (beta = 0)."""
        return self.tables_of(self.h(t))

    def h_cf4(self, t0: float, t1: float):
        """The two frozen Hamiltonians of the CF4 step on [t0, t1] (see :func:`_ramped`), in the
        order they act: H^(1) = a H(g1) + b H(g2) on [t0, t_m], H^(2) = b H(g1) + a H(g2) on
        [t_m, t1], with the Gauss nodes g1,2 = t_m -+ sqrt(3) h / 6, a = 1/2 + sqrt(3)/3,
        b = 1/2 - sqrt(3)/3 (a + b = 1, so the decay part is that of H_eff)."""
        h, tm = t1 - t0, 0.5 * (t0 + t1)
        g1, g2 = tm - _SQ3 * h / 6.0, tm + _SQ3 * h / 6.0
        c1, c2 = self.values(g1), self.values(g2)
        return (self.combine([_CF4_A * x + _CF4_B * y for x, y in zip(c1, c2)]),
                self.combine([_CF4_B * x + _CF4_A * y for x, y in zip(c1, c2)]))

    def tables_of(self, hb) -> SectorTables:
        """Kernel tables of H_eff = H - (i/2) sum_k L_k^+ L_k (beta = 0) for H given as (5, d) band rows."""
        d = self.d
        empty = np.zeros(0, dtype=complex)
        n1, n2 = max(d - 1, 0), max(d - 2, 0)
        outer = (hb[4, :n2], hb[0, :n2]) if n2 and (np.any(hb[4]) or np.any(hb[0])) else (empty, empty)
        bands = (hb[2] - self.half_decay, hb[3, :n1], hb[1, :n1], *outer)
        if self._template is None:
            self._template = SectorTables(self.model, self.j, bands)
            return self._template
        return self._template.with_bands(bands)


def midpoint_error(sec: RampSector, psi, t0: float, t1: float, window=None) -> float:
    """Leading local error of one piecewise-constant midpoint step of a time-dependent H on
    [t0, t1] from the state psi in the sector ``sec`` (beta = 0):

        ||delta psi|| ~ (h^2 / 12) ||[H(t1) - H(t0), H_eff(t_m)] psi|| + (h / 6) ||(H(t0) + H(t1) - 2 H(t_m)) psi||,

    h = t1 - t0, t_m = (t0 + t1) / 2: the second Magnus term, -(h^3 / 12) [H', H_eff], which the
    midpoint exponential exp(-i h H_eff(t_m)) leaves out, and the midpoint rule's quadrature error
    h^3 H'' / 24 of the integral of H (estimated from the end points, so a kink of a piecewise
    linear Ramp inside the step shows up there). ``window``: (lo, hi) outside which psi is zero;
    the products are then formed on [lo - 4, hi + 4) only (exactly: each factor widens the
    support by 2).
    """
    lo, hi = (0, sec.d) if window is None else window
    a, b = max(0, lo - 4), min(sec.d, hi + 4)
    x = psi[a:b]
    ha, hm, hb = (sec.h(t)[:, a:b] for t in (t0, 0.5 * (t0 + t1), t1))
    dh = hb - ha
    heff = hm.copy()
    heff[2] -= sec.half_decay[a:b]
    h = t1 - t0
    comm = _matvec(dh, _matvec(heff, x)) - _matvec(heff, _matvec(dh, x))
    return h * h / 12.0 * float(np.linalg.norm(comm)) + h / 6.0 * float(np.linalg.norm(_matvec(ha + hb - 2.0 * hm, x)))


def cf4_error(sec: RampSector, psi, t0: float, t1: float, window=None) -> float:
    """Leading local error model of one commutator-free Magnus step (CF4, :func:`_ramped`) of a
    time-dependent H on [t0, t1] from the state psi in the sector ``sec`` (beta = 0):

        ||delta psi|| ~ (h^4 / 720) ||[H_m, [H_m, dH]] psi|| + (h^3 / 240) ||[dH, [dH, H_m]] psi||
                        + (h / 6) ||(H(t0) + H(t1) - 2 H(t_m)) psi||,

    h = t1 - t0, t_m = (t0 + t1) / 2, dH = H(t1) - H(t0), H_m = H_eff(t_m): the two h^5 terms of
    the Magnus series of a generator linear in t about the midpoint, (h^5 / 720) [A, [A, A']] and
    (h^5 / 240) [A', [A', A]] (Iserles & Norsett), which a fourth-order step leaves out, with the
    series' own coefficients (a model of CF4's error constant, not its exact value), and the
    midpoint quadrature error of the integral of H as a bound on CF4's Gauss quadrature error
    (zero for the piecewise-linear Ramp, whose knots end steps). ``window``: (lo, hi) outside
    which psi is zero; the products are formed on [lo - 6, hi + 6) only (exactly: each factor
    widens the support by 2).
    """
    lo, hi = (0, sec.d) if window is None else window
    a, b = max(0, lo - 6), min(sec.d, hi + 6)
    x = psi[a:b]
    c0, cm, c1 = (sec.values(t) for t in (t0, 0.5 * (t0 + t1), t1))
    dh = sec.combine([y - x for x, y in zip(c0, c1)], a, b)
    heff = sec.combine(cm, a, b)
    heff[2] -= sec.half_decay[a:b]
    curv = sec.combine([x + y - 2.0 * z for x, y, z in zip(c0, c1, cm)], a, b)
    h = t1 - t0

    e_aad, e_dda, e_curv = magnus_norms(heff, dh, curv, np.ascontiguousarray(x))
    return h ** 4 / 720.0 * e_aad + h ** 3 / 240.0 * e_dda + h / 6.0 * e_curv


def _ramped(traj, seg, beta, ramp_tol):
    """Advance ``traj`` through a segment whose model depends on time with the fourth-order
    commutator-free Magnus step of two exponentials (CF4, Blanes & Moan 2006; Alvermann &
    Fehske 2011): a step [t, t + h] is two piecewise-constant sub-steps,

        psi(t + h) = exp(-i (h/2) H_eff^(2)) exp(-i (h/2) H_eff^(1)) psi(t),
        H^(1) = a H(g1) + b H(g2),  H^(2) = b H(g1) + a H(g2),

    g1,2 = t + h/2 -+ sqrt(3) h / 6, a = 1/2 + sqrt(3)/3, b = 1/2 - sqrt(3)/3 (:meth:`RampSector.h_cf4`;
    for a generator linear in t they are H at t + h/6 and t + 5h/6), each sub-step run by the
    constant-H_eff kernel, so the waiting-time jumps inside it are exact for its H_eff (the jump
    operators do not depend on time). The step is chosen so that :func:`cf4_error` <= ramp_tol
    times its length (estimated from the state at its start; rejected steps shrink, accepted
    ones grow by at most 2x); steps end on every output time and on every knot of a Ramp
    coefficient (where the generator has a kink)."""
    t, end = traj.t, seg.end
    outs, rows = seg.times, seg.out
    knots = sorted({float(x) for v in seg.model.hamiltonian_terms().values() if callable(v) for x in hamiltonian.knots(v)
                    if t < x < end})
    stops = np.array(sorted(set(knots) | {float(x) for x in outs if x > t} | {end}))
    secs = {}

    def ramp_sector(j):
        if j not in secs:
            secs[j] = RampSector(seg.model, j)
        return secs[j]

    k = 0
    if outs.size and outs[0] <= t:  # the run's initial time: written before any step
        traj.advance(seg.model, outs[:1], int(rows[0]), 1, beta, lambda j: ramp_sector(j).tables(t))
        k = 1
    h = end - t
    ks = 0
    while t < end:
        while stops[ks] <= t:
            ks += 1
        stop = stops[ks]
        t1 = min(t + h, stop)
        err = cf4_error(ramp_sector(traj.j), traj.psi, t, t1, (int(traj.istate[3]), int(traj.istate[4])))
        if err > ramp_tol * (t1 - t):
            h = (t1 - t) * max(0.1, 0.9 * (ramp_tol * (t1 - t) / err) ** 0.25)
            if h < 1e-13 * max(1.0, abs(t)):
                raise RuntimeError(f"MCWF: the ramp step at t = {t} fell below round-off (ramp_tol too tight)")
            continue
        is_out = k < outs.size and t1 == outs[k]
        tm = 0.5 * (t + t1)
        frozen = {}

        def cf4_tables(j, i, t0=t, t1=t1, frozen=frozen):
            if j not in frozen:  # a jump into another sector inside the step: the same step there
                frozen[j] = ramp_sector(j).h_cf4(t0, t1)
            return ramp_sector(j).tables_of(frozen[j][i])

        for i, tend in enumerate((tm, t1)):
            out_here = is_out and i == 1
            sub = outs[k:k + 1] if out_here else np.array([tend])
            traj.advance(seg.model, sub, int(rows[k]) if out_here else 0, int(out_here), beta,
                         lambda j, i=i: cf4_tables(j, i))
        grow = 2.0 if err == 0 else min(2.0, 0.9 * (ramp_tol * (t1 - t) / err) ** 0.25)
        h = max(h, (t1 - t) * grow) if t + h > t1 else (t1 - t) * grow
        k += int(is_out)
        t = t1


def run_trajectory(model, times, j0, psi0, beta, rng, keep_states=False, krylov_dim=None, tol=None,
                   scheme="rational", ramp_tol=None, output_states=False):
    """Simulate one trajectory; return a dict of per-output records.

    Parameters
    ----------
    model : Model or Protocol
        A Protocol's segments (:meth:`~piqs_squeeze.protocol.Protocol.segments`) run one after
        the other on the same trajectory: state, sector, random stream and jump record carry on.
        A model with time-dependent coefficients runs in CF4 steps of two piecewise-constant
        sub-steps (see ``ramp_tol`` and :func:`_ramped`).
    times : (T,) output times, the first one the initial time
    j0, psi0 : initial sector and normalised state in it
    beta : complex displacement of collective emission, or None for the state-following beta = -<J->;
        for a Protocol also a sequence with one such entry per model of the protocol
    rng : numpy Generator (one per trajectory); uniforms are drawn in blocks of 512, used in
        order (one per waiting time, one per channel choice), so results depend only on the seed
    krylov_dim, tol : Krylov dimension and per-step error bound (default KRYLOV_DIM, STEP_TOL)
    scheme : "rational" or "krylov" (see :mod:`piqs_squeeze.methods.mcwf.kernels`)
    ramp_tol : bound per unit time on :func:`cf4_error` of the steps of a time-dependent
        model (default RAMP_TOL)
    keep_states : also return the final ``(j, psi)`` as ``final_state``
    output_states : also return the states at the output times, ``states`` (T, N + 1) complex
        (row k: the amplitudes of sector ``j[k]`` in its first 2 j[k] + 1 entries, zeros after);
        without it a trajectory holds O(N + T) memory, not O(N T)

    Returns
    -------
    dict with ``mean`` (T, 3), ``second`` (T, 3, 3) (moments of the normalised state, from the
    collective sums the kernel accumulates as each output time is reached,
    :func:`~piqs_squeeze.methods.mcwf.kernels.output_sums`), ``j`` (T,), ``jump_times`` (J,),
    ``jump_kinds`` (J,) int (index into :func:`jump_kind_names`) and cost counters.
    """
    times = np.ascontiguousarray(times, dtype=float)
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    traj = _Trajectory(model.N, times, j0, psi0, rng, krylov_dim, tol, scheme == "rational", output_states)
    if isinstance(model, Protocol):
        segments = model.segments(times)
        betas = list(beta) if isinstance(beta, (list, tuple)) else [beta] * len(model.models)
        seg_beta = [betas[model.models.index(seg.model)] for seg in segments]
    else:
        segments = [Segment(model, float(times[0]), float(times[-1]), np.arange(len(times)), times)]
        seg_beta = [beta]
    ramp_tol = RAMP_TOL if ramp_tol is None else float(ramp_tol)
    for seg, b in zip(segments, seg_beta):
        if seg.model.time_dependent:
            _ramped(traj, seg, b, ramp_tol)
            continue
        nout = seg.times.size
        run_times = seg.times if nout and seg.times[-1] == seg.end else np.append(seg.times, seg.end)
        traj.advance(seg.model, np.ascontiguousarray(run_times), int(seg.out[0]) if nout else 0, nout, b)
    S, jj = traj.sums, traj.out_j
    mean, second = observables.moments_from_collective(S[:, 3] + 1j * S[:, 4], S[:, 1], S[:, 7] + 1j * S[:, 8],
                                                       S[:, 2], S[:, 5] + 1j * S[:, 6], jj * (jj + 1) * S[:, 0])
    istate = traj.istate
    out = {"mean": mean, "second": second, "j": traj.out_j,
           "jump_times": np.concatenate(traj.times_out), "jump_kinds": np.concatenate(traj.kinds_out).astype(np.int16),
           "steps": int(istate[8]), "mean_window": float(istate[9] / max(istate[8], 1)),
           "rejected_steps": int(istate[11]), "pade_evaluations": int(istate[12]),
           "pad_redone_steps": int(istate[13]), "jump_time_evaluations": int(istate[14])}
    if keep_states:
        out["final_state"] = (traj.j, traj.psi.copy())
    if output_states:
        out["states"] = traj.outbuf
    return out
