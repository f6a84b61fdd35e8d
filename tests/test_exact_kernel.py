"""The matrix-free generator and the locally orthogonalised Krylov basis of the exact solver."""
import numpy as np
import pytest

from piqs_squeeze import Model
from piqs_squeeze import exact_ops as ops
from piqs_squeeze import exact_stepper as st
from piqs_squeeze.exact_kernel import PackedGenerator

ALL_RATES = dict(omega=3.1, chi=0.7, gamma=1.3, gamma_s=0.9, dephasing=0.4, pumping=0.3,
                 collective_dephasing=0.5, collective_pumping=0.2)


@pytest.mark.parametrize("N", [1, 2, 3, 6, 9, 14])
@pytest.mark.parametrize("rates", [ALL_RATES, dict(omega=2.0, chi=1.0, gamma=1.0, gamma_s=1.0),
                                   dict(omega=2.0, gamma=1.0, dephasing=0.5)])
def test_matrix_free_equals_csr(N, rates):
    model = Model(N=N, **rates)
    layout = ops.Layout(N)
    A = ops.generator_packed(model, layout)
    G = PackedGenerator(model, layout)
    x = np.random.default_rng(N).standard_normal((3, layout.n))
    for v in x:
        ref = A @ v
        # same terms summed in another order: round-off of the largest term (~N^2 |v|)
        assert np.abs(G.dot(v) - ref).max() <= 1e-13 * max(np.abs(ref).max(), 1.0)
    out = np.empty(layout.n)
    assert G.dot(x[0], out=out) is out


def test_matrix_free_restricted_layout():
    model = Model(N=7, omega=2.0, chi=0.5, gamma=1.0, collective_dephasing=0.3)
    layout = ops.Layout(7, blocks=[0, 2])
    A = ops.generator_packed(model, layout)
    v = np.random.default_rng(0).standard_normal(layout.n)
    assert np.allclose(PackedGenerator(model, layout).dot(v), A @ v, rtol=0, atol=1e-12 * np.abs(A @ v).max())
    with pytest.raises(ValueError, match="truncated Layout"):
        PackedGenerator(Model(N=7, omega=1.0, gamma=1.0, gamma_s=1.0), layout)


@pytest.mark.parametrize("fused", [True, False])
def test_local_basis_arnoldi_relation(fused):
    """A Q_m = Q_{m+1} Hbar with Q = Z R^-1 orthonormal, as from full Gram-Schmidt; with the
    matrix-free operator the product pass returns the dot products (fused), with a CSR matrix
    numpy computes them."""
    model = Model(N=10, **ALL_RATES)
    layout = ops.Layout(10)
    A = ops.generator_packed(model, layout)
    x = np.random.default_rng(1).standard_normal(layout.n)
    m = 12
    Z, R, Hbar, beta = st._local_basis(PackedGenerator(model, layout) if fused else A, x, m)
    Q = np.linalg.solve(R.T, Z).T  # columns q_k
    assert np.abs(Q.T @ Q - np.eye(m + 1)).max() < 1e-10
    assert np.abs(A @ Q[:, :m] - Q @ Hbar).max() < 1e-10 * np.abs(A @ Q[:, :m]).max()
    assert np.allclose(beta * Q[:, 0], x, atol=1e-12 * np.abs(x).max())
    # same Hessenberg (up to column signs) as Arnoldi on the same start vector
    V, H, b2, mk, _ = st._arnoldi(A.dot, x, m)
    signs = np.sign(np.sum(V[:m].T * Q[:, :m], axis=0))
    assert np.allclose(np.abs(np.linalg.eigvals(H[:m, :m])).sum(), np.abs(np.linalg.eigvals(Hbar[:m])).sum(),
                       rtol=1e-8)
    assert np.all(np.abs(signs) == 1)


@pytest.mark.parametrize("local", [True, False])
def test_krylov_bases_agree(local):
    model = Model(N=8, **ALL_RATES)
    layout = ops.Layout(8)
    A = PackedGenerator(model, layout)
    x0 = np.zeros(layout.n)
    x0[0] = 1.0  # |j = 4, m = 4><..| (packed: first real of block j = N/2)
    times = np.linspace(0, 1.0, 6)
    outs = {}
    for loc in (local, not local):
        rec = []
        st.krylov_propagate(A, x0, times, rtol=1e-11, m=12, local=loc, on_output=lambda i, t, x: rec.append(x.copy()))
        outs[loc] = np.array(rec)
    assert np.abs(outs[True] - outs[False]).max() < 1e-9
