"""The one registry of methods: name -> package, loaded only when a method is used.

A method is a module (or package) providing any of

* ``evolve(model, times, initial=None, options=None, **kw) -> Result``
* ``evolve_many(models, times, initial=None, options=None, **kw) -> list[Result]`` (batched)
* ``steady_state(model, options=None, **kw) -> Result``
* ``liouvillian_spectrum(model, k=6, options=None, **kw)``
* ``unsupported(model) -> str | None``: why the method cannot run this model (None if it can);
* ``OPTIONS``: kind -> :class:`~piqs_squeeze.options.MethodOptions` subclass, the options of
  each kind it provides (``options`` above is an instance; ``kw`` are its fields);
* ``PROTOCOLS = True`` when its ``evolve`` also takes a :class:`~piqs_squeeze.protocol.Protocol`
  in place of the model (then ``unsupported`` is asked about each model of the protocol).

The registered methods are :data:`METHODS`. Any other name is taken as the dotted path of an
importable module with the same protocol (a custom method, e.g. ``method = "mypkg.mymethod"`` in a
sweep file). A custom module without ``OPTIONS`` gets its options as plain keywords, unchecked
(its own signature decides); with ``OPTIONS`` they are checked and passed as ``options=`` like
those of the registered methods; a sweep gives per-point seeds only to a method whose options
have a ``seed`` field.

Importing this module imports no method: :func:`module` imports one on first use.
"""
from __future__ import annotations

import importlib

from piqs_squeeze.options import MethodError, MethodOptions

__all__ = ["METHODS", "KINDS", "MethodError", "names", "module", "provides", "why_not", "available", "resolve",
           "options_class", "build_options", "is_batched", "call", "module_path"]

#: Registered method name -> package implementing it.
METHODS = {
    "exact": "piqs_squeeze.methods.exact",
    "mcwf": "piqs_squeeze.methods.mcwf",
    "cumulant": "piqs_squeeze.methods.moments.cumulant",
    "meanfield": "piqs_squeeze.methods.moments.meanfield",
    "carmichael": "piqs_squeeze.methods.carmichael",
}
#: What a method can compute.
KINDS = ("evolve", "steady_state", "liouvillian_spectrum")
KINDS += ("correlation", "g2", "emission_spectrum")  # two-time correlations (issue 25)


def names() -> tuple[str, ...]:
    """The registered method names."""
    return tuple(METHODS)


def module_path(method: str) -> str:
    """Dotted path of the module of ``method`` (a registered name or a custom module path)."""
    if not isinstance(method, str) or not method:
        raise MethodError(f"method must be a non-empty string, got {method!r}")
    return METHODS.get(method, method)


def module(method: str):
    """The module of ``method``, imported on first use.

    Raises :class:`MethodError` for a name that is neither registered nor an importable module.
    """
    path = module_path(method)
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as exc:
        if method in METHODS or not (exc.name and (path == exc.name or path.startswith(exc.name + "."))):
            raise
        raise MethodError(f"unknown method {method!r}; methods: {', '.join(METHODS)} or an importable module "
                          "path (a custom method)") from None


def provides(method: str, kind: str = "evolve") -> bool:
    """True when ``method`` computes ``kind`` ("evolve", "steady_state", "liouvillian_spectrum")."""
    return hasattr(module(method), kind)


def why_not(method: str, model, kind: str = "evolve") -> str | None:
    """Why ``method`` cannot compute ``kind`` for ``model`` (None: it can; ``model=None``: only
    whether it provides ``kind``)."""
    from piqs_squeeze.protocol import Protocol

    mod = module(method)
    if not hasattr(mod, kind):
        return f"it provides no {kind.replace('_', ' ')} (see its docstring for what it computes)"
    check = getattr(mod, "unsupported", None)
    if isinstance(model, Protocol):
        if kind != "evolve" or not getattr(mod, "PROTOCOLS", False):
            return f"it runs no protocols ({kind.replace('_', ' ')} of a single Model only)"
        reasons = [(k, check(m)) for k, m in enumerate(model.models)] if check is not None else []
        bad = [f"segment {k}: {r}" for k, r in reasons if r is not None]
        return "; ".join(bad) if bad else None
    return check(model) if (check is not None and model is not None) else None


def available(model=None, kind: str = "evolve") -> list[str]:
    """Registered methods that provide ``kind`` and can run ``model`` (any model when None)."""
    return [name for name in METHODS if why_not(name, model, kind) is None]


def resolve(method: str, model=None, kind: str = "evolve"):
    """The module of ``method`` after checking that it computes ``kind`` for ``model``.

    Raises :class:`MethodError` naming the methods that can, for an unknown method or one that
    cannot.
    """
    try:
        mod = module(method)
    except MethodError as exc:
        raise MethodError(f"{exc} (for this model: {', '.join(available(model, kind)) or 'none'})") from None
    reason = why_not(method, model, kind)
    if reason is not None:
        ok = available(model, kind)
        raise MethodError(f"method {method!r} cannot {kind.replace('_', ' ')} this model: {reason}. "
                          f"Methods that can: {', '.join(ok) if ok else 'none'}")
    return mod


def options_class(method: str, kind: str = "evolve") -> type[MethodOptions] | None:
    """The options class of ``method`` for ``kind``; None for a custom module without ``OPTIONS``."""
    mod = resolve(method, None, kind)
    table = getattr(mod, "OPTIONS", None)
    if table is None:
        if method in METHODS:
            raise MethodError(f"method {method!r} declares no OPTIONS")
        return None
    if kind not in table:
        raise MethodError(f"method {method!r} has no options for {kind}")
    return table[kind]


def build_options(method: str, kind: str = "evolve", options=None, **kw):
    """The options object of ``method`` for ``kind`` from ``options`` (an options object, a dict
    or None) and keywords: unknown names raise :class:`~piqs_squeeze.options.UnknownOptionError`
    (listing the valid ones) before anything is computed. For a custom module without
    ``OPTIONS``, the dict of keywords."""
    cls = options_class(method, kind)
    if cls is None:
        if options is not None and not isinstance(options, dict):
            raise TypeError(f"method {method!r} declares no OPTIONS: give its options as keywords or a dict")
        return {**(options or {}), **kw}
    return cls.coerce(options, kw)


def is_batched(method: str, kind: str = "evolve") -> bool:
    """True when the method integrates many models in one call (``evolve_many``)."""
    return kind == "evolve" and hasattr(module(method), "evolve_many")


def call(method: str, kind: str, models, times=None, initial=None, options=None, **extra) -> list:
    """Results of ``kind`` for every model of ``models`` (one batched call when the method has
    ``evolve_many`` and there are several). ``options`` is what :func:`build_options` returns;
    ``extra`` are further arguments of the kind (``k`` of a spectrum)."""
    mod = resolve(method, None, kind)
    for m in models:
        resolve(method, m, kind)
    kw = {"options": options} if isinstance(options, MethodOptions) else dict(options or {})
    if kind == "evolve":
        if len(models) > 1 and hasattr(mod, "evolve_many"):
            return list(mod.evolve_many(models, times, initial=initial, **kw))
        grids = times if isinstance(times, list) else [times] * len(models)
        return [mod.evolve(m, t, initial=initial, **kw) for m, t in zip(models, grids)]
    func = getattr(mod, kind)
    return [func(m, **extra, **kw) for m in models]
