"""The MCWF ensemble: reproducible, parallel runs of trajectories reduced to a Result (method ``"mcwf"``).

Each trajectory is a pure state in one (2j+1)-dimensional Dicke sector; the physics of one
trajectory (state-following unravelling, rational or Krylov propagation, waiting-time jumps) is in
:mod:`piqs_squeeze.methods.mcwf.sector` and its numba kernel :mod:`piqs_squeeze.methods.mcwf.kernels`. This module
runs ensembles reproducibly and in parallel and reduces them to a :class:`~piqs_squeeze.result.Result`.

Statistics
----------
With per-trajectory moments X_i(t) (normalised states), the ensemble moments are the sample means
and ``mean_err``/``second_err`` their standard errors s / sqrt(n). xi^2 is computed from the
averaged moments (the density-matrix value) and its standard error ``extras["xi2_err"]`` by a
block jackknife over trajectories (at most 64 blocks, in trajectory order).
"""
from __future__ import annotations

import hashlib
import math
import numbers
import os
import sys
import time

import numpy as np

from piqs_squeeze import observables
from piqs_squeeze.model import Model, check_times
from piqs_squeeze.protocol import Protocol
from piqs_squeeze.runtime.pool import process_pool
from piqs_squeeze.runtime.provenance import code_fingerprint
from piqs_squeeze.runtime.resources import check_memory, say_if_long
from piqs_squeeze.result import Result
from piqs_squeeze.states import CoherentSpinState, css
from . import sector as mcwf_sector
from piqs_squeeze.runtime import threads
from .options import McwfEvolveOptions
from .sector import jump_kind_names, resolve_beta, run_trajectory, small_beta

__all__ = ["evolve", "unsupported", "initial_state", "jackknife_xi2", "memory_needed", "estimate_run_time"]


def unsupported(model) -> str | None:
    """Every model can be unravelled (all processes have sector-preserving jump channels; any
    quadratic collective H, constant or time-dependent)."""
    return None


def initial_state(N: int, initial):
    """(j, psi) from None (CSS along -x), a CoherentSpinState, an array of the N+1 amplitudes
    of the j = N/2 sector (m = N/2 .. -N/2), or a tuple (j, amplitudes)."""
    if initial is None:
        initial = css()
    if isinstance(initial, CoherentSpinState):
        return N / 2.0, initial.amplitudes(N)
    if isinstance(initial, tuple) and len(initial) == 2 and np.ndim(initial[1]) == 1:
        j, psi = initial
        if isinstance(j, bool) or not isinstance(j, numbers.Real) or not float(2 * j).is_integer() \
                or not (0 <= j <= N / 2) or (N / 2 - j) % 1 != 0:
            raise ValueError(f"initial: j must be one of N/2, N/2 - 1, ..., got {j!r}")
        j = float(j)
    else:
        j, psi = N / 2.0, initial
    try:
        psi = np.asarray(psi, dtype=complex)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"initial must be a CoherentSpinState, amplitudes or (j, amplitudes); got {initial!r}") from exc
    d = int(round(2 * j)) + 1
    if psi.shape != (d,):
        raise ValueError(f"initial: expected {d} amplitudes for sector j={j}, got shape {psi.shape}")
    nrm = np.linalg.norm(psi)
    if not np.isfinite(nrm) or nrm == 0:
        raise ValueError("initial: amplitudes must be finite and not all zero")
    return j, psi / nrm


@threads.single_blas()  # the LAPACK eigendecompositions of the small-sector tables: same bits for any BLAS threads
def _run_chunk(model, times, j0, psi0, beta, seeds, keep, tol, scheme, ramp_tol):
    """Worker task: trajectories for a list of SeedSequences (module-level so it pickles)."""
    out = []
    for ss in seeds:
        rec = run_trajectory(model, times, j0, psi0, beta, np.random.default_rng(ss), tol=tol, scheme=scheme,
                             ramp_tol=ramp_tol)
        if not keep:
            rec = {"mean": rec["mean"], "second": rec["second"], "j": rec["j"],
                   "njumps": len(rec["jump_times"])}
        else:
            rec["njumps"] = len(rec["jump_times"])
        out.append(rec)
    return out


