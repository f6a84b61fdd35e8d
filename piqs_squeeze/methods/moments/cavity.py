"""Cumulant (order 2) and mean-field dynamics of Models with a cavity mode, batched.

The equations are derived by :mod:`piqs_squeeze.methods.moments.derivation.boson` (the Pauli
algebra of the spin methods times the boson algebra of a): for the variables y (complex)

* ``"cumulant"``: s_p, C_pq (as without a cavity), <a>, <a^+ a>, <a a>, <a sigma_p> (15);
* ``"meanfield"``: s_p and <a> (4),

    d y_i / dt = sum_c value_c sum_k (A_c[i, k] + N B_c[i, k]) m_k,

c over the Model's rates and Hamiltonian terms and the Cavity's detuning, drive, kappa and g.
Every moment m_k is a normal-ordered <(a^+)^p a^q sigma^i ... sigma^j> over distinct particles,
a product of "elements" (a^+, a, and one Pauli matrix per particle). Moments of one or two
elements are variables (or complex conjugates of variables: <a^+ sigma> = conj <a sigma>);
the closure sets the joint cumulant of three elements to zero (order 2),

    <A B C> = <A B><C> + <A C><B> + <B C><A> - 2 <A><B><C>,

the same rule as the spin-only cumulant method's (paper Eq. S11) applied to a, a^+ and the spins;
the mean field factorises every moment into its elements' means. The batch is one
``scipy.integrate.solve_ivp`` system (DOP853), all models sharing its step size.
"""
from __future__ import annotations

import time as _time

import numpy as np
from numba import njit
from scipy.integrate import solve_ivp

from piqs_squeeze.model import Model, check_times
from piqs_squeeze.result import Result
from piqs_squeeze.states import CoherentSpinState, css
from .derivation.boson import cavity_equations
from .derivation.equations import RATES

__all__ = ["evolve_many", "coefficient_matrices", "closure_plan", "initial_variables"]


def _elements(label):
    p, q, spins = label
    return ["+"] * p + ["-"] * q + list(spins)


def _label(elements):
    p = elements.count("+")
    q = elements.count("-")
    return (p, q, "".join(sorted(e for e in elements if e not in "+-")))


def closure_plan(method, variables, moments):
    """For each moment: a list of (coefficient, [(variable index, conjugate?), ...]) whose
    sum of products is its value (module docstring)."""
    index = {lab: i for i, lab in enumerate(variables)}

    def lookup(lab):
        if lab in index:
            return (index[lab], False)
        conj = (lab[1], lab[0], lab[2])
        if conj in index:
            return (index[conj], True)
        return None

    def value(elements):
        if not elements:
            return [(1.0, [])]
        lab = _label(elements)
        hit = lookup(lab)
        if hit is not None:
            return [(1.0, [hit])]
        if method == "meanfield":
            return [(1.0, [lookup(_label([e])) for e in elements])]
        if len(elements) != 3:
            raise AssertionError(f"moment {lab} is neither a variable nor closable at order 2")
        e = elements
        out = []
        for i, j, k in ((0, 1, 2), (0, 2, 1), (1, 2, 0)):
            pair, single = lookup(_label([e[i], e[j]])), lookup(_label([e[k]]))
            out.append((1.0, [pair, single]))
        out.append((-2.0, [lookup(_label([x])) for x in e]))
        return out

    return [value(_elements(m)) for m in moments]


def coefficient_matrices(models, method):
    """(labels, moments, K (B, n, n_m) complex) of the batch (module docstring)."""
    keys = tuple(sorted({k for m in models for k in m.hamiltonian}))
    labels, channels, moments, K = cavity_equations(method, keys)
    vals = []
    for m in models:
        if m.time_dependent:
            raise ValueError(f"{m}: a cavity model runs with constant coefficients only in the moment methods")
        cav = m.cavity
        row = [getattr(m, r) for r in RATES] + [m.hamiltonian.get(k, 0.0) for k in keys]
        row += [cav.detuning, cav.drive, cav.kappa, cav.g]
        vals.append(row)
    vals = np.array(vals, dtype=float)
    Ns = np.array([m.N for m in models], dtype=float)
    out = np.einsum("bc,cik->bik", vals, K[..., 0]) + np.einsum("bc,b,cik->bik", vals, Ns, K[..., 1])
    return labels, moments, out


def initial_variables(initial, labels):
    """The product state CSS (x) |0>: s = n, C_pq = n_p n_q, every cavity moment 0."""
    if initial is None:
        initial = css()
    if not isinstance(initial, CoherentSpinState):
        raise TypeError("initial of a cavity model (moment methods) must be None or a CoherentSpinState "
                        f"(times the cavity vacuum), got {type(initial).__name__}")
    n = np.asarray(initial.direction, dtype=float)
    y = np.zeros(len(labels), complex)
    for i, (p, q, spins) in enumerate(labels):
        if p == 0 and q == 0:
            y[i] = np.prod([n["xyz".index(c)] for c in spins])
    return y


