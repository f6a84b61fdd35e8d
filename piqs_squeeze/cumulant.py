"""Second-order cumulant dynamics for any N, batched over parameter grids.

Variables (permutation-symmetric state, particles i != j): s_p = <sigma_p^i> and
C_pq = <sigma_p^i sigma_q^j>, p, q in x, y, z (equivalent to the paper's <s+>, <sz>, <s+ s->,
<sz sz>, <s+ s+>, <sz s+>).  Their equations of motion are derived for every rate of the Model in
:mod:`piqs_squeeze.derivation` (same-particle products by Pauli algebra, exact for N <= 2), and
the moments of three distinct particles are closed with the paper's Eq. (S11),

    <a b c> = <a b><c> + <b c><a> + <a c><b> - 2 <a><b><c>.

Collective moments: <J_p> = N s_p / 2 and <(J_p J_q + J_q J_p)/2> = (N delta_pq + N (N - 1) C_pq)/4,
assembled through :func:`piqs_squeeze.observables.moments_from_collective`.
"""
from __future__ import annotations

import numpy as np

from . import moment_ode
from .observables import moments_from_collective
from .result import Result

__all__ = ["evolve", "evolve_many", "collective_moments", "unsupported", "LABELS"]

LABELS = ("s_x", "s_y", "s_z", "C_xx", "C_xy", "C_xz", "C_yy", "C_yz", "C_zz")


def unsupported(model):
    """The cumulant equations cover every rate of the Model and any N."""
    return None


def collective_moments(y, N):
    """(mean, second) of the collective spin from cumulant variables y (..., 9).

        <J+> = N (s_x + i s_y)/2,  <Jz> = N s_z / 2,  <J+J+> = N(N-1)(C_xx - C_yy + 2i C_xy)/4,
        <Jz^2> = (N + N(N-1) C_zz)/4,  <(J+Jz + JzJ+)/2> = N(N-1)(C_xz + i C_yz)/4,
        <J^2> = (3N + N(N-1)(C_xx + C_yy + C_zz))/4.
    """
    y = np.asarray(y, dtype=float)
    N = float(N)
    s, C = y[..., :3], y[..., 3:9]
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


def _results(models, times_list, ys, stats, options, method, to_moments):
    out = []
    for m, t, y, st in zip(models, times_list, ys, stats):
        if st[0] != 0:
            raise RuntimeError(f"{method} integration failed for {m}: {moment_ode._STATUS.get(int(st[0]))}"
                               " (try a smaller rtol/atol or a shorter time span)")
        mean, second = to_moments(y, m.N)
        out.append(Result(t, mean, second, m, method, options=dict(options),
                          extras={"variables": y, "labels": list(LABELS if y.shape[1] == 9 else LABELS[:3]),
                                  "steps": int(st[1]), "rhs_evaluations": int(st[2])}))
    return out


def evolve_many(models, times, initial=None, *, rtol=1e-8, atol=1e-10, integrator="auto",
                scheme="DOP853", max_steps=10**8, progress=None):
    """Integrate the cumulant equations of many models in one compiled batch.

    Parameters
    ----------
    models : sequence of Model
        Any mix of N, drives and rates.
    times : array_like or list of array_like
        One output grid for all models, or one per model (e.g. t_end = 5 / gamma_s).
    initial : None, CoherentSpinState, 9 cumulant variables, or a list with one per model
        Default: coherent spin state along -x.
    rtol, atol : float
        Local error tolerances of the adaptive Dormand-Prince 5(4) steps (per model).
    integrator : {"auto", "numba", "scipy"}
        ``"numba"``: compiled batch (default when numba is installed); ``"scipy"``: a loop of
        ``solve_ivp`` calls with ``scheme`` (slower; useful as a reference).
    progress : bool or None
        tqdm bar; None shows it only on a terminal.

    Returns
    -------
    list of Result (method ``"cumulant"``); ``extras["variables"]`` holds (T, 9) cumulant variables.
    """
    return _evolve_many("cumulant", collective_moments, models, times, initial, rtol=rtol, atol=atol,
                        integrator=integrator, scheme=scheme, max_steps=max_steps, progress=progress)


def _evolve_many(method, to_moments, models, times, initial, **opts):
    models, times_list = moment_ode.check_models_and_times(models, times)
    y0s = moment_ode.check_initials(initial, len(models), method)
    ys, stats = moment_ode.integrate(models, times_list, y0s, method, **opts)
    options = {k: v for k, v in opts.items() if k != "progress"}
    options["integrator"] = opts["integrator"] if opts["integrator"] != "auto" else (
        "numba" if moment_ode.HAVE_NUMBA else "scipy")
    return _results(models, times_list, ys, stats, options, method, to_moments)


def evolve(model, times, initial=None, **options):
    """Cumulant dynamics of one model (see :func:`evolve_many` for the options)."""
    from .model import Model

    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    return evolve_many([model], times, initial=initial, **options)[0]
