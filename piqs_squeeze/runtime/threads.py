"""Thread policy of the compiled kernels: results never depend on it, and it never hurts.

Two guarantees, for every method:

* **Same bits for any thread count.** Every threaded numba kernel splits its work into a fixed
  number of chunks (never one per thread) and adds the chunk results in chunk order, so numba's
  thread count changes only who computes a chunk, not what is added in which order. BLAS/LAPACK
  calls (small dense matrices: Krylov Gram and Hessenberg matrices, the MCWF sector tables) run on
  one BLAS thread (:func:`single_blas`), where the summation order of OpenBLAS / MKL does not
  depend on their thread count either.
* **Threads that do not collapse on a busy machine.** GNU OpenMP (numba's default threading layer
  here) lets idle threads spin before they sleep; next to other CPU-bound processes the spinning
  steals the time slices that the working thread needs, and a threaded run became many times
  slower than a single thread (benchmarks/results/threads.md). Importing piqs_squeeze therefore
  sets ``OMP_WAIT_POLICY=PASSIVE`` with a short spin (``GOMP_SPINCOUNT``, :data:`GOMP_SPINCOUNT`)
  unless the environment sets either; a kernel uses more than one
  thread only for vectors large enough to repay the wake-up (:data:`MIN_PARALLEL_SIZE`), and
  only as many as there are cores that no other process is using (:func:`free_cores`), re-read
  during long runs (:class:`adaptive_threads`).

The user's controls: ``PIQS_SQUEEZE_THREADS`` (environment) or :func:`set_max_threads` fixes the
threads of the kernels; ``NUMBA_NUM_THREADS`` caps numba itself; ``OMP_WAIT_POLICY`` /
``GOMP_SPINCOUNT`` set the wait policy (``ACTIVE``: long spins, a little faster on a machine that
is guaranteed idle).
"""
from __future__ import annotations

import contextlib
import os
import time

__all__ = ["single_blas", "kernel_threads", "adaptive_threads", "numba_threads", "set_max_threads", "max_threads",
           "free_cores", "cores", "MIN_PARALLEL_SIZE", "ENV_THREADS"]

#: environment variable capping the threads of the compiled kernels
ENV_THREADS = "PIQS_SQUEEZE_THREADS"

#: vectors (float64 entries) below this size are processed on one thread: a parallel region
#: costs a wake-up of the sleeping threads (~10-50 us), more than a product of this size gains
MIN_PARALLEL_SIZE = 60_000

_MAX = {"n": None}


def _env_threads():
    val = os.environ.get(ENV_THREADS, "").strip()
    if not val:
        return None
    try:
        n = int(val)
    except ValueError:
        raise ValueError(f"{ENV_THREADS} must be a positive integer, got {val!r}") from None
    if n < 1:
        raise ValueError(f"{ENV_THREADS} must be a positive integer, got {val!r}")
    return n


def set_max_threads(n: int | None) -> None:
    """Cap the threads of the compiled kernels in this process (None: back to the default,
    ``PIQS_SQUEEZE_THREADS`` or all of numba's). Results do not change, only the speed."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"n must be a positive integer or None, got {n!r}")
    _MAX["n"] = n


def max_threads() -> int:
    """Threads a kernel may use: numba's pool size, capped by :func:`set_max_threads` or
    ``PIQS_SQUEEZE_THREADS``."""
    import numba

    cap = _MAX["n"] if _MAX["n"] is not None else _env_threads()
    n = numba.config.NUMBA_NUM_THREADS
    return max(1, min(n, cap) if cap is not None else n)


def _runnable_others() -> int | None:
    """Threads of other processes that are runnable right now (Linux), None where unknown.

    /proc/loadavg's fourth field counts the runnable threads of the whole machine; this
    process's own are subtracted (its sleeping kernel threads are not runnable). The least of
    three samples 1 ms apart filters out short wake-ups.
    """
    try:
        own_tasks = os.listdir("/proc/self/task")
    except OSError:
        return None
    best = None
    for k in range(3):
        if k:
            time.sleep(0.001)
        try:
            with open("/proc/loadavg") as f:
                total = int(f.read().split()[3].split("/")[0])
            own = 0
            for tid in own_tasks:
                try:
                    with open(f"/proc/self/task/{tid}/stat") as f:
                        own += f.read().rsplit(")", 1)[1].split()[0] == "R"
                except OSError:
                    pass
        except (OSError, ValueError, IndexError):
            return None
        others = max(0, total - own)
        best = others if best is None else min(best, others)
    return best


def cores() -> int:
    """Cores this process may run on (its CPU affinity set)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def free_cores() -> int:
    """Cores of this process's CPU set that no other runnable thread is using right now (>= 1)."""
    others = _runnable_others()
    n = cores()
    return n if others is None else max(1, n - others)


def kernel_threads(size: int) -> int:
    """Threads for the kernels over vectors of ``size`` entries.

    With a cap set (:func:`set_max_threads`, ``PIQS_SQUEEZE_THREADS``), the cap. Otherwise 1
    below :data:`MIN_PARALLEL_SIZE`, else as many as there are free cores (:func:`free_cores`),
    at most numba's: on a machine whose cores are taken by other work a threaded region waits for
    its slowest thread, which waits for a time slice, so one thread is faster there.
    """
    if _MAX["n"] is not None or _env_threads() is not None:
        return max_threads()
    if size < MIN_PARALLEL_SIZE:
        return 1
    return max(1, min(max_threads(), free_cores()))


class adaptive_threads:
    """Context: numba's thread count follows :func:`kernel_threads` during a long run.

    ``refresh()`` (called after each step) re-reads the load at most every ``period`` seconds;
    the results do not depend on the thread count, so it may change at any step.
    """

    def __init__(self, size: int, period: float = 2.0):
        self.size, self.period = int(size), float(period)

    def _set(self):
        import numba

        n = kernel_threads(self.size)
        numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
        self._last = time.perf_counter()

    def __enter__(self):
        import numba

        self._old = numba.get_num_threads()
        self._set()
        return self

    def refresh(self):
        if time.perf_counter() - self._last > self.period:
            self._set()

    def __exit__(self, *exc):
        import numba

        numba.set_num_threads(self._old)
        return False


@contextlib.contextmanager
def numba_threads(n: int):
    """Run the block with numba's thread count (of this thread) set to ``n``, restored after."""
    import numba

    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(old)


@contextlib.contextmanager
def single_blas():
    """Run the block with BLAS/LAPACK on one thread (results independent of the BLAS thread count;
    idle BLAS threads spinning next to numba's cost 8x on 2 cores)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


#: spin iterations of an idle GNU OpenMP thread before it sleeps (its default, 300000, is ~0.1 ms):
#: enough to catch the next parallel region of a Krylov step on an idle machine, too short to
#: steal much from the others on a busy one (benchmarks/results/threads.md)
GOMP_SPINCOUNT = 3000


def _passive_openmp():
    """Idle OpenMP threads spin briefly, then sleep, unless the user chose a wait policy. Effective
    only before the OpenMP runtime starts (numba starts it on the first threaded kernel)."""
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        os.environ["GOMP_SPINCOUNT"] = str(GOMP_SPINCOUNT)
