"""The batched driver of the moment methods: initial variables, one integration, Results.

Shared by :mod:`~piqs_squeeze.methods.moments.cumulant` and
:mod:`~piqs_squeeze.methods.moments.meanfield`; the equations and their integration are in
:mod:`~piqs_squeeze.methods.moments.integrator`.
"""
from __future__ import annotations

import numpy as np

from piqs_squeeze.result import Result
from . import integrator as moment_ode

__all__ = ["evolve_batch", "results", "unphysical_from", "variables_from_moments", "from_quantum_state", "LABELS",
           "LABELS3"]

LABELS = ("s_x", "s_y", "s_z", "C_xx", "C_xy", "C_xz", "C_yy", "C_yz", "C_zz")
LABELS3 = LABELS + ("T_xxx", "T_xxy", "T_xxz", "T_xyy", "T_xyz", "T_xzz", "T_yyy", "T_yyz", "T_yzz", "T_zzz")
_LABELS_BY_SIZE = {3: LABELS[:3], 9: LABELS, 19: LABELS3}


def unphysical_from(mean, second, N, rtol=1e-9):
    """Index of the first time whose collective moments no state can have (``len(mean)`` if none).

    Necessary conditions checked: |<J>| <= j = N/2 and the covariance Cov_ab = <(J_a J_b + J_b
    J_a)/2> - <J_a><J_b> positive semidefinite (no negative variance Var(J.n) for any n), each to
    ``rtol`` j^2 (rounding); NaN moments count as unphysical.
    """
    mean, second = np.asarray(mean, float), np.asarray(second, float)
    j = N / 2
    with np.errstate(invalid="ignore"):
        cov = second - mean[:, :, None] * mean[:, None, :]
        finite = np.all(np.isfinite(cov), axis=(1, 2)) & np.all(np.isfinite(mean), axis=1)
        lam = np.full(len(mean), -np.inf)
        lam[finite] = np.linalg.eigvalsh(cov[finite])[:, 0]
        ok = finite & (lam >= -rtol * j * j) & (np.sum(mean**2, axis=1) <= (j * (1 + rtol)) ** 2)
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else len(mean)


def results(models, times_list, ys, stats, options, method, to_moments, result_method=None, on_failure="raise"):
    """One Result per model from the integrated variables ``ys`` and the integrator's ``stats``."""
    out = []
    for m, t, y, st in zip(models, times_list, ys, stats):
        failure = None
        if st[0] != 0:
            failure = (f"{method} integration failed for {m}: {moment_ode.STATUS.get(int(st[0]))} after "
                       f"t = {t[max(int(st[3]) - 1, 0)]:.6g}")
            if on_failure == "raise":
                raise RuntimeError(f"{failure}: {moment_ode.ADVICE.get(int(st[0]), '')}")
        with np.errstate(invalid="ignore"):
            mean, second = to_moments(y, m.N)
        if on_failure == "nan":
            k = unphysical_from(mean, second, m.N)
            if k < len(t) and (failure is None or k < int(st[3])):
                failure = (f"{method}: moments unphysical (negative variance or |<J>| > N/2) from t = {t[k]:.6g} "
                           "on (diverging closure)")
                st = st.copy()
                st[3] = k
            if failure is not None:
                y = y.copy()
                y[int(st[3]):] = np.nan
                mean, second = mean.copy(), second.copy()
                mean[int(st[3]):] = np.nan
                second[int(st[3]):] = np.nan
        out.append(Result(t, mean, second, m, result_method or method, options=dict(options),
                          extras={"variables": y, "labels": list(_LABELS_BY_SIZE[y.shape[1]]),
                                  **({} if failure is None else {"failure": failure,
                                                                 "t_reached": float(t[max(int(st[3]) - 1, 0)])})},
                          stats={"steps": int(st[1]), "rhs_evaluations": int(st[2])}))
    return out


