"""Crash-safe file writing shared by results, sweep checkpoints and figure caches."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

__all__ = ["atomic_write", "remove_stale_temporaries", "STALE_TMP_S"]

#: a temporary file not touched for this many seconds belongs to a writer that was killed
STALE_TMP_S = 600.0


def _umask() -> int:
    """The process umask (read without changing it where /proc allows)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_stale_temporaries(path) -> int:
    """Delete the temporary files ``<name>.*.tmp`` next to ``path`` that a killed writer left
    (not modified for :data:`STALE_TMP_S` seconds); returns how many were removed."""
    path = Path(path)
    removed = 0
    now = time.time()
    try:
        candidates = list(path.parent.glob(path.name + ".*.tmp"))
    except OSError:
        return 0
    for tmp in candidates:
        try:
            if now - tmp.stat().st_mtime > STALE_TMP_S:
                tmp.unlink()
                removed += 1
        except OSError:
            pass
    return removed


def atomic_write(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same directory and ``os.replace``.

    A reader (or a process killed mid-write) sees either the old file or the complete new one,
    never a truncated file. The file gets the permissions of a plain ``open()`` (0666 less the
    umask; the temp file alone is private), and temporaries of earlier, killed writes of the same
    file are removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
