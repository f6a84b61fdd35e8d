"""Mean-field dynamics and steady states: the single-particle Bloch vector s = <sigma>.

Products of distinct particles are factorized, <sigma_p^i sigma_q^j> = s_p s_q, same-particle
products are reduced by Pauli algebra (paper S2-S4, written for every Model rate by
:mod:`piqs_squeeze.methods.moments.derivation`); e.g. for the paper's rates, with <sigma^+> = u,

    du/dt = [-(Gamma + gamma_s)/2 + i chi + (N-1) z (Gamma - 2 i chi)/2] u - i Omega z / 2,
    dz/dt = -(Gamma + gamma_s)(1 + z) - 2 Gamma (N-1)|u|^2 + 2 Omega Im u.

Any quadratic collective Hamiltonian (``Model(hamiltonian=...)``) enters through its derived
terms, e.g. h Jz Jz adds ds_x/dt = -h (N-1) s_y s_z, ds_y/dt = h (N-1) s_x s_z; with only
linear terms and local processes the particles stay uncorrelated and the mean field is exact.
Functions of time and :class:`~piqs_squeeze.protocol.Protocol` runs as in the cumulant method.

Collective moments are those of the product state: <J_p> = N s_p / 2,
<(J_p J_q + J_q J_p)/2> = N(N-1) s_p s_q / 4 + N delta_pq / 4.

Fixed points: the x, y equations are linear in (s_x, s_y) at fixed z, so (s_x, s_y) = s_xy(z)
and the z equation times det(M(z))^2 is a polynomial in z whose real roots give every fixed
point (then polished by Newton steps and classified by the eigenvalues of the Jacobian).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import Polynomial as P

from . import integrator as moment_ode
from .cumulant import collective_moments as _cumulant_moments
from .driver import evolve_batch, evolve_protocol
from .options import MeanfieldOptions, MeanfieldSteadyStateOptions
from piqs_squeeze.model import Model
from piqs_squeeze.protocol import Protocol
from piqs_squeeze.result import Result
from piqs_squeeze.states import CoherentSpinState, css_along

__all__ = ["evolve", "evolve_many", "steady_state", "fixed_points", "collective_moments",
           "upsilon_c", "upsilon_c_prime", "omega_c_prime", "css_collective_steady_state",
           "unsupported", "OPTIONS", "MeanfieldOptions", "MeanfieldSteadyStateOptions"]

#: kind -> options class
OPTIONS = {"evolve": MeanfieldOptions, "steady_state": MeanfieldSteadyStateOptions}
#: evolve takes a Protocol (segment by segment, see driver.evolve_protocol)
PROTOCOLS = True

_PI = moment_ode.PIDX


def unsupported(model):
    """Mean field covers every rate of the Model, any quadratic collective Hamiltonian, coefficients
    that depend on time, and any N."""
    return None


def collective_moments(s, N):
    """(mean, second) of the product state with single-particle Bloch vector s (..., 3)."""
    s = np.asarray(s, dtype=float)
    C = np.stack([s[..., a] * s[..., b] for a in range(3) for b in range(a, 3)], -1)
    return _cumulant_moments(np.concatenate([s, C], -1), N)


def evolve_many(models, times, initial=None, options: MeanfieldOptions | None = None, **kw):
    """Mean-field dynamics of many models in one compiled batch (options: :class:`MeanfieldOptions`,
    as in :func:`piqs_squeeze.methods.moments.cumulant.evolve_many` without order and on_failure;
    ``initial`` may also be a 3-vector s; ``models`` may be protocols with the same end times)."""
    from .cumulant import _no_cavity_protocol, _with_cavity

    opts = MeanfieldOptions.coerce(options, kw)
    if isinstance(models, (list, tuple)) and models and all(isinstance(m, Protocol) for m in models):
        _no_cavity_protocol(models)
        return evolve_protocol(evolve_many, models, times, initial, opts)
    if _with_cavity(models):
        from . import cavity

        return cavity.evolve_many(models, times, initial, opts, "meanfield", collective_moments, "meanfield")
    return evolve_batch("meanfield", collective_moments, models, times, initial, opts)


def evolve(model, times, initial=None, options: MeanfieldOptions | None = None, **kw):
    """Mean-field dynamics of one model or a :class:`~piqs_squeeze.protocol.Protocol` (run segment
    by segment, s carried across each boundary: see
    :func:`piqs_squeeze.methods.moments.driver.evolve_protocol`)."""
    if isinstance(model, Protocol):
        from .cumulant import _no_cavity_protocol

        _no_cavity_protocol(model)
        return evolve_protocol(evolve_many, model, times, initial, MeanfieldOptions.coerce(options, kw))
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model or a Protocol, got {type(model).__name__}")
    return evolve_many([model], times, initial=initial, options=options, **kw)[0]


# ----------------------------------------------------------------------------- fixed points
def _rhs_and_jacobian(K, s):
    m = moment_ode.closure(s, "meanfield")[:10]
    dm = np.zeros((10, 3))
    dm[1:4] = np.eye(3)
    for a in range(3):
        for b in range(a, 3):
            dm[4 + _PI[a, b], a] += s[b]
            dm[4 + _PI[a, b], b] += s[a]
    return K[:, :10] @ m, K[:, :10] @ dm


def fixed_points(model: Model, *, tol=1e-9):
    """Every physical mean-field fixed point (|s| <= 1) with its linear stability.

    Returns a list of dicts, sorted by s_z: ``s`` (Bloch vector), ``z``, ``r`` = |<sigma^+>|,
    ``phi`` = arg <sigma^+>, ``eigenvalues`` of the Jacobian, ``stable`` (all Re < 0).
    """
    if model.time_dependent:
        raise ValueError("fixed_points: the model's coefficients depend on time; pass model.at(t)")
    if model.cavity is not None:
        raise ValueError("fixed_points: no mean-field fixed points with a cavity mode yet; evolve the model")
    K = moment_ode.coefficient_matrices([model], "meanfield")[0]
    if np.any(K[:2, [0, 4 + _PI[0, 0], 4 + _PI[0, 1], 4 + _PI[1, 1]]]):
        # (a "Jy Jz" or "Jx Jz" term couples s_x, s_y quadratically: no longer linear at fixed z)
        raise ValueError("fixed_points: the transverse mean-field equations are not linear in (s_x, s_y) at fixed "
                         f"s_z for this Hamiltonian ({dict(model.hamiltonian)}); integrate with evolve instead")
    z = P([0.0, 1.0])
    M = [[K[i, 1 + j] + K[i, 4 + _PI[j, 2]] * z for j in range(2)] for i in range(2)]
    b = [K[i, 3] * z + K[i, 4 + _PI[2, 2]] * z * z for i in range(2)]
    det = M[0][0] * M[1][1] - M[0][1] * M[1][0]
    xn = -(M[1][1] * b[0] - M[0][1] * b[1])  # s_x = xn / det, s_y = yn / det
    yn = -(M[0][0] * b[1] - M[1][0] * b[0])
    k = K[2]
    h = ((k[0] + k[3] * z + k[4 + _PI[2, 2]] * z * z) * det * det
         + ((k[1] + k[4 + _PI[0, 2]] * z) * xn + (k[2] + k[4 + _PI[1, 2]] * z) * yn) * det
         + k[4 + _PI[0, 0]] * xn * xn + k[4 + _PI[0, 1]] * xn * yn + k[4 + _PI[1, 1]] * yn * yn)
    h = h.trim(tol=0)
    roots = h.roots() if h.degree() > 0 else np.array([])
    scale = max(np.max(np.abs(K)), 1e-300)
    found = []
    for z0 in roots:
        if abs(z0.imag) > 1e-6 * max(1.0, abs(z0.real)) or not -1 - 1e-6 <= z0.real <= 1 + 1e-6:
            continue
        zr = z0.real
        d = det(zr)
        if abs(d) < 1e-12 * scale * scale:
            continue
        s = np.array([xn(zr) / d, yn(zr) / d, zr])
        for _ in range(20):  # Newton polish on the full 3-D system
            f, J = _rhs_and_jacobian(K, s)
            try:
                step = np.linalg.solve(J, f)
            except np.linalg.LinAlgError:
                break
            s = s - step
            if np.max(np.abs(step)) < 1e-15:
                break
        f, J = _rhs_and_jacobian(K, s)
        if np.max(np.abs(f)) > tol * scale or np.linalg.norm(s) > 1 + 1e-9:
            continue
        if any(np.max(np.abs(s - q["s"])) < 1e-8 for q in found):
            continue
        ev = np.linalg.eigvals(J)
        u = complex(s[0], s[1]) / 2
        found.append({"s": s, "z": float(s[2]), "r": abs(u), "phi": math.atan2(u.imag, u.real),
                      "eigenvalues": ev, "stable": bool(np.max(ev.real) < -1e-12 * scale)})
    return sorted(found, key=lambda q: q["z"])


def _relax_time(model):
    rates = [model.gamma, model.gamma_s, model.dephasing, model.pumping, model.collective_dephasing,
             model.collective_pumping]
    pos = [r for r in rates if r > 0]
    return 40.0 / min(pos) if pos else 40.0


def steady_state(model: Model, options: MeanfieldSteadyStateOptions | None = None, **kw) -> Result:
    """Mean-field steady state reached from ``initial`` (default CSS along -x).

    The equations are integrated to ``t_relax`` (default 40 / smallest non-zero rate; the other
    options are those of :func:`evolve`) and the final Bloch vector is matched to the nearest
    fixed point of :func:`fixed_points`.

    Returns a Result at time ``inf``. ``extras``: ``fixed_points`` (s, z, r, phi, eigenvalues,
    stable), ``branch`` (index of the fixed point reached, -1 if none within 1e-4), ``final_s``
    (integrated state), ``upsilon_c``, ``upsilon_c_prime`` (N -> infinity) and
    ``upsilon_c_prime_N`` (finite-N boundary).
    """
    opts = MeanfieldSteadyStateOptions.coerce(options, kw)
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    t_relax = _relax_time(model) if opts.t_relax is None else float(opts.t_relax)
    evolve_opts = {name: getattr(opts, name) for name in MeanfieldOptions.names()}
    run = evolve(model, [0.0, t_relax], initial=opts.initial, **evolve_opts)
    s_end = run.extras["variables"][-1]
    fps = fixed_points(model)
    dist = [np.max(np.abs(q["s"] - s_end)) for q in fps]
    branch = int(np.argmin(dist)) if fps and min(dist) < 1e-4 else -1
    s = fps[branch]["s"] if branch >= 0 else s_end
    mean, second = collective_moments(s, model.N)
    extras = {
        "fixed_points": [{k: (np.asarray(v).tolist() if k in ("s",) else v) for k, v in q.items()
                          if k != "eigenvalues"} | {"eigenvalues_re": q["eigenvalues"].real.tolist(),
                                                     "eigenvalues_im": q["eigenvalues"].imag.tolist()}
                         for q in fps],
        "branch": branch,
        "final_s": s_end,
        "t_relax": t_relax,
        "upsilon_c": model.upsilon_c,
        "upsilon_c_prime": model.upsilon_c_prime,
        "upsilon_c_prime_N": upsilon_c_prime(model, finite_n=True),
    }
    return Result([np.inf], mean[None], second[None], model, "meanfield",
                  options={**opts.to_dict(), "t_relax": t_relax}, extras=extras, stats=dict(run.stats))


# ----------------------------------------------------------------------------- phase boundaries
def upsilon_c(model: Model) -> float:
    """Collective critical drive Upsilon_c = sqrt(Gamma^2 + 4 chi^2).

    In the collective mean field (a classical spin of length N/2, J^2 conserved) the fixed
    point <sigma^+> = i Omega / (N (Gamma - 2 i chi)) leaves the Bloch sphere at exactly
    2 Omega / N = Upsilon_c, so this boundary has no finite-N shift.
    """
    return model.upsilon_c


def _omega_s8(z, N, G, gs, chi):
    """Drive Omega at which (r, z) with r^2 = -(z^2 + z)/2 (Eq. S5) is a fixed point (Eq. S8)."""
    r2 = -(z * z + z) / 2
    a = 2 * (N - 1) * G * r2 + (G + gs) * (1 + z)
    b = 4 * chi * r2 * ((N - 1) - 1 / z)
    return np.sqrt((a * a + b * b) / (4 * r2))


def omega_c_prime(model: Model) -> float:
    """Finite-N drive Omega'_c beyond which the superradiant pair of fixed points is gone.

    For the paper's rates (Gamma, chi, gamma_s) the superradiant fixed points satisfy Eq. (S5),
    r^2 = -(z^2 + z)/2, and Eq. (S8), which we use in its correct form
    4 r^2 Omega^2 = [2(N-1) Gamma r^2 + (Gamma + gamma_s)(1+z)]^2 + [4 chi r^2 ((N-1) - 1/z)]^2
    (the extracted S7 lost the factor 4 of the chi term; with it, S9 follows). Along the branch
    Omega(z) rises from 0 at z = -1 to a maximum near z = -1/2, where the stable and unstable
    branches meet: Omega'_c is that maximum, found exactly at finite N (bounded maximisation).
    For N -> infinity it tends to N Upsilon_c / (2 sqrt 2) (Eq. S10).

    With other rates on, Omega'_c is the largest drive with more than one physical fixed point
    (scan over 0.02 <= Upsilon/Upsilon_c <= 2, then bisection); NaN if there is none.
    """
    from scipy.optimize import minimize_scalar

    N, G, gs, chi = model.N, model.gamma, model.gamma_s, model.chi
    others = (model.dephasing, model.pumping, model.collective_dephasing, model.collective_pumping)
    if not any(others):
        if N == 1 or (G == 0 and chi == 0):
            return math.nan
        zs = np.linspace(-1 + 1e-9, -1e-9, 4001)
        w = _omega_s8(zs, N, G, gs, chi)
        i = int(np.argmax(np.diff(w) < 0))  # first local maximum from the z = -1 side
        if i == 0:
            return math.nan
        res = minimize_scalar(lambda z: -_omega_s8(z, N, G, gs, chi), bounds=(zs[i - 1], zs[i + 1]),
                              method="bounded", options={"xatol": 1e-14})
        return float(-res.fun)

    def several(omega):
        return len(fixed_points(model.replace(omega=omega))) > 1

    grid = np.linspace(0.02, 2.0, 100) * N * max(model.upsilon_c, 1e-12) / 2
    flags = [several(w) for w in grid]
    if not any(flags) or flags[-1]:
        return math.nan
    i = len(flags) - 1 - flags[::-1].index(True)
    lo, hi = grid[i], grid[i + 1]
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if several(mid) else (lo, mid)
    return 0.5 * (lo + hi)


def upsilon_c_prime(model: Model, finite_n: bool = True) -> float:
    """Upsilon'_c = 2 Omega'_c / N (finite N, :func:`omega_c_prime`) or Upsilon_c / sqrt(2)."""
    if not finite_n:
        return model.upsilon_c_prime
    return 2.0 * omega_c_prime(model) / model.N


# ----------------------------------------------------------------------------- initial states
def css_collective_steady_state(model: Model) -> CoherentSpinState:
    """CSS along the gamma_s = 0 mean-field steady state (paper Fig. 3b initial state).

    The collective mean field (classical spin, J^2 conserved) has the stable fixed point
    s_x + i s_y = 2 i Omega (Gamma + 2 i chi) / (N Upsilon_c^2), s_z = -sqrt(1 - |s_x + i s_y|^2),
    i.e. |s_perp| = Upsilon / Upsilon_c, in the lower hemisphere. Raises ValueError for
    Upsilon >= Upsilon_c, where no such fixed point exists.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    if model.upsilon_c == 0 or model.ratio >= 1:
        raise ValueError(f"omega: the collective mean field has no steady state for "
                         f"Upsilon/Upsilon_c = {model.ratio:.6g} >= 1")
    w = 2j * model.omega * complex(model.gamma, 2 * model.chi) / (model.N * model.upsilon_c**2)
    return css_along([w.real, w.imag, -math.sqrt(max(0.0, 1 - abs(w) ** 2))])
