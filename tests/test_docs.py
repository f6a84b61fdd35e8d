"""The API reference builds from the docstrings with Sphinx + numpydoc, warnings as errors."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_api_reference_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    out = tmp_path / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           str(ROOT / "docs"), str(out), "-d", str(tmp_path / "doctrees")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    api = (out / "api.html").read_text()
    for name in ("evolve", "min_transient_xi2", "TransientMinimum", "state", "run_sweep", "variables_from_moments",
                 "Ramp", "Protocol", "liouvillian_spectrum", "SweepSpec", "SweepTable", "SweepFailedError",
                 "ensure_writable"):
        assert name in api
    assert "after the initial collective minimum" in api  # the definition, in the paper's words
