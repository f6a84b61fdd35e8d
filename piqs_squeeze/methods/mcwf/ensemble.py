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
import warnings
from concurrent.futures import BrokenExecutor

import numpy as np

from piqs_squeeze import observables
from piqs_squeeze.model import Model, check_times
from piqs_squeeze.protocol import Protocol
from piqs_squeeze.runtime.fileio import ensure_writable
from piqs_squeeze.runtime.pool import check_shippable, shared_pool, shutdown_shared
from piqs_squeeze.runtime.provenance import code_fingerprint
from piqs_squeeze.runtime.resources import check_memory, say_if_long
from piqs_squeeze.result import Result
from piqs_squeeze.states import CoherentSpinState, css
from . import sector as mcwf_sector
from piqs_squeeze.runtime import threads
from .options import McwfEvolveOptions
from .sector import jump_kind_names, resolve_beta, run_trajectory, small_beta

__all__ = ["evolve", "interrupted", "Mixture", "initial_ensemble", "unsupported", "initial_state", "jackknife_xi2", "memory_needed", "estimate_run_time"]


def unsupported(model) -> str | None:
    """Every model can be unravelled (all processes have sector-preserving jump channels; any
    quadratic collective H, constant or time-dependent), except a cavity mode: a trajectory here is
    one pure state in a single total-spin sector, and a Fock register would make it a
    (2j+1)(nmax+1) state whose cut-off and kernels this method does not have."""
    if getattr(model, "cavity", None) is not None:
        return ("mcwf has no cavity mode (its trajectories live in one (2j+1)-dim spin sector, with no Fock "
                "register); use method='exact' (small N) or 'cumulant' / 'meanfield' for a Model with cavity=")
    return None


def initial_state(N: int, initial):
    """(j, psi) from None (CSS along -x), a CoherentSpinState, an array of the N+1 amplitudes
    of the j = N/2 sector (m = N/2 .. -N/2), a tuple (j, amplitudes), or a pure ``qutip.Qobj``
    (see :func:`initial_ensemble`; a mixed one raises ValueError: :func:`evolve` samples it)."""
    if type(initial).__name__ == "Qobj":
        mix = initial_ensemble(N, initial)
        if len(mix.weights) != 1:
            raise ValueError(f"initial: the Qobj is a mixed state (rank {len(mix.weights)}); evolve samples it "
                             "per trajectory, initial_state takes pure states only")
        return mix.js[0], mix.psis[0]
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
        raise TypeError("initial must be a CoherentSpinState, amplitudes, (j, amplitudes) or a qutip.Qobj; got "
                        f"{type(initial).__name__}") from exc
    d = int(round(2 * j)) + 1
    if psi.shape != (d,):
        raise ValueError(f"initial: expected {d} amplitudes for sector j={j}, got shape {psi.shape}")
    nrm = np.linalg.norm(psi)
    if not np.isfinite(nrm) or nrm == 0:
        raise ValueError("initial: amplitudes must be finite and not all zero")
    return j, psi / nrm


