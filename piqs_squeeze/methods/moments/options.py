"""Options of the moment methods (cumulant and mean field).

Tolerances: ``rtol`` and ``atol`` are the local (per-step) error tolerances of the adaptive
integrator, per model, as in ``scipy.integrate.solve_ivp``: the same meaning for both methods.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

from piqs_squeeze.options import MethodOptions, anything, choice, flag, integer, option, real
from .integrator import SCHEMES

__all__ = ["MomentOptions", "CumulantOptions", "MeanfieldOptions", "MeanfieldSteadyStateOptions", "ORDERS",
           "check_order", "CumulantCorrelationOptions"]

ORDERS = (2, 3)


def check_order(order):
    """The cumulant order as an int; a clear error for anything but 2 or 3."""
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or int(order) not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS} (the supported cumulant orders), got {order!r}")
    return int(order)


@dataclass(frozen=True)
class MomentOptions(MethodOptions):
    """Options shared by the moment methods (the integration of their equations)."""

    renamed = {"integrator": "scheme"}

    rtol: float = option(1e-8, "relative local error tolerance of each adaptive step (per model)", real(0))
    atol: float = option(1e-10, "absolute local error tolerance of each adaptive step", real(0))
    scheme: str = option("dopri5", "time stepping: 'dopri5' (compiled batched Dormand-Prince 5(4)) or a scipy "
                         "solve_ivp method, one model at a time", choice(*SCHEMES))
    max_steps: int = option(10**8, "most steps per model; a run that needs more is refused before it starts",
                            integer(1))
    progress: bool | None = option(None, "tqdm bar; None: only on a terminal", flag(True))


@dataclass(frozen=True)
class CumulantOptions(MomentOptions):
    """Options of :func:`piqs_squeeze.methods.moments.cumulant.evolve_many`."""

    method = "cumulant"
    kind = "evolve"

    order: int = option(2, "cumulant order: 2 (the paper's closure) or 3 (three-particle moments evolved)",
                        lambda name, v: check_order(v))
    on_failure: str = option("raise", "a failed or unphysical integration: 'raise' (RuntimeError) or 'nan' (NaN "
                             "from the time it fails, extras['failure'])", choice("raise", "nan"))


@dataclass(frozen=True)
class MeanfieldOptions(MomentOptions):
    """Options of :func:`piqs_squeeze.methods.moments.meanfield.evolve_many`."""

    method = "meanfield"
    kind = "evolve"

    rtol: float = option(1e-9, "relative local error tolerance of each adaptive step (per model)", real(0))
    atol: float = option(1e-11, "absolute local error tolerance of each adaptive step", real(0))


def _t_relax(name, v):
    return real(0, none=True, message="a positive finite time")(name, v)


@dataclass(frozen=True)
class MeanfieldSteadyStateOptions(MeanfieldOptions):
    """Options of :func:`piqs_squeeze.methods.moments.meanfield.steady_state`."""

    kind = "steady_state"

    t_relax: float | None = option(None, "integration time to relax (None: 40 / smallest non-zero rate)", _t_relax)
    initial: object = option(None, "state relaxed from (None: CSS along -x; as the initial of evolve)", anything)


@dataclass(frozen=True)
class CumulantCorrelationOptions(MethodOptions):
    """Options of :func:`piqs_squeeze.methods.moments.correlations.correlation` and ``emission_spectrum``."""

    method = "cumulant"
    kind = "correlation"

    rtol: float = option(1e-10, "relative tolerance of the DOP853 integration (steady state and regression)",
                         real(0))
    t_steady: float = option(200.0, "the steady state: cumulant evolution from the CSS along -x to this time",
                             real(0))
    steady_tol: float = option(1e-9, "largest |dy/dt| accepted at t_steady (else: no steady state, ValueError)",
                               real(0))
