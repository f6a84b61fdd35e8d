"""Equations of motion of one- and two-particle Pauli moments, derived for every Model rate.

For a permutation-symmetric state let s_p = <sigma_p^i> and, for distinct particles,
C_pq = <sigma_p^i sigma_q^j> and T_pqr = <sigma_p^i sigma_q^j sigma_r^k> (p, q, r in x, y, z;
symmetric in their labels).  The Heisenberg equations

    d<O>/dt = < i[H, O] + sum_L rate_L (L^+ O L - {L^+ L, O}/2) >,   O = sigma_p^a, sigma_p^a sigma_q^b

are computed with the exact Pauli algebra of :mod:`.pauli` (same-particle products reduced,
collective sums split into observed particles plus N - |S| others), which gives, for each rate,

    d y_i / dt = sum_r rate_r sum_k (A_r[i, k] + N B_r[i, k]) m_k,
    y = (s_x, s_y, s_z, C_xx, C_xy, C_xz, C_yy, C_yz, C_zz),
    m = (1, s, C (6 entries), T (10 entries)).

These equations are exact; the cumulant and mean-field methods only add a closure for T (and C).
Rates and operators (qutip.piqs conventions): omega -> H = omega Jx, chi -> H = chi J+ J-,
gamma -> D[J-], gamma_s -> sum_i D[sigma_i^-], dephasing -> sum_i D[sigma_i^z / 2],
pumping -> sum_i D[sigma_i^+], collective_dephasing -> D[Jz], collective_pumping -> D[J+].
"""
from __future__ import annotations

from functools import lru_cache
from itertools import combinations_with_replacement

import numpy as np

from .pauli import Op, coll_left, coll_right, comm, comm_coll, site

__all__ = ["RATES", "STATE_LABELS", "MOMENT_LABELS", "adjoint_generator", "coefficient_tensors", "describe"]

RATES = ("omega", "chi", "gamma", "gamma_s", "dephasing", "pumping", "collective_dephasing",
         "collective_pumping")
_AX = "xyz"
_PAIRS = ["".join(p) for p in combinations_with_replacement(_AX, 2)]
_TRIPLES = ["".join(p) for p in combinations_with_replacement(_AX, 3)]
STATE_LABELS = tuple([f"s_{a}" for a in _AX] + [f"C_{p}" for p in _PAIRS])
MOMENT_LABELS = tuple(["1"] + [f"s_{a}" for a in _AX] + [f"C_{p}" for p in _PAIRS]
                      + [f"T_{t}" for t in _TRIPLES])
_MOMENT_INDEX = {key: i for i, key in enumerate([""] + list(_AX) + _PAIRS + _TRIPLES)}


def _local_dissipator(O, name, S):
    """sum_{s in S} D^+[l_s](O) = sum_s (l_s^+ [O, l_s] + [l_s^+, O] l_s) / 2; the particles
    outside S drop out because D^+[l](1) = 0."""
    dag = {"-": "+", "+": "-", "z/2": "z/2"}[name]
    out = Op()
    for s in S:
        l, ld = site(name, s), site(dag, s)
        out = out + (ld @ comm(O, l) + comm(ld, O) @ l).scale(0.5)
    return out


def _collective_dissipator(O, name, S):
    """D^+[J_l](O) = (J_l^+ [O, J_l] + [J_l^+, O] J_l) / 2 with J_l = sum_i l_i."""
    dag = {"-": "+", "+": "-", "z/2": "z/2"}[name]
    return (coll_left(dag, comm_coll(O, name, S), S)
            + coll_right(comm_coll(O, dag, S).scale(-1.0), name, S)).scale(0.5)


def adjoint_generator(O, S):
    """{rate: L_rate^+(O)} per unit rate, for O supported on the observed slots S."""
    return {
        "omega": comm_coll(O, "x/2", S).scale(-1j),  # i [Jx, O]
        # i [J+ J-, O] = i (J+ [J-, O] + [J+, O] J-)
        "chi": (coll_left("+", comm_coll(O, "-", S).scale(-1.0), S)
                + coll_right(comm_coll(O, "+", S).scale(-1.0), "-", S)).scale(1j),
        "gamma": _collective_dissipator(O, "-", S),
        "gamma_s": _local_dissipator(O, "-", S),
        "dephasing": _local_dissipator(O, "z/2", S),
        "pumping": _local_dissipator(O, "+", S),
        "collective_dephasing": _collective_dissipator(O, "z/2", S),
        "collective_pumping": _collective_dissipator(O, "+", S),
    }


def _targets():
    """(operator, support) for each state variable, in STATE_LABELS order."""
    out = [(site(a, 0), (0,)) for a in _AX]
    out += [(site(p[0], 0) @ site(p[1], 1), (0, 1)) for p in _PAIRS]
    return out


def _expectation_row(op):
    """Coefficients (A, B) of <op> on the moment vector m (exchange symmetry of the state)."""
    row = np.zeros((len(MOMENT_LABELS), 3), dtype=complex)
    for key, poly in op.items():
        labels = "".join(sorted(_AX[p - 1] for p in key if p))
        row[_MOMENT_INDEX[labels]] += poly
    if np.max(np.abs(row.imag), initial=0) > 1e-13 or np.max(np.abs(row[:, 2]), initial=0) > 1e-13:
        raise AssertionError("derived coefficients must be real and at most linear in N")
    return row[:, :2].real


@lru_cache(maxsize=1)
def coefficient_tensors():
    """Coefficient tensors ``K[r, i, k, d]``: d y_i/dt = sum_r rate_r sum_k (K[..,0] + N K[..,1]) m_k.

    Shape (8, 9, 20, 2), rates in :data:`RATES` order, rows :data:`STATE_LABELS`, columns
    :data:`MOMENT_LABELS`.  Returned read-only; computed once (a few ms).
    """
    K = np.zeros((len(RATES), len(STATE_LABELS), len(MOMENT_LABELS), 2))
    for i, (O, S) in enumerate(_targets()):
        for r, name in enumerate(RATES):
            K[r, i] = _expectation_row(adjoint_generator(O, S)[name].clean())
    K.setflags(write=False)
    return K


def describe() -> str:
    """The derived (un-closed) equations, one line per state variable and rate."""
    K = coefficient_tensors()
    lines = []
    for i, y in enumerate(STATE_LABELS):
        lines.append(f"d{y}/dt =")
        for r, name in enumerate(RATES):
            terms = []
            for k, m in enumerate(MOMENT_LABELS):
                a, b = K[r, i, k]
                if a == 0 and b == 0:
                    continue
                coef = f"{a:+g}" if b == 0 else (f"{b:+g}*N" if a == 0 else f"+({a:g}{b:+g}*N)")
                terms.append(f"{coef}*{m}" if m != "1" else coef)
            if terms:
                lines.append(f"    + {name} * [{' '.join(terms)}]")
    return "\n".join(lines)
