"""Time steppers for the linear, time-independent system dx/dt = A x of the exact solver.

``krylov``: adaptive Arnoldi (polynomial Krylov) propagation of exp(t A) x, in the manner of
Expokit (Sidje, ACM TOMS 24, 130 (1998)): each step builds an m-dimensional Krylov space
V_m, H_m = V_m^T A V_m and uses x(t + s) ~ beta V_m exp(s H_m) e_1 for every s up to the step
size h, which is chosen as large as the a-posteriori error estimate allows,

    err(h) = beta h_{m+1,m} |e_m^T h phi_1(h H_m) e_1|,       phi_1(z) = (e^z - 1) / z,

(the norm of the exactly known residual integrated over the step) kept below
``rtol * max(|x|, atol_scale) * h / T``. Every output time inside a step is read off the same
space, so outputs cost no extra products.

``solve_ivp:<method>``: scipy's integrators on the same sparse operator (for comparison).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

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


def _exp_and_err(Hm, hnext, beta, s):
    """(exp(s H_m) e_1, error estimate of the step of length s)."""
    m = Hm.shape[0]
    aug = np.zeros((m + 1, m + 1))
    aug[:m, :m] = s * Hm
    aug[0, m] = s  # last column of expm(aug) = s phi_1(s H) e_1
    E = sla.expm(aug)
    return E[:m, 0], beta * hnext * abs(E[m - 1, m])


def krylov_propagate(A, x0, times, *, rtol=1e-8, m=30, on_output=None, progress=None):
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

    Returns
    -------
    dict with ``products`` (matrix-vector products), ``steps``.
    """
    times = np.asarray(times, float)
    T = max(times[-1] - times[0], 1e-300)
    x = np.array(x0, dtype=float)
    t = times[0]
    on_output(0, t, x)
    i = 1
    products = steps = 0
    h = None
    scale = np.linalg.norm(x)
    while i < times.size:
        V, H, beta, mk, breakdown = _arnoldi(A.dot, x, m)
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
            # grow or shrink h until err(h) <= tol_rate * h, with a few tiny expm's
            for _ in range(60):
                _, err = _exp_and_err(Hm, hnext, beta, h)
                if err <= tol_rate * h:
                    if h >= remaining:
                        break
                    h2 = min(2.0 * h, remaining)
                    _, err2 = _exp_and_err(Hm, hnext, beta, h2)
                    if err2 > tol_rate * h2:
                        break
                    h = h2
                else:
                    h *= 0.5
        t_end = t + h
        # outputs inside the step (an output within 1e-13 of t_end counts as reached)
        while i < times.size and times[i] <= t_end * (1 + 1e-13) + 1e-300:
            y, _ = _exp_and_err(Hm, 0.0, beta, times[i] - t)
            on_output(i, times[i], V[:mk].T @ (beta * y))
            i += 1
        if i >= times.size:
            if progress is not None:
                progress.update(times[-1] - t)
            break
        y, _ = _exp_and_err(Hm, 0.0, beta, h)
        x = V[:mk].T @ (beta * y)
        if progress is not None:
            progress.update(h)
        t = t_end
    return {"products": products, "steps": steps}


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
