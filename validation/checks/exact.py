"""Checks 1 and 2: the exact (Dicke-block) solver against references built without our Dicke code.

1. Brute force in the full 2^N space (:mod:`piqs_squeeze.validation.bruteforce`: qutip-qip site operators,
   rotation-circuit initial state, qutip.mesolve).
2. qutip.piqs: its Liouvillian restricted to the block entries, and its dynamics (mesolve on the
   nds^2-dimensional Liouvillian) at N = 10-20.
"""
from __future__ import annotations

import numpy as np

import piqs_squeeze as ps
from piqs_squeeze.methods.exact.generator import Layout, generator_full

from ..cases import ALL_RATES, EXACT_OPTS, GENERAL_H, INITIALS, general_cases, make_model, reference_run
from ..registry import CheckResult, check, compare, max_rel_dev, moments_dev
from ..report import new_figure, save_plot

@check("exact_vs_bruteforce", group=1, needs=("exact",),
       title="exact solver vs brute force in the full 2^N space (all rates on)")
def exact_vs_bruteforce(ctx):
    from .. import bruteforce

    Ns = ctx.pick((2, 3, 4, 5, 6), (2, 3, 4, 5, 6, 7))
    times = np.linspace(0.0, ctx.pick(1.5, 3.0), ctx.pick(16, 31))
    tol = 1e-7
    devs, rows = {}, []
    worst = (None, -1.0)
    for N in Ns:
        for ip, p in enumerate(ALL_RATES):
            for ii, init in enumerate(INITIALS):
                model = make_model(N, p)
                ex = ps.evolve(model, times, method="exact", initial=init, **EXACT_OPTS)
                bf = bruteforce.evolve(ctx.reference_model(model), times, init)
                dm = max_rel_dev(ex.mean, bf.mean)
                ds = max_rel_dev(ex.second, bf.second)
                key = f"N{N}_p{ip}_i{ii}"
                devs[key] = max(dm, ds)
                rows.append((N, ip, ii, dm, ds))
                if devs[key] > worst[1]:
                    worst = ((ex, bf), devs[key])
    value = max(devs.values())
    # steady states: exact vs brute force null space of the 2^N Liouvillian
    ss = {}
    for N in Ns[1:4]:
        model = make_model(N, ALL_RATES[0])
        a = ps.steady_state(model, method="exact")
        b = bruteforce.steady_state(ctx.reference_model(model))
        ss[f"N{N}"] = moments_dev(a, b)
    value = max(value, max(ss.values()))
    (ex, bf), _ = worst
    fig, ax = new_figure(2)
    for a, lab in ((0, "x"), (1, "y"), (2, "z")):
        ax[0].plot(bf.times, bf.mean[:, a], "o", ms=3, mfc="none", label=rf"$\langle J_{lab}\rangle$ brute force")
        ax[0].plot(ex.times, ex.mean[:, a], "-", lw=1, label=rf"$\langle J_{lab}\rangle$ exact")
    ax[0].set_xlabel(r"$\Gamma t$")
    ax[0].set_ylabel("first moments")
    ax[0].set_title(f"worst case: N = {ex.N}", fontsize=9)
    ax[0].legend(fontsize=6)
    Nv = np.array([r[0] for r in rows])
    dv = np.array([max(r[3], r[4]) for r in rows])
    ax[1].semilogy(Nv + 0.05 * np.array([r[1] * 2 + r[2] for r in rows]), np.maximum(dv, 1e-17), "o",
                   label="max relative moment deviation")
    ax[1].axhline(tol, color="r", ls="--", label="tolerance")
    ax[1].set_xlabel("N (atoms)")
    ax[1].set_ylabel(r"max $|\Delta\,\mathrm{moment}|$ / max $|\mathrm{moment}|$")
    ax[1].legend(fontsize=7)
    plot = save_plot(fig, ctx, "exact_vs_bruteforce")
    return CheckResult(
        "exact_vs_bruteforce", status=compare(value, tol), tolerance=tol, value=value,
        why="Both sides integrate the same master equation with rtol = atol <= 1e-10 (brute force: "
            "qutip adams at 1e-12); the global error of such adaptive integrators over t <= 3/Gamma is "
            "1e-9 - 1e-8 of the largest moment, so 1e-7 leaves a safety factor of 10 while a "
            "wrong coefficient (any rate off by 1e-4 or more) shows up far above it.",
        numbers={"N": list(Ns), "times": times, "parameter_sets": list(ALL_RATES),
                 "initial_states": [i.to_dict() for i in INITIALS], "max_rel_dev": devs,
                 "steady_state_max_rel_dev": ss},
        plots=[plot],
        message=f"max relative moment deviation {value:.2e} over {len(devs)} runs, N = {Ns[0]}..{Ns[-1]}"
                f" and {len(ss)} steady states (tol {tol:g})")


