"""General quadratic collective Hamiltonians: parsing, canonical terms, Dicke-basis bands, ramps.

A Model's Hamiltonian is

    H = chi J+J- + omega Jx + sum_a h_a J_a + sum_{a<=b} h_ab (J_a J_b + J_b J_a) / 2 + h_pm J+J-,

a ∈ {x, y, z}. The extra terms are given to :class:`~piqs_squeeze.model.Model` as
``hamiltonian=`` either as a dict ``{"Jz": 0.5, "Jz Jz": 1.0, ...}`` (keys :data:`KEYS`; "Jy Jx"
is the same symmetrised product as "Jx Jy") or as a Hermitian ``qutip.Qobj`` of collective spin
operators, of dimension N + 1 (``qutip.jmat(N/2, ...)``, m = N/2 ... -N/2) or in qutip.piqs'
Dicke basis (``qutip.piqs.jspin(N, ...)``); the Qobj is decomposed on {1, J_a, (J_aJ_b + J_bJ_a)/2}
and refused if it is not Hermitian or not of degree <= 2 in collective spins.

Any coefficient may depend on time: a :class:`Ramp` (saved with results) or any callable
``f(t) -> float`` (not saved; it must be picklable to run on worker processes).

The matrix of H in the block |j, m>, m = j ... -j, is banded (|m - m'| <= 2); :func:`dicke_bands`
gives its diagonals, shared by the exact solver and the MCWF trajectories.
"""
from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Mapping

import numpy as np

from . import dicke

__all__ = ["KEYS", "LINEAR_KEYS", "QUADRATIC_KEYS", "HamiltonianTerms", "Ramp", "parse_hamiltonian",
           "collective_terms", "decompose_qobj", "dicke_bands", "band_matrix"]

LINEAR_KEYS = ("Jx", "Jy", "Jz")
QUADRATIC_KEYS = ("Jx Jx", "Jy Jy", "Jz Jz", "Jx Jy", "Jx Jz", "Jy Jz", "J+ J-")
#: Keys of the dict form, in canonical order.
KEYS = LINEAR_KEYS + QUADRATIC_KEYS
_ALIASES = {"Jy Jx": "Jx Jy", "Jz Jx": "Jx Jz", "Jz Jy": "Jy Jz"}

#: Relative residual above which a Qobj is refused as not quadratic in collective spins.
DECOMPOSITION_TOL = 1e-9


class Ramp:
    """A coefficient that follows a time profile: ``value(t)`` interpolates ``values`` at ``times``
    (piecewise linear, or monotone cubic with ``kind="pchip"``), held constant outside.

    Parameters
    ----------
    times : array_like
        Strictly increasing knots (>= 0), at least two.
    values : array_like
        Real values at the knots.
    kind : {"linear", "pchip"}
    """

    KINDS = ("linear", "pchip")

    def __init__(self, times, values, kind: str = "linear"):
        t = np.asarray(times, dtype=float)
        v = np.asarray(values, dtype=float)
        if t.ndim != 1 or t.size < 2 or not np.all(np.isfinite(t)) or not np.all(np.diff(t) > 0):
            raise ValueError("Ramp times must be a 1-D, finite, strictly increasing sequence of at least two times")
        if v.shape != t.shape or not np.all(np.isfinite(v)):
            raise ValueError(f"Ramp values must be {t.size} finite real numbers, one per time")
        if kind not in self.KINDS:
            raise ValueError(f"Ramp kind must be one of {', '.join(self.KINDS)}, got {kind!r}")
        self.times, self.values, self.kind = t, v, kind
        self.times.setflags(write=False)
        self.values.setflags(write=False)
        self._spline = None
        if kind == "pchip":
            from scipy.interpolate import PchipInterpolator

            self._spline = PchipInterpolator(t, v, extrapolate=False)

    @classmethod
    def linear(cls, t0: float, t1: float, v0: float, v1: float) -> "Ramp":
        """From ``v0`` (t <= t0) linearly to ``v1`` (t >= t1)."""
        return cls([t0, t1], [v0, v1])

    def __call__(self, t):
        t = np.clip(np.asarray(t, dtype=float), self.times[0], self.times[-1])
        if self._spline is None:
            out = np.interp(t, self.times, self.values)
        else:
            out = self._spline(t)
        return float(out) if np.ndim(out) == 0 else out

    def to_dict(self) -> dict:
        return {"ramp": self.kind, "times": self.times.tolist(), "values": self.values.tolist()}

    @classmethod
    def from_dict(cls, d) -> "Ramp":
        return cls(d["times"], d["values"], d["ramp"])

    def __eq__(self, other):
        return (isinstance(other, Ramp) and self.kind == other.kind and np.array_equal(self.times, other.times)
                and np.array_equal(self.values, other.values))

    def __hash__(self):
        return hash((self.kind, self.times.tobytes(), self.values.tobytes()))

    def __repr__(self):
        return f"Ramp({self.times.tolist()}, {self.values.tolist()}, kind={self.kind!r})"

    def __reduce__(self):
        return (Ramp, (self.times, self.values, self.kind))