def _flat_plan(plan):
    """The closure plan as arrays for :func:`_rhs`: per term its moment, coefficient, number of
    factors (0-3), their variable indices and conjugation flags."""
    mom, coef, nf, idx, conj = [], [], [], [], []
    for k, terms in enumerate(plan):
        for c, factors in terms:
            mom.append(k)
            coef.append(c)
            nf.append(len(factors))
            idx.append([f[0] for f in factors] + [0] * (3 - len(factors)))
            conj.append([f[1] for f in factors] + [False] * (3 - len(factors)))
    return (np.array(mom, np.int64), np.array(coef, float), np.array(nf, np.int64), np.array(idx, np.int64),
            np.array(conj, np.bool_))


@njit(cache=True)
def _rhs(Z, K, mom, coef, nf, idx, conj, nm, out):
    """out[b] = K[b] @ m(Z[b]) with the closure plan (the same sums as :func:`_moment_vector`)."""
    B, n = Z.shape
    m = np.empty(nm, np.complex128)
    for b in range(B):
        m[:] = 0.0
        for t in range(mom.size):
            v = coef[t] + 0j
            for f in range(nf[t]):
                z = Z[b, idx[t, f]]
                v *= np.conj(z) if conj[t, f] else z
            m[mom[t]] += v
        for i in range(n):
            acc = 0j
            for k in range(nm):
                acc += K[b, i, k] * m[k]
            out[b, i] = acc


def _moment_vector(Z, plan):
    """m (B, n_m) from the variables Z (B, n) by the closure plan."""
    B = Z.shape[0]
    M = np.empty((B, len(plan)), complex)
    for k, terms in enumerate(plan):
        acc = np.zeros(B, complex)
        for coef, factors in terms:
            prod = np.full(B, coef, complex)
            for idx, conj in factors:
                prod = prod * (np.conj(Z[:, idx]) if conj else Z[:, idx])
            acc = acc + prod
        M[:, k] = acc
    return M


def evolve_many(models, times, initial, opts, method, to_moments, result_method):
    """Integrate the cavity moment equations of many models together; one Result per model with
    ``extras`` photon_number, field, field_squared (cumulant), variables and labels."""
    t0 = _time.perf_counter()
    models = list(models)
    if method not in ("cumulant", "meanfield"):
        raise ValueError("cavity models run with the order-2 cumulant or the mean field only (order=3: no cavity)")
    times = check_times(times) if not isinstance(times, list) else times
    if isinstance(times, list):
        if any(not np.array_equal(t, times[0]) for t in times):
            raise ValueError("cavity models in one batch need one shared time grid")
        times = times[0]
    labels, moments, K = coefficient_matrices(models, method)
    plan = closure_plan(method, labels, moments)
    B, n = len(models), len(labels)
    y0 = np.array([initial_variables(initial, labels) for _ in models])
    nfev = [0]
    flat = _flat_plan(plan)
    K = np.ascontiguousarray(K)

    def rhs(_t, y):
        nfev[0] += 1
        out = np.empty((B, n), complex)
        _rhs(np.ascontiguousarray(y).reshape(B, n), K, *flat, len(moments), out)
        return out.reshape(-1)

    scheme = "DOP853" if opts.scheme == "dopri5" else opts.scheme
    failure = None
    if times.size == 1:
        Y = y0[None]
        status = {"nfev": 0, "nsteps": 0}
    else:
        sol = solve_ivp(rhs, (times[0], times[-1]), y0.reshape(-1), method=scheme, t_eval=times, rtol=opts.rtol,
                        atol=opts.atol)
        failure = None
        if not sol.success:
            failure = (f"{result_method} (cavity) integration failed after t = {sol.t[-1] if sol.t.size else times[0]:.6g}:"
                       f" {sol.message}")
            if getattr(opts, "on_failure", "raise") != "nan":
                raise RuntimeError(failure + " (on_failure='nan' returns NaN from there on)")
        Y = np.full((times.size, B * n), np.nan + 0j)
        Y[:sol.t.size] = sol.y.T
        Y = Y.reshape(times.size, B, n)
        status = {"nfev": int(sol.nfev), "nsteps": int(sol.t.size)}
    idx = {lab: i for i, lab in enumerate(labels)}
    nspin = 3 if method == "meanfield" else 9
    out = []
    for b, m in enumerate(models):
        y = Y[:, b]
        spin = y[:, :nspin].real
        mean, second = to_moments(spin, m.N)
        field = y[:, idx[(0, 1, "")]]
        extras = {"variables": y, "labels": [f"{p},{q},{s}" for p, q, s in labels], "field": field,
                  "max_imag_spin": float(np.nanmax(np.abs(y[:, :nspin].imag)))}
        if times.size > 1 and failure is not None:
            extras.update(failure=failure, t_reached=float(sol.t[-1]) if sol.t.size else float(times[0]))
        if (1, 1, "") in idx:
            extras["photon_number"] = y[:, idx[(1, 1, "")]].real
            extras["field_squared"] = y[:, idx[(0, 2, "")]]
        else:
            extras["photon_number"] = np.abs(field) ** 2
        out.append(Result(times, mean, second, m, result_method, options=opts.to_dict(), extras=extras,
                          stats={"rhs_evaluations": status["nfev"], "steps": status["nsteps"], "batch": B,
                                 "wall_time": _time.perf_counter() - t0}))
    return out
