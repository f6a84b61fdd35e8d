"""The matrix-free generator and the locally orthogonalised Krylov basis of the exact solver."""
import numpy as np
import pytest

from piqs_squeeze import Model
from piqs_squeeze.methods.exact import generator as ops
from piqs_squeeze.methods.exact import steppers as st
from piqs_squeeze.methods.exact.kernels import PackedGenerator

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
    # shift, scale, flush of tiny entries and the dot products of the same pass
    dots = np.zeros(2)
    ref = 0.5 * (A @ x[1] - 2.0 * x[1])
    tiny = np.quantile(np.abs(ref), 0.2)
    y = G.dot(x[1], dots=dots, shift=2.0, scale=0.5, tiny=tiny)
    kept = np.abs(ref) >= tiny * (1 + 1e-12)
    assert np.all(y[np.abs(ref) < tiny * (1 - 1e-12)] == 0) and np.count_nonzero(y == 0) >= 0.15 * y.size
    assert np.abs(y - ref)[kept].max() <= 1e-13 * max(np.abs(ref).max(), 1.0)
    assert np.allclose(dots, [x[1] @ y, y @ y], rtol=1e-12)


def test_matrix_free_restricted_layout():
    model = Model(N=7, omega=2.0, chi=0.5, gamma=1.0, collective_dephasing=0.3)
    layout = ops.Layout(7, blocks=[0, 2])
    A = ops.generator_packed(model, layout)
    v = np.random.default_rng(0).standard_normal(layout.n)
    assert np.allclose(PackedGenerator(model, layout).dot(v), A @ v, rtol=0, atol=1e-12 * np.abs(A @ v).max())
    with pytest.raises(ValueError, match="truncated Layout"):
        PackedGenerator(Model(N=7, omega=1.0, gamma=1.0, gamma_s=1.0), layout)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("shifted", [False, True])
def test_basis_arnoldi_relation(fused, shifted):
    """A Q_m = Q_{m+1} Hbar with Q = Z R^-1 orthonormal, as from full Gram-Schmidt, for the locally
    orthogonalised basis and for the one-pass basis that reuses its recurrence on a nearby vector
    (as the next step does); with the matrix-free operator the product pass applies the shift and
    scale and returns the dot products (fused), with a CSR matrix numpy does."""
    model = Model(N=10, **ALL_RATES)
    layout = ops.Layout(10)
    A = ops.generator_packed(model, layout)
    op = PackedGenerator(model, layout) if fused else A
    rng = np.random.default_rng(1)
    x = rng.standard_normal(layout.n)
    m = 12
    Z = np.empty((m + 1, layout.n))
    Z[0] = x
    Z, R, Hbar, beta, coef = st._local_basis(op, Z, m, x @ x)
    if shifted:
        x = 3.0 * (x + 0.01 * rng.standard_normal(layout.n))
        Z = np.empty((m + 1, layout.n))
        Z[0] = x
        Z, R, Hbar, beta, coef2 = st._shifted_basis(op, Z, m, x @ x, coef)
        # the recurrence measured in the passes: Rayleigh quotients of the (nearly unchanged) vectors
        assert np.allclose(coef2[0], coef[0], rtol=0.05, atol=0.05 * np.abs(coef[0]).max())
    assert np.all(Z[0] == x)
    Q = np.linalg.solve(R.T, Z).T  # columns q_k
    assert np.abs(Q.T @ Q - np.eye(m + 1)).max() < 1e-10
    assert np.abs(A @ Q[:, :m] - Q @ Hbar).max() < 1e-10 * np.abs(A @ Q[:, :m]).max()
    assert np.allclose(beta * Q[:, 0], x, atol=1e-12 * np.abs(x).max())
    # same Hessenberg (up to column signs) as Arnoldi on the same start vector
    V, H, b2, mk, _ = st._arnoldi(A.dot, x, m)
    signs = np.sign(np.sum(V[:m].T * Q[:, :m], axis=0))
    assert np.allclose(np.abs(np.linalg.eigvals(H[:m, :m])).sum(), np.abs(np.linalg.eigvals(Hbar[:m])).sum(),
                       rtol=1e-8)
    assert b2 == pytest.approx(beta, rel=1e-12)
    assert np.all(np.abs(signs) == 1)


@pytest.mark.parametrize("p", [1, 3, 4, 7, 17])
def test_gram_and_combine(p):
    Z = np.random.default_rng(p).standard_normal((p, 10007))
    G = st._gram(Z)
    assert np.allclose(G, Z @ Z.T, rtol=0, atol=1e-12 * np.abs(G).max())
    assert np.all(G == G.T)
    c = np.linspace(1.0, 2.0, p)
    ref = c @ Z
    out = np.empty(Z.shape[1])
    assert st._combine(Z, c, out) == pytest.approx(ref @ ref, rel=1e-12)
    assert np.allclose(out, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    st._combine(Z, c, Z[0])  # into its own first row
    assert np.allclose(Z[0], ref, rtol=0, atol=1e-12 * np.abs(ref).max())


def test_krylov_paths_agree(monkeypatch):
    """The one-pass basis (every step after the first), the local basis (when the one-pass basis is
    rejected) and full Gram-Schmidt Arnoldi propagate to the same states."""
    model = Model(N=8, **ALL_RATES)
    layout = ops.Layout(8)
    A = PackedGenerator(model, layout)
    x0 = np.zeros(layout.n)
    x0[0] = 1.0  # |j = 4, m = 4><..| (packed: first real of block j = N/2)
    times = np.linspace(0, 1.0, 6)

    def run(local=True):
        rec = []
        stats = st.krylov_propagate(A, x0, times, rtol=1e-11, m=12, local=local,
                                    on_output=lambda i, t, x: rec.append(x.copy()))
        return np.array(rec), stats

    ref, s_ref = run(local=False)
    assert s_ref["local_steps"] == 0
    out, s = run()
    assert s["steps"] > 5 and s["shifted_steps"] == s["steps"] - 1 and s["local_steps"] == s["steps"]
    assert np.abs(out - ref).max() < 1e-9
    monkeypatch.setattr(st, "_shifted_basis", lambda *a, **k: None)
    out, s = run()
    assert s["shifted_steps"] == 0 and s["local_steps"] == s["steps"]
    assert np.abs(out - ref).max() < 1e-9
