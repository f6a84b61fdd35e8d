"""Numba kernel of one MCWF trajectory inside a single sector: steps, output, waiting-time jumps.

The no-jump equation d psi/dt = A psi, A = -i H_eff (tridiagonal for the paper model,
pentadiagonal with Jx^2-type terms, see :func:`piqs_squeeze.methods.mcwf.sector.h_eff_bands`), is integrated in steps with an error bound ``tol``
on ||psi|| (= 1 at the start of a step) by one of two propagators, each of which also finds the
time inside its step where ||psi||^2 reaches the drawn uniform r:

* rational (default, :mod:`piqs_squeeze.methods.mcwf.rational`): Pade steps exp(h mu) r_8(h (A - mu)),
  banded solves; the step follows the state's own energy spread;
* Krylov (:mod:`piqs_squeeze.methods.mcwf.krylov`): Arnoldi steps with the residual bound; the step
  follows the spectral radius of A on the window (~N^2), much slower at large N
  (benchmarks/results/mcwf.md).

At each output time the kernel sums the state's collective moments (:func:`output_sums`), so a
trajectory needs no output states (they are written only when asked for).

Only a window of m indices where psi is non-negligible is touched (:mod:`piqs_squeeze.methods.mcwf.window`);
after each step the tails holding less than (1e-2 tol)^2 of ||psi||^2 are cut off and the state is
renormalised (r is rescaled by the same factor: the waiting time is conditioned on survival so far).
At a jump the channel is drawn with weights rate ||K psi||^2 and applied here; a jump into
another sector returns to Python with the new state.

With ``adaptive`` the collective-emission displacement is beta = -<J->_psi, re-chosen at the start
of every step (a constant during the step, so each step is an exact unravelling of the same master
equation; the rate of the displaced jumps is Gamma (<J+J-> - |<J->|^2) = O(N)).

With ``small`` the propagation is instead exact, psi(t + s) = V diag(exp(s lam)) V^-1 psi(t), with
a cached eigendecomposition of -i H_eff (small models, fixed beta); the jump logic is shared.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .krylov import krylov_step
from .rational import rational_step
from .window import expect_jminus

__all__ = ["advance", "output_sums", "NSUMS"]

STATUS_DONE, STATUS_SECTOR, STATUS_REFILL = 0, 1, 2
#: length of a row of :func:`output_sums`
NSUMS = 9


@njit(cache=True)
def output_sums(psi, c, mvals, lo, hi, row):
    """The collective sums of the state psi (zero outside [lo, hi)) that fix its first and second
    moments (:func:`piqs_squeeze.observables.moments_from_collective`), into ``row`` (9,):
    ||psi||^2, <Jz>, <Jz^2>, <J+> (re, im), <(J+ Jz + Jz J+)/2> (re, im), <J+ J+> (re, im), with

        <J+> = sum_k c_k psi_k^* psi_(k+1),  <(J+ Jz + Jz J+)/2> = sum_k c_k (m_(k+1) + 1/2) psi_k^* psi_(k+1),
        <J+ J+> = sum_k c_k c_(k+1) psi_k^* psi_(k+2)

    (k = j - m, c_k = <k|J+|k+1>; the sums of :func:`piqs_squeeze.dicke.moments_from_bands`, summed
    in index order)."""
    w = 0.0
    jz = 0.0
    jz2 = 0.0
    jp = 0j
    jpjz = 0j
    jpjp = 0j
    d = psi.shape[0]
    for k in range(lo, hi):
        p = psi[k]
        a = p.real * p.real + p.imag * p.imag
        w += a
        jz += a * mvals[k]
        jz2 += a * (mvals[k] * mvals[k])
        if k + 1 < d:
            b1 = psi[k + 1] * np.conj(p)
            jp += b1 * c[k]
            jpjz += b1 * (c[k] * (mvals[k + 1] + 0.5))
            if k + 2 < d:
                jpjp += psi[k + 2] * np.conj(p) * (c[k] * c[k + 1])
    row[0], row[1], row[2] = w, jz, jz2
    row[3], row[4], row[5], row[6], row[7], row[8] = jp.real, jp.imag, jpjz.real, jpjz.imag, jpjp.real, jpjp.imag


@njit(cache=True)
def advance(psi, diag0, up, low0, up2, low2, c, mvals, rates3, loc_amp, loc_rate, loc_shift, loc_dj, loc_dnew,
            adaptive, beta_fixed, fstate, istate, times, mom, outbuf, u, jt, jk, newpsi, rational, poles, coef, rinf,
            nhigh, mkry, tol, small, lam_s, vec_s, vinv_s, W):
    """Advance one trajectory inside its sector until t_end, a change of sector, or a full buffer.

    Parameters (all arrays are modified in place where noted)
    ----------
    psi : (d,) complex, normalised state, zero outside the window [istate[3], istate[4]) (in/out)
    diag0, up, low0 : H_eff bands for beta = 0 (d,), (d-1,), (d-1,)
    up2, low2 : H's second bands (d-2,) (``np.diag(H, 2)``, ``np.diag(H, -2)``), or empty: tridiagonal
    c, mvals : J+ elements c_k (d-1,) and m values (d,) of the sector (from piqs_squeeze.dicke)
    rates3 : (3,) Gamma, collective dephasing, collective pumping
    loc_amp, loc_rate, loc_shift, loc_dj, loc_dnew : the 9 local channels (amplitudes (9, d), rate,
        index shift k' = k + shift, dj, dimension of the target sector); rate 0 = closed
    adaptive : bool; beta = -<J-> per step if True, else ``beta_fixed``
    fstate : [t, r, h] (in/out; h: the last Krylov step, or the proposed next rational step);
        istate : [k_next_output, u_index, n_jumps, lo, hi, dj, new_lo, new_hi, n_steps, sum of
        window sizes, pad, rejected steps, Pade evaluations, steps redone with a wider pad, Pade
        evaluations for jump times] (in/out; 8, 9, 11-14 are cost counters)
    times : output times; mom : (T', 9) the state's collective sums (:func:`output_sums`) at the
        first T' <= T output times (out; a later time only stops the run there); outbuf : (T', >= d)
        the normalised states at those times, or a (0, 0) array: no states kept (out)
    u : uniforms (one per waiting time, one per channel choice); jt, jk : jump times and kinds (out)
    newpsi : (d + 2,) complex: the state after a jump into another sector (out, status 1)
    rational, poles, coef, rinf, nhigh : propagate with the pair of Pade approximants in partial
        fractions (:func:`piqs_squeeze.methods.mcwf.rational.pade_fractions`; the kept one's poles are the
        first ``nhigh``) if True, else with Krylov steps of dimension ``mkry``
    tol : per-step error bound
    W : (>= d, 4 KP or 6 KP) float work array of the rational solves
        (:func:`piqs_squeeze.methods.mcwf.rational.work_array`; 6 KP when A is pentadiagonal)
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
    ys = np.empty((2, d if rational else 1), dtype=np.complex128)
    nout = mom.shape[0]
    states = outbuf.shape[0] >= nout and nout > 0
    status = STATUS_DONE
    while True:
        while kout < T and times[kout] <= t:
            if kout < nout:
                output_sums(psi, c, mvals, lo, hi, mom[kout])
                if states:
                    outbuf[kout, :] = 0j
                    outbuf[kout, lo:hi] = psi[lo:hi]
            kout += 1
        if kout >= T:
            status = STATUS_DONE
            break
        if ui + 2 > u.shape[0] or nj >= jt.shape[0]:
            status = STATUS_REFILL
            break
        beta = -expect_jminus(psi, c, lo, hi) if adaptive else beta_fixed
        if gam == 0.0:
            beta = 0j
        if rational and not small:
            hprev, h, s, jump, n_h, clipped, lo, hi = rational_step(
                psi, diag0, up, low0, up2, low2, c, gam, beta, lo, hi, t, r, hprev, times[kout], tol, poles, coef,
                rinf, nhigh, ys, W, diag, low, istate)
        else:
            h, s, jump, n_h, clipped, lo, hi = krylov_step(
                psi, diag0, up, low0, up2, low2, c, gam, beta, lo, hi, t, r, hprev, times[kout], tol, small, lam_s,
                vec_s, vinv_s, V, Am, w, diag, low, istate)
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
