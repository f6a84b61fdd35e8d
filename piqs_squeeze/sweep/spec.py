"""Sweep specifications: a grid of Model parameters x methods x method options, and its points.

A sweep is described by a plain dict (or a TOML/JSON file with the same keys)::

    name = "fig3a"
    summaries = ["min_transient_xi2", "final"]    # see piqs_squeeze.sweep.summaries
    save_results = false                           # also keep every full Result
    seed = 1234                                    # per-point seeds for stochastic methods

    [fixed]                  # parameters shared by every point
    N = 10000
    chi = 1.0

    [grid]                   # cartesian product; a list or {start, stop, num[, log]}
    ratio = {start = 0.5, stop = 1.5, num = 41}
    gamma_s = [1.0, 10.0, 100.0]

    [times]                  # fixed array (a list) or a rule: t = linspace(t_start, t_end, num) / rate
    t_end = 5.0
    unit = "gamma_s"         # one of TIME_UNITS (gamma, gamma_s, upsilon_c, ...) or omitted
    num = 401

    [[methods]]              # a name, or {method, options, option_grid}
    method = "cumulant"

A methods entry's ``options`` (one value each) and ``option_grid`` (a list of values each) are
the method's options (``piqs_squeeze.method_options(method, kind)`` lists them): a misspelled
name or a bad value fails when the spec is read and expanded, before any point is computed.
``method`` may also be the dotted path of a custom method module (see
:mod:`piqs_squeeze.methods.registry`).

``points`` (a list of dicts) gives an explicit list of parameter sets; with ``grid`` as well,
the sweep is the product of the two. Parameter names are the :class:`~piqs_squeeze.Model`
fields, plus ``ratio`` (Upsilon / Upsilon_c, see :meth:`Model.from_upsilon_ratio`) or
``upsilon`` (2 Omega / N) in place of ``omega``, ``theta``/``phi`` for the initial
coherent spin state, and ``hamiltonian.<term>`` for one coefficient of the extra Hamiltonian
(any key of :data:`piqs_squeeze.hamiltonian.KEYS`, e.g. ``hamiltonian.Jz`` or
``"hamiltonian.Jz Jz"``; they are collected into the Model's ``hamiltonian`` dict, on top of a
``hamiltonian`` table given whole)::

    [grid]
    "hamiltonian.Jz" = [0.0, 0.5, 1.0]

A config is checked whole before any point is computed, and refused with a message naming the
offending entry: a parameter set both in ``fixed`` and ``grid`` (or in ``grid`` and a ``points``
entry; a ``points`` entry may override ``fixed``), a ``times.unit`` that is not one of
:data:`TIME_UNITS`, and a file that is not valid TOML/JSON/YAML (the message names the file and
the line). The command line exits with status 2 on these, having computed nothing.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import numbers
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from piqs_squeeze.hamiltonian import KEYS as HAMILTONIAN_KEYS, _ALIASES as HAMILTONIAN_ALIASES
from piqs_squeeze.methods import registry
from piqs_squeeze.methods.registry import MethodError
from piqs_squeeze.model import Model, check_times
from piqs_squeeze.runtime.provenance import code_fingerprint
from piqs_squeeze.result import jsonable
from piqs_squeeze.states import CoherentSpinState

__all__ = ["SweepSpec", "Point", "load_config", "TIME_UNITS"]

MODEL_FIELDS = tuple(f.name for f in fields(Model))
DRIVE_ALIASES = ("omega", "ratio", "upsilon")
INITIAL_PARAMS = ("theta", "phi")
PARAM_NAMES = MODEL_FIELDS + ("ratio", "upsilon") + INITIAL_PARAMS
#: prefix of the parameters that set one term of the Model's ``hamiltonian``
TERM_PREFIX = "hamiltonian."
#: rates a times rule may be measured in (``unit``): t = linspace(t_start, t_end, num) / model.<unit>
TIME_UNITS = ("gamma", "gamma_s", "dephasing", "pumping", "collective_dephasing", "collective_pumping",
              "chi", "omega", "upsilon", "upsilon_c", "upsilon_c_prime")


def _term_key(name: str):
    """The Hamiltonian key of a ``hamiltonian.<term>`` parameter name (None for other names)."""
    if not name.startswith(TERM_PREFIX):
        return None
    key = " ".join(name[len(TERM_PREFIX):].split())
    key = HAMILTONIAN_ALIASES.get(key, key)
    return key if key in HAMILTONIAN_KEYS else None


def _hash(obj) -> str:
    text = json.dumps(jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- methods
def _options_class(method: str, kind: str):
    """The options class of a method (None for a custom module without OPTIONS); raises for an
    unknown method or one without ``kind``."""
    try:
        return registry.options_class(method, kind)
    except MethodError as exc:
        raise ValueError(f"methods entry {method!r}: {exc}") from None


def code_fingerprints(spec) -> dict:
    """Fingerprint of the code that makes a sweep's numbers (:func:`piqs_squeeze.runtime.provenance.code_fingerprint`:
    the whole package source, the numerical libraries' versions, and the file of every custom method
    or summary module outside the package). A resumed sweep must match it."""
    from .summaries import SUMMARIES

    mods = [registry.module_path(m["method"]) for m in spec.methods]
    mods += [SUMMARIES[s["name"]].__module__ for s in spec.summaries]
    return code_fingerprint(mods)


# --------------------------------------------------------------------------- values
def _values(name, spec):
    """Grid axis: a list of values or ``{start, stop, num[, log]}`` (linspace / geomspace)."""
    if isinstance(spec, dict):
        unknown = set(spec) - {"start", "stop", "num", "log", "values"}
        if unknown:
            raise ValueError(f"grid[{name!r}]: unknown keys {sorted(unknown)}")
        if "values" in spec:
            return _values(name, spec["values"])
        try:
            start, stop, num = float(spec["start"]), float(spec["stop"]), int(spec["num"])
        except KeyError as exc:
            raise ValueError(f"grid[{name!r}] needs start, stop and num (missing {exc})") from None
        if num < 1:
            raise ValueError(f"grid[{name!r}]: num must be >= 1, got {num}")
        if spec.get("log", False):
            if start <= 0 or stop <= 0:
                raise ValueError(f"grid[{name!r}]: log spacing needs start, stop > 0")
            return np.geomspace(start, stop, num).tolist()
        return np.linspace(start, stop, num).tolist()
    if isinstance(spec, (str, bytes)) or not hasattr(spec, "__iter__"):
        raise TypeError(f"grid[{name!r}] must be a list of values or {{start, stop, num}}, got {spec!r}")
    vals = [v.item() if isinstance(v, np.generic) else v for v in spec]
    if not vals:
        raise ValueError(f"grid[{name!r}] is empty")
    return vals


def _canonical_name(name: str) -> str:
    """One spelling per parameter (``"hamiltonian.Jz  Jz"`` and its aliases name the same term)."""
    key = _term_key(name)
    return TERM_PREFIX + key if key is not None else name


def _check_overlap(fixed, grid, points):
    """Refuse a parameter set in two places whose precedence would be silent: ``fixed`` and
    ``grid``, or ``grid`` and a ``points`` entry (a ``points`` entry may override ``fixed``)."""
    gridded = {_canonical_name(k): k for k in grid}
    both = [k for k in fixed if _canonical_name(k) in gridded]
    if both:
        raise ValueError(f"parameter(s) {both} are both in fixed and in grid; give each parameter in one "
                         "place (remove it from fixed to sweep it, from grid to hold it fixed)")
    for i, p in enumerate(points):
        both = [k for k in p if _canonical_name(k) in gridded]
        if both:
            raise ValueError(f"parameter(s) {both} are both in points[{i}] and in grid; give each parameter "
                             "in one place")


#: prefix of the parameters of the Model's cavity (``cavity.g``, ``cavity.kappa``, ...)
CAVITY_PREFIX = "cavity."
CAVITY_KEYS = ("g", "kappa", "detuning", "drive", "nmax")


def _cavity_key(name: str):
    """The Cavity field of a ``cavity.<field>`` parameter name (None for other names)."""
    if not name.startswith(CAVITY_PREFIX):
        return None
    key = name[len(CAVITY_PREFIX):].strip()
    return key if key in CAVITY_KEYS else None


def _check_names(names, where):
    unknown = [n for n in names if n not in PARAM_NAMES and _term_key(n) is None and _cavity_key(n) is None]
    if unknown:
        raise ValueError(f"{where}: unknown parameter(s) {unknown}; allowed: {', '.join(PARAM_NAMES)}, "
                         f"{TERM_PREFIX}<term> for the terms {', '.join(HAMILTONIAN_KEYS)} and "
                         f"{CAVITY_PREFIX}<field> for {', '.join(CAVITY_KEYS)}")


def build_model(params: dict) -> Model:
    """Model from one point's parameters (``ratio`` or ``upsilon`` may stand in for ``omega``)."""
    drive = [k for k in DRIVE_ALIASES if k in params]
    if len(drive) > 1:
        raise ValueError(f"give only one of omega, ratio, upsilon per point, got {drive}")
    kw = {k: v for k, v in params.items() if k in MODEL_FIELDS}
    terms = {_term_key(k): v for k, v in params.items() if _term_key(k) is not None}
    if terms:
        kw["hamiltonian"] = {**dict(kw.get("hamiltonian") or {}), **terms}
    cav = {_cavity_key(k): v for k, v in params.items() if _cavity_key(k) is not None}
    if cav:
        base = kw.get("cavity")
        base = base.to_dict() if hasattr(base, "to_dict") else dict(base or {})
        kw["cavity"] = {**base, **cav}
    if "N" not in kw:
        raise ValueError("every point needs N (in fixed, grid or points)")
    if "ratio" in params:
        kw.pop("omega", None)
        return Model.from_upsilon_ratio(ratio=params["ratio"], **kw)
    if "upsilon" in params:
        return Model(omega=float(params["upsilon"]) * float(kw["N"]) / 2.0, **kw)
    return Model(**kw)


