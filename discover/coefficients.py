"""Exact coefficients: Python ints, or Fractions where a value is not integral.

Arrays of coefficients are numpy object arrays holding ``int`` (never numpy ints) or
``fractions.Fraction`` with a denominator other than 1.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any, Optional, Union

import numpy as np

from .errors import CoefficientError
from .limits import MAX_BITS, MAX_DIGITS

Coefficient = Union[int, Fraction]

_INT_LIMIT = 2**MAX_BITS
_RATIONAL_RE = re.compile(r"^\s*([+-]?\d+)\s*(?:/\s*(\d+)\s*)?$")


def to_coefficient(value: Any) -> Coefficient:
    """Convert one value to an exact coefficient.

    Accepts ints, Fractions, integral floats, and strings ``"p"`` or ``"p/q"``.
    Raises :class:`CoefficientError` for anything else (NaN, 0.5 as a float, "abc", bools).
    """
    if isinstance(value, (bool, np.bool_)):
        raise CoefficientError(f"{value!r} is a boolean, not a number")
    if isinstance(value, (int, np.integer)):
        value = int(value)
        if value.bit_length() > MAX_BITS:
            raise CoefficientError(f"an integer of {value.bit_length()} bits exceeds the limit of {MAX_DIGITS} digits")
        return value
    if isinstance(value, Fraction):
        if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_BITS:
            raise CoefficientError(f"a fraction with more than {MAX_DIGITS} digits exceeds the limit")
        return int(value) if value.denominator == 1 else value
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise CoefficientError(f"{value!r} is not a finite number")
        if float(value).is_integer():
            return int(value)  # at most 309 digits: within the limit
        raise CoefficientError(f"{value!r} is a float that is not an exact integer (write rationals as \"p/q\")")
    if isinstance(value, str):
        if len(value) > 2 * MAX_DIGITS + 8:  # before the regex and int(): both are costly on huge strings
            raise CoefficientError(f"a string of {len(value)} characters exceeds the limit of {MAX_DIGITS} digits per number")
        match = _RATIONAL_RE.match(value)
        if not match:
            raise CoefficientError(f"{_short(value)} is not an integer or a rational \"p/q\"")
        if max(len(match.group(1)), len(match.group(2) or "")) > MAX_DIGITS + 1:
            raise CoefficientError(f"{_short(value)}: a number exceeds the limit of {MAX_DIGITS} digits")
        num, den = int(match.group(1)), int(match.group(2) or 1)
        if den == 0:
            raise CoefficientError(f"{_short(value)} has a zero denominator")
        return to_coefficient(Fraction(num, den))
    raise CoefficientError(f"{_short(value)} (a {type(value).__name__}) is not a number")


def _short(value: Any) -> str:
    """``repr`` cut to one short line (hostile values can be huge)."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's digit limit for str()
        return f"<{type(value).__name__} too large to print>"
    text = text.replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def int_bounds(values: list) -> Optional[tuple[int, int]]:
    """(min, max) when every value is a plain Python ``int`` (C-speed scans), else None."""
    if not values:
        return (0, 0)
    if set(map(type, values)) != {int}:
        return None
    return min(values), max(values)


def as_int64(arr: np.ndarray) -> Optional[np.ndarray]:
    """``arr`` as an int64 array when it holds only ints of magnitude below 2**62, else None."""
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype != object:
        return None
    values = arr.ravel().tolist()
    bounds = int_bounds(values)
    if bounds is None or bounds[0] <= -(2**62) or bounds[1] >= 2**62:
        return None
    return np.array(values, dtype=np.int64).reshape(arr.shape)


def exact_array(values: Any) -> np.ndarray:
    """An object array of exact coefficients with the nesting of ``values``."""
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.dtype == object:
        values = arr.ravel().tolist()
        bounds = int_bounds(values)
        if bounds is not None and -_INT_LIMIT < bounds[0] and bounds[1] < _INT_LIMIT:
            flat = values  # already exact Python ints of allowed size: skip the per-entry checks
        else:
            flat = [to_coefficient(v) for v in values]
    elif arr.dtype.kind in "iub":
        if arr.dtype.kind == "b":
            raise CoefficientError("boolean arrays are not coefficients")
        flat = [int(v) for v in arr.ravel()]
    elif arr.dtype.kind == "f":
        values = arr.ravel()
        if np.all(np.isfinite(values)) and np.all(values == np.round(values)) and np.all(np.abs(values) < 2**53):
            flat = values.astype(np.int64).tolist()  # vectorised: every entry is an exact integer
        else:
            flat = [to_coefficient(float(v)) for v in values]
    else:
        raise CoefficientError(f"arrays of dtype {arr.dtype} are not coefficients")
    out = np.empty(arr.shape, dtype=object)
    out.ravel()[:] = flat if flat else []
    return out


def coefficient_to_json(value: Coefficient) -> Union[int, str]:
    """JSON form: an int, or the string ``"p/q"``."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    return int(value)


def common_denominator(arr: np.ndarray) -> int:
    """Least common multiple of the denominators in an exact array (1 for integers)."""
    values = arr.ravel().tolist()
    if Fraction not in set(map(type, values)):
        return 1
    den = 1
    for v in values:
        if isinstance(v, Fraction):
            den = math.lcm(den, v.denominator)
    return den


def scaled_integers(arr: np.ndarray) -> tuple[np.ndarray, int]:
    """(numerators as an object array of ints, d) with arr == numerators / d."""
    den = common_denominator(arr)
    if den == 1:
        return arr, 1
    out = np.empty(arr.shape, dtype=object)
    out.ravel()[:] = [int(v * den) for v in arr.ravel()]
    return out, den


def format_coefficient(value: Coefficient) -> str:
    """Human form: ``-1``, ``3``, ``1/2``."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    return str(int(value))
