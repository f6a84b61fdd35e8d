"""Batched integration of the derived moment equations (shared by cumulant and mean field).

The equations of :mod:`piqs_squeeze.methods.moments.derivation` are linear in the moment vector
m = (1, s, C, T) (order 2) or m = (1, s, C, T, Q) (order 3); a model enters only through its
coefficient matrix

    K_model(t) = sum_r rate_r(t) (A_r + N B_r) + sum_key h_key(t) (A_key + N B_key),
    dy/dt = K_model(t) m(y),

(r over the derivation's RATES, omega and chi included; key over the terms of the model's extra
Hamiltonian, :data:`~piqs_squeeze.methods.moments.derivation.HAMILTONIAN_TERMS`), and a method
only through its closure m(y):

* ``"cumulant"`` (y = s, C; 9 real variables): T_pqr = C_pq s_r + C_qr s_p + C_pr s_q
  - 2 s_p s_q s_r (paper Eq. S11: the third-order joint cumulant of three distinct particles
  set to zero);
* ``"cumulant3"`` (y = s, C, T; 19 real variables): the fourth-order joint cumulant of four
  distinct particles set to zero,

      Q_pqrs = sum_4 T_pqr s_s + sum_3 C_pq C_rs - 2 sum_6 C_pq s_r s_s + 6 s_p s_q s_r s_s

  (sums over the 4, 3 and 6 distinct ways of splitting the labels p, q, r, s into the blocks
  shown);
* ``"meanfield"`` (y = s; 3 variables): C_pq = s_p s_q (distinct particles factorized).

Integrator (choice measured in ``benchmarks/bench_cumulant.py``): the dynamics at large N stay
oscillatory at frequencies ~ N Gamma (measured: eigenvalues of the Jacobian ~ -4 +- 2e4 i at
N = 1e4 in the normal phase, and the solution does oscillate), so implicit solvers take as
many steps as explicit ones (benchmarks/results/cumulant.md, notes.md) and pay for Jacobians and LU on top.  We therefore use the Dormand-Prince 5(4) pair (scipy's own ``RK45`` tableau, same
error norm and step control, 4th-order dense output) compiled with numba, one adaptive step
size per model, models spread over threads with ``prange`` (``scheme="dopri5"``, the default).
With ``scheme`` a ``solve_ivp`` method (e.g. ``"DOP853"``), each model is integrated by
``scipy.integrate.solve_ivp`` (the obvious, slower alternative).

Models whose coefficients depend on time (a :class:`~piqs_squeeze.hamiltonian.Ramp` or another
function of t for omega, chi or a Hamiltonian term) take a slower per-model path whatever the
``scheme``: ``scipy.integrate.solve_ivp`` with the right-hand side

    dy/dt = (K_0 + sum_f f(t) K_f) m(y)

(K_0 from the constant coefficients, one K_f per function of time), restarted at every knot of a
Ramp so that no step straddles a kink of the profile.  Its solve_ivp method is ``scheme``, except
that ``scheme="dopri5"`` (the compiled kernel, which takes constant matrices only) means
``"RK45"`` there (:data:`TIME_DEPENDENT_SCHEME`): the same Dormand-Prince 5(4) pair and step
control, uncompiled.  Constant models of the same batch still go through the compiled kernel.
"""
from __future__ import annotations

import math
from itertools import combinations_with_replacement

import numpy as np
from numba import njit, prange
from scipy.integrate import RK45, solve_ivp

from piqs_squeeze.runtime import threads
from .derivation import HAMILTONIAN_TERMS, RATES, coefficient_tensors, hamiltonian_tensors
from piqs_squeeze.hamiltonian import LINEAR_KEYS, Ramp
from piqs_squeeze.model import Model, check_times
from piqs_squeeze.states import CoherentSpinState, css

__all__ = ["NVAR", "SCHEMES", "TIME_DEPENDENT_SCHEME", "STATUS", "ADVICE", "PAIRS", "coefficient_matrices",
           "time_dependent_matrices", "ramp_knots", "css_variables", "closure", "integrate"]

