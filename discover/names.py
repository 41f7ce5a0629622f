"""Names of matrix entries in formulas: ``a12`` (1-based), or ``a1_12`` once a dimension exceeds 9."""
from __future__ import annotations

from .formats import Format


def entry_name(letter: str, row: int, col: int, fmt: Format) -> str:
    """Name of entry (row, col) (0-based) of matrix ``letter`` in formulas of ``fmt``."""
    if max(fmt.dims) <= 9:
        return f"{letter}{row + 1}{col + 1}"
    return f"{letter}{row + 1}_{col + 1}"
