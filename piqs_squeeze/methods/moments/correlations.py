"""Two-time correlations and the emission spectrum from the order-2 cumulant hierarchy (regression theorem).

For collective operators a = sum_p alpha_p J_p, b = sum_p beta_p J_p (J+ = Jx + i Jy, ...), the
correlation of qutip.correlation_2op_1t's convention is

    <a(tau) b(0)> = (N/2) sum_p alpha_p c_p(tau),   c_p(tau) = tr[sigma_p^i e^{L tau}(b rho)].

``b rho`` is permutation invariant, so the exact equations of the one-particle moments
(:mod:`piqs_squeeze.methods.moments.derivation`, the rows of s_p of the order-2 coefficient matrix
K = :func:`~piqs_squeeze.methods.moments.integrator.coefficient_matrices`) hold for its moments:

    dc_p/dtau = sum_k K[p, k] mt_k,   mt = (<b>, c, Ct),   Ct_pq = tr[sigma_p^i sigma_q^j e^{L tau}(b rho)],

(the rows of s never involve three-particle moments). The order-2 closure of the three operators
sigma_p^i(tau), sigma_q^j(tau), b(0) (their joint cumulant set to zero) gives

    Ct_pq = C_pq <b> + c_p s_q + c_q s_p - 2 s_p s_q <b>,

with s, C the one-time cumulant variables at t + tau (the steady state, or the state evolved from
an initial CSS alongside c). Initial values: <sigma_p^i b> = (1/2) sum_q beta_q (delta_pq +
i eps_pqr s_r + (N - 1) C_pq) (same-particle product plus distinct particles), <b> =
(N/2) beta.s. At the steady state the equations are linear with constant coefficients,
dc/dtau = M c + v <b>, their fixed point is c = s <b>, and the emission spectrum in qutip's
convention is

    S(omega) = 2 Re [(N/2) alpha . (i omega - M)^{-1} (c(0) - s <b>)].

The steady state is taken from a cumulant evolution from the CSS along -x to ``t_steady``,
refused (ValueError) when |dy/dt| there exceeds ``steady_tol`` (a limit cycle, e.g. above the
collective threshold without local emission, has none).
"""
from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from .integrator import PIDX, closure, coefficient_matrices, initial_variables

__all__ = ["correlation", "emission_spectrum", "steady_variables", "COEFFICIENTS"]

#: collective operator name -> (alpha_x, alpha_y, alpha_z) with op = sum_p alpha_p J_p
COEFFICIENTS = {"J+": (1.0, 1j, 0.0), "J-": (1.0, -1j, 0.0), "Jx": (1.0, 0.0, 0.0), "Jy": (0.0, 1.0, 0.0),
                "Jz": (0.0, 0.0, 1.0)}
_EPS = np.zeros((3, 3, 3))
for _p, _q, _r in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
    _EPS[_p, _q, _r], _EPS[_q, _p, _r] = 1.0, -1.0


def _coeffs(op, what):
    if not isinstance(op, str) or op.strip() not in COEFFICIENTS:
        raise ValueError(f"{what}: the cumulant method takes a single collective operator "
                         f"{tuple(COEFFICIENTS)}, got {op!r} (products and Qobjs: method='exact')")
    return np.array(COEFFICIENTS[op.strip()], dtype=complex)


def _matrix(model):
    K = coefficient_matrices([model], "cumulant")[0]
    if np.any(K[:3, 10:]):
        raise AssertionError("one-particle equations must not involve three-particle moments")
    return K[:3, :10]


def steady_variables(model, t_steady=200.0, steady_tol=1e-9, rtol=1e-10):
    """Order-2 cumulant variables at t_steady from the CSS along -x; ValueError if not stationary."""
    K = coefficient_matrices([model], "cumulant")[0]
    y0 = initial_variables(None, "cumulant")
    # LSODA: the equations are stiff at large N (rates ~ N Gamma); it switches to BDF there
    sol = solve_ivp(lambda t, y: K @ closure(y, "cumulant"), (0.0, float(t_steady)), y0, method="LSODA",
                    rtol=rtol, atol=1e-13)
    y = sol.y[:, -1]
    rate = float(np.abs(K @ closure(y, "cumulant")).max())
    if not sol.success or rate > steady_tol:
        raise ValueError(f"the order-2 cumulant equations of {model} are not stationary at t = {t_steady:g} "
                         f"(|dy/dt| = {rate:.2g} > steady_tol = {steady_tol:g}): no steady state to correlate "
                         "(a limit cycle?); raise t_steady or give an initial state")
    return y


def _initial_c(y, beta, N):
    s, C = y[:3], y[3:9]
    Cm = C[PIDX]
    same = np.eye(3) + 1j * np.einsum("pqr,r->pq", _EPS, s)
    c0 = 0.5 * ((same + (N - 1) * Cm) @ beta)
    return c0, 0.5 * N * complex(beta @ s)


