"""Exact evolution of a Model with a cavity mode: Dicke blocks rho_j (x) Fock (x) Fock.

The state is, per Dicke block j, the operator rho_j on (spin block j) (x) (Fock levels 0..nmax),
stored as one complex matrix ``X[s, f]``: ``s`` runs over the full spin layout of
:mod:`piqs_squeeze.methods.exact.generator` (block j, then row k and column l of rho_j,
row-major) and ``f = n1 (nmax + 1) + n2`` over the Fock row n1 and column n2, so that

    X[(j, k, l), (n1, n2)] = <j, m_k; n1| rho |j, m_l; n2>.

In this layout every term of the generator is a Kronecker product of a spin superoperator
(acting on s) and a Fock superoperator (acting on f), and the generator is applied matrix-free as

    L X = S X + X K^T - i g [ Lm(J-) X Lm(a^+)^T + Lm(J+) X Lm(a)^T
                              - Rm(J-) X Rm(a^+)^T - Rm(J+) X Rm(a)^T ],

with S the spin generator of the Model without its cavity (:func:`generator.generator_full`,
every rate and Hamiltonian term), ``K = -i [detuning a^+ a + drive (a + a^+), .] + kappa D[a]``
on the Fock space, and Lm(O) rho = O rho, Rm(O) rho = rho O (row-major: Lm(O) = O (x) 1,
Rm(O) = 1 (x) O^T). J+- are block-diagonal in j, so the coupling keeps the block structure; the
local processes couple neighbouring blocks through S exactly as without a cavity.

Time stepping: the adaptive Krylov propagator of :mod:`.steppers` on the real vector that
interleaves Re and Im of X (the complex generator as a real linear map).

Fock cut-off: the levels 0..nmax are kept. The population of the top level
``p_top(t) = sum_{j,k} X[(j,k,k), (nmax, nmax)]`` is recorded; its largest value over the run is
``extras["fock_top_population"]``. ``nmax = None`` starts from
:func:`piqs_squeeze.cavity.suggest_nmax` and doubles the cut-off until ``p_top <= fock_tol``
(or the memory check refuses); an explicit nmax whose ``p_top`` exceeds ``fock_tol`` warns
(:class:`FockCutoffWarning`), or raises with ``fock_strict=True``.
"""
from __future__ import annotations

import time as _time
import warnings

import numpy as np
import scipy.sparse as sp

from piqs_squeeze import dicke
from piqs_squeeze.cavity import suggest_nmax
from piqs_squeeze.model import Model
from piqs_squeeze.result import Result
from piqs_squeeze.runtime.resources import check_memory
from piqs_squeeze.states import CoherentSpinState
from . import generator as ops
from .numerics import FASTMATH
from .steppers import krylov_propagate
from numba import njit, prange

__all__ = ["CavityGenerator", "KernelCavityGenerator", "evolve", "memory_needed", "FockCutoffWarning", "fock_operators"]


class FockCutoffWarning(RuntimeWarning):
    """The top Fock level of an exact cavity run holds more population than ``fock_tol``."""


def fock_operators(nmax: int):
    """Annihilation operator a on levels 0..nmax (real CSR, a[n-1, n] = sqrt(n)) and the identity."""
    nf = nmax + 1
    a = sp.diags(np.sqrt(np.arange(1, nf, dtype=float)), 1, shape=(nf, nf), format="csr")
    return a, sp.identity(nf, format="csr")


