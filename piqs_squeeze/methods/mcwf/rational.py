"""Rational (Pade) propagation of one trajectory's no-jump equation inside a window of its sector.

The no-jump equation d psi/dt = A psi, A = -i H_eff banded (tridiagonal for the paper's
H = chi J+J- + Omega Jx, pentadiagonal once H has Jx^2-type terms), is stepped with the diagonal
(k, k) Pade approximant of the exponential of the shifted generator,

    psi(t + h) ~ exp(h mu) r_k(h (A - mu)) psi(t),   r_k(z) = (-1)^k + sum_i c_i / (z - p_i),

where mu is the Rayleigh quotient <psi|A|psi> and p_i (all in Re p > 0) the zeros of the Pade
denominator: k banded solves (bandwidth 1 or 2), O(window) each, run interleaved (real arithmetic on
per-pole rows of one work array, so the compiler vectorises across poles). Why rational and not
polynomial (Krylov): A spans ~N^2 on the window (chi J+J- and Omega Jx), so any polynomial step
must resolve the state's far tails, whereas r_k(z) = e^z + O(z^(2k+1)) is bounded on Re z <= 0:
components with |h (lambda - mu)| >> 1 are carried with a bounded error, and the step is set by
the state's own energy spread ||(A - mu) psi||, 10-100x smaller than the tails' (measured on
N = 2000 trajectory states, benchmarks/results/mcwf.md).

The local error is estimated by the difference to the (k - 1, k - 1) approximant (its error is
the larger one, so the estimate is conservative for the r_k result that is kept; with one even and
one odd order, r_k(inf) = -r_(k-1)(inf), so unresolved content cannot cancel in the estimate).
Solves use Gaussian elimination without pivoting: the Hermitian part of h (A - mu) - p is
-(Re p + h (K - Re(-mu))) with K = -(A + A^+)/2 >= 0, negative definite when h Re(-mu) < Re p,
which the kernel keeps by clamping the real part of mu, so no pivot can vanish (the argument holds
for any bandwidth: every leading principal block has a negative definite Hermitian part too).

A step (:func:`rational_step`) works on the state's window padded on both sides (doubled, and the
step redone, while the result comes within PAD_MARGIN of the padded edge); if the norm reaches the
drawn r inside the step, the jump time comes from Newton iterations on log ||psi(s)||^2 - log r
(slope 2 Re<A>) started from the cubic Hermite interpolant of both ends (~2.4 evaluations of r_8
per jump at N = 2000).
"""
from __future__ import annotations


import numpy as np
from numba import njit

from .window import bands, extent, false_position, illinois_update, trim

__all__ = ["pade_fractions", "apply_rational", "apply_banded", "rayleigh", "rational_step", "work_array",
           "HIGH_ORDER", "LOW_ORDER", "PAD_MIN", "PAD_MARGIN", "KP"]

#: orders of the kept approximant and of the error-estimating one (even and odd: r_k(inf) = +-1,
#: so content the step cannot resolve, |z| >> 1, shows in the estimate instead of cancelling)
HIGH_ORDER, LOW_ORDER = 8, 7
#: smallest padding of the window, and the margin the state must keep from the padded edge
PAD_MIN, PAD_MARGIN = 16, 4

