"""Schemes as formulas: ``m1 = (a11 + a22) * (b11 + b22)`` … ``c11 = m1 + m4 - m5 + m7``.

Both directions: :func:`scheme_formulas` writes them, :func:`parse_linear_form` reads one
linear form such as ``a11 - 2*a22 + 1/2*a12`` (no ``eval``: a small tokenizer).
"""
from __future__ import annotations

import re
from fractions import Fraction
from typing import Callable, Optional

import numpy as np

from .coefficients import format_coefficient
from .errors import SchemeError
from .formats import Format
from .limits import MAX_DIGITS
from .names import entry_name
from .scheme import Scheme


def linear_form_text(coeffs: np.ndarray, name: Callable[[int, int], str]) -> str:
    """Text of Σ coeffs[i, j]·x_ij, e.g. ``a11 - a21 + 2*a22`` (``0`` when empty)."""
    parts = []
    for (i, j), c in np.ndenumerate(coeffs):
        if c == 0:
            continue
        mag = abs(c)
        term = name(i, j) if mag == 1 else f"{format_coefficient(mag)}*{name(i, j)}"
        parts.append(("-" if c < 0 else "+", term))
    if not parts:
        return "0"
    text = ("-" if parts[0][0] == "-" else "") + parts[0][1]
    for sign, term in parts[1:]:
        text += f" {sign} {term}"
    return text


def _wrap(text: str) -> str:
    return f"({text})" if (" " in text or text.startswith("-")) else text


def product_lines(scheme: Scheme) -> list[str]:
    """One line per product: ``m1 = (a11 + a22) * (b11 + b22)``."""
    fmt = scheme.format
    lines = []
    for k in range(scheme.rank):
        left = linear_form_text(scheme.U[k], lambda i, j: entry_name("a", i, j, fmt))
        right = linear_form_text(scheme.V[k], lambda i, j: entry_name("b", i, j, fmt))
        lines.append(f"m{k + 1} = {_wrap(left)} * {_wrap(right)}")
    return lines


def output_lines(scheme: Scheme) -> list[str]:
    """One line per entry of C: ``c11 = m1 + m4 - m5 + m7``."""
    fmt = scheme.format
    n, _, p = fmt.dims
    lines = []
    for i in range(n):
        for l in range(p):
            text = linear_form_text(scheme.W[:, i, l].reshape(-1, 1), lambda k, _j: f"m{k + 1}")
            lines.append(f"{entry_name('c', i, l, fmt)} = {text}")
    return lines


def header_line(scheme: Scheme) -> str:
    """``2x2x2 rank 7 (naive 8), ring ZT: ternary coefficients {-1, 0, 1}, 18 additions``."""

    name = scheme.name
    prefix = f"{name}: " if name else ""
    return (
        f"{prefix}{scheme.format} rank {scheme.rank} (naive {scheme.format.naive_rank}), "
        f"ring {scheme.ring}: {scheme.ring.description}, {scheme.additions} additions"
    )


def scheme_formulas(scheme: Scheme) -> list[str]:
    """Header, product lines and output lines."""
    return [header_line(scheme), *product_lines(scheme), *output_lines(scheme)]


_TERM_RE = re.compile(
    r"\s*([+-])?\s*(?:(\d+)(?:\s*/\s*(\d+))?\s*\*?\s*)?([a-zA-Z])(\d+)(?:_(\d+))?(?:\s*/\s*(\d+))?\s*"
)


