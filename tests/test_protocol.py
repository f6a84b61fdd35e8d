"""Protocol: validation of its steps, splitting output times into segments, round trip."""
import numpy as np
import pytest

import piqs_squeeze as ps

M = [ps.Model(4, omega=w) for w in (1.0, 2.0, 3.0)]
P = ps.Protocol([(1.0, M[0]), (2.0, M[1]), (3.0, M[2])])


@pytest.mark.parametrize("times, expect", [
    # a boundary time belongs to the segment it ends; the last model runs on after t_3
    ([0, 0.5, 1, 1.5, 2, 3], [(1.0, 0.0, 1.0, [0, 1, 2]), (2.0, 1.0, 2.0, [3, 4]), (3.0, 2.0, 3.0, [5])]),
    ([1.5, 2, 2.5, 4], [(2.0, 1.5, 2.0, [0, 1]), (3.0, 2.0, 4.0, [2, 3])]),
    ([1, 2], [(2.0, 1.0, 2.0, [0, 1])]),
    ([0, 3], [(1.0, 0.0, 1.0, [0]), (2.0, 1.0, 2.0, []), (3.0, 2.0, 3.0, [1])]),
])
def test_segments(times, expect):
    got = [(s.model.omega, s.start, s.end, s.out.tolist()) for s in P.segments(np.asarray(times, float))]
    assert got == expect


def test_model_at_and_round_trip():
    assert [P.model_at(t).omega for t in (0.0, 1.0, 1.0001, 2.5, 10.0)] == [1.0, 1.0, 2.0, 3.0, 3.0]
    assert ps.Protocol.from_dict(P.to_dict()) == P and hash(P) == hash(ps.Protocol.from_dict(P.to_dict()))
    assert P.N == 4 and len(P) == 3 and not P.time_dependent


@pytest.mark.parametrize("steps, error, match", [
    ([], ValueError, "at least one"),
    ([(1.0, "model")], TypeError, "expected a piqs_squeeze.Model"),
    ([(1.0, M[0]), (1.0, M[1])], ValueError, "strictly increasing"),
    ([(0.0, M[0])], ValueError, "> 0"),
    ([(1.0, M[0]), (2.0, ps.Model(5, omega=1.0))], ValueError, "same N"),
    ([(float("nan"), M[0])], ValueError, "finite"),
])
def test_bad_steps_are_refused(steps, error, match):
    with pytest.raises(error, match=match):
        ps.Protocol(steps)
