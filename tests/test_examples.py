"""examples/: every sweep config is valid and referenced, the MCWF trajectory-count study runs and
agrees with the exact solver, and the tutorial notebook executes (nbclient) without an error."""
import re
from pathlib import Path

import numpy as np
import pytest

from piqs_squeeze.cli import SWEEP_EXAMPLES, build_parser
from piqs_squeeze.sweep import SweepSpec, run_sweep

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def test_every_example_config_is_valid_and_referenced():
    configs = sorted(p.name for p in EXAMPLES.glob("*.toml"))
    assert configs == sorted(Path(p).name for p in SWEEP_EXAMPLES)
    parser = build_parser()
    sweep_help = parser._subparsers._group_actions[0].choices["sweep"].format_help()
    readme = (ROOT / "README.md").read_text()
    from piqs_squeeze.sweep.summaries import SUMMARIES

    for name in SUMMARIES:
        assert f"  {name} " in sweep_help
    for name in configs:
        spec = SweepSpec.from_file(EXAMPLES / name)  # methods and options checked here
        assert spec.parameter_sets()
        assert f"examples/{name}" in sweep_help and f"examples/{name}" in readme


def test_example_sweep_directories_are_git_ignored():
    """``piqs-squeeze sweep examples/X.toml`` writes examples/X.sweep/: git must not see it."""
    import shutil
    import subprocess

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for config in EXAMPLES.glob("*.toml"):
        target = config.with_suffix(".sweep") / "table.npz"
        proc = subprocess.run(["git", "check-ignore", "-q", str(target.relative_to(ROOT))], cwd=ROOT)
        assert proc.returncode == 0, f"{target.relative_to(ROOT)} is not covered by .gitignore"


def test_mcwf_trajectory_study_runs(tmp_path):
    import piqs_squeeze as ps

    text = (EXAMPLES / "mcwf_ntraj_study.toml").read_text()
    spec = SweepSpec.from_file(EXAMPLES / "mcwf_ntraj_study.toml")
    table = run_sweep(spec, tmp_path / "study.sweep", workers=1, progress=False)
    assert table.ok.all() and len(table["method"]) == 2 * (1 + 3)
    # the columns the comment tells users to print and compare are the table's
    shown = re.search(r"--show (\S+)", text).group(1).split(",")
    assert set(shown) <= set(table.names), set(shown) - set(table.names)
    for col in re.findall(r"columns (\w+) and (\w+)", text)[0] + ("opt_ntraj",):
        assert col in table.names and col in shown
    is_mcwf = np.asarray(table["method"]) == "mcwf"
    # standard errors: positive for MCWF rows, NaN for the exact ones
    assert (table["final_xi2_err"][is_mcwf] > 0).all() and np.isnan(table["final_xi2_err"][~is_mcwf]).all()
    assert (table["min_xi2_err"][is_mcwf] > 0).all() and np.isnan(table["min_xi2_err"][~is_mcwf]).all()
    # and they are the Result's own jackknife errors: rerun one point outside the sweep
    p = [q for q in spec.expand() if q.method == "mcwf"][0]
    res = ps.evolve(p.model, p.times, method="mcwf", **dict(p.options, workers=1))
    assert table["final_xi2_err"][p.index] == res.extras["xi2_err"][-1]
    method, ratio = np.asarray(table["method"]), np.asarray(table["ratio"])
    ntraj = np.asarray(table["opt_ntraj"]).astype(str)  # option columns hold JSON text ("null" for exact)
    for r in (0.8, 0.95):
        exact = table["final_xi2"][(method == "exact") & (ratio == r)][0]
        # the standard error of a 256-trajectory ensemble at this point (its size does not depend on the seed)
        m = ps.Model.from_upsilon_ratio(10, r, chi=1.0, gamma_s=1.0)
        se = ps.evolve(m, np.linspace(0, 1.0, 51), method="mcwf", ntraj=256, seed=7).extras["xi2_err"][-1]
        x = table["final_xi2"][(method == "mcwf") & (ratio == r) & (ntraj == "256")][0]
        assert abs(x - exact) <= 5 * se  # the validation's 5 standard errors


def test_tutorial_notebook_executes():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(EXAMPLES / "tutorial.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()  # raises CellExecutionError on any failing cell
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "no transient squeezing" in text and "REPRODUCED claim_early_dip" in text
    assert "fig3b.png" in text
