"""Worker processes where physicists run code (issue 24): plain scripts without a main guard,
stdin, notebooks, functions defined there (def and lambda), Ctrl-C, read-only checkpoints; MCWF
initial states as qutip Qobjs; Result.save after a callable ramp; MCWF ensembles on Dask.

Every parallel run is compared byte for byte with the same run done serially in this process:
each trajectory / sweep point depends only on its seed, so workers, executors and the way the
process was started must not change a bit.
"""
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import _thread
from pathlib import Path

import numpy as np
import pytest

import piqs_squeeze as ps
from piqs_squeeze.methods.exact import solver as exact
from piqs_squeeze.methods.mcwf import ensemble as mcwf
from piqs_squeeze.runtime.fileio import NotWritableError
from piqs_squeeze.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]

# The user's code, as it would be typed into a script or a notebook: a constant and a ramped
# MCWF run (the ramp a def and a lambda) on 2 workers, one after the other in one process (the
# old pool could deadlock there), then a local sweep on 2 workers. It prints one JSON line of
# sha256 digests of the numbers.
USER_CODE = """
import hashlib, json
import numpy as np
import piqs_squeeze as ps

def digest(*arrays):
    return hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()

def omega_of_t(t):
    return 10.0 * (1.0 + 0.5 * t)

model = ps.Model(N=10, omega=10.0, chi=1.0, gamma=1.0, gamma_s=2.0)
times = np.linspace(0.0, 0.2, 3)
out = {}
res = ps.evolve(model, times, method="mcwf", ntraj=4, seed=11, workers=2, chunk=2)
out["const"] = digest(res.mean, res.second)
res = ps.evolve(model.replace(omega=omega_of_t), times, method="mcwf", ntraj=4, seed=12, workers=2, chunk=2)
out["def"] = digest(res.mean, res.second)
res = ps.evolve(model.replace(chi=lambda t: 1.0 + t), times, method="mcwf", ntraj=4, seed=13, workers=2, chunk=2)
out["lambda"] = digest(res.mean, res.second)
spec = {"fixed": {"N": 10, "chi": 1.0, "gamma": 1.0}, "grid": {"ratio": [0.7, 1.1], "gamma_s": [0.0, 0.5]},
        "times": {"t_end": 0.5, "num": 6}, "methods": ["cumulant"], "summaries": ["final"], "chunk_size": 1}
from piqs_squeeze.sweep import run_sweep
table = run_sweep(spec, workers=2, progress=False)
assert table.ok.all(), list(table["error"])
out["sweep"] = digest(table["final_xi2"], table["final_n_eff"])
print("DIGESTS " + json.dumps(out))
"""


def _digest(*arrays):
    return hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()


@pytest.fixture(scope="module")
def reference_digests():
    """The same computations serially in this process (the guarded-script reference)."""
    model = ps.Model(N=10, omega=10.0, chi=1.0, gamma=1.0, gamma_s=2.0)
    times = np.linspace(0.0, 0.2, 3)
    kw = dict(method="mcwf", ntraj=4, workers=1)
    out = {"const": ps.evolve(model, times, seed=11, **kw),
           "def": ps.evolve(model.replace(omega=lambda t: 10.0 * (1.0 + 0.5 * t)), times, seed=12, **kw),
           "lambda": ps.evolve(model.replace(chi=lambda t: 1.0 + t), times, seed=13, **kw)}
    out = {k: _digest(r.mean, r.second) for k, r in out.items()}
    spec = {"fixed": {"N": 10, "chi": 1.0, "gamma": 1.0}, "grid": {"ratio": [0.7, 1.1], "gamma_s": [0.0, 0.5]},
            "times": {"t_end": 0.5, "num": 6}, "methods": ["cumulant"], "summaries": ["final"], "chunk_size": 1}
    table = run_sweep(spec, workers=1, progress=False)
    out["sweep"] = _digest(table["final_xi2"], table["final_n_eff"])
    return out


