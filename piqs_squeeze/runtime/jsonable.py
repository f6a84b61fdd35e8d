"""JSON form of options, extras and parameters, shared by results, options and sweeps (a module
of its own, so that ``options`` and ``result`` both use it without importing each other)."""
from __future__ import annotations

import numpy as np

__all__ = ["jsonable"]


def jsonable(obj):
    """Turn options, extras and parameters (numpy scalars and arrays, tuples, Models, states) into JSON types."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return repr(obj)