def jackknife_xi2(mean_i, second_i, N, nblocks=64):
    """Block-jackknife standard error of xi^2 from the averaged moments.

    Parameters
    ----------
    mean_i, second_i : (n, T, 3), (n, T, 3, 3) per-trajectory moments
    N : atom number

    Returns
    -------
    (T,) err = sqrt((B - 1)/B sum_b (xi2_(-b) - mean_b xi2_(-b))^2), B = min(n, nblocks)
    blocks of consecutive trajectories; NaN when n < 2.
    """
    n = mean_i.shape[0]
    if n < 2:
        return np.full(mean_i.shape[1], np.nan)
    B = min(n, nblocks)
    edges = np.linspace(0, n, B + 1).astype(int)
    sm = np.add.reduceat(mean_i, edges[:-1], axis=0)
    ss = np.add.reduceat(second_i, edges[:-1], axis=0)
    cnt = np.diff(edges).astype(float)
    loo_m = (sm.sum(0) - sm) / (n - cnt)[:, None, None]
    loo_s = (ss.sum(0) - ss) / (n - cnt)[:, None, None, None]
    x = observables.xi2(loo_m, loo_s, N)
    with np.errstate(invalid="ignore"):
        return np.sqrt((B - 1) / B * ((x - x.mean(0)) ** 2).sum(0))


