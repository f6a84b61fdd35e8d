import subprocess
import sys

import pytest

import piqs_squeeze as ps
from piqs_squeeze.cli import SUBCOMMANDS, main


def test_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


@pytest.mark.parametrize("name", list(SUBCOMMANDS))
def test_subcommand_help(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0


def test_console_script_installed():
    out = subprocess.run([sys.executable, "-m", "piqs_squeeze.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and ps.__version__ in out.stdout


def test_run_saves_results_and_plot(tmp_path, capsys):
    methods = ["exact", "cumulant", "meanfield"]
    argv = ["run", "--N", "4", "--t-max", "0.5", "--n-times", "6", "--out", str(tmp_path)]
    for m in methods:
        argv += ["--method", m]
    assert main(argv) == 0
    for m in methods:
        r = ps.Result.load(tmp_path / f"{m}.npz")
        assert r.model.N == 4 and r.times.size == 6
        assert r.xi2[0] == pytest.approx(1.0, abs=1e-8)  # starts in a coherent spin state
    assert (tmp_path / "run.png").stat().st_size > 0 and (tmp_path / "run.pdf").stat().st_size > 0


def test_run_bad_input_exit_code(tmp_path, capsys):
    assert main(["run", "--N", "0", "--out", str(tmp_path)]) == 2
    assert "N must be" in capsys.readouterr().err


def test_run_with_hamiltonian_terms(tmp_path, capsys):
    argv = ["run", "--N", "4", "--t-max", "0.5", "--n-times", "6", "--out", str(tmp_path), "--method", "exact",
            "--method", "cumulant", "--term", "Jz Jz=1.0", "--term", "Jy=0.5"]
    assert main(argv) == 0
    ex = ps.Result.load(tmp_path / "exact.npz")
    assert dict(ex.model.hamiltonian) == {"Jy": 0.5, "Jz Jz": 1.0}
    direct = ps.evolve(ex.model, ex.times, method="exact", initial=ps.css())
    assert ex.mean.tobytes() == direct.mean.tobytes()
    assert main(["run", "--N", "4", "--out", str(tmp_path), "--term", "Jzz=1"]) == 2
    assert "unknown term 'Jzz'" in capsys.readouterr().err
    assert main(["run", "--N", "4", "--out", str(tmp_path), "--term", "Jz"]) == 2
    assert "expected 'KEY=VALUE'" in capsys.readouterr().err
