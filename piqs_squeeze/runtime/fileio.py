"""Crash-safe file writing shared by results, sweep checkpoints and figure caches."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

__all__ = ["atomic_write", "check_writable", "remove_stale_temporaries", "STALE_TMP_S"]

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


def check_writable(path, name="path") -> Path:
    """Refuse, before any work, a file path that cannot be written: its directory (or the
    nearest existing parent, the missing ones being created by the writer) must be a writable
    directory, and an existing file a writable file. Tested by creating and removing a temporary
    file there (``os.access`` misreads read-only mounts and some network file systems).

    Raises
    ------
    PermissionError / NotADirectoryError / IsADirectoryError naming ``name`` and the path.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{name}: {path} is a directory, not a file")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(f"{name}: {path} cannot be created: {parent} is not a directory")
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=".piqs-squeeze-write-test.", suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise PermissionError(f"{name}: cannot write {path}: the directory {parent} is not writable "
                              f"({exc.strerror or exc}); choose another location") from exc
    if path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(f"{name}: the file {path} exists and is not writable; choose another location")
    return path