#: time-stepping schemes: the compiled batched Dormand-Prince 5(4) pair, or a solve_ivp method
SCHEMES = ("dopri5", "DOP853", "RK45", "RK23", "BDF", "Radau", "LSODA")
#: the solve_ivp method of a time-dependent model for ``scheme="dopri5"`` (same pair, uncompiled)
TIME_DEPENDENT_SCHEME = {"dopri5": "RK45"}
NVAR = {"cumulant": 9, "meanfield": 3, "cumulant3": 19}
_MODE = {"cumulant": 0, "meanfield": 1, "cumulant3": 2}
_ORDER = {"cumulant": 2, "meanfield": 2, "cumulant3": 3}  # derivation order of each closure
PAIRS = list(combinations_with_replacement(range(3), 2))
_TRIPLES = list(combinations_with_replacement(range(3), 3))
_QUADS = list(combinations_with_replacement(range(3), 4))
PIDX = np.zeros((3, 3), dtype=np.int64)
for _i, (_a, _b) in enumerate(PAIRS):
    PIDX[_a, _b] = PIDX[_b, _a] = _i
TIDX = np.zeros((3, 3, 3), dtype=np.int64)
for _i, _t in enumerate(_TRIPLES):
    for _p in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
        TIDX[_t[_p[0]], _t[_p[1]], _t[_p[2]]] = _i
TRIP = np.array(_TRIPLES, dtype=np.int64)
QUAD = np.array(_QUADS, dtype=np.int64)


def _quad_tables():
    """Index tables of the fourth-order closure, one row per Q_pqrs (labels a, b, c, d):
    QT[q] = (T index, s index) for abc.d, abd.c, acd.b, bcd.a;  QCC[q] = (C, C) for ab.cd,
    ac.bd, ad.bc;  QCS[q] = (C, s, s) for ab.c.d, ac.b.d, ad.b.c, bc.a.d, bd.a.c, cd.a.b."""
    QT = np.zeros((15, 4, 2), dtype=np.int64)
    QCC = np.zeros((15, 3, 2), dtype=np.int64)
    QCS = np.zeros((15, 6, 3), dtype=np.int64)
    for q, (a, b, c, d) in enumerate(_QUADS):
        QT[q] = [(TIDX[a, b, c], d), (TIDX[a, b, d], c), (TIDX[a, c, d], b), (TIDX[b, c, d], a)]
        QCC[q] = [(PIDX[a, b], PIDX[c, d]), (PIDX[a, c], PIDX[b, d]), (PIDX[a, d], PIDX[b, c])]
        QCS[q] = [(PIDX[a, b], c, d), (PIDX[a, c], b, d), (PIDX[a, d], b, c), (PIDX[b, c], a, d),
                  (PIDX[b, d], a, c), (PIDX[c, d], a, b)]
    return QT, QCC, QCS


QT, QCC, QCS = _quad_tables()
_NM = 35  # moment-vector buffer (order 2 uses its first 20 entries)
# sparsity patterns of the rates' coefficient matrices, row-major (order 2: 62 of 9 x 20 entries;
# order 3: 165 of 19 x 35). A batch whose entries all lie in them (the paper's Hamiltonian and
# every rate) runs the kernel with these constants compiled in, measurably faster than the same
# loop over index arrays passed at run time (benchmarks/results/moments_general_h.md)
NZI, NZK = (np.ascontiguousarray(a, dtype=np.int64)
            for a in np.nonzero(np.any(coefficient_tensors(2) != 0, axis=(0, 3))))
NZI3, NZK3 = (np.ascontiguousarray(a, dtype=np.int64)
              for a in np.nonzero(np.any(coefficient_tensors(3) != 0, axis=(0, 3))))
_NO_INDEX = np.zeros(0, dtype=np.int64)


