import numpy as np
import pytest

import piqs_squeeze as ps
from piqs_squeeze.states import css_moments


def _result(**kw):
    model = ps.Model.from_upsilon_ratio(12, 0.9, chi=1.0, gamma_s=0.5, dephasing=0.1)
    rng = np.random.default_rng(1)
    T = 5
    m, s = css_moments(12, 1.0, 0.5)
    mean = m + 0.01 * rng.normal(size=(T, 3))
    second = s + 0.01 * rng.normal(size=(T, 3, 3))
    return ps.Result(np.linspace(0, 1, T), mean, second, model, "test", options={"rtol": 1e-8, "n": np.int64(3)},
                     **kw)


def test_round_trip_exact(tmp_path):
    r = _result(mean_err=np.full((5, 3), 0.1), second_err=np.full((5, 3, 3), 0.2),
                extras={"j_populations": np.arange(10.0).reshape(5, 2), "note": "hello", "jumps": [[0.1], []]})
    path = r.save(tmp_path / "r")
    assert path.suffix == ".npz"
    q = ps.Result.load(path)
    for name in ("times", "mean", "second", "mean_err", "second_err"):
        np.testing.assert_array_equal(getattr(q, name), getattr(r, name))
    np.testing.assert_array_equal(q.extras["j_populations"], r.extras["j_populations"])
    assert q.extras["note"] == "hello" and q.extras["jumps"] == [[0.1], []]
    assert q.model == r.model and q.method == "test" and q.options == {"rtol": 1e-8, "n": 3}
    assert q.provenance == r.provenance and q.provenance["piqs_squeeze"] == ps.__version__
    np.testing.assert_array_equal(q.xi2, r.xi2)
    np.testing.assert_array_equal(q.n_eff, r.n_eff)


def test_steady_state_time_inf_round_trip(tmp_path):
    model = ps.Model(4, omega=1.0)
    m, s = css_moments(4, 0.3, 0.0)
    r = ps.Result([np.inf], m, s, model, "x")
    q = ps.Result.load(r.save(tmp_path / "ss.npz"))
    assert np.isinf(q.times[0]) and q.xi2[0] == pytest.approx(1.0)
    assert r.jz_over_j[0] == pytest.approx(np.cos(0.3))


def test_derived_properties_match_observables():
    r = _result()
    np.testing.assert_array_equal(r.xi2, ps.xi2(r.mean, r.second, 12))
    np.testing.assert_array_equal(r.xi2_db, 10 * np.log10(r.xi2))
    assert r.second.shape == (5, 3, 3) and np.array_equal(r.second, np.swapaxes(r.second, 1, 2))
    assert "test" in repr(r)


def test_load_rejects_garbage(tmp_path):
    p = tmp_path / "bad.npz"
    p.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable"):
        ps.Result.load(p)
