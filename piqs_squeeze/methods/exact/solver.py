"""Exact solver: the permutation-invariant density matrix as Dicke blocks rho_j, N up to a few hundred.

The state is kept only as the blocks rho_j (j = N/2, N/2 - 1, ...; total-weight convention of
:mod:`piqs_squeeze.dicke`, which is also qutip.piqs' storage), packed as one real vector of
``sum_j (2j+1)^2`` numbers (Hermitian lower triangles). The generator of the master equation of
:class:`~piqs_squeeze.model.Model` (every rate; qutip.piqs' conventions) is a real sparse matrix
on that vector (:mod:`piqs_squeeze.methods.exact.generator`), never qutip.piqs' nds x nds matrix nor its
nds^2 Liouvillian; the default Krylov stepper applies it matrix-free
(:mod:`piqs_squeeze.methods.exact.kernels`). Time stepping: adaptive Krylov propagation of exp(t L)
(default) or scipy's ``solve_ivp`` (:mod:`piqs_squeeze.methods.exact.steppers`), or shift-and-invert
Krylov (:mod:`piqs_squeeze.methods.exact.shift_invert`). Moments come from the three lowest bands of each block
(:func:`piqs_squeeze.dicke.moments_from_bands`).
"""
from __future__ import annotations

import time as _time

import numpy as np

from piqs_squeeze import dicke
from piqs_squeeze.runtime import threads
from piqs_squeeze.runtime.resources import LongRunWarning, available_memory, check_memory, say_if_long  # noqa: F401 (LongRunWarning: re-exported)
from . import generator as ops
from .kernels import PackedGenerator
from .options import ExactEvolveOptions, ExactSpectrumOptions, ExactSteadyStateOptions
from .shift_invert import BlockSolver, sai_propagate
from .steppers import ivp_propagate, krylov_propagate
from .timedep import cf4_propagate
from piqs_squeeze.model import Model, check_times
from piqs_squeeze.protocol import Protocol
from piqs_squeeze.result import Result
from piqs_squeeze.states import CoherentSpinState, css

__all__ = ["evolve", "steady_state", "liouvillian_spectrum", "unsupported", "initial_blocks", "final_blocks",
           "memory_needed", "available_memory", "estimate_run_time", "generator_spread", "LongRunWarning"]

#: peak bytes per packed real while the generator is built (tracemalloc at N = 40: 641 B)
_BYTES_GENERATOR = 700
#: bytes per packed real of the finished generator (CSR, ~8.3 non-zeros x 12 B)
_BYTES_OPERATOR = 110
#: products of the Krylov stepper per unit of spread x time (reference runs N = 20-300: 0.64-0.80)
_PRODUCTS_PER_SPREAD = 0.7
#: seconds per product and packed real (reference runs on 2 cores: 3-4 ns; 1 thread ~2x)
_SECONDS_PER_ENTRY = 5e-9


def liouvillian_spectrum(model: Model, k: int = 6, options: ExactSpectrumOptions | None = None, **kw):
    """The k rightmost eigenvalues of the generator on the symmetric sector (or, with ``sigma``, the
    k nearest it): see :func:`piqs_squeeze.methods.exact.steady.liouvillian_spectrum`
    (``eigensolver`` is its ``method``)."""
    from .steady import liouvillian_spectrum as spectrum

    opts = ExactSpectrumOptions.coerce(options, kw)
    _constant(model, "a Liouvillian spectrum")
    _no_cavity(model, "a Liouvillian spectrum")
    return spectrum(model, k, sigma=opts.sigma, blocks=opts.blocks, tol=opts.tol, method=opts.eigensolver,
                    restart=opts.restart, max_memory=opts.max_memory)


def _no_cavity(model, what):
    if isinstance(model, Model) and model.cavity is not None:
        raise ValueError(f"{what} of a Model with a cavity is not available in the exact method (evolve only)")


def _constant(model, what):
    if isinstance(model, Model) and model.time_dependent:
        raise ValueError(f"{what} needs constant coefficients; {model} depends on time (use model.at(t))")


def unsupported(model: Model):
    """Every rate and every quadratic collective Hamiltonian, constant or time dependent, is
    supported (a steady state needs constant coefficients); the size limit is checked against
    memory at run time."""
    return None


