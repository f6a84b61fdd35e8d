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

#: kind -> options class
OPTIONS = {"evolve": ExactEvolveOptions, "steady_state": ExactSteadyStateOptions,
           "liouvillian_spectrum": ExactSpectrumOptions}
#: :func:`evolve` takes a Protocol in place of the model (segment by segment, the state carried over)
PROTOCOLS = True

__all__ = ["evolve", "steady_state", "liouvillian_spectrum", "unsupported", "initial_blocks", "final_blocks",
           "memory_needed", "estimate_run_time", "generator_spread", "LongRunWarning", "Spectrum", "OPTIONS",
           "PROTOCOLS", "SCHEMES", "TIME_DEPENDENT_SCHEMES", "ExactEvolveOptions", "ExactSteadyStateOptions",
           "ExactSpectrumOptions"]
