"""Sweeps: grid expansion, identical numbers on every executor, errors, checkpoints, kill/resume, CLI.

This module doubles as a tiny method plugin (``method = "test_sweep"``): a coherent spin state
rotating under H = omega Jx, which stays a CSS, so its moments are ``css_moments`` along the
rotated direction. It can sleep, count its calls in a directory and fail on request, which the
sweep machinery needs to be tested with; the real methods are swept as well when available.
"""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

import piqs_squeeze as ps
from piqs_squeeze import analysis
from piqs_squeeze.result import Result
from piqs_squeeze.states import css, css_moments
from piqs_squeeze.sweep import SweepMismatchError, SweepSpec, SweepTable, load_sweep, make_chunks, plot_curve, plot_map, register_summary, run_sweep

TOY = __name__  # importable as a module by process and Dask workers (tests/ is on sys.path)
TESTS_DIR = str(Path(__file__).resolve().parent)


# --------------------------------------------------------------------------- toy method plugin
def unsupported(model):
    if model.gamma or model.chi or not model.is_collective or model.collective_dephasing or model.collective_pumping:
        return "toy method: H = omega Jx only (gamma = chi = 0, no other process)"
    return None


def evolve(model, times, initial=None, sleep=0.0, counter=None, fail_omega=None, kill_omega=None):
    """CSS rotated about x: d<Jy>/dt = -omega <Jz>, d<Jz>/dt = omega <Jy>."""
    if fail_omega is not None and model.omega == fail_omega:
        raise RuntimeError(f"toy failure at omega={model.omega}")
    if kill_omega is not None and model.omega == kill_omega:
        os.kill(os.getpid(), signal.SIGKILL)  # a worker process dying (segfault, OOM kill)
    if counter:
        Path(counter, f"{model.omega!r}_{uuid.uuid4().hex}").touch()
    time.sleep(sleep)
    n = (initial or css()).direction
    c, s = np.cos(model.omega * times), np.sin(model.omega * times)
    y, z = n[1] * c - n[2] * s, n[1] * s + n[2] * c
    theta, phi = np.arccos(np.clip(z, -1, 1)), np.arctan2(y, np.full_like(y, n[0]))
    moms = [css_moments(model.N, th, ph) for th, ph in zip(theta, phi)]
    return Result(times, [m[0] for m in moms], [m[1] for m in moms], model, "toy",
                  options={"sleep": sleep})


def evolve_many(models, times, initial=None, **options):
    return [evolve(m, times, initial, **options) for m in models]


# --------------------------------------------------------------------------- helpers
def toy_spec(**over):
    d = {"fixed": {"N": 10, "gamma": 0.0}, "grid": {"omega": [0.5, 1.0, 2.0], "theta": [1.0, 1.5]},
         "times": {"t_end": 1.0, "num": 11}, "methods": [TOY], "summaries": ["final", "xi2_curve_min"],
         "chunk_size": 2}
    d.update(over)
    return d


def assert_same_table(a: SweepTable, b: SweepTable):
    assert a.names == b.names
    for k in a.names:
        if k == "elapsed":
            continue
        x, y = a[k], b[k]
        if x.dtype.kind == "f":
            np.testing.assert_array_equal(x, y, err_msg=k)  # bitwise: same chunks, same code
        else:
            assert x.tolist() == y.tolist(), k


def real_methods_spec():
    """Cheap points of every real method, for the executor-equality test."""
    fixed = {"N": 4, "chi": 1.0, "gamma": 1.0}  # exact takes ~0.3 s a point even here
    methods = ["meanfield", "cumulant", "exact", {"method": "mcwf", "options": {"ntraj": 8}},
               {"method": "carmichael", "kind": "steady_state"}]
    return {"fixed": fixed, "grid": {"ratio": [0.7, 1.1], "gamma_s": [0.0, 0.5]},
            "times": {"t_end": 0.5, "num": 6}, "methods": methods, "summaries": ["final"], "seed": 7}


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    # the toy plugin is this module: spawned Dask workers find it through PYTHONPATH
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [TESTS_DIR, os.environ.get("PYTHONPATH")]))
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