# --------------------------------------------------------------------------- general Hamiltonians
#: An extra Hamiltonian with every kind of term (linear, squares, a symmetrised product).
@check("exact_general_vs_bruteforce", group=1, needs=("exact",),
       title="exact solver with general quadratic H, a protocol and ramps vs brute force in 2^N (all rates on)")
def exact_general_vs_bruteforce(ctx):
    from .. import bruteforce

    Ns = ctx.pick((3, 5), (2, 3, 4, 5, 6))
    # output times on the protocol's boundaries (0.4, 0.9) and between them
    times = np.unique(np.concatenate([np.linspace(0.0, ctx.pick(1.2, 1.8), ctx.pick(7, 13)), [0.4, 0.9]]))
    tol = 1e-7
    devs = {}
    for N in Ns:
        for label, run in general_cases(N, ctx.quick):
            ex = ps.evolve(run, times, method="exact", initial=INITIALS[1], progress=False, **EXACT_OPTS)
            bf = bruteforce.evolve(reference_run(ctx, run), times, INITIALS[1])
            devs[f"N{N}_{label}"] = moments_dev(ex, bf)
    value = max(devs.values())
    return CheckResult(
        "exact_general_vs_bruteforce", status=compare(value, tol), tolerance=tol, value=value,
        why="The brute force builds every Hamiltonian term from site operators (not from the Dicke "
            "bands), ramps as a qutip QobjEvo integrated by Adams at 1e-12 and the protocol segment by "
            "segment with mesolve; the exact side runs at rtol 1e-10 (ramps: CF4 Magnus with step "
            "doubling to that tolerance). Constant H agree to ~1e-11 of the largest moment; with ramps "
            "the brute force's Adams steps limit it to ~1e-9 (at rtol 1e-14 it agrees with the exact "
            "side to 4e-11, N = 6). 1e-7 leaves a factor 30 over that while a wrong band element or "
            "a mis-carried boundary state is O(1e-2) or more.",
        numbers={"N": list(Ns), "times": times, "max_rel_dev": devs, "hamiltonian": GENERAL_H},
        message=f"max relative moment deviation {value:.2e} over {len(devs)} runs (general H as dict and Qobj, "
                f"a 3-segment protocol with a ramped segment{', a ramp' if not ctx.quick else ''}), "
                f"N = {', '.join(map(str, Ns))} (tol {tol:g})")


# --------------------------------------------------------------------------- qutip.piqs
def _piqs_dicke(model):
    from qutip.piqs.piqs import Dicke, jspin

    jx, jy, jz = jspin(model.N)
    jp, jm = jspin(model.N, "+"), jspin(model.N, "-")
    H = model.chi * jp * jm + model.omega * jx
    return Dicke(model.N, hamiltonian=H, emission=model.gamma_s, dephasing=model.dephasing,
                 pumping=model.pumping, collective_emission=model.gamma,
                 collective_dephasing=model.collective_dephasing,
                 collective_pumping=model.collective_pumping)


def _block_index(N):
    """Column-stacked index in piqs' nds x nds matrix of every block entry, in our row-major order."""
    from piqs_squeeze import dicke

    nds = dicke.num_dicke_states(N)
    idx, start = [], 0
    for d in dicke.block_dims(N):
        k, l = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
        idx.append(((start + k) + nds * (start + l)).ravel())
        start += d
    return np.concatenate(idx), nds


@check("exact_vs_piqs_liouvillian", group=2, needs=("exact",),
       title="exact solver's generator vs qutip.piqs' Liouvillian, entry by entry on the Dicke blocks")
