"""Independent reference: the master equation in the full 2^N space, built without the Dicke basis.

Site operators come from qutip-qip's ``expand_operator``, the initial product state from a
circuit of single-qubit rotations (RY(theta) then RZ(phi) on every qubit, from all atoms up),
and the dynamics from ``qutip.mesolve``. Nothing here imports piqs_squeeze's Dicke bookkeeping,
so agreement with the exact solver tests that bookkeeping. Practical up to N ~ 8.

The Hamiltonian is built from the site operators term by term: every key of
``model.hamiltonian_terms()`` (chi J+J-, omega Jx and the extra terms) becomes J_a = sum_i
sigma_i^a / 2, (J_a J_b + J_b J_a) / 2 or J+J- from the sums of site operators here (not from
:func:`piqs_squeeze.hamiltonian.dicke_bands`). Coefficients that depend on time make H a
``qutip.QobjEvo`` ([operator, coefficient] pairs, integrated by mesolve's adaptive Adams method);
a :class:`~piqs_squeeze.protocol.Protocol` runs segment by segment with mesolve, each segment
starting from the last state of the one before; mesolve also restarts at the knots of every Ramp.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import qutip
from qutip_qip.circuit import QubitCircuit
from qutip_qip.operations import expand_operator

from piqs_squeeze.hamiltonian import Ramp
from piqs_squeeze.model import Model, check_times
from piqs_squeeze.result import Result
from piqs_squeeze.states import CoherentSpinState, css

__all__ = ["site_operators", "collective_operators", "term_operator", "hamiltonian", "hamiltonian_and_collapse",
           "product_state", "evolve", "steady_state", "moments"]


@lru_cache(maxsize=16)
def site_operators(N: int):
    """Per-site (sigma^-, sigma^+, sigma^z) lists on N qubits (qutip: basis(2, 0) is up)."""
    dims = [2] * N
    sm = [expand_operator(qutip.sigmam(), dims=dims, targets=[i]) for i in range(N)]
    sp = [expand_operator(qutip.sigmap(), dims=dims, targets=[i]) for i in range(N)]
    sz = [expand_operator(qutip.sigmaz(), dims=dims, targets=[i]) for i in range(N)]
    return sm, sp, sz


@lru_cache(maxsize=16)
def collective_operators(N: int):
    """(Jx, Jy, Jz, J-) as sums of site operators, J_a = sum_i sigma_i^a / 2."""
    sm, sp, sz = site_operators(N)
    jm = sum(sm[1:], sm[0])
    jp = jm.dag()
    return 0.5 * (jp + jm), -0.5j * (jp - jm), 0.5 * sum(sz[1:], sz[0]), jm


def term_operator(N: int, key: str):
    """The 2^N operator of one Hamiltonian term key ("Jx", "Jx Jz" = (JxJz + JzJx)/2, "J+ J-")."""
    jx, jy, jz, jm = collective_operators(N)
    if key == "J+ J-":
        return jm.dag() * jm
    J = {"Jx": jx, "Jy": jy, "Jz": jz}
    a, _, b = key.partition(" ")
    return J[a] if not b else 0.5 * (J[a] * J[b] + J[b] * J[a])


def _coefficient(f):
    """A coefficient f(t) as a plain function of t (qutip's pythonic form)."""
    def coefficient(t):
        return float(f(t))

    return coefficient


def _coefficients(model: Model) -> list:
    """omega, chi and the coefficients of the extra terms, as given to the Model."""
    return [model.omega, model.chi, *model.hamiltonian.values()]


def hamiltonian(model: Model):
    """H = chi J+J- + omega Jx + the extra terms, from site operators: a Qobj, or a QobjEvo when a
    coefficient depends on time."""
    constant, timed = 0, []
    for key, value in model.hamiltonian_terms().items():
        op = term_operator(model.N, key)
        if callable(value):
            timed.append([op, _coefficient(value)])
        else:
            constant = constant + value * op
    if isinstance(constant, int):
        constant = 0 * term_operator(model.N, "Jz")
    return qutip.QobjEvo([constant] + timed) if timed else constant


def hamiltonian_and_collapse(model: Model):
    """H (:func:`hamiltonian`) and the collapse operators of every rate of the model."""
    N = model.N
    sm, sp, sz = site_operators(N)
    jx, jy, jz, jm = collective_operators(N)
    jp = jm.dag()
    H = hamiltonian(model)
    c = []
    for rate, ops in (
        (model.gamma, [jm]),
        (model.gamma_s, sm),
        (model.dephasing, [0.5 * s for s in sz]),
        (model.pumping, sp),
        (model.collective_dephasing, [jz]),
        (model.collective_pumping, [jp]),
    ):
        if rate > 0:
            c += [np.sqrt(rate) * op for op in ops]
    return H, c


def product_state(N: int, initial: CoherentSpinState | None = None):
    """The CSS as a product state made by a rotation circuit: RY(theta), RZ(phi) on each qubit."""
    initial = initial or css()
    qc = QubitCircuit(N)
    for i in range(N):
        qc.add_gate("RY", targets=[i], arg_value=initial.theta)
        qc.add_gate("RZ", targets=[i], arg_value=initial.phi)
    up = qutip.tensor([qutip.basis(2, 0)] * N)
    return qc.run(up)


def moments(N: int, states):
    """(mean, second) of the collective spin for a list of density matrices."""
    jx, jy, jz, _ = collective_operators(N)
    J = (jx, jy, jz)
    mean = np.array([[qutip.expect(a, s) for a in J] for s in states]).real
    second = np.empty((len(states), 3, 3))
    for a in range(3):
        for b in range(a, 3):
            op = 0.5 * (J[a] * J[b] + J[b] * J[a])
            second[:, a, b] = second[:, b, a] = np.real([qutip.expect(op, s) for s in states])
    return mean, second


def evolve(model, times, initial: CoherentSpinState | None = None, *, rtol=1e-12, atol=1e-12):
    """Brute-force evolution in 2^N dimensions of a Model or a Protocol; returns a Result with
    method 'bruteforce' (``protocol=`` set for a Protocol, ``model`` its first model)."""
    from piqs_squeeze.protocol import Protocol

    times = check_times(times)
    protocol = model if isinstance(model, Protocol) else None
    first = protocol.models[0] if protocol else model
    if first.N > 10:
        raise ValueError(f"the brute-force reference is for N <= 10 (2^N space), got N = {first.N}")
    opts = {"rtol": rtol, "atol": atol, "nsteps": 10**7, "method": "adams"}
    rho = qutip.ket2dm(product_state(first.N, initial))
    pieces = [(model, times[0], times[-1], times)] if protocol is None else \
        [(seg.model, seg.start, seg.end, seg.times) for seg in protocol.segments(times)]
    states = []
    for mod, start, end, out_times in pieces:
        if out_times.size and out_times[0] == start:  # the initial time
            states.append(rho)
        # from the piece's start to its end (the state there starts the next piece), restarting
        # mesolve at the knots of its Ramps (a kink inside one adaptive run costs ~1e-9)
        knots = [t for v in _coefficients(mod) if isinstance(v, Ramp) for t in v.times if start < t < end]
        H, c = hamiltonian_and_collapse(mod)
        near = 1e-12 * max(1.0, abs(end))
        fixed = np.concatenate([[start, end], out_times])  # a knot within rounding of these is one of them
        bounds = [start]
        for b in sorted(k for k in knots if np.abs(fixed - k).min() > near) + [end]:
            if b - bounds[-1] > near or b == end:
                bounds.append(b)
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            inside = out_times[(out_times > lo) & (out_times < hi)]
            run = qutip.mesolve(H, rho, np.concatenate([[lo], inside, [hi]]), c, options=opts).states
            states += list(run[1:-1])
            if hi in out_times:
                states.append(run[-1])
            rho = run[-1]
    mean, second = moments(first.N, states)
    return Result(times, mean, second, first, "bruteforce", options={"rtol": rtol, "atol": atol},
                  extras={"final_state": states[-1].full()}, protocol=protocol)


def steady_state(model: Model):
    """Steady state of the 2^N Liouvillian (qutip.steadystate), as a one-time Result."""
    if model.time_dependent:
        raise ValueError("a time-dependent model has no steady state")
    H, c = hamiltonian_and_collapse(model)
    rho = qutip.steadystate(H, c)
    mean, second = moments(model.N, [rho])
    return Result([np.inf], mean, second, model, "bruteforce")
