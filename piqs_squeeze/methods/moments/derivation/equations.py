"""Equations of motion of one-, two- and three-particle Pauli moments, derived for every Model rate.

For a permutation-symmetric state let s_p = <sigma_p^i> and, for distinct particles,
C_pq = <sigma_p^i sigma_q^j>, T_pqr = <sigma_p^i sigma_q^j sigma_r^k> and
Q_pqrs = <sigma_p^i sigma_q^j sigma_r^k sigma_s^l> (p, q, r, s in x, y, z; symmetric in their
labels).  The Heisenberg equations

    d<O>/dt = < i[H, O] + sum_L rate_L (L^+ O L - {L^+ L, O}/2) >,
    O = sigma_p^a, sigma_p^a sigma_q^b (order 2) and also sigma_p^a sigma_q^b sigma_r^c (order 3)

are computed with the exact Pauli algebra of :mod:`.pauli` (same-particle products reduced,
collective sums split into observed particles plus N - |S| others), which gives, for each rate,

    d y_i / dt = sum_r rate_r sum_k (A_r[i, k] + N B_r[i, k]) m_k,
    order 2: y = (s, C) (9 entries),        m = (1, s, C, T) (20 entries),
    order 3: y = (s, C, T) (19 entries),    m = (1, s, C, T, Q) (35 entries).

These equations are exact; the cumulant and mean-field methods only add a closure for the
highest moments (T at order 2, Q at order 3, C for the mean field).  The order-2 tensor is the
leading (9, 20) block of the order-3 one: the rows of s and C never involve Q.
Rates and operators (qutip.piqs conventions): omega -> H = omega Jx, chi -> H = chi J+ J-,
gamma -> D[J-], gamma_s -> sum_i D[sigma_i^-], dephasing -> sum_i D[sigma_i^z / 2],
pumping -> sum_i D[sigma_i^+], collective_dephasing -> D[Jz], collective_pumping -> D[J+].

Every term of a general quadratic collective Hamiltonian (:data:`HAMILTONIAN_TERMS`, the keys of
:data:`piqs_squeeze.hamiltonian.KEYS`) has its own tensor in the same form, per unit coefficient
h_key, from d<O>/dt = < i[H_key, O] >, J_a = sum_i sigma_i^a / 2:

    "Ja":    i[J_a, O];
    "Ja Jb": i[(J_a J_b + J_b J_a)/2, O] = (i/2) sum_{(c,d) = (a,b), (b,a)} (J_c [J_d, O] + [J_c, O] J_d);
    "J+ J-": i[J+ J-, O] = i (J+ [J-, O] + [J+, O] J-),

so "Jx" equals the omega tensor and "J+ J-" the chi tensor (:func:`hamiltonian_tensors`).
"""
from __future__ import annotations

from functools import lru_cache
from itertools import combinations_with_replacement

import numpy as np

from piqs_squeeze.hamiltonian import KEYS as HAMILTONIAN_TERMS, LINEAR_KEYS
from .pauli import Op, coll_left, coll_right, comm, comm_coll, site

__all__ = ["RATES", "HAMILTONIAN_TERMS", "STATE_LABELS", "MOMENT_LABELS", "STATE_LABELS_3", "MOMENT_LABELS_3", "ORDERS",
           "adjoint_generator", "hamiltonian_generator", "coefficient_tensors", "hamiltonian_tensors", "state_labels",
           "moment_labels", "describe"]

RATES = ("omega", "chi", "gamma", "gamma_s", "dephasing", "pumping", "collective_dephasing",
         "collective_pumping")
_AX = "xyz"
_PAIRS = ["".join(p) for p in combinations_with_replacement(_AX, 2)]
_TRIPLES = ["".join(p) for p in combinations_with_replacement(_AX, 3)]
_QUADS = ["".join(p) for p in combinations_with_replacement(_AX, 4)]
ORDERS = (2, 3)
STATE_LABELS = tuple([f"s_{a}" for a in _AX] + [f"C_{p}" for p in _PAIRS])
MOMENT_LABELS = tuple(["1"] + [f"s_{a}" for a in _AX] + [f"C_{p}" for p in _PAIRS]
                      + [f"T_{t}" for t in _TRIPLES])
STATE_LABELS_3 = STATE_LABELS + tuple(f"T_{t}" for t in _TRIPLES)
MOMENT_LABELS_3 = MOMENT_LABELS + tuple(f"Q_{q}" for q in _QUADS)
_MOMENT_INDEX = {key: i for i, key in enumerate([""] + list(_AX) + _PAIRS + _TRIPLES + _QUADS)}


def _check_order(order):
    if isinstance(order, bool) or order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS} (the supported cumulant orders), got {order!r}")
    return int(order)


def state_labels(order=2):
    """Names of the state variables y at ``order`` (2: s, C; 3: s, C, T)."""
    return STATE_LABELS if _check_order(order) == 2 else STATE_LABELS_3


def moment_labels(order=2):
    """Names of the moments m at ``order`` (2: 1, s, C, T; 3: 1, s, C, T, Q)."""
    return MOMENT_LABELS if _check_order(order) == 2 else MOMENT_LABELS_3


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


def _product_commutator(O, a, b, S):
    """[J_a J_b, O] = J_a [J_b, O] + [J_a, O] J_b for O supported on S."""
    return (coll_left(a, comm_coll(O, b, S).scale(-1.0), S)
            + coll_right(comm_coll(O, a, S).scale(-1.0), b, S))


