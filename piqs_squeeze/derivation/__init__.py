"""Reproducible derivation of the mean-field and second-order cumulant equations.

:mod:`.pauli` is a small exact Pauli algebra on labelled sites that applies the adjoint
Lindbladian of every rate of the :class:`~piqs_squeeze.model.Model` to one- and two-particle
Pauli products; :mod:`.equations` turns the result into the coefficient tensors integrated by
:mod:`piqs_squeeze.cumulant` and :mod:`piqs_squeeze.meanfield`.  ``python -m
piqs_squeeze.derivation`` prints the derived equations.
"""
from .equations import MOMENT_LABELS, RATES, STATE_LABELS, coefficient_tensors, describe

__all__ = ["coefficient_tensors", "describe", "RATES", "STATE_LABELS", "MOMENT_LABELS"]
