"""Running a sweep: deterministic chunks, any ``concurrent.futures.Executor``, checkpoints, progress.

Chunks depend on the spec only (never on the number of workers), so a batched method sees the
same batches whether the sweep runs serially, on local processes or on a Dask cluster, and a
resumed sweep recomputes exactly the chunks that were lost: the numbers are identical in all cases.
"""
from __future__ import annotations

import concurrent.futures as cf
import math
import time
import warnings
from collections import deque
from concurrent.futures import BrokenExecutor

import numpy as np

from piqs_squeeze.methods import registry
from piqs_squeeze.runtime import threads
from piqs_squeeze.runtime.fileio import ensure_writable
from piqs_squeeze.runtime.pool import check_shippable, is_local_pool, shared_pool, shutdown_shared
from .spec import SweepSpec, code_fingerprints
from .store import SweepMismatchError, SweepStore
from .summaries import resolve, summarize
from .table import SweepTable

__all__ = ["run_sweep", "make_chunks", "run_chunk", "shutdown_pool", "SweepFailedError", "SweepWarning"]

#: how to recompute stored failures, said wherever they are reused or reported
RERUN_HINT = ("rerun them with run_sweep(..., rerun_errors=True) (command line: piqs-squeeze sweep CONFIG "
              "--resume --rerun-errors)")


class SweepFailedError(RuntimeError):
    """Every point of a sweep failed. ``table`` holds them (column ``error``); it is also saved in the
    sweep directory when there is one."""

    def __init__(self, message, table=None):
        super().__init__(message)
        self.table = table


class SweepWarning(UserWarning):
    """Some points of a sweep failed, or a resumed sweep reuses failures stored by an earlier run."""

#: default chunk sizes: a batched method integrates up to this many points in one call ...
BATCH_CHUNK_MAX = 200
#: ... and a point-by-point method runs this many per task (one checkpoint per chunk).
SINGLE_CHUNK_MAX = 4
#: a large sweep is split into at least this many chunks: enough that the last chunks leave
#: little idle time on the other workers, and fine-grained checkpoints.
MIN_CHUNKS = 64


def make_chunks(points, spec: SweepSpec) -> list[list]:
    """Split points into chunks of equal group (method, options, times, initial), in index order.

    Size: ``spec.chunk_size`` or ``clamp(ceil(n_points / MIN_CHUNKS), 1, BATCH_CHUNK_MAX)``
    (``SINGLE_CHUNK_MAX`` for methods without ``evolve_many``), so that a sweep of many small
    groups (e.g. times t = 5 / gamma_s) is not cut into tiny batches; sizes within a group differ
    by at most one. Depends only on the spec, so it is the same on every executor and on resume.
    """
    groups: dict = {}
    for p in points:
        groups.setdefault(p.group(), []).append(p)
    chunks = []
    for key, pts in groups.items():
        cap = BATCH_CHUNK_MAX if registry.is_batched(key[0], key[1]) else SINGLE_CHUNK_MAX
        size = spec.chunk_size or min(cap, max(1, math.ceil(len(points) / MIN_CHUNKS)))
        n = math.ceil(len(pts) / size)
        chunks += [list(c) for c in np.array_split(np.array(pts, dtype=object), n)]
    return chunks


# --------------------------------------------------------------------------- worker side
def _in_worker(method, kind, options):
    """Inside a sweep the sweep is the parallel layer: a method that can spread its own work
    (``workers``) runs serially and shows no progress bar of its own, unless told otherwise."""
    cls = registry.options_class(method, kind)
    names = cls.names() if cls is not None else ()
    extra = {k: v for k, v in (("workers", 1), ("progress", False)) if k in names and k not in options}
    return dict(options, **extra) if extra else options


def _limit_threads(n):
    """In a pool or Dask worker, the threaded kernels of a method (e.g. the cumulant integrator's
    ``prange`` over models) get ``n`` threads (one: the workers already fill the cores)."""
    if n is not None:
        threads.set_max_threads(max(1, int(n)))


def _evolve(method, kind, models, times, initial, options, threads=None):
    """Results of ``models`` (one batched call when the method has evolve_many)."""
    _limit_threads(threads)
    opts = registry.build_options(method, kind, _in_worker(method, kind, options))
    return registry.call(method, kind, models, times, initial, opts)


def _record(point, elapsed, result=None, summaries=None, error=""):
    return {"index": point.index, "key": point.key, "summaries": summaries or {}, "error": error,
            "elapsed": elapsed, "result": result}