def _left_right(op_blocks, dims):
    """Lm(O) = O (x) 1 and Rm(O) = 1 (x) O^T per block, stacked block-diagonally (full layout)."""
    L, R = [], []
    for O, d in zip(op_blocks, dims):
        eye = sp.identity(d, format="csr")
        L.append(sp.kron(O, eye, format="csr"))
        R.append(sp.kron(eye, O.T, format="csr"))
    return sp.block_diag(L, format="csr"), sp.block_diag(R, format="csr")


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _cavity_product(X, Y, indptr, indices, data, sblock, sk, sl, offsets, dims, coff, c, g, det, drive, kappa):
    """Y = L X on X[s, n1, n2] (module docstring), entry by entry: the spin generator S as CSR rows
    over s, the Fock terms and the coupling from the neighbouring entries (c[coff[b] + k] =
    <k|J+|k+1> of block b)."""
    ns, nf = X.shape[0], X.shape[1]
    sq = np.sqrt(np.arange(nf + 1.0))  # sqrt(n), n = 0..nf
    for s in prange(ns):
        b, k, l = sblock[s], sk[s], sl[s]
        d, o, co = dims[b], offsets[b], coff[b]
        for n1 in range(nf):
            for n2 in range(nf):
                Y[s, n1, n2] = 0.0
        for p in range(indptr[s], indptr[s + 1]):
            v = data[p]
            q = indices[p]
            for n1 in range(nf):
                for n2 in range(nf):
                    Y[s, n1, n2] += v * X[q, n1, n2]
        ckm = c[co + k - 1] if k > 0 else 0.0   # J-[k, k-1]
        ckp = c[co + k] if k < d - 1 else 0.0   # J+[k, k+1]
        clp = c[co + l] if l < d - 1 else 0.0   # J-[l+1, l]
        clm = c[co + l - 1] if l > 0 else 0.0   # J+[l-1, l]
        for n1 in range(nf):
            r1 = sq[n1]
            r1p = sq[n1 + 1]
            for n2 in range(nf):
                r2 = sq[n2]
                r2p = sq[n2 + 1]
                acc = (-1j * det * (n1 - n2) - 0.5 * kappa * (n1 + n2)) * X[s, n1, n2]
                f = 0.0j
                if n1 + 1 < nf:
                    f += r1p * X[s, n1 + 1, n2]
                    if n2 + 1 < nf:
                        acc += kappa * r1p * r2p * X[s, n1 + 1, n2 + 1]
                if n1 > 0:
                    f += r1 * X[s, n1 - 1, n2]
                if n2 > 0:
                    f -= r2 * X[s, n1, n2 - 1]
                if n2 + 1 < nf:
                    f -= r2p * X[s, n1, n2 + 1]
                acc += -1j * drive * f
                h = 0.0j
                if k > 0 and n1 > 0:
                    h += ckm * r1 * X[o + (k - 1) * d + l, n1 - 1, n2]
                if k < d - 1 and n1 + 1 < nf:
                    h += ckp * r1p * X[o + (k + 1) * d + l, n1 + 1, n2]
                if l < d - 1 and n2 + 1 < nf:
                    h -= clp * r2p * X[o + k * d + l + 1, n1, n2 + 1]
                if l > 0 and n2 > 0:
                    h -= clm * r2 * X[o + k * d + l - 1, n1, n2 - 1]
                Y[s, n1, n2] += acc - 1j * g * h


