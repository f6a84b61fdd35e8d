"""The Pade partial fractions and the tridiagonal rational propagator of the MCWF kernel."""
import numpy as np
import pytest

from piqs_squeeze.methods.mcwf import sector as mcwf_sector
from piqs_squeeze.methods.mcwf.rational import HIGH_ORDER, LOW_ORDER, apply_rational, pade_fractions, rayleigh, work_array


def _pade_mp(k, z, mp):
    c = [mp.factorial(2 * k - j) * mp.factorial(k) / (mp.factorial(2 * k) * mp.factorial(j) * mp.factorial(k - j))
         for j in range(k + 1)]
    return sum(cj * z ** j for j, cj in enumerate(c)) / sum(cj * (-z) ** j for j, cj in enumerate(c))


@pytest.mark.parametrize("k", [HIGH_ORDER, LOW_ORDER])
def test_partial_fractions_equal_the_pade_approximant(k):
    """The tabulated poles/residues reproduce r_k = p_k(z) / p_k(-z) (50-digit mpmath) at points
    from 0 to far out in the left half plane; r_k(0) = 1 to round-off (the sum's cancellation is
    what needed the tabulated high-precision residues)."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    poles, coef, rinf = pade_fractions((k,))
    for z in [0.0, 0.3j, -0.5 + 2j, 4j, -3.0, -20 + 50j, 1e4j]:
        terms = coef[0] / (z - poles)
        got = rinf[0] + np.sum(terms)
        want = complex(_pade_mp(k, mp.mpc(z), mp))
        # round-off of the sum: a few ulps of sum |c_i / (z - p_i)| (<= 1e4)
        assert abs(got - want) < 8 * np.finfo(float).eps * max(np.abs(terms).sum(), 1.0)
    # the approximation itself: e^z to O(z^(2k+1))
    assert abs(rinf[0] + np.sum(coef[0] / (0.5j - poles)) - np.exp(0.5j)) < 1e-12


def test_pade_fractions_layout_and_bad_order():
    poles, coef, rinf = pade_fractions((8, 7))
    assert poles.shape == (15,) and coef.shape == (2, 15) and list(rinf) == [1.0, -1.0]
    assert np.all(coef[0, 8:] == 0) and np.all(coef[1, :8] == 0) and np.all(poles.real > 5)
    with pytest.raises(ValueError, match="not tabulated"):
        pade_fractions((5,))


def _random_dissipative(n, rng, scale=1e4):
    """Bands of A = -i H_eff with H_eff = Hermitian tridiagonal - i K, K >= 0 diagonal."""
    hdiag = rng.standard_normal(n) * scale
    up = rng.random(n - 1) * scale / 3
    kdiag = rng.random(n) * scale
    diag = -1j * (hdiag - 1j * kdiag)
    low = -1j * up + 0j   # Hermitian H: the lower band of H is up; of A = -i H it is -i up
    return diag, up, low


@pytest.mark.parametrize("window", [(0, 200), (37, 151)])
def test_apply_rational_matches_expm(window):
    """exp(h A) x on a window against scipy's expm_multiply: both orders, steps from well resolved
    (error ~ round-off) to the order-7 approximant's limit; the (8, 7) difference bounds the kept
    order-8 error (the estimate the kernel uses is conservative)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import expm_multiply
    rng = np.random.default_rng(5)
    n = 200
    diag, up, low = _random_dissipative(n, rng)
    a, b = window
    A = sp.diags([low[a:b - 1], diag[a:b], -1j * up[a:b - 1]], [-1, 0, 1]).tocsc()
    x = np.zeros(n, complex)
    x[a:b] = rng.standard_normal(b - a) + 1j * rng.standard_normal(b - a)
    x /= np.linalg.norm(x)
    poles, coef, rinf = pade_fractions()
    out = np.full((2, n), np.nan + 0j)
    W = work_array(n)
    mu, var, nx = rayleigh(diag, up, low, np.zeros(0), np.zeros(0), a, b, x)
    assert np.isclose(nx, 1.0) and np.isclose(mu, np.vdot(x[a:b], A @ x[a:b]))
    assert np.isclose(var, np.linalg.norm(A @ x[a:b] - mu * x[a:b]) ** 2, rtol=1e-8)
    for h in (1e-7, 1e-6, 1e-5):
        assert apply_rational(diag, up, low, a, b, mu, h, poles, coef, rinf, x, out, W)
        want = expm_multiply(A * h, x[a:b])
        err8, err7 = (np.linalg.norm(out[r, a:b] - want) for r in (0, 1))
        est = np.linalg.norm(out[0, a:b] - out[1, a:b])
        assert err8 <= est + 1e-11
        assert err8 < 1e-11 if h <= 1e-6 else err8 < 1e-4
    assert np.all(np.isnan(out[:, :a])) and np.all(np.isnan(out[:, b:]))  # nothing outside the window


