"""What made a number: the code fingerprint that resumed sweeps, figure caches and MCWF
checkpoints must match before they reuse anything.

The rule is the simplest honest one: any module of the package can change a method's numbers
(an integrator constant, a kernel, the result code), so the fingerprint hashes the whole package
source, plus the versions of the libraries that compute (numpy, scipy, numba, qutip) and of
Python. A custom method given by a dotted module path outside the package adds its own file.
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import platform
import sys
from pathlib import Path

__all__ = ["code_fingerprint", "describe_changes", "source_hash", "LIBRARIES"]

#: libraries whose version is part of the fingerprint
LIBRARIES = ("numpy", "scipy", "numba", "qutip")


#: the package's source folder (this module is piqs_squeeze/runtime/provenance.py)
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
#: subpackages that compute no result (they check and plot them); a wheel installs them inside
#: the package folder, an editable install maps them to the repository's top-level folders
NOT_RESULT_CODE = ("validation", "figures")


def source_hash(*roots, exclude=()) -> str:
    """SHA-256 (16 hex digits) of every ``*.py`` file below ``roots`` (paths and contents), leaving
    out the top-level subfolders named in ``exclude``."""
    h = hashlib.sha256()
    for root in roots:
        root = Path(root)
        files = [root] if root.is_file() else sorted(
            p for p in root.rglob("*.py") if p.relative_to(root).parts[0] not in exclude)
        for path in files:
            h.update(path.name.encode() if root.is_file() else str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def _package_hash() -> str:
    return source_hash(PACKAGE_ROOT, exclude=NOT_RESULT_CODE)


def _version(name):
    mod = sys.modules.get(name)
    if mod is None:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            return "absent"
    return str(getattr(mod, "__version__", "unknown"))


def code_fingerprint(modules=()) -> dict:
    """{"piqs_squeeze": source hash, "numpy": version, ..., "python": version} plus
    ``"module:<name>": hash`` for each module of ``modules`` that lives outside the package."""
    from piqs_squeeze._version import __version__

    fp = {"piqs_squeeze": f"{__version__}+{_package_hash()}"}
    fp.update({lib: _version(lib) for lib in LIBRARIES})
    fp["python"] = platform.python_version()
    root = PACKAGE_ROOT
    for name in sorted(set(modules)):
        mod = importlib.import_module(name)
        path = getattr(mod, "__file__", None)
        if path is None or root in Path(path).resolve().parents:
            continue
        fp[f"module:{name}"] = source_hash(path)
    return fp


def describe_changes(old: dict, new: dict) -> list[str]:
    """Human-readable differences between two fingerprints ("numpy 2.3.1 -> 2.4.0", ...)."""
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k, "absent"), new.get(k, "absent")
        if a != b:
            what = "the piqs_squeeze source" if k == "piqs_squeeze" else k
            out.append(f"{what}: {a} -> {b}")
    return out