# --------------------------------------------------------------------------- memory
def memory_needed(N: int, kind: str = "evolve", krylov_dim: int = 16, all_blocks: bool = True,
                  scheme: str = "krylov") -> int:
    """Estimated peak bytes of an exact run.

    ``n = sum_j (2j+1)^2`` packed reals (~N^3/6). The Krylov stepper is matrix-free: its basis
    ``8 (m+1) n`` plus the initial blocks, packing indices and work vectors: tracemalloc peak
    ~``8 (m + 8) n`` (N = 200, m = 16: 253 MiB; N = 300: 1093 MiB max RSS), estimated with a margin
    as ``8 (m + 24) n``. The other steppers build the CSR generator, ~
    ``_BYTES_GENERATOR n`` while it is built, then ``_BYTES_OPERATOR n``; the steady-state sparse
    LU of all blocks fills about ``0.5 n N^2`` entries (measured at N = 20, 40), 12 bytes each,
    while the collective steady state (j = N/2 only) needs a 2-D LU of ~(N+1)^3 entries.
    """
    dims = dicke.block_dims(N).astype(float)
    n = float((dims**2).sum()) if all_blocks else float(dims[0] ** 2)
    vectors = 8.0 * (krylov_dim + 24) * n
    if kind == "evolve" and scheme == "krylov":
        return int(vectors)
    gen = _BYTES_GENERATOR * n
    if kind == "evolve":
        return int(max(gen, _BYTES_OPERATOR * n + vectors))
    fill = 0.5 * n * N**2 if all_blocks else 2.0 * (N + 1.0) ** 3
    return int(gen + 12.0 * fill)


def generator_spread(model: Model) -> float:
    """Rough spectral radius of the generator on the j = N/2 block, which sets the Krylov steps:

        S = |Omega| N + (|chi| + Gamma + collective pumping) j (j + 1) + collective dephasing j^2
            + (gamma_s + pumping + dephasing) N,   j = N/2,

    plus, for a general Hamiltonian, |h_a| N per linear and |h_ab| 2 j (j + 1) per quadratic term
    (time-dependent coefficients at t = 0).
    """
    model = model.at(0.0)
    N, j = model.N, model.N / 2
    extra = sum(abs(v) * (N if " " not in key else 2 * j * (j + 1)) for key, v in model.hamiltonian.items())
    return (abs(model.omega) * N + (abs(model.chi) + model.gamma + model.collective_pumping) * j * (j + 1)
            + model.collective_dephasing * j * j + (model.gamma_s + model.pumping + model.dephasing) * N + extra)


def estimate_run_time(model: Model, duration: float, packed_size: int) -> tuple[float, float]:
    """(generator products, seconds) expected of a Krylov run over ``duration``: products
    ~ 0.7 S duration (S = :func:`generator_spread`), ~5 ns per product and packed real. A rough
    guide, not a promise: the products are within 10 % of the N = 20-300 reference runs, the
    seconds within 2x for N >= 100 (below, fixed costs dominate)."""
    products = _PRODUCTS_PER_SPREAD * generator_spread(model) * duration + 30.0
    return products, products * packed_size * _SECONDS_PER_ENTRY


def _say_if_long(model, duration, packed_size):
    products, seconds = estimate_run_time(model, duration, packed_size)
    say_if_long(f"exact N = {model.N}", seconds, f"~{products:.3g} generator products on {packed_size} packed reals",
                "Interrupt it with Ctrl-C (outputs computed so far are kept with checkpoint=), or use mcwf / "
                "cumulant for large N", stacklevel=4)


def _check_memory(need: int, max_memory, what: str):
    check_memory(need, max_memory, f"the exact {what}", "use a smaller N or another method (mcwf, cumulant)")


