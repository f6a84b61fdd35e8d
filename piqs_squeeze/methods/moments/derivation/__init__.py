"""Reproducible derivation of the mean-field and second- and third-order cumulant equations.

:mod:`.pauli` is a small exact Pauli algebra on labelled sites that applies the adjoint
Lindbladian of every rate of the :class:`~piqs_squeeze.model.Model` and the commutator with every
term of a quadratic collective Hamiltonian to one-, two- and three-particle Pauli products;
:mod:`.equations` turns the result into the coefficient tensors integrated by
:mod:`piqs_squeeze.methods.moments.cumulant` and :mod:`piqs_squeeze.methods.moments.meanfield`.  ``python -m
piqs_squeeze.methods.moments.derivation [3]`` prints the derived equations (of order 2 or 3).
:mod:`.boson` extends the algebra with a cavity mode a (normal-ordered boson monomials times Pauli
products) for Models with ``cavity=`` (:mod:`piqs_squeeze.methods.moments.cavity`).
"""
from .equations import (HAMILTONIAN_TERMS, MOMENT_LABELS, MOMENT_LABELS_3, ORDERS, RATES, STATE_LABELS, STATE_LABELS_3,
                        coefficient_tensors, describe, hamiltonian_tensors, moment_labels, state_labels)

__all__ = ["coefficient_tensors", "hamiltonian_tensors", "describe", "RATES", "HAMILTONIAN_TERMS", "STATE_LABELS",
           "MOMENT_LABELS", "STATE_LABELS_3", "MOMENT_LABELS_3", "ORDERS", "state_labels", "moment_labels"]
