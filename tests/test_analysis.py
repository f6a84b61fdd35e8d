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


def _model_result(times, xi2, gamma_s):
    r = _result(times, xi2)
    r.model = r.model.replace(gamma_s=gamma_s)
    return r


def _early_and_transient(t, late_depth=0.5):
    """A fast early oscillation (period 0.004, deep minima 0.3 from t = 0.002 on, decaying over
    0.02) and a slow transient minimum 1 - late_depth at t = 0.5 (width 0.15)."""
    early = 0.7 * np.exp(-t / 0.02) * np.cos(np.pi * t / 0.004) ** 2
    return 1 + 0.5 * (1 - np.exp(-t / 0.01)) - early - (0.5 + late_depth) * np.exp(-((t - 0.5) / 0.15) ** 2)


def test_min_transient_is_on_the_single_particle_time_scale():
    """gamma_s = 2: the window starts at 0.1 / gamma_s = 0.05; the early oscillation (deeper than
    the transient) is never picked, and the value does not depend on the grid."""
    vals = []
    for n in (301, 2001, 20001):
        t = np.linspace(0, 2.5, n)
        r = _model_result(t, _early_and_transient(t), gamma_s=2.0)
        m = analysis.min_transient_xi2(r)
        assert m.t_window == pytest.approx(0.05) and m.t == pytest.approx(0.5, abs=0.01)
        assert m.squeezed and m.note == "transient squeezing" and m.resolved and not m.at_window_start
        vals.append(m.xi2)
        assert analysis.min_xi2(r)[0] < 0.45  # the plain minimum is in the early oscillation
    # exact minimum 0.5 of a Gaussian dip sampled at spacing <= 2.5/300: error <~ (dt/w)^2 / 2 ~ 2e-3
    np.testing.assert_allclose(vals, 0.5, atol=3e-3)
    xm, ta = m  # unpacks like the (xi2, t) tuple
    assert (xm, ta) == (m.xi2, m.t) and "transient squeezing" in str(m)


def test_no_transient_squeezing_is_said():
    t = np.linspace(0, 2.5, 2001)
    r = _model_result(t, _early_and_transient(t, late_depth=-0.5), gamma_s=2.0)  # a bump, not a dip
    m = analysis.min_transient_xi2(r)
    assert not m.squeezed and m.note == "no transient squeezing" and m.xi2 >= 1.0
    assert str(m).startswith("no transient squeezing")
    assert analysis.min_xi2(r)[0] < 0.45  # although the early oscillation is squeezed


def test_collective_model_window_and_resolution_flag():
    t = np.linspace(0, 1, 201)
    relax = _result(t, 0.6 - 0.3 * np.exp(-((t - 0.1) / 0.03) ** 2))  # gamma_s = 0: second half of the run
    m = analysis.min_transient_xi2(relax)
    assert m.t_window == pytest.approx(0.5) and m.xi2 == pytest.approx(0.6, rel=1e-9)
    assert m.at_window_start  # still relaxing towards 0.6 from below: the window sets the value
    assert analysis.min_transient_xi2(relax, collective_after=0.0).xi2 == pytest.approx(0.3, rel=1e-3)
    # an oscillation faster than the grid inside the window: flagged as not resolved
    fast = _model_result(t, 0.5 + 0.4 * np.cos(2 * np.pi * t / 0.013), gamma_s=1.0)
    assert not analysis.min_transient_xi2(fast).resolved
    with pytest.raises(TypeError, match="after"):
        analysis.min_transient_xi2(relax, after=-1.0)


def test_initial_minimum():
    t = np.linspace(0, 1, 101)
    r = _result(t, 1 - 0.5 * np.exp(-((t - 0.3) / 0.05) ** 2))
    assert analysis.initial_minimum(r) == pytest.approx(0.3)
    assert analysis.initial_minimum(_result(t, 1 - 0.5 * t)) == 0.0  # no minimum: times[0]
    # ripples below the 0.1 dB prominence are not a minimum
    assert analysis.initial_minimum(_result(t, 1 - 0.5 * t + 1e-4 * np.sin(50 * t))) == 0.0


def test_transient_window_ignores_ripples():
    t = np.linspace(0, 1, 201)
    ripple = _result(t, np.maximum(1 - t, 0.5) + 1e-5 * np.sin(40 * t))
    assert analysis.transient_window(ripple.xi2) is None
    assert analysis.transient_window(ripple.xi2, rise=1e-7) is not None


def test_issue_case_above_threshold_has_no_transient_squeezing():
    """The issue's case: N = 1e4, chi = Gamma, Upsilon/Upsilon_c = 1.2, gamma_s = 5 (xi^2 > +27 dB
    from t ~ 0.1/gamma_s on): 'no transient squeezing' on every grid (the old definition gave
    0.72 at t = 0.0015 on 2001 points and 44 on 201); below threshold (0.9) the same -6.65 dB."""
    for ratio in (1.2, 0.9):
        m = ps.Model.from_upsilon_ratio(10_000, ratio, chi=1.0, gamma_s=5.0)
        out = [analysis.min_transient_xi2(ps.evolve(m, np.linspace(0, 1.0, n), method="cumulant"))
               for n in (201, 801, 2001)]
        if ratio > 1:
            assert all(not v.squeezed and 10 * np.log10(v.xi2) > 10 for v in out)
            assert all(v.t >= 0.1 / 5.0 for v in out)
        else:
            db = [10 * np.log10(v.xi2) for v in out]
            # the transient minimum (width ~0.005) sampled at 0.005, 0.00125, 0.0005: within 0.2 dB
            assert max(db) - min(db) < 0.2 and all(-7.0 < d < -6.3 for d in db)
            assert all(v.squeezed and 0.05 < v.t < 0.15 for v in out)


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
    """A real cumulant run: the transient minimum lies in its window, after the early dip."""
    m = ps.Model.from_upsilon_ratio(2000, 0.9, chi=1.0, gamma_s=20.0)
    t = np.concatenate([[0], np.geomspace(1e-5, 0.25, 400)])
    r = ps.evolve(m, t, method="cumulant")
    x_all, t_all = analysis.min_xi2(r)
    x_tr, t_tr = analysis.min_transient_xi2(r)
    assert x_tr >= x_all and t_tr >= t_all and t_tr >= 0.1 / 20.0
    assert 0 < analysis.neff_crossing_time(r) < 0.25


def test_bad_input():
    with pytest.raises(TypeError, match="result"):
        analysis.min_xi2(np.ones(3))
    r = _result([0, 1], [1, 1])
    with pytest.raises(TypeError, match="t_min"):
        analysis.min_xi2(r, t_min="0")
    with pytest.raises(TypeError, match="n_c"):
        analysis.neff_crossing_time(r, n_c="a")
