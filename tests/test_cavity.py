"""The cavity mode (issue 26): Cavity/Model API, exact rho_j (x) Fock (x) Fock against a 2^N (x) Fock
brute force, the Fock cut-off policy, the derived moment equations against Tr(O L rho), and the
methods that refuse a cavity."""
import warnings

import numpy as np
import pytest

import piqs_squeeze as ps
from piqs_squeeze.methods.exact import cavity as exact_cavity
from piqs_squeeze.methods.exact import generator as ops

RATES = dict(gamma=0.3, gamma_s=0.4, dephasing=0.3, pumping=0.2, collective_dephasing=0.25, collective_pumping=0.15)


def _model(N, nmax=10, **cav):
    c = dict(g=1.3 / np.sqrt(N), kappa=2.0, detuning=0.7, drive=0.5, nmax=nmax)
    c.update(cav)
    return ps.Model(N, omega=1.1, chi=0.4, hamiltonian={"Jz": 0.3}, cavity=ps.Cavity(**c), **RATES)


# ----------------------------------------------------------------------------- API
@pytest.mark.parametrize("kw, name", [(dict(g=-1.0, kappa=1.0), "cavity.g"), (dict(g=1.0, kappa=-2.0), "cavity.kappa"),
                                      (dict(g=1.0, kappa=1.0, detuning=np.nan), "cavity.detuning"),
                                      (dict(g=1.0, kappa=1.0, drive="1"), "cavity.drive"),
                                      (dict(g=1.0, kappa=1.0, nmax=0), "cavity.nmax"),
                                      (dict(g=1.0, kappa=1.0, nmax=2.5), "cavity.nmax")])
def test_cavity_bad_input_names_the_parameter(kw, name):
    with pytest.raises((ValueError, TypeError), match=name.replace(".", r"\.")):
        ps.Cavity(**kw)


def test_cavity_model_repr_dict_save_load(tmp_path):
    m = ps.Model(3, omega=1.0, cavity={"g": 0.5, "kappa": 4.0, "detuning": 0.2, "nmax": 5})
    assert isinstance(m.cavity, ps.Cavity) and m.cavity.nmax == 5
    assert "cavity=Cavity(g=0.5, kappa=4, detuning=0.2, nmax=5)" in str(m)
    assert ps.Model.from_dict(m.to_dict()) == m and hash(ps.Model.from_dict(m.to_dict())) == hash(m)
    assert "cavity" not in ps.Model(3).to_dict()  # models without a cavity save as before
    assert m.cavity.gamma_eff == pytest.approx(4 * 0.25 / 4.0)
    r = ps.evolve(m, [0.0, 0.5], method="exact")
    back = ps.Result.load(r.save(tmp_path / "r.npz"))
    assert back.model == m
    np.testing.assert_array_equal(back.photon_number, r.photon_number)
    np.testing.assert_array_equal(back.field, r.field)
    with pytest.raises(AttributeError, match="no cavity"):
        ps.evolve(ps.Model(2), [0.0, 0.1], method="exact").photon_number
    with pytest.raises(TypeError, match="unknown parameter"):
        ps.Model(2, cavity={"g": 1.0, "kappa": 1.0, "q": 1})


def test_methods_without_cavity_refuse_with_a_reason():
    m = _model(2)
    with pytest.raises(ps.MethodError, match="mcwf has no cavity mode"):
        ps.evolve(m, 1.0, method="mcwf")
    with pytest.raises(ps.MethodError, match="explicit cavity mode"):
        ps.steady_state(m.replace(gamma_s=0, dephasing=0, pumping=0, collective_dephasing=0, collective_pumping=0,
                                  hamiltonian={}), method="carmichael")
    with pytest.raises(ValueError, match="cavity"):
        ps.steady_state(m, method="exact")
    with pytest.raises(ValueError, match="order-2"):
        ps.evolve(m, 1.0, method="cumulant", order=3)
    with pytest.raises(ValueError, match="mixes models"):
        ps.evolve([m, m.replace(cavity=None)], 1.0, method="cumulant")


