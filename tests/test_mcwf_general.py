"""MCWF with a general quadratic collective Hamiltonian, protocols and ramps, against an
independent reference: qutip.piqs' Dicke-basis Liouvillian (Dicke(N, emission=..., ...)) plus
-i[H, .] with H built from qutip.piqs.jspin, integrated by qutip.mesolve. Agreement is judged in
the ensemble's own standard errors (Result.mean_err / second_err)."""
import numpy as np
import pytest

import piqs_squeeze as ps
from piqs_squeeze.methods.mcwf import ensemble as mcwf
from piqs_squeeze.methods.mcwf import sector as mcwf_sector
from piqs_squeeze.methods.mcwf.kernels import NSUMS
from piqs_squeeze.methods.mcwf.rational import work_array

qutip = pytest.importorskip("qutip")
from qutip import piqs  # noqa: E402

_PIQS_RATES = {"gamma_s": "emission", "dephasing": "dephasing", "pumping": "pumping",
               "gamma": "collective_emission", "collective_dephasing": "collective_dephasing",
               "collective_pumping": "collective_pumping"}
Z_MAX = 5.0


def _jspin(N):
    return {"Jx": piqs.jspin(N, "x"), "Jy": piqs.jspin(N, "y"), "Jz": piqs.jspin(N, "z"),
            "J+": piqs.jspin(N, "+"), "J-": piqs.jspin(N, "-")}


def _operator(N, key):
    J = _jspin(N)
    if key in ("Jx", "Jy", "Jz"):
        return J[key]
    if key == "J+ J-":
        return J["J+"] * J["J-"]
    a, b = J[key[:2]], J[key[3:]]
    return 0.5 * (a * b + b * a)


def _coefficient(value):
    return (lambda t: float(value(t))) if callable(value) else None


def reference(model_or_protocol, times, initial=None):
    """(mean (T, 3), second (T, 3, 3)) from qutip.mesolve on qutip.piqs' Liouvillian; a Protocol
    runs its models one after the other from the state at each boundary."""
    models = model_or_protocol.models if isinstance(model_or_protocol, ps.Protocol) else [model_or_protocol]
    ends = model_or_protocol.ends if isinstance(model_or_protocol, ps.Protocol) else (np.inf,)
    N = models[0].N
    nds = piqs.num_dicke_states(N)
    j, amp = mcwf.initial_state(N, initial)
    assert j == N / 2
    ket = np.zeros(nds, complex)
    ket[:N + 1] = amp
    rho = qutip.Qobj(np.outer(ket, ket.conj()), dims=piqs.jspin(N, "z").dims)
    J = _jspin(N)
    ops = [J["Jx"], J["Jy"], J["Jz"]]
    e_ops = ops + [0.5 * (ops[a] * ops[b] + ops[b] * ops[a]) for a in range(3) for b in range(a, 3)]
    out = np.empty((len(times), len(e_ops)))
    t_now, k = float(times[0]), 0
    bounds = list(ends[:-1]) + [np.inf]
    for end, model in zip(bounds, models):
        if end <= t_now:
            continue
        rates = {_PIQS_RATES[r]: getattr(model, r) for r in _PIQS_RATES}
        L = qutip.Qobj(piqs.Dicke(N, **rates).liouvillian())
        parts = [L]
        for key, value in model.hamiltonian_terms().items():
            sup = qutip.liouvillian(_operator(N, key))
            parts.append([sup, _coefficient(value)] if callable(value) else value * sup)
        gen = qutip.QobjEvo(parts) if len(parts) > 1 and any(isinstance(p, list) for p in parts) else sum(parts[1:], parts[0])
        stop = min(end, times[-1])
        grid = [t_now] + [t for t in times if t_now < t <= stop]
        if grid[-1] != stop:
            grid.append(stop)
        res = qutip.mesolve(gen, rho, grid, e_ops=[], options={"atol": 1e-11, "rtol": 1e-9, "store_states": True,
                                                                "max_step": 0.01})
        for t, state in zip(grid, res.states):
            if k < len(times) and np.isclose(t, times[k], rtol=0, atol=1e-14):
                out[k] = [qutip.expect(o, state).real for o in e_ops]
                k += 1
        rho = res.states[-1]
        t_now = stop
        if stop >= times[-1]:
            break
    assert k == len(times)
    mean = out[:, :3]
    second = np.empty((len(times), 3, 3))
    i = 3
    for a in range(3):
        for b in range(a, 3):
            second[:, a, b] = second[:, b, a] = out[:, i]
            i += 1
    return mean, second


