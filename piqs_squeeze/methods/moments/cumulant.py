"""Second- and third-order cumulant dynamics for any N, batched over parameter grids.

Variables (permutation-symmetric state, distinct particles i, j, k): s_p = <sigma_p^i>,
C_pq = <sigma_p^i sigma_q^j>, p, q in x, y, z (equivalent to the paper's <s+>, <sz>, <s+ s->,
<sz sz>, <s+ s+>, <sz s+>) and, at ``order=3``, T_pqr = <sigma_p^i sigma_q^j sigma_r^k>.  Their
equations of motion are derived for every rate of the Model in :mod:`piqs_squeeze.methods.moments.derivation`
(same-particle products by Pauli algebra).  The first moments beyond the variables are closed
by setting the joint cumulant of that many distinct particles to zero:

* ``order=2`` (default, the paper's Eq. S11; exact for N <= 2): three distinct particles,

      <a b c> = <a b><c> + <b c><a> + <a c><b> - 2 <a><b><c>;

* ``order=3`` (exact for N <= 3): four distinct particles,

      <a b c d> = sum_4 <a b c><d> + sum_3 <a b><c d> - 2 sum_6 <a b><c><d> + 6 <a><b><c><d>.

The Hamiltonian may be any quadratic collective one (``Model(hamiltonian=...)``: every term has its
own derived coefficient tensor) and its coefficients functions of time (integrated directly, one
model at a time).  :func:`evolve` also runs a :class:`~piqs_squeeze.protocol.Protocol`, segment
by segment, the variables carried exactly across each boundary.

Collective moments: <J_p> = N s_p / 2 and <(J_p J_q + J_q J_p)/2> = (N delta_pq + N (N - 1) C_pq)/4,
assembled through :func:`piqs_squeeze.observables.moments_from_collective`.
"""
from __future__ import annotations

import numpy as np

from . import integrator as moment_ode
from piqs_squeeze.model import Model, check_times
from piqs_squeeze.observables import moments_from_collective
from piqs_squeeze.protocol import Protocol
from piqs_squeeze.result import Result

__all__ = ["evolve", "evolve_many", "evolve_protocol", "collective_moments", "unsupported", "check_order",
           "unphysical_from", "variables_from_moments", "LABELS", "LABELS3", "ORDERS"]

LABELS = ("s_x", "s_y", "s_z", "C_xx", "C_xy", "C_xz", "C_yy", "C_yz", "C_zz")
LABELS3 = LABELS + ("T_xxx", "T_xxy", "T_xxz", "T_xyy", "T_xyz", "T_xzz", "T_yyy", "T_yyz", "T_yzz", "T_zzz")
ORDERS = (2, 3)
_LABELS_BY_SIZE = {3: LABELS[:3], 9: LABELS, 19: LABELS3}


def check_order(order):
    """The cumulant order as an int; a clear error for anything but 2 or 3."""
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or int(order) not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS} (the supported cumulant orders), got {order!r}")
    return int(order)


def unsupported(model):
    """The cumulant equations cover every rate of the Model, any quadratic collective Hamiltonian,
    coefficients that depend on time, and any N."""
    return None


def collective_moments(y, N):
    """(mean, second) of the collective spin from cumulant variables y (..., 9 or 19; only the
    one- and two-particle moments s, C enter).

        <J+> = N (s_x + i s_y)/2,  <Jz> = N s_z / 2,  <J+J+> = N(N-1)(C_xx - C_yy + 2i C_xy)/4,
        <Jz^2> = (N + N(N-1) C_zz)/4,  <(J+Jz + JzJ+)/2> = N(N-1)(C_xz + i C_yz)/4,
        <J^2> = (3N + N(N-1)(C_xx + C_yy + C_zz))/4.
    """
    y = np.asarray(y, dtype=float)
    N = float(N)
    s, C = y[..., :3], y[..., 3:9]  # T (order 3) does not enter the first and second moments
    cxx, cxy, cxz, cyy, cyz, czz = (C[..., k] for k in range(6))
    pair = N * (N - 1) / 4
    return moments_from_collective(
        jp=N * (s[..., 0] + 1j * s[..., 1]) / 2,
        jz=N * s[..., 2] / 2,
        jpjp=pair * (cxx - cyy + 2j * cxy),
        jz2=N / 4 + pair * czz,
        jpjz_sym=pair * (cxz + 1j * cyz),
        j2=3 * N / 4 + pair * (cxx + cyy + czz),
    )


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


