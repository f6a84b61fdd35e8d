"""Cumulant and mean field with a general quadratic collective Hamiltonian, functions of time and
protocols: derived tensors vs dense commutators, exactness at small N against an independent
2^N qutip.mesolve reference (site operators), single-particle exactness of the mean field."""
import itertools

import numpy as np
import pytest
import qutip
from qutip import piqs

import piqs_squeeze as ps
from piqs_squeeze.hamiltonian import KEYS
from piqs_squeeze.methods.moments import cumulant, meanfield
from piqs_squeeze.methods.moments import integrator as moment_ode
from piqs_squeeze.methods.moments.derivation import (HAMILTONIAN_TERMS, RATES, coefficient_tensors, describe,
                                                     hamiltonian_tensors, moment_labels, state_labels)

RATES_ALL = dict(gamma=0.8, gamma_s=0.4, dephasing=0.3, pumping=0.2, collective_dephasing=0.25,
                 collective_pumping=0.15)
H_GENERAL = {"Jx": 0.7, "Jy": -0.4, "Jz": 0.9, "Jx Jx": 0.5, "Jy Jy": -0.3, "Jz Jz": 0.8, "Jx Jy": 0.35,
             "Jx Jz": -0.6, "Jy Jz": 0.45, "J+ J-": 0.2}
