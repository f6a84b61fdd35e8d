"""Moment equations with a cavity mode: the Pauli algebra of :mod:`.pauli` times a boson a.

An operator is a dict ``{(p, q): Op}``: the normal-ordered boson monomial (a^+)^p a^q times a
spin operator :class:`~.pauli.Op` on the slots (a, b, c, g). Boson and spin operators commute;
normal-ordered products follow

    (a^+)^p a^q (a^+)^r a^s = sum_k C(q, k) C(r, k) k! (a^+)^(p+r-k) a^(q+s-k).

For a target O = B P (B a boson monomial, P a Pauli product on the observed slots S) the adjoint
generator of the cavity Model is

    L^+(O) = B L_spin^+(P)                                  (every rate and H term, :mod:`.equations`)
             + i detuning [a^+ a, B] P + i drive [a + a^+, B] P
             + kappa (a^+ [B, a] + [a^+, B] a) / 2 P
             + i g ([a^+, B] J- P + B a^+ [J-, P] + [a, B] J+ P + B a [J+, P]),

from [X Y, B P] = [X, B] Y P + B X [Y, P] for a boson X and a spin Y. The expectation value of
every resulting term, with exchange symmetry of the atoms, is a *moment label*
``(p, q, "xyz...")``: <(a^+)^p a^q sigma_x^i sigma_y^j ...> over distinct particles.
:func:`cavity_equations` returns, for each target label, the list of (channel, label, A, B)
with d<target>/dt = sum channel_value (A + N B) <label>.
"""
from __future__ import annotations

from functools import lru_cache
from math import comb, factorial

import numpy as np

from .equations import _AX, _PAIRS, adjoint_generator, hamiltonian_generator
from .pauli import Op, coll_left, comm_coll

__all__ = ["BOp", "boson", "cavity_equations", "CAVITY_CHANNELS", "variable_labels"]

#: channels of the cavity terms (coefficients of the Cavity), after the spin ones
CAVITY_CHANNELS = ("detuning", "drive", "kappa", "g")


class BOp(dict):
    """{(p, q): Op}: sum of (a^+)^p a^q times spin operators (module docstring)."""

    def __add__(self, other):
        out = BOp({k: Op(v) for k, v in self.items()})
        for k, v in other.items():
            out[k] = out[k] + v if k in out else Op(v)
        return out

    def scale(self, c):
        return BOp({k: v.scale(c) for k, v in self.items()})

    def __matmul__(self, other):
        out = BOp()
        for (p, q), A in self.items():
            for (r, s), B in other.items():
                AB = A @ B
                if not AB:
                    continue
                for k in range(min(q, r) + 1):
                    c = comb(q, k) * comb(r, k) * factorial(k)
                    key = (p + r - k, q + s - k)
                    term = AB.scale(float(c))
                    out[key] = out[key] + term if key in out else term
        return out

    def spin(self, f):
        """Apply f to every spin operator (a map of the spin algebra that commutes with bosons)."""
        out = BOp()
        for k, v in self.items():
            w = f(v)
            if w:
                out[k] = w
        return out

    def clean(self):
        out = BOp()
        for k, v in self.items():
            v = v.clean()
            if v:
                out[k] = v
        return out


def _one():
    return Op({(0, 0, 0, 0): np.array([1.0, 0, 0], complex)})


def boson(p, q, spin: Op | None = None) -> BOp:
    """(a^+)^p a^q times ``spin`` (identity when None)."""
    return BOp({(p, q): _one() if spin is None else spin})


def _comm(A: BOp, B: BOp) -> BOp:
    return (A @ B + (B @ A).scale(-1.0)).clean()


def _target(label):
    """(BOp, support S) of a label (p, q, pauli string over distinct slots)."""
    from .pauli import site

    p, q, spins = label
    P = _one()
    for s, ax in enumerate(spins):
        P = P @ site(ax, s)
    return boson(p, q, P), tuple(range(len(spins)))


def _row(op: BOp, rows: dict, channel: str):
    for (p, q), spin in op.items():
        for key, poly in spin.items():
            if np.max(np.abs(poly)) < 1e-14:
                continue
            if np.max(np.abs(poly[2:])) > 1e-13:
                raise AssertionError("derived coefficients must be at most linear in N")
            labels = "".join(sorted(_AX[k - 1] for k in key if k))
            lab = (p, q, labels)
            rows[(channel, lab)] = rows.get((channel, lab), 0) + poly[:2]


