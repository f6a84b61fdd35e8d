"""Generator of the permutation-invariant master equation on the Dicke blocks rho_j (exact solver).

The state is the list of blocks rho_j (total-weight convention of :mod:`piqs_squeeze.dicke`),
stored as one vector. Two layouts are used:

* **full**: the complex entries of every block, row-major, blocks in the order of
  :func:`dicke.j_values` (``n_full = sum_j (2j+1)^2`` complex numbers);
* **packed**: a real vector of the same length holding, per block, ``Re rho[k, l]`` for
  ``k >= l`` followed by ``Im rho[k, l]`` for ``k > l``. Hermiticity is exact by construction
  and the generator becomes a real matrix (a quarter of the complex flops per non-zero; products
  timed against the full complex CSR and a matrix-free numpy product over the blocks in
  benchmarks/results/exact.md).

In block j with k = j - m the generator reads (qutip.piqs' rate conventions, see
:class:`~piqs_squeeze.model.Model`)

    d rho_j/dt = A rho_j + rho_j A^+ - i Omega [Jx, rho_j]
                 + gamma J- rho_j J+ + collective_pumping J+ rho_j J- + collective_dephasing Jz rho_j Jz
                 + sum_{local p} rate_p sum_dj K^p_dj rho_{j - dj} K^p_dj^+  (from the neighbouring blocks)

with the diagonal ``A = -i chi J+J- - (gamma J+J- + collective_pumping J-J+ + collective_dephasing
Jz^2 + gamma_s (Jz + N/2) + pumping (N/2 - Jz) + dephasing N/4) / 2`` and the local channels
``K^p_dj`` of :func:`dicke.local_channels` (the {sum_i s_i^+ s_i, rho}/2 part of every local
dissipator is the collective operator in the bracket). Every term maps entry (k, l) to a
neighbour, so the operator is a sparse matrix with about ten non-zeros per row.

A general quadratic collective Hamiltonian H (``Model(hamiltonian=...)``, constant coefficients)
is banded in block j, H[k, k+o] = 0 for |o| > 2 (:func:`piqs_squeeze.hamiltonian.dicke_bands`).
Then chi J+J- and Omega Jx above are replaced by the whole of H: its diagonal h_k goes into
``A = -i h - (...)/2`` and its off-diagonal bands into

    -i [H_off, rho][k, l] = -i sum_{o = +-1, +-2} (H[k, k+o] rho[k+o, l] - rho[k, l+o] H[l+o, l]).

The paper model keeps the path above (the same numbers, bit for bit, as before general
Hamiltonians existed).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from piqs_squeeze import dicke
from piqs_squeeze.hamiltonian import dicke_bands
from piqs_squeeze.model import Model

__all__ = ["Layout", "block_coefficients", "hamiltonian_bands", "generator_full", "generator_packed", "pack", "unpack",
           "blocks_to_full", "full_to_blocks", "band_index"]


class Layout:
    """Offsets of the blocks of N atoms in the full and packed vectors."""

    def __init__(self, N: int, nblocks: int | None = None, blocks=None):
        """``nblocks``: keep the first blocks only; ``blocks``: keep these block indices (sorted)."""
        self.N = int(N)
        nall = len(dicke.j_values(self.N))
        if blocks is None:
            self.block_index = np.arange(nall)[:nblocks]
        else:
            self.block_index = np.unique(np.asarray(blocks, dtype=int))
            if self.block_index.size == 0 or self.block_index[0] < 0 or self.block_index[-1] >= nall:
                raise ValueError(f"blocks must be a non-empty subset of range({nall}), got {blocks!r}")
        self.j = dicke.j_values(self.N)[self.block_index]
        self.dims = dicke.block_dims(self.N)[self.block_index]
        #: True when the layout holds every block j = N/2 ... j_min
        self.complete = self.block_index.size == nall
        self.offsets = np.concatenate([[0], np.cumsum(self.dims**2)]).astype(np.int64)
        self.n = int(self.offsets[-1])
        self._pack_index = None

    @property
    def nblocks(self) -> int:
        return len(self.dims)

    def pack_index(self):
        """(full index, full index of the transpose, is_imag) of every packed real."""
        if self._pack_index is None:
            src, tr, imag = [], [], []
            for b, d in enumerate(self.dims):
                lo = self.offsets[b]
                for strict in (0, -1):
                    k, l = np.tril_indices(d, strict)
                    src.append(lo + k * d + l)
                    tr.append(lo + l * d + k)
                    imag.append(np.full(k.size, bool(strict)))
            self._pack_index = tuple(np.concatenate(a) for a in (src, tr, imag))
        return self._pack_index


def hamiltonian_bands(model: Model, j: float):
    """Diagonals ``{o: H[k, k+o]}`` of the whole Hamiltonian in block j (module docstring), or
    None for the paper model (which keeps its own path). Raises for a time-dependent model."""
    if model.is_paper_model:
        return None
    if model.time_dependent:
        raise ValueError("the generator of a time-dependent model exists only at one time: use model.at(t)")
    return dicke_bands(model.hamiltonian_terms(), j)


def band_entries(bands, o: int, k):
    """H[k, k+o] for the rows ``k`` (in range) of a band dict from :func:`hamiltonian_bands`."""
    return bands[o][np.minimum(k, k + o)]


def block_coefficients(model: Model, j: float, bands=None):
    """(m, c, a) of block j: the m values, the J+ elements c[k-1] = <k-1|J+|k> and the diagonal
    ``a`` of A (module docstring), shared by the CSR build and the matrix-free kernel. ``bands``:
    those of :func:`hamiltonian_bands` (general Hamiltonians)."""
    if model.cavity is not None:
        raise ValueError("the spin generator has no cavity mode: use piqs_squeeze.methods.exact.cavity")
    m = dicke.m_values(j)
    c = np.asarray(dicke.jplus_elements(j), dtype=float)
    h = model.N / 2.0
    jpjm = j * (j + 1) - m * (m - 1)
    jmjp = j * (j + 1) - m * (m + 1)
    decay = (model.gamma * jpjm + model.collective_pumping * jmjp + model.collective_dephasing * m * m
             + model.gamma_s * (m + h) + model.pumping * (h - m) + model.dephasing * h / 2)
    if bands is None:
        return m, c, -1j * model.chi * jpjm - 0.5 * decay
    return m, c, -1j * bands[0].real - 0.5 * decay


def _collective_terms(model: Model, j: float, d: int):
    """(target (k, l), source (k, l), coefficient) lists of the in-block terms of block j."""
    bands = hamiltonian_bands(model, j)
    m, c, a = block_coefficients(model, j, bands)
    K, L = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
    terms = []
    diag = a[:, None] + np.conj(a)[None, :] + model.collective_dephasing * m[:, None] * m[None, :]
    terms.append((K, L, K, L, diag))
    if bands is not None:
        for o in (-2, -1, 1, 2):
            if o not in bands:
                continue
            rows = (K + o >= 0) & (K + o < d)  # -i H[k, k+o] rho[k+o, l]
            kk, ll = K[rows], L[rows]
            terms.append((kk, ll, kk + o, ll, -1j * band_entries(bands, o, kk)))
            cols = (L + o >= 0) & (L + o < d)  # +i rho[k, l+o] H[l+o, l]
            kk, ll = K[cols], L[cols]
            terms.append((kk, ll, kk, ll + o, 1j * band_entries(bands, -o, ll + o)))
    if d > 1 and bands is None:
        w = 0.5 * model.omega
        kk, ll = K[1:, :], L[1:, :]  # (Jx rho)[k,l] gets Jx[k,k-1] rho[k-1,l]
        terms.append((kk, ll, kk - 1, ll, -1j * w * c[kk - 1]))
        kk, ll = K[:-1, :], L[:-1, :]  # Jx[k,k+1] rho[k+1,l]
        terms.append((kk, ll, kk + 1, ll, -1j * w * c[kk]))
        kk, ll = K[:, 1:], L[:, 1:]  # -(rho Jx)[k,l]: rho[k,l-1] Jx[l-1,l]
        terms.append((kk, ll, kk, ll - 1, 1j * w * c[ll - 1]))
        kk, ll = K[:, :-1], L[:, :-1]
        terms.append((kk, ll, kk, ll + 1, 1j * w * c[ll]))
    if d > 1:
        kk, ll = K[1:, 1:], L[1:, 1:]  # J- rho J+
        terms.append((kk, ll, kk - 1, ll - 1, model.gamma * c[kk - 1] * c[ll - 1]))
        kk, ll = K[:-1, :-1], L[:-1, :-1]  # J+ rho J-
        terms.append((kk, ll, kk + 1, ll + 1, model.collective_pumping * c[kk] * c[ll]))
    return terms


def generator_full(model: Model, layout: Layout | None = None) -> sp.csr_matrix:
    """The generator as a complex CSR matrix on the full layout (see module docstring)."""
    layout = layout or Layout(model.N)
    itype = np.int32 if layout.n < 2**31 - 1 else np.int64  # halves the index memory of the build
    rows, cols, vals = [], [], []
    for b, (j, d) in enumerate(zip(layout.j, layout.dims)):
        off = layout.offsets[b]
        for tk, tl, sk, sl, v in _collective_terms(model, j, d):
            v = np.broadcast_to(v, tk.shape)
            nz = v != 0
            rows.append((off + tk * d + tl)[nz].astype(itype))
            cols.append((off + sk * d + sl)[nz].astype(itype))
            vals.append(v[nz].astype(complex))
        for proc, dm in dicke.LOCAL_PROCESSES.items():
            rate = getattr(model, proc)
            if rate == 0:
                continue
            for dj, amp in dicke.local_channels(model.N, float(j), proc).items():
                bt = b - dj  # target block index (j + dj)
                if not layout.complete:
                    raise ValueError("a truncated Layout cannot hold the local processes")
                dt_ = layout.dims[bt]
                shift = dj - dm
                k = np.arange(d)
                kt = k + shift
                ok = (kt >= 0) & (kt < dt_) & (amp != 0)
                k, kt = k[ok], kt[ok]
                a = amp[ok]
                KS, LS = np.meshgrid(k, k, indexing="ij")
                KT, LT = np.meshgrid(kt, kt, indexing="ij")
                rows.append((layout.offsets[bt] + KT * dt_ + LT).ravel().astype(itype))
                cols.append((off + KS * d + LS).ravel().astype(itype))
                vals.append((rate * np.outer(a, a)).ravel().astype(complex))
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    vals = np.concatenate(vals)
    out = sp.csr_matrix((vals, (rows, cols)), shape=(layout.n, layout.n))
    out.sort_indices()
    return out


def generator_packed(model: Model, layout: Layout | None = None, full=None) -> sp.csr_matrix:
    """The generator as a real CSR matrix on the packed layout.

    With P the map packed -> full (rho[k,l] = re + i im, rho[l,k] = re - i im) and R the map
    full -> packed (Re of the lower triangle, Im of the strict lower triangle), the packed
    generator is R L P; it is real because L maps Hermitian blocks to Hermitian blocks.
    """
    layout = layout or Layout(model.N)
    L = generator_full(model, layout) if full is None else full
    src, _, imag = layout.pack_index()
    P = _packed_to_full(layout)
    parts = []
    # rows in chunks of ~n/8 so that the complex intermediate R L P never exists whole
    step = max(1, layout.n // 8)
    for lo in range(0, layout.n, step):
        rows = slice(lo, min(lo + step, layout.n))
        # Im z = Re(-i z): one complex row scaling, then the real part
        R = sp.diags(np.where(imag[rows], -1j, 1.0 + 0j)) @ L[src[rows]]
        part = (R @ P).real.tocsr()
        part.eliminate_zeros()
        parts.append(part)
        del R
    out = sp.vstack(parts, format="csr")
    out.sort_indices()  # sorted columns: faster products (benchmarks/results/notes.md)
    return out


def _packed_to_full(layout: Layout) -> sp.csr_matrix:
    """Complex matrix P with full = P @ packed (packed real)."""
    src, tr, imag = layout.pack_index()
    p = np.arange(layout.n)
    re = ~imag
    diag = re & (src == tr)
    off = re & ~diag
    rows = np.concatenate([src[diag], src[off], tr[off], src[imag], tr[imag]])
    cols = np.concatenate([p[diag], p[off], p[off], p[imag], p[imag]])
    vals = np.concatenate([np.ones(diag.sum() + 2 * off.sum(), complex),
                           np.full(imag.sum(), 1j), np.full(imag.sum(), -1j)])
    return sp.csr_matrix((vals, (rows, cols)), shape=(layout.n, layout.n))


def band_index(layout: Layout):
    """Positions in the packed vector of the three lowest bands of every block.

    Returns ``(diag, b1re, b1im, b2re, b2im)``, each concatenated over blocks in block order
    (block b contributes d_b, d_b - 1, d_b - 1, d_b - 2, d_b - 2 entries): the packed index of
    rho[k, k], Re/Im rho[k, k-1] and Re/Im rho[k, k-2].
    """
    out = [[] for _ in range(5)]
    for b, d in enumerate(layout.dims):
        lo = layout.offsets[b]
        nre = d * (d + 1) // 2
        k = np.arange(d)
        out[0].append(lo + k * (k + 1) // 2 + k)
        for band, (ire, iim) in ((1, (1, 2)), (2, (3, 4))):
            k = np.arange(band, d)
            out[ire].append(lo + k * (k + 1) // 2 + k - band)
            out[iim].append(lo + nre + k * (k - 1) // 2 + k - band)
    return tuple(np.concatenate(a).astype(np.int64) for a in out)


def pack(layout: Layout, full) -> np.ndarray:
    """Full complex vector(s) (..., n) -> packed real vector(s), taking the lower triangles."""
    full = np.asarray(full)
    src, _, imag = layout.pack_index()
    x = full[..., src]
    return np.where(imag, x.imag, x.real)


def unpack(layout: Layout, x) -> np.ndarray:
    """Packed real vector -> full complex vector (Hermitian blocks)."""
    return _packed_to_full(layout) @ np.asarray(x, dtype=float)


def blocks_to_full(layout: Layout, blocks) -> np.ndarray:
    """List of (d_j, d_j) blocks -> full complex vector."""
    return np.concatenate([np.asarray(B, dtype=complex).ravel() for B in blocks])


def full_to_blocks(layout: Layout, full) -> list:
    """Full complex vector -> list of (d_j, d_j) blocks."""
    full = np.asarray(full)
    return [full[layout.offsets[b]:layout.offsets[b + 1]].reshape(d, d) for b, d in enumerate(layout.dims)]
