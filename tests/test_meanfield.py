"""Mean field: N = 1 vs brute force, fixed points and stability, finite-N Upsilon'_c, branch change."""
import math

import numpy as np
import pytest

import piqs_squeeze as ps
from piqs_squeeze.methods.moments import meanfield, integrator as moment_ode
from piqs_squeeze.methods.moments.derivation import RATES, coefficient_tensors
from piqs_squeeze.validation import bruteforce

RATES_ALL = dict(omega=1.3, chi=0.7, gamma=1.0, gamma_s=0.4, dephasing=0.3, pumping=0.2,
                 collective_dephasing=0.25, collective_pumping=0.15)


@pytest.mark.parametrize("init", [(1.1, 0.4), (2.8, -2.0)])
def test_n1_matches_bruteforce(init):
    """N = 1 has no second particle: mean field is exact (tolerance as for cumulant N = 2)."""
    model = ps.Model(1, **RATES_ALL)
    times = np.linspace(0, 3, 31)
    ref = bruteforce.evolve(model, times, ps.css(*init))
    res = meanfield.evolve(model, times, ps.css(*init), rtol=1e-12, atol=1e-14)
    assert np.max(np.abs(res.mean - ref.mean)) < 1e-9
    assert np.max(np.abs(res.second - ref.second)) < 1e-9


def test_product_state_moments():
    s = np.array([0.3, -0.2, -0.5])
    mean, second = meanfield.collective_moments(s, 40)
    np.testing.assert_allclose(mean, 20 * s)
    np.testing.assert_allclose(second, 40 * 39 / 4 * np.outer(s, s) + 10 * np.eye(3), atol=1e-12)


def test_fixed_points_residual_s5_and_stability():
    model = ps.Model.from_upsilon_ratio(500, 0.6, chi=1.0, gamma_s=2.0)
    fps = meanfield.fixed_points(model)
    assert len(fps) == 3  # stable superradiant, unstable superradiant, normal (z ~ -1/N)
    K = moment_ode.coefficient_matrices([model], "meanfield")[0]
    for q in fps:
        f = K @ moment_ode.closure(q["s"], "meanfield")
        assert np.max(np.abs(f)) < 1e-9 * np.max(np.abs(K))
    sr = [q for q in fps if q["z"] < -0.1]
    for q in sr:  # paper Eq. S5, exact for the paper's rates: z^2 + z + 2 r^2 = 0
        assert abs(q["z"] ** 2 + q["z"] + 2 * q["r"] ** 2) < 1e-10
    assert sr[0]["stable"] and not sr[1]["stable"]  # larger |z| branch is the stable one (paper)
    # integrating from -x ends on the stable superradiant point
    ss = meanfield.steady_state(model)
    assert ss.extras["branch"] == 0
    assert ss.times[0] == np.inf


def test_finite_n_upsilon_c_prime():
    """Exact S8 maximisation == general fixed-point bisection (a tiny dephasing switches to it),
    the number of fixed points changes there, and N -> infinity gives Upsilon_c / sqrt(2)."""
    model = ps.Model.from_upsilon_ratio(100, 0.6, chi=1.0, gamma_s=1.0)
    w = meanfield.omega_c_prime(model)
    w_general = meanfield.omega_c_prime(model.replace(dephasing=1e-10))
    assert abs(w - w_general) < 1e-7 * w  # bisection to 50 halvings; dephasing shifts by ~1e-10
    assert len(meanfield.fixed_points(model.replace(omega=0.999 * w))) == 3
    assert len(meanfield.fixed_points(model.replace(omega=1.001 * w))) == 1
    big = ps.Model.from_upsilon_ratio(10**7, 0.6, chi=0.5, gamma_s=3.0)
    assert abs(meanfield.upsilon_c_prime(big) / big.upsilon_c - 1 / math.sqrt(2)) < 1e-6
    assert meanfield.upsilon_c_prime(big, finite_n=False) == big.upsilon_c_prime
    assert meanfield.upsilon_c(big) == big.upsilon_c


def test_branch_changes_at_upsilon_c_prime():
    """gamma_s > 0: long-time s_z is on the superradiant branch just below Upsilon'_c and
    ~0 (normal phase, |z| ~ 1/N) just above it."""
    below = ps.Model.from_upsilon_ratio(1000, 0.66, chi=1.0, gamma_s=1.0)
    above = below.replace(omega=below.omega * 0.76 / 0.66)
    zb = meanfield.steady_state(below).jz_over_j[0]
    za = meanfield.steady_state(above).jz_over_j[0]
    r2 = (0.66 / 2) ** 2  # leading order S9: r = Upsilon / (2 Upsilon_c)
    assert abs(zb - (-0.5 - 0.5 * math.sqrt(1 - 8 * r2))) < 0.01  # O(1/N) corrections
    assert abs(za) < 0.01


def test_collective_steady_state_css():
    """The Fig. 3b initial state is a zero of the O(N) (collective) part of the mean field."""
    model = ps.Model.from_upsilon_ratio(10**4, 0.9, chi=1.7, gamma_s=50.0)
    n = meanfield.css_collective_steady_state(model).direction
    assert abs(math.hypot(n[0], n[1]) - 0.9) < 1e-12 and n[2] < 0
    K = coefficient_tensors()
    coll = sum(getattr(model, r) * model.N * K[i, :3, :, 1] for i, r in enumerate(RATES) if r != "omega")
    coll = coll + model.omega * K[RATES.index("omega"), :3, :, 0]
    f = coll @ moment_ode.closure(n, "meanfield")
    assert np.max(np.abs(f)) < 1e-10 * model.omega
    with pytest.raises(ValueError, match="omega"):
        meanfield.css_collective_steady_state(model.replace(omega=2 * model.omega))


def test_batched_and_bad_input():
    models = [ps.Model.from_upsilon_ratio(N, 0.8, chi=1.0, gamma_s=g) for N, g in [(10, 1.0), (1000, 5.0)]]
    res = meanfield.evolve_many(models, np.linspace(0, 1, 11), initial=[ps.css(), np.array([0.0, 0.0, 1.0])])
    assert res[1].mean[0, 2] == pytest.approx(500.0)
    one = meanfield.evolve(models[0], np.linspace(0, 1, 11))
    np.testing.assert_allclose(res[0].mean, one.mean, atol=1e-12)
    with pytest.raises(ValueError, match="t_relax"):
        meanfield.steady_state(models[0], t_relax=-1.0)
    with pytest.raises(TypeError, match="model"):
        meanfield.steady_state("m")
    with pytest.raises(ValueError, match="initial"):
        meanfield.evolve(models[0], [0, 1], initial=[1.0, 2.0])
