"""Exact solver with general quadratic Hamiltonians, protocols and ramps, against the 2^N brute force
(H built from site operators, not from the Dicke bands), qutip.piqs and dense references."""
import numpy as np
import pytest
import qutip
from qutip import piqs
from scipy.linalg import block_diag

import piqs_squeeze as ps
from piqs_squeeze import dicke
from piqs_squeeze.hamiltonian import band_matrix, dicke_bands
from piqs_squeeze.methods.exact import generator as ops
from piqs_squeeze.methods.exact import solver as exact
from piqs_squeeze.methods.exact.kernels import PackedGenerator
from piqs_squeeze.methods.exact.options import ExactEvolveOptions
from piqs_squeeze.validation import bruteforce, bruteforce_spectrum as bfs

H_TERMS = {"Jz Jz": 1.0, "Jy": 0.5, "Jx Jz": 0.3, "Jx Jy": -0.7, "Jy Jy": 0.2, "Jz": -0.4}
LOCAL = dict(gamma_s=0.4, dephasing=0.3, pumping=0.15)
COLLECTIVE = dict(gamma=0.8, collective_dephasing=0.2, collective_pumping=0.1)
TIMES = np.linspace(0.0, 1.2, 7)
INIT = ps.css(1.1, 0.4)


def _rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1.0)


def _hamiltonian(N, form):
    """H_TERMS as a dict, as a qutip.jmat(N/2) Qobj or in qutip.piqs' Dicke basis."""
    if form == "dict":
        return H_TERMS
    if form == "jmat":
        J = {a: qutip.jmat(N / 2, a) for a in "xyz"}
    else:
        J = dict(zip("xyz", piqs.jspin(N)))
    H = 0
    for key, v in H_TERMS.items():
        a, _, b = key.partition(" ")
        H = H + v * (J[a[1]] if not b else 0.5 * (J[a[1]] * J[b[1]] + J[b[1]] * J[a[1]]))
    return H


def _uniform_blocks(N, seed):
    rng = np.random.default_rng(seed)
    out = []
    for d in dicke.block_dims(N):
        A = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
        out.append(A + A.conj().T)
    return out


def test_generator_csr_kernel_and_dense_agree():
    """The CSR generator, the matrix-free kernel and -i[H_j, rho_j] with dense H_j from the bands."""
    N = 5
    model = ps.Model(N, omega=0.8, chi=0.4, **LOCAL, **COLLECTIVE, hamiltonian=H_TERMS)
    lay = ops.Layout(N)
    x = np.random.default_rng(1).standard_normal(lay.n)
    assert np.abs(ops.generator_packed(model, lay) @ x - PackedGenerator(model, lay).dot(x)).max() < 1e-12
    pure = ps.Model(N, omega=0.8, chi=0.4, gamma=0.0, hamiltonian=H_TERMS)
    blocks = ops.full_to_blocks(lay, ops.unpack(lay, x))
    ref = []
    for j, B in zip(lay.j, blocks):
        Hj = band_matrix(dicke_bands(pure.hamiltonian_terms(), j), B.shape[0])
        ref.append(-1j * (Hj @ B - B @ Hj))
    ref = ops.pack(lay, ops.blocks_to_full(lay, ref))
    assert np.abs(PackedGenerator(pure, lay).dot(x) - ref).max() < 1e-12
    assert np.abs(ops.generator_packed(pure, lay) @ x - ref).max() < 1e-12


@pytest.mark.parametrize("N", [3, 6])
def test_generator_matches_piqs_liouvillian_with_general_h(N):
    """qutip.piqs' Dicke(N, hamiltonian=H from jspin, every rate) Liouvillian applied to random
    blocks (piqs rounds its coefficients in single precision: 1e-6 of the largest entry)."""
    H = _hamiltonian(N, "jspin")
    model = ps.Model(N, **LOCAL, **COLLECTIVE, hamiltonian=H)
    lay = ops.Layout(N)
    blocks = _uniform_blocks(N, N)
    ours = ops.full_to_blocks(lay, ops.generator_full(model, lay) @ ops.blocks_to_full(lay, blocks))
    D = piqs.Dicke(N, hamiltonian=H, emission=model.gamma_s, dephasing=model.dephasing, pumping=model.pumping,
                   collective_emission=model.gamma, collective_dephasing=model.collective_dephasing,
                   collective_pumping=model.collective_pumping)
    rho = qutip.Qobj(block_diag(*blocks))
    ref = dicke.blocks_from_piqs(qutip.vector_to_operator(D.liouvillian() * qutip.operator_to_vector(rho)).full(), N)
    scale = max(np.abs(B).max() for B in ref)
    for a, b in zip(ours, ref):
        assert np.abs(a - b).max() <= 1e-6 * scale