# (Re p, Im p, Re c, Im c) of r_k(z) = (-1)^k + sum c / (z - p), p the zeros of
# q_k(z) = sum_j (2k - j)! k! / ((2k)! j! (k - j)!) (-z)^j and c = q_k(-p) / q_k'(p), computed with
# 50-digit mpmath (tests/test_mcwf_rational.py recomputes them). Double-precision roots are not
# enough: the residues reach 4e4 and their relative errors of ~1e-13 would leave an error of ~3e-9
# in r_k(0) = 1 through the cancellation in the sum.
_FRACTIONS = {
    7: [
    (5.371353757886531, -10.841388261433497, -109.13998916843573, -158.40892813433277),
    (8.140278327276276, -7.034348095419507, -725.0803690029547, 2130.1725631250947),
    (9.516581056309258, -3.478572122261073, 6522.851135494386, -4274.023515716678),
    (9.943573717055871, 0.0, -11489.261554645991, 0.0),
    (9.516581056309258, 3.478572122261073, 6522.851135494386, 4274.023515716678),
    (8.140278327276276, 7.034348095419507, -725.0803690029547, -2130.1725631250947),
    (5.371353757886531, 10.841388261433497, -109.13998916843573, 158.40892813433277),
    ],
    8: [
    (5.677967897795261, -12.707822597209754, -165.1930725449708, 219.15799533531236),
    (8.736578434404805, -8.828885000943078, 4265.998837634379, 219.8794641194646),
    (10.409681581273764, -5.232350305285055, -14672.650217972672, -13083.554653648593),
    (11.17577208652617, -1.7352288907055728, 10643.844452883264, 38247.16993987126),
    (11.17577208652617, 1.7352288907055728, 10643.844452883264, -38247.16993987126),
    (10.409681581273764, 5.232350305285055, -14672.650217972672, 13083.554653648593),
    (8.736578434404805, 8.828885000943078, 4265.998837634379, -219.8794641194646),
    (5.677967897795261, 12.707822597209754, -165.1930725449708, -219.15799533531236),
    ],
}


def pade_fractions(orders=(HIGH_ORDER, LOW_ORDER)):
    """Poles and partial-fraction coefficients of the diagonal Pade approximants of the given orders.

    Returns (poles (K,), coef (len(orders), K), rinf (len(orders),)) with
    r_k(z) = rinf + sum_i coef[k, i] / (z - poles[i]): all orders' poles in one list, each order's
    coefficients zero on the other orders' poles.
    """
    poles, rows, rinf = [], [], []
    for k in orders:
        if k not in _FRACTIONS:
            raise ValueError(f"Pade order {k} is not tabulated (have {sorted(_FRACTIONS)})")
        rows.append((len(poles), [complex(cr, ci) for _, _, cr, ci in _FRACTIONS[k]]))
        poles.extend(complex(pr, pi) for pr, pi, _, _ in _FRACTIONS[k])
        rinf.append((-1.0) ** k)
    coef = np.zeros((len(orders), len(poles)), dtype=complex)
    for r, (start, res) in enumerate(rows):
        coef[r, start:start + len(res)] = res
    return np.array(poles, dtype=complex), coef, np.array(rinf)


#: stride of the per-pole columns of the work array W (at most KP poles): W[i, f * KP + k] holds
#: field f of pole k at row i (f = 0, 1: Re, Im of the inverted pivot; 2, 3: Re, Im of the
#: solution; 4, 5: Re, Im of the pentadiagonal elimination's first superdiagonal)
KP = 16


def work_array(d: int, pentadiagonal: bool = False) -> np.ndarray:
    """Work array W for :func:`apply_banded` on windows of up to ``d`` rows."""
    return np.empty((max(d, 1), (6 if pentadiagonal else 4) * KP))


@njit(cache=True)
def _split_poles(poles, coef):
    """Real and imaginary parts of poles and coefficients, and each order's range [k0, k1) of
    poles with non-zero coefficients (the others add exact zeros, so skipping them changes no bit)."""
    K, R = poles.shape[0], coef.shape[0]
    if K > KP:
        raise ValueError("apply_banded: more poles than the work array's stride KP")
    pr, pim = np.empty(K), np.empty(K)
    for k in range(K):
        pr[k], pim[k] = poles[k].real, poles[k].imag
    cr, ci = np.empty((R, K)), np.empty((R, K))
    kr = np.zeros((R, 2), dtype=np.int64)
    for r in range(R):
        k0, k1 = K, 0
        for k in range(K):
            cr[r, k], ci[r, k] = coef[r, k].real, coef[r, k].imag
            if coef[r, k] != 0:
                k0, k1 = min(k0, k), max(k1, k + 1)
        kr[r, 0], kr[r, 1] = k0, max(k0, k1)
    return pr, pim, cr, ci, kr