class Mixture:
    """A density matrix as the ensemble it is sampled from: rho = sum_k w_k |j_k, psi_k><j_k, psi_k|.

    Trajectory i starts in component k drawn with probabilities w from a stream of its own
    SeedSequence (:meth:`pick`), independent of the stream of its jumps: the draw depends on the
    seed only, whatever the workers or executor."""

    #: relative eigenvalue below which a component is dropped (round-off of a rank-deficient rho)
    CUTOFF = 1e-13

    def __init__(self, js, psis, weights):
        self.js = [float(j) for j in js]
        self.psis = [np.ascontiguousarray(p, dtype=complex) for p in psis]
        w = np.asarray(weights, dtype=float)
        self.weights = w / w.sum()
        self._cum = np.cumsum(self.weights)

    def pick(self, ss: np.random.SeedSequence):
        """(j, psi) of the component drawn for the trajectory of seed ``ss``."""
        if len(self.weights) == 1:
            return self.js[0], self.psis[0]
        u = np.random.default_rng(np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, 0x1417))).random()
        k = min(int(np.searchsorted(self._cum, u * self._cum[-1], side="right")), len(self.weights) - 1)
        return self.js[k], self.psis[k]

    def key(self) -> bytes:
        """Bytes identifying the mixture (for the checkpoint's run key)."""
        return b"".join([np.asarray(self.js).tobytes(), self.weights.tobytes()] + [p.tobytes() for p in self.psis])

    @classmethod
    def from_blocks(cls, N, blocks):
        """Eigen-decomposition of each Dicke block rho_j (total-weight convention, trace 1 in all)."""
        from piqs_squeeze import dicke

        js, psis, ws = [], [], []
        scale = max(float(np.abs(B).max()) for B in blocks)
        for j, B in zip(dicke.j_values(N), blocks):
            if not B.size or np.abs(B).max() <= cls.CUTOFF * scale:
                continue
            if np.abs(B - B.conj().T).max() > 1e-10 * scale:
                raise ValueError("initial: the density matrix is not Hermitian")
            val, vec = np.linalg.eigh(B)
            if val.min() < -1e-10 * scale:
                raise ValueError(f"initial: the density matrix is not positive (eigenvalue {val.min():.3g} in "
                                 f"the block j = {j:g})")
            for lam, v in zip(val, vec.T):
                if lam > cls.CUTOFF * scale:
                    js.append(float(j))
                    psis.append(v)
                    ws.append(float(lam))
        tr = sum(float(np.trace(B).real) for B in blocks)
        if abs(tr - 1.0) > 1e-8:
            raise ValueError(f"initial: the state must be normalized (trace 1), got {tr:.12g}")
        return cls(js, psis, ws)


def initial_ensemble(N: int, initial) -> Mixture:
    """The initial state of an ensemble as a :class:`Mixture` (one component for a pure state).

    Accepts what :func:`initial_state` takes, and ``qutip.Qobj`` states: a ket of dimension N + 1
    (the j = N/2 sector, m = N/2 .. -N/2: ``qutip.spin_coherent(N/2, theta, phi)``,
    ``qutip.spin_state(N/2, m)``), an (N+1) x (N+1) density matrix of that sector, or a ket or
    density matrix in qutip.piqs' Dicke basis (nds entries, blocks j = N/2, N/2 - 1, ...,
    converted by :func:`piqs_squeeze.dicke.blocks_from_piqs`). A density matrix of rank > 1 is
    sampled per trajectory from its eigendecomposition rho = sum_k w_k |v_k><v_k| (each block
    rho_j separately); a ket in the Dicke basis spread over several j is the mixture of its
    j-components (permutation-symmetric dynamics never couple the blocks).
    """
    if type(initial).__name__ != "Qobj":
        j, psi = initial_state(N, initial)
        return Mixture([j], [psi], [1.0])
    from piqs_squeeze import dicke

    nds = dicke.num_dicke_states(N)
    mat = np.asarray(initial.full(), dtype=complex)
    if initial.isket or (mat.ndim == 2 and mat.shape[1] == 1):
        v = mat[:, 0]
        nrm = np.linalg.norm(v)
        if not np.isfinite(nrm) or abs(nrm - 1.0) > 1e-8:
            raise ValueError(f"initial: the ket must be normalized, got norm {nrm:.12g}")
        if v.shape[0] == N + 1:
            return Mixture([N / 2.0], [v / nrm], [1.0])
        if v.shape[0] != nds:
            raise ValueError(f"initial: a ket for N = {N} must have N + 1 = {N + 1} entries (the j = N/2 sector) or "
                             f"{nds} (qutip.piqs' Dicke basis), got {v.shape[0]}")
        js, psis, ws, o = [], [], [], 0
        for j, d in zip(dicke.j_values(N), dicke.block_dims(N)):
            part = v[o:o + d]
            o += d
            w = float(np.vdot(part, part).real)
            if w > Mixture.CUTOFF:
                js.append(float(j))
                psis.append(part / np.sqrt(w))
                ws.append(w)
        return Mixture(js, psis, ws)
    if mat.shape == (N + 1, N + 1) and nds != N + 1:
        blocks = [mat]
    elif mat.shape == (nds, nds):
        blocks = dicke.blocks_from_piqs(mat, N)
    else:
        raise ValueError(f"initial: a Qobj of shape {mat.shape} is neither a state of the j = N/2 sector ({N + 1}) nor "
                         f"a state in qutip.piqs' Dicke basis ({nds}) for N = {N}")
    return Mixture.from_blocks(N, blocks)