def _digests_from(stdout):
    line = [ln for ln in stdout.splitlines() if ln.startswith("DIGESTS ")]
    assert line, stdout
    return json.loads(line[-1][len("DIGESTS "):])


def _env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


@pytest.mark.parametrize("how", ["script", "stdin"])
def test_unguarded_script_and_stdin_give_the_serial_bytes(tmp_path, how, reference_digests):
    """No ``if __name__ == "__main__":`` guard, a def and a lambda ramp, two MCWF runs and a sweep
    in one process: the old fork-server pool re-ran the script in its workers (BrokenProcessPool)
    or could not find ``<stdin>``."""
    if how == "script":
        script = tmp_path / "user_script.py"
        script.write_text(USER_CODE)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240,
                              cwd=tmp_path, env=_env())
    else:
        proc = subprocess.run([sys.executable, "-"], input=USER_CODE, capture_output=True, text=True, timeout=240,
                              cwd=tmp_path, env=_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _digests_from(proc.stdout) == reference_digests


def test_notebook_with_def_and_lambda_gives_the_serial_bytes(reference_digests):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    # one cell per step, as a notebook user writes it (functions defined in a cell are in __main__)
    head, tail = USER_CODE.split("\nout = {}\n")
    nb.cells = [nbformat.v4.new_code_cell(head), nbformat.v4.new_code_cell("out = {}\n" + tail)]
    client = nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert _digests_from(text) == reference_digests


def test_what_cannot_be_shipped_is_refused_before_any_work(monkeypatch):
    lock = threading.Lock()

    def omega(t, _lock=lock):  # holds a lock: cannot be pickled
        return 10.0

    model = ps.Model(N=10, omega=omega, chi=1.0, gamma=1.0)
    monkeypatch.setattr(mcwf, "run_trajectory", lambda *a, **k: pytest.fail("a trajectory ran"))
    with pytest.raises(TypeError, match=r"model\.omega .*cannot be sent to worker processes.*workers=1"):
        mcwf.evolve(model, [0.0, 0.1], ntraj=4, workers=2)


# --------------------------------------------------------------------------- Ctrl-C
INTERRUPTED = """
import numpy as np, piqs_squeeze as ps
model = ps.Model(N=40, omega=40.0, chi=1.0, gamma=1.0, gamma_s=2.0)
ps.evolve(model, np.linspace(0.0, 0.3, 7), method="mcwf", ntraj=2000, seed=5, workers=2, checkpoint={path!r})
print("finished without interruption")
"""


def test_ctrl_c_keeps_a_checkpoint_then_propagates_and_resume_works(tmp_path):
    path = tmp_path / "ck.npz"
    script = tmp_path / "long_run.py"
    script.write_text(INTERRUPTED.format(path=str(path)))
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, env=_env())
    while not path.exists() and proc.poll() is None and time.time() - t0 < 180:
        time.sleep(0.1)
    assert path.exists(), proc.communicate()[1][-3000:]
    first = time.time() - t0  # interpreter start, imports, workers and the first trajectories included
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    # Python ends on an uncaught KeyboardInterrupt by killing itself with SIGINT (a shell's 130)
    assert proc.returncode == -signal.SIGINT, err[-3000:]
    assert "KeyboardInterrupt: mcwf interrupted:" in err and "trajectories finished, kept in" in err and "resume" in err, err[-3000:]
    kept = ps.Result.load(path).extras["ntraj"]
    assert 1 <= kept < 2000 and first < 120
    # resume (ntraj is not part of the run: a few more than were kept) == one serial run
    model = ps.Model(N=40, omega=40.0, chi=1.0, gamma=1.0, gamma_s=2.0)
    times = np.linspace(0.0, 0.3, 7)
    n = kept + 3
    resumed = ps.evolve(model, times, method="mcwf", ntraj=n, seed=5, workers=1, checkpoint=str(path))
    direct = ps.evolve(model, times, method="mcwf", ntraj=n, seed=5, workers=1)
    assert resumed.extras["ntraj"] == n
    assert np.array_equal(resumed.mean, direct.mean) and np.array_equal(resumed.second, direct.second)