class KernelCavityGenerator:
    """The same generator as :class:`CavityGenerator`, applied by one threaded numba kernel
    (:func:`_cavity_product`): the state is read from its neighbours, not through sparse products."""

    def __init__(self, model: Model, nmax: int, layout: ops.Layout):
        cav = model.cavity
        if model.time_dependent:
            raise ValueError("a cavity model runs with constant coefficients only (no Ramps or callables)")
        self.layout, self.nmax, self.nf = layout, int(nmax), int(nmax) + 1
        S = ops.generator_full(model.replace(cavity=None), layout)
        self.csr = (S.indptr.astype(np.int64), S.indices.astype(np.int64), S.data.astype(complex))
        sb, sk, sl, cs, coff = [], [], [], [], [0]
        for b, (j, d) in enumerate(zip(layout.j, layout.dims)):
            K, L = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
            sb.append(np.full(d * d, b))
            sk.append(K.ravel())
            sl.append(L.ravel())
            cs.append(np.concatenate([np.asarray(dicke.jplus_elements(float(j)), float), [0.0]]))
            coff.append(coff[-1] + d)
        self.index = tuple(np.concatenate(a).astype(np.int64) for a in (sb, sk, sl))
        self.offsets = layout.offsets[:-1].astype(np.int64)
        self.dims = np.asarray(layout.dims, np.int64)
        self.coff = np.asarray(coff[:-1], np.int64)
        self.c = np.concatenate(cs)
        self.par = (float(cav.g), float(cav.detuning), float(cav.drive), float(cav.kappa))
        self.shape_X = (layout.n, self.nf * self.nf)
        self.n = 2 * layout.n * self.nf * self.nf
        self.shape = (self.n, self.n)

    def apply(self, X):
        X3 = np.ascontiguousarray(X).reshape(self.layout.n, self.nf, self.nf)
        Y = np.empty_like(X3)
        _cavity_product(X3, Y, *self.csr, *self.index, self.offsets, self.dims, self.coff, self.c, *self.par)
        return Y.reshape(self.shape_X)

    def dot(self, z):
        X = np.ascontiguousarray(z).view(complex).reshape(self.shape_X)
        return self.apply(X).reshape(-1).view(float)


class CavityGenerator:
    """The generator of a cavity Model on the layout ``X[s, f]`` (module docstring), matrix-free.

    ``dot(z)`` applies it to the real vector ``z`` that interleaves Re and Im of X (the form the
    Krylov stepper takes); :meth:`apply` to the complex matrix X.
    """

    def __init__(self, model: Model, nmax: int, layout: ops.Layout):
        cav = model.cavity
        if cav is None:
            raise ValueError("CavityGenerator needs a Model with cavity=")
        if model.time_dependent:
            raise ValueError("a cavity model runs with constant coefficients only (no Ramps or callables)")
        self.layout, self.nmax = layout, int(nmax)
        nf = self.nmax + 1
        self.nf = nf
        self.S = ops.generator_full(model.replace(cavity=None), layout)
        a, eye = fock_operators(self.nmax)
        ad = a.T.tocsr()
        n_op = (ad @ a).tocsr()
        hc = cav.detuning * n_op + cav.drive * (a + ad)
        lm = lambda O: sp.kron(O, eye, format="csr")  # noqa: E731
        rm = lambda O: sp.kron(eye, O.T, format="csr")  # noqa: E731
        K = -1j * (lm(hc) - rm(hc)) + cav.kappa * (sp.kron(a, a, format="csr") - 0.5 * lm(n_op) - 0.5 * rm(n_op))
        self.KT = sp.csr_matrix(K.T) if K.nnz else sp.csr_matrix((nf * nf, nf * nf))
        jblocks_p, jblocks_m = [], []
        for j, d in zip(layout.j, layout.dims):
            c = np.asarray(dicke.jplus_elements(float(j)), dtype=float)
            jp = sp.diags(c, 1, shape=(d, d), format="csr") if d > 1 else sp.csr_matrix((1, 1))
            jblocks_p.append(jp)
            jblocks_m.append(jp.T.tocsr())
        LmJp, RmJp = _left_right(jblocks_p, layout.dims)
        LmJm, RmJm = _left_right(jblocks_m, layout.dims)
        g = cav.g
        # (spin superoperator, transposed Fock superoperator, coefficient)
        self.terms = [] if g == 0 else [
            (LmJm, lm(ad).T.tocsr(), -1j * g), (LmJp, lm(a).T.tocsr(), -1j * g),
            (RmJm, rm(ad).T.tocsr(), 1j * g), (RmJp, rm(a).T.tocsr(), 1j * g)]
        self.shape_X = (layout.n, nf * nf)
        self.n = 2 * layout.n * nf * nf
        self.shape = (self.n, self.n)
        self.products = 0

    def apply(self, X):
        """L X for the complex matrix X of shape (spin full size, (nmax+1)^2)."""
        Y = self.S @ X
        Y += X @ self.KT
        for A, BT, c in self.terms:
            Y += c * ((A @ X) @ BT)
        return Y

    def dot(self, z):
        self.products += 1
        X = np.ascontiguousarray(z).view(complex).reshape(self.shape_X)
        return self.apply(X).reshape(-1).view(float)


