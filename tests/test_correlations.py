"""Rightmost Liouvillian modes, two-time correlations, g2 and the emission spectrum (issue 25)."""
import numpy as np
import pytest
import qutip

import piqs_squeeze as ps
from piqs_squeeze.methods.exact import generator as ops, steady
from piqs_squeeze.validation import bruteforce as bf
from piqs_squeeze.validation.cases import ALL_RATES, make_model

QT = {"atol": 1e-12, "rtol": 1e-12}
TAUS = np.linspace(0.0, 1.5, 7)
OMEGAS = np.linspace(-9.0, 9.0, 7)


def _dense_rightmost(model, block, k):
    lay = ops.Layout(model.N) if block is None else ops.Layout(model.N, blocks=[block])
    return steady._take_rightmost(np.linalg.eigvals(ops.generator_packed(model, lay).toarray()), k)


@pytest.mark.parametrize("state", ["steady", "css"])
def test_correlations_match_qutip_2n_every_process(state):
    """N = 3, every rate on: <J+(tau) J-(0)>, <Jz(tau) Jx(0)>, g2 and S(omega) against qutip's
    correlation_2op_1t / correlation_3op_1t / spectrum on the 2^N site model. Both sides
    integrate to ~1e-11 (Krylov rtol 1e-10; mesolve atol = rtol = 1e-12): 1e-7 of the scale."""
    model = make_model(3, ALL_RATES[1])
    H, c = bf.hamiltonian_and_collapse(model)
    jx, jy, jz, jm = bf.collective_operators(3)
    jp = jm.dag()
    init = ps.css(1.1, 0.4)
    rho0 = qutip.steadystate(H, c) if state == "steady" else qutip.ket2dm(bf.product_state(3, init))
    st = "steady" if state == "steady" else init
    for a, b, A, B in (("J+", "J-", jp, jm), ("Jz", "Jx", jz, jx)):
        ref = qutip.correlation_2op_1t(H, rho0, TAUS, c, A, B, options=QT)
        ours = ps.correlation(model, TAUS, a, b, state=st)
        assert np.abs(ours - ref).max() < 1e-7 * max(np.abs(ref).max(), 1.0)
    nn = jp * jm
    num = qutip.correlation_3op_1t(H, rho0, TAUS, c, jp, nn, jm, options=QT)
    n_tau = qutip.mesolve(H, rho0, TAUS, c, e_ops=[nn], options=QT).expect[0]
    g2_ref = np.real(num) / (qutip.expect(nn, rho0) * np.real(n_tau))
    assert np.abs(ps.g2(model, TAUS, state=st) - g2_ref).max() < 1e-7 * g2_ref.max()
    if state == "steady":
        S_ref = qutip.spectrum(H, OMEGAS, c, jp, jm)
        assert np.abs(ps.emission_spectrum(model, OMEGAS) - S_ref).max() < 1e-7 * S_ref.max()


def test_collective_correlations_and_qobj_operators():
    """Collective model (j = N/2, the CSS sector) against qutip on spin N/2 (jmat); the operators
    given as jmat Qobjs and in qutip.piqs' Dicke basis give the same numbers as the names."""
    N = 6
    model = ps.Model.from_upsilon_ratio(N, 1.3, chi=0.7, collective_dephasing=0.2)
    jp = qutip.jmat(N / 2, "+")
    jm = jp.dag()
    H = model.chi * jp * jm + model.omega * qutip.jmat(N / 2, "x")
    c = [np.sqrt(model.gamma) * jm, np.sqrt(0.2) * qutip.jmat(N / 2, "z")]
    ref = qutip.correlation_2op_1t(H, None, TAUS, c, jp, jm, options=QT)
    ours = ps.correlation(model, TAUS)
    assert np.abs(ours - ref).max() < 1e-7 * np.abs(ref).max()
    S_ref = qutip.spectrum(H, OMEGAS, c, jp, jm)
    assert np.abs(ps.emission_spectrum(model, OMEGAS) - S_ref).max() < 1e-7 * S_ref.max()
    # Qobj operators: identical propagation, so equal to rounding (1e-12 of the scale)
    q = ps.correlation(model, TAUS, a=jp, b=jm)
    assert np.abs(q - ours).max() < 1e-12 * np.abs(ours).max()
    from qutip import piqs

    d = ps.correlation(model, TAUS, a=piqs.jspin(N, "+"), b=piqs.jspin(N, "-"))
    assert np.abs(d - ours).max() < 1e-12 * np.abs(ours).max()