def coefficient_matrices(models, method) -> np.ndarray:
    """K_model = sum_r rate_r (A_r + N B_r) + sum_key h_key (A_key + N B_key), restricted to the
    method's variables: (B, n, n_m), n_m = 20 moments for ``"cumulant"`` and ``"meanfield"``, 35
    for ``"cumulant3"``.  Constant models only (see :func:`time_dependent_matrices`)."""
    for m in models:
        if m.cavity is not None:
            raise ValueError(f"{m}: a cavity model's moment equations are in piqs_squeeze.methods.moments.cavity")
        if m.time_dependent:
            raise TypeError(f"{m}: its coefficients depend on time; use time_dependent_matrices(model, method) "
                            "or the matrices of model.at(t)")
    order = _ORDER[method]
    K = coefficient_tensors(order)
    n = NVAR[method]
    rates = np.array([[getattr(m, r) for r in RATES] for m in models], dtype=float)
    Ns = np.array([m.N for m in models], dtype=float)
    out = np.einsum("br,rik->bik", rates, K[:, :n, :, 0]) + np.einsum("br,b,rik->bik", rates, Ns, K[:, :n, :, 1])
    h = np.array([[m.hamiltonian.get(key, 0.0) for key in HAMILTONIAN_TERMS] for m in models], dtype=float)
    KH = hamiltonian_tensors(order)
    if np.any(h):  # (paper models skip this: their matrices stay bit-identical)
        out = out + np.einsum("bh,hik->bik", h, KH[:, :n, :, 0]) + np.einsum("bh,b,hik->bik", h, Ns, KH[:, :n, :, 1])
    if method == "meanfield" and (np.any(K[:, :3, 10:]) or np.any(KH[:, :3, 10:])):
        raise AssertionError("one-body equations must not involve three-body moments")
    return np.ascontiguousarray(out)


def time_dependent_matrices(model, method):
    """(K_0, [(f, K_f), ...]) with K_model(t) = K_0 + sum f(t) K_f: K_0 from the constant
    coefficients (:func:`coefficient_matrices`), one (n, n_m) matrix K_f = A + N B per function of
    time f (omega, chi or a Hamiltonian term)."""
    order, n, N = _ORDER[method], NVAR[method], model.N
    const = model.replace(**{name: 0.0 for name in ("omega", "chi") if callable(getattr(model, name))},
                          hamiltonian={k: v for k, v in model.hamiltonian.items() if not callable(v)})
    parts = []
    for name in ("omega", "chi"):
        f = getattr(model, name)
        if callable(f):
            T = coefficient_tensors(order)[RATES.index(name)]
            parts.append((f, T[:n, :, 0] + N * T[:n, :, 1]))
    for key, f in model.hamiltonian.items():
        if callable(f):
            T = hamiltonian_tensors(order)[HAMILTONIAN_TERMS.index(key)]
            parts.append((f, T[:n, :, 0] + N * T[:n, :, 1]))
    return coefficient_matrices([const], method)[0], parts


def _coefficients(model):
    """Every coefficient of the model (numbers or functions of time)."""
    return [model.omega, model.chi, *model.hamiltonian.values()]


def ramp_knots(model) -> np.ndarray:
    """Sorted knots of every Ramp among the model's coefficients (where the profile has kinks)."""
    knots = [c.times for c in _coefficients(model) if isinstance(c, Ramp)]
    return np.unique(np.concatenate(knots)) if knots else np.zeros(0)


def css_variables(state, method) -> np.ndarray:
    """Variables of a product state: s = n, C_pq = n_p n_q, T_pqr = n_p n_q n_r (``"cumulant3"``):
    no correlations between particles."""
    n = np.asarray(state.direction, dtype=float)
    if method == "meanfield":
        return n.copy()
    y = np.concatenate([n, [n[a] * n[b] for a, b in PAIRS]])
    if method == "cumulant3":
        y = np.concatenate([y, [n[a] * n[b] * n[c] for a, b, c in _TRIPLES]])
    return y


def initial_variables(initial, method) -> np.ndarray:
    """None (CSS along -x), a CoherentSpinState, or the method's variable vector."""
    if initial is None:
        initial = css()
    if isinstance(initial, CoherentSpinState):
        return css_variables(initial, method)
    y = np.asarray(initial, dtype=float)
    if y.shape != (NVAR[method],) or not np.all(np.isfinite(y)):
        what = {"cumulant3": "order-3 cumulant", "cumulant": "order-2 cumulant"}.get(method, method)
        raise ValueError(f"initial must be None, a CoherentSpinState or {NVAR[method]} finite "
                         f"{what} variables, got {initial!r}")
    return y.copy()