# --------------------------------------------------------------------------- states
def initial_blocks(model: Model, initial=None) -> list:
    """The initial state as a list of blocks rho_j (total weight), one per j = N/2, N/2 - 1, ...

    ``initial`` is None (CSS along -x), a :class:`CoherentSpinState`, a list of (2j+1) x (2j+1)
    blocks for j = N/2, N/2 - 1, ... (blocks left off the end are zero, so the single block of a
    collective model's :func:`final_blocks` is accepted), or a ``qutip.Qobj`` density matrix in
    qutip.piqs' Dicke basis (nds x nds; converted by :func:`piqs_squeeze.dicke.blocks_from_piqs`).
    """
    N = model.N
    dims = dicke.block_dims(N)
    if initial is None:
        initial = css()
    if isinstance(initial, CoherentSpinState):
        a = initial.amplitudes(N)
        return [np.outer(a, a.conj())] + [np.zeros((d, d), complex) for d in dims[1:]]
    if type(initial).__name__ == "Qobj":
        blocks = dicke.blocks_from_piqs(initial, N)
    elif isinstance(initial, (list, tuple)):
        blocks = [np.asarray(B, dtype=complex) for B in initial]
    else:
        raise TypeError(
            "initial must be None, a CoherentSpinState, a list of Dicke blocks rho_j or a qutip.Qobj in "
            f"qutip.piqs' Dicke basis; got {type(initial).__name__}"
        )
    if not 1 <= len(blocks) <= len(dims) or any(B.shape != (d, d) for B, d in zip(blocks, dims)):
        raise ValueError(
            f"initial: expected up to {len(dims)} blocks of shapes {[(int(d), int(d)) for d in dims[:4]]}... "
            f"for N = {N}, got shapes {[B.shape for B in blocks[:4]]}..."
        )
    blocks += [np.zeros((d, d), complex) for d in dims[len(blocks):]]
    scale = max(max(np.abs(B).max() for B in blocks), 1e-300)
    if any(np.abs(B - B.conj().T).max() > 1e-10 * scale for B in blocks):
        raise ValueError("initial: the blocks must be Hermitian")
    tr = sum(np.trace(B).real for B in blocks)
    if abs(tr - 1.0) > 1e-8:
        raise ValueError(f"initial: the blocks must have total trace 1 (total-weight convention), got {tr:.12g}")
    return blocks


def final_blocks(result: Result) -> list:
    """The final state of an ``evolve(..., return_state=True)`` (or steady-state) Result as blocks."""
    if "final_state" not in result.extras:
        raise ValueError("result has no final state: run the exact solver with return_state=True")
    return dicke.blocks_from_flat(result.model.N, result.extras["final_state"], result.extras.get("final_state_blocks"))


# --------------------------------------------------------------------------- moments
class _Recorder:
    """Collects the lowest bands of every block at each output time; moments at the end."""

    def __init__(self, layout: ops.Layout, ntimes: int, after=None):
        self.layout = layout
        self.after = after
        self.idx = ops.band_index(layout)
        self.bands = [np.zeros((ntimes, len(i))) for i in self.idx]
        self.filled = 0
        self.last = None

    def __call__(self, i, t, x):
        for store, idx in zip(self.bands, self.idx):
            store[i] = x[idx]
        self.filled = i + 1
        self.last = x
        if self.after is not None:
            self.after(i)

    def moments(self, upto=None):
        """mean (T, 3), second (T, 3, 3), j populations (T, nblocks)."""
        T = self.filled if upto is None else upto
        diag, b1re, b1im, b2re, b2im = (b[:T] for b in self.bands)
        b1 = b1re + 1j * b1im
        b2 = b2re + 1j * b2im
        mean = np.zeros((T, 3))
        second = np.zeros((T, 3, 3))
        pops = np.zeros((T, self.layout.nblocks))
        o0 = o1 = o2 = 0
        for b, (j, d) in enumerate(zip(self.layout.j, self.layout.dims)):
            mu, s2 = dicke.moments_from_bands(j, diag[:, o0:o0 + d], b1[:, o1:o1 + d - 1], b2[:, o2:o2 + max(d - 2, 0)])
            mean += mu
            second += s2
            pops[:, b] = diag[:, o0:o0 + d].sum(-1)
            o0, o1, o2 = o0 + d, o1 + d - 1, o2 + max(d - 2, 0)
        return mean, second, pops


def _progress(progress, total, desc):
    if progress is False:
        return None
    from tqdm.auto import tqdm

    # progress=None: only on a terminal, and only once the run has lasted 2 s
    return tqdm(total=float(total), desc=desc, unit="t", disable=None if progress is None else False,
                delay=2.0 if progress is None else 0.0,
                bar_format="{l_bar}{bar}| t={n:.4g}/{total:.4g} [{elapsed}<{remaining}]")


