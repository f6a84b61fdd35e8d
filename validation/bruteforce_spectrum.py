"""Brute-force symmetric-sector Liouvillian spectrum and steady state in the full 4^N operator space.

Independent of piqs_squeeze's Dicke bookkeeping: the Liouvillian is ``qutip.liouvillian`` of the
2^N site-operator model of :mod:`piqs_squeeze.validation.bruteforce`, and the permutation-symmetric operators
are spanned by the orbit sums of the matrix units |a><b| under permuting the atoms (one per
multiset of the four single-site types (a_i, b_i) in {0, 1}^2: C(N + 3, 3) of them, = sum_j
(2j+1)^2). L maps this span into itself; with B the orthonormal orbit basis (4^N x C(N+3, 3)),
the restriction is ``B^T L B`` and its eigenvalues are the symmetric-sector spectrum. Practical
to N ~ 7.
"""
from __future__ import annotations

import numpy as np
import qutip
import scipy.sparse as sp

from piqs_squeeze.model import Model

from . import bruteforce

__all__ = ["symmetric_basis", "symmetric_liouvillian", "symmetric_spectrum", "steady_state_vector"]


def symmetric_basis(N: int) -> sp.csc_matrix:
    """Orthonormal orbit basis B (4^N x C(N+3, 3)) of the permutation-invariant operators, in
    qutip's column-stacked vectorisation (vec(X)[a + 2^N b] = X[a, b])."""
    D = 2**N
    a = np.arange(D)[:, None]
    b = np.arange(D)[None, :]
    bits_a = (a[..., None] >> np.arange(N)) & 1
    bits_b = (b[..., None] >> np.arange(N)) & 1
    t = 2 * bits_a + bits_b  # per-site type 0..3
    counts = np.stack([(t == v).sum(-1) for v in range(4)], -1).reshape(D * D, 4)
    key = ((counts[:, 0] * (N + 1) + counts[:, 1]) * (N + 1) + counts[:, 2])
    labels, orbit = np.unique(key, return_inverse=True)
    rows = (np.arange(D)[:, None] + D * np.arange(D)[None, :]).ravel()  # a + D b
    B = sp.csc_matrix((np.ones(D * D), (rows, orbit.ravel())), shape=(D * D, labels.size))
    norms = np.sqrt(np.asarray(B.power(2).sum(0))).ravel()
    return (B @ sp.diags(1.0 / norms)).tocsc()


def full_liouvillian(model: Model) -> sp.csr_matrix:
    """The 4^N x 4^N Liouvillian (qutip.liouvillian of the 2^N model), column-stacked."""
    H, c = bruteforce.hamiltonian_and_collapse(model)
    return qutip.liouvillian(H, c).data_as("csr_matrix")


def symmetric_liouvillian(model: Model):
    """(L_sym = B^T L B dense, invariance defect ||L B - B L_sym||_max / ||L||_max)."""
    L = full_liouvillian(model)
    B = symmetric_basis(model.N)
    LB = (L @ B).toarray()
    Ls = B.T @ LB
    defect = float(np.abs(LB - B @ Ls).max() / max(abs(L).max(), 1e-300))
    return Ls, defect


def symmetric_spectrum(model: Model) -> np.ndarray:
    """All C(N+3, 3) eigenvalues of the symmetric-sector restriction (numpy eigvals)."""
    if model.N > 7:
        raise ValueError(f"the brute-force spectrum is for N <= 7 (4^N space), got N = {model.N}")
    Ls, defect = symmetric_liouvillian(model)
    if defect > 1e-10:
        raise RuntimeError(f"the symmetric operators are not invariant under L (defect {defect:.2e})")
    return np.linalg.eigvals(Ls)


def steady_state_vector(model: Model):
    """Null vector of the full 4^N Liouvillian as a 2^N density matrix of trace 1.

    Sparse LU (SuperLU) of L with its first row replaced by the trace functional vec(1)^T, right
    side e_0: the null vector normalised to tr rho = 1 when the null space is one-dimensional.
    Returns (qutip.Qobj, max |L vec(rho)|).
    """
    import scipy.sparse.linalg as spl

    if model.N > 7:
        raise ValueError(f"the brute-force null vector is for N <= 7 (4^N space), got N = {model.N}")
    L = full_liouvillian(model).tocsr().astype(complex)
    D = 2**model.N
    tr = sp.csr_matrix((np.ones(D), (np.zeros(D, int), np.arange(D) * (D + 1))), shape=(1, D * D))
    A = sp.vstack([tr, L[1:]]).tocsc()
    rhs = np.zeros(D * D, complex)
    rhs[0] = 1.0
    v = spl.spsolve(A, rhs)
    rho = v.reshape(D, D, order="F")
    res = float(np.abs(L @ v).max())
    rho = 0.5 * (rho + rho.conj().T)
    return qutip.Qobj(rho, dims=[[2] * model.N, [2] * model.N]), res
