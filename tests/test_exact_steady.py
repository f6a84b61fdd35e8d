"""Exact steady states (block-preconditioned GMRES) and symmetric-sector Liouvillian spectra.

References are independent of the Dicke bookkeeping where possible: the 4^N Liouvillian of the
2^N site-operator model (qutip.liouvillian; null vector by a sparse LU, symmetric-sector spectrum
by the orbit basis of permutation-invariant operators), the old all-blocks sparse LU, dense
eigenvalues of the generator, and long-time exact evolution.
"""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import piqs_squeeze as ps
from piqs_squeeze.methods.exact import solver as exact, steady as exact_steady
from piqs_squeeze.methods.exact import generator as ops
from piqs_squeeze.validation import bruteforce, bruteforce_spectrum as bfs, cases

ALL_RATES, ALL_RATES_2 = cases.ALL_RATES


@pytest.mark.parametrize("N,p", [(3, ALL_RATES), (4, ALL_RATES_2), (5, ALL_RATES), (6, ALL_RATES_2)])
def test_steady_state_matches_full_space_null_vector(N, p):
    """GMRES steady state vs the null vector of the 4^N Liouvillian (sparse LU in the full space,
    no Dicke basis). Both solves reach residuals ~1e-14; the problem's condition number is
    ~1e2-1e3 here, so moments O(N^2) agree to ~1e-12: 1e-9 relative leaves a wide margin while a
    wrong coupling coefficient would show at 1e-3 or above."""
    model = cases.make_model(N, p)
    ours = ps.steady_state(model, method="exact")
    rho, res = bfs.steady_state_vector(model)
    assert res < 1e-12
    mean, second = bruteforce.moments(N, [rho])
    scale = max(np.abs(second).max(), 1.0)
    assert np.abs(ours.mean - mean).max() / scale < 1e-9
    assert np.abs(ours.second - second).max() / scale < 1e-9
    assert ours.extras["unique"] is True
    assert ours.extras["residual_rel"] < 1e-9


def test_steady_state_matches_all_blocks_lu_and_matrix_free_residual():
    """N = 24, gamma_s and pumping: GMRES vs the direct sparse LU of all blocks (solver="lu"),
    1e-9 relative on the blocks (both residuals <= 1e-11 relative, condition number ~1e3); and
    the reported residual recomputed with the independent matrix-free kernel product."""
    from piqs_squeeze.methods.exact.kernels import PackedGenerator

    model = ps.Model.from_upsilon_ratio(24, 0.8, chi=0.5, gamma_s=0.7, pumping=0.1)
    a = exact.steady_state(model, return_state=True)
    b = exact.steady_state(model, return_state=True, solver="lu")
    xa, xb = a.extras["final_state"], b.extras["final_state"]
    assert np.abs(xa - xb).max() / np.abs(xb).max() < 1e-9
    lay = ops.Layout(24)
    x = ops.pack(lay, xa)
    r = PackedGenerator(model, lay).dot(x)
    assert np.abs(r).max() == pytest.approx(a.extras["residual"], rel=1e-3, abs=1e-13)
    assert a.extras["residual_rel"] < 1e-9
    assert abs(a.extras["j_populations"].sum() - 1) < 1e-12
    # the two-step lambda_2 estimate is rough but in the right place (spectrum: the exact value)
    lam2 = ps.liouvillian_spectrum(model, k=2).eigenvalues[1]
    assert abs(a.extras["lambda2_estimate"] - lam2) < 0.5 * abs(lam2)


def test_steady_state_matches_long_time_evolution():
    """N = 8, gamma_s = 1: the exact evolution from a CSS at t = 32 / gap has relaxed to
    exp(-32) ~ 1e-14 of the initial distance; Krylov rtol 1e-10 then bounds the difference."""
    model = ps.Model.from_upsilon_ratio(8, 0.9, chi=1.0, gamma_s=1.0)
    ss = ps.steady_state(model, method="exact")
    gap = ps.liouvillian_spectrum(model, k=3).gap
    ev = ps.evolve(model, [0.0, 32.0 / gap], method="exact", rtol=1e-10, progress=False)
    scale = np.abs(ss.second).max()
    assert np.abs(ev.mean[-1] - ss.mean[0]).max() / scale < 1e-8
    assert np.abs(ev.second[-1] - ss.second[0]).max() / scale < 1e-8


