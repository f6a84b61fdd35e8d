"""The registry of validation checks: the :func:`check` decorator, :data:`REGISTRY`, and what a
check takes and returns (:class:`Context`, :class:`CheckResult`) and compares with
(:func:`compare`, :func:`max_rel_dev`).

A check is a function ``fn(ctx: Context) -> CheckResult`` registered with :func:`check`. It
compares one method with an independent reference, states its tolerance and why, and returns
every number it computed. This module imports nothing of the validation package: the checks
(``checks/``) import it, and the runner (:mod:`.core`) runs what they registered.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["CheckResult", "Context", "Entry", "REGISTRY", "check", "compare", "claim_verdict",
           "max_rel_dev", "moments_dev", "CLAIM_VERDICTS"]

#: Verdicts of a paper-claim check (group 7): the claim recomputed, never PASSED/FAILED. They
#: report physics, not the code's correctness, so they do not change the exit status.
CLAIM_VERDICTS = ("REPRODUCED", "DIFFERS", "NOT REPRODUCED")


@dataclass
class CheckResult:
    """Outcome of one check.

    Attributes
    ----------
    name : str
        Registry name (``--only`` takes it).
    title : str
        One-line description.
    status : {"PASSED", "FAILED", "SKIPPED", "ERROR"} or, for a paper claim, one of
        {"REPRODUCED", "DIFFERS", "NOT REPRODUCED"} (:data:`CLAIM_VERDICTS`)
    tolerance : float or None
        The bound the headline number was held to.
    why : str
        Why that tolerance (the error budget of both sides of the comparison).
    value : float or None
        The headline number (e.g. the largest relative deviation) compared with ``tolerance``.
    quantity : str
        What ``value`` is, with its unit (shown next to it in the report's table).
    paper : str
        The paper's number or statement that a claim check recomputes (empty for other checks).
    numbers : dict
        Every number the check computed (JSON-serializable after :func:`jsonable`).
    plots : list of str
        PNG paths, relative to the report directory.
    message : str
        One line for the verdict.
    seconds : float
        Wall time of the check.
    """

    name: str
    title: str = ""
    status: str = "SKIPPED"
    tolerance: float | None = None
    why: str = ""
    value: float | None = None
    quantity: str = ""
    paper: str = ""
    numbers: dict = field(default_factory=dict)
    plots: list = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    group: int = 0

    @property
    def is_claim(self) -> bool:
        """Whether this is a paper claim (verdict REPRODUCED / DIFFERS / NOT REPRODUCED)."""
        return self.status in CLAIM_VERDICTS

    @property
    def passed(self) -> bool | None:
        """True/False for a check that ran, None for a skipped one and for a paper claim (a claim
        is reproduced or not; that is a finding, not a pass or a failure of the code)."""
        if self.status == "SKIPPED" or self.is_claim:
            return None
        return self.status == "PASSED"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["passed"] = self.passed
        return d


@dataclass
class Context:
    """What a check needs: the mode, where to put plots, and the (testing) perturbation.

    Parameters
    ----------
    mode : {"quick", "full"}
    out : Path
        Report directory; plots go to ``out / "plots"``.
    perturb : dict
        ``{rate: factor}`` multiplying rates of the model given to the *reference* solver of
        every check (brute force, qutip.piqs, or the exact solver where it is the reference).
        Only for testing that a check can fail; empty in normal runs.
    scheduler : str, optional
        Address of a Dask scheduler (``"tcp://host:8786"``): the checks that run large MCWF
        ensembles (``mcwf_vs_cumulant_1e4``) run their trajectories there instead of on local
        processes (same bits either way).
    """

    mode: str = "quick"
    out: Path = Path("validation-report")
    perturb: dict = field(default_factory=dict)
    scheduler: str | None = None

    def __post_init__(self):
        if self.mode not in ("quick", "full"):
            raise ValueError(f"mode must be 'quick' or 'full', got {self.mode!r}")
        self.out = Path(self.out)

    @property
    def quick(self) -> bool:
        return self.mode == "quick"

    def pick(self, quick, full):
        """``quick`` in quick mode, ``full`` in full mode."""
        return quick if self.quick else full

    def reference_model(self, model):
        """The model handed to a reference solver, with the testing perturbation applied."""
        if not self.perturb:
            return model
        return model.replace(**{k: getattr(model, k) * f for k, f in self.perturb.items()})

    def plot_path(self, name: str) -> Path:
        p = self.out / "plots" / f"{name}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        return p


@dataclass
class Entry:
    """A registered check: ``fn(ctx) -> CheckResult``, its report group and title, and the
    methods it needs."""

    name: str
    fn: object
    group: int
    title: str
    needs: tuple


#: name -> registered check, in registration order (the report's order).
REGISTRY: dict[str, Entry] = {}


def check(name: str, *, group: int, title: str, needs: tuple = ()):
    """Register ``fn(ctx) -> CheckResult`` as check ``name`` of group ``group``.

    ``needs`` lists methods (names of ``piqs_squeeze.METHODS``) that must provide ``evolve`` or
    ``steady_state`` (written ``"carmichael:steady_state"``); the check is SKIPPED otherwise.
    """
    def deco(fn):
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        REGISTRY[name] = Entry(name, fn, group, title, tuple(needs))
        return fn

    return deco


def compare(value, tolerance) -> str:
    """PASSED when ``value <= tolerance`` (NaN fails)."""
    return "PASSED" if (value is not None and math.isfinite(value) and value <= tolerance) else "FAILED"


def claim_verdict(reproduced: bool, differs: bool = False) -> str:
    """REPRODUCED, DIFFERS (the claim holds in part, or its number is off) or NOT REPRODUCED."""
    return "REPRODUCED" if reproduced and not differs else ("DIFFERS" if reproduced or differs else "NOT REPRODUCED")


def max_rel_dev(a, b, scale=None) -> float:
    """max |a - b| / scale, scale defaulting to max(|b|, 1) over all entries.

    Moments of J are O(N^2); dividing by the largest entry (at least 1) makes the tolerance a
    relative accuracy of the state, independent of N.
    """
    a, b = np.asarray(a), np.asarray(b)
    if scale is None:
        scale = max(float(np.max(np.abs(b))), 1.0)
    return float(np.max(np.abs(a - b)) / scale)


def moments_dev(res, ref) -> float:
    """:func:`max_rel_dev` of the first and of the second moments of two Results, the larger."""
    return max(max_rel_dev(res.mean, ref.mean), max_rel_dev(res.second, ref.second))
