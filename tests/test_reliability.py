"""Failures that are loud and early: misspelled options and methods, sizes that cannot fit,
failed sweep points, damaged files, orphaned workers, file permissions, leftover temporaries."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import piqs_squeeze as ps
from piqs_squeeze import dicke
from piqs_squeeze.methods import carmichael
from piqs_squeeze.methods.exact import solver as exact
from piqs_squeeze.methods.mcwf import ensemble as mcwf
from piqs_squeeze.runtime import fileio, threads
from piqs_squeeze.cli import main
from piqs_squeeze.result import ResultFileError

TESTS_DIR = str(Path(__file__).resolve().parent)
TOY = "test_sweep"
T = np.linspace(0.0, 0.5, 6)


# --------------------------------------------------------------------------- options and methods
@pytest.mark.parametrize("method, bad, good", [("exact", "rtool", "rtol"), ("mcwf", "ntrajs", "ntraj"),
                                               ("cumulant", "atoll", "atol"), ("meanfield", "rtoll", "rtol")])
def test_misspelled_option_names_it_and_lists_the_valid_ones(method, bad, good):
    m = ps.Model(10, omega=1.0)
    with pytest.raises(ps.MethodError) as err:
        ps.evolve(m, T, method=method, **{bad: 1e-6})
    msg = str(err.value)
    assert repr(bad) in msg and good in msg and f"did you mean {good!r}" in msg


def test_misspelled_steady_state_option():
    with pytest.raises(ps.MethodError, match="'maxn'.*max_n"):
        ps.steady_state(ps.Model(10, omega=1.0, chi=1.0), method="carmichael", maxn=3)


def _write_sweep(tmp_path, methods):
    cfg = tmp_path / "s.json"
    cfg.write_text(json.dumps({"fixed": {"N": 10, "gamma": 0.0}, "grid": {"omega": [0.5, 1.0, 4.0]},
                               "times": {"t_end": 1.0, "num": 5}, "methods": methods, "summaries": ["final"]}))
    return cfg


def test_sweep_file_with_a_misspelled_option_fails_before_computing(tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(TESTS_DIR)
    cfg = _write_sweep(tmp_path, [{"method": "cumulant", "options": {"rtool": 1e-6}}])
    assert main(["sweep", str(cfg), "--workers", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "'rtool'" in err and "rtol" in err
    assert not (tmp_path / "s.sweep").exists()  # nothing computed, nothing written


def test_sweep_exits_nonzero_and_lists_failed_points(tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(TESTS_DIR)
    cfg = _write_sweep(tmp_path, [{"method": TOY, "options": {"fail_omega": 4.0}}])
    assert main(["sweep", str(cfg), "--workers", "1", "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "1 failed" in captured.out
    assert "point 2: RuntimeError: toy failure at omega=4.0" in captured.err and "--rerun-errors" in captured.err


def test_run_refuses_an_unknown_method_before_computing(tmp_path, capsys):
    assert main(["run", "--N", "4", "--method", "exact", "--method", "exakt", "--out", str(tmp_path)]) == 2
    assert "'exakt'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
    assert main(["run", "--N", "4", "--method", "carmichael", "--out", str(tmp_path)]) == 2
    assert "carmichael" in capsys.readouterr().err


# --------------------------------------------------------------------------- sizes
def test_mcwf_and_carmichael_refuse_what_cannot_fit_within_seconds():
    t0 = time.perf_counter()
    with pytest.raises(MemoryError, match=r"GiB.*cumulant"):
        ps.steady_state(ps.Model.from_upsilon_ratio(10**9, 0.8, chi=1.0), method="carmichael", max_memory=8 * 2**30)
    big = ps.Model.from_upsilon_ratio(10**6, 0.8, chi=1.0, gamma_s=1.0)
    with pytest.warns(exact.LongRunWarning, match=r"mcwf N = 1000000.*days"):  # and it would take months
        with pytest.raises(MemoryError, match=r"mcwf at N = 1000000.*GiB"):
            ps.evolve(big, np.linspace(0, 1, 1001), method="mcwf", max_memory=2 * 2**30, workers=2)
    assert time.perf_counter() - t0 < 5.0
    # the estimates grow as they should: linear in N and in the workers; an mcwf trajectory holds
    # O(N + T), not O(N T) (moments are summed as each output time is reached)
    assert mcwf.memory_needed(10**6, 1001, 2) == pytest.approx(2 * mcwf.memory_needed(10**6, 101, 1), rel=1e-3)
    m0, m1, m2 = (mcwf.memory_needed(n, 101, 1) for n in (0, 10**6, 2 * 10**6))
    assert m2 - m1 == pytest.approx(m1 - m0, rel=1e-6) and m1 - m0 > 10**9  # ~1 kB per amplitude
    assert carmichael.memory_needed(10**9) == pytest.approx(100 * carmichael.memory_needed(10**7), rel=1e-6)


def test_exact_says_when_a_run_will_take_long():
    m = ps.Model.from_upsilon_ratio(400, 0.9, chi=1.0, gamma_s=1.0)
    products, seconds = exact.estimate_run_time(m, 2.0, int((dicke.block_dims(400) ** 2).sum()))
    assert seconds > 3600  # hours, as the reference runs extrapolate (N = 300: 41 min)
    with pytest.warns(exact.LongRunWarning, match=r"N = 400.*hours"):
        with pytest.raises(MemoryError):  # the warning comes first, the memory check stops it here
            ps.evolve(m, np.linspace(0, 2, 3), method="exact", max_memory=1)
    # the reference run at N = 40 (1.1 s, 3456 products) is no long run
    small = ps.Model.from_upsilon_ratio(40, 0.9, chi=1.0, gamma_s=1.0)
    p40, s40 = exact.estimate_run_time(small, 2.0, 12341)
    assert 2000 < p40 < 7000 and s40 < 10


def test_cumulant_refuses_a_run_it_cannot_finish_and_says_why():
    huge = ps.Model.from_upsilon_ratio(10**12, 0.9, chi=1.0, gamma_s=1.0)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"explicit steps.*max_steps.*shorter time span"):
        ps.evolve(huge, np.linspace(0, 1, 11), method="cumulant")
    assert time.perf_counter() - t0 < 5.0


def test_dicke_caches_are_bounded_in_bytes():
    dicke.local_channels.cache_clear()
    for j in np.arange(20000.0, 19000.0, -1.0):  # sectors of a large N, as an MCWF trajectory visits them
        dicke.local_channels(40000, float(j), "gamma_s")
    assert dicke.local_channels.cache_bytes() <= dicke.CACHE_BYTES


# --------------------------------------------------------------------------- files
def test_result_load_errors_name_the_file(tmp_path):
    res = ps.evolve(ps.Model(4, omega=1.0), T, method="meanfield")
    path = res.save(tmp_path / "r.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        ps.Result.load(tmp_path / "missing.npz")
    data = path.read_bytes()
    damaged = {"truncated.npz": data[: len(data) // 2], "garbage.npz": b"not a zip file at all",
               "flipped.npz": data[:200] + bytes(b ^ 0xFF for b in data[200:400]) + data[400:]}
    for name, blob in damaged.items():
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(ResultFileError, match=name):
            ps.Result.load(tmp_path / name)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(ResultFileError, match="other.npz"):
        ps.Result.load(other)


def test_written_files_follow_the_umask_and_stale_temporaries_go(tmp_path):
    old = os.umask(0o027)
    try:
        path = fileio.atomic_write(tmp_path / "a.bin", b"x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o640
    stale = tmp_path / "a.bin.abc123.tmp"
    stale.write_bytes(b"half")
    fresh = tmp_path / "a.bin.def456.tmp"
    fresh.write_bytes(b"in flight")
    past = time.time() - 2 * fileio.STALE_TMP_S
    os.utime(stale, (past, past))
    fileio.atomic_write(tmp_path / "a.bin", b"y")
    assert not stale.exists() and fresh.exists()  # a recent one may belong to a live writer


# --------------------------------------------------------------------------- processes and threads
def test_workers_exit_when_the_driver_is_killed(tmp_path):
    script = tmp_path / "driver.py"
    pids = tmp_path / "pids.json"
    script.write_text(f"""
