"""Shared plumbing of the figure modules: parameter sets (full / quick / overrides) and the disk cache.

A figure module is DATA plus a PLOT: ``FULL`` (the paper's parameters), ``QUICK`` (changes for
``--quick``), ``compute(quick, cache_dir, **overrides) -> dict`` calling the public API, and
``plot(data, out) -> paths``. The data dict holds numpy arrays and JSON-able values; ``cached``
stores it as ``<cache_dir>/<figure>-<hash>.npz`` where the hash covers the parameters, the
package version and the source of the piqs_squeeze package, so a re-plot with the same
parameters takes seconds and a changed method recomputes.
"""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from piqs_squeeze.runtime.fileio import atomic_write
from piqs_squeeze.result import jsonable

__all__ = ["resolve_params", "cached", "method_fingerprint", "CACHE_FORMAT"]

CACHE_FORMAT = "piqs_squeeze.figures/1"


def resolve_params(full: dict, quick_changes: dict, quick: bool, overrides: dict) -> dict:
    """The parameter set of one run: ``full``, updated with ``quick_changes`` if ``quick``,
    then with ``overrides``. An override that names no parameter raises ValueError."""
    if not isinstance(quick, (bool, np.bool_)):
        raise TypeError(f"quick must be a bool, got {quick!r}")
    unknown = sorted(set(overrides) - set(full))
    if unknown:
        raise ValueError(f"unknown figure parameter(s) {unknown}; parameters: {', '.join(sorted(full))}")
    params = dict(full)
    if quick:
        params.update(quick_changes)
    params.update(overrides)
    params["quick"] = bool(quick)
    return params


def method_fingerprint() -> str:
    """Hash of the code that computes a figure's data: :func:`piqs_squeeze.runtime.provenance.code_fingerprint`
    (the whole package source, library versions) and this figures package's source. Cached data
    computed by any other version are not reused."""
    from piqs_squeeze.runtime.provenance import code_fingerprint, source_hash

    text = json.dumps({"code": code_fingerprint(), "figures": source_hash(Path(__file__).parent)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _key(figure: str, params: dict) -> str:
    text = json.dumps(jsonable({"format": CACHE_FORMAT, "figure": figure, "params": params,
                                 "code": method_fingerprint()}), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _save(path: Path, data: dict) -> None:
    arrays, meta = {}, {}
    for k, v in data.items():
        if isinstance(v, np.ndarray) and v.dtype != object:
            arrays["a__" + k] = v
        else:
            meta[k] = jsonable(v)
    arrays["__meta__"] = np.array(json.dumps({"format": CACHE_FORMAT, "values": meta}))
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write(path, buf.getvalue())


def _load(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["__meta__"]))
        data = {k[3:]: f[k] for k in f.files if k.startswith("a__")}
    if meta.get("format") != CACHE_FORMAT:
        raise ValueError(f"{path}: not a figure cache file")
    data.update(meta["values"])
    return data


def cached(figure: str, params: dict, compute, cache_dir=None) -> dict:
    """``compute(params) -> dict`` through the disk cache ``<cache_dir>/<figure>-<hash>.npz``.

    Without ``cache_dir`` nothing is read or written. The returned dict always carries
    ``figure``, ``params`` and ``cache`` (the file used, or "") besides the computed data.
    An unreadable cache file is recomputed and overwritten.
    """
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"{figure}-{_key(figure, params)}.npz"
        if path.is_file():
            try:
                data = _load(path)
                data["cache"] = str(path)
                data["cache_hit"] = True
                return data
            except (ValueError, OSError, KeyError, json.JSONDecodeError):
                pass
    data = dict(compute(dict(params)))
    data["figure"] = figure
    data["params"] = jsonable(params)
    if path is not None:
        _save(path, data)
    data["cache"] = str(path) if path is not None else ""
    data["cache_hit"] = False
    return data


def evolution_method(method: str, N: int, exact_max_n: int) -> str:
    """``method`` itself, or for ``"auto"`` the paper's choice: the exact solver for
    N <= ``exact_max_n``, MCWF trajectories otherwise."""
    from piqs_squeeze.methods import registry

    if method != "auto":
        if method not in registry.available(None, "evolve"):
            raise ValueError(f"method must be 'auto' or one of {', '.join(registry.available(None, 'evolve'))}, "
                             f"got {method!r}")
        return method
    return "exact" if N <= exact_max_n else "mcwf"


def method_options(method: str, params: dict, **extra) -> dict:
    """Options of a time evolution: trajectories and seed for MCWF, nothing for deterministic methods."""
    if method == "mcwf":
        return {"ntraj": int(params["ntraj"]), "seed": int(params["seed"]), "progress": None, **extra}
    return {}


def trace(result, prefix: str = "") -> dict:
    """Arrays of one Result for a figure's data: ``t``, ``xi2``, ``n_eff``, ``xi2_err`` (NaN when the
    method has no statistical error), keys prefixed by ``prefix``."""
    err = result.extras.get("xi2_err")
    err = np.full(result.times.shape, np.nan) if err is None else np.asarray(err, dtype=float)
    return {prefix + "t": result.times, prefix + "xi2": result.xi2, prefix + "n_eff": result.n_eff,
            prefix + "xi2_err": err}


def sweep_table(name: str, spec: dict, cache_dir, workers=None):
    """Run a sweep (the sweep layer, :func:`piqs_squeeze.sweep.run_sweep`) and return its table.

    With ``cache_dir`` the sweep's checkpoints live in ``<cache_dir>/<name>-<spec hash>.sweep`` so
    an interrupted map resumes where it stopped; without it nothing is written."""
    from piqs_squeeze.sweep import SweepSpec, run_sweep

    spec = SweepSpec.from_dict(dict(spec, name=name))
    out = None if cache_dir is None else Path(cache_dir) / f"{name}-{spec.hash[:12]}.sweep"
    return run_sweep(spec, out, workers=workers, resume=True, force=out is not None, progress=None)
