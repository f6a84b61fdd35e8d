"""The README's example and commands are what users copy: keep them working."""
import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(tmp_path, monkeypatch):
    code = re.search(r"## A short example\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(code, "README.md", "exec"), ns)
    assert (tmp_path / "n40.npz").is_file()
    assert ns["res"].xi2_db.min() < 0  # squeezed below Upsilon_c
    assert ns["ss"].times.tolist() == [float("inf")]


def test_readme_general_hamiltonian_example_runs():
    code = re.search(r"## General Hamiltonians, ramps and protocols\n.*?```python\n(.*?)```", README.read_text(),
                     re.S).group(1)
    ns = {}
    exec(compile(code, "README.md", "exec"), ns)
    assert ns["res"].model.time_dependent and np.all(np.isfinite(ns["res"].xi2[1:]))
    assert dict(ns["tact"].hamiltonian) == pytest.approx(dict(ns["same"].hamiltonian), abs=1e-12)


def test_ci_runs_the_readme_test_command():
    ci = (README.parent / ".ci" / "run").read_text()
    command = re.search(r"python -m pip install[^\n]*pytest[^\n]*", ci).group(0)
    assert command in README.read_text()
