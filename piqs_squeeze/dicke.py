"""Dicke-basis bookkeeping shared by the exact solver and the MCWF trajectories.

Conventions
-----------
* Sectors of total spin ``j = N/2, N/2 - 1, ..., j_min`` (j_min = 0 or 1/2), in that order.
* Inside a sector the basis is ``|j, m>`` with ``m = j, j-1, ..., -j`` (index ``k = j - m``),
  the ordering of ``qutip.jmat`` and of qutip.piqs.
* A permutation-invariant state is ``rho = sum_j rho_j (x) 1_{d_j} / d_j`` where ``d_j`` is the
  number of copies of the spin-j irrep (:func:`degeneracy`). We store ``rho_j`` as the *total*
  weight of the sector (``sum_j tr rho_j = 1``), so degeneracies never enter the dynamics.
  qutip.piqs stores the same blocks on the diagonal of its nds x nds matrix (its Liouvillian
  preserves the plain trace, and ``qutip.piqs.dicke_blocks`` divides each block by d_j to get
  the state of one copy), so converting to and from it is only a matter of cutting out blocks
  (:func:`blocks_from_piqs`, :func:`blocks_to_piqs`).

Local processes
---------------
For a single-atom operator s (sigma^-, sigma^+ or sigma^z/2), the sum over atoms maps a
permutation-invariant state to one, and in the total-weight convention

    sum_i s_i rho s_i^+  =  sum_{dj in (-1, 0, +1)}  K_dj rho_j K_dj^+,

with each ``K_dj`` a single band taking ``|j, m>`` to ``|j + dj, m + dm>`` (dm = -1, 0, +1 for
sigma^-, sigma^z/2, sigma^+). The squared amplitudes follow from the Wigner-Eckart theorem
(Clebsch-Gordan coefficients of a vector operator) with reduced weights (N/2 + 1), (N/2 + j + 1)
and (N/2 - j) for dj = 0, -1, +1 (Chase & Geremia, PRA 78, 052101 (2008); Zhang, Zhang & Molmer,
NJP 20, 112002 (2018)). For s = sigma^-:

    |K_0|^2  = (N/2 + 1) (j + m)(j - m + 1) / (2 j (j + 1))
    |K_-1|^2 = (N/2 + j + 1) (j + m)(j + m - 1) / (2 j (2j + 1))
    |K_+1|^2 = (N/2 - j) (j - m + 1)(j - m + 2) / (2 (j + 1)(2j + 1))

sigma^+ follows by m -> -m, and sigma^z/2 from the q = 0 Clebsch-Gordan coefficients:

    |K_0|^2  = (N/2 + 1) m^2 / (2 j (j + 1))
    |K_-1|^2 = (N/2 + j + 1) (j^2 - m^2) / (2 j (2j + 1))
    |K_+1|^2 = (N/2 - j) ((j + 1)^2 - m^2) / (2 (j + 1)(2j + 1))

They satisfy sum_dj K_dj^+ K_dj = sum_i s_i^+ s_i (= Jz + N/2, N/2 - Jz, N/4), which the tests
check, together with qutip.piqs' Liouvillian and a brute-force 2^N construction. The amplitudes
are all real and non-negative (signs are a phase convention of the j -> j +- 1 basis, which
drops out of every K rho K^+ with a single K per dj). Only ratios of O(N) numbers enter, so they
hold at any N without overflow; degeneracies are computed in log space.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from functools import wraps

import numpy as np
from scipy.special import gammaln

__all__ = [
    "LOCAL_PROCESSES",
    "j_values",
    "j_min",
    "block_dims",
    "num_dicke_states",
    "m_values",
    "log_degeneracy",
    "degeneracy",
    "jplus_elements",
    "local_channels",
    "moments_from_bands",
    "moments_from_density",
    "moments_from_state",
    "blocks_from_piqs",
    "blocks_to_piqs",
    "blocks_from_flat",
]

#: Local processes: model attribute -> (dm, single-atom operator name)
LOCAL_PROCESSES = {"gamma_s": -1, "dephasing": 0, "pumping": +1}


def j_min(N: int) -> float:
    """Smallest total spin: 0 for even N, 1/2 for odd N."""
    return 0.0 if N % 2 == 0 else 0.5


def j_values(N: int) -> np.ndarray:
    """Total spins j = N/2, N/2 - 1, ..., j_min (descending, as qutip.piqs)."""
    return N / 2.0 - np.arange(int(N // 2) + 1)


def block_dims(N: int) -> np.ndarray:
    """Sizes 2j + 1 of the blocks, in the order of :func:`j_values`."""
    return (2 * j_values(N) + 1).astype(int)


def num_dicke_states(N: int) -> int:
    """Number of (j, m) pairs, sum_j (2j + 1) (qutip.piqs' ``num_dicke_states``)."""
    return int(block_dims(N).sum())


def m_values(j: float) -> np.ndarray:
    """m = j, j - 1, ..., -j."""
    return j - np.arange(int(round(2 * j)) + 1)


def log_degeneracy(N: int, j) -> np.ndarray:
    """log d_N(j), d_N(j) = N! (2j + 1) / ((N/2 - j)! (N/2 + j + 1)!) copies of irrep j."""
    j = np.asarray(j, dtype=float)
    return (gammaln(N + 1.0) + np.log(2 * j + 1) - gammaln(N / 2.0 - j + 1) - gammaln(N / 2.0 + j + 2))


#: bytes each cache of per-sector arrays may hold (an entry count alone let MCWF at N = 1e5 keep
#: every sector it visited: 0.6 GB more every 5 s, until the OOM killer ended it)
CACHE_BYTES = 64 << 20


def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    return 64


def _bounded_cache(max_bytes=CACHE_BYTES):
    """Least-recently-used cache of a function's results, bounded by the bytes of its arrays."""

    def decorate(func):
        store, lock, total = OrderedDict(), threading.Lock(), [0]

        @wraps(func)
        def cached(*args):
            with lock:
                if args in store:
                    store.move_to_end(args)
                    return store[args][0]
            value = func(*args)
            size = _nbytes(value)
            with lock:
                if args not in store:
                    store[args] = (value, size)
                    total[0] += size
                    while len(store) > 1 and total[0] > max_bytes:
                        total[0] -= store.popitem(last=False)[1][1]
            return value

        def cache_clear():
            with lock:
                store.clear()
                total[0] = 0

        cached.cache_clear = cache_clear
        cached.cache_bytes = lambda: total[0]
        return cached

    return decorate


def degeneracy(N: int, j) -> np.ndarray:
    """d_N(j) as float64 (overflows to inf beyond N ~ 1000; use :func:`log_degeneracy` there)."""
    with np.errstate(over="ignore"):
        return np.exp(log_degeneracy(N, j))


@_bounded_cache()
def jplus_elements(j: float) -> np.ndarray:
    """c_k = <m_k + 1| J+ |m_k> = sqrt(j(j+1) - m_k(m_k+1)) for k = 1..2j (m_k = j - k).

    ``c[k-1]`` sits at row k-1, column k of J+ in the descending-m basis. Read-only.
    """
    m = m_values(j)[1:]
    c = np.sqrt(np.maximum(j * (j + 1) - m * (m + 1), 0.0))
    c.setflags(write=False)
    return c


@_bounded_cache()
def local_channels(N: int, j: float, process: str) -> dict:
    """Amplitudes of the local jump channels out of sector j (see module docstring).

    Parameters
    ----------
    N : int
    j : float
    process : {"gamma_s", "dephasing", "pumping"}
        Single-atom operator sigma^-, sigma^z/2 or sigma^+ (the Model's rate names).

    Returns
    -------
    dict {dj: amp}
        ``amp[k]`` (k = j - m, length 2j + 1, float64, >= 0) is the amplitude of
        ``K_dj |j, m> = amp[k] |j + dj, m + dm>``. Channels into sectors that do not exist
        (j + dj > N/2 or < 0) are omitted; amplitudes whose target state does not exist are 0.
        All are >= 0 except the dephasing dj = 0 channel, which is proportional to m.
        Arrays are read-only (cached).
    """
    if process not in LOCAL_PROCESSES:
        raise ValueError(f"unknown local process {process!r}; expected one of {list(LOCAL_PROCESSES)}")
    m = m_values(j)
    h = N / 2.0
    out = {}
    if process == "dephasing":
        # K_0 is proportional to Jz itself: the only channel whose amplitude changes sign with m
        a0 = m * np.sqrt((h + 1) / (2 * j * (j + 1))) if j > 0 else np.zeros_like(m)
        am = (h + j + 1) * (j**2 - m**2) / (2 * j * (2 * j + 1)) if j > 0 else np.zeros_like(m)
        ap = (h - j) * ((j + 1) ** 2 - m**2) / (2 * (j + 1) * (2 * j + 1))
    else:
        mm = m if process == "gamma_s" else -m  # sigma^+ is sigma^- with m -> -m
        a0 = (h + 1) * (j + mm) * (j - mm + 1) / (2 * j * (j + 1)) if j > 0 else np.zeros_like(m)
        am = (h + j + 1) * (j + mm) * (j + mm - 1) / (2 * j * (2 * j + 1)) if j > 0 else np.zeros_like(m)
        ap = (h - j) * (j - mm + 1) * (j - mm + 2) / (2 * (j + 1) * (2 * j + 1))
    if process != "dephasing":
        a0 = np.sqrt(np.maximum(a0, 0.0))
    for dj, amp in ((0, a0), (-1, np.sqrt(np.maximum(am, 0.0))), (1, np.sqrt(np.maximum(ap, 0.0)))):
        if j + dj > h + 1e-9 or j + dj < -1e-9:
            continue
        amp = np.array(amp, dtype=float)
        amp.setflags(write=False)
        out[dj] = amp
    return out


def moments_from_bands(j, diag, band1, band2):
    """First and symmetrized second moments of J from the three lowest bands of rho_j.

    Parameters
    ----------
    j : float
    diag : (..., d) real, rho[k, k]
    band1 : (..., d - 1) complex, rho[k, k - 1] for k = 1..d-1
    band2 : (..., d - 2) complex, rho[k, k - 2] for k = 2..d-1

    Returns
    -------
    mean (..., 3), second (..., 3, 3): the *unnormalized* moments tr(J rho_j), which add up
    over sectors; weight tr rho_j is ``diag.sum(-1)``.

    Implements <J+> = sum_k c_k rho[k, k-1], <J+^2> = sum_k c_{k-1} c_k rho[k, k-2],
    <(J+Jz + JzJ+)/2> = sum_k c_k (m_k + 1/2) rho[k, k-1], <Jz^n> = sum_k m_k^n rho[k, k].
    """
    from .observables import moments_from_collective

    diag = np.asarray(diag)
    m = m_values(j)
    c = jplus_elements(j)
    w = diag.real.sum(-1)
    jz = diag.real @ m
    jz2 = diag.real @ (m * m)
    if len(c):
        jp = np.asarray(band1) @ c
        jpjz = np.asarray(band1) @ (c * (m[1:] + 0.5))
    else:
        jp = jpjz = np.zeros(diag.shape[:-1], dtype=complex)
    jpjp = np.asarray(band2) @ (c[:-1] * c[1:]) if len(c) > 1 else np.zeros(diag.shape[:-1], dtype=complex)
    return moments_from_collective(jp, jz, jpjp, jz2, jpjz, j * (j + 1) * w)


def moments_from_density(j, rho):
    """Moments tr(J rho_j) of one block rho_j of shape (..., d, d); see :func:`moments_from_bands`."""
    rho = np.asarray(rho)
    d = rho.shape[-1]
    diag = np.diagonal(rho, axis1=-2, axis2=-1).real
    band1 = np.diagonal(rho, offset=-1, axis1=-2, axis2=-1) if d > 1 else np.zeros(rho.shape[:-2] + (0,))
    band2 = np.diagonal(rho, offset=-2, axis1=-2, axis2=-1) if d > 2 else np.zeros(rho.shape[:-2] + (0,))
    return moments_from_bands(j, diag, band1, band2)


def moments_from_state(j, psi):
    """Moments <psi|J|psi> of (unnormalized) pure states psi of shape (..., 2j + 1)."""
    psi = np.asarray(psi)
    diag = (psi * psi.conj()).real
    band1 = psi[..., 1:] * psi[..., :-1].conj()
    band2 = psi[..., 2:] * psi[..., :-2].conj()
    return moments_from_bands(j, diag, band1, band2)


def blocks_from_piqs(rho, N: int | None = None) -> list:
    """Blocks rho_j of a density matrix in qutip.piqs' Dicke basis (Qobj or array, nds x nds).

    qutip.piqs' matrix is block diagonal with the blocks j = N/2, N/2 - 1, ... on the diagonal,
    m descending inside each, and the same total-weight normalization as here (trace 1), so the
    blocks are copied unchanged. Raises ValueError if the matrix has weight outside the blocks.
    """
    mat = rho.full() if hasattr(rho, "full") else np.asarray(rho)
    mat = np.asarray(mat, dtype=complex)
    nds = mat.shape[0]
    if mat.ndim != 2 or mat.shape != (nds, nds):
        raise ValueError(f"rho must be a square nds x nds matrix in the Dicke basis, got shape {mat.shape}")
    if N is None:  # nds = (N/2 + 1)^2 (even N) or (N + 1)(N + 3)/4 (odd N)
        cands = [n for n in range(1, 2 * int(np.sqrt(nds)) + 2) if num_dicke_states(n) == nds]
        if not cands:
            raise ValueError(f"rho: {nds} is not a number of Dicke states (N/2 + 1)^2 for any N")
        N = cands[0]
    if num_dicke_states(N) != nds:
        raise ValueError(f"rho has {nds} Dicke states but N = {N} needs {num_dicke_states(N)}")
    blocks, o = [], 0
    mask = np.zeros((nds, nds), bool)
    for d in block_dims(N):
        blocks.append(mat[o:o + d, o:o + d].copy())
        mask[o:o + d, o:o + d] = True
        o += d
    outside = np.abs(mat[~mask]).max() if (~mask).any() else 0.0
    if outside > 1e-12 * max(np.abs(mat).max(), 1e-300):
        raise ValueError(f"rho has weight {outside:.3g} outside the Dicke blocks: not a permutation-invariant state")
    return blocks


def blocks_from_flat(N: int, flat, nblocks=None) -> list:
    """Blocks rho_j (j = N/2, N/2 - 1, ...; the first ``nblocks``, None: all) from their
    row-major entries laid end to end (the exact solver's ``extras["final_state"]``)."""
    dims = block_dims(N)[:None if nblocks is None else int(nblocks)]
    flat = np.asarray(flat)
    ends = np.cumsum(dims.astype(np.int64) ** 2)
    if flat.ndim != 1 or flat.size != (ends[-1] if ends.size else 0):
        raise ValueError(f"a flat state of {len(dims)} Dicke blocks for N = {N} has {int(ends[-1])} entries, "
                         f"got shape {flat.shape}")
    starts = np.concatenate([[0], ends[:-1]])
    return [flat[a:b].reshape(d, d) for a, b, d in zip(starts, ends, dims)]


def blocks_to_piqs(blocks):
    """qutip.Qobj (nds x nds, qutip.piqs' Dicke basis) holding the blocks rho_j on its diagonal."""
    import qutip
    from scipy.linalg import block_diag

    return qutip.Qobj(block_diag(*[np.asarray(B, dtype=complex) for B in blocks]))
