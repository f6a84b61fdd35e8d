"""Quick-look plots of Results (the paper's figures have their own style in ``figures/``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_results", "save_figure"]


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

    Returns the matplotlib Figure.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(5.0, 5.0), sharex=True, constrained_layout=True)
    for r in results:
        finite = np.isfinite(r.times)
        label = r.method
        ax1.plot(r.times[finite], r.xi2_db[finite], label=label)
        err = r.extras.get("xi2_err")
        if err is not None:
            err = np.asarray(err, dtype=float)
            lo = 10 * np.log10(np.clip(r.xi2 - err, 1e-12, None))
            hi = 10 * np.log10(r.xi2 + err)
            ax1.fill_between(r.times[finite], lo[finite], hi[finite], alpha=0.25)
        ax2.plot(r.times[finite], r.n_eff[finite], label=label)
    model = results[0].model
    ax1.axhline(0.0, color="0.6", lw=0.8)
    ax1.set_ylabel(r"$\xi^2$ (dB)")
    ax2.axhline(model.n_c, color="k", lw=0.8, ls="--", label=r"$N_c = 2\Omega/\Upsilon_c$")
    ax2.set_ylabel(r"$N_{\mathrm{eff}}$")
    ax2.set_xlabel(r"$\Gamma t$")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    ax1.set_title(title or str(model), fontsize=7)
    return fig
