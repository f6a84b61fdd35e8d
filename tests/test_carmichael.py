"""Analytic (Carmichael / Puri-Lawande with chi) steady state against independent references."""
import numpy as np
import pytest
import qutip

import piqs_squeeze as ps
from piqs_squeeze.validation.highprec import carmichael_bands
from piqs_squeeze.methods import carmichael as cm
from piqs_squeeze.dicke import moments_from_bands

# (N, Upsilon/Upsilon_c, chi): below, near and above threshold, chi of both signs and 0, odd and even N
CASES = [(1, 0.5, 0.0), (2, 0.9, 1.0), (7, 0.8, -0.5), (12, 0.3, 0.0), (20, 0.95, 1.0),
         (33, 1.3, 0.3), (50, 0.5, 2.0), (50, 0.9, -1.0)]


def _spin_ops(j):
    return [qutip.jmat(j, a) for a in "xyz"], qutip.jmat(j, "+"), qutip.jmat(j, "-")


def _reference(model):
    """j = N/2 generator built with qutip (jmat + liouvillian) and its steady state (qutip.steadystate)."""
    (jx, jy, jz), jp, jm = _spin_ops(model.N / 2)
    H = model.chi * jp * jm + model.omega * jx
    c_ops = [np.sqrt(model.gamma) * jm]
    return qutip.liouvillian(H, c_ops), qutip.steadystate(H, c_ops)


def _moments(j, rho):
    ops, _, _ = _spin_ops(j)
    mean = np.array([qutip.expect(o, rho) for o in ops]).real
    second = np.array([[qutip.expect(0.5 * (a * b + b * a), rho) for b in ops] for a in ops]).real
    return mean, second


@pytest.mark.parametrize("N, ratio, chi", CASES)
def test_equals_null_space_of_generator(N, ratio, chi):
    model = ps.Model.from_upsilon_ratio(N, ratio, chi=chi)
    L, rho_ref = _reference(model)
    res = ps.steady_state(model, method="carmichael")
    mean, second = _moments(N / 2, rho_ref)
    # Both sides are direct solves in double precision of a system of size <= 51^2; observed
    # differences are <= 1e-12 for moments of size up to j^2 = 625, so 1e-10 absolute has margin.
    np.testing.assert_allclose(res.mean[0], mean, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.second[0], second, rtol=0, atol=1e-10)
    # the dense analytic state: L rho = 0 to round-off (relative to ||L||, ||rho|| <= 1)
    rho = cm.density_matrix(model)
    resid = np.abs((L * qutip.operator_to_vector(rho)).full()).max()
    assert resid <= 1e-13 * np.abs(L.full()).max()
    assert abs(rho.tr() - 1) < 1e-13
    assert (rho - rho.dag()).norm() < 1e-14
    assert np.linalg.eigvalsh(rho.full()).min() > -1e-14
    np.testing.assert_allclose(rho.full(), rho_ref.full(), rtol=0, atol=1e-11)


def test_svd_null_space_and_dense_state_in_result():
    """A second reference: the SVD null vector of the Liouvillian matrix (no qutip solver)."""
    model = ps.Model(N=9, omega=3.1, chi=-0.7, gamma=1.3)
    L, _ = _reference(model)
    _, s, vh = np.linalg.svd(L.full())
    assert s[-1] < 1e-12 * s[0] and s[-2] > 1e-6 * s[0]  # one-dimensional null space
    rho_svd = vh[-1].conj().reshape(10, 10, order="F")  # qutip vectorises column-stacked
    rho_svd /= np.trace(rho_svd)
    res = cm.steady_state(model, return_state=True)
    np.testing.assert_allclose(res.extras["state"], rho_svd, rtol=0, atol=1e-12)


def test_puri_lawande_double_sum_parameter():
    """rho ~ sum_{m,n} (g*)^-m g^-n J-^m J+^n with g = -conj(a), summed naively at small N."""
    model = ps.Model(N=6, omega=2.0, chi=0.8, gamma=1.0)
    _, jp, jm = _spin_ops(3)
    g = -np.conj(cm.absorber_parameter(model))
    rho = sum(np.conj(g) ** -m * g ** -n * jm**m * jp**n for m in range(7) for n in range(7))
    rho = rho / rho.tr()
    np.testing.assert_allclose(cm.density_matrix(model).full(), rho.full(), rtol=0, atol=1e-13)


def test_zero_drive_is_ground_state():
    model = ps.Model(N=10, omega=0.0, chi=0.5)
    res = cm.steady_state(model)
    np.testing.assert_allclose(res.mean[0], [0, 0, -5], atol=1e-15)
    _, rho_ref = _reference(model)
    np.testing.assert_allclose(cm.density_matrix(model).full(), rho_ref.full(), atol=1e-12)


@pytest.mark.parametrize("ratio, chi", [(0.9, 1.0), (0.5, 0.0), (1.2, -1.0)])
def test_large_n_against_high_precision(ratio, chi):
    """N = 2000: the naive sum overflows float64; log-space result vs 40-digit arithmetic."""
    model = ps.Model.from_upsilon_ratio(2000, ratio, chi=chi)
    diag, band1, band2 = carmichael_bands(model)
    mean, second = moments_from_bands(1000.0, diag, band1, band2)
    res = cm.steady_state(model)
    # populations carry ~1e-16 * N * |log r| relative rounding (module docstring) ~ 1e-12 here
    p = cm.populations(model)
    big = diag > 1e-200
    np.testing.assert_allclose(p[big], diag[big], rtol=1e-10)
    np.testing.assert_allclose(res.mean[0], mean, rtol=0, atol=1e-10 * 1000)
    np.testing.assert_allclose(res.second[0], second, rtol=0, atol=1e-10 * 1000**2)
    # xi^2 involves a cancellation of O(j^2) terms to O(j): allow 1e-8 relative
    np.testing.assert_allclose(res.xi2, ps.xi2(mean, second, 2000), rtol=1e-8)