def closure(y, method) -> np.ndarray:
    """Moment vector m(y) (last axis 20, or 35 for ``"cumulant3"``) with the method's closure
    (see the module docstring); broadcasts over leading axes."""
    y = np.asarray(y, dtype=float)
    s = y[..., :3]
    if method == "cumulant3":
        C, T = y[..., 3:9], y[..., 9:19]
        Q = np.stack([sum(T[..., QT[q, k, 0]] * s[..., QT[q, k, 1]] for k in range(4))
                      + sum(C[..., QCC[q, k, 0]] * C[..., QCC[q, k, 1]] for k in range(3))
                      - 2 * sum(C[..., QCS[q, k, 0]] * s[..., QCS[q, k, 1]] * s[..., QCS[q, k, 2]]
                                for k in range(6))
                      + 6 * s[..., a] * s[..., b] * s[..., c] * s[..., d]
                      for q, (a, b, c, d) in enumerate(_QUADS)], -1)
        return np.concatenate([np.ones(y.shape[:-1] + (1,)), y, Q], -1)
    if method == "meanfield":
        C = np.stack([s[..., a] * s[..., b] for a, b in PAIRS], -1)
        T = np.zeros(y.shape[:-1] + (10,))
    else:
        C = y[..., 3:9]
        T = np.stack([C[..., PIDX[p, q]] * s[..., r] + C[..., PIDX[q, r]] * s[..., p]
                      + C[..., PIDX[p, r]] * s[..., q] - 2 * s[..., p] * s[..., q] * s[..., r]
                      for p, q, r in _TRIPLES], -1)
    return np.concatenate([np.ones(y.shape[:-1] + (1,)), s, C, T], -1)


# ----------------------------------------------------------------------------- numba kernel
_RK_A, _RK_B, _RK_C, _RK_E, _RK_P = (np.ascontiguousarray(x, dtype=float)
                                    for x in (RK45.A, RK45.B, RK45.C, RK45.E, RK45.P))


@njit(cache=True)
def _rhs(mode, y, Kv, nzi, nzk, m, out):
    n = y.shape[0]
    m[0] = 1.0
    for i in range(3):
        m[1 + i] = y[i]
    if mode == 2:  # order 3: y = (s, C, T), fourth-order cumulant closure for Q
        for i in range(16):
            m[4 + i] = y[3 + i]
        for q in range(15):
            acc = 6.0 * y[QUAD[q, 0]] * y[QUAD[q, 1]] * y[QUAD[q, 2]] * y[QUAD[q, 3]]
            for k in range(4):
                acc += y[9 + QT[q, k, 0]] * y[QT[q, k, 1]]
            for k in range(3):
                acc += y[3 + QCC[q, k, 0]] * y[3 + QCC[q, k, 1]]
            for k in range(6):
                acc -= 2.0 * y[3 + QCS[q, k, 0]] * y[QCS[q, k, 1]] * y[QCS[q, k, 2]]
            m[20 + q] = acc
        for i in range(n):
            out[i] = 0.0
        if nzi.shape[0] == 0:  # the rates' pattern, as compile-time constants
            for j in range(Kv.shape[0]):
                out[NZI3[j]] += Kv[j] * m[NZK3[j]]
        else:
            for j in range(Kv.shape[0]):
                out[nzi[j]] += Kv[j] * m[nzk[j]]
        return
    if mode == 0:
        for i in range(6):
            m[4 + i] = y[3 + i]
        for t in range(10):
            p, q, r = TRIP[t, 0], TRIP[t, 1], TRIP[t, 2]
            m[10 + t] = (y[3 + PIDX[p, q]] * y[r] + y[3 + PIDX[q, r]] * y[p]
                         + y[3 + PIDX[p, r]] * y[q] - 2.0 * y[p] * y[q] * y[r])
    else:
        for a in range(3):
            for b in range(a, 3):
                m[4 + PIDX[a, b]] = y[a] * y[b]
    for i in range(n):
        out[i] = 0.0
    if nzi.shape[0] == 0:
        for j in range(Kv.shape[0]):
            out[NZI[j]] += Kv[j] * m[NZK[j]]
    else:
        for j in range(Kv.shape[0]):
            out[nzi[j]] += Kv[j] * m[nzk[j]]