def test_cli_exit_status_130_names_what_was_kept(monkeypatch, capsys):
    from piqs_squeeze import cli

    def interrupted(args):
        raise mcwf.interrupted("mcwf interrupted: 7 of 100 trajectories finished, kept in x.npz; rerun")

    monkeypatch.setattr(cli, "build_parser", _parser_running(interrupted))
    assert cli.main(["run"]) == 130
    assert "7 of 100 trajectories finished, kept in x.npz" in capsys.readouterr().err


def _parser_running(fn):
    import argparse

    def build(argv=None):
        p = argparse.ArgumentParser()
        p.add_argument("command")
        p.set_defaults(_run=fn)
        return p
    return build


# --------------------------------------------------------------------------- unwritable checkpoints
def test_unwritable_checkpoint_is_refused_before_any_trajectory(tmp_path, monkeypatch):
    model = ps.Model(N=10, omega=10.0, chi=1.0, gamma=1.0)
    monkeypatch.setattr(mcwf, "run_trajectory", lambda *a, **k: pytest.fail("a trajectory ran"))
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(NotWritableError, match="MCWF checkpoint"):
        mcwf.evolve(model, [0.0, 0.1], ntraj=4, workers=1, checkpoint=str(blocker / "ck.npz"))
    if Path("/proc/self").is_dir():  # nobody, root included, can create a file there
        with pytest.raises(NotWritableError, match=r"MCWF checkpoint .* is not writable"):
            mcwf.evolve(model, [0.0, 0.1], ntraj=4, workers=1, checkpoint="/proc/self/ck.npz")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        probe = ro / "probe"
        try:
            probe.write_text("")  # root ignores the mode bits: nothing to refuse then
            pytest.skip("this user can write into a read-only directory (root)")
        except PermissionError:
            pass
        with pytest.raises(NotWritableError, match=r"MCWF checkpoint .*ro.* is not writable"):
            mcwf.evolve(model, [0.0, 0.1], ntraj=4, workers=1, checkpoint=str(ro / "ck.npz"))
    finally:
        ro.chmod(0o755)


