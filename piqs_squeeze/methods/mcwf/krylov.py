"""Krylov (Arnoldi) steps of one trajectory's no-jump equation (``scheme="krylov"``).

Each step builds the Arnoldi space of A = -i H_eff from the current state on its window (widened
by m on each side, 2m when A is pentadiagonal: each product with A widens the support by its
bandwidth),
A V_m = V_m A_m + a v_{m+1} e_m^T, and uses

    psi(t + s) ~ V_m exp(s A_m) e_1,      ||error(s)|| <= a s max_{s' <= s} |e_m^T exp(s' A_m) e_1|

(the residual bound; exp(s A) is a contraction because A + A^+ <= 0), with the step chosen so that
the bound, sampled at s/2 and s, stays below ``tol``. The first step starts at |h A_m| <= 1: the
bound at the step's end alone accepted a first step as long as the first output interval whenever
exp(h A_m) had decayed to nothing there. exp(s A_m) e_1 = W (exp(s lam) * W^-1 e_1) from the
eigendecomposition of the small A_m (a Taylor scaling-and-squaring exponential if that eigenbasis
is ill-conditioned), so the norm ||psi(t + s)||^2 is available at any s for O(m^2): the jump time
is found by the Illinois method on log ||psi||^2 - log r.

With ``small`` the same step is exact instead, psi(t + s) = V diag(exp(s lam)) V^-1 psi(t), with
a cached eigendecomposition of -i H_eff (small models, fixed beta).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .window import bands, false_position, illinois_update, norm_inf, trim

__all__ = ["krylov_step"]


@njit(cache=True)
def _expm_e1(As, s):
    """exp(s As) e_1 by Taylor series with scaling and squaring (fallback for non-diagonalisable As)."""
    n = As.shape[0]
    nrm = norm_inf(As)
    nsq = 0
    while nrm * abs(s) / 2.0 ** nsq > 0.5:
        nsq += 1
    B = As * (s / 2.0 ** nsq)
    E = np.eye(n, dtype=np.complex128)
    term = np.eye(n, dtype=np.complex128)
    for p in range(1, 30):
        term = term @ B / p
        E += term
        if np.abs(term).max() < 1e-18:
            break
    for _ in range(nsq):
        E = E @ E
    return E[:, 0].copy()


@njit(cache=True)
def _ycol(As, lam, W, z, use_eig, s):
    if use_eig:
        return W @ (np.exp(lam * s) * z)
    return _expm_e1(As, s)


@njit(cache=True)
def krylov_step(psi, diag0, up, low0, up2, low2, c, gam, beta, lo, hi, t, r, hprev, t_next, tol, small, lam_s,
                 vec_s, vinv_s, V, Am, w, diag, low, istate):
    """One Arnoldi step (or an exact one with the cached eigenbasis if ``small``), see the module
    docstring; psi is replaced by the normalised state at the step's end or at the jump.
    ``up2``, ``low2``: H's second bands (A[k, k+2] = -i up2[k], A[k+2, k] = -i low2[k]; empty: tridiagonal).

    Returns (h, s, jump, n, clipped, lo, hi): the step, the time of the jump inside it (= h if
    none), whether the norm reached r, the norm^2 reached, whether h ended at t_next, the new window.
    """
    d = psi.shape[0]
    M = V.shape[0] - 1
    if small:
        A, B, wl, mm, anext = 0, d, d, d, 0.0
        lam, W, As = lam_s, vec_s, vec_s
        z = np.dot(vinv_s, psi)
        use_eig = True
    else:
        penta = up2.shape[0] > 0
        widen = 2 * M if penta else M
        A = max(0, lo - widen)
        B = min(d, hi + widen)
        wl = B - A
        bands(diag0, low0, c, gam, beta, A, B, diag, low)
        # ---- Arnoldi on A = -i H_eff, window [A, B)
        istate[8] += 1
        istate[9] += wl
        for k in range(wl):
            V[0, k] = psi[A + k]
        mm = M
        anext = 0.0
        Am[:, :] = 0j
        for q in range(M):
            for i in range(wl):
                g = A + i
                val = diag[g] * V[q, i]
                if i + 1 < wl:
                    val += -1j * up[g] * V[q, i + 1]
                if i > 0:
                    val += low[g - 1] * V[q, i - 1]
                if penta:
                    if i + 2 < wl:
                        val += -1j * up2[g] * V[q, i + 2]
                    if i > 1:
                        val += -1j * low2[g - 2] * V[q, i - 2]
                w[i] = val
            scale = 0.0
            for i in range(wl):
                scale += w[i].real ** 2 + w[i].imag ** 2
            scale = np.sqrt(scale)
            for p in range(q + 1):
                hpq = 0j
                for i in range(wl):
                    hpq += np.conj(V[p, i]) * w[i]
                Am[p, q] = hpq
                for i in range(wl):
                    w[i] -= hpq * V[p, i]
            hn = 0.0
            for i in range(wl):
                hn += w[i].real ** 2 + w[i].imag ** 2
            hn = np.sqrt(hn)
            if hn <= 1e-13 * scale or q + 1 == wl:
                mm = q + 1
                anext = 0.0 if hn <= 1e-13 * scale or q + 1 == wl else hn
                break
            Am[q + 1, q] = hn
            for i in range(wl):
                V[q + 1, i] = w[i] / hn
            anext = hn
        As = Am[:mm, :mm].copy()
        lam, W = np.linalg.eig(As)
        W = np.ascontiguousarray(W)
        e1 = np.zeros(mm, dtype=np.complex128)
        e1[0] = 1.0
        z = np.linalg.solve(W, e1)
        resid = np.abs(W @ z - e1).max()
        use_eig = resid < 1e-12 and np.abs(z).sum() * np.abs(W).max() < 1e4
    # ---- step size from the residual bound
    if hprev > 0 or small:
        h = min(2.0 * hprev, t_next - t) if hprev > 0 else t_next - t
    else:  # first step: |h A_m| <= 1, so the bound below is not fooled by a decayed exp(h A_m)
        h = min(t_next - t, 1.0 / max(norm_inf(As), 1e-300))
    clipped = h == t_next - t
    for _ in range(200):
        y = _ycol(As, lam, W, z, use_eig, h)
        # the bound needs max over s <= h of |e_m^T exp(s A_m) e_1|: sampled at h/2 and h
        err = anext * h * max(abs(y[mm - 1]), abs(_ycol(As, lam, W, z, use_eig, 0.5 * h)[mm - 1]))
        if err <= tol:
            break
        h *= min(0.5, max(0.05, 0.9 * (tol / err) ** (1.0 / mm)))
        clipped = False
    n_h = 0.0
    for i in range(mm):
        n_h += y[i].real ** 2 + y[i].imag ** 2
    jump = n_h <= r
    s = h
    ns = n_h
    if jump:  # Illinois false position on f(s) = log n(s) - log r, f(0) > 0 >= f(h)
        la, lb = 0.0, h
        fa, fb = -np.log(r), np.log(max(n_h, 1e-300)) - np.log(r)
        side = 0
        for _ in range(100):
            s = false_position(la, lb, fa, fb)
            y = _ycol(As, lam, W, z, use_eig, s)
            ns = 0.0
            for i in range(mm):
                ns += y[i].real ** 2 + y[i].imag ** 2
            fs = np.log(max(ns, 1e-300)) - np.log(r)
            if abs(fs) < 1e-13 or lb - la < 1e-15 * max(1.0, abs(t)):
                break
            la, lb, fa, fb, side = illinois_update(la, lb, fa, fb, s, fs, side)
        n_h = ns
    # psi(t + s) = V_m y over [A, B)
    if small:
        psi[:] = y
    for i in range(wl if not small else 0):
        acc = 0j
        for q in range(mm):
            acc += V[q, i] * y[q]
        psi[A + i] = acc
    lo, hi, tot = trim(psi, A, B, (1e-2 * tol) ** 2)
    inv = 1.0 / np.sqrt(tot)
    for k in range(lo, hi):
        psi[k] *= inv
    return h, s, jump, n_h, clipped, lo, hi