def _results(models, times_list, ys, stats, options, method, to_moments, result_method=None, on_failure="raise"):
    out = []
    for m, t, y, st in zip(models, times_list, ys, stats):
        failure = None
        if st[0] != 0:
            failure = (f"{method} integration failed for {m}: {moment_ode._STATUS.get(int(st[0]))} after "
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
                                  "steps": int(st[1]), "rhs_evaluations": int(st[2]),
                                  **({} if failure is None else {"failure": failure,
                                                                 "t_reached": float(t[max(int(st[3]) - 1, 0)])})}))
    return out


def evolve_many(models, times, initial=None, *, order=2, rtol=1e-8, atol=1e-10, integrator="auto",
                scheme="DOP853", max_steps=10**8, on_failure="raise", progress=None):
    """Integrate the cumulant equations of many models in one compiled batch.

    ``order=2``: d(s, C)/dt = K_model m(s, C, T(s, C)) with the third-order cumulant closure;
    ``order=3``: d(s, C, T)/dt = K_model m(s, C, T, Q(s, C, T)) with the fourth-order one (see
    the module docstring; K_model derived in :mod:`piqs_squeeze.methods.moments.derivation`).

    With a general Hamiltonian (``Model(hamiltonian=...)``) K_model also sums h_key (A_key + N B_key)
    over its terms (derived like the rates' tensors).

    Parameters
    ----------
    models : sequence of Model, or of Protocol
        Any mix of N, drives, rates and Hamiltonians; or protocols with the same end times, run
        segment by segment by :func:`evolve_protocol`, one batch per segment.  Models whose coefficients depend on time
        (a Ramp or another function of t) are integrated one by one by ``solve_ivp`` with
        ``scheme``, the right-hand side evaluating them at t, whatever ``integrator`` says; the
        constant models of the batch still run compiled.
    times : array_like or list of array_like
        One output grid for all models, or one per model (e.g. t_end = 5 / gamma_s).
    initial : None, CoherentSpinState, the cumulant variables (9 at order 2, 19 at order 3), or a
        list with one per model.  Default: coherent spin state along -x.
    order : {2, 3}
        Cumulant order: 2 (default, the paper's closure) or 3 (three-particle moments T evolved,
        four-particle moments closed; about 3x the cost per point, see benchmarks/).
    rtol, atol : float
        Local error tolerances of the adaptive Dormand-Prince 5(4) steps (per model).
    integrator : {"auto", "numba", "scipy"}
        ``"numba"``: compiled batch (default when numba is installed); ``"scipy"``: a loop of
        ``solve_ivp`` calls with ``scheme`` (slower; useful as a reference).
    on_failure : {"raise", "nan"}
        What a failed integration (diverging equations, step-size underflow) does: raise a
        RuntimeError (default), or return its Result with NaN at the output times not reached
        and ``extras["failure"]`` (message) and ``extras["t_reached"]`` (last good time) set.
        With ``"nan"`` a run whose moments become unphysical (see :func:`unphysical_from`) is
        treated the same way, NaN from that time on.  The order-3 equations diverge at large N
        on part of the Fig. 3(a) map (see the README); use ``"nan"`` for maps.
    progress : bool or None
        tqdm bar; None shows it only on a terminal.

    Returns
    -------
    list of Result (method ``"cumulant"``, ``options["order"]``); ``extras["variables"]`` holds the
    (T, 9) or (T, 19) cumulant variables, named in ``extras["labels"]``.
    """
    if isinstance(models, (list, tuple)) and models and all(isinstance(m, Protocol) for m in models):
        return evolve_protocol(evolve_many, models, times, initial, order=order, rtol=rtol, atol=atol,
                               integrator=integrator, scheme=scheme, max_steps=max_steps, on_failure=on_failure,
                               progress=progress)
    order = check_order(order)
    if on_failure not in ("raise", "nan"):
        raise ValueError(f"on_failure must be 'raise' or 'nan', got {on_failure!r}")
    extra = {"order": order} if on_failure == "raise" else {"order": order, "on_failure": on_failure}
    return _evolve_many("cumulant" if order == 2 else "cumulant3", collective_moments, models, times, initial,
                        result_method="cumulant", extra_options=extra, on_failure=on_failure, rtol=rtol,
                        atol=atol, integrator=integrator, scheme=scheme, max_steps=max_steps, progress=progress)


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
    return np.concatenate([s, [C[a, b] for a, b in moment_ode._PAIRS]])