class SampledFunction:
    """What a plain function of time (not a :class:`Ramp`) becomes in a saved Result: its name and
    its values ``f(t_i)`` on the Result's output times. It cannot be evaluated: the model of a
    loaded Result that had one cannot be rerun without the function itself."""

    def __init__(self, name, times, values):
        self.name = str(name)
        self.times = np.asarray(times, dtype=float)
        self.values = np.asarray(values, dtype=float)

    @classmethod
    def of(cls, f, times) -> "SampledFunction":
        """Samples of ``f`` at ``times`` (its ``__qualname__`` as the name, else its repr)."""
        if isinstance(f, SampledFunction):
            return f
        name = getattr(f, "__qualname__", None) or repr(f)
        return cls(name, times, [float(f(float(t))) for t in np.asarray(times, dtype=float)])

    def __call__(self, t):
        raise RuntimeError(f"the coefficient was the function {self.name!r}, saved only as its samples on the output "
                           "times (.times, .values); it cannot be rerun without the function: rebuild the Model "
                           "with it, or with ps.Ramp(times, values) of the samples")

    def to_dict(self) -> dict:
        return {"sampled": self.name, "times": self.times.tolist(), "values": self.values.tolist()}

    @classmethod
    def from_dict(cls, d) -> "SampledFunction":
        return cls(d["sampled"], d["times"], d["values"])

    def __eq__(self, other):
        return (isinstance(other, SampledFunction) and self.name == other.name
                and np.array_equal(self.times, other.times) and np.array_equal(self.values, other.values))

    def __hash__(self):
        return hash((self.name, self.times.tobytes(), self.values.tobytes()))

    def __repr__(self):
        return f"SampledFunction({self.name!r}, {self.times.size} samples)"


def saved_coefficient(value, name, sample_times=None):
    """The JSON form of a coefficient: a number, a Ramp's dict, or (with ``sample_times``) a plain
    function's :class:`SampledFunction` dict; a function without sample times raises TypeError."""
    if isinstance(value, (Ramp, SampledFunction)):
        return value.to_dict()
    if callable(value):
        if sample_times is None:
            raise TypeError(f"{name} is a function ({value!r}) that cannot be saved; use ps.Ramp for "
                            "a time profile that results can store")
        return SampledFunction.of(value, sample_times).to_dict()
    return value


