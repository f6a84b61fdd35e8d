"""Check 4: MCWF trajectories against the exact density-matrix evolution."""
from __future__ import annotations

import matplotlib.ticker
import numpy as np

import piqs_squeeze as ps

from .checks_exact import ALL_RATES, INITIALS, _model, reference_evolve
from .core import CheckResult, check
from .report import new_figure, save_plot


def _flat(mean, second):
    """The 9 independent moments <J_a>, <(J_a J_b + J_b J_a)/2> (a <= b) along the last axes."""
    iu = np.triu_indices(3)
    return np.concatenate([mean, second[..., iu[0], iu[1]]], axis=-1)


@check("mcwf_vs_exact", group=4, needs=("mcwf",),
       title="MCWF ensemble vs exact: moments within k standard errors, error ~ 1/sqrt(ntraj)")
def mcwf_vs_exact(ctx):
    Ns = ctx.pick((6,), (6, 10))
    ntraj = ctx.pick(512, 4096)
    times = np.linspace(0.0, 1.5, 16)
    k = 5.0
    numbers, zmax, slopes, frac2 = {}, [], [], []
    fig, ax = new_figure(2)
    for N in Ns:
        model = _model(N, ALL_RATES[0])
        init = INITIALS[1]
        ref = reference_evolve(ctx, model, times, init)
        mc = ps.evolve(model, times, method="mcwf", initial=init, ntraj=ntraj, seed=20220 + N,
                       keep_trajectories=True, workers=2, progress=False)
        x_ref = _flat(ref.mean, ref.second)
        x_mc = _flat(mc.mean, mc.second)
        err = _flat(mc.mean_err, mc.second_err)
        diff = np.abs(x_mc - x_ref)
        scale = max(np.abs(x_ref).max(), 1.0)
        live = err > 1e-12 * scale  # at t = 0 every trajectory is the same state: no spread
        z = diff[live] / err[live]
        # where the ensemble has no spread the average must equal the reference exactly
        dead = float(diff[~live].max() / scale) if (~live).any() else 0.0
        zmax.append(float(z.max()) if dead < 1e-9 else np.inf)
        frac2.append(float(np.mean(z <= 2.0)))
        # error vs ntraj: disjoint subsets of n trajectories, rms error over moments and times
        tm = np.asarray(mc.extras["traj_mean"])
        ts = np.asarray(mc.extras["traj_second"])
        per = _flat(tm, ts)  # (ntraj, T, 9)
        sizes = [n for n in (16, 64, 256, 1024, 4096) if n <= ntraj]
        rms = []
        for n in sizes:
            groups = per[: (ntraj // n) * n].reshape(ntraj // n, n, *per.shape[1:]).mean(axis=1)
            rms.append(float(np.sqrt(np.mean(((groups - x_ref) / scale) ** 2))))
        slope = float(np.polyfit(np.log(sizes), np.log(rms), 1)[0])
        slopes.append(slope)
        numbers[f"N{N}"] = {"ntraj": ntraj, "max_z": zmax[-1], "fraction_within_2se": frac2[-1],
                            "spreadless_dev": dead, "subset_sizes": sizes, "rms_rel_error": rms,
                            "fit_exponent": slope, "xi2_exact": ref.xi2, "xi2_mcwf": mc.xi2,
                            "xi2_err": mc.extras.get("xi2_err")}
        line, = ax[0].plot(ref.times, ref.xi2_db, "-", label=f"exact, N = {N}")
        e = np.asarray(mc.extras.get("xi2_err", np.zeros(times.size)), float)
        ax[0].errorbar(mc.times, mc.xi2_db, yerr=10 / np.log(10) * e / mc.xi2, fmt="o", ms=3, mfc="none",
                       color=line.get_color(), label=f"MCWF, {ntraj} traj.")
        ax[1].loglog(sizes, rms, "o-", color=line.get_color(), label=f"N = {N} (slope {slope:.2f})")
        ax[1].loglog(sizes, rms[0] * np.sqrt(sizes[0] / np.asarray(sizes, float)), "k--", lw=1)
    ax[0].set_xlabel(r"$\Gamma t$")
    ax[0].set_ylabel(r"$\xi^2$ (dB)")
    ax[0].legend(fontsize=7)
    ax[1].set_xlabel("trajectories per ensemble")
    ax[1].xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax[1].set_ylabel("rms relative moment error")
    ax[1].plot([], [], "k--", lw=1, label=r"$\propto 1/\sqrt{n_{traj}}$")
    ax[1].legend(fontsize=7)
    plot = save_plot(fig, ctx, "mcwf_vs_exact")
    value = max(zmax)
    ok = value <= k and all(abs(s + 0.5) <= 0.15 for s in slopes) and min(frac2) >= 0.85
    return CheckResult(
        "mcwf_vs_exact", status="PASSED" if ok else "FAILED", tolerance=k, value=value,
        why=f"Each ensemble moment is a mean of ntraj independent samples, so its deviation from the exact "
            f"moment divided by the standard error is ~N(0,1). Over ~{times.size * 9} (time-correlated) "
            f"comparisons a Gaussian exceeds {k:g} sigma with probability < 1e-3 (seeds are fixed, so the "
            f"run is reproducible); we also require >= 85% within 2 sigma (95% expected) and an rms error "
            f"decaying as ntraj^(-0.5 +- 0.15) over disjoint sub-ensembles.",
        numbers=numbers, plots=[plot],
        message=f"max |MCWF - exact| = {value:.2f} standard errors (tol {k:g}), "
                f"{100 * min(frac2):.0f}% within 2 s.e., error ~ ntraj^{np.mean(slopes):.2f}")
