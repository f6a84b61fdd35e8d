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
    if "carmichael" not in ps.available_methods(None, "steady_state"):
        pytest.skip("carmichael not available")
    with pytest.raises(ps.MethodError, match="carmichael.*Methods that can: .*exact"):
        ps.steady_state(model, method="carmichael")