#: single-site operator of each collective spin component J_a = sum_i op_i
_COLLECTIVE = {"Jx": "x/2", "Jy": "y/2", "Jz": "z/2", "J+": "+", "J-": "-"}


def hamiltonian_generator(O, key, S):
    """i[H_key, O] for one term of :data:`HAMILTONIAN_TERMS` (unit coefficient), O on the slots S."""
    if key in LINEAR_KEYS:
        return comm_coll(O, _COLLECTIVE[key], S).scale(-1j)  # i [J_a, O]
    a, b = (_COLLECTIVE[k] for k in key.split())
    if key == "J+ J-" or a == b:
        return _product_commutator(O, a, b, S).scale(1j)
    return (_product_commutator(O, a, b, S) + _product_commutator(O, b, a, S)).scale(0.5j)


def adjoint_generator(O, S):
    """{rate: L_rate^+(O)} per unit rate, for O supported on the observed slots S."""
    return {
        "omega": hamiltonian_generator(O, "Jx", S),
        "chi": hamiltonian_generator(O, "J+ J-", S),
        "gamma": _collective_dissipator(O, "-", S),
        "gamma_s": _local_dissipator(O, "-", S),
        "dephasing": _local_dissipator(O, "z/2", S),
        "pumping": _local_dissipator(O, "+", S),
        "collective_dephasing": _collective_dissipator(O, "z/2", S),
        "collective_pumping": _collective_dissipator(O, "+", S),
    }


def _targets(order):
    """(operator, support) for each state variable, in :func:`state_labels` order."""
    out = [(site(a, 0), (0,)) for a in _AX]
    out += [(site(p[0], 0) @ site(p[1], 1), (0, 1)) for p in _PAIRS]
    if order >= 3:
        out += [(site(t[0], 0) @ site(t[1], 1) @ site(t[2], 2), (0, 1, 2)) for t in _TRIPLES]
    return out


def _expectation_row(op, n_moments):
    """Coefficients (A, B) of <op> on the moment vector m (exchange symmetry of the state)."""
    row = np.zeros((n_moments, 3), dtype=complex)
    for key, poly in op.items():
        labels = "".join(sorted(_AX[p - 1] for p in key if p))
        row[_MOMENT_INDEX[labels]] += poly
    if np.max(np.abs(row.imag), initial=0) > 1e-13 or np.max(np.abs(row[:, 2]), initial=0) > 1e-13:
        raise AssertionError("derived coefficients must be real and at most linear in N")
    return row[:, :2].real


def coefficient_tensors(order=2):
    """Coefficient tensors ``K[r, i, k, d]``: d y_i/dt = sum_r rate_r sum_k (K[..,0] + N K[..,1]) m_k.

    Parameters
    ----------
    order : {2, 3}
        2: shape (8, 9, 20, 2), rows :data:`STATE_LABELS`, columns :data:`MOMENT_LABELS`;
        3: shape (8, 19, 35, 2), rows :data:`STATE_LABELS_3`, columns :data:`MOMENT_LABELS_3`.
        Rates in :data:`RATES` order.  Returned read-only; computed once per order (order 3:
        about a second).
    """
    return _tensors(_check_order(order))


def hamiltonian_tensors(order=2):
    """Coefficient tensors ``KH[h, i, k, d]`` of the Hamiltonian terms: a term h_key H_key adds
    ``h_key sum_k (KH[key, i, k, 0] + N KH[key, i, k, 1]) m_k`` to d y_i/dt.

    Parameters
    ----------
    order : {2, 3}
        As in :func:`coefficient_tensors`; shape (10, 9, 20, 2) or (10, 19, 35, 2), terms in
        :data:`HAMILTONIAN_TERMS` order.  Read-only, computed once per order.
    """
    return _tensors(_check_order(order), True)


@lru_cache(maxsize=4)
def _tensors(order, hamiltonian=False):
    targets = _targets(order)
    n_m = len(moment_labels(order))
    names = HAMILTONIAN_TERMS if hamiltonian else RATES
    K = np.zeros((len(names), len(targets), n_m, 2))
    for i, (O, S) in enumerate(targets):
        if hamiltonian:
            gen = {key: hamiltonian_generator(O, key, S) for key in names}
        else:
            gen = adjoint_generator(O, S)
        for r, name in enumerate(names):
            K[r, i] = _expectation_row(gen[name].clean(), n_m)
    K.setflags(write=False)
    return K


def describe(order=2) -> str:
    """The derived (un-closed) equations at ``order``, one line per state variable and rate or
    Hamiltonian term (``h[key]``: the coefficient of that term of H)."""
    K = np.concatenate([coefficient_tensors(order), hamiltonian_tensors(order)])
    channels = list(RATES) + [f"h[{key}]" for key in HAMILTONIAN_TERMS]
    lines = []
    for i, y in enumerate(state_labels(order)):
        lines.append(f"d{y}/dt =")
        for r, name in enumerate(channels):
            terms = []
            for k, m in enumerate(moment_labels(order)):
                a, b = K[r, i, k]
                if a == 0 and b == 0:
                    continue
                coef = f"{a:+g}" if b == 0 else (f"{b:+g}*N" if a == 0 else f"+({a:g}{b:+g}*N)")
                terms.append(f"{coef}*{m}" if m != "1" else coef)
            if terms:
                lines.append(f"    + {name} * [{' '.join(terms)}]")
    return "\n".join(lines)