def _mt(c, y, b_mean):
    s, C = y[:3], y[3:9]
    Ct = np.array([C[PIDX[p, q]] * b_mean + c[p] * s[q] + c[q] * s[p] - 2 * s[p] * s[q] * b_mean
                   for p, q in ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))])
    return np.concatenate([[b_mean], c, Ct])


def _linear_part(Ks, y, b_mean):
    """M with K_s mt(c) = M c + const (mt is affine in c)."""
    base = Ks @ _mt(np.zeros(3, complex), y, b_mean)
    return np.stack([Ks @ _mt(np.eye(3)[q].astype(complex), y, b_mean) - base for q in range(3)], axis=1)


def correlation(model, taus, a="J+", b="J-", state="steady", *, rtol=1e-10, t_steady=200.0, steady_tol=1e-9):
    """<a(tau) b(0)> from the order-2 cumulant hierarchy (module docstring): complex ndarray.

    ``state``: "steady" (see :func:`steady_variables`), None (CSS along -x) or a CoherentSpinState.
    """
    from piqs_squeeze.states import CoherentSpinState

    taus = np.asarray(taus, dtype=float)
    if taus.ndim != 1 or taus.size == 0 or not np.all(np.isfinite(taus)) or taus[0] < 0 or np.any(np.diff(taus) <= 0):
        raise ValueError("taus must be a non-empty, strictly increasing 1-D array of delays >= 0")
    alpha, beta = _coeffs(a, "a"), _coeffs(b, "b")
    if not (state is None or isinstance(state, CoherentSpinState) or (isinstance(state, str) and state == "steady")):
        raise ValueError(f"state must be 'steady', None or a CoherentSpinState for the cumulant method, got {state!r}")
    N = model.N
    K = coefficient_matrices([model], "cumulant")[0]
    Ks = _matrix(model)
    steady = isinstance(state, str)
    y0 = steady_variables(model, t_steady, steady_tol, rtol) if steady else initial_variables(state, "cumulant")
    c0, b_mean = _initial_c(y0, beta, N)
    grid = taus if taus[0] == 0 else np.concatenate([[0.0], taus])

    def rhs(t, z):
        y = y0 if steady else z[:9]
        c = z[-6:-3] + 1j * z[-3:]
        dc = Ks @ _mt(c, y, b_mean)
        dz = [dc.real, dc.imag]
        return np.concatenate(dz if steady else [K @ closure(y, "cumulant")] + dz)

    z0 = np.concatenate(([] if steady else [y0]) + [c0.real, c0.imag])
    if steady:  # constant coefficients: c(tau) = s <b> + e^{M tau} (c(0) - s <b>), exactly
        from scipy.linalg import expm

        M = _linear_part(Ks, y0, b_mean)
        d0 = c0 - y0[:3] * b_mean
        c = np.array([y0[:3] * b_mean + expm(M * t) @ d0 for t in grid])
    elif grid.size == 1:
        c = (z0[-6:-3] + 1j * z0[-3:])[None]
    else:
        sol = solve_ivp(rhs, (grid[0], grid[-1]), z0, method="LSODA", t_eval=grid, rtol=rtol,
                        atol=1e-12 * max(1.0, float(np.abs(z0).max())))
        if not sol.success:
            raise RuntimeError(f"cumulant correlation of {model}: {sol.message}")
        Z = sol.y.T
        c = Z[:, -6:-3] + 1j * Z[:, -3:]
    out = 0.5 * N * (c @ alpha)
    return out if taus[0] == 0 else out[1:]


def emission_spectrum(model, omegas, a="J+", b="J-", *, t_steady=200.0, steady_tol=1e-9, rtol=1e-10):
    """S(omega) = 2 Re[(N/2) alpha.(i omega - M)^{-1}(c(0) - s<b>)] at the cumulant steady state
    (module docstring; qutip.spectrum's convention, the <a><b> part removed). Real ndarray."""
    omegas = np.asarray(omegas, dtype=float)
    if omegas.ndim != 1 or omegas.size == 0 or not np.all(np.isfinite(omegas)):
        raise ValueError("omegas must be a non-empty 1-D array of finite frequencies")
    alpha, beta = _coeffs(a, "a"), _coeffs(b, "b")
    N = model.N
    Ks = _matrix(model)
    y = steady_variables(model, t_steady, steady_tol, rtol)
    c0, b_mean = _initial_c(y, beta, N)
    M = _linear_part(Ks, y, b_mean)
    d0 = c0 - y[:3] * b_mean
    out = np.empty(omegas.size)
    for i, w in enumerate(omegas):
        out[i] = 2.0 * float(np.real(0.5 * N * alpha @ np.linalg.solve(1j * w * np.eye(3) - M, d0)))
    return out