@pytest.mark.parametrize("form", ["dict", "jmat", "jspin"])
@pytest.mark.parametrize("N", [2, 5, 6])
def test_general_h_vs_bruteforce(N, form):
    """Dict and both Qobj forms, local and collective rates, a tilted CSS: agreement ~1e-10
    (both sides integrate to 1e-10 .. 1e-12); 1e-6 required."""
    model = ps.Model(N, omega=0.9, chi=0.5, **LOCAL, **COLLECTIVE, hamiltonian=_hamiltonian(N, form))
    if form != "jmat":  # (in j = N/2 alone the three squares are defined up to a multiple of J^2)
        assert dict(model.hamiltonian) == pytest.approx(H_TERMS)
    ours = exact.evolve(model, TIMES, INIT, rtol=1e-10)
    ref = bruteforce.evolve(model, TIMES, INIT)
    assert _rel(ours.mean, ref.mean) < 1e-6 and _rel(ours.second, ref.second) < 1e-6


def test_collective_general_h_restricts_to_the_top_block():
    """A collective model with general H conserves J^2: only j = N/2 is evolved, same moments."""
    model = ps.Model(5, omega=0.7, **COLLECTIVE, hamiltonian=H_TERMS)
    ours = exact.evolve(model, TIMES, INIT, rtol=1e-10)
    assert list(ours.extras["evolved_blocks"]) == [0]
    ref = bruteforce.evolve(model, TIMES, INIT)
    assert _rel(ours.mean, ref.mean) < 1e-6 and _rel(ours.second, ref.second) < 1e-6


def _protocol(N):
    m1 = ps.Model(N, omega=1.0, chi=0.3, **LOCAL, hamiltonian={"Jz Jz": 0.8})
    m2 = ps.Model(N, omega=0.0, gamma=0.5, dephasing=0.2, hamiltonian={"Jx Jx": 0.6, "Jy": 0.4})
    m3 = ps.Model(N, omega=1.5, chi=-0.5, **COLLECTIVE, gamma_s=0.3, hamiltonian={"Jx Jz": 0.5})
    return ps.Protocol([(0.4, m1), (0.9, m2), (1.3, m3)])


def test_three_segment_protocol_vs_bruteforce():
    """Output times on the boundaries, just around them, and after the last end time."""
    N = 4
    P = _protocol(N)
    times = np.array([0.0, 0.2, 0.4 - 1e-7, 0.4, 0.4 + 1e-7, 0.7, 0.9, 0.95, 1.3, 1.5])
    ours = exact.evolve(P, times, INIT, rtol=1e-10)
    ref = bruteforce.evolve(P, times, INIT)
    assert ours.protocol is P and ours.model == P.models[0]
    assert _rel(ours.mean, ref.mean) < 1e-6 and _rel(ours.second, ref.second) < 1e-6
    # the state carries across a boundary unchanged: times 1e-7 apart differ by O(1e-7) only
    assert _rel(ours.second[4], ours.second[2]) < 1e-5
    # starting after the first boundary skips the first model
    late = exact.evolve(P, times[5:], INIT, rtol=1e-10)
    ref_late = bruteforce.evolve(ps.Protocol([(0.9, P.models[1]), (1.3, P.models[2])]), times[5:], INIT)
    assert _rel(late.second, ref_late.second) < 1e-6


def test_protocol_through_the_api_vs_bruteforce():
    """``ps.evolve(Protocol, times, method="exact")``: the registry lets a Protocol through to the
    exact method (PROTOCOLS = True), options objects and keywords apply to every segment; a
    sequence of protocols gives one Result each; mcwf takes it too, carmichael (no evolve) not."""
    N = 4
    P = _protocol(N)
    times = np.array([0.0, 0.2, 0.4, 0.7, 0.9, 1.1, 1.3, 1.5])
    ref = bruteforce.evolve(P, times, INIT)
    ours = ps.evolve(P, times, method="exact", initial=INIT, rtol=1e-10)
    assert ours.protocol is P and ours.model == P.models[0] and ours.method == "exact"
    assert _rel(ours.mean, ref.mean) < 1e-6 and _rel(ours.second, ref.second) < 1e-6
    assert ours.options["rtol"] == 1e-10 and ours.stats["products"] > 0 and ours.stats["wall_time"] >= 0
    direct = exact.evolve(P, times, INIT, options=ps.method_options("exact").replace(rtol=1e-10))
    assert np.array_equal(direct.second, ours.second)
    both = ps.evolve([P, P.models[0]], times, method="exact", initial=INIT, rtol=1e-10)
    assert np.array_equal(both[0].second, ours.second) and both[1].protocol is None
    traj = ps.evolve(P, times, method="mcwf", initial=INIT, ntraj=8, seed=1, workers=1, progress=False)
    assert traj.protocol is P and traj.method == "mcwf" and traj.stats["wall_time"] >= 0  # mcwf: PROTOCOLS too
    with pytest.raises(ps.MethodError, match="cannot evolve"):
        ps.evolve(P, times, method="carmichael")


