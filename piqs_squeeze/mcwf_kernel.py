"""Numba kernel of one MCWF trajectory inside a single sector: no-jump propagation and jumps.

The no-jump equation d psi/dt = A psi, A = -i H_eff (tridiagonal, see
:func:`piqs_squeeze.mcwf_sector.h_eff_bands`), is integrated in steps with an error bound ``tol``
on ||psi|| (= 1 at the start of a step), by one of two propagators:

* rational (default, :func:`_rational_step`): psi(t + h) ~ exp(h mu) r_8(h (A - mu)) psi(t) with
  the (8, 8) Pade approximant in partial fractions (8 tridiagonal solves) and mu = <psi|A|psi>;
  the error is estimated by the (7, 7) approximant (see :mod:`piqs_squeeze.mcwf_rational`). The
  step is limited by the state's own energy spread, not by the spectral radius of A (~N^2).
  Inside a step the jump time (||psi(s)||^2 = r) is found by Newton iterations from a cubic
  Hermite guess built from the norms and their slopes 2 Re<A> at both ends.
* Krylov (:func:`_krylov_step`): the Arnoldi space of A from the current state,
  A V_m = V_m A_m + a v_{m+1} e_m^T, and psi(t + s) ~ V_m exp(s A_m) e_1 with the residual bound
  ||error(s)|| <= a s max_{s' <= s} |e_m^T exp(s' A_m) e_1| (exp(s A) is a contraction because
  A + A^+ <= 0); the norm is then known at any s for O(m^2), and the jump time is found by the
  Illinois method on log ||psi||^2 - log r. The first step starts at |h A_m| <= 1 so that an
  exp(h A_m) that has decayed to nothing cannot fake a small bound.

Only a window of m indices where psi is non-negligible is touched (psi is localized in m); after
each step the tails holding less than (1e-2 tol)^2 of ||psi||^2 are cut off and the state is
renormalised (r is rescaled by the same factor: the waiting time is conditioned on survival so far).

With ``adaptive`` the collective-emission displacement is beta = -<J->_psi, re-chosen at the start
of every step (a constant during the step, so each step is an exact unravelling of the same master
equation; the rate of the displaced jumps is Gamma (<J+J-> - |<J->|^2) = O(N)).

With ``small`` the propagation is instead exact, psi(t + s) = V diag(exp(s lam)) V^-1 psi(t), with
a cached eigendecomposition of -i H_eff (small models, fixed beta); the jump logic is shared.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .mcwf_rational import apply_rational, rayleigh

__all__ = ["advance"]

STATUS_DONE, STATUS_SECTOR, STATUS_REFILL = 0, 1, 2
#: rational steps: smallest padding of the window, and the margin the state must keep from its edge
PAD_MIN, PAD_MARGIN = 16, 4


@njit(cache=True)
def _expect_jminus(psi, c, lo, hi):
    """<J-> = sum_k c_{k-1} conj(psi_k) psi_{k-1} over the window."""
    acc = 0j
    for k in range(max(lo, 1), hi):
        acc += c[k - 1] * np.conj(psi[k]) * psi[k - 1]
    return acc


@njit(cache=True)
def _expm_e1(As, s):
    """exp(s As) e_1 by Taylor series with scaling and squaring (fallback for non-diagonalisable As)."""
    n = As.shape[0]
    nrm = 0.0
    for i in range(n):
        row = 0.0
        for q in range(n):
            row += abs(As[i, q])
        nrm = max(nrm, row)
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
def _extent(psi, a, b, eps2):
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
def _trim(psi, a, b, eps2):
    """:func:`_extent`, and zero psi outside [lo, hi)."""
    lo, hi, tot = _extent(psi, a, b, eps2)
    for k in range(a, lo):
        psi[k] = 0j
    for k in range(hi, b):
        psi[k] = 0j
    return lo, hi, tot


@njit(cache=True)
def _bands(diag0, low0, c, gam, beta, a, b, diag, low):
    """Diagonal and lower band of A = -i H_eff(beta) on [a, b) from the beta = 0 bands (the upper
    band, -i up, does not depend on beta): beta adds -i Gamma |beta|^2 / 2 and -i Gamma beta* J-."""
    b2 = beta.real ** 2 + beta.imag ** 2
    for k in range(a, b):
        diag[k] = -1j * (diag0[k] - 0.5j * gam * b2)
    lowc = -1j * (-1j * gam * np.conj(beta))
    for k in range(a, b - 1):
        low[k] = -1j * low0[k] + lowc * c[k]


@njit(cache=True)
def _krylov_step(psi, diag0, up, low0, c, gam, beta, lo, hi, t, r, hprev, t_next, tol, small, lam_s, vec_s,
                 vinv_s, V, Am, w, diag, low, istate):
    """One Arnoldi step (or an exact one with the cached eigenbasis if ``small``), see the module
    docstring; psi is replaced by the normalised state at the step's end or at the jump.

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
        A = max(0, lo - M)
        B = min(d, hi + M)
        wl = B - A
        _bands(diag0, low0, c, gam, beta, A, B, diag, low)
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
        nrm = 0.0
        for i in range(mm):
            row = 0.0
            for q in range(mm):
                row += abs(As[i, q])
            nrm = max(nrm, row)
        h = min(t_next - t, 1.0 / max(nrm, 1e-300))
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
            s = (la * fb - lb * fa) / (fb - fa)
            if not (la < s < lb):
                s = 0.5 * (la + lb)
            y = _ycol(As, lam, W, z, use_eig, s)
            ns = 0.0
            for i in range(mm):
                ns += y[i].real ** 2 + y[i].imag ** 2
            fs = np.log(max(ns, 1e-300)) - np.log(r)
            if abs(fs) < 1e-13 or lb - la < 1e-15 * max(1.0, abs(t)):
                break
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
        n_h = ns
    # psi(t + s) = V_m y over [A, B)
    if small:
        psi[:] = y
    for i in range(wl if not small else 0):
        acc = 0j
        for q in range(mm):
            acc += V[q, i] * y[q]
        psi[A + i] = acc
    lo, hi, tot = _trim(psi, A, B, (1e-2 * tol) ** 2)
    inv = 1.0 / np.sqrt(tot)
    for k in range(lo, hi):
        psi[k] *= inv
    return h, s, jump, n_h, clipped, lo, hi