def evolve(model: Model | Protocol, times, initial=None, options: McwfEvolveOptions | None = None,
           **kw) -> Result:
    """Ensemble of MCWF trajectories, reduced to a Result.

    Solves d rho/dt = -i[H(t), rho] + sum_k D[L_k] rho (the Model's master equation, any quadratic
    collective H) as the average of ``|psi><psi|`` over trajectories psi(t) in single sectors
    (see :mod:`piqs_squeeze.methods.mcwf.sector`); H_eff = H - (i/2) sum_k L_k^+ L_k is
    tridiagonal in ``|j, m>`` for the paper's H = chi J+J- + Omega Jx and pentadiagonal once H has
    Jx^2, Jy^2 or JxJy parts (banded solves, same schemes).

    Parameters
    ----------
    model : Model or Protocol
        A :class:`~piqs_squeeze.protocol.Protocol` runs its models one after the other: each
        trajectory goes on across a boundary with its state, sector, jump record and random
        stream; output times may lie anywhere, on boundaries too (the state reached at the end of
        the segment). The Result has ``protocol`` set and ``model`` the first model.
    times : (T,) output times; the initial state is taken at ``times[0]``
    initial : None | CoherentSpinState | (N+1,) amplitudes | (j, amplitudes)
    options : McwfEvolveOptions, optional
        The options (``piqs_squeeze.method_options("mcwf")`` lists them); ``kw`` sets single ones.
        ``seed``: trajectory i uses ``np.random.SeedSequence(seed).spawn(ntraj)[i]``: the same
        seed gives bit-identical results whatever ``workers``/``executor``. ``keep_trajectories``
        stores ``traj_j``, ``traj_xi2``, ``traj_n_eff`` (ntraj, T), ``traj_mean`` (ntraj, T, 3),
        ``traj_second`` (ntraj, T, 3, 3), ``jump_times``/``jump_kinds`` (flat, trajectory i in
        ``jump_offsets[i]:jump_offsets[i+1]``) and ``jump_kind_names`` in ``extras``.
        ``displacement``: unravelling of collective emission, J- -> J- + beta (see
        mcwf_sector.resolve_beta); the default follows the state, beta = -<J->, for any H, which
        keeps the jump count O(N) per unit time (for N + 1 <= mcwf_sector.SMALL_DIM, where
        propagation is exact with cached eigendecompositions, it means the fixed point beta for
        the paper's H and beta = 0 for any other). "fixed_point" and "drive" are built from the
        paper's H and are refused (ValueError) for any other or time-dependent H; in a Protocol
        beta is resolved per model. ``scheme``: no-jump propagation in sectors larger than
        ``mcwf_sector.SMALL_DIM``, Pade steps of the shifted generator with banded solves
        ("rational", faster than Krylov at large N, benchmarks/results/mcwf.md; see
        :mod:`piqs_squeeze.methods.mcwf.rational`) or Arnoldi steps ("krylov"); both obey
        ``step_tol`` and with a fixed displacement give the same trajectory for the same seed (to
        ~step_tol). ``ramp_tol``: models with time-dependent coefficients (Ramps, callables) run
        in piecewise-constant steps with H_eff at each step's midpoint; each step is chosen so
        that the estimate of its leading local error on the state (mcwf_sector.midpoint_error:
        the second Magnus term (h^2/12) ||[H(t+h) - H(t), H_eff] psi|| plus the midpoint-quadrature
        term) is below ``ramp_tol`` times its length, so the error accumulated over a run of
        duration T is about ``ramp_tol * T``; steps end on every output time; ignored for constant
        models. The scheme is second order (steps ~ sqrt(ramp_tol)): fast ramps at large N need
        many steps (benchmarks/results/mcwf_general_h.md). ``checkpoint``: a file (a Result in
        the ``keep_trajectories`` layout) holding the finished trajectories, written at most
        every :data:`CHECKPOINT_PERIOD` seconds (and never taking more than ~5 % of the run),
        when the run is interrupted and at the end. If it exists, its trajectories are reused
        and the run goes on with the next seeds; it must come from the same model or protocol,
        times, initial state, seed (None: the file's), displacement, step_tol, scheme and (for a
        time-dependent run) ramp_tol (else ValueError). Interrupting a run (KeyboardInterrupt)
        returns the Result of the trajectories finished so far, with
        ``extras["interrupted"] = True``.

    Returns
    -------
    Result with method "mcwf", mean/second and their standard errors; extras ``xi2_err`` (T,),
    ``n_eff`` (T,) ensemble N_eff, ``ntraj``, ``njumps`` (ntraj,), ``beta`` ([re, im] of the
    first model; NaN when adaptive) and the optional records; ``stats["wall_time"]``; with
    ``keep_trajectories`` (and >= 4 trajectories) ``stats["tail"]``, the tail diagnostics at the
    ensemble's minimum xi^2 (:func:`piqs_squeeze.methods.mcwf.statistics.tail_diagnostics`).
    """
    opts = McwfEvolveOptions.coerce(options, kw)
    if not isinstance(model, (Model, Protocol)):
        raise TypeError(f"model must be a piqs_squeeze.Model or Protocol, got {type(model).__name__}")
    times = check_times(times)
    t0 = time.perf_counter()
    run = _Ensemble(model, times, initial, opts)
    interrupted = run.run()
    run.save(force=True)
    res = run.reduce(opts.keep_trajectories)
    if opts.keep_trajectories:
        from .statistics import attach_diagnostics

        attach_diagnostics(res)  # stats["tail"]: how heavy-tailed the trajectories' contributions are
    res.stats["wall_time"] = time.perf_counter() - t0
    if interrupted:
        res.extras["interrupted"] = True
    return res