def test_order_parameter_thermodynamic_limit():
    ratios = np.array([0.3, 0.6, 0.9, 1.1, 1.5])
    Ns = [100, 1000, 10_000, 100_000]
    d = cm.phase_diagram(ratios, Ns, chi=1.0)
    tl = cm.order_parameter_tl(ratios)
    assert np.all(tl[:3] < 0) and np.all(tl[3:] == 0)  # lower (stable) branch: atoms mostly down
    err = np.abs(d["jz_over_j"] - tl)
    # finite-size corrections are O(1/N) away from the critical point: each decade of N must
    # cut the error by well over 5 (observed: by 10), and N = 1e5 must be within 1e-4
    assert np.all(err[1:] < err[:-1] / 5)
    assert np.all(err[-1] < 1e-4)
    assert np.all(d["jz_over_j"] < 0)


def test_squeezing_below_threshold():
    ratios = np.array([0.2, 0.5, 0.8, 0.9, 0.95, 0.99])
    d = cm.phase_diagram(ratios, 100_000, chi=1.0)
    assert np.all(d["xi2"] < 1) and np.all(d["xi2_db"] < 0)
    assert np.all(np.diff(d["xi2"]) < 0)  # improves toward the transition (paper Fig. 1c)
    above = cm.phase_diagram([1.1, 1.5], 2000, chi=1.0)
    assert np.all(above["xi2"] > 1)
    # the collective steady state stays in the j = N/2 sector
    np.testing.assert_allclose(d["n_eff"], 100_000, rtol=1e-12)


def test_phase_diagram_matches_steady_state():
    d = cm.phase_diagram([0.4, 0.97], [30, 40], chi=-0.5, gamma=2.0)
    assert d["jz_over_j"].shape == (2, 2) and d["xi2"].shape == (2, 2)
    res = cm.steady_state(ps.Model.from_upsilon_ratio(40, 0.97, chi=-0.5, gamma=2.0))
    assert d["jz_over_j"][1, 1] == pytest.approx(res.extras["jz_over_j"], abs=1e-15)
    assert d["xi2"][1, 1] == pytest.approx(res.xi2[0], rel=1e-14)
    assert res.extras["jz_over_j"] == pytest.approx(res.jz_over_j[0], abs=1e-15)


def test_result_roundtrip(tmp_path):
    res = cm.steady_state(ps.Model.from_upsilon_ratio(16, 0.8, chi=1.0), return_state=True)
    assert res.times[0] == np.inf and res.method == "carmichael"
    back = ps.Result.load(res.save(tmp_path / "carm"))
    np.testing.assert_array_equal(back.second, res.second)
    np.testing.assert_array_equal(back.extras["state"], res.extras["state"])
    assert back.extras["jz_over_j"] == res.extras["jz_over_j"]


@pytest.mark.parametrize("N, ratio, chi", [(10, 0.9, 1.0), (31, 0.6, -0.5), (50, 1.2, 2.0)])
def test_against_exact_solver(N, ratio, chi):
    model = ps.Model.from_upsilon_ratio(N, ratio, chi=chi)
    ref = ps.steady_state(model, method="exact")
    res = cm.steady_state(model)
    np.testing.assert_allclose(res.mean, ref.mean, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.second, ref.second, rtol=0, atol=1e-10)


def test_bad_input():
    local = ps.Model.from_upsilon_ratio(10, 0.9, chi=1.0, gamma_s=0.5)
    msg = cm.unsupported(local)
    assert "gamma_s" in msg and all(name in msg for name in ("exact", "mcwf", "cumulant"))
    for rate in ("dephasing", "pumping", "collective_dephasing", "collective_pumping"):
        assert rate in cm.unsupported(ps.Model(N=4, omega=1.0, **{rate: 0.1}))
    with pytest.raises(ps.MethodError, match="analytic"):
        ps.steady_state(local, method="carmichael")
    with pytest.raises(ValueError, match="gamma_s"):
        cm.steady_state(local)
    with pytest.raises(ValueError, match="gamma > 0"):
        cm.steady_state(ps.Model(N=4, omega=1.0, chi=1.0, gamma=0.0))
    with pytest.raises(TypeError, match="Model"):
        cm.steady_state("N=4")
    ok = ps.Model(N=4, omega=1.0)
    assert cm.unsupported(ok) is None
    assert "carmichael" in ps.available_methods(ok, "steady_state")
    assert "carmichael" not in ps.available_methods(local, "steady_state")
    with pytest.raises(TypeError, match="return_state"):
        cm.steady_state(ok, return_state="yes")
    with pytest.raises(ValueError, match="max_n"):
        cm.density_matrix(ps.Model(N=50, omega=1.0), max_n=10)
    with pytest.raises(ValueError, match="max_n"):
        cm.steady_state(ps.Model(N=50, omega=1.0), return_state=True, max_n=10)
    with pytest.raises(ValueError, match="ratios"):
        cm.phase_diagram([0.5, -1.0], 10)
    with pytest.raises(ValueError, match="ratios"):
        cm.phase_diagram([[0.5]], 10)
    with pytest.raises(ValueError, match="N"):
        cm.phase_diagram([0.5], 0)
    with pytest.raises(TypeError, match="N"):
        cm.phase_diagram([0.5], 2.5)
    with pytest.raises(ValueError, match="ratio"):
        cm.order_parameter_tl(-0.1)
