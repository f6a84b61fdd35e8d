"""The sweep directory: a manifest and one atomically written file per finished chunk.

Layout::

    DIR/manifest.json           spec (canonical), its sha256, the code fingerprint (package source
                                hash, library versions: piqs_squeeze.runtime.provenance)
    DIR/chunks/c<number>.json   records of one finished chunk (written to a temp file, then os.replace)
    DIR/results/p<index>.npz    full Results (only with save_results), written before their chunk
    DIR/table.npz, table.csv    the finished table (rewritten at the end of every run)

A chunk file appears only complete (``os.replace`` is atomic on POSIX), so a sweep killed with
SIGKILL loses only the chunks in flight; leftover ``*.tmp`` files are ignored and removed.
"""
from __future__ import annotations

import datetime as _dt
import json
import warnings
from pathlib import Path

from piqs_squeeze._version import __version__
from piqs_squeeze.runtime.fileio import atomic_write
from piqs_squeeze.runtime.provenance import describe_changes

__all__ = ["SweepStore", "SweepMismatchError", "atomic_write"]

MANIFEST = "manifest.json"
FORMAT = "piqs_squeeze.sweep/1"
CHUNK_FORMAT = "piqs_squeeze.sweep-chunk/1"


class SweepMismatchError(ValueError):
    """The sweep directory holds a different sweep (grid, options or code version)."""


def _diff(old: dict, new: dict, prefix="") -> list[str]:
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k, "<absent>"), new.get(k, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            out += _diff(a, b, prefix + k + ".")
        elif a != b:
            sa, sb = json.dumps(a)[:80], json.dumps(b)[:80]
            out.append(f"{prefix}{k}: {sa} -> {sb}")
    return out


class SweepStore:
    """Manifest and chunk files of one sweep directory."""

    def __init__(self, root):
        self.root = Path(root)
        self.chunks = self.root / "chunks"
        self.results = self.root / "results"

    # ------------------------------------------------------------------ manifest
    def manifest(self) -> dict | None:
        path = self.root / MANIFEST
        if not path.exists():
            return None
        try:
            m = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise SweepMismatchError(f"{path}: unreadable manifest ({exc}); use force to start over") from None
        if m.get("format") != FORMAT:
            raise SweepMismatchError(f"{path}: not a piqs-squeeze sweep manifest")
        return m

    def check_or_create(self, spec_dict, spec_hash, n_points, fingerprints, *, resume=True, force=False):
        """Make sure the directory holds this sweep; return the number of chunk files present.

        A different spec hash, package version or code is an error unless ``force`` (which
        deletes the previous chunks and results first). Finished chunks of the same sweep are
        resumed with ``resume``; without it they are an error, or deleted with ``force``.
        So ``resume=True, force=True`` continues the same sweep and restarts a changed one.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        old = self.manifest()
        new = {"format": FORMAT, "name": spec_dict.get("name"), "hash": spec_hash, "n_points": n_points,
               "piqs_squeeze": __version__, "code": fingerprints, "spec": spec_dict,
               "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        problems = []
        if old is not None:
            if old.get("hash") != spec_hash:
                problems.append("the sweep spec changed: " + "; ".join(_diff(old.get("spec", {}), spec_dict)[:8]))
            changed = describe_changes(old.get("code", {}), fingerprints)
            if changed:
                problems.append("the code changed since these chunks were computed (" + "; ".join(changed) + ")")
        n_chunks = len(self.chunk_files())
        if problems and not force:
            raise SweepMismatchError(
                f"{self.root} holds a different sweep ({n_chunks} chunk files): " + " | ".join(problems)
                + ". Use another directory, or force=True (--force) to delete them and start over."
            )
        restart = bool(problems) or (n_chunks and not resume)
        if restart and force:
            self.clear()
            n_chunks = 0
        elif n_chunks and not resume:
            raise SweepMismatchError(
                f"{self.root} already holds {n_chunks} finished chunks of this sweep; "
                "resume=True (--resume) to continue it or force=True (--force) to start over"
            )
        if old is None or problems or (restart and force):
            atomic_write(self.root / MANIFEST, json.dumps(new, indent=1).encode())
        self.chunks.mkdir(exist_ok=True)
        for d in (self.chunks, self.results, self.root):  # left by a killed run: never complete, never read
            for tmp in d.glob("*.tmp") if d.exists() else ():
                tmp.unlink(missing_ok=True)
        return n_chunks

    def clear(self):
        """Delete this sweep's manifest, chunks, results and tables (nothing else)."""
        for d, pattern in ((self.chunks, "*.json"), (self.chunks, "*.tmp"), (self.results, "*.npz"),
                           (self.results, "*.tmp")):
            if d.exists():
                for f in d.glob(pattern):
                    f.unlink()
        for name in (MANIFEST, "table.npz", "table.csv"):
            (self.root / name).unlink(missing_ok=True)

    # ------------------------------------------------------------------ chunks
    def chunk_files(self) -> list[Path]:
        return sorted(self.chunks.glob("c*.json")) if self.chunks.exists() else []

    def chunk_path(self, number: int) -> Path:
        return self.chunks / f"c{number:07d}.json"

    def write_chunk(self, spec_hash, number, records) -> Path:
        path = self.chunk_path(number)
        body = {"format": CHUNK_FORMAT, "hash": spec_hash, "chunk": number, "records": records}
        atomic_write(path, json.dumps(body, allow_nan=True).encode())
        return path

    def load_records(self, spec_hash) -> dict[int, dict]:
        """index -> record of every finished point (first occurrence wins)."""
        done = {}
        for path in self.chunk_files():
            try:
                body = json.loads(path.read_text())
                if body.get("format") != CHUNK_FORMAT or body.get("hash") != spec_hash:
                    raise ValueError("belongs to another sweep")
                records = body["records"]
            except (OSError, ValueError, KeyError) as exc:
                warnings.warn(f"ignoring chunk file {path.name}: {exc}; its points are recomputed", stacklevel=2)
                continue
            for r in records:
                done.setdefault(int(r["index"]), r)
        return done

    def result_path(self, index: int) -> Path:
        return self.results / f"p{index:08d}.npz"
