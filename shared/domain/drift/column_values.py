"""A chunk's column values as the window counts them: a flat array, floats with NaN for empties, quoted bad values."""
from __future__ import annotations

import math

MAX_EXAMPLES = 3            # bad values quoted per feature
_VALUE_CHARS = 40


def as_array(values):
    """A one-dimensional numpy array of `values` (an array, a pandas/pyarrow column, a list or one value)."""
    import numpy as np

    if isinstance(values, np.ndarray):
        return values.reshape(-1) if values.ndim != 1 else values
    if hasattr(values, "to_numpy"):  # pandas / pyarrow objects, without importing them
        try:
            return np.asarray(values.to_numpy())
        except Exception:  # noqa: BLE001 - fall through to a plain list
            pass
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        values = [values]
    try:
        array = np.asarray(values)
    except (ValueError, TypeError):
        array = np.empty(len(values), dtype=object)
        array[:] = list(values)
    if array.ndim != 1:
        flat = np.empty(len(values), dtype=object)
        flat[:] = list(values)
        array = flat
    return array


def to_float(array):
    """(float64 values with NaN for empty or non-numeric entries, number of type errors, examples)."""
    import numpy as np

    kind = array.dtype.kind
    if kind == "f":
        return array.astype(np.float64, copy=False), 0, []
    if kind in "iub":
        return array.astype(np.float64), 0, []
    if kind in "OUSTV":
        try:
            return array.astype(np.float64), 0, []  # numbers as objects or numeric strings
        except (ValueError, TypeError, OverflowError):
            pass
    values = np.empty(len(array), dtype=np.float64)
    errors = 0
    examples: list[str] = []
    for i, value in enumerate(array.tolist()):
        if is_null(value):
            values[i] = math.nan
            continue
        if isinstance(value, (bytes, bytearray)):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            text = value.strip()
            if not text:
                values[i] = math.nan
                continue
        else:
            text = value
        try:
            number = float(text)
        except (TypeError, ValueError, OverflowError):
            number = None
        if number is None or isinstance(value, (list, dict, tuple, set)):
            values[i] = math.nan
            errors += 1
            if len(examples) < MAX_EXAMPLES:
                examples.append(quote(value))
        else:
            values[i] = number
    return values, errors, examples


def is_null(value) -> bool:
    """None, NaN, or pandas' NA / NaT (recognised without importing pandas)."""
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def quote(value) -> str:
    """A bad value as quoted in a problem sentence (repr, at most 40 characters)."""
    text = str(value)
    if len(text) > _VALUE_CHARS:
        text = text[: _VALUE_CHARS - 1] + "…"
    return repr(text)
