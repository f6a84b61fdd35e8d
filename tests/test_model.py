import math

import numpy as np
import pytest

from piqs_squeeze import Model
from piqs_squeeze.model import check_times


def test_from_upsilon_ratio_and_derived():
    m = Model.from_upsilon_ratio(2000, 0.9, chi=1.0, gamma_s=2.0)
    assert m.upsilon_c == pytest.approx(math.sqrt(5.0), rel=1e-15)
    assert m.omega == pytest.approx(2000 * 0.9 * math.sqrt(5.0) / 2, rel=1e-15)
    assert m.upsilon == pytest.approx(0.9 * math.sqrt(5.0), rel=1e-15)
    assert m.ratio == pytest.approx(0.9, rel=1e-15)
    assert m.upsilon_c_prime == pytest.approx(math.sqrt(5.0 / 2.0), rel=1e-15)
    assert m.n_c == pytest.approx(2 * m.omega / m.upsilon_c, rel=1e-15)
    assert m.region == "between"
    assert m.phase == "normal"  # with local emission the threshold is Upsilon'_c
    assert m.replace(gamma_s=0.0).phase == "superradiant"
    assert Model.from_upsilon_ratio(10, 0.5, chi=0.0).region == "below_prime"
    assert Model.from_upsilon_ratio(10, 1.5, chi=0.0).phase == "normal"


def test_immutable_hashable_comparable_printable():
    a = Model(10, omega=3.0, chi=1.0)
    b = Model(10.0, omega=3, chi=1)
    assert a == b and hash(a) == hash(b)
    assert {a: 1}[b] == 1
    assert a != a.replace(gamma_s=0.1)
    with pytest.raises(AttributeError):
        a.N = 11
    assert "N=10" in str(a) and "omega=3" in str(a)
    assert Model.from_dict(a.to_dict()) == a
    assert isinstance(a.N, int) and isinstance(a.omega, float)


@pytest.mark.parametrize("N", [0, -3])
def test_bad_N_value(N):
    with pytest.raises(ValueError, match="N must be an integer >= 1"):
        Model(N)


@pytest.mark.parametrize("N", [2.5, "10", None, True])
def test_bad_N_type(N):
    with pytest.raises(TypeError, match="N must be an integer >= 1"):
        Model(N)


@pytest.mark.parametrize("name", ["gamma", "gamma_s", "dephasing", "pumping", "collective_dephasing",
                                  "collective_pumping", "omega"])
@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf")])
def test_bad_rates(name, value):
    with pytest.raises(ValueError, match=name):
        Model(10, **{name: value})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_chi_must_be_finite_but_may_be_negative(value):
    assert Model(4, chi=-2.0).chi == -2.0
    with pytest.raises(ValueError, match="chi"):
        Model(4, chi=value)


def test_rate_type():
    with pytest.raises(TypeError, match="gamma_s"):
        Model(4, gamma_s="1")


def test_bad_ratio():
    with pytest.raises(ValueError, match="ratio"):
        Model.from_upsilon_ratio(10, -0.1, chi=1.0)
    with pytest.raises(ValueError, match="ratio"):
        Model.from_upsilon_ratio(10, float("nan"), chi=1.0)
    with pytest.raises(ValueError, match="N must"):
        Model.from_upsilon_ratio(0, 0.5, chi=1.0)


@pytest.mark.parametrize("times,msg", [
    ([0.0, 2.0, 1.0], "increasing"),
    ([0.0, 1.0, 1.0], "increasing"),
    ([0.0, float("nan")], "finite"),
    ([0.0, float("inf")], "finite"),
    ([], "non-empty"),
    ([[0.0, 1.0]], "1-D"),
    ([-1.0, 0.0], ">= 0"),
])
def test_bad_times(times, msg):
    with pytest.raises(ValueError, match=msg):
        check_times(times)


def test_good_times():
    t = check_times([0, 1, 2])
    assert t.dtype == np.float64 and t.shape == (3,)
