"""The cases the validation checks and the tests share: rate sets, initial states, the model
builder, and the exact reference evolution with its tolerance.

Imports nothing of the validation package (the checks in ``checks/`` and the tests import it).
"""
from __future__ import annotations

import piqs_squeeze as ps

__all__ = ["ALL_RATES", "INITIALS", "EXACT_OPTS", "GENERAL_H", "make_model", "general_cases", "reference_run",
           "reference_evolve"]

#: Parameter sets with every rate on (drive below and above Upsilon_c, both signs of chi).
ALL_RATES = (
    dict(ratio=0.9, chi=1.0, gamma_s=0.5, dephasing=0.3, pumping=0.2, collective_dephasing=0.15,
         collective_pumping=0.1),
    dict(ratio=1.4, chi=-0.7, gamma_s=2.0, dephasing=0.1, pumping=0.4, collective_dephasing=0.3,
         collective_pumping=0.05),
)
#: The paper's default CSS along -x, and a tilted one that populates every moment.
INITIALS = (ps.css(), ps.css(1.1, 0.4))
#: Tight integration tolerance of the exact solver where it is the reference.
EXACT_OPTS = {"rtol": 1e-10}


def make_model(N: int, p: dict) -> ps.Model:
    """The model of ``N`` atoms for a parameter set ``p`` of :data:`ALL_RATES` (``ratio`` is
    Upsilon / Upsilon_c)."""
    p = dict(p)
    return ps.Model.from_upsilon_ratio(N, p.pop("ratio"), chi=p.pop("chi"), **p)


#: A general quadratic Hamiltonian (twisting, a transverse field and cross terms).
GENERAL_H = {"Jz Jz": 1.0, "Jy": 0.5, "Jx Jz": 0.3, "Jx Jy": -0.6}


def general_cases(N: int, quick: bool) -> list:
    """(label, Model or Protocol) with general H (dict and Qobj), a protocol and ramps, all rates on."""
    import qutip

    base = make_model(N, ALL_RATES[0])
    jx, jy, jz = (qutip.jmat(N / 2, a) for a in "xyz")
    cases = [("dict", base.replace(hamiltonian=GENERAL_H)),
             ("qobj", base.replace(hamiltonian=jz * jz + 0.5 * jy + 0.15 * (jx * jz + jz * jx)))]
    m2 = make_model(N, ALL_RATES[1]).replace(hamiltonian={"Jx Jx": 0.7, "Jz": -0.4})
    ramp = base.replace(omega=ps.Ramp.linear(0.2, 0.9, 0.5 * base.omega, 1.5 * base.omega),
                        hamiltonian={"Jz Jz": ps.Ramp([0.0, 0.6, 1.5], [0.0, 1.0, -0.5], "pchip")})
    cases.append(("protocol", ps.Protocol([(0.4, base.replace(hamiltonian=GENERAL_H)), (0.9, m2), (1.5, ramp)])))
    if not quick:
        cases.append(("ramp", ramp))
    return cases


def reference_run(ctx, run):
    """``run`` with the context's testing perturbation (``ctx.reference_model``) applied to the
    model, or to every model of a Protocol: the input of a reference computation."""
    if isinstance(run, ps.Protocol):
        return ps.Protocol([(t, ctx.reference_model(m)) for t, m in run])
    return ctx.reference_model(run)


def reference_evolve(ctx, model, times, initial=None):
    """The exact solver's evolution of ``ctx.reference_model(model)`` (each model of a Protocol)
    at :data:`EXACT_OPTS` (the reference of the MCWF and cumulant checks)."""
    return ps.evolve(reference_run(ctx, model), times, method="exact", initial=initial, **EXACT_OPTS)