# --------------------------------------------------------------------------- evolve
def evolve(model, times, initial=None, options: ExactEvolveOptions | None = None, **kw) -> Result:
    """Exact evolution of the permutation-invariant density matrix.

    Integrates d rho_j/dt = (L rho)_j (generator in :mod:`piqs_squeeze.methods.exact.generator`) from
    ``initial`` at ``times[0]`` and records <J_a> and <(J_a J_b + J_b J_a)/2> at every time.

    A :class:`~piqs_squeeze.protocol.Protocol` runs segment by segment (:meth:`Protocol.segments`):
    each segment's generator propagates the packed state left by the one before, unchanged (no
    re-initialisation); output times may lie anywhere, a time on a boundary giving the state at the
    end of the segment it closes. Each segment gets the share ``rtol (its length) / (the whole
    run)`` of the error target. A model (or segment) with time-dependent coefficients (``Ramp`` or
    callables) runs with the scheme ``time_dependent_scheme`` ("cf4": the fourth-order
    commutator-free Magnus integrator of :mod:`piqs_squeeze.methods.exact.timedep`, exponentials
    by Krylov, step doubling keeping the estimated state error below rtol times the norm of the
    state; with ``scheme="krylov"`` only).

    Parameters
    ----------
    model : Model or Protocol
    times : array_like, increasing, >= 0
    initial : None, CoherentSpinState, list of blocks rho_j, or qutip.Qobj in qutip.piqs' Dicke basis
    options : ExactEvolveOptions, optional
        The options (``piqs_squeeze.method_options("exact")`` lists them); ``kw`` sets single ones.
        ``scheme``: "krylov" (default): adaptive Arnoldi propagation of exp(t L), fewer
        products than RK45/DOP853 and as fast as scipy's expm_multiply
        (benchmarks/results/exact.md); or a scipy ``solve_ivp`` method (atol = 1e-3 rtol). The
        generator is stiff (spectral radius ~1.2 N^2, mostly the imaginary spectrum of
        Omega [Jx, .]), so the cost grows like N^5. "sai": shift-and-invert Krylov
        (:mod:`piqs_squeeze.methods.exact.shift_invert`), solves with (I - sai_shift L) by GMRES
        preconditioned with per-block sparse LUs. Its steps follow the solution's own time scale
        (~1/N here, the drive rotation), not the spectral radius, but each step costs ~20 solves
        of ~7 preconditioned iterations: slower than "krylov" (benchmarks/results/exact.md,
        notes.md), so it is an option, not the default. ``checkpoint``: the partial Result is saved every minute of a
        long run and when the run is interrupted (KeyboardInterrupt; the partial Result,
        ``extras["interrupted"]``, is also returned), the complete one at the end.
        ``restrict_blocks``: collective models (no local rate) conserve J^2, so no weight moves
        between blocks: only the blocks with a non-zero initial entry are evolved (a CSS lives
        in j = N/2 alone: (N+1)^2 reals instead of ~N^3/6); the others stay exactly zero.

    Returns
    -------
    Result with ``extras["j_populations"]`` (T, number of blocks) = tr rho_j(t) and ``stats``:
    ``products`` (matrix-vector products; with "sai" the preconditioned GMRES iterations, and
    ``solves``), ``steps``, ``packed_size`` and ``wall_time``; with time-dependent coefficients
    also ``cf4_steps`` and ``cf4_rejected`` (accepted and rejected CF4 steps; ``products``
    includes those of their exponentials), and ``extras["cf4_error_estimate"]`` (the sum of the
    accepted steps' error estimates relative to the norm of the state). For a Protocol
    ``result.protocol`` is set and ``result.model`` is its first model.
    """
    opts = ExactEvolveOptions.coerce(options, kw)
    protocol = model if isinstance(model, Protocol) else None
    if protocol is None and not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model or a Protocol, got {type(model).__name__}")
    models = protocol.models if protocol is not None else (model,)
    if any(m.cavity is not None for m in models):
        if protocol is not None:
            raise ValueError("a Protocol of cavity models is not supported by the exact method; run one Model")
        from . import cavity

        return cavity.evolve(model, check_times(times), initial, opts)
    model = models[0]
    if opts.scheme != "krylov" and any(m.time_dependent for m in models):
        raise ValueError(f"time-dependent coefficients run with scheme='krylov' only, got {opts.scheme!r}")
    times = check_times(times)
    t0 = _time.perf_counter()
    full_layout = ops.Layout(model.N)
    layout = _evolved_layout(models, times, initial, opts, full_layout)
    layout, x0 = _initial_vector(models, initial, opts, layout, full_layout)
    run = _Run(model, times, layout, full_layout, opts, t0, protocol)
    stats, interrupted = _integrate(protocol, x0, times, layout, model, opts, run.rec)
    return run.finish(stats, interrupted)


