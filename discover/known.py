"""Classical schemes written out by hand, used as examples and test fixtures."""
from __future__ import annotations

from .formulas import scheme_from_formulas
from .scheme import Scheme


def strassen() -> Scheme:
    """Strassen's 1969 scheme for 2x2x2 with 7 multiplications (18 additions as written)."""
    return scheme_from_formulas(
        [
            ("a11 + a22", "b11 + b22"),
            ("a21 + a22", "b11"),
            ("a11", "b12 - b22"),
            ("a22", "b21 - b11"),
            ("a11 + a12", "b22"),
            ("a21 - a11", "b11 + b12"),
            ("a12 - a22", "b21 + b22"),
        ],
        {"c11": "m1 + m4 - m5 + m7", "c12": "m3 + m5", "c21": "m2 + m4", "c22": "m1 - m2 + m3 + m6"},
        "2x2x2",
        name="Strassen 1969",
    )


def winograd() -> Scheme:
    """Winograd's variant of Strassen: 7 multiplications, 24 additions written plainly, 15 shared."""
    return scheme_from_formulas(
        [
            ("a11", "b11"),
            ("a12", "b21"),
            ("a11 + a12 - a21 - a22", "b22"),
            ("a22", "b11 - b12 - b21 + b22"),
            ("a21 + a22", "b12 - b11"),
            ("a21 + a22 - a11", "b11 - b12 + b22"),
            ("a11 - a21", "b22 - b12"),
        ],
        {
            "c11": "m1 + m2",
            "c12": "m1 + m3 + m5 + m6",
            "c21": "m1 - m4 + m6 + m7",
            "c22": "m1 + m5 + m6 + m7",
        },
        "2x2x2",
        name="Winograd variant of Strassen",
    )


KNOWN = {"strassen": strassen, "winograd": winograd}