# --------------------------------------------------------------------------- times
def times_for(rule, model: Model) -> np.ndarray:
    """Output times of one point: a fixed array, or a rule evaluated for ``model``.

    A rule ``{t_end, num=201, t_start=0, unit=None, spacing="linear", t_first}`` gives
    ``linspace(t_start, t_end, num) / rate`` with ``rate = getattr(model, unit)`` (1 when no unit),
    e.g. ``{t_end = 5, unit = "gamma_s"}`` is t in [0, 5 / gamma_s] (paper Fig. 3a). With
    ``spacing = "log"`` the times are ``t_start`` followed by ``geomspace(t_first, t_end, num-1)``.
    """
    if not isinstance(rule, dict):
        return check_times(rule)
    rate = 1.0
    unit = rule.get("unit")
    if unit not in (None, "", 1, 1.0):
        if not isinstance(unit, str) or not hasattr(model, unit):
            raise ValueError(f"times.unit must be a Model attribute such as 'gamma_s', got {unit!r}")
        rate = float(getattr(model, unit))
        if not (rate > 0 and math.isfinite(rate)):
            raise ValueError(f"times.unit = {unit!r} is {rate} for this point; times t / {unit} undefined")
    num = int(rule.get("num", 201))
    t0, t1 = float(rule.get("t_start", 0.0)), float(rule["t_end"])
    if rule.get("spacing", "linear") == "log":
        tf = float(rule["t_first"])
        t = np.concatenate([[t0], np.geomspace(tf, t1, num - 1)]) if t0 < tf else np.geomspace(tf, t1, num)
    else:
        t = np.linspace(t0, t1, num)
    return check_times(t / rate)