def _evolved_layout(models, times, initial, opts, full_layout):
    """The blocks to evolve (collective models with a CSS: j = N/2 only), after the run-time
    notice and the memory check (before any block is built: the blocks of a CSS at N = 5000
    would not fit). ``models``: the model, or every model of a Protocol."""
    model = models[0]
    restrict = opts.restrict_blocks and all(m.is_collective for m in models)
    layout = ops.Layout(model.N, blocks=[0]) if restrict and (
        initial is None or isinstance(initial, CoherentSpinState)) else full_layout
    if opts.scheme == "krylov":
        _say_if_long(max(models, key=generator_spread), times[-1] - times[0], layout.n)
    need = memory_needed(model.N, "evolve", opts.krylov_dim, scheme=opts.scheme) * layout.n / full_layout.n
    _check_memory(int(need), opts.max_memory, "evolution")
    return layout


def _initial_vector(models, initial, opts, layout, full_layout):
    """(layout, packed initial state); a restricted collective run keeps the occupied blocks."""
    model = models[0]
    restrict = opts.restrict_blocks and all(m.is_collective for m in models)
    if layout.complete or not restrict:
        blocks = initial_blocks(model, initial)
        if restrict:
            layout = ops.Layout(model.N, blocks=[b for b, B in enumerate(blocks) if np.any(B != 0)])
        return layout, ops.pack(layout, ops.blocks_to_full(layout, [blocks[b] for b in layout.block_index]))
    a = (css() if initial is None else initial).amplitudes(model.N)
    return layout, ops.pack(layout, ops.blocks_to_full(layout, [np.outer(a, a.conj())]))


class _Run:
    """Builds the Result of an exact run (also the partial ones of a checkpoint) and saves it."""

    def __init__(self, model, times, layout, full_layout, opts, t0, protocol=None):
        self.model, self.times, self.layout, self.full_layout, self.opts = model, times, layout, full_layout, opts
        self.t0, self.protocol = t0, protocol
        self.options = opts.to_dict()
        if opts.scheme == "sai":
            self.options["sai_shift"] = _sai_shift(model, opts)
        self.rec = _Recorder(layout, times.size, after=self.save_every_minute)
        self.last_save = _time.perf_counter()

    def result(self, T, stats=None, **more) -> Result:
        """The Result of the first T output times."""
        mean, second, sub_pops = self.rec.moments(T)
        pops = np.zeros((T, self.full_layout.nblocks))
        pops[:, self.layout.block_index] = sub_pops
        extras = {"j_populations": pops, "j_values": self.full_layout.j.copy(),
                  "evolved_blocks": self.layout.block_index.copy(), **more}
        stats = {"wall_time": _time.perf_counter() - self.t0, "packed_size": self.layout.n, **(stats or {})}
        return Result(self.times[:T], mean, second, self.model, "exact", options=self.options, extras=extras,
                      stats=stats, protocol=self.protocol)

    def save_every_minute(self, i):
        if self.opts.checkpoint is not None and _time.perf_counter() - self.last_save > 60.0 \
                and i + 1 < self.times.size:
            self.result(i + 1, interrupted=True).save(self.opts.checkpoint)
            self.last_save = _time.perf_counter()

    def finish(self, stats, interrupted) -> Result:
        """The Result of what was recorded, with the final state and the checkpoint if asked."""
        rec = self.rec
        counts = {"products": int(stats.get("products", -1)), "steps": int(stats.get("steps", -1))}
        counts.update((k, int(stats[k])) for k in ("local_steps", "shifted_steps", "solves", "cf4_steps",
                                                    "cf4_rejected") if k in stats)
        res = self.result(rec.filled, counts)
        if "cf4_error_estimate" in stats:
            res.extras["cf4_error_estimate"] = float(stats["cf4_error_estimate"])
        if self.opts.return_state and rec.last is not None:
            sub = ops.full_to_blocks(self.layout, ops.unpack(self.layout, rec.last))
            out = [np.zeros((d, d), complex) for d in self.full_layout.dims]
            for b, B in zip(self.layout.block_index, sub):
                out[b] = B
            res.extras["final_state"] = ops.blocks_to_full(self.full_layout, out)
        if interrupted:
            res.extras["interrupted"] = True
        if self.opts.checkpoint is not None:
            res.save(self.opts.checkpoint)
        return res