def exact_vs_piqs_liouvillian(ctx):
    Ns = ctx.pick((3, 6, 9), (3, 6, 9, 14, 20))
    tol = 1e-6
    out, leak = {}, {}
    for N in Ns:
        for ip, p in enumerate(ALL_RATES):
            model = make_model(N, p)
            ours = generator_full(model, Layout(N)).toarray()
            L = _piqs_dicke(ctx.reference_model(model)).liouvillian().data_as("csr_matrix").tocsr()
            idx, _ = _block_index(N)
            sub = L[idx][:, idx].toarray()
            out[f"N{N}_p{ip}"] = max_rel_dev(ours, sub, scale=max(np.abs(sub).max(), 1.0))
            # piqs must not couple block entries to the (unphysical) off-block entries
            rows = L[idx]
            leak[f"N{N}_p{ip}"] = float(abs(rows).sum() - abs(rows[:, idx]).sum()) / max(abs(rows).sum(), 1.0)
    value = max(max(out.values()), max(leak.values()))
    return CheckResult(
        "exact_vs_piqs_liouvillian", status=compare(value, tol), tolerance=tol, value=value,
        why="qutip.piqs computes its rate coefficients in single precision (float32 epsilon 6e-8 per "
            "factor, products of a few factors); its entries agree with exact ones to ~1e-7 of the "
            "largest entry (measured: <= 1e-7 for N <= 20). 1e-6 allows that with a factor 10 while any convention mismatch (a factor "
            "2, a wrong degeneracy ratio) is O(1).",
        numbers={"N": list(Ns), "max_rel_entry_dev": out, "off_block_coupling": leak,
                 "parameter_sets": list(ALL_RATES)},
        message=f"max entry deviation {max(out.values()):.2e} (relative to largest entry), "
                f"off-block coupling {max(leak.values()):.1e}, N = {', '.join(map(str, Ns))} (tol {tol:g})")


@check("exact_vs_piqs_dynamics", group=2, needs=("exact",),
       title="exact solver vs qutip.piqs mesolve dynamics at N = 10-20 (all rates on)")
def exact_vs_piqs_dynamics(ctx):
    import qutip

    from piqs_squeeze import dicke

    Ns = ctx.pick((10, 16), (10, 16, 20))
    times = np.linspace(0.0, ctx.pick(1.0, 2.0), ctx.pick(11, 21))
    tol = 1e-5
    devs, curves = {}, []
    for N in Ns:
        for ip, p in enumerate(ALL_RATES[: ctx.pick(1, 2)]):
            model = make_model(N, p)
            init = INITIALS[1]
            ex = ps.evolve(model, times, method="exact", initial=init, **EXACT_OPTS)
            dk = _piqs_dicke(ctx.reference_model(model))
            nds = dicke.num_dicke_states(N)
            psi = np.zeros(nds, complex)
            psi[: N + 1] = init.amplitudes(N)
            rho0 = qutip.Qobj(np.outer(psi, psi.conj()))
            sol = qutip.mesolve(dk.liouvillian(), rho0, times,
                                options={"rtol": 1e-10, "atol": 1e-12, "nsteps": 10**6})
            mean = np.zeros((times.size, 3))
            second = np.zeros((times.size, 3, 3))
            for t, s in enumerate(sol.states):
                M = s.full()
                start = 0
                # piqs' block entries carry the total weight of each sector (its trace is 1)
                for j, d in zip(dicke.j_values(N), dicke.block_dims(N)):
                    a, b = dicke.moments_from_density(j, M[start:start + d, start:start + d])
                    mean[t] += a
                    second[t] += b
                    start += d
            devs[f"N{N}_p{ip}"] = max(max_rel_dev(ex.mean, mean), max_rel_dev(ex.second, second))
            curves.append((N, ip, ex, ps.xi2(mean, second, N)))
    value = max(devs.values())
    fig, ax = new_figure(1)
    for N, ip, ex, x2 in curves:
        ax[0].plot(ex.times, ex.xi2_db, "-", label=f"exact, N = {N}, set {ip}")
        ax[0].plot(ex.times, 10 * np.log10(x2), "o", ms=3, mfc="none", label=f"qutip.piqs, N = {N}, set {ip}")
    ax[0].set_xlabel(r"$\Gamma t$")
    ax[0].set_ylabel(r"$\xi^2$ (dB)")
    ax[0].legend(fontsize=7)
    plot = save_plot(fig, ctx, "exact_vs_piqs_dynamics")
    return CheckResult(
        "exact_vs_piqs_dynamics", status=compare(value, tol), tolerance=tol, value=value,
        why="piqs' single-precision rates (~1e-6 relative, see exact_vs_piqs_liouvillian) propagate "
            "into the moments at the same relative level over t ~ 1/Gamma; both integrators run at "
            "rtol <= 1e-10. 1e-5 of the largest moment bounds that with a factor ~10 to spare.",
        numbers={"N": list(Ns), "times": times, "max_rel_dev": devs},
        plots=[plot],
        message=f"max relative moment deviation {value:.2e}, N = {', '.join(map(str, Ns))} (tol {tol:g})")
