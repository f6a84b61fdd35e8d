r"""Analytic steady state of the collective model (Puri & Lawande 1979, Carmichael 1980, with chi).

The model (hbar = 1, only collective processes, total spin j = N/2 conserved)

    d rho/dt = L rho = -i[H, rho] + Gamma D[J-] rho,     H = chi J+ J- + Omega Jx,

has in the j = N/2 sector (the one a coherent spin state lives in) the unique steady state

    rho_ss = (B^+ B)^{-1} / tr (B^+ B)^{-1},      B = J- + a,      a = Omega / (2 chi - i Gamma).

Expanding B^{-1} = a^{-1} sum_n (-J-/a)^n (J- is nilpotent) gives the Puri-Lawande double sum
rho_ss ~ sum_{m,n} (g*)^{-m} g^{-n} J-^m J+^n with the complex parameter g = -a* = -Omega/(2 chi + i Gamma):
chi and Gamma combine into the complex rate 2 chi - i Gamma (for chi = 0, g = i Omega / Gamma).

Derivation
----------
Write L rho = -i(H_eff rho - rho H_eff^+) + Gamma J- rho J+ with the non-Hermitian Hamiltonian

    H_eff = H - i Gamma/2 J+ J- = c J+ J- + Omega/2 (J+ + J-),      c = chi - i Gamma/2.

Try rho = P^{-1} Q^{-1} with P = J- + a (a function of J- only) and Q = P^+. Multiplying L rho = 0 by
P on the left and Q on the right, and using that P commutes with J- and Q with J+,

    -i P H_eff P^{-1} + i Q^{-1} H_eff^+ Q + Gamma J- J+ = 0,   i.e.   M - M^+ = -i Gamma J- J+,

with M = P H_eff P^{-1} (note Q^{-1} H_eff^+ Q = M^+). Now P H_eff P^{-1} = H_eff + [P, H_eff] P^{-1},
and with [J-, J+] = -2 Jz,

    [P, H_eff] = [J-, H_eff] = -2 c Jz J- - Omega Jz = -2 c Jz (J- + Omega / (2c)).

Choosing a = Omega / (2c) = Omega / (2 chi - i Gamma) makes the bracket equal to P, so that
M = H_eff - 2 c Jz and

    M - M^+ = (H_eff - H_eff^+) - 2 (c - c*) Jz = -i Gamma (J+ J- - 2 Jz) = -i Gamma J- J+.   QED

Uniqueness for Gamma > 0 in the j = N/2 sector is the standard result of the references
(and checked against the numerical null space in the tests). For Omega = 0 (a = 0) the limit is
the ground state |j, -j>.

Structure used at large N
-------------------------
In the basis |k> = |j, m = j - k>, k = 0..2j (qutip's ordering), B is lower bidiagonal: B[k, k] = a,
B[k+1, k] = c_k with c_k = <k|J+|k+1> = sqrt((k+1)(2j-k)) (:func:`piqs_squeeze.dicke.jplus_elements`).
W = B^{-1} is W[k, l] = (-1/a)^{k-l} a^{-1} F_k / F_l (k >= l), F_k = prod_{i<k} c_i, and rho ~ W W^+:

    rho[k, k'] = rho[k', k'] prod_{i=k'}^{k-1} (-c_i / a)          (k >= k'),
    rho[k, k]  ~ p_k = sum_{l<=k} t_l / t_k,   t_l = |a|^{2l} / F_l^2,

i.e. the populations obey p_0 = 1, p_k = 1 + r_k p_{k-1} with r_k = c_{k-1}^2 / |a|^2, and every
coherence follows from them. The first and second moments need only the diagonal and the first two
sub-diagonals: O(N) work. Because p_k grows like exp(O(N)) below threshold, the recursion is
solved in log space, log p_k = logsumexp_{l<=k}(log t_l) - log t_k with log t_k = -sum_{i<=k} log r_i
(``np.logaddexp.accumulate``); the rounding of these O(N)-sized logarithms bounds the relative
error of the populations by about 1e-16 * N * max|log r| (measured in benchmarks/).

Thermodynamic limit
-------------------
The mean-field equations d<J->/dt = (Gamma + 2i chi) <Jz><J-> + i Omega <Jz> and
d<Jz>/dt = -Gamma <J+J-> + Omega <Jy> with |<J>| = j give |<J->| = Omega / Upsilon_c and, on the
stable (lower) branch, <Jz>/j -> -sqrt(1 - (Upsilon/Upsilon_c)^2) for Upsilon < Upsilon_c and 0 above
(:func:`order_parameter_tl`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from piqs_squeeze.dicke import moments_from_bands
from piqs_squeeze.options import MethodOptions, flag, integer, memory, option
from piqs_squeeze.model import Model, check_N
from piqs_squeeze.runtime.resources import check_memory
from piqs_squeeze.result import Result

__all__ = [
    "unsupported",
    "absorber_parameter",
    "populations",
    "steady_state",
    "density_matrix",
    "order_parameter_tl",
    "phase_diagram",
    "MAX_DENSE_N",
    "memory_needed",
    "CarmichaelOptions",
    "OPTIONS",
]

#: Largest N for which the dense (N+1) x (N+1) state is built (16 MiB * (N/1000)^2 of memory).
MAX_DENSE_N = 4000

_OTHER_METHODS = "'exact', 'mcwf' or 'cumulant'"


def unsupported(model: Model) -> str | None:
    """Why the analytic steady state does not apply to ``model`` (None if it does).

    It applies to H = chi J+J- + Omega Jx with Gamma D[J-] and nothing else, with Gamma > 0.
    """
    if not isinstance(model, Model):
        return f"model must be a piqs_squeeze.Model, got {type(model).__name__}"
    if model.cavity is not None:
        return ("the analytic steady state is that of the spin-only model (cavity eliminated); this model has an "
                "explicit cavity mode (for the bad-cavity limit use gamma = cavity.gamma_eff without cavity=)")
    if not model.is_paper_model:
        return ("the analytic (Carmichael) steady state is derived for H = chi J+J- + omega Jx with constant "
                "coefficients (its complex-P solution needs exactly that Hamiltonian); this model has "
                + ("time-dependent coefficients" if model.time_dependent else f"the extra terms {dict(model.hamiltonian)}"))
    other = {r: getattr(model, r) for r in ("gamma_s", "dephasing", "pumping",
                                            "collective_dephasing", "collective_pumping")}
    other = {k: v for k, v in other.items() if v != 0}
    if other:
        names = ", ".join(f"{k}={v:g}" for k, v in other.items())
        return (f"the analytic (Carmichael) steady state applies only to collective emission Gamma D[J-] "
                f"with H = chi J+J- + Omega Jx; this model also has {names}. "
                f"Use method {_OTHER_METHODS} instead")
    if model.gamma <= 0:
        return ("the analytic (Carmichael) steady state needs gamma > 0: without collective emission "
                f"the steady state is not unique. Use method {_OTHER_METHODS} for the dynamics instead")
    return None


def _check(model):
    reason = unsupported(model)
    if reason is not None:
        if not isinstance(model, Model):
            raise TypeError(reason)
        raise ValueError(reason)


def absorber_parameter(model: Model) -> complex:
    """The complex parameter a = Omega / (2 chi - i Gamma) of rho_ss ~ ((J+ + a*)(J- + a))^{-1}.

    The Puri-Lawande parameter of rho ~ sum (g*)^-m g^-n J-^m J+^n is g = -conj(a).
    """
    _check(model)
    return model.omega / complex(2.0 * model.chi, -model.gamma)


def _log_populations(model):
    """(log p_k up to a constant, log c_k, a): the unnormalized log populations of the module docstring."""
    a = absorber_parameter(model)
    N = model.N
    i = np.arange(N, dtype=float)
    log_c = 0.5 * np.log((i + 1.0) * (N - i))  # c_i = sqrt((i+1)(2j-i)), exact integer product in float
    if a == 0:
        lp = np.full(N + 1, -np.inf)
        lp[-1] = 0.0
        return lp, log_c, a
    log_r = 2.0 * (log_c - np.log(abs(a)))
    log_t = np.empty(N + 1)
    log_t[0] = 0.0
    np.cumsum(-log_r, out=log_t[1:])
    lp = np.logaddexp.accumulate(log_t) - log_t
    return lp, log_c, a


def populations(model: Model) -> np.ndarray:
    """Steady-state populations p_k = <j, j-k| rho_ss |j, j-k>, k = 0..N (sum to 1).

    Solves p_k ~ 1 + r_k p_{k-1}, r_k = c_{k-1}^2 / |a|^2, in log space (see module docstring).
    """
    lp, _, _ = _log_populations(model)
    p = np.exp(lp - lp.max())
    return p / p.sum()


def _bands(model):
    """Diagonal and first two sub-diagonals of rho_ss: rho[k,k], rho[k,k-1], rho[k,k-2]."""
    lp, log_c, a = _log_populations(model)
    lp = lp - lp.max()
    p = np.exp(lp)
    norm = p.sum()
    p /= norm
    if a == 0:
        return p, np.zeros(model.N, complex), np.zeros(max(model.N - 1, 0), complex)
    # rho[k, k-1] = -(c_{k-1}/a) p_{k-1} and rho[k, k-2] = (c_{k-2} c_{k-1}/a^2) p_{k-2}, in log
    # magnitude so that tiny |a| cannot overflow c/|a| before it meets the tiny p.
    la, ph = np.log(abs(a)), a / abs(a)
    base = lp - np.log(norm)
    band1 = -np.exp(base[:-1] + log_c - la) / ph
    band2 = np.exp(base[:-2] + log_c[:-1] + log_c[1:] - 2 * la) / ph**2
    return p, band1, band2


def density_matrix(model: Model, *, max_n: int = MAX_DENSE_N):
    """The full steady state rho_ss of the j = N/2 sector as a ``qutip.Qobj`` (dims [[N+1], [N+1]]).

    Built from rho[k, k'] = p_k' prod_{i=k'}^{k-1} (-c_i / a) for k >= k' (Hermitian), basis ordered
    m = j..-j as ``qutip.jmat``. Dense: only for N <= ``max_n``.
    """
    import qutip

    _check(model)
    if model.N > max_n:
        raise ValueError(f"N = {model.N} is too large for a dense state (max_n = {max_n}); "
                         f"use steady_state() for the moments")
    return qutip.Qobj(_dense(model), dims=[[model.N + 1], [model.N + 1]])


def _dense(model):
    lp, log_c, a = _log_populations(model)
    lp = lp - lp.max()
    lp -= np.log(np.exp(lp).sum())
    d = model.N + 1
    if a == 0:
        rho = np.zeros((d, d), complex)
        rho[-1, -1] = 1.0
        return rho
    k = np.arange(d)
    log_g = np.concatenate([[0.0], np.cumsum(log_c)]) - k * np.log(abs(a))  # log|G_k|, G_k = prod (-c_i/a)
    phase = (-abs(a) / a) ** k
    lower = k[:, None] >= k[None, :]
    expo = np.where(lower, lp[None, :] + log_g[:, None] - log_g[None, :], -np.inf)
    rho = np.exp(expo) * (phase[:, None] / phase[None, :])
    rho = rho + np.tril(rho, -1).conj().T
    return rho


#: peak bytes per atom of the O(N) moments: ~15 float and complex work arrays of length N
#: (N = 1e7: 0.63 GB above the interpreter's 0.2 GB), with a margin
BYTES_PER_ATOM = 100


def memory_needed(N: int, return_state: bool = False) -> int:
    """Estimated peak bytes of :func:`steady_state`: ``BYTES_PER_ATOM N`` (+ 16 (N+1)^2 for the state)."""
    return int(BYTES_PER_ATOM * (N + 1) + (16 * (N + 1) ** 2 if return_state else 0))


@dataclass(frozen=True)
class CarmichaelOptions(MethodOptions):
    """Options of :func:`steady_state`."""

    method = "carmichael"
    kind = "steady_state"

    return_state: bool = option(False, "also store the dense state as extras['state'] (N <= max_n)", flag())
    max_n: int = option(MAX_DENSE_N, "largest N for a dense state", integer(1))
    max_memory: float | None = option(None, "bytes allowed (None: what is available); a larger estimate is "
                                      "refused before anything is allocated", memory)


#: kind -> options class
OPTIONS = {"steady_state": CarmichaelOptions}


def steady_state(model: Model, options: CarmichaelOptions | None = None, **kw) -> Result:
    """Analytic steady state of the collective model in the j = N/2 sector.

    rho_ss ~ ((J+ + a*)(J- + a))^{-1}, a = Omega / (2 chi - i Gamma) (derivation in the module
    docstring); moments from its populations and first two coherence bands in O(N).

    Parameters
    ----------
    model : Model
        gamma > 0 and no other dissipative process (see :func:`unsupported`).
    options : CarmichaelOptions, optional
        ``kw`` sets single options. ``return_state``: also store the dense state as
        ``extras["state"]`` ((N+1, N+1) complex array, basis m = j..-j; :func:`density_matrix`
        gives it as a qutip.Qobj), only for N <= ``max_n``. ``max_memory``: memory allowed
        (default: what is available); a larger estimate (:func:`memory_needed`) is refused
        before anything is allocated.

    Returns
    -------
    Result
        times = [inf]; extras: ``jz_over_j`` (<Jz>/j), ``jz_over_j_tl`` (thermodynamic limit),
        ``a_real``/``a_imag`` (the parameter a), ``j`` (= N/2).
    """
    opts = CarmichaelOptions.coerce(options, kw)
    return_state, max_n = opts.return_state, opts.max_n
    _check(model)
    check_memory(memory_needed(model.N), opts.max_memory, f"the Carmichael steady state at N = {model.N}",
                 "its thermodynamic limit <Jz>/j is order_parameter_tl(ratio); for the moments use a smaller N "
                 "(they converge like 1/N) or the cumulant method")
    j = model.N / 2.0
    diag, band1, band2 = _bands(model)
    mean, second = moments_from_bands(j, diag, band1, band2)
    a = absorber_parameter(model)
    extras = {
        "jz_over_j": float(mean[2] / j),
        "jz_over_j_tl": float(order_parameter_tl(model.ratio)),
        "a_real": a.real,
        "a_imag": a.imag,
        "j": j,
    }
    if return_state:
        if model.N > max_n:
            raise ValueError(f"return_state: N = {model.N} exceeds max_n = {max_n} for a dense state")
        extras["state"] = _dense(model)
    return Result([np.inf], mean[None], second[None], model, "carmichael", options=opts.to_dict(), extras=extras)


def order_parameter_tl(ratio):
    """Thermodynamic-limit order parameter <Jz>/j = -sqrt(1 - (Upsilon/Upsilon_c)^2), 0 above threshold."""
    r = np.asarray(ratio, dtype=float)
    if np.any(~np.isfinite(r) & ~np.isposinf(r)) or np.any(r < 0):
        raise ValueError("ratio (Upsilon/Upsilon_c) must be >= 0 and not NaN")
    rc = np.minimum(r, 1.0)
    out = np.where(r < 1, -np.sqrt(1.0 - rc * rc), 0.0)
    return out if out.ndim else float(out)


def phase_diagram(ratios, N, chi: float = 0.0, gamma: float = 1.0, *, progress: bool | None = None) -> dict:
    """Steady-state order parameter and squeezing over a grid of Upsilon/Upsilon_c (and N).

    Parameters
    ----------
    ratios : array_like (R,)
        Upsilon/Upsilon_c >= 0; the drive is Omega = N ratio Upsilon_c / 2, Upsilon_c = sqrt(Gamma^2 + 4 chi^2).
    N : int or array_like of int (K,)
    chi, gamma : float
        Exchange and collective emission (gamma > 0).
    progress : bool or None
        tqdm progress bar; None shows it only on a terminal.

    Returns
    -------
    dict with ``ratio`` (R,), ``N`` (K,) or int, ``jz_over_j``, ``xi2``, ``xi2_db``, ``n_eff``
    (shape (R,) for a scalar N, (K, R) otherwise) and ``jz_over_j_tl`` (R,), the thermodynamic limit.
    """
    from tqdm.auto import tqdm

    ratios = np.asarray(ratios, dtype=float)
    if ratios.ndim != 1 or ratios.size == 0:
        raise ValueError(f"ratios must be a non-empty 1-D sequence, got shape {ratios.shape}")
    if not np.all(np.isfinite(ratios)) or np.any(ratios < 0):
        raise ValueError("ratios must be finite and >= 0")
    scalar = np.ndim(N) == 0
    Ns = [check_N(n, "N") for n in np.atleast_1d(np.asarray(N, dtype=object))]
    if len(Ns) == 0:
        raise ValueError("N must be an integer or a non-empty sequence of integers")
    shape = (len(Ns), ratios.size)
    means, seconds = np.empty(shape + (3,)), np.empty(shape + (3, 3))
    jobs = [(a, b) for a in range(len(Ns)) for b in range(ratios.size)]
    for a, b in tqdm(jobs, disable=(not progress) if progress is not None else None, desc="phase diagram"):
        model = Model.from_upsilon_ratio(Ns[a], ratios[b], chi=chi, gamma=gamma)
        res = steady_state(model)
        means[a, b], seconds[a, b] = res.mean[0], res.second[0]
    from piqs_squeeze.observables import n_eff, xi2

    Narr = np.asarray(Ns, dtype=float)[:, None]
    out = {
        "ratio": ratios,
        "N": Ns[0] if scalar else np.asarray(Ns),
        "chi": float(chi),
        "gamma": float(gamma),
        "jz_over_j": means[..., 2] / (Narr / 2),
        "xi2": xi2(means, seconds, Narr),
        "n_eff": n_eff(seconds),
        "jz_over_j_tl": order_parameter_tl(ratios),
    }
    with np.errstate(divide="ignore"):
        out["xi2_db"] = 10 * np.log10(out["xi2"])
    if scalar:
        for key in ("jz_over_j", "xi2", "n_eff", "xi2_db"):
            out[key] = out[key][0]
    return out