# --------------------------------------------------------------------------- spec
def test_grid_expansion_models_times_and_hash():
    spec = SweepSpec.from_dict({
        "fixed": {"N": 100, "chi": 1.0}, "grid": {"ratio": {"start": 0.5, "stop": 1.0, "num": 3},
                                                  "gamma_s": [0.0, 2.0]},
        "times": {"t_end": 5.0, "unit": "gamma_s", "num": 4},
        "methods": [{"method": "carmichael", "kind": "steady_state"},
                    {"method": TOY, "option_grid": {"sleep": [0, 0.0]}}],  # two option combinations
        "summaries": ["final"]})
    pts = spec.expand()
    assert len(pts) == 6 * (1 + 2)
    assert [p.index for p in pts] == list(range(18))
    assert [p.method for p in pts[:6]] == ["carmichael"] * 6 and pts[0].times is None
    # ratio -> omega = N ratio Upsilon_c / 2 with Upsilon_c = sqrt(1 + 4 chi^2) (Model.from_upsilon_ratio)
    p = pts[6 + 5]
    assert p.params == {"N": 100, "chi": 1.0, "ratio": 1.0, "gamma_s": 2.0}
    assert p.model.omega == pytest.approx(100 * 1.0 * math.sqrt(5.0) / 2, rel=1e-15)
    np.testing.assert_allclose(p.times, np.linspace(0, 5.0, 4) / 2.0, rtol=1e-15)
    # t = 5 / gamma_s is undefined at gamma_s = 0: that point carries the error, the rest is fine
    assert "gamma_s" in pts[6].error and pts[6].times is None and pts[7].error == ""
    # canonical form is a fixed point, so a reloaded manifest gives the same hash
    again = SweepSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again.hash == spec.hash and [q.key for q in again.expand()] == [q.key for q in pts]
    assert SweepSpec.from_dict(dict(toy_spec(), seed=1)).hash != SweepSpec.from_dict(toy_spec()).hash


def test_explicit_points_times_product_with_grid():
    spec = SweepSpec(fixed={"N": 4, "gamma": 0.0}, points=[{"omega": 1.0}, {"omega": 3.0, "N": 6}],
                     grid={"phi": [0.0, 1.0]}, methods=[TOY], times=[0.0, 0.1, 0.3], summaries=["final"])
    pts = spec.expand()
    assert [(p.model.N, p.model.omega, p.initial.phi) for p in pts] == [
        (4, 1.0, 0.0), (4, 1.0, 1.0), (6, 3.0, 0.0), (6, 3.0, 1.0)]
    np.testing.assert_array_equal(pts[0].times, [0.0, 0.1, 0.3])


@pytest.mark.parametrize("bad, exc, word", [
    ({"grid": {"Omega": [1.0]}}, ValueError, "Omega"),
    ({"methods": ["no_such_method"]}, ValueError, "no_such_method"),
    ({"fixed": {"N": 10, "gamma": 0.0, "ratio": 0.5}}, ValueError, "one of omega"),  # grid has omega
    ({"times": {"num": 5}}, ValueError, "t_end"),
    ({"grid": {"omega": []}}, ValueError, "omega"),
    ({"chunk_size": 0}, ValueError, "chunk_size"),
    ({"summaries": ["nope"]}, ValueError, "nope"),
    ({"colour": 1}, ValueError, "colour"),
    ({"fixed": {"N": 10, "gamma": -1.0}}, ValueError, "gamma"),
])
def test_bad_specs_name_the_parameter(bad, exc, word):
    with pytest.raises(exc, match=word):
        SweepSpec.from_dict(toy_spec(**bad)).expand()


def test_chunks_depend_on_spec_only():
    spec = SweepSpec.from_dict(toy_spec(chunk_size=None, grid={"omega": list(np.linspace(0, 3, 130))}))
    chunks = make_chunks(spec.expand(), spec)
    # batched toy: ceil(130 / MIN_CHUNKS=64) = 3 per chunk -> 44 chunks of 2 or 3, all indices once
    assert len(chunks) == 44 and {len(c) for c in chunks} == {2, 3}
    assert sorted(p.index for c in chunks for p in c) == list(range(130))
    mixed = SweepSpec.from_dict(toy_spec(grid={"omega": [1.0, 2.0, 3.0]}, points=[{"theta": 1.0}, {"theta": 2.0}]))
    # different initial states cannot share a batched call
    assert all(len({p.initial for p in c}) == 1 for c in make_chunks(mixed.expand(), mixed))