def test_not_unique_is_reported():
    """Pure local dephasing without drive conserves every Jz population: many steady states."""
    with pytest.raises(ValueError, match="not unique"):
        ps.steady_state(ps.Model(4, gamma=0.0, dephasing=1.0), method="exact")
    # with the check off a state is still returned (one of them)
    r = exact_steady.steady_state(ps.Model(4, gamma=0.0, dephasing=1.0), check_unique=False)
    assert r.extras["unique"] is None


def _match(ours, ref, k):
    """Every computed eigenvalue is an eigenvalue of the reference, and the computed ones are the
    k rightmost (same real parts as the reference's k largest)."""
    dist = np.array([np.abs(ref - z).min() for z in ours])
    re = np.sort(ref.real)[::-1][:k]
    return dist.max(), np.abs(np.sort(ours.real)[::-1] - re).max()


def _match_nearest(ours, ref, k):
    """As :func:`_match` for the k nearest 0 (``sigma=0``: same moduli as the reference's k smallest)."""
    dist = np.array([np.abs(ref - z).min() for z in ours])
    mods = np.sort(np.abs(ref))[:k]
    return dist.max(), np.abs(np.sort(np.abs(ours)) - mods).max()


@pytest.mark.parametrize("N,p", [(3, ALL_RATES), (4, ALL_RATES_2), (5, ALL_RATES)])
def test_spectrum_matches_bruteforce_symmetric_sector(N, p):
    """Shift-invert Arnoldi vs numpy eigvals of the 4^N Liouvillian restricted to the orbit basis
    of permutation-invariant operators. Eigenvalues O(1-10), both to ~1e-12: 1e-8 absolute."""
    model = cases.make_model(N, p)
    ref = bfs.symmetric_spectrum(model)
    assert ref.size == sum(int(d) ** 2 for d in ops.dicke.block_dims(N))
    sp_ = ps.liouvillian_spectrum(model, k=6)
    assert sp_.eigenvalues[0] == 0
    assert np.all(np.diff(sp_.eigenvalues.real) <= 1e-12)  # largest real part first
    d, dm = _match(sp_.eigenvalues, ref, 6)
    assert d < 1e-8 and dm < 1e-8
    assert sp_.gap == pytest.approx(-sp_.eigenvalues[1].real)
    near = ps.liouvillian_spectrum(model, k=6, sigma=0.0)  # the k nearest 0, as before the scan
    d, dm = _match_nearest(near.eigenvalues, ref, 6)
    assert d < 1e-8 and dm < 1e-8


def test_spectrum_collective_all_blocks_and_top():
    """Collective model: every j block has its eigenvalue 0 (3 blocks at N = 4); 'top' (the
    default) is j = 2."""
    model = ps.Model.from_upsilon_ratio(4, 0.7, chi=0.8, collective_dephasing=0.3)
    ref = bfs.symmetric_spectrum(model)
    sp_ = ps.liouvillian_spectrum(model, k=6, blocks="all")
    assert sp_.gap > 0 and set(sp_.info["per_j"]) == {2.0, 1.0, 0.0}
    assert np.sum(np.abs(sp_.eigenvalues) < 1e-10) == 3
    d, dm = _match(sp_.eigenvalues, ref, 6)
    assert d < 1e-8 and dm < 1e-8
    top = ps.liouvillian_spectrum(model, k=4, blocks="top")
    assert np.array_equal(top.eigenvalues, ps.liouvillian_spectrum(model, k=4).eigenvalues)
    dense = np.linalg.eigvals(ops.generator_packed(model, ops.Layout(4, 1)).toarray())
    d, dm = _match(top.eigenvalues, dense, 4)
    assert d < 1e-8 and dm < 1e-8