#: Hamiltonian terms that commute with M = Jz + a^+ a
_CONSERVING_TERMS = {"Jz", "Jz Jz", "J+ J-"}


def conserves_excitations(model: Model) -> bool:
    """Whether the generator keeps the coherence order k = M(ket) - M(bra), M = Jz + a^+ a: no
    Omega, no cavity drive and only Jz, Jz Jz, J+ J- among the extra terms (every dissipator of the
    Model has jumps of definite charge, pumping included)."""
    if model.time_dependent or model.cavity is None:
        return False
    return model.omega == 0 and model.cavity.drive == 0 and set(model.hamiltonian) <= _CONSERVING_TERMS


def _sector_entries(layout: ops.Layout, nf: int, kmax: int = 2):
    """Flat indices s F + f (F = nf^2) of the entries with |k| <= kmax, k = (m_k + n1) - (m_l + n2)."""
    qs = np.concatenate([(np.arange(d)[None, :] - np.arange(d)[:, None]).ravel() for d in layout.dims])  # m_k - m_l
    n = np.arange(nf)
    qf = (n[:, None] - n[None, :]).ravel()
    keep = np.abs(qs[:, None] + qf[None, :]) <= kmax
    return np.flatnonzero(keep.ravel())


class SectorCavityGenerator:
    """The cavity generator restricted to the coherence orders |k| <= 2 of M = Jz + a^+ a (models
    where :func:`conserves_excitations`): a complex CSR matrix on the kept entries, built from the
    Kronecker terms of :class:`CavityGenerator` row by row (never the whole operator). The spin and
    cavity moments (bands |m_k - m_l| <= 2 of rho_j, Fock coherences |n1 - n2| <= 2) all lie there."""

    def __init__(self, model: Model, nmax: int, layout: ops.Layout):
        kron = CavityGenerator(model, nmax, layout)
        nf = kron.nf
        F = nf * nf
        self.keep = _sector_entries(layout, nf)
        where = np.full(layout.n * F, -1, dtype=np.int64)
        where[self.keep] = np.arange(self.keep.size)
        s_r, f_r = np.divmod(self.keep, F)
        eye_s = sp.identity(layout.n, format="csr")
        terms = [(kron.S, sp.identity(F, format="csr"), 1.0), (eye_s, kron.KT.T.tocsr(), 1.0)]
        terms += [(A, BT.T.tocsr(), c) for A, BT, c in kron.terms]
        rows, cols, vals = [], [], []
        for A, B, c in terms:
            A, B = A.tocsr(), B.tocsr()
            na = np.diff(A.indptr)[s_r]
            r1 = np.repeat(np.arange(s_r.size), na)
            pa = np.repeat(A.indptr[s_r], na) + (np.arange(r1.size) - np.repeat(np.cumsum(na) - na, na))
            fa = f_r[r1]
            nb = np.diff(B.indptr)[fa]
            r2 = np.repeat(r1, nb)
            pb = np.repeat(B.indptr[fa], nb) + (np.arange(r2.size) - np.repeat(np.cumsum(nb) - nb, nb))
            pa2 = np.repeat(pa, nb)
            col = where[A.indices[pa2].astype(np.int64) * F + B.indices[pb]]
            v = c * A.data[pa2] * B.data[pb]
            nz = v != 0
            if np.any(col[nz] < 0):
                raise AssertionError("the generator leaves the |k| <= 2 coherence orders: M is not conserved")
            rows.append(r2[nz])
            cols.append(col[nz])
            vals.append(v[nz])
        n = self.keep.size
        self.L = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
        self.L.sort_indices()
        self.shape_X = kron.shape_X
        self.n = 2 * n
        self.shape = (self.n, self.n)

    def dot(self, z):
        return (self.L @ np.ascontiguousarray(z).view(complex)).view(float)