def _sai_shift(model, opts) -> float:
    return 0.04 / model.N if opts.sai_shift is None else float(opts.sai_shift)


def _integrate(protocol, x0, times, layout, model, opts, rec):
    """Run the scheme over ``times`` (segment by segment for a Protocol) with a progress bar and
    the thread settings of a run of this size; (stats, interrupted). Ctrl-C keeps the outputs
    computed so far (none: re-raised)."""
    bar = _progress(opts.progress, times[-1] - times[0], f"exact N={model.N}")
    try:
        with threads.single_blas(), threads.adaptive_threads(layout.n) as th:
            return _run_segments(protocol, model, x0, times, layout, opts, rec, bar, th.refresh), False
    except KeyboardInterrupt:
        if rec.filled == 0:
            raise
        return {}, True
    finally:
        if bar is not None:
            bar.close()


def _run_segments(protocol, model, x0, times, layout, opts, rec, bar, on_step):
    """Propagate from x0 over ``times`` (segment by segment for a Protocol), outputs to ``rec``;
    returns the summed stats. Each segment runs from its start to its end (added as a last time
    when it is no output time) with the options ``opts`` (``rtol`` its share of the whole run)
    and hands its final packed state to the next."""
    segments = protocol.segments(times) if protocol is not None else [None]
    total = {}
    T = max(float(times[-1] - times[0]), 1e-300)
    x = x0
    for seg in segments:
        if seg is None:
            mod, local, index, seg_opts = model, times, np.arange(times.size), opts
        else:
            mod = seg.model
            local = np.unique(np.concatenate([[seg.start], seg.times, [seg.end]]))
            index = np.full(local.size, -1)
            index[np.searchsorted(local, seg.times)] = seg.out
            seg_opts = opts.replace(rtol=opts.rtol * (local[-1] - local[0]) / T) if local.size > 1 else opts
        if local.size == 1:  # a one-time run of a Protocol
            rec(0, local[0], x)
            continue
        last = [None]

        def out(i, t, y, index=index, last=last):
            last[0] = y
            if index[i] >= 0:
                rec(int(index[i]), t, y)

        if mod.time_dependent:
            # the CF4 integrator takes the whole run's rtol and length and shares it out itself
            st = cf4_propagate(mod, layout, x, local, rtol=opts.rtol, T=T, m=opts.krylov_dim, on_output=out,
                               progress=bar)
            st = {"products": st["products"], "cf4_steps": st["steps"], "cf4_rejected": st["rejected"],
                  "cf4_error_estimate": st["error_estimate"]}
        else:
            # the Krylov scheme needs products only: matrix-free (no CSR to build or stream)
            A = PackedGenerator(mod, layout) if opts.scheme == "krylov" else ops.generator_packed(mod, layout)
            st = _propagate(A, x, local, layout, mod, seg_opts, out, bar, on_step)
        for key, v in st.items():
            if isinstance(v, (int, float, np.integer, np.floating)):
                total[key] = total.get(key, 0) + v
        x = last[0]
    return total


