"""Helpers shared by the MCWF propagators (numba): the bands of A = -i H_eff on a window of the
sector, <J->, the cut of a state's negligible tails, the infinity norm of a small matrix, and the
bracketed (Illinois false-position) root search used for jump times."""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["bands", "expect_jminus", "extent", "trim", "norm_inf", "false_position", "illinois_update"]


@njit(cache=True)
def bands(diag0, low0, c, gam, beta, a, b, diag, low):
    """Diagonal and lower band of A = -i H_eff(beta) on [a, b) from the beta = 0 bands (the upper
    band, -i up, does not depend on beta): beta adds -i Gamma |beta|^2 / 2 and -i Gamma beta* J-."""
    b2 = beta.real ** 2 + beta.imag ** 2
    for k in range(a, b):
        diag[k] = -1j * (diag0[k] - 0.5j * gam * b2)
    lowc = -1j * (-1j * gam * np.conj(beta))
    for k in range(a, b - 1):
        low[k] = -1j * low0[k] + lowc * c[k]


@njit(cache=True)
def expect_jminus(psi, c, lo, hi):
    """<J-> = sum_k c_{k-1} conj(psi_k) psi_{k-1} over the window."""
    acc = 0j
    for k in range(max(lo, 1), hi):
        acc += c[k - 1] * np.conj(psi[k]) * psi[k - 1]
    return acc


@njit(cache=True)
def extent(psi, a, b, eps2):
    """(lo, hi, ||psi||^2): the smallest window [lo, hi) inside [a, b) whose tails each hold < eps2 of the norm^2."""
    tot = 0.0
    for k in range(a, b):
        tot += psi[k].real ** 2 + psi[k].imag ** 2
    lim = eps2 * tot
    acc = 0.0
    lo = a
    while lo < b - 1:
        acc += psi[lo].real ** 2 + psi[lo].imag ** 2
        if acc >= lim:
            break
        lo += 1
    acc = 0.0
    hi = b
    while hi > lo + 1:
        acc += psi[hi - 1].real ** 2 + psi[hi - 1].imag ** 2
        if acc >= lim:
            break
        hi -= 1
    return lo, hi, tot


@njit(cache=True)
def trim(psi, a, b, eps2):
    """:func:`extent`, and zero psi outside [lo, hi)."""
    lo, hi, tot = extent(psi, a, b, eps2)
    for k in range(a, lo):
        psi[k] = 0j
    for k in range(hi, b):
        psi[k] = 0j
    return lo, hi, tot


@njit(cache=True)
def norm_inf(M):
    """max_i sum_q |M_iq|."""
    nrm = 0.0
    for i in range(M.shape[0]):
        row = 0.0
        for q in range(M.shape[1]):
            row += abs(M[i, q])
        nrm = max(nrm, row)
    return nrm


@njit(cache=True)
def false_position(la, lb, fa, fb):
    """The secant point of the bracket [la, lb] (f(la) > 0 >= f(lb)), or its midpoint if that falls outside."""
    s = (la * fb - lb * fa) / (fb - fa)
    return s if la < s < lb else 0.5 * (la + lb)


@njit(cache=True)
def illinois_update(la, lb, fa, fb, s, fs, side):
    """Shrink the bracket with f(s) = fs; the end kept twice in a row has its f halved (Illinois)."""
    if fs > 0:
        la, fa = s, fs
        if side == 1:
            fb *= 0.5
        side = 1
    else:
        lb, fb = s, fs
        if side == -1:
            fa *= 0.5
        side = -1
    return la, lb, fa, fb, side
