"""Method options: one frozen dataclass per method and kind, validated when it is built.

Every option is a dataclass field made by :func:`option`: its default, a one-line doc and a
check that validates (and normalises) the value when the object is constructed, raising an error
that names the option. :meth:`MethodOptions.from_kwargs` refuses a name that is not a field with
:class:`UnknownOptionError`, which lists the valid names and suggests the nearest one, before any
work is done::

    >>> import piqs_squeeze as ps
    >>> opts = ps.method_options("exact")          # the defaults, an ExactEvolveOptions
    >>> print(opts)                                # doctest: +SKIP
    >>> ps.evolve(model, t, options=opts.replace(rtol=1e-10))   # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

from piqs_squeeze.runtime.jsonable import jsonable

__all__ = ["MethodError", "UnknownOptionError", "MethodOptions", "option", "choice", "real", "integer", "flag",
           "memory", "anything"]


class MethodError(ValueError):
    """A method that does not exist, cannot run the requested model, or was given an unknown option."""


class UnknownOptionError(MethodError):
    """An option name that the method does not have (the message lists the ones it has)."""


def option(default, doc: str, check: Callable[[str, Any], Any] | None = None):
    """A dataclass field of a :class:`MethodOptions`: ``default``, a one-line ``doc`` and ``check``
    (``check(name, value)`` returns the value to store or raises an error naming the option)."""
    return field(default=default, metadata={"doc": doc, "check": check})


# --------------------------------------------------------------------------- checks
def choice(*values, none: bool = False):
    """The value must be one of ``values`` (or None with ``none``); ValueError otherwise."""
    def check(name, v):
        if (none and v is None) or any(type(v) is type(x) and v == x for x in values):
            return v
        raise ValueError(f"{name} must be one of {values}{' or None' if none else ''}, got {v!r}")
    return check


def real(low=None, high=None, *, low_open: bool = True, high_open: bool = True, none: bool = False,
         message: str | None = None):
    """A finite real number in the interval (``low_open``/``high_open``: open ends), or None
    with ``none``; ValueError otherwise (also for a bool or a string). Stored as given."""
    def check(name, v):
        if none and v is None:
            return v
        ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v < high if high_open else v <= high
        if not ok:
            lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
            hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
            where = message or (f"a number in {lo}, {hi}" if lo and hi else
                                f"a number {'>' if low_open else '>='} {low:g}" if lo else
                                f"a number {'<' if high_open else '<='} {high:g}" if hi else "a finite number")
            raise ValueError(f"{name} must be {where}{' or None' if none else ''}, got {v!r}")
        return v
    return check


def integer(low=None, high=None, *, none: bool = False):
    """An integer in [low, high] (or None with ``none``); ValueError otherwise. Stored as int."""
    def check(name, v):
        if none and v is None:
            return v
        ok = isinstance(v, numbers.Integral) and not isinstance(v, bool)
        if ok and low is not None:
            ok = v >= low
        if ok and high is not None:
            ok = v <= high
        if not ok:
            rng = f" in [{low}, {high}]" if (low is not None and high is not None) else (
                f" >= {low}" if low is not None else "")
            raise ValueError(f"{name} must be an integer{rng}{' or None' if none else ''}, got {v!r}")
        return int(v)
    return check


def flag(none: bool = False):
    """A bool (or None with ``none``); TypeError otherwise. Stored as bool."""
    def check(name, v):
        if none and v is None:
            return v
        if not isinstance(v, bool) and type(v).__name__ != "bool_":
            raise TypeError(f"{name} must be a bool{' or None' if none else ''}, got {v!r}")
        return bool(v)
    return check


def memory(name, v):
    """A positive number of bytes, or None; ValueError otherwise."""
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0):
        raise ValueError(f"{name} must be a positive number of bytes or None, got {v!r}")
    return v


def anything(name, v):
    """No check (objects such as an executor, a path or a state)."""
    return v


# --------------------------------------------------------------------------- base class
@dataclass(frozen=True)
class MethodOptions:
    """Base of the options of one method and kind (``evolve``, ``steady_state``, ...).

    Subclasses declare their options as fields made by :func:`option`; every field is checked
    on construction. ``method`` and ``kind`` name what the options are for (in messages).
    """

    method: ClassVar[str] = ""
    kind: ClassVar[str] = "evolve"
    #: names this method's options had before they were renamed -> the name now (used only to
    #: say so in the error an old name raises; the old names are not accepted)
    renamed: ClassVar[dict] = {}

    def __post_init__(self):
        for f in dataclasses.fields(self):
            check = f.metadata.get("check")
            if check is not None:
                object.__setattr__(self, f.name, check(f.name, getattr(self, f.name)))

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in declaration order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def docs(cls) -> dict[str, str]:
        """Option name -> one-line doc."""
        return {f.name: f.metadata.get("doc", "") for f in dataclasses.fields(cls)}

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Option name -> default value."""
        return {f.name: f.default for f in dataclasses.fields(cls)}

    @classmethod
    def check_names(cls, names) -> None:
        """Raise :class:`UnknownOptionError` naming every name of ``names`` that is not an option,
        with the list of the valid ones and the nearest match of each."""
        valid = cls.names()
        unknown = sorted(set(names) - set(valid))
        if not unknown:
            return
        close = {u: [cls.renamed[u]] if u in cls.renamed else difflib.get_close_matches(u, valid, n=1)
                 for u in unknown}
        hint = "; ".join(f"did you mean {c[0]!r} for {u!r}?" for u, c in close.items() if c)
        raise UnknownOptionError(
            f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} for method "
            f"{cls.method!r} ({cls.kind}); its options: {', '.join(valid)}" + (f". {hint}" if hint else ""))

    @classmethod
    def from_kwargs(cls, **kw) -> "MethodOptions":
        """Build from keyword arguments: unknown names first (:class:`UnknownOptionError`), then
        every value is checked."""
        cls.check_names(kw)
        return cls(**kw)

    @classmethod
    def coerce(cls, options=None, kw=None) -> "MethodOptions":
        """``options`` (an instance of this class, a dict or None) updated with the keywords ``kw``."""
        kw = dict(kw or {})
        if options is None:
            return cls.from_kwargs(**kw)
        if isinstance(options, dict):
            return cls.from_kwargs(**{**options, **kw})
        if not isinstance(options, cls):
            raise TypeError(f"options must be a {cls.__name__} (see piqs_squeeze.method_options({cls.method!r}, "
                            f"{cls.kind!r})), a dict or None; got {type(options).__name__}")
        return options.replace(**kw) if kw else options

    def replace(self, **kw) -> "MethodOptions":
        """A copy with the options ``kw`` changed (checked like :meth:`from_kwargs`)."""
        self.check_names(kw)
        return dataclasses.replace(self, **kw)

    def to_dict(self) -> dict[str, Any]:
        """Every option as a plain JSON-able value (objects such as an executor by their type name)."""

        out = {}
        for name in self.names():
            v = getattr(self, name)
            if v is not None and not isinstance(v, (str, int, float, bool, list, tuple, dict)) \
                    and not hasattr(v, "to_dict") and not isinstance(v, numbers.Number):
                v = str(v) if hasattr(v, "__fspath__") else type(v).__name__
            out[name] = jsonable(v)
        return out

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """One line per option: name, default (this object's value) and doc (also ``str()``)."""
        rows = [(name, repr(getattr(self, name)), doc) for name, doc in self.docs().items()]
        w0 = max((len(r[0]) for r in rows), default=0)
        w1 = min(max((len(r[1]) for r in rows), default=0), 24)
        head = f"{self.method} ({self.kind}) options:"
        return "\n".join([head] + [f"  {n:<{w0}} = {d:<{w1}}  {doc}" for n, d, doc in rows])
