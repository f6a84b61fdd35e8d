"""Exact solver of the permutation-invariant master equation (method ``"exact"``).

Entry points: :func:`evolve`, :func:`steady_state`, :func:`liouvillian_spectrum` (options:
:data:`OPTIONS`), :func:`unsupported`, and the helpers :func:`initial_blocks`,
:func:`final_blocks`, :func:`memory_needed`, :func:`estimate_run_time`,
:func:`generator_spread`. :func:`evolve` also runs a :class:`~piqs_squeeze.protocol.Protocol`
(:data:`PROTOCOLS`). The implementation is in :mod:`.solver`, :mod:`.generator`,
:mod:`.kernels`, :mod:`.steppers`, :mod:`.timedep`, :mod:`.shift_invert` and :mod:`.steady`; a Model
with ``cavity=`` evolves in :mod:`.cavity` (blocks rho_j (x) Fock (x) Fock).
"""
from .options import (SCHEMES, TIME_DEPENDENT_SCHEMES, ExactEvolveOptions, ExactSpectrumOptions,
                      ExactSteadyStateOptions)
from .solver import (LongRunWarning, estimate_run_time, evolve, final_blocks, generator_spread, initial_blocks,
                     liouvillian_spectrum, memory_needed, steady_state, unsupported)
from .steady import Spectrum
from .options import ExactCorrelationOptions, ExactEmissionOptions

#: kind -> options class
OPTIONS = {"evolve": ExactEvolveOptions, "steady_state": ExactSteadyStateOptions,
           "liouvillian_spectrum": ExactSpectrumOptions, "correlation": ExactCorrelationOptions,
           "g2": ExactCorrelationOptions, "emission_spectrum": ExactEmissionOptions}
#: :func:`evolve` takes a Protocol in place of the model (segment by segment, the state carried over)
PROTOCOLS = True

__all__ = ["evolve", "steady_state", "liouvillian_spectrum", "unsupported", "initial_blocks", "final_blocks",
           "memory_needed", "estimate_run_time", "generator_spread", "LongRunWarning", "Spectrum", "OPTIONS",
           "PROTOCOLS", "SCHEMES", "TIME_DEPENDENT_SCHEMES", "ExactEvolveOptions", "ExactSteadyStateOptions",
           "ExactSpectrumOptions", "correlation", "g2", "emission_spectrum", "ExactCorrelationOptions",
           "ExactEmissionOptions"]


# two-time correlations (quantum regression on the Dicke blocks): .correlations
def correlation(model, taus, a="J+", b="J-", state="steady", options=None, **kw):
    """<a(tau) b(0)>: :func:`piqs_squeeze.methods.exact.correlations.correlation`."""
    from . import correlations as _c
    from .solver import _constant

    opts = ExactCorrelationOptions.coerce(options, kw)
    _constant(model, "a correlation function")
    return _c.correlation(model, taus, a, b, state, rtol=opts.rtol, krylov_dim=opts.krylov_dim)


def g2(model, taus, state="steady", options=None, **kw):
    """g2(tau): :func:`piqs_squeeze.methods.exact.correlations.g2`."""
    from . import correlations as _c
    from .solver import _constant

    opts = ExactCorrelationOptions.coerce(options, kw)
    _constant(model, "g2")
    return _c.g2(model, taus, state, rtol=opts.rtol, krylov_dim=opts.krylov_dim)


def emission_spectrum(model, omegas, a="J+", b="J-", options=None, **kw):
    """S(omega): :func:`piqs_squeeze.methods.exact.correlations.emission_spectrum`."""
    from . import correlations as _c
    from .solver import _constant

    opts = ExactEmissionOptions.coerce(options, kw)
    _constant(model, "an emission spectrum")
    return _c.emission_spectrum(model, omegas, a, b, tol=opts.tol, restart=opts.restart)
