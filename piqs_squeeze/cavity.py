"""An explicit single cavity mode coupled to the collective spin (``Model(cavity=Cavity(...))``).

With a cavity the master equation of :class:`~piqs_squeeze.model.Model` gains (hbar = 1)

    H += detuning a^+ a + g (a^+ J- + a J+) + drive (a + a^+),      + kappa D[a] rho,

the spin part staying what the Model says. The paper's collective decay is the bad-cavity limit
of this: for kappa >> g sqrt(N), Omega the mode follows the spin adiabatically,
a ~ -2 i g J- / kappa (detuning = drive = 0), and eliminating it leaves
``Gamma_eff D[J-]`` with Gamma_eff = 4 g^2 / kappa (:meth:`Cavity.gamma_eff`).

The initial state of a cavity model is the spin state (whatever the method takes) times the cavity
vacuum. The Fock space of the exact method is cut at ``nmax`` photons (levels 0..nmax); ``nmax =
None`` lets the method choose it from the parameters and check it (:func:`suggest_nmax`).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, replace

from .hamiltonian import check_real

__all__ = ["Cavity", "suggest_nmax"]


@dataclass(frozen=True)
class Cavity:
    """A lossy, possibly detuned and driven cavity mode coupled to J+-.

    Parameters
    ----------
    g : float
        Atom-cavity coupling in ``g (a^+ J- + a J+)`` (>= 0).
    kappa : float
        Cavity field decay rate of ``kappa D[a]`` (>= 0; photon number decays at kappa).
    detuning : float
        ``detuning a^+ a`` (any sign; cavity frequency minus the frame's frequency).
    drive : float
        Coherent cavity drive ``drive (a + a^+)`` (any sign).
    nmax : int or None
        Fock cut-off of the exact method (levels 0..nmax); None: chosen and checked by the method.
    """

    g: float
    kappa: float
    detuning: float = 0.0
    drive: float = 0.0
    nmax: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "g", check_real(self.g, "cavity.g", nonnegative=True))
        object.__setattr__(self, "kappa", check_real(self.kappa, "cavity.kappa", nonnegative=True))
        object.__setattr__(self, "detuning", check_real(self.detuning, "cavity.detuning"))
        object.__setattr__(self, "drive", check_real(self.drive, "cavity.drive"))
        n = self.nmax
        if n is not None:
            if isinstance(n, bool) or not isinstance(n, numbers.Integral):
                if isinstance(n, numbers.Real) and not isinstance(n, bool) and float(n).is_integer():
                    n = int(n)
                else:
                    raise TypeError(f"cavity.nmax must be an integer >= 1 or None, got {self.nmax!r}")
            if int(n) < 1:
                raise ValueError(f"cavity.nmax must be an integer >= 1 or None, got {n}")
            object.__setattr__(self, "nmax", int(n))

    @property
    def gamma_eff(self) -> float:
        """Collective decay of the adiabatically eliminated cavity (detuning = 0), 4 g^2 / kappa."""
        return math.inf if self.kappa == 0 else 4.0 * self.g**2 / self.kappa

    @property
    def conserves_excitations(self) -> bool:
        """Whether the cavity terms keep a^+ a + Jz (no cavity drive)."""
        return self.drive == 0

    def replace(self, **changes) -> "Cavity":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d) -> "Cavity":
        if isinstance(d, Cavity):
            return d
        if not isinstance(d, dict):
            raise TypeError(f"cavity must be a piqs_squeeze.Cavity or a dict of its parameters, got {d!r}")
        unknown = set(d) - {"g", "kappa", "detuning", "drive", "nmax"}
        if unknown:
            raise TypeError(f"cavity: unknown parameter(s) {sorted(unknown)}; known: g, kappa, detuning, drive, nmax")
        return cls(**d)

    def __str__(self) -> str:
        parts = [f"g={self.g:.6g}", f"kappa={self.kappa:.6g}"]
        if self.detuning:
            parts.append(f"detuning={self.detuning:.6g}")
        if self.drive:
            parts.append(f"drive={self.drive:.6g}")
        if self.nmax is not None:
            parts.append(f"nmax={self.nmax}")
        return "Cavity(" + ", ".join(parts) + ")"


def suggest_nmax(cavity: Cavity, N: int, omega: float = 0.0) -> int:
    """A Fock cut-off from the parameters (the run then checks it by the top level's population).

    The adiabatic field a ~ -(g J- + drive) / (detuning - i kappa / 2) bounds the photon number by

        n_ad = (g sqrt(<J+J->_max) + |drive|)^2 / (detuning^2 + kappa^2 / 4),   <J+J->_max = (N/2)(N/2 + 1),

    and without drives the photons cannot outnumber the N atomic excitations: n_est = n_ad, capped
    at N when ``drive = 0`` and ``omega = 0``. The cut-off is n_est plus six standard deviations of
    a Poisson distribution plus 4 levels.
    """
    jpjm = 0.5 * N * (0.5 * N + 1.0)
    den = cavity.detuning**2 + cavity.kappa**2 / 4.0
    n_est = math.inf if den == 0 else (cavity.g * math.sqrt(jpjm) + abs(cavity.drive)) ** 2 / den
    if cavity.drive == 0 and omega == 0:
        n_est = min(n_est, float(N))
    if not math.isfinite(n_est):
        n_est = float(N) + 4 * math.sqrt(N)
    return int(math.ceil(n_est + 6.0 * math.sqrt(n_est) + 4.0))
