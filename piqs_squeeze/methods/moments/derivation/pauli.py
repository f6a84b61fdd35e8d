"""Exact Pauli algebra on four site slots: a, b, c (up to three observed particles) and g (any other one).

An operator is a dict ``{(p_a, p_b, p_c, p_g): poly}`` with Pauli labels 0 = 1, 1 = sigma^x,
2 = sigma^y, 3 = sigma^z on each slot, and ``poly`` the coefficient as a polynomial in the atom
number N (numpy array ``[c0, c1, c2]``, value c0 + c1 N + c2 N^2).  Same-site products are
reduced with sigma_p sigma_q = delta_pq + i eps_pqr sigma_r.  A collective sum
``J_O = sum_i O_i`` multiplied with an operator X supported on the observed slots S is

    J_O X = sum_{s in S} O_s X + (N - |S|) O_g X,

which is exact inside an expectation value of a permutation-symmetric state: every particle
outside S gives the same contribution as the representative slot g.  One- and two-particle
targets (order 2) leave slot c empty; three-particle targets (order 3) use a, b, c.
"""
from __future__ import annotations

import numpy as np

__all__ = ["PAULI", "Op", "site", "coll_left", "coll_right", "comm"]

NSLOT = 4
GENERIC = 3

# single-site operators as coefficient 4-vectors over (1, sx, sy, sz)
PAULI = {
    "1": np.array([1, 0, 0, 0], dtype=complex),
    "x": np.array([0, 1, 0, 0], dtype=complex),
    "y": np.array([0, 0, 1, 0], dtype=complex),
    "z": np.array([0, 0, 0, 1], dtype=complex),
    "+": np.array([0, 0.5, 0.5j, 0], dtype=complex),   # sigma^+ = (sx + i sy)/2 = |up><down|
    "-": np.array([0, 0.5, -0.5j, 0], dtype=complex),
    "z/2": np.array([0, 0, 0, 0.5], dtype=complex),
    "x/2": np.array([0, 0.5, 0, 0], dtype=complex),
    "y/2": np.array([0, 0, 0.5, 0], dtype=complex),
}


def _product_table():
    """table[p, q] = (c, r) with sigma_p sigma_q = c sigma_r."""
    eps = np.zeros((3, 3, 3))
    eps[0, 1, 2] = eps[1, 2, 0] = eps[2, 0, 1] = 1
    eps[0, 2, 1] = eps[2, 1, 0] = eps[1, 0, 2] = -1
    table = {}
    for p in range(4):
        for q in range(4):
            if p == 0 or q == 0:
                table[p, q] = (1.0 + 0j, p + q)
            elif p == q:
                table[p, q] = (1.0 + 0j, 0)
            else:
                r = 6 - p - q  # the remaining label of {1, 2, 3}
                table[p, q] = (1j * eps[p - 1, q - 1, r - 1], r)
    return table


_TABLE = _product_table()


def _poly(c0=0.0, c1=0.0):
    return np.array([c0, c1, 0.0], dtype=complex)


class Op(dict):
    """Operator on the slots (a, b, c, g) with N-polynomial coefficients (see module docstring)."""

    def __add__(self, other):
        out = Op({k: v.copy() for k, v in self.items()})
        for k, v in other.items():
            out[k] = out[k] + v if k in out else v.copy()
        return out

    def __sub__(self, other):
        return self + other.scale(-1.0)

    def scale(self, c, poly=None):
        """Multiply by the number c (and by the polynomial ``poly`` in N if given)."""
        out = Op()
        for k, v in self.items():
            w = v * c
            if poly is not None:
                w = np.convolve(w, poly)[:3]
            out[k] = w
        return out

    def __matmul__(self, other):
        out = Op()
        for ka, va in self.items():
            for kb, vb in other.items():
                c = 1.0 + 0j
                key = []
                for p, q in zip(ka, kb):
                    cc, r = _TABLE[p, q]
                    c *= cc
                    key.append(r)
                if c == 0:
                    continue
                key = tuple(key)
                w = np.convolve(va, vb)[:3] * c
                out[key] = out[key] + w if key in out else w
        return out

    def clean(self, tol=1e-14):
        return Op({k: v for k, v in self.items() if np.max(np.abs(v)) > tol})

    def support(self):
        return {i for k in self for i, p in enumerate(k) if p}


def site(name_or_vec, slot) -> Op:
    """Single-site operator (name in :data:`PAULI` or a 4-vector) on a slot."""
    vec = PAULI[name_or_vec] if isinstance(name_or_vec, str) else np.asarray(name_or_vec, complex)
    out = Op()
    for p in range(4):
        if vec[p] != 0:
            key = [0] * NSLOT
            key[slot] = p
            out[tuple(key)] = _poly(vec[p])
    return out


def _check_local(X, S):
    if GENERIC in X.support() or not X.support() <= set(S):
        raise ValueError("collective sums act only on operators supported on the observed slots")


def coll_left(name, X, S) -> Op:
    """J_O X = sum_{s in S} O_s X + (N - |S|) O_g X for X supported on S."""
    _check_local(X, S)
    out = Op()
    for s in S:
        out = out + site(name, s) @ X
    return out + (site(name, GENERIC) @ X).scale(1.0, _poly(-len(S), 1.0))


def coll_right(X, name, S) -> Op:
    """X J_O (see :func:`coll_left`)."""
    _check_local(X, S)
    out = Op()
    for s in S:
        out = out + X @ site(name, s)
    return out + (X @ site(name, GENERIC)).scale(1.0, _poly(-len(S), 1.0))


def comm(A, B) -> Op:
    return (A @ B - B @ A).clean()


def comm_coll(X, name, S) -> Op:
    """[X, J_O] for X supported on S: only the observed particles contribute."""
    _check_local(X, S)
    out = Op()
    for s in S:
        out = out + comm(X, site(name, s))
    return out.clean()