# --------------------------------------------------------------------------- Qobj initial states
def test_qobj_kets_of_the_symmetric_sector_are_the_css():
    qutip = pytest.importorskip("qutip")
    N, th, ph = 12, 0.7, 0.3
    j, psi = mcwf.initial_state(N, qutip.spin_coherent(N / 2, th, ph))
    ref = ps.css(th, ph).amplitudes(N)
    assert j == N / 2 and abs(abs(np.vdot(ref, psi)) - 1) < 1e-12  # equal up to a global phase
    j, psi = mcwf.initial_state(N, qutip.spin_state(N / 2, 2))
    assert j == N / 2 and psi[N // 2 - 2] == 1.0  # m = 2: index j - m
    with pytest.raises(ValueError, match="N \\+ 1 = 13 entries"):
        mcwf.initial_state(N, qutip.basis(7, 0))
    with pytest.raises(ValueError, match="mixed state"):
        mcwf.initial_state(N, qutip.ket2dm(qutip.basis(13, 0)) * 0.5 + qutip.ket2dm(qutip.basis(13, 1)) * 0.5)


def test_mixed_qobj_initial_state_sampled_per_trajectory_matches_exact():
    """A Dicke-basis density matrix over two j blocks, each of rank 2: MCWF (trajectories start
    in eigenvectors drawn from the seed) against the exact solver started from the same Qobj."""
    qutip = pytest.importorskip("qutip")
    from piqs_squeeze import dicke

    N = 6
    rng = np.random.default_rng(0)
    blocks = []
    for d, w in zip(dicke.block_dims(N), [0.7, 0.3, 0.0, 0.0]):
        a = rng.normal(size=(d, 2)) + 1j * rng.normal(size=(d, 2))
        B = a @ np.diag([0.6, 0.4]) @ a.conj().T if w else np.zeros((d, d), complex)
        blocks.append(B * (w / np.trace(B).real) if w else B)
    rho = dicke.blocks_to_piqs(blocks)
    model = ps.Model(N=N, omega=3.0, chi=1.0, gamma=1.0, gamma_s=1.0)
    times = np.linspace(0.0, 0.5, 6)
    ex = exact.evolve(model, times, initial=rho)
    mc = mcwf.evolve(model, times, initial=rho, ntraj=400, seed=3, workers=1, keep_trajectories=True)
    # 4.5 standard errors: 3 x 5 mean and 6 x 5 second components compared, a false alarm at
    # 4.5 sigma has probability ~7e-6 each; the standard errors are themselves from 400 samples
    for name in ("mean", "second"):
        diff = np.abs(getattr(mc, name) - getattr(ex, name))[1:]
        err = getattr(mc, name + "_err")[1:]
        assert np.all(diff <= 4.5 * err + 1e-9), (name, (diff / (err + 1e-300)).max())
    # the start sectors follow the mixture, 0.7 / 0.3 in j = 3 / 2 (binomial, 4 sigma)
    frac = np.mean(mc.extras["traj_j"][:, 0] == 3.0)
    assert abs(frac - 0.7) < 4 * np.sqrt(0.21 / 400)
    # the draw depends on the seed only: the same bits on 2 workers
    a = mcwf.evolve(model, times, initial=rho, ntraj=40, seed=5, workers=1)
    b = mcwf.evolve(model, times, initial=rho, ntraj=40, seed=5, workers=2, chunk=7)
    assert np.array_equal(a.mean, b.mean) and np.array_equal(a.second, b.second)


# --------------------------------------------------------------------------- save after a callable
def test_save_after_a_callable_ramp_stores_samples_and_load_says_so(tmp_path):
    def omega_of_t(t):
        return 8.0 * (1.0 + t)

    model = ps.Model(N=8, omega=omega_of_t, chi=lambda t: 1.0 - 0.5 * t, gamma=1.0)
    times = np.linspace(0.0, 0.4, 5)
    res = ps.evolve(model, times, method="cumulant")
    path = res.save(tmp_path / "r.npz")  # raised TypeError before
    with pytest.warns(UserWarning, match="omega.*chi|chi.*omega"):
        back = ps.Result.load(path)
    assert np.array_equal(back.second, res.second)
    assert back.model.omega.name.endswith("omega_of_t")
    np.testing.assert_array_equal(back.model.omega.values, [omega_of_t(t) for t in times])
    np.testing.assert_array_equal(back.model.chi.values, 1.0 - 0.5 * times)
    with pytest.raises(RuntimeError, match="cannot be rerun without the function"):
        ps.evolve(back.model, times, method="cumulant")


# --------------------------------------------------------------------------- Dask
@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=40)
    client = distributed.Client(cluster)
    yield client, cluster
    client.close()
    cluster.close()


def test_mcwf_on_a_dask_local_cluster_gives_the_local_bytes(dask_cluster, tmp_path):
    client, cluster = dask_cluster
    model = ps.Model(N=20, omega=lambda t: 20.0 * (1 + t), chi=1.0, gamma=1.0, gamma_s=2.0)
    times = np.linspace(0.0, 0.2, 5)
    kw = dict(ntraj=8, seed=21)
    local = mcwf.evolve(model, times, workers=2, chunk=3, **kw)
    serial = mcwf.evolve(model, times, workers=1, **kw)
    on_dask = mcwf.evolve(model, times, executor=client.get_executor(), **kw)
    by_address = mcwf.evolve(model, times, scheduler=cluster.scheduler_address, chunk=1, **kw)
    with_client = mcwf.evolve(model, times, executor=client, checkpoint=str(tmp_path / "ck.npz"), **kw)
    for r in (local, on_dask, by_address, with_client):
        assert np.array_equal(r.mean, serial.mean) and np.array_equal(r.second, serial.second)
    with pytest.warns(UserWarning, match="omega was a Python function"):  # the lambda: saved as samples
        assert ps.Result.load(tmp_path / "ck.npz").extras["ntraj"] == 8
    with pytest.raises(ValueError, match="either executor or scheduler"):
        mcwf.evolve(model, times, executor=client, scheduler=cluster.scheduler_address, **kw)


