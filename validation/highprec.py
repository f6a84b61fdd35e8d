"""High-precision reference for the analytic collective steady state (needs mpmath).

The populations of rho_ss ~ ((J+ + a*)(J- + a))^-1 obey p_0 = 1, p_k = 1 + r_k p_{k-1},
r_k = k (N - k + 1) / |a|^2 (see :mod:`piqs_squeeze.methods.carmichael`); evaluated here by the plain
recursion in ``dps``-digit arithmetic, independent of the float64 log-space implementation.
"""
from __future__ import annotations

import numpy as np


def carmichael_bands(model, dps: int = 40):
    """(diag, band1, band2) of the normalized analytic steady state, computed with mpmath.

    band1[k] = rho[k+1, k] = -c_k p_k / a and band2[k] = rho[k+2, k] = c_k c_{k+1} p_k / a^2 with
    c_k = sqrt((k + 1)(N - k)) and a = Omega / (2 chi - i Gamma).
    """
    import mpmath

    mpmath.mp.dps = dps
    N = model.N
    a = mpmath.mpf(model.omega) / mpmath.mpc(2 * model.chi, -model.gamma)
    p = [mpmath.mpf(1)]
    for k in range(1, N + 1):
        p.append(1 + k * (N - k + 1) / abs(a) ** 2 * p[-1])
    Z = mpmath.fsum(p)
    p = [x / Z for x in p]
    c = [mpmath.sqrt((i + 1) * (N - i)) for i in range(N)]
    band1 = np.array([complex(-c[k] / a * p[k]) for k in range(N)])
    band2 = np.array([complex(c[k] * c[k + 1] / a**2 * p[k]) for k in range(N - 1)])
    return np.array([float(x) for x in p]), band1, band2
