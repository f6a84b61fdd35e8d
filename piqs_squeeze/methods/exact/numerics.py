"""Compiler settings shared by the exact solver's numba kernels (:mod:`.kernels`, :mod:`.steppers`)."""

__all__ = ["FASTMATH"]

#: LLVM flags of the threaded kernels: reassociation (vectorised sums) and FMA contraction only;
#: with numba's full ``fastmath=True`` a freshly compiled kernel and its cached copy differed in
#: the last bit, which broke bit-identical sweeps across processes
FASTMATH = {"reassoc", "contract"}
