"""Parameters of the driven-dissipative spin model, derived thresholds and input checks.

The master equation (hbar = 1) is

    d rho/dt = -i[H, rho] + gamma D[J-] rho + gamma_s sum_i D[sigma_i^-] rho
               + dephasing sum_i D[sigma_i^z / 2] rho + pumping sum_i D[sigma_i^+] rho
               + collective_dephasing D[Jz] rho + collective_pumping D[J+] rho,
    H = chi J+ J- + omega Jx + H_extra,      D[O] rho = O rho O^+ - {O^+ O, rho} / 2,

where ``H_extra`` is any quadratic collective Hamiltonian (``hamiltonian=``, see
:mod:`piqs_squeeze.hamiltonian`). omega, chi and every term of H_extra may be functions of time
(:class:`~piqs_squeeze.hamiltonian.Ramp` or any callable); :meth:`Model.at` gives the model at
one instant.

The rates of the processes beyond the paper follow qutip.piqs' conventions exactly
(``qutip.piqs.Dicke(N, emission=gamma_s, dephasing=..., pumping=..., collective_emission=gamma,
collective_dephasing=..., collective_pumping=...)``): local dephasing at rate ``dephasing`` is
``dephasing * D[sigma^z/2]``, i.e. single-atom coherences decay at ``dephasing / 2``.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields, replace

import numpy as np

from .cavity import Cavity
from .hamiltonian import (HamiltonianTerms, Ramp, _from_saved, check_coefficient, check_real, collective_terms,
                          parse_hamiltonian, saved_coefficient)

__all__ = ["Model", "LOCAL_RATES", "COLLECTIVE_RATES", "check_times", "check_N"]

#: Rates of processes acting on each atom separately (they break the J^2 symmetry).
LOCAL_RATES = ("gamma_s", "dephasing", "pumping")
#: Dissipative rates of collective processes.
COLLECTIVE_RATES = ("gamma", "collective_dephasing", "collective_pumping")
#: Parameters that may be functions of time (besides the terms of ``hamiltonian``).
TIME_DEPENDENT = ("omega", "chi")


def check_N(N, name="N") -> int:
    """Return ``N`` as a Python int, or raise if it is not an integer >= 1.

    A real number with an integral value (``20.0``, ``numpy.float64(20.0)``, ``1e4`` as a config
    file or a physicist writes it) is converted deliberately to that int; anything else (``20.5``,
    ``"20"``, ``True``, NaN) is refused with a ``TypeError`` naming ``name``.
    """
    if isinstance(N, bool) or not isinstance(N, numbers.Integral):
        if isinstance(N, numbers.Real) and not isinstance(N, bool) and float(N).is_integer():
            N = int(N)
        else:
            raise TypeError(f"{name} must be an integer >= 1 (number of atoms), got {N!r}")
    N = int(N)
    if N < 1:
        raise ValueError(f"{name} must be an integer >= 1 (number of atoms), got {N}")
    return N


def check_times(times, name="times") -> np.ndarray:
    """Validate output times: a non-empty 1-D array of finite, strictly increasing floats >= 0.

    Times must be numbers: strings (``["0", "0.5"]``, ``"0 1"``), booleans and complex values are
    refused with a ``TypeError`` naming ``name`` rather than parsed.
    """
    if isinstance(times, (str, bytes)):
        raise TypeError(f"{name} must be numbers, got the string {times!r}; pass numbers, "
                        "e.g. numpy.linspace(0.0, 5.0, 101)")
    raw = np.asarray(times)
    if raw.dtype.kind in "USO":
        bad = next((x for x in raw.ravel() if isinstance(x, (str, bytes, np.str_, np.bytes_))), None)
        if bad is not None:
            raise TypeError(f"{name} must be numbers, got the string {str(bad)!r} among them; pass numbers "
                            "(0.5, not '0.5')")
    if raw.dtype.kind in "bc":
        raise TypeError(f"{name} must be real numbers, got {raw.dtype} values")
    try:
        t = raw.astype(float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be real numbers: {exc}") from None
    if t.ndim == 0:
        t = t[None]
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of times, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    if t[0] < 0:
        raise ValueError(f"{name} must be >= 0, got first time {t[0]}")
    if t.size > 1 and not np.all(np.diff(t) > 0):
        raise ValueError(f"{name} must be strictly increasing")
    return t


@dataclass(frozen=True)
class Model:
    """Parameters of the master equation (immutable, hashable, comparable).

    Parameters
    ----------
    N : int
        Number of two-level atoms (>= 1). An integral float (``N=1e4``, ``N=20.0``) is taken as
        that integer; a non-integral one or a string is refused.
    omega : float or callable
        Collective Rabi drive Omega in ``H = chi J+ J- + Omega Jx + H_extra`` (>= 0), or a function
        of time (:class:`~piqs_squeeze.hamiltonian.Ramp`).
    chi : float or callable
        Collective exchange (any sign), or a function of time.
    gamma : float
        Collective decay rate Gamma of ``Gamma D[J-]`` (>= 0). Default 1: times are in 1/Gamma.
    gamma_s : float
        Single-particle spontaneous emission ``gamma_s sum_i D[sigma_i^-]`` (qutip.piqs ``emission``).
    dephasing : float
        Local dephasing ``dephasing sum_i D[sigma_i^z / 2]`` (qutip.piqs convention).
    pumping : float
        Local incoherent pumping ``pumping sum_i D[sigma_i^+]``.
    collective_dephasing : float
        ``collective_dephasing D[Jz]``.
    collective_pumping : float
        ``collective_pumping D[J+]``.
    hamiltonian : dict or qutip.Qobj, optional
        Extra quadratic collective Hamiltonian H_extra: a dict of real coefficients (or functions
        of time) with keys among ``"Jx", "Jy", "Jz", "Jx Jx", "Jy Jy", "Jz Jz", "Jx Jy", "Jx Jz",
        "Jy Jz", "J+ J-"`` (for a != b the symmetrised (JaJb + JbJa)/2), or a Hermitian Qobj of
        collective spins (N + 1 dimensional, or qutip.piqs' Dicke basis) that is decomposed on
        them. Stored as a :class:`~piqs_squeeze.hamiltonian.HamiltonianTerms` mapping.
    cavity : Cavity or dict, optional
        An explicit cavity mode (:class:`~piqs_squeeze.cavity.Cavity`): H gains
        ``detuning a^+ a + g (a^+ J- + a J+) + drive (a + a^+)`` and the generator ``kappa D[a]``;
        the initial state is the spin state times the cavity vacuum. None (default): no cavity.
    """

    N: int
    omega: float = 0.0
    chi: float = 0.0
    gamma: float = 1.0
    gamma_s: float = 0.0
    dephasing: float = 0.0
    pumping: float = 0.0
    collective_dephasing: float = 0.0
    collective_pumping: float = 0.0
    hamiltonian: HamiltonianTerms = HamiltonianTerms()
    cavity: Cavity | None = None

    def __post_init__(self):
        object.__setattr__(self, "N", check_N(self.N))
        for f in fields(self):
            if f.name in ("N", "hamiltonian", "cavity"):
                continue
            if f.name in TIME_DEPENDENT:
                value = check_coefficient(getattr(self, f.name), f.name, nonnegative=f.name == "omega")
            else:
                value = check_real(getattr(self, f.name), f.name, nonnegative=True)
            object.__setattr__(self, f.name, value)
        object.__setattr__(self, "hamiltonian", parse_hamiltonian(self.hamiltonian, self.N))
        if self.cavity is not None:
            object.__setattr__(self, "cavity", Cavity.from_dict(self.cavity))

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_upsilon_ratio(cls, N, ratio, *, chi, gamma=1.0, gamma_s=0.0, **rates) -> "Model":
        """Model with drive ``Omega = N * ratio * Upsilon_c / 2``, Upsilon_c = sqrt(Gamma^2 + 4 chi^2)."""
        N = check_N(N)
        ratio = check_real(ratio, "ratio", nonnegative=True)
        chi = check_real(chi, "chi", nonnegative=False)
        gamma = check_real(gamma, "gamma", nonnegative=True)
        omega = N * ratio * math.sqrt(gamma**2 + 4 * chi**2) / 2
        return cls(N=N, omega=omega, chi=chi, gamma=gamma, gamma_s=gamma_s, **rates)

    def replace(self, **changes) -> "Model":
        """A copy with some parameters changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self, sample_times=None) -> dict:
        """JSON-able parameters (Ramps as dicts; ``hamiltonian`` only when it has terms). A plain
        function of time raises TypeError, or with ``sample_times`` is stored as its samples
        (:class:`~piqs_squeeze.hamiltonian.SampledFunction`: loads, cannot be rerun)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "hamiltonian":
                if value:
                    out[f.name] = value.to_dict(sample_times)
            elif f.name == "cavity":
                if value is not None:
                    out[f.name] = value.to_dict()
            else:
                out[f.name] = saved_coefficient(value, f.name, sample_times)
        return out

    @classmethod
    def from_dict(cls, d) -> "Model":
        d = {k: (_from_saved(v) if isinstance(v, dict) and ("ramp" in v or "sampled" in v) else v)
             for k, v in d.items()}
        if isinstance(d.get("cavity"), dict):
            d["cavity"] = Cavity.from_dict(d["cavity"])
        return cls(**d)

    @property
    def sampled_functions(self) -> list:
        """Names of the coefficients that are saved samples of a function (not rerunnable)."""
        from .hamiltonian import SampledFunction

        out = [f.name for f in fields(self) if isinstance(getattr(self, f.name), SampledFunction)]
        return out + [f"hamiltonian[{k!r}]" for k, v in self.hamiltonian.items() if isinstance(v, SampledFunction)]

    # ----------------------------------------------------------------- general Hamiltonians
    @property
    def time_dependent(self) -> bool:
        """Whether omega, chi or a term of ``hamiltonian`` is a function of time."""
        return any(callable(getattr(self, n)) for n in TIME_DEPENDENT) or self.hamiltonian.time_dependent

    @property
    def is_paper_model(self) -> bool:
        """True for H = chi J+J- + omega Jx with constant coefficients (no extra terms).

        It speaks of the spin Hamiltonian only; a cavity is :attr:`cavity`."""
        return not self.hamiltonian and not self.time_dependent

    def at(self, t: float) -> "Model":
        """The model with every function of time evaluated at ``t`` (itself when constant)."""
        if not self.time_dependent:
            return self
        changes = {n: float(getattr(self, n)(t)) for n in TIME_DEPENDENT if callable(getattr(self, n))}
        return replace(self, hamiltonian=self.hamiltonian.at(t), **changes)

    def hamiltonian_terms(self) -> dict:
        """Every term of H = chi J+J- + omega Jx + H_extra, merged per key (see
        :func:`piqs_squeeze.hamiltonian.collective_terms`)."""
        return collective_terms(self.chi, self.omega, self.hamiltonian)

    def _constant(self, name):
        value = getattr(self, name)
        if callable(value):
            raise TypeError(f"{name} depends on time; use model.at(t).{name} for its value at time t")
        return value

    # ----------------------------------------------------------------- derived
    @property
    def upsilon(self) -> float:
        """Upsilon = 2 Omega / N."""
        return 2.0 * self._constant("omega") / self.N

    @property
    def upsilon_c(self) -> float:
        """Collective critical drive Upsilon_c = sqrt(Gamma^2 + 4 chi^2) (paper Eq. 3)."""
        return math.hypot(self.gamma, 2.0 * self._constant("chi"))

    @property
    def upsilon_c_prime(self) -> float:
        """Mean-field critical drive with single-particle emission, Upsilon'_c = Upsilon_c / sqrt(2)."""
        return self.upsilon_c / math.sqrt(2.0)

    @property
    def ratio(self) -> float:
        """Upsilon / Upsilon_c (inf when Upsilon_c = 0 and Omega > 0)."""
        if self.upsilon_c == 0:
            return math.inf if self._constant("omega") > 0 else 0.0
        return self.upsilon / self.upsilon_c

    @property
    def n_c(self) -> float:
        """Critical effective atom number N_c = 2 Omega / Upsilon_c."""
        return 2.0 * self._constant("omega") / self.upsilon_c if self.upsilon_c > 0 else math.inf

    @property
    def is_collective(self) -> bool:
        """True when no local process is on: J^2 is conserved."""
        return all(getattr(self, r) == 0 for r in LOCAL_RATES)

    @property
    def phase(self) -> str:
        """Steady-state phase in the thermodynamic limit.

        ``"superradiant"`` (``|<Jz>| > 0``) below the threshold, ``"normal"`` (<Jz> = 0) above it.
        The threshold is Upsilon_c for the collective model and Upsilon'_c once local processes
        are on (paper, mean-field analysis S5-S10). For a collective model the superradiant
        phase is the squeezed one; with local emission the region Upsilon'_c < Upsilon <
        Upsilon_c (``"transient"`` in :attr:`region`) is where transient squeezing is enhanced.
        """
        threshold = self.upsilon_c if self.is_collective else self.upsilon_c_prime
        return "superradiant" if self.upsilon < threshold else "normal"

    @property
    def region(self) -> str:
        """Which of the paper's Fig. 1(a) regions the drive falls in:
        ``"below_prime"`` (Upsilon < Upsilon'_c), ``"between"`` (Upsilon'_c <= Upsilon < Upsilon_c)
        or ``"above"`` (Upsilon >= Upsilon_c)."""
        if self.upsilon < self.upsilon_c_prime:
            return "below_prime"
        if self.upsilon < self.upsilon_c:
            return "between"
        return "above"

    def __str__(self) -> str:
        parts = [f"N={self.N}"]
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("N", "hamiltonian", "cavity"):
                continue
            if callable(value):
                parts.append(f"{f.name}={value!r}")
            elif value != 0 or f.name in ("omega", "gamma"):
                parts.append(f"{f.name}={value:.6g}")
        if self.hamiltonian:
            parts.append("hamiltonian={" + ", ".join(
                f"{k!r}: {v!r}" if callable(v) else f"{k!r}: {v:.6g}" for k, v in self.hamiltonian.items()) + "}")
        if self.cavity is not None:
            parts.append(f"cavity={self.cavity}")
        if self.time_dependent:
            return "Model(" + ", ".join(parts) + ")"
        return "Model(" + ", ".join(parts) + f"; Upsilon/Upsilon_c={self.ratio:.4g})"
