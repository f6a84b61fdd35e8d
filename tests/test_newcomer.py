"""What a newcomer meets first: a scalar time, Result.at(t), the final state as a Qobj, moment
methods started from a Qobj, help texts that match the behaviour, and `| head` on the CLI."""
import os
import subprocess
import sys

import numpy as np
import pytest

import piqs_squeeze as ps
from piqs_squeeze.cli import build_parser


@pytest.fixture(scope="module")
def model():
    return ps.Model.from_upsilon_ratio(6, 0.9, chi=1.0, gamma_s=1.0)


def test_scalar_time_is_the_final_time(model):
    r = ps.evolve(model, 0.5, method="exact")
    np.testing.assert_array_equal(r.times, [0.0, 0.5])
    ref = ps.evolve(model, [0.0, 0.5], method="exact")
    np.testing.assert_array_equal(r.mean, ref.mean)  # the same run, not the initial state
    assert abs(r.mean[-1] - r.mean[0]).max() > 0.1
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="final time"):
            ps.evolve(model, bad, method="exact")


def test_at_takes_a_time_or_an_index(model):
    r = ps.evolve(model, np.linspace(0, 1, 11), method="cumulant")
    t, x, n = r.at(0.55)  # ties go to the earlier output time
    assert t == pytest.approx(0.5) and x == r.xi2[5] and n == r.n_eff[5]
    assert r.at(0.56)[0] == pytest.approx(0.6)
    assert r.at(index=-1) == (1.0, r.xi2[-1], r.n_eff[-1])
    with pytest.raises(ValueError, match="outside"):
        r.at(1.2)
    with pytest.raises(TypeError, match="exactly one"):
        r.at(0.5, index=1)
    with pytest.raises(IndexError, match="out of range"):
        r.at(index=11)
    ss = ps.steady_state(model.replace(gamma_s=0.0), method="carmichael")
    assert ss.at(np.inf)[0] == np.inf


def test_state_round_trip_and_clear_errors(model):
    import qutip

    r = ps.evolve(model, [0.0, 0.4], method="exact", return_state=True)
    rho = r.state()
    assert isinstance(rho, qutip.Qobj) and rho.shape == (16, 16)
    assert rho.tr() == pytest.approx(1.0, abs=1e-8)  # the run's rtol = 1e-8
    # the state continues the run exactly: [0, 0.4] then [0.4, 0.8] == [0, 0.8]
    r2 = ps.evolve(model, [0.4, 0.8], method="exact", initial=rho)
    ref = ps.evolve(model, [0.0, 0.8], method="exact")
    np.testing.assert_allclose(r2.second[-1], ref.second[-1], atol=1e-6)  # rtol 1e-8 x |J|^2 ~ 9
    assert r.to_qobj().shape == rho.shape
    with pytest.raises(ValueError, match="outside the j = N/2 block"):
        r.state(basis="symmetric")  # gamma_s > 0 moves weight to j < N/2
    ss = ps.steady_state(model.replace(gamma_s=0.0), method="carmichael", return_state=True)
    assert ss.state(basis="symmetric").shape == (7, 7) and ss.state().shape == (16, 16)
    with pytest.raises(ValueError, match="return_state=True"):
        ps.evolve(model, 0.1, method="exact").state()
    with pytest.raises(ValueError, match="evolves moments, not a state"):
        ps.evolve(model, 0.1, method="cumulant").state()


def test_moment_methods_start_from_a_qobj():
    """At N = 2 the order-2 cumulant closure is exact, so starting it from the exact state at
    t = 0.3 must continue the exact run (1e-7: the two integrators' tolerances)."""
    m = ps.Model.from_upsilon_ratio(2, 0.9, chi=1.0, gamma_s=1.0, dephasing=0.3)
    half = ps.evolve(m, [0.0, 0.3], method="exact", return_state=True, rtol=1e-10)
    cont = ps.evolve(m, [0.3, 0.6], method="cumulant", initial=half.state(), rtol=1e-10, atol=1e-12)
    ref = ps.evolve(m, [0.0, 0.6], method="exact", rtol=1e-10)
    np.testing.assert_allclose(cont.second[-1], ref.second[-1], atol=1e-7)
    np.testing.assert_allclose(cont.mean[-1], ref.mean[-1], atol=1e-7)
    # a CSS given as a Qobj ket of the j = N/2 block == the CoherentSpinState itself
    import qutip

    big = ps.Model.from_upsilon_ratio(20, 0.9, chi=1.0, gamma_s=1.0)
    ket = qutip.Qobj(ps.states.css_amplitudes(20, 1.0, 2.0))
    for method in ("cumulant", "meanfield"):
        a = ps.evolve(big, [0.0, 0.2], method=method, initial=ket)
        b = ps.evolve(big, [0.0, 0.2], method=method, initial=ps.css(1.0, 2.0))
        np.testing.assert_allclose(a.second, b.second, rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="order-3"):
        ps.evolve(big, [0.0, 0.2], method="cumulant", order=3, initial=ket)
    with pytest.raises(ValueError, match="neither a state"):
        ps.evolve(big, [0.0, 0.2], method="cumulant", initial=qutip.qeye(5))


