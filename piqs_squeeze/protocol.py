"""Protocols: a sequence of models, each acting on its own time interval.

``Protocol([(t1, model1), (t2, model2), ...])``: model k generates the dynamics on
(t_{k-1}, t_k], t_0 = 0; every model has the same N. The state carries across each boundary
exactly (the methods hand their own state on: density-matrix blocks, trajectory states with their
random streams, moment vectors). After the last t_k the last model stays on; output times may lie
anywhere, including on a boundary (where the state is the one reached at the end of the segment).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .model import Model

__all__ = ["Protocol", "Segment"]


@dataclass(frozen=True)
class Segment:
    """One stretch of a run: ``model`` acts on (start, end]; ``out`` are the indices of the output
    times in (start, end] (and ``start`` itself for the first segment); ``times`` those times."""

    model: Model
    start: float
    end: float
    out: np.ndarray
    times: np.ndarray


class Protocol:
    """Piecewise-in-time sequence of models (see the module docstring).

    Parameters
    ----------
    steps : sequence of (t_k, Model)
        Strictly increasing end times t_k > 0 and the model acting up to each; all models have the
        same N. The last model also acts after the last t_k.
    """

    def __init__(self, steps):
        try:
            steps = [(t, m) for t, m in steps]
        except (TypeError, ValueError):
            raise TypeError("Protocol takes a sequence of (end time, Model) pairs") from None
        if not steps:
            raise ValueError("Protocol needs at least one (end time, Model) pair")
        ends, models = [], []
        for k, (t, m) in enumerate(steps):
            if not isinstance(m, Model):
                raise TypeError(f"Protocol step {k}: expected a piqs_squeeze.Model, got {type(m).__name__}")
            try:
                t = float(t)
            except (TypeError, ValueError):
                raise TypeError(f"Protocol step {k}: end time must be a number, got {t!r}") from None
            if not math.isfinite(t) or t <= (ends[-1] if ends else 0.0):
                raise ValueError(f"Protocol step {k}: end times must be finite, > 0 and strictly increasing, "
                                 f"got {t!r} after {ends[-1] if ends else 0.0}")
            if models and m.N != models[0].N:
                raise ValueError(f"Protocol step {k}: every model must have the same N, got {m.N} after {models[0].N}")
            ends.append(t)
            models.append(m)
        self.ends = tuple(ends)
        self.models = tuple(models)

    @property
    def N(self) -> int:
        return self.models[0].N

    @property
    def time_dependent(self) -> bool:
        return any(m.time_dependent for m in self.models)

    def __len__(self):
        return len(self.models)

    def __iter__(self):
        return iter(zip(self.ends, self.models))

    def __eq__(self, other):
        return isinstance(other, Protocol) and self.ends == other.ends and self.models == other.models

    def __hash__(self):
        return hash((self.ends, self.models))

    def __repr__(self):
        return "Protocol([" + ", ".join(f"({t:g}, {m})" for t, m in self) + "])"

    def model_at(self, t: float) -> Model:
        """The model acting at time t (on (t_{k-1}, t_k]; the first model at t = 0)."""
        k = int(np.searchsorted(self.ends, t, side="left"))
        return self.models[min(k, len(self.models) - 1)]

    def segments(self, times) -> list[Segment]:
        """Split increasing output ``times`` into the segments that run from ``times[0]``: model k
        on (max(t_{k-1}, times[0]), t_k], the last one up to ``times[-1]``. Segments that end
        before ``times[0]`` are skipped; every output time belongs to exactly one segment."""
        times = np.asarray(times, dtype=float)
        t0, tend = float(times[0]), float(times[-1])
        out, start = [], t0
        bounds = list(self.ends[:-1]) + [math.inf]
        for k, (end, model) in enumerate(zip(bounds, self.models)):
            if end <= t0 and k < len(self.models) - 1:
                continue
            stop = min(end, tend)
            if stop < start or (stop == start and out):
                break
            lo = np.searchsorted(times, start, side="left" if not out else "right")
            hi = np.searchsorted(times, stop, side="right")
            idx = np.arange(lo, hi)
            out.append(Segment(model, start, stop, idx, times[idx]))
            start = stop
            if stop >= tend:
                break
        return out

    def to_dict(self, sample_times=None) -> dict:
        return {"protocol": [[t, m.to_dict(sample_times)] for t, m in self]}

    @classmethod
    def from_dict(cls, d) -> "Protocol":
        return cls([(t, Model.from_dict(m)) for t, m in d["protocol"]])
