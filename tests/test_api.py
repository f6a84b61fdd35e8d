import numpy as np
import pytest

import piqs_squeeze as ps


def test_unknown_method_names_the_available_ones():
    with pytest.raises(ps.MethodError, match="unknown method 'nope'.*exact"):
        ps.evolve(ps.Model(4, omega=1.0), [0, 1], method="nope")


def test_bad_times_rejected_before_dispatch():
    with pytest.raises(ValueError, match="increasing"):
        ps.evolve(ps.Model(4, omega=1.0), [0, 2, 1], method="exact")


def test_model_type_checked():
    with pytest.raises(TypeError, match="Model"):
        ps.evolve({"N": 4}, [0, 1])
    with pytest.raises(TypeError, match="Model"):
        ps.steady_state("model")


def test_method_that_cannot_run_names_alternatives():
    """The analytic steady state exists only for the collective model."""
    model = ps.Model(4, omega=1.0, gamma_s=1.0)
    with pytest.raises(ps.MethodError, match="carmichael.*Methods that can: .*exact"):
        ps.steady_state(model, method="carmichael")


def test_per_model_time_grids_through_evolve():
    """A list of models may carry one time grid each; each result keeps its own grid."""
    models = [ps.Model.from_upsilon_ratio(2, 0.9, chi=1.0, gamma_s=g) for g in (1.0, 2.0)]
    grids = [np.linspace(0, 0.5, 4), np.linspace(0, 0.25, 6)]
    for method in ("cumulant", "exact"):
        res = ps.evolve(models, grids, method=method)
        for r, t, m in zip(res, grids, models):
            np.testing.assert_array_equal(r.times, t)
            single = ps.evolve(m, t, method=method)
            # same equations, same tolerances: batched and single runs agree to the solver tolerance
            np.testing.assert_allclose(r.mean, single.mean, atol=1e-7)
    with pytest.raises(ValueError, match="2 time grids for 3 models"):
        ps.evolve(models + models[:1], grids, method="cumulant")
    with pytest.raises(ValueError, match=r"times\[1\].*increasing"):
        ps.evolve(models, [grids[0], grids[1][::-1]], method="cumulant")
