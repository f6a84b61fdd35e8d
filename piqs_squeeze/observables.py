"""Collective observables from first and second moments: one implementation for every method.

All functions take the first moments ``mean[..., a] = <J_a>`` and the symmetrized second
moments ``second[..., a, b] = <(J_a J_b + J_b J_a) / 2>`` (a, b in x, y, z) and broadcast over
any leading axes (time, trajectories, parameter points).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "covariance",
    "bloch_vector",
    "squeezing",
    "xi2",
    "xi2_db",
    "total_spin",
    "n_eff",
    "moments_from_collective",
]


def _as_moments(mean, second):
    mean = np.asarray(mean, dtype=float)
    second = np.asarray(second, dtype=float)
    if mean.shape[-1:] != (3,) or second.shape[-2:] != (3, 3) or second.shape[:-2] != mean.shape[:-1]:
        raise ValueError(
            f"mean must have shape (..., 3) and second (..., 3, 3) with the same leading axes; "
            f"got {mean.shape} and {second.shape}"
        )
    return mean, second


def covariance(mean, second):
    """Covariance matrix C_ab = <(J_a J_b + J_b J_a)/2> - <J_a><J_b>."""
    mean, second = _as_moments(mean, second)
    return second - mean[..., :, None] * mean[..., None, :]


def bloch_vector(mean, N):
    """Normalized Bloch vector <J> / (N/2) (length 1 for a coherent spin state)."""
    return np.asarray(mean, dtype=float) / (0.5 * np.asarray(N, dtype=float)[..., None])


def squeezing(mean, second, N):
    """Wineland squeezing parameter and its axis (paper Eq. 4).

        xi^2 = N min_{n perp <J>} Var(J.n) / |<J>|^2

    The minimum over the plane perpendicular to <J> is the smallest eigenvalue of the
    covariance projected on that plane, P C P with P = 1 - u u^T, u = <J>/|<J>|; the direction
    along u is lifted out of the way by adding (tr C + 1) u u^T before diagonalising.

    Parameters
    ----------
    mean, second : array_like, shapes (..., 3) and (..., 3, 3)
    N : int or array_like
        The real atom number (not N_eff), broadcast against the leading axes.

    Returns
    -------
    xi2 : ndarray (...)
        Squeezing parameter. Where |<J>| = 0 (no mean spin, e.g. a Dicke state or the normal
        phase) the Wineland parameter is undefined; we return ``inf`` there: no phase
        information can be read from a state without mean spin.  NaN where a moment is NaN.
    axis : ndarray (..., 3)
        Unit vector n_perp of the minimal variance (NaN where |<J>| = 0). Its sign is fixed so
        that its largest component is positive.
    """
    mean, second = _as_moments(mean, second)
    cov = covariance(mean, second)
    norm2 = np.einsum("...a,...a->...", mean, mean)
    scale = np.maximum(np.abs(np.trace(second, axis1=-2, axis2=-1)), 1.0)
    zero = norm2 <= (1e-14 * scale) ** 2 + 1e-300
    safe = np.where(zero, 1.0, np.sqrt(norm2))
    u = mean / safe[..., None]
    u = np.where(zero[..., None], np.array([0.0, 0.0, 1.0]), u)
    proj = np.eye(3) - u[..., :, None] * u[..., None, :]
    lift = (np.abs(np.trace(cov, axis1=-2, axis2=-1)) + 1.0)[..., None, None]
    m = proj @ cov @ proj + lift * u[..., :, None] * u[..., None, :]
    m = 0.5 * (m + np.swapaxes(m, -1, -2))
    bad = ~np.all(np.isfinite(m), axis=(-2, -1))  # NaN moments (e.g. times a failed run never reached)
    m = np.where(bad[..., None, None], np.eye(3), m)
    w, v = np.linalg.eigh(m)
    var_min = w[..., 0]
    axis = v[..., :, 0]
    sign = np.sign(np.take_along_axis(axis, np.argmax(np.abs(axis), axis=-1)[..., None], -1))
    axis = axis * np.where(sign == 0, 1.0, sign)
    N = np.asarray(N, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = N * var_min / np.where(zero, 1.0, norm2)
    out = np.where(zero, np.inf, out)
    out = np.where(bad, np.nan, out)
    axis = np.where((zero | bad)[..., None], np.nan, axis)
    return out, axis


def xi2(mean, second, N):
    """Wineland squeezing parameter xi^2 (see :func:`squeezing`)."""
    return squeezing(mean, second, N)[0]


def xi2_db(mean, second, N):
    """xi^2 in decibels, 10 log10(xi^2) (negative means squeezed)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(xi2(mean, second, N))


def total_spin(second):
    """<J^2> = <Jx^2> + <Jy^2> + <Jz^2> from the symmetrized second moments."""
    second = np.asarray(second, dtype=float)
    return np.trace(second, axis1=-2, axis2=-1)


def n_eff(second):
    """Effective atom number N_eff = 2 sqrt(1/4 + <J^2>) - 1 (= 2j in a sector of total spin j)."""
    return 2.0 * np.sqrt(0.25 + np.maximum(total_spin(second), 0.0)) - 1.0


def moments_from_collective(jp, jz, jpjp, jz2, jpjz_sym, j2):
    """Assemble (mean, second) from complex collective expectation values.

    Parameters (broadcast together)
    ----------
    jp : <J+>, with J+ = Jx + i Jy
    jz : <Jz>
    jpjp : <J+ J+>
    jz2 : <Jz^2>
    jpjz_sym : <(J+ Jz + Jz J+) / 2>
    j2 : <J^2>

    Notes
    -----
    <Jx^2> = (Re<J+J+> + <J^2> - <Jz^2>) / 2,  <Jy^2> = (-Re<J+J+> + <J^2> - <Jz^2>) / 2,
    <(JxJy + JyJx)/2> = Im<J+J+> / 2,  <(JxJz + JzJx)/2> + i <(JyJz + JzJy)/2> = <(J+Jz + JzJ+)/2>.
    """
    jp = np.asarray(jp, dtype=complex)
    jz = np.asarray(jz, dtype=float)
    jpjp = np.asarray(jpjp, dtype=complex)
    jz2 = np.asarray(jz2, dtype=float)
    jpjz_sym = np.asarray(jpjz_sym, dtype=complex)
    j2 = np.asarray(j2, dtype=float)
    shape = np.broadcast_shapes(jp.shape, jz.shape, jpjp.shape, jz2.shape, jpjz_sym.shape, j2.shape)
    mean = np.empty(shape + (3,))
    second = np.empty(shape + (3, 3))
    mean[..., 0] = jp.real
    mean[..., 1] = jp.imag
    mean[..., 2] = jz
    perp = j2 - jz2
    second[..., 0, 0] = 0.5 * (perp + jpjp.real)
    second[..., 1, 1] = 0.5 * (perp - jpjp.real)
    second[..., 2, 2] = jz2
    second[..., 0, 1] = second[..., 1, 0] = 0.5 * jpjp.imag
    second[..., 0, 2] = second[..., 2, 0] = jpjz_sym.real
    second[..., 1, 2] = second[..., 2, 1] = jpjz_sym.imag
    return mean, second
