"""The validation report: Markdown summary, PNG plots, and a JSON of every number.

Layout of the report directory::

    report.md      verdict table, then one section per check (tolerance, why, numbers, plots)
    report.json    {"summary": ..., "checks": [CheckResult.to_dict(), ...]} -- every number
    plots/*.png    one or more figures per check (axes in units of 1/Gamma)
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from piqs_squeeze.result import jsonable, provenance

from .registry import CLAIM_VERDICTS

__all__ = ["new_figure", "save_plot", "write_report", "verdict_line", "summary", "summary_line"]


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 4.2, height: float = 3.2):
    """A matplotlib Figure (not pyplot's: the backend is left alone) with ``nrows x ncols`` axes,
    sized for a supplement."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False).ravel()


def save_plot(fig, ctx, name: str) -> str:
    """Write ``fig`` as ``plots/<name>.png`` in the report directory; return the relative path."""
    path = ctx.plot_path(name)
    fig.savefig(path, dpi=130)
    return os.path.relpath(path, ctx.out)


def verdict_line(res) -> str:
    """``PASSED  name  message  (12.3 s)``: the line the CLI prints per check."""
    return f"{res.status:<7}  {res.name:<28}  {res.message}  ({res.seconds:.1f} s)"


def summary(results) -> dict:
    """Counts per status and paper-claim verdict; ``ok`` when nothing FAILED or crashed (ERROR).

    Paper claims (REPRODUCED, DIFFERS, NOT REPRODUCED) are findings about the physics and do not
    make ``ok`` false.
    """
    counts = {s: sum(r.status == s for r in results) for s in ("PASSED", "FAILED", "ERROR", "SKIPPED")
              + CLAIM_VERDICTS}
    counts["ok"] = counts["FAILED"] == 0 and counts["ERROR"] == 0
    return counts


def summary_line(s) -> str:
    """``12 passed, 0 failed, 0 errors, 0 skipped; paper claims: 3 reproduced, 1 differs, ...``."""
    line = f"{s['PASSED']} passed, {s['FAILED']} failed, {s['ERROR']} errors, {s['SKIPPED']} skipped"
    if s["REPRODUCED"] + s["DIFFERS"] + s["NOT REPRODUCED"]:
        line += (f"; paper claims: {s['REPRODUCED']} reproduced, {s['DIFFERS']} differ, "
                 f"{s['NOT REPRODUCED']} not reproduced")
    return line


def _fmt(v) -> str:
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.4g}"
    return str(v)


def _scalars(numbers, prefix=""):
    """Flatten the scalar (and short-list) entries of a numbers dict for the Markdown table."""
    rows = []
    for k, v in numbers.items():
        if k == "traceback":
            continue
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            rows += _scalars(v, key + ".")
        elif isinstance(v, (list, tuple, np.ndarray)):
            arr = np.asarray(v, dtype=object).ravel()
            if arr.size <= 8:
                rows.append((key, "[" + ", ".join(_fmt(x if not isinstance(x, np.floating) else float(x))
                                                    for x in arr) + "]"))
            else:
                rows.append((key, f"({arr.size} values, see report.json)"))
        else:
            rows.append((key, _fmt(float(v) if isinstance(v, (np.floating, np.integer)) else v)))
    return rows


def write_report(results, ctx, seconds: float, command: str = "") -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.json`` into ``ctx.out``; return their paths."""
    out = Path(ctx.out)
    out.mkdir(parents=True, exist_ok=True)
    summ = summary(results)
    meta = {"mode": ctx.mode, "seconds": seconds, "command": command, "perturb": ctx.perturb,
            "provenance": provenance(), "cpu_count": os.cpu_count()}
    doc = {"summary": summ, "meta": meta, "checks": [r.to_dict() for r in results]}
    jpath = out / "report.json"
    jpath.write_text(json.dumps(jsonable(doc), indent=1, allow_nan=True))

    lines = ["# piqs-squeeze validation report", ""]
    verdict = "ALL CHECKS PASSED" if summ["ok"] and not summ["SKIPPED"] else (
        "PASSED (with skipped checks)" if summ["ok"] else "FAILED")
    lines += [f"**{verdict}**: {summary_line(summ)}; mode `{ctx.mode}`, {seconds:.0f} s on {os.cpu_count()} cores "
              f"(machine shared with other jobs: wall times are indicative).", "",
              "Checks compare a method with an independent reference and PASS or FAIL against a stated "
              "tolerance. Paper claims (group 7) are recomputed and reported as REPRODUCED, DIFFERS (ours "
              "and the paper's numbers side by side) or NOT REPRODUCED; they do not change the exit status.", ""]
    if ctx.perturb:
        lines += [f"**Testing perturbation applied to the reference models: {ctx.perturb}** "
                  "(failures below are intended).", ""]
    p = meta["provenance"]
    lines += [f"piqs_squeeze {p['piqs_squeeze']}, qutip {p['qutip']}, numpy {p['numpy']}, "
              f"scipy {p['scipy']}, Python {p['python']}, {p['date']}.", "",
              "Times are in units of 1/Gamma (Gamma = 1). Every number is in `report.json`.", "",
              "| # | check | status | value | tolerance | paper | time (s) |", "|---|---|---|---|---|---|---|"]
    for r in results:
        val = "" if r.value is None else _fmt(float(r.value))
        if r.quantity:
            val = f"{val}: {r.quantity}" if val else r.quantity
        tol = "" if r.tolerance is None else _fmt(float(r.tolerance))
        lines.append(f"| {r.group} | [{r.name}](#{r.name}) | **{r.status}** | {val} | {tol} | {r.paper} | "
                     f"{r.seconds:.1f} |")
    lines.append("")
    for r in results:
        lines += [f"## {r.name}", "", f"*{r.title}* -- **{r.status}**", "", r.message, ""]
        if r.paper:
            lines += [f"Paper: {r.paper}.", ""]
        if r.tolerance is not None:
            lines += [f"Tolerance: {_fmt(float(r.tolerance))}. {r.why}", ""]
        elif r.why:
            lines += [r.why, ""]
        rows = _scalars(r.numbers)
        if rows:
            lines += ["| quantity | value |", "|---|---|"] + [f"| `{k}` | {v} |" for k, v in rows] + [""]
        if "traceback" in r.numbers:
            lines += ["```", str(r.numbers["traceback"]).rstrip(), "```", ""]
        for plot in r.plots:
            lines += [f"![{r.name}]({plot})", ""]
    mpath = out / "report.md"
    mpath.write_text("\n".join(lines))
    return mpath, jpath