def z_scores(res, mean, second):
    """max |MCWF - reference| / standard error over times after the first, for <J_a> and <J_aJ_b>."""
    zm = np.abs(res.mean[1:] - mean[1:]) / np.maximum(res.mean_err[1:], 1e-12)
    zs = np.abs(res.second[1:] - second[1:]) / np.maximum(res.second_err[1:], 1e-12)
    return float(zm.max()), float(zs.max())


# ---------------------------------------------------------------- the banded Hamiltonian

def test_general_h_bands_are_those_of_h_eff():
    """h_eff_bands + h_eff_outer_bands rebuild H - (i/2) sum L^+L (beta = 0) and the displacement."""
    N = 6
    H = {"Jx Jx": 0.7, "Jy Jz": -0.3, "Jz": 0.4, "Jy": 0.2}
    model = ps.Model(N=N, omega=1.5, chi=0.5, gamma=1.0, gamma_s=0.3, collective_dephasing=0.2, hamiltonian=H)
    paper = model.replace(hamiltonian=None)
    beta = 0.3 - 0.2j
    for j in (3.0, 2.0, 1.0):
        d = int(2 * j) + 1
        diag, up, low = mcwf_sector.h_eff_bands(model, j, beta)
        up2, low2 = mcwf_sector.h_eff_outer_bands(model, j)
        full = np.diag(diag) + np.diag(up, 1) + np.diag(low, -1) + np.diag(up2, 2) + np.diag(low2, -2)
        pd, pu, pl = mcwf_sector.h_eff_bands(paper, j, beta)
        extra = ps.hamiltonian.band_matrix(ps.hamiltonian.dicke_bands(model.hamiltonian, j), d)
        want = np.diag(pd) + np.diag(pu, 1) + np.diag(pl, -1) + extra
        assert np.abs(full - want).max() < 1e-12
    assert mcwf_sector.h_eff_outer_bands(paper, 3.0)[0].size == 0
    assert mcwf_sector.h_eff_outer_bands(ps.Model(N=N, hamiltonian={"Jz Jz": 1.0, "Jy": 1.0}), 3.0)[0].size == 0


