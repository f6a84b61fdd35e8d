"""Time steppers for the linear, time-independent system dx/dt = A x of the exact solver.

``krylov``: adaptive Arnoldi (polynomial Krylov) propagation of exp(t A) x, in the manner of
Expokit (Sidje, ACM TOMS 24, 130 (1998)): each step builds an m-dimensional Krylov space
V_m, H_m = V_m^T A V_m and uses x(t + s) ~ beta V_m exp(s H_m) e_1 for every s up to the step
size h, which is chosen as large as the a-posteriori error estimate allows,

    err(h) = beta h_{m+1,m} |e_m^T h phi_1(h H_m) e_1|,       phi_1(z) = (e^z - 1) / z,

(the norm of the exactly known residual integrated over the step) kept below
``rtol * max(|x|, atol_scale) * h / T``. Every output time inside a step is read off the same
space, so outputs cost no extra products. The orthonormal basis comes from
:func:`_shifted_basis` (the previous step's recurrence applied inside the product pass: one pass
over the data per product) or, on the first step and when that basis is ill-conditioned,
:func:`_local_basis` (local Gram-Schmidt: 2 passes per product); both are orthonormalised by one
Cholesky of their Gram matrix per step (threaded numba kernels). Full Gram-Schmidt
(:func:`_arnoldi`) is the last fallback.

``solve_ivp:<method>``: scipy's integrators on the same sparse operator (for comparison).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
from numba import njit, prange

from .numerics import FASTMATH

__all__ = ["krylov_propagate", "ivp_propagate"]


def _arnoldi(apply, v, m):
    """Arnoldi for the operator ``apply`` (a product A @ x, or a solve), classical Gram-Schmidt with DGKS
    re-orthogonalization: V (m+1, n), H (m+1, m), beta = |v|, dimension, breakdown."""
    n = v.size
    V = np.empty((m + 1, n))
    H = np.zeros((m + 1, m))
    beta = np.linalg.norm(v)
    V[0] = v / beta
    for k in range(m):
        w = apply(V[k])
        wnorm = np.linalg.norm(w)
        for _ in range(2):  # classical Gram-Schmidt, repeated when cancellation was strong (DGKS)
            h = V[: k + 1] @ w
            w -= h @ V[: k + 1]
            H[: k + 1, k] += h
            new = np.linalg.norm(w)
            if new > 0.7 * wnorm:
                break
            wnorm = new
        H[k + 1, k] = new
        if H[k + 1, k] <= 1e-14 * max(1.0, np.abs(H[: k + 1, k]).max()):  # V is orthonormal: scale-free
            return V[: k + 1], H[: k + 1, : k + 1], beta, k + 1, True
        V[k + 1] = w / H[k + 1, k]
    return V, H, beta, m, False


def _product(A, z, out, dots, nz2, shift=0.0, scale=1.0):
    """out = scale (A z - shift z) and dots = (z . out, out . out): one fused pass for an operator
    with ``supports_out`` (:class:`~piqs_squeeze.methods.exact.kernels.PackedGenerator`, which also sets
    entries below ``FLUSH |z|`` to 0), numpy otherwise; ``nz2`` = |z|^2."""
    if getattr(A, "supports_out", False):
        A.dot(z, out=out, dots=dots, shift=shift, scale=scale, tiny=FLUSH * np.sqrt(nz2))
    else:
        out[:] = A.dot(z)
        if shift != 0.0:
            out -= shift * z
        if scale != 1.0:
            out *= scale
        dots[:] = z @ out, out @ out


def _local_basis(A, Z, m, nx2, max_cond=1e6):
    """Krylov basis of x = Z[0] orthogonalised locally while it is built and globally once, from its Gram matrix.

    z_0 = x; z_{k+1} = (A z_k - b_kk z_k) / b_{k+1,k} with b_kk = z_k . A z_k / z_k . z_k
    (Gram-Schmidt against the previous vector only: cond(Z) ~ 1e4 measured at N = 40, and the same
    steps and errors as against the last two vectors at N = 60, 100), so A Z_m = Z_{m+1} B with B
    known exactly; :func:`_orthonormalize` then gives the Arnoldi relation. Per product: the product
    pass (which returns z_k . A z_k and |A z_k|^2 for an operator with ``supports_out``) plus one
    update pass, instead of the ~m passes of full Gram-Schmidt. ``nx2`` = |x|^2.

    Returns ``(Z, R, Hbar, beta, coef)`` as :func:`_orthonormalize`, ``coef`` being the recurrence
    (shifts, residual norms of the normalised vectors) for :func:`_shifted_basis`; None when the
    basis is ill-conditioned or (nearly) invariant (use :func:`_arnoldi` then).
    """
    B = np.zeros((m + 1, m))
    dots = np.zeros(2)
    shifts, res = np.empty(m), np.empty(m)
    nz2 = nx2
    for k in range(m):
        _product(A, Z[k], Z[k + 1], dots, nz2)
        # |w - c z_k|^2 = w.w - (z_k.w)^2 / z_k.z_k. Where that cancels badly the stored vector is
        # not quite of unit norm, which the Gram matrix accounts for exactly.
        c = dots[0] / nz2
        s2 = dots[1] - c * dots[0]
        if not (np.isfinite(s2) and s2 > 1e-16 * dots[1]):
            return None
        s = np.sqrt(s2)
        _axpy_scale(Z[k + 1], Z[k], c, 1.0 / s)
        B[k, k] = c
        B[k + 1, k] = s
        shifts[k], res[k] = c, s / np.sqrt(nz2)
        nz2 = 1.0
    out = _orthonormalize(Z, B, m, max_cond)
    return None if out is None else out + ((shifts, res),)


def _shifted_basis(A, Z, m, nx2, coef, max_cond=1e6):
    """Krylov basis of x = Z[0] from a recurrence fixed in advance: one pass per product.

    z_{k+1} = f_k (A z_k - c_k z_k), f_k = 1 / (r_k |z_k|), with the shifts c_k and residual norms
    r_k of the previous step's basis (:func:`_local_basis` or this function), so A Z_m = Z_{m+1} B
    with B[k, k] = c_k, B[k+1, k] = 1 / f_k exactly and the product pass is the only pass over the
    data (the shift and scale are applied inside it). The propagated vector changes little over one
    step, so the previous step's locally optimal recurrence keeps the basis about as well
    conditioned as :func:`_local_basis`; the Rayleigh quotients z_k . A z_k / |z_k|^2 and residual
    norms measured in the same passes give the recurrence for the next step. Same returns as
    :func:`_local_basis`.
    """
    shifts, res = coef
    B = np.zeros((m + 1, m))
    dots = np.zeros(2)
    new_shifts, new_res = np.empty(m), np.empty(m)
    nz2 = nx2
    for k in range(m):
        f = 1.0 / (res[k] * np.sqrt(nz2))
        _product(A, Z[k], Z[k + 1], dots, nz2, shifts[k], f)
        # A z_k = z_{k+1} / f + c_k z_k, so z_k . A z_k = z_k . z_{k+1} / f + c_k |z_k|^2
        rq = shifts[k] + dots[0] / (f * nz2)
        r2 = dots[1] / (f * f * nz2) - (rq - shifts[k]) ** 2
        if not (np.isfinite(r2) and r2 > 1e-16 * dots[1] / (f * f * nz2)):
            return None
        B[k, k] = shifts[k]
        B[k + 1, k] = 1.0 / f
        new_shifts[k], new_res[k] = rq, np.sqrt(r2)
        nz2 = dots[1]
    out = _orthonormalize(Z, B, m, max_cond)
    return None if out is None else out + ((new_shifts, new_res),)


def _orthonormalize(Z, B, m, max_cond):
    """From A Z_m = Z_{m+1} B: (Z, R, Hbar, beta) with Z_{m+1}^T Z_{m+1} = R^T R (Cholesky of the
    Gram matrix, columns scaled to unit norm first), so that Q = Z R^-1 is an orthonormal basis of
    the same Krylov space, A Q_m = Q_{m+1} Hbar with Hbar = R B R_m^-1, and x = z_0 = beta q_0.
    The relation holds whatever the rounding in R, so the residual error estimate of
    :func:`krylov_propagate` stays valid; only the orthogonality of Q depends on cond(Z), which is
    checked (None when the scaled Cholesky factor's diagonal spans more than ``max_cond``)."""
    G = _gram(Z)
    dg = np.sqrt(np.diag(G))
    if not (np.all(np.isfinite(dg)) and dg.min() > 0):
        return None
    try:
        Rs = np.linalg.cholesky(G / np.outer(dg, dg)).T
    except np.linalg.LinAlgError:
        return None
    d = np.abs(np.diag(Rs))
    if not np.all(np.isfinite(Rs)) or d.min() * max_cond < d.max():
        return None
    R = Rs * dg
    Hbar = R @ B @ sla.solve_triangular(R[:m, :m], np.eye(m), lower=False)
    return Z, R, Hbar, R[0, 0]


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _axpy_scale(w, z, c, f):
    """w = (w - c z) f, one threaded pass."""
    n = w.size
    step = (n + 63) // 64
    for ch in prange(64):
        for t in range(ch * step, min(n, (ch + 1) * step)):
            w[t] = (w[t] - c * z[t]) * f


@njit(inline="always")
def _dots44(x0, x1, x2, x3, y0, y1, y2, y3):
    """The 16 dot products x_a . y_b in one pass (register-blocked: 8 loads per 16 multiply-adds)."""
    a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = a20 = a21 = a22 = a23 = a30 = a31 = a32 = a33 = 0.0
    for t in range(x0.size):
        u0, u1, u2, u3 = x0[t], x1[t], x2[t], x3[t]
        v0, v1, v2, v3 = y0[t], y1[t], y2[t], y3[t]
        a00 += u0 * v0
        a01 += u0 * v1
        a02 += u0 * v2
        a03 += u0 * v3
        a10 += u1 * v0
        a11 += u1 * v1
        a12 += u1 * v2
        a13 += u1 * v3
        a20 += u2 * v0
        a21 += u2 * v1
        a22 += u2 * v2
        a23 += u2 * v3
        a30 += u3 * v0
        a31 += u3 * v1
        a32 += u3 * v2
        a33 += u3 * v3
    return (a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33)


@njit(inline="always")
def _dots14(x, y0, y1, y2, y3):
    a0 = a1 = a2 = a3 = 0.0
    for t in range(x.size):
        u = x[t]
        a0 += u * y0[t]
        a1 += u * y1[t]
        a2 += u * y2[t]
        a3 += u * y3[t]
    return (a0, a1, a2, a3)


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _gram(Z):
    """Z Z^T, threaded over column chunks that stay in L2 while 4 x 4 blocks of row pairs are
    summed (numba, not BLAS: BLAS threads spinning next to numba's slow the whole run down;
    benchmarks/results/notes.md). Memory-bound at large N."""
    p, n = Z.shape
    step = 4096
    nch = (n + step - 1) // step
    q = p - p % 4
    part = np.zeros((nch, p, p))
    for ch in prange(nch):
        a, b = ch * step, min(n, (ch + 1) * step)
        P = part[ch]
        for ib in range(0, q, 4):
            for jb in range(ib, q, 4):
                acc = _dots44(Z[ib, a:b], Z[ib + 1, a:b], Z[ib + 2, a:b], Z[ib + 3, a:b],
                              Z[jb, a:b], Z[jb + 1, a:b], Z[jb + 2, a:b], Z[jb + 3, a:b])
                for u in range(4):
                    for v in range(4):
                        P[ib + u, jb + v] = acc[4 * u + v]
        for r in range(q, p):  # the rows left over: against every row up to themselves
            x = Z[r, a:b]
            for jb in range(0, r + 1, 4):
                acc4 = _dots14(x, Z[jb, a:b], Z[min(jb + 1, r), a:b], Z[min(jb + 2, r), a:b],
                               Z[min(jb + 3, r), a:b])
                for v in range(min(4, r + 1 - jb)):
                    P[jb + v, r] = acc4[v]
    G = np.zeros((p, p))
    for ch in range(nch):
        for i in range(p):
            for j in range(i, p):
                G[i, j] += part[ch, i, j]
    for i in range(p):
        for j in range(i):
            G[i, j] = G[j, i]
    return G


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _combine(Z, c, out, tiny=0.0):
    """out = sum_k c_k Z[k] (threaded; ``out`` may be a row of ``Z``), entries below ``tiny`` in
    modulus set to 0; returns |out|^2."""
    p, n = Z.shape
    nch = 64
    step = (n + nch - 1) // nch
    part = np.zeros(nch)
    for ch in prange(nch):
        a, b = ch * step, min(n, (ch + 1) * step)
        buf = np.zeros(max(b - a, 0))
        for k in range(p):
            ck = c[k]
            zk = Z[k, a:b]
            for t in range(b - a):
                buf[t] += ck * zk[t]
        acc = 0.0
        for t in range(b - a):
            v = buf[t] if abs(buf[t]) >= tiny else 0.0
            out[a + t] = v
            acc += v * v
        part[ch] = acc
    total = 0.0
    for ch in range(nch):  # in chunk order: ``part.sum()`` would be a threaded reduction
        total += part[ch]
    return total


#: entries of the propagated vector and of the Krylov vectors below this fraction of their norm
#: are set to zero. The far tails of a state (the j blocks many spontaneous emissions away at early
#: times, the extremes of a coherent state) hold entries of 1e-200 and less, whose products in the
#: Gram matrix underflow; arithmetic with subnormal results is ~100x slower (benchmarks/results/exact.md).
#: Entries of 1e-150 |x| or more keep every product above 1e-300, and a
#: change of 1e-150 of the norm is far below any tolerance.
FLUSH = 1e-150


def _exp_and_err(Hm, hnext, beta, s):
    """(exp(s H_m) e_1, error estimate of the step of length s)."""
    m = Hm.shape[0]
    aug = np.zeros((m + 1, m + 1))
    aug[:m, :m] = s * Hm
    aug[0, m] = s  # last column of expm(aug) = s phi_1(s H) e_1
    E = sla.expm(aug)
    return E[:m, 0], beta * hnext * abs(E[m - 1, m])


def krylov_propagate(A, x0, times, *, rtol=1e-8, m=30, on_output=None, progress=None, local=True, on_step=None):
    """Propagate x' = A x from x(times[0]) = x0 to every output time.

    Parameters
    ----------
    A : sparse matrix or LinearOperator (n x n, real)
    x0 : (n,) real
    times : increasing output times; ``times[0]`` is the initial time
    rtol : float
        Local error per unit time relative to |x|, scaled so the total error over
        ``times[-1] - times[0]`` stays below ``rtol |x|``.
    m : int
        Krylov dimension per step.
    on_output : callable(i, t, x)
        Called at every output time (including ``times[0]``).
    progress : tqdm-like object with ``update(dt)`` or None
    local : bool
        Build the basis with :func:`_shifted_basis` / :func:`_local_basis` (default) rather than
        full Gram-Schmidt.
    on_step : callable() or None
        Called after every step (the exact solver re-reads the machine's load there).

    Returns
    -------
    dict with ``products`` (matrix-vector products), ``steps``, ``local_steps`` (steps whose basis
    came from :func:`_local_basis` or :func:`_shifted_basis`), ``shifted_steps`` (from
    :func:`_shifted_basis`: one pass per product).
    """
    times = np.asarray(times, float)
    T = max(times[-1] - times[0], 1e-300)
    # the basis lives in one workspace (fresh arrays per step cost their page faults), the current
    # state in its first row
    work = np.empty((m + 1 if local else 1, np.size(x0)))
    x = work[0]
    nx2 = _combine(np.asarray(x0, float)[None, :], np.ones(1), x, FLUSH * np.linalg.norm(x0))
    t = times[0]
    on_output(0, t, x.copy())
    i = 1
    products = steps = local_steps = shifted_steps = 0
    h = None
    coef = None
    scale = np.sqrt(nx2)
    while i < times.size:
        basis = None
        if local and coef is not None:
            basis = _shifted_basis(A, work, m, nx2, coef)
            if basis is None:
                products += m  # spent on the rejected basis
            else:
                shifted_steps += 1
        if local and basis is None:
            basis = _local_basis(A, work, m, nx2)
            if basis is None:
                products += m
        if basis is not None:
            Z, R, H, beta, coef = basis
            mk, breakdown = m, False
            local_steps += 1

            def combine(y, out=None, Z=Z, Rm=R[:m, :m], beta=beta):
                out = np.empty(Z.shape[1]) if out is None else out
                return out, _combine(Z[:m], sla.solve_triangular(Rm, beta * y, lower=False), out,
                                     FLUSH * beta * np.linalg.norm(y))
        else:
            coef = None
            V, H, beta, mk, breakdown = _arnoldi(A.dot, x.copy(), m)

            def combine(y, out=None, V=V, mk=mk, beta=beta):
                out = np.empty(V.shape[1]) if out is None else out
                return out, _combine(V[:mk], beta * y, out, FLUSH * beta * np.linalg.norm(y))
        products += mk
        steps += 1
        Hm = H[:mk, :mk]
        hnext = 0.0 if breakdown else H[mk, mk - 1]
        tol_rate = rtol * scale / T
        remaining = times[-1] - t
        if breakdown:
            h = remaining
        else:
            if h is None:
                h = min(remaining, 1.0 / max(np.abs(Hm).max(), 1e-300))
            h = min(h, remaining)
            h = _largest_step(Hm, hnext, beta, h, remaining, tol_rate)
        t_end = t + h
        # outputs inside the step (an output within 1e-13 of t_end counts as reached)
        while i < times.size and times[i] <= t_end * (1 + 1e-13) + 1e-300:
            y, _ = _exp_and_err(Hm, 0.0, beta, times[i] - t)
            on_output(i, times[i], combine(y)[0])
            i += 1
        if i >= times.size:
            if progress is not None:
                progress.update(times[-1] - t)
            break
        y, _ = _exp_and_err(Hm, 0.0, beta, h)
        nx2 = combine(y, out=x)[1]  # in place: _combine reads each chunk of every row before writing it
        if progress is not None:
            progress.update(h)
        if on_step is not None:
            on_step()
        t = t_end
    return {"products": products, "steps": steps, "local_steps": local_steps, "shifted_steps": shifted_steps}


def _largest_step(Hm, hnext, beta, h, remaining, tol_rate):
    """Largest step (within 2 %, at most ``remaining``) whose error estimate is <= tol_rate * step:
    doubling/halving from the previous step to a bracket, then bisection in log h."""
    def ok(s):
        return _exp_and_err(Hm, hnext, beta, s)[1] <= tol_rate * s

    if ok(h):
        lo = h
        while lo < remaining:
            hi = min(2.0 * lo, remaining)
            if not ok(hi):
                break
            lo = hi
        else:
            return remaining
    else:
        hi = h
        for _ in range(80):
            lo = 0.5 * hi
            if ok(lo):
                break
            hi = lo
        else:
            raise RuntimeError("Krylov step size underflow: the error estimate cannot be met")
    for _ in range(5):  # log-bisection of [lo, hi]: within 2^(1/32) of the largest
        mid = np.sqrt(lo * hi)
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def ivp_propagate(A, x0, times, *, method="DOP853", rtol=1e-8, atol=1e-12, on_output=None, progress=None):
    """scipy.integrate.solve_ivp on x' = A x (a baseline for the benchmarks)."""
    from scipy.integrate import solve_ivp

    count = [0]

    def rhs(_t, x):
        count[0] += 1
        return A @ x

    kw = {"jac": A} if method in ("BDF", "Radau", "LSODA") else {}
    sol = solve_ivp(rhs, (times[0], times[-1]), np.asarray(x0, float), method=method, t_eval=times,
                    rtol=rtol, atol=atol, **kw)
    if not sol.success:
        raise RuntimeError(f"solve_ivp({method}) failed: {sol.message}")
    for i, t in enumerate(sol.t):
        on_output(i, t, sol.y[:, i])
    if progress is not None:
        progress.update(times[-1] - times[0])
    return {"products": count[0], "steps": int(sol.t.size)}