import json, time
from piqs_squeeze.runtime.pool import process_pool

if __name__ == "__main__":
    pool = process_pool(2)
    list(pool.map(time.sleep, [0.3, 0.3]))  # both workers started
    open({str(pids)!r}, "w").write(json.dumps(sorted(pool._processes)))
    time.sleep(600)
""")
    proc = subprocess.Popen([sys.executable, str(script)])
    deadline = time.time() + 120
    while not pids.exists() and time.time() < deadline:
        time.sleep(0.1)
    workers = json.loads(pids.read_text())
    assert workers
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    def alive(pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        try:  # a zombie (exited, not yet reaped) counts as gone
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.time() + 15
    while any(alive(p) for p in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in workers)


def test_thread_policy(monkeypatch):
    monkeypatch.delenv(threads.ENV_THREADS, raising=False)
    threads.set_max_threads(None)
    assert threads.kernel_threads(100) == 1  # small vectors: one thread
    assert 1 <= threads.kernel_threads(10**8) <= threads.max_threads()
    monkeypatch.setenv(threads.ENV_THREADS, "1")
    assert threads.kernel_threads(10**8) == 1
    monkeypatch.setenv(threads.ENV_THREADS, "zero")
    with pytest.raises(ValueError, match=threads.ENV_THREADS):
        threads.kernel_threads(10**8)
    monkeypatch.delenv(threads.ENV_THREADS)
    with pytest.raises(ValueError, match="positive integer"):
        threads.set_max_threads(0)
    assert os.environ.get("OMP_WAIT_POLICY") is not None  # set (passive) on import unless the user chose
