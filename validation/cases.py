"""The cases the validation checks and the tests share: rate sets, initial states, the model
builder, and the exact reference evolution with its tolerance.

Imports nothing of the validation package (the checks in ``checks/`` and the tests import it).
"""
from __future__ import annotations

import piqs_squeeze as ps

__all__ = ["ALL_RATES", "INITIALS", "EXACT_OPTS", "make_model", "reference_evolve"]

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


def reference_evolve(ctx, model, times, initial=None):
    """The exact solver's evolution of ``ctx.reference_model(model)`` at :data:`EXACT_OPTS`
    (the reference of the MCWF and cumulant checks)."""
    return ps.evolve(ctx.reference_model(model), times, method="exact", initial=initial, **EXACT_OPTS)
