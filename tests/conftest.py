import os

# BLAS threads fighting process pools slow everything down on the 2-core CI machine.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import matplotlib

matplotlib.use("Agg")