@njit(cache=True)
def _hermite_root(f0, g0, f1, g1, h):
    """Root in (0, h) of the cubic Hermite interpolant of f with f(0) = f0 > 0 >= f(h) = f1 and
    slopes g0, g1 (a first guess for the jump time; Illinois iterations on the cubic)."""
    la, lb, fa, fb = 0.0, 1.0, f0, f1
    s = 0.5
    side = 0
    for _ in range(60):
        s = (la * fb - lb * fa) / (fb - fa)
        if not (la < s < lb):
            s = 0.5 * (la + lb)
        s2, s3 = s * s, s * s * s
        fs = (f0 * (2 * s3 - 3 * s2 + 1) + h * g0 * (s3 - 2 * s2 + s) + f1 * (3 * s2 - 2 * s3)
              + h * g1 * (s3 - s2))
        if abs(fs) < 1e-14 or lb - la < 1e-12:
            break
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
    return s * h


@njit(cache=True)
def _clamped(mu, h, poles):
    """mu with its real part clamped so that h Re(-mu) <= min Re p / 2 (the solves' pivots stay safe)."""
    return complex(max(mu.real, -0.5 * poles.real.min() / h), mu.imag)


@njit(cache=True)
def _rational_step(psi, diag0, up, low0, c, gam, beta, lo, hi, t, r, hprop, t_next, tol, poles, coef, rinf,
                   nhigh, ys, pv, tm, diag, low, istate):
    """One rational step (see :mod:`piqs_squeeze.mcwf_rational`) of the proposed size ``hprop``
    (0: start from 1 / ||(A - mu) psi||), shrunk until the error estimate is below ``tol``, on the
    window [lo, hi) padded by istate[10] (doubled and the step redone while the state comes within
    PAD_MARGIN of the padded window's edge). If the norm reaches r inside the step, the jump time
    is found by Newton iterations on log ||psi(s)||^2 - log r from a cubic Hermite guess.

    Returns (hnext, h, s, jump, n, clipped, lo, hi) as :func:`_krylov_step`, with the proposed
    next step first.
    """
    d = psi.shape[0]
    eps2 = (1e-2 * tol) ** 2
    pad = istate[10]
    a, b = max(0, lo - pad), min(d, hi + pad)
    _bands(diag0, low0, c, gam, beta, a, b, diag, low)
    mu, var, _ = rayleigh(diag, up, low, a, b, psi)
    h = min(hprop, t_next - t) if hprop > 0 else min(t_next - t, 1.0 / max(np.sqrt(var), 1e-300))
    clipped = h == t_next - t
    expo = 1.0 / (2 * (poles.shape[0] - nhigh) + 1)  # error of the low-order approximant ~ h^(2k + 1)
    # rounding in the partial-fraction sums, eps sum_i |c_i| / Re p_i ~ 1e-11 (||(h B - p)^-1|| <= 1 / Re p):
    # an estimate below that is noise, so a tighter tol would shrink the steps without end
    floor = 0.0
    for r_ in range(coef.shape[0]):
        for i in range(poles.shape[0]):
            floor += abs(coef[r_, i]) / poles[i].real
    tol_eff = max(tol, 4.0 * 2.2e-16 * floor)
    err = 0.0
    yh = ys[0]
    for _ in range(200):
        ok = apply_rational(diag, up, low, a, b, _clamped(mu, h, poles), h, poles, coef, rinf, psi, ys, pv, tm)
        istate[12] += 1
        if ok:
            lo2, hi2, _ = _extent(yh, a, b, eps2)
            if (a > 0 and lo2 - a < PAD_MARGIN) or (b < d and b - hi2 < PAD_MARGIN):
                pad = 2 * pad
                a, b = max(0, lo - pad), min(d, hi + pad)
                _bands(diag0, low0, c, gam, beta, a, b, diag, low)
                continue
            err = 0.0
            for g in range(a, b):
                e = ys[0, g] - ys[1, g]
                err += e.real ** 2 + e.imag ** 2
            err = np.sqrt(err)
            if err <= tol_eff:
                break
            fac = max(0.1, 0.9 * (tol_eff / err) ** expo)
        else:
            fac = 0.5
        istate[11] += 1
        h *= min(0.5, fac)
        clipped = False
    if not err <= tol_eff:
        raise RuntimeError("MCWF: the rational step did not reach the error bound")
    istate[8] += 1
    istate[9] += b - a
    hnext = h * min(4.0, 0.9 * (tol_eff / max(err, 1e-300)) ** expo)
    if clipped:
        hnext = max(hnext, hprop)
    n_h = 0.0
    for g in range(a, b):
        n_h += yh[g].real ** 2 + yh[g].imag ** 2
    jump = n_h <= r
    s = h
    if jump:
        ph, ch, rh = poles[:nhigh], coef[:1, :nhigh], rinf[:1]
        la, lb = 0.0, h
        fa, fb = -np.log(r), np.log(max(n_h, 1e-300)) - np.log(r)
        mu1, _, _ = rayleigh(diag, up, low, a, b, yh)
        s = _hermite_root(fa, 2.0 * mu.real, fb, 2.0 * mu1.real, h)
        for _ in range(60):
            apply_rational(diag, up, low, a, b, _clamped(mu, s, poles), s, ph, ch, rh, psi, ys, pv, tm)
            istate[12] += 1
            mus, _, n_h = rayleigh(diag, up, low, a, b, yh)
            fs = np.log(max(n_h, 1e-300)) - np.log(r)
            # |fs| <= tol: jumping at norm^2 r (1 + fs) instead of r shifts the uniform r by a
            # relative tol, far below any statistical resolution
            if abs(fs) <= tol_eff or lb - la < 1e-15 * max(1.0, abs(t)):
                break
            if fs > 0:
                la, fa = s, fs
            else:
                lb, fb = s, fs
            s_new = s - fs / (2.0 * mus.real) if mus.real < 0 else -1.0
            if not (la < s_new < lb):
                s_new = (la * fb - lb * fa) / (fb - fa)
                if not (la < s_new < lb):
                    s_new = 0.5 * (la + lb)
            s = s_new
    for k in range(lo, hi):
        psi[k] = 0j
    for g in range(a, b):
        psi[g] = yh[g]
    lo2, hi2, tot = _trim(psi, a, b, eps2)
    inv = 1.0 / np.sqrt(tot)
    for k in range(lo2, hi2):
        psi[k] *= inv
    # the window moved by at most ~max(lo - lo2, hi2 - hi) in this step: pad for twice that next time
    istate[10] = max(PAD_MIN, PAD_MARGIN + 2 * max(lo - lo2, hi2 - hi, 0))
    return hnext, h, s, jump, n_h, clipped, lo2, hi2


