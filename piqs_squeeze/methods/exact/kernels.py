"""Matrix-free product with the exact solver's generator on the packed layout (numba, threaded).

The same operator as :func:`piqs_squeeze.methods.exact.generator.generator_packed` (and the same formula, see
:mod:`piqs_squeeze.methods.exact.generator`), applied entry by entry instead of through a CSR matrix: for every
target entry (k, l), k >= l, of block j,

    L(rho)[k, l] = (a_k + conj(a_l) + cdeph m_k m_l) rho[k, l]
                   + i (Omega/2) (c_{l-1} rho[k, l-1] + c_l rho[k, l+1] - c_{k-1} rho[k-1, l] - c_k rho[k+1, l])
                   + gamma c_{k-1} c_{l-1} rho[k-1, l-1] + cpump c_k c_l rho[k+1, l+1]
                   + sum_{local p, dj} rate_p amp_p,dj[k'] amp_p,dj[l'] rho_{j-dj}[k', l'],  k' = k - shift,

(c_k = <k|J+|k+1>; entries above the diagonal read as conj of the transposed packed entry).
For a general Hamiltonian (not the paper model) Omega = 0 and chi = 0 there, the diagonal h_k of
H is in a_k, and its off-diagonal bands u^p_k = H[k, k+p] (p = 1, 2) add

    -i sum_p (u^p_k rho[k+p, l] + conj(u^p_{k-p}) rho[k-p, l] - conj(u^p_l) rho[k, l+p] - u^p_{l-p} rho[k, l-p])

(:func:`_hamiltonian_row`; for the paper model that pass is skipped).
The CSR matrix streams ~100 bytes per packed real per product (values and indices); this
kernel streams the vector in and out only (16 bytes) plus O(d) coefficients per block, and the
inner loop over l reads contiguous rows, so it vectorises and splits over threads.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from piqs_squeeze import dicke
from .generator import block_coefficients, hamiltonian_bands
from .numerics import FASTMATH
from piqs_squeeze.model import Model

__all__ = ["PackedGenerator"]


@njit(inline="always")
def _get(x, o, nre, d, k, l):
    """(Re, Im) of rho[k, l] of the block at packed offset o (any k, l in range)."""
    if k >= l:
        re = x[o + k * (k + 1) // 2 + l]
        im = x[o + nre + k * (k - 1) // 2 + l] if k > l else 0.0
        return re, im
    return x[o + l * (l + 1) // 2 + k], -x[o + nre + l * (l - 1) // 2 + k]


@njit(inline="always")
def _entry(x, o, nre, d, k, l, dre, dim, w, cl1, cl, ck1, ck, gk, gp):
    """In-block part of L(rho)[k, l] with bounds checks (edges of a row)."""
    rr, ri = _get(x, o, nre, d, k, l)
    ore = dre * rr - dim * ri
    oim = dre * ri + dim * rr
    sre = 0.0
    sim = 0.0
    if l >= 1:
        t1, t2 = _get(x, o, nre, d, k, l - 1)
        sre += cl1 * t1
        sim += cl1 * t2
    if l + 1 < d:
        t1, t2 = _get(x, o, nre, d, k, l + 1)
        sre += cl * t1
        sim += cl * t2
    if k >= 1:
        t1, t2 = _get(x, o, nre, d, k - 1, l)
        sre -= ck1 * t1
        sim -= ck1 * t2
    if k + 1 < d:
        t1, t2 = _get(x, o, nre, d, k + 1, l)
        sre -= ck * t1
        sim -= ck * t2
    ore -= w * sim
    oim += w * sre
    if l >= 1 and k >= 1:
        t1, t2 = _get(x, o, nre, d, k - 1, l - 1)
        g = gk * cl1
        ore += g * t1
        oim += g * t2
    if k + 1 < d:
        t1, t2 = _get(x, o, nre, d, k + 1, l + 1)
        g = gp * cl
        ore += g * t1
        oim += g * t2
    return ore, oim


@njit(inline="always")
def _hamiltonian_entry(x, o, nre, d, k, l, ur, ui):
    """C = sum_p (...) of the off-diagonal Hamiltonian terms (module docstring) at (k, l), with
    bounds checks; -i C is their contribution. ``ur[p - 1, i], ui[p - 1, i]`` = Re, Im u^p_i."""
    cre = 0.0
    cim = 0.0
    for p in range(1, 3):
        if k + p < d:  # u^p_k rho[k+p, l]
            hr, hi = ur[p - 1, k], ui[p - 1, k]
            rr, ri = _get(x, o, nre, d, k + p, l)
            cre += hr * rr - hi * ri
            cim += hr * ri + hi * rr
        if k >= p:  # conj(u^p_{k-p}) rho[k-p, l]
            hr, hi = ur[p - 1, k - p], -ui[p - 1, k - p]
            rr, ri = _get(x, o, nre, d, k - p, l)
            cre += hr * rr - hi * ri
            cim += hr * ri + hi * rr
        if l + p < d:  # -conj(u^p_l) rho[k, l+p]
            hr, hi = ur[p - 1, l], -ui[p - 1, l]
            rr, ri = _get(x, o, nre, d, k, l + p)
            cre -= hr * rr - hi * ri
            cim -= hr * ri + hi * rr
        if l >= p:  # -u^p_{l-p} rho[k, l-p]
            hr, hi = ur[p - 1, l - p], ui[p - 1, l - p]
            rr, ri = _get(x, o, nre, d, k, l - p)
            cre -= hr * rr - hi * ri
            cim -= hr * ri + hi * rr
    return cre, cim


@njit(inline="always")
def _hamiltonian_row(x, o, nre, d, k, ur, ui, bre, bim):
    """Adds -i C (:func:`_hamiltonian_entry`) of row k, l = 0 ... k, to (bre, bim). For
    2 <= l <= k - 3 every neighbour lies strictly below the diagonal and in range, so that part is
    a contiguous loop over the rows k, k +- 1, k +- 2 (a missing row k + p gets coefficient 0)."""
    lo_in, hi_in = 2, k - 3  # interior l range
    if k >= 5:
        rk = o + k * (k + 1) // 2
        ik = o + nre + k * (k - 1) // 2
        # rows k - 2, k - 1, k + 1, k + 2 (a row past the block: row k, with coefficient 0)
        r_m2, i_m2 = o + (k - 2) * (k - 1) // 2, o + nre + (k - 2) * (k - 3) // 2
        r_m1, i_m1 = o + (k - 1) * k // 2, o + nre + (k - 1) * (k - 2) // 2
        h1 = k + 1 < d
        h2 = k + 2 < d
        r_p1 = o + (k + 1) * (k + 2) // 2 if h1 else rk
        i_p1 = o + nre + (k + 1) * k // 2 if h1 else ik
        r_p2 = o + (k + 2) * (k + 3) // 2 if h2 else rk
        i_p2 = o + nre + (k + 2) * (k + 1) // 2 if h2 else ik
        a1r, a1i = (ur[0, k], ui[0, k]) if h1 else (0.0, 0.0)
        a2r, a2i = (ur[1, k], ui[1, k]) if h2 else (0.0, 0.0)
        b1r, b1i = ur[0, k - 1], -ui[0, k - 1]
        b2r, b2i = ur[1, k - 2], -ui[1, k - 2]
        u1r, u1i, u2r, u2i = ur[0], ui[0], ur[1], ui[1]
        n_in = hi_in - lo_in + 1
        xr, xi = x[rk:rk + k], x[ik:ik + k]
        xrp1, xip1 = x[r_p1:r_p1 + k], x[i_p1:i_p1 + k]
        xrp2, xip2 = x[r_p2:r_p2 + k], x[i_p2:i_p2 + k]
        xrm1, xim1 = x[r_m1:r_m1 + k - 1], x[i_m1:i_m1 + k - 1]
        xrm2, xim2 = x[r_m2:r_m2 + k - 2], x[i_m2:i_m2 + k - 2]
        for i in range(n_in):  # l = i + 2
            l = i + 2
            cre = (a1r * xrp1[l] - a1i * xip1[l] + a2r * xrp2[l] - a2i * xip2[l]
                   + b1r * xrm1[l] - b1i * xim1[l] + b2r * xrm2[l] - b2i * xim2[l]
                   - (u1r[l] * xr[l + 1] + u1i[l] * xi[l + 1]) - (u2r[l] * xr[l + 2] + u2i[l] * xi[l + 2])
                   - (u1r[l - 1] * xr[l - 1] - u1i[l - 1] * xi[l - 1])
                   - (u2r[l - 2] * xr[l - 2] - u2i[l - 2] * xi[l - 2]))
            cim = (a1r * xip1[l] + a1i * xrp1[l] + a2r * xip2[l] + a2i * xrp2[l]
                   + b1r * xim1[l] + b1i * xrm1[l] + b2r * xim2[l] + b2i * xrm2[l]
                   - (u1r[l] * xi[l + 1] - u1i[l] * xr[l + 1]) - (u2r[l] * xi[l + 2] - u2i[l] * xr[l + 2])
                   - (u1r[l - 1] * xi[l - 1] + u1i[l - 1] * xr[l - 1])
                   - (u2r[l - 2] * xi[l - 2] + u2i[l - 2] * xr[l - 2]))
            bre[l] += cim
            bim[l] -= cre
    for l in range(k + 1):
        if k >= 5 and lo_in <= l <= hi_in:
            continue
        cre, cim = _hamiltonian_entry(x, o, nre, d, k, l, ur, ui)
        bre[l] += cim
        bim[l] -= cre


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _apply(x, y, boff, bd, coff, a_re, a_im, mv, cp, scal, tptr, tsrc, tshift, trate, aoff, amp, hre, him, rb, rk,
           cuts, dots, shift, scale, tiny):
    w, gam, cpump, cdeph = scal[0], scal[1], scal[2], scal[3]
    dmax = bd.max()
    dots[:, :] = 0.0
    for ch in prange(cuts.size - 1):
        bre = np.empty(dmax)
        bim = np.empty(dmax)
        for r in range(cuts[ch], cuts[ch + 1]):
            b = rb[r]
            k = rk[r]
            d = bd[b]
            o = boff[b]
            nre = d * (d + 1) // 2
            co = coff[b]
            cpb = co + b  # padded c: cp[cpb + i] = c_{i-1}, i = 0..d
            ck1 = cp[cpb + k]  # c_{k-1}
            ck = cp[cpb + k + 1]  # c_k
            gk = gam * ck1
            gp = cpump * ck
            akr = a_re[co + k] - shift
            aki = a_im[co + k]
            dmk = cdeph * mv[co + k]
            # edges: l = 0, k - 1, k (bounds and the diagonal / upper triangle)
            for e in range(3):  # l = k, k - 1, 0 (each once)
                l = k - e if e < 2 else 0
                if l < 0 or (e == 2 and k < 2):
                    continue
                dre = akr + a_re[co + l] + dmk * mv[co + l]
                dim = aki - a_im[co + l]
                ore, oim = _entry(x, o, nre, d, k, l, dre, dim, w, cp[cpb + l], cp[cpb + l + 1], ck1, ck, gk, gp)
                bre[l] = ore
                bim[l] = oim
            # interior 1 <= l <= k - 2: every neighbour is strictly below the diagonal
            rk0 = o + k * (k + 1) // 2
            ik0 = o + nre + k * (k - 1) // 2
            rkm = o + (k - 1) * k // 2
            ikm = o + nre + (k - 1) * (k - 2) // 2
            hp = k + 1 < d
            rkp = o + (k + 1) * (k + 2) // 2 if hp else rk0
            ikp = o + nre + (k + 1) * k // 2 if hp else ik0
            # (slices and a loop index from 0: numba then drops its negative-index checks and vectorises)
            if k >= 3:
                n_in = k - 2
                xr, xi = x[rk0:rk0 + k], x[ik0:ik0 + k]
                xrm, xim = x[rkm:rkm + k], x[ikm:ikm + k]
                xrp, xip = x[rkp:rkp + k + 1], x[ikp:ikp + k + 1]
                ar, ai, mb, cb = a_re[co:co + d], a_im[co:co + d], mv[co:co + d], cp[cpb:cpb + d + 1]
                for i in range(n_in):  # l = i + 1
                    rr = xr[i + 1]
                    ri = xi[i + 1]
                    dre = akr + ar[i + 1] + dmk * mb[i + 1]
                    dim = aki - ai[i + 1]
                    cl1 = cb[i + 1]
                    cl = cb[i + 2]
                    sre = cl1 * xr[i] + cl * xr[i + 2] - ck1 * xrm[i + 1] - ck * xrp[i + 1]
                    sim = cl1 * xi[i] + cl * xi[i + 2] - ck1 * xim[i + 1] - ck * xip[i + 1]
                    bre[i + 1] = dre * rr - dim * ri - w * sim + gk * cl1 * xrm[i] + gp * cl * xrp[i + 2]
                    bim[i + 1] = dre * ri + dim * rr + w * sre + gk * cl1 * xim[i] + gp * cl * xip[i + 2]
            # local processes: rho_src[k - shift, l - shift], contiguous in l
            for t in range(tptr[b], tptr[b + 1]):
                bs = tsrc[t]
                sh = tshift[t]
                ks = k - sh
                ds = bd[bs]
                if ks < 0 or ks >= ds:
                    continue
                os_ = boff[bs]
                nres = ds * (ds + 1) // 2
                ao = aoff[t]
                gks = trate[t] * amp[ao + ks]
                rs = os_ + ks * (ks + 1) // 2 - sh
                is_ = os_ + nres + ks * (ks - 1) // 2 - sh
                l0 = max(sh, 0)
                if k > l0:
                    ampv = amp[ao + l0 - sh:ao + k - sh]
                    sr = x[rs + l0:rs + k]
                    si = x[is_ + l0:is_ + k]
                    br = bre[l0:k]
                    bi = bim[l0:k]
                    for i in range(k - l0):  # one output stream per loop: vectorises
                        br[i] += gks * ampv[i] * sr[i]
                    for i in range(k - l0):
                        bi[i] += gks * ampv[i] * si[i]
                if k >= l0:  # l = k: the source diagonal (real)
                    bre[k] += gks * amp[ao + ks] * x[rs + k]
            if hre.shape[1] > 0:  # a general Hamiltonian
                _hamiltonian_row(x, o, nre, d, k, hre[:, co:co + d], him[:, co:co + d], bre, bim)
            xy = 0.0
            yy = 0.0
            for l in range(k + 1):
                v = scale * bre[l]
                v = v if abs(v) >= tiny else 0.0
                y[rk0 + l] = v
                xy += v * x[rk0 + l]
                yy += v * v
            for l in range(k):
                v = scale * bim[l]
                v = v if abs(v) >= tiny else 0.0
                y[ik0 + l] = v
                xy += v * x[ik0 + l]
                yy += v * v
            dots[ch, 0] += xy
            dots[ch, 1] += yy


class PackedGenerator:
    """The packed real generator of ``model`` on ``layout`` as a matrix-free operator (``dot``)."""

    def __init__(self, model: Model, layout):
        self.shape = (layout.n, layout.n)
        self.dtype = np.dtype(float)
        dims = np.asarray(layout.dims, np.int64)
        coff = np.concatenate([[0], np.cumsum(dims)]).astype(np.int64)
        a_re, a_im, mv, cp, hb = [], [], [], [], []
        for j, d in zip(layout.j, dims):
            bands = hamiltonian_bands(model, j)
            m, c, a = block_coefficients(model, j, bands)
            a_re.append(a.real)
            a_im.append(a.imag)
            mv.append(m)
            cp.append(np.concatenate([[0.0], c, [0.0]]))
            if bands is not None:  # u^p_i = H[i, i+p], padded to d entries
                hb.append(np.array([np.concatenate([bands.get(p, np.zeros(0)), np.zeros(min(p, d))])[:d]
                                    for p in (1, 2)]))
        h = np.concatenate(hb, axis=1) if hb else np.zeros((2, 0), complex)
        terms = [[] for _ in dims]  # per target block: (source block, shift, rate, amplitudes)
        for proc, dm in dicke.LOCAL_PROCESSES.items():
            rate = float(getattr(model, proc))
            if rate == 0:
                continue
            if not layout.complete:
                raise ValueError("a truncated Layout cannot hold the local processes")
            for b, j in enumerate(layout.j):
                for dj, ampl in dicke.local_channels(model.N, float(j), proc).items():
                    terms[b - dj].append((b, dj - dm, rate, np.asarray(ampl, float)))
        flat = [t for ts in terms for t in ts]
        self._args = (
            np.asarray(layout.offsets, np.int64), dims, coff,
            np.concatenate(a_re), np.concatenate(a_im), np.concatenate(mv), np.concatenate(cp),
            np.array([0.5 * model.omega if not hb else 0.0, model.gamma, model.collective_pumping,
                      model.collective_dephasing]),
            np.concatenate([[0], np.cumsum([len(ts) for ts in terms])]).astype(np.int64),
            np.array([t[0] for t in flat], np.int64), np.array([t[1] for t in flat], np.int64),
            np.array([t[2] for t in flat], float),
            np.concatenate([[0], np.cumsum([t[3].size for t in flat])]).astype(np.int64)[:-1] if flat
            else np.zeros(0, np.int64),
            np.concatenate([t[3] for t in flat]) if flat else np.zeros(1),
            np.ascontiguousarray(h.real), np.ascontiguousarray(h.imag),
        )
        # rows (block, k) in contiguous chunks of equal work (~ k + 1 per row); neighbouring rows
        # share their reads, so a chunk keeps them together
        rb = np.repeat(np.arange(dims.size), dims)
        rk = np.concatenate([np.arange(d) for d in dims])
        work = np.cumsum(rk + 1.0)
        nchunk = 64  # fixed, not per thread: the per-chunk sums of ``dots`` are then thread-independent
        cuts = np.searchsorted(work, np.linspace(0, work[-1], nchunk + 1)[1:-1])
        self._rows = (rb.astype(np.int64), rk.astype(np.int64),
                      np.unique(np.concatenate([[0], cuts, [rb.size]])).astype(np.int64))

    #: ``dot`` takes ``out``, ``dots``, ``shift``, ``scale`` and ``tiny`` (used by the Krylov bases of
    #: :mod:`piqs_squeeze.methods.exact.steppers`)
    supports_out = True

    def dot(self, x, out=None, dots=None, shift=0.0, scale=1.0, tiny=0.0):
        """y = scale (L x - shift x) (into ``out``), entries below ``tiny`` in modulus set to 0; with
        ``dots`` (array (2,)) also (x . y, y . y) from the same pass."""
        y = np.empty(self.shape[0]) if out is None else out
        part = np.empty((self._rows[2].size - 1, 2))
        _apply(np.ascontiguousarray(x, dtype=float), y, *self._args, *self._rows, part, float(shift), float(scale),
               float(tiny))
        if dots is not None:
            dots[:] = part.sum(axis=0)
        return y

    __matmul__ = dot