def _propagate(A, x0, times, layout, model, opts, rec, bar, on_step):
    """Run the chosen scheme from x0 over ``times``, outputs to ``rec``; returns its stats."""
    if opts.scheme == "sai":
        slices = [slice(layout.offsets[b], layout.offsets[b + 1]) for b in range(layout.nblocks)]
        solver = BlockSolver(A, slices, _sai_shift(model, opts), tol=1e-13)
        stats = sai_propagate(x0, times, solver=solver, rtol=opts.rtol, m=max(opts.krylov_dim, 20),
                              on_output=rec, progress=bar)
        stats["products"] = stats["iterations"]
        return stats
    if opts.scheme == "krylov":
        return krylov_propagate(A, x0, times, rtol=opts.rtol, m=opts.krylov_dim, on_output=rec, progress=bar,
                                on_step=on_step)
    return ivp_propagate(A, x0, times, method=opts.scheme, rtol=opts.rtol, atol=1e-3 * opts.rtol, on_output=rec,
                         progress=bar)


# --------------------------------------------------------------------------- steady state
def steady_state(model: Model, options: ExactSteadyStateOptions | None = None, **kw) -> Result:
    """Steady state L rho = 0, tr rho = 1.

    Collective models (no local rate) conserve J^2; their steady state is taken in j = N/2 (the
    sector of a coherent spin state), a sparse (N+1)^2 problem solved by sparse LU. With local
    processes all blocks are coupled: ``solver="auto"`` (or "gmres") uses the block-preconditioned
    GMRES of :func:`piqs_squeeze.methods.exact.steady.steady_state` (residual and
    uniqueness reported; ``tol``, ``check_unique`` and ``restart`` are its options),
    ``solver="lu"`` the sparse LU of all blocks together (its fill-in grows like n^(4/3): slow from N ~ 60,
    benchmarks/results/notes.md). For LU, one row of L rho = 0 (the population of the first state, redundant because
    tr L rho = 0) is replaced by tr rho = 1. ``options["solver"]`` of the Result is the solver
    used ("gmres" or "lu").
    """
    import scipy.sparse as sp
    import scipy.sparse.linalg as spl

    opts = ExactSteadyStateOptions.coerce(options, kw)
    if not isinstance(model, Model):
        raise TypeError(f"model must be a piqs_squeeze.Model, got {type(model).__name__}")
    _constant(model, "a steady state")
    _no_cavity(model, "a steady state")
    collective = model.is_collective
    if not collective and opts.solver != "lu":
        from . import steady as exact_steady

        res = exact_steady.steady_state(model, tol=opts.tol, check_unique=opts.check_unique,
                                        return_state=opts.return_state, restart=opts.restart,
                                        max_memory=opts.max_memory)
        res.options = {**opts.to_dict(), "solver": "gmres"}
        return res
    max_memory, return_state = opts.max_memory, opts.return_state
    _check_memory(memory_needed(model.N, "steady_state", all_blocks=not collective), max_memory, "steady state")
    t0 = _time.perf_counter()
    layout = ops.Layout(model.N, 1 if collective else None)
    L = ops.generator_packed(model, layout)
    diag_idx = ops.band_index(layout)[0]
    keep = np.ones(layout.n)
    keep[0] = 0.0
    trace_row = sp.csr_matrix((np.ones(diag_idx.size), (np.zeros(diag_idx.size, int), diag_idx)),
                              shape=L.shape)
    A = sp.diags(keep) @ L + trace_row
    rhs = np.zeros(layout.n)
    rhs[0] = 1.0
    try:
        with np.errstate(all="ignore"):
            x = spl.splu(sp.csc_matrix(A), permc_spec="COLAMD").solve(rhs)
    except RuntimeError as exc:
        raise ValueError(f"the steady state of {model} is not unique ({exc})") from exc
    if not np.all(np.isfinite(x)):
        raise ValueError(f"the steady state of {model} is not unique (singular generator)")
    rec = _Recorder(layout, 1)
    rec(0, np.inf, x)
    mean, second, pops = rec.moments()
    extras = {"j_populations": pops, "j_values": layout.j.copy(), "residual": float(np.abs(L @ x).max()),
              "collective_sector_only": collective}
    if return_state:
        extras["final_state"] = ops.unpack(layout, x)
        extras["final_state_blocks"] = layout.nblocks
    return Result([np.inf], mean, second, model, "exact", options={**opts.to_dict(), "solver": "lu"},
                  extras=extras, stats={"wall_time": _time.perf_counter() - t0, "packed_size": layout.n})