def _help(*cmd):
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[cmd[0]]
    return sub.format_help()


def test_help_texts_match_the_behaviour():
    run = _help("run")
    assert "overrides" not in run and "exclusive" in run
    assert "spontaneous emission" in run and "dephasing" in run and "exchange" in run
    val = " ".join(_help("validate").split())
    assert "N = 2..20 (with --full: also N = 50 and 100)" in val
    fig = " ".join(_help("figure").split())
    assert "~1 min each" not in fig
    from piqs_squeeze.figures.cli import FIGURES

    assert "exact" in FIGURES["fig1c"][1] and "exact" in FIGURES["fig2a"][1]
    from piqs_squeeze.figures import fig1c, fig2a

    for mod in (fig1c, fig2a):  # the full figure's method, as listed
        assert mod.FULL["method"] == "auto" and mod.FULL["exact_max_n"] >= mod.FULL["N"]


def test_closed_pipe_is_quiet():
    p = subprocess.Popen([sys.executable, "-m", "piqs_squeeze.cli", "figure", "--list"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # the reader goes away before the listing is written, as with `| head -0`
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert p.returncode in (0, 141)  # 0 when the write raced ahead of the close


def test_first_run_says_that_it_compiles(tmp_path, monkeypatch, capsys):
    from piqs_squeeze import cli

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))  # an empty cache: a first run
    assert cli.numba_cache_is_empty()
    cli._jit_notice("validate")
    assert "numba is compiling" in capsys.readouterr().err
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "moment_ode.rhs-1.py311.nbi").write_bytes(b"")
    assert not cli.numba_cache_is_empty()
    cli._jit_notice("validate")
    assert capsys.readouterr().err == ""


def test_run_plot_title_and_band_colour():
    """`piqs-squeeze run`'s plot: a readable title (not a Python repr), MCWF band in its line's colour."""
    import matplotlib.colors as mcolors

    from piqs_squeeze.plotting import plot_results

    m = ps.Model.from_upsilon_ratio(4, 0.9, chi=1.0, gamma_s=1.0)
    res = [ps.evolve(m, np.linspace(0, 0.3, 7), method="exact"),
           ps.evolve(m, np.linspace(0, 0.3, 7), method="mcwf", ntraj=8, seed=1)]
    fig = plot_results(res)
    ax = fig.axes[0]
    title = ax.get_title()
    assert "Model(" not in title and "$N = 4$" in title and r"\gamma_s = 1" in title
    band = [c for c in ax.collections if c.get_label().startswith("mcwf")][0]
    line = [ln for ln in ax.get_lines() if ln.get_label() == "mcwf"][0]
    assert mcolors.same_color(band.get_facecolor()[0][:3], mcolors.to_rgb(line.get_color()))


def test_plots_leave_the_matplotlib_backend_alone(tmp_path):
    """plot_results, the figures' and the validation report's figures keep the user's backend (a
    notebook's or Qt's; here matplotlib's 'template', which anything choosing Agg would replace)
    and still write their files. In a fresh interpreter: the tests' own process runs on Agg."""
    code = f"""
import matplotlib
import matplotlib.pyplot
import numpy as np
import piqs_squeeze as ps
from piqs_squeeze.figures import style
from piqs_squeeze.plotting import plot_results, save_figure
from piqs_squeeze.validation import report
from piqs_squeeze.validation.registry import Context

before = matplotlib.get_backend()
res = ps.evolve(ps.Model(2, omega=1.0), np.linspace(0.0, 0.2, 3), method="cumulant")
paths = save_figure(plot_results([res]), {str(tmp_path / "run")!r})
fig, axes = style.new_figure("single")
axes.plot([0, 1])
paths += style.save(fig, {str(tmp_path)!r}, "styled")
fig, axes = report.new_figure(2)
paths.append(report.save_plot(fig, Context(out={str(tmp_path)!r}), "check"))
print(before, matplotlib.get_backend(), len(paths))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "MPLBACKEND": "template"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["template", "template", "5"]
    assert all(p.stat().st_size > 1000 for p in [*tmp_path.glob("*.p*"), *tmp_path.glob("plots/*.png")])