# ----------------------------------------------------------------------------- exact
@pytest.mark.parametrize("N", [1, 2, 3])
def test_exact_cavity_matches_bruteforce(N):
    from piqs_squeeze.validation import bruteforce_cavity as bfc

    m = _model(N)
    t = np.linspace(0, 1.5, 4)
    r = ps.evolve(m, t, method="exact", rtol=1e-11)
    ref = bfc.evolve(m, t, m.cavity.nmax)
    # the same Fock levels on both sides (truncation cancels); both integrate to ~1e-11, agreement
    # measured ~1e-10 of the largest moment, so 1e-8 has margin and a wrong coupling is O(0.1)
    np.testing.assert_allclose(r.mean, ref["mean"], atol=1e-8 * N)
    np.testing.assert_allclose(r.second, ref["second"], atol=1e-8 * N * N)
    np.testing.assert_allclose(r.photon_number, ref["photon_number"], atol=1e-8)
    np.testing.assert_allclose(r.field, ref["field"], atol=1e-8)
    assert r.photon_number[-1] > 0.01 and abs(r.field[-1]) > 0.01  # the cavity really is populated


def test_kernel_equals_kronecker_form():
    m = _model(3, nmax=5)
    layout = ops.Layout(3)
    kron = exact_cavity.CavityGenerator(m, 5, layout)
    kern = exact_cavity.KernelCavityGenerator(m, 5, layout)
    rng = np.random.default_rng(1)
    X = rng.normal(size=kron.shape_X) + 1j * rng.normal(size=kron.shape_X)
    # two evaluations of the same sums in different orders: rounding only (|LX| ~ 30)
    np.testing.assert_allclose(kern.apply(X), kron.apply(X), atol=1e-12)


def test_fock_cutoff_policy():
    m = ps.Model(3, omega=1.5, cavity=ps.Cavity(1.0, 1.0, drive=1.0, nmax=2))
    with pytest.warns(exact_cavity.FockCutoffWarning, match="top Fock level"):
        r = ps.evolve(m, [0.0, 1.0], method="exact")
    assert r.extras["fock_top_population"] > 1e-8
    with pytest.raises(ValueError, match="fock_tol"):
        ps.evolve(m, [0.0, 1.0], method="exact", fock_strict=True)
    auto = m.replace(cavity=m.cavity.replace(nmax=None))
    with warnings.catch_warnings():
        warnings.simplefilter("error", exact_cavity.FockCutoffWarning)
        r = ps.evolve(auto, [0.0, 1.0], method="exact")
    assert r.extras["fock_top_population"] <= 1e-8 and r.extras["nmax"] == r.extras["nmax_tries"][-1]
    # an impossible size is refused before any work
    with pytest.raises(MemoryError, match="cavity"):
        ps.evolve(ps.Model(50, gamma_s=1.0, cavity=ps.Cavity(1.0, 1.0, nmax=30)), 1.0, method="exact",
                  max_memory=4e9)


def test_exact_cavity_g0_leaves_the_spin_alone():
    m = ps.Model(4, omega=1.0, chi=0.3, gamma_s=0.5)
    t = np.linspace(0, 1, 3)
    spin = ps.evolve(m, t, method="exact", rtol=1e-11)
    cav = ps.evolve(m.replace(cavity=ps.Cavity(0.0, 1.0, drive=0.4, nmax=8)), t, method="exact", rtol=1e-11)
    # g = 0: the spin evolves as without a cavity (two Krylov runs to 1e-11)
    np.testing.assert_allclose(cav.second, spin.second, atol=1e-9)
    # a driven lossy mode from vacuum: <a>(t) = -2 i drive (1 - exp(-kappa t / 2)) / kappa
    np.testing.assert_allclose(cav.field, -2j * 0.4 * (1 - np.exp(-t / 2)), atol=1e-9)


# ----------------------------------------------------------------------------- moment methods
def test_derived_cavity_equations_are_exact_without_closure():
    """Tr(O L rho) of the 2^N x Fock Liouvillian equals the derived right-hand side evaluated on
    the exact moments of the same state (every rate, H terms, detuning, drive, kappa, g)."""
    from piqs_squeeze.validation.checks.cavity import cavity_moment_equations
    from piqs_squeeze.validation.registry import Context

    res = cavity_moment_equations(Context())
    assert res.status == "PASSED", res.message
    assert res.value < 1e-12  # rounding of O(1) sums


