"""Independent reference for cavity models: the master equation on 2^N (x) Fock with qutip.

The spin part (Hamiltonian and every collapse operator) is that of :mod:`.bruteforce`, built from
site operators without the Dicke basis; the cavity is ``qutip.destroy(nmax + 1)`` tensored on:

    H = H_spin (x) 1 + detuning 1 (x) a^+ a + g (J- (x) a^+ + J+ (x) a) + drive 1 (x) (a + a^+),
    collapse operators: those of the spin part (x) 1 and sqrt(kappa) 1 (x) a,

integrated by ``qutip.mesolve`` from the product state CSS (x) |0>. Practical up to N ~ 4 with
nmax ~ 10.
"""
from __future__ import annotations

import numpy as np
import qutip

from piqs_squeeze.model import Model, check_times
from .bruteforce import collective_operators, hamiltonian_and_collapse, product_state

__all__ = ["operators", "evolve"]


def operators(model: Model, nmax: int):
    """(H, collapse operators, J list (Jx, Jy, Jz) and a) on 2^N (x) Fock(nmax + 1)."""
    cav = model.cavity
    spin = model.replace(cavity=None)
    H_s, c_s = hamiltonian_and_collapse(spin)
    jx, jy, jz, jm = collective_operators(model.N)
    nf = nmax + 1
    a = qutip.destroy(nf)
    Is = qutip.qeye(jm.dims[0])
    If = qutip.qeye(nf)
    A = qutip.tensor(Is, a)
    H = (qutip.tensor(H_s, If) + cav.detuning * A.dag() * A
         + cav.g * (qutip.tensor(jm, a.dag()) + qutip.tensor(jm.dag(), a)) + cav.drive * (A + A.dag()))
    c = [qutip.tensor(op, If) for op in c_s]
    if cav.kappa > 0:
        c.append(np.sqrt(cav.kappa) * A)
    J = [qutip.tensor(op, If) for op in (jx, jy, jz)]
    return H, c, J, A


def evolve(model: Model, times, nmax: int, initial=None, *, rtol=1e-12, atol=1e-12) -> dict:
    """Brute-force evolution of a cavity model: dict of times, mean (T, 3), second (T, 3, 3),
    photon_number (T,), field (T,) complex."""
    if model.cavity is None:
        raise ValueError("model has no cavity")
    if model.N > 6:
        raise ValueError(f"the brute-force cavity reference is for N <= 6, got N = {model.N}")
    times = check_times(times)
    H, c, J, A = operators(model, nmax)
    psi0 = qutip.tensor(product_state(model.N, initial), qutip.basis(nmax + 1, 0))
    opts = {"rtol": rtol, "atol": atol, "nsteps": 10**7, "method": "adams"}
    states = qutip.mesolve(H, qutip.ket2dm(psi0), times, c, options=opts).states
    mean = np.array([[qutip.expect(op, s) for op in J] for s in states]).real
    second = np.empty((len(states), 3, 3))
    for i in range(3):
        for k in range(i, 3):
            op = 0.5 * (J[i] * J[k] + J[k] * J[i])
            second[:, i, k] = second[:, k, i] = np.real([qutip.expect(op, s) for s in states])
    n_op = A.dag() * A
    return {"times": times, "mean": mean, "second": second,
            "photon_number": np.real([qutip.expect(n_op, s) for s in states]),
            "field": np.array([qutip.expect(A, s) for s in states], dtype=complex)}