def adjoint(label, spin_channels, hamiltonian_keys=()):
    """{(channel, moment label): (A, B) complex} of d<label>/dt (module docstring)."""
    O, S = _target(label)
    (p, q), P = next(iter(O.items()))
    rows = {}
    a, ad = boson(0, 1), boson(1, 0)
    Bm = boson(p, q)
    # spin part: B times the spin adjoint generator of P (P = 1 gives zero)
    if S:
        gen = adjoint_generator(P, S)
        for ch in spin_channels:
            _row(BOp({(p, q): gen[ch].clean()}), rows, ch)
        for key in hamiltonian_keys:
            _row(BOp({(p, q): hamiltonian_generator(P, key, S).clean()}), rows, "h[" + key + "]")
    n_op = ad @ a
    Pb = BOp({(0, 0): P})
    _row((_comm(n_op, Bm) @ Pb).scale(1j).clean(), rows, "detuning")
    _row((_comm(a + ad, Bm) @ Pb).scale(1j).clean(), rows, "drive")
    _row(((ad @ _comm(Bm, a)) + (_comm(ad, Bm) @ a)).scale(0.5).__matmul__(Pb).clean(), rows, "kappa")
    # g: i ([a^+, B] J- P + B a^+ [J-, P] + [a, B] J+ P + B a [J+, P]); [J, P] = -comm_coll(P, J, S)
    gterm = BOp()
    for bos, name in ((ad, "-"), (a, "+")):
        left = _comm(bos, Bm)
        if left:
            gterm = gterm + (left @ BOp({(0, 0): coll_left(name, P, S)}))
        if S:
            cP = comm_coll(P, name, S).scale(-1.0)
            if cP:
                gterm = gterm + ((Bm @ bos) @ BOp({(0, 0): cP}))
    _row(gterm.scale(1j).clean(), rows, "g")
    return rows


def variable_labels(method: str):
    """The variables' labels: ``"cumulant"`` s, C, <a>, <a^+ a>, <a a>, <a sigma_p>;
    ``"meanfield"`` s and <a>."""
    spin1 = [(0, 0, ax) for ax in _AX]
    if method == "meanfield":
        return tuple(spin1 + [(0, 1, "")])
    return tuple(spin1 + [(0, 0, pq) for pq in _PAIRS] + [(0, 1, ""), (1, 1, ""), (0, 2, "")]
                 + [(0, 1, ax) for ax in _AX])


@lru_cache(maxsize=4)
def cavity_equations(method: str, hamiltonian_keys: tuple = ()):
    """(variable labels, channels, moment labels, K) with K[c, i, k, 0/1] complex:
    d y_i/dt = sum_c value_c sum_k (K[c, i, k, 0] + N K[c, i, k, 1]) m_k (module docstring)."""
    from .equations import RATES

    labels = variable_labels(method)
    channels = tuple(RATES) + tuple("h[" + k + "]" for k in hamiltonian_keys) + CAVITY_CHANNELS
    all_rows = [adjoint(lab, RATES, hamiltonian_keys) for lab in labels]
    moments = sorted({lab for rows in all_rows for (_, lab) in rows}, key=lambda l: (len(l[2]) + l[0] + l[1], l))
    index = {m: i for i, m in enumerate(moments)}
    cindex = {c: i for i, c in enumerate(channels)}
    K = np.zeros((len(channels), len(labels), len(moments), 2), complex)
    for i, rows in enumerate(all_rows):
        for (ch, lab), poly in rows.items():
            K[cindex[ch], i, index[lab]] += poly
    K.setflags(write=False)
    return labels, channels, tuple(moments), K


def describe(method: str = "cumulant") -> str:
    """The derived cavity equations, one line per variable and channel."""
    labels, channels, moments, K = cavity_equations(method)
    name = lambda l: f"<{'a+^%d ' % l[0] if l[0] else ''}{'a^%d ' % l[1] if l[1] else ''}{l[2] or ''}>"  # noqa: E731
    out = []
    for i, lab in enumerate(labels):
        out.append(f"d{name(lab)}/dt =")
        for c, ch in enumerate(channels):
            terms = [f"({K[c, i, k, 0]:.4g} + {K[c, i, k, 1]:.4g} N) {name(m)}" for k, m in enumerate(moments)
                     if np.any(K[c, i, k] != 0)]
            if terms:
                out.append(f"    + {ch} * [{' + '.join(terms)}]")
    return "\n".join(out)