class _Ensemble:
    """One ensemble run: its plan (displacement, workers, seeds, checkpoint) and its trajectories.

    ``run_model`` is what the trajectories run (a Model or a Protocol), ``model`` the Model that
    sizes the run and heads the Result (the first one of a Protocol), ``protocol`` the Protocol
    or None."""

    def __init__(self, model, times, initial, opts: McwfEvolveOptions):
        self.protocol = model if isinstance(model, Protocol) else None
        self.run_model = model
        self.model = self.protocol.models[0] if self.protocol is not None else model
        self.times, self.opts = times, opts
        self._displacements()
        self.batch = opts.batch if opts.batch is not None else (
            min(opts.ntraj, 100) if opts.target_xi2_err else opts.ntraj)
        self.nw = opts.workers or (os.cpu_count() or 1)
        self._check_size()
        self.j0, self.psi0 = initial_state(self.model.N, initial)
        self.records = []
        self._seeds_and_checkpoint()
        self.keep = opts.keep_trajectories or opts.checkpoint is not None
        self.saved = [time.perf_counter(), 0.0]  # time of the last save, its duration

    def _displacements(self):
        """beta of each model (None: state-following); ``run_beta`` is what the trajectories get
        (one per model of a Protocol), ``beta`` the first model's (recorded in extras)."""
        betas = []
        for m in (self.protocol.models if self.protocol is not None else [self.model]):
            b = resolve_beta(m, self.opts.displacement)
            if b is None and m.N + 1 <= mcwf_sector.SMALL_DIM:
                b = small_beta(m)  # small models: exact cached propagation needs a fixed beta
            betas.append(b)
        self.beta = betas[0]
        self.run_beta = tuple(betas) if self.protocol is not None else self.beta

    def _check_size(self):
        model, times, opts, nw = self.model, self.times, self.opts, self.nw
        say_if_long(f"mcwf N = {model.N}", estimate_run_time(model, times[-1] - times[0], opts.ntraj, nw),
                    f"{opts.ntraj} trajectories on {nw} worker(s); rough: scaled from the Fig. S2 model",
                    "Interrupt it with Ctrl-C (finished trajectories are kept, with checkpoint= across runs), or "
                    "use target_xi2_err, fewer trajectories or the cumulant method")
        check_memory(memory_needed(model.N, len(times), 1 if (opts.executor is None and nw == 1) else nw),
                     opts.max_memory, f"mcwf at N = {model.N} with {len(times)} output times",
                     "use fewer output times, fewer workers, or the cumulant method for this N")

    def _seeds_and_checkpoint(self):
        """The root SeedSequence, the run key, and the trajectories of an existing checkpoint."""
        opts, checkpoint = self.opts, self.opts.checkpoint
        old = Result.load(checkpoint) if checkpoint is not None and os.path.exists(checkpoint) else None
        seed = opts.seed
        if seed is None and old is not None:
            seed = int(old.options["seed_entropy"])
        root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self.root = root
        ramp_tol = opts.ramp_tol if self.run_model.time_dependent else None  # (it changes nothing else)
        self.run_key = _run_key(self.run_model, self.times, self.j0, self.psi0, root, opts.displacement,
                                opts.step_tol, opts.scheme, ramp_tol)
        if old is not None:
            if old.provenance.get("run_key") != self.run_key:
                raise ValueError(f"checkpoint {checkpoint} was written by a different run (model or protocol, "
                                 "times, initial state, seed, displacement, step_tol, scheme, ramp_tol or the "
                                 "code's version differ); delete it or choose another checkpoint path to start "
                                 "over")
            self.records = _records_from(old)[:opts.ntraj]
            root.spawn(len(self.records))  # their seeds are used: go on with the next ones
        self.options = dict(opts.to_dict(), batch=self.batch, seed_entropy=str(root.entropy),
                            seed_spawn_key=list(root.spawn_key))

    def reduce(self, keep) -> Result:
        """The Result of the trajectories finished so far (``keep``: with the per-trajectory records)."""
        return _reduce(self.model, self.times, self.records, self.beta, keep, self.options, self.run_key,
                       self.protocol)

    def save(self, force=False):
        """Write the checkpoint (at most every CHECKPOINT_PERIOD s, and 20x its own duration)."""
        wait = max(CHECKPOINT_PERIOD, 20.0 * self.saved[1])
        checkpoint = self.opts.checkpoint
        if checkpoint is not None and self.records and (force or time.perf_counter() - self.saved[0] > wait):
            t0 = time.perf_counter()
            self.reduce(True).save(checkpoint)
            self.saved[:] = [time.perf_counter(), time.perf_counter() - t0]

    def run(self) -> bool:
        """Run batches until ntraj (or the target error); True when interrupted by Ctrl-C."""
        from tqdm.auto import tqdm

        opts, ntraj = self.opts, self.opts.ntraj
        show = sys.stderr.isatty() if opts.progress is None else bool(opts.progress)
        self.pool = None
        try:
            with tqdm(total=ntraj, initial=len(self.records), desc=f"mcwf N={self.model.N}", disable=not show,
                      leave=False) as bar:
                while len(self.records) < ntraj:
                    self._batch(min(self.batch, ntraj - len(self.records)), bar)
                    if opts.target_xi2_err is not None and self._target_met():
                        break
        except KeyboardInterrupt:
            if not self.records:
                raise
            return True
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)
        return False

    def _batch(self, n_new, bar):
        """Run the next ``n_new`` seeds (on the executor, the local pool or here), in trajectory order."""
        opts, nw = self.opts, self.nw
        seeds = self.root.spawn(n_new)
        if opts.executor is None and nw > 1 and n_new > 1 and self.pool is None:
            self.pool = process_pool(nw, ["piqs_squeeze.methods.mcwf.ensemble"])
        ex = opts.executor or self.pool
        size = opts.chunk or max(1, math.ceil(n_new / (4 * (nw if ex is not None else 1))))
        parts = [seeds[i:i + size] for i in range(0, n_new, size)]
        args = (self.run_model, self.times, self.j0, self.psi0, self.run_beta)
        if ex is None or n_new == 1:
            for p in parts:
                self.records += _run_chunk(*args, p, self.keep, opts.step_tol, opts.scheme, opts.ramp_tol)
                bar.update(len(p))
                self.save()
            return
        futs = [ex.submit(_run_chunk, *args, p, self.keep, opts.step_tol, opts.scheme, opts.ramp_tol)
                for p in parts]
        for f in futs:  # trajectory order, whatever order they finish in
            self.records += f.result()
            bar.update(len(f.result()))
            self.save()

    def _target_met(self) -> bool:
        err = _xi2_err(self.records, self.model.N)
        fin = err[1:][np.isfinite(err[1:])] if err.size > 1 else err[np.isfinite(err)]
        return bool(fin.size and fin.max() < self.opts.target_xi2_err)