def _from_quantum_state(initial, models, method):
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


def _evolve_many(method, to_moments, models, times, initial, result_method=None, extra_options=None,
                 on_failure="raise", **opts):
    models, times_list = moment_ode.check_models_and_times(models, times)
    initial = _from_quantum_state(initial, models, method)
    y0s = moment_ode.check_initials(initial, len(models), method)
    ys, stats = moment_ode.integrate(models, times_list, y0s, method, **opts)
    options = dict(extra_options or {})
    options.update((k, v) for k, v in opts.items() if k != "progress")
    options["integrator"] = opts["integrator"] if opts["integrator"] != "auto" else (
        "numba" if moment_ode.HAVE_NUMBA else "scipy")
    return _results(models, times_list, ys, stats, options, method, to_moments, result_method, on_failure)


def evolve(model, times, initial=None, **options):
    """Cumulant dynamics of one model or a :class:`~piqs_squeeze.protocol.Protocol` (see
    :func:`evolve_many` for the options and :func:`evolve_protocol` for protocols)."""
    if isinstance(model, Protocol):
        return evolve_protocol(evolve_many, model, times, initial, **options)
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model or a Protocol, got {type(model).__name__}")
    return evolve_many([model], times, initial=initial, **options)[0]


def evolve_protocol(run, protocols, times, initial=None, **options):
    """Run a Protocol (or several with the same end times, batched) with a moment method's
    ``run = evolve_many``, segment by segment.

    Segment k integrates model k from its start s_k to its end e_k (output times in (s_k, e_k],
    plus t_0 for the first): dy/dt = K_k(t) m(y) on (s_k, e_k], y(s_k) = y(e_{k-1}) exactly
    (the variables at the end of a segment start the next one); the k-th models of all the
    protocols form one batch.  An output time on a boundary gives the state reached there.
    ``initial`` is one initial state for all, or one per protocol.

    Returns
    -------
    Result (a list of them for a sequence of protocols), with ``protocol`` set, ``model`` its
    first model, ``extras["steps"]`` and ``["rhs_evaluations"]`` summed over the segments and
    ``extras["segments"]`` the (start, end) of each.  With ``on_failure="nan"`` a failed segment
    leaves NaN from its first time not reached on and ends that protocol's run.
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
        runs = run([protocols[b].models[skipped + k] for b in alive], grid, initial=y, **options)
        first = 0 if k == 0 else 1
        for b, r in zip(alive, runs):
            pieces[b].append([a[first:first + seg.times.size] for a in (r.mean, r.second, r.extras["variables"])])
            steps[b] += r.extras["steps"]
            nfev[b] += r.extras["rhs_evaluations"]
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
        extras = {"variables": variables, "labels": last[b].extras["labels"], "steps": steps[b],
                  "rhs_evaluations": nfev[b], "segments": [[s.start, s.end] for s in segments]}
        if failure[b] is not None:
            extras.update(failure=failure[b]["failure"], t_reached=failure[b]["t_reached"])
        out.append(Result(times, mean, second, protocols[b].models[0], last[b].method, options=last[b].options,
                          extras=extras, protocol=protocols[b]))
    return out[0] if single else out