def _cut(text: str, width: int = 60) -> str:
    """``repr`` of a text cut to one short line for an error message."""
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def linear_form_terms(text: str) -> list[tuple[str, int, int, Fraction]]:
    """Tokenize a linear form such as ``a11 - 2*a22 + 1/2*a12`` into (letter, i, j, coefficient) terms.

    Indices are 1-based in the text and 0-based in the result: two digits (``a12``) or
    ``a1_12`` for larger matrices; a coefficient may lead (``2*a11``, ``2 a11``, ``1/2*a11``) or a
    divisor trail (``a11/3``). Used by :func:`parse_linear_form` and the ``.exp`` importer.

    Raises
    ------
    SchemeError
        On any text that is not such a linear form (also a zero denominator).
    """
    terms: list[tuple[str, int, int, Fraction]] = []
    pos = 0
    while pos < len(text):
        match = _TERM_RE.match(text, pos)
        if not match or match.end() == pos:
            raise SchemeError(f"cannot read linear form {_cut(text)} near {text[pos:pos + 12]!r}")
        sign, num, den, let, idx, idx2, trail = match.groups()
        if not sign and terms:
            raise SchemeError(f"missing + or - in {_cut(text)} near {text[pos:pos + 12]!r}")
        if max(len(num or ""), len(den or ""), len(trail or "")) > MAX_DIGITS:
            raise SchemeError(f"a coefficient in {_cut(text)} exceeds the limit of {MAX_DIGITS} digits")
        if max(len(idx), len(idx2 or "")) > 4 + (idx2 is None):  # dimensions are at most 1000
            raise SchemeError(f"index {let}{idx[:12]} exceeds the dimension limit")
        if (den is not None and int(den) == 0) or (trail is not None and int(trail) == 0):
            raise SchemeError(f"zero denominator in {_cut(text)}")
        if idx2 is not None:
            i, j = int(idx) - 1, int(idx2) - 1
        elif len(idx) != 2:
            raise SchemeError(f"index {let}{idx} is ambiguous: write {let}i_j for dimensions above 9")
        else:
            i, j = int(idx[0]) - 1, int(idx[1]) - 1
        if i < 0 or j < 0:  # a00 would wrap around to the last row in numpy
            raise SchemeError(f"index {let}{idx}{'_' + idx2 if idx2 else ''} has a 0: indices are 1-based")
        coef = Fraction(int(num or 1), int(den or 1)) / int(trail or 1)
        terms.append((let, i, j, -coef if sign == "-" else coef))
        pos = match.end()
    return terms


def parse_linear_form(text: str, letter: str, fmt: Format, rows: int, cols: int) -> np.ndarray:
    """Parse ``a11 - 2*a22 + 1/2*a12`` (1-based indices) into a (rows, cols) exact array.

    The syntax is that of :func:`linear_form_terms`; a surrounding pair of parentheses is allowed.

    Raises
    ------
    SchemeError
        On any text that is not such a linear form in ``letter`` entries of a rows×cols matrix.
    """
    out = np.zeros((rows, cols), dtype=object)
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    for let, i, j, coef in linear_form_terms(text):
        if let != letter:
            raise SchemeError(f"unexpected variable {let}{i + 1}{j + 1} in a linear form of {letter!r} entries: {text!r}")
        if not (0 <= i < rows and 0 <= j < cols):
            raise SchemeError(f"{let}{i + 1}{j + 1} is outside a {rows}x{cols} matrix (format {fmt})")
        value = Fraction(out[i, j]) + coef
        out[i, j] = int(value) if value.denominator == 1 else value
    return out


def scheme_from_formulas(products: list[tuple[str, str]], outputs: dict[str, str], fmt: "Format | str", *, name: Optional[str] = None) -> Scheme:
    """Build a scheme from product forms [(A-side text, B-side text)] and ``{"c11": "m1 + m4"}``."""
    fmt = Format.parse(fmt)
    n, m, p = fmt.dims
    r = len(products)
    U = np.stack([parse_linear_form(a, "a", fmt, n, m) for a, _ in products]) if r else np.zeros((0, n, m), dtype=object)
    V = np.stack([parse_linear_form(b, "b", fmt, m, p) for _, b in products]) if r else np.zeros((0, m, p), dtype=object)
    W = np.zeros((r, n, p), dtype=object)
    for cname, text in outputs.items():
        i, l = int(cname[1]) - 1, int(cname[2]) - 1
        W[:, i, l] = _parse_m_form(text, r)
    return Scheme.from_arrays(U, V, W, fmt, meta={"name": name} if name else None)


def _parse_m_form(text: str, rank: int) -> np.ndarray:
    out = np.zeros(rank, dtype=object)
    for sign, num, k in re.findall(r"([+-]?)\s*(?:(\d+)\s*\*\s*)?m(\d+)", text):
        out[int(k) - 1] += (-1 if sign == "-" else 1) * int(num or 1)
    return out