def packed_size(N: int, nmax: int, layout: ops.Layout | None = None) -> int:
    """Complex entries of the state: sum_j (2j+1)^2 (nmax+1)^2."""
    n_s = (layout or ops.Layout(N)).n
    return int(n_s * (nmax + 1) ** 2)


def memory_needed(N: int, nmax: int, krylov_dim: int = 16, layout: ops.Layout | None = None,
                  sectors: bool = False) -> int:
    """Estimated peak bytes: the Krylov workspace (m + 1 vectors) and ~7 work vectors of the
    products, 16 bytes per complex entry each, plus the spin generator's CSR (~10 non-zeros of
    20 bytes per spin entry). ``sectors`` (:class:`SectorCavityGenerator`): the kept entries n_k
    only, plus a full-size output buffer (16 bytes per entry), the index map (8) and the CSR of
    ~20 non-zeros per kept entry, built through ~3x that in temporaries (~1300 bytes per n_k)."""
    layout = layout or ops.Layout(N)
    n = packed_size(N, nmax, layout)
    if sectors:
        nk = _sector_entries(layout, nmax + 1).size
        return int(16.0 * nk * (krylov_dim + 8) + 1300.0 * nk + 24.0 * n + 200.0 * layout.n)
    return int(16.0 * n * (krylov_dim + 8) + 200.0 * layout.n)


def _choose_layout(model, initial, opts):
    full = ops.Layout(model.N)
    if opts.restrict_blocks and model.is_collective and (initial is None or isinstance(initial, CoherentSpinState)):
        return ops.Layout(model.N, blocks=[0]), full
    return full, full


def _observables(layout, nf):
    """Index helpers: spin-diagonal positions s (k = l in every block) and Fock positions f."""
    diag = np.concatenate([layout.offsets[b] + np.arange(d) * (d + 1) for b, d in enumerate(layout.dims)])
    n = np.arange(nf)
    return diag, n


def _run(model, times, initial, opts, nmax):
    """One propagation at cut-off nmax: (Result pieces, top-level population per time)."""
    from .solver import _Recorder, initial_blocks

    layout, full_layout = _choose_layout(model, initial, opts)
    sectors = opts.cavity_sectors and conserves_excitations(model)
    need = memory_needed(model.N, nmax, opts.krylov_dim, layout, sectors)
    check_memory(need, opts.max_memory, f"the exact cavity evolution (N = {model.N}, nmax = {nmax}, "
                 f"{packed_size(model.N, nmax, layout)} complex entries)",
                 "use a smaller N or nmax, or method='cumulant'")
    spin_model = model.replace(cavity=None)
    blocks = initial_blocks(spin_model, initial)
    v = ops.blocks_to_full(layout, [blocks[b] for b in layout.block_index])
    gen = (SectorCavityGenerator if sectors else KernelCavityGenerator)(model, nmax, layout)
    nf = nmax + 1
    X0 = np.zeros(gen.shape_X, complex)
    X0[:, 0] = v  # cavity vacuum: |0><0| is f = 0
    Xfull = np.zeros(gen.shape_X, complex) if sectors else None
    T = times.size
    rec = _Recorder(layout, T)
    sdiag, n = _observables(layout, nf)
    photon = np.zeros(T)
    field = np.zeros(T, complex)
    aa = np.zeros(T, complex)
    fock_pops = np.zeros((T, nf))
    fdiag = n * nf + n
    sq = np.sqrt(n[1:].astype(float))

    def on_output(i, t, x):
        if sectors:  # the entries outside |k| <= 2 stay zero: no moment reads them
            Xfull.reshape(-1)[gen.keep] = x.view(complex)
            X = Xfull
        else:
            X = x.view(complex).reshape(gen.shape_X)
        spin = X[:, fdiag].sum(axis=1)  # Tr_F
        rec(i, t, ops.pack(layout, spin))
        F = X[sdiag].sum(axis=0).reshape(nf, nf)  # Tr_spin: the cavity's density matrix
        pops = F.diagonal().real
        fock_pops[i] = pops
        photon[i] = float(n @ pops)
        field[i] = np.sum(sq * F.diagonal(-1))  # Tr(a rho) = sum_n sqrt(n) rho[n, n-1]
        aa[i] = np.sum(np.sqrt(n[2:] * (n[2:] - 1.0)) * F.diagonal(-2)) if nf > 2 else 0.0

    x0 = (X0.reshape(-1)[gen.keep] if sectors else X0.reshape(-1)).view(float).copy()
    from piqs_squeeze.runtime import threads

    with threads.single_blas():
        st = krylov_propagate(gen, x0, times, rtol=opts.rtol, m=opts.krylov_dim, on_output=on_output)
    mean, second, sub_pops = rec.moments()
    pops = np.zeros((T, full_layout.nblocks))
    pops[:, layout.block_index] = sub_pops
    extras = {"photon_number": photon, "field": field, "field_squared": aa, "fock_populations": fock_pops,
              "fock_top_population": float(np.max(fock_pops[:, -1])), "nmax": int(nmax),
              "j_populations": pops, "j_values": full_layout.j.copy(), "evolved_blocks": layout.block_index.copy()}
    stats = {"products": int(st["products"]), "steps": int(st["steps"]), "packed_size": int(gen.n),
             "excitation_sectors": bool(sectors)}
    return mean, second, extras, stats