def _canonical_times(times):
    if callable(times):
        raise TypeError("times must be an array or a rule dict (callables cannot be hashed for resume)")
    if isinstance(times, dict):
        known = {"t_end", "num", "t_start", "unit", "spacing", "t_first", "values"}
        if set(times) - known:
            raise ValueError(f"times: unknown keys {sorted(set(times) - known)}; allowed {sorted(known)}")
        if "values" in times:
            return check_times(times["values"]).tolist()
        if "t_end" not in times:
            raise ValueError("times rule needs t_end (and optionally num, t_start, unit, spacing, t_first)")
        if times.get("spacing", "linear") not in ("linear", "log"):
            raise ValueError(f"times.spacing must be 'linear' or 'log', got {times['spacing']!r}")
        if times.get("spacing") == "log" and "t_first" not in times:
            raise ValueError("times.spacing = 'log' needs t_first > 0")
        unit = times.get("unit")
        if unit not in (None, "", 1, 1.0) and unit not in TIME_UNITS:
            raise ValueError(f"times.unit = {unit!r} is not a rate of the Model; valid units: "
                             f"{', '.join(TIME_UNITS)} (or no unit: times in 1/Gamma)")
        for k in ("t_end", "t_start", "t_first"):
            if k in times and (isinstance(times[k], bool) or not isinstance(times[k], numbers.Real)):
                raise TypeError(f"times.{k} must be a number, got {times[k]!r}")
        if "num" in times and (isinstance(times["num"], bool) or not isinstance(times["num"], numbers.Integral)
                               or times["num"] < 1):
            raise ValueError(f"times.num must be an integer >= 1, got {times['num']!r}")
        return dict(times)
    return check_times(times).tolist()


