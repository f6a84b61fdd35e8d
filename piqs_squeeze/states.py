"""Coherent spin states in every representation the methods need.

A coherent spin state (CSS) points every atom along the unit vector
n = (sin theta cos phi, sin theta sin phi, cos theta); theta = 0 is all atoms up (|j, j>),
the paper's initial state "polarized along -x" is theta = pi/2, phi = pi.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from .model import check_N

__all__ = ["CoherentSpinState", "css", "css_along", "css_amplitudes", "css_moments"]


@dataclass(frozen=True)
class CoherentSpinState:
    """Direction of a coherent spin state; the methods turn it into their own representation."""

    theta: float = math.pi / 2
    phi: float = math.pi

    def __post_init__(self):
        for name in ("theta", "phi"):
            v = getattr(self, name)
            if not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v):
                raise ValueError(f"{name} must be a finite angle in radians, got {v!r}")
            object.__setattr__(self, name, float(v))

    @property
    def direction(self) -> np.ndarray:
        """Unit Bloch vector n."""
        st = math.sin(self.theta)
        return np.array([st * math.cos(self.phi), st * math.sin(self.phi), math.cos(self.theta)])

    def amplitudes(self, N: int) -> np.ndarray:
        """Dicke amplitudes in the j = N/2 sector (see :func:`css_amplitudes`)."""
        return css_amplitudes(N, self.theta, self.phi)

    def moments(self, N: int):
        """(mean, second) of the collective spin (see :func:`css_moments`)."""
        return css_moments(N, self.theta, self.phi)

    def to_dict(self):
        return {"kind": "css", "theta": self.theta, "phi": self.phi}


def css(theta: float = math.pi / 2, phi: float = math.pi) -> CoherentSpinState:
    """Coherent spin state along (theta, phi); the default points along -x."""
    return CoherentSpinState(theta, phi)


def css_along(vector) -> CoherentSpinState:
    """Coherent spin state along a (not necessarily normalized) 3-vector."""
    v = np.asarray(vector, dtype=float)
    r = float(np.linalg.norm(v))
    if v.shape != (3,) or not np.isfinite(r) or r == 0:
        raise ValueError(f"css_along needs a finite non-zero 3-vector, got {vector!r}")
    return CoherentSpinState(math.acos(max(-1.0, min(1.0, v[2] / r))), math.atan2(v[1], v[0]))


def css_amplitudes(N: int, theta: float = math.pi / 2, phi: float = math.pi) -> np.ndarray:
    """Amplitudes <j, m|theta, phi> in the j = N/2 sector, m = j, ..., -j (length N + 1).

        c_m = sqrt(C(N, j + m)) cos(theta/2)^{j + m} sin(theta/2)^{j - m} e^{i (j - m) phi}

    (each atom cos(theta/2)|up> + e^{i phi} sin(theta/2)|down>). The magnitude is formed in log
    space, so that N = 1e5 neither overflows nor underflows the binomial; amplitudes far in the
    tails underflow to exactly 0, which is their correct double-precision value.
    """
    N = check_N(N)
    k = np.arange(N + 1)  # number of down atoms, j - m
    up = N - k
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        logc, logs = math.log(abs(c)) if c != 0 else -np.inf, math.log(abs(s)) if s != 0 else -np.inf
        logmag = 0.5 * (gammaln(N + 1.0) - gammaln(up + 1.0) - gammaln(k + 1.0))
        logmag = logmag + np.where(up > 0, up * logc, 0.0) + np.where(k > 0, k * logs, 0.0)
    sign = np.where((up % 2 == 1) & (c < 0), -1.0, 1.0) * np.where((k % 2 == 1) & (s < 0), -1.0, 1.0)
    amp = sign * np.exp(logmag) * np.exp(1j * k * phi)
    return amp / np.linalg.norm(amp)


def css_moments(N: int, theta: float = math.pi / 2, phi: float = math.pi):
    """Exact collective moments of a CSS with j = N/2 along n:

        <J_a> = j n_a,   <(J_a J_b + J_b J_a)/2> = j (j - 1/2) n_a n_b + (j / 2) delta_ab.
    """
    N = check_N(N)
    j = N / 2.0
    n = CoherentSpinState(theta, phi).direction
    return j * n, j * (j - 0.5) * np.outer(n, n) + 0.5 * j * np.eye(3)