def check_real(value, name: str, *, nonnegative: bool = False, what: str = "a real number") -> float:
    """``value`` as a float, or raise naming ``name`` if it is not a finite real (>= 0 if asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {what}, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_coefficient(value, name: str, *, nonnegative: bool = False):
    """A real finite number (returned as float) or a callable of time (returned as is)."""
    if callable(value):
        if isinstance(value, type):
            raise TypeError(f"{name} must be a real number or a function of time, got the class {value.__name__}")
        return value
    return check_real(value, name, nonnegative=nonnegative, what="a real number or a function of time (e.g. ps.Ramp)")


class HamiltonianTerms(Mapping):
    """Immutable, hashable mapping ``key -> coefficient`` in the canonical order of :data:`KEYS`
    (zero coefficients dropped)."""

    __slots__ = ("_items",)

    def __init__(self, items=()):
        d = dict(items)
        self._items = tuple((k, d[k]) for k in KEYS if k in d)

    def __getitem__(self, key):
        for k, v in self._items:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self):
        return (k for k, _ in self._items)

    def __len__(self):
        return len(self._items)

    def __hash__(self):
        return hash(self._items)

    def __eq__(self, other):
        if isinstance(other, HamiltonianTerms):
            return self._items == other._items
        return isinstance(other, Mapping) and dict(self._items) == dict(other)

    def __repr__(self):
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in self._items) + "}"

    @property
    def time_dependent(self) -> bool:
        return any(callable(v) for _, v in self._items)

    def at(self, t: float) -> "HamiltonianTerms":
        """The terms with every function of time evaluated at ``t``."""
        return HamiltonianTerms((k, float(v(t)) if callable(v) else v) for k, v in self._items)

    def to_dict(self, sample_times=None) -> dict:
        """JSON-able form (Ramps as dicts); a callable that is not a Ramp raises, or with
        ``sample_times`` is stored as its samples (:class:`SampledFunction`)."""
        return {k: saved_coefficient(v, f"hamiltonian[{k!r}]", sample_times) for k, v in self._items}


def _from_saved(value):
    if isinstance(value, Mapping) and "sampled" in value:
        return SampledFunction.from_dict(value)
    return Ramp.from_dict(value) if isinstance(value, Mapping) and "ramp" in value else value


def parse_hamiltonian(H, N: int) -> HamiltonianTerms:
    """Canonical terms of ``H`` (None, a dict, a HamiltonianTerms or a qutip.Qobj) for N atoms.

    Raises
    ------
    ValueError / TypeError
        Naming the offending key or saying why a Qobj is refused (shape, not Hermitian, not of
        degree <= 2 in collective spins).
    """
    if H is None:
        return HamiltonianTerms()
    if isinstance(H, HamiltonianTerms):
        return H
    if isinstance(H, Mapping):
        out = {}
        for key, value in H.items():
            canon = _ALIASES.get(" ".join(str(key).split()), " ".join(str(key).split()))
            if canon not in KEYS:
                close = difflib.get_close_matches(str(key), KEYS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"hamiltonian: unknown term {key!r}{hint}; terms: {', '.join(map(repr, KEYS))}")
            if canon in out:
                raise ValueError(f"hamiltonian: term {canon!r} given twice (as {key!r})")
            value = check_coefficient(_from_saved(value), f"hamiltonian[{key!r}]")
            if callable(value) or value != 0:
                out[canon] = value
        return HamiltonianTerms(out)
    try:
        import qutip
    except ImportError:  # pragma: no cover - qutip is a dependency
        qutip = None
    if qutip is not None and isinstance(H, qutip.Qobj):
        return HamiltonianTerms(decompose_qobj(H, N))
    raise TypeError(f"hamiltonian must be a dict of terms {{'Jz': ..., 'Jz Jz': ...}} or a qutip.Qobj, "
                    f"got {type(H).__name__}")


def _basis_operators(N: int, dim: int):
    """(names, matrices) of 1, J_a and (J_aJ_b + J_bJ_a)/2 in the basis of a Qobj of size ``dim``."""
    import qutip

    nds = dicke.num_dicke_states(N)
    if dim == N + 1:
        J = {a: qutip.jmat(N / 2, a).full() for a in "xyz"}
    elif dim == nds:
        from qutip import piqs

        J = {a: piqs.jspin(N, a, basis="dicke").full() for a in "xyz"}
    else:
        raise ValueError(f"hamiltonian: a Qobj for N = {N} atoms must be {N + 1} x {N + 1} (qutip.jmat(N/2, ...)) "
                         f"or {nds} x {nds} (qutip.piqs.jspin(N, ...), Dicke basis), got {dim} x {dim}")
    names, mats = ["1"], [np.eye(dim)]
    for a in "xyz":
        names.append(f"J{a}")
        mats.append(J[a])
    for key in ("Jx Jx", "Jy Jy", "Jz Jz", "Jx Jy", "Jx Jz", "Jy Jz"):
        a, b = key[1], key[4]
        names.append(key)
        mats.append((J[a] @ J[b] + J[b] @ J[a]) / 2)
    return names, mats


def decompose_qobj(H, N: int) -> dict:
    """Coefficients of a Qobj on {J_a, (J_aJ_b + J_bJ_a)/2} (the identity part is dropped).

    Solves the real least-squares problem vec(H) = sum_k c_k vec(B_k). In the j = N/2 block
    Jx^2 + Jy^2 + Jz^2 = j(j+1) is a multiple of 1, so the three squares are defined up to a common
    shift; the one returned makes the median of (c_xx, c_yy, c_zz) zero (Jz^2 stays Jz^2). A
    multiple of J^2 commutes with every permutation-invariant state, so the choice does not
    change any dynamics.
    """
    M = H.full()
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"hamiltonian: a Qobj must be a square operator, got shape {M.shape}")
    scale = max(np.linalg.norm(M), 1e-300)
    herm = np.linalg.norm(M - M.conj().T)
    if herm > 1e-10 * scale:
        raise ValueError(f"hamiltonian: the Qobj is not Hermitian (||H - H^+|| / ||H|| = {herm / scale:.2e})")
    names, mats = _basis_operators(N, M.shape[0])
    A = np.stack([np.concatenate([B.real.ravel(), B.imag.ravel()]) for B in mats], axis=1)
    b = np.concatenate([M.real.ravel(), M.imag.ravel()])
    c, *_ = np.linalg.lstsq(A, b, rcond=None)
    resid = np.linalg.norm(A @ c - b)
    if resid > DECOMPOSITION_TOL * scale:
        raise ValueError("hamiltonian: the Qobj is not a polynomial of degree <= 2 in collective spins "
                         f"(relative residual {resid / scale:.2e} of its best fit on J_a and (J_aJ_b + J_bJ_a)/2)")
    coef = dict(zip(names, c))
    if M.shape[0] == N + 1:
        shift = -float(np.median([coef["Jx Jx"], coef["Jy Jy"], coef["Jz Jz"]]))
        for k in ("Jx Jx", "Jy Jy", "Jz Jz"):
            coef[k] += shift
    tiny = 1e-12 * scale
    return {k: float(v) for k, v in coef.items() if k != "1" and abs(v) > tiny}


def collective_terms(chi, omega, extra: Mapping) -> dict:
    """All terms of H = chi J+J- + omega Jx + extra, merged per key (coefficients may be callables:
    then the merged coefficient is their sum as a function of time)."""
    out = dict(extra)
    for key, value in (("J+ J-", chi), ("Jx", omega)):
        if callable(value) or value != 0:
            old = out.get(key, 0.0)
            if not callable(old) and old == 0:
                out[key] = value
            elif callable(old) or callable(value):
                out[key] = _Sum(old, value)
            else:
                out[key] = old + value
    return {k: out[k] for k in KEYS if k in out and (callable(out[k]) or out[k] != 0)}


class _Sum:
    """f(t) + g(t) of two coefficients (numbers or callables); picklable."""

    def __init__(self, f, g):
        self.f, self.g = f, g

    def __call__(self, t):
        return (self.f(t) if callable(self.f) else self.f) + (self.g(t) if callable(self.g) else self.g)


def knots(value) -> list:
    """Times where a coefficient is not smooth: the knots of its Ramps (of both parts of a sum);
    none for numbers and other callables."""
    if isinstance(value, Ramp):
        return list(value.times)
    if isinstance(value, _Sum):
        return knots(value.f) + knots(value.g)
    return []


def _ladder_bands(j: float) -> dict:
    """Diagonals of J+, J-, Jz in the block |j, m>, m = j ... -j: {name: {offset: array}} with
    ``band[o] == np.diag(op, o)``."""
    c = np.asarray(dicke.jplus_elements(j), dtype=float)
    m = dicke.m_values(j)
    return {"J+": {1: c + 0j}, "J-": {-1: c + 0j}, "Jz": {0: m + 0j}}


def _mul(A: dict, B: dict, d: int) -> dict:
    """Product of two banded d x d matrices given by their diagonals."""
    out = {}
    for p, a in A.items():
        for q, b in B.items():
            o = p + q
            if abs(o) >= d:
                continue
            n = d - abs(o)
            # (AB)[i, i+o] = A[i, i+p] B[i+p, i+o]; row range of the o-diagonal: i in [max(0,-o), max(0,-o)+n)
            i0 = max(0, -o)
            i = np.arange(i0, i0 + n)
            ia = i - max(0, -p)  # index into diag p: A[i, i+p] is element i - max(0, -p)
            ib = (i + p) - max(0, -q)
            ok = (ia >= 0) & (ia < a.size) & (ib >= 0) & (ib < b.size)
            v = np.zeros(n, dtype=complex)
            v[ok] = a[ia[ok]] * b[ib[ok]]
            out[o] = out.get(o, 0) + v
    return out


def _add(A: dict, B: dict, s=1.0) -> dict:
    out = {o: v.copy() for o, v in A.items()}
    for o, v in B.items():
        out[o] = out[o] + s * v if o in out else s * v
    return out


def _spin_ops(j: float) -> dict:
    """Diagonals of Jx, Jy, Jz, J+, J- in block j."""
    ops = _ladder_bands(j)
    jp, jm = ops["J+"], ops["J-"]
    return {"Jx": {1: jp[1] / 2, -1: jm[-1] / 2}, "Jy": {1: jp[1] / 2j, -1: -jm[-1] / 2j}, "Jz": ops["Jz"],
            "J+": jp, "J-": jm}


def dicke_bands(terms: Mapping, j: float, t: float | None = None) -> dict:
    """Diagonals ``{offset: array}`` (offsets -2 ... 2, ``band[o] == np.diag(H_j, o)``) of the
    Hermitian matrix of ``sum_key terms[key] * op(key)`` in the block |j, m>, m = j ... -j.

    ``terms`` as from :func:`collective_terms` (or a Model's ``hamiltonian``); callables are
    evaluated at ``t`` (required then).
    """
    d = int(round(2 * j)) + 1
    ops = _spin_ops(j)
    out = {o: np.zeros(d - abs(o), dtype=complex) for o in range(-min(2, d - 1), min(2, d - 1) + 1)}
    for key, value in terms.items():
        if callable(value):
            if t is None:
                raise ValueError(f"term {key!r} depends on time: pass t")
            value = float(value(t))
        if value == 0:
            continue
        if key in LINEAR_KEYS:
            op = ops[key]
        elif key == "J+ J-":
            op = _mul(ops["J+"], ops["J-"], d)
        else:
            a, b = ops[key[:2]], ops[key[3:]]
            op = _add(_mul(a, b, d), _mul(b, a, d))
            op = {o: v / 2 for o, v in op.items()}
        for o, v in op.items():
            if o in out:  # (a 1 x 1 block has no off-diagonals)
                out[o] = out[o] + value * v
    return out


def band_matrix(bands: dict, d: int) -> np.ndarray:
    """Dense d x d matrix from its diagonals (tests and small blocks)."""
    M = np.zeros((d, d), dtype=complex)
    for o, v in bands.items():
        M += np.diag(v, o)
    return M
