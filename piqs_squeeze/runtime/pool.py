"""Local worker processes for sweeps and MCWF ensembles: clean start, no orphans, any script.

The workers are a :class:`loky.ProcessPoolExecutor` (the executor behind joblib) started with
loky's own start method: each worker is a fresh interpreter (fork immediately followed by exec),
so

* forking a driver that already ran OpenMP-threaded code (which kills the children, "fork()
  called from a process already using GNU OpenMP") never happens;
* the driver's ``__main__`` is never re-run in a worker, so a plain script without an
  ``if __name__ == "__main__":`` guard, code read from stdin (``python - <<EOF``) and a notebook
  all work;
* tasks are pickled with cloudpickle, so functions defined in ``__main__``, in a notebook cell or
  as a ``lambda`` (ramps, coefficients) reach the workers by value.

Each worker runs a watchdog thread that ends it when the process that created the pool is gone
(without it, a driver killed by SIGKILL or the OOM killer left its workers alive forever), and
ignores SIGINT: Ctrl-C in a terminal reaches the whole process group, and it is the driver that
decides what to keep and then stops the workers.

What cannot be pickled is refused before any worker starts (:func:`check_shippable`), naming it.
"""
from __future__ import annotations

import atexit
import dataclasses
import importlib
import os
import signal
import threading
import time

__all__ = ["process_pool", "shared_pool", "shutdown_shared", "is_local_pool", "check_shippable",
           "NotShippableError", "WorkerPool", "WATCHDOG_PERIOD", "IDLE_TIMEOUT"]

#: seconds between the watchdog's checks that the driver process still exists
WATCHDOG_PERIOD = 1.0
#: seconds an idle worker of a warm (shared) pool waits for work before it exits
IDLE_TIMEOUT = 300.0


def _driver_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by someone else (pid reused)
        return False
    return True


def _watch(pid: int, period: float):
    while True:
        time.sleep(period)
        if not _driver_alive(pid):
            os._exit(1)


def _init_worker(pid: int, period: float, preload=()):
    """Worker start-up: ignore Ctrl-C (the driver handles it), start the watchdog, import the
    modules the tasks need (a custom method's module registers it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch, args=(pid, period), daemon=True, name="piqs-squeeze-watchdog").start()
    for name in preload:
        importlib.import_module(name)


def _loky():
    try:
        import loky
    except ImportError as exc:  # pragma: no cover - an install requirement
        raise ImportError("local worker processes need the 'loky' package (pip install loky), or use "
                          "workers=1") from exc
    return loky


class NotShippableError(TypeError):
    """An argument of a parallel run that cannot be sent to worker processes."""


def check_shippable(what: str, **objects):
    """Refuse, before any worker starts, an object that cloudpickle cannot send to a worker.

    Parameters
    ----------
    what : the run, for the message ("mcwf", "sweep")
    **objects : name -> object; a Model or Protocol is checked coefficient by coefficient so that
        the message names the one at fault.

    Raises
    ------
    NotShippableError naming the object and the fixes (workers=1, or a module-level function /
    a Ramp instead of an object holding a lock, an open file, a C handle, ...).
    """
    import cloudpickle

    def parts(name, obj):
        """(label, object) pairs, innermost first: a Protocol's models, a Model's fields, the
        terms of a Hamiltonian, then the object itself."""
        models = getattr(obj, "models", None)
        if isinstance(models, (list, tuple)):
            for k, m in enumerate(models):
                yield from parts(f"{name}.models[{k}]", m)
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            for f in dataclasses.fields(obj):
                yield from parts(f"{name}.{f.name}", getattr(obj, f.name, None))
        items = getattr(obj, "items", None)
        if callable(items) and not isinstance(obj, dict):
            try:
                for k, v in items():
                    yield f"{name}[{k!r}]", v
            except Exception:  # noqa: BLE001 - then the object is checked as a whole
                pass
        yield name, obj

    for name, obj in objects.items():
        for label, part in parts(name, obj):
            try:
                cloudpickle.dumps(part)
            except Exception as exc:  # noqa: BLE001 - any failure means it cannot be shipped
                raise NotShippableError(
                    f"{what}: {label} ({type(part).__name__}) cannot be sent to worker processes "
                    f"({type(exc).__name__}: {exc}); run with workers=1 (serial, in this process), or make it "
                    "picklable (a ps.Ramp, or a plain function or lambda that does not hold locks, open files "
                    "or other process-bound objects)") from exc


class WorkerPool:
    """Marker base of the local pools (see :func:`process_pool`)."""


def _pool_class():
    loky = _loky()

    class _Pool(loky.ProcessPoolExecutor, WorkerPool):
        """loky's executor with ``concurrent.futures``' ``shutdown(wait, cancel_futures=)`` signature
        (cancelling also ends the workers: what runs in them is abandoned) and ``_broken``."""

        def shutdown(self, wait=True, *, cancel_futures=False, kill_workers=None):
            super().shutdown(wait=wait, kill_workers=bool(cancel_futures if kill_workers is None else kill_workers))

        @property
        def _broken(self):
            return self._flags.broken is not None

    return _Pool


_POOL_CLASS = []


def process_pool(n: int, preload=(), timeout=None):
    """An executor of ``n`` fresh-interpreter worker processes that exit when this process dies.

    ``preload``: modules each worker imports when it starts; ``timeout``: seconds an idle worker
    waits before it exits (None: never; a later task starts a new one)."""
    if not _POOL_CLASS:
        _POOL_CLASS.append(_pool_class())
    ctx = _loky().backend.get_context("loky")
    return _POOL_CLASS[0](max_workers=int(n), context=ctx, timeout=timeout, initializer=_init_worker,
                          initargs=(os.getpid(), WATCHDOG_PERIOD, tuple(preload)))


def is_local_pool(ex) -> bool:
    """True for a pool of :func:`process_pool` (one dead worker breaks it) or a stdlib process pool."""
    import concurrent.futures as cf

    return isinstance(ex, (WorkerPool, cf.ProcessPoolExecutor))


_SHARED: dict = {}


def shared_pool(n: int, preload=()):
    """The warm pool of this session (imports and JIT caches paid once), shared by sweeps and MCWF
    runs: the same one while it has ``n`` workers and is not broken; else a new one. ``preload``
    only saves time (a task imports what it needs when it is unpickled), so a pool started with
    other modules is kept."""
    preload = tuple(sorted(set(preload)))
    ex = _SHARED.get("pool")
    if ex is not None and (_SHARED["n"] != n or ex._broken):
        preload = tuple(sorted(set(preload) | set(_SHARED["preload"])))
        shutdown_shared()
        ex = None
    if ex is None:
        ex = _SHARED["pool"] = process_pool(n, preload, timeout=IDLE_TIMEOUT)
        _SHARED.update(n=n, preload=preload)
        if not _SHARED.get("atexit"):
            # stop the warm pool before the interpreter tears down the modules its callbacks use
            atexit.register(shutdown_shared, wait=True)
            _SHARED["atexit"] = True
    return ex


def shutdown_shared(wait: bool = False, kill: bool = True):
    """Stop the warm pool's workers (``kill``: at once, abandoning what they run)."""
    ex = _SHARED.pop("pool", None)
    _SHARED.pop("n", None)
    _SHARED.pop("preload", None)
    if ex is not None:
        ex.shutdown(wait=wait, kill_workers=kill)
