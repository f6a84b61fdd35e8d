"""The runner of the validation suite: loads the check modules of ``checks/`` and runs the
checks they registered (:mod:`.registry`).

Checks whose methods are not available in this version are SKIPPED (never counted as passed); a
check that raises is reported as ERROR (counted as a failure).
"""
from __future__ import annotations

import importlib
import time
import traceback

from .registry import REGISTRY, CheckResult, Context

__all__ = ["CHECK_MODULES", "load_checks", "run_checks"]

#: The modules of ``checks/``, in the report's order.
CHECK_MODULES = ("exact", "exact_steady", "correlations", "carmichael", "mcwf", "cumulant", "cavity", "paper",
                 "scale")


def _missing(needs) -> list[str]:
    from piqs_squeeze.methods import registry

    out = []
    for need in needs:
        method, _, kind = need.partition(":")
        if method not in registry.available(None, kind or "evolve"):
            out.append(f"method {method!r} does not compute {kind or 'evolve'}")
    return out


def load_checks() -> None:
    """Import the check modules, which registers their checks in :data:`.registry.REGISTRY`."""
    for name in CHECK_MODULES:
        importlib.import_module(f"{__package__}.checks.{name}")


def run_checks(ctx: Context, only=None, progress=None, on_result=None) -> list[CheckResult]:
    """Run the registered checks (all, or the names in ``only``) and return their results.

    ``on_result(result)`` is called after each check (the CLI prints the verdict line there).
    """
    from tqdm.auto import tqdm

    load_checks()
    names = list(REGISTRY)
    if only:
        unknown = [n for n in only if n not in REGISTRY]
        if unknown:
            raise ValueError(f"--only: unknown check(s) {unknown}; known: {names}")
        names = [n for n in names if n in only]
    results = []
    for name in tqdm(names, desc="validate", disable=(not progress) if progress is not None else None):
        entry = REGISTRY[name]
        t0 = time.perf_counter()
        missing = _missing(entry.needs)
        if missing:
            res = CheckResult(name, entry.title, "SKIPPED", message="; ".join(missing))
        else:
            try:
                res = entry.fn(ctx)
            except Exception as exc:  # a crashing check is a failing check, with its traceback
                res = CheckResult(name, entry.title, "ERROR", message=f"{type(exc).__name__}: {exc}",
                                  numbers={"traceback": traceback.format_exc()})
        res.name, res.group = name, entry.group
        res.title = res.title or entry.title
        res.seconds = time.perf_counter() - t0
        results.append(res)
        if on_result is not None:
            on_result(res)
    return results