def variables_from_moments(mean, second, N: int, method: str = "cumulant") -> np.ndarray:
    """Moment-method variables of a permutation-invariant state from its collective moments.

    With J_a = sum_i sigma_i^a / 2 and identical particles,

        s_a = <sigma_a> = 2 <J_a> / N,
        C_ab = <sigma_a^i sigma_b^j> (i != j) = (4 <(J_a J_b + J_b J_a)/2> - N delta_ab) / (N (N - 1)),

    (the i = j terms of the double sum give delta_ab). Returns s (``"meanfield"``) or
    (s, C_xx, C_xy, C_xz, C_yy, C_yz, C_zz) (``"cumulant"``, order 2). Needs N >= 2 for C.
    """
    mean = np.asarray(mean, dtype=float).reshape(3)
    second = np.asarray(second, dtype=float).reshape(3, 3)
    s = 2.0 * mean / N
    if method == "meanfield":
        return s
    if N < 2:
        raise ValueError("two-particle moments need N >= 2")
    C = (4.0 * second - N * np.eye(3)) / (N * (N - 1.0))
    return np.concatenate([s, [C[a, b] for a, b in moment_ode.PAIRS]])


def from_quantum_state(initial, models, method):
    """A qutip.Qobj initial state -> the method's variables (one- and two-particle moments)."""
    if type(initial).__name__ != "Qobj":
        return initial
    if method == "cumulant3":
        raise ValueError("initial: order-3 cumulants need three-particle moments, which are not taken from a "
                         "Qobj; pass a CoherentSpinState or the 19 order-3 variables")
    from piqs_squeeze import dicke

    Ns = {m.N for m in models}
    if len(Ns) != 1:
        raise ValueError("initial: one Qobj state needs models with one N")
    N = Ns.pop()
    mat = initial.full()
    if initial.isket or mat.shape == (N + 1, 1):
        if mat.shape[0] != N + 1:
            raise ValueError(f"initial: a ket must live in the j = N/2 block (dimension {N + 1}), got {mat.shape[0]}")
        mean, second = dicke.moments_from_state(N / 2, mat[:, 0])
    elif mat.shape == (N + 1, N + 1) and dicke.num_dicke_states(N) != N + 1:
        mean, second = dicke.moments_from_density(N / 2, mat)
    elif mat.shape == (dicke.num_dicke_states(N),) * 2:
        blocks = dicke.blocks_from_piqs(mat, N)
        mean, second = np.zeros(3), np.zeros((3, 3))
        for j, B in zip(dicke.j_values(N), blocks):
            mu, s2 = dicke.moments_from_density(j, B)
            mean, second = mean + mu, second + s2
    else:
        raise ValueError(f"initial: a Qobj of shape {mat.shape} is neither a state of the j = N/2 block "
                         f"({N + 1}) nor a density matrix in qutip.piqs' Dicke basis "
                         f"({dicke.num_dicke_states(N)} x {dicke.num_dicke_states(N)}) for N = {N}")
    mean, second = np.real_if_close(mean).real, np.real_if_close(second).real
    norm = initial.tr() if not initial.isket else initial.norm() ** 2
    if abs(norm - 1.0) > 1e-8:
        raise ValueError(f"initial: the state must be normalized (trace 1), got {norm:.12g}")
    return variables_from_moments(np.asarray(mean).reshape(3), np.asarray(second).reshape(3, 3), N,
                                  "meanfield" if method == "meanfield" else "cumulant")


def evolve_batch(method, to_moments, models, times, initial, options, result_method=None):
    """Integrate the ``method`` equations ("cumulant", "cumulant3" or "meanfield") of many models
    in one batch and return their Results.

    Parameters
    ----------
    method : str
        The closure (see :mod:`~piqs_squeeze.methods.moments.integrator`).
    to_moments : callable
        (variables, N) -> (mean, second), the collective moments of the method's variables.
    models, times, initial
        As in :func:`piqs_squeeze.methods.moments.cumulant.evolve_many`.
    options : MomentOptions
        Tolerances, scheme, max_steps, progress (and ``on_failure`` when it has one); every
        field is recorded in the Results' options.
    result_method : str, optional
        The Results' method name (default ``method``).
    """
    models, times_list = moment_ode.check_models_and_times(models, times)
    initial = from_quantum_state(initial, models, method)
    y0s = moment_ode.check_initials(initial, len(models), method)
    ys, stats = moment_ode.integrate(models, times_list, y0s, method, rtol=options.rtol, atol=options.atol,
                                     scheme=options.scheme, max_steps=options.max_steps, progress=options.progress)
    return results(models, times_list, ys, stats, options.to_dict(), method, to_moments, result_method,
                   getattr(options, "on_failure", "raise"))
