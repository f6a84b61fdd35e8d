"""Helpers shared by the MCWF propagators (numba): the bands of A = -i H_eff on a window of the
sector, <J->, the cut of a state's negligible tails, the infinity norm of a small matrix, and the
bracketed (Illinois false-position) root search used for jump times."""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["bands", "expect_jminus", "extent", "trim", "norm_inf", "false_position", "illinois_update", "magnus_norms"]


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


@njit(cache=True)
def _nonneg(x):
    """np.maximum(x, 0.0) (+0.0 for x = -0.0, unlike max(x, 0.0))."""
    return x if x > 0.0 else 0.0


@njit(cache=True)
def paper_tables(N, j, omega, chi, gamma, cdeph, cpump, gamma_s, deph, pump, diag0, up, low0, amp):
    """The kernel's tables of sector j for H = chi J+J- + omega Jx (beta = 0): the bands of
    :func:`piqs_squeeze.methods.mcwf.sector.h_eff_bands` into ``diag0`` (d,), ``up``, ``low0``
    (d - 1,) and the amplitudes of :func:`piqs_squeeze.dicke.local_channels` into ``amp`` (9, d)
    (rows in the order gamma_s, dephasing, pumping x dj = -1, 0, 1; rows of a zero rate and of
    channels into sectors that do not exist are left alone). The same operations in the same
    order as those numpy functions, so the same bits, without their per-sector Python overhead."""
    d = diag0.shape[0]
    h = N / 2.0
    jj = j * (j + 1)
    for k in range(d):
        m = j - k
        jpjm = jj - m * m + m
        jmjp = jj - m * m - m
        dec = (gamma * jpjm + cdeph * m * m + cpump * jmjp + gamma_s * (m + N / 2) + pump * (N / 2 - m)
               + deph * N / 4)
        diag0[k] = complex(chi * jpjm - 0.0, 0.0 - 0.5 * dec)
    for k in range(d - 1):
        m = j - (k + 1)
        ck = np.sqrt(_nonneg(jj - m * (m + 1)))
        up[k] = complex(0.5 * omega * ck, 0.0)
        low0[k] = complex(0.5 * omega * ck, 0.0)
    rates = (gamma_s, deph, pump)
    for p in range(3):
        if rates[p] <= 0:
            continue
        for dj in (-1, 0, 1):
            if j + dj > h + 1e-9 or j + dj < -1e-9:
                continue
            row = 3 * p + dj + 1
            for k in range(d):
                m = j - k
                if p == 1:  # dephasing: sigma^z / 2
                    if dj == 0:
                        v = m * np.sqrt((h + 1) / (2 * j * (j + 1))) if j > 0 else 0.0
                    elif dj == -1:
                        v = np.sqrt(_nonneg((h + j + 1) * (j * j - m * m) / (2 * j * (2 * j + 1)) if j > 0 else 0.0))
                    else:
                        v = np.sqrt(_nonneg((h - j) * ((j + 1) * (j + 1) - m * m) / (2 * (j + 1) * (2 * j + 1))))
                else:  # sigma^- (gamma_s) or sigma^+ (pumping: m -> -m)
                    mm = m if p == 0 else -m
                    if dj == 0:
                        v = np.sqrt(_nonneg((h + 1) * (j + mm) * (j - mm + 1) / (2 * j * (j + 1)) if j > 0 else 0.0))
                    elif dj == -1:
                        v = np.sqrt(_nonneg((h + j + 1) * (j + mm) * (j + mm - 1) / (2 * j * (2 * j + 1)) if j > 0
                                        else 0.0))
                    else:
                        v = np.sqrt(_nonneg((h - j) * (j - mm + 1) * (j - mm + 2) / (2 * (j + 1) * (2 * j + 1))))
                amp[row, k] = v


@njit(cache=True)
def _band5(B, x, y):
    """y = B x for a banded block stored as (5, n) rows (row 2 + o holds the diagonal o in its
    first n - |o| entries; ``piqs_squeeze.methods.mcwf.sector._matvec``)."""
    n = x.shape[0]
    for i in range(n):
        y[i] = B[2, i] * x[i]
    for o in range(1, 3):
        for i in range(n - o):
            y[i] += B[2 + o, i] * x[i + o]
            y[i + o] += B[2 - o, i] * x[i]


@njit(cache=True)
def magnus_norms(H, D, C, x):
    """(||[H, [H, D]] x||, ||[D, [D, H]] x||, ||C x||) for (5, n) banded blocks, with
    [H, [H, D]] x = H (H D x - 2 D H x) + D H H x and [D, [D, H]] x = D (D H x - 2 H D x) + H D D x
    (the error model of ``piqs_squeeze.methods.mcwf.sector.cf4_error``)."""
    n = x.shape[0]
    buf = np.empty((9, n), np.complex128)
    u, v, hu, hv, du, dv, w, y, z = buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6], buf[7], buf[8]
    _band5(H, x, u)
    _band5(D, x, v)
    _band5(H, u, hu)
    _band5(H, v, hv)
    _band5(D, u, du)
    _band5(D, v, dv)
    for i in range(n):
        w[i] = hv[i] - 2.0 * du[i]
    _band5(H, w, y)
    _band5(D, hu, z)
    e1 = 0.0
    for i in range(n):
        q = y[i] + z[i]
        e1 += q.real ** 2 + q.imag ** 2
    for i in range(n):
        w[i] = du[i] - 2.0 * hv[i]
    _band5(D, w, y)
    _band5(H, dv, z)
    e2 = 0.0
    for i in range(n):
        q = y[i] + z[i]
        e2 += q.real ** 2 + q.imag ** 2
    _band5(C, x, y)
    e3 = 0.0
    for i in range(n):
        e3 += y[i].real ** 2 + y[i].imag ** 2
    return np.sqrt(e1), np.sqrt(e2), np.sqrt(e3)
