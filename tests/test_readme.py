"""The README's examples and commands are what users copy: keep them working.

Every ```python block of the README is run as a file (``python block.py`` in a fresh directory),
the way a physicist pastes it into a script (no main guard, worker processes included), with a
few assertions appended.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

#: README section -> assertions appended to its block (they run in the block's namespace)
CHECKS = {
    "Rightmost Liouvillian modes, two-time correlations, g2 and the emission spectrum": """
modes = np.asarray(modes)
assert len(modes) == 6 and abs(modes[0]) < 1e-8 and np.all(np.diff(modes.real) <= 1e-9)
# the time-crystal pair: frequency 0.555 N at N = 40 (mean field 0.559 N), well inside 1 %
assert np.any(np.abs(np.abs(modes.imag) - 22.04) < 0.2)
c, g, S, big = (np.asarray(x) for x in (c, g, S, big))
assert c.shape == g.shape == big.shape == (21,) and c[0].real > 0 and abs(c[0].imag) < 1e-9 * c[0].real
assert np.all(np.isfinite(g)) and np.all(np.asarray(S) > 0)
""",
    "A cavity mode (the cavity behind Gamma)": """
assert res.extras["fock_top_population"] <= 1e-8
# exact and cumulant agree on the photon number to the closure's accuracy at N = 6 (measured
# 0.11 of the peak); 0.2 bounds it, a wrong equation misses by O(1)
assert np.abs(res.photon_number - cum.photon_number).max() < 0.2 * res.photon_number.max()
""",
    "A short example": """
from pathlib import Path
assert Path("n40.npz").is_file()
assert res.xi2_db.min() < 0  # squeezed below Upsilon_c
assert ss.times.tolist() == [float("inf")]
""",
    "General Hamiltonians, ramps and protocols": """
assert res.model.time_dependent and np.all(np.isfinite(res.xi2[1:]))
for key, value in dict(tact.hamiltonian).items():  # the jmat and the jspin Qobj give the same terms
    assert abs(value - dict(same.hamiltonian)[key]) <= 1e-12, (key, value)
assert set(dict(tact.hamiltonian)) == set(dict(same.hamiltonian))
""",
    "Sweeps from Python and from the command line": """
import numpy as np
import piqs_squeeze as ps
from piqs_squeeze import analysis
from piqs_squeeze.sweep import SweepSpec
assert table.ok.all() and len(table) == 7 and len(row) == 1
# the sweep's number for ratio 0.9 is the one a direct cumulant run of that model gives (the
# integrator steps each model on its own, so chunked batches and one call agree to round-off)
point = [p for p in SweepSpec.from_dict(spec).expand() if abs(p.params["ratio"] - 0.9) < 1e-12][0]
direct = ps.evolve(point.model, point.times, method="cumulant")
assert abs(row["min_transient_xi2"][0] - analysis.min_transient_xi2(direct)[0]) <= 1e-12
again = run_sweep(spec, out="ratio-scan.sweep", workers=2)
assert again.stats["points_loaded"] == 7 and again.stats["points_computed"] == 0
""",
}
def python_blocks() -> dict:
    """README section title -> the code of its ```python block (one per section)."""
    blocks, section = {}, None
    for part in re.split(r"(^## [^\n]*$|^```python\n.*?^```$)", README.read_text(), flags=re.M | re.S):
        if part.startswith("## "):
            section = part[3:].strip()
        elif part.startswith("```python"):
            assert section not in blocks, f"two python blocks in README section {section!r}"
            blocks[section] = part[len("```python\n"):-3]
    return blocks


def run_as_file(tmp_path, code):
    path = tmp_path / "readme_block.py"
    path.write_text(code)
    return subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=600)


def test_every_python_block_is_run():
    assert set(python_blocks()) == set(CHECKS)


@pytest.mark.parametrize("section", sorted(CHECKS))
def test_readme_block_runs_as_a_plain_script(section, tmp_path):
    proc = run_as_file(tmp_path, python_blocks()[section] + CHECKS[section])
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_ci_runs_the_readme_test_command():
    ci = (README.parent / ".ci" / "run").read_text()
    command = re.search(r"python -m pip install[^\n]*pytest[^\n]*", ci).group(0)
    assert command in README.read_text()