def test_rational_and_krylov_give_the_same_trajectory():
    """Two independent propagators, one seed, fixed displacement: the same jumps (kinds, and times
    to 1e-7) and the same moments, at N = 300 in the Fig. S2 regime (Omega = N)."""
    from piqs_squeeze import Model
    from piqs_squeeze.methods.mcwf import ensemble as mcwf
    model = Model(N=300, omega=300.0, chi=1.0, gamma=1.0, gamma_s=2.0)
    j0, psi0 = mcwf.initial_state(300, None)
    beta = mcwf_sector.default_beta(model)
    times = np.linspace(0.0, 0.15, 16)
    recs = [mcwf_sector.run_trajectory(model, times, j0, psi0, beta, np.random.default_rng(11), scheme=p,
                                       tol=1e-10) for p in ("rational", "krylov")]
    a, b = recs
    assert len(a["jump_times"]) > 20
    assert np.array_equal(a["jump_kinds"], b["jump_kinds"]) and np.array_equal(a["j"], b["j"])
    assert np.abs(a["jump_times"] - b["jump_times"]).max() < 1e-7
    assert np.abs(a["mean"] - b["mean"]).max() < 1e-5 * 150
    assert a["steps"] * 3 < b["steps"]  # and the rational steps are longer


@pytest.mark.parametrize("propagator", mcwf_sector.SCHEMES)
def test_trajectory_does_not_depend_on_the_output_grid(propagator):
    """Output times only clip steps: one seed gives the same jumps for a coarse and a fine grid.
    (Regression: the Krylov bound sampled at the step's end only accepted a first step as long as
    the whole interval when exp(h A_m) had decayed to nothing there: here 13744 jumps on the coarse
    grid against 137 on the fine one.)"""
    from piqs_squeeze import Model
    from piqs_squeeze.methods.mcwf import ensemble as mcwf
    model = Model(N=500, omega=500.0, chi=1.0, gamma=1.0, gamma_s=2.0)
    j0, psi0 = mcwf.initial_state(500, None)
    beta = mcwf_sector.default_beta(model)
    recs = [mcwf_sector.run_trajectory(model, grid, j0, psi0, beta, np.random.default_rng(2), scheme=propagator)
            for grid in (np.array([0.0, 0.2]), np.linspace(0.0, 0.2, 41))]
    a, b = recs
    assert len(a["jump_times"]) > 10
    assert np.array_equal(a["jump_kinds"], b["jump_kinds"])
    assert np.abs(a["jump_times"] - b["jump_times"]).max() < 1e-6
    assert np.abs(a["mean"][-1] - b["mean"][-1]).max() < 1e-4


def test_rational_tolerance_below_rounding_still_finishes():
    """A bound below the partial fractions' rounding (~1.4e-11) acts as that floor instead of
    shrinking the steps without end (it used to run for minutes); the result matches Krylov at 1e-12."""
    from piqs_squeeze import Model
    from piqs_squeeze.methods.mcwf import ensemble as mcwf
    model = Model(N=150, omega=150.0, chi=1.0, gamma=1.0, gamma_s=1.0, dephasing=0.5)
    j0, psi0 = mcwf.initial_state(150, None)
    beta = mcwf_sector.default_beta(model)
    times = np.linspace(0.0, 0.1, 5)
    a, b = (mcwf_sector.run_trajectory(model, times, j0, psi0, beta, np.random.default_rng(4), tol=tol, scheme=p)
            for p, tol in (("rational", 1e-14), ("krylov", 1e-12)))
    assert a["steps"] < 10 * b["steps"]
    assert np.array_equal(a["jump_kinds"], b["jump_kinds"]) and np.abs(a["jump_times"] - b["jump_times"]).max() < 1e-8