@njit(cache=True)
def advance(psi, diag0, up, low0, c, mvals, rates3, loc_amp, loc_rate, loc_shift, loc_dj, loc_dnew,
            adaptive, beta_fixed, fstate, istate, times, outbuf, u, jt, jk, newpsi, rational, poles, coef, rinf,
            nhigh, mkry, tol, small, lam_s, vec_s, vinv_s):
    """Advance one trajectory inside its sector until t_end, a change of sector, or a full buffer.

    Parameters (all arrays are modified in place where noted)
    ----------
    psi : (d,) complex, normalised state, zero outside the window [istate[3], istate[4]) (in/out)
    diag0, up, low0 : H_eff bands for beta = 0 (d,), (d-1,), (d-1,)
    c, mvals : J+ elements c_k (d-1,) and m values (d,) of the sector (from piqs_squeeze.dicke)
    rates3 : (3,) Gamma, collective dephasing, collective pumping
    loc_amp, loc_rate, loc_shift, loc_dj, loc_dnew : the 9 local channels (amplitudes (9, d), rate,
        index shift k' = k + shift, dj, dimension of the target sector); rate 0 = closed
    adaptive : bool; beta = -<J-> per step if True, else ``beta_fixed``
    fstate : [t, r, h] (in/out; h: the last Krylov step, or the proposed next rational step);
        istate : [k_next_output, u_index, n_jumps, lo, hi, dj, new_lo, new_hi, n_steps, sum of
        window sizes, pad, rejected steps, Pade evaluations] (in/out; 8, 9, 11, 12 are cost counters)
    times : output times; outbuf : (T, >= d) normalised states written at the output times (out)
    u : uniforms (one per waiting time, one per channel choice); jt, jk : jump times and kinds (out)
    newpsi : (d + 2,) complex: the state after a jump into another sector (out, status 1)
    rational, poles, coef, rinf, nhigh : propagate with the pair of Pade approximants in partial
        fractions (:func:`piqs_squeeze.mcwf_rational.pade_fractions`; the kept one's poles are the
        first ``nhigh``) if True, else with Krylov steps of dimension ``mkry``
    tol : per-step error bound
    small, lam_s, vec_s, vinv_s : if ``small``, propagate exactly with the eigendecomposition
        -i H_eff = vec_s diag(lam_s) vinv_s (for ``beta_fixed``; small sectors, where one Arnoldi
        space is the whole sector anyway and the per-step eigendecomposition would dominate)

    Returns
    -------
    status : 0 done (t = times[-1]), 1 jumped into sector j + istate[5], 2 needs more uniforms or
    jump buffer space.
    """
    d = psi.shape[0]
    T = times.shape[0]
    gam, cdeph, cpump = rates3[0], rates3[1], rates3[2]
    t, r, hprev = fstate[0], fstate[1], fstate[2]
    kout, ui, nj, lo, hi = istate[0], istate[1], istate[2], istate[3], istate[4]
    M = min(mkry, d) if not rational else 1
    V = np.empty((M + 1, d), dtype=np.complex128)
    Am = np.zeros((M + 1, M), dtype=np.complex128)
    w = np.empty(d, dtype=np.complex128)
    diag = np.empty(d, dtype=np.complex128)
    low = np.empty(max(d - 1, 0), dtype=np.complex128)
    tmp = np.zeros(d, dtype=np.complex128)
    K = poles.shape[0]
    ys = np.empty((2, d if rational else 1), dtype=np.complex128)
    pv = np.empty((d if rational else 1, K), dtype=np.complex128)
    tm = np.empty((d if rational else 1, K), dtype=np.complex128)
    status = STATUS_DONE
    while True:
        while kout < T and times[kout] <= t:
            outbuf[kout, :] = 0j
            outbuf[kout, lo:hi] = psi[lo:hi]
            kout += 1
        if kout >= T:
            status = STATUS_DONE
            break
        if ui + 2 > u.shape[0] or nj >= jt.shape[0]:
            status = STATUS_REFILL
            break
        beta = -_expect_jminus(psi, c, lo, hi) if adaptive else beta_fixed
        if gam == 0.0:
            beta = 0j
        if rational and not small:
            hprev, h, s, jump, n_h, clipped, lo, hi = _rational_step(
                psi, diag0, up, low0, c, gam, beta, lo, hi, t, r, hprev, times[kout], tol, poles, coef, rinf,
                nhigh, ys, pv, tm, diag, low, istate)
        else:
            h, s, jump, n_h, clipped, lo, hi = _krylov_step(
                psi, diag0, up, low0, c, gam, beta, lo, hi, t, r, hprev, times[kout], tol, small, lam_s, vec_s,
                vinv_s, V, Am, w, diag, low, istate)
            hprev = h
        if not jump:
            r /= n_h
            t = times[kout] if clipped else t + h
            continue
        t = t + s
        # ---- jump: channel weights rate * ||K psi||^2
        wts = np.zeros(12)
        if gam > 0:
            acc = 0.0
            for k in range(lo, min(hi + 1, d)):
                x = beta * psi[k] if k < hi else 0j
                if k >= 1:
                    x += c[k - 1] * psi[k - 1]
                acc += x.real ** 2 + x.imag ** 2
            wts[0] = gam * acc
        if cdeph > 0:
            acc = 0.0
            for k in range(lo, hi):
                acc += mvals[k] ** 2 * (psi[k].real ** 2 + psi[k].imag ** 2)
            wts[1] = cdeph * acc
        if cpump > 0:
            acc = 0.0
            for k in range(max(lo, 1), hi):
                acc += c[k - 1] ** 2 * (psi[k].real ** 2 + psi[k].imag ** 2)
            wts[2] = cpump * acc
        for ch in range(9):
            if loc_rate[ch] > 0:
                sh = loc_shift[ch]
                klo, khi = max(lo, -sh), min(hi, loc_dnew[ch] - sh)
                acc = 0.0
                for k in range(klo, khi):
                    acc += loc_amp[ch, k] ** 2 * (psi[k].real ** 2 + psi[k].imag ** 2)
                wts[3 + ch] = loc_rate[ch] * acc
        tot = wts.sum()
        if not tot > 0:
            raise RuntimeError("MCWF: the norm decayed but no jump channel is open")
        target = u[ui] * tot
        ui += 1
        pick = 11
        acc = 0.0
        for ch in range(12):
            acc += wts[ch]
            if target < acc:
                pick = ch
                break
        while wts[pick] == 0.0:  # round-off at the top of the cumulative sum
            pick -= 1
        jt[nj] = t
        jk[nj] = pick
        nj += 1
        r = u[ui]
        ui += 1
        if pick >= 3 and loc_dj[pick - 3] != 0:
            ch = pick - 3
            sh = loc_shift[ch]
            dn = loc_dnew[ch]
            newpsi[:] = 0j
            klo, khi = max(lo, -sh), min(hi, dn - sh)
            nrm = 0.0
            for k in range(klo, khi):
                x = loc_amp[ch, k] * psi[k]
                newpsi[k + sh] = x
                nrm += x.real ** 2 + x.imag ** 2
            inv = 1.0 / np.sqrt(nrm)
            for k in range(klo + sh, khi + sh):
                newpsi[k] *= inv
            istate[5] = loc_dj[ch]
            istate[6] = klo + sh
            istate[7] = khi + sh
            status = STATUS_SECTOR
            break
        # jump inside the sector: tmp = K psi
        nlo, nhi = lo, hi
        if pick == 0:
            nhi = min(hi + 1, d)
            for k in range(lo, nhi):
                x = beta * psi[k] if k < hi else 0j
                if k >= 1:
                    x += c[k - 1] * psi[k - 1]
                tmp[k] = x
        elif pick == 1:
            for k in range(lo, hi):
                tmp[k] = mvals[k] * psi[k]
        elif pick == 2:
            nlo, nhi = max(lo - 1, 0), hi - 1
            for k in range(nlo, nhi):
                tmp[k] = c[k] * psi[k + 1]
        else:
            ch = pick - 3
            sh = loc_shift[ch]
            klo, khi = max(lo, -sh), min(hi, d - sh)
            nlo, nhi = klo + sh, khi + sh
            for k in range(klo, khi):
                tmp[k + sh] = loc_amp[ch, k] * psi[k]
        for k in range(lo, hi):
            psi[k] = 0j
        nrm = 0.0
        for k in range(nlo, nhi):
            psi[k] = tmp[k]
            tmp[k] = 0j
            nrm += psi[k].real ** 2 + psi[k].imag ** 2
        inv = 1.0 / np.sqrt(nrm)
        for k in range(nlo, nhi):
            psi[k] *= inv
        lo, hi = nlo, nhi
    fstate[0], fstate[1], fstate[2] = t, r, hprev
    istate[0], istate[1], istate[2], istate[3], istate[4] = kout, ui, nj, lo, hi
    return status
