"""Options of the exact solver: evolution, steady state and Liouvillian spectrum.

Tolerances: ``rtol`` (evolve) is the error target of the time stepping, relative to the norm of
the state over the whole run; ``tol`` (steady state, spectrum) is the relative residual of a
linear solve (GMRES), a different quantity.
"""
from __future__ import annotations

from dataclasses import dataclass

from piqs_squeeze.options import MethodOptions, anything, choice, flag, integer, memory, option, real

__all__ = ["SCHEMES", "TIME_DEPENDENT_SCHEMES", "ExactEvolveOptions", "ExactSteadyStateOptions", "ExactSpectrumOptions",
           "ExactCorrelationOptions", "ExactEmissionOptions"]

#: time-stepping schemes of :func:`piqs_squeeze.methods.exact.solver.evolve`
SCHEMES = ("krylov", "sai", "DOP853", "RK45", "RK23", "BDF", "Radau", "LSODA")
#: schemes for time-dependent coefficients (:mod:`piqs_squeeze.methods.exact.timedep`)
TIME_DEPENDENT_SCHEMES = ("cf4",)


@dataclass(frozen=True)
class ExactEvolveOptions(MethodOptions):
    """Options of :func:`piqs_squeeze.methods.exact.solver.evolve`."""

    method = "exact"
    kind = "evolve"
    renamed = {"stepper": "scheme"}

    rtol: float = option(1e-8, "error target of the time stepping, relative to the norm of the state over the run",
                         real(0, 1))
    scheme: str = option("krylov", "time stepping: 'krylov' (Arnoldi exp(tL)), 'sai' (shift-and-invert Krylov) or "
                         "a scipy solve_ivp method (atol = 1e-3 rtol)", choice(*SCHEMES))
    krylov_dim: int = option(16, "Krylov space dimension per step (with 'sai': at least 20)", integer(2, 200))
    return_state: bool = option(False, "keep the final blocks in extras['final_state']", flag())
    progress: bool | None = option(None, "progress bar: None (on a terminal after 2 s), True or False", flag(True))
    max_memory: float | None = option(None, "bytes allowed (None: what the machine has); a larger need raises "
                                      "MemoryError", memory)
    checkpoint: str | None = option(None, "path: save the partial Result every minute and on Ctrl-C, the whole one "
                                    "at the end", anything)
    restrict_blocks: bool = option(True, "collective models: evolve only the j blocks the initial state occupies",
                                   flag())
    sai_shift: float | None = option(None, "shift g of the 'sai' scheme (None: 0.04 / N)",
                                     real(0, none=True, message="> 0"))
    time_dependent_scheme: str = option("cf4", "time-dependent coefficients (Ramps, callables): 'cf4', "
                                        "fourth-order commutator-free Magnus with step doubling and Krylov "
                                        "exponentials (with scheme='krylov')", choice(*TIME_DEPENDENT_SCHEMES))
    fock_tol: float = option(1e-8, "cavity models: largest population allowed in the top Fock level (nmax)",
                             real(0, 1))
    cavity_sectors: bool = option(True, "cavity models that conserve Jz + a+a (no Omega, no cavity drive): evolve "
                                  "only the coherence orders |k| <= 2 the moments need", flag())
    fock_strict: bool = option(False, "cavity models: a top-level population above fock_tol raises instead of "
                               "warning (with an explicit cavity.nmax)", flag())


@dataclass(frozen=True)
class ExactSteadyStateOptions(MethodOptions):
    """Options of :func:`piqs_squeeze.methods.exact.solver.steady_state`."""

    method = "exact"
    kind = "steady_state"

    solver: str = option("auto", "with local rates: 'auto' or 'gmres' (block-preconditioned GMRES), 'lu' (sparse "
                         "LU of all blocks); collective models always use LU in j = N/2",
                         choice("auto", "gmres", "lu"))
    tol: float = option(1e-12, "GMRES: relative residual ||u - A x|| / ||u|| of the linear solve",
                        real(0, 1e-3, high_open=False))
    check_unique: bool = option(True, "GMRES: estimate lambda_2 and refuse a steady state that is not unique", flag())
    restart: int = option(60, "GMRES restart length (memory restart + 1 vectors)", integer(2, 500))
    return_state: bool = option(False, "keep the blocks in extras['final_state']", flag())
    max_memory: float | None = option(None, "bytes allowed (None: what the machine has)", memory)


def _blocks(name, v):
    if isinstance(v, str) and v in ("auto", "all", "top"):
        return v
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return v
    raise ValueError(f"{name} must be 'auto', 'all', 'top' or a block index >= 0, got {v!r}")


@dataclass(frozen=True)
class ExactSpectrumOptions(MethodOptions):
    """Options of :func:`piqs_squeeze.methods.exact.steady.liouvillian_spectrum`."""

    method = "exact"
    kind = "liouvillian_spectrum"

    sigma: float | None = option(None, "None: the k rightmost eigenvalues (largest real part); a real shift: "
                                 "the k nearest it", real(none=True))
    blocks: str | int = option("auto", "'auto' (collective models: j = N/2, the sector of a CSS; else all), 'all' "
                               "(whole symmetric sector; collective: per-j spectra merged), 'top' or a block index "
                               "(collective models)", _blocks)
    tol: float = option(1e-12, "relative residual of every GMRES solve (and ~ARPACK's tolerance)",
                        real(0, 1e-3, high_open=False))
    eigensolver: str = option("arnoldi", "'arnoldi' (shift-invert ARPACK) or 'dense' (numpy eigvals; small N only)",
                              choice("arnoldi", "dense"))
    restart: int = option(60, "GMRES restart length", integer(2, 500))
    max_memory: float | None = option(None, "bytes allowed (None: what the machine has)", memory)


@dataclass(frozen=True)
class ExactCorrelationOptions(MethodOptions):
    """Options of :func:`piqs_squeeze.methods.exact.correlations.correlation` and ``g2``."""

    method = "exact"
    kind = "correlation"

    rtol: float = option(1e-10, "error target of the Krylov stepper, relative to the norm of the propagated operator",
                         real(0, 1))
    krylov_dim: int = option(30, "Krylov space dimension per step", integer(2, 200))


@dataclass(frozen=True)
class ExactEmissionOptions(MethodOptions):
    """Options of :func:`piqs_squeeze.methods.exact.correlations.emission_spectrum`."""

    method = "exact"
    kind = "emission_spectrum"

    tol: float = option(1e-12, "relative residual of the complex GMRES solve at every frequency",
                        real(0, 1e-3, high_open=False))
    restart: int = option(60, "GMRES restart length", integer(2, 500))