def evolve(model: Model, times, initial, opts) -> Result:
    """Exact evolution of a cavity Model (module docstring); called by the exact solver's evolve.

    Returns a Result whose ``extras`` add ``photon_number`` <a^+ a>(t), ``field`` <a>(t)
    (complex), ``field_squared`` <a a>(t), ``fock_populations`` (T, nmax + 1),
    ``fock_top_population`` (its largest top-level value) and ``nmax`` (the cut-off used);
    ``extras["nmax_tries"]`` lists the cut-offs tried when nmax was chosen.
    """
    t0 = _time.perf_counter()
    if opts.scheme != "krylov":
        raise ValueError(f"a cavity model runs with scheme='krylov' only, got scheme={opts.scheme!r}")
    if opts.return_state or opts.checkpoint is not None:
        raise ValueError("return_state and checkpoint are not available for a cavity model")
    cav = model.cavity
    omega = model.omega if not callable(model.omega) else 1.0
    auto = cav.nmax is None
    nmax = suggest_nmax(cav, model.N, omega) if auto else cav.nmax
    tries = []
    while True:
        if auto:
            # refuse before running when even the first (or a doubled) cut-off would not fit
            layout, _ = _choose_layout(model, initial, opts)
            check_memory(memory_needed(model.N, nmax, opts.krylov_dim, layout,
                                       opts.cavity_sectors and conserves_excitations(model)), opts.max_memory,
                         f"the exact cavity evolution (N = {model.N}, chosen nmax = {nmax})",
                         "give a smaller cavity.nmax (the top-level population is still checked), a smaller N, "
                         "or use method='cumulant'")
        mean, second, extras, stats = _run(model, times, initial, opts, nmax)
        tries.append(nmax)
        top = extras["fock_top_population"]
        if top <= opts.fock_tol or not auto:
            break
        nmax *= 2
    if top > opts.fock_tol:
        msg = (f"the top Fock level (nmax = {nmax}) holds population {top:.3g} > fock_tol = {opts.fock_tol:g}: "
               "the cut-off truncates the cavity; raise cavity.nmax (or leave it None to choose it)")
        if opts.fock_strict:
            raise ValueError(msg)
        warnings.warn(msg, FockCutoffWarning, stacklevel=5)  # the caller of ps.evolve
    extras["nmax_tries"] = np.array(tries)
    stats["wall_time"] = _time.perf_counter() - t0
    return Result(times, mean, second, model, "exact", options=opts.to_dict(), extras=extras, stats=stats)