def _message(exc):
    return f"{type(exc).__name__}: {exc}"


def run_chunk(points, resolved_summaries, keep_results=False, threads=None) -> list[dict]:
    """Evaluate one chunk (points of one group) and return one record per point.

    The chunk is one batched call when the method has ``evolve_many``; if that raises, its
    points are run one by one so that only the failing ones record an error message.
    ``threads`` caps numba's threads in this worker (None: leave as is).
    """
    records, todo = [], []
    for p in points:
        if p.error:
            records.append(_record(p, 0.0, error=p.error))
        else:
            todo.append(p)

    def finish(p, res, share):
        """Record of one point; elapsed = its share of the (batched) call + its summaries."""
        t0 = time.perf_counter()
        try:
            cols = summarize(res, resolved_summaries)
        except Exception as exc:  # noqa: BLE001 - a summary that cannot be formed is a point error
            return _record(p, share + time.perf_counter() - t0, error="summary failed: " + _message(exc))
        return _record(p, share + time.perf_counter() - t0, res if keep_results else None, cols)

    if len(todo) > 1:
        t0 = time.perf_counter()
        p0 = todo[0]
        try:
            results = _evolve(p0.method, p0.kind, [p.model for p in todo], p0.times, p0.initial, p0.options,
                              threads)
            if len(results) != len(todo):
                raise RuntimeError(f"batched call returned {len(results)} results for {len(todo)} models")
        except Exception:  # noqa: BLE001 - retried point by point below
            results = None
        if results is not None:
            share = (time.perf_counter() - t0) / len(todo)
            return records + [finish(p, r, share) for p, r in zip(todo, results)]
    for p in todo:
        t0 = time.perf_counter()
        try:
            res = _evolve(p.method, p.kind, [p.model], p.times, p.initial, p.options, threads)[0]
        except Exception as exc:  # noqa: BLE001 - recorded in the table, the sweep goes on
            records.append(_record(p, time.perf_counter() - t0, error=_message(exc)))
            continue
        records.append(finish(p, res, time.perf_counter() - t0))
    return records


# --------------------------------------------------------------------------- executors
def _local_pool(n, preload):
    """The warm local pool (kept between sweeps and MCWF runs of one session: imports, JIT caches)."""
    return shared_pool(n, ["piqs_squeeze.sweep.execute", *preload])


def shutdown_pool(wait: bool = False):
    """Stop the local worker processes that sweeps keep warm between calls (they also stop at exit)."""
    shutdown_shared(wait=wait)


def _executor(executor, workers, scheduler, preload=()):
    """(executor or None for serial, number of workers, owned resources to close)."""
    if workers is not None and (isinstance(workers, bool) or int(workers) != workers or workers < 1):
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    if scheduler is not None:
        if executor is not None:
            raise ValueError("give either executor or scheduler, not both")
        from distributed import Client

        executor = Client(scheduler)
        client = executor
        return client.get_executor(pure=False), _dask_workers(client), [client]
    if executor == "serial" or (executor is None and workers == 1):
        return None, 1, []
    if executor is None or executor == "processes":
        n = workers or threads.cores()
        return _local_pool(n, preload), n, []
    if type(executor).__name__ == "Client" and hasattr(executor, "get_executor"):
        return executor.get_executor(pure=False), _dask_workers(executor), []
    if isinstance(executor, cf.Executor):
        return executor, workers or getattr(executor, "_max_workers", None) or threads.cores(), []
    raise TypeError(
        f"executor must be None, 'serial', 'processes', a concurrent.futures.Executor or a "
        f"distributed.Client, got {type(executor).__name__}"
    )


def _dask_workers(client):
    info = client.scheduler_info()
    return max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))


def _close(owned, cancel=False):
    for obj in owned:
        if isinstance(obj, cf.Executor):
            obj.shutdown(wait=not cancel, cancel_futures=cancel)
        else:
            obj.close()