# --------------------------------------------------------------------------- executors
def test_serial_processes_dask_give_identical_tables(dask_client, tmp_path):
    spec = toy_spec()
    serial = run_sweep(spec, workers=1, progress=False)
    assert serial.stats["workers"] == 1 and serial.ok.all()
    procs = run_sweep(spec, workers=2, progress=False)
    dask = run_sweep(spec, executor=dask_client, progress=False)
    # the --scheduler ADDRESS path: connect a new client to the running cluster
    remote = run_sweep(spec, scheduler=dask_client.scheduler.address, progress=False)
    assert procs.stats["workers"] == 2 and dask.stats["workers"] == 2 and remote.stats["workers"] == 2
    assert_same_table(serial, procs)
    assert_same_table(serial, dask)
    assert_same_table(serial, remote)
    # the toy values themselves: a CSS stays a CSS, xi^2 = 1 and N_eff = N at every time (to rounding)
    np.testing.assert_allclose(serial["final_xi2"], 1.0, rtol=1e-12)
    np.testing.assert_allclose(serial["final_n_eff"], 10.0, rtol=1e-12)


def test_real_methods_identical_on_every_executor(dask_client):
    spec = real_methods_spec()
    if not spec["methods"]:
        pytest.skip("no real method available yet")
    serial = run_sweep(spec, workers=1, progress=False)
    procs = run_sweep(spec, workers=2, progress=False)
    dask = run_sweep(spec, executor=dask_client.get_executor(), workers=2, progress=False)
    assert_same_table(serial, procs)
    assert_same_table(serial, dask)
    # every method ran something: unsupported models are errors, but no method failed everywhere
    for m in set(serial["method"].tolist()):
        assert serial.select(method=m).ok.any(), (m, serial.select(method=m)["error"])


# --------------------------------------------------------------------------- errors
def test_failing_points_record_their_error_and_the_rest_completes():
    spec = toy_spec(grid={"omega": [0.5, 1.0, 2.0, 4.0]}, points=[{"gamma": 0.0}, {"gamma": 1.0}],
                    methods=[{"method": TOY, "options": {"fail_omega": 2.0}}], chunk_size=4)
    table = run_sweep(spec, workers=1, progress=False)
    err = dict(zip(table["index"].tolist(), table["error"].tolist()))
    assert err[2] == "RuntimeError: toy failure at omega=2.0"
    assert all("toy method: H = omega Jx only" in err[i] for i in range(4, 8))
    assert [i for i, e in err.items() if e == ""] == [0, 1, 3]
    # the batch of chunk 0 failed and was retried point by point: the survivors are correct
    for i in (0, 1, 3):
        res = evolve(ps.Model(10, omega=table["omega"][i], gamma=0.0), np.linspace(0, 1, 11))
        assert table["final_xi2"][i] == res.xi2[-1] and table["final_n_eff"][i] == res.n_eff[-1]
    assert np.isnan(table["final_xi2"][[2, 4, 5, 6, 7]]).all()


def test_a_worker_killed_by_one_point_costs_only_that_point(tmp_path):
    """One point SIGKILLs its worker: the pool is replaced, every other point is computed, the
    bad one is recorded as "worker died" (persisted: a resume does not loop on it), and
    ``rerun_errors`` tries it again."""
    spec = toy_spec(grid={"omega": [0.5, 1.0, 2.0, 4.0, 3.0, 5.0, 6.0, 7.0]}, chunk_size=1,
                    methods=[{"method": TOY, "options": {"kill_omega": 4.0, "sleep": 0.1}}])
    spec["grid"]["theta"] = [1.0]
    with pytest.warns(UserWarning, match="worker process died"):
        table = run_sweep(spec, tmp_path / "d", workers=2, progress=False)
    err = dict(zip(table["omega"].tolist(), table["error"].tolist()))
    assert err.pop(4.0).startswith("worker died")
    assert set(err.values()) == {""}, err
    ref = run_sweep(dict(spec, methods=[{"method": TOY, "options": {"sleep": 0.1}}]), workers=1, progress=False)
    good = table.ok
    np.testing.assert_array_equal(table["final_xi2"][good], ref["final_xi2"][good])
    again = run_sweep(spec, tmp_path / "d", workers=2, resume=True, progress=False)
    assert again.stats["points_computed"] == 0 and again.stats["points_loaded"] == 8
    with pytest.warns(UserWarning, match="worker process died"):
        rerun = run_sweep(spec, tmp_path / "d", workers=2, resume=True, rerun_errors=True, progress=False)
    assert rerun.stats["points_computed"] == 1 and (~rerun.ok).sum() == 1


