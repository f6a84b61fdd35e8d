import numpy as np
import pytest
import qutip
from scipy.optimize import minimize_scalar

from piqs_squeeze import observables as obs
from piqs_squeeze.states import css_amplitudes, css_moments

DIRECTIONS = [(np.pi / 2, np.pi), (0.0, 0.0), (np.pi, 0.3), (0.3, 1.2), (2.0, -2.5), (np.pi / 2, 0.0)]


@pytest.mark.parametrize("N", [1, 2, 7, 100, 2000, 100_000])
@pytest.mark.parametrize("theta,phi", DIRECTIONS)
def test_css_is_unsqueezed_with_full_neff(N, theta, phi):
    mean, second = css_moments(N, theta, phi)
    # analytic CSS moments: xi^2 = 1 and N_eff = N up to round-off of O(N^2) second moments
    assert obs.xi2(mean, second, N) == pytest.approx(1.0, abs=1e-10)
    assert obs.n_eff(second) == pytest.approx(N, rel=1e-12)


def _qutip_moments(j, ket):
    J = [qutip.jmat(j, a) for a in "xyz"]
    mean = np.array([qutip.expect(a, ket) for a in J])
    second = np.array([[qutip.expect(0.5 * (a * b + b * a), ket) for b in J] for a in J])
    return mean, second


@pytest.mark.parametrize("N", [1, 4, 31])
@pytest.mark.parametrize("theta,phi", DIRECTIONS)
def test_css_amplitudes_match_qutip_moments(N, theta, phi):
    """The Dicke amplitudes reproduce the analytic CSS moments (evaluated with qutip.jmat)."""
    ket = qutip.Qobj(css_amplitudes(N, theta, phi))
    mean, second = _qutip_moments(N / 2, ket)
    m_ref, s_ref = css_moments(N, theta, phi)
    np.testing.assert_allclose(mean, m_ref, atol=1e-12 * N)
    np.testing.assert_allclose(second, s_ref, atol=1e-11 * N * N)
    assert obs.xi2(mean, second, N) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("N", [1000, 100_000])
def test_css_amplitudes_large_N_no_overflow(N):
    a = css_amplitudes(N, 1.1, 0.4)
    assert np.all(np.isfinite(a)) and abs(np.linalg.norm(a) - 1) < 1e-12
    mag = np.abs(a)
    k_peak = int(np.argmax(mag))
    # the binomial peak sits at N sin^2(theta/2) atoms down
    assert abs(k_peak - N * np.sin(1.1 / 2) ** 2) <= 1 + 1e-6 * N


def _twisted_state(N, mu):
    j = N / 2
    psi = qutip.Qobj(css_amplitudes(N, np.pi / 2, 0.0))
    return (-0.5j * mu * qutip.jmat(j, "z") ** 2).expm() * psi


@pytest.mark.parametrize("N,mu", [(10, 0.3), (40, 0.1), (100, 0.05)])
def test_one_axis_twisted_state_against_brute_force_directions(N, mu):
    """xi^2 of a one-axis-twisted state equals a brute-force minimum over perpendicular directions."""
    j = N / 2
    ket = _twisted_state(N, mu)
    mean, second = _qutip_moments(j, ket)
    xi2, axis = obs.squeezing(mean, second, N)
    assert xi2 < 0.9  # the state is squeezed
    # brute force: Var(J.n) over a fine circle of n perpendicular to <J>, each from qutip operators
    u = mean / np.linalg.norm(mean)
    e1 = np.cross(u, [0.0, 0.0, 1.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(u, e1)
    J = [qutip.jmat(j, a) for a in "xyz"]

    def xi2_along(ang):
        n = np.cos(ang) * e1 + np.sin(ang) * e2
        Jn = n[0] * J[0] + n[1] * J[1] + n[2] * J[2]
        var = qutip.expect(Jn * Jn, ket) - qutip.expect(Jn, ket) ** 2
        return N * var / np.dot(mean, mean)

    grid = np.linspace(0, np.pi, 361)
    k = int(np.argmin([xi2_along(a) for a in grid]))
    step = grid[1] - grid[0]
    best = minimize_scalar(xi2_along, bounds=(grid[k] - step, grid[k] + step), method="bounded",
                           options={"xatol": 1e-10}).fun
    # near the minimum V(a) = V0 (1 + O(da^2)); xatol 1e-10 leaves ~1e-18 relative: the
    # tolerance is set by round-off in the moments (~1e-12)
    assert xi2 == pytest.approx(best, rel=1e-9)
    assert xi2 <= best * (1 + 1e-12)
    assert abs(np.dot(axis, u)) < 1e-10 and np.linalg.norm(axis) == pytest.approx(1.0)


def test_vectorised_over_time_and_zero_mean_spin():
    N = 6
    m1, s1 = css_moments(N, 0.4, 0.2)
    # a Dicke state |j, 0>: no mean spin
    m0, s0 = np.zeros(3), np.diag([N / 2 * (N / 2 + 1) / 2] * 2 + [0.0])
    mean = np.stack([m1, m0])
    second = np.stack([s1, s0])
    xi2, axis = obs.squeezing(mean, second, N)
    assert xi2.shape == (2,) and axis.shape == (2, 3)
    assert xi2[0] == pytest.approx(1.0, abs=1e-12)
    assert np.isinf(xi2[1]) and np.all(np.isnan(axis[1]))
    assert obs.xi2_db(mean, second, N)[0] == pytest.approx(0.0, abs=1e-10)
    assert obs.n_eff(second)[1] == pytest.approx(N)


def test_shape_errors():
    with pytest.raises(ValueError, match="shape"):
        obs.xi2(np.zeros(2), np.zeros((3, 3)), 4)


def test_moments_from_collective_roundtrip():
    """Build moments from collective expectation values of a random state and compare with qutip."""
    rng = np.random.default_rng(0)
    j = 3.5
    v = rng.normal(size=8) + 1j * rng.normal(size=8)
    ket = qutip.Qobj(v / np.linalg.norm(v))
    jp, jz = qutip.jmat(j, "+"), qutip.jmat(j, "z")
    mean, second = obs.moments_from_collective(
        qutip.expect(jp, ket), qutip.expect(jz, ket), qutip.expect(jp * jp, ket),
        qutip.expect(jz * jz, ket), qutip.expect(0.5 * (jp * jz + jz * jp), ket), j * (j + 1))
    m_ref, s_ref = _qutip_moments(j, ket)
    np.testing.assert_allclose(mean, m_ref, atol=1e-13)
    np.testing.assert_allclose(second, s_ref, atol=1e-12)