@njit(cache=True, error_model="numpy")
def _combine(W, i, x, rinf, cr, ci, kr, scale, out, a):
    """out[r, a + i] = scale (rinf_r x + sum_k coef[r, k] y_k[i]) from the solutions in row i of W."""
    xv = x[a + i]
    for r in range(cr.shape[0]):
        accr, acci = rinf[r] * xv.real, rinf[r] * xv.imag
        for k in range(kr[r, 0], kr[r, 1]):
            ar, ai = W[i, 2 * KP + k], W[i, 3 * KP + k]
            accr += cr[r, k] * ar - ci[r, k] * ai
            acci += cr[r, k] * ai + ci[r, k] * ar
        out[r, a + i] = scale * complex(accr, acci)


@njit(cache=True, error_model="numpy")
def apply_rational(diag, up, low, a, b, mu, h, poles, coef, rinf, x, out, W):
    """out[r, a:b] = exp(h mu) [rinf_r x + sum_k coef[r, k] (h B - p_k)^-1 x] on [a, b), B = A - mu.

    A = -i H_eff has diagonal ``diag``, upper band ``-1j * up`` and lower band ``low`` (sector
    arrays; only [a, b) is read); ``W`` is a (>= b - a, >= 4 KP) float work array
    (:func:`work_array`). The K tridiagonal solves run interleaved (independent recurrences:
    latency hidden), in real arithmetic on contiguous per-pole rows so that the compiler
    vectorises them across poles (the same operations, in the same order, as complex
    arithmetic). Returns False if a pivot is not safely non-zero (the caller takes a smaller step).
    """
    n = b - a
    K = poles.shape[0]
    pr, pim, cr, ci, kr = _split_poles(poles, coef)
    tiny = 1e-16 * np.abs(poles).min() ** 2
    hur, hui = np.zeros(n), np.zeros(n)
    for i in range(n - 1):
        v = -1j * h * up[a + i]
        hur[i], hui[i] = v.real, v.imag
    # forward elimination of (h B - p_k) y_k = x for all k
    hd = h * (diag[a] - mu)
    bad = 0
    xr, xi = x[a].real, x[a].imag
    for k in range(K):
        ddr, ddi = hd.real - pr[k], hd.imag - pim[k]
        q = ddr * ddr + ddi * ddi
        bad += q < tiny
        W[0, k], W[0, KP + k] = ddr / q, -ddi / q
        W[0, 2 * KP + k], W[0, 3 * KP + k] = xr, xi
    for i in range(1, n):
        hd = h * (diag[a + i] - mu)
        hl = h * low[a + i - 1]
        hdr, hdi, hlr, hli = hd.real, hd.imag, hl.real, hl.imag
        ur, ui = hur[i - 1], hui[i - 1]
        xr, xi = x[a + i].real, x[a + i].imag
        for k in range(K):
            p0r, p0i = W[i - 1, k], W[i - 1, KP + k]
            wr, wi = hlr * p0r - hli * p0i, hlr * p0i + hli * p0r  # w = hl / pivot_(i-1)
            ddr = (hdr - pr[k]) - (wr * ur - wi * ui)
            ddi = (hdi - pim[k]) - (wr * ui + wi * ur)
            q = ddr * ddr + ddi * ddi
            bad += q < tiny
            W[i, k], W[i, KP + k] = ddr / q, -ddi / q
            t0r, t0i = W[i - 1, 2 * KP + k], W[i - 1, 3 * KP + k]
            W[i, 2 * KP + k] = xr - (wr * t0r - wi * t0i)
            W[i, 3 * KP + k] = xi - (wr * t0i + wi * t0r)
    if bad:
        return False
    # back substitution (in place) and the combinations
    scale = np.exp(h * mu)
    for i in range(n - 1, -1, -1):
        if i == n - 1:
            for k in range(K):
                zr, zi = W[i, 2 * KP + k], W[i, 3 * KP + k]
                W[i, 2 * KP + k] = zr * W[i, k] - zi * W[i, KP + k]
                W[i, 3 * KP + k] = zr * W[i, KP + k] + zi * W[i, k]
        else:
            ur, ui = hur[i], hui[i]
            for k in range(K):
                br, bi = W[i + 1, 2 * KP + k], W[i + 1, 3 * KP + k]
                zr = W[i, 2 * KP + k] - (ur * br - ui * bi)
                zi = W[i, 3 * KP + k] - (ur * bi + ui * br)
                W[i, 2 * KP + k] = zr * W[i, k] - zi * W[i, KP + k]
                W[i, 3 * KP + k] = zr * W[i, KP + k] + zi * W[i, k]
        _combine(W, i, x, rinf, cr, ci, kr, scale, out, a)
    return True


