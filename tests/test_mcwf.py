"""MCWF trajectories against independent references and exactly known statistics.

Statistical assertions use fixed seeds (deterministic), with tolerances of 4 standard errors:
for a correct sampler each such check fails with probability ~6e-5, so a test comparing ~100
correlated numbers has a false-alarm rate below 1%, while an error in a rate or an amplitude
of a few percent shows up as a many-sigma deviation at these ensemble sizes.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import stats

import piqs_squeeze as ps
from piqs_squeeze.methods.exact import solver as exact
from piqs_squeeze.methods.mcwf import ensemble as mcwf, sector as mcwf_sector
from piqs_squeeze.methods.mcwf.sector import jump_kind_names
from piqs_squeeze.states import css
from piqs_squeeze.validation import bruteforce

TIMES = np.linspace(0.0, 1.5, 6)


def _assert_within(res, ref, nsig=4.0):
    """Every moment within nsig standard errors of the reference at every time after t0."""
    for name in ("mean", "second"):
        got, want, err = getattr(res, name)[1:], getattr(ref, name)[1:], getattr(res, name + "_err")[1:]
        dev = np.abs(got - want)
        # entries with zero sampling error (e.g. <Jz^2> = 1/4 at N = 1) must agree to round-off
        tol = nsig * err + 1e-10
        assert np.all(dev <= tol), f"{name}: max |z| = {np.max(dev / np.maximum(err, 1e-300)):.2f}"


# emission, dephasing and pumping, collective processes, both signs of chi, odd and even N,
# and the three unravellings of collective emission (they must give the same ensemble).
CASES = [
    (ps.Model(N=4, omega=2.0, chi=0.5, gamma=1.0, gamma_s=0.7, dephasing=0.4, pumping=0.3), "fixed_point"),
    (ps.Model(N=5, omega=1.5, chi=-0.3, gamma=1.0, gamma_s=0.5, collective_dephasing=0.3,
              collective_pumping=0.2), "fixed_point"),
    (ps.Model(N=6, omega=3.0, chi=1.0, gamma=1.0, gamma_s=1.0, dephasing=0.5), "none"),
    (ps.Model(N=4, omega=2.0, chi=1.0, gamma=1.0, gamma_s=0.5, pumping=0.2), "drive"),
]


@pytest.mark.parametrize("model, disp", CASES)
def test_ensemble_matches_bruteforce(model, disp):
    # 1500 trajectories give standard errors <~ 2e-2 on O(1) moments (asserted below)
    res = mcwf.evolve(model, TIMES, ntraj=1500, seed=11, workers=1, displacement=disp)
    ref = bruteforce.evolve(model, TIMES, css())
    assert res.mean_err[1:].max() < 0.03 and res.second_err[1:].max() < 0.06
    _assert_within(res, ref)
    # t0 is the exact CSS: no spread at all
    np.testing.assert_allclose(res.mean[0], ref.mean[0], atol=1e-12)
    assert np.all(res.mean_err[0] < 1e-12)


def test_matches_exact_solver_n8():
    model = ps.Model(N=8, omega=4.0, chi=1.0, gamma=1.0, gamma_s=0.8, dephasing=0.3, pumping=0.2)
    res = mcwf.evolve(model, TIMES, ntraj=1000, seed=5, workers=1)
    ref = exact.evolve(model, TIMES)
    _assert_within(res, ref)


def test_error_shrinks_as_inverse_sqrt_ntraj():
    model = CASES[0][0]
    ref = bruteforce.evolve(model, TIMES, css())
    small = mcwf.evolve(model, TIMES, ntraj=200, seed=3, workers=1)
    big = mcwf.evolve(model, TIMES, ntraj=1800, seed=4, workers=1)
    # the estimated errors scale as 1/sqrt(n): ratio sqrt(9) = 3, each estimate averaged over
    # 60 entries with ~5% relative scatter -> 15% tolerance is ample
    ratio = small.mean_err[1:].mean() / big.mean_err[1:].mean()
    assert 2.55 < ratio < 3.45
    # and the actual deviations follow them: RMS z-score O(1) in both (chi^2 with 15 dof: 0.4..1.7)
    for res in (small, big):
        z = (res.mean[1:] - ref.mean[1:]) / res.mean_err[1:]
        assert 0.4 < np.sqrt(np.mean(z**2)) < 1.7
    assert np.abs(big.mean[1:] - ref.mean[1:]).max() < np.abs(small.mean[1:] - ref.mean[1:]).max()


@pytest.fixture(params=["eigenbasis", "step kernel"])
def path(request, monkeypatch):
    """Run a test on both propagation paths: cached eigenbases (N + 1 <= SMALL_DIM) and the step
    kernel (rational steps, state-following displacement), forced by SMALL_DIM = 0 (workers=1)."""
    if request.param == "step kernel":
        monkeypatch.setattr(mcwf_sector, "SMALL_DIM", 0)
    return request.param


def test_collective_model_stays_in_top_sector(path):
    model = ps.Model(N=7, omega=3.0, chi=0.7, gamma=1.0, collective_dephasing=0.2, collective_pumping=0.1)
    res = mcwf.evolve(model, TIMES, ntraj=30, seed=1, workers=1, keep_trajectories=True)
    assert np.all(res.extras["traj_j"] == 3.5)
    assert res.extras["njumps"].sum() > 30  # jumps did happen
    np.testing.assert_allclose(res.extras["traj_n_eff"], 7.0, rtol=1e-12)


def test_local_emission_from_fully_excited_state(path):
    """Only local emission from |N/2, N/2>: atoms decay independently at rate gamma_s.

    Hence (i) the first jump time is exponential with rate gamma_s N; (ii) sum_i sigma_i^- on
    |up...up> has symmetric (j = N/2) weight 1/N, so the first jump keeps j with probability 1/N;
    (iii) every jump lowers m by one and the number of jumps by t is Binomial(N, 1 - e^{-gamma_s t});
    (iv) <Jz>(t) = N (e^{-gamma_s t} - 1/2).
    """
    N, gs, n = 6, 1.3, 2000
    model = ps.Model(N=N, omega=0.0, chi=0.0, gamma=0.0, gamma_s=gs)
    times = np.linspace(0.0, 1.0, 5)
    res = mcwf.evolve(model, times, initial=css(0.0, 0.0), ntraj=n, seed=7, workers=1, keep_trajectories=True)
    ex = res.extras
    off, jt, kinds = ex["jump_offsets"], ex["jump_times"], ex["jump_kinds"]
    has = np.diff(off) > 0
    first = jt[off[:-1][has]]
    censored = (~has).sum()  # no jump before t_end: probability e^{-gs N t_end} ~ 4e-4
    assert censored < 10
    assert stats.kstest(first, stats.expon(scale=1 / (gs * N)).cdf).pvalue > 1e-3
    names = jump_kind_names()
    stay = np.mean(kinds[off[:-1][has]] == names.index("gamma_s+0"))
    assert abs(stay - 1 / N) < 4 * np.sqrt((1 / N) * (1 - 1 / N) / has.sum())
    p = 1 - np.exp(-gs * times[-1])
    counts = ex["njumps"]
    assert abs(counts.mean() - N * p) < 4 * np.sqrt(N * p * (1 - p) / n)
    assert abs(counts.var(ddof=1) / (N * p * (1 - p)) - 1) < 4 * np.sqrt(2 / n)
    np.testing.assert_allclose(res.mean[:, 2], N * (np.exp(-gs * times) - 0.5), atol=4 * res.mean_err[:, 2].max())
    # every trajectory is a Dicke state |j, m> with m = N/2 - (jumps so far): Var(Jz) = 0 in each
    traj_var = ex["traj_second"][..., 2, 2] - ex["traj_mean"][..., 2] ** 2
    assert np.abs(traj_var).max() < 1e-9


def test_trajectory_records_are_consistent(path):
    model = ps.Model(N=6, omega=3.0, chi=1.0, gamma=1.0, gamma_s=1.5, dephasing=0.5, pumping=0.4)
    times = np.linspace(0.2, 2.0, 10)
    res = mcwf.evolve(model, times, ntraj=20, seed=2, workers=1, keep_trajectories=True)
    ex = res.extras
    j = ex["traj_j"]
    # N_eff of a trajectory is 2j, and <J^2> = j(j+1): the stored moments are of normalised states
    np.testing.assert_allclose(ex["traj_n_eff"], 2 * j, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.trace(ex["traj_second"], axis1=-2, axis2=-1), j * (j + 1), rtol=1e-10)
    assert np.all(np.abs(ex["traj_mean"][..., 2]) <= j + 1e-9)
    names = jump_kind_names()
    dj_of = np.array([0, 0, 0] + [int(s[-2:]) for s in names[3:]])
    assert ex["jump_offsets"][-1] == len(ex["jump_times"]) == len(ex["jump_kinds"])
    for i in range(20):
        sl = slice(ex["jump_offsets"][i], ex["jump_offsets"][i + 1])
        t, k = ex["jump_times"][sl], ex["jump_kinds"][sl]
        assert np.all(np.diff(t) > 0) and (t.size == 0 or (t[0] > times[0] and t[-1] <= times[-1]))
        # j at each output time = N/2 + sum of the dj of the jumps before it
        expect = 3.0 + np.array([dj_of[k[t <= tt]].sum() for tt in times])
        np.testing.assert_array_equal(j[i], expect)
    np.testing.assert_allclose(ex["traj_xi2"], ps.observables.xi2(ex["traj_mean"], ex["traj_second"], 6))
    assert res.extras["xi2_err"].shape == res.xi2.shape and np.all(res.extras["xi2_err"][1:] > 0)


def test_same_seed_bit_identical_whatever_workers(tmp_path):
    model = CASES[0][0]
    kw = dict(ntraj=24, seed=123, keep_trajectories=True)
    a = mcwf.evolve(model, TIMES, workers=1, **kw)
    b = mcwf.evolve(model, TIMES, workers=2, chunk=5, **kw)
    with ThreadPoolExecutor(3) as pool:
        c = mcwf.evolve(model, TIMES, executor=pool, chunk=7, **kw)
    for other in (b, c):
        for name in ("mean", "second", "mean_err", "second_err"):
            assert np.array_equal(getattr(a, name), getattr(other, name))
        for key in ("jump_times", "jump_kinds", "traj_j", "xi2_err"):
            assert np.array_equal(a.extras[key], other.extras[key])
    d = mcwf.evolve(model, TIMES, workers=1, ntraj=24, seed=124)
    assert not np.array_equal(a.mean, d.mean)
    back = ps.Result.load(a.save(tmp_path / "mcwf.npz"))
    assert np.array_equal(back.extras["jump_times"], a.extras["jump_times"])
    assert back.extras["jump_kind_names"] == jump_kind_names()


def test_target_xi2_err_stops_early_and_matches_plain_run():
    model = CASES[0][0]
    res = mcwf.evolve(model, TIMES, ntraj=400, seed=9, workers=1, target_xi2_err=0.2, batch=40)
    n = res.extras["ntraj"]
    assert n < 400 and n % 40 == 0
    assert np.nanmax(res.extras["xi2_err"][1:]) < 0.2
    plain = mcwf.evolve(model, TIMES, ntraj=n, seed=9, workers=1)
    assert np.array_equal(res.mean, plain.mean)


def test_api_dispatch():
    model = ps.Model(N=3, omega=1.0, gamma=1.0, gamma_s=0.5)
    res = ps.evolve(model, [0.0, 0.5], method="mcwf", ntraj=5, seed=0, workers=1)
    assert res.method == "mcwf" and res.extras["ntraj"] == 5
    assert mcwf.unsupported(model) is None


@pytest.mark.parametrize("kwargs, exc", [
    (dict(ntraj=0), ValueError), (dict(ntraj=2.5), ValueError), (dict(seed=-1), ValueError),
    (dict(workers=0), ValueError), (dict(executor="pool"), TypeError),
    (dict(target_xi2_err=-1.0), ValueError), (dict(displacement="sideways"), ValueError),
    (dict(displacement=[1]), TypeError), (dict(initial=np.ones(3)), ValueError),
    (dict(initial=(0.5, np.ones(2))), ValueError), (dict(initial=np.zeros(5)), ValueError),
    (dict(times=[1.0, 0.5]), ValueError),
])
def test_bad_input(kwargs, exc):
    model = ps.Model(N=4, omega=1.0, gamma=1.0, gamma_s=0.5)
    kwargs = dict(kwargs)
    times = kwargs.pop("times", [0.0, 1.0])
    with pytest.raises(exc):
        mcwf.evolve(model, times, **{"ntraj": 2, "workers": 1, **kwargs})
    with pytest.raises(TypeError):
        mcwf.evolve("model", [0.0, 1.0])


# ---- the step kernel (sectors larger than SMALL_DIM) and the state-following displacement

from piqs_squeeze import dicke  # noqa: E402
from piqs_squeeze.methods.mcwf.kernels import NSUMS, advance  # noqa: E402
from piqs_squeeze.methods.mcwf.rational import work_array  # noqa: E402
from piqs_squeeze.observables import moments_from_collective  # noqa: E402


@pytest.fixture
def steps_everywhere(monkeypatch):
    """Force the step kernel (rational or Krylov) even in small sectors (workers=1 runs in this process)."""
    monkeypatch.setattr(mcwf_sector, "SMALL_DIM", 0)


@pytest.mark.parametrize("case", [0, 1])
def test_rational_adaptive_matches_bruteforce(steps_everywhere, case):
    model = CASES[case][0]
    res = mcwf.evolve(model, TIMES, ntraj=1500, seed=21, workers=1)  # default: adaptive beta = -<J->
    assert np.all(np.isnan(res.extras["beta"]))
    _assert_within(res, bruteforce.evolve(model, TIMES, css()))


@pytest.mark.parametrize("propagator,step_tol", [("rational", None), ("rational", 1e-4), ("krylov", None)])
def test_step_kernel_adaptive_matches_exact_n30(steps_everywhere, propagator, step_tol):
    """Both propagators, and a per-step bound 1e-4: its error stays far below the statistical one."""
    model = ps.Model(N=30, omega=30.0, chi=1.0, gamma=1.0, gamma_s=2.0, dephasing=0.5)
    times = np.linspace(0.0, 0.6, 7)
    res = mcwf.evolve(model, times, ntraj=400, seed=8, workers=1, step_tol=step_tol, scheme=propagator)
    assert res.options["step_tol"] == (step_tol or mcwf_sector.STEP_TOL)
    assert res.options["scheme"] == propagator
    _assert_within(res, exact.evolve(model, times))


@pytest.mark.parametrize("propagator", mcwf_sector.SCHEMES)
def test_step_tol_reaches_the_kernel(steps_everywhere, propagator):
    model = ps.Model(N=30, omega=30.0, chi=1.0, gamma=1.0, gamma_s=2.0)
    runs = [mcwf.evolve(model, [0.0, 0.2], ntraj=2, seed=3, workers=1, step_tol=tol, scheme=propagator)
            for tol in (1e-10, 1e-4)]
    assert not np.array_equal(runs[0].mean, runs[1].mean)


@pytest.mark.parametrize("bad", [0.0, -1e-6, 0.1, float("nan"), True, "1e-6"])
def test_step_tol_rejected(bad):
    with pytest.raises(ValueError, match="step_tol"):
        mcwf.evolve(ps.Model(N=4, omega=1.0, gamma_s=1.0), [0.0, 0.1], ntraj=2, step_tol=bad)


@pytest.mark.parametrize("bad", ["pade", "", None])
def test_propagator_rejected(bad):
    with pytest.raises(ValueError, match="scheme"):
        mcwf.evolve(ps.Model(N=4, omega=1.0, gamma_s=1.0), [0.0, 0.1], ntraj=2, scheme=bad)


def _no_jump_run(model, j, psi0, beta, times, tol, propagator):
    """The kernel with r = 1e-300 (no jump can happen): normalised psi(t) at the output times."""
    tab = mcwf_sector.sector(model, j)
    T = len(times)
    out = np.empty((T, tab.d), dtype=complex)
    sums = np.empty((T, NSUMS))
    fstate = np.array([times[0], 1e-300, 0.0])
    istate = np.array([0, 0, 0, 0, tab.d, 0, 0, 0, 0, 0, mcwf_sector.PAD_MIN, 0, 0, 0, 0], dtype=np.int64)
    z1, z2 = np.zeros(1, complex), np.zeros((1, 1), complex)
    status = advance(np.array(psi0, dtype=complex), tab.diag0, tab.up, tab.low0, tab.up2, tab.low2, tab.c,
                     tab.m, tab.rates3, tab.amp, tab.rate, tab.shift, tab.dj, tab.dnew, False, beta, fstate, istate,
                     np.asarray(times, float), sums, out, np.full(8, 0.5), np.empty(8), np.empty(8, np.int64),
                     np.empty(tab.d + 2, complex), propagator == "rational", *mcwf_sector._PADE, 16, tol,
                     False, z1, z2, z2, work_array(tab.d))
    assert status == 0 and istate[2] == 0 and istate[8] > len(times)  # several steps, no jump
    # the moments the kernel sums at each output time are those of the output states (summation
    # order differs from numpy's: round-off, relative 1e-12 of the largest moment N^2 / 4)
    S = sums
    mean, second = moments_from_collective(S[:, 3] + 1j * S[:, 4], S[:, 1], S[:, 7] + 1j * S[:, 8], S[:, 2],
                                           S[:, 5] + 1j * S[:, 6], j * (j + 1) * S[:, 0])
    want_m, want_s = dicke.moments_from_state(j, out)
    scale = j * (j + 1)
    assert np.abs(mean - want_m).max() < 1e-12 * scale and np.abs(second - want_s).max() < 1e-12 * scale
    return out


@pytest.mark.parametrize("propagator", mcwf_sector.SCHEMES)
def test_propagation_matches_expm(propagator):
    """No-jump evolution psi(t) ~ exp(-i H_eff t) psi0 against scipy's dense expm at N = 120 (d = 121).

    The kernel's per-step error bound is 1e-10 here; with O(100) steps the accumulated error is
    <~ 1e-8, far above round-off (so the bound is tested) and far below any physical scale.
    """
    import scipy.linalg as sla
    model = ps.Model(N=120, omega=120.0, chi=1.0, gamma=1.0, gamma_s=2.0, dephasing=0.3, pumping=0.2)
    j, psi0 = mcwf.initial_state(120, None)
    beta = mcwf_sector.default_beta(model) * 0.7 + 3.0
    times = np.linspace(0.0, 0.05, 6)
    got = _no_jump_run(model, j, psi0, beta, times, 1e-10, propagator)
    diag, up, low = mcwf_sector.h_eff_bands(model, j, beta)
    H = np.diag(diag) + np.diag(up, 1) + np.diag(low, -1)
    for k, t in enumerate(times):
        want = sla.expm(-1j * H * t) @ psi0
        want /= np.linalg.norm(want)
        assert np.linalg.norm(got[k] - want) < 1e-7


def test_first_jump_time_follows_no_jump_norm():
    """Waiting times on the rational path: P(first jump > t) = ||exp(-i H_eff t) psi0||^2 (fixed beta, N = 80)."""
    import scipy.linalg as sla
    model = ps.Model(N=80, omega=80.0, chi=1.0, gamma=1.0, gamma_s=0.05)
    beta = mcwf_sector.default_beta(model)
    times = np.array([0.0, 0.004])
    res = mcwf.evolve(model, times, ntraj=600, seed=13, workers=1, keep_trajectories=True,
                      displacement=complex(beta))
    ex = res.extras
    has = np.diff(ex["jump_offsets"]) > 0
    first = ex["jump_times"][ex["jump_offsets"][:-1][has]]
    j, psi0 = mcwf.initial_state(80, None)
    diag, up, low = mcwf_sector.h_eff_bands(model, j, beta)
    H = np.diag(diag) + np.diag(up, 1) + np.diag(low, -1)
    grid = np.linspace(0.0, times[-1], 201)
    surv = np.array([np.linalg.norm(sla.expm(-1j * H * t) @ psi0) ** 2 for t in grid])
    # censored sample: compare the empirical survival with the exact one on the grid (DKW band,
    # P(sup deviation > eps) <= 2 exp(-2 n eps^2) = 1e-4 for eps below)
    n = len(has)
    emp = np.array([(~has).sum() + (first > t).sum() for t in grid]) / n
    eps = np.sqrt(np.log(2 / 1e-4) / (2 * n))
    assert np.abs(emp - surv).max() < eps
    assert 0.2 < surv[-1] < 0.8  # the test window sees a good fraction of first jumps


def test_adaptive_unravelling_needs_fewer_collective_jumps():
    """beta = -<J-> keeps the collective emission rate at Gamma Var-like O(N): fewer jumps than the
    fixed point displacement once trajectories leave the fixed point (Fig. S2 model, N = 100)."""
    model = ps.Model(N=100, omega=100.0, chi=1.0, gamma=1.0, gamma_s=2.0)
    times = np.linspace(0.0, 1.0, 3)
    kw = dict(ntraj=3, seed=4, workers=1, keep_trajectories=True)
    ad = mcwf.evolve(model, times, **kw)
    fp = mcwf.evolve(model, times, displacement="fixed_point", **kw)
    n_ad = (ad.extras["jump_kinds"] == 0).sum()
    n_fp = (fp.extras["jump_kinds"] == 0).sum()
    # measured: ~40 vs ~350 collective jumps per trajectory; a factor 3 leaves room for the seed
    assert 3 * n_ad < n_fp


def test_step_kernel_bit_identical_whatever_workers():
    model = ps.Model(N=70, omega=70.0, chi=1.0, gamma=1.0, gamma_s=2.0, dephasing=0.3)
    times = np.linspace(0.0, 0.2, 5)
    kw = dict(ntraj=6, seed=77, keep_trajectories=True)
    a = mcwf.evolve(model, times, workers=1, **kw)
    b = mcwf.evolve(model, times, workers=2, chunk=2, **kw)
    assert a.extras["njumps"].sum() > 20
    for name in ("mean", "second"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    for key in ("jump_times", "jump_kinds", "traj_j"):
        assert np.array_equal(a.extras[key], b.extras[key])


# ---- checkpoints and interruption

def test_checkpoint_resume_equals_one_run(tmp_path):
    """6 trajectories into a checkpoint, then 10 from it: the same ensemble, bit for bit, as 10 at once."""
    model = ps.Model(N=70, omega=70.0, chi=1.0, gamma=1.0, gamma_s=2.0)
    times = np.linspace(0.0, 0.2, 5)
    path = tmp_path / "run.npz"
    part = mcwf.evolve(model, times, ntraj=6, seed=5, workers=1, checkpoint=path)
    assert path.exists() and part.extras["ntraj"] == 6
    resumed = mcwf.evolve(model, times, ntraj=10, seed=5, workers=1, checkpoint=path)
    direct = mcwf.evolve(model, times, ntraj=10, seed=5, workers=1)
    assert resumed.extras["ntraj"] == 10
    for name in ("mean", "second", "mean_err"):
        assert np.array_equal(getattr(resumed, name), getattr(direct, name))
    assert np.array_equal(resumed.extras["njumps"], direct.extras["njumps"])
    # seed=None reuses the checkpoint's seed
    again = mcwf.evolve(model, times, ntraj=10, workers=1, checkpoint=path)
    assert np.array_equal(again.mean, direct.mean)
    with pytest.raises(ValueError, match="different run"):
        mcwf.evolve(model, times, ntraj=10, seed=6, workers=1, checkpoint=path)
    with pytest.raises(ValueError, match="different run"):
        mcwf.evolve(model, times[:-1], ntraj=10, seed=5, workers=1, checkpoint=path)


def test_interrupt_raises_and_keeps_finished_trajectories(tmp_path, monkeypatch):
    """Ctrl-C after 3 trajectories: KeyboardInterrupt propagates (a plain one: a script ends as on Ctrl-C), carrying the
    Result of those 3 (flagged); the checkpoint holds them; the resumed run equals an
    uninterrupted one."""
    model = ps.Model(N=70, omega=70.0, chi=1.0, gamma=1.0, gamma_s=2.0)
    times = np.linspace(0.0, 0.2, 5)
    path = tmp_path / "run.npz"
    real = mcwf.run_trajectory
    calls = []

    def flaky(*args, **kwargs):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(mcwf, "run_trajectory", flaky)
    with pytest.raises(KeyboardInterrupt, match=r"3 of 8 trajectories finished, kept in .*run.npz.*resume") as info:
        mcwf.evolve(model, times, ntraj=8, seed=9, workers=1, chunk=1, checkpoint=path)
    part = info.value.result
    assert type(info.value) is KeyboardInterrupt and info.value.ntraj == 3
    assert part.extras["interrupted"] and part.extras["ntraj"] == 3
    assert ps.Result.load(path).extras["ntraj"] == 3
    monkeypatch.setattr(mcwf, "run_trajectory", real)
    resumed = mcwf.evolve(model, times, ntraj=8, seed=9, workers=1, checkpoint=path)
    direct = mcwf.evolve(model, times, ntraj=8, seed=9, workers=1)
    assert "interrupted" not in resumed.extras
    assert np.array_equal(resumed.mean, direct.mean) and np.array_equal(resumed.second, direct.second)


def test_compiled_sector_tables_equal_the_numpy_ones():
    """The compiled tables of the paper model (window.paper_tables) are bit for bit those of
    h_eff_bands and dicke.local_channels (same operations in the same order), every rate on."""
    from piqs_squeeze.methods.mcwf.sector import _LOCAL_KINDS
    model = ps.Model(N=37, omega=3.3, chi=0.7, gamma=0.4, gamma_s=0.3, dephasing=0.2, pumping=0.15,
                     collective_dephasing=0.1, collective_pumping=0.05)
    for j in (18.5, 17.5, 15.5, 0.5, 1.5):
        tab = mcwf_sector.SectorTables(model, j)
        for got, want in zip((tab.diag0, tab.up, tab.low0), mcwf_sector.h_eff_bands(model, j, 0j)):
            assert got.tobytes() == np.ascontiguousarray(want, dtype=complex).tobytes()
        for i, (proc, dj) in enumerate(_LOCAL_KINDS):
            amps = dicke.local_channels(model.N, j, proc)
            assert tab.amp[i].tobytes() == np.ascontiguousarray(amps.get(dj, np.zeros(tab.d))).tobytes()
            assert tab.rate[i] == (getattr(model, proc) if dj in amps else 0.0)


def test_output_states_only_on_request_and_moments_match_them():
    """Without output_states a trajectory keeps no states (O(N + T) memory); with it, the states'
    moments (dicke.moments_from_state, per sector j) are those the kernel summed, through jumps
    into other sectors (round-off: relative 1e-12 of j(j + 1))."""
    model = ps.Model(N=120, omega=120.0, chi=1.0, gamma=1.0, gamma_s=2.0, dephasing=0.3)
    j0, psi0 = mcwf.initial_state(120, None)
    times = np.linspace(0.0, 0.3, 13)
    plain = mcwf_sector.run_trajectory(model, times, j0, psi0, None, np.random.default_rng(3))
    rec = mcwf_sector.run_trajectory(model, times, j0, psi0, None, np.random.default_rng(3), output_states=True)
    assert "states" not in plain and rec["states"].shape == (len(times), 121)
    assert np.array_equal(plain["mean"], rec["mean"]) and np.array_equal(plain["jump_times"], rec["jump_times"])
    assert len(np.unique(rec["j"])) > 1  # the run left the initial sector
    for k, j in enumerate(rec["j"]):
        d = int(round(2 * j)) + 1
        assert not np.any(rec["states"][k, d:])
        m, s = dicke.moments_from_state(j, rec["states"][k, :d])
        assert np.abs(m - rec["mean"][k]).max() < 1e-12 * j * (j + 1)
        assert np.abs(s - rec["second"][k]).max() < 1e-12 * j * (j + 1)