@threads.single_blas()  # the LAPACK eigendecompositions of the small-sector tables: same bits for any BLAS threads
def _run_chunk(model, times, initial, beta, seeds, keep, tol, scheme, ramp_tol):
    """Worker task: trajectories for a list of SeedSequences (module-level so it pickles);
    ``initial`` is a :class:`Mixture` (each trajectory's start drawn from its seed)."""
    out = []
    for ss in seeds:
        j0, psi0 = initial.pick(ss)
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
    initial : None | CoherentSpinState | (N+1,) amplitudes | (j, amplitudes) | qutip.Qobj
        A Qobj ket of the j = N/2 sector (``qutip.spin_coherent(N/2, theta, phi)``,
        ``qutip.spin_state``), or a ket or density matrix in qutip.piqs' Dicke basis; a mixed
        state is sampled per trajectory from its eigendecomposition, reproducibly from the seed
        (:func:`initial_ensemble`).
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
        in fourth-order commutator-free Magnus (CF4) steps of two piecewise-constant sub-steps;
        each step is chosen so that the model of its leading local error on the state
        (mcwf_sector.cf4_error: the h^5 Magnus terms plus a quadrature term) is below
        ``ramp_tol`` times its length, so the error accumulated over a run of duration T is about
        ``ramp_tol * T`` (measured: ~0.1 of it, benchmarks/results/mcwf.md); steps end on every
        output time and Ramp knot; ignored for constant models (steps ~ ramp_tol^(1/4)). ``checkpoint``: a file (a Result in
        the ``keep_trajectories`` layout) holding the finished trajectories, checked for
        writability before anything runs, first written as soon as a trajectory has finished
        (the first chunks on workers hold one trajectory each), then at most every
        :data:`CHECKPOINT_PERIOD` seconds (and never taking more than ~5 % of the run), when the
        run is interrupted and at the end. If it exists, its trajectories are reused and the
        run goes on with the next seeds; it must come from the same model or protocol, times,
        initial state, seed (None: the file's), displacement, step_tol, scheme and (for a
        time-dependent run) ramp_tol (else ValueError); ``ntraj`` may differ. ``executor``: any
        ``concurrent.futures.Executor`` (a Dask ``client.get_executor()``), or a
        ``distributed.Client``; ``scheduler``: a Dask scheduler's address to connect to (the
        client is closed at the end). Functions of time defined in a script, a notebook or as a
        lambda reach local and Dask workers through cloudpickle; what cannot be pickled is
        refused before anything runs (TypeError naming it).

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C, once the finished trajectories are in the checkpoint (and the workers are
        stopped): a plain KeyboardInterrupt whose message says how many trajectories are kept
        and how to resume, with ``.result`` (the Result of the finished trajectories, with
        ``extras["interrupted"] = True``, or None), ``.ntraj`` and ``.checkpoint``
        (see :func:`interrupted`).
    RuntimeError
        When a worker process died (killed, out of memory, crashed), naming what was kept.

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
    if opts.checkpoint is not None:
        ensure_writable(opts.checkpoint, "MCWF checkpoint", is_dir=False)
    t0 = time.perf_counter()
    run = _Ensemble(model, times, initial, opts)
    run.run()
    run.save(force=True)
    res = run.reduce(opts.keep_trajectories)
    if opts.keep_trajectories:
        from .statistics import attach_diagnostics

        attach_diagnostics(res)  # stats["tail"]: how heavy-tailed the trajectories' contributions are
    res.stats["wall_time"] = time.perf_counter() - t0
    return res


