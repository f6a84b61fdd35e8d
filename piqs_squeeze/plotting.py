"""Quick-look plots of Results (the paper's figures have their own style in ``figures/``).

Plots are :class:`matplotlib.figure.Figure` objects, not pyplot figures: making one neither
chooses nor changes the matplotlib backend (a notebook's or a Qt session's stays as it is).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_results", "save_figure", "model_title"]


def save_figure(fig, path_stem) -> list[Path]:
    """Save ``fig`` as PNG (300 dpi) and PDF next to each other; returns the paths."""
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    fig.savefig(paths[0], dpi=300, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths


def plot_results(results, title=None):
    """xi^2(t) in dB and N_eff(t) of one or more Results (error bars where the method has them).

    Returns the matplotlib Figure (not registered with pyplot; ``save_figure`` writes it).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 5.0), layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    for r in results:
        finite = np.isfinite(r.times)
        label = r.method
        line, = ax1.plot(r.times[finite], r.xi2_db[finite], label=label)
        err = r.extras.get("xi2_err")
        if err is not None:  # the band in its curve's colour
            err = np.asarray(err, dtype=float)
            lo = 10 * np.log10(np.clip(r.xi2 - err, 1e-12, None))
            hi = 10 * np.log10(r.xi2 + err)
            ax1.fill_between(r.times[finite], lo[finite], hi[finite], color=line.get_color(), alpha=0.25, lw=0,
                             label=f"{label} +- 1 s.e.")
        ax2.plot(r.times[finite], r.n_eff[finite], color=line.get_color(), label=label)
    model = results[0].model
    ax1.axhline(0.0, color="0.6", lw=0.8)
    ax1.set_ylabel(r"$\xi^2$ (dB)")
    ax2.axhline(model.n_c, color="k", lw=0.8, ls="--", label=r"$N_c = 2\Omega/\Upsilon_c$")
    ax2.set_ylabel(r"$N^{\mathrm{eff}}$")
    ax2.set_xlabel(r"$\Gamma t$")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    ax1.set_title(title or model_title(model), fontsize=7)
    return fig


def model_title(model) -> str:
    """A readable one-line description of a Model for plot titles (mathtext), e.g.
    ``N = 20, Upsilon/Upsilon_c = 0.9, chi = 1, gamma_s = 1`` with only the non-zero rates."""
    parts = [f"$N = {model.N}$", rf"$\Upsilon/\Upsilon_c = {model.ratio:.4g}$ ($\Omega = {model.omega:.4g}$)"]
    names = {"chi": r"\chi", "gamma": r"\Gamma", "gamma_s": r"\gamma_s", "dephasing": r"\gamma_\phi",
             "pumping": r"\gamma_p", "collective_dephasing": r"\Gamma_\phi", "collective_pumping": r"\Gamma_p"}
    for k, sym in names.items():
        v = getattr(model, k)
        if v != 0 or k in ("chi", "gamma"):
            parts.append(f"${sym} = {v:.4g}$")
    return ", ".join(parts)
