"""analysis: minimum xi^2, minimum transient xi^2 (definition), N_eff crossing time."""
import math

import numpy as np
import pytest

import piqs_squeeze as ps
from piqs_squeeze import analysis

N = 1000


def _result(times, xi2, neff=None):
    """A Result whose moments give a prescribed xi^2(t) (and N_eff(t)): <J> = (0, 0, -N/2),
    Var(Jx) = xi2 |<J>|^2 / N, Var(Jy) large, Var(Jz) chosen for <J^2>."""
    times = np.asarray(times, float)
    jz = -N / 2
    T = times.size
    mean = np.zeros((T, 3))
    mean[:, 2] = jz
    cov = np.zeros((T, 3, 3))
    cov[:, 0, 0] = np.asarray(xi2) * jz**2 / N
    cov[:, 1, 1] = 10 * N
    if neff is not None:
        j2 = ((np.asarray(neff) + 1) / 2) ** 2 - 0.25
        cov[:, 2, 2] = j2 - cov[:, 0, 0] - cov[:, 1, 1] - jz**2
    second = cov + mean[:, :, None] * mean[:, None, :]
    model = ps.Model(N, omega=300.0, chi=1.0, gamma=1.0)
    return ps.Result(times, mean, second, model, "synthetic")


def test_synthetic_result_reproduces_curves():
    t = np.linspace(0, 1, 5)
    r = _result(t, [1, 0.5, 0.7, 0.2, 0.3], neff=[1000, 900, 800, 700, 600])
    np.testing.assert_allclose(r.xi2, [1, 0.5, 0.7, 0.2, 0.3], rtol=1e-12)
    np.testing.assert_allclose(r.n_eff, [1000, 900, 800, 700, 600], rtol=1e-12)


def test_min_xi2_after_t_min():
    t = np.linspace(0, 1, 101)
    x = 1 + 0.5 * np.cos(6 * t)
    r = _result(t, x)
    xm, ta = analysis.min_xi2(r)
    assert ta == pytest.approx(t[np.argmin(x)]) and xm == pytest.approx(x.min())
    xm2, ta2 = analysis.min_xi2(r, t_min=0.8)
    assert ta2 >= 0.8 and xm2 == pytest.approx(x[t >= 0.8].min())
    assert all(math.isnan(v) for v in analysis.min_xi2(r, t_min=2.0))


def test_min_transient_after_dip_and_maximum():
    t = np.linspace(0, 10, 1001)
    # early dip to 0.3 at t = 0.5, maximum ~1.6 at t ~ 2, later transient minimum 0.5 at t = 6
    x = 1 - 0.7 * np.exp(-((t - 0.5) / 0.2) ** 2) + 0.6 * np.exp(-((t - 2) / 0.5) ** 2) \
        - 0.5 * np.exp(-((t - 6) / 1.0) ** 2)
    r = _result(t, x)
    xm, ta = analysis.min_transient_xi2(r)
    assert ta == pytest.approx(6.0, abs=0.02)  # the later minimum, although the dip is deeper
    assert xm == pytest.approx(x[t > 3].min())
    assert analysis.min_xi2(r)[1] == pytest.approx(0.5, abs=0.02)  # the plain minimum is the dip


def test_min_transient_fallbacks_and_ripples():
    t = np.linspace(0, 1, 201)
    mono = _result(t, 1 - 0.5 * t)  # no dip at all
    assert analysis.min_transient_xi2(mono) == analysis.min_xi2(mono)
    rising = _result(t, 1 + (t - 0.3) ** 2)  # dip, never turns down again: what it relaxes to
    assert analysis.min_transient_xi2(rising) == (rising.xi2[-1], 1.0)
    relax = _result(t, 0.6 - 0.3 * np.exp(-((t - 0.1) / 0.03) ** 2))  # gamma_s = 0 below Upsilon_c
    assert analysis.min_transient_xi2(relax)[0] == pytest.approx(0.6, rel=1e-9)
    assert analysis.min_xi2(relax)[0] == pytest.approx(0.3, rel=1e-3)
    # ripples of relative size 2e-5 < rise = 1e-3 on a plateau are not extrema -> global minimum
    ripple = _result(t, np.maximum(1 - t, 0.5) + 1e-5 * np.sin(40 * t))
    assert analysis.min_transient_xi2(ripple) == analysis.min_xi2(ripple)
    # the same ripples count with rise = 1e-7
    assert analysis.transient_window(ripple.xi2, rise=1e-7) is not None


def test_neff_crossing_time_linear_interpolation():
    t = np.linspace(0, 2, 21)
    neff = 1000 - 400 * t  # crosses model.n_c = 2 Omega / Upsilon_c = 600 / sqrt(5) once
    r = _result(t, np.ones_like(t), neff=neff)
    n_c = r.model.n_c
    assert analysis.neff_crossing_time(r) == pytest.approx((1000 - n_c) / 400, rel=1e-9)
    assert analysis.neff_crossing_time(r, n_c=700) == pytest.approx(0.75, rel=1e-9)
    assert math.isnan(analysis.neff_crossing_time(r, n_c=100))
    assert analysis.neff_crossing_time(r, n_c=1000) == 0.0


def test_on_cumulant_run():
    """A real cumulant run: the transient minimum lies at or after the early dip."""
    m = ps.Model.from_upsilon_ratio(2000, 0.9, chi=1.0, gamma_s=20.0)
    t = np.concatenate([[0], np.geomspace(1e-5, 0.25, 400)])
    r = ps.evolve(m, t, method="cumulant")
    x_all, t_all = analysis.min_xi2(r)
    x_tr, t_tr = analysis.min_transient_xi2(r)
    assert x_tr >= x_all and t_tr >= t_all
    assert 0 < analysis.neff_crossing_time(r) < 0.25


def test_bad_input():
    with pytest.raises(TypeError, match="result"):
        analysis.min_xi2(np.ones(3))
    r = _result([0, 1], [1, 1])
    with pytest.raises(TypeError, match="t_min"):
        analysis.min_xi2(r, t_min="0")
    with pytest.raises(TypeError, match="n_c"):
        analysis.neff_crossing_time(r, n_c="a")
