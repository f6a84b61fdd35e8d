"""One style for every figure of the paper: sizes, fonts, axis labels, reference lines, saving.

Sizes are the paper's columns (Phys. Rev.): 3.4 in single column, 7 in double column. Every
figure is written as a vector PDF and a 300 dpi PNG. Quick (reduced) versions carry a visible
"quick" stamp so they are never mistaken for the paper-size computation.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

# Subsetting the mathtext fonts into the PDF makes fontTools log harmless warnings about the
# fonts' own time stamps on every save.
logging.getLogger("fontTools").setLevel(logging.ERROR)

__all__ = [
    "SINGLE", "DOUBLE", "LABELS", "COLORS", "DPI", "rc", "new_figure", "save",
    "threshold_lines", "nc_line", "stamp_quick", "panel_label", "to_db", "db_band",
]

SINGLE = 3.4  #: single-column width (in)
DOUBLE = 7.0  #: double-column width (in)
DPI = 300

#: Axis labels in the paper's units (time in 1/Gamma, drive in Upsilon_c, rates in Gamma).
LABELS = {
    "t": r"$\Gamma t$",
    "ratio": r"$\Upsilon/\Upsilon_c$",
    "gamma_s": r"$\gamma_s/\Gamma$",
    "chi": r"$\chi/\Gamma$",
    "upsilon": r"$2\Omega/N\Gamma$",
    "xi2": r"$\xi^2$",
    "xi2_db": r"$\xi^2$ (dB)",
    "min_xi2_db": r"min $\xi^2$ (dB)",
    "n_eff": r"$N^{\mathrm{eff}}$",
    "jz": r"$\langle \hat J_z\rangle/(N/2)$",
}

#: Colours: red/blue for the paper's Upsilon_c / Upsilon'_c boundaries, a sequence for curves.
COLORS = {
    "upsilon_c": "tab:red",
    "upsilon_c_prime": "tab:blue",
    "n_c": "k",
    "cumulant": "tab:blue",
    "mcwf": "tab:red",
    "exact": "k",
    "trajectory": "0.6",
    "cycle": ["k", "tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown"],
}

_RC = {
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "legend.fontsize": 6.5,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "lines.linewidth": 1.1,
    "axes.linewidth": 0.6,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "legend.frameon": True,  # legends keep a background: curves never run through them
    "legend.framealpha": 0.9,
    "legend.facecolor": "white",
    "legend.edgecolor": "0.8",
    "legend.fancybox": False,
    "legend.borderpad": 0.3,
    "savefig.dpi": DPI,
    "pdf.fonttype": 42,
    "mathtext.fontset": "cm",
}


def rc():
    """Context manager applying the figure style (``with rc(): ...``)."""
    import matplotlib

    return matplotlib.rc_context(_RC)


def new_figure(width: str | float = "single", height: float | None = None, **subplots_kw):
    """A Figure at a paper column width (``"single"`` 3.4 in, ``"double"`` 7 in, or inches)
    with ``Figure.subplots(**subplots_kw)`` axes and constrained layout. Returns (fig, axes).

    A :class:`matplotlib.figure.Figure`, not pyplot's: the backend is neither chosen nor changed."""
    from matplotlib.figure import Figure

    w = {"single": SINGLE, "double": DOUBLE}.get(width, width)
    if not isinstance(w, (int, float)) or not w > 0:
        raise ValueError(f"width must be 'single', 'double' or a positive number of inches, got {width!r}")
    h = height if height is not None else w * 0.75
    with rc():
        fig = Figure(figsize=(w, h), layout="constrained")
        axes = fig.subplots(**subplots_kw)
    return fig, axes


def stamp_quick(fig, quick: bool, note: str = "") -> None:
    """Mark a reduced (``--quick``) figure in its bottom-right corner, in a strip of its own below
    the axes (the constrained layout is told to leave it free, so the stamp never covers a label)."""
    if quick:
        strip = 9.0 / 72 / fig.get_figheight()  # 9 pt
        engine = fig.get_layout_engine()
        if engine is not None and hasattr(engine, "set"):
            engine.set(rect=(0.0, strip, 1.0, 1.0 - strip))
        fig.text(0.995, 0.003, "quick" + (f": {note}" if note else ""), ha="right", va="bottom",
                 fontsize=6, color="tab:red", alpha=0.85)


def panel_label(ax, text: str) -> None:
    """Panel letter such as "(a)" just outside the axes' upper-left corner (above the y tick labels),
    where no curve, legend or title reaches."""
    ax.annotate(text, xy=(0.0, 1.0), xycoords="axes fraction", xytext=(-3, 4), textcoords="offset points",
                ha="right", va="bottom", fontsize=8, fontweight="bold", annotation_clip=False)


def db_band(ax, t, x, err, color, alpha=0.2):
    """Shaded x +- err band of a linear xi^2 drawn on a dB axis, in the colour of its curve
    (the lower edge is clipped at 1e-3 = -30 dB where err >= x)."""
    x, err = np.asarray(x, float), np.asarray(err, float)
    if not np.any(np.isfinite(err)):
        return
    lo = to_db(np.clip(x - err, 1e-3, None))
    hi = to_db(x + err)
    ax.fill_between(t, lo, hi, color=color, alpha=alpha, lw=0)


def threshold_lines(ax, upsilon_c: float = 1.0, orientation: str = "v", prime: bool = True,
                    c: bool = True, label: bool = True) -> None:
    """Draw the paper's drive thresholds Upsilon_c (red) and Upsilon'_c = Upsilon_c / sqrt 2 (blue).

    ``upsilon_c`` is the value in the axis' units (1 on an Upsilon/Upsilon_c axis).
    """
    line = ax.axvline if orientation == "v" else ax.axhline
    if c:
        line(upsilon_c, color=COLORS["upsilon_c"], lw=0.8, ls="--",
             label=r"$\Upsilon_c$" if label else None)
    if prime:
        line(upsilon_c / math.sqrt(2.0), color=COLORS["upsilon_c_prime"], lw=0.8, ls="--",
             label=r"$\Upsilon_c'$" if label else None)


def nc_line(ax, n_c: float, label: bool = True, **kw) -> None:
    """Horizontal line at the critical effective atom number N_c = 2 Omega / Upsilon_c."""
    kw = {"color": COLORS["n_c"], "lw": 0.8, "ls": "-", **kw}
    ax.axhline(n_c, label=r"$N_c = 2\Omega/\Upsilon_c$" if label else None, **kw)


def to_db(x):
    """10 log10(x) with 0 and negatives mapped to NaN (nothing to plot)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, 10.0 * np.log10(np.where(x > 0, x, 1.0)), np.nan)


def save(fig, out, name: str) -> list[Path]:
    """Write ``<out>/<name>.pdf`` (vector) and ``<out>/<name>.png`` (300 dpi)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.pdf", out / f"{name}.png"]
    with rc():
        fig.savefig(paths[0])
        fig.savefig(paths[1], dpi=DPI)
    return paths