@njit(cache=True)
def _rms(v):
    acc = 0.0
    for x in v:
        acc += x * x
    return math.sqrt(acc / v.shape[0])


@njit(cache=True)
def _integrate_one(mode, y0, Kp, nzi, nzk, tout, rtol, atol, max_steps, Yout, stats):
    n = y0.shape[0]
    S = _RK_B.shape[0]
    nP = _RK_P.shape[1]
    K = np.zeros((S + 1, n))
    m = np.zeros(_NM)
    y = y0.copy()
    ynew = np.zeros(n)
    ys = np.zeros(n)
    err = np.zeros(n)
    t = tout[0]
    t_end = tout[-1]
    for i in range(n):
        Yout[0, i] = y[i]
    iout = 1
    _rhs(mode, y, Kp, nzi, nzk, m, K[0])
    nfev = 1
    # initial step (scipy's select_initial_step)
    d0 = 0.0
    d1 = 0.0
    for i in range(n):
        sc = atol + rtol * abs(y[i])
        d0 += (y[i] / sc) ** 2
        d1 += (K[0, i] / sc) ** 2
    d0 = math.sqrt(d0 / n)
    d1 = math.sqrt(d1 / n)
    h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    for i in range(n):
        ys[i] = y[i] + h0 * K[0, i]
    _rhs(mode, ys, Kp, nzi, nzk, m, K[1])
    nfev += 1
    d2 = 0.0
    for i in range(n):
        d2 += ((K[1, i] - K[0, i]) / (atol + rtol * abs(y[i]))) ** 2
    d2 = math.sqrt(d2 / n) / h0
    h1 = max(1e-6, h0 * 1e-3) if max(d1, d2) <= 1e-15 else (0.01 / max(d1, d2)) ** (1.0 / 5.0)
    h = min(100 * h0, h1, t_end - t) if t_end > t else 0.0
    nsteps = 0
    status = 0
    while iout < tout.shape[0]:
        if nsteps >= max_steps:
            status = 1
            break
        h = min(h, t_end - t)
        for s in range(1, S):
            for i in range(n):
                acc = 0.0
                for j in range(s):
                    acc += _RK_A[s, j] * K[j, i]
                ys[i] = y[i] + h * acc
            _rhs(mode, ys, Kp, nzi, nzk, m, K[s])
        for i in range(n):
            acc = 0.0
            for j in range(S):
                acc += _RK_B[j] * K[j, i]
            ynew[i] = y[i] + h * acc
        _rhs(mode, ynew, Kp, nzi, nzk, m, K[S])
        nfev += S
        for i in range(n):
            acc = 0.0
            for j in range(S + 1):
                acc += _RK_E[j] * K[j, i]
            err[i] = h * acc / (atol + rtol * max(abs(y[i]), abs(ynew[i])))
        en = _rms(err)
        nsteps += 1
        if not math.isfinite(en):
            status = 2
            break
        if en < 1.0:
            tnew = t + h
            while iout < tout.shape[0] and tout[iout] <= tnew:
                x = (tout[iout] - t) / h
                for i in range(n):
                    acc = 0.0
                    xp = 1.0
                    for k in range(nP):
                        xp *= x
                        q = 0.0
                        for j in range(S + 1):
                            q += K[j, i] * _RK_P[j, k]
                        acc += q * xp
                    Yout[iout, i] = y[i] + h * acc
                iout += 1
            t = tnew
            for i in range(n):
                y[i] = ynew[i]
                K[0, i] = K[S, i]
            fac = 10.0 if en == 0 else min(10.0, 0.9 * en ** -0.2)
            h *= fac
        else:
            h *= max(0.2, 0.9 * en ** -0.2)
        if h <= 1e-15 * max(abs(t), 1e-300):
            status = 3
            break
    stats[0] = status
    stats[1] = nsteps
    stats[2] = nfev
    stats[3] = iout


