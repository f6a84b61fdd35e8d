"""Monte Carlo wave-function trajectories in single total-spin sectors (method ``"mcwf"``).

Entry points: :func:`evolve` (options: :data:`OPTIONS`), :func:`unsupported`, and
:func:`initial_state`, :func:`jackknife_xi2`, :func:`memory_needed`, :func:`estimate_run_time`.
The ensemble driver is :mod:`.ensemble`; one trajectory is :mod:`.sector` with its kernels
(:mod:`.kernels`, :mod:`.rational`, :mod:`.krylov`, :mod:`.window`). :func:`evolve` also runs a
:class:`~piqs_squeeze.protocol.Protocol` (:data:`PROTOCOLS`).
"""
from .ensemble import estimate_run_time, evolve, initial_state, jackknife_xi2, memory_needed, unsupported
from .options import SCHEMES, McwfEvolveOptions

#: kind -> options class
OPTIONS = {"evolve": McwfEvolveOptions}
#: :func:`evolve` takes a Protocol in place of the model (each trajectory carried across the boundaries)
PROTOCOLS = True

__all__ = ["evolve", "unsupported", "initial_state", "jackknife_xi2", "memory_needed", "estimate_run_time",
           "OPTIONS", "PROTOCOLS", "SCHEMES", "McwfEvolveOptions"]