TOL = dict(rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ independent 2^N reference
def _site(N, i, op):
    return qutip.tensor([op if k == i else qutip.qeye(2) for k in range(N)])


def _collective(N):
    J = {a: sum(_site(N, i, s / 2) for i in range(N))
         for a, s in zip("xyz", (qutip.sigmax(), qutip.sigmay(), qutip.sigmaz()))}
    J["+"] = sum(_site(N, i, qutip.sigmap()) for i in range(N))
    J["-"] = J["+"].dag()
    return J


def _term(J, key):
    if key == "J+ J-":
        return J["+"] * J["-"]
    a, *b = [k[1] for k in key.split()]
    return J[a] if not b else (J[a] * J[b[0]] + J[b[0]] * J[a]) / 2


def _hamiltonian(N, omega=0.0, chi=0.0, terms=None):
    """qutip H (time-dependent list form when a coefficient is callable)."""
    J = _collective(N)
    pairs = [("Jx", omega), ("J+ J-", chi)] + list((terms or {}).items())
    const = 0 * J["x"]
    td = []
    for key, c in pairs:
        if callable(c):
            td.append([_term(J, key), (lambda f: lambda t: float(f(t)))(c)])
        else:
            const = const + c * _term(J, key)
    return [const] + td if td else const


def _collapse(N, gamma=0.0, gamma_s=0.0, dephasing=0.0, pumping=0.0, collective_dephasing=0.0,
              collective_pumping=0.0):
    J = _collective(N)
    out = [np.sqrt(gamma) * J["-"], np.sqrt(collective_dephasing) * J["z"], np.sqrt(collective_pumping) * J["+"]]
    for i in range(N):
        out += [np.sqrt(gamma_s) * _site(N, i, qutip.sigmam()), np.sqrt(dephasing) * _site(N, i, qutip.sigmaz() / 2),
                np.sqrt(pumping) * _site(N, i, qutip.sigmap())]
    return out


def _product_state(N, direction):
    n = np.asarray(direction, float)
    r1 = (qutip.qeye(2) + n[0] * qutip.sigmax() + n[1] * qutip.sigmay() + n[2] * qutip.sigmaz()) / 2
    return qutip.tensor([r1] * N)


def _moment_ops(N):
    J = _collective(N)
    return [J[a] for a in "xyz"] + [(J[a] * J[b] + J[b] * J[a]) / 2 for a in "xyz" for b in "xyz"]


def reference(N, segments, times, direction):
    """<J_a>, <(J_aJ_b + J_bJ_a)/2> by mesolve in 2^N; ``segments`` = [(end, H, c_ops)], the last
    one open-ended; the density matrix carried across each boundary."""
    times = np.asarray(times, float)
    rho = _product_state(N, direction)
    ops = _moment_ops(N)
    vals = np.zeros((times.size, 12))
    start, done = times[0], 0
    for k, (end, H, c_ops) in enumerate(segments):
        end = np.inf if k == len(segments) - 1 else end
        sel = times[((times >= start) if done == 0 else (times > start)) & (times <= end)]
        stop = min(end, times[-1])
        grid = np.unique(np.concatenate([[start], sel, [stop]]))
        res = qutip.mesolve(H, rho, grid, c_ops, options={"atol": 1e-13, "rtol": 1e-12, "nsteps": 10**6,
                                                         "store_states": True, "max_step": 0.01})
        for i, j in enumerate(np.searchsorted(grid, sel)):
            vals[done + i] = [qutip.expect(o, res.states[j]).real for o in ops]
        done += sel.size
        rho, start = res.states[-1], stop
        if done == times.size:
            break
    return vals[:, :3], vals[:, 3:].reshape(-1, 3, 3)


def _ref_model(model, times, direction):
    H = _hamiltonian(model.N, model.omega, model.chi, dict(model.hamiltonian))
    c = _collapse(model.N, **{k: getattr(model, k) for k in RATES_ALL})
    return reference(model.N, [(np.inf, H, c)], times, direction)


def _dev(res, ref):
    return max(np.max(np.abs(res.mean - ref[0])), np.max(np.abs(res.second - ref[1])))


# ------------------------------------------------------------------ derivation
def _symmetric_state(N, rng):
    A = rng.normal(size=(2**N, 2**N)) + 1j * rng.normal(size=(2**N, 2**N))
    T = (A @ A.conj().T).reshape([2] * (2 * N))
    acc = sum(T.transpose(list(p) + [N + q for q in p]) for p in itertools.permutations(range(N)))
    r = acc.reshape(2**N, 2**N)
    return r / np.trace(r)


_PAULI = {"x": qutip.sigmax().full(), "y": qutip.sigmay().full(), "z": qutip.sigmaz().full()}


def _pauli_product(N, label):  # "s_x", "C_xy", "T_xyz", "Q_xyzz" on sites 0, 1, ...
    return qutip.tensor([qutip.Qobj(_PAULI[c]) for c in label[2:]]
                        + [qutip.qeye(2)] * (N - len(label[2:]))).full()


@pytest.mark.parametrize("N, order", [(3, 2), (4, 2), (4, 3), (5, 3)])
def test_hamiltonian_tensors_match_dense_commutator(N, order):
    """Each term's derived tensor gives d<O>/dt = <i[H_key, O]> exactly on a random
    permutation-symmetric rho (two N values fix the parts linear in N). Rounding: 1e-12."""
    rho = _symmetric_state(N, np.random.default_rng(10 * N + order))
    m = np.array([1.0] + [np.trace(_pauli_product(N, lab) @ rho).real for lab in moment_labels(order)[1:]])
    KH = hamiltonian_tensors(order)
    assert KH.shape == (len(KEYS), len(state_labels(order)), m.size, 2) and HAMILTONIAN_TERMS == KEYS
    J = _collective(N)
    for h, key in enumerate(KEYS):
        H = _term(J, key).full()
        drho = -1j * (H @ rho - rho @ H)
        exact = [np.trace(_pauli_product(N, lab) @ drho).real for lab in state_labels(order)]
        np.testing.assert_allclose((KH[h, :, :, 0] + N * KH[h, :, :, 1]) @ m, exact, atol=1e-12, err_msg=key)


def test_paper_terms_are_the_omega_and_chi_tensors():
    """H = omega Jx + chi J+J-: the derived "Jx" and "J+ J-" tensors are the omega and chi ones;
    Jx^2 + Jy^2 + Jz^2 (a Casimir) has no dynamics on symmetric states."""
    for order in (2, 3):
        K, KH = coefficient_tensors(order), hamiltonian_tensors(order)
        np.testing.assert_array_equal(KH[KEYS.index("Jx")], K[RATES.index("omega")])
        np.testing.assert_array_equal(KH[KEYS.index("J+ J-")], K[RATES.index("chi")])
        casimir = sum(KH[KEYS.index(k)] for k in ("Jx Jx", "Jy Jy", "Jz Jz"))
        assert np.max(np.abs(casimir[..., 0] + 7 * casimir[..., 1])) < 1e-14
    text = describe(2)
    assert "h[Jy Jz]" in text and "h[Jz]" in text


def test_general_h_coefficient_matrix_is_sum_of_terms():
    """K_model for a dict H = the rates' matrix + sum_key h_key (A_key + N B_key); a paper model's
    matrix is unchanged by an empty hamiltonian."""
    N = 6
    model = ps.Model(N, omega=1.1, chi=0.4, hamiltonian=H_GENERAL, **RATES_ALL)
    K = moment_ode.coefficient_matrices([model], "cumulant")[0]
    paper = moment_ode.coefficient_matrices([model.replace(hamiltonian={})], "cumulant")[0]
    KH = hamiltonian_tensors(2)[:, :9]
    extra = sum(c * (KH[KEYS.index(k), :, :, 0] + N * KH[KEYS.index(k), :, :, 1]) for k, c in H_GENERAL.items())
    np.testing.assert_allclose(K, paper + extra, rtol=0, atol=1e-13)


# ------------------------------------------------------------------ exactness at small N
def _qobj_h(N, basis):
    """H_GENERAL as a Qobj of qutip.jmat (N + 1 dim) or qutip.piqs.jspin (Dicke basis)."""
    if basis == "jmat":
        J = {a: qutip.jmat(N / 2, a) for a in "xyz"}
        J["+"], J["-"] = qutip.jmat(N / 2, "+"), qutip.jmat(N / 2, "-")
    else:
        J = {a: piqs.jspin(N, a) for a in "xyz"}
        J["+"], J["-"] = piqs.jspin(N, "+"), piqs.jspin(N, "-")
    return sum(c * _term(J, k) for k, c in H_GENERAL.items())


@pytest.mark.parametrize("form", ["dict", "jmat", "jspin"])
def test_order2_exact_at_n2_general_h(form):
    """N = 2: the second-order equations are exact for any quadratic H; dict and both Qobj forms,
    all local and collective rates, the compiled "dopri5" and solve_ivp "DOP853" schemes, against mesolve in 2^2. Measured 9e-13."""
    N = 2
    H = H_GENERAL if form == "dict" else _qobj_h(N, form)
    model = ps.Model(N, omega=0.6, chi=-0.3, hamiltonian=H, **RATES_ALL)
    assert not cumulant.unsupported(model) and not meanfield.unsupported(model)
    times = np.linspace(0, 2.0, 21)
    init = ps.css(1.1, 0.4)
    ref = _ref_model(model if form == "dict" else model.replace(hamiltonian=H_GENERAL), times, init.direction)
    for scheme in ("dopri5", "DOP853"):
        res = cumulant.evolve(model, times, init, scheme=scheme, **TOL)
        assert _dev(res, ref) < 1e-8, (scheme, _dev(res, ref))


def test_order3_exact_at_n3_general_h():
    """N = 3: the third-order equations are exact for any quadratic H (order 2 is not: checked so
    the comparison can fail). Measured 2e-12; order 2 is off by 2e-2."""
    model = ps.Model(3, omega=0.5, chi=0.25, hamiltonian=H_GENERAL, **RATES_ALL)
    times = np.linspace(0, 1.5, 16)
    init = ps.css(0.8, 2.0)
    ref = _ref_model(model, times, init.direction)
    for scheme in ("dopri5", "DOP853"):
        res = cumulant.evolve(model, times, init, order=3, scheme=scheme, **TOL)
        assert _dev(res, ref) < 1e-8, (scheme, _dev(res, ref))
    assert _dev(cumulant.evolve(model, times, init, **TOL), ref) > 1e-4


def test_meanfield_exact_for_linear_h_and_local_processes():
    """Only linear terms and local processes: no correlations are created, the mean field is exact
    at any N (N = 7 against the single-particle Bloch equation by mesolve, <J_a> = N <sigma_a>/2),
    also with a Ramp on a term (measured 1e-11 N; with Jz Jz added, off by 2)."""
    N = 7
    local = dict(gamma=0.0, gamma_s=0.5, dephasing=0.3, pumping=0.2)
    terms = {"Jy": -0.8, "Jz": ps.Ramp([0.0, 0.7, 1.5], [0.3, 1.4, -0.5])}
    model = ps.Model(N, omega=1.2, hamiltonian=terms, **local)
    times = np.linspace(0, 2.0, 21)
    init = ps.css(0.9, 1.3)
    ref_mean, _ = reference(1, [(np.inf, _hamiltonian(1, 1.2, 0.0, terms), _collapse(1, **local))], times,
                            init.direction)
    res = meanfield.evolve(model, times, init, **TOL)
    assert np.max(np.abs(res.mean - N * ref_mean)) < 1e-8 * N
    # with a quadratic term the mean field is no longer exact
    twisted = meanfield.evolve(model.replace(hamiltonian={**terms, "Jz Jz": 1.0}), times, init, **TOL)
    assert np.max(np.abs(twisted.mean - N * ref_mean)) > 1e-3


def test_ramp_and_callable_vs_time_dependent_mesolve():
    """omega a linear Ramp (kinks inside the run), "Jz" a pchip Ramp, "Jx Jy" a plain function:
    order 2 at N = 2 and order 3 at N = 3 exact against mesolve with a time-dependent H (measured
    3e-10 and 2e-11; the model frozen at t = 0 is off by 0.3)."""
    terms = {"Jz": ps.Ramp([0.0, 0.8, 1.6], [0.2, 1.5, -0.4], kind="pchip"), "Jx Jy": np.cos, "Jz Jz": 0.6}
    omega = ps.Ramp([0.3, 1.1], [0.4, 2.0])
    times = np.linspace(0, 2.0, 21)
    init = ps.css(1.3, 0.2)
    for N, order in ((2, 2), (3, 3)):
        model = ps.Model(N, omega=omega, chi=0.3, hamiltonian=terms, **RATES_ALL)
        assert model.time_dependent
        ref = _ref_model(model, times, init.direction)
        res = cumulant.evolve(model, times, init, order=order, **TOL)
        assert _dev(res, ref) < 1e-8, (N, _dev(res, ref))
        frozen = cumulant.evolve(model.at(0.0), times, init, order=order, **TOL)
        assert _dev(frozen, ref) > 1e-3


def test_time_dependent_batch_matches_single_runs():
    """evolve_many with a mix of constant and time-dependent models: each result equals its own
    single run (the time-dependent ones take the per-model path)."""
    ramp = ps.Ramp([0.0, 1.0], [0.0, 3.0])
    models = [ps.Model(5, omega=2.0, chi=0.5, gamma_s=0.3), ps.Model(5, omega=ramp, chi=0.5, gamma_s=0.3),
              ps.Model(8, omega=1.0, hamiltonian={"Jz Jz": 0.4, "Jy": ramp}), ps.Model(8, hamiltonian={"Jx Jz": 0.7})]
    times = np.linspace(0, 1.5, 7)
    batch = cumulant.evolve_many(models, times, rtol=1e-10, atol=1e-12)
    for m, r in zip(models, batch):
        one = cumulant.evolve(m, times, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(r.extras["variables"], one.extras["variables"])


# ------------------------------------------------------------------ protocols
def _three_segments(N):
    m1 = ps.Model(N, omega=1.4, chi=0.5, gamma=1.0, gamma_s=0.3)
    m2 = ps.Model(N, omega=0.0, hamiltonian={"Jz Jz": 1.2, "Jy": 0.5}, **RATES_ALL)
    m3 = ps.Model(N, omega=ps.Ramp([1.2, 1.8], [0.0, 1.0]), hamiltonian={"Jx Jz": -0.7}, dephasing=0.4)
    return ps.Protocol([(0.6, m1), (1.2, m2), (2.0, m3)])


def _protocol_reference(protocol, times, direction):
    N = protocol.N
    segs = [(end, _hamiltonian(N, m.omega, m.chi, dict(m.hamiltonian)),
             _collapse(N, **{k: getattr(m, k) for k in RATES_ALL})) for end, m in protocol]
    return reference(N, segs, times, direction)


PROTOCOL_TIMES = np.array([0.0, 0.3, 0.6 - 1e-3, 0.6, 0.6 + 1e-3, 0.9, 1.2, 1.2 + 1e-6, 1.5, 2.0, 2.4])


@pytest.mark.parametrize("N, order", [(2, 2), (3, 3)])
def test_three_segment_protocol_vs_reference(N, order):
    """Three segments (paper model, twisting with all rates, ramped drive), output times on and
    just around the boundaries and past the last end: exact orders against piecewise mesolve
    (measured 2e-10 at N = 2, 3e-11 at N = 3)."""
    protocol = _three_segments(N)
    init = ps.css(0.7, 0.0)
    ref = _protocol_reference(protocol, PROTOCOL_TIMES, init.direction)
    res = cumulant.evolve(protocol, PROTOCOL_TIMES, init, order=order, **TOL)
    assert _dev(res, ref) < 1e-8, _dev(res, ref)
    assert res.protocol is protocol and res.model == protocol.models[0] and res.method == "cumulant"
    np.testing.assert_array_equal(res.times, PROTOCOL_TIMES)
    assert res.extras["segments"] == [[0.0, 0.6], [0.6, 1.2], [1.2, 2.4]]
    # the state carries over: the first model alone gives other values after the first boundary
    alone = cumulant.evolve(protocol.models[0], PROTOCOL_TIMES, init, order=order, **TOL)
    np.testing.assert_allclose(alone.mean[:4], res.mean[:4], rtol=0, atol=1e-9)
    assert np.max(np.abs(alone.mean[5:] - res.mean[5:])) > 1e-2


def test_meanfield_protocol_carries_the_bloch_vector():
    """Mean field through a protocol of linear Hamiltonians and local processes is exact (N = 4
    against the piecewise single-particle reference)."""
    N = 4
    steps = [(0.5, ps.Model(N, omega=1.0, gamma=0.0, gamma_s=0.4)),
             (1.0, ps.Model(N, hamiltonian={"Jz": 2.0}, gamma=0.0, dephasing=0.5)),
             (1.8, ps.Model(N, hamiltonian={"Jy": ps.Ramp([1.0, 1.8], [0.0, 1.5])}, gamma=0.0, pumping=0.3))]
    protocol = ps.Protocol(steps)
    times = np.array([0.0, 0.25, 0.5, 0.5 + 1e-4, 1.0, 1.4, 1.8])
    init = ps.css(0.4, 0.9)
    segs = [(end, _hamiltonian(1, m.omega, m.chi, dict(m.hamiltonian)),
             _collapse(1, **{k: getattr(m, k) for k in ("gamma_s", "dephasing", "pumping")})) for end, m in steps]
    ref_mean, _ = reference(1, segs, times, init.direction)
    res = meanfield.evolve(protocol, times, init, **TOL)
    assert np.max(np.abs(res.mean - N * ref_mean)) < 1e-8 * N
    assert res.protocol is protocol and res.method == "meanfield"


def test_fixed_points_refuse_what_they_cannot_solve():
    """fixed_points needs constant coefficients and transverse equations linear at fixed s_z."""
    with pytest.raises(ValueError, match="depend on time"):
        meanfield.fixed_points(ps.Model(10, omega=ps.Ramp([0, 1], [0, 1])))
    with pytest.raises(ValueError, match="not linear"):
        meanfield.fixed_points(ps.Model(10, omega=2.0, hamiltonian={"Jy Jz": 1.0}))
    fps = meanfield.fixed_points(ps.Model(10, omega=2.0, chi=0.5, hamiltonian={"Jz": 0.3}))
    assert fps and all(abs(np.linalg.norm(q["s"])) <= 1 + 1e-9 for q in fps)


def test_protocols_batched_per_segment():
    """evolve_many with protocols of the same end times: one batch per segment, each result equal
    to its own run; a protocol whose segment fails (on_failure="nan", max_steps) is NaN from the
    time it reached on, the others run on."""
    N, times = 6, np.array([0.0, 0.4, 0.5, 0.9, 1.3])
    slow = ps.Model(N, omega=0.5, gamma=0.2)
    protocols = [ps.Protocol([(0.5, slow), (1.0, ps.Model(N, omega=1.0, hamiltonian={"Jz Jz": c}))])
                 for c in (0.0, 0.3)]
    protocols.append(ps.Protocol([(0.5, slow), (1.0, ps.Model(N, omega=ps.Ramp([0.5, 1.0], [0.0, 2.0])))]))
    batch = cumulant.evolve_many(protocols, times, ps.css(0.5, 0.0), rtol=1e-10, atol=1e-12)
    for p, r in zip(protocols, batch):
        one = cumulant.evolve(p, times, ps.css(0.5, 0.0), rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(r.extras["variables"], one.extras["variables"])
        assert r.protocol is p
    mf = meanfield.evolve_many(protocols, times, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(mf[1].extras["variables"],
                                  meanfield.evolve(protocols[1], times, rtol=1e-10, atol=1e-12).extras["variables"])
    fast = ps.Protocol([(0.5, slow), (1.0, ps.Model(N, omega=40.0, gamma=0.2))])
    out = cumulant.evolve_many([protocols[0], fast], times, rtol=1e-12, atol=1e-14, max_steps=400, on_failure="nan")
    assert "failure" not in out[0].extras and np.all(np.isfinite(out[0].mean))
    assert "failure" in out[1].extras and 0.5 <= out[1].extras["t_reached"] < 1.3
    assert np.all(np.isnan(out[1].mean[-1])) and np.all(np.isfinite(out[1].mean[:3]))
    with pytest.raises(ValueError, match="same end times"):
        cumulant.evolve_many([protocols[0], ps.Protocol([(0.7, slow)])], times)


def test_time_dependent_scheme_and_protocol_options_and_stats():
    """A time-dependent model takes solve_ivp whatever the scheme: "dopri5" means RK45 there
    (bit-identical), another solve_ivp method is used as given.  A protocol passes its options
    object to every segment and sums the segments' steps and right-hand sides into its stats."""
    model = ps.Model(4, omega=ps.Ramp([0.0, 1.0], [0.5, 2.0]), chi=0.3, gamma_s=0.2)
    times = np.linspace(0, 1.5, 7)
    dopri = cumulant.evolve(model, times, rtol=1e-9, atol=1e-11)
    rk45 = cumulant.evolve(model, times, rtol=1e-9, atol=1e-11, scheme="RK45")
    dop853 = cumulant.evolve(model, times, rtol=1e-9, atol=1e-11, scheme="DOP853")
    np.testing.assert_array_equal(dopri.extras["variables"], rk45.extras["variables"])
    assert dopri.options["scheme"] == "dopri5" and dop853.options["scheme"] == "DOP853"
    assert dop853.stats["rhs_evaluations"] != dopri.stats["rhs_evaluations"]
    np.testing.assert_allclose(dop853.extras["variables"], dopri.extras["variables"], rtol=0, atol=1e-7)
    assert "steps" not in dopri.extras and dopri.stats["steps"] > 0

    protocol = _three_segments(3)
    opts = cumulant.CumulantOptions(order=3, scheme="DOP853", rtol=1e-9, atol=1e-11)
    res = cumulant.evolve(protocol, PROTOCOL_TIMES, options=opts)
    assert res.options == opts.to_dict()
    assert set(res.stats) == {"steps", "rhs_evaluations"} and "steps" not in res.extras
    segs = res.extras["segments"]
    total = {"steps": 0, "rhs_evaluations": 0}
    y = None
    for k, (m, (a, b)) in enumerate(zip(protocol.models, segs)):
        grid = np.unique(np.concatenate([[a], PROTOCOL_TIMES[(PROTOCOL_TIMES > a) & (PROTOCOL_TIMES <= b)], [b]]))
        r = cumulant.evolve(m, grid, y, options=opts)
        for key in total:
            total[key] += r.stats[key]
        y = r.extras["variables"][-1]
    assert res.stats == total
    np.testing.assert_array_equal(res.extras["variables"][-1], y)
    mf = meanfield.evolve(protocol, PROTOCOL_TIMES, scheme="RK23")
    assert mf.options["scheme"] == "RK23" and mf.stats["steps"] > 0