# --------------------------------------------------------------------------- spec
@dataclass
class Point:
    """One evaluation of the sweep: parameters, model, method, options, times."""

    index: int
    params: dict
    method: str
    kind: str
    options: dict
    model: Model | None
    times: np.ndarray | None
    initial: CoherentSpinState | None
    key: str
    error: str = ""  # set when the point cannot even be set up (e.g. a times rule with rate 0)

    def group(self):
        """Points with equal group can share one batched call."""
        tkey = None if self.times is None else hashlib.sha1(self.times.tobytes()).hexdigest()
        init = None if self.initial is None else (self.initial.theta, self.initial.phi)
        return (self.method, self.kind, json.dumps(jsonable(self.options), sort_keys=True), tkey, init)


@dataclass
class SweepSpec:
    """A sweep: grid x points x methods x option grids (see the module docstring)."""

    grid: dict = field(default_factory=dict)
    points: list = field(default_factory=list)
    fixed: dict = field(default_factory=dict)
    methods: list = field(default_factory=lambda: ["cumulant"])
    times: object = field(default_factory=lambda: {"t_end": 1.0, "num": 201})
    summaries: list | None = None
    save_results: bool = False
    chunk_size: int | None = None
    seed: int | None = None
    name: str = "sweep"

    def __post_init__(self):
        if not isinstance(self.grid, dict) or not isinstance(self.fixed, dict):
            raise TypeError("grid and fixed must be dicts of parameter -> value(s)")
        if isinstance(self.points, dict) or not all(isinstance(p, dict) for p in self.points):
            raise TypeError("points must be a list of dicts of parameter -> value")
        _check_names(self.grid, "grid")
        _check_names(self.fixed, "fixed")
        for i, p in enumerate(self.points):
            _check_names(p, f"points[{i}]")
        _check_overlap(self.fixed, self.grid, self.points)
        self.grid = {k: _values(k, v) for k, v in self.grid.items()}
        self.points = [dict(p) for p in self.points]
        if isinstance(self.methods, (str, dict)):
            self.methods = [self.methods]
        self.methods = [self._method_entry(m) for m in self.methods]
        if not self.methods:
            raise ValueError("methods must name at least one method")
        self.times = _canonical_times(self.times)
        from .summaries import normalize_summaries

        self.summaries = normalize_summaries(self.summaries)
        if self.chunk_size is not None and (int(self.chunk_size) != self.chunk_size or self.chunk_size < 1):
            raise ValueError(f"chunk_size must be an integer >= 1, got {self.chunk_size!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or int(self.seed) != self.seed):
            raise TypeError(f"seed must be an integer, got {self.seed!r}")

    @staticmethod
    def _method_entry(m):
        if isinstance(m, str):
            m = {"method": m}
        if not isinstance(m, dict) or "method" not in m:
            raise TypeError(f"each methods entry must be a name or {{method, kind, options, option_grid}}, "
                            f"got {m!r}")
        unknown = set(m) - {"method", "kind", "options", "option_grid"}
        if unknown:
            raise ValueError(f"methods entry {m['method']!r}: unknown keys {sorted(unknown)}")
        kind = m.get("kind", "evolve")
        if kind not in ("evolve", "steady_state"):
            raise ValueError(f"methods entry {m['method']!r}: kind must be 'evolve' or 'steady_state', got {kind!r}")
        cls = _options_class(m["method"], kind)  # fail fast on an unknown method or kind
        og = {k: _values(f"option_grid.{k}", v) for k, v in dict(m.get("option_grid", {})).items()}
        if cls is not None:  # misspelled options and bad values fail here, before any point is computed
            cls.check_names({**dict(m.get("options", {})), **og})
            for combo in itertools.product(*og.values()):
                cls.from_kwargs(**dict(m.get("options", {})), **dict(zip(og, combo)))
        return {"method": m["method"], "kind": kind, "options": dict(m.get("options", {})), "option_grid": og}

    # ------------------------------------------------------------------ (de)serialization
    @classmethod
    def from_dict(cls, d: dict) -> "SweepSpec":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"sweep config: unknown keys {sorted(unknown)}; allowed {sorted(known)}")
        return cls(**d)

    @classmethod
    def from_file(cls, path) -> "SweepSpec":
        """Spec of a config file; a config error names the file."""
        d = load_config(path)
        try:
            return cls.from_dict(d)
        except (TypeError, ValueError) as exc:
            raise (TypeError if isinstance(exc, TypeError) else ValueError)(f"sweep config {path}: {exc}") from None

    def to_dict(self) -> dict:
        """Canonical JSON-able form (grid axes expanded to lists); its hash identifies the sweep."""
        return jsonable({f.name: getattr(self, f.name) for f in fields(self)})

    @property
    def hash(self) -> str:
        """sha256 of the canonical spec without its cosmetic ``name``."""
        d = self.to_dict()
        d.pop("name")
        return _hash(d)

    # ------------------------------------------------------------------ expansion
    def param_names(self) -> list[str]:
        names = list(self.fixed)
        for src in [self.grid, *self.points]:
            names += [k for k in src if k not in names]
        return names

    def parameter_sets(self) -> list[dict]:
        axes = list(self.grid.items())
        base = self.points or [{}]
        out = []
        for p in base:
            for combo in itertools.product(*(v for _, v in axes)):
                d = dict(self.fixed)
                d.update(p)
                d.update(zip((k for k, _ in axes), combo))
                out.append(d)
        return out

    def expand(self) -> list[Point]:
        """All points, method-major: for each method entry and option combination, every
        parameter set. A point that cannot be set up carries its error instead of raising."""
        psets = self.parameter_sets()
        models = []
        for i, p in enumerate(psets):
            try:
                models.append(build_model(p))
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"parameter set {i} {p}: {exc}") from None
        pts = []
        for entry in self.methods:
            cls = _options_class(entry["method"], entry["kind"])
            seeded = self.seed is not None and "seed" not in entry["options"] and cls is not None \
                and "seed" in cls.names()
            og = entry["option_grid"]
            for combo in itertools.product(*og.values()):
                options = dict(entry["options"])
                options.update(zip(og, combo))
                for p, model in zip(psets, models):
                    pts.append(self._point(len(pts), p, model, entry, options, seeded))
        return pts

    def _point(self, index, params, model, entry, options, seeded):
        initial = None
        if "theta" in params or "phi" in params:
            initial = CoherentSpinState(params.get("theta", math.pi / 2), params.get("phi", math.pi))
        steady = entry["kind"] == "steady_state"
        ident = {"model": model.to_dict(), "method": entry["method"], "kind": entry["kind"], "options": options,
                 "times": None if steady else self.times, "initial": initial}
        if seeded:
            options = dict(options, seed=int(_hash([self.seed, ident])[:15], 16))
        key = _hash(dict(ident, options=options))[:20]
        times, error = None, ""
        if not steady:
            try:
                times = times_for(self.times, model)
            except (TypeError, ValueError, KeyError) as exc:
                error = f"{type(exc).__name__}: {exc}"
        return Point(index, params, entry["method"], entry["kind"], options, model, times, initial, key, error)


def load_config(path) -> dict:
    """Read a sweep config from TOML (``.toml``), JSON (``.json``) or YAML (``.yaml``, if PyYAML)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep config {path} not found")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        import tomllib

        with open(path, "rb") as f:
            try:
                d = tomllib.load(f)
            except tomllib.TOMLDecodeError as exc:  # its message ends "(at line L, column C)"
                raise ValueError(f"sweep config {path}: TOML syntax error: {exc}") from None
    elif suffix == ".json":
        try:
            d = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"sweep config {path}: JSON syntax error at line {exc.lineno}, column {exc.colno}: "
                             f"{exc.msg}") from None
    elif suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ModuleNotFoundError:
            raise ValueError("YAML configs need PyYAML; use TOML or JSON") from None
        try:
            d = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            raise ValueError(f"sweep config {path}: YAML syntax error{where}: "
                             f"{getattr(exc, 'problem', None) or exc}") from None
    else:
        raise ValueError(f"sweep config {path}: unknown format {suffix!r}; use .toml, .json or .yaml")
    if not isinstance(d, dict):
        raise ValueError(f"sweep config {path}: the top level must be a table of keys (fixed, grid, times, "
                         f"methods, ...), got {type(d).__name__}")
    return d