def test_pentadiagonal_rational_solve_matches_expm():
    """The banded (bandwidth 2) Pade step against scipy's expm_multiply on a random dissipative A."""
    from scipy.sparse import diags
    from scipy.sparse.linalg import expm_multiply
    from piqs_squeeze.methods.mcwf.rational import apply_banded, pade_fractions, rayleigh, work_array
    rng = np.random.default_rng(3)
    n, scale = 120, 1e3
    hd = rng.standard_normal(n) * scale
    u1 = (rng.standard_normal(n - 1) + 1j * rng.standard_normal(n - 1)) * scale / 3
    u2 = (rng.standard_normal(n - 2) + 1j * rng.standard_normal(n - 2)) * scale / 3
    kd = rng.random(n) * scale
    diag = -1j * (hd - 1j * kd)
    low = -1j * u1.conj()
    poles, coef, rinf = pade_fractions()
    a, b = 11, 97
    A = diags([-1j * u2.conj()[a:b - 2], low[a:b - 1], diag[a:b], -1j * u1[a:b - 1], -1j * u2[a:b - 2]],
              [-2, -1, 0, 1, 2]).tocsc()
    x = np.zeros(n, complex)
    x[a:b] = rng.standard_normal(b - a) + 1j * rng.standard_normal(b - a)
    x /= np.linalg.norm(x)
    mu, var, nx = rayleigh(diag, u1, low, u2, u2.conj(), a, b, x)
    assert np.isclose(mu, np.vdot(x[a:b], A @ x[a:b]))
    assert np.isclose(var, np.linalg.norm(A @ x[a:b] - mu * x[a:b]) ** 2, rtol=1e-8)
    out = np.full((2, n), np.nan + 0j)
    W = work_array(n, pentadiagonal=True)
    for h in (1e-5, 1e-4):
        assert apply_banded(diag, u1, low, u2, u2.conj(), a, b, mu, h, poles, coef, rinf, x, out, W)
        want = expm_multiply(A * h, x[a:b])
        err8 = np.linalg.norm(out[0, a:b] - want)
        assert err8 <= np.linalg.norm(out[0, a:b] - out[1, a:b]) + 1e-11
        assert err8 < (1e-10 if h == 1e-5 else 1e-4)
    assert np.all(np.isnan(out[:, :a])) and np.all(np.isnan(out[:, b:]))


@pytest.mark.parametrize("propagator", mcwf_sector.SCHEMES)
def test_general_h_no_jump_propagation_matches_expm(propagator):
    """Step kernel (N = 100, pentadiagonal H_eff, fixed beta) against dense expm (weak decay: the
    per-step bound is on ||psi|| = 1 at each step's start, so the comparison is of order 1e-10)."""
    import scipy.linalg as sla
    N = 100
    model = ps.Model(N=N, omega=20.0, chi=0.5, gamma=0.05, gamma_s=0.05,
                     hamiltonian={"Jx Jx": 0.3, "Jx Jy": 0.2, "Jz": 3.0})
    j, psi0 = mcwf.initial_state(N, None)
    tab = mcwf_sector.sector(model, j)
    assert tab.up2.size == N - 1
    times = np.linspace(0.0, 0.03, 4)
    beta = 0.4 + 0.1j
    out = np.empty((len(times), tab.d), dtype=complex)
    sums = np.empty((len(times), NSUMS))
    fstate = np.array([0.0, 1e-300, 0.0])
    istate = np.array([0, 0, 0, 0, tab.d, 0, 0, 0, 0, 0, mcwf_sector.PAD_MIN, 0, 0, 0, 0], dtype=np.int64)
    z1, z2 = np.zeros(1, complex), np.zeros((1, 1), complex)
    status = mcwf_sector.advance(
        np.array(psi0), tab.diag0, tab.up, tab.low0, tab.up2, tab.low2, tab.c, tab.m, tab.rates3, tab.amp,
        tab.rate, tab.shift, tab.dj, tab.dnew, False, beta, fstate, istate, times, sums, out, np.full(8, 0.5),
        np.empty(8), np.empty(8, np.int64), np.empty(tab.d + 2, complex), propagator == "rational",
        *mcwf_sector._PADE, 16, 1e-10, False, z1, z2, z2, work_array(tab.d, pentadiagonal=True))
    assert status == 0 and istate[2] == 0
    diag, up, low = mcwf_sector.h_eff_bands(model, j, beta)
    H = np.diag(diag) + np.diag(up, 1) + np.diag(low, -1) + np.diag(tab.up2, 2) + np.diag(tab.low2, -2)
    for k, t in enumerate(times):
        want = sla.expm(-1j * H * t) @ psi0
        assert np.linalg.norm(out[k] - want / np.linalg.norm(want)) < 1e-8


# ---------------------------------------------------------------- ensembles vs qutip.piqs