#: seconds between checkpoint writes (at least; longer when a write takes more than 5 % of that)
CHECKPOINT_PERIOD = 5.0
#: bytes per state entry and output time (the output states, complex), plus the fixed parts of a
#: worker: the kernel's work arrays (~60 state-sized complex vectors at most), the sector-table
#: cache (mcwf_sector._CACHE_BYTES, twice over while one is replaced) and the interpreter with its
#: libraries; 1.3x margin (N = 1e6, 101 outputs: ~3.3 GB resident per worker after 40 s)
_WORKER_BASE = 300 * 2**20


#: seconds per trajectory of the Fig. S2 model (Omega = N, chi = Gamma = 1, gamma_s = 2) over a unit
#: of time at N = 1e4 (benchmarks/results/mcwf.md: 32 s); the cost grows ~N^2 (N = 1000-1e4)
_SECONDS_AT_1E4 = 32.0


def estimate_run_time(model: Model, duration: float, ntraj: int, workers: int) -> float:
    """Rough wall seconds of a run: ``32 s (N / 1e4)^2 duration`` per trajectory (the Fig. S2
    model's measured cost; drives and rates ~N like it), ``ntraj / workers`` trajectories each."""
    per = _SECONDS_AT_1E4 * (model.N / 1e4) ** 2 * max(float(duration), 0.0)
    return per * math.ceil(ntraj / max(1, workers))


