"""The batched driver of the moment methods: initial variables, one integration, Results; and
:func:`evolve_protocol`, which runs a Protocol segment by segment with a method's ``evolve_many``.

Shared by :mod:`~piqs_squeeze.methods.moments.cumulant` and
:mod:`~piqs_squeeze.methods.moments.meanfield`; the equations and their integration are in
:mod:`~piqs_squeeze.methods.moments.integrator`.
"""
from __future__ import annotations

import numpy as np

from piqs_squeeze.model import check_times
from piqs_squeeze.protocol import Protocol
from piqs_squeeze.result import Result
from . import integrator as moment_ode

__all__ = ["evolve_batch", "evolve_protocol", "results", "unphysical_from", "variables_from_moments",
           "from_quantum_state", "LABELS", "LABELS3"]

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


def evolve_protocol(run, protocols, times, initial=None, options=None):
    """Run a Protocol (or several with the same end times, batched) with a moment method's
    ``run = evolve_many``, segment by segment.

    Segment k integrates model k from its start s_k to its end e_k (output times in (s_k, e_k],
    plus t_0 for the first): dy/dt = K_k(t) m(y) on (s_k, e_k], y(s_k) = y(e_{k-1}) exactly
    (the variables at the end of a segment start the next one); the k-th models of all the
    protocols form one batch, run with ``run(models, grid, initial=y, options=options)``.  An
    output time on a boundary gives the state reached there.  ``initial`` is one initial state
    for all, or one per protocol; ``options`` the method's options object (e.g.
    :class:`~piqs_squeeze.methods.moments.options.CumulantOptions`), the same for every segment.

    Returns
    -------
    Result (a list of them for a sequence of protocols), with ``protocol`` set, ``model`` its
    first model, ``stats["steps"]`` and ``stats["rhs_evaluations"]`` summed over the segments
    and ``extras["segments"]`` the (start, end) of each.  With ``on_failure="nan"`` a failed
    segment leaves NaN from its first time not reached on and ends that protocol's run.
    """
    single = isinstance(protocols, Protocol)
    protocols = [protocols] if single else list(protocols)
    if not protocols or not all(isinstance(p, Protocol) for p in protocols):
        raise TypeError("protocols must be a Protocol or a non-empty sequence of them")
    ends = protocols[0].ends
    if any(p.ends != ends for p in protocols):
        raise ValueError("protocols run together must have the same end times; run the others separately")
    times = check_times(times)
    segments = protocols[0].segments(times)
    skipped = int(np.sum(np.asarray(ends[:-1]) <= times[0]))  # segments ended before times[0]
    B = len(protocols)
    pieces, steps, nfev = [[] for _ in range(B)], [0] * B, [0] * B
    last, failure, alive, y = [None] * B, [None] * B, list(range(B)), initial
    for k, seg in enumerate(segments):
        grid = seg.times if k == 0 else np.concatenate([[seg.start], seg.times])
        if grid[-1] < seg.end:  # run on to the boundary, whose state starts the next segment
            grid = np.append(grid, seg.end)
        runs = run([protocols[b].models[skipped + k] for b in alive], grid, initial=y, options=options)
        first = 0 if k == 0 else 1
        for b, r in zip(alive, runs):
            pieces[b].append([a[first:first + seg.times.size] for a in (r.mean, r.second, r.extras["variables"])])
            steps[b] += r.stats["steps"]
            nfev[b] += r.stats["rhs_evaluations"]
            last[b] = r
            if "failure" in r.extras:
                failure[b] = r.extras
        alive = [b for b in alive if failure[b] is None]
        if not alive:
            break
        y = [last[b].extras["variables"][-1] for b in alive]
    out = []
    for b in range(B):
        mean, second, variables = (np.concatenate([piece[i] for piece in pieces[b]]) for i in range(3))
        missing = times.size - mean.shape[0]
        if missing:
            mean, second, variables = (np.concatenate([a, np.full((missing,) + a.shape[1:], np.nan)])
                                       for a in (mean, second, variables))
        extras = {"variables": variables, "labels": last[b].extras["labels"],
                  "segments": [[s.start, s.end] for s in segments]}
        if failure[b] is not None:
            extras.update(failure=failure[b]["failure"], t_reached=failure[b]["t_reached"])
        out.append(Result(times, mean, second, protocols[b].models[0], last[b].method, options=last[b].options,
                          extras=extras, stats={"steps": steps[b], "rhs_evaluations": nfev[b]},
                          protocol=protocols[b]))
    return out[0] if single else out