def _hamiltonians(N):
    J = {a: qutip.jmat(N / 2, a) for a in "xyz"}
    P = {a: piqs.jspin(N, a) for a in "xyz"}
    return {
        "dict": {"Jx Jx": 0.8, "Jy Jz": 0.4, "Jz": -0.5, "Jy": 0.3},
        "jmat": 0.6 * J["x"] * J["x"] - 0.3 * J["y"] * J["y"] + 0.5 * (J["x"] * J["z"] + J["z"] * J["x"]) + 0.4 * J["y"],
        "jspin": 0.7 * P["y"] * P["y"] + 0.25 * (P["x"] * P["y"] + P["y"] * P["x"]) + 0.6 * P["z"],
    }


_RATES = {
    "local": dict(gamma=0.5, gamma_s=0.4, dephasing=0.3, pumping=0.1),
    "collective": dict(gamma=1.0, collective_dephasing=0.3, collective_pumping=0.2),
}


@pytest.mark.parametrize("N,form,rates", [(2, "dict", "local"), (5, "jmat", "collective"), (6, "jspin", "local"),
                                          (5, "dict", "local"), (6, "dict", "collective")])
def test_general_h_matches_piqs(N, form, rates):
    model = ps.Model(N=N, omega=0.8, chi=0.4, hamiltonian=_hamiltonians(N)[form], **_RATES[rates])
    assert not model.is_paper_model and mcwf.unsupported(model) is None
    times = np.linspace(0.0, 1.5, 7)
    res = mcwf.evolve(model, times, ntraj=400, seed=21, workers=1, progress=False)
    zm, zs = z_scores(res, *reference(model, times))
    assert zm < Z_MAX and zs < Z_MAX, (zm, zs)


def _protocol(N):
    H = _hamiltonians(N)["dict"]
    return ps.Protocol([
        (0.5, ps.Model(N=N, omega=1.0, chi=0.3, gamma=1.0, gamma_s=0.3)),
        (1.0, ps.Model(N=N, gamma=0.5, dephasing=0.4, hamiltonian=H)),
        (1.6, ps.Model(N=N, omega=0.5, gamma=1.0, collective_dephasing=0.2, hamiltonian={"Jy Jy": 1.0, "Jz": 0.5})),
    ])


def test_protocol_matches_piqs_with_outputs_on_and_around_boundaries():
    N = 5
    proto = _protocol(N)
    times = np.array([0.0, 0.3, 0.5, 0.5 + 1e-6, 0.8, 1.0, 1.2, 1.6, 2.0])
    res = mcwf.evolve(proto, times, ntraj=400, seed=5, workers=1, progress=False)
    assert res.protocol == proto and res.model == proto.models[0]
    zm, zs = z_scores(res, *reference(proto, times))
    assert zm < Z_MAX and zs < Z_MAX, (zm, zs)


@pytest.mark.parametrize("N", [6, 80])
def test_protocol_trajectory_carries_its_state_and_stream(N):
    """A protocol of one model repeated, with boundaries on output times (where the plain run's
    kernel stops too), is the plain run bit for bit: the trajectory does not restart at a boundary
    (N = 6: cached eigenbasis, N = 80: step kernel with beta = -<J->)."""
    model = ps.Model(N=N, omega=1.0, chi=0.3, gamma=1.0, gamma_s=0.3, hamiltonian={"Jx Jx": 0.5})
    times = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    plain = mcwf.evolve(model, times, ntraj=20, seed=9, workers=1, progress=False, keep_trajectories=True)
    split = mcwf.evolve(ps.Protocol([(0.4, model), (0.6, model), (1.0, model)]), times, ntraj=20, seed=9,
                        workers=1, progress=False, keep_trajectories=True)
    assert np.array_equal(plain.mean, split.mean) and np.array_equal(plain.second, split.second)
    assert np.array_equal(plain.extras["jump_times"], split.extras["jump_times"])