@pytest.mark.parametrize("chi,N", [(0.0, 20), (1.0, 16)])
def test_rightmost_scan_matches_dense_collective(chi, N):
    """The imaginary-axis scan (forced) on j = N/2 above threshold: the six rightmost include the
    oscillating time-crystal modes; to 1e-8 of dense eigenvalues (both ~1e-11)."""
    model = ps.Model.from_upsilon_ratio(N, 1.5, chi=chi)
    lam, info = steady._rightmost_block(model, 6, 1e-12, 0, 60, dense_max=0)
    ref = _dense_rightmost(model, 0, 8)
    assert max(np.abs(ref - z).min() for z in lam) < 1e-8
    assert np.abs(np.sort(lam.real) - np.sort(ref[:6].real)).max() < 1e-8
    assert np.any(np.abs(lam.imag) > 1.0)  # an oscillating mode among the six
    assert lam[0] == 0 and info["shifts"][0] == 0 and len(info["shifts"]) > 1


def test_rightmost_scan_matches_dense_local_rates():
    model = make_model(6, ALL_RATES[0])
    lam, _ = steady._rightmost_block(model, 6, 1e-12, None, 60, dense_max=0)
    ref = _dense_rightmost(model, None, 8)
    assert max(np.abs(ref - z).min() for z in lam) < 1e-8
    assert np.abs(np.sort(lam.real) - np.sort(ref[:6].real)).max() < 1e-8


def test_liouvillian_spectrum_default_is_rightmost_top_sector():
    """Collective default: j = N/2 (one eigenvalue 0), the gap the first non-zero one; 'all' has a
    zero per block but the same gap definition; deterministic to the bit."""
    model = ps.Model.from_upsilon_ratio(10, 1.5, chi=0.0)
    sp = ps.liouvillian_spectrum(model, k=6)
    ref = _dense_rightmost(model, 0, 6)
    assert np.abs(sp.eigenvalues - ref).max() < 1e-8
    assert sp.eigenvalues[2].imag > 0 and sp.eigenvalues[3] == np.conj(sp.eigenvalues[2])  # pairs adjacent
    allb = ps.liouvillian_spectrum(model, k=8, blocks="all")
    assert np.sum(allb.eigenvalues == 0) >= 2 and np.isfinite(allb.gap) and allb.gap > 0
    again = ps.liouvillian_spectrum(model, k=6)
    assert again.eigenvalues.tobytes() == sp.eigenvalues.tobytes()


def test_cumulant_correlation_exact_for_independent_atoms():
    """Without collective terms the atoms stay uncorrelated: the order-2 regression is exact
    (both integrate to ~1e-11: 1e-8 of the scale)."""
    model = ps.Model(5, omega=2.0, gamma=0.0, gamma_s=1.0, dephasing=0.3)
    for st in ("steady", None):
        ex = ps.correlation(model, TAUS, "J+", "J-", state=st)
        cu = ps.correlation(model, TAUS, "J+", "J-", state=st, method="cumulant")
        assert np.abs(ex - cu).max() < 1e-8 * np.abs(ex).max()
    Se = ps.emission_spectrum(model, OMEGAS)
    assert np.abs(ps.emission_spectrum(model, OMEGAS, method="cumulant") - Se).max() < 1e-8 * Se.max()


def test_bad_input():
    model = ps.Model(4, omega=1.0, gamma_s=1.0)
    with pytest.raises(ValueError, match="operator"):
        ps.correlation(model, TAUS, a="J*")
    with pytest.raises(ValueError, match="taus"):
        ps.correlation(model, [1.0, 0.5])
    with pytest.raises(ValueError, match="state"):
        ps.correlation(model, TAUS, state="stationary")
    with pytest.raises(ValueError, match="omegas"):
        ps.emission_spectrum(model, [[1.0]])
    with pytest.raises(ValueError, match="operator"):
        ps.correlation(model, TAUS, a=qutip.qeye(3))
    with pytest.raises(ValueError, match="block"):
        ps.liouvillian_spectrum(model, blocks=1)
    with pytest.raises(ValueError, match="single collective operator"):
        ps.correlation(model, TAUS, a="J+ J-", method="cumulant")
    with pytest.raises(ps.MethodError, match="g2"):
        ps.g2(model, TAUS, method="cumulant")
    with pytest.raises(ps.UnknownOptionError, match="rtol"):
        ps.correlation(model, TAUS, rtl=1e-8)
    with pytest.raises(ValueError, match="not stationary"):  # not yet relaxed at t_steady
        ps.correlation(ps.Model.from_upsilon_ratio(50, 0.5, chi=1.0), TAUS, method="cumulant", t_steady=0.01)