@njit(cache=True)
def rayleigh(diag, up, low, up2, low2, a, b, x):
    """(x^H A x, ||A x - (x^H A x) x||^2, x^H x) over the window [a, b) (x need not be normalised),
    A with the second bands of :func:`apply_banded` (empty ``up2``: tridiagonal)."""
    two = up2.shape[0] > 0
    xax = 0j
    nx = 0.0
    aa = 0.0
    for g in range(a, b):
        v = diag[g] * x[g]
        if g + 1 < b:
            v += (-1j * up[g]) * x[g + 1]
        if g > a:
            v += low[g - 1] * x[g - 1]
        if two:
            if g + 2 < b:
                v += (-1j * up2[g]) * x[g + 2]
            if g > a + 1:
                v += (-1j * low2[g - 2]) * x[g - 2]
        xax += np.conj(x[g]) * v
        nx += x[g].real ** 2 + x[g].imag ** 2
        aa += v.real ** 2 + v.imag ** 2
    mu = xax / nx
    # ||A x - mu x||^2 = ||A x||^2 - |x^H A x|^2 / ||x||^2: the difference cancels below ~1e-15 of
    # ||A x||^2, good enough for what it is used for (the size of the first step)
    return mu, max(aa - (mu.real ** 2 + mu.imag ** 2) * nx, 0.0), nx


