"""Sweeps that are never quietly empty, sweep files and output locations checked before any work,
and inputs refused by name (issue 24 part B).

This module doubles as a tiny method plugin (``method = "test_sweep_ux"``): a static coherent spin
state (its moments are ``css_moments``), which fails on request, so that the failure paths run
without a numerical method (and without numba compiling anything).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import piqs_squeeze as ps
from piqs_squeeze.cli import main
from piqs_squeeze.result import Result
from piqs_squeeze.runtime.fileio import NotWritableError, ensure_writable
from piqs_squeeze.states import css_moments
from piqs_squeeze.sweep import SweepFailedError, SweepSpec, SweepWarning, run_sweep
from piqs_squeeze.sweep.spec import TIME_UNITS

TOY = __name__  # importable by name: tests/ is on sys.path
ROOT = Path(__file__).resolve().parents[1]
#: root may write into a chmod 555 directory; the read-only cases then test nothing
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


# --------------------------------------------------------------------------- toy method plugin
def evolve(model, times, initial=None, fail_omega=None, fail_all=False):
    """A CSS along -x that does not move; fails at ``omega == fail_omega`` or everywhere."""
    if fail_all or (fail_omega is not None and model.omega == fail_omega):
        raise RuntimeError(f"toy failure at omega={model.omega}")
    mean, second = css_moments(model.N, np.pi / 2, np.pi)
    return Result(times, [mean] * len(times), [second] * len(times), model, "toy")


def toy(**over):
    d = {"fixed": {"N": 4}, "grid": {"omega": [0.5, 1.0, 2.0]}, "times": [0.0, 0.5],
         "methods": [{"method": TOY, "options": {}}], "summaries": ["final"], "name": "toy"}
    d.update(over)
    return d


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


BLOCKED = "{tmp}/a_file/sub"  # a directory under a regular file: uncreatable for every user, root too


def blocked(tmp_path) -> Path:
    (tmp_path / "a_file").write_text("x")
    return Path(BLOCKED.format(tmp=tmp_path))


# --------------------------------------------------------------------------- ensure_writable
def test_ensure_writable_creates_directories_and_names_what_fails(tmp_path):
    target = tmp_path / "new" / "deep"
    assert ensure_writable(target, "sweep directory") == target and target.is_dir()
    assert list(target.iterdir()) == []  # the probe file is gone
    with pytest.raises(NotWritableError, match=r"MCWF checkpoint '.*a_file/sub' is not writable"):
        ensure_writable(blocked(tmp_path), "MCWF checkpoint")
    # a file target: its directory must exist or be creatable; a directory is not a file name
    assert ensure_writable(tmp_path / "x" / "res.npz", "Result.save target", is_dir=False)
    with pytest.raises(NotWritableError, match="is a directory"):
        ensure_writable(tmp_path, "Result.save target", is_dir=False)
    assert issubclass(NotWritableError, OSError)


@pytest.mark.skipif(AS_ROOT, reason="root writes into read-only directories")
def test_ensure_writable_refuses_a_read_only_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(NotWritableError, match="cannot create files"):
            ensure_writable(ro, "figure --out")
        with pytest.raises(NotWritableError, match="cannot create"):
            ensure_writable(ro / "sub", "figure --out")
    finally:
        ro.chmod(0o755)


# --------------------------------------------------------------------------- sweep files checked up front
def test_a_wrong_time_unit_is_refused_with_the_valid_units():
    with pytest.raises(ValueError, match="times.unit = 'gamma_ss'") as exc:
        SweepSpec.from_dict(toy(times={"t_end": 1.0, "unit": "gamma_ss", "num": 3}))
    assert all(u in str(exc.value) for u in TIME_UNITS)
    # every listed unit is a rate the Model has (times_for divides by it)
    m = ps.Model(4, omega=1.0, chi=1.0, gamma_s=1.0, dephasing=1.0, pumping=1.0, collective_dephasing=1.0,
                 collective_pumping=1.0)
    assert all(float(getattr(m, u)) > 0 for u in TIME_UNITS)
    assert SweepSpec.from_dict(toy(times={"t_end": 1.0, "unit": "gamma_s", "num": 3}))
    with pytest.raises(TypeError, match="times.t_end must be a number"):
        SweepSpec.from_dict(toy(times={"t_end": "5", "num": 3}))


@pytest.mark.parametrize("where", ["fixed", "points"])
def test_a_parameter_both_gridded_and_fixed_is_refused(where):
    spec = toy(fixed={"N": 4, "omega": 3.0}) if where == "fixed" else toy(points=[{"N": 4}, {"omega": 3.0}])
    with pytest.raises(ValueError, match=r"\['omega'\] are both in (fixed|points\[1\]) and in grid"):
        SweepSpec.from_dict(spec)
    # one Hamiltonian term under two spellings is the same parameter
    with pytest.raises(ValueError, match="both in fixed and in grid"):
        SweepSpec.from_dict(toy(fixed={"N": 4, "hamiltonian.Jz Jx": 1.0}, grid={"hamiltonian.Jx  Jz": [0.0, 1.0]}))
    # a points entry may still override fixed (documented), and distinct terms combine
    assert SweepSpec.from_dict(toy(fixed={"N": 4, "omega": 1.0}, grid={}, points=[{"omega": 2.0}])).expand()


@pytest.mark.parametrize("suffix, text, line", [
    (".toml", 'name = "x"\n[fixed]\nN = 4\nomega = = 1\n', 4),
    (".json", '{"fixed": {"N": 4},\n "grid": {"omega": [1, 2,]}}\n', 2),
    (".yaml", 'fixed:\n  N: 4\ngrid:\n  omega: [1, 2\ntimes: [0, 1]\n', 5),
])
def test_a_syntax_error_names_the_file_and_the_line(tmp_path, suffix, text, line):
    if suffix == ".yaml":
        pytest.importorskip("yaml")
    path = write(tmp_path / f"broken{suffix}", text)
    with pytest.raises(ValueError, match=rf"broken\{suffix}: .*syntax error.*line {line}"):
        SweepSpec.from_file(path)


def test_config_errors_name_the_file(tmp_path):
    path = write(tmp_path / "typo.json", json.dumps(toy(grid={"Omega": [1.0]})))
    with pytest.raises(ValueError, match=r"typo\.json: .*'Omega'"):
        SweepSpec.from_file(path)
    path = write(tmp_path / "list.json", "[1, 2]")
    with pytest.raises(ValueError, match=r"list\.json: the top level must be a table"):
        SweepSpec.from_file(path)


# --------------------------------------------------------------------------- never quietly empty
def test_all_points_failed_raises_with_the_table(tmp_path):
    spec = toy(methods=[{"method": TOY, "options": {"fail_all": True}}])
    with pytest.raises(SweepFailedError, match=r"all 3 points failed; first error \(point 0\): "
                                               r"RuntimeError: toy failure at omega=0\.5") as exc:
        run_sweep(spec, tmp_path / "s", workers=1, progress=False)
    table = exc.value.table
    assert len(table) == 3 and not table.ok.any() and "final_xi2" not in table.names  # no summary at all
    assert (tmp_path / "s" / "table.npz").is_file()  # the failures are on disk too
    # resumed: the stored failures are reused (not recomputed), said with their number and the fix
    with pytest.warns(SweepWarning, match=r"3 of 3 points failed in an earlier run .* rerun_errors=True"
                                          r".*--resume --rerun-errors"):
        with pytest.raises(SweepFailedError, match="3 of them reused"):
            run_sweep(spec, tmp_path / "s", workers=1, progress=False)
    with pytest.raises(SweepFailedError) as exc:
        run_sweep(spec, tmp_path / "s", workers=1, progress=False, rerun_errors=True)
    assert exc.value.table.stats["points_computed"] == 3 and exc.value.table.stats["errors_loaded"] == 0


def test_some_points_failed_warns_with_the_count_and_the_first_error():
    spec = toy(methods=[{"method": TOY, "options": {"fail_omega": 1.0}}])
    with pytest.warns(SweepWarning, match=r"1 of 3 points failed; first error \(point 1\): RuntimeError: "
                                          r"toy failure at omega=1\.0"):
        table = run_sweep(spec, workers=1, progress=False)
    assert table.ok.tolist() == [True, False, True] and table.stats["points_failed"] == 1
    ref = css_moments(4, np.pi / 2, np.pi)  # the survivors hold the toy's own (coherent-state) numbers
    assert table["final_n_eff"][0] == pytest.approx(ps.observables.n_eff(ref[1][None])[0], rel=1e-14)


def test_a_clean_sweep_says_nothing(recwarn):
    table = run_sweep(toy(), workers=1, progress=False)
    assert table.ok.all() and not [w for w in recwarn if issubclass(w.category, SweepWarning)]


# --------------------------------------------------------------------------- the command line
def test_sweep_cli_exit_codes(tmp_path, capsys):
    def config(name, **over):
        return str(write(tmp_path / f"{name}.json", json.dumps(toy(**over))))

    def run(*argv):
        status = main(["sweep", *argv, "--workers", "1", "--no-progress"])
        return status, capsys.readouterr()

    # refused before computing: exit 2, no sweep directory made
    bad_unit = config("unit", times={"t_end": 1.0, "unit": "gamma_ss", "num": 3})
    status, out = run(bad_unit)
    assert status == 2 and "valid units: gamma, gamma_s" in out.err and not (tmp_path / "unit.sweep").exists()
    status, out = run(config("dup", fixed={"N": 4, "omega": 1.0}))
    assert status == 2 and "['omega'] are both in fixed and in grid" in out.err
    status, out = run(str(write(tmp_path / "syntax.toml", "[fixed]\nN = \n")))
    assert status == 2 and "syntax.toml: TOML syntax error" in out.err and "line 2" in out.err
    status, out = run(config("ok"), "--out", str(blocked(tmp_path)))
    assert status == 2 and "sweep directory" in out.err and "not writable" in out.err
    # every point failed: exit 1, each listed, the retry named
    failing = config("fail", methods=[{"method": TOY, "options": {"fail_all": True}}])
    status, out = run(failing)
    assert status == 1 and "all 3 of 3 points failed" in out.err and out.err.count("toy failure") == 3
    status, out = run(failing, "--resume")
    assert status == 1 and "3 of 3 points failed in an earlier run" in out.err and "--rerun-errors" in out.err
    status, out = run(config("ok"), "--show", "omega,final_xi2")
    assert status == 0 and out.out.splitlines()[-4].split() == ["omega", "final_xi2"]
    assert [float(v) for v in out.out.splitlines()[-1].split()] == [2.0, 1.0]  # a CSS: xi^2 = 1


def test_validate_and_figure_refuse_an_unwritable_out_before_any_work(tmp_path, capsys):
    target = str(blocked(tmp_path))
    assert main(["validate", "--out", target]) == 2
    err = capsys.readouterr().err
    assert "validate --out" in err and "not writable" in err
    assert main(["figure", "fig1a", "--quick", "--out", target]) == 2
    assert "figure --out" in capsys.readouterr().err
    assert main(["run", "--N", "4", "--out", target]) == 2
    assert "run --out" in capsys.readouterr().err
    assert not (tmp_path / "a_file").is_dir()


@pytest.mark.skipif(AS_ROOT, reason="root writes into read-only directories")
def test_cli_refuses_a_read_only_out(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert main(["validate", "--out", str(ro)]) == 2
        assert main(["figure", "fig1a", "--quick", "--out", str(ro / "figs")]) == 2
        assert "not writable" in capsys.readouterr().err and list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


# --------------------------------------------------------------------------- inputs refused by name
def test_integral_float_N_is_that_integer_and_others_are_refused():
    m = ps.Model(N=20.0, omega=1.0)
    assert type(m.N) is int and m == ps.Model(N=20, omega=1.0) and m.to_dict() == ps.Model(20, omega=1.0).to_dict()
    assert ps.Model(N=np.float64(1e4)).N == 10_000
    for bad in (20.5, "20", True, float("nan")):
        with pytest.raises(TypeError, match="N must be an integer"):
            ps.Model(N=bad)


@pytest.mark.parametrize("times", [["0", "0.5", "1"], "0 1", np.array(["0", "1"]), [0.0, "1"]])
def test_times_given_as_strings_are_refused(times):
    model = ps.Model(4, omega=1.0)
    with pytest.raises(TypeError, match="times must be numbers"):
        ps.evolve(model, times, method="meanfield")
    with pytest.raises(TypeError, match="times must be numbers"):
        SweepSpec.from_dict(toy(times=times))


def test_other_non_numeric_times_are_refused():
    with pytest.raises(TypeError, match="times must be real numbers"):
        ps.evolve(ps.Model(4), [0.0, 1j], method="meanfield")
    with pytest.raises(TypeError, match=r"times\[1\] must be numbers"):
        ps.evolve([ps.Model(4), ps.Model(4)], [[0.0, 1.0], ["0", "2"]], method="meanfield")