# --------------------------------------------------------------------------- persistence
def test_resume_loads_and_changes_are_detected(tmp_path):
    out = tmp_path / "sw"
    first = run_sweep(toy_spec(save_results=True), out, workers=1, progress=False)
    # two initial states (theta) cannot share a batch: 2 groups of 3 points in chunks of 2 and 1
    assert first.stats["points_computed"] == 6 and len(list((out / "chunks").glob("*.json"))) == 4
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "chunks").glob("*.json")}
    again = run_sweep(toy_spec(save_results=True), out, workers=1, progress=False)
    assert again.stats["points_computed"] == 0 and again.stats["points_loaded"] == 6
    assert {p: p.stat().st_mtime_ns for p in (out / "chunks").glob("*.json")} == mtimes
    assert_same_table(first, again)
    assert_same_table(first, load_sweep(out))
    assert_same_table(first, SweepTable.load(out / "table.npz"))
    # full Results were saved per point and reload exactly
    r = first.result(3)
    np.testing.assert_array_equal(r.second, evolve(r.model, r.times, css(1.5)).second)
    with pytest.raises(SweepMismatchError, match="resume"):
        run_sweep(toy_spec(save_results=True), out, workers=1, resume=False, progress=False)
    with pytest.raises(SweepMismatchError, match=r"grid.omega"):
        run_sweep(toy_spec(save_results=True, grid={"omega": [0.5, 1.0], "theta": [1.0, 1.5]}), out,
                  workers=1, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    # any change of the package source, of a library that computes, or of the custom method's file
    for key, match in (("piqs_squeeze", "the piqs_squeeze source: "), ("numpy", "numpy: "),
                       (f"module:{TOY}", f"module:{TOY}: ")):
        assert key in manifest["code"]
        code = dict(manifest["code"], **{key: "0123456789abcdef"})
        (out / "manifest.json").write_text(json.dumps(dict(manifest, code=code)))
        with pytest.raises(SweepMismatchError, match=f"code changed.*{match}.*--force"):
            run_sweep(toy_spec(save_results=True), out, workers=1, progress=False)
    forced = run_sweep(toy_spec(), out, workers=1, force=True, progress=False)
    assert forced.stats["points_computed"] == 6 and not list((out / "results").glob("*.npz"))
    # resume + force: the same sweep is continued, a changed one restarted
    assert run_sweep(toy_spec(), out, workers=1, force=True, progress=False).stats["points_computed"] == 0
    changed = run_sweep(toy_spec(grid={"omega": [3.0], "theta": [1.0]}), out, workers=1, force=True, progress=False)
    assert changed.stats["points_computed"] == 1 and len(list((out / "chunks").glob("*.json"))) == 1
    assert run_sweep(toy_spec(), out, workers=1, resume=False, force=True,
                     progress=False).stats["points_computed"] == 6


def test_sigkill_mid_run_then_resume(tmp_path):
    """Kill a CLI sweep (2 worker processes) with SIGKILL, resume, compare with an uninterrupted run."""
    counter = tmp_path / "calls"
    counter.mkdir()
    spec = toy_spec(grid={"omega": list(np.linspace(0.1, 4.0, 24))}, chunk_size=2,
                    methods=[{"method": TOY, "options": {"sleep": 0.15, "counter": str(counter)}}])
    cfg = tmp_path / "kill.json"
    cfg.write_text(json.dumps(spec))
    out = tmp_path / "kill.sweep"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [TESTS_DIR, os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-m", "piqs_squeeze.cli", "sweep", str(cfg), "--out", str(out),
                             "--workers", "2", "--no-progress"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while len(list((out / "chunks").glob("c*.json"))) < 4 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes (its own session)
    proc.wait()
    before = {p: p.stat().st_mtime_ns for p in (out / "chunks").glob("c*.json")}
    assert 4 <= len(before) < 12, "the kill should land mid-run"
    for p in before:  # every file present after the kill is complete
        assert len(json.loads(p.read_text())["records"]) == 2
    done_before = {r["index"] for p in before for r in json.loads(p.read_text())["records"]}
    resumed = run_sweep(cfg, out, workers=1, progress=False)
    assert resumed.stats["points_loaded"] == len(done_before)
    assert resumed.stats["points_computed"] == 24 - len(done_before)
    assert {p: p.stat().st_mtime_ns for p in before} == before  # finished chunks untouched
    # count calls per omega: the points finished before the kill ran exactly once
    calls = {}
    for f in counter.iterdir():
        om = float(f.name.split("_")[0])
        calls[om] = calls.get(om, 0) + 1
    omegas = resumed["omega"]
    assert all(calls[omegas[i]] == 1 for i in done_before)
    reference = run_sweep(dict(spec, methods=[{"method": TOY, "options": {"sleep": 0.0, "counter": str(counter)}}]),
                          workers=1, progress=False)
    for k in ("final_xi2", "final_n_eff", "xi2_curve_min", "omega"):
        np.testing.assert_array_equal(resumed[k], reference[k])
    assert resumed.ok.all()


def test_cli_sweep_from_toml(tmp_path, capsys):
    from piqs_squeeze.cli import main

    cfg = tmp_path / "s.toml"
    cfg.write_text(f"""
name = "cli"
methods = ["{TOY}"]
summaries = ["final", {{name = "xi2_curve_min", label = "m"}}]
chunk_size = 2
[fixed]
N = 10
gamma = 0.0
[grid]
omega = [0.5, 1.0, 2.0]
theta = [1.0, 1.5]
[times]
t_end = 1.0
num = 11
""")
    assert main(["sweep", str(cfg), "--workers", "1", "--no-progress"]) == 0
    assert "6 points: 6 computed" in capsys.readouterr().out
    table = SweepTable.load(tmp_path / "s.sweep" / "table.npz")
    api_table = run_sweep(toy_spec(summaries=["final", {"name": "xi2_curve_min", "label": "m"}], name="cli"),
                          workers=1, progress=False)
    assert_same_table(api_table, table)
    assert main(["sweep", str(cfg), "--workers", "1", "--no-progress"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["sweep", str(cfg), "--resume", "--no-progress"]) == 0
    assert "0 computed" in capsys.readouterr().out


# --------------------------------------------------------------------------- table, plots, summaries
def _late_xi2(result, t_min=0.0):
    m = result.times >= t_min
    return {"": float(result.xi2[m][-1]), "n": float(m.sum())}


def test_table_pivot_plots_and_custom_summary():
    register_summary("late_xi2", _late_xi2)
    spec = toy_spec(summaries=["final", {"name": "late_xi2", "t_min": 0.55}])
    table = run_sweep(spec, workers=1, progress=False)
    assert table["late_xi2_n"].tolist() == [5.0] * 6  # t = 0.6 ... 1.0
    np.testing.assert_array_equal(table["late_xi2"], table["final_xi2"])
    xs, ys, grid = table.pivot("final_n_eff", "omega", "theta")
    assert grid.shape == (2, 3) and xs.tolist() == [0.5, 1.0, 2.0] and ys.tolist() == [1.0, 1.5]
    assert grid[1, 2] == table.select(omega=2.0, theta=1.5)["final_n_eff"][0]
    with pytest.raises(ValueError, match="repeats"):
        table.pivot("final_xi2", "omega")
    data = table.data
    assert data.dtype.names == tuple(table.names) and data["error"].tolist() == [""] * 6
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2)
    plot_curve(table, "omega", "final_xi2", by="theta", ax=a1)
    assert len(a1.lines) == 2
    mesh = plot_map(table, "omega", "theta", "final_n_eff", ax=a2)
    assert mesh.get_array().size == 6
    plt.close(fig)


def test_to_xarray_labels_grid_axes():
    xr = pytest.importorskip("xarray")
    table = run_sweep(toy_spec(), workers=1, progress=False)
    ds = table.to_xarray()
    assert isinstance(ds, xr.Dataset) and ds["final_n_eff"].dims == ("omega", "theta")
    for row in range(len(table)):
        cell = ds["final_xi2"].sel(omega=table["omega"][row], theta=table["theta"][row])
        assert float(cell) == table["final_xi2"][row]


def test_analysis_summaries_match_the_saved_results(tmp_path):
    spec = {"fixed": {"N": 2000, "chi": 1.0}, "grid": {"ratio": [0.6, 0.9], "gamma_s": [2.0, 20.0]},
            "times": {"t_end": 0.5, "unit": "gamma_s", "num": 101}, "methods": ["cumulant"],
            "summaries": ["min_transient_xi2", {"name": "min_xi2", "t_min": 0.003, "label": "late"},
                          "neff_crossing"], "save_results": True}
    table = run_sweep(spec, tmp_path / "a", workers=1, progress=False)
    assert table.ok.all()
    for i in range(len(table)):
        res = table.result(i)
        # t = 0.5 / gamma_s (the times rule) and the summaries are analysis' own numbers, exactly
        assert res.times[-1] == pytest.approx(0.5 / table["gamma_s"][i], rel=1e-15)
        assert (table["min_transient_xi2"][i], table["min_transient_xi2_time"][i]) == analysis.min_transient_xi2(res)
        assert (table["late"][i], table["late_time"][i]) == analysis.min_xi2(res, t_min=0.003)
        assert table["late_time"][i] >= 0.003
        np.testing.assert_equal(table["neff_crossing"][i], analysis.neff_crossing_time(res))
        assert table["min_transient_xi2_db"][i] == pytest.approx(10 * np.log10(table["min_transient_xi2"][i]))


def test_code_fingerprint_covers_every_module_of_the_package(tmp_path):
    """An edit to any module (here a step-size constant of the moment integrator, which no
    method's own module holds) changes the fingerprint that sweeps, figure caches and MCWF
    checkpoints must match."""
    import shutil

    src = Path(ps.__file__).parent
    pkg = tmp_path / "piqs_squeeze"
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    probe = "from piqs_squeeze.runtime.provenance import code_fingerprint; print(code_fingerprint()['piqs_squeeze'])"

    def fingerprint():
        env = dict(os.environ, PYTHONPATH=str(tmp_path))
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    before = fingerprint()
    target = pkg / "methods" / "moments" / "integrator.py"
    target.write_text(target.read_text() + "\n_EDITED = 1.0\n")
    assert fingerprint() != before


def test_sweep_over_a_hamiltonian_term_with_the_exact_method():
    """``hamiltonian.Jz`` in the grid sets that term of each point's Model (on top of a fixed term),
    and the table holds what the exact solver gives for those Models."""
    from piqs_squeeze.methods.exact import solver as exact

    spec = {"fixed": {"N": 4, "omega": 1.0, "gamma_s": 0.2, "hamiltonian.Jz Jz": 0.5},
            "grid": {"hamiltonian.Jz": [0.0, 0.8]}, "methods": [{"method": "exact", "options": {"rtol": 1e-9}}],
            "times": [0.0, 0.5, 1.0], "summaries": ["final"]}
    pts = SweepSpec.from_dict(spec).expand()
    assert [dict(p.model.hamiltonian) for p in pts] == [{"Jz Jz": 0.5}, {"Jz": 0.8, "Jz Jz": 0.5}]
    table = run_sweep(spec, workers=1, progress=False)
    assert table.ok.all()
    for p, xi2 in zip(pts, table["final_xi2"]):
        ref = exact.evolve(p.model, p.times, rtol=1e-9)
        assert xi2 == pytest.approx(ref.xi2[-1], rel=1e-12)
    assert table["final_xi2"][0] != pytest.approx(table["final_xi2"][1], rel=1e-3)
    with pytest.raises(ValueError, match="hamiltonian.Jw"):
        SweepSpec.from_dict(dict(spec, grid={"hamiltonian.Jw": [1.0]}))
    # the term parameters pass next to the method's checked options; a former option name does not
    with pytest.raises(ValueError, match="did you mean 'scheme'"):
        SweepSpec.from_dict(dict(spec, methods=[{"method": "exact", "options": {"stepper": "sai"}}]))