@njit(cache=True, error_model="numpy")
def _apply_rational5(diag, up, low, up2, low2, a, b, mu, h, poles, coef, rinf, x, out, W):
    """:func:`apply_rational` for a pentadiagonal A (second bands ``-1j * up2``, ``-1j * low2``):
    banded LU without pivoting, L with two subdiagonals (alpha1, alpha2 per row), U with the
    diagonal (inverted, fields 0, 1 of W), the first superdiagonal (pole-dependent, fields 4, 5)
    and the second (h times A's, unchanged by the elimination); W has >= 6 KP columns."""
    n = b - a
    K = poles.shape[0]
    pr, pim, cr, ci, kr = _split_poles(poles, coef)
    tiny = 1e-16 * np.abs(poles).min() ** 2
    hu = np.zeros(n, dtype=np.complex128)
    hu2 = np.zeros(n, dtype=np.complex128)
    for i in range(n - 1):
        hu[i] = -1j * h * up[a + i]
    for i in range(n - 2):
        hu2[i] = -1j * h * up2[a + i]
    bad = 0
    for i in range(n):
        hd = h * (diag[a + i] - mu)
        hl = h * low[a + i - 1] if i >= 1 else 0j
        hl2 = -1j * h * low2[a + i - 2] if i >= 2 else 0j
        xv = x[a + i]
        hui = hu[i]
        h2a = hu2[i - 2] if i >= 2 else 0j
        h2b = hu2[i - 1] if i >= 1 else 0j
        for k in range(K):
            ddr, ddi = hd.real - pr[k], hd.imag - pim[k]
            er, ei = hui.real, hui.imag
            yr, yi = xv.real, xv.imag
            l1r, l1i = hl.real, hl.imag
            if i >= 2:
                pvr, pvi = W[i - 2, k], W[i - 2, KP + k]
                a2r, a2i = hl2.real * pvr - hl2.imag * pvi, hl2.real * pvi + hl2.imag * pvr
                ubr, ubi = W[i - 2, 4 * KP + k], W[i - 2, 5 * KP + k]
                l1r, l1i = hl.real - (a2r * ubr - a2i * ubi), hl.imag - (a2r * ubi + a2i * ubr)
                ddr, ddi = ddr - (a2r * h2a.real - a2i * h2a.imag), ddi - (a2r * h2a.imag + a2i * h2a.real)
                tr, ti = W[i - 2, 2 * KP + k], W[i - 2, 3 * KP + k]
                yr, yi = yr - (a2r * tr - a2i * ti), yi - (a2r * ti + a2i * tr)
            if i >= 1:
                pvr, pvi = W[i - 1, k], W[i - 1, KP + k]
                a1r, a1i = l1r * pvr - l1i * pvi, l1r * pvi + l1i * pvr
                ubr, ubi = W[i - 1, 4 * KP + k], W[i - 1, 5 * KP + k]
                ddr, ddi = ddr - (a1r * ubr - a1i * ubi), ddi - (a1r * ubi + a1i * ubr)
                er, ei = er - (a1r * h2b.real - a1i * h2b.imag), ei - (a1r * h2b.imag + a1i * h2b.real)
                tr, ti = W[i - 1, 2 * KP + k], W[i - 1, 3 * KP + k]
                yr, yi = yr - (a1r * tr - a1i * ti), yi - (a1r * ti + a1i * tr)
            q = ddr * ddr + ddi * ddi
            bad += q < tiny
            W[i, k], W[i, KP + k] = ddr / q, -ddi / q
            W[i, 4 * KP + k], W[i, 5 * KP + k] = er, ei
            W[i, 2 * KP + k], W[i, 3 * KP + k] = yr, yi
    if bad:
        return False
    scale = np.exp(h * mu)
    for i in range(n - 1, -1, -1):
        h2 = hu2[i]
        for k in range(K):
            zr, zi = W[i, 2 * KP + k], W[i, 3 * KP + k]
            if i + 1 < n:
                ubr, ubi = W[i, 4 * KP + k], W[i, 5 * KP + k]
                tr, ti = W[i + 1, 2 * KP + k], W[i + 1, 3 * KP + k]
                zr, zi = zr - (ubr * tr - ubi * ti), zi - (ubr * ti + ubi * tr)
            if i + 2 < n:
                tr, ti = W[i + 2, 2 * KP + k], W[i + 2, 3 * KP + k]
                zr, zi = zr - (h2.real * tr - h2.imag * ti), zi - (h2.real * ti + h2.imag * tr)
            W[i, 2 * KP + k] = zr * W[i, k] - zi * W[i, KP + k]
            W[i, 3 * KP + k] = zr * W[i, KP + k] + zi * W[i, k]
        _combine(W, i, x, rinf, cr, ci, kr, scale, out, a)
    return True


@njit(cache=True)
def apply_banded(diag, up, low, up2, low2, a, b, mu, h, poles, coef, rinf, x, out, W):
    """:func:`apply_rational` for A with second bands ``-1j * up2`` (A[k, k+2]) and ``-1j * low2``
    (A[k+2, k]) from H's; empty ``up2`` means tridiagonal (the same arithmetic as
    :func:`apply_rational`); W needs 6 KP columns when A is pentadiagonal (:func:`work_array`)."""
    if up2.shape[0] == 0:
        return apply_rational(diag, up, low, a, b, mu, h, poles, coef, rinf, x, out, W)
    return _apply_rational5(diag, up, low, up2, low2, a, b, mu, h, poles, coef, rinf, x, out, W)


@njit(cache=True)
def _hermite_root(f0, g0, f1, g1, h):
    """Root in (0, h) of the cubic Hermite interpolant of f with f(0) = f0 > 0 >= f(h) = f1 and
    slopes g0, g1 (a first guess for the jump time; Illinois iterations on the cubic)."""
    la, lb, fa, fb = 0.0, 1.0, f0, f1
    s = 0.5
    side = 0
    for _ in range(60):
        s = false_position(la, lb, fa, fb)
        s2, s3 = s * s, s * s * s
        fs = (f0 * (2 * s3 - 3 * s2 + 1) + h * g0 * (s3 - 2 * s2 + s) + f1 * (3 * s2 - 2 * s3)
              + h * g1 * (s3 - s2))
        if abs(fs) < 1e-14 or lb - la < 1e-12:
            break
        la, lb, fa, fb, side = illinois_update(la, lb, fa, fb, s, fs, side)
    return s * h