def test_ramp_matches_piqs():
    N = 5
    ramp = ps.Ramp([0.0, 0.6, 1.2], [0.0, 2.0, 0.5])
    model = ps.Model(N=N, omega=ramp, gamma=1.0, gamma_s=0.3,
                     hamiltonian={"Jz Jz": ps.Ramp.linear(0.0, 1.5, 1.0, -1.0), "Jx Jy": 0.4})
    times = np.linspace(0.0, 1.5, 6)
    res = mcwf.evolve(model, times, ntraj=300, seed=2, workers=1, progress=False, ramp_tol=1e-3)
    assert res.options["ramp_tol"] == 1e-3
    zm, zs = z_scores(res, *reference(model, times))
    assert zm < Z_MAX and zs < Z_MAX, (zm, zs)


def test_ramp_error_estimate_drives_the_steps():
    """Midpoint error estimate: zero for constant coefficients, O(h^3) for a linear ramp."""
    N = 6
    model = ps.Model(N=N, gamma=1.0, hamiltonian={"Jx Jx": ps.Ramp.linear(0.0, 1.0, 0.0, 2.0), "Jz": 1.0})
    j, psi = mcwf.initial_state(N, None)
    sec = mcwf_sector.RampSector(model, j)
    e1 = mcwf_sector.midpoint_error(sec, psi, 0.2, 0.3)
    e2 = mcwf_sector.midpoint_error(sec, psi, 0.2, 0.25)
    assert e1 > 0 and 6 < e1 / e2 < 10
    assert mcwf_sector.midpoint_error(sec, psi, 1.2, 1.5) == 0.0
    big = mcwf_sector.RampSector(model.replace(N=40), 20.0)
    local = np.zeros(41, complex)
    local[17:23] = np.arange(1, 7) + 1j
    assert np.isclose(mcwf_sector.midpoint_error(big, local, 0.2, 0.3, (17, 23)),
                      mcwf_sector.midpoint_error(big, local, 0.2, 0.3), rtol=1e-12)
    tab = sec.tables(0.5)
    want = mcwf_sector.sector(model.at(0.5), j)
    for name in ("diag0", "up", "low0", "up2", "low2"):
        assert np.allclose(getattr(tab, name), getattr(want, name), atol=1e-12)


def test_general_h_protocol_bits_do_not_depend_on_workers():
    N = 6
    proto = ps.Protocol([(0.3, ps.Model(N=N, gamma=1.0, gamma_s=0.5, hamiltonian={"Jx Jx": 1.0})),
                         (0.6, ps.Model(N=N, omega=ps.Ramp.linear(0.3, 0.6, 0.0, 1.0), gamma=1.0, gamma_s=0.5,
                                        hamiltonian={"Jy Jz": 0.5}))])
    times = np.linspace(0.0, 0.8, 5)
    a, b = (mcwf.evolve(proto, times, ntraj=8, seed=4, workers=w, chunk=2, progress=False) for w in (1, 2))
    assert np.array_equal(a.mean, b.mean) and np.array_equal(a.second, b.second)


def test_paper_displacements_refused_for_a_general_h():
    model = ps.Model(N=80, omega=1.0, hamiltonian={"Jx Jx": 1.0})
    for bad in ("fixed_point", "drive"):
        with pytest.raises(ValueError, match="adaptive"):
            mcwf.evolve(model, [0.0, 0.1], ntraj=2, displacement=bad, progress=False)