def interrupted(message, result=None, ntraj=0, checkpoint=None) -> KeyboardInterrupt:
    """The KeyboardInterrupt an MCWF ensemble raises on Ctrl-C, once the finished trajectories
    are safe: a plain KeyboardInterrupt (so that a script still ends the way Ctrl-C ends it, exit
    status 130), its message saying how many trajectories are kept and how to resume, with

    * ``.result``: the Result of the trajectories finished so far (``extras["interrupted"] = True``),
      None when none had finished;
    * ``.ntraj``: their number;
    * ``.checkpoint``: the checkpoint file holding them (rerunning the same call resumes), or None.
    """
    exc = KeyboardInterrupt(message)
    exc.result, exc.ntraj, exc.checkpoint = result, ntraj, checkpoint
    return exc


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
        self.initial = initial_ensemble(self.model.N, initial)
        if len(self.initial.weights) == 1:
            self.j0, self.psi0 = self.initial.js[0], self.initial.psis[0]
        else:  # the run key of a mixed start: all its components
            self.j0, self.psi0 = math.nan, np.frombuffer(self.initial.key(), dtype=np.uint8).astype(complex)
        self.records = []
        self._seeds_and_checkpoint()
        self.keep = opts.keep_trajectories or opts.checkpoint is not None
        self.saved = [-math.inf, 0.0]  # time of the last save (none yet: the first finished ones at once), its duration

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
        old = None
        if checkpoint is not None and os.path.exists(checkpoint):
            with warnings.catch_warnings():  # a plain function saved as samples: only the run key matters here
                warnings.simplefilter("ignore", UserWarning)
                old = Result.load(checkpoint)
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

    def run(self):
        """Run batches until ntraj (or the target error). On Ctrl-C, keep the finished
        trajectories (checkpoint written), stop the workers and raise :func:`interrupted`."""
        from tqdm.auto import tqdm

        opts, ntraj = self.opts, self.opts.ntraj
        show = sys.stderr.isatty() if opts.progress is None else bool(opts.progress)
        self.futures = []
        self._executor()
        try:
            with tqdm(total=ntraj, initial=len(self.records), desc=f"mcwf N={self.model.N}", disable=not show,
                      leave=False) as bar:
                while len(self.records) < ntraj:
                    self._batch(min(self.batch, ntraj - len(self.records)), bar)
                    if opts.target_xi2_err is not None and self._target_met():
                        break
        except KeyboardInterrupt as exc:
            self._interrupted(exc)
        finally:
            self._close()

    def _executor(self):
        """The executor of this run: the user's, a Dask client's, the warm local pool, or None (serial)."""
        opts = self.opts
        self.owned = None
        ex = opts.executor
        if opts.scheduler is not None:
            if ex is not None:
                raise ValueError("mcwf: give either executor or scheduler, not both")
            from distributed import Client

            self.owned = Client(opts.scheduler)
            ex = self.owned
        if ex is not None and type(ex).__name__ == "Client" and hasattr(ex, "get_executor"):
            info = ex.scheduler_info()
            self.nw = opts.workers or max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))
            ex = ex.get_executor(pure=False)
        self.local = ex is None and self.nw > 1 and opts.ntraj - len(self.records) > 1
        if ex is not None or self.local:
            check_shippable("mcwf", model=self.run_model)
        self.ex = ex

    def _pool(self):
        if self.ex is None and self.local:
            return shared_pool(self.nw, ["piqs_squeeze.methods.mcwf.ensemble"])
        return self.ex

    def _close(self):
        if self.owned is not None:
            self.owned.close()
            self.owned = None

    def _interrupted(self, exc):
        """Ctrl-C: add the finished chunks that continue the trajectory order, stop what runs,
        save, and raise a KeyboardInterrupt carrying the partial Result (:func:`interrupted`)."""
        for start, f in self.futures:  # (first trajectory index, future) in trajectory order
            if start < len(self.records):
                continue  # collected before the interrupt
            if start > len(self.records) or not f.done() or f.cancelled() or f.exception() is not None:
                break
            self.records += f.result()
        self._stop()
        checkpoint, n = self.opts.checkpoint, len(self.records)
        if n:
            try:
                self.save(force=True)
            except OSError as err:  # the trajectories are still in the exception's result
                print(f"mcwf: could not write the checkpoint {checkpoint}: {err}", file=sys.stderr)
                checkpoint = None
        res = self.reduce(self.opts.keep_trajectories) if n else None
        if res is not None:
            res.extras["interrupted"] = True
        where = (f"kept in {checkpoint}; rerun the same call (same checkpoint=) to resume" if checkpoint and n else
                 "not saved (no checkpoint=); the partial Result is the exception's .result" if n else
                 "nothing to keep")
        raise interrupted(f"mcwf interrupted: {n} of {self.opts.ntraj} trajectories finished, {where}", res, n,
                          checkpoint if n else None) from None

    def _stop(self):
        """Cancel what is queued and end the local workers (what they run is abandoned; loky fails
        their futures itself)."""
        if self.ex is None and self.local:
            shutdown_shared(kill=True)
        else:
            for _, f in self.futures:
                f.cancel()
        self.futures = []

    def _chunks(self, seeds, parallel):
        """Trajectory chunks: serially one per task; in parallel ``chunk`` or about a quarter of a
        worker's share, capped so that a chunk takes about CHECKPOINT_PERIOD (by the rough run-time
        estimate), and the first ``nw`` chunks of one trajectory so that the first checkpoint is
        written early. The chunks never change the numbers (each trajectory has its seed)."""
        n = len(seeds)
        if self.opts.chunk is not None:
            size = [self.opts.chunk]
        elif not parallel:
            size = [1]
        else:
            per = estimate_run_time(self.model, self.times[-1] - self.times[0], 1, 1)
            cap = max(1, int(CHECKPOINT_PERIOD / per)) if per > 0 else n
            size = [1] * self.nw + [max(1, min(cap, math.ceil(n / (4 * self.nw))))]
        parts, i, k = [], 0, 0
        while i < n:
            step = size[min(k, len(size) - 1)]
            parts.append(seeds[i:i + step])
            i += step
            k += 1
        return parts

    def _batch(self, n_new, bar):
        """Run the next ``n_new`` seeds (on the executor, the local pool or here), in trajectory order."""
        opts = self.opts
        seeds = self.root.spawn(n_new)
        ex = self._pool() if n_new > 1 else None
        parts = self._chunks(seeds, ex is not None)
        args = (self.run_model, self.times, self.initial, self.run_beta)
        if ex is None:
            for p in parts:
                self.records += _run_chunk(*args, p, self.keep, opts.step_tol, opts.scheme, opts.ramp_tol)
                bar.update(len(p))
                self.save()
            return
        starts = len(self.records) + np.concatenate([[0], np.cumsum([len(p) for p in parts])[:-1]])
        try:
            self.futures = [(int(i0), ex.submit(_run_chunk, *args, p, self.keep, opts.step_tol, opts.scheme,
                                                opts.ramp_tol)) for i0, p in zip(starts, parts)]
            for _, f in self.futures:  # trajectory order, whatever order they finish in
                recs = f.result()
                self.records += recs
                bar.update(len(recs))
                self.save()
            self.futures = []
        except BrokenExecutor as exc:
            self._stop()
            self.save(force=True)
            kept = (f"the {len(self.records)} finished trajectories are in {opts.checkpoint}; rerun to resume"
                    if opts.checkpoint and self.records else "pass checkpoint= to keep finished trajectories")
            first = (str(exc).strip().splitlines() or [""])[0]
            raise RuntimeError(f"mcwf: a worker process died ({type(exc).__name__}: {first}); it was killed "
                               f"(out of memory? see max_memory) or crashed; {kept}, or run with workers=1 to see "
                               "the error in this process") from exc
        except Exception:
            for _, f in self.futures:  # a trajectory failed: the rest is not needed
                f.cancel()
            self.futures = []
            raise

    def _target_met(self) -> bool:
        err = _xi2_err(self.records, self.model.N)
        fin = err[1:][np.isfinite(err[1:])] if err.size > 1 else err[np.isfinite(err)]
        return bool(fin.size and fin.max() < self.opts.target_xi2_err)


#: seconds between checkpoint writes (at least; longer when a write takes more than 5 % of that)
CHECKPOINT_PERIOD = 5.0
#: fixed parts of a worker: the kernel's work arrays (~60 state-sized complex vectors at most; the
#: moments are summed as each output time is reached, 80 bytes per output time), the sector-table
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
    """Estimated peak bytes of an MCWF run: per process 1.3 [16 (N + 1) 60 + 80 T + 2 C + B]
    (T output times, C the sector-table cache budget, B the interpreter), times the number of
    processes that hold a trajectory (the workers): O(N + T) per trajectory (the output states
    are not kept)."""
    per = 16.0 * (N + 1) * 60 + 80.0 * n_times + 2 * mcwf_sector._CACHE_BYTES + _WORKER_BASE
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
