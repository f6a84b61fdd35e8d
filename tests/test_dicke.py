"""Dicke bookkeeping: local-channel sum rules, degeneracies, conversions to/from qutip.piqs."""
import numpy as np
import pytest
import qutip
from qutip import piqs

from piqs_squeeze import dicke
from piqs_squeeze.states import css_moments


@pytest.mark.parametrize("N", [1, 4, 5, 12])
def test_degeneracies_count_all_states(N):
    # sum_j d_j (2j + 1) = 2^N exactly (log-space degeneracies, rounded)
    j = dicke.j_values(N)
    total = np.sum(np.rint(dicke.degeneracy(N, j)) * (2 * j + 1))
    assert total == 2**N
    assert dicke.num_dicke_states(N) == piqs.num_dicke_states(N)


@pytest.mark.parametrize("N", [3, 6, 11])
@pytest.mark.parametrize("process", ["gamma_s", "dephasing", "pumping"])
def test_local_channels_sum_rule(N, process):
    """sum_dj K_dj^+ K_dj = sum_i s_i^+ s_i restricted to sector j (Jz + N/2, N/2 - Jz, N/4).

    This is trace preservation of the local dissipator; the amplitudes are O(1)-O(N) numbers,
    so double precision gives ~1e-13 absolute."""
    for j in dicke.j_values(N):
        m = dicke.m_values(j)
        ch = dicke.local_channels(N, float(j), process)
        total = sum(a**2 for a in ch.values())
        expected = {"gamma_s": m + N / 2, "pumping": N / 2 - m, "dephasing": np.full_like(m, N / 4)}[process]
        np.testing.assert_allclose(total, expected, rtol=0, atol=1e-12 * N)


def test_unknown_process_rejected():
    with pytest.raises(ValueError, match="local process"):
        dicke.local_channels(4, 2.0, "emission")


@pytest.mark.parametrize("N", [4, 7])
def test_piqs_css_converts_to_our_blocks(N):
    """qutip.piqs' CSS in its Dicke basis has trace 1 and the exact CSS moments once cut into
    blocks: their storage is the total-weight convention, the conversion only cuts blocks.
    qutip.piqs builds the state in double precision, so 1e-10 relative holds."""
    rho = piqs.css(N, basis="dicke")  # along +x in qutip.piqs' default
    blocks = dicke.blocks_from_piqs(rho)
    assert len(blocks) == len(dicke.j_values(N))
    assert abs(sum(np.trace(B).real for B in blocks) - 1) < 1e-12
    mean = sum(dicke.moments_from_density(j, B)[0] for j, B in zip(dicke.j_values(N), blocks))
    second = sum(dicke.moments_from_density(j, B)[1] for j, B in zip(dicke.j_values(N), blocks))
    m_ref, s_ref = css_moments(N, np.pi / 2, 0.0)
    np.testing.assert_allclose(mean, m_ref, atol=1e-10 * N)
    np.testing.assert_allclose(second, s_ref, atol=1e-10 * N**2)
    back = dicke.blocks_to_piqs(blocks)
    assert np.abs(back.full() - rho.full()).max() < 1e-15


def test_blocks_from_piqs_rejects_bad_input():
    with pytest.raises(ValueError, match="Dicke states"):
        dicke.blocks_from_piqs(np.eye(7) / 7)
    rho = np.eye(9) / 9
    rho[0, 8] = rho[8, 0] = 0.1  # couples j = 2 and j = 0: not permutation invariant
    with pytest.raises(ValueError, match="outside the Dicke blocks"):
        dicke.blocks_from_piqs(rho, 4)
    with pytest.raises(ValueError, match="needs"):
        dicke.blocks_from_piqs(qutip.qeye(9) / 9, 5)
