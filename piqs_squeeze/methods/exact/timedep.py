"""Time-dependent coefficients (ramps) in the exact solver: a fourth-order commutator-free Magnus integrator.

With omega, chi or Hamiltonian terms functions of time, the generator is affine in them,

    L(t) = L_0 + sum_k f_k(t) L_k,

(L_0: every dissipator; L_k: -i[O_k, .] of the term O_k with coefficient f_k). One step of
length h from t is the commutator-free Magnus scheme CF4 of Blanes & Moan (Appl. Numer. Math. 56,
1519 (2006)),

    x(t + h) ~ exp(h (a_1 L(t_1) + a_2 L(t_2))) exp(h (a_2 L(t_1) + a_1 L(t_2))) x(t),
    t_i = t + (1/2 -+ sqrt(3)/6) h,   a_1 = 1/4 - sqrt(3)/6,   a_2 = 1/4 + sqrt(3)/6,

of local error O(h^5). Because a_1 + a_2 = 1/2, each exponent is (h/2) times the generator of one
constant model whose coefficients are g_k = 2 (a f_k(t_1) + a' f_k(t_2)) (the rates unchanged), so
every exponential is an ordinary Krylov propagation
(:func:`~piqs_squeeze.methods.exact.steppers.krylov_propagate`) with the matrix-free kernel.

Error control by step doubling: a step h and two steps h/2 from the same state give x_c and
x_f; for a scheme of order 4 the error of x_f is estimated as

    err = |x_f - x_c| / 15        (Richardson: err(h) = 16 err(h/2) to leading order),

x_f is kept when err - e_r <= (rtol / 2) |x| h / T (T the whole run, so the estimates add up to at
most rtol / 2 of |x|; e_r = 1e3 eps |x| is the rounding level of the difference, which very tight
tolerances would otherwise try to resolve by ever shorter steps), and the next step is
h 0.9 ((err - e_r) / ((rtol / 2) |x| h / T))^(-1/4) (limited to x0.2 ... x4). Each exponential is
computed to (rtol / 2) (its duration / T), so the Krylov errors add up to at most rtol / 2 of |x|
as well. Steps end on the output times and on the knots of every
:class:`~piqs_squeeze.hamiltonian.Ramp` (where piecewise-linear profiles have kinks and the
scheme's order would drop).
"""
from __future__ import annotations

import math

import numpy as np

from piqs_squeeze.hamiltonian import knots
from piqs_squeeze.model import Model
from .kernels import PackedGenerator
from .steppers import krylov_propagate

__all__ = ["cf4_propagate", "knots"]

_S = math.sqrt(3.0) / 6.0
_NODES = (0.5 - _S, 0.5 + _S)
_A1, _A2 = 0.25 - _S, 0.25 + _S
#: largest Krylov dimension of the exponentials (see :func:`cf4_propagate`)
KRYLOV_DIM = 8
#: differences |x_f - x_c| / 15 below this fraction of |x| are rounding, not truncation error
ROUNDING = 1e3 * np.finfo(float).eps


def _constant_model(model: Model, terms: dict, t1: float, t2: float, w1: float, w2: float) -> Model:
    """The model whose Hamiltonian has the coefficients 2 (w1 f(t1) + w2 f(t2)) (the rates of ``model``)."""
    coef = {k: 2.0 * (w1 * float(v(t1)) + w2 * float(v(t2))) if callable(v) else v for k, v in terms.items()}
    return model.replace(omega=0.0, chi=0.0, hamiltonian=coef)


def cf4_propagate(model: Model, layout, x0, times, *, rtol, T, m=16, on_output=None, progress=None):
    """Propagate the packed state under the time-dependent ``model`` (module docstring).

    Parameters
    ----------
    model : Model with time-dependent coefficients
    layout : Layout of the packed vector
    x0 : (n,) packed state at ``times[0]``
    times : increasing output times (``times[0]`` the initial one)
    rtol : float
        Error target relative to |x| over a run of length ``T``.
    T : float
        Length of the whole run (of which these times may be one segment).
    m : int
        Krylov dimension; the exponentials use at most :data:`KRYLOV_DIM` (each covers a short
        step, where a small space needs fewer products; benchmarks/results/notes.md).
    on_output : callable(i, t, x)
    progress : tqdm-like with ``update(dt)`` or None

    Returns
    -------
    dict with ``products``, ``steps`` (accepted), ``rejected`` and ``error_estimate`` (the sum of the
    accepted steps' estimates relative to |x|).
    """
    times = np.asarray(times, float)
    terms = model.hamiltonian_terms()
    # knots inside the run, except those within rounding of an output time (which is a stop anyway)
    near = 1e-12 * max(1.0, abs(float(times[-1])))
    breaks = sorted({float(t) for v in terms.values() for t in knots(v)
                     if times[0] < t < times[-1] and np.abs(times - t).min() > near})
    stops = np.unique(np.concatenate([times[1:], breaks]))
    stats = {"products": 0, "steps": 0, "rejected": 0, "error_estimate": 0.0}
    T = max(float(T), 1e-300)

    def expo(x, mod, dur):
        out = [None]

        def keep(i, t, y):
            out[0] = y

        st = krylov_propagate(PackedGenerator(mod, layout), x, np.array([0.0, dur]), rtol=0.5 * rtol * dur / T,
                              m=min(m, KRYLOV_DIM), on_output=keep)
        stats["products"] += st["products"]
        return out[0]

    def step(x, t, h):
        t1, t2 = t + _NODES[0] * h, t + _NODES[1] * h
        x = expo(x, _constant_model(model, terms, t1, t2, _A2, _A1), 0.5 * h)
        return expo(x, _constant_model(model, terms, t1, t2, _A1, _A2), 0.5 * h)

    x = np.array(x0, dtype=float)
    on_output(0, times[0], x.copy())
    t = float(times[0])
    i = 1
    h = min(0.1, float(times[-1] - t))
    for stop in stops:
        while t < stop:
            hs = min(h, stop - t)
            last = hs >= stop - t
            coarse = step(x, t, hs)
            fine = step(step(x, t, 0.5 * hs), t + 0.5 * hs, 0.5 * hs)
            nx = max(float(np.linalg.norm(x)), 1e-300)
            err = float(np.linalg.norm(fine - coarse)) / 15.0
            # the part of the difference above the rounding level is truncation error
            r = max(err - ROUNDING * nx, 0.0) / (0.5 * rtol * nx * hs / T)
            grow = 4.0 if r == 0 else min(4.0, max(0.2, 0.9 * r ** -0.25))
            if r > 1.0 and stop - t > near:  # (a gap of rounding size between two stops is kept)
                if hs <= near:
                    raise RuntimeError("time-dependent step size underflow: the error estimate cannot be met")
                stats["rejected"] += 1
                h = hs * grow
                continue
            stats["steps"] += 1
            stats["error_estimate"] += err / nx
            x = fine
            if progress is not None:
                progress.update(hs)
            t = stop if last else t + hs
            # a step cut short by a knot or an output does not limit the next one
            h = max(h, hs * grow) if last else hs * grow
        while i < times.size and times[i] <= t:
            on_output(i, times[i], x.copy())
            i += 1
    return stats
