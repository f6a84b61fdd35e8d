"""The one result type of every method: times, collective moments, derived squeezing, provenance.

A steady state is a Result with a single time ``inf``.
"""
from __future__ import annotations

import datetime as _dt
import functools
import io
import json
import platform
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import observables
from ._version import __version__
from piqs_squeeze.runtime.fileio import atomic_write
from piqs_squeeze.runtime.jsonable import jsonable
from . import dicke
from .model import Model
from .protocol import Protocol

__all__ = ["Result", "ResultFileError", "provenance", "jsonable"]


@functools.lru_cache(maxsize=None)
def _installed_version(dist: str) -> str | None:
    """The installed version of ``dist`` from its metadata (read once per process: reading it
    costs ~1 ms, which a batch of thousands of Results would pay again for every one)."""
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def provenance() -> dict:
    """Package and library versions and the UTC date, attached to every result.

    Versions come from the installed metadata, so that a fresh worker process does not pay for
    importing qutip just to label a result.
    """
    return {
        "piqs_squeeze": __version__,
        "numpy": np.__version__,
        "scipy": _installed_version("scipy"),
        "qutip": _installed_version("qutip"),
        "python": platform.python_version(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


class ResultFileError(ValueError):
    """A file that is not a readable piqs_squeeze Result (damaged, truncated or of another kind)."""


@dataclass
class Result:
    """Time evolution (or steady state) of the collective spin, shared by all methods.

    Attributes
    ----------
    times : (T,) float64
    mean : (T, 3) float64, <J_a>
    second : (T, 3, 3) float64, <(J_a J_b + J_b J_a)/2>
    model : Model
    method : str
    options : dict, every option of the method's options object (JSON-serializable), with the
        values it resolved (e.g. a seed drawn from entropy)
    mean_err, second_err : optional standard errors of mean and second (statistical methods)
    extras : dict of method-specific physics data; numpy arrays are saved as arrays, the rest as JSON
    provenance : dict, package versions and date
    stats : dict, diagnostics of the run kept apart from the physics (``wall_time``, steps,
        generator products, right-hand-side evaluations, ...; JSON scalars)
    protocol : Protocol or None
        The protocol that was run (``model`` is then its first model).
    """

    times: np.ndarray
    mean: np.ndarray
    second: np.ndarray
    model: Model
    method: str
    options: dict = field(default_factory=dict)
    mean_err: np.ndarray | None = None
    second_err: np.ndarray | None = None
    extras: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=provenance)
    stats: dict = field(default_factory=dict)
    protocol: Protocol | None = None

    def __post_init__(self):
        self.times = np.asarray(self.times, dtype=float).reshape(-1)
        self.mean = np.asarray(self.mean, dtype=float).reshape(self.times.size, 3)
        self.second = np.asarray(self.second, dtype=float).reshape(self.times.size, 3, 3)
        self.second = 0.5 * (self.second + np.swapaxes(self.second, -1, -2))
        for name in ("mean_err", "second_err"):
            v = getattr(self, name)
            if v is not None:
                ref = getattr(self, name[:-4])
                setattr(self, name, np.asarray(v, dtype=float).reshape(ref.shape))
        if not isinstance(self.model, Model):
            raise TypeError("model must be a piqs_squeeze.Model")

    # ------------------------------------------------------------------ derived
    @property
    def N(self) -> int:
        return self.model.N

    @property
    def xi2(self) -> np.ndarray:
        """Wineland squeezing xi^2(t) from the (ensemble-averaged) moments."""
        return observables.xi2(self.mean, self.second, self.model.N)

    @property
    def xi2_db(self) -> np.ndarray:
        return observables.xi2_db(self.mean, self.second, self.model.N)

    @property
    def squeezing_axis(self) -> np.ndarray:
        return observables.squeezing(self.mean, self.second, self.model.N)[1]

    @property
    def j2(self) -> np.ndarray:
        """<J^2>(t)."""
        return observables.total_spin(self.second)

    @property
    def n_eff(self) -> np.ndarray:
        """N_eff(t) = 2 sqrt(1/4 + <J^2>) - 1."""
        return observables.n_eff(self.second)

    @property
    def bloch(self) -> np.ndarray:
        """<J> / (N/2)."""
        return observables.bloch_vector(self.mean, self.model.N)

    @property
    def photon_number(self) -> np.ndarray:
        """<a^+ a>(t) of the cavity mode (Models with ``cavity=``)."""
        return self._cavity_extra("photon_number").astype(float)

    @property
    def field(self) -> np.ndarray:
        """<a>(t) of the cavity mode, complex (Models with ``cavity=``)."""
        return self._cavity_extra("field").astype(complex)

    def _cavity_extra(self, name):
        if name not in self.extras:
            why = "its model has no cavity" if self.model.cavity is None else f"the {self.method!r} run kept none"
            raise AttributeError(f"this Result has no {name}: {why}")
        return np.asarray(self.extras[name])

    @property
    def jz_over_j(self) -> np.ndarray:
        """Order parameter <Jz> / (N/2)."""
        return self.mean[:, 2] / (0.5 * self.model.N)

    def index_of(self, t) -> int:
        """Index of the output time nearest to ``t`` (ties: the earlier one; ``inf`` is a steady state).

        Raises ValueError for a time outside [times[0], times[-1]] by more than half the largest
        output step (nearest would then be a silent extrapolation) or for a non-real ``t``.
        """
        if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)) or np.isnan(t):
            raise TypeError(f"t must be a real time, got {t!r} (use index= for an output index)")
        t = float(t)
        if np.isinf(t) and np.isinf(self.times[-1]):
            return self.times.size - 1
        finite = self.times[np.isfinite(self.times)]
        if finite.size == 0:
            raise ValueError(f"this Result holds only a steady state (time inf); got t = {t}")
        step = float(np.max(np.diff(finite))) if finite.size > 1 else 0.0
        if t < finite[0] - 0.5 * step or t > finite[-1] + 0.5 * step:
            raise ValueError(f"t = {t:g} is outside the output times [{finite[0]:g}, {finite[-1]:g}]")
        return int(np.argmin(np.abs(finite - t)))

    def at(self, t=None, *, index=None):
        """(time, xi2, n_eff) at the output time nearest to ``t``, or at output ``index``.

        Parameters
        ----------
        t : float, optional
            A time; the values are those of the nearest output time (no interpolation: a
            statistical method's values stay those it computed), which is returned as the first
            entry so that the caller sees which time was taken. ``inf`` picks a steady state.
        index : int, optional
            An output index instead (``-1`` for the last one, or the steady state).

        Returns
        -------
        (time, xi2, n_eff) : tuple of float
        """
        if (t is None) == (index is None):
            raise TypeError("at() takes a time t or index=, exactly one of them")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"index must be an integer, got {index!r}")
            if not -self.times.size <= index < self.times.size:
                raise IndexError(f"index {index} is out of range for {self.times.size} output times")
            i = int(index)
        else:
            i = self.index_of(t)
        return float(self.times[i]), float(self.xi2[i]), float(self.n_eff[i])

    def state(self, basis: str = "dicke"):
        """The final state as a ``qutip.Qobj``, for the methods that keep one.

        Available for ``exact`` runs with ``return_state=True`` (evolve or steady_state) and for
        ``carmichael`` steady states with ``return_state=True``. Moment methods (``cumulant``,
        ``meanfield``) have no state, and an ``mcwf`` ensemble keeps only its moments.

        Parameters
        ----------
        basis : {"dicke", "symmetric"}
            ``"dicke"``: the nds x nds density matrix in qutip.piqs' Dicke basis (blocks
            j = N/2, N/2 - 1, ..., m descending; usable with ``qutip.piqs`` operators such as
            ``jspin(N, basis="dicke")``). ``"symmetric"``: the (N+1) x (N+1) block j = N/2 alone,
            basis m = N/2, ..., -N/2 (usable with ``qutip.jmat(N/2)``); refused when the state has
            weight outside that block.

        Returns
        -------
        qutip.Qobj
        """
        import qutip

        if basis not in ("dicke", "symmetric"):
            raise ValueError(f"basis must be 'dicke' or 'symmetric', got {basis!r}")
        if self.method == "exact":
            if "final_state" not in self.extras:
                raise ValueError("this exact Result kept no state: run it with return_state=True")
            blocks = dicke.blocks_from_flat(self.N, self.extras["final_state"],
                                            self.extras.get("final_state_blocks"))
        elif self.method == "carmichael":
            if "state" not in self.extras:
                raise ValueError("this carmichael Result kept no state: run steady_state(..., "
                                 "method='carmichael', return_state=True)")
            blocks = [np.asarray(self.extras["state"], dtype=complex)]
        else:
            why = ("an MCWF Result keeps the ensemble's moments, not its trajectories' states"
                   if self.method == "mcwf" else f"the {self.method!r} method evolves moments, not a state")
            raise ValueError(f"no state in this Result: {why}; use method='exact' with return_state=True")
        if basis == "symmetric":
            rest = max((float(np.abs(B).max()) for B in blocks[1:] if B.size), default=0.0)
            if rest > 1e-12:
                raise ValueError(f"the state has weight {rest:.3g} outside the j = N/2 block; use basis='dicke'")
            return qutip.Qobj(blocks[0])
        dims = dicke.block_dims(self.N)
        blocks = blocks + [np.zeros((d, d), complex) for d in dims[len(blocks):]]
        return dicke.blocks_to_piqs(blocks)

    def to_qobj(self, basis: str = "dicke"):
        """Alias of :meth:`state`: the final state as a ``qutip.Qobj``."""
        return self.state(basis)

    def __repr__(self):
        return (
            f"Result(method={self.method!r}, {self.model}, T={self.times.size}, "
            f"t=[{self.times[0]:.4g}..{self.times[-1]:.4g}], extras={sorted(self.extras)})"
        )

    # ------------------------------------------------------------------ save / load
    def save(self, path) -> Path:
        """Save to a ``.npz`` file (written atomically): arrays exactly, metadata as JSON.

        Never refuses a computed Result: a coefficient given as a plain function (not a
        :class:`~piqs_squeeze.hamiltonian.Ramp`) is stored as its name and its values on the
        output times (:class:`~piqs_squeeze.hamiltonian.SampledFunction`); :meth:`load` then
        warns that the model cannot be rerun without the function.
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
        arrays = {"times": self.times, "mean": self.mean, "second": self.second}
        if self.mean_err is not None:
            arrays["mean_err"] = self.mean_err
        if self.second_err is not None:
            arrays["second_err"] = self.second_err
        json_extras = {}
        for k, v in self.extras.items():
            if isinstance(v, np.ndarray) and v.dtype != object:
                arrays["extra__" + k] = v
            else:
                json_extras[k] = jsonable(v)
        meta = {
            "format": "piqs_squeeze.Result/1",
            "model": self.model.to_dict(sample_times=self.times),  # a plain function: its samples
            "method": self.method,
            "options": jsonable(self.options),
            "provenance": jsonable(self.provenance),
            "extras": json_extras,
            "stats": jsonable(self.stats),
        }
        if self.protocol is not None:
            meta["protocol"] = self.protocol.to_dict(sample_times=self.times)["protocol"]
        arrays["meta"] = np.array(json.dumps(meta))
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return atomic_write(path, buf.getvalue())

    @classmethod
    def load(cls, path) -> "Result":
        """Load a Result written by :meth:`save`.

        Raises FileNotFoundError for a missing file and :class:`ResultFileError` (a ValueError)
        naming the file for one that is damaged, truncated or not a piqs_squeeze result. Files
        written before ``stats`` existed load with empty stats.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such result file")
        try:
            with np.load(path, allow_pickle=False) as f:
                data = {k: f[k] for k in f.files}
            meta = json.loads(str(data.pop("meta")))
            if not str(meta.get("format", "")).startswith("piqs_squeeze.Result/"):
                raise ResultFileError(f"{path}: not a piqs_squeeze result file (format {meta.get('format')!r})")
            extras = dict(meta.get("extras", {}))
            for k in list(data):
                if k.startswith("extra__"):
                    extras[k[len("extra__"):]] = data.pop(k)
            res = cls(
                times=data["times"],
                mean=data["mean"],
                second=data["second"],
                model=Model.from_dict(meta["model"]),
                method=meta["method"],
                options=meta.get("options", {}),
                mean_err=data.get("mean_err"),
                second_err=data.get("second_err"),
                extras=extras,
                provenance=meta.get("provenance", {}),
                stats=meta.get("stats", {}),
                protocol=Protocol.from_dict(meta) if "protocol" in meta else None,
            )
        except ResultFileError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, TypeError, OSError,
                AttributeError) as exc:
            raise ResultFileError(f"{path}: not a readable piqs_squeeze result, damaged or truncated "
                                  f"({type(exc).__name__}: {exc})") from exc
        models = res.protocol.models if res.protocol is not None else [res.model]
        sampled = sorted({name for m in models for name in m.sampled_functions})
        if sampled:
            import warnings

            warnings.warn(f"{path}: {', '.join(sampled)} was a Python function when this Result was computed, saved "
                          "as its samples on the output times; the Result loads, but its model cannot be rerun "
                          "without the function", UserWarning, stacklevel=2)
        return res