def test_spectrum_with_shift_matches_dense():
    """sigma != 0 (no rank-one part): Arnoldi vs dense eigvals of the packed generator, N = 10."""
    model = ps.Model.from_upsilon_ratio(10, 1.2, chi=1.0, gamma_s=2.0, dephasing=0.5)
    ref = np.linalg.eigvals(ops.generator_packed(model).toarray())
    sp_ = ps.liouvillian_spectrum(model, k=5, sigma=-3.0)
    dist = np.array([np.abs(ref - z).min() for z in sp_.eigenvalues])
    assert dist.max() < 1e-8
    near = np.sort(np.abs(ref + 3.0))[:5]
    assert np.abs(np.sort(np.abs(sp_.eigenvalues + 3.0)) - near).max() < 1e-8


def test_results_do_not_depend_on_blas_threads():
    model = ps.Model.from_upsilon_ratio(16, 0.9, chi=1.0, gamma_s=1.0)
    a = exact_steady.steady_state(model, return_state=True)
    with threadpool_limits(2):
        b = exact_steady.steady_state(model, return_state=True)
    assert np.array_equal(a.extras["final_state"], b.extras["final_state"])


def test_bad_input():
    local = ps.Model(4, omega=1.0, gamma_s=1.0)
    with pytest.raises(ValueError, match="k must"):
        ps.liouvillian_spectrum(local, k=0)
    with pytest.raises(ValueError, match="sigma"):
        ps.liouvillian_spectrum(local, sigma=1j)
    with pytest.raises(ValueError, match="blocks"):
        ps.liouvillian_spectrum(local, blocks="top")
    with pytest.raises(ValueError, match="blocks"):
        ps.liouvillian_spectrum(local, blocks="some")
    with pytest.raises(ValueError, match="method"):
        ps.liouvillian_spectrum(local, method="qr")
    with pytest.raises(ValueError, match="tol"):
        ps.liouvillian_spectrum(local, tol=0.1)
    with pytest.raises(ValueError, match="tol"):
        exact_steady.steady_state(local, tol=-1.0)
    with pytest.raises(ValueError, match="restart"):
        exact_steady.steady_state(local, restart=1)
    with pytest.raises(ValueError, match="solver"):
        exact.steady_state(local, solver="qr")
    with pytest.raises(TypeError, match="model"):
        ps.liouvillian_spectrum("model")
    with pytest.raises(MemoryError, match="GiB"):
        ps.steady_state(ps.Model(1000, omega=1.0, gamma_s=1.0), method="exact")
    with pytest.raises(ValueError, match="local rate"):
        exact_steady.steady_state(ps.Model(4, omega=1.0))


def test_phase_exact_figure_calls_the_library(tmp_path):
    """The figure's data are the library's steady states and gaps (reduced: N = 6, 3 drives), the
    xi^2 = 1 crossing lies inside the grid where xi^2 changes sign, and PNG + PDF are written."""
    from piqs_squeeze.figures import phase_exact

    data = phase_exact.compute(quick=True, cache_dir=None, Ns=[6], gamma_s=[0.0, 1.0], ratios=[0.5, 0.9, 1.3],
                               gap_max_N=6)
    paths = phase_exact.plot(data, tmp_path)
    assert sorted(p.suffix for p in paths) == [".pdf", ".png"] and all(p.stat().st_size > 1000 for p in paths)
    r = data["ratio"][1]
    m = ps.Model.from_upsilon_ratio(6, r, chi=1.0, gamma_s=1.0)
    ss = ps.steady_state(m, method="exact")
    assert data["jz"][0, 1, 1] == pytest.approx(ss.mean[0, 2] / 3, rel=1e-12)
    assert data["xi2"][0, 1, 1] == pytest.approx(ss.xi2[0], rel=1e-12)
    assert data["gap"][0, 1, 1] == pytest.approx(ps.liouvillian_spectrum(m, k=3).gap, rel=1e-8)
    for b in range(2):
        x = data["xi2"][0, b]
        c = data["xi2_crossing"][0, b]
        if np.any(x < 1) and np.any(x > 1):
            assert data["ratio"][0] <= c <= data["ratio"][-1]
    assert phase_exact.crossing(np.array([0.0, 1.0]), np.array([0.5, 2.0])) == pytest.approx(0.5)