def _kernel_entries(Kb, method):
    """(nzi, nzk, Kv): the entries of the batch's matrices Kb (B, n, n_m) the kernel sums, row-major.

    Within the rates' pattern (NZI, NZK; its rows are sorted, so the mean field's 3 rows are a
    prefix): that pattern, passed as empty index arrays (the kernel uses the constants). Otherwise
    the entries non-zero for some model (order 2: at most 111 of 9 x 20 with every Hamiltonian
    term; order 3: 295 of 19 x 35), so the cost follows the terms present. Entries that are zero for
    every model add exact zeros, so both give the same bits.
    """
    gi, gk = (NZI3, NZK3) if method == "cumulant3" else (NZI, NZK)
    rows = gi < Kb.shape[1]
    gi, gk = gi[rows], gk[rows]
    nz = np.any(Kb != 0, axis=0)
    outside = nz.copy()
    outside[gi, gk] = False
    if not outside.any():
        return _NO_INDEX, _NO_INDEX, np.ascontiguousarray(Kb[:, gi, gk])
    nzi, nzk = (np.ascontiguousarray(a, dtype=np.int64) for a in np.nonzero(nz))
    return nzi, nzk, np.ascontiguousarray(Kb[:, nzi, nzk])


@njit(parallel=True, cache=True)
def _integrate_batch(mode, Y0, Kv, nzi, nzk, tflat, offsets, rtol, atol, max_steps, Yout, stats):
    for b in prange(Y0.shape[0]):
        lo, hi = offsets[b], offsets[b + 1]
        _integrate_one(mode, Y0[b], Kv[b], nzi, nzk, tflat[lo:hi], rtol, atol, max_steps,
                       Yout[lo:hi], stats[b])


def _scipy_one(method, y0, Kp, times, rtol, atol, scheme, parts=(), breaks=()):
    """One model by ``solve_ivp``: dy/dt = (Kp + sum_f f(t) K_f) m(y) with ``parts`` = [(f, K_f)],
    integrated piecewise between the ``breaks`` (restarted there, the state carried over)."""
    def f(t, y):
        K = Kp if not parts else Kp + sum(float(g(t)) * Kg for g, Kg in parts)
        return K @ closure(y, method)

    if times.size == 1:
        return y0[None, :].copy(), (0, 0, 0, 1)
    edges = [times[0], *(k for k in breaks if times[0] < k < times[-1]), times[-1]]
    Y = np.full((times.size, y0.size), np.nan)
    y, steps, nfev, done = y0, 0, 0, 0
    for a, b in zip(edges[:-1], edges[1:]):
        idx = np.flatnonzero(((times >= a) if done == 0 else (times > a)) & (times <= b))
        t_eval = times[idx] if idx.size and times[idx[-1]] == b else np.append(times[idx], b)
        sol = solve_ivp(f, (a, b), y, method=scheme, t_eval=t_eval, rtol=rtol, atol=atol)
        nfev += sol.nfev
        k = min(sol.t.size, idx.size)
        Y[idx[:k]] = sol.y.T[:k]
        if sol.status != 0:
            return Y, (2, steps, nfev, done + k)
        steps += sol.t.size
        done += idx.size
        y = sol.y[:, -1]
    return Y, (0, steps, nfev, times.size)


#: what each non-zero status of :func:`integrate` means
STATUS = {1: "reached max_steps", 2: "non-finite values (diverging equations)", 3: "step size underflow"}
#: what to do about each failure
ADVICE = {
    1: "the equations are stiff at this N (their fastest rate, ~|Omega| + (2|chi| + Gamma) N, sets the explicit "
       "step; a smaller rtol needs more steps, not fewer): raise max_steps or integrate a shorter time span",
    2: "the equations diverge (order-3 cumulant equations can at large N; on_failure='nan' keeps the times "
       "reached); a looser rtol does not help",
    3: "the solution changes faster than the step can follow in double precision, as a diverging solution does "
       "(order-3 cumulant equations can diverge at large N; on_failure='nan' keeps the times reached)",
}


