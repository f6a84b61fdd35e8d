"""Error bars of an MCWF ensemble that hold: the jackknife, the bootstrap, the tail of the
per-trajectory distribution, and a minimum-transient estimate whose noise bias is controlled.

Everything here is computed from the per-trajectory records of a run with
``keep_trajectories=True`` (``extras["traj_mean"]`` (n, T, 3), ``extras["traj_second"]``
(n, T, 3, 3)); nothing changes how trajectories are run.

xi^2 of an ensemble is a smooth function of the averaged moments, xi^2 = f(mean_i X_i) (the
density-matrix value, :func:`piqs_squeeze.observables.xi2`). Its delete-one jackknife pseudo-values

    p_i = n f(Xbar) - (n - 1) f(Xbar_(-i)),   Xbar_(-i) = (n Xbar - X_i) / (n - 1),

are, to first order, f(Xbar) plus trajectory i's influence (grad f . (X_i - Xbar)); the jackknife
standard error is std(p) / sqrt(n). The tail diagnostics describe the influences d_i = p_i - mean(p):

* ``ess`` = (sum d_i^2)^2 / sum d_i^4, the effective number of trajectories that carry the variance
  (n when all contribute alike, n/3 for Gaussian influences, 1 when one trajectory makes all of it);
* ``top_share``: the fraction of sum d_i^2 made by the largest 1 % of the trajectories (at least one);
* ``kurtosis``: the excess kurtosis of d (0 for a Gaussian);
* ``se_bootstrap``: the standard error from ``n_boot`` multinomial resamples, compared with the
  jackknife's (both are first-order equal; they part where the tail is heavy or f curves).

The minimum of a noisy sampled curve is biased low (the noise of the point that wins). Three
estimates of min_t xi^2(t) over a window are offered by :func:`min_estimate`:

* ``raw``: min_t of the ensemble curve, with the jackknife s.e. at that time (biased low);
* ``jackknife``: the block-jackknife bias correction of the raw minimum,
  B m - (B - 1) mean_b m_(-b), with the block jackknife s.e. of m;
* ``crossfit`` (default): the trajectories are split in F folds (trajectory i in fold i mod F,
  F = min(8, n // 8), at least 2); for each fold the time of the minimum is chosen on the other
  folds and xi^2 is read at that time on the fold itself, and the F readings are averaged:

      m_cf = (1/F) sum_f x_f(argmin_t x_(-f)),   se_cf = std_f(x_f(...)) / sqrt(F).

  A reading is independent of the noise that chose its time, so it has no selection bias; the
  time is off the true argmin by the noise of (F - 1)/F of the trajectories, which raises the
  reading by (curvature / 2) dt^2: a bias of second order, upward, that falls as 1/n. The
  readings are exchangeable, so their spread carries the time-choice scatter into se_cf. (A
  fold of n/F trajectories has the O(F/n) bias of a ratio estimate: small where the moments'
  relative spread between trajectories is small, i.e. at large N; the coverage is measured in
  tests/test_mcwf_statistics.py and benchmarks/results/mcwf_errors.md.) Where a handful of
  trajectories carry the variance (``tail_diagnostics``: ess of a few), folds of ~8 trajectories
  mostly miss them and the readings scatter more than their s.e. says; there the block-jackknife
  correction (``jackknife``) scattered less at 32-64 trajectories (benchmarks/results/
  mcwf_errors_gs20.md), and every estimate needs a few hundred trajectories.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from piqs_squeeze import observables

__all__ = ["trajectory_moments", "jackknife_xi2", "bootstrap_xi2", "tail_diagnostics", "MinEstimate",
           "min_estimate", "db_error", "trajectories_for", "attach_diagnostics", "concat", "MIN_METHODS"]

MIN_METHODS = ("crossfit", "jackknife", "raw")
#: most folds of the cross-fit minimum (fewer for small ensembles: at least 8 trajectories a fold)
MAX_FOLDS = 8
_DB = 10.0 / math.log(10.0)


def db_error(xi2, se):
    """Standard error of 10 log10(xi^2) from that of xi^2: se_dB = (10 / ln 10) se / xi^2."""
    return _DB * np.asarray(se, float) / np.asarray(xi2, float)


def trajectories_for(se_db: float, ntraj: int, target_db: float = 0.1) -> int:
    """Trajectories that bring a standard error se_db (from ntraj trajectories) down to
    ``target_db``: ntraj (se_db / target_db)^2 (the error falls as 1/sqrt(n))."""
    if not (isinstance(target_db, (int, float)) and target_db > 0):
        raise ValueError(f"target_db must be a positive number, got {target_db!r}")
    if not math.isfinite(se_db):
        return -1
    return int(math.ceil(ntraj * (se_db / target_db) ** 2))


def trajectory_moments(result):
    """(traj_mean (n, T, 3), traj_second (n, T, 3, 3), N) of an MCWF Result run with
    ``keep_trajectories=True``; ValueError otherwise (raised before any work)."""
    ex = getattr(result, "extras", None)
    if not isinstance(ex, dict) or "traj_mean" not in ex or "traj_second" not in ex:
        raise ValueError("result: the statistics need the per-trajectory moments; run mcwf with "
                         "keep_trajectories=True")
    m = np.asarray(ex["traj_mean"], dtype=np.float64)
    s = np.asarray(ex["traj_second"], dtype=np.float64)
    return m, s, int(result.model.N)


def jackknife_xi2(m, s, N):
    """Delete-one jackknife of xi^2 from per-trajectory moments.

    Parameters
    ----------
    m, s : (n, T, 3), (n, T, 3, 3) per-trajectory moments
    N : atom number

    Returns
    -------
    xi2 : (T,) f(Xbar), the ensemble's xi^2
    se : (T,) sqrt((n - 1)/n sum_i (f_(-i) - mean f_(-i))^2) (NaN for n < 2)
    pseudo : (n, T) pseudo-values p_i = n f(Xbar) - (n - 1) f_(-i)
    """
    n = m.shape[0]
    mb, sb = m.mean(0), s.mean(0)
    x = observables.xi2(mb, sb, N)
    if n < 2:
        return x, np.full_like(x, np.nan), np.full((n,) + x.shape, np.nan)
    loo = observables.xi2((n * mb - m) / (n - 1), (n * sb - s) / (n - 1), N)
    with np.errstate(invalid="ignore"):
        se = np.sqrt((n - 1) / n * ((loo - loo.mean(0)) ** 2).sum(0))
    return x, se, n * x - (n - 1) * loo


def bootstrap_xi2(m, s, N, n_boot: int = 200, seed: int = 0):
    """Bootstrap replicates of xi^2: (n_boot, T) values f(weighted means) with multinomial weights
    (n draws with replacement); the same ``seed`` gives the same replicates."""
    n = m.shape[0]
    rng = np.random.default_rng(seed)
    w = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64) / n  # (B, n)
    T = m.shape[1]
    bm = (w @ m.reshape(n, -1)).reshape(n_boot, T, 3)
    bs = (w @ s.reshape(n, -1)).reshape(n_boot, T, 3, 3)
    return observables.xi2(bm, bs, N)


def _block_edges(n, nblocks):
    B = min(n, nblocks)
    return np.linspace(0, n, B + 1).astype(int)


def _loo_block_xi2(m, s, N, nblocks):
    """(B, T) xi^2 of the ensemble with block b of consecutive trajectories left out."""
    n = m.shape[0]
    edges = _block_edges(n, nblocks)
    sm = np.add.reduceat(m, edges[:-1], axis=0)
    ss = np.add.reduceat(s, edges[:-1], axis=0)
    cnt = np.diff(edges).astype(float)
    return observables.xi2((sm.sum(0) - sm) / (n - cnt)[:, None, None],
                           (ss.sum(0) - ss) / (n - cnt)[:, None, None, None], N)


def tail_diagnostics(result, index=None, n_boot: int = 200, seed: int = 0, top: int = 5) -> dict:
    """How heavy-tailed the per-trajectory contributions to xi^2 are, and which trajectories make the tail.

    Parameters
    ----------
    result : Result of mcwf with ``keep_trajectories=True``
    index : int, optional
        Output time to describe; default the time of the ensemble's minimum xi^2 (t > times[0]).
    n_boot, seed : bootstrap resamples and their seed
    top : how many of the largest contributions to describe

    Returns
    -------
    dict (JSON scalars and short lists): ``t``, ``ntraj``, ``xi2``, ``se_jackknife``,
    ``se_bootstrap``, ``boot_over_jack``, ``ess`` (see the module docstring), ``ess_fraction``
    (ess / n), ``top_share`` (largest 1 %), ``kurtosis``, ``top`` (for the ``top`` largest ``|d_i|``:
    trajectory index, signed share d_i^2 / sum d^2, its j at t, its jump count, its last jump
    before t), and for comparison ``j_mean`` and ``njumps_mean`` over the ensemble and the
    Spearman correlations of ``|d_i|`` with j_i(t) and with the jumps in (t - (t_1 - t_0), t].
    """
    m, s, N = trajectory_moments(result)
    n, T = m.shape[:2]
    if index is None:
        x = observables.xi2(m.mean(0), s.mean(0), N)
        ok = np.flatnonzero(np.isfinite(x[1:])) + 1
        index = int(ok[np.argmin(x[ok])]) if ok.size else T - 1
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < T:
        raise ValueError(f"index must be an integer in 0..{T - 1}, got {index!r}")
    index = int(index)
    x, se, pseudo = (a[..., 0] for a in jackknife_xi2(m[:, index:index + 1], s[:, index:index + 1], N))
    x, se = np.array([x]), np.array([se])
    pseudo = pseudo[:, None]
    t = float(result.times[index])
    d = pseudo[:, 0] - pseudo[:, 0].mean()
    d2 = d ** 2
    tot = float(d2.sum())
    boot = bootstrap_xi2(m[:, index:index + 1], s[:, index:index + 1], N, n_boot, seed)[:, 0]
    se_b = float(np.std(boot, ddof=1))
    k = max(1, int(math.ceil(0.01 * n)))
    order = np.argsort(-d2)
    ex = result.extras
    j_t = np.asarray(ex["traj_j"], float)[:, index] if "traj_j" in ex else np.full(n, np.nan)
    nj = np.asarray(ex.get("njumps", np.zeros(n)), float)
    off = np.asarray(ex.get("jump_offsets", np.zeros(n + 1, int)))
    jt = np.asarray(ex.get("jump_times", np.zeros(0)), float)
    dt = float(result.times[1] - result.times[0]) if T > 1 else 0.0
    last, recent = np.full(n, np.nan), np.zeros(n)
    for i in range(n):
        ti = jt[off[i]:off[i + 1]]
        before = ti[ti <= t]
        if before.size:
            last[i] = before[-1]
        recent[i] = np.count_nonzero((ti > t - dt) & (ti <= t))
    out = {
        "t": t, "index": index, "ntraj": n, "xi2": float(x[0]), "se_jackknife": float(se[0]),
        "se_bootstrap": se_b, "boot_over_jack": se_b / float(se[0]) if se[0] > 0 else math.nan,
        "ess": tot ** 2 / float((d2 ** 2).sum()) if tot > 0 else math.nan,
        "top_share": float(d2[order[:k]].sum() / tot) if tot > 0 else math.nan,
        "kurtosis": float(np.mean(d ** 4) / np.mean(d2) ** 2 - 3.0) if tot > 0 else math.nan,
        "j_mean": float(np.nanmean(j_t)) if np.isfinite(j_t).any() else math.nan, "njumps_mean": float(nj.mean()),
        "corr_abs_d_j": _spearman(np.abs(d), j_t), "corr_abs_d_recent_jumps": _spearman(np.abs(d), recent),
        "top": [{"trajectory": int(i), "share": float(np.sign(d[i]) * d2[i] / tot) if tot > 0 else math.nan,
                 "j": float(j_t[i]), "njumps": int(nj[i]), "last_jump_before_t": float(last[i]),
                 "jumps_in_last_interval": int(recent[i])} for i in order[:top]],
    }
    out["ess_fraction"] = out["ess"] / n
    return out


def _spearman(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return math.nan
    ra = np.argsort(np.argsort(a[ok])).astype(float)
    rb = np.argsort(np.argsort(b[ok])).astype(float)
    if ra.std() == 0 or rb.std() == 0:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


@dataclass(frozen=True)
class MinEstimate:
    """A minimum of xi^2(t) over a window with its standard error (see :func:`min_estimate`).

    ``xi2``, ``se``: the estimate and its s.e. (linear); ``db``, ``se_db``: the same in dB;
    ``t``: the time of the minimum (the crossfit: the ensemble's argmin); ``method``; ``ntraj``;
    ``raw_xi2``: the plain minimum of the ensemble curve, for comparison; ``t_window``: the
    window's start; ``folds``: the cross-fit's F (its se has F - 1 degrees of freedom: a 95 %
    interval is +- t_(0.975, F - 1) se); ``ntraj_for_0p1db``: trajectories for se_db = 0.1 dB."""

    xi2: float
    se: float
    t: float
    method: str
    ntraj: int
    raw_xi2: float
    t_window: float
    folds: int = 0

    @property
    def db(self) -> float:
        return 10 * math.log10(self.xi2) if self.xi2 > 0 else math.nan

    @property
    def se_db(self) -> float:
        return float(db_error(self.xi2, self.se)) if self.xi2 > 0 else math.nan

    @property
    def ntraj_for_0p1db(self) -> int:
        return trajectories_for(self.se_db, self.ntraj, 0.1)

    def to_dict(self) -> dict:
        return dict(asdict(self), db=self.db, se_db=self.se_db, ntraj_for_0p1db=self.ntraj_for_0p1db)

    def __str__(self):
        return f"{self.db:+.3f} +- {self.se_db:.3f} dB ({self.method}, {self.ntraj} traj., t = {self.t:.4g})"


def _window(times, t_min, t_max):
    times = np.asarray(times, float)
    for name, v in (("t_min", t_min), ("t_max", t_max)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or math.isnan(v)):
            raise TypeError(f"{name} must be a real number or None, got {v!r}")
    lo = times[0] if t_min is None else float(t_min)
    hi = times[-1] if t_max is None else float(t_max)
    w = np.flatnonzero((times >= lo) & (times <= hi) & (times > times[0]))
    if w.size == 0:
        raise ValueError(f"no output time in the window [{lo}, {hi}] (after times[0])")
    return w, lo


def _argmin(x, w):
    xs = x[w]
    ok = np.isfinite(xs)
    if not ok.any():
        return -1
    return int(w[np.flatnonzero(ok)[np.argmin(xs[ok])]])


def min_estimate(result, t_min=None, t_max=None, method: str = "crossfit", nblocks: int = 64) -> MinEstimate:
    """Minimum of the ensemble's xi^2(t) over t_min <= t <= t_max (t > times[0]) with a standard
    error, the noise bias controlled (module docstring: ``crossfit``, ``jackknife``, ``raw``).

    Parameters
    ----------
    result : Result of mcwf with ``keep_trajectories=True`` (at least 4 trajectories)
    t_min, t_max : window (None: the whole run after times[0]); for the paper's minimum transient
        xi^2 pass ``analysis.min_transient_xi2(result).t_window`` (or of a deterministic method's
        result, which has no noise) as ``t_min``
    method : "crossfit" (default), "jackknife" or "raw"
    nblocks : blocks of the block jackknife (``jackknife``)

    Returns
    -------
    MinEstimate
    """
    if method not in MIN_METHODS:
        raise ValueError(f"method must be one of {', '.join(MIN_METHODS)}, got {method!r}")
    if isinstance(nblocks, bool) or not isinstance(nblocks, int) or nblocks < 2:
        raise ValueError(f"nblocks must be an integer >= 2, got {nblocks!r}")
    m, s, N = trajectory_moments(result)
    n = m.shape[0]
    if n < 4:
        raise ValueError(f"result: min_estimate needs at least 4 trajectories, got {n}")
    w, lo = _window(result.times, t_min, t_max)
    times = np.asarray(result.times, float)
    x, se, _ = jackknife_xi2(m, s, N)
    i = _argmin(x, w)
    if i < 0:
        return MinEstimate(math.nan, math.nan, math.nan, method, n, math.nan, lo)
    raw = float(x[i])
    if method == "raw":
        return MinEstimate(raw, float(se[i]), float(times[i]), method, n, raw, lo)
    if method == "jackknife":
        loo = _loo_block_xi2(m, s, N, nblocks)[:, w]
        with np.errstate(invalid="ignore"):
            mins = np.nanmin(np.where(np.isfinite(loo), loo, np.inf), axis=1)
        B = mins.size
        val = B * raw - (B - 1) * float(mins.mean())
        err = math.sqrt((B - 1) / B * float(((mins - mins.mean()) ** 2).sum()))
        return MinEstimate(val, err, float(times[i]), method, n, raw, lo)
    F = max(2, min(MAX_FOLDS, n // 8))
    reads = _crossfit(m, s, N, w, F)
    if not np.all(np.isfinite(reads)):
        return MinEstimate(math.nan, math.nan, float(times[i]), method, n, raw, lo)
    return MinEstimate(float(reads.mean()), float(reads.std(ddof=1) / math.sqrt(F)), float(times[i]), method, n,
                       raw, lo, F)


def _crossfit(m, s, N, w, F):
    """The F cross-fit readings x_f(argmin_t x_(-f)): fold f = trajectories i with i % F == f; the
    time chosen on the other folds, xi^2 read on fold f."""
    fold = np.arange(m.shape[0]) % F
    sm = np.stack([m[fold == f].sum(0) for f in range(F)])
    ss = np.stack([s[fold == f].sum(0) for f in range(F)])
    cnt = np.bincount(fold, minlength=F).astype(float)
    own = observables.xi2(sm[:, w] / cnt[:, None, None], ss[:, w] / cnt[:, None, None, None], N)
    rest = observables.xi2((sm.sum(0) - sm)[:, w] / (cnt.sum() - cnt)[:, None, None],
                           (ss.sum(0) - ss)[:, w] / (cnt.sum() - cnt)[:, None, None, None], N)
    rest = np.where(np.isfinite(rest), rest, np.inf)
    return own[np.arange(F), np.argmin(rest, axis=1)]


def attach_diagnostics(result, n_boot: int = 200) -> dict:
    """Put :func:`tail_diagnostics` (at the ensemble's minimum xi^2) into ``result.stats["tail"]``
    and return it; for an ensemble with the per-trajectory records and at least 4 trajectories
    (else nothing is attached and {} returned)."""
    ex = result.extras
    if "traj_mean" not in ex or int(ex.get("ntraj", 0)) < 4 or len(result.times) < 2:
        return {}
    d = tail_diagnostics(result, n_boot=n_boot)
    result.stats["tail"] = d
    return d


def concat(results):
    """One Result of the trajectories of several ``keep_trajectories`` MCWF Results of the same
    model and times, in order (e.g. chunks run with successive seeds); the moments are the means
    over all trajectories, the statistics recomputed from the records."""
    results = list(results)
    if not results:
        raise ValueError("results: nothing to concatenate")
    for r in results:
        trajectory_moments(r)
        if r.model != results[0].model or not np.array_equal(r.times, results[0].times):
            raise ValueError("results: all must have the same model and output times")
    from piqs_squeeze.result import Result

    ex = [r.extras for r in results]
    m = np.concatenate([e["traj_mean"] for e in ex])
    s = np.concatenate([e["traj_second"] for e in ex])
    nj = np.concatenate([np.asarray(e["njumps"]) for e in ex])
    extras = {"ntraj": int(m.shape[0]), "traj_mean": m, "traj_second": s, "njumps": nj,
              "traj_j": np.concatenate([e["traj_j"] for e in ex]),
              "jump_offsets": np.concatenate([[0], np.cumsum(nj)]),
              "jump_times": np.concatenate([e["jump_times"] for e in ex]),
              "jump_kinds": np.concatenate([e["jump_kinds"] for e in ex])}
    n = m.shape[0]
    extras["xi2_err"] = jackknife_xi2(m, s, results[0].model.N)[1]
    se_m = m.std(0, ddof=1) / math.sqrt(n) if n > 1 else None
    se_s = s.std(0, ddof=1) / math.sqrt(n) if n > 1 else None
    out = Result(results[0].times, m.mean(0), s.mean(0), results[0].model, "mcwf", options=dict(results[0].options),
                 mean_err=se_m, second_err=se_s, extras=extras)
    out.stats["wall_time"] = float(sum(r.stats.get("wall_time", 0.0) for r in results))
    return out
