"""Crash-safe file writing shared by results, sweep checkpoints and figure caches."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

__all__ = ["atomic_write", "ensure_writable", "NotWritableError", "remove_stale_temporaries", "STALE_TMP_S"]

#: a temporary file not touched for this many seconds belongs to a writer that was killed
STALE_TMP_S = 600.0


class NotWritableError(OSError):
    """An output location cannot be created or written (raised before any work starts)."""


def ensure_writable(path, what: str = "output directory", *, is_dir: bool = True) -> Path:
    """Check, before any work, that ``path`` can be written; create it if it is a directory.

    For a directory (``is_dir=True``) it is created with its parents (``mkdir -p``) and a small
    probe file is created and deleted in it; for a file, its parent directory gets the same test
    and an existing file must itself be writable. So a read-only disk, a missing permission or a
    path under a regular file fails here, in one sentence naming ``what`` and the path, instead of
    after the computation when the first result is written.

    Parameters
    ----------
    path : str or path-like
        The directory (or file) that will be written later.
    what : str
        What the location is for, as the user knows it (``"validate --out"``, ``"sweep
        directory"``, ``"MCWF checkpoint"``); it starts the error message.
    is_dir : bool
        ``path`` is a directory (True) or a file whose parent directory must be writable.

    Returns
    -------
    pathlib.Path
        ``path`` (the directory now exists).

    Raises
    ------
    NotWritableError
        (a subclass of ``OSError``) when the location cannot be created or written.
    """
    path = Path(path)
    directory = path if is_dir else (path.parent if str(path.parent) else Path("."))

    def refuse(why):
        raise NotWritableError(f"{what} {str(path)!r} is not writable: {why}; "
                               "choose another location (nothing was computed)")

    if not is_dir and path.is_dir():
        refuse("it is a directory, a file name is needed")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        refuse(f"{str(directory)!r} exists and is not a directory")
    except OSError as exc:
        refuse(f"cannot create {str(directory)!r} ({exc.strerror or exc})")
    if not directory.is_dir():
        refuse(f"{str(directory)!r} is not a directory")
    try:  # a real write: os.access ignores read-only mounts on some systems and ACLs on others
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".piqs-squeeze-write-test.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        refuse(f"cannot create files in {str(directory)!r} ({exc.strerror or exc})")
    if not is_dir and path.exists() and not os.access(path, os.W_OK):
        refuse("the file exists and is read-only")
    return path


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