def test_protocol_of_one_model_is_the_plain_run():
    """A Protocol whose segments are the same model gives the run without boundaries (the state
    is carried exactly; the segments only split the Krylov steps)."""
    m = ps.Model(4, omega=1.0, chi=0.5, gamma_s=0.3, hamiltonian={"Jz": 0.2})
    a = exact.evolve(ps.Protocol([(0.3, m), (0.8, m), (2.0, m)]), TIMES, rtol=1e-10)
    b = exact.evolve(m, TIMES, rtol=1e-10)
    assert _rel(a.second, b.second) < 1e-9 and _rel(a.mean, b.mean) < 1e-9


def test_ramp_and_callable_vs_bruteforce():
    """A Ramp on omega, a pchip Ramp on a term and a plain callable: CF4 with step doubling to
    rtol 1e-9; the brute force integrates the QobjEvo with qutip's Adams method at 1e-12."""
    N = 4
    model = ps.Model(N, omega=ps.Ramp.linear(0.2, 0.8, 0.5, 2.0), chi=lambda t: 0.3 * np.cos(2 * t), **LOCAL,
                     gamma=0.6, hamiltonian={"Jz Jz": 0.5, "Jz": ps.Ramp([0.0, 0.6, 1.2], [0.0, 1.0, -0.5], "pchip")})
    ours = exact.evolve(model, TIMES, INIT, rtol=1e-9)
    ref = bruteforce.evolve(model, TIMES, INIT)
    assert _rel(ours.mean, ref.mean) < 1e-6 and _rel(ours.second, ref.second) < 1e-6
    # counters are diagnostics (stats); the error estimate is a quality number of the result (extras)
    assert ours.stats["cf4_steps"] > 0 and ours.stats["cf4_rejected"] >= 0 and "cf4_steps" not in ours.extras
    assert ours.extras["cf4_error_estimate"] < 1e-9
    assert ours.stats["products"] > 0 and ours.stats["wall_time"] >= 0
    # every option is recorded, the time-dependent scheme among them
    assert set(ExactEvolveOptions.names()) <= set(ours.options)
    assert ours.options["time_dependent_scheme"] == "cf4" and ours.options["rtol"] == 1e-9
    # Result.options builds the options of the same run again
    assert ExactEvolveOptions.coerce(ours.options) == ExactEvolveOptions(rtol=1e-9)


def test_ramp_error_follows_rtol():
    """The CF4 error estimate is honest: the deviation from the brute force stays below rtol
    (moments relative to their largest), and the number of steps grows like rtol^(-1/4)."""
    N = 3
    model = ps.Model(N, omega=lambda t: 1.0 + np.sin(3 * t), gamma_s=0.2, hamiltonian={"Jz": lambda t: np.cos(2 * t)})
    ref = bruteforce.evolve(model, TIMES, INIT)
    steps = []
    for rtol in (1e-5, 1e-8):
        ours = exact.evolve(model, TIMES, INIT, rtol=rtol)
        assert _rel(ours.second, ref.second) < rtol
        steps.append(ours.stats["cf4_steps"])
    assert steps[1] < 10 * steps[0]  # 4th order: (1e3)^(1/4) = 5.6x


def test_protocol_with_a_ramped_segment():
    N = 3
    m1 = ps.Model(N, omega=1.0, gamma_s=0.2, hamiltonian={"Jz Jz": 0.5})
    m2 = m1.replace(omega=ps.Ramp.linear(0.5, 1.0, 1.0, 0.0), hamiltonian={"Jx Jx": ps.Ramp.linear(0.5, 1.0, 0.0, 1.0)})
    P = ps.Protocol([(0.5, m1), (1.0, m2)])
    times = np.array([0.0, 0.5, 0.75, 1.0, 1.2])
    ours = exact.evolve(P, times, INIT, rtol=1e-9)
    ref = bruteforce.evolve(P, times, INIT)
    assert _rel(ours.mean, ref.mean) < 1e-6 and _rel(ours.second, ref.second) < 1e-6


