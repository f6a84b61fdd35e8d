"""The labelled table of a sweep: one row per point (parameters, method, summaries, error).

Always a plain numpy structured array (:attr:`SweepTable.data`); :meth:`SweepTable.to_xarray`
gives a labelled ``xarray.Dataset`` over the grid axes when xarray is installed.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from piqs_squeeze.model import Model
from piqs_squeeze.result import Result, jsonable
from .store import atomic_write

__all__ = ["SweepTable", "load_sweep"]

DERIVED = ("ratio", "upsilon")


class SweepTable:
    """Rows of a sweep. ``table["min_xi2"]`` is a column, ``table.data`` the structured array.

    Columns: ``index``, ``method``, the sweep's parameters (as given in the spec), every other
    Model field and ``ratio``/``upsilon``, ``opt_<name>`` for each option-grid axis, the summary
    columns, ``error`` ("" when the point succeeded), ``elapsed`` (s per point) and ``result``
    (path of the saved Result, relative to the sweep directory, or "").
    """

    def __init__(self, columns: dict, *, spec=None, root=None, axes=None):
        self.columns = {k: np.asarray(v) for k, v in columns.items()}
        n = {len(v) for v in self.columns.values()}
        if len(n) > 1:
            raise ValueError(f"columns of unequal length: {n}")
        self.spec = spec or {}
        self.root = Path(root) if root is not None else None
        self.axes = list(axes or [])
        self.stats = {}

    @classmethod
    def from_records(cls, spec, points, records, root=None):
        """Table of ``points`` (from :meth:`SweepSpec.expand`) with their ``records``; points not
        (yet) computed have NaN summaries and the error ``"not computed"``."""
        names = spec.param_names()
        cols = {"index": np.array([p.index for p in points], dtype=np.int64),
                "method": [p.method for p in points]}
        for name in names + [f for f in Model.__dataclass_fields__ if f not in names] + \
                [d for d in DERIVED if d not in names]:
            if name == "hamiltonian":  # the whole dict as JSON; its terms swept one by one have their own columns
                cols[name] = [json.dumps(jsonable(p.model.hamiltonian.to_dict())) for p in points]
                continue
            if name == "cavity":  # the whole Cavity as JSON ("null" without one); swept fields have columns
                cols[name] = [json.dumps(jsonable(p.model.cavity)) for p in points]
                continue
            if name.startswith("cavity."):
                key = name[len("cavity."):]
                vals = [p.params[name] if name in p.params else getattr(p.model.cavity, key, np.nan) for p in points]
                cols[name] = np.asarray([np.nan if v is None else v for v in vals], dtype=float)
                continue
            vals = [p.params[name] if name in p.params else getattr(p.model, name) for p in points]
            cols[name] = np.asarray(vals, dtype=np.int64 if name == "N" else float)
        option_axes = []
        for m in spec.methods:
            option_axes += [k for k in m["option_grid"] if k not in option_axes]
        for k in option_axes:
            cols["opt_" + k] = [json.dumps(jsonable(p.options.get(k))) for p in points]
        cols["options"] = [json.dumps(jsonable(p.options), sort_keys=True) for p in points]
        summary_names = []
        for r in records.values():
            summary_names += [s for s in r.get("summaries", {}) if s not in summary_names]
        for s in summary_names:
            cols[s] = np.array([records.get(p.index, {}).get("summaries", {}).get(s, np.nan) for p in points],
                               dtype=float)
        missing = {"error": "not computed", "elapsed": np.nan, "result": None}
        for k, default in missing.items():
            vals = [records.get(p.index, missing).get(k, default) for p in points]
            cols[k] = np.array(vals, dtype=float) if k == "elapsed" else [v or "" for v in vals]
        axes = list(spec.grid) + ["opt_" + k for k in option_axes]
        if len(spec.methods) > 1:
            axes.insert(0, "method")
        return cls(cols, spec=spec.to_dict(), root=root, axes=axes)

    # ------------------------------------------------------------------ access
    def __len__(self):
        return len(self.columns["index"])

    def __getitem__(self, name):
        try:
            return self.columns[name]
        except KeyError:
            raise KeyError(f"no column {name!r}; columns: {', '.join(self.columns)}") from None

    def __repr__(self):
        n_err = int(np.sum(self.columns["error"] != "")) if len(self) else 0
        return f"SweepTable({len(self)} points, {n_err} errors, columns={list(self.columns)})"

    @property
    def names(self):
        return list(self.columns)

    @property
    def ok(self) -> np.ndarray:
        """Mask of points that finished without error."""
        return self.columns["error"] == ""

    @property
    def data(self) -> np.ndarray:
        """The table as a numpy structured array (strings as fixed-width unicode)."""
        arrays = [np.asarray(v) if np.asarray(v).dtype != object else np.asarray(v, dtype=str)
                  for v in self.columns.values()]
        dtype = [(k, a.dtype if a.dtype.kind != "U" else f"U{max(1, a.dtype.itemsize // 4)}")
                 for k, a in zip(self.columns, arrays)]
        out = np.empty(len(self), dtype=dtype)
        for k, a in zip(self.columns, arrays):
            out[k] = a
        return out

    def to_text(self, columns=None, digits: int = 4) -> str:
        """The table as aligned text, one row per point: ``columns`` (names, default all) with floats
        to ``digits`` significant digits (``piqs-squeeze sweep CONFIG --show a,b,c`` prints this)."""
        names = list(self.columns) if columns is None else list(columns)
        cols = [self[n] for n in names]  # KeyError naming the column and listing the others

        def cell(v):
            if isinstance(v, (float, np.floating)):
                return f"{float(v):.{digits}g}"
            return str(v)

        rows = [names] + [[cell(c[i]) for c in cols] for i in range(len(self))]
        widths = [max(len(r[j]) for r in rows) for j in range(len(names))]
        return "\n".join("  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in rows)

    def select(self, **conditions) -> "SweepTable":
        """Rows where every ``column == value`` (floats compared with a relative 1e-12)."""
        mask = np.ones(len(self), bool)
        for k, v in conditions.items():
            col = self[k]
            mask &= np.isclose(col, v, rtol=1e-12, atol=0) if col.dtype.kind == "f" else (col == v)
        return SweepTable({k: c[mask] for k, c in self.columns.items()}, spec=self.spec, root=self.root,
                          axes=self.axes)

    def pivot(self, value, x, y=None):
        """Gridded values: ``(xs, v)`` for 1-D or ``(xs, ys, V[len(ys), len(xs)])`` for a 2-D map.

        Each (x[, y]) must occur once (``select`` other axes first); missing cells are NaN.
        """
        xs, xi = np.unique(self[x], return_inverse=True)
        vals = np.asarray(self[value], dtype=float)
        if y is None:
            if len(xs) != len(self):
                raise ValueError(f"{x!r} repeats: select the other axes first ({self.axes})")
            out = np.full(len(xs), np.nan)
            out[xi] = vals
            return xs, out
        ys, yi = np.unique(self[y], return_inverse=True)
        if len(set(zip(xi.tolist(), yi.tolist()))) != len(self):
            raise ValueError(f"({x!r}, {y!r}) repeats: select the other axes first ({self.axes})")
        out = np.full((len(ys), len(xs)), np.nan)
        out[yi, xi] = vals
        return xs, ys, out

    def result(self, row: int) -> Result:
        """The full Result of a row (needs ``save_results`` and a sweep directory)."""
        path = self.columns["result"][row]
        if not path or self.root is None:
            raise ValueError(f"row {row}: no saved Result (run the sweep with save_results = true and out=DIR)")
        return Result.load(self.root / path)

    def to_xarray(self, dims=None):
        """``xarray.Dataset`` of the numeric columns over ``dims`` (default: the grid axes,
        plus ``method`` and option axes when they vary). Needs xarray (optional)."""
        try:
            import xarray as xr
        except ModuleNotFoundError:
            raise ModuleNotFoundError("to_xarray needs xarray (pip install xarray); .data is the plain table") from None
        dims = list(dims or self.axes)
        if not dims:
            raise ValueError("no grid axes: give dims")
        index = [self[d] for d in dims]
        coords = [np.unique(c) for c in index]
        pos = tuple(np.searchsorted(c, i) for c, i in zip(coords, index))
        if len(set(zip(*[p.tolist() for p in pos]))) != len(self):
            raise ValueError(f"dims {dims} do not identify the rows uniquely")
        shape = tuple(len(c) for c in coords)
        data = {}
        for k, v in self.columns.items():
            if k in dims:
                continue
            fill = np.nan if v.dtype.kind in "fi" else ""
            arr = np.full(shape, fill, dtype=float if v.dtype.kind in "fi" else object)
            arr[pos] = v
            data[k] = (dims, arr)
        return xr.Dataset(data, coords=dict(zip(dims, coords)))

    # ------------------------------------------------------------------ save / load
    def save(self, path) -> Path:
        """Write ``.npz`` (exact, with the spec) and a ``.csv`` beside it, atomically."""
        path = Path(path).with_suffix(".npz")
        buf = io.BytesIO()
        np.savez(buf, table=self.data, meta=np.array(json.dumps({"spec": self.spec, "axes": self.axes})))
        atomic_write(path, buf.getvalue())
        text = io.StringIO()
        w = csv.writer(text)
        w.writerow(self.columns)
        for row in zip(*self.columns.values()):
            w.writerow([repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in row])
        atomic_write(path.with_suffix(".csv"), text.getvalue().encode())
        return path

    @classmethod
    def load(cls, path) -> "SweepTable":
        path = Path(path)
        with np.load(path, allow_pickle=False) as f:
            data, meta = f["table"], json.loads(str(f["meta"]))
        cols = {k: data[k] for k in data.dtype.names}
        return cls(cols, spec=meta["spec"], root=path.parent, axes=meta["axes"])


def load_sweep(directory) -> SweepTable:
    """Table of a sweep directory as far as it got (unfinished points: error "not computed")."""
    from .spec import SweepSpec
    from .store import SweepStore

    store = SweepStore(directory)
    manifest = store.manifest()
    if manifest is None:
        raise FileNotFoundError(f"{directory}: no sweep manifest")
    spec = SweepSpec.from_dict(manifest["spec"])
    records = store.load_records(manifest["hash"])
    return SweepTable.from_records(spec, spec.expand(), records, root=store.root)