def _dispatch(ex, nworkers, todo, args, commit, fail, renew):
    """Run the chunks ``todo`` on ``ex``; ``commit(k, records)`` each finished chunk.

    A worker that dies (segfault, OOM kill, SIGKILL) breaks a local process pool: every chunk in
    flight fails with it, the guilty one and the innocent ones alike. So at most ``nworkers``
    chunks are in flight; after a break the pool is replaced (``renew()``) and the chunks that
    were in flight are rerun one at a time: a chunk that breaks the pool while alone in it is the
    one that kills its worker, and its points are recorded as failed (``fail``, "worker died"),
    so a resumed sweep never retries it unless asked (``rerun_errors``). On Dask (and any
    executor that survives a dead worker) only the bad chunk's future fails.
    """
    queue, suspects, inflight = deque(todo), deque(), {}
    local = is_local_pool(ex)
    cap = nworkers if local else 2 * nworkers

    def submit(source):
        k, c = source.popleft()
        try:
            inflight[ex.submit(run_chunk, c, *args)] = (k, c)
        except BrokenExecutor:  # broke since the last wait: the chunk goes back, the break is handled below
            source.appendleft((k, c))
            return False
        return True

    while queue or suspects or inflight:
        if suspects:
            intact = submit(suspects) if not inflight else True
        else:
            intact = True
            while intact and queue and len(inflight) < cap:
                intact = submit(queue)
        broken = []
        if inflight:
            done, _ = cf.wait(inflight, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                k, c = inflight.pop(fut)
                try:
                    recs = fut.result()
                except BrokenExecutor:
                    broken.append((k, c))
                except Exception as exc:  # noqa: BLE001 - Dask: KilledWorker and the like, this chunk only
                    fail(k, c, f"worker died: {type(exc).__name__}: {exc}")
                else:
                    commit(k, recs)
        if broken or not intact:
            for fut in cf.as_completed(list(inflight)):  # the rest of a broken pool fails at once
                k, c = inflight.pop(fut)
                try:
                    commit(k, fut.result())
                except BrokenExecutor:
                    broken.append((k, c))
            if len(broken) == 1:
                k, c = broken[0]
                fail(k, c, "worker died (its process was killed or crashed while computing this chunk)")
            else:
                suspects.extend(sorted(broken))
            ex = renew()


# --------------------------------------------------------------------------- driver
def run_sweep(spec, out=None, *, executor=None, workers=None, scheduler=None, resume=True, force=False,
              progress=None, rerun_errors=False) -> SweepTable:
    """Evaluate a sweep into a :class:`~piqs_squeeze.sweep.table.SweepTable`.

    Parameters
    ----------
    spec : SweepSpec, dict or path of a TOML/JSON config
    out : path, optional
        Sweep directory for checkpoints (manifest + one file per finished chunk). Without it
        nothing is written and nothing can be resumed.
    executor : None, "serial", "processes", concurrent.futures.Executor or distributed.Client
        None: local processes (``workers`` of them, default the number of cores; ``workers=1``
        is serial). A Dask ``Client`` is used through ``client.get_executor()``.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``) to connect to instead.
    resume : bool
        Continue a sweep whose chunks are already in ``out`` (finished chunks are loaded, not
        recomputed). False makes existing chunks an error.
    force : bool
        Start over (delete the old chunks) when ``out`` holds a different sweep (changed spec or
        code), or chunks of this one while ``resume`` is False. With ``resume=True`` the same
        sweep is still resumed.
    progress : bool or None
        tqdm progress bar; None shows it only on a terminal.
    rerun_errors : bool
        Recompute points whose stored record is an error. Without it a resumed sweep reuses them
        and says so (a :class:`SweepWarning` with their number).

    Returns
    -------
    SweepTable
        One row per point; a point that failed has NaN summaries and its message in ``error``.
        When some points failed a :class:`SweepWarning` gives their number and the first message.

    Raises
    ------
    SweepFailedError
        When every point failed (computed now or reused from the sweep directory); the table is
        on the exception (``exc.table``) and saved in ``out``.
    ValueError, TypeError
        A bad spec, before anything is computed; ``NotWritableError`` (an ``OSError``) when ``out``
        cannot be created or written, also before anything is computed.
    """
    from tqdm.auto import tqdm

    if not isinstance(spec, SweepSpec):
        spec = SweepSpec.from_dict(spec) if isinstance(spec, dict) else SweepSpec.from_file(spec)
    points = spec.expand()
    store = SweepStore(out) if out is not None else None
    if store is not None:
        ensure_writable(store.root, "sweep directory")
    done = _stored_records(spec, points, store, resume, force, rerun_errors)
    reused = sum(1 for r in done.values() if r["error"])
    if reused:
        warnings.warn(f"resuming {spec.name!r} from {store.root}: {reused} of {len(points)} points failed in "
                      f"an earlier run and are reused as failures, not recomputed; {RERUN_HINT}",
                      SweepWarning, stacklevel=2)
    chunks = make_chunks(points, spec)
    todo = [(k, c) for k, c in enumerate(chunks) if not all(p.index in done for p in c)]
    stats = {"points": len(points), "chunks": len(chunks), "points_loaded": len(done),
             "chunks_loaded": len(chunks) - len(todo), "chunks_computed": 0, "points_computed": 0,
             "errors_loaded": reused}
    records = dict(done)
    bar = tqdm(total=len(points), initial=len(done), unit="pt", desc=spec.name, smoothing=0.1,
               disable=(None if progress is None else not progress), dynamic_ncols=True)
    try:
        commit = _committer(store, spec.hash, records, stats, bar)
        _compute(spec, todo, bool(spec.save_results and store is not None), commit, executor, workers, scheduler,
                 stats)
    finally:
        bar.close()
    table = SweepTable.from_records(spec, points, records, root=store.root if store else None)
    table.stats = stats
    if store is not None:
        table.save(store.root / "table.npz")
    _report_failures(spec, table, store, reused)
    return table


def _report_failures(spec, table, store, reused):
    """Raise :class:`SweepFailedError` when every point failed, warn when some did."""
    failed = np.flatnonzero(~table.ok)
    n = len(table)
    table.stats["points_failed"] = int(failed.size)
    if not failed.size:
        return
    first = int(failed[0])
    where = f"; the table with every message (column 'error') is in {store.root}" if store is not None else ""
    stored = f" ({reused} of them reused from an earlier run; {RERUN_HINT})" if reused else ""
    first_msg = f"first error (point {int(table['index'][first])}): {table['error'][first]}"
    if failed.size == n:
        raise SweepFailedError(f"sweep {spec.name!r}: all {n} points failed{stored}; {first_msg}{where}", table)
    warnings.warn(f"sweep {spec.name!r}: {failed.size} of {n} points failed{stored}; {first_msg}{where}",
                  SweepWarning, stacklevel=3)


def _stored_records(spec, points, store, resume, force, rerun_errors) -> dict:
    """Index -> record of the points already in the sweep directory (checked against the spec;
    error records left out with ``rerun_errors``)."""
    if store is None:
        return {}
    store.check_or_create(spec.to_dict(), spec.hash, len(points), code_fingerprints(spec), resume=resume,
                          force=force)
    done = store.load_records(spec.hash)
    for i, r in list(done.items()):
        if i >= len(points) or r.get("key") != points[i].key:
            raise SweepMismatchError(f"{store.root}: stored point {i} does not match the spec "
                                     "(code that derives points or seeds changed?); use force=True")
        if rerun_errors and r["error"]:
            del done[i]
    return done


def _committer(store, spec_hash, records, stats, bar):
    """``commit(k, recs)``: save chunk k's records (and their full Results), count them."""
    def commit(k, recs):
        for r in recs:
            res = r.pop("result", None)
            if res is not None:
                r["result"] = str(res.save(store.result_path(r["index"])).relative_to(store.root))
        if store is not None:
            store.write_chunk(spec_hash, k, recs)
        records.update((r["index"], r) for r in recs)
        stats["chunks_computed"] += 1
        stats["points_computed"] += len(recs)
        bar.update(len(recs))
    return commit


def _compute(spec, todo, keep, commit, executor, workers, scheduler, stats):
    """Run the chunks ``todo`` serially or on the executor, committing each one as it finishes."""
    resolved = resolve(spec.summaries)
    preload = sorted({registry.METHODS[m["method"]] for m in spec.methods if m["method"] in registry.METHODS})
    ex, nworkers, owned = _executor(executor, workers, scheduler, preload) if todo else (None, 1, [])
    stats["workers"] = nworkers
    try:
        if ex is None:
            for k, c in todo:
                commit(k, run_chunk(c, resolved, keep))
        else:
            check_shippable("sweep", points=todo[0][1], summaries=resolved)

            def fail(k, c, why):
                commit(k, [_record(p, 0.0, error=why) for p in c])

            def renew():
                warnings.warn("a worker process died; starting new workers for the remaining chunks", stacklevel=4)
                return _local_pool(nworkers, preload)

            _dispatch(ex, nworkers, todo, (resolved, keep, 1), commit, fail, renew)
    except BaseException:
        _close(owned, cancel=True)
        owned = []
        shutdown_pool()  # cancel what is queued; a later sweep starts fresh workers
        raise
    finally:
        _close(owned)