def test_ctrl_c_on_dask_keeps_the_finished_trajectories(dask_cluster, tmp_path):
    client, _ = dask_cluster
    model = ps.Model(N=40, omega=40.0, chi=1.0, gamma=1.0, gamma_s=2.0)
    times = np.linspace(0.0, 0.3, 7)
    path = tmp_path / "ck.npz"

    def interrupt_when_saved():
        t0 = time.time()
        while not path.exists() and time.time() - t0 < 120:
            time.sleep(0.05)
        _thread.interrupt_main()  # what Ctrl-C does to the main thread

    threading.Thread(target=interrupt_when_saved, daemon=True).start()
    with pytest.raises(KeyboardInterrupt, match="trajectories finished, kept in") as info:
        mcwf.evolve(model, times, executor=client, ntraj=2000, seed=8, checkpoint=str(path))
    kept = info.value.ntraj
    assert 1 <= kept < 2000 and ps.Result.load(path).extras["ntraj"] == kept
    assert info.value.result.extras["interrupted"]
    resumed = mcwf.evolve(model, times, ntraj=kept + 2, seed=8, workers=1, checkpoint=str(path))
    direct = mcwf.evolve(model, times, ntraj=kept + 2, seed=8, workers=1)
    assert np.array_equal(resumed.mean, direct.mean) and np.array_equal(resumed.second, direct.second)


def test_cli_run_refuses_an_unwritable_out_before_computing(tmp_path, capsys, monkeypatch):
    from piqs_squeeze import cli
    from piqs_squeeze.cli import run as cli_run

    monkeypatch.setattr(cli_run, "evolve", lambda *a, **k: pytest.fail("something was computed"))
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert cli.main(["run", "--N", "4", "--method", "cumulant", "--out", str(blocker / "out")]) == 2
    assert "--out" in capsys.readouterr().err


def test_a_worker_that_dies_ends_the_run_with_a_clear_error(tmp_path):
    driver = os.getpid()
    # a lambda travels by value (with driver's pid); in a worker it exits as a segfault or the
    # OOM killer would end it
    model = ps.Model(N=10, omega=lambda t: os._exit(3) if os.getpid() != driver else 10.0, chi=1.0, gamma=1.0)
    with pytest.raises(RuntimeError, match=r"mcwf: a worker process died .*workers=1") as info:
        mcwf.evolve(model, [0.0, 0.1], ntraj=4, workers=2, seed=1)
    from concurrent.futures.process import BrokenProcessPool

    assert isinstance(info.value.__cause__, BrokenProcessPool)  # the cause, not the only message
    ok = mcwf.evolve(ps.Model(N=10, omega=10.0, chi=1.0, gamma=1.0), [0.0, 0.1], ntraj=4, workers=2, seed=1)
    assert ok.extras["ntraj"] == 4  # a fresh pool afterwards


def test_validation_scale_check_runs_its_mcwf_on_a_dask_scheduler(dask_cluster):
    # `piqs-squeeze validate --scheduler ADDRESS`: the scale check's ensembles go to the cluster, same bytes
    from piqs_squeeze.validation.checks import scale
    from piqs_squeeze.validation.cli import add_arguments
    import argparse

    client, cluster = dask_cluster
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--scheduler", cluster.scheduler_address]).scheduler == cluster.scheduler_address
    p = scale.points(40)[2]
    local = scale.mcwf_point(40, p, 4, workers=2, n_times=11)
    remote = scale.mcwf_point(40, p, 4, n_times=11, scheduler=cluster.scheduler_address)
    assert local.mean.tobytes() == remote.mean.tobytes() and local.second.tobytes() == remote.second.tobytes()