def test_general_h_large_n_runs_state_following():
    """N = 80 > SMALL_DIM: the step kernel with the pentadiagonal H_eff and beta = -<J->, against
    qutip.mesolve in the j = N/2 block (collective model: J^2 is conserved)."""
    N = 80
    model = ps.Model(N=N, omega=8.0, chi=0.2, gamma=0.1, hamiltonian={"Jx Jx": 0.05, "Jz": 2.0})
    times = np.linspace(0.0, 0.3, 4)
    res = mcwf.evolve(model, times, ntraj=60, seed=1, workers=1, progress=False)
    assert np.isnan(res.extras["beta"]).all()
    J = {a: qutip.jmat(N / 2, a) for a in "xyz+-"}
    H = 8.0 * J["x"] + 0.2 * J["+"] * J["-"] + 0.05 * J["x"] * J["x"] + 2.0 * J["z"]
    _, amp = mcwf.initial_state(N, None)
    ref = qutip.mesolve(H, qutip.ket2dm(qutip.Qobj(amp)), times, [np.sqrt(0.1) * J["-"]],
                        e_ops=[J["x"], J["y"], J["z"]], options={"atol": 1e-10, "rtol": 1e-8})
    mean = np.array([np.real(e) for e in ref.expect]).T
    z = np.abs(res.mean[1:] - mean[1:]) / np.maximum(res.mean_err[1:], 1e-12)
    assert z.max() < Z_MAX, z.max()


def test_checkpoint_key_includes_the_protocol(tmp_path):
    """A checkpoint of one protocol resumes only the same protocol (and keeps it in the Result)."""
    N = 5
    proto = _protocol(N)
    times = np.linspace(0.0, 2.0, 5)
    path = tmp_path / "ck.npz"
    first = mcwf.evolve(proto, times, ntraj=6, seed=3, workers=1, progress=False, checkpoint=str(path))
    assert path.exists()
    again = mcwf.evolve(proto, times, ntraj=10, seed=3, workers=1, progress=False, checkpoint=str(path))
    full = mcwf.evolve(proto, times, ntraj=10, seed=3, workers=1, progress=False)
    assert np.array_equal(again.mean, full.mean) and again.protocol == proto and first.extras["ntraj"] == 6
    other = ps.Protocol([(1.0, proto.models[0]), (2.0, proto.models[1])])
    with pytest.raises(ValueError, match="protocol"):
        mcwf.evolve(other, times, ntraj=10, seed=3, workers=1, progress=False, checkpoint=str(path))
    ramped = ps.Model(N=N, omega=ps.Ramp.linear(0.0, 1.0, 0.0, 1.0), gamma=1.0)
    with pytest.raises(ValueError, match="ramp_tol"):
        mcwf.evolve(ramped, times, ntraj=2, seed=3, progress=False, ramp_tol=0.0)


def test_ramp_tol_option_and_run_key(tmp_path):
    """ramp_tol is an option (checked, recorded in Result.options); it enters the run key in
    provenance only when the run has time-dependent coefficients (it changes nothing else)."""
    N, times = 4, np.linspace(0.0, 0.5, 3)
    ramped = ps.Model(N=N, omega=ps.Ramp.linear(0.0, 0.5, 0.0, 2.0), chi=0.3, gamma=1.0, gamma_s=0.2)
    const = ramped.replace(omega=1.0)
    opts = ps.method_options("mcwf").replace(ntraj=2, seed=1, workers=1, progress=False)
    keys = {}
    for name, model in (("ramped", ramped), ("const", const)):
        for tol in (1e-3, 1e-4):
            res = mcwf.evolve(model, times, options=opts.replace(ramp_tol=tol))
            assert res.options["ramp_tol"] == tol and "run_key" not in res.options
            keys[name, tol] = res.provenance["run_key"]
    assert keys["ramped", 1e-3] != keys["ramped", 1e-4] and keys["const", 1e-3] == keys["const", 1e-4]
    assert ps.method_options("mcwf").ramp_tol == mcwf_sector.RAMP_TOL
    with pytest.raises(ValueError, match="ramp_tol"):
        opts.replace(ramp_tol=1.5)
    proto = ps.Protocol([(0.2, const), (0.5, ramped)])
    via_api = ps.evolve(proto, times, method="mcwf", options=opts)
    assert via_api.protocol is proto and np.array_equal(via_api.second, mcwf.evolve(proto, times, options=opts).second)