def memory_needed(N: int, n_times: int, processes: int = 1) -> int:
    """Estimated peak bytes of an MCWF run: per process 1.3 [16 (N + 1)(T + 60) + 2 C + B]
    (T output times, C the sector-table cache budget, B the interpreter), times the number of
    processes that hold a trajectory (the workers)."""
    per = 16.0 * (N + 1) * (n_times + 60) + 2 * mcwf_sector._CACHE_BYTES + _WORKER_BASE
    return int(1.3 * per * max(1, processes))


def _run_key(model, times, j0, psi0, root, displacement, step_tol, scheme, ramp_tol=None) -> str:
    """Hash of everything that fixes the trajectories, the code included (checkpoints are reused only
    for the same run of the same code). ``model`` is a Model or a Protocol; a function of time
    that is not a Ramp enters through its repr (it cannot be saved, so no checkpoint matches it
    across processes). ``ramp_tol`` is None for a run without time-dependent coefficients (it
    does not change its trajectories)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(times, dtype=float).tobytes())
    h.update(np.ascontiguousarray(psi0, dtype=complex).tobytes())
    try:
        desc = model.to_dict()
    except TypeError:
        desc = repr(model)
    extra = () if ramp_tol is None else (float(ramp_tol),)
    h.update(repr((desc, float(j0), str(root.entropy), tuple(root.spawn_key), str(displacement),
                   step_tol, scheme, sorted(code_fingerprint().items())) + extra).encode())
    return h.hexdigest()


def _records_from(res: Result) -> list:
    """Per-trajectory records back from a Result saved with the trajectory records."""
    ex = res.extras
    off = np.asarray(ex["jump_offsets"])
    return [{"mean": ex["traj_mean"][i], "second": ex["traj_second"][i], "j": ex["traj_j"][i],
             "njumps": int(ex["njumps"][i]), "jump_times": ex["jump_times"][off[i]:off[i + 1]],
             "jump_kinds": ex["jump_kinds"][off[i]:off[i + 1]]} for i in range(int(ex["ntraj"]))]


def _beta_pair(beta):
    return [math.nan, math.nan] if beta is None else [beta.real, beta.imag]


def _xi2_err(records, N):
    m = np.stack([r["mean"] for r in records])
    s = np.stack([r["second"] for r in records])
    return jackknife_xi2(m, s, N)


def _reduce(model, times, records, beta, keep, options, run_key, protocol=None):
    n = len(records)
    m = np.stack([r["mean"] for r in records])
    s = np.stack([r["second"] for r in records])
    mean, second = m.mean(0), s.mean(0)
    if n > 1:
        mean_err = m.std(0, ddof=1) / np.sqrt(n)
        second_err = s.std(0, ddof=1) / np.sqrt(n)
    else:
        mean_err, second_err = np.full_like(mean, np.nan), np.full_like(second, np.nan)
    extras = {
        "ntraj": n,
        "xi2_err": jackknife_xi2(m, s, model.N),
        "n_eff": observables.n_eff(second),
        "njumps": np.array([r["njumps"] for r in records], dtype=np.int64),
        "beta": np.array(_beta_pair(beta)),
    }
    if keep:
        extras["traj_j"] = np.stack([r["j"] for r in records])
        extras["traj_mean"] = m
        extras["traj_second"] = s
        extras["traj_xi2"] = observables.xi2(m, s, model.N)
        extras["traj_n_eff"] = observables.n_eff(s)
        extras["jump_offsets"] = np.concatenate([[0], np.cumsum(extras["njumps"])])
        extras["jump_times"] = np.concatenate([r["jump_times"] for r in records]) if n else np.zeros(0)
        extras["jump_kinds"] = np.concatenate([r["jump_kinds"] for r in records]).astype(np.int16)
        extras["jump_kind_names"] = jump_kind_names()
    res = Result(times, mean, second, model, "mcwf", options=dict(options), mean_err=mean_err,
                 second_err=second_err, extras=extras, protocol=protocol)
    res.provenance["run_key"] = run_key  # identifies the run: a checkpoint is reused only by the same one
    return res
