"""piqs-squeeze: spin squeezing in driven-dissipative atomic ensembles.

    >>> import numpy as np, piqs_squeeze as ps
    >>> model = ps.Model.from_upsilon_ratio(20, 0.9, chi=1.0, gamma_s=1.0)
    >>> res = ps.evolve(model, np.linspace(0, 1, 11), method="exact")   # doctest: +SKIP
    >>> res.xi2_db                                                       # doctest: +SKIP
"""
from .runtime import threads as _threads

_threads._passive_openmp()  # before numba starts OpenMP: idle threads sleep, not spin

from ._version import __version__  # noqa: E402
from .hamiltonian import Ramp
from .api import (METHODS, MethodError, UnknownOptionError, available_methods, correlation, emission_spectrum, evolve,
                  g2, liouvillian_spectrum, method_options, steady_state)
from .cavity import Cavity
from .model import Model
from .protocol import Protocol
from .observables import n_eff, squeezing, xi2, xi2_db
from .result import Result
from .states import CoherentSpinState, css, css_along

__all__ = [
    "__version__",
    "Model",
    "Cavity",
    "Ramp",
    "Protocol",
    "Result",
    "evolve",
    "steady_state",
    "liouvillian_spectrum",
    "available_methods",
    "method_options",
    "METHODS",
    "MethodError",
    "UnknownOptionError",
    "CoherentSpinState",
    "css",
    "css_along",
    "squeezing",
    "xi2",
    "xi2_db",
    "n_eff",
    "correlation",
    "g2",
    "emission_spectrum",
]