def test_ramp_step_kernel_matches_mesolve():
    """N = 70 > SMALL_DIM: ramp steps through the step kernel, collective model against
    qutip.mesolve in the j = N/2 block. beta = 0 here: the state decays to the pole, where the
    state-following displacement leaves ~0.3 jumps per trajectory and the spread over 100
    trajectories underestimates the standard error (rare trajectories dominate it; with 1000 it is
    10x larger and agrees), which a z-test cannot use."""
    N = 70
    ramp = ps.Ramp.linear(0.0, 0.3, 0.0, 10.0)
    model = ps.Model(N=N, omega=ramp, chi=0.1, gamma=1.0, hamiltonian={"Jy Jy": ps.Ramp.linear(0.0, 0.3, 0.0, 0.05)})
    times = np.linspace(0.0, 0.3, 4)
    res = mcwf.evolve(model, times, ntraj=100, seed=8, workers=1, progress=False, displacement="none")
    J = {a: qutip.jmat(N / 2, a) for a in "xyz+-"}
    H = [0.1 * J["+"] * J["-"], [J["x"], lambda t: ramp(t)],
         [J["y"] * J["y"], lambda t: 0.05 * t / 0.3]]
    _, amp = mcwf.initial_state(N, None)
    ref = qutip.mesolve(H, qutip.ket2dm(qutip.Qobj(amp)), times, [J["-"]],
                        e_ops=[J["x"], J["y"], J["z"]], options={"atol": 1e-10, "rtol": 1e-8})
    mean = np.array([np.real(e) for e in ref.expect]).T
    z = np.abs(res.mean[1:] - mean[1:]) / np.maximum(res.mean_err[1:], 1e-12)
    assert z.max() < Z_MAX, z.max()


def test_cf4_ramp_steps_match_sesolve_and_their_error_model():
    """CF4 ramp steps (two frozen sub-steps per step) through the step kernel, N = 100 > SMALL_DIM,
    no dissipation (no jumps: the state is the unitary evolution), against qutip.sesolve with a
    kinked Omega ramp and a Jz^2 ramp. The step control promises a local error <= ramp_tol per unit
    time, so the global error over T = 0.5 must stay below ramp_tol * T (measured: ~0.1 of that).
    The error model is exactly zero for constant coefficients and O(h^5) for a linear ramp
    (halving h divides it by 2^5 = 32; 24-40 allows the h^3 quadrature term's round-off)."""
    N = 100
    om = ps.Ramp([0.0, 0.2, 0.5], [0.0, float(N), 0.3 * N])
    zz = ps.Ramp.linear(0.0, 0.5, 0.0, 2.0)
    model = ps.Model(N=N, omega=om, chi=1.0, gamma=0.0, hamiltonian={"Jz Jz": zz})
    j0, psi0 = mcwf.initial_state(N, None)
    J = {a: qutip.jmat(N / 2, a) for a in "xz+-"}
    H = [J["+"] * J["-"], [J["x"], lambda t: om(t)], [J["z"] * J["z"], lambda t: zz(t)]]
    ref = qutip.sesolve(H, qutip.Qobj(psi0), np.linspace(0.0, 0.5, 11),
                        options={"atol": 1e-13, "rtol": 1e-11, "nsteps": 10 ** 7, "max_step": 1e-3})
    tol = 1e-4
    out = mcwf_sector.run_trajectory(model, np.array([0.0, 0.5]), j0, psi0, None, np.random.default_rng(0),
                                     ramp_tol=tol, keep_states=True)
    assert out["jump_times"].size == 0
    assert np.linalg.norm(out["final_state"][1] - ref.states[-1].full().ravel()) < tol * 0.5
    sec = mcwf_sector.RampSector(model, j0)
    e1, e2 = (mcwf_sector.cf4_error(sec, psi0, 0.25, 0.25 + h) for h in (0.02, 0.01))
    assert e1 > 0 and 24 < e1 / e2 < 40, e1 / e2
    assert mcwf_sector.cf4_error(sec, psi0, 0.6, 0.9) == 0.0