@pytest.mark.parametrize("N,rates", [(3, LOCAL), (5, {**LOCAL, **COLLECTIVE}), (4, COLLECTIVE)])
def test_steady_state_with_general_h_vs_bruteforce(N, rates):
    model = ps.Model(N, omega=0.6, **rates, hamiltonian=H_TERMS)
    ours = ps.steady_state(model, method="exact")
    ref = bruteforce.steady_state(model)
    if model.is_collective:  # the exact steady state is taken in j = N/2, as from a CSS
        ref = bruteforce.evolve(model, [0.0, 200.0], ps.css())
        ref = type(ref)(ref.times[-1:], ref.mean[-1:], ref.second[-1:], model, "bruteforce")
    assert _rel(ours.mean, ref.mean) < 1e-6 and _rel(ours.second, ref.second) < 1e-6


@pytest.mark.parametrize("N", [3, 4])
def test_spectrum_with_general_h_vs_bruteforce(N):
    model = ps.Model(N, omega=0.6, **LOCAL, **COLLECTIVE, hamiltonian=H_TERMS)
    ref = bfs.symmetric_spectrum(model)
    ours = ps.liouvillian_spectrum(model, k=6).eigenvalues
    dist = np.array([np.abs(ref - z).min() for z in ours])
    assert dist.max() < 1e-8
    assert np.abs(np.sort(np.abs(ours)) - np.sort(np.abs(ref))[:6]).max() < 1e-8


def test_time_dependent_refusals():
    model = ps.Model(3, omega=ps.Ramp.linear(0.0, 1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="constant coefficients"):
        ps.steady_state(model, method="exact")
    with pytest.raises(ValueError, match="constant coefficients"):
        exact.liouvillian_spectrum(model)
    with pytest.raises(ValueError, match="scheme='krylov'"):
        exact.evolve(model, TIMES, scheme="DOP853")
    with pytest.raises(ValueError, match="time_dependent_scheme"):
        exact.evolve(model, TIMES, time_dependent_scheme="magnus2")
    assert exact.unsupported(model) is None and exact.unsupported(ps.Model(3, hamiltonian=H_TERMS)) is None


def test_validation_check_passes_and_fails_on_a_perturbed_reference(tmp_path):
    from piqs_squeeze.validation.checks import exact as checks
    from piqs_squeeze.validation.registry import REGISTRY, Context

    assert REGISTRY["exact_general_vs_bruteforce"].fn is checks.exact_general_vs_bruteforce

    good = checks.exact_general_vs_bruteforce(Context(mode="quick", out=tmp_path))
    assert good.status == "PASSED" and good.value < 1e-8
    bad = checks.exact_general_vs_bruteforce(Context(mode="quick", out=tmp_path, perturb={"gamma_s": 1.001}))
    assert bad.status == "FAILED" and bad.value > 1e-5


def test_knots_within_rounding_of_each_other():
    """Knots of two ramps 3e-17 apart: the gap is stepped over, not refined (and a knot within
    rounding of an output time is that output time)."""
    t1 = 1.2 / 6  # 0.19999999999999998
    model = ps.Model(2, omega=ps.Ramp([0.0, 0.2, 1.0], [1.0, 2.0, 0.5]), gamma_s=0.2,
                     hamiltonian={"Jz": ps.Ramp([0.0, t1, 1.0], [0.0, 1.0, 0.0])})
    for times in (np.array([0.0, 0.1, 0.5, 1.0]), np.array([0.0, 0.1, 0.2, 1.0])):
        ours = exact.evolve(model, times, INIT, rtol=1e-9)
        ref = bruteforce.evolve(model, times, INIT)
        assert _rel(ours.second, ref.second) < 1e-6


@pytest.mark.parametrize("scheme", ["DOP853", "sai"])
def test_protocol_with_other_schemes(scheme):
    """Constant segments run with any scheme, each segment's operator built in turn."""
    P = _protocol(3)
    times = np.array([0.0, 0.4, 0.6, 0.9, 1.4])
    ours = exact.evolve(P, times, INIT, rtol=1e-10, scheme=scheme)
    ref = exact.evolve(P, times, INIT, rtol=1e-10)
    assert _rel(ours.second, ref.second) < 1e-7 and ours.protocol is P
