"""Time steppers for the linear, time-independent system dx/dt = A x of the exact solver.

``krylov``: adaptive Arnoldi (polynomial Krylov) propagation of exp(t A) x, in the manner of
Expokit (Sidje, ACM TOMS 24, 130 (1998)): each step builds an m-dimensional Krylov space
V_m, H_m = V_m^T A V_m and uses x(t + s) ~ beta V_m exp(s H_m) e_1 for every s up to the step
size h, which is chosen as large as the a-posteriori error estimate allows,

    err(h) = beta h_{m+1,m} |e_m^T h phi_1(h H_m) e_1|,       phi_1(z) = (e^z - 1) / z,

(the norm of the exactly known residual integrated over the step) kept below
``rtol * max(|x|, atol_scale) * h / T``. Every output time inside a step is read off the same
space, so outputs cost no extra products. The orthonormal basis comes from
:func:`_local_basis` (local Gram-Schmidt while the vectors are built, one Cholesky of their Gram
matrix per step: 2 passes over the data per product, threaded numba kernels), with full
Gram-Schmidt (:func:`_arnoldi`) as the fallback when that basis is ill-conditioned.

``solve_ivp:<method>``: scipy's integrators on the same sparse operator (for comparison).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
from numba import njit, prange

__all__ = ["krylov_propagate", "ivp_propagate"]

#: LLVM flags of the threaded kernels: reassociation (vectorised sums) and FMA contraction only;
#: with numba's full ``fastmath=True`` a freshly compiled kernel and its cached copy differed in
#: the last bit, which broke bit-identical sweeps across processes
FASTMATH = {"reassoc", "contract"}


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


def _local_basis(A, x, m, max_cond=1e6, work=None):
    """Krylov basis orthogonalised locally while it is built and globally once, from its Gram matrix.

    z_0 = x / |x|; z_{k+1} = (A z_k - b_kk z_k) / b_{k+1,k} with b_kk = z_k . A z_k / z_k . z_k
    (Gram-Schmidt against the previous vector only: cond(Z) ~ 1e4 measured at N = 40, and the same
    steps and errors as against the last two vectors at N = 60, 100), so A Z_m = Z_{m+1} B with B
    known exactly. With Z_{m+1}^T Z_{m+1} = R^T R (Cholesky), Q = Z R^-1 is an orthonormal basis of
    the same Krylov space and A Q_m = Q_{m+1} Hbar, Hbar = R B R_m^-1: the Arnoldi relation with
    one Gram matrix per step and, per product, the product pass plus one update pass (an operator
    with ``supports_out``, such as :class:`~piqs_squeeze.exact_kernel.PackedGenerator`, returns
    z_k . A z_k and |A z_k|^2 from its product pass), instead of the ~m passes of full
    Gram-Schmidt. The relation holds whatever the rounding in R, so the residual error estimate of
    :func:`krylov_propagate` stays valid; only the orthogonality of Q depends on cond(Z), which is
    checked. Returns None when cond(Z) exceeds ``max_cond`` or the space is (nearly) invariant:
    use :func:`_arnoldi` then.
    """
    n = x.size
    if work is None or work.shape != (m + 1, n):
        work = np.empty((m + 1, n))
    Z = work  # reused across steps: a fresh 8 (m+1) n bytes per step costs its page faults
    B = np.zeros((m + 1, m))
    beta = np.linalg.norm(x)
    np.multiply(x, 1.0 / beta, out=Z[0])
    into = getattr(A, "supports_out", False)
    dots = np.zeros(2)
    nz2 = float(Z[0] @ Z[0])
    for k in range(m):
        if into:
            A.dot(Z[k], out=Z[k + 1], dots=dots)
        else:
            Z[k + 1] = A.dot(Z[k])
            dots[:] = Z[k] @ Z[k + 1], Z[k + 1] @ Z[k + 1]
        # |w - c z_k|^2 = w.w - (z_k.w)^2 / z_k.z_k. Where that cancels badly the stored vector is
        # not quite of unit norm, which the Gram matrix below accounts for exactly.
        c = dots[0] / nz2
        s2 = dots[1] - c * dots[0]
        if not (np.isfinite(s2) and s2 > 1e-16 * dots[1]):
            return None
        s = np.sqrt(s2)
        _axpy_scale(Z[k + 1], Z[k], c, 1.0 / s)
        B[k, k] = c
        B[k + 1, k] = s
        nz2 = 1.0
    try:
        R = np.linalg.cholesky(_gram(Z)).T
    except np.linalg.LinAlgError:
        return None
    d = np.abs(np.diag(R))
    if not np.all(np.isfinite(R)) or d.min() * max_cond < d.max():
        return None
    Hbar = R @ B @ sla.solve_triangular(R[:m, :m], np.eye(m), lower=False)
    return Z, R, Hbar, beta


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _axpy_scale(w, z, c, f):
    """w = (w - c z) f, one threaded pass."""
    n = w.size
    step = (n + 63) // 64
    for ch in prange(64):
        for t in range(ch * step, min(n, (ch + 1) * step)):
            w[t] = (w[t] - c * z[t]) * f


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _gram(Z):
    """Z Z^T, threaded over column chunks (numba, not BLAS: BLAS threads spinning next to numba's
    made the whole run 4x slower on 2 cores)."""
    p, n = Z.shape
    step = 2048  # p rows of a chunk stay in L2 while every pair is summed
    nch = (n + step - 1) // step
    part = np.zeros((nch, p, p))
    for ch in prange(nch):
        a, b = ch * step, min(n, (ch + 1) * step)
        for i in range(p):
            zi = Z[i, a:b]
            for j in range(i, p):
                zj = Z[j, a:b]
                acc = 0.0
                for t in range(b - a):
                    acc += zi[t] * zj[t]
                part[ch, i, j] = acc
    G = np.zeros((p, p))
    for ch in range(nch):
        G += part[ch]
    for i in range(p):
        for j in range(i):
            G[i, j] = G[j, i]
    return G


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def _combine(Z, c):
    """sum_k c_k Z[k] (threaded)."""
    p, n = Z.shape
    out = np.empty(n)
    nch = 64
    step = (n + nch - 1) // nch
    for ch in prange(nch):
        a, b = ch * step, min(n, (ch + 1) * step)
        for t in range(a, b):
            out[t] = 0.0
        for k in range(p):
            ck = c[k]
            zk = Z[k, a:b]
            o = out[a:b]
            for t in range(b - a):
                o[t] += ck * zk[t]
    return out


def _exp_and_err(Hm, hnext, beta, s):
    """(exp(s H_m) e_1, error estimate of the step of length s)."""
    m = Hm.shape[0]
    aug = np.zeros((m + 1, m + 1))
    aug[:m, :m] = s * Hm
    aug[0, m] = s  # last column of expm(aug) = s phi_1(s H) e_1
    E = sla.expm(aug)
    return E[:m, 0], beta * hnext * abs(E[m - 1, m])


def krylov_propagate(A, x0, times, *, rtol=1e-8, m=30, on_output=None, progress=None, local=True):
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
        Build the basis with :func:`_local_basis` (default) rather than full Gram-Schmidt.

    Returns
    -------
    dict with ``products`` (matrix-vector products), ``steps``, ``local_steps`` (steps whose basis
    came from :func:`_local_basis`).
    """
    times = np.asarray(times, float)
    T = max(times[-1] - times[0], 1e-300)
    x = np.array(x0, dtype=float)
    t = times[0]
    on_output(0, t, x)
    i = 1
    products = steps = local_steps = 0
    h = None
    scale = np.linalg.norm(x)
    work = np.empty((m + 1, x.size)) if local else None
    while i < times.size:
        basis = _local_basis(A, x, m, work=work) if local else None
        if local and basis is None:
            products += m  # spent on the rejected basis
        if basis is not None:
            Z, R, H, beta = basis
            mk, breakdown = m, False
            local_steps += 1

            def combine(y, Z=Z, Rm=R[:m, :m], beta=beta):
                return _combine(Z[:m], sla.solve_triangular(Rm, beta * y, lower=False))
        else:
            V, H, beta, mk, breakdown = _arnoldi(A.dot, x, m)

            def combine(y, V=V, mk=mk, beta=beta):
                return V[:mk].T @ (beta * y)
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
            on_output(i, times[i], combine(y))
            i += 1
        if i >= times.size:
            if progress is not None:
                progress.update(times[-1] - t)
            break
        y, _ = _exp_and_err(Hm, 0.0, beta, h)
        x = combine(y)
        if progress is not None:
            progress.update(h)
        t = t_end
    return {"products": products, "steps": steps, "local_steps": local_steps}


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
