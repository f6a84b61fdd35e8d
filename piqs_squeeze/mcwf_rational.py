"""Rational (Pade) propagation of one trajectory's no-jump equation inside a window of its sector.

The no-jump equation d psi/dt = A psi, A = -i H_eff tridiagonal, is stepped with the diagonal
(k, k) Pade approximant of the exponential of the shifted generator,

    psi(t + h) ~ exp(h mu) r_k(h (A - mu)) psi(t),   r_k(z) = (-1)^k + sum_i c_i / (z - p_i),

where mu is the Rayleigh quotient <psi|A|psi> and p_i (all in Re p > 0) the zeros of the Pade
denominator: k tridiagonal solves, O(window) each, run interleaved. Why rational and not
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
which the kernel keeps by clamping the real part of mu, so no pivot can vanish.
"""
from __future__ import annotations


import numpy as np
from numba import njit

__all__ = ["pade_fractions", "apply_rational", "rayleigh", "HIGH_ORDER", "LOW_ORDER"]

#: orders of the kept approximant and of the error-estimating one (even and odd: r_k(inf) = +-1,
#: so content the step cannot resolve, |z| >> 1, shows in the estimate instead of cancelling)
HIGH_ORDER, LOW_ORDER = 8, 7

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


@njit(cache=True)
def apply_rational(diag, up, low, a, b, mu, h, poles, coef, rinf, x, out, pv, tm):
    """out[r, a:b] = exp(h mu) [rinf_r x + sum_k coef[r, k] (h B - p_k)^-1 x] on [a, b), B = A - mu.

    A = -i H_eff has diagonal ``diag``, upper band ``-1j * up`` and lower band ``low`` (sector
    arrays; only [a, b) is read); ``pv`` and ``tm`` are (>= b - a, >= K) work arrays. The K
    tridiagonal solves run interleaved (independent recurrences: latency hidden). Returns False
    if a pivot is not safely non-zero (the caller takes a smaller step).
    """
    n = b - a
    K = poles.shape[0]
    R = coef.shape[0]
    tiny = 1e-16 * np.abs(poles).min() ** 2
    hu = np.zeros(n, dtype=np.complex128)
    for i in range(n - 1):
        hu[i] = -1j * h * up[a + i]
    # forward elimination of (h B - p_k) y_k = x for all k
    hd = h * (diag[a] - mu)
    for k in range(K):
        dd = hd - poles[k]
        q = dd.real ** 2 + dd.imag ** 2
        if q < tiny:
            return False
        pv[0, k] = complex(dd.real / q, -dd.imag / q)
        tm[0, k] = x[a]
    for i in range(1, n):
        hd = h * (diag[a + i] - mu)
        hl = h * low[a + i - 1]
        hup = hu[i - 1]
        xi = x[a + i]
        for k in range(K):
            w = hl * pv[i - 1, k]
            dd = hd - poles[k] - w * hup
            q = dd.real ** 2 + dd.imag ** 2
            if q < tiny:
                return False
            pv[i, k] = complex(dd.real / q, -dd.imag / q)
            tm[i, k] = xi - w * tm[i - 1, k]
    # back substitution (in place in tm) and the combinations
    scale = np.exp(h * mu)
    for i in range(n - 1, -1, -1):
        if i == n - 1:
            for k in range(K):
                tm[i, k] = tm[i, k] * pv[i, k]
        else:
            hui = hu[i]
            for k in range(K):
                tm[i, k] = (tm[i, k] - hui * tm[i + 1, k]) * pv[i, k]
        for r in range(R):
            acc = rinf[r] * x[a + i]
            for k in range(K):
                acc += coef[r, k] * tm[i, k]
            out[r, a + i] = scale * acc
    return True


@njit(cache=True)
def rayleigh(diag, up, low, a, b, x):
    """(x^H A x, ||A x - (x^H A x) x||^2, x^H x) over the window [a, b) (x need not be normalised)."""
    xax = 0j
    nx = 0.0
    aa = 0.0
    for g in range(a, b):
        v = diag[g] * x[g]
        if g + 1 < b:
            v += (-1j * up[g]) * x[g + 1]
        if g > a:
            v += low[g - 1] * x[g - 1]
        xax += np.conj(x[g]) * v
        nx += x[g].real ** 2 + x[g].imag ** 2
        aa += v.real ** 2 + v.imag ** 2
    mu = xax / nx
    # ||A x - mu x||^2 = ||A x||^2 - |x^H A x|^2 / ||x||^2
    return mu, max(aa - (mu.real ** 2 + mu.imag ** 2) * nx, 0.0), nx
