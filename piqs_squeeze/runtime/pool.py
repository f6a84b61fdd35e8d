"""Local worker processes for sweeps and MCWF ensembles: clean start, and no orphans.

Workers start from a fork server (a clean process with the heavy imports done once: forking a
driver that already ran OpenMP-threaded code kills the children, "fork() called from a process
already using GNU OpenMP"), and each runs a watchdog thread that ends it when the process that
created the pool is gone. Without it, a driver killed by SIGKILL (or the OOM killer) left its
workers, and through them multiprocessing's resource tracker, alive forever.
"""
from __future__ import annotations

import concurrent.futures as cf
import os
import threading
import time

__all__ = ["process_pool", "WATCHDOG_PERIOD"]

#: seconds between the watchdog's checks that the driver process still exists
WATCHDOG_PERIOD = 1.0


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


def _init_worker(pid: int, period: float):
    threading.Thread(target=_watch, args=(pid, period), daemon=True, name="piqs-squeeze-watchdog").start()


def _context(preload=()):
    import multiprocessing as mp

    if "forkserver" not in mp.get_all_start_methods():  # pragma: no cover - not POSIX
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["piqs_squeeze", "qutip", *preload])
    return ctx


def process_pool(n: int, preload=()) -> cf.ProcessPoolExecutor:
    """A ProcessPoolExecutor of ``n`` fork-server workers that exit when this process dies."""
    return cf.ProcessPoolExecutor(max_workers=n, mp_context=_context(preload), initializer=_init_worker,
                                  initargs=(os.getpid(), WATCHDOG_PERIOD))
