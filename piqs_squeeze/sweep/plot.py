"""Plot helpers for sweep tables: 1-D curves and 2-D maps (matplotlib)."""
from __future__ import annotations

import numpy as np

__all__ = ["plot_curve", "plot_map"]


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


def plot_curve(table, x, y, by=None, ax=None, **kwargs):
    """Plot column ``y`` against ``x`` for the successful rows, one line per value of ``by``.

    Returns the matplotlib Axes. Rows with an error are skipped (and counted in the title).
    """
    ax = _ax(ax)
    sel = table
    ok = sel.ok
    keys = [None] if by is None else list(dict.fromkeys(sel[by][ok].tolist()))
    for k in keys:
        m = ok if k is None else ok & (sel[by] == k)
        order = np.argsort(sel[x][m], kind="stable")
        label = None if k is None else f"{by} = {k:.4g}" if isinstance(k, float) else f"{by} = {k}"
        ax.plot(sel[x][m][order], sel[y][m][order], label=label, **kwargs)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if by is not None:
        ax.legend()
    if (~ok).any():
        ax.set_title(f"{int((~ok).sum())} points failed (see table['error'])", fontsize="small")
    return ax


def plot_map(table, x, y, value, ax=None, colorbar=True, **kwargs):
    """Colour map of column ``value`` over the (x, y) grid (``pcolormesh``; failed points blank).

    Select the other grid axes first (``table.select(...)``) so that each (x, y) occurs once.
    Returns the QuadMesh.
    """
    ax = _ax(ax)
    vals = np.where(table.ok, table[value], np.nan)
    from .table import SweepTable

    tmp = SweepTable(dict(table.columns, _v=vals))
    xs, ys, grid = tmp.pivot("_v", x, y)
    mesh = ax.pcolormesh(xs, ys, np.ma.masked_invalid(grid), shading="nearest", **kwargs)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label=value)
    return mesh