def _magnitude(value, t0, t1) -> float:
    """|value| of a number, max |values| of a Ramp, max |f(t)| on 65 points of [t0, t1] of another
    function of time."""
    if isinstance(value, Ramp):
        return float(np.max(np.abs(value.values)))
    if callable(value):
        return float(np.max(np.abs([value(t) for t in np.linspace(t0, t1, 65)])))
    return abs(value)


def fastest_rate(model, t0=0.0, t1=0.0) -> float:
    """Rough largest |eigenvalue| of the moment equations' Jacobian, which sets the explicit step:

        lambda ~ |Omega| + sum_a |h_a| + (2 |chi| + 2 sum_ab |h_ab| + Gamma + collective pumping) N
                 + collective dephasing N + gamma_s + pumping + dephasing,

    h_a, h_ab the linear and quadratic terms of the extra Hamiltonian; a function of time counts
    with its largest magnitude on [t0, t1].
    """
    N = model.N
    lin = sum(_magnitude(v, t0, t1) for k, v in model.hamiltonian.items() if k in LINEAR_KEYS)
    quad = sum(_magnitude(v, t0, t1) for k, v in model.hamiltonian.items() if k not in LINEAR_KEYS)
    return (_magnitude(model.omega, t0, t1) + lin
            + (2 * _magnitude(model.chi, t0, t1) + 2 * quad + model.gamma + model.collective_pumping
               + model.collective_dephasing) * N + model.gamma_s + model.pumping + model.dephasing)


#: steps per unit of lambda x time of DOP853 held by its stability (|h lambda| <~ 4; measured
#: ~0.1-0.2 on the Fig. 3(a) runs, where accuracy rather than stability sets the step)
_STEPS_PER_STIFFNESS = 0.25


def check_step_budget(models, times_list, max_steps):
    """Refuse, before integrating, a model whose explicit integration cannot finish within
    ``max_steps`` (estimated ``0.25 lambda (t_end - t_0)`` steps, lambda = :func:`fastest_rate`)."""
    for m, t in zip(models, times_list):
        rate = fastest_rate(m, t[0], t[-1])
        need = _STEPS_PER_STIFFNESS * rate * float(t[-1] - t[0])
        if need > max_steps:
            raise ValueError(f"N = {m.N}: integrating to t = {t[-1]:.4g} needs about {need:.3g} explicit steps "
                             f"(fastest rate ~{rate:.3g}), more than max_steps = {max_steps:.3g}: "
                             "integrate a shorter time span, or raise max_steps if you can wait "
                             f"(~{need * 1e-6:.3g} s of CPU at ~1 us per step)")


