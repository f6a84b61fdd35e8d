"""General quadratic collective Hamiltonians: parsing, decomposition, Dicke-basis bands, Model."""
import pickle

import numpy as np
import pytest
import qutip
from qutip import piqs

import piqs_squeeze as ps
from piqs_squeeze import dicke
from piqs_squeeze.hamiltonian import KEYS, LINEAR_KEYS, band_matrix, decompose_qobj, dicke_bands, parse_hamiltonian


def _dense(terms, j, ops):
    J = {a: ops(j, a) for a in "xyz"}
    H = 0
    for k, v in terms.items():
        if k in LINEAR_KEYS:
            H = H + v * J[k[1]]
        elif k == "J+ J-":
            H = H + v * (J["x"] + 1j * J["y"]) @ (J["x"] - 1j * J["y"])
        else:
            a, b = J[k[1]], J[k[4]]
            H = H + v * (a @ b + b @ a) / 2
    return H


@pytest.mark.parametrize("N", [1, 2, 5, 6, 41])
def test_bands_equal_dense_collective_operators(N):
    rng = np.random.default_rng(N)
    terms = {k: rng.normal() for k in KEYS}
    for j in dicke.j_values(N):
        ref = _dense(terms, j, lambda j, a: qutip.jmat(j, a).full()) if j > 0 else np.zeros((1, 1))
        got = band_matrix(dicke_bands(terms, j), int(2 * j + 1))
        assert np.abs(got - ref).max() < 1e-12 * max(1.0, np.abs(ref).max())


@pytest.mark.parametrize("N", [2, 5, 6])
@pytest.mark.parametrize("basis", ["jmat", "dicke"])
def test_qobj_decomposition_reproduces_the_operator(N, basis):
    rng = np.random.default_rng(10 + N)
    terms = {k: rng.normal() for k in KEYS if k != "J+ J-"}
    if basis == "jmat":
        H = qutip.Qobj(_dense(terms, N / 2, lambda j, a: qutip.jmat(j, a).full()))
    else:
        H = qutip.Qobj(_dense(terms, N / 2, lambda j, a: piqs.jspin(N, a, basis="dicke").full()))
    coef = decompose_qobj(H, N)
    if basis == "dicke":  # unique decomposition: every coefficient comes back
        for k, v in terms.items():
            assert coef.get(k, 0.0) == pytest.approx(v, abs=1e-10)
    else:  # up to a multiple of J^2 = j(j+1): the matrices agree up to a constant
        d = N + 1
        D = band_matrix(dicke_bands(coef, N / 2), d) - H.full()
        assert np.abs(D - np.trace(D) / d * np.eye(d)).max() < 1e-10


def test_one_axis_twisting_qobj_keeps_its_form():
    assert decompose_qobj(1.5 * qutip.jmat(3, "z") ** 2 + qutip.jmat(3, "y"), 6) == pytest.approx(
        {"Jy": 1.0, "Jz Jz": 1.5}, abs=1e-12)
    assert decompose_qobj(0.7 * piqs.jspin(5, "z") ** 2 + 0.3 * piqs.jspin(5, "x"), 5) == pytest.approx(
        {"Jx": 0.3, "Jz Jz": 0.7}, abs=1e-12)


@pytest.mark.parametrize("H, match", [
    (qutip.jmat(3, "z") ** 3, "degree <= 2"),
    (qutip.jmat(3, "+"), "not Hermitian"),
    (qutip.jmat(2, "z"), "must be 7 x 7"),
    (qutip.qeye(3), "must be 7 x 7"),
])
def test_refused_qobj(H, match):
    with pytest.raises(ValueError, match=match):
        ps.Model(6, hamiltonian=H)


def test_dict_keys_and_values_are_checked():
    with pytest.raises(ValueError, match=r"unknown term 'Jzz'.*did you mean 'Jz'"):
        ps.Model(4, hamiltonian={"Jzz": 1.0})
    with pytest.raises(TypeError, match=r"hamiltonian\['Jz'\]"):
        ps.Model(4, hamiltonian={"Jz": 1j})
    with pytest.raises(ValueError, match="given twice"):
        ps.Model(4, hamiltonian={"Jx Jz": 1.0, "Jz Jx": 2.0})
    assert parse_hamiltonian({"Jz Jy": 2.0, "Jx": 0.0}, 4) == {"Jy Jz": 2.0}


def test_model_round_trip_and_ramps():
    m = ps.Model(6, omega=1.0, chi=0.5, hamiltonian={"Jz": 0.3, "Jz Jz": 1.0})
    assert ps.Model.from_dict(m.to_dict()) == m and hash(m) == hash(ps.Model.from_dict(m.to_dict()))
    assert "hamiltonian={'Jz': 0.3, 'Jz Jz': 1}" in str(m)
    assert not m.is_paper_model and ps.Model(6, omega=1.0).is_paper_model
    r = ps.Model(6, omega=ps.Ramp.linear(0.0, 2.0, 1.0, 3.0), hamiltonian={"Jz": ps.Ramp([0, 1], [0, 1], "pchip")})
    assert r.time_dependent and ps.Model.from_dict(r.to_dict()) == r and pickle.loads(pickle.dumps(r)) == r
    assert r.at(1.0) == ps.Model(6, omega=2.0, hamiltonian={"Jz": 1.0})
    with pytest.raises(TypeError, match="model.at"):
        r.ratio
    with pytest.raises(TypeError, match="cannot be saved"):
        ps.Model(6, omega=lambda t: t).to_dict()
    with pytest.raises(ValueError, match="Ramp times"):
        ps.Ramp([1.0, 0.0], [0.0, 1.0])


def test_refused_dicke_basis_qobj_that_is_not_collective():
    """In qutip.piqs' Dicke basis (all j blocks) an operator is collective only if it is the same
    polynomial of J in every block: a projector on j = N/2, an operator coupling two blocks and a
    non-Hermitian one are refused."""
    N = 4
    nds = dicke.num_dicke_states(N)
    top = np.zeros((nds, nds))
    top[:N + 1, :N + 1] = np.eye(N + 1)
    mix = np.zeros((nds, nds))
    mix[0, N + 1] = mix[N + 1, 0] = 1.0
    for H, match in ((qutip.Qobj(top), "degree <= 2"), (qutip.Qobj(mix), "degree <= 2"),
                     (1j * piqs.jspin(N, "z"), "not Hermitian"), (piqs.jspin(N, "z") ** 3, "degree <= 2")):
        with pytest.raises(ValueError, match=match):
            ps.Model(N, hamiltonian=H)
