"""Up-front guards: a run that cannot fit in memory is refused before anything is allocated.

Each method estimates its peak memory from the sizes it will allocate (its ``memory_needed``)
and calls :func:`check_memory`; the error states the estimate, what is available and what to do.
"""
from __future__ import annotations

__all__ = ["available_memory", "check_memory", "format_bytes", "say_if_long", "LongRunWarning", "LONG_RUN_S"]

import warnings

#: runs estimated to take longer than this many seconds say so before they start
LONG_RUN_S = 180.0


class LongRunWarning(UserWarning):
    """A run that will take long (its estimate is in the message)."""


def say_if_long(what: str, seconds: float, detail: str, advice: str, stacklevel: int = 3) -> None:
    """Warn (:class:`LongRunWarning`) before a run estimated to take more than :data:`LONG_RUN_S`."""
    if seconds > LONG_RUN_S:
        hours = seconds / 3600
        when = (f"{hours / 24:.3g} days" if hours >= 48 else f"{hours:.3g} hours" if hours >= 1
                else f"{seconds / 60:.3g} minutes")
        warnings.warn(f"{what}: this run is estimated to take about {when} on 2 cores ({detail}). {advice}",
                      LongRunWarning, stacklevel=stacklevel + 1)

_GIB = 2.0**30


def available_memory() -> int:
    """Bytes of memory available now (psutil, else /proc/meminfo MemAvailable, else 8 GiB)."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:
        try:
            with open("/proc/meminfo") as f:
                for line in f:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
    return 8 * 2**30


def format_bytes(n: float) -> str:
    """``n`` bytes as GiB (or MiB below 1 GiB), three significant digits."""
    return f"{n / _GIB:.3g} GiB" if n >= _GIB else f"{n / 2**20:.3g} MiB"


def check_memory(need: float, max_memory, what: str, advice: str) -> None:
    """Raise MemoryError when ``need`` bytes exceed ``max_memory`` (None: what is available now).

    Parameters
    ----------
    need : estimated peak bytes of the run
    max_memory : bytes allowed, or None
    what : the run, e.g. "the exact evolution"
    advice : what the user can do instead (a smaller N, another method, ...)
    """
    if max_memory is not None and (isinstance(max_memory, bool) or not float(max_memory) > 0):
        raise ValueError(f"max_memory must be a positive number of bytes or None, got {max_memory!r}")
    limit = available_memory() if max_memory is None else float(max_memory)
    if need > limit:
        raise MemoryError(
            f"{what} would need about {format_bytes(need)} of memory but only {format_bytes(limit)} "
            f"{'is available' if max_memory is None else 'is allowed (max_memory)'}; {advice}, or raise "
            "max_memory (bytes) if you know better"
        )
