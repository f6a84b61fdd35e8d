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
by segment, the variables carried exactly across each boundary
(:func:`~piqs_squeeze.methods.moments.driver.evolve_protocol`).

Collective moments: <J_p> = N s_p / 2 and <(J_p J_q + J_q J_p)/2> = (N delta_pq + N (N - 1) C_pq)/4,
assembled through :func:`piqs_squeeze.observables.moments_from_collective`.
"""
from __future__ import annotations

import numpy as np

from piqs_squeeze.model import Model
from piqs_squeeze.observables import moments_from_collective
from piqs_squeeze.protocol import Protocol
from .driver import LABELS, LABELS3, evolve_batch, evolve_protocol, unphysical_from, variables_from_moments
from .options import ORDERS, CumulantCorrelationOptions, CumulantOptions, check_order

__all__ = ["evolve", "evolve_many", "collective_moments", "unsupported", "check_order", "unphysical_from",
           "variables_from_moments", "LABELS", "LABELS3", "ORDERS", "OPTIONS", "CumulantOptions", "correlation",
           "emission_spectrum"]


# two-time correlations by the regression theorem on the order-2 hierarchy: .correlations
def correlation(model, taus, a="J+", b="J-", state="steady", options=None, **kw):
    """<a(tau) b(0)>: :func:`piqs_squeeze.methods.moments.correlations.correlation`."""
    from . import correlations as _c

    o = CumulantCorrelationOptions.coerce(options, kw)
    _constant(model)
    return _c.correlation(model, taus, a, b, state, rtol=o.rtol, t_steady=o.t_steady, steady_tol=o.steady_tol)


def emission_spectrum(model, omegas, a="J+", b="J-", options=None, **kw):
    """S(omega): :func:`piqs_squeeze.methods.moments.correlations.emission_spectrum`."""
    from . import correlations as _c

    o = CumulantCorrelationOptions.coerce(options, kw)
    _constant(model)
    return _c.emission_spectrum(model, omegas, a, b, rtol=o.rtol, t_steady=o.t_steady, steady_tol=o.steady_tol)


def _constant(model):
    if not isinstance(model, Model) or model.time_dependent:
        raise ValueError(f"two-time correlations need a Model with constant coefficients, got {model}")

#: kind -> options class
OPTIONS = {"evolve": CumulantOptions, "correlation": CumulantCorrelationOptions,
           "emission_spectrum": CumulantCorrelationOptions}
#: evolve takes a Protocol (segment by segment, see driver.evolve_protocol)
PROTOCOLS = True


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


def evolve_many(models, times, initial=None, options: CumulantOptions | None = None, **kw):
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
        segment by segment by :func:`~piqs_squeeze.methods.moments.driver.evolve_protocol`, one
        batch per segment.  Models whose coefficients depend on time (a Ramp or another function
        of t) are integrated one by one by ``solve_ivp``, the right-hand side evaluating them at
        t, whatever the scheme: with ``scheme`` when it is a solve_ivp method, with ``"RK45"``
        (the same Dormand-Prince 5(4) pair, uncompiled) for ``"dopri5"``; the constant models of
        the batch still run compiled.
    times : array_like or list of array_like
        One output grid for all models, or one per model (e.g. t_end = 5 / gamma_s).
    initial : None, CoherentSpinState, the cumulant variables (9 at order 2, 19 at order 3), or a
        list with one per model.  Default: coherent spin state along -x.
    options : CumulantOptions, optional
        The options (``piqs_squeeze.method_options("cumulant")`` lists them); ``kw`` sets single
        ones. ``order`` 3 costs about 3x per point (see benchmarks/). ``scheme="dopri5"``
        (default) integrates the batch compiled, a ``solve_ivp`` method (e.g. "DOP853") one
        model at a time (slower; a reference). ``on_failure``: what a failed integration
        (diverging equations, step-size underflow) does: raise a RuntimeError ("raise"), or
        return its Result with NaN at the output times not reached and ``extras["failure"]``
        (message) and ``extras["t_reached"]`` (last good time) set ("nan"); with "nan" a run
        whose moments become unphysical (see :func:`unphysical_from`) is treated the same way,
        NaN from that time on.  The order-3 equations diverge at large N on part of the
        Fig. 3(a) map (see the README); use "nan" for maps.

    Returns
    -------
    list of Result (method ``"cumulant"``, ``options["order"]``); ``extras["variables"]`` holds the
    (T, 9) or (T, 19) cumulant variables, named in ``extras["labels"]``; ``stats`` the
    integrator's ``steps`` and ``rhs_evaluations``.
    """
    opts = CumulantOptions.coerce(options, kw)
    if isinstance(models, (list, tuple)) and models and all(isinstance(m, Protocol) for m in models):
        _no_cavity_protocol(models)
        return evolve_protocol(evolve_many, models, times, initial, opts)
    if _with_cavity(models):
        if opts.order != 2:
            raise ValueError("a Model with cavity= runs with the order-2 cumulant only (order=3 has no cavity terms)")
        from . import cavity

        return cavity.evolve_many(models, times, initial, opts, "cumulant", collective_moments, "cumulant")
    return evolve_batch("cumulant" if opts.order == 2 else "cumulant3", collective_moments, models, times, initial,
                        opts, result_method="cumulant")


def _with_cavity(models):
    """True when the batch's models have a cavity (all of them; a mixed batch is refused)."""
    models = [models] if isinstance(models, Model) else list(models)
    flags = {isinstance(m, Model) and m.cavity is not None for m in models}
    if flags == {True, False}:
        raise ValueError("a batch mixes models with and without cavity=; run them as two batches")
    return flags == {True}


def _no_cavity_protocol(protocols):
    for p in ([protocols] if isinstance(protocols, Protocol) else protocols):
        if any(m.cavity is not None for m in p.models):
            raise ValueError("a Protocol of cavity models is not supported by the moment methods; run one Model")


def evolve(model, times, initial=None, options: CumulantOptions | None = None, **kw):
    """Cumulant dynamics of one model or a :class:`~piqs_squeeze.protocol.Protocol` (see
    :func:`evolve_many` for the options and
    :func:`~piqs_squeeze.methods.moments.driver.evolve_protocol` for protocols)."""
    if isinstance(model, Protocol):
        _no_cavity_protocol(model)
        return evolve_protocol(evolve_many, model, times, initial, CumulantOptions.coerce(options, kw))
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model or a Protocol, got {type(model).__name__}")
    return evolve_many([model], times, initial=initial, options=options, **kw)[0]
