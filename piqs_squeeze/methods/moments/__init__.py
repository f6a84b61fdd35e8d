"""Moment methods: cumulant (:mod:`.cumulant`) and mean-field (:mod:`.meanfield`) equations.

Both integrate equations derived in :mod:`.derivation` with the batched integrator of
:mod:`.integrator`, driven by :func:`.driver.evolve_batch` (and a Protocol segment by segment by
:func:`.driver.evolve_protocol`); their options are in :mod:`.options`.
"""