def integrate(models, times_list, y0s, method, *, rtol, atol, scheme="dopri5", max_steps=10**8, progress=None):
    """Integrate each model's equations; returns (list of (T_b, n) arrays, (B, 4) stats).

    ``stats[b] = (status, steps, right-hand-side evaluations, output times reached)``; status 0
    means success; after a failure the rows of the output times not reached are NaN.
    ``scheme`` is ``"dopri5"`` (the Dormand-Prince 5(4) pair, batched and compiled) or a
    ``scipy.integrate.solve_ivp`` method of :data:`SCHEMES` (a loop of solve_ivp calls).  Models
    with functions of time always take the per-model solve_ivp path, with ``scheme``, or ``"RK45"``
    for ``"dopri5"`` (:data:`TIME_DEPENDENT_SCHEME`; see the module docstring).
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    check_step_budget(models, times_list, max_steps)
    Y0 = np.ascontiguousarray(np.array(y0s, dtype=float))
    B = len(models)
    timed = [b for b in range(B) if models[b].time_dependent]
    if not timed:
        return _integrate_constant(models, times_list, Y0, method, rtol, atol, scheme, max_steps, progress)
    from tqdm.auto import tqdm

    outs, stats = [None] * B, np.zeros((B, 4), dtype=np.int64)
    td_scheme = TIME_DEPENDENT_SCHEME.get(scheme, scheme)
    for b in tqdm(timed, disable=None if progress is None else not progress, desc=f"{method} (time-dependent)",
                  leave=False):
        K0, parts = time_dependent_matrices(models[b], method)
        outs[b], stats[b] = _scipy_one(method, Y0[b], K0, times_list[b], rtol, atol, td_scheme, parts,
                                       ramp_knots(models[b]))
    const = [b for b in range(B) if not models[b].time_dependent]
    if const:
        ys, st = _integrate_constant([models[b] for b in const], [times_list[b] for b in const], Y0[const], method,
                                     rtol, atol, scheme, max_steps, progress)
        for b, y, row in zip(const, ys, st):
            outs[b], stats[b] = y, row
    return outs, stats


def _integrate_constant(models, times_list, Y0, method, rtol, atol, scheme, max_steps, progress):
    """:func:`integrate` for models with constant coefficients (compiled batch or solve_ivp loop)."""
    Kb = coefficient_matrices(models, method)
    B = len(models)
    stats = np.zeros((B, 4), dtype=np.int64)
    from tqdm.auto import tqdm

    if scheme != "dopri5":
        outs = []
        for b in tqdm(range(B), disable=None if progress is None else not progress,
                      desc=f"{method} (solve_ivp)", leave=False):
            y, st = _scipy_one(method, Y0[b], Kb[b], times_list[b], rtol, atol, scheme)
            outs.append(y)
            stats[b] = st
        return outs, stats
    sizes = np.array([t.size for t in times_list])
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    tflat = np.ascontiguousarray(np.concatenate(times_list))
    Yout = np.zeros((tflat.size, NVAR[method]))
    nzi, nzk, Kv = _kernel_entries(Kb, method)
    chunk = max(32, -(-B // 20))
    bar = tqdm(total=B, disable=None if progress is None else not progress, desc=method, leave=False)
    # one model per prange iteration: the thread count changes who integrates a model, not how;
    # a batch is parallel work like a large vector (free cores only), a single model is serial
    n_threads = threads.kernel_threads(threads.MIN_PARALLEL_SIZE) if B > 1 else 1
    with threads.numba_threads(n_threads):
        for lo in range(0, B, chunk):
            hi = min(B, lo + chunk)
            o = offsets[lo:hi + 1]
            _integrate_batch(_MODE[method], Y0[lo:hi], Kv[lo:hi], nzi, nzk, tflat[o[0]:o[-1]], o - o[0],
                             float(rtol), float(atol), int(max_steps), Yout[o[0]:o[-1]], stats[lo:hi])
            bar.update(hi - lo)
    bar.close()
    outs = [Yout[offsets[b]:offsets[b + 1]] for b in range(B)]
    for b in np.flatnonzero(stats[:, 0]):
        outs[b][stats[b, 3]:] = np.nan
    return outs, stats


def check_models_and_times(models, times):
    """Validate a model list and a shared or per-model time grid; returns (models, times_list)."""
    if isinstance(models, Model):
        models = [models]
    models = list(models)
    if not models or not all(isinstance(m, Model) for m in models):
        raise TypeError("models must be a non-empty sequence of piqs_squeeze.Model")
    if isinstance(times, (list, tuple)) and len(times) > 0 and all(np.ndim(t) == 1 for t in times):
        if len(times) != len(models):
            raise ValueError(f"times: got {len(times)} time grids for {len(models)} models")
        times_list = [check_times(t, f"times[{i}]") for i, t in enumerate(times)]
    else:
        times_list = [check_times(times)] * len(models)
    return models, times_list


def check_initials(initial, n_models, method):
    """One initial state for all models, or a list with one per model -> (B, n) array."""
    if isinstance(initial, (list, tuple)) and len(initial) == n_models and all(
            x is None or isinstance(x, CoherentSpinState) or np.ndim(x) == 1 for x in initial):
        return np.array([initial_variables(x, method) for x in initial])
    y0 = initial_variables(initial, method)
    return np.repeat(y0[None, :], n_models, axis=0)