@njit(cache=True)
def _clamped(mu, h, poles):
    """mu with its real part clamped so that h Re(-mu) <= min Re p / 2 (the solves' pivots stay safe)."""
    return complex(max(mu.real, -0.5 * poles.real.min() / h), mu.imag)


@njit(cache=True)
def rational_step(psi, diag0, up, low0, up2, low2, c, gam, beta, lo, hi, t, r, hprop, t_next, tol, poles, coef,
                   rinf, nhigh, ys, W, diag, low, istate):
    """One rational step (see :mod:`piqs_squeeze.methods.mcwf.rational`) of the proposed size ``hprop``
    (0: start from 1 / ||(A - mu) psi||), shrunk until the error estimate is below ``tol``, on the
    window [lo, hi) padded by istate[10] (doubled and the step redone while the state comes within
    PAD_MARGIN of the padded window's edge). If the norm reaches r inside the step, the jump time
    is found by Newton iterations on log ||psi(s)||^2 - log r from a cubic Hermite guess.

    Returns (hnext, h, s, jump, n, clipped, lo, hi) as :func:`krylov_step`, with the proposed
    next step first. ``up2``, ``low2``: H's second bands (empty: tridiagonal), see :func:`apply_banded`.
    """
    d = psi.shape[0]
    eps2 = (1e-2 * tol) ** 2
    pad = istate[10]
    a, b = max(0, lo - pad), min(d, hi + pad)
    bands(diag0, low0, c, gam, beta, a, b, diag, low)
    mu, var, _ = rayleigh(diag, up, low, up2, low2, a, b, psi)
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
        ok = apply_banded(diag, up, low, up2, low2, a, b, _clamped(mu, h, poles), h, poles, coef, rinf, psi, ys, W)
        istate[12] += 1
        if ok:
            lo2, hi2, _ = extent(yh, a, b, eps2)
            if (a > 0 and lo2 - a < PAD_MARGIN) or (b < d and b - hi2 < PAD_MARGIN):
                pad = 2 * pad
                istate[13] += 1
                a, b = max(0, lo - pad), min(d, hi + pad)
                bands(diag0, low0, c, gam, beta, a, b, diag, low)
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
        mu1, _, _ = rayleigh(diag, up, low, up2, low2, a, b, yh)
        s = _hermite_root(fa, 2.0 * mu.real, fb, 2.0 * mu1.real, h)
        for _ in range(60):
            apply_banded(diag, up, low, up2, low2, a, b, _clamped(mu, s, poles), s, ph, ch, rh, psi, ys, W)
            istate[12] += 1
            istate[14] += 1
            mus, _, n_h = rayleigh(diag, up, low, up2, low2, a, b, yh)
            fs = np.log(max(n_h, 1e-300)) - np.log(r)
            # |fs| <= tol: jumping at norm^2 r (1 + fs) instead of r shifts the uniform r by a
            # relative tol, far below any statistical resolution
            if abs(fs) <= tol_eff or lb - la < 1e-15 * max(1.0, abs(t)):
                break
            if fs > 0:
                la, fa = s, fs
            else:
                lb, fb = s, fs
            s_new = s - fs / (2.0 * mus.real) if mus.real < 0 else -1.0  # Newton, d log n/ds = 2 Re<A>
            s = s_new if la < s_new < lb else false_position(la, lb, fa, fb)
    for k in range(lo, hi):
        psi[k] = 0j
    for g in range(a, b):
        psi[g] = yh[g]
    lo2, hi2, tot = trim(psi, a, b, eps2)
    inv = 1.0 / np.sqrt(tot)
    for k in range(lo2, hi2):
        psi[k] *= inv
    # the window moved by at most ~max(lo - lo2, hi2 - hi) in this step: pad for twice that next time
    istate[10] = max(PAD_MIN, PAD_MARGIN + 2 * max(lo - lo2, hi2 - hi, 0))
    return hnext, h, s, jump, n_h, clipped, lo2, hi2