def test_cumulant_and_meanfield_cavity_g0_and_field():
    m = ps.Model(20, omega=8.0, chi=0.5, gamma=0.5, gamma_s=0.3)
    t = np.linspace(0, 1, 5)
    cav = m.replace(cavity=ps.Cavity(0.0, 1.0, drive=0.4, detuning=0.5))
    exact_field = -0.4j * (1 - np.exp(-(0.5 + 0.5j) * t)) / (0.5 + 0.5j)  # d<a>/dt = -(i det + kappa/2) a - i drive
    for method in ("cumulant", "meanfield"):
        a = ps.evolve(m, t, method=method, rtol=1e-10, atol=1e-12)
        b = ps.evolve(cav, t, method=method, rtol=1e-10, atol=1e-12)
        # different integrators (compiled dopri5 vs DOP853) on the same spin equations: 1e-8
        np.testing.assert_allclose(b.second, a.second, atol=1e-8 * 100)
        np.testing.assert_allclose(b.field, exact_field, atol=1e-9)
    c = ps.evolve(cav, t, method="cumulant")
    np.testing.assert_allclose(c.photon_number, np.abs(c.field) ** 2, atol=1e-8)  # a coherent state stays one


def test_cumulant_cavity_close_to_exact_at_small_n():
    m = ps.Model.from_upsilon_ratio(6, 0.9, chi=0.5, gamma=0.0, gamma_s=0.5).replace(
        cavity=ps.Cavity(1.0 / np.sqrt(6), 4.0, detuning=0.3))
    t = np.linspace(0, 2, 11)
    e = ps.evolve(m, t, method="exact", rtol=1e-9)
    c = ps.evolve(m, t, method="cumulant")
    # the order-2 closure is approximate (measured 3-5e-2 of the spin length at N = 4-8,
    # validation check cavity_cumulant_vs_exact); 0.1 bounds it and a wrong equation is O(1)
    assert np.abs(e.mean - c.mean).max() / 3 < 0.1
    assert np.abs(e.photon_number - c.photon_number).max() < 0.1 * e.photon_number.max() + 1e-3


# ----------------------------------------------------------------------------- CLI and sweeps
def test_cli_cavity_and_sweep_key():
    from piqs_squeeze.cli.run import parse_cavity
    from piqs_squeeze.sweep.spec import _check_names, build_model

    assert parse_cavity("g=0.5,kappa=10,nmax=6") == ps.Cavity(0.5, 10.0, nmax=6)
    assert parse_cavity(None) is None
    with pytest.raises(ValueError, match="g and kappa"):
        parse_cavity("g=0.5")
    with pytest.raises(ValueError, match="KEY=NUMBER"):
        parse_cavity("g=0.5,kappa=x")
    _check_names(["cavity.kappa"], "grid")
    with pytest.raises(ValueError, match="cavity.<field>"):
        _check_names(["cavity.q"], "grid")
    m = build_model({"N": 4, "ratio": 0.9, "chi": 1.0, "cavity.g": 0.5, "cavity.kappa": 10.0})
    assert m.cavity == ps.Cavity(0.5, 10.0)


def test_excitation_sectors_match_the_full_state():
    from piqs_squeeze.validation import bruteforce_cavity as bfc

    m = ps.Model(3, chi=0.4, gamma=0.3, gamma_s=0.4, dephasing=0.3, pumping=0.2, collective_dephasing=0.25,
                 collective_pumping=0.15, hamiltonian={"Jz": 0.3, "Jz Jz": 0.2},
                 cavity=ps.Cavity(0.75, 2.0, detuning=0.7, nmax=8))
    assert exact_cavity.conserves_excitations(m)
    assert not exact_cavity.conserves_excitations(m.replace(omega=1.0))
    assert not exact_cavity.conserves_excitations(m.replace(cavity=m.cavity.replace(drive=0.1)))
    init = ps.css(theta=1.2, phi=0.3)  # coherences of every order, a non-zero field
    t = np.linspace(0, 1.5, 4)
    a = ps.evolve(m, t, method="exact", initial=init, rtol=1e-11)
    b = ps.evolve(m, t, method="exact", initial=init, rtol=1e-11, cavity_sectors=False)
    ref = bfc.evolve(m, t, 8, initial=init)
    assert a.stats["excitation_sectors"] and not b.stats["excitation_sectors"]
    assert a.stats["packed_size"] < 0.5 * b.stats["packed_size"]
    # the dropped coherence orders never feed the kept ones: same numbers to the integration error
    np.testing.assert_allclose(a.second, b.second, atol=1e-10)
    np.testing.assert_allclose(a.second, ref["second"], atol=1e-9)
    np.testing.assert_allclose(a.field, ref["field"], atol=1e-9)
    assert np.abs(a.field).max() > 0.1
